"""The ``synth`` options and their checks: generate a cohort and write its tier extracts to Parquet.

``riskcalc synth`` (``riskcalc/release/synth.py``) uses :func:`configure_parser` and the
argument checks here, and writes the extracts with riskcalc's own output writer (one set,
``manifest.json`` last, under a lock, never into a folder of the user's files). :func:`run`
is the generator's stand-alone version, which writes the files one by one into a folder.

Bad arguments raise :class:`synthetic.exceptions.SyntheticError` with one clear line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cohort import MAX_PUPILS, generate_cohort
from .exceptions import ExtractExistsError, SyntheticError

__all__ = ["configure_parser", "run"]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``synth`` options to ``parser``.

    Options: ``--pupils N`` (default 1,000,000, as riskcalc tiers), ``--seed S`` (default 0), ``--out DIR``
    (required), ``--tiers 1,2,3,4`` (default all) and ``--force``. Values are validated by
    :func:`run`, which raises :class:`SyntheticError` naming the bad value.
    """
    parser.description = (
        "Generate a synthetic NPD-like pupil cohort and write tier 1, 2 and 4 extracts and "
        "tier 3 aggregate tables as Parquet files in DIR."
    )
    parser.add_argument(
        "--pupils",
        metavar="N",
        default="1000000",
        help="number of pupils (default: 1000000, as riskcalc tiers)",
    )
    parser.add_argument(
        "--seed", metavar="S", default="0", help="random seed, a non-negative int (default: 0)"
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        required=True,
        help="output directory (created if its parent exists)",
    )
    parser.add_argument(
        "--tiers",
        metavar="T",
        default="1,2,3,4",
        help="comma-separated tiers to write (default: 1,2,3,4)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")


def _parse_int(value: object, option: str, lo: int, hi: int | None = None) -> int:
    text = str(value).replace("_", "")
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is None or number < lo or (hi is not None and number > hi):
        upper = "inf" if hi is None else str(hi)
        raise SyntheticError(
            f"{option} must be an integer in the range [{lo}, {upper}]. Got {value!r} instead."
        )
    return number


def _parse_tiers(value: object) -> tuple[int, ...]:
    parts = [p.strip() for p in str(value).split(",")]
    tiers = []
    for p in parts:
        if p not in {"1", "2", "3", "4"}:
            raise SyntheticError(
                f"--tiers must be a comma-separated list of 1, 2, 3, 4. Got {value!r} "
                f"(bad tier {p!r})."
            )
        if int(p) not in tiers:
            tiers.append(int(p))
    return tuple(sorted(tiers))


def run(args: argparse.Namespace) -> int:
    """Generate the cohort and write the requested extracts; return the exit status (0).

    Raises
    ------
    SyntheticError
        For a non-positive or non-integer ``--pupils``, a bad ``--seed``, an unknown tier,
        an output directory that cannot be created or written, or an existing output file
        without ``--force``.
    """
    from .io import (
        check_output_dir,
        tier_paths,
        write_tiers,
    )  # pyarrow: once the arguments are read

    n = _parse_int(args.pupils, "--pupils", 1, MAX_PUPILS)
    seed = _parse_int(args.seed, "--seed", 0)
    tiers = _parse_tiers(args.tiers)
    force = bool(getattr(args, "force", False))
    out = Path(args.out)
    if not out.exists():
        if out.parent.exists() and out.parent.is_dir():
            try:
                out.mkdir()
            except OSError as exc:
                raise SyntheticError(
                    f"--out directory cannot be created: '{out}' ({exc.strerror})."
                ) from None
        else:
            raise SyntheticError(f"--out directory's parent does not exist: '{out}'.")
    check_output_dir(out, "riskcalc synth (--out)")
    paths = tier_paths(out, tiers)
    if not force:
        existing = [str(p) for p in paths.values() if p.exists()]
        if existing:
            raise ExtractExistsError(
                f"--out already holds {len(existing)} output file(s), e.g. '{existing[0]}'; "
                f"pass --force to overwrite."
            )
    show = sys.stderr.isatty()
    cohort = generate_cohort(n, rng=seed, progress=show)
    written = write_tiers(cohort, out, tiers=tiers, force=force, progress=show)
    for path in written.values():
        print(path)
    return 0
