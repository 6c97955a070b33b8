"""Bad input gets one clear error naming the parameter, column, value or file at fault.

Registry-driven (scikit-learn's test_common style): every public measure is checked against the
same list of bad inputs, so a new measure gets these tests by being added to MEASURES.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import riskcalc as rc

MEASURES = {
    "class_sizes": rc.class_sizes,
    "k_anonymity": rc.k_anonymity,
    "uniqueness": rc.uniqueness,
    "small_count_exposure": rc.small_count_exposure,
    "risk_summary": rc.risk_summary,
    "partition": rc.partition,
    "attacker_risk": rc.attacker_risk,
    "individual_risk": lambda data, qi, **kw: rc.individual_risk(data, qi, weights=[1.0] * 4, **kw),
}


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "sex": list("FMFM"),
            "date_of_birth": ["2015-01-02"] * 4,
            "postcode": ["AB1 2CD", None, "AB1 2CD", "EF3 4GH"],
            "w": [1.0, 2.0, 3.0, 4.0],
        }
    )


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_missing_column_suggests_closest(name, frame):
    with pytest.raises(
        rc.MissingColumnError, match=r"No column named 'postcod'.*Did you mean 'postcode'"
    ):
        MEASURES[name](frame, ["sex", "postcod"])


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_missing_column_is_a_keyerror_with_plain_message(name, frame):
    with pytest.raises(KeyError) as info:
        MEASURES[name](frame, ["nope"])
    assert str(info.value).startswith("No column named 'nope'")


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_empty_quasi_identifier_list(name, frame):
    with pytest.raises(rc.InvalidParameterError, match="must name at least one column"):
        MEASURES[name](frame, [])


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_duplicate_quasi_identifier(name, frame):
    with pytest.raises(rc.InvalidParameterError, match="names the column 'sex' twice"):
        MEASURES[name](frame, ["sex", "sex"])


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_non_string_column_name(name, frame):
    with pytest.raises(rc.InvalidParameterError, match="Got 3 instead"):
        MEASURES[name](frame, ["sex", 3])


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_empty_table(name, frame):
    with pytest.raises(rc.EmptyTableError, match="no records"):
        MEASURES[name](frame.iloc[:0], ["sex"])


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_bad_missing_policy(name, frame):
    with pytest.raises(
        rc.InvalidParameterError,
        match=r"'missing' parameter of .* must be one of 'category', 'raise'(, 'wildcard')?. Got 'drop' instead",
    ):
        MEASURES[name](frame, ["sex"], missing="drop")


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_missing_raise_names_column_and_count(name, frame):
    with pytest.raises(
        rc.MissingValueError,
        match=r"Column 'postcode' has 1 missing value\(s\) \(first at record 1",
    ):
        MEASURES[name](frame, ["sex", "postcode"], missing="raise")


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
def test_bad_thresholds(name, bad, frame):
    with pytest.raises(rc.InvalidParameterError, match="'thresholds' parameter"):
        MEASURES[name](frame, ["sex"], thresholds=bad)


def test_thresholds_are_sorted_and_deduplicated(frame):
    assert rc.k_anonymity(frame, ["sex"], thresholds=[5, 2, 5, 3.0]).thresholds == (2, 3, 5)


@pytest.mark.parametrize(
    "weights, message",
    [
        ([1.0, -2.0, 3.0, 4.0], "must be non-negative. Found 1 negative value"),
        ([1.0, np.nan, 3.0, 4.0], "must not hold missing or infinite values"),
        ([1.0, np.inf, 3.0, 4.0], "must not hold missing or infinite values"),
        ([1.0, 2.0], "must have one value per record \\(4\\)"),
        (["a", "b", "c", "d"], "must be numeric"),
    ],
)
def test_bad_weight_arrays(weights, message, frame):
    with pytest.raises(rc.InvalidParameterError, match=message):
        rc.class_sizes(frame, ["sex"], weights=weights)


def test_bad_weight_column_is_named(frame):
    frame = frame.assign(w=[1.0, None, 2.0, 3.0])
    with pytest.raises(rc.InvalidParameterError, match="The column 'w' must not hold missing"):
        rc.class_sizes(frame, ["sex"], weights="w")
    with pytest.raises(rc.MissingColumnError, match="No column named 'weight'"):
        rc.class_sizes(frame, ["sex"], weights="weight")


def test_weight_name_on_encoded_table_must_have_been_kept(frame):
    enc = rc.encode(frame, ["sex"])
    with pytest.raises(rc.InvalidParameterError, match=r"Use encode\(\.\.\., weights='w'\)"):
        rc.class_sizes(enc, ["sex"], weights="w")
    enc = rc.encode(frame, ["sex"], weights="w")
    assert rc.class_sizes(enc, ["sex"], weights="w").Fk.tolist() == [4.0, 6.0, 4.0, 6.0]


def test_encoded_table_missing_column(frame):
    enc = rc.encode(frame, ["sex", "postcode"])
    with pytest.raises(rc.MissingColumnError, match="No column named 'date_of_birth'"):
        rc.uniqueness(enc, ["sex", "date_of_birth"])


def test_unhashable_values_raise_unsupported_type():
    df = pd.DataFrame({"x": [[1], [2], [1]]})
    with pytest.raises(rc.UnsupportedTypeError, match="Column 'x'"):
        rc.uniqueness(df, ["x"])


def test_nested_arrow_column_raises_unsupported_type():
    table = pa.table({"x": pa.array([[1], [2]], type=pa.list_(pa.int64()))})
    with pytest.raises(rc.UnsupportedTypeError, match="Column 'x' has the nested type"):
        rc.uniqueness(table, ["x"])


def test_aggregate_count_must_be_whole_and_non_negative():
    agg = pd.DataFrame({"a": ["x", "y"], "n": [1.5, 2]})
    with pytest.raises(
        rc.InvalidParameterError, match="The count column 'n' must hold whole, non-negative numbers"
    ):
        rc.small_count_exposure(agg, ["a"], count="n")
    agg = pd.DataFrame({"a": ["x", "y"], "n": [-1, 2]})
    with pytest.raises(rc.InvalidParameterError, match="must be non-negative"):
        rc.small_count_exposure(agg, ["a"], count="n")


def test_duplicate_frame_columns_are_rejected():
    df = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(rc.InvalidParameterError, match="duplicate column names: 'a'"):
        rc.uniqueness(df, ["a"])


def test_input_frame_is_not_modified(frame):
    before = frame.copy(deep=True)
    rc.risk_summary(frame, ["sex", "postcode"], weights="w")
    pd.testing.assert_frame_equal(frame, before)


def test_errors_are_also_builtin_types():
    assert issubclass(rc.InvalidParameterError, ValueError)
    assert issubclass(rc.InvalidParameterError, TypeError)
    assert issubclass(rc.MissingColumnError, KeyError)
    assert issubclass(rc.DataFileError, OSError)
