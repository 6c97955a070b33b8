"""The class x value table: how the records of each equivalence class spread over the values
of a sensitive field. Every attribute-disclosure measure reads it (l-diversity, t-closeness,
beta-likeness, delta-disclosure, "revealed by a homogeneous class").

Only the non-empty cells are kept, sorted by (class, value). They come from one ``bincount`` of
``class * n_values + value`` when that key space is small (the rule of
:func:`riskcalc._core.grouping.small_key_space`), otherwise from one sort of the same keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .grouping import small_key_space
from .kernels import class_values, compiled, homogeneous_tally
from .threads import map_threads

__all__ = [
    "ClassValueTable",
    "class_value_table",
    "homogeneous_counts",
    "HomogeneousCounts",
    "per_class_sum",
    "entropy_l",
    "recursive_l",
    "emd_equal",
    "emd_ordered",
    "is_orderable_by_default",
    "value_order",
    "value_ranks",
]


@dataclass(frozen=True, eq=False)
class ClassValueTable:
    """The non-empty cells of the class x value table, sorted by (class, value).

    ``cls``, ``value`` and ``count`` have one entry per non-empty cell. ``starts[c]`` is the
    position of class ``c``'s first cell (every class has at least one). ``value_counts`` holds
    the table-wide count of each value code.
    """

    cls: np.ndarray
    value: np.ndarray
    count: np.ndarray
    starts: np.ndarray
    class_sizes: np.ndarray
    value_counts: np.ndarray
    n_records: int

    @property
    def n_classes(self) -> int:
        return int(self.class_sizes.shape[0])

    @property
    def distinct(self) -> np.ndarray:
        """Distinct values per class."""
        return np.diff(np.append(self.starts, self.cls.shape[0])).astype(np.int64)

    @property
    def q(self) -> np.ndarray:
        """Share of each cell's value within its class."""
        return self.count / self.class_sizes[self.cls]

    @property
    def p(self) -> np.ndarray:
        """Table-wide share of each cell's value."""
        return self.value_counts[self.value] / self.n_records


def class_value_table(
    labels: np.ndarray, class_sizes: np.ndarray, values: np.ndarray, n_values: int
) -> ClassValueTable:
    """Build the table from one class label (``0 <= label < len(class_sizes)``) and one value
    code (``0 <= v < n_values``) per record."""
    n = int(labels.shape[0])
    n_classes = int(class_sizes.shape[0])
    n_values = max(int(n_values), 1)
    key = labels.astype(np.int64)
    key *= n_values
    key += values
    space = n_classes * n_values
    if small_key_space(space, n):
        tally = np.bincount(key, minlength=space)
        cells = np.flatnonzero(tally)
        count = tally[cells]
    else:
        # Most cells hold one or two records here, so sorting the keys (in 32 bits when they
        # fit, which halves the cost) beats a hash count followed by sorting its uniques.
        ordered = np.sort(key.astype(np.uint32) if space <= (1 << 32) else key)
        first = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
        cells = ordered[first].astype(np.int64)
        count = np.diff(np.append(first, n))
    cls, value = np.divmod(cells, n_values)
    starts = np.flatnonzero(np.concatenate([[True], cls[1:] != cls[:-1]])) if cls.size else cls
    value_counts = np.bincount(values, minlength=n_values)
    return ClassValueTable(
        cls,
        value,
        count.astype(np.int64),
        starts,
        np.asarray(class_sizes, dtype=np.int64),
        value_counts.astype(np.int64),
        n,
    )


@dataclass(frozen=True)
class HomogeneousCounts:
    """Records whose class holds a single value of a field (the value is revealed by a match).

    ``records_revealed`` includes the sample uniques (a unique record reveals every field);
    ``records_revealed_nonunique`` counts those in classes of two or more;
    ``records_revealed_minority`` those whose revealed value is not the field's most common;
    ``classes_homogeneous`` the classes with one value; ``min_distinct`` the smallest number of
    distinct values in a class (distinct l-diversity); ``n_values`` the values present.
    """

    records_revealed: int
    records_revealed_nonunique: int
    records_revealed_minority: int
    classes_homogeneous: int
    min_distinct: int
    n_values: int


