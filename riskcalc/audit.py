"""Audit suppressed and rounded frequency tables: what can an attacker still work out?

A releaser publishes linked frequency tables (school x sex, school x FSM, ... sharing the school
totals) after suppressing small cells and/or rounding. For every suppressed or rounded cell this
module computes the attacker's *feasible interval* ``[lower, upper]``: the smallest and largest
value of the cell over all non-negative tables that agree with everything published,

.. math::

    \\underline{x}_c = \\min x_c, \\quad \\overline{x}_c = \\max x_c
    \\quad \\text{s.t.} \\quad A x = 0 \\text{ (shared margins agree)},\\;
    x_j = v_j \\text{ (published cells)},\\; l_j \\le x_j \\le u_j \\text{ (suppressed / rounded)}.

``A`` has one row for each group of every pair of linked tables (the sum of table 1 over the
group equals the sum of table 2 over it). Published cells are moved to the right-hand side, so
the programmes hold only the unknown cells.

What each symbol tells an attacker who knows the rule (published with the tables, as DfE and
ONS do): the set of counts the policy would publish the same way (:func:`_protect`).

* ``c`` (suppressed): ``[suppress_from, suppress_below - 1]`` (``[1, 4]`` under "suppress below
  5"; ``[0, 4]`` when zeros are suppressed too); ``[0, inf)`` when the rule is not known.
* A published number without rounding: that count. Under rounding, a 0 is exact (a non-zero
  count rounding to 0 is shown as ``low``).
* ``r`` rounded to base ``b`` (halves up): ``[max(ceil(r - b/2), 0), ceil(r + b/2) - 1]``, and
  ``low`` is ``[1, ceil(b/2) - 1]``; then without the counts the rule would have suppressed. Under
  "suppress 1-4, round to 5" a 5 is in ``[5, 7]``, not ``[3, 7]``: 3 and 4 would have been ``c``.
* A secondary suppression (``suppressed=`` column, shown as ``c``): any count the rule would not
  have suppressed, ``{0, ..., suppress_from - 1}`` and ``[suppress_below, inf)`` (the attacker is
  assumed to tell secondary from primary suppressions: the worst case).
* Margins: exact, or protected by the same rule (``margins="policy"``), each margin cell its own
  variable with its own set.

Each set is one run of integers or, for secondary suppressions and for custom policies whose
suppressed range lies strictly inside a rounding interval (``suppress_from >= 2``), two runs with
a gap. ``[lower, upper]`` is the smallest and largest count over all *integer* tables consistent
with the release: the hull of the cell's feasible values. Values inside it may still be ruled out
(a gap in the cell's own set, or an integer gap of a non-unimodular system); the verdict reads the
width ``upper - lower`` only.

This is the classical *audit* of a cell-suppression pattern (Fischetti & Salazar-Gonzalez 2001;
Hundepool et al. 2012, section 4.4). Secondary-suppression advice is out of scope (tau-Argus).

Solving. The constraint graph (cells joined by a shared total) splits into connected
components, typically one per school x year group x sex. Components are independent, so one
programme that minimises the sum of *one target cell per component* gives every component's
minimum at once: solve round ``r`` with the ``r``-th unknown cell of every component still
holding one, for ``min`` and for ``max``. The number of HiGHS calls is twice the largest number
of unknown cells in one component (more when some components need integer programmes), not
twice the number of cells. Components with a single unknown cell are solved in closed form.

``method="auto"`` (the default) is exact. When every table is linked through one set of common
dimensions (the tier 3 layout: each table's cells in a school x year x sex group sum to that
group's total) and no cell's set has a gap, the intervals have a closed form, exact for
integers. Otherwise each round solves the LP relaxation (:func:`scipy.optimize.linprog`, HiGHS)
and keeps a component's optimum where the LP solution is integral on that component (an integer
table then attains the LP bound, which bounds the integer optimum); components with a
fractional solution, or with a cell whose set has a gap, are solved again as integer programmes
(:func:`scipy.optimize.milp`, a binary per gap choosing its side). ``method="milp"`` solves every
component as an integer programme. ``method="lp"`` keeps the LP relaxation, gaps bridged, bounds
rounded inwards: its interval contains the exact one and may be wider, so it may understate what
an attacker can narrow a cell to.

References
----------
.. [1] Fischetti, M. and Salazar-Gonzalez, J.J. (2001). Solving the cell suppression problem on
   tabular data with linear constraints. Management Science 47(7), 1008-1027.
   https://doi.org/10.1287/mnsc.47.7.1008.9805
.. [2] Hundepool, A. et al. (2012). Statistical Disclosure Control. Wiley.
   https://doi.org/10.1002/9781118348239
.. [3] Government Statistical Service (2024). Symbols in tables, definitions and help
   (``c`` confidential, ``low``, ``x`` unavailable, ``z`` not applicable).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, NamedTuple

import numpy as np
import pandas as pd

from . import _render
from ._compat import numeric_view
from ._core.grouping import group_codes
from ._labels import column_codes
from ._labels import group_codes as group_codes_labelled
from ._lazy import lazy_module
from ._provenance import code_identity
from ._render import Displayed
from ._validation import check_choice, check_int
from .exceptions import InvalidParameterError, MissingColumnError

if TYPE_CHECKING:
    import scipy.sparse as sp
else:
    sp = lazy_module("scipy.sparse")

__all__ = [
    "SuppressionPolicy",
    "POLICIES",
    "policy",
    "apply_policy",
    "audit_tables",
    "AuditResult",
    "AuditRelease",
    "INTERNAL_NOTICE",
    "tier3_audit",
    "TIER3_AUDIT_COLUMNS",
]

_FUNC = "audit_tables"
_TOL = 1e-6

#: Columns of :func:`tier3_audit`.
TIER3_AUDIT_COLUMNS = [
    "table",
    "policy",
    "cells",
    "pupils",
    "suppressed",
    "rounded",
    "exact_cells",
    "narrow_cells",
    "pupils_exact",
    "pupils_exposed",
]

#: Columns of :attr:`AuditResult.cells`. No count column, but the intervals bracket the true counts
#: (an exact cell's interval is its count): internal.
CELL_COLUMNS = [
    "table",
    "cell",
    "status",
    "shown",
    "lower",
    "upper",
    "width",
    "protection",
    "verdict",
    "reason",
]


@dataclass(frozen=True)
class SuppressionPolicy:
    """How a releaser protects a frequency table before publishing it.

    A cell with true count ``n`` is shown as:

    - ``symbol`` (suppressed) if ``suppress_from <= n < suppress_below``;
    - otherwise, when ``round_to > 1``, ``n`` rounded to the nearest multiple of ``round_to``
      (halves up), or ``low_symbol`` when that is 0 but ``n > 0`` (GSS ``low``);
    - otherwise ``n``.

    A zero is never rounded away: it is shown as 0 (or suppressed when ``suppress_from == 0``).
    Read backwards, each symbol is a set of counts (the module notes): under "suppress 1-4,
    round to 5" a ``c`` is 1-4, a 5 is 5-7 and a 10 is 8-12.

    Parameters
    ----------
    name : str
        Label used in reports.
    suppress_below : int, default 0
        Cells with ``suppress_from <= n < suppress_below`` are suppressed (0: no suppression).
    suppress_from : int, default 1
        Smallest suppressed count (1 publishes zeros; 0 suppresses them too).
    round_to : int, default 1
        Rounding base (1: no rounding).
    symbol, low_symbol : str
        GSS symbols shown for suppressed cells (``c``) and non-zero cells rounding to 0 (``low``).
    margins : {"exact", "policy"}
        Whether the published totals (margins) are exact or protected by the same rule.
    protection : int, optional
        A cell fails when its feasible interval is narrower (``upper - lower < protection``).
        Default: the width the rule itself promises, ``suppress_below - 1 - suppress_from`` for a
        suppressed cell and ``round_to - 1`` for a rounded one, ``ceil(round_to / 2) - 2`` for a
        ``low`` one. A symbol can promise less than that on its own (a 5 under "suppress 1-4,
        round to 5" is 5-7, width 2): such a cell fails by the rule.
    attacker_knows_rule : bool, default True
        The attacker knows the rule (published with the table, as DfE and ONS do), so a
        suppressed cell is known to lie in ``[suppress_from, suppress_below - 1]`` and a rounded
        one outside it. When False, a suppressed cell is only known to be ``>= 0`` and a rounded
        one to round to the value shown (the base is plain from the figures).

    Examples
    --------
    >>> import pandas as pd
    >>> from riskcalc.audit import apply_policy, policy
    >>> t = pd.DataFrame({"g": ["a", "b", "c", "d"], "count": [0, 3, 6, 12]})
    >>> apply_policy(t, policy("dfe_suppress_below_5_round_5"))["shown"].tolist()
    ['0', 'c', '5', '10']
    """

    name: str = "custom"
    suppress_below: int = 0
    suppress_from: int = 1
    round_to: int = 1
    symbol: str = "c"
    low_symbol: str = "low"
    margins: str = "exact"
    protection: int | None = None
    attacker_knows_rule: bool = True

    def __post_init__(self):
        func = "SuppressionPolicy"
        check_int(self.suppress_below, "suppress_below", func, minimum=0)
        check_int(self.suppress_from, "suppress_from", func, minimum=0)
        check_int(self.round_to, "round_to", func, minimum=1)
        check_choice(self.margins, "margins", ("exact", "policy"), func)
        if self.protection is not None:
            check_int(self.protection, "protection", func, minimum=0)
        for name in ("symbol", "low_symbol", "name"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise InvalidParameterError(
                    f"The {name!r} parameter of {func} must be a non-empty str. "
                    f"Got {getattr(self, name)!r} instead."
                )

    @property
    def suppresses(self) -> bool:
        return self.suppress_below > self.suppress_from

    def suppressed_bounds(self) -> tuple[float, float]:
        """A-priori interval of a suppressed cell."""
        if not self.attacker_knows_rule:
            return 0.0, np.inf
        return float(self.suppress_from), float(self.suppress_below - 1)

    def protection_for(self, status: np.ndarray) -> np.ndarray:
        """Protection level (minimum interval width) of each audited cell, from its status
        (``"published"``, ``"suppressed"``, ``"rounded"`` or ``"low"``)."""
        return self._protection_for_codes(_status_codes(np.asarray(status, dtype=object)))

    def _protection_for_codes(self, codes: np.ndarray) -> np.ndarray:
        if self.protection is not None:
            return np.full(codes.shape, self.protection, dtype=np.int64)
        supp = max(self.suppress_below - 1 - self.suppress_from, 0)
        low = max(math.ceil(self.round_to / 2) - 2, 0)
        per_status = np.array([self.round_to - 1, supp, self.round_to - 1, low], dtype=np.int64)
        return per_status[codes]


def _presets() -> dict[str, SuppressionPolicy]:
    p = SuppressionPolicy
    out = [
        p("dfe_suppress_below_5", suppress_below=5),
        p("dfe_suppress_1_2", suppress_below=3),
        p("dfe_round_5", round_to=5, margins="policy"),
        p("dfe_round_10", round_to=10, margins="policy"),
        p("dfe_suppress_below_5_round_5", suppress_below=5, round_to=5, margins="policy"),
        p("ons_srs_10", suppress_below=10),
    ]
    return {q.name: q for q in out}


#: DfE-like and ONS SRS presets, by name.
POLICIES: dict[str, SuppressionPolicy] = _presets()


def policy(name: str, **changes) -> SuppressionPolicy:
    """A preset from :data:`POLICIES`, optionally with fields changed (``protection=2``)."""
    check_choice(name, "name", tuple(POLICIES), "policy")
    return dataclasses.replace(POLICIES[name], **changes) if changes else POLICIES[name]


def _check_policy(value, func: str) -> SuppressionPolicy:
    if isinstance(value, str):
        return policy(value)
    if not isinstance(value, SuppressionPolicy):
        raise InvalidParameterError(
            f"The 'policy' parameter of {func} must be a SuppressionPolicy or one of "
            f"{list(POLICIES)}. Got {type(value).__name__} instead."
        )
    return value


#: Cell statuses, by the integer code the audit computes with.
STATUS_NAMES = ("published", "suppressed", "rounded", "low")
_PUBLISHED, _SUPPRESSED, _ROUNDED, _LOW = range(4)


def _status_codes(status: np.ndarray) -> np.ndarray:
    """Status names -> their codes in :data:`STATUS_NAMES`."""
    codes = np.full(status.shape, _PUBLISHED, dtype=np.int8)
    for code, name in enumerate(STATUS_NAMES[1:], start=1):
        codes[status == name] = code
    return codes


class _Prior(NamedTuple):
    """What the published release tells the attacker about each cell, before any total is used:
    the status code (:data:`STATUS_NAMES`), the shown value (nan where a symbol), the hull
    ``[lo, hi]`` of the values the symbol allows and, where those values are not one run of
    integers, the excluded run ``[gap_lo, gap_hi]`` strictly inside it (nan where none)."""

    status: np.ndarray
    shown: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    gap_lo: np.ndarray
    gap_hi: np.ndarray


def _minus(lo: np.ndarray, hi: np.ndarray, s0: float, s1: float):
    """``[lo, hi]`` without the integers ``[s0, s1]``: the hull and the gap left inside it (nan
    where none). ``[lo, hi]`` never lies inside ``[s0, s1]`` (the cell's true value is outside)."""
    overlap = (s0 <= hi) & (s1 >= lo)
    covers_low = overlap & (s0 <= lo)
    covers_high = overlap & (s1 >= hi)
    new_lo = np.where(covers_low, s1 + 1, lo)
    new_hi = np.where(covers_high, s0 - 1, hi)
    inside = overlap & ~covers_low & ~covers_high
    return new_lo, new_hi, np.where(inside, s0, np.nan), np.where(inside, s1, np.nan)


def _protect(counts: np.ndarray, pol: SuppressionPolicy, exact: bool = False) -> _Prior:
    """The attacker's a-priori knowledge of each cell (:class:`_Prior`) under ``pol``: the
    set of counts that the policy would publish with the same symbol or number.

    * published (no rounding, not suppressed): the count itself;
    * suppressed: ``[suppress_from, suppress_below - 1]`` (``[0, inf)`` when the attacker does
      not know the rule);
    * rounded to ``r`` (base ``b``, halves up): ``[max(ceil(r - b/2), 0), ceil(r + b/2) - 1]``,
      ``low``: ``[1, ceil(b/2) - 1]``, a 0 is exact; then, when the attacker knows the rule, minus
      the counts the policy suppresses (they would have been shown as ``c``): under "suppress
      1-4, round to 5" a 5 is in ``[5, 7]``, not ``[3, 7]``. What is left is one run of integers,
      or two when the suppressed range lies strictly inside (a custom ``suppress_from >= 2``).
    """
    n = counts.astype(np.float64)
    status = np.full(counts.shape, _PUBLISHED, dtype=np.int8)
    shown = n.copy()
    lo, hi = n.copy(), n.copy()
    gap_lo, gap_hi = np.full(n.shape, np.nan), np.full(n.shape, np.nan)
    if exact:
        return _Prior(status, shown, lo, hi, gap_lo, gap_hi)
    supp = (
        (counts >= pol.suppress_from) & (counts < pol.suppress_below)
        if pol.suppresses
        else np.zeros(counts.shape, bool)
    )
    if pol.round_to > 1:
        b = pol.round_to
        r = np.floor(n / b + 0.5) * b  # halves up
        rounded = ~supp & (counts > 0)  # a zero is shown as 0: exact under the low convention
        status[rounded] = _ROUNDED
        shown[rounded] = r[rounded]
        plo = np.maximum(np.ceil(r - b / 2), 0)
        phi = np.ceil(r + b / 2) - 1
        low = rounded & (r == 0)
        status[low] = _LOW
        shown[low] = np.nan
        plo[low] = 1
        if pol.suppresses and pol.attacker_knows_rule:
            plo, phi, glo, ghi = _minus(plo, phi, pol.suppress_from, pol.suppress_below - 1)
            gap_lo[rounded], gap_hi[rounded] = glo[rounded], ghi[rounded]
        lo[rounded], hi[rounded] = plo[rounded], phi[rounded]
    status[supp] = _SUPPRESSED
    shown[supp] = np.nan
    slo, shi = pol.suppressed_bounds()
    lo[supp], hi[supp] = slo, shi
    return _Prior(status, shown, lo, hi, gap_lo, gap_hi)


def _shown_text(status: np.ndarray, shown: np.ndarray, pol: SuppressionPolicy) -> np.ndarray:
    text = np.where(np.isnan(shown), "", np.char.mod("%d", np.nan_to_num(shown).astype(np.int64)))
    text = text.astype(object)
    text[status == _SUPPRESSED] = pol.symbol
    text[status == _LOW] = pol.low_symbol
    return text


#: Verdicts of an audited cell, by code.
VERDICTS = ("exact", "narrow", "protected")
_DIFFERENCING = "differencing: the only unknown cell in a published total"
_LINKED = "linked tables: pinned by several published totals together"
_RULE = "the rule: the symbol shown, read with the policy, leaves only this interval"
_RULE_EXACT = "the rule: the symbol shown, read with the policy, leaves one value"
_NARROWER = "; interval narrower than the protection level"
_REASONS = (
    "",
    _DIFFERENCING,
    _LINKED,
    _DIFFERENCING + _NARROWER,
    _LINKED + _NARROWER,
    _RULE_EXACT,
    _RULE + _NARROWER,
)


def _secondary_prior(pol: SuppressionPolicy, n: int):
    """A-priori hull and gap of ``n`` secondary suppressions (shown as ``c`` but not below the
    threshold): every count the rule would not suppress, ``[0, suppress_from - 1]`` and
    ``[suppress_below, inf)``; ``[0, inf)`` when the attacker does not know the rule."""
    lo, hi = np.zeros(n), np.full(n, np.inf)
    glo, ghi = np.full(n, np.nan), np.full(n, np.nan)
    if pol.suppresses and pol.attacker_knows_rule:
        if pol.suppress_from == 0:
            lo[:] = pol.suppress_below
        else:
            glo[:], ghi[:] = pol.suppress_from, pol.suppress_below - 1
    return lo, hi, glo, ghi


def _texts(names, codes: np.ndarray) -> np.ndarray:
    """The names of ``codes`` as an object array of text."""
    return np.asarray(names, dtype=object)[codes]


def _categories(names, codes: np.ndarray) -> pd.Categorical:
    """The names of ``codes`` as a categorical (cheap for millions of cells)."""
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(names), dtype=object))


