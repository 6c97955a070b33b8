"""Everything ``riskcalc analyse`` reports for one file, as tidy sections with provenance.

One encoding of the file serves every section: the basic measures, the attacker models, the
individual risk with weights, population uniqueness for samples, and attribute disclosure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import _render
from .._core.encoding import encode
from .._provenance import provenance
from ..summary import MEASURE_LABELS, risk_summary

COLUMNS = ["section", "measure", "threshold", "value", "share"]

SECTION_TITLES = {
    "quasi_identifiers": "Re-identification on the quasi-identifiers",
    "attacker": "Attacker models",
    "individual": "Individual risk with sampling weights (Benedetti-Franconi)",
    "population": "Population uniqueness estimated from the sample",
    "model": "Log-linear model risk (Skinner-Shlomo; sdcMicro modRisk)",
    "attribute": "Attribute disclosure: sensitive values revealed by homogeneous classes",
}

LABELS = {
    **MEASURE_LABELS,
    "prosecutor_records_at_risk": "prosecutor: records with risk > threshold",
    "prosecutor_highest_risk": "prosecutor: highest risk",
    "prosecutor_success_rate": "prosecutor: success rate",
    "journalist_records_at_risk": "journalist: records with risk > threshold",
    "journalist_highest_risk": "journalist: highest risk",
    "journalist_success_rate": "journalist: success rate",
    "marketer_success_rate": "marketer: success rate",
    "global_risk": "global risk (mean individual risk)",
    "expected_reidentifications": "expected re-identifications (sum of risks)",
    "records_above_threshold": "records with individual risk > threshold",
    "household_global_risk": "household risk (mean over records)",
}


@dataclass(frozen=True)
class Analysis:
    """Sections of tidy rows (``measure, threshold, value, share``) and their provenance.

    ``quality`` is the profile of the measured columns (:class:`riskcalc.profile.DataQuality`),
    also recorded as ``provenance["data_quality"]``; ``problems`` its findings, one line each.
    """

    sections: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    quality: object = None

    def to_frame(self) -> pd.DataFrame:
        frames = [frame.assign(section=name) for name, frame in self.sections.items()]
        out = pd.concat(frames, ignore_index=True)[COLUMNS]
        out["threshold"] = out["threshold"].astype("Float64")
        out["value"] = out["value"].astype(object)
        return out


def _rows(rows) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "measure": [r[0] for r in rows],
            "threshold": pd.array([r[1] for r in rows], dtype="Float64"),
            "value": pd.Series([_plain(r[2]) for r in rows], dtype=object),
            "share": np.array([np.nan if r[3] is None else r[3] for r in rows], dtype=float),
        }
    )


def _plain(value):
    if value is None:
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    return float(value)


def analyse(
    path,
    qi,
    *,
    weights=None,
    k_thresholds=(2, 3, 5, 10),
    count_thresholds=(1, 2, 3, 5, 10),
    missing="category",
    alpha=1.0,
    risk_threshold=0.2,
    population=None,
    sampling_fraction=None,
    population_size=None,
    population_method="auto",
    household=None,
    risk_method="approx",
    sensitive=(),
    sep=None,
    normalise=False,
    sheet=None,
) -> Analysis:
    """Run every requested measure on one encoding of ``path``.

    The quasi-identifiers and sensitive columns are profiled first
    (:func:`riskcalc.release.quality.quality_check`: findings in ``Analysis.quality``, and in
    the provenance as ``data_quality``). With ``normalise`` their text is normalised
    (:func:`riskcalc.normalise`) before measuring, the normalisation is recorded there, and
    the findings are those of the normalised columns; the file itself is never modified.
    """
    from pathlib import Path

    from ..attacker import attacker_risk
    from .quality import quality_check

    columns = list(dict.fromkeys(list(qi) + ([household] if household else []) + list(sensitive)))
    enc = encode(path, columns, weights=weights, sep=sep, sheet=sheet)
    profiled = list(dict.fromkeys(list(qi) + list(sensitive)))
    roles = {c: ("quasi_identifier" if c in set(qi) else "sensitive") for c in profiled}
    source = Path(str(path)).name
    fixed, quality = quality_check(
        enc, profiled, roles=roles, normalise_columns=normalise, source=source
    )
    if normalise:
        enc = _normalised(enc, fixed, household, weights)
    summary = risk_summary(
        enc,
        qi,
        weights=weights,
        k_thresholds=k_thresholds,
        count_thresholds=count_thresholds,
        missing=missing,
        alpha=alpha,
    )
    sections = {"quasi_identifiers": summary.to_frame()}
    attack = attacker_risk(
        enc,
        qi,
        population=population,
        threshold=risk_threshold,
        missing="category" if missing == "wildcard" else missing,
        sep=sep,
    )
    sections["attacker"] = _attacker_rows(attack)
    if weights is not None:
        sections["individual"] = _individual_rows(
            enc, qi, weights, risk_method, household, missing, alpha, risk_threshold
        )
    if sampling_fraction is not None or population_size is not None:
        sections["population"] = _population_rows(
            enc, qi, sampling_fraction, population_size, population_method, missing
        )
        sections["model"] = _model_rows(enc, qi, sampling_fraction, population_size, missing)
    if sensitive:
        sections["attribute"] = _attribute_rows(enc, qi, sensitive, missing)
    params = {
        "quasi_identifiers": list(qi),
        "weights": weights,
        "k_thresholds": list(k_thresholds),
        "count_thresholds": list(count_thresholds),
        "missing": missing,
        "alpha": alpha,
        "risk_threshold": risk_threshold,
        "population": str(population) if population else None,
        "sampling_fraction": sampling_fraction,
        "population_size": population_size,
        "population_method": population_method,
        "household": household,
        "risk_method": risk_method,
        "sensitive": list(sensitive),
    }
    params["normalise"] = bool(normalise)
    if sheet is not None:
        params["sheet"] = sheet
    prov = provenance("analyse", params, path, enc, data_quality=quality.to_dict())
    return Analysis(sections, prov, [f["message"] for f in quality.findings()], quality)


def _normalised(enc, fixed, household, weights):
    """The encoded table after normalising: the normalised columns, the household column
    normalised too, the weights kept."""
    from ..profile import normalise as normalise_columns

    if household is not None and household not in fixed.columns:
        fixed[household] = normalise_columns(enc, [household])[0][household]
    if weights is not None:
        fixed[weights] = enc.weights(weights)
    out = encode(fixed, [c for c in fixed.columns if c != weights], weights=weights)
    out.source = enc.source
    return out


def _attacker_rows(res) -> pd.DataFrame:
    rows = [
        ("prosecutor_records_at_risk", res.threshold, None, res.prosecutor_records_at_risk),
        ("prosecutor_highest_risk", None, res.prosecutor_highest_risk, None),
        ("prosecutor_success_rate", None, res.prosecutor_success_rate, None),
        ("journalist_records_at_risk", res.threshold, None, res.journalist_records_at_risk),
        ("journalist_highest_risk", None, res.journalist_highest_risk, None),
        ("journalist_success_rate", None, res.journalist_success_rate, None),
        ("marketer_success_rate", None, res.marketer_success_rate, None),
    ]
    rows = [(m, t, round(s * res.n_records) if v is None else v, s) for m, t, v, s in rows]
    return _rows(rows)


def _individual_rows(
    enc, qi, weights, method, household, missing, alpha, threshold
) -> pd.DataFrame:
    from ..individual import individual_risk

    res = individual_risk(
        enc, qi, weights=weights, method=method, household=household, missing=missing, alpha=alpha
    )
    above = res.records_above(threshold)
    rows: list[tuple[str, float | None, float | None, float | None]] = [
        ("global_risk", None, res.global_risk, None),
        ("expected_reidentifications", None, res.expected_reidentifications, None),
        ("records_above_threshold", threshold, above, above / res.n_records),
    ]
    if res.household_risk is not None:
        rows.append(("household_global_risk", None, res.household_global_risk, None))
    return _rows(rows)


def _population_rows(enc, qi, fraction, size, method, missing) -> pd.DataFrame:
    from ..population import population_uniqueness

    res = population_uniqueness(
        enc,
        qi,
        sampling_fraction=fraction,
        population_size=size,
        method=method,
        missing="category" if missing == "wildcard" else missing,
    )
    lo, hi = res.interval
    N = res.population_size
    rows = [
        ("population_size", None, N, None),
        ("estimated_population_uniques", None, res.n_population_uniques, res.estimate),
        ("population_uniques_low", res.confidence, lo, lo / N),
        ("population_uniques_high", res.confidence, hi, hi / N),
    ]
    for name, value in sorted(res.estimates.items()):
        rows.append((f"estimate_{name}", None, value, None))
    frame = _rows(rows)
    verdict = (
        "the estimate can be quoted with its interval"
        if res.trusted
        else f"NOT TRUSTED: {res.caution}"
    )
    frame.attrs["note"] = (
        f"estimator used: {res.method_used} ({res.reason}); interval at "
        f"{res.confidence:.0%} (the low and high rows); {verdict}"
    )
    return frame


def _model_rows(enc, qi, fraction, size, missing) -> pd.DataFrame:
    from .._model_risk import model_risk

    n = enc.n_records
    f = fraction if fraction is not None else n / size
    res = model_risk(
        enc,
        qi,
        sampling_fraction=f,
        select="impact",
        missing="category" if missing == "wildcard" else missing,
    )
    su = res.n_sample_uniques
    rows = [
        ("sample_uniques", None, su, su / n),
        ("tau1_expected_population_unique", None, res.tau1, res.tau1 / su if su else None),
        ("tau2_expected_correct_matches", None, res.tau2, res.tau2 / su if su else None),
        ("expected_population_uniques", None, res.n_population_uniques, res.estimate),
        ("sdcmicro_gr1", None, res.gr1, None),
        ("sdcmicro_gr2", None, res.gr2, None),
        ("impact_z", None, res.impact_z, None),
    ]
    frame = _rows(rows)
    frame.attrs["note"] = (
        f"model {res.formula}; tau shares are of the sample uniques; expected "
        "counts are model expectations, not counts of pupils"
    )
    return frame


def _attribute_rows(enc, qi, sensitive, missing) -> pd.DataFrame:
    from ..attribute import attribute_disclosure

    res = attribute_disclosure(
        enc, qi, list(sensitive), missing="category" if missing == "wildcard" else missing
    )
    rows = []
    for rec in res.to_frame().to_dict("records"):
        name = rec.pop("sensitive")
        for key, value in rec.items():
            if not key.endswith("_share"):
                rows.append((f"{name}: {key}", None, value, rec.get(f"{key}_share")))
    return _rows(rows)


def to_text(analysis: Analysis) -> str:
    """The data-quality lines, then the sections as aligned text tables with plain-English
    measure names."""
    out = [_render.text_quality(analysis.provenance)]
    for name, frame in analysis.sections.items():
        shown = frame.assign(
            measure=frame["measure"].map(lambda m: LABELS.get(m, m.replace("_", " ")))
        )
        shown = shown.rename(columns={"threshold": "t"})
        title = SECTION_TITLES.get(name, name)
        note = frame.attrs.get("note")
        out.append(f"\n{title}\n" + (f"({note})\n" if note else "") + "\n" + _render.to_text(shown))
    return "".join(out)
