"""Attacker models, Benedetti-Franconi individual risk, household risk and wildcard matching."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import PRACTICE_QI, oracle
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import gammaln

import riskcalc as rc
from riskcalc.individual import benedetti_franconi, household_risk

# --- Individual risk: SDC Practice Guide table 4.1 (values quoted in the issue) --------------


def test_practice_guide_individual_risk(practice_guide):
    res = rc.individual_risk(practice_guide, PRACTICE_QI, weights="Weight")
    expected = [
        0.00542452,
        0.00542452,
        0.025096439,
        0.012563425,
        0.028247279,
        0.012563425,
        0.029010932,
        0.025096439,
        0.007403834,
        0.007403834,
    ]
    assert_allclose(res.risk, expected, rtol=1e-6)
    assert res.global_risk == pytest.approx(0.01582, abs=5e-6)
    assert res.expected_reidentifications == pytest.approx(0.1582, abs=5e-5)


def _series(f, p, terms=400_000):
    """E[1/F] for F - f ~ NegBin(f, p), summed term by term (slow, obvious)."""
    m = np.arange(terms)
    log_terms = (
        gammaln(f + m)
        - gammaln(f)
        - gammaln(m + 1)
        + f * np.log(p)
        + m * np.log1p(-p)
        - np.log(f + m)
    )
    return float(np.exp(log_terms).sum())


@pytest.mark.parametrize("f, F", [(1, 215), (2, 360), (3, 50), (5, 40), (20, 100), (60, 61)])
def test_exact_method_equals_the_defining_series(f, F):
    assert_allclose(benedetti_franconi([f], [F], "exact"), [_series(f, f / F)], rtol=1e-9)


def test_approx_equals_exact_for_one_and_two_and_is_close_above():
    f = np.array([1, 2, 3, 4, 10])
    F = np.array([300.0, 300, 300, 300, 300])
    exact, approx = benedetti_franconi(f, F, "exact"), benedetti_franconi(f, F, "approx")
    assert_allclose(approx[:2], exact[:2], rtol=1e-12)
    assert_allclose(approx[2:], exact[2:], rtol=0.1)


def test_unit_weights_give_one_over_fk(practice_guide):
    res = rc.individual_risk(practice_guide, PRACTICE_QI, weights=np.ones(10))
    assert_allclose(res.risk, 1.0 / rc.class_sizes(practice_guide, PRACTICE_QI).fk)


def test_qual_scales_risk(practice_guide):
    a = rc.individual_risk(practice_guide, PRACTICE_QI, weights="Weight")
    b = rc.individual_risk(practice_guide, PRACTICE_QI, weights="Weight", qual=0.5)
    assert_allclose(b.risk, 0.5 * a.risk)


def test_threshold_for_global_risk_bound(practice_guide):
    res = rc.individual_risk(practice_guide, PRACTICE_QI, weights="Weight")
    t, above = res.threshold_for(0.01)
    # Sorted risks: 0.0054 x2, 0.0074 x2, 0.0126 x2, 0.0251 x2, 0.0282, 0.0290. Up to the
    # 0.0126 pair the rate is 0.0512 / 10; the 0.0251 pair would take it to 0.1010 / 10 > 0.01.
    assert t == pytest.approx(0.012563425, rel=1e-6)
    assert above == 4
    kept = res.risk[res.risk <= t]
    assert kept.sum() / res.n_records <= 0.01
    assert res.threshold_for(1e-9) == (0.0, 10)
    assert res.records_above(0.02) == 4


def test_household_risk_practice_guide():
    df = pd.read_csv(oracle("05_sdcpractice_household_risk/input.csv"))
    hh = household_risk(df["individual_risk"].to_numpy(), df["household_id"].to_numpy())
    assert_allclose(hh, 1 - 0.98 * 0.97 * 0.97)


def test_household_column(practice_guide):
    df = practice_guide.assign(hh=[1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    res = rc.individual_risk(df, PRACTICE_QI, weights="Weight", household="hh")
    r = res.risk
    assert res.household_risk[0] == pytest.approx(1 - (1 - r[0]) * (1 - r[1]))
    assert list(res.to_frame().columns) == ["fk", "Fk", "risk", "household_risk"]
    with pytest.raises(rc.InvalidParameterError, match="one id per record"):
        rc.individual_risk(df, PRACTICE_QI, weights="Weight", household=[1, 2])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"weights": None}, "'weights' parameter of individual_risk is required"),
        ({"method": "fast"}, "'method' parameter of individual_risk must be one of"),
        (
            {"qual": 0},
            "'qual' parameter of individual_risk must be a number in the range \\(0, 1\\]",
        ),
        ({"alpha": 2}, "'alpha' parameter of individual_risk"),
    ],
)
def test_individual_risk_errors(practice_guide, kwargs, message):
    kwargs = {"weights": "Weight", **kwargs}
    with pytest.raises(rc.InvalidParameterError, match=message):
        rc.individual_risk(practice_guide, PRACTICE_QI, **kwargs)


# --- Wildcard missing values (sdcMicro freqCalc) ----------------------------------------------


def test_practice_guide_wildcard_example():
    # SDC Practice Guide table 4.2: with missing values as wildcards fk = 2, 2, 3.
    df = pd.read_csv(oracle("02_sdcpractice_tab42_missing_wildcard/input.csv"))
    assert_array_equal(
        rc.class_sizes(df, ["Gender", "Education", "Labor"], missing="wildcard").fk, [2, 2, 3]
    )


def test_sdcmicro_freqcalc_na_frames():
    df = pd.read_csv(oracle("07_sdcmicro_freqcalc_tests/input_na_C.csv"))
    res = rc.class_sizes(df, ["A", "B", "C"], weights="weight", missing="wildcard")
    assert_array_equal(res.fk, [3, 1, 4, 2, 2, 2, 1, 3])
    assert_allclose(res.Fk, [108, 45.5, 125, 56, 100, 100, 123.5, 108])
    # A record with every key missing matches every record.
    df = pd.read_csv(oracle("07_sdcmicro_freqcalc_tests/input_na_row_and_col.csv"))
    assert_array_equal(
        rc.class_sizes(df, ["A", "B", "C"], missing="wildcard").fk, [4, 4, 8, 4, 4, 4, 2, 4]
    )


def _wildcard_reference(df, qi, alpha):
    rows = [tuple(None if pd.isna(v) else v for v in r) for r in df[qi].itertuples(index=False)]
    out = []
    for a in rows:
        if all(x is None for x in a):  # every key missing: fk = n
            out.append(float(len(rows)))
            continue
        total = 0.0
        for b in rows:
            if all(x is None or y is None or x == y for x, y in zip(a, b)):
                same = all((x is None) == (y is None) for x, y in zip(a, b))
                complete = all(y is not None for y in b)
                total += 1.0 if same or complete else alpha
        out.append(total)
    return out


def _wildcard_weighted_reference(df, qi, alpha, w):
    rows = [tuple(None if pd.isna(v) else v for v in r) for r in df[qi].itertuples(index=False)]
    out = []
    for a in rows:
        if all(x is None for x in a):
            out.append(float(np.sum(w)))
            continue
        total = 0.0
        for b, wb in zip(rows, w):
            if all(x is None or y is None or x == y for x, y in zip(a, b)):
                same = all((x is None) == (y is None) for x, y in zip(a, b))
                complete = all(y is not None for y in b)
                total += (1.0 if same or complete else alpha) * wb
        out.append(total)
    return out


def test_wildcard_alpha_weights_by_who_carries_the_missing_value():
    # Issue 9: sdcMicro weights a match by who has the missing value.
    df = pd.DataFrame(
        {"a": [3, 3, 3, 3], "b": [1, 1, 1, 1], "c": [None, 4, 7, 4], "d": [2, 2, 2, 2]}
    )
    got = rc.class_sizes(df, list(df.columns), missing="wildcard", alpha=0.5).fk
    assert_allclose(got, [4, 2.5, 1.5, 2.5])
    res = rc.class_sizes(
        df.assign(w=[10.0, 20.0, 30.0, 40.0]),
        list("abcd"),
        weights="w",
        missing="wildcard",
        alpha=0.5,
    )
    assert_allclose(res.Fk, [100, 20 + 40 + 5, 30 + 5, 20 + 40 + 5])


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 25).flatmap(
        lambda n: st.lists(
            st.lists(st.sampled_from(["a", "b", "c", None]), min_size=n, max_size=n),
            min_size=1,
            max_size=4,
        )
    ),
    st.sampled_from([0.0, 0.1, 0.5, 1.0]),
)
def test_wildcard_against_pairwise_reference(columns, alpha):
    df = pd.DataFrame({f"c{j}": pd.Series(col, dtype=object) for j, col in enumerate(columns)})
    qi = list(df.columns)
    got = rc.class_sizes(df, qi, missing="wildcard", alpha=alpha).fk
    assert_allclose(got, _wildcard_reference(df, qi, alpha))
    w = np.arange(1, len(df) + 1, dtype=np.float64) / 4
    weighted = rc.class_sizes(df.assign(_w=w), qi, weights="_w", missing="wildcard", alpha=alpha).Fk
    assert_allclose(weighted, _wildcard_weighted_reference(df, qi, alpha, w))
    u = rc.uniqueness(df, qi, missing="wildcard", alpha=alpha)
    assert u.average_risk == pytest.approx(float(np.mean(1 / np.asarray(got))))
    assert rc.k_anonymity(df, qi, missing="wildcard", alpha=alpha).k == pytest.approx(min(got))


def test_wildcard_not_offered_for_tables():
    df = pd.DataFrame({"a": ["x", None]})
    with pytest.raises(
        rc.InvalidParameterError, match="'missing' parameter of small_count_exposure"
    ):
        rc.small_count_exposure(df, ["a"], missing="wildcard")


# --- Attacker models ----------------------------------------------------------------------------


def test_attacker_models_without_population(practice_guide):
    res = rc.attacker_risk(practice_guide, PRACTICE_QI, threshold=0.5)
    # classes of 2, 2, 1, 2, 1, 1, 1 (7 classes, 10 records): risk 1 > 0.5 for the 4 uniques
    assert res.prosecutor_records_at_risk == pytest.approx(0.4)
    assert res.prosecutor_highest_risk == 1.0
    assert res.prosecutor_success_rate == pytest.approx(0.7)
    assert res.journalist_success_rate == pytest.approx(0.7)
    assert res.marketer_success_rate == pytest.approx(0.7)


def test_attacker_models_with_population_by_hand():
    pop = pd.DataFrame({"sex": list("FFFMMMMM"), "year": [7, 7, 8, 7, 7, 7, 8, 8]})
    sample = pop.iloc[[0, 2, 3, 4, 6]]  # (F,7) (F,8) (M,7) (M,7) (M,8)
    res = rc.attacker_risk(sample, ["sex", "year"], population=pop, threshold=0.4)
    # sample classes f: (F,7)1 (F,8)1 (M,7)2 (M,8)1 ; population F: 2, 1, 3, 2
    f = np.array([1, 1, 2, 1.0])
    F = np.array([2, 1, 3, 2.0])
    assert res.journalist_highest_risk == 1.0
    assert res.journalist_records_at_risk == pytest.approx((1 + 1 + 1) / 5)  # 1/2, 1, 1/2 > 0.4
    assert res.marketer_success_rate == pytest.approx(np.sum(f / F) / 5)
    assert res.journalist_success_rate == pytest.approx(max(4 / F.sum(), np.sum(f / F) / 5))
    assert res.population_size == 8
    frame = res.to_frame()
    assert frame["attacker"].tolist() == ["prosecutor", "journalist", "marketer"]


def test_population_from_files_with_other_dtypes(tmp_path, practice_guide):
    pop_path = tmp_path / "pop.parquet"
    big = pd.concat([practice_guide] * 3, ignore_index=True)
    big.to_parquet(pop_path)
    res = rc.attacker_risk(practice_guide, PRACTICE_QI, population=pop_path)
    assert res.journalist_highest_risk == pytest.approx(1 / 3)
    assert res.marketer_success_rate == pytest.approx(
        7 / 30
    )  # sum over 7 classes of f/F = 1/3, over 10


def test_population_errors(practice_guide):
    with pytest.raises(rc.InvalidParameterError, match="fewer than the extract's 10"):
        rc.attacker_risk(practice_guide, PRACTICE_QI, population=practice_guide.iloc[:3])
    other = practice_guide.assign(Gender="X")
    with pytest.raises(rc.InvalidParameterError, match="do not occur in the population"):
        rc.attacker_risk(practice_guide, PRACTICE_QI, population=pd.concat([other] * 2))
    with pytest.raises(rc.MissingColumnError, match="No column named 'Labor'"):
        rc.attacker_risk(
            practice_guide, PRACTICE_QI, population=practice_guide.drop(columns="Labor")
        )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("ab"), st.sampled_from("xyz")), min_size=2, max_size=40),
    st.data(),
)
def test_journalist_never_riskier_than_prosecutor(rows, data):
    pop = pd.DataFrame(rows, columns=["p", "q"])
    take = data.draw(
        st.lists(st.integers(0, len(pop) - 1), min_size=1, max_size=len(pop), unique=True)
    )
    res = rc.attacker_risk(pop.iloc[sorted(take)], ["p", "q"], population=pop)
    assert res.journalist_highest_risk <= res.prosecutor_highest_risk
    assert res.marketer_success_rate <= res.prosecutor_success_rate + 1e-12
    assert res.journalist_records_at_risk <= res.prosecutor_records_at_risk
