"""The simulated linkage attack: synthetic intruder tables and riskcalc.linkage_attack.

Slow, obvious references (loops over records) check the vectorised exact attack and the
precision/recall counts; the probabilistic (Splink) attack runs on small cohorts only.
"""

from __future__ import annotations

import sys
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import riskcalc as rc
import synthetic
from riskcalc._linkage_attack import MissingDependencyError, linkage_attack
from synthetic.intruders import COMPARISONS, PROFILES, auxiliary_table, linking_view, profile

pytest.importorskip("splink")


@pytest.fixture(scope="module")
def cohort():
    return synthetic.generate_cohort(3000, rng=11)


def _kinds(fields):
    return {k: v for k, v in COMPARISONS.items() if k in fields}


# ------------------------------------------------------------------------------ references
def _reference_exact(
    ext: pd.DataFrame, aux: pd.DataFrame, fields, ext_id="pupil_id", aux_id="pupil_id"
):
    """Loop over records: a claim when exactly one extract record has the same values."""

    def key(row):
        return tuple(None if pd.isna(v) else v for v in row)

    groups: dict = {}
    for i, row in enumerate(ext[list(fields)].itertuples(index=False)):
        groups.setdefault(key(row), []).append(i)
    ids = list(ext[ext_id])
    claimed = correct = 0
    claims = []
    for row, truth in zip(aux[list(fields)].itertuples(index=False), aux[aux_id]):
        k = key(row)
        hits = groups.get(k, [])
        if any(v is None for v in k) or len(hits) != 1:
            claims.append(-1)
            continue
        claimed += 1
        correct += ids[hits[0]] == truth
        claims.append(hits[0])
    return claimed, correct, claims


def _reference_counts(links: pd.DataFrame, thresholds):
    """Claims and correct claims per threshold, one record at a time."""
    out = []
    for t in thresholds:
        claimed = correct = 0
        for best, p, true in zip(links["best_row"], links["best_probability"], links["true_row"]):
            if best >= 0 and p >= t - 1e-12:
                claimed += 1
                correct += int(best == true)
        out.append((claimed, correct))
    return out


# ------------------------------------------------------------------------------ intruders
def test_profiles_document_every_rate():
    for p in PROFILES.values():
        rates = {k for k, v in p.to_dict().items() if k.endswith("_rate") and v > 0} | {"coverage"}
        assert rates <= set(p.sources), p.name


def test_auxiliary_table_is_deterministic_and_keeps_cohort(cohort):
    before = cohort.copy()
    a = auxiliary_table(cohort, "social_media", rng=4)
    b = auxiliary_table(cohort, "social_media", rng=4)
    pd.testing.assert_frame_equal(a, b)
    assert a.to_csv().encode() == b.to_csv().encode()
    pd.testing.assert_frame_equal(cohort, before)
    c = auxiliary_table(cohort, "social_media", rng=5)
    assert not a["pupil_id"].equals(c["pupil_id"])


def test_error_free_full_coverage_copies_the_cohort(cohort):
    p = profile("social_media").error_free().with_(coverage=1.0)
    aux = auxiliary_table(cohort, p, rng=1)
    assert len(aux) == len(cohort)
    for f in p.knows:
        assert np.array_equal(
            aux[f].astype(object).to_numpy(), cohort[f].astype(object).to_numpy()
        ), f


def test_error_rates_are_respected(cohort):
    p = profile("social_media").with_(
        coverage=1.0,
        missing_rate=0.0,
        nickname_rate=0.0,
        misspelling_rate=0.0,
        former_school_rate=0.0,
        moved_rate=0.0,
        wrong_year_rate=0.3,
    )
    aux = auxiliary_table(cohort, p, rng=2)
    diff = (aux["date_of_birth"].dt.year - cohort["date_of_birth"].dt.year).to_numpy()
    assert set(np.unique(diff)) <= {-1, 0, 1}
    assert abs(np.mean(diff != 0) - 0.3) < 0.04
    same_day = (
        aux["date_of_birth"].dt.month.to_numpy() == cohort["date_of_birth"].dt.month.to_numpy()
    )
    assert same_day.all()


