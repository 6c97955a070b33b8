r"""The release ledger: how many recipients can single out a child across every release.

A *ledger* is a table of releases (one row each): ``release_id``, ``date``, ``recipient``,
``recipient_type``, ``tier``, ``fields`` (tuple of panel columns), ``years`` (tuple of
``academic_year`` values of the panel: 2019 = the 2019/20 censuses), ``year_groups`` (tuple of
NC years, Reception written ``0`` or ``"R"``; empty = all), ``population`` and ``reference``. The panel is long: one row per pupil
per census (:func:`synthetic.generate_panel`), keyed by ``pupil_id``; a census is
``(academic_year, census)``.

Definitions
-----------
*What a release holds.* Release :math:`r` holds the cell :math:`(t, f)` of child :math:`c`
(census :math:`t`, field :math:`f`) when :math:`f \in F_r`, the academic year of :math:`t` is in
:math:`Y_r`, the child has a row at :math:`t` whose ``nc_year`` is in :math:`G_r` (any when
:math:`G_r` is empty), and the row is in the population: ``"all"``; ``"las:<code>,..."`` (the
row's school LA ``la_code`` is one of the codes, so a child who moves LA leaves the release);
``"sample:<p>"`` (a pupil-level sample: child :math:`c` is in it when
:math:`u_r(c) < p`, with :math:`u_r` uniform draws per pupil, pupils in sorted ``pupil_id``
order, from a generator seeded by ``(sample_seed, blake2b(release_id))``: the same child in or
out of every census of the release, independent samples for different releases). A release
``"aggregate"`` holds no records and is skipped.

*Records.* A recipient :math:`R` holds its releases; they are joined on the pupil reference when
they share one: every ``"pmr"`` release of :math:`R` forms one joined group (the PMR is one
national reference), every ``"apmr"`` release of :math:`R` another (the anonymised PMR is
persistent within a recipient, and differs from the PMR), and each ``"none"`` release is a group
of its own. A release links its own rows (every individual-level extract carries a row key of its
own), so a group's record of a child is the child's history: the cells any release of the group
holds, over the group's censuses. Groups that share no reference stay separate record sets
(``n_record_sets`` per recipient, ``n_unjoined = n_record_sets - 1`` links not made); the
recipient could still link them on the fields they share. The result gives two bounds and how
feasible the links are:

- *unjoined* (``n_recipients``, ``n_singled_out``, ``median``, ``n_at_least``, ...): each record
  set on its own, a lower bound where ``n_unjoined > 0``;
- *linked* (``n_recipients_linked``, ``n_singled_out_linked``, ``median_linked``,
  ``n_at_least_linked``, ...): every record release of the recipient in one group, as if they
  all shared one reference (perfect linkage), an upper bound; equal to the unjoined figure for a
  recipient with one record set;
- *link feasibility* (``link_rate``, ``n_false_links`` per recipient), the
  :func:`riskcalc.linkage_risk` rule carried to record sets, defined below. It says how
  reliably the sets could be linked; it does not move the linked count, which stays the
  perfect-linkage bound.

*Linking record sets.* For two record sets :math:`A, B` of one recipient, the shared cells are
the :math:`(t, f)` both sets hold for some child, on every field the releases hold that the panel
has (the recipient links on all it holds, not only the scenario fields; ``pupil_id`` is never
compared; fields the panel lacks are listed in ``link_fields_missing`` and not compared, so
linking is then understated). A record *covers* a shared cell when its set holds that cell for
the child; its coverage pattern is the set of shared cells it covers. For each pair of patterns
:math:`(P, Q)` held by some child in both sets, the records of :math:`A` with pattern :math:`P`
and of :math:`B` with pattern :math:`Q` are compared on :math:`P \cap Q` (exact values, a
missing value one more value): a value combination held by exactly one record on each side links
the two records (:math:`n_A = n_B = 1`, as in :func:`riskcalc.linkage_risk`), correctly when
they are the same pupil. The intruder is taken to know each record's coverage in both sets (the
prosecutor assumption above); records of patterns no child of both sets has are not compared, so
wrong links among them are not counted (none when no child is in both sets). A child held in two
or more of the recipient's sets is *linked* when its correct links (over the pairs of sets that
share cells) join all its records into one: a set sharing no cell with the others is never
joined, a set joined through a third is. Per recipient, ``link_rate`` is the share of its
children held in two or more of its sets that are linked (NaN when no child is held in two), and
``n_false_links`` the wrong links summed over pairs of sets and patterns. Wrong links do not
lower ``link_rate`` (a linker cannot tell them from right ones; they are counted apart), and a
linker with fuzzier rules (values that changed, stable fields compared across censuses) could
link more.

*Singled out.* For scenario :math:`S` (the fields the intruder knows), only the releases of a
group holding a field of :math:`S` count (:math:`g_S`; the others give the intruder nothing to
match). The key of child :math:`c` in group :math:`g` is

.. math::

    q_g(c) = \Big(\big(h_{r,t}(c)\big)_{r \in g_S,\, t},\ \big(v_{c,t,f} \text{ if } g_S
    \text{ holds } (c, t, f) \text{ else } \bot\big)_{(t, f) \in C_g}\Big)

with :math:`h_{r,t}(c)` whether release :math:`r` holds the child's row at census :math:`t`,
:math:`C_g = \{(t, f) : f \in S`, some release of :math:`g_S` holds field :math:`f` at
:math:`t\}` and :math:`v_{c,t,f}` the child's value (exact values, no projection or
generalisation: a release holding ``month_of_birth`` does not match a scenario field
``date_of_birth``; a missing value is a value of its own; :math:`\bot`, "not held", is one more
value, as "absent" is in :func:`riskcalc.trajectory_uniqueness`). The intruder is assumed to know
the scenario fields at every census the record covers, and which of the group's releases hold
the child: the single-release measure's assumption (the prosecutor knows the child is in the
extract) carried to each release. That assumption is what makes the measure monotone: the
recipient can always read one release's records alone, so joining a release to a group, or
adding one, must never hide a child a release already singles out; with membership in the key,
the joined classes refine each release's classes. With
:math:`f_g(c) = \#\{c' \in \text{records of } g_S : q_g(c') = q_g(c)\}`, :math:`c` is singled
out by :math:`g` when it is a record of :math:`g_S` and :math:`f_g(c) = 1`, and by :math:`R`
when it is singled out by one of :math:`R`'s groups. Per child,

.. math::

    E(c) = \#\{R : R \text{ singles out } c\}.

With :math:`\hat g(R)` the group of all of :math:`R`'s record releases, the linked count is

.. math::

    E^{+}(c) = \#\{R : f_{\hat g(R)}(c) = 1\} \ge E(c),

since the joined classes refine each group's (membership is in the key).

Computation: the per-release held masks are computed once per distinct
``(years, year_groups, population)`` and the class sizes once per distinct group
``{(F_r \cap S, years, year_groups, population)}``, shared across releases and recipients;
each group is one call of the engine's grouping kernel on the children's cells; per-child counts
are boolean sums per recipient. Links are computed once per distinct pair of record sets (their
comparable fields and populations): one grouping per pair of coverage patterns; joining a
child's records is a label propagation over the pairs, vectorised over children. The loops run
over releases, groups, pairs, patterns and cells, never over children or classes.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import _format as fmt
from .._core.grouping import densify_fast, group_codes
from .._core.longtable import long_frame
from .._core.panel import _time_labels
from .._render import Displayed
from .._validation import check_bool, check_frame, check_int
from ..exceptions import InvalidParameterError, MissingColumnError
from .scenarios import Scenario, load_scenarios

__all__ = ["LedgerExposureResult", "ledger_exposure", "LEDGER_COLUMNS"]

#: The columns a ledger frame must have.
LEDGER_COLUMNS = (
    "release_id",
    "recipient",
    "fields",
    "years",
    "year_groups",
    "population",
    "reference",
)
_REFERENCES = ("pmr", "apmr", "none")
_BY = ("nc_year", "fsm_eligible", "sen_provision", "region")
#: Bytes of pupil x census masks kept for reuse across recipients (1 GiB).
_HELD_BUDGET = 1 << 30
#: Bytes of per-pupil codes of (field set, census) partitions kept for reuse (1 GiB).
_CELLS_BUDGET = 1 << 30


@dataclass(frozen=True, slots=True)
class LedgerExposureResult(Displayed):
    """How many recipients of a ledger can single out each child of a panel.

    Attributes
    ----------
    scenario : str
        The scenario's name.
    scenario_fields : tuple of str
    n_children : int
        Distinct pupils in the panel (the denominator of every share).
    n_releases : int
        Releases in the ledger.
    n_aggregate : int
        Releases skipped as aggregate (no records).
    n_empty : int
        Record releases holding no child of the panel (their years are not the panel's, or
        their population or year groups select nobody): the figures say nothing about them.
    n_recipients : int
    median, p90 : float
        Median and 90th percentile of :math:`E(c)` over the children (``inverted_cdf``: the
        smallest count reached by at least half, 90%, of the children).
    thresholds : tuple of int
        The exposure levels counted (default 1, 5, 20 recipients).
    n_at_least : tuple of int
        Children singled out by at least that many recipients.
    share_at_least : tuple of float
        These figures keep each recipient's record sets unjoined: a lower bound where a
        recipient holds sets without a shared reference.
    median_linked, p90_linked, n_at_least_linked, share_at_least_linked
        The same with each recipient's record sets all joined as if they shared one reference
        (perfect linkage): an upper bound, equal to the unjoined figures when no recipient
        holds two record sets.
    per_recipient : pandas.DataFrame
        One row per recipient (sorted by name): ``recipient``, ``recipient_type``,
        ``n_releases``, ``n_record_releases`` (not aggregate), ``n_record_sets``,
        ``n_unjoined``, ``n_held`` (children in any of its records), ``n_singled_out``,
        ``share_of_held``, ``share_of_panel``, ``n_singled_out_linked`` (its record sets all
        joined), ``link_rate`` (of the children held in two or more of its record sets, the
        share its correct links on shared cells join into one; NaN when no child is in two)
        and ``n_false_links`` (wrong links made by the same rule): see the module docstring.
    per_child : pandas.DataFrame
        One row per pupil, sorted by ``pupil_id``: ``n_recipients``, ``n_recipients_linked``
        and the breakdown fields (``nc_year``, ``fsm_eligible``, ``sen_provision``, ``region``,
        those the panel has) at the child's last census in the panel.
    by : pandas.DataFrame
        Per breakdown field and value: ``n_children``, ``median``, ``p90``, ``n_at_least_k``,
        ``share_at_least_k``, then the linked bound's ``median_linked``, ``p90_linked``,
        ``n_at_least_linked_k`` and ``share_at_least_linked_k``.
    link_fields_missing : tuple of str
        Fields of record releases the panel does not have: not compared when linking record
        sets (``link_rate`` is then understated).

    Examples
    --------
    >>> import pandas as pd
    >>> import riskcalc as rc
    >>> panel = pd.DataFrame({"pupil_id": ["a", "b", "c"], "academic_year": 2019,
    ...                       "urn": [1, 1, 2]})
    >>> ledger = pd.DataFrame({"release_id": ["r1"], "recipient": ["uni"], "fields": [("urn",)],
    ...                        "years": [(2019,)], "year_groups": [()], "population": ["all"],
    ...                        "reference": ["none"]})
    >>> res = rc.ledger_exposure(panel, ledger, ["urn"])
    >>> res.n_at_least, res.share_at_least  # only c is alone in its school
    ((1, 0, 0), (0.3333333333333333, 0.0, 0.0))
    """

    scenario: str
    scenario_fields: tuple[str, ...]
    n_children: int
    n_releases: int
    n_aggregate: int
    n_empty: int
    n_recipients: int
    median: float
    p90: float
    thresholds: tuple[int, ...]
    n_at_least: tuple[int, ...]
    share_at_least: tuple[float, ...]
    median_linked: float
    p90_linked: float
    n_at_least_linked: tuple[int, ...]
    share_at_least_linked: tuple[float, ...]
    per_recipient: pd.DataFrame = field(repr=False)
    per_child: pd.DataFrame = field(repr=False)
    by: pd.DataFrame = field(repr=False)
    link_fields_missing: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The headline figures, one row per exposure level: counts, then shares."""
        return pd.DataFrame(
            {
                "scenario": self.scenario,
                "at_least_recipients": list(self.thresholds),
                "n_children": self.n_children,
                "n_exposed": list(self.n_at_least),
                "exposed_share": list(self.share_at_least),
                "n_exposed_linked": list(self.n_at_least_linked),
                "exposed_share_linked": list(self.share_at_least_linked),
                "median": self.median,
                "p90": self.p90,
                "median_linked": self.median_linked,
                "p90_linked": self.p90_linked,
            }
        )

    def __repr__(self) -> str:
        def between(low: str, high: str) -> str:
            return low if low == high else f"between {low} and {high}"

        levels = ", ".join(
            f">={k}: "
            + between(fmt.count_pct(n, self.n_children), fmt.count_pct(u, self.n_children))
            for k, n, u in zip(
                self.thresholds, self.n_at_least, self.n_at_least_linked, strict=True
            )
        )
        empty = f", {self.n_empty} holding no child of the panel" if self.n_empty else ""
        missing = (
            f"; fields not in the panel, not compared when linking: "
            f"{', '.join(self.link_fields_missing)}"
            if self.link_fields_missing
            else ""
        )
        return (
            f"LedgerExposureResult(scenario={self.scenario!r}, {self.n_children:,} children, "
            f"{self.n_recipients} recipients, {self.n_releases} releases{empty}; recipients "
            f"singling a child out (record sets unjoined, then all linked): median "
            f"{between(f'{self.median:g}', f'{self.median_linked:g}')}, p90 "
            f"{between(f'{self.p90:g}', f'{self.p90_linked:g}')}; {levels}{missing})"
        )


