"""The simulated intruder's errors happen at their documented rates, at every cohort size.

Every error of every built-in profile (nickname, misspelling, birth year one off, former school,
out-of-date home, missing field) is measured on the auxiliary table it produces: the share of
known values it changes must equal the profile's parameter within a 99.9% binomial interval, at
2,000 and 20,000 pupils (and 1,000,000, marked slow). A slow obvious reference checks the
vectorised draw of a different value. Splink is not needed here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import synthetic
from synthetic.intruders import (
    PROFILES,
    _different_donors,
    _nickname,
    _typos,
    auxiliary_table,
)

Z = 3.29  # two-sided 99.9% normal quantile
ERRORS = (
    "nickname_rate",
    "misspelling_rate",
    "wrong_year_rate",
    "former_school_rate",
    "moved_rate",
    "missing_rate",
)
#: the fields each error changes
CHANGES = {
    "nickname_rate": ("forename",),
    "misspelling_rate": ("forename", "surname"),
    "wrong_year_rate": ("date_of_birth",),
    "former_school_rate": ("urn",),
    "moved_rate": ("postcode", "postcode_district"),
}


def _within(k: int, n: int, p: float, what: str) -> None:
    """``k`` of ``n`` is a draw of Binomial(n, p), at the 99.9% level (exact when p is 0 or 1)."""
    assert n > 0, what
    if p in (0.0, 1.0):
        assert k == round(n * p), f"{what}: {k} of {n}, expected rate {p}"
        return
    half = Z * np.sqrt(p * (1 - p) / n) + 0.5 / n
    assert abs(k / n - p) <= half, (
        f"{what}: realised {k}/{n} = {k / n:.4f}, parameter {p} (+- {half:.4f})"
    )


def _truth(cohort: pd.DataFrame, aux: pd.DataFrame) -> pd.DataFrame:
    return cohort.set_index("pupil_id").loc[aux["pupil_id"]].reset_index()


def _changed(aux: pd.DataFrame, truth: pd.DataFrame, field: str) -> tuple[int, int]:
    """Values of ``field`` the intruder holds (not missing) that differ from the truth."""
    a = aux[field].astype(object).to_numpy()
    t = truth[field].astype(object).to_numpy()
    held = ~pd.isna(a) & ~pd.isna(t)
    return int((a[held] != t[held]).sum()), int(held.sum())


def _only(p, error: str):
    """The profile with every error but ``error`` switched off, covering every pupil."""
    return p.with_(coverage=1.0, **{e: (getattr(p, e) if e == error else 0.0) for e in ERRORS})


def _cases():
    for name, p in PROFILES.items():
        for e in ERRORS:
            if getattr(p, e) > 0:
                yield name, e


COHORTS: dict[int, pd.DataFrame] = {}


def _cohort(n: int) -> pd.DataFrame:
    if n not in COHORTS:
        COHORTS[n] = synthetic.generate_cohort(n, rng=0)
    return COHORTS[n]


def _check_error(cohort: pd.DataFrame, name: str, error: str, seed: int) -> None:
    p = PROFILES[name]
    rate = getattr(p, error)
    aux = auxiliary_table(cohort, _only(p, error), rng=seed)
    truth = _truth(cohort, aux)
    if error == "missing_rate":
        for f in p.knows:
            _within(int(aux[f].isna().sum()), len(aux), rate, f"{name} {f} missing")
        return
    fields = [f for f in CHANGES[error] if f in p.knows]
    assert fields, (name, error)
    for f in fields:
        k, n = _changed(aux, truth, f)
        _within(k, n, rate, f"{name} {error} on {f} at {len(cohort)} pupils")


@pytest.mark.parametrize("n", [2_000, 20_000])
@pytest.mark.parametrize("name, error", list(_cases()))
def test_each_error_changes_values_at_its_rate(n, name, error):
    _check_error(_cohort(n), name, error, seed=1)


@pytest.mark.parametrize("n", [2_000, 20_000])
@pytest.mark.parametrize("name", list(PROFILES))
def test_profiles_as_published_combine_their_errors_independently(n, name):
    """The profile with all its errors: a field changes at 1 - prod(1 - rate) of its errors,
    a value is missing at missing_rate, and coverage is the share of pupils (or classes)."""
    p = PROFILES[name]
    cohort = _cohort(n)
    aux = auxiliary_table(cohort, p.with_(coverage=1.0), rng=2)
    truth = _truth(cohort, aux)
    for f in p.knows:
        rates = [
            getattr(p, e)
            for e, fields in CHANGES.items()
            if f in fields and not (e == "nickname_rate" and f != "forename")
        ]
        expected = 1 - np.prod([1 - r for r in rates])
        if f != "surname_initial":
            k, m = _changed(aux, truth, f)
            _within(k, m, float(expected), f"{name} {f} changed")
        _within(int(aux[f].isna().sum()), len(aux), p.missing_rate, f"{name} {f} missing")
    covered = auxiliary_table(cohort, p, rng=3)
    if p.by_class:
        classes = cohort.groupby(["urn", "nc_year"], observed=True).ngroups
        kept = covered[["pupil_id"]].merge(cohort[["pupil_id", "urn", "nc_year"]], on="pupil_id")
        _within(
            kept.groupby(["urn", "nc_year"], observed=True).ngroups,
            classes,
            p.coverage,
            f"{name} coverage",
        )
    else:
        _within(len(covered), len(cohort), p.coverage, f"{name} coverage")


@pytest.mark.slow
def test_error_rates_at_a_million_pupils():
    """The cheapest path at 1,000,000 pupils: each profile once with all its errors, every pupil
    covered; each error isolated on the social-media profile (it holds five of the six)."""
    cohort = synthetic.generate_cohort(1_000_000, rng=0)
    for name, error in _cases():
        if name in ("social_media", "neighbourhood_register"):
            _check_error(cohort, name, error, seed=4)


def test_wrong_values_come_from_the_narrowest_pool_with_another_value():
    """A former school is another school of the pupil's LA when the LA has one, else of the
    region, else of the cohort (a loop over pupils as the reference)."""
    levels = {"la": 0, "region": 0, "country": 0}
    for n in (2_000, 20_000):
        cohort = _cohort(n)
        p = PROFILES["social_media"]
        aux = auxiliary_table(
            cohort, _only(p, "former_school_rate").with_(former_school_rate=1.0), rng=5
        )
        truth = _truth(cohort, aux)
        school_la = dict(zip(cohort["urn"], cohort["la_code"].astype(str), strict=True))
        school_region = dict(zip(cohort["urn"], cohort["region"].astype(str), strict=True))
        la_schools = cohort.groupby("la_code", observed=True)["urn"].agg(set).to_dict()
        region_schools = cohort.groupby("region", observed=True)["urn"].agg(set).to_dict()
        for own, new, la, region in zip(
            truth["urn"], aux["urn"], truth["la_code"], truth["region"], strict=True
        ):
            assert new != own
            if la_schools[la] - {own}:
                assert school_la[new] == str(la)
                levels["la"] += 1
            elif region_schools[region] - {own}:
                assert school_la[new] != str(la) and school_region[new] == str(region)
                levels["region"] += 1
            else:
                assert school_region[new] != str(region)
                levels["country"] += 1
    assert all(levels.values()), levels  # the two cohorts exercise every level


def test_a_wrong_value_is_drawn_by_pupil_numbers_among_values_that_differ():
    # one LA: school A has 3 pupils, B 1, C 2. A pupil of A draws among the 3 pupils of B and
    # C: school B with probability 1/3, C with 2/3 (u on an even grid gives the exact shares).
    value = np.array([0, 0, 0, 1, 2, 2])
    group = np.zeros(6, dtype=np.int64)
    u = (np.arange(3000) + 0.5) / 3000
    donor = _different_donors(value, [group], np.zeros(3000, dtype=np.int64), u)
    got = np.bincount(value[donor], minlength=3)
    assert got.tolist() == [0, 1000, 2000]
    # a value nobody else lacks: no donor anywhere (the only case that keeps the true value)
    assert (
        _different_donors(
            np.zeros(4, dtype=np.int64),
            [np.zeros(4, dtype=np.int64)],
            np.arange(4),
            np.full(4, 0.5),
        )
        == -1
    ).all()


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_different_donors_matches_a_loop(data):
    n = data.draw(st.integers(1, 40))
    value = np.array(
        data.draw(st.lists(st.integers(-1, 4), min_size=n, max_size=n)), dtype=np.int64
    )
    la = np.array(data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)), dtype=np.int64)
    region = la // 3  # nested in LA
    targets = np.array(
        data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=10)), dtype=np.int64
    )
    u = np.array(
        data.draw(
            st.lists(
                st.floats(0, 1, exclude_max=True), min_size=len(targets), max_size=len(targets)
            )
        )
    )
    got = _different_donors(value, [la, region], targets, u)
    for t, ut, g in zip(targets, u, got, strict=True):
        expected = -1
        if value[t] >= 0:
            for level in (la, region, np.zeros(n, dtype=np.int64)):
                pool = sorted(
                    (value[i], i)
                    for i in range(n)
                    if level[i] == level[t] and value[i] >= 0 and value[i] != value[t]
                )
                if pool:
                    expected = pool[int(ut * len(pool))][1]
                    break
        assert g == expected


def test_every_name_has_a_different_nickname_and_typos():
    names = [
        "Thomas",
        "Tom",
        "Jack",
        "Ella",
        "Leo",
        "Mia",
        "Noah",
        "Ava",
        "Jo",
        "Al",
        "A",
        "Oliver",
        "Amy",
        "Evie",
        "Zoe",
        "Anna",
        "Otto",
        "Lily",
        "Aa",
        "Bb",
    ]
    for name in names:
        assert _nickname(name) != name and _nickname(name), name
    typos = _typos(names + [_nickname(n) for n in names])
    for name, row in zip(names + [_nickname(n) for n in names], typos, strict=True):
        assert all(t != name for t in row), (name, row)
