"""A self-contained HTML report of a tier risk table: findings, tables, charts, definitions,
provenance.

One file, no network access needed to view it: charts are PNG images (matplotlib, grey-scale:
hatching and shades rather than colour, print resolution, stored as one grey channel) embedded
as base64;
:func:`report_files` also returns each chart as PNG and SVG files. Only counts, shares and field
names appear; never a value of any record.

Honesty: the report says where its figures come from. A synthetic run says so at the top (the
data imitate the National Pupil Database, not any real child); a report on the user's own files
names each input with its SHA-256 and never calls the data synthetic. Every chart carries the
same source line inside the image, so a pasted chart keeps its caveat.

Layout: readable on a 390-pixel phone (tables become one card per row), on a wide screen (wide
tables are split or transposed, headers wrap) and on paper (a print stylesheet keeps every column,
without scrollbars).
"""

from __future__ import annotations

import base64
import html
import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

from .. import _format as fmt
from .. import _render
from .._compat import numeric_view
from .._provenance import code_identity
from ..exceptions import InvalidParameterError
from .combinations import most_identifying, uniqueness_staircase
from .tables import RiskTable, _display, pct_text

if TYPE_CHECKING:
    from .coarsening import CoarseningResult
    from .history import HistorySection


class HtmlSection(Protocol):
    """A section the report places as it renders itself: the simulated linkage attack
    (:class:`riskcalc.release.attack.AttackExperiment`, which imports this module)."""

    def section_html(self) -> str: ...


__all__ = [
    "html_report",
    "report_files",
    "chart_images",
    "chart_specs",
    "draw_chart",
    "identifying_combinations",
    "uniqueness_staircase",
    "most_identifying",
    "SYNTHETIC_NOTE",
]

#: What a synthetic run says at the top of its report (and only a synthetic run).
SYNTHETIC_NOTE = (
    "The data are synthetic: they imitate the structure of the National Pupil Database, "
    "not any real child."
)

DEFINITIONS = [
    ("Equivalence class", "The records sharing the same values on the fields an intruder knows."),
    (
        "k (smallest class)",
        "Size of the smallest equivalence class: every pupil hides among at least k "
        "records (Sweeney 2002, doi:10.1142/S0218488502001648). A single pupil unique on the fields "
        "makes k = 1, so k says only whether anyone is unique; the counts of unique pupils and of pupils "
        "in classes below 5 say how many.",
    ),
    (
        "Unique pupil (sample unique)",
        "A pupil whose combination of values no other record has (fk = 1).",
    ),
    (
        "In classes below t",
        "Pupils in classes of fewer than t records (fk < t), i.e. violating t-anonymity.",
    ),
    (
        "Average prosecutor risk",
        "Mean of 1/fk over records = classes / records: the expected share "
        "re-identified by an intruder who knows the pupil is in the extract (El Emam & Dankar 2008, "
        "doi:10.1197/jamia.M2716).",
    ),
    (
        "Projected scenario",
        "A scenario whose fields a tier does not all hold, measured on what the "
        "intruder still knows there: the coarser versions of the missing fields the tier holds (a date "
        "of birth gives the year and month of birth; a postcode its sector and LSOA; a school its local "
        "authority). A scenario with no row on a tier is not zero risk: it only means none of its "
        "fields, nor a coarser version of them, is in that tier.",
    ),
    (
        "Revealed by a homogeneous class",
        "Pupils whose class on the intruder's fields holds a single "
        "value of a sensitive field, so a match reveals it with certainty (the l = 1 case of "
        "l-diversity; Machanavajjhala et al. 2007, doi:10.1145/1217299.1217302).",
    ),
    (
        "Small cells",
        "Cells of an aggregate table with 0 < count <= t: the threshold rule of mu-Argus "
        "and sdcMicro riskyCells (Hundepool et al. 2012, doi:10.1002/9781118348239).",
    ),
    (
        "Recoverable cells",
        "Cells suppressed (below 5) or rounded (to 5) whose exact count can still be "
        "worked out from the published totals and the linked tables: the attacker's feasible interval "
        "(the smallest and largest values consistent with everything published) is a single value "
        "(riskcalc.audit; the interval logic of tau-Argus audits, Hundepool et al. 2012).",
    ),
    (
        "Coarsening",
        "Replacing a field by a coarser version along its ladder (date of birth to month "
        "to year; postcode to sector to district; school to LA to region; ethnicity minor to major "
        "group), or withholding it.",
    ),
]

#: Plain-English names of fields (report only; files keep the machine names).
FIELD_LABELS = {
    "urn": "school",
    "laestab": "school (LAESTAB)",
    "la_code": "local authority",
    "nc_year": "year group",
    "sex": "sex",
    "date_of_birth": "date of birth",
    "year_of_birth": "year of birth",
    "month_of_birth": "month of birth",
    "postcode": "postcode",
    "postcode_sector": "postcode sector",
    "postcode_district": "postcode district",
    "postcode_area": "postcode area",
    "lsoa": "LSOA",
    "year_month_of_birth": "year and month of birth",
    "ethnic_group_minor": "ethnic group (minor)",
    "ethnic_group_major": "ethnic group (major)",
    "sen_provision": "SEN provision",
    "primary_sen_type": "primary SEN type",
    "fsm_eligible": "free meals",
    "ever_fsm_6": "free meals, last 6 years",
    "eal": "English additional language",
    "forename": "forename",
    "looked_after": "looked after",
    "service_child": "service child",
    "disability": "disability",
    "suspensions": "suspensions",
    "permanent_exclusion": "permanent exclusion",
    "exclusion_reason": "exclusion reason",
    "idaci_decile": "IDACI decile",
    "region": "region",
    "home_la": "home local authority",
    "home_region": "home region",
}

#: Plain-English column headers (report only).
COLUMN_LABELS = {
    "tier": "Tier",
    "scenario": "Intruder scenario",
    "fields": "Fields known",
    "rationale": "Who and why",
    "pupils": "Pupils",
    "n_records": "Pupils",
    "unique": "Unique pupils",
    "n_unique": "Unique pupils",
    "unique_share": "Unique (% of pupils)",
    "k": "Smallest class (k)",
    "below_5": "In classes below 5",
    "below_10": "In classes below 10",
    "average_risk": "Average risk",
    "records_below_5": "In classes below 5",
    "n_fields": "Number of fields",
    "step": "Step",
    "field": "Field added",
    "unique_before": "Unique, as released",
    "unique_share_before": "Unique (%), as released",
    "k_before": "k, as released",
    "unique_after": "Unique, coarsened",
    "unique_share_after": "Unique (%), coarsened",
    "k_after": "k, coarsened",
    "below_target": "Still below target",
    "below_target_share": "Still below target (%)",
    "table": "Table",
    "dimensions": "Dimensions",
    "n_cells": "Non-empty cells",
    "suppressed_cells": "Cells below 5 (suppressed)",
    "recoverable_cells": "Suppressed, yet recoverable",
    "recoverable_records": "Pupils in recoverable cells",
    "rounded_recoverable_cells": "Rounded, yet recoverable",
    "rounded_recoverable_records": "Pupils in recoverable rounded cells",
    "sensitive": "Sensitive field",
    "upper_bound": "Upper bound (see Data quality)",
}


def _field_label(name: str) -> str:
    column, mark, guessed = str(name).partition("~")  # a best guess (tables.GUESS_MARK)
    if mark:
        return f"{_field_label(column)} (a guess of the {_field_label(guessed)})"
    return FIELD_LABELS.get(name, str(name).replace("_", " "))


def _has_guesses(rec: pd.DataFrame) -> bool:
    """Whether a row was measured with a best guess (the school's LA for the home LA)."""
    return "records_guessed_wrong" in rec.columns and bool(
        rec["records_guessed_wrong"].notna().any()
    )


def _guess_counts(rec: pd.DataFrame) -> str:
    """The best-guess sentence with its counts: for how many pupils the guess is wrong, and how
    many of them it would single out wrongly, per distinct figure (rows sharing a guess share
    it), so the reader sees how much the guess costs the intruder."""
    rows = rec[rec["records_guessed_wrong"].notna()]
    parts = []
    for (wrong, wrongly), sub in rows.groupby(
        ["records_guessed_wrong", "records_wrongly_singled_out"], sort=False, dropna=False
    ):
        n = int(sub["n_records"].iloc[0])
        names = ", ".join(dict.fromkeys(sub["scenario"].str.replace("_", " ")))
        who = f"{int(wrong):,} of {n:,} pupils ({pct_text(wrong / n if n else 0)})"
        wrongly_text = (
            ""
            if pd.isna(wrongly)
            else (
                f"; {int(wrongly):,} of them would be singled out wrongly (another pupil alone in the guessed class)"
            )
        )
        parts.append(f"for {names} the guess is wrong for {who}{wrongly_text}")
    return (
        "A field shown as a guess (the school's local authority for the home one) counts a pupil only "
        "when the guess is right: " + "; ".join(parts) + "."
    )


