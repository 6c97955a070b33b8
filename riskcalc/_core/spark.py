"""The Spark backend: the engine's questions answered on a ``pyspark.sql.DataFrame``.

:class:`SparkBackend` answers :class:`riskcalc._core.backend.Backend` with Spark SQL; the
measures are written once against that interface, so their results are the same objects with
the same headline figures as in memory. Every sample measure reads the class-size histogram
(:class:`~riskcalc.SizeHistogram`): on Spark two aggregations, ``GROUP BY`` the
quasi-identifiers (one row per class, with its size), then ``GROUP BY`` the size; only the
histogram (a few hundred rows at most: one per distinct class size) reaches the driver. The
field lattice groups by ``GROUPING SETS`` (one job per subset size); the attacker models join
the extract's classes to the population's (NULL-safe); the attribute measures count the
class x value cells and aggregate them per class, then over classes; a panel is pivoted to one
row per pupil. Per-record class sizes stay on the cluster as a column (:func:`with_class_sizes`,
a window count), never collected; per-class and per-record arrays of the results are ``None``.

Missing values: Spark's ``GROUP BY`` puts the ``NULL``\\ s of a column together, which is
``missing="category"``; floating-point ``NaN`` is turned into ``NULL`` first, as the in-memory
encoder treats it as missing. ``missing="raise"`` counts the ``NULL``\\ s of each column in the
same job as the histogram and raises :class:`~riskcalc.exceptions.MissingValueError` naming the
first column holding one.

Anything that needs every record on the driver (:meth:`SparkBackend.encoded`: SUDA, the
log-linear model's cells, per-record risks; the wildcard rule; weights given as an array)
raises :class:`SparkUnsupportedError` (:meth:`SparkBackend.refuse`), one line naming what cannot
run and the alternatives (run in memory, or collect a sample); nothing is collected silently.

pyspark is imported lazily: ``riskcalc`` imports without it, and :func:`is_spark_frame` answers
``False`` without importing it when it has not been imported.
"""

from __future__ import annotations

import hashlib
import sys
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from .._validation import check_column_names
from ..exceptions import EmptyTableError, InvalidParameterError, MissingValueError
from .histogram import SizeHistogram

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SparkUnsupportedError",
    "SparkBackend",
    "is_spark_frame",
    "unsupported",
    "class_table",
    "histogram_and_nulls",
    "with_class_sizes",
    "null_counts",
    "fingerprint",
    "source_name",
    "key_columns",
    "spark_columns",
    "lattice_histograms",
    "ALTERNATIVE",
    "WEIGHTED_FK",
    "DISTINCT_LIMIT",
]

#: What to do instead when a computation cannot run on Spark.
ALTERNATIVE = (
    "Run it in memory (df.toPandas() when the table fits), or on a sample "
    "(df.sample(fraction=..., seed=...).toPandas())."
)

#: Internal column names (a quasi-identifier may not use them).
SIZE, WEIGHT, CLASSES = "__rc_n", "__rc_w", "__rc_c"


class SparkUnsupportedError(InvalidParameterError):
    """A computation that would need every record on the driver was asked of a Spark table."""


def unsupported(what: str, func: str | None) -> SparkUnsupportedError:
    where = f" of {func}" if func else ""
    return SparkUnsupportedError(
        f"{what}{where} cannot run on a Spark DataFrame without collecting every record to the "
        f"driver, which riskcalc never does. {ALTERNATIVE}"
    )


def is_spark_frame(obj) -> bool:
    """Whether ``obj`` is a ``pyspark.sql.DataFrame`` (classic or Connect), without importing
    pyspark: if pyspark has not been imported, no object can be one."""
    sql = sys.modules.get("pyspark.sql")
    if sql is None:
        return False
    base = getattr(sql, "DataFrame", None)
    return base is not None and isinstance(obj, base)


def _functions():
    try:
        from pyspark.sql import functions as F
    except ImportError as exc:  # pragma: no cover - only reachable with a broken install
        raise InvalidParameterError(
            "Spark support needs pyspark: pip install 'riskcalc[spark]'."
        ) from exc
    _check_pyspark_version(sys.modules["pyspark"].__version__)
    return F


def _check_pyspark_version(version: str) -> None:
    """Spark 3.5 (Databricks Runtime 15.4 and 16.4 LTS) lacks APIs riskcalc uses (grouping sets,
    ``toArrow``): refuse it in one line rather than fail part-way (docs/runtimes.md)."""
    try:
        major = int(str(version).split(".")[0])
    except ValueError:  # pragma: no cover - an unreadable version string: let it run
        return
    if major < 4:
        raise SparkUnsupportedError(
            f"riskcalc on Spark needs pyspark 4.0 or newer (Databricks Runtime 17.3 LTS or newer); "
            f"this session has pyspark {version}. {ALTERNATIVE}"
        )


def _col(name: str):
    F = _functions()
    return F.col("`" + name.replace("`", "``") + "`")


def key_columns(sdf, names) -> list:
    """The grouping expressions of ``names``: floating-point ``NaN`` becomes ``NULL`` (missing,
    as in memory), every other value is grouped as it is. Aliased to the column names."""
    F = _functions()
    types = dict(sdf.dtypes)
    out = []
    for name in names:
        c = _col(name)
        if types.get(name) in ("double", "float"):
            c = F.nanvl(c, F.lit(None).cast(types[name]))
        out.append(c.alias(name))
    return out


