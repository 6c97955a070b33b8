"""Work on threads that cannot leave the caller waiting: results come back through each
thread's end (:meth:`threading.Thread.join`), never through a pool's bookkeeping.

A :class:`concurrent.futures.ThreadPoolExecutor` hands a result over by setting its future and
notifying the waiter; if that hand-over itself fails (an allocation failing there, under
``ulimit -v``), the future is never completed, or its waiter never woken, and the caller waits
for ever. A thread's end is signalled by the interpreter without allocating, so a caller that
joins the thread always wakes, and a thread that ended without handing over its result is then
reported as :class:`MemoryError`.

Under a finite address-space limit (:func:`riskcalc._memory.address_space_limited`) the work
runs in the calling thread, one item after another: two working sets at once need more address
space than one, and with two threads allocating, which of them meets the limit first varies from
run to run; in pandas' hash tables (which do not check what ``malloc`` returns) that is a
segmentation fault rather than a :class:`MemoryError`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable

__all__ = ["Alongside", "map_threads", "address_space_limit", "address_space_limited"]


def address_space_limit() -> int | None:
    """The soft ``ulimit -v`` (``RLIMIT_AS``) in bytes, ``None`` when unlimited or unknown."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY or soft < 0 else int(soft)


def address_space_limited() -> bool:
    """Whether this process runs under a finite address-space limit (``ulimit -v``).

    Under one, an allocation that does not fit fails (rather than the operating system
    over-committing), and where it fails decides what the user sees: in numpy a
    :class:`MemoryError` (one line), in pandas' hash tables, which do not check what ``malloc``
    returns, a segmentation fault. So work runs on one thread under such a limit (see the
    module notes), and the allocators are kept from reserving address space ahead of need
    (:func:`riskcalc._memory.fit_address_space_limit`).
    """
    return address_space_limit() is not None


class Alongside:
    """``fn(*args)`` on a thread of its own while the caller goes on (in the calling thread,
    when :meth:`result` is asked for, under an address-space limit).

    :meth:`result` waits for the thread to end and gives its value or raises its error;
    :meth:`abandon` (the caller failed) waits for it to end and starts no work.
    """

    def __init__(self, fn: Callable, *args, name: str = "riskcalc-alongside"):
        self._fn, self._args = fn, args
        self._outcome: list = []
        self._thread: threading.Thread | None = None
        if not address_space_limited():
            self._thread = threading.Thread(target=self._run, name=name, daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            outcome = (True, self._fn(*self._args))
        except BaseException as exc:
            outcome = (False, exc)
        self._deliver(outcome)

    def _deliver(self, outcome: tuple) -> None:
        self._outcome.append(outcome)

    def abandon(self) -> None:
        """The caller failed: wait for a running thread to end; start no work."""
        if self._thread is not None:
            self._thread.join()

    def result(self):
        if self._thread is None:
            return self._fn(*self._args)
        self._thread.join()
        if not self._outcome:
            raise MemoryError(f"the {self._thread.name} thread ended without its result")
        ok, value = self._outcome[0]
        if not ok:
            raise value
        return value


def map_threads(
    fn: Callable, items: Iterable, workers: int | None = None, *, name: str = "riskcalc-map"
) -> list:
    """``[fn(x) for x in items]`` on up to ``workers`` threads (default: the cores), in order.

    Each thread takes the next item until none is left (or one has failed); the caller joins
    every thread it started, then raises the error of the first item that failed. Serial under
    an address-space limit, or with one worker. A thread that could not start (its stack is
    memory too) ends the map with that error, once the threads already started have ended.
    """
    items = list(items)
    n = len(items)
    workers = min(n, workers or os.cpu_count() or 1)
    if workers <= 1 or address_space_limited():
        return [fn(x) for x in items]
    out: list = [None] * n
    done = [False] * n
    errors: list = []
    lock = threading.Lock()
    taken = [0]

    def work() -> None:
        while not errors:
            with lock:
                i = taken[0]
                taken[0] += 1
            if i >= n:
                return
            try:
                out[i] = fn(items[i])
            except BaseException as exc:
                errors.append((i, exc))
                return
            done[i] = True

    started = []
    try:
        for k in range(workers):
            thread = threading.Thread(target=work, name=f"{name}-{k}", daemon=True)
            thread.start()
            started.append(thread)
    finally:
        for thread in started:
            thread.join()
    if errors:
        raise min(errors, key=lambda e: e[0])[1]
    if not all(done):
        raise MemoryError(f"a {name} thread ended without its result")
    return out
