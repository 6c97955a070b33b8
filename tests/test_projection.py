"""Projection of a scenario onto an extract: the transitive closure of the registry's dependency
graph, the finest field of each chain, best guesses (the school's LA for the home LA), and the
figures of a guessed row counted only where the guess is right (issue 24, item 1)."""

from __future__ import annotations

import itertools

import _reference_projection as ref
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import riskcalc as rc
import synthetic
from riskcalc.release.scenarios import Scenario
from riskcalc.release.tables import _extract_rows, project_scenario, split_guesses
from synthetic.schema import DETERMINES, FIELD_NAMES, GUESSED_BY, RECORD_TIERS

QIS = synthetic.quasi_identifiers()


@pytest.fixture(scope="module")
def cohort():
    return synthetic.generate_cohort(30_000, rng=11)


@pytest.fixture(scope="module")
def table(cohort):
    return rc.tier_risk_table(cohort, tiers=(1, 2, 4), attributes=False)


# ------------------------------------------------------------------------------ the regression
def test_tier4_neighbour_is_measured_on_the_school_la_as_a_guess(cohort, table):
    """The issue: tier 4 printed the neighbour scenario as 0 unique pupils (sex, year and month
    of birth only), while the postcode gives the home LA, which tier 4 holds as the school's LA
    for all but the pupils who cross an LA border to school."""
    rec = table.records.set_index(["tier", "scenario"])
    row = rec.loc[(4, "neighbour")]
    assert row["projected"]
    assert row["fields"] == ("sex", "year_of_birth", "month_of_birth", "la_code~home_la")
    assert row["n_unique"] > 0
    got = ref.guessed_figures(
        cohort, ("sex", "year_of_birth", "month_of_birth", "la_code"), (("la_code", "home_la"),)
    )
    assert row["n_unique"] == got["n_unique"]
    assert [row["records_below_3"], row["records_below_5"], row["records_below_10"]] == got["below"]
    assert row["average_risk"] == pytest.approx(got["risk"])
    assert (row["records_guessed_wrong"], row["records_wrongly_singled_out"]) == (
        got["wrong"],
        got["wrongly"],
    )
    # the guess fails for exactly the pupils who cross an LA border, and then never counts
    away = int((cohort["home_la"].astype(str) != cohort["la_code"].astype(str)).sum())
    assert row["records_guessed_wrong"] == away > 0
    plain = rc.uniqueness(
        synthetic.tier_extract(cohort, 4), ["sex", "year_of_birth", "month_of_birth", "la_code"]
    )
    assert row["n_unique"] < plain.n_unique
    # home_area knows the same on tier 4 (its LSOA gives the home LA, not the school's)
    assert rec.loc[(4, "home_area"), "fields"] == row["fields"]
    assert rec.loc[(4, "home_area"), "n_unique"] == row["n_unique"]


def test_guesses_flow_to_every_output(table):
    csv = table.to_csv()["records"]
    assert "records_guessed_wrong,records_wrongly_singled_out" in csv.splitlines()[0]
    assert "la_code~home_la" in csv
    doc = table.to_json()
    assert 'month_of_birth, la_code~home_la"' in doc and '"records_guessed_wrong": null' in doc
    md = rc.tier_risk_table(synthetic.generate_cohort(2_000, rng=1), tiers=(4,)).to_markdown()
    assert "neighbour (projected)" in md


# ------------------------------------------------------------------------------ the graph
def test_graph_is_the_declarations():
    assert {k: set(v) for k, v in DETERMINES.items()} == ref.edges()
    assert dict(GUESSED_BY) == ref.guesses_of() == {"home_la": "la_code", "home_region": "region"}
    for name in FIELD_NAMES:
        assert set(synthetic.closure([name])) == ref.closure([name])
        assert synthetic.determines(name) == DETERMINES[name]
    with pytest.raises(synthetic.SyntheticError, match="Unknown field"):
        synthetic.determines("postcod")


