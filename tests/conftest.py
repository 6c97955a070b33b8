"""Shared fixtures: paths to the oracle tables and small hand-built frames."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).parent / "data"
ORACLES = DATA / "oracles"


def oracle(name: str) -> Path:
    """Path of an oracle file, e.g. ``oracle("01_sdcpractice_tab41_individual_risk/input.csv")``."""
    path = ORACLES / name
    assert path.exists(), path
    return path


@pytest.fixture
def practice_guide() -> pd.DataFrame:
    """SDC Practice Guide table 4.1 (ten records; quasi-identifiers Residence..Labor)."""
    return pd.read_csv(oracle("01_sdcpractice_tab41_individual_risk/input.csv"))


PRACTICE_QI = ["Residence", "Gender", "Education", "Labor"]

ARX_QI = [
    "sex",
    "age",
    "race",
    "marital-status",
    "education",
    "native-country",
    "workclass",
    "occupation",
    "salary-class",
]


@pytest.fixture(scope="session")
def arx_adult() -> pd.DataFrame:
    """ARX's adult data, every column read as a string label."""
    return pd.read_csv(oracle("data/arx_adult.csv.gz"), sep=";", dtype=str, keep_default_na=False)


@pytest.fixture(autouse=True)
def _small_history_panel(monkeypatch):
    """The main job's school-history section on a 5,000-pupil panel in tests (50,000 by
    default), so each ``riskcalc tiers --out`` run in the suite stays quick."""
    import riskcalc.release.history as history

    monkeypatch.setattr(history, "HISTORY_PUPILS", 5_000)


# --------------------------------------------------------------------------------------------
# The slow lane: what `pytest -m "not slow"` (the fast loop, CONTRIBUTING.md) leaves out
# --------------------------------------------------------------------------------------------

#: Modules that start Spark, a browser or a notebook kernel: slow as a whole.
SLOW_MODULES = frozenset({"test_spark.py", "test_report_browser.py", "test_notebooks.py"})

#: Tests that run a whole job end to end, in a subprocess, or at a large size (each took a
#: second or more in `pytest --durations=0` on 2 cores, 2026-12-07; seconds in comments). Every
#: parametrisation of a function listed here is slow. CI runs them all.
SLOW_TESTS = frozenset(
    {
        "tests/test_formula_injection.py::test_every_csv_of_every_command_is_formula_safe",  # 24.4
        "tests/test_signals.py::test_sigterm_at_any_point_of_a_run_is_one_line_exit_143",  # new
        "tests/test_linkage_attack.py::test_more_noise_never_raises_recall",  # 12.3
        "tests/test_crosscheck.py::test_large_key_spaces_match_reference",  # 11.8
        "tests/test_intruder_errors.py::test_error_rates_at_a_million_pupils",  # 10.5
        "tests/test_stream.py::test_encode_batches_on_a_large_table_gives_the_codes_of_encode",  # 10.3
        "tests/test_audit.py::test_every_policy_equals_brute_force",  # 9.4
        "tests/test_output_check.py::test_cli_subprocess_never_reports_an_internal_error",  # 7.4
        "tests/test_data_quality.py::test_every_route_carries_the_profile_findings",  # 6.9
        "tests/test_bad_inputs.py::test_h26_a_failed_write_leaves_no_partial_set",  # 6.6
        "tests/test_background.py::test_the_worker_talks_over_pipes_leaves_no_thread_and_redoes_what_does_not_pickle",  # 5.5
        "tests/test_synthetic.py::test_same_seed_gives_identical_frame",  # 4.8
        "tests/test_audit.py::test_release_mode_depends_only_on_the_publication",  # 3.5
        "tests/test_background.py::test_forked_worker_runs_elsewhere_gives_the_same_files_and_a_killed_one_is_replaced",  # 3.4
        "tests/test_tiers.py::test_same_seed_gives_byte_identical_files",  # 3.3
        "tests/test_bad_inputs.py::test_d07_ulimit_in_a_subprocess",  # 3.2
        "tests/test_bad_inputs.py::test_d07_a_cohort_the_check_admits_runs_under_the_ulimit",  # 7
        "tests/test_identity.py::test_an_installed_wheel_names_the_commit_it_was_built_from",  # 5
        "tests/test_history_section.py::test_same_seed_gives_byte_identical_files",  # 3.0
        "tests/test_outputs_csv.py::test_every_command_wrote_csv",  # 3.0
        "tests/test_linkage_attack.py::test_probabilistic_is_byte_identical",  # 2.7
        "tests/test_linkage_attack.py::test_probabilistic_counts_match_a_direct_count",  # 2.7
        "tests/test_bad_inputs.py::test_d08_force_replaces_the_whole_set",  # 2.4
        "tests/test_population.py::test_simulation_ballpark",  # 2.2
        "tests/test_public_api.py::test_readme_example_output_is_current",  # 2.2
        "tests/test_synthetic_panel.py::test_same_seed_same_panel_byte_for_byte",  # 2.0
        "tests/test_background.py::test_the_worker_does_not_inherit_garbage_holding_native_objects",  # 1.8
        "tests/test_history_section.py::test_cli_switch",  # 1.7
        "tests/test_tiers.py::test_no_value_of_a_unique_record_appears_in_any_output",  # 1.7
        "tests/test_attack_release.py::test_tiers_attack_switch",  # 1.6
        "tests/test_attack_release.py::test_cli_writes_byte_identical_files",  # 1.6
        "tests/test_background.py::test_the_tiers_job_starts_its_cohort_before_importing_pandas",  # 1.6
        "tests/test_bad_inputs.py::test_h26_sigkill_never_leaves_a_partial_set",  # 1.6
        "tests/test_synthetic_panel.py::test_las_stepped_in_groups_give_the_panel_of_one_la_at_a_time",  # 1.3
        "tests/test_bad_inputs.py::test_d17_long_out_names",  # 1.3
        "tests/test_history_section.py::test_job_carries_the_section",  # 1.3
        "tests/test_population.py::test_arx_adult_dankar",  # 1.1
        "tests/test_bad_inputs.py::test_d08_second_run_without_force_keeps_the_first",  # 1.0
    }
)


