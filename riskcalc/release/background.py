"""Independent parts of a job on a second core: one worker process, forked while it is safe.

The main job's longitudinal section (a synthetic panel of its own, see
:func:`riskcalc.release.history.history_section`) needs nothing from the cohort, so it can run
while the cohort is generated and measured. :class:`Background` forks one worker at the start
of a job, when forking is safe and useful, and runs such work there:

* the platform forks cheaply and safely (Linux; macOS and Windows start processes afresh, which
  re-imports the caller's script, so they run the work in the calling process instead);
* the process runs no other Python thread and has not started the compiled kernels' thread
  pool (forking then can deadlock or abort the child: a notebook that already ran parallel
  kernels runs the work inline). The idle threads of numpy's BLAS and of Arrow's allocator
  are fork-safe: both libraries reset them in the child;
* more than one core is available to the process (``os.sched_getaffinity``).

Otherwise, or when the environment variable ``RISKCALC_BACKGROUND=0``, or if the worker dies,
the work runs in the calling process when its result is asked for. Either way the result is the
same object with the same values: where it ran changes the elapsed time only.
"""

from __future__ import annotations

import os
import sys
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

from .._core.kernels import parallel_started

__all__ = ["Background", "can_fork"]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether a worker can be forked now, safely and usefully (see the module notes)."""
    if os.environ.get("RISKCALC_BACKGROUND", "1").strip() == "0":
        return False
    return (sys.platform.startswith("linux") and _cores() > 1 and threading.active_count() == 1
            and not parallel_started())


class Background:
    """One forked worker for independent work, or the calling process when forking is unsafe.

    Use as a context manager; :meth:`submit` returns a function giving the result.
    """

    def __init__(self) -> None:
        self._pool = None
        if can_fork():
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))

    @property
    def forked(self) -> bool:
        return self._pool is not None

    def submit(self, fn: Callable, *args, **kwargs) -> Callable[[], object]:
        """Start ``fn(*args, **kwargs)`` in the worker (now) or in this process (when asked)."""
        future: Future | None = None
        if self._pool is not None:
            try:
                with warnings.catch_warnings():  # Python 3.12+ warns of any thread; see above
                    warnings.filterwarnings("ignore", message=".*multi-threaded.*", category=DeprecationWarning)
                    future = self._pool.submit(fn, *args, **kwargs)
            except (BrokenProcessPool, OSError, RuntimeError):  # pragma: no cover - fork refused
                future = None

        def result():
            if future is not None:
                try:
                    return future.result()
                except BrokenProcessPool:  # the worker died (for example killed): redo it here
                    pass
            return fn(*args, **kwargs)

        return result

    def map(self, fn: Callable, items: list) -> list:
        """``[fn(x) for x in items]``: the first half on the worker, the rest here, at once."""
        if self._pool is None or len(items) < 2:
            return [fn(x) for x in items]
        far = [self.submit(fn, x) for x in items[: len(items) // 2]]
        near = [fn(x) for x in items[len(far):]]
        return [result() for result in far] + near

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Background:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
