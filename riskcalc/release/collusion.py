r"""Collusion and breaches: what recipients of a ledger expose together.

A *coalition* :math:`K` of recipients pools its records. Its record sets are those of its
members, except that the ``"pmr"`` releases of all members join into one record set (the PMR is
one national reference, so two recipients holding it can join their records on it exactly):

.. math::

    \mathrm{groups}(K) = \Big\{\bigcup_{R \in K} \mathrm{pmr}(R)\Big\}
    \cup \{\mathrm{apmr}(R) : R \in K\} \cup \{\{r\} : r \in \mathrm{none}(R),\ R \in K\}.

Each member's aPMR releases stay one record set of their own (the anonymised PMR differs per
recipient) and each ``"none"`` release stays separate, as in :func:`riskcalc.ledger_exposure`.
Child :math:`c` is singled out by :math:`K` when one of these record sets singles it out, with
the definition of :mod:`riskcalc.release.exposure` (the key of a record carries which releases
hold it; class size one among the record set's records):

.. math::

    N(K) = \#\{c : \exists g \in \mathrm{groups}(K),\ f_g(c) = 1\}.

Because each record set of a member is a record set of the coalition, or is refined by the
pooled PMR set, :math:`N(K) \ge N(\{R\})` for every member and :math:`N` never decreases when
a member joins.

*The worst coalition of* :math:`k`. :math:`\max_{|K| = k} N(K)` is a maximum-coverage problem
over a choice of recipients (hard in general). The result reports the greedy coalition instead:
among the ``candidates`` recipients singling out most children alone, start with the one
singling out most, then add at each step the candidate raising :math:`N` most (ties: the
candidate singling out more alone, then the name). The greedy coalition is a coalition of
:math:`k` recipients, so its count is a **lower bound** on the worst coalition of :math:`k`;
for :math:`k = 1` it is exact (the candidates are the recipients singling out most alone). A
recipient outside the candidates, or a choice greedy passes over, can do worse, and no
approximation ratio is claimed: :math:`N` is not submodular (pooled PMR records can single out
children no member singles out alone, so two recipients can be worth more together than the sum
of what each adds), so the :math:`1 - 1/e` guarantee of greedy maximum coverage does not hold.

*Breach.* An intruder who obtains one recipient's holdings can single out what that recipient
can: its ``n_singled_out`` of :func:`riskcalc.ledger_exposure`.

Computation: the aPMR and ``"none"`` record sets of each recipient come from the engine's cache
of groups (:class:`riskcalc.release.exposure._Engine`); a coalition's count is a union of
boolean masks. The only new class sizes are those of the pooled PMR sets, computed by increment:
the classes of :math:`K \cup \{R\}` on the pooled PMR releases refine those of :math:`K`, so the
grouping runs on the children :math:`K` does not yet single out plus those only :math:`R`
holds, keyed by their class under :math:`K` and the columns of :math:`R`'s releases not already
pooled, one column at a time (memory: a key and one column). A class under :math:`K` none of
whose records :math:`R` holds is carried over as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import _format as fmt
from .._core import kernels
from .._render import Displayed
from .._validation import check_int
from ..exceptions import InvalidParameterError
from .exposure import _Engine, _groups, _Release
from .scenarios import Scenario

__all__ = ["CollusionResult", "collusion_exposure"]

_MAX_KEY_SPACE = 1 << 64
_ALL = "all recipients"
_FRAME_COLUMNS = (
    "k",
    "recipients",
    "n_singled_out",
    "share_singled_out",
    "n_singled_out_best_member",
    "gain",
)
_BREACH_COLUMNS = (
    "recipient",
    "recipient_type",
    "n_releases",
    "n_held",
    "n_singled_out",
    "share_singled_out",
)


@dataclass(frozen=True, slots=True)
class CollusionResult(Displayed):
    """What coalitions of recipients, and breaches of one recipient, expose.

    The coalitions of ``frame`` are greedy: their counts are **lower bounds** on the worst
    coalition of each size (see :func:`collusion_exposure`).

    Attributes
    ----------
    scenario : str
        The scenario's name.
    scenario_fields : tuple of str
    n_children : int
        Distinct pupils in the panel (the denominator of every share).
    n_recipients : int
        Recipients in the ledger.
    n_candidates : int
        Recipients the greedy coalitions are drawn from (those singling out most children alone).
    k : tuple of int
        Coalition sizes reported (those asked for, at most ``n_candidates``).
    k_skipped : tuple of int
        Sizes asked for and not reported: the ledger has fewer candidate recipients.
    frame : pandas.DataFrame
        One row per size in ``k``, then a row ``"all recipients"`` (every recipient pooled):
        ``k``, ``recipients`` (the coalition, joined by ``"; "``, in the order greedy added
        them), ``n_singled_out`` (children the coalition singles out), ``share_singled_out``,
        ``n_singled_out_best_member`` (the most any member singles out alone) and ``gain``
        (``n_singled_out - n_singled_out_best_member``: what pooling adds).
    breach : pandas.DataFrame
        One row per recipient: ``recipient``, ``recipient_type``, ``n_releases``, ``n_held``
        (children in any of its records: whose records a breach leaks), ``n_singled_out`` (those
        an intruder holding its records can single out) and ``share_singled_out`` (of the
        panel); most exposing first (ties by name).

    Examples
    --------
    >>> import pandas as pd
    >>> import riskcalc as rc
    >>> panel = pd.DataFrame({"pupil_id": list("abcd"), "academic_year": 2019,
    ...                       "urn": [1, 1, 2, 2], "sex": list("FMFF")})
    >>> ledger = pd.DataFrame({"release_id": ["r1", "r2"], "recipient": ["uni", "firm"],
    ...                        "fields": [("urn",), ("sex",)], "years": [(2019,), (2019,)],
    ...                        "year_groups": [(), ()], "population": ["all", "all"],
    ...                        "reference": ["pmr", "pmr"]})
    >>> res = rc.collusion_exposure(panel, ledger, ["urn", "sex"], k=(1, 2))
    >>> res.frame["n_singled_out"].tolist()  # firm alone: b; pooled on the PMR: a and b
    [1, 2, 2]
    """

    scenario: str
    scenario_fields: tuple[str, ...]
    n_children: int
    n_recipients: int
    n_candidates: int
    k: tuple[int, ...]
    k_skipped: tuple[int, ...]
    frame: pd.DataFrame = field(repr=False)
    breach: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The coalitions, one row per size, then all recipients pooled."""
        return self.frame.copy()

    def __repr__(self) -> str:
        rows = self.frame.to_dict("records")
        parts = [
            f"coalition of {r['k']}: {fmt.count_pct(int(r['n_singled_out']), self.n_children)}"
            for r in rows[:-1]
        ]
        if rows:
            every = fmt.count_pct(int(rows[-1]["n_singled_out"]), self.n_children)
            parts.append(f"all {self.n_recipients} recipients pooled: {every}")
        if self.k_skipped:
            parts.append(f"sizes skipped (fewer recipients): {', '.join(map(str, self.k_skipped))}")
        if len(self.breach):
            worst = self.breach.iloc[0]
            count = fmt.count_pct(int(worst["n_singled_out"]), self.n_children)
            parts.append(f"worst breach: {worst['recipient']}, {count}")
        return (
            f"CollusionResult(scenario={self.scenario!r}, {self.n_children:,} children, "
            f"{self.n_recipients} recipients; greedy coalitions among the top "
            f"{self.n_candidates}: lower bounds on the worst coalition of each size; "
            f"{'; '.join(parts)})"
        )


