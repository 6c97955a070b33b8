"""Population-uniqueness estimators: Zayatz, Pitman, SNB and Dankar's decision rule."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pandas as pd
import pytest
from conftest import ARX_QI
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import optimize, special, stats

from riskcalc._population_estimators import _PitmanLikelihood, _shlosser, _snb_log_moments
from riskcalc.exceptions import InvalidParameterError, MissingValueError
from riskcalc.population import (
    METHODS,
    PopulationEstimate,
    PopulationUniquenessResult,
    pitman,
    population_uniqueness,
    snb,
    zayatz,
)


def frame_from_histogram(sizes, counts) -> pd.DataFrame:
    """A one-column frame whose classes have exactly the given size histogram."""
    per_class = np.repeat(np.asarray(sizes), np.asarray(counts))
    return pd.DataFrame({"key": np.repeat(np.arange(per_class.shape[0]), per_class)})


def histogram(df, columns):
    from riskcalc._core.access import prepare

    _, part, _ = prepare(df, columns, func="test", missing="category")
    sizes, counts = part.size_histogram.sizes, part.size_histogram.counts
    return sizes, counts, part.n_records


# A histogram (from a 5% sample of a synthetic cohort on sex, year and month of birth and LA)
# whose Pitman likelihood is largest at the boundary alpha -> 0, so Pitman's fit fails.
PITMAN_BOUNDARY = ([1, 2, 3, 4, 6], [1834, 245, 50, 5, 1])
# A small histogram with an interior Pitman maximum.
PITMAN_INTERIOR = ([1, 2, 3], [60, 5, 1])


# --------------------------------------------------------------------------------------------
# Known values: ARX 3.9 on its adult data set (values quoted in the issue; N = round(n / f),
# ARX's getFractionOfUniqueTuples divides the estimated number of population uniques by N).
# --------------------------------------------------------------------------------------------

ARX_ADULT = [
    ("zayatz", 0.1, 0.3207402393466189),
    ("zayatz", 0.2, 0.3577099234829125),
    ("pitman", 0.01, 0.1446083531167384),
    ("pitman", 0.1, 0.27684993883653597),
]


@pytest.mark.parametrize(("method", "fraction", "expected"), ARX_ADULT)
def test_arx_adult_known_values(arx_adult, method, fraction, expected):
    res = population_uniqueness(arx_adult, ARX_QI, sampling_fraction=fraction, method=method)
    # Achieved: ~1e-16 (Zayatz) and ~2e-12 (Pitman) relative to ARX.
    assert_allclose(res.estimate, expected, rtol=1e-9)
    assert res.method_used == method
    assert res.n_records == 30162
    assert res.population_size == round(30162 / fraction)
    assert res.n_population_uniques == pytest.approx(expected * res.population_size, rel=1e-9)
    assert res.fits[method].converged


def test_arx_adult_pitman_parameters_solve_score_equations(arx_adult):
    sizes, counts, n = histogram(arx_adult, ARX_QI)
    est = pitman(sizes, counts, n, 10 * n)
    theta, alpha = est.parameters["theta"], est.parameters["alpha"]
    lik = _PitmanLikelihood(sizes.astype(float), counts.astype(float), n)
    rel = np.abs(lik.gradient(theta, alpha)) / lik.gradient_scale(theta, alpha)
    assert np.all(rel < 1e-9)
    assert np.all(np.linalg.eigvalsh(lik.hessian(theta, alpha)) < 0)


def test_arx_adult_dankar(arx_adult):
    low = population_uniqueness(arx_adult, ARX_QI, sampling_fraction=0.1, method="dankar")
    assert low.method_used == "pitman"
    assert_allclose(low.estimate, 0.27684993883653597, rtol=1e-9)
    assert "at most 0.1" in low.reason
    high = population_uniqueness(arx_adult, ARX_QI, sampling_fraction=0.2, method="dankar")
    assert high.method_used in ("zayatz", "snb")
    assert high.estimate == pytest.approx(min(high.estimates["zayatz"], high.estimates["snb"]))
    assert "smaller of Zayatz" in high.reason


# --------------------------------------------------------------------------------------------
# Zayatz: hand-computed
# --------------------------------------------------------------------------------------------


def test_zayatz_hand_computed():
    # n = 4 (two uniques and one pair), N = 8, f = 1/2.
    # P_1 = 1 * C(7,3) / C(8,4) = 35/70 = 1/2;  P_2 = 2 * C(6,3) / C(8,4) = 40/70 = 4/7.
    # p = 2 * 1/2 / (2 * 1/2 + 1 * 4/7) = 7/11;  U = 2 * 7/11 / (1/2) = 28/11;  share = 7/22.
    est = zayatz([1, 2], [2, 1], 4, 8)
    assert_allclose(est.parameters["conditional_uniqueness"], 7 / 11, rtol=1e-13)
    assert_allclose(est.n_population_uniques, 28 / 11, rtol=1e-13)
    assert_allclose(est.estimate, 7 / 22, rtol=1e-13)
    assert est.converged


@pytest.mark.parametrize("N", [120, 1000, 10**6, 10**9])
def test_zayatz_matches_exact_hypergeometric(N):
    from fractions import Fraction

    sizes = [1, 2, 3, 7, 40]
    counts = [30, 9, 4, 2, 1]
    n = sum(s * c for s, c in zip(sizes, counts))
    # Exact rational P_s = s * C(N - s, n - 1) / C(N, n) (the common C(N, n) cancels).
    p = [Fraction(s * math.comb(N - s, n - 1)) for s in sizes]
    p_hat = counts[0] * p[0] / sum(c * q for c, q in zip(counts, p))
    expected = float(counts[0] * p_hat * Fraction(N, n))
    est = zayatz(sizes, counts, n, N)
    assert_allclose(est.n_population_uniques, expected, rtol=1e-12)
    # scipy's hypergeometric pmf agrees to its own precision.
    q = stats.hypergeom.pmf(1, N, sizes, n)
    assert_allclose(
        est.parameters["conditional_uniqueness"], counts[0] * q[0] / np.dot(counts, q), rtol=1e-6
    )


def test_zayatz_ignores_order_and_empty_sizes():
    a = zayatz([1, 2, 5], [3, 2, 1], 12, 100)
    b = zayatz([5, 9, 2, 1], [1, 0, 2, 3], 12, 100)
    assert a.n_population_uniques == pytest.approx(b.n_population_uniques, rel=1e-14)


# --------------------------------------------------------------------------------------------
# Pitman: likelihood, derivatives and fit
# --------------------------------------------------------------------------------------------


def direct_loglik(theta, alpha, sizes, counts, n):
    u = int(np.sum(counts))
    i = np.arange(1, u)
    first = np.sum(np.log(theta + i * alpha))
    second = np.sum(np.log(theta + np.arange(1, n)))
    third = sum(c * np.sum(np.log(np.arange(1, s) - alpha)) for s, c in zip(sizes, counts))
    return first - second + third


@pytest.mark.parametrize(("theta", "alpha"), [(5.0, 0.3), (250.0, 0.7), (0.5, 0.05), (40.0, 1e-4)])
def test_pitman_likelihood_closed_form_matches_direct_sums(theta, alpha):
    sizes = np.array([1.0, 2, 3, 8])
    counts = np.array([25.0, 6, 3, 1])
    n = int(np.sum(sizes * counts))
    lik = _PitmanLikelihood(sizes, counts, n)
    assert_allclose(
        lik.value(theta, alpha), direct_loglik(theta, alpha, sizes, counts, n), rtol=1e-11
    )
    # Gradient and Hessian against central differences of the direct likelihood.
    h = 1e-5
    f = lambda t, a: direct_loglik(t, a, sizes, counts, n)
    ht, ha = h * max(theta, 1), h * alpha
    num_g = [
        (f(theta + ht, alpha) - f(theta - ht, alpha)) / (2 * ht),
        (f(theta, alpha + ha) - f(theta, alpha - ha)) / (2 * ha),
    ]
    assert_allclose(lik.gradient(theta, alpha), num_g, rtol=1e-5, atol=1e-6)
    g = lik.gradient
    num_h = np.array(
        [
            (g(theta + ht, alpha) - g(theta - ht, alpha)) / (2 * ht),
            (g(theta, alpha + ha) - g(theta, alpha - ha)) / (2 * ha),
        ]
    )
    assert_allclose(lik.hessian(theta, alpha), num_h, rtol=1e-5, atol=1e-6)


def test_pitman_direct_and_closed_branches_agree_near_the_switch():
    sizes, counts = np.array([1.0, 2, 3]), np.array([60.0, 5, 1])
    lik = _PitmanLikelihood(sizes, counts, 73)
    u = 66
    for ratio in (19.9, 20.1, 1e3, 1e8):  # theta / alpha on either side of 20 * u, and far past
        alpha = 1e-3
        theta = ratio * u * alpha
        direct = direct_loglik(theta, alpha, sizes, counts, 73)
        assert_allclose(lik.value(theta, alpha), direct, rtol=1e-11)


def test_pitman_fit_is_the_likelihood_maximum():
    sizes, counts = np.array(PITMAN_INTERIOR[0]), np.array(PITMAN_INTERIOR[1])
    n = int(np.sum(sizes * counts))
    est = pitman(sizes, counts, n, 10 * n)
    assert est.converged
    theta, alpha = est.parameters["theta"], est.parameters["alpha"]
    brute = optimize.minimize(
        lambda x: -direct_loglik(x[0], x[1], sizes, counts, n),
        [theta * 1.3, min(alpha * 1.5, 0.9)],
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 20000},
    )
    assert_allclose([theta, alpha], brute.x, rtol=1e-4)
    assert est.parameters["log_likelihood"] >= -brute.fun - 1e-9
    # The estimate is Gamma(theta + 1) / Gamma(theta + alpha) * N^alpha.
    N = 10 * n
    expected = math.exp(special.gammaln(theta + 1) - special.gammaln(theta + alpha)) * N**alpha
    assert_allclose(est.n_population_uniques, expected, rtol=1e-12)


def test_pitman_boundary_fails_with_a_reason():
    sizes, counts = PITMAN_BOUNDARY
    n = int(np.dot(sizes, counts))
    est = pitman(sizes, counts, n, 20 * n)
    assert not est.converged
    assert math.isnan(est.estimate) and math.isnan(est.n_population_uniques)
    assert "boundary alpha -> 0" in est.message


def test_pitman_single_class_fails():
    est = pitman([1], [1], 1, 10)
    assert not est.converged and math.isnan(est.estimate)


# --------------------------------------------------------------------------------------------
# SNB: model moments and Shlosser's K
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alpha", "beta", "f"), [(0.4, 0.1, 0.2), (2.0, 0.6, 0.05), (0.05, 0.01, 0.5)]
)
def test_snb_moments_match_series(alpha, beta, f):
    # F = 1 + G, G ~ NegBin(alpha, beta) (scipy: failures before alpha successes); each record
    # sampled with probability f. P(sample size 1) and P(sample size 2), summed directly.
    g = np.arange(0, 200_000)
    pg = stats.nbinom.pmf(g, alpha, beta)
    F = g + 1
    p1 = np.sum(pg * F * f * (1 - f) ** (F - 1))
    p2 = np.sum(pg * F * (F - 1) / 2 * f**2 * (1 - f) ** (F - 2))
    K = 1000.0
    m1, m2 = _snb_log_moments(math.log(alpha), special.logit(beta), K, f)
    assert_allclose(math.exp(m1), K * p1, rtol=1e-9)
    assert_allclose(math.exp(m2), K * p2, rtol=1e-9)


def test_shlosser_hand_computed():
    # sizes (1, 2), counts (2, 1), f = 1/2:
    # num1 = 1*f^2*2 + 2*f^2*(1-f^2)*1 = 0.5 + 0.375 = 0.875
    # den1 = ((1-f^2) - (1-f)) * 2 + ((1-f^2)^2 - (1-f)^2) * 1 = 0.5 + 0.3125 = 0.8125
    # num2 = (1-f)*2 + (1-f)^2 = 1.25;  den2 = f*2 + 2*f*(1-f) = 1.5
    # K = 3 + 2 * (0.875/0.8125) * (1.25/1.5)^2
    expected = 3 + 2 * (0.875 / 0.8125) * (1.25 / 1.5) ** 2
    assert_allclose(_shlosser(np.array([1.0, 2]), np.array([2.0, 1]), 0.5), expected, rtol=1e-14)


def test_snb_fit_reproduces_sample_uniques_and_pairs():
    sizes, counts = np.array([1, 2, 3, 5]), np.array([40, 10, 4, 2])
    n = int(np.sum(sizes * counts))
    est = snb(sizes, counts, n, 4 * n)
    assert est.converged
    p = est.parameters
    m1, m2 = _snb_log_moments(
        math.log(p["alpha"]), special.logit(p["beta"]), p["n_population_classes"], 0.25
    )
    assert_allclose([math.exp(m1), math.exp(m2)], [40, 10], rtol=1e-8)
    assert_allclose(
        est.n_population_uniques, p["n_population_classes"] * p["beta"] ** p["alpha"], rtol=1e-12
    )


def test_snb_without_pairs_fails():
    est = snb([1, 3], [10, 2], 16, 100)
    assert not est.converged and math.isnan(est.estimate)
    assert "size 2" in est.message


# --------------------------------------------------------------------------------------------
# Invariants
# --------------------------------------------------------------------------------------------

histograms = st.lists(
    st.tuples(st.integers(1, 30), st.integers(1, 200)),
    min_size=1,
    max_size=8,
    unique_by=lambda t: t[0],
)


@settings(max_examples=60, deadline=None)
@given(hist=histograms, fraction=st.sampled_from([0.005, 0.01, 0.05, 0.1, 0.2, 0.5, 0.9]))
def test_estimates_are_shares_and_zayatz_below_sample_uniqueness(hist, fraction):
    sizes = np.array([s for s, _ in hist])
    counts = np.array([c for _, c in hist])
    n = int(np.sum(sizes * counts))
    N = int(round(n / fraction))
    c1 = int(counts[sizes == 1].sum())
    for estimator in (zayatz, pitman, snb):
        est = estimator(sizes, counts, n, N)
        assert isinstance(est, PopulationEstimate)
        if est.converged:
            assert 0.0 <= est.estimate <= 1.0
            assert est.n_population_uniques == pytest.approx(est.estimate * N)
        else:
            assert math.isnan(est.estimate)
        if c1 == 0:
            assert est.n_population_uniques == 0.0
    z = zayatz(sizes, counts, n, N)
    # Zayatz: share of population uniques <= share of sample uniques (ARX's invariant).
    assert z.converged
    assert z.estimate <= c1 / n * (1 + 1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_census_gives_sample_uniqueness(method):
    df = pd.DataFrame({"sex": list("FFMMFMFM"), "year": [7, 7, 7, 8, 8, 9, 9, 10]})
    res = population_uniqueness(df, ["sex", "year"], sampling_fraction=1, method=method)
    assert res.method_used == "census"
    assert res.n_population_uniques == 6
    assert res.estimate == pytest.approx(0.75) == res.sample_uniqueness
    assert all(v == pytest.approx(0.75) for v in res.estimates.values())
    assert "extract is the population" in res.reason


@pytest.mark.parametrize("method", METHODS)
def test_no_sample_uniques_gives_zero(method):
    df = frame_from_histogram([2, 3], [5, 2])
    res = population_uniqueness(df, ["key"], sampling_fraction=0.1, method=method)
    assert res.estimate == 0.0 and res.n_population_uniques == 0.0
    assert res.method_used == ("none" if method in ("dankar", "auto") else method)
    assert "No record is unique" in res.reason


def test_row_order_does_not_matter():
    df = frame_from_histogram([1, 2, 3, 5], [40, 10, 4, 2])
    shuffled = df.sample(frac=1, random_state=3)
    for f in (0.05, 0.3):
        a = population_uniqueness(df, ["key"], sampling_fraction=f)
        b = population_uniqueness(shuffled, ["key"], sampling_fraction=f)
        assert a.estimates == pytest.approx(b.estimates, nan_ok=True)


def test_more_sampling_means_fewer_estimated_population_uniques_per_sample_unique():
    # For Zayatz, the chance that a sample unique is a population unique rises with f.
    sizes, counts = [1, 2, 3, 5], [40, 10, 4, 2]
    p = [
        zayatz(sizes, counts, 82, round(82 / f)).parameters["conditional_uniqueness"]
        for f in (0.01, 0.1, 0.5, 0.9)
    ]
    assert np.all(np.diff(p) > 0)


# --------------------------------------------------------------------------------------------
# Dankar's decision rule
# --------------------------------------------------------------------------------------------


def test_dankar_falls_back_to_zayatz_when_pitman_fails():
    df = frame_from_histogram(*PITMAN_BOUNDARY)
    res = population_uniqueness(df, ["key"], sampling_fraction=0.05, method="dankar")
    assert res.method_used == "zayatz"
    assert not res.fits["pitman"].converged and not res.converged["pitman"]
    assert math.isnan(res.estimates["pitman"])
    assert res.estimate == res.estimates["zayatz"]
    assert "falls back to Zayatz" in res.reason and "boundary" in res.reason


def test_explicit_pitman_failure_gives_nan_and_says_why():
    df = frame_from_histogram(*PITMAN_BOUNDARY)
    res = population_uniqueness(df, ["key"], sampling_fraction=0.05, method="pitman")
    assert res.method_used == "pitman"
    assert math.isnan(res.estimate) and math.isnan(res.n_population_uniques)
    assert "fit failed" in res.reason
    assert "nan" in repr(res)


def test_dankar_uses_pitman_at_small_fractions():
    df = frame_from_histogram(*PITMAN_INTERIOR)
    res = population_uniqueness(df, ["key"], sampling_fraction=0.1, method="dankar")
    assert res.method_used == "pitman"
    assert res.estimate == res.estimates["pitman"]
    assert set(res.parameters["pitman"]) >= {"theta", "alpha"}


def test_dankar_takes_the_smaller_of_zayatz_and_snb_above_a_tenth():
    df = frame_from_histogram([1, 2, 3, 5], [40, 10, 4, 2])
    res = population_uniqueness(df, ["key"], sampling_fraction=0.25, method="dankar")
    z, s = res.estimates["zayatz"], res.estimates["snb"]
    assert res.estimate == min(z, s)
    assert res.method_used == ("zayatz" if z < s else "snb")


def test_dankar_uses_zayatz_when_snb_fails():
    df = frame_from_histogram([1, 3], [10, 2])  # no pairs: SNB cannot be fitted
    res = population_uniqueness(df, ["key"], sampling_fraction=0.3, method="dankar")
    assert res.method_used == "zayatz"
    assert "SNB's fit failed" in res.reason


def test_threshold_compares_the_given_fraction():
    # 7 records at f = 0.1 -> N = 70 exactly; the rule must treat f = 0.1 as "at most 0.1".
    df = frame_from_histogram(*PITMAN_INTERIOR)
    res = population_uniqueness(df, ["key"], sampling_fraction=0.1, method="dankar")
    assert res.sampling_fraction == 0.1
    assert res.method_used == "pitman"


# --------------------------------------------------------------------------------------------
# Parameters and result
# --------------------------------------------------------------------------------------------


def test_population_size_alone_and_both_agreeing():
    df = frame_from_histogram([1, 2, 3, 5], [40, 10, 4, 2])  # 82 records
    a = population_uniqueness(df, ["key"], population_size=820)
    assert a.sampling_fraction == pytest.approx(0.1) and a.population_size == 820
    b = population_uniqueness(df, ["key"], sampling_fraction=0.1, population_size=820)
    assert b.estimates == pytest.approx(a.estimates, nan_ok=True)
    c = population_uniqueness(df, ["key"], population_size=820.0)  # integral float accepted
    assert c.population_size == 820


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "Got neither"),
        (
            {"sampling_fraction": 0},
            r"The 'sampling_fraction' parameter of population_uniqueness must be a number in the "
            r"range \(0, 1\]. Got 0 instead.",
        ),
        ({"sampling_fraction": 1.5}, r"range \(0, 1\]. Got 1.5 instead"),
        ({"sampling_fraction": -0.1}, r"range \(0, 1\]"),
        ({"sampling_fraction": True}, r"range \(0, 1\]"),
        ({"sampling_fraction": "0.1"}, r"range \(0, 1\]"),
        (
            {"population_size": 81},
            r"The 'population_size' parameter of population_uniqueness must be an int in the range "
            r"\[82, inf\).*Got 81 instead.",
        ),
        (
            {"population_size": 1000.5},
            r"must be an int in the range \[82, inf\). Got 1000.5 instead.",
        ),
        ({"population_size": "1000"}, r"must be an int"),
        ({"population_size": float("inf")}, r"must be an int"),
        ({"sampling_fraction": 0.1, "population_size": 800}, "disagree"),
        (
            {"sampling_fraction": 0.1, "method": "arx"},
            r"The 'method' parameter of population_uniqueness must be one of 'auto', 'forest', "
            r"'dankar', 'pitman', 'zayatz', 'snb', 'loglinear'. Got 'arx' instead.",
        ),
        ({"sampling_fraction": 0.1, "missing": "drop"}, r"The 'missing' parameter"),
        (
            {"sampling_fraction": 0.1, "confidence": 1.0},
            r"The 'confidence' parameter .* \[0.5, 1\)",
        ),
        ({"sampling_fraction": 0.1, "confidence": "90%"}, r"The 'confidence' parameter"),
        ({"sampling_fraction": 0.1, "rng": -1}, r"The 'rng' parameter"),
    ],
)
def test_parameter_errors(kwargs, match):
    df = frame_from_histogram([1, 2, 3, 5], [40, 10, 4, 2])
    with pytest.raises(InvalidParameterError, match=match):
        population_uniqueness(df, ["key"], **kwargs)


def test_missing_raise():
    df = pd.DataFrame({"a": ["x", None, "y"], "b": [1, 2, 3]})
    with pytest.raises(MissingValueError):
        population_uniqueness(df, ["a", "b"], sampling_fraction=0.5, missing="raise")
    res = population_uniqueness(df, ["a", "b"], sampling_fraction=0.5)
    assert res.missing == "category" and res.n_sample_uniques == 3


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([1, 2], [2, 1], 5, 10), "must equal the number of records"),
        (
            ([1, 2], [2, 1], 4, 3),
            r"The 'N' parameter of zayatz must be an int in the range \[4, inf\)",
        ),
        (([0, 2], [2, 1], 2, 10), "'sizes' parameter of zayatz must hold ints >= 1"),
        (([1, 2], [2, -1], 0, 10), "'counts' parameter of zayatz must hold ints >= 0"),
        (([1, 1], [2, 1], 3, 10), "distinct class sizes"),
        (([1, 2], [2], 4, 10), "same length"),
    ],
)
def test_histogram_errors(args, match):
    with pytest.raises(InvalidParameterError, match=match):
        zayatz(*args)


def test_result_is_frozen_keeps_parameters_and_prints_headline():
    df = frame_from_histogram([1, 2, 3, 5], [40, 10, 4, 2])
    res = population_uniqueness(df, ["key"], sampling_fraction=0.25, method="zayatz")
    assert isinstance(res, PopulationUniquenessResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.estimate = 0.0
    assert (res.method, res.sampling_fraction) == ("zayatz", 0.25)
    assert (res.population_size, res.n_records) == (328, 82)
    assert res.quasi_identifiers == ("key",) and res.missing == "category"
    assert res.n_sample_uniques == 40
    text = repr(res)
    for part in (
        "estimate=",
        "n_population_uniques=",
        "method_used='zayatz'",
        "population_size=328",
        "n_records=82",
    ):
        assert part in text
    frame = res.to_frame()
    assert list(frame["method"]) == ["zayatz", "pitman", "snb", "loglinear", "forest"]
    assert frame["chosen"].tolist() == [True, False, False, False, False]
    assert {"n_population_uniques", "estimate", "converged", "theta", "alpha", "beta"} <= set(
        frame.columns
    )
    assert frame.loc[0, "estimate"] == res.estimate


# --------------------------------------------------------------------------------------------
# Simulation (benchmarks/sim_population.py) on a tiny configuration, and its helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim():
    """The simulation module (benchmarks/ is not a package), registered so workers can unpickle."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "sim_population.py"
    spec = importlib.util.spec_from_file_location("sim_population", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["sim_population"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cohort():
    import synthetic

    cols = [
        "sex",
        "nc_year",
        "ethnic_group_minor",
        "urn",
        "year_of_birth",
        "month_of_birth",
        "la_code",
    ]
    return synthetic.generate_cohort(50_000, rng=7, columns=cols)[cols]


SIM_KEYS = {
    "school": ("sex", "nc_year", "ethnic_group_minor", "urn"),
    "dob_la": ("sex", "year_of_birth", "month_of_birth", "la_code"),
}


@pytest.fixture(scope="module")
def sim_samples(sim, cohort):
    population = sim.Population("tiny", "generate_cohort(50_000, rng=7)", lambda scale: cohort)
    return sim.simulate(
        [("tune", "tiny", tuple(SIM_KEYS))],
        fractions=(0.1, 0.5),
        reps=2,
        seed=3,
        workers=1,
        populations={"tiny": population},
        keys=SIM_KEYS,
        log=lambda m: None,
    )


def test_simulation_ballpark(sim, cohort, sim_samples):
    samples = sim_samples
    N = len(cohort)
    # one row per sample: 2 keys x 2 fractions x 2 samples
    assert len(samples) == 8
    assert set(zip(samples["key"], samples["fraction"], samples["rep"], strict=True)) == {
        (k, f, r) for k in SIM_KEYS for f in (0.1, 0.5) for r in (0, 1)
    }
    cell_table = sim.cells(samples)
    assert len(cell_table) == 4 and (cell_table["reps"] == 2).all()
    for row in samples.itertuples(index=False):
        key = list(SIM_KEYS[row.key])
        sizes = cohort.groupby(key, observed=True, dropna=False).size()
        assert row.truth == int((sizes == 1).sum())  # the truth is a brute-force count
        # the sample is the one its seed gives, and its uniques are counted right
        rng = sim.sample_rng(3, "tiny", row.key, row.fraction, row.rep)
        idx = np.sort(rng.choice(N, size=int(round(row.fraction * N)), replace=False))
        sample = cohort.iloc[idx].reset_index(drop=True)
        in_sample = (
            sample.groupby(key, observed=True, dropna=False)[key[0]].transform("size").to_numpy()
            == 1
        )
        in_population = (
            cohort.groupby(key, observed=True, dropna=False)[key[0]]
            .transform("size")
            .to_numpy()[idx]
            == 1
        )
        assert row.n == len(sample) and row.sample_uniques == int(in_sample.sum())
        assert row.sample_uniques_pop_unique == int((in_sample & in_population).sum())
        # the figure read is the estimator's own on that sample (codes or labels alike)
        res = population_uniqueness(sample, key, population_size=N)
        assert row.estimate == pytest.approx(res.n_population_uniques, rel=1e-9)
        # the AUC is over the sample uniques only, and the calibration counts hold them all
        probs, labels = res.record_probabilities[in_sample], in_population[in_sample]
        assert row.prob_violations == 0
        if labels.all() or not labels.any():
            assert math.isnan(row.auc)
        else:
            assert row.auc == pytest.approx(_pairwise_auc(probs, labels))
        n_cal = sum(getattr(row, f"cal_n_{b}") for b in range(sim.N_BINS))
        o_cal = sum(getattr(row, f"cal_o_{b}") for b in range(sim.N_BINS))
        p_cal = sum(getattr(row, f"cal_p_{b}") for b in range(sim.N_BINS))
        assert (n_cal, o_cal) == (row.sample_uniques, row.sample_uniques_pop_unique)
        assert p_cal == pytest.approx(probs.sum())
        # the interval read is the estimator's, and coverage is counted against the truth
        assert (row.low, row.high) == pytest.approx(res.interval)
        assert row.trusted == res.trusted
    # The sample's share of uniques overstates the population's; at half the population the
    # default estimate is close to the truth.
    assert (cell_table["sample_uniques"] / cell_table["n"] > cell_table["truth"] / N).all()
    half = cell_table[cell_table["fraction"] == 0.5]
    assert (abs(half["estimate"] / half["truth"] - 1) < 0.35).all()
    text = sim.markdown(samples, title="tiny", settings="test", keys=SIM_KEYS)
    cell_lines = [
        line for line in text.splitlines() if re.match(r"\| tiny \| \w+ \| 0\.[15] \|", line)
    ]
    assert len(cell_lines) == 4  # one line per cell
    assert "`school` = (sex, nc_year, ethnic_group_minor, urn)" in text


def test_simulation_population_with_missing_values(sim):
    rng = np.random.default_rng(4)
    a = rng.choice(np.array(["x", "y", "z", None], dtype=object), 3000, p=[0.5, 0.3, 0.19, 0.01])
    frame = pd.DataFrame({"a": a, "b": rng.integers(0, 400, 3000)})
    population = sim.Population("gaps", "strings with missing values", lambda scale: frame)
    samples = sim.simulate(
        [("heldout", "gaps", ("ab",))],
        fractions=(0.3,),
        reps=1,
        seed=1,
        workers=1,
        populations={"gaps": population},
        keys={"ab": ("a", "b")},
        log=lambda m: None,
    )
    row = samples.iloc[0]
    sizes = frame.groupby(["a", "b"], dropna=False).size()
    assert row["truth"] == int((sizes == 1).sum())
    idx = np.sort(sim.sample_rng(1, "gaps", "ab", 0.3, 0).choice(3000, size=900, replace=False))
    sample = frame.iloc[idx].reset_index(drop=True)
    assert sample["a"].isna().any()  # the missing level is sampled, and read back as missing
    res = population_uniqueness(sample, ["a", "b"], population_size=3000)
    assert row["estimate"] == pytest.approx(res.n_population_uniques, rel=1e-9)
    assert row["sample_uniques"] == res.n_sample_uniques


def test_simulation_same_figures_in_a_pool(sim, cohort, sim_samples):
    population = sim.Population("tiny", "generate_cohort(50_000, rng=7)", lambda scale: cohort)
    again = sim.simulate(
        [("tune", "tiny", ("dob_la",))],
        fractions=(0.1, 0.5),
        reps=2,
        seed=3,
        workers=2,
        populations={"tiny": population},
        keys=SIM_KEYS,
        log=lambda m: None,
    )
    mine = sim_samples[sim_samples["key"] == "dob_la"].reset_index(drop=True)
    pd.testing.assert_frame_equal(again.drop(columns="seconds"), mine.drop(columns="seconds"))


def _pairwise_auc(scores, labels):
    pos, neg = scores[labels], scores[~labels]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return wins / (len(pos) * len(neg))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.booleans()), min_size=1, max_size=40))
