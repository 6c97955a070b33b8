"""SUDA: special uniques, found through their minimal sample uniques (MSUs)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from . import _format as fmt
from ._core.access import as_encoded
from ._core.lattice import walk
from ._render import RecordFrames
from ._typing import Fields, TableLike
from ._validation import check_choice, check_int, check_open_fraction

__all__ = ["SudaResult", "suda"]

SCORINGS: tuple[Literal["elliot", "ihsn"], ...] = ("elliot", "ihsn")


@dataclass(frozen=True)
class SudaResult(RecordFrames):
    """Minimal sample uniques, SUDA and DIS-SUDA scores.

    Attributes
    ----------
    fields : tuple of str
    max_msu : int
        Largest MSU searched for.
    dis_fraction : float
        Sampling fraction used by the DIS-SUDA score.
    scoring : str
        ``"elliot"``: an MSU of size *k* among *M* fields scores :math:`(M-k)!` (Elliot et al.
        2002; sdcMicro ``suda2(original_scores=TRUE)``). ``"ihsn"``: the weights of the IHSN
        implementation, :math:`(2^{M-k}-1)\\,k!\\,(M-k)!/M!` (``original_scores=FALSE``).
    n_records : int
    score : numpy.ndarray of float64
        SUDA score per record, in input row order (0 for records with no MSU).
    dis_score : numpy.ndarray of float64
        DIS-SUDA score per record: an estimate of the probability that a match on the record
        is correct.
    msu_counts : numpy.ndarray of int64, shape (n_records, max_msu)
        Number of MSUs of each size (column ``k - 1`` for size *k*) per record.
    field_contributions : pandas.DataFrame
        ``field``, ``contribution``: the share (in percent) of the total score coming from MSUs
        that contain the field (shares add up to more than 100 because an MSU has several
        fields), as sdcMicro's ``attribute_contributions``.
    index : pandas.Index

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMFF"), "year": [7, 7, 7, 8, 8, 8],
    ...                    "fsm": [True, True, False, False, True, False]})
    >>> result = rc.suda(df, ["sex", "year", "fsm"])
    >>> result.n_with_msu, result.msus_by_size
    (4, array([0, 5, 0]))
    """

    fields: tuple[str, ...]
    max_msu: int
    dis_fraction: float
    scoring: str
    n_records: int
    score: np.ndarray = field(repr=False)
    dis_score: np.ndarray = field(repr=False)
    msu_counts: np.ndarray = field(repr=False)
    field_contributions: pd.DataFrame = field(repr=False)
    index: pd.Index = field(repr=False)
    _value_scores: dict = field(repr=False, default_factory=dict)
    _categories: dict = field(repr=False, default_factory=dict)

    @property
    def n_with_msu(self) -> int:
        """Records with at least one MSU (the special uniques and other sample uniques found)."""
        return int(np.count_nonzero(self.msu_counts.sum(axis=1)))

    @property
    def msus_by_size(self) -> np.ndarray:
        """Total number of MSUs of each size 1..max_msu."""
        return self.msu_counts.sum(axis=0)

    def to_frame(self) -> pd.DataFrame:
        """One row per record (input order and index): ``score``, ``dis_score``, ``n_msu`` and
        ``msu_size_<k>`` counts."""
        frame = pd.DataFrame({"score": self.score, "dis_score": self.dis_score}, index=self.index)
        frame["n_msu"] = self.msu_counts.sum(axis=1)
        for k in range(self.max_msu):
            frame[f"msu_size_{k + 1}"] = self.msu_counts[:, k]
        return frame

    def summary(self) -> pd.DataFrame:
        """Counts of MSUs and scores, without a record-level value (``riskcalc suda``'s table).

        Returns
        -------
        pandas.DataFrame
            ``measure``, ``value``, ``share`` (of the records, where a count of records): the
            records, the records with an MSU, the MSUs of each size 1..``max_msu``, the mean
            SUDA score of the records with an MSU, the highest score, and the records whose
            DIS-SUDA score exceeds 0.001, 0.01 and 0.1.

        Examples
        --------
        >>> import pandas as pd
        >>> import riskcalc as rc
        >>> df = pd.DataFrame({"sex": list("FFMMF"), "year": [1, 1, 1, 2, 2]})
        >>> rc.suda(df, ["sex", "year"]).summary()[["measure", "value"]].head(2)
                       measure value
        0              records   5.0
        1  records with an MSU   3.0
        """
        n = self.n_records
        rows = [("records", n, 1.0), ("records with an MSU", self.n_with_msu, self.n_with_msu / n)]
        for k, count in enumerate(self.msus_by_size, start=1):
            rows.append((f"MSUs of size {k}", int(count), None))
        scored = self.score[self.score > 0]
        rows.append(
            (
                "mean SUDA score (records with an MSU)",
                float(scored.mean()) if scored.size else 0.0,
                None,
            )
        )
        rows.append(("highest SUDA score", float(self.score.max()), None))
        for cut in (0.001, 0.01, 0.1):
            hit = int(np.count_nonzero(self.dis_score > cut))
            rows.append((f"records with DIS-SUDA > {cut:g}", hit, hit / n))
        return pd.DataFrame(rows, columns=["measure", "value", "share"]).astype({"value": object})

    def field_shares(self) -> pd.DataFrame:
        """:attr:`field_contributions` as shares: ``field``, ``share`` (0-1, percent / 100).

        Examples
        --------
        >>> import pandas as pd
        >>> import riskcalc as rc
        >>> df = pd.DataFrame({"sex": list("FFMMF"), "year": [1, 1, 1, 2, 2]})
        >>> rc.suda(df, ["sex", "year"]).field_shares().columns.tolist()
        ['field', 'share']
        """
        contributions = self.field_contributions
        return contributions.assign(contribution=contributions["contribution"] / 100).rename(
            columns={"contribution": "share"}
        )

    def value_contributions(self, *, labels: bool = False) -> pd.DataFrame:
        """Share (percent) of the total score from MSUs holding each field value.

        Values are identified by their code within the field unless ``labels=True``: the values
        that occur in MSUs are the rare ones, so showing them discloses (use labels only for
        internal review).
        """
        total = float(self.score.sum())
        rows = []
        for name in self.fields:
            scores = self._value_scores.get(name)
            if scores is None:
                continue
            for code in np.flatnonzero(scores):
                value = code
                if labels:
                    cats = self._categories.get(name)
                    value = cats[code] if cats is not None and code < len(cats) else code
                    value = value.as_py() if hasattr(value, "as_py") else value
                rows.append(
                    {"field": name, "value": value, "contribution": 100 * scores[code] / total}
                )
        frame = pd.DataFrame(rows, columns=["field", "value", "contribution"])
        return frame.sort_values("contribution", ascending=False, kind="stable").reset_index(
            drop=True
        )

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k + 1}: {fmt.count(c)}" for k, c in enumerate(self.msus_by_size))
        return (
            f"SudaResult(fields=({fmt.qi_list(self.fields)}), max_msu={self.max_msu}, "
            f"records with an MSU={fmt.count_pct(self.n_with_msu, self.n_records)}, "
            f"MSUs by size {{{sizes}}}, max score={self.score.max():g}, scoring={self.scoring!r})"
        )


def msu_weights(n_fields: int, max_msu: int, scoring: str) -> np.ndarray:
    """Score of one MSU of each size 1..max_msu."""
    m = n_fields
    sizes = np.arange(1, max_msu + 1)
    if scoring == "elliot":
        return np.array([float(math.factorial(m - k)) for k in sizes])
    return np.array(
        [
            (2.0 ** (m - k) - 1) * math.factorial(k) * math.factorial(m - k) / math.factorial(m)
            for k in sizes
        ]
    )


def suda(
    data: TableLike,
    fields: Fields,
    *,
    max_msu: int | None = None,
    dis_fraction: float = 0.01,
    scoring: Literal["elliot", "ihsn"] = "elliot",
    progress: bool | None = None,
) -> SudaResult:
    r"""SUDA: minimal sample uniques per record, SUDA and DIS-SUDA scores.

    A *minimal sample unique* (MSU) of a record is a set of its values, on some of the fields,
    that no other record shares, while no proper subset of it is unique. A record with small
    MSUs, or many of them, is a *special unique*: it stands out on few facts.

    .. math::

        \text{score}(i) = \sum_{\text{MSU } u \text{ of } i} w_{|u|}, \qquad
        w_k = (M - k)!  \quad\text{(Elliot's scoring)}

    where *M* is the number of fields. The DIS-SUDA score turns scores into probabilities of a
    correct match [2]_: with *U* the sample uniques and *P* the records in pairs on all fields,
    :math:`d = U\pi / (U\pi + P(1-\pi))` for the sampling fraction :math:`\pi`,
    :math:`q = 1 + (8 - M)/20` and :math:`A = \sum_{s_j > 0} s_j^{-q}`,

    .. math::

        \text{DIS}(i) = \Bigl(1 + \frac{U/d - U}{s_i^{q}\,A}\Bigr)^{-1} \quad (s_i > 0).

    Parameters
    ----------
    data : table-like
    fields : sequence of str
        The key variables.
    max_msu : int, optional
        Largest MSU to search for (default: all fields).
    dis_fraction : float in (0, 1), default 0.01
        Sampling fraction for DIS-SUDA (sdcMicro's ``DisFraction``).
    scoring : {"elliot", "ihsn"}, default "elliot"
    progress : bool, optional
        Progress bar on stderr (default: when stderr is a terminal).

    Returns
    -------
    SudaResult

    Notes
    -----
    Missing values follow sdcMicro: a missing item matches nothing and is never part of an MSU.
    MSUs are found on the field-combination lattice: a record's values on *S* form an MSU when
    the record is unique on *S* and on none of the subsets of *S* with one field fewer
    (uniqueness only grows with fields, so that suffices for minimality).

    References
    ----------
    .. [1] Elliot, M. J., Manning, A. M. and Ford, R. W. (2002). A computational algorithm for
       handling the special uniques problem. *International Journal of Uncertainty, Fuzziness
       and Knowledge-Based Systems* 10(5), 493-509. https://doi.org/10.1142/S0218488502001600
    .. [2] Elliot, M. J., Skinner, C. J. and Dale, A. (1998). Special uniques, random uniques and
       sticky populations: some counterintuitive effects of geographical detail on disclosure
       risk. *Research in Official Statistics* 1(2), 53-67.
    .. [3] Manning, A. M., Haglin, D. J. and Keane, J. A. (2008). A recursive search algorithm
       for statistical disclosure assessment. *Data Mining and Knowledge Discovery* 16(2),
       165-196. https://doi.org/10.1007/s10618-007-0078-6

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"a": [2, 1, 1], "b": [0, 3, 0], "c": [0, 6, 0]})
    >>> rc.suda(df, ["a", "b", "c"]).score.tolist()
    [2.0, 4.0, 2.0]
    """
    func = "suda"
    enc = as_encoded(data, fields, func=func, name="fields")
    names = (fields,) if isinstance(fields, str) else tuple(fields)
    p = len(names)
    max_msu = p if max_msu is None else min(check_int(max_msu, "max_msu", func, minimum=1), p)
    dis_fraction = check_open_fraction(dis_fraction, "dis_fraction", func)
    scoring = check_choice(scoring, "scoring", SCORINGS, func)
    columns = [enc[c] for c in names]
    n = enc.n_records
    weights = msu_weights(p, max_msu, scoring)
    msu_counts, field_scores, value_scores = _find_msus(columns, max_msu, weights, n, progress)
    score = msu_counts @ weights
    dis = dis_suda(score, _full_key_counts(enc, names), float(dis_fraction), p)
    total = score.sum()
    contributions = pd.DataFrame(
        {
            "field": list(names),
            "contribution": [100 * field_scores[j] / total if total else 0.0 for j in range(p)],
        }
    )
    return SudaResult(
        names,
        max_msu,
        float(dis_fraction),
        scoring,
        n,
        score,
        dis,
        msu_counts,
        contributions,
        enc.index,
        {names[j]: value_scores[j] for j in range(p)},
        {c.name: c.categories for c in columns},
    )


def _find_msus(columns, max_msu, weights, n, progress):
    """MSU counts per record and size, and score totals per field and per field value."""
    p = len(columns)
    order = sorted(range(p), key=lambda j: -columns[j].n_levels)
    missing = [_pack(c.codes == c.missing_code) if c.n_missing else None for c in columns]
    # On no field at all, a lone record is already unique: a one-record table has no MSU.
    unique: dict[frozenset, np.ndarray] = {frozenset(): _pack(np.full(n, n == 1))}
    msu_counts = np.zeros((n, max_msu), dtype=np.int64)
    field_scores = np.zeros(p)
    value_scores = [np.zeros(c.n_levels) for c in columns]
    total = sum(math.comb(p, m) for m in range(1, max_msu + 1))
    from .lattice import _progress

    bar = _progress(total, progress, "suda")
    visited = []
    for res in walk(
        [columns[j].codes for j in order],
        [columns[j].n_levels for j in order],
        max_msu,
        unique_rows=True,
    ):
        subset = frozenset(order[j] for j in res.subset)
        parent = frozenset(order[j] for j in res.subset[:-1])
        bits = unique[parent]
        if res.new_unique_rows.shape[0]:
            bits = bits.copy()
            _set_bits(bits, res.new_unique_rows)
        unique[subset] = bits
        visited.append(subset)
        bar.update(1)
    bar.close()
    for subset in visited:
        bits = unique[subset]
        if not bits.any():
            continue
        msu = bits.copy()
        for f in subset:
            msu &= ~unique[subset - {f}]
            if missing[f] is not None:
                msu &= ~missing[f]
        rows = np.flatnonzero(np.unpackbits(msu, count=n))
        if rows.shape[0] == 0:
            continue
        size = len(subset)
        msu_counts[rows, size - 1] += 1
        w = weights[size - 1]
        for f in subset:
            field_scores[f] += w * rows.shape[0]
            value_scores[f] += w * np.bincount(
                columns[f].codes[rows], minlength=columns[f].n_levels
            )
    return msu_counts, field_scores, value_scores


def _pack(mask: np.ndarray) -> np.ndarray:
    return np.packbits(mask)


def _set_bits(bits: np.ndarray, rows: np.ndarray) -> None:
    np.bitwise_or.at(bits, rows >> 3, (128 >> (rows & 7)).astype(np.uint8))


def _full_key_counts(enc, names) -> tuple[int, int]:
    """Sample uniques and records in pairs on all fields (missing as a category)."""
    from ._uniqueness import uniqueness

    u = uniqueness(enc, names)
    return u.n_unique, u.n_pairs


def dis_suda(
    score: np.ndarray, counts: tuple[int, int], fraction: float, n_fields: int
) -> np.ndarray:
    """DIS-SUDA scores from SUDA scores (see :func:`suda`)."""
    n_unique, n_pairs = counts
    out = np.zeros_like(score, dtype=np.float64)
    scored = score > 0
    if n_unique == 0 or not scored.any():
        return out
    d = n_unique * fraction / (n_unique * fraction + n_pairs * (1.0 - fraction))
    q = 1.0 + (8.0 - n_fields) / 20.0
    powered = score[scored] ** q
    adjust = np.sum(1.0 / powered)
    out[scored] = 1.0 / (1.0 + (n_unique / d - n_unique) / (powered * adjust))
    return out
