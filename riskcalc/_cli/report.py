"""``riskcalc report``: the tier table and HTML report of the user's own extract files."""

from __future__ import annotations

import argparse
import sys

from . import _options as o
from ._output import finish_job, prepare_out, progress_flag, stdin_file, warn

HELP = "the tier table and HTML report for your own extract files"
DESCRIPTION = (
    "Measure every intruder scenario on your own extract file(s); files with a "
    "'count' column are treated as aggregate (tier 3) tables."
)


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "path",
        help="an extract file (CSV/Parquet/Feather/Excel; - for standard input), a folder "
        "of them, or a folder of Parquet parts (one dataset)",
    )
    p.add_argument("--sep", help="CSV delimiter (guessed from the header by default)")
    p.add_argument(
        "--sensitive",
        metavar="COLS",
        type=o.names("--sensitive"),
        help="comma-separated sensitive columns for the attribute-"
        "disclosure table (default: the registry's, where present)",
    )
    o.add_sheet_option(p)
    p.add_argument(
        "--columns",
        metavar="FIELD=COLUMN,...",
        type=o.column_map,
        help="map your column names onto the scenarios' field names, e.g. "
        "sex=Gender,date_of_birth=DOB (recorded in the provenance)",
    )
    o.add_normalise_option(p)
    o.add_report_options(p)
    o.add_engine_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..release import job as _job

    args.path = stdin_file(args.path)
    out = prepare_out(args, inputs=(args.path, args.scenarios))
    result = o.engine(args, _job.report_job, "report_job")(
        args.path,
        scenarios=args.scenarios,
        report=out is not None,
        progress=progress_flag(args),
        sep=args.sep,
        sensitive=args.sensitive or None,
        normalise=args.normalise,
        sheet=args.sheet,
        columns=args.columns or None,
    )
    warn(args, result.table.provenance.get("data_quality"))
    if result.not_measured:
        print(
            f"riskcalc {args.command}: note: {result.not_measured}; pass --scenarios FILE "
            "naming your columns, or --columns FIELD=COLUMN to map them",
            file=sys.stderr,
        )
    return finish_job(result, args, out)
