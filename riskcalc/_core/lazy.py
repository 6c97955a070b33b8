"""The lazy backend: a polars LazyFrame or a DuckDB relation, measured where it lives; and the
frame backend: any other foreign table, read as Arrow batches of the asked-for columns.

Every sample measure reads the class-size histogram (:class:`~riskcalc.SizeHistogram`). On a
lazy table that is two group-bys run by the table's own engine: ``GROUP BY`` the
quasi-identifiers (one row per class, with its size), then ``GROUP BY`` the size; only the
histogram (one row per distinct class size) comes back. Many subsets of columns (the field
lattice) are one query in DuckDB (``GROUPING SETS``), one plan per subset run together in
polars (``collect_all``). Missing counts, weighted class sizes (the sum of a weight column per
class, ``Fk``) and summed cells (a count column) are pushed down the same way: what comes back
is one row per class at most, never a record.

Value semantics follow the in-memory encoder (:func:`riskcalc._core.encoding.encode`), so the
figures are those of the same data given as a pandas DataFrame:

* a ``NULL`` is a missing value; all the missing values of a column are one value
  (``missing="category"``);
* a floating-point ``NaN`` is missing too (it becomes ``NULL`` before grouping), and ``-0.0``
  is ``0.0``;
* categoricals and enums group by their values; dates, times and timestamps by their values;
* nested columns (lists, structs, maps) are refused with the encoder's
  :class:`~riskcalc.exceptions.UnsupportedTypeError` line.

Whatever needs the records themselves (per-record class sizes, the class x value table, SUDA,
the wildcard rule) is answered by the in-memory backend over :meth:`_Delegating.encoded`: only
the asked-for columns are streamed as Arrow batches (:meth:`riskcalc._core.frames.Source.batches`)
into one encoding per backend (one backend per measure call).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._validation import check_column_names
from ..exceptions import (
    EmptyTableError,
    InvalidParameterError,
    MissingValueError,
    UnsupportedTypeError,
)
from . import frames
from .histogram import SizeHistogram

if TYPE_CHECKING:
    from .encoding import EncodedTable

__all__ = ["LazyBackend", "FrameBackend", "backend", "encode_native"]


def _missing_error(name: str, count: int) -> MissingValueError:
    return MissingValueError(
        f"Column {name!r} has {count} missing value(s) and missing='raise'. Use "
        "missing='category' to treat a missing value as a value of its own."
    )


def _histogram(sizes, counts) -> SizeHistogram:
    sizes = np.asarray(sizes, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    order = np.argsort(sizes, kind="stable")
    keep = sizes[order] > 0
    return SizeHistogram(sizes[order][keep], counts[order][keep])


def _is_float(typ: pa.DataType) -> bool:
    if pa.types.is_dictionary(typ):
        typ = typ.value_type
    return pa.types.is_floating(typ)


# --------------------------------------------------------------------------------------------
# One engine per lazy kind: key expressions, histograms, null counts, class sizes
# --------------------------------------------------------------------------------------------


class _DuckDB:
    """SQL on the relation (``rel.query``): the relation is the virtual table ``__rc_t``."""

    def __init__(self, rel, schema: pa.Schema):
        self.rel, self.schema = rel, schema

    def _key(self, name: str) -> str:
        col = frames.quote_ident(name)
        if _is_float(self.schema.field(name).type):
            return f"CASE WHEN isnan({col}) THEN NULL ELSE {col} + 0.0 END"
        return col

    def _keys(self, names) -> str:
        return ", ".join(f"{self._key(c)} AS __rc_k{i}" for i, c in enumerate(names))

    def _run(self, sql: str) -> pa.Table:
        return self.rel.query("__rc_t", sql).to_arrow_table()

    def histograms(self, subsets) -> list[SizeHistogram]:
        names = list(dict.fromkeys(c for s in subsets for c in s))
        pos = {c: i for i, c in enumerate(names)}
        sets = ", ".join("(" + ", ".join(f"__rc_k{pos[c]}" for c in s) + ")" for s in subsets)
        allk = ", ".join(f"__rc_k{i}" for i in range(len(names)))
        sql = (
            f"SELECT __rc_g, __rc_n, count(*) AS __rc_c FROM ("
            f"SELECT GROUPING({allk}) AS __rc_g, count(*) AS __rc_n FROM "
            f"(SELECT {self._keys(names)} FROM __rc_t) GROUP BY GROUPING SETS ({sets})"
            f") GROUP BY __rc_g, __rc_n"
        )
        out = self._run(sql).to_pydict()
        g = np.asarray(out["__rc_g"], dtype=np.int64)
        n = np.asarray(out["__rc_n"], dtype=np.int64)
        c = np.asarray(out["__rc_c"], dtype=np.int64)
        result = []
        m = len(names)
        for s in subsets:
            # GROUPING(...) sets the bit of every column *not* grouped, the first column highest.
            grouped = sum(1 << (m - 1 - pos[col]) for col in s)
            mask = ((1 << m) - 1) ^ grouped
            keep = g == mask
            result.append(_histogram(n[keep], c[keep]))
        return result

    def null_counts(self, names) -> list[int]:
        parts = ", ".join(f"count(*) - count(__rc_k{i}) AS __rc_m{i}" for i in range(len(names)))
        out = self._run(f"SELECT {parts} FROM (SELECT {self._keys(names)} FROM __rc_t)").to_pydict()
        return [int(out[f"__rc_m{i}"][0] or 0) for i in range(len(names))]

    def classes(self, names, weights: str | None):
        groups = ", ".join(f"__rc_k{i}" for i in range(len(names)))
        wsel = wagg = ""
        if weights is not None:
            w = f"CAST({frames.quote_ident(weights)} AS DOUBLE)"
            wsel = f", {w} AS __rc_w"
            wagg = (
                ", sum(__rc_w) AS __rc_w, sum(CASE WHEN __rc_w IS NULL OR isnan(__rc_w) OR isinf(__rc_w) "
                "THEN 1 ELSE 0 END) AS __rc_bad, sum(CASE WHEN __rc_w < 0 THEN 1 ELSE 0 END) AS __rc_neg, "
                "sum(CASE WHEN __rc_w <> round(__rc_w) THEN 1 ELSE 0 END) AS __rc_frac"
            )
        sql = (
            f"SELECT count(*) AS __rc_n{wagg} FROM (SELECT {self._keys(names)}{wsel} FROM __rc_t) "
            f"GROUP BY {groups}"
        )
        return self._run(sql)


class _Polars:
    """polars expressions on the LazyFrame, collected with the streaming engine."""

    def __init__(self, lf, schema: pa.Schema):
        self.lf, self.schema = lf, schema

    def _keys(self, names):
        import polars as pl

        out = []
        for i, c in enumerate(names):
            col = pl.col(c)
            if _is_float(self.schema.field(c).type):
                col = pl.when(col.is_nan()).then(None).otherwise(col + 0.0)
            out.append(col.alias(f"__rc_k{i}"))
        return out

    def _collect(self, plans):
        import polars as pl

        return [f.to_arrow() for f in pl.collect_all(plans, engine="streaming")]

    def histograms(self, subsets) -> list[SizeHistogram]:
        import polars as pl

        plans = []
        for s in subsets:
            keys = [f"__rc_k{i}" for i in range(len(s))]
            plans.append(
                self.lf.select(self._keys(s))
                .group_by(keys)
                .agg(pl.len().alias("__rc_n"))
                .group_by("__rc_n")
                .agg(pl.len().alias("__rc_c"))
            )
        return [
            _histogram(t.column("__rc_n").to_numpy(), t.column("__rc_c").to_numpy())
            for t in self._collect(plans)
        ]

    def null_counts(self, names) -> list[int]:
        import polars as pl

        plan = self.lf.select(self._keys(names)).select(
            [pl.col(f"__rc_k{i}").null_count().alias(f"__rc_m{i}") for i in range(len(names))]
        )
        out = self._collect([plan])[0].to_pydict()
        return [int(out[f"__rc_m{i}"][0]) for i in range(len(names))]

    def classes(self, names, weights: str | None):
        import polars as pl

        keys = [f"__rc_k{i}" for i in range(len(names))]
        sel = self._keys(names)
        aggs = [pl.len().alias("__rc_n")]
        if weights is not None:
            sel.append(pl.col(weights).cast(pl.Float64).alias("__rc_w"))
            w = pl.col("__rc_w")
            aggs += [
                w.sum().alias("__rc_w"),
                (w.is_null() | w.is_nan() | w.is_infinite()).sum().alias("__rc_bad"),
                (w < 0).sum().alias("__rc_neg"),
                (w != w.round()).sum().alias("__rc_frac"),
            ]
        return self._collect([self.lf.select(sel).group_by(keys).agg(aggs)])[0]


_ENGINES: dict[str, type[_DuckDB] | type[_Polars]] = {"duckdb": _DuckDB, "polars-lazy": _Polars}


# --------------------------------------------------------------------------------------------
# The backends
# --------------------------------------------------------------------------------------------


def encode_native(src: frames.Source, names, *, weights: str | None = None):
    """The EncodedTable of ``names`` (and a ``weights`` column) of a foreign table: only those
    columns streamed (:meth:`riskcalc._core.frames.Source.batches`) into the encoder
    (:func:`riskcalc._core.encoding.encode_stream`)."""
    from .encoding import encode_stream

    wanted = list(names) + ([weights] if weights is not None and weights not in names else [])
    schema, batches = src.batches(wanted)
    return encode_stream(batches, schema, names, weights=weights, source=src.label)


#: Kinds whose rows may come in another order from one query to the next.
_UNORDERED = ("duckdb", "polars-lazy")


class _Delegating:
    """What the two backends of this module share: the table resolved once
    (:func:`riskcalc._core.frames.source`), names checked against its schema, and every
    question about the records answered by the in-memory backend over an encoding of only the
    asked-for columns. Each column is encoded at most once per backend (one backend per
    measure call): a second question adds the columns it needs to the same encoding."""

    is_backend: ClassVar[bool] = True
    holds_records = True

    def __init__(self, data, *, func: str | None = None, sep=None):
        self.source = frames.source(data, func=func)
        self.kind = self.source.kind
        self.label = self.source.label
        self._enc: EncodedTable | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.source.names)

    def names(self, requested, *, func: str, name: str = "quasi_identifiers") -> tuple[str, ...]:
        names = check_column_names(
            requested, self.source.names, name=name, func=func, table=self.label
        )
        for c in names:
            typ = self.source.schema.field(c).type
            if pa.types.is_nested(typ):
                raise UnsupportedTypeError(
                    f"Column {c!r} has the nested type {typ}; only flat values (text, numbers, "
                    "booleans, dates) can be quasi-identifiers."
                )
        return names

    def _capital_label(self) -> str:
        return self.label[0].upper() + self.label[1:]

    # -- the records, streamed into one encoding ------------------------------------------------

    def encoded(self, columns, *, func: str, weights=None, name: str = "quasi_identifiers"):
        """The records of ``columns`` (and a ``weights`` column kept alongside), encoded once:
        only the columns not encoded yet are streamed."""
        from .encoding import EncodedTable, encode

        names = self.names(columns, func=func, name=name)
        keep = weights if isinstance(weights, str) else None
        if keep is not None:
            check_column_names(
                [keep], self.source.names, name="weights", func=func, table=self.label
            )
        enc = self._enc
        todo = [c for c in names if enc is None or c not in enc.columns]
        if keep is not None and (enc is None or keep not in enc.weight_columns):
            todo_w = keep
        else:
            todo_w = None
        if (todo or todo_w is not None) and enc is not None and self.kind in _UNORDERED:
            # An engine's query result has no fixed row order (DuckDB and polars may stream a
            # join or a group-by in another order each time): columns read in two queries
            # cannot be put side by side. Read every column needed so far again, in one query.
            todo = list(dict.fromkeys([*enc.columns, *names]))
            todo_w = (
                keep
                if keep is not None
                else (enc.weight_columns[0] if enc.weight_columns else None)
            )
            enc = None
        if todo or todo_w is not None:
            new = encode_native(self.source, todo or list(names[:1]), weights=todo_w)
            if enc is None:
                enc = new
            else:
                cols = {c: enc[c] for c in enc.columns} | {c: new[c] for c in new.columns}
                kept = {w: enc.weights(w) for w in enc.weight_columns}
                kept |= {w: new.weights(w) for w in new.weight_columns}
                enc = EncodedTable(cols, enc.n_records, enc.index, enc.source, kept)
            self._enc = enc
        return encode(enc, list(names)) if keep is None else _with_weights(enc, names)

    def _memory(self, columns, *, func: str, weights=None):
        """The in-memory backend over the encoding of ``columns`` (and a weights column)."""
        from .memory import MemoryBackend

        enc = self.encoded(
            columns, func=func, weights=weights if isinstance(weights, str) else None
        )
        return MemoryBackend(enc)

    def refuse(self, what: str, func: str | None) -> Exception:
        where = f" of {func}" if func else ""
        return InvalidParameterError(f"{what}{where} cannot run on {self.label}.")

    # -- questions answered in memory (the records are streamed here) ---------------------------

    def missing_counts(self, columns) -> np.ndarray:
        return self._memory(columns, func="missing_counts").missing_counts(columns)

    def size_histogram(self, columns, *, missing: str, func: str) -> SizeHistogram:
        return self._memory(columns, func=func).size_histogram(columns, missing=missing, func=func)

    def lattice_histograms(self, columns, max_size: int, *, missing: str, func: str):
        return self._memory(columns, func=func).lattice_histograms(
            columns, max_size, missing=missing, func=func
        )

    def weighted_below(self, columns, weights, thresholds, *, missing: str, func: str):
        return self._memory(columns, func=func, weights=weights).weighted_below(
            columns, weights, thresholds, missing=missing, func=func
        )

    def summed_histogram(self, columns, count, *, missing: str, func: str) -> SizeHistogram:
        return self._memory(columns, func=func, weights=count).summed_histogram(
            columns, count, missing=missing, func=func
        )

    def size_pairs(self, columns, population=None, *, missing: str, func: str):
        return self._memory(columns, func=func).size_pairs(
            columns, population, missing=missing, func=func
        )

    def attribute_figures(
        self, quasi_identifiers, sensitive, *, missing: str, func: str, **options
    ):
        cols = list(dict.fromkeys([*quasi_identifiers, *sensitive]))
        return self._memory(cols, func=func).attribute_figures(
            quasi_identifiers, sensitive, missing=missing, func=func, **options
        )

    def closeness_figures(
        self, quasi_identifiers, sensitive: str, *, ordered, missing: str, func: str
    ):
        cols = list(dict.fromkeys([*quasi_identifiers, sensitive]))
        return self._memory(cols, func=func).closeness_figures(
            quasi_identifiers, sensitive, ordered=ordered, missing=missing, func=func
        )

    def trajectory_histograms(
        self, point: str, *, static, id: str, order: str, max_linked, func: str
    ):
        cols = [
            c
            for c in dict.fromkeys([id, point, *static, "academic_year", "census"])
            if c in self.source.names
        ]
        return self._memory(cols, func=func).trajectory_histograms(
            point, static=static, id=id, order=order, max_linked=max_linked, func=func
        )

    def column_values(self, columns, *, func: str):
        return self._memory(columns, func=func).column_values(columns, func=func)

    def replace_values(self, column: str, before, after, *, func: str):
        raise self.refuse(
            "Rewriting values in place (the records are read here, and normalise returns a "
            "new table)",
            func,
        )

    def record_sizes(self, columns, *, missing: str, func: str, weights=None, alpha: float = 1.0):
        return self._memory(columns, func=func, weights=weights).record_sizes(
            columns, missing=missing, func=func, weights=weights, alpha=alpha
        )


def _with_weights(enc, names):
    """The encoding restricted to ``names``, its weight columns kept."""
    from .encoding import EncodedTable

    return EncodedTable(
        {c: enc[c] for c in names},
        enc.n_records,
        enc.index,
        enc.source,
        {w: enc.weights(w) for w in enc.weight_columns},
    )


class FrameBackend(_Delegating):
    """Any other foreign table (polars DataFrame, pyarrow Dataset or RecordBatchReader, any
    Arrow PyCapsule table): every question is answered in memory, on an encoding of only the
    asked-for columns, read through Arrow (no pandas copy; a Dataset reads only those columns
    from disk).

    A one-shot stream (a RecordBatchReader, a PyCapsule stream) is read once, whole, into Arrow
    memory on the first question (its later questions may ask for other columns); give a
    ``pyarrow.dataset.Dataset`` to read only the columns asked for from disk.
    """

    def __init__(self, data, *, func: str | None = None, sep=None):
        super().__init__(data, func=func, sep=sep)
        if self.source._reader is not None:  # one-shot: keep it as a table (Arrow, all columns)
            schema, batches = self.source.batches(self.source.names)
            table = pa.Table.from_batches(list(batches), schema=schema)
            self.source = frames.Source(table, "arrow-table", self.label, schema)


class LazyBackend(_Delegating):
    """A lazy table measured by its own engine: counts pushed down, records streamed.

    Pushed down (only grouped counts come back): :meth:`size_histogram`,
    :meth:`lattice_histograms` (DuckDB: one ``GROUPING SETS`` query), :meth:`missing_counts`,
    :meth:`weighted_below` and :meth:`summed_histogram` with a column name. Everything else
    reads the asked-for columns into the in-memory backend (:class:`_Delegating`).
    """

    def __init__(self, data, *, func: str | None = None, sep=None):
        super().__init__(data, func=func, sep=sep)
        if self.kind not in _ENGINES:
            raise InvalidParameterError(f"{self.label} is not a lazy table.")
        self._engine: _DuckDB | _Polars = _ENGINES[self.kind](self.source.obj, self.source.schema)

    def _nonempty(self, hist: SizeHistogram) -> SizeHistogram:
        if hist.n_records == 0:
            raise EmptyTableError(f"{self._capital_label()} has no records; nothing to measure.")
        return hist

    def missing_counts(self, columns) -> np.ndarray:
        """Missing values (``NULL``, and ``NaN`` in floating-point columns) per column."""
        return np.asarray(self._engine.null_counts(list(columns)), dtype=np.int64)

    def _check_missing(self, names, missing: str) -> None:
        if missing == "raise":
            for name, count in zip(names, self.missing_counts(names), strict=True):
                if count:
                    raise _missing_error(name, int(count))

    def size_histogram(self, columns, *, missing: str, func: str) -> SizeHistogram:
        """Two group-bys pushed down; only the histogram comes back."""
        return self.histograms([tuple(columns)], missing=missing)[0]

    def histograms(self, subsets, *, missing: str) -> list[SizeHistogram]:
        """The histogram of each subset of columns (in the order given), in one query where the
        engine allows it (DuckDB ``GROUPING SETS``)."""
        subsets = [tuple(s) for s in subsets]
        self._check_missing(list(dict.fromkeys(c for s in subsets for c in s)), missing)
        if not subsets:
            return []
        # one grouping per distinct set of columns (a repeated or reordered subset is one)
        distinct = list(dict.fromkeys(frozenset(s) for s in subsets))
        first = {key: next(list(s) for s in subsets if frozenset(s) == key) for key in distinct}
        hists = dict(
            zip(distinct, self._engine.histograms([first[k] for k in distinct]), strict=True)
        )
        return [self._nonempty(hists[frozenset(s)]) for s in subsets]

    def lattice_histograms(self, columns, max_size: int, *, missing: str, func: str):
        from itertools import combinations

        columns = tuple(columns)
        subsets = [
            combo
            for size in range(1, min(max_size, len(columns)) + 1)
            for combo in combinations(range(len(columns)), size)
        ]
        hists = self.histograms([tuple(columns[i] for i in s) for s in subsets], missing=missing)
        return iter(list(zip(subsets, hists, strict=True)))

    def _classes(self, columns, value: str, *, missing: str, whole: bool, what: str):
        """``(fk, sum of value)`` per class, the value column validated by the engine."""
        self._check_missing(list(columns), missing)
        table = self._engine.classes(list(columns), value)
        fk = table.column("__rc_n").to_numpy().astype(np.int64)
        if fk.sum() == 0:
            self._nonempty(SizeHistogram.from_class_sizes(fk))
        bad = int(pc.sum(table.column("__rc_bad")).as_py() or 0)
        if bad:
            raise InvalidParameterError(
                f"{what} must not hold missing or infinite values. Found {bad}."
            )
        neg = int(pc.sum(table.column("__rc_neg")).as_py() or 0)
        if neg:
            raise InvalidParameterError(
                f"{what} must be non-negative. Found {neg} negative value(s)."
            )
        sums = table.column("__rc_w").to_numpy().astype(np.float64)
        if whole:
            frac = np.asarray(table.column("__rc_frac").to_numpy(), dtype=np.int64).sum()
            if frac:
                raise InvalidParameterError(
                    f"{what} must hold whole, non-negative numbers. Found {int(frac)} other value(s)."
                )
        elif not np.isfinite(sums.sum()):
            raise InvalidParameterError(
                f"{what} sums to more than a floating-point number can hold (over 1.8e308): every "
                "population figure would be infinite. Are they weights (1 / inclusion probability)?"
            )
        return fk, sums

    def weighted_below(self, columns, weights, thresholds, *, missing: str, func: str):
        if not isinstance(weights, str):  # one number per record: the records are read here
            return super().weighted_below(columns, weights, thresholds, missing=missing, func=func)
        check_column_names(
            [weights], self.source.names, name="weights", func=func, table=self.label
        )
        fk, Fk = self._classes(
            columns, weights, missing=missing, whole=False, what=f"The column {weights!r}"
        )
        below = np.array([int(fk[Fk < t].sum()) for t in thresholds], dtype=np.int64)
        return SizeHistogram.from_class_sizes(fk), below

    def summed_histogram(self, columns, count, *, missing: str, func: str) -> SizeHistogram:
        if not isinstance(count, str):
            return super().summed_histogram(columns, count, missing=missing, func=func)
        check_column_names([count], self.source.names, name="count", func=func, table=self.label)
        _, sums = self._classes(
            columns,
            count,
            missing=missing,
            whole=True,
            what=f"The {count!r} column of {self.label}",
        )
        return SizeHistogram.from_class_sizes(sums.astype(np.int64))


def backend(data, *, func: str | None = None, sep=None):
    """The backend of a table :mod:`riskcalc._core.frames` reads: :class:`LazyBackend` for a
    polars LazyFrame or DuckDB relation, :class:`FrameBackend` otherwise (a pyarrow Dataset
    included: streaming its columns into the encoder is faster than Acero's group-by)."""
    if frames.is_narwhals(data):  # the native frame inside, read as itself
        native = frames.unwrap(data)
        if frames.is_native(native):
            return backend(native, func=func, sep=sep)
        from .spark import is_spark_frame  # never imports pyspark

        if is_spark_frame(native):
            from .spark import SparkBackend

            return SparkBackend(native)
        from .memory import MemoryBackend  # a pandas DataFrame or a pyarrow Table

        return MemoryBackend(native, sep=sep)
    if frames.is_lazy(data):
        return LazyBackend(data, func=func, sep=sep)
    return FrameBackend(data, func=func, sep=sep)
