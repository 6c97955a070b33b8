"""The main job, timed: `riskcalc tiers` at its default size and at the full population (issue 9).

    python benchmarks/bench_tiers.py [--pupils 1000000,8500000] [--repeats 5] [--seed 0]

Each run is the command a user types, ``python -m riskcalc tiers --pupils N --out DIR``
(cohort, tier table, lattice, staircase, what-if, the history section, HTML report and charts,
all files), in a fresh process, so imports, the background worker and the interpreter's exit
are counted. Sizes alternate from one repeat to the next, so a drift in the machine's speed
reaches every size alike. Printed per run: wall seconds, CPU seconds of the whole process tree
(user + system, from ``wait4``), peak RSS of its largest process, the 1-minute load average
before the run; then the median and range per size against the targets of issue 9:
1,000,000 pupils under 10 s; 8,500,000 pupils under 60 s and 3 GB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Issue 9's targets: seconds and GiB of peak memory (None: no memory target).
TARGETS = {1_000_000: (10.0, None), 8_500_000: (60.0, 3.0)}


def run(pupils: int, seed: int) -> dict:
    """One ``riskcalc tiers`` run in a fresh process: wall and CPU seconds, peak GiB, load."""
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        cmd = [
            sys.executable,
            "-m",
            "riskcalc",
            "tiers",
            "--pupils",
            str(pupils),
            "--seed",
            str(seed),
            "--out",
            str(out),
        ]
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err = proc.stderr.read()
        proc.stderr.close()
    if os.waitstatus_to_exitcode(status):
        sys.stderr.write(err)
        raise SystemExit(f"riskcalc tiers failed at {pupils:,} pupils")
    return {
        "pupils": pupils,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak": usage.ru_maxrss / 2**20,
        "load": load,
    }


def verdict(pupils: int, wall: float, peak: float) -> str:
    limit_s, limit_gb = TARGETS.get(pupils, (None, None))
    if limit_s is None:
        return ""
    ok = wall < limit_s and (limit_gb is None or peak < limit_gb)
    return f"{'met' if ok else 'MISS'} (< {limit_s:g} s" + (
        f", < {limit_gb:g} GB)" if limit_gb else ")"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pupils", default="1000000,8500000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    sizes = [int(p) for p in args.pupils.split(",")]
    runs = []
    print(f"{'pupils':>12} {'wall s':>8} {'CPU s':>8} {'peak GiB':>9} {'load':>5}")
    for _ in range(args.repeats):
        for pupils in sizes:
            r = run(pupils, args.seed)
            runs.append(r)
            print(
                f"{r['pupils']:>12,} {r['wall']:>8.2f} {r['cpu']:>8.2f} {r['peak']:>9.2f} {r['load']:>5.2f}",
                flush=True,
            )
    print(
        f"\n{'pupils':>12} {'median s':>9} {'range s':>13} {'under target':>13} {'peak GiB':>9}  target"
    )
    for pupils in sizes:
        mine = [r for r in runs if r["pupils"] == pupils]
        walls = [r["wall"] for r in mine]
        peak = max(r["peak"] for r in mine)
        limit = TARGETS.get(pupils, (float("inf"), None))[0]
        under = f"{sum(w < limit for w in walls)} of {len(walls)}"
        print(
            f"{pupils:>12,} {statistics.median(walls):>9.2f} {min(walls):>6.2f}-{max(walls):<6.2f} "
            f"{under:>13} {peak:>9.2f}  {verdict(pupils, statistics.median(walls), peak)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
