"""The table auditor: hand-worked linked tables, brute force on small tables, rounding, tier 3."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from _reference_audit import TooBig, as_lookup, brute_force, consistent_tables, kinds, verdict
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from riskcalc.audit import (
    CELL_COLUMNS,
    POLICIES,
    TIER3_AUDIT_COLUMNS,
    SuppressionPolicy,
    apply_policy,
    audit_tables,
    policy,
    tier3_audit,
)
from riskcalc.exceptions import InvalidParameterError, MissingColumnError


def _frame(**cols):
    return pd.DataFrame(cols)


def _interval(result, table, cell):
    row = result.cells[(result.cells["table"] == table) & (result.cells["cell"] == cell)]
    assert len(row) == 1, (table, cell)
    return int(row["lower"].iloc[0]), int(row["upper"].iloc[0]), row["verdict"].iloc[0]


# --- hand-worked ------------------------------------------------------------------------------


def _school_tables():
    sex = _frame(school=["A", "A", "B", "B"], sex=["F", "M", "F", "M"], count=[3, 20, 12, 15])
    fsm = _frame(school=["A", "A", "B", "B"], fsm=["Y", "N", "Y", "N"], count=[8, 15, 2, 25])
    totals = _frame(school=["A", "B"], count=[23, 27])
    return {"sex": sex, "fsm": fsm}, {"totals": totals}


@pytest.mark.parametrize("method", ["auto", "lp", "milp"])
def test_exactly_recoverable_by_differencing(method):
    # school A: F suppressed (3), M = 20 published, total 23 -> F = 3 exactly
    tables, margins = _school_tables()
    r = audit_tables(tables, "dfe_suppress_below_5", margins=margins, method=method)
    assert _interval(r, "sex", "school=A, sex=F") == (3, 3, "exact")
    assert _interval(r, "fsm", "school=B, fsm=Y") == (2, 2, "exact")
    assert r.n_exact == 2 and r.pupils_exposed == 5 and r.tables["pupils_exact"].sum() == 5
    assert "differencing" in r.failing["reason"].iloc[0]
    per = r.tables.set_index("table")
    assert per.loc["sex", "pupils_exposed"] == 3 and per.loc["fsm", "exact_cells"] == 1


def test_bounded_narrower_than_protection():
    # one total, two suppressed cells 1 + 2 = 3: each in [1, 2] (rule alone says [1, 4])
    t = _frame(school=["A"] * 3, cat=["x", "y", "z"], count=[1, 2, 20])
    r = audit_tables(
        {"t": t}, "dfe_suppress_below_5", margins={"tot": _frame(school=["A"], count=[23])}
    )
    assert _interval(r, "t", "school=A, cat=x") == (1, 2, "narrow")
    assert _interval(r, "t", "school=A, cat=y") == (1, 2, "narrow")
    first = r.failing.iloc[0]
    assert "narrower than the protection level" in first["reason"]
    assert (first["width"], first["protection"]) == (1, 3)
    assert r.pupils_exposed == 3 and r.n_exact == 0 and r.tables["pupils_exact"].sum() == 0


def test_safe_pattern():
    # 2 + 3 = 5: each suppressed cell can be anything in [1, 4]
    t = _frame(school=["A"] * 3, cat=["x", "y", "z"], count=[2, 3, 20])
    r = audit_tables(
        {"t": t}, "dfe_suppress_below_5", margins={"tot": _frame(school=["A"], count=[25])}
    )
    assert _interval(r, "t", "school=A, cat=x") == (1, 4, "protected")
    assert _interval(r, "t", "school=A, cat=y") == (1, 4, "protected")
    assert r.failing.empty and r.pupils_exposed == 0


@pytest.mark.parametrize("method", ["lp", "milp", "auto"])
def test_two_way_table_with_a_suppressed_rectangle(method):
    # 3 x 3 table, row and column totals published; the 2 x 2 block [[2, 3], [4, 2]] suppressed.
    # With x00 = t: x01 = 5 - t, x10 = 6 - t, x11 = t, all in [1, 4]  =>  t in [2, 4].
    counts = [[2, 3, 30], [4, 2, 40], [20, 25, 50]]
    cells = _frame(
        r=np.repeat(["a", "b", "c"], 3), c=np.tile(["p", "q", "s"], 3), count=np.ravel(counts)
    )
    rows = cells.groupby("r", as_index=False)["count"].sum()
    cols = cells.groupby("c", as_index=False)["count"].sum()
    r = audit_tables(
        {"t": cells}, "dfe_suppress_below_5", margins={"rows": rows, "cols": cols}, method=method
    )
    assert _interval(r, "t", "r=a, c=p") == (2, 4, "narrow")
    assert _interval(r, "t", "r=a, c=q") == (1, 3, "narrow")
    assert _interval(r, "t", "r=b, c=p") == (2, 4, "narrow")
    assert _interval(r, "t", "r=b, c=q") == (2, 4, "narrow")
    assert "linked tables" in r.failing["reason"].iloc[0]
    assert r.method != "closed form"  # two different common sets: a solver is needed


def test_linked_tables_pin_a_cell_no_single_table_reveals():
    # sex table: A has F=3 (c), M=4 (c) -> alone only F + M = 7 => F in [3, 4].
    # fsm table: A has Y=6, N=1 (c): N = 1 exactly, not used by sex. Year table pins total only.
    sex = _frame(school=["A", "A"], sex=["F", "M"], count=[3, 4])
    fsm = _frame(school=["A", "A"], fsm=["Y", "N"], count=[6, 1])
    r = audit_tables({"sex": sex, "fsm": fsm}, "dfe_suppress_below_5")  # no totals published
    # the fsm table gives the total 7 +- N in [1, 4] -> total in [7, 10]; sex cells in [3, 4] each
    assert _interval(r, "sex", "school=A, sex=F") == (3, 4, "narrow")
    assert _interval(r, "fsm", "school=A, fsm=N") == (1, 2, "narrow")


def test_unknown_rule_bounds_only_by_zero():
    pol = policy("dfe_suppress_below_5", attacker_knows_rule=False)
    t = _frame(school=["A"] * 3, cat=["x", "y", "z"], count=[2, 3, 20])
    r = audit_tables({"t": t}, pol, margins={"tot": _frame(school=["A"], count=[25])})
    assert _interval(r, "t", "school=A, cat=x") == (0, 5, "protected")


def test_secondary_suppression_column():
    t = _frame(
        school=["A"] * 3, cat=["x", "y", "z"], count=[3, 9, 20], secondary=[False, True, False]
    )
    r = audit_tables(
        {"t": t},
        "dfe_suppress_below_5",
        margins={"tot": _frame(school=["A"], count=[32])},
        suppressed="secondary",
    )
    # x in [1, 4] by the rule, y >= 0, x + y = 12  =>  x in [3, 4]... and y in [8, 11]
    assert _interval(r, "t", "school=A, cat=x")[:2] == (1, 4)
    assert _interval(r, "t", "school=A, cat=y")[:2] == (8, 11)


# --- rounding --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "n", "shown", "interval"),
    [
        (5, 10, "10", (8, 12)),
        (5, 12, "10", (8, 12)),
        (5, 13, "15", (13, 17)),
        (5, 2, "low", (1, 2)),
        (5, 3, "5", (3, 7)),
        (10, 10, "10", (5, 14)),
        (10, 4, "low", (1, 4)),
        (10, 15, "20", (15, 24)),
    ],
)
def test_rounding_intervals(base, n, shown, interval):
    pol = SuppressionPolicy("r", round_to=base)
    t = _frame(g=["a"], count=[n])
    assert apply_policy(t, pol)["shown"].tolist() == [shown]
    r = audit_tables({"t": t}, pol)
    assert tuple(r.cells[["lower", "upper"]].iloc[0]) == interval


def test_rounding_with_an_exact_total_narrows_both_cells():
    # round to 10: 4 -> low [1, 4], 12 -> 10 [5, 14]; exact total 16 => A in [2, 4], B in [12, 14]
    t = _frame(g=["a", "a"], c=["A", "B"], count=[4, 12])
    pol = SuppressionPolicy("r10", round_to=10, margins="exact")
    r = audit_tables({"t": t}, pol, margins={"tot": _frame(g=["a"], count=[16])})
    assert _interval(r, "t", "g=a, c=A") == (2, 4, "narrow")
    assert _interval(r, "t", "g=a, c=B") == (12, 14, "narrow")


# --- what each symbol means under the policy (issue 24 item 3) ---------------------------------


def test_issue_24_a_cell_shown_5_under_suppress_and_round_is_narrow():
    # Suppress 1-4, round the rest to 5: a cell shown as 5 was 5, 6 or 7 (3 and 4 would have been
    # suppressed), width 2 < the protection of 4. The others keep their full rounding interval.
    t = _frame(a=["x", "x", "y", "y"], b=["p", "q", "p", "q"], count=[6, 30, 22, 41])
    for method in ("auto", "lp", "milp"):
        r = audit_tables({"t": t}, "dfe_suppress_below_5_round_5", method=method)
        assert _interval(r, "t", "a=x, b=p") == (5, 7, "narrow")
        assert _interval(r, "t", "a=x, b=q") == (28, 32, "protected")
        assert _interval(r, "t", "a=y, b=p") == (18, 22, "protected")
        assert _interval(r, "t", "a=y, b=q") == (38, 42, "protected")
        assert r.failing["reason"].tolist() == [
            (
                "the rule: the symbol shown, read with the policy, leaves only this interval; "
                "interval narrower than the protection level"
            )
        ]
    assert apply_policy(t, "dfe_suppress_below_5_round_5")["shown"].tolist() == [
        "5",
        "30",
        "20",
        "40",
    ]


@pytest.mark.parametrize(
    ("pol", "n", "shown", "interval"),
    [
        # suppress 1-4 and round to 5: 5 means 5-7, 10 means 8-12; no count rounds to 0 unsuppressed
        (policy("dfe_suppress_below_5_round_5"), 7, "5", (5, 7)),
        (policy("dfe_suppress_below_5_round_5"), 8, "10", (8, 12)),
        # suppress 1-2, round to 5: 5 means 3-7 (3 and 4 are not suppressed)
        (SuppressionPolicy("s3r5", suppress_below=3, round_to=5), 3, "5", (3, 7)),
        # suppress 1-2, round to 10: low means 3 or 4, 10 means 5-14
        (SuppressionPolicy("s3r10", suppress_below=3, round_to=10), 4, "low", (3, 4)),
        (SuppressionPolicy("s3r10", suppress_below=3, round_to=10), 5, "10", (5, 14)),
        # zeros suppressed too (suppress 0-4), round to 10: 10 means 5-14, c means 0-4
        (SuppressionPolicy("z", suppress_below=5, suppress_from=0, round_to=10), 0, "c", (0, 4)),
        (SuppressionPolicy("z", suppress_below=5, suppress_from=0, round_to=10), 5, "10", (5, 14)),
        # suppress 1-6, round to 5: a 5 can only be 7
        (SuppressionPolicy("s7r5", suppress_below=7, round_to=5), 7, "5", (7, 7)),
        # round to 3: low can only be 1
        (SuppressionPolicy("r3", round_to=3), 1, "low", (1, 1)),
    ],
)
def test_what_a_symbol_means(pol, n, shown, interval):
    t = _frame(g=["a"], count=[n])
    assert apply_policy(t, pol)["shown"].tolist() == [shown]
    r = audit_tables({"t": t}, pol)
    assert tuple(r.cells[["lower", "upper"]].iloc[0]) == interval
    if interval[0] == interval[1]:  # the rule alone discloses the count
        assert r.cells["verdict"].iloc[0] == "exact" and r.cells["reason"].iloc[0].startswith(
            "the rule"
        )


@pytest.mark.parametrize("method", ["auto", "milp"])
def test_a_gap_in_what_a_symbol_allows_is_kept(method):
    # Suppress 2 only (1 is published), round to 10: low means 1, 3 or 4, never 2. Two low cells
    # with an exact total of 6 are both 3 (1 + 5 and 4 + 2 are ruled out), though each one's
    # hull [1, 4] alone would leave [2, 4] (the LP relaxation's answer).
    pol = SuppressionPolicy("gap", suppress_below=3, suppress_from=2, round_to=10)
    t = _frame(g=["a", "a"], c=["x", "y"], count=[3, 3])
    margins = {"tot": _frame(g=["a"], count=[6])}
    r = audit_tables({"t": t}, pol, margins=margins, method=method)
    assert _interval(r, "t", "g=a, c=x") == (3, 3, "exact")
    assert _interval(r, "t", "g=a, c=y") == (3, 3, "exact")
    assert r.milp_cells == 2
    relaxed = audit_tables({"t": t}, pol, margins=margins, method="lp")
    assert _interval(relaxed, "t", "g=a, c=x")[:2] == (2, 4)  # documented: the LP may understate


def test_secondary_suppression_is_not_in_the_suppressed_range():
    # x = 3 is suppressed by the rule ([1, 4]); y = 5 is a secondary suppression, so not 1-4:
    # 0 or at least 5. The total 28 - 20 gives x + y = 8: y in [5, 7], x in [1, 3].
    t = _frame(
        school=["A"] * 3, cat=["x", "y", "z"], count=[3, 5, 20], secondary=[False, True, False]
    )
    for method in ("auto", "milp"):
        r = audit_tables(
            {"t": t},
            "dfe_suppress_below_5",
            margins={"tot": _frame(school=["A"], count=[28])},
            suppressed="secondary",
            method=method,
        )
        assert _interval(r, "t", "school=A, cat=x") == (1, 3, "narrow")
        assert _interval(r, "t", "school=A, cat=y")[:2] == (5, 7)


def test_a_fractional_lp_optimum_is_not_trusted(monkeypatch):
    # "auto" takes an LP optimum only where it is integral (then an integer table attains it);
    # a component whose LP solution is fractional is solved again as an integer programme.
    from riskcalc import audit

    real = audit._solve
    calls = {"lp": 0, "milp": 0}

    def fractional_lp(c, A, b, idx, lo, hi, gap_lo, gap_hi):
        x = real(c, A, b, idx, lo, hi, gap_lo, gap_hi)
        calls["lp" if gap_lo is None else "milp"] += 1
        return x + 0.25 if gap_lo is None else x  # a wrong, fractional "optimum"

    counts = [[2, 3, 30], [4, 2, 40], [20, 25, 50]]
    cells = _frame(
        r=np.repeat(["a", "b", "c"], 3), c=np.tile(["p", "q", "s"], 3), count=np.ravel(counts)
    )
    margins = {
        "rows": cells.groupby("r", as_index=False)["count"].sum(),
        "cols": cells.groupby("c", as_index=False)["count"].sum(),
    }
    exact = audit_tables({"t": cells}, "dfe_suppress_below_5", margins=margins, method="milp").cells
    monkeypatch.setattr(audit, "_solve", fractional_lp)
    r = audit_tables({"t": cells}, "dfe_suppress_below_5", margins=margins)
    assert calls["milp"] == calls["lp"] > 0 and r.milp_cells == 4
    pd.testing.assert_frame_equal(
        r.cells[["lower", "upper", "verdict"]], exact[["lower", "upper", "verdict"]]
    )


# --- brute force -------------------------------------------------------------------------------

#: Every policy the audit offers by name, and custom ones (zeros suppressed, suppression ranges
#: inside a rounding interval, odd bases, totals exact or protected).
CUSTOM_POLICIES = st.builds(
    lambda below, start, base, margins: SuppressionPolicy(
        "custom", suppress_below=below, suppress_from=start, round_to=base, margins=margins
    ),
    st.sampled_from([0, 2, 3, 5]),
    st.sampled_from([0, 1, 2]),
    st.sampled_from([1, 2, 3, 5, 10]),
    st.sampled_from(["exact", "policy"]),
)
ALL_POLICIES = st.one_of(st.sampled_from(sorted(POLICIES)).map(policy), CUSTOM_POLICIES)


@st.composite
def linked_tables(draw, policies=None):
    na, nb, nc = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    cube = np.array(
        draw(st.lists(st.integers(0, 7), min_size=na * nb * nc, max_size=na * nb * nc))
    ).reshape(na, nb, nc)
    a, b, c = np.meshgrid(np.arange(na), np.arange(nb), np.arange(nc), indexing="ij")
    micro = pd.DataFrame({"a": a.ravel(), "b": b.ravel(), "c": c.ravel(), "count": cube.ravel()})
    t1 = micro.groupby(["a", "b"], as_index=False)["count"].sum()
    t2 = micro.groupby(["a", "c"], as_index=False)["count"].sum()
    tables = {
        "ab": t1[t1["count"] > 0].reset_index(drop=True),
        "ac": t2[t2["count"] > 0].reset_index(drop=True),
    }
    margins = {}
    if draw(st.booleans()):
        m = micro.groupby("a", as_index=False)["count"].sum()
        margins["a"] = m[m["count"] > 0].reset_index(drop=True)
    pol = draw(
        policies
        if policies is not None
        else st.sampled_from(
            [
                SuppressionPolicy("s3", suppress_below=3),
                SuppressionPolicy("s5", suppress_below=5),
                SuppressionPolicy("r5", round_to=5, margins="policy"),
                SuppressionPolicy("r5e", round_to=5, margins="exact"),
                SuppressionPolicy("s3r5", suppress_below=3, round_to=5, margins="policy"),
            ]
        )
    )
    return tables, margins, pol


def _sums(micro: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return micro.groupby(by, as_index=False)["count"].sum()


@st.composite
def audit_cases(draw):
    """Small linked tables of every layout the audit meets, under every kind of policy.

    * ``star``: two tables sharing one dimension (``a x b``, ``a x c``), with or without the
      ``a`` totals: the closed form;
    * ``two_way``: one 2 x 2, 2 x 3 or 3 x 3 table with its row and column totals (and the
      grand total): two sets of shared dimensions, linear programmes;
    * ``three_way``: a 2 x 2 x 2 or 2 x 2 x 3 table with its three two-way margins (not totally
      unimodular: integer programmes where the LP optimum is fractional).
    """
    layout = draw(st.sampled_from(["star", "two_way", "three_way"]))
    top = draw(st.sampled_from([7, 15]))
    if layout == "star":
        tables, margins, _ = draw(linked_tables())
        return layout, tables, margins, draw(ALL_POLICIES)
    shape = draw(
        st.sampled_from([(2, 2), (2, 3), (3, 3)] if layout == "two_way" else [(2, 2, 2), (2, 2, 3)])
    )
    size = int(np.prod(shape))
    counts = np.array(draw(st.lists(st.integers(0, top), min_size=size, max_size=size)))
    grid = np.meshgrid(*[np.arange(s) for s in shape], indexing="ij")
    names = "abc"[: len(shape)]
    micro = pd.DataFrame(
        {n: g.ravel() for n, g in zip(names, grid, strict=True)} | {"count": counts}
    )
    if draw(st.booleans()):  # zero cells listed or left out (both are published as 0 or c)
        micro = micro[micro["count"] > 0].reset_index(drop=True)
    if len(micro) == 0:
        micro = pd.DataFrame({n: [0] for n in names} | {"count": [draw(st.integers(1, top))]})
    if layout == "two_way":
        margins = {"rows": _sums(micro, ["a"]), "cols": _sums(micro, ["b"])}
        if draw(st.booleans()):
            margins["total"] = pd.DataFrame({"count": [int(micro["count"].sum())]}).assign(
                all="all"
            )[["all", "count"]]
    else:
        margins = {
            "ab": _sums(micro, ["a", "b"]),
            "ac": _sums(micro, ["a", "c"]),
            "bc": _sums(micro, ["b", "c"]),
        }
    return layout, {"t": micro}, margins, draw(ALL_POLICIES)


def _check_against_brute_force(tables, margins, pol, method, suppressed=None, cap=None):
    try:
        expected = brute_force(tables, pol, margins, suppressed=suppressed, cap=cap)
    except TooBig:
        assume(False)
    result = audit_tables(tables, pol, margins=margins, method=method, suppressed=suppressed)
    got = as_lookup(result, tables, margins, suppressed=suppressed)
    assert set(got) == set(expected)
    status = kinds(tables, pol, margins, suppressed=suppressed, cap=cap)
    for key, (lo, hi) in expected.items():
        if method == "lp":  # the LP relaxation contains the integer interval
            assert got[key][0] <= lo and got[key][1] >= hi, key
            continue
        assert got[key][:2] == (lo, hi), (key, got[key], (lo, hi))
        protection = pol.protection_for(np.array([status[key]], dtype=object))[0]
        assert got[key][2] == verdict(lo, hi, protection), key
    return result


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(audit_cases(), st.sampled_from(["auto", "lp", "milp"]))
def test_every_policy_equals_brute_force(case, method):
    # Issue 24 item 3, the class: for every policy (presets and custom), every layout (the
    # closed form, LPs, non-unimodular three-way tables), each audited cell's [lower, upper] is
    # the min and max over all integer tables the release allows, and the verdict follows.
    layout, tables, margins, pol = case
    result = _check_against_brute_force(tables, margins, pol, method)
    event(
        f"{layout}, {method}: {'integer programmes' if result.milp_cells else result.method.split(',')[0]}"
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(linked_tables(), st.sampled_from(["auto", "lp", "milp"]))
def test_intervals_match_brute_force(case, method):
    tables, margins, pol = case
    assume(all(len(t) for t in tables.values()))
    _check_against_brute_force(tables, margins, pol, method)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(
    linked_tables(policies=ALL_POLICIES.filter(lambda p: p.suppresses)),
    st.data(),
    st.sampled_from(["auto", "milp"]),
)
def test_secondary_suppressions_equal_brute_force(case, data, method):
    # A secondary suppression is a c the rule would have published: any count outside the
    # suppressed range (0 included), bounded here by the exact totals every cell sums to.
    tables, _, pol = case
    micro = pd.concat([t.groupby("a", as_index=False)["count"].sum() for t in tables.values()][:1])
    margins = {"a": micro.reset_index(drop=True)}
    pol = dataclasses.replace(pol, margins="exact")
    name = data.draw(st.sampled_from(sorted(tables)))
    t = tables[name]
    assume(len(t))
    flag = np.zeros(len(t), dtype=bool)
    flag[data.draw(st.integers(0, len(t) - 1))] = True
    tables = {**tables, name: t.assign(secondary=flag)}
    _check_against_brute_force(
        tables, margins, pol, method, suppressed="secondary", cap=int(micro["count"].max())
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_tables(), st.randoms(use_true_random=False))
def test_row_order_and_table_order_never_matter(case, rnd):
    tables, margins, pol = case
    assume(all(len(t) for t in tables.values()))
    base = (
        audit_tables(tables, pol, margins=margins)
        .cells.sort_values(["table", "cell"])
        .reset_index(drop=True)
    )
    shuffled = {
        k: v.sample(frac=1, random_state=rnd.randint(0, 10**6))
        for k, v in reversed(list(tables.items()))
    }
    again = (
        audit_tables(shuffled, pol, margins=margins)
        .cells.sort_values(["table", "cell"])
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(base, again)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_tables())
def test_closed_form_equals_lp(case):
    tables, margins, pol = case
    assume(all(len(t) for t in tables.values()))
    a = audit_tables(tables, pol, margins=margins, method="auto").cells
    b = audit_tables(tables, pol, margins=margins, method="milp").cells
    pd.testing.assert_frame_equal(
        a[["table", "cell", "lower", "upper"]], b[["table", "cell", "lower", "upper"]]
    )


# --- never the published value of a suppressed cell ---------------------------------------------


def test_no_true_value_of_a_protected_suppressed_cell_in_the_output():
    rng = np.random.default_rng(3)
    t = _frame(
        school=np.repeat(np.arange(30), 4),
        cat=np.tile(list("wxyz"), 30),
        count=rng.integers(1, 12, 120),
    )
    tot = t.groupby("school", as_index=False)["count"].sum()
    r = audit_tables({"t": t}, "dfe_suppress_below_5", margins={"tot": tot})
    assert list(r.cells.columns) == CELL_COLUMNS
    assert "count" not in r.cells.columns
    supp = r.cells[r.cells["status"] == "suppressed"]
    assert (supp["shown"] == "c").all()
    published = apply_policy(t, "dfe_suppress_below_5")
    assert "count" not in published.columns
    assert set(published.loc[published["status"] == "suppressed", "shown"]) == {"c"}
    # a protected cell's interval is never a single value
    assert (supp.loc[supp["verdict"] == "protected", "width"] > 0).all()
    text = json.dumps(r.cells.astype(str).to_dict("records"))
    assert "count" not in text


# --- tier 3 ----------------------------------------------------------------------------------


def test_tier3_audit_counts(tmp_path):
    import synthetic

    cohort = synthetic.generate_cohort(3_000, rng=1)
    tables = synthetic.tier3_tables(cohort, characteristics=["fsm_eligible", "sen_provision"])
    out = tier3_audit(tables, "dfe_suppress_below_5")
    assert list(out.columns) == TIER3_AUDIT_COLUMNS
    assert list(out["table"]) == list(tables)
    for _, row in out.iterrows():
        t = tables[row["table"]]
        assert row["cells"] == len(t)
        assert row["pupils"] == 3_000
        assert row["suppressed"] == int(((t["count"] >= 1) & (t["count"] < 5)).sum())
        assert row["exact_cells"] <= row["narrow_cells"] <= row["suppressed"]
    # differencing is a special case: every suppressed cell alone in its total is exact
    t = tables["urn_x_fsm_eligible"]
    key = ["urn", "nc_year", "sex"]
    small = t["count"] < 5
    alone = small.groupby([t[k] for k in key]).transform("sum") == 1
    assert out.set_index("table").loc["urn_x_fsm_eligible", "exact_cells"] >= int(
        (small & alone).sum()
    )
    # row order follows the input; the result does not depend on it
    backwards = tier3_audit(dict(reversed(list(tables.items()))), "dfe_suppress_below_5")
    assert list(backwards["table"]) == list(reversed(list(tables)))
    pd.testing.assert_frame_equal(backwards.iloc[::-1].reset_index(drop=True), out)
    # the closed form and the batched LP agree on real tables
    pd.testing.assert_frame_equal(tier3_audit(tables, "dfe_suppress_below_5", method="lp"), out)
    rounded = tier3_audit(tables, "dfe_round_5")
    pd.testing.assert_frame_equal(tier3_audit(tables, "dfe_round_5", method="lp"), rounded)
    assert (rounded["rounded"] == rounded["cells"]).all() and (rounded["suppressed"] == 0).all()


# --- parameters --------------------------------------------------------------------------------


def test_presets():
    assert set(POLICIES) >= {
        "dfe_suppress_below_5",
        "dfe_suppress_1_2",
        "dfe_round_5",
        "dfe_round_10",
        "ons_srs_10",
    }
    assert policy("ons_srs_10").suppress_below == 10
    assert policy("dfe_round_5", protection=2).protection == 2


def test_bad_input_one_line():
    t = _frame(g=["a"], count=[3])
    with pytest.raises(InvalidParameterError, match="'policy'"):
        audit_tables({"t": t}, 5)
    with pytest.raises(InvalidParameterError, match="'name'"):
        audit_tables({"t": t}, "nope")
    with pytest.raises(MissingColumnError, match="n"):
        audit_tables({"t": t}, "dfe_round_5", count="n")
    with pytest.raises(InvalidParameterError, match="non-negative whole"):
        audit_tables({"t": _frame(g=["a"], count=[-1])}, "dfe_round_5")
    with pytest.raises(InvalidParameterError, match="'round_to'"):
        SuppressionPolicy(round_to=0)
    with pytest.raises(InvalidParameterError, match="'method'"):
        audit_tables({"t": t}, "dfe_round_5", method="simplex")
    with pytest.raises(InvalidParameterError, match="inconsistent"):
        audit_tables(
            {"t": _frame(g=["a", "a"], c=[1, 2], count=[2, 9])},
            "dfe_suppress_below_5",
            margins={"m": _frame(g=["a"], count=[30])},
        )


# --- command line ------------------------------------------------------------------------------


def _write_folder(folder, tables, margins=None):
    folder.mkdir(exist_ok=True)
    for name, frame in list(tables.items()) + list((margins or {}).items()):
        frame.to_csv(folder / f"{name}.csv", index=False)


# the report's files, and the manifest riskcalc's output writer adds to every folder it writes
INTERNAL_FILES = sorted(
    [
        "internal_audit.json",
        "internal_audit.md",
        "internal_audit.provenance.json",
        "internal_audit_cells.csv",
        "internal_audit_tables.csv",
        "manifest.json",
    ]
)
RELEASE_FILES = sorted(f.replace("internal_", "release_") for f in INTERNAL_FILES)


@pytest.fixture
def school_folder(tmp_path):
    """The school tables and their totals written as CSV files in a folder: ``(folder, tables,
    margins, out)``, ``out`` a folder name for the outputs."""
    d = tmp_path / "tables"
    tables, margins = _school_tables()
    _write_folder(d, tables, margins)
    return d, tables, margins, tmp_path / "out"


def test_cli_audit_tables(school_folder, capsys):
    from riskcalc._cli import main

    d, tables, margins, out = school_folder
    assert main(["audit-tables", str(d), "--margins", "totals.csv", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "exactly recoverable: 2" in text
    assert sorted(p.name for p in out.iterdir()) == INTERNAL_FILES
    doc = json.loads((out / "internal_audit.json").read_text())
    assert doc["provenance"]["function"] == "audit_tables"
    assert len(doc["provenance"]["inputs"]) == 3 and doc["provenance"]["data"] == "file"
    cells = pd.read_csv(out / "internal_audit_cells.csv")
    assert list(cells.columns) == CELL_COLUMNS and set(cells["verdict"]) == {"exact"}
    # refuses to overwrite, one line
    assert main(["audit-tables", str(d), "--margins", "totals.csv", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--force" in err[0]
    assert main(["audit-tables", str(d), "--margins", "nope.csv"]) == 2
    assert "nope.csv" in capsys.readouterr().err


def test_issue_24_every_output_with_intervals_is_marked_internal(school_folder, capsys):
    # Issue 24 item 4: the report prints true counts (an exact cell's interval is its count):
    # the terminal text, every file name, the JSON and its provenance say it is internal.
    from riskcalc._cli import main

    d, tables, margins, out = school_folder
    assert main(["audit-tables", str(d), "--margins", "totals.csv", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("INTERNAL: contains the true counts") and "| 3 to 3 |" in text
    assert all(p.name.startswith("internal_") for p in out.iterdir() if p.name != "manifest.json")
    assert (out / "internal_audit.md").read_text().startswith("INTERNAL:")
    doc = json.loads((out / "internal_audit.json").read_text())
    assert (
        list(doc)[:3] == ["internal", "disclosive", "notice"]
        and doc["internal"]
        and doc["disclosive"]
    )
    assert doc["provenance"]["internal"] and doc["provenance"]["disclosive"]
    assert json.loads((out / "internal_audit.provenance.json").read_text())["internal"] is True
    assert main(["audit-tables", str(d), "--margins", "totals.csv", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["internal"] is True
    # the API: the repr and the frames say so too
    r = audit_tables(tables, "dfe_suppress_below_5", margins={"totals": margins["totals"]})
    assert "INTERNAL" in repr(r) and r.internal
    assert r.to_frame().attrs == {"internal": True, "disclosive": True}
    assert (
        r.cells.attrs["internal"] and r.tables.attrs["disclosive"] and r.failing.attrs["internal"]
    )


def test_issue_24_release_mode_lists_failing_cells_without_counts(school_folder, capsys):
    from riskcalc._cli import main

    d, tables, margins, out = school_folder
    assert (
        main(
            ["audit-tables", str(d), "--margins", "totals.csv", "--for-release", "--out", str(out)]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert (
        "INTERNAL" not in text
        and "3 to 3" not in text
        and "[3, 3]" not in text
        and "interval" not in text.lower().replace("no interval", "")
    )
    assert "| sex.csv | school=A, sex=F | suppressed | c | exact |" in text
    assert sorted(p.name for p in out.iterdir()) == RELEASE_FILES
    doc = json.loads((out / "release_audit.json").read_text())
    assert doc["internal"] is False and doc["disclosive"] is False and "cells" not in doc
    assert [c["cell"] for c in doc["failing_cells"]] == [
        "school=B, fsm=Y",
        "school=A, sex=F",
    ]  # files sorted by name
    assert set(doc["failing_cells"][0]) == {"table", "cell", "status", "shown", "verdict", "reason"}
    assert set(doc["tables"][0]) == {
        "table",
        "margin",
        "cells",
        "suppressed",
        "rounded",
        "exact_cells",
        "narrow_cells",
    }
    # the inputs are named, not hashed (a small table's hash is found by hashing the candidates)
    assert doc["provenance"]["inputs"] == [
        {"source": n} for n in ("fsm.csv", "sex.csv", "totals.csv")
    ]
    cells = pd.read_csv(out / "release_audit_cells.csv")
    assert list(cells.columns) == ["table", "cell", "status", "shown", "verdict", "reason"]
    release = audit_tables(
        tables, "dfe_suppress_below_5", margins={"totals": margins["totals"]}
    ).for_release()
    assert not release.internal and "INTERNAL" not in repr(release)
    assert release.failing.attrs == {"internal": False, "disclosive": False}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(audit_cases(), st.data())
def test_release_mode_depends_only_on_the_publication(tmp_path_factory, case, data):
    # The class behind item 4: the release report must hold nothing the tables hide. Any other
    # true tables that the policy publishes the same way give byte-identical release files,
    # so no true count of a protected cell (nor a sum of them) can be in them.
    from riskcalc._cli import main

    _, tables, margins, _ = case
    pol = policy(data.draw(st.sampled_from(sorted(POLICIES))))  # the policies the CLI offers
    assume(all(len(t) for t in tables.values()))
    try:
        others = consistent_tables(tables, pol, margins)
    except TooBig:
        assume(False)
    other = data.draw(st.sampled_from(others))
    same = all(other[0][k]["count"].equals(tables[k]["count"]) for k in tables)
    event("the same tables" if same else "other true tables")
    root = tmp_path_factory.mktemp("release")
    files = []
    for truth in ((tables, margins), other):
        _write_folder(root / "in", *truth)
        args = [
            "audit-tables",
            str(root / "in"),
            "--policy",
            pol.name,
            "--for-release",
            "--out",
            str(root / "out"),
            "--force",
        ] + (["--margins", ",".join(f"{m}.csv" for m in margins)] if margins else [])
        assert main(args) == 0
        files.append({p.name: p.read_bytes() for p in sorted((root / "out").iterdir())})
    assert files[0] == files[1]
    assert sorted(files[0]) == RELEASE_FILES
    doc = json.loads(files[0]["release_audit.json"])
    text = json.dumps(doc)
    for word in ("lower", "upper", "width", "pupils", "sha256", "bytes", "n_records"):
        assert f'"{word}' not in text


def test_cli_audit_tables_never_shows_a_protected_suppressed_value(tmp_path, capsys):
    from riskcalc._cli import main

    d = tmp_path / "t"
    d.mkdir()
    # 2 + 3 in one total of 25: both protected in [1, 4]
    pd.DataFrame({"school": ["A"] * 3, "cat": ["x", "y", "z"], "count": [2, 3, 20]}).to_csv(
        d / "t.csv", index=False
    )
    pd.DataFrame({"school": ["A"], "count": [25]}).to_csv(d / "m.csv", index=False)
    assert main(["audit-tables", str(d), "--margins", "m.csv", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    shown = [c["shown"] for c in doc["cells"]]
    assert shown == ["c", "c"]
    assert all((c["lower"], c["upper"]) == (1, 4) for c in doc["cells"])


@pytest.mark.parametrize("method", ["auto", "lp", "milp"])
def test_unbounded_cells_with_a_solver(method):
    # rule unknown, two linked tables, no totals.  School A: sex F = 2 (c), M = 3 (c), X = 28;
    # fsm Y = 30, N = 3 (c).  F + M + 28 = 30 + N with N >= 0: F is unbounded above.
    # School B: sex F = 11 published; fsm Y = 7, N = 4 (c): N = 11 - 7 = 4 exactly.
    pol = SuppressionPolicy("s", suppress_below=5, attacker_knows_rule=False)
    sex = _frame(school=["A", "A", "A", "B"], sex=["F", "M", "X", "F"], count=[2, 3, 28, 11])
    fsm = _frame(school=["A", "A", "B", "B"], fsm=["Y", "N", "Y", "N"], count=[30, 3, 7, 4])
    r = audit_tables({"sex": sex, "fsm": fsm}, pol, method=method)
    f = r.cells[(r.cells["table"] == "sex") & (r.cells["cell"] == "school=A, sex=F")]
    assert int(f["lower"].iloc[0]) == 0 and pd.isna(f["upper"].iloc[0])
    m = r.cells[(r.cells["table"] == "fsm") & (r.cells["cell"] == "school=B, fsm=N")]
    assert (int(m["lower"].iloc[0]), int(m["upper"].iloc[0])) == (4, 4)  # B: F = 11 = 7 + N


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_tables(), st.booleans())
def test_summary_only_audit_agrees_with_the_detailed_one(case, as_text):
    # details=False (categorical columns, no cell text) gives the same verdicts and summary;
    # dimensions held as integer codes or as text group the same cells.
    tables, margins, pol = case
    assume(all(len(t) for t in tables.values()))
    if as_text:
        tables = {
            k: v.assign(b=v["b"].map("b{}".format)) if "b" in v else v for k, v in tables.items()
        }
    full = audit_tables(tables, pol, margins=margins)
    brief = audit_tables(tables, pol, margins=margins, details=False)
    pd.testing.assert_frame_equal(full.tables, brief.tables)
    for column in ("table", "status", "verdict", "reason"):
        assert (
            brief.cells[column].astype(object).tolist()
            == full.cells[column].astype(object).tolist()
        )
    assert (brief.n_exact, brief.n_narrow) == (full.n_exact, full.n_narrow)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_tables())
def test_dimensions_as_categories_audit_as_text(case):
    # Categorical dimensions (of one dtype across tables) group cells as their text does.
    tables, margins, pol = case
    assume(all(len(t) for t in tables.values()))
    dtype = pd.CategoricalDtype(["a0", "a1", "a2"])
    as_cat = {k: v.assign(a=v["a"].map("a{}".format).astype(dtype)) for k, v in tables.items()}
    as_text = {k: v.assign(a=v["a"].map("a{}".format)) for k, v in tables.items()}
    m_cat = {k: v.assign(a=v["a"].map("a{}".format).astype(dtype)) for k, v in margins.items()}
    m_text = {k: v.assign(a=v["a"].map("a{}".format)) for k, v in margins.items()}
    a = audit_tables(as_cat, pol, margins=m_cat)
    b = audit_tables(as_text, pol, margins=m_text)
    pd.testing.assert_frame_equal(a.tables, b.tables)
    assert a.cells[["lower", "upper", "verdict"]].equals(b.cells[["lower", "upper", "verdict"]])


# ------------------------------------------------------------------------ blank categories
def test_blank_category_is_a_category_labelled_missing(tmp_path):
    """Before: a blank dimension value crashed the audit (``internal error: TypeError``, exit 3),
    as it crashed the output checker (issue 24, item 5's sibling)."""
    from riskcalc._cli import main

    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "t.csv").write_text("LA,Sex,count\n206,F,12\n206,,3\n206,M,15\n208,F,20\n208,M,2\n")
    assert main(["audit-tables", str(folder)]) == 0
    res = audit_tables(
        {
            "t": pd.DataFrame(
                {
                    "LA": [206, 206, 206, 208, 208],
                    "Sex": ["F", None, "M", "F", "M"],
                    "count": [12, 3, 15, 20, 2],
                }
            )
        },
        "dfe_suppress_below_5",
    )
    assert set(res.cells["cell"]) == {"LA=206, Sex=(missing)", "LA=208, Sex=M"}


_BLANKS = [None, np.nan, pd.NA, "", "  "]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, 12), min_size=4, max_size=4),
    st.sampled_from(_BLANKS),
    st.sampled_from(["dfe_suppress_below_5", "dfe_round_5", "dfe_suppress_below_5_round_5"]),
)
def test_a_blank_category_audits_as_any_other_label(counts, blank, policy):
    """Relabelling a category never changes an interval: a blank category (any spelling of
    blank) gives the intervals the same table gives with the category written 'Z'."""

    def table(label):
        return {
            "t": pd.DataFrame(
                {"a": ["x", "x", "y", "y"], "b": ["p", label, "p", label], "count": counts}
            )
        }

    with_blank = audit_tables(table(blank), policy).cells
    with_z = audit_tables(table("Z"), policy).cells
    assert list(with_blank["cell"].str.replace("b=(missing)", "b=Z", regex=False)) == list(
        with_z["cell"]
    )
    cols = ["status", "shown", "lower", "upper", "verdict"]
    pd.testing.assert_frame_equal(
        with_blank[cols].reset_index(drop=True), with_z[cols].reset_index(drop=True)
    )
