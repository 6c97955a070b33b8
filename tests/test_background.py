"""The main job's second core: work forked to a worker gives what the calling process gives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from riskcalc.release import background
from riskcalc.release.background import Background, can_fork

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the worker is forked on Linux only"
)


def _pid_and_square(x):
    return os.getpid(), x * x


def _fail(x):
    raise ValueError(f"bad {x}")


_PARENT = os.getpid()


def _die_in_worker(x):
    if os.getpid() != _PARENT:
        os.kill(os.getpid(), signal.SIGKILL)
    return os.getpid(), x + 1


FRESH_PROCESS = """
import os, sys
from riskcalc.release import background
background._cores = lambda: 2
import test_background as t
with background.Background() as bg:
    assert bg.forked, "a fresh single-threaded process forks its worker"
    pid, value = bg.submit(t._pid_and_square, 12)()
    assert value == 144 and pid != os.getpid()
    pid, value = bg.submit(t._die_in_worker, 4)()
    assert (pid, value) == (os.getpid(), 5), "a killed worker's work is redone here"
from riskcalc.release.job import tiers_job
assert background.can_fork()
forked = tiers_job(3_000, 5, what_if=False, history_pupils=2_000).files()  # history, 2 charts on the worker
os.environ["RISKCALC_BACKGROUND"] = "0"
inline = tiers_job(3_000, 5, what_if=False, history_pupils=2_000).files()
assert forked.keys() == inline.keys() and all(forked[k] == inline[k] for k in forked), "same files"
print("ok")
"""


def _run_in_a_fresh_interpreter(script: str) -> None:
    """Run ``script`` in a fresh interpreter and check that it printed ``ok``: this test process
    may already run kernel threads, which rightly prevents forking here."""
    here = os.path.dirname(__file__)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(here), here])}
    env.pop("RISKCALC_BACKGROUND", None)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


@linux_only
def test_forked_worker_runs_elsewhere_gives_the_same_files_and_a_killed_one_is_replaced():
    _run_in_a_fresh_interpreter(FRESH_PROCESS)


def test_after_kernel_threads_started_no_fork(monkeypatch):
    monkeypatch.setattr(background, "_cores", lambda: 2)
    monkeypatch.setattr(background, "parallel_started", lambda: True)
    assert not can_fork()


def test_disabled_by_environment_runs_inline(monkeypatch):
    monkeypatch.setenv("RISKCALC_BACKGROUND", "0")
    assert not can_fork()
    with Background() as bg:
        assert not bg.forked
        assert bg.submit(_pid_and_square, 3)() == (os.getpid(), 9)


def test_no_fork_while_another_python_thread_runs(monkeypatch):
    monkeypatch.setattr(background, "_cores", lambda: 2)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not can_fork()
    finally:
        stop.set()
        thread.join()


def test_one_core_runs_inline(monkeypatch):
    monkeypatch.setattr(background, "_cores", lambda: 1)
    assert not can_fork()


@linux_only
def test_errors_of_the_work_reach_the_caller(monkeypatch):
    monkeypatch.setattr(background, "_cores", lambda: 2)
    with Background() as bg:
        result = bg.submit(_fail, 1)
        with pytest.raises(ValueError, match="bad 1"):
            result()


def test_parallel_started_reads_numbas_threading_layer(monkeypatch):
    import types

    from riskcalc._core import kernels

    monkeypatch.setattr(kernels, "_numba", types.SimpleNamespace())  # compiled kernels loaded
    monkeypatch.delitem(sys.modules, "numba.np.ufunc.parallel", raising=False)
    assert kernels.parallel_started() is False
    monkeypatch.setitem(
        sys.modules, "numba.np.ufunc.parallel", types.SimpleNamespace(_is_initialized=True)
    )
    assert kernels.parallel_started() is True
    monkeypatch.setitem(
        sys.modules, "numba.np.ufunc.parallel", types.SimpleNamespace(_is_initialized=False)
    )
    assert kernels.parallel_started() is False


def _returns_unpicklable(x):
    return lambda: x


PIPES_PROCESS = """
import os, sys, threading
from riskcalc.release import background
background._cores = lambda: 2
import test_background as t
with background.Background() as bg:
    assert bg.forked
    # the worker leaves no thread here (this process may fork again), and answers are matched
    # to their work whatever order they are asked in
    results = [bg.submit(t._pid_and_square, x) for x in range(5)]
    assert threading.active_count() == 1, threading.enumerate()
    worker = bg._process.pid
    assert [r() for r in reversed(results)] == [(worker, x * x) for x in reversed(range(5))]
    assert all(r.ready() for r in results)
    # work that does not pickle runs here; a result that does not pickle back is redone here
    local = bg.submit(lambda: os.getpid())
    assert not local.ready() and local() == os.getpid() and local.ready()
    assert bg.submit(t._returns_unpicklable, 7)()() == 7
    assert bg.submit(t._pid_and_square, 3)() == (worker, 9), "the worker still answers"
