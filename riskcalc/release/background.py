"""Independent parts of a job on a second core: one worker process, forked while it is safe.

The main job's longitudinal section (a synthetic panel of its own, see
:func:`riskcalc.release.history.history_section`) needs nothing from the cohort, so it can run
while the cohort is generated and measured. :class:`Background` forks one worker early in a
job (the tiers job: once its cohort's workers are started and its modules imported, so that the
worker inherits them), when forking is safe and useful, and runs such work there:

* the platform forks cheaply and safely (Linux; macOS and Windows start processes afresh, which
  re-imports the caller's script, so they run the work in the calling process instead);
* the process runs no other Python thread and has not started the compiled kernels' thread
  pool (forking then can deadlock or abort the child: a notebook that already ran parallel
  kernels runs the work inline). The idle threads of numpy's BLAS and of Arrow's allocator
  are fork-safe: both libraries reset them in the child;
* more than one core is available to the process (``os.sched_getaffinity``).

The worker leaves no thread in the calling process: work goes to it, and results come back,
over two pipes, which the worker's own threads read and write. So the calling process may fork
again afterwards as safely as before. Garbage is collected just before the fork, so that the
worker's own collections never free objects of a library whose threads a fork does not copy
(DuckDB's, left by a Splink run, crashed it). :meth:`Background.keep` and
:meth:`Background.then` chain work in the worker: ``then(earlier, fn)`` runs ``fn`` on the
value the worker kept, without it coming back to the calling process first.

Otherwise, or when the environment variable ``RISKCALC_BACKGROUND=0``, or if the worker dies,
the work runs in the calling process when its result is asked for. Either way the result is the
same object with the same values: where it ran changes the elapsed time only.
"""

from __future__ import annotations

import os
import pickle
import queue
import sys
import threading
from collections.abc import Callable

from .._core.kernels import parallel_started

