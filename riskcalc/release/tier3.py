"""Tier 3: small-count exposure of published aggregate tables (one row per table)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._core.encoding import encode
from .._core.histogram import SizeHistogram
from .._validation import check_counts
from ..exceptions import InvalidParameterError

__all__ = ["tier3_exposure", "tier3_rows", "AGGREGATE_COLUMNS", "CELL_THRESHOLDS"]

#: Cell-count thresholds of the tier 3 rows: cells with ``0 < count <= t``.
CELL_THRESHOLDS = (1, 2, 3, 5, 10)
AGGREGATE_COLUMNS = [
    "table",
    "dimensions",
    "n_cells",
    "n_records",
    *[c for t in CELL_THRESHOLDS for c in (f"cells_at_most_{t}", f"records_in_cells_at_most_{t}")],
    "suppressed_cells",
    "recoverable_cells",
    "recoverable_records",
    "rounded_recoverable_cells",
    "rounded_recoverable_records",
]


def _text_labels(column) -> np.ndarray:
    """The distinct values of an encoded column as text, in code order, missing last."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cats = column.categories
    if isinstance(cats, (pa.Array, pa.ChunkedArray)):
        labels = pc.cast(cats, pa.string()).to_numpy(zero_copy_only=False)
    else:
        labels = pd.Index(cats).astype(str).to_numpy()
    labels = labels.astype(object)
    return np.append(labels, "\0missing") if column.n_missing else labels


def _shared_codes(encodings: dict) -> dict:
    """Integer codes of every table's dimensions that agree across tables (one number per
    distinct value of a dimension name), built on the tables' dictionaries, not their cells."""
    names = {d for enc, dims in encodings.values() for d in dims}
    known = {
        d: np.unique(
            np.concatenate([_text_labels(enc[d]) for enc, dims in encodings.values() if d in dims])
        )
        for d in names
    }
    out = {}
    for table, (enc, dims) in encodings.items():
        out[table] = {
            d: np.searchsorted(known[d], _text_labels(enc[d]))[enc[d].codes] for d in dims
        }
    return out


def tier3_exposure(
    tables: Mapping[str, pd.DataFrame],
    *,
    count: str = "count",
    suppress_below: int = 5,
    round_to: int = 5,
) -> pd.DataFrame:
    """Small-count exposure of aggregate tables, and what suppression or rounding leaves exposed.

    For each table: its dimensions, the non-empty cells and the pupils in them, the cells with
    ``0 < count <= t`` for t in :data:`CELL_THRESHOLDS` and the pupils in them (read off the
    table's :class:`~riskcalc.SizeHistogram` of cell counts). Then two DfE-like releases are
    audited with :func:`riskcalc.audit.tier3_audit` (linked tables sharing their published
    totals, feasible intervals of every protected cell):

    * cells below ``suppress_below`` suppressed, totals exact: ``suppressed_cells``, and the
      suppressed cells an intruder can still work out exactly from the totals and the other
      tables (``recoverable_cells``) with the pupils in them (``recoverable_records``);
    * every cell and total rounded to ``round_to``: the cells whose exact count the tables
      still pin down (``rounded_recoverable_cells``, ``rounded_recoverable_records``).

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Tidy aggregate tables: dimension columns and a ``count`` column (e.g.
        :func:`synthetic.tier3_tables`); tables with the same first dimension are linked.
    count : str, default "count"
    suppress_below, round_to : int, default 5

    Returns
    -------
    pandas.DataFrame with :data:`AGGREGATE_COLUMNS`
    """
    from ..audit import SuppressionPolicy, tier3_audit

    rows, checked = [], {}
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
        values = check_counts(
            table[count].to_numpy(), len(table), f"The {count!r} column of tier 3 table {name!r}"
        )
        enc = encode(table, dims)
        checked[name] = (enc, dims, np.asarray(values, dtype=np.int64))
        labels, n_labels = enc.partition(tuple(dims), "category").labels()
        totals = np.bincount(labels, weights=values.astype(np.float64), minlength=n_labels)
        hist = SizeHistogram.from_class_sizes(totals)
        row = {
            "table": name,
            "dimensions": " x ".join(dims),
            "n_cells": hist.n_classes,
            "n_records": hist.n_records,
        }
        for t, c, r in zip(
            CELL_THRESHOLDS,
            hist.classes_at_most(CELL_THRESHOLDS),
            hist.records_at_most(CELL_THRESHOLDS),
        ):
            row[f"cells_at_most_{t}"] = int(c)
            row[f"records_in_cells_at_most_{t}"] = int(r)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=AGGREGATE_COLUMNS[: 4 + 2 * len(CELL_THRESHOLDS)])
    if not len(frame):
        return pd.DataFrame(columns=AGGREGATE_COLUMNS)
    # The audit reads only which cells share which totals: integer codes of the dimensions (the
    # same number for the same school in every table) instead of their text.
    codes = _shared_codes({name: (enc, dims) for name, (enc, dims, _) in checked.items()})
    checked = {
        name: pd.DataFrame({**codes[name], count: values})
        for name, (_, _, values) in checked.items()
    }
    suppressed = tier3_audit(
        checked,
        SuppressionPolicy(f"suppress_below_{suppress_below}", suppress_below=suppress_below),
        count=count,
    )
    rounded = tier3_audit(
        checked,
        SuppressionPolicy(f"round_to_{round_to}", round_to=round_to, margins="policy"),
        count=count,
    )
    frame["suppressed_cells"] = suppressed["suppressed"].to_numpy()
    frame["recoverable_cells"] = suppressed["exact_cells"].to_numpy()
    frame["recoverable_records"] = suppressed["pupils_exact"].to_numpy()
    frame["rounded_recoverable_cells"] = rounded["exact_cells"].to_numpy()
    frame["rounded_recoverable_records"] = rounded["pupils_exact"].to_numpy()
    return frame[AGGREGATE_COLUMNS]


def tier3_rows(tables) -> pd.DataFrame:
    """:func:`tier3_exposure` of ``tables``, or an empty frame with :data:`AGGREGATE_COLUMNS`
    when there are none."""
    return tier3_exposure(tables) if tables else pd.DataFrame(columns=AGGREGATE_COLUMNS)