class _Pooled:
    """The pooled PMR record set of a coalition, kept as the class of each record not yet
    singled out (the increment of :meth:`add` never recomputes what is already pooled).

    ``items`` are the releases pooled, as the engine's group key items (scenario fields and
    population); ``rec`` the children in any pooled record; ``done`` those singled out;
    ``live`` the other records (pupil indices) and ``cid`` their dense class ids."""

    __slots__ = ("cid", "done", "eng", "items", "levels", "live", "n_classes", "rec")

    def __init__(self, eng: _Engine):
        n = eng.panel.n
        self.eng = eng
        self.levels: dict[str, int] = {}  # codes of each field (+1 for "not held"), shared
        self.items: frozenset = frozenset()
        self.rec = np.zeros(n, bool)
        self.done = np.zeros(n, bool)
        self.live = np.zeros(0, np.int64)
        self.cid = np.zeros(0, np.int64)
        self.n_classes = 0

    def _new(self, rels: Sequence[_Release]) -> list[_Release]:
        """The releases of ``rels`` that add an item to the pool (one per item)."""
        fields = self.eng.fields
        out: dict[Any, _Release] = {}
        for r in rels:
            if r.population == "aggregate" or r.reference != "pmr":
                continue
            held = tuple(f for f in r.fields if f in fields)
            if not held:
                continue
            item = (held, r.pop_key)
            if item not in self.items and item not in out:
                out[item] = r
        return [out[i] for i in sorted(out, key=repr)]

    def add(self, rels: Sequence[_Release]) -> _Pooled:
        """The pool with the ``pmr`` releases of ``rels`` joined (``self`` is left as it is)."""
        new = self._new(rels)
        if not new:
            return self
        eng = self.eng
        pn, seed = eng.panel, eng.sample_seed
        pops = sorted({r.pop_key for r in new})
        helds = [pn.held(next(r for r in new if r.pop_key == p), seed) for p in pops]
        rec_new = np.zeros(pn.n, bool)
        for h in helds:
            rec_new |= h.any_row
        joining = np.flatnonzero(rec_new & ~self.rec)
        # a class none of whose records the new releases hold keeps its records (their new
        # columns are all "not held"): only the touched classes are grouped again
        touched = np.zeros(self.n_classes, bool)
        touched[self.cid[rec_new[self.live]]] = True
        sel = touched[self.cid]
        idx = np.concatenate([self.live[sel], joining])
        # records only the new releases hold share one class under the pool (nothing held)
        key = np.concatenate([self.cid[sel], np.full(len(joining), self.n_classes, np.int64)])
        space = self.n_classes + 1

        def fold(col: np.ndarray, levels: int) -> None:
            nonlocal key, space
            if space * levels >= _MAX_KEY_SPACE:
                ids, sizes = kernels.group(key, space)
                key, space = ids.astype(np.int64), int(sizes.shape[0])
            kernels.mix(key, np.ascontiguousarray(col, dtype=np.int64), levels)
            space *= levels

        if len(idx):
            # which new release holds the record at each census (membership, as the engine)
            for h in helds:
                for t in h.times:
                    fold(h.mask[t][idx], 2)
            # the value of each cell (census, scenario field) a new release holds, else 0
            for f in eng.fields:
                holders = [
                    h
                    for p, h in zip(pops, helds, strict=True)
                    if any(f in r.fields for r in new if r.pop_key == p)
                ]
                if not holders:
                    continue
                v = pn.values(f)
                if f not in self.levels:
                    self.levels[f] = int(v.max()) + 2
                levels = self.levels[f]
                for t in sorted({t for h in holders for t in h.times}):
                    cell = np.zeros(len(idx), bool)
                    for h in holders:
                        if t in h.times:
                            cell |= h.mask[t][idx]
                    fold(np.where(cell, v[t][idx] + 1, 0), levels)
            ids, sizes = kernels.group(key, space)
            single = sizes[ids] == 1
        else:
            ids, single = np.zeros(0, np.int64), np.zeros(0, bool)
        out = _Pooled.__new__(_Pooled)
        out.eng, out.levels = eng, self.levels
        out.items = self.items | {
            (tuple(f for f in r.fields if f in eng.fields), r.pop_key) for r in new
        }
        out.rec = self.rec | rec_new
        out.done = self.done.copy()
        out.done[idx[single]] = True
        out.live = np.concatenate([self.live[~sel], idx[~single]])
        if len(out.live):
            # the untouched classes keep their ids, the regrouped ones follow; then dense ids
            regrouped = ids[~single].astype(np.int64) + self.n_classes
            space = self.n_classes + (int(ids.max()) + 1 if len(ids) else 0)
            cid, sizes = kernels.group(np.concatenate([self.cid[~sel], regrouped]), space)
            out.cid, out.n_classes = cid.astype(np.int64), int(sizes.shape[0])
        else:
            out.cid, out.n_classes = np.zeros(0, np.int64), 0
        return out


