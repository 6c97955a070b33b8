"""The public measures on a ``pyspark.sql.DataFrame``: computed on the cluster, same results.

Each measure that reads only counts has a small hook at its top that sends a Spark DataFrame
here. The work is Spark SQL (group-bys, window functions, joins); what reaches the driver is a
histogram or a handful of per-table numbers, and the result is the measure's own result object
with the same headline figures as the in-memory path. Per-record and per-class arrays (for
example ``distinct_l_per_record`` or ``TClosenessResult.emd``) would need every record or
class on the driver: on Spark they are ``None``, and :func:`riskcalc.class_sizes` returns the
class sizes as a Spark column instead.

The engine side (grouping, NULL handling, fingerprint) is :mod:`riskcalc._core.spark`.
"""

from __future__ import annotations

import numpy as np

from ._core.histogram import SizeHistogram
from ._core.spark import (
    SIZE, WEIGHT, _col, _functions, class_table, histogram_and_nulls, key_columns, null_counts,
    raise_on_nulls, spark_columns, unsupported, with_class_sizes, is_spark_frame,
)
from ._validation import (
    check_alpha, check_column_name, check_bool, check_int, check_missing_policy, check_positive, check_share,
    check_thresholds,
)
from .exceptions import EmptyTableError, InvalidParameterError

__all__ = [
    "class_sizes", "k_anonymity", "small_count_exposure", "attacker_risk", "l_diversity",
    "t_closeness", "attribute_disclosure", "field_lattice", "lattice_histograms",
]


def _policy(missing, func, *, wildcard=False):
    missing = check_missing_policy(missing, func, wildcard=wildcard)
    if missing == "wildcard":
        raise unsupported("The wildcard rule (missing='wildcard')", func)
    return missing


def _weight_column(weights, func, name="weights"):
    if weights is None or isinstance(weights, str):
        return weights
    raise unsupported(f"The {name!r} parameter given as an array (name a column of the Spark table instead)", func)


def _check_nonempty(n: int, func: str) -> None:
    if n == 0:
        raise EmptyTableError(f"The Spark table given to {func} has no records; nothing to measure.")


def _bad_values(name: str, *, whole: bool):
    """Aggregate counting the missing, negative (and, with ``whole``, fractional) values of a
    number column: one more column of the class table, summed with the histogram."""
    F = _functions()
    c = _col(name).cast("double")
    bad = c.isNull() | F.isnan(c) | (c < 0) | (F.abs(c) == float("inf"))
    if whole:
        bad = bad | (c != F.round(c))
    return F.sum(F.when(bad, 1).otherwise(0)).alias("__rc_bad")


# --------------------------------------------------------------------------------------------
# Class sizes, k-anonymity, small counts
# --------------------------------------------------------------------------------------------


#: Name of the ``Fk`` column on Spark (whose column names ignore case, so ``fk``/``Fk`` would clash).
WEIGHTED_FK = "weighted_fk"


def class_sizes(sdf, quasi_identifiers, *, weights=None, missing="category", alpha=1.0):
    """The records with their class size ``fk`` (and, with ``weights``, ``weighted_fk``: the
    class's sum of weights, ``Fk``) as columns of a Spark DataFrame: a window count on the
    cluster, never collected. (Spark column names ignore case, so ``Fk`` would replace ``fk``.)"""
    func = "class_sizes"
    check_alpha(alpha, func)
    missing = _policy(missing, func, wildcard=True)
    names = spark_columns(sdf, quasi_identifiers, func=func)
    weights = _weight_column(weights, func)
    if weights is not None:
        spark_columns(sdf, [weights], func=func, name="weights")
    taken = {c.lower() for c in sdf.columns}  # Spark resolves names without regard to case
    for name in ("fk", WEIGHTED_FK) if weights is not None else ("fk",):
        if name.lower() in taken:
            raise InvalidParameterError(f"The Spark table given to {func} already has a column {name!r}.")
    return with_class_sizes(sdf, names, missing=missing, weights=weights, Fk=WEIGHTED_FK)


