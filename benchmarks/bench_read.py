"""From the file: Parquet dataset to class-size histogram, riskcalc against DuckDB and polars.

Plain script (issue 27, part 2: reading, not counting, is the cost)::

    python benchmarks/bench_read.py --rows 1000000 10000000 --rounds 2
    python benchmarks/bench_read.py --panel national --rounds 2            # 8.5 M pupils x 5 censuses
    python benchmarks/bench_read.py --rows 100000000 --fields 6 --cores 2  # the 2 GB target
    python benchmarks/bench_read.py --rows 10000000 --baseline /work/main  # before/after

The data are the synthetic panel of ``bench_spark.py`` (``rows / 5`` pupils x 5 spring
censuses, a Parquet dataset partitioned by academic year and census), written once under
``--data``. Each case runs in its own subprocess (the peak memory is that of one tool: the
resident set of the process and its children, sampled every 20 ms with psutil) and the tools
alternate round by round, so a change of machine load falls on all of them. The work, on the
first ``--fields`` of the ten fields of ``bench_lattice.py``:

* ``riskcalc``: ``riskcalc.encode(dir, fields)`` (the dataset streamed into codes), then
  ``riskcalc.size_histogram`` on the encoded table (``NUMBA_NUM_THREADS`` and Arrow's CPU count
  set to ``--cores``);
* ``riskcalc-direct``: ``riskcalc.size_histogram(dir, fields)``, the one call a user writes (the
  codes are made for this question alone, so no class number per record is kept);
* ``riskcalc-baseline``: the same calls with another checkout of riskcalc first on the path
  (``--baseline DIR``, e.g. the main branch before this change);
* ``pandas``: ``synthetic.read_panel`` into pandas, then ``encode`` and the histogram (the
  path the issue measured);
* ``duckdb``: ``SELECT n, count(*) FROM (SELECT count(*) n FROM read_parquet(...) GROUP BY
  fields) GROUP BY n`` (``SET threads = cores``);
* ``polars``: ``scan_parquet(...).group_by(fields).len()``, then the counts of the lengths
  (``POLARS_MAX_THREADS = cores``).

Every tool's histogram must equal the others' (checked: a fast wrong answer fails). Prints one
line per case with the machine load (``os.getloadavg``) before and after it.
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
sys.path.insert(0, str(ROOT / "benchmarks"))

from _harness import PANEL_FIELDS, case_result, print_case, run_sampled

FIELDS = PANEL_FIELDS
#: The national panel: 8.5 million pupils x 5 censuses.
PANELS = {"national": 42_500_000}


def _fields() -> list[str]:
    return list(FIELDS[: int(os.environ.get("BENCH_READ_FIELDS", len(FIELDS)))])


def _glob(path: str) -> str:
    return f"{path}/**/*.parquet"


# ---------------------------------------------------------------------------------------------
# The cases (each run in a child process)
# ---------------------------------------------------------------------------------------------


def case_riskcalc(path: str, cores: int) -> dict:
    import pyarrow as pa

    pa.set_cpu_count(cores)
    pa.set_io_thread_count(max(cores, 2))
    import riskcalc as rc

    fields = _fields()
    t = time.perf_counter()
    enc = rc.encode(path, fields)
    out = {
        "encode_s": time.perf_counter() - t,
        "codes_mb": sum(enc[c].codes.nbytes for c in fields) / 2**20,
        "riskcalc_from": str(Path(rc.__file__).parents[1]),
    }
    t = time.perf_counter()
    hist = rc.size_histogram(enc, fields)
    out["histogram_s"] = time.perf_counter() - t
    return out | _figures(hist)


def case_riskcalc_direct(path: str, cores: int) -> dict:
    """The one call a user writes: ``size_histogram(path, fields)``. The codes are made for this
    question alone, so the classes are counted without a class number per record."""
    import pyarrow as pa

    pa.set_cpu_count(cores)
    pa.set_io_thread_count(max(cores, 2))
    import riskcalc as rc

    t = time.perf_counter()
    hist = rc.size_histogram(path, _fields())
    return {"histogram_s": time.perf_counter() - t} | _figures(hist)


def case_pandas(path: str, cores: int) -> dict:
    import riskcalc as rc
    from synthetic import read_panel

    fields = _fields()
    t = time.perf_counter()
    df = read_panel(path, columns=fields)
    out = {"read_s": time.perf_counter() - t}
    t = time.perf_counter()
    enc = rc.encode(df, fields)
    del df
    out["encode_s"] = time.perf_counter() - t
    t = time.perf_counter()
    hist = rc.size_histogram(enc, fields)
    out["histogram_s"] = time.perf_counter() - t
    return out | _figures(hist)


def case_duckdb(path: str, cores: int) -> dict:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {cores}")
    cols = ", ".join(f'"{c}"' for c in _fields())
    t = time.perf_counter()
    rows = con.execute(
        f"SELECT n, count(*) FROM (SELECT count(*) AS n FROM read_parquet('{_glob(path)}', "
        f"hive_partitioning = true) GROUP BY {cols}) GROUP BY n ORDER BY n"
    ).fetchall()
    out = {"histogram_s": time.perf_counter() - t}
    return out | _figures_from([r[0] for r in rows], [r[1] for r in rows])


def case_polars(path: str, cores: int) -> dict:
    import polars as pl

    t = time.perf_counter()
    sizes = (
        pl.scan_parquet(_glob(path), hive_partitioning=True)
        .group_by(_fields())
        .len()
        .group_by("len")
        .agg(pl.len().alias("classes"))
        .sort("len")
        .collect()
    )
    out = {"histogram_s": time.perf_counter() - t}
    return out | _figures_from(sizes["len"].to_list(), sizes["classes"].to_list())


def _figures_from(sizes, counts) -> dict:
    return {
        "n_records": int(sum(s * c for s, c in zip(sizes, counts, strict=True))),
        "n_classes": int(sum(counts)),
        "histogram": [[int(s) for s in sizes], [int(c) for c in counts]],
    }


def _figures(hist) -> dict:
    return _figures_from(hist.sizes.tolist(), hist.counts.tolist())


CASES = {
    "riskcalc": case_riskcalc,
    "riskcalc-direct": case_riskcalc_direct,
    "riskcalc-baseline": case_riskcalc,
    "pandas": case_pandas,
    "duckdb": case_duckdb,
    "polars": case_polars,
}


def child(engine: str, path: str, cores: int) -> None:
    print(json.dumps(CASES[engine](path, cores)))


# ---------------------------------------------------------------------------------------------
# The parent
# ---------------------------------------------------------------------------------------------


def run_case(
    engine: str, path: Path, cores: int, n_fields: int, baseline: str | None, timeout: float
) -> dict:
    code = baseline if engine == "riskcalc-baseline" else str(ROOT)
    env = dict(
        os.environ,
        NUMBA_NUM_THREADS=str(cores),
        POLARS_MAX_THREADS=str(cores),
        OMP_NUM_THREADS=str(cores),
        BENCH_READ_FIELDS=str(n_fields),
        PYTHONPATH=code,
    )
    load_before = os.getloadavg()
    run = run_sampled(
        [sys.executable, __file__, "--child", engine, str(path), str(cores)],
        env=env,
        timeout=timeout,
        cwd=code,
    )
    return case_result(run, {"engine": engine, "cores": cores, "fields": n_fields}, load_before)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    ap.add_argument(
        "--panel", choices=list(PANELS), help="a named panel size (national: 8.5 M pupils x 5)"
    )
    ap.add_argument("--fields", type=int, default=len(FIELDS), help="the first N of the ten fields")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument(
        "--engines",
        nargs="+",
        default=["riskcalc", "riskcalc-direct", "duckdb", "polars"],
        choices=list(CASES),
    )
    ap.add_argument(
        "--baseline", default=None, help="a checkout of riskcalc for the riskcalc-baseline case"
    )
    ap.add_argument(
        "--data",
        default=str(Path(tempfile.gettempdir()) / "riskcalc_bench_spark"),
        help="where the panels are written (shared with bench_spark.py, kept for reuse)",
    )
    ap.add_argument("--timeout", type=float, default=7200)
    ap.add_argument("--json", default=None, help="append JSON lines here")
    args = ap.parse_args()
    engines = list(args.engines)
    if args.baseline and "riskcalc-baseline" not in engines:
        engines.insert(1, "riskcalc-baseline")
    if "riskcalc-baseline" in engines and not args.baseline:
        ap.error("riskcalc-baseline needs --baseline DIR")
    from bench_spark import panel_dir

    sizes = [PANELS[args.panel]] if args.panel else args.rows
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    print(
        f"# {platform.node()} {os.cpu_count()} cores, python {platform.python_version()}, "
        f"{args.fields} fields, {args.cores} cores per tool",
        flush=True,
    )
    for rows in sizes:
        t = time.perf_counter()
        path = panel_dir(data, rows)
        print(f"# panel {rows:,} rows at {path} ({time.perf_counter() - t:.0f} s)", flush=True)
        reference = None
        for r in range(args.rounds):
            order = engines if r % 2 == 0 else engines[::-1]
            for engine in order:
                res = run_case(engine, path, args.cores, args.fields, args.baseline, args.timeout)
                res["rows_requested"], res["round"] = rows, r
                hist = res.pop("histogram", None)
                if hist is not None:
                    reference = reference or hist
                    res["histogram_matches"] = hist == reference
                print_case(res, args.json)
                if hist is not None and hist != reference:
                    sys.exit(f"{engine}: a different histogram from the first tool's")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
