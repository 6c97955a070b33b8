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

import numpy as np
import pandas as pd

from .combinations import most_identifying, uniqueness_staircase
from .tables import RiskTable, _display, pct_text

__all__ = ["html_report", "report_files", "chart_images", "chart_specs", "draw_chart", "identifying_combinations",
           "uniqueness_staircase", "most_identifying", "SYNTHETIC_NOTE"]

#: What a synthetic run says at the top of its report (and only a synthetic run).
SYNTHETIC_NOTE = ("The data are synthetic: they imitate the structure of the National Pupil Database, "
                  "not any real child.")

DEFINITIONS = [
    ("Equivalence class", "The records sharing the same values on the fields an intruder knows."),
    ("k (smallest class)", "Size of the smallest equivalence class: every pupil hides among at least k "
     "records (Sweeney 2002, doi:10.1142/S0218488502001648). A single pupil unique on the fields "
     "makes k = 1, so k says only whether anyone is unique; the counts of unique pupils and of pupils "
     "in classes below 5 say how many."),
    ("Unique pupil (sample unique)", "A pupil whose combination of values no other record has (fk = 1)."),
    ("In classes below t", "Pupils in classes of fewer than t records (fk < t), i.e. violating "
     "t-anonymity."),
    ("Average prosecutor risk", "Mean of 1/fk over records = classes / records: the expected share "
     "re-identified by an intruder who knows the pupil is in the extract (El Emam & Dankar 2008, "
     "doi:10.1197/jamia.M2716)."),
    ("Projected scenario", "A scenario whose fields a tier does not all hold, measured on what the "
     "intruder still knows there: the coarser versions of the missing fields the tier holds (a date "
     "of birth gives the year and month of birth; a postcode its sector and LSOA; a school its local "
     "authority). A scenario with no row on a tier is not zero risk: it only means none of its "
     "fields, nor a coarser version of them, is in that tier."),
    ("Revealed by a homogeneous class", "Pupils whose class on the intruder's fields holds a single "
     "value of a sensitive field, so a match reveals it with certainty (the l = 1 case of "
     "l-diversity; Machanavajjhala et al. 2007, doi:10.1145/1217299.1217302)."),
    ("Small cells", "Cells of an aggregate table with 0 < count <= t: the threshold rule of mu-Argus "
     "and sdcMicro riskyCells (Hundepool et al. 2012, doi:10.1002/9781118348239)."),
    ("Recoverable cells", "Cells suppressed (below 5) or rounded (to 5) whose exact count can still be "
     "worked out from the published totals and the linked tables: the attacker's feasible interval "
     "(the smallest and largest values consistent with everything published) is a single value "
     "(riskcalc.audit; the interval logic of tau-Argus audits, Hundepool et al. 2012)."),
    ("Coarsening", "Replacing a field by a coarser version along its ladder (date of birth to month "
     "to year; postcode to sector to district; school to LA to region; ethnicity minor to major "
     "group), or withholding it."),
]

#: Plain-English names of fields (report only; files keep the machine names).
FIELD_LABELS = {
    "urn": "school", "laestab": "school (LAESTAB)", "la_code": "local authority", "nc_year": "year group",
    "sex": "sex", "date_of_birth": "date of birth", "year_of_birth": "year of birth",
    "month_of_birth": "month of birth", "postcode": "postcode", "postcode_sector": "postcode sector",
    "postcode_district": "postcode district", "postcode_area": "postcode area", "lsoa": "LSOA",
    "year_month_of_birth": "year and month of birth", "ethnic_group_minor": "ethnic group (minor)", "ethnic_group_major": "ethnic group (major)",
    "sen_provision": "SEN provision", "primary_sen_type": "primary SEN type", "fsm_eligible": "free meals",
    "ever_fsm_6": "free meals, last 6 years", "eal": "English additional language", "forename": "forename",
    "looked_after": "looked after", "service_child": "service child", "disability": "disability",
    "suspensions": "suspensions", "permanent_exclusion": "permanent exclusion",
    "exclusion_reason": "exclusion reason", "idaci_decile": "IDACI decile", "region": "region",
}

