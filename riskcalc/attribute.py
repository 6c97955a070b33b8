"""Attribute disclosure: what the equivalence classes reveal about a sensitive field.

k-anonymity protects against finding a pupil's *record*; it does not stop an intruder learning
the pupil's *sensitive value* (SEN status, free school meals, looked-after status, exclusions)
when every record in the pupil's class carries the same value, or when one value dominates the
class. This module measures that risk with the published models:

* :func:`l_diversity`: distinct, entropy and recursive (c, l)-diversity (Machanavajjhala et al.);
* :func:`t_closeness`: the earth mover's distance between each class's distribution of the
  sensitive value and the table's (Li, Li & Venkatasubramanian);
* :func:`beta_likeness`: basic and enhanced beta-likeness, the largest relative gain in belief
  (Cao & Karras);
* :func:`delta_disclosure`: delta-disclosure privacy, the largest log ratio (Brickell & Shmatikov);
* :func:`attribute_disclosure`: the headline for policy readers, per sensitive field: the
  records whose value their class reveals with certainty.

The core is computed once per (partition, sensitive field): the *class x value count table*,
stored sparsely as the non-empty cells ``(class, value, count)`` sorted by class then value.
It comes from one ``bincount`` of ``class_id * n_values + value_code`` when that key space is
small, otherwise from a hash count of the same key; every measure is then numpy arithmetic on
those cells (``bincount`` with weights, ``reduceat`` and ``searchsorted``), with no Python loop
over records, classes or values.

Missing sensitive values follow the library's ``missing=`` policy, applied to the
quasi-identifiers and the sensitive field alike: ``"category"`` (default) makes a missing value a
value of its own, equal to every other missing value of the field (so a class whose records are
all missing reveals that their value is missing, which is counted as a disclosure); ``"raise"``
raises :class:`~riskcalc.exceptions.MissingValueError`. No result prints values of the
quasi-identifiers or of the sensitive field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _format as fmt
from ._core.backend import backend_for
from ._core.crosstab import ClassValueTable, class_value_table
from ._core.encoding import EncodedColumn
from ._core.partition import check_no_missing
from ._render import Displayed, RecordFrames
from ._typing import Fields, MissingPolicy, TableLike
from ._validation import check_bool, check_column_name, check_missing_policy, check_positive
from .exceptions import InvalidParameterError

__all__ = [
    "AttributeDisclosureResult",
    "BetaLikenessResult",
    "DeltaDisclosureResult",
    "LDiversityResult",
    "TClosenessResult",
    "attribute_disclosure",
    "beta_likeness",
    "delta_disclosure",
    "l_diversity",
    "t_closeness",
]

# --------------------------------------------------------------------------------------------
# The core: the sparse class x value count table (riskcalc._core.crosstab)
# --------------------------------------------------------------------------------------------

_Cells = ClassValueTable


def _cross_products(cells: _Cells) -> tuple[np.ndarray, np.ndarray]:
    """``(count * n, class_size * table_count)`` per cell, so that ``q / p`` is their ratio.

    Both are exact integers (held as float64, exact below 2**53), so ``q == p`` gives a ratio
    of exactly 1 and a gain of exactly 0.
    """
    num = cells.count * np.int64(cells.n_records)
    den = cells.class_sizes[cells.cls] * cells.value_counts[cells.value]
    return num.astype(np.float64), den.astype(np.float64)


def _per_class_max(cells: _Cells, x: np.ndarray) -> np.ndarray:
    """The largest ``x`` over each class's cells."""
    if cells.n_classes == 0:
        return np.zeros(0, np.float64)
    return np.maximum.reduceat(x, cells.starts)


# --------------------------------------------------------------------------------------------
# Argument handling shared by the measures
# --------------------------------------------------------------------------------------------


def _check_fields(backend, quasi_identifiers, sensitive, func: str):
    """Validate the quasi-identifier and sensitive names against the table; return them as tuples.

    A sensitive field that is also a quasi-identifier is an error: its value would define the
    classes, so every class would be homogeneous.
    """
    qi = backend.names(quasi_identifiers, func=func)
    name = "sensitive" if func != "attribute_disclosure" else "sensitive_fields"
    sens = backend.names(sensitive, func=func, name=name)
    both = [s for s in sens if s in qi]
    if both:
        raise InvalidParameterError(
            f"The {name!r} parameter of {func} names {both[0]!r}, which is also one of the "
            "'quasi_identifiers'. A sensitive field cannot be a quasi-identifier: its value would "
            "define the classes, so every class would reveal it. Remove it from one of the lists."
        )
    return qi, sens


def _fields(data, quasi_identifiers, sensitive, *, func: str, missing: str, sep=None):
    """Validate the policy and the names; return ``(backend, qi, sensitive, missing)``."""
    missing = check_missing_policy(missing, func)
    backend = backend_for(data, func=func, sep=sep)
    qi, sens = _check_fields(backend, quasi_identifiers, sensitive, func)
    return backend, qi, sens, missing


def _prepare(data, quasi_identifiers, sensitive, *, func: str, missing: str, sep=None):
    """For the measures that read the records: validate; return ``(encoded, partition,
    [sensitive EncodedColumn, ...])`` (refused in one line where the records are not here)."""
    backend, qi, sens, missing = _fields(
        data, quasi_identifiers, sensitive, func=func, missing=missing, sep=sep
    )
    enc = backend.encoded(qi + sens, func=func)
    part = enc.partition(qi, missing)
    cols = [enc[s] for s in sens]
    if missing == "raise":
        check_no_missing(enc, cols)
    return enc, part, cols


