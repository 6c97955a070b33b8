"""Whether a population estimate can be quoted as a number: its interval must lie within
``TRUST_SHARE`` of it on each side (or ``TRUST_COUNT`` records); if not, one sentence for the
reader says to quote the interval (``trusted`` and ``caution`` of
:class:`riskcalc.PopulationUniquenessResult`).
"""

from __future__ import annotations

import math

from ._population_results import _LABEL

#: (or within ``TRUST_COUNT`` records, whichever is larger).
TRUST_SHARE = 0.25
TRUST_COUNT = 50


def _trust(count: float, interval, used: str, census: bool, fits: dict) -> tuple[bool, str]:
    """Whether the estimate can be quoted as a number, and if not, one sentence why."""
    lo, hi = interval
    if census:
        return True, ""
    if not math.isfinite(count):
        return False, "The requested estimator failed; quote the interval only."
    if not fits["forest"].converged:
        return False, (
            "No model of the cells could be fitted here, so the interval is only the logical "
            f"bound [0, {hi:,.0f}]; the estimate is a histogram estimator's and may be far off."
        )
    tol = max(TRUST_SHARE * count, TRUST_COUNT)
    if not lo <= count <= hi:
        return False, (
            f"{_LABEL.get(used, used)}'s estimate lies outside the interval the extract supports "
            f"({lo:,.0f} to {hi:,.0f}); quote the interval."
        )
    if hi - count > tol or count - lo > tol:
        return False, (
            f"The extract cannot pin this down: the population uniques lie between {lo:,.0f} and "
            f"{hi:,.0f} (at the stated confidence), wider than 25% of the estimate; quote the "
            "interval, not the estimate."
        )
    return True, ""
