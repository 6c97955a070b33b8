"""The ``riskcalc`` command line: a thin shell over the library's functions.

Every error a user can cause prints one line on stderr and exits with status 2; nothing prints a
traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib import resources
from pathlib import Path

from . import _render
from ._provenance import code_identity
from ._version import __version__
from .exceptions import RiskCalcError

EXAMPLE_QI = "sex,date_of_birth,postcode"


def _example_path() -> Path:
    return Path(str(resources.files("riskcalc") / "data" / "sample_pupils.csv"))


class UsageError(RiskCalcError, ValueError):
    """A command-line argument that cannot be used as given."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``riskcalc CMD: error: ... (see riskcalc CMD --help)``,
    without the usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _split_names(text: str | None, option: str) -> list[str]:
    if text is None:
        return []
    names = [t.strip() for t in text.split(",")]
    if any(not n for n in names):
        raise UsageError(f"{option} takes comma-separated column names; got {text!r}.")
    return names


def _split_ints(text: str, option: str) -> list[int]:
    """Comma-separated whole numbers, each at least 1."""
    out = []
    for part in text.split(","):
        part = part.strip()
        try:
            out.append(int(part))
        except ValueError:
            raise UsageError(
                f"{option} takes comma-separated whole numbers; got {part!r}."
            ) from None
        if out[-1] < 1:
            raise UsageError(f"{option} takes whole numbers of at least 1; got {out[-1]}.")
    return out


# ---------------------------------------------------------------------------------------------
# analyse
# ---------------------------------------------------------------------------------------------


def _configure_analyse(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", help="CSV, TSV, Parquet or Feather file of records")
    p.add_argument(
        "--example",
        action="store_true",
        help="analyse the small synthetic sample that ships with riskcalc",
    )
    p.add_argument(
        "--qi",
        help="comma-separated quasi-identifier columns"
        + f" (with --example, default {EXAMPLE_QI})",
    )
    p.add_argument(
        "--weights",
        metavar="COL",
        help="column of sampling weights (adds Fk rows and the individual risk)",
    )
    p.add_argument(
        "--thresholds",
        default="2,3,5,10",
        help="k thresholds t: records in classes with fk < t (default 2,3,5,10)",
    )
    p.add_argument(
        "--count-thresholds",
        default="1,2,3,5,10",
        help="small-cell thresholds t: cells with 0 < count <= t (default 1,2,3,5,10)",
    )
    p.add_argument(
        "--missing",
        default="category",
        choices=["category", "raise", "wildcard"],
        help="missing values: a value of their own (category, default), an error (raise), or matching anything (wildcard, sdcMicro)",
    )
    p.add_argument(
        "--alpha",
        type=float,
        default=1.0,
        help="with --missing wildcard: weight of a match through a missing value (default 1)",
    )
    p.add_argument(
        "--risk-threshold",
        type=float,
        default=0.2,
        help="highest acceptable risk of one record, for records at risk (default 0.2)",
    )
    p.add_argument(
        "--population",
        metavar="FILE",
        help="population table the extract was drawn from (journalist and marketer risk)",
    )
    p.add_argument(
        "--sampling-fraction",
        type=float,
        help="the extract is a sample of this fraction of a population: estimate population uniqueness",
    )
    p.add_argument(
        "--population-size", type=int, help="size of the population the extract was sampled from"
    )
    p.add_argument(
        "--population-method",
        default="auto",
        choices=["auto", "forest", "dankar", "pitman", "zayatz", "snb", "loglinear"],
        help="population-uniqueness estimator (default auto: the forest model, with an interval)",
    )
    p.add_argument(
        "--household",
        metavar="COL",
        help="household / sibling-group id column, for the household risk (needs --weights)",
    )
    p.add_argument(
        "--risk-method",
        default="approx",
        choices=["approx", "exact"],
        help="individual-risk method (default approx)",
    )
    p.add_argument(
        "--sensitive",
        metavar="COLS",
        help="comma-separated sensitive columns: attribute disclosure",
    )
    p.add_argument("--sep", help="CSV delimiter (guessed from the header by default)")
    _add_sheet_option(p)
    _add_normalise_option(p)
    _add_output_options(p)
    _add_engine_options(p)
    p.set_defaults(func=_run_analyse)


def _add_sheet_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sheet",
        metavar="NAME|NUMBER",
        help="the sheet of an Excel workbook to read: its name, or its number counting from 1 "
        "(default: the first sheet)",
    )


