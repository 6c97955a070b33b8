"""``riskcalc attack``: the simulated linkage attack on a synthetic cohort."""

from __future__ import annotations

import argparse

from .. import _render
from . import _options as o
from ._output import finish_folder, prepare_out

HELP = "a simulated linkage attack: intruder profiles linked to synthetic tier extracts"
DESCRIPTION = (
    "Link each intruder profile's outside knowledge to each tier extract of a "
    "synthetic cohort (exact match and Splink probabilistic linkage); print predicted "
    "against actual re-identification and (with --out) write the tables."
)


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--pupils",
        type=o.at_least(10, "--pupils must be a whole number of at least 10; got {value}."),
        default=20_000,
        help="pupils in the synthetic cohort (default 20,000)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the cohort, intruder tables and linkage (default 0)",
    )
    p.add_argument(
        "--intruders",
        type=o.loose_names,
        help="comma-separated intruder profiles (default: all of social_media, "
        "neighbourhood_register, local_news, class_list)",
    )
    p.add_argument(
        "--tiers",
        default="1,2,4",
        type=o.attack_tiers,
        help="record-level tiers to attack (default 1,2,4)",
    )
    p.add_argument(
        "--coverage",
        type=o.share("--coverage must be a number in (0, 1]; got {value}."),
        help="share of pupils every intruder knows about (default: each profile's own)",
    )
    p.add_argument(
        "--exact-only", action="store_true", help="only the exact-match attack (no Splink needed)"
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="match-probability threshold of the summary (default 0.5)",
    )
    p.add_argument(
        "--out", metavar="DIR", help="write the CSV tables, attack.json and attack.md to DIR"
    )
    p.add_argument("--force", action="store_true", help="replace a riskcalc output folder at --out")
    p.add_argument(
        "--format",
        default="markdown",
        choices=_render.FORMATS,
        help="summary printed on stdout (default markdown)",
    )
    p.add_argument("--progress", action="store_true", help="one line per run on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..release.attack import attack_experiment

    out = prepare_out(args)  # the attack reads no file
    exp = attack_experiment(
        args.pupils,
        args.seed,
        intruders=args.intruders or None,
        tiers=args.tiers,
        coverage=args.coverage,
        probabilistic=not args.exact_only,
        reference_threshold=args.threshold,
        progress=args.progress,
    )
    text = _render.render(
        exp.summary, args.format, exp.provenance if args.format == "json" else None
    )
    # the set first: a failed write prints no summary
    return finish_folder(args, out, exp.files() if out is not None else {}, text, newline=True)
