"""Walk the subsets of a field set, refining class ids from parent to child.

This is the engine behind :func:`riskcalc.field_lattice` and :func:`riskcalc.suda`. It visits
every non-empty subset of the fields up to a size, depth first in lexicographic order, so that
each subset ``S + (c,)`` is computed from its parent ``S`` in one pass:

``key = parent_class_id * n_levels[c] + codes[c]``, densified to the child's class ids.

Two facts keep the passes short. A record that is unique on ``S`` is unique on every superset,
so a child only refines the records that were still in classes of two or more (the *active*
records); records that became unique are counted, not carried. And once no record is active,
every superset is all-unique and costs nothing. The depth-first order keeps at most one state
per level in memory (``max_size`` arrays of active-record ids and class ids).

For large tables each step is one compiled kernel (:func:`riskcalc._core._numba_kernels.refine`:
child key, grouping, next active set, in one call that releases the GIL), and the subtrees of
the first fields are walked on threads, one per core. Every subset still comes after its
parent, and each subtree comes depth first; subtrees walked on different threads interleave.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from . import kernels
from .grouping import densify_fast
from .histogram import SizeHistogram


@dataclass(frozen=True, eq=False)
class _State:
    """Classes of the records still active (in classes of two or more) on a subset."""

    active: np.ndarray | None  # row numbers of active records; None = all rows
    class_id: np.ndarray | None  # class of each active record; None = one class (the root)
    n_classes: int  # classes among the active records
    n_unique: int  # records already unique (not active)


@dataclass(frozen=True, eq=False)
class SubsetClasses:
    """What the walk reports for one subset.

    Attributes
    ----------
    subset : tuple of int
        Field positions, ascending.
    n_records : int
    prior_unique : int
        Records unique already on the parent subset (classes of size 1 carried over).
    sizes : numpy.ndarray of int64
        Sizes of the classes formed by the parent's active records.
    new_unique_rows : numpy.ndarray or None
        Row numbers of the records that became unique on this subset (only when the walk was
        asked for them).
    size_counts : tuple of numpy.ndarray or None
        ``sizes`` tallied (distinct sizes ascending, and their counts), when the walk was asked
        for histograms: tallied in the walking thread, by a compiled kernel that releases the
        GIL, not in the thread that reads the results.
    """

    subset: tuple[int, ...]
    n_records: int
    prior_unique: int
    sizes: np.ndarray
    new_unique_rows: np.ndarray | None = None
    size_counts: tuple[np.ndarray, np.ndarray] | None = None  # ``sizes`` tallied by the walk

    def histogram(self) -> SizeHistogram:
        """The subset's class-size histogram, the records unique on the parent included."""
        if self.size_counts is None:
            return SizeHistogram.from_class_sizes(self.sizes, extra_singletons=self.prior_unique)
        return SizeHistogram(*self.size_counts).with_singletons(self.prior_unique)


def walk(
    codes: list[np.ndarray],
    n_levels: list[int],
    max_size: int,
    *,
    unique_rows: bool = False,
    threads: int | None = None,
    histograms: bool = False,
) -> Iterator[SubsetClasses]:
    """Yield :class:`SubsetClasses` for every subset of ``range(len(codes))`` up to ``max_size``.

    On one thread subsets come depth first in lexicographic order: (0,), (0, 1), (0, 1, 2), ...,
    (0, 2), ... With several threads (large tables with compiled kernels: one per core, or
    ``threads``) the subtrees of different first fields interleave; each subset still comes
    after its parent. With ``histograms`` the compiled walk also tallies each subset's class
    sizes (:attr:`SubsetClasses.size_counts`) in the walking thread.
    """
    n = codes[0].shape[0]
    root = _State(active=None, class_id=None, n_classes=1, n_unique=0)
    mod = kernels.compiled(n)
    if mod is None:
        yield from _visit(root, (), 0, codes, n_levels, max_size, n, unique_rows)
        return
    codes = [np.ascontiguousarray(c) for c in codes]
    workers = min(int(threads or os.cpu_count() or 1), len(codes))
    tally = mod.size_tally if histograms else None
    if workers <= 1:
        yield from _visit_compiled(
            mod,
            root,
            (),
            0,
            len(codes),
            codes,
            n_levels,
            max_size,
            n,
            unique_rows,
            _Scratch(n),
            tally,
        )
        return
    yield from _walk_threads(mod, root, codes, n_levels, max_size, n, unique_rows, workers, tally)


