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


#: name -> call(data, quasi_identifiers, **keywords): one valid call of every public measure.
MEASURES = {
    "partition": lambda d, q, **kw: rc.partition(d, q, **kw),
    "class_sizes": lambda d, q, **kw: rc.class_sizes(d, q, **kw),
    "size_histogram": lambda d, q, **kw: rc.size_histogram(d, q, **kw),
    "k_anonymity": lambda d, q, **kw: rc.k_anonymity(d, q, **kw),
    "uniqueness": lambda d, q, **kw: rc.uniqueness(d, q, **kw),
    "small_count_exposure": lambda d, q, **kw: rc.small_count_exposure(d, q, **kw),
    "risk_summary": lambda d, q, **kw: rc.risk_summary(d, q, **kw),
    "field_lattice": lambda d, q, **kw: rc.field_lattice(d, q, max_size=2, **kw),
    "suda": lambda d, q, **kw: rc.suda(d, q, max_msu=2, **kw),
    "attacker_risk": lambda d, q, **kw: rc.attacker_risk(d, q, **kw),
    "individual_risk": lambda d, q, **kw: rc.individual_risk(d, q, weights="w", **kw),
    "population_uniqueness": lambda d, q, **kw: rc.population_uniqueness(
        d, q, sampling_fraction=0.2, **kw
    ),
    "l_diversity": lambda d, q, **kw: rc.l_diversity(d, q, "sen", **kw),
    "t_closeness": lambda d, q, **kw: rc.t_closeness(d, q, "sen", **kw),
    "beta_likeness": lambda d, q, **kw: rc.beta_likeness(d, q, "sen", **kw),
    "delta_disclosure": lambda d, q, **kw: rc.delta_disclosure(d, q, "sen", **kw),
    "attribute_disclosure": lambda d, q, **kw: rc.attribute_disclosure(d, q, ["sen", "fsm"], **kw),
    "profile_columns": lambda d, q, **kw: rc.profile_columns(d, q, **kw),
    "model_risk": lambda d, q, **kw: rc.model_risk(d, q, sampling_fraction=0.2, **kw),
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
    "ledger_exposure": "panel and ledger of releases (tests/test_exposure.py)",
    "read_ledger": "reads a ledger of releases (tests/test_ledger_model.py)",
    "write_ledger_csv": "writes a ledger of releases (tests/test_ledger_model.py)",
    "write_ledger_toml": "writes a ledger of releases (tests/test_ledger_model.py)",
    "exposure_over_time": "panel and dated ledger (tests/test_exposure_policies.py)",
    "compare_policies": "panel and ledger under policies (tests/test_exposure_policies.py)",
    "apply_ledger_policy": "returns a counterfactual ledger (tests/test_exposure_policies.py)",
    "collusion_exposure": "panel and ledger, coalitions of recipients (tests/test_collusion.py)",
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


# --- bad input: one clear error naming the parameter, column or file at fault (from the
# registry of tests/test_validation.py, folded in: every measure below is checked) -----------


#: Measures without a ``missing=`` policy, and why.
NO_MISSING_POLICY = {
    "suda": "sdcMicro's rule: a missing item matches nothing and is never part of an MSU",
    "profile_columns": "profiles the values as they are, missing ones included",
}
WITH_MISSING_POLICY = sorted(set(MEASURES) - set(NO_MISSING_POLICY))


def test_the_exceptions_name_registered_measures():
    assert set(NO_MISSING_POLICY) <= set(MEASURES)


@pytest.fixture
def small_frame() -> pd.DataFrame:
    """Four records; one missing postcode (record 1)."""
    return pd.DataFrame(
        {
            "sex": list("FMFM"),
            "date_of_birth": ["2015-01-02"] * 4,
            "postcode": ["AB1 2CD", None, "AB1 2CD", "EF3 4GH"],
            "w": [1.0, 2.0, 3.0, 4.0],
            "sen": list("KNKE"),
            "fsm": list("YNNY"),
        }
    )


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_missing_column_suggests_closest(name, small_frame):
    with pytest.raises(
        rc.MissingColumnError, match=r"No column named 'postcod'.*Did you mean 'postcode'"
    ):
        MEASURES[name](small_frame, ["sex", "postcod"])


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_missing_column_is_a_keyerror_with_plain_message(name, small_frame):
    with pytest.raises(KeyError) as info:
        MEASURES[name](small_frame, ["nope"])
    assert str(info.value).startswith("No column named 'nope'")


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_empty_quasi_identifier_list(name, small_frame):
    with pytest.raises(rc.InvalidParameterError, match="must name at least one column"):
        MEASURES[name](small_frame, [])


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_duplicate_quasi_identifier(name, small_frame):
    with pytest.raises(rc.InvalidParameterError, match="names the column 'sex' twice"):
        MEASURES[name](small_frame, ["sex", "sex"])


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_non_string_column_name(name, small_frame):
    with pytest.raises(rc.InvalidParameterError, match="Got 3 instead"):
        MEASURES[name](small_frame, ["sex", 3])


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_empty_table(name, small_frame):
    with pytest.raises(rc.EmptyTableError, match="no records"):
        MEASURES[name](small_frame.iloc[:0], ["sex"])


@pytest.mark.parametrize("name", WITH_MISSING_POLICY)
def test_bad_missing_policy(name, small_frame):
    with pytest.raises(
        rc.InvalidParameterError,
        match=r"'missing' parameter of .* must be one of 'category', 'raise'(, 'wildcard')?. Got 'drop' instead",
    ):
        MEASURES[name](small_frame, ["sex"], missing="drop")


@pytest.mark.parametrize("name", WITH_MISSING_POLICY)
def test_missing_raise_names_column_and_count(name, small_frame):
    with pytest.raises(
        rc.MissingValueError,
        match=r"Column 'postcode' has 1 missing value\(s\) \(first at record 1",
    ):
        MEASURES[name](small_frame, ["sex", "postcode"], missing="raise")


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_unsupported_data_type(name):
    with pytest.raises(
        rc.InvalidParameterError,
        match=r"^The 'data' parameter of \w+ must be a table: a pandas or polars DataFrame, .* "
        r"Got list instead\.$",
    ):
        MEASURES[name]([[1, 2]], ["a"])


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_unreadable_file(name, tmp_path):
    with pytest.raises(rc.DataFileError, match="No such file"):
        MEASURES[name](tmp_path / "absent.csv", ["a"])


@pytest.mark.parametrize("name", ["k_anonymity", "small_count_exposure"])
@pytest.mark.parametrize("bad", [0, -1, [2, 0], "3", [2.5], [], [True]])
def test_bad_thresholds(name, bad, small_frame):
    with pytest.raises(rc.InvalidParameterError, match="'thresholds' parameter"):
        MEASURES[name](small_frame, ["sex"], thresholds=bad)
