"""Benchmark riskcalc on Spark against the in-memory path and DuckDB, on a Parquet panel.

Plain script (rerun it anywhere pyspark, Java 17+ and duckdb are installed)::

    python benchmarks/bench_spark.py --rows 1000000 10000000 --cores 1 2
    python benchmarks/bench_spark.py --rows 42500000 --cores 2 --engines spark duckdb   # the national panel

For each size, a synthetic panel (``synthetic.generate_panel``: ``rows / 5`` pupils x 5 spring
censuses, one row per pupil per census) is written once as a partitioned Parquet dataset under
``--data`` (reused by later runs). Each case runs in its own subprocess, so the peak memory is
that of one tool: the resident set of the process and its children (the Spark JVM included),
sampled every 50 ms. The work, on the 10 fields of ``bench_lattice.py``:

* ``spark``: ``spark.read.parquet(dir)``, then ``riskcalc.size_histogram``, ``k_anonymity``,
  ``uniqueness`` and ``small_count_exposure`` on the Spark DataFrame (``local[cores]``, driver
  memory ``--driver-memory``, default 1g: the driver and the executors share that JVM);
* ``memory``: ``synthetic.read_panel(dir, columns=FIELDS)`` into pandas, ``riskcalc.encode``,
  then the same four calls on the encoded table (``NUMBA_NUM_THREADS=cores``);
* ``duckdb``: ``GROUP BY`` the fields then ``GROUP BY`` the class size over
  ``read_parquet(dir/**/*.parquet)`` (``SET threads = cores``), the histogram read by
  ``riskcalc.SizeHistogram``.

Every engine's class-size histogram must equal the others' (checked; a fast wrong answer fails).
Prints one line per case and writes JSON lines to ``--json`` with the machine load before and
after each case (``os.getloadavg``): the figures are only comparable at similar load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _harness import PANEL_FIELDS, case_result, print_case, run_sampled

FIELDS = PANEL_FIELDS
YEARS = 5


def panel_dir(data: Path, rows: int) -> Path:
    """The panel of about ``rows`` rows (``rows // 5`` pupils x 5 censuses), generated once."""
    out = data / f"panel_{rows}"
    if not (out / "_done").exists():
        from synthetic import generate_panel

        t = time.perf_counter()
        generate_panel(max(1, rows // YEARS), years=YEARS, rng=0, out=out, force=True)
        (out / "_done").write_text(f"{time.perf_counter() - t:.1f} s\n")
    return out


# ---------------------------------------------------------------------------------------------
# The cases (each run in a child process)
# ---------------------------------------------------------------------------------------------


def case_spark(path: str, cores: int, driver_memory: str) -> dict:
    from pyspark.sql import SparkSession

    t0 = time.perf_counter()
    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("bench_spark")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", str(max(2, 4 * cores)))
        # pandas writes nanosecond timestamps (date_of_birth), which Spark reads as longs
        .config("spark.sql.legacy.parquet.nanosAsLong", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    startup = time.perf_counter() - t0
    sdf = spark.read.parquet(path).select(*FIELDS)
    out = {"startup_s": startup}
    # on Spark each further measure is one more job over the data
    _measure(sdf, out, three=os.environ.get("BENCH_SPARK_HISTOGRAM_ONLY") != "1")
    spark.stop()
    return out


def _measure(data, out: dict, *, three: bool) -> None:
    """Time the histogram, then (``three``) k-anonymity, uniqueness and small counts, into ``out``."""
    import riskcalc as rc

    t = time.perf_counter()
    hist = rc.size_histogram(data, FIELDS)
    out["histogram_s"] = time.perf_counter() - t
    k = u = s = None
    if three:
        t = time.perf_counter()
        k = rc.k_anonymity(data, FIELDS)
        u = rc.uniqueness(data, FIELDS)
        s = rc.small_count_exposure(data, FIELDS)
        out["three_measures_s"] = time.perf_counter() - t
    out.update(_figures(hist, k, u, s))


def _lattice(path: str, cores: int, driver_memory: str, strategy: str) -> dict:
    """The field lattice up to pairs of the 10 fields (55 subsets) on Spark, by ``strategy``."""
    import itertools

    from pyspark.sql import SparkSession

    from riskcalc._core.spark import lattice_histograms

    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("bench_spark_lattice")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", str(max(2, 4 * cores)))
        .config("spark.sql.legacy.parquet.nanosAsLong", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    sdf = spark.read.parquet(path).select(*FIELDS)
    subsets = [s for m in (1, 2) for s in itertools.combinations(range(len(FIELDS)), m)]
    t = time.perf_counter()
    hists = lattice_histograms(sdf, list(FIELDS), subsets, strategy=strategy)
    out = {
        "lattice_s": time.perf_counter() - t,
        "subsets": len(subsets),
        "n_unique_pairs_total": sum(h.n_unique for s, h in hists.items() if len(s) == 2),
    }
    spark.stop()
    return out


def case_lattice_grouping_sets(path, cores, driver_memory):
    return _lattice(path, cores, driver_memory, "grouping_sets")


def case_lattice_per_subset(path, cores, driver_memory):
    return _lattice(path, cores, driver_memory, "per_subset")


def case_memory(path: str, cores: int, driver_memory: str) -> dict:
    import riskcalc as rc
    from synthetic import read_panel

    t = time.perf_counter()
    df = read_panel(path, columns=list(FIELDS))
    out = {"read_s": time.perf_counter() - t}
    t = time.perf_counter()
    enc = rc.encode(df, list(FIELDS))
    del df
    out["encode_s"] = time.perf_counter() - t
    _measure(enc, out, three=True)
    return out


def case_duckdb(path: str, cores: int, driver_memory: str) -> dict:
    import duckdb
    import numpy as np

    import riskcalc as rc

    con = duckdb.connect()
    con.execute(f"SET threads = {cores}")
    cols = ", ".join(f'"{c}"' for c in FIELDS)
    t = time.perf_counter()
    rows = con.execute(
        f"SELECT n, count(*) FROM (SELECT count(*) AS n FROM read_parquet('{path}/**/*.parquet', "
        f"hive_partitioning = true) GROUP BY {cols}) GROUP BY n ORDER BY n"
    ).fetchall()
    hist = rc.SizeHistogram(
        np.array([r[0] for r in rows], np.int64), np.array([r[1] for r in rows], np.int64)
    )
    out = {"histogram_s": time.perf_counter() - t}
    out.update(_figures(hist, None, None, None))
    return out


def _figures(hist, k, u, s) -> dict:
    out = {
        "n_records": hist.n_records,
        "n_classes": hist.n_classes,
        "k": hist.k,
        "n_unique": hist.n_unique,
        "histogram": [hist.sizes.tolist(), hist.counts.tolist()],
    }
    if k is not None:
        assert k.k == hist.k and u.n_unique == hist.n_unique and s.n_cells == hist.n_classes
    return out


CASES = {
    "spark": case_spark,
    "memory": case_memory,
    "duckdb": case_duckdb,
    "lattice-grouping-sets": case_lattice_grouping_sets,
    "lattice-per-subset": case_lattice_per_subset,
}


def child(engine: str, path: str, cores: int, driver_memory: str) -> None:
    os.environ["NUMBA_NUM_THREADS"] = str(cores)
    print(json.dumps(CASES[engine](path, cores, driver_memory)))


# ---------------------------------------------------------------------------------------------
# The parent: run each case in a subprocess, sample its memory
# ---------------------------------------------------------------------------------------------


def run_case(engine: str, path: Path, cores: int, driver_memory: str, timeout: float) -> dict:
    env = dict(os.environ, NUMBA_NUM_THREADS=str(cores), PYTHONPATH=str(ROOT))
    load_before = os.getloadavg()
    run = run_sampled(
        [sys.executable, __file__, "--child", engine, str(path), str(cores), driver_memory],
        env=env,
        timeout=timeout,
        interval=0.05,
    )
    return case_result(run, {"engine": engine, "cores": cores}, load_before)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--cores", type=int, nargs="+", default=[1, 2])
    ap.add_argument(
        "--engines",
        nargs="+",
        default=["spark", "memory", "duckdb"],
        choices=list(CASES),
        help="cases to run; lattice-grouping-sets / lattice-per-subset time the Spark field "
        "lattice up to pairs (55 subsets) by each strategy",
    )
    ap.add_argument(
        "--data",
        default=str(Path(tempfile.gettempdir()) / "riskcalc_bench_spark"),
        help="where the panels are written (kept for reuse)",
    )
    ap.add_argument("--driver-memory", default="1g")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--json", default=None, help="append JSON lines here")
    ap.add_argument(
        "--histogram-only",
        action="store_true",
        help="Spark: time the class-size histogram only (k, uniqueness and small counts are "
        "read off it; each extra call is one more pass over the data)",
    )
    args = ap.parse_args()
    if args.histogram_only:
        os.environ["BENCH_SPARK_HISTOGRAM_ONLY"] = "1"
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    print(f"# {platform.node()} {os.cpu_count()} cores, python {platform.python_version()}")
    for rows in args.rows:
        t = time.perf_counter()
        path = panel_dir(data, rows)
        print(
            f"# panel {rows:,} rows at {path} ({time.perf_counter() - t:.0f} s; generated in "
            f"{(path / '_done').read_text().strip()})",
            flush=True,
        )
        reference = None
        for cores in args.cores:
            for engine in args.engines:
                res = run_case(engine, path, cores, args.driver_memory, args.timeout)
                res["rows_requested"] = rows
                hist = res.pop("histogram", None)
                if hist is not None:
                    reference = reference or hist
                    res["histogram_matches"] = hist == reference
                    assert hist == reference, f"{engine} on {cores} cores: a different histogram"
                print_case(res, args.json)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        main()
