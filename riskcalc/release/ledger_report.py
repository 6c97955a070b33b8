"""The HTML report of ``riskcalc ledger``: the release ledger section and its charts.

It reuses the tier report's page (:mod:`riskcalc.release.report`: style sheet, tables that turn
into cards on a phone, charts as ``<picture>`` with a phone rendition, the table of contents,
the provenance block) and its chart style (grey-scale, the data's source line in every chart).
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

from .. import _render
from .._provenance import code_identity
from . import report as _r
from .tables import pct_text

__all__ = ["ledger_report_files", "chart_timeline", "chart_distribution"]

_LINES = (("-", "o", "0.1"), ("--", "s", "0.4"), (":", "^", "0.6"), ("-.", "D", "0.3"))


def _data_note(result) -> str:
    """The panel and ledger behind the figures, for each chart's source lines."""
    o, res = result.options, result.main
    if o.synthetic_panel:
        block = result.provenance["parameters"]["panel"]
        first, last = int(block["first_year"]), int(block["first_year"]) + int(block["years"]) - 1
        panel = (
            f"synthetic panel of {o.n_pupils:,} pupils ({res.n_children:,} children), spring "
            f"censuses {first}/{(first + 1) % 100:02d}-{last}/{(last + 1) % 100:02d}"
        )
    else:
        panel = f"panel {_name(o.panel)} ({res.n_children:,} children)"
    ledger = (
        f"synthetic register {o.period} ({res.n_releases:,} releases)"
        if o.synthetic_ledger
        else f"ledger {_name(o.ledger)} ({res.n_releases:,} releases)"
    )
    return f"Ledger: {ledger}; {panel}; scenario {res.scenario}."


def _name(path) -> str:
    from pathlib import Path

    return Path(str(path)).name


def chart_timeline(result, phone: bool = False):
    """Children singled out by at least 1, 5, 20 recipients (% of the panel's children) as the
    ledger's releases accumulate, by the calendar year of their dates."""
    frame = result.timeline
    thr = result.main.thresholds
    prov = result.provenance
    years = frame["year"].astype(int).tolist()
    series = [
        (
            f"by {k}+ recipient{'s' if k > 1 else ''}",
            100 * frame[f"share_at_least_{k}"].to_numpy(float),
        )
        for k in thr
    ]
    title = (
        f"Children singled out as releases accumulate ({result.main.scenario.replace('_', ' ')})"
    )
    if phone:
        return _r._phone_bars(
            [f"by end {y}" for y in years],
            [
                (name, v, grey, hatch)
                for (name, v), grey, hatch in zip(series, _r._GREYS, _r._HATCHES, strict=False)
            ],
            title=title,
            xlabel="children of the panel (%)",
            prov=prov,
            note=_data_note(result),
        )
    fig, ax = _r._figure((7.5, 4.4))
    for (name, values), (style, marker, grey) in zip(series, _LINES, strict=False):
        ax.plot(years, values, linestyle=style, marker=marker, color=grey, label=name, lw=1.4, ms=4)
        if len(values):
            ax.annotate(
                pct_text(values[-1] / 100),
                (years[-1], values[-1]),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
            )
    ax.set_xticks(years, [str(y) for y in years], fontsize=8)
    ax.set_xlim(min(years) - 0.4, max(years) + 0.9)
    ax.set_ylim(0, 105)
    ax.set_yticks(range(0, 101, 20))
    ax.set_xlabel("releases dated up to the end of the year (cumulative)")
    ax.set_ylabel("children of the panel (%)")
    ax.set_title(title, fontsize=9)
    ax.legend(frameon=False, loc="upper left", fontsize=7)
    ax.grid(axis="y", color="0.85", linewidth=0.5)
    ax.set_axisbelow(True)
    fig.subplots_adjust(bottom=0.3, left=0.09, right=0.95, top=0.92)
    _r._source(fig, prov, _data_note(result))
    return fig


