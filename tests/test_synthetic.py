"""Tests of the synthetic cohort generator: marginals, structure, reproducibility, registry.

The cohort is generated once per module at 50,000 pupils. Tolerances are wide enough for
sampling noise at that size (and documented per check) but tight enough to catch a broken
model: each published figure comes from ``shared/npd-spec.md`` section 3.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import synthetic
import synthetic._data
import synthetic._rng
from synthetic import (
    FIELD_NAMES,
    FIELDS,
    Role,
    SyntheticError,
    _samplers,
    columns_for_tier,
    field,
    generate_cohort,
    is_valid_upn,
    tier3_tables,
    tier_extract,
    upn_check_letter,
)

N = 50_000
SEED = 20241128
DATA = Path(synthetic.__file__).parent / "data"
POSTCODE_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2}$")
LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return generate_cohort(N, rng=SEED)


def _reference_check_letter(body: str) -> str:
    """Independent, obvious implementation of npd-spec 2.2."""
    total = 0
    for position, ch in zip(range(2, 14), body):
        total += (int(ch) if ch.isdigit() else LETTERS.index(ch)) * position
    return LETTERS[total % 23]


# ------------------------------------------------------------------------------------ UPN
@pytest.mark.parametrize(
    ("body", "letter"),
    [
        ("801200005001", "B"),  # python-stdnum doctest, npd-spec 2.2
        ("207000016049", "P"),
    ],  # sum 266 -> 13 -> P (Arbor's page says Q: arithmetic error)
)
def test_upn_check_letter_vectors(body, letter):
    assert upn_check_letter(body) == letter
    assert is_valid_upn(letter + body)


def test_upn_rejects_wrong_letter_and_shape():
    assert not is_valid_upn("Q207000016049")  # Arbor's mis-computed letter
    assert not is_valid_upn("B80120000500")
    assert not is_valid_upn(12345)
    with pytest.raises(ValueError, match="12-character"):
        upn_check_letter("123")


def test_temporary_upn_final_letter_takes_table_value():
    body = "20700001604A"  # temporary: 11 digits + letter (A = 0)
    assert upn_check_letter(body) == _reference_check_letter(body)
    assert upn_check_letter("20700001604Z") == _reference_check_letter("20700001604Z")


def test_every_upn_validates_and_is_unique(cohort):
    upns = cohort["upn"].astype(str).tolist()
    assert all(len(u) == 13 for u in upns)
    assert all(_reference_check_letter(u[1:]) == u[0] for u in upns)
    assert cohort["upn"].is_unique


def test_upn_encodes_la_school_and_year(cohort):
    upn = cohort["upn"].astype(str)
    # the issuing school is always in the pupil's LA
    assert (upn.str[1:4] == cohort["la_code"].astype(str)).all()
    # primary pupils: issued by their own school unless they arrived late
    primary = cohort["phase"] == "PS"
    own = upn.str[1:8].astype(int) == cohort["laestab"]
    assert own[primary].mean() > 0.85
    # year digits: between Reception entry and the census year
    entry = 2023 - cohort["nc_year"].cat.codes.astype(int)
    year = upn.str[8:10].astype(int)
    assert ((year >= entry % 100) & (year <= 23)).all()


def test_pupil_id_unique_and_shaped(cohort):
    pid = cohort["pupil_id"].astype(str)
    assert pid.is_unique
    assert pid.str.fullmatch(r"P\d{10}").all()


# ------------------------------------------------------------------------------ structure
def test_date_of_birth_matches_year_group(cohort):
    n_year = cohort["nc_year"].cat.codes.to_numpy().astype(int)  # R = 0
    dob = cohort["date_of_birth"]
    start = pd.to_datetime({"year": 2023 - n_year - 5, "month": 9, "day": 1})
    stop = pd.to_datetime({"year": 2023 - n_year - 4, "month": 8, "day": 31})
    assert ((dob >= start) & (dob <= stop)).all()
    assert (dob.dt.year == cohort["year_of_birth"]).all()
    assert (dob.dt.month == cohort["month_of_birth"]).all()


def test_birth_seasonality(cohort):
    dob = cohort["date_of_birth"]
    per_month = dob.dt.month.value_counts()
    assert per_month[9] > per_month[12] * 1.05  # late-September peak vs December
    md = dob.dt.strftime("%m-%d")
    per_day = len(dob) / 365.25
    christmas = md.isin(["12-24", "12-25", "12-26"]).sum()
    assert christmas < 3 * per_day * 0.92


def test_postcodes_parse_and_nest(cohort):
    pc = cohort["postcode"].astype(str)
    assert pc.map(lambda s: bool(POSTCODE_RE.match(s))).all()
    assert (pc.str[:-2] == cohort["postcode_sector"].astype(str)).all()
    assert (pc.str.split(" ").str[0] == cohort["postcode_district"].astype(str)).all()
    area = cohort["postcode_district"].astype(str).str.extract(r"^([A-Z]+)")[0]
    assert (area == cohort["postcode_area"].astype(str)).all()
    # each postcode lies in exactly one LSOA, each LSOA in one home LA (not always the school's)
    assert cohort.groupby("postcode", observed=True)["lsoa"].nunique().max() == 1
    assert cohort.groupby("lsoa", observed=True)["home_la"].nunique().max() == 1


# ------------------------------------------------------------------------------ cross-border homes
_CROSS = synthetic._data.load_json("geography.json")["cross_border"]


def test_home_la_is_the_lsoas_and_siblings_share_it(cohort):
    la = pd.read_csv(DATA / "local_authorities.csv", comment="#", dtype={"la_code": str})
    region_of = dict(zip(la["la_code"], la["region"], strict=True))
    area_of = dict(zip(la["la_code"], la["postcode_area"], strict=True))
    home = cohort["home_la"].astype(str)
    assert (home.map(region_of) == cohort["home_region"].astype(str)).all()
    assert (home.map(area_of) == cohort["postcode_area"].astype(str)).all()  # the home's area
    fam = cohort.groupby("family_id", observed=True)
    assert (fam["home_la"].nunique() == 1).all() and (fam["postcode"].nunique() == 1).all()
    away = home != cohort["la_code"].astype(str)
    assert 0.04 < away.mean() < 0.10
    # the other LA is in the school's region (there is no LA adjacency data to cross a region)
    assert (cohort["home_region"].astype(str) == cohort["region"].astype(str)).all()
    # chunks share the LSOAs their cross-border pupils live in: one LSOA, several school LAs
    assert cohort.groupby("lsoa", observed=True)["la_code"].nunique().max() > 1
    assert cohort["lsoa"].cat.categories.is_unique and cohort["postcode"].cat.categories.is_unique


@pytest.mark.parametrize(("n", "seed"), [(100_000, 1), (300_000, 4)])
def test_cross_border_shares_are_the_published_ones(n, seed):
    """By the school's region (London or not) and phase, the share of pupils living in another
    LA is its parameter (``geography.json``): within a point, but London's primary share runs up
    to 3 points above its 8% in small cohorts (siblings share a home: where most primary pupils
    of an LA have an eldest sibling at secondary school, their share cannot go down to 8%)."""
    c = generate_cohort(n, rng=seed, columns=["phase", "la_code", "region", "home_la"])
    away = c["home_la"].astype(str) != c["la_code"].astype(str)
    london = c["region"].astype(str).eq("London").map({True: "London", False: "default"})
    share = away.groupby([london, c["phase"].astype(str)], observed=True).mean()
    for (where, phase), target in [
        (("default", "PS"), 0.038),
        (("default", "SS"), 0.070),
        (("London", "SS"), 0.20),
    ]:
        assert _CROSS[where][phase] == target
        assert abs(share[(where, phase)] - target) < 0.015, (where, phase, share[(where, phase)])
    assert 0.075 < share[("London", "PS")] < 0.11
    assert 0.055 < away.mean() < 0.08  # England about 6.5%


@settings(max_examples=200, deadline=None)
@given(
    pairs=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=400),
    rates=st.lists(st.floats(0.0, 0.3), min_size=4, max_size=4),
)
def test_family_rates_give_each_phase_its_share(pairs, rates):
    """Families take the share of their eldest's phase; the shares are solved so that every
    phase's expected share is its rate whenever that is possible (no share outside [0, 1])."""
    phase = np.array([p for p, _ in pairs])
    eldest = np.array([q for _, q in pairs])
    rates = np.array(rates)
    x = _samplers.homes.family_rates(rates, phase, eldest)
    assert ((x >= 0) & (x <= 1)).all()
    counts = np.zeros((4, 4))
    np.add.at(counts, (phase, eldest), 1)
    exact, *_ = np.linalg.lstsq(counts, rates * counts.sum(axis=1), rcond=None)
    if ((exact >= 0) & (exact <= 1)).all() and np.linalg.matrix_rank(counts) == np.count_nonzero(
        counts.sum(axis=1)
    ):
        expected_share = (counts @ x)[counts.sum(axis=1) > 0] / counts.sum(axis=1)[
            counts.sum(axis=1) > 0
        ]
        np.testing.assert_allclose(expected_share, rates[counts.sum(axis=1) > 0], atol=1e-9)


