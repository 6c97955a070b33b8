"""The release ledger's exposure (riskcalc.release.exposure) against a slow obvious reference.

The reference loops over children and recipients with dicts of tuples; it shares with the fast
path only the documented definition of a sample release's draws (``sample_draws``).
"""

from __future__ import annotations

import functools
import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskcalc as rc
import synthetic
from riskcalc.release.exposure import sample_draws

FIELDS = (
    "sex",
    "year_of_birth",
    "month_of_birth",
    "nc_year",
    "urn",
    "la_code",
    "ethnic_group_major",
    "fsm_eligible",
    "sen_provision",
    "postcode_district",
    "ks2_reading",
)
COLUMNS = [*FIELDS, "region"]
YEARS = (2019, 2020, 2021)


@functools.lru_cache(maxsize=4)
def _panel(seed: int, n: int = 2_000) -> pd.DataFrame:
    return synthetic.generate_panel(n, years=3, first_year=2019, rng=seed, columns=COLUMNS)


def _las(panel: pd.DataFrame) -> list[str]:
    return sorted(panel["la_code"].astype(str).unique().tolist())


# ------------------------------------------------------------------------------------------
# the slow obvious reference
# ------------------------------------------------------------------------------------------
_NA = ("<missing>",)
_BOTTOM = ("<not held>",)


def _value(v):
    return _NA if pd.isna(v) else v


def held_rows(rows: dict, ids: list, rel, sample_seed: int = 0) -> set:
    """The (pupil, census) rows a release holds, by a loop over the rows (the reference of
    the engine's held masks; ``rows`` maps (pupil, (year, census)) to the row)."""
    index = {p: i for i, p in enumerate(ids)}
    pop = rel["population"]
    if pop == "aggregate":
        return set()
    draws = None
    if pop.startswith("sample:"):
        draws = sample_draws(str(rel["release_id"]), len(ids), sample_seed)
    out = set()
    for (pid, t), rec in rows.items():
        if t[0] not in set(int(y) for y in rel["years"]):
            continue
        # the ledger writes Reception as 0, the panel as "R"
        wanted = {"R" if str(g) in ("0", "R") else str(g) for g in rel["year_groups"]}
        if rel["year_groups"] and str(rec["nc_year"]) not in wanted:
            continue
        if pop.startswith("las:") and str(rec["la_code"]) not in pop[4:].split(","):
            continue
        if draws is not None and not draws[index[pid]] < float(pop[7:]):
            continue
        out.add((pid, t))
    return out


def reference(panel: pd.DataFrame, ledger: pd.DataFrame, fields, sample_seed: int = 0):
    """(per child exposure dict, per recipient (n_held, n_singled_out) dict)."""
    exposure, per_recipient, _, _ = reference_both(panel, ledger, fields, sample_seed)
    return exposure, per_recipient


