"""Tier risk tables: every intruder scenario on every NPD-style tier extract.

A :class:`RiskTable` holds three tidy frames with fixed, documented columns:

``records`` (tiers 1, 2, 4 and any record-level extract), one row per (extract, scenario):
    ``tier``, ``scenario``, ``fields``, ``n_records``, ``n_classes``, ``k``, ``n_unique``,
    ``unique_share``, ``records_below_3``, ``records_below_3_share``, ``records_below_5``, ``records_below_5_share``,
    ``records_below_10``, ``records_below_10_share``, ``average_risk``, ``projected``,
    ``records_guessed_wrong``, ``records_wrongly_singled_out``.
    A scenario whose fields an extract does not all hold is *projected* onto it
    (:func:`project_scenario`): the intruder knows everything the fields determine (the
    registry's dependency graph, :func:`synthetic.closure`: a date of birth gives the year and
    month of birth, a postcode its sector, LSOA, home LA and home region, a school its LA) and
    uses the finest of it the extract holds. Such a row has ``projected`` true and ``fields``
    the extract's fields actually used; a scenario with no row at all on an extract is one none
    of whose fields (nor anything they determine) it holds.

    *Best guesses.* Where the intruder knows a field the extract lacks and nothing it holds
    determines it, but the extract holds the field that usually has its value
    (:data:`synthetic.GUESSED_BY`: the school's LA for the home LA, the school's region for the
    home region), that field is used as a guess, listed as ``"la_code~home_la"`` (the column
    used, ``~``, the field it stands for). The guess is wrong for pupils who cross an LA border
    to school: such a pupil cannot be singled out that way, so ``n_unique``, the
    ``records_below_t`` counts and ``average_risk`` count a pupil only when its class is small
    (or, for the average, ``1/fk``) *and* every guess is right for it. ``k`` and ``n_classes``
    describe the extract's classes, as in every row. ``records_guessed_wrong`` counts the pupils
    for whom a guess is wrong, and ``records_wrongly_singled_out`` those of them whose guessed
    class (their fields, with the guessed value in place of the column) holds exactly one pupil,
    another one: the intruder would single out the wrong pupil. Both are empty in rows without
    a guess. The truth comes from the cohort (:func:`tier_risk_table` reads ``home_la``); where
    it is absent, the row assumes every guess right (an upper bound) and the two counts are
    empty. Guessed rows have no attribute rows. :func:`risk_table` (your own extracts) does not
    project.
``attributes``, one row per (extract, scenario, sensitive field present and not known to the
    intruder): ``tier``, ``scenario``, ``sensitive``, ``records_revealed``, ``records_revealed_share``: the
    pupils whose class on the scenario's fields holds a single value of the sensitive field, so
    that matching them reveals it with certainty (sample uniques included);
    ``records_revealed_minority``, ``records_revealed_minority_share``: those of them whose revealed value is
    not the field's most common one (e.g. revealed as eligible for free meals, not as not
    eligible). Shares are of all records. ``projected`` as for ``records``.
``aggregates`` (tier 3), one row per published table: ``table``, ``dimensions``, ``n_cells``,
    ``n_records``, ``cells_at_most_t`` and ``records_in_cells_at_most_t`` for t = 1, 2, 3, 5, 10
    (cells with ``0 < count <= t``); under suppression below 5 with exact totals,
    ``suppressed_cells`` and the suppressed cells still exactly recoverable from the linked tables
    (``recoverable_cells``, ``recoverable_records``); under rounding to 5,
    ``rounded_recoverable_cells`` and ``rounded_recoverable_records``
    (:func:`riskcalc.release.tier3.tier3_exposure`).

Counts come before shares; provenance (riskcalc and generator versions, cohort seed and size,
scenarios, parameters) is kept in :attr:`RiskTable.provenance`, never a wall-clock time, so the
same input gives byte-identical files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import _render
from .._core.backend import backend_for
from .._core.crosstab import homogeneous_counts
from .._core.encoding import EncodedTable, encode
from .._core.grouping import group_codes
from .._core.threads import Alongside
from .._memory import return_free_memory
from .._provenance import provenance as make_provenance
from .._typing import TableLike
from .._validation import check_tiers
from ..exceptions import InvalidParameterError
from .ladders import coarsen
from .scenarios import Scenario, Scenarios, load_scenarios
from .tier3 import AGGREGATE_COLUMNS, tier3_rows

__all__ = [
    "RiskTable",
    "risk_table",
    "tier_risk_table",
    "RECORD_COLUMNS",
    "ATTRIBUTE_COLUMNS",
    "AGGREGATE_COLUMNS",
    "revealed_records",
    "project_scenario",
    "GUESS_MARK",
    "split_guesses",
]

K_THRESHOLDS = (3, 5, 10)
RECORD_COLUMNS = [
    "tier",
    "scenario",
    "fields",
    "n_records",
    "n_classes",
    "k",
    "n_unique",
    "unique_share",
    "records_below_3",
    "records_below_3_share",
    "records_below_5",
    "records_below_5_share",
    "records_below_10",
    "records_below_10_share",
    "average_risk",
    "projected",
    "records_guessed_wrong",
    "records_wrongly_singled_out",
]
ATTRIBUTE_COLUMNS = [
    "tier",
    "scenario",
    "sensitive",
    "records_revealed",
    "records_revealed_share",
    "records_revealed_minority",
    "records_revealed_minority_share",
    "projected",
]


@dataclass(frozen=True)
class RiskTable(_render.Displayed):
    """Risk of every scenario on every extract; see the module docstring for the columns.

    Examples
    --------
    >>> import riskcalc as rc, synthetic
    >>> cohort = synthetic.generate_cohort(1_000, rng=0)
    >>> table = rc.tier_risk_table(cohort, tiers=(4,), attributes=False)
    >>> table.records[["tier", "scenario", "n_unique"]].head(2)
       tier     scenario  n_unique
    0     4  school_gate       159
    1     4    neighbour       159
    >>> print(table.to_markdown().splitlines()[0])
    ## Record-level tiers: pupils an intruder could single out
    """

    records: pd.DataFrame
    attributes: pd.DataFrame
    aggregates: pd.DataFrame
    scenarios: tuple[Scenario, ...]
    provenance: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The record-level table (``records``)."""
        return self.records.copy()

    def headline(self) -> pd.DataFrame:
        """A compact table for people: tier, scenario, unique pupils (count, share), k,
        pupils in classes below 5 and 10 (counts). A projected row's scenario reads
        ``"name (projected)"`` (see :func:`project_scenario`)."""
        r = self.records
        projected = (
            r["projected"].astype(bool)
            if "projected" in r.columns
            else pd.Series(False, index=r.index)
        )
        scenario = r["scenario"].where(~projected, r["scenario"] + " (projected)")
        return _with_upper_bound(
            pd.DataFrame(
                {
                    "tier": r["tier"],
                    "scenario": scenario,
                    "pupils": r["n_records"],
                    "unique": r["n_unique"],
                    "unique_share": r["unique_share"],
                    "k": r["k"],
                    "below_5": r["records_below_5"],
                    "below_10": r["records_below_10"],
                    "average_risk": r["average_risk"],
                }
            ),
            r,
            self.provenance,
        )

    def upper_bound(self) -> pd.Series | None:
        """Per row of ``records``: whether its figures are an upper bound of the risk, because a
        field it is measured on still holds one value written in more than one way (the
        provenance's ``data_quality``); ``None`` when no row is."""
        from .quality import upper_bound_rows

        r = self.records
        flags = upper_bound_rows(r["tier"], r["fields"], self.provenance.get("data_quality"))
        return None if flags is None else pd.Series(flags, index=r.index, name="upper_bound")

    def attribute_bound(self) -> pd.Series | None:
        """Per row of ``attributes``: how the data-quality profile qualifies its figure
        (``"upper bound"``, ``"may be understated"``, ``"direction unknown"`` or ``""``;
        :func:`riskcalc.release.quality.attribute_bound_rows`), ``None`` when it qualifies none."""
        a = _with_attribute_bound(self.attributes, self.records, self.provenance)
        return a["bound"] if "bound" in a.columns else None

    def attribute_matrix(self, minority: bool = True) -> pd.DataFrame:
        """Attribute disclosure as one row per (tier, scenario) and one column per sensitive
        field, each cell "pupils (share)" whose value is revealed (with ``minority``, only
        those revealed to hold a value other than the most common one, e.g. eligible for free
        meals); empty where the field is not in the tier or is known to the intruder. A figure
        the data-quality profile qualifies says so in the cell ("pupils (share, upper bound)")."""
        a = self.attributes
        if not len(a):
            return pd.DataFrame()
        n_col, p_col = (
            ("records_revealed_minority", "records_revealed_minority_share")
            if minority
            else ("records_revealed", "records_revealed_share")
        )
        bound = self.attribute_bound()
        if "projected" in a.columns:
            a = a.assign(
                scenario=a["scenario"].where(
                    ~a["projected"].astype(bool), a["scenario"] + " (projected)"
                )
            )
        marks = [f", {b}" if b else "" for b in bound] if bound is not None else [""] * len(a)
        cell = [f"{int(n):,} ({pct_text(p)}{m})" for n, p, m in zip(a[n_col], a[p_col], marks)]
        order = list(dict.fromkeys(a["sensitive"]))
        wide = a.assign(cell=cell).pivot(
            index=["tier", "scenario"], columns="sensitive", values="cell"
        )
        keys = list(dict.fromkeys(zip(a["tier"], a["scenario"])))
        wide = wide.reindex(pd.MultiIndex.from_tuples(keys, names=["tier", "scenario"]))[order]
        return wide.reset_index().fillna("").rename_axis(columns=None)

    def to_markdown(self) -> str:
        """Markdown: the headline table, attribute disclosure and tier 3 small counts."""
        parts = [
            _render.markdown_quality(self.provenance),
            "## Record-level tiers: pupils an intruder could single out\n",
            _render.to_markdown(_display(self.headline())),
        ]
        if len(self.attributes):
            parts += [
                "\n## Sensitive status revealed: pupils whose class shows a value other than the "
                "most common one (pupils, share)\n",
                _render.to_markdown(self.attribute_matrix()),
            ]
        if len(self.aggregates):
            parts += [
                "\n## Tier 3 aggregate tables: small cells\n",
                _render.to_markdown(_display(self.aggregates)),
            ]
        return "".join(parts) + _render.markdown_provenance(self.provenance)

    def to_csv(self) -> dict[str, str]:
        """``{"records": csv, "attributes": csv, "aggregates": csv}`` (``\\n`` line ends)."""
        return {
            "records": _render.to_csv(
                _display(_with_upper_bound(self.records, self.records, self.provenance))
            ),
            "attributes": _render.to_csv(
                _with_attribute_bound(self.attributes, self.records, self.provenance)
            ),
            "aggregates": _render.to_csv(self.aggregates),
        }

    def to_json(self) -> str:
        """One JSON document: provenance, scenarios and the three tables."""
        doc = {
            "provenance": self.provenance,
            "scenarios": [
                {"name": s.name, "fields": list(s.fields), "rationale": s.rationale}
                for s in self.scenarios
            ],
            "records": json.loads(
                _render.to_json(
                    _display(_with_upper_bound(self.records, self.records, self.provenance))
                )
            )["rows"],
            "attributes": json.loads(
                _render.to_json(
                    _with_attribute_bound(self.attributes, self.records, self.provenance)
                )
            )["rows"],
            "aggregates": json.loads(_render.to_json(self.aggregates))["rows"],
        }
        return json.dumps(doc, indent=2, sort_keys=True, allow_nan=False) + "\n"

    def to_latex(self) -> str:
        """The headline table as a floating LaTeX ``table`` (booktabs rules, every cell escaped),
        captioned with what it shows and the data's source, labelled ``tab:riskcalc-tiers``; the
        data-quality paragraph before it."""
        title = "Pupils an intruder could single out, by extract and intruder scenario"
        return (
            _render.latex_provenance(self.provenance)
            + _render.latex_quality(self.provenance)
            + _render.to_latex(
                _display(self.headline()),
                caption=_render.latex_caption(title, self.provenance),
                label="tab:riskcalc-tiers",
            )
        )

    def __repr__(self) -> str:
        worst = self.records.sort_values("unique_share", ascending=False).head(1)
        head = ""
        if len(worst):
            w = worst.iloc[0]
            head = f", most identifying: tier {w['tier']} {w['scenario']} ({w['unique_share']:.1%} unique)"
        return (
            f"RiskTable({len(self.records)} extract x scenario rows, {len(self.attributes)} attribute "
            f"rows, {len(self.aggregates)} aggregate tables{head})"
        )


