"""Collusion and breaches (riskcalc.release.collusion) against a slow obvious reference.

The reference loops over children and coalitions with dicts of tuples (the definition of
riskcalc.release.exposure carried to a coalition: the PMR releases of all members are one
record set); it shares with the fast path only the documented sample draws.
"""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_exposure import (
    _BOTTOM,
    FIELDS,
    SCENARIO,
    SLOW,
    YEARS,
    _hand_ledger,
    _las,
    _ledger,
    _panel,
    _value,
    held_rows,
    ledgers,
)

import riskcalc as rc
from riskcalc.exceptions import InvalidParameterError
from riskcalc.release.collusion import _Pooled, coalition_singled, collusion_of_engine
from riskcalc.release.exposure import _Engine


# ------------------------------------------------------------------------------------------
# the slow obvious reference
# ------------------------------------------------------------------------------------------
class Reference:
    """Who each coalition of recipients singles out, by loops over children."""

    def __init__(self, panel: pd.DataFrame, ledger: pd.DataFrame, fields, sample_seed=0):
        self.fields = tuple(fields)
        ids = sorted(set(panel["pupil_id"].tolist()))
        self.rows = {
            (rec["pupil_id"], (int(rec["academic_year"]), "spring")): rec
            for rec in panel.to_dict("records")
        }
        self.releases = ledger.to_dict("records")
        self.held = [held_rows(self.rows, ids, rel, sample_seed) for rel in self.releases]
        self.recipients = sorted({r["recipient"] for r in self.releases})

    def group(self, g: list[int]) -> set:
        """Children singled out by the joined group of release indices ``g``."""
        rels, held, fields = self.releases, self.held, self.fields
        gs = [i for i in g if set(rels[i]["fields"]) & set(fields)]
        records = {pid for i in gs for pid, _ in held[i]}
        times = sorted({t for i in gs for _, t in held[i]})
        cells = sorted(
            {(t, f) for i in gs for _, t in held[i] for f in fields if f in rels[i]["fields"]}
        )
        keys = {}
        for pid in records:
            member = tuple((pid, t) in held[i] for i in gs for t in times)
            vals = tuple(
                _value(self.rows[(pid, t)][f])
                if any((pid, t) in held[i] and f in rels[i]["fields"] for i in gs)
                else _BOTTOM
                for t, f in cells
            )
            keys[pid] = (member, vals)
        counts = Counter(keys.values())
        return {pid for pid, key in keys.items() if counts[key] == 1}

    def coalition(self, names) -> set:
        """Children singled out by the coalition ``names``: all members' PMR releases pooled,
        each member's aPMR releases, each 'none' release."""
        rels = self.releases
        mine = [i for i, r in enumerate(rels) if r["recipient"] in set(names)]
        groups = [[i for i in mine if rels[i]["reference"] == "pmr"]]
        for name in names:
            groups.append(
                [i for i in mine if rels[i]["recipient"] == name and rels[i]["reference"] == "apmr"]
            )
        groups += [[i] for i in mine if rels[i]["reference"] == "none"]
        out: set = set()
        for g in groups:
            if g:
                out |= self.group(g)
        return out

    def greedy(self, n_candidates: int, k_max: int) -> list[tuple[list[str], int]]:
        """The greedy coalitions of sizes 1..k_max among the candidates (ties: own count, name)."""
        own = {r: len(self.coalition([r])) for r in self.recipients}
        pool = sorted(self.recipients, key=lambda r: (-own[r], r))[:n_candidates]
        members: list[str] = []
        out = []
        for _ in range(k_max):
            best = min(
                (r for r in pool if r not in members),
                key=lambda r: (-len(self.coalition([*members, r])), pool.index(r)),
            )
            members.append(best)
            out.append((list(members), len(self.coalition(members))))
        return out


