"""The lazy backend: a polars LazyFrame, a DuckDB relation or a pyarrow Dataset, measured where
it lives.

Every sample measure reads the class-size histogram (:class:`~riskcalc.SizeHistogram`). On a
lazy table that is two group-bys run by the table's own engine: ``GROUP BY`` the
quasi-identifiers (one row per class, with its size), then ``GROUP BY`` the size; only the
histogram (one row per distinct class size) comes back. Many subsets of columns (the field
lattice) are one query in DuckDB (``GROUPING SETS``), one plan per subset run together in
polars (``collect_all``) and one Acero plan per subset for a Dataset. Missing counts and
weighted class sizes (the sum of a weight column per class, ``Fk``) are pushed down the same
way.

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
the wildcard rule) is answered by :meth:`LazyBackend.records`: only the asked-for columns are
streamed as Arrow batches (:func:`riskcalc._core.frames.arrow_batches`) into one in-memory
encoding per call.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._validation import check_column_names, check_missing_policy
from ..exceptions import EmptyTableError, InvalidParameterError, MissingValueError, UnsupportedTypeError
from . import frames
from .histogram import SizeHistogram

__all__ = ["LazyBackend", "lazy_backend"]


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
            wagg = (", sum(__rc_w) AS __rc_w, sum(CASE WHEN __rc_w IS NULL OR isnan(__rc_w) OR isinf(__rc_w) "
                    "THEN 1 ELSE 0 END) AS __rc_bad, sum(CASE WHEN __rc_w < 0 THEN 1 ELSE 0 END) AS __rc_neg")
        sql = (f"SELECT count(*) AS __rc_n{wagg} FROM (SELECT {self._keys(names)}{wsel} FROM __rc_t) "
               f"GROUP BY {groups}")
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
            plans.append(self.lf.select(self._keys(s)).group_by(keys).agg(pl.len().alias("__rc_n"))
                         .group_by("__rc_n").agg(pl.len().alias("__rc_c")))
        return [_histogram(t.column("__rc_n").to_numpy(), t.column("__rc_c").to_numpy())
                for t in self._collect(plans)]

    def null_counts(self, names) -> list[int]:
        import polars as pl

        plan = self.lf.select(self._keys(names)).select(
            [pl.col(f"__rc_k{i}").null_count().alias(f"__rc_m{i}") for i in range(len(names))])
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
            aggs += [w.sum().alias("__rc_w"),
                     (w.is_null() | w.is_nan() | w.is_infinite()).sum().alias("__rc_bad"),
                     (w < 0).sum().alias("__rc_neg")]
        return self._collect([self.lf.select(sel).group_by(keys).agg(aggs)])[0]


class _Dataset:
    """Acero plans over the Dataset's scanner: scan (only the asked-for columns), project the
    keys, hash-aggregate. Batches stream through; only the groups are held."""

    def __init__(self, dataset, schema: pa.Schema):
        self.dataset, self.schema = dataset, schema

    def _key(self, name: str):
        f = pc.field(name)
        typ = self.schema.field(name).type
        if pa.types.is_dictionary(typ):
            f = f.cast(typ.value_type)
            typ = typ.value_type
        if pa.types.is_floating(typ):
            return pc.if_else(pc.is_nan(f), pa.scalar(None, typ), pc.add(f, pa.scalar(0.0, typ)))
        return f

    def _plan(self, columns, exprs, names, *steps):
        import pyarrow.acero as ac

        decls = [ac.Declaration("scan", ac.ScanNodeOptions(self.dataset, columns=list(columns))),
                 ac.Declaration("project", ac.ProjectNodeOptions(exprs, names))]
        decls += [ac.Declaration("aggregate", step) for step in steps]
        return ac.Declaration.from_sequence(decls).to_table(use_threads=True)

    def histograms(self, subsets) -> list[SizeHistogram]:
        import pyarrow.acero as ac

        out = []
        for s in subsets:
            keys = [f"__rc_k{i}" for i in range(len(s))]
            table = self._plan(s, [self._key(c) for c in s], keys,
                               ac.AggregateNodeOptions([([], "hash_count_all", None, "__rc_n")], keys=keys),
                               ac.AggregateNodeOptions([([], "hash_count_all", None, "__rc_c")], keys=["__rc_n"]))
            out.append(_histogram(table.column("__rc_n").to_numpy(), table.column("__rc_c").to_numpy()))
        return out

    def null_counts(self, names) -> list[int]:
        import pyarrow.acero as ac

        keys = [f"__rc_m{i}" for i in range(len(names))]
        exprs = [pc.is_null(self._key(c)).cast(pa.int64()) for c in names]
        table = self._plan(names, exprs, keys,
                           ac.AggregateNodeOptions([(k, "sum", None, k) for k in keys]))
        return [int(table.column(k)[0].as_py() or 0) for k in keys]

    def classes(self, names, weights: str | None):
        import pyarrow.acero as ac

        keys = [f"__rc_k{i}" for i in range(len(names))]
        exprs = [self._key(c) for c in names]
        aggs = [([], "hash_count_all", None, "__rc_n")]
        columns = list(names)
        if weights is not None:
            w = pc.field(weights).cast(pa.float64())
            exprs += [w, (pc.is_null(w) | pc.is_nan(w) | pc.is_inf(w)).cast(pa.int64()),
                      pc.less(w, 0.0).cast(pa.int64())]
            keys_w = ["__rc_w", "__rc_bad", "__rc_neg"]
            aggs += [(k, "hash_sum", None, k) for k in keys_w]
            columns.append(weights)
        else:
            keys_w = []
        return self._plan(dict.fromkeys(columns), exprs, keys + keys_w,
                          ac.AggregateNodeOptions(aggs, keys=keys))


_ENGINES = {"duckdb": _DuckDB, "polars-lazy": _Polars, "arrow-dataset": _Dataset}


# --------------------------------------------------------------------------------------------
# The backend
# --------------------------------------------------------------------------------------------


class LazyBackend:
    """A lazy table measured by its own engine: counts pushed down, records streamed.

    Parameters
    ----------
    data : polars.LazyFrame, duckdb.DuckDBPyRelation or pyarrow.dataset.Dataset
    func : str, optional
        The public function asking, for messages.
    """

    def __init__(self, data, *, func: str | None = None):
        self.source = frames.source(data, func=func)
        if self.source.kind not in _ENGINES:
            raise InvalidParameterError(f"{self.source.label} is not a lazy table.")
        self.func = func
        self._engine = _ENGINES[self.source.kind](data, self.source.schema)

    @property
    def kind(self) -> str:
        return self.source.kind

    @property
    def label(self) -> str:
        return self.source.label

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.source.names)

    def check_columns(self, columns, name: str = "quasi_identifiers") -> tuple[str, ...]:
        """The names, checked against the table (did-you-mean message) and flat types."""
        names = check_column_names(columns, self.source.names, name=name, func=self.func, table=self.label)
        for c in names:
            typ = self.source.schema.field(c).type
            if pa.types.is_nested(typ):
                raise UnsupportedTypeError(
                    f"Column {c!r} has the nested type {typ}; only flat values (text, numbers, "
                    "booleans, dates) can be quasi-identifiers."
                )
        return names

    def _nonempty(self, hist: SizeHistogram) -> SizeHistogram:
        if hist.n_records == 0:
            raise EmptyTableError(f"{self.label[0].upper()}{self.label[1:]} has no records; nothing to measure.")
        return hist

    def missing_counts(self, columns) -> dict[str, int]:
        """Missing values (``NULL``, and ``NaN`` in floating-point columns) per column, counted
        by the engine."""
        names = self.check_columns(columns)
        return dict(zip(names, self._engine.null_counts(list(names))))

    def _check_missing(self, names, missing: str) -> None:
        missing = check_missing_policy(missing, self.func)
        if missing == "raise":
            for name, count in self.missing_counts(names).items():
                if count:
                    raise _missing_error(name, count)

    def histogram(self, columns, missing: str = "category") -> SizeHistogram:
        """The class-size histogram on ``columns``: two group-bys pushed down; only the
        histogram comes back."""
        return self.subset_histograms([columns], missing)[0]

    def subset_histograms(self, subsets, missing: str = "category") -> list[SizeHistogram]:
        """The histogram of each subset of columns (in the order given), in one query where the
        engine allows it (DuckDB ``GROUPING SETS``)."""
        subsets = [self.check_columns(s) for s in subsets]
        if missing == "raise":
            self._check_missing(list(dict.fromkeys(c for s in subsets for c in s)), missing)
        else:
            check_missing_policy(missing, self.func)
        if not subsets:
            return []
        # one query per distinct set of columns (a repeated or reordered subset is one grouping set)
        distinct = list(dict.fromkeys(frozenset(s) for s in subsets))
        first = {key: next(list(s) for s in subsets if frozenset(s) == key) for key in distinct}
        hists = dict(zip(distinct, self._engine.histograms([first[k] for k in distinct])))
        return [self._nonempty(hists[frozenset(s)]) for s in subsets]

    @cached_property
    def n_records(self) -> int:
        first = self.source.names[:1]
        if not first:
            raise EmptyTableError(f"{self.label[0].upper()}{self.label[1:]} has no columns.")
        return int(self._engine.classes([first[0]], None).column("__rc_n").to_numpy().sum())

    def class_counts(self, columns, *, weights: str | None = None, missing: str = "category"):
        """``(fk, Fk)`` per class (in no particular order): the size of each class and, with
        ``weights`` (a column name), the sum of its weights; ``Fk`` is ``None`` without.

        Weights must be finite and non-negative, as :func:`riskcalc._validation.check_weights`
        requires of a column in memory (counted by the engine in the same query).
        """
        names = self.check_columns(columns)
        self._check_missing(names, missing)
        if weights is not None:
            check_column_names([weights], self.source.names, name="weights", func=self.func, table=self.label)
        table = self._engine.classes(list(names), weights)
        fk = table.column("__rc_n").to_numpy().astype(np.int64)
        if fk.sum() == 0:
            self._nonempty(SizeHistogram.from_class_sizes(fk))
        if weights is None:
            return fk, None
        bad = int(pc.sum(table.column("__rc_bad")).as_py() or 0)
        if bad:
            raise InvalidParameterError(
                f"The column {weights!r} must not hold missing or infinite values. Found {bad}.")
        neg = int(pc.sum(table.column("__rc_neg")).as_py() or 0)
        if neg:
            raise InvalidParameterError(
                f"The column {weights!r} must be non-negative. Found {neg} negative value(s).")
        Fk = table.column("__rc_w").to_numpy().astype(np.float64)
        if not np.isfinite(Fk.sum()):
            raise InvalidParameterError(
                f"The column {weights!r} sums to more than a floating-point number can hold (over 1.8e308).")
        return fk, Fk

    def records(self, columns, *, weights: str | None = None):
        """An :class:`~riskcalc.EncodedTable` of ``columns`` (and the ``weights`` column):
        only those columns are streamed from the engine, and encoded once."""
        names = self.check_columns(columns)
        if weights is not None:
            check_column_names([weights], self.source.names, name="weights", func=self.func, table=self.label)
        return frames.encode_native(self.source, names, weights=weights, func=self.func)


def lazy_backend(data, *, func: str | None = None) -> LazyBackend | None:
    """A :class:`LazyBackend` for a lazy table, ``None`` for anything else."""
    return LazyBackend(data, func=func) if frames.is_lazy(data) else None
