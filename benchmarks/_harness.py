"""Small timing / memory harness shared by the benchmark scripts (no asv needed).

* ``time_repeats``: wall-clock (``time.perf_counter``) of ``repeats`` calls.
* ``RssSampler``: peak resident set size sampled by a background thread (psutil).
* ``max_rss_bytes``: the process's lifetime peak RSS (Linux ``VmHWM``).
  Each benchmark case runs in its own subprocess (``run_child``), so this
  lifetime peak is a clean per-tool figure: Python + imports + data + work.
* ``write_jsonl`` / ``format_table``: machine-readable and readable output.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

#: The ten panel fields the read and Spark benchmarks key on (bench_read.py, bench_spark.py).
PANEL_FIELDS = (
    "sex",
    "date_of_birth",
    "nc_year",
    "ethnic_group_minor",
    "fsm_eligible",
    "eal",
    "sen_provision",
    "la_code",
    "urn",
    "postcode",
)


try:
    import psutil
except ImportError:  # the harness still works, without sampled RSS
    psutil = None

MiB = 2**20


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs)) if xs else float("nan")


def time_repeats(
    fn: Callable[[], Any], repeats: int, before: Callable[[], Any] | None = None
) -> tuple[list[float], Any]:
    """Call ``fn`` ``repeats`` times; return (seconds per call, last result).

    ``before`` (untimed) runs ahead of every call, e.g. to drop caches.
    """
    times: list[float] = []
    result = None
    for _ in range(max(1, repeats)):
        result = None  # let the previous result be freed before the next run
        if before is not None:
            before()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def current_rss_bytes() -> int:
    if psutil is not None:
        return int(psutil.Process().memory_info().rss)
    with open("/proc/self/statm") as f:  # Linux fallback
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def tree_rss_bytes(pid: int) -> int:
    """Resident set of a process and all its children now (0 once it is gone): sampled by the
    benchmarks that report a whole process tree's peak (a Spark JVM, a pool of workers)."""
    import psutil as _psutil

    try:
        proc = _psutil.Process(pid)
        procs = [proc] + proc.children(recursive=True)
    except _psutil.Error:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(_psutil.Error):
            total += p.memory_info().rss
    return total


def run_sampled(
    argv: list[str], *, env: dict, timeout: float, interval: float = 0.02, cwd: str | None = None
) -> dict:
    """Run ``argv`` as a child process and sample its whole tree's resident set every
    ``interval`` seconds: ``{"wall_s", "peak_bytes", "returncode", "stdout", "stderr"}``, or
    ``{"error": "timeout after ..."}`` (the child killed) past ``timeout`` seconds."""
    import subprocess
    import threading

    t = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd
    )
    peak = [0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss_bytes(proc.pid))
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"error": f"timeout after {timeout:.0f} s"}
    sampler.join()
    return {
        "wall_s": time.perf_counter() - t,
        "peak_bytes": peak[0],
        "returncode": proc.returncode,
        "stdout": out,
        "stderr": err,
    }


def case_result(run: dict, head: dict, load_before) -> dict:
    """One benchmark case's JSON record from :func:`run_sampled`'s answer: ``head`` (engine,
    cores...), wall time, whole-tree peak (MB), the load before and after, then the figures
    the child printed as its last line of JSON (or its last error line)."""
    import json

    if "error" in run:
        return head | {"error": run["error"]}
    result = head | {
        "wall_s": run["wall_s"],
        "peak_rss_mb": run["peak_bytes"] / 2**20,
        "load_before": load_before,
        "load_after": os.getloadavg(),
    }
    if run["returncode"] != 0:
        return result | {"error": (run["stderr"].strip().splitlines() or ["?"])[-1]}
    return result | json.loads(run["stdout"].strip().splitlines()[-1])


def print_case(res: dict, json_path: str | None) -> None:
    """Print one case's record (floats rounded, with the load before -> after) and append it
    whole to ``json_path`` as a JSON line when given."""
    import json

    shown = {
        k: (round(v, 2) if isinstance(v, float) else v)
        for k, v in res.items()
        if k not in ("load_before", "load_after")
    }
    print(
        json.dumps(shown),
        f"load {res.get('load_before', [0])[0]:.1f} -> {res.get('load_after', [0])[0]:.1f}",
        flush=True,
    )
    if json_path:
        with open(json_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(res) + "\n")


def max_rss_bytes() -> int:
    """Peak RSS of this process image.

    On Linux this is ``VmHWM`` from /proc/self/status: ``ru_maxrss`` is *not*
    used there because the kernel carries the parent's high-water mark across
    fork+exec, so a child started from a big parent would report the parent's
    peak.  Elsewhere falls back to ``getrusage(RUSAGE_SELF).ru_maxrss``.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(r if sys.platform == "darwin" else r * 1024)


class RssSampler:
    """Context manager: peak RSS seen by a thread polling every ``interval`` s.

    Sampling can miss very short spikes; ``max_rss_bytes`` cannot, but it also
    covers everything before the timed region (imports, loading).
    """

    def __init__(self, interval: float = 0.005):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, current_rss_bytes())
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self.peak = current_rss_bytes()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak = max(self.peak, current_rss_bytes())


def _busy_seconds() -> float:
    """System-wide non-idle CPU seconds since boot (all cores)."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