def _greedy_ledger(las):
    """Five recipients whose PMR releases single out more together than apart."""
    return _ledger(
        [
            ("r1", "uni", ("urn", "nc_year"), (2019,), (), "all", "pmr"),
            ("r2", "uni", ("sex",), (2020,), (), "all", "pmr"),
            ("r3", "firm", ("month_of_birth",), (2019, 2020), (), "all", "pmr"),
            ("r4", "firm", ("urn", "sex"), (2021,), ("6", "7"), "all", "none"),
            ("r5", "paper", ("urn", "sex"), (2019,), (), "sample:0.3", "apmr"),
            ("r6", "paper", ("year_of_birth",), (2019, 2021), (), "all", "pmr"),
            ("r7", "charity", ("urn",), (2020, 2021), (), f"las:{las[0]}", "pmr"),
            ("r8", "charity", ("sex", "month_of_birth"), (2021,), (), "all", "apmr"),
            ("r9", "press", ("urn",), YEARS, (), "aggregate", "none"),
            ("r10", "press", ("nc_year", "sex"), (2019,), (), "all", "pmr"),
        ]
    )


@st.composite
def coalition_ledgers(draw, las):
    """Ledgers where pooling matters: up to four recipients, mostly PMR releases of a few
    scenario fields each (the shared ``ledgers`` strategy rarely gives two recipients PMR
    records on the scenario), and any population, year group or reference."""
    n = draw(st.integers(3, 8))
    rows = []
    for i in range(n):
        fields = tuple(
            draw(st.sets(st.sampled_from(SCENARIO + ("la_code",)), min_size=1, max_size=2))
        )
        years = tuple(sorted(draw(st.sets(st.sampled_from(YEARS), min_size=1))))
        groups = tuple(draw(st.sets(st.sampled_from(["R", 0, "3", 6, "7", 10]), max_size=2)))
        pop = draw(
            st.sampled_from(["all", "all", "all", "sample:0.5", f"las:{las[0]}", "aggregate"])
        )
        ref = draw(st.sampled_from(["pmr", "pmr", "pmr", "apmr", "none"]))
        rows.append((f"r{i}", draw(st.sampled_from("abcd")), fields, years, groups, pop, ref))
    return _ledger(rows)


scenarios = st.sets(st.sampled_from((*SCENARIO, "la_code")), min_size=2, max_size=6).map(
    lambda s: tuple(sorted(s))
)
any_fields = st.sets(st.sampled_from(FIELDS), min_size=1, max_size=5).map(
    lambda s: tuple(sorted(s))
)


def _engine(panel, ledger, fields, sample_seed=0):
    return _Engine.build(panel, ledger, list(fields), "test", sample_seed=sample_seed)


def _ids(eng, mask) -> set:
    return set(eng.panel.ids[mask].astype(str).tolist())


def _check_against_reference(panel, ledger, fields, sample_seed=0, candidates=20):
    ref = Reference(panel, ledger, fields, sample_seed)
    eng = _engine(panel, ledger, fields, sample_seed)
    # every coalition of every size
    for size in range(1, len(ref.recipients) + 1):
        for names in itertools.combinations(ref.recipients, size):
            assert _ids(eng, coalition_singled(eng, names)) == ref.coalition(names), names
    n_cand = min(candidates, len(ref.recipients))
    ks = tuple(range(1, n_cand + 1))
    res = rc.collusion_exposure(
        panel, ledger, list(fields), k=ks, candidates=candidates, sample_seed=sample_seed
    )
    greedy = ref.greedy(n_cand, n_cand)
    frame = res.frame
    assert frame["k"].tolist() == [*ks, len(ref.recipients)]
    for (members, count), row in zip(greedy, frame.iloc[:-1].to_dict("records"), strict=True):
        assert row["recipients"] == "; ".join(members)
        assert row["n_singled_out"] == count
    last = frame.iloc[-1]
    assert last["recipients"] == "all recipients"
    assert last["n_singled_out"] == len(ref.coalition(ref.recipients))
    return res, ref