def chart_distribution(result, phone: bool = False):
    """Children by the number of recipients singling them out (% of the panel's children)."""
    frame = result.distribution
    prov = result.provenance
    labels = frame["n_recipients"].astype(str).tolist()
    values = 100 * frame["share"].to_numpy(float)
    title = (
        f"How many recipients can single out each child ({result.main.scenario.replace('_', ' ')})"
    )
    if phone:
        return _r._phone_bars(
            [f"{lab} recipient{'' if lab == '1' else 's'}" for lab in labels],
            [("children", values, "0.45", "")],
            title=title,
            xlabel="children of the panel (%)",
            prov=prov,
            note=_data_note(result),
        )
    fig, ax = _r._figure((7.5, 4.2))
    x = np.arange(len(frame))
    bars = ax.bar(x, values, 0.7, color="0.45", edgecolor="black", linewidth=0.5)
    _r._bar_labels(ax, bars, values)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_xlabel("recipients singling the child out")
    ax.set_ylabel("children of the panel (%)")
    top = float(np.nanmax(values)) if len(values) else 0.0
    ax.set_ylim(0, max(10.0, math.ceil(top / 10) * 10 + 10))
    ax.set_title(title, fontsize=9)
    ax.grid(axis="y", color="0.85", linewidth=0.5)
    ax.set_axisbelow(True)
    fig.subplots_adjust(bottom=0.3, left=0.09, right=0.98, top=0.92)
    _r._source(fig, prov, _data_note(result))
    return fig


def _draw(builder, result) -> dict:
    """The PNG and SVG of a chart and its phone rendition (the tier report's drawing)."""
    png, svg, phone = _r.draw_chart((builder, (result,)))
    return {"png": png, "svg": svg, "phone_png": phone}


def ledger_charts(result) -> dict[str, dict]:
    """The section's charts: ``{name: {"png", "svg", "phone_png", "alt", "caption"}}``."""
    res = result.main
    charts: dict[str, dict] = {}
    tl = result.timeline
    if tl is not None and len(tl):
        last = tl.iloc[-1]
        first = tl.iloc[0]
        k = res.thresholds
        charts["chart_ledger_timeline"] = _draw(chart_timeline, result) | {
            "alt": (
                f"Line chart of the share of the panel's children singled out by at least "
                f"{', '.join(map(str, k))} recipients as releases accumulate, {int(first['year'])} "
                f"to {int(last['year'])}: by the end, "
                + ", ".join(
                    f"{int(last[f'n_at_least_{t}']):,} children "
                    f"({pct_text(last[f'share_at_least_{t}'])}) by {t} or more"
                    for t in k
                )
                + "."
            ),
            "caption": (
                "Children singled out by at least 1, 5 and 20 recipients, counting the releases "
                "dated up to the end of each year (cumulative)."
            ),
        }
    d = result.distribution
    if len(d):
        mode = d.sort_values("n_children", ascending=False, kind="stable").iloc[0]
        charts["chart_ledger_distribution"] = _draw(chart_distribution, result) | {
            "alt": (
                f"Bar chart of the panel's children by the number of recipients singling them "
                f"out, in {len(d)} bins; the largest bin is {mode['n_recipients']} recipients, "
                f"{int(mode['n_children']):,} children ({pct_text(mode['share'])})."
            ),
            "caption": (
                "Children by the number of recipients that can single them out (bins of "
                "unequal width: read the labels)."
            ),
        }
    return charts


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------

_RECIPIENT_LABELS = {
    "recipient": "Recipient",
    "recipient_type": "Type",
    "n_releases": "Releases",
    "n_record_releases": "Record releases",
    "n_record_sets": "Record sets",
    "n_unjoined": "Sets not joined",
    "n_held": "Children held",
    "n_singled_out": "Children singled out",
    "share_of_held": "Singled out (% of held)",
    "share_of_panel": "Singled out (% of panel)",
    "n_singled_out_linked": "If its sets were linked",
    "link_rate": "Link rate",
}


def _levels_combined(frame: pd.DataFrame, thr, total=None) -> pd.DataFrame:
    """``n_at_least_k`` and ``share_at_least_k`` as one text column each, "count (share)"
    (a withheld count stays empty), so that the wide tables fit a page."""
    out = frame.copy()
    for k in thr:
        n_col, s_col = f"n_at_least_{k}", f"share_at_least_{k}"
        if n_col not in out.columns:
            continue
        cells = []
        for n, share in zip(out[n_col], out[s_col], strict=True):
            if n is None or n is pd.NA or (isinstance(n, float) and math.isnan(n)):
                cells.append("")
            else:
                cells.append(f"{int(n):,} ({pct_text(share)})")
        out[n_col] = pd.Series(cells, index=out.index, dtype=object)
        out = out.drop(columns=[s_col])
    return out


