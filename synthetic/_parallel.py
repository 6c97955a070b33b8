"""LA chunks on every core: the column store the chunks write into, and the worker pool.

Each LA chunk draws only from its own streams (``SeedSequence((root, hash(field), la_code))``,
:mod:`synthetic._rng`), so chunks can be generated in any order, by any process, and the
cohort is the same byte for byte whatever the number of workers.

* :class:`ColumnStore` holds one preallocated array per output column (``n_pupils`` rows); a
  chunk writes its rows at its LA's row offset. Chunk-local categoricals (postcodes, sectors,
  districts, LSOAs) store their local codes and keep the chunk's category list; their codes are
  shifted to cohort codes once every chunk is in (:meth:`ColumnStore.finish_categories`).
* :func:`fill` runs the chunks: in the calling process (``workers == 1`` or a small cohort), or
  in a pool of worker processes (:func:`pool_executor`). On Linux the pool is forked and the arrays live in anonymous
  shared memory (``mmap``), so workers write their rows in place and send back only the chunk
  category lists. Elsewhere (macOS, Windows: ``spawn``) workers send back their chunk's columns,
  which the calling process copies in; a script that asks for ``workers > 1`` there needs the
  usual ``if __name__ == "__main__":`` guard.

The first LA with pupils always runs in the calling process: it fixes each column's dtype and
width, exactly as the one-process loop did.
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

from ._plan import Plan
from ._rng import stream
from ._samplers import SAMPLERS, Chunk, LocalCategorical
from .exceptions import SyntheticError

Samplers = Sequence[tuple[str, Callable]]

__all__ = ["ColumnStore", "MIN_PARALLEL_PUPILS", "check_workers", "chunk_columns", "fill",
           "pool_executor", "start_method", "usable_cores"]

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


def chunk_columns(plan: Plan, la: int, samplers: Samplers = SAMPLERS, keep: frozenset | None = None) -> dict:
    """Run ``samplers`` on LA ``la``; return its columns (chunk rows, internal codes), only
    those in ``keep`` when given."""
    chunk = Chunk(plan=plan, la=la)
    key = int(plan.la_code[la])
    for name, sampler in samplers:
        chunk.cols.update(sampler(stream(plan.root, name, key), chunk))
    if keep is None:
        return chunk.cols
    return {col: value for col, value in chunk.cols.items() if col in keep}


def _empty(shape: tuple[int, ...], dtype: np.dtype, shared: bool) -> np.ndarray:
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
        self.categories: dict[str, dict[int, list]] = {}
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
                self.arrays[col][lo:lo + len(value.codes)] = value.codes
                self.categories[col][la] = value.categories
            else:
                self.arrays[col][lo:lo + len(value)] = value

    def finish_categories(self, las: Iterable[int]) -> dict[str, list]:
        """Shift chunk-local codes to cohort codes in place; return each column's categories.

        The categories are the chunks' lists one after another in LA (row) order, so the code
        of a chunk's category ``j`` is ``j`` plus the number of categories of earlier chunks.
        """
        out: dict[str, list] = {}
        order = sorted(las)
        for col, parts in self.categories.items():
            codes = self.arrays[col]
            offset = 0
            cats: list = []
            for la in order:
                part = parts[la]
                if offset:
                    lo = int(self.plan.la_row_offset[la])
                    hi = lo + int(self.plan.la_pupils[la])
                    codes[lo:hi] += offset
                offset += len(part)
                cats.extend(part)
            out[col] = cats
        self.categories = {}
        return out


# ---- worker side (module globals set by the pool initializer)
_WORKER: dict = {}


def _init_worker(plan: Plan, samplers: Samplers, keep: frozenset | None, store: ColumnStore | None) -> None:
    _WORKER["plan"] = plan
    _WORKER["samplers"] = samplers
    _WORKER["keep"] = keep
    _WORKER["store"] = store


def _run_one(la: int):
    plan, store = _WORKER["plan"], _WORKER["store"]
    cols = chunk_columns(plan, la, _WORKER["samplers"], _WORKER["keep"])
    if store is None:  # spawn: send the columns back
        return la, cols
    store.put(la, cols)  # fork: rows written into shared memory
    return la, {col: v.categories for col, v in cols.items() if isinstance(v, LocalCategorical)}


def fill(plan: Plan, las: list[int], workers: int, samplers: Samplers = SAMPLERS,
         on_done: Callable[[], None] | None = None, *, keep: frozenset | None = None) -> ColumnStore:
    """Generate the chunks of ``las`` (LAs with pupils, ascending) into a :class:`ColumnStore`.

    ``samplers`` are ``(stream name, sampler)`` pairs in generation order (:data:`SAMPLERS`);
    only the columns in ``keep`` are stored, when given. ``workers`` processes are used for
    cohorts of at least :data:`MIN_PARALLEL_PUPILS` pupils (never more than there are chunks
    after the first); ``on_done`` is called once per chunk.
    """
    tick = on_done or (lambda: None)
    if not las:
        return ColumnStore(plan, {}, shared=False)
    rest = las[1:]
    workers = min(int(workers), len(rest))
    parallel = (workers > 1 and int(plan.n_pupils) >= MIN_PARALLEL_PUPILS
                and not multiprocessing.current_process().daemon)  # a pool worker has no children
    method = start_method() if parallel else None
    first = chunk_columns(plan, las[0], samplers, keep)
    store = ColumnStore(plan, first, shared=method == "fork")
    store.put(las[0], first)
    del first
    tick()
    if not parallel:
        for la in rest:
            store.put(la, chunk_columns(plan, la, samplers, keep))
            tick()
        return store
    # largest chunks first, handed out one at a time: the pool stays balanced by pupils
    tasks = sorted(rest, key=lambda i: (-int(plan.la_pupils[i]), i))
    init_store = store if method == "fork" else None
    with pool_executor(workers, method, _init_worker, (plan, samplers, keep, init_store)) as pool:
        for done in as_completed([pool.submit(_run_one, la) for la in tasks]):
            la, payload = done.result()
            if method == "fork":
                for col, cats in payload.items():
                    store.categories[col][la] = cats
            else:
                store.put(la, payload)
            tick()
    return store


def pool_executor(workers: int, method: str, initializer: Callable, initargs: tuple):
    """A process pool; a worker that dies (e.g. killed for memory) raises ``BrokenProcessPool``
    in the caller instead of leaving it waiting. With ``fork`` the initializer's arguments are
    inherited, not pickled."""
    ctx = multiprocessing.get_context(method)
    return ProcessPoolExecutor(workers, mp_context=ctx, initializer=initializer, initargs=initargs)