def test_simulation_auc_is_the_pairwise_share(sim, pairs):
    scores = np.array([p[0] for p in pairs], dtype=float) / 6
    labels = np.array([p[1] for p in pairs])
    got = sim.auc(scores, labels)
    if labels.all() or not labels.any():
        assert math.isnan(got)
    else:
        assert got == pytest.approx(_pairwise_auc(scores, labels))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=0, max_size=40))
def test_simulation_calibration_bins(sim, pairs):
    probs = np.array([p[0] for p in pairs], dtype=float)
    labels = np.array([p[1] for p in pairs], dtype=bool)
    n, p, o = sim.calibration_counts(probs, labels)
    for b in range(sim.N_BINS):
        lo, hi = b / sim.N_BINS, (b + 1) / sim.N_BINS
        member = [(q >= lo and q < hi) or (b == sim.N_BINS - 1 and q == 1) for q in probs]
        member = np.array(member, dtype=bool)
        assert n[b] == member.sum() and o[b] == labels[member].sum()
        assert p[b] == pytest.approx(probs[member].sum())


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 60), st.integers(1, 3), st.booleans(), st.integers(0, 10_000))
def test_simulation_class_ids_and_uniques(sim, n, n_cols, huge, seed):
    rng = np.random.default_rng(seed)
    # huge levels force the path for keys whose packed code would not fit in 62 bits
    high = 2**40 if huge else 4
    codes = {f"c{j}": rng.integers(0, high, n) for j in range(n_cols)}
    key = list(codes)
    ids = sim.class_ids(codes, key)
    frame = pd.DataFrame(codes)
    expect = frame.groupby(key, sort=True).ngroup().to_numpy()
    assert np.array_equal(ids, expect)
    assert np.array_equal(
        sim.uniques_mask(ids), frame.groupby(key)[key[0]].transform("size").to_numpy() == 1
    )