def _histogram(classes, names, missing, func, extra=None):
    """Histogram, NULL check and summed extra class aggregates, in one job."""
    hist, nulls, sums = _histogram_job(classes, names, missing == "raise", extra or {})
    if nulls is not None:
        raise_on_nulls(names, nulls)
    _check_nonempty(hist.n_records, func)
    return hist, sums


def _histogram_job(classes, names, count_nulls, extra: dict):
    """Like :func:`histogram_and_nulls`, plus ``extra`` (name -> column over classes) summed."""
    F = _functions()
    if not extra:
        hist, nulls = histogram_and_nulls(classes, names, count_nulls=count_nulls)
        return hist, nulls, {}
    aggs = [F.count(F.lit(1)).alias("__rc_c")]
    if count_nulls:
        aggs += [F.sum(F.when(_col(c).isNull(), _col(SIZE)).otherwise(0)).alias(f"__rc_null{i}")
                 for i, c in enumerate(names)]
    aggs += [F.sum(col).alias(key) for key, col in extra.items()]
    rows = classes.groupBy(_col(SIZE).alias(SIZE)).agg(*aggs).collect()
    sizes = np.array([r[SIZE] for r in rows], dtype=np.int64)
    counts = np.array([r["__rc_c"] for r in rows], dtype=np.int64)
    order = np.argsort(sizes, kind="stable")
    keep = sizes[order] > 0
    hist = SizeHistogram(sizes[order][keep], counts[order][keep])
    nulls = [int(sum(r[f"__rc_null{i}"] or 0 for r in rows)) for i in range(len(names))] if count_nulls else None
    sums = {key: sum((r[key] or 0) for r in rows) for key in extra}
    return hist, nulls, sums


def k_anonymity(sdf, quasi_identifiers, *, thresholds, weights=None, missing="category", alpha=1.0):
    from .kanon import KAnonymityResult

    func = "k_anonymity"
    thresholds = check_thresholds(thresholds, func=func)
    check_alpha(alpha, func)
    missing = _policy(missing, func, wildcard=True)
    names = spark_columns(sdf, quasi_identifiers, func=func)
    weights = _weight_column(weights, func)
    F = _functions()
    extra, aggs = {}, ()
    if weights is not None:
        spark_columns(sdf, [weights], func=func, name="weights")
        aggs = (_bad_values(weights, whole=False),)
        extra = {"__rc_bad": _col("__rc_bad")}
        extra |= {f"__rc_t{i}": F.when(_col(WEIGHT) < float(t), _col(SIZE)).otherwise(0)
                  for i, t in enumerate(thresholds)}
    classes = class_table(sdf, names, weights=weights, extra=aggs)
    hist, sums = _histogram(classes, names, missing, func, extra)
    weighted = None
    if weights is not None:
        if sums["__rc_bad"]:
            raise InvalidParameterError(
                f"The column {weights!r} must hold finite, non-negative numbers with no missing "
                f"value. Found {int(sums['__rc_bad'])} other value(s)."
            )
        weighted = np.array([int(sums[f"__rc_t{i}"]) for i in range(len(thresholds))], dtype=np.int64)
    return KAnonymityResult(
        names, missing, hist.n_records, hist.n_classes, hist.k, thresholds,
        hist.records_below(thresholds), hist.classes_below(thresholds), weighted,
    )


