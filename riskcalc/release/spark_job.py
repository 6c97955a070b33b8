"""``riskcalc analyse`` and ``riskcalc report`` on Spark: the same outputs, computed on a cluster.

For Parquet datasets (or Delta tables, or tables of the Spark catalogue) too big for one
machine's memory. The session is the active one (a Databricks notebook's ``spark``), else a new
one on ``spark_master`` (default ``local[*]``, the cores of this machine). Every measure runs
through the Spark backend (:mod:`riskcalc._core.spark`): only histograms and per-table counts
reach the driver. The provenance names the table or path and a content fingerprint computed on
the cluster (:func:`riskcalc._provenance.describe_spark`) in place of a file hash.

Sections that need every record on the driver (the individual risk with sampling weights, the
household risk, the log-linear model) are refused with the usual one-line error, never
computed on a silent collect.
"""

from __future__ import annotations

import os
from pathlib import Path

from .._core.spark import SparkUnsupportedError, unsupported
from .._provenance import describe_spark, provenance
from ..exceptions import DataFileError, InvalidParameterError

__all__ = ["session", "read", "analyse", "report_job"]


def check_source(source) -> None:
    """Refuse, in one line and before Spark starts, a local input Spark could not read.

    A Parquet file (or every part of a Parquet dataset folder) must have a readable footer (read
    with pyarrow: a few kilobytes a part); a CSV file must be readable. Cloud paths and table
    names are left to Spark. Spark itself would fail later with pages of Java log.
    """
    text = str(source)
    path = Path(text)
    if "://" in text or not (path.is_file() or path.is_dir()):
        return
    if path.is_dir() and (path / "_delta_log").is_dir():
        return
    if path.is_file() and path.suffix.lower() not in (".parquet", ".pq"):
        try:
            with open(path, "rb") as fh:
                fh.read(1)
        except OSError as exc:
            raise DataFileError(f"Cannot read {text!r}: {exc.strerror or exc}.") from None
        return
    from .._core.io import _parquet_parts, check_parquet_parts

    check_parquet_parts(
        [path] if path.is_file() else _parquet_parts(path), root=None if path.is_file() else path
    )


def check_master(master: str | None, timeout: float = 5.0) -> None:
    """Refuse a ``spark://host:port`` master that cannot be reached, in one line, before Spark
    starts (Spark retries for a minute or more and then fails with a Java stack)."""
    if not master or not master.startswith("spark://"):
        return
    import socket

    for hostport in master[len("spark://") :].split(","):
        host, _, port = hostport.partition(":")
        try:
            with socket.create_connection((host, int(port or 7077)), timeout=timeout):
                return
        except (OSError, ValueError):
            continue
    raise InvalidParameterError(
        f"The --spark-master {master!r} cannot be reached (no answer within {timeout:g} s): check "
        "the address and port, or run with a local master (--spark-master 'local[*]')."
    )


def spark_error(exc) -> Exception | None:
    """A one-line :class:`DataFileError` for an error raised by Spark (a Java exception through
    py4j, or PySpark's own), or ``None`` for any other error: the first line of Spark's message,
    without the Java stack."""
    module = type(exc).__module__ or ""
    if not (module.startswith(("py4j", "pyspark"))):
        return None
    text = str(exc)
    for marker in ("org.apache.spark.", "java.", ": "):
        if marker in text:
            text = text[text.index(marker) :]
            break
    line = " ".join(text.split())
    line = line.split(" at org.")[0].split(" at java.")[0]
    return DataFileError(f"Spark failed: {line[:300]}")


