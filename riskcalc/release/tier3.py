"""Tier 3: small-count exposure of published aggregate tables (one row per table)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._core.encoding import encode
from .._validation import check_counts
from ..exceptions import InvalidParameterError

__all__ = ["tier3_exposure", "AGGREGATE_COLUMNS"]

AGGREGATE_COLUMNS = [
    "table", "n_cells", "n_pupils", "cells_1", "pupils_1", "cells_2", "pupils_2",
    "cells_below_5", "pupils_below_5", "cells_below_10", "pupils_below_10",
    "recoverable_cells", "recoverable_pupils",
]


def tier3_exposure(tables: Mapping[str, pd.DataFrame], *, count: str = "count", suppress_below: int = 5) -> pd.DataFrame:
    """Small-count exposure of aggregate tables, one row per table.

    For each table: non-empty cells, pupils, cells of exactly 1 and 2 and below 5 and 10 with
    the pupils in them, and the cells *recoverable by differencing*: if every cell below
    ``suppress_below`` were suppressed while the totals over the table's last dimension (the
    characteristic) stayed published, a suppressed cell that is the only one in its total
    could be recovered by subtraction.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Tidy aggregate tables: dimension columns and a ``count`` column (e.g.
        :func:`synthetic.tier3_tables`); the last dimension column is the characteristic.
    count : str, default "count"
    suppress_below : int, default 5

    Returns
    -------
    pandas.DataFrame with :data:`AGGREGATE_COLUMNS`
    """
    rows = []
    for name, table in tables.items():
        if count not in table.columns:
            raise InvalidParameterError(f"Tier 3 table {name!r} has no {count!r} column.")
        dims = [c for c in table.columns if c != count]
        if not dims:
            raise InvalidParameterError(
                f"Tier 3 table {name!r} has only a {count!r} column: it needs at least one "
                "dimension column (the cells' categories)."
            )
        if not len(table):
            raise InvalidParameterError(f"Tier 3 table {name!r} has no rows.")
        values = check_counts(table[count].to_numpy(), len(table), f"The {count!r} column of tier 3 table {name!r}")
        enc = encode(table, dims)
        cells = enc.partition(tuple(dims), "category")
        totals = np.bincount(cells.class_id, weights=values.astype(np.float64),
                             minlength=cells.n_classes).astype(np.int64)
        nonzero = totals > 0
        c = totals[nonzero]
        row = {"table": name, "n_cells": int(nonzero.sum()), "n_pupils": int(c.sum())}
        for label, mask in (("1", c == 1), ("2", c == 2), ("below_5", c < 5), ("below_10", c < 10)):
            row[f"cells_{label}"] = int(mask.sum())
            row[f"pupils_{label}"] = int(c[mask].sum())
        # differencing: cells below the suppression limit alone in their margin (dims minus last)
        margin = enc.partition(tuple(dims[:-1]), "category") if len(dims) > 1 else None
        cell_margin = np.zeros(cells.n_classes, dtype=np.int64)
        if margin is not None:
            cell_margin[cells.class_id] = margin.class_id
        small = nonzero & (totals < suppress_below)
        per_margin = np.bincount(cell_margin, weights=small.astype(np.float64))
        recoverable = small & (per_margin[cell_margin] == 1)
        row["recoverable_cells"] = int(recoverable.sum())
        row["recoverable_pupils"] = int(totals[recoverable].sum())
        rows.append(row)
    return pd.DataFrame(rows, columns=AGGREGATE_COLUMNS)