def test_class_list_covers_whole_classes(cohort):
    aux = auxiliary_table(cohort, "class_list", rng=3)
    covered = cohort[cohort["pupil_id"].isin(aux["pupil_id"])]
    classes = set(zip(covered["urn"], covered["nc_year"]))
    members = cohort[[k in classes for k in zip(cohort["urn"], cohort["nc_year"])]]
    assert len(members) == len(aux)


def test_linking_view_uses_the_finest_level(cohort):
    aux = auxiliary_table(cohort, "social_media", rng=1)
    f1, _, _ = linking_view(aux, synthetic.tier_extract(cohort, 1))
    f2, a2, _ = linking_view(aux, synthetic.tier_extract(cohort, 2))
    assert "date_of_birth" in f1 and "forename" in f1
    assert "forename" not in f2 and {"year_of_birth", "month_of_birth"} <= set(f2)
    ok = aux["date_of_birth"].notna()
    assert (a2.loc[ok, "year_of_birth"] == aux.loc[ok, "date_of_birth"].dt.year).all()
    reg = auxiliary_table(cohort, "neighbourhood_register", rng=1)
    f, a, _ = linking_view(reg, synthetic.tier_extract(cohort, 2))
    assert f == ("postcode_sector",)
    assert linking_view(reg, synthetic.tier_extract(cohort, 4))[0] == ()


def test_bad_profile_parameters_one_line():
    with pytest.raises(synthetic.SyntheticError, match="'coverage'"):
        profile("local_news").with_(coverage=0)
    with pytest.raises(synthetic.SyntheticError, match="'knows'"):
        profile("local_news").with_(knows=("upn",))
    with pytest.raises(synthetic.SyntheticError, match="Unknown intruder profile"):
        profile("nope")


# ------------------------------------------------------------------------------ exact attack
def test_exact_attack_error_free_claims_the_sample_uniques(cohort):
    ext = synthetic.tier_extract(cohort, 2)
    p = profile("social_media").error_free().with_(coverage=1.0)
    f, aux, ext = linking_view(auxiliary_table(cohort, p, rng=1), ext)
    res = linkage_attack(ext, aux, f, probabilistic=False)
    fk = ext.groupby(list(f), observed=True, dropna=False)["pupil_id"].transform("size")
    uniques = set(ext.loc[fk.to_numpy() == 1, "pupil_id"])
    claimed = set(ext["pupil_id"].to_numpy()[res.links["exact_row"][res.links["exact_row"] >= 0]])
    assert claimed == uniques
    assert res.exact_claimed == res.exact_correct == res.n_sample_unique == len(uniques)
    assert res.n_sample_unique == rc.uniqueness(ext, list(f)).n_unique
    assert res.exact_precision == 1.0


def test_exact_attack_matches_reference_on_noisy_data(cohort):
    ext = synthetic.tier_extract(cohort, 1)
    f, aux, ext = linking_view(auxiliary_table(cohort, "social_media", rng=7), ext)
    res = linkage_attack(ext, aux, f, probabilistic=False)
    claimed, correct, claims = _reference_exact(ext, aux, f)
    assert (res.exact_claimed, res.exact_correct) == (claimed, correct)
    assert res.links["exact_row"].tolist() == claims
    fr = res.to_frame().iloc[0]
    assert fr["precision"] == pytest.approx(correct / claimed)
    assert fr["recall"] == pytest.approx(correct / res.n_targets)


_small = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 3), st.booleans()), min_size=1, max_size=40
)


@settings(max_examples=60, deadline=None)
@given(
    _small,
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 60)), min_size=1, max_size=40
    ),
)
def test_exact_attack_property(ext_rows, aux_rows):
    ext = pd.DataFrame(ext_rows, columns=["a", "b", "c"]).assign(id=lambda d: np.arange(len(d)))
    aux = pd.DataFrame(aux_rows, columns=["a", "b", "id"])
    res = linkage_attack(
        ext, aux, ["a", "b"], extract_id="id", auxiliary_id="id", probabilistic=False
    )
    claimed, correct, claims = _reference_exact(ext, aux, ["a", "b"], "id", "id")
    assert (res.exact_claimed, res.exact_correct) == (claimed, correct)
    assert res.n_targets == int(aux["id"].isin(ext["id"]).sum())
    fk = Counter(zip(ext["a"], ext["b"]))
    in_ext = aux["id"].isin(ext["id"])
    true_keys = [(ext["a"][i], ext["b"][i]) for i in aux["id"][in_ext]]
    assert res.n_sample_unique == sum(fk[k] == 1 for k in true_keys)
    assert res.n_fk_below_5 == sum(fk[k] < 5 for k in true_keys)
    assert res.expected_prosecutor == pytest.approx(sum(1 / fk[k] for k in true_keys))