def _add_normalise_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--normalise",
        action="store_true",
        help="unify the spellings of each value before measuring: case and spaces, numbers, UK "
        "postcodes (DL10NG -> DL1 0NG), year groups (Year 5, Y5 -> 5), sex codes, dates (-> ISO, "
        "day first); each rule is reported and recorded in the provenance, the file is not changed",
    )


def _add_engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        default="memory",
        choices=["memory", "spark"],
        help="where to compute: in memory (default) or on Spark, for Parquet datasets too big for "
        "memory (the active session, else local mode; needs riskcalc[spark])",
    )
    p.add_argument(
        "--spark-master",
        metavar="URL",
        help="with --engine spark: the Spark master (default: the active session, else local[*])",
    )


def _engine(args, memory_function, spark_name: str):
    """The job function for ``--engine``: the in-memory one, or its Spark twin."""
    if getattr(args, "engine", "memory") != "spark":
        if getattr(args, "spark_master", None):
            raise UsageError("--spark-master needs --engine spark.")
        return memory_function
    import functools

    from .release import spark_job

    return functools.partial(getattr(spark_job, spark_name), spark_master=args.spark_master)


def _add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format", default="text", choices=_render.FORMATS, help="output format (default text)"
    )
    p.add_argument(
        "--out", metavar="FILE", help="write the table to FILE (atomically) instead of stdout"
    )
    p.add_argument("--force", action="store_true", help="replace --out if it exists")


def _run_analyse(args: argparse.Namespace) -> int:
    from .release import analyse as _analyse

    if args.example and args.file:
        raise UsageError("give either FILE or --example, not both.")
    if not args.example and not args.file:
        raise UsageError("give a FILE to analyse (or --example for the bundled sample).")
    path = _example_path() if args.example else Path(_stdin_file(args.file))
    qi = _split_names(
        args.qi if args.qi is not None else (EXAMPLE_QI if args.example else None), "--qi"
    )
    if not qi:
        raise UsageError(
            "--qi is required: name the quasi-identifier columns, e.g. --qi sex,date_of_birth,postcode."
        )
    if args.household and not args.weights:
        raise UsageError(
            "--household needs --weights: the household risk combines individual risks."
        )
    sensitive = _split_names(args.sensitive, "--sensitive")
    if args.out:
        _out_files(args, inputs=(path, args.population))
    analysis = _engine(args, _analyse.analyse, "analyse")(
        path,
        qi,
        weights=args.weights,
        k_thresholds=_split_ints(args.thresholds, "--thresholds"),
        count_thresholds=_split_ints(args.count_thresholds, "--count-thresholds"),
        missing=args.missing,
        alpha=args.alpha,
        risk_threshold=args.risk_threshold,
        population=args.population,
        sampling_fraction=args.sampling_fraction,
        population_size=args.population_size,
        population_method=args.population_method,
        household=args.household,
        risk_method=args.risk_method,
        sensitive=sensitive,
        sep=args.sep,
        normalise=args.normalise,
        **({"sheet": args.sheet} if args.sheet is not None else {}),
    )
    prov = analysis.provenance
    _warn(args, prov.get("data_quality"))
    if args.format == "text":
        text = _text_header(prov) + _analyse.to_text(analysis)
    else:
        text = _render.render(
            analysis.to_frame(),
            args.format,
            prov,
            title="Disclosure-risk measures on "
            + ", ".join(prov["parameters"].get("quasi_identifiers") or []),
        )
    _emit(text, args, prov, inputs=(path, args.population))
    return 0


