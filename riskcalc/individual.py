"""Individual and global re-identification risk with sampling weights (Benedetti-Franconi)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from . import _format as fmt
from ._core.access import as_encoded, prepare, record_frequencies
from ._core.encoding import EncodedTable
from ._lazy import lazy_module
from ._render import RecordFrames
from ._typing import ArrayLike, Fields, RecordMissingPolicy, TableLike, Weights
from ._validation import check_alpha, check_choice, check_sampling_weights, check_share
from .exceptions import InvalidParameterError

special = lazy_module("scipy.special")

__all__ = ["IndividualRiskResult", "individual_risk", "benedetti_franconi"]

METHODS: tuple[Literal["approx", "exact"], ...] = ("approx", "exact")


@dataclass(frozen=True)
class IndividualRiskResult(RecordFrames):
    """Per-record re-identification risk estimated from sample frequencies and weights.

    Attributes
    ----------
    quasi_identifiers : tuple of str
    missing : str
    method : str
        ``"approx"`` or ``"exact"``.
    qual : float
        Final correction factor applied to every risk (sdcMicro's ``qual``).
    n_records : int
    risk : numpy.ndarray of float64
        Individual risk per record, in input row order.
    fk, Fk : numpy.ndarray
        Sample frequency and estimated population frequency per record.
    household_risk : numpy.ndarray or None
        With a household column: the risk that at least one member of the record's household
        is re-identified, ``1 - prod(1 - r)`` over the household.
    index : pandas.Index

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMFF"), "year": [7, 7, 7, 8, 8, 8],
    ...                    "fsm": [True, True, False, False, True, False]})
    >>> result = rc.individual_risk(df.assign(w=10.0), ["sex", "year"], weights="w")
    >>> round(result.global_risk, 4), round(result.expected_reidentifications, 3)
    (0.1404, 0.842)
    """

    quasi_identifiers: tuple[str, ...]
    missing: str
    method: str
    qual: float
    n_records: int
    risk: np.ndarray = field(repr=False)
    fk: np.ndarray = field(repr=False)
    Fk: np.ndarray = field(repr=False)
    household_risk: np.ndarray | None = field(default=None, repr=False)
    index: pd.Index | None = field(default=None, repr=False)

    @property
    def global_risk(self) -> float:
        """Mean individual risk: the expected share of records re-identified."""
        return float(self.risk.mean())

    @property
    def expected_reidentifications(self) -> float:
        """Sum of the individual risks: the expected number of re-identified records."""
        return float(self.risk.sum())

    @property
    def household_global_risk(self) -> float | None:
        """Mean household risk over records (``None`` without households)."""
        return None if self.household_risk is None else float(self.household_risk.mean())

    def records_above(self, threshold: float) -> int:
        """Records whose individual risk exceeds ``threshold``."""
        return int(
            np.count_nonzero(self.risk > check_share(threshold, "threshold", "records_above"))
        )

    def threshold_for(self, max_global_risk: float) -> tuple[float, int]:
        """The risk threshold that keeps the global risk of the unprotected records under a bound.

        Records with risk above the threshold are the ones to protect (recode or suppress);
        the others keep their risk. The threshold is the largest individual risk *t* such that
        ``sum(r_i for r_i <= t) / n <= max_global_risk`` (the re-identification rate rule of
        mu-Argus). Returns ``(t, records above t)``; *t* is 0 when even the smallest risk breaks
        the bound.
        """
        bound = check_share(max_global_risk, "max_global_risk", "threshold_for")
        ordered = np.sort(self.risk)
        rate = np.cumsum(ordered) / self.n_records
        # Only the last of tied risks can be a threshold: all records at t stay unprotected.
        last_of_tie = np.append(ordered[1:] != ordered[:-1], True)
        ok = np.flatnonzero(last_of_tie & (rate <= bound))
        if ok.size == 0:
            return 0.0, self.n_records
        t = float(ordered[ok[-1]])
        return t, int(np.count_nonzero(self.risk > t))

    def to_frame(self) -> pd.DataFrame:
        """One row per record (input order and index): ``fk``, ``Fk``, ``risk`` and, with
        households, ``household_risk``."""
        frame = pd.DataFrame({"fk": self.fk, "Fk": self.Fk, "risk": self.risk}, index=self.index)
        if self.household_risk is not None:
            frame["household_risk"] = self.household_risk
        return frame

    def __repr__(self) -> str:
        hh = ""
        if self.household_risk is not None:
            hh = f", household_global_risk={self.household_global_risk:.4g}"
        return (
            f"IndividualRiskResult(method={self.method!r}, global_risk={self.global_risk:.4g}, "
            f"expected_reidentifications={self.expected_reidentifications:.4g}, "
            f"max_risk={self.risk.max():.4g}, n_records={fmt.count(self.n_records)}{hh})"
        )


def benedetti_franconi(fk, Fk, method: str = "approx") -> np.ndarray:
    r"""Individual risk from the sample frequency ``fk`` and population estimate ``Fk``.

    With :math:`p = f_k / F_k` the risk is :math:`E[1/F \mid f_k]` under a negative binomial
    model for the population frequency [1]_:

    .. math::

        r = \frac{p}{f_k}\; {}_2F_1\!\left(1, 1; f_k + 1; 1 - p\right)

    (``"exact"``; it is :math:`\frac{p}{1-p}\log\frac1p` for :math:`f_k = 1`). The ``"approx"``
    method uses the closed forms for :math:`f_k \le 2` and :math:`p / (f_k - (1 - p))` above, as
    sdcMicro's ``indivRisk`` does. Where the weights give :math:`F_k \le f_k` (the sample is the
    population) the risk is :math:`1 / f_k`.

    References
    ----------
    .. [1] Benedetti, R. and Franconi, L. (1998). Statistical and technological solutions for
       controlled data dissemination. *Pre-proceedings of New Techniques and Technologies for
       Statistics*, 1, 225-232.
    """
    fk = np.asarray(fk, dtype=np.float64)
    Fk = np.asarray(Fk, dtype=np.float64)
    r = np.empty_like(fk)
    sampled = Fk > fk
    r[~sampled] = 1.0 / fk[~sampled]
    f = fk[sampled]
    p = f / Fk[sampled]
    q = 1.0 - p
    # For fk = 1 and 2 the closed forms are exact; the methods differ only above.
    out = np.empty_like(p)
    one, two, more = f == 1, f == 2, f > 2
    odds = p[one | two] / q[one | two]
    log_inv = np.log(1.0 / p[one | two])
    small = np.where(f[one | two] == 1, odds * log_inv, odds - odds**2 * log_inv)
    out[one | two] = small
    if method == "exact":
        out[more] = p[more] / f[more] * special.hyp2f1(1.0, 1.0, f[more] + 1.0, q[more])
    else:
        out[more] = p[more] / (f[more] - q[more])
    r[sampled] = out
    return r


def individual_risk(
    data: TableLike,
    quasi_identifiers: Fields,
    *,
    weights: Weights,
    method: Literal["approx", "exact"] = "approx",
    qual: float = 1.0,
    household: str | ArrayLike | None = None,
    missing: RecordMissingPolicy = "category",
    alpha: float = 1.0,
) -> IndividualRiskResult:
    r"""Individual re-identification risk of each record, and the global risk (sdcMicro).

    Each record's risk is the expected inverse of the population frequency of its key, given
    its sample frequency :math:`f_k` and the estimate :math:`F_k = \sum w` of the population
    frequency (:func:`benedetti_franconi`), multiplied by ``qual``:

    .. math::

        r_i = \text{qual} \cdot E\left[\tfrac{1}{F} \,\middle|\, f_k(i), F_k(i)\right], \qquad
        \text{global risk} = \frac1n \sum_i r_i, \qquad
        \text{expected re-identifications} = \sum_i r_i

    With ``household``, the risk that a household (or sibling group) is re-identified through
    any member is :math:`1 - \prod_{i \in h} (1 - r_i)` [2]_.

    Parameters
    ----------
    data : table-like
    quasi_identifiers : sequence of str
    weights : str or array-like
        Sampling weights (required: without them the risk is simply ``1 / fk``), each at least
        1: a record stands for itself and possibly others, so weights below 1 (all zero, shares,
        booleans) would imply a population smaller than the sample and are refused.
    method : {"approx", "exact"}, default "approx"
    qual : float in (0, 1], default 1
        Final correction factor.
    household : str or array-like, optional
        A column (or array) of household / group ids for the hierarchical risk.
    missing : {"category", "raise", "wildcard"}, default "category"
    alpha : float in [0, 1], default 1
        Weight of a wildcard match (``missing="wildcard"`` only).

    Returns
    -------
    IndividualRiskResult

    References
    ----------
    .. [1] Franconi, L. and Polettini, S. (2004). Individual risk estimation in mu-Argus: a
       review. In *Privacy in Statistical Databases*, LNCS 3050, 262-272.
       https://doi.org/10.1007/978-3-540-25955-8_20
    .. [2] Templ, M., Kowarik, A. and Meindl, B. (2015). Statistical disclosure control for
       micro-data using the R package sdcMicro. *Journal of Statistical Software* 67(4).
       https://doi.org/10.18637/jss.v067.i04

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": ["F", "F", "M"], "w": [100.0, 100.0, 50.0]})
    >>> res = rc.individual_risk(df, ["sex"], weights="w")
    >>> [round(float(r), 6) for r in res.risk]   # fk=2, Fk=200; fk=1, Fk=50
    [0.009631, 0.009631, 0.079837]
    """
    func = "individual_risk"
    method = check_choice(method, "method", METHODS, func)
    qual = check_share(qual, "qual", func)
    alpha = check_alpha(alpha, func)
    if weights is None:
        raise InvalidParameterError(
            f"The 'weights' parameter of {func} is required: the individual risk needs sampling "
            "weights (without them use uniqueness(), whose risk is 1 / fk)."
        )
    enc, part, w = prepare(
        data, quasi_identifiers, func=func, missing=missing, weights=weights, wildcard=True
    )
    check_sampling_weights(w, func)
    fk, Fk = record_frequencies(enc, part, missing, w, alpha)
    if missing == "wildcard":
        risk = qual * benedetti_franconi(fk, Fk, method)
    else:
        # The risk is a function of the class: evaluate it once per class.
        labels, n_labels = part.labels()
        class_fk = np.bincount(labels, minlength=n_labels)
        class_Fk = np.bincount(labels, weights=w, minlength=n_labels)
        risk = qual * benedetti_franconi(class_fk, class_Fk, method)[labels]
    hh = None
    if household is not None:
        groups = _household_ids(data, enc, household, func)
        hh = household_risk(risk, groups)
    return IndividualRiskResult(
        part.columns, missing, method, qual, part.n_records, risk, fk, Fk, hh, enc.index
    )


def household_risk(risk: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """``1 - prod(1 - r)`` over each group, returned per record."""
    inverse, ids = pd.factorize(np.asarray(groups))
    with np.errstate(divide="ignore"):
        logs = np.log1p(-np.minimum(risk, 1.0))
    total = np.bincount(inverse, weights=logs, minlength=len(ids))
    return 1.0 - np.exp(total)[inverse]


def _household_ids(data, enc, household, func) -> np.ndarray:
    if isinstance(household, str):
        if household in enc:
            col = enc[household]
        elif isinstance(data, EncodedTable):
            raise InvalidParameterError(
                f"The 'household' parameter of {func} names {household!r}, which the encoded table "
                f"does not hold. Encode it too: encode(data, [..., {household!r}])."
            )
        else:
            col = as_encoded(data, [household], func=func, name="household")[household]
        if col.n_missing:
            raise InvalidParameterError(
                f"The household column {household!r} has {col.n_missing} missing value(s): every "
                "record needs a household id."
            )
        return col.codes
    groups = np.asarray(household)
    if groups.shape != (enc.n_records,):
        raise InvalidParameterError(
            f"The 'household' parameter of {func} must have one id per record ({enc.n_records}). "
            f"Got shape {groups.shape} instead."
        )
    if pd.isna(groups).any():
        raise InvalidParameterError(f"The 'household' parameter of {func} holds missing ids.")
    return groups