#: Plain-English column headers (report only).
COLUMN_LABELS = {
    "tier": "Tier", "scenario": "Intruder scenario", "fields": "Fields known", "rationale": "Who and why",
    "pupils": "Pupils", "n_records": "Pupils", "unique": "Unique pupils", "n_unique": "Unique pupils",
    "unique_share": "Unique (% of pupils)", "k": "Smallest class (k)",
    "below_5": "In classes below 5", "below_10": "In classes below 10", "average_risk": "Average risk",
    "records_below_5": "In classes below 5", "n_fields": "Number of fields", "step": "Step",
    "field": "Field added",
    "unique_before": "Unique, as released", "unique_share_before": "Unique (%), as released",
    "k_before": "k, as released", "unique_after": "Unique, coarsened", "unique_share_after": "Unique (%), coarsened",
    "k_after": "k, coarsened", "below_target": "Still below target", "below_target_share": "Still below target (%)",
    "table": "Table", "dimensions": "Dimensions", "n_cells": "Non-empty cells",
    "suppressed_cells": "Cells below 5 (suppressed)", "recoverable_cells": "Suppressed, yet recoverable",
    "recoverable_records": "Pupils in recoverable cells", "rounded_recoverable_cells": "Rounded, yet recoverable",
    "rounded_recoverable_records": "Pupils in recoverable rounded cells", "sensitive": "Sensitive field",
}


def _field_label(name: str) -> str:
    return FIELD_LABELS.get(name, str(name).replace("_", " "))


def _fields_text(fields) -> str:
    if isinstance(fields, str):
        fields = [f.strip() for f in fields.split(",")]
    return ", ".join(_field_label(f) for f in fields)


def _column_label(name: str) -> str:
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    for prefix, label in (("records_in_cells_at_most_", "Pupils in cells of at most "),
                          ("cells_at_most_", "Cells of at most ")):
        if name.startswith(prefix):
            return label + name[len(prefix):]
    return str(name).replace("_", " ").capitalize()


# -------------------------------------------------------------------------------------------
# Where the figures come from
# -------------------------------------------------------------------------------------------


def _is_synthetic(prov: dict) -> bool:
    return prov.get("data") == "synthetic" or ("cohort" in prov and prov.get("data") is None)


def _inputs(prov: dict) -> list[dict]:
    if prov.get("inputs"):
        return list(prov["inputs"])
    if prov.get("input"):
        return [prov["input"]]
    return []


def _input_text(info: dict, full_hash: bool = True) -> str:
    sha = str(info.get("sha256", ""))
    bits = []
    if "n_records" in info:
        bits.append(f"{int(info['n_records']):,} records")
    if "bytes" in info:
        bits.append(f"{int(info['bytes']):,} bytes")
    if sha:
        bits.append("SHA-256 " + (sha if full_hash else sha[:12] + "..."))
    if "fingerprint" in info:  # a Spark table (riskcalc._provenance.describe_spark)
        fp = str(info["fingerprint"])
        bits.append("Spark fingerprint " + (fp if full_hash else fp[:29] + "..."))
    return f"{info.get('source', 'input')}" + (f" ({', '.join(bits)})" if bits else "")


def source_line(prov: dict) -> str:
    """One line naming the data behind the figures, as printed inside every chart."""
    version = prov.get("riskcalc_version", "")
    if _is_synthetic(prov):
        c = prov.get("cohort", {})
        size = f" of {int(c['n_pupils']):,} pupils" if c.get("n_pupils") is not None else ""
        seed = f", seed {c['seed']}" if c.get("seed") is not None else ""
        return (f"Source: riskcalc {version}, synthetic cohort{size}{seed}. Synthetic data imitating "
                "the National Pupil Database, not any real child.")
    inputs = _inputs(prov)
    if inputs:
        return f"Source: riskcalc {version}, input " + "; ".join(_input_text(i, full_hash=False) for i in inputs) + "."
    return f"Source: riskcalc {version}, tables supplied in memory (no file recorded)."


def citation(prov: dict) -> str:
    """A ready-made citation sentence for the report's figures."""
    version = prov.get("riskcalc_version", "")
    function = prov.get("function", "")
    if _is_synthetic(prov):
        c = prov.get("cohort", {})
        data = (f"a synthetic cohort of {int(c.get('n_pupils', 0)):,} pupils (seed {c.get('seed')}, "
                f"generator {c.get('generator_version', 'unknown')})")
    elif _inputs(prov):
        data = "; ".join(_input_text(i) for i in _inputs(prov))
    else:
        data = "tables supplied in memory"
    command = f", command: {prov['command']}" if prov.get("command") else ""
    return (f"Re-identification risk measured with riskcalc {version} ({function}) on {data}{command}. "
            "Counts and shares only; no record values.")