_BY_LABELS = {
    "nc_year": "Year group",
    "fsm_eligible": "Free school meals",
    "sen_provision": "SEN provision",
    "region": "Region",
}


def _level_labels(thr) -> dict[str, str]:
    out = {}
    for k in thr:
        out[f"n_at_least_{k}"] = f"By {k}+ recipient{'s' if k > 1 else ''} (%)"
    return out


def _headline_html(result) -> list[str]:
    res = result.main
    thr = res.thresholds
    head = result.headline
    labels = {
        "scenario": "Scenario",
        "fields": "Fields the intruder knows",
        "n_children": "Children",
        "n_recipients": "Recipients",
        "n_releases": "Releases",
        "n_aggregate": "Aggregate (not measured)",
        "n_empty": "Holding no child of the panel",
        "median": "Median recipients per child",
        "p90": "90th percentile",
        **_level_labels(thr),
    }
    n_at = dict(zip(thr, res.n_at_least, strict=True))
    share = dict(zip(thr, res.share_at_least, strict=True))
    sentence = (
        f"Under the {res.scenario.replace('_', ' ')} scenario, {n_at[thr[0]]:,} of the panel's "
        f"{res.n_children:,} children ({pct_text(share[thr[0]])}) can be singled out by at least "
        f"{thr[0]} recipient{'s' if thr[0] > 1 else ''} of the ledger"
        + (
            f", and {n_at[thr[-1]]:,} ({pct_text(share[thr[-1]])}) by {thr[-1]} or more"
            if len(thr) > 1
            else ""
        )
        + (
            "; at least half the children are singled out by no recipient."
            if res.median == 0
            else f"; at least half the children by {res.median:g} or more."
        )
    )
    if "n_at_least_linked_" + str(thr[0]) in head.columns:
        linked = [int(head.iloc[0][f"n_at_least_linked_{k}"]) for k in thr]
        if linked != [n_at[k] for k in thr]:
            sentence += (
                " With every recipient's record sets linked as if they shared a pupil reference "
                "(an upper bound): "
                + ", ".join(
                    f"{n:,} ({pct_text(n / res.n_children)}) by {k}+" for k, n in zip(thr, linked)
                )
                + "."
            )
    cols = [
        c
        for c in head.columns
        if c not in ("n_aggregate", "n_releases", "n_recipients") and "linked" not in c
    ]
    head = _levels_combined(head[cols], thr)
    return [
        '<h2 id="ledger">Release ledger: how many recipients can single out each child</h2>',
        f"<p><b>{html.escape(sentence)}</b></p>",
        '<p class="note">A child is singled out by a recipient when, in one of the record sets '
        "the recipient holds (its releases joined on the pupil reference they share), the child's "
        "values on the scenario's fields at every census the set covers, and which releases hold "
        "the child, match no other child's. Counts come before shares; shares are of the panel's "
        "children.</p>",
        f'<p class="note">{res.n_releases:,} releases ({res.n_aggregate:,} aggregate, not '
        f"measured) to {res.n_recipients:,} recipients.</p>",
        _r._table_html(head, labels=labels),
    ]


def _notes_html(result) -> list[str]:
    if not result.notes:
        return []
    return [
        '<div class="quality"><h2 id="ledger-notes">What these figures are about</h2>'
        + "".join(f"<p>{html.escape(n)}</p>" for n in result.notes)
        + "</div>"
    ]


def _recipients_html(result) -> list[str]:
    o, res = result.options, result.main
    top = result.recipients.head(o.top)
    cols = [
        "recipient",
        "recipient_type",
        "n_releases",
        "n_record_sets",
        "n_unjoined",
        "n_held",
        "n_singled_out",
        "share_of_held",
        "n_singled_out_linked",
        "link_rate",
    ]
    cols = [c for c in cols if c in top.columns]
    return [
        '<h2 id="ledger-recipients">Recipients singling out most children '
        f"({html.escape(res.scenario.replace('_', ' '))})</h2>",
        f'<p class="note">The {len(top)} of {len(result.recipients):,} recipients singling out '
        "most "
        "children (all of them in ledger_recipients.csv). Record sets: the recipient's releases "
        "joined on a shared pupil reference; sets not joined are links not made, so a count is a "
        "lower bound where there are any, and 'if its sets were linked' the upper bound. The "
        "link rate is the share of the children held in two or more of its sets that exact "
        "matching on the fields the sets share links correctly.</p>",
        _r._table_html(top[cols], labels=_RECIPIENT_LABELS),
    ]


