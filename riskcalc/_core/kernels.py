"""Compiled grouping kernels (numba), each with a plain-numpy twin giving the same answer.

The kernels carry the engine's grouping work:

* :func:`mix` -- one step of the mixed-radix key, ``key = key * levels + codes``, in place;
* :func:`group` -- dense class ids and class sizes for ``int64`` keys in ``[0, space)``;
* :func:`class_values` -- per class, the one value of a field its records hold, or "mixed"
  (the homogeneous-class test of attribute disclosure), and :func:`homogeneous_tally`, the
  records and classes of the homogeneous classes.

:func:`group` numbers classes *canonically*, so the compiled and the numpy path return the same
arrays, not merely the same partition: when the key space is small (see
:func:`small_key_space`) ids follow increasing key (``bincount`` and ``cumsum``); otherwise the
keys are radix-partitioned by the top ``pb`` bits of their hash (``pb`` depends only on the
number of records and the key space, see :func:`_partition_bits`), and ids run partition by
partition, in order of first appearance within each. The compiled kernel scatters the records
to their partition (row order kept) and then groups every partition with a hash table small
enough to stay in cache, the partitions spread over the threads; the numbering depends neither
on the number of threads nor on the path.

Which path runs
---------------
``RISKCALC_KERNELS`` (environment, read at import) or :func:`set_backend`:

* ``"auto"`` (default): compiled when numba imports and the input has at least
  :data:`MIN_COMPILED` records (below that, numpy is as fast and numba's import is not paid);
* ``"numba"``: compiled for every size (tests compare it with the numpy path);
* ``"numpy"``: numpy only.

Compiled kernels are cached on disk (``cache=True``), so only the first run after installation
pays the compilation (see ``benchmarks/README.md`` for the measured cold and warm costs).
"""

from __future__ import annotations

import os
import threading
import types
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "backend",
    "set_backend",
    "compiled",
    "mix",
    "group",
    "class_values",
    "homogeneous_tally",
    "MIXED",
    "first_appearance",
    "first_rows",
    "range_codes",
    "MIN_COMPILED",
]

#: Records below which ``"auto"`` keeps to numpy.
MIN_COMPILED = 1 << 17

_BACKENDS = ("auto", "numba", "numpy")
_backend = os.environ.get("RISKCALC_KERNELS", "auto").strip().lower() or "auto"
if _backend not in _BACKENDS:  # pragma: no cover - a mistyped environment variable
    _backend = "auto"

_GOLDEN = 0x9E3779B97F4A7C15  # Fibonacci hashing multiplier (odd, so a bijection on 64 bits)
_BINCOUNT_FACTOR = 4  # the small-key-space rule, shared with grouping.small_key_space

# the compiled module namespace once loaded, False when numba is unavailable
_numba: types.ModuleType | Literal[False] | None = None
_load_lock = threading.Lock()
# The 'workqueue' threading layer (used where neither OpenMP nor TBB is found) must not be
# entered by two Python threads at once: parallel kernels are serialised by this lock.
_run_lock = threading.Lock()


# GNU OpenMP (numba's usual threading layer on Linux) aborts a forked child that enters a
# parallel region its parent used: after a fork the child runs the serial kernels only.
_forked = False


def _after_fork_in_child() -> None:
    global _forked
    _forked = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def parallel_started() -> bool:
    """Whether compiled parallel kernels have started their threads in this process (after
    which forking it is unsafe: see ``_after_fork_in_child``)."""
    if not _numba:
        return False
    import sys

    parallel = sys.modules.get("numba.np.ufunc.parallel")
    if parallel is None:  # numba's threading layer never loaded: no kernel thread exists
        return False
    return bool(getattr(parallel, "_is_initialized", True))  # unknown layout: assume started


def backend() -> str:
    """The kernel backend in force: ``"auto"``, ``"numba"`` or ``"numpy"``."""
    return _backend


def set_backend(name: str) -> str:
    """Select the kernel backend; returns the previous one."""
    global _backend
    name = str(name).strip().lower()
    if name not in _BACKENDS:
        from ..exceptions import InvalidParameterError

        raise InvalidParameterError(
            f"The kernel backend must be one of {', '.join(map(repr, _BACKENDS))}; got {name!r}."
        )
    old, _backend = _backend, name
    return old


def small_key_space(space: int, n: int) -> bool:
    """Whether keys in ``[0, space)`` for ``n`` records are best counted by ``bincount``."""
    return space <= max(_BINCOUNT_FACTOR * n, 1 << 16)