_DONE = object()


class _Failure:
    def __init__(self, exc: BaseException):
        self.exc = exc


def _walk_threads(mod, root, codes, n_levels, max_size, n, unique_rows, workers, tally):
    """Walk the subtree of each first field on a pool of threads, yielding as results come."""
    p = len(codes)
    out: queue.Queue = queue.Queue(maxsize=4 * workers)
    stop = threading.Event()
    lock = threading.Lock()
    next_first = [0]

    def put(item) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work():
        scratch = _Scratch(n)  # this thread's, reused by all its steps
        try:
            while not stop.is_set():
                with lock:
                    c = next_first[0]
                    next_first[0] += 1
                if c >= p:
                    break
                for res in _visit_compiled(
                    mod,
                    root,
                    (),
                    c,
                    c + 1,
                    codes,
                    n_levels,
                    max_size,
                    n,
                    unique_rows,
                    scratch,
                    tally,
                ):
                    if not put(res):
                        return
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Failure(exc))
        finally:
            put(_DONE)

    pool = [
        threading.Thread(target=work, name=f"riskcalc-walk-{i}", daemon=True)
        for i in range(workers)
    ]
    for t in pool:
        t.start()
    done = 0
    try:
        while done < workers:
            item = out.get()
            if item is _DONE:
                done += 1
            elif isinstance(item, _Failure):
                raise item.exc
            else:
                yield item
    finally:
        stop.set()
        for t in pool:
            t.join()


_NO_ROWS = np.zeros(0, np.int64)
_NO_IDS = np.zeros(0, np.int32)


def _all_unique(state: _State) -> bool:
    """Whether every record is unique already on the state's subset (so on every superset)."""
    return state.class_id is not None and state.class_id.shape[0] == 0


def _unique_subset(subset, n, state: _State, unique_rows: bool) -> SubsetClasses:
    """The figures of a superset of an all-unique subset: nothing left to refine."""
    none = np.zeros(0, np.int64)
    return SubsetClasses(
        subset, n, state.n_unique, none, none if unique_rows else None, (none, none)
    )


class _Scratch:
    """One walking thread's buffers, allocated once (numpy, so large ones get huge pages) and
    reused by every step: the key, ids and partitioned keys of a step, and per depth the active
    records and their classes of the state at that depth (depth first, one state per depth is
    alive). Fresh buffers at every step cost a page fault per 4 KiB: about half the lattice's
    time on 8.5 million records."""

    def __init__(self, n: int):
        self.n = n
        self.key = np.empty(n, np.int64)
        self.ids = np.empty(n, np.int32)
        self.pkey = np.empty(n, np.int64)
        self._levels: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def level(self, depth: int) -> tuple[np.ndarray, np.ndarray]:
        if depth not in self._levels:
            self._levels[depth] = (np.empty(self.n, np.int64), np.empty(self.n, np.int32))
        return self._levels[depth]


