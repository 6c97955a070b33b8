"""The main job behind ``riskcalc tiers`` and ``riskcalc report``: tables, report, files."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .._lazy import lazy_module
from .._memory import fit_address_space_limit, imports_done, return_free_memory
from .._outputs import MANIFEST
from .._provenance import describe_file
from ..exceptions import DataFileError, EmptyTableError, InvalidParameterError

if TYPE_CHECKING:
    import pandas as pd

    from .attack import AttackExperiment
    from .background import Background
    from .coarsening import CoarseningResult
    from .history import HistorySection
    from .scenarios import Scenarios
    from .tables import RiskTable
else:
    # The tiers job starts its cohort's worker processes before it imports pandas, pyarrow and
    # the measures (:func:`tiers_job`): this module imports them where they are used.
    pd = lazy_module("pandas")

#: Fields of the lattice and the staircase: the scenarios' fields present in the extract.
LATTICE_MAX_SIZE = 3


@dataclass(frozen=True)
class TiersOptions:
    """The parameters of the main job (:func:`tiers_job`), in one frozen record.

    ``n_pupils`` and ``seed`` make the synthetic cohort; ``scenarios`` the intruder scenarios
    (default: the built-in ones). With ``report`` the job adds the HTML report and its
    sections: the what-if comparison (``what_if``), the smallest coarsening for ``target_k``
    (within ``max_suppressed``), the longitudinal section (``history``, on a panel of
    ``history_pupils``, default ``HISTORY_PUPILS``) and the simulated linkage attack
    (``attack``, on a cohort of ``attack_pupils``, default ``ATTACK_PUPILS``). ``progress``
    prints the stages on standard error.
    """

    n_pupils: int
    seed: int | None = 0
    scenarios: Scenarios = None
    report: bool = True
    what_if: bool = True
    target_k: int | None = None
    max_suppressed: float = 0.01
    progress: bool = False
    history: bool = True
    history_pupils: int | None = None
    attack: bool = False
    attack_pupils: int | None = None

    @property
    def history_size(self) -> int:
        """Pupils in the longitudinal section's panel."""
        from .history import HISTORY_PUPILS

        return HISTORY_PUPILS if self.history_pupils is None else int(self.history_pupils)

    @property
    def attack_size(self) -> int:
        """Pupils in the linkage attack's cohort."""
        from .attack import ATTACK_PUPILS

        return ATTACK_PUPILS if self.attack_pupils is None else int(self.attack_pupils)


@dataclass
class JobResult:
    """The table and everything written with it: one field per section of the job.

    ``html`` and ``charts`` are the HTML report and its chart files (``report`` jobs);
    ``what_if`` the what-if comparison, ``coarsening`` the smallest coarsening
    (:class:`~riskcalc.release.coarsening.CoarseningResult`), ``history`` the longitudinal
    section (:class:`~riskcalc.release.history.HistorySection`), ``attack`` the simulated
    linkage attack (:class:`~riskcalc.release.attack.AttackExperiment`), each ``None`` when
    not asked for; ``problems`` the data-quality findings and ``not_measured`` the sentence
    naming the scenarios no extract holds (``report`` on the user's files, else empty).
    """

    table: RiskTable
    html: str | None = None
    charts: dict[str, str | bytes] = field(default_factory=dict)
    what_if: pd.DataFrame | None = None
    coarsening: CoarseningResult | None = None
    history: HistorySection | None = None
    attack: AttackExperiment | None = None
    problems: list[str] = field(default_factory=list)
    not_measured: str = ""

    def files(self) -> dict[str, str | bytes]:
        t = self.table
        out: dict[str, str | bytes] = {
            f"tier_table_{name}.csv": text for name, text in t.to_csv().items()
        }
        out["tier_table.json"] = t.to_json()
        out["tier_table.md"] = t.to_markdown()
        out["tier_table.tex"] = t.to_latex()
        from .. import _render

        if self.what_if is not None:
            out["what_if.csv"] = _render.to_csv(self.what_if)
        if self.coarsening is not None:
            out["smallest_coarsening.csv"] = _render.to_csv(coarsening_frame(self.coarsening))
        if self.history is not None:
            out["history.csv"] = _render.to_csv(self.history.to_frame())
        if self.attack is not None:  # the simulated linkage attack (tiers --attack)
            out.update({k: v for k, v in self.attack.files().items() if k.endswith(".csv")})
        if self.html is not None:
            out["report.html"] = self.html
        out.update(self.charts)
        return out