def session(master: str | None = None, *, app: str = "riskcalc"):
    """The active Spark session, or a new one on ``master`` (default ``local[*]``).

    A new local session keeps the UI off and uses as many shuffle partitions as cores. The JVM's
    own console log (start-up warnings, stage errors) goes to a temporary file that disappears
    with the process, unless the environment variable ``RISKCALC_SPARK_LOG`` is set: riskcalc
    says what went wrong in one line instead.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise InvalidParameterError(
            "--engine spark needs pyspark: pip install 'riskcalc[spark]'."
        ) from exc
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    master = master or "local[*]"
    # Parquet written by pandas holds nanosecond timestamps, which Spark reads only as longs
    # (the same values, so the same classes).
    builder = (
        SparkSession.builder.master(master)
        .appName(app)
        .config("spark.sql.legacy.parquet.nanosAsLong", "true")
    )
    if master.startswith("local"):
        cores = os.cpu_count() or 2
        builder = (
            builder.config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(max(2, 2 * cores)))
        )
    check_master(master)
    spark = _quietly(builder.getOrCreate)
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _quietly(start):
    """Run ``start`` (which launches the JVM) with file descriptor 2 pointing at an unlinked
    temporary file, so that the JVM inherits it as its stderr; Python's stderr comes back."""
    if os.environ.get("RISKCALC_SPARK_LOG"):
        return start()
    import sys
    import tempfile

    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # pragma: no cover - no file descriptor 2
        return start()
    with tempfile.TemporaryFile(prefix="riskcalc-spark-") as log:
        try:
            os.dup2(log.fileno(), 2)
            return start()
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def read(spark, source):
    """A Spark DataFrame of ``source``: a Parquet file or dataset folder (hive partitions
    allowed), a Delta table folder (holding ``_delta_log``), a CSV file (header, types
    inferred), or the name of a table in the session's catalogue."""
    text = str(source)
    path = Path(text)
    if path.is_dir():
        if (path / "_delta_log").is_dir():
            return spark.read.format("delta").load(text)
        return spark.read.parquet(text)
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in (".parquet", ".pq"):
            return spark.read.parquet(text)
        if suffix in (".csv", ".tsv", ".txt"):
            return spark.read.csv(
                text, header=True, inferSchema=True, sep="\t" if suffix == ".tsv" else ","
            )
        raise DataFileError(
            f"{text!r}: --engine spark reads Parquet, Delta or CSV; convert it to Parquet first."
        )
    if "://" in text:  # a cloud path (abfss://, s3a://, dbfs:/ ...): let Spark resolve it
        return spark.read.parquet(text)
    if "/" in text or "\\" in text or path.suffix:  # a path, not a table name: it does not exist
        raise DataFileError(f"No such file or folder: {text!r}.")
    try:
        exists = spark.catalog.tableExists(text)
    except Exception:  # not a valid table identifier (Spark's parser refuses it)
        exists = False
    if exists:
        return spark.table(text)
    raise DataFileError(f"No such file, folder or Spark table: {text!r}.")


def _spark_errors(job):
    """Spark's own errors (a Java exception through py4j, PySpark's exceptions) leave ``job`` as
    one-line :class:`DataFileError`; every other error is left as it is."""
    import functools

    @functools.wraps(job)
    def run(*args, **kwargs):
        try:
            return job(*args, **kwargs)
        except Exception as exc:
            mapped = spark_error(exc)
            if mapped is None:
                raise
            raise mapped from None

    return run


@_spark_errors
def analyse(
    path,
    qi,
    *,
    weights=None,
    k_thresholds=(2, 3, 5, 10),
    count_thresholds=(1, 2, 3, 5, 10),
    missing="category",
    alpha=1.0,
    risk_threshold=0.2,
    population=None,
    sampling_fraction=None,
    population_size=None,
    population_method="auto",
    household=None,
    risk_method="approx",
    sensitive=(),
    sep=None,
    normalise=False,
    spark=None,
    spark_master=None,
    sheet=None,
):
    """:func:`riskcalc.release.analyse.analyse` on Spark: the same sections and rows.

    ``path`` is a path or table name (read with :func:`read`) or a Spark DataFrame. The
    population section's log-linear estimate is not fitted (it needs the cells on the driver);
    the estimator rule says so in its note. The columns are profiled on the cluster (each text
    column's distinct values and their counts, never the records) and, with ``normalise``,
    normalised there through a join with the small mapping of the values a rule rewrites
    (:func:`riskcalc.release.quality.quality_check`).
    """
    from .._uniqueness import uniqueness
    from ..attacker import attacker_risk
    from ..kanon import k_anonymity
    from ..small_counts import small_count_exposure
    from ..summary import RiskSummary
    from . import analyse as memory

    func = "analyse --engine spark"
    if weights is not None:
        raise unsupported("The individual risk with sampling weights (--weights)", func)
    if household is not None:
        raise unsupported("The household risk (--household)", func)
    if sheet is not None:
        raise unsupported("Reading a sheet of an Excel workbook (--sheet)", func)
    from .quality import quality_check

    for source in (path, population):
        if source is not None and not _is_frame(source):
            check_source(source)
    spark = spark if spark is not None else session(spark_master)
    frame = path if _is_frame(path) else read(spark, path)
    profiled = list(dict.fromkeys(list(qi) + list(sensitive)))
    roles = {c: ("quasi_identifier" if c in set(qi) else "sensitive") for c in profiled}
    source = _name(path) if _is_frame(path) else Path(str(path).rstrip("/")).name
    fixed, quality = quality_check(
        frame, profiled, roles=roles, normalise_columns=normalise, source=source
    )
    raw, frame = frame, (fixed if fixed is not None else frame)
    missing_records = "category" if missing == "wildcard" else missing
    if missing == "wildcard":
        raise unsupported("The wildcard rule (missing='wildcard')", func)
    summary = RiskSummary(
        uniqueness(frame, qi, missing=missing),
        k_anonymity(frame, qi, thresholds=k_thresholds, missing=missing),
        small_count_exposure(frame, qi, thresholds=count_thresholds, missing=missing),
    )
    sections = {"quasi_identifiers": summary.to_frame()}
    pop_frame = (
        None
        if population is None
        else (population if _is_frame(population) else read(spark, population))
    )
    attack = attacker_risk(
        frame, qi, population=pop_frame, threshold=risk_threshold, missing=missing_records
    )
    sections["attacker"] = memory._attacker_rows(attack)
    if sampling_fraction is not None or population_size is not None:
        sections["population"] = memory._population_rows(
            frame, qi, sampling_fraction, population_size, population_method, missing
        )
    if sensitive:
        sections["attribute"] = memory._attribute_rows(frame, qi, sensitive, missing)
    params = {
        "quasi_identifiers": list(qi),
        "weights": weights,
        "k_thresholds": list(k_thresholds),
        "count_thresholds": list(count_thresholds),
        "missing": missing,
        "alpha": alpha,
        "risk_threshold": risk_threshold,
        "population": _name(population) if population is not None else None,
        "sampling_fraction": sampling_fraction,
        "population_size": population_size,
        "population_method": population_method,
        "household": household,
        "risk_method": risk_method,
        "sensitive": list(sensitive),
        "normalise": bool(normalise),
        "engine": "spark",
    }
    source = None if _is_frame(path) else path
    prov = provenance("analyse", params)
    prov["data"] = "spark"
    prov["input"] = describe_spark(raw, source)
    if pop_frame is not None:
        prov["population"] = describe_spark(
            pop_frame, None if _is_frame(population) else population
        )
    prov["data_quality"] = quality.to_dict()
    return memory.Analysis(sections, prov, [f["message"] for f in quality.findings()], quality)


