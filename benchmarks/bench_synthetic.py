"""Benchmark the synthetic cohort generator and the tier extract writers.

Plain script::

    python benchmarks/bench_synthetic.py                 # 8.5 million pupils
    python benchmarks/bench_synthetic.py --pupils 100000 --uniqueness
    python benchmarks/bench_synthetic.py --compare-workers --sizes 1000000 8500000

Prints the wall time of ``generate_cohort`` and of writing the tier 1, 2 and 4 extracts and the
tier 3 tables to Parquet, and the peak resident memory of the process
(``resource.getrusage``). It first checks the answer of a small run (UPN check letters, date of
birth vs year group), so a fast wrong generator cannot pass. With ``--uniqueness`` it also
prints the share of sample-unique pupils for the key combinations of npd-spec section 5.

``--compare-workers`` times ``generate_cohort`` alone with ``workers=1`` and with every usable
core, each size and worker count in a fresh process (``--repeats`` times), and checks that both
frames hash the same. Memory is the peak, sampled every 50 ms, of that process and its pool
workers: private memory summed, shared pages (the pool's output columns) counted once. Every row
records the 1-minute load average before and after and the share of the machine other
processes used meanwhile (``other_busy``, 0 = quiet).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import synthetic
from synthetic import generate_cohort, write_tiers

# (label, columns, optional phase filter, npd-spec section 5 expectation under uniform spread)
UNIQUENESS_KEYS = [
    ("postcode + DOB", ["postcode", "date_of_birth"], None, 0.999),
    (
        "postcode + year/month of birth + sex",
        ["postcode", "year_of_birth", "month_of_birth", "sex"],
        None,
        0.985,
    ),
    ("postcode + NC year + sex", ["postcode", "nc_year", "sex"], None, 0.84),
    ("LSOA + DOB + sex", ["lsoa", "date_of_birth", "sex"], None, 0.976),
    (
        "LSOA + year/month of birth + sex",
        ["lsoa", "year_of_birth", "month_of_birth", "sex"],
        None,
        0.47,
    ),
    ("LSOA + NC year + sex", ["lsoa", "nc_year", "sex"], None, 0.0),
    ("primary school + DOB + sex", ["urn", "date_of_birth", "sex"], "PS", 0.95),
    (
        "primary school + birth month + sex (within year group)",
        ["urn", "nc_year", "month_of_birth", "sex"],
        "PS",
        0.20,
    ),
    ("secondary school + DOB + sex", ["urn", "date_of_birth", "sex"], "SS", 0.81),
    ("LA + DOB + sex", ["la_code", "date_of_birth", "sex"], None, 0.004),
]


def peak_rss_gb() -> float:
    """Peak resident set size of this process in GB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def unique_share(frame: pd.DataFrame, cols: list[str]) -> float:
    """Share of records whose combination of ``cols`` occurs exactly once."""
    size = frame.groupby(cols, observed=True, dropna=False)[cols[0]].transform("size")
    return float((size == 1).mean())


def _rss_parts_kb(pid: int) -> tuple[int, int, int]:
    """(RssAnon, RssFile, RssShmem) of ``pid`` in KiB, from /proc/PID/status (cheap counters)."""
    parts = {"RssAnon:": 0, "RssFile:": 0, "RssShmem:": 0}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key = line.split(":", 1)[0] + ":"
                if key in parts:
                    parts[key] = int(line.split()[1])
    except OSError:
        pass
    return parts["RssAnon:"], parts["RssFile:"], parts["RssShmem:"]


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


class TreePss:
    """Peak memory of this process and its pool workers (Linux), sampled by a thread.

    Private (anonymous) memory is summed over the processes; file-backed and shared memory (the
    pool's shared output columns) are counted once, as the largest process's. Reading
    /proc/PID/status costs little, unlike smaps (PSS), which walks the page tables.
    """

    def __init__(self, interval: float = 0.05) -> None:
        self.interval, self.peak_kb, self.max_procs = interval, 0, 1
        self._stop = threading.Event()

    def _sample(self) -> None:
        pids = [os.getpid(), *_children(os.getpid())]
        self.max_procs = max(self.max_procs, len(pids))
        parts = [_rss_parts_kb(p) for p in pids]
        total = (
            sum(a for a, _, _ in parts) + max(f for _, f, _ in parts) + max(s for _, _, s in parts)
        )
        self.peak_kb = max(self.peak_kb, total)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> TreePss:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def frame_digest(frame: pd.DataFrame) -> str:
    """One SHA-256 over every column's bytes (codes + categories, Arrow buffers, numpy data)."""
    import pyarrow as pa

    h = hashlib.sha256()
    for name in frame.columns:
        s = frame[name]
        h.update(f"{name}:{s.dtype}".encode())
        if isinstance(s.dtype, pd.CategoricalDtype):
            h.update(np.ascontiguousarray(s.cat.codes.to_numpy()).tobytes())
            h.update("\x00".join(map(str, s.cat.categories)).encode())
        elif isinstance(s.dtype, pd.StringDtype):
            for buf in pa.chunked_array(pa.array(s.array)).combine_chunks().buffers():
                h.update(b"-" if buf is None else bytes(buf))
        else:
            h.update(np.ascontiguousarray(s.to_numpy()).tobytes())
    return h.hexdigest()