# answers nobody asked for, larger than a pipe holds, do not keep the worker (or close) waiting
bg = background.Background()
for _ in range(3):
    bg.submit(bytes, 4_000_000)
process = bg._process
bg.close()
assert not process.is_alive()
print("ok")
"""


@linux_only
def test_the_worker_talks_over_pipes_leaves_no_thread_and_redoes_what_does_not_pickle():
    _run_in_a_fresh_interpreter(PIPES_PROCESS)


def test_inline_result_is_computed_once_when_asked(monkeypatch):
    monkeypatch.setenv("RISKCALC_BACKGROUND", "0")
    calls = []
    with Background() as bg:
        result = bg.submit(calls.append, 1)
        assert not result.ready() and calls == []
        assert result() is None and result() is None and calls == [1] and result.ready()


def test_a_refused_fork_runs_the_work_here(monkeypatch):
    """Forking can fail (no memory, a process limit): the job then runs its work inline."""
    import multiprocessing

    monkeypatch.setattr(background, "can_fork", lambda: True)

    def refuse(self):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.get_context("fork").Process, "start", refuse)
    with Background() as bg:
        assert not bg.forked
        assert bg.submit(_pid_and_square, 4)() == (os.getpid(), 16)


def _slow_square(x):
    import time

    time.sleep(0.3)
    return os.getpid(), x * x


def _pid_and_add(value, y):
    return os.getpid(), value[1] + y


THEN_PROCESS = """
import os
from riskcalc.release import background
background._cores = lambda: 2
import test_background as t
with background.Background() as bg:
    assert bg.forked
    worker = bg._process.pid
    earlier = bg.keep(t._slow_square, 6)
    later = bg.then(earlier, t._pid_and_add, 1)   # sent before the first value exists anywhere
    assert later() == (worker, 37), "then() ran in the worker, on the value the worker kept"
    assert earlier() == (worker, 36)
    failed = bg.keep(t._fail, 2)
    after_failure = bg.then(failed, t._pid_and_add, 1)
    try:
        after_failure()
    except ValueError as exc:
        assert "bad 2" in str(exc), "the earlier work's error"
    else:
        raise AssertionError("then() on failed work must raise its error")
    not_kept = bg.submit(t._pid_and_square, 2)
    here = bg.then(not_kept, t._pid_and_add, 1)
    assert here() == (os.getpid(), 5), "work on a value the worker did not keep runs here"
print("ok")
"""


@linux_only
def test_then_runs_on_a_kept_value_in_the_worker():
    _run_in_a_fresh_interpreter(THEN_PROCESS)


def test_then_runs_here_when_nothing_is_forked(monkeypatch):
    monkeypatch.setenv("RISKCALC_BACKGROUND", "0")
    with Background() as bg:
        earlier = bg.keep(_pid_and_square, 3)
        later = bg.then(earlier, _pid_and_add, 2)
        assert not later.ready()
        assert later() == (os.getpid(), 11) and earlier() == (os.getpid(), 9)


JOB_ORDER_PROCESS = """
import sys
from synthetic import _parallel
forked_with = []
real = _parallel._ForkedWorkers.__init__
def spy(self, *args, **kwargs):
    forked_with.append(sorted(m for m in ("pandas", "pyarrow", "numba", "matplotlib") if m in sys.modules))
    real(self, *args, **kwargs)
_parallel._ForkedWorkers.__init__ = spy
_parallel.usable_cores = lambda: 2  # a one-core machine would generate in this process
import contextlib, io
from riskcalc import _cli as cli
with contextlib.redirect_stdout(io.StringIO()):
    assert cli.main(["tiers", "--pupils", "200000", "--no-what-if", "--no-history", "--format", "csv"]) == 0
assert forked_with == [[]], forked_with
print("ok")
"""


@linux_only
def test_the_tiers_job_starts_its_cohort_before_importing_pandas():
    """The cohort's worker processes are forked before pandas, pyarrow and numba are imported,
    so they generate while this process imports them."""
    _run_in_a_fresh_interpreter(JOB_ORDER_PROCESS)


NATIVE_GARBAGE_PROCESS = """
import contextlib, gc, io, os
from riskcalc._cli import main
from riskcalc.release import background
background._cores = lambda: 2
# a Splink (DuckDB) run leaves garbage holding DuckDB's objects, whose threads a fork does not copy
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    assert main(["attack", "--pupils", "600", "--seed", "2", "--intruders", "class_list", "--tiers", "1"]) == 0
with background.Background() as bg:
    assert bg.forked
    bg.submit(gc.collect)
    assert bg.submit(os.getpid)() != os.getpid(), "the worker died collecting what the parent left"
print("ok")
"""


@linux_only
def test_the_worker_does_not_inherit_garbage_holding_native_objects():
    """Garbage is collected before the fork: the worker crashed (a segmentation fault, its work
    redone here) when its first collection freed DuckDB objects left by a Splink run."""
    pytest.importorskip("splink")
    _run_in_a_fresh_interpreter(NATIVE_GARBAGE_PROCESS)
