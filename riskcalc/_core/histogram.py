"""Threshold counts read off the class-size histogram (ARX's ``RiskModelHistogram``).

All sample measures of a partition are functions of the histogram ``class size -> number of
classes``: these helpers answer "how many classes / records are in classes of size below (or at
most) t" for many thresholds at once, with cumulative sums and a binary search.
"""

from __future__ import annotations

import numpy as np


def below(sizes: np.ndarray, n_of_size: np.ndarray, thresholds, *, inclusive: bool = False):
    """Classes and records in classes of size ``< t`` (``<= t`` when ``inclusive``), per threshold.

    Parameters
    ----------
    sizes : ndarray
        Distinct class sizes, ascending.
    n_of_size : ndarray
        Number of classes of each size.
    thresholds : sequence of numbers

    Returns
    -------
    (classes, records) : tuple of int64 ndarrays aligned with ``thresholds``
    """
    t = np.asarray(thresholds, dtype=np.float64)
    side = "right" if inclusive else "left"
    idx = np.searchsorted(sizes, t, side=side)
    cum_classes = np.concatenate([[0], np.cumsum(n_of_size, dtype=np.int64)])
    cum_records = np.concatenate([[0], np.cumsum(sizes.astype(np.int64) * n_of_size, dtype=np.int64)])
    return cum_classes[idx], cum_records[idx]


def weighted_below(values: np.ndarray, thresholds, *, inclusive: bool = False) -> np.ndarray:
    """Number of ``values`` ``< t`` (``<= t`` when ``inclusive``) per threshold."""
    ordered = np.sort(values)
    side = "right" if inclusive else "left"
    return np.searchsorted(ordered, np.asarray(thresholds, dtype=np.float64), side=side).astype(np.int64)
