"""SUDA: published scores, brute-force MSUs, properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _reference_suda import msus, naive_unique_subset_scores, scores
from conftest import oracle
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import riskcalc as rc
from riskcalc._suda import dis_suda, msu_weights

PRACTICE_FIELDS = ["Residence", "Gender", "Education", "Labor"]


def test_practice_guide_scores():
    # SDC Practice Guide, table 4.5: Elliot's scoring over four key variables.
    df = pd.read_csv(oracle("04_sdcpractice_tab45_suda/input.csv"))
    res = rc.suda(df, PRACTICE_FIELDS)
    assert_array_equal(res.score, [0, 0, 6, 0, 12, 0, 6, 10, 0, 0])
    # Scoring every unique subset instead of the minimal ones gives other, wrong numbers.
    naive = naive_unique_subset_scores(df, PRACTICE_FIELDS)
    assert [naive[i] for i in (2, 4, 6, 7)] == [16, 23, 16, 21]
    assert res.msus_by_size.tolist() == [4, 5, 0, 0]
    assert res.n_with_msu == 4


def test_sdcmicro_contribution_example():
    # sdcMicro test_suda2.R: a = (2,1,1), b = (0,3,0), c = (0,6,0) -> contributions 50, 37.5, 37.5
    # in every column order.
    df = pd.read_csv(oracle("10_sdcmicro_suda2_small_examples/input_abc.csv"))
    for order in (["a", "b", "c"], ["a", "c", "b"], ["c", "b", "a"]):
        res = rc.suda(df, order)
        got = dict(zip(res.field_contributions["field"], res.field_contributions["contribution"]))
        assert got == pytest.approx({"a": 50.0, "b": 37.5, "c": 37.5})
        assert_array_equal(res.score, [2, 4, 2])


@pytest.mark.parametrize(
    "path, fields",
    [
        ("06_sdcmicro_francdat/input.csv", ["Key1", "Key2", "Key3", "Key4"]),
        ("06_sdcmicro_francdat/input_with_na.csv", ["Key1", "Key2", "Key3", "Key4"]),
        ("10_sdcmicro_suda2_small_examples/input.csv", ["age", "gender", "income", "education"]),
        ("01_sdcpractice_tab41_individual_risk/input.csv", PRACTICE_FIELDS + ["Health"]),
    ],
)
def test_oracle_tables_against_brute_force(path, fields):
    df = pd.read_csv(oracle(path))
    res = rc.suda(df, fields)
    assert_allclose(res.score, scores(df, fields), rtol=0, atol=0)
    found = msus(df, fields)
    expected_counts = np.zeros((len(df), len(fields)), dtype=int)
    for i, subsets in found.items():
        for s in subsets:
            expected_counts[i, len(s) - 1] += 1
    assert_array_equal(res.msu_counts, expected_counts)


@pytest.mark.parametrize("max_msu", [1, 2, 3])
def test_sdcmicro_testdata_against_brute_force(max_msu):
    df = pd.read_csv(oracle("data/sdcmicro_testdata.csv")).iloc[:300]
    fields = ["urbrur", "roof", "walls", "water", "electcon", "sex"]
    res = rc.suda(df, fields, max_msu=max_msu)
    assert_allclose(res.score, scores(df, fields, max_msu), rtol=0, atol=0)


@st.composite
def small_frames(draw):
    n = draw(st.integers(1, 25))
    p = draw(st.integers(1, 4))
    data = {}
    for j in range(p):
        values = draw(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=n, max_size=n))
        data[f"f{j}"] = pd.Series(values, dtype=object)
    return pd.DataFrame(data)


@settings(max_examples=120, deadline=None)
@given(small_frames(), st.integers(1, 4))
def test_random_frames_against_brute_force(df, max_msu):
    fields = list(df.columns)
    res = rc.suda(df, fields, max_msu=max_msu)
    assert_allclose(res.score, scores(df, fields, max_msu), rtol=0, atol=0)


@settings(max_examples=60, deadline=None)
@given(small_frames())
def test_msu_properties(df):
    fields = list(df.columns)
    found = msus(df, fields)
    full = rc.class_sizes(df, fields).fk
    res = rc.suda(df, fields)
    for i, subsets in found.items():
        # MSUs of one record are pairwise non-nested ...
        for a in subsets:
            for b in subsets:
                assert a == b or not set(a) <= set(b)
        # ... and a record with an MSU is a sample unique on all fields.
        if subsets:
            assert full[i] == 1
    # row order does not matter
    perm = np.random.default_rng(0).permutation(len(df))
    res2 = rc.suda(df.iloc[perm], fields)
    assert_allclose(res2.score, res.score[perm])


def test_weights_of_both_scorings():
    assert msu_weights(4, 4, "elliot").tolist() == [6.0, 2.0, 1.0, 1.0]
    # IHSN: (2^(M-k) - 1) k! (M-k)! / M!
    assert_allclose(msu_weights(4, 2, "ihsn"), [7 * 1 * 6 / 24, 3 * 2 * 2 / 24])


def test_dis_suda_formula_by_hand():
    score = np.array([0.0, 6.0, 2.0])
    fraction, n_unique, n_pairs, m = 0.1, 2, 4, 4
    d = n_unique * fraction / (n_unique * fraction + n_pairs * (1 - fraction))
    q = 1 + (8 - m) / 20
    a = 6.0**-q + 2.0**-q
    expected = [0.0] + [1 / (1 + (n_unique / d - n_unique) / (s**q * a)) for s in (6.0, 2.0)]
    assert_allclose(dis_suda(score, (n_unique, n_pairs), fraction, m), expected, rtol=1e-12)
    assert_allclose(dis_suda(score, (0, 4), fraction, m), 0.0)


def test_dis_scores_rank_like_scores():
    df = pd.read_csv(oracle("04_sdcpractice_tab45_suda/input.csv"))
    res = rc.suda(df, PRACTICE_FIELDS, dis_fraction=0.05)
    order = np.argsort(res.score[res.score > 0])
    assert np.all(np.diff(res.dis_score[res.score > 0][order]) >= 0)
    assert np.all((res.dis_score >= 0) & (res.dis_score <= 1))


def test_value_contributions_hide_values_unless_asked():
    df = pd.read_csv(oracle("04_sdcpractice_tab45_suda/input.csv"))
    res = rc.suda(df, PRACTICE_FIELDS)
    coded = res.value_contributions()
    assert "Rural" not in coded["value"].astype(str).tolist()
    labelled = res.value_contributions(labels=True)
    assert "Rural" in labelled["value"].tolist()
    # Rural (record 5) is a 1-MSU scoring 6 out of a total 34.
    assert labelled.set_index(["field", "value"]).loc[
        ("Residence", "Rural"), "contribution"
    ] == pytest.approx(600 / 34)


def test_to_frame_and_repr():
    df = pd.read_csv(oracle("04_sdcpractice_tab45_suda/input.csv")).set_index("No")
    res = rc.suda(df, PRACTICE_FIELDS, max_msu=2)
    frame = res.to_frame()
    assert list(frame.index) == list(df.index)
    assert list(frame.columns) == ["score", "dis_score", "n_msu", "msu_size_1", "msu_size_2"]
    assert "records with an MSU=4 (40.00%)" in repr(res)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_msu": 0}, "'max_msu' parameter of suda must be an int"),
        (
            {"dis_fraction": 0},
            "'dis_fraction' parameter of suda must be a number in the open range",
        ),
        ({"dis_fraction": 1.5}, "open range \\(0, 1\\)"),
        ({"scoring": "other"}, "'scoring' parameter of suda must be one of"),
    ],
)
def test_bad_parameters(kwargs, message):
    df = pd.DataFrame({"a": [1, 2], "b": [1, 1]})
    with pytest.raises(rc.InvalidParameterError, match=message):
        rc.suda(df, ["a", "b"], **kwargs)