def homogeneous_counts(
    labels: np.ndarray, n_labels: int, columns, sizes: np.ndarray | None = None
) -> list[HomogeneousCounts]:
    """:class:`HomogeneousCounts` of each value column over one class labelling.

    ``columns`` is a sequence of encoded columns (:class:`~riskcalc._core.encoding.EncodedColumn`:
    ``codes``, ``n_levels`` and their cached ``value_counts``). A class is homogeneous exactly
    when no record of it differs from its first record's value (:func:`riskcalc._core.kernels.
    class_values`: one pass over the records, compiled, or a scatter, a gather and a
    ``bincount`` in numpy), and one pass over the classes tallies them
    (:func:`~riskcalc._core.kernels.homogeneous_tally`); singleton classes are homogeneous by
    definition. Only when no class is homogeneous does the smallest number of distinct values
    need the class x value cells. ``sizes`` (records per label) may be passed when known.
    """
    if sizes is None:
        sizes = np.bincount(labels, minlength=n_labels).astype(np.int64)
    columns = list(columns)

    def one(column) -> HomogeneousCounts:
        codes, n_levels = column.codes, max(int(column.n_levels), 1)
        value_counts = column.value_counts
        modal = int(value_counts.argmax())
        n_values = int(np.count_nonzero(value_counts))
        values = class_values(labels, n_labels, codes)
        records, nonunique, minority, classes = homogeneous_tally(values, sizes, modal)
        if classes or not n_labels:
            min_distinct = int(classes > 0)
        else:  # no homogeneous class: the smallest number of distinct values needs the cells
            min_distinct = int(class_value_table(labels, sizes, codes, n_levels).distinct.min())
        return HomogeneousCounts(records, nonunique, minority, classes, min_distinct, n_values)

    workers = min(len(columns), os.cpu_count() or 1)
    if workers < 2 or compiled(labels.shape[0]) is None:
        return [one(c) for c in columns]
    # The compiled passes release the GIL: one field per core (a field's scratch is freed as
    # soon as its counts are taken, so at most one per thread is alive).
    return map_threads(one, columns, workers, name="riskcalc-homogeneous")


# --------------------------------------------------------------------------------------------
# Per-class figures of the attribute measures, read off the cells (the in-memory backend's
# answers to riskcalc._core.backend.Backend.attribute_figures / closeness_figures)
# --------------------------------------------------------------------------------------------


def per_class_sum(cells: ClassValueTable, x: np.ndarray) -> np.ndarray:
    """The sum of ``x`` (one number per cell) over each class's cells."""
    return np.bincount(cells.cls, weights=x, minlength=cells.n_classes)


def entropy_l(cells: ClassValueTable) -> np.ndarray:
    r"""Per class, :math:`\exp(H)` with :math:`H = -\sum_v q_v \ln q_v` (exactly 1 when the
    class holds one value)."""
    sizes = cells.class_sizes.astype(np.float64)
    clogc = cells.count * np.log(cells.count)
    entropy = np.log(sizes) - per_class_sum(cells, clogc) / sizes
    out = np.exp(np.maximum(entropy, 0.0))
    out[cells.distinct == 1] = 1.0  # exact, whatever the rounding
    return out


def recursive_l(cells: ClassValueTable, c: float) -> np.ndarray:
    """Per class, the largest l with ``r_1 < c (r_l + ... + r_m)`` (0 if none)."""
    order = np.lexsort((-cells.count, cells.cls))
    r = cells.count[order]  # counts, descending within each class (classes in order)
    cls = cells.cls[order]
    starts = cells.starts
    before = np.cumsum(r) - r  # records in earlier cells (all classes)
    tail = cells.class_sizes[cls] - (before - before[starts][cls])  # r_l + ... + r_m
    r1 = r[starts][cls]
    ok = r1 < c * tail  # true on a prefix of each class's ranks, since the tail shrinks
    return np.bincount(cls, weights=ok, minlength=cells.n_classes).astype(np.int64)


def emd_equal(cells: ClassValueTable) -> np.ndarray:
    r"""Per class, the equal-distance EMD :math:`\frac12\sum_v |q_v - p_v|` (values absent
    from a class contribute :math:`p_v`: the sum over all is ``sum_present(|q - p| - p) + 1``)."""
    q, p = cells.q, cells.p
    return 0.5 * (per_class_sum(cells, np.abs(q - p) - p) + 1.0)