def _fields_text(fields) -> str:
    if isinstance(fields, str):
        fields = [f.strip() for f in fields.split(",")]
    return ", ".join(_field_label(f) for f in fields)


def _column_label(name: str) -> str:
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    for prefix, label in (
        ("records_in_cells_at_most_", "Pupils in cells of at most "),
        ("cells_at_most_", "Cells of at most "),
    ):
        if name.startswith(prefix):
            return label + name[len(prefix) :]
    return str(name).replace("_", " ").capitalize()


# -------------------------------------------------------------------------------------------
# Where the figures come from
# -------------------------------------------------------------------------------------------


def citation(prov: dict) -> str:
    """A ready-made citation sentence for the report's figures."""
    version = code_identity(prov)
    function = prov.get("function", "")
    if _render.is_synthetic(prov):
        c = prov.get("cohort", {})
        data = (
            f"a synthetic cohort of {int(c.get('n_pupils', 0)):,} pupils (seed {c.get('seed')}, "
            f"generator {c.get('generator_version', 'unknown')})"
        )
    elif _render.inputs_of(prov):
        data = "; ".join(_render.input_text(i) for i in _render.inputs_of(prov))
    else:
        data = "tables supplied in memory"
    command = f", command: {prov['command']}" if prov.get("command") else ""
    return (
        f"Re-identification risk measured with riskcalc {version} ({function}) on {data}{command}. "
        "Counts and shares only; no record values."
    )


def _provenance_rows(prov: dict) -> list[tuple[str, str]]:
    """The provenance block as (item, value) rows for people."""
    rows: list[tuple[str, str]] = []
    text = fmt.setting

    labels = {
        "riskcalc_version": "riskcalc version",
        "riskcalc_commit": "riskcalc commit",
        "function": "Function",
        "command": "Command line",
        "data": "Data",
    }
    for key in ("riskcalc_version", "riskcalc_commit", "function", "command", "data"):
        if key in prov:
            rows.append((labels[key], text(prov[key], key)))
    for key, value in prov.get("cohort", {}).items():
        rows.append((f"Cohort: {key.replace('_', ' ')}", text(value, key)))
    for i, info in enumerate(_render.inputs_of(prov), 1):
        for key, value in info.items():
            if key == "columns":
                value = list(value)
            label = {"sha256": "SHA-256", "n_records": "records", "bytes": "size (bytes)"}.get(
                key, key
            )
            rows.append((f"Input {i}: {label}", text(value, key)))
    for key, value in prov.get("parameters", {}).items():
        if key == "scenarios":
            rows.append(
                ("Parameter: scenarios", ", ".join(value) + " (fields in the scenario table)")
            )
        else:
            rows.append((f"Parameter: {key.replace('_', ' ')}", text(value, key)))
    skip = {
        "riskcalc_version",
        "riskcalc_commit",
        "function",
        "command",
        "data",
        "cohort",
        "inputs",
        "input",
        "parameters",
        "data_quality",
    }  # the data-quality block has its own section, at the top
    for key, value in prov.items():
        if key not in skip:
            rows.append((key.replace("_", " ").capitalize(), text(value, key)))
    return rows


# -------------------------------------------------------------------------------------------
# Findings
# -------------------------------------------------------------------------------------------


def _noun(prov: dict) -> str:
    """What the extracts are called: NPD "tier" for a synthetic cohort, else "extract"."""
    return "tier" if _render.is_synthetic(prov) else "extract"


def key_findings(table: RiskTable) -> list[str]:
    """Two or three sentences with counts and denominators, for the top of the report."""
    out = []
    noun = _noun(table.provenance)
    rec = table.records
    if len(rec):
        measured = rec[~rec["projected"].astype(bool)] if "projected" in rec.columns else rec
        measured = measured if len(measured) else rec
        worst = measured.sort_values("unique_share", ascending=False, kind="stable").iloc[0]
        flags = table.upper_bound()

        def bound(row) -> str:
            return (
                " (an upper bound: see Data quality)"
                if flags is not None and bool(flags.loc[row.name])
                else ""
            )

        out.append(
            f"On {noun} {worst['tier']}, an intruder in the {worst['scenario'].replace('_', ' ')} scenario "
            f"(knowing {_fields_text(worst['fields'])}) singles out {int(worst['n_unique']):,} of "
            f"{int(worst['n_records']):,} pupils ({pct_text(worst['unique_share'])}){bound(worst)}."
        )
        by_tier = (
            rec.sort_values("unique_share", ascending=False, kind="stable")
            .groupby("tier", sort=False)
            .head(1)
        )
        safest = by_tier.sort_values("unique_share", kind="stable").iloc[0]
        if safest["tier"] != worst["tier"]:
            how = (
                " (projected onto the fields it holds)"
                if bool(safest.get("projected", False))
                else ""
            )
            out.append(
                f"Even on {noun} {safest['tier']}, the most identifying scenario, "
                f"{safest['scenario'].replace('_', ' ')}{how}, singles out {int(safest['n_unique']):,} of "
                f"{int(safest['n_records']):,} pupils ({pct_text(safest['unique_share'])}){bound(safest)}."
            )
    att = table.attributes
    if len(att) and att["records_revealed_minority"].max() > 0:
        bounds = table.attribute_bound()
        a = att.sort_values("records_revealed_minority", ascending=False, kind="stable").iloc[0]
        n = (
            int(round(a["records_revealed_minority"] / a["records_revealed_minority_share"]))
            if a["records_revealed_minority_share"]
            else 0
        )
        mark = (
            f" ({bounds.loc[a.name]}: see Data quality)"
            if bounds is not None and bounds.loc[a.name]
            else ""
        )
        out.append(
            f"Matching on the {a['scenario'].replace('_', ' ')} fields in {noun} {a['tier']} reveals the "
            f"{_field_label(a['sensitive'])} status of {int(a['records_revealed_minority']):,} of {n:,} pupils "
            f"({pct_text(a['records_revealed_minority_share'])}) to be other than the most common value{mark}."
        )
    elif len(table.aggregates):
        agg = table.aggregates
        small = int(agg["cells_at_most_2"].sum())
        cells = int(agg["n_cells"].sum())
        out.append(
            f"The {len(agg)} aggregate tables hold {small:,} cells of 1 or 2 pupils among {cells:,} "
            f"non-empty cells ({pct_text(small / cells if cells else 0)})."
        )
    return out[:3]


def identifying_combinations(
    lattice, fields, *, top: int = 10, min_gain: float = 0.01, exclude=None
) -> pd.DataFrame:
    """The minimal identifying combinations of ``fields`` read off a lattice, for the report.

    A combination is kept when every one of its fields adds to it: each subset with one field
    fewer (in the lattice) singles out a share of pupils at least ``min_gain`` smaller (default
    one percentage point), so the near-identical supersets of one identifying pair are left
    out. Direct identifiers (``exclude``, default the synthetic registry's: forename, surname,
    UPN, pupil id) are left out, as the intruder scenarios already assume them absent. Rows are
    the ``top`` by unique share, ties by fewer fields. Columns: as :func:`most_identifying`.

    Parameters
    ----------
    lattice : riskcalc.lattice.LatticeResult
        Computed with thresholds including 4, on a superset of ``fields``.
    fields : sequence of str
    """
    from .combinations import IDENTIFYING_COLUMNS, lattice_within

    if exclude is None:
        exclude = _direct_identifiers()
    keep = [f for f in fields if f not in set(exclude)]
    rows = lattice_within(lattice, keep).rename(
        columns={"records_in_cells_at_most_4": "records_below_5"}
    )
    return _minimal(rows, top, min_gain)[IDENTIFYING_COLUMNS]


def _direct_identifiers() -> tuple[str, ...]:
    try:
        import synthetic
    except ImportError:  # pragma: no cover
        return ("pupil_id", "upn", "forename", "surname")
    return tuple(synthetic.direct_identifiers())


def _minimal(rows: pd.DataFrame, top: int, min_gain: float = 0.01) -> pd.DataFrame:
    """Rows each of whose fields adds at least ``min_gain`` to the unique share of every
    one-smaller subset present in ``rows`` (the empty set singles out no one)."""
    share = dict(zip(rows["fields"].map(frozenset), rows["unique_share"]))
    share[frozenset()] = 0.0
    keep = [
        all(s - share.get(combo - {f}, -np.inf) >= min_gain for f in combo)
        for combo, s in zip(rows["fields"].map(frozenset), rows["unique_share"])
    ]
    out = rows.loc[np.asarray(keep, dtype=bool)] if len(rows) else rows
    return (
        out.sort_values(["unique_share", "n_fields"], ascending=[False, True], kind="stable")
        .head(top)
        .reset_index(drop=True)
    )