def small_count_exposure(sdf, columns, *, thresholds, count=None, missing="category"):
    from .small_counts import SmallCountResult

    func = "small_count_exposure"
    thresholds = check_thresholds(thresholds, func=func)
    missing = _policy(missing, func)
    names = spark_columns(sdf, columns, func=func, name="columns")
    if count is None:
        hist, _ = _histogram(class_table(sdf, names), names, missing, func)
    else:
        count = _weight_column(count, func, "count")
        if count in names:
            raise InvalidParameterError(
                f"The 'count' parameter of {func} names {count!r}, which is also one of the 'columns': "
                "the count column holds the cells' counts, not a dimension of the table."
            )
        spark_columns(sdf, [count], func=func, name="count")
        F = _functions()
        cells = sdf.groupBy(*key_columns(sdf, names)).agg(
            F.sum(_col(count).cast("double")).cast("long").alias(SIZE), _bad_values(count, whole=True)
        )
        hist, nulls, sums = _histogram_job(cells, names, missing == "raise", {"__rc_bad": _col("__rc_bad")})
        if sums["__rc_bad"]:
            raise InvalidParameterError(
                f"The count column {count!r} must hold whole, non-negative numbers with no missing "
                f"value. Found {int(sums['__rc_bad'])} other value(s)."
            )
        if nulls is not None:
            raise_on_nulls(names, nulls)
    return SmallCountResult(
        names, missing, count is not None, hist.n_records, hist.n_classes, thresholds,
        hist.classes_at_most(thresholds), hist.records_at_most(thresholds),
    )


# --------------------------------------------------------------------------------------------
# Attacker models
# --------------------------------------------------------------------------------------------


def attacker_risk(sdf, quasi_identifiers, *, population=None, threshold=0.2, missing="category"):
    """Prosecutor, journalist and marketer risk: the extract's classes joined (NULL-safe) to
    the population's on the cluster; the driver receives the ``(f, F) -> classes`` table."""
    from .attacker import AttackerRiskResult

    func = "attacker_risk"
    threshold = check_share(threshold, "threshold", func)
    missing = _policy(missing, func)
    names = spark_columns(sdf, quasi_identifiers, func=func)
    F = _functions()
    sample = class_table(sdf, names).select(
        *[_col(c).alias(f"__rc_s{i}") for i, c in enumerate(names)], _col(SIZE).alias("__rc_fs"))
    if population is None:
        pairs = sample.select(_col("__rc_fs"), _col("__rc_fs").alias("__rc_fp"), *[
            F.when(_col(f"__rc_s{i}").isNull(), 1).otherwise(0).alias(f"__rc_sn{i}") for i in range(len(names))])
    else:
        if not is_spark_frame(population):
            raise InvalidParameterError(
                f"The 'population' parameter of {func} must be a Spark DataFrame when the extract "
                f"is one. Got {type(population).__name__} instead."
            )
        spark_columns(population, names, func=func, name="population")
        pop = class_table(population, names).select(
            *[_col(c).alias(f"__rc_p{i}") for i, c in enumerate(names)], _col(SIZE).alias("__rc_fp"))
        cond = None
        for i in range(len(names)):
            eq = _col(f"__rc_s{i}").eqNullSafe(_col(f"__rc_p{i}"))
            cond = eq if cond is None else cond & eq
        pairs = sample.join(pop, cond, "full_outer").select(_col("__rc_fs"), _col("__rc_fp"), *[
            F.when(_col(f"__rc_s{i}").isNull() & _col("__rc_fs").isNotNull(), 1).otherwise(0).alias(f"__rc_sn{i}")
            for i in range(len(names))])
    rows = pairs.groupBy("__rc_fs", "__rc_fp").agg(
        F.count(F.lit(1)).alias("__rc_c"),
        *[F.sum(_col(f"__rc_sn{i}") * F.coalesce(_col("__rc_fs"), F.lit(0))).alias(f"__rc_null{i}")
          for i in range(len(names))],
    ).collect()
    if missing == "raise":
        raise_on_nulls(names, [sum(r[f"__rc_null{i}"] or 0 for r in rows) for i in range(len(names))])
    f_all = np.array([r["__rc_fs"] or 0 for r in rows], dtype=np.float64)
    F_all = np.array([r["__rc_fp"] or 0 for r in rows], dtype=np.float64)
    c_all = np.array([r["__rc_c"] for r in rows], dtype=np.float64)
    in_sample = f_all > 0
    f, Fs, c = f_all[in_sample], F_all[in_sample], c_all[in_sample]
    n = int(np.dot(f, c))
    _check_nonempty(n, func)
    n_classes = int(c.sum())
    prosecutor = (float(np.dot(f[1.0 / f > threshold], c[1.0 / f > threshold])) / n, float(1.0 / f.min()),
                  n_classes / n)
    n_population = None
    if population is not None:
        n_population = int(np.dot(F_all, c_all))
        if n_population < n:
            raise InvalidParameterError(
                f"The 'population' parameter of {func} has {n_population:,} records, fewer than "
                f"the extract's {n:,}: a population must contain the extract."
            )
        absent = Fs == 0
        if absent.any():
            lost = int(np.dot(f[absent], c[absent]))
            raise InvalidParameterError(
                f"The 'population' parameter of {func}: {lost:,} record(s) of the extract have "
                "quasi-identifier values that do not occur in the population table. Is it the "
                "population the extract was drawn from (same columns, same coding)?"
            )
    ratio = float(np.dot(f / Fs, c))
    above = 1.0 / Fs > threshold
    journalist = (float(np.dot(f[above], c[above])) / n, float(1.0 / Fs.min()),
                  float(max(n_classes / float(np.dot(Fs, c)), ratio / n)))
    return AttackerRiskResult(names, missing, threshold, n, n_classes, n_population, *prosecutor, *journalist,
                              ratio / n)