def pct_text(share) -> str:
    """A share in [0, 1] as a percentage for people, with as many decimals as it needs.

    ``0%`` and ``100%`` only when exact; below 0.1% ``<0.1%`` (a handful of pupils never reads
    as none); above 99.9% ``>99.9%``; below 1% two decimals (``0.45%``), else one (``12.3%``).
    ``nan`` gives an empty string.
    """
    if share is None or share is pd.NA:
        return ""
    p = 100 * float(share)
    if p != p:
        return ""
    if p == 0:
        return "0%"
    if p == 100:
        return "100%"
    if p < 0.1:
        return "<0.1%"
    if p > 99.9:
        return ">99.9%"
    return f"{p:.2f}%" if p < 1 else f"{p:.1f}%"


def _with_attribute_bound(
    attributes: pd.DataFrame, records: pd.DataFrame, prov: dict
) -> pd.DataFrame:
    """``attributes`` with a ``bound`` column when the data-quality block of ``prov`` qualifies
    some of its figures (each row's matched fields are its records row's); unchanged otherwise."""
    from .quality import attribute_bound_rows

    doc = (prov or {}).get("data_quality")
    if not doc or not len(attributes):
        return attributes
    fields = dict(zip(zip(records["tier"], records["scenario"]), records["fields"]))
    used = [fields.get((t, s), ()) for t, s in zip(attributes["tier"], attributes["scenario"])]
    bounds = attribute_bound_rows(attributes["tier"], used, attributes["sensitive"], doc)
    return attributes if bounds is None else attributes.assign(bound=bounds)


