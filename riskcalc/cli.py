"""The ``riskcalc`` command line: a thin shell over the library's functions.

Every error a user can cause prints one line on stderr and exits with status 2; nothing prints a
traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib import resources
from pathlib import Path

from . import _render
from ._io import write_text_atomic
from ._version import __version__
from .exceptions import RiskCalcError

EXAMPLE_QI = "sex,date_of_birth,postcode"


def _example_path() -> Path:
    return Path(str(resources.files("riskcalc") / "data" / "sample_pupils.csv"))


class UsageError(RiskCalcError, ValueError):
    """A command-line argument that cannot be used as given."""


def _split_names(text: str | None, option: str) -> list[str]:
    if text is None:
        return []
    names = [t.strip() for t in text.split(",")]
    if any(not n for n in names):
        raise UsageError(f"{option} takes comma-separated column names; got {text!r}.")
    return names


def _split_ints(text: str, option: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip()
        try:
            out.append(int(part))
        except ValueError:
            raise UsageError(f"{option} takes comma-separated whole numbers; got {part!r}.") from None
        if out[-1] < 1:
            raise UsageError(f"{option} takes whole numbers of at least 1; got {out[-1]}.")
    return out


# ---------------------------------------------------------------------------------------------
# analyse
# ---------------------------------------------------------------------------------------------


def _configure_analyse(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", help="CSV, TSV, Parquet or Feather file of records")
    p.add_argument("--example", action="store_true", help="analyse the small synthetic sample that ships with riskcalc")
    p.add_argument("--qi", help="comma-separated quasi-identifier columns" + f" (with --example, default {EXAMPLE_QI})")
    p.add_argument("--weights", metavar="COL", help="column of sampling weights (adds Fk-based rows)")
    p.add_argument("--thresholds", default="2,3,5,10", help="k thresholds t: records in classes with fk < t (default 2,3,5,10)")
    p.add_argument("--count-thresholds", default="1,2,3,5,10", help="small-cell thresholds t: cells with 0 < count <= t (default 1,2,3,5,10)")
    p.add_argument("--missing", default="category", choices=["category", "raise"], help="missing-value policy (default category)")
    p.add_argument("--sep", help="CSV delimiter (guessed from the header by default)")
    _add_output_options(p)
    p.set_defaults(func=_run_analyse)


def _add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", default="text", choices=_render.FORMATS, help="output format (default text)")
    p.add_argument("--out", metavar="FILE", help="write the table to FILE (atomically) instead of stdout")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")


def _run_analyse(args: argparse.Namespace) -> int:
    from .summary import MEASURE_LABELS, risk_summary

    if args.example and args.file:
        raise UsageError("give either FILE or --example, not both.")
    if not args.example and not args.file:
        raise UsageError("give a FILE to analyse (or --example for the bundled sample).")
    path = _example_path() if args.example else Path(args.file)
    qi = _split_names(args.qi if args.qi is not None else (EXAMPLE_QI if args.example else None), "--qi")
    if not qi:
        raise UsageError("--qi is required: name the quasi-identifier columns, e.g. --qi sex,date_of_birth,postcode.")
    summary = risk_summary(
        path,
        qi,
        weights=args.weights,
        k_thresholds=_split_ints(args.thresholds, "--thresholds"),
        count_thresholds=_split_ints(args.count_thresholds, "--count-thresholds"),
        missing=args.missing,
        sep=args.sep,
    )
    frame = summary.to_frame()
    prov = summary.provenance
    if args.format == "text":
        shown = frame.assign(measure=frame["measure"].map(MEASURE_LABELS))
        shown = shown.rename(columns={"threshold": "t"})
        text = _text_header(prov, summary) + "\n" + _render.to_text(shown)
    else:
        text = _render.render(frame, args.format, prov)
    _emit(text, args, prov)
    return 0


def _text_header(prov: dict, summary) -> str:
    params, inp = prov["parameters"], prov["input"]
    lines = [
        f"riskcalc {prov['riskcalc_version']} - analyse {inp['source']} "
        f"({inp['n_records']:,} records)",
        f"quasi-identifiers: {', '.join(params['quasi_identifiers'])}",
        f"missing values: {params['missing']}"
        + (f"; weights: {params['weights']}" if params["weights"] else ""),
    ]
    return "\n".join(lines) + "\n"


def _emit(text: str, args: argparse.Namespace, prov: dict) -> None:
    if args.out:
        out = Path(args.out)
        if not args.force:
            for target in (out, out.with_name(out.name + ".provenance.json")):
                if target.exists():
                    raise UsageError(f"{str(target)!r} exists already; add --force to replace it.")
        write_text_atomic(out, text, force=args.force)
        if args.format != "json":
            sidecar = out.with_name(out.name + ".provenance.json")
            write_text_atomic(sidecar, json.dumps(prov, indent=2, sort_keys=True) + "\n", force=args.force)
        print(f"wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="riskcalc",
        description="How identifiable is this extract? Disclosure-risk measures for record-level data.",
    )
    parser.add_argument("--version", action="version", version=f"riskcalc {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _configure_analyse(
        sub.add_parser(
            "analyse",
            aliases=["analyze"],
            help="k-anonymity, uniqueness and small counts of one table",
            description="Measure how identifiable the records of FILE are on the quasi-identifiers --qi.",
        )
    )
    _add_synth(sub)
    return parser


def _add_synth(sub) -> None:
    try:
        from synthetic import _cli as synth_cli
    except ImportError:  # pragma: no cover - the synthetic package ships with riskcalc
        return
    p = sub.add_parser(
        "synth",
        help="generate a synthetic NPD-like cohort and its tier extracts",
        description="Generate a synthetic pupil cohort and write tier 1-4 extracts to --out.",
    )
    synth_cli.configure_parser(p)
    p.set_defaults(func=synth_cli.run)


def _user_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [RiskCalcError, OSError]
    try:
        from synthetic.exceptions import SyntheticError

        errors.append(SyntheticError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("riskcalc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except _user_errors() as exc:
        print(f"riskcalc {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # an unexpected error is a bug: say so in one line
        if args.debug:
            raise
        print(
            f"riskcalc {args.command}: internal error: {type(exc).__name__}: {exc} "
            "(rerun with --debug for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
