"""The job behind ``riskcalc ledger``: a release ledger measured on a panel, its tables and report.

By default the ledger is the synthetic DfE register (:func:`synthetic.generate_ledger`, 887
releases dated March 2012 - December 2016, academic years 2002-2015) and the panel a synthetic
one (:func:`synthetic.generate_panel`, spring censuses of 2006/07-2015/16: the generator starts
in 2006, so the register's releases of earlier years hold no child of it). A user's ledger file
(CSV or TOML, :func:`riskcalc.release.ledger.read_ledger`) and a user's panel file (CSV,
Parquet, Feather or Excel, one row per pupil per census) replace them.

Figures: the headline of every scenario asked for (:func:`riskcalc.ledger_exposure`), then for
the main scenario the recipients singling out most children, the distribution of the number of
recipients per child, the breakdowns by year group, FSM, SEN and region, the exposure as the
releases accumulate (:func:`riskcalc.exposure_over_time`), the built-in policies
(:func:`riskcalc.compare_policies`) and colluding recipients
(:func:`riskcalc.collusion_exposure`).

Disclosure control. Every output is an aggregate; the per-child table (one row per
``pupil_id``) is written only on request, as ``internal_per_child.csv``, marked INTERNAL. On a
user's own panel the breakdown cells follow the output-checking rules of ``riskcalc
check-output``'s default profile (ONS SRS, ``riskcalc/data/output_rules.toml``): a cell of
fewer than :func:`min_cell` children shows no figure (its count, median, 90th percentile and
levels are withheld); a count at a level whose number of children, or whose complement in the
cell, is between 1 and ``min_cell - 1`` is withheld with its share; when a field has exactly one
withheld cell (or exactly one withheld count at a level), the next smallest cell (count) of that
field is withheld too, so that the first cannot be worked out from the panel's total. In the
distribution of a user's panel, a bin of 1 to ``min_cell - 1`` children is merged with the bin
below it. A synthetic panel
holds no real child and is shown whole.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _format as fmt
from .. import _render
from .._lazy import lazy_module
from .._provenance import describe_file, provenance
from ..exceptions import DataFileError, InvalidParameterError, MissingColumnError

if TYPE_CHECKING:
    import pandas as pd
else:
    # the command line's parser reads this module's defaults: pandas is imported on first use
    pd = lazy_module("pandas")

__all__ = [
    "LedgerOptions",
    "LedgerJobResult",
    "ledger_job",
    "run_ledger",
    "DEFAULT_PUPILS",
    "MAIN_SCENARIO",
]

#: Pupils in the first census of the default synthetic panel: the whole job (six scenarios,
#: the timeline, the policies, collusion, the report) runs in well under a minute.
DEFAULT_PUPILS = 20_000
#: The default panel's academic years: 2006/07 (the generator's first) to 2015/16 (the
#: register's last), spring censuses.
FIRST_YEAR, N_YEARS = 2006, 10
#: The scenario of the detailed sections when several are measured (the one most releases hold).
MAIN_SCENARIO = "school_gate"
#: Children in England's state schools in one census, for the size caveat (the generator's
#: default cohort, :data:`synthetic.FULL_POPULATION`).
NATIONAL_PUPILS = 8_457_089
#: Bins of the per-child distribution: ``(label, lowest, highest)`` recipients (None: no top).
BINS: tuple[tuple[str, int, int | None], ...] = (
    ("0", 0, 0),
    ("1", 1, 1),
    ("2-4", 2, 4),
    ("5-9", 5, 9),
    ("10-19", 10, 19),
    ("20-49", 20, 49),
    ("50-99", 50, 99),
    ("100+", 100, None),
)
#: The fields of the breakdowns, read at each child's last census.
BY = ("nc_year", "fsm_eligible", "sen_provision", "region")
#: Files holding one row per child: written only on request, never for release.
INTERNAL_NOTICE = (
    "INTERNAL: one row per child (pupil_id and the number of recipients singling it out); "
    "do not release."
)


def min_cell() -> int:
    """The smallest number of children a breakdown cell of a user's panel shows figures for:
    the summary threshold of ``riskcalc check-output``'s default profile (ONS SRS: 10)."""
    from ..output_check import load_rules

    return int(load_rules("ons_srs").summary["threshold"])


