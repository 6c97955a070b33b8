"""LA chunks on every core: the column store the chunks write into, and the worker processes.

Each LA chunk draws only from its own streams (``SeedSequence((root, hash(field), la_code))``,
:mod:`synthetic._rng`), so chunks can be generated in any order, by any process, and the
cohort is the same byte for byte whatever the number of workers.

* :class:`ColumnStore` holds one preallocated array per output column (``n_pupils`` rows); a
  chunk writes its rows at its LA's row offset. Chunk-local categoricals (postcodes, sectors,
  districts, LSOAs) store their local codes and keep the chunk's category list and the
  categories' keys (their numbers across England: pupils of several chunks may live at one
  postcode); their codes are mapped to cohort codes once every chunk is in
  (:meth:`ColumnStore.finish_categories`).
* :func:`start_fill` starts the chunks and returns a :class:`Filling`, whose
  :meth:`~Filling.finish` waits for them. The chunks run in the calling process
  (``workers == 1`` or a small cohort), or in worker processes:
  - on Linux, forked :class:`_ForkedWorkers`: the arrays live in anonymous shared memory
    (``mmap``), each worker takes the next chunk from a shared counter (largest chunks first,
    so the workers stay balanced), writes its rows in place and sends back only the chunks'
    category lists, once, when it has no chunk left. They start no thread in the calling
    process, which may go on (import pandas, fork again) while they work: the main job starts
    its cohort first of all (:func:`synthetic.start_cohort`);
  - elsewhere (macOS, Windows: ``spawn``), a process pool (:func:`pool_executor`) whose workers
    send back their chunk's columns, which the calling process copies in, before
    :func:`start_fill` returns; a script that asks for ``workers > 1`` there needs the usual
    ``if __name__ == "__main__":`` guard.

The smallest LA with pupils always runs first, in the calling process: its chunk fixes each
column's dtype and width, which are the same in every chunk (numpy dtypes do not depend on
values, and the fixed-width text columns have one width), so the store is the one-process
loop's.
"""

from __future__ import annotations

import math
import mmap
import multiprocessing
import numbers
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np
import numpy.typing as npt

from ._plan import Plan
from ._rng import stream
from ._samplers import SAMPLERS, Chunk, LocalCategorical
from .exceptions import SyntheticError

Samplers = Sequence[tuple[str, Callable]]

__all__ = [
    "MIN_PARALLEL_PUPILS",
    "ColumnStore",
    "Filling",
    "check_workers",
    "chunk_columns",
    "pool_executor",
    "start_fill",
    "start_method",
    "usable_cores",
]

#: Cohorts below this many pupils are generated in the calling process whatever ``workers``
#: says: a pool costs more to start than it saves there.
MIN_PARALLEL_PUPILS = 200_000


