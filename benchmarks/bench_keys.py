"""Class sizes / k-anonymity / uniqueness: riskcalc against pandas, polars and DuckDB.

Usage (from the repository root)::

    python benchmarks/bench_keys.py --rows 100000,1000000 --repeats 3
    python benchmarks/bench_keys.py --rows 8500000 --source frame,parquet --json benchmarks/results/keys.jsonl

For each row count, quasi-identifier set and tool the task is the same: compute
the per-record equivalence-class size ``fk`` and from it ``k`` (min fk), ``n1``
(records with fk == 1), ``n2`` (fk == 2), the number of classes, the records
with fk < 2, 3, 5, 10 and the average prosecutor risk (n_classes / n).  Every
tool must produce identical figures; if any differs the run aborts (exit 2).

Every case (tool x source x set x size) runs in its own Python process, so the
peak RSS reported is that tool's alone.  A 1,000-row warm-up run of the same
case precedes the timed runs (lazy imports, first-call caches).

asv-shaped: ``TimeClassSizes`` / ``PeakMemClassSizes`` at the bottom wrap the
same case functions, if you later want to point asv at this file.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# the working-tree riskcalc, not an installed copy
for p in (str(REPO), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

import _data
import _harness as H
import numpy as np

QI_SETS: dict[str, tuple[str, ...]] = {
    "A": ("sex", "date_of_birth", "postcode"),
    "B": ("sex", "date_of_birth", "urn"),
    "C": ("sex", "nc_year", "ethnicity", "fsm", "sen", "eal"),
    "D": (
        "sex",
        "date_of_birth",
        "nc_year",
        "ethnicity",
        "fsm",
        "eal",
        "sen",
        "la_code",
        "urn",
        "postcode",
    ),
}
ALL_QI: tuple[str, ...] = tuple(dict.fromkeys(c for qi in QI_SETS.values() for c in qi))
THRESHOLDS = (2, 3, 5, 10)
WARMUP_ROWS = 1_000
INT_FIGURES = (
    ("n", "n_classes", "k", "n1", "n2")
    + tuple(f"below_{t}" for t in THRESHOLDS)
    + tuple(f"classes_below_{t}" for t in THRESHOLDS)
)

# tool name -> sources it supports.  "encoded" = riskcalc.encode() of the frame, untimed.
TOOLS: dict[str, tuple[str, ...]] = {
    "riskcalc": ("frame", "parquet", "csv"),
    "riskcalc-enc": ("encoded",),
    "pandas": ("frame", "parquet", "csv"),
    "polars": ("frame", "parquet", "csv"),  # pl.len().over(qi): per-record fk
    "polars-agg": ("frame", "parquet", "csv"),  # group_by(qi).len(): class sizes only
    "duckdb": ("frame", "parquet", "csv"),  # count(*) OVER (PARTITION BY qi)
    "duckdb-agg": ("frame", "parquet", "csv"),  # GROUP BY qi: class sizes only
}
DEFAULT_TOOLS = tuple(TOOLS)


# ---------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------


def _figures_from_records_per_size(rec: np.ndarray, n: int) -> dict:
    """``rec[f]`` = number of records whose class has size f."""
    rec = np.asarray(rec, dtype=np.int64)
    sizes = np.arange(rec.size, dtype=np.int64)
    classes = np.zeros_like(rec)
    classes[1:] = rec[1:] // sizes[1:]
    nz = np.flatnonzero(rec)
    n_classes = int(classes.sum())
    out = {
        "n": int(n),
        "n_classes": n_classes,
        "k": int(nz[0]) if nz.size else 0,
        "n1": int(rec[1]) if rec.size > 1 else 0,
        "n2": int(rec[2]) if rec.size > 2 else 0,
    }
    for t in THRESHOLDS:
        out[f"below_{t}"] = int(rec[:t].sum())
        out[f"classes_below_{t}"] = int(classes[:t].sum())
    out["avg_risk"] = n_classes / n if n else float("nan")
    return out


def figures_from_fk(fk) -> dict:
    fk = np.asarray(fk)
    return _figures_from_records_per_size(np.bincount(fk), fk.size)


def figures_from_class_sizes(sizes) -> dict:
    sizes = np.asarray(sizes, dtype=np.int64)
    cls = np.bincount(sizes)
    return _figures_from_records_per_size(cls * np.arange(cls.size), int(sizes.sum()))


def compare_figures(a: dict, b: dict) -> list[str]:
    diffs = [f"{k}: {a.get(k)} != {b.get(k)}" for k in INT_FIGURES if a.get(k) != b.get(k)]
    ra, rb = a.get("avg_risk"), b.get("avg_risk")
    if ra is None or rb is None or abs(ra - rb) > 1e-12 * max(1.0, abs(ra)):
        diffs.append(f"avg_risk: {ra} != {rb}")
    return diffs


# ---------------------------------------------------------------------------
# loading (untimed for "frame"/"encoded"; inside the timed call for files)
# ---------------------------------------------------------------------------


def load_pandas_frame(path):
    import pandas as pd

    # Exactly what a user gets from the Parquet file with the installed pandas and its default
    # dtypes: under pandas 3, str (Arrow-backed) text columns, ints, bools, and date_of_birth
    # as an object column of Python ``datetime.date`` values.
    return pd.read_parquet(path)


def _pd_read(path, source, qi):
    import pandas as pd

    if source == "parquet":
        return pd.read_parquet(path, columns=list(qi))
    parse = ["date_of_birth"] if "date_of_birth" in qi else False
    return pd.read_csv(path, usecols=list(qi), parse_dates=parse)


def _pl_read(path, source, qi):
    import polars as pl

    if source == "parquet":
        return pl.read_parquet(path, columns=list(qi))
    return pl.read_csv(path, columns=list(qi), try_parse_dates=True)


def _duck_rel(source, path):
    if source == "parquet":
        return f"read_parquet('{path}')"
    if source == "csv":
        return f"read_csv('{path}')"
    return "t"


def _ident(c):
    return '"' + c.replace('"', '""') + '"'


# ---------------------------------------------------------------------------
# cases: setup(paths, source, qi) -> state (untimed), run(state) -> figures (timed)
# ---------------------------------------------------------------------------


def setup_case(tool: str, source: str, qi, paths: dict) -> dict:
    st: dict = {
        "tool": tool,
        "source": source,
        "qi": tuple(qi),
        "path": str(paths.get(source, paths["parquet"])),
    }
    if tool == "riskcalc":
        import riskcalc

        st["rc"] = riskcalc
        st["data"] = (
            load_pandas_frame(paths["parquet"]) if source == "frame" else str(paths[source])
        )
    elif tool == "riskcalc-enc":
        import riskcalc

        st["rc"] = riskcalc
        df = load_pandas_frame(paths["parquet"])
        t0 = time.perf_counter()
        st["data"] = riskcalc.encode(df, columns=list(ALL_QI))
        st["encode_s"] = time.perf_counter() - t0
        del df
        gc.collect()
    elif tool == "pandas":
        import pandas  # noqa: F401

        st["data"] = load_pandas_frame(paths["parquet"]) if source == "frame" else None
    elif tool.startswith("polars"):
        import polars as pl

        if source == "frame":
            import pyarrow.parquet as pq

            st["data"] = pl.from_arrow(pq.read_table(paths["parquet"]))
    elif tool.startswith("duckdb"):
        import duckdb

        con = duckdb.connect()
        if "BENCH_THREADS" in os.environ:
            con.execute(f"SET threads = {int(os.environ['BENCH_THREADS'])}")
        if source == "frame":
            import pyarrow.parquet as pq

            st["arrow"] = pq.read_table(paths["parquet"])
            con.register("t", st["arrow"])
        st["con"] = con
        cols = ", ".join(_ident(c) for c in qi)
        rel = _duck_rel(source, st["path"])
        if tool == "duckdb":
            st["sql"] = f"SELECT count(*) OVER (PARTITION BY {cols}) AS fk FROM {rel}"
        else:
            st["sql"] = f"SELECT count(*) AS c FROM {rel} GROUP BY {cols}"
    else:
        raise ValueError(f"unknown tool {tool!r}")
    return st


def reset_case(st: dict) -> None:
    """Untimed, before every timed run: drop riskcalc's per-EncodedTable partition
    cache, so each run measures building the classes, not a cache hit.  (Within one
    run, class_sizes -> k_anonymity -> uniqueness may share the partition: that is
    the intended encode-once use.)"""
    enc = st.get("data")
    cache = getattr(enc, "_partitions", None)
    if st["tool"] == "riskcalc-enc" and hasattr(cache, "clear"):
        cache.clear()
        st["cache_cleared"] = True


def run_case(st: dict) -> dict:
    tool, source, qi = st["tool"], st["source"], list(st["qi"])
    if tool == "riskcalc":
        cs = st["rc"].class_sizes(st["data"], qi)
        return figures_from_fk(cs.fk)
    if tool == "riskcalc-enc":
        # the first call on the encoded table (its partition cache is cleared before each run)
        return figures_from_fk(st["rc"].class_sizes(st["data"], qi).fk)
    if tool == "pandas":
        df = st["data"] if source == "frame" else _pd_read(st["path"], source, qi)
        fk = df.groupby(qi, observed=True, dropna=False)[qi[0]].transform("size").to_numpy()
        return figures_from_fk(fk)
    if tool == "polars":
        import polars as pl

        df = st["data"] if source == "frame" else _pl_read(st["path"], source, qi)
        fk = df.select(pl.len().over(qi).alias("fk")).to_series().to_numpy()
        return figures_from_fk(fk)
    if tool == "polars-agg":
        df = st["data"] if source == "frame" else _pl_read(st["path"], source, qi)
        return figures_from_class_sizes(df.group_by(qi).len()["len"].to_numpy())
    if tool == "duckdb":
        fk = st["con"].execute(st["sql"]).fetchnumpy()["fk"]
        return figures_from_fk(fk)
    if tool == "duckdb-agg":
        return figures_from_class_sizes(st["con"].execute(st["sql"]).fetchnumpy()["c"])
    raise ValueError(tool)


def _figures_from_api(cs, ka, un) -> dict:
    """Figures straight from riskcalc's own results (encoded case)."""
    fk = np.asarray(cs.fk)
    thr = [int(t) for t in ka.thresholds]
    rb = dict(zip(thr, np.asarray(ka.records_below).tolist()))
    cb = dict(zip(thr, np.asarray(ka.classes_below).tolist()))
    out = {
        "n": int(fk.size),
        "n_classes": int(ka.n_classes),
        "k": int(ka.k),
        "n1": int(un.n_unique),
        "n2": int(np.count_nonzero(fk == 2)),
    }
    for t in THRESHOLDS:
        out[f"below_{t}"] = int(rb[t])
        out[f"classes_below_{t}"] = int(cb[t])
    out["avg_risk"] = float(un.average_risk)
    out["_cs_n_classes"] = int(cs.n_classes)
    out["_un_n_classes"] = int(un.n_classes)
    out["_un_n_pairs"] = int(un.n_pairs)
    out["_un_highest_risk"] = float(un.highest_risk)
    return out