def coarsening_frame(found) -> pd.DataFrame:
    """The smallest coarsening as a table: one row per scenario with the fields coarsened, k
    after coarsening (measured before any suppression) and the pupils still below the target."""
    levels = found.describe()
    frame = found.result.copy()
    frame.insert(0, "target_k", found.target_k)
    frame.insert(1, "coarsening", levels)
    return frame


def describe_coarsening(found) -> str:
    """One plain sentence about the smallest coarsening found (printed by the CLI)."""
    levels = found.describe() if found.coarsening else "no coarsening"
    worst = int(found.result["below_target"].max()) if len(found.result) else 0
    return (
        f"smallest coarsening for k = {found.target_k} ({found.steps} ladder steps): {levels}; "
        f"k is measured before suppression: at most {worst:,} pupils per scenario stay below "
        f"{found.target_k} and would be suppressed (budget {found.max_suppressed:.1%})"
    )


class _Steps:
    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.t0 = time.perf_counter()

    def __call__(self, message: str) -> None:
        return_free_memory()  # a stage boundary: what the last stage freed goes back to the system
        if self.enabled:
            print(
                f"[{time.perf_counter() - self.t0:6.1f} s] {message}", file=sys.stderr, flush=True
            )


def _scenario_fields(scenarios, columns) -> list[str]:
    """The scenarios' fields present in an extract, direct identifiers (names, UPN) left out:
    they single out every pupil by themselves and belong in no combination search."""
    import synthetic

    present, direct = {str(c) for c in columns}, set(synthetic.direct_identifiers())
    return list(
        dict.fromkeys(f for s in scenarios for f in s.fields if f in present and f not in direct)
    )


def _extras(
    table: RiskTable, extracts: dict, step, encoded=None
) -> tuple[dict, tuple[str, pd.DataFrame] | None]:
    """The minimal identifying combinations per extract and the staircase of the first.

    Extracts whose scenario fields are nested (the tiers of one cohort: tier 1's fields hold
    tier 2's, which hold tier 4's) share one lattice on the largest field set, computed once on
    ``encoded`` (an encoding of the pupils they share) when given.
    """
    from ..lattice import field_lattice
    from .combinations import uniqueness_staircase
    from .report import identifying_combinations

    fields_of = {
        label: _scenario_fields(table.scenarios, _columns_of(extract))
        for label, extract in extracts.items()
    }
    fields_of = {label: f for label, f in fields_of.items() if f}
    identifying = {}
    shared = encoded is not None
    if shared:
        widest = max(fields_of.values(), key=len, default=[])
        shared = all(set(f) <= set(widest) for f in fields_of.values())
    if shared and widest:
        step(f"lattice of {len(widest)} fields, shared by {len(fields_of)} extracts")
        lattice = field_lattice(
            encoded, widest, max_size=min(LATTICE_MAX_SIZE, len(widest)), thresholds=[1, 4]
        )
        for label, fields in fields_of.items():
            identifying[label] = identifying_combinations(lattice, fields)
    else:
        for label, fields in fields_of.items():
            step(f"lattice of {len(fields)} fields, {label}")
            lattice = field_lattice(
                extracts[label],
                fields,
                max_size=min(LATTICE_MAX_SIZE, len(fields)),
                thresholds=[1, 4],
            )
            identifying[label] = identifying_combinations(lattice, fields)
    if not fields_of:
        return identifying, None
    label, fields = next(iter(fields_of.items()))
    step(f"uniqueness staircase, {label}")
    # Its first steps (up to the lattice's size) are read off the shared lattice.
    stairs = uniqueness_staircase(
        encoded if shared else extracts[label],
        fields,
        lattice=lattice if shared and widest else None,
    )
    return identifying, (f"tier {label}" if shared else str(label), stairs)


