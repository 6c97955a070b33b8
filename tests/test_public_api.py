"""The public surface, the README's promises, and the docstring examples."""

from __future__ import annotations

import ast
import doctest
import importlib
import importlib.util
import re
from pathlib import Path

import pytest

import riskcalc as rc

ROOT = Path(__file__).resolve().parents[1]


def test_all_is_the_table_of_public_names():
    """``__all__`` and the lazy imports come from one table (``riskcalc._NAMES``): every row
    names a distinct public name, its module exists and every name resolves (the docstring's
    table: test_every_public_name_is_in_the_docstring_table)."""
    rows = [row for section in rc._NAMES.values() for row in section]
    names = [name for name, _, _ in rows]
    assert len(names) == len(set(names)), "a public name is listed twice"
    assert rc.__all__ == ["__version__", *names]
    assert set(rc._LAZY) == set(names)
    for name, home, _ in rows:
        assert importlib.util.find_spec(f"riskcalc.{home}") is not None, (name, home)
        assert getattr(rc, name) is getattr(importlib.import_module(f"riskcalc.{home}"), name)
    for name in rc.__all__:
        assert hasattr(rc, name), name


def test_a_few_public_names_never_move():
    """The names the README, the docs and the notebooks lean on are public (a renamed or
    removed public name is a CHANGELOG entry, not an accident)."""
    for name in [
        "encode",
        "uniqueness",
        "k_anonymity",
        "suda",
        "model_risk",
        "linkage_attack",
        "risk_summary",
        "SizeHistogram",
        "RiskCalcError",
        "InvalidParameterError",
        "load_output_rules",
        "population_uniqueness",
        "__version__",
    ]:
        assert name in rc.__all__, name


def _type_checking_imports(package: str) -> set[tuple[str, str, str]]:
    """``(module, attribute, bound name)`` of every import under ``if TYPE_CHECKING:`` in
    ``<package>/__init__.py``."""
    tree = ast.parse((ROOT / package / "__init__.py").read_text(encoding="utf-8"))
    blocks = [
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    ]
    assert len(blocks) == 1
    out = set()
    for node in blocks[0].body:
        assert isinstance(node, ast.ImportFrom) and node.level == 1, ast.dump(node)
        for alias in node.names:
            out.add((node.module, alias.name, alias.asname or alias.name))
    return out


def _lazy_table(package: str) -> dict[str, tuple[str, str]]:
    """Public name -> (module, attribute) of a package's ``_LAZY`` table."""
    return {n: (h, n) for n, h in importlib.import_module(package)._LAZY.items()}


@pytest.mark.parametrize("package", ["riskcalc", "synthetic"])
def test_the_type_checking_imports_match_the_table(package):
    """What type checkers read (the static ``TYPE_CHECKING`` imports) is the table, name for
    name, each re-exported explicitly (``x as x``); the failure prints the block to paste."""
    want = {(mod, attr, name) for name, (mod, attr) in _lazy_table(package).items()}
    got = _type_checking_imports(package)
    block = "\n".join(
        f"    from .{mod} import {attr} as {name}"
        for mod, attr, name in sorted(want, key=lambda t: (t[0], t[2]))
    )
    assert got == want, f"replace the TYPE_CHECKING block of {package}/__init__.py by:\n{block}"


@pytest.mark.parametrize("package", ["riskcalc", "synthetic"])
def test_every_public_name_is_in_the_docstring_table(package):
    """The package docstring lists each public name of the table under its section, with the
    first words of its summary."""
    pkg = importlib.import_module(package)
    lines = pkg.__doc__.splitlines()
    for section, rows in pkg._NAMES.items():
        assert f"\n{section}\n{'-' * len(section)}\n" in pkg.__doc__, section
        for name, _, summary in rows:
            assert summary and summary.endswith(".") and "\n" not in summary, name
            line = next(x for x in lines if x.split(" ", 1)[0] == name)
            assert summary.split()[0] in line, name
            assert getattr(pkg, name) is not None


def test_no_submodule_shares_a_public_name():
    """Importing a submodule binds it on the package: one named as a public function would hide
    the function (``riskcalc.suda`` the module), so measures live in ``_suda.py``, ... (as
    scipy.stats does)."""
    pkg = ROOT / "riskcalc"
    modules = {p.stem for p in pkg.glob("*.py")} | {
        p.parent.name for p in pkg.glob("*/__init__.py")
    }
    assert not modules & set(rc.__all__), sorted(modules & set(rc.__all__))
    for name in ("suda", "uniqueness", "model_risk", "linkage_attack"):
        assert callable(getattr(rc, name)), name