def test_every_edge_holds_on_a_cohort(cohort):
    """``a -> b``: each value of ``a`` comes with one value of ``b`` (home LA and school LA are
    two fields: the LSOA gives the first, the school the second)."""
    for a, targets in DETERMINES.items():
        for b in targets:
            assert cohort.groupby(a, observed=True)[b].nunique(dropna=False).max() == 1, (a, b)
    assert cohort.groupby("lsoa", observed=True)["la_code"].nunique().max() > 1


def test_ladders_agree_with_the_graph():
    for f in synthetic.FIELDS:
        rungs = [r.column or r.name for r in f.ladder]
        names = [n for n in rungs if n in DETERMINES]
        for finer, coarser in itertools.pairwise(names):
            assert coarser in synthetic.closure([finer]), (f.name, finer, coarser)


# ------------------------------------------------------------------------------ the property
def _check(fields, columns) -> tuple[str, ...]:
    """``project_scenario`` against the brute-force closure: what it keeps is held, loses
    nothing the extract holds of the closure and is not redundant; its guesses are exactly the
    known fields that nothing kept determines, whose guess the extract holds, less those
    another guess determines."""
    got = project_scenario(fields, columns)
    columns = set(columns)
    assert len(set(got)) == len(got)
    if set(fields) <= columns:
        assert got == ()
        return got
    kept = [f for f in got if "~" not in f]
    used, guesses = split_guesses(got)
    known = ref.closure(fields)
    held = known & columns
    assert set(kept) <= held
    assert ref.closure(kept) & columns == held  # nothing the extract holds is lost
    for f in kept:  # nothing kept is implied by the rest
        assert f not in ref.closure(set(kept) - {f}), (fields, f)
    reached = ref.closure(kept)
    cand = {
        h
        for h in known - reached
        if ref.guesses_of().get(h) in columns and ref.guesses_of()[h] not in reached
    }
    expected = {h for h in cand if not any(h in ref.closure([o]) for o in cand - {h})}
    assert {h for _, h in guesses} == expected, (fields, sorted(columns))
    assert all(c == ref.guesses_of()[h] and f"{c}~{h}" in got for c, h in guesses)
    assert (got == ()) == (not held and not expected)
    return got


@pytest.mark.parametrize("tier", RECORD_TIERS)
def test_every_field_on_every_tier(tier):
    columns = synthetic.columns_for_tier(tier)
    for name in FIELD_NAMES:
        _check((name,), columns)
        _check(("sex", name), columns)


@settings(max_examples=300, deadline=None)
@given(
    fields=st.lists(st.sampled_from(QIS + ("my_own_column",)), min_size=1, max_size=8, unique=True),
    columns=st.one_of(
        st.sampled_from(RECORD_TIERS).map(synthetic.columns_for_tier),
        st.sets(st.sampled_from(FIELD_NAMES + ("my_own_column",)), max_size=20),
    ),
)
def test_projection_is_the_brute_force_closure(fields, columns):
    _check(tuple(fields), tuple(sorted(columns)) if isinstance(columns, set) else columns)


def test_dropping_implied_fields_changes_no_class(cohort):
    """On data: the kept fields give the classes of everything the extract holds of the
    closure (the graph's edges are functions), for every field, with sex, on every tier."""
    for tier in RECORD_TIERS:
        columns = synthetic.columns_for_tier(tier)
        for name in QIS:
            got = project_scenario(("sex", name), columns)
            kept = [f for f in got if "~" not in f]
            if not kept:
                continue
            held = sorted(ref.closure(("sex", name)) & set(columns))
            assert (
                cohort.groupby(kept, observed=True).ngroups
                == cohort.groupby(held, observed=True).ngroups
            )