def _columns_of(extract) -> list[str]:
    """An extract's columns: a frame's, or those an encoding holds."""
    return [str(c) for c in extract.columns]


def _report(result: JobResult, table: RiskTable, **kwargs) -> None:
    """The HTML report and its charts (PNG and SVG files) into ``result``."""
    from .report import report_files

    files = report_files(table, **kwargs)
    result.html = files.pop("report.html")
    result.charts = files


class _EarlyCharts:
    """The report's charts drawn on the worker process as soon as their data is ready (the
    tier chart after the tier table, the staircase after the lattice, ...), so that this
    process draws none and never imports matplotlib; the report then collects them.

    ``render_all`` has the signature of :func:`riskcalc.release.report.chart_images`' argument:
    a chart drawn early is used when the report asks for the same builder on the same objects,
    any other is drawn on the worker then (or here, when there is no worker)."""

    def __init__(self, background: Background):
        self.background = background
        self.drawn: dict[str, tuple] = {}

    def draw(self, specs: dict) -> None:
        from .report import draw_chart

        for name, spec in specs.items():
            if name not in self.drawn:
                self.drawn[name] = (spec, self.background.submit(draw_chart, spec))

    def draw_on(self, name: str, earlier, builder, *args) -> None:
        """Draw chart ``name``, ``builder(value, *args)``, on the value of ``earlier`` (work the
        worker keeps, :meth:`Background.keep`) as soon as the worker has it: the chart does not
        wait for the value to come to this process and be asked for."""
        if name not in self.drawn:
            self.drawn[name] = (
                (builder, (earlier, *args)),
                self.background.then(earlier, _draw_on, builder, args),
            )

    def render_all(self, draw, specs) -> list:
        pending = []
        for spec in specs:
            early = next(
                (result for drawn, result in self.drawn.values() if _same_chart(drawn, spec)), None
            )
            pending.append(early or self.background.submit(draw, spec))
        return [result() for result in pending]


def _draw_on(value, builder, args: tuple):
    """The PNG and SVG of ``builder(value, *args)`` (run where ``value`` is: :meth:`_EarlyCharts.draw_on`)."""
    from .report import draw_chart

    return draw_chart((builder, (value, *args)))


def _same_chart(a: tuple, b: tuple) -> bool:
    """Whether two chart specs draw the same chart: one builder, the same data objects (labels,
    being strings, may be equal copies; a background result stands for its value)."""
    from .background import Result

    (builder_a, args_a), (builder_b, args_b) = a, b
    return (
        builder_a is builder_b
        and len(args_a) == len(args_b)
        and all(
            x is y
            or (isinstance(x, str) and x == y)
            or (isinstance(x, Result) and x.ready() and x() is y)
            for x, y in zip(args_a, args_b)
        )
    )


def tiers_job(n_pupils, seed, **options) -> JobResult:
    """Generate a cohort, build the tier table and (optionally) the HTML report.

    ``options`` are the other fields of :class:`TiersOptions` (an unknown name is a
    ``TypeError``). With ``report`` and ``history`` (the default), the report gains the
    longitudinal section (:func:`riskcalc.release.history.history_section` on a synthetic panel
    of ``history_pupils`` pupils, default ``HISTORY_PUPILS`` = 50,000, five spring censuses, the
    same seed): :attr:`JobResult.history`, ``history.csv``, its chart and the panel's seed and
    size in the provenance. With ``report`` and ``attack`` (off by default: it adds about a
    minute), the report gains the simulated linkage attack on a cohort of ``attack_pupils``
    pupils (default ``ATTACK_PUPILS`` = 20,000, same seed) and the ``attack_*.csv`` tables."""
    return run_tiers(TiersOptions(n_pupils, seed, **options))


