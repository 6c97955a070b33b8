"""A simulated linkage attack: link an intruder's auxiliary table to an extract and count the
children actually re-identified, against what the look-alike counts predict.

Two attacks on the same linking fields:

* **exact**: an auxiliary record whose values match exactly one extract record is claimed as
  that record. On error-free auxiliary data this is the equivalence-class prediction: the
  claims are the sample uniques (``fk = 1``) on the linked fields.
* **probabilistic**: Fellegi-Sunter record linkage with Splink (DuckDB backend): u
  probabilities by random sampling, m probabilities by expectation maximisation over blocked
  pairs, and each auxiliary record claims its best-scoring extract candidate when the match
  probability reaches a threshold.

The synthetic truth (the same pupil id on both sides) says which claims are correct. Splink is
an optional dependency (``pip install 'riskcalc[linkage]'``), imported only when the
probabilistic attack runs.
"""

from __future__ import annotations

import copy
import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _format as fmt
from ._compat import numeric_view
from ._render import Displayed
from ._validation import (
    check_bool,
    check_column_names,
    check_field_groups,
    check_field_kinds,
    check_frame,
    check_int,
    check_probabilities,
)
from .exceptions import InvalidParameterError, RiskCalcError

__all__ = [
    "LinkageAttackResult",
    "linkage_attack",
    "MissingDependencyError",
    "DEFAULT_THRESHOLDS",
    "COMPARISON_KINDS",
]

#: Match-probability thresholds reported by default.
DEFAULT_THRESHOLDS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
#: How a linking field is compared in the probabilistic attack.
COMPARISON_KINDS: tuple[str, ...] = ("exact", "name", "date", "postcode")
_MAX_RULES = 3


class MissingDependencyError(RiskCalcError, ImportError):
    """An optional dependency (an extra of riskcalc) is not installed."""