def _warn(args, quality: dict | None) -> None:
    """The data-quality block of the figures on stderr, from the block the outputs carry (so
    never stale: after --normalise, what is still messy, not what was fixed): a note per
    normalised column, a warning per finding and per upper bound (counts only, no values)."""
    lines = _render.quality_lines(quality, quiet=True)
    serious = bool(quality and (quality.get("findings") or quality.get("upper_bound")))
    for line in lines:
        kind = "warning" if serious and not line.startswith("normalised:") else "note"
        print(f"riskcalc {args.command}: {kind}: {line}", file=sys.stderr)


def _stdin_file(name: str | None) -> str | None:
    """``-`` is standard input: read it once into a private temporary file (removed at exit),
    so it can be hashed and read like any CSV file."""
    if name != "-":
        return name
    import atexit
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="riskcalc-stdin-")
    atexit.register(shutil.rmtree, folder, True)
    path = Path(folder) / "stdin.csv"
    path.write_bytes(sys.stdin.buffer.read())
    return str(path)


def _text_header(prov: dict) -> str:
    params, inp = prov["parameters"], prov["input"]
    lines = [
        f"riskcalc {code_identity(prov)} - analyse {inp['source']} ({inp['n_records']:,} records)",
        f"quasi-identifiers: {', '.join(params['quasi_identifiers'])}",
        f"missing values: {params['missing']}"
        + (f"; weights: {params['weights']}" if params["weights"] else ""),
    ]
    return "\n".join(lines) + "\n"


def _out_files(args: argparse.Namespace, inputs=()) -> list[Path]:
    """The files ``--out`` will write (the file, and its provenance sidecar unless JSON), checked
    against the inputs and the folder before any work is done."""
    from ._outputs import check_name_length, check_not_input

    out = Path(args.out)
    if out.is_dir():
        raise UsageError(f"--out {str(out)!r} is a folder; give the name of the file to write.")
    targets = [out] + (
        [out.with_name(out.name + ".provenance.json")] if args.format != "json" else []
    )
    for target in targets:
        check_name_length(target)
        check_not_input(target, inputs)
        if target.exists() and not args.force:
            raise UsageError(f"{str(target)!r} exists already; add --force to replace it.")
    return targets


def _emit(text: str, args: argparse.Namespace, prov: dict, inputs=()) -> None:
    """Print ``text``, or write it to ``--out`` with its provenance sidecar, as one set."""
    if not args.out:
        _write_stdout(text)
        return
    from ._outputs import write_files

    targets = _out_files(args, inputs)
    contents = [text, json.dumps(prov, indent=2, sort_keys=True) + "\n"]
    write_files(dict(zip(targets, contents)), force=args.force)
    print(f"wrote {targets[0]}", file=sys.stderr)


def _write_stdout(text: str) -> None:
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        enc = getattr(sys.stdout, "encoding", None) or "unknown"
        raise UsageError(
            f"the output holds characters the terminal's encoding ({enc}) cannot show; set "
            "PYTHONIOENCODING=utf-8 or write to a file with --out."
        ) from None


# ---------------------------------------------------------------------------------------------
# lattice and suda
# ---------------------------------------------------------------------------------------------


def _add_input_options(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("file", help="CSV, TSV, Parquet, Feather or Excel file of records")
    p.add_argument("--fields", required=True, help=f"comma-separated {what}")
    p.add_argument("--sep", help="CSV delimiter (guessed from the header by default)")
    _add_sheet_option(p)
    _add_normalise_option(p)
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )


def _configure_lattice(p: argparse.ArgumentParser) -> None:
    _add_input_options(p, "candidate quasi-identifier columns")
    p.add_argument("--max-size", type=int, help="largest combination of fields (default: all)")
    p.add_argument(
        "--thresholds",
        default="1,2,3,5,10",
        help="t for records and cells in classes of size <= t (default 1,2,3,5,10)",
    )
    p.add_argument(
        "--threshold-by-size", help="one small-cell threshold per combination size, e.g. 1,2,3"
    )
    p.add_argument(
        "--target",
        type=float,
        help="mark minimal combinations reaching this uniqueness share, e.g. 0.5",
    )
    p.add_argument("--top", type=int, help="show only the N most identifying combinations")
    p.add_argument("--missing", default="category", choices=["category", "raise"])
    _add_output_options(p)
    p.set_defaults(func=_run_lattice)