# ------------------------------------------------------------------------------------------
# against the reference
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("ledger", [_hand_ledger, _greedy_ledger])
def test_coalitions_equal_the_reference(seed, ledger):
    panel = _panel(seed)
    res, ref = _check_against_reference(panel, ledger(_las(panel)), SCENARIO)
    # pooling on the PMR adds children no member singles out alone
    assert (res.frame["gain"] > 0).any()


@SLOW
@given(data=st.data(), seed=st.sampled_from([0, 1]))
def test_random_ledgers_equal_the_reference(data, seed):
    panel = _panel(seed)
    if data.draw(st.integers(0, 3)) == 0:
        ledger, fields = data.draw(ledgers(_las(panel))), data.draw(any_fields)
    else:
        ledger, fields = data.draw(coalition_ledgers(_las(panel))), data.draw(scenarios)
    sample_seed = data.draw(st.integers(0, 3))
    candidates = data.draw(st.integers(1, 5))
    _check_against_reference(panel, ledger, fields, sample_seed, candidates)


@SLOW
@given(data=st.data())
def test_the_pooled_increment_equals_one_joint_group(data):
    """Folding the PMR releases in one at a time, in any order, in any batches, gives the
    engine's class sizes of the whole group computed at once."""
    panel = _panel(0)
    ledger = data.draw(coalition_ledgers(_las(panel)))
    ledger["reference"] = "pmr"
    fields = data.draw(scenarios)
    eng = _engine(panel, ledger, fields)
    rels = [r for r in eng.releases if r.population != "aggregate"]
    order = data.draw(st.permutations(rels))
    cuts = sorted(data.draw(st.sets(st.integers(0, len(order)), max_size=3)))
    pooled = _Pooled(eng)
    for a, b in zip([0, *cuts], [*cuts, len(order)], strict=True):
        pooled = pooled.add(order[a:b])
        expected = eng.singled(order[:b])
        np.testing.assert_array_equal(pooled.done, expected)
        # the records not singled out are exactly the live ones, classes dense
        assert set(pooled.live.tolist()) == set(np.flatnonzero(pooled.rec & ~pooled.done))
        assert pooled.n_classes == (len(np.unique(pooled.cid)) if len(pooled.cid) else 0)


# ------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------
def _props(panel, ledger, fields, candidates=20):
    le = rc.ledger_exposure(panel, ledger, list(fields))
    own = dict(zip(le.per_recipient["recipient"], le.per_recipient["n_singled_out"], strict=True))
    n_cand = min(candidates, len(own))
    res = rc.collusion_exposure(
        panel, ledger, list(fields), k=tuple(range(1, n_cand + 1)), candidates=candidates
    )
    frame = res.frame
    # breach: ledger_exposure's count per recipient, most exposing first
    assert dict(zip(res.breach["recipient"], res.breach["n_singled_out"], strict=True)) == own
    held = dict(zip(le.per_recipient["recipient"], le.per_recipient["n_held"], strict=True))
    assert dict(zip(res.breach["recipient"], res.breach["n_held"], strict=True)) == held
    assert res.breach["n_singled_out"].is_monotonic_decreasing
    pool = res.breach["recipient"].tolist()[:n_cand]
    # k = 1 is the best single recipient among the candidates
    assert frame.iloc[0]["n_singled_out"] == max(own[r] for r in pool)
    counts = frame["n_singled_out"].tolist()
    for row in frame.iloc[:-1].to_dict("records"):
        members = row["recipients"].split("; ")
        assert len(members) == row["k"] and set(members) <= set(pool)
        # a coalition singles out at least what each member does alone
        assert all(row["n_singled_out"] >= own[m] for m in members)
        assert row["n_singled_out_best_member"] == max(own[m] for m in members)
        assert row["gain"] == row["n_singled_out"] - row["n_singled_out_best_member"] >= 0
    # adding a member never lowers the count (the greedy coalitions are nested)
    assert counts[:-1] == sorted(counts[:-1])
    # every recipient pooled singles out at least any coalition
    assert counts[-1] >= max(counts[:-1])
    assert counts[-1] >= max(own.values())
    return res, own