# --------------------------------------------------------------------------------------------
# Attribute disclosure: the class x value cells, counted on the cluster
# --------------------------------------------------------------------------------------------


def _check_fields(sdf, quasi_identifiers, sensitive, func, missing):
    from .attribute import _check_fields as check

    missing = _policy(missing, func)
    qi, sens = check(tuple(sdf.columns), quasi_identifiers, sensitive, func)
    spark_columns(sdf, qi + sens, func=func)
    if missing == "raise":
        raise_on_nulls(qi + sens, null_counts(sdf, qi + sens))
    return qi, sens, missing


def _cells(sdf, qi, s):
    """One row per non-empty (class, value) cell: the class's values, ``__rc_v`` and ``__rc_cnt``."""
    F = _functions()
    keys = key_columns(sdf, list(qi) + [s])
    return sdf.groupBy(*keys).agg(F.count(F.lit(1)).alias("__rc_cnt")).withColumnRenamed(s, "__rc_v")


def _n_values(cells):
    F = _functions()
    row = cells.agg(F.countDistinct(_col("__rc_v")).alias("d"),
                    F.max(F.when(_col("__rc_v").isNull(), 1).otherwise(0)).alias("m")).collect()[0]
    return int(row["d"]) + int(row["m"] or 0)


def l_diversity(sdf, quasi_identifiers, sensitive, *, c=None, missing="category"):
    """Distinct, entropy and recursive l per class on the cluster; minima on the driver."""
    from pyspark.sql import Window

    from .attribute import LDiversityResult

    func = "l_diversity"
    sensitive = check_column_name(sensitive, func)
    if c is not None:
        c = check_positive(c, "c", func)
    qi, (s,), missing = _check_fields(sdf, quasi_identifiers, (sensitive,), func, missing)
    F = _functions()
    cells = _cells(sdf, qi, s)
    cnt = _col("__rc_cnt")
    aggs = [F.sum(cnt).alias("size"), F.count(F.lit(1)).alias("distinct"),
            F.sum(cnt * F.log(cnt)).alias("clogc")]
    if c is not None:
        by_class = Window.partitionBy(*[_col(q) for q in qi])
        ranked = by_class.orderBy(cnt.desc()).rowsBetween(Window.unboundedPreceding, Window.currentRow)
        tail = F.sum(cnt).over(by_class) - (F.sum(cnt).over(ranked) - cnt)  # r_l + ... + r_m
        cells = cells.withColumn("__rc_ok", F.when(F.max(cnt).over(by_class) < float(c) * tail, 1).otherwise(0))
        aggs.append(F.sum(_col("__rc_ok")).alias("rec"))
    classes = cells.groupBy(*[_col(q) for q in qi]).agg(*aggs)
    size = _col("size").cast("double")
    entropy = F.log(size) - _col("clogc") / size
    entropy_l = F.when(_col("distinct") == 1, F.lit(1.0)).otherwise(F.exp(F.greatest(entropy, F.lit(0.0))))
    homo = _col("distinct") == 1
    row = classes.agg(
        F.sum("size").alias("n"), F.count(F.lit(1)).alias("k"), F.min("distinct").alias("dl"),
        F.min(entropy_l).alias("el"), *([F.min("rec").alias("rl")] if c is not None else []),
        F.sum(F.when(homo, _col("size")).otherwise(0)).alias("rr"), F.sum(F.when(homo, 1).otherwise(0)).alias("ch"),
    ).collect()[0]
    n = int(row["n"] or 0)
    _check_nonempty(n, func)
    return LDiversityResult(
        qi, sensitive, missing, c, n, int(row["k"]), _n_values(cells), int(row["dl"]), float(row["el"]),
        None if c is None else int(row["rl"]), int(row["rr"]), int(row["ch"]), None, None, None, None,
    )