#: Rows of the lattice printed on screen without --top or --out.
_LATTICE_SCREEN_ROWS = 20


def _run_lattice(args: argparse.Namespace) -> int:
    from .lattice import field_lattice
    from .release.quality import measured_table, upper_bound_rows

    fields = _split_names(args.fields, "--fields")
    if not fields:
        raise UsageError(
            "--fields is required: name the candidate columns, e.g. --fields sex,date_of_birth,postcode."
        )
    if args.top is not None and args.top < 1:
        raise UsageError(f"--top takes a whole number of at least 1; got {args.top}.")
    args.file = _stdin_file(args.file)
    if args.out:
        _out_files(args, inputs=(args.file,))
    table, quality = measured_table(
        args.file, fields, normalise_columns=args.normalise, sep=args.sep, sheet=args.sheet
    )
    result = field_lattice(
        table,
        fields,
        max_size=args.max_size,
        thresholds=_split_ints(args.thresholds, "--thresholds"),
        threshold_by_size=_split_ints(args.threshold_by_size, "--threshold-by-size")
        if args.threshold_by_size
        else None,
        target=args.target,
        missing=args.missing,
        progress=args.progress,
    )
    # On screen: the most identifying combinations first; a file gets every row.
    shown = args.top or (None if args.out else _LATTICE_SCREEN_ROWS)
    frame = result.top(shown) if shown else result.to_frame()
    if shown and not args.top and len(result.table) > shown:
        print(
            f"riskcalc lattice: showing the {shown} most identifying of {len(result.table):,} "
            "combinations; --top N shows more, --out FILE writes them all",
            file=sys.stderr,
        )
    prov = _provenance(
        "field_lattice",
        args,
        result.n_records,
        {
            "fields": fields,
            "max_size": result.max_size,
            "thresholds": list(result.thresholds),
            "threshold_by_size": list(result.threshold_by_size)
            if result.threshold_by_size
            else None,
            "target": args.target,
            "top": args.top,
            "missing": args.missing,
        },
        quality,
    )
    flags = upper_bound_rows([None] * len(frame), frame["fields"], prov["data_quality"])
    if flags is not None:  # rows measured on a column still holding one value written two ways
        frame = frame.assign(upper_bound=flags)
    if args.format == "text":
        text = _header(prov, "lattice") + "\n" + _render.to_text(frame)
        text += "\nEach field's contribution (mean rise in the unique share when it is added):\n\n"
        text += _render.to_text(result.contributions())
    else:
        text = _render.render(frame, args.format, prov, title="Risk of each combination of fields")
    _emit(text, args, prov, inputs=(args.file,))
    return 0


def _configure_suda(p: argparse.ArgumentParser) -> None:
    _add_input_options(p, "key variables")
    p.add_argument(
        "--max-msu",
        type=int,
        help="largest minimal sample unique to search for (default: all fields)",
    )
    p.add_argument(
        "--dis-fraction",
        type=float,
        default=0.01,
        help="sampling fraction for DIS-SUDA (default 0.01)",
    )
    p.add_argument(
        "--scoring",
        default="elliot",
        choices=["elliot", "ihsn"],
        help="MSU weights (default elliot)",
    )
    _add_output_options(p)
    p.set_defaults(func=_run_suda)


