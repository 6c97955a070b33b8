"""Which combinations of fields identify: the most identifying combinations (from one lattice)
and the uniqueness staircase (greedy forward selection), for the report."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._core.access import as_encoded
from .._core.grouping import densify_fast

__all__ = ["uniqueness_staircase", "most_identifying", "lattice_within"]

#: Columns of :func:`most_identifying`.
IDENTIFYING_COLUMNS = ["fields", "n_fields", "n_unique", "unique_share", "k", "records_below_5"]


def lattice_within(lattice, fields) -> pd.DataFrame:
    """The rows of a :class:`~riskcalc.lattice.LatticeResult` whose fields all lie in ``fields``
    (the lattice of a smaller field set, read off a larger one without recomputing)."""
    allowed = set(fields)
    table = lattice.table
    return table.loc[table["fields"].map(lambda f: set(f) <= allowed)].reset_index(drop=True)


def most_identifying(data, fields, *, max_size=3, top=10, lattice=None) -> pd.DataFrame:
    """The ``top`` combinations of up to ``max_size`` of ``fields`` with the highest unique share.

    ``lattice`` may be a lattice already computed on a superset of ``fields`` with thresholds
    including 4 (as the main job computes once for every tier); its rows are then reused.
    Ties are broken by fewer fields first. Columns: :data:`IDENTIFYING_COLUMNS`
    (``records_below_5``: records with ``fk < 5``).
    """
    if lattice is None:
        from ..lattice import field_lattice

        lattice = field_lattice(data, list(fields), max_size=max_size, thresholds=[1, 4])
    rows = lattice_within(lattice, fields)
    rows = rows.loc[rows["n_fields"] <= max_size]
    ordered = rows.sort_values(
        ["unique_share", "n_fields"], ascending=[False, True], kind="stable"
    ).head(top)
    return ordered.rename(columns={"records_in_cells_at_most_4": "records_below_5"})[
        IDENTIFYING_COLUMNS
    ].reset_index(drop=True)


def uniqueness_staircase(data, fields, *, max_steps=None, lattice=None) -> pd.DataFrame:
    """Unique share as fields are added, most identifying first (greedy forward selection).

    At each step the field whose addition singles out the most pupils is added (the first in
    ``fields`` order on a tie); each candidate refines the classes of the fields chosen so far
    in one pass over the records that are not yet unique (a record unique on some fields stays
    unique on more). The staircase stops when every record is unique. ``lattice`` may be a
    :class:`~riskcalc.lattice.LatticeResult` on a superset of ``fields`` (as the main job
    computes once): the steps whose candidates it holds are read off it, and the refinement
    starts from the fields chosen by then. Columns: ``step``, ``field``, ``fields``,
    ``n_unique``, ``unique_share``.
    """
    fields = list(fields)
    enc = as_encoded(data, fields, func="uniqueness_staircase", name="fields")
    n = enc.n_records
    steps = max_steps or len(fields)
    chosen, rows = (
        _steps_from_lattice(lattice, fields, steps, n) if lattice is not None else ([], [])
    )
    remaining = [f for f in fields if f not in chosen]
    n_unique = rows[-1]["n_unique"] if rows else 0
    active, ids, n_ids = _active_classes(enc, chosen)
    for step in range(len(rows) + 1, steps + 1):
        if not remaining or n_unique == n:
            break
        best = None
        for f in remaining:
            col = enc[f]
            cand_ids, sizes = densify_fast(
                ids * col.n_levels + col.codes[active], n_ids * col.n_levels
            )
            new_unique = int(np.count_nonzero(sizes == 1))
            if best is None or new_unique > best[1]:
                best = (f, new_unique, cand_ids, sizes)
        f, new_unique, cand_ids, sizes = best
        keep = sizes[cand_ids] > 1
        big = sizes > 1
        relabel = np.cumsum(big, dtype=np.int64) - 1
        active, ids, n_ids = active[keep], relabel[cand_ids[keep]], int(np.count_nonzero(big))
        n_unique += new_unique
        chosen.append(f)
        remaining.remove(f)
        rows.append(_stair(step, f, chosen, n_unique, n))
    return pd.DataFrame(rows, columns=["step", "field", "fields", "n_unique", "unique_share"])


def _stair(step, field, chosen, n_unique, n) -> dict:
    return {
        "step": step,
        "field": field,
        "fields": tuple(chosen),
        "n_unique": int(n_unique),
        "unique_share": n_unique / n,
    }


def _steps_from_lattice(lattice, fields, steps, n) -> tuple[list[str], list[dict]]:
    """The first steps of the staircase read off a lattice's unique counts, as long as it holds
    every candidate (the same choice and tie-breaking as the refinement)."""
    known = {
        frozenset(f): int(u) for f, u in zip(lattice.table["fields"], lattice.table["n_unique"])
    }
    chosen: list[str] = []
    rows: list[dict] = []
    n_unique = 0
    while len(rows) < steps and len(chosen) < len(fields) and n_unique < n:
        counts = [known.get(frozenset(chosen + [f])) for f in fields if f not in chosen]
        if any(c is None for c in counts):
            break
        candidates = [f for f in fields if f not in chosen]
        best = int(np.argmax(counts))  # the first of the largest: the refinement's tie-break
        chosen.append(candidates[best])
        n_unique = counts[best]
        rows.append(_stair(len(rows) + 1, candidates[best], chosen, n_unique, n))
    return chosen, rows


def _active_classes(enc, chosen) -> tuple[np.ndarray, np.ndarray, int]:
    """The records not unique on ``chosen`` (row numbers), their classes numbered densely, and
    the number of those classes; every record in one class when nothing is chosen."""
    n = enc.n_records
    if not chosen:
        return np.arange(n, dtype=np.int64), np.zeros(n, dtype=np.int64), 1
    part = enc.partition(tuple(chosen), "category")
    sizes, class_id = part.class_sizes, part.class_id
    big = sizes > 1
    active = np.flatnonzero(big[class_id])
    relabel = np.cumsum(big, dtype=np.int64) - 1
    return active, relabel[class_id[active]], int(np.count_nonzero(big))