__all__ = ["Background", "Result", "can_fork"]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether a worker can be forked now, safely and usefully (see the module notes)."""
    if os.environ.get("RISKCALC_BACKGROUND", "1").strip() == "0":
        return False
    return (
        sys.platform.startswith("linux")
        and _cores() > 1
        and threading.active_count() == 1
        and not parallel_started()
    )


_DEAD = object()  # a result the worker could not give: the work is redone in the caller


def _serve(tasks, results, parent: int | None = None) -> None:
    """The worker: run each task it is sent, in order, and send its result back.

    One thread reads the tasks as they arrive and one writes the results, so the caller never
    waits on a full pipe while this process computes."""
    from synthetic._parallel import die_with_parent

    die_with_parent(parent)
    inbox: queue.SimpleQueue = queue.SimpleQueue()
    outbox: queue.SimpleQueue = queue.SimpleQueue()

    def read() -> None:
        while True:
            try:
                item = tasks.recv()
            except (EOFError, OSError):
                item = None
            inbox.put(item)
            if item is None:
                return

    def write() -> None:
        while (item := outbox.get()) is not None:
            try:
                results.send(item)
            except (BrokenPipeError, EOFError):  # the caller has gone: nothing to answer
                return
            except Exception:
                results.send((item[0], "dead", None))

    threading.Thread(target=read, daemon=True).start()
    writer = threading.Thread(target=write)
    writer.start()
    kept: dict[int, object] = {}  # results that later tasks read (Background.keep / then)
    while (item := inbox.get()) is not None:
        index, payload = item
        try:
            fn, args, kwargs, keep, after = pickle.loads(payload)
            if after is not None and after not in kept:  # it failed or died: the caller redoes both
                outbox.put((index, "dead", None))
                continue
            value = fn(*((kept[after],) if after is not None else ()), *args, **kwargs)
            if keep:
                kept[index] = value
            outbox.put((index, "ok", value))
        except BaseException as exc:
            outbox.put((index, "error", exc))
    outbox.put(None)
    writer.join()


class Result:
    """The result of work given to :meth:`Background.submit`: call it for the value (waiting
    for the worker, or computing it here); :meth:`ready` says whether calling it now would
    not wait."""

    def __init__(self, background: Background, index: int | None, fn, args, kwargs):
        self._background, self._index = background, index
        self._work = (fn, args, kwargs)
        self._value: list = []
        self._kept = False  # set by Background.keep when the worker keeps the value

    def ready(self) -> bool:
        if self._value:
            return True
        if self._index is None or self._background._process is None:
            return False
        return self._background._arrived(self._index)

    def __call__(self):
        if not self._value:
            fn, args, kwargs = self._work
            answer = _DEAD
            if self._index is not None and self._background._process is not None:
                answer = self._background._answer(self._index)
            self._value.append(fn(*args, **kwargs) if answer is _DEAD else answer)
            self._work = None
        return self._value[0]


class Background:
    """One forked worker for independent work, or the calling process when forking is unsafe.

    Use as a context manager; :meth:`submit` returns a function giving the result.
    """

    def __init__(self) -> None:
        self._process = None
        self._sent = 0
        self._results: dict[int, tuple] = {}
        if can_fork():
            import gc
            import multiprocessing

            # Garbage left by earlier work is collected here, not in the worker: a cycle holding
            # a native library's objects (DuckDB's, under Splink) is freed by its own process;
            # the worker, whose copy has no library threads, crashed freeing one.
            gc.collect()
            ctx = multiprocessing.get_context("fork")
            tasks_r, self._tasks = ctx.Pipe(duplex=False)
            self._answers, results_w = ctx.Pipe(duplex=False)
            process = ctx.Process(
                target=_serve,
                args=(tasks_r, results_w, os.getpid()),
                daemon=True,
                name="riskcalc-background",
            )
            try:
                process.start()
            except OSError:  # fork refused (no memory, process limit): the work runs here
                self._tasks.close()
                self._answers.close()
            else:
                self._process = process
            tasks_r.close()  # the worker's ends: its death then ends the pipes
            results_w.close()

    @property
    def forked(self) -> bool:
        return self._process is not None

    def submit(self, fn: Callable, *args, **kwargs) -> Result:
        """Start ``fn(*args, **kwargs)`` in the worker (now) or in this process (when asked)."""
        return Result(self, self._send(fn, args, kwargs), fn, args, kwargs)

    def keep(self, fn: Callable, *args, **kwargs) -> Result:
        """:meth:`submit`, the worker also keeping the value for work sent with :meth:`then`."""
        result = Result(self, self._send(fn, args, kwargs, keep=True), fn, args, kwargs)
        result._kept = result._index is not None
        return result

    def then(self, earlier: Result, fn: Callable, *args, **kwargs) -> Result:
        """Start ``fn(value, *args, **kwargs)`` on the value of ``earlier`` (a :meth:`keep`
        result) where that value is: in the worker, as soon as it is done there, without its
        coming back first; in this process otherwise (when asked)."""
        after = earlier._index if earlier._kept else None
        index = self._send(fn, args, kwargs, after=after) if after is not None else None
        return Result(self, index, lambda: fn(earlier(), *args, **kwargs), (), {})

    def _send(
        self, fn, args, kwargs, *, keep: bool = False, after: int | None = None
    ) -> int | None:
        """The number of the task sent to the worker, or ``None`` when it runs here."""
        if self._process is None:
            return None
        try:
            payload = pickle.dumps(
                (fn, args, kwargs, keep, after), protocol=pickle.HIGHEST_PROTOCOL
            )
        except Exception:
            return None
        try:
            self._tasks.send((self._sent, payload))
        except OSError:  # the worker has died
            return None
        self._sent += 1
        return self._sent - 1

    def _receive(self) -> bool:
        """Read one answer from the worker; ``False`` when none can come any more."""
        try:
            got, status, value = self._answers.recv()
        except (EOFError, OSError, pickle.UnpicklingError, AttributeError, ImportError):
            return False  # the worker died, or its answer cannot be read here
        self._results[got] = (status, value)
        return True

    def _arrived(self, index: int) -> bool:
        """Whether task ``index``'s answer is here (or never will be), without waiting."""
        try:
            while index not in self._results and self._answers.poll():
                if not self._receive():
                    return True
        except (EOFError, OSError):
            return True
        return index in self._results

    def _answer(self, index: int):
        """Task ``index``'s result from the worker (raising its error), or ``_DEAD``."""
        while index not in self._results:
            if not self._receive():
                return _DEAD
        status, value = self._results.pop(index)
        if status == "error":
            raise value
        return _DEAD if status == "dead" else value

    def close(self) -> None:
        if self._process is None:
            return
        process, self._process = self._process, None
        try:
            self._tasks.send(None)  # done: the worker finishes its current task and exits
        except OSError:
            pass
        self._tasks.close()
        self._answers.close()  # answers nobody asked for are dropped
        process.join(timeout=5)
        if process.is_alive():  # still busy with work nobody waits for
            process.terminate()
            process.join()

    def __enter__(self) -> Background:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
