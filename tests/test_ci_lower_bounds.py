"""The oldest-versions CI lane's constraints: every runtime dependency pinned to its lower bound."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "lower_bounds.py"


def _module():
    spec = importlib.util.spec_from_file_location("lower_bounds", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lb = _module()

PYPROJECT = """
[project]
name = "x"
dependencies = ["numpy>=1.23.5", "Pandas >= 1.5.3, <3", "py_arrow>=14.0.1; python_version >= '3.11'"]
[project.optional-dependencies]
spark = ["pyspark>=4.0"]
other = ["numpy>=1.26"]
"""


def test_pins_each_lower_bound():
    assert lb.constraints(PYPROJECT) == ["numpy==1.23.5", "pandas==1.5.3", "py-arrow==14.0.1"]
    assert lb.constraints(PYPROJECT, ["spark"])[-1] == "pyspark==4.0"


@pytest.mark.parametrize("req", ["numpy", "numpy<2", "numpy==1.26", "numpy>1.2", "numpy>=1,>=2"])
def test_requirement_without_one_lower_bound_is_refused(req):
    with pytest.raises(ValueError, match="lower bound"):
        lb.lower_bound(req)


def test_conflicting_bounds_and_unknown_extra_are_refused():
    with pytest.raises(ValueError, match="two lower bounds"):
        lb.constraints(PYPROJECT, ["other"])
    with pytest.raises(ValueError, match="no optional-dependency group"):
        lb.constraints(PYPROJECT, ["nope"])


def test_project_dependencies_all_have_lower_bounds():
    """The real pyproject: each runtime dependency is pinned once, at its '>=' bound."""
    lines = lb.constraints((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names = [line.split("==")[0] for line in lines]
    assert {"numpy", "pandas", "pyarrow", "scipy", "numba"} <= set(names)
    assert len(names) == len(set(names))


def test_command_line_prints_constraints_and_one_line_errors(tmp_path):
    good = tmp_path / "pyproject.toml"
    good.write_text(PYPROJECT, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, str(SCRIPT), str(good), "--extra", "spark"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.split() == ["numpy==1.23.5", "pandas==1.5.3", "py-arrow==14.0.1", "pyspark==4.0"]
    bad = tmp_path / "bad.toml"
    bad.write_text('[project]\nname = "x"\ndependencies = ["numpy"]\n', encoding="utf-8")
    run = subprocess.run([sys.executable, str(SCRIPT), str(bad)], capture_output=True, text=True)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "no single '>=' lower bound" in run.stderr