def _run_suda(args: argparse.Namespace) -> int:
    from .release.quality import measured_table
    from .suda import suda

    fields = _split_names(args.fields, "--fields")
    if not fields:
        raise UsageError(
            "--fields is required: name the key variables, e.g. --fields sex,nc_year,ethnicity."
        )
    args.file = _stdin_file(args.file)
    if args.out:
        _out_files(args, inputs=(args.file,))
    table, quality = measured_table(
        args.file, fields, normalise_columns=args.normalise, sep=args.sep, sheet=args.sheet
    )
    result = suda(
        table,
        fields,
        max_msu=args.max_msu,
        dis_fraction=args.dis_fraction,
        scoring=args.scoring,
        progress=args.progress,
    )
    prov = _provenance(
        "suda",
        args,
        result.n_records,
        {
            "fields": fields,
            "max_msu": result.max_msu,
            "dis_fraction": result.dis_fraction,
            "scoring": result.scoring,
        },
        quality,
    )
    frame = suda_summary(result)
    if args.format == "text":
        text = _header(prov, "suda") + "\n" + _render.to_text(frame)
        text += "\nShare of the total SUDA score from MSUs holding each field:\n\n"
        text += _render.to_text(
            result.field_contributions.assign(
                contribution=result.field_contributions["contribution"] / 100
            ).rename(columns={"contribution": "share"})
        )
    else:
        text = _render.render(frame, args.format, prov, title="SUDA2 special uniques")
    _emit(text, args, prov, inputs=(args.file,))
    return 0


def suda_summary(result):
    """Counts of MSUs and scores: no record-level values."""
    import numpy as np
    import pandas as pd

    n = result.n_records
    rows = [("records", n, 1.0), ("records with an MSU", result.n_with_msu, result.n_with_msu / n)]
    for k, count in enumerate(result.msus_by_size, start=1):
        rows.append((f"MSUs of size {k}", int(count), None))
    scored = result.score[result.score > 0]
    rows.append(
        (
            "mean SUDA score (records with an MSU)",
            float(scored.mean()) if scored.size else 0.0,
            None,
        )
    )
    rows.append(("highest SUDA score", float(result.score.max()), None))
    for cut in (0.001, 0.01, 0.1):
        hit = int(np.count_nonzero(result.dis_score > cut))
        rows.append((f"records with DIS-SUDA > {cut:g}", hit, hit / n))
    return pd.DataFrame(rows, columns=["measure", "value", "share"]).astype({"value": object})


def _provenance(function: str, args, n_records: int, params: dict, quality=None) -> dict:
    """The provenance of a lattice or SUDA run, with the profile of its fields (``data_quality``;
    also printed on stderr)."""
    from ._provenance import describe_file, provenance

    info = describe_file(args.file, n_records)
    params = {**params, "normalise": bool(getattr(args, "normalise", False))}
    if getattr(args, "sheet", None) is not None:
        params["sheet"] = args.sheet
    extra = {} if quality is None else {"data_quality": quality.to_dict()}
    prov = provenance(function, params, inputs=[info], input=info, **extra)
    if quality is not None:
        _warn(args, prov["data_quality"])
    return prov


def _header(prov: dict, command: str) -> str:
    inp, params = prov["input"], prov["parameters"]
    return (
        f"riskcalc {code_identity(prov)} - {command} {inp['source']} ({inp['n_records']:,} records)\n"
        f"fields: {', '.join(params['fields'])}\n" + _render.text_quality(prov)
    )


# ---------------------------------------------------------------------------------------------
# tiers and report: the main job
# ---------------------------------------------------------------------------------------------


def _configure_tiers(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--pupils",
        type=int,
        default=1_000_000,
        help="pupils in the synthetic cohort (default 1,000,000)",
    )
    p.add_argument("--seed", type=int, default=0, help="cohort seed (default 0)")
    _add_report_options(p)
    p.add_argument(
        "--what-if",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="add the what-if comparison after one coarsening step (default on)",
    )
    p.add_argument(
        "--target-k",
        type=int,
        help="also search the smallest coarsening giving every scenario this k",
    )
    p.add_argument(
        "--max-suppressed",
        type=float,
        default=0.01,
        help="with --target-k: share of pupils that may be suppressed (default 0.01)",
    )
    p.add_argument(
        "--history",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="add the school-history section: tier 4 uniqueness as 1-5 years are linked, on a "
        "synthetic panel of 50,000 pupils (default on)",
    )
    p.add_argument(
        "--attack",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="add the simulated linkage attack section (needs the linkage extra; a "
        "cohort of 20,000 pupils; default off, see riskcalc attack)",
    )
    p.set_defaults(func=_run_tiers)