@_spark_errors
def report_job(
    path,
    *,
    scenarios=None,
    report=True,
    progress=False,
    sep=None,
    sensitive=None,
    normalise=False,
    spark=None,
    spark_master=None,
    sheet=None,
    columns=None,
):
    """:func:`riskcalc.release.job.report_job` on Spark: the tier table of each extract (a
    Parquet dataset folder, a folder of extract files, or one file), measured on the cluster,
    and the HTML report of that table.

    The measured columns are profiled on the cluster, and normalised there with ``normalise``
    (:func:`riskcalc.release.quality.quality_check`: each text column's distinct values and
    their counts, never the records); the other columns are not read for the direct-identifier
    check. The report's extra chapters that re-read the records (the identifying-field search
    and the staircase) are left out; aggregate tables (with a ``count`` column) are read into
    memory, as they are small by construction.
    """
    from .job import (
        _check_mapping_used,
        _files,
        _labels,
        _report,
        measure_extracts,
        measured_columns,
    )
    from .quality import apply_column_map, quality_check
    from .scenarios import load_scenarios

    if sheet is not None:
        raise unsupported("Reading a sheet of an Excel workbook (--sheet)", "report --engine spark")

    files = _files(Path(path)) if not _is_frame(path) and Path(str(path)).exists() else [path]
    for file in files:  # before Spark starts
        if not _is_frame(file):
            check_source(file)
    spark = spark if spark is not None else session(spark_master)
    scen = load_scenarios(scenarios)
    mapping = dict(columns or {})
    fields_known = {f for s in scen for f in s.fields} | set(sensitive or ())
    labels = _labels(files) if all(isinstance(f, Path) for f in files) else {str(path): path}
    extracts, aggregates, inputs, qualities, columns_of, written = {}, {}, [], [], {}, {}
    for label, file in labels.items():
        frame = read(spark, file)
        inputs.append(describe_spark(frame, file))
        if inputs[-1]["n_records"] == 0:
            raise DataFileError(f"The table {str(file)!r} has no records.")
        written[label] = list(frame.columns)
        rename = apply_column_map(frame.columns, mapping, fields_known, where=repr(str(label)))
        for old, new in rename.items():
            frame = frame.withColumnRenamed(old, new)
        columns_of[label] = list(frame.columns)
        if "count" in frame.columns:
            aggregates[label] = frame.toPandas()  # a published table: one row per cell
            continue
        fields, sens = measured_columns(frame.columns, scen, sensitive)
        roles = {**{f: "quasi_identifier" for f in fields}, **{c: "sensitive" for c in sens}}
        fixed, quality = quality_check(
            frame, fields + sens, roles=roles, normalise_columns=normalise, source=str(label)
        )
        qualities.append(quality)
        extracts[label] = fixed if fixed is not None else frame
    _check_mapping_used(mapping, written)
    table, result = measure_extracts(
        extracts,
        aggregates,
        {lab: columns_of[lab] for lab in extracts},
        scen,
        builtin=scenarios is None,
        sensitive=sensitive,
        inputs=inputs,
        qualities=qualities,
        normalise=normalise,
        mapping=mapping,
        before={"engine": "spark"},
    )
    if report:
        _report(result, table, title="How identifiable are these extracts?")
    return result


def _is_frame(obj) -> bool:
    """Whether ``obj`` is a table measured on Spark (else a path or a table name to read)."""
    from .._core.backend import backend_for

    return backend_for(obj, func="spark job").kind == "spark"


def _name(source) -> str:
    return "spark DataFrame" if _is_frame(source) else str(source)


# Re-exported so callers can catch the one error class without importing the engine.
SparkUnsupportedError = SparkUnsupportedError
