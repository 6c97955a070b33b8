"""The ``riskcalc`` command line: it parses, calls the library and prints.

One module per command (:mod:`.analyse`, :mod:`.lattice`, :mod:`.suda`, :mod:`.tiers`,
:mod:`.report`, :mod:`.synth`, :mod:`.attack`, :mod:`.check_output`, :mod:`.audit_tables`, :mod:`.ledger`),
each with ``HELP``, ``DESCRIPTION``, ``configure(parser)`` and ``run(args)``; the parser, the
option checks and the shared options in :mod:`._options`; writing outputs in :mod:`._output`;
exit statuses and signals in :mod:`._errors`. Nothing in the library imports this package.

Every error a user can cause prints one line on stderr and exits with status 2; nothing prints
a traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import sys
from types import ModuleType

from .._version import __version__
from . import (
    analyse,
    attack,
    audit_tables,
    check_output,
    lattice,
    ledger,
    report,
    suda,
    synth,
    tiers,
)
from ._errors import exit_status, run_handling_sigterm
from ._options import Parser, UsageError

__all__ = ["UsageError", "build_parser", "console", "main"]

#: ``(name, aliases, module)`` of every command, in the order ``riskcalc --help`` lists them.
COMMANDS: tuple[tuple[str, list[str], ModuleType], ...] = (
    ("analyse", ["analyze"], analyse),
    ("lattice", [], lattice),
    ("suda", [], suda),
    ("tiers", [], tiers),
    ("report", [], report),
    ("synth", [], synth),
    ("attack", [], attack),
    ("check-output", [], check_output),
    ("audit-tables", [], audit_tables),
    ("ledger", [], ledger),
)


def build_parser() -> argparse.ArgumentParser:
    """The full ``riskcalc`` parser: every command, with its options and help texts.

    ``parser.commands`` maps each command name (aliases included) to its subparser.
    """
    parser = Parser(
        prog="riskcalc",
        description="How identifiable is this extract? Disclosure-risk measures for record-level data.",
    )
    parser.add_argument("--version", action="version", version=f"riskcalc {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, aliases, module in COMMANDS:
        module.configure(
            sub.add_parser(name, aliases=aliases, help=module.HELP, description=module.DESCRIPTION)
        )
    parser.commands = dict(sub.choices)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status.

    SIGTERM (``kill``, ``timeout``, ``docker stop``, a scheduler's cancel) is handled as Ctrl-C:
    one line, nothing left behind, exit status 143 (130 for Ctrl-C).
    """
    return run_handling_sigterm(lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    try:
        sys.stderr.reconfigure(errors="backslashreplace")  # a message must always print
    except (AttributeError, ValueError):  # pragma: no cover - a replaced stderr
        pass
    command = "riskcalc"  # the prefix of every message: "riskcalc CMD"
    args = None
    try:
        parser = build_parser()
        try:
            args, extra = parser.parse_known_args(argv)
            if extra:  # reported by the subcommand, so the message names it
                parser.commands.get(getattr(args, "command", None), parser).error(
                    f"unrecognized arguments: {' '.join(extra)}"
                )
        except SystemExit as exc:  # argparse has printed its one line (or --help / --version)
            return exc.code if isinstance(exc.code, int) else 2
        command = f"riskcalc {args.command}"
        from .._provenance import reset_command, set_command

        token = set_command(sys.argv[1:] if argv is None else argv)
        try:
            return int(args.func(args) or 0)
        finally:  # the command line belongs to this run's outputs only
            reset_command(token)
    except BaseException as exc:
        return exit_status(exc, command, debug=bool(getattr(args, "debug", False)))


def console() -> None:
    """The ``riskcalc`` command (and ``python -m riskcalc``): :func:`main`, then exit.

    Every object alive is moved out of the cyclic garbage collector's reach
    (:func:`gc.freeze`): after the imports, and again after a job's own imports
    (:func:`riskcalc._memory.imports_done`: the tiers job imports pandas after starting its
    cohort), so that the collections during the run do not walk the modules' objects again and
    again (0.1-0.15 s of a main job), and before the
    interpreter shuts down, when the last collection would otherwise walk the millions of
    objects numba leaves behind (about half a second, after the outputs are written and
    closed). Only the ``riskcalc`` command is affected, not :func:`main` called from Python.
    """
    import gc

    from .._memory import freeze_after_imports

    gc.freeze()
    freeze_after_imports()  # and again once a job has imported its modules (riskcalc._memory)
    code = main()
    gc.freeze()
    sys.exit(code)