def _check_table(name: str, table, count: str) -> list[str]:
    if not isinstance(table, pd.DataFrame):
        raise InvalidParameterError(
            f"Table {name!r} passed to {_FUNC} must be a pandas DataFrame. Got {type(table).__name__} instead."
        )
    if count not in table.columns:
        raise MissingColumnError(f"Table {name!r} passed to {_FUNC} has no count column {count!r}.")
    values = table[count]
    if not pd.api.types.is_numeric_dtype(numeric_view(values.dtype)) or values.isna().any():
        raise InvalidParameterError(
            f"The count column {count!r} of table {name!r} must hold whole numbers without gaps."
        )
    v = values.to_numpy(dtype=np.float64)
    if (v < 0).any() or not np.all(np.floor(v) == v):
        raise InvalidParameterError(
            f"The count column {count!r} of table {name!r} must hold non-negative whole numbers."
        )
    dims = [c for c in table.columns if c != count]
    if not dims:
        raise InvalidParameterError(
            f"Table {name!r} passed to {_FUNC} has no dimension columns besides {count!r}."
        )
    return dims


def apply_policy(
    table: pd.DataFrame, policy: SuppressionPolicy | str, *, count: str = "count"
) -> pd.DataFrame:
    """The table as it would be published under ``policy``.

    Returns the dimension columns, ``shown`` (the published text: a number or a GSS symbol) and
    ``status`` (``published``, ``suppressed``, ``rounded`` or ``low``). The true count is not kept.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> table = pd.DataFrame({"sex": list("FM"), "count": [3, 12]})
    >>> rc.apply_policy(table, "dfe_suppress_below_5")
      sex shown      status
    0   F     c  suppressed
    1   M    12   published
    """
    pol = _check_policy(policy, "apply_policy")
    dims = _check_table("table", table, count)
    prior = _protect(table[count].to_numpy(dtype=np.int64), pol)
    out = table[dims].reset_index(drop=True).copy()
    out["shown"] = _shown_text(prior.status, prior.shown, pol)
    out["status"] = _texts(STATUS_NAMES, prior.status)
    return out


