"""The in-memory backend: records encoded into integer codes, counted by the kernels.

Answers :class:`riskcalc._core.backend.Backend` for an :class:`~riskcalc.EncodedTable`, a
pandas DataFrame, a pyarrow Table or a path to a data file (read by :func:`encode`, only the
asked-for columns). Each question encodes the columns it needs (an :class:`EncodedTable` is used
as it is, with its cached partitions) and reads the partition (:class:`Partition`), the
class x value table (:mod:`riskcalc._core.crosstab`) or the lattice walk
(:mod:`riskcalc._core.lattice`); per-record and per-class arrays are always present.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import ClassVar

import numpy as np

from .._validation import check_column_names, check_counts, check_weights
from ..exceptions import InvalidParameterError
from .answers import (
    AttributeFigures,
    ClosenessFigures,
    ColumnValues,
    RecordSizes,
    SizePairs,
    TrajectoryHistograms,
    population_too_small,
)
from .encoding import EncodedTable, _column_names, _label, encode
from .histogram import SizeHistogram, weighted_below
from .partition import Partition, check_no_missing

__all__ = ["MemoryBackend", "resolve_weights", "record_frequencies"]


def resolve_weights(
    enc: EncodedTable, weights, func: str, name: str = "weights"
) -> np.ndarray | None:
    """Per-record numbers (weights, counts) as float64, from a kept column name or an array."""
    if weights is None:
        return None
    if isinstance(weights, str):
        if weights not in enc.weight_columns:
            raise InvalidParameterError(
                f"The {name!r} parameter of {func} names {weights!r}, which was not kept when the "
                f"table was encoded. Use encode(..., weights={weights!r})."
            )
        return enc.weights(weights)
    return check_weights(weights, enc.n_records, func, name)


def record_frequencies(
    enc: EncodedTable, part: Partition, missing: str, weights, alpha: float = 1.0
):
    """Per-record ``(fk, Fk or None)``: class sizes, or wildcard match counts (float64)."""
    if missing != "wildcard" or not any(enc[c].n_missing for c in part.columns):
        # Without missing values wildcard matching is plain equality.
        Fk = part.weighted_fk(weights) if weights is not None else None
        return part.fk, Fk
    from .wildcard import wildcard_counts

    return wildcard_counts([enc[c] for c in part.columns], weights, alpha)


class MemoryBackend:
    """:class:`~riskcalc._core.backend.Backend` over records held (or read) in memory."""

    is_backend: ClassVar[bool] = True
    kind = "memory"
    holds_records = True

    def __init__(self, data, *, sep=None):
        self.data = data
        self.sep = sep
        self.label = "the table" if isinstance(data, EncodedTable) else _label(data)

    # -- identity ------------------------------------------------------------------------------

    @cached_property
    def columns(self) -> tuple[str, ...]:
        if isinstance(self.data, EncodedTable):
            return tuple(self.data.columns)
        return tuple(_column_names(self.data, self.sep))

    def names(self, requested, *, func: str, name: str = "quasi_identifiers") -> tuple[str, ...]:
        if isinstance(self.data, EncodedTable):
            return check_column_names(requested, self.data.columns, name=name, func=func)
        return check_column_names(requested, self.columns, name=name, func=func, table=self.label)

    def refuse(self, what: str, func: str | None) -> Exception:
        where = f" of {func}" if func else ""
        return InvalidParameterError(f"{what}{where} cannot run on {self.label}.")

    # -- the records ---------------------------------------------------------------------------

    def encoded(
        self, columns: Sequence[str], *, func: str, weights=None, name: str = "quasi_identifiers"
    ) -> EncodedTable:
        data = self.data
        if isinstance(data, EncodedTable):
            check_column_names(columns, data.columns, name=name, func=func)
            return data
        names = check_column_names(columns, self.columns, name=name, func=func, table=self.label)
        keep = weights if isinstance(weights, str) else None
        if keep is not None:
            check_column_names([keep], self.columns, name="weights", func=func, table=self.label)
        return encode(data, names, weights=keep, sep=self.sep)

    def _partition(
        self, columns, missing: str, func: str, weights=None
    ) -> tuple[EncodedTable, Partition]:
        enc = self.encoded(columns, func=func, weights=weights)
        return enc, enc.partition(tuple(columns), missing)

    # -- counts --------------------------------------------------------------------------------

    def missing_counts(self, columns: Sequence[str]) -> np.ndarray:
        enc = self.encoded(columns, func="missing_counts", name="columns")
        return np.array([enc[c].n_missing for c in columns], dtype=np.int64)

    def size_histogram(self, columns, *, missing: str, func: str) -> SizeHistogram:
        if isinstance(self.data, EncodedTable):  # the user's table keeps its partitions for reuse
            return self._partition(columns, missing, func)[1].size_histogram
        # Raw data encoded for this question alone: count the classes without a key and a class
        # number per record (memory: the codes plus a bounded budget; grouping.class_sizes_bounded)
        from .grouping import class_sizes_bounded

        enc = self.encoded(columns, func=func)
        cols = [enc[c] for c in columns]
        if missing == "raise":
            check_no_missing(enc, cols)
        return SizeHistogram.from_class_sizes(
            class_sizes_bounded([c.codes for c in cols], [c.n_levels for c in cols])
        )

    def lattice_histograms(
        self, columns, max_size: int, *, missing: str, func: str
    ) -> Iterator[tuple[tuple[int, ...], SizeHistogram]]:
        from .lattice import walk

        enc = self.encoded(columns, func=func, name="fields")
        cols = [enc[c] for c in columns]
        if missing == "raise":
            check_no_missing(enc, cols)
        # most levels first: the walk refines the finest partitions earliest
        order = sorted(range(len(cols)), key=lambda j: -cols[j].n_levels)
        for res in walk(
            [cols[j].codes for j in order],
            [cols[j].n_levels for j in order],
            max_size,
            histograms=True,
        ):
            yield tuple(sorted(order[j] for j in res.subset)), res.histogram()

    def weighted_below(
        self, columns, weights, thresholds, *, missing: str, func: str
    ) -> tuple[SizeHistogram, np.ndarray]:
        enc, part = self._partition(columns, missing, func, weights)
        w = resolve_weights(enc, weights, func)
        return part.size_histogram, weighted_below(part.weighted_fk(w), thresholds)

    def summed_histogram(self, columns, count, *, missing: str, func: str) -> SizeHistogram:
        enc = self.encoded(columns, func=func, weights=count, name="columns")
        part = enc.partition(tuple(columns), missing)
        what = (
            f"The count column {count!r}"
            if isinstance(count, str)
            else f"The 'count' parameter of {func}"
        )
        counts = check_counts(resolve_weights(enc, count, func, name="count"), enc.n_records, what)
        labels, n_labels = part.labels()
        return SizeHistogram.from_class_sizes(
            np.bincount(labels, weights=counts, minlength=n_labels)
        )

    def size_pairs(self, columns, population=None, *, missing: str, func: str) -> SizePairs:
        enc, part = self._partition(columns, missing, func)
        f = part.class_sizes.astype(np.float64)
        ones = np.ones(f.shape[0])
        if population is None:
            return SizePairs(f, f, ones, None)
        F, n_population = _population_sizes(
            enc, part, population, tuple(columns), missing, self.sep, func
        )
        return SizePairs(f, F, ones, n_population)

    def record_sizes(
        self, columns, *, missing: str, func: str, weights=None, alpha: float = 1.0
    ) -> RecordSizes:
        enc, part = self._partition(
            columns, "category" if missing == "wildcard" else missing, func, weights
        )
        w = resolve_weights(enc, weights, func)
        fk, Fk = record_frequencies(enc, part, missing, w, alpha)
        return RecordSizes(
            part.columns,
            missing,
            part.n_records,
            part.n_classes,
            fk,
            Fk,
            part.class_id,
            enc.index,
            None if w is None else float(w.sum()),
        )

    def column_values(self, columns, *, func: str) -> list[ColumnValues]:
        from .values import encoded_column_values

        enc = self.encoded(columns, func=func, name="columns")
        return [encoded_column_values(enc, c) for c in columns]

    def replace_values(self, column: str, before, after, *, func: str):
        raise self.refuse(
            "Rewriting values in place (in memory, normalise returns a new table)", func
        )

    # -- the class x value table ---------------------------------------------------------------

    def _attribute_table(self, qi, sensitive, missing, func):
        enc = self.encoded(tuple(qi) + tuple(sensitive), func=func)
        part = enc.partition(tuple(qi), missing)
        cols = [enc[s] for s in sensitive]
        if missing == "raise":
            check_no_missing(enc, cols)
        return enc, part, cols

    def attribute_figures(
        self,
        quasi_identifiers,
        sensitive,
        *,
        missing: str,
        func: str,
        minority: bool = False,
        entropy: bool = False,
        c: float | None = None,
    ) -> list[AttributeFigures]:
        from .crosstab import class_value_table, entropy_l, homogeneous_counts, recursive_l

        enc, part, cols = self._attribute_table(quasi_identifiers, sensitive, missing, func)
        n, k = part.n_records, part.n_classes
        out = []
        if not (entropy or c is not None):  # homogeneity alone: one pass per field, no cells
            counts = homogeneous_counts(*part.labels(), cols, sizes=part.class_sizes)
            for col, h in zip(cols, counts, strict=True):
                out.append(
                    AttributeFigures(
                        col.name,
                        n,
                        k,
                        h.n_values,
                        h.min_distinct,
                        h.records_revealed,
                        h.records_revealed_nonunique,
                        h.classes_homogeneous,
                        h.records_revealed_minority if minority else None,
                        class_id=part.class_id,
                        index=enc.index,
                    )
                )
            return out
        for col in cols:
            cells = class_value_table(part.class_id, part.class_sizes, col.codes, col.n_levels)
            distinct = cells.distinct
            homogeneous = distinct == 1
            sizes = cells.class_sizes
            ent = entropy_l(cells) if entropy else None
            rec = recursive_l(cells, c) if c is not None else None
            minor = None
            if minority:
                minor = homogeneous_counts(*part.labels(), [col], sizes=sizes)[
                    0
                ].records_revealed_minority
            out.append(
                AttributeFigures(
                    col.name,
                    n,
                    k,
                    int(np.count_nonzero(cells.value_counts)),
                    int(distinct.min()),
                    int(sizes[homogeneous].sum()),
                    int(sizes[homogeneous & (sizes >= 2)].sum()),
                    int(np.count_nonzero(homogeneous)),
                    minor,
                    None if ent is None else float(ent.min()),
                    None if rec is None else int(rec.min()),
                    distinct,
                    ent,
                    rec,
                    part.class_id,
                    enc.index,
                )
            )
        return out

    def closeness_figures(
        self, quasi_identifiers, sensitive: str, *, ordered: bool | None, missing: str, func: str
    ) -> ClosenessFigures:
        from .crosstab import (
            class_value_table,
            emd_equal,
            emd_ordered,
            is_orderable_by_default,
            value_ranks,
        )

        enc, part, (col,) = self._attribute_table(quasi_identifiers, (sensitive,), missing, func)
        if ordered is None:
            ordered = is_orderable_by_default(col)
        if ordered:
            ranks, m = value_ranks(col, func)
            cells = class_value_table(part.class_id, part.class_sizes, ranks, m)
            emd = emd_ordered(cells, m)
        else:
            cells = class_value_table(part.class_id, part.class_sizes, col.codes, col.n_levels)
            m = int(np.count_nonzero(cells.value_counts))
            emd = emd_equal(cells)
        emd = np.clip(emd, 0.0, 1.0)
        t = float(emd.max())
        at_t = np.isclose(emd, t, rtol=1e-9, atol=1e-12)
        return ClosenessFigures(
            part.n_records,
            part.n_classes,
            m,
            bool(ordered),
            t,
            int(cells.class_sizes[at_t].sum()),
            emd,
            cells.class_sizes,
            part.class_id,
            enc.index,
        )

    # -- panels --------------------------------------------------------------------------------

    def trajectory_histograms(
        self, point: str, *, static, id: str, order: str, max_linked: int | None, func: str
    ) -> TrajectoryHistograms:
        from .._validation import check_int
        from .grouping import group_codes
        from .panel import trajectories

        tr = trajectories(self.data, point, static=static, id=id, func=func)
        m = len(tr.times)
        top = (
            m
            if max_linked is None
            else check_int(max_linked, "max_linked", func, minimum=1, maximum=m)
        )
        hists = []
        for k in range(1, top + 1):
            cols = list(range(k)) if order == "forward" else list(range(m - k, m))
            sub = tr.codes[:, cols]
            keep = (sub >= 0).any(axis=1)
            columns = [tr.static[keep, j] for j in range(tr.static.shape[1])] + [
                sub[keep, j] for j in range(k)
            ]
            if not keep.any():
                hists.append(SizeHistogram.from_class_sizes(np.zeros(0, np.int64)))
                continue
            shifted = [c - int(c.min()) for c in columns]  # absent (-1) is a value of its own
            _, sizes = group_codes(shifted, [int(c.max()) + 1 for c in shifted])
            hists.append(SizeHistogram.from_class_sizes(sizes))
        return TrajectoryHistograms(tuple(tr.times), tuple(hists))


# --------------------------------------------------------------------------------------------
# The population's class sizes (attacker models): the extract and the population encoded jointly
# --------------------------------------------------------------------------------------------


def _population_sizes(enc: EncodedTable, part, population, names, missing, sep, func):
    """Size in the population of each of the extract's classes, in the partition's class order
    (0 for a class the population lacks), and the population's number of records."""
    sample = _as_arrow(enc, names, part, func)
    pop_table = _population_arrow(population, names, sep, func)
    if pop_table.num_rows < part.n_records:
        raise population_too_small(pop_table.num_rows, part.n_records, func)
    combined = _concat(sample, pop_table, names)
    joint = encode(combined, list(names))
    jpart = joint.partition(tuple(names), missing)
    ids = jpart.class_id
    n = part.n_records
    in_population = np.bincount(ids[n:], minlength=jpart.n_classes)
    # Map each extract class to its joint class through any of its records.
    joint_of_class = np.empty(part.n_classes, dtype=np.int64)
    joint_of_class[part.class_id] = ids[:n]
    return in_population[joint_of_class].astype(np.float64), int(pop_table.num_rows)


