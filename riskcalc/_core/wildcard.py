"""Missing values as wildcards (sdcMicro ``freqCalc`` semantics), vectorised by missingness pattern.

Under ``missing="wildcard"`` a missing value matches any value. Two records *match* when they
agree on every quasi-identifier that both have observed. Matching is not transitive, so there
are no equivalence classes: each record gets its own count

.. math::

    f_k(i) = \\sum_j m_{ij}, \\qquad F_k(i) = \\sum_j m_{ij} w_j,

where the weight of a match depends on who carries the missing value, as in sdcMicro's
``freqCalc``: :math:`m_{ij} = 1` when *j* has no missing key value, or has exactly *i*'s pattern
of missing fields (and agrees with *i* where observed); :math:`m_{ij} = \\alpha` when *j* has
missing values in a pattern other than *i*'s and matches *i* only through them. So a record
with a missing value counts every complete record it matches at full weight, while complete
records count it at ``alpha`` (sdcMicro's ``alpha``; ``alpha = 1`` is its default; with
``alpha = 0`` complete records ignore the records with missing values). A record whose key is all missing gets :math:`f_k = n`
(and :math:`F_k` the sum of all weights).

Example (``alpha = 0.5``): keys (3,1,NA,2), (3,1,4,2), (3,1,7,2), (3,1,4,2) give
:math:`f_k` = 4, 2.5, 1.5, 2.5.

The computation groups records by their *pattern* of missing fields. For every pair of patterns
(P, Q) the records of P are matched with those of Q on the fields both observe, by combining
their codes into one key and counting Q's records per key: one vectorised pass per pair, so the
cost is O(number of patterns x number of records) and never a loop over records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .grouping import combine_codes, densify

if TYPE_CHECKING:
    from .encoding import EncodedColumn


def missing_patterns(columns: list[EncodedColumn]) -> tuple[np.ndarray, np.ndarray]:
    """``(pattern_id per record, pattern masks)``; a mask row flags the missing fields."""
    n = columns[0].codes.shape[0]
    bits = np.zeros(n, dtype=np.int64)
    for j, col in enumerate(columns):
        if col.n_missing:
            bits |= (col.codes == col.missing_code).astype(np.int64) << j
    pattern, values = pd.factorize(bits, sort=True)
    masks = ((values[:, None] >> np.arange(len(columns))) & 1).astype(bool)
    return pattern, masks


def wildcard_counts(
    columns: list[EncodedColumn], weights: np.ndarray | None, alpha: float
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-record ``fk`` and (with weights) ``Fk`` under the wildcard rule."""
    n = columns[0].codes.shape[0]
    pattern, masks = missing_patterns(columns)
    members = [np.flatnonzero(pattern == p) for p in range(masks.shape[0])]
    fk = np.zeros(n, dtype=np.float64)
    Fk = np.zeros(n, dtype=np.float64) if weights is not None else None
    complete = ~masks.any(axis=1)
    for p, rows_p in enumerate(members):
        if masks[p].all():  # every key value missing: matches every record at full weight
            fk[rows_p] = n
            if Fk is not None:
                Fk[rows_p] = float(weights.sum())
            continue
        for q, rows_q in enumerate(members):
            factor = 1.0 if p == q or complete[q] else float(alpha)
            if factor == 0.0:
                continue
            common = [j for j in range(len(columns)) if not masks[p, j] and not masks[q, j]]
            counts, wsums = _match_counts(columns, common, rows_p, rows_q, weights)
            fk[rows_p] += factor * counts
            if Fk is not None:
                Fk[rows_p] += factor * wsums
    return fk, Fk


def _match_counts(columns, common, rows_p, rows_q, weights):
    """For each record of P: the records of Q (and their weight) agreeing on ``common``."""
    if not common:  # nothing observed in common: everything matches
        total_w = float(weights[rows_q].sum()) if weights is not None else None
        counts = np.full(rows_p.shape[0], float(rows_q.shape[0]))
        return counts, (np.full(rows_p.shape[0], total_w) if weights is not None else None)
    rows = np.concatenate([rows_p, rows_q])
    key, space = combine_codes(
        [columns[j].codes[rows] for j in common], [columns[j].n_levels for j in common]
    )
    ids, _ = densify(key, space)
    n_ids = int(ids.max()) + 1 if ids.shape[0] else 0
    ids_p, ids_q = ids[: rows_p.shape[0]], ids[rows_p.shape[0] :]
    counts = np.bincount(ids_q, minlength=n_ids).astype(np.float64)[ids_p]
    wsums = None
    if weights is not None:
        wsums = np.bincount(ids_q, weights=weights[rows_q], minlength=n_ids)[ids_p]
    return counts, wsums