def usable_cores() -> int:
    """CPU cores this process may run on (affinity mask where the OS has one)."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13+
        count = os.process_cpu_count()
    elif hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0))
    else:
        count = os.cpu_count()
    return max(1, int(count or 1))


def start_method() -> str:
    """``"fork"`` on Linux (shared-memory output), ``"spawn"`` elsewhere."""
    return "fork" if sys.platform.startswith("linux") else "spawn"


def check_workers(workers: object, *, func: str) -> int:
    """Validate ``workers`` (None or an int >= 1) and return the number of processes to use.

    None means every usable core on Linux and one process elsewhere (``spawn`` needs a main-module
    guard in the caller's script, so it is used only when asked for).
    """
    if workers is None:
        return usable_cores() if start_method() == "fork" else 1
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or int(workers) < 1:
        raise SyntheticError(
            f"The 'workers' parameter of {func} must be None or an int >= 1. "
            f"Got {workers!r} instead."
        )
    return int(workers)


def chunk_columns(
    plan: Plan, la: int, samplers: Samplers = SAMPLERS, keep: frozenset | None = None
) -> dict:
    """Run ``samplers`` on LA ``la``; return its columns (chunk rows, internal codes), only
    those in ``keep`` when given."""
    chunk = Chunk(plan=plan, la=la)
    key = int(plan.la_code[la])
    for name, sampler in samplers:
        chunk.cols.update(sampler(stream(plan.root, name, key), chunk))
    if keep is None:
        return chunk.cols
    return {col: value for col, value in chunk.cols.items() if col in keep}


def _empty(shape: tuple[int, ...], dtype: npt.DTypeLike, shared: bool) -> np.ndarray:
    dtype = np.dtype(dtype)
    count = math.prod(shape)
    if not shared:
        return np.empty(shape, dtype=dtype)
    # anonymous MAP_SHARED memory: forked workers write into the parent's pages
    buf = mmap.mmap(-1, max(count * dtype.itemsize, 1))
    return np.frombuffer(buf, dtype=dtype, count=count).reshape(shape)


class ColumnStore:
    """The cohort's columns, preallocated from the first chunk's dtypes and widths."""

    def __init__(self, plan: Plan, first: dict, *, shared: bool) -> None:
        n = int(plan.n_pupils)
        self.plan = plan
        self.arrays: dict[str, np.ndarray] = {}
        self.categories: dict[str, dict[int, tuple]] = {}  # col -> LA -> (labels, keys)
        for col, value in first.items():
            if isinstance(value, LocalCategorical):
                self.arrays[col] = _empty((n,), np.int32, shared)
                self.categories[col] = {}
            else:
                self.arrays[col] = _empty((n, *value.shape[1:]), value.dtype, shared)

    def put(self, la: int, cols: dict) -> None:
        """Write LA ``la``'s columns at its row offset (casting as a slice assignment does)."""
        lo = int(self.plan.la_row_offset[la])
        for col, value in cols.items():
            if isinstance(value, LocalCategorical):
                self.arrays[col][lo : lo + len(value.codes)] = value.codes
                self.categories[col][la] = (value.categories, value.keys)
            else:
                self.arrays[col][lo : lo + len(value)] = value

    def finish_categories(self, las: Iterable[int]) -> dict[str, np.ndarray]:
        """Map chunk-local codes to cohort codes in place; return each column's categories.

        A category (a postcode, an LSOA...) may be in several chunks: pupils of several LAs'
        schools live in it. The cohort's categories are the distinct ones, in key order (the
        plan's LAs in order, then each LA's own numbering); each chunk's codes are mapped to
        them (a presence table over the keys and its running count: no sort). The result does
        not depend on which process generated which chunk.
        """
        out: dict[str, np.ndarray] = {}
        order = sorted(las)
        for col, parts in self.categories.items():
            codes = self.arrays[col]
            keys = [np.asarray(parts[la][1], np.int64) for la in order]
            size = max((int(k.max()) + 1 for k in keys if len(k)), default=0)
            present = np.zeros(size, dtype=bool)
            label_of = np.empty(size, dtype=object)
            for la, k in zip(order, keys, strict=True):
                present[k] = True
                label_of[k] = parts[la][0]
            rank = (np.cumsum(present, dtype=np.int64) - 1).astype(codes.dtype)
            for la, k in zip(order, keys, strict=True):
                lo = int(self.plan.la_row_offset[la])
                hi = lo + int(self.plan.la_pupils[la])
                remap = rank[k]
                if len(remap) and np.array_equal(
                    remap, remap[0] + np.arange(len(remap))
                ):  # a shift
                    codes[lo:hi] += remap[0]
                else:
                    codes[lo:hi] = remap[codes[lo:hi]]
            out[col] = label_of[present]
        self.categories = {}
        return out


# ---- spawn: a process pool (module globals set by its initializer)
_WORKER: dict = {}


def die_with_parent(parent: int | None = None) -> None:
    """Make this worker process end when its parent does (Linux ``PR_SET_PDEATHSIG``).

    A worker re-parented to init would otherwise compute on for minutes after its parent was
    killed (``kill``, ``timeout``, a scheduler's cancel). ``parent`` is the parent's pid as the
    worker was started: if it has already gone, the worker ends at once. Elsewhere (no
    ``prctl``) nothing changes; the pipes still end the workers when they next talk.
    """
    import ctypes
    import os
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def _init_worker(
    plan: Plan, samplers: Samplers, keep: frozenset | None, parent: int | None = None
) -> None:
    die_with_parent(parent)
    _WORKER["plan"] = plan
    _WORKER["samplers"] = samplers
    _WORKER["keep"] = keep


def _run_one(la: int):
    return la, chunk_columns(_WORKER["plan"], la, _WORKER["samplers"], _WORKER["keep"])


def _categories_of(cols: dict) -> dict[str, tuple]:
    return {
        col: (value.categories, value.keys)
        for col, value in cols.items()
        if isinstance(value, LocalCategorical)
    }


# ---- fork: workers that write into the shared store
def _next_chunks(tasks: Sequence[int], counter: np.ndarray, lock):
    """The chunks this worker takes, one at a time, from the counter the workers share."""
    while True:
        with lock:
            i = int(counter[0])
            counter[0] = i + 1
        if i >= len(tasks):
            return
        yield tasks[i]
        with lock:
            counter[1] += 1  # chunks done, for the progress bar


def _fill_worker(
    plan: Plan,
    samplers: Samplers,
    keep,
    store: ColumnStore,
    tasks,
    counter,
    lock,
    conn,
    parent: int | None = None,
) -> None:
    """A forked worker: generate chunks until none is left, then send their category lists."""
    die_with_parent(parent)
    try:
        categories = {}
        for la in _next_chunks(tasks, counter, lock):
            cols = chunk_columns(plan, la, samplers, keep)
            store.put(la, cols)
            categories[la] = _categories_of(cols)
            del cols
        message = ("ok", categories)
    except BaseException as exc:
        message = ("error", exc)
    try:
        conn.send(message)
    except Exception:
        conn.send(("error", RuntimeError(f"{type(message[1]).__name__}: {message[1]}")))
    conn.close()


class _ForkedWorkers:
    """Worker processes forked now, generating ``tasks`` into ``store`` (shared memory)."""

    def __init__(
        self,
        plan: Plan,
        samplers: Samplers,
        keep,
        store: ColumnStore,
        tasks: list[int],
        workers: int,
    ) -> None:
        ctx = multiprocessing.get_context("fork")
        self.n_tasks = len(tasks)
        self.counter = _empty((2,), np.int64, shared=True)  # next chunk, chunks done
        self.counter[:] = 0
        lock = ctx.Lock()
        self.processes, self.conns = [], []
        try:
            for i in range(workers):
                recv, send = ctx.Pipe(duplex=False)
                process = ctx.Process(
                    target=_fill_worker,
                    name=f"synthetic-chunks-{i}",
                    daemon=True,
                    args=(
                        plan,
                        samplers,
                        keep,
                        store,
                        tasks,
                        self.counter,
                        lock,
                        send,
                        os.getpid(),
                    ),
                )
                process.start()
                send.close()  # the worker holds the only write end: its death ends the pipe
                self.processes.append(process)
                self.conns.append(recv)
        except BaseException:
            self.stop()
            raise

    def done(self) -> int:
        return int(self.counter[1])

    def collect(self, tick: Callable[[], None]) -> dict[int, dict[str, tuple]]:
        """Wait for every worker; return the chunks' category lists (raising a worker's error,
        or :class:`BrokenProcessPool` for a worker that died)."""
        from multiprocessing.connection import wait

        categories: dict[int, dict[str, tuple]] = {}
        pending = list(self.conns)
        ticked = 0
        try:
            while pending:
                for conn in wait(pending, timeout=0.1):
                    pending.remove(conn)
                    categories.update(self._receive(conn))
                done = self.done()
                for _ in range(done - ticked):
                    tick()
                ticked = done
        finally:
            self.stop()
        return categories

    def _receive(self, conn) -> dict:
        try:
            status, payload = conn.recv()
        except (EOFError, OSError):
            from concurrent.futures.process import BrokenProcessPool

            raise BrokenProcessPool(
                "A worker process generating the synthetic cohort died (killed, perhaps for "
                "memory); generate fewer pupils or use fewer workers."
            ) from None
        if status == "error":
            raise payload
        return payload

    def stop(self) -> None:
        """End the workers (at once, if they are still busy) and close the pipes."""
        finished = self.done() >= self.n_tasks  # then the workers are only exiting
        for process in self.processes:
            process.join(timeout=5 if finished else 0)
            if process.is_alive():
                process.terminate()
                process.join()
        for conn in self.conns:
            conn.close()
        self.processes, self.conns = [], []


class Filling:
    """LA chunks being generated into a :class:`ColumnStore` (:func:`start_fill`)."""

    def __init__(
        self, store: ColumnStore, tick: Callable[[], None], workers: _ForkedWorkers | None = None
    ):
        self._store, self._tick, self._workers = store, tick, workers

    def finish(self) -> ColumnStore:
        """Wait for every chunk; return the store (chunk categories filed)."""
        if self._workers is not None:
            workers, self._workers = self._workers, None
            for la, cats in workers.collect(self._tick).items():
                for col, part in cats.items():
                    self._store.categories[col][la] = part
        return self._store

    def cancel(self) -> None:
        """Stop the workers still generating (nothing is collected)."""
        if self._workers is not None:
            workers, self._workers = self._workers, None
            workers.stop()


def start_fill(
    plan: Plan,
    las: list[int],
    workers: int,
    samplers: Samplers = SAMPLERS,
    on_done: Callable[[], None] | None = None,
    *,
    keep: frozenset | None = None,
) -> Filling:
    """Start generating the chunks of ``las`` (LAs with pupils, ascending) into a
    :class:`ColumnStore`; :meth:`Filling.finish` waits for them.

    ``samplers`` are ``(stream name, sampler)`` pairs in generation order (:data:`SAMPLERS`);
    only the columns in ``keep`` are stored, when given. ``workers`` processes are used for
    cohorts of at least :data:`MIN_PARALLEL_PUPILS` pupils (never more than there are chunks
    after the first); ``on_done`` is called once per chunk. Only forked workers (Linux) go on
    after this returns; otherwise every chunk is done by then.
    """
    tick = on_done or (lambda: None)
    if not las:
        return Filling(ColumnStore(plan, {}, shared=False), tick)
    # The smallest LA's chunk, generated here, fixes each column's dtype and width (the same in
    # every chunk); it is small so that the workers start as soon as possible.
    probe = min(las, key=lambda i: (int(plan.la_pupils[i]), i))
    rest = [la for la in las if la != probe]
    workers = min(int(workers), len(rest))
    parallel = (
        workers > 1
        and int(plan.n_pupils) >= MIN_PARALLEL_PUPILS
        and not multiprocessing.current_process().daemon
    )  # a pool worker has no children
    method = start_method() if parallel else None
    first = chunk_columns(plan, probe, samplers, keep)
    store = ColumnStore(plan, first, shared=method == "fork")
    store.put(probe, first)
    del first
    tick()
    # largest chunks first, handed out one at a time: the workers stay balanced by pupils
    tasks = sorted(rest, key=lambda i: (-int(plan.la_pupils[i]), i))
    if method == "fork":
        return Filling(store, tick, _ForkedWorkers(plan, samplers, keep, store, tasks, workers))
    if method is None:
        for la in rest:
            store.put(la, chunk_columns(plan, la, samplers, keep))
            tick()
        return Filling(store, tick)
    with pool_executor(workers, method, _init_worker, (plan, samplers, keep, os.getpid())) as pool:
        for done in as_completed([pool.submit(_run_one, la) for la in tasks]):
            la, cols = done.result()
            store.put(la, cols)
            tick()
    return Filling(store, tick)


def pool_executor(workers: int, method: str, initializer: Callable, initargs: tuple):
    """A process pool; a worker that dies (e.g. killed for memory) raises ``BrokenProcessPool``
    in the caller instead of leaving it waiting."""
    ctx = multiprocessing.get_context(method)
    return ProcessPoolExecutor(workers, mp_context=ctx, initializer=initializer, initargs=initargs)