def source_name(sdf) -> str:
    """A name for a Spark table: the folder (or file) its files share, else ``"spark DataFrame"``."""
    try:
        files = sorted(sdf.inputFiles())
    except Exception:
        files = []
    if not files:
        return "spark DataFrame"
    import os.path

    paths = [f.split("://", 1)[-1] for f in files]
    common = os.path.commonpath(paths) if len(paths) > 1 else os.path.dirname(paths[0]) or paths[0]
    return os.path.basename(common.rstrip("/")) or common


def fingerprint(sdf) -> dict:
    """A content fingerprint computed on the cluster: ``{"n_records", "fingerprint"}``.

    Per row, two 64-bit xxHash values of all columns (each preceded by its NULL flag, so that
    a NULL in one column is not confused with one in another); over rows, their sum (exact, as
    a 38-digit decimal) and their XOR, and the row count. The SHA-256 of those, of the column
    names and of their types is the fingerprint: independent of row order and partitioning,
    changed by any edit of a value, a row, a column name or a type.
    """
    F = _functions()
    cols = []
    for name in sdf.columns:
        c = _col(name)
        cols += [c.isNull(), c]
    h1 = F.xxhash64(*cols)
    h2 = F.xxhash64(F.lit("riskcalc"), *cols)
    row = sdf.agg(
        F.count(F.lit(1)).alias("n"),
        F.sum(h1.cast("decimal(38,0)")).alias("s1"),
        F.bit_xor(h2).alias("x2"),
    ).collect()[0]
    digest = hashlib.sha256()
    for name, dtype in sdf.dtypes:
        digest.update(name.encode("utf-8") + b"\0" + dtype.encode("utf-8") + b"\0")
    digest.update(f"{row['n']}:{row['s1']}:{row['x2']}".encode("ascii"))
    return {"n_records": int(row["n"]), "fingerprint": "xxhash64-sum-xor:" + digest.hexdigest()}


def spark_columns(sdf, requested, *, func: str, name: str = "quasi_identifiers") -> tuple[str, ...]:
    """Validate column names against a Spark table (the project's usual one-line errors)."""
    names = check_column_names(
        requested, list(sdf.columns), name=name, func=func, table="the Spark table"
    )
    clash = [c for c in names if c.startswith("__rc_")]
    if clash:
        raise InvalidParameterError(
            f"The {name!r} parameter of {func} names {clash[0]!r}; names starting with '__rc_' "
            "are reserved for riskcalc's own columns on Spark. Rename the column."
        )
    return names


def _missing_error(name: str, count: int) -> MissingValueError:
    return MissingValueError(
        f"Column {name!r} has {count} missing value(s) and missing='raise'. Use "
        "missing='category' to treat a missing value as a value of its own."
    )


def raise_on_nulls(names, counts) -> None:
    """Raise :class:`MissingValueError` for the first of ``names`` with a positive count."""
    for name, count in zip(names, counts):
        if count:
            raise _missing_error(name, int(count))


def class_table(sdf, names, *, weights: str | None = None, extra=()):
    """One row per class: the (normalised) quasi-identifier values and ``__rc_n``, the class
    size (with ``weights``, ``__rc_w`` the sum of the weights too; ``extra`` more aggregates).
    Lazy: nothing runs until an action."""
    F = _functions()
    aggs = [F.count(F.lit(1)).alias(SIZE)]
    if weights is not None:
        aggs.append(F.sum(_col(weights).cast("double")).alias(WEIGHT))
    return sdf.groupBy(*key_columns(sdf, names)).agg(*aggs, *extra)


def histogram_and_nulls(
    classes, names, *, count_nulls: bool, size: str = SIZE, extra: dict | None = None
):
    """``(SizeHistogram, NULL count per column or None)`` from a class table, in one job; with
    ``extra`` (name -> column over classes), ``(histogram, nulls, {name: sum})``."""
    F = _functions()
    aggs = [F.count(F.lit(1)).alias(CLASSES)]
    if count_nulls:
        aggs += [
            F.sum(F.when(_col(c).isNull(), _col(size)).otherwise(0)).alias(f"__rc_null{i}")
            for i, c in enumerate(names)
        ]
    aggs += [F.sum(col).alias(key) for key, col in (extra or {}).items()]
    rows = classes.groupBy(_col(size).alias(size)).agg(*aggs).collect()
    sizes = np.array([r[size] for r in rows], dtype=np.int64)
    counts = np.array([r[CLASSES] for r in rows], dtype=np.int64)
    order = np.argsort(sizes, kind="stable")
    keep = sizes[order] > 0
    hist = SizeHistogram(sizes[order][keep], counts[order][keep])
    nulls = None
    if count_nulls:
        nulls = [int(sum(r[f"__rc_null{i}"] or 0 for r in rows)) for i in range(len(names))]
    if extra is None:
        return hist, nulls
    return hist, nulls, {key: sum((r[key] or 0) for r in rows) for key in extra}


