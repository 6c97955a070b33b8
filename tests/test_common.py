"""Checks every public measure passes (scikit-learn's ``test_common.py`` pattern).

``MEASURES`` lists every public measure with one valid call on a small table. A test fails
when a public function of ``riskcalc`` is neither in the registry nor named as a non-measure,
so a new measure cannot skip these checks.
"""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pandas as pd
import pytest

import riskcalc as rc

QI = ["sex", "year", "school"]


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 60
    return pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], n),
            "year": rng.integers(7, 10, n),
            "school": rng.choice(list("ABCDE"), n),
            "fsm": rng.choice(["Y", "N"], n),
            "sen": rng.choice(["K", "E", "N"], n),
            "w": rng.uniform(5, 15, n).round(2),
            "count": rng.integers(1, 6, n),
        }
    )


#: name -> call(data, quasi_identifiers): one valid call of every public measure.
MEASURES = {
    "partition": lambda d, q: rc.partition(d, q),
    "class_sizes": lambda d, q: rc.class_sizes(d, q),
    "size_histogram": lambda d, q: rc.size_histogram(d, q),
    "k_anonymity": lambda d, q: rc.k_anonymity(d, q),
    "uniqueness": lambda d, q: rc.uniqueness(d, q),
    "small_count_exposure": lambda d, q: rc.small_count_exposure(d, q),
    "risk_summary": lambda d, q: rc.risk_summary(d, q),
    "field_lattice": lambda d, q: rc.field_lattice(d, q, max_size=2),
    "suda": lambda d, q: rc.suda(d, q, max_msu=2),
    "attacker_risk": lambda d, q: rc.attacker_risk(d, q),
    "individual_risk": lambda d, q: rc.individual_risk(d, q, weights="w"),
    "population_uniqueness": lambda d, q: rc.population_uniqueness(d, q, sampling_fraction=0.2),
    "l_diversity": lambda d, q: rc.l_diversity(d, q, "sen"),
    "t_closeness": lambda d, q: rc.t_closeness(d, q, "sen"),
    "beta_likeness": lambda d, q: rc.beta_likeness(d, q, "sen"),
    "delta_disclosure": lambda d, q: rc.delta_disclosure(d, q, "sen"),
    "attribute_disclosure": lambda d, q: rc.attribute_disclosure(d, q, ["sen", "fsm"]),
    "profile_columns": lambda d, q: rc.profile_columns(d, q),
    "model_risk": lambda d, q: rc.model_risk(d, q, sampling_fraction=0.2),
}

#: Public functions that are not measures of a table on quasi-identifiers, and why.
NOT_MEASURES = {
    "encode": "builds the input the measures take",
    "zayatz": "estimator on a histogram (tested with population_uniqueness)",
    "pitman": "estimator on a histogram (tested with population_uniqueness)",
    "snb": "estimator on a histogram (tested with population_uniqueness)",
    "load_scenarios": "release layer: reads scenario files",
    "risk_table": "release layer",
    "tier_risk_table": "release layer",
    "what_if": "release layer",
    "smallest_coarsening": "release layer",
    "html_report": "release layer",
    "audit_tables": "linked aggregate tables, not quasi-identifiers (tests/test_audit.py)",
    "tier3_audit": "linked aggregate tables (tests/test_audit.py)",
    "apply_policy": "applies a suppression policy to a table (tests/test_audit.py)",
    "check_frequency_table": "output checking of a researcher's table (tests/test_output_check.py)",
    "check_magnitude_table": "output checking (tests/test_output_check.py)",
    "check_summary": "output checking (tests/test_output_check.py)",
    "load_output_rules": "reads the output-checking rules",
    "normalise": "returns a normalised copy of the data (tests/test_profile.py)",
    "trajectory_uniqueness": "panel measure: one row per pupil per census (tests/test_histories.py)",
    "points_singled_out": "panel measure (tests/test_histories.py)",
    "linkage_risk": "panel measure (tests/test_histories.py)",
    "history_attribute_disclosure": "panel measure (tests/test_histories.py)",
    "linkage_attack": "links an auxiliary table to an extract with a truth id (tests/test_linkage_attack.py)",
}


def _public_functions() -> set[str]:
    return {n for n in rc.__all__ if inspect.isfunction(getattr(rc, n))}


def test_every_public_measure_is_registered():
    unlisted = _public_functions() - set(MEASURES) - set(NOT_MEASURES)
    assert not unlisted, (
        f"add these public functions to MEASURES or NOT_MEASURES: {sorted(unlisted)}"
    )
    assert not (set(MEASURES) | set(NOT_MEASURES)) - _public_functions(), (
        "the registry names a function that is gone"
    )


def _headline(result) -> str:
    """What must not depend on row order: the repr (headline numbers) of the result."""
    return repr(result)


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_row_order_never_changes_the_headline(name):
    df = _frame()
    shuffled = df.sample(frac=1.0, random_state=3).reset_index(drop=True)
    if name == "partition":  # class labels may follow row order; the histogram may not
        a, b = rc.partition(df, QI).size_histogram, rc.partition(shuffled, QI).size_histogram
        assert (a.sizes.tolist(), a.counts.tolist()) == (b.sizes.tolist(), b.counts.tolist())
        return
    if name == "class_sizes":
        a, b = MEASURES[name](df, QI).fk, MEASURES[name](shuffled, QI).fk
        assert sorted(a) == sorted(b)
        return
    if name in ("suda", "individual_risk"):  # per-record arrays in the repr: compare sorted
        a, b = MEASURES[name](df, QI).to_frame(), MEASURES[name](shuffled, QI).to_frame()
        key = list(a.columns)
        pd.testing.assert_frame_equal(
            a.sort_values(key).reset_index(drop=True),
            b.sort_values(key).reset_index(drop=True),
            check_exact=False,
        )
        return
    assert _headline(MEASURES[name](df, QI)) == _headline(MEASURES[name](shuffled, QI))


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_input_is_never_modified(name):
    df = _frame()
    before = df.copy(deep=True)
    MEASURES[name](df, QI)
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_results_are_frozen_and_tidy(name):
    result = MEASURES[name](_frame(), QI)
    assert repr(result)
    if dataclasses.is_dataclass(result):
        field = dataclasses.fields(result)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(result, field, None)
    if hasattr(result, "to_frame"):
        assert isinstance(result.to_frame(), pd.DataFrame)


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_missing_column_is_named(name):
    with pytest.raises(
        rc.MissingColumnError, match="No column named 'shcool'.*Did you mean 'school'"
    ):
        MEASURES[name](_frame(), ["sex", "shcool"])


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_empty_table_is_refused(name):
    with pytest.raises(rc.EmptyTableError):
        MEASURES[name](_frame().iloc[:0], QI)


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_encoded_and_raw_inputs_agree(name):
    df = _frame()
    enc = rc.encode(df, weights="w")
    assert _headline(MEASURES[name](df, QI)) == _headline(MEASURES[name](enc, QI))
