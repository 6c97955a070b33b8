"""Grouping kernels: combine code arrays into one key, and number the distinct keys.

The one home of the rules every grouping in riskcalc follows:

* codes are combined by mixed radix, ``key = key * n_levels[j] + codes[j]``, in unsigned 64-bit
  arithmetic, compressing the partial key to dense ids when the next product would leave 64
  bits (:func:`combine_codes`); keys are held in ``int64`` arrays (values of ``2**63`` or more
  read as negative), and every kernel compares or hashes their bits, never their sign;
* when the key space is at most a few times the number of records (:func:`small_key_space`),
  keys are numbered by ``bincount`` and ``cumsum`` (:func:`riskcalc._core.kernels.group`);
* otherwise a hash table numbers them (:func:`densify_fast`, any labelling; :func:`densify`,
  labels in key order).

The work is done by the kernels of :mod:`riskcalc._core.kernels` (compiled, on every core, for
large inputs; plain numpy otherwise, with identical results).
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .kernels import small_key_space

__all__ = [
    "combine_codes",
    "group_codes",
    "small_key_space",
    "densify",
    "densify_fast",
    "class_sizes_bounded",
]

#: Largest mixed-radix key space before the partial key is compressed to dense ids: the full
#: unsigned 64 bits (ten census fields, postcode and school included, fit without compressing).
_MAX_KEY_SPACE = 1 << 64
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing multiplier (odd, so a bijection)


def combine_codes(codes: list[np.ndarray], n_levels: list[int]) -> tuple[np.ndarray, int]:
    """One int64 key per record for the combination of several code arrays.

    Codes are combined by mixed radix, ``key = key * n_levels[j] + codes[j]`` (unsigned 64-bit
    arithmetic, held in ``int64``); whenever the next product would leave 64 bits the partial
    key is first compressed to dense ids, so the key space stays below
    ``n_records * max(n_levels)``. Returns ``(key, key_space)``, ``key_space <= 2**64``.
    """
    key = codes[0].astype(np.int64)
    space = int(n_levels[0])
    for col, levels in zip(codes[1:], n_levels[1:]):
        if space * levels >= _MAX_KEY_SPACE:
            # Compress the partial key: any labelling will do (class ids need no key order).
            ids, sizes = kernels.group(key, space)
            key = ids.astype(np.int64)
            space = int(sizes.shape[0])
        kernels.mix(key, col, int(levels))
        space *= int(levels)
    return key, max(space, 1)


def group_codes(codes: list[np.ndarray], n_levels: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Dense class ids and class sizes for the combination of several code arrays."""
    key, space = combine_codes(codes, n_levels)
    return kernels.group(key, space)


def densify(key: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """Map keys in ``[0, space)`` to dense ids ``[0, n_classes)``; return ``(ids, sizes)``.

    Ids follow increasing key. When the key space is small this is a ``bincount`` and a
    ``cumsum``; otherwise a hash table numbers the keys (:func:`densify_fast`) and the distinct
    keys are then ranked. Callers content with any labelling use :func:`densify_fast`.
    """
    n = key.shape[0]
    ids, sizes = kernels.group(key, space)
    if n == 0 or small_key_space(space, n):
        return ids, sizes  # bincount numbering: key order already
    distinct = np.empty(sizes.shape[0], dtype=np.int64)
    distinct[ids] = key  # every record of a class carries the same key
    order = np.argsort(distinct.view(np.uint64))  # keys are unsigned
    rank = np.empty(order.shape[0], dtype=ids.dtype)
    rank[order] = np.arange(order.shape[0], dtype=ids.dtype)
    return rank[ids], sizes[order]


def densify_fast(
    key: np.ndarray, space: int, *, threads: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids and sizes for keys in ``[0, space)``; ids are labels in no promised order.

    ``threads=False`` keeps the compiled kernel on the calling thread (for callers running
    groupings on threads of their own).
    """
    return kernels.group(key, space, threads=threads)


#: Records a chunk of :func:`class_sizes_bounded` combines at a time.
_CHUNK = 1 << 20


def class_sizes_bounded(
    codes: list[np.ndarray], n_levels: list[int], budget: int = 1 << 28
) -> np.ndarray:
    """The class sizes of the combination of several code arrays (as :func:`group_codes`
    gives them, in no promised order), without a key per record held for all records at once.

    The mixed-radix key is built a chunk of :data:`_CHUNK` records at a time. When
    ``key_space`` counts fit in ``budget`` bytes, each chunk's keys are counted into them;
    otherwise the records are grouped in ``P`` passes, pass ``p`` keeping
    the keys whose hash falls in its ``1 / P`` of the hash range (equal keys share a pass), with
    ``P`` chosen so that a pass's keys, ids and scratch (20 bytes a key) fit in ``budget``
    bytes. Memory: the codes plus about ``budget``; time: one pass over
    the codes per hash pass. A key space of ``2**64`` or more (needing the compression of
    :func:`combine_codes`) falls back to :func:`group_codes`.
    """
    n = int(codes[0].shape[0]) if codes else 0
    space = 1
    for levels in n_levels:
        space *= int(levels)
    if n == 0:
        return np.zeros(0, np.int64)
    if space >= _MAX_KEY_SPACE or n <= _CHUNK:
        return group_codes(codes, n_levels)[1]

    def keys(start: int, stop: int) -> np.ndarray:
        key = codes[0][start:stop].astype(np.int64)
        for col, levels in zip(codes[1:], n_levels[1:], strict=True):
            kernels.mix(key, col[start:stop], int(levels))
        return key

    if 8 * space <= budget and small_key_space(
        space, n
    ):  # as the partition's rule: at most 4 slots a record
        counts = np.zeros(space, np.int64)
        for start in range(0, n, _CHUNK):
            kernels.add_counts(keys(start, min(start + _CHUNK, n)), counts)
        return counts[counts > 0]
    passes = max(1, -(-20 * n // budget))
    bits = max(1, (passes - 1).bit_length())
    passes = 1 << bits
    out = []
    for p in range(passes):
        kept = []
        for start in range(0, n, _CHUNK):
            key = keys(start, min(start + _CHUNK, n))
            if passes > 1:
                part = (key.view(np.uint64) * _GOLDEN) >> np.uint64(64 - bits)
                key = key[part == p]
            kept.append(key)
        key = np.concatenate(kept)
        del kept
        out.append(kernels.group(key, space)[1])
        del key
    return np.concatenate(out)
