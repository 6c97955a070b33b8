"""Kill signals (issue 26, item 4): SIGTERM is handled as Ctrl-C (one line, exit 143, nothing
left), and worker processes die with their parent even when it is killed outright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="Linux /proc and prctl"
)


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (read from /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start_with_workers(tmp_path):
    """A tiers job big enough to have worker processes for several seconds; returns it and its
    workers once they exist."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "riskcalc",
            "tiers",
            "--pupils",
            "1500000",
            "--out",
            "o",
            "--no-progress",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        kids = _children(proc.pid)
        if kids:
            return proc, kids
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    pytest.fail("the job never started a worker process")


def test_sigterm_is_one_line_exit_143_and_leaves_nothing(tmp_path):
    proc, kids = _start_with_workers(tmp_path)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert err.strip().splitlines() == ["riskcalc: terminated"]
    time.sleep(0.5)
    assert not [k for k in kids if _alive(k)]
    assert (
        sorted(p.name for p in tmp_path.iterdir()) == []
    )  # no partial set, no temp folder, no lock


def test_workers_die_when_the_parent_is_killed(tmp_path):
    proc, kids = _start_with_workers(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and [k for k in kids if _alive(k)]:
        time.sleep(0.1)
    left = [k for k in kids if _alive(k)]
    for k in left:  # never leave them running, even when the test fails
        os.kill(k, signal.SIGKILL)
    assert not left


def _sleep_forever():  # a forked worker busy in Python code
    while True:
        time.sleep(0.01)


def test_a_worker_forked_during_a_run_ends_quietly_at_sigterm():
    """The flake's root: a process forked while the command's SIGTERM handler is set (the
    cohort's chunk workers, the background worker) inherited it, so the parent's
    ``terminate()`` raised ``Terminated`` inside the worker: a traceback on the shared stderr
    (exit status 1), or the exception shipped back to the parent as the worker's result. The
    handler is the parent's only: a worker takes SIGTERM's default action (dies at once)."""
    import multiprocessing

    from riskcalc._cli._errors import run_handling_sigterm

    def run():
        ctx = multiprocessing.get_context("fork")
        worker = ctx.Process(target=_sleep_forever, daemon=True)
        worker.start()
        time.sleep(0.3)  # the worker is in its loop
        worker.terminate()
        worker.join(10)
        return worker.exitcode

    assert run_handling_sigterm(run) == -signal.SIGTERM


@pytest.mark.parametrize("delay", [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0])
def test_sigterm_at_any_point_of_a_run_is_one_line_exit_143(tmp_path, delay):
    """SIGTERM at many points of a tiers job with a report (imports, cohort, background
    history worker, measures, report, writing): exit 143, one line, nothing left behind."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "riskcalc", "tiers", "--pupils", "60000", "--out", "o"]
        + ["--no-progress"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip(f"the job finished within {delay} s")
    assert proc.returncode == 143, err
    assert err.strip().splitlines() == ["riskcalc: terminated"]
    assert sorted(p.name for p in tmp_path.iterdir()) == []
