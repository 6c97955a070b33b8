"""Slow, obvious reference for the table auditor: enumerate every consistent table.

Cell by cell, in plain Python: publish each cell under the policy (:func:`publish`, the rule
written forwards), take as the cell's possible values every count that the policy would publish
the same way (the attacker knows the rule), try every combination of the possible values of the
unknown cells, and keep the combinations where the sums of every pair of tables over their
common dimensions agree. Only for tiny tables.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd


def publish(n: int, policy, exact: bool = False) -> str:
    """The text a policy publishes for a true count ``n`` (GSS symbols for hidden cells)."""
    if exact:
        return str(n)
    if (
        policy.suppress_below > policy.suppress_from
        and policy.suppress_from <= n < policy.suppress_below
    ):
        return policy.symbol
    if policy.round_to > 1:
        if n == 0:
            return "0"
        b = policy.round_to
        r = math.floor(n / b + 0.5) * b  # halves up
        return policy.low_symbol if r == 0 else str(r)
    return str(n)


def possible_values(
    n: int, policy, exact: bool = False, secondary: bool = False, cap: int | None = None
) -> list[int]:
    """Every count the attacker cannot rule out for a cell with true count ``n``: those the
    policy publishes as it publishes ``n``. A secondary suppression (shown as ``c`` though the
    rule would publish it) is any count the rule would *not* suppress, up to ``cap``."""
    symbol = publish(n, policy, exact)
    if secondary and symbol != policy.symbol:
        return [v for v in range(cap + 1) if publish(v, policy) != policy.symbol]
    bound = n + policy.round_to + policy.suppress_below + 2  # no further count publishes the same
    return [v for v in range(bound + 1) if publish(v, policy, exact) == symbol]


def kind(n: int, policy, exact: bool = False) -> str:
    """The status of the cell's publication: suppressed, low, rounded or published."""
    symbol = publish(n, policy, exact)
    if symbol == policy.symbol:
        return "suppressed"
    if symbol == policy.low_symbol:
        return "low"
    return "published" if exact or policy.round_to == 1 or n == 0 else "rounded"


def _named(tables, margins):
    return [(n, f, False) for n, f in tables.items()] + [
        (n, f, True) for n, f in (margins or {}).items()
    ]


def _cells(tables, policy, margins, count, suppressed, cap):
    cells = []  # (table index, row, dims dict, candidate values, kind)
    for t, (_, frame, is_margin) in enumerate(_named(tables, margins)):
        dims = [c for c in frame.columns if c not in (count, suppressed)]
        exact = is_margin and policy.margins == "exact"
        for r in range(len(frame)):
            row = frame.iloc[r]
            n = int(row[count])
            second = bool(
                suppressed is not None and suppressed in frame.columns and row[suppressed]
            )
            values = possible_values(n, policy, exact, secondary=second, cap=cap)
            k = "suppressed" if second else kind(n, policy, exact)
            cells.append((t, r, {d: row[d] for d in dims}, values, k))
    return cells


class TooBig(Exception):
    """The enumeration would visit more partial tables than its budget."""


def _enumerate(values: list[list[int]], checks: list, budget: int, keep: list | None = None):
    """Min and max of every cell over the assignments (one value of each cell's list) that
    satisfy every check (``sum(plus) == sum(minus)``). Depth first: a check is tested as soon as
    its last cell has a value, so a wrong partial table is not extended. ``keep`` collects the
    assignments."""
    unknown = [k for k, v in enumerate(values) if len(v) > 1]
    value = {k: v[0] for k, v in enumerate(values) if len(v) == 1}
    is_unknown = set(unknown)
    order, seen = [], set()
    for plus, minus in sorted(checks, key=lambda pm: sum(k in is_unknown for k in pm[0] + pm[1])):
        for k in plus + minus:
            if k in is_unknown and k not in seen:
                order.append(k)
                seen.add(k)
    order += [k for k in unknown if k not in seen]
    pos = {k: i for i, k in enumerate(order)}
    due = [[] for _ in order]
    for plus, minus in checks:
        at = [pos[k] for k in plus + minus if k in pos]
        if at:
            due[max(at)].append((plus, minus))
        elif sum(value[a] for a in plus) != sum(value[b] for b in minus):
            raise ValueError("inconsistent tables")
    lo = {k: math.inf for k in range(len(values))}
    hi = {k: -math.inf for k in range(len(values))}
    visited = [0]

    def extend(i: int) -> None:
        if i == len(order):
            if keep is not None:
                keep.append(dict(value))
            for k, v in value.items():
                lo[k] = min(lo[k], v)
                hi[k] = max(hi[k], v)
            return
        k = order[i]
        for v in values[k]:
            visited[0] += 1
            if visited[0] > budget:
                raise TooBig
            value[k] = v
            if all(
                sum(value[a] for a in plus) == sum(value[b] for b in minus)
                for plus, minus in due[i]
            ):
                extend(i + 1)
        del value[k]

    extend(0)
    return lo, hi


