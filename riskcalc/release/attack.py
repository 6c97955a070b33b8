"""The simulated linkage attack over tiers x intruder profiles on a synthetic cohort.

For each record-level tier (1, 2, 4) and each intruder profile (:mod:`synthetic.intruders`):
draw the intruder's auxiliary table from the cohort, cut the tier extract, link them on the
fields they share (:func:`synthetic.intruders.linking_view`) with
:func:`riskcalc.linkage_attack`, and tabulate predicted against actual re-identification.
Outputs hold counts and rates only, with provenance; the same pupils, seed and options give
byte-identical files. ``riskcalc attack`` (:mod:`riskcalc._cli.attack`) is the command;
:func:`attack_section` the HTML report's section.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import TYPE_CHECKING

import numpy as np

from .. import _render
from .._lazy import lazy_module
from .._provenance import provenance
from .._validation import check_int
from ..exceptions import InvalidParameterError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # on first use: the command line's parser reads this module
__all__ = [
    "AttackExperiment",
    "attack_experiment",
    "attack_section",
    "SENSITIVE",
    "ATTACK_PUPILS",
]

#: Sensitive fields whose disclosure through a link is tabulated, where the tier carries them.
SENSITIVE: tuple[str, ...] = (
    "fsm_eligible",
    "sen_provision",
    "looked_after",
    "permanent_exclusion",
)
_TIERS = (1, 2, 4)
#: Cohort size of the attack section of ``riskcalc tiers --attack``.
ATTACK_PUPILS = 20_000


@dataclass(frozen=True, eq=False)
class AttackExperiment:
    """Tables of the experiment (tidy, counts and rates only) and their provenance.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per tier and intruder: linking fields, targets, riskcalc's predictions (sample
        uniques, ``fk < 5``, prosecutor's expected re-identifications) and the exact and
        probabilistic attacks' claims, correct claims, precision and recall.
    thresholds : pandas.DataFrame
        Every attack and match-probability threshold (``LinkageAttackResult.to_frame``).
    calibration : pandas.DataFrame
        Predicted probability of a correct re-identification against the observed rate.
    attributes : pandas.DataFrame
        What the claims reveal about the sensitive fields.
    provenance : dict
    """

    summary: pd.DataFrame
    thresholds: pd.DataFrame
    calibration: pd.DataFrame
    attributes: pd.DataFrame
    provenance: dict = dc_field(default_factory=dict)

    def files(self) -> dict[str, bytes]:
        """The output folder: four CSV tables, a JSON file with provenance, a Markdown summary."""
        prov = self.provenance
        out = {
            "attack_summary.csv": _render.to_csv(self.summary),
            "attack_thresholds.csv": _render.to_csv(self.thresholds),
            "attack_calibration.csv": _render.to_csv(self.calibration),
            "attack_attributes.csv": _render.to_csv(self.attributes),
            "attack.json": json.dumps(
                {"provenance": prov, "summary": json.loads(_render.to_json(self.summary))},
                indent=2,
                sort_keys=True,
                default=str,
            )
            + "\n",
            "attack.html": _page(self),
            "attack.md": "# Simulated linkage attack\n\n"
            + _render.to_markdown(self.summary)
            + "\n\n"
            + _render.markdown_provenance(prov)
            + "\n",
        }
        return {k: v.encode("utf-8") for k, v in out.items()}

    def section_html(self) -> str:
        """The report's section (:func:`attack_section`): what
        :func:`riskcalc.release.report.html_report` places, without importing this module."""
        return attack_section(self)

    def __repr__(self) -> str:
        return (
            f"AttackExperiment({len(self.summary)} tier x intruder runs, "
            f"tiers={sorted(set(self.summary['tier']))}, "
            f"intruders={list(dict.fromkeys(self.summary['intruder']))})"
        )


def _check_names(values, allowed, name):
    if values is None:
        return tuple(allowed)
    values = (values,) if isinstance(values, (str, int)) else tuple(values)
    bad = [v for v in values if v not in allowed]
    if not values or bad:
        raise InvalidParameterError(
            f"The {name!r} parameter of attack_experiment must hold values from {list(allowed)}. "
            f"Got {list(values)!r} instead."
        )
    return tuple(dict.fromkeys(values))


def attack_experiment(
    n_pupils: int = 20_000,
    seed: int = 0,
    *,
    intruders=None,
    tiers=_TIERS,
    coverage: float | None = None,
    probabilistic: bool = True,
    reference_threshold: float = 0.5,
    progress: bool = False,
    cohort: pd.DataFrame | None = None,
) -> AttackExperiment:
    """Run the linkage attack for every tier and intruder profile on a synthetic cohort.

    Parameters
    ----------
    n_pupils : int, default 20,000
        Cohort size (ignored when ``cohort`` is given).
    seed : int, default 0
        Seed of the cohort, of every auxiliary table (``seed`` + profile index) and of Splink's
        u sampling.
    intruders : sequence of str, optional
        Profile names from :data:`synthetic.intruders.PROFILES` (default: all).
    tiers : sequence of {1, 2, 4}, default (1, 2, 4)
    coverage : float in (0, 1], optional
        Override every profile's coverage.
    probabilistic : bool, default True
        Run the Splink attack too (needs the ``linkage`` extra).
    reference_threshold : float, default 0.5
        Match-probability threshold of the summary and attribute tables.
    progress : bool, default False
        One line per run on stderr.
    cohort : pandas.DataFrame, optional
        A cohort from :func:`synthetic.generate_cohort` to use instead of generating one.

    Returns
    -------
    AttackExperiment
    """
    import synthetic
    from synthetic.intruders import COMPARISONS, PROFILES, auxiliary_table, linking_view

    from .._linkage_attack import linkage_attack

    func = "attack_experiment"
    seed = check_int(seed, "seed", func, minimum=0)
    intruders = _check_names(intruders, list(PROFILES), "intruders")
    tiers = _check_names(tiers, list(_TIERS), "tiers")
    if cohort is None:
        n_pupils = check_int(n_pupils, "n_pupils", func, minimum=10)
        cohort = synthetic.generate_cohort(n_pupils, rng=seed)
    summary, thresholds, calibration, attributes = [], [], [], []
    used = {}
    for i, name in enumerate(intruders):
        prof = PROFILES[name] if coverage is None else PROFILES[name].with_(coverage=coverage)
        used[name] = prof.to_dict()
        aux_all = auxiliary_table(cohort, prof, rng=seed + i)
        for tier in tiers:
            extract = synthetic.tier_extract(cohort, tier)
            fields, aux, ext = linking_view(aux_all, extract)
            key = {"tier": tier, "intruder": name}
            if not fields or len(aux) == 0:
                summary.append({**key, "fields": "", "targets": len(aux)})
                continue
            sens = [s for s in SENSITIVE if s in ext.columns]
            res = linkage_attack(
                ext,
                aux,
                fields,
                sensitive=sens,
                probabilistic=probabilistic,
                comparisons={k: v for k, v in COMPARISONS.items() if k in fields},
                reference_threshold=reference_threshold,
                seed=seed,
            )
            if progress:
                print(f"attack: tier {tier}, {name}: {res!r}", file=sys.stderr)
            pred = res.prediction_frame().set_index("measure")["count"]
            row = {
                **key,
                "fields": "+".join(fields),
                "targets": res.n_targets,
                "sample_unique": int(res.n_sample_unique),
                "fk_below_5": int(res.n_fk_below_5),
                "prosecutor_expected": float(pred["prosecutor_expected"]),
                "exact_claimed": res.exact_claimed,
                "exact_correct": res.exact_correct,
                "exact_precision": res.exact_precision,
                "exact_recall": res.exact_recall,
            }
            if probabilistic:
                j = res.thresholds.index(res.reference_threshold)
                c, k = res.correct[j], res.claimed[j]
                row.update(
                    {
                        "linkage_claimed": k,
                        "linkage_correct": c,
                        "linkage_precision": c / k if k else np.nan,
                        "linkage_recall": c / res.n_targets if res.n_targets else np.nan,
                        "blocking": " | ".join("+".join(r) for r in res.blocking),
                    }
                )
            summary.append(row)
            thresholds.append(res.to_frame().assign(**key))
            calibration.append(res.calibration.assign(**key))
            attributes.append(res.attributes.assign(**key))
    summary = pd.DataFrame(summary)
    if "sample_unique" in summary:
        denom = summary["targets"].where(summary["targets"] > 0)
        summary["sample_unique_share"] = summary["sample_unique"] / denom
        summary["fk_below_5_share"] = summary["fk_below_5"] / denom
        summary["prosecutor_share"] = summary["prosecutor_expected"] / denom

    def _stack(parts):
        if not parts:
            return pd.DataFrame()
        out = pd.concat(parts, ignore_index=True)
        front = ["tier", "intruder"]
        return out[front + [c for c in out.columns if c not in front]]

    meta = cohort.attrs.get("synthetic", {})
    prov = provenance(
        "attack_experiment",
        {
            "n_pupils": int(len(cohort)),
            "seed": seed,
            "intruders": list(intruders),
            "tiers": list(tiers),
            "coverage": coverage,
            "probabilistic": bool(probabilistic),
            "reference_threshold": reference_threshold,
            "profiles": used,
        },
        cohort=meta or {"n_pupils": int(len(cohort))},
    )
    return AttackExperiment(
        summary, _stack(thresholds), _stack(calibration), _stack(attributes), prov
    )


# ------------------------------------------------------------------------------ HTML section
def _page(experiment: AttackExperiment) -> str:
    """A self-contained page holding the section and the provenance, laid out as the report is
    (the report's style sheet: tables become cards on a phone)."""
    import html

    from .report import _CSS

    lines = _render.provenance_lines(experiment.provenance)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Simulated linkage attack</title><style>{_CSS}</style></head><body>"
        '<p class="banner">Synthetic data: no real pupil.</p>\n'
        + attack_section(experiment)
        + '\n<h2 id="provenance">Provenance</h2><pre class="mono">'
        + html.escape("\n".join(lines))
        + "</pre></body></html>\n"
    )