def reference_both(panel: pd.DataFrame, ledger: pd.DataFrame, fields, sample_seed: int = 0):
    """The unjoined figures of :func:`reference`, then the linked ones: (per child exposure
    with each recipient's record sets all joined, per recipient (n_singled_out_linked,
    link_rate, n_false_links))."""
    ids = sorted(set(panel["pupil_id"].tolist()))
    census = panel["census"].astype(str) if "census" in panel.columns else ["spring"] * len(panel)
    rows: dict[tuple, dict] = {}  # (pupil, (year, census)) -> row
    for rec, cen in zip(panel.to_dict("records"), census):
        rows[(rec["pupil_id"], (int(rec["academic_year"]), str(cen)))] = rec

    releases = ledger.to_dict("records")
    held = [held_rows(rows, ids, r, sample_seed) for r in releases]
    exposure = {p: 0 for p in ids}
    exposure_linked = {p: 0 for p in ids}
    per_recipient, per_recipient_linked = {}, {}

    def singled_by(g) -> set:
        gs = [i for i in g if set(releases[i]["fields"]) & set(fields)]
        records = {pid for i in gs for pid, _ in held[i]}
        times = sorted({t for i in gs for _, t in held[i]})
        cells = sorted(
            {(t, f) for i in gs for _, t in held[i] for f in fields if f in releases[i]["fields"]}
        )
        keys = {}
        for pid in records:
            member = tuple((pid, t) in held[i] for i in gs for t in times)
            vals = []
            for t, f in cells:
                if any((pid, t) in held[i] and f in releases[i]["fields"] for i in gs):
                    vals.append(_value(rows[(pid, t)][f]))
                else:
                    vals.append(_BOTTOM)
            keys[pid] = (member, tuple(vals))
        counts = Counter(keys.values())
        return {pid for pid, k in keys.items() if counts[k] == 1}

    def link_pair(a, b):
        """(children linked correctly, wrong links) between record sets a and b, or None."""

        def cells_of(x):
            return {
                (t, f)
                for i in x
                for _, t in held[i]
                for f in releases[i]["fields"]
                if f in panel.columns and f != "pupil_id"
            }

        shared = cells_of(a) & cells_of(b)
        if not shared:
            return None

        def cover(x, pid):
            return frozenset(
                (t, f)
                for t, f in shared
                if any((pid, t) in held[i] and f in releases[i]["fields"] for i in x)
            )

        rec_a = {pid for i in a for pid, _ in held[i]}
        rec_b = {pid for i in b for pid, _ in held[i]}
        cov_a = {pid: cover(a, pid) for pid in rec_a}
        cov_b = {pid: cover(b, pid) for pid in rec_b}
        correct, wrong = set(), 0
        for pa, pb in {(cov_a[c], cov_b[c]) for c in rec_a & rec_b}:
            common = sorted(pa & pb)

            def key(pid, common=common):
                return tuple(_value(rows[(pid, t)][f]) for t, f in common)

            side_a: dict[tuple, list] = {}
            side_b: dict[tuple, list] = {}
            for pid in rec_a:
                if cov_a[pid] == pa:
                    side_a.setdefault(key(pid), []).append(pid)
            for pid in rec_b:
                if cov_b[pid] == pb:
                    side_b.setdefault(key(pid), []).append(pid)
            for k, xs in side_a.items():
                if len(xs) == 1 and len(side_b.get(k, ())) == 1:
                    x, y = xs[0], side_b[k][0]
                    if x == y:
                        correct.add(x)
                    else:
                        wrong += 1
        return correct, wrong

    for recipient in sorted({r["recipient"] for r in releases}):
        mine = [i for i, r in enumerate(releases) if r["recipient"] == recipient]
        groups = []
        for ref in ("pmr", "apmr"):
            g = [i for i in mine if releases[i]["reference"] == ref]
            if g:
                groups.append(g)
        groups += [[i] for i in mine if releases[i]["reference"] == "none"]
        singled = set()
        for g in groups:
            singled |= singled_by(g)
        n_held = len({pid for i in mine for pid, _ in held[i]})
        per_recipient[recipient] = (n_held, len(singled))
        for pid in singled:
            exposure[pid] += 1
        # the upper bound: every record release of the recipient in one group
        linked = singled_by(mine)
        for pid in linked:
            exposure_linked[pid] += 1
        # linking the record sets (aggregate releases hold no records: no set)
        sets = [g for g in groups if any(releases[i]["population"] != "aggregate" for i in g)]
        records = [{pid for i in g for pid, _ in held[i]} for g in sets]
        n_false, edges = 0, []
        for x in range(len(sets)):
            for y in range(x + 1, len(sets)):
                got = link_pair(sets[x], sets[y])
                if got is not None:
                    edges.append((x, y, got[0]))
                    n_false += got[1]
        multi = [c for c in ids if sum(c in r for r in records) >= 2]
        n_linked = 0
        for c in multi:
            mine_sets = [k for k, r in enumerate(records) if c in r]
            component = {mine_sets[0]}
            grew = True
            while grew:  # the sets the child's correct links reach
                grew = False
                for x, y, ok in edges:
                    if c in ok and (x in component) != (y in component):
                        component |= {x, y}
                        grew = True
            n_linked += set(mine_sets) <= component
        rate = n_linked / len(multi) if multi else float("nan")
        per_recipient_linked[recipient] = (len(linked), rate, n_false)
    return exposure, per_recipient, exposure_linked, per_recipient_linked


def _inverted_cdf(values, q):
    xs = sorted(values)
    return float(xs[max(math.ceil(q * len(xs)) - 1, 0)])


def _same(a, b) -> bool:
    return (isinstance(a, float) and math.isnan(a) and math.isnan(b)) or a == pytest.approx(b)


def _check_against_reference(panel, ledger, fields, sample_seed=0):
    res = rc.ledger_exposure(panel, ledger, list(fields), sample_seed=sample_seed)
    exp, per_rec, exp_linked, per_rec_linked = reference_both(panel, ledger, fields, sample_seed)
    got = dict(zip(res.per_child["pupil_id"], res.per_child["n_recipients"].tolist()))
    assert got == exp
    got_linked = dict(
        zip(res.per_child["pupil_id"], res.per_child["n_recipients_linked"].tolist(), strict=True)
    )
    assert got_linked == exp_linked
    table = res.per_recipient[["recipient", "n_singled_out_linked", "link_rate", "n_false_links"]]
    fast_linked = {r: (s, rate, f) for r, s, rate, f in table.itertuples(index=False)}
    assert fast_linked.keys() == per_rec_linked.keys()
    for r, want in per_rec_linked.items():
        assert fast_linked[r][0] == want[0] and fast_linked[r][2] == want[2], r
        assert _same(fast_linked[r][1], want[1]), r
    linked_values = list(exp_linked.values())
    assert res.median_linked == _inverted_cdf(linked_values, 0.5)
    assert res.p90_linked == _inverted_cdf(linked_values, 0.9)
    assert res.n_at_least_linked == tuple(sum(v >= k for v in linked_values) for k in (1, 5, 20))
    # the two bounds: linking never hides a child
    assert all(exp_linked[p] >= exp[p] for p in exp)
    fast = {
        r: (h, s)
        for r, h, s in res.per_recipient[["recipient", "n_held", "n_singled_out"]].itertuples(
            index=False
        )
    }
    assert fast == per_rec
    values = list(exp.values())
    assert res.median == _inverted_cdf(values, 0.5)
    assert res.p90 == _inverted_cdf(values, 0.9)
    assert res.n_at_least == tuple(sum(v >= k for v in values) for k in (1, 5, 20))
    assert res.n_children == len(values)
    return res


