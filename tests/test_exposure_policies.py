"""The ledger over time and under counterfactual policies (riskcalc.release.exposure_policies).

The reference is :func:`riskcalc.ledger_exposure` itself (checked against a slow per-child loop in
tests/test_exposure.py) run on the obvious ledgers: the releases dated up to each year's end, and
the ledger a policy leaves, its rows selected by a per-row loop over the policy's criteria.
"""

from __future__ import annotations

import copy
import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_exposure import FIELDS, SCENARIO, SLOW, _hand_ledger, _las, _panel, ledgers

import riskcalc as rc
from riskcalc.release import exposure

COUNTS = ("n_releases", "n_recipients", "n_at_least_1", "n_at_least_5", "n_at_least_20")
TYPES = ("university", "commercial", "newspaper", "charity")


@st.composite
def dated_ledgers(draw, las):
    """tests/test_exposure.py's ledgers with a date, a tier (or none) and a recipient type."""
    ledger = draw(ledgers(las))
    n = len(ledger)
    days = draw(
        st.lists(
            st.dates(min_value=dt.date(2013, 1, 1), max_value=dt.date(2016, 12, 31)),
            min_size=n,
            max_size=n,
        )
    )
    tiers = draw(st.lists(st.sampled_from([1, 2, 3, 4, None]), min_size=n, max_size=n))
    types = draw(st.lists(st.sampled_from(TYPES), min_size=n, max_size=n))
    return ledger.assign(
        date=pd.Series(pd.to_datetime(days)).astype("datetime64[s]"),
        tier=pd.array(tiers, dtype="Int64"),
        recipient_type=types,
    )


@st.composite
def policies(draw):
    start = draw(
        st.none() | st.dates(min_value=dt.date(2013, 1, 1), max_value=dt.date(2016, 12, 31))
    )
    end = draw(
        st.none() | st.dates(min_value=start or dt.date(2013, 1, 1), max_value=dt.date(2017, 1, 1))
    )
    return rc.LedgerPolicy(
        "drawn",
        "a drawn policy",
        action=draw(st.sampled_from(["drop", "unjoin"])),
        tiers=tuple(draw(st.sets(st.sampled_from([1, 2, 3, 4]), max_size=2))),
        recipient_types=tuple(draw(st.sets(st.sampled_from(TYPES), max_size=2))),
        dated_from=None if start is None else start.isoformat(),
        dated_until=None if end is None else end.isoformat(),
        references=tuple(draw(st.sets(st.sampled_from(["pmr", "apmr", "none"]), max_size=2))),
    )


def _selected_by_loop(ledger: pd.DataFrame, policy: rc.LedgerPolicy) -> list[bool]:
    """The rows a policy selects, one row at a time, from its documented criteria."""
    out = []
    for rec in ledger.to_dict("records"):
        day = pd.Timestamp(rec["date"]).date().isoformat() if "date" in rec else None
        tier = rec.get("tier")
        ok = True
        if policy.tiers:
            ok &= tier is not None and not pd.isna(tier) and int(tier) in policy.tiers
        if policy.recipient_types:
            ok &= rec["recipient_type"] in policy.recipient_types
        if policy.dated_from:
            ok &= day >= policy.dated_from
        if policy.dated_until:
            ok &= day <= policy.dated_until
        if policy.references:
            ok &= rec["reference"] in policy.references
        out.append(bool(ok))
    return out


def _policy_by_loop(ledger: pd.DataFrame, policy: rc.LedgerPolicy) -> pd.DataFrame:
    sel = _selected_by_loop(ledger, policy)
    rows = []
    for rec, s in zip(ledger.to_dict("records"), sel, strict=True):
        if s and policy.action == "drop":
            continue
        rows.append(rec | ({"reference": "none"} if s else {}))
    return pd.DataFrame(rows, columns=ledger.columns)


def _per_child(panel, ledger, fields) -> np.ndarray:
    return rc.ledger_exposure(panel, ledger, list(fields)).per_child["n_recipients"].to_numpy()