def _provenance_rows(prov: dict) -> list[tuple[str, str]]:
    """The provenance block as (item, value) rows for people."""
    rows: list[tuple[str, str]] = []

    def text(v) -> str:
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, int):
            return f"{v:,}"
        if isinstance(v, (list, tuple)):
            return ", ".join(text(x) for x in v) or "none"
        if isinstance(v, dict):
            return "; ".join(f"{k}: {text(x)}" for k, x in v.items()) or "none"
        return str(v)

    labels = {"riskcalc_version": "riskcalc version", "function": "Function", "command": "Command line",
              "data": "Data"}
    for key in ("riskcalc_version", "function", "command", "data"):
        if key in prov:
            rows.append((labels[key], text(prov[key])))
    for key, value in prov.get("cohort", {}).items():
        rows.append((f"Cohort: {key.replace('_', ' ')}", text(value)))
    for i, info in enumerate(_inputs(prov), 1):
        for key, value in info.items():
            if key == "columns":
                value = list(value)
            label = {"sha256": "SHA-256", "n_records": "records", "bytes": "size (bytes)"}.get(key, key)
            rows.append((f"Input {i}: {label}", text(value)))
    for key, value in prov.get("parameters", {}).items():
        if key == "scenarios":
            rows.append(("Parameter: scenarios", ", ".join(value) + " (fields in the scenario table)"))
        else:
            rows.append((f"Parameter: {key.replace('_', ' ')}", text(value)))
    skip = {"riskcalc_version", "function", "command", "data", "cohort", "inputs", "input", "parameters"}
    for key, value in prov.items():
        if key not in skip:
            rows.append((key.replace("_", " ").capitalize(), text(value)))
    return rows


# -------------------------------------------------------------------------------------------
# Findings
# -------------------------------------------------------------------------------------------


def _noun(prov: dict) -> str:
    """What the extracts are called: NPD "tier" for a synthetic cohort, else "extract"."""
    return "tier" if _is_synthetic(prov) else "extract"


def key_findings(table: RiskTable) -> list[str]:
    """Two or three sentences with counts and denominators, for the top of the report."""
    out = []
    noun = _noun(table.provenance)
    rec = table.records
    if len(rec):
        measured = rec[~rec["projected"].astype(bool)] if "projected" in rec.columns else rec
        measured = measured if len(measured) else rec
        worst = measured.sort_values("unique_share", ascending=False, kind="stable").iloc[0]
        out.append(
            f"On {noun} {worst['tier']}, an intruder in the {worst['scenario'].replace('_', ' ')} scenario "
            f"(knowing {_fields_text(worst['fields'])}) singles out {int(worst['n_unique']):,} of "
            f"{int(worst['n_records']):,} pupils ({pct_text(worst['unique_share'])})."
        )
        by_tier = rec.sort_values("unique_share", ascending=False, kind="stable").groupby("tier", sort=False).head(1)
        safest = by_tier.sort_values("unique_share", kind="stable").iloc[0]
        if safest["tier"] != worst["tier"]:
            how = " (projected onto the fields it holds)" if bool(safest.get("projected", False)) else ""
            out.append(
                f"Even on {noun} {safest['tier']}, the most identifying scenario, "
                f"{safest['scenario'].replace('_', ' ')}{how}, singles out {int(safest['n_unique']):,} of "
                f"{int(safest['n_records']):,} pupils ({pct_text(safest['unique_share'])})."
            )
    att = table.attributes
    if len(att) and att["records_revealed_minority"].max() > 0:
        a = att.sort_values("records_revealed_minority", ascending=False, kind="stable").iloc[0]
        n = int(round(a["records_revealed_minority"] / a["records_revealed_minority_share"])) if a["records_revealed_minority_share"] else 0
        out.append(
            f"Matching on the {a['scenario'].replace('_', ' ')} fields in {noun} {a['tier']} reveals the "
            f"{_field_label(a['sensitive'])} status of {int(a['records_revealed_minority']):,} of {n:,} pupils "
            f"({pct_text(a['records_revealed_minority_share'])}) to be other than the most common value."
        )
    elif len(table.aggregates):
        agg = table.aggregates
        small = int(agg["cells_at_most_2"].sum())
        cells = int(agg["n_cells"].sum())
        out.append(f"The {len(agg)} aggregate tables hold {small:,} cells of 1 or 2 pupils among {cells:,} "
                   f"non-empty cells ({pct_text(small / cells if cells else 0)}).")
    return out[:3]


def identifying_combinations(lattice, fields, *, top: int = 10, min_gain: float = 0.01, exclude=None) -> pd.DataFrame:
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
    rows = lattice_within(lattice, keep).rename(columns={"records_in_cells_at_most_4": "records_below_5"})
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
    keep = [all(s - share.get(combo - {f}, -np.inf) >= min_gain for f in combo)
            for combo, s in zip(rows["fields"].map(frozenset), rows["unique_share"])]
    out = rows.loc[np.asarray(keep, dtype=bool)] if len(rows) else rows
    return out.sort_values(["unique_share", "n_fields"], ascending=[False, True], kind="stable").head(top).reset_index(drop=True)


# -------------------------------------------------------------------------------------------
# Charts
# -------------------------------------------------------------------------------------------

