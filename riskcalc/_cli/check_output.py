"""``riskcalc check-output``: output checking of a research output, cell by cell."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import _options as o
from ._output import finish_folder, prepare_out

HELP = "output checking: pass / review / fail per cell of a research output"
DESCRIPTION = (
    "Check a frequency table, magnitude table or summary against output-checking rules "
    "(ONS SRS defaults, DfE-style variants) and write a report to attach to an output request."
)


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "file",
        help="CSV, TSV, Parquet or Feather file: a frequency table (dimensions + count) or the records behind a magnitude table / summary",
    )
    p.add_argument(
        "--kind",
        default="frequency",
        choices=["frequency", "magnitude", "summary"],
        help="what FILE holds (default frequency)",
    )
    p.add_argument(
        "--profile",
        default="ons_srs",
        help="rules profile (default ons_srs; also dfe_5, dfe_3, acro_default)",
    )
    p.add_argument(
        "--rules", metavar="TOML", help="rules file (default: the one bundled with riskcalc)"
    )
    p.add_argument("--count", default="count", help="frequency: the count column (default count)")
    p.add_argument(
        "--rows",
        type=o.names("--rows", "names", empty=True, keep_text=True),
        help="frequency: comma-separated row dimensions (default: all but the last)",
    )
    p.add_argument(
        "--columns",
        type=o.names("--columns", "names", empty=True, keep_text=True),
        help="frequency: comma-separated column dimensions (default: the last)",
    )
    p.add_argument(
        "--by",
        type=o.names("--by", "names", keep_text=True),
        help="magnitude/summary: comma-separated grouping columns",
    )
    p.add_argument("--value", help="magnitude/summary: the value column")
    p.add_argument("--unit", help="magnitude: the contributor id column (records summed per unit)")
    p.add_argument(
        "--statistics",
        default="mean",
        type=o.names("--statistics", "names", keep_text=True),
        help="summary: comma-separated mean, median, min, max, percent (default mean)",
    )
    p.add_argument("--sep", help="CSV delimiter (guessed from the header by default)")
    p.add_argument(
        "--format",
        default="markdown",
        choices=["markdown", "json"],
        help="report printed on stdout (default markdown)",
    )
    p.add_argument("--out", metavar="DIR", help="also write the Markdown and JSON reports to DIR")
    p.add_argument("--force", action="store_true", help="replace a riskcalc output folder at --out")
    p.set_defaults(func=run)


def read_frame(path: Path, sep: str | None):
    """A published table: its counts and values are numbers, so CSV types are inferred (a
    dimension of digits becomes a number too, which an output check only displays)."""
    from .._core.io import read_table

    return read_table(path, sep=sep, strings=False).to_pandas()


def _check(oc, args, frame, rules, name):
    """The check that --kind names, on the table read from FILE."""
    if args.kind == "frequency":
        return oc.check_frequency_table(
            frame,
            count=args.count,
            rows=o.split(args.rows) if args.rows else None,
            columns=o.split(args.columns) if args.columns else None,
            rules=rules,
            name=name,
        )
    if not args.value:
        raise o.UsageError(f"--value is required with --kind {args.kind}: name the value column.")
    by = o.split(args.by) if args.by is not None else []
    if args.kind == "magnitude":
        if not by:
            raise o.UsageError(
                "--by is required with --kind magnitude: name the table's dimensions."
            )
        return oc.check_magnitude_table(
            frame, by, args.value, unit=args.unit, rules=rules, name=name
        )
    return oc.check_summary(
        frame,
        args.value,
        by=by or None,
        statistics=o.split(args.statistics),
        rules=rules,
        name=name,
    )


#: The parameters recorded in the provenance, as given on the command line.
_RECORDED = ("kind", "profile", "count", "rows", "columns", "by", "value", "unit", "statistics")


def run(args: argparse.Namespace) -> int:
    from .. import output_check as oc
    from .._provenance import describe_file, provenance
    from ..exceptions import DataFileError

    path = Path(args.file)
    out = prepare_out(args, (path, args.rules))
    rules = oc.load_rules(args.profile, args.rules)
    frame = read_frame(path, args.sep)
    name = path.name
    try:
        result = _check(oc, args, frame, rules, name)
    except oc.CellValueError as exc:  # the file's row, counting its header line as row 1
        from .._core.io import CSV_SUFFIXES

        csv = path.name.lower().endswith(CSV_SUFFIXES)
        where = (
            f"row {exc.first_row + 2}, counting the header as row 1"
            if csv
            else f"row {exc.first_row + 1}"
        )
        raise DataFileError(exc.text(f"The {exc.column!r} column of {name!r}", where)) from None
    params = {k: getattr(args, k) for k in _RECORDED}
    params["rules_file"] = (
        Path(args.rules).name if args.rules else "riskcalc/data/output_rules.toml"
    )
    prov = provenance("check_output", params, inputs=[describe_file(path, len(frame))])
    md, js = result.to_markdown(prov), result.to_json(prov)
    stem = path.name.split(".")[0]
    return finish_folder(
        args,
        out,
        {f"{stem}.check.md": md, f"{stem}.check.json": js},
        md if args.format == "markdown" else js,
    )