def child_generate(pupils: int, seed: int, workers: int) -> dict:
    """One timed ``generate_cohort`` in this (fresh) process; JSON-able result."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _harness import CpuMeter

    load0 = os.getloadavg()[0]
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with TreePss() as mem, CpuMeter() as cpu:
        t0 = time.perf_counter()
        cohort = generate_cohort(pupils, rng=seed, workers=workers)
        seconds = time.perf_counter() - t0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # pool workers, reaped at shutdown
    workers_cpu = kids.ru_utime + kids.ru_stime - kids0.ru_utime - kids0.ru_stime
    return {
        "pupils": pupils,
        "workers": workers,
        "generate_s": round(seconds, 2),
        "peak_gb": round(mem.peak_kb * 1024 / 1e9, 2),
        "processes": mem.max_procs,
        "parent_peak_rss_gb": round(peak_rss_gb(), 2),
        "frame_gb": round(cohort.memory_usage(deep=True).sum() / 1e9, 2),
        "cpu_s": round(cpu.own_cpu, 1),
        "workers_cpu_s": round(workers_cpu, 1),
        "other_busy": round(cpu.other_busy, 2),
        "load_before": round(load0, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "digest": frame_digest(cohort),
    }


def compare_workers(
    sizes: list[int], seed: int, repeats: int, wait_quiet: float = 0.0
) -> list[dict]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _harness import wait_for_quiet

    from synthetic._parallel import usable_cores

    cores = usable_cores()
    rows = []
    for n in sizes:
        digests = set()
        for workers in sorted({1, cores}):
            for _ in range(max(1, repeats)):
                waited, busy = wait_for_quiet(max_busy=0.2, max_wait=wait_quiet)
                proc = subprocess.run(
                    [sys.executable, __file__, "--child", str(n), str(seed), str(workers)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                row = json.loads(proc.stdout.strip().splitlines()[-1])
                digests.add(row.pop("digest"))
                row["waited_s"], row["busy_before"] = round(waited, 1), round(busy, 2)
                rows.append(row)
                print(
                    f"generate_cohort({n:,}, workers={workers}): {row['generate_s']} s, "
                    f"peak memory {row['peak_gb']} GB over {row['processes']} processes, "
                    f"CPU {row['cpu_s']} s + workers {row['workers_cpu_s']} s, "
                    f"load {row['load_before']} -> {row['load_after']}, "
                    f"other_busy {row['other_busy']}",
                    flush=True,
                )
        if len(digests) != 1:
            raise SystemExit(f"workers changed the cohort at {n:,} pupils")
        print(f"  {n:,} pupils: every worker count gave the same frame", flush=True)
    return rows


def self_check() -> None:
    small = generate_cohort(3_000, rng=0)
    assert all(synthetic.is_valid_upn(u) for u in small["upn"].astype(str))
    year = small["nc_year"].cat.codes.to_numpy().astype(int)
    start = pd.to_datetime({"year": 2023 - year - 5, "month": 9, "day": 1})
    assert (small["date_of_birth"] >= start).all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=8_500_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", default=None, help="directory for the Parquet files (default: a temp dir)"
    )
    parser.add_argument(
        "--uniqueness", action="store_true", help="also compute the uniqueness table"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="generate_cohort workers (default: all cores)"
    )
    parser.add_argument(
        "--compare-workers",
        action="store_true",
        help="time generate_cohort with 1 worker and with every core, in fresh processes",
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 8_500_000])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before each run, wait up to this many seconds for the machine to be quiet",
    )
    parser.add_argument("--child", type=int, nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(child_generate(*args.child)))
        return 0
    self_check()
    if args.compare_workers:
        rows = compare_workers(args.sizes, args.seed, args.repeats, args.wait_quiet)
        print(
            json.dumps(
                {
                    "compare_workers": rows,
                    "python": platform.python_version(),
                    "numpy": np.__version__,
                    "pandas": pd.__version__,
                    "cpu_count": os.cpu_count(),
                    "generator_version": synthetic.GENERATOR_VERSION,
                }
            )
        )
        return 0
    results: dict[str, object] = {
        "pupils": args.pupils,
        "seed": args.seed,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "machine": platform.machine(),
        "generator_version": synthetic.GENERATOR_VERSION,
    }
    t0 = time.perf_counter()
    cohort = generate_cohort(args.pupils, rng=args.seed, workers=args.workers)
    results["generate_s"] = round(time.perf_counter() - t0, 2)
    results["generate_peak_rss_gb"] = round(peak_rss_gb(), 2)
    results["frame_gb"] = round(cohort.memory_usage(deep=True).sum() / 1e9, 2)
    print(
        f"generate_cohort({args.pupils:,}): {results['generate_s']} s, "
        f"peak RSS {results['generate_peak_rss_gb']} GB, frame {results['frame_gb']} GB",
        flush=True,
    )

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        paths = write_tiers(cohort, out, force=True)
        results["write_s"] = round(time.perf_counter() - t0, 2)
        sizes = {
            k: round(p.stat().st_size / 1e6, 1)
            for k, p in paths.items()
            if not k.startswith("tier3:")
        }
        sizes["tier3 tables"] = sum(1 for k in paths if k.startswith("tier3:"))
        results["file_mb"] = sizes
    results["peak_rss_gb"] = round(peak_rss_gb(), 2)
    print(
        f"write_tiers (tier 1, 2, 4 extracts + tier 3 tables): {results['write_s']} s {sizes}; "
        f"peak RSS {results['peak_rss_gb']} GB",
        flush=True,
    )

    if args.uniqueness:
        rows = []
        for label, cols, phase, expected in UNIQUENESS_KEYS:
            sub = cohort if phase is None else cohort[cohort["phase"] == phase]
            t1 = time.perf_counter()
            share = unique_share(sub, cols)
            rows.append(
                {
                    "key": label,
                    "records": len(sub),
                    "expected": expected,
                    "unique_share": round(share, 4),
                    "seconds": round(time.perf_counter() - t1, 1),
                }
            )
            print(f"  {label:58s} unique {share:7.2%}  (npd-spec 5: {expected:.1%})", flush=True)
        results["uniqueness"] = rows
    print(json.dumps(results, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
