"""Households in the synthetic cohort: twins, siblings, shared home and characteristics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthetic import Role, columns_for_tier, field, generate_cohort
from synthetic._data import load_json
from synthetic._families import family_rank, form_families


@pytest.fixture(scope="module")
def cohort():
    return generate_cohort(40_000, rng=11)


@pytest.fixture(scope="module")
def sibs(cohort):
    return cohort[cohort["n_siblings"] > 0]


def test_siblings_share_home_and_family_characteristics(cohort, sibs):
    g = cohort.groupby("family_id", observed=True)
    for col in (
        "postcode",
        "lsoa",
        "idaci_decile",
        "ethnicity_extended",
        "ethnic_group_minor",
        "first_language",
        "eal",
        "la_code",
    ):
        # la_code is the school's LA: siblings' schools are in the home LA in the cross-section
        assert (g[col].nunique(dropna=False) == 1).all(), col
    surname_same = (g["surname"].transform("nunique") == 1)[cohort["n_siblings"] > 0].mean()
    assert 0.85 <= surname_same < 1.0  # usually, not always
    fsm_same = (g["fsm_eligible"].transform("nunique") == 1)[cohort["n_siblings"] > 0].mean()
    assert fsm_same > 0.85  # one household draw; differs only through phase / SEN terms
    assert len(sibs) > 0.5 * len(cohort)


def test_sibling_fields_count_and_order(cohort):
    size = cohort.groupby("family_id", observed=True)["pupil_id"].transform("size")
    assert (cohort["n_siblings"] == size - 1).all()
    # reference: a plain per-family rank by date of birth, ties by row order
    ref = (
        cohort.assign(_row=np.arange(len(cohort)))
        .sort_values(["family_id", "date_of_birth", "_row"])
        .groupby("family_id", observed=True)
        .cumcount()
        + 1
    )
    assert (cohort["birth_order"] == ref.sort_index()).all()
    assert (
        cohort.groupby("family_id", observed=True)["birth_order"].max()
        == size.groupby(cohort["family_id"]).max()
    ).all()


def test_twins_share_date_of_birth_school_and_year(cohort, sibs):
    twins = sibs[sibs.duplicated(["family_id", "date_of_birth"], keep=False)]
    cfg = load_json("families.json")
    share = len(twins) / len(cohort)
    assert abs(share - cfg["twin_pupil_share"]["value"]) < 0.006  # about 3.1% of pupils
    g = twins.groupby(["family_id", "date_of_birth"], observed=True)
    assert (g.size() == 2).all()
    assert (g["urn"].nunique() == 1).all() and (g["nc_year"].nunique() == 1).all()
    # ONS: 15.6 multiple maternities per 1,000 -> 2 r / (1000 + r) of children are twins
    r = cfg["multiple_maternity_rate_per_1000"]["value"]
    assert cfg["twin_pupil_share"]["value"] == pytest.approx(2 * r / (1000 + r), abs=5e-4)


def test_non_twin_siblings_are_in_different_year_groups(sibs):
    dup = sibs.duplicated(["family_id", "nc_year"], keep=False)
    same_dob = sibs.duplicated(["family_id", "date_of_birth"], keep=False)
    assert (same_dob[dup]).all()  # two siblings in one year group are twins


def test_family_size_distribution(cohort):
    size = cohort.groupby("family_id", observed=True).size()
    assert 1.5 <= size.mean() <= 1.9  # ONS/GHS: about 1.7-1.8 dependent children per family
    share = size.value_counts(normalize=True)
    assert 0.45 <= share[1] <= 0.65 and 0.2 <= share[2] <= 0.35 and share.index.max() <= 10


def test_registry_places_family_fields_in_tier_1():
    assert field("family_id").role is Role.DIRECT_IDENTIFIER
    assert field("n_siblings").npd_item == "NSiblings_SGAS"
    for name in ("family_id", "n_siblings", "birth_order"):
        assert field(name).tier == 1
        assert name in columns_for_tier(1) and name not in columns_for_tier(2)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(5, 400), st.integers(1, 6), st.integers(1, 12))
def test_form_families_structure(seed, n, n_sec, n_school):
    rng = np.random.default_rng(seed)
    school = rng.integers(0, n_school, n)
    vyear = rng.integers(-3, 14, n)
    sector = rng.integers(0, n_sec, n)
    fam = form_families(np.random.default_rng(seed + 1), school=school, vyear=vyear, sector=sector)
    root = fam.root
    assert (root[root] == root).all()  # roots are their own root
    frame = pd.DataFrame(
        {"root": root, "v": vyear, "sector": sector, "school": school, "twin": fam.twin_of >= 0}
    )
    # the root is the eldest (highest virtual year); siblings (not second twins, who follow
    # their twin) were matched within the root's home sector
    assert (frame.groupby("root")["v"].max().to_numpy() == vyear[np.unique(root)]).all()
    assert (frame[~frame["twin"]].groupby("root")["sector"].nunique() == 1).all()
    # two members in one virtual year only as a twin pair, in one school
    dup = frame.duplicated(["root", "v"], keep=False)
    pairs = frame[dup].groupby(["root", "v"])
    assert (pairs.size() == 2).all() and (pairs["school"].nunique() == 1).all()
    assert (pairs["twin"].sum() == 1).all()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 300))
def test_family_rank_matches_reference(seed, n):
    rng = np.random.default_rng(seed)
    root = rng.integers(0, max(1, n // 3), n)
    dob = rng.integers(0, 50, n)
    present = rng.random(n) < 0.8
    n_sib, order = family_rank(root, dob, present)
    for i in range(n):  # slow, obvious reference
        if not present[i]:
            assert n_sib[i] == 0 and order[i] == 0
            continue
        mates = [j for j in range(n) if present[j] and root[j] == root[i]]
        assert n_sib[i] == len(mates) - 1
        assert order[i] == 1 + sum((dob[j], j) < (dob[i], i) for j in mates)


def test_household_risk_runs_on_real_households(cohort):
    import riskcalc as rc

    data = cohort[["sex", "nc_year", "postcode_district", "family_id"]].assign(w=20.0)
    res = rc.individual_risk(
        data, ["sex", "nc_year", "postcode_district"], weights="w", household="family_id"
    )
    hh = pd.Series(res.household_risk, index=cohort.index)
    # 1 - prod(1 - r) over a household: at least each member's own risk, the same for siblings
    assert (res.household_risk >= res.risk - 1e-12).all()
    assert (hh.groupby(cohort["family_id"], observed=True).nunique() == 1).all()
    multi = (cohort["n_siblings"] > 0).to_numpy()
    assert (res.household_risk[multi] > res.risk[multi]).mean() > 0.99