# ---------------------------------------------------------------------------------------------
# Constraint system
# ---------------------------------------------------------------------------------------------


def _joint_group(frames: list[pd.DataFrame], cols: list[str]) -> list[np.ndarray]:
    """Dense group ids of ``cols`` over several frames, consistent across them."""
    sizes = [len(f) for f in frames]
    if not cols:
        return [np.zeros(s, dtype=np.int64) for s in sizes]
    joint = [_joint_codes([f[c] for f in frames]) for c in cols]
    # One mixed-radix key and one grouping (the engine's kernels); any numbering will do.
    ids, _ = group_codes([codes for codes, _ in joint], [n_codes for _, n_codes in joint])
    return np.split(ids.astype(np.int64), np.cumsum(sizes)[:-1])


def _joint_codes(columns: list[pd.Series]) -> tuple[np.ndarray, int]:
    """One code per value of the concatenated ``columns`` (equal values, equal codes): hashed
    as integers when every column holds integers without gaps (the codes tier 3 passes) or
    categories of one dtype (their codes), else as Python objects."""
    if all(pd.api.types.is_integer_dtype(numeric_view(c.dtype)) and not c.hasnans for c in columns):
        joined = np.concatenate([c.to_numpy(dtype=np.int64) for c in columns])
    elif all(
        isinstance(c.dtype, pd.CategoricalDtype) and c.dtype == columns[0].dtype for c in columns
    ):
        joined = np.concatenate(
            [c.cat.codes.to_numpy(dtype=np.int64) for c in columns]
        )  # -1: missing
    else:  # one category per value, and one for every blank (NaN, None, NA, "", spaces): riskcalc._labels
        joined = pd.concat(
            [c.reset_index(drop=True).astype(object) for c in columns], ignore_index=True
        )
        codes, texts = column_codes(joined)
        return codes, len(texts)
    codes, uniques = pd.factorize(joined, use_na_sentinel=False)
    return codes, len(uniques)


def _links(dims: list[list[str]]) -> list[tuple[int, int, list[str]]]:
    """Pairs of tables to link and their common dimensions, through one hub per common set."""
    common_sets: dict[tuple[str, ...], list[int]] = {}
    for i in range(len(dims)):
        for j in range(i + 1, len(dims)):
            common = tuple(c for c in dims[i] if c in dims[j])
            for t in (i, j):
                members = common_sets.setdefault(common, [])
                if t not in members:
                    members.append(t)
    links: list[tuple[int, int, list[str]]] = []
    for common, members in common_sets.items():
        hubs = [t for t in members if tuple(sorted(dims[t])) == tuple(sorted(common))]
        hub = hubs[0] if hubs else members[0]
        links.extend((hub, t, list(common)) for t in members if t != hub)
    return links