def _cells_for(
    part, col: EncodedColumn, values: np.ndarray | None = None, n_values: int | None = None
) -> _Cells:
    if values is None:
        values, n_values = col.codes, col.n_levels
    return class_value_table(part.class_id, part.class_sizes, values, n_values)


# --------------------------------------------------------------------------------------------
# l-diversity
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LDiversityResult(RecordFrames):
    """Distinct, entropy and recursive (c, l)-diversity of a sensitive field.

    Attributes
    ----------
    quasi_identifiers : tuple of str
    sensitive : str
    missing : str
        The missing-value policy used (for the quasi-identifiers and the sensitive field).
    c : float or None
        The constant of recursive (c, l)-diversity, if requested.
    n_records, n_classes : int
    n_values : int
        Distinct sensitive values in the table (a missing value counts as one under
        ``missing="category"``).
    distinct_l : int
        The table's distinct l-diversity: the fewest distinct sensitive values in any class.
    entropy_l : float
        The table's entropy l-diversity: ``exp`` of the smallest class entropy.
    recursive_l : int or None
        The largest *l* for which every class satisfies recursive (c, l)-diversity (0 if even
        ``l = 1`` fails, which happens only for ``c <= 1``); ``None`` without ``c``.
    records_revealed, classes_homogeneous : int
        Records in, and number of, classes with a single sensitive value (``distinct l = 1``).
    distinct_l_per_record : numpy.ndarray of int64
        Distinct sensitive values in each record's class, in input row order.
    entropy_l_per_record : numpy.ndarray of float64
        ``exp(H)`` of each record's class, in input row order.
    recursive_l_per_record : numpy.ndarray of int64 or None
        Largest *l* satisfied by each record's class, in input row order.
    index : pandas.Index
        Labels of the records.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMFF"), "year": [7, 7, 7, 8, 8, 8],
    ...                    "fsm": [True, True, False, False, True, False]})
    >>> result = rc.l_diversity(df, ["sex", "year"], "fsm")
    >>> result.distinct_l, result.classes_homogeneous, result.is_l_diverse(2)
    (1, 3, False)
    """

    quasi_identifiers: tuple[str, ...]
    sensitive: str
    missing: str
    c: float | None
    n_records: int
    n_classes: int
    n_values: int
    distinct_l: int
    entropy_l: float
    recursive_l: int | None
    records_revealed: int
    classes_homogeneous: int
    distinct_l_per_record: np.ndarray = field(repr=False)
    entropy_l_per_record: np.ndarray = field(repr=False)
    recursive_l_per_record: np.ndarray | None = field(default=None, repr=False)
    index: pd.Index | None = field(default=None, repr=False)

    @property
    def records_revealed_share(self) -> float:
        """``records_revealed / n_records``."""
        return self.records_revealed / self.n_records

    def is_l_diverse(
        self,
        l: int,  # noqa: E741 (the l of l-diversity)
        kind: str = "distinct",
    ) -> bool:
        """Whether every class satisfies ``kind`` ("distinct", "entropy" or "recursive") l-diversity."""
        if kind == "distinct":
            return self.distinct_l >= l
        if kind == "entropy":
            return self.entropy_l >= l * (1 - 1e-12)
        if kind == "recursive":
            if self.recursive_l is None:
                raise InvalidParameterError(
                    "recursive (c, l)-diversity needs c: call l_diversity(..., c=...)."
                )
            return self.recursive_l >= l
        raise InvalidParameterError(
            "The 'kind' parameter of is_l_diverse must be one of 'distinct', 'entropy', "
            f"'recursive'. Got {kind!r} instead."
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per record (input order and index): distinct, entropy and recursive l."""
        data = {"distinct_l": self.distinct_l_per_record, "entropy_l": self.entropy_l_per_record}
        if self.recursive_l_per_record is not None:
            data["recursive_l"] = self.recursive_l_per_record
        return pd.DataFrame(data, index=self.index)

    def __repr__(self) -> str:
        rec = "" if self.c is None else f", recursive_l={self.recursive_l} (c={self.c:g})"
        return (
            f"LDiversityResult(sensitive={self.sensitive!r}, distinct_l={self.distinct_l}, "
            f"entropy_l={self.entropy_l:.4g}{rec}, records in homogeneous classes="
            f"{fmt.count_pct(self.records_revealed, self.n_records)}, "
            f"n_records={fmt.count(self.n_records)}, n_classes={fmt.count(self.n_classes)}, "
            f"missing={self.missing!r})"
        )


def l_diversity(
    data: TableLike,
    quasi_identifiers: Fields,
    sensitive: str,
    *,
    c: float | None = None,
    missing: MissingPolicy = "category",
    sep: str | None = None,
) -> LDiversityResult:
    r"""Distinct, entropy and recursive (c, l)-diversity of a sensitive field.

    For an equivalence class :math:`E` with :math:`m` distinct sensitive values whose counts,
    in decreasing order, are :math:`r_1 \ge r_2 \ge \dots \ge r_m` (:math:`n_E = \sum r_i`):

    .. math::

        l_{\text{distinct}}(E) = m, \qquad
        l_{\text{entropy}}(E) = \exp\Big(-\sum_{i} \frac{r_i}{n_E}\ln\frac{r_i}{n_E}\Big),

    and :math:`E` satisfies recursive :math:`(c, l)`-diversity when
    :math:`r_1 < c\,(r_l + r_{l+1} + \dots + r_m)` [1]_. The table's levels are the minima over
    classes; for recursive diversity the level reported is the largest *l* that every class
    satisfies at the given *c*.

    In words: distinct l counts the different sensitive values a pupil's look-alikes carry; an
    intruder who matches a pupil to a class with ``l = 1`` learns the pupil's value for
    certain. Entropy l is the "effective number" of values (``exp`` of the entropy, so two
    equally common values give 2, a 99/1 split gives about 1.06). Recursive (c, l) asks that
    the most common value is not too dominant over the rest.

    Parameters
    ----------
    data : table-like
    quasi_identifiers : sequence of str
    sensitive : str
        The sensitive column. It must not be one of ``quasi_identifiers``.
    c : float, optional
        The constant of recursive (c, l)-diversity (a positive number); omit to skip it.
    missing : {"category", "raise"}, default "category"
        For the quasi-identifiers and the sensitive field: ``"category"`` makes a missing value
        a value of its own; ``"raise"`` raises on any missing value.
    sep : str, optional
        CSV delimiter, for a path.

    Returns
    -------
    LDiversityResult

    See Also
    --------
    attribute_disclosure, t_closeness

    Notes
    -----
    The entropy is taken with natural logarithms and reported as ``exp(H)``, so it is on the
    scale of ``l`` (Machanavajjhala et al. require :math:`H(E) \ge \log l`). A class of one
    record, or of records with one value, has every level equal to 1. Recursive (c, l) with
    ``l`` larger than the class's number of values fails (the right-hand sum is empty), so
    ``recursive_l <= distinct_l``; for ``c <= 1`` even ``l = 1`` can fail, giving 0.
    Distinct l per record is sdcMicro's ``ldiversity`` distinct measure (checked on the SDC
    Practice Guide's table 4.3). Two differences from pyCANON: its ``entropy_l_diversity``
    truncates ``exp(H)`` to an integer (here it is kept as a real number), and its
    ``recursive_c_l_diversity`` sorts the counts *ascending*, so its :math:`r_1` is the least
    frequent value, and it returns a *c* for the distinct *l* rather than the *l* for a given
    *c*; here :math:`r_1` is the most frequent value, as in the paper [1]_.

    References
    ----------
    .. [1] Machanavajjhala, A., Kifer, D., Gehrke, J. and Venkitasubramaniam, M. (2007).
       l-diversity: privacy beyond k-anonymity. *ACM Transactions on Knowledge Discovery from
       Data* 1(1), 3. https://doi.org/10.1145/1217299.1217302
    .. [2] Templ, M., Kowarik, A. and Meindl, B. (2015). Statistical disclosure control for
       micro-data using the R package sdcMicro. *Journal of Statistical Software* 67(4).
       https://doi.org/10.18637/jss.v067.i04

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"year": [7, 7, 7, 8, 8], "fsm": ["y", "n", "n", "y", "y"]})
    >>> res = rc.l_diversity(df, ["year"], "fsm", c=3)
    >>> res.distinct_l_per_record.tolist(), res.distinct_l, res.records_revealed
    ([2, 2, 2, 1, 1], 1, 2)
    >>> import math; math.isclose(res.entropy_l_per_record[0], math.exp(-(1/3)*math.log(1/3) - (2/3)*math.log(2/3)))
    True
    """
    func = "l_diversity"
    sensitive = check_column_name(sensitive, func)
    if c is not None:
        c = check_positive(c, "c", func)
    backend, qi, sens, missing = _fields(
        data, quasi_identifiers, (sensitive,), func=func, missing=missing, sep=sep
    )
    (fig,) = backend.attribute_figures(qi, sens, missing=missing, func=func, entropy=True, c=c)
    class_id = fig.class_id  # None where the records stay remote: so are the per-record arrays

    def per_record(per_class):
        return None if class_id is None or per_class is None else per_class[class_id]

    return LDiversityResult(
        qi,
        sensitive,
        missing,
        c,
        fig.n_records,
        fig.n_classes,
        fig.n_values,
        fig.min_distinct,
        fig.min_entropy_l,
        fig.min_recursive_l,
        fig.records_homogeneous,
        fig.classes_homogeneous,
        per_record(fig.distinct_per_class),
        per_record(fig.entropy_l_per_class),
        per_record(fig.recursive_l_per_class),
        fig.index,
    )


# --------------------------------------------------------------------------------------------
# Per-class results (t-closeness, beta-likeness, delta-disclosure)
# --------------------------------------------------------------------------------------------


def _class_frame(name: str, values: np.ndarray, sizes: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {"class_size": sizes, name: values},
        index=pd.RangeIndex(sizes.shape[0], name="class"),
    )


def _record_frame(name: str, values, sizes, class_id, index) -> pd.DataFrame:
    """One row per record (input order and index): its class's size and figure ``name``."""
    if class_id is None:  # computed where the records stay (Spark): only per-table figures here
        raise InvalidParameterError(
            f"Per-record figures ({name}) were not computed: the records stayed where the data are "
            "(Spark). Measure the table in memory to have them."
        )
    return pd.DataFrame({"class_size": sizes[class_id], name: values[class_id]}, index=index)