def emd_ordered(cells: ClassValueTable, n_values: int) -> np.ndarray:
    r"""Per class, :math:`\frac{1}{m-1}\sum_{i=1}^{m} |\sum_{j \le i} (q_j - p_j)|`.

    Values are ranks ``0..m-1`` with a positive table count. The class's cumulative share
    ``Q`` is a step function changing only at the class's own values, and the table's
    cumulative share ``P`` is increasing, so on each step ``[a, b)`` the sum of ``|Q - P(i)|``
    splits at ``searchsorted(P, Q)`` and is read off prefix sums of ``P``.
    """
    m = n_values
    if m <= 1:
        return np.zeros(cells.n_classes)
    P = np.cumsum(cells.value_counts[:m]) / cells.n_records  # P[i] = share of ranks <= i
    SP = np.concatenate([[0.0], np.cumsum(P)])  # SP[t] = sum of P[i] for i < t
    cum = np.cumsum(cells.count)
    within = cum - (cum[cells.starts] - cells.count[cells.starts])[cells.cls]
    Q = within / cells.class_sizes[cells.cls]
    a = cells.value
    last = np.append(cells.starts[1:] - 1, cells.cls.shape[0] - 1)
    b = np.append(a[1:], m)
    b[last] = m
    t = np.clip(np.searchsorted(P, Q, side="right"), a, b)
    seg = Q * (t - a) - (SP[t] - SP[a]) + (SP[b] - SP[t]) - Q * (b - t)
    first = SP[a[cells.starts]]  # ranks below the class's smallest value, where Q = 0
    return (per_class_sum(cells, seg) + first) / (m - 1)


def is_orderable_by_default(col) -> bool:
    """Numbers (not booleans), dates and times are ordered by default; text is nominal."""
    import pandas as pd
    import pyarrow as pa

    from .._compat import numeric_view

    cats = col.categories
    if cats is None:
        return False
    if isinstance(cats, (pa.Array, pa.ChunkedArray)):
        t = cats.type
        return (
            pa.types.is_integer(t)
            or pa.types.is_floating(t)
            or pa.types.is_decimal(t)
            or pa.types.is_temporal(t)
        )
    try:
        dtype = pd.Index(cats).dtype
    except (TypeError, ValueError):  # pragma: no cover
        return False
    if pd.api.types.is_bool_dtype(dtype):
        return False
    return bool(
        pd.api.types.is_numeric_dtype(numeric_view(dtype))
        or pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
    )


def value_order(col, func: str) -> np.ndarray:
    """Codes of the non-missing values of an encoded column, in increasing order of value.

    pandas categoricals keep their category order (so an ordered categorical's order is used);
    other columns are sorted by value.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    from ..exceptions import InvalidParameterError

    n = col.n_distinct
    cats = col.categories
    if cats is None or n == 0:
        return np.arange(n, dtype=np.int64)
    if str(col.dtype).startswith("category"):
        return np.arange(n, dtype=np.int64)
    try:
        if isinstance(cats, (pa.Array, pa.ChunkedArray)):
            order = np.asarray(pc.array_sort_indices(cats), dtype=np.int64)
        else:
            order = np.asarray(pd.Index(cats).argsort(), dtype=np.int64)
    except (TypeError, ValueError, pa.ArrowException):
        raise InvalidParameterError(
            f"The 'ordered' parameter of {func} is True, but the values of column {col.name!r} "
            "cannot be sorted (mixed types?). Use ordered=False, or convert the column to an "
            "ordered pandas Categorical."
        ) from None
    return order[:n]


def value_ranks(col, func: str) -> tuple[np.ndarray, int]:
    """``(rank per record, m)``: the values present ranked ``0..m-1`` in increasing order,
    missing last (:func:`value_order`)."""
    counts = np.bincount(col.codes, minlength=col.n_levels)
    order = value_order(col, func)
    if col.n_missing:
        order = np.append(order, col.missing_code)
    order = order[counts[order] > 0]
    rank = np.zeros(col.n_levels, dtype=np.int64)
    rank[order] = np.arange(order.shape[0], dtype=np.int64)
    return rank[col.codes], int(order.shape[0])