def run_tiers(options: TiersOptions) -> JobResult:
    """:func:`tiers_job` on its parameters in one record."""
    import synthetic

    from .scenarios import load_scenarios

    fit_address_space_limit()  # under ulimit -v: the space needed depends on the data alone
    step = _Steps(options.progress)
    # The cohort first: its worker processes need numpy alone, so they generate the LA chunks
    # while this process imports pandas, pyarrow and the measures (about a second on one core)
    # and forks its background worker, which inherits those imports.
    step(f"generating {options.n_pupils:,} synthetic pupils (seed {options.seed})")
    pending = synthetic.start_cohort(
        options.n_pupils,
        rng=options.seed,
        columns=_cohort_columns(load_scenarios(options.scenarios)),
    )
    try:
        from .background import Background

        _import_job_modules()

        with Background() as background:
            return _tiers_job(background, pending, step, options)
    finally:
        pending.cancel()  # workers still running only if the job failed before collecting them


def _import_job_modules() -> None:
    """Import what the job and its background worker run (pandas, pyarrow, the measures, the
    report) here, before the worker is forked, so that it inherits them instead of importing
    them again."""
    from . import coarsening, history, report, tables  # noqa: F401

    imports_done()


def _cohort_columns(scenarios) -> list[str]:
    """The cohort fields the main job generates: all but the direct identifiers (UPN, names,
    pupil and family ids) that no scenario names. They are the cohort's largest columns, and
    the last ones generated: not asking for them saves about a tenth of the generation. (The
    tables read a direct identifier only when a scenario names it: projections and the
    sensitive fields hold none, which ``tests/test_tiers.py`` checks against
    :func:`~riskcalc.release.tables.cohort_fields`.)"""
    import synthetic

    named = {f for s in scenarios for f in s.fields}
    direct = set(synthetic.direct_identifiers()) - named
    return [f for f in synthetic.FIELD_NAMES if f not in direct]


def _tiers_job(background, pending, step, options: TiersOptions) -> JobResult:
    import synthetic

    from .._core.encoding import encode
    from . import coarsening as _coarsening
    from .history import history_section
    from .report import chart_specs, preload_charting
    from .tables import cohort_fields, tier_risk_table

    scenarios, report = options.scenarios, options.report
    # The school-history panel needs nothing from the cohort: it runs on the other core while
    # the cohort's workers finish, and the worker keeps it for its chart; then matplotlib is
    # loaded there for the charts it will draw.
    section_of = (
        background.keep(history_section, options.history_size, options.seed, years=5)
        if report and options.history
        else None
    )
    if report and background.forked:
        background.submit(preload_charting)
    read = cohort_fields(synthetic.FIELD_NAMES, scenarios)
    cohort = pending.result()
    _check_measurable(scenarios, cohort.columns)
    step("encoding")
    encoded = encode(cohort, read)
    # The sections the table's provenance records come first: the provenance is complete when
    # the table is built, and never changes after.
    sections = _Sections()
    if report:
        sections = _provenance_sections(options, cohort, section_of, background, step)
    step("tier table")
    table = tier_risk_table(
        cohort,
        scenarios=scenarios,
        encoded=encoded,
        provenance=sections.provenance(options) if report else None,
    )
    _check_measurable(scenarios, cohort.columns, table)
    result = JobResult(table)
    if not report:
        return result
    charts = _EarlyCharts(background) if background.forked else None
    if charts is not None:  # the history chart too when the section is done
        charts.draw(chart_specs(table))
        if section_of is not None:
            from .report import chart_history

            charts.draw_on("chart_history", section_of, chart_history, table.provenance)
    if options.what_if:  # before the lattice, so that its chart is drawn meanwhile
        step("what-if coarsening")
        result.what_if = _coarsening.what_if(cohort, scenarios=scenarios, before=table)
        if charts is not None:
            charts.draw(chart_specs(table, what_if=result.what_if))
    extracts = {t: pd.DataFrame(columns=list(synthetic.columns_for_tier(t))) for t in (1, 2, 4)}
    identifying, stairs = _extras(table, extracts, step, encoded=encoded)
    if charts is not None:
        charts.draw(chart_specs(table, staircase=stairs))
    result.coarsening, result.history, result.attack = (
        sections.coarsening,
        sections.history,
        sections.attack,
    )
    if charts is not None and result.history is not None:
        charts.draw(chart_specs(table, history=result.history))
    step("HTML report")
    _report(
        result,
        table,
        identifying=identifying,
        staircase=stairs,
        what_if=result.what_if,
        coarsening=result.coarsening,
        history=result.history,
        attack=result.attack,
        render_all=charts.render_all if charts is not None else None,
    )
    step("done")
    return result


