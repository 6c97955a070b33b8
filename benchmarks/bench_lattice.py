"""Benchmark: riskcalc's field lattice and SUDA against one group-by per subset.

Three cases on the synthetic pupil cohort (``synthetic.generate_cohort``), over 10 fields of
mixed cardinality (sex, date_of_birth, nc_year, ethnic_group_minor, fsm_eligible, eal,
sen_provision, la_code, urn, postcode):

* ``a``: 10^6 rows, the full lattice (1,023 subsets);
* ``b``: 8.5 x 10^6 rows, all subsets up to size 4 (385);
* ``c``: SUDA with MSUs up to size 4 over the same fields, 10^6 rows (riskcalc only: no
  Python peer implements SUDA2).

Tools:

* ``riskcalc``: ``enc = riskcalc.encode(df, columns=FIELDS)`` then
  ``riskcalc.field_lattice(enc, FIELDS, max_size=M)`` (or ``riskcalc.suda(enc, FIELDS,
  max_msu=M)``). Both parts are timed and reported.
* ``pandas``: per subset S, ``df.groupby(list(S), observed=True, dropna=False).size()``, then
  n_classes, k = min and n_unique = count of classes of size 1.
* ``polars``: per subset S, ``pl_df.group_by(list(S)).len()``, then the same figures.
  ``pl_df = pl.from_pandas(df)``, built untimed.

Every tool runs in its own subprocess (``--child``), so peak memory belongs to that tool alone.
The peers' n_classes, k and n_unique must equal riskcalc's for every subset they ran, or the
run stops with exit code 2.

A peer first runs a seeded sample of subsets stratified by size (``--sample``, default 40).
If the extrapolation to the whole lattice exceeds ``--budget`` seconds (default 600), it stops
there and the figure is reported as *extrapolated* (sum over sizes of mean sampled time x
number of subsets of that size), with the sample size. Otherwise it runs the remaining subsets
and the figure is measured (sum of the per-subset times).

Run from the repository root::

    PYTHONPATH=. python benchmarks/bench_lattice.py --json benchmarks/results/lattice.json
    PYTHONPATH=. python benchmarks/bench_lattice.py --cases a --rows 100000   # quick
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

FIELDS = (
    "sex",
    "date_of_birth",
    "nc_year",
    "ethnic_group_minor",
    "fsm_eligible",
    "eal",
    "sen_provision",
    "la_code",
    "urn",
    "postcode",
)
CASES = {
    "a": {"kind": "lattice", "rows": 1_000_000, "max_size": 10},
    "b": {"kind": "lattice", "rows": 8_500_000, "max_size": 4},
    "c": {"kind": "suda", "rows": 1_000_000, "max_size": 4},
}
PEERS = ("pandas", "polars")
MiB = 2**20
REPO = Path(__file__).resolve().parents[1]

# Targets (seconds / bytes).
TARGET_A_SECONDS = 5.0  # issue 9
TARGET_A_VS_POLARS = 20.0  # issue 9
TARGET_B_SECONDS = 120.0
TARGET_C_SECONDS = 120.0
TARGET_MEMORY = 6 * 10**9


# ----------------------------------------------------------------------------- memory


def vm_hwm() -> int:
    """Lifetime peak RSS of this process (Linux VmHWM; ru_maxrss would carry the parent's)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class RssSampler:
    """Peak RSS sampled every ``interval`` seconds by a background thread."""

    def __init__(self, interval: float = 0.01):
        import psutil

        self._proc = psutil.Process()
        self.interval = interval
        self.peak = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


def rss_now() -> int:
    import psutil

    return psutil.Process().memory_info().rss


# ----------------------------------------------------------------------------- subsets


def all_subsets(fields, max_size):
    return [tuple(s) for m in range(1, max_size + 1) for s in itertools.combinations(fields, m)]


def stratified_sample(subsets, n_sample: int, seed: int):
    """About ``n_sample`` subsets, proportional to the count per size, at least one per size."""
    import numpy as np

    rng = np.random.default_rng(seed)
    by_size: dict[int, list] = {}
    for s in subsets:
        by_size.setdefault(len(s), []).append(s)
    total = len(subsets)
    out = []
    for m in sorted(by_size):
        group = by_size[m]
        take = min(len(group), max(1, round(n_sample * len(group) / total)))
        idx = sorted(rng.choice(len(group), size=take, replace=False).tolist())
        out.extend(group[i] for i in idx)
    return out


def extrapolate(times: dict, subsets) -> float:
    """Sum over sizes of (mean time of the timed subsets of that size) x (subsets of that size)."""
    per_size: dict[int, list[float]] = {}
    for s, t in times.items():
        per_size.setdefault(len(s), []).append(t)
    counts: dict[int, int] = {}
    for s in subsets:
        counts[len(s)] = counts.get(len(s), 0) + 1
    return float(sum(statistics.fmean(per_size[m]) * c for m, c in counts.items()))


# ----------------------------------------------------------------------------- child side


def _load_frame(path):
    import pandas as pd

    return pd.read_pickle(path)


def child_riskcalc(spec: dict) -> dict:
    import riskcalc

    df = _load_frame(spec["data"])
    fields = list(FIELDS)
    m = spec["max_size"]
    kind = spec["kind"]

    cpu_t = []

    def run(frame):
        c0 = time.process_time()
        t0 = time.perf_counter()
        enc = riskcalc.encode(frame, columns=fields)
        t1 = time.perf_counter()
        if kind == "lattice":
            res = riskcalc.field_lattice(enc, fields, max_size=m, progress=False)
        else:
            res = riskcalc.suda(enc, fields, max_msu=m)
        t2 = time.perf_counter()
        cpu_t.append(time.process_time() - c0)  # this process, all threads
        return t1 - t0, t2 - t1, res

    run(df.head(2000))  # warm-up: imports, first-call setup
    gc.collect()
    base = rss_now()
    enc_t, work_t = [], []
    res = None
    with RssSampler() as sampler:
        for _ in range(spec["repeats"]):
            res = None
            gc.collect()
            e, w, res = run(df)
            enc_t.append(e)
            work_t.append(w)
    profile = None
    if spec.get("profile"):  # one extra, untimed run under cProfile: where riskcalc's time goes
        import cProfile
        import pstats

        res = None
        gc.collect()
        pr = cProfile.Profile()
        pr.enable()
        _, _, res = run(df)
        pr.disable()
        st = pstats.Stats(pr)
        top = sorted(st.stats.items(), key=lambda kv: -kv[1][2])[:8]
        profile = [
            [f"{Path(f).name}:{line}({fn})", round(tt, 3), round(ct, 3)]
            for (f, line, fn), (cc, nc, tt, ct, callers) in top
        ]
    out = {
        "profile_top_tottime": profile,
        "encode_s": enc_t,
        "work_s": work_t,
        "total_s": [e + w for e, w in zip(enc_t, work_t)],
        "cpu_s": cpu_t[1 : 1 + len(enc_t)],  # the timed runs (not the warm-up)
        "loadavg": os.getloadavg(),
        "base_rss": base,
        "run_rss": sampler.peak,
        "peak_rss": vm_hwm(),
    }
    if kind == "lattice":
        tab = res.to_frame()
        out["n_subsets"] = len(tab)
        out["figures"] = [
            [list(f), int(c), int(k), int(u)]
            for f, c, k, u in zip(tab["fields"], tab["n_classes"], tab["k"], tab["n_unique"])
        ]
        out["most_identifying"] = {
            "max_unique_share_size1": float(tab.loc[tab["n_fields"] == 1, "unique_share"].max()),
            "full_set_unique_share": float(tab["unique_share"].iloc[-1]),
        }
    else:
        import numpy as np

        out["n_subsets"] = sum(math.comb(len(fields), j) for j in range(1, m + 1))
        out["suda"] = {
            "n_with_msu": int(res.n_with_msu),
            "msus_by_size": [int(x) for x in res.msus_by_size],
            "max_score": float(res.score.max()),
            "sum_score": float(res.score.sum()),
            "mean_dis_score": float(np.mean(res.dis_score)),
        }
    return out


def child_peer(spec: dict) -> dict:
    import numpy as np

    tool = spec["tool"]
    df = _load_frame(spec["data"])
    fields = list(FIELDS)
    if tool == "polars":
        import polars as pl

        frame = pl.from_pandas(df)
        del df
        gc.collect()

        def one(S):
            g = frame.group_by(list(S)).len()
            c = g["len"]
            return g.height, int(c.min()), int((c == 1).sum())
    else:
        frame = df

        def one(S):
            s = frame.groupby(list(S), observed=True, dropna=False).size()
            a = s.to_numpy()
            return int(a.shape[0]), int(a.min()), int(np.count_nonzero(a == 1))

    subsets = [tuple(s) for s in spec["subsets"]]
    sample = [tuple(s) for s in spec["sample"]]
    # warm-up on a small slice (imports, first-call setup)
    small = frame.head(2000)
    for S in (tuple(fields[:2]), tuple(fields[-2:])):
        if tool == "polars":
            small.group_by(list(S)).len()
        else:
            small.groupby(list(S), observed=True, dropna=False).size()
    gc.collect()
    base = rss_now()
    times: dict = {}
    figures: dict = {}
    totals = []
    mode = "measured"
    with RssSampler() as sampler:
        for S in sample:
            t0 = time.perf_counter()
            figures[S] = one(S)
            times[S] = time.perf_counter() - t0
        estimate = extrapolate(times, subsets)
        if spec["force_sample"] or estimate > spec["budget"]:
            mode = "extrapolated"
            totals.append(estimate)
        else:
            rest = [S for S in subsets if S not in times]
            for S in rest:
                t0 = time.perf_counter()
                figures[S] = one(S)
                times[S] = time.perf_counter() - t0
            totals.append(sum(times.values()))
            for _ in range(spec["repeats"] - 1):  # further whole-lattice repeats
                t0 = time.perf_counter()
                for S in subsets:
                    one(S)
                totals.append(time.perf_counter() - t0)
    return {
        "mode": mode,
        "total_s": totals,
        "sample_estimate_s": estimate,
        "n_sample": len(sample),
        "n_timed": len(times),
        "n_subsets": len(subsets),
        "figures": [[list(S), *figures[S]] for S in figures],
        "per_size_mean_s": {
            str(m): statistics.fmean([t for S, t in times.items() if len(S) == m])
            for m in sorted({len(S) for S in times})
        },
        "base_rss": base,
        "run_rss": sampler.peak,
        "peak_rss": vm_hwm(),
    }


def child_main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    if spec["tool"] == "riskcalc":
        out = child_riskcalc(spec)
    else:
        out = child_peer(spec)
    out["loadavg_end"] = os.getloadavg()
    Path(spec["out"]).write_text(json.dumps(out))


# ----------------------------------------------------------------------------- parent side


def wait_for_load(max_load: float, max_wait: float) -> float:
    """Sleep (30 s steps) until the 1-minute load average is below ``max_load``."""
    waited = 0.0
    while max_load > 0 and os.getloadavg()[0] >= max_load and waited < max_wait:
        print(f"    load {os.getloadavg()[0]:.2f} >= {max_load}: waiting 30 s", flush=True)
        time.sleep(30)
        waited += 30
    return os.getloadavg()[0]


def run_child(spec: dict, tmp: Path, args) -> dict:
    load = wait_for_load(args.max_load, args.max_wait)
    name = f"{spec['case']}_{spec['tool']}"
    spec = dict(spec, out=str(tmp / f"{name}.out.json"))
    spec_path = tmp / f"{name}.spec.json"
    spec_path.write_text(json.dumps(spec))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", str(spec_path)], env=env, cwd=REPO)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"child {name} failed with exit code {proc.returncode}")
    out = json.loads(Path(spec["out"]).read_text())
    out.update(case=spec["case"], tool=spec["tool"], loadavg_start=load, child_wall_s=wall)
    return out


def make_data(rows: int, seed: int, tmp: Path) -> Path:
    import synthetic

    path = tmp / f"cohort_{rows}_{seed}.pkl"
    if not path.exists():
        t0 = time.perf_counter()
        df = synthetic.generate_cohort(rows, rng=seed)[list(FIELDS)].copy()
        print(f"  generated {rows:,} rows in {time.perf_counter() - t0:.1f} s", flush=True)
        df.to_pickle(path)
        del df
        gc.collect()
    return path


def check_figures(ref: dict, peer: dict) -> list[str]:
    bad = []
    for S, *fig in peer["figures"]:
        want = ref.get(tuple(S))
        if want is None:
            bad.append(f"{peer['tool']}: subset {S} missing from riskcalc's table")
        elif tuple(fig) != want:
            bad.append(
                f"{peer['tool']}: subset {S}: (n_classes, k, n_unique) = {tuple(fig)}, riskcalc {want}"
            )
    return bad


def _med(xs):
    return float(statistics.median(xs))


def _fmt_s(x):
    return f"{x:,.1f}" if x >= 10 else f"{x:.2f}"


def report(results: list[dict]) -> tuple[str, list[str]]:
    header = [
        "case",
        "rows",
        "tool",
        "seconds",
        "how",
        "subsets",
        "x riskcalc",
        "peak MiB",
        "run MiB",
        "notes",
    ]
    rows = []
    rc_time = {}
    for r in results:
        if r["tool"] == "riskcalc":
            rc_time[r["case"]] = _med(r["total_s"])
    for r in results:
        t = _med(r["total_s"])
        n = len(r["total_s"])
        if r["tool"] == "riskcalc":
            how = f"median of {n}" if n > 1 else "1 run"
            notes = f"encode {_fmt_s(_med(r['encode_s']))} + {'lattice' if r['kind'] == 'lattice' else 'suda'} {_fmt_s(_med(r['work_s']))}"
            if r.get("cpu_s"):
                notes += f"; cpu {_fmt_s(_med(r['cpu_s']))} s; load {r['loadavg'][0]:.1f}"
            ratio = "1"
        else:
            if r["mode"] == "extrapolated":
                how = f"EXTRAPOLATED from {r['n_timed']} of {r['n_subsets']}"
            else:
                how = f"median of {n}" if n > 1 else "1 run"
            ratio = f"{t / rc_time[r['case']]:.1f}"
            notes = "per-size mean s: " + ", ".join(
                f"{m}:{v:.3f}" for m, v in r["per_size_mean_s"].items()
            )
        rows.append(
            [
                r["case"],
                f"{r['rows']:,}",
                r["tool"],
                _fmt_s(t),
                how,
                str(r["n_subsets"]),
                ratio,
                f"{r['peak_rss'] / MiB:,.0f}",
                f"{r['run_rss'] / MiB:,.0f}",
                notes,
            ]
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    line = lambda vals: "| " + " | ".join(v.ljust(w) for v, w in zip(vals, widths)) + " |"
    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [
        line(r) for r in rows
    ]
    return "\n".join(out), targets(results, rc_time)


def targets(results, rc_time) -> list[str]:
    lines = []
    by = {(r["case"], r["tool"]): r for r in results}

    def mark(ok):
        return "ok  " if ok else "MISS"

    full = lambda c: (
        by[(c, "riskcalc")]["rows"] == CASES[c]["rows"]
        and by[(c, "riskcalc")]["max_size"] == CASES[c]["max_size"]
    )
    if ("a", "riskcalc") in by:
        t = rc_time["a"]
        lines.append(
            f"{mark(t < TARGET_A_SECONDS)} a: full lattice in {t:.1f} s, encoding included "
            f"(lattice alone {_med(by[('a', 'riskcalc')]['work_s']):.1f} s; target < {TARGET_A_SECONDS:.0f} s)"
            + ("" if full("a") else "  [not the target size]")
        )
        if ("a", "polars") in by:
            ratio = _med(by[("a", "polars")]["total_s"]) / t
            lines.append(
                f"{mark(ratio >= TARGET_A_VS_POLARS)} a: {ratio:.1f}x faster than one polars group-by per subset "
                f"(target >= {TARGET_A_VS_POLARS:.0f}x)"
                + ("" if full("a") else "  [not the target size]")
            )
    if ("b", "riskcalc") in by:
        t = rc_time["b"]
        lines.append(
            f"{mark(t < TARGET_B_SECONDS)} b: subsets up to size 4 in {t:.1f} s (target < {TARGET_B_SECONDS:.0f} s)"
            + ("" if full("b") else "  [not the target size]")
        )
    if ("c", "riskcalc") in by:
        t = rc_time["c"]
        lines.append(
            f"{mark(t < TARGET_C_SECONDS)} c: SUDA2 (MSU <= 4) in {t:.1f} s (target < {TARGET_C_SECONDS:.0f} s)"
            + ("" if full("c") else "  [not the target size]")
        )
    peak = max(r["peak_rss"] for r in results)
    lines.append(
        f"{mark(peak < TARGET_MEMORY)} memory: largest process peak {peak / 10**9:.2f} GB "
        f"(target < {TARGET_MEMORY / 10**9:.0f} GB)"
    )
    return lines


def meta() -> dict:
    import numpy
    import pandas
    import polars
    import pyarrow

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "polars": polars.__version__,
        "pyarrow": pyarrow.__version__,
        "started_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default="a,b,c", help="cases to run: a,b,c")
    ap.add_argument(
        "--rows",
        type=float,
        default=None,
        help="rows for every selected case (default: per case, 1e6 / 8.5e6 / 1e6)",
    )
    ap.add_argument(
        "--max-size",
        type=int,
        default=None,
        help="largest subset / MSU for every selected case (default 10 / 4 / 4)",
    )
    ap.add_argument("--tools", default="riskcalc,pandas,polars")
    ap.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="riskcalc timed runs per case (median); 1 at >= 5M rows",
    )
    ap.add_argument(
        "--peer-repeats",
        type=int,
        default=1,
        help="whole-lattice runs per peer when not extrapolated",
    )
    ap.add_argument(
        "--sample", type=int, default=40, help="subsets in a peer's stratified pilot sample"
    )
    ap.add_argument("--sample-seed", type=int, default=7)
    ap.add_argument(
        "--budget",
        type=float,
        default=600.0,
        help="extrapolate a peer instead of running it fully beyond this many seconds",
    )
    ap.add_argument(
        "--force-sample", default="", help="tool:case pairs always extrapolated, e.g. pandas:b"
    )
    ap.add_argument("--seed", type=int, default=20240118, help="cohort seed")
    ap.add_argument(
        "--max-load",
        type=float,
        default=1.5,
        help="wait before each child until the 1-min load is below this (0: no wait)",
    )
    ap.add_argument(
        "--max-wait",
        type=float,
        default=1800.0,
        help="give up waiting for low load after this many seconds",
    )
    ap.add_argument(
        "--profile",
        action="store_true",
        help="one extra untimed cProfile run of riskcalc per case; prints the top functions",
    )
    ap.add_argument(
        "--json", default=None, help="write all results (and machine info) to this JSON file"
    )
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child_main(args.child)
        return 0

    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    forced = {tuple(p.split(":")) for p in args.force_sample.split(",") if ":" in p}
    info = meta()
    print(
        f"bench_lattice  {info['started_utc']} UTC  python {info['python']}  cpus {info['cpu_count']}  "
        f"numpy {info['numpy']} pandas {info['pandas']} polars {info['polars']} pyarrow {info['pyarrow']}"
    )
    results: list[dict] = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench_lattice_") as tmpdir:
        tmp = Path(tmpdir)
        for case in cases:
            cfg = dict(CASES[case])
            if args.rows:
                cfg["rows"] = int(args.rows)
            if args.max_size:
                cfg["max_size"] = min(args.max_size, len(FIELDS))
            rows, m, kind = cfg["rows"], cfg["max_size"], cfg["kind"]
            subsets = all_subsets(FIELDS, m)
            print(
                f"\ncase {case}: {kind}, {rows:,} rows, max size {m} ({len(subsets)} subsets)",
                flush=True,
            )
            data = make_data(rows, args.seed, tmp)
            base = {"case": case, "kind": kind, "data": str(data), "max_size": m}
            ref = None
            for tool in tools:
                if tool == "riskcalc":
                    reps = args.repeats if rows < 5_000_000 else 1
                    r = run_child(
                        dict(base, tool=tool, repeats=reps, profile=args.profile), tmp, args
                    )
                    if kind == "lattice":
                        ref = {tuple(S): (c, k, u) for S, c, k, u in r["figures"]}
                    print(
                        f"  riskcalc: {_med(r['total_s']):.2f} s (encode {_med(r['encode_s']):.2f} + "
                        f"{kind} {_med(r['work_s']):.2f}), peak {r['peak_rss'] / MiB:,.0f} MiB, "
                        f"load {r['loadavg_start']:.2f}",
                        flush=True,
                    )
                else:
                    if kind != "lattice":
                        continue  # no peer implements SUDA2
                    if ref is None:
                        sys.exit(
                            "the peers need riskcalc's figures: keep riskcalc first in --tools"
                        )
                    sample = stratified_sample(subsets, args.sample, args.sample_seed)
                    spec = dict(
                        base,
                        tool=tool,
                        subsets=subsets,
                        sample=sample,
                        budget=args.budget,
                        repeats=args.peer_repeats,
                        force_sample=(tool, case) in forced,
                    )
                    r = run_child(spec, tmp, args)
                    bad = check_figures(ref, r)
                    print(
                        f"  {tool}: {_med(r['total_s']):.1f} s ({r['mode']}, {r['n_timed']} of {r['n_subsets']} "
                        f"subsets timed), peak {r['peak_rss'] / MiB:,.0f} MiB, load {r['loadavg_start']:.2f}; "
                        f"figures {'AGREE' if not bad else 'DISAGREE'} on {len(r['figures'])} subsets",
                        flush=True,
                    )
                    if bad:
                        print(
                            "\n!!! FIGURES DISAGREE WITH RISKCALC !!!",
                            *bad[:20],
                            sep="\n  ",
                            file=sys.stderr,
                        )
                        failures.extend(bad)
                        sys.exit(2)
                r.update(rows=rows, max_size=m, kind=kind)
                results.append(r)
            Path(data).unlink(missing_ok=True)

    table, target_lines = report(results)
    print("\n" + table)
    print("\ntargets:")
    for line in target_lines:
        print("  " + line)
    for r in results:
        if r.get("profile_top_tottime"):
            print(
                f"\nriskcalc profile, case {r['case']} (top by own time: function, tottime s, cumtime s):"
            )
            for name, tt, ct in r["profile_top_tottime"]:
                print(f"  {tt:7.2f} {ct:7.2f}  {name}")
    for r in results:
        if r["kind"] == "suda":
            print(f"\nSUDA (case {r['case']}): {json.dumps(r['suda'])}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        for r in results:  # keep the JSON small: figures are checked, not stored
            r.pop("figures", None)
        Path(args.json).write_text(
            json.dumps({"meta": info, "results": results, "targets": target_lines}, indent=1)
        )
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
