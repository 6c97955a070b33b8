"""``kernels.group`` on the hash path: the compiled kernel against its numpy twin.

Usage (from the repository root)::

    python benchmarks/bench_group.py                     # 8.6M and 1M rows, all cases
    python benchmarks/bench_group.py --rows 8600000 --repeats 7 --cases distinct,census10
    python benchmarks/bench_group.py --serial            # the one-thread compiled kernel

Cases (keys in a key space too large for ``bincount``, so the hash-partition kernel runs):

* ``distinct``  -- random 64-bit keys, almost all distinct (as ten census fields);
* ``census10``  -- the mixed-radix key of the ten fields of the benchmark pupil table
  (``benchmarks/_data.py``; read from its Parquet cache, written once when missing);
* ``800k``, ``50k`` -- keys drawn from 800,000 (postcode-like) or 50,000 distinct values.

The compiled kernel and the numpy path (``RISKCALC_KERNELS=numpy``: the lone-key split and
pandas' hash table) run interleaved in one process after one untimed warm-up each; the table
shows the median wall time of each with the ``uptime`` load before and after. Both must return
identical arrays (checked on every case). The previous compiled kernel's figures (before the
in-place partition numbering) are in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
for p in (str(REPO), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

from riskcalc._core import kernels


def _with_backend(name):
    def run(key, space, threads):
        old = kernels.set_backend(name)
        try:
            return kernels.group(key, space, threads=threads)
        finally:
            kernels.set_backend(old)

    return run


# ---- cases --------------------------------------------------------------------------------

SPACE = 10**15


def _drawn(n, distinct, seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, SPACE, distinct)
    return values[rng.integers(0, distinct, n)]


def _census10(n):
    import _data
    import pyarrow.parquet as pq

    import riskcalc as rc
    from riskcalc._core.grouping import combine_codes

    table = pq.read_table(_data.cached_paths(n, csv=False)["parquet"])
    enc = rc.encode(table)
    cols = [enc[c] for c in _data.COLUMNS]
    key, space = combine_codes([c.codes for c in cols], [c.n_levels for c in cols])
    return key, space


def make_case(name, n):
    if name == "distinct":
        return np.random.default_rng(1).integers(0, SPACE, n), SPACE
    if name == "census10":
        return _census10(n)
    if name == "800k":
        return _drawn(n, 800_000, 2), SPACE
    if name == "50k":
        return _drawn(n, 50_000, 3), SPACE
    raise SystemExit(f"unknown case {name!r}")


def load() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", default="8600000,1000000", help="comma-separated row counts")
    ap.add_argument("--cases", default="distinct,census10,800k,50k")
    ap.add_argument("--repeats", type=int, default=7, help="timed runs of each kernel (median)")
    ap.add_argument("--serial", action="store_true", help="threads=False (the one-thread kernel)")
    args = ap.parse_args(argv)
    mod = kernels._load()
    print(f"numba threads: {mod.n_threads()}; timing kernels.group, threads={not args.serial}")
    kernels_old, kernels_new = _with_backend("numpy"), _with_backend("numba")
    print(
        f"{'case':10s} {'n':>10s} {'distinct':>10s} {'numpy s':>8s} {'numba s':>8s} {'speed-up':>8s}  load before / after"
    )
    for n in [int(float(r)) for r in args.rows.split(",")]:
        for name in args.cases.split(","):
            key, space = make_case(name, n)
            times = {"old": [], "new": []}
            results = {}
            before = load()
            for r in range(args.repeats + 1):
                for label, fn in (("old", kernels_old), ("new", kernels_new)):
                    t0 = time.perf_counter()
                    out = fn(key, space, threads=not args.serial)
                    dt = time.perf_counter() - t0
                    if r == 0:
                        results[label] = out
                    else:
                        times[label].append(dt)
                    del out
            ids_o, sizes_o = results["old"]
            ids_n, sizes_n = results["new"]
            if not (np.array_equal(ids_o, ids_n) and np.array_equal(sizes_o, sizes_n)):
                raise SystemExit(f"{name} at {n}: the compiled and the numpy path disagree")
            t_old, t_new = statistics.median(times["old"]), statistics.median(times["new"])
            print(
                f"{name:10s} {n:>10,} {sizes_n.shape[0]:>10,} {t_old:8.3f} {t_new:8.3f} {t_old / t_new:7.2f}x  "
                f"{before} / {load()}",
                flush=True,
            )
            del results, ids_o, ids_n, sizes_o, sizes_n, key


if __name__ == "__main__":
    main()