def pytest_collection_modifyitems(config, items):
    """Mark the slow lane; refuse a name in :data:`SLOW_TESTS` that matches nothing collected
    from its file (a renamed test would otherwise slip back into the fast lane unnoticed)."""
    seen, files = set(), {item.nodeid.split("::", 1)[0] for item in items}
    for item in items:
        name = item.nodeid.split("[", 1)[0]
        if item.path.name in SLOW_MODULES or name in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
            seen.add(name)
    stale = sorted(
        n
        for n in SLOW_TESTS - seen
        if n.split("::", 1)[0] in files
        and "::" in n
        and not config.getoption("keyword")
        and not config.getoption("markexpr")
    )
    if stale:
        raise pytest.UsageError(
            f"tests/conftest.py SLOW_TESTS names tests that do not exist: {', '.join(stale)}"
        )


# --------------------------------------------------------------------------------------------
# Which riskcalc is under test
# --------------------------------------------------------------------------------------------


def pytest_report_header(config):
    import riskcalc
    import synthetic

    return [
        f"riskcalc {riskcalc.__version__} from {Path(riskcalc.__file__).parent}",
        f"synthetic from {Path(synthetic.__file__).parent}",
    ]


def pytest_configure(config):
    """CI's lanes (.ci/run) test the installed wheel, not the checkout: with
    ``RISKCALC_TEST_INSTALLED=1`` a riskcalc imported from the source tree is an error, since
    the lanes would then prove nothing about what users install."""
    import os

    if os.environ.get("RISKCALC_TEST_INSTALLED") != "1":
        return
    import riskcalc
    import synthetic

    root = Path(__file__).resolve().parents[1]
    for module in (riskcalc, synthetic):
        if Path(module.__file__).resolve().parent == root / module.__name__:
            raise pytest.UsageError(
                f"RISKCALC_TEST_INSTALLED=1 but {module.__name__} was imported from the checkout "
                f"({module.__file__}); run `python -P -m pytest` from the installed environment"
            )