@dataclass(frozen=True)
class LedgerOptions:
    """The parameters of :func:`ledger_job`, in one frozen record.

    ``ledger`` / ``panel``: the user's files (None: synthetic; ``period`` and ``seed`` choose the
    synthetic register, ``n_pupils`` and ``seed`` the synthetic panel). ``scenarios``: scenario
    names (None: every built-in one); the detailed sections are for the first named, or
    :data:`MAIN_SCENARIO` when all are measured. ``top``: recipients in the printed and reported
    table (the CSV holds all). ``per_child`` adds the INTERNAL per-child file. ``timeline``,
    ``policies``, ``collusion`` and ``report`` switch sections; ``progress`` prints the stages on
    standard error.
    """

    ledger: str | None = None
    panel: str | None = None
    period: str = "2012-2016"
    n_pupils: int = DEFAULT_PUPILS
    seed: int = 0
    scenarios: tuple[str, ...] | None = None
    top: int = 20
    thresholds: tuple[int, ...] = (1, 5, 20)
    per_child: bool = False
    timeline: bool = True
    policies: bool = True
    collusion: bool = True
    report: bool = True
    progress: bool = False
    normalise: bool = False

    @property
    def synthetic_panel(self) -> bool:
        return self.panel is None

    @property
    def synthetic_ledger(self) -> bool:
        return self.ledger is None


@dataclass(frozen=True)
class LedgerJobResult:
    """Everything ``riskcalc ledger`` prints and writes.

    ``headline``: one row per scenario (children, recipients, releases, median, 90th percentile,
    children singled out by at least each threshold of recipients). ``main``: the
    :class:`~riskcalc.LedgerExposureResult` of the main scenario. ``recipients``: its per
    recipient table, most children singled out first. ``distribution``: children per number of
    recipients (binned, :data:`BINS`). ``by``: the breakdowns (small cells withheld on a user's
    panel, see the module notes). ``timeline``, ``policies``, ``collusion``, ``breach``: the
    sections' frames, None when not run or not available (``notes`` says why). ``notes``: the
    caveats printed and reported. ``html`` and ``charts``: the report and its chart files.
    """

    options: LedgerOptions
    provenance: dict
    headline: pd.DataFrame
    main: Any
    recipients: pd.DataFrame
    distribution: pd.DataFrame
    by: pd.DataFrame
    timeline: pd.DataFrame | None = None
    policies: pd.DataFrame | None = None
    collusion: pd.DataFrame | None = None
    breach: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()
    html: str | None = None
    charts: dict = field(default_factory=dict)

    def files(self) -> dict[str, str | bytes]:
        """The output folder's files (``internal_per_child.csv`` only with ``per_child``)."""
        csv = _render.to_csv
        out: dict[str, str | bytes] = {
            "ledger_headline.csv": csv(self.headline),
            "ledger_recipients.csv": csv(self.recipients),
            "ledger_distribution.csv": csv(self.distribution),
            "ledger_by.csv": csv(self.by),
        }
        for name, frame in (
            ("ledger_timeline.csv", self.timeline),
            ("ledger_policies.csv", self.policies),
            ("ledger_collusion.csv", self.collusion),
            ("ledger_breach.csv", self.breach),
        ):
            if frame is not None:
                out[name] = csv(frame)
        out["ledger.json"] = self.to_json()
        if self.options.per_child:
            out["internal_per_child.csv"] = csv(self.main.per_child[["pupil_id", "n_recipients"]])
        if self.html is not None:
            out["report.html"] = self.html
        out.update(self.charts)
        return out

    def to_json(self) -> str:
        """The headline, the notes and the provenance as one JSON document."""
        doc = {
            "headline": json.loads(_render.to_json(self.headline))["rows"],
            "main_scenario": self.main.scenario,
            "notes": list(self.notes),
            "provenance": self.provenance,
        }
        if self.options.per_child:
            doc["internal_files"] = {"internal_per_child.csv": INTERNAL_NOTICE}
        return json.dumps(doc, indent=2, sort_keys=True, allow_nan=False) + "\n"

    def to_text(self) -> str:
        """The readable summary ``riskcalc ledger`` prints."""
        return text_summary(self)