def test_result_classes_pickle_under_their_public_names():
    """A pickle names ``riskcalc.<Name>`` (not the private module), so it loads whatever the
    module layout, and the classes print as the documentation shows them."""
    import pickle

    import pandas as pd

    df = pd.DataFrame({"a": [1, 1, 2, 3], "b": list("xxyz")})
    for result in (
        rc.suda(df, ["a", "b"]),
        rc.uniqueness(df, ["a", "b"]),
        rc.size_histogram(df, ["a"]),
    ):
        data = pickle.dumps(result)
        assert b"riskcalc\x94\x8c" in data and b"_suda" not in data and b"_uniqueness" not in data
        assert repr(pickle.loads(data)) == repr(result)
    for name in ("SudaResult", "UniquenessResult", "ModelRiskResult", "LinkageAttackResult"):
        assert getattr(rc, name).__module__ == "riskcalc", name


def test_version_matches_metadata_when_installed():
    from importlib.metadata import PackageNotFoundError, version

    try:
        assert version("riskcalc-sdc") == rc.__version__
    except PackageNotFoundError:  # running from a plain checkout
        pytest.skip("riskcalc-sdc is not installed")


def test_distribution_name_is_ours():
    """`riskcalc` on the package index is someone else's project: the distribution is
    `riskcalc-sdc` and every install command in the docs says so (the import name stays)."""
    import tomllib

    root = Path(__file__).resolve().parents[1]
    meta = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert meta["name"] == "riskcalc-sdc"
    for page in [
        root / "README.md",
        root / "CONTRIBUTING.md",
        *sorted((root / "docs").rglob("*.md")),
    ]:
        text = page.read_text(encoding="utf-8")
        bad = re.findall(r"pip install riskcalc(?![-\w])", text)
        bad += re.findall(r"[\"'`]riskcalc\[", text)  # an extra of the other project
        assert not bad, f"{page.name} tells users to install the other project: {bad}"


@pytest.mark.parametrize(
    "module",
    [
        "riskcalc._core.encoding",
        "riskcalc.frequencies",
        "riskcalc.kanon",
        "riskcalc._uniqueness",
        "riskcalc.small_counts",
        "riskcalc.lattice",
        "riskcalc._suda",
        "riskcalc.attacker",
        "riskcalc.individual",
        "riskcalc.population",
        "riskcalc._population_estimators",
        "riskcalc.attribute",
        "riskcalc.output_check",
        "riskcalc._labels",
        "riskcalc.profile",
        "riskcalc.release.quality",
        "riskcalc.audit",
    ],
)
def test_docstring_examples(module):
    result = doctest.testmod(
        importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted > 0
    assert result.failed == 0


def test_readme_quick_start_has_exactly_two_commands():
    text = (ROOT / "README.md").read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", quick, flags=re.S)
    commands = [line for block in blocks for line in block.strip().splitlines()]
    assert len(commands) == 2
    assert "riskcalc analyse" in commands[0] or "riskcalc tiers" in commands[0]
    assert '".[test]"' in commands[1] and "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"grep -m 1 -E '\^python3 -m venv", ci)
    assert commands[1].startswith('python3 -m venv .venv && .venv/bin/pip install ".[test]"')


@pytest.mark.slow
def test_readme_example_output_is_current():
    """The table shown under the quick start is what `riskcalc tiers` prints (1,000,000 pupils,
    seed 0)."""
    from riskcalc.release.job import tiers_job

    out = tiers_job(1_000_000, 0, report=False).table.to_markdown().splitlines()
    text = (ROOT / "README.md").read_text()
    shown = (
        text.split("The first command prints the tier table", 1)[1]
        .split("```text\n", 1)[1]
        .split("```", 1)[0]
    )
    lines = [line for line in shown.splitlines() if line != "..."]
    assert len(lines) >= 10
    for line in lines:
        assert line in out, line


def test_readme_library_example_output_is_current(tmp_path, monkeypatch):
    """The README's worked example runs, and the output it shows is what its code prints
    (before: the comment showed 5,504 unique pupils of another file, the code printed 98,322)."""
    text = (ROOT / "README.md").read_text()
    block = text.split("## A worked example", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    code, shown = block.split("\n# UniquenessResult(", 1)
    rest = shown.split("\n", 1)[1]
    shown = "UniquenessResult(" + shown.splitlines()[0]
    last = code.strip().splitlines()[-1]
    assert last.startswith("rc.uniqueness(")
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(
        compile(code.rsplit("\n", 1)[0] + "\n_result = " + last + "\n", "README.md", "exec"), scope
    )
    printed = repr(scope["_result"])
    assert printed.startswith(shown.rstrip(".)").rstrip(", ")), (printed, shown)
    exec(compile(rest, "README.md", "exec"), scope)  # the rest of the example runs too


def test_the_citation_file_cites_this_version():
    """CITATION.cff names the version every output's provenance names (they must move together)."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "CITATION.cff").read_text(encoding="utf-8")
    versions = [
        line.split(":", 1)[1].strip().strip('"')
        for line in text.splitlines()
        if line.startswith("version:")
    ]
    assert versions == [rc.__version__]