def _with_upper_bound(frame: pd.DataFrame, records: pd.DataFrame, prov: dict) -> pd.DataFrame:
    """``frame`` (rows of ``records``) with an ``upper_bound`` column when the data-quality
    block of ``prov`` makes some rows upper bounds of the risk; unchanged otherwise."""
    from .quality import upper_bound_rows

    flags = upper_bound_rows(records["tier"], records["fields"], (prov or {}).get("data_quality"))
    return frame if flags is None else frame.assign(upper_bound=flags)


def _display(frame: pd.DataFrame) -> pd.DataFrame:
    """Field tuples shown as "a, b, c" (strings are left as they are)."""
    if "fields" in frame.columns:
        frame = frame.assign(
            fields=frame["fields"].map(
                lambda f: ", ".join(f) if isinstance(f, (tuple, list)) else f
            )
        )
    return frame


# -------------------------------------------------------------------------------------------
# Record-level extracts
# -------------------------------------------------------------------------------------------


def _sensitive_fields(columns) -> list[str]:
    try:
        from synthetic import FIELDS, Role
    except ImportError:  # pragma: no cover
        return []
    sensitive = [f.name for f in FIELDS if f.role is Role.SENSITIVE]
    return [c for c in sensitive if c in set(columns)]


def _columns(extract) -> list[str]:
    return list(backend_for(extract, func="risk_table").columns)


