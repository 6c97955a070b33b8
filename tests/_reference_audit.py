"""Slow, obvious reference for the table auditor: enumerate every consistent table.

Cell by cell, in plain Python: the a-priori set of values of each cell from the policy, every
combination of the unknown cells, and a check that the sums of every pair of tables over their
common dimensions agree. Only for tiny tables.
"""

from __future__ import annotations

import itertools
import math

import numpy as np


def shown_and_range(n: int, policy, exact: bool = False):
    """(kind, values the attacker cannot rule out) of one cell with true count ``n``."""
    if exact:
        return "published", [n]
    if policy.suppress_below > policy.suppress_from and policy.suppress_from <= n < policy.suppress_below:
        return "suppressed", list(range(policy.suppress_from, policy.suppress_below))
    if policy.round_to > 1:
        b = policy.round_to
        r = math.floor(n / b + 0.5) * b
        if n == 0:
            return "published", [0]
        # every value that rounds to the same shown value (halves up)
        values = [v for v in range(0, r + b + 1) if math.floor(v / b + 0.5) * b == r]
        if r == 0:
            return "low", [v for v in values if v > 0]
        return "rounded", values
    return "published", [n]


def brute_force(tables: dict, policy, margins: dict | None = None, count: str = "count"):
    """{(table name, row position): (min, max)} of every unknown cell, by enumeration."""
    margins = margins or {}
    named = [(n, f, False) for n, f in tables.items()] + [(n, f, True) for n, f in margins.items()]
    cells = []  # (table index, row, dims dict, candidate values)
    for t, (name, frame, is_margin) in enumerate(named):
        dims = [c for c in frame.columns if c != count]
        for r in range(len(frame)):
            row = frame.iloc[r]
            kind, values = shown_and_range(int(row[count]), policy, exact=is_margin and policy.margins == "exact")
            cells.append((t, r, {d: row[d] for d in dims}, values))
    dims_of = [[c for c in f.columns if c != count] for _, f, _ in named]
    checks = []  # list of (list of +cell idx, list of -cell idx)
    for i, j in itertools.combinations(range(len(named)), 2):
        common = [c for c in dims_of[i] if c in dims_of[j]]
        keys = {}
        for idx, (t, _, d, _) in enumerate(cells):
            if t in (i, j):
                key = tuple(d[c] for c in common)
                plus, minus = keys.setdefault(key, ([], []))
                (plus if t == i else minus).append(idx)
        checks.extend(keys.values())
    unknown = [k for k, c in enumerate(cells) if len(c[3]) > 1]
    fixed = {k: c[3][0] for k, c in enumerate(cells) if len(c[3]) == 1}
    lo = {k: math.inf for k in unknown}
    hi = {k: -math.inf for k in unknown}
    for combo in itertools.product(*[cells[k][3] for k in unknown]):
        value = dict(fixed)
        value.update(zip(unknown, combo))
        if all(sum(value[a] for a in plus) == sum(value[b] for b in minus) for plus, minus in checks):
            for k in unknown:
                lo[k] = min(lo[k], value[k])
                hi[k] = max(hi[k], value[k])
    names = [n for n, _, _ in named]
    return {(names[cells[k][0]], cells[k][1]): (lo[k], hi[k]) for k in unknown}


def n_combinations(tables: dict, policy, margins: dict | None = None, count: str = "count") -> int:
    total = 1
    for name, frame in list(tables.items()) + list((margins or {}).items()):
        exact = name in (margins or {}) and policy.margins == "exact"
        for n in frame[count]:
            total *= len(shown_and_range(int(n), policy, exact)[1])
    return total


def as_lookup(result, tables: dict, margins: dict | None = None):
    """{(table, row position): (lower, upper)} from an AuditResult, by matching cell labels."""
    out = {}
    for name, frame in list(tables.items()) + list((margins or {}).items()):
        dims = [c for c in frame.columns if c != "count"]
        labels = [", ".join(f"{d}={frame.iloc[r][d]}" for d in dims) for r in range(len(frame))]
        sub = result.cells[result.cells["table"] == name]
        for _, row in sub.iterrows():
            r = labels.index(row["cell"])
            upper = np.inf if row["upper"] is None or (isinstance(row["upper"], float) and np.isnan(row["upper"])) else row["upper"]
            out[(name, r)] = (int(row["lower"]), upper)
    return out
