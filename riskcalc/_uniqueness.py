"""Sample uniqueness and the prosecutor risk read off class sizes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _format as fmt
from ._core.backend import backend_for
from ._render import Displayed
from ._typing import Fields, RecordMissingPolicy, TableLike
from ._validation import check_alpha, check_missing_policy

__all__ = ["UniquenessResult", "uniqueness"]


@dataclass(frozen=True, slots=True)
class UniquenessResult(Displayed):
    """Sample uniques, pairs and prosecutor risk.

    Attributes
    ----------
    quasi_identifiers : tuple of str
    missing : str
    n_records, n_classes : int
    n_unique : int
        Sample uniques ``n1``: records whose key no other record shares (``fk = 1``).
    n_pairs : int
        ``n2``: records in classes of exactly two (``fk = 2``), as sdcMicro counts them.
    average_risk : float
        Average prosecutor re-identification risk, the mean of ``1 / fk`` over records, which
        equals ``n_classes / n_records``.
    highest_risk : float
        Highest prosecutor risk, ``1 / min fk``.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMFF"), "year": [7, 7, 7, 8, 8, 8],
    ...                    "fsm": [True, True, False, False, True, False]})
    >>> result = rc.uniqueness(df, ["sex", "year"])
    >>> result.n_unique, result.unique_share, result.average_risk
    (2, 0.3333333333333333, 0.6666666666666666)
    """

    quasi_identifiers: tuple[str, ...]
    missing: str
    n_records: int
    n_classes: int
    n_unique: int
    n_pairs: int
    average_risk: float
    highest_risk: float

    @property
    def unique_share(self) -> float:
        """``n_unique / n_records``."""
        return self.n_unique / self.n_records

    @property
    def pair_share(self) -> float:
        """``n_pairs / n_records``."""
        return self.n_pairs / self.n_records

    @property
    def expected_reidentifications(self) -> float:
        """Records a prosecutor would re-identify on average: ``n_records * average_risk``,
        which is the number of classes."""
        return float(self.n_classes)

    def to_frame(self) -> pd.DataFrame:
        """One row: counts, then shares, then risks."""
        return pd.DataFrame(
            [
                {
                    "n_records": self.n_records,
                    "n_classes": self.n_classes,
                    "n_unique": self.n_unique,
                    "unique_share": self.unique_share,
                    "n_pairs": self.n_pairs,
                    "pair_share": self.pair_share,
                    "average_risk": self.average_risk,
                    "highest_risk": self.highest_risk,
                }
            ]
        )

    def __repr__(self) -> str:
        return (
            f"UniquenessResult(n_unique={fmt.count_pct(self.n_unique, self.n_records)}, "
            f"n_pairs={fmt.count_pct(self.n_pairs, self.n_records)}, "
            f"average_risk={self.average_risk:.4g}, highest_risk={self.highest_risk:.4g}, "
            f"n_records={fmt.count(self.n_records)})"
        )


def uniqueness(
    data: TableLike,
    quasi_identifiers: Fields,
    *,
    missing: RecordMissingPolicy = "category",
    alpha: float = 1.0,
) -> UniquenessResult:
    r"""Sample uniques, pairs, and average and highest prosecutor risk.

    .. math::

        n_1 = \#\{i : f_k(i) = 1\}, \quad n_2 = \#\{i : f_k(i) = 2\}, \quad
        \bar r = \frac{1}{n}\sum_i \frac{1}{f_k(i)} = \frac{C}{n}, \quad
        r_{\max} = \frac{1}{\min_i f_k(i)}

    where *n* is the number of records and *C* the number of equivalence classes.

    In words: a sample unique is a pupil no other record resembles on the quasi-identifiers. A
    *prosecutor* knows their target is in the extract, picks at random among the records that
    match, and so succeeds with probability ``1 / fk`` [1]_; the average over records is the
    expected share re-identified, and the highest is that of the smallest class.

    Parameters
    ----------
    data : table-like
    quasi_identifiers : sequence of str
    missing : {"category", "raise", "wildcard"}, default "category"
        With ``"wildcard"``, ``fk`` counts the records matching each record when a missing value
        matches anything, and the average risk is the mean of ``1 / fk``.
    alpha : float in [0, 1], default 1
        Weight of a wildcard match (``missing="wildcard"`` only).

    Returns
    -------
    UniquenessResult

    See Also
    --------
    k_anonymity, class_sizes

    References
    ----------
    .. [1] El Emam, K. and Dankar, F. K. (2008). Protecting privacy using k-anonymity.
       *Journal of the American Medical Informatics Association* 15(5), 627-637.
       https://doi.org/10.1197/jamia.M2716
    .. [2] Prasser, F. and Kohlmayer, F. (2015). Putting statistical disclosure control into
       practice: the ARX data anonymization tool. In *Medical Data Privacy Handbook*, 111-148.
       https://doi.org/10.1007/978-3-319-23633-9_6

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMF"), "year": [7, 7, 7, 8, 8]})
    >>> res = rc.uniqueness(df, ["sex", "year"])
    >>> res.n_unique, res.n_pairs, res.average_risk  # 4 classes / 5 records
    (3, 2, 0.8)
    """
    func = "uniqueness"
    alpha = check_alpha(alpha, func)
    missing = check_missing_policy(missing, func, wildcard=True)
    backend = backend_for(data, func=func)
    names = backend.names(quasi_identifiers, func=func)
    if missing == "wildcard":
        sizes = backend.record_sizes(names, missing=missing, func=func, alpha=alpha)
        fk = sizes.fk
        return UniquenessResult(
            names,
            missing,
            sizes.n_records,
            sizes.n_classes,
            int(np.count_nonzero(np.isclose(fk, 1.0))),
            int(np.count_nonzero(np.isclose(fk, 2.0))),
            float(np.mean(1.0 / fk)),
            1.0 / float(fk.min()),
        )
    hist = backend.size_histogram(names, missing=missing, func=func)
    return UniquenessResult(
        names,
        missing,
        hist.n_records,
        hist.n_classes,
        hist.n_unique,
        hist.n_pairs,
        hist.average_risk,
        hist.highest_risk,
    )
