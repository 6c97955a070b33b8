"""The field-combination lattice: which combinations of fields make records identifiable."""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _format as fmt
from ._core.backend import backend_for
from ._render import Displayed
from ._typing import Fields, MissingPolicy, TableLike, Thresholds
from ._validation import (
    check_column_names,
    check_int,
    check_missing_policy,
    check_share,
    check_thresholds,
    check_thresholds_by_size,
)
from .exceptions import InvalidParameterError

__all__ = ["LatticeResult", "field_lattice"]

DEFAULT_THRESHOLDS = (1, 2, 3, 5, 10)
#: Largest number of subsets the lattice will enumerate.
MAX_SUBSETS = 1 << 20


@dataclass(frozen=True)
class LatticeResult(Displayed):
    """Risk figures for every combination of fields up to a size.

    Attributes
    ----------
    fields : tuple of str
        The candidate fields, in the order given.
    max_size : int
        Largest combination examined.
    thresholds : tuple of int
        Thresholds *t* for the ``records_in_cells_at_most_t`` and ``cells_at_most_t`` columns.
    threshold_by_size : tuple of int or None
        A threshold per combination size (sdcMicro ``riskyCells`` style), if given.
    missing : str
    n_records : int
    target : float or None
        The uniqueness share that marks *minimal* combinations, if given.
    table : pandas.DataFrame
        One row per combination; see :meth:`to_frame`.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMFF"), "year": [7, 7, 7, 8, 8, 8],
    ...                    "fsm": [True, True, False, False, True, False]})
    >>> lattice = rc.field_lattice(df, ["sex", "year", "fsm"])
    >>> lattice.top(2)[["fields", "n_unique"]]
                 fields  n_unique
    0  (sex, year, fsm)         4
    1       (sex, year)         2
    """

    fields: tuple[str, ...]
    max_size: int
    thresholds: tuple[int, ...]
    threshold_by_size: tuple[int, ...] | None
    missing: str
    n_records: int
    target: float | None
    table: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per combination, by size then in the order of ``fields``.

        Columns: ``fields`` (tuple of names), ``n_fields``, ``n_classes``, ``k``,
        ``n_unique``, ``unique_share``, ``records_in_cells_at_most_<t>`` and ``cells_at_most_<t>`` per
        threshold (records in, and number of, classes of size at most *t*),
        ``average_risk`` (``n_classes / n_records``), ``highest_risk`` (``1 / k``); with
        ``threshold_by_size``, ``size_threshold``, ``cells_at_size_threshold`` and
        ``records_in_cells_at_size_threshold``; with ``target``, ``minimal``.
        """
        return self.table.copy()

    def row(self, fields: Fields) -> pd.Series:
        """The row of one combination (names in any order)."""
        wanted = frozenset(
            check_column_names(fields, self.fields, name="fields", func="LatticeResult.row")
        )
        match = self.table["fields"].map(frozenset) == wanted
        if not match.any():
            raise InvalidParameterError(
                f"The combination {tuple(fields)!r} is larger than max_size={self.max_size}."
            )
        return self.table.loc[match.to_numpy()].iloc[0]

    def top(self, n: int = 10, by: str = "unique_share") -> pd.DataFrame:
        """The ``n`` most identifying combinations by ``by`` (ties: fewer fields first)."""
        if by not in self.table.columns:
            raise InvalidParameterError(
                f"The 'by' parameter of LatticeResult.top must be a column of the table. Got {by!r}."
            )
        ascending = by in ("k",)
        ordered = self.table.sort_values(
            [by, "n_fields"], ascending=[ascending, True], kind="stable"
        )
        return ordered.head(check_int(n, "n", "LatticeResult.top", minimum=1)).reset_index(
            drop=True
        )

    def minimal(self, target: float) -> pd.DataFrame:
        """Combinations whose uniqueness share reaches ``target`` while no proper subset does.

        Uniqueness never falls when a field is added, so it suffices to check the subsets with
        one field fewer.
        """
        target = check_share(target, "target", "LatticeResult.minimal")
        return self.table.loc[_minimal_mask(self.table, target)].reset_index(drop=True)

    def contributions(self) -> pd.DataFrame:
        """How much adding each field raises uniqueness, on average across the lattice.

        For field *f*, every pair (*S*, *S* + *f*) in the lattice (with *S* possibly empty, whose
        uniqueness is 0 for more than one record) gives the increase in ``unique_share``.
        Columns: ``field``, ``mean_increase`` over all pairs, ``n_pairs``, and ``size_<m>``: the
        mean increase when *f* is added to make a combination of *m* fields.
        """
        share = dict(zip(self.table["fields"].map(frozenset), self.table["unique_share"]))
        share[frozenset()] = 1.0 if self.n_records == 1 else 0.0
        rows = []
        for f in self.fields:
            by_size: dict[int, list[float]] = {}
            for combo, value in share.items():
                if f in combo:
                    parent = combo - {f}
                    by_size.setdefault(len(combo), []).append(value - share[parent])
            deltas = [d for values in by_size.values() for d in values]
            row = {"field": f, "mean_increase": float(np.mean(deltas)), "n_pairs": len(deltas)}
            for size in range(1, self.max_size + 1):
                row[f"size_{size}"] = float(np.mean(by_size[size])) if size in by_size else np.nan
            rows.append(row)
        return (
            pd.DataFrame(rows)
            .sort_values("mean_increase", ascending=False, kind="stable")
            .reset_index(drop=True)
        )

    def __repr__(self) -> str:
        worst = self.table.sort_values(["unique_share", "n_fields"], ascending=[False, True]).iloc[
            0
        ]
        return (
            f"LatticeResult(fields=({fmt.qi_list(self.fields)}), max_size={self.max_size}, "
            f"n_combinations={len(self.table)}, n_records={fmt.count(self.n_records)}, "
            f"most identifying=({fmt.qi_list(worst['fields'])}): "
            f"{fmt.count_pct(worst['n_unique'], self.n_records)} unique)"
        )


def _checked_parameters(
    p: int, max_size, thresholds, threshold_by_size, target
) -> tuple[int, tuple[int, ...], tuple[int, ...] | None, float | None, int]:
    """``field_lattice``'s size, thresholds and target, validated, and the number of subsets
    (shared by the Spark path)."""
    func = "field_lattice"
    max_size = p if max_size is None else check_int(max_size, "max_size", func, minimum=1)
    max_size = min(max_size, p)
    thresholds = check_thresholds(thresholds, func=func)
    by_size = None
    if threshold_by_size is not None:
        by_size = check_thresholds_by_size(threshold_by_size, max_size, func=func)
    if target is not None:
        target = check_share(target, "target", func)
    n_subsets = sum(math.comb(p, m) for m in range(1, max_size + 1))
    if n_subsets > MAX_SUBSETS:
        raise InvalidParameterError(
            f"The lattice of {p} fields up to size {max_size} has {n_subsets:,} combinations, more "
            f"than the {MAX_SUBSETS:,} field_lattice enumerates. Lower max_size."
        )
    return max_size, thresholds, by_size, target, n_subsets


def field_lattice(
    data: TableLike,
    fields: Fields,
    *,
    max_size: int | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    threshold_by_size: Sequence[int] | None = None,
    target: float | None = None,
    missing: MissingPolicy = "category",
    progress: bool | None = None,
) -> LatticeResult:
    r"""Risk figures for every non-empty combination of ``fields`` up to ``max_size`` fields.

    For each combination *S* the records are grouped into equivalence classes on *S*, and

    .. math::

        n_1(S) = \#\{i : f_k^S(i) = 1\}, \qquad k(S) = \min_i f_k^S(i), \qquad
        \text{records}_{\le t}(S) = \#\{i : f_k^S(i) \le t\}

    are reported with the number of classes, the average prosecutor risk (classes / records),
    the highest (1 / k) and the small cells (classes of size at most *t*, the rule of mu-Argus
    and sdcMicro ``riskyCells``). In words: each row says how many pupils an intruder who knows
    exactly those fields could single out.

    Parameters
    ----------
    data : table-like
    fields : sequence of str
        The candidate quasi-identifiers.
    max_size : int, optional
        Largest combination (default: all fields). There are
        :math:`\sum_{m \le M} \binom{p}{m}` combinations of *p* fields.
    thresholds : sequence of int, default (1, 2, 3, 5, 10)
    threshold_by_size : sequence of int, optional
        One threshold per combination size (first for single fields), as sdcMicro's
        ``riskyCells(threshold=...)``: a cell of an *m*-field table is unsafe when its count is at
        most ``threshold_by_size[m - 1]``.
    target : float in (0, 1], optional
        Mark in column ``minimal`` the combinations whose uniqueness share reaches ``target``
        while no proper subset does.
    missing : {"category", "raise"}, default "category"
    progress : bool, optional
        Show a progress bar on stderr (default: when stderr is a terminal and there are more
        than 64 combinations).

    Returns
    -------
    LatticeResult

    Notes
    -----
    Each combination refines the classes of its parent (the combination without its last
    field) in one pass over the records that are not unique yet; records unique on a
    combination are unique on all its supersets, so they are counted and dropped. Fields are
    visited from the highest cardinality down, which keeps every refinement's key space small.
    The figures equal those of :func:`uniqueness` and :func:`k_anonymity` on the same fields.

    References
    ----------
    .. [1] Motwani, R. and Xu, Y. (2007). Efficient algorithms for masking and finding
       quasi-identifiers. *Proceedings of the Conference on Very Large Data Bases (VLDB)*.
    .. [2] Prasser, F., Eicher, J., Spengler, H., Bild, R. and Kuhn, K. A. (2020). Flexible data
       anonymization using ARX - current status and challenges ahead. *Software: Practice and
       Experience* 50(7), 1277-1304. https://doi.org/10.1002/spe.2812

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMM"), "year": [7, 8, 7, 7], "fsm": [0, 0, 0, 1]})
    >>> lat = rc.field_lattice(df, ["sex", "year", "fsm"])
    >>> lat.to_frame()[["fields", "n_unique"]].values.tolist()[:4]
    [[('sex',), 0], [('year',), 1], [('fsm',), 1], [('sex', 'year'), 2]]
    """
    func = "field_lattice"
    backend = backend_for(data, func=func)
    names = backend.names(fields, func=func, name="fields")
    p = len(names)
    max_size, thresholds, by_size, target, n_subsets = _checked_parameters(
        p, max_size, thresholds, threshold_by_size, target
    )
    missing = check_missing_policy(missing, func)
    rows = {}
    thr = n = None
    bar = _progress(n_subsets, progress, "lattice")
    try:
        for subset, hist in backend.lattice_histograms(names, max_size, missing=missing, func=func):
            if thr is None:
                n = hist.n_records
                # a threshold at or above the number of records counts every class: clamp it,
                # so that no table of size max(threshold) is allocated
                thr = np.minimum(np.asarray(thresholds, dtype=np.float64), n)
            rows[subset] = _row_from_histogram(hist, thr, thresholds, by_size, len(subset))
            bar.update(1)
    finally:
        bar.close()
    table = _table(rows, names, max_size, n)
    if target is not None:
        table["minimal"] = _minimal_mask(table, target)
    return LatticeResult(names, max_size, thresholds, by_size, missing, n, target, table)


def _row_from_histogram(hist, thr, thresholds, by_size, size) -> dict:
    row = {"n_classes": hist.n_classes, "k": hist.k, "n_unique": hist.n_unique}
    for t, r, c in zip(thresholds, hist.records_at_most(thr), hist.classes_at_most(thr)):
        row[f"records_in_cells_at_most_{t}"] = int(r)
        row[f"cells_at_most_{t}"] = int(c)
    row["average_risk"] = hist.average_risk
    row["highest_risk"] = hist.highest_risk
    if by_size is not None:
        t = by_size[size - 1]
        row["size_threshold"] = t
        row["cells_at_size_threshold"] = int(hist.classes_at_most([t])[0])
        row["records_in_cells_at_size_threshold"] = int(hist.records_at_most([t])[0])
    return row


def _table(rows: dict, names, max_size: int, n: int) -> pd.DataFrame:
    ordered = [
        s for m in range(1, max_size + 1) for s in itertools.combinations(range(len(names)), m)
    ]
    records = []
    for subset in ordered:
        row = rows[subset]
        head = {
            "fields": tuple(names[j] for j in subset),
            "n_fields": len(subset),
            "n_classes": row["n_classes"],
            "k": row["k"],
            "n_unique": row["n_unique"],
            "unique_share": row["n_unique"] / n,
        }
        head.update({key: value for key, value in row.items() if key not in head})
        records.append(head)
    return pd.DataFrame.from_records(records)


def _minimal_mask(table: pd.DataFrame, target: float) -> np.ndarray:
    reaches = dict(zip(table["fields"].map(frozenset), table["unique_share"] >= target))
    out = np.zeros(len(table), dtype=bool)
    for i, (combo, hit) in enumerate(zip(table["fields"], table["unique_share"] >= target)):
        if hit:
            s = frozenset(combo)
            out[i] = not any(reaches.get(s - {f}, False) for f in s) if len(s) > 1 else True
    return out


def _progress(total: int, progress, desc: str):
    from tqdm import tqdm  # the plain bar on stderr (tqdm.auto would need ipywidgets in Jupyter)

    if progress is None:
        progress = total > 64 and sys.stderr.isatty()
    return tqdm(
        total=total,
        desc=desc,
        unit="combination",
        disable=not progress,
        file=sys.stderr,
        leave=False,
    )