def attack_section(experiment: AttackExperiment) -> str:
    """HTML for the report: per tier, a table of predicted and actual re-identification and a
    bar chart (inline SVG) of the shares, with how to read them. Tables are the report's (one
    card per row on a phone); the chart is drawn in a 380-unit box that scales down to the
    page, its text 12 units high, so it reads on a 390-pixel phone."""
    from .report import _table_html

    s = experiment.summary
    parts = [
        '<section id="linkage-attack"><h2 id="attack">Simulated linkage attack</h2>',
        "<p>An intruder's outside knowledge (with errors) linked to each tier extract. "
        "<em>Predicted</em>: the share of the intruder's targets riskcalc calls at risk "
        "(sample unique) and the prosecutor's expected share (mean 1/fk). <em>Actual</em>: "
        "the share correctly re-identified by the exact attack and by probabilistic linkage "
        "(Splink, Fellegi-Sunter) at the reference threshold. Precision is the share of "
        "claims that are right: a wrong claim attributes another child's record to the "
        "target.</p>",
    ]
    share_cols = [
        ("sample_unique_share", "predicted: sample unique"),
        ("prosecutor_share", "predicted: prosecutor 1/fk"),
        ("exact_recall", "actual: exact attack"),
        ("linkage_recall", "actual: probabilistic"),
    ]
    for tier in sorted(set(s["tier"])):
        t = s[s["tier"] == tier]
        cols = [
            c
            for c in (
                "intruder",
                "fields",
                "targets",
                "sample_unique",
                "prosecutor_expected",
                "exact_claimed",
                "exact_correct",
                "exact_precision",
                "linkage_claimed",
                "linkage_correct",
                "linkage_precision",
                "linkage_recall",
            )
            if c in t
        ]
        parts.append(f"<h3>Tier {tier}</h3>")
        parts.append(_table_html(t[cols].reset_index(drop=True)))
        parts.append(_svg_bars(t, [c for c in share_cols if c[0] in t]))
    parts.append("</section>")
    return "\n".join(parts)


