"""The Spark backend: equivalence classes of a ``pyspark.sql.DataFrame``, computed on the cluster.

Every sample measure reads the class-size histogram (:class:`~riskcalc.SizeHistogram`). On
Spark it is two aggregations: ``GROUP BY`` the quasi-identifiers (one row per class, with its
size), then ``GROUP BY`` the size; only the histogram (a few hundred rows at most: one per
distinct class size) reaches the driver. Per-record class sizes stay on the cluster as a column
(:func:`with_class_sizes`, a window count), never collected.

Missing values: Spark's ``GROUP BY`` puts the ``NULL``\\ s of a column together, which is
``missing="category"``; floating-point ``NaN`` is turned into ``NULL`` first, as the in-memory
encoder treats it as missing. ``missing="raise"`` counts the ``NULL``\\ s of each column in the
same job as the histogram and raises :class:`~riskcalc.exceptions.MissingValueError` naming the
first column holding one.

Anything that needs every record on the driver (per-record arrays, the wildcard rule, SUDA,
the log-linear model's cells) raises :class:`SparkUnsupportedError`, which names the
alternatives (run in memory, or collect a sample); nothing is collected silently.

pyspark is imported lazily: ``riskcalc`` imports without it, and :func:`is_spark_frame` answers
``False`` without importing it when it has not been imported.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .._validation import check_column_names
from ..exceptions import EmptyTableError, InvalidParameterError, MissingValueError
from .histogram import SizeHistogram

__all__ = [
    "SparkUnsupportedError", "SparkTable", "SparkPartition", "is_spark_frame", "spark_table",
    "class_table", "histogram_and_nulls", "with_class_sizes", "null_counts", "fingerprint",
    "source_name", "key_columns", "ALTERNATIVE", "SparkColumn",
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
    except Exception:  # noqa: BLE001 - any Spark failure just means "no files to name"
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
    names = check_column_names(requested, list(sdf.columns), name=name, func=func, table="the Spark table")
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


def histogram_and_nulls(classes, names, *, count_nulls: bool, size: str = SIZE):
    """``(SizeHistogram, NULL count per column or None)`` from a class table, in one job."""
    F = _functions()
    aggs = [F.count(F.lit(1)).alias(CLASSES)]
    if count_nulls:
        aggs += [F.sum(F.when(_col(c).isNull(), _col(size)).otherwise(0)).alias(f"__rc_null{i}")
                 for i, c in enumerate(names)]
    rows = classes.groupBy(_col(size).alias(size)).agg(*aggs).collect()
    sizes = np.array([r[size] for r in rows], dtype=np.int64)
    counts = np.array([r[CLASSES] for r in rows], dtype=np.int64)
    order = np.argsort(sizes, kind="stable")
    keep = sizes[order] > 0
    hist = SizeHistogram(sizes[order][keep], counts[order][keep])
    nulls = None
    if count_nulls:
        nulls = [int(sum(r[f"__rc_null{i}"] or 0 for r in rows)) for i in range(len(names))]
    return hist, nulls


def null_counts(sdf, names) -> list[int]:
    """NULL (or NaN) count of each column, in one aggregation."""
    F = _functions()
    keys = key_columns(sdf, names)
    row = sdf.agg(*[F.sum(F.when(k.isNull(), 1).otherwise(0)).alias(f"__rc_null{i}")
                    for i, k in enumerate(keys)]).collect()[0]
    return [int(row[f"__rc_null{i}"] or 0) for i in range(len(names))]


def with_class_sizes(sdf, names, *, missing: str = "category", weights: str | None = None,
                     fk: str = "fk", Fk: str = "Fk"):
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


@dataclass(frozen=True, eq=False)
class SparkPartition:
    """The equivalence classes of a Spark table: what reaches the driver is the histogram.

    Duck-types the parts of :class:`~riskcalc._core.partition.Partition` that the sample
    measures read (``columns``, ``missing``, ``n_records``, ``n_classes``, ``size_histogram``,
    ``histogram``); the per-record and per-class arrays raise :class:`SparkUnsupportedError`.
    """

    columns: tuple[str, ...]
    missing: str
    size_histogram: SizeHistogram = field(repr=False)
    func: str | None = None
    frame: object = field(default=None, repr=False)

    @property
    def n_records(self) -> int:
        return self.size_histogram.n_records

    @property
    def n_classes(self) -> int:
        return self.size_histogram.n_classes

    @property
    def histogram(self) -> tuple[np.ndarray, np.ndarray]:
        return self.size_histogram.sizes, self.size_histogram.counts

    def _driver_only(self, what):
        raise unsupported(what, self.func)

    @property
    def fk(self):
        self._driver_only("Per-record class sizes (use riskcalc.class_sizes, which returns them as a Spark column)")

    @property
    def class_id(self):
        self._driver_only("A per-record class labelling")

    @property
    def class_sizes(self):
        self._driver_only("A per-class array of sizes")

    def weighted_fk(self, weights):
        self._driver_only("Per-record weighted class sizes")

    def weighted_sizes(self, weights):
        self._driver_only("Per-class weighted sizes")

    def labels(self):
        self._driver_only("A per-record class labelling")


@dataclass(frozen=True, eq=False)
class SparkTable:
    """A Spark DataFrame standing where an :class:`~riskcalc.EncodedTable` would: it answers
    :meth:`partition` on the cluster, and refuses everything that needs the records."""

    frame: object = field(repr=False)
    func: str | None = None

    @cached_property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.frame.columns)

    def partition(self, columns, missing: str = "category") -> SparkPartition:
        names = (columns,) if isinstance(columns, str) else tuple(columns)
        return spark_partition(self.frame, names, missing, self.func)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise unsupported(f"Reading the encoded records ({name})", self.func)

    def __getitem__(self, name):
        return SparkColumn(name, self.func)


@dataclass(frozen=True)
class SparkColumn:
    """A column of a :class:`SparkTable` by name; its codes (the records) are refused."""

    name: str
    func: str | None = None

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise unsupported(f"Reading the encoded column {self.name!r} ({attr})", self.func)


def spark_table(sdf, columns, *, func: str, name: str = "quasi_identifiers") -> SparkTable:
    spark_columns(sdf, columns, func=func, name=name)
    return SparkTable(sdf, func)


def spark_partition(sdf, names, missing: str, func: str | None) -> SparkPartition:
    """Histogram of ``sdf`` on ``names`` (and the NULL check for ``missing="raise"``): one job."""
    hist, nulls = histogram_and_nulls(class_table(sdf, names), names, count_nulls=missing == "raise")
    if nulls is not None:
        raise_on_nulls(names, nulls)
    if hist.n_records == 0:
        raise EmptyTableError(f"The Spark table{'' if func is None else ' given to ' + func} has no records; nothing to measure.")
    return SparkPartition(tuple(names), missing, hist, func, sdf)