def _add_report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scenarios",
        metavar="FILE",
        help="TOML file of intruder scenarios (default: the built-in ones)",
    )
    p.add_argument(
        "--out", metavar="DIR", help="write CSV, JSON, Markdown, LaTeX and the HTML report to DIR"
    )
    p.add_argument(
        "--format",
        default="markdown",
        choices=_render.FORMATS,
        help="table printed on stdout (default markdown)",
    )
    p.add_argument("--force", action="store_true", help="replace files in --out")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress messages on stderr (default: when stderr is a terminal)",
    )


def _run_tiers(args: argparse.Namespace) -> int:
    from .release import job as _job

    if args.pupils < 1:
        raise UsageError(f"--pupils must be a whole number of at least 1; got {args.pupils}.")
    if args.target_k is not None and args.target_k < 1:
        raise UsageError(f"--target-k must be at least 1; got {args.target_k}.")
    if args.target_k is not None and not args.out:
        raise UsageError(
            "--target-k needs --out: the smallest coarsening is part of the HTML report."
        )
    if args.target_k is not None and args.target_k > args.pupils:
        raise UsageError(
            f"--target-k ({args.target_k:,}) is above --pupils ({args.pupils:,}): no coarsening "
            "gives classes larger than the cohort."
        )
    from ._memory import check_tiers_memory

    check_tiers_memory(args.pupils, report=bool(args.out))
    out = _prepare_out(args, inputs=(args.scenarios,))
    result = _job.tiers_job(
        args.pupils,
        args.seed,
        scenarios=args.scenarios,
        report=out is not None,
        what_if=args.what_if,
        target_k=args.target_k,
        max_suppressed=args.max_suppressed,
        progress=_progress_flag(args),
        history=args.history,
        attack=args.attack,
    )
    return _finish_job(result, args, out)


def _configure_report(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "path",
        help="an extract file (CSV/Parquet/Feather/Excel; - for standard input), a folder "
        "of them, or a folder of Parquet parts (one dataset)",
    )
    p.add_argument("--sep", help="CSV delimiter (guessed from the header by default)")
    p.add_argument(
        "--sensitive",
        metavar="COLS",
        help="comma-separated sensitive columns for the attribute-"
        "disclosure table (default: the registry's, where present)",
    )
    _add_sheet_option(p)
    p.add_argument(
        "--columns",
        metavar="FIELD=COLUMN,...",
        help="map your column names onto the scenarios' field names, e.g. "
        "sex=Gender,date_of_birth=DOB (recorded in the provenance)",
    )
    _add_normalise_option(p)
    _add_report_options(p)
    _add_engine_options(p)
    p.set_defaults(func=_run_report)


def _run_report(args: argparse.Namespace) -> int:
    from .release import job as _job
    from .release.quality import parse_column_map

    args.path = _stdin_file(args.path)
    columns = parse_column_map(args.columns)
    out = _prepare_out(args, inputs=(args.path, args.scenarios))
    result = _engine(args, _job.report_job, "report_job")(
        args.path,
        scenarios=args.scenarios,
        report=out is not None,
        progress=_progress_flag(args),
        sep=args.sep,
        sensitive=_split_names(args.sensitive, "--sensitive") or None,
        normalise=args.normalise,
        sheet=args.sheet,
        columns=columns or None,
    )
    _warn(args, result.table.provenance.get("data_quality"))
    if result.not_measured:
        print(
            f"riskcalc {args.command}: note: {result.not_measured}; pass --scenarios FILE naming your "
            "columns, or --columns FIELD=COLUMN to map them",
            file=sys.stderr,
        )
    return _finish_job(result, args, out)


def _progress_flag(args) -> bool:
    return sys.stderr.isatty() if args.progress is None else bool(args.progress)


def _prepare_out(args, inputs=()) -> Path | None:
    """Check ``--out`` before the work starts (again, under a lock, when the set is written)."""
    from ._outputs import check_folder_out

    args.out_inputs = tuple(inputs)
    return check_folder_out(args.out, force=args.force, inputs=args.out_inputs)


