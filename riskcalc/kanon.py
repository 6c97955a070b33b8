"""k-anonymity: the smallest class, and the records and classes below chosen thresholds."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _format as fmt
from ._core.backend import backend_for
from ._core.histogram import weighted_below
from ._render import Displayed
from ._typing import Fields, RecordMissingPolicy, TableLike, Thresholds, Weights
from ._validation import check_alpha, check_missing_policy, check_thresholds

__all__ = ["KAnonymityResult", "k_anonymity"]

DEFAULT_THRESHOLDS = (2, 3, 5, 10)


@dataclass(frozen=True, slots=True)
class KAnonymityResult(Displayed):
    """The k-anonymity level of a table and its violations at several thresholds.

    Attributes
    ----------
    quasi_identifiers : tuple of str
    missing : str
        The missing-value policy used.
    n_records, n_classes : int
    k : int
        Size of the smallest equivalence class: the table is k-anonymous for this k and no
        larger.
    thresholds : tuple of int
        The thresholds ``t`` examined, ascending.
    records_below, classes_below : numpy.ndarray of int64
        Records in classes with ``fk < t``, and those classes, per threshold. These records
        violate t-anonymity.
    records_below_weighted : numpy.ndarray of int64 or None
        With sampling weights: records whose estimated population frequency ``Fk < t``
        (sdcMicro's ``kAnon_violations(weighted=TRUE)``).

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMFF"), "year": [7, 7, 7, 8, 8, 8],
    ...                    "fsm": [True, True, False, False, True, False]})
    >>> result = rc.k_anonymity(df, ["sex", "year"], thresholds=[2, 3])
    >>> result.k, result.is_k_anonymous(2)
    (1, False)
    >>> result.records_below.tolist(), result.records_below_share.tolist()
    ([2, 6], [0.3333333333333333, 1.0])
    """

    quasi_identifiers: tuple[str, ...]
    missing: str
    n_records: int
    n_classes: int
    k: float
    thresholds: tuple[int, ...]
    records_below: np.ndarray = field(repr=False)
    classes_below: np.ndarray = field(repr=False)
    records_below_weighted: np.ndarray | None = field(default=None, repr=False)

    @property
    def records_below_share(self) -> np.ndarray:
        """``records_below / n_records``."""
        return self.records_below / self.n_records

    @property
    def classes_below_share(self) -> np.ndarray:
        """``classes_below / n_classes``."""
        return self.classes_below / self.n_classes

    def is_k_anonymous(self, k: int) -> bool:
        """Whether every class has at least ``k`` records."""
        return self.k >= k

    def to_frame(self) -> pd.DataFrame:
        """One row per threshold: records and classes below it, counts then shares."""
        frame = pd.DataFrame(
            {
                "threshold": np.asarray(self.thresholds, dtype=np.int64),
                "records_below": self.records_below,
                "records_below_share": self.records_below_share,
                "classes_below": self.classes_below,
                "classes_below_share": self.classes_below_share,
            }
        )
        if self.records_below_weighted is not None:
            frame["records_below_weighted"] = self.records_below_weighted
            frame["records_below_weighted_share"] = self.records_below_weighted / self.n_records
        return frame

    def __repr__(self) -> str:
        rows = "; ".join(
            f"fk<{t}: {fmt.count_pct(r, self.n_records)}"
            for t, r in zip(self.thresholds, self.records_below)
        )
        return (
            f"KAnonymityResult(k={self.k}, n_records={fmt.count(self.n_records)}, "
            f"n_classes={fmt.count(self.n_classes)}, records below: {rows})"
        )


def k_anonymity(
    data: TableLike,
    quasi_identifiers: Fields,
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    weights: Weights | None = None,
    missing: RecordMissingPolicy = "category",
    alpha: float = 1.0,
) -> KAnonymityResult:
    r"""k-anonymity level and the records violating it at each threshold.

    A table is *k-anonymous* on a set of quasi-identifiers when every combination of their
    values that occurs is shared by at least *k* records [1]_:

    .. math::

        k = \min_i f_k(i), \qquad
        \text{violations}(t) = \#\{i : f_k(i) < t\}

    In words: *k* is the size of the smallest group of look-alike records; a record in a group
    smaller than *t* is one an intruder could narrow down to fewer than *t* candidates.

    Parameters
    ----------
    data : table-like
    quasi_identifiers : sequence of str
    thresholds : sequence of int, default (2, 3, 5, 10)
        Values of *t* (each at least 1).
    weights : str or array-like, optional
        Sampling weights; when given, ``records_below_weighted`` counts the records whose
        estimated population frequency :math:`F_k < t` as well.
    missing : {"category", "raise", "wildcard"}, default "category"
        With ``"wildcard"`` (sdcMicro ``freqCalc``), ``fk`` counts the records matching each
        record when a missing value matches anything; ``classes_below`` then counts distinct keys.
    alpha : float in [0, 1], default 1
        Weight of a wildcard match (``missing="wildcard"`` only).

    Returns
    -------
    KAnonymityResult

    See Also
    --------
    class_sizes, uniqueness

    References
    ----------
    .. [1] Sweeney, L. (2002). k-anonymity: a model for protecting privacy. *International
       Journal of Uncertainty, Fuzziness and Knowledge-Based Systems* 10(5), 557-570.
       https://doi.org/10.1142/S0218488502001648
    .. [2] Templ, M., Kowarik, A. and Meindl, B. (2015). Statistical disclosure control for
       micro-data using the R package sdcMicro. *Journal of Statistical Software* 67(4).
       https://doi.org/10.18637/jss.v067.i04

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMFF"), "year": [7, 7, 7, 7, 8, 8]})
    >>> res = rc.k_anonymity(df, ["sex", "year"], thresholds=[2, 3])
    >>> res.k, res.records_below.tolist()
    (2, [0, 6])
    """
    func = "k_anonymity"
    thresholds = check_thresholds(thresholds, func=func)
    alpha = check_alpha(alpha, func)
    missing = check_missing_policy(missing, func, wildcard=True)
    backend = backend_for(data, func=func)
    names = backend.names(quasi_identifiers, func=func)
    weighted = None
    if missing == "wildcard":
        sizes = backend.record_sizes(
            names, missing=missing, func=func, weights=weights, alpha=alpha
        )
        fk, class_id = sizes.fk, sizes.class_id
        class_fk = np.empty(sizes.n_classes)
        class_fk[class_id] = fk  # identical keys match identical records
        records = weighted_below(fk, thresholds)
        classes = weighted_below(class_fk, thresholds)
        k = float(fk.min())
        k = int(k) if k.is_integer() else k
        if weights is not None:
            weighted = weighted_below(sizes.Fk, thresholds)
        n_records, n_classes = sizes.n_records, sizes.n_classes
    else:
        if weights is None:
            hist = backend.size_histogram(names, missing=missing, func=func)
        else:
            hist, weighted = backend.weighted_below(
                names, weights, thresholds, missing=missing, func=func
            )
        classes, records = hist.classes_below(thresholds), hist.records_below(thresholds)
        k, n_records, n_classes = hist.k, hist.n_records, hist.n_classes
    return KAnonymityResult(
        names, missing, n_records, n_classes, k, thresholds, records, classes, weighted
    )
