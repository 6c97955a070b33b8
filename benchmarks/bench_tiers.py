"""The main job, timed: `riskcalc tiers` at its default size and at the full population (issue 6).

    python benchmarks/bench_tiers.py [--pupils 1000000,8500000] [--seed 0]

Each size runs the same code as ``riskcalc tiers --out DIR`` (cohort, tier table, lattice,
staircase, what-if, HTML report, all files) in a fresh subprocess, and prints wall time and peak
RSS. Targets: default size (1,000,000 pupils) under 60 s; 8,500,000 pupils under 10 minutes and
8 GB.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(pupils: int, seed: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as out:
        code = (
            "import resource, sys; from riskcalc.cli import main; "
            f"rc = main(['tiers', '--pupils', '{pupils}', '--seed', '{seed}', '--out', {out!r}, '--progress']); "
            "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)"
        )
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - start
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"riskcalc tiers failed at {pupils:,} pupils")
    sys.stderr.write(proc.stderr)
    peak_kib = int(proc.stderr.rsplit("PEAK", 1)[1].split()[0])
    return wall, peak_kib / 2**20


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pupils", default="1000000,8500000")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rows = []
    for pupils in [int(p) for p in args.pupils.split(",")]:
        wall, peak = run(pupils, args.seed)
        limit_s, limit_gb = (60, None) if pupils <= 1_000_000 else (600, 8)
        ok = wall <= limit_s and (limit_gb is None or peak <= limit_gb)
        rows.append((pupils, wall, peak, "ok" if ok else "MISS"))
    print(f"{'pupils':>12} {'seconds':>9} {'peak GiB':>9}  target")
    for pupils, wall, peak, verdict in rows:
        print(f"{pupils:>12,} {wall:>9.1f} {peak:>9.2f}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
