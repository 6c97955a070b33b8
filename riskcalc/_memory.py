"""Memory as a user-facing condition: how much is available, and a check before big jobs.

Some allocations fail cleanly with :class:`MemoryError`; others (inside pandas' hash tables, or
where the operating system over-commits) crash the process. So where the need of a job is
predictable, as the synthetic cohort of ``riskcalc tiers`` is (linear in the number of pupils),
it is checked before the first big allocation and refused in one line saying how much the job
needs, how much is available, and what to do.

Available memory is the smallest of: free physical memory (``MemAvailable`` in
``/proc/meminfo``), the room left under the address-space limit (``ulimit -v``) and the room
left under a cgroup (container) limit. Where none of these can be read (not Linux), the check
passes and the ordinary ``MemoryError`` handler still gives the one-line message.
"""

from __future__ import annotations

import os

from .exceptions import InsufficientMemoryError

__all__ = ["available_bytes", "require", "tiers_bytes", "check_tiers_memory"]

#: Peak resident memory of ``riskcalc tiers`` per pupil, and the fixed cost of the interpreter and
#: libraries, measured on the synthetic cohort (see the report of issue 10 for the runs), with a
#: margin. Address space (``ulimit -v``) grows by more than resident memory: thread arenas and
#: libraries map memory they never touch, hence the separate factor.
TIERS_BYTES_PER_PUPIL = 650
TIERS_REPORT_BYTES_PER_PUPIL = 700
TIERS_FIXED_BYTES = 200 * 2**20
ADDRESS_SPACE_FACTOR = 1.3


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _address_space_room() -> int | None:
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft < 0:
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
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
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
    """The memory a job can still use, and what limits it (``None`` when unknown)."""
    found = []
    free = _meminfo_available()
    if free is not None:
        found.append((free, "free memory"))
    room = _cgroup_room()
    if room is not None:
        found.append((room, "the container's memory limit"))
    address = _address_space_room()
    if address is not None:
        found.append((int(address / ADDRESS_SPACE_FACTOR), "the address-space limit (ulimit -v)"))
    if not found:
        return None, "unknown"
    return min(found)


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def require(needed: int, what: str, advice: str) -> None:
    """Raise :class:`InsufficientMemoryError` if ``needed`` bytes are not available."""
    available, limit = available_bytes()
    if available is not None and needed > available:
        raise InsufficientMemoryError(
            f"not enough memory: {what} needs about {_gib(needed)}, and {_gib(available)} is "
            f"available (limited by {limit}). {advice}"
        )


def tiers_bytes(n_pupils: int, *, report: bool) -> int:
    """Predicted peak memory of ``riskcalc tiers`` for ``n_pupils`` (with or without ``--out``)."""
    per = TIERS_REPORT_BYTES_PER_PUPIL if report else TIERS_BYTES_PER_PUPIL
    return TIERS_FIXED_BYTES + per * int(n_pupils)


def check_tiers_memory(n_pupils: int, *, report: bool) -> None:
    """Refuse a cohort that cannot fit, before it is generated."""
    if os.environ.get("RISKCALC_SKIP_MEMORY_CHECK"):
        return
    fewer = max(int(n_pupils * 0.5), 1)
    require(
        tiers_bytes(n_pupils, report=report),
        f"a cohort of {n_pupils:,} pupils",
        f"Use fewer pupils (e.g. --pupils {fewer:,}) or a machine with more memory.",
    )