#: The line that heads every output holding what the audit knows about protected cells.
INTERNAL_NOTICE = (
    "INTERNAL: contains the true counts of suppressed and rounded cells (their feasible "
    "intervals); do not release."
)

#: Columns of :attr:`AuditRelease.failing`: no interval, width or count.
RELEASE_CELL_COLUMNS = ["table", "cell", "status", "shown", "verdict", "reason"]
#: Columns of :attr:`AuditRelease.tables`: cell counts only, no pupils.
RELEASE_TABLE_COLUMNS = [
    "table",
    "margin",
    "cells",
    "suppressed",
    "rounded",
    "exact_cells",
    "narrow_cells",
]


#: The audit reports' column heads.
_REPORT_HEADS = {
    "exact_cells": "exact",
    "narrow_cells": "narrow",
    "pupils_exact": "pupils in exact cells",
    "pupils_exposed": "pupils exposed",
}


def _policy_dict(policy: SuppressionPolicy) -> dict:
    return {k: getattr(policy, k) for k in policy.__dataclass_fields__}


def _mark(frame: pd.DataFrame, internal: bool) -> pd.DataFrame:
    frame.attrs["internal"] = internal
    frame.attrs["disclosive"] = internal
    return frame


@dataclass(frozen=True)
class AuditResult(Displayed):
    """Feasible intervals of every suppressed or rounded cell of linked tables.

    **Internal.** The intervals bracket the true counts the policy protects (an ``exact`` cell's
    interval *is* its count), and ``pupils_exact`` / ``pupils_exposed`` are sums of true
    counts: nothing here may leave the releaser. :meth:`for_release` gives the failing cells
    without any of it. The frames carry ``attrs["internal"] = attrs["disclosive"] = True``.

    Attributes
    ----------
    cells : pandas.DataFrame
        One row per audited cell (:data:`CELL_COLUMNS`): table, the cell's dimension values as
        text, its status and shown text, the feasible ``lower``/``upper`` bound, ``width``,
        ``verdict`` (``exact``, ``narrow`` or ``protected``) and the reason.
    tables : pandas.DataFrame
        Per table: cells, pupils, suppressed, rounded, exact and narrow cells, pupils in the
        exact cells (``pupils_exact``) and pupils exposed (true pupils in cells narrower than
        the protection level, exact ones included).
    policy : SuppressionPolicy
    method : str
        How the intervals were found: the closed form, linprog or milp.
    n_solves : int
        Number of HiGHS calls.
    milp_cells : int
        Audited cells whose minimum or maximum needed an integer programme (``method="auto"``:
        the LP optimum was fractional, or the cell's a-priori values have a gap).

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> table = pd.DataFrame({"sex": list("FM"), "count": [3, 12]})
    >>> audit = rc.audit_tables(table, "dfe_suppress_below_5")  # no total published with it
    >>> audit
    AuditResult(policy='dfe_suppress_below_5', tables=1, audited_cells=1, exact=0, narrower_than_protection=0, pupils_exposed=0; INTERNAL: holds true counts, not for release)
    >>> audit.n_audited, audit.n_exact  # one suppressed cell, not recoverable
    (1, 0)
    """

    cells: pd.DataFrame = field(repr=False)
    tables: pd.DataFrame = field(repr=False)
    policy: SuppressionPolicy
    method: str
    n_solves: int
    milp_cells: int = 0

    #: Holds true counts (intervals of protected cells, pupils in them): never release.
    internal: ClassVar[bool] = True

    @property
    def n_audited(self) -> int:
        return len(self.cells)

    @property
    def n_exact(self) -> int:
        return int((self.cells["verdict"] == "exact").sum())

    @property
    def n_narrow(self) -> int:
        return int((self.cells["verdict"] != "protected").sum())

    @property
    def pupils_exposed(self) -> int:
        return int(self.tables["pupils_exposed"].sum())

    @property
    def failing(self) -> pd.DataFrame:
        """The audited cells that fail (exact or narrower than protection), with the reason."""
        return _mark(self.cells[self.cells["verdict"] != "protected"].reset_index(drop=True), True)

    def to_frame(self) -> pd.DataFrame:
        """:attr:`cells` (a copy, marked ``attrs["internal"] = True``)."""
        return _mark(self.cells.copy(), True)

    def for_release(self) -> AuditRelease:
        """The failing cells and per-table cell counts without intervals, widths or pupils.

        Everything in it follows from the published tables and the policy alone (two true
        tables with the same publication give the same release view), so it can be attached to
        an output request.

        Examples
        --------
        >>> import pandas as pd, riskcalc as rc
        >>> t = pd.DataFrame({"school": ["A", "A"], "sex": ["F", "M"], "count": [3, 20]})
        >>> r = rc.audit_tables({"t": t}, "dfe_suppress_below_5",
        ...                     margins={"tot": pd.DataFrame({"school": ["A"], "count": [23]})})
        >>> r.for_release().failing[["cell", "shown", "verdict"]].to_dict("records")
        [{'cell': 'school=A, sex=F', 'shown': 'c', 'verdict': 'exact'}]
        """
        failing = self.cells.loc[
            self.cells["verdict"] != "protected", RELEASE_CELL_COLUMNS
        ].reset_index(drop=True)
        tables = self.tables[RELEASE_TABLE_COLUMNS].reset_index(drop=True)
        return AuditRelease(
            failing=_mark(failing, False), tables=_mark(tables, False), policy=self.policy
        )

    def to_markdown(self, provenance: dict) -> str:
        """The internal report (``riskcalc audit-tables``): a summary per table and the failing
        cells with their feasible intervals (an exact cell's *is* its true count). INTERNAL.

        Parameters
        ----------
        provenance : dict
            The run's provenance (its ``riskcalc_version`` is shown).

        Examples
        --------
        >>> import pandas as pd, riskcalc as rc
        >>> t = pd.DataFrame({"school": ["A", "A"], "sex": ["F", "M"], "count": [3, 20]})
        >>> r = rc.audit_tables({"t": t}, "dfe_suppress_below_5",
        ...                     margins={"tot": pd.DataFrame({"school": ["A"], "count": [23]})})
        >>> r.to_markdown({"riskcalc_version": "x"}).splitlines()[2]
        '# Table audit (dfe_suppress_below_5): INTERNAL'
        """
        lines = [
            f"{INTERNAL_NOTICE} For an output request use `riskcalc audit-tables --for-release`.",
            "",
            f"# Table audit ({self.policy.name}): INTERNAL",
            "",
            f"- tables: {len(self.tables)}; audited cells (suppressed or rounded): {self.n_audited}",
            f"- exactly recoverable: {self.n_exact}; narrower than protection (exact included): {self.n_narrow}",
            f"- solver: {self.method}; HiGHS calls: {self.n_solves}",
            f"- riskcalc {code_identity(provenance)}",
            "",
            # the shared renderer escapes every cell: a table's file name or a category is text
            _render.to_markdown(
                self.tables[
                    [
                        "table",
                        "cells",
                        "suppressed",
                        "rounded",
                        "exact_cells",
                        "narrow_cells",
                        "pupils_exact",
                        "pupils_exposed",
                    ]
                ].rename(columns=_REPORT_HEADS)
            ),
        ]
        fail = self.failing
        lines += [f"## Failing cells ({len(fail)})", ""]
        if len(fail):
            # "lower to upper": no bracket for Markdown to escape
            shown = fail.head(200).assign(
                interval=lambda f: f["lower"].astype(str) + " to " + f["upper"].astype(str)
            )
            lines.append(
                _render.to_markdown(
                    shown[["table", "cell", "shown", "interval", "verdict", "reason"]]
                )
            )
            if len(fail) > 200:
                lines.append(f"\n({len(fail) - 200} more in internal_audit_cells.csv)")
        return "\n".join(lines) + "\n"

    def to_json(self, provenance: dict) -> str:
        """The internal report as JSON: the notice, provenance, policy, the per-table summary
        and every audited cell. INTERNAL."""
        doc = {
            "internal": True,
            "disclosive": True,
            "notice": INTERNAL_NOTICE,
            "provenance": provenance,
            "policy": _policy_dict(self.policy),
            "tables": self.tables.to_dict("records"),
            "cells": json.loads(self.cells.to_json(orient="records")),
        }
        return json.dumps(doc, indent=2, default=int) + "\n"

    def __repr__(self) -> str:
        return (
            f"AuditResult(policy={self.policy.name!r}, tables={len(self.tables)}, "
            f"audited_cells={self.n_audited}, exact={self.n_exact}, "
            f"narrower_than_protection={self.n_narrow}, pupils_exposed={self.pupils_exposed}; "
            "INTERNAL: holds true counts, not for release)"
        )


