"""A panel (one row per pupil per census) as a pupils x censuses matrix of codes, in memory.

:func:`trajectories` lays a long table out as one row per pupil and one column per census;
:mod:`riskcalc.histories` measures the histories it holds, and the in-memory backend
(:meth:`riskcalc._core.memory.MemoryBackend.trajectory_histograms`) counts their classes. The
Spark backend pivots a Spark panel the same way on the cluster
(:meth:`riskcalc._core.spark.SparkBackend.trajectory_histograms`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._validation import check_column_names
from ..exceptions import InvalidParameterError

__all__ = ["CENSUS_ORDER", "Trajectories", "trajectories", "class_sizes_of_codes"]

CENSUS_ORDER = {"autumn": 0, "spring": 1, "summer": 2}


# --------------------------------------------------------------------------------------------
# the history matrix
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Trajectories:
    """Pupils x censuses matrix of place codes (``-1`` = not in the extract at that census)."""

    point: str
    times: tuple[str, ...]
    codes: np.ndarray  # (n_pupils, n_times) int64
    static: np.ndarray  # (n_pupils, n_static) int64 codes of the static fields (first seen)
    static_names: tuple[str, ...]
    rows: np.ndarray  # (n_pupils, n_times) the table row of each cell, -1 when absent

    def column(self, values: pd.Series) -> np.ndarray:
        """Another column of the same table laid out on this pupils x censuses grid."""
        return np.where(self.rows >= 0, _value_codes(values)[np.maximum(self.rows, 0)], -1)

    @property
    def n_pupils(self) -> int:
        return int(self.codes.shape[0])

    @property
    def observed(self) -> np.ndarray:
        return self.codes >= 0


def _academic_years(values: pd.Series) -> np.ndarray:
    """The ``academic_year`` column as int64, or one clear error naming the first bad row (its
    position, never its value): whole numbers, no missing value."""
    number = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(number) | (number != np.round(number))
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 1
        raise InvalidParameterError(
            "The 'academic_year' column must hold whole years (2013 for 2013/14), with no missing "
            f"value; row {row:,} does not."
        )
    return number.astype(np.int64)


def _time_labels(frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    year = _academic_years(frame["academic_year"])
    if "census" in frame.columns:
        codes, uniq = pd.factorize(frame["census"], sort=False)
        order = np.array(
            [CENSUS_ORDER.get(str(u), -1) for u in np.asarray(uniq, dtype=object)], np.int64
        )
        if (codes < 0).any() or (order < 0).any():
            raise InvalidParameterError(
                "The 'census' column must hold 'autumn', 'spring' or 'summer'."
            )
        cen = order[codes]
    else:
        cen = np.ones(len(frame), np.int64)
    key = year * 3 + cen
    codes, uniq = pd.factorize(key, sort=True)
    names = {v: k for k, v in CENSUS_ORDER.items()}
    labels = [f"{int(k) // 3} {names[int(k) % 3]}" for k in np.asarray(uniq).tolist()]
    return codes.astype(np.int64), labels


def _value_codes(values: pd.Series) -> np.ndarray:
    """Non-negative int64 codes, equal iff the values are equal (missing is one more value).

    Categorical codes and small integers are used as they are (no hashing); anything else is
    factorised."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        c = values.cat.codes.to_numpy().astype(np.int64)
        return np.where(c < 0, len(dtype.categories), c)
    if isinstance(dtype, np.dtype) and dtype.kind in "biu":
        v = values.to_numpy().astype(np.int64)
        lo = int(v.min()) if len(v) else 0
        return v - lo
    c, _ = pd.factorize(values, sort=False, use_na_sentinel=False)
    return c.astype(np.int64)


def _sorted_codes(values: pd.Series) -> np.ndarray:
    """Codes of ``values`` numbered in sorted order of the distinct values (hash factorisation,
    then one sort of the distinct values only)."""
    codes, uniq = pd.factorize(values, sort=False)
    try:
        order = np.asarray(pc.sort_indices(pa.array(uniq)))
    except (TypeError, ValueError, pa.ArrowException):  # mixed types: numpy's order
        order = np.argsort(np.asarray(uniq), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[codes]


def trajectories(
    panel: pd.DataFrame,
    point: str = "urn",
    *,
    static=(),
    id: str = "pupil_id",
    func: str = "trajectories",
) -> Trajectories:
    """Build the pupils x censuses matrix of ``point`` codes from a long table.

    Each place value gets one integer code (``pandas.factorize``, so equal values share a code
    in every census); a pupil absent from a census gets ``-1``. ``static`` fields (e.g. sex,
    year and month of birth) are taken from the pupil's first row.
    """
    if not isinstance(panel, pd.DataFrame):
        raise InvalidParameterError(
            f"The 'panel' parameter of {func} must be a pandas DataFrame in long form (one row per "
            f"pupil per census). Got {type(panel).__name__} instead."
        )
    static = check_column_names(static, panel.columns, name="static", func=func) if static else ()
    check_column_names([id, "academic_year", point], panel.columns, name="point", func=func)
    if len(panel) == 0:
        raise InvalidParameterError(f"The 'panel' parameter of {func} has no rows.")
    pid = _sorted_codes(panel[id])  # pupils in id order: row order never matters
    t, labels = _time_labels(panel)
    place = _value_codes(panel[point])
    n, m = int(pid.max()) + 1, len(labels)
    flat = pid.astype(np.int64) * m + t
    row = np.full((n, m), -1, dtype=np.int64)
    row.reshape(-1)[flat] = np.arange(len(flat))
    if np.count_nonzero(row >= 0) != flat.shape[0]:  # two rows landed in one cell
        raise InvalidParameterError(
            f"The 'panel' parameter of {func} has more than one row for a pupil in a census."
        )
    codes = np.where(row >= 0, place[np.maximum(row, 0)], -1)
    stat = np.zeros((n, len(static)), dtype=np.int64)
    if static:  # from the pupil's first census in the table
        first = row[np.arange(n), np.argmax(row >= 0, axis=1)]
        for j, col in enumerate(static):
            stat[:, j] = _value_codes(panel[col])[first]
    return Trajectories(point, tuple(labels), codes, stat, tuple(static), row)


def class_sizes_of_codes(columns: list[np.ndarray]) -> np.ndarray:
    """Per-row class size on the given non-negative code columns (the engine's grouping kernel,
    no re-encoding)."""
    from .grouping import group_codes

    if not columns or columns[0].shape[0] == 0:
        return np.zeros(0 if not columns else columns[0].shape[0], dtype=np.int64)
    shifted = [
        np.asarray(c, dtype=np.int64) - int(np.min(c)) for c in columns
    ]  # sentinels may be < 0
    ids, sizes = group_codes(shifted, [int(c.max()) + 1 for c in shifted])
    return sizes[ids]
