"""The parser, its one-line errors, the ``type=`` checks of option values and the options that
several commands share.

A bad value is refused while the command line is parsed, with one line naming the option:
``riskcalc CMD: error: --thresholds takes comma-separated whole numbers; got 'x'.`` (exit 2).
Nothing here imports pandas or pyarrow: ``riskcalc --help`` stays quick.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .. import _render
from ..exceptions import RiskCalcError


class UsageError(RiskCalcError, ValueError):
    """A command-line argument that cannot be used as given (one line, exit status 2)."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors, without the usage block.

    An option value refused by one of the checks below prints the check's own line,
    ``riskcalc CMD: error: MESSAGE``; argparse's own errors (unknown option, bad choice, missing
    argument) print ``riskcalc CMD: error: MESSAGE (see riskcalc CMD --help)``.
    """

    #: every command name (aliases included) to its subparser; set by :func:`build_parser`
    commands: dict[str, argparse.ArgumentParser]

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("exit_on_error", False)  # parse_known_args below reports the error
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args=None, namespace=None):
        try:
            return super().parse_known_args(args, namespace)
        except argparse.ArgumentError as err:
            # argparse wraps what a type= check raised; the check's message names its option
            if isinstance(err.__context__, UsageError):
                self.exit(2, f"{self.prog}: error: {err.__context__}\n")
            self.error(str(err))

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# ---------------------------------------------------------------------------------------------
# type= checks: each returns a callable taking the option's text
# ---------------------------------------------------------------------------------------------


def _named(check: Callable, name: str) -> Callable:
    """``check`` under argparse's name for it: a plain ``ValueError`` from it prints as
    ``argument --x: invalid NAME value: 'text'``."""
    check.__name__ = name
    return check


def split(text: str) -> list[str]:
    return [t.strip() for t in text.split(",")]


def names(
    option: str, what: str = "column names", *, empty: bool = False, keep_text: bool = False
) -> Callable:
    """Comma-separated names, none empty: the list, or with ``keep_text`` the text itself once
    checked (for a provenance that records the option as given; :func:`split` it). With
    ``empty``, an empty text is accepted (the option's default applies)."""

    def check(text: str) -> list[str] | str:
        if empty and not text:
            return text
        parts = split(text)
        if any(not n for n in parts):
            raise UsageError(f"{option} takes comma-separated {what}; got {text!r}.")
        return text if keep_text else parts

    return _named(check, "names")


def loose_names(text: str) -> list[str]:
    """Comma-separated names, empty ones dropped (``--intruders ,`` is every profile)."""
    return [t.strip() for t in text.split(",") if t.strip()]


def whole_numbers(option: str) -> Callable:
    """Comma-separated whole numbers, each at least 1."""

    def check(text: str) -> list[int]:
        out = []
        for part in text.split(","):
            part = part.strip()
            try:
                out.append(int(part))
            except ValueError:
                raise UsageError(
                    f"{option} takes comma-separated whole numbers; got {part!r}."
                ) from None
            if out[-1] < 1:
                raise UsageError(f"{option} takes whole numbers of at least 1; got {out[-1]}.")
        return out

    return _named(check, "list")


def at_least(minimum: int, message: str) -> Callable:
    """A whole number of at least ``minimum``; ``message`` (formatted with ``value``) refuses a
    smaller one. Text that is not a number is argparse's ``invalid int value``."""

    def check(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise UsageError(message.format(value=value))
        return value

    return _named(check, "int")


def share(message: str) -> Callable:
    """A number in (0, 1]; ``message`` (formatted with ``value``) refuses another."""

    def check(text: str) -> float:
        value = float(text)
        if not 0 < value <= 1:
            raise UsageError(message.format(value=value))
        return value

    return _named(check, "float")


def integer_in(option: str, lo: int, hi: int | Callable[[], int] | None = None) -> Callable:
    """An integer in ``[lo, hi]`` (``_`` allowed between digits); ``hi`` may be a function,
    called when a value is checked (the generator's limit, imported only then)."""

    def check(text: str) -> int:
        upper = hi() if callable(hi) else hi
        try:
            number = int(str(text).replace("_", ""))
        except ValueError:
            number = None
        if number is None or number < lo or (upper is not None and number > upper):
            shown = "inf" if upper is None else str(upper)
            raise UsageError(
                f"{option} must be an integer in the range [{lo}, {shown}]. Got {text!r} instead."
            )
        return number

    return _named(check, "int")


def tier_set(text: str) -> tuple[int, ...]:
    """``--tiers`` of ``synth``: comma-separated tiers from 1-4, sorted, each once."""
    tiers: list[int] = []
    for p in (p.strip() for p in str(text).split(",")):
        if p not in {"1", "2", "3", "4"}:
            raise UsageError(
                f"--tiers must be a comma-separated list of 1, 2, 3, 4. Got {text!r} "
                f"(bad tier {p!r})."
            )
        if int(p) not in tiers:
            tiers.append(int(p))
    return tuple(sorted(tiers))


def attack_tiers(text: str) -> list[int]:
    """``--tiers`` of ``attack``: comma-separated whole numbers (which tiers exist is the
    experiment's check)."""
    try:
        return [int(t) for t in loose_names(text)]
    except ValueError:
        raise UsageError(
            f"--tiers takes comma-separated tiers from 1, 2, 4; got {text!r}."
        ) from None


def column_map(text: str) -> dict[str, str]:
    """``--columns FIELD=COLUMN,...`` of ``report``."""
    from ..release.quality import parse_column_map

    try:
        return parse_column_map(text)
    except RiskCalcError as exc:
        raise UsageError(str(exc)) from None


# ---------------------------------------------------------------------------------------------
# options several commands share
# ---------------------------------------------------------------------------------------------


def add_sheet_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sheet",
        metavar="NAME|NUMBER",
        help="the sheet of an Excel workbook to read: its name, or its number counting from 1 "
        "(default: the first sheet)",
    )


def add_normalise_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--normalise",
        action="store_true",
        help="unify the spellings of each value before measuring: case and spaces, numbers, UK "
        "postcodes (DL10NG -> DL1 0NG), year groups (Year 5, Y5 -> 5), sex codes, dates (-> ISO, "
        "day first); each rule is reported and recorded in the provenance, the file is not changed",
    )