def _extract_rows(label, extract, scenarios, sensitive, *, enc=None, memo=None, project=False):
    """Rows of ``records`` and ``attributes`` for one extract.

    ``enc`` may be an encoding shared by several extracts of the same pupils (the tiers of one
    cohort), with ``memo`` caching each scenario's figures across them. With ``project``, a
    scenario the extract does not hold is measured on its projection (:func:`project_scenario`),
    as a records row marked ``projected``; a projection with a best guess reads the truth (the
    guessed field) from ``enc`` and has no attribute rows.
    """
    columns = _columns(extract)
    rows: list[tuple[Scenario, tuple[str, ...], tuple[tuple[str, str], ...], bool]] = [
        (s, s.fields, (), False) for s in scenarios if s.applies_to(columns)
    ]
    if project:
        for s in scenarios:
            if s.applies_to(columns):
                continue
            shown = project_scenario(s.fields, columns)
            if shown:
                used, guesses = split_guesses(shown)
                rows.append((Scenario(s.name, shown, s.rationale), used, guesses, True))
    if not rows:
        return [], []
    sens = [
        c
        for c in (sensitive if sensitive is not None else _sensitive_fields(columns))
        if c in columns
    ]
    func = "risk_table"
    if enc is None:
        needed = list(dict.fromkeys([f for _, used, _, _ in rows for f in used] + sens))
        backend = backend_for(extract, func=func)
        if backend.holds_records:  # encoded once, for every scenario
            backend = backend_for(backend.encoded(needed, func=func), func=func)
        else:  # measured where the data are (a Spark table: on the cluster)
            backend.names(needed, func=func)
    else:
        backend = backend_for(enc, func=func)
    memo = {} if memo is None else memo
    records, attributes = [], []
    for scenario, used, guesses, is_projected in rows:
        # The memo keeps each scenario's figures (its class-size histogram and the records its
        # classes reveal), not its partition: a national cohort's partitions take 100 MB each.
        key = (used, guesses)
        if key not in memo:
            if guesses:  # a pupil counts only when every guess is right: the records are read
                table = backend.encoded(list(dict.fromkeys(used)), func=func)
                figures = _guessed_figures(table, table.partition(used, "category"), used, guesses)
            else:
                figures = _Figures.of(backend.size_histogram(used, missing="category", func=func))
            memo[key] = (figures, {})
        figures, revealed_by = memo[key]
        records.append(_record_row(label, scenario, figures, projected=is_projected))
        if guesses:
            continue
        unknown = [s for s in sens if s not in used]
        todo = [s for s in unknown if s not in revealed_by]
        if todo:
            found = backend.attribute_figures(
                used, todo, missing="category", func=func, minority=True
            )
            revealed_by.update(
                {f.name: (f.records_homogeneous, f.records_homogeneous_minority) for f in found}
            )
        for s in unknown:
            revealed, minority = revealed_by[s]
            n = figures.n_records
            attributes.append(
                (
                    label,
                    scenario.name,
                    s,
                    revealed,
                    revealed / n,
                    minority,
                    minority / n,
                    is_projected,
                )
            )
    return records, attributes


#: Marks a best guess in a projection's fields: ``"la_code~home_la"`` is the column ``la_code``
#: used for the field ``home_la`` (:func:`project_scenario`).
GUESS_MARK = "~"


def split_guesses(fields) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """``(columns, guesses)`` of a projection's fields: the columns to group by (a guess's
    column included) and the ``(column, guessed field)`` pairs.

    Examples
    --------
    >>> split_guesses(("sex", "la_code~home_la"))
    (('sex', 'la_code'), (('la_code', 'home_la'),))
    """
    used, guesses = [], []
    for f in fields:
        column, mark, guessed = f.partition(GUESS_MARK)
        used.append(column)
        if mark:
            guesses.append((column, guessed))
    return tuple(used), tuple(guesses)


