"""``riskcalc synth``: a synthetic NPD-like cohort and its tier extracts, written as one set.

The options are defined here only; the generator itself is reached through the release layer
(:func:`riskcalc.release.synth.write_extracts`), the only riskcalc code that imports
:mod:`synthetic`.
"""

from __future__ import annotations

import argparse
import sys

from . import _options as o

HELP = "generate a synthetic NPD-like cohort and its tier extracts"
DESCRIPTION = (
    "Generate a synthetic NPD-like pupil cohort and write tier 1, 2 and 4 extracts and "
    "tier 3 aggregate tables as Parquet files in DIR."
)


def _max_pupils() -> int:
    from ..release.synth import MAX_PUPILS

    return MAX_PUPILS


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--pupils",
        metavar="N",
        default="1000000",
        type=o.integer_in("--pupils", 1, _max_pupils),
        help="number of pupils (default: 1000000, as riskcalc tiers)",
    )
    p.add_argument(
        "--seed",
        metavar="S",
        default="0",
        type=o.integer_in("--seed", 0),
        help="random seed, a non-negative int (default: 0)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        required=True,
        help="output folder: a new or empty folder (its parent folders are created)",
    )
    p.add_argument(
        "--tiers",
        metavar="T",
        default="1,2,3,4",
        type=o.tier_set,
        help="comma-separated tiers to write (default: 1,2,3,4)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace a riskcalc output folder at --out (never a folder of other files)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..release.synth import write_extracts

    paths = write_extracts(
        args.out, args.pupils, args.seed, args.tiers, force=args.force, progress=sys.stderr.isatty()
    )
    for path in paths:
        print(path)
    return 0