def null_counts(sdf, names) -> list[int]:
    """NULL (or NaN) count of each column, in one aggregation."""
    F = _functions()
    keys = key_columns(sdf, names)
    row = sdf.agg(
        *[
            F.sum(F.when(k.isNull(), 1).otherwise(0)).alias(f"__rc_null{i}")
            for i, k in enumerate(keys)
        ]
    ).collect()[0]
    return [int(row[f"__rc_null{i}"] or 0) for i in range(len(names))]


def with_class_sizes(
    sdf,
    names,
    *,
    missing: str = "category",
    weights: str | None = None,
    fk: str = "fk",
    Fk: str = "Fk",
):
    """The records of ``sdf`` with their class size ``fk`` (and, with ``weights``, the class's
    sum of weights ``Fk``) as columns: a window count over the quasi-identifiers, computed
    on the cluster. ``missing="raise"`` runs one aggregation first (to raise before returning)."""
    F = _functions()
    from pyspark.sql import Window

    if missing == "raise":
        raise_on_nulls(names, null_counts(sdf, names))
    window = Window.partitionBy(*[k for k in key_columns(sdf, names)])
    out = sdf.withColumn(fk, F.count(F.lit(1)).over(window))
    if weights is not None:
        out = out.withColumn(Fk, F.sum(_col(weights).cast("double")).over(window))
    return out


def _check_nonempty(n: int, func: str | None) -> None:
    if n == 0:
        raise EmptyTableError(
            f"The Spark table{'' if func is None else ' given to ' + func} has no records; "
            "nothing to measure."
        )


def _bad_values(name: str, *, whole: bool):
    """Aggregate counting the missing, negative (and, with ``whole``, fractional) values of a
    number column: one more column of the class table, summed with the histogram."""
    F = _functions()
    c = _col(name).cast("double")
    bad = c.isNull() | F.isnan(c) | (c < 0) | (F.abs(c) == float("inf"))
    if whole:
        bad = bad | (c != F.round(c))
    return F.sum(F.when(bad, 1).otherwise(0)).alias("__rc_bad")


def lattice_histograms(sdf, names, subsets, *, strategy: str = "grouping_sets") -> dict:
    """``{subset: SizeHistogram}`` for subsets of ``names`` (tuples of column indices).

    ``strategy="grouping_sets"``: one job per subset size, ``GROUP BY GROUPING SETS`` of all
    subsets of that size, then ``GROUP BY (grouping_id, size)``; ``"per_subset"``: one job per
    subset. Both give the same histograms.
    """
    F = _functions()
    out = {}
    if strategy == "per_subset":
        for sub in subsets:
            cols = [names[j] for j in sub]
            out[sub] = histogram_and_nulls(class_table(sdf, cols), cols, count_nulls=False)[0]
        return out
    if strategy != "grouping_sets":
        raise InvalidParameterError(f"Unknown lattice strategy {strategy!r}.")
    keyed = sdf.select(*key_columns(sdf, names))
    p = len(names)
    for size in sorted({len(s) for s in subsets}):
        level = [s for s in subsets if len(s) == size]
        sets = [[_col(names[j]) for j in sub] for sub in level]
        # grouping_id bit (p - 1 - j) is 1 when column j is *not* grouped
        gid = {sum(1 << (p - 1 - j) for j in range(p) if j not in sub): sub for sub in level}
        classes = keyed.groupingSets(sets, *[_col(c) for c in names]).agg(
            F.count(F.lit(1)).alias(SIZE), F.grouping_id().alias("__rc_g")
        )
        rows = classes.groupBy("__rc_g", SIZE).agg(F.count(F.lit(1)).alias(CLASSES)).collect()
        by: dict[int, list[tuple[int, int]]] = {}
        for r in rows:
            by.setdefault(int(r["__rc_g"]), []).append((int(r[SIZE]), int(r[CLASSES])))
        for g, sub in gid.items():
            pairs = sorted(by.get(g, []))
            out[sub] = SizeHistogram(
                np.array([a for a, _ in pairs], np.int64), np.array([b for _, b in pairs], np.int64)
            )
    return out


#: Distinct values of a Spark column above which its values are not brought to the driver
#: (:meth:`SparkBackend.column_values` then keeps to counts: distinct values, missing values).
DISTINCT_LIMIT = 2_000_000

#: Name of the ``Fk`` column on Spark (whose column names ignore case, so ``fk``/``Fk`` would clash).
WEIGHTED_FK = "weighted_fk"

_ORDERED_TYPES = (
    "tinyint",
    "smallint",
    "int",
    "bigint",
    "float",
    "double",
    "date",
    "timestamp",
    "timestamp_ntz",
)