def _registry():
    """The synthetic registry's graph (``closure``, ``GUESSED_BY``), or None without it."""
    try:
        from synthetic import GUESSED_BY, closure
    except ImportError:  # pragma: no cover
        return None
    return closure, GUESSED_BY


def _finest(candidates: list[str], closure) -> list[str]:
    """``candidates`` less those another one determines (of two that determine each other, the
    first is kept): the finest field of each chain, in the given order."""
    reach = {f: set(closure([f])) for f in candidates}
    return [
        f
        for i, f in enumerate(candidates)
        if not any(
            f in reach[g] and (g not in reach[f] or j < i)
            for j, g in enumerate(candidates)
            if g != f
        )
    ]


def project_scenario(fields, columns) -> tuple[str, ...]:
    """What an intruder who knows ``fields`` knows of an extract with ``columns``.

    1. The intruder knows the closure of ``fields`` under the registry's dependency graph
       (:func:`synthetic.closure`: a postcode gives its sector, district, area, LSOA, home LA,
       home region and IDACI decile; a date of birth the year and month of birth; a school its
       LA, region, LAESTAB and phase). A column the registry does not know stands for itself.
    2. Of that, the fields the extract holds are kept, less those another kept field determines
       (the finest of each chain; of two fields that determine each other, URN and LAESTAB, the
       first reached).
    3. A known field that nothing kept determines, whose best guess (:data:`synthetic.GUESSED_BY`:
       the school's LA for the home LA) the extract holds and nothing kept determines, adds that
       column as a guess, written ``"column~field"`` (``"la_code~home_la"``); a guess another
       guess determines (the home region, once the home LA is guessed) is left out. A kept
       field stays even when a guess's column determines it: it is known, the guess is not.

    Returns the fields in a stable order (each of ``fields`` in turn, then what it determines,
    breadth first; guesses last), ``()`` when nothing is left, or when the extract holds every
    field of ``fields`` (no projection needed). :func:`split_guesses` separates the guesses.

    Examples
    --------
    >>> project_scenario(("sex", "date_of_birth", "postcode"),
    ...                  ("sex", "year_of_birth", "month_of_birth", "lsoa", "postcode_sector"))
    ('sex', 'year_of_birth', 'month_of_birth', 'postcode_sector', 'lsoa')
    >>> project_scenario(("sex", "date_of_birth", "postcode"),
    ...                  ("sex", "year_of_birth", "month_of_birth", "la_code", "region"))
    ('sex', 'year_of_birth', 'month_of_birth', 'la_code~home_la')
    """
    present = set(columns)
    fields = tuple(fields)
    if all(f in present for f in fields):
        return ()
    registry = _registry()
    if registry is None:  # pragma: no cover - without the registry nothing is determined
        return tuple(f for f in fields if f in present)
    closure, guessed_by = registry
    known = closure(fields)
    kept = _finest([f for f in known if f in present], closure)
    reached = set(closure(kept))
    guesses = [
        f
        for f in known
        if f not in reached and guessed_by.get(f) in present and guessed_by[f] not in reached
    ]
    guesses = _finest(guesses, closure)
    return tuple(kept) + tuple(f"{guessed_by[f]}{GUESS_MARK}{f}" for f in guesses)


@dataclass(frozen=True)
class _Figures:
    """One row's figures: from a class-size histogram, or counted with best guesses."""

    n_records: int
    n_classes: int
    k: int
    n_unique: int
    below: tuple[int, ...]  # records below each of K_THRESHOLDS
    average_risk: float
    guessed_wrong: int | None = None
    wrongly_singled_out: int | None = None

    @classmethod
    def of(cls, hist) -> _Figures:
        return cls(
            hist.n_records,
            hist.n_classes,
            hist.k,
            hist.n_unique,
            tuple(int(r) for r in hist.records_below(K_THRESHOLDS)),
            hist.average_risk,
        )


def _codes_in(column, other) -> np.ndarray:
    """``other``'s codes in ``column``'s code space (matched by value; -1 for a value
    ``column`` does not hold; missing matches missing)."""
    mine = pd.Index(
        np.asarray(column.categories if column.categories is not None else [], dtype=object)
    )
    theirs = np.asarray(other.categories if other.categories is not None else [], dtype=object)
    lookup = np.full(
        other.n_levels, -1, dtype=column.codes.dtype
    )  # narrow codes: 1-2 bytes a record
    lookup[: other.n_distinct] = mine.get_indexer(pd.Index(theirs[: other.n_distinct]))
    if other.missing_code is not None and column.missing_code is not None:
        lookup[other.missing_code] = column.missing_code
    return lookup[other.codes]