def attribute_disclosure(sdf, quasi_identifiers, sensitive_fields, *, missing="category"):
    from .attribute import AttributeDisclosureResult

    func = "attribute_disclosure"
    fields = (sensitive_fields,) if isinstance(sensitive_fields, str) else sensitive_fields
    qi, sens, missing = _check_fields(sdf, quasi_identifiers, fields, func, missing)
    F = _functions()
    out = []
    n = k = None
    for s in sens:  # one job per sensitive field (a handful)
        cells = _cells(sdf, qi, s)
        classes = cells.groupBy(*[_col(q) for q in qi]).agg(
            F.sum("__rc_cnt").alias("size"), F.count(F.lit(1)).alias("distinct"))
        homo = _col("distinct") == 1
        row = classes.agg(
            F.sum("size").alias("n"), F.count(F.lit(1)).alias("k"), F.min("distinct").alias("dl"),
            F.sum(F.when(homo, _col("size")).otherwise(0)).alias("rr"),
            F.sum(F.when(homo & (_col("size") >= 2), _col("size")).otherwise(0)).alias("rn"),
            F.sum(F.when(homo, 1).otherwise(0)).alias("ch"),
        ).collect()[0]
        n, k = int(row["n"] or 0), int(row["k"])
        _check_nonempty(n, func)
        out.append((int(row["rr"]), int(row["rn"]), int(row["ch"]), int(row["dl"]), _n_values(cells)))
    arr = np.asarray(out, dtype=np.int64).reshape(len(sens), 5)
    return AttributeDisclosureResult(qi, sens, missing, n, k, *[arr[:, j].copy() for j in range(5)])


_ORDERED_TYPES = ("tinyint", "smallint", "int", "bigint", "float", "double", "date", "timestamp", "timestamp_ntz")


