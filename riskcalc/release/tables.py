"""Tier risk tables: every intruder scenario on every NPD-style tier extract.

A :class:`RiskTable` holds three tidy frames with fixed, documented columns:

``records`` (tiers 1, 2, 4 and any record-level extract), one row per (extract, scenario):
    ``tier``, ``scenario``, ``fields``, ``n_records``, ``n_classes``, ``k``, ``n_unique``,
    ``unique_share``, ``records_below_3``, ``records_below_3_share``, ``records_below_5``, ``records_below_5_share``,
    ``records_below_10``, ``records_below_10_share``, ``average_risk``, ``projected``.
    A scenario whose fields an extract does not all hold is *projected* onto it
    (:func:`project_scenario`): the intruder who knows a date of birth also knows the year and
    month of birth, the one who knows a postcode knows its sector and LSOA. Such a row has
    ``projected`` true and ``fields`` the extract's fields actually used; a scenario with no row
    at all on an extract is one none of whose fields (nor any coarser version) it holds.
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
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from .._memory import return_free_memory
from .. import _render
from .._core.encoding import EncodedTable, encode
from .._core.crosstab import homogeneous_counts
from .._core.spark import SparkPartition, is_spark_frame, spark_table
from .._provenance import provenance as make_provenance
from ..exceptions import InvalidParameterError
from .ladders import coarsen
from .scenarios import Scenario, load_scenarios
from .tier3 import AGGREGATE_COLUMNS, tier3_rows

__all__ = [
    "RiskTable", "risk_table", "tier_risk_table", "tier_extracts", "RECORD_COLUMNS",
    "ATTRIBUTE_COLUMNS", "AGGREGATE_COLUMNS", "revealed_records", "project_scenario", "ALSO_DETERMINES",
]

K_THRESHOLDS = (3, 5, 10)
RECORD_COLUMNS = [
    "tier", "scenario", "fields", "n_records", "n_classes", "k", "n_unique", "unique_share",
    "records_below_3", "records_below_3_share", "records_below_5", "records_below_5_share", "records_below_10", "records_below_10_share",
    "average_risk", "projected",
]
ATTRIBUTE_COLUMNS = [
    "tier", "scenario", "sensitive", "records_revealed", "records_revealed_share", "records_revealed_minority",
    "records_revealed_minority_share", "projected",
]


@dataclass(frozen=True)
class RiskTable:
    """Risk of every scenario on every extract; see the module docstring for the columns."""

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
        projected = r["projected"].astype(bool) if "projected" in r.columns else pd.Series(False, index=r.index)
        scenario = r["scenario"].where(~projected, r["scenario"] + " (projected)")
        return _with_upper_bound(pd.DataFrame(
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
        ), r, self.provenance)

    def upper_bound(self) -> pd.Series | None:
        """Per row of ``records``: whether its figures are an upper bound of the risk, because a
        field it is measured on still holds one value written in more than one way (the
        provenance's ``data_quality``); ``None`` when no row is."""
        from .quality import upper_bound_rows

        r = self.records
        flags = upper_bound_rows(r["tier"], r["fields"], self.provenance.get("data_quality"))
        return None if flags is None else pd.Series(flags, index=r.index, name="upper_bound")

    def attribute_matrix(self, minority: bool = True) -> pd.DataFrame:
        """Attribute disclosure as one row per (tier, scenario) and one column per sensitive
        field, each cell "pupils (share)" whose value is revealed (with ``minority``, only
        those revealed to hold a value other than the most common one, e.g. eligible for free
        meals); empty where the field is not in the tier or is known to the intruder."""
        a = self.attributes
        if not len(a):
            return pd.DataFrame()
        n_col, p_col = ("records_revealed_minority", "records_revealed_minority_share") if minority else ("records_revealed", "records_revealed_share")
        if "projected" in a.columns:
            a = a.assign(scenario=a["scenario"].where(~a["projected"].astype(bool), a["scenario"] + " (projected)"))
        cell = [f"{int(n):,} ({pct_text(p)})" for n, p in zip(a[n_col], a[p_col])]
        order = list(dict.fromkeys(a["sensitive"]))
        wide = a.assign(cell=cell).pivot(index=["tier", "scenario"], columns="sensitive", values="cell")
        keys = list(dict.fromkeys(zip(a["tier"], a["scenario"])))
        wide = wide.reindex(pd.MultiIndex.from_tuples(keys, names=["tier", "scenario"]))[order]
        return wide.reset_index().fillna("").rename_axis(columns=None)

    def to_markdown(self) -> str:
        """Markdown: the headline table, attribute disclosure and tier 3 small counts."""
        parts = [_render.markdown_quality(self.provenance),
                 "## Record-level tiers: pupils an intruder could single out\n",
                 _render.to_markdown(_display(self.headline()))]
        if len(self.attributes):
            parts += ["\n## Sensitive status revealed: pupils whose class shows a value other than the "
                      "most common one (pupils, share)\n",
                      _render.to_markdown(self.attribute_matrix())]
        if len(self.aggregates):
            parts += ["\n## Tier 3 aggregate tables: small cells\n",
                      _render.to_markdown(_display(self.aggregates))]
        return "".join(parts) + _render.markdown_provenance(self.provenance)

    def to_csv(self) -> dict[str, str]:
        """``{"records": csv, "attributes": csv, "aggregates": csv}`` (``\\n`` line ends)."""
        return {
            "records": _render.to_csv(_display(_with_upper_bound(self.records, self.records, self.provenance))),
            "attributes": _render.to_csv(self.attributes),
            "aggregates": _render.to_csv(self.aggregates),
        }

    def to_json(self) -> str:
        """One JSON document: provenance, scenarios and the three tables."""
        doc = {
            "provenance": self.provenance,
            "scenarios": [
                {"name": s.name, "fields": list(s.fields), "rationale": s.rationale} for s in self.scenarios
            ],
            "records": json.loads(_render.to_json(_display(_with_upper_bound(self.records, self.records,
                                                                              self.provenance))))["rows"],
            "attributes": json.loads(_render.to_json(self.attributes))["rows"],
            "aggregates": json.loads(_render.to_json(self.aggregates))["rows"],
        }
        return json.dumps(doc, indent=2, sort_keys=True, allow_nan=False) + "\n"

    def to_latex(self) -> str:
        """A LaTeX ``tabular`` of the headline table (booktabs rules, every cell escaped)."""
        return (_render.latex_provenance(self.provenance) + _render.latex_quality(self.provenance)
                + _render.to_latex(_display(self.headline())))

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
            fields=frame["fields"].map(lambda f: ", ".join(f) if isinstance(f, (tuple, list)) else f)
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
    if is_spark_frame(extract):
        return list(extract.columns)
    if isinstance(extract, EncodedTable):
        return list(extract.columns)
    if isinstance(extract, pd.DataFrame):
        return [str(c) for c in extract.columns]
    from .._core.encoding import _column_names

    return _column_names(extract, None)


def _extract_rows(label, extract, scenarios, sensitive, *, enc=None, memo=None, project=False):
    """Rows of ``records`` and ``attributes`` for one extract.

    ``enc`` may be an encoding shared by several extracts of the same pupils (the tiers of one
    cohort), with ``memo`` caching each scenario's figures across them. With ``project``, a
    scenario the extract does not hold is measured on its projection (:func:`project_scenario`),
    as a records row marked ``projected`` (no attribute rows).
    """
    columns = _columns(extract)
    applicable = [s for s in scenarios if s.applies_to(columns)]
    projected = []
    if project:
        for s in scenarios:
            if s in applicable:
                continue
            fields = project_scenario(s.fields, columns)
            if fields:
                projected.append(Scenario(s.name, fields, s.rationale))
    if not applicable and not projected:
        return [], []
    sens = [c for c in (sensitive if sensitive is not None else _sensitive_fields(columns)) if c in columns]
    needed = list(dict.fromkeys([f for s in applicable for f in s.fields] + sens))
    if enc is None:
        if is_spark_frame(extract):  # measured on the cluster (riskcalc._core.spark)
            enc = spark_table(extract, needed, func="risk_table")
        else:
            enc = extract if isinstance(extract, EncodedTable) else encode(extract, needed)
    memo = {} if memo is None else memo
    records, attributes = [], []
    for scenario, is_projected in [(s, False) for s in applicable] + [(s, True) for s in projected]:
        # The memo keeps each scenario's figures (its class-size histogram and the records its
        # classes reveal), not its partition: a national cohort's partitions take 100 MB each.
        part = None
        if scenario.fields not in memo:
            part = enc.partition(scenario.fields, "category")
            memo[scenario.fields] = (part.size_histogram, {})
        hist, revealed_by = memo[scenario.fields]
        records.append(_record_row(label, scenario, hist, projected=is_projected))
        unknown = [s for s in sens if s not in scenario.fields]
        todo = [s for s in unknown if s not in revealed_by]
        if todo:
            part = part if part is not None else enc.partition(scenario.fields, "category")
            revealed_by.update(zip(todo, revealed_records(part, [enc[s] for s in todo])))
        del part
        for s in unknown:
            revealed, minority = revealed_by[s]
            n = hist.n_records
            attributes.append((label, scenario.name, s, revealed, revealed / n, minority, minority / n, is_projected))
    return records, attributes


#: Fields a quasi-identifier determines beyond its registry ladder: a full date of birth gives
#: the year and the month of birth; a full postcode gives its LSOA (the ONS postcode directory
#: places every unit postcode in one LSOA).
ALSO_DETERMINES = {
    "date_of_birth": ("year_of_birth", "month_of_birth"),
    "postcode": ("lsoa",),
}


def _ladder_of(name: str) -> list[str]:
    """Names and columns of the coarser levels of a field in the synthetic registry, finest first."""
    try:
        from synthetic import field as registry_field
        from synthetic.exceptions import SyntheticError
    except ImportError:  # pragma: no cover
        return []
    try:
        rungs = registry_field(name).ladder
    except SyntheticError:
        return []
    return [n for r in rungs for n in dict.fromkeys([r.column or r.name, r.name])]


def project_scenario(fields, columns) -> tuple[str, ...]:
    """What an intruder who knows ``fields`` knows of an extract with ``columns``.

    Each field the extract holds is kept. Each field it lacks is replaced by the finest coarser
    version on its registry ladder that the extract holds (postcode -> postcode sector, school
    -> local authority), together with the fields it determines (:data:`ALSO_DETERMINES`: date
    of birth -> year and month of birth, postcode -> LSOA); a field with neither (a forename) is
    dropped. Fields implied by another chosen field (a rung of its ladder) are dropped as
    redundant. Returns the fields in a stable order, or ``()`` when nothing is left, or when the
    extract holds every field (no projection needed).

    Examples
    --------
    >>> project_scenario(("sex", "date_of_birth", "postcode"),
    ...                  ("sex", "year_of_birth", "month_of_birth", "lsoa", "postcode_sector"))
    ('sex', 'year_of_birth', 'month_of_birth', 'postcode_sector', 'lsoa')
    """
    present = set(columns)
    if all(f in present for f in fields):
        return ()
    chosen: list[str] = []
    for f in fields:
        if f in present:
            chosen.append(f)
            continue
        rung = next((r for r in _ladder_of(f) if r in present), None)
        if rung is not None:
            chosen.append(rung)
        chosen += [g for g in ALSO_DETERMINES.get(f, ()) if g in present]
    chosen = list(dict.fromkeys(chosen))
    implied = {g for h in chosen for g in _ladder_of(h)}
    return tuple(f for f in chosen if f not in implied)


def revealed_records(part, columns) -> list[tuple[int, int]]:
    """For each of ``columns`` (encoded columns, or one): the records in classes of ``part``
    holding a single value of it (homogeneous classes), and how many of them hold a value other
    than the column's most common one (:func:`riskcalc._core.crosstab.homogeneous_counts`)."""
    one = not isinstance(columns, (list, tuple))
    cols = [columns] if one else list(columns)
    if isinstance(part, SparkPartition):
        from .._spark import revealed_records as on_spark

        pairs = on_spark(part, [c.name for c in cols])
        return pairs[0] if one else pairs
    counts = homogeneous_counts(*part.labels(), cols, sizes=part.class_sizes)
    pairs = [(c.records_revealed, c.records_revealed_minority) for c in counts]
    return pairs[0] if one else pairs


def _record_row(label, scenario: Scenario, hist, projected: bool = False) -> dict:
    row = {
        "tier": label,
        "scenario": scenario.name,
        "fields": scenario.fields,
        "n_records": hist.n_records,
        "n_classes": hist.n_classes,
        "k": hist.k,
        "n_unique": hist.n_unique,
        "unique_share": hist.n_unique / hist.n_records,
    }
    for t, r in zip(K_THRESHOLDS, hist.records_below(K_THRESHOLDS)):
        row[f"records_below_{t}"] = int(r)
        row[f"records_below_{t}_share"] = r / hist.n_records
    row["average_risk"] = hist.average_risk
    row["projected"] = bool(projected)
    return row


# -------------------------------------------------------------------------------------------
# Public entry points
# -------------------------------------------------------------------------------------------


def risk_table(
    extracts: Mapping,
    *,
    scenarios=None,
    aggregates: Mapping[str, pd.DataFrame] | None = None,
    sensitive=None,
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
    """
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
        "risk_table", _table_parameters(scenarios), inputs=extra.pop("inputs", None),
        cohort=extra.pop("cohort", None), **extra,
    )
    return RiskTable(record_frame, attribute_frame, aggregate_frame, scenarios, prov)


def _profile_extracts(extracts: Mapping, records: pd.DataFrame, attributes: pd.DataFrame) -> dict:
    """The data-quality block of the columns the rows were measured on, extract by extract
    (:func:`riskcalc.release.quality.quality_check`)."""
    from ..profile import DataQuality
    from .quality import quality_check

    found = []
    for label, extract in extracts.items():
        fields = list(dict.fromkeys(f for fs in records.loc[records["tier"] == label, "fields"] for f in fs))
        if not fields:
            continue
        sens = [s for s in dict.fromkeys(attributes.loc[attributes["tier"] == label, "sensitive"]) if s not in fields]
        roles = {**{f: "quasi_identifier" for f in fields}, **{s: "sensitive" for s in sens}}
        found.append(quality_check(extract, fields + sens, roles=roles, source=str(label))[1])
    return DataQuality.combine(found).to_dict()


def _table_parameters(scenarios, **more) -> dict:
    return {
        "scenarios": {s.name: {"fields": list(s.fields), "rationale": s.rationale} for s in scenarios},
        "k_thresholds": list(K_THRESHOLDS),
        **more,
    }


def tier_extracts(cohort: pd.DataFrame, tiers=(1, 2, 4)) -> dict[int, pd.DataFrame]:
    """Record-level tier extracts of a synthetic cohort."""
    import synthetic

    return {t: synthetic.tier_extract(cohort, t) for t in tiers if t != 3}


def tier_risk_table(cohort: pd.DataFrame, *, tiers=(1, 2, 3, 4), scenarios=None, coarsening=None,
                    encoded: EncodedTable | None = None, attributes: bool = True,
                    project: bool = True) -> RiskTable:
    """:func:`risk_table` of a synthetic cohort's tier extracts (and tier 3 tables).

    The tiers hold the same pupils, so the cohort is encoded once and each scenario is measured
    once, then reported for every tier that holds its fields. ``coarsening``
    (``{field: ladder level}``) first generalises the cohort, for what-if tables. ``encoded``
    may pass an encoding of the cohort (as released) holding :func:`cohort_fields`, to share it
    with other work; ``attributes=False`` skips the attribute-disclosure rows. With
    ``project`` (default), a scenario a tier does not hold is measured on its projection onto
    the tier (:func:`project_scenario`) in a row marked ``projected``, so that an absent
    scenario never reads as no risk.
    """
    import synthetic

    meta = dict(cohort.attrs.get("synthetic", {}))
    scenarios = load_scenarios(scenarios)
    record_tiers = [t for t in tiers if t != 3]
    tier_columns = {t: list(synthetic.columns_for_tier(t)) for t in record_tiers}
    needed = cohort_fields(cohort, scenarios, attributes=attributes, tiers=record_tiers if project else ())
    if coarsening:
        cohort = coarsen(cohort, coarsening, columns=list(dict.fromkeys(needed + _dims_of_tier3())))
    usable = encoded is not None and not coarsening and set(needed) <= set(encoded.columns)
    enc = encoded if usable else encode(cohort, needed)
    memo: dict = {}
    records, attribute_rows = [], []
    # Tier 3 (aggregate tables from the cohort, and their audits) shares nothing with the
    # record tiers: it runs on a thread of its own, alongside them (much of both is compiled or
    # numpy work that releases the GIL).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="riskcalc-tier3") as pool:
        tier3 = pool.submit(_tier3_rows, cohort) if 3 in tiers else None
        for t in record_tiers:
            shell = pd.DataFrame(columns=tier_columns[t])
            r, a = _extract_rows(t, shell, scenarios, None if attributes else [], enc=enc, memo=memo,
                                 project=project)
            records += r
            attribute_rows += a
            return_free_memory()
        aggregates = tier3.result() if tier3 is not None else pd.DataFrame(columns=AGGREGATE_COLUMNS)
    return_free_memory()
    prov = make_provenance(
        "tier_risk_table", _table_parameters(scenarios, tiers=list(tiers), coarsening=dict(coarsening or {}),
                                             project=bool(project)),
        cohort=meta,
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
    ``tiers`` (:func:`project_scenario`) and the sensitive fields (with ``attributes``), among
    the columns of ``cohort`` (a frame, or its column names)."""
    scenarios = load_scenarios(scenarios)
    present = list(getattr(cohort, "columns", cohort))
    wanted = {f for s in scenarios for f in s.fields}
    if tiers:
        import synthetic

        for t in tiers:
            columns = synthetic.columns_for_tier(t)
            wanted |= {f for s in scenarios for f in project_scenario(s.fields, columns)}
    if attributes:
        wanted |= set(_sensitive_fields(present))
    return [c for c in sorted(wanted) if c in present]


def _dims_of_tier3() -> list[str]:
    return ["urn", "la_code", "nc_year", "sex", "ethnic_group_major", "ethnic_group_minor",
            "fsm_eligible", "sen_provision", "eal"]