@SLOW
@given(data=st.data(), seed=st.sampled_from([0, 1]))
def test_coalition_properties(data, seed):
    panel = _panel(seed)
    ledger = data.draw(coalition_ledgers(_las(panel)))
    fields = data.draw(scenarios)
    _props(panel, ledger, fields, candidates=data.draw(st.integers(1, 5)))


@SLOW
@given(data=st.data())
def test_adding_a_member_never_lowers_a_coalition(data):
    panel = _panel(0)
    ledger = data.draw(coalition_ledgers(_las(panel)))
    fields = data.draw(scenarios)
    eng = _engine(panel, ledger, fields)
    names = data.draw(st.permutations(eng.recipients))
    cut = data.draw(st.integers(0, len(names) - 1))
    small = coalition_singled(eng, names[:cut]) if cut else np.zeros(eng.panel.n, bool)
    large = coalition_singled(eng, names[: cut + 1])
    assert not (small & ~large).any()  # every child the smaller one singles out, and more


def _exhaustive(eng, size):
    return max(
        int(coalition_singled(eng, names).sum())
        for names in itertools.combinations(eng.recipients, size)
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_is_a_lower_bound_on_the_worst_coalition(seed):
    panel = _panel(seed)
    ledger = _greedy_ledger(_las(panel))
    eng = _engine(panel, ledger, SCENARIO)
    n_rec = len(eng.recipients)
    res = rc.collusion_exposure(panel, ledger, list(SCENARIO), k=tuple(range(1, n_rec + 1)))
    worst = {size: _exhaustive(eng, size) for size in range(1, n_rec + 1)}
    for row in res.frame.iloc[:-1].to_dict("records"):
        assert row["n_singled_out"] <= worst[row["k"]]
    # where it must be exact: one recipient (the best alone), every recipient (one coalition)
    assert res.frame.iloc[0]["n_singled_out"] == worst[1]
    assert res.frame.iloc[n_rec - 1]["n_singled_out"] == worst[n_rec]
    assert res.frame.iloc[-1]["n_singled_out"] == worst[n_rec]


@SLOW
@given(data=st.data())
def test_greedy_never_exceeds_the_exhaustive_worst(data):
    panel = _panel(1)
    ledger = data.draw(coalition_ledgers(_las(panel)))
    fields = data.draw(scenarios)
    eng = _engine(panel, ledger, fields)
    n_rec = len(eng.recipients)
    res = rc.collusion_exposure(panel, ledger, list(fields), k=tuple(range(1, n_rec + 1)))
    for row in res.frame.iloc[:-1].to_dict("records"):
        assert row["n_singled_out"] <= _exhaustive(eng, row["k"])
    assert res.frame.iloc[0]["n_singled_out"] == _exhaustive(eng, 1)


def test_recipients_without_pmr_add_their_masks():
    """With no PMR release, nothing is pooled: a coalition singles out the union of what its
    members single out alone."""
    panel = _panel(0)
    ledger = _hand_ledger(_las(panel))
    ledger["reference"] = ledger["reference"].replace({"pmr": "none"})
    eng = _engine(panel, ledger, SCENARIO)
    alone = {r: coalition_singled(eng, [r]) for r in eng.recipients}
    for names in itertools.combinations(eng.recipients, 2):
        expected = alone[names[0]] | alone[names[1]]
        np.testing.assert_array_equal(coalition_singled(eng, names), expected)


def test_sizes_above_the_recipients_are_skipped_and_said():
    panel = _panel(0)
    ledger = _hand_ledger(_las(panel))  # four recipients
    res = rc.collusion_exposure(panel, ledger, list(SCENARIO))
    assert res.k == (1, 2, 3) and res.k_skipped == (5,)
    assert res.frame["k"].tolist() == [1, 2, 3, 4]
    text = repr(res)
    assert "sizes skipped (fewer recipients): 5" in text and "lower bound" in text
    assert res.n_candidates == 4 and res.n_recipients == 4
    assert res.to_frame().equals(res.frame)
    assert list(res.breach.columns) == [
        "recipient",
        "recipient_type",
        "n_releases",
        "n_held",
        "n_singled_out",
        "share_singled_out",
    ]
    assert res.breach.set_index("recipient").loc["paper", "n_releases"] == 3


def test_deterministic_and_row_order_free():
    panel = _panel(2)
    ledger = _greedy_ledger(_las(panel))
    a = rc.collusion_exposure(panel, ledger, list(SCENARIO), k=(1, 2, 3))
    b = rc.collusion_exposure(
        panel.sample(frac=1, random_state=3), ledger.iloc[::-1], list(SCENARIO), k=(3, 1, 2)
    )
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_frame_equal(a.breach, b.breach)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"k": 0}, "'k'"),
        ({"k": True}, "Got bool."),
        ({"k": None}, "Got NoneType."),
        ({"k": ()}, "'k'"),
        ({"k": "3"}, "'k'"),
        ({"k": (1, 2.5)}, "'k'"),
        ({"k": (1, 5), "candidates": 3}, "at most 'candidates'"),
        ({"candidates": 0}, "'candidates'"),
        ({"candidates": "many"}, "'candidates'"),
    ],
)
def test_bad_k_and_candidates_get_one_line(kwargs, message):
    panel = _panel(0)
    with pytest.raises(InvalidParameterError) as err:
        rc.collusion_exposure(panel, _hand_ledger(_las(panel)), list(SCENARIO), **kwargs)
    text = str(err.value)
    assert message in text and "\n" not in text and "collusion_exposure" in text