class SparkBackend:
    """:class:`~riskcalc._core.backend.Backend` over a ``pyspark.sql.DataFrame``: every answer
    is Spark SQL run on the cluster; what reaches the driver is a histogram or a handful of
    numbers. Per-record and per-class arrays are ``None``; the records are refused."""

    is_backend: ClassVar[bool] = True
    kind = "spark"
    holds_records = False
    label = "the Spark table"

    def __init__(self, frame):
        self.frame = frame

    # -- identity ------------------------------------------------------------------------------

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.frame.columns)

    def names(self, requested, *, func: str, name: str = "quasi_identifiers") -> tuple[str, ...]:
        return spark_columns(self.frame, requested, func=func, name=name)

    def refuse(self, what: str, func: str | None) -> SparkUnsupportedError:
        return unsupported(what, func)

    def encoded(self, columns, *, func: str, weights=None, name: str = "quasi_identifiers"):
        self.names(columns, func=func, name=name)
        if weights is not None:
            raise self.refuse(f"The {'weights'!r} parameter", func)
        raise self.refuse(
            func, None
        )  # "suda cannot run on a Spark DataFrame without collecting every record..."

    def _column_of(self, value, func: str, name: str) -> str:
        """A per-record parameter (weights, counts) as a column of the Spark table."""
        if not isinstance(value, str):
            raise self.refuse(
                f"The {name!r} parameter given as an array (name a column of the Spark table "
                "instead)",
                func,
            )
        return self.names([value], func=func, name=name)[0]

    # -- counts --------------------------------------------------------------------------------

    def missing_counts(self, columns) -> np.ndarray:
        return np.array(null_counts(self.frame, list(columns)), dtype=np.int64)

    def _histogram(self, classes, names, missing, func, extra=None):
        """Histogram, NULL check and summed extra class aggregates, in one job."""
        hist, nulls, sums = histogram_and_nulls(
            classes, names, count_nulls=missing == "raise", extra=extra or {}
        )
        if nulls is not None:
            raise_on_nulls(names, nulls)
        _check_nonempty(hist.n_records, func)
        return hist, sums

    def size_histogram(self, columns, *, missing: str, func: str) -> SizeHistogram:
        names = list(columns)
        return self._histogram(class_table(self.frame, names), names, missing, func)[0]

    def lattice_histograms(
        self, columns, max_size: int, *, missing: str, func: str, strategy: str = "grouping_sets"
    ):
        import itertools

        names = list(columns)
        if missing == "raise":
            raise_on_nulls(names, null_counts(self.frame, names))
        subsets = [
            s for m in range(1, max_size + 1) for s in itertools.combinations(range(len(names)), m)
        ]
        hists = lattice_histograms(self.frame, names, subsets, strategy=strategy)
        _check_nonempty(hists[subsets[0]].n_records, func)
        return iter([(s, hists[s]) for s in subsets])

    def weighted_below(self, columns, weights, thresholds, *, missing: str, func: str):
        F = _functions()
        names = list(columns)
        weights = self._column_of(weights, func, "weights")
        extra = {"__rc_bad": _col("__rc_bad")}
        extra |= {
            f"__rc_t{i}": F.when(_col(WEIGHT) < float(t), _col(SIZE)).otherwise(0)
            for i, t in enumerate(thresholds)
        }
        classes = class_table(
            self.frame, names, weights=weights, extra=(_bad_values(weights, whole=False),)
        )
        hist, sums = self._histogram(classes, names, missing, func, extra)
        if sums["__rc_bad"]:
            raise InvalidParameterError(
                f"The column {weights!r} must hold finite, non-negative numbers with no missing "
                f"value. Found {int(sums['__rc_bad'])} other value(s)."
            )
        return hist, np.array(
            [int(sums[f"__rc_t{i}"]) for i in range(len(thresholds))], dtype=np.int64
        )

    def summed_histogram(self, columns, count, *, missing: str, func: str) -> SizeHistogram:
        F = _functions()
        names = list(columns)
        count = self._column_of(count, func, "count")
        cells = self.frame.groupBy(*key_columns(self.frame, names)).agg(
            F.sum(_col(count).cast("double")).cast("long").alias(SIZE),
            _bad_values(count, whole=True),
        )
        hist, nulls, sums = histogram_and_nulls(
            cells, names, count_nulls=missing == "raise", extra={"__rc_bad": _col("__rc_bad")}
        )
        if sums["__rc_bad"]:
            raise InvalidParameterError(
                f"The count column {count!r} must hold whole, non-negative numbers with no missing "
                f"value. Found {int(sums['__rc_bad'])} other value(s)."
            )
        if nulls is not None:
            raise_on_nulls(names, nulls)
        return hist

    def size_pairs(self, columns, population=None, *, missing: str, func: str):
        """The extract's classes joined (NULL-safe, full outer) to the population's on the
        cluster; the driver receives the ``(f, F) -> classes`` table."""
        from .answers import SizePairs, population_too_small

        F = _functions()
        names = list(columns)
        sample = class_table(self.frame, names).select(
            *[_col(c).alias(f"__rc_s{i}") for i, c in enumerate(names)], _col(SIZE).alias("__rc_fs")
        )
        if population is None:
            pairs = sample.select(
                _col("__rc_fs"),
                _col("__rc_fs").alias("__rc_fp"),
                *[
                    F.when(_col(f"__rc_s{i}").isNull(), 1).otherwise(0).alias(f"__rc_sn{i}")
                    for i in range(len(names))
                ],
            )
        else:
            if not is_spark_frame(population):
                raise InvalidParameterError(
                    f"The 'population' parameter of {func} must be a Spark DataFrame when the extract "
                    f"is one. Got {type(population).__name__} instead."
                )
            spark_columns(population, names, func=func, name="population")
            pop = class_table(population, names).select(
                *[_col(c).alias(f"__rc_p{i}") for i, c in enumerate(names)],
                _col(SIZE).alias("__rc_fp"),
            )
            cond = None
            for i in range(len(names)):
                eq = _col(f"__rc_s{i}").eqNullSafe(_col(f"__rc_p{i}"))
                cond = eq if cond is None else cond & eq
            pairs = sample.join(pop, cond, "full_outer").select(
                _col("__rc_fs"),
                _col("__rc_fp"),
                *[
                    F.when(_col(f"__rc_s{i}").isNull() & _col("__rc_fs").isNotNull(), 1)
                    .otherwise(0)
                    .alias(f"__rc_sn{i}")
                    for i in range(len(names))
                ],
            )
        rows = (
            pairs.groupBy("__rc_fs", "__rc_fp")
            .agg(
                F.count(F.lit(1)).alias(CLASSES),
                *[
                    F.sum(_col(f"__rc_sn{i}") * F.coalesce(_col("__rc_fs"), F.lit(0))).alias(
                        f"__rc_null{i}"
                    )
                    for i in range(len(names))
                ],
            )
            .collect()
        )
        if missing == "raise":
            raise_on_nulls(
                names, [sum(r[f"__rc_null{i}"] or 0 for r in rows) for i in range(len(names))]
            )
        f_all = np.array([r["__rc_fs"] or 0 for r in rows], dtype=np.float64)
        F_all = np.array([r["__rc_fp"] or 0 for r in rows], dtype=np.float64)
        c_all = np.array([r[CLASSES] for r in rows], dtype=np.float64)
        in_sample = f_all > 0
        n = int(np.dot(f_all[in_sample], c_all[in_sample]))
        _check_nonempty(n, func)
        n_population = None
        if population is not None:
            n_population = int(np.dot(F_all, c_all))
            if n_population < n:
                raise population_too_small(n_population, n, func)
        return SizePairs(f_all[in_sample], F_all[in_sample], c_all[in_sample], n_population)

    def record_sizes(self, columns, *, missing: str, func: str, weights=None, alpha: float = 1.0):
        """The records with their class size ``fk`` (and, with ``weights``, ``weighted_fk``: the
        class's sum of weights, ``Fk``) as columns of the Spark DataFrame: a window count on the
        cluster, never collected. (Spark column names ignore case, so ``Fk`` would replace ``fk``.)"""
        from .answers import RecordSizes

        if missing == "wildcard":
            raise self.refuse("The wildcard rule (missing='wildcard')", func)
        names = tuple(columns)
        if weights is not None:
            weights = self._column_of(weights, func, "weights")
        taken = {
            c.lower() for c in self.frame.columns
        }  # Spark resolves names without regard to case
        for name in ("fk", WEIGHTED_FK) if weights is not None else ("fk",):
            if name.lower() in taken:
                raise InvalidParameterError(
                    f"The Spark table given to {func} already has a column {name!r}."
                )
        frame = with_class_sizes(
            self.frame, list(names), missing=missing, weights=weights, Fk=WEIGHTED_FK
        )
        return RecordSizes(names, missing, frame=frame)

    def column_values(self, columns, *, func: str):
        """Per-column counts by aggregated queries on the cluster: one query for the counts,
        then one ``GROUP BY`` per text column with at most :data:`DISTINCT_LIMIT` distinct
        values (its distinct values and their counts, never the records)."""
        from .answers import ColumnValues
        from .values import text_values

        F = _functions()
        sdf, names = self.frame, list(columns)
        aggs = [F.count(F.lit(1)).alias("__n")]
        for i, name in enumerate(names):
            aggs += [
                F.approx_count_distinct(_col(name)).alias(f"__d{i}"),
                F.sum(F.when(_col(name).isNull(), 1).otherwise(0)).alias(f"__m{i}"),
            ]
        row = sdf.agg(*aggs).collect()[0]
        n = int(row["__n"])
        types = dict(sdf.dtypes)
        out = []
        for i, name in enumerate(names):
            dtype = types[name]
            n_missing = int(row[f"__m{i}"] or 0)
            approx = int(row[f"__d{i}"] or 0)
            if dtype == "string" and approx <= DISTINCT_LIMIT:
                grouped = (
                    sdf.groupBy(_col(name).alias("value")).count().where(F.col("value").isNotNull())
                )
                table = grouped.toArrow()
                values = text_values(table.column("value"))
                counts = table.column("count").to_numpy().astype(np.int64)
                out.append(ColumnValues(name, dtype, n, len(values), n_missing, counts, values))
            else:
                # the exact number of distinct values and the smallest class (the rarest value's
                # count) in one GROUP BY; the counts themselves only when they are few
                grouped = (
                    sdf.groupBy(_col(name).alias("value")).count().where(F.col("value").isNotNull())
                )
                if approx <= DISTINCT_LIMIT:
                    counts = (
                        grouped.select("count")
                        .toArrow()
                        .column("count")
                        .to_numpy()
                        .astype(np.int64)
                    )
                    exact = int(counts.shape[0])
                else:
                    row = grouped.agg(
                        F.count(F.lit(1)).alias("d"), F.min("count").alias("m")
                    ).collect()[0]
                    exact = int(row["d"] or 0)
                    counts = np.array(
                        [int(row["m"])] if row["m"] is not None else [], dtype=np.int64
                    )
                out.append(ColumnValues(name, dtype, n, exact, n_missing, counts, None))
        return out

    def replace_values(self, column: str, before, after, *, func: str):
        """The DataFrame with ``column``'s values ``before`` replaced by ``after``, on the
        cluster: a join with the small mapping (the values, never the records)."""
        import pyarrow as pa

        F = _functions()
        mapping = self.frame.sparkSession.createDataFrame(
            pa.table({"__rc_raw": before, "__rc_canon": after})
        )
        return (
            self.frame.join(mapping, _col(column) == F.col("__rc_raw"), "left")
            .withColumn(
                column,
                F.when(F.col("__rc_raw").isNotNull(), F.col("__rc_canon")).otherwise(_col(column)),
            )
            .drop("__rc_raw", "__rc_canon")
        )

    # -- the class x value table ---------------------------------------------------------------

    def _cells(self, qi, s):
        """One row per non-empty (class, value) cell: the class's values, ``__rc_v`` and ``__rc_cnt``."""
        F = _functions()
        keys = key_columns(self.frame, list(qi) + [s])
        return (
            self.frame.groupBy(*keys)
            .agg(F.count(F.lit(1)).alias("__rc_cnt"))
            .withColumnRenamed(s, "__rc_v")
        )

    @staticmethod
    def _n_values(cells) -> int:
        F = _functions()
        row = cells.agg(
            F.countDistinct(_col("__rc_v")).alias("d"),
            F.max(F.when(_col("__rc_v").isNull(), 1).otherwise(0)).alias("m"),
        ).collect()[0]
        return int(row["d"]) + int(row["m"] or 0)

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
    ):
        """Per sensitive field, one job: the cells grouped per class (size, distinct values, and
        as asked the entropy's sum, the recursive-l count, whether the class holds the field's
        most common value -- ties: the first in Spark's order), then summed over the classes."""
        from pyspark.sql import Window

        from .answers import AttributeFigures

        F = _functions()
        qi = list(quasi_identifiers)
        if missing == "raise":
            names = qi + list(sensitive)
            raise_on_nulls(names, null_counts(self.frame, names))
        out = []
        for s in sensitive:  # one job per sensitive field (a handful)
            cells = self._cells(qi, s)
            cnt = _col("__rc_cnt")
            aggs = [F.sum(cnt).alias("size"), F.count(F.lit(1)).alias("distinct")]
            if entropy:
                aggs.append(F.sum(cnt * F.log(cnt)).alias("clogc"))
            if c is not None:
                by_class = Window.partitionBy(*[_col(q) for q in qi])
                ranked = by_class.orderBy(cnt.desc()).rowsBetween(
                    Window.unboundedPreceding, Window.currentRow
                )
                tail = F.sum(cnt).over(by_class) - (
                    F.sum(cnt).over(ranked) - cnt
                )  # r_l + ... + r_m
                cells = cells.withColumn(
                    "__rc_ok", F.when(F.max(cnt).over(by_class) < float(c) * tail, 1).otherwise(0)
                )
                aggs.append(F.sum(_col("__rc_ok")).alias("rec"))
            if minority:
                top = cells.groupBy("__rc_v").agg(F.sum("__rc_cnt").alias("__rc_vc"))
                top = top.withColumn(
                    "__rc_r",
                    F.row_number().over(
                        Window.orderBy(F.desc("__rc_vc"), _col("__rc_v").asc_nulls_last())
                    ),
                ).where(_col("__rc_r") == 1)
                top = top.select(_col("__rc_v").alias("__rc_top"))
                cells = cells.join(F.broadcast(top), how="cross").withColumn(
                    "__rc_modal",
                    F.when(_col("__rc_v").eqNullSafe(_col("__rc_top")), 1).otherwise(0),
                )
                aggs.append(F.max("__rc_modal").alias("modal"))
            classes = cells.groupBy(*[_col(q) for q in qi]).agg(*aggs)
            homo = _col("distinct") == 1
            size = _col("size")
            figures = [
                F.sum(size).alias("n"),
                F.count(F.lit(1)).alias("k"),
                F.min("distinct").alias("dl"),
                F.sum(F.when(homo, size).otherwise(0)).alias("rr"),
                F.sum(F.when(homo & (size >= 2), size).otherwise(0)).alias("rn"),
                F.sum(F.when(homo, 1).otherwise(0)).alias("ch"),
            ]
            if entropy:
                dsize = size.cast("double")
                ent = F.log(dsize) - _col("clogc") / dsize
                ent_l = F.when(homo, F.lit(1.0)).otherwise(F.exp(F.greatest(ent, F.lit(0.0))))
                figures.append(F.min(ent_l).alias("el"))
            if c is not None:
                figures.append(F.min("rec").alias("rl"))
            if minority:
                figures.append(
                    F.sum(F.when(homo & (_col("modal") == 0), size).otherwise(0)).alias("mr")
                )
            row = classes.agg(*figures).collect()[0]
            n = int(row["n"] or 0)
            _check_nonempty(n, func)
            out.append(
                AttributeFigures(
                    s,
                    n,
                    int(row["k"]),
                    self._n_values(cells),
                    int(row["dl"]),
                    int(row["rr"] or 0),
                    int(row["rn"] or 0),
                    int(row["ch"] or 0),
                    int(row["mr"] or 0) if minority else None,
                    float(row["el"]) if entropy else None,
                    int(row["rl"]) if c is not None else None,
                )
            )
        return out

    def closeness_figures(
        self, quasi_identifiers, sensitive: str, *, ordered: bool | None, missing: str, func: str
    ):
        """t-closeness on the cluster: the sensitive values ranked (NULL last) in Spark, the
        class x rank cells with a window per class; the ordered distance's closed form (see
        :func:`riskcalc._core.crosstab.emd_ordered`) evaluated per cell in Spark SQL against the
        table's cumulative shares (one number per distinct value)."""
        from pyspark.sql import Window

        from .answers import ClosenessFigures

        F = _functions()
        qi, s = list(quasi_identifiers), sensitive
        if missing == "raise":
            raise_on_nulls(qi + [s], null_counts(self.frame, qi + [s]))
        dtype = dict(self.frame.dtypes)[s]
        if ordered is None:
            ordered = dtype in _ORDERED_TYPES or dtype.startswith("decimal")
        cells = self._cells(qi, s)
        values = cells.groupBy("__rc_v").agg(F.sum("__rc_cnt").alias("__rc_vc"))
        values = values.withColumn(
            "__rc_rank", F.row_number().over(Window.orderBy(_col("__rc_v").asc_nulls_last())) - 1
        )
        table = (
            values.select("__rc_rank", "__rc_vc").orderBy("__rc_rank").collect()
        )  # m numbers, no values
        vc = np.array([r["__rc_vc"] for r in table], dtype=np.int64)
        m, n = int(vc.shape[0]), int(vc.sum())
        _check_nonempty(n, func)
        values = values.withColumnRenamed("__rc_v", "__rc_vv")
        cells = cells.join(F.broadcast(values), _col("__rc_v").eqNullSafe(_col("__rc_vv"))).drop(
            "__rc_vv"
        )
        by_class = Window.partitionBy(*[_col(q) for q in qi])
        cnt = _col("__rc_cnt")
        cells = cells.withColumn("__rc_size", F.sum(cnt).over(by_class))
        if not ordered or m <= 1:
            q, p = cnt / _col("__rc_size"), _col("__rc_vc") / float(n)
            per_class = cells.groupBy(*[_col(q_) for q_ in qi]).agg(
                F.first("__rc_size").alias("size"), F.sum(F.abs(q - p) - p).alias("__rc_s")
            )
            emd = F.lit(0.0) if ordered else F.lit(0.5) * (_col("__rc_s") + 1.0)  # ordered: m <= 1
        else:
            P = np.cumsum(vc) / n
            SP = np.concatenate([[0.0], np.cumsum(P)])
            by_rank = by_class.orderBy("__rc_rank")
            within = F.sum(cnt).over(
                by_rank.rowsBetween(Window.unboundedPreceding, Window.currentRow)
            )
            cells = cells.withColumn("__rc_Q", within / _col("__rc_size"))
            cells = cells.withColumn("__rc_b", F.lead("__rc_rank", 1, m).over(by_rank))
            cells = cells.withColumn("__rc_first", (F.row_number().over(by_rank) == 1))
            cells = cells.withColumn("__rc_seg", _ordered_segment(P, SP))
            per_class = cells.groupBy(*[_col(q_) for q_ in qi]).agg(
                F.first("__rc_size").alias("size"), F.sum("__rc_seg").alias("__rc_s")
            )
            emd = _col("__rc_s") / float(m - 1)
        per_class = per_class.select(
            "size", F.least(F.greatest(emd, F.lit(0.0)), F.lit(1.0)).alias("emd")
        )
        per_class = per_class.persist()
        try:
            top = per_class.agg(F.max("emd").alias("t"), F.count(F.lit(1)).alias("k")).collect()[0]
            t = float(top["t"])
            near = F.abs(_col("emd") - t) <= 1e-12 + 1e-9 * abs(t)
            at_t = per_class.agg(
                F.sum(F.when(near, _col("size")).otherwise(0)).alias("r")
            ).collect()[0]["r"]
        finally:
            per_class.unpersist()
        return ClosenessFigures(n, int(top["k"]), m, bool(ordered), t, int(at_t))

    # -- panels --------------------------------------------------------------------------------

    def trajectory_histograms(
        self, point: str, *, static, id: str, order: str, max_linked: int | None, func: str
    ):
        """The panel pivoted on the cluster to one row per pupil (the place at each census, an
        "absent" flag, the static fields of the pupil's first census), then one class-size
        histogram per number of censuses linked."""
        from .._validation import check_int
        from .answers import TrajectoryHistograms
        from .panel import CENSUS_ORDER

        panel = self.frame
        static = spark_columns(panel, static, func=func, name="static") if static else ()
        spark_columns(panel, [id, "academic_year", point], func=func, name="point")
        F = _functions()
        year = _col("academic_year").cast("long")
        if "census" in panel.columns:
            census = F.coalesce(
                *[
                    F.when(_col("census") == name, F.lit(code))
                    for name, code in CENSUS_ORDER.items()
                ],
                F.lit(-1),
            )
        else:
            census = F.lit(1)
        timed = panel.select(
            _col(id).alias("__rc_id"),
            (year * 3 + census).alias("__rc_t"),
            census.alias("__rc_cen"),
            *key_columns(panel, [point]),
            *key_columns(panel, list(static)),
        )
        times = [
            int(r["__rc_t"]) for r in timed.select("__rc_t").distinct().orderBy("__rc_t").collect()
        ]
        if not times:
            raise InvalidParameterError(f"The 'panel' parameter of {func} has no rows.")
        if timed.where(_col("__rc_cen") < 0).limit(1).count():
            raise InvalidParameterError(
                "The 'census' column must hold 'autumn', 'spring' or 'summer'."
            )
        names = {v: k for k, v in CENSUS_ORDER.items()}
        labels = tuple(f"{t // 3} {names[t % 3]}" for t in times)
        m = len(times)
        aggs = [F.count(F.lit(1)).alias("__rc_rows"), F.countDistinct("__rc_t").alias("__rc_times")]
        for j, t in enumerate(times):
            at = _col("__rc_t") == t
            aggs.append(F.max(F.when(at, 1).otherwise(0)).alias(f"__rc_h{j}"))
            aggs.append(F.first(F.when(at, _col(point)), ignorenulls=True).alias(f"__rc_p{j}"))
        aggs += [
            F.min_by(_col(s), _col("__rc_t")).alias(f"__rc_s{i}") for i, s in enumerate(static)
        ]
        pupils = timed.groupBy("__rc_id").agg(*aggs).persist()
        hists = []
        try:
            if pupils.where(_col("__rc_rows") > _col("__rc_times")).limit(1).count():
                raise InvalidParameterError(
                    f"The 'panel' parameter of {func} has more than one row for a pupil in a census."
                )
            top = (
                m
                if max_linked is None
                else check_int(max_linked, "max_linked", func, minimum=1, maximum=m)
            )
            for k in range(1, top + 1):
                cols = list(range(k)) if order == "forward" else list(range(m - k, m))
                present = None
                for j in cols:
                    here = _col(f"__rc_h{j}") == 1
                    present = here if present is None else present | here
                keys = [f"__rc_s{i}" for i in range(len(static))]
                keys += [x for j in cols for x in (f"__rc_h{j}", f"__rc_p{j}")]
                classes = pupils.where(present).groupBy(*keys).agg(F.count(F.lit(1)).alias(SIZE))
                hists.append(histogram_and_nulls(classes, keys, count_nulls=False)[0])
        finally:
            pupils.unpersist()
        return TrajectoryHistograms(labels, tuple(hists))