# ------------------------------------------------------------------------------ guessed figures
def _frame(data) -> pd.DataFrame:
    n = len(data)
    a = [d[0] for d in data]
    school = [d[1] for d in data]
    home = [d[2] for d in data]
    return pd.DataFrame(
        {"a": a, "la_code": pd.Categorical(school), "home_la": pd.Categorical(home)},
        index=pd.RangeIndex(n),
    )


_VALUE = st.one_of(st.none(), st.sampled_from(["201", "202", "203", "204"]))


@settings(max_examples=200, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(0, 3), _VALUE, _VALUE), min_size=1, max_size=60),
    as_text=st.booleans(),
)
def test_guessed_figures_equal_a_pupil_by_pupil_count(data, as_text):
    frame = _frame(data)
    if as_text:  # plain object columns: codes matched by value, not by position
        frame = frame.astype({"la_code": object, "home_la": object})
    enc = rc.encode(frame, ["a", "la_code", "home_la"])
    shell = pd.DataFrame(columns=["a", "la_code"])
    records, attributes = _extract_rows(
        "x", shell, [Scenario("s", ("a", "home_la"))], [], enc=enc, project=True
    )
    (row,) = records
    assert row["fields"] == ("a", "la_code~home_la") and row["projected"] and not attributes
    got = ref.guessed_figures(frame, ("a", "la_code"), (("la_code", "home_la"),))
    assert row["n_unique"] == got["n_unique"]
    assert [row["records_below_3"], row["records_below_5"], row["records_below_10"]] == got["below"]
    assert row["average_risk"] == pytest.approx(got["risk"])
    assert (row["records_guessed_wrong"], row["records_wrongly_singled_out"]) == (
        got["wrong"],
        got["wrongly"],
    )
    assert (row["k"], row["n_classes"]) == (got["k"], got["n_classes"])


def test_without_the_truth_every_guess_counts_as_right(cohort):
    """A cohort without ``home_la`` (an older file): the row assumes every guess right, an upper
    bound, and says nothing of wrong guesses."""
    old = cohort.drop(columns=["home_la", "home_region"])
    rec = rc.tier_risk_table(old, tiers=(4,), attributes=False).records.set_index("scenario")
    plain = rc.uniqueness(old, ["sex", "year_of_birth", "month_of_birth", "la_code"])
    assert rec.loc["neighbour", "n_unique"] == plain.n_unique
    assert pd.isna(rec.loc["neighbour", "records_guessed_wrong"])


def test_a_coarsened_school_la_is_checked_against_the_home_region(cohort):
    """What-if: with the school's LA cut to its region, the guess is of the home region."""
    rec = rc.tier_risk_table(
        cohort, tiers=(4,), coarsening={"la_code": "region"}, attributes=False
    ).records.set_index("scenario")
    row = rec.loc["neighbour"]
    assert row["fields"] == ("sex", "year_of_birth", "month_of_birth", "la_code~home_la")
    frame = cohort.assign(
        la_code=cohort["region"].astype(str), home_la=cohort["home_region"].astype(str)
    )
    got = ref.guessed_figures(
        frame, ("sex", "year_of_birth", "month_of_birth", "la_code"), (("la_code", "home_la"),)
    )
    assert (row["n_unique"], row["records_guessed_wrong"]) == (got["n_unique"], got["wrong"])


def test_cohort_fields_read_the_truth():
    from riskcalc.release.tables import cohort_fields

    read = cohort_fields(synthetic.FIELD_NAMES)
    assert "home_la" in read and "la_code" in read
    assert np.all([f in synthetic.FIELD_NAMES for f in read])


def test_the_report_says_how_often_the_guess_fails(table):
    """The report's tier-table note gives the guessed rows' failures in counts, not only the rule."""
    from riskcalc.release.report import html_report

    rec = table.records
    wrong = int(rec["records_guessed_wrong"].dropna().iloc[0])
    page = html_report(table)
    assert f"the guess is wrong for {wrong:,} of {int(rec['n_records'].iloc[0]):,} pupils" in page