@dataclass(frozen=True)
class _Sections:
    """The sections of the main job that its table's provenance records."""

    coarsening: CoarseningResult | None = None
    history: HistorySection | None = None
    attack: AttackExperiment | None = None

    def provenance(self, options: TiersOptions) -> dict:
        """The table's provenance entries after the cohort's, in the order the report lists
        them: the what-if coarsening, the smallest coarsening, the history panel, the attack."""
        from .coarsening import DEFAULT_COARSENING

        extra: dict = {}
        if options.what_if:
            extra["what_if_coarsening"] = dict(DEFAULT_COARSENING)
        if self.coarsening is not None:
            extra["smallest_coarsening"] = {
                "target_k": options.target_k,
                "max_suppressed": options.max_suppressed,
                "coarsening": self.coarsening.coarsening,
            }
        if self.history is not None:
            extra["history"] = self.history.provenance()
        if self.attack is not None:
            extra["attack"] = self.attack.provenance["parameters"]
        return extra


def _provenance_sections(options: TiersOptions, cohort, section_of, background, step) -> _Sections:
    """The smallest coarsening, the history section and the linkage attack, as asked for."""
    from .coarsening import smallest_coarsening

    coarsening = history = attack = None
    if options.target_k is not None:
        step(f"smallest coarsening for k = {options.target_k}")
        coarsening = smallest_coarsening(
            cohort,
            options.target_k,
            max_suppressed=options.max_suppressed,
            scenarios=options.scenarios,
        )
    if section_of is not None:
        where = " (computed alongside, on another core)" if background.forked else ""
        step(
            f"school history: synthetic panel of {options.history_size:,} pupils x 5 spring "
            f"censuses{where}"
        )
        history = section_of()
    if options.attack:
        from .attack import attack_experiment

        step(
            f"linkage attack: synthetic cohort of {options.attack_size:,} pupils, "
            "4 intruder profiles x 3 tiers"
        )
        # a seed of None (a fresh cohort) is refused there, in one line naming 'seed'
        attack = attack_experiment(options.attack_size, options.seed)  # type: ignore[arg-type]
    return _Sections(coarsening, history, attack)


def _check_measurable(scenarios, fields, table: RiskTable | None = None) -> None:
    """One line when no scenario has its fields (or a projection of them) in a record-level tier
    of the synthetic cohort (``fields``: its columns), so that the tier table has no row: before
    any work, and again on the ``table`` once built."""
    import synthetic

    from .scenarios import load_scenarios
    from .tables import project_scenario

    scen = load_scenarios(scenarios)
    if table is not None:
        if len(table.records):
            return
    else:
        tiers = [list(synthetic.columns_for_tier(t)) for t in (1, 2, 4)]
        if any(
            s.applies_to(cols) or project_scenario(s.fields, cols) for cols in tiers for s in scen
        ):
            return
    names = ", ".join(s.name for s in scen)
    raise InvalidParameterError(
        f"No scenario ({names}) has all its fields in any record-level tier of the synthetic "
        f"cohort: nothing to measure. Check the field names in --scenarios against "
        f"the cohort's fields: {', '.join(map(str, fields))}."
    )


