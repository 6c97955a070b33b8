"""A self-contained HTML report of a tier risk table: tables, charts, definitions, provenance.

One file, no network access needed to view it: charts are PNG images (matplotlib, grey-scale
friendly: hatching and shades rather than colour alone) embedded as base64. Only counts, shares
and field names appear; never a value of any record.
"""

from __future__ import annotations

import base64
import html
import io
import json

import numpy as np
import pandas as pd

from .. import _render
from .combinations import most_identifying, uniqueness_staircase
from .tables import RiskTable, _display

__all__ = ["html_report", "uniqueness_staircase", "most_identifying"]

DEFINITIONS = [
    ("Equivalence class", "The records sharing the same values on the fields an intruder knows."),
    ("k", "Size of the smallest equivalence class: every pupil hides among at least k records "
          "(Sweeney 2002, doi:10.1142/S0218488502001648)."),
    ("Sample unique", "A pupil whose combination of values no other record has (fk = 1)."),
    ("Records below t", "Pupils in classes of fewer than t records (violating t-anonymity)."),
    ("Average prosecutor risk", "Mean of 1/fk over records = classes / records: the expected share "
     "re-identified by an intruder who knows the pupil is in the extract (El Emam & Dankar 2008, "
     "doi:10.1197/jamia.M2716)."),
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


# -------------------------------------------------------------------------------------------
# Charts
# -------------------------------------------------------------------------------------------

_HATCHES = ["", "//", "..", "xx", "\\\\", "--", "++", "oo"]
_GREYS = ["0.15", "0.45", "0.7", "0.85", "0.3", "0.6", "0.9", "0.05"]


def _png(fig) -> str:
    from matplotlib.text import Text

    # Labels are names from the user's files and scenarios, not formulas: a "$" must print as
    # itself, not start matplotlib mathtext (which fails on unbalanced or invalid TeX).
    for text in fig.findobj(Text):
        text.set_parse_math(False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(size):
    """A matplotlib Figure that does not touch pyplot's global state or the user's backend."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context({"font.size": 9}):
        fig = Figure(figsize=size)
        ax = fig.subplots()
    return fig, ax


def chart_tiers(table: RiskTable) -> str:
    """Grouped bars: unique share per scenario, one bar per tier."""
    rec = table.records
    scenarios = list(dict.fromkeys(rec["scenario"]))
    tiers = list(dict.fromkeys(rec["tier"]))
    fig, ax = _figure((7.5, 3.6))
    width = 0.8 / max(len(tiers), 1)
    x = np.arange(len(scenarios))
    for i, tier in enumerate(tiers):
        sub = rec[rec["tier"] == tier].set_index("scenario")["unique_share"]
        values = [100 * sub.get(s, np.nan) for s in scenarios]
        ax.bar(x + i * width, values, width, label=f"tier {tier}", color=_GREYS[i % 8],
               hatch=_HATCHES[i % 8], edgecolor="black", linewidth=0.5)
    ax.set_xticks(x + width * (len(tiers) - 1) / 2, [s.replace("_", " ") for s in scenarios], rotation=20, ha="right")
    ax.set_ylabel("pupils unique on the scenario's fields (%)")
    ax.set_ylim(0, 100)
    ax.set_title("Sample uniqueness by intruder scenario and tier")
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", color="0.85", linewidth=0.5)
    return _png(fig)


def chart_staircase(stairs: pd.DataFrame, label: str) -> str:
    """Step line: unique share as fields are added."""
    fig, ax = _figure((7.5, 3.4))
    ax.step(stairs["step"], 100 * stairs["unique_share"], where="mid", color="black", marker="o", markersize=4)
    ax.set_xticks(stairs["step"], [f.replace("_", " ") for f in stairs["field"]], rotation=30, ha="right")
    ax.set_ylabel("pupils unique (%)")
    ax.set_xlabel("field added (most identifying first)")
    ax.set_ylim(0, 100)
    ax.set_title(f"Uniqueness staircase, {label}")
    ax.grid(axis="y", color="0.85", linewidth=0.5)
    return _png(fig)


def chart_what_if(what: pd.DataFrame) -> str:
    """Paired bars: unique share before and after coarsening, per tier and scenario."""
    labels = [f"T{t} {s.replace('_', ' ')}" for t, s in zip(what["tier"], what["scenario"])]
    fig, ax = _figure((7.5, 3.8))
    x = np.arange(len(labels))
    ax.bar(x - 0.2, 100 * what["unique_share_before"], 0.4, label="as released", color="0.25", edgecolor="black", linewidth=0.5)
    ax.bar(x + 0.2, 100 * what["unique_share_after"], 0.4, label="coarsened", color="0.8", hatch="//", edgecolor="black", linewidth=0.5)
    ax.set_xticks(x, labels, rotation=35, ha="right")
    ax.set_ylabel("pupils unique (%)")
    ax.set_ylim(0, 100)
    ax.set_title("What-if: uniqueness before and after coarsening")
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", color="0.85", linewidth=0.5)
    return _png(fig)


# -------------------------------------------------------------------------------------------
# HTML
# -------------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #999}
table{border-collapse:collapse;margin:0.8rem 0;font-size:0.85rem}
th,td{border:1px solid #bbb;padding:0.25rem 0.5rem}th{background:#eee;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1rem 0}figcaption{font-size:0.85rem;color:#333}
pre{background:#f4f4f4;padding:0.8rem;overflow-x:auto;font-size:0.8rem}
.note{font-size:0.9rem;color:#333}.wide{overflow-x:auto}
"""


def _table_html(frame: pd.DataFrame) -> str:
    return f'<div class="wide">{_render.to_html_table(_display(frame))}</div>'


def _figure_html(png: str, caption: str) -> str:
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{png}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def html_report(
    table: RiskTable,
    *,
    title: str = "How identifiable are these pupil extracts?",
    identifying: dict | None = None,
    staircase: tuple[str, pd.DataFrame] | None = None,
    what_if: pd.DataFrame | None = None,
    coarsening=None,
) -> str:
    """Render the report as one HTML document (a string).

    Parameters
    ----------
    table : RiskTable
    identifying : dict of label to DataFrame, optional
        Most identifying field combinations per extract (:func:`most_identifying`).
    staircase : (label, DataFrame), optional
        :func:`uniqueness_staircase` of one extract.
    what_if : DataFrame, optional
        :func:`riskcalc.what_if` comparison.
    coarsening : CoarseningResult, optional
        :func:`riskcalc.smallest_coarsening`.
    """
    prov = table.provenance
    cohort = prov.get("cohort", {})
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        '<p class="note">Figures from riskcalc '
        + html.escape(str(prov.get("riskcalc_version", "")))
        + (f" on a synthetic cohort of {cohort.get('n_pupils', 0):,} pupils (seed {cohort.get('seed')})" if cohort else "")
        + ". Counts come before shares. No value of any record is shown. The data are synthetic: "
        "they imitate the structure of the National Pupil Database, not any real child.</p>",
        '<h2 id="tiers">Tier table: pupils an intruder could single out</h2>',
        '<p class="note">One row per tier extract and intruder scenario whose fields the tier holds.</p>',
        _table_html(table.headline()),
    ]
    if len(table.records):
        parts.append(_figure_html(chart_tiers(table), "Share of pupils unique on each scenario's fields, by tier (bars: tiers; hatching distinguishes them in grey-scale)."))
    parts.append('<h2 id="scenarios">Intruder scenarios</h2>')
    parts.append(_table_html(pd.DataFrame(
        [{"scenario": s.name, "fields": ", ".join(s.fields), "rationale": s.rationale} for s in table.scenarios]
    )))
    if len(table.attributes):
        parts += ['<h2 id="attributes">Sensitive values revealed by homogeneous classes</h2>',
                  '<p class="note">Pupils whose sensitive status is certain once matched on the scenario\'s '
                  'fields, counting those revealed to hold a value other than the most common one (for '
                  'instance, eligible for free meals or looked after). Full counts, including pupils revealed '
                  'to hold the common value, are in the CSV and JSON files.</p>',
                  _table_html(table.attribute_matrix())]
    if len(table.aggregates):
        parts += ['<h2 id="tier3">Tier 3 aggregate tables: small cells</h2>',
                  '<p class="note">Published without suppression: cells of 1 and 2 point at one or two pupils. '
                  '"Recoverable" cells would be found by subtraction if cells under 5 were suppressed but totals published.</p>',
                  _table_html(table.aggregates)]
    if identifying:
        parts.append('<h2 id="lattice">Most identifying combinations of fields</h2>')
        for label, frame in identifying.items():
            parts += [f"<h3>Tier {html.escape(str(label))}</h3>", _table_html(frame)]
    if staircase is not None:
        label, stairs = staircase
        parts += ['<h2 id="staircase">Uniqueness staircase</h2>',
                  '<p class="note">Fields added one at a time, each time the one that singles out the most pupils.</p>',
                  _table_html(stairs.drop(columns=["fields"])),
                  _figure_html(chart_staircase(stairs, str(label)), f"Share of pupils unique as fields are added ({label}).")]
    if what_if is not None:
        parts += ['<h2 id="whatif">What-if: a coarser release</h2>',
                  '<p class="note">The same scenarios after coarsening: '
                  + html.escape(", ".join(f"{k} to {v}" for k, v in prov.get("what_if_coarsening", {}).items()))
                  + ".</p>", _table_html(what_if),
                  _figure_html(chart_what_if(what_if), "Share of pupils unique before and after coarsening.")]
    if coarsening is not None:
        levels = ", ".join(f"{f} to {lvl}" for f, lvl in coarsening.coarsening.items()) or "none"
        parts += ['<h2 id="coarsening">Smallest coarsening to reach the target</h2>',
                  f'<p class="note">Target k = {coarsening.target_k}, allowing {coarsening.max_suppressed:.1%} of pupils '
                  f"to be suppressed: {html.escape(levels)} ({coarsening.steps} ladder steps).</p>",
                  _table_html(coarsening.result)]
    parts.append('<h2 id="definitions">Definitions</h2><dl>')
    parts += [f"<dt><b>{html.escape(t)}</b></dt><dd>{html.escape(d)}</dd>" for t, d in DEFINITIONS]
    parts.append("</dl>")
    parts += ['<h2 id="provenance">Provenance</h2>',
              f"<pre>{html.escape(json.dumps(prov, indent=2, sort_keys=True, default=str))}</pre>",
              "</body></html>"]
    return "\n".join(parts) + "\n"