def add_engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        default="memory",
        choices=["memory", "spark"],
        help="where to compute: in memory (default) or on Spark, for Parquet datasets too big for "
        "memory (the active session, else local mode; needs riskcalc[spark])",
    )
    p.add_argument(
        "--spark-master",
        metavar="URL",
        help="with --engine spark: the Spark master (default: the active session, else local[*])",
    )


def engine(args: argparse.Namespace, memory_function, spark_name: str):
    """The job function for ``--engine``: the in-memory one, or its Spark twin."""
    if getattr(args, "engine", "memory") != "spark":
        if getattr(args, "spark_master", None):
            raise UsageError("--spark-master needs --engine spark.")
        return memory_function
    import functools

    from ..release import spark_job

    return functools.partial(getattr(spark_job, spark_name), spark_master=args.spark_master)


def add_file_output_options(p: argparse.ArgumentParser) -> None:
    """``--format``, ``--out FILE``, ``--force`` of the commands writing one table."""
    p.add_argument(
        "--format", default="text", choices=_render.FORMATS, help="output format (default text)"
    )
    p.add_argument(
        "--out", metavar="FILE", help="write the table to FILE (atomically) instead of stdout"
    )
    p.add_argument("--force", action="store_true", help="replace --out if it exists")


def add_input_options(p: argparse.ArgumentParser, what: str) -> None:
    """The input file and its reading options, of lattice and suda."""
    p.add_argument("file", help="CSV, TSV, Parquet, Feather or Excel file of records")
    p.add_argument(
        "--fields", required=True, type=names("--fields"), help=f"comma-separated {what}"
    )
    p.add_argument("--sep", help="CSV delimiter (guessed from the header by default)")
    add_sheet_option(p)
    add_normalise_option(p)
    add_progress_option(p, "progress bar on stderr (default: when stderr is a terminal)")


def add_progress_option(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help=help)


def add_report_options(p: argparse.ArgumentParser) -> None:
    """The options of the two commands writing the tier table and HTML report (tiers, report)."""
    p.add_argument(
        "--scenarios",
        metavar="FILE",
        help="TOML file of intruder scenarios (default: the built-in ones)",
    )
    p.add_argument(
        "--out", metavar="DIR", help="write CSV, JSON, Markdown, LaTeX and the HTML report to DIR"
    )
    p.add_argument(
        "--format",
        default="markdown",
        choices=_render.FORMATS,
        help="table printed on stdout (default markdown)",
    )
    p.add_argument("--force", action="store_true", help="replace files in --out")
    add_progress_option(p, "progress messages on stderr (default: when stderr is a terminal)")