def api_consistency(fig: dict) -> list[str]:
    """Internal consistency of riskcalc's results against the fk-derived figures."""
    errs = []
    if "_cs_n_classes" in fig and fig["_cs_n_classes"] != fig["n_classes"]:
        errs.append(
            f"class_sizes.n_classes {fig['_cs_n_classes']} != k_anonymity.n_classes {fig['n_classes']}"
        )
    if "_un_n_classes" in fig and fig["_un_n_classes"] != fig["n_classes"]:
        errs.append(f"uniqueness.n_classes {fig['_un_n_classes']} != {fig['n_classes']}")
    if "_un_n_pairs" in fig and fig["_un_n_pairs"] not in (fig["n2"], fig["n2"] // 2):
        errs.append(f"uniqueness.n_pairs {fig['_un_n_pairs']} is neither n2={fig['n2']} nor n2/2")
    if (
        "_un_highest_risk" in fig
        and fig["k"]
        and abs(fig["_un_highest_risk"] - 1.0 / fig["k"]) > 1e-12
    ):
        errs.append(f"uniqueness.highest_risk {fig['_un_highest_risk']} != 1/k = {1.0 / fig['k']}")
    return errs


def riskcalc_api_check(st: dict, fig: dict) -> tuple[dict, list[str]]:
    """Untimed-for-the-median check of riskcalc.k_anonymity / uniqueness on the raw
    input (one call each; their single-call times are reported)."""
    rc, data, qi = st["rc"], st["data"], list(st["qi"])
    extra: dict = {}
    t0 = time.perf_counter()
    ka = rc.k_anonymity(data, qi, thresholds=THRESHOLDS)
    extra["k_anonymity_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    un = rc.uniqueness(data, qi)
    extra["uniqueness_s"] = time.perf_counter() - t0
    cs = rc.class_sizes(data, qi)
    api = _figures_from_api(cs, ka, un)
    errs = [f"raw API vs class_sizes fk: {d}" for d in compare_figures(fig, api)]
    errs += api_consistency(api)
    return extra, errs


def child_main(spec: dict) -> dict:
    tool, source, qi_name, n = spec["tool"], spec["source"], spec["qi"], spec["n"]
    qi = QI_SETS[qi_name]
    t_start = time.perf_counter()
    out: dict = {"tool": tool, "source": source, "qi": qi_name, "n": n}
    if tool.startswith("riskcalc"):
        out["riskcalc_source_sha1"] = _tree_hash(REPO / "riskcalc")

    if spec.get("warmup", True):
        wpaths = _data.cached_paths(WARMUP_ROWS, spec["seed"])
        wst = setup_case(tool, source, qi, wpaths)
        run_case(wst)
        del wst
        gc.collect()

    paths = {k: Path(v) for k, v in spec["paths"].items()}
    st = setup_case(tool, source, qi, paths)
    if "encode_s" in st:
        out["encode_s"] = st["encode_s"]
    reset_case(st)  # the warm-up must not leave anything behind either
    gc.collect()
    out["base_rss"] = H.current_rss_bytes()
    out["setup_s"] = time.perf_counter() - t_start

    with H.RssSampler() as sampler, H.CpuMeter() as cpu:
        times, fig = H.time_repeats(
            lambda: run_case(st), spec["repeats"], before=lambda: reset_case(st)
        )
    out["times"] = times
    out["median_s"] = H.median(times)
    out["min_s"] = min(times)
    out["cpu_s_per_run"] = cpu.own_cpu / len(times)  # this process, all threads
    out["other_busy"] = cpu.other_busy  # other processes' share of the machine
    out["timed_peak_rss"] = sampler.peak
    if st.get("cache_cleared"):
        out["partition_cache_cleared"] = True
    out["peak_rss"] = H.max_rss_bytes()  # lifetime peak, taken before the extra checks below

    errs = api_consistency(fig)
    if tool == "riskcalc":
        extra, e2 = riskcalc_api_check(st, fig)
        out.update(extra)
        errs += e2
    out["figures"] = {k: v for k, v in fig.items() if not k.startswith("_")}
    out["api_errors"] = errs

    if spec.get("profile") and tool.startswith("riskcalc"):
        reset_case(st)
        prof = cProfile.Profile()
        prof.enable()
        run_case(st)
        prof.disable()
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(30)
        pfile = Path(spec["profile"]) / f"profile_{tool}_{source}_{qi_name}_{n}.txt"
        pfile.parent.mkdir(parents=True, exist_ok=True)
        pfile.write_text(s.getvalue())
        out["profile_file"] = str(pfile)
    return out


def round_child(spec: dict) -> list[dict]:
    """Every tool on one (size, set) in ONE process, alternating: round r runs each tool once
    (the order rotates every round), so slow drifts in the machine's load hit all tools alike.
    Peak memory is then the process's (all tools' data loaded), not per tool."""
    qi = QI_SETS[spec["qi"]]
    cases = [(t, s) for t, s in spec["cases"]]
    paths = {k: Path(v) for k, v in spec["paths"].items()}
    if spec.get("warmup", True):
        wpaths = _data.cached_paths(WARMUP_ROWS, spec["seed"])
        for tool, src in cases:
            run_case(setup_case(tool, src, qi, wpaths))
    states = {}
    for tool, src in cases:
        st = setup_case(tool, src, qi, paths)
        reset_case(st)
        states[(tool, src)] = st
    gc.collect()
    base = H.current_rss_bytes()
    times = {c: [] for c in cases}
    cpus = {c: [] for c in cases}
    busy = {c: [] for c in cases}
    figs = {}
    for r in range(spec["repeats"]):
        order = cases[r % len(cases) :] + cases[: r % len(cases)]
        for case in order:
            st = states[case]
            reset_case(st)
            gc.collect()
            with H.CpuMeter() as cpu:
                t0 = time.perf_counter()
                figs[case] = run_case(st)
                times[case].append(time.perf_counter() - t0)
            cpus[case].append(cpu.own_cpu)
            busy[case].append(cpu.other_busy)
    peak = H.max_rss_bytes()
    out = []
    for case in cases:
        tool, src = case
        st = states[case]
        res = {
            "tool": tool,
            "source": src,
            "qi": spec["qi"],
            "n": spec["n"],
            "times": times[case],
            "median_s": H.median(times[case]),
            "min_s": min(times[case]),
            "cpu_s_per_run": H.median(cpus[case]),
            "other_busy": max(busy[case]),
            "peak_rss": peak,
            "timed_peak_rss": peak,
            "base_rss": base,
            "mode": "interleaved",
        }
        if "encode_s" in st:
            res["encode_s"] = st["encode_s"]
        errs = api_consistency(figs[case])
        if tool == "riskcalc":
            extra, e2 = riskcalc_api_check(st, figs[case])
            res.update(extra)
            errs += e2
        res["figures"] = {k: v for k, v in figs[case].items() if not k.startswith("_")}
        res["api_errors"] = errs
        if tool.startswith("riskcalc"):
            res["riskcalc_source_sha1"] = _tree_hash(REPO / "riskcalc")
        out.append(res)
    return out


def compile_cost(n: int = 200_000) -> dict:
    """First-call cost of the compiled kernels in fresh processes: cold (empty numba cache:
    compiles) and warm (cache filled by the cold run), next to the second call."""
    import tempfile

    code = (
        "import time, sys; t0 = time.perf_counter(); sys.path[:0] = [%r, %r]\n"
        "import numpy as np, _data, riskcalc as rc; t1 = time.perf_counter()\n"
        "df = _data.make_table(%d).to_pandas()\n"
        "qi = list(%r)\n"
        "z = time.perf_counter(); enc = rc.encode(df, columns=qi); a = time.perf_counter()\n"
        "rc.class_sizes(enc, qi); b = time.perf_counter()\n"
        "enc2 = rc.encode(df, columns=qi); a2 = time.perf_counter()\n"
        "rc.field_lattice(enc, qi[:4], progress=False); c = time.perf_counter()\n"
        "enc._partitions.clear(); d = time.perf_counter(); rc.class_sizes(enc, qi); e = time.perf_counter()\n"
        "rc.field_lattice(enc, qi[:4], progress=False); f = time.perf_counter()\n"
        "import json; print(json.dumps({'import_s': t1 - t0, 'first_class_sizes_s': b - a,"
        " 'first_encode_s': a - z, 'second_encode_s': a2 - b,"
        " 'first_lattice_s': c - a2, 'second_class_sizes_s': e - d, 'second_lattice_s': f - e}))\n"
    ) % (str(REPO), str(HERE), n, QI_SETS["D"])
    out = {"n": n}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("cold", "warm"):
            import subprocess

            proc = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, env=env
            )
            last = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            out[label] = json.loads(last[-1]) if last else {"error": proc.stderr[-2000:]}
    return out


# ---------------------------------------------------------------------------
# parent: plan, run, check, report
# ---------------------------------------------------------------------------


def _csv_list(s: str, conv=str):
    return [conv(x) for x in s.split(",") if x.strip()]


def _rows(s: str) -> int:
    s = s.strip().lower().replace("_", "")
    mult = 1
    if s.endswith("m"):
        mult, s = 1_000_000, s[:-1]
    elif s.endswith("k"):
        mult, s = 1_000, s[:-1]
    return int(float(s) * mult)


def plan_cases(tools, sources):
    for tool in tools:
        for src in TOOLS[tool]:
            if src == "encoded" or src in sources:
                yield tool, src


def riskcalc_importable() -> str | None:
    try:
        import riskcalc

        for name in ("encode", "class_sizes", "k_anonymity", "uniqueness"):
            getattr(riskcalc, name)
        return None
    except Exception as e:
        return f"{type(e).__name__}: {e}"


def check_agreement(results: list[dict]) -> list[str]:
    ok = [r for r in results if "figures" in r]
    if not ok:
        return []
    ref = ok[0]
    problems = []
    for r in ok[1:]:
        d = compare_figures(ref["figures"], r["figures"])
        if d:
            problems.append(
                f"{r['tool']}/{r['source']} vs {ref['tool']}/{ref['source']}: " + "; ".join(d)
            )
    for r in ok:
        for e in r.get("api_errors", []):
            problems.append(f"{r['tool']}/{r['source']}: {e}")
    return problems


def _ratio(num, den):
    if num is None or den is None or den == 0:
        return None
    return num / den


def _pct(x):
    return None if x is None or x != x else f"{x:.0%}"


def _med(results, tool, source):
    for r in results:
        if r["tool"] == tool and r["source"] == source and "median_s" in r:
            return r["median_s"]
    return None


def _best(results, tools, source):
    vals = [m for t in tools if (m := _med(results, t, source)) is not None]
    return min(vals) if vals else None


def group_report(n: int, qi_name: str, results: list[dict]) -> str:
    qi = QI_SETS[qi_name]
    fig = next((r["figures"] for r in results if "figures" in r), None)
    head = f"n={n:,}  set {qi_name} ({', '.join(qi)})"
    if fig:
        head += (
            f"\n  classes={fig['n_classes']:,}  k={fig['k']}  n1={fig['n1']:,}  n2={fig['n2']:,}  "
            f"below 2/3/5/10 = {fig['below_2']:,}/{fig['below_3']:,}/{fig['below_5']:,}/{fig['below_10']:,}  "
            f"avg risk={fig['avg_risk']:.4f}"
        )
    rows = []
    for r in results:
        ref_src = "frame" if r["source"] == "encoded" else r["source"]
        ref = _med(results, "riskcalc", ref_src)
        if "error" in r:
            rows.append([r["tool"], r["source"]] + [None] * 9 + ["ERROR: " + r["error"]])
            continue
        note = ""
        if "encode_s" in r:
            note = f"encode {r['encode_s']:.2f}s (not in median)"
        if "k_anonymity_s" in r:
            note = f"k_anonymity() alone {r['k_anonymity_s']:.2f}s, uniqueness() {r['uniqueness_s']:.2f}s"
        rows.append(
            [
                r["tool"],
                r["source"],
                r["median_s"],
                r.get("min_s"),
                len(r["times"]),
                _ratio(r["median_s"], ref),
                r.get("cpu_s_per_run"),
                _pct(r.get("other_busy")),
                r["peak_rss"] / H.MiB,
                r.get("timed_peak_rss", 0) / H.MiB,
                r["base_rss"] / H.MiB,
                note,
            ]
        )
    table = H.format_table(
        rows,
        [
            "tool",
            "source",
            "median_s",
            "min_s",
            "runs",
            "x riskcalc",
            "cpu_s",
            "busy",
            "peak_MiB",
            "run_MiB",
            "base_MiB",
            "note",
        ],
        "llrrrrrrrrrl",
    )
    return head + "\n" + table


def summary_rows(all_results: dict) -> list[list]:
    rows = []
    for (n, qi_name), res in all_results.items():
        sources = sorted(
            {r["source"] for r in res if r["source"] != "encoded"},
            key=["frame", "parquet", "csv"].index,
        )
        for src in sources:
            rc = _med(res, "riskcalc", src)
            enc = _med(res, "riskcalc-enc", "encoded") if src == "frame" else None
            pdm = _med(res, "pandas", src)
            pol = _med(res, "polars", src)
            pola = _med(res, "polars-agg", src)
            ddb = _med(res, "duckdb", src)
            ddba = _med(res, "duckdb-agg", src)
            busy = [
                r.get("other_busy", 0)
                for r in res
                if r["source"] == src or (src == "frame" and r["source"] == "encoded")
            ]
            rows.append(
                [
                    n,
                    qi_name,
                    src,
                    rc,
                    enc,
                    pdm,
                    pol,
                    pola,
                    ddb,
                    ddba,
                    _ratio(pdm, rc),
                    _ratio(_best(res, ["polars", "polars-agg"], src), rc),
                    _ratio(_best(res, ["duckdb", "duckdb-agg"], src), rc),
                    _ratio(pdm, enc),
                    _pct(max(busy, default=None)),
                ]
            )
    return rows


SUMMARY_HEADER = [
    "rows",
    "set",
    "source",
    "riskcalc",
    "rc-enc",
    "pandas",
    "polars",
    "polars-agg",
    "duckdb",
    "duckdb-agg",
    "pandas/rc",
    "polars/rc",
    "duckdb/rc",
    "pandas/enc",
    "max busy",
]


def memory_rows(all_results: dict) -> list[list]:
    """Max lifetime peak RSS (MiB) per tool and size, over sets and sources."""
    by = {}
    for (n, _), res in all_results.items():
        for r in res:
            if "peak_rss" in r:
                key = (n, r["tool"], r["source"])
                by[key] = max(by.get(key, 0), r["peak_rss"])
    sizes = sorted({k[0] for k in by})
    tools = sorted({(k[1], k[2]) for k in by}, key=lambda x: (list(TOOLS).index(x[0]), x[1]))
    return [
        [t, s] + [by.get((n, t, s)) and by[(n, t, s)] / H.MiB for n in sizes] for t, s in tools
    ], sizes


def target_lines(all_results: dict) -> list[str]:
    lines = []
    for (n, qi_name), res in all_results.items():
        if n < 1_000_000:
            continue
        for src in ("frame", "parquet", "csv"):
            rc = _med(res, "riskcalc", src)
            if rc is None:
                continue
            checks = [
                ("pandas/riskcalc >= 2", _ratio(_med(res, "pandas", src), rc), 2.0),
                (
                    "polars/riskcalc >= 1",
                    _ratio(_best(res, ["polars", "polars-agg"], src), rc),
                    1.0,
                ),
                (
                    "duckdb/riskcalc (info)",
                    _ratio(_best(res, ["duckdb", "duckdb-agg"], src), rc),
                    None,
                ),
            ]
            if src == "frame":
                checks.append(
                    (
                        "polars/riskcalc-enc >= 2",
                        _ratio(
                            _best(res, ["polars", "polars-agg"], "frame"),
                            _med(res, "riskcalc-enc", "encoded"),
                        ),
                        2.0,
                    )
                )
            for label, val, goal in checks:
                if val is None:
                    continue
                verdict = "    " if goal is None else ("ok  " if val >= goal else "MISS")
                lines.append(
                    f"{verdict} n={n:>9,} set {qi_name} {src:7s} {label:26s} measured {val:6.2f}"
                )
        for r in res:
            if (
                r["tool"].startswith("riskcalc")
                and "peak_rss" in r
                and n >= 8_000_000
                and r.get("mode") != "interleaved"
            ):  # interleaved: one process for all tools
                gb = r["peak_rss"] / 1e9
                verdict = "ok  " if gb < 3.0 else "MISS"
                lines.append(
                    f"{verdict} n={n:>9,} set {qi_name} {r['source']:7s} "
                    f"{r['tool'] + ' peak RSS < 3 GB':26s} measured {gb:6.2f} GB"
                )
    return lines


def _tree_hash(d: Path) -> str:
    """sha1 over riskcalc/*.py, to tie a result to the library code it measured."""
    import hashlib

    h = hashlib.sha1()
    for f in sorted(d.rglob("*.py")):
        h.update(f.relative_to(d).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--rows",
        default="1000000,8600000",
        help="comma-separated row counts (100k, 1m, 8.5m accepted)",
    )
    ap.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="timed runs per case (default 3; capped by --big-repeats at >= 5M rows)",
    )
    ap.add_argument(
        "--big-repeats", type=int, default=2, help="max timed runs at >= 5,000,000 rows (default 2)"
    )
    ap.add_argument(
        "--source",
        default="frame",
        help="comma list of frame|parquet|csv (default frame). frame = each tool's "
        "in-memory table, loaded untimed; parquet/csv = reading the file is timed",
    )
    ap.add_argument("--sets", default="A,B,C,D", help="quasi-identifier sets (default A,B,C,D)")
    ap.add_argument("--tools", default=",".join(DEFAULT_TOOLS), help=f"subset of {','.join(TOOLS)}")
    ap.add_argument("--seed", type=int, default=20240118)
    ap.add_argument(
        "--json", metavar="OUT", help="append JSON lines (one per case, plus a meta line) to OUT"
    )
    ap.add_argument(
        "--markdown", metavar="OUT", help="also write the summary tables as Markdown to OUT"
    )
    ap.add_argument("--threads", type=int, help="limit polars/DuckDB threads (default: all cores)")
    ap.add_argument(
        "--profile",
        metavar="DIR",
        nargs="?",
        const=str(HERE / "results"),
        help="cProfile one extra riskcalc run per case into DIR (default benchmarks/results)",
    )
    ap.add_argument("--no-warmup", action="store_true")
    ap.add_argument("--timeout", type=float, default=3600.0, help="per-case timeout in seconds")
    ap.add_argument(
        "--keep-going",
        action="store_true",
        help="report disagreements at the end instead of aborting at the first one",
    )
    ap.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="before each case wait up to this many seconds for the machine to be quiet (default 60)",
    )
    ap.add_argument(
        "--quiet-below",
        type=float,
        default=0.25,
        help="'quiet' = system CPU use below this fraction of all cores (default 0.25)",
    )
    ap.add_argument(
        "--noisy",
        type=float,
        default=0.15,
        help="rerun a case when other processes used more than this share of the CPU "
        "during its timed runs (default 0.15)",
    )
    ap.add_argument(
        "--retries",
        type=int,
        default=2,
        help="max reruns of a noisy case (default 2); the least-disturbed attempt is kept",
    )
    ap.add_argument(
        "--mode",
        choices=("interleaved", "isolated"),
        default="interleaved",
        help="interleaved (default): per size and set, all tools in one process, "
        "alternating run by run; isolated: one process per tool (clean peak RSS)",
    )
    ap.add_argument(
        "--compile-cost",
        action="store_true",
        help="measure the compiled kernels' first-call cost (cold and warm numba cache) and exit",
    )
    ap.add_argument("--_case", help=argparse.SUPPRESS)
    ap.add_argument("--_round", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args._case:
        print(json.dumps(child_main(json.loads(args._case)), default=H._json_default))
        return 0
    if args._round:
        print(
            json.dumps({"results": round_child(json.loads(args._round))}, default=H._json_default)
        )
        return 0
    if args.compile_cost:
        print(json.dumps(compile_cost(), indent=1))
        return 0

    sizes = _csv_list(args.rows, _rows)
    sources = _csv_list(args.source)
    for s in sources:
        if s not in ("frame", "parquet", "csv"):
            ap.error(f"unknown source {s!r}")
    sets = _csv_list(args.sets)
    tools = _csv_list(args.tools)
    for t in tools:
        if t not in TOOLS:
            ap.error(f"unknown tool {t!r}")

    why = riskcalc_importable()
    if why and any(t.startswith("riskcalc") for t in tools):
        print(f"!! riskcalc is not usable yet ({why}); running the peers only", file=sys.stderr)
        tools = [t for t in tools if not t.startswith("riskcalc")]

    env = dict(os.environ)
    if args.threads:
        env["POLARS_MAX_THREADS"] = str(args.threads)
        env["BENCH_THREADS"] = str(args.threads)

    meta = {
        "type": "meta",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": H.machine_info(),
        "versions": H.library_versions(
            ["numpy", "pandas", "pyarrow", "polars", "duckdb", "riskcalc"]
        ),
        "args": vars(args) | {"_case": None},
        "riskcalc_source_sha1": _tree_hash(REPO / "riskcalc"),
    }
    print(f"machine: {meta['machine']}")
    print(f"versions: {meta['versions']}  riskcalc source sha1 {meta['riskcalc_source_sha1']}")
    if args.json:
        H.write_jsonl(args.json, [meta])

    all_results: dict = {}
    failures: list[str] = []
    disagreements: list[str] = []
    for n in sizes:
        t0 = time.perf_counter()
        paths = _data.cached_paths(n, args.seed, csv="csv" in sources)
        _data.cached_paths(WARMUP_ROWS, args.seed, csv=True)
        print(
            f"\n== {n:,} rows: data ready in {time.perf_counter() - t0:.1f}s ({paths['parquet'].name})",
            flush=True,
        )
        repeats = min(args.repeats, args.big_repeats) if n >= 5_000_000 else args.repeats
        for qi_name in sets:
            results = []
            if args.mode == "interleaved":
                spec = {
                    "qi": qi_name,
                    "n": n,
                    "seed": args.seed,
                    "repeats": repeats,
                    "cases": list(plan_cases(tools, sources)),
                    "paths": {k: str(v) for k, v in paths.items()},
                    "warmup": not args.no_warmup,
                }
                print(
                    f"   set {qi_name}: {len(spec['cases'])} cases, alternating, load {os.getloadavg()}",
                    flush=True,
                )
                r = H.run_child(
                    [sys.executable, str(Path(__file__).resolve()), "--_round", json.dumps(spec)],
                    timeout=args.timeout,
                    env=env,
                )
                if "error" in r:
                    failures.append(f"set {qi_name} n={n}: {r['error']}\n{r.get('stderr', '')}")
                    print(
                        f"   set {qi_name}: ERROR {r['error']}\n{r.get('stderr', '')}",
                        file=sys.stderr,
                        flush=True,
                    )
                    continue
                load = os.getloadavg()
                for ri in r["results"]:
                    ri.update({"type": "case", "loadavg_after": load})
                    print(
                        f"   {ri['tool']:12s} {ri['source']:8s} set {qi_name}: median {ri['median_s']:.3f}s "
                        f"cpu {ri['cpu_s_per_run']:.3f}s  other-busy {ri.get('other_busy', 0):.0%}",
                        flush=True,
                    )
                    results.append(ri)
                    if args.json:
                        H.write_jsonl(args.json, [ri])
            for tool, src in plan_cases(tools, sources) if args.mode == "isolated" else ():
                spec = {
                    "tool": tool,
                    "source": src,
                    "qi": qi_name,
                    "n": n,
                    "seed": args.seed,
                    "repeats": repeats,
                    "paths": {k: str(v) for k, v in paths.items()},
                    "warmup": not args.no_warmup,
                    "profile": args.profile,
                }
                r = None
                for attempt in range(1 + max(0, args.retries)):
                    waited, busy = H.wait_for_quiet(args.quiet_below, args.quiet_wait)
                    ri = H.run_child(
                        [
                            sys.executable,
                            str(Path(__file__).resolve()),
                            "--_case",
                            json.dumps(spec),
                        ],
                        timeout=args.timeout,
                        env=env,
                    )
                    ri["quiet_wait_s"], ri["busy_before"], ri["attempt"] = waited, busy, attempt + 1
                    if (
                        r is None
                        or ("error" in r and "error" not in ri)
                        or ("error" not in ri and ri.get("other_busy", 0) < r.get("other_busy", 0))
                    ):
                        r = ri
                    if "error" in ri or ri.get("other_busy", 0) <= args.noisy:
                        break
                    if attempt < args.retries:
                        print(
                            f"   ({tool}/{src} set {qi_name}: other processes used {ri['other_busy']:.0%} "
                            f"of the CPU during the timed runs; retrying)",
                            flush=True,
                        )
                r.update({"type": "case", "tool": tool, "source": src, "qi": qi_name, "n": n})
                if "error" in r:
                    failures.append(
                        f"{tool}/{src} set {qi_name} n={n}: {r['error']}\n{r.get('stderr', '')}"
                    )
                    print(
                        f"   {tool:12s} {src:8s} set {qi_name}: ERROR {r['error']}",
                        file=sys.stderr,
                        flush=True,
                    )
                else:
                    print(
                        f"   {tool:12s} {src:8s} set {qi_name}: median {r['median_s']:.3f}s "
                        f"peak {r['peak_rss'] / H.MiB:,.0f} MiB  other-busy {r.get('other_busy', 0):.0%}",
                        flush=True,
                    )
                results.append(r)
                if args.json:
                    H.write_jsonl(args.json, [r])
            all_results[(n, qi_name)] = results
            print("\n" + group_report(n, qi_name, results), flush=True)
            problems = check_agreement(results)
            if problems:
                msg = f"FIGURES DISAGREE at n={n:,} set {qi_name}:\n  " + "\n  ".join(problems)
                disagreements.append(msg)
                print("\n" + "!" * 78 + "\n" + msg + "\n" + "!" * 78, file=sys.stderr, flush=True)
                if not args.keep_going:
                    _final_report(all_results, args)
                    return 2

    _final_report(all_results, args)
    if disagreements:
        print("\n".join(disagreements), file=sys.stderr)
        return 2
    if failures:
        print("\nFAILED CASES:\n" + "\n".join(failures), file=sys.stderr)
        return 1
    return 0


def _final_report(all_results, args) -> None:
    srows = summary_rows(all_results)
    mrows, sizes = memory_rows(all_results)
    tl = target_lines(all_results)
    mem_header = ["tool", "source"] + [f"{n:,} rows" for n in sizes]
    print("\n== medians (seconds) and ratios (peer median / riskcalc median; >1 = riskcalc faster)")
    print(H.format_table(srows, SUMMARY_HEADER, "rll" + "r" * 12))
    print(
        "\n== peak RSS per process (MiB; max over sets), includes Python, imports and the loaded data"
    )
    print(H.format_table(mrows, mem_header, "ll" + "r" * len(sizes)))
    if tl:
        print("\n== targets")
        print("\n".join(tl))
    if args.markdown:
        md = [
            "### Medians (s) and ratios",
            "",
            H.format_markdown(srows, SUMMARY_HEADER, "rll" + "r" * 12),
            "",
            "### Peak RSS (MiB)",
            "",
            H.format_markdown(mrows, mem_header, "ll" + "r" * len(sizes)),
            "",
        ]
        if tl:
            md += ["### Targets", "", "```", *tl, "```", ""]
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text("\n".join(md))


# ---------------------------------------------------------------------------
# asv-shaped wrappers (optional; no asv dependency)
# ---------------------------------------------------------------------------


class TimeClassSizes:
    params = ([100_000, 1_000_000], list(QI_SETS), ["riskcalc", "pandas", "polars", "duckdb"])
    param_names = ["rows", "qi_set", "tool"]

    def setup(self, rows, qi_set, tool):
        if tool == "riskcalc" and riskcalc_importable():
            raise NotImplementedError("riskcalc not importable")
        self.st = setup_case(tool, "frame", QI_SETS[qi_set], _data.cached_paths(rows, csv=False))

    def time_class_sizes(self, rows, qi_set, tool):
        run_case(self.st)


class PeakMemClassSizes(TimeClassSizes):
    def peakmem_class_sizes(self, rows, qi_set, tool):
        run_case(self.st)


if __name__ == "__main__":
    sys.exit(main())