# ------------------------------------------------------------------------------------------
# ledgers
# ------------------------------------------------------------------------------------------
def _ledger(rows) -> pd.DataFrame:
    cols = ["release_id", "recipient", "fields", "years", "year_groups", "population", "reference"]
    frame = pd.DataFrame(rows, columns=cols)
    frame.insert(1, "date", pd.Timestamp("2015-01-01"))
    frame.insert(3, "recipient_type", "university")
    frame.insert(4, "tier", pd.array([1] * len(frame), dtype="Int8"))
    return frame


def _hand_ledger(las):
    return _ledger(
        [
            ("r1", "uni", ("urn", "nc_year", "sex"), (2019,), (), "all", "pmr"),
            ("r2", "uni", ("month_of_birth", "year_of_birth"), (2020, 2021), (), "all", "pmr"),
            ("r3", "firm", ("sex", "month_of_birth", "urn"), (2021,), ("6", "7"), "all", "none"),
            ("r4", "firm", ("postcode_district",), (2019, 2020), (), f"las:{las[0]}", "none"),
            ("r5", "paper", ("urn", "sex"), (2019,), (), "sample:0.3", "apmr"),
            ("r6", "paper", ("year_of_birth", "month_of_birth"), (2019,), (), "sample:0.3", "apmr"),
            ("r7", "paper", ("urn",), (2020,), (), "aggregate", "none"),
            ("r8", "charity", ("ks2_reading", "sen_provision"), YEARS, (), "all", "pmr"),
        ]
    )


SCENARIO = ("urn", "nc_year", "sex", "year_of_birth", "month_of_birth")