def _scenario(scenario: Any, func: str) -> tuple[str, tuple[str, ...]]:
    if isinstance(scenario, Scenario):
        return scenario.name, tuple(scenario.fields)
    if isinstance(scenario, str):
        known = {s.name: s for s in load_scenarios()}
        if scenario not in known:
            raise InvalidParameterError(
                f"The 'scenario' parameter of {func} must be a Scenario, a list of fields or one of "
                f"{', '.join(repr(k) for k in known)}. Got {scenario!r}."
            )
        return scenario, tuple(known[scenario].fields)
    if isinstance(scenario, Sequence) and scenario and all(isinstance(f, str) for f in scenario):
        return "custom", tuple(dict.fromkeys(scenario))
    raise InvalidParameterError(
        f"The 'scenario' parameter of {func} must be a Scenario, a scenario name or a non-empty "
        f"list of field names. Got {type(scenario).__name__}."
    )


def _nc_year(value: Any) -> str:
    """An NC year as text: Reception is ``"R"`` whether written ``R`` or ``0`` (the ledger's
    convention), ``"07"`` and ``7`` are ``"7"``."""
    text = str(value).strip()
    if text.upper() in ("R", "RECEPTION"):
        return "R"
    try:
        number = int(float(text))
    except ValueError:
        return text
    return "R" if number == 0 else str(number)


def _as_tuple(value: Any) -> tuple:
    if value is None or (not isinstance(value, (tuple, list, np.ndarray)) and pd.isna(value)):
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@dataclass(frozen=True, slots=True)
class _Release:
    release_id: str
    recipient: str
    fields: tuple[str, ...]
    years: tuple[int, ...]
    year_groups: tuple[str, ...]
    population: str
    reference: str

    @property
    def pop_key(self) -> tuple:
        """What decides the rows held (the release id only for a sample: samples differ)."""
        own = self.release_id if self.population.startswith("sample:") else ""
        return (self.years, self.year_groups, self.population, own)