def _distribution_html(result, charts) -> list[str]:
    labels = {
        "n_recipients": "Recipients singling the child out",
        "lowest": "From",
        "highest": "To",
        "n_children": "Children",
        "share": "Children (%)",
    }
    parts = [
        '<h2 id="ledger-distribution">Children by the number of recipients singling them out</h2>',
        _r._table_html(result.distribution[["n_recipients", "n_children", "share"]], labels=labels),
    ]
    if "chart_ledger_distribution" in charts:
        parts.append(_r._figure_html(charts["chart_ledger_distribution"]))
    return parts


def _timeline_html(result, charts) -> list[str]:
    tl = result.timeline
    if tl is None:
        return []
    thr = result.main.thresholds
    labels = {
        "year": "Year",
        "until": "Releases dated up to",
        "n_releases": "Releases",
        "n_recipients": "Recipients",
        "median": "Median",
        "p90": "90th percentile",
        "n_exposures": "Recipient-child pairs singled out",
        **_level_labels(thr),
    }
    cols = [c for c in tl.columns if c in labels or c.startswith("share_at_least_")]
    parts = [
        '<h2 id="ledger-timeline">Exposure as the releases accumulate</h2>',
        '<p class="note">Each row counts every release dated up to the end of its year: the '
        "children singled out by the ledger so far.</p>",
    ]
    if "chart_ledger_timeline" in charts:
        parts.append(_r._figure_html(charts["chart_ledger_timeline"]))
    shown = _levels_combined(tl[cols], thr).assign(year=tl["year"].astype(int).astype(str))
    parts.append(_r._table_html(shown, labels=labels))
    return parts


def _by_html(result) -> list[str]:
    by = result.by
    if by is None or not len(by):
        return []
    thr = result.main.thresholds
    labels = {
        "field": "Breakdown",
        "value": "Value",
        "n_children": "Children",
        "median": "Median",
        "p90": "90th percentile",
        "withheld": "Withheld",
        **_level_labels(thr),
    }
    cols = ["field", "value", "n_children", "median", "p90"]
    cols += [f"n_at_least_{k}" for k in thr] + [f"share_at_least_{k}" for k in thr]
    if "withheld" in by.columns:
        cols.append("withheld")
    note = "Each child counted once, at their last census in the panel." + (
        " Empty cells are withheld (small numbers of children of your panel): see the "
        "column 'Withheld'."
        if "withheld" in by.columns
        else ""
    )
    return [
        '<h2 id="ledger-by">Who is exposed: by year group, free school meals, SEN and region</h2>',
        f'<p class="note">{html.escape(note)}</p>',
        _r._table_html(
            _levels_combined(by[cols], thr).assign(
                field=by["field"].map(_BY_LABELS).fillna(by["field"])
            ),
            labels=labels,
        ),
    ]


def _policies_html(result) -> list[str]:
    p = result.policies
    if p is None:
        return []
    thr = result.main.thresholds
    labels = {
        "policy": "Policy",
        "description": "What it changes",
        "n_releases": "Releases",
        "median": "Median",
        "p90": "90th percentile",
        "n_exposures": "Recipient-child pairs",
        "n_children_saved": "Children no longer singled out",
        "n_exposures_saved": "Pairs no longer singled out",
        **_level_labels(thr),
    }
    cols = [c for c in p.columns if c in labels or c.startswith("share_at_least_")]
    return [
        '<h2 id="ledger-policies">What if the releases had followed another policy</h2>',
        '<p class="note">The same panel and scenario under counterfactual ledgers: the first row '
        "is the ledger as released.</p>",
        _r._table_html(_levels_combined(p[cols], thr), labels=labels),
    ]


