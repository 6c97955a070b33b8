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
    ordered = rows.sort_values(["unique_share", "n_fields"], ascending=[False, True], kind="stable").head(top)
    return ordered.rename(columns={"records_in_cells_at_most_4": "records_below_5"})[IDENTIFYING_COLUMNS].reset_index(drop=True)


def uniqueness_staircase(data, fields, *, max_steps=None) -> pd.DataFrame:
    """Unique share as fields are added, most identifying first (greedy forward selection).

    At each step the field whose addition singles out the most pupils is added; each candidate
    refines the classes of the fields chosen so far in one pass over the records that are not
    yet unique (a record unique on some fields stays unique on more). The staircase stops
    when every record is unique. Columns: ``step``, ``field``, ``fields``, ``n_unique``,
    ``unique_share``.
    """
    fields = list(fields)
    enc = as_encoded(data, fields, func="uniqueness_staircase", name="fields")
    n = enc.n_records
    active = np.arange(n, dtype=np.int64)  # records not yet unique
    ids, n_ids = np.zeros(n, dtype=np.int64), 1  # their classes on the chosen fields
    n_unique = 0
    chosen: list[str] = []
    rows = []
    remaining = list(fields)
    for step in range(1, (max_steps or len(fields)) + 1):
        if not remaining or n_unique == n:
            break
        best = None
        for f in remaining:
            col = enc[f]
            cand_ids, sizes = densify_fast(ids * col.n_levels + col.codes[active], n_ids * col.n_levels)
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
        rows.append({"step": step, "field": f, "fields": tuple(chosen),
                     "n_unique": n_unique, "unique_share": n_unique / n})
    return pd.DataFrame(rows, columns=["step", "field", "fields", "n_unique", "unique_share"])