def _releases(ledger: pd.DataFrame, func: str) -> list[_Release]:
    check_frame(ledger, "ledger", func)
    missing = [c for c in LEDGER_COLUMNS if c not in ledger.columns]
    if missing:
        raise MissingColumnError(f"The ledger given to {func} has no column {missing[0]!r}.")
    out = []
    for i, row in enumerate(ledger[list(LEDGER_COLUMNS)].itertuples(index=False)):
        ref = str(row.reference)
        if ref not in _REFERENCES:
            raise InvalidParameterError(
                f"Ledger row {i + 1}: 'reference' must be one of 'pmr', 'apmr', 'none'."
            )
        pop = str(row.population).strip()
        if not (pop in ("all", "aggregate") or pop.startswith(("las:", "sample:"))):
            raise InvalidParameterError(
                f"Ledger row {i + 1}: 'population' must be 'all', 'aggregate', 'sample:<fraction>' "
                "or 'las:<code>,...'."
            )
        if pop.startswith("sample:"):
            try:
                frac = float(pop[len("sample:") :])
            except ValueError:
                frac = float("nan")
            if not 0 < frac <= 1:
                raise InvalidParameterError(
                    f"Ledger row {i + 1}: the sample fraction of 'population' must be in (0, 1]."
                )
        out.append(
            _Release(
                str(row.release_id),
                str(row.recipient),
                tuple(sorted({str(f) for f in _as_tuple(row.fields)})),
                tuple(sorted({int(y) for y in _as_tuple(row.years)})),
                tuple(sorted({_nc_year(g) for g in _as_tuple(row.year_groups)})),
                pop,
                ref,
            )
        )
    return out


def sample_draws(release_id: str, n_pupils: int, sample_seed: int) -> np.ndarray:
    """The uniform draw of each pupil (pupils in sorted id order) for a sampled release."""
    h = int.from_bytes(hashlib.blake2b(release_id.encode("utf-8"), digest_size=8).digest(), "big")
    return np.random.default_rng([sample_seed, h]).random(n_pupils)


