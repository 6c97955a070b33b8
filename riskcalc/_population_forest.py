r"""The default population estimate: a forest of smoothed field-to-field conditionals
(:mod:`riskcalc._forest`, Chow and Liu 1968) gives each sample unique's chance of being a
population unique, with the weight of the record's own count measured on subsamples of the
extract (:func:`_validate_weight`), and the interval every result of
:func:`riskcalc.population_uniqueness` carries (:func:`_forest_estimate`).

References
----------
.. [1] Chow, C. K. and Liu, C. N. (1968). Approximating discrete probability distributions with
   dependence trees. *IEEE Transactions on Information Theory* 14(3), 462-467.
   https://doi.org/10.1109/TIT.1968.1054142
"""

from __future__ import annotations

import math

import numpy as np

from ._forest import fit_forest, unique_probability
from ._lazy import lazy_module
from ._population_results import PopulationEstimate, _finish, _lower_first
from .exceptions import RiskCalcError

special = lazy_module("scipy.special")

#: Shares of the extract a validation subsample may hold: the extract's own sampling fraction,
#: so that subsample -> extract mirrors extract -> population, kept within these bounds.
VALIDATION_SHARES = (0.1, 0.5)
#: ...and never fewer records than this in a subsample (a larger share of a small extract).
VALIDATION_MIN = 200
#: Subsamples drawn for that measurement; one weight is solved over all of them together.
VALIDATION_REPS = 11
#: The estimate is called trusted when its interval lies within this share of it on each side


def _cells_of(enc, part, n):
    """The extract's non-empty cells (codes, counts, each record's cell), or why not."""
    from ._model_risk import _cells

    try:
        return _cells(enc, part, np.ones(n)), ""
    except RiskCalcError as exc:  # e.g. a component too large to hold
        return None, str(exc)


def _pooled_weight(runs, rest: float) -> float:
    r"""The own-record weight :math:`w \in [0, 1]` at which the expected number of uniques that
    stay unique, summed over ``runs`` (``(terms of the sample uniques, observed)``),
    equals the observed number summed (bisection: the expected count falls as :math:`w`
    grows)."""
    target = sum(observed for _, observed in runs)

    def total(w):
        return sum(float(unique_probability(terms, rest, w).sum()) for terms, _ in runs)

    if total(0.0) <= target:
        return 0.0
    if total(1.0) >= target:
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(18):  # w to 4e-6
        mid = 0.5 * (lo + hi)
        if total(mid) > target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _value_ranks(enc, part, cells) -> np.ndarray:
    """Each cell's levels as ranks of their values (labels sorted as text, a missing value
    last): an order of the cells that does not depend on the order of the records."""
    ranks = np.empty_like(cells.codes)
    for j, name in enumerate(part.columns):
        col = enc[name]
        cats = col.categories
        if hasattr(cats, "to_numpy"):  # pandas Index, pyarrow Array
            labels = (
                cats.to_numpy(zero_copy_only=False)
                if hasattr(cats, "to_pylist")
                else cats.to_numpy()
            )
        else:
            labels = np.asarray(cats if cats is not None else [], dtype=object)
        text = np.asarray(labels).astype(str)
        if text.shape[0] != col.n_levels - (col.missing_code is not None):
            text = np.array(
                [f"{c:012d}" for c in range(col.n_levels)], dtype=object
            )  # codes as text
        order = np.argsort(text, kind="stable")
        rank = np.empty(col.n_levels, dtype=np.int64)
        rank[order] = np.arange(order.shape[0])
        if col.missing_code is not None and order.shape[0] < col.n_levels:
            # the missing level: after every value (its code is the last, as the encoder gives it)
            rank[order.shape[0] :] = order.shape[0]
        seen = np.flatnonzero(np.bincount(col.codes, minlength=col.n_levels) > 0)
        ranks[:, j] = rank[seen][cells.codes[:, j]]
    return ranks