def _files(path: Path) -> list[Path]:
    """The extract files of ``path`` (a file, or the data files directly in a folder).

    A folder's riskcalc output files (a folder holding a manifest) are not extracts, except the
    extracts ``riskcalc synth`` wrote (its manifest names the command).
    """
    from .._core.io import KNOWN_SUFFIXES, _suffix, file_kind
    from .._outputs import manifest_command

    if path.is_dir():
        if (path / MANIFEST).is_file() and manifest_command(path) != "synth":
            raise DataFileError(
                f"{str(path)!r} is a riskcalc output folder (it holds {MANIFEST}), not a folder of extracts."
            )
        files = sorted(
            p
            for p in path.iterdir()
            if p.is_file() and _suffix(p) in KNOWN_SUFFIXES and not p.name.startswith(".")
        )
        if _is_parquet_dataset(path, files):
            return [path]
        if not files:
            raise DataFileError(f"No CSV, Parquet, Feather or Excel files in {str(path)!r}.")
        return files
    if not path.exists():
        raise DataFileError(f"No such file or folder: {str(path)!r}.")
    file_kind(path)  # an unknown suffix is refused here, as everywhere
    return [path]


def _is_parquet_dataset(path: Path, files: list[Path]) -> bool:
    """Whether a folder is one dataset in Parquet parts (pyarrow's layout, hive partitions
    allowed) rather than a folder of separate extracts. Tier extracts written by
    ``riskcalc synth`` carry the generator's metadata and stay separate extracts."""
    from .._core.io import file_kind, parquet_schema

    if any(p.is_dir() and "=" in p.name for p in path.iterdir()):
        return True
    if not files or any(file_kind(f) != "parquet" for f in files):
        return False
    return not any(b"synthetic" in (parquet_schema(f).metadata or {}) for f in files)


def _labels(files: list[Path]) -> dict[str, Path]:
    """Each file's label: its name without the data suffix; two files may not share one."""
    from .._core.io import stem

    labels: dict[str, Path] = {}
    for file in files:
        label = stem(file)
        if label in labels:
            raise DataFileError(
                f"{labels[label].name!r} and {file.name!r} would both be reported as {label!r}; "
                "rename one of them (each extract is labelled by its file name)."
            )
        labels[label] = file
    return labels


def _with_columns(encoded, replaced):
    """``encoded`` with the columns of ``replaced`` (an encoding of the same records) in their
    place, in the same order."""
    from .._core.codes import EncodedTable

    return EncodedTable(
        {c: replaced[c] if c in replaced.columns else encoded[c] for c in encoded.columns},
        encoded.n_records,
        encoded.index,
        encoded.source,
    )


def measured_columns(columns, scenarios, sensitive=None) -> tuple[list[str], list[str]]:
    """The columns the tier table measures on an extract with ``columns``: the fields of the
    scenarios it holds in full, and the sensitive fields (``sensitive``, else the registry's)
    it holds that are not among them."""
    from .tables import _sensitive_fields

    present = [str(c) for c in columns]
    fields = list(dict.fromkeys(f for s in scenarios if s.applies_to(present) for f in s.fields))
    sens = [
        c
        for c in (sensitive if sensitive is not None else _sensitive_fields(present))
        if c in set(present) and c not in set(fields)
    ]
    return fields, sens


def scenario_coverage(scenarios, columns_of: dict, builtin: bool) -> tuple[str, list[dict]]:
    """Which scenarios no extract holds in full, as one plain sentence (empty when all are
    measured) and a list ``[{"scenario", "missing"}]`` for the provenance."""
    missing = []
    for s in scenarios:
        if any(s.applies_to(cols) for cols in columns_of.values()):
            continue
        lack = [f for f in s.fields if not any(f in set(cols) for cols in columns_of.values())]
        lack = lack or list(s.fields)
        missing.append({"scenario": s.name, "missing": lack})
    if not missing:
        return "", []
    kind = "built-in " if builtin else ""
    lacking = ", ".join(dict.fromkeys(f for m in missing for f in m["missing"]))
    text = (
        f"{len(missing)} of {len(scenarios)} {kind}scenarios not measured ("
        + ", ".join(m["scenario"] for m in missing)
        + f"): no extract holds all their fields (missing: {lacking})"
    )
    return text, missing