_HATCHES = ["", "//", "..", "xx", "\\\\", "--", "++", "oo"]
_GREYS = ["0.15", "0.45", "0.7", "0.85", "0.3", "0.6", "0.9", "0.05"]
_RC = {"font.size": 9, "svg.hashsalt": "riskcalc", "svg.fonttype": "none", "hatch.linewidth": 0.6,
       "text.parse_math": False}  # names from files and scenarios are text, not TeX
#: PNG resolution: print quality (a 7.5-inch chart is 1,500 pixels wide).
DPI = 200


def preload_charting() -> None:
    """Import the parts of matplotlib the charts use (about 0.6 s of CPU), ahead of the charts:
    the main job has its worker process do it after the history section, before the charts."""
    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.backends.backend_svg  # noqa: F401
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
    lines = [textwrap.fill(part, width) for part in (source_line(prov) + (f"\n{extra}" if extra else "")).split("\n")]
    fig.text(0.01, 0.005, "\n".join(lines), ha="left", va="bottom", fontsize=7, color="0.2")


def _bar_labels(ax, bars, values, rotate: bool = False) -> None:
    for bar, v in zip(bars, values):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        ax.annotate(pct_text(v / 100), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    xytext=(0, 2), textcoords="offset points", ha="center", va="bottom", fontsize=6.5,
                    rotation=90 if rotate or bar.get_width() < 0.2 else 0)


def chart_tiers(table: RiskTable):
    """Grouped bars: unique share per scenario, one bar per tier (projected rows starred, absent
    ones marked "not in tier")."""
    rec = table.records
    scenarios = list(dict.fromkeys(rec["scenario"]))
    tiers = list(dict.fromkeys(rec["tier"]))
    projected = rec["projected"].astype(bool) if "projected" in rec.columns else pd.Series(False, index=rec.index)
    fig, ax = _figure((7.5, 4.4))
    width = 0.8 / max(len(tiers), 1)
    x = np.arange(len(scenarios))
    for i, tier in enumerate(tiers):
        sub = rec[rec["tier"] == tier].assign(projected=projected[rec["tier"] == tier]).set_index("scenario")
        values = [100 * sub["unique_share"].get(s, np.nan) for s in scenarios]
        bars = ax.bar(x + i * width, np.nan_to_num(values), width, label=f"{_noun(table.provenance)} {tier}", color=_GREYS[i % 8],
                      hatch=_HATCHES[i % 8], edgecolor="black", linewidth=0.5)
        for bar, s, v in zip(bars, scenarios, values):
            px = bar.get_x() + bar.get_width() / 2
            if math.isnan(v):
                ax.text(px, 1, f"not in {_noun(table.provenance)}", rotation=90, ha="center", va="bottom", fontsize=6, color="0.3")
                continue
            star = "*" if bool(sub["projected"].get(s, False)) else ""
            ax.annotate(pct_text(v / 100) + star, (px, bar.get_height()), xytext=(0, 2),
                        textcoords="offset points", ha="center", va="bottom", fontsize=6,
                        rotation=90 if len(tiers) > 2 else 0)
    ax.set_xticks(x + width * (len(tiers) - 1) / 2, [s.replace("_", " ") for s in scenarios], rotation=20, ha="right")
    ax.set_ylabel("pupils unique on the scenario's fields (%)")
    ax.set_ylim(0, 118)
    ax.set_yticks(range(0, 101, 20))
    ax.set_title(f"Sample uniqueness by intruder scenario and {_noun(table.provenance)}", pad=20)
    ax.legend(frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(len(tiers), 4), fontsize=7)
    ax.grid(axis="y", color="0.85", linewidth=0.5)
    noun = _noun(table.provenance)
    note = (f"* projected: measured on the coarser fields the {noun} holds. 'not in {noun}': the {noun} "
            "lacks the scenario's fields, which is not zero risk.") if projected.any() or rec.groupby("scenario")["tier"].nunique().lt(len(tiers)).any() else ""
    fig.subplots_adjust(bottom=0.24, right=0.98, left=0.08, top=0.86)
    _source(fig, table.provenance, note)
    return fig


def chart_staircase(stairs: pd.DataFrame, label: str, prov: dict):
    """Bars: unique share as fields are added, one bar per step, labelled with its share."""
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


def chart_what_if(what: pd.DataFrame, prov: dict):
    """Paired bars: unique share before and after coarsening, per tier and scenario."""
    labels = [f"T{t} {s.replace('_', ' ')}" for t, s in zip(what["tier"], what["scenario"])]
    fig, ax = _figure((7.5 if len(labels) <= 10 else 9.5, 4.4))
    x = np.arange(len(labels))
    before = 100 * what["unique_share_before"].to_numpy(dtype=float)
    after = 100 * what["unique_share_after"].to_numpy(dtype=float)
    b1 = ax.bar(x - 0.2, before, 0.4, label="as released", color="0.25", edgecolor="black", linewidth=0.5)
    b2 = ax.bar(x + 0.2, after, 0.4, label="coarsened", color="0.8", hatch="//", edgecolor="black", linewidth=0.5)
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
    return (f"School history: synthetic panel of {history.n_pupils:,} pupils, {history.years} spring censuses "
            f"from {history.first_year}/{(history.first_year + 1) % 100:02d}, seed {history.seed}.")


