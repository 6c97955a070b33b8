"""``riskcalc tiers``: the main job on a synthetic cohort (the tier table and HTML report)."""

from __future__ import annotations

import argparse

from . import _options as o
from ._output import finish_job, prepare_out, progress_flag

HELP = "the main job: risk table of synthetic NPD tier extracts (and the HTML report)"
DESCRIPTION = (
    "Generate a synthetic cohort, cut tiers 1-4, measure every intruder scenario, "
    "print the tier table and (with --out) write CSV, JSON, Markdown, LaTeX and an HTML report."
)


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--pupils",
        type=o.at_least(1, "--pupils must be a whole number of at least 1; got {value}."),
        default=1_000_000,
        help="pupils in the synthetic cohort (default 1,000,000)",
    )
    p.add_argument("--seed", type=int, default=0, help="cohort seed (default 0)")
    o.add_report_options(p)
    p.add_argument(
        "--what-if",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="add the what-if comparison after one coarsening step (default on)",
    )
    p.add_argument(
        "--target-k",
        type=o.at_least(1, "--target-k must be at least 1; got {value}."),
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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..release import job as _job

    if args.target_k is not None and not args.out:
        raise o.UsageError(
            "--target-k needs --out: the smallest coarsening is part of the HTML report."
        )
    if args.target_k is not None and args.target_k > args.pupils:
        raise o.UsageError(
            f"--target-k ({args.target_k:,}) is above --pupils ({args.pupils:,}): no coarsening "
            "gives classes larger than the cohort."
        )
    from .._memory import check_tiers_memory

    check_tiers_memory(args.pupils, report=bool(args.out))
    out = prepare_out(args, inputs=(args.scenarios,))
    result = _job.tiers_job(
        args.pupils,
        args.seed,
        scenarios=args.scenarios,
        report=out is not None,
        what_if=args.what_if,
        target_k=args.target_k,
        max_suppressed=args.max_suppressed,
        progress=progress_flag(args),
        history=args.history,
        attack=args.attack,
    )
    return finish_job(result, args, out)
