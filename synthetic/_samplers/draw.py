"""The draws every sampler is built from: categorical draws from cumulative weights (whole
range or a per-row range), the logistic function, and rows grouped by a small key."""

from __future__ import annotations

import numpy as np


def _cum(p) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    c = np.cumsum(p)
    return c / c[-1]


def _pick(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Categorical draw: index i with probability cum[i] - cum[i-1]."""
    return np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)


def _pick_in_range(cw: np.ndarray, lo: np.ndarray, hi: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Weighted draw of an index in [lo, hi) given cumulative weights ``cw`` (len m + 1)."""
    target = cw[lo] + u * (cw[hi] - cw[lo])
    idx = np.searchsorted(cw, target, side="right") - 1
    return np.clip(idx, lo, hi - 1)


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _runs(key: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows grouped by a small non-negative int key: ``(order, bounds)``.

    ``order[bounds[k]:bounds[k + 1]]`` are the rows with key ``k``, ascending (a stable sort), so
    one pass over the rows replaces a boolean mask per key value.
    """
    order = np.argsort(key, kind="stable")
    bounds = np.searchsorted(key[order], np.arange(n_keys + 1), side="left")
    return order, bounds