class _Steps:
    def __init__(self, enabled: bool):
        self.enabled, self.t0 = enabled, time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.enabled:
            print(
                f"[{time.perf_counter() - self.t0:6.1f} s] {message}", file=sys.stderr, flush=True
            )


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


def _scenario_list(names: tuple[str, ...] | None):
    """The scenarios to measure (built-in ones, by name) and the main one's name."""
    from .scenarios import load_scenarios

    known = {s.name: s for s in load_scenarios()}
    if names is None:
        return list(known.values()), MAIN_SCENARIO if MAIN_SCENARIO in known else next(iter(known))
    chosen = []
    for name in names:
        if name not in known:
            raise InvalidParameterError(
                f"--scenario: unknown scenario {name!r}; the built-in scenarios are "
                f"{', '.join(known)}."
            )
        if known[name] not in chosen:
            chosen.append(known[name])
    if not chosen:
        raise InvalidParameterError("--scenario names no scenario.")
    return chosen, chosen[0].name


def _panel_columns(scenarios) -> list[str]:
    """The panel columns the job reads: scenario fields, what selects rows, the breakdowns."""
    wanted = [f for s in scenarios for f in s.fields] + ["nc_year", "la_code", *BY]
    return list(dict.fromkeys(wanted))


def synthetic_panel(n_pupils: int, seed: int, scenarios) -> pd.DataFrame:
    """The default panel: ``n_pupils`` in the first spring census, 2006/07-2015/16."""
    import synthetic

    return synthetic.generate_panel(
        n_pupils,
        first_year=FIRST_YEAR,
        years=N_YEARS,
        rng=seed,
        columns=[c for c in _panel_columns(scenarios) if c in synthetic.panel_columns()],
    )


def read_panel(path: str, scenarios) -> pd.DataFrame:
    """A user's panel file (read as ``riskcalc analyse`` reads files: every column as text,
    ``academic_year`` as a number), with the columns the job needs (those present)."""
    from .._core.io import read_table

    table = read_table(path, numeric=("academic_year",))
    names = [str(c) for c in table.column_names]
    for need in ("pupil_id", "academic_year"):
        if need not in names:
            raise MissingColumnError(
                f"The panel file {str(path)!r} has no column {need!r} (one row per pupil per "
                "census: pupil_id, academic_year, the fields released)."
            )
    keep = ["pupil_id", "academic_year"] + (["census"] if "census" in names else [])
    keep += [c for c in _panel_columns(scenarios) if c in names and c not in keep]
    frame = table.select(keep).to_pandas()
    if not len(frame):
        raise DataFileError(f"The panel file {str(path)!r} has no records (only a header line).")
    year = pd.to_numeric(frame["academic_year"], errors="coerce")
    bad = year.isna() | (year != year.round())
    if bad.any():
        line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise DataFileError(
            f"The panel file {str(path)!r}, line {line}, column 'academic_year': must be a whole "
            "number (the year the academic year starts in: 2013 for 2013/14)."
        )
    frame["academic_year"] = year.astype(np.int64)
    return frame


