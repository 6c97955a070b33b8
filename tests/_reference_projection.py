"""Slow, obvious references for projections (tests only): the registry's dependency graph
rebuilt from the raw field declarations and closed by fixed-point iteration, and the figures of
a projection with best guesses counted pupil by pupil with a dictionary of tuples."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from synthetic import FIELDS


def edges() -> dict[str, set[str]]:
    """Field -> the fields it determines, straight from the declarations: every ladder rung
    that names a registry field (its column, else its name), and ``determines``."""
    names = {f.name for f in FIELDS}
    out = {}
    for f in FIELDS:
        rungs = {r.column or r.name for r in f.ladder}
        out[f.name] = {n for n in rungs if n in names} | set(f.determines)
    return out


def closure(fields) -> set[str]:
    """Everything ``fields`` determine, by iterating the edges until nothing changes."""
    graph = edges()
    known = set(fields)
    while True:
        more = {b for a in known for b in graph.get(a, ())} - known
        if not more:
            return known
        known |= more


def guesses_of() -> dict[str, str]:
    return {f.name: f.guessed_by for f in FIELDS if f.guessed_by}


def guessed_figures(frame: pd.DataFrame, used, guesses, thresholds=(3, 5, 10)) -> dict:
    """The figures of one projection with best guesses, pupil by pupil.

    ``used`` are the columns grouped by (a guess's column included), ``guesses`` the
    ``(column, guessed field)`` pairs. A pupil counts as unique (below t, in the average risk)
    only when every guess is right for it; a wrong guess looks up the class of its own values
    with the guessed field's value in place of the column.
    """

    def values(c):
        s = frame[c].astype(object)
        return [None if pd.isna(v) else str(v) for v in s.tolist()]

    cols = {c: values(c) for c in dict.fromkeys(list(used) + [g for _, g in guesses])}
    used = list(dict.fromkeys(used))
    keys = list(zip(*[cols[c] for c in used], strict=True))
    counts = Counter(keys)
    guess_of = dict(guesses)
    n = len(keys)
    out = {"n_unique": 0, "below": [0] * len(thresholds), "risk": 0.0, "wrong": 0, "wrongly": 0}
    for i, key in enumerate(keys):
        right = all(cols[c][i] == cols[g][i] for c, g in guesses)
        fk = counts[key]
        if right:
            out["n_unique"] += fk == 1
            for j, t in enumerate(thresholds):
                out["below"][j] += fk < t
            out["risk"] += 1.0 / fk
        else:
            out["wrong"] += 1
            query = tuple(cols[guess_of[c]][i] if c in guess_of else cols[c][i] for c in used)
            out["wrongly"] += counts.get(query, 0) == 1
    out["risk"] /= n
    out["n_classes"] = len(counts)
    out["k"] = min(counts.values())
    return out