def _row_of(res: rc.LedgerExposureResult) -> dict:
    row = {
        "n_releases": res.n_releases,
        "n_recipients": res.n_recipients,
        "median": res.median,
        "p90": res.p90,
        "n_exposures": int(res.per_child["n_recipients"].sum()),
    }
    for k, n, s in zip(res.thresholds, res.n_at_least, res.share_at_least, strict=True):
        row[f"n_at_least_{k}"] = n
        row[f"share_at_least_{k}"] = s
    return row


def _dated_hand_ledger(panel) -> pd.DataFrame:
    ledger = _hand_ledger(_las(panel))
    days = [
        "2013-03-01",
        "2014-07-01",
        "2014-12-31",
        "2015-01-01",
        "2015-06-30",
        "2016-02-02",
        "2016-05-05",
        "2013-11-11",
    ]
    return ledger.assign(
        date=pd.Series(pd.to_datetime(days)).astype("datetime64[s]"),
        recipient_type=["university", "university", "commercial", "commercial", "newspaper",
                        "newspaper", "newspaper", "charity"],
        tier=pd.array([1, 2, 1, 1, 2, 1, 3, None], dtype="Int64"),
    )  # fmt: skip


# ------------------------------------------------------------------------------------------
# over time
# ------------------------------------------------------------------------------------------
def _check_timeline(panel, ledger, fields, sample_seed=0):
    tl = rc.exposure_over_time(panel, ledger, list(fields), sample_seed=sample_seed)
    years = pd.to_datetime(ledger["date"]).dt.year
    assert tl.frame["year"].tolist() == sorted(set(years.tolist()))
    for _, row in tl.frame.iterrows():
        assert row["until"] == f"{row['year']}-12-31"
        prefix = ledger[(years <= row["year"]).to_numpy()]
        want = _row_of(rc.ledger_exposure(panel, prefix, list(fields), sample_seed=sample_seed))
        got = {k: row[k] for k in want}
        assert got == want, row["year"]
    # the last row is the whole ledger
    res = rc.ledger_exposure(panel, ledger, list(fields), sample_seed=sample_seed)
    whole = _row_of(res)
    assert tl.n_empty == res.n_empty and tl.n_children == res.n_children
    assert {k: tl.frame.iloc[-1][k] for k in whole} == whole
    # exposure never falls as releases accumulate
    for c in [*COUNTS, "n_exposures", "median", "p90"]:
        assert tl.frame[c].is_monotonic_increasing, c
    return tl


@pytest.mark.parametrize("seed", [0, 1])
def test_hand_timeline_rows_equal_ledger_exposure_on_each_prefix(seed):
    panel = _panel(seed)
    tl = _check_timeline(panel, _dated_hand_ledger(panel), SCENARIO)
    assert tl.frame["year"].tolist() == [2013, 2014, 2015, 2016]
    assert tl.frame["n_releases"].tolist() == [2, 4, 6, 8]
    assert list(tl.frame.columns) == [
        "year", "until", "n_releases", "n_recipients", "median", "p90", "n_at_least_1",
        "n_at_least_5", "n_at_least_20", "share_at_least_1", "share_at_least_5",
        "share_at_least_20", "n_exposures",
    ]  # fmt: skip
    assert tl.frame["n_at_least_1"].iloc[-1] > tl.frame["n_at_least_1"].iloc[0] > 0


@SLOW
@given(data=st.data(), seed=st.sampled_from([0, 1]))
def test_random_timelines_equal_ledger_exposure_on_each_prefix(data, seed):
    panel = _panel(seed)
    ledger = data.draw(dated_ledgers(_las(panel)))
    fields = tuple(data.draw(st.sets(st.sampled_from(FIELDS), min_size=1, max_size=5)))
    _check_timeline(panel, ledger, fields, sample_seed=data.draw(st.integers(0, 2)))


def test_timeline_thresholds_and_text():
    panel = _panel(0)
    tl = rc.exposure_over_time(panel, _dated_hand_ledger(panel), list(SCENARIO), thresholds=[2])
    assert "n_at_least_2" in tl.frame.columns and "n_at_least_1" not in tl.frame.columns
    text = repr(tl)
    assert text.startswith("ExposureTimeline(") and "by 2016-12-31" in text and "\n" not in text
    assert "<table" in tl._repr_html_()
    assert tl.to_frame().equals(tl.frame) and tl.to_frame() is not tl.frame