def _collusion_html(result) -> list[str]:
    c = result.collusion
    if c is None:
        return []
    labels = {
        "k": "Recipients pooling",
        "recipients": "Which",
        "n_singled_out": "Children singled out",
        "share_singled_out": "Singled out (%)",
        "n_singled_out_best_member": "By the best member alone",
        "gain": "Gain from pooling",
    }
    cols = [col for col in c.columns if col in labels]
    parts = [
        '<h2 id="ledger-collusion">If recipients pooled their records</h2>',
        '<p class="note">Recipients that pool their records (or one breach of several): the '
        "children the pooled records single out, against the best member alone.</p>",
        _r._table_html(c[cols], labels=labels),
    ]
    b = result.breach
    if b is not None and len(b):
        parts += [
            "<h3>What a breach of one recipient would expose (top 10)</h3>",
            _r._table_html(b.head(10)),
        ]
    return parts


def _head(result, title: str) -> list[str]:
    prov = result.provenance
    o = result.options
    if o.synthetic_panel and o.synthetic_ledger:
        banner = html.escape(
            "The data are synthetic: a panel imitating the National Pupil Database and a ledger "
            "imitating the DfE register's published tallies, not any real child or release."
        )
    else:
        parts = []
        if o.synthetic_panel:
            parts.append("Panel: synthetic (no real child).")
        if o.synthetic_ledger:
            parts.append("Ledger: synthetic register.")
        files = "; ".join(
            f'<span class="mono">{html.escape(_render.input_text(i))}</span>'
            for i in _render.inputs_of(prov)
        )
        banner = " ".join(html.escape(p) for p in parts) + (f" Data: {files}." if files else "")
    return [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_r._CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="banner">{banner}</p>',
        '<p class="note">Figures from riskcalc '
        + html.escape(code_identity(prov))
        + ". Counts come before shares. No value of any record is shown.</p>",
    ]


def _cite(result) -> list[str]:
    prov = result.provenance
    command = f", command: {prov['command']}" if prov.get("command") else ""
    text = (
        f"Release-ledger exposure measured with riskcalc {code_identity(prov)} (ledger_job). "
        f"{_data_note(result)[:-1]}{command}. Counts and shares only; no record values."
    )
    return [
        '<div class="cite"><h2 id="cite">How to cite these figures</h2>'
        f"<p>{html.escape(text)}</p></div>"
    ]


def _provenance_html(result) -> list[str]:
    rows = _r._provenance_rows(result.provenance)
    params = result.provenance.get("parameters", {})
    for key in ("ledger", "panel"):
        if key in params:
            rows.append(
                (f"{key.capitalize()}", ", ".join(f"{k}: {v}" for k, v in params[key].items()))
            )
    frame = pd.DataFrame(rows, columns=["item", "value"])
    return [
        '<h2 id="provenance">Provenance</h2>',
        '<p class="note">Where these figures come from; the full record is in ledger.json.</p>',
        _r._table_html(frame, labels={"item": "Item", "value": "Value"}, cards=False, css="kv"),
        '<p class="totop"><a href="#contents">Back to contents</a></p>',
        "</body></html>",
    ]


def ledger_html(
    result, charts: dict, title: str = "How exposed are children across releases?"
) -> str:
    """The report page: the ledger section, its charts and tables, the provenance."""
    parts = [
        *_head(result, title),
        *_notes_html(result),
        _r._TOC_PLACE,
        *_cite(result),
        *_headline_html(result),
        *_recipients_html(result),
        *_distribution_html(result, charts),
        *_timeline_html(result, charts),
        *_by_html(result),
        *_policies_html(result),
        *_collusion_html(result),
        *_provenance_html(result),
    ]
    text = "\n".join(parts) + "\n"
    return text.replace(_r._TOC_PLACE, _r._contents(text), 1)


def ledger_report_files(result) -> dict[str, str | bytes]:
    """``{"report.html": str, "chart_ledger_*.png": bytes, "chart_ledger_*.svg": str}``."""
    charts = ledger_charts(result)
    out: dict[str, str | bytes] = {"report.html": ledger_html(result, charts)}
    for name, item in charts.items():
        out[f"{name}.png"] = item["png"]
        out[f"{name}.svg"] = item["svg"]
    return out
