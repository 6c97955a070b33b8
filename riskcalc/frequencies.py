"""Class sizes: how many records share each record's quasi-identifier values (``fk``, ``Fk``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _format as fmt
from ._core.backend import backend_for
from ._core.histogram import SizeHistogram
from ._render import RecordFrames
from ._typing import Fields, MissingPolicy, RecordMissingPolicy, TableLike, Weights
from ._validation import check_alpha, check_missing_policy

__all__ = ["ClassSizesResult", "class_sizes", "size_histogram", "SizeHistogram"]


@dataclass(frozen=True, slots=True)
class ClassSizesResult(RecordFrames):
    """Per-record class sizes, in input row order.

    Attributes
    ----------
    quasi_identifiers : tuple of str
    missing : str
        The missing-value policy used.
    n_records, n_classes : int
    fk : numpy.ndarray of int64 (float64 for fractional wildcard weights)
        Sample frequency of each record's key: the number of records sharing its values (with
        ``missing="wildcard"``, matching them).
    Fk : numpy.ndarray of float64 or None
        Estimated population frequency of each record's key: the sum of the sampling weights in
        its class. ``None`` without weights.
    index : pandas.Index
        Labels of the records, to align ``fk`` and ``Fk`` with the input.
    weight_total : float or None
        Sum of the weights: the estimated population size.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMFF"), "year": [7, 7, 7, 8, 8, 8],
    ...                    "fsm": [True, True, False, False, True, False]})
    >>> sizes = rc.class_sizes(df, ["sex", "year"])
    >>> sizes.fk.tolist()
    [2, 2, 1, 1, 2, 2]
    >>> sizes.to_frame().columns.tolist()
    ['fk']
    """

    quasi_identifiers: tuple[str, ...]
    missing: str
    n_records: int
    n_classes: int
    fk: np.ndarray = field(repr=False)
    Fk: np.ndarray | None = field(default=None, repr=False)
    index: pd.Index | None = field(default=None, repr=False)
    weight_total: float | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per record (input order and index): ``fk`` and, with weights, ``Fk``."""
        data = {"fk": self.fk}
        if self.Fk is not None:
            data["Fk"] = self.Fk
        return pd.DataFrame(data, index=self.index)

    def __repr__(self) -> str:
        extra = ""
        if self.Fk is not None:
            extra = f", Fk in [{self.Fk.min():g}, {self.Fk.max():g}]"
        return (
            f"ClassSizesResult(quasi_identifiers=({fmt.qi_list(self.quasi_identifiers)}), "
            f"n_records={fmt.count(self.n_records)}, n_classes={fmt.count(self.n_classes)}, "
            f"fk in [{self.fk.min()}, {self.fk.max()}]{extra}, missing={self.missing!r})"
        )


def class_sizes(
    data: TableLike,
    quasi_identifiers: Fields,
    *,
    weights: Weights | None = None,
    missing: RecordMissingPolicy = "category",
    alpha: float = 1.0,
) -> ClassSizesResult:
    r"""Sample frequency ``fk`` (and population estimate ``Fk``) of every record's key.

    The *key* of a record is its combination of values on the quasi-identifiers; its
    equivalence class is the set of records with the same key.

    .. math::

        f_k = \#\{j : x_j = x_i\}, \qquad F_k = \sum_{j : x_j = x_i} w_j

    In words: ``fk`` counts the records in the sample that look exactly like record *i* to an
    intruder who knows the quasi-identifiers; ``Fk`` estimates how many people in the
    population do, from the sampling weights (sdcMicro's ``freqCalc``).

    Parameters
    ----------
    data : table-like
        The records. Raw tables are encoded on the fly; pass an :class:`EncodedTable` from
        :func:`encode` to reuse the encoding across queries.
    quasi_identifiers : sequence of str
        The columns an intruder may know.
    weights : str or array-like, optional
        Sampling weights: a column name or one non-negative number per record.
    missing : {"category", "raise", "wildcard"}, default "category"
        Missing-value policy; see :func:`partition`. ``"wildcard"``: a missing value matches
        any value (sdcMicro ``freqCalc``); ``fk`` is then the number of records matching each
        record, and ``n_classes`` counts the distinct keys.
    alpha : float in [0, 1], default 1
        With ``missing="wildcard"``: the weight of a match made through a missing value
        (sdcMicro's ``alpha``); ``fk`` is a float when ``alpha`` is not 0 or 1.

    Returns
    -------
    ClassSizesResult
        For a Spark DataFrame: the DataFrame with the class size as a column ``fk`` (and, with
        ``weights``, ``weighted_fk``), computed on the cluster.

    See Also
    --------
    k_anonymity, uniqueness

    References
    ----------
    .. [1] Templ, M., Kowarik, A. and Meindl, B. (2015). Statistical disclosure control for
       micro-data using the R package sdcMicro. *Journal of Statistical Software* 67(4).
       https://doi.org/10.18637/jss.v067.i04

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMF"), "year": [7, 7, 7, 8, 8]})
    >>> rc.class_sizes(df, ["sex", "year"]).fk.tolist()
    [2, 2, 1, 1, 1]
    """
    func = "class_sizes"
    alpha = check_alpha(alpha, func)
    missing = check_missing_policy(missing, func, wildcard=True)
    backend = backend_for(data, func=func)
    names = backend.names(quasi_identifiers, func=func)
    sizes = backend.record_sizes(names, missing=missing, func=func, weights=weights, alpha=alpha)
    if (
        sizes.frame is not None
    ):  # the sizes stay where the data are: the user's table, with columns added
        return sizes.frame
    fk = sizes.fk
    if missing == "wildcard" and alpha in (0.0, 1.0):
        fk = np.rint(fk).astype(np.int64)
    return ClassSizesResult(
        sizes.columns,
        missing,
        sizes.n_records,
        sizes.n_classes,
        fk,
        sizes.Fk,
        sizes.index,
        sizes.total_weight,
    )


def size_histogram(
    data: TableLike, quasi_identifiers: Fields, *, missing: MissingPolicy = "category"
) -> SizeHistogram:
    r"""The class-size histogram of a table on its quasi-identifiers.

    The sufficient statistic of every sample measure (ARX's ``RiskModelHistogram``): the
    number of equivalence classes of each size,

    .. math::

        c_s = \#\{E : |E| = s\}, \qquad n = \sum_s s\, c_s,

    from which k, the sample uniques and pairs, the records and classes below (or at most) any
    threshold, the average prosecutor risk and the population estimators all follow.

    Parameters
    ----------
    data : table-like
    quasi_identifiers : sequence of str
    missing : {"category", "raise"}, default "category"

    Returns
    -------
    SizeHistogram

    References
    ----------
    .. [1] Prasser, F., Kohlmayer, F. et al. (2016). Lightning: utility-driven anonymization of
       high-dimensional data. *Transactions on Data Privacy* 9(2), 161-185 (ARX's risk
       histogram).

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> h = rc.size_histogram(pd.DataFrame({"sex": list("FFMMF")}), ["sex"])
    >>> h.sizes.tolist(), h.counts.tolist(), h.k, h.n_unique
    ([2, 3], [1, 1], 2, 0)
    """
    func = "size_histogram"
    missing = check_missing_policy(missing, func)
    backend = backend_for(data, func=func)
    return backend.size_histogram(
        backend.names(quasi_identifiers, func=func), missing=missing, func=func
    )