def test_an_engine_shared_with_ledger_exposure_computes_no_record_set_twice():
    panel = _panel(0)
    ledger = _greedy_ledger(_las(panel))
    eng = _engine(panel, ledger, SCENARIO)
    for name in eng.recipients:  # what ledger_exposure computes
        eng.recipient_singled(eng.by_recipient[name])
    cached = dict(eng._cache)
    shared = collusion_of_engine(eng, k=(1, 2, 3))
    assert eng._cache.keys() == cached.keys()  # only the pooled PMR sets are new work
    alone = rc.collusion_exposure(panel, ledger, list(SCENARIO), k=(1, 2, 3))
    pd.testing.assert_frame_equal(shared.frame, alone.frame)
    pd.testing.assert_frame_equal(shared.breach, alone.breach)


def test_greedy_can_miss_the_worst_coalition():
    """Why the figure is a lower bound: B and C single out little alone and much together
    (pooled on the PMR), so greedy, starting from A (the worst alone), never pairs them."""
    panel = _panel(0)
    ledger = _ledger(
        [
            ("a1", "A", ("urn", "sex", "nc_year"), (2019,), (), "all", "none"),
            ("b1", "B", ("urn", "month_of_birth"), (2019,), (), "all", "pmr"),
            ("c1", "C", ("sex", "month_of_birth"), (2020,), (), "all", "pmr"),
        ]
    )
    eng = _engine(panel, ledger, SCENARIO)
    ref = Reference(panel, ledger, SCENARIO)
    alone = {r: len(ref.coalition([r])) for r in "ABC"}
    pair = len(ref.coalition(["B", "C"]))
    assert alone["A"] > max(alone["B"], alone["C"]) and pair > alone["B"] + alone["C"]
    res = rc.collusion_exposure(panel, ledger, list(SCENARIO), k=(1, 2))
    greedy = res.frame.iloc[1]
    assert greedy["recipients"].startswith("A; ")
    assert greedy["n_singled_out"] < pair == _exhaustive(eng, 2)