def _ordered_segment(P: np.ndarray, SP: np.ndarray):
    """One cell's piece of the ordered EMD sum (plus, on a class's first cell, the ranks below
    its smallest value), as Spark SQL: ``searchsorted(P, Q, "right")`` is the number of the
    table's cumulative shares ``<= Q`` (``P`` has one entry per distinct value)."""
    F = _functions()
    P_arr = F.array(*[F.lit(float(v)) for v in P])
    SP_arr = F.array(*[F.lit(float(v)) for v in SP])
    a, b, Q = _col("__rc_rank"), _col("__rc_b"), _col("__rc_Q")
    t = F.least(F.greatest(F.size(F.filter(P_arr, lambda x: x <= Q)).cast("long"), a), b)

    def sp(i):
        return F.element_at(SP_arr, (i + 1).cast("int"))

    seg = Q * (t - a) - (sp(t) - sp(a)) + (sp(b) - sp(t)) - Q * (b - t)
    return seg + F.when(_col("__rc_first"), sp(a)).otherwise(F.lit(0.0))


def collect_coded(sdf, columns) -> pd.DataFrame:
    """``columns`` of a Spark DataFrame on the driver, encoded on the cluster.

    Integer and boolean columns come as they are. Every other column (text, dates...) is
    encoded where it lives: its distinct values are collected once, numbered on the driver in
    sorted order (nulls apart), joined back (broadcast when few) as an int32 code, and only the
    codes travel; the driver rebuilds a pandas categorical from the codes and the distinct
    values. One job collects every column (Arrow), so a panel of 42 million rows arrives as
    4-byte codes, not strings."""
    import pandas as pd

    F = _functions()
    spark = sdf.sparkSession
    types = dict(sdf.dtypes)
    plain = {"tinyint", "smallint", "int", "bigint", "boolean"}
    coded: dict[str, list] = {}
    out = sdf.select(*[_col(c) for c in columns])
    for c in columns:
        if types[c] in plain:
            continue
        values = [r[0] for r in sdf.select(_col(c)).where(_col(c).isNotNull()).distinct().collect()]
        try:
            values.sort()
        except TypeError:  # mixed kinds: their text's order
            values.sort(key=str)
        coded[c] = values
        key = f"__rc_v{len(coded)}"
        mapping = spark.createDataFrame(
            [(v, i) for i, v in enumerate(values)], schema=f"{key} {types[c]}, __rc_code int"
        )
        if len(values) <= 1 << 20:
            mapping = F.broadcast(mapping)
        out = (
            out.join(mapping, out[c].eqNullSafe(mapping[key]), "left")
            .drop(c, key)
            .withColumnRenamed("__rc_code", c)
        )
    table = out.select(*[_col(c) for c in columns]).toArrow()
    frame = {}
    for c in columns:
        col = table.column(c)
        if c in coded:
            codes = col.fill_null(-1).to_numpy().astype(np.int32)
            frame[c] = pd.Categorical.from_codes(codes, categories=pd.Index(coded[c], dtype=object))
        else:
            frame[c] = col.to_pandas()
    return pd.DataFrame(frame)
