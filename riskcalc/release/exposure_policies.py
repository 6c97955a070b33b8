r"""The release ledger over time and under counterfactual policies.

Both measures are :func:`riskcalc.ledger_exposure` (definitions in
:mod:`riskcalc.release.exposure`) evaluated on other ledgers drawn from the one given:

*Over time.* With :math:`L_y = \{r \in L : \text{year}(\text{date}_r) \le y\}` the releases dated
up to the end of calendar year :math:`y`, the timeline's row for :math:`y` is the distribution of
:math:`E_{L_y}(c)` over the children of the panel: exactly what ``ledger_exposure(panel, L_y,
scenario)`` reports. Since adding a release never lowers a child's exposure, every count of the
timeline is non-decreasing.

*Counterfactual ledgers.* A :class:`LedgerPolicy` selects releases by a conjunction of
declarative criteria (tiers, recipient types, a date range, references) and either drops them
(``action="drop"``) or takes away their persistent reference (``action="unjoin"``: reference
``"none"``, each release a record set of its own). Both only remove what a recipient holds or
can join, so a policy never raises any child's exposure; the children it *saves* are those
exposed as released (:math:`E_L(c) \ge 1`) and exposed to nobody under the policy
(:math:`E_{\pi(L)}(c) = 0`), the exposures it saves :math:`\sum_c E_L(c) - E_{\pi(L)}(c)`.

Computation: one :class:`~riskcalc.release.exposure._Engine` per call, so the class sizes of a
group of releases are computed once whatever the year or policy holding it; a recipient whose
releases are unchanged (a year it received nothing, a policy that leaves it alone) reuses its
vector of children singled out, so per-child counts are updated only for the recipients that
change.
"""

from __future__ import annotations

import datetime as _dt
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .. import _format as fmt
from .._render import Displayed
from .._validation import check_frame
from ..exceptions import InvalidParameterError, MissingColumnError
from .exposure import _Engine, _levels, _quantile, _Release, check_thresholds
from .ledger import RECIPIENT_TYPES
from .scenarios import Scenario

__all__ = [
    "ExposureTimeline",
    "LEDGER_POLICIES",
    "LedgerPolicy",
    "PolicyComparison",
    "apply_ledger_policy",
    "compare_policies",
    "exposure_over_time",
]

_ACTIONS = ("drop", "unjoin")
_REFERENCES = ("pmr", "apmr", "none")
_TIERS = (1, 2, 3, 4)


# ------------------------------------------------------------------------------------------
# policies
# ------------------------------------------------------------------------------------------
def _iso_date(value: Any, name: str, policy: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, (_dt.date, pd.Timestamp, np.datetime64)) and not isinstance(
        value, _dt.datetime
    ):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise InvalidParameterError(
        f"LedgerPolicy {policy!r}: {name!r} must be a date written YYYY-MM-DD or None."
    )


def _items(value: Any, name: str, policy: str) -> tuple:
    if value is None:
        return ()
    if isinstance(value, (str, int, np.integer)):
        return (value,)
    try:
        return tuple(value)
    except TypeError:
        raise InvalidParameterError(
            f"LedgerPolicy {policy!r}: {name!r} must be a tuple of values. "
            f"Got {type(value).__name__}."
        ) from None


