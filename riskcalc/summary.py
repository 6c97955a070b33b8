"""One table of the basic risk measures for one set of quasi-identifiers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _format as fmt
from ._core.access import as_encoded
from ._provenance import provenance
from ._render import Displayed
from ._typing import Fields, RecordMissingPolicy, TableLike, Thresholds, Weights
from ._uniqueness import UniquenessResult, uniqueness
from ._validation import check_alpha, check_missing_policy, check_thresholds
from .frequencies import ClassSizesResult, class_sizes
from .kanon import DEFAULT_THRESHOLDS as K_THRESHOLDS
from .kanon import KAnonymityResult, k_anonymity
from .small_counts import DEFAULT_THRESHOLDS as COUNT_THRESHOLDS
from .small_counts import SmallCountResult, small_count_exposure

__all__ = ["RiskSummary", "risk_summary", "MEASURE_LABELS"]

#: Plain-English label of every measure in :meth:`RiskSummary.to_frame`.
MEASURE_LABELS = {
    "n_records": "records",
    "n_classes": "equivalence classes",
    "k": "k (smallest class size)",
    "n_unique": "sample uniques (fk = 1)",
    "n_pairs": "records in pairs (fk = 2)",
    "records_below": "records in classes below t (fk < t)",
    "classes_below": "classes below t (fk < t)",
    "cells_at_most": "cells with 0 < count <= t",
    "records_in_cells_at_most": "records in cells with count <= t",
    "average_risk": "average prosecutor risk (mean 1/fk)",
    "highest_risk": "highest prosecutor risk (1/min fk)",
    "estimated_population": "estimated population (sum of weights)",
    "records_below_weighted": "records with Fk < t (weighted)",
}


@dataclass(frozen=True, slots=True)
class RiskSummary(Displayed):
    """The basic measures for one set of quasi-identifiers, with provenance.

    Attributes
    ----------
    uniqueness : UniquenessResult
    k_anonymity : KAnonymityResult
    small_counts : SmallCountResult
    class_sizes : ClassSizesResult or None
        Present when sampling weights were given (holds ``Fk``).
    provenance : dict
        riskcalc version, parameters and a description of the input.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMFF"), "year": [7, 7, 7, 8, 8, 8],
    ...                    "fsm": [True, True, False, False, True, False]})
    >>> summary = rc.risk_summary(df, ["sex", "year"])
    >>> summary.to_frame().shape[0] > 0, summary.k_anonymity.k
    (True, 1)
    """

    uniqueness: UniquenessResult
    k_anonymity: KAnonymityResult
    small_counts: SmallCountResult
    class_sizes: ClassSizesResult | None = None
    provenance: dict = field(default_factory=dict, repr=False)

    @property
    def n_records(self) -> int:
        return self.uniqueness.n_records

    def to_frame(self) -> pd.DataFrame:
        """Tidy rows ``measure, threshold, value, share``.

        ``value`` is a count (or k, or a risk); ``share`` divides a count by its denominator
        (records, or classes for ``classes_below``, or cells for ``cells_at_most``) and is empty
        for k and the risks.
        """
        u, ka, sc = self.uniqueness, self.k_anonymity, self.small_counts
        n = u.n_records
        rows: list[tuple[str, int | None, float | None, float | None]] = [
            ("n_records", None, n, 1.0),
            ("n_classes", None, u.n_classes, u.n_classes / n),
            ("k", None, ka.k, None),
            ("n_unique", None, u.n_unique, u.unique_share),
            ("n_pairs", None, u.n_pairs, u.pair_share),
        ]
        for t, r, c in zip(ka.thresholds, ka.records_below, ka.classes_below):
            rows.append(("records_below", t, int(r), r / n))
            rows.append(("classes_below", t, int(c), c / u.n_classes))
        for t, c, r in zip(sc.thresholds, sc.cells_at_most, sc.records_in_cells_at_most):
            rows.append(("cells_at_most", t, int(c), c / sc.n_cells))
            rows.append(("records_in_cells_at_most", t, int(r), r / n))
        rows.append(("average_risk", None, u.average_risk, None))
        rows.append(("highest_risk", None, u.highest_risk, None))
        if self.class_sizes is not None and self.class_sizes.Fk is not None:
            rows.append(("estimated_population", None, self.class_sizes.weight_total, None))
            for t, r in zip(ka.thresholds, ka.records_below_weighted):
                rows.append(("records_below_weighted", t, int(r), r / n))
        return pd.DataFrame(
            {
                "measure": [r[0] for r in rows],
                "threshold": pd.array([r[1] for r in rows], dtype="Int64"),
                "value": pd.Series([_plain(r[2]) for r in rows], dtype=object),
                "share": np.array([np.nan if r[3] is None else r[3] for r in rows], dtype=float),
            }
        )

    def __repr__(self) -> str:
        u, ka = self.uniqueness, self.k_anonymity
        return (
            f"RiskSummary(quasi_identifiers=({fmt.qi_list(u.quasi_identifiers)}), "
            f"n_records={fmt.count(u.n_records)}, k={ka.k}, "
            f"sample_uniques={fmt.count_pct(u.n_unique, u.n_records)}, "
            f"average_risk={u.average_risk:.4g})"
        )


def _plain(value):
    """A Python int for whole counts, a float otherwise (so CSV shows ``4``, not ``4.0``)."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    return float(value)


