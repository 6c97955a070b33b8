"""Bad input gets one clear error naming the parameter, column, value or file at fault.

The checks every public measure passes (missing or duplicate columns, empty tables, bad data
types, the missing-value policy, thresholds) run from the one registry, tests/test_common.py;
here are the checks of particular parameters (weights, counts, thresholds) and of the helpers
in riskcalc/_validation.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import riskcalc as rc
from riskcalc import _validation as v


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


# --- the parameter checks of riskcalc/_validation.py: bad values are one clear line ---------


_JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=3)
    | st.sampled_from(["sex", "year", "exact", "mean", "a:b", "~ sex + ", "sex*year"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.sampled_from(["sex", "year", "zz"]), inner, max_size=2)
    ),
    max_leaves=6,
)

#: Every parameter check of _validation.py that takes a user's value, bound to its other
#: arguments: it returns or raises InvalidParameterError / EmptyTableError, nothing else.
CHECKS = {
    "check_choice": lambda x: v.check_choice(x, "how", ("a", "b"), "f"),
    "check_choices": lambda x: v.check_choices(x, "statistics", ("mean",), "f", what="statistic"),
    "check_tiers": lambda x: v.check_tiers(x, "f"),
    "check_alpha": lambda x: v.check_alpha(x, "f"),
    "check_thresholds": lambda x: v.check_thresholds(x, "thresholds", "f"),
    "check_int": lambda x: v.check_int(x, "n", "f"),
    "check_share": lambda x: v.check_share(x, "share", "f"),
    "column_list": lambda x: v.column_list(x, "columns", "f"),
    "check_sep": v.check_sep,
    "check_column_name": lambda x: v.check_column_name(x, "f"),
    "check_positive": lambda x: v.check_positive(x, "z", "f"),
    "check_bool": lambda x: v.check_bool(x, "flag", "f"),
    "check_whole": lambda x: v.check_whole(x, "n", "f"),
    "check_fraction": lambda x: v.check_fraction(x, "share", "f"),
    "check_open_fraction": lambda x: v.check_open_fraction(x, "share", "f"),
    "check_thresholds_by_size": lambda x: v.check_thresholds_by_size(x, 2, func="f"),
    "check_instance": lambda x: v.check_instance(x, dict, "rules", "f", "a dict"),
    "check_frame": lambda x: v.check_frame(x, "table", "f", nonempty=True),
    "check_bound": lambda x: v.check_bound(x, "bound", "f"),
    "check_probabilities": lambda x: v.check_probabilities(x, "thresholds", "f"),
    "check_probability": lambda x: v.check_probabilities(x, "threshold", "f", one=True),
    "check_field_kinds": lambda x: v.check_field_kinds(x, ("sex", "year"), ("exact",), "c", "f"),
    "check_field_groups": lambda x: v.check_field_groups(x, ("sex", "year"), "blocking", "f"),
    "check_terms": lambda x: v.check_terms(x, ("sex", "year"), "f"),
    "check_int_list": lambda x: v.check_int_list(x, "p", "f", what="number of points"),
    "check_rng": lambda x: v.check_rng(x, "rng", "f"),
    "check_differs": lambda x: v.check_differs(x, "urn", "sensitive", "point", "f"),
    "check_confidence": lambda x: v.check_confidence(x, "f"),
    "check_population": lambda x: v.check_population(100, x, None, "f"),
    "check_population_size": lambda x: v.check_population(100, None, x, "f"),
}


def test_every_parameter_check_is_in_the_property_test():
    """A new ``check_*`` of _validation.py joins CHECKS (or is named here as taking no user
    value directly)."""
    internal = {
        "check_column_names",  # column_list, then names against a table (the registry tests)
        "check_missing_policy",  # check_choice
        "check_weights",  # arrays: tests above
        "check_counts",  # arrays: tests above
        "check_sampling_weights",  # arrays, after check_weights
        "check_histogram",  # arrays: tests/test_population.py
        "check_exactly_one",  # presence of two parameters: tests/test_model_risk.py
        "check_apart",  # column lists already checked by check_column_names
    }
    public = {n for n in dir(v) if n.startswith("check_")} | {"column_list"}
    assert public - internal == set(CHECKS) - {"check_probability", "check_population_size"}


@pytest.mark.parametrize("name", sorted(CHECKS))
@settings(max_examples=150, deadline=None)
@given(value=_JUNK)
def test_a_bad_value_is_one_clear_error(name, value):
    try:
        CHECKS[name](value)
    except (rc.InvalidParameterError, rc.EmptyTableError) as exc:
        message = str(exc)
        assert message and "\n" not in message
        assert "Traceback" not in message


def _public_calls():
    from test_histories import random_panel

    df = pd.DataFrame({"id": [1, 2, 3, 4], "sex": list("FFMM"), "yob": [10, 11, 10, 10]})
    panel = random_panel(1, 10, 2, 3)
    kw = {"extract_id": "id", "auxiliary_id": "id", "probabilistic": False}
    return {
        "points_singled_out p=1.5": lambda: rc.points_singled_out(panel, p=1.5),
        "points_singled_out p=None": lambda: rc.points_singled_out(panel, p=None),
        "points_singled_out p=True": lambda: rc.points_singled_out(panel, p=True),
        "linkage_attack blocking=[1]": lambda: rc.linkage_attack(
            df, df, ["sex", "yob"], blocking=[1], **kw
        ),
        "field_lattice threshold_by_size=2.5": lambda: rc.field_lattice(
            df, ["sex", "yob"], threshold_by_size=2.5
        ),
        "check_summary statistics=5": lambda: rc.check_summary(df.assign(v=1.0), "v", statistics=5),
    }


@pytest.mark.parametrize("call", sorted(_public_calls()))
def test_a_value_of_the_wrong_type_is_one_line_naming_the_parameter(call):
    """Before: each of these escaped as a bare ``TypeError`` ('float' object is not iterable,
    ...), a traceback at the command line; found by the property test above."""
    name = call.split()[1].split("=")[0]
    with pytest.raises(rc.InvalidParameterError, match=f"The '{name}' parameter of "):
        _public_calls()[call]()