@dataclass(frozen=True)
class AuditRelease:
    """What an audit found, for an output request: no interval, width or count.

    Attributes
    ----------
    failing : pandas.DataFrame
        The failing cells (:data:`RELEASE_CELL_COLUMNS`): table, cell, status, the published
        text, verdict and reason.
    tables : pandas.DataFrame
        Per table (:data:`RELEASE_TABLE_COLUMNS`): cells, suppressed, rounded, exact and narrow
        cells.
    policy : SuppressionPolicy
    """

    failing: pd.DataFrame = field(repr=False)
    tables: pd.DataFrame = field(repr=False)
    policy: SuppressionPolicy

    internal: ClassVar[bool] = False

    def to_markdown(self, provenance: dict) -> str:
        """The report for an output request (``riskcalc audit-tables --for-release``): which
        cells fail and why, nothing the tables hide.

        Parameters
        ----------
        provenance : dict
            The run's provenance (its ``riskcalc_version`` is shown).

        Examples
        --------
        >>> import pandas as pd, riskcalc as rc
        >>> t = pd.DataFrame({"school": ["A", "A"], "sex": ["F", "M"], "count": [3, 20]})
        >>> r = rc.audit_tables({"t": t}, "dfe_suppress_below_5",
        ...                     margins={"tot": pd.DataFrame({"school": ["A"], "count": [23]})})
        >>> r.for_release().to_markdown({"riskcalc_version": "x"}).splitlines()[0]
        '# Table audit (dfe_suppress_below_5): failing cells'
        """
        fail = self.failing
        lines = [
            f"# Table audit ({self.policy.name}): failing cells",
            "",
            (
                "For an output request: no interval, width or count of a protected cell; everything here "
                "follows from the published tables and the policy."
            ),
            "",
            (
                f"- tables: {len(self.tables)}; suppressed cells: {int(self.tables['suppressed'].sum())}; "
                f"rounded cells: {int(self.tables['rounded'].sum())}"
            ),
            (
                f"- exactly recoverable: {int((fail['verdict'] == 'exact').sum())}; "
                f"narrower than protection (exact included): {len(fail)}"
            ),
            f"- riskcalc {code_identity(provenance)}",
            "",
            _render.to_markdown(
                self.tables[
                    ["table", "cells", "suppressed", "rounded", "exact_cells", "narrow_cells"]
                ].rename(columns=_REPORT_HEADS)
            ),
        ]
        lines += [f"## Failing cells ({len(fail)})", ""]
        if len(fail):
            lines.append(
                _render.to_markdown(
                    fail.head(200)[["table", "cell", "status", "shown", "verdict", "reason"]]
                )
            )
            if len(fail) > 200:
                lines.append(f"\n({len(fail) - 200} more in release_audit_cells.csv)")
        return "\n".join(lines) + "\n"

    def to_json(self, provenance: dict) -> str:
        """The report for an output request as JSON: provenance, policy, the per-table cell
        counts and the failing cells."""
        doc = {
            "internal": False,
            "disclosive": False,
            "provenance": provenance,
            "policy": _policy_dict(self.policy),
            "tables": self.tables.to_dict("records"),
            "failing_cells": json.loads(self.failing.to_json(orient="records")),
        }
        return json.dumps(doc, indent=2, default=int) + "\n"

    def __repr__(self) -> str:
        exact = int((self.failing["verdict"] == "exact").sum())
        return (
            f"AuditRelease(policy={self.policy.name!r}, tables={len(self.tables)}, failing_cells={len(self.failing)}, "
            f"exact={exact})"
        )


def audit_tables(
    tables: Mapping[str, pd.DataFrame] | pd.DataFrame,
    policy: SuppressionPolicy | str,
    *,
    margins: Mapping[str, pd.DataFrame] | None = None,
    count: str = "count",
    suppressed: str | None = None,
    method: str = "auto",
    details: bool = True,
) -> AuditResult:
    """Feasible interval of every suppressed or rounded cell of linked frequency tables.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame, or one DataFrame
        The *true* tables (the auditor is the releaser): long frames of dimension columns and a
        ``count`` column, one row per cell. Cells not listed are zeros, published as such (list
        the zero cells when the policy suppresses zeros, ``suppress_from=0``).
        Tables are linked through the dimensions they share: the sums of two tables over their
        common dimensions must agree (grand totals when they share none).
    policy : SuppressionPolicy or str
        The protection applied to ``tables`` (a name from :data:`POLICIES`).
    margins : mapping of str to pandas.DataFrame, optional
        Published totals, as further true tables over fewer dimensions; shown exactly or under
        the policy according to ``policy.margins``.
    count : str, default "count"
    suppressed : str, optional
        A boolean column flagging further suppressed cells (for example the releaser's
        secondary suppressions), shown with the policy's symbol. Such a cell holds a count the
        rule would not have suppressed (0 to ``suppress_from - 1``, or ``suppress_below`` and
        more), and the attacker is assumed to know which ``c`` are secondary (the worst case).
    method : {"auto", "lp", "milp"}, default "auto"
        ``"auto"``: the exact integer interval: the closed form when all tables are linked
        through one set of common dimensions and no cell's set of values has a gap (the tier 3
        layout, no solver), else linear programmes (:func:`scipy.optimize.linprog`, HiGHS) whose
        optima are kept where integral, and integer programmes (:func:`scipy.optimize.milp`) for
        the other components; ``"milp"``: integer programmes throughout; ``"lp"``: the LP
        relaxation, bounds rounded inwards, which contains the exact interval and may be wider
        (it may understate what an attacker can narrow a cell to).
    details : bool, default True
        Whether the per-cell frame describes each cell (its dimension values and the published
        text); ``False`` keeps the intervals and verdicts only, for summaries of large tables.

    Returns
    -------
    AuditResult
        Internal: the intervals bracket the true counts. :meth:`AuditResult.for_release` lists
        the failing cells without them.

    Notes
    -----
    A cell fails when ``upper - lower < protection`` (exact disclosure when
    ``upper == lower``). Differencing, the simplest attack, is the special case of a total with
    one unknown cell; a symbol can fail on its own (a 5 under "suppress 1-4, round to 5").

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> t = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": ["p", "q", "p", "q"], "count": [6, 30, 22, 41]})
    >>> r = rc.audit_tables({"t": t}, "dfe_suppress_below_5_round_5")
    >>> r.failing[["cell", "shown", "lower", "upper", "verdict"]].to_dict("records")
    [{'cell': 'a=x, b=p', 'shown': '5', 'lower': 5, 'upper': 7, 'verdict': 'narrow'}]
    """
    return _audit_tables(
        tables,
        policy,
        margins=margins,
        count=count,
        suppressed=suppressed,
        method=method,
        details=bool(details),
    )