def _finish_job(result, args, out: Path | None) -> int:
    table = result.table
    if args.format == "markdown":
        text = table.to_markdown()
    elif args.format == "json":
        text = table.to_json()
    elif args.format == "csv":
        text = table.to_csv()["records"]
    elif args.format == "latex":
        text = table.to_latex()
    else:
        text = _render.text_quality(table.provenance) + _render.to_text(_display_headline(table))
    if result.coarsening is not None:
        from .release.job import describe_coarsening

        print(
            f"riskcalc {args.command}: {describe_coarsening(result.coarsening)}",
            file=sys.stderr,
        )
    if out is not None:
        from ._outputs import write_folder

        files = result.files()
        write_folder(out, files, force=args.force, inputs=args.out_inputs, command=args.command)
        _write_stdout(text)
        print(f"wrote {len(files)} files and manifest.json to {out}", file=sys.stderr)
    else:
        _write_stdout(text)
    return 0


def _display_headline(table):
    from .release.tables import _display

    return _display(table.headline())


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="riskcalc",
        description="How identifiable is this extract? Disclosure-risk measures for record-level data.",
    )
    parser.add_argument("--version", action="version", version=f"riskcalc {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _configure_analyse(
        sub.add_parser(
            "analyse",
            aliases=["analyze"],
            help="k-anonymity, uniqueness and small counts of one table",
            description="Measure how identifiable the records of FILE are on the quasi-identifiers --qi.",
        )
    )
    _configure_lattice(
        sub.add_parser(
            "lattice",
            help="risk of every combination of fields up to a size",
            description="Classes, k, sample uniques and small cells for every combination of --fields.",
        )
    )
    _configure_suda(
        sub.add_parser(
            "suda",
            help="SUDA2 minimal sample uniques and scores",
            description="Find minimal sample uniques and SUDA / DIS-SUDA scores on --fields.",
        )
    )
    _configure_tiers(
        sub.add_parser(
            "tiers",
            help="the main job: risk table of synthetic NPD tier extracts (and the HTML report)",
            description="Generate a synthetic cohort, cut tiers 1-4, measure every intruder scenario, "
            "print the tier table and (with --out) write CSV, JSON, Markdown, LaTeX and an HTML report.",
        )
    )
    _configure_report(
        sub.add_parser(
            "report",
            help="the tier table and HTML report for your own extract files",
            description="Measure every intruder scenario on your own extract file(s); files with a "
            "'count' column are treated as aggregate (tier 3) tables.",
        )
    )
    _add_synth(sub)
    _add_attack(sub)
    parser.commands = dict(sub.choices)
    from . import _cli_outputs  # check-output and audit-tables

    _cli_outputs.add_parsers(sub)
    return parser


def _add_synth(sub) -> None:
    from .release import synth as synth_cli

    p = sub.add_parser(
        "synth",
        help="generate a synthetic NPD-like cohort and its tier extracts",
        description="Generate a synthetic pupil cohort and write tier 1-4 extracts to --out.",
    )
    synth_cli.configure_parser(p)
    p.set_defaults(func=synth_cli.run)


def _add_attack(sub) -> None:
    from .release import attack as attack_cli

    p = sub.add_parser(
        "attack",
        help="a simulated linkage attack: intruder profiles linked to synthetic tier extracts",
        description="Link each intruder profile's outside knowledge to each tier extract of a "
        "synthetic cohort (exact match and Splink probabilistic linkage); print predicted "
        "against actual re-identification and (with --out) write the tables.",
    )
    attack_cli.configure_parser(p)
    p.set_defaults(func=attack_cli.run)


def _user_errors() -> tuple[type[BaseException], ...]:
    from .release.synth import SyntheticError

    return (RiskCalcError, OSError, SyntheticError)