def _checks(named, cells, count, suppressed):
    dims_of = [[c for c in f.columns if c not in (count, suppressed)] for _, f, _ in named]
    checks = []  # list of (list of +cell idx, list of -cell idx)
    for i, j in itertools.combinations(range(len(named)), 2):
        common = [c for c in dims_of[i] if c in dims_of[j]]
        keys = {}
        for idx, (t, _, d, _, _) in enumerate(cells):
            if t in (i, j):
                key = tuple(d[c] for c in common)
                plus, minus = keys.setdefault(key, ([], []))
                (plus if t == i else minus).append(idx)
        checks.extend(keys.values())
    return checks


def consistent_tables(
    tables: dict, policy, margins: dict | None = None, count: str = "count", budget: int = 200_000
) -> list[tuple[dict, dict]]:
    """Every pair (tables, margins) of true tables that the policy publishes as it publishes
    the given ones, the given ones included."""
    named = _named(tables, margins)
    cells = _cells(tables, policy, margins, count, None, None)
    found: list[dict] = []
    _enumerate([c[3] for c in cells], _checks(named, cells, count, None), budget, keep=found)
    out = []
    for value in found:
        frames = []
        k = 0
        for _, frame, _ in named:
            frames.append(frame.assign(**{count: [value[k + r] for r in range(len(frame))]}))
            k += len(frame)
        n = len(tables)
        out.append(
            (
                dict(zip(tables, frames[:n], strict=True)),
                dict(zip(margins or {}, frames[n:], strict=True)),
            )
        )
    return out


def brute_force(
    tables: dict,
    policy,
    margins: dict | None = None,
    count: str = "count",
    suppressed: str | None = None,
    cap: int | None = None,
    budget: int = 200_000,
):
    """{(table name, row position): (min, max)} of every suppressed or rounded cell, by enumeration."""
    named = _named(tables, margins)
    cells = _cells(tables, policy, margins, count, suppressed, cap)
    checks = _checks(named, cells, count, suppressed)
    lo, hi = _enumerate([c[3] for c in cells], checks, budget)
    names = [n for n, _, _ in named]
    out = {}
    for k, (t, r, _, _, kd) in enumerate(cells):
        if kd != "published":
            out[(names[t], r)] = (lo[k], hi[k])
    return out


def kinds(
    tables: dict,
    policy,
    margins: dict | None = None,
    count: str = "count",
    suppressed: str | None = None,
    cap: int | None = None,
) -> dict:
    """{(table name, row position): status} of every suppressed or rounded cell."""
    cells = _cells(tables, policy, margins, count, suppressed, cap)
    names = [n for n, _, _ in _named(tables, margins)]
    return {(names[t], r): kd for t, r, _, _, kd in cells if kd != "published"}


def verdict(lo: int, hi: float, protection: int) -> str:
    return "exact" if hi == lo else "narrow" if hi - lo < protection else "protected"


def as_lookup(
    result,
    tables: dict,
    margins: dict | None = None,
    count: str = "count",
    suppressed: str | None = None,
):
    """{(table, row position): (lower, upper, verdict)} from an AuditResult, by matching cell labels."""
    out = {}
    for name, frame in list(tables.items()) + list((margins or {}).items()):
        dims = [c for c in frame.columns if c not in (count, suppressed)]
        labels = [", ".join(f"{d}={frame.iloc[r][d]}" for d in dims) for r in range(len(frame))]
        sub = result.cells[result.cells["table"] == name]
        for _, row in sub.iterrows():
            r = labels.index(row["cell"])
            upper = np.inf if pd.isna(row["upper"]) else int(row["upper"])
            out[(name, r)] = (int(row["lower"]), upper, row["verdict"])
    return out