def _records_over(per_class: np.ndarray, sizes: np.ndarray, threshold: float) -> int:
    return int(sizes[per_class > threshold].sum())


@dataclass(frozen=True, slots=True)
class TClosenessResult(RecordFrames):
    """t-closeness of a sensitive field: the earth mover's distance of each class to the table.

    Attributes
    ----------
    quasi_identifiers : tuple of str
    sensitive : str
    missing : str
    ordered : bool
        Whether the ordered distance (numeric or ordinal values) was used; otherwise the equal
        distance (nominal values).
    n_records, n_classes : int
    n_values : int
        Distinct sensitive values in the table, *m* in the formulas.
    t : float
        The table's t: the largest distance of any class. The table is t-close for this t and
        no smaller.
    records_at_t : int
        Records in the classes whose distance equals ``t`` (to rounding).
    emd : numpy.ndarray of float64
        Distance of each class (classes numbered as ``class_id``).
    class_sizes : numpy.ndarray of int64
    class_id : numpy.ndarray
        Class of each record, in input row order.
    index : pandas.Index

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMFF"), "year": [7, 7, 7, 8, 8, 8],
    ...                    "fsm": [True, True, False, False, True, False]})
    >>> result = rc.t_closeness(df, ["sex", "year"], "fsm")
    >>> round(result.t, 4), result.is_t_close(0.5)
    (0.5, True)
    """

    quasi_identifiers: tuple[str, ...]
    sensitive: str
    missing: str
    ordered: bool
    n_records: int
    n_classes: int
    n_values: int
    t: float
    records_at_t: int
    emd: np.ndarray = field(repr=False)
    class_sizes: np.ndarray = field(repr=False)
    class_id: np.ndarray = field(repr=False)
    index: pd.Index | None = field(default=None, repr=False)

    @property
    def emd_per_record(self) -> np.ndarray:
        """The distance of each record's class, in input row order."""
        return self.emd[self.class_id]

    def records_over(self, threshold: float) -> int:
        """Records in classes whose distance exceeds ``threshold`` (which violate t-closeness
        for ``t = threshold``)."""
        return _records_over(self.emd, self.class_sizes, threshold)

    def is_t_close(self, t: float) -> bool:
        """Whether every class is within distance ``t`` of the table."""
        return bool(self.t <= t + 1e-12)

    def records_frame(self) -> pd.DataFrame:
        """One row per record (input order and index): its class's size and emd (the table
        behind ``to_pandas()``, ``to_polars()`` and ``to_arrow()``)."""
        return _record_frame("emd", self.emd, self.class_sizes, self.class_id, self.index)

    def to_frame(self) -> pd.DataFrame:
        """One row per class: its size and distance (no values shown)."""
        return _class_frame("emd", self.emd, self.class_sizes)

    def __repr__(self) -> str:
        kind = "ordered" if self.ordered else "equal"
        return (
            f"TClosenessResult(sensitive={self.sensitive!r}, t={self.t:.4g}, distance={kind!r}, "
            f"records at t={fmt.count_pct(self.records_at_t, self.n_records)}, "
            f"n_values={self.n_values}, n_records={fmt.count(self.n_records)}, "
            f"n_classes={fmt.count(self.n_classes)}, missing={self.missing!r})"
        )