#: Fills of the attack chart's bars: grey shades, as the report's charts (dark = predicted).
_SVG_FILLS = ("#262626", "#737373", "#b3b3b3", "#e6e6e6")


def _svg_bars(t: pd.DataFrame, cols) -> str:
    """Horizontal bars, one group per intruder (its name on a line above), one bar per share,
    each labelled with its value; the legend on top, one entry a line. Drawn in a box 380 units
    wide that scales to the page (never wider than it), text 12 units high; names escaped."""
    import html

    width, left, bar, gap, font = 380, 8, 11, 10, 12
    scale = width - left - 70  # room for the value after the longest bar
    y = 4
    out = []
    for ci, (_, label) in enumerate(cols):
        out.append(
            f'<rect x="{left}" y="{y + 2}" width="11" height="11" fill="{_SVG_FILLS[ci % 4]}" stroke="#000" '
            f'stroke-width="0.5"/><text x="{left + 17}" y="{y + 12}" font-size="{font}">{html.escape(label)}</text>'
        )
        y += font + 5
    y += 6
    for _, row in t.iterrows():
        out.append(
            f'<text x="{left}" y="{y + font}" font-size="{font}" font-weight="600">'
            f"{html.escape(str(row['intruder']).replace('_', ' '))}</text>"
        )
        y += font + 4
        for ci, (col, label) in enumerate(cols):
            v = row.get(col)
            v = 0.0 if v is None or pd.isna(v) else float(v)
            w = round(v * scale, 1)
            out.append(
                f'<rect x="{left}" y="{y}" width="{w}" height="{bar}" fill="{_SVG_FILLS[ci % 4]}" stroke="#000" '
                f'stroke-width="0.5"><title>{html.escape(label)}: {100 * v:.1f}%</title></rect>'
                f'<text x="{left + w + 4}" y="{y + bar - 1}" font-size="{font - 1}">{100 * v:.1f}%</text>'
            )
            y += bar + 2
        y += gap
    return (
        f'<svg role="img" viewBox="0 0 {width} {y}" style="width:100%;max-width:{width * 1.4:.0f}px;height:auto;display:block" '
        'xmlns="http://www.w3.org/2000/svg"><title>Predicted against actual re-identification</title>'
        + "".join(out)
        + "</svg>"
    )