def chart_history(history, prov: dict):
    """Paired bars: pupils unique, and in classes below 5, as years of school history are linked."""
    frame = history.to_frame()
    t = history.result.k_threshold
    fig, ax = _figure((7.5, 4.2))
    x = np.arange(len(frame))
    unique = 100 * frame["unique_share"].to_numpy(dtype=float)
    below = 100 * frame[f"records_below_{t}_share"].to_numpy(dtype=float)
    b1 = ax.bar(x - 0.2, unique, 0.4, label="unique", color="0.25", edgecolor="black", linewidth=0.5)
    b2 = ax.bar(x + 0.2, below, 0.4, label=f"in classes below {t}", color="0.8", hatch="//", edgecolor="black",
                linewidth=0.5)
    _bar_labels(ax, b1, unique)
    _bar_labels(ax, b2, below)
    ticks = [f"{k} year{'s' if k > 1 else ''}\n{n:,} pupils" for k, n in zip(frame["years_linked"], frame["n_records"])]
    ax.set_xticks(x, ticks, fontsize=7)
    ax.set_xlabel("spring censuses of school history linked (from the first)")
    ax.set_ylabel("pupils (%)")
    ax.set_ylim(0, 112)
    ax.set_yticks(range(0, 101, 20))
    ax.set_title("Tier 4 school-gate fields: school and year group at each census, sex, birth month and year",
                 fontsize=8.5)
    ax.legend(frameon=False, loc="upper left", fontsize=7)
    ax.grid(axis="y", color="0.85", linewidth=0.5)
    ax.set_axisbelow(True)
    fig.subplots_adjust(bottom=0.27, left=0.09, right=0.98, top=0.9)
    _source(fig, prov, _history_source(history))
    return fig


def _render_chart(fig) -> tuple[bytes, str]:
    """The PNG and SVG bytes of a figure (under the report's rc settings: see :func:`draw_chart`)."""
    from matplotlib.text import Text

    # Labels are names from the user's files and scenarios, not formulas: a "$" must print as
    # itself, not start matplotlib mathtext (which fails on unbalanced or invalid TeX).
    for text in fig.findobj(Text):
        text.set_parse_math(False)
    png = _png(fig)
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
    grey = (bool((rgba[..., 3] == 255).all()) and np.array_equal(rgba[..., 0], rgba[..., 1])
            and np.array_equal(rgba[..., 0], rgba[..., 2]))
    image = Image.fromarray(np.ascontiguousarray(rgba[..., 0]) if grey else np.ascontiguousarray(rgba))
    out = io.BytesIO()
    image.save(out, format="png", dpi=(DPI, DPI))
    return out.getvalue()


def chart_specs(table: RiskTable, *, staircase=None, what_if=None, history=None) -> dict[str, tuple]:
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


def draw_chart(spec: tuple) -> tuple[bytes, str]:
    """The PNG and SVG of one chart of :func:`chart_specs`."""
    from matplotlib import rc_context

    builder, args = spec
    with rc_context(_RC):
        return _render_chart(builder(*args))