def t_closeness(
    data: TableLike,
    quasi_identifiers: Fields,
    sensitive: str,
    *,
    ordered: bool | None = None,
    missing: MissingPolicy = "category",
    sep: str | None = None,
) -> TClosenessResult:
    r"""t-closeness: how far each class's distribution of a sensitive field is from the table's.

    With :math:`p` the distribution of the sensitive value in the table and :math:`q_E` its
    distribution in class :math:`E`, over the :math:`m` distinct values, the distance is the
    earth mover's distance (EMD) of Li et al. [1]_:

    .. math::

        \text{equal (nominal):}\quad D(q_E, p) = \tfrac12 \sum_{i=1}^{m} |q_{E,i} - p_i|,
        \qquad
        \text{ordered:}\quad D(q_E, p) = \frac{1}{m-1} \sum_{i=1}^{m}
        \Big|\sum_{j=1}^{i} (q_{E,j} - p_j)\Big|,

    values indexed in increasing order for the ordered distance. The table is *t-close* when
    every class is within *t*; the ``t`` reported is the largest class distance.

    In words: 0 means a pupil's class looks exactly like the whole extract, so placing a
    pupil in their class teaches an intruder nothing about the field; the larger the distance,
    the more the class's make-up departs from the extract's (for the equal distance, the share
    of the class that would have to change value to match the extract).

    Parameters
    ----------
    data : table-like
    quasi_identifiers : sequence of str
    sensitive : str
    ordered : bool, optional
        ``True``: ordered distance (numeric or ordinal values); ``False``: equal distance
        (nominal values). By default, numbers, dates and times are ordered (categoricals too,
        when their categories are numbers) and everything else (text, booleans, categoricals of
        text) is nominal. Ordered values sort by value, except pandas categoricals, which keep
        their category order: make an ordinal text field such as SEN provision an ordered
        ``Categorical`` and pass ``ordered=True``.
    missing : {"category", "raise"}, default "category"
        With ``"category"`` a missing value is a value of its own; for the ordered distance it
        sorts after every other value.
    sep : str, optional

    Returns
    -------
    TClosenessResult

    See Also
    --------
    l_diversity, beta_likeness, delta_disclosure

    Notes
    -----
    *m* is the number of distinct values present in the table (unused categorical levels do
    not count), as in pyCANON. With :math:`m = 1` every distance is 0. Both distances lie in
    [0, 1]. The ordered formula is Li et al.'s closed form for the EMD under the ground
    distance :math:`|i - j| / (m - 1)`; the equal one is the EMD under the 0/1 ground distance
    (half the :math:`L_1` distance, the total variation distance).

    Computed on the sparse class x value table: for the ordered distance the cumulative
    class share is piecewise constant between the class's own values and the table's is
    increasing, so each piece is summed in closed form from prefix sums after one
    ``searchsorted``; the cost is O(cells log m), not O(classes x m).

    References
    ----------
    .. [1] Li, N., Li, T. and Venkatasubramanian, S. (2007). t-closeness: privacy beyond
       k-anonymity and l-diversity. In *Proc. 23rd IEEE International Conference on Data
       Engineering (ICDE)*, 106-115. https://doi.org/10.1109/ICDE.2007.367856
    .. [2] Sáinz-Pardo Díaz, J. and López García, Á. (2022). A Python library to check the
       level of anonymity of a dataset. *Scientific Data* 9, 785.
       https://doi.org/10.1038/s41597-022-01894-2

    Examples
    --------
    The salary example of Li et al.: the class {3, 4, 5}k is 0.375 from the table of nine
    salaries 3..11k, the class {6, 8, 11}k 0.167.

    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"zip": [1, 1, 1, 2, 2, 2, 3, 3, 3],
    ...                    "salary": [3, 4, 5, 6, 8, 11, 7, 9, 10]})
    >>> res = rc.t_closeness(df, ["zip"], "salary")
    >>> res.emd.round(4).tolist(), round(res.t, 3)
    ([0.375, 0.1667, 0.2361], 0.375)
    """
    func = "t_closeness"
    sensitive = check_column_name(sensitive, func)
    ordered = check_bool(ordered, "ordered", func, allow_none=True)
    backend, qi, _, missing = _fields(
        data, quasi_identifiers, (sensitive,), func=func, missing=missing, sep=sep
    )
    fig = backend.closeness_figures(qi, sensitive, ordered=ordered, missing=missing, func=func)
    return TClosenessResult(
        qi,
        sensitive,
        missing,
        fig.ordered,
        fig.n_records,
        fig.n_classes,
        fig.n_values,
        fig.t,
        fig.records_at_t,
        fig.emd_per_class,
        fig.class_sizes,
        fig.class_id,
        fig.index,
    )