def _no_scenario_message(scenarios, columns_of: dict, builtin: bool, inputs=()) -> str:
    """One line when no scenario has all its fields in any extract: the fields they need, and
    the two ways out (``--scenarios FILE``, ``--columns FIELD=COLUMN``)."""
    needed = list(dict.fromkeys(f for s in scenarios for f in s.fields))
    have = set().union(*map(set, columns_of.values())) if columns_of else set()
    lack = [f for f in needed if f not in have]
    kind = "the built-in scenarios" if builtin else "the scenarios"
    where = ", ".join(map(repr, columns_of)) or "the input"
    sheets = [
        f" (read the first sheet, {i['sheet']!r}, of {i['source']!r}: it has {i['sheets']}; --sheet NAME "
        "reads another)"
        for i in inputs
        if i.get("sheets", 1) > 1 and i.get("sheet_chosen") is None
    ]
    return (
        f"No scenario has all its fields in {where}{''.join(sheets[:1])}: {kind} need the columns "
        f"{', '.join(needed)} (missing: {', '.join(lack) or 'none'}). Pass --scenarios FILE naming your own "
        "columns (the shape of riskcalc/data/scenarios.toml), or map your columns onto the fields with "
        "--columns FIELD=COLUMN,... (e.g. --columns sex=Gender,date_of_birth=DOB)."
    )


def _check_mapping_used(mapping: dict, columns_of: dict) -> None:
    """``columns_of``: each extract's columns as written in its file (before the mapping)."""
    from .._validation import missing_column_message
    from ..exceptions import MissingColumnError

    for name, column in mapping.items():
        if not any(column in cols for cols in columns_of.values()):
            label, cols = next(iter(columns_of.items()))
            raise MissingColumnError(
                "--columns "
                + name
                + "="
                + column
                + ": "
                + missing_column_message(column, cols, repr(label))
            )


def measure_extracts(
    extracts,
    aggregates,
    columns_of: dict,
    scen,
    *,
    builtin: bool,
    sensitive,
    inputs,
    qualities,
    normalise: bool,
    mapping: dict,
    before=None,
    after=None,
    shown_inputs=(),
):
    """The tier table of a user's extracts, read and profiled (in memory or on Spark): one line
    when no scenario can be measured, the provenance (inputs, normalisation, the data-quality
    record, the column mapping, ``before`` / ``after`` items such as the engine or the sheet, the
    scenarios not measured), and the :class:`JobResult` carrying the profile's messages."""
    from ..profile import DataQuality
    from .tables import risk_table

    if (
        not any(measured_columns(cols, scen, [])[0] for cols in columns_of.values())
        and not aggregates
    ):
        raise InvalidParameterError(_no_scenario_message(scen, columns_of, builtin, shown_inputs))
    if sensitive:  # a sensitive field no extract holds would be dropped without a word
        from .._validation import check_column_names

        held = sorted({c for cols in columns_of.values() for c in cols})
        check_column_names(
            list(sensitive), held, name="sensitive", func="report", table="the extracts"
        )
    note, not_measured = scenario_coverage(scen, columns_of, builtin) if extracts else ("", [])
    extra = {
        "inputs": inputs,
        "normalise": bool(normalise),
        **(before or {}),
        "data_quality": DataQuality.combine(qualities).to_dict(),
    }
    if mapping:
        extra["columns"] = mapping
    extra.update(after or {})
    if not_measured:
        extra["scenarios_not_measured"] = not_measured
    table = risk_table(
        extracts,
        scenarios=scen,
        aggregates=aggregates or None,
        sensitive=sensitive,
        provenance=extra,
    )
    return table, JobResult(
        table,
        problems=[f["message"] for f in extra["data_quality"]["findings"]],
        not_measured=note,
    )


