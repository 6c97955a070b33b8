"""``riskcalc audit-tables``: what an attacker can still work out from protected linked tables."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from . import _options as o
from ._output import finish_folder, prepare_out

if TYPE_CHECKING:
    import pandas as pd

HELP = "what an attacker can still work out from suppressed / rounded linked tables"
DESCRIPTION = (
    "Apply a suppression / rounding policy to the tables in DIR and compute every protected "
    "cell's feasible interval from the published totals and linked tables. The report holds true counts "
    "of protected cells and is INTERNAL (files named internal_audit*); --for-release lists the failing "
    "cells without them, for an output request (files named release_audit*)."
)


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "folder",
        metavar="DIR",
        help="folder of true (unprotected) frequency tables, one file each: dimension columns + a count column",
    )
    p.add_argument(
        "--policy",
        default="dfe_suppress_below_5",
        help="protection applied before publication (default dfe_suppress_below_5; also dfe_suppress_1_2, dfe_round_5, dfe_round_10, dfe_suppress_below_5_round_5, ons_srs_10)",
    )
    p.add_argument(
        "--margins",
        type=o.names("--margins", "names"),
        help="comma-separated file names in DIR that are published totals",
    )
    p.add_argument(
        "--protection",
        type=int,
        help="minimum width of a cell's feasible interval (default: what the policy promises)",
    )
    p.add_argument(
        "--method",
        default="auto",
        choices=["auto", "lp", "milp"],
        help="interval solver (default auto: exact; lp: the LP relaxation, which may understate "
        "what an attacker can narrow a cell to)",
    )
    p.add_argument("--count", default="count", help="the count column (default count)")
    p.add_argument("--sep", help="CSV delimiter (guessed from the header by default)")
    p.add_argument(
        "--format",
        default="markdown",
        choices=["markdown", "json"],
        help="summary printed on stdout (default markdown)",
    )
    p.add_argument(
        "--for-release",
        action="store_true",
        help="list the failing cells without their intervals, widths or pupil counts: a report to attach "
        "to an output request (without it the report holds true counts of protected cells: INTERNAL)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="write the report to DIR: internal_audit_cells.csv, internal_audit_tables.csv, "
        "internal_audit.md, internal_audit.json, internal_audit.provenance.json; with --for-release "
        "the same names starting release_audit",
    )
    p.add_argument("--force", action="store_true", help="replace a riskcalc output folder at --out")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import audit
    from .._core.io import CSV_SUFFIXES, FEATHER_SUFFIXES, PARQUET_SUFFIXES
    from .._provenance import describe_file, provenance
    from .._render import to_csv
    from ..exceptions import DataFileError
    from .check_output import read_frame

    folder = Path(args.folder)
    if not folder.is_dir():
        raise DataFileError(f"{str(folder)!r} is not a folder of tables.")
    out = prepare_out(args, (folder,))
    suffixes = CSV_SUFFIXES + PARQUET_SUFFIXES + FEATHER_SUFFIXES
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(suffixes))
    if not files:
        raise DataFileError(f"The folder {str(folder)!r} holds no CSV, Parquet or Feather tables.")
    margin_names = args.margins or []
    known = {p.name for p in files}
    for m in margin_names:
        if m not in known:
            raise o.UsageError(
                f"--margins names {m!r}, which is not a table file in {str(folder)!r}."
            )
    pol = (
        audit.policy(args.policy)
        if args.protection is None
        else audit.policy(args.policy, protection=args.protection)
    )
    tables: dict[str, pd.DataFrame] = {}
    margins: dict[str, pd.DataFrame] = {}
    for p in files:
        (margins if p.name in margin_names else tables)[p.name] = read_frame(p, args.sep)
    if not tables:
        raise o.UsageError("every file is a margin: at least one table must be audited.")
    result = audit.audit_tables(tables, pol, margins=margins, count=args.count, method=args.method)
    params = {
        "policy": pol.name,
        "margins": margin_names,
        "protection": args.protection,
        "method": args.method,
        "count": args.count,
        "for_release": bool(args.for_release),
    }
    internal = not args.for_release
    if internal:
        prov = provenance(
            "audit_tables",
            params,
            inputs=[describe_file(p) for p in files],
            internal=True,
            disclosive=True,
        )
        report, cells, summary = result, result.cells, result.tables
    else:
        # The true tables' files are not described by size or hash: a hash of a small table is
        # found again by hashing every table consistent with the release.
        prov = provenance(
            "audit_tables",
            params,
            inputs=[{"source": p.name} for p in files],
            internal=False,
            disclosive=False,
        )
        report = result.for_release()
        cells, summary = report.failing, report.tables
    md, js = report.to_markdown(prov), report.to_json(prov)
    stem = "internal_audit" if internal else "release_audit"
    # the one CSV writer: counts as integers, text a spreadsheet will not run as a formula
    return finish_folder(
        args,
        out,
        {
            f"{stem}_cells.csv": to_csv(cells),
            f"{stem}_tables.csv": to_csv(summary),
            f"{stem}.md": md,
            f"{stem}.json": js,
            f"{stem}.provenance.json": json.dumps(prov, indent=2, sort_keys=True) + "\n",
        },
        md if args.format == "markdown" else js,
    )
