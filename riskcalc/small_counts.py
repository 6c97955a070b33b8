"""Small-count exposure: cells of a frequency table with few records, and the records in them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _format as fmt
from ._core.backend import backend_for
from ._render import Displayed
from ._typing import ArrayLike, Fields, MissingPolicy, TableLike, Thresholds
from ._validation import check_missing_policy, check_thresholds
from .exceptions import InvalidParameterError

__all__ = ["SmallCountResult", "small_count_exposure"]

DEFAULT_THRESHOLDS = (1, 2, 3, 5, 10)


@dataclass(frozen=True, slots=True)
class SmallCountResult(Displayed):
    """Cells with small counts in the frequency table of a field combination.

    Attributes
    ----------
    columns : tuple of str
        The fields that span the table.
    missing : str
    aggregated : bool
        Whether the input was an aggregate table with a count column.
    n_records : int
        Records (people) in the table: the sum of its cell counts.
    n_cells : int
        Non-empty cells.
    thresholds : tuple of int
    cells_at_most : numpy.ndarray of int64
        Non-empty cells whose count is at most ``t``, per threshold.
    records_in_cells_at_most : numpy.ndarray of int64
        Records in those cells, per threshold: the people a published table exposes.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMFF"), "year": [7, 7, 7, 8, 8, 8],
    ...                    "fsm": [True, True, False, False, True, False]})
    >>> result = rc.small_count_exposure(df, ["sex", "year"], thresholds=[1, 2])
    >>> result.cells_at_most.tolist(), result.records_in_cells_at_most.tolist()
    ([2, 4], [2, 6])
    """

    columns: tuple[str, ...]
    missing: str
    aggregated: bool
    n_records: int
    n_cells: int
    thresholds: tuple[int, ...]
    cells_at_most: np.ndarray = field(repr=False)
    records_in_cells_at_most: np.ndarray = field(repr=False)

    @property
    def cells_at_most_share(self) -> np.ndarray:
        return (
            self.cells_at_most / self.n_cells
            if self.n_cells
            else np.full(len(self.thresholds), np.nan)
        )

    @property
    def records_in_cells_at_most_share(self) -> np.ndarray:
        return (
            self.records_in_cells_at_most / self.n_records
            if self.n_records
            else np.full(len(self.thresholds), np.nan)
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per threshold: small cells and the records in them, counts then shares."""
        return pd.DataFrame(
            {
                "threshold": np.asarray(self.thresholds, dtype=np.int64),
                "cells_at_most": self.cells_at_most,
                "cells_at_most_share": self.cells_at_most_share,
                "records_in_cells_at_most": self.records_in_cells_at_most,
                "records_in_cells_at_most_share": self.records_in_cells_at_most_share,
            }
        )

    def __repr__(self) -> str:
        rows = "; ".join(
            f"<={t}: {fmt.count(c)} cells, {fmt.count_pct(r, self.n_records)} records"
            for t, c, r in zip(self.thresholds, self.cells_at_most, self.records_in_cells_at_most)
        )
        return (
            f"SmallCountResult(columns=({fmt.qi_list(self.columns)}), n_cells={fmt.count(self.n_cells)}, "
            f"n_records={fmt.count(self.n_records)}, {rows})"
        )


def small_count_exposure(
    data: TableLike,
    columns: Fields,
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    count: str | ArrayLike | None = None,
    missing: MissingPolicy = "category",
) -> SmallCountResult:
    r"""Cells of the frequency table of ``columns`` with counts at most each threshold.

    The frequency table of a field combination has one cell per combination of values; its
    count is the number of records with those values. A cell is *unsafe* at threshold *t* when

    .. math::

        0 < n_c \le t

    the threshold rule of mu-Argus and sdcMicro's ``riskyCells`` [1]_ [2]_. In words: a published
    count of 1 or 2 points at one or two pupils, and everyone in such a cell is exposed.

    Parameters
    ----------
    data : table-like
        Record-level data (one row per person), or, with ``count``, an aggregate table with one
        row per cell. Rows of an aggregate table that share the same cell are added together;
        cells whose total is 0 are empty and never unsafe.
    columns : sequence of str
        The fields spanning the table.
    thresholds : sequence of int, default (1, 2, 3, 5, 10)
    count : str or array-like, optional
        The count column of an aggregate table (non-negative whole numbers).
    missing : {"category", "raise"}, default "category"

    Returns
    -------
    SmallCountResult

    References
    ----------
    .. [1] Hundepool, A. et al. (2012). *Statistical Disclosure Control*. Wiley, section 5.2
       (threshold rule). https://doi.org/10.1002/9781118348239
    .. [2] Templ, M., Kowarik, A. and Meindl, B. (2015). Statistical disclosure control for
       micro-data using the R package sdcMicro. *Journal of Statistical Software* 67(4).
       https://doi.org/10.18637/jss.v067.i04

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"school": list("AAABBC"), "sex": list("FFMFFM")})
    >>> res = rc.small_count_exposure(df, ["school", "sex"], thresholds=[1, 2])
    >>> res.cells_at_most.tolist(), res.records_in_cells_at_most.tolist()
    ([2, 4], [2, 6])
    """
    func = "small_count_exposure"
    thresholds = check_thresholds(thresholds, func=func)
    missing = check_missing_policy(missing, func)
    backend = backend_for(data, func=func)
    names = backend.names(columns, func=func, name="columns")
    if isinstance(count, str) and count in names:
        raise InvalidParameterError(
            f"The 'count' parameter of {func} names {count!r}, which is also one of the 'columns': "
            "the count column holds the cells' counts, not a dimension of the table."
        )
    if count is None:
        hist = backend.size_histogram(names, missing=missing, func=func)
    else:
        hist = backend.summed_histogram(names, count, missing=missing, func=func)
    return SmallCountResult(
        names,
        missing,
        count is not None,
        hist.n_records,
        hist.n_classes,
        thresholds,
        hist.classes_at_most(thresholds),
        hist.records_at_most(thresholds),
    )
