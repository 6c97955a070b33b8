"""Exit statuses and signals: what the command prints when it cannot finish.

=====  ====================================================================================
0      done (also when stdout is a closed pipe: ``riskcalc ... | head``)
2      a usage error, a bad input file, an output that cannot be written, out of memory
3      an internal error: a bug, printed in one line (``--debug`` for the traceback)
130    interrupted (Ctrl-C)
143    terminated (SIGTERM: ``kill``, ``timeout``, ``docker stop``, a scheduler's cancel)
=====  ====================================================================================
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable

from ..exceptions import RiskCalcError

#: Python's message when the operating system refuses a thread (its stack is memory too).
_NO_THREAD = "can't start new thread"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it unwinds as for Ctrl-C: temporary
    folders removed, locks released, workers stopped."""


def _on_sigterm(signum, frame):
    raise Terminated()


def _default_in_child() -> None:
    """In a process forked while the handler is set: SIGTERM's default action again.

    A forked worker (the cohort's chunk workers, the background worker) inherits the handler;
    its parent ends it with ``terminate()`` (SIGTERM) when the run is cancelled, and the
    inherited handler then raised :class:`Terminated` inside the worker: a traceback on the
    shared stderr, or an exception sent back to the parent as the worker's result. A worker
    ends at once instead."""
    if signal.getsignal(signal.SIGTERM) is _on_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


_AT_FORK: list[bool] = []


def run_handling_sigterm(run: Callable[[], int]) -> int:
    """``run()`` with SIGTERM raising :class:`Terminated` in this process (when called from the
    main thread), the previous handler restored afterwards; processes forked meanwhile get
    the default action back (:func:`_default_in_child`)."""
    previous = None
    if threading.current_thread() is threading.main_thread():
        if not _AT_FORK and hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_default_in_child)
            _AT_FORK.append(True)
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return run()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def user_errors() -> tuple[type[BaseException], ...]:
    """The errors a user can cause: one line, exit status 2."""
    from ..release.synth import SyntheticError

    return (RiskCalcError, OSError, SyntheticError)


def out_of_memory(command: str, exc: BaseException) -> str:
    """The one line for an exhausted memory (no imports: there may be no memory for them)."""
    if isinstance(exc, RiskCalcError):  # the memory check's own message: needed and available
        return f"{command}: error: {exc}"
    if _NO_THREAD in str(exc):  # a thread's stack does not fit under the limits
        return (
            f"{command}: error: out of memory or threads: a thread could not start within this "
            "machine's or this process's limits (ulimit -v, ulimit -u, container). Run it on fewer "
            "records (tiers: fewer --pupils), or with higher limits."
        )
    return (
        f"{command}: error: out of memory: the job needs more memory than this machine "
        "or its limits (ulimit -v, container) allow. Run it on fewer records (tiers: fewer "
        "--pupils), or on a machine with more memory."
    )


def looks_like_oom(exc: BaseException) -> bool:
    """Whether ``exc`` is a library's own out-of-memory error (pandas' parser, C++)."""
    text = str(exc).lower()
    return (
        "out of memory" in text
        or "bad_alloc" in text
        or "cannot allocate memory" in text
        or (isinstance(exc, RuntimeError) and _NO_THREAD in text)
    )


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 600 else text[:597] + "..."


def exit_status(exc: BaseException, command: str, *, debug: bool = False) -> int:
    """Print the one line for ``exc``, raised by the command ``command``; return the exit status
    (re-raise an unexpected error with ``debug``)."""
    if isinstance(exc, Terminated):
        print("riskcalc: terminated", file=sys.stderr)
        return 143
    if isinstance(exc, KeyboardInterrupt):
        print("riskcalc: interrupted", file=sys.stderr)
        return 130
    if isinstance(exc, BrokenPipeError):
        return 0
    if isinstance(exc, MemoryError):
        print(out_of_memory(command, exc), file=sys.stderr)
        return 2
    if not isinstance(exc, Exception):  # SystemExit, GeneratorExit: not ours to report
        raise exc
    if isinstance(exc, user_errors()):
        print(f"{command}: error: {one_line(exc)}", file=sys.stderr)
        return 2
    if looks_like_oom(exc):
        print(out_of_memory(command, exc), file=sys.stderr)
        return 2
    if debug:
        raise exc
    print(
        f"{command}: internal error: {type(exc).__name__}: {one_line(exc)} "
        "(rerun with --debug for the traceback, and please report it)",
        file=sys.stderr,
    )
    return 3
