"""Log-linear model risk: sdcMicro's values, fits against statsmodels, properties, bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from conftest import oracle
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import riskcalc._model_risk as mr  # the module (rc.model_risk is the function)
from riskcalc._model_risk import model_risk
from riskcalc.exceptions import InvalidParameterError

sm = pytest.importorskip("statsmodels.api")

SDC_QI = ["Var1", "Var2", "Var3"]


@pytest.fixture(scope="module")
def sdc_table() -> pd.DataFrame:
    return pd.read_csv(oracle("12_sdcmicro_modrisk_loglinear/input.csv"))


# --- sdcMicro's test values (tests/testthat/test_modRisk.R: ~ Var1 + Var2 + Var3) ----------


@pytest.mark.parametrize(
    "method, gr1, gr2",
    [
        ("default", 0.553, 0.705),
        ("CE", 0.542, 0.699),
        ("weightedLLM", 0.408, 0.613),
        # not asserted by sdcMicro's test; with equal weights PML's response is the counts and
        # IPF fits the same main-effects model, so both equal the default.
        ("PML", 0.553, 0.705),
        ("IPF", 0.553, 0.705),
    ],
)
def test_sdcmicro_modrisk_values(sdc_table, method, gr1, gr2):
    res = model_risk(sdc_table, SDC_QI, weights=sdc_table["weights"].to_numpy(), method=method)
    assert round(res.gr1, 3) == gr1
    assert round(res.gr2, 3) == gr2
    assert res.converged
    assert res.formula == "~ Var1 + Var2 + Var3"


# --- a slow, obvious reference: the full table, statsmodels' GLM, the formulas -------------


def _reference(df, qi, w, method="default", interactions=()):
    """Dense cross-classification + statsmodels Poisson GLM, as sdcMicro builds it."""
    d = df[qi].astype(str).assign(_w=w, _p=1.0 / w)
    g = d.groupby(qi).agg(f=("_w", "size"), w=("_w", "sum"), p=("_p", "sum")).reset_index()
    grid = pd.DataFrame(list(itertools.product(*[sorted(d[c].unique()) for c in qi])), columns=qi)
    x = grid.merge(g, how="left", on=qi).fillna({"f": 0.0, "w": 0.0, "p": 0.0})
    parts = [pd.get_dummies(x[[c]], drop_first=True).astype(float) for c in qi]
    for a, b in interactions:
        da = pd.get_dummies(x[[a]], drop_first=True).astype(float).to_numpy()
        db = pd.get_dummies(x[[b]], drop_first=True).astype(float).to_numpy()
        parts.append(pd.DataFrame((da[:, :, None] * db[:, None, :]).reshape(len(x), -1)))
    X = np.column_stack([np.ones(len(x))] + [p.to_numpy() for p in parts])
    y, offset = x["f"].to_numpy(), None
    if method == "CE":
        ec = np.where(x["w"] > 0, x["f"] / np.where(x["w"] > 0, x["w"], 1), 0.0)
        offset = np.log(ec + 0.1)
    if method == "weightedLLM":
        X = np.column_stack([X, x["w"].to_numpy()])
    if method == "PML":
        y = np.round(x["w"].to_numpy() * x["f"].sum() / x["w"].sum())
    fit = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit(tol=1e-13, maxiter=200)
    x["mu"] = fit.fittedvalues
    return x[x["f"] > 0].reset_index(drop=True), fit


def _cells_frame(res, df, qi):
    """The result's per-cell arrays keyed by the cell's labels."""
    first = pd.Series(np.arange(len(df))).groupby(res.record_cell).first().to_numpy()
    out = df[qi].astype(str).iloc[first].reset_index(drop=True)
    return out.assign(f=res.cell_counts, mu=res.cell_fitted, lam=res.cell_population_mean)


def _random_table(seed, n=300, levels=(3, 4, 5), weighted=True):
    rng = np.random.default_rng(seed)
    cols = {}
    for i, L in enumerate(levels):
        p = rng.dirichlet(np.ones(L) * 0.8)
        cols[f"v{i}"] = rng.choice([f"l{j}" for j in range(L)], size=n, p=p)
    df = pd.DataFrame(cols)
    # a dependence between v0 and v1, so that the interaction matters
    df.loc[df["v0"] == "l0", "v1"] = "l1"
    w = rng.uniform(5, 50, n) if weighted else np.full(n, 10.0)
    return df, w


@pytest.mark.parametrize("method", ["default", "CE", "weightedLLM", "PML"])
@pytest.mark.parametrize("seed", [1, 2])
def test_fitted_means_match_statsmodels(method, seed):
    df, w = _random_table(seed)
    qi = list(df.columns)
    res = model_risk(df, qi, weights=w, method=method)
    ref, fit = _reference(df, qi, w, method)
    mine = _cells_frame(res, df, qi).merge(ref, on=qi, suffixes=("", "_ref"))
    assert len(mine) == res.n_cells == len(ref)
    assert_allclose(mine["mu"], mine["mu_ref"], rtol=1e-7, atol=1e-12)
    if method != "PML":  # PML's deviance is of the rounded weighted counts, not of f
        assert res.deviance == pytest.approx(fit.deviance, rel=1e-6)


@pytest.mark.parametrize("method", ["default", "CE", "weightedLLM", "IPF"])
def test_interaction_fit_matches_statsmodels(method):
    df, w = _random_table(3, n=400)
    qi = list(df.columns)
    res = model_risk(df, qi, weights=w, method=method, terms="~ v0 + v1 + v2 + v0:v1")
    ref, _ = _reference(df, qi, w, "default" if method == "IPF" else method, [("v0", "v1")])
    mine = _cells_frame(res, df, qi).merge(ref, on=qi, suffixes=("", "_ref"))
    # cells whose interaction margin is zero have MLE 0; statsmodels stops at a tiny value
    assert_allclose(mine["mu"], mine["mu_ref"], rtol=1e-6, atol=1e-8)
    assert res.terms == (("v0",), ("v1",), ("v2",), ("v0", "v1"))


def test_tau_and_record_measures_against_formulas():
    df, w = _random_table(4, n=250)
    qi = list(df.columns)
    res = model_risk(df, qi, weights=w)
    ref, _ = _reference(df, qi, w)
    pi = ref["f"] / ref["w"]
    nu = ref["mu"] / pi * (1 - pi)
    su = ref["f"] == 1
    assert res.tau1 == pytest.approx(np.exp(-nu[su]).sum(), rel=1e-9)
    assert res.tau2 == pytest.approx(((1 - np.exp(-nu[su])) / nu[su]).sum(), rel=1e-9)
    assert res.n_population_uniques == pytest.approx((np.exp(-nu[su]) / pi[su]).sum(), rel=1e-9)
    # E[1 / (f + X)], X ~ Poisson(nu), by direct summation of the series
    cells = _cells_frame(res, df, qi)
    lam = cells["lam"].to_numpy()
    pic = res.cell_inclusion
    nuc = lam * (1 - pic)
    k = np.arange(4000)[None, :]
    logp = (
        -nuc[:, None]
        + k * np.log(nuc[:, None])
        - np.array([math.lgamma(i + 1) for i in range(4000)])[None, :]
    )
    direct = (np.exp(logp) / (cells["f"].to_numpy()[:, None] + k)).sum(axis=1)
    assert_allclose(res.record_match_prob, direct[res.record_cell], rtol=1e-9)
    unique = np.where(cells["f"] == 1, np.exp(-nuc), 0.0)
    assert_allclose(res.record_unique_prob, unique[res.record_cell], rtol=1e-12)
    assert res.record_unique_prob.sum() == pytest.approx(res.tau1, rel=1e-12)


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), perm_seed=st.integers(0, 10_000))
def test_row_order_does_not_matter(seed, perm_seed):
    df, w = _random_table(seed, n=120, levels=(2, 3, 4))
    qi = list(df.columns)
    perm = np.random.default_rng(perm_seed).permutation(len(df))
    a = model_risk(df, qi, weights=w, method="CE")
    b = model_risk(df.iloc[perm].reset_index(drop=True), qi, weights=w[perm], method="CE")
    for name in ("tau1", "tau2", "gr1", "gr2", "n_population_uniques", "deviance", "impact"):
        assert getattr(b, name) == pytest.approx(getattr(a, name), rel=1e-7, abs=1e-12), name
    assert_allclose(b.record_match_prob, a.record_match_prob[perm], rtol=1e-7)


def test_census_gives_the_sample_uniques():
    df, _ = _random_table(5, n=200)
    res = model_risk(df, list(df.columns), sampling_fraction=1.0)
    assert res.tau1 == res.n_sample_uniques > 0
    assert res.tau2 == res.n_sample_uniques
    assert res.n_population_uniques == res.n_sample_uniques
    assert res.estimate == pytest.approx(res.n_sample_uniques / 200)


def test_sampling_fraction_is_equal_weights():
    df, _ = _random_table(6, n=200)
    qi = list(df.columns)
    a = model_risk(df, qi, sampling_fraction=0.1)
    b = model_risk(df, qi, weights=np.full(200, 10.0))
    assert a.tau1 == pytest.approx(b.tau1, rel=1e-12)
    assert a.population_size == pytest.approx(2000)


def test_ipf_equals_irls_with_interactions():
    df, w = _random_table(7, n=500, levels=(3, 3, 4))
    qi = list(df.columns)
    a = model_risk(df, qi, weights=w, terms=[("v0", "v1"), ("v1", "v2")])
    b = model_risk(df, qi, weights=w, terms=[("v0", "v1"), ("v1", "v2")], method="IPF")
    assert_allclose(a.cell_fitted, b.cell_fitted, rtol=1e-6, atol=1e-9)


# --- the impact criterion and the selection ------------------------------------------------


def _impact_dense(df, qi, f_frac, interactions=()):
    w = np.full(len(df), 1 / f_frac)
    d = df[qi].astype(str)
    grid = pd.DataFrame(list(itertools.product(*[sorted(d[c].unique()) for c in qi])), columns=qi)
    x = grid.merge(d.value_counts().rename("f").reset_index(), how="left", on=qi).fillna({"f": 0})
    ref, _ = _reference(df, qi, w, "default", interactions)
    full, fit = _reference(df.iloc[:0], qi, w[:0]) if False else (None, None)
    del full, fit
    allmu = x.merge(ref[qi + ["mu"]], how="left", on=qi)
    # empty cells: refit on the whole grid to get their means
    parts = [pd.get_dummies(x[[c]], drop_first=True).astype(float).to_numpy() for c in qi]
    for a, b in interactions:
        da = pd.get_dummies(x[[a]], drop_first=True).astype(float).to_numpy()
        db = pd.get_dummies(x[[b]], drop_first=True).astype(float).to_numpy()
        parts.append((da[:, :, None] * db[:, None, :]).reshape(len(x), -1))
    X = np.column_stack([np.ones(len(x))] + parts)
    mu = sm.GLM(x["f"].to_numpy(), X, family=sm.families.Poisson()).fit(tol=1e-13).fittedvalues
    assert_allclose(allmu["mu"].dropna(), mu[allmu["mu"].notna().to_numpy()], rtol=1e-6)
    f = x["f"].to_numpy()
    pi = f_frac
    h1 = np.exp(-mu / pi) * (1 - mu / pi)
    h2 = np.exp(-mu / pi) * (mu / pi - 2) / pi
    B = -np.sum(h1 * (f - mu) + 0.5 * h2 * ((f - mu) ** 2 - f))
    v = np.sum(h1**2 * mu + 0.5 * h2**2 * mu**2)
    return B, B / np.sqrt(v)


@pytest.mark.parametrize("interactions", [(), (("v0", "v1"),)])
def test_impact_against_dense_table(interactions):
    df, _ = _random_table(8, n=300)
    qi = list(df.columns)
    res = model_risk(df, qi, sampling_fraction=0.2, terms=list(interactions))
    B, z = _impact_dense(df, qi, 0.2, interactions)
    assert res.impact == pytest.approx(B, rel=1e-6, abs=1e-9)
    assert res.impact_z == pytest.approx(z, rel=1e-6, abs=1e-9)


def test_impact_histogram_path_close_to_exact(monkeypatch):
    df, _ = _random_table(9, n=2000, levels=(6, 7, 8))
    qi = list(df.columns)
    exact = model_risk(df, qi, sampling_fraction=0.05)
    monkeypatch.setattr(mr, "_EXACT_GRID", 10)
    approx = model_risk(df, qi, sampling_fraction=0.05)
    assert approx.impact == pytest.approx(exact.impact, rel=2e-2, abs=1e-6)
    assert approx.deviance == pytest.approx(exact.deviance, rel=1e-3)
    assert approx.tau1 == exact.tau1  # the fit itself never uses the histogram


def test_selection_steps_reduce_the_impact_and_are_recorded():
    rng = np.random.default_rng(11)
    n = 4000
    school = rng.integers(0, 80, n)
    # each school teaches either years 0-5 or years 6-11: year depends on school
    year = np.where(school % 2 == 0, rng.integers(0, 6, n), rng.integers(6, 12, n))
    df = pd.DataFrame({"school": school, "year": year, "sex": rng.integers(0, 2, n)})
    qi = ["school", "year", "sex"]
    main = model_risk(df, qi, sampling_fraction=0.5)
    res = model_risk(df, qi, sampling_fraction=0.5, select="impact")
    assert res.selection[0].added is None and res.selection[0].z == pytest.approx(main.impact_z)
    zs = [abs(s.z) for s in res.selection]
    assert all(b < a for a, b in itertools.pairwise(zs))
    assert len(res.selection) >= 2
    added = [s.added for s in res.selection[1:]]
    assert res.terms == tuple((q,) for q in qi) + tuple(added)
    assert res.formula == "~ school + year + sex + " + " + ".join(":".join(a) for a in added)
    assert res.impact_z == pytest.approx(res.selection[-1].z)
    assert res.tau1 == pytest.approx(res.selection[-1].tau1)
    # the stopping rules: impact small enough, or no pair brings it closer to 0
    if abs(res.impact_z) > mr.DEFAULT_Z and len(added) < 3:
        remaining = [p for p in itertools.combinations(qi, 2) if p not in added]
        for p in remaining:
            trial = model_risk(df, qi, sampling_fraction=0.5, terms=added + [p])
            assert abs(trial.impact_z) >= abs(res.impact_z)
    one = model_risk(df, qi, sampling_fraction=0.5, select="impact", max_interactions=1)
    assert len(one.selection) == 2


# --- outputs -------------------------------------------------------------------------------


def test_repr_and_frames(sdc_table):
    res = model_risk(sdc_table, SDC_QI, weights=sdc_table["weights"].to_numpy())
    text = repr(res)
    assert "tau1=" in text and "gr1=0.5529" in text and "~ Var1 + Var2 + Var3" in text
    frame = res.to_frame()
    assert list(frame.columns) == ["measure", "value", "share"]
    assert frame.set_index("measure").loc["gr1", "value"] == pytest.approx(res.gr1)
    rec = res.records_frame()
    assert len(rec) == 10 and set(rec.columns) == {
        "fk",
        "mu",
        "lambda",
        "unique_prob",
        "match_prob",
    }


def test_bound_changes_only_the_denominator(sdc_table):
    w = sdc_table["weights"].to_numpy()
    a = model_risk(sdc_table, SDC_QI, weights=w)
    b = model_risk(sdc_table, SDC_QI, weights=w, bound=1)
    # 9 non-empty cells, 8 of them of size 1
    assert b.gr1 == pytest.approx(a.gr1 * 9 / 8)
    assert b.tau1 == a.tau1


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({}, "exactly one of 'weights'"),
        ({"sampling_fraction": 0.1, "weights": "weights"}, "exactly one of 'weights'"),
        ({"sampling_fraction": 0}, "'sampling_fraction'"),
        ({"sampling_fraction": 0.1, "method": "GLM"}, "'method'"),
        ({"sampling_fraction": 0.1, "bound": 0}, "'bound'"),
        ({"sampling_fraction": 0.1, "select": "aic"}, "'select'"),
        ({"sampling_fraction": 0.1, "z_threshold": -1}, "'z_threshold'"),
        ({"sampling_fraction": 0.1, "terms": "~ Var1:Age"}, "'Age'"),
        ({"sampling_fraction": 0.1, "terms": "~ Var1 + "}, "empty term"),
        ({"sampling_fraction": 0.1, "terms": [("Var1", "Var1")]}, "repeats a field"),
        ({"sampling_fraction": 0.1, "terms": 5}, "'terms'"),
        ({"sampling_fraction": 0.1, "max_interactions": -1}, "'max_interactions'"),
        ({"weights": np.full(10, 0.5)}, "sampling weights of at least 1"),
    ],
)
def test_bad_parameters(sdc_table, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        model_risk(sdc_table, SDC_QI, **kwargs)


def test_too_large_interaction_table_is_refused(monkeypatch):
    df, _ = _random_table(12, n=100)
    monkeypatch.setattr(mr, "MAX_COMPONENT_CELLS", 2)
    with pytest.raises(InvalidParameterError, match="Drop an interaction"):
        model_risk(df, list(df.columns), sampling_fraction=0.1, terms="~ v0*v1")


def test_missing_raise(sdc_table):
    df = sdc_table.copy()
    df.loc[0, "Var1"] = None
    from riskcalc.exceptions import MissingValueError

    with pytest.raises(MissingValueError):
        model_risk(df, SDC_QI, sampling_fraction=0.1, missing="raise")
    assert model_risk(df, SDC_QI, sampling_fraction=0.1).n_records == 10


# --- the CLI -------------------------------------------------------------------------------


def test_analyse_shows_model_figures(capsys, tmp_path):
    import json

    from riskcalc._cli import main

    df, _ = _random_table(13, n=400)
    path = tmp_path / "extract.csv"
    df.to_csv(path, index=False)
    qi = list(df.columns)
    code = main(
        [
            "analyse",
            str(path),
            "--qi",
            ",".join(qi),
            "--sampling-fraction",
            "0.1",
            "--format",
            "json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = {(r["section"], r["measure"]): r for r in json.loads(out)["rows"]}
    expect = model_risk(df, qi, sampling_fraction=0.1, select="impact")
    assert rows[("model", "tau1_expected_population_unique")]["value"] == pytest.approx(expect.tau1)
    assert rows[("model", "sdcmicro_gr1")]["value"] == pytest.approx(expect.gr1)
    assert rows[("model", "expected_population_uniques")]["share"] == pytest.approx(expect.estimate)
    assert ("population", "estimate_loglinear") in rows
    code = main(["analyse", str(path), "--qi", ",".join(qi), "--sampling-fraction", "0.1"])
    text, _ = capsys.readouterr()
    assert "Log-linear model risk" in text and "model ~ v0 + v1 + v2" in text


# --- a small version of benchmarks/sim_population.py ----------------------------------------


@pytest.mark.parametrize(
    "key, fraction",
    [
        (("sex", "year_of_birth", "month_of_birth", "la_code"), 0.2),
        (("sex", "nc_year", "ethnic_group_major", "sen_provision", "fsm_eligible"), 0.1),
    ],
)
def test_small_simulation_near_the_truth(key, fraction):
    import riskcalc as rc
    import synthetic
    from riskcalc.population import zayatz

    pop = synthetic.generate_cohort(60_000, rng=5)[list(key)]
    enc = rc.encode(pop, list(key))
    truth = rc.uniqueness(enc, list(key)).n_unique
    assert truth >= 100
    rng = np.random.default_rng(2)
    errors, zayatz_errors = [], []
    for _ in range(3):
        idx = rng.choice(len(pop), size=int(fraction * len(pop)), replace=False)
        sample = pop.iloc[idx].reset_index(drop=True)
        res = model_risk(sample, key, sampling_fraction=fraction, select="impact")
        errors.append(res.n_population_uniques / truth - 1)
        part = rc.partition(sample, list(key))
        sizes, counts = part.size_histogram.sizes, part.size_histogram.counts
        z = zayatz(sizes, counts, len(sample), len(pop))
        zayatz_errors.append(z.n_population_uniques / truth - 1)
    assert abs(np.mean(errors)) < 0.4
    assert abs(np.mean(errors)) < abs(np.mean(zayatz_errors))


def test_docstring_examples():
    import doctest

    result = doctest.testmod(mr, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 100_000),
    method=st.sampled_from(["default", "CE", "weightedLLM", "PML", "IPF"]),
    interaction=st.booleans(),
    levels=st.tuples(st.integers(2, 4), st.integers(2, 4), st.integers(2, 3)),
)
def test_fits_match_statsmodels_on_random_tables(seed, method, interaction, levels):
    df, w = _random_table(seed, n=150, levels=levels)
    qi = list(df.columns)
    inter = (
        [("v0", "v1")] if interaction and df["v0"].nunique() > 1 and df["v1"].nunique() > 1 else []
    )
    res = model_risk(df, qi, weights=w, method=method, terms=inter)
    ref, _ = _reference(df, qi, w, "default" if method == "IPF" else method, inter)
    mine = _cells_frame(res, df, qi).merge(ref, on=qi, suffixes=("", "_ref"))
    assert len(mine) == res.n_cells
    assert_allclose(mine["mu"], mine["mu_ref"], rtol=1e-6, atol=1e-8)