def _out_of_memory(command: str, exc: BaseException) -> str:
    """The one line for an exhausted memory (no imports: there may be no memory for them)."""
    if isinstance(exc, RiskCalcError):  # the memory check's own message: needed and available
        return f"{command}: error: {exc}"
    if _NO_THREAD in str(exc):  # a thread's stack does not fit under the limits
        return (
            f"{command}: error: out of memory or threads: a thread could not start within this "
            "machine's or this process's limits (ulimit -v, ulimit -u, container). Run it on fewer "
            "records (tiers: fewer --pupils), or with higher limits."
        )
    return (
        f"{command}: error: out of memory: the job needs more memory than this machine "
        "or its limits (ulimit -v, container) allow. Run it on fewer records (tiers: fewer "
        "--pupils), or on a machine with more memory."
    )


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it unwinds as for Ctrl-C: temporary
    folders removed, locks released, workers stopped."""


def _on_sigterm(signum, frame):
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status.

    SIGTERM (``kill``, ``timeout``, ``docker stop``, a scheduler's cancel) is handled as Ctrl-C:
    one line, nothing left behind, exit status 143 (130 for Ctrl-C).
    """
    import signal
    import threading

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _main(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None) -> int:
    try:
        sys.stderr.reconfigure(errors="backslashreplace")  # a message must always print
    except (AttributeError, ValueError):  # pragma: no cover - a replaced stderr
        pass
    command = "riskcalc"  # the prefix of every message: "riskcalc CMD"
    try:
        parser = build_parser()
        try:
            args, extra = parser.parse_known_args(argv)
            if extra:  # reported by the subcommand, so the message names it
                parser.commands.get(getattr(args, "command", None), parser).error(
                    f"unrecognized arguments: {' '.join(extra)}"
                )
        except SystemExit as exc:  # argparse has printed its one line (or --help / --version)
            return exc.code if isinstance(exc.code, int) else 2
        command = f"riskcalc {args.command}"
        from ._provenance import reset_command, set_command

        token = set_command(sys.argv[1:] if argv is None else argv)
        try:
            return int(args.func(args) or 0)
        finally:  # the command line belongs to this run's outputs only
            reset_command(token)
    except Terminated:
        print("riskcalc: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("riskcalc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except MemoryError as exc:
        print(_out_of_memory(command, exc), file=sys.stderr)
        return 2
    except _user_errors() as exc:
        print(f"{command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # an unexpected error is a bug: say so in one line
        if _looks_like_oom(exc):  # a library's own out-of-memory error (pandas' parser, C++)
            print(_out_of_memory(command, exc), file=sys.stderr)
            return 2
        if "args" in locals() and getattr(args, "debug", False):
            raise
        print(
            f"{command}: internal error: {type(exc).__name__}: {_one_line(exc)} "
            "(rerun with --debug for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 3


def console() -> None:
    """The ``riskcalc`` command (and ``python -m riskcalc``): :func:`main`, then exit.

    Every object alive is moved out of the cyclic garbage collector's reach
    (:func:`gc.freeze`): after the imports, and again after a job's own imports
    (:func:`riskcalc._memory.imports_done`: the tiers job imports pandas after starting its
    cohort), so that the collections during the run do not walk the modules' objects again and
    again (0.1-0.15 s of a main job), and before the
    interpreter shuts down, when the last collection would otherwise walk the millions of
    objects numba leaves behind (about half a second, after the outputs are written and
    closed). Only the ``riskcalc`` command is affected, not :func:`main` called from Python.
    """
    import gc

    from ._memory import freeze_after_imports

    gc.freeze()
    freeze_after_imports()  # and again once a job has imported its modules (riskcalc._memory)
    code = main()
    gc.freeze()
    sys.exit(code)


#: Python's message when the operating system refuses a thread (its stack is memory too).
_NO_THREAD = "can't start new thread"


def _looks_like_oom(exc: BaseException) -> bool:
    text = str(exc).lower()
    return (
        "out of memory" in text
        or "bad_alloc" in text
        or "cannot allocate memory" in text
        or (isinstance(exc, RuntimeError) and _NO_THREAD in text)
    )


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 600 else text[:597] + "..."


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