@pytest.mark.parametrize(
    ("estimate", "truth", "within", "beyond"),
    [
        (149.0, 100, True, False),  # truth < 200: within 50 records
        (151.0, 100, False, False),  # 51 off: outside the 50 records, but only 1.51x
        (25.0, 10, True, True),  # within 50 records, yet 2.5x
        (370.0, 300, True, False),  # 23% off
        (380.0, 300, False, False),  # 27% off
        (700.0, 300, False, True),
        (140.0, 300, False, True),
        (0.4, 0, True, False),
        (60.0, 0, False, True),
        (math.nan, 300, False, True),
    ],
)
def test_simulation_target_rules(sim, estimate, truth, within, beyond):
    assert sim.within_target(estimate, truth) is within
    assert sim.beyond_2x(estimate, truth) is beyond
    arr = sim.within_target(np.array([estimate, estimate]), np.array([truth, truth]))
    assert arr.tolist() == [within, within]


# --------------------------------------------------------------------------------------------
# The default: the log-linear estimate, with every estimate and the reason shown
# --------------------------------------------------------------------------------------------


def _crossed(seed=0, n=2000):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"a": rng.integers(0, 40, n), "b": rng.integers(0, 25, n), "c": rng.integers(0, 3, n)}
    )


def test_default_is_the_forest_estimate_and_says_why():
    df = _crossed()
    res = population_uniqueness(df, ["a", "b", "c"], sampling_fraction=0.1)
    assert res.method == "auto" and res.method_used == "forest"
    fo = res.fits["forest"]
    assert res.estimate == fo.estimate == res.estimates["forest"]
    # sum of the sample uniques' probabilities / f: the expected population uniques
    assert res.n_population_uniques == pytest.approx(res.record_probabilities.sum() * 10)
    assert "forest model is the default" in res.reason and "subsamples" in res.reason
    assert 0.0 <= fo.parameters["weight"] <= 1.0
    # every estimator is reported, with its diagnostics
    assert set(res.estimates) == {"zayatz", "pitman", "snb", "loglinear", "forest"}
    frame = res.to_frame().set_index("method")
    assert math.isfinite(frame.loc["loglinear", "impact_z"])
    assert frame.loc["forest", "chosen"] and frame["message"].str.len().min() > 0


