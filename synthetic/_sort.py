"""Exact drop-in replacements for the generator's stable sorts, by one fast unstable sort.

``np.lexsort`` and ``np.argsort(kind="stable")`` run a merge/tim sort per key. When the keys
pack losslessly into one value whose ties cannot occur, a single (SIMD) quicksort gives the
same permutation; where they might not pack, the functions fall back to the stable sort, so the
result is always the stable sort's, bit for bit.
"""

from __future__ import annotations

import numpy as np

__all__ = ["argsort_by_key_then_uniform", "stable_argsort_int", "lexsort_ints"]


def _stable_lexsort(keys: tuple[np.ndarray, ...]) -> np.ndarray:
    """The reference order (and the fallback): numpy's stable lexsort."""
    return np.lexsort(keys)


_INT_LIMIT = 2**62
_FLOAT_LIMIT = 2**52


def argsort_by_key_then_uniform(key: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``np.lexsort((u, key))`` for int ``key`` and uniforms ``u`` in [0, 1).

    For ``|key| < 2**52``, ``key + u`` (float) is non-decreasing in (key, u) taken
    lexicographically, since ``key`` is exact and ``u < 1``. If the sums are all distinct, it is
    strictly increasing on the data, and sorting the sums gives the lexsort permutation. Any
    tie (equal u, or two sums rounded together) falls back to ``np.lexsort``.
    """
    key = np.asarray(key)
    n = len(key)
    if n > 1 and int(np.abs(key).max()) < _FLOAT_LIMIT:
        c = key + u
        order = np.argsort(c)
        s = c[order]
        if not (s[1:] == s[:-1]).any():
            return order
    return _stable_lexsort((u, key))


def stable_argsort_int(key: np.ndarray) -> np.ndarray:
    """``np.argsort(key, kind="stable")`` for non-negative ints: a sort of ``key * n + row``."""
    key = np.asarray(key)
    n = len(key)
    if n > 1 and int(key.min()) >= 0 and (int(key.max()) + 1) * n < _INT_LIMIT:
        packed = key.astype(np.int64) * n + np.arange(n, dtype=np.int64)
        packed.sort()
        return packed % n
    return _stable_lexsort((key,))


def lexsort_ints(keys: tuple[np.ndarray, ...]) -> np.ndarray:
    """``np.lexsort(keys)`` for int keys (the last key primary), rows breaking ties.

    The keys are shifted to start at 0 and packed with the row number into one int64 (mixed
    radix); if they do not fit, ``np.lexsort`` is used.
    """
    n = len(keys[0])
    if n <= 1:
        return _stable_lexsort(keys)
    packed = np.zeros(n, dtype=np.int64)
    span = 1
    for k in reversed(keys):  # primary key first
        k = np.asarray(k, dtype=np.int64)
        lo = int(k.min())
        width = int(k.max()) - lo + 1
        span *= width
        if span * n >= _INT_LIMIT:
            return _stable_lexsort(keys)
        packed *= width
        packed += k - lo
    packed *= n
    packed += np.arange(n, dtype=np.int64)
    packed.sort()
    return packed % n