def _audit_tables(
    tables,
    policy,
    *,
    margins=None,
    count="count",
    suppressed=None,
    method="auto",
    details: bool | None = True,
) -> AuditResult:
    """:func:`audit_tables`; ``details=None`` leaves the per-cell frame empty (for callers that
    read only the per-table summary: a national tier 3 has millions of cells)."""
    pol = _check_policy(policy, _FUNC)
    check_choice(method, "method", ("auto", "lp", "milp"), _FUNC)
    if isinstance(tables, pd.DataFrame):
        tables = {"table": tables}
    if not isinstance(tables, Mapping) or not tables:
        raise InvalidParameterError(
            f"The 'tables' parameter of {_FUNC} must be a non-empty mapping of names to DataFrames."
        )
    margins = dict(margins or {})
    clash = set(tables) & set(margins)
    if clash:
        raise InvalidParameterError(
            f"The names {sorted(clash)} are used both in 'tables' and 'margins' of {_FUNC}."
        )
    names = list(tables) + list(margins)
    frames = [tables[n] for n in tables] + [margins[n] for n in margins]
    is_margin = [False] * len(tables) + [True] * len(margins)
    dims = [_check_table(n, f, count) for n, f in zip(names, frames)]
    if suppressed is not None:
        for _n, _f, d in zip(names, frames, dims):
            if suppressed in d:
                d.remove(suppressed)
    # per-cell arrays over all tables
    parts = []
    offset = 0
    for t, (_n, f, _d, m) in enumerate(zip(names, frames, dims, is_margin)):
        counts = f[count].to_numpy(dtype=np.int64)
        status, shown, lo, hi, gap_lo, gap_hi = _protect(
            counts, pol, exact=m and pol.margins == "exact"
        )
        if suppressed is not None and suppressed in f.columns:
            extra = f[suppressed].to_numpy(dtype=bool) & (status != _SUPPRESSED)
            status[extra] = _SUPPRESSED
            shown[extra] = np.nan
            lo[extra], hi[extra], gap_lo[extra], gap_hi[extra] = _secondary_prior(
                pol, int(extra.sum())
            )
        parts.append(
            {
                "t": t,
                "counts": counts,
                "status": status,
                "shown": shown,
                "lo": lo,
                "hi": hi,
                "gap_lo": gap_lo,
                "gap_hi": gap_hi,
                "offset": offset,
            }
        )
        offset += len(f)
    n_var = offset
    status = np.concatenate([p["status"] for p in parts]) if parts else np.array([], np.int8)
    true = np.concatenate([p["counts"] for p in parts]).astype(np.float64)
    lo = np.concatenate([p["lo"] for p in parts])
    hi = np.concatenate([p["hi"] for p in parts])
    gap_lo = np.concatenate([p["gap_lo"] for p in parts])
    gap_hi = np.concatenate([p["gap_hi"] for p in parts])
    table_of = np.concatenate([np.full(len(f), t) for t, f in enumerate(frames)])
    unknown = lo < hi  # the solvers' variables
    audited = status != _PUBLISHED  # suppressed or rounded: some a single value by the rule alone

    links = _links(dims)
    commons = {tuple(sorted(c)) for _, _, c in links}
    star = len(commons) == 1
    gapped = ~np.isnan(gap_lo)
    milp_cells = 0
    if method == "auto" and star and not gapped.any():
        lower, upper, single = _star_intervals(frames, dims, links[0][2], lo, hi, unknown, table_of)
        n_solves, solver = 0, "closed form"
    else:
        Au, rhs = _equalities(frames, parts, links, lo, unknown, n_var)
        lower, upper, n_solves, by_milp = _intervals(
            Au, rhs, lo[unknown], hi[unknown], gap_lo[unknown], gap_hi[unknown], method
        )
        single = np.zeros(int(unknown.sum()), dtype=bool)
        if Au.shape[0]:
            lone_rows = np.flatnonzero(np.diff(Au.indptr) == 1)
            single[Au.indices[Au.indptr[lone_rows]]] = True
        milp_cells = int(by_milp.sum())
        solver = (
            "closed form"
            if n_solves == 0
            else {
                "milp": "scipy.optimize.milp (HiGHS)",
                "lp": "scipy.optimize.linprog (HiGHS), LP relaxation: intervals may be wider than an attacker's",
                "auto": "scipy.optimize.linprog (HiGHS), integral optima checked"
                + (f"; scipy.optimize.milp for {milp_cells} cells" if milp_cells else ""),
            }[method]
        )

    # verdicts for the audited cells, as codes into VERDICTS and _REASONS
    aud = np.flatnonzero(audited)
    lower_all, upper_all = lo.copy(), hi.copy()
    lower_all[unknown], upper_all[unknown] = lower, upper
    single_all = np.zeros(n_var, dtype=bool)
    single_all[unknown] = single
    lower, upper, single = lower_all[aud], upper_all[aud], single_all[aud]
    by_rule = (lower == lo[aud]) & (upper == hi[aud])  # no total narrows the symbol's interval
    a_status = status[aud]
    width = upper - lower
    prot = pol._protection_for_codes(a_status)
    verdict = np.where(width == 0, 0, np.where(width < prot, 1, 2)).astype(np.int8)
    reason = np.where(single, 1, 2) + 2 * (verdict == 1)
    reason = np.where(by_rule, 5 + (verdict == 1), reason)
    reason = np.where(verdict == 2, 0, reason).astype(np.int8)
    if details is None:
        cells = pd.DataFrame(columns=CELL_COLUMNS)
    else:
        cells = _cell_frame(
            frames,
            dims,
            parts,
            names,
            table_of,
            aud,
            a_status,
            lower,
            upper,
            width,
            prot,
            verdict,
            reason,
            audited,
            n_var,
            pol,
            details,
        )

    # per-table summary
    t = len(frames)
    fails = np.zeros(n_var, dtype=bool)
    fails[aud[verdict != 2]] = True
    exact_v = np.zeros(n_var, dtype=bool)
    exact_v[aud[verdict == 0]] = True
    summary = pd.DataFrame(
        {
            "table": names,
            "margin": is_margin,
            "cells": np.bincount(table_of, minlength=t),
            "pupils": np.bincount(table_of, weights=true, minlength=t).astype(np.int64),
            "suppressed": np.bincount(table_of, weights=status == _SUPPRESSED, minlength=t).astype(
                np.int64
            ),
            "rounded": np.bincount(
                table_of, weights=(status == _ROUNDED) | (status == _LOW), minlength=t
            ).astype(np.int64),
            "exact_cells": np.bincount(table_of, weights=exact_v, minlength=t).astype(np.int64),
            "narrow_cells": np.bincount(table_of, weights=fails, minlength=t).astype(np.int64),
            "pupils_exact": np.bincount(table_of, weights=true * exact_v, minlength=t).astype(
                np.int64
            ),
            "pupils_exposed": np.bincount(table_of, weights=true * fails, minlength=t).astype(
                np.int64
            ),
        }
    )
    return AuditResult(
        cells=_mark(cells, True),
        tables=_mark(summary, True),
        policy=pol,
        method=solver,
        n_solves=n_solves,
        milp_cells=milp_cells,
    )


def _cell_frame(
    frames,
    dims,
    parts,
    names,
    table_of,
    aud,
    a_status,
    lower,
    upper,
    width,
    prot,
    verdict,
    reason,
    audited,
    n_var,
    pol,
    details: bool,
) -> pd.DataFrame:
    """The per-cell frame of an audit (:data:`CELL_COLUMNS`), with each cell's dimension values
    and published text when ``details``, else categorical columns without per-cell text."""
    if details:
        shown_all = np.concatenate([_shown_text(p["status"], p["shown"], pol) for p in parts])
        cell_text = np.concatenate(
            [
                _cell_labels(f.iloc[audited[p["offset"] : p["offset"] + len(f)]], d)
                for f, d, p in zip(frames, dims, parts)
            ]
        )
        text = _texts
    else:  # the per-table summary only: no per-cell text, categorical columns
        shown_all = _categories(("",), np.zeros(n_var, dtype=np.int8))
        cell_text = _categories(("",), np.zeros(aud.shape[0], dtype=np.int8))
        text = _categories
    cells = pd.DataFrame(
        {
            "table": text(names, table_of[aud]),
            "cell": cell_text,
            "status": text(STATUS_NAMES, a_status),
            "shown": shown_all[aud],
            "lower": lower.astype(np.int64),
            "upper": pd.array(np.where(np.isinf(upper), 0, upper).astype(np.int64), dtype="Int64"),
            "width": pd.array(np.where(np.isinf(width), 0, width).astype(np.int64), dtype="Int64"),
            "protection": prot.astype(np.int64),
            "verdict": text(VERDICTS, verdict),
            "reason": text(_REASONS, reason),
        },
        columns=CELL_COLUMNS,
    )
    if np.isinf(upper).any():
        cells.loc[np.isinf(upper), ["upper", "width"]] = pd.NA
    return cells