# -------------------------------------------------------------------------------------------
# Charts
# -------------------------------------------------------------------------------------------

_HATCHES = ["", "//", "..", "xx", "\\\\", "--", "++", "oo"]
_GREYS = ["0.15", "0.45", "0.7", "0.85", "0.3", "0.6", "0.9", "0.05"]
_RC = {
    "font.size": 9,
    "svg.hashsalt": "riskcalc",
    "svg.fonttype": "none",
    "hatch.linewidth": 0.6,
    "text.parse_math": False,
}  # names from files and scenarios are text, not TeX
#: PNG resolution: print quality (a 7.5-inch chart is 1,500 pixels wide).
DPI = 200
#: The phone rendition of every chart (shown below 700 CSS pixels): 3.8 inches wide, so on a
#: 390-pixel phone an inch of chart is about 97 pixels and its smallest text, PHONE_MIN_PT
#: points, about 9.5 pixels high (the desktop chart, 7.5 inches shrunk to the same width, had
#: 6-point labels about 4 pixels high). Bars run horizontally, so no label is rotated.
PHONE_WIDTH_IN = 3.8
PHONE_MIN_PT = 7.0


def preload_charting() -> None:
    """Import the parts of matplotlib the charts use (about 0.6 s of CPU), ahead of the charts:
    the main job has its worker process do it after the history section, before the charts."""
    import matplotlib.backends.backend_agg
    import matplotlib.backends.backend_svg
    import matplotlib.figure  # noqa: F401