def test_loglinear_agrees_with_model_risk():
    from riskcalc._model_risk import model_risk

    df = _crossed(1)
    res = population_uniqueness(df, ["a", "b", "c"], population_size=40_000, method="loglinear")
    mr = model_risk(df, ["a", "b", "c"], sampling_fraction=2000 / 40_000, select="impact")
    assert res.n_population_uniques == pytest.approx(mr.tau1 * 20)
    assert res.fits["loglinear"].parameters["model"] == mr.formula


def test_auto_falls_back_to_dankar_and_says_so(monkeypatch):
    import riskcalc._population_forest as pop  # where the forest estimate is fitted

    def broken(*args, **kwargs):
        raise InvalidParameterError("The cells cannot be held.")

    monkeypatch.setattr(pop, "fit_forest", broken)
    df = frame_from_histogram(*PITMAN_BOUNDARY)
    with pytest.raises(InvalidParameterError):  # a bug in the model is not swallowed...
        population_uniqueness(df, ["key"], sampling_fraction=0.05)
    monkeypatch.undo()
    # ...but a table whose cells cannot be read (a Spark table) falls back, and says so
    monkeypatch.setattr(
        pop, "_cells_of", lambda enc, part, n: (None, "The cells stay on the cluster.")
    )
    res = population_uniqueness(df, ["key"], sampling_fraction=0.05)
    assert not res.fits["forest"].converged and math.isnan(res.estimates["forest"])
    assert res.method_used == "zayatz"  # Dankar's rule, which itself falls back here
    assert "could not be fitted" in res.reason and "Dankar's rule is used instead" in res.reason
    assert "falls back to Zayatz" in res.reason
    # no per-record probabilities, the logical bound as the interval, and not trusted
    assert res.record_probabilities is None and not res.trusted
    assert res.interval == (0.0, res.population_size - (res.n_records - res.n_sample_uniques))
    assert "logical bound" in res.caution
    with pytest.raises(InvalidParameterError, match="no per-record probabilities"):
        res.records_frame()


def test_repr_shows_reason_other_estimates_and_expected_count():
    df = _crossed(2)
    res = population_uniqueness(df, ["a", "b", "c"], sampling_fraction=0.2)
    text = repr(res)
    assert "reason=" in text and "other estimates: zayatz=" in text
    assert not float(res.n_population_uniques).is_integer()
    assert "(expected, rounded)" in text
    assert f"~{round(res.n_population_uniques):,}" in text
    # a census count is exact, and shown without the caveat
    census = population_uniqueness(df, ["a", "b", "c"], sampling_fraction=1.0)
    assert "(expected" not in repr(census)