def chart_images(table: RiskTable, *, staircase=None, what_if=None, history=None, render_all=None) -> dict[str, dict]:
    """Every chart of the report: ``{name: {"png": bytes, "svg": str, "alt": str, "caption": str}}``
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
            "alt": (f"Bar chart of the share of pupils unique on each intruder scenario's fields, one bar "
                    f"per tier. Highest: tier {worst['tier']} {worst['scenario'].replace('_', ' ')}, "
                    f"{int(worst['n_unique']):,} of {int(worst['n_records']):,} pupils "
                    f"({pct_text(worst['unique_share'])}). Starred bars are projected scenarios."),
            "caption": ("Share of pupils unique on each scenario's fields, by tier (hatching distinguishes "
                        "tiers in grey-scale). Starred bars: the scenario projected onto the coarser fields "
                        "the tier holds; 'not in tier' is not zero risk."),
        }
    if "chart_staircase" in specs:
        label, stairs = staircase
        last = stairs.iloc[-1]
        charts["chart_staircase"] = {
            "alt": (f"Step chart of the share of pupils unique as fields are added ({label}), ending at "
                    f"{int(last['n_unique']):,} pupils ({pct_text(last['unique_share'])}) with "
                    f"{len(stairs)} fields."),
            "caption": f"Share of pupils unique as fields are added, most identifying first ({label}).",
        }
    if "chart_what_if" in specs:
        charts["chart_what_if"] = {
            "alt": (f"Paired bar chart of the share of pupils unique before and after coarsening, for "
                    f"{len(what_if)} tier and scenario pairs."),
            "caption": "Share of pupils unique before (dark) and after (hatched) coarsening.",
        }
    if "chart_history" in specs:
        r = history.result
        charts["chart_history"] = {
            "alt": (f"Paired bar chart of the share of pupils of a synthetic panel unique on the tier 4 "
                    f"school-gate fields, and in classes below {r.k_threshold}, as 1 to {r.n_linked[-1]} "
                    f"years of school history are linked: from {r.n_unique[0]:,} of {r.n_pupils[0]:,} "
                    f"pupils unique ({pct_text(r.n_unique[0] / r.n_pupils[0])}) to {r.n_unique[-1]:,} of "
                    f"{r.n_pupils[-1]:,} ({pct_text(r.n_unique[-1] / r.n_pupils[-1])})."),
            "caption": (f"Share of pupils unique (dark) and in classes below {r.k_threshold} (hatched) as "
                        "years of school history are linked; synthetic panel."),
        }
    ordered = [specs[name] for name in charts]
    rendered = render_all(draw_chart, ordered) if render_all else [draw_chart(spec) for spec in ordered]
    for item, (png, svg) in zip(charts.values(), rendered):
        item["png"], item["svg"] = png, svg
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
.banner{border:2px solid #333;padding:0.6rem 0.8rem;font-weight:600;background:#f6f6f6}
.findings,.cite{border-left:4px solid #333;padding:0.4rem 0.9rem;margin:1rem 0;background:#fafafa}
.findings h2,.cite h2{border:0;margin:0.2rem 0;font-size:1.05rem}
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
 h2,h3{break-after:avoid}
}
"""


def _cell_text(value, column: str) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if "share" in column or column == "average_risk":
        return pct_text(value)
    if column == "fields" or isinstance(value, (tuple, list)):
        return _fields_text(value)
    if column in ("table", "scenario"):
        return str(value).replace("_", " " if column == "scenario" else "_\u200b")
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)) or (isinstance(value, (float, np.floating)) and float(value).is_integer()):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.3g}"
    return str(value)


def _table_html(frame: pd.DataFrame, *, labels: dict | None = None, cards: bool = True, caption: str = "",
                css: str = "") -> str:
    """A table with plain-English headers (``labels`` overrides) and one number format."""
    frame = _display(frame)
    labels = labels or {}
    heads = [labels.get(c, _column_label(str(c))) for c in frame.columns]
    numeric = [pd.api.types.is_numeric_dtype(frame[c].dtype) and frame[c].dtype != bool for c in frame.columns]
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
    png = base64.b64encode(chart["png"]).decode("ascii")
    return (f'<figure><img alt="{html.escape(chart["alt"])}" src="data:image/png;base64,{png}">'
            f"<figcaption>{html.escape(chart['caption'])}</figcaption></figure>")


def _headline_frame(table: RiskTable) -> pd.DataFrame:
    r = table.records
    head = table.headline()
    head["fields"] = r["fields"].to_numpy()
    cols = ["tier", "scenario", "fields", "pupils", "unique", "unique_share", "below_5", "below_10", "average_risk"]
    if not (r["k"] == r["k"].iloc[0]).all() if len(r) else False:
        cols.insert(6, "k")
    return head[cols]


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
        out += [f"<h3>{noun.capitalize()} {html.escape(str(tier))}</h3>",
                _table_html(t, labels={"sensitive": "Sensitive field"})]
    return out


def _aggregate_tables(agg: pd.DataFrame) -> list[str]:
    agg = agg.assign(dimensions=agg["dimensions"].map(
        lambda d: " x ".join(_field_label(p.strip()) for p in str(d).split(" x "))))
    ts = [c[len("cells_at_most_"):] for c in agg.columns if c.startswith("cells_at_most_")]
    base = ["table", "dimensions"]
    parts = [
        "<h3>Small cells</h3>",
        _table_html(agg[base + ["n_cells", "n_records"] + [f"cells_at_most_{t}" for t in ts]]),
        "<h3>Pupils in small cells</h3>",
        _table_html(agg[base + [f"records_in_cells_at_most_{t}" for t in ts]]),
    ]
    rest = [c for c in ("suppressed_cells", "recoverable_cells", "recoverable_records",
                        "rounded_recoverable_cells", "rounded_recoverable_records") if c in agg.columns]
    if rest:
        parts += ["<h3>If published with suppression below 5, or rounded to 5</h3>", _table_html(agg[base + rest])]
    return parts