def test_dates_as_text_read_like_dates():
    panel = _panel(0)
    ledger = _dated_hand_ledger(panel)
    as_text = ledger.assign(date=ledger["date"].dt.strftime("%Y-%m-%d").astype(object))
    a = rc.exposure_over_time(panel, ledger, list(SCENARIO))
    b = rc.exposure_over_time(panel, as_text, list(SCENARIO))
    pd.testing.assert_frame_equal(a.frame, b.frame)
    # a date with a time zone is the day where it was made (never moved to UTC's day)
    late = ledger.assign(date=ledger["date"] + pd.Timedelta(hours=23))
    c = rc.exposure_over_time(panel, late.assign(date=late["date"].dt.tz_localize("Etc/GMT+5")),
                              list(SCENARIO))  # fmt: skip
    pd.testing.assert_frame_equal(a.frame, c.frame)


def _count_group_computations(monkeypatch) -> list:
    keys: list = []
    real = exposure._group_singled

    def counted(panel, group, fields, sample_seed):
        keys.append(
            frozenset(
                (tuple(f for f in r.fields if f in fields), r.pop_key)
                for r in group
                if any(f in fields for f in r.fields)
            )
        )
        return real(panel, group, fields, sample_seed)

    monkeypatch.setattr(exposure, "_group_singled", counted)
    return keys


def test_no_group_is_computed_twice(monkeypatch):
    """The years and the policies share one engine: each distinct group once, whoever holds it."""
    panel = _panel(1)
    ledger = _dated_hand_ledger(panel)
    keys = _count_group_computations(monkeypatch)
    tl = rc.exposure_over_time(panel, ledger, list(SCENARIO))
    assert len(keys) == len(set(keys)) > 0
    # fewer computations than a ledger_exposure per year would make
    n_years = len(tl.frame)
    keys.clear()
    cmp = rc.compare_policies(panel, ledger, list(SCENARIO))
    assert len(keys) == len(set(keys)) > 0
    assert len(cmp.frame) == len(rc.LEDGER_POLICIES) + 1 and n_years == 4


def test_timeline_is_deterministic():
    panel = _panel(0)
    ledger = _dated_hand_ledger(panel)
    a = rc.exposure_over_time(panel, ledger, list(SCENARIO))
    b = rc.exposure_over_time(panel, ledger.iloc[::-1].reset_index(drop=True), list(SCENARIO))
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert repr(a) == repr(b)


# ------------------------------------------------------------------------------------------
# counterfactual ledgers
# ------------------------------------------------------------------------------------------
def test_built_in_policies():
    names = list(rc.LEDGER_POLICIES)
    assert {"no-tier1-commercial-after-2014", "apmr-per-release"} <= set(names)
    for name, policy in rc.LEDGER_POLICIES.items():
        assert policy.name == name and policy.description
        assert json.loads(json.dumps(policy.to_dict()))["rule"] == policy.rule
    policy = rc.LEDGER_POLICIES["no-tier1-commercial-after-2014"]
    assert policy.rule == (
        "drop the releases with tier 1, recipient_type 'commercial', dated 2015-01-01 or later"
    )
    assert "reference 'none'" in rc.LEDGER_POLICIES["apmr-per-release"].rule
    # the same criteria in any order are the same policy, printed the same
    a = rc.LedgerPolicy("x", "", recipient_types=("newspaper", "commercial"), tiers=(2, 1))
    b = rc.LedgerPolicy("x", "", recipient_types={"commercial", "newspaper"}, tiers=[1, 2])
    assert a == b and a.rule == b.rule and a.recipient_types == ("commercial", "newspaper")