def risk_summary(
    data: TableLike,
    quasi_identifiers: Fields,
    *,
    weights: Weights | None = None,
    k_thresholds: Thresholds = K_THRESHOLDS,
    count_thresholds: Thresholds = COUNT_THRESHOLDS,
    missing: RecordMissingPolicy = "category",
    alpha: float = 1.0,
    sep: str | None = None,
) -> RiskSummary:
    """Compute class sizes once and read every basic measure off them.

    Runs :func:`uniqueness`, :func:`k_anonymity` and :func:`small_count_exposure` (and
    :func:`class_sizes` with weights) on one encoding and one partition.

    Parameters
    ----------
    data : table-like
    quasi_identifiers : sequence of str
    weights : str or array-like, optional
        Sampling weights (adds ``Fk``-based rows).
    k_thresholds : sequence of int, default (2, 3, 5, 10)
    count_thresholds : sequence of int, default (1, 2, 3, 5, 10)
    missing : {"category", "raise", "wildcard"}, default "category"
        With ``"wildcard"`` the record measures use sdcMicro's matching rule; the small cells of
        the frequency table always count missing values as a cell of their own.
    alpha : float in [0, 1], default 1
        Weight of a wildcard match.
    sep : str, optional
        CSV delimiter when ``data`` is a CSV path.

    Returns
    -------
    RiskSummary

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMF"), "year": [7, 7, 7, 8, 8]})
    >>> summary = rc.risk_summary(df, ["sex", "year"])
    >>> summary
    RiskSummary(quasi_identifiers=(sex, year), n_records=5, k=1, sample_uniques=3 (60.00%), average_risk=0.8)
    >>> summary.k_anonymity.k, summary.uniqueness.n_unique
    (1, 3)
    """
    func = "risk_summary"
    k_thresholds = check_thresholds(k_thresholds, "k_thresholds", func)
    count_thresholds = check_thresholds(count_thresholds, "count_thresholds", func)
    missing = check_missing_policy(missing, func, wildcard=True)
    alpha = check_alpha(alpha, func)
    enc = as_encoded(data, quasi_identifiers, func=func, weights=weights, sep=sep)
    qi = (quasi_identifiers,) if isinstance(quasi_identifiers, str) else tuple(quasi_identifiers)
    sizes = (
        class_sizes(enc, qi, weights=weights, missing=missing, alpha=alpha)
        if weights is not None
        else None
    )
    params = {
        "quasi_identifiers": list(qi),
        "weights": weights if isinstance(weights, str) or weights is None else "array",
        "k_thresholds": list(k_thresholds),
        "count_thresholds": list(count_thresholds),
        "missing": missing,
        "alpha": alpha,
    }
    return RiskSummary(
        uniqueness(enc, qi, missing=missing, alpha=alpha),
        k_anonymity(
            enc, qi, thresholds=k_thresholds, weights=weights, missing=missing, alpha=alpha
        ),
        small_count_exposure(
            enc,
            qi,
            thresholds=count_thresholds,
            missing="category" if missing == "wildcard" else missing,
        ),
        sizes,
        provenance(func, params, data, enc),
    )