def _load():
    """Import the compiled kernels (once); ``False`` when numba is not available."""
    global _numba
    if _numba is None:
        with _load_lock:
            if _numba is None:
                try:
                    from . import _numba_kernels
                except ImportError:
                    _numba = False
                else:
                    _numba = _numba_kernels
    return _numba


def compiled(n: int):
    """The compiled-kernel module to use for ``n`` records, or ``None`` for numpy."""
    if _backend == "numpy" or (_backend == "auto" and n < MIN_COMPILED):
        return None
    mod = _load()
    return mod or None


# --------------------------------------------------------------------------------------------
# mix: key = key * levels + codes
# --------------------------------------------------------------------------------------------


def mix(key: np.ndarray, codes: np.ndarray, levels: int) -> np.ndarray:
    """``key * levels + codes`` in place on the ``int64`` array ``key``, in unsigned 64-bit
    arithmetic (a key space up to ``2**64``); returns ``key``."""
    unsigned = key.view(np.uint64)
    mod = compiled(key.shape[0])
    if mod is not None:
        mod.mix(unsigned, np.ascontiguousarray(codes), np.uint64(levels))
        return key
    unsigned *= np.uint64(levels)
    unsigned += codes.astype(np.uint64)
    return key


def add_counts(key: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``counts[k] += 1`` for every ``k`` in ``key`` (keys in ``[0, len(counts))``), in place."""
    mod = compiled(key.shape[0])
    if mod is not None:
        mod.add_counts(np.ascontiguousarray(key, dtype=np.int64), counts)
        return counts
    counts += np.bincount(key, minlength=counts.shape[0]).astype(np.int64, copy=False)
    return counts


# --------------------------------------------------------------------------------------------
# group: canonical dense ids and sizes
# --------------------------------------------------------------------------------------------


def _id_dtype(n: int):
    return np.int32 if n < (1 << 31) else np.int64


def group(key: np.ndarray, space: int, *, threads: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids in ``[0, n_classes)`` and class sizes (int64) for keys in ``[0, space)``.

    Ids follow increasing key when the key space is small (bincount), else hash partition, then
    first appearance. The compiled and numpy paths return identical arrays.
    ``threads=False`` runs the compiled kernel on the calling thread only (for callers that
    run several groupings on threads of their own).
    """
    key = np.ascontiguousarray(key, dtype=np.int64)
    n = key.shape[0]
    id_dtype = _id_dtype(n)
    if n == 0:
        return np.zeros(0, id_dtype), np.zeros(0, np.int64)
    small = small_key_space(space, n)
    mod = compiled(n) if n < (1 << 31) else None
    if mod is None:
        if small:
            return _group_bincount(key, space, id_dtype)
        return _by_partition(key, *_group_hash_numpy(key, id_dtype), _partition_bits(n, space))
    ids = np.empty(n, id_dtype)
    if small:
        counts = np.zeros(int(space), np.int64)
        # serial: one counting pass and one gather, cheaper than a parallel launch
        return ids, mod.group_small_serial(key, counts, ids)
    pb = _partition_bits(n, space)
    if n >= _FEW_MIN:
        # Few distinct keys (codes, sexes, ...): one small table in cache, one pass; it gives
        # up early, at the (_FEW_CAP + 1)-th distinct key, on keys that are not few.
        sizes, first = np.empty(_FEW_CAP, np.int64), np.empty(_FEW_CAP, np.int64)
        m = int(mod.first_appearance(key, _FEW_CAP, ids, sizes, first))
        if m >= 0:
            return _reorder_by_partition(ids, sizes[:m], key[first[:m]], pb)
    # The big temporaries are numpy arrays (numpy asks the kernel for huge pages: first-touch
    # page faults of a fresh 4 KiB-paged array cost as much as a pass over it).
    pkey = np.empty(n, np.int64)
    if threads and not _forked:
        with _run_lock:
            starts, cursor, m = mod.hash_group(
                key, pb, max(int(mod.n_threads()), 1), pkey, _TABLE_BITS
            )
            sizes = np.empty(int(m.sum()), np.int64)
            mod.hash_ids(key, pb, pkey, starts, cursor, m, ids, sizes)
    else:
        starts, cursor, m = mod.hash_group_serial(key, pb, pkey, _TABLE_BITS)
        sizes = np.empty(int(m.sum()), np.int64)
        mod.hash_ids_serial(key, pb, pkey, starts, cursor, m, ids, sizes)
    return ids, sizes


#: log2 of the largest hash table a partition starts with (16 bytes a slot: 4 MiB); a partition
#: with more distinct keys grows its table (tests lower it to exercise the growth).
_TABLE_BITS = 18

#: The small-table path is tried for inputs of at least this many records, up to this many keys.
_FEW_MIN = 1 << 14
_FEW_CAP = 1 << 11


def _reorder_by_partition(ids, sizes, distinct, pb):
    """First-appearance classes (their keys ``distinct``) renumbered partition by partition."""
    if pb == 0:
        return ids, sizes
    part = (distinct.astype(np.uint64) * np.uint64(_GOLDEN)) >> np.uint64(64 - pb)
    order = np.argsort(part, kind="stable")
    rank = np.empty(order.shape[0], ids.dtype)
    rank[order] = np.arange(order.shape[0], dtype=ids.dtype)
    return rank[ids], sizes[order]


def _partition_bits(n: int, space: int) -> int:
    """log2 of the number of hash partitions: about 16,384 distinct keys or fewer in each, so
    that a partition's hash table stays in the processor's cache."""
    distinct = min(n, int(space))
    pb = 0
    while pb < 12 and (16384 << pb) < distinct:
        pb += 1
    return pb


def _group_bincount(key, space, id_dtype):
    counts = np.bincount(key, minlength=int(space))
    present = counts > 0
    remap = (np.cumsum(present, dtype=np.int64) - 1).astype(id_dtype)
    return remap[key], counts[present].astype(np.int64)


def _group_hash_numpy(key, id_dtype):
    """First-appearance ids by numpy: keys alone in their hash bucket are certainly unique
    (one ``bincount``); only the others go through pandas' hash table."""
    n = key.shape[0]
    lone = _lone_keys(key)
    rest = np.flatnonzero(~lone)
    if rest.shape[0] == 0:
        return np.arange(n, dtype=id_dtype), np.ones(n, np.int64)
    rest_ids, uniques = pd.factorize(key[rest], sort=False)  # first appearance among the rest
    m = uniques.shape[0]
    # First row of each class of the rest: where rest_ids reaches a new maximum.
    new = np.empty(rest_ids.shape[0], dtype=bool)
    new[0] = True
    np.greater(rest_ids[1:], np.maximum.accumulate(rest_ids[:-1]), out=new[1:])
    first_rest = rest[new]  # first row of rest class c, c = 0..m-1
    is_first = lone.copy()
    is_first[first_rest] = True
    rank = (np.cumsum(is_first, dtype=np.int64) - 1).astype(id_dtype)
    ids = np.empty(n, id_dtype)
    ids[lone] = rank[lone]
    ids[rest] = rank[first_rest][rest_ids]
    n_classes = int(rank[-1]) + 1
    sizes = np.ones(n_classes, np.int64)
    sizes[rank[first_rest]] = np.bincount(rest_ids, minlength=m)
    return ids, sizes


def _by_partition(key, ids, sizes, pb):
    """Renumber first-appearance classes partition by partition (stable), as the compiled
    kernel numbers them."""
    if pb == 0:
        return ids, sizes
    part = ((key.astype(np.uint64) * np.uint64(_GOLDEN)) >> np.uint64(64 - pb)).astype(np.uint16)
    part_of_class = np.empty(sizes.shape[0], np.uint16)
    part_of_class[ids] = part  # every record of a class carries the same partition
    order = np.argsort(part_of_class, kind="stable")
    rank = np.empty(order.shape[0], ids.dtype)
    rank[order] = np.arange(order.shape[0], dtype=ids.dtype)
    return rank[ids], sizes[order]


def _lone_keys(key: np.ndarray) -> np.ndarray:
    """Mask of the records alone in their hash bucket (about ``2 n`` buckets)."""
    n = key.shape[0]
    bits = min(max(16, int(np.ceil(np.log2(2 * n)))), 40)
    bucket = ((key.astype(np.uint64) * np.uint64(_GOLDEN)) >> np.uint64(64 - bits)).astype(np.int64)
    return np.bincount(bucket, minlength=1 << bits)[bucket] == 1


# --------------------------------------------------------------------------------------------
# class_values: the homogeneous-class test
# --------------------------------------------------------------------------------------------


#: The class value of a class holding two or more values (:func:`class_values`).
MIXED = -2


def class_values(labels: np.ndarray, n_labels: int, codes: np.ndarray) -> np.ndarray:
    """For each class ``c`` in ``[0, n_labels)``: the value its records hold when they hold one
    (a homogeneous class), :data:`MIXED` (``-2``) when they hold two or more, ``-1`` for a
    label no record carries. ``codes`` are non-negative integers; the result is ``int32``
    (``int64`` for 64-bit codes)."""
    n = labels.shape[0]
    dtype = np.int64 if codes.dtype.itemsize > 4 else np.int32
    values = np.full(int(n_labels), -1, dtype)
    mod = compiled(n)
    if mod is not None:
        mod.class_values(np.ascontiguousarray(labels), np.ascontiguousarray(codes), values)
        return values
    values[labels[::-1]] = codes[::-1]  # the last write of each class is its first record
    differs = codes != values[labels]
    values[np.bincount(labels[differs], minlength=int(n_labels)) > 0] = MIXED
    return values


def homogeneous_tally(
    values: np.ndarray, sizes: np.ndarray, modal: int
) -> tuple[int, int, int, int]:
    """Over the homogeneous classes (``values`` of :func:`class_values` not :data:`MIXED`):
    their records, the records in those of two or more, the records whose value is not
    ``modal``, and the classes."""
    mod = compiled(sizes.shape[0])
    if mod is not None:
        return tuple(int(v) for v in mod.homogeneous_tally(values, sizes, np.int64(modal)))
    homo = values != MIXED
    homo_sizes = sizes[homo]
    return (
        int(homo_sizes.sum()),
        int(homo_sizes[homo_sizes > 1].sum()),
        int(sizes[homo & (values != modal)].sum()),
        int(np.count_nonzero(homo)),
    )


# --------------------------------------------------------------------------------------------
# first appearance and first rows
# --------------------------------------------------------------------------------------------


def first_appearance(key: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Ids numbered by first appearance in row order (``int32``), the size and the first row of
    each distinct key (``int64``); ``None`` when ``key`` has more than ``cap`` distinct values
    (the compiled kernel then stops at the first key past ``cap``)."""
    key = np.ascontiguousarray(key, dtype=np.int64)
    n = key.shape[0]
    cap = 1 << max(int(cap) - 1, 0).bit_length()  # a power of two
    mod = compiled(n)
    if mod is not None:
        ids = np.empty(n, np.int32)
        sizes = np.empty(cap, np.int64)
        first = np.empty(cap, np.int64)
        m = int(mod.first_appearance(key, cap, ids, sizes, first))
        if m < 0:
            return None
        return ids, sizes[:m].copy(), first[:m].copy()
    codes, uniques = pd.factorize(key, sort=False)
    if uniques.shape[0] > cap:
        return None
    m = uniques.shape[0]
    first = np.empty(m, np.int64)
    first[codes[::-1]] = np.arange(n - 1, -1, -1, dtype=np.int64)  # the last write is the first row
    return codes.astype(np.int32), np.bincount(codes, minlength=m).astype(np.int64), first


def first_rows(ids: np.ndarray, n_ids: int) -> np.ndarray:
    """The first row holding each id in ``[0, n_ids)`` (``int64``; ``-1`` for an id no row holds)."""
    first = np.full(int(n_ids), -1, np.int64)
    mod = compiled(ids.shape[0])
    if mod is not None:
        mod.first_rows(np.ascontiguousarray(ids), first)
        return first
    rows = np.arange(ids.shape[0] - 1, -1, -1, dtype=np.int64)
    first[ids[::-1]] = rows  # the last write of each id is its first row
    return first


def range_codes(
    values: np.ndarray, lo: int, span: int, dtype=np.int32
) -> tuple[np.ndarray, np.ndarray]:
    """Codes (of the integer type ``dtype``, wide enough for ``span`` codes) of integers in
    ``[lo, lo + span)`` by increasing value, and the values present (``int64``, ascending): a
    counting pass and a lookup pass."""
    mod = compiled(values.shape[0])
    if mod is not None:
        ranks = np.zeros(int(span), np.int64)
        codes = np.empty(values.shape[0], dtype)
        mod.range_codes(np.ascontiguousarray(values), np.int64(lo), ranks, codes)
        return codes, np.flatnonzero(ranks >= 0) + lo
    # Subtract in int64: narrow types would wrap around (int8: 100 - (-100) overflows).
    shifted = values.astype(np.int64)
    if lo:
        shifted -= lo
    present = np.bincount(shifted, minlength=int(span)) > 0
    remap = (np.cumsum(present) - 1).astype(dtype)
    return remap[shifted], np.flatnonzero(present) + lo