# ------------------------------------------------------------------------------ the result
@dataclass(frozen=True, slots=True, eq=False)
class LinkageAttackResult(Displayed):
    """Outcome of :func:`linkage_attack`.

    Attributes
    ----------
    fields : tuple of str
        The linking fields.
    thresholds : tuple of float
        Match-probability thresholds of the probabilistic attack.
    reference_threshold : float
        The threshold used for the headline, the prediction table and attribute disclosure.
    n_extract, n_auxiliary : int
        Records in the extract and in the auxiliary table.
    n_targets : int
        Auxiliary records whose pupil is in the extract (the denominator of recall).
    n_sample_unique, n_fk_below_5 : int
        Targets whose true extract record is a sample unique (``fk = 1``) / in a class of
        fewer than five on the linking fields.
    expected_prosecutor : float
        Sum over targets of ``1 / fk``: the re-identifications a prosecutor who picks at random
        among look-alikes expects.
    exact_claimed, exact_correct : int
        Claims and correct claims of the exact attack.
    probabilistic : bool
        Whether the probabilistic attack ran.
    claimed, correct : tuple of int
        Per threshold: claims and correct claims of the probabilistic attack (empty if it did
        not run).
    blocking : tuple of tuple of str
        Blocking rules of the probabilistic attack (fields equal on both sides).
    calibration : pandas.DataFrame
        Predicted probability of a correct re-identification against the observed rate, in bins.
    attributes : pandas.DataFrame
        What the claims reveal about the sensitive columns.
    links : pandas.DataFrame
        Per auxiliary record (row order): ``exact_row`` (the extract row the exact attack
        claims, -1 if none), ``best_row`` and ``best_probability`` (the best probabilistic
        candidate, -1 and 0 if none) and ``true_row`` (-1 if the pupil is not in the extract).
        Row positions, for checking and further analysis in memory; never written to outputs.
    seed : int

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> ext = pd.DataFrame({"id": [1, 2, 3, 4], "sex": list("FFMM"), "yob": [10, 11, 10, 10]})
    >>> res = rc.linkage_attack(ext, ext.copy(), ["sex", "yob"], extract_id="id", auxiliary_id="id",
    ...                         probabilistic=False)
    >>> res.exact_precision, res.exact_recall
    (1.0, 0.5)
    """

    fields: tuple[str, ...]
    thresholds: tuple[float, ...]
    reference_threshold: float
    n_extract: int
    n_auxiliary: int
    n_targets: int
    n_sample_unique: int
    n_fk_below_5: int
    expected_prosecutor: float
    exact_claimed: int
    exact_correct: int
    probabilistic: bool
    claimed: tuple[int, ...]
    correct: tuple[int, ...]
    blocking: tuple[tuple[str, ...], ...]
    calibration: pd.DataFrame
    attributes: pd.DataFrame
    links: pd.DataFrame
    seed: int

    # -- headline figures
    @property
    def exact_precision(self) -> float:
        """``exact_correct / exact_claimed`` (nan without claims)."""
        return _ratio(self.exact_correct, self.exact_claimed)

    @property
    def exact_recall(self) -> float:
        """``exact_correct / n_targets``."""
        return _ratio(self.exact_correct, self.n_targets)

    def _at_reference(self) -> tuple[int, int]:
        if not self.probabilistic:
            return self.exact_claimed, self.exact_correct
        i = self.thresholds.index(self.reference_threshold)
        return self.claimed[i], self.correct[i]

    @property
    def reidentified(self) -> int:
        """Correct claims at the reference threshold (exact attack if no probabilistic one)."""
        return self._at_reference()[1]

    def to_frame(self) -> pd.DataFrame:
        """One row per attack and threshold: ``attack, threshold, targets, claimed, correct,
        precision, recall``; the exact attack has no threshold (nan)."""
        attack = ["exact"] + ["probabilistic"] * len(self.claimed)
        threshold = [np.nan] + list(self.thresholds if self.probabilistic else ())
        claimed = [self.exact_claimed, *self.claimed]
        correct = [self.exact_correct, *self.correct]
        frame = pd.DataFrame(
            {
                "attack": attack,
                "threshold": np.asarray(threshold, dtype=float),
                "targets": np.full(len(attack), self.n_targets, dtype=np.int64),
                "claimed": np.asarray(claimed, dtype=np.int64),
                "correct": np.asarray(correct, dtype=np.int64),
            }
        )
        frame["precision"] = _ratios(frame["correct"], frame["claimed"])
        frame["recall"] = _ratios(frame["correct"], frame["targets"])
        return frame

    def prediction_frame(self) -> pd.DataFrame:
        """Prediction against outcome, one row per measure: the count of targets the measure
        calls at risk (or expects re-identified) and the share, next to the re-identified."""
        _claimed, correct = self._at_reference()
        rows = [
            ("sample_unique", self.n_sample_unique),
            ("fk_below_5", self.n_fk_below_5),
            ("prosecutor_expected", self.expected_prosecutor),
            ("exact_reidentified", self.exact_correct),
            (
                "probabilistic_reidentified" if self.probabilistic else "exact_reidentified_ref",
                correct,
            ),
        ]
        frame = pd.DataFrame(rows, columns=["measure", "count"])
        frame["count"] = frame["count"].astype(float)
        frame["share_of_targets"] = _ratios(frame["count"], np.full(len(frame), self.n_targets))
        frame.insert(0, "targets", self.n_targets)
        return frame

    def __repr__(self) -> str:
        claimed, correct = self._at_reference()
        name = f"probabilistic@{self.reference_threshold:g}" if self.probabilistic else "exact"
        return (
            f"LinkageAttackResult(targets={fmt.count(self.n_targets)}, "
            f"sample_unique={fmt.count_pct(self.n_sample_unique, self.n_targets)}, "
            f"exact_correct={fmt.count_pct(self.exact_correct, self.n_targets)} of "
            f"{fmt.count(self.exact_claimed)} claimed, {name}_correct="
            f"{fmt.count_pct(correct, self.n_targets)} of {fmt.count(claimed)} claimed, "
            f"fields={list(self.fields)})"
        )


def _ratio(a, b) -> float:
    return float(a) / float(b) if b else float("nan")


def _ratios(a, b) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    out = np.full(len(a), np.nan)
    np.divide(a, b, out=out, where=b > 0)
    return out


def _comparison_kinds(comparisons, fields, extract, func: str) -> dict[str, str]:
    """Each linking field's comparison: a date column's is ``"date"``, others ``"exact"``,
    unless ``comparisons`` says otherwise."""
    kinds = {}
    for f in fields:
        kinds[f] = "date" if pd.api.types.is_datetime64_any_dtype(extract[f].dtype) else "exact"
    kinds.update(check_field_kinds(comparisons, fields, COMPARISON_KINDS, "comparisons", func))
    return kinds