def report_job(
    path,
    *,
    scenarios=None,
    report=True,
    progress=False,
    sep=None,
    sensitive=None,
    normalise=False,
    sheet=None,
    columns=None,
) -> JobResult:
    """The tier table (and report) of the user's own extract file(s).

    Each record-level extract's measured columns (the fields of the scenarios it holds, and the
    sensitive fields) are profiled first, and its other columns checked for direct identifiers
    (:func:`riskcalc.release.quality.quality_check`); with ``normalise`` the measured columns
    are normalised before measuring (:func:`riskcalc.normalise`). The findings, and the
    normalisation, are recorded in the table's provenance as ``data_quality``; each input's
    record count, size and SHA-256 as ``inputs``. ``sheet`` chooses the sheet of Excel inputs;
    ``columns`` (``{field: column}``) maps the files' column names onto the scenario fields
    (recorded in the provenance).
    """
    from .._core.encoding import encode
    from .._core.io import file_kind, read_table
    from .quality import apply_column_map, quality_check
    from .scenarios import load_scenarios

    fit_address_space_limit()
    step = _Steps(progress)
    mapping = dict(columns or {})
    scen = load_scenarios(scenarios)
    extracts, aggregates, qualities, inputs, columns_of, written = {}, {}, [], [], {}, {}
    files = _files(Path(path))
    excel = [f for f in files if f.is_file() and file_kind(f) == "excel"]
    if sheet is not None and not excel:
        raise DataFileError(f"--sheet applies to Excel workbooks; {str(path)!r} holds none.")
    fields_known = {f for s in scen for f in s.fields} | set(sensitive or ())
    for label, file in _labels(files).items():
        step(f"reading {file.name}")
        table = read_table(
            file, sep=sep, numeric=("count",), sheet=sheet if file in excel else None
        )
        frame = table.to_pandas()
        del table
        if not len(frame):
            raise EmptyTableError(f"The file {str(file)!r} has no records (only a header line).")
        written[label] = [str(c) for c in frame.columns]
        rename = apply_column_map(frame.columns, mapping, fields_known, where=repr(file.name))
        if rename:
            frame = frame.rename(columns=rename)
        columns_of[label] = [str(c) for c in frame.columns]
        info = describe_file(file)
        if file in excel:  # which sheet of how many was read
            from .._core.io import excel_sheet, excel_sheets

            info["sheet"], info["sheets"] = excel_sheet(file, sheet), len(excel_sheets(file))
        if "count" in frame.columns:
            info["n_rows"] = int(len(frame))
            inputs.append(info)
            aggregates[label] = frame
            continue
        info["n_records"] = int(len(frame))
        inputs.append(info)
        fields, sens = measured_columns(frame.columns, scen, sensitive)
        roles = {**{f: "quasi_identifier" for f in fields}, **{c: "sensitive" for c in sens}}
        others = [c for c in columns_of[label] if c not in roles]
        step(f"profiling {file.name}")
        # Encoded once, for every section: the profile, the tier table, the lattice and the
        # staircase (a column --normalise rewrites is encoded again, as the new values it is).
        encoded = encode(frame, columns_of[label])
        del frame
        fixed, quality = quality_check(
            encoded,
            fields + sens,
            roles=roles,
            normalise_columns=normalise,
            source=str(label),
            identifiers=others,
        )
        if fixed is not None and len(fixed.columns):
            encoded = _with_columns(encoded, encode(fixed, [str(c) for c in fixed.columns]))
        qualities.append(quality)
        extracts[label] = encoded
    _check_mapping_used(mapping, written)
    table, result = measure_extracts(
        extracts,
        aggregates,
        {lab: columns_of[lab] for lab in extracts},
        scen,
        builtin=scenarios is None,
        sensitive=sensitive,
        inputs=inputs,
        qualities=qualities,
        normalise=normalise,
        mapping=mapping,
        after={"sheet": sheet} if sheet is not None else {},
        shown_inputs=[{**i, "sheet_chosen": sheet} for i in inputs],
    )
    if report and extracts:
        measured = {
            label: e for label, e in extracts.items() if label in set(table.records["tier"])
        }
        if measured:
            identifying, stairs = _extras(table, measured, step)
            _report(
                result,
                table,
                title="How identifiable are these extracts?",
                identifying=identifying,
                staircase=stairs,
            )
        else:
            _report(result, table, title="How identifiable are these extracts?")
    elif report:
        _report(result, table, title="How identifiable are these extracts?")
    return result
