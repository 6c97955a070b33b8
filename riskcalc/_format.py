"""Small formatting helpers shared by result reprs and the CLI: counts first, then shares."""

from __future__ import annotations

import math


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