def _history_html(history, charts: dict) -> list[str]:
    """The longitudinal section: the quotable sentence, the table, the chart."""
    t = history.result.k_threshold
    labels = {"years_linked": "Years of history linked", "academic_years": "Spring censuses linked",
              "n_records": "Pupils", "n_unique": "Unique pupils", "unique_share": "Unique (% of pupils)",
              f"records_below_{t}": f"In classes below {t}", f"records_below_{t}_share": f"In classes below {t} (%)",
              "k": "Smallest class (k)", "average_risk": "Average risk"}
    parts = ['<h2 id="history">School history: uniqueness as years are linked</h2>',
             f"<p><b>{html.escape(history.sentence)}</b></p>",
             '<p class="note">A tier 4 extract spanning several years links each pupil\'s censuses through the '
             "pseudonymous pupil id. Here the school-gate intruder knows the school and year group at each "
             "linked spring census and the pupil's sex and year and month of birth. Pupils counted: those in at "
             "least one linked census (Reception intakes and joiners add to the count). The panel is "
             f"synthetic and separate from the cohort above ({history.n_pupils:,} pupils in its first census, "
             f"seed {history.seed}); shares move with its size.</p>",
             _table_html(history.to_frame(), labels=labels)]
    if "chart_history" in charts:
        parts.append(_figure_html(charts["chart_history"]))
    return parts


