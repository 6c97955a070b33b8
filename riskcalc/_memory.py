"""Memory as a user-facing condition: how much is available, and a check before big jobs.

Some allocations fail cleanly with :class:`MemoryError`; others (inside pandas' hash tables, or
where the operating system over-commits) crash the process. So where the need of a job is
predictable, as the synthetic cohort of ``riskcalc tiers`` is (linear in the number of pupils),
it is checked before the first big allocation and refused in one line saying how much the job
needs, how much is available, and what to do.

Two figures are checked: the resident memory a job will touch, against free physical memory
(``MemAvailable`` in ``/proc/meminfo``) and the room left under a cgroup (container) limit; and
the growth of its address space, against the room left under ``ulimit -v``. Where none of these
can be read (not Linux), the check passes and the ordinary ``MemoryError`` handler still gives
the one-line message.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Literal

from ._core import threads
from .exceptions import InsufficientMemoryError

if TYPE_CHECKING:
    import ctypes

__all__ = [
    "available_bytes",
    "require",
    "tiers_bytes",
    "tiers_address_bytes",
    "check_tiers_memory",
    "return_free_memory",
    "freeze_after_imports",
    "imports_done",
    "address_space_limited",
    "fit_address_space_limit",
]

#: Peak resident memory of ``riskcalc tiers`` per pupil and the fixed cost of the interpreter and
#: libraries: measured 0.29 GB at 200,000 pupils and 0.59 GB at 800,000 (about 520 bytes per
#: pupil, with --out; issue 9 measured 4.2 GB at 8.5 million), with a margin of a quarter.
TIERS_BYTES_PER_PUPIL = 650
TIERS_REPORT_BYTES_PER_PUPIL = 700
TIERS_FIXED_BYTES = 200 * 2**20
#: Growth of the address space (what ``ulimit -v`` limits) once the job's libraries are loaded,
#: with the allocators fitted to the limit (:func:`fit_address_space_limit`): about 350 bytes
#: per pupil and 280 MiB measured (the largest cohorts that ran: 1.0 million pupils under
#: 1 GiB, 2.55 million under 1.5 GiB, 4.2 million under 2 GiB), with a margin of about 15%.
TIERS_ADDRESS_BYTES_PER_PUPIL = 400
TIERS_ADDRESS_FIXED_BYTES = 300 * 2**20
#: Address space of the libraries the tiers job loads after the command's check (pandas,
#: pyarrow, numba and the measures): 231 MiB measured (142 MiB after ``riskcalc._cli``, 373 MiB
#: after the job's imports), counted while they are not loaded.
TIERS_LIBRARIES_ADDRESS_BYTES = 256 * 2**20


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def address_space_limited() -> bool:
    """Whether this process runs under a finite address-space limit (``ulimit -v``): see
    :func:`riskcalc._core.threads.address_space_limited`."""
    return threads.address_space_limited()


def _address_space_room() -> int | None:
    soft = threads.address_space_limit()
    if soft is None:
        return None
    used = None
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    used = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        used = None
    return max(soft - (used or 0), 0)


def _cgroup_room() -> int | None:
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            with open(limit_file, encoding="ascii") as fh:
                text = fh.read().strip()
            if text == "max":
                return None
            limit = int(text)
            if limit >= 1 << 60:  # "no limit" in cgroup v1
                return None
            with open(usage_file, encoding="ascii") as fh:
                usage = int(fh.read().strip())
            return max(limit - usage, 0)
        except (OSError, ValueError):
            continue
    return None


def available_bytes() -> tuple[int | None, str]:
    """Memory a job can still touch (free memory, container limit), and what limits it."""
    found = []
    free = _meminfo_available()
    if free is not None:
        found.append((free, "free memory"))
    room = _cgroup_room()
    if room is not None:
        found.append((room, "the container's memory limit"))
    return min(found) if found else (None, "unknown")


def _gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


def require(needed: int, what: str, advice: str, *, address_space: int | None = None) -> None:
    """Raise :class:`InsufficientMemoryError` if ``needed`` bytes of memory (or
    ``address_space`` bytes under ``ulimit -v``) are not available."""
    available, limit = available_bytes()
    if available is not None and needed > available:
        raise InsufficientMemoryError(
            f"not enough memory: {what} needs about {_gib(needed)}, and {_gib(available)} is "
            f"available (limited by {limit}). {advice}"
        )
    room = _address_space_room()
    if address_space is not None and room is not None and address_space > room:
        raise InsufficientMemoryError(
            f"not enough memory: {what} needs about {_gib(address_space)} more address space, and "
            f"{_gib(room)} is left under the limit (ulimit -v). {advice}"
        )


def tiers_bytes(n_pupils: int, *, report: bool) -> int:
    """Predicted peak memory of ``riskcalc tiers`` for ``n_pupils`` (with or without ``--out``)."""
    per = TIERS_REPORT_BYTES_PER_PUPIL if report else TIERS_BYTES_PER_PUPIL
    return TIERS_FIXED_BYTES + per * int(n_pupils)


def tiers_address_bytes(n_pupils: int) -> int:
    """Predicted growth of the address space of ``riskcalc tiers`` once started."""
    return TIERS_ADDRESS_FIXED_BYTES + TIERS_ADDRESS_BYTES_PER_PUPIL * int(n_pupils)


def _libraries_loaded() -> bool:
    """Whether the libraries the tiers job loads (pandas, pyarrow, numba) are loaded already
    (their address space is then part of the process's)."""
    return all(m in sys.modules for m in ("pandas", "pyarrow", "numba"))


def check_tiers_memory(n_pupils: int, *, report: bool) -> None:
    """Refuse a cohort that cannot fit, before it is generated."""
    if os.environ.get("RISKCALC_SKIP_MEMORY_CHECK"):
        return
    fewer = max(int(n_pupils * 0.5), 1)
    require(
        tiers_bytes(n_pupils, report=report),
        f"a cohort of {n_pupils:,} pupils",
        f"Use fewer pupils (e.g. --pupils {fewer:,}) or a machine with more memory.",
        address_space=tiers_address_bytes(n_pupils)
        + (0 if _libraries_loaded() else TIERS_LIBRARIES_ADDRESS_BYTES),
    )


_libc: ctypes.CDLL | Literal[False] | None = None  # glibc, once looked up


def _glibc():
    """glibc through ctypes, or ``False`` where it is not the C library."""
    global _libc
    if _libc is None:
        _libc = False
        if sys.platform.startswith("linux"):
            import ctypes

            try:
                libc = ctypes.CDLL("libc.so.6")
                _libc = libc if hasattr(libc, "malloc_trim") else False
            except OSError:  # pragma: no cover - musl or no libc.so.6
                _libc = False
    return _libc


#: glibc's ``mallopt`` parameter for the number of arenas (``M_ARENA_MAX`` in malloc.h).
_M_ARENA_MAX = -8


def fit_address_space_limit() -> bool:
    """Under a finite address-space limit (``ulimit -v``), make the allocators reserve no
    address space beyond what the data need; returns whether a limit was found.

    * Arrow's default allocator (mimalloc) reserves a 1 GiB arena the first time it allocates,
      if the limit leaves room for it: then a job under a 2 GiB limit failed at half the
      cohort that ran under 1.5 GiB (where the reservation did not fit). Arrow is switched to
      the system allocator (``ARROW_DEFAULT_MEMORY_POOL=system`` for a pyarrow not yet loaded).
    * glibc gives each new thread that allocates an arena of its own (up to 8 per core), each
      reserving 64 MiB: the amount reserved depended on which threads happened to allocate.
      The arenas are capped at one (:func:`mallopt`); large arrays are mapped directly, not
      from an arena, so their speed is unchanged.

    With both, the address space a job needs depends on its data alone, which the check before
    a job (:func:`check_tiers_memory`) can predict. Without a limit, nothing changes.
    """
    if not address_space_limited():
        return False
    libc = _glibc()
    if libc:
        libc.mallopt(_M_ARENA_MAX, 1)
    if "pyarrow" in sys.modules:
        import pyarrow as pa

        if pa.default_memory_pool().backend_name != "system":
            pa.set_memory_pool(pa.system_memory_pool())
    else:
        os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"
    return True


def return_free_memory() -> None:
    """Give the memory freed by the last stage of a job back to the operating system.

    glibc keeps freed blocks below its (adaptive, up to 32 MB) mmap threshold in its heaps, so
    a job of many stages, each allocating and freeing arrays of millions of records on several
    threads, grows its resident memory stage after stage although its live data does not
    (measured: 0.26 GB retained after the tier table of 2 million pupils, all of it returned by
    ``malloc_trim``). Called between stages, ``malloc_trim(0)`` returns it, so the next stage's
    peak starts from the live data. A no-op where glibc is not the allocator.
    """
    libc = _glibc()
    if libc:
        libc.malloc_trim(0)


#: Set by the ``riskcalc`` command (:func:`riskcalc._cli.console`) for its own process only.
_FREEZE_AFTER_IMPORTS = [False]


def freeze_after_imports() -> None:
    """Ask :func:`imports_done` to freeze the collector (the ``riskcalc`` command does)."""
    _FREEZE_AFTER_IMPORTS[0] = True


def imports_done() -> None:
    """A job has imported its modules: under the ``riskcalc`` command, move every object alive
    out of the cyclic garbage collector's reach (:func:`gc.freeze`), so that the collections
    during the run do not walk pandas', pyarrow's and the measures' objects again and again.
    The tiers job imports them after it has started its cohort, later than the command's own
    freeze after its imports. A no-op for a library caller."""
    if _FREEZE_AFTER_IMPORTS[0]:
        import gc

        gc.freeze()