def _equalities(frames, parts, links, lo, unknown, n_var):
    """Sparse equality system over the unknown cells: ``Au x = rhs``."""
    rows, cols, vals = [], [], []
    n_rows = 0
    for i, j, common in links:
        gi, gj = _joint_group([frames[i], frames[j]], common)
        rows += [gi + n_rows, gj + n_rows]
        cols += [np.arange(len(gi)) + parts[i]["offset"], np.arange(len(gj)) + parts[j]["offset"]]
        vals += [np.ones(len(gi)), -np.ones(len(gj))]
        n_rows += int(max(gi.max(initial=-1), gj.max(initial=-1)) + 1)
    if rows:
        A = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n_rows, n_var),
        )
    else:
        A = sp.csr_matrix((0, n_var))
    known = ~unknown
    rhs = -(A[:, known] @ lo[known])
    Au = A[:, unknown].tocsr()
    keep = np.diff(Au.indptr) > 0
    return Au[keep], rhs[keep]


def _star_intervals(frames, dims, common, lo, hi, unknown, table_of):
    """Closed-form intervals when every table is linked through one set of common dimensions.

    Within a group ``g`` of the common dimensions every table's cells sum to one total ``T``.
    Table ``k`` admits ``T`` in ``[S_lo(k, g), S_hi(k, g)]`` (the sums of its cells' bounds), so
    ``T`` lies in ``[L, U] = [max_k S_lo, min_k S_hi]``, and a cell ``c`` of table ``k`` in

    ``[max(lo_c, L - (S_hi(k, g) - hi_c)), min(hi_c, U - (S_lo(k, g) - lo_c))]``.

    Every integer in that interval is attained (for integer ``T`` each table is a bounded sum),
    so these are the exact integer bounds, equal to the LP bounds.
    """
    groups = np.concatenate(_joint_group(frames, common))
    n_g = int(groups.max(initial=-1)) + 1
    n_t = len(frames)
    row = table_of * n_g + groups
    size = n_t * n_g
    finite_hi = np.where(np.isinf(hi), 0.0, hi)
    s_lo = np.bincount(row, weights=lo, minlength=size)
    s_hi = np.bincount(row, weights=finite_hi, minlength=size)
    n_inf = np.bincount(row, weights=np.isinf(hi), minlength=size)
    s_hi_total = np.where(n_inf > 0, np.inf, s_hi)
    L = s_lo.reshape(n_t, n_g).max(axis=0)
    U = s_hi_total.reshape(n_t, n_g).min(axis=0)
    if np.any(L > U + _TOL):
        raise InvalidParameterError(
            "The tables passed to audit_tables are inconsistent: no non-negative counts agree with every published total."
        )
    g = groups
    rest_hi = np.where(n_inf[row] - np.isinf(hi) > 0, np.inf, s_hi[row] - finite_hi)
    rest_lo = s_lo[row] - lo
    lower = np.maximum(lo, L[g] - rest_hi)
    upper = np.minimum(hi, U[g] - rest_lo)
    n_unknown = np.bincount(row, weights=unknown, minlength=size)
    single = (n_unknown[row] == 1) & (L[g] == U[g])
    u = unknown
    return lower[u], upper[u], single[u]


def _cell_labels(frame: pd.DataFrame, dims: list[str]) -> np.ndarray:
    """``dim=value, dim=value`` per row, a blank category labelled ``(missing)``, as the output
    checker labels cells (:func:`riskcalc._labels.group_codes`: one home for cell labels)."""
    if len(frame) == 0:
        return np.empty(0, dtype=object)
    ids, labels = group_codes_labelled(frame, dims)
    return labels[ids]


def _intervals(
    Au: sp.csr_matrix,
    rhs: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    gap_lo: np.ndarray,
    gap_hi: np.ndarray,
    mode: str,
):
    """Min and max of every unknown variable, batched over connected components.

    ``mode``: ``"lp"`` the LP relaxation (a cell's gap bridged); ``"milp"`` integer programmes;
    ``"auto"`` the LP, then integer programmes for the components whose LP optimum is not
    integral or that hold a cell with a gap. An integral LP optimum of a component is an integer
    table attaining the LP bound, which bounds the integer optimum: the two are equal. Returns
    ``lower, upper, n_solves`` and which variables an integer programme bounded.
    """
    from scipy.sparse.csgraph import connected_components  # on first use: a slow import

    n = Au.shape[1]
    lower, upper = lo.copy(), hi.copy()
    by_milp = np.zeros(n, dtype=bool)
    if n == 0:
        return lower, upper, 0, by_milp
    m = Au.shape[0]
    graph = sp.bmat([[None, Au], [Au.T, None]], format="csr") if m else sp.csr_matrix((n, n))
    _, labels = connected_components(graph, directed=False)
    var_comp = labels[m:] if m else labels
    _, var_comp = np.unique(var_comp, return_inverse=True)
    # rows hold only variables of one component; number rows by their variables' components
    first_var = Au.indices[Au.indptr[:-1]] if m else np.array([], np.int64)
    row_comp = var_comp[first_var]
    size = np.bincount(var_comp)
    n_comp = len(size)
    gapped = ~np.isnan(gap_lo)
    # single-variable components: closed form (each row reads a * x = b)
    rows_per_comp = np.bincount(row_comp, minlength=n_comp)
    lone = size[var_comp] == 1
    if m:
        coef = Au.data[Au.indptr[:-1]]
        lone_row = lone[first_var]
        val = rhs[lone_row] / coef[lone_row]
        v = first_var[lone_row]
        lower[v] = np.inf
        upper[v] = -np.inf
        np.minimum.at(lower, v, val)
        np.maximum.at(upper, v, val)
        # several rows on one lone variable agree, inside its a-priori set, if the tables are consistent
        _check_consistent(lower[v], upper[v], lo[v], hi[v], gap_lo[v], gap_hi[v])
    order = np.argsort(var_comp, kind="stable")
    starts = np.concatenate([[0], np.cumsum(size)[:-1]])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts[var_comp[order]]
    multi = (size[var_comp] > 1) & (rows_per_comp[var_comp] > 0)
    comp_gapped = np.bincount(var_comp, weights=gapped, minlength=n_comp) > 0
    # unbounded cells (rule unknown to the attacker, secondary suppressions): cap them so that one
    # unbounded component cannot make a whole batch unbounded; a maximum at the cap is infinite
    finite = ~np.isinf(hi)
    cap = float(np.abs(rhs).sum() + hi[finite].sum() + lo.sum() + np.nansum(gap_hi) + 1.0)
    hi_capped = np.where(finite, hi, cap)
    n_solves = 0
    if multi.any():
        row_of_multi = size[row_comp] > 1
        for r in range(int(size[var_comp[multi]].max())):
            active_comp = np.zeros(n_comp, dtype=bool)
            active_comp[var_comp[multi & (rank == r)]] = True
            vars_r = np.flatnonzero(active_comp[var_comp] & multi)
            rows_r = np.flatnonzero(active_comp[row_comp] & row_of_multi)
            target = rank[vars_r] == r
            for sign in (1.0, -1.0):
                c = np.where(target, sign, 0.0)
                x = np.full(len(vars_r), np.nan)
                integer = np.zeros(n_comp, dtype=bool)  # components solved as integer programmes
                if mode == "milp":
                    integer[var_comp[vars_r]] = True
                elif mode == "auto":
                    integer = comp_gapped.copy()
                relax = active_comp & ~integer
                if relax.any():
                    sel = relax[var_comp[vars_r]]
                    x[sel] = _solve(
                        c[sel],
                        Au[rows_r[relax[row_comp[rows_r]]]][:, vars_r[sel]],
                        rhs[rows_r[relax[row_comp[rows_r]]]],
                        vars_r[sel],
                        lo,
                        hi_capped,
                        None,
                        None,
                    )
                    n_solves += 1
                    if mode == "auto":
                        xs = x[sel]
                        fractional = np.abs(xs - np.round(xs)) > _TOL * np.maximum(1.0, np.abs(xs))
                        integer[var_comp[vars_r[sel][fractional]]] = True
                solve_int = active_comp & integer
                if solve_int.any():
                    sel = solve_int[var_comp[vars_r]]
                    rows_int = rows_r[solve_int[row_comp[rows_r]]]
                    x[sel] = _solve(
                        c[sel],
                        Au[rows_int][:, vars_r[sel]],
                        rhs[rows_int],
                        vars_r[sel],
                        lo,
                        hi_capped,
                        gap_lo,
                        gap_hi,
                    )
                    n_solves += 1
                    by_milp[vars_r[sel & target]] = True
                vals = x[target]
                if sign > 0:
                    lower[vars_r[target]] = vals
                else:
                    upper[vars_r[target]] = np.where(vals >= cap - 0.5, np.inf, vals)
    lower = np.where(np.isinf(lower), lower, np.ceil(lower - _TOL))
    upper = np.where(np.isinf(upper), upper, np.floor(upper + _TOL))
    return lower, upper, n_solves, by_milp