def _linking_ledger(las):
    """Recipients holding record sets without a shared reference, sharing cells."""
    rich = ("sex", "month_of_birth", "year_of_birth", "urn", "postcode_district")
    return _ledger(
        [
            ("l1", "lab", (*rich, "ethnic_group_major"), (2019, 2020), (), "all", "pmr"),
            ("l2", "lab", rich, (2020,), (), f"las:{las[0]},{las[1]}", "none"),
            (
                "l3",
                "lab",
                ("ks2_reading", "urn", "sex"),
                (2020, 2021),
                ("6", "7"),
                "sample:0.6",
                "apmr",
            ),
            ("l4", "lab", ("postcode_district", "sex", "urn"), (2020, 2021), (), "all", "none"),
            ("m1", "mill", (*rich, "nc_year"), YEARS, (), "all", "apmr"),
            ("m2", "mill", rich, (2019,), (), "sample:0.5", "none"),
            (
                "m3",
                "mill",
                ("sex", "urn", "year_of_birth"),
                (2019, 2021),
                ("6",),
                f"las:{las[0]}",
                "pmr",
            ),
        ]
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hand_ledger_equals_the_reference(seed):
    panel = _panel(seed)
    res = _check_against_reference(panel, _hand_ledger(_las(panel)), SCENARIO)
    assert res.n_aggregate == 1 and res.n_releases == 8
    # a real exposure: the school-gate fields single out many children
    assert res.n_at_least[0] > 0


@pytest.mark.parametrize("seed", [0, 1])
def test_linking_ledger_equals_the_reference(seed):
    panel = _panel(seed)
    ledger = _linking_ledger(_las(panel))
    res = _check_against_reference(panel, ledger, SCENARIO)
    table = res.per_recipient.set_index("recipient")
    # the case is not trivial: the bounds differ, links are made, some of them wrong
    assert (table["n_singled_out_linked"] > table["n_singled_out"]).all()
    assert ((table["link_rate"] > 0) & (table["link_rate"] < 1)).all()
    assert res.n_at_least_linked[0] > res.n_at_least[0]


@pytest.mark.parametrize("scenario", ["school_gate", "home_area", "classmate_parent"])
def test_built_in_scenarios_equal_the_reference(scenario):
    panel = _panel(0)
    fields = next(s.fields for s in rc.load_scenarios() if s.name == scenario)
    panel = panel.assign(
        lsoa=panel["postcode_district"].astype(str), ethnic_group_minor=panel["ethnic_group_major"]
    )
    ledger = _hand_ledger(_las(panel))
    ledger.loc[1, "fields"] = ("lsoa", "month_of_birth", "ethnic_group_minor")
    res = rc.ledger_exposure(panel, ledger, scenario)
    exp, _ = reference(panel, ledger, fields)
    assert res.scenario == scenario
    assert dict(zip(res.per_child["pupil_id"], res.per_child["n_recipients"])) == exp


@st.composite
def ledgers(draw, las):
    n = draw(st.integers(1, 6))
    rows = []
    for i in range(n):
        fields = tuple(draw(st.sets(st.sampled_from(FIELDS), min_size=1, max_size=4)))
        years = tuple(sorted(draw(st.sets(st.sampled_from(YEARS), min_size=1))))
        groups = tuple(draw(st.sets(st.sampled_from(["R", 0, "3", 6, "7", 10]), max_size=3)))
        pop = draw(
            st.sampled_from(
                [
                    "all",
                    "all",
                    "sample:0.5",
                    "sample:0.2",
                    f"las:{las[0]}",
                    f"las:{','.join(las[:3])}",
                    "aggregate",
                ]
            )
        )
        ref = draw(st.sampled_from(["pmr", "apmr", "none"]))
        rows.append(
            (f"r{i}", draw(st.sampled_from(["a", "a", "b", "c"])), fields, years, groups, pop, ref)
        )
    return _ledger(rows)


SLOW = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@SLOW
@given(data=st.data(), seed=st.sampled_from([0, 1]))
def test_random_ledgers_equal_the_reference(data, seed):
    panel = _panel(seed)
    ledger = data.draw(ledgers(_las(panel)))
    fields = tuple(data.draw(st.sets(st.sampled_from(FIELDS), min_size=1, max_size=5)))
    sample_seed = data.draw(st.integers(0, 3))
    _check_against_reference(panel, ledger, fields, sample_seed)


# ------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------
def _exposure(panel, ledger, fields) -> np.ndarray:
    return rc.ledger_exposure(panel, ledger, list(fields)).per_child["n_recipients"].to_numpy()


@SLOW
@given(data=st.data())
def test_adding_a_release_never_lowers_exposure(data):
    panel = _panel(0)
    las = _las(panel)
    ledger = data.draw(ledgers(las))
    extra = data.draw(ledgers(las)).iloc[[0]].assign(release_id="extra")
    fields = tuple(data.draw(st.sets(st.sampled_from(FIELDS), min_size=1, max_size=5)))
    before = _exposure(panel, ledger, fields)
    after = _exposure(panel, pd.concat([ledger, extra], ignore_index=True), fields)
    assert (after >= before).all()


@SLOW
@given(data=st.data())
def test_a_persistent_reference_never_lowers_exposure(data):
    panel = _panel(1)
    ledger = data.draw(ledgers(_las(panel)))
    fields = tuple(data.draw(st.sets(st.sampled_from(FIELDS), min_size=1, max_size=5)))
    recipient = ledger["recipient"].iloc[0]
    new_ref = data.draw(st.sampled_from(["pmr", "apmr"]))
    switched = ledger.copy()
    mine = (switched["recipient"] == recipient) & (switched["reference"] == "none")
    switched.loc[mine, "reference"] = new_ref
    assert (_exposure(panel, switched, fields) >= _exposure(panel, ledger, fields)).all()


@pytest.mark.parametrize(
    "fields,years,population",
    [
        (("urn", "sex", "month_of_birth"), (2019,), "all"),
        (("postcode_district", "year_of_birth", "sex"), (2021,), "all"),
        (("urn", "nc_year", "sex", "year_of_birth", "month_of_birth"), (2020,), "las"),
    ],
)
def test_one_release_equals_single_release_uniqueness(fields, years, population):
    panel = _panel(2)
    las = _las(panel)
    pop = f"las:{las[0]},{las[1]}" if population == "las" else "all"
    ledger = _ledger([("r1", "uni", fields, years, (), pop, "none")])
    res = rc.ledger_exposure(panel, ledger, list(fields) + ["ethnic_group_major"])
    rows = panel[panel["academic_year"].isin(years)]
    if population == "las":
        rows = rows[rows["la_code"].astype(str).isin([las[0], las[1]])]
    uniq = rc.uniqueness(rows, list(fields))
    assert res.per_recipient["n_singled_out"].iloc[0] == uniq.n_unique
    assert res.per_recipient["n_held"].iloc[0] == len(rows)
    assert res.n_at_least[0] == uniq.n_unique


@pytest.mark.parametrize("seed,make", [(0, _hand_ledger), (1, _hand_ledger), (0, _linking_ledger)])
def test_row_order_never_changes_a_figure(seed, make):
    panel = _panel(seed)
    ledger = make(_las(panel))
    shuffled = panel.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    a = rc.ledger_exposure(panel, ledger, list(SCENARIO))
    b = rc.ledger_exposure(shuffled, ledger, list(SCENARIO))
    pd.testing.assert_frame_equal(a.per_child, b.per_child)
    pd.testing.assert_frame_equal(a.per_recipient, b.per_recipient)
    pd.testing.assert_frame_equal(a.by, b.by)
    assert repr(a) == repr(b)


@pytest.mark.parametrize("make", [_hand_ledger, _linking_ledger])
def test_ledger_row_order_never_changes_a_figure(make):
    panel = _panel(0)
    ledger = make(_las(panel))
    a = rc.ledger_exposure(panel, ledger, list(SCENARIO))
    b = rc.ledger_exposure(panel, ledger.iloc[::-1].reset_index(drop=True), list(SCENARIO))
    pd.testing.assert_frame_equal(a.per_child, b.per_child)
    pd.testing.assert_frame_equal(a.per_recipient, b.per_recipient)


# ------------------------------------------------------------------------------------------
# what the result says
# ------------------------------------------------------------------------------------------
def test_unjoined_record_sets_are_counted():
    panel = _panel(0)
    ledger = _hand_ledger(_las(panel))
    res = rc.ledger_exposure(panel, ledger, list(SCENARIO))
    table = res.per_recipient.set_index("recipient")
    assert table.loc["uni", "n_record_sets"] == 1 and table.loc["uni", "n_unjoined"] == 0
    assert table.loc["firm", "n_record_sets"] == 2 and table.loc["firm", "n_unjoined"] == 1
    assert table.loc["paper", "n_releases"] == 3 and table.loc["paper", "n_record_releases"] == 2


def test_breakdown_and_headline():
    panel = _panel(0)
    res = rc.ledger_exposure(panel, _hand_ledger(_las(panel)), list(SCENARIO))
    assert set(res.by["field"]) == {"nc_year", "fsm_eligible", "sen_provision", "region"}
    for _, part in res.by.groupby("field"):
        assert part["n_children"].sum() == res.n_children
        assert part["n_at_least_1"].sum() == res.n_at_least[0]
    assert "children" in repr(res) and ">=1:" in repr(res)
    frame = res.to_frame()
    assert frame["n_exposed"].tolist() == list(res.n_at_least)
    # the breakdown is read at each child's last census
    last = panel.sort_values("academic_year").groupby("pupil_id", observed=True).tail(1)
    want = dict(zip(last["pupil_id"], last["nc_year"].astype(str)))
    got = dict(zip(res.per_child["pupil_id"], res.per_child["nc_year"].astype(str)))
    assert got == want


def test_a_release_without_scenario_fields_singles_out_nobody():
    panel = _panel(0)
    ledger = _ledger([("r1", "uni", ("ks2_reading",), YEARS, (), "all", "pmr")])
    res = rc.ledger_exposure(panel, ledger, ["urn", "sex"])
    assert res.n_at_least[0] == 0
    assert res.per_recipient["n_held"].iloc[0] == res.n_children


@pytest.mark.parametrize(
    "change,message",
    [
        ({"reference": "persistent"}, "'reference'"),
        ({"population": "some"}, "'population'"),
        ({"population": "sample:1.5"}, "sample fraction"),
    ],
)
def test_bad_ledger_rows_get_one_line(change, message):
    panel = _panel(0)
    ledger = _ledger([("r1", "uni", ("urn",), (2019,), (), "all", "pmr")]).assign(**change)
    with pytest.raises(rc.InvalidParameterError, match=message) as info:
        rc.ledger_exposure(panel, ledger, ["urn"])
    assert "\n" not in str(info.value)


def test_missing_columns_are_named():
    panel = _panel(0)
    ledger = _ledger([("r1", "uni", ("urn",), (2019,), (), "all", "pmr")])
    with pytest.raises(rc.MissingColumnError, match="'population'"):
        rc.ledger_exposure(panel, ledger.drop(columns="population"), ["urn"])
    with pytest.raises(rc.MissingColumnError, match="'lsoa'"):
        rc.ledger_exposure(panel, ledger, ["urn", "lsoa"])
    with pytest.raises(rc.InvalidParameterError, match="scenario"):
        rc.ledger_exposure(panel, ledger, "nobody")


def test_joining_a_release_never_hides_a_child_it_already_singles_out():
    """A recipient can always read one release's records alone: the only girl of LA 1's
    release stays singled out when a PMR release of LA 2's girls is joined to it (the key holds
    which releases hold the child; without it the joined records would hide her)."""
    panel = pd.DataFrame(
        {
            "pupil_id": ["g1", "b1", "b2", "g2", "g3"],
            "academic_year": 2019,
            "la_code": ["1", "1", "1", "2", "2"],
            "sex": list("FMMFF"),
        }
    )
    one = _ledger([("a", "uni", ("sex",), (2019,), (), "las:1", "pmr")])
    two = _ledger(
        [
            ("a", "uni", ("sex",), (2019,), (), "las:1", "pmr"),
            ("b", "uni", ("sex",), (2019,), (), "las:2", "pmr"),
        ]
    )
    for ledger in (one, two):
        res = rc.ledger_exposure(panel, ledger, ["sex"])
        got = dict(zip(res.per_child["pupil_id"], res.per_child["n_recipients"]))
        assert got == {"b1": 0, "b2": 0, "g1": 1, "g2": 0, "g3": 0}
        exp, _ = reference(panel, ledger, ("sex",))
        assert exp == got


def test_the_mask_cache_budget_never_changes_a_figure(monkeypatch):
    """With room for only a few held masks (evicted and rebuilt), the figures are the same."""
    from riskcalc.release import exposure

    panel = _panel(1)
    ledger = pd.concat([_hand_ledger(_las(panel)), _linking_ledger(_las(panel))], ignore_index=True)
    full = rc.ledger_exposure(panel, ledger, list(SCENARIO))
    monkeypatch.setattr(exposure, "_HELD_BUDGET", 0)
    monkeypatch.setattr(exposure, "_CODES_BUDGET", 0)
    small = rc.ledger_exposure(panel, ledger, list(SCENARIO))
    pd.testing.assert_frame_equal(full.per_child, small.per_child)
    pd.testing.assert_frame_equal(full.per_recipient, small.per_recipient)


def test_reception_is_year_group_zero_or_r():
    panel = _panel(0)
    a = _ledger([("r1", "uni", ("urn", "sex"), (2019,), (0, 6), "all", "none")])
    b = _ledger([("r1", "uni", ("urn", "sex"), (2019,), ("R", "6"), "all", "none")])
    ra, rb = (rc.ledger_exposure(panel, x, ["urn", "sex"]) for x in (a, b))
    pd.testing.assert_frame_equal(ra.per_recipient, rb.per_recipient)
    rows = panel[(panel["academic_year"] == 2019) & panel["nc_year"].isin(["R", "6"])]
    assert ra.per_recipient["n_held"].iloc[0] == len(rows) > 0


def test_releases_outside_the_panel_are_counted():
    panel = _panel(0)
    ledger = _ledger(
        [
            ("r1", "uni", ("urn", "sex"), (2019,), (), "all", "pmr"),
            ("r2", "uni", ("urn", "sex"), (2012, 2013), (), "all", "pmr"),
            ("r3", "firm", ("urn",), (2020,), (), "las:999", "none"),
        ]
    )
    res = rc.ledger_exposure(panel, ledger, ["urn", "sex"])
    assert res.n_empty == 2
    assert "2 holding no child of the panel" in repr(res)


def test_several_censuses_a_year_equal_the_reference():
    panel = synthetic.generate_panel(
        1_000, years=2, first_year=2019, censuses=("autumn", "spring"), rng=3, columns=COLUMNS
    )
    ledger = _ledger(
        [
            ("r1", "uni", ("urn", "sex", "fsm_eligible"), (2019, 2020), (), "all", "pmr"),
            ("r2", "uni", ("month_of_birth",), (2020,), (), "sample:0.5", "pmr"),
            ("r3", "firm", ("urn", "sen_provision"), (2020,), (), "all", "none"),
        ]
    )
    _check_against_reference(panel, ledger, ("urn", "sex", "month_of_birth", "sen_provision"))


@SLOW
@given(
    fields=st.sets(st.sampled_from(FIELDS), min_size=1, max_size=4),
    year=st.sampled_from(YEARS),
    n_las=st.integers(0, 3),
    reference=st.sampled_from(["pmr", "apmr", "none"]),
)
def test_any_one_census_release_equals_uniqueness(fields, year, n_las, reference):
    """A recipient with one single-census release singles out exactly the sample uniques of
    its rows on the scenario's fields it holds (rc.uniqueness, missing values a category)."""
    panel = _panel(1)
    las = _las(panel)[:n_las]
    pop = "las:" + ",".join(las) if las else "all"
    ledger = _ledger([("r1", "uni", tuple(sorted(fields)), (year,), (), pop, reference)])
    scenario = sorted(fields | {"region"})
    res = rc.ledger_exposure(panel, ledger, scenario)
    rows = panel[panel["academic_year"] == year]
    if las:
        rows = rows[rows["la_code"].astype(str).isin(las)]
    uniq = rc.uniqueness(rows, sorted(fields))
    assert res.per_recipient["n_singled_out"].iloc[0] == uniq.n_unique


# ------------------------------------------------------------------------------------------
# the two bounds and linking the record sets
# ------------------------------------------------------------------------------------------
@SLOW
@given(data=st.data(), seed=st.sampled_from([0, 1]))
def test_linking_never_hides_a_child_and_one_set_changes_nothing(data, seed):
    panel = _panel(seed)
    ledger = data.draw(ledgers(_las(panel)))
    fields = tuple(data.draw(st.sets(st.sampled_from(FIELDS), min_size=1, max_size=5)))
    res = rc.ledger_exposure(panel, ledger, list(fields))
    child = res.per_child
    assert (child["n_recipients_linked"] >= child["n_recipients"]).all()
    assert all(u >= n for u, n in zip(res.n_at_least_linked, res.n_at_least, strict=True))
    table = res.per_recipient
    assert (table["n_singled_out_linked"] >= table["n_singled_out"]).all()
    one = table[table["n_record_sets"] <= 1]
    assert (one["n_singled_out_linked"] == one["n_singled_out"]).all()
    assert one["link_rate"].isna().all() and (one["n_false_links"] == 0).all()
    rate = table["link_rate"].dropna()
    assert ((rate >= 0) & (rate <= 1)).all()


@SLOW
@given(data=st.data())
def test_a_ledger_of_pmr_releases_has_equal_bounds(data):
    panel = _panel(1)
    ledger = data.draw(ledgers(_las(panel))).assign(reference="pmr")
    fields = tuple(data.draw(st.sets(st.sampled_from(FIELDS), min_size=1, max_size=5)))
    res = rc.ledger_exposure(panel, ledger, list(fields))
    pd.testing.assert_series_equal(
        res.per_child["n_recipients_linked"], res.per_child["n_recipients"], check_names=False
    )
    assert res.n_at_least_linked == res.n_at_least
    assert (res.per_recipient["n_false_links"] == 0).all()
    assert repr(res).count("between") == 0


def _tiny(rows, years=(2019,)):
    """A hand panel: (pupil_id, academic_year, la_code, nc_year, uid, x, sex) rows."""
    cols = ["pupil_id", "academic_year", "la_code", "nc_year", "uid", "x", "sex"]
    return pd.DataFrame(rows, columns=cols)


def test_sets_sharing_a_unique_identifier_link_every_child():
    """Two record sets sharing a cell whose values are all distinct link every child held in
    both, with no wrong link."""
    panel = _tiny(
        [
            (f"p{i}", 2019, "1" if i < 6 else "2", "6", 100 + i, i % 3, "MF"[i % 2])
            for i in range(10)
        ]
    )
    ledger = _ledger(
        [
            ("a", "uni", ("uid", "sex"), (2019,), (), "all", "pmr"),
            ("b", "uni", ("uid", "x"), (2019,), (), "las:2", "none"),
        ]
    )
    res = rc.ledger_exposure(panel, ledger, ["sex", "x"])
    row = res.per_recipient.iloc[0]
    assert row["n_record_sets"] == 2
    assert row["link_rate"] == 1.0 and row["n_false_links"] == 0
    # unjoined: nobody is alone on sex in a; p7 (x=1) and p8 (x=2) are alone on x in b.
    # linked: p6..p9 (held by both) each have their own (sex, x); p0..p5 share sex
    assert row["n_singled_out"] == 2 and row["n_singled_out_linked"] == 4
    got = dict(zip(res.per_child["pupil_id"], res.per_child["n_recipients_linked"], strict=True))
    assert [p for p, v in got.items() if v] == ["p6", "p7", "p8", "p9"]


def test_wrong_links_are_counted():
    """Set a holds Year 6 (all LAs), set b LA 2 (all year groups), sharing the cell x: p1 (LA 1,
    Year 6) and p2 (LA 2, Year 5) are each alone on x = 1 in their set, so they are linked,
    wrongly; p3 is linked correctly; p4 shares x = 3 with p5 in set a, so is not linked."""
    panel = _tiny(
        [
            ("p1", 2019, "1", "6", 1, 1, "F"),
            ("p2", 2019, "2", "5", 2, 1, "F"),
            ("p3", 2019, "2", "6", 3, 2, "F"),
            ("p4", 2019, "2", "6", 4, 3, "F"),
            ("p5", 2019, "1", "6", 5, 3, "F"),
        ]
    )
    ledger = _ledger(
        [
            ("a", "uni", ("x",), (2019,), ("6",), "all", "pmr"),
            ("b", "uni", ("x",), (2019,), (), "las:2", "none"),
        ]
    )
    res = rc.ledger_exposure(panel, ledger, ["sex"])
    row = res.per_recipient.iloc[0]
    assert row["n_false_links"] == 1
    assert row["link_rate"] == 0.5  # p3 of p3, p4
    _, _, _, linked = reference_both(panel, ledger, ("sex",))
    assert linked["uni"][1:] == (0.5, 1)


def test_links_join_record_sets_through_a_third():
    """Sets a and c share no cell, each shares the identifier with b: every child held in all
    three is joined through b. A fourth set sharing no cell with any other is never joined."""
    rows = [
        (f"p{i}", year, "1", "6", 100 + i, i % 3, "MF"[i % 2])
        for i in range(6)
        for year in (2019, 2020)
    ]
    panel = _tiny(rows)
    three = _ledger(
        [
            ("a", "uni", ("uid", "sex"), (2019,), (), "all", "pmr"),
            ("b", "uni", ("uid",), (2019, 2020), (), "all", "apmr"),
            ("c", "uni", ("uid", "x"), (2020,), (), "all", "none"),
        ]
    )
    res = rc.ledger_exposure(panel, three, ["sex", "x"])
    assert res.per_recipient["link_rate"].iloc[0] == 1.0
    four = pd.concat(
        [three, _ledger([("d", "uni", ("sex",), (2020,), (), "all", "none")])], ignore_index=True
    )
    res = rc.ledger_exposure(panel, four, ["sex", "x"])
    assert res.per_recipient["link_rate"].iloc[0] == 0.0
    assert res.per_recipient["n_record_sets"].iloc[0] == 4
    _, _, _, linked = reference_both(panel, four, ("sex", "x"))
    assert linked["uni"][1] == 0.0


def test_no_child_in_two_sets_has_no_link_rate():
    panel = _tiny([("p1", 2019, "1", "6", 1, 1, "F"), ("p2", 2019, "2", "6", 2, 1, "M")])
    ledger = _ledger(
        [
            ("a", "uni", ("x",), (2019,), (), "las:1", "pmr"),
            ("b", "uni", ("x",), (2019,), (), "las:2", "none"),
        ]
    )
    res = rc.ledger_exposure(panel, ledger, ["sex"])
    assert math.isnan(res.per_recipient["link_rate"].iloc[0])
    # records are compared within the coverage of children held in both sets: none here
    assert res.per_recipient["n_false_links"].iloc[0] == 0


def test_fields_the_panel_lacks_are_named_and_not_compared():
    panel = _panel(0)
    ledger = _ledger(
        [
            ("a", "uni", ("urn", "sex", "ks5_points"), (2019,), (), "all", "pmr"),
            ("b", "uni", ("urn", "sex", "ks5_points"), (2019,), (), "sample:0.5", "none"),
        ]
    )
    res = rc.ledger_exposure(panel, ledger, ["urn", "sex"])
    assert res.link_fields_missing == ("ks5_points",)
    assert "not compared when linking: ks5_points" in repr(res)
    _check_against_reference(panel, ledger, ("urn", "sex"))


def test_both_bounds_are_shown():
    panel = _panel(0)
    res = rc.ledger_exposure(panel, _linking_ledger(_las(panel)), list(SCENARIO))
    text = repr(res)
    assert f"between {res.n_at_least[0]:,}" in text
    assert f"and {res.n_at_least_linked[0]:,}" in text
    frame = res.to_frame()
    assert frame["n_exposed_linked"].tolist() == list(res.n_at_least_linked)
    assert (frame["median_linked"] == res.median_linked).all()
    for _, part in res.by.groupby("field"):
        assert part["n_at_least_linked_1"].sum() == res.n_at_least_linked[0]
        assert part["n_at_least_1"].sum() == res.n_at_least[0]
    # the breakdown of the linked count is the breakdown of per_child's column
    nc = res.by[res.by["field"] == "nc_year"].set_index("value")
    child = res.per_child.assign(v=res.per_child["nc_year"].astype(str))
    want = child.groupby("v")["n_recipients_linked"].apply(lambda x: int((x >= 1).sum()))
    assert nc["n_at_least_linked_1"].to_dict() == want.to_dict()


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(["x", "", None, 2013.5, float("nan"), "2012/13"]),
    st.integers(0, 3),
)
def test_a_bad_academic_year_is_one_line_for_every_panel_measure(bad, where):
    """Property: a panel whose 'academic_year' holds a non-year anywhere gives one
    InvalidParameterError naming the column and the row, never the value, in every panel
    measure (the check lives in the shared census labelling)."""
    years = [2013, 2013, 2014, 2014]
    years[where] = bad
    panel = pd.DataFrame(
        {
            "pupil_id": ["a", "b", "a", "b"],
            "academic_year": pd.Series(years, dtype=object),
            "urn": [1, 2, 1, 2],
            "sex": list("FMFM"),
        }
    )
    ledger = pd.DataFrame(
        {
            "release_id": ["r1"],
            "recipient": ["uni"],
            "fields": [("urn",)],
            "years": [(2013,)],
            "year_groups": [()],
            "population": ["all"],
            "reference": ["none"],
        }
    )
    calls = (
        lambda: rc.ledger_exposure(panel, ledger, ["urn"]),
        lambda: rc.trajectory_uniqueness(panel, "urn"),
        lambda: rc.linkage_risk(panel, ["sex", "urn"]),
    )
    for call in calls:
        with pytest.raises(rc.exceptions.InvalidParameterError) as err:
            call()
        text = str(err.value)
        assert "'academic_year'" in text and f"row {where + 1}" in text and "\n" not in text
        if bad not in (None, ""):
            assert str(bad) not in text


def test_an_empty_panel_is_one_line():
    panel = pd.DataFrame(columns=["pupil_id", "academic_year", "urn"])
    ledger = pd.DataFrame(
        {
            "release_id": ["r1"],
            "recipient": ["uni"],
            "fields": [("urn",)],
            "years": [(2013,)],
            "year_groups": [()],
            "population": ["all"],
            "reference": ["none"],
        }
    )
    with pytest.raises(rc.exceptions.InvalidParameterError, match="has no rows"):
        rc.ledger_exposure(panel, ledger, ["urn"])