def _usable_scenarios(scenarios, main: str, panel: pd.DataFrame, asked: bool):
    """On a user's panel: the scenarios whose fields it holds (every asked one must be)."""
    cols = set(panel.columns)
    ok = [s for s in scenarios if set(s.fields) <= cols]
    missing = [s for s in scenarios if s not in ok]
    if asked and missing:
        s = missing[0]
        field_ = next(f for f in s.fields if f not in cols)
        raise MissingColumnError(
            f"--scenario {s.name}: the panel has no column {field_!r} (a field of the scenario)."
        )
    if not ok:
        raise MissingColumnError(
            "The panel holds the fields of no built-in scenario (e.g. school_gate: "
            "urn, nc_year, sex, year_of_birth, month_of_birth)."
        )
    names = [s.name for s in ok]
    return ok, (main if main in names else names[0]), [s.name for s in missing]


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def headline_row(res, scenario) -> dict[str, Any]:
    """One row of the headline table from a :class:`~riskcalc.LedgerExposureResult`."""
    row: dict[str, Any] = {
        "scenario": res.scenario,
        "fields": ", ".join(scenario.fields),
        "n_children": res.n_children,
        "n_recipients": res.n_recipients,
        "n_releases": res.n_releases,
        "n_aggregate": res.n_aggregate,
        "n_empty": res.n_empty,
        "median": res.median,
        "p90": res.p90,
    }
    for k, n, s in zip(res.thresholds, res.n_at_least, res.share_at_least, strict=True):
        row[f"n_at_least_{k}"] = n
        row[f"share_at_least_{k}"] = s
    # the upper bound: every recipient's record sets linked as if they shared a reference
    row["median_linked"] = res.median_linked
    row["p90_linked"] = res.p90_linked
    for k, n, s in zip(
        res.thresholds, res.n_at_least_linked, res.share_at_least_linked, strict=True
    ):
        row[f"n_at_least_linked_{k}"] = n
        row[f"share_at_least_linked_{k}"] = s
    return row


