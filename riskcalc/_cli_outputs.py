"""Command-line commands ``check-output`` and ``audit-tables`` (registered by :mod:`riskcalc.cli`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import _render
from ._provenance import code_identity, describe_file, provenance
from .exceptions import DataFileError, RiskCalcError

# The engine's reader (pyarrow) is imported by the commands that read, not by the parser:
# building the command line loads neither pyarrow nor pandas.


class OutputsUsageError(RiskCalcError, ValueError):
    """A command-line argument of check-output or audit-tables that cannot be used as given."""


def _names(text: str | None, option: str) -> list[str]:
    if text is None:
        return []
    names = [t.strip() for t in text.split(",")]
    if any(not n for n in names):
        raise OutputsUsageError(f"{option} takes comma-separated names; got {text!r}.")
    return names


def _read_frame(path: Path, sep: str | None):
    """A published table: its counts and values are numbers, so CSV types are inferred (a
    dimension of digits becomes a number too, which an output check only displays)."""
    from ._core.io import read_table

    return read_table(path, sep=sep, strings=False).to_pandas()


def _prepare_out(args: argparse.Namespace, inputs) -> Path | None:
    """Check ``--out`` before the work starts, with the writer every folder command shares."""
    from ._outputs import check_folder_out

    args.out_inputs = tuple(inputs)
    return check_folder_out(args.out, force=args.force, inputs=args.out_inputs)


def _finish(args: argparse.Namespace, out: Path | None, files: dict[str, str], text: str) -> int:
    """Write the set (atomically, manifest last, under a lock), then print the report."""
    if out is not None:
        from ._outputs import write_folder

        write_folder(out, files, force=args.force, inputs=args.out_inputs, command=args.command)
    sys.stdout.write(text)
    if out is not None:
        print(f"wrote {len(files)} files and manifest.json to {out}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------------------
# check-output
# ---------------------------------------------------------------------------------------------


def configure_check_output(p: argparse.ArgumentParser) -> None:
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
        "--rows", help="frequency: comma-separated row dimensions (default: all but the last)"
    )
    p.add_argument(
        "--columns", help="frequency: comma-separated column dimensions (default: the last)"
    )
    p.add_argument("--by", help="magnitude/summary: comma-separated grouping columns")
    p.add_argument("--value", help="magnitude/summary: the value column")
    p.add_argument("--unit", help="magnitude: the contributor id column (records summed per unit)")
    p.add_argument(
        "--statistics",
        default="mean",
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
    p.set_defaults(func=run_check_output)


def _check(oc, args, frame, rules, name):
    """The check that --kind names, on the table read from FILE."""
    if args.kind == "frequency":
        return oc.check_frequency_table(
            frame,
            count=args.count,
            rows=_names(args.rows, "--rows") if args.rows else None,
            columns=_names(args.columns, "--columns") if args.columns else None,
            rules=rules,
            name=name,
        )
    if not args.value:
        raise OutputsUsageError(
            f"--value is required with --kind {args.kind}: name the value column."
        )
    by = _names(args.by, "--by")
    if args.kind == "magnitude":
        if not by:
            raise OutputsUsageError(
                "--by is required with --kind magnitude: name the table's dimensions."
            )
        return oc.check_magnitude_table(
            frame, by, args.value, unit=args.unit, rules=rules, name=name
        )
    return oc.check_summary(
        frame,
        args.value,
        by=by or None,
        statistics=_names(args.statistics, "--statistics"),
        rules=rules,
        name=name,
    )


def run_check_output(args: argparse.Namespace) -> int:
    from . import output_check as oc

    path = Path(args.file)
    out = _prepare_out(args, (path, args.rules))
    rules = oc.load_rules(args.profile, args.rules)
    frame = _read_frame(path, args.sep)
    name = path.name
    try:
        result = _check(oc, args, frame, rules, name)
    except oc.CellValueError as exc:  # the file's row, counting its header line as row 1
        from ._core.io import CSV_SUFFIXES

        csv = path.name.lower().endswith(CSV_SUFFIXES)
        where = (
            f"row {exc.first_row + 2}, counting the header as row 1"
            if csv
            else f"row {exc.first_row + 1}"
        )
        raise DataFileError(exc.text(f"The {exc.column!r} column of {name!r}", where)) from None
    params = {
        k: getattr(args, k)
        for k in (
            "kind",
            "profile",
            "count",
            "rows",
            "columns",
            "by",
            "value",
            "unit",
            "statistics",
        )
    }
    params["rules_file"] = (
        Path(args.rules).name if args.rules else "riskcalc/data/output_rules.toml"
    )
    prov = provenance("check_output", params, inputs=[describe_file(path, len(frame))])
    md, js = result.to_markdown(prov), result.to_json(prov)
    stem = path.name.split(".")[0]
    return _finish(
        args,
        out,
        {f"{stem}.check.md": md, f"{stem}.check.json": js},
        md if args.format == "markdown" else js,
    )


# ---------------------------------------------------------------------------------------------
# audit-tables
# ---------------------------------------------------------------------------------------------


def configure_audit_tables(p: argparse.ArgumentParser) -> None:
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
    p.add_argument("--margins", help="comma-separated file names in DIR that are published totals")
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
    p.set_defaults(func=run_audit_tables)


#: The audit reports' column heads.
_AUDIT_HEADS = {
    "exact_cells": "exact",
    "narrow_cells": "narrow",
    "pupils_exact": "pupils in exact cells",
    "pupils_exposed": "pupils exposed",
}


def _audit_markdown(result, prov: dict) -> str:
    """The internal report: intervals of the failing cells (an exact cell's is its true count)."""
    from .audit import INTERNAL_NOTICE

    lines = [
        f"{INTERNAL_NOTICE} For an output request use `riskcalc audit-tables --for-release`.",
        "",
        f"# Table audit ({result.policy.name}): INTERNAL",
        "",
        f"- tables: {len(result.tables)}; audited cells (suppressed or rounded): {result.n_audited}",
        f"- exactly recoverable: {result.n_exact}; narrower than protection (exact included): {result.n_narrow}",
        f"- solver: {result.method}; HiGHS calls: {result.n_solves}",
        f"- riskcalc {code_identity(prov)}",
        "",
        # the shared renderer escapes every cell: a table's file name or a category is text
        _render.to_markdown(
            result.tables[
                [
                    "table",
                    "cells",
                    "suppressed",
                    "rounded",
                    "exact_cells",
                    "narrow_cells",
                    "pupils_exact",
                    "pupils_exposed",
                ]
            ].rename(columns=_AUDIT_HEADS)
        ),
    ]
    fail = result.failing
    lines += [f"## Failing cells ({len(fail)})", ""]
    if len(fail):
        # "lower to upper": no bracket for Markdown to escape
        shown = fail.head(200).assign(
            interval=lambda f: f["lower"].astype(str) + " to " + f["upper"].astype(str)
        )
        lines.append(
            _render.to_markdown(shown[["table", "cell", "shown", "interval", "verdict", "reason"]])
        )
        if len(fail) > 200:
            lines.append(f"\n({len(fail) - 200} more in internal_audit_cells.csv)")
    return "\n".join(lines) + "\n"


def _release_markdown(release, prov: dict) -> str:
    """The report for an output request: which cells fail and why, nothing the tables hide."""
    fail = release.failing
    lines = [
        f"# Table audit ({release.policy.name}): failing cells",
        "",
        (
            "For an output request: no interval, width or count of a protected cell; everything here "
            "follows from the published tables and the policy."
        ),
        "",
        (
            f"- tables: {len(release.tables)}; suppressed cells: {int(release.tables['suppressed'].sum())}; "
            f"rounded cells: {int(release.tables['rounded'].sum())}"
        ),
        (
            f"- exactly recoverable: {int((fail['verdict'] == 'exact').sum())}; "
            f"narrower than protection (exact included): {len(fail)}"
        ),
        f"- riskcalc {code_identity(prov)}",
        "",
        _render.to_markdown(
            release.tables[
                ["table", "cells", "suppressed", "rounded", "exact_cells", "narrow_cells"]
            ].rename(columns=_AUDIT_HEADS)
        ),
    ]
    lines += [f"## Failing cells ({len(fail)})", ""]
    if len(fail):
        lines.append(
            _render.to_markdown(
                fail.head(200)[["table", "cell", "status", "shown", "verdict", "reason"]]
            )
        )
        if len(fail) > 200:
            lines.append(f"\n({len(fail) - 200} more in release_audit_cells.csv)")
    return "\n".join(lines) + "\n"


def run_audit_tables(args: argparse.Namespace) -> int:
    from . import audit

    folder = Path(args.folder)
    if not folder.is_dir():
        raise DataFileError(f"{str(folder)!r} is not a folder of tables.")
    out = _prepare_out(args, (folder,))
    from ._core.io import CSV_SUFFIXES, FEATHER_SUFFIXES, PARQUET_SUFFIXES

    suffixes = CSV_SUFFIXES + PARQUET_SUFFIXES + FEATHER_SUFFIXES
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(suffixes))
    if not files:
        raise DataFileError(f"The folder {str(folder)!r} holds no CSV, Parquet or Feather tables.")
    margin_names = _names(args.margins, "--margins")
    known = {p.name for p in files}
    for m in margin_names:
        if m not in known:
            raise OutputsUsageError(
                f"--margins names {m!r}, which is not a table file in {str(folder)!r}."
            )
    pol = (
        audit.policy(args.policy)
        if args.protection is None
        else audit.policy(args.policy, protection=args.protection)
    )
    tables, margins = {}, {}
    for p in files:
        (margins if p.name in margin_names else tables)[p.name] = _read_frame(p, args.sep)
    if not tables:
        raise OutputsUsageError("every file is a margin: at least one table must be audited.")
    result = audit.audit_tables(tables, pol, margins=margins, count=args.count, method=args.method)
    params = {
        "policy": pol.name,
        "margins": margin_names,
        "protection": args.protection,
        "method": args.method,
        "count": args.count,
        "for_release": bool(args.for_release),
    }
    policy = {k: getattr(pol, k) for k in pol.__dataclass_fields__}
    internal = not args.for_release
    if internal:
        prov = provenance(
            "audit_tables",
            params,
            inputs=[describe_file(p) for p in files],
            internal=True,
            disclosive=True,
        )
        md = _audit_markdown(result, prov)
        doc = {
            "internal": True,
            "disclosive": True,
            "notice": audit.INTERNAL_NOTICE,
            "provenance": prov,
            "policy": policy,
            "tables": result.tables.to_dict("records"),
            "cells": json.loads(result.cells.to_json(orient="records")),
        }
        cells, summary = result.cells, result.tables
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
        release = result.for_release()
        md = _release_markdown(release, prov)
        doc = {
            "internal": False,
            "disclosive": False,
            "provenance": prov,
            "policy": policy,
            "tables": release.tables.to_dict("records"),
            "failing_cells": json.loads(release.failing.to_json(orient="records")),
        }
        cells, summary = release.failing, release.tables
    js = json.dumps(doc, indent=2, default=int) + "\n"
    stem = "internal_audit" if internal else "release_audit"
    # the one CSV writer: counts as integers, text a spreadsheet will not run as a formula
    from ._render import to_csv

    return _finish(
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


def add_parsers(sub) -> None:
    """Register ``check-output`` and ``audit-tables`` on the ``riskcalc`` subparsers."""
    configure_check_output(
        sub.add_parser(
            "check-output",
            help="output checking: pass / review / fail per cell of a research output",
            description="Check a frequency table, magnitude table or summary against output-checking rules "
            "(ONS SRS defaults, DfE-style variants) and write a report to attach to an output request.",
        )
    )
    configure_audit_tables(
        sub.add_parser(
            "audit-tables",
            help="what an attacker can still work out from suppressed / rounded linked tables",
            description="Apply a suppression / rounding policy to the tables in DIR and compute every protected "
            "cell's feasible interval from the published totals and linked tables. The report holds true counts "
            "of protected cells and is INTERNAL (files named internal_audit*); --for-release lists the failing "
            "cells without them, for an output request (files named release_audit*).",
        )
    )