def t_closeness(sdf, quasi_identifiers, sensitive, *, ordered=None, missing="category"):
    """t-closeness on the cluster: the sensitive values ranked (NULL last) in Spark, the
    class x rank cells with a window per class; the ordered distance's closed form (see
    :func:`riskcalc.attribute._emd_ordered`) evaluated per cell by a vectorised pandas UDF
    holding the table's cumulative shares (one number per distinct value)."""
    from pyspark.sql import Window

    from .attribute import TClosenessResult

    func = "t_closeness"
    sensitive = check_column_name(sensitive, func)
    ordered = check_bool(ordered, "ordered", func, allow_none=True)
    qi, (s,), missing = _check_fields(sdf, quasi_identifiers, (sensitive,), func, missing)
    F = _functions()
    dtype = dict(sdf.dtypes)[s]
    if ordered is None:
        ordered = dtype in _ORDERED_TYPES or dtype.startswith("decimal")
    cells = _cells(sdf, qi, s)
    values = cells.groupBy("__rc_v").agg(F.sum("__rc_cnt").alias("__rc_vc"))
    values = values.withColumn("__rc_rank", F.row_number().over(Window.orderBy(_col("__rc_v").asc_nulls_last())) - 1)
    table = values.select("__rc_rank", "__rc_vc").orderBy("__rc_rank").collect()  # m numbers, no values
    vc = np.array([r["__rc_vc"] for r in table], dtype=np.int64)
    m, n = int(vc.shape[0]), int(vc.sum())
    _check_nonempty(n, func)
    values = values.withColumnRenamed("__rc_v", "__rc_vv")
    cells = cells.join(F.broadcast(values), _col("__rc_v").eqNullSafe(_col("__rc_vv"))).drop("__rc_vv")
    by_class = Window.partitionBy(*[_col(q) for q in qi])
    cnt = _col("__rc_cnt")
    cells = cells.withColumn("__rc_size", F.sum(cnt).over(by_class))
    if not ordered or m <= 1:
        q, p = cnt / _col("__rc_size"), _col("__rc_vc") / float(n)
        per_class = cells.groupBy(*[_col(q_) for q_ in qi]).agg(
            F.first("__rc_size").alias("size"), F.sum(F.abs(q - p) - p).alias("__rc_s"))
        emd = F.lit(0.0) if ordered else F.lit(0.5) * (_col("__rc_s") + 1.0)  # ordered: m <= 1
    else:
        P = np.cumsum(vc) / n
        SP = np.concatenate([[0.0], np.cumsum(P)])
        by_rank = by_class.orderBy("__rc_rank")
        within = F.sum(cnt).over(by_rank.rowsBetween(Window.unboundedPreceding, Window.currentRow))
        cells = cells.withColumn("__rc_Q", within / _col("__rc_size"))
        cells = cells.withColumn("__rc_b", F.lead("__rc_rank", 1, m).over(by_rank))
        cells = cells.withColumn("__rc_first", (F.row_number().over(by_rank) == 1))
        cells = cells.withColumn("__rc_seg", _ordered_segment(P, SP))
        per_class = cells.groupBy(*[_col(q_) for q_ in qi]).agg(
            F.first("__rc_size").alias("size"), F.sum("__rc_seg").alias("__rc_s"))
        emd = _col("__rc_s") / float(m - 1)
    per_class = per_class.select("size", F.least(F.greatest(emd, F.lit(0.0)), F.lit(1.0)).alias("emd"))
    per_class = per_class.persist()
    try:
        top = per_class.agg(F.max("emd").alias("t"), F.count(F.lit(1)).alias("k")).collect()[0]
        t = float(top["t"])
        near = F.abs(_col("emd") - t) <= 1e-12 + 1e-9 * abs(t)
        at_t = per_class.agg(F.sum(F.when(near, _col("size")).otherwise(0)).alias("r")).collect()[0]["r"]
    finally:
        per_class.unpersist()
    return TClosenessResult(qi, sensitive, missing, bool(ordered), n, int(top["k"]), m, t, int(at_t),
                            None, None, None, None)


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


# --------------------------------------------------------------------------------------------
# The field lattice
# --------------------------------------------------------------------------------------------


def lattice_histograms(sdf, names, subsets, *, strategy: str = "grouping_sets"):
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
            F.count(F.lit(1)).alias(SIZE), F.grouping_id().alias("__rc_g"))
        rows = classes.groupBy("__rc_g", SIZE).agg(F.count(F.lit(1)).alias("__rc_c")).collect()
        by = {}
        for r in rows:
            by.setdefault(int(r["__rc_g"]), []).append((int(r[SIZE]), int(r["__rc_c"])))
        for g, sub in gid.items():
            pairs = sorted(by.get(g, []))
            out[sub] = SizeHistogram(np.array([a for a, _ in pairs], np.int64), np.array([b for _, b in pairs], np.int64))
    return out