def _joint_codes(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Codes of two columns over their union of values; missing is -1."""
    a = a.reset_index(drop=True)
    b = b.reset_index(drop=True)
    if isinstance(a.dtype, pd.CategoricalDtype) and isinstance(b.dtype, pd.CategoricalDtype):
        if a.cat.categories.dtype != b.cat.categories.dtype:
            a = a.cat.rename_categories(a.cat.categories.astype(str))
            b = b.cat.rename_categories(b.cat.categories.astype(str))
        u = pd.api.types.union_categoricals([a.array, b.array], ignore_order=True)
        codes = np.asarray(u.codes, dtype=np.int64)
        size = len(u.categories)
    else:
        if isinstance(a.dtype, pd.CategoricalDtype):
            a = a.astype(a.cat.categories.dtype) if not a.isna().any() else a.astype(object)
        if isinstance(b.dtype, pd.CategoricalDtype):
            b = b.astype(b.cat.categories.dtype) if not b.isna().any() else b.astype(object)
        try:
            codes, uniques = pd.factorize(
                pd.concat([a, b], ignore_index=True), use_na_sentinel=True
            )
        except TypeError:
            both = pd.concat(
                [a.astype(str).where(a.notna()), b.astype(str).where(b.notna())], ignore_index=True
            )
            codes, uniques = pd.factorize(both, use_na_sentinel=True)
        codes = np.asarray(codes, dtype=np.int64)
        size = len(uniques)
    return codes[: len(a)], codes[len(a) :], size


def _combine(codes: list[np.ndarray], sizes: list[int]) -> tuple[np.ndarray, int]:
    """Mixed-radix key of several code columns (missing = its own code), kept dense."""
    n = len(codes[0])
    key = np.zeros(n, dtype=np.int64)
    radix = 1
    for c, size in zip(codes, sizes):
        c = np.where(c < 0, size, c)
        if radix * (size + 1) > 2**40:
            _, key = np.unique(key, return_inverse=True)
            key = key.astype(np.int64).ravel()
            radix = int(key.max(initial=0)) + 1
        key = key * (size + 1) + c
        radix *= size + 1
    _, key = np.unique(key, return_inverse=True)
    key = key.astype(np.int64).ravel()
    return key, int(key.max(initial=-1)) + 1


def _pair_count(ext_codes: list[np.ndarray], aux_codes: list[np.ndarray], sizes: list[int]) -> int:
    """Pairs with equal, non-missing values on every column: ``sum_k n_ext(k) n_aux(k)``."""
    n_e = len(ext_codes[0])
    both = [np.concatenate([e, a]) for e, a in zip(ext_codes, aux_codes)]
    ok = np.all([b >= 0 for b in both], axis=0)
    key, k = _combine(both, sizes)
    ce = np.bincount(key[:n_e][ok[:n_e]], minlength=k)
    ca = np.bincount(key[n_e:][ok[n_e:]], minlength=k)
    return int(np.dot(ce.astype(np.float64), ca.astype(np.float64)))


def _choose_blocking(
    fields, ext_codes, aux_codes, sizes, budget: int
) -> tuple[tuple[str, ...], ...]:
    """Blocking rules: single fields, then pairs, then triples, whose blocked pairs stay within
    ``budget``; the least restrictive first, none a superset of another, at most three."""
    cands = []
    idx = range(len(fields))
    for r in (1, 2, 3):
        for combo in itertools.combinations(idx, r):
            pairs = _pair_count(
                [ext_codes[i] for i in combo],
                [aux_codes[i] for i in combo],
                [sizes[i] for i in combo],
            )
            cands.append((pairs, combo))
    fitting = sorted(
        (c for c in cands if 0 < c[0] <= budget), key=lambda c: (-c[0], len(c[1]), c[1])
    )
    chosen: list[tuple[int, ...]] = []
    for _, combo in fitting:
        if any(set(p) <= set(combo) for p in chosen):
            continue
        chosen.append(combo)
        if len(chosen) == _MAX_RULES:
            break
    if not chosen:  # nothing fits: the most selective candidate with any pair at all
        positive = [c for c in cands if c[0] > 0]
        if not positive:
            return ()
        chosen = [min(positive, key=lambda c: (c[0], c[1]))[1]]
    return tuple(tuple(fields[i] for i in combo) for combo in chosen)


def _choose_em_rules(
    fields, ext_codes, aux_codes, sizes, n_aux: int
) -> tuple[tuple[str, ...], ...]:
    """Training rules for expectation maximisation, one per field to train.

    EM separates matches from non-matches well when matches are between about 1% and 50% of
    the blocked pairs and many fields vary within the blocks. The intruder does not know the
    matches but expects one per auxiliary record, so a rule's match share is estimated as
    ``n_aux / pairs``. For each field, the rule without it with an estimated share in
    [1%, 50%] and the fewest fields (then the most pairs) is chosen; failing that, the rule
    whose share is closest to 5%.
    """
    if len(fields) < 2:
        return ()
    cands = []
    for r in range(1, min(3, len(fields) - 1) + 1):
        for combo in itertools.combinations(range(len(fields)), r):
            pairs = _pair_count(
                [ext_codes[i] for i in combo],
                [aux_codes[i] for i in combo],
                [sizes[i] for i in combo],
            )
            if pairs > 0:
                cands.append((pairs, combo))
    rules: list[tuple[str, ...]] = []
    for j in range(len(fields)):
        pool = [c for c in cands if j not in c[1]]
        if not pool:
            continue
        good = [c for c in pool if 0.01 <= n_aux / c[0] <= 0.5]
        if good:
            best = min(good, key=lambda c: (len(c[1]), -c[0], c[1]))
        else:
            best = min(pool, key=lambda c: (abs(np.log(n_aux / c[0] / 0.05)), c[1]))
        rule = tuple(fields[i] for i in best[1])
        if rule not in rules:
            rules.append(rule)
    return tuple(rules)


# ------------------------------------------------------------------------------ Splink
def _import_splink():
    try:
        import splink  # noqa: F401
        import splink.comparison_library as cl
        from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    except ImportError as exc:
        raise MissingDependencyError(
            "linkage_attack with probabilistic=True needs Splink: pip install 'riskcalc[linkage]'."
        ) from exc
    return cl, DuckDBAPI, Linker, SettingsCreator, block_on


def _splink_frame(frame: pd.DataFrame, fields, kinds) -> pd.DataFrame:
    """The linking fields in types DuckDB compares as intended; missing values become NULL."""
    out = {"unique_id": np.arange(len(frame), dtype=np.int64)}
    for f in fields:
        s = frame[f].reset_index(drop=True)
        textual = (
            isinstance(s.dtype, pd.CategoricalDtype)
            or kinds[f] in ("name", "postcode")
            or pd.api.types.is_string_dtype(s.dtype)
            or s.dtype == object
        )
        if kinds[f] == "date":
            out[f] = pd.to_datetime(s).astype("datetime64[ns]")
        elif isinstance(s.dtype, pd.StringDtype):
            out[f] = s
        elif textual:
            out[f] = s.astype(object).where(s.notna(), None).astype("string[pyarrow]")
        elif pd.api.types.is_bool_dtype(s.dtype):
            out[f] = s.astype("boolean")
        elif pd.api.types.is_integer_dtype(numeric_view(s.dtype)):
            out[f] = s.astype("Int64")
        else:
            out[f] = s
    return pd.DataFrame(out)


def _probabilistic(
    extract, auxiliary, fields, kinds, rules, em_rules, *, seed, threads, u_pairs, em_pairs
):
    """Best extract candidate per auxiliary record: (aux row, extract row, probability)."""
    cl, DuckDBAPI, Linker, SettingsCreator, block_on = _import_splink()
    import duckdb

    make = {
        "exact": lambda f: cl.ExactMatch(f),
        "name": lambda f: cl.NameComparison(f),
        "date": lambda f: cl.DateOfBirthComparison(f, input_is_string=False),
        "postcode": lambda f: cl.PostcodeComparison(f),
    }
    con = duckdb.connect(":memory:")
    con.execute(f"SET threads={int(threads)}")
    con.execute("SET enable_progress_bar = false")
    splink_log = logging.getLogger("splink")
    level, propagate = splink_log.level, splink_log.propagate
    splink_log.setLevel(logging.ERROR)
    try:
        db = DuckDBAPI(connection=con)
        left = db.register(_splink_frame(extract, fields, kinds), table_name="rc_a_extract")
        right = db.register(_splink_frame(auxiliary, fields, kinds), table_name="rc_b_auxiliary")
        settings = SettingsCreator(
            link_type="link_only",
            comparisons=[make[kinds[f]](f) for f in fields],
            blocking_rules_to_generate_predictions=[block_on(*r) for r in rules],
            probability_two_random_records_match=1.0 / len(extract),
            max_iterations=40,
            retain_matching_columns=False,
            retain_intermediate_calculation_columns=False,
        )
        # u within blocks is far above u among random pairs (pupils of one school share a
        # district and year groups), so EM estimates m with u free inside its blocks, and the
        # model predicts with the u of random pairs, what non-matching candidates look like.
        sampler = Linker([left, right], settings, log_level=None)
        sampler.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed)
        u_model = copy.deepcopy(sampler.misc.save_model_to_json())
        trainer = Linker([left, right], copy.deepcopy(u_model), log_level=None)
        for rule in em_rules:
            # a level never seen among the block's non-matches (or matches) drives u (or m) to
            # zero, which Splink refuses: retry with u fixed, else skip the session (the
            # fields keep their estimates from the other sessions)
            for fix_u in (False, True):
                try:
                    trainer.training.estimate_parameters_using_expectation_maximisation(
                        block_on(*rule), fix_u_probabilities=fix_u, max_pairs=em_pairs
                    )
                    break
                except ValueError:
                    continue
        model = copy.deepcopy(trainer.misc.save_model_to_json())
        u_of = {
            (c["output_column_name"], lv.get("label_for_charts")): lv.get("u_probability")
            for c in u_model["comparisons"]
            for lv in c["comparison_levels"]
        }
        for comp in model["comparisons"]:
            for lev in comp["comparison_levels"]:
                u = u_of.get((comp["output_column_name"], lev.get("label_for_charts")))
                if u is not None:
                    lev["u_probability"] = u
        model["probability_two_random_records_match"] = 1.0 / len(extract)
        linker = Linker([left, right], model, log_level=None)
        pred = (
            linker.inference.predict(warning_mode="never")
            if _accepts_warning_mode(linker)
            else linker.inference.predict()
        )
        name = pred.physical_name
        best = con.execute(f"""
            WITH t AS (
                SELECT CASE WHEN source_dataset_l = 'rc_a_extract' THEN unique_id_l ELSE unique_id_r END AS e,
                       CASE WHEN source_dataset_l = 'rc_a_extract' THEN unique_id_r ELSE unique_id_l END AS a,
                       round(match_probability, 9) AS p
                FROM {name}),
            m AS (SELECT a, max(p) AS p FROM t GROUP BY a)
            SELECT t.a AS a, min(t.e) AS e, m.p AS p FROM t JOIN m ON t.a = m.a AND t.p = m.p
            GROUP BY t.a, m.p ORDER BY t.a
        """).fetchnumpy()
    finally:
        splink_log.setLevel(level)
        splink_log.propagate = propagate
        con.close()
    return (
        np.asarray(best["a"], dtype=np.int64),
        np.asarray(best["e"], dtype=np.int64),
        np.asarray(best["p"], dtype=np.float64),
    )


def _accepts_warning_mode(linker) -> bool:
    import inspect

    return "warning_mode" in inspect.signature(linker.inference.predict).parameters


# ------------------------------------------------------------------------------ outcome tables
def _calibration(models: dict[str, tuple[np.ndarray, np.ndarray]], bins: int) -> pd.DataFrame:
    edges = np.linspace(0.0, 1.0, bins + 1)
    rows = []
    for model, (pred, hit) in models.items():
        b = np.clip(np.searchsorted(edges, pred, side="right") - 1, 0, bins - 1)
        n = np.bincount(b, minlength=bins)
        s = np.bincount(b, weights=pred, minlength=bins)
        c = np.bincount(b, weights=hit.astype(np.float64), minlength=bins)
        rows.append(
            pd.DataFrame(
                {
                    "model": model,
                    "bin_lower": edges[:-1],
                    "bin_upper": edges[1:],
                    "n": n.astype(np.int64),
                    "mean_predicted": _ratios(s, n),
                    "n_correct": np.round(c).astype(np.int64),
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    out["observed_rate"] = _ratios(out["n_correct"], out["n"])
    return out


def _flagged(values: pd.Series) -> np.ndarray:
    """A sensitive value worth revealing: anything but the extract's most common value."""
    codes, _uniques = pd.factorize(values, use_na_sentinel=True)
    valid = codes[codes >= 0]
    if len(valid) == 0:
        return np.zeros(len(values), dtype=bool)
    mode = int(np.argmax(np.bincount(valid)))
    return (codes >= 0) & (codes != mode)


def _attributes(
    extract, sensitive, attacks: dict[str, tuple[np.ndarray, np.ndarray]]
) -> pd.DataFrame:
    rows = []
    for s in sensitive:
        codes, _ = pd.factorize(extract[s].reset_index(drop=True), use_na_sentinel=True)
        flag = _flagged(extract[s].reset_index(drop=True))
        for attack, (claimed_row, true_row) in attacks.items():
            ok = claimed_row >= 0
            cr, tr = claimed_row[ok], true_row[ok]
            correct = cr == tr
            wrong = ~correct
            target_known = tr >= 0
            differs = (
                wrong
                & target_known
                & (codes[cr] != np.where(target_known, codes[np.maximum(tr, 0)], -2))
            )
            rows.append(
                {
                    "sensitive": s,
                    "attack": attack,
                    "claimed": int(ok.sum()),
                    "correct": int(correct.sum()),
                    "correct_flagged": int((correct & flag[cr]).sum()),
                    "wrong": int(wrong.sum()),
                    "wrong_flagged": int((wrong & flag[cr]).sum()),
                    "wrong_value_differs": int(differs.sum()),
                }
            )
    cols = [
        "sensitive",
        "attack",
        "claimed",
        "correct",
        "correct_flagged",
        "wrong",
        "wrong_flagged",
        "wrong_value_differs",
    ]
    return pd.DataFrame(rows, columns=cols)


# ------------------------------------------------------------------------------ the measure
def linkage_attack(
    extract: pd.DataFrame,
    auxiliary: pd.DataFrame,
    fields: Sequence[str],
    *,
    extract_id: str = "pupil_id",
    auxiliary_id: str = "pupil_id",
    sensitive: Sequence[str] = (),
    probabilistic: bool = True,
    comparisons: Mapping[str, str] | None = None,
    blocking: Sequence[Sequence[str]] | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    reference_threshold: float = 0.5,
    max_pairs: int | None = None,
    bins: int = 10,
    seed: int = 0,
    threads: int = 1,
) -> LinkageAttackResult:
    r"""Link an intruder's auxiliary table to an extract; count correct and wrong claims.

    Let :math:`A` be the auxiliary records (what the intruder knows about each target, with
    errors), :math:`E` the extract and :math:`T \subseteq A` the *targets*, the auxiliary
    records whose pupil is in :math:`E` (the truth is known for synthetic data). An attack
    claims for some :math:`a \in A` an extract record :math:`c(a)`. Then

    .. math::

        \text{precision} = \frac{\#\{a : c(a) = \mathrm{true}(a)\}}{\#\{a : c(a)\ \text{defined}\}},
        \qquad
        \text{recall} = \frac{\#\{a : c(a) = \mathrm{true}(a)\}}{|T|}.

    **Exact attack.** :math:`c(a)` is the one extract record whose linking fields equal those of
    :math:`a`, when there is exactly one. With error-free auxiliary data and full coverage the
    claims are exactly the sample uniques, :math:`f_k = 1`, on the linking fields.

    **Probabilistic attack** (Fellegi and Sunter [1]_). For a pair :math:`(a, e)` with comparison
    vector :math:`\gamma` (one agreement level per field) the match weight is
    :math:`w = \log_2 \frac{\lambda}{1-\lambda} + \sum_j \log_2 \frac{m_j(\gamma_j)}{u_j(\gamma_j)}`
    with :math:`m_j(l) = P(\gamma_j = l \mid \text{match})`, :math:`u_j(l) = P(\gamma_j = l \mid
    \text{non-match})` and match probability :math:`p = 2^w / (1 + 2^w)`. The prior
    :math:`\lambda = 1/|E|` says each auxiliary record has at most one true match. ``u`` is
    estimated from random pairs, ``m`` by expectation maximisation over the blocked pairs of
    each blocking rule (Splink [2]_). Each auxiliary record claims its highest-probability
    candidate (ties broken by extract row, which carries no information: a random pick among
    look-alikes, as a prosecutor would) when :math:`p \ge t`, for every threshold :math:`t`.

    **Prediction against outcome.** For every target the class size :math:`f_k` of its true
    record on the linking fields gives riskcalc's predictions: sample unique (:math:`f_k=1`),
    :math:`f_k < 5`, and the prosecutor's expected re-identifications :math:`\sum_T 1/f_k`
    (El Emam and Dankar 2008). Their calibration against what the attack achieved is in
    :attr:`LinkageAttackResult.calibration`: model ``fk`` bins targets by :math:`1/f_k`,
    model ``linkage`` bins auxiliary records by the probability of their best candidate; the
    observed outcome is that the best candidate (at no threshold) is the true record.

    Parameters
    ----------
    extract : pandas.DataFrame
        The released records, one per pupil, with the linking fields and ``extract_id``.
    auxiliary : pandas.DataFrame
        The intruder's knowledge, one row per known person, with the linking fields and the
        hidden truth ``auxiliary_id`` (never used to link, only to score).
    fields : sequence of str
        Linking fields, columns of both tables.
    extract_id, auxiliary_id : str, default "pupil_id"
        Truth id columns; extract ids must be distinct.
    sensitive : sequence of str, default ()
        Extract columns whose values a claim reveals (attribute disclosure table).
    probabilistic : bool, default True
        Run the Splink attack (needs the ``linkage`` extra); else only the exact attack.
    comparisons : mapping of str to {"exact", "name", "date", "postcode"}, optional
        How each field is compared: exact agreement, Splink's name (Jaro-Winkler levels),
        date-of-birth (within a month / year / ten years) or postcode (unit, sector, district,
        area) comparisons. Default: ``"date"`` for datetime fields, else ``"exact"``.
    blocking : sequence of sequences of str, optional
        Blocking rules, each a set of fields that must agree for a pair to be scored. Default:
        up to three rules chosen from single fields, pairs and triples, the least restrictive
        whose blocked pairs stay within ``max_pairs``, none a superset of another.
    thresholds : sequence of float in (0, 1], default DEFAULT_THRESHOLDS
    reference_threshold : float in (0, 1], default 0.5
        The threshold of the headline and attribute tables (added to ``thresholds``).
    max_pairs : int, optional
        Budget of blocked pairs per rule; default ``max(10**6, 50 * len(auxiliary))``.
    bins : int, default 10
        Equal-width probability bins of the calibration table.
    seed : int, default 0
        Seed of Splink's random sampling for ``u`` (EM sampling is hash-based).
    threads : int, default 1
        DuckDB threads. One thread keeps the floating-point sums, hence outputs, reproducible.

    Returns
    -------
    LinkageAttackResult

    Raises
    ------
    InvalidParameterError, MissingColumnError, EmptyTableError
        On bad parameters, unknown columns, empty tables or repeated extract ids.
    MissingDependencyError
        If ``probabilistic`` and Splink is not installed.

    References
    ----------
    .. [1] Fellegi, I. P. and Sunter, A. B. (1969). A theory for record linkage. *Journal of the
       American Statistical Association* 64(328), 1183-1210.
       https://doi.org/10.1080/01621459.1969.10501049
    .. [2] Linacre, R. et al. Splink: free software for probabilistic record linkage at scale
       (UK Ministry of Justice). https://moj-analytical-services.github.io/splink/
    .. [3] Rocher, L., Hendrickx, J. M. and de Montjoye, Y.-A. (2019). Estimating the success of
       re-identifications in incomplete datasets using generative models. *Nature
       Communications* 10, 3069. https://doi.org/10.1038/s41467-019-10933-3
    .. [4] Giomi, M., Boenisch, F., Wehmeyer, C. and Tasnádi, B. (2023). A unified framework for
       quantifying privacy risk in synthetic data. *Proceedings on Privacy Enhancing
       Technologies* 2023(2), 312-328. https://doi.org/10.56553/popets-2023-0055

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> ext = pd.DataFrame({"id": [1, 2, 3, 4], "sex": list("FFMM"), "yob": [10, 11, 10, 10]})
    >>> aux = ext.copy()
    >>> res = rc.linkage_attack(ext, aux, ["sex", "yob"], extract_id="id", auxiliary_id="id",
    ...                         probabilistic=False)
    >>> res.exact_claimed, res.exact_correct, res.n_sample_unique
    (2, 2, 2)
    """
    func = "linkage_attack"
    extract = check_frame(extract, "extract", func, nonempty=True)
    auxiliary = check_frame(auxiliary, "auxiliary", func, nonempty=True)
    fields = check_column_names(fields, list(extract.columns), "fields", func, "the extract")
    check_column_names(fields, list(auxiliary.columns), "fields", func, "the auxiliary table")
    (extract_id,) = check_column_names(
        extract_id, list(extract.columns), "extract_id", func, "the extract"
    )
    (auxiliary_id,) = check_column_names(
        auxiliary_id, list(auxiliary.columns), "auxiliary_id", func, "the auxiliary table"
    )
    sensitive = (
        check_column_names(sensitive, list(extract.columns), "sensitive", func, "the extract")
        if (sensitive is not None and len(sensitive))
        else ()
    )
    check_bool(probabilistic, "probabilistic", func)
    kinds = _comparison_kinds(comparisons, fields, extract, func)
    (reference_threshold,) = check_probabilities(
        reference_threshold, "reference_threshold", func, one=True
    )
    thresholds = tuple(
        sorted(set(check_probabilities(thresholds, "thresholds", func)) | {reference_threshold})
    )
    bins = check_int(bins, "bins", func, minimum=1, maximum=1000)
    seed = check_int(seed, "seed", func, minimum=0)
    threads = check_int(threads, "threads", func, minimum=1, maximum=256)
    budget = (
        max(10**6, 50 * len(auxiliary))
        if max_pairs is None
        else check_int(max_pairs, "max_pairs", func)
    )

    if blocking is not None:
        blocking = check_field_groups(blocking, fields, "blocking", func)
    ext_ids = pd.Index(extract[extract_id].to_numpy())
    if ext_ids.hasnans or not ext_ids.is_unique:
        raise InvalidParameterError(
            f"The 'extract_id' column {extract_id!r} of linkage_attack must hold distinct, "
            "non-missing ids."
        )
    true_row = np.asarray(ext_ids.get_indexer(auxiliary[auxiliary_id].to_numpy()), dtype=np.int64)
    is_target = true_row >= 0
    n_targets = int(is_target.sum())
    n_e, n_a = len(extract), len(auxiliary)

    # ---- exact attack and class sizes, one joint encoding of both tables
    ext_codes, aux_codes, sizes = [], [], []
    for f in fields:
        e, a, size = _joint_codes(extract[f], auxiliary[f])
        ext_codes.append(e)
        aux_codes.append(a)
        sizes.append(size)
    key, k = _combine([np.concatenate([e, a]) for e, a in zip(ext_codes, aux_codes)], sizes)
    ext_key, aux_key = key[:n_e], key[n_e:]
    fk = np.bincount(ext_key, minlength=k)
    first = np.full(k, -1, dtype=np.int64)
    first[ext_key[::-1]] = np.arange(n_e - 1, -1, -1, dtype=np.int64)
    complete = np.all([a >= 0 for a in aux_codes], axis=0)
    unique_hit = complete & (fk[aux_key] == 1)
    exact_row = np.where(unique_hit, first[aux_key], -1)
    exact_ok = (exact_row >= 0) & (exact_row == true_row)
    true_fk = fk[ext_key[true_row[is_target]]]

    # ---- probabilistic attack
    claimed: tuple[int, ...] = ()
    correct: tuple[int, ...] = ()
    rules: tuple[tuple[str, ...], ...] = ()
    best_row = np.full(n_a, -1, dtype=np.int64)
    best_p = np.zeros(n_a, dtype=np.float64)
    if probabilistic:
        if blocking is None:
            rules = _choose_blocking(fields, ext_codes, aux_codes, sizes, budget)
        else:
            rules = blocking
        if rules:
            em_rules = _choose_em_rules(fields, ext_codes, aux_codes, sizes, n_a)
            a_rows, e_rows, p = _probabilistic(
                extract,
                auxiliary,
                fields,
                kinds,
                rules,
                em_rules,
                seed=seed,
                threads=threads,
                u_pairs=float(min(10**7, max(10**6, 10 * n_a))),
                em_pairs=float(max(10**6, 2 * budget)),
            )
            best_row[a_rows] = e_rows
            best_p[a_rows] = p
        hit = (best_row >= 0) & (best_row == true_row)
        thr = np.asarray(thresholds)
        has = best_row >= 0
        # claims at threshold t: candidates with p >= t, counted by sorting once
        order = np.sort(best_p[has])
        hit_p = np.sort(best_p[hit])
        claimed = tuple(
            int(v) for v in len(order) - np.searchsorted(order, thr - 1e-12, side="left")
        )
        correct = tuple(
            int(v) for v in len(hit_p) - np.searchsorted(hit_p, thr - 1e-12, side="left")
        )
        outcome = hit
    else:
        outcome = exact_ok
    # ---- calibration and attribute disclosure
    models = {"fk": (1.0 / true_fk.astype(np.float64), outcome[is_target])}
    if probabilistic:
        has = best_row >= 0
        models["linkage"] = (best_p[has], outcome[has])
    calibration = _calibration(models, bins)
    attacks = {"exact": (exact_row, true_row)}
    if probabilistic:
        ref = np.where((best_row >= 0) & (best_p >= reference_threshold - 1e-12), best_row, -1)
        attacks[f"probabilistic@{reference_threshold:g}"] = (ref, true_row)
    attributes = _attributes(extract, sensitive, attacks)
    return LinkageAttackResult(
        fields=tuple(fields),
        thresholds=thresholds if probabilistic else (),
        reference_threshold=reference_threshold,
        n_extract=n_e,
        n_auxiliary=n_a,
        n_targets=n_targets,
        n_sample_unique=int(np.count_nonzero(true_fk == 1)),
        n_fk_below_5=int(np.count_nonzero(true_fk < 5)),
        expected_prosecutor=float(np.sum(1.0 / true_fk)) if n_targets else 0.0,
        exact_claimed=int(np.count_nonzero(exact_row >= 0)),
        exact_correct=int(exact_ok.sum()),
        probabilistic=bool(probabilistic),
        claimed=claimed,
        correct=correct,
        blocking=rules,
        calibration=calibration,
        attributes=attributes,
        links=pd.DataFrame(
            {
                "exact_row": exact_row,
                "best_row": best_row,
                "best_probability": best_p,
                "true_row": true_row,
            }
        ),
        seed=seed,
    )