def _guessed_figures(enc, part, used, guesses) -> _Figures:
    """Figures of a projection with best guesses: a pupil counts only when every guess is right
    for it (see the module docstring). Vectorised: class sizes per record, one grouping for the
    wrong guesses' classes."""
    hist = part.size_histogram
    if not all(g in enc for _, g in guesses):  # no truth: every guess assumed right (upper bound)
        return _Figures.of(hist)
    n = part.n_records
    guessed = {c: _codes_in(enc[c], enc[g]) for c, g in guesses}
    right = np.ones(n, dtype=bool)
    for c, _ in guesses:
        right &= guessed[c] == enc[c].codes
    # pupils whose guess is right, by the size of their class: per class, then per size (no
    # per-record array of class sizes: a national cohort's would take 68 MB each)
    sizes = part.class_sizes
    right_in_class = np.bincount(part.class_id[right], minlength=len(sizes))
    by_size = np.bincount(sizes, weights=right_in_class, minlength=max(K_THRESHOLDS) + 1)
    below = tuple(int(round(by_size[:t].sum())) for t in K_THRESHOLDS)
    size = np.arange(len(by_size))
    average = float(np.sum(by_size[1:] / size[1:]) / n) if n else 0.0
    n_unique = int(round(by_size[1]))
    wrong = np.flatnonzero(~right)
    # each wrong guess looks up its guessed class: its own values, the guessed ones in place of
    # the guesses' columns; a class of exactly one pupil (another one) is a false singling-out
    wrongly = 0
    reachable = (
        wrong[np.all([guessed[c][wrong] >= 0 for c, _ in guesses], axis=0)] if len(wrong) else wrong
    )
    if len(reachable):
        cols = list(dict.fromkeys(used))
        codes, levels = [], []
        for c in cols:
            col = enc[c]
            query = guessed[c][reachable] if c in guessed else col.codes[reachable]
            codes.append(np.concatenate([col.codes.astype(np.int64), query.astype(np.int64)]))
            levels.append(col.n_levels)
        ids, _ = group_codes(codes, levels)
        counts = np.bincount(ids[:n], minlength=int(ids.max()) + 1)
        wrongly = int(np.count_nonzero(counts[ids[n:]] == 1))
    return _Figures(
        n,
        hist.n_classes,
        hist.k,
        n_unique,
        below,
        average,
        guessed_wrong=int(len(wrong)),
        wrongly_singled_out=wrongly,
    )


def revealed_records(part, columns) -> tuple[int, int] | list[tuple[int, int]]:
    """For each of ``columns`` (encoded columns, or one): the records in classes of ``part``
    holding a single value of it (homogeneous classes), and how many of them hold a value other
    than the column's most common one (:func:`riskcalc._core.crosstab.homogeneous_counts`)."""
    one = not isinstance(columns, (list, tuple))
    cols = [columns] if one else list(columns)
    counts = homogeneous_counts(*part.labels(), cols, sizes=part.class_sizes)
    pairs = [(c.records_revealed, c.records_revealed_minority) for c in counts]
    return pairs[0] if one else pairs


def _record_row(label, scenario: Scenario, figures: _Figures, projected: bool = False) -> dict:
    n = figures.n_records
    row = {
        "tier": label,
        "scenario": scenario.name,
        "fields": scenario.fields,
        "n_records": n,
        "n_classes": figures.n_classes,
        "k": figures.k,
        "n_unique": figures.n_unique,
        "unique_share": figures.n_unique / n,
    }
    for t, r in zip(K_THRESHOLDS, figures.below, strict=True):
        row[f"records_below_{t}"] = int(r)
        row[f"records_below_{t}_share"] = r / n
    row["average_risk"] = figures.average_risk
    row["projected"] = bool(projected)
    row["records_guessed_wrong"] = figures.guessed_wrong
    row["records_wrongly_singled_out"] = figures.wrongly_singled_out
    return row


# -------------------------------------------------------------------------------------------
# Public entry points
# -------------------------------------------------------------------------------------------