@dataclass(frozen=True, slots=True)
class BetaLikenessResult(RecordFrames):
    """Basic or enhanced beta-likeness of a sensitive field.

    Attributes
    ----------
    quasi_identifiers : tuple of str
    sensitive : str
    missing : str
    enhanced : bool
        Whether the enhanced model (relative gain capped at :math:`-\\ln p`) was evaluated.
    n_records, n_classes : int
    beta : float
        The smallest beta for which the table satisfies (basic or enhanced) beta-likeness.
        ``inf`` for the enhanced model when some class exceeds its cap (no beta suffices).
    records_over_cap, classes_over_cap : int
        Enhanced model only (0 for basic): records in, and number of, classes where some value
        has :math:`q > p\\,(1 - \\ln p)`, which enhanced beta-likeness forbids whatever beta.
        Every homogeneous class is one of them.
    beta_per_class : numpy.ndarray of float64
        Largest relative gain of each class (``inf`` over the cap, enhanced model).
    class_sizes : numpy.ndarray of int64
    class_id : numpy.ndarray
    index : pandas.Index

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMFF"), "year": [7, 7, 7, 8, 8, 8],
    ...                    "fsm": [True, True, False, False, True, False]})
    >>> result = rc.beta_likeness(df, ["sex", "year"], "fsm")
    >>> result.beta
    1.0
    """

    quasi_identifiers: tuple[str, ...]
    sensitive: str
    missing: str
    enhanced: bool
    n_records: int
    n_classes: int
    beta: float
    records_over_cap: int
    classes_over_cap: int
    beta_per_class: np.ndarray = field(repr=False)
    class_sizes: np.ndarray = field(repr=False)
    class_id: np.ndarray = field(repr=False)
    index: pd.Index | None = field(default=None, repr=False)

    @property
    def beta_per_record(self) -> np.ndarray:
        """The beta of each record's class, in input row order."""
        return self.beta_per_class[self.class_id]

    def records_over(self, beta: float) -> int:
        """Records in classes violating beta-likeness for this ``beta``."""
        return _records_over(self.beta_per_class, self.class_sizes, beta)

    def records_frame(self) -> pd.DataFrame:
        """One row per record (input order and index): its class's size and beta (the table
        behind ``to_pandas()``, ``to_polars()`` and ``to_arrow()``)."""
        return _record_frame(
            "beta", self.beta_per_class, self.class_sizes, self.class_id, self.index
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per class: its size and beta (no values shown)."""
        return _class_frame("beta", self.beta_per_class, self.class_sizes)

    def __repr__(self) -> str:
        cap = ""
        if self.enhanced:
            cap = f", records over the -ln p cap={fmt.count_pct(self.records_over_cap, self.n_records)}"
        return (
            f"BetaLikenessResult(sensitive={self.sensitive!r}, beta={self.beta:.4g}, "
            f"enhanced={self.enhanced}{cap}, n_records={fmt.count(self.n_records)}, "
            f"n_classes={fmt.count(self.n_classes)}, missing={self.missing!r})"
        )


def beta_likeness(
    data: TableLike,
    quasi_identifiers: Fields,
    sensitive: str,
    *,
    enhanced: bool = False,
    missing: MissingPolicy = "category",
    sep: str | None = None,
) -> BetaLikenessResult:
    r"""Beta-likeness: the largest relative gain in an intruder's belief about a sensitive value.

    With :math:`p_i` the share of value :math:`i` in the table and :math:`q_{E,i}` its share in
    class :math:`E`, the relative distance is :math:`D(p_i, q_{E,i}) = (q_{E,i} - p_i) / p_i`.
    A class satisfies *basic* beta-likeness when :math:`D \le \beta` for every value with
    :math:`q_{E,i} > p_i`, and *enhanced* beta-likeness when [1]_

    .. math::

        D(p_i, q_{E,i}) \le \min\{\beta, -\ln p_i\} \quad \text{for every } i
        \text{ with } q_{E,i} > p_i .

    The ``beta`` reported is the smallest :math:`\beta` the table satisfies:
    :math:`\max_{E,i} D(p_i, q_{E,i})` for the basic model (0 when no class over-represents
    any value), and the same for the enhanced model *unless* some class breaks a cap
    :math:`D > -\ln p_i`, in which case no :math:`\beta` suffices and ``beta`` is ``inf``.

    In words: beta = 2 means that for some pupil, learning their class triples the intruder's
    belief that they have some value (from, say, 10% to 30%). The enhanced model also bounds
    the posterior :math:`q \le p(1 - \ln p) < 1` for every value, so a class that reveals any
    value with certainty fails it.

    Parameters
    ----------
    data : table-like
    quasi_identifiers : sequence of str
    sensitive : str
    enhanced : bool, default False
    missing : {"category", "raise"}, default "category"
    sep : str, optional

    Returns
    -------
    BetaLikenessResult

    See Also
    --------
    delta_disclosure, t_closeness

    Notes
    -----
    The enhanced criterion follows the paper's definition, as ARX implements it
    (``EnhancedBLikeness``: a class fails when ``(q - p) / p > min(beta, -ln p)``). pyCANON's
    ``enhanced_beta_likeness`` instead returns ``min(basic beta, -ln(min p))``, which is not
    the smallest beta satisfying the definition; its value is *not* reproduced here.

    References
    ----------
    .. [1] Cao, J. and Karras, P. (2012). Publishing microdata with a robust privacy guarantee.
       *Proceedings of the VLDB Endowment* 5(11), 1388-1399.
       https://doi.org/10.14778/2350229.2350255

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"year": [7, 7, 8, 8], "fsm": ["y", "n", "n", "n"]})
    >>> rc.beta_likeness(df, ["year"], "fsm").beta  # (1/2 - 1/4) / (1/4)
    1.0
    """
    func = "beta_likeness"
    sensitive = check_column_name(sensitive, func)
    enhanced = check_bool(enhanced, "enhanced", func)
    enc, part, (col,) = _prepare(
        data, quasi_identifiers, (sensitive,), func=func, missing=missing, sep=sep
    )
    cells = _cells_for(part, col)
    p = cells.p
    num, den = _cross_products(cells)
    gain = np.maximum((num - den) / den, 0.0)  # (q - p) / p, exact 0 when q == p
    over = np.zeros(cells.n_classes, dtype=bool)
    if enhanced:
        bad = gain > -np.log(p) * (1 + 1e-12)
        gain = np.where(bad, np.inf, gain)
        over = np.bincount(cells.cls, weights=bad, minlength=cells.n_classes) > 0
    per_class = _per_class_max(cells, gain)
    return BetaLikenessResult(
        part.columns,
        sensitive,
        missing,
        enhanced,
        part.n_records,
        part.n_classes,
        float(per_class.max()),
        int(cells.class_sizes[over].sum()),
        int(np.count_nonzero(over)),
        per_class,
        cells.class_sizes,
        part.class_id,
        enc.index,
    )


@dataclass(frozen=True, slots=True)
class DeltaDisclosureResult(RecordFrames):
    """delta-disclosure privacy of a sensitive field.

    Attributes
    ----------
    quasi_identifiers : tuple of str
    sensitive : str
    missing : str
    n_records, n_classes : int
    delta : float
        The largest :math:`|\\ln(q / p)|` over classes and the values present in them. The
        table is delta-disclosure private for every delta larger than this.
    records_at_delta : int
        Records in the classes reaching ``delta`` (to rounding).
    delta_per_class : numpy.ndarray of float64
    class_sizes : numpy.ndarray of int64
    class_id : numpy.ndarray
    index : pandas.Index

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMFF"), "year": [7, 7, 7, 8, 8, 8],
    ...                    "fsm": [True, True, False, False, True, False]})
    >>> result = rc.delta_disclosure(df, ["sex", "year"], "fsm")
    >>> round(result.delta, 4)
    0.6931
    """

    quasi_identifiers: tuple[str, ...]
    sensitive: str
    missing: str
    n_records: int
    n_classes: int
    delta: float
    records_at_delta: int
    delta_per_class: np.ndarray = field(repr=False)
    class_sizes: np.ndarray = field(repr=False)
    class_id: np.ndarray = field(repr=False)
    index: pd.Index | None = field(default=None, repr=False)

    @property
    def delta_per_record(self) -> np.ndarray:
        """The delta of each record's class, in input row order."""
        return self.delta_per_class[self.class_id]

    def records_over(self, delta: float) -> int:
        """Records in classes that are not delta-disclosure private for this ``delta``
        (classes with ``delta_per_class >= delta``, the definition's inequality being strict)."""
        return int(self.class_sizes[self.delta_per_class >= delta].sum())

    def records_frame(self) -> pd.DataFrame:
        """One row per record (input order and index): its class's size and delta (the table
        behind ``to_pandas()``, ``to_polars()`` and ``to_arrow()``)."""
        return _record_frame(
            "delta", self.delta_per_class, self.class_sizes, self.class_id, self.index
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per class: its size and delta (no values shown)."""
        return _class_frame("delta", self.delta_per_class, self.class_sizes)

    def __repr__(self) -> str:
        return (
            f"DeltaDisclosureResult(sensitive={self.sensitive!r}, delta={self.delta:.4g}, "
            f"records at delta={fmt.count_pct(self.records_at_delta, self.n_records)}, "
            f"n_records={fmt.count(self.n_records)}, n_classes={fmt.count(self.n_classes)}, "
            f"missing={self.missing!r})"
        )


def delta_disclosure(
    data: TableLike,
    quasi_identifiers: Fields,
    sensitive: str,
    *,
    missing: MissingPolicy = "category",
    sep: str | None = None,
) -> DeltaDisclosureResult:
    r"""delta-disclosure privacy: the largest log ratio of a class's share of a value to the table's.

    A class :math:`E` is :math:`\delta`-disclosure private when [1]_

    .. math::

        \Big|\ln \frac{q_{E,i}}{p_i}\Big| < \delta

    for every sensitive value :math:`i`, with :math:`q_{E,i}` and :math:`p_i` the value's
    shares in the class and in the table. The ``delta`` reported is the maximum of
    :math:`|\ln(q_{E,i}/p_i)|` over classes and the values *present* in each class.

    In words: ``exp(delta)`` is the largest factor by which learning a pupil's class multiplies
    (or divides) the intruder's belief that the pupil has some value.

    Parameters
    ----------
    data : table-like
    quasi_identifiers : sequence of str
    sensitive : str
    missing : {"category", "raise"}, default "category"
    sep : str, optional

    Returns
    -------
    DeltaDisclosureResult

    See Also
    --------
    beta_likeness, t_closeness

    Notes
    -----
    Values absent from a class are skipped, as pyCANON's ``delta_disclosure`` does. Under the
    letter of Brickell and Shmatikov's definition an absent value gives
    :math:`|\ln 0| = \infty`, so every class lacking some value of the table would have
    :math:`\delta = \infty`; the finite version measures the largest gain or loss of belief
    among the values a class does hold. Since the definition's inequality is strict, the table
    is delta-disclosure private for every delta *greater* than the one reported.

    References
    ----------
    .. [1] Brickell, J. and Shmatikov, V. (2008). The cost of privacy: destruction of
       data-mining utility in anonymized data publishing. In *Proc. 14th ACM SIGKDD*, 70-78.
       https://doi.org/10.1145/1401890.1401904

    Examples
    --------
    >>> import math, pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"year": [7, 7, 8, 8], "fsm": ["y", "n", "n", "n"]})
    >>> math.isclose(rc.delta_disclosure(df, ["year"], "fsm").delta, math.log(2))  # (1/2)/(1/4)
    True
    """
    func = "delta_disclosure"
    sensitive = check_column_name(sensitive, func)
    enc, part, (col,) = _prepare(
        data, quasi_identifiers, (sensitive,), func=func, missing=missing, sep=sep
    )
    cells = _cells_for(part, col)
    num, den = _cross_products(cells)
    ratio = np.abs(np.log(num / den))  # q / p = (count * n) / (size * table_count)
    per_class = _per_class_max(cells, ratio)
    delta = float(per_class.max())
    at = np.isclose(per_class, delta, rtol=1e-9, atol=1e-12)
    return DeltaDisclosureResult(
        part.columns,
        sensitive,
        missing,
        part.n_records,
        part.n_classes,
        delta,
        int(cells.class_sizes[at].sum()),
        per_class,
        cells.class_sizes,
        part.class_id,
        enc.index,
    )


# --------------------------------------------------------------------------------------------
# The headline: values revealed with certainty
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttributeDisclosureResult(Displayed):
    """Records whose sensitive value their class reveals with certainty, per sensitive field.

    Arrays hold one entry per field of ``sensitive_fields``, in order.

    Attributes
    ----------
    quasi_identifiers : tuple of str
    sensitive_fields : tuple of str
    missing : str
    n_records, n_classes : int
    records_revealed : numpy.ndarray of int64
        Records in homogeneous classes (every record of the class has the same value of the
        field): an intruder who places a pupil in the class learns the value for certain.
    records_revealed_nonunique : numpy.ndarray of int64
        Of those, records in homogeneous classes of two or more records: the value is revealed
        even though the pupil's record cannot be singled out (pure attribute disclosure).
    classes_homogeneous : numpy.ndarray of int64
        Homogeneous classes.
    distinct_l : numpy.ndarray of int64
        The table's distinct l-diversity for the field (1 exactly when some class is
        homogeneous).
    n_values : numpy.ndarray of int64
        Distinct values of the field in the table.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMFF"), "year": [7, 7, 7, 8, 8, 8],
    ...                    "fsm": [True, True, False, False, True, False]})
    >>> result = rc.attribute_disclosure(df, ["sex", "year"], ["fsm"])
    >>> result.to_frame()[["sensitive", "records_revealed"]]
      sensitive  records_revealed
    0       fsm                 4
    """

    quasi_identifiers: tuple[str, ...]
    sensitive_fields: tuple[str, ...]
    missing: str
    n_records: int
    n_classes: int
    records_revealed: np.ndarray = field(repr=False)
    records_revealed_nonunique: np.ndarray = field(repr=False)
    classes_homogeneous: np.ndarray = field(repr=False)
    distinct_l: np.ndarray = field(repr=False)
    n_values: np.ndarray = field(repr=False)

    @property
    def records_revealed_share(self) -> np.ndarray:
        """``records_revealed / n_records``, per field."""
        return self.records_revealed / self.n_records

    @property
    def classes_homogeneous_share(self) -> np.ndarray:
        """``classes_homogeneous / n_classes``, per field."""
        return self.classes_homogeneous / self.n_classes

    def to_frame(self) -> pd.DataFrame:
        """One row per sensitive field: counts, then shares (field names only, never values)."""
        return pd.DataFrame(
            {
                "sensitive": list(self.sensitive_fields),
                "n_records": np.full(len(self.sensitive_fields), self.n_records, dtype=np.int64),
                "records_revealed": self.records_revealed,
                "records_revealed_share": self.records_revealed_share,
                "records_revealed_nonunique": self.records_revealed_nonunique,
                "records_revealed_nonunique_share": self.records_revealed_nonunique
                / self.n_records,
                "classes_homogeneous": self.classes_homogeneous,
                "classes_homogeneous_share": self.classes_homogeneous_share,
                "distinct_l": self.distinct_l,
                "n_values": self.n_values,
            }
        )

    def __repr__(self) -> str:
        rows = "; ".join(
            f"{s}: {fmt.count_pct(r, self.n_records)}"
            for s, r in zip(self.sensitive_fields, self.records_revealed)
        )
        return (
            f"AttributeDisclosureResult(records whose value is revealed with certainty: {rows}; "
            f"n_records={fmt.count(self.n_records)}, n_classes={fmt.count(self.n_classes)}, "
            f"missing={self.missing!r})"
        )


def attribute_disclosure(
    data: TableLike,
    quasi_identifiers: Fields,
    sensitive_fields: Fields,
    *,
    missing: MissingPolicy = "category",
    sep: str | None = None,
) -> AttributeDisclosureResult:
    r"""How many pupils have a sensitive value that their class reveals with certainty.

    A class :math:`E` is *homogeneous* in a sensitive field when all its records share one
    value of the field (distinct l-diversity 1 [1]_). For each field:

    .. math::

        \text{records revealed} = \sum_{E :\, l(E) = 1} |E|, \qquad
        \text{share} = \frac{\text{records revealed}}{n}.

    In words: someone who knows a pupil's quasi-identifiers (say year group, sex, school) and
    that the pupil is in the extract finds the pupil's class; if everyone in that class has
    the same SEN status, they learn the pupil's SEN status without needing to find the record.
    ``records_revealed_nonunique`` counts those in classes of two or more, where the value
    leaks even though the record itself is not unique.

    Parameters
    ----------
    data : table-like
    quasi_identifiers : sequence of str
    sensitive_fields : str or sequence of str
        The sensitive columns, each measured on its own against the same classes. None may be a
        quasi-identifier.
    missing : {"category", "raise"}, default "category"
        ``"category"``: a missing value is a value of its own, so a class whose records are all
        missing is homogeneous (it reveals that the value is missing; for a field such as
        "exclusion reason" that is itself a disclosure).
    sep : str, optional

    Returns
    -------
    AttributeDisclosureResult

    See Also
    --------
    l_diversity

    References
    ----------
    .. [1] Machanavajjhala, A., Kifer, D., Gehrke, J. and Venkitasubramaniam, M. (2007).
       l-diversity: privacy beyond k-anonymity. *ACM Transactions on Knowledge Discovery from
       Data* 1(1), 3. https://doi.org/10.1145/1217299.1217302

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"year": [7, 7, 7, 8, 8, 9],
    ...                    "fsm": ["y", "n", "n", "y", "y", "n"],
    ...                    "sen": ["a", "a", "a", "b", "a", "a"]})
    >>> res = rc.attribute_disclosure(df, ["year"], ["fsm", "sen"])
    >>> res.records_revealed.tolist(), res.records_revealed_nonunique.tolist()
    ([3, 4], [2, 3])
    """
    func = "attribute_disclosure"
    fields = (sensitive_fields,) if isinstance(sensitive_fields, str) else sensitive_fields
    backend, qi, sens, missing = _fields(
        data, quasi_identifiers, fields, func=func, missing=missing, sep=sep
    )
    figs = backend.attribute_figures(qi, sens, missing=missing, func=func)

    def column(attr):
        return np.asarray([getattr(f, attr) for f in figs], dtype=np.int64)

    return AttributeDisclosureResult(
        qi,
        sens,
        missing,
        figs[-1].n_records,
        figs[-1].n_classes,
        column("records_homogeneous"),
        column("records_homogeneous_nonunique"),
        column("classes_homogeneous"),
        column("min_distinct"),
        column("n_values"),
    )