def _check_k(k: Any, func: str) -> tuple[int, ...]:
    if isinstance(k, (int, np.integer)) and not isinstance(k, bool):
        k = (k,)
    if isinstance(k, (str, bytes)) or not isinstance(k, Sequence) or not k:
        got = repr(k) if isinstance(k, (str, bytes, Sequence)) else type(k).__name__
        raise InvalidParameterError(
            f"The 'k' parameter of {func} must be a whole number of at least 1 or a non-empty "
            f"sequence of them. Got {got}."
        )
    return tuple(sorted({check_int(x, "k", func, minimum=1) for x in k}))


def _other(eng: _Engine, name: str) -> np.ndarray:
    """Children singled out by a recipient's record sets other than its PMR set."""
    rels = [r for r in eng.by_recipient[name] if r.population != "aggregate"]
    out = np.zeros(eng.panel.n, bool)
    for g in _groups([r for r in rels if r.reference != "pmr"]):
        out |= eng.singled(g)
    return out


def coalition_singled(eng: _Engine, names: Sequence[str]) -> np.ndarray:
    """Children singled out by the coalition of recipients ``names`` (bool per pupil)."""
    out = _Pooled(eng).add([r for name in names for r in eng.by_recipient[name]]).done.copy()
    for name in names:
        out |= _other(eng, name)
    return out


