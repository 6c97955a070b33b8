"""The field-combination lattice: agreement with single-combination measures and a naive
group-by, hand-computed small cells, properties, and errors."""

from __future__ import annotations

import itertools

import _reference as ref
import numpy as np
import pandas as pd
import pytest
from conftest import oracle
from hypothesis import given, settings
from hypothesis import strategies as st

import riskcalc as rc

PRACTICE_FIELDS = ["Residence", "Gender", "Education", "Labor"]


@pytest.fixture(scope="module")
def practice():
    return pd.read_csv(oracle("13_sdcmicro_riskycells_small_counts/input.csv"))


def test_practice_guide_all_fifteen_combinations(practice):
    lat = rc.field_lattice(
        practice, PRACTICE_FIELDS, thresholds=[1, 2], threshold_by_size=[1, 2, 3, 4]
    )
    frame = lat.to_frame()
    assert len(frame) == 15
    assert frame["fields"].tolist()[:5] == [
        ("Residence",),
        ("Gender",),
        ("Education",),
        ("Labor",),
        ("Residence", "Gender"),
    ]
    # Hand-derived cells (sdcMicro riskyCells rule, 0 < count <= t):
    # Gender: Female 7, Male 3 -> no cell <= 2.
    # Labor: Employed 4, Non-LF 4, Unemployed 2 -> one cell <= 2 holding 2 records.
    # Residence x Gender: Urban/F 6, Urban/M 3, Rural/F 1 -> one cell <= 1 and <= 2.
    # Education x Labor: 7 cells, 4 of size 1 and 3 of size 2.
    expected = {
        ("Gender",): (0, 0, 0, 0),
        ("Labor",): (0, 0, 1, 2),
        ("Residence", "Gender"): (1, 1, 1, 1),
        ("Education", "Labor"): (4, 4, 7, 10),
    }
    for fields, (c1, r1, c2, r2) in expected.items():
        row = lat.row(fields)
        assert (
            row.cells_at_most_1,
            row.records_in_cells_at_most_1,
            row.cells_at_most_2,
            row.records_in_cells_at_most_2,
        ) == (c1, r1, c2, r2)
    # Per-size threshold: size-2 tables at t = 2, size-3 at t = 3.
    assert lat.row(["Education", "Labor"]).cells_at_size_threshold == 7
    assert lat.row(["Residence", "Gender", "Labor"]).size_threshold == 3
    # Every combination against the brute-force reference.
    for fields in frame["fields"]:
        row = lat.row(fields)
        for t in (1, 2):
            assert row[f"cells_at_most_{t}"] == ref.small_cells(practice, list(fields), t)[0]


@st.composite
def frames_with_missing(draw):
    n = draw(st.integers(1, 40))
    p = draw(st.integers(1, 5))
    data = {}
    for j in range(p):
        kind = draw(st.sampled_from(["str", "int", "float"]))
        card = draw(st.integers(1, 6))
        if kind == "str":
            values = draw(
                st.lists(
                    st.sampled_from([chr(97 + i) for i in range(card)] + [None]),
                    min_size=n,
                    max_size=n,
                )
            )
            data[f"c{j}"] = pd.Series(values, dtype=object)
        elif kind == "int":
            data[f"c{j}"] = draw(st.lists(st.integers(-card, card), min_size=n, max_size=n))
        else:
            values = draw(
                st.lists(
                    st.sampled_from([0.5 * i for i in range(card)] + [np.nan]),
                    min_size=n,
                    max_size=n,
                )
            )
            data[f"c{j}"] = values
    return pd.DataFrame(data)


