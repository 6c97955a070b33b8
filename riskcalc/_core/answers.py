"""The engine's answers that are more than a histogram (see :mod:`riskcalc._core.backend`).

Plain dataclasses shared by the interface and every backend (kept apart from the interface so
that the backends import them without importing the dispatcher that imports the backends).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import InvalidParameterError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .histogram import SizeHistogram

__all__ = [
    "SizePairs",
    "AttributeFigures",
    "ClosenessFigures",
    "RecordSizes",
    "TrajectoryHistograms",
    "ColumnValues",
    "population_too_small",
]


@dataclass(frozen=True, eq=False)
class SizePairs:
    """The classes of a sample joined to the population's: ``counts[i]`` classes have
    ``sample[i]`` records in the sample and ``population[i]`` in the population (float64).

    Only classes present in the sample are listed. The in-memory backend answers one row per
    class (``counts`` all 1, classes in the partition's order); Spark one row per distinct pair.
    ``population`` is 0 for a sample class absent from the population (the measure names
    it); ``n_population`` is the population's number of records (``None`` without one, when
    ``population`` repeats ``sample``).
    """

    sample: np.ndarray
    population: np.ndarray
    counts: np.ndarray
    n_population: int | None


@dataclass(frozen=True, eq=False)
class AttributeFigures:
    """What the attribute measures report of one sensitive field over the classes of the
    quasi-identifiers (the class x value table, summarised where the data are).

    Always present: ``n_records``, ``n_classes``, ``n_values`` (distinct values in the table,
    missing counting as one), ``min_distinct`` (fewest distinct values in a class),
    ``records_homogeneous`` (records in classes with one value), ``records_homogeneous_nonunique``
    (those in classes of two or more), ``classes_homogeneous``.

    Present when asked (else ``None``): ``records_homogeneous_minority`` (``minority=True``:
    homogeneous records whose value is not the field's most common), ``min_entropy_l``
    (``entropy=True``), ``min_recursive_l`` (``c`` given).

    Arrays, present only when the records are in memory (``None`` where they stay remote):
    ``distinct_per_class``, ``entropy_l_per_class`` (``entropy=True``),
    ``recursive_l_per_class`` (``c`` given), ``class_id`` (each record's class, input order),
    ``index`` (the records' labels).
    """

    name: str
    n_records: int
    n_classes: int
    n_values: int
    min_distinct: int
    records_homogeneous: int
    records_homogeneous_nonunique: int
    classes_homogeneous: int
    records_homogeneous_minority: int | None = None
    min_entropy_l: float | None = None
    min_recursive_l: int | None = None
    distinct_per_class: np.ndarray | None = None
    entropy_l_per_class: np.ndarray | None = None
    recursive_l_per_class: np.ndarray | None = None
    class_id: np.ndarray | None = None
    index: pd.Index | None = None


@dataclass(frozen=True, eq=False)
class ClosenessFigures:
    """t-closeness figures of one sensitive field: ``t`` (largest distance of a class's
    distribution to the table's), ``records_at_t``, ``n_values`` (values present), ``ordered``
    (the distance used, resolved from the column's type when not given). ``emd_per_class``,
    ``class_sizes``, ``class_id`` and ``index`` are present in memory, ``None`` when remote."""

    n_records: int
    n_classes: int
    n_values: int
    ordered: bool
    t: float
    records_at_t: int
    emd_per_class: np.ndarray | None = None
    class_sizes: np.ndarray | None = None
    class_id: np.ndarray | None = None
    index: pd.Index | None = None


@dataclass(frozen=True, eq=False)
class RecordSizes:
    """Per-record class sizes where the data are.

    In memory: ``fk`` (class size or wildcard match count, input row order), ``Fk`` (sum of the
    weights of the record's class, with weights), ``class_id``, ``n_records``, ``n_classes``,
    ``index`` and ``total_weight``; ``frame`` is ``None``. Where the records stay remote:
    ``frame`` is the user's table with the sizes added as columns (``fk``, and ``weighted_fk``
    with weights), and every array and count is ``None``.
    """

    columns: tuple[str, ...]
    missing: str
    n_records: int | None = None
    n_classes: int | None = None
    fk: np.ndarray | None = None
    Fk: np.ndarray | None = None
    class_id: np.ndarray | None = None
    index: pd.Index | None = None
    total_weight: float | None = None
    frame: Any = None


@dataclass(frozen=True, eq=False)
class TrajectoryHistograms:
    """One histogram per number of censuses linked (``histograms[j]`` links ``j + 1``), and the
    censuses' labels (``"2022 autumn"``...) in time order."""

    times: tuple[str, ...]
    histograms: tuple[SizeHistogram, ...]


def population_too_small(n_population: int, n: int, func: str) -> InvalidParameterError:
    """The error of :meth:`~riskcalc._core.backend.Backend.size_pairs` when the population
    holds fewer records than the table it should contain."""
    return InvalidParameterError(
        f"The 'population' parameter of {func} has {n_population:,} records, fewer than "
        f"the extract's {n:,}: a population must contain the extract."
    )


@dataclass(frozen=True, eq=False)
class ColumnValues:
    """A column's distinct values, as the profile reads them: ``dtype`` (the column's type as the
    backend knows it), ``n_records``, ``n_distinct`` and ``n_missing``; ``counts`` (records per
    distinct non-missing value) and ``text`` (those values, as an Arrow string array) when the
    column is text and its distinct values may come here (else ``text`` is ``None``, and
    ``counts`` holds the counts without their values, or, where the values are too many to bring
    here, only the smallest count: enough for the profile's smallest class); ``levels`` (each
    value's code in the encoded column) in memory only."""

    name: str
    dtype: Any
    n_records: int
    n_distinct: int
    n_missing: int
    counts: np.ndarray
    text: Any = None
    levels: np.ndarray | None = None