def _as_arrow(enc: EncodedTable, names, part, func):
    """The extract's quasi-identifier values as Arrow (decoded from its codes)."""
    import pyarrow as pa

    arrays = {}
    for name in names:
        col = enc[name]
        cats = col.categories
        if cats is None:
            raise InvalidParameterError(f"Column {name!r} of the extract has no values to compare.")
        if isinstance(cats, pa.ChunkedArray):
            cats = cats.combine_chunks()
        dictionary = cats if isinstance(cats, pa.Array) else pa.array(cats, from_pandas=True)
        codes = col.codes.astype(np.int32)
        mask = codes == col.missing_code if col.n_missing else None
        indices = pa.array(
            np.where(mask, 0, codes) if mask is not None else codes, mask=mask, type=pa.int32()
        )
        arrays[name] = pa.DictionaryArray.from_arrays(indices, dictionary).cast(dictionary.type)
    return pa.table(arrays)


def _population_arrow(population, names, sep, func):
    import os

    import pandas as pd
    import pyarrow as pa

    from . import frames
    from .io import read_table

    if frames.is_native(population):  # polars, DuckDB, Arrow streams and datasets
        return frames.arrow_table(population, list(names), name="population", func=func)
    if isinstance(population, pd.DataFrame):
        check_column_names(
            list(names), [str(c) for c in population.columns], name="population", func=func
        )
        return pa.Table.from_pandas(population[list(names)], preserve_index=False)
    if isinstance(population, pa.Table):
        check_column_names(list(names), population.column_names, name="population", func=func)
        return population.select(list(names))
    if isinstance(population, (str, os.PathLike)):
        return read_table(population, list(names), sep=sep)
    raise frames.refuse(population, name="population", func=func, accepted=frames.VALUE_TABLES)


def _concat(sample, population, names):
    """Stack extract and population; columns whose types differ are compared as text."""
    import pyarrow as pa

    columns = {}
    for name in names:
        a, b = sample.column(name), population.column(name)
        if pa.types.is_dictionary(a.type):
            a = a.cast(a.type.value_type)
        if pa.types.is_dictionary(b.type):
            b = b.cast(b.type.value_type)
        if a.type != b.type:
            try:
                b = b.cast(a.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                a, b = a.cast(pa.string()), b.cast(pa.string())
        columns[name] = pa.chunked_array(a.chunks + b.chunks, type=a.type)
    return pa.table(columns)