def field_lattice(sdf, fields, *, max_size=None, thresholds, threshold_by_size=None, target=None,
                  missing="category", progress=None, strategy="grouping_sets"):
    import itertools

    from .lattice import LatticeResult, _checked_parameters, _minimal_mask, _row_from_histogram, _table

    func = "field_lattice"
    names = spark_columns(sdf, fields, func=func, name="fields")
    p = len(names)
    max_size, thresholds, by_size, target, n_subsets = _checked_parameters(p, max_size, thresholds,
                                                                           threshold_by_size, target)
    missing = _policy(missing, func)
    if missing == "raise":
        raise_on_nulls(names, null_counts(sdf, names))
    subsets = [s for m in range(1, max_size + 1) for s in itertools.combinations(range(p), m)]
    hists = lattice_histograms(sdf, names, subsets, strategy=strategy)
    n = hists[subsets[0]].n_records
    _check_nonempty(n, func)
    thr = np.minimum(np.asarray(thresholds, dtype=np.float64), n)
    rows = {s: _row_from_histogram(hists[s], thr, thresholds, by_size, len(s)) for s in subsets}
    table = _table(rows, names, max_size, n)
    if target is not None:
        table["minimal"] = _minimal_mask(table, target)
    return LatticeResult(names, max_size, thresholds, by_size, missing, n, target, table)


# --------------------------------------------------------------------------------------------
# The release layer's tier table: revealed records per sensitive field
# --------------------------------------------------------------------------------------------


def revealed_records(part, names) -> list[tuple[int, int]]:
    """For each sensitive column: records in homogeneous classes of ``part`` (a
    :class:`~riskcalc._core.spark.SparkPartition`), and those whose value is not the column's
    most common (ties: the first value in Spark's order). One job per column, on the cluster."""
    from pyspark.sql import Window

    F = _functions()
    sdf, qi = part.frame, list(part.columns)
    out = []
    for s in names:
        cells = _cells(sdf, qi, s)
        top = cells.groupBy("__rc_v").agg(F.sum("__rc_cnt").alias("__rc_vc"))
        top = top.withColumn("__rc_r", F.row_number().over(
            Window.orderBy(F.desc("__rc_vc"), _col("__rc_v").asc_nulls_last()))).where(_col("__rc_r") == 1)
        top = top.select(_col("__rc_v").alias("__rc_top"))
        flagged = cells.join(F.broadcast(top), how="cross").withColumn(
            "__rc_modal", F.when(_col("__rc_v").eqNullSafe(_col("__rc_top")), 1).otherwise(0))
        classes = flagged.groupBy(*[_col(q) for q in qi]).agg(
            F.sum("__rc_cnt").alias("size"), F.count(F.lit(1)).alias("distinct"), F.max("__rc_modal").alias("modal"))
        homo = _col("distinct") == 1
        row = classes.agg(
            F.sum(F.when(homo, _col("size")).otherwise(0)).alias("r"),
            F.sum(F.when(homo & (_col("modal") == 0), _col("size")).otherwise(0)).alias("m"),
        ).collect()[0]
        out.append((int(row["r"] or 0), int(row["m"] or 0)))
    return out


# --------------------------------------------------------------------------------------------
# Histories: uniqueness as censuses are linked, on a Spark-resident panel
# --------------------------------------------------------------------------------------------


