"""What-if coarsening: the tier figures after generalising fields along their ladders, and the
smallest coarsening that brings every scenario to a target k."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pandas as pd

from .._core.encoding import encode
from ..exceptions import InvalidParameterError
from .ladders import coarsen, ladder_length, level_name
from .scenarios import load_scenarios
from .tables import RiskTable, tier_risk_table

__all__ = ["what_if", "smallest_coarsening", "CoarseningResult", "DEFAULT_COARSENING"]

DEFAULT_COARSENING = {
    "date_of_birth": "year_month_of_birth",
    "postcode": "postcode_sector",
    "urn": "la_code",
    "ethnic_group_minor": "ethnic_group_major",
    "lsoa": "home_la",
}



def what_if(cohort: pd.DataFrame, coarsening=None, *, scenarios=None, tiers=(1, 2, 4), before: RiskTable | None = None) -> pd.DataFrame:
    """Before/after table: each scenario's uniqueness and k on each tier, as released and after
    coarsening (default :data:`DEFAULT_COARSENING`).

    ``before`` may pass the table of the cohort as released, to save recomputing it. Columns:
    ``tier``, ``scenario``, ``unique_before``, ``unique_share_before``, ``k_before``,
    ``unique_after``, ``unique_share_after``, ``k_after``.
    """
    coarsening = DEFAULT_COARSENING if coarsening is None else coarsening
    record_tiers = [t for t in tiers if t != 3]
    if before is None:
        before = tier_risk_table(cohort, tiers=record_tiers, scenarios=scenarios)
    after = tier_risk_table(cohort, tiers=record_tiers, scenarios=scenarios, coarsening=coarsening,
                            attributes=False).records
    keys = ["tier", "scenario"]
    merged = before.records[keys + ["n_unique", "unique_share", "k"]].merge(
        after[keys + ["n_unique", "unique_share", "k"]], on=keys, suffixes=("_before", "_after")
    )
    return merged.rename(
        columns={"n_unique_before": "unique_before", "n_unique_after": "unique_after"}
    )[["tier", "scenario", "unique_before", "unique_share_before", "k_before",
       "unique_after", "unique_share_after", "k_after"]]


@dataclass(frozen=True)
class CoarseningResult:
    """The smallest coarsening that brings every scenario to a target k.

    Attributes
    ----------
    target_k : int
    max_suppressed : float
        Share of records that may stay below ``target_k`` (to be suppressed).
    coarsening : dict
        ``{field: level name}`` for the fields coarsened (``"*"``: withheld).
    steps : int
        Total number of ladder steps taken.
    result : pandas.DataFrame
        Per scenario: ``scenario``, ``k_after``, ``below_target`` (records still below
        ``target_k``), ``below_target_share``.
    """

    target_k: int
    max_suppressed: float
    coarsening: dict
    steps: int
    result: pd.DataFrame

    def __repr__(self) -> str:
        levels = ", ".join(f"{f} -> {lvl}" for f, lvl in self.coarsening.items()) or "none"
        return (
            f"CoarseningResult(target_k={self.target_k}, max_suppressed={self.max_suppressed:g}, "
            f"steps={self.steps}, coarsening: {levels})"
        )


def smallest_coarsening(
    cohort: pd.DataFrame, target_k: int, *, max_suppressed: float = 0.01, scenarios=None
) -> CoarseningResult:
    """The smallest coarsening (fewest ladder steps in total) under which every scenario leaves
    at most ``max_suppressed`` of the records in classes smaller than ``target_k``.

    Ladders come from the synthetic registry (date of birth -> year and month -> year;
    postcode -> sector -> district -> area; school -> LA -> region; ethnicity minor -> major...),
    each topped by withholding the field. Every tier holds the same pupils, so a scenario's
    figures depend only on its fields: each scenario is measured once on every combination of
    levels of its own fields (one partition each), and the combinations of all fields are then
    searched from those figures without touching the data again.

    Parameters
    ----------
    cohort : pandas.DataFrame
        A synthetic cohort (every field present).
    target_k : int
    max_suppressed : float in [0, 1), default 0.01
        Share of records that may remain below ``target_k`` (they would be suppressed).
    scenarios : optional
        See :func:`load_scenarios`.

    Returns
    -------
    CoarseningResult
    """
    from .._validation import check_fraction, check_int

    func = "smallest_coarsening"
    n = len(cohort)
    target_k = check_int(target_k, "target_k", func, minimum=1)
    if target_k > n:
        raise InvalidParameterError(
            f"The 'target_k' parameter of {func} ({target_k:,}) is above the number of records "
            f"({n:,}): no coarsening makes a class larger than the whole table."
        )
    max_suppressed = check_fraction(max_suppressed, "max_suppressed", func)
    scenarios = [s for s in load_scenarios(scenarios) if s.applies_to(cohort.columns)]
    lengths = {f: ladder_length(f) for s in scenarios for f in s.fields}
    figures: dict = {}
    for s in scenarios:
        for levels in itertools.product(*[range(lengths[f] + 1) for f in s.fields]):
            coarse = coarsen(cohort, dict(zip(s.fields, levels)), columns=s.fields)
            part = encode(coarse, list(s.fields)).partition(s.fields, "category")
            hist = part.size_histogram
            figures[(s.name, levels)] = (hist.k, int(hist.records_below([target_k])[0]))
    fields = sorted(lengths)
    budget = max_suppressed * n
    best = None
    for levels in sorted(itertools.product(*[range(lengths[f] + 1) for f in fields]), key=lambda v: (sum(v), v)):
        chosen = dict(zip(fields, levels))
        if all(figures[(s.name, tuple(chosen[f] for f in s.fields))][1] <= budget for s in scenarios):
            best = chosen
            break
    if best is None:  # pragma: no cover - withholding every field gives k = n >= target_k
        raise InvalidParameterError(f"No coarsening brings every scenario to k = {target_k}.")
    rows = []
    for s in scenarios:
        k, low = figures[(s.name, tuple(best[f] for f in s.fields))]
        rows.append({"scenario": s.name, "k_after": k, "below_target": low, "below_target_share": low / n})
    named = {f: level_name(f, lvl) for f, lvl in best.items() if lvl}
    return CoarseningResult(target_k, float(max_suppressed), named, int(sum(best.values())), pd.DataFrame(rows))
