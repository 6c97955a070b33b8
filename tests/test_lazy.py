"""Slow imports are deferred: ``import riskcalc`` (and the main job's modules) load neither
``scipy.special``, ``scipy.optimize``, ``scipy.linalg`` nor ``scipy.sparse``; the measures
that need them import them on first use."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import riskcalc as rc
from riskcalc._lazy import lazy_module


def test_importing_riskcalc_and_the_main_job_defers_the_slow_scipy_modules():
    code = (
        "import sys, riskcalc, riskcalc._cli, riskcalc.release.job; "
        "print(sorted(m for m in ('scipy.special', 'scipy.optimize', 'scipy.linalg', 'scipy.sparse') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_module_imports_on_first_attribute_and_measures_use_it():
    mod = lazy_module("json")
    assert "not imported yet" in repr(mod)
    assert mod.dumps([1]) == "[1]"
    assert "imported" in repr(mod) and "not" not in repr(mod)
    # a measure whose module holds lazy scipy modules still computes
    sizes, counts = np.array([1, 2, 3, 4, 5]), np.array([300, 80, 30, 10, 5])
    est = rc.snb(sizes, counts, n=615, N=6150)  # scipy.optimize and scipy.special inside
    assert est.converged and 0 < est.n_population_uniques < 6150


def test_import_riskcalc_and_the_command_line_parser_load_no_pandas():
    """``import riskcalc`` and building the command line load neither pandas, pyarrow, numba
    nor matplotlib (Scientific Python's SPEC 1): ``riskcalc --help`` is quick, and the tiers
    job can start its cohort's workers first."""
    code = (
        "import sys, riskcalc, riskcalc._cli; riskcalc._cli.build_parser(); "
        "print(sorted(m for m in ('pandas', 'pyarrow', 'numba', 'matplotlib', 'scipy.special') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_resolves_and_submodules_do_not_shadow_functions():
    """Importing the module of a measure (``riskcalc._suda``, ``_uniqueness``, ``_model_risk``,
    ``_linkage_attack``) leaves ``riskcalc.<name>`` the function; the public classes print as
    ``riskcalc.<Name>``."""
    code = """
import importlib, types, riskcalc
for name in ("suda", "uniqueness", "model_risk", "linkage_attack"):
    importlib.import_module(f"riskcalc._{name}")
    assert callable(getattr(riskcalc, name)) and not isinstance(getattr(riskcalc, name), types.ModuleType), name
for name in riskcalc.__all__:
    assert hasattr(riskcalc, name), name
assert set(riskcalc.__all__) <= set(dir(riskcalc))
assert riskcalc.SizeHistogram.__module__ == "riskcalc" and riskcalc.RiskCalcError.__module__ == "riskcalc"
try:
    riskcalc.no_such_name
except AttributeError as exc:
    assert "no_such_name" in str(exc)
else:
    raise AssertionError
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
