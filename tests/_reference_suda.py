"""A slow, obvious SUDA: enumerate every subset of fields, keep the unique value sets that have
no unique proper subset. Plain Python (itertools and Counter); the oracle for riskcalc.suda."""

from __future__ import annotations

import itertools
import math
from collections import Counter

from _reference import MISSING, column_values


def msus(data, fields, max_msu=None):
    """``{record: [subset (tuple of field positions), ...]}`` of minimal sample uniques."""
    cols = [column_values(data, f) for f in fields]
    n = len(data)
    p = len(fields)
    max_msu = p if max_msu is None else min(max_msu, p)
    unique: dict[tuple, set[int]] = {(): set() if n > 1 else {0}}
    for size in range(1, p + 1):  # uniqueness on every subset (needed for minimality)
        for subset in itertools.combinations(range(p), size):
            keys = [tuple(cols[j][i] for j in subset) for i in range(n)]
            counts = Counter(keys)
            unique[subset] = {i for i in range(n) if counts[keys[i]] == 1}
    out: dict[int, list[tuple]] = {i: [] for i in range(n)}
    for size in range(1, max_msu + 1):
        for subset in itertools.combinations(range(p), size):
            for i in unique[subset]:
                if any(cols[j][i] is MISSING for j in subset):
                    continue  # a missing item is never part of an MSU
                proper = (s for m in range(size) for s in itertools.combinations(subset, m))
                if not any(i in unique[s] for s in proper):
                    out[i].append(subset)
    return out


def scores(data, fields, max_msu=None):
    """Elliot's SUDA score per record: sum over its MSUs of (M - size)!."""
    m = len(fields)
    found = msus(data, fields, max_msu)
    return [float(sum(math.factorial(m - len(s)) for s in found[i])) for i in range(len(data))]


def naive_unique_subset_scores(data, fields):
    """The mistake to guard against: scoring every unique subset, minimal or not."""
    cols = [column_values(data, f) for f in fields]
    n, m = len(data), len(fields)
    out = [0.0] * n
    for size in range(1, m + 1):
        for subset in itertools.combinations(range(m), size):
            keys = [tuple(cols[j][i] for j in subset) for i in range(n)]
            counts = Counter(keys)
            for i in range(n):
                if counts[keys[i]] == 1:
                    out[i] += math.factorial(m - size)
    return out