def _figure(size):
    """A matplotlib Figure that does not touch pyplot's global state or the user's backend."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    ax = fig.subplots()
    return fig, ax


def _source(fig, prov: dict, extra: str = "") -> None:
    import textwrap

    # Wrapped here, not by matplotlib: its wrapping measures any text with two "$" as TeX, and
    # file names may hold them.
    width = int(fig.get_figwidth() * 20)
    lines = [
        textwrap.fill(part, width)
        for part in (_render.source_line(prov) + (f"\n{extra}" if extra else "")).split("\n")
    ]
    fig.text(0.01, 0.005, "\n".join(lines), ha="left", va="bottom", fontsize=7, color="0.2")


def _bar_labels(ax, bars, values, rotate: bool = False) -> None:
    for bar, v in zip(bars, values):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        ax.annotate(
            pct_text(v / 100),
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=6.5,
            rotation=90 if rotate or bar.get_width() < 0.2 else 0,
        )


def _phone_bars(labels, series, *, title: str, xlabel: str, prov: dict, note: str = "", stars=None):
    """The phone rendition of a bar chart: one horizontal group of bars per label (top to
    bottom), one bar per series ``(name, values in %, grey, hatch)``, each bar labelled with its
    share, every text at least :data:`PHONE_MIN_PT` points and none rotated. ``stars`` marks
    values (per series, per label) with ``*``; a missing value (NaN) reads "not in it". The
    layout is set in inches (title, legend, bars, axis label, source lines), so the figure grows
    with its labels and nothing overlaps."""
    import textwrap

    pt = PHONE_MIN_PT
    line = lambda size: size * 1.3 / 72  # noqa: E731 - inches per line of text at ``size`` points
    n, k = len(labels), max(len(series), 1)
    title_lines = textwrap.wrap(title, 40)
    source = [
        textwrap.fill(part, 46)
        for part in (_render.source_line(prov) + (f"\n{note}" if note else "")).split("\n")
    ]
    n_source = sum(part.count("\n") + 1 for part in source)
    ticks = ["\n".join(textwrap.wrap(str(lab), 17)) or " " for lab in labels]
    group = max(0.2 * k, line(pt + 0.5) * max(t.count("\n") + 1 for t in ticks)) + 0.1 if n else 0.3
    top = 0.1 + line(pt + 2) * len(title_lines) + (line(pt) + 0.08 if k > 1 else 0.04)
    axes = n * group + 0.08
    bottom = 0.1 + line(pt) + 0.05 + line(pt + 0.5) + 0.14 + line(pt) * n_source
    height = top + axes + bottom
    fig, ax = _figure((PHONE_WIDTH_IN, height))
    bar_h = min(0.8 * group, 0.2 * k) / k / group
    y = np.arange(n)
    for i, (name, values, grey, hatch) in enumerate(series):
        values = np.asarray(values, dtype=float)
        bars = ax.barh(
            y + (i - (k - 1) / 2) * bar_h,
            np.nan_to_num(values),
            bar_h,
            label=name,
            color=grey,
            hatch=hatch,
            edgecolor="black",
            linewidth=0.5,
        )
        for j, (bar, v) in enumerate(zip(bars, values)):
            star = "*" if stars is not None and stars[i][j] else ""
            text = "not in it" if math.isnan(v) else pct_text(v / 100) + star
            ax.annotate(
                text,
                (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                xytext=(2, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontsize=pt,
            )
    ax.set_yticks(y, ticks, fontsize=pt + 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(0, 130)
    ax.set_xticks(range(0, 101, 25))
    ax.tick_params(axis="x", labelsize=pt)
    ax.set_xlabel(xlabel, fontsize=pt + 0.5)
    ax.grid(axis="x", color="0.85", linewidth=0.5)
    ax.set_axisbelow(True)
    fig.subplots_adjust(left=0.37, right=0.97, top=1 - top / height, bottom=bottom / height)
    fig.text(
        0.02,
        1 - 0.06 / height,
        "\n".join(title_lines),
        ha="left",
        va="top",
        fontsize=pt + 2,
        fontweight="bold",
    )
    if k > 1:
        ax.legend(
            frameon=False,
            loc="lower left",
            bbox_to_anchor=(-0.55, 1.0),
            ncol=min(k, 3),
            fontsize=pt,
            borderaxespad=0.1,
            handlelength=1.4,
            columnspacing=1.0,
        )
    fig.text(
        0.02, 0.04 / height, "\n".join(source), ha="left", va="bottom", fontsize=pt, color="0.2"
    )
    return fig


def chart_tiers(table: RiskTable, phone: bool = False):
    """Grouped bars: unique share per scenario, one bar per tier (projected rows starred, absent
    ones marked "not in tier"); with ``phone``, the narrow rendition (:func:`_phone_bars`)."""
    rec = table.records
    scenarios = list(dict.fromkeys(rec["scenario"]))
    tiers = list(dict.fromkeys(rec["tier"]))
    projected = (
        rec["projected"].astype(bool)
        if "projected" in rec.columns
        else pd.Series(False, index=rec.index)
    )
    if phone:
        noun = _noun(table.provenance)
        series, stars = [], []
        for i, tier in enumerate(tiers):
            sub = (
                rec[rec["tier"] == tier]
                .assign(projected=projected[rec["tier"] == tier])
                .set_index("scenario")
            )
            series.append(
                (
                    f"{noun} {tier}",
                    [100 * sub["unique_share"].get(s, np.nan) for s in scenarios],
                    _GREYS[i % 8],
                    _HATCHES[i % 8],
                )
            )
            stars.append([bool(sub["projected"].get(s, False)) for s in scenarios])
        note = (
            f"* projected: measured on the coarser fields the {noun} holds. 'not in it': the {noun} lacks "
            "the scenario's fields, which is not zero risk."
        )
        return _phone_bars(
            [s.replace("_", " ") for s in scenarios],
            series,
            stars=stars,
            note=note,
            title=f"Pupils unique by intruder scenario and {noun}",
            xlabel="pupils unique on the scenario's fields (%)",
            prov=table.provenance,
        )
    fig, ax = _figure((7.5, 4.4))
    width = 0.8 / max(len(tiers), 1)
    x = np.arange(len(scenarios))
    for i, tier in enumerate(tiers):
        sub = (
            rec[rec["tier"] == tier]
            .assign(projected=projected[rec["tier"] == tier])
            .set_index("scenario")
        )
        values = [100 * sub["unique_share"].get(s, np.nan) for s in scenarios]
        bars = ax.bar(
            x + i * width,
            np.nan_to_num(values),
            width,
            label=f"{_noun(table.provenance)} {tier}",
            color=_GREYS[i % 8],
            hatch=_HATCHES[i % 8],
            edgecolor="black",
            linewidth=0.5,
        )
        for bar, s, v in zip(bars, scenarios, values):
            px = bar.get_x() + bar.get_width() / 2
            if math.isnan(v):
                ax.text(
                    px,
                    1,
                    f"not in {_noun(table.provenance)}",
                    rotation=90,
                    ha="center",
                    va="bottom",
                    fontsize=6,
                    color="0.3",
                )
                continue
            star = "*" if bool(sub["projected"].get(s, False)) else ""
            ax.annotate(
                pct_text(v / 100) + star,
                (px, bar.get_height()),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=6,
                rotation=90 if len(tiers) > 2 else 0,
            )
    ax.set_xticks(
        x + width * (len(tiers) - 1) / 2,
        [s.replace("_", " ") for s in scenarios],
        rotation=20,
        ha="right",
    )
    ax.set_ylabel("pupils unique on the scenario's fields (%)")
    ax.set_ylim(0, 118)
    ax.set_yticks(range(0, 101, 20))
    ax.set_title(f"Sample uniqueness by intruder scenario and {_noun(table.provenance)}", pad=20)
    ax.legend(
        frameon=False,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=min(len(tiers), 4),
        fontsize=7,
    )
    ax.grid(axis="y", color="0.85", linewidth=0.5)
    noun = _noun(table.provenance)
    note = (
        (
            f"* projected: measured on the coarser fields the {noun} holds. 'not in {noun}': the {noun} "
            "lacks the scenario's fields, which is not zero risk."
        )
        if projected.any() or rec.groupby("scenario")["tier"].nunique().lt(len(tiers)).any()
        else ""
    )
    if _has_guesses(rec):
        note += (
            " Some projections use the school's LA as a guess of the home LA, counting pupils only "
            "where it is right."
        )
    fig.subplots_adjust(bottom=0.24, right=0.98, left=0.08, top=0.86)
    _source(fig, table.provenance, note)
    return fig


def chart_staircase(stairs: pd.DataFrame, label: str, prov: dict, phone: bool = False):
    """Bars: unique share as fields are added, one bar per step, labelled with its share."""
    if phone:
        return _phone_bars(
            [f"+ {_field_label(f)}" for f in stairs["field"]],
            [("unique", 100 * stairs["unique_share"].to_numpy(dtype=float), "0.45", "")],
            title=f"Uniqueness staircase, {label}",
            xlabel="pupils unique (%)",
            prov=prov,
        )
    fig, ax = _figure((7.5, 3.9))
    y = 100 * stairs["unique_share"].to_numpy(dtype=float)
    x = np.arange(len(stairs))
    bars = ax.bar(x, y, 0.6, color="0.45", edgecolor="black", linewidth=0.5)
    _bar_labels(ax, bars, y)
    ax.set_xticks(x, [f"+ {_field_label(f)}" for f in stairs["field"]], rotation=30, ha="right")
    ax.set_ylabel("pupils unique (%)")
    ax.set_xlabel("field added (most identifying first)")
    ax.set_ylim(0, 112)
    ax.set_yticks(range(0, 101, 20))
    ax.set_title(f"Uniqueness staircase, {label}")
    ax.grid(axis="y", color="0.85", linewidth=0.5)
    ax.set_axisbelow(True)
    fig.subplots_adjust(bottom=0.34, left=0.1)
    _source(fig, prov)
    return fig


def chart_what_if(what: pd.DataFrame, prov: dict, phone: bool = False):
    """Paired bars: unique share before and after coarsening, per tier and scenario."""
    labels = [f"T{t} {s.replace('_', ' ')}" for t, s in zip(what["tier"], what["scenario"])]
    if phone:
        return _phone_bars(
            labels,
            [
                (
                    "as released",
                    100 * what["unique_share_before"].to_numpy(dtype=float),
                    "0.25",
                    "",
                ),
                ("coarsened", 100 * what["unique_share_after"].to_numpy(dtype=float), "0.8", "//"),
            ],
            title="What-if: uniqueness before and after coarsening",
            xlabel="pupils unique (%)",
            prov=prov,
        )
    fig, ax = _figure((7.5 if len(labels) <= 10 else 9.5, 4.4))
    x = np.arange(len(labels))
    before = 100 * what["unique_share_before"].to_numpy(dtype=float)
    after = 100 * what["unique_share_after"].to_numpy(dtype=float)
    b1 = ax.bar(
        x - 0.2, before, 0.4, label="as released", color="0.25", edgecolor="black", linewidth=0.5
    )
    b2 = ax.bar(
        x + 0.2,
        after,
        0.4,
        label="coarsened",
        color="0.8",
        hatch="//",
        edgecolor="black",
        linewidth=0.5,
    )
    _bar_labels(ax, b1, before, rotate=len(labels) > 8)
    _bar_labels(ax, b2, after, rotate=len(labels) > 8)
    ax.set_xticks(x, labels, rotation=35, ha="right", fontsize=7)
    ax.set_ylabel("pupils unique (%)")
    ax.set_ylim(0, 125)
    ax.set_yticks(range(0, 101, 20))
    ax.set_title("What-if: uniqueness before and after coarsening")
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", color="0.85", linewidth=0.5)
    fig.subplots_adjust(bottom=0.3, right=0.84)
    _source(fig, prov)
    return fig


def _history_source(history) -> str:
    """The panel behind the history chart, for its source line."""
    return (
        f"School history: synthetic panel of {history.n_pupils:,} pupils, {history.years} spring censuses "
        f"from {history.first_year}/{(history.first_year + 1) % 100:02d}, seed {history.seed}."
    )


def chart_history(history, prov: dict, phone: bool = False):
    """Paired bars: pupils unique, and in classes below 5, as years of school history are linked."""
    frame = history.to_frame()
    t = history.result.k_threshold
    if phone:
        return _phone_bars(
            [
                f"{k} year{'s' if k > 1 else ''}, {n:,} pupils"
                for k, n in zip(frame["years_linked"], frame["n_records"])
            ],
            [
                ("unique", 100 * frame["unique_share"].to_numpy(dtype=float), "0.25", ""),
                (
                    f"in classes below {t}",
                    100 * frame[f"records_below_{t}_share"].to_numpy(dtype=float),
                    "0.8",
                    "//",
                ),
            ],
            title="Tier 4 school-gate fields as years of school history are linked",
            xlabel="pupils (%)",
            prov=prov,
            note=_history_source(history),
        )
    fig, ax = _figure((7.5, 4.2))
    x = np.arange(len(frame))
    unique = 100 * frame["unique_share"].to_numpy(dtype=float)
    below = 100 * frame[f"records_below_{t}_share"].to_numpy(dtype=float)
    b1 = ax.bar(
        x - 0.2, unique, 0.4, label="unique", color="0.25", edgecolor="black", linewidth=0.5
    )
    b2 = ax.bar(
        x + 0.2,
        below,
        0.4,
        label=f"in classes below {t}",
        color="0.8",
        hatch="//",
        edgecolor="black",
        linewidth=0.5,
    )
    _bar_labels(ax, b1, unique)
    _bar_labels(ax, b2, below)
    ticks = [
        f"{k} year{'s' if k > 1 else ''}\n{n:,} pupils"
        for k, n in zip(frame["years_linked"], frame["n_records"])
    ]
    ax.set_xticks(x, ticks, fontsize=7)
    ax.set_xlabel("spring censuses of school history linked (from the first)")
    ax.set_ylabel("pupils (%)")
    ax.set_ylim(0, 112)
    ax.set_yticks(range(0, 101, 20))
    ax.set_title(
        "Tier 4 school-gate fields: school and year group at each census, sex, birth month and year",
        fontsize=8.5,
    )
    ax.legend(frameon=False, loc="upper left", fontsize=7)
    ax.grid(axis="y", color="0.85", linewidth=0.5)
    ax.set_axisbelow(True)
    fig.subplots_adjust(bottom=0.27, left=0.09, right=0.98, top=0.9)
    _source(fig, prov, _history_source(history))
    return fig


def _no_math(fig):
    """``fig`` with every text printed as itself: labels are names from the user's files and
    scenarios, not formulas, so a "$" must not start matplotlib mathtext (which fails on
    unbalanced or invalid TeX)."""
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        text.set_parse_math(False)
    return fig


def _render_chart(fig) -> tuple[bytes, str]:
    """The PNG and SVG bytes of a figure (under the report's rc settings: see :func:`draw_chart`)."""
    png = _png(_no_math(fig))
    svg = io.StringIO()
    fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return png, svg.getvalue()


def _png(fig) -> bytes:
    """The figure as a PNG at :data:`DPI`, drawn as ``savefig`` draws it; stored as one grey
    channel when every pixel is an opaque grey, as the report's charts are (lossless, and less
    than half the bytes and the encoding time of RGBA), as RGBA otherwise. No text chunks: the
    same chart gives the same bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas, dpi = FigureCanvasAgg(fig), fig.dpi
    fig.dpi = DPI
    try:
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())
    finally:
        fig.dpi = dpi
    grey = (
        bool((rgba[..., 3] == 255).all())
        and np.array_equal(rgba[..., 0], rgba[..., 1])
        and np.array_equal(rgba[..., 0], rgba[..., 2])
    )
    image = Image.fromarray(
        np.ascontiguousarray(rgba[..., 0]) if grey else np.ascontiguousarray(rgba)
    )
    out = io.BytesIO()
    image.save(out, format="png", dpi=(DPI, DPI))
    return out.getvalue()


def chart_specs(
    table: RiskTable, *, staircase=None, what_if=None, history=None
) -> dict[str, tuple]:
    """The report's charts that the given data make: ``{name: (builder, args)}``, each drawn by
    :func:`draw_chart` (so that a job can draw one as soon as its data is ready, elsewhere)."""
    prov = table.provenance
    specs: dict[str, tuple] = {}
    if len(table.records):
        specs["chart_tiers"] = (chart_tiers, (table,))
    if staircase is not None and len(staircase[1]):
        specs["chart_staircase"] = (chart_staircase, (staircase[1], str(staircase[0]), prov))
    if what_if is not None and len(what_if):
        specs["chart_what_if"] = (chart_what_if, (what_if, prov))
    if history is not None and len(history.result.n_linked):
        specs["chart_history"] = (chart_history, (history, prov))
    return specs


def draw_chart(spec: tuple) -> tuple[bytes, str, bytes]:
    """The PNG and SVG of one chart of :func:`chart_specs`, and the PNG of its phone rendition."""
    from matplotlib import rc_context

    builder, args = spec
    with rc_context(_RC):
        png, svg = _render_chart(builder(*args))
        return png, svg, _png(_no_math(builder(*args, phone=True)))


def chart_images(
    table: RiskTable, *, staircase=None, what_if=None, history=None, render_all=None
) -> dict[str, dict]:
    """Every chart of the report: ``{name: {"png": bytes, "svg": str, "phone_png": bytes, "alt": str,
    "caption": str}}`` (``phone_png``: the narrow rendition shown on phones)
    (names ``chart_tiers``, ``chart_staircase``, ``chart_what_if``, ``chart_history``).
    Deterministic: the same table gives the same bytes. ``render_all(draw_chart, specs)``, when
    given, returns ``[draw_chart(s) for s in specs]`` its own way (the main job draws them on
    its worker process)."""
    specs = chart_specs(table, staircase=staircase, what_if=what_if, history=history)
    charts: dict[str, dict] = {}
    if "chart_tiers" in specs:
        rec = table.records
        worst = rec.sort_values("unique_share", ascending=False, kind="stable").iloc[0]
        charts["chart_tiers"] = {
            "alt": (
                f"Bar chart of the share of pupils unique on each intruder scenario's fields, one bar "
                f"per tier. Highest: tier {worst['tier']} {worst['scenario'].replace('_', ' ')}, "
                f"{int(worst['n_unique']):,} of {int(worst['n_records']):,} pupils "
                f"({pct_text(worst['unique_share'])}). Starred bars are projected scenarios."
            ),
            "caption": (
                "Share of pupils unique on each scenario's fields, by tier (hatching distinguishes "
                "tiers in grey-scale). Starred bars: the scenario projected onto the coarser fields "
                "the tier holds; 'not in tier' is not zero risk."
            ),
        }
    if "chart_staircase" in specs:
        label, stairs = staircase
        last = stairs.iloc[-1]
        charts["chart_staircase"] = {
            "alt": (
                f"Step chart of the share of pupils unique as fields are added ({label}), ending at "
                f"{int(last['n_unique']):,} pupils ({pct_text(last['unique_share'])}) with "
                f"{len(stairs)} fields."
            ),
            "caption": f"Share of pupils unique as fields are added, most identifying first ({label}).",
        }
    if "chart_what_if" in specs:
        charts["chart_what_if"] = {
            "alt": (
                f"Paired bar chart of the share of pupils unique before and after coarsening, for "
                f"{len(what_if)} tier and scenario pairs."
            ),
            "caption": "Share of pupils unique before (dark) and after (hatched) coarsening.",
        }
    if "chart_history" in specs:
        r = history.result
        charts["chart_history"] = {
            "alt": (
                f"Paired bar chart of the share of pupils of a synthetic panel unique on the tier 4 "
                f"school-gate fields, and in classes below {r.k_threshold}, as 1 to {r.n_linked[-1]} "
                f"years of school history are linked: from {r.n_unique[0]:,} of {r.n_pupils[0]:,} "
                f"pupils unique ({pct_text(r.n_unique[0] / r.n_pupils[0])}) to {r.n_unique[-1]:,} of "
                f"{r.n_pupils[-1]:,} ({pct_text(r.n_unique[-1] / r.n_pupils[-1])})."
            ),
            "caption": (
                f"Share of pupils unique (dark) and in classes below {r.k_threshold} (hatched) as "
                "years of school history are linked; synthetic panel."
            ),
        }
    ordered = [specs[name] for name in charts]
    rendered = (
        render_all(draw_chart, ordered) if render_all else [draw_chart(spec) for spec in ordered]
    )
    for item, (png, svg, phone) in zip(charts.values(), rendered):
        item["png"], item["svg"], item["phone_png"] = png, svg, phone
    return charts


# -------------------------------------------------------------------------------------------
# HTML
# -------------------------------------------------------------------------------------------

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:72rem;margin:1.5rem auto;padding:0 1rem;color:#111;line-height:1.45}
h1{font-size:1.6rem;line-height:1.2}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #999}h3{font-size:1.05rem}
table{border-collapse:collapse;margin:0.8rem 0;font-size:0.85rem;max-width:100%}
th,td{border:1px solid #bbb;padding:0.25rem 0.45rem;vertical-align:top;overflow-wrap:break-word}
th{background:#eee;text-align:left;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
img{width:100%;max-width:50rem;height:auto;display:block}
figure{margin:1rem 0}figcaption{font-size:0.85rem;color:#333}
.note{font-size:0.9rem;color:#333}.wide{max-width:100%;overflow-x:auto}
.toc{border:1px solid #bbb;padding:0.3rem 0.9rem;margin:1rem 0;background:#fafafa}
.toc h2{border:0;margin:0.2rem 0;font-size:1.05rem}.toc ol{margin:0.2rem 0;padding-left:1.4rem}
.toc li{margin:0.15rem 0}.toc a,.totop a{color:#111}
.totop{position:fixed;right:0.6rem;bottom:0.6rem;margin:0;font-size:0.85rem;background:#fff;border:1px solid #999;padding:0.15rem 0.5rem}
.banner{border:2px solid #333;padding:0.6rem 0.8rem;font-weight:600;background:#f6f6f6}
.findings,.cite,.quality{border-left:4px solid #333;padding:0.4rem 0.9rem;margin:1rem 0;background:#fafafa}
.findings h2,.cite h2,.quality h2{border:0;margin:0.2rem 0;font-size:1.05rem}
.cite p,.mono{overflow-wrap:anywhere;word-break:break-word}
code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:0.85em}
dt{margin-top:0.5rem}dd{margin-left:1rem}
table.kv{width:100%;table-layout:fixed}table.kv td{overflow-wrap:anywhere}table.kv td:first-child,table.kv th:first-child{width:32%}
@media screen and (max-width:700px){
 body{margin:0.8rem auto;padding:0 0.6rem}
 table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}
 table.cards thead{display:none}
 table.cards tr{border:1px solid #999;margin:0 0 0.6rem 0}
 table.cards td{display:flex;justify-content:space-between;gap:0.6rem;border:0;border-bottom:1px solid #ddd;text-align:right;white-space:normal;min-height:1.6rem}
 table.cards td::before{content:attr(data-label);flex:0 0 42%;text-align:left;font-weight:600}
}
@media print{
 @page{size:A4;margin:12mm}
 body{max-width:none;margin:0;padding:0;font-size:9pt}
 .wide{overflow:visible}
 table{width:100%;font-size:7.5pt;page-break-inside:auto}
 th,td{padding:0.1rem 0.25rem}
 td.num{white-space:normal}
 thead{display:table-header-group}
 tr,figure,img{break-inside:avoid}
 .totop{display:none}
 h2,h3{break-after:avoid}
}
"""


def _cell_text(value, column: str) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if (
        "share" in column
        or column == "average_risk"
        or column.endswith(("_precision", "_recall", "_rate"))
    ):
        return pct_text(value)
    if column == "fields" or isinstance(value, (tuple, list)):
        return _fields_text(value)
    if column in ("table", "scenario"):
        return str(value).replace("_", " " if column == "scenario" else "_\u200b")
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)) or (
        isinstance(value, (float, np.floating)) and float(value).is_integer()
    ):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.3g}"
    return str(value)