def risk_table(
    extracts: Mapping[Any, TableLike],
    *,
    scenarios: Scenarios = None,
    aggregates: Mapping[str, pd.DataFrame] | None = None,
    sensitive: Sequence[str] | None = None,
    provenance: dict | None = None,
) -> RiskTable:
    """Risk of every scenario on every record-level extract, and tier 3 small counts.

    Parameters
    ----------
    extracts : mapping of label to table
        Record-level extracts (DataFrame, pyarrow Table, file path or EncodedTable), keyed by a
        label such as the tier number. A scenario contributes a row for an extract that holds
        all its fields.
    scenarios : path, mapping, sequence of Scenario, optional
        See :func:`load_scenarios` (default: the built-in scenarios).
    aggregates : mapping of str to DataFrame, optional
        Tier 3 tables with a ``count`` column.
    sensitive : sequence of str, optional
        Sensitive fields for the attribute-disclosure rows (default: the fields the synthetic
        registry marks sensitive, where present).
    provenance : dict, optional
        Extra provenance to record: ``inputs`` (a list of
        :func:`riskcalc._provenance.describe_file` blocks), ``cohort`` (synthetic metadata), and
        any other entries.

    Returns
    -------
    RiskTable

    Examples
    --------
    >>> import riskcalc as rc, synthetic
    >>> cohort = synthetic.generate_cohort(2_000, rng=0)
    >>> table = rc.risk_table({"4": synthetic.tier_extract(cohort, 4)})  # extracts by name
    >>> table
    RiskTable(1 extract x scenario rows, 0 attribute rows, 0 aggregate tables, most identifying: tier 4 school_gate (7.1% unique))
    >>> table.records[["scenario", "n_unique", "k"]]
          scenario  n_unique  k
    0  school_gate       142  1
    """
    if not isinstance(extracts, Mapping) or not (extracts or aggregates):
        raise InvalidParameterError(
            "The 'extracts' parameter of risk_table must be a mapping of label to record-level "
            "extract (e.g. {'1': tier1_frame}), non-empty unless 'aggregates' are given. Got "
            + (
                f"{type(extracts).__name__} instead."
                if not isinstance(extracts, Mapping)
                else "an empty one."
            )
        )
    scenarios = load_scenarios(scenarios)
    records, attributes = [], []
    for label, extract in extracts.items():
        r, a = _extract_rows(label, extract, scenarios, sensitive)
        records += r
        attributes += a
    if not records and not aggregates:
        names = ", ".join(s.name for s in scenarios)
        raise InvalidParameterError(
            f"No scenario ({names}) has all its fields in any extract: nothing to measure. Check "
            "the column names or give scenarios that match them."
        )
    record_frame = pd.DataFrame(records, columns=RECORD_COLUMNS)
    attribute_frame = pd.DataFrame(attributes, columns=ATTRIBUTE_COLUMNS)
    aggregate_frame = tier3_rows(aggregates)
    extra = dict(provenance or {})
    if "data_quality" not in extra and len(record_frame):
        extra["data_quality"] = _profile_extracts(extracts, record_frame, attribute_frame)
    prov = make_provenance(
        "risk_table",
        _table_parameters(scenarios),
        inputs=extra.pop("inputs", None),
        cohort=extra.pop("cohort", None),
        **extra,
    )
    return RiskTable(record_frame, attribute_frame, aggregate_frame, scenarios, prov)


def _profile_extracts(extracts: Mapping, records: pd.DataFrame, attributes: pd.DataFrame) -> dict:
    """The data-quality block of the columns the rows were measured on, extract by extract
    (:func:`riskcalc.release.quality.quality_check`)."""
    from ..profile import DataQuality
    from .quality import quality_check

    found = []
    for label, extract in extracts.items():
        fields = list(
            dict.fromkeys(f for fs in records.loc[records["tier"] == label, "fields"] for f in fs)
        )
        if not fields:
            continue
        sens = [
            s
            for s in dict.fromkeys(attributes.loc[attributes["tier"] == label, "sensitive"])
            if s not in fields
        ]
        roles = {**{f: "quasi_identifier" for f in fields}, **{s: "sensitive" for s in sens}}
        found.append(quality_check(extract, fields + sens, roles=roles, source=str(label))[1])
    return DataQuality.combine(found).to_dict()


def _table_parameters(scenarios, **more) -> dict:
    return {
        "scenarios": {
            s.name: {"fields": list(s.fields), "rationale": s.rationale} for s in scenarios
        },
        "k_thresholds": list(K_THRESHOLDS),
        **more,
    }


