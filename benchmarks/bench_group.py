"""``kernels.group`` on the hash path: the current compiled kernel against the previous one.

Usage (from the repository root)::

    python benchmarks/bench_group.py                     # 8.6M and 1M rows, all cases
    python benchmarks/bench_group.py --rows 8600000 --repeats 7 --cases distinct,census10
    python benchmarks/bench_group.py --rows 1000000,300000 --refine   # the lattice's variant

Cases (keys in a key space too large for ``bincount``, so the hash-partition kernel runs):

* ``distinct``  -- random 64-bit keys, almost all distinct (as ten census fields);
* ``census10``  -- the mixed-radix key of the ten fields of the benchmark pupil table
  (``benchmarks/_data.py``; read from its Parquet cache, written once when missing);
* ``800k``, ``50k`` -- keys drawn from 800,000 (postcode-like) or 50,000 distinct values.

Old and new run interleaved in one process (old, new, old, new, ...) after one untimed
warm-up each, and the table shows the median wall time of each with the ``uptime`` load
before and after. The previous kernel is kept here only, for this comparison (``_old_*``); both
must return identical arrays (checked on every case).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit, prange

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
for p in (str(REPO), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

from riskcalc._core import kernels  # noqa: E402

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


# ---- the previous kernel (riskcalc before the in-place partition grouping) -------------------

@njit(nogil=True, cache=True, inline="always")
def _old_hash(k):
    return np.uint64(k) * _GOLDEN


@njit(nogil=True, cache=True)
def _old_histogram(key, lo, hi, pb, counts):
    shift = np.uint64(64 - pb)
    for i in range(lo, hi):
        counts[np.int64(_old_hash(key[i]) >> shift) if pb else 0] += 1


@njit(nogil=True, cache=True)
def _old_scatter(key, lo, hi, pb, offsets, pkey, prow):
    shift = np.uint64(64 - pb)
    for i in range(lo, hi):
        p = np.int64(_old_hash(key[i]) >> shift) if pb else 0
        j = offsets[p]
        pkey[j] = key[i]
        prow[j] = i
        offsets[p] = j + 1


@njit(nogil=True, cache=True)
def _old_group_partition(pkey, prow, a, b, pb, ids, sizes):
    n = b - a
    if n == 0:
        return 0
    lb = 1
    while (1 << lb) < 2 * n:
        lb += 1
    table_key = np.empty(1 << lb, np.int64)
    table_id = np.full(1 << lb, -1, np.int64)
    up = np.uint64(pb)
    down = np.uint64(64 - lb)
    mask = (np.int64(1) << lb) - 1
    m = 0
    for j in range(a, b):
        k = pkey[j]
        s = np.int64((_old_hash(k) << up) >> down)
        while True:
            c = table_id[s]
            if c < 0:
                table_key[s] = k
                table_id[s] = m
                sizes[a + m] = 1
                c = m
                m += 1
                break
            if table_key[s] == k:
                sizes[a + c] += 1
                break
            s = (s + 1) & mask
        ids[prow[j]] = c
    return m


@njit(nogil=True, cache=True)
def _old_add_base(key, lo, hi, pb, base, ids):
    shift = np.uint64(64 - pb)
    for i in range(lo, hi):
        ids[i] += base[np.int64(_old_hash(key[i]) >> shift) if pb else 0]


@njit(parallel=True, nogil=True, cache=True)
def _old_group_hash(key, pb, chunks, ids):
    n = key.shape[0]
    n_parts = 1 << pb
    bounds = np.linspace(0, n, chunks + 1).astype(np.int64)
    counts = np.zeros((chunks, n_parts), np.int64)
    for c in prange(chunks):
        _old_histogram(key, bounds[c], bounds[c + 1], pb, counts[c])
    offsets = np.empty((chunks, n_parts), np.int64)
    starts = np.empty(n_parts + 1, np.int64)
    pos = 0
    for p in range(n_parts):
        starts[p] = pos
        for c in range(chunks):
            offsets[c, p] = pos
            pos += counts[c, p]
    starts[n_parts] = pos
    pkey = np.empty(n, np.int64)
    prow = np.empty(n, np.int64)
    for c in prange(chunks):
        _old_scatter(key, bounds[c], bounds[c + 1], pb, offsets[c], pkey, prow)
    sizes_at = np.empty(n, np.int64)
    m = np.empty(n_parts, np.int64)
    for p in prange(n_parts):
        m[p] = _old_group_partition(pkey, prow, starts[p], starts[p + 1], pb, ids, sizes_at)
    base = np.empty(n_parts, np.int64)
    total = 0
    for p in range(n_parts):
        base[p] = total
        total += m[p]
    sizes = np.empty(total, np.int64)
    for p in prange(n_parts):
        a = starts[p]
        for c in range(m[p]):
            sizes[base[p] + c] = sizes_at[a + c]
    for c in prange(chunks):
        _old_add_base(key, bounds[c], bounds[c + 1], pb, base, ids)
    return sizes


@njit(nogil=True, cache=True)
def _old_group_hash_serial(key, pb, ids):
    n = key.shape[0]
    n_parts = 1 << pb
    counts = np.zeros(n_parts, np.int64)
    _old_histogram(key, 0, n, pb, counts)
    offsets = np.empty(n_parts, np.int64)
    starts = np.empty(n_parts + 1, np.int64)
    pos = 0
    for p in range(n_parts):
        starts[p] = pos
        offsets[p] = pos
        pos += counts[p]
    starts[n_parts] = pos
    pkey = np.empty(n, np.int64)
    prow = np.empty(n, np.int64)
    _old_scatter(key, 0, n, pb, offsets, pkey, prow)
    sizes_at = np.empty(n, np.int64)
    base = np.empty(n_parts, np.int64)
    total = 0
    for p in range(n_parts):
        a = starts[p]
        mp = _old_group_partition(pkey, prow, a, starts[p + 1], pb, ids, sizes_at)
        for c in range(mp):
            sizes_at[total + c] = sizes_at[a + c]
        base[p] = total
        total += mp
    _old_add_base(key, 0, n, pb, base, ids)
    return sizes_at[:total].copy()


def old_group(key, space, *, threads=True):
    """``kernels.group`` as it was: the same small-space and few-keys paths, the previous hash
    kernel."""
    mod = kernels._load()
    key = np.ascontiguousarray(key, dtype=np.int64)
    n = key.shape[0]
    ids = np.empty(n, kernels._id_dtype(n))
    if kernels.small_key_space(space, n):
        return ids, mod.group_small_serial(key, np.zeros(int(space), np.int64), ids)
    pb = kernels._partition_bits(n, space)
    if n >= kernels._FEW_MIN:
        m, counts, distinct = mod.group_few(key, kernels._FEW_CAP, ids)
        if m >= 0:
            return kernels._reorder_by_partition(ids, counts[:m], distinct[:m], pb)
    if threads:
        return ids, _old_group_hash(key, pb, max(int(mod.n_threads()), 1), ids)
    return ids, _old_group_hash_serial(key, pb, ids)


# ---- cases --------------------------------------------------------------------------------

SPACE = 10**15


def _drawn(n, distinct, seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, SPACE, distinct)
    return values[rng.integers(0, distinct, n)]


def _census10(n):
    import pyarrow.parquet as pq

    import _data
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
    ap.add_argument("--refine", action="store_true",
                    help="time group_hash_serial, the variant the lattice's compiled refine step calls "
                         "(temporaries allocated inside), instead of kernels.group")
    args = ap.parse_args(argv)
    kernels.set_backend("numba")
    mod = kernels._load()
    what = "group_hash_serial (refine)" if args.refine else f"kernels.group, threads={not args.serial}"
    print(f"numba threads: {mod.n_threads()}; timing {what}")

    def refine_kernel(fn):
        def run(key, space, threads):
            ids = np.empty(key.shape[0], np.int32)
            return ids, fn(key, mod._bits_for(min(key.shape[0], space)), ids)
        return run

    if args.refine:
        kernels_old, kernels_new = refine_kernel(_old_group_hash_serial), refine_kernel(mod.group_hash_serial)
    else:
        kernels_old, kernels_new = old_group, kernels.group
    print(f"{'case':10s} {'n':>10s} {'distinct':>10s} {'old s':>8s} {'new s':>8s} {'speed-up':>8s}  load before / after")
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
                raise SystemExit(f"{name} at {n}: old and new kernels disagree")
            t_old, t_new = statistics.median(times["old"]), statistics.median(times["new"])
            print(f"{name:10s} {n:>10,} {sizes_n.shape[0]:>10,} {t_old:8.3f} {t_new:8.3f} {t_old / t_new:7.2f}x  "
                  f"{before} / {load()}", flush=True)
            del results, ids_o, ids_n, sizes_o, sizes_n, key


if __name__ == "__main__":
    main()
