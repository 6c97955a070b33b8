"""Grouping kernels: combine code arrays into one key, and number the distinct keys.

The one home of the rules every grouping in riskcalc follows:

* codes are combined by mixed radix, ``key = key * n_levels[j] + codes[j]``, compressing the
  partial key to dense ids when the next product would leave ``int64`` (:func:`combine_codes`);
* when the key space is at most a few times the number of records (:func:`small_key_space`),
  keys are numbered by ``bincount`` and ``cumsum`` (:func:`densify_by_bincount`);
* otherwise the records alone in their hash bucket are alone with their key
  (:func:`lone_keys`), and only the rest go through a hash table (:func:`densify_fast`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "combine_codes", "group_codes", "small_key_space", "densify_by_bincount", "densify",
    "densify_fast", "lone_keys", "sorted_unique_counts", "run_lengths",
]

#: Largest mixed-radix key space before the partial key is compressed to dense ids.
_MAX_KEY_SPACE = 1 << 62
#: Dense-by-bincount when the key space is at most this many times the number of records.
_BINCOUNT_FACTOR = 4

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing multiplier (odd, so a bijection)


def lone_keys(key: np.ndarray) -> np.ndarray:
    """Mask of the records whose key no other record has, found by counting hash buckets.

    A record alone in its bucket is certainly alone with its key; a record sharing a bucket
    may or may not share its key (the mask is then false). About 2 n buckets: one multiply,
    one shift, one ``bincount``.
    """
    n = key.shape[0]
    if n == 0:
        return np.zeros(0, dtype=bool)
    bits = min(max(16, int(np.ceil(np.log2(2 * n)))), 40)
    bucket = ((key.astype(np.uint64) * _GOLDEN) >> np.uint64(64 - bits)).astype(np.int64)
    return np.bincount(bucket, minlength=1 << bits)[bucket] == 1


def sorted_unique_counts(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of a sorted array and how often each occurs (one pass, no hashing)."""
    if ordered.shape[0] == 0:
        return ordered, np.zeros(0, np.int64)
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    return ordered[starts], np.diff(np.append(starts, ordered.shape[0])).astype(np.int64)


def run_lengths(ordered: np.ndarray) -> np.ndarray:
    """Lengths of the runs of equal values in a sorted array."""
    n = ordered.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    return np.diff(np.append(starts, n)).astype(np.int64)



def combine_codes(codes: list[np.ndarray], n_levels: list[int]) -> tuple[np.ndarray, int]:
    """One int64 key per record for the combination of several code arrays.

    Codes are combined by mixed radix, ``key = key * n_levels[j] + codes[j]``; whenever the next
    product would leave ``int64`` the partial key is first compressed to dense ids, so the key
    space stays below ``n_records * max(n_levels)``. Returns ``(key, key_space)``.
    """
    key = codes[0].astype(np.int64)
    space = int(n_levels[0])
    for col, levels in zip(codes[1:], n_levels[1:]):
        if space * levels >= _MAX_KEY_SPACE:
            key, sizes = densify(key, space)
            key = key.astype(np.int64)
            space = int(sizes.shape[0])
        key *= levels
        key += col
        space *= int(levels)
    return key, max(space, 1)


def group_codes(codes: list[np.ndarray], n_levels: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Dense class ids and class sizes for the combination of several code arrays."""
    key, space = combine_codes(codes, n_levels)
    return densify(key, space)


def small_key_space(space: int, n: int) -> bool:
    """Whether keys in ``[0, space)`` for ``n`` records are best counted by ``bincount``."""
    return space <= max(_BINCOUNT_FACTOR * n, 1 << 16)


def densify_by_bincount(key: np.ndarray, space: int, id_dtype=np.int32) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids in increasing key order and class sizes, by ``bincount`` and ``cumsum``."""
    counts = np.bincount(key, minlength=space)
    present = counts > 0
    remap = (np.cumsum(present, dtype=np.int64) - 1).astype(id_dtype)
    return remap[key], counts[present].astype(np.int64)


def densify(key: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """Map keys in ``[0, space)`` to dense ids ``[0, n_classes)``; return ``(ids, sizes)``.

    Ids follow increasing key (consistent with the class sizes of :class:`Partition`, which are
    in key order too). When the key space is small
    this is a ``bincount`` and a ``cumsum``; otherwise a hash table numbers the keys and the
    distinct keys are then ranked.
    """
    n = key.shape[0]
    id_dtype = np.int32 if n < (1 << 31) else np.int64
    if n == 0:
        return np.zeros(0, id_dtype), np.zeros(0, np.int64)
    if small_key_space(space, n):
        return densify_by_bincount(key, space, id_dtype)
    ids, uniques = pd.factorize(key, sort=False)
    rank = np.empty(uniques.shape[0], dtype=id_dtype)
    rank[np.argsort(uniques)] = np.arange(uniques.shape[0], dtype=id_dtype)
    class_id = rank[ids]
    return class_id, np.bincount(class_id, minlength=uniques.shape[0]).astype(np.int64)



def densify_fast(key: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids and sizes for keys in ``[0, space)``; ids are arbitrary labels."""
    n = key.shape[0]
    if small_key_space(space, n):
        return densify_by_bincount(key, space)
    # Records alone in their hash bucket are alone with their key (singleton classes); only
    # the others go through the hash table (see ``_keys.lone_keys``).
    lone = lone_keys(key)
    rest = np.flatnonzero(~lone)
    rest_ids, uniques = pd.factorize(key[rest], sort=False)
    n_rest = uniques.shape[0]
    n_lone = n - rest.shape[0]
    ids = np.empty(n, dtype=np.int32)
    ids[rest] = rest_ids
    ids[lone] = np.arange(n_rest, n_rest + n_lone, dtype=np.int32)
    sizes = np.concatenate([np.bincount(rest_ids, minlength=n_rest), np.ones(n_lone, np.int64)])
    return ids, sizes.astype(np.int64)