def _validation_size(n: int, f: float) -> int:
    """Records in each validation subsample: the share ``f`` of ``n``, kept within
    ``VALIDATION_SHARES``, at least ``VALIDATION_MIN`` and at most half the extract."""
    g = min(max(f, VALIDATION_SHARES[0]), VALIDATION_SHARES[1])
    return min(max(int(round(g * n)), VALIDATION_MIN), n // 2)


def _validate_weight(cells, ranks, n: int, f: float, seed: int):
    r"""Measure the own-record weight on subsamples of the extract.

    Each subsample :math:`T` holds the share :math:`g` of the extract's records, :math:`g` the
    extract's own sampling fraction :math:`f` kept within ``VALIDATION_SHARES`` (so that the
    step from :math:`T` to the extract mirrors the step from the extract to the population;
    at least ``VALIDATION_MIN`` records, at most half; simple random, without replacement, over
    the records put in the order of their cells' values, so that the row order never changes a
    figure). The
    forest is fitted to :math:`T`, and the weight :math:`w` is solved so that the expected
    number of :math:`T`'s uniques that are unique in the whole extract equals the number that
    are (known: the extract is the population of its subsamples).

    Returns the number of subsample uniques the weight rests on, the cross-validated log error
    of the procedure (for each subsample, the count predicted with the weight solved on the
    *other* subsamples against the count observed, :math:`\log\{(\hat c + 1)/(c + 1)\}`), and
    the runs ``(terms of the subsample uniques, observed)`` the weight is solved on.
    """
    rng = np.random.default_rng(seed)
    m = _validation_size(n, f)
    support, runs = 0, []
    if m < 2 or m >= n:
        return support, [], []
    # the records in the order of their cells' values (records of one cell are alike), so that
    # the subsamples never depend on the row order
    order = np.lexsort(ranks.T[::-1])
    records = np.repeat(order, cells.f[order].astype(np.int64))
    n_cells = order.shape[0]
    for _ in range(VALIDATION_REPS):
        counts = np.bincount(records[rng.choice(n, size=m, replace=False)], minlength=n_cells)
        present = counts > 0
        codes = cells.codes[present]
        sub = counts[present].astype(np.float64)
        su = sub == 1
        if not su.any():
            continue
        forest = fit_forest(codes, sub, cells.levels)
        still_unique = float(np.count_nonzero(cells.f[present][su] == 1))
        runs.append((forest.terms(codes[su]), still_unique))
        support += int(su.sum())
    errors = []
    if len(runs) >= 2:
        for i, (terms, observed) in enumerate(runs):
            w_other = _pooled_weight(runs[:i] + runs[i + 1 :], float(n - m))
            predicted = float(unique_probability(terms, float(n - m), w_other).sum())
            errors.append(math.log((predicted + 1.0) / (observed + 1.0)))
    return support, errors, runs


def _design_sd(p: np.ndarray, count: float, f: float) -> float:
    r"""Standard deviation of :math:`\hat U = \sum p / f` from the sampling alone:
    :math:`\sum p(1-p)/f^2` (which sample uniques are population unique) plus
    :math:`U (1 - f) / f` (how many population uniques the sample drew)."""
    return math.sqrt(float(np.sum(p * (1.0 - p))) / f**2 + max(count, 0.0) * (1.0 - f) / f)


def _forest_estimate(
    enc, part, n: int, N: int, c1: int, confidence: float, seed: int, why: str = ""
):
    """The default estimate: ``(PopulationEstimate, interval, record probabilities)``."""
    f = n / N
    z = float(special.ndtri(0.5 + confidence / 2.0))
    top = float(N - (n - c1))  # records in sample classes of size >= 2 are not population unique
    if c1 == 0:
        # no sample unique: population uniques may still exist among the unsampled records; had
        # there been U, the sample would have missed all of them with chance (1 - f)^U
        hi = min(top, math.log(1.0 - confidence) / math.log1p(-f)) if f < 1 else 0.0
        est = PopulationEstimate(
            "forest",
            0.0,
            0.0,
            True,
            {"interval_low": 0.0, "interval_high": hi},
            "No record is unique in the sample; population uniques missed by the sample are "
            "bounded by the chance of missing them all.",
            n,
            N,
            0,
        )
        return est, (0.0, float(hi)), None if part is None else np.zeros(n)
    if n == N:
        est = PopulationEstimate(
            "forest",
            float(c1),
            c1 / N,
            True,
            {"interval_low": float(c1), "interval_high": float(c1)},
            "The sample is the whole population: population uniques are the sample uniques.",
            n,
            N,
            c1,
        )
        record_p = (
            None if part is None else (part.class_sizes[part.class_id] == 1).astype(np.float64)
        )
        return est, (float(c1), float(c1)), record_p
    cells, why = _cells_of(enc, part, n) if part is not None else (None, why)
    if cells is None:
        est = PopulationEstimate(
            "forest",
            float("nan"),
            float("nan"),
            False,
            {},
            f"The forest model could not be fitted: {_lower_first(why)}",
            n,
            N,
            c1,
        )
        return est, (0.0, top), None
    su = cells.f == 1
    codes_su = cells.codes[su]
    forest = fit_forest(cells.codes, cells.f, cells.levels)
    support, errors, runs = _validate_weight(cells, _value_ranks(enc, part, cells), n, f, seed)
    w = _pooled_weight(runs, float(n - _validation_size(n, f))) if runs else 0.5
    # the procedure's own error, measured one step down (root mean square of the log errors)
    sigma = math.sqrt(float(np.mean(np.square(errors)))) if errors else math.inf
    rest = float(N - n)
    terms = forest.terms(codes_su)
    p = unique_probability(terms, rest, w)
    p_fit = unique_probability(terms, rest, 1.0)
    p_out = unique_probability(terms, rest, 0.0)
    count, low_model, high_model = p.sum() / f, p_fit.sum() / f, p_out.sum() / f
    # the interval: the two bounding models with their sampling noise, and the estimate with its
    # sampling noise and the procedure's measured error, whichever reaches further
    sd = _design_sd(p, count, f)
    spread = math.exp(z * sigma) if math.isfinite(sigma) else math.inf
    lo = max(0.0, min(low_model - z * _design_sd(p_fit, low_model, f), count / spread - z * sd))
    hi = min(top, max(high_model + z * _design_sd(p_out, high_model, f), count * spread + z * sd))
    per_cell = np.zeros(cells.f.shape[0])
    per_cell[su] = p
    names = part.columns
    edges = forest.edges(names)
    params = {
        "weight": w,
        "validation_error": sigma,
        "validation_uniques": support,
        "fitted_count": low_model,
        "left_out_count": high_model,
        "interval_low": lo,
        "interval_high": hi,
        "n_edges": len(edges),
        "model": "; ".join(f"{a} -> {b}" for a, b in edges) or "independent fields",
    }
    message = (
        f"forest of {len(edges)} edge(s) ({params['model']}); own-record weight {w:.2f} "
        f"measured on {len(runs)} subsample(s) of {_validation_size(n, f):,} records of the extract "
        f"({support:,} subsample uniques); {p.sum():,.1f} of {c1:,} sample uniques expected to "
        "be population unique, times N / n."
    )
    if not runs:
        message += " No subsample had a unique record, so the weight is the midpoint 0.5."
    est = _finish("forest", count, n, N, c1, params, message)
    return est, (lo, hi), per_cell[cells.record_cell]