def _visit_compiled(
    mod, state, subset, start, stop, codes, n_levels, max_size, n, unique_rows, scratch, tally
):
    """:func:`_visit` with each step one compiled call (:func:`_numba_kernels.refine`), and the
    class sizes tallied by ``tally`` when given."""
    p = len(codes)
    for c in range(start, stop):
        child_subset = subset + (c,)
        if _all_unique(state):
            yield _unique_subset(child_subset, n, state, unique_rows)
            if len(child_subset) < max_size:
                yield from _visit_compiled(
                    mod,
                    state,
                    child_subset,
                    c + 1,
                    p,
                    codes,
                    n_levels,
                    max_size,
                    n,
                    unique_rows,
                    scratch,
                    tally,
                )
            continue
        has_children = len(child_subset) < max_size and c + 1 < p
        has_rows = state.active is not None
        has_cid = state.class_id is not None
        next_rows, next_cid = (
            scratch.level(len(child_subset)) if has_children else (_NO_ROWS, _NO_IDS)
        )
        sizes, next_has_rows, n_next, n_next_classes, lost = mod.refine(
            state.active if has_rows else _NO_ROWS,
            has_rows,
            state.class_id if has_cid else _NO_IDS,
            has_cid,
            codes[c],
            np.int64(n_levels[c]),
            np.int64(state.n_classes),
            has_children,
            unique_rows,
            scratch.key,
            scratch.ids,
            scratch.pkey,
            next_rows,
            next_cid,
        )
        yield SubsetClasses(
            child_subset,
            n,
            state.n_unique,
            sizes,
            lost if unique_rows else None,
            None if tally is None else tally(sizes),
        )
        if has_children:
            n_next = int(n_next)
            same_rows = n_next == (state.active.shape[0] if has_rows else n)
            active = (state.active if same_rows else next_rows[:n_next]) if next_has_rows else None
            child = _State(
                active,
                next_cid[:n_next],
                int(n_next_classes),
                state.n_unique + int(sizes.shape[0]) - int(n_next_classes),
            )
            yield from _visit_compiled(
                mod,
                child,
                child_subset,
                c + 1,
                p,
                codes,
                n_levels,
                max_size,
                n,
                unique_rows,
                scratch,
                tally,
            )


def _visit(state, subset, start, codes, n_levels, max_size, n, unique_rows):
    p = len(codes)
    for c in range(start, p):
        child_subset = subset + (c,)
        if _all_unique(state):
            yield _unique_subset(child_subset, n, state, unique_rows)
            if len(child_subset) < max_size:
                yield from _visit(
                    state, child_subset, c + 1, codes, n_levels, max_size, n, unique_rows
                )
            continue
        ids, sizes = _refine(state, codes[c], n_levels[c])
        has_children = len(child_subset) < max_size and c + 1 < p
        singleton = sizes == 1
        n_new = int(np.count_nonzero(singleton))
        new_rows = None
        keep_rows = None
        if n_new and (unique_rows or has_children):
            keep_rows = ~singleton[ids]
            if unique_rows:
                lost = np.flatnonzero(~keep_rows)
                new_rows = lost if state.active is None else state.active[lost]
        elif unique_rows:
            new_rows = np.zeros(0, np.int64)
        yield SubsetClasses(child_subset, n, state.n_unique, sizes, new_rows)
        if has_children:
            child = _next_state(state, ids, sizes, singleton, n_new, keep_rows, n)
            yield from _visit(child, child_subset, c + 1, codes, n_levels, max_size, n, unique_rows)


def _refine(state: _State, codes: np.ndarray, levels: int) -> tuple[np.ndarray, np.ndarray]:
    col = codes if state.active is None else codes[state.active]
    if state.class_id is None:
        return densify_fast(col, int(levels))
    key = state.class_id.astype(np.int64)
    key *= int(levels)
    key += col
    return densify_fast(key, state.n_classes * int(levels))


def _next_state(state, ids, sizes, singleton, n_new, keep_rows, n) -> _State:
    if n_new == 0:
        return _State(state.active, ids, int(sizes.shape[0]), state.n_unique)
    kept_rows = np.flatnonzero(keep_rows)
    active = kept_rows if state.active is None else state.active[kept_rows]
    remap = (np.cumsum(~singleton, dtype=np.int64) - 1).astype(np.int32)
    return _State(
        active.astype(np.int64, copy=False),
        remap[ids[kept_rows]],
        int(sizes.shape[0]) - n_new,
        state.n_unique + n_new,
    )