def recipient_table(per_recipient: pd.DataFrame) -> pd.DataFrame:
    """Recipients, most children singled out first (ties by name)."""
    return per_recipient.sort_values(
        ["n_singled_out", "recipient"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def distribution(exposure: np.ndarray, *, min_count: int = 0) -> pd.DataFrame:
    """Children per number of recipients singling them out, in :data:`BINS`.

    With ``min_count`` > 0 (a user's panel) a bin of 1 to ``min_count - 1`` children is merged
    into the bin below it (the first bin into the one above), again until every bin holds none
    or at least ``min_count`` children (or one bin is left)."""
    x = np.asarray(exposure)
    n = len(x)
    rows: list[list[Any]] = []
    for _, lo, hi in BINS:
        inside = (x >= lo) if hi is None else ((x >= lo) & (x <= hi))
        rows.append([lo, hi, int(np.count_nonzero(inside))])
    while min_count > 0 and len(rows) > 1:
        small = [i for i, r in enumerate(rows) if 0 < r[2] < min_count]
        if not small:
            break
        i = small[0]
        j = i - 1 if i > 0 else 1
        a, b = sorted((i, j))
        rows[a] = [rows[a][0], rows[b][1], rows[a][2] + rows[b][2]]
        del rows[b]
    labels = [
        f"{lo}+" if hi is None else (str(lo) if lo == hi else f"{lo}-{hi}") for lo, hi, _ in rows
    ]
    frame = pd.DataFrame(
        {
            "n_recipients": labels,
            "lowest": [r[0] for r in rows],
            "highest": pd.array([r[1] for r in rows], dtype="Int64"),
            "n_children": [r[2] for r in rows],
        }
    )
    frame["share"] = frame["n_children"] / n if n else np.nan
    return frame


def _level_name(count_col: str) -> str:
    """``n_at_least_5`` -> "at least 5"; ``n_at_least_linked_5`` -> "at least 5 if linked"."""
    k = count_col.rsplit("_", 1)[1]
    return f"at least {k} if linked" if "_linked_" in count_col else f"at least {k}"


def protect_breakdown(by: pd.DataFrame, thresholds, t: int) -> pd.DataFrame:
    """The breakdown of a user's panel with its small cells withheld (module notes): figures
    of cells under ``t`` children, counts (and their shares) whose number or complement is
    1..t-1, and the next smallest cell of a field with one withheld cell. Withheld figures are
    missing (empty in CSV); ``withheld`` says what was withheld and why."""
    if not len(by):
        return by.assign(withheld=pd.Series(dtype=str))
    out = by.copy()
    n = out["n_children"].to_numpy(dtype=np.int64)
    reason = [""] * len(out)
    # every count column, the unjoined and the linked bounds alike, with its share
    levels = [
        (f"n_at_least{kind}_{k}", f"share_at_least{kind}_{k}")
        for kind in ("", "_linked")
        for k in thresholds
        if f"n_at_least{kind}_{k}" in by.columns
    ]
    # fail closed: a small cell withholds every figure, including columns added later
    stats = [
        c
        for c in by.columns
        if c not in ("field", "value") and c not in {x for p in levels for x in p}
    ]
    small = n < t
    out = out.reset_index(drop=True)
    by = by.reset_index(drop=True)
    for col in out.columns:
        if col not in ("field", "value"):
            out[col] = out[col].astype("Float64")
    # primary: cells under t children show nothing
    for i in np.flatnonzero(small):
        reason[i] = f"fewer than {t} children"
    # secondary: a field with one withheld cell loses its next smallest cell too
    for _, idx in out.groupby("field", sort=False).indices.items():
        idx = np.asarray(idx)
        hidden = idx[small[idx]]
        if len(hidden) == 1 and len(idx) > 1:
            others = idx[~small[idx]]
            j = others[np.lexsort((others, n[others]))[0]]
            small[j] = True
            reason[j] = "withheld so that a smaller cell cannot be worked out from the total"
    out.loc[small, stats + [c for pair in levels for c in pair]] = pd.NA
    # levels: a count (or its complement) of 1..t-1 children is withheld with its share
    for count_col, share_col in levels:
        c = by[count_col].to_numpy(dtype=np.int64)
        risky = ~small & (((c > 0) & (c < t)) | ((n - c > 0) & (n - c < t)))
        out.loc[risky, [count_col, share_col]] = pd.NA
        for i in np.flatnonzero(risky):
            note = f"{_level_name(count_col)}: count or its complement below {t}"
            reason[i] = f"{reason[i]}; {note}" if reason[i] else note
    # and per level, as per cell: a field with one withheld count loses its next smallest count
    # (the field's counts add up to the panel's, printed in the headline)
    groups = list(out.groupby("field", sort=False).indices.values())
    for count_col, share_col in levels:
        hidden = out[count_col].isna().to_numpy()
        c = by[count_col].to_numpy(dtype=np.int64)
        for idx in groups:
            idx = np.asarray(idx)
            if hidden[idx].sum() == 1 and len(idx) > 1:
                others = idx[~hidden[idx]]
                j = others[np.lexsort((others, c[others]))[0]]
                out.loc[out.index[j], [count_col, share_col]] = pd.NA
                note = (
                    f"{_level_name(count_col)}: withheld so that a smaller count cannot be "
                    "worked out"
                )
                reason[j] = f"{reason[j]}; {note}" if reason[j] else note
    out["withheld"] = reason
    return out


# ---------------------------------------------------------------------------------------------
# The job
# ---------------------------------------------------------------------------------------------


def ledger_job(**options) -> LedgerJobResult:
    """Measure a release ledger on a panel: headline per scenario, then the main scenario's
    recipients, distribution, breakdowns, timeline, policies and collusion (and the report).

    ``options`` are the fields of :class:`LedgerOptions` (an unknown name is a ``TypeError``).
    """
    return run_ledger(LedgerOptions(**options))


def run_ledger(options: LedgerOptions) -> LedgerJobResult:
    """:func:`ledger_job` on its parameters in one record."""
    import riskcalc as rc

    from .exposure import check_thresholds
    from .ledger import read_ledger

    step = _Steps(options.progress)
    thr = check_thresholds(list(options.thresholds), "ledger_job")
    scenarios, main = _scenario_list(options.scenarios)
    notes: list[str] = []
    inputs: list[dict] = []
    # the ledger
    if options.synthetic_ledger:
        import synthetic

        step(f"synthetic register {options.period} (seed {options.seed})")
        ledger = synthetic.generate_ledger(options.seed, period=options.period)
        ledger_block = {
            "synthetic": True,
            "period": options.period,
            "seed": options.seed,
            "n_releases": len(ledger),
        }
    else:
        ledger_path = str(options.ledger)
        step(f"reading the ledger {Path(ledger_path).name}")
        ledger = read_ledger(ledger_path)
        info = describe_file(ledger_path, len(ledger))
        inputs.append(info)
        ledger_block = {"file": info["source"], "n_releases": len(ledger)}
    if not len(ledger):
        raise DataFileError("The ledger holds no release.")
    # the panel
    quality_doc: dict | None = None  # the data-quality profile of a user's panel
    if options.synthetic_panel:
        step(f"synthetic panel of {options.n_pupils:,} pupils (seed {options.seed})")
        panel = synthetic_panel(options.n_pupils, options.seed, scenarios)
        panel_block = {
            "synthetic": True,
            "n_pupils": options.n_pupils,
            "first_year": FIRST_YEAR,
            "years": N_YEARS,
            "censuses": "spring",
            "seed": options.seed,
        }
        missing_scen: list[str] = []
    else:
        panel_path = str(options.panel)
        step(f"reading the panel {Path(panel_path).name}")
        panel = read_panel(panel_path, scenarios)
        info = describe_file(panel_path, len(panel))
        inputs.append(info)
        panel_block = {"file": info["source"], "n_rows": len(panel)}
        scenarios, main, missing_scen = _usable_scenarios(
            scenarios, main, panel, options.scenarios is not None
        )
        if missing_scen:
            notes.append(
                "Not measured (the panel lacks a field of theirs): " + ", ".join(missing_scen) + "."
            )
        # the data-quality profile of the fields measured: a value written two ways splits a
        # class, so a figure on a messy field is an upper bound (said in the notes and on stderr)
        from .quality import quality_check

        step("profiling the panel")
        measured = sorted({f for s in scenarios for f in s.fields})
        fixed, quality = quality_check(
            panel, measured, normalise_columns=options.normalise, source=Path(panel_path).name
        )
        if fixed is not None and len(fixed.columns):
            # this job's own copy of the panel (the file is not changed)
            panel = panel.assign(**{str(c): fixed[c].to_numpy() for c in fixed.columns})
        quality_doc = quality.to_dict()
        notes.extend(f"Data quality: {line}" for line in _render.quality_lines(quality_doc))
    # the measures
    results = {}
    for s in scenarios:
        step(f"exposure, {s.name}")
        results[s.name] = rc.ledger_exposure(panel, ledger, s, thresholds=thr, by=BY)
    res = results[main]
    main_scenario = next(s for s in scenarios if s.name == main)
    headline = pd.DataFrame([headline_row(results[s.name], s) for s in scenarios])
    t = min_cell()
    recipients = recipient_table(res.per_recipient)
    exposure = res.per_child["n_recipients"].to_numpy()
    dist = distribution(exposure, min_count=0 if options.synthetic_panel else t)
    by = res.by if options.synthetic_panel else protect_breakdown(res.by, thr, t)
    timeline = policies = collusion = breach = None
    if options.timeline:
        step(f"exposure over time, {main}")
        timeline = rc.exposure_over_time(panel, ledger, main_scenario, thresholds=thr).frame
    if options.policies:
        step(f"policies, {main}")
        policies = rc.compare_policies(panel, ledger, main_scenario, thresholds=thr).frame
    if options.collusion:
        step(f"collusion, {main}")
        coll = rc.collusion_exposure(panel, ledger, main_scenario)
        collusion, breach = coll.frame, coll.breach
    notes = _caveats(options, res, panel_block, ledger_block) + notes
    if not options.synthetic_panel and (by["withheld"] != "").any():
        notes.append(
            f"Breakdowns: figures of cells of fewer than {t} children, and counts of 1 to {t - 1} "
            f"children (or that many short of the cell), are withheld (ONS SRS output-checking "
            "threshold, as riskcalc check-output's default), with the next smallest cell of a "
            "field when only one cell is withheld; the column 'withheld' says which and why."
        )
    if not options.synthetic_panel and len(dist) < len(BINS):
        notes.append(
            f"Distribution: bins of 1 to {t - 1} children are merged with the bin below them "
            "(ONS SRS threshold)."
        )
    parameters = {
        "scenarios": [s.name for s in scenarios],
        "main_scenario": main,
        "thresholds": list(thr),
        "top": options.top,
        "per_child": options.per_child,
        "normalise": options.normalise,
        "min_cell": t,
        "sample_seed": 0,
        "ledger": ledger_block,
        "panel": panel_block,
    }
    if options.synthetic_panel:
        import synthetic

        cohort = {
            "seed": options.seed,
            "n_pupils": options.n_pupils,
            "generator_version": synthetic.__version__,
        }
        # a user's ledger on the synthetic panel: the panel is synthetic, the ledger a file
        extra = {"inputs": inputs} if inputs else {}
        prov = provenance("ledger_job", parameters, cohort=cohort, **extra)
    else:
        prov = provenance("ledger_job", parameters, inputs=inputs, data_quality=quality_doc)
    result = LedgerJobResult(
        options=options,
        provenance=prov,
        headline=headline,
        main=res,
        recipients=recipients,
        distribution=dist,
        by=by,
        timeline=timeline,
        policies=policies,
        collusion=collusion,
        breach=breach,
        notes=tuple(notes),
    )
    if options.report:
        step("report")
        from .ledger_report import ledger_report_files

        files = ledger_report_files(result)
        html_text = files.pop("report.html")
        result = _with_report(result, str(html_text), files)
    return result


def _with_report(result: LedgerJobResult, html_text: str, charts: dict) -> LedgerJobResult:
    from dataclasses import replace

    return replace(result, html=html_text, charts=charts)


def _caveats(options: LedgerOptions, res, panel_block: dict, ledger_block: dict) -> list[str]:
    """What the figures are about, and what they are not."""
    out = []
    if options.synthetic_panel:
        out.append(
            f"Synthetic panel: {options.n_pupils:,} pupils in the first census "
            f"({res.n_children:,} children over the spring censuses of {FIRST_YEAR}/"
            f"{(FIRST_YEAR + 1) % 100:02d}-{FIRST_YEAR + N_YEARS - 1}/"
            f"{(FIRST_YEAR + N_YEARS) % 100:02d}, seed {options.seed}), not the national "
            f"population (about {NATIONAL_PUPILS:,} pupils a census): counts are of this panel. "
            "The generator scales schools, postcodes and LSOAs with the panel so their sizes stay "
            "realistic, so shares are comparable across sizes, yet they move with it "
            '(docs/usage.md, "riskcalc ledger", compares 20,000, 50,000 and 100,000 pupils). '
            "No real child."
        )
    if options.synthetic_ledger:
        out.append(
            f"Synthetic register {options.period}: the published tallies of the DfE third-party "
            "register by tier, with assumed recipients, fields and coverage (docs/synthetic.md); "
            "not the register's real releases."
        )
    if res.n_empty:
        out.append(
            f"{res.n_empty:,} record releases hold no child of the panel (their years, LAs or year "
            "groups are outside it): the figures say nothing about them."
        )
    if res.n_aggregate:
        out.append(f"{res.n_aggregate:,} aggregate releases (tables of counts) are not measured.")
    if (res.per_recipient["n_unjoined"] > 0).any():
        out.append(
            "Record sets without a shared pupil reference are counted both ways: unjoined (the "
            "count, a lower bound) and all linked as if they shared one ('if linked', an upper "
            "bound); 'link rate' is the share of the children held in two or more of a "
            "recipient's record sets that exact matching on the fields they share links "
            "correctly, not a probability for one child."
        )
    out.append(
        "Singled out is unique on the scenario's exact fields (k = 1): not a confirmed "
        "re-identification; the intruder is assumed to know those fields at every census."
    )
    return out


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------


def _levels_text(row, thresholds) -> dict[str, str]:
    n = int(row["n_children"])
    return {f">= {k} recipients": fmt.count_pct(int(row[f"n_at_least_{k}"]), n) for k in thresholds}


def headline_display(headline: pd.DataFrame, thresholds) -> pd.DataFrame:
    """The headline for people: one row per scenario, counts with shares."""
    rows = []
    for _, r in headline.iterrows():
        rows.append(
            {
                "scenario": r["scenario"],
                "children": f"{int(r['n_children']):,}",
                "median": f"{r['median']:g}",
                "p90": f"{r['p90']:g}",
                **_levels_text(r, thresholds),
                "if linked: " + " / ".join(f">= {k}" for k in thresholds): " / ".join(
                    fmt.pct(float(r[f"share_at_least_linked_{k}"])) for k in thresholds
                ),
            }
        )
    return pd.DataFrame(rows)


def recipients_display(recipients: pd.DataFrame, top: int) -> pd.DataFrame:
    head = recipients.head(top)
    return pd.DataFrame(
        {
            "recipient": head["recipient"],
            "type": head["recipient_type"],
            "releases": head["n_releases"].map(lambda v: f"{int(v):,}"),
            "record sets": head["n_record_sets"].map(lambda v: f"{int(v):,}"),
            "children held": head["n_held"].map(lambda v: f"{int(v):,}"),
            "singled out": [
                fmt.count_pct(int(a), int(b)) if b else "0"
                for a, b in zip(head["n_singled_out"], head["n_held"], strict=True)
            ],
            "if linked": head["n_singled_out_linked"].map(lambda v: f"{int(v):,}"),
            "link rate": head["link_rate"].map(lambda v: "-" if pd.isna(v) else fmt.pct(v)),
        }
    )


def text_summary(result: LedgerJobResult) -> str:
    o, res = result.options, result.main
    thr = res.thresholds
    from .._provenance import code_identity

    ledger = (
        f"synthetic register {o.period} (seed {o.seed})"
        if o.synthetic_ledger
        else Path(str(o.ledger)).name
    )
    panel = (
        f"synthetic panel of {o.n_pupils:,} pupils (seed {o.seed})"
        if o.synthetic_panel
        else Path(str(o.panel)).name
    )
    lines = [
        f"riskcalc {code_identity(result.provenance)} - ledger: {ledger} on {panel}",
        f"{res.n_releases:,} releases to {res.n_recipients:,} recipients; {res.n_children:,} "
        "children. Children singled out by at least 1, 5, 20 recipients, per scenario:",
        "",
        _render.to_text(headline_display(result.headline, thr)).rstrip(),
        "",
        f"Recipients singling out most children ({res.scenario}, top "
        f"{min(o.top, len(result.recipients))} of {len(result.recipients):,}):",
        "",
        _render.to_text(recipients_display(result.recipients, o.top)).rstrip(),
    ]
    if result.timeline is not None and len(result.timeline):
        last = result.timeline.iloc[-1]
        lines += [
            "",
            f"Over time ({res.scenario}): by the end of {int(last['year'])}, "
            + ", ".join(
                f">= {k}: {fmt.count_pct(int(last[f'n_at_least_{k}']), res.n_children)}"
                for k in thr
            )
            + ".",
        ]
    if result.policies is not None and len(result.policies):
        p = result.policies
        lines += ["", f"Policies ({res.scenario}): children singled out by at least {thr[0]}:"]
        for _, r in p.iterrows():
            lines.append(
                f"  {r['policy']}: {fmt.count_pct(int(r[f'n_at_least_{thr[0]}']), res.n_children)}"
                + (
                    f", {int(r['n_children_saved']):,} children no longer singled out by anyone"
                    if r["policy"] != "as released"
                    else ""
                )
            )
    if result.collusion is not None and len(result.collusion):
        c = result.collusion.iloc[-1]
        lines += [
            "",
            f"Collusion ({res.scenario}): all recipients pooled single out "
            f"{fmt.count_pct(int(c['n_singled_out']), res.n_children)}.",
        ]
    lines += [""] + [f"note: {n}" for n in result.notes]
    return "\n".join(lines) + "\n"
