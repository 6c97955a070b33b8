"""The notebooks in notebooks/ run top to bottom, so they never rot.

Each notebook's code cells are executed in order, in-process, in a fresh namespace, with a
non-interactive matplotlib backend, the working directory and temporary files in ``tmp_path``,
and the cohort size cut from 20,000 to 5,000 pupils. A cell that raises fails the test. The
notebooks are read as JSON (nbformat is not a test dependency).
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = [
    "01_researcher_tour.ipynb",
    "02_policy_brief.ipynb",
    "03_your_own_csv.ipynb",
    "04_safe_outputs.ipynb",
    "05_histories.ipynb",
    "06_linkage_attack.ipynb",
    "07_release_ledger.ipynb",
]
SIZE_CELL = "N_PUPILS = 20_000"
SMALL_SIZE = "N_PUPILS = 5_000"
SECONDS_PER_NOTEBOOK = 45


def _load(name: str) -> dict:
    return json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))


def _source(cell: dict) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def _code_cells(nb: dict) -> list[str]:
    return [_source(c) for c in nb["cells"] if c["cell_type"] == "code"]


def test_every_notebook_is_listed():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stored_clean(name):
    nb = _load(name)
    assert nb["nbformat"] == 4
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{name}: code cell {i} has stored outputs; clear them"
            assert cell["execution_count"] is None, f"{name}: code cell {i} has an execution count"
    markdown = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert len(markdown) >= 5, f"{name}: the narrative is missing"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_uses_the_public_api(name):
    code = "\n".join(_code_cells(_load(name)))
    assert "import riskcalc as rc" in code
    private = re.findall(r"\b(?:riskcalc|synthetic|rc)\._(?!_)\w+", code)
    assert not private, f"{name} uses private names: {private}"
    assert "IPython" not in code and not re.search(r"^\s*[%!]", code, re.M), f"{name} needs IPython"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name, tmp_path, monkeypatch):
    cells = _code_cells(_load(name))
    size_cells = [i for i, src in enumerate(cells) if SIZE_CELL in src]
    assert len(size_cells) == 1, (
        f"{name}: expected one cell with {SIZE_CELL!r}, found {len(size_cells)}"
    )
    cells[size_cells[0]] = cells[size_cells[0]].replace(SIZE_CELL, SMALL_SIZE)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    before = sorted(p.name for p in NOTEBOOKS.iterdir())
    namespace = {"__name__": "__main__"}
    start = time.perf_counter()
    # The notebooks set display and plotting options: keep them out of the other tests.
    options = [x for o in ("display.width", "display.max_columns") for x in (o, pd.get_option(o))]
    with pd.option_context(*options), matplotlib.rc_context():
        try:
            for i, src in enumerate(cells):
                try:
                    exec(compile(src, f"<{name} code cell {i}>", "exec"), namespace)
                except Exception as exc:
                    raise AssertionError(
                        f"{name}: code cell {i} raised {type(exc).__name__}: {exc}\n\n{src}"
                    ) from exc
        finally:
            plt.close("all")
    elapsed = time.perf_counter() - start
    assert namespace["N_PUPILS"] == 5_000
    assert sorted(p.name for p in NOTEBOOKS.iterdir()) == before, f"{name} wrote into notebooks/"
    assert elapsed < SECONDS_PER_NOTEBOOK, f"{name} took {elapsed:.1f} s at 5,000 pupils"
