"""``riskcalc ledger``: how many recipients of a release ledger can single out each child."""

from __future__ import annotations

import argparse
import sys

from .. import _render
from . import _options as o
from ._output import finish_folder, prepare_out, progress_flag, warn

HELP = "the release ledger: how many recipients can single out each child across every release"
DESCRIPTION = (
    "Measure a ledger of releases (default: the synthetic DfE register) on a panel of pupils "
    "(default: a synthetic panel, 2006/07-2015/16): children singled out by at least 1, 5, 20 "
    "recipients per scenario, the recipients singling out most, the distribution, breakdowns, "
    "exposure over time, policies and collusion; with --out, CSV files and an HTML report."
)


def configure(p: argparse.ArgumentParser) -> None:
    from ..release.ledger_job import DEFAULT_PUPILS, MAIN_SCENARIO

    p.add_argument(
        "--ledger",
        metavar="FILE",
        help="your ledger of releases (CSV or TOML, see docs/usage.md; default: the synthetic "
        "DfE register)",
    )
    p.add_argument(
        "--panel",
        metavar="FILE",
        help="your panel: one row per pupil per census (pupil_id, academic_year, the fields "
        "released; CSV, Parquet, Feather or Excel; default: a synthetic panel)",
    )
    p.add_argument(
        "--period",
        choices=["2012-2016", "2012-2014"],
        help="the synthetic register's period (default 2012-2016: 887 releases)",
    )
    p.add_argument(
        "--pupils",
        type=o.at_least(1, "--pupils must be a whole number of at least 1; got {value}."),
        help=f"pupils in the synthetic panel's first census (default {DEFAULT_PUPILS:,}; "
        "not the national population)",
    )
    p.add_argument(
        "--seed",
        type=o.integer_in("--seed", 0),
        default=0,
        help="seed of the synthetic register and panel (default 0)",
    )
    p.add_argument(
        "--scenario",
        type=o.names("--scenario", "scenario names"),
        help="comma-separated built-in scenarios (default: all); the detailed sections are for "
        f"the first (default {MAIN_SCENARIO})",
    )
    p.add_argument(
        "--thresholds",
        default="1,5,20",
        type=o.whole_numbers("--thresholds"),
        help="exposure levels: children singled out by at least this many recipients "
        "(default 1,5,20)",
    )
    p.add_argument(
        "--top",
        type=o.at_least(1, "--top must be a whole number of at least 1; got {value}."),
        default=20,
        help="recipients shown in the table of those singling out most children (default 20; "
        "the CSV holds all)",
    )
    p.add_argument(
        "--timeline",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="exposure as the releases accumulate, year by year (default on)",
    )
    p.add_argument(
        "--policies",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="exposure under the built-in counterfactual policies (default on)",
    )
    p.add_argument(
        "--collusion",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="recipients pooling their records, and a breach of each (default on)",
    )
    p.add_argument(
        "--per-child",
        action="store_true",
        help="with --out, also write internal_per_child.csv: one row per pupil_id. INTERNAL: it "
        "is not an aggregate; never release it",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="write the CSV tables, ledger.json (provenance) and report.html to DIR",
    )
    p.add_argument(
        "--format",
        default="text",
        choices=_render.FORMATS,
        help="what stdout shows: a readable summary (text, default) or the headline table",
    )
    o.add_normalise_option(p)
    p.add_argument("--force", action="store_true", help="replace files in --out")
    o.add_progress_option(p, "progress messages on stderr (default: when stderr is a terminal)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..release import ledger_job as _job

    if args.panel and args.pupils is not None:
        raise o.UsageError("--pupils sizes the synthetic panel; it cannot be used with --panel.")
    if args.ledger and args.period is not None:
        raise o.UsageError(
            "--period chooses the synthetic register; it cannot be used with --ledger."
        )
    if args.per_child and not args.out:
        raise o.UsageError(
            "--per-child needs --out: the per-child table is written to a file, never printed."
        )
    for option, path in (("--ledger", args.ledger), ("--panel", args.panel)):
        if path is not None:
            from pathlib import Path

            if not Path(path).exists():
                raise o.UsageError(f"{option}: the file {path!r} does not exist.")
    out = prepare_out(args, inputs=tuple(p for p in (args.ledger, args.panel) if p))
    result = _job.ledger_job(
        ledger=args.ledger,
        panel=args.panel,
        period=args.period or "2012-2016",
        n_pupils=args.pupils if args.pupils is not None else _job.DEFAULT_PUPILS,
        seed=args.seed,
        scenarios=tuple(args.scenario) if args.scenario else None,
        top=args.top,
        thresholds=tuple(args.thresholds),
        per_child=args.per_child,
        timeline=args.timeline,
        policies=args.policies,
        collusion=args.collusion,
        report=out is not None,
        progress=progress_flag(args),
        normalise=args.normalise,
    )
    warn(args, result.provenance.get("data_quality"))
    if args.format == "text":
        text = result.to_text()
    else:
        text = _render.render(
            result.headline,
            args.format,
            result.provenance,
            title="Children singled out by the recipients of a release ledger",
        )
    files = result.files() if out is not None else {}
    code = finish_folder(args, out, files, text)
    if out is not None and args.per_child:
        print(
            f"riskcalc {args.command}: warning: internal_per_child.csv holds one row per child "
            f"(pupil_id): {_job.INTERNAL_NOTICE}",
            file=sys.stderr,
        )
    return code
