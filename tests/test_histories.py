"""History measures (riskcalc.histories) against slow, obvious references on small panels."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskcalc.exceptions import InvalidParameterError, MissingColumnError
from riskcalc.histories import (
    _choose_points,
    history_attribute_disclosure,
    linkage_risk,
    point_matches,
    points_singled_out,
    trajectories,
    trajectory_uniqueness,
)


def random_panel(
    seed: int, n: int, years: int, n_places: int, p_absent: float = 0.2
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        sex = rng.integers(0, 2)
        mob = rng.integers(1, 4)
        place = rng.integers(0, n_places)
        for y in range(years):
            if rng.random() < p_absent:
                continue
            if rng.random() < 0.3:
                place = rng.integers(0, n_places)
            rows.append(
                {
                    "pupil_id": f"P{i:04d}",
                    "academic_year": 2019 + y,
                    "census": "spring",
                    "urn": int(100 + place),
                    "sex": "MF"[sex],
                    "month_of_birth": int(mob),
                }
            )
    if not rows:
        rows.append(
            {
                "pupil_id": "P0",
                "academic_year": 2019,
                "census": "spring",
                "urn": 100,
                "sex": "M",
                "month_of_birth": 1,
            }
        )
    return pd.DataFrame(rows)


def histories(panel, point="urn"):
    """pupil -> {year: place}: the obvious representation."""
    out = {}
    for r in panel.itertuples():
        out.setdefault(r.pupil_id, {})[r.academic_year] = getattr(r, point)
    return out


panels = st.builds(
    random_panel, st.integers(0, 10**6), st.integers(1, 40), st.integers(1, 5), st.integers(1, 6)
)


@settings(max_examples=40, deadline=None)
@given(panels, st.sampled_from(["forward", "backward"]), st.booleans())
def test_trajectory_uniqueness_matches_reference(panel, order, with_static):
    static = ("sex", "month_of_birth") if with_static else ()
    res = trajectory_uniqueness(panel, "urn", static=static, order=order)
    hist = histories(panel)
    first = panel.groupby("pupil_id").first()
    years = sorted(panel["academic_year"].unique())
    for k, n_p, n_u in zip(res.n_linked, res.n_pupils, res.n_unique):
        ys = years[:k] if order == "forward" else years[-k:]
        keys = {}
        for pid, h in hist.items():
            if not any(y in h for y in ys):
                continue
            st_part = tuple(first.loc[pid, list(static)]) if static else ()
            keys[pid] = st_part + tuple(h.get(y, None) for y in ys)
        count = Counter(keys.values())
        assert n_p == len(keys)
        assert n_u == sum(1 for v in keys.values() if count[v] == 1)
    if order == "forward":  # linking more censuses only splits classes
        assert list(res.n_unique) == sorted(res.n_unique)


@settings(max_examples=40, deadline=None)
@given(panels, st.integers(0, 2**31))
def test_point_matches_matches_reference(panel, seed):
    tr = trajectories(panel, "urn")
    rng = np.random.default_rng(seed)
    chosen = tr.observed & (rng.random(tr.codes.shape) < 0.5)
    got = point_matches(tr.codes, chosen)
    for i in range(tr.n_pupils):  # slow reference: compare every pair of pupils
        cols = np.flatnonzero(chosen[i])
        if len(cols) == 0:
            assert got[i] == 0
            continue
        want = sum(all(tr.codes[j, c] == tr.codes[i, c] for c in cols) for j in range(tr.n_pupils))
        assert got[i] == want


@settings(max_examples=30, deadline=None)
@given(
    panels,
    st.integers(1, 4),
    st.sampled_from(["random", "first", "first_last"]),
    st.integers(0, 99),
)
def test_chosen_points_are_p_observed_censuses(panel, p, how, seed):
    tr = trajectories(panel, "urn")
    obs = tr.observed
    eligible, chosen = _choose_points(obs, p, how, np.random.default_rng(seed))
    assert (eligible == (obs.sum(axis=1) >= p)).all()
    assert (chosen.sum(axis=1)[eligible] == p).all() and not chosen[~eligible].any()
    assert not (chosen & ~obs).any()
    for i in np.flatnonzero(eligible):
        seen = np.flatnonzero(obs[i])
        cols = np.flatnonzero(chosen[i])
        if how == "first":
            assert (cols == seen[:p]).all()
        elif how == "first_last":
            want = sorted(
                set(seen[: (p + 1) // 2]) | set(seen[len(seen) - p // 2 :] if p // 2 else [])
            )
            assert list(cols) == want


def test_points_first_last_equals_reference():
    panel = random_panel(3, 200, 5, 4, p_absent=0.1)
    res = points_singled_out(panel, p=2, how="first_last")
    hist = histories(panel)
    singled = eligible = 0
    for _pid, h in hist.items():
        ys = sorted(h)
        if len(ys) < 2:
            continue
        eligible += 1
        pts = [(ys[0], h[ys[0]]), (ys[-1], h[ys[-1]])]
        n = sum(all(o.get(y) == x for y, x in pts) for o in hist.values())
        singled += n == 1
    assert res.n_eligible == (eligible,) and res.n_singled_out == (singled,)


def test_random_points_are_reproducible_and_grow_with_p():
    panel = random_panel(5, 400, 5, 30, p_absent=0.05)
    a = points_singled_out(panel, p=(1, 2, 3, 4), how="random", rng=7)
    b = points_singled_out(panel, p=(1, 2, 3, 4), how="random", rng=7)
    assert a == b and a.seed == 7
    share = a.to_frame()["singled_out_share"].to_numpy()
    assert (np.diff(share) >= -0.02).all() and share[-1] > share[0]
    assert "p=1" in repr(a)
    shuffled = panel.sample(frac=1.0, random_state=1)
    assert points_singled_out(shuffled, p=(1, 2, 3, 4), how="random", rng=7) == a  # row order


@settings(max_examples=40, deadline=None)
@given(panels)
def test_linkage_risk_matches_reference(panel):
    res = linkage_risk(panel, stable=("sex", "month_of_birth", "urn"))
    years = sorted(panel["academic_year"].unique())
    assert len(res.pairs) == len(years) - 1
    ok_all = {pid for pid in panel["pupil_id"].unique()}
    present_all = {
        pid for pid, g in panel.groupby("pupil_id") if g["academic_year"].nunique() == len(years)
    }
    for j, (a, b) in enumerate(itertools.pairwise(years)):
        A = panel[panel["academic_year"] == a]
        B = panel[panel["academic_year"] == b]
        key = lambda r: (r.sex, r.month_of_birth, r.urn)
        ca = Counter(key(r) for r in A.itertuples())
        cb = Counter(key(r) for r in B.itertuples())
        who_b = {key(r): r.pupil_id for r in B.itertuples()}
        good = set()
        n11 = n_ok = 0
        for r in A.itertuples():
            k = key(r)
            if ca[k] == 1 and cb.get(k, 0) == 1:
                n11 += 1
                if who_b[k] == r.pupil_id:
                    n_ok += 1
                    good.add(r.pupil_id)
        ok_all &= good
        assert res.n_records[j] == len(A) and res.n_one_to_one[j] == n11
        assert res.n_correct[j] == n_ok and res.n_wrong[j] == n11 - n_ok
    if len(years) > 1:
        assert res.n_chain_correct == len(ok_all & present_all)
    assert res.n_pupils_all == len(present_all)


@settings(max_examples=40, deadline=None)
@given(panels, st.integers(0, 10**6))
def test_history_attribute_disclosure_matches_reference(panel, seed):
    rng = np.random.default_rng(seed)
    panel = panel.assign(fsm=rng.random(len(panel)) < 0.3)
    res = history_attribute_disclosure(panel, "urn", "fsm", static=("sex",))
    hist, fsm = histories(panel), histories(panel, "fsm")
    sex = panel.groupby("pupil_id")["sex"].first()
    years = sorted(panel["academic_year"].unique())
    for k, n_p, n_r, n_u in zip(res.n_linked, res.n_pupils, res.n_revealed, res.n_unique):
        ys = years[:k]
        q = {
            pid: (sex[pid],) + tuple(h.get(y) for y in ys)
            for pid, h in hist.items()
            if any(y in h for y in ys)
        }
        a = {pid: tuple(fsm[pid].get(y) for y in ys) for pid in q}
        classes = {}
        for pid, key in q.items():
            classes.setdefault(key, []).append(pid)
        revealed = sum(
            1
            for pid, key in q.items()
            if len(classes[key]) >= 2 and len({a[j] for j in classes[key]}) == 1
        )
        assert n_p == len(q) and n_r == revealed
        assert n_u == sum(1 for key in q.values() if len(classes[key]) == 1)


def test_on_a_synthetic_panel_histories_identify():
    from synthetic import generate_panel

    panel = generate_panel(20_000, years=4, rng=3)
    ss = panel[panel["nc_year"].cat.codes >= 7]
    res = trajectory_uniqueness(ss, "urn", static=("sex", "year_of_birth", "month_of_birth"))
    frame = res.to_frame()
    assert list(frame["n_linked"]) == [1, 2, 3, 4]
    assert frame["unique_share"].is_monotonic_increasing
    link = linkage_risk(panel)
    assert link.n_chain_correct <= link.n_pupils_all
    assert "separate releases" in repr(link) and len(link.to_frame()) == 3


def test_bad_input_is_one_clear_line():
    panel = random_panel(1, 10, 2, 3)
    with pytest.raises(MissingColumnError, match="'school'"):
        trajectory_uniqueness(panel, "school")
    with pytest.raises(InvalidParameterError, match="'order'"):
        trajectory_uniqueness(panel, order="sideways")
    with pytest.raises(InvalidParameterError, match="'how'"):
        points_singled_out(panel, how="psychic")
    with pytest.raises(InvalidParameterError, match="'p'"):
        points_singled_out(panel, p=9)
    with pytest.raises(InvalidParameterError, match="'rng'"):
        points_singled_out(panel, rng="seven")
    with pytest.raises(InvalidParameterError, match="more than one row"):
        trajectory_uniqueness(pd.concat([panel, panel]))
    with pytest.raises(InvalidParameterError, match="'panel'"):
        linkage_risk([1, 2, 3])