def tier_risk_table(
    cohort: pd.DataFrame,
    *,
    tiers: Sequence[int] = (1, 2, 3, 4),
    scenarios: Scenarios = None,
    coarsening: dict[str, str] | None = None,
    encoded: EncodedTable | None = None,
    attributes: bool = True,
    project: bool = True,
    provenance: dict | None = None,
) -> RiskTable:
    """:func:`risk_table` of a synthetic cohort's tier extracts (and tier 3 tables).

    The tiers hold the same pupils, so the cohort is encoded once and each scenario is measured
    once, then reported for every tier that holds its fields. ``coarsening``
    (``{field: ladder level}``) first generalises the cohort, for what-if tables. ``encoded``
    may pass an encoding of the cohort (as released) holding :func:`cohort_fields`, to share it
    with other work; ``attributes=False`` skips the attribute-disclosure rows. With
    ``project`` (default), a scenario a tier does not hold is measured on its projection onto
    the tier (:func:`project_scenario`) in a row marked ``projected``, so that an absent
    scenario never reads as no risk; a best guess in it (the school's LA for the home LA) is
    checked against the cohort's truth (``home_la``), coarsened as its column is.
    ``provenance`` adds entries to the table's provenance block, after the cohort's (the main
    job's sections: :func:`riskcalc.release.job.tiers_job`).

    Examples
    --------
    >>> import riskcalc as rc, synthetic
    >>> cohort = synthetic.generate_cohort(2_000, rng=0)
    >>> table = rc.tier_risk_table(cohort, tiers=(4,), attributes=False)
    >>> table
    RiskTable(6 extract x scenario rows, 0 attribute rows, 0 aggregate tables, most identifying: tier 4 school_gate (7.1% unique))
    """
    import synthetic

    if not isinstance(cohort, pd.DataFrame):
        raise InvalidParameterError(
            "The 'cohort' parameter of tier_risk_table must be a pandas DataFrame (a synthetic "
            f"cohort, or your own table with its fields). Got {type(cohort).__name__} instead."
        )
    tiers = check_tiers(tiers, "tier_risk_table")
    meta = dict(cohort.attrs.get("synthetic", {}))
    scenarios = load_scenarios(scenarios)
    record_tiers = [t for t in tiers if t != 3]
    tier_columns = {t: list(synthetic.columns_for_tier(t)) for t in record_tiers}
    needed = cohort_fields(
        cohort, scenarios, attributes=attributes, tiers=record_tiers if project else ()
    )
    if coarsening:
        cohort = coarsen(
            cohort, _with_truth(coarsening), columns=list(dict.fromkeys(needed + _dims_of_tier3()))
        )
    usable = encoded is not None and not coarsening and set(needed) <= set(encoded.columns)
    enc = encoded if usable else encode(cohort, needed)
    memo: dict = {}
    records, attribute_rows = [], []
    # Tier 3 (aggregate tables from the cohort, and their audits) shares nothing with the
    # record tiers: it runs on a thread of its own, alongside them (much of both is compiled or
    # numpy work that releases the GIL), except under an address-space limit
    # (:class:`riskcalc._core.threads.Alongside`).
    tier3 = Alongside(_tier3_rows, cohort, name="riskcalc-tier3") if 3 in tiers else None
    try:
        for t in record_tiers:
            shell = pd.DataFrame(columns=tier_columns[t])
            r, a = _extract_rows(
                t, shell, scenarios, None if attributes else [], enc=enc, memo=memo, project=project
            )
            records += r
            attribute_rows += a
            return_free_memory()
    except BaseException:
        if tier3 is not None:  # its thread ends before the error goes on: no work left running
            tier3.abandon()
        raise
    aggregates = tier3.result() if tier3 is not None else pd.DataFrame(columns=AGGREGATE_COLUMNS)
    return_free_memory()
    prov = make_provenance(
        "tier_risk_table",
        _table_parameters(
            scenarios, tiers=list(tiers), coarsening=dict(coarsening or {}), project=bool(project)
        ),
        cohort=meta,
        **(provenance or {}),
    )
    return RiskTable(
        pd.DataFrame(records, columns=RECORD_COLUMNS),
        pd.DataFrame(attribute_rows, columns=ATTRIBUTE_COLUMNS),
        aggregates,
        scenarios,
        prov,
    )


def _tier3_rows(cohort) -> pd.DataFrame:
    """The tier 3 rows of a cohort: its aggregate tables' exposure and audits."""
    import synthetic

    return tier3_rows(synthetic.tier3_tables(cohort))


def cohort_fields(cohort, scenarios=None, *, attributes: bool = True, tiers=(1, 2, 4)) -> list[str]:
    """The cohort columns the tier table reads: every scenario's fields, their projections onto
    ``tiers`` (:func:`project_scenario`: the columns and the truth of each best guess) and the
    sensitive fields (with ``attributes``), among the columns of ``cohort`` (a frame, or its
    column names)."""
    scenarios = load_scenarios(scenarios)
    present = list(getattr(cohort, "columns", cohort))
    wanted = {f for s in scenarios for f in s.fields}
    if tiers:
        import synthetic

        for t in tiers:
            columns = synthetic.columns_for_tier(t)
            for s in scenarios:
                used, guesses = split_guesses(project_scenario(s.fields, columns))
                wanted |= set(used) | {g for _, g in guesses}
    if attributes:
        wanted |= set(_sensitive_fields(present))
    return [c for c in sorted(wanted) if c in present]


def _with_truth(coarsening: Mapping) -> dict:
    """``coarsening`` with each best guess's truth coarsened as its column is (the home LA to
    the home region when the school's LA is cut to the region, withheld when it is withheld),
    so that a guess is checked at the level the extract holds."""
    from synthetic import GUESSED_BY, field
    from synthetic.exceptions import SyntheticError

    from .ladders import WITHHELD, ladder_length

    out = dict(coarsening)
    for truth, column in GUESSED_BY.items():
        level = coarsening.get(column, 0)
        if truth in coarsening or level in (0, column):
            continue
        if isinstance(level, str) and level != WITHHELD:
            try:
                level = field(column).ladder_names.index(level) + 1
            except (SyntheticError, ValueError):
                continue  # not a level of the column: coarsen() says so
        if level == WITHHELD or level >= ladder_length(column):
            out[truth] = WITHHELD
        else:  # the truth's ladder parallels its column's (LA -> region)
            out[truth] = level if level < ladder_length(truth) else WITHHELD
    return out


def _dims_of_tier3() -> list[str]:
    return [
        "urn",
        "la_code",
        "nc_year",
        "sex",
        "ethnic_group_major",
        "ethnic_group_minor",
        "fsm_eligible",
        "sen_provision",
        "eal",
    ]