@settings(max_examples=50, deadline=None)
@given(frames_with_missing(), st.integers(1, 5))
def test_every_row_equals_single_combination_measures_and_reference(df, max_size):
    fields = list(df.columns)
    lat = rc.field_lattice(df, fields, max_size=max_size, thresholds=[1, 2, 3])
    frame = lat.to_frame()
    expected_rows = sum(
        1
        for m in range(1, min(max_size, len(fields)) + 1)
        for _ in itertools.combinations(fields, m)
    )
    assert len(frame) == expected_rows
    for row in frame.itertuples(index=False):
        qi = list(row.fields)
        u = rc.uniqueness(df, qi)
        ka = rc.k_anonymity(df, qi, thresholds=[2, 3, 4])
        assert (row.n_classes, row.k, row.n_unique) == (u.n_classes, ka.k, u.n_unique)
        assert [
            row.records_in_cells_at_most_1,
            row.records_in_cells_at_most_2,
            row.records_in_cells_at_most_3,
        ] == ka.records_below.tolist()
        assert row.n_unique == ref.n_unique(df, qi)
        assert row.cells_at_most_2 == ref.small_cells(df, qi, 2)[0]
        assert row.average_risk == pytest.approx(ref.average_risk(df, qi), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(frames_with_missing())
def test_monotone_along_supersets(df):
    fields = list(df.columns)
    table = rc.field_lattice(df, fields).to_frame()
    by = {frozenset(r.fields): r for r in table.itertuples(index=False)}
    for combo, row in by.items():
        for f in fields:
            if f not in combo:
                sup = by[combo | {f}]
                assert sup.k <= row.k
                assert sup.n_unique >= row.n_unique
                assert sup.n_classes >= row.n_classes


def test_row_order_does_not_matter(practice):
    a = rc.field_lattice(practice, PRACTICE_FIELDS).to_frame()
    b = rc.field_lattice(practice.iloc[::-1], PRACTICE_FIELDS).to_frame()
    pd.testing.assert_frame_equal(a, b)


def test_all_unique_pruning_fills_supersets():
    df = pd.DataFrame({"id": range(50), "a": [0, 1] * 25, "b": [0] * 50})
    frame = rc.field_lattice(df, ["id", "a", "b"]).to_frame()
    for row in frame.itertuples(index=False):
        if "id" in row.fields:
            assert (row.n_unique, row.n_classes, row.k) == (50, 50, 1)
    assert rc.field_lattice(df, ["a", "b"]).row(["a", "b"]).k == 25


def test_minimal_combinations_and_top(practice):
    lat = rc.field_lattice(practice, PRACTICE_FIELDS, target=0.4)
    minimal = lat.minimal(0.4)["fields"].tolist()
    # Uniqueness 0.4 is first reached by pairs with Education; Education alone reaches 0.3.
    assert sorted(minimal) == [
        ("Education", "Labor"),
        ("Gender", "Education"),
        ("Residence", "Education"),
    ]
    assert lat.to_frame()["minimal"].sum() == 3
    top = lat.top(3)
    assert top["unique_share"].tolist() == [0.4, 0.4, 0.4]
    assert top["n_fields"].tolist() == [2, 2, 2]
    assert lat.top(2, by="k")["k"].tolist() == [1, 1]


def test_contributions_by_hand(practice):
    contrib = rc.field_lattice(practice, PRACTICE_FIELDS).contributions().set_index("field")
    # Education alone: 0.3; added to Residence (0.1 -> 0.4), Gender (0 -> 0.4), Labor (0 -> 0.4)
    assert contrib.loc["Education", "size_1"] == pytest.approx(0.3)
    assert contrib.loc["Education", "size_2"] == pytest.approx((0.3 + 0.4 + 0.4) / 3)
    assert contrib.loc["Education", "n_pairs"] == 8
    assert contrib.index[0] == "Education"


def test_max_size_limits_the_lattice(practice):
    lat = rc.field_lattice(practice, PRACTICE_FIELDS, max_size=2)
    assert len(lat.to_frame()) == 4 + 6
    with pytest.raises(rc.InvalidParameterError, match="larger than max_size=2"):
        lat.row(PRACTICE_FIELDS[:3])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"max_size": 0},
            "'max_size' parameter of field_lattice must be an int in the range \\[1, inf\\). Got 0",
        ),
        ({"thresholds": [0]}, "'thresholds' parameter of field_lattice"),
        (
            {"target": 1.5},
            "'target' parameter of field_lattice must be a number in the range \\(0, 1\\]",
        ),
        ({"threshold_by_size": [1]}, "must give a threshold for every size 1..4"),
        ({"missing": "drop"}, "'missing' parameter of field_lattice"),
    ],
)
def test_bad_parameters(practice, kwargs, message):
    with pytest.raises(rc.InvalidParameterError, match=message):
        rc.field_lattice(practice, PRACTICE_FIELDS, **kwargs)


def test_missing_raise_and_unknown_field(practice):
    df = practice.copy()
    df.loc[2, "Labor"] = None
    with pytest.raises(rc.MissingValueError, match="Column 'Labor'"):
        rc.field_lattice(df, PRACTICE_FIELDS, missing="raise")
    with pytest.raises(rc.MissingColumnError, match="Did you mean 'Labor'"):
        rc.field_lattice(df, ["Residence", "Labour"])


def test_too_many_combinations_refused():
    df = pd.DataFrame({f"c{i}": [0, 1] for i in range(40)})
    with pytest.raises(rc.InvalidParameterError, match="Lower max_size"):
        rc.field_lattice(df, list(df.columns))


def test_large_key_spaces_equal_single_combination_measures():
    # High-cardinality columns push refinements onto the hashing path (key space > 4 n).
    rng = np.random.default_rng(11)
    n = 30_000
    df = pd.DataFrame(
        {
            "id_like": rng.integers(0, 25_000, n),
            "wide": rng.integers(0, 9_000, n),
            "mid": rng.integers(0, 300, n),
            "low": rng.integers(0, 3, n),
        }
    )
    df.loc[: n // 4, ["id_like", "wide"]] = 7  # a block of repeats
    lat = rc.field_lattice(df, list(df.columns), thresholds=[1, 2, 3])
    for row in lat.to_frame().itertuples(index=False):
        qi = list(row.fields)
        u = rc.uniqueness(df, qi)
        ka = rc.k_anonymity(df, qi, thresholds=[2, 3, 4])
        assert (row.n_classes, row.n_unique, row.k) == (u.n_classes, u.n_unique, ka.k), qi
        assert [
            row.records_in_cells_at_most_1,
            row.records_in_cells_at_most_2,
            row.records_in_cells_at_most_3,
        ] == ka.records_below.tolist()
    s = rc.suda(df, list(df.columns), max_msu=2)
    assert s.n_with_msu <= rc.uniqueness(df, list(df.columns)).n_unique
