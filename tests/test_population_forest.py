"""The forest model behind the default population-uniqueness estimate: brute-force references,
properties, and a small held-out simulation (a population, key and seeds never tuned on)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

import riskcalc._population_forest as pop
from riskcalc._forest import _ALPHAS, fit_forest, unique_probability
from riskcalc.population import population_uniqueness


def _cells(df: pd.DataFrame):
    """Distinct rows of integer columns ``0..L-1``: codes, counts, levels (the slow way)."""
    grouped = df.groupby(list(df.columns)).size().reset_index(name="n")
    levels = [int(df[c].max()) + 1 for c in df.columns]
    return grouped[list(df.columns)].to_numpy(np.int64), grouped["n"].to_numpy(np.float64), levels


def _reference_probability(df: pd.DataFrame, forest, cell, d: float) -> float:
    """P_{-d}(cell) read off the records one count at a time (the formula in the docstring)."""
    n = len(df)
    cols = list(df.columns)
    prob = (n - d) / n
    for j, p in enumerate(forest.parent):
        x = cell[j]
        n_x = int((df[cols[j]] == x).sum())
        if p < 0:
            L = int(df[cols[j]].nunique())
            prob *= (n_x - d + 0.5) / (n - d + 0.5 * L)
            continue
        a = forest.alpha[j]
        n_a = int((df[cols[p]] == cell[p]).sum())
        n_ab = int(((df[cols[p]] == cell[p]) & (df[cols[j]] == x)).sum())
        prob *= (max(n_ab - d, 0) + a * n_x / n) / (n_a - d + a)
    return prob


def _reference_evidence(df, parent, child, alpha) -> float:
    """Dirichlet-multinomial log evidence of ``child | parent`` minus the marginal plug-in."""
    n = len(df)
    share = df[child].value_counts() / n
    total = 0.0
    for _, g in df.groupby(parent):
        counts = g[child].value_counts()
        total += special.gammaln(alpha) - special.gammaln(len(g) + alpha)
        for b, c in counts.items():
            total += special.gammaln(c + alpha * share[b]) - special.gammaln(alpha * share[b])
    plug = float(sum(c * math.log(share[b]) for b, c in df[child].value_counts().items()))
    return total - plug


@st.composite
def tables(draw):
    k = draw(st.integers(1, 4))
    n = draw(st.integers(2, 60))
    levels = [draw(st.integers(1, 4)) for _ in range(k)]
    rows = draw(
        st.lists(st.tuples(*[st.integers(0, L - 1) for L in levels]), min_size=n, max_size=n)
    )
    df = pd.DataFrame(rows, columns=[f"f{i}" for i in range(k)])
    # a copied field makes a strong edge in some tables
    if k >= 2 and draw(st.booleans()):
        df["f1"] = df["f0"]
    # codes 0..L-1 with every level used (as the encoder gives them)
    return df.apply(lambda c: pd.factorize(c, sort=True)[0])


@settings(max_examples=60, deadline=None)
@given(tables(), st.sampled_from([0.0, 0.3, 1.0]))
def test_probability_equals_the_formula_read_off_the_records(df, d):
    codes, counts, levels = _cells(df)
    forest = fit_forest(codes, counts, levels)
    fast = forest.probability(codes, d)
    slow = [_reference_probability(df, forest, row, d) for row in codes]
    np.testing.assert_allclose(fast, slow, rtol=1e-10)


@settings(max_examples=40, deadline=None)
@given(tables())
def test_the_fitted_forest_is_a_distribution_over_the_whole_grid(df):
    codes, counts, levels = _cells(df)
    forest = fit_forest(codes, counts, levels)
    grid = np.array(list(itertools.product(*[range(L) for L in levels])), dtype=np.int64)
    assert forest.probability(grid).sum() == pytest.approx(1.0, rel=1e-9)
    # parents form a forest: no field is its own ancestor
    for j in range(len(levels)):
        seen, p = set(), j
        while p >= 0:
            assert p not in seen
            seen.add(p)
            p = forest.parent[p]


def test_edge_gain_is_the_dirichlet_multinomial_evidence():
    rng = np.random.default_rng(5)
    a = rng.integers(0, 6, 300)
    b = np.where(rng.random(300) < 0.7, a % 3, rng.integers(0, 3, 300))
    df = pd.DataFrame({"a": a, "b": b})
    codes, counts, levels = _cells(df)
    forest = fit_forest(codes, counts, levels)
    child = 1 if forest.parent[1] == 0 else 0
    parent = 1 - child
    names = ["a", "b"]
    assert forest.parent[parent] == -1 and forest.alpha[child] in _ALPHAS
    ev = _reference_evidence(df, names[parent], names[child], forest.alpha[child])
    assert forest.gains[child] == pytest.approx(ev, rel=1e-9)
    # the chosen concentration is the grid's best
    others = [_reference_evidence(df, names[parent], names[child], x) for x in _ALPHAS[::4]]
    assert ev >= max(others) - 1e-9


def test_a_copied_field_is_joined_and_an_independent_one_is_not():
    rng = np.random.default_rng(1)
    n = 4000
    df = pd.DataFrame({"school": rng.integers(0, 50, n), "noise": rng.integers(0, 4, n)})
    df["phase"] = df["school"] % 3  # determined by the school
    codes, counts, levels = _cells(df[["school", "noise", "phase"]])
    forest = fit_forest(codes, counts, levels)
    edges = {frozenset(e) for e in forest.edges(["school", "noise", "phase"])}
    assert edges == {frozenset({"school", "phase"})}


def test_unique_probability_is_monotone_in_the_weight_and_bounded():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"a": rng.integers(0, 30, 500), "b": rng.integers(0, 12, 500)})
    codes, counts, levels = _cells(df)
    forest = fit_forest(codes, counts, levels)
    su = codes[counts == 1]
    prev = None
    for w in np.linspace(0, 1, 11):
        p = unique_probability(forest.terms(su), 4500.0, w)
        assert np.all((p >= 0) & (p <= 1))
        if prev is not None:
            assert np.all(p <= prev + 1e-15)
        prev = p
    # the weight solved for a target gives that target
    terms = forest.terms(su)
    target = float(unique_probability(terms, 4500.0, 0.37).sum())
    w = pop._pooled_weight([(terms, target)], 4500.0)
    assert w == pytest.approx(0.37, abs=1e-5)
    # solved over several runs, the expected counts add up to the observed ones
    w2 = pop._pooled_weight([(terms, target), (terms, target)], 4500.0)
    assert w2 == pytest.approx(w, abs=1e-5)


# --------------------------------------------------------------------------------------------
# The result: interval, trust, per-record probabilities, the edges of the parameter space
# --------------------------------------------------------------------------------------------


def _sample(seed=0, n=3000):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 60, n)
    return pd.DataFrame({"a": a, "b": (a + rng.integers(0, 3, n)) % 25, "c": rng.integers(0, 3, n)})


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 10_000),
    st.sampled_from([0.01, 0.05, 0.2, 0.6]),
    st.sampled_from([0.8, 0.9, 0.95]),
)
def test_interval_holds_the_estimate_and_records_add_up(seed, f, confidence):
    df = _sample(seed, 400)
    res = population_uniqueness(df, ["a", "b", "c"], sampling_fraction=f, confidence=confidence)
    lo, hi = res.interval
    assert 0 <= lo <= res.n_population_uniques <= hi
    assert hi <= res.population_size - (res.n_records - res.n_sample_uniques)
    p = res.record_probabilities
    assert p.shape == (len(df),) and np.all((p >= 0) & (p <= 1))
    assert np.all(p[res.record_sizes > 1] == 0)
    assert res.n_population_uniques == pytest.approx(p.sum() * res.population_size / len(df))
    frame = res.records_frame()
    assert list(frame.columns) == ["fk", "population_unique_prob"] and len(frame) == len(df)
    # trusted means: the interval is within 25% (or 50 records) of the estimate on each side
    tol = max(0.25 * res.n_population_uniques, 50)
    assert res.trusted == (
        hi - res.n_population_uniques <= tol and res.n_population_uniques - lo <= tol
    )
    assert (res.caution == "") == res.trusted


def test_a_wider_confidence_gives_a_wider_interval():
    df = _sample(3)
    narrow = population_uniqueness(df, ["a", "b", "c"], sampling_fraction=0.1, confidence=0.8)
    wide = population_uniqueness(df, ["a", "b", "c"], sampling_fraction=0.1, confidence=0.99)
    assert wide.interval[0] <= narrow.interval[0] and wide.interval[1] >= narrow.interval[1]
    assert wide.n_population_uniques == narrow.n_population_uniques


def test_deterministic_and_the_seed_only_moves_the_validation():
    df = _sample(4)
    a = population_uniqueness(df, ["a", "b", "c"], sampling_fraction=0.1)
    b = population_uniqueness(df, ["a", "b", "c"], sampling_fraction=0.1)
    assert repr(a) == repr(b) and np.array_equal(a.record_probabilities, b.record_probabilities)
    c = population_uniqueness(df, ["a", "b", "c"], sampling_fraction=0.1, rng=7)
    assert c.interval == a.interval  # the bounding models do not depend on the subsamples
    assert (
        c.fits["forest"].parameters["fitted_count"] == a.fits["forest"].parameters["fitted_count"]
    )


def test_census_is_exact_and_trusted():
    df = _sample(5, 500)
    res = population_uniqueness(df, ["a", "b", "c"], sampling_fraction=1.0)
    c1 = res.n_sample_uniques
    assert res.interval == (c1, c1) and res.trusted and res.caution == ""
    assert res.record_probabilities.sum() == c1
    # one probability per record (1 for the uniques), as for a sample
    assert res.record_probabilities.shape == (len(df),)
    assert np.array_equal(res.record_probabilities, (res.record_sizes == 1).astype(float))
    assert len(res.records_frame()) == len(df)


def test_no_sample_unique_bounds_what_the_sample_missed():
    df = pd.DataFrame({"a": [1, 1, 2, 2, 3, 3] * 10})
    res = population_uniqueness(df, ["a"], sampling_fraction=0.01)
    assert res.n_population_uniques == 0
    # had there been U population uniques, the sample would have missed them all with (1-f)^U
    U = math.log(0.1) / math.log1p(-0.01)
    assert res.interval == pytest.approx((0.0, U))
    assert not res.trusted and "between 0 and 229" in res.caution
    # a larger fraction bounds them within 50 records: the 0 can be quoted
    res = population_uniqueness(df, ["a"], sampling_fraction=0.05)
    assert res.interval[1] == pytest.approx(math.log(0.1) / math.log1p(-0.05)) and res.trusted


def test_every_record_unique_is_not_trusted():
    df = pd.DataFrame({"a": np.arange(200), "b": np.arange(200) % 7})
    res = population_uniqueness(df, ["a", "b"], sampling_fraction=0.02)
    assert not res.trusted and res.caution
    lo, hi = res.interval
    assert hi - lo > 0.5 * res.n_population_uniques


def test_a_requested_estimator_outside_the_interval_is_flagged(monkeypatch):
    df = _sample(6)
    res = population_uniqueness(df, ["a", "b", "c"], sampling_fraction=0.1, method="zayatz")
    lo, hi = res.interval
    inside = lo <= res.n_population_uniques <= hi
    assert inside or ("outside the interval" in res.caution and not res.trusted)


# --------------------------------------------------------------------------------------------
# Held out: a population, keys and seeds the default was never tuned on
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def held_out_population():
    import synthetic

    return synthetic.generate_cohort(60_000, rng=4242)


def _auc(score, truth):
    from scipy.stats import rankdata

    r = rankdata(score)
    pos = truth.sum()
    return (r[truth].sum() - pos * (pos + 1) / 2) / (pos * (len(truth) - pos))


@pytest.mark.parametrize(
    "key",
    [
        ["sex", "nc_year", "ethnic_group_minor", "fsm_eligible"],
        ["language_group", "sen_provision", "idaci_decile", "sex", "nc_year"],
    ],
)
def test_held_out_intervals_cover_and_records_rank(held_out_population, key):
    popn = held_out_population
    sizes = popn.groupby(key, observed=True, dropna=False)[key[0]].transform("size").to_numpy()
    U = int((sizes == 1).sum())
    covered, scores, truths, runs = 0, [], [], 0
    for f in (0.05, 0.2):
        for seed in range(4):
            idx = np.random.default_rng(100 + seed).choice(
                len(popn), int(f * len(popn)), replace=False
            )
            res = population_uniqueness(
                popn.iloc[idx][key].reset_index(drop=True), key, sampling_fraction=f
            )
            covered += res.interval[0] <= U <= res.interval[1]
            runs += 1
            su = res.record_sizes == 1
            scores.append(res.record_probabilities[su])
            truths.append(sizes[idx][su] == 1)
    assert covered >= runs - 1  # a 90% interval: at most one miss in eight
    score, truth = np.concatenate(scores), np.concatenate(truths)
    assert 0 < truth.sum() < len(truth)
    assert _auc(score, truth) >= 0.8
    # calibration in the large: the probabilities add up to about the population uniques seen
    assert score.sum() == pytest.approx(truth.sum(), rel=0.5)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_row_order_never_changes_a_figure(seed, blanks):
    """The validation subsamples are drawn over cells ordered by their values, so shuffling the
    records (which changes the encoder's codes) changes nothing but the order of the records."""
    df = _sample(seed, 300).astype({"a": str})
    if blanks:
        df.loc[df.index % 7 == 0, "a"] = None
    perm = np.random.default_rng(seed).permutation(len(df))
    shuffled = df.iloc[perm].reset_index(drop=True)
    a = population_uniqueness(df, ["a", "b", "c"], sampling_fraction=0.05)
    b = population_uniqueness(shuffled, ["a", "b", "c"], sampling_fraction=0.05)
    assert a.interval == pytest.approx(b.interval, rel=1e-12)
    assert a.n_population_uniques == pytest.approx(b.n_population_uniques, rel=1e-12)
    np.testing.assert_allclose(a.record_probabilities[perm], b.record_probabilities, rtol=1e-12)


def test_an_untrusted_estimate_leads_with_its_interval():
    df = _sample(8, 300)
    res = population_uniqueness(df, ["a", "b", "c"], sampling_fraction=0.01)
    assert not res.trusted
    text = repr(res)
    assert text.startswith("PopulationUniquenessResult(NOT TRUSTED: interval=(")
    assert text.index("interval=") < text.index("n_population_uniques=")
    census = population_uniqueness(df, ["a", "b", "c"], sampling_fraction=1.0)
    assert repr(census).startswith("PopulationUniquenessResult(n_population_uniques=")