def test_the_panel_keeps_homes_in_the_school_la_at_its_first_census():
    from synthetic._plan import build_plan
    from synthetic._samplers import Chunk
    from synthetic._samplers.homes import sample_geography

    plan = build_plan(3, 20_000)
    la = int(np.argmax(plan.la_pupils))
    outs = []
    for cross in (True, False):
        chunk = Chunk(plan=plan, la=la)
        if not cross:
            chunk.cross_border = False
        for name, sampler in _samplers.SAMPLERS[:4]:
            chunk.cols.update(
                sampler(synthetic._rng.stream(plan.root, name, int(plan.la_code[la])), chunk)
            )
        outs.append(
            sample_geography(
                synthetic._rng.stream(plan.root, "postcode", int(plan.la_code[la])), chunk
            )
        )
    assert (outs[0]["home_la"] != plan.la_code_idx[la]).any()
    assert (outs[1]["home_la"] == plan.la_code_idx[la]).all()


def test_school_in_la_of_right_region(cohort):
    la = pd.read_csv(DATA / "local_authorities.csv", comment="#", dtype={"la_code": str})
    region_of = dict(zip(la["la_code"], la["region"]))
    expected = cohort["la_code"].astype(str).map(region_of)
    assert (expected == cohort["region"].astype(str)).all()
    # a school (URN) has one LA, one phase; LAESTAB starts with the LA number
    per_school = cohort.groupby("urn")[["la_code", "phase", "laestab"]].nunique()
    assert (per_school == 1).all().all()
    assert (
        (cohort["laestab"] // 10000).astype(str).str.zfill(3) == cohort["la_code"].astype(str)
    ).all()
    assert cohort.groupby("laestab")["urn"].nunique().max() == 1


def test_year_groups_by_phase(cohort):
    codes = cohort["nc_year"].cat.codes
    assert codes[cohort["phase"] == "PS"].between(0, 6).all()
    assert codes[cohort["phase"] == "SS"].between(7, 13).all()
    ss = cohort[cohort["phase"] == "SS"]["nc_year"].value_counts()
    assert ss["12"] < 0.8 * ss["11"] and ss["13"] < ss["12"]  # sixth-form attrition


# ------------------------------------------------------------------------------ marginals
def _share(mask) -> float:
    return float(np.mean(mask))


def test_fsm_share_and_gradients(cohort):
    assert abs(cohort["fsm_eligible"].mean() - 0.246) < 0.015  # 24.6%, Jan 2024
    by_sen = cohort.groupby("sen_provision", observed=True)["fsm_eligible"].mean()
    assert by_sen["E"] > 1.5 * by_sen["N"] and by_sen["K"] > 1.5 * by_sen["N"]
    by_dec = cohort.groupby("idaci_decile")["fsm_eligible"].mean()
    assert by_dec[1] > 3 * by_dec[10]
    # special schools 43%: some 900 pupils in a few schools at 50,000 pupils swing by about 0.06
    # from seed to seed, so the share is read on a larger cohort
    big = generate_cohort(400_000, rng=SEED, columns=["phase", "fsm_eligible"])
    assert big.loc[big["phase"] == "SP", "fsm_eligible"].mean() > 0.38
    by_eth = cohort.groupby("ethnic_group_minor", observed=True)["fsm_eligible"].mean()
    assert by_eth["AIND"] < 0.15 and by_eth["CHNE"] < 0.15  # 7.4% / 7.8%
    assert (cohort["ever_fsm_6"] >= cohort["fsm_eligible"]).all()


def test_sen_shares_and_sex_ratio(cohort):
    share = cohort["sen_provision"].value_counts(normalize=True)
    assert abs(share["K"] - 0.136) < 0.01  # SEN support 13.6%
    assert abs(share["E"] - 0.048) < 0.006  # EHC plan 4.8%
    ehcp = cohort[cohort["sen_provision"] == "E"]
    assert abs((ehcp["sex"] == "M").mean() - 0.731) < 0.04  # boys 73.1% of EHCP
    support = cohort[cohort["sen_provision"] == "K"]
    assert abs((support["sex"] == "M").mean() - 0.646) < 0.03
    assert cohort.loc[cohort["phase"] == "SP", "sen_provision"].eq("E").mean() > 0.9
    # SEN type only for K / E
    assert cohort["primary_sen_type"].isna().eq(cohort["sen_provision"] == "N").all()
    top = ehcp["primary_sen_type"].value_counts().index[0]
    assert top == "ASD"
    assert support["primary_sen_type"].value_counts().index[0] == "SLCN"


def test_ethnicity_shares_and_regional_variation(cohort):
    share = cohort["ethnic_group_minor"].value_counts(normalize=True)
    targets = {
        "WBRI": (0.614, 0.03),
        "WOTH": (0.07, 0.015),
        "APKN": (0.046, 0.012),
        "BAFR": (0.048, 0.012),
        "AIND": (0.040, 0.012),
        "MOTH": (0.028, 0.008),
    }
    for code, (target, tol) in targets.items():
        assert abs(share[code] - target) < tol, (code, share[code])
    wbri = cohort["ethnic_group_minor"].eq("WBRI").groupby(cohort["region"], observed=True).mean()
    assert wbri["London"] < 0.40 and wbri["North East"] > 0.75
    # extended codes roll up to minor codes; minor codes to major codes
    ext = cohort["ethnicity_extended"].astype(str)
    minor = cohort["ethnic_group_minor"].astype(str)
    assert (ext.str[0] == minor.str[0]).all()
    assert (
        cohort.groupby("ethnic_group_minor", observed=True)["ethnic_group_major"].nunique().max()
        == 1
    )


def test_language_eal_and_rare_flags(cohort):
    assert abs(cohort["eal"].mean() - 0.202) < 0.025  # 20.2%
    assert (cohort["eal"] == (cohort["language_group"] == "OTH")).all()
    eal_by_eth = cohort.groupby("ethnic_group_minor", observed=True)["eal"].mean()
    assert eal_by_eth["WBRI"] < 0.02 and eal_by_eth["ABAN"] > 0.6
    assert 0.004 < cohort["looked_after"].mean() < 0.008  # about 0.6%
    assert 0.005 < cohort["service_child"].mean() < 0.014  # about 0.9%
    rate = cohort["suspensions"].sum() / len(cohort) * 100
    assert 8.5 < rate < 14  # 11.31 per 100 pupils (2023/24)
    pex = cohort["permanent_exclusion"]
    assert 0.0004 < pex.mean() < 0.002  # about 0.11%
    reasons = cohort["exclusion_reason"].value_counts(normalize=True)
    assert reasons.index[0] == "DB"  # persistent disruptive behaviour
    has_event = (cohort["suspensions"] > 0) | pex
    assert cohort["exclusion_reason"].notna().eq(has_event).all()


def test_school_sizes_and_geography_densities(cohort):
    size = cohort.groupby("urn").size()
    phase = cohort.groupby("urn")["phase"].first()
    med = size.groupby(phase, observed=True).median()
    assert 200 <= med["PS"] <= 300  # mean 275
    assert 850 <= med["SS"] <= 1150  # mean about 1,060
    per_postcode = cohort["postcode"].value_counts()
    assert 5.0 <= per_postcode[per_postcode > 0].mean() <= 7.0  # about 6
    per_lsoa = cohort["lsoa"].value_counts()
    assert 200 <= per_lsoa[per_lsoa > 0].mean() <= 300  # about 252


def test_names_are_skewed_with_long_tail(cohort):
    share = cohort["surname"].value_counts(normalize=True)
    assert 0.005 < share.iloc[0] < 0.02  # most common surname about 1%
    assert (share > 0).sum() > 5_000
    assert share.index[0] in {"Smith", "Patel", "Khan", "Jones"}
    fn = cohort.groupby("sex", observed=True)["forename"].agg(lambda s: s.value_counts().index[0])
    assert fn["M"] != fn["F"]


# ------------------------------------------------------------------------------ determinism
def test_same_seed_gives_identical_frame(cohort):
    again = generate_cohort(N, rng=SEED)
    pd.testing.assert_frame_equal(cohort, again)


def test_different_seed_differs():
    a = generate_cohort(5_000, rng=1)
    b = generate_cohort(5_000, rng=2)
    assert not a["upn"].equals(b["upn"])
    assert not a["date_of_birth"].equals(b["date_of_birth"])


def test_generator_argument_is_recorded_and_replayable():
    a = generate_cohort(3_000, rng=np.random.default_rng(7))
    b = generate_cohort(3_000, rng=np.random.default_rng(7))
    pd.testing.assert_frame_equal(a, b)
    seed = a.attrs["synthetic"]["seed"]
    pd.testing.assert_frame_equal(a, generate_cohort(3_000, rng=seed))


def test_removing_or_adding_a_field_leaves_other_columns(monkeypatch):
    base = generate_cohort(8_000, rng=11)
    kept = [(n, s) for n, s in _samplers.SAMPLERS if n not in {"disability", "service_child"}]

    def noisy(rng, chunk):  # a new field that draws a lot of random numbers
        return {"extra_field": rng.random(chunk.n) < rng.random(chunk.n)}

    monkeypatch.setattr(
        synthetic.cohort, "SAMPLERS", tuple(kept[:8] + [("extra", noisy)] + kept[8:])
    )
    other = generate_cohort(8_000, rng=11)
    assert "disability" not in other and "service_child" not in other
    pd.testing.assert_frame_equal(base.drop(columns=["disability", "service_child"]), other)


# ------------------------------------------------------------------------------ registry
def test_registry_covers_cohort_and_roles(cohort):
    assert list(cohort.columns) == list(FIELD_NAMES)
    required = {
        "pupil_id",
        "upn",
        "forename",
        "surname",
        "date_of_birth",
        "sex",
        "postcode",
        "postcode_sector",
        "postcode_district",
        "lsoa",
        "idaci_decile",
        "ethnicity_extended",
        "ethnic_group_minor",
        "ethnic_group_major",
        "first_language",
        "eal",
        "fsm_eligible",
        "ever_fsm_6",
        "sen_provision",
        "primary_sen_type",
        "looked_after",
        "service_child",
        "disability",
        "nc_year",
        "urn",
        "laestab",
        "la_code",
        "region",
        "phase",
        "enrol_status",
        "suspensions",
        "permanent_exclusion",
        "exclusion_reason",
    }
    assert required <= set(FIELD_NAMES)
    assert {f.name for f in FIELDS if f.role is Role.DIRECT_IDENTIFIER} == {
        "pupil_id",
        "upn",
        "forename",
        "surname",
        "family_id",
    }
    assert field("fsm_eligible").role is Role.SENSITIVE
    for f in FIELDS:
        assert f.tier in (1, 2, 4)
        if f.ladder:
            assert f.role is Role.QUASI_IDENTIFIER
        if f.codes is not None:
            assert list(cohort[f.name].cat.categories) == list(f.codes)


@pytest.mark.parametrize("name", [f.name for f in FIELDS if f.ladder])
def test_ladders_coarsen_monotonically(cohort, name):
    f = field(name)
    sample = cohort.iloc[:20_000]
    previous = sample[name].nunique(dropna=False)
    for level, rung in enumerate(f.ladder, start=1):
        values = f.generalise(sample, level)
        assert len(values) == len(sample)
        n_unique = values.nunique(dropna=False)
        assert n_unique <= previous
        previous = n_unique
        if rung.coarsen is not None:  # the function agrees with the column on the cohort
            from_func = rung.coarsen(sample[name])
            if rung.column is not None:
                assert (
                    from_func.astype(str).to_numpy() == sample[rung.column].astype(str).to_numpy()
                ).all()
    # the coarser level is a function of the finer one
    finer = sample[name].astype(str)
    coarser = f.generalise(sample, 1).astype(str)
    assert pd.DataFrame({"a": finer, "b": coarser}).groupby("a")["b"].nunique().max() == 1


def test_required_ladders():
    assert field("date_of_birth").ladder_names == ("year_month_of_birth", "year_of_birth")
    assert field("postcode").ladder_names == (
        "postcode_sector",
        "postcode_district",
        "postcode_area",
    )
    assert field("urn").ladder_names == ("la_code", "region")
    assert field("ethnicity_extended").ladder_names == ("ethnic_group_minor", "ethnic_group_major")
    assert field("first_language").ladder_names == ("language_group",)
    with pytest.raises(SyntheticError, match="'postcode_town'"):
        field("postcode").generalise(pd.DataFrame({"postcode": ["LS6 2AB"]}), "postcode_town")
    with pytest.raises(SyntheticError, match="Unknown field 'postcod'.*'postcode'"):
        field("postcod")


# ------------------------------------------------------------------------------ tiers
@pytest.mark.parametrize("tier", [1, 2, 4])
def test_tier_extract_has_exactly_registry_columns(cohort, tier):
    extract = tier_extract(cohort, tier)
    assert list(extract.columns) == list(columns_for_tier(tier))
    assert extract.attrs["synthetic"]["tier"] == tier
    assert len(extract) == len(cohort)


def test_tier_nesting():
    t1, t2, t4 = (set(columns_for_tier(t)) for t in (1, 2, 4))
    assert t4 < t2 < t1
    assert "upn" in t1 - t2 and "date_of_birth" in t1 - t2 and "postcode" in t1 - t2
    assert {"lsoa", "fsm_eligible", "sen_provision", "ethnic_group_minor"} <= t2 - t4
    assert {"pupil_id", "sex", "nc_year", "urn", "la_code", "year_of_birth"} <= t4


def test_tier3_tables(cohort):
    tables = tier3_tables(cohort)
    assert set(tables) == {
        f"{b}_x_{c}" for b in ("urn", "la_code") for c in synthetic.tiers.TIER3_CHARACTERISTICS
    }
    t = tables["urn_x_fsm_eligible"]
    assert list(t.columns) == ["urn", "nc_year", "sex", "fsm_eligible", "count"]
    assert t["count"].sum() == len(cohort) and (t["count"] >= 1).all()
    school = cohort["urn"].iloc[0]
    direct = (
        cohort[cohort["urn"] == school]
        .groupby(["nc_year", "sex", "fsm_eligible"], observed=True)
        .size()
    )
    got = t[t["urn"] == school].set_index(["nc_year", "sex", "fsm_eligible"])["count"]
    assert got.sort_index().tolist() == direct.sort_index().tolist()
    assert (t["count"] <= 2).any()  # unsuppressed small cells are present


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("bad", [0, -5, 2.5, "10", True, None, 10**9])
def test_generate_cohort_rejects_bad_n(bad):
    with pytest.raises(SyntheticError, match=r"'n_pupils' parameter of generate_cohort.*Got"):
        generate_cohort(bad, rng=1)


@pytest.mark.parametrize("bad", ["abc", -1, 1.5])
def test_generate_cohort_rejects_bad_rng(bad):
    with pytest.raises(
        SyntheticError, match=r"'rng' parameter of generate_cohort.*" + re.escape(repr(bad)[:3])
    ):
        generate_cohort(10, rng=bad)


def test_tier_errors(cohort):
    with pytest.raises(SyntheticError, match="tier 3 is aggregate: use tier3_tables.*Got 3"):
        tier_extract(cohort, 3)
    with pytest.raises(SyntheticError, match=r"one of \[1, 2, 4\]\. Got 5"):
        tier_extract(cohort, 5)
    with pytest.raises(SyntheticError, match="lacks the columns \\['upn'"):
        tier_extract(cohort.drop(columns=["upn"]), 1)
    with pytest.raises(SyntheticError, match="'characteristics'.*\\['nope'\\]"):
        tier3_tables(cohort, characteristics=["nope"])
    with pytest.raises(SyntheticError, match="must be a pandas DataFrame"):
        tier_extract([1, 2], 1)
    assert issubclass(SyntheticError, ValueError)


@pytest.mark.parametrize("param", ["by", "characteristics"])
@given(
    bad=st.one_of(
        st.text(min_size=1, max_size=12),  # one name, not a sequence of names (found by mypy)
        st.none(),
        st.integers(),
        st.floats(allow_nan=False),
        st.just(()),
        st.just([]),
    )
)
@settings(max_examples=25, deadline=None)
def test_tier3_tables_rejects_a_field_list_that_is_not_a_sequence_of_names(cohort, param, bad):
    """A string is refused as a whole (``list("urn")`` would read as the columns u, r, n), and
    anything else that is no non-empty sequence of names gets the same one line, never a
    TypeError from the library's own code."""
    with pytest.raises(
        SyntheticError,
        match=rf"The '{param}' parameter of tier3_tables must be a non-empty sequence of column "
        rf"names\. Got {re.escape(repr(bad))} instead\.",
    ):
        tier3_tables(cohort, **{param: bad})


def test_child_streams_are_distinct_per_field_and_chunk():
    from synthetic._rng import stable_hash, stream

    draw = lambda *a: stream(*a).random(4).tolist()
    assert draw(1, "sex", 202) == draw(1, "sex", 202)
    assert draw(1, "sex", 202) != draw(1, "fsm_eligible", 202)
    assert draw(1, "sex", 202) != draw(1, "sex", 203)
    assert draw(1, "sex", 202) != draw(2, "sex", 202)
    # fixed value: the hash must not depend on the process (unlike the built-in hash)
    import hashlib

    assert stable_hash("sex") == int.from_bytes(
        hashlib.blake2b(b"sex", digest_size=8).digest(), "little"
    )