# ------------------------------------------------------------------------------ probabilistic
@pytest.fixture(scope="module")
def tier1_attack(cohort):
    ext = synthetic.tier_extract(cohort, 1)
    f, aux, ext = linking_view(auxiliary_table(cohort, "social_media", rng=3), ext)
    res = linkage_attack(
        ext,
        aux,
        f,
        comparisons=_kinds(f),
        seed=1,
        sensitive=["fsm_eligible", "sen_provision", "looked_after"],
    )
    return ext, aux, f, res


def test_probabilistic_counts_match_a_direct_count(tier1_attack):
    ext, aux, f, res = tier1_attack
    ref = _reference_counts(res.links, res.thresholds)
    assert list(zip(res.claimed, res.correct)) == ref
    # the truth: the best candidate is correct when it is the pupil's own record
    ids = ext["pupil_id"].to_numpy()
    links = res.links
    for best, true, truth in zip(links["best_row"], links["true_row"], aux["pupil_id"]):
        assert (best >= 0 and ids[best] == truth) == (best >= 0 and best == true)
    frame = res.to_frame()
    prob = frame[frame["attack"] == "probabilistic"]
    exp_p = [c / k if k else np.nan for k, c in ref]
    np.testing.assert_allclose(prob["precision"].to_numpy(), exp_p)
    np.testing.assert_allclose(prob["recall"].to_numpy(), [c / res.n_targets for _, c in ref])
    assert (np.diff(prob["claimed"].to_numpy()) <= 0).all()
    assert res.reidentified > 0


def test_attribute_and_calibration_tables(tier1_attack):
    ext, aux, f, res = tier1_attack
    att = res.attributes
    assert set(att["sensitive"]) == {"fsm_eligible", "sen_provision", "looked_after"}
    links = res.links
    ref = links[(links["best_row"] >= 0) & (links["best_probability"] >= 0.5 - 1e-12)]
    wrong = ref[ref["best_row"] != ref["true_row"]]
    row = att[(att["sensitive"] == "fsm_eligible") & att["attack"].str.startswith("prob")].iloc[0]
    assert row["claimed"] == len(ref) and row["wrong"] == len(wrong)
    fsm = ext["fsm_eligible"].to_numpy()
    assert row["correct_flagged"] == int(
        sum(fsm[b] for b, t in zip(ref["best_row"], ref["true_row"]) if b == t)
    )
    assert row["wrong_value_differs"] == int(
        sum(fsm[b] != fsm[t] for b, t in zip(wrong["best_row"], wrong["true_row"]) if t >= 0)
    )
    cal = res.calibration
    fk = cal[cal["model"] == "fk"]
    assert fk["n"].sum() == res.n_targets
    lk = cal[cal["model"] == "linkage"]
    assert lk["n"].sum() == int((links["best_row"] >= 0).sum())
    assert lk["n_correct"].sum() == int(
        (links["best_row"] == links["true_row"]).sum()
        - ((links["best_row"] < 0) & (links["true_row"] < 0)).sum()
    )


def test_probabilistic_is_byte_identical(cohort, tier1_attack):
    ext, aux, f, res = tier1_attack
    again = linkage_attack(
        ext,
        aux,
        f,
        comparisons=_kinds(f),
        seed=1,
        sensitive=["fsm_eligible", "sen_provision", "looked_after"],
    )
    for a, b in (
        (res.to_frame(), again.to_frame()),
        (res.calibration, again.calibration),
        (res.attributes, again.attributes),
        (res.prediction_frame(), again.prediction_frame()),
    ):
        assert a.to_csv(index=False).encode() == b.to_csv(index=False).encode()
    assert "LinkageAttackResult(targets=" in repr(res)