def _check_consistent(val_min, val_max, lo, hi, gap_lo, gap_hi):
    in_gap = (val_min >= gap_lo - _TOL) & (val_min <= gap_hi + _TOL)  # nan gap: False
    if (
        np.any(val_max - val_min > _TOL)
        or np.any(val_min < lo - _TOL)
        or np.any(val_max > hi + _TOL)
        or np.any(in_gap)
        or np.any(np.abs(val_min - np.round(val_min)) > _TOL)
    ):
        raise InvalidParameterError(
            "The tables passed to audit_tables are inconsistent: their shared totals do not agree."
        )


def _solve(c, A, b, idx, lo, hi, gap_lo, gap_hi) -> np.ndarray:
    """Minimise ``c @ x`` subject to ``A x = b`` and the bounds of variables ``idx``: the linear
    programme when ``gap_lo`` is None, else the integer programme, where a variable with a gap
    ``[g0, g1]`` inside its bounds ``[l, u]`` has a binary ``z`` choosing a side:
    ``x >= l + (g1 + 1 - l) z`` and ``x <= g0 - 1 + (u - g0 + 1) z``."""
    from scipy.optimize import (
        Bounds,
        LinearConstraint,
        linprog,
        milp,
    )  # on first use: a slow import

    lo, hi = lo[idx], hi[idx]
    if gap_lo is None:
        res = linprog(c, A_eq=A, b_eq=b, bounds=np.column_stack([lo, hi]), method="highs")
    else:
        n = len(c)
        g = np.flatnonzero(~np.isnan(gap_lo[idx]))
        k = len(g)
        g0, g1 = gap_lo[idx][g], gap_hi[idx][g]
        rows, cols = np.concatenate([np.arange(k)] * 2), np.concatenate([g, n + np.arange(k)])
        side = sp.csr_matrix(
            (np.concatenate([np.ones(k), -(g1 + 1 - lo[g])]), (rows, cols)), shape=(k, n + k)
        )
        upper_side = sp.csr_matrix(
            (np.concatenate([np.ones(k), -(hi[g] - g0 + 1)]), (rows, cols)), shape=(k, n + k)
        )
        constraints = [
            LinearConstraint(sp.hstack([A, sp.csr_matrix((A.shape[0], k))]).tocsr(), b, b)
        ]
        if k:
            constraints += [
                LinearConstraint(side, lo[g], np.inf),
                LinearConstraint(upper_side, -np.inf, g0 - 1),
            ]
        # mip_rel_gap 0: the objective sums one target per component, and HiGHS's default
        # relative gap (1e-4) would let a large sum stop short of some component's optimum
        res = milp(
            np.concatenate([c, np.zeros(k)]),
            constraints=constraints,
            bounds=Bounds(np.concatenate([lo, np.zeros(k)]), np.concatenate([hi, np.ones(k)])),
            integrality=np.ones(n + k),
            options={"mip_rel_gap": 0},
        )
    if res.status != 0:
        if res.status == 2 or "nfeasible" in str(res.message):
            raise InvalidParameterError(
                "The tables passed to audit_tables are inconsistent: no non-negative counts agree with every published total."
            )
        raise InvalidParameterError(
            f"audit_tables: the solver stopped without an answer ({res.message})."
        )  # pragma: no cover
    return res.x[: len(c)]


# ---------------------------------------------------------------------------------------------
# Tier 3
# ---------------------------------------------------------------------------------------------


def tier3_audit(
    tables: Mapping[str, pd.DataFrame],
    policy: SuppressionPolicy | str = "dfe_suppress_below_5",
    *,
    count: str = "count",
    method: str = "auto",
) -> pd.DataFrame:
    """Audit the tier 3 tables (:func:`synthetic.tier3_tables`) under a suppression policy.

    Tables with the same first dimension (the grouping level: ``urn`` or ``la_code``) are
    linked through their shared ``level x nc_year x sex`` totals, which are published as a
    margin table (exactly, or under the policy when ``policy.margins == "policy"``). Levels are
    audited separately: the nesting of schools in local authorities is not in the tables.

    Returns
    -------
    pandas.DataFrame
        One row per table, :data:`TIER3_AUDIT_COLUMNS`: cells, pupils, suppressed and rounded
        cells, cells exactly recoverable, cells narrower than the protection level (exact ones
        included), the pupils in the exact cells and the pupils in all failing cells.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> table = pd.DataFrame({"urn": [1, 1, 2, 2], "sex": list("FMFM"), "count": [3, 12, 9, 8]})
    >>> audit = rc.tier3_audit({"urn_x_sex": table}, "dfe_suppress_below_5")
    >>> audit[["table", "cells", "suppressed", "exact_cells", "pupils_exact"]]
           table  cells  suppressed  exact_cells  pupils_exact
    0  urn_x_sex      4           1            1             3
    """
    pol = _check_policy(policy, "tier3_audit")
    if not isinstance(tables, Mapping):
        raise InvalidParameterError(
            "The 'tables' parameter of tier3_audit must be a mapping of names to DataFrames."
        )
    by_level: dict[str, dict[str, pd.DataFrame]] = {}
    for name, frame in tables.items():
        dims = _check_table(name, frame, count)
        by_level.setdefault(dims[0], {})[name] = frame
    rows = []
    for level, group in by_level.items():
        first = next(iter(group.values()))
        shared = [
            c for c in first.columns if c != count and all(c in f.columns for f in group.values())
        ]
        margin = (
            first.groupby(shared, observed=True, dropna=False, sort=True)[count].sum().reset_index()
        )
        name = f"{level}_totals"
        while name in group:
            name += "_"
        result = _audit_tables(
            group, pol, margins={name: margin}, count=count, method=method, details=None
        )
        rows.append(result.tables[~result.tables["margin"]])
    if not rows:
        return pd.DataFrame(columns=TIER3_AUDIT_COLUMNS)
    out = pd.concat(rows, ignore_index=True).set_index("table").loc[list(tables)].reset_index()
    out.insert(1, "policy", pol.name)
    return out[TIER3_AUDIT_COLUMNS]