def test_hand_policies_select_as_documented():
    panel = _panel(0)
    ledger = _dated_hand_ledger(panel)
    got = rc.apply_ledger_policy(ledger, "no-tier1-commercial-after-2014")
    assert got["release_id"].tolist() == ["r1", "r2", "r3", "r5", "r6", "r7", "r8"]
    got = rc.apply_ledger_policy(ledger, "apmr-per-release")
    assert got["reference"].tolist() == ["none"] * 8
    assert got["release_id"].tolist() == ledger["release_id"].tolist()
    got = rc.apply_ledger_policy(ledger, "no-newspapers")
    assert got["release_id"].tolist() == ["r1", "r2", "r3", "r4", "r8"]
    # an unclassified tier is never selected by a tier; the date bounds are inclusive
    got = rc.apply_ledger_policy(ledger, rc.LedgerPolicy("t1", "", tiers=(1,)))
    assert got["release_id"].tolist() == ["r2", "r5", "r7", "r8"]
    bounds = rc.LedgerPolicy("b", "", dated_from="2014-12-31", dated_until="2015-06-30")
    assert rc.apply_ledger_policy(ledger, bounds)["release_id"].tolist() == [
        "r1", "r2", "r6", "r7", "r8"
    ]  # fmt: skip


@SLOW
@given(data=st.data(), policy=policies())
def test_apply_ledger_policy_equals_the_row_loop_and_leaves_the_input(data, policy):
    ledger = data.draw(dated_ledgers(_las(_panel(0))))
    before = copy.deepcopy(ledger)
    got = rc.apply_ledger_policy(ledger, policy)
    pd.testing.assert_frame_equal(ledger, before)
    want = _policy_by_loop(ledger, policy)
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), want.astype(ledger.dtypes.to_dict()), check_dtype=False
    )
    if len(got):  # a new frame: changing it never reaches the input
        got.loc[got.index[0], "recipient"] = "someone else"
        pd.testing.assert_frame_equal(ledger, before)


@SLOW
@given(data=st.data(), seed=st.sampled_from([0, 1]))
def test_a_policy_never_raises_any_childs_exposure(data, seed):
    panel = _panel(seed)
    ledger = data.draw(dated_ledgers(_las(panel)))
    pols = [data.draw(policies()), data.draw(policies())]
    pols = [rc.LedgerPolicy(f"p{i}", p.description, p.action, p.tiers, p.recipient_types,
                            p.dated_from, p.dated_until, p.references)
            for i, p in enumerate(pols)]  # fmt: skip
    fields = tuple(data.draw(st.sets(st.sampled_from(FIELDS), min_size=1, max_size=5)))
    cmp = rc.compare_policies(panel, ledger, list(fields), pols)
    base = _per_child(panel, ledger, fields)
    first = cmp.frame.iloc[0]
    assert first["policy"] == "as released"
    res = rc.ledger_exposure(panel, ledger, list(fields))
    assert cmp.n_empty == res.n_empty
    want = _row_of(res)
    want.pop("n_recipients")
    assert {k: first[k] for k in want} == want
    for policy, (_, row) in zip(pols, cmp.frame.iloc[1:].iterrows(), strict=True):
        changed = rc.apply_ledger_policy(ledger, policy)
        after = _per_child(panel, changed, fields)
        assert (after <= base).all(), policy
        want = _row_of(rc.ledger_exposure(panel, changed, list(fields)))
        want.pop("n_recipients")
        assert {k: row[k] for k in want} == want
        assert row["n_children_saved"] == int(((base >= 1) & (after == 0)).sum())
        assert row["n_exposures_saved"] == int(base.sum() - after.sum()) >= 0


def test_comparison_frame_and_text():
    panel = _panel(0)
    ledger = _dated_hand_ledger(panel)
    cmp = rc.compare_policies(panel, ledger, "school_gate")
    assert cmp.frame["policy"].tolist() == ["as released", *rc.LEDGER_POLICIES]
    assert list(cmp.frame.columns[:3]) == ["policy", "description", "n_releases"]
    assert list(cmp.frame.columns[-3:]) == ["n_exposures", "n_children_saved", "n_exposures_saved"]
    assert cmp.policies == tuple(rc.LEDGER_POLICIES.values())
    text = repr(cmp)
    assert text.startswith("PolicyComparison(") and "\n" not in text
    assert "<table" in cmp._repr_html_()
    again = rc.compare_policies(panel, ledger, "school_gate")
    pd.testing.assert_frame_equal(cmp.frame, again.frame)
    assert repr(cmp) == repr(again)
    # the policies chosen, by name or as objects, in the order given
    two = rc.compare_policies(
        panel, ledger, "school_gate", ["apmr-per-release", rc.LEDGER_POLICIES["no-newspapers"]]
    )
    pd.testing.assert_frame_equal(
        two.frame.reset_index(drop=True),
        cmp.frame.set_index("policy")
        .loc[["as released", "apmr-per-release", "no-newspapers"]]
        .reset_index(),
    )


