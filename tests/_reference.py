"""Slow, obvious implementations of every measure: the oracle for the vectorised code.

Everything here is plain Python: each record's key is a tuple of its (normalised) values, and
equivalence classes are a ``dict`` from key to count. No numpy or pandas grouping is used; pandas
is only used to read the values out of a frame (``Series.tolist()``).

Normalisation: every missing marker (``None``, float ``NaN``, ``NaT``, ``pd.NA``, Arrow null) is
replaced by one sentinel object, so a missing value equals every other missing value of the same
column and nothing else. Any other value is kept as it is, and Python equality decides: so
``0.0 == -0.0`` are the same value, as are ``1`` and ``1.0`` (the strategies never put both in one
column).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd


class _Missing:
    """The single sentinel standing for every missing value."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def is_missing(value) -> bool:
    """Whether ``value`` is one of the missing markers."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(value))
    # pandas returns NaT as its own singleton; anything else that claims to be NaT:
    return type(value).__name__ in ("NaTType", "NAType")


def normalise(value):
    """``MISSING`` for a missing marker, else the value (numpy scalars made Python scalars)."""
    if is_missing(value):
        return MISSING
    if isinstance(value, np.generic):
        return value.item()
    return value


def column_values(data: pd.DataFrame, column: str) -> list:
    """The normalised values of one column, in row order."""
    return [normalise(v) for v in data[column].tolist()]


def keys(data: pd.DataFrame, columns: Sequence[str]) -> list[tuple]:
    """One key (a tuple of normalised values) per record."""
    cols = [column_values(data, c) for c in columns]
    return [tuple(col[i] for col in cols) for i in range(len(data))]


def has_missing(data: pd.DataFrame, columns: Sequence[str]) -> bool:
    """Whether any of ``columns`` holds a missing value."""
    return any(v is MISSING for c in columns for v in column_values(data, c))


def class_counts(data: pd.DataFrame, columns: Sequence[str]) -> dict[tuple, int]:
    """Key -> number of records with that key."""
    counts: dict[tuple, int] = {}
    for key in keys(data, columns):
        counts[key] = counts.get(key, 0) + 1
    return counts


def fk(data: pd.DataFrame, columns: Sequence[str]) -> list[int]:
    """Sample frequency of each record's key, in row order."""
    counts = class_counts(data, columns)
    return [counts[key] for key in keys(data, columns)]


def Fk(data: pd.DataFrame, columns: Sequence[str], weights: Sequence[float]) -> list[float]:
    """Sum of the weights of the records sharing each record's key, in row order."""
    ks = keys(data, columns)
    per_key: dict[tuple, list[float]] = {}
    for key, w in zip(ks, weights):
        per_key.setdefault(key, []).append(float(w))
    totals = {key: math.fsum(ws) for key, ws in per_key.items()}
    return [totals[key] for key in ks]


def n_classes(data: pd.DataFrame, columns: Sequence[str]) -> int:
    return len(class_counts(data, columns))


def class_size_multiset(data: pd.DataFrame, columns: Sequence[str]) -> list[int]:
    """The class sizes, sorted."""
    return sorted(class_counts(data, columns).values())


def k(data: pd.DataFrame, columns: Sequence[str]) -> int:
    """Size of the smallest class."""
    return min(class_counts(data, columns).values())


def n_unique(data: pd.DataFrame, columns: Sequence[str]) -> int:
    """Records with ``fk == 1``."""
    return sum(1 for f in fk(data, columns) if f == 1)


def n_pairs(data: pd.DataFrame, columns: Sequence[str]) -> int:
    """Records with ``fk == 2``."""
    return sum(1 for f in fk(data, columns) if f == 2)


def records_below(data: pd.DataFrame, columns: Sequence[str], t: int) -> int:
    """Records with ``fk < t``."""
    return sum(1 for f in fk(data, columns) if f < t)


def classes_below(data: pd.DataFrame, columns: Sequence[str], t: int) -> int:
    """Classes with fewer than ``t`` records."""
    return sum(1 for size in class_counts(data, columns).values() if size < t)


def records_below_weighted(
    data: pd.DataFrame, columns: Sequence[str], weights: Sequence[float], t: int
) -> int:
    """Records whose estimated population frequency ``Fk < t``."""
    return sum(1 for F in Fk(data, columns, weights) if t > F)


def average_risk(data: pd.DataFrame, columns: Sequence[str]) -> float:
    """Mean of ``1 / fk`` over records (average prosecutor risk)."""
    f = fk(data, columns)
    return math.fsum(1.0 / x for x in f) / len(f)


def highest_risk(data: pd.DataFrame, columns: Sequence[str]) -> float:
    """``1 / min fk`` (highest prosecutor risk)."""
    return 1.0 / min(fk(data, columns))


def cell_totals(
    data: pd.DataFrame, columns: Sequence[str], count: Sequence[float] | None = None
) -> dict[tuple, int]:
    """Cell -> count. Record-level data (``count=None``): one per record. Aggregate data: the
    counts of the rows of each cell added up; cells whose total is 0 are dropped (empty)."""
    totals: dict[tuple, int] = {}
    ks = keys(data, columns)
    counts = [1] * len(ks) if count is None else [int(c) for c in count]
    for key, c in zip(ks, counts):
        totals[key] = totals.get(key, 0) + c
    return {key: c for key, c in totals.items() if c > 0}


def small_cells(
    data: pd.DataFrame, columns: Sequence[str], t: int, count: Sequence[float] | None = None
) -> tuple[int, int]:
    """``(cells, records)``: non-empty cells with count at most ``t`` and the records in them."""
    totals = cell_totals(data, columns, count)
    small = [c for c in totals.values() if 0 < c <= t]
    return len(small), sum(small)


def n_cells(
    data: pd.DataFrame, columns: Sequence[str], count: Sequence[float] | None = None
) -> int:
    return len(cell_totals(data, columns, count))


def n_people(
    data: pd.DataFrame, columns: Sequence[str], count: Sequence[float] | None = None
) -> int:
    """Records (people) in the frequency table: the sum of its cell counts."""
    return sum(cell_totals(data, columns, count).values())


def histogram(data: pd.DataFrame, columns: Sequence[str]) -> Counter:
    """Histogram ``class size -> number of classes`` (ARX's risk-model histogram)."""
    return Counter(class_counts(data, columns).values())
