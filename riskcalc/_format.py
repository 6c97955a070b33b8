"""Small formatting helpers shared by result reprs and the CLI: counts first, then shares."""

from __future__ import annotations

import math
import re


def count(n) -> str:
    """An integer count with thousands separators (``1,234``)."""
    return f"{int(n):,}"


def pct(share, digits: int = 2) -> str:
    """A share in [0, 1] as a percentage string (``12.34%``); ``nan`` stays ``nan``."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "nan"
    return f"{100 * float(share):.{digits}f}%"


def count_pct(n, total) -> str:
    """``N (p%)``, as sdcMicro prints k-anonymity violations."""
    share = n / total if total else float("nan")
    return f"{count(n)} ({pct(share)})"


def qi_list(names) -> str:
    return ", ".join(names)


#: Names of parameters and provenance items that hold counts (``n_pupils``, ``panel_rows``,
#: ``bytes``): only these get thousands separators. A year (``first_year``), a seed, a tier or a
#: threshold is a label or a setting, and is written as it is.
_COUNT_NAME = re.compile(r"^n_|(^|_)(pupils|rows|records|bytes|cells|classes|count|size|targets)$")


def is_count_name(name) -> bool:
    """Whether a parameter or provenance item called ``name`` holds a count.

    Examples
    --------
    >>> [is_count_name(k) for k in ("n_pupils", "panel_rows", "first_year", "seed", "population_size")]
    [True, True, False, False, True]
    """
    return bool(_COUNT_NAME.search(str(name)))


def setting(value, name: str = "") -> str:
    """A parameter or provenance value for people: counts (by :func:`is_count_name`) with
    thousands separators, other integers (years, seeds, tiers) as they are, booleans as
    yes / no, sequences joined by commas, mappings as ``key: value`` pairs.

    Examples
    --------
    >>> setting({"first_year": 2019, "panel_rows": 247278, "seed": 12345, "years": [2019, 2020]})
    'first_year: 2019; panel_rows: 247,278; seed: 12345; years: 2019, 2020'
    """
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if is_count_name(name) else str(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(setting(x, name) for x in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {setting(x, k)}" for k, x in value.items()) or "none"
    return str(value)