# ------------------------------------------------------------------------------------------
# one-line errors
# ------------------------------------------------------------------------------------------
def _one_line(info) -> str:
    text = str(info.value)
    assert "\n" not in text
    return text


def test_a_ledger_without_dates_is_refused_in_one_line():
    panel = _panel(0)
    ledger = _dated_hand_ledger(panel)
    with pytest.raises(rc.MissingColumnError, match="no column 'date'") as info:
        rc.exposure_over_time(panel, ledger.drop(columns="date"), list(SCENARIO))
    _one_line(info)
    missing = ledger.assign(date=ledger["date"].where(ledger.index != 2))
    with pytest.raises(rc.InvalidParameterError, match="row 3: 'date'") as info:
        rc.exposure_over_time(panel, missing, list(SCENARIO))
    _one_line(info)
    text = ledger["date"].dt.strftime("%Y-%m-%d").tolist()
    bad = ledger.assign(date=[text[0], "31/02/2015", *text[2:]])
    with pytest.raises(rc.InvalidParameterError, match="row 2: 'date'") as info:
        rc.exposure_over_time(panel, bad, list(SCENARIO))
    assert "31/02" not in _one_line(info)  # never a value of the file


def test_unknown_policy_names_get_a_did_you_mean():
    panel = _panel(0)
    ledger = _dated_hand_ledger(panel)
    with pytest.raises(rc.InvalidParameterError, match="Did you mean 'apmr-per-release'") as info:
        rc.compare_policies(panel, ledger, "school_gate", ["apmr-per-releases"])
    _one_line(info)
    with pytest.raises(rc.InvalidParameterError, match="Did you mean 'no-newspapers'") as info:
        rc.apply_ledger_policy(ledger, "no-newspaper")
    _one_line(info)
    with pytest.raises(rc.InvalidParameterError, match="twice") as info:
        rc.compare_policies(panel, ledger, "school_gate", ["no-newspapers", "no-newspapers"])
    _one_line(info)
    with pytest.raises(rc.InvalidParameterError, match="LedgerPolicy") as info:
        rc.compare_policies(panel, ledger, "school_gate", [3])
    _one_line(info)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"recipient_types": ("comercial",)}, "Did you mean 'commercial'"),
        ({"references": ("pmr2",)}, "Did you mean 'pmr'"),
        ({"tiers": (5,)}, "tier numbers 1-4"),
        ({"action": "delete"}, "'action'"),
        ({"dated_from": "2015-13-01"}, "'dated_from'"),
        ({"dated_from": "2015-01-01", "dated_until": "2014-01-01"}, "before"),
    ],
)
def test_bad_policies_get_one_line(kwargs, message):
    with pytest.raises(rc.InvalidParameterError, match=message) as info:
        rc.LedgerPolicy("mine", "a policy", **kwargs)
    _one_line(info)


def test_a_policy_selecting_by_a_missing_column_is_refused():
    panel = _panel(0)
    ledger = _dated_hand_ledger(panel)
    with pytest.raises(rc.MissingColumnError, match="'tier'") as info:
        rc.apply_ledger_policy(ledger.drop(columns="tier"), "no-tier1-after-2014")
    _one_line(info)
    with pytest.raises(rc.MissingColumnError, match="'recipient_type'") as info:
        rc.compare_policies(
            panel, ledger.drop(columns="recipient_type"), list(SCENARIO), ["no-newspapers"]
        )
    _one_line(info)