def _table_html(
    frame: pd.DataFrame,
    *,
    labels: dict | None = None,
    cards: bool = True,
    caption: str = "",
    css: str = "",
) -> str:
    """A table with plain-English headers (``labels`` overrides) and one number format."""
    frame = _display(frame)
    labels = labels or {}
    heads = [labels.get(c, _column_label(str(c))) for c in frame.columns]
    numeric = [
        pd.api.types.is_numeric_dtype(numeric_view(frame[c].dtype)) and frame[c].dtype != bool
        for c in frame.columns
    ]
    head = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for value, column, h, num in zip(row, frame.columns, heads, numeric):
            text = html.escape(_cell_text(value, str(column)))
            cls = "num" if num else "text"
            cells.append(f'<td class="{cls}" data-label="{html.escape(h)}">{text}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    classes = " ".join(c for c in ("cards" if cards else "", css) if c)
    cls = f' class="{classes}"' if classes else ""
    return f'<div class="wide"><table{cls}>{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _figure_html(chart: dict) -> str:
    """A chart as a ``<picture>``: its phone rendition on narrow screens (up to 700 CSS pixels),
    the desktop chart elsewhere and on paper."""
    png = base64.b64encode(chart["png"]).decode("ascii")
    phone = ""
    if chart.get("phone_png"):
        phone = (
            f'<source media="screen and (max-width: 700px)" '
            f'srcset="data:image/png;base64,{base64.b64encode(chart["phone_png"]).decode("ascii")}">'
        )
    return (
        f'<figure><picture>{phone}<img alt="{html.escape(chart["alt"])}" src="data:image/png;base64,{png}">'
        f"</picture><figcaption>{html.escape(chart['caption'])}</figcaption></figure>"
    )


def _headline_frame(table: RiskTable) -> pd.DataFrame:
    r = table.records
    head = table.headline()
    head["fields"] = r["fields"].to_numpy()
    cols = [
        "tier",
        "scenario",
        "fields",
        "pupils",
        "unique",
        "unique_share",
        "below_5",
        "below_10",
        "average_risk",
    ]
    if not (r["k"] == r["k"].iloc[0]).all() if len(r) else False:
        cols.insert(6, "k")
    if (
        "upper_bound" in head.columns
    ):  # rows measured on a field still holding one value written two ways
        cols.append("upper_bound")
    return head[cols]


def _quality_html(prov: dict) -> list[str]:
    """The "Data quality" section: what the profile of the measured columns found, the upper
    bounds it makes of the figures and why, and the normalisation applied (counts only)."""
    from .. import _render

    doc = prov.get("data_quality")
    if not doc:
        return []
    upper = doc.get("upper_bound", [])
    several = len(doc.get("checked", [])) > 1
    parts = [
        '<div class="quality"><h2 id="quality">Data quality</h2>',
        f"<p><b>{html.escape(doc.get('summary') or _render.quality_summary(doc))}</b></p>",
    ]
    if upper:
        items = "".join(
            f"<li>{html.escape((u['source'] + ': ') if several else '')}<b>{html.escape(_field_label(u['column']))}</b> "
            f"({html.escape(', '.join(c.replace('_', ' ') for c in u['checks']))})</li>"
            for u in upper
        )
        parts.append(
            '<p>Rows marked "upper bound" in the tables below are measured on a field that still holds '
            "one value written in more than one way. Each spelling counts as a value of its own, so "
            "pupils who share a value fall into separate classes: the counts of unique pupils and of "
            "pupils in small classes, and the average risk, are <b>upper bounds</b> (k a lower bound). "
            f"Fields concerned:</p><ul>{items}</ul>"
        )
    for u in doc.get("lower_bound", []):
        parts.append(
            f"<p>The sensitive field <b>{html.escape(_field_label(u['column']))}</b> holds one value "
            "written in more than one way: classes look more mixed than they are, so the pupils whose "
            "status a match reveals may be <b>understated</b>.</p>"
        )
    findings = doc.get("findings", [])
    if findings:
        parts.append(
            "<p>What the profile found (counts only, never a value):</p><ul>"
            + "".join(f"<li>{html.escape(f['message'])}</li>" for f in findings)
            + "</ul>"
        )
    if doc.get("normalisation"):
        rows = [
            {
                "source": n.get("source", ""),
                "column": n["column"],
                "kind": n["kind"].replace("_", " "),
                "distinct_before": n["distinct_before"],
                "distinct_after": n["distinct_after"],
                "rules": "; ".join(
                    f"{r['description']}: {r['values_rewritten']:,} rewritten, {r['merged']:,} merged"
                    for r in n.get("rules", [])
                )
                or "nothing to change",
            }
            for n in doc["normalisation"]
        ]
        frame = pd.DataFrame(rows)
        if not several:
            frame = frame.drop(columns="source")
        parts += [
            "<p>Normalised before measuring (the file itself was not changed): distinct values before "
            "and after, and each rule applied.</p>",
            _table_html(
                frame,
                labels={
                    "source": "Extract",
                    "column": "Column",
                    "kind": "Kind",
                    "distinct_before": "Distinct before",
                    "distinct_after": "Distinct after",
                    "rules": "Rules applied",
                },
            ),
        ]
    elif upper:
        parts.append(
            '<p class="note">riskcalc report --normalise unifies the spellings its rules know (case and '
            "spaces, numbers, UK postcodes, year groups, sex codes, dates) before measuring, and records "
            "each rule; the file is not changed.</p>"
        )
    parts.append("</div>")
    return parts


def _attribute_tables(table: RiskTable, noun: str = "tier") -> list[str]:
    """One table per tier: a row per sensitive field, a column per scenario (transposed, so the
    width grows with the scenarios, not with the sensitive fields)."""
    wide = table.attribute_matrix()
    out = []
    for tier, sub in wide.groupby("tier", sort=False):
        t = sub.drop(columns="tier").set_index("scenario").T
        t = t.loc[(t != "").any(axis=1)]
        t.columns = [str(c).replace("_", " ") for c in t.columns]
        t = t.rename_axis("sensitive").reset_index()
        t["sensitive"] = t["sensitive"].map(_field_label)
        out += [
            f"<h3>{noun.capitalize()} {html.escape(str(tier))}</h3>",
            _table_html(t, labels={"sensitive": "Sensitive field"}),
        ]
    return out


def _aggregate_tables(agg: pd.DataFrame) -> list[str]:
    agg = agg.assign(
        dimensions=agg["dimensions"].map(
            lambda d: " x ".join(_field_label(p.strip()) for p in str(d).split(" x "))
        )
    )
    ts = [c[len("cells_at_most_") :] for c in agg.columns if c.startswith("cells_at_most_")]
    base = ["table", "dimensions"]
    parts = [
        "<h3>Small cells</h3>",
        _table_html(agg[base + ["n_cells", "n_records"] + [f"cells_at_most_{t}" for t in ts]]),
        "<h3>Pupils in small cells</h3>",
        _table_html(agg[base + [f"records_in_cells_at_most_{t}" for t in ts]]),
    ]
    rest = [
        c
        for c in (
            "suppressed_cells",
            "recoverable_cells",
            "recoverable_records",
            "rounded_recoverable_cells",
            "rounded_recoverable_records",
        )
        if c in agg.columns
    ]
    if rest:
        parts += [
            "<h3>If published with suppression below 5, or rounded to 5</h3>",
            _table_html(agg[base + rest]),
        ]
    return parts


def _history_html(history, charts: dict) -> list[str]:
    """The longitudinal section: the quotable sentence, the table, the chart."""
    t = history.result.k_threshold
    labels = {
        "years_linked": "Years of history linked",
        "academic_years": "Spring censuses linked",
        "n_records": "Pupils",
        "n_unique": "Unique pupils",
        "unique_share": "Unique (% of pupils)",
        f"records_below_{t}": f"In classes below {t}",
        f"records_below_{t}_share": f"In classes below {t} (%)",
        "k": "Smallest class (k)",
        "average_risk": "Average risk",
    }
    parts = [
        '<h2 id="history">School history: uniqueness as years are linked</h2>',
        f"<p><b>{html.escape(history.sentence)}</b></p>",
        '<p class="note">A tier 4 extract spanning several years links each pupil\'s censuses through the '
        "pseudonymous pupil id. Here the school-gate intruder knows the school and year group at each "
        "linked spring census and the pupil's sex and year and month of birth. Pupils counted: those in at "
        "least one linked census (Reception intakes and joiners add to the count). The panel is "
        f"synthetic and separate from the cohort above ({history.n_pupils:,} pupils in its first census, "
        f"seed {history.seed}); shares move with its size.</p>",
        _table_html(history.to_frame(), labels=labels),
    ]
    if "chart_history" in charts:
        parts.append(_figure_html(charts["chart_history"]))
    return parts


@dataclass(frozen=True, slots=True)
class _Page:
    """What the sections of the report read: the table, its provenance, the drawn charts and
    the optional sections' inputs (``None`` leaves a section out)."""

    table: RiskTable
    title: str
    charts: dict
    identifying: dict | None = None
    staircase: tuple[str, pd.DataFrame] | None = None
    what_if: pd.DataFrame | None = None
    coarsening: CoarseningResult | None = None
    history: HistorySection | None = None
    attack: HtmlSection | None = None

    @property
    def prov(self) -> dict:
        return self.table.provenance

    @property
    def rec(self) -> pd.DataFrame:
        return self.table.records

    @property
    def noun(self) -> str:
        return _noun(self.prov)


def _banner(prov: dict) -> str:
    """The data statement under the title: synthetic, the input files, or tables in memory."""
    if _render.is_synthetic(prov):
        return html.escape(SYNTHETIC_NOTE)
    if _render.inputs_of(prov):
        return (
            "Data: "
            + "; ".join(
                f'<span class="mono">{html.escape(_render.input_text(i))}</span>'
                for i in _render.inputs_of(prov)
            )
            + "."
        )
    return "Data: tables supplied in memory; no input file was recorded."


def _head_section(page: _Page) -> list[str]:
    """The document head, the title, the data statement and the version note."""
    return [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(page.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(page.title)}</h1>",
        f'<p class="banner">{_banner(page.prov)}</p>',
        '<p class="note">Figures from riskcalc '
        + html.escape(code_identity(page.prov))
        + ". Counts come before shares. No value of any record is shown.</p>",
    ]


def _quality_section(page: _Page) -> list[str]:
    """The data-quality notes of the inputs (:func:`_quality_html`)."""
    return _quality_html(page.prov)


def _findings_section(page: _Page) -> list[str]:
    """The key findings (:func:`key_findings`), when there are any."""
    findings = key_findings(page.table)
    if not findings:
        return []
    return [
        '<div class="findings"><h2 id="findings">Key findings</h2>'
        + "".join(f"<p>{html.escape(s)}</p>" for s in findings)
        + "</div>"
    ]


def _contents_section(page: _Page) -> list[str]:
    """Where the table of contents goes, filled in once every section is known."""
    return [_TOC_PLACE]


def _cite_section(page: _Page) -> list[str]:
    """How to cite these figures (:func:`citation`)."""
    return [
        f'<div class="cite"><h2 id="cite">How to cite these figures</h2><p>{html.escape(citation(page.prov))}</p></div>'
    ]


def _k_note(rec: pd.DataFrame) -> list[str]:
    """A note when the smallest class k is the same in every row (the column is left out)."""
    if not (len(rec) and (rec["k"] == rec["k"].iloc[0]).all()):
        return []
    return [
        f'<p class="note">The smallest class, k, is {int(rec["k"].iloc[0]):,} in every row, '
        "so it is left out: "
        + (
            "each scenario singles out at least one pupil on every tier. The counts of unique "
            "pupils and of pupils in classes below 5 and 10 say how many."
            if rec["k"].iloc[0] == 1
            else "it does not distinguish the rows."
        )
        + "</p>"
    ]


def _tiers_section(page: _Page) -> list[str]:
    """The tier table: pupils an intruder could single out, per extract and scenario."""
    rec = page.rec
    parts = [
        '<h2 id="tiers">Tier table: pupils an intruder could single out</h2>',
        '<p class="note">One row per tier extract and intruder scenario. Rows marked "(projected)" '
        "measure a scenario on a tier that lacks some of its fields, using the coarser versions the "
        "tier holds (the fields listed); a scenario with no row on a tier is not zero risk."
        + (" " + html.escape(_guess_counts(rec)) if _has_guesses(rec) else "")
        + "</p>",
        _table_html(_headline_frame(page.table), labels={"tier": page.noun.capitalize()})
        if len(rec)
        else "<p>No record-level extract.</p>",
    ]
    parts += _k_note(rec)
    if "chart_tiers" in page.charts:
        parts.append(_figure_html(page.charts["chart_tiers"]))
    return parts


def _scenarios_section(page: _Page) -> list[str]:
    """The intruder scenarios measured, and those no extract could measure."""
    parts = ['<h2 id="scenarios">Intruder scenarios</h2>']
    for gap in page.prov.get("scenarios_not_measured", []):
        parts.append(
            f'<p class="note">Not measured: {html.escape(gap["scenario"].replace("_", " "))}, as no extract '
            f"holds all its fields (missing: {html.escape(', '.join(gap['missing']))}). Pass --scenarios FILE "
            "naming your columns, or --columns FIELD=COLUMN to map them.</p>"
        )
    parts.append(
        _table_html(
            pd.DataFrame(
                [
                    {
                        "scenario": s.name.replace("_", " "),
                        "fields": s.fields,
                        "rationale": s.rationale,
                    }
                    for s in page.table.scenarios
                ]
            )
        )
    )
    return parts


def _attributes_section(page: _Page) -> list[str]:
    """Sensitive values revealed by homogeneous classes (:func:`_attribute_tables`)."""
    if not len(page.table.attributes):
        return []
    return [
        '<h2 id="attributes">Sensitive values revealed by homogeneous classes</h2>',
        '<p class="note">Pupils (and their share of the tier) whose sensitive status is certain once '
        "matched on the scenario's fields, counting those revealed to hold a value other than the most "
        "common one (for instance, eligible for free meals or looked after). One row per sensitive "
        "field, one column per scenario; blank where the tier lacks the field or the intruder already "
        "knows it. Full counts, including pupils revealed to hold the common value, are in the CSV and "
        "JSON files.</p>",
        *_attribute_tables(page.table, page.noun),
    ]


def _tier3_section(page: _Page) -> list[str]:
    """Tier 3 aggregate tables: their small cells (:func:`_aggregate_tables`)."""
    if not len(page.table.aggregates):
        return []
    return [
        '<h2 id="tier3">Tier 3 aggregate tables: small cells</h2>',
        '<p class="note">Each table counts pupils by every dimension listed. Published without '
        'suppression, cells of 1 and 2 point at one or two pupils. "Recoverable" cells would be worked '
        "out from the totals and linked tables if cells under 5 were suppressed, or all rounded to 5. "
        "These figures come from the unprotected tables and are for the data owner: per table only "
        "(cells, and pupils summed over them), not cell by cell; the cells' feasible "
        "intervals are in the internal report of <code>riskcalc audit-tables</code>.</p>",
        *_aggregate_tables(page.table.aggregates),
    ]


def _history_section(page: _Page) -> list[str]:
    """The school-history section (:func:`_history_html`), when given."""
    return [] if page.history is None else _history_html(page.history, page.charts)


def _attack_section(page: _Page) -> list[str]:
    """The simulated linkage attack (:mod:`riskcalc.release.attack`, which imports this
    module), when given."""
    return [] if page.attack is None else [page.attack.section_html()]


def _lattice_section(page: _Page) -> list[str]:
    """The most identifying combinations of fields, minimal ones only, per extract."""
    if not page.identifying:
        return []
    exclude = set(_direct_identifiers())
    sizes = [int(f["n_fields"].max()) for f in page.identifying.values() if len(f)]
    parts = [
        '<h2 id="lattice">Most identifying combinations of fields</h2>',
        f'<p class="note">Every combination of up to {max(sizes, default=0)} of the scenarios\' fields '
        "was measured (the search stops there); shown are the minimal ones, where every field adds at "
        "least 1% of pupils to those singled out, most identifying first. Direct identifiers (names, UPN, pupil id) are "
        "left out.</p>",
    ]
    for label, frame in page.identifying.items():
        frame = frame.loc[~frame["fields"].map(lambda f: bool(set(f) & exclude))]
        parts += [
            f"<h3>{page.noun.capitalize()} {html.escape(str(label))}</h3>",
            _table_html(_minimal(frame, len(frame))),
        ]
    return parts


def _staircase_section(page: _Page) -> list[str]:
    """The uniqueness staircase of one extract, with its chart."""
    if page.staircase is None:
        return []
    _, stairs = page.staircase
    parts = [
        '<h2 id="staircase">Uniqueness staircase</h2>',
        '<p class="note">Fields added one at a time, each time the one that singles out the most '
        "pupils; it stops when every pupil is unique.</p>",
        _table_html(
            stairs.drop(columns=["fields"]).assign(field=stairs["field"].map(_field_label))
        ),
    ]
    if "chart_staircase" in page.charts:
        parts.append(_figure_html(page.charts["chart_staircase"]))
    return parts


def _what_if_shown(what_if: pd.DataFrame, rec: pd.DataFrame) -> pd.DataFrame:
    """The what-if table with "(projected)" after the scenarios projected in the tier table."""
    if "projected" not in rec.columns or not len(rec):
        return what_if
    flag = rec.set_index(["tier", "scenario"])["projected"]
    proj = [bool(flag.get((t, s), False)) for t, s in zip(what_if["tier"], what_if["scenario"])]
    return what_if.assign(
        scenario=[s + (" (projected)" if p else "") for s, p in zip(what_if["scenario"], proj)]
    )


def _what_if_section(page: _Page) -> list[str]:
    """The same scenarios after one coarsening step, with its chart."""
    if page.what_if is None:
        return []
    parts = [
        '<h2 id="whatif">What-if: a coarser release</h2>',
        '<p class="note">The same scenarios after coarsening: '
        + html.escape(
            ", ".join(
                f"{_field_label(k)} to {_field_label(v)}"
                for k, v in page.prov.get("what_if_coarsening", {}).items()
            )
            or "as given"
        )
        + ".</p>",
        _table_html(_what_if_shown(page.what_if, page.rec)),
    ]
    if "chart_what_if" in page.charts:
        parts.append(_figure_html(page.charts["chart_what_if"]))
    return parts


def _coarsening_section(page: _Page) -> list[str]:
    """The smallest coarsening reaching the target k (:func:`riskcalc.smallest_coarsening`)."""
    coarsening = page.coarsening
    if coarsening is None:
        return []
    levels = coarsening.describe(_field_label)
    return [
        '<h2 id="coarsening">Smallest coarsening to reach the target</h2>',
        f'<p class="note">Target k = {coarsening.target_k}, allowing {pct_text(coarsening.max_suppressed)} of '
        f"pupils to be suppressed: {html.escape(levels)} ({coarsening.steps} ladder steps). k is measured "
        "before suppression.</p>",
        _table_html(coarsening.result),
    ]


def _definitions_section(page: _Page) -> list[str]:
    """The definitions of the measures (:data:`DEFINITIONS`)."""
    return [
        '<h2 id="definitions">Definitions</h2><dl>',
        *(f"<dt><b>{html.escape(t)}</b></dt><dd>{html.escape(d)}</dd>" for t, d in DEFINITIONS),
        "</dl>",
    ]


def _provenance_section(page: _Page) -> list[str]:
    """Where the figures come from (:func:`_provenance_rows`), and the end of the document."""
    prov_frame = pd.DataFrame(_provenance_rows(page.prov), columns=["item", "value"])
    return [
        '<h2 id="provenance">Provenance</h2>',
        '<p class="note">Where these figures come from; the full record is in tier_table.json.</p>',
        _table_html(prov_frame, labels={"item": "Item", "value": "Value"}, cards=False, css="kv"),
        '<p class="totop"><a href="#contents">Back to contents</a></p>',
        "</body></html>",
    ]


#: The report's sections in page order; each gives its HTML lines, none when it has nothing.
_SECTIONS = (
    _head_section,
    _quality_section,
    _findings_section,
    _contents_section,
    _cite_section,
    _tiers_section,
    _scenarios_section,
    _attributes_section,
    _tier3_section,
    _history_section,
    _attack_section,
    _lattice_section,
    _staircase_section,
    _what_if_section,
    _coarsening_section,
    _definitions_section,
    _provenance_section,
)


def _build(
    table: RiskTable,
    *,
    title,
    identifying,
    staircase,
    what_if,
    coarsening,
    history=None,
    attack=None,
    render_all=None,
) -> tuple[str, dict]:
    """The report's HTML (every section of :data:`_SECTIONS`, then the table of contents) and
    its charts."""
    charts = chart_images(
        table, staircase=staircase, what_if=what_if, history=history, render_all=render_all
    )
    page = _Page(
        table=table,
        title=title,
        charts=charts,
        identifying=identifying,
        staircase=staircase,
        what_if=what_if,
        coarsening=coarsening,
        history=history,
        attack=attack,
    )
    parts = [line for section in _SECTIONS for line in section(page)]
    text = "\n".join(parts) + "\n"
    return text.replace(_TOC_PLACE, _contents(text), 1), charts


#: Where the table of contents goes (after the key findings), filled in once every section is known.
_TOC_PLACE = "<!-- riskcalc: contents -->"


def _contents(page: str) -> str:
    """The report's table of contents: a link to every section heading (``<h2 id=...>``) of
    ``page``, in order, so a long report (tens of thousands of pixels on a phone) can be walked
    by section."""
    import re

    heads = re.findall(r'<h2 id="([^"]+)">(.*?)</h2>', page)
    items = "".join(f'<li><a href="#{i}">{t}</a></li>' for i, t in heads if i != "findings")
    return (
        f'<nav id="contents" class="toc" aria-label="Contents"><h2>Contents</h2><ol>{items}</ol></nav>'
        if items
        else ""
    )


def html_report(
    table: RiskTable,
    *,
    title: str = "How identifiable are these pupil extracts?",
    identifying: dict | None = None,
    staircase: tuple[str, pd.DataFrame] | None = None,
    what_if: pd.DataFrame | None = None,
    coarsening: CoarseningResult | None = None,
    history: HistorySection | None = None,
    attack: HtmlSection | None = None,
) -> str:
    """Render the report as one HTML document (a string).

    Parameters
    ----------
    table : RiskTable
        Its provenance decides the data statement: ``data == "synthetic"`` prints
        :data:`SYNTHETIC_NOTE`; ``data == "file"`` names each input with its SHA-256.
    identifying : dict of label to DataFrame, optional
        Most identifying field combinations per extract (:func:`identifying_combinations` or
        :func:`most_identifying`); direct identifiers and non-minimal rows are left out.
    staircase : (label, DataFrame), optional
        :func:`uniqueness_staircase` of one extract.
    what_if : DataFrame, optional
        :func:`riskcalc.what_if` comparison.
    coarsening : CoarseningResult, optional
        :func:`riskcalc.smallest_coarsening`.
    history : HistorySection, optional
        :func:`riskcalc.release.history.history_section`: the school-history section, placed
        after the tier table sections.
    attack : AttackExperiment, optional
        :func:`riskcalc.release.attack.attack_experiment`: the simulated linkage attack section
        (a table and a chart per tier), placed after the history section.

    Examples
    --------
    >>> import riskcalc as rc, synthetic
    >>> cohort = synthetic.generate_cohort(2_000, rng=0)
    >>> html = rc.html_report(rc.tier_risk_table(cohort, tiers=(4,), attributes=False))
    >>> html.startswith("<!DOCTYPE html>"), "school_gate" in html
    (True, True)
    """
    if not isinstance(table, RiskTable):
        raise InvalidParameterError(
            "The 'table' parameter of html_report must be a RiskTable (from tier_risk_table or "
            f"risk_table). Got {type(table).__name__} instead."
        )
    text, _ = _build(
        table,
        title=title,
        identifying=identifying,
        staircase=staircase,
        what_if=what_if,
        coarsening=coarsening,
        history=history,
        attack=attack,
    )
    return text


def report_files(table: RiskTable, **kwargs) -> dict[str, bytes | str]:
    """The report and its charts as files: ``{"report.html": str, "chart_tiers.png": bytes,
    "chart_tiers.svg": str, ...}`` (same keyword arguments as :func:`html_report`, and
    ``render_all`` of :func:`chart_images`; the charts are drawn once for both). Write ``bytes`` values in binary mode, ``str`` values as UTF-8 text."""
    kwargs.setdefault("title", "How identifiable are these pupil extracts?")
    kwargs.setdefault("identifying", None)
    kwargs.setdefault("staircase", None)
    kwargs.setdefault("what_if", None)
    kwargs.setdefault("coarsening", None)
    kwargs.setdefault("history", None)
    kwargs.setdefault("attack", None)
    kwargs.setdefault("render_all", None)
    text, charts = _build(table, **kwargs)
    out: dict[str, bytes | str] = {"report.html": text}
    for name, item in charts.items():
        out[f"{name}.png"] = item["png"]
        out[f"{name}.svg"] = item["svg"]
    return out
