"""Tier 3: small-count exposure of published aggregate tables (one row per table)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._core.encoding import encode
from .._core.histogram import SizeHistogram
from ..exceptions import InvalidParameterError

__all__ = ["tier3_exposure", "AGGREGATE_COLUMNS", "CELL_THRESHOLDS"]

#: Cell-count thresholds of the tier 3 rows: cells with ``0 < count <= t``.
CELL_THRESHOLDS = (1, 2, 3, 5, 10)
AGGREGATE_COLUMNS = [
    "table", "dimensions", "n_cells", "n_records",
    *[c for t in CELL_THRESHOLDS for c in (f"cells_at_most_{t}", f"records_in_cells_at_most_{t}")],
    "recoverable_cells", "recoverable_records",
]


def tier3_exposure(tables: Mapping[str, pd.DataFrame], *, count: str = "count", suppress_below: int = 5) -> pd.DataFrame:
    """Small-count exposure of aggregate tables, one row per table.

    For each table: its dimensions, the non-empty cells and the pupils in them, the cells with
    ``0 < count <= t`` for t in :data:`CELL_THRESHOLDS` and the pupils in them (read off the
    table's :class:`~riskcalc.SizeHistogram` of cell counts), and the cells *recoverable by
    differencing*: if every cell below ``suppress_below`` were suppressed while the totals over
    the table's last dimension (the characteristic) stayed published, a suppressed cell that is
    the only one in its total could be recovered by subtraction.

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
        enc = encode(table, dims)
        cells = enc.partition(tuple(dims), "category")
        totals = np.bincount(cells.class_id, weights=table[count].to_numpy(dtype=np.float64),
                             minlength=cells.n_classes).astype(np.int64)
        hist = SizeHistogram.from_class_sizes(totals)
        row = {"table": name, "dimensions": " x ".join(dims), "n_cells": hist.n_classes, "n_records": hist.n_records}
        for t, c, r in zip(CELL_THRESHOLDS, hist.classes_at_most(CELL_THRESHOLDS), hist.records_at_most(CELL_THRESHOLDS)):
            row[f"cells_at_most_{t}"] = int(c)
            row[f"records_in_cells_at_most_{t}"] = int(r)
        # differencing: cells below the suppression limit alone in their margin (dims minus last)
        margin = enc.partition(tuple(dims[:-1]), "category") if len(dims) > 1 else None
        cell_margin = np.zeros(cells.n_classes, dtype=np.int64)
        if margin is not None:
            cell_margin[cells.class_id] = margin.class_id
        small = (totals > 0) & (totals < suppress_below)
        per_margin = np.bincount(cell_margin, weights=small.astype(np.float64))
        recoverable = small & (per_margin[cell_margin] == 1)
        row["recoverable_cells"] = int(recoverable.sum())
        row["recoverable_records"] = int(totals[recoverable].sum())
        rows.append(row)
    return pd.DataFrame(rows, columns=AGGREGATE_COLUMNS)