class _Panel:
    """The panel as census x pupil matrices of integer codes (pupils in sorted id order).

    Memory: ``pid`` (int32) and ``t`` (int8) per row; per field asked for, one census x pupil
    int32 code matrix (:meth:`values`); per population, a census x pupil bool mask
    (:meth:`held`, least recently used dropped past :data:`_HELD_BUDGET`); per field set and
    census, one int32 dense code per pupil (:meth:`cells`, within :data:`_CELLS_BUDGET`)."""

    def __init__(self, panel: pd.DataFrame, id: str, func: str):
        self.frame = panel
        ids = panel[id]
        if isinstance(ids.dtype, pd.CategoricalDtype):  # codes as they are, unused dropped
            codes = ids.cat.codes.to_numpy()
            uniq = ids.cat.categories
            if (codes < 0).any():
                raise InvalidParameterError(f"The {id!r} column of the panel has missing values.")
            used = np.bincount(codes, minlength=len(uniq)) > 0
            if not used.all():
                codes = (np.cumsum(used) - 1)[codes]
                uniq = uniq[used]
        else:
            if ids.isna().any():
                raise InvalidParameterError(f"The {id!r} column of the panel has missing values.")
            codes, uniq = pd.factorize(ids, sort=False)
            uniq = pd.Index(uniq)
        # hash codes, then one sort of the distinct ids only: pupils in sorted id order
        try:
            order = np.asarray(pc.sort_indices(pa.array(uniq)))
        except (TypeError, ValueError, pa.ArrowException):  # mixed types: numpy's order
            order = np.argsort(np.asarray(uniq, dtype=object), kind="stable")
        rank = np.empty(len(order), np.int32)
        rank[order] = np.arange(len(order), dtype=np.int32)
        self.pid = rank[codes]
        del codes
        #: the pupils' ids in sorted order (an Index: Arrow-backed text stays so)
        self.ids = uniq.take(order)
        t, self.labels = _time_labels(panel)
        self.t = t.astype(np.int8 if len(self.labels) < 128 else np.int32)
        self.n, self.m = len(self.ids), len(self.labels)
        self.census_year = np.array([int(lab.split()[0]) for lab in self.labels], np.int64)
        #: present[t, p]: the pupil has a row at census t
        self.present = np.zeros((self.m, self.n), bool)
        self.present[self.t, self.pid] = True
        if int(np.count_nonzero(self.present)) != len(panel):
            raise InvalidParameterError(
                f"The panel given to {func} has two rows for one pupil in one census."
            )
        self._values: dict[str, np.ndarray] = {}
        self._uniques: dict[str, np.ndarray] = {}
        # held masks by population key, least recently used first, within a memory budget
        self._held: OrderedDict[tuple, _Held] = OrderedDict()
        self._held_max = max(4, _HELD_BUDGET // max(self.n * self.m, 1))
        self._cells: OrderedDict[tuple, tuple[np.ndarray, int]] = OrderedDict()
        self._cells_max = max(8, _CELLS_BUDGET // max(4 * self.n, 1))

    @property
    def year(self) -> np.ndarray:
        """The academic year of each row."""
        return self.census_year[self.t]

    def values(self, f: str) -> np.ndarray:
        """Censuses x pupils int32 codes of a field, equal iff the values are equal (a missing
        value is one more value); -1 where the pupil has no row."""
        if f not in self._values:
            codes, uniq = pd.factorize(self.frame[f], sort=False)
            codes = codes.astype(np.int32, copy=False)
            codes[codes < 0] = len(uniq)  # missing: a value of its own
            out = np.full((self.m, self.n), -1, np.int32)
            out[self.t, self.pid] = codes
            self._values[f] = out
            # the distinct values by code; the last (missing) is never selected by _member
            self._uniques[f] = np.asarray(uniq, dtype=object)
        return self._values[f]

    def _member(self, column: str, allowed, t: int) -> np.ndarray:
        """Pupils whose ``column`` at census ``t``, as text, is one of ``allowed``; NC years as
        :func:`_nc_year` writes them; no row or a missing value is never selected."""
        codes = self.values(column)[t]
        uniq = self._uniques[column]
        text = _nc_year if column == "nc_year" else str
        ok = np.isin(np.asarray([text(u) for u in uniq], dtype=object), list(allowed))
        ok = np.append(ok, [False, False])  # missing (len(uniq)), no row (-1)
        return ok[codes]

    def held(self, rel: _Release, sample_seed: int) -> _Held:
        """Which children's rows the release holds, per census."""
        key = rel.pop_key
        if key not in self._held:
            mask = np.zeros((self.m, self.n), bool)
            sel = [t for t in range(self.m) if int(self.census_year[t]) in rel.years]
            pop = rel.population
            draws = None
            if pop.startswith("sample:") and sel:
                frac = float(pop[len("sample:") :])
                draws = sample_draws(rel.release_id, self.n, sample_seed) < frac
            for t in sel:
                row = mask[t]
                np.copyto(row, self.present[t])
                if rel.year_groups:
                    row &= self._member("nc_year", rel.year_groups, t)
                if pop.startswith("las:"):
                    las = [s.strip() for s in pop[len("las:") :].split(",") if s.strip()]
                    row &= self._member("la_code", las, t)
                if draws is not None:
                    row &= draws
            any_row: np.ndarray = np.asarray(mask.any(axis=0))
            times = tuple(t for t in sel if mask[t].any())
            self._held[key] = _Held(mask, any_row, times)
            if len(self._held) > self._held_max:
                self._held.popitem(last=False)
        self._held.move_to_end(key)
        return self._held[key]

    def cells(self, fields: tuple[str, ...], t: int) -> tuple[np.ndarray, int]:
        """The pupils' dense codes (int32) of their values on ``fields`` at census ``t`` (equal
        iff every value is equal), and the number of codes: one partition per field set and
        census, shared by every group whose releases hold those cells."""
        key = (fields, t)
        if key not in self._cells:
            cols = [self.values(f)[t] + 1 for f in fields]  # no row (-1) becomes 0
            ids, sizes = group_codes(cols, [len(self._uniques[f]) + 2 for f in fields])
            self._cells[key] = (ids.astype(np.int32, copy=False), int(len(sizes)))
            if len(self._cells) > self._cells_max:
                self._cells.popitem(last=False)
        self._cells.move_to_end(key)
        return self._cells[key]

    def last_rows(self) -> np.ndarray:
        """Each pupil's row at its last census (pupils in sorted id order)."""
        last = np.full(self.n, -1, np.int64)
        rows = np.arange(len(self.pid), dtype=np.int64)
        for t in range(self.m):  # later censuses overwrite earlier ones
            at = self.t == t
            last[self.pid[at]] = rows[at]
        return last


@dataclass(frozen=True, slots=True)
class _Held:
    """A population's rows: ``mask[t, p]`` (census-major, so one census is contiguous), the
    children held at any census, and the censuses with a child held."""

    mask: np.ndarray
    any_row: np.ndarray
    times: tuple[int, ...]


def _group_singled(
    panel: _Panel, group: list[_Release], fields: tuple[str, ...], sample_seed: int
) -> np.ndarray:
    """Children singled out by one joined group of releases (bool per pupil).

    The key of a child: which of the group's releases hold it at each census, then its value on
    each cell (census, scenario field) the group holds, "not held" where no release of the group
    holds the child's cell. Computed per census as two codes: the pattern of populations
    holding the child (bits, then dense ids) and the dense code of its values on the fields those
    populations hold (:meth:`_Panel.cells`, one partition per field set and census, shared
    across groups); the pattern decides which fields are held, so the pair carries the whole
    key's census part. The class sizes are those of the censuses' pairs combined."""
    rels = [r for r in group if any(f in fields for f in r.fields)]
    out = np.zeros(panel.n, bool)
    if not rels:
        return out
    pops = sorted({r.pop_key for r in rels})
    helds = [panel.held(next(r for r in rels if r.pop_key == pop), sample_seed) for pop in pops]
    # the scenario fields each population's releases hold, as bits over the scenario fields
    fbits = [
        sum(
            1 << j
            for j, f in enumerate(fields)
            if any(f in r.fields for r in rels if r.pop_key == pop)
        )
        for pop in pops
    ]
    any_held = np.zeros(panel.n, bool)
    for h in helds:
        any_held |= h.any_row
    rec = np.flatnonzero(any_held)
    if not len(rec):
        return out
    times = sorted({t for h in helds for t in h.times})
    cols: list[np.ndarray] = []
    levels: list[int] = []
    wide = len(fields) > 62  # field bits beyond int64: Python integers (a slow, rare path)
    for t in times:
        at = [(i, h.mask[t][rec]) for i, h in enumerate(helds) if t in h.times]
        pat, n_pat = _pattern(at, len(rec))
        # the fields held under each pattern: the union of its populations' fields (bits),
        # read at each pattern's first record; then the records' field sets
        first = np.empty(n_pat, np.int64)
        first[pat[::-1]] = np.arange(len(rec) - 1, -1, -1)
        bits_of_pat = np.zeros(n_pat, object if wide else np.int64)
        for i, mask in at:
            bits_of_pat[mask[first]] |= fbits[i]
        sets, set_of_pat = np.unique(bits_of_pat, return_inverse=True)
        rec_set = set_of_pat.reshape(-1)[pat]
        z = np.zeros(len(rec), np.int32)
        n_z = 1
        for s_id, bits in enumerate(sets.tolist()):
            if not bits:
                continue  # held by none of the populations at t: "not held", one value
            sub = tuple(f for j, f in enumerate(fields) if bits >> j & 1)
            codes, n_codes = panel.cells(sub, t)
            who = np.flatnonzero(rec_set == s_id)
            z[who] = codes[rec[who]]
            n_z = max(n_z, n_codes)
        cols.append(pat.astype(np.int64) * n_z + z)
        levels.append(n_pat * n_z)
    fk = _class_sizes_levels(cols, levels)
    out[rec[fk == 1]] = True
    return out


def _pattern(at: list[tuple[int, np.ndarray]], n: int) -> tuple[np.ndarray, int]:
    """Dense ids of the pattern of masks true at each record (bits of up to 62 masks a word,
    in the narrowest unsigned type; each word numbered, then the words' ids combined), and the
    number of ids."""
    dense = []
    for w in range(0, max(len(at), 1), 62):
        part = at[w : w + 62]
        dt: Any = next(
            d
            for d, k in ((np.uint8, 8), (np.uint16, 16), (np.uint32, 32), (np.uint64, 64))
            if len(part) <= k
        )
        word: Any = np.zeros(n, dt)
        for b, (_, mask) in enumerate(part):
            bit: Any = mask.view(np.uint8)
            word |= (bit if dt is np.uint8 else bit.astype(dt)) << dt(b)
        dense.append(densify_fast(word.astype(np.int64), 1 << max(len(part), 1)))
    if len(dense) == 1:
        return dense[0][0], len(dense[0][1])
    ids, sizes = group_codes([d[0] for d in dense], [len(d[1]) for d in dense])
    return ids, len(sizes)


def _class_sizes_levels(cols: list[np.ndarray], levels: list[int]) -> np.ndarray:
    """Per-record class size on non-negative code columns with known numbers of levels."""
    if len(cols) == 1:
        ids, sizes = densify_fast(cols[0], levels[0])
    else:
        ids, sizes = group_codes(cols, levels)
    return sizes[ids]


def _panel_frame(panel: Any, fields: Sequence[str], extra: Sequence[str], func: str):
    """The panel as a pandas DataFrame: as it is, or read with only the columns needed."""
    if isinstance(panel, pd.DataFrame):
        return check_frame(panel, "panel", func, form=" in long form")
    if type(panel).__name__ == "PanelDataset" and hasattr(panel, "path"):
        panel = panel.path  # synthetic.generate_panel(out=...): the Parquet dataset it wrote
    if isinstance(panel, (pd.Series, np.ndarray, list, tuple, dict)) or panel is None:
        return check_frame(panel, "panel", func, form=" in long form")
    optional = ["census", "nc_year", "la_code", *extra]
    return long_frame(panel, ["pupil_id", "academic_year", *fields], optional, func=func)


#: Bytes of censuses x pupils value codes of non-scenario fields kept for linking (512 MiB).
_CODES_BUDGET = 1 << 29
#: Fields never compared when linking record sets (the true pupil id scores the links).
_NOT_LINKED = ("pupil_id",)


def _compact_codes(panel: _Panel, f: str) -> np.ndarray:
    """Censuses x pupils codes of a field in the smallest signed integer type; -1 where the
    pupil has no row (a new array, not kept in the panel)."""
    codes, uniq = pd.factorize(panel.frame[f], sort=False)
    codes[codes < 0] = len(uniq)  # missing: a value of its own
    top = int(codes.max()) if len(codes) else 0
    dtype = next(d for d in (np.int8, np.int16, np.int32, np.int64) if top < np.iinfo(d).max)
    out = np.full((panel.m, panel.n), -1, dtype)
    out[panel.t, panel.pid] = codes
    return out


def _records(panel: _Panel, rels: Sequence[_Release], sample_seed: int) -> np.ndarray:
    """Children held in any record of ``rels`` (bool per pupil)."""
    out = np.zeros(panel.n, bool)
    for pop in sorted({r.pop_key for r in rels}):
        out |= panel.held(next(r for r in rels if r.pop_key == pop), sample_seed).any_row
    return out


def _set_cells(
    panel: _Panel, rels: Sequence[_Release], columns: frozenset, sample_seed: int
) -> dict[tuple[int, str], list[_Release]]:
    """The cells (census, field) a record set holds for some child, each with one release per
    population holding it (fields the panel lacks are not cells: they cannot be compared)."""
    cells: dict[tuple[int, str], dict[tuple, _Release]] = {}
    for r in rels:
        times = panel.held(r, sample_seed).times
        for f in r.fields:
            if f in columns and f not in _NOT_LINKED:
                for t in times:
                    cells.setdefault((t, f), {}).setdefault(r.pop_key, r)
    return {c: [by_pop[k] for k in sorted(by_pop)] for c, by_pop in cells.items()}


def _pair_links(
    panel: _Panel,
    a: Sequence[_Release],
    b: Sequence[_Release],
    columns: frozenset,
    sample_seed: int,
    census_codes,
) -> tuple[np.ndarray | None, int]:
    """Linking two record sets of one recipient on the cells both hold (the linkage_risk rule
    within coverage patterns).

    The shared cells are the (census, field) both sets hold for some child; a record *covers* a
    shared cell when its set holds that cell for the child, and its coverage pattern is the
    shared cells it covers. For each pair of patterns ``(P, Q)`` held by a child in both sets,
    the records of ``a`` with pattern ``P`` and of ``b`` with pattern ``Q`` are compared on the
    cells ``P`` and ``Q`` both cover: a value combination held by exactly one record on each
    side links the two, correctly when they are the same pupil. One grouping per pattern pair;
    returns the children linked correctly (bit-packed; None when the sets share no cell) and
    the number of wrong links. ``census_codes(t, fields)``: one code per pupil, equal iff the
    pupils' values on ``fields`` at census ``t`` are equal."""
    ca, cb = _set_cells(panel, a, columns, sample_seed), _set_cells(panel, b, columns, sample_seed)
    shared = sorted(set(ca) & set(cb))
    if not shared:
        return None, 0
    from .._core.grouping import group_codes

    masks: dict[tuple, np.ndarray] = {}

    def held_cell(rels: list[_Release], t: int) -> np.ndarray:
        key = (tuple(r.pop_key for r in rels), t)
        if key not in masks:
            m = np.zeros(panel.n, bool)
            for r in rels:
                m |= panel.held(r, sample_seed).mask[t]
            masks[key] = m
        return masks[key]

    sides = []
    for rels, cells in ((a, ca), (b, cb)):
        rec = np.flatnonzero(_records(panel, rels, sample_seed))
        # a cell's coverage is the union of its populations' masks at its census: the distinct
        # (populations, census) masks are few, so the pattern is taken over them (one row
        # each, not one per shared cell) and read back per cell
        keys = [(tuple(r.pop_key for r in cells[c]), c[0]) for c in shared]
        distinct = list(dict.fromkeys(keys))
        rels_of = {k: cells[c] for k, c in zip(keys, shared)}
        row_of = np.asarray([distinct.index(k) for k in keys], np.int64)
        cover = np.stack([held_cell(rels_of[k], k[1])[rec] for k in distinct])  # masks x records
        # ``which``: each record's coverage pattern (dense ids on the packed bits)
        packed = [row.astype(np.int64) for row in np.packbits(cover, axis=0)]
        which, sizes = group_codes(packed, [256] * len(packed))
        which = np.asarray(which, np.int64)
        del packed
        order = np.argsort(which, kind="stable")
        bounds = np.r_[0, np.cumsum(sizes)]
        groups = [order[bounds[i] : bounds[i + 1]] for i in range(len(sizes))]
        first = order[bounds[:-1]]
        pats = [cover[:, i][row_of] for i in first]  # per pattern: the shared cells covered
        del cover, order
        pos = np.full(panel.n, -1, np.int64)
        pos[rec] = np.arange(len(rec))
        sides.append((rec, None, groups, pats, pos, which))
    (rec_a, _, groups_a, pats_a, pos_a, which_a) = sides[0]
    (rec_b, _, groups_b, pats_b, pos_b, which_b) = sides[1]
    both = np.flatnonzero((pos_a >= 0) & (pos_b >= 0))
    pairs = np.unique(which_a[pos_a[both]] * len(groups_b) + which_b[pos_b[both]])
    ok = np.zeros(panel.n, bool)
    n_false = 0
    for code in pairs.tolist():
        p, q = divmod(code, len(groups_b))
        ra, rb = rec_a[groups_a[p]], rec_b[groups_b[q]]
        na = len(ra)
        by_census: dict[int, list[str]] = {}
        for i in np.flatnonzero(pats_a[p] & pats_b[q]).tolist():
            t, f = shared[i]
            by_census.setdefault(t, []).append(f)
        if by_census:  # one column per census: the fields compared there, combined
            cols = []
            for t, fs in sorted(by_census.items()):
                v = census_codes(t, tuple(fs))
                cols.append(np.concatenate([v[ra], v[rb]]))
            ids, sizes = group_codes(cols, [int(c.max()) + 1 for c in cols])
        else:  # nothing to compare: one class
            ids, sizes = np.zeros(na + len(rb), np.int64), np.array([na + len(rb)])
        nc = len(sizes)
        one = (np.bincount(ids[:na], minlength=nc) == 1) & (
            np.bincount(ids[na:], minlength=nc) == 1
        )
        who_a = np.full(nc, -1, np.int64)
        who_b = np.full(nc, -1, np.int64)
        who_a[ids[:na]] = ra
        who_b[ids[na:]] = rb
        correct = one & (who_a == who_b)
        ok[who_a[correct]] = True
        n_false += int(np.count_nonzero(one & (who_a != who_b)))
    return np.packbits(ok), n_false


def _connected(held: np.ndarray, edges: list[tuple[int, int, np.ndarray]]) -> np.ndarray:
    """Per row (child) of ``held`` (children x record sets): whether the edges (set a, set b,
    bool per child: linked correctly) connect every set holding the child. Labels start as the
    set index and take the smaller label across each edge until nothing changes (at most one
    round per set); a child is linked when its held sets all carry one label."""
    n, k = held.shape
    label = np.tile(np.arange(k, dtype=np.int64), (n, 1))
    for _ in range(k):
        changed = False
        for a, b, ok in edges:
            rows = np.flatnonzero(ok)
            lo = np.minimum(label[rows, a], label[rows, b])
            if (label[rows, a] != lo).any() or (label[rows, b] != lo).any():
                changed = True
                label[rows, a] = lo
                label[rows, b] = lo
        if not changed:
            break
    top = np.where(held, label, -1).max(axis=1)
    low = np.where(held, label, k).min(axis=1)
    return top == low


def _check_fields(releases: list[_Release], scenario_fields, columns, func: str) -> None:
    cols = set(columns)
    for need in ("academic_year", "pupil_id"):
        if need not in cols:
            raise MissingColumnError(f"The panel given to {func} has no column {need!r}.")
    for f in scenario_fields:
        if f not in cols:
            raise MissingColumnError(
                f"The panel given to {func} has no column {f!r} (a field of the scenario)."
            )
    for rel in releases:
        if rel.population == "aggregate":
            continue
        if rel.year_groups and "nc_year" not in cols:
            raise MissingColumnError(
                f"Release {rel.release_id!r} selects year groups: the panel has no 'nc_year'."
            )
        if rel.population.startswith("las:") and "la_code" not in cols:
            raise MissingColumnError(
                f"Release {rel.release_id!r} selects LAs: the panel has no 'la_code'."
            )


def _groups(rels: list[_Release]) -> list[list[_Release]]:
    """A recipient's record sets: its pmr releases, its apmr releases, each 'none' release."""
    pmr = [r for r in rels if r.reference == "pmr"]
    apmr = [r for r in rels if r.reference == "apmr"]
    out = [g for g in (pmr, apmr) if g]
    return out + [[r] for r in rels if r.reference == "none"]


def _quantile(x: np.ndarray, q: float) -> float:
    return float(np.quantile(x, q, method="inverted_cdf")) if len(x) else float("nan")


def _levels(x: np.ndarray, thresholds) -> tuple[list[int], list[float]]:
    n = [int(np.count_nonzero(x >= k)) for k in thresholds]
    return n, [c / len(x) if len(x) else float("nan") for c in n]


_RECIPIENT_COLUMNS = (
    "recipient",
    "recipient_type",
    "n_releases",
    "n_record_releases",
    "n_record_sets",
    "n_unjoined",
    "n_held",
    "n_singled_out",
    "share_of_held",
    "share_of_panel",
    "n_singled_out_linked",
    "link_rate",
    "n_false_links",
)


def check_thresholds(thresholds: Sequence[int], func: str) -> tuple[int, ...]:
    """Exposure levels: whole numbers of at least 1, at least one of them."""
    if isinstance(thresholds, (str, bytes)) or not isinstance(thresholds, Sequence):
        raise InvalidParameterError(
            f"The 'thresholds' parameter of {func} must be a sequence of whole numbers of at "
            f"least 1. Got {type(thresholds).__name__}."
        )
    if not thresholds:
        raise InvalidParameterError(f"The 'thresholds' parameter of {func} must not be empty.")
    return tuple(check_int(k, "thresholds", func, minimum=1) for k in thresholds)


class _Engine:
    """One panel, one ledger, one scenario: who each group of releases singles out.

    The class sizes of a group are computed once per distinct group (its releases' scenario
    fields and populations), whoever holds it: recipients, cumulative ledgers, counterfactual
    ledgers and coalitions all call :meth:`singled` and share the cache (bit-packed, n/8 bytes
    per group)."""

    def __init__(
        self,
        panel: pd.DataFrame,
        ledger: pd.DataFrame,
        name: str,
        fields: tuple[str, ...],
        releases: list[_Release],
        pn: _Panel,
        sample_seed: int,
    ):
        self.frame = panel
        self.ledger = ledger
        self.name = name
        self.fields = fields
        self.releases = releases
        self.panel = pn
        self.sample_seed = sample_seed
        self.rtype: dict[str, str] = {}
        if "recipient_type" in ledger.columns:
            for rel, t in zip(releases, ledger["recipient_type"].fillna("").astype(str).tolist()):
                self.rtype.setdefault(rel.recipient, t)
        self.by_recipient: dict[str, list[_Release]] = {}
        for rel in releases:
            self.by_recipient.setdefault(rel.recipient, []).append(rel)
        self.recipients = sorted(self.by_recipient)
        self._cache: dict[frozenset, np.ndarray] = {}
        self._columns = frozenset(str(c) for c in panel.columns)
        self._pairs: dict[frozenset, tuple[np.ndarray | None, int]] = {}
        self._codes: OrderedDict[str, np.ndarray] = OrderedDict()
        self._census: OrderedDict[tuple, np.ndarray] = OrderedDict()

    @classmethod
    def build(
        cls,
        panel: pd.DataFrame,
        ledger: pd.DataFrame,
        scenario: Any,
        func: str,
        *,
        sample_seed: int = 0,
        by: Sequence[str] = _BY,
        columns: Sequence[str] = (),
        links: bool = True,
    ) -> _Engine:
        """Check the inputs (one clear line each) and encode the panel once.

        A panel that is not a pandas DataFrame (a path, a :class:`synthetic.PanelDataset`, an
        Arrow, polars or DuckDB table, a Spark DataFrame) is read once, only the columns the
        measure needs: ``pupil_id``, ``academic_year``, the scenario's fields, and those of
        ``census``, ``nc_year``, ``la_code``, ``by`` and ``columns`` the panel has, and with
        ``links`` every field a release holds (the links compare them all)."""
        name, fields = _scenario(scenario, func)
        sample_seed = check_int(sample_seed, "sample_seed", func, minimum=0)
        releases = _releases(ledger, func)
        # every field a release holds: the links between record sets compare them all
        held = sorted({f for r in releases for f in r.fields} - set(fields)) if links else []
        panel = _panel_frame(panel, fields, [*by, *columns, *held], func)
        _check_fields(releases, fields, panel.columns, func)
        if not len(panel):
            raise InvalidParameterError(f"The panel given to {func} has no rows.")
        pn = _Panel(panel, "pupil_id", func)
        return cls(panel, ledger, name, fields, releases, pn, sample_seed)

    def group_key(self, group: Sequence[_Release]) -> frozenset:
        """What decides a group's class sizes: its releases' scenario fields and populations."""
        return frozenset(
            (tuple(f for f in r.fields if f in self.fields), r.pop_key)
            for r in group
            if any(f in self.fields for f in r.fields)
        )

    def singled(self, group: Sequence[_Release]) -> np.ndarray:
        """Children singled out by one joined group of releases (bool per pupil)."""
        key = self.group_key(group)
        if key not in self._cache:
            self._cache[key] = np.packbits(
                _group_singled(self.panel, list(group), self.fields, self.sample_seed)
            )
        return np.unpackbits(self._cache[key], count=self.panel.n).astype(bool)

    def recipient_singled(self, rels: Sequence[_Release]) -> np.ndarray:
        """Children singled out by a recipient holding ``rels``: by any of its record sets."""
        out = np.zeros(self.panel.n, bool)
        for g in _groups([r for r in rels if r.population != "aggregate"]):
            out |= self.singled(g)
        return out

    def recipient_linked(self, rels: Sequence[_Release]) -> np.ndarray:
        """Children singled out by a recipient holding ``rels`` with all its record sets joined
        as if they shared one reference (one group of all its record releases): the
        perfect-linkage bound, a superset of :meth:`recipient_singled` (release membership is
        in the key)."""
        return self.singled([r for r in rels if r.population != "aggregate"])

    def link_codes(self, f: str) -> np.ndarray:
        """Censuses x pupils codes of a field for linking: the panel's codes for a scenario
        field, otherwise compact codes kept within a memory budget (least recently used
        dropped first)."""
        if f in self.fields:
            return self.panel.values(f)
        if f not in self._codes:
            self._codes[f] = _compact_codes(self.panel, f)
            used = sum(c.nbytes for c in self._codes.values())
            while used > _CODES_BUDGET and len(self._codes) > 1:
                used -= self._codes.popitem(last=False)[1].nbytes
        self._codes.move_to_end(f)
        return self._codes[f]

    def census_codes(self, t: int, fields: tuple[str, ...]) -> np.ndarray:
        """One non-negative code per pupil, equal iff the pupils' values on ``fields`` at census
        ``t`` are equal (no row is one more value), cached within the codes' memory budget."""
        key = (t, fields)
        if key not in self._census:
            cols = [self.link_codes(f)[t].astype(np.int64) + 1 for f in fields]
            if len(cols) == 1:
                code = cols[0]
            else:
                from .._core.grouping import group_codes

                code = group_codes(cols, [int(c.max()) + 1 for c in cols])[0]
            del cols
            # dense ids or a field's codes: below the number of pupils or of values, so int32
            code = np.asarray(code).astype(np.int32)
            self._census[key] = code
            used = len(self._census) * code.nbytes
            while used > _CODES_BUDGET and len(self._census) > 1:
                self._census.popitem(last=False)
                used -= code.nbytes
        self._census.move_to_end(key)
        return self._census[key]

    def set_key(self, rels: Sequence[_Release]) -> frozenset:
        """What decides a record set's links: its releases' comparable fields and populations."""
        return frozenset(
            (tuple(f for f in r.fields if f in self._columns and f not in _NOT_LINKED), r.pop_key)
            for r in rels
        )

    def pair_links(
        self, a: Sequence[_Release], b: Sequence[_Release]
    ) -> tuple[np.ndarray | None, int]:
        """Children two record sets link correctly (bool per pupil, None when they share no
        cell) and the wrong links, cached per distinct pair of sets (linking is symmetric)."""
        key = frozenset((self.set_key(a), self.set_key(b)))
        if key not in self._pairs:
            self._pairs[key] = _pair_links(
                self.panel, a, b, self._columns, self.sample_seed, self.census_codes
            )
        ok, bad = self._pairs[key]
        return (None if ok is None else np.unpackbits(ok, count=self.panel.n).astype(bool)), bad

    def link_stats(self, rels: Sequence[_Release]) -> tuple[float, int]:
        """``(link_rate, n_false_links)`` of a recipient holding ``rels``.

        ``link_rate``: of the children held in two or more of its record sets, the share whose
        records the correct links (between pairs of sets sharing cells) join into one; NaN when
        no child is held in two sets. ``n_false_links``: wrong links, summed over the pairs."""
        sets = _groups([r for r in rels if r.population != "aggregate"])
        if len(sets) < 2:
            return float("nan"), 0
        held = np.stack([_records(self.panel, s, self.sample_seed) for s in sets], axis=1)
        multi = np.flatnonzero(np.count_nonzero(held, axis=1) >= 2)
        edges, n_false = [], 0
        for i in range(len(sets)):
            for j in range(i + 1, len(sets)):
                ok, bad = self.pair_links(sets[i], sets[j])
                n_false += bad
                if ok is not None:
                    edges.append((i, j, ok[multi]))
        if not len(multi):
            return float("nan"), n_false
        linked = _connected(held[multi], edges)
        return float(np.count_nonzero(linked) / len(multi)), n_false

    def held(self, rels: Sequence[_Release]) -> tuple[np.ndarray, int]:
        """Children held in any record of ``rels``, and how many of ``rels`` hold nobody."""
        pn = self.panel
        held = np.zeros(pn.n, bool)
        n_empty = 0
        recs = [r for r in rels if r.population != "aggregate"]
        for pop in sorted({r.pop_key for r in recs}):
            who = pn.held(next(r for r in recs if r.pop_key == pop), self.sample_seed).any_row
            held |= who
            n_empty += 0 if who.any() else sum(r.pop_key == pop for r in recs)
        return held, n_empty

    def recipient_row(
        self,
        recipient: str,
        singled: np.ndarray,
        linked: np.ndarray | None = None,
        *,
        links: bool = True,
    ) -> dict[str, Any]:
        """One row of ``per_recipient`` (``linked``: :meth:`recipient_linked`, computed when
        not given; ``links=False``: ``link_rate`` and ``n_false_links`` not computed, NaN)."""
        all_rels = self.by_recipient[recipient]
        rels = [r for r in all_rels if r.population != "aggregate"]
        n_sets = len(_groups(rels))
        held, n_empty = self.held(rels)
        if linked is None:
            linked = self.recipient_linked(rels)
        link_rate, n_false = self.link_stats(rels) if links else (float("nan"), float("nan"))
        n_held, n_single, n = int(held.sum()), int(singled.sum()), self.panel.n
        return {
            "recipient": recipient,
            "recipient_type": self.rtype.get(recipient, ""),
            "n_releases": len(all_rels),
            "n_record_releases": len(rels),
            "n_record_sets": n_sets,
            "n_unjoined": max(n_sets - 1, 0),
            "n_held": n_held,
            "n_singled_out": n_single,
            "share_of_held": n_single / n_held if n_held else float("nan"),
            "share_of_panel": n_single / n if n else float("nan"),
            "n_singled_out_linked": int(linked.sum()),
            "link_rate": link_rate,
            "n_false_links": n_false,
            "_n_empty": n_empty,
        }

    def per_child(
        self, exposure: np.ndarray, by: Sequence[str], linked: np.ndarray | None = None
    ) -> pd.DataFrame:
        """``pupil_id``, ``n_recipients`` (and ``n_recipients_linked`` when given) and the
        breakdown fields at each child's last census."""
        pn, panel = self.panel, self.frame
        per_child = pd.DataFrame({"pupil_id": pn.ids.astype(str), "n_recipients": exposure})
        if linked is not None:
            per_child["n_recipients_linked"] = linked
        by_cols = [b for b in by if b in panel.columns and b != "pupil_id"]
        if by_cols:
            # each child's last census: the row with the largest census index per pupil
            last = pn.last_rows()
            for b in by_cols:
                # pupils in sorted id order; a categorical keeps its categories' order
                per_child[b] = panel[b].iloc[last].reset_index(drop=True)
        return per_child

    def result(
        self,
        exposure: np.ndarray,
        rows: list[dict[str, Any]],
        thr: tuple[int, ...],
        by: Sequence[str],
        linked: np.ndarray | None = None,
    ) -> LedgerExposureResult:
        """The result of :func:`ledger_exposure` from per-child counts (unjoined and, when
        given, linked: otherwise computed over all recipients) and recipient rows."""
        if linked is None:
            linked = np.zeros(self.panel.n, np.int64)
            for recipient in self.recipients:
                linked += self.recipient_linked(self.by_recipient[recipient])
        n_empty = sum(r.pop("_n_empty", 0) for r in rows)
        per_recipient = pd.DataFrame(rows, columns=list(_RECIPIENT_COLUMNS))
        per_child = self.per_child(exposure, by, linked)
        n_at, share_at = _levels(exposure, thr)
        n_at_l, share_at_l = _levels(linked, thr)
        table = breakdown(per_child, "n_recipients", thr)
        if len(table):
            upper = breakdown(per_child, "n_recipients_linked", thr)
            table["median_linked"] = upper["median"]
            table["p90_linked"] = upper["p90"]
            for k in thr:
                table[f"n_at_least_linked_{k}"] = upper[f"n_at_least_{k}"]
            for k in thr:
                table[f"share_at_least_linked_{k}"] = upper[f"share_at_least_{k}"]
        missing = {
            f
            for r in self.releases
            if r.population != "aggregate"
            for f in r.fields
            if f not in self._columns
        }
        return LedgerExposureResult(
            scenario=self.name,
            scenario_fields=self.fields,
            n_children=self.panel.n,
            n_releases=len(self.releases),
            n_aggregate=sum(r.population == "aggregate" for r in self.releases),
            n_empty=n_empty,
            n_recipients=len(self.by_recipient),
            median=_quantile(exposure, 0.5),
            p90=_quantile(exposure, 0.9),
            thresholds=thr,
            n_at_least=tuple(n_at),
            share_at_least=tuple(share_at),
            median_linked=_quantile(linked, 0.5),
            p90_linked=_quantile(linked, 0.9),
            n_at_least_linked=tuple(n_at_l),
            share_at_least_linked=tuple(share_at_l),
            per_recipient=per_recipient,
            per_child=per_child,
            by=table,
            link_fields_missing=tuple(sorted(missing)),
        )


def breakdown(per_child: pd.DataFrame, column: str, thr: tuple[int, ...]) -> pd.DataFrame:
    """Per breakdown field and value of ``per_child``: the distribution of ``column``."""
    by_rows = []
    exposure = per_child[column].to_numpy()
    for b in per_child.columns:
        if b in ("pupil_id", column) or b.startswith("n_recipients"):
            continue
        codes, uniq = pd.factorize(per_child[b], sort=True, use_na_sentinel=False)
        for j, value in enumerate(uniq):
            x = exposure[codes == j]
            n_at, share_at = _levels(x, thr)
            row: dict[str, Any] = {
                "field": b,
                "value": str(value),
                "n_children": len(x),
                "median": _quantile(x, 0.5),
                "p90": _quantile(x, 0.9),
            }
            row |= {f"n_at_least_{k}": n for k, n in zip(thr, n_at)}
            row |= {f"share_at_least_{k}": s for k, s in zip(thr, share_at)}
            by_rows.append(row)
    return pd.DataFrame(by_rows)


def ledger_exposure(
    panel: pd.DataFrame,
    ledger: pd.DataFrame,
    scenario: Scenario | str | Sequence[str],
    *,
    thresholds: Sequence[int] = (1, 5, 20),
    by: Sequence[str] = _BY,
    sample_seed: int = 0,
    links: bool = True,
) -> LedgerExposureResult:
    r"""How many recipients of a ledger of releases can single out each child of a panel.

    Each release holds, for the pupils of its population, years and year groups, the columns
    ``fields``. A recipient's releases are joined on their pupil reference when they share one
    (``"pmr"``: all its PMR releases; ``"apmr"``: all its aPMR releases; ``"none"``: not
    joined), giving one record per child per joined group: the cells (census, field) the
    group's releases hold. Child :math:`c` is singled out by recipient :math:`R` under scenario
    :math:`S` when, in one of :math:`R`'s groups :math:`g`, its key (its values on the cells
    :math:`(t, f)`, :math:`f \in S`, of :math:`g`, "not held" where :math:`g` does not hold the
    child's cell, and which of :math:`g`'s releases hold the child at each census) is unique
    among :math:`g`'s records: :math:`f_g(c) = 1`. Only releases holding a scenario field
    count. The exposure of a child is

    .. math::

        E(c) = \#\{R : \exists g \in \mathrm{groups}(R),\ f_g(c) = 1\},

    reported as a distribution (median, 90th percentile, children with
    :math:`E(c) \ge 1, 5, 20`), per recipient (children it singles out) and by year group, FSM,
    SEN and region. Fields match exactly (no projection: ``month_of_birth`` does not answer a
    ``date_of_birth`` scenario). Groups without a shared reference are not joined, so
    :math:`E(c)` is a lower bound where a recipient holds several (``n_unjoined > 0``). The
    upper bound joins all of a recipient's record releases in one group :math:`\hat g(R)`, as
    if they shared one reference:

    .. math::

        E^{+}(c) = \#\{R : f_{\hat g(R)}(c) = 1\} \ge E(c)

    (``n_recipients_linked``, ``median_linked``, ``n_at_least_linked``, ...). How feasible the
    joins are is ``link_rate`` per recipient: two record sets are linked on the cells (census,
    field: every field they hold, not only the scenario's) both hold, a record linking to the
    one record of the other set with the same values when each is alone on them on its side
    (:math:`n_A = n_B = 1`, the :func:`linkage_risk` rule, records compared within coverage
    patterns); ``link_rate`` is the share of children held in two or more sets whose correct
    links join all their records, ``n_false_links`` the links joining two different pupils.
    It qualifies :math:`E^{+}`; it does not change it. The full definitions are in the
    docstring of :mod:`riskcalc.release.exposure`.

    Parameters
    ----------
    panel : pandas.DataFrame, path, PanelDataset, Arrow, polars or DuckDB table, or Spark DataFrame
        Long table, one row per pupil per census: ``pupil_id``, ``academic_year``, optionally
        ``census``, the fields released (``nc_year`` for year groups, ``la_code`` for LA
        populations), e.g. :func:`synthetic.generate_panel`. A path (a CSV, Parquet or Feather
        file, or a folder of Parquet parts such as ``generate_panel(out=...)`` writes) or a
        foreign table is read once, only the columns needed; a Spark DataFrame is encoded on
        the cluster and its integer codes collected once (docs/exposure.md, "Panels that are
        not pandas, and Spark").
    ledger : pandas.DataFrame
        One row per release: ``release_id``, ``recipient``, ``fields``, ``years``,
        ``year_groups``, ``population``, ``reference`` (``recipient_type``, ``date`` and
        ``tier`` are carried along when present).
    scenario : Scenario, str or sequence of str
        What the intruder knows: a :class:`Scenario`, the name of a built-in scenario
        (:func:`load_scenarios`) or field names.
    thresholds : sequence of int, default (1, 5, 20)
        Exposure levels: children singled out by at least that many recipients.
    by : sequence of str
        Breakdown fields (those the panel has), read at each child's last census.
    sample_seed : int, default 0
        Seed of the pupil samples of ``"sample:<fraction>"`` releases.
    links : bool, default True
        Compute ``link_rate`` and ``n_false_links`` per recipient (how reliably exact matching
        on the shared fields links its record sets). ``False`` leaves them NaN and reads only
        the columns the bounds need: both bounds are still computed, in less than half the
        time on the national synthetic panel (353 s and 7.9 GB against 763 s and 11.1 GB,
        ``benchmarks/bench_ledger.py``).

    Returns
    -------
    LedgerExposureResult

    References
    ----------
    .. [1] Article 29 Data Protection Working Party (2014). Opinion 05/2014 on Anonymisation
       Techniques (WP216), section 3: singling out, linkability, inference.
    .. [2] El Emam, K., Buckeridge, D., Tamblyn, R., Neisa, A., Jonker, E. and Verma, A. (2011).
       The re-identification risk of Canadians from longitudinal demographics. *BMC Medical
       Informatics and Decision Making* 11:46. https://doi.org/10.1186/1472-6947-11-46

    Examples
    --------
    >>> import pandas as pd
    >>> import riskcalc as rc
    >>> panel = pd.DataFrame({"pupil_id": ["a", "b", "c", "a", "b", "c"],
    ...                       "academic_year": [2019, 2019, 2019, 2020, 2020, 2020],
    ...                       "urn": [1, 1, 2, 1, 2, 2], "sex": list("FMFFMF")})
    >>> ledger = pd.DataFrame({"release_id": ["r1", "r2"], "recipient": ["uni", "firm"],
    ...                        "fields": [("urn",), ("urn", "sex")], "years": [(2019,), (2019, 2020)],
    ...                        "year_groups": [(), ()], "population": ["all", "all"],
    ...                        "reference": ["pmr", "none"]})
    >>> res = rc.ledger_exposure(panel, ledger, ["urn", "sex"])
    >>> res.per_child["n_recipients"].tolist()  # c: unique school in 2019; a, b: histories
    [1, 1, 2]
    >>> res.per_recipient[["recipient", "n_singled_out"]].values.tolist()
    [['firm', 3], ['uni', 1]]

    A recipient holding two record sets without a shared reference: joined, a's school in 2019
    and sex in 2020 single her out; the sets share no cell, so nobody can be linked:

    >>> ledger = pd.DataFrame({"release_id": ["r1", "r2"], "recipient": ["uni", "uni"],
    ...                        "fields": [("urn",), ("sex",)], "years": [(2019,), (2020,)],
    ...                        "year_groups": [(), ()], "population": ["all", "all"],
    ...                        "reference": ["pmr", "none"]})
    >>> res = rc.ledger_exposure(panel, ledger, ["urn", "sex"])
    >>> res.per_child[["n_recipients", "n_recipients_linked"]].values.tolist()
    [[0, 1], [1, 1], [1, 1]]
    >>> res.per_recipient["n_record_sets"].tolist(), res.per_recipient["link_rate"].tolist()
    ([2], [0.0])
    """
    func = "ledger_exposure"
    links = check_bool(links, "links", func)
    eng = _Engine.build(panel, ledger, scenario, func, sample_seed=sample_seed, by=by, links=links)
    thr = check_thresholds(thresholds, func)
    pn = eng.panel
    exposure = np.zeros(pn.n, np.int64)
    exposure_linked = np.zeros(pn.n, np.int64)
    rows = []
    for recipient in eng.recipients:
        rels = eng.by_recipient[recipient]
        singled = eng.recipient_singled(rels)
        linked = eng.recipient_linked(rels)
        exposure += singled
        exposure_linked += linked
        rows.append(eng.recipient_row(recipient, singled, linked, links=links))
    return eng.result(exposure, rows, thr, by, exposure_linked)
