"""Slow, obvious attribute-disclosure measures: the oracle for ``riskcalc.attribute``.

Plain Python only: equivalence classes are a ``dict`` from key tuple to the list of the
sensitive values of its records, value counts are ``Counter``s, shares are ``Fraction``s where
exactness matters, and every formula is written over the *whole* value domain the way the
papers state it (no sparse tricks). Values are normalised by ``_reference.normalise``: every
missing marker is one sentinel, a value of its own (``missing="category"``); for the ordered
distance it sorts after every other value.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction

import pandas as pd
from _reference import MISSING, column_values, keys


def classes(
    data: pd.DataFrame, qi: Sequence[str], sensitive: str
) -> tuple[list[tuple], dict[tuple, Counter]]:
    """``(key per record, key -> Counter of sensitive values)``."""
    ks = keys(data, qi)
    values = column_values(data, sensitive)
    out: dict[tuple, Counter] = {}
    for key, v in zip(ks, values):
        out.setdefault(key, Counter())[v] += 1
    return ks, out


def table_counts(data: pd.DataFrame, sensitive: str) -> Counter:
    return Counter(column_values(data, sensitive))


def per_record(data, qi, sensitive, per_class) -> list:
    """Apply ``per_class(counter)`` to each record's class, in row order."""
    ks, cls = classes(data, qi, sensitive)
    cache = {key: per_class(counter) for key, counter in cls.items()}
    return [cache[key] for key in ks]


# --- l-diversity -------------------------------------------------------------------------------


def distinct_l(counter: Counter) -> int:
    return len(counter)


def entropy_l(counter: Counter) -> float:
    n = sum(counter.values())
    h = -math.fsum((c / n) * math.log(c / n) for c in counter.values())
    return math.exp(h)


def recursive_l(counter: Counter, c: float) -> int:
    """Largest l with r1 < c * (r_l + ... + r_m), trying every l from 1 to m + 1."""
    r = sorted(counter.values(), reverse=True)
    best = 0
    for l in range(1, len(r) + 2):
        if r[0] < c * sum(r[l - 1 :]):
            best = l
    return best


# --- distances to the table --------------------------------------------------------------------


def _sort_key(v):
    return (1, 0) if v is MISSING else (0, v)


def emd_equal(counter: Counter, table: Counter) -> float:
    n_c, n = sum(counter.values()), sum(table.values())
    return 0.5 * math.fsum(abs(counter.get(v, 0) / n_c - table[v] / n) for v in table)


def emd_ordered(counter: Counter, table: Counter) -> float:
    domain = sorted(table, key=_sort_key)
    m = len(domain)
    if m == 1:
        return 0.0
    n_c, n = sum(counter.values()), sum(table.values())
    total, running = Fraction(0), Fraction(0)
    for v in domain:
        running += Fraction(counter.get(v, 0), n_c) - Fraction(table[v], n)
        total += abs(running)
    return float(total / (m - 1))


def beta(counter: Counter, table: Counter, enhanced: bool = False) -> float:
    n_c, n = sum(counter.values()), sum(table.values())
    best = 0.0
    for v in table:
        q, p = Fraction(counter.get(v, 0), n_c), Fraction(table[v], n)
        if q > p:
            gain = (q - p) / p
            if enhanced and float(gain) > -math.log(p):
                return math.inf
            best = max(best, float(gain))
    return best


def delta(counter: Counter, table: Counter) -> float:
    n_c, n = sum(counter.values()), sum(table.values())
    return max(abs(math.log((c / n_c) / (table[v] / n))) for v, c in counter.items())


def homogeneous(data, qi, sensitive) -> tuple[int, int, int]:
    """``(records, records in classes of 2+, classes)`` in classes with one sensitive value."""
    _, cls = classes(data, qi, sensitive)
    homo = [sum(c.values()) for c in cls.values() if len(c) == 1]
    return sum(homo), sum(s for s in homo if s > 1), len(homo)