def test_more_noise_never_raises_recall():
    cohort = synthetic.generate_cohort(1500, rng=12)
    ext1 = synthetic.tier_extract(cohort, 1)
    base = profile("social_media").with_(coverage=0.3)
    scales = (0.0, 1.0, 2.5)

    def noisy(scale):
        return base.with_(
            **{
                r: min(1.0, getattr(base, r) * scale)
                for r in (
                    "nickname_rate",
                    "misspelling_rate",
                    "wrong_year_rate",
                    "former_school_rate",
                    "moved_rate",
                    "missing_rate",
                )
            }
        )

    # exact attack: many seeds (cheap)
    exact = {s: [] for s in scales}
    for seed in range(6):
        for s in scales:
            f, aux, ext = linking_view(auxiliary_table(cohort, noisy(s), rng=seed), ext1)
            exact[s].append(linkage_attack(ext, aux, f, probabilistic=False).exact_recall)
    means = [np.mean(exact[s]) for s in scales]
    assert means[0] >= means[1] >= means[2]
    # probabilistic attack at a fixed threshold: two seeds
    prob = {s: [] for s in (0.0, 2.5)}
    for seed in range(2):
        for s in prob:
            f, aux, ext = linking_view(auxiliary_table(cohort, noisy(s), rng=seed), ext1)
            r = linkage_attack(ext, aux, f, comparisons=_kinds(f), seed=seed)
            prob[s].append(r.correct[r.thresholds.index(0.5)] / r.n_targets)
    assert np.mean(prob[0.0]) >= np.mean(prob[2.5])


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"fields": ["nope"]}, "nope"),
        ({"fields": []}, "'fields'"),
        ({"thresholds": [0]}, "'thresholds'"),
        ({"thresholds": "x"}, "'thresholds'"),
        ({"reference_threshold": 2}, "'reference_threshold'"),
        ({"comparisons": {"a": "fuzzy"}}, "'comparisons'"),
        ({"comparisons": {"zz": "exact"}}, "'comparisons'"),
        ({"blocking": [["zz"]]}, "'blocking'"),
        ({"extract_id": "zz"}, "zz"),
        ({"bins": 0}, "'bins'"),
        ({"probabilistic": "yes"}, "'probabilistic'"),
    ],
)
def test_bad_inputs_one_line(kwargs, match):
    ext = pd.DataFrame({"id": [1, 2, 3], "a": [1, 1, 2]})
    aux = pd.DataFrame({"id": [1, 3], "a": [1, 2]})
    args = {"fields": ["a"], "extract_id": "id", "auxiliary_id": "id", "probabilistic": False}
    args.update(kwargs)
    fields = args.pop("fields")
    with pytest.raises(rc.RiskCalcError, match=match) as info:
        linkage_attack(ext, aux, fields, **args)
    assert "\n" not in str(info.value)


def test_bad_tables_one_line():
    ext = pd.DataFrame({"id": [1, 1], "a": [1, 2]})
    with pytest.raises(rc.InvalidParameterError, match="distinct"):
        linkage_attack(ext, ext, ["a"], extract_id="id", auxiliary_id="id", probabilistic=False)
    with pytest.raises(rc.EmptyTableError):
        linkage_attack(
            ext.iloc[:0], ext, ["a"], extract_id="id", auxiliary_id="id", probabilistic=False
        )
    with pytest.raises(rc.InvalidParameterError, match="DataFrame"):
        linkage_attack([1], ext, ["a"], probabilistic=False)


def test_missing_splink_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "splink", None)
    ext = pd.DataFrame({"id": [1, 2, 3], "a": [1, 1, 2], "b": [1, 2, 3]})
    with pytest.raises(MissingDependencyError, match=r"riskcalc\[linkage\]") as info:
        linkage_attack(ext, ext, ["a", "b"], extract_id="id", auxiliary_id="id")
    assert "\n" not in str(info.value)
    # the exact attack needs no Splink
    assert (
        linkage_attack(
            ext, ext, ["a", "b"], extract_id="id", auxiliary_id="id", probabilistic=False
        ).exact_correct
        == 3
    )
