"""The public surface, the README's promises, and the docstring examples."""

from __future__ import annotations

import doctest
import importlib
import re
from pathlib import Path

import pytest

import riskcalc as rc

ROOT = Path(__file__).resolve().parents[1]


def test_all_is_what_we_think():
    assert sorted(rc.__all__) == sorted(
        [
            "__version__",
            "encode",
            "partition",
            "EncodedTable",
            "Partition",
            "class_sizes",
            "k_anonymity",
            "uniqueness",
            "small_count_exposure",
            "risk_summary",
            "size_histogram",
            "SizeHistogram",
            "profile_columns",
            "normalise",
            "ProfileResult",
            "ColumnProfile",
            "field_lattice",
            "suda",
            "LatticeResult",
            "SudaResult",
            "ClassSizesResult",
            "attacker_risk",
            "individual_risk",
            "AttackerRiskResult",
            "IndividualRiskResult",
            "population_uniqueness",
            "model_risk",
            "trajectory_uniqueness",
            "points_singled_out",
            "linkage_risk",
            "history_attribute_disclosure",
            "ModelRiskResult",
            "zayatz",
            "pitman",
            "snb",
            "PopulationUniquenessResult",
            "PopulationEstimate",
            "load_scenarios",
            "risk_table",
            "tier_risk_table",
            "what_if",
            "smallest_coarsening",
            "html_report",
            "Scenario",
            "RiskTable",
            "l_diversity",
            "t_closeness",
            "beta_likeness",
            "delta_disclosure",
            "attribute_disclosure",
            "LDiversityResult",
            "TClosenessResult",
            "BetaLikenessResult",
            "DeltaDisclosureResult",
            "AttributeDisclosureResult",
            "KAnonymityResult",
            "UniquenessResult",
            "SmallCountResult",
            "RiskSummary",
            "RiskCalcError",
            "InvalidParameterError",
            "MissingColumnError",
            "EmptyTableError",
            "UnsupportedTypeError",
            "MissingValueError",
            "DataFileError",
            "audit_tables",
            "tier3_audit",
            "apply_policy",
            "SuppressionPolicy",
            "AuditResult",
            "check_frequency_table",
            "check_magnitude_table",
            "check_summary",
            "load_output_rules",
            "OutputCheckResult",
            "linkage_attack",
            "LinkageAttackResult",
        ]
    )
    for name in rc.__all__:
        assert hasattr(rc, name), name


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
    for page in [root / "README.md", root / "CONTRIBUTING.md", *sorted((root / "docs").rglob("*.md"))]:
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
        "riskcalc.uniqueness",
        "riskcalc.small_counts",
        "riskcalc.lattice",
        "riskcalc.suda",
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