def _text_tuple(value: Any, name: str, policy: str, options: Sequence[str]) -> tuple[str, ...]:
    items = _items(value, name, policy)
    out = []
    for item in items:
        if not isinstance(item, str) or item not in options:
            close = difflib.get_close_matches(str(item), list(options), n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise InvalidParameterError(
                f"LedgerPolicy {policy!r}: {name!r} holds an unknown value.{hint} Known: "
                f"{', '.join(repr(o) for o in options)}."
            )
        out.append(item)
    return tuple(o for o in options if o in out)  # canonical order: a set prints the same


@dataclass(frozen=True, slots=True)
class LedgerPolicy:
    """A counterfactual change to a ledger: which releases it selects and what it does to them.

    A release is selected when it meets every criterion given (an empty criterion selects every
    release): its ``tier`` is one of ``tiers`` (an unclassified tier never is), its
    ``recipient_type`` one of ``recipient_types``, its ``date`` on or after ``dated_from`` and on
    or before ``dated_until``, its ``reference`` one of ``references``. The selected releases
    are dropped (``action="drop"``) or lose their persistent reference (``action="unjoin"``:
    reference ``"none"``, so they are joined neither with each other nor with the recipient's
    other releases). Both only take away records or joins: a policy never raises a child's
    exposure. The policy is data, not code, so it prints (:attr:`rule`) and records
    (:meth:`to_dict`) as it is.

    Attributes
    ----------
    name : str
        Short name (the row of :func:`compare_policies`).
    description : str
        What the policy means, in words.
    action : {"drop", "unjoin"}
    tiers : tuple of int
        Tiers selected (1-4); empty: any tier.
    recipient_types : tuple of str
        Recipient types selected (:data:`riskcalc.release.ledger.RECIPIENT_TYPES`); empty: any.
    dated_from, dated_until : str or None
        First and last release dates selected (``YYYY-MM-DD``, inclusive); None: no bound.
    references : tuple of str
        References selected (``"pmr"``, ``"apmr"``, ``"none"``); empty: any.

    Examples
    --------
    >>> import riskcalc as rc
    >>> policy = rc.LedgerPolicy("no-tier1-commercial-after-2014", "No tier 1 to firms from 2015",
    ...                          tiers=(1,), recipient_types=("commercial",),
    ...                          dated_from="2015-01-01")
    >>> policy.rule
    "drop the releases with tier 1, recipient_type 'commercial', dated 2015-01-01 or later"
    """

    name: str
    description: str
    action: str = "drop"
    tiers: tuple[int, ...] = ()
    recipient_types: tuple[str, ...] = ()
    dated_from: str | None = None
    dated_until: str | None = None
    references: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidParameterError("A LedgerPolicy's 'name' must be a non-empty string.")
        name = self.name
        if not isinstance(self.description, str):
            raise InvalidParameterError(f"LedgerPolicy {name!r}: 'description' must be a string.")
        if self.action not in _ACTIONS:
            raise InvalidParameterError(
                f"LedgerPolicy {name!r}: 'action' must be 'drop' or 'unjoin'."
            )
        tiers = _items(self.tiers, "tiers", name)
        for t in tiers:
            if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t not in _TIERS:
                raise InvalidParameterError(
                    f"LedgerPolicy {name!r}: 'tiers' must hold tier numbers 1-4."
                )
        object.__setattr__(self, "tiers", tuple(sorted({int(t) for t in tiers})))
        types = _text_tuple(self.recipient_types, "recipient_types", name, RECIPIENT_TYPES)
        object.__setattr__(self, "recipient_types", types)
        refs = _text_tuple(self.references, "references", name, _REFERENCES)
        object.__setattr__(self, "references", refs)
        start = _iso_date(self.dated_from, "dated_from", name)
        end = _iso_date(self.dated_until, "dated_until", name)
        if start is not None and end is not None and end < start:
            raise InvalidParameterError(
                f"LedgerPolicy {name!r}: 'dated_until' is before 'dated_from'."
            )
        object.__setattr__(self, "dated_from", start)
        object.__setattr__(self, "dated_until", end)

    @property
    def rule(self) -> str:
        """The policy in one line: what it does to which releases."""
        what = {"drop": "drop the releases", "unjoin": "take the persistent reference off"}
        parts = []
        if self.tiers:
            parts.append("tier " + " or ".join(str(t) for t in self.tiers))
        if self.recipient_types:
            parts.append("recipient_type " + " or ".join(repr(t) for t in self.recipient_types))
        if self.dated_from and self.dated_until:
            parts.append(f"dated {self.dated_from} to {self.dated_until}")
        elif self.dated_from:
            parts.append(f"dated {self.dated_from} or later")
        elif self.dated_until:
            parts.append(f"dated {self.dated_until} or earlier")
        if self.references:
            parts.append("reference " + " or ".join(repr(r) for r in self.references))
        if self.action == "unjoin":
            subject = "the releases with " + ", ".join(parts) if parts else "every release"
            return f"{what['unjoin']} {subject} (reference 'none': each its own record set)"
        return f"{what['drop']} with {', '.join(parts)}" if parts else "drop every release"

    def to_dict(self) -> dict[str, Any]:
        """The policy as plain JSON-ready values (for provenance), ``rule`` included."""
        return {
            "name": self.name,
            "description": self.description,
            "action": self.action,
            "tiers": list(self.tiers),
            "recipient_types": list(self.recipient_types),
            "dated_from": self.dated_from,
            "dated_until": self.dated_until,
            "references": list(self.references),
            "rule": self.rule,
        }


#: The built-in counterfactual policies, by name.
LEDGER_POLICIES: dict[str, LedgerPolicy] = {
    p.name: p
    for p in (
        LedgerPolicy(
            "no-tier1-commercial-after-2014",
            "No tier 1 (identifying, highly sensitive) data to commercial recipients from 2015.",
            tiers=(1,),
            recipient_types=("commercial",),
            dated_from="2015-01-01",
        ),
        LedgerPolicy(
            "no-tier1-after-2014",
            "No tier 1 data to any recipient from 2015.",
            tiers=(1,),
            dated_from="2015-01-01",
        ),
        LedgerPolicy(
            "apmr-per-release",
            "A fresh pupil reference for every release (PMR and aPMR releases no longer joined).",
            action="unjoin",
            references=("pmr", "apmr"),
        ),
        LedgerPolicy(
            "no-newspapers",
            "No pupil-level data to newspapers.",
            recipient_types=("newspaper",),
        ),
    )
}


def _policy(value: Any, func: str) -> LedgerPolicy:
    if isinstance(value, LedgerPolicy):
        return value
    if isinstance(value, str):
        if value in LEDGER_POLICIES:
            return LEDGER_POLICIES[value]
        close = difflib.get_close_matches(value, list(LEDGER_POLICIES), n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise InvalidParameterError(
            f"Unknown ledger policy {value!r} given to {func}.{hint} Built-in policies: "
            f"{', '.join(repr(k) for k in LEDGER_POLICIES)}."
        )
    raise InvalidParameterError(
        f"A policy given to {func} must be a LedgerPolicy or the name of a built-in one "
        f"(rc.LEDGER_POLICIES). Got {type(value).__name__}."
    )


def _policies(policies: Any, func: str) -> tuple[LedgerPolicy, ...]:
    if policies is None:
        return tuple(LEDGER_POLICIES.values())
    if isinstance(policies, (str, LedgerPolicy)):
        policies = [policies]
    elif isinstance(policies, Mapping):
        policies = list(policies.values())
    elif not isinstance(policies, Sequence):
        raise InvalidParameterError(
            f"The 'policies' parameter of {func} must be a list of LedgerPolicy or built-in "
            f"policy names. Got {type(policies).__name__}."
        )
    out = tuple(_policy(p, func) for p in policies)
    names = [p.name for p in out]
    dup = next((n for n in names if names.count(n) > 1 or n == "as released"), None)
    if dup is not None:
        raise InvalidParameterError(
            f"The 'policies' parameter of {func} names the policy {dup!r} twice (or a policy "
            "named 'as released', the first row's name): policy names must be distinct."
        )
    return out


def _release_dates(ledger: pd.DataFrame, func: str) -> np.ndarray:
    """The ledger's release dates as datetime64[D]; one line if a date is absent or unreadable."""
    if "date" not in ledger.columns:
        raise MissingColumnError(
            f"The ledger given to {func} has no column 'date' (the release dates, YYYY-MM-DD)."
        )
    col = ledger["date"]
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        dates = col.dt.tz_localize(None)  # the day where the release was made
    elif pd.api.types.is_datetime64_any_dtype(col.dtype):
        dates = col
    else:
        dates = pd.to_datetime(col.astype("object"), format="ISO8601", errors="coerce")
    bad = np.flatnonzero(pd.isna(dates).to_numpy())
    if len(bad):
        raise InvalidParameterError(
            f"Ledger row {bad[0] + 1}: 'date' is missing or not a date written YYYY-MM-DD "
            f"(given to {func})."
        )
    return dates.to_numpy().astype("datetime64[D]")


def _selected(ledger: pd.DataFrame, policy: LedgerPolicy, func: str) -> np.ndarray:
    """The ledger rows a policy selects (bool per row, ledger order)."""

    def column(name: str) -> pd.Series:
        if name not in ledger.columns:
            raise MissingColumnError(
                f"Policy {policy.name!r} selects by {name!r}: the ledger given to {func} has no "
                f"column {name!r}."
            )
        return ledger[name]

    sel = np.ones(len(ledger), bool)
    if policy.tiers:
        tier = pd.to_numeric(column("tier").astype("object"), errors="coerce")
        sel &= tier.isin(policy.tiers).to_numpy(dtype=bool, na_value=False)
    if policy.recipient_types:
        rtype = column("recipient_type").astype("object")
        sel &= rtype.isin(policy.recipient_types).to_numpy(dtype=bool, na_value=False)
    if policy.dated_from or policy.dated_until:
        column("date")
        dates = _release_dates(ledger, func)
        if policy.dated_from:
            sel &= dates >= np.datetime64(policy.dated_from, "D")
        if policy.dated_until:
            sel &= dates <= np.datetime64(policy.dated_until, "D")
    if policy.references:
        ref = column("reference").astype("object")
        sel &= ref.isin(policy.references).to_numpy(dtype=bool, na_value=False)
    return sel


def apply_ledger_policy(ledger: pd.DataFrame, policy: LedgerPolicy | str) -> pd.DataFrame:
    r"""The ledger a policy would have left: its selected releases dropped or unjoined.

    The counterfactual ledger :math:`\pi(L)` of policy :math:`\pi` with selection
    :math:`\sigma_\pi(r)` (the conjunction of its criteria on tier, recipient type, date and
    reference) is

    .. math::

        \pi(L) = \{r \in L : \neg\sigma_\pi(r)\} \text{ (drop)}, \qquad
        \pi(L) = \{r \text{ with reference } \texttt{none} \text{ if } \sigma_\pi(r)
        : r \in L\} \text{ (unjoin)}.

    The input is never modified: a new frame is returned (rows in the ledger's order, index
    renumbered from 0).

    Parameters
    ----------
    ledger : pandas.DataFrame
        A ledger frame (:func:`riskcalc.release.ledger.ledger_frame`, or any frame with the
        columns the policy selects by).
    policy : LedgerPolicy or str
        A policy, or the name of a built-in one (:data:`LEDGER_POLICIES`).

    Returns
    -------
    pandas.DataFrame

    References
    ----------
    .. [1] Department for Education (2012-2016). National Pupil Database: third-party requests
       register (the releases a ledger records).

    Examples
    --------
    >>> import pandas as pd
    >>> import riskcalc as rc
    >>> ledger = pd.DataFrame({"release_id": ["r1", "r2"], "recipient": ["uni", "uni"],
    ...                        "reference": ["pmr", "none"]})
    >>> rc.apply_ledger_policy(ledger, "apmr-per-release")["reference"].tolist()
    ['none', 'none']
    >>> ledger["reference"].tolist()  # unchanged
    ['pmr', 'none']
    """
    func = "apply_ledger_policy"
    check_frame(ledger, "ledger", func)
    pol = _policy(policy, func)
    sel = _selected(ledger, pol, func)
    if pol.action == "drop":
        return ledger.loc[~sel].reset_index(drop=True)
    out = ledger.reset_index(drop=True)
    if sel.any():
        if "reference" not in out.columns:
            raise MissingColumnError(
                f"Policy {pol.name!r} unjoins references: the ledger given to {func} has no "
                "column 'reference'."
            )
        ref = out["reference"].astype("object").to_numpy(copy=True)
        ref[sel] = "none"
        dtype = out["reference"].dtype
        keep = not isinstance(dtype, pd.CategoricalDtype)
        out["reference"] = pd.Series(ref, index=out.index, dtype=dtype if keep else "object")
    return out


# ------------------------------------------------------------------------------------------
# shared: per-recipient vectors and distribution rows
# ------------------------------------------------------------------------------------------
def _figures(exposure: np.ndarray, thr: tuple[int, ...]) -> dict[str, Any]:
    n_at, share_at = _levels(exposure, thr)
    row: dict[str, Any] = {"median": _quantile(exposure, 0.5), "p90": _quantile(exposure, 0.9)}
    row |= {f"n_at_least_{k}": n for k, n in zip(thr, n_at, strict=True)}
    row |= {f"share_at_least_{k}": s for k, s in zip(thr, share_at, strict=True)}
    row["n_exposures"] = int(exposure.sum())
    return row


def _by_recipient(releases: Sequence[_Release]) -> dict[str, list[_Release]]:
    out: dict[str, list[_Release]] = {}
    for rel in releases:
        out.setdefault(rel.recipient, []).append(rel)
    return out


def _levels_text(row: Mapping[str, Any], thr: tuple[int, ...], n: int) -> str:
    return ", ".join(f">={k}: {fmt.count_pct(row[f'n_at_least_{k}'], n)}" for k in thr)


# ------------------------------------------------------------------------------------------
# over time
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ExposureTimeline(Displayed):
    """Cumulative exposure of the children of a panel as a ledger's releases accumulate.

    Attributes
    ----------
    scenario : str
    scenario_fields : tuple of str
    n_children : int
        Distinct pupils in the panel (the denominator of every share).
    n_empty : int
        Record releases of the ledger holding no child of the panel (their years are not the
        panel's, or their population or year groups select nobody): the timeline says nothing
        about them, whatever their date.
    thresholds : tuple of int
    frame : pandas.DataFrame
        One row per calendar year of the release dates, ascending: ``year``, ``until``
        (``YYYY-12-31``), ``n_releases`` and ``n_recipients`` (cumulative), ``median``,
        ``p90``, ``n_at_least_k`` and ``share_at_least_k`` per threshold, ``n_exposures``
        (:math:`\\sum_c E(c)`, the recipient-child pairs singled out). Each row is what
        :func:`riskcalc.ledger_exposure` reports on the releases dated up to ``until``.

    Examples
    --------
    >>> import pandas as pd
    >>> import riskcalc as rc
    >>> panel = pd.DataFrame({"pupil_id": ["a", "b", "c"], "academic_year": 2019,
    ...                       "urn": [1, 1, 2], "sex": list("FMF")})
    >>> ledger = pd.DataFrame({"release_id": ["r1", "r2"], "recipient": ["uni", "firm"],
    ...                        "date": pd.to_datetime(["2020-05-01", "2021-02-01"]),
    ...                        "fields": [("urn",), ("urn", "sex")], "years": [(2019,), (2019,)],
    ...                        "year_groups": [(), ()], "population": ["all", "all"],
    ...                        "reference": ["none", "none"]})
    >>> tl = rc.exposure_over_time(panel, ledger, ["urn", "sex"])
    >>> tl.frame[["year", "n_releases", "n_at_least_1", "n_exposures"]].values.tolist()
    [[2020, 1, 1, 1], [2021, 2, 3, 4]]
    """

    scenario: str
    scenario_fields: tuple[str, ...]
    n_children: int
    n_empty: int
    thresholds: tuple[int, ...]
    frame: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per year (a copy of :attr:`frame`)."""
        return self.frame.copy()

    def __repr__(self) -> str:
        head = f"ExposureTimeline(scenario={self.scenario!r}, {self.n_children:,} children"
        if self.n_empty:
            head += f", {self.n_empty} releases holding no child of the panel"
        if self.frame.empty:
            return head + ", no releases)"
        first, last = self.frame.iloc[0], self.frame.iloc[-1]
        levels = _levels_text(last, self.thresholds, self.n_children)
        was = ""
        if 1 in self.thresholds and len(self.frame) > 1:
            start = fmt.count_pct(first["n_at_least_1"], self.n_children)
            was = f"; by {first['until']}: >=1: {start}"
        return (
            f"{head}, {len(self.frame)} years of releases{was}; by {last['until']}: "
            f"{int(last['n_releases'])} releases, {int(last['n_recipients'])} recipients, "
            f"median {last['median']:g}, p90 {last['p90']:g}; {levels})"
        )


_TIMELINE_COLUMNS = ("year", "until", "n_releases", "n_recipients")


def exposure_over_time(
    panel: pd.DataFrame,
    ledger: pd.DataFrame,
    scenario: Scenario | str | Sequence[str],
    *,
    thresholds: Sequence[int] = (1, 5, 20),
    sample_seed: int = 0,
) -> ExposureTimeline:
    r"""Cumulative exposure as a ledger's releases accumulate, one row per calendar year.

    For each calendar year :math:`y` in which a release is dated (column ``date``; a year
    without a release has no row), the releases dated
    up to :math:`y`-12-31, :math:`L_y = \{r : \mathrm{year}(\mathrm{date}_r) \le y\}`, give each
    child its exposure

    .. math::

        E_y(c) = \#\{R : R \text{ singles out } c \text{ with its releases in } L_y\},

    the measure of :func:`riskcalc.ledger_exposure` on :math:`L_y`; the row reports its median,
    90th percentile, the children with :math:`E_y(c) \ge k` and :math:`\sum_c E_y(c)`. A
    release's year is that of its *date* (when it was made), not of the data it holds. Since
    adding a release never lowers a child's exposure, every count is non-decreasing in
    :math:`y`. Class sizes are shared across years: a group of releases unchanged since the
    previous year is not computed again.

    Parameters
    ----------
    panel : pandas.DataFrame
        Long table, one row per pupil per census (:func:`riskcalc.ledger_exposure`).
    ledger : pandas.DataFrame
        The ledger frame, with a ``date`` for every release.
    scenario : Scenario, str or sequence of str
        What the intruder knows.
    thresholds : sequence of int, default (1, 5, 20)
        Exposure levels: children singled out by at least that many recipients.
    sample_seed : int, default 0
        Seed of the pupil samples of ``"sample:<fraction>"`` releases.

    Returns
    -------
    ExposureTimeline

    References
    ----------
    .. [1] Article 29 Data Protection Working Party (2014). Opinion 05/2014 on Anonymisation
       Techniques (WP216), section 3: singling out, linkability, inference.
    .. [2] Department for Education (2012-2016). National Pupil Database: third-party requests
       register.

    Examples
    --------
    >>> import pandas as pd
    >>> import riskcalc as rc
    >>> panel = pd.DataFrame({"pupil_id": ["a", "b", "c"], "academic_year": 2019,
    ...                       "urn": [1, 1, 2], "sex": list("FMF")})
    >>> ledger = pd.DataFrame({"release_id": ["r1", "r2"], "recipient": ["uni", "firm"],
    ...                        "date": pd.to_datetime(["2020-05-01", "2021-02-01"]),
    ...                        "fields": [("urn",), ("urn", "sex")], "years": [(2019,), (2019,)],
    ...                        "year_groups": [(), ()], "population": ["all", "all"],
    ...                        "reference": ["none", "none"]})
    >>> tl = rc.exposure_over_time(panel, ledger, ["urn", "sex"])
    >>> tl.frame[["year", "until", "n_recipients", "median"]].values.tolist()
    [[2020, '2020-12-31', 1, 0.0], [2021, '2021-12-31', 2, 1.0]]
    """
    func = "exposure_over_time"
    check_frame(ledger, "ledger", func)
    dates = _release_dates(ledger, func)
    eng = _Engine.build(panel, ledger, scenario, func, sample_seed=sample_seed)
    thr = check_thresholds(thresholds, func)
    n = eng.panel.n
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    year_of = {id(rel): int(y) for rel, y in zip(eng.releases, year, strict=True)}
    exposure = np.zeros(n, np.int64)
    current: dict[str, np.ndarray] = {}  # recipient -> packed children singled out so far
    rows = []
    for y in sorted(set(year.tolist())):
        changed = sorted({rel.recipient for rel in eng.releases if year_of[id(rel)] == y})
        for recipient in changed:
            rels = [r for r in eng.by_recipient[recipient] if year_of[id(r)] <= y]
            singled = eng.recipient_singled(rels)
            exposure += singled
            if recipient in current:
                exposure -= np.unpackbits(current[recipient], count=n)
            current[recipient] = np.packbits(singled)
        row: dict[str, Any] = {
            "year": int(y),
            "until": f"{y:04d}-12-31",
            "n_releases": int(np.count_nonzero(year <= y)),
            "n_recipients": len(current),
        }
        rows.append(row | _figures(exposure, thr))
    columns = list(_TIMELINE_COLUMNS) + list(_figures(np.zeros(0, np.int64), thr))
    frame = pd.DataFrame(rows, columns=columns)
    for c in ("year", "n_releases", "n_recipients", "n_exposures"):
        frame[c] = frame[c].astype(np.int64)
    n_empty = eng.held(eng.releases)[1]
    return ExposureTimeline(eng.name, eng.fields, n, n_empty, thr, frame)


# ------------------------------------------------------------------------------------------
# counterfactual ledgers
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PolicyComparison(Displayed):
    """Exposure as released and under counterfactual ledger policies.

    Attributes
    ----------
    scenario : str
    scenario_fields : tuple of str
    n_children : int
    n_empty : int
        Record releases of the ledger as released holding no child of the panel: what a policy
        does to them changes no figure here.
    thresholds : tuple of int
    policies : tuple of LedgerPolicy
        The policies compared, in the order of the rows after the first.
    frame : pandas.DataFrame
        One row per ledger, the first ``"as released"``: ``policy``, ``description``,
        ``n_releases`` (kept), ``median``, ``p90``, ``n_at_least_k``, ``share_at_least_k``,
        ``n_exposures`` (:math:`\\sum_c E(c)`), ``n_children_saved`` (exposed as released,
        exposed to no recipient under the policy) and ``n_exposures_saved``
        (:math:`\\sum_c E_L(c) - E_{\\pi(L)}(c)`).

    Examples
    --------
    >>> import pandas as pd
    >>> import riskcalc as rc
    >>> panel = pd.DataFrame({"pupil_id": ["a", "b", "c"], "academic_year": 2019,
    ...                       "urn": [1, 1, 2], "sex": list("FMF")})
    >>> ledger = pd.DataFrame({"release_id": ["r1", "r2"], "recipient": ["uni", "paper"],
    ...                        "recipient_type": ["university", "newspaper"],
    ...                        "fields": [("urn",), ("urn", "sex")], "years": [(2019,), (2019,)],
    ...                        "year_groups": [(), ()], "population": ["all", "all"],
    ...                        "reference": ["none", "none"]})
    >>> cmp = rc.compare_policies(panel, ledger, ["urn", "sex"], ["no-newspapers"])
    >>> cmp.frame[["policy", "n_releases", "n_children_saved"]].values.tolist()
    [['as released', 2, 0], ['no-newspapers', 1, 2]]
    """

    scenario: str
    scenario_fields: tuple[str, ...]
    n_children: int
    n_empty: int
    thresholds: tuple[int, ...]
    policies: tuple[LedgerPolicy, ...]
    frame: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per ledger (a copy of :attr:`frame`)."""
        return self.frame.copy()

    def __repr__(self) -> str:
        n = self.n_children
        base = self.frame.iloc[0]
        parts = [f"as released: {_levels_text(base, self.thresholds, n)}"]
        for _, row in self.frame.iloc[1:].iterrows():
            parts.append(
                f"{row['policy']}: saves {fmt.count_pct(row['n_children_saved'], n)} children, "
                f"{int(row['n_exposures_saved']):,} exposures"
            )
        empty = f", {self.n_empty} releases holding no child of the panel" if self.n_empty else ""
        return (
            f"PolicyComparison(scenario={self.scenario!r}, {n:,} children{empty}, "
            f"{len(self.policies)} policies; {'; '.join(parts)})"
        )


def compare_policies(
    panel: pd.DataFrame,
    ledger: pd.DataFrame,
    scenario: Scenario | str | Sequence[str],
    policies: Sequence[LedgerPolicy | str] | None = None,
    *,
    thresholds: Sequence[int] = (1, 5, 20),
    sample_seed: int = 0,
) -> PolicyComparison:
    r"""What counterfactual ledger policies would have saved: exposure as released and under each.

    For the ledger :math:`L` and each policy :math:`\pi` (:func:`apply_ledger_policy` gives
    :math:`\pi(L)`), the exposure of each child :math:`E_{\pi(L)}(c)` is the measure of
    :func:`riskcalc.ledger_exposure` on :math:`\pi(L)`; the comparison reports its distribution
    and what the policy saves against the ledger as released:

    .. math::

        \text{children saved} = \#\{c : E_L(c) \ge 1,\ E_{\pi(L)}(c) = 0\}, \qquad
        \text{exposures saved} = \sum_c \big(E_L(c) - E_{\pi(L)}(c)\big).

    A policy drops releases or takes their persistent reference away, so it never raises any
    child's exposure and both savings are at least 0. One engine serves every policy: a group
    of releases a policy leaves unchanged is not computed again, nor is a recipient it leaves
    alone.

    Parameters
    ----------
    panel : pandas.DataFrame
        Long table, one row per pupil per census (:func:`riskcalc.ledger_exposure`).
    ledger : pandas.DataFrame
        The ledger frame as released (with the columns the policies select by).
    scenario : Scenario, str or sequence of str
        What the intruder knows.
    policies : sequence of LedgerPolicy or str, or mapping of name to LedgerPolicy, optional
        Policies or names of built-in ones (:data:`LEDGER_POLICIES`), one row each in the order
        given; default: every built-in.
    thresholds : sequence of int, default (1, 5, 20)
    sample_seed : int, default 0
        Seed of the pupil samples of ``"sample:<fraction>"`` releases (the same draws under every
        policy: a kept release holds the same pupils).

    Returns
    -------
    PolicyComparison

    References
    ----------
    .. [1] Article 29 Data Protection Working Party (2014). Opinion 05/2014 on Anonymisation
       Techniques (WP216), section 3: singling out, linkability, inference.
    .. [2] Department for Education (2012-2016). National Pupil Database: third-party requests
       register.

    Examples
    --------
    >>> import pandas as pd
    >>> import riskcalc as rc
    >>> panel = pd.DataFrame({"pupil_id": ["a", "b", "c", "a", "b", "c"],
    ...                       "academic_year": [2019, 2019, 2019, 2020, 2020, 2020],
    ...                       "urn": [1, 1, 2, 1, 2, 2], "sex": list("FMFFMF")})
    >>> ledger = pd.DataFrame({"release_id": ["r1", "r2"], "recipient": ["uni", "uni"],
    ...                        "recipient_type": "university", "fields": [("urn",), ("urn",)],
    ...                        "years": [(2019,), (2020,)], "year_groups": [(), ()],
    ...                        "population": ["all", "all"], "reference": ["pmr", "pmr"]})
    >>> cmp = rc.compare_policies(panel, ledger, ["urn", "sex"], ["apmr-per-release"])
    >>> cmp.frame[["policy", "n_at_least_1", "n_children_saved"]].values.tolist()
    [['as released', 3, 0], ['apmr-per-release', 2, 1]]
    """
    func = "compare_policies"
    check_frame(ledger, "ledger", func)
    pols = _policies(policies, func)
    eng = _Engine.build(panel, ledger, scenario, func, sample_seed=sample_seed)
    thr = check_thresholds(thresholds, func)
    selections = [_selected(ledger, p, func) for p in pols]  # every problem before any work
    n = eng.panel.n
    base: dict[str, np.ndarray] = {}
    exposure0 = np.zeros(n, np.int64)
    for recipient in eng.recipients:
        singled = eng.recipient_singled(eng.by_recipient[recipient])
        exposure0 += singled
        base[recipient] = np.packbits(singled)
    exposed0 = exposure0 >= 1
    total0 = int(exposure0.sum())
    rows = [
        {
            "policy": "as released",
            "description": "The ledger as given.",
            "n_releases": len(eng.releases),
        }
        | _figures(exposure0, thr)
        | {"n_children_saved": 0, "n_exposures_saved": 0}
    ]
    for pol, sel in zip(pols, selections, strict=True):
        if pol.action == "drop":
            rels = [r for r, s in zip(eng.releases, sel, strict=True) if not s]
        else:
            rels = [
                replace(r, reference="none") if s else r
                for r, s in zip(eng.releases, sel, strict=True)
            ]
        exposure = np.zeros(n, np.int64)
        for recipient, mine in _by_recipient(rels).items():
            if mine == eng.by_recipient[recipient]:
                exposure += np.unpackbits(base[recipient], count=n)
            else:
                exposure += eng.recipient_singled(mine)
        row = {"policy": pol.name, "description": pol.description, "n_releases": len(rels)}
        row |= _figures(exposure, thr)
        row["n_children_saved"] = int(np.count_nonzero(exposed0 & (exposure == 0)))
        row["n_exposures_saved"] = total0 - int(exposure.sum())
        rows.append(row)
    columns = ["policy", "description", "n_releases"]
    columns += list(_figures(np.zeros(0, np.int64), thr)) + [
        "n_children_saved",
        "n_exposures_saved",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    for c in ("n_releases", "n_exposures", "n_children_saved", "n_exposures_saved"):
        frame[c] = frame[c].astype(np.int64)
    n_empty = eng.held(eng.releases)[1]
    return PolicyComparison(eng.name, eng.fields, n, n_empty, thr, pols, frame)