class CpuMeter:
    """Context manager: wall time, this process's CPU time (all its threads) and the
    share of the machine's CPU used by *other* processes meanwhile.

    ``other_busy`` near 0 means the timings were taken on a quiet machine; 0.5 on a
    2-core box means another process kept one core busy the whole time.
    """

    def __enter__(self) -> CpuMeter:
        self.wall = self.own_cpu = self.other_busy = float("nan")
        if psutil is None:
            return self
        self._p = psutil.Process()
        c = self._p.cpu_times()
        self._own0 = c.user + c.system
        self._sys0 = _busy_seconds()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        if psutil is None:
            return
        self.wall = time.perf_counter() - self._t0
        c = self._p.cpu_times()
        self.own_cpu = c.user + c.system - self._own0
        other = _busy_seconds() - self._sys0 - self.own_cpu
        ncpu = psutil.cpu_count() or 1
        self.other_busy = max(0.0, other) / (self.wall * ncpu) if self.wall > 0 else 0.0


def wait_for_quiet(
    max_busy: float = 0.25, max_wait: float = 60.0, interval: float = 1.0
) -> tuple[float, float]:
    """Block until system-wide CPU use over ``interval`` s is below ``max_busy``
    (fraction of all cores) or ``max_wait`` s have passed.  Returns (waited, busy)."""
    if psutil is None or max_wait <= 0:
        return 0.0, float("nan")
    t0 = time.perf_counter()
    while True:
        busy = psutil.cpu_percent(interval=interval) / 100.0
        waited = time.perf_counter() - t0
        if busy < max_busy or waited >= max_wait:
            return waited, busy


def run_child(argv: list[str], timeout: float | None = None, env: dict | None = None) -> dict:
    """Run ``argv`` (a Python script printing one JSON object as its last stdout
    line) in a fresh process; return that object, or ``{"error": ...}``."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        return {
            "error": f"timeout after {timeout}s",
            "stderr": (e.stderr or "")[-4000:] if isinstance(e.stderr, str) else "",
        }
    wall = time.perf_counter() - t0
    last = None
    for line in proc.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            last = line
    if proc.returncode != 0 or last is None:
        return {
            "error": f"exit code {proc.returncode}",
            "stderr": proc.stderr[-4000:],
            "stdout": proc.stdout[-2000:],
            "child_wall_s": wall,
        }
    out = json.loads(last)
    out["child_wall_s"] = wall
    if proc.stderr.strip():
        out.setdefault("stderr", proc.stderr[-2000:])
    return out


def machine_info() -> dict:
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
    }
    if psutil is not None:
        info["physical_cores"] = psutil.cpu_count(logical=False)
        info["total_memory_gib"] = round(psutil.virtual_memory().total / 2**30, 1)
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


def library_versions(names: Iterable[str]) -> dict[str, str]:
    from importlib import import_module

    out = {}
    for name in names:
        try:
            out[name] = str(getattr(import_module(name), "__version__", "?"))
        except Exception as e:
            out[name] = f"not importable ({type(e).__name__})"
    return out


def write_jsonl(path: str | os.PathLike, records: Iterable[dict], append: bool = True) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "a" if append else "w") as f:
        for r in records:
            f.write(json.dumps(r, default=_json_default) + "\n")


def _json_default(o):
    try:
        import numpy as np

        if isinstance(o, np.integer):
            return int(o)
        if isinstance(o, np.floating):
            return float(o)
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:
        pass
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o)}")


def format_table(
    rows: Sequence[Sequence[Any]], header: Sequence[str], align: str | None = None
) -> str:
    """Plain-text table; ``align`` is a string of 'l'/'r' per column."""
    cells = [[_fmt(c) for c in r] for r in rows]
    header = [str(h) for h in header]
    widths = [len(h) for h in header]
    for r in cells:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    align = align or ("l" + "r" * (len(header) - 1))

    def line(vals):
        return "  ".join(
            v.ljust(w) if a == "l" else v.rjust(w) for v, w, a in zip(vals, widths, align)
        )

    out = [line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


def format_markdown(
    rows: Sequence[Sequence[Any]], header: Sequence[str], align: str | None = None
) -> str:
    align = align or ("l" + "r" * (len(header) - 1))
    out = [
        "| " + " | ".join(str(h) for h in header) + " |",
        "|" + "|".join(":---" if a == "l" else "---:" for a in align) + "|",
    ]
    for r in rows:
        out.append("| " + " | ".join(_fmt(c) for c in r) + " |")
    return "\n".join(out)


def _fmt(c: Any) -> str:
    if c is None:
        return "-"
    if isinstance(c, float):
        if c != c:  # nan
            return "-"
        if abs(c) >= 100:
            return f"{c:,.0f}"
        if abs(c) >= 10:
            return f"{c:.1f}"
        return f"{c:.3f}" if abs(c) < 1 else f"{c:.2f}"
    if isinstance(c, int):
        return f"{c:,}"
    return str(c)