def _count(*masks: np.ndarray) -> int:
    out = masks[0].copy()
    for m in masks[1:]:
        out |= m
    return int(np.count_nonzero(out))


def collusion_exposure(
    panel: pd.DataFrame,
    ledger: pd.DataFrame,
    scenario: Scenario | str | Sequence[str],
    *,
    k: int | Sequence[int] = (1, 2, 3, 5),
    candidates: int = 20,
    sample_seed: int = 0,
) -> CollusionResult:
    r"""What any :math:`k` recipients of a ledger expose together, and a breach of one.

    A coalition :math:`K` of recipients pools its records: the ``"pmr"`` releases of all its
    members join into one record set (the PMR is national), each member's ``"apmr"`` releases
    stay one record set of their own (the aPMR differs per recipient) and each ``"none"``
    release stays separate. A child is singled out by :math:`K` when one of these record sets
    singles it out, as in :func:`ledger_exposure`:

    .. math::

        N(K) = \#\{c : \exists g \in \mathrm{groups}(K),\ f_g(c) = 1\},\qquad
        \mathrm{gain}(K) = N(K) - \max_{R \in K} N(\{R\}).

    The worst coalition of :math:`k`, :math:`\max_{|K| = k} N(K)`, is a maximum-coverage
    search over sets of recipients. Reported instead is the **greedy** coalition: among the
    ``candidates`` recipients with the largest :math:`N(\{R\})`, the best one, then at each
    step the candidate raising :math:`N` most (ties: larger :math:`N(\{R\})`, then name). Its
    count is a **lower bound** on the worst coalition of :math:`k`, with no approximation ratio
    (pooling makes :math:`N` non-submodular); it is exact for :math:`k = 1`, and the greedy
    coalitions of successive sizes are nested. The last row
    pools every recipient of the ledger. ``breach`` lists, per recipient, what an intruder who
    obtains its holdings can single out: its ``n_singled_out`` of :func:`ledger_exposure`.

    The definitions are in the docstring of :mod:`riskcalc.release.collusion`. Record sets
    without a shared reference (a member's aPMR or ``"none"`` records) are not linked on their
    common fields, so every count is also a lower bound in that sense.

    Parameters
    ----------
    panel : pandas.DataFrame
        Long table, one row per pupil per census (as for :func:`ledger_exposure`).
    ledger : pandas.DataFrame
        One row per release (as for :func:`ledger_exposure`).
    scenario : Scenario, str or sequence of str
        What the intruder knows.
    k : int or sequence of int, default (1, 2, 3, 5)
        Coalition sizes, each at most ``candidates``. Sizes above the number of recipients in
        the ledger are skipped and listed in ``k_skipped``.
    candidates : int, default 20
        How many recipients (those singling out most children alone) the greedy search draws
        from; at least the largest ``k``. Cost: about ``candidates * max(k)`` groupings of the
        pooled PMR records not yet singled out.
    sample_seed : int, default 0
        Seed of the pupil samples of ``"sample:<fraction>"`` releases.

    Returns
    -------
    CollusionResult

    References
    ----------
    .. [1] Article 29 Data Protection Working Party (2014). Opinion 05/2014 on Anonymisation
       Techniques (WP216), section 3: singling out, linkability, inference.
    .. [2] Nemhauser, G. L., Wolsey, L. A. and Fisher, M. L. (1978). An analysis of
       approximations for maximizing submodular set functions. *Mathematical Programming*
       14, 265-294. https://doi.org/10.1007/BF01588971 (the greedy search; its guarantee needs
       submodularity, which pooling breaks)

    Examples
    --------
    >>> import pandas as pd
    >>> import riskcalc as rc
    >>> panel = pd.DataFrame({"pupil_id": list("abcd"), "academic_year": 2019,
    ...                       "urn": [1, 1, 2, 2], "sex": list("FMFF")})
    >>> ledger = pd.DataFrame({"release_id": ["r1", "r2"], "recipient": ["uni", "firm"],
    ...                        "fields": [("urn",), ("sex",)], "years": [(2019,), (2019,)],
    ...                        "year_groups": [(), ()], "population": ["all", "all"],
    ...                        "reference": ["pmr", "pmr"]})
    >>> res = rc.collusion_exposure(panel, ledger, ["urn", "sex"], k=(1, 2))
    >>> res.breach[["recipient", "n_singled_out"]].values.tolist()  # b is the only boy
    [['firm', 1], ['uni', 0]]
    >>> res.frame[["k", "recipients", "n_singled_out", "gain"]].values.tolist()
    [[1, 'firm', 1, 0], [2, 'firm; uni', 2, 1], [2, 'all recipients', 2, 1]]
    """
    func = "collusion_exposure"
    eng = _Engine.build(panel, ledger, scenario, func, sample_seed=sample_seed)
    return collusion_of_engine(eng, k=k, candidates=candidates, func=func)


