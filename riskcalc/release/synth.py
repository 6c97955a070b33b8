"""The ``riskcalc synth`` command's link to :mod:`synthetic`: the release layer is the only
riskcalc code that imports the generator.

The options and their checks are the generator's (:mod:`synthetic._cli`); the extracts are
written by riskcalc's one output writer (:func:`riskcalc._outputs.write_folder`), like every
other command's set of files: into a temporary sibling folder, ``manifest.json`` last, renamed
into place under a lock, never into a folder of the user's own files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import synthetic._cli as _synth_cli
from synthetic.exceptions import SyntheticError

__all__ = ["configure_parser", "run", "SyntheticError"]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """The generator's ``synth`` options, with riskcalc's meaning of ``--out`` and ``--force``."""
    _synth_cli.configure_parser(parser)
    for action in parser._actions:
        if action.dest == "out":
            action.help = "output folder: a new or empty folder (its parent folders are created)"
        elif action.dest == "force":
            action.help = (
                "replace a riskcalc output folder at --out (never a folder of other files)"
            )


def run(args: argparse.Namespace) -> int:
    """Generate the cohort and write the requested extracts as one set; return 0.

    Raises
    ------
    SyntheticError
        For a bad ``--pupils``, ``--seed`` or ``--tiers`` (the generator's checks).
    riskcalc.DataFileError
        For an ``--out`` that is not a new or empty folder (or, with ``--force``, a folder
        riskcalc wrote), or that cannot be written.
    """
    from synthetic.cohort import MAX_PUPILS, generate_cohort
    from synthetic.io import tier_paths, write_tiers

    from .._outputs import check_folder_out, write_folder

    n = _synth_cli._parse_int(args.pupils, "--pupils", 1, MAX_PUPILS)
    seed = _synth_cli._parse_int(args.seed, "--seed", 0)
    tiers = _synth_cli._parse_tiers(args.tiers)
    out = Path(args.out)  # required by the parser
    check_folder_out(out, force=bool(args.force))  # synth reads no file
    show = sys.stderr.isatty()
    cohort = generate_cohort(n, rng=seed, progress=show)

    def fill(folder):
        write_tiers(cohort, folder, tiers=tiers, progress=show)

    write_folder(out, fill, force=bool(args.force), command="synth")
    for path in tier_paths(out, tiers).values():
        print(path)
    return 0