def _build(table: RiskTable, *, title, identifying, staircase, what_if, coarsening, history=None,
           attack=None, render_all=None) -> tuple[str, dict]:
    prov = table.provenance
    synthetic_data = _is_synthetic(prov)
    noun = _noun(prov)
    charts = chart_images(table, staircase=staircase, what_if=what_if, history=history, render_all=render_all)
    rec = table.records
    if synthetic_data:
        banner = html.escape(SYNTHETIC_NOTE)
    elif _inputs(prov):
        banner = "Data: " + "; ".join(
            f'<span class="mono">{html.escape(_input_text(i))}</span>' for i in _inputs(prov)) + "."
    else:
        banner = "Data: tables supplied in memory; no input file was recorded."

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="banner">{banner}</p>',
        '<p class="note">Figures from riskcalc ' + html.escape(str(prov.get("riskcalc_version", "")))
        + ". Counts come before shares. No value of any record is shown.</p>",
    ]
    findings = key_findings(table)
    if findings:
        parts.append('<div class="findings"><h2>Key findings</h2>'
                     + "".join(f"<p>{html.escape(s)}</p>" for s in findings) + "</div>")
    parts.append(f'<div class="cite"><h2>How to cite these figures</h2><p>{html.escape(citation(prov))}</p></div>')
    parts += [
        '<h2 id="tiers">Tier table: pupils an intruder could single out</h2>',
        '<p class="note">One row per tier extract and intruder scenario. Rows marked "(projected)" '
        "measure a scenario on a tier that lacks some of its fields, using the coarser versions the "
        "tier holds (the fields listed); a scenario with no row on a tier is not zero risk.</p>",
        _table_html(_headline_frame(table), labels={"tier": noun.capitalize()}) if len(rec) else "<p>No record-level extract.</p>",
    ]
    if len(rec) and (rec["k"] == rec["k"].iloc[0]).all():
        parts.append(f'<p class="note">The smallest class, k, is {int(rec["k"].iloc[0]):,} in every row, '
                     "so it is left out: "
                     + ("each scenario singles out at least one pupil on every tier. The counts of unique "
                        "pupils and of pupils in classes below 5 and 10 say how many." if rec["k"].iloc[0] == 1
                        else "it does not distinguish the rows.") + "</p>")
    if "chart_tiers" in charts:
        parts.append(_figure_html(charts["chart_tiers"]))
    parts.append('<h2 id="scenarios">Intruder scenarios</h2>')
    parts.append(_table_html(pd.DataFrame(
        [{"scenario": s.name.replace("_", " "), "fields": s.fields, "rationale": s.rationale} for s in table.scenarios]
    )))
    if len(table.attributes):
        parts += ['<h2 id="attributes">Sensitive values revealed by homogeneous classes</h2>',
                  '<p class="note">Pupils (and their share of the tier) whose sensitive status is certain once '
                  "matched on the scenario's fields, counting those revealed to hold a value other than the most "
                  "common one (for instance, eligible for free meals or looked after). One row per sensitive "
                  "field, one column per scenario; blank where the tier lacks the field or the intruder already "
                  "knows it. Full counts, including pupils revealed to hold the common value, are in the CSV and "
                  "JSON files.</p>"]
        parts += _attribute_tables(table, noun)
    if len(table.aggregates):
        parts += ['<h2 id="tier3">Tier 3 aggregate tables: small cells</h2>',
                  '<p class="note">Each table counts pupils by every dimension listed. Published without '
                  "suppression, cells of 1 and 2 point at one or two pupils. \"Recoverable\" cells would be worked "
                  "out from the totals and linked tables if cells under 5 were suppressed, or all rounded to 5. "
                  "These figures come from the unprotected tables and are for the data owner: per table only "
                  "(cells, and pupils summed over them), not cell by cell; the cells' feasible "
                  "intervals are in the internal report of <code>riskcalc audit-tables</code>.</p>"]
        parts += _aggregate_tables(table.aggregates)
    if history is not None:
        parts += _history_html(history, charts)
    if attack is not None:  # the simulated linkage attack (riskcalc.release.attack)
        from .attack import attack_section

        parts.append(attack_section(attack))
    if identifying:
        exclude = set(_direct_identifiers())
        sizes = [int(f["n_fields"].max()) for f in identifying.values() if len(f)]
        parts += ['<h2 id="lattice">Most identifying combinations of fields</h2>',
                  f'<p class="note">Every combination of up to {max(sizes, default=0)} of the scenarios\' fields '
                  "was measured (the search stops there); shown are the minimal ones, where every field adds at "
                  "least 1% of pupils to those singled out, most identifying first. Direct identifiers (names, UPN, pupil id) are "
                  "left out.</p>"]
        for label, frame in identifying.items():
            frame = frame.loc[~frame["fields"].map(lambda f: bool(set(f) & exclude))]
            parts += [f"<h3>{noun.capitalize()} {html.escape(str(label))}</h3>", _table_html(_minimal(frame, len(frame)))]
    if staircase is not None:
        label, stairs = staircase
        parts += ['<h2 id="staircase">Uniqueness staircase</h2>',
                  '<p class="note">Fields added one at a time, each time the one that singles out the most '
                  "pupils; it stops when every pupil is unique.</p>",
                  _table_html(stairs.drop(columns=["fields"]).assign(field=stairs["field"].map(_field_label)))]
        if "chart_staircase" in charts:
            parts.append(_figure_html(charts["chart_staircase"]))
    if what_if is not None:
        shown = what_if
        if "projected" in rec.columns and len(rec):
            flag = rec.set_index(["tier", "scenario"])["projected"]
            proj = [bool(flag.get((t, s), False)) for t, s in zip(what_if["tier"], what_if["scenario"])]
            shown = what_if.assign(scenario=[s + (" (projected)" if p else "") for s, p in zip(what_if["scenario"], proj)])
        parts += ['<h2 id="whatif">What-if: a coarser release</h2>',
                  '<p class="note">The same scenarios after coarsening: '
                  + html.escape(", ".join(f"{_field_label(k)} to {_field_label(v)}" for k, v in prov.get("what_if_coarsening", {}).items()) or "as given")
                  + ".</p>", _table_html(shown)]
        if "chart_what_if" in charts:
            parts.append(_figure_html(charts["chart_what_if"]))
    if coarsening is not None:
        levels = ", ".join(f"{_field_label(f)} to {_field_label(lvl)}" for f, lvl in coarsening.coarsening.items()) or "none"
        parts += ['<h2 id="coarsening">Smallest coarsening to reach the target</h2>',
                  f'<p class="note">Target k = {coarsening.target_k}, allowing {pct_text(coarsening.max_suppressed)} of '
                  f"pupils to be suppressed: {html.escape(levels)} ({coarsening.steps} ladder steps). k is measured "
                  "before suppression.</p>",
                  _table_html(coarsening.result)]
    parts.append('<h2 id="definitions">Definitions</h2><dl>')
    parts += [f"<dt><b>{html.escape(t)}</b></dt><dd>{html.escape(d)}</dd>" for t, d in DEFINITIONS]
    parts.append("</dl>")
    prov_frame = pd.DataFrame(_provenance_rows(prov), columns=["item", "value"])
    parts += ['<h2 id="provenance">Provenance</h2>',
              '<p class="note">Where these figures come from; the full record is in tier_table.json.</p>',
              _table_html(prov_frame, labels={"item": "Item", "value": "Value"}, cards=False, css="kv"),
              "</body></html>"]
    return "\n".join(parts) + "\n", charts


def html_report(
    table: RiskTable,
    *,
    title: str = "How identifiable are these pupil extracts?",
    identifying: dict | None = None,
    staircase: tuple[str, pd.DataFrame] | None = None,
    what_if: pd.DataFrame | None = None,
    coarsening=None,
    history=None,
    attack=None,
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
    """
    text, _ = _build(table, title=title, identifying=identifying, staircase=staircase, what_if=what_if,
                     coarsening=coarsening, history=history, attack=attack)
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