def collusion_of_engine(
    eng: _Engine,
    *,
    k: int | Sequence[int] = (1, 2, 3, 5),
    candidates: int = 20,
    func: str = "collusion_exposure",
) -> CollusionResult:
    """:func:`collusion_exposure` on an engine already built (a caller also computing
    :func:`riskcalc.ledger_exposure` or other measures on the same panel, ledger and scenario
    shares its cache of record sets: the groups are then not computed twice)."""
    ks = _check_k(k, func)
    n_cand = check_int(candidates, "candidates", func, minimum=1)
    if ks[-1] > n_cand:
        raise InvalidParameterError(
            f"The 'k' parameter of {func} must be at most 'candidates' ({n_cand}). Got {ks[-1]}."
        )
    n = eng.panel.n
    # per recipient: its pmr releases and its own count; the union of every recipient's
    # record sets other than the PMR (masks are kept for the candidates only: n bytes each)
    pmr: dict[str, list[_Release]] = {}
    own: dict[str, int] = {}
    every_other = np.zeros(n, bool)
    rows = []
    for name in eng.recipients:
        rels = [r for r in eng.by_recipient[name] if r.population != "aggregate"]
        pmr[name] = [r for r in rels if r.reference == "pmr"]
        mask = _other(eng, name)
        every_other |= mask
        own[name] = _count(mask, eng.singled(pmr[name])) if pmr[name] else int(mask.sum())
        rows.append(
            {
                "recipient": name,
                "recipient_type": eng.rtype.get(name, ""),
                "n_releases": len(eng.by_recipient[name]),
                "n_held": int(eng.held(rels)[0].sum()),
                "n_singled_out": own[name],
                "share_singled_out": own[name] / n if n else float("nan"),
            }
        )
    breach = pd.DataFrame(rows, columns=list(_BREACH_COLUMNS))
    breach = breach.sort_values(
        ["n_singled_out", "recipient"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)
    pool_names = breach["recipient"].tolist()[:n_cand]
    rank = {name: i for i, name in enumerate(pool_names)}
    # the candidates' other record sets, bit-packed (n / 8 bytes each), from the engine's cache
    packed = {name: np.packbits(_other(eng, name)) for name in pool_names}

    def other(name: str) -> np.ndarray:
        return np.unpackbits(packed[name], count=n).view(bool)

    reported = tuple(x for x in ks if x <= len(pool_names))
    skipped = tuple(x for x in ks if x > len(pool_names))

    frame_rows: list[dict[str, Any]] = []

    def row(size: int, label: str, count: int, best: int) -> None:
        frame_rows.append(
            {
                "k": size,
                "recipients": label,
                "n_singled_out": count,
                "share_singled_out": count / n if n else float("nan"),
                "n_singled_out_best_member": best,
                "gain": count - best,
            }
        )

    members: list[str] = []
    pooled = _Pooled(eng)
    others = np.zeros(n, bool)
    for step in range(1, (reported[-1] if reported else 0) + 1):
        best: tuple | None = None
        for name in pool_names[:1] if step == 1 else pool_names:
            if name in members:
                continue
            trial = pooled.add(pmr[name])
            # alone, the best candidate is the first (its count is ledger_exposure's)
            count = own[name] if step == 1 else _count(trial.done, others, other(name))
            score = (-count, rank[name])
            if best is None or score < best[0]:
                best = (score, name, trial)
        assert best is not None
        (count, _), name, pooled = best
        best = None  # one pooled state held between steps
        members.append(name)
        others = others | other(name)
        if step in reported:
            row(step, "; ".join(members), -count, max(own[m] for m in members))

    del pooled
    packed.clear()
    everyone = _Pooled(eng).add([r for name in eng.recipients for r in pmr[name]])
    row(
        len(eng.recipients),
        _ALL,
        _count(everyone.done, every_other),
        max(own.values(), default=0),
    )
    return CollusionResult(
        scenario=eng.name,
        scenario_fields=eng.fields,
        n_children=n,
        n_recipients=len(eng.recipients),
        n_candidates=len(pool_names),
        k=reported,
        k_skipped=skipped,
        frame=pd.DataFrame(frame_rows, columns=list(_FRAME_COLUMNS)),
        breach=breach,
    )