def trajectory_uniqueness(panel, point="urn", *, static=(), max_linked=None, order="forward", k_threshold=5,
                          id="pupil_id"):
    """:func:`riskcalc.histories.trajectory_uniqueness` on a Spark panel (one row per pupil per
    census): the panel pivoted on the cluster to one row per pupil (the place at each census,
    an "absent" flag, the static fields of the pupil's first census), then one class-size
    histogram per number of censuses linked."""
    from .histories import _CENSUS_ORDER, TrajectoryUniquenessResult

    func = "trajectory_uniqueness"
    if order not in ("forward", "backward"):
        raise InvalidParameterError(
            f"The 'order' parameter of {func} must be 'forward' or 'backward'. Got {order!r} instead.")
    k_threshold = check_int(k_threshold, "k_threshold", func, minimum=2)
    static = spark_columns(panel, static, func=func, name="static") if static else ()
    spark_columns(panel, [id, "academic_year", point], func=func, name="point")
    F = _functions()
    year = _col("academic_year").cast("long")
    if "census" in panel.columns:
        census = F.coalesce(*[F.when(_col("census") == name, F.lit(code)) for name, code in _CENSUS_ORDER.items()],
                            F.lit(-1))
    else:
        census = F.lit(1)
    timed = panel.select(_col(id).alias("__rc_id"), (year * 3 + census).alias("__rc_t"), census.alias("__rc_cen"),
                         *key_columns(panel, [point]), *key_columns(panel, list(static)))
    times = [int(r["__rc_t"]) for r in timed.select("__rc_t").distinct().orderBy("__rc_t").collect()]
    if not times:
        raise InvalidParameterError(f"The 'panel' parameter of {func} has no rows.")
    if timed.where(_col("__rc_cen") < 0).limit(1).count():
        raise InvalidParameterError("The 'census' column must hold 'autumn', 'spring' or 'summer'.")
    names = {v: k for k, v in _CENSUS_ORDER.items()}
    labels = tuple(f"{t // 3} {names[t % 3]}" for t in times)
    m = len(times)
    aggs = [F.count(F.lit(1)).alias("__rc_rows"), F.countDistinct("__rc_t").alias("__rc_times")]
    for j, t in enumerate(times):
        at = _col("__rc_t") == t
        aggs.append(F.max(F.when(at, 1).otherwise(0)).alias(f"__rc_h{j}"))
        aggs.append(F.first(F.when(at, _col(point)), ignorenulls=True).alias(f"__rc_p{j}"))
    aggs += [F.min_by(_col(s), _col("__rc_t")).alias(f"__rc_s{i}") for i, s in enumerate(static)]
    pupils = timed.groupBy("__rc_id").agg(*aggs).persist()
    try:
        if pupils.where(_col("__rc_rows") > _col("__rc_times")).limit(1).count():
            raise InvalidParameterError(
                f"The 'panel' parameter of {func} has more than one row for a pupil in a census.")
        top = m if max_linked is None else check_int(max_linked, "max_linked", func, minimum=1, maximum=m)
        rows = {"n_linked": [], "n_pupils": [], "n_unique": [], "n_below": [], "min": [], "risk": []}
        for k in range(1, top + 1):
            cols = list(range(k)) if order == "forward" else list(range(m - k, m))
            present = None
            for j in cols:
                present = (_col(f"__rc_h{j}") == 1) if present is None else present | (_col(f"__rc_h{j}") == 1)
            keys = [f"__rc_s{i}" for i in range(len(static))]
            keys += [x for j in cols for x in (f"__rc_h{j}", f"__rc_p{j}")]
            classes = pupils.where(present).groupBy(*keys).agg(F.count(F.lit(1)).alias(SIZE))
            hist, _ = histogram_and_nulls(classes, keys, count_nulls=False)
            rows["n_linked"].append(k)
            rows["n_pupils"].append(hist.n_records)
            rows["n_unique"].append(hist.n_unique)
            rows["n_below"].append(int(hist.records_below([k_threshold])[0]))
            rows["min"].append(hist.k)
            rows["risk"].append(hist.average_risk)
    finally:
        pupils.unpersist()
    return TrajectoryUniquenessResult(
        point=point, static=tuple(static), times=labels, order=order,
        n_linked=tuple(rows["n_linked"]), n_pupils=tuple(rows["n_pupils"]),
        n_unique=tuple(rows["n_unique"]), n_below_k=tuple(rows["n_below"]), k_threshold=k_threshold,
        min_class=tuple(rows["min"]), average_risk=tuple(rows["risk"]),
    )
