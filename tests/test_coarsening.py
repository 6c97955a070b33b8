"""The smallest coarsening: the intruder matches on what it knows that the release tells.

Before (issue 24, item 7), each scenario was measured on its own columns' levels only, so a
search could release the date of birth as the year of birth and still "withhold" the
``year_of_birth`` column: the CLI said year of birth was both kept and withheld, and the
figures of an intruder who knows the year and month of birth ignored the date-of-birth column.
The reference here rebuilds the information graph from the raw registry declarations (fields,
ladder levels, ``same_as``) and searches every combination of levels by brute force.
"""

from __future__ import annotations

import itertools
from collections import Counter

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskcalc as rc
import synthetic
from riskcalc.release.ladders import WITHHELD, ladder_length, level_name
from synthetic import FIELDS, GUESSED_BY


@pytest.fixture(scope="module")
def cohort():
    return synthetic.generate_cohort(2_000, rng=7)


def _graph() -> dict[str, set[str]]:
    """Name -> names it determines: each field's ``determines``, its ladder as a chain (field ->
    first level -> next level ...), and a level's ``same_as`` fields."""
    out: dict[str, set[str]] = {}
    for f in FIELDS:
        out.setdefault(f.name, set()).update(f.determines)
        names = [f.name] + [r.column or r.name for r in f.ladder]
        for a, b, rung in zip(names, names[1:], f.ladder):
            out.setdefault(a, set()).add(b)
            out.setdefault(b, set()).update(rung.same_as)
    return out


def _closure(names) -> set[str]:
    graph, known = _graph(), set(names)
    while True:
        more = {b for a in known for b in graph.get(a, ())} - known
        if not more:
            return known
        known |= more


def _values(cohort: pd.DataFrame, name: str) -> list:
    if name in cohort.columns:
        return cohort[name].astype(object).tolist()
    for f in FIELDS:  # a ladder level that is no column: the registry's own coarsening
        names = [r.column or r.name for r in f.ladder]
        if name in names and f.name in cohort.columns:
            return f.generalise(cohort, names.index(name) + 1).astype(object).tolist()
    raise AssertionError(name)


def _brute_force(cohort, scenarios: dict, target_k: int, max_suppressed: float):
    fields = sorted({f for fs in scenarios.values() for f in fs})
    lengths = [ladder_length(f) for f in fields]
    knows = {}
    for name, fs in scenarios.items():
        known = _closure(fs)
        knows[name] = _closure(known | {GUESSED_BY[g] for g in known if g in GUESSED_BY})
    memo = {}
    n = len(cohort)
    for levels in sorted(
        itertools.product(*[range(m + 1) for m in lengths]), key=lambda v: (sum(v), v)
    ):
        told = _closure(
            {level_name(f, lvl) for f, lvl in zip(fields, levels) if level_name(f, lvl) != WITHHELD}
        )
        figures = {}
        for name in scenarios:
            match = tuple(sorted(knows[name] & told))
            if match not in memo:
                keys = list(zip(*[_values(cohort, m) for m in match])) if match else [()] * n
                counts = Counter(keys)
                fk = [counts[key] for key in keys]
                memo[match] = (min(fk), sum(v < target_k for v in fk))
            figures[name] = memo[match]
        if all(low <= max_suppressed * n for _, low in figures.values()):
            named = {f: level_name(f, lvl) for f, lvl in zip(fields, levels) if lvl}
            return named, sum(levels), figures
    raise AssertionError("withholding everything always works")


def test_a_field_is_never_released_and_withheld_at_once(cohort):
    """The issue's case: scenarios knowing the date of birth and ones knowing the year and month
    of birth. No withheld field may still be told by another released field."""
    scenarios = {
        "neighbour": ["sex", "date_of_birth", "postcode"],
        "gate": ["urn", "nc_year", "sex", "year_of_birth", "month_of_birth"],
    }
    res = rc.smallest_coarsening(cohort, 3, max_suppressed=0.05, scenarios=scenarios)
    released = {level for f, level in res.coarsening.items() if level != WITHHELD}
    released |= {f for fs in scenarios.values() for f in fs if f not in res.coarsening}
    told = _closure(released)
    withheld = [f for f, level in res.coarsening.items() if level == WITHHELD]
    assert not [f for f in withheld if f in told], res
    assert "withheld" not in res.describe() or all(f not in told for f in withheld)


def test_the_gate_intruder_matches_on_a_coarsened_date_of_birth(cohort):
    """Withholding the year and month of birth columns protects nothing while the date of birth
    is released as year and month (or finer): the gate intruder reads them off it."""
    from riskcalc.release.coarsening import _Information

    info = _Information()
    gate = info.closure(["sex", "year_of_birth", "month_of_birth"])
    for level, expected in [
        ("date_of_birth", {"year_of_birth", "month_of_birth"}),
        ("year_month_of_birth", {"year_of_birth", "month_of_birth"}),
        ("year_of_birth", {"year_of_birth"}),
    ]:
        assert gate & info.of(level) == expected
    assert not (gate & info.of("postcode"))
    scenarios = {"gate": ["sex", "year_of_birth", "month_of_birth"], "dob": ["date_of_birth"]}
    res = rc.smallest_coarsening(cohort, 3, max_suppressed=0.3, scenarios=scenarios)
    got, steps, figures = _brute_force(cohort, scenarios, 3, 0.3)
    assert (res.coarsening, res.steps) == (got, steps)
    row = res.result.set_index("scenario").loc["gate"]
    if res.coarsening.get("date_of_birth", "date_of_birth") != WITHHELD:
        assert "year_of_birth" in row["matched_on"]


@pytest.mark.parametrize("target_k, max_suppressed", [(2, 0.0), (3, 0.02), (5, 0.05), (10, 0.1)])
def test_equals_brute_force_on_overlapping_scenarios(cohort, target_k, max_suppressed):
    scenarios = {
        "neighbour": ["sex", "date_of_birth", "postcode"],
        "gate": ["urn", "sex", "year_of_birth", "month_of_birth"],
        "area": ["lsoa", "sex"],
    }
    res = rc.smallest_coarsening(
        cohort, target_k, max_suppressed=max_suppressed, scenarios=scenarios
    )
    named, steps, figures = _brute_force(cohort, scenarios, target_k, max_suppressed)
    assert (res.coarsening, res.steps) == (named, steps)
    got = {r.scenario: (r.k_after, r.below_target) for r in res.result.itertuples()}
    assert got == figures


_POOL = [
    "sex",
    "date_of_birth",
    "year_of_birth",
    "month_of_birth",
    "urn",
    "la_code",
    "nc_year",
    "postcode",
    "lsoa",
    "ethnic_group_minor",
]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.lists(st.sampled_from(_POOL), min_size=1, max_size=3, unique=True),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from([2, 3, 5]),
    st.sampled_from([0.0, 0.05, 0.2]),
)
def test_random_scenarios_equal_brute_force(cohort, fields, target_k, max_suppressed):
    scenarios = {f"s{i}": fs for i, fs in enumerate(fields)}
    if sum(ladder_length(f) for fs in fields for f in set(fs)) > 14:
        return  # keep the brute force small
    res = rc.smallest_coarsening(
        cohort, target_k, max_suppressed=max_suppressed, scenarios=scenarios
    )
    named, steps, figures = _brute_force(cohort, scenarios, target_k, max_suppressed)
    assert (res.coarsening, res.steps) == (named, steps)
    assert {r.scenario: (r.k_after, r.below_target) for r in res.result.itertuples()} == figures


def test_describe_names_released_levels_and_withheld_fields(cohort):
    res = rc.smallest_coarsening(
        cohort, 3, max_suppressed=0.05, scenarios={"a": ["sex", "date_of_birth", "postcode"]}
    )
    text = res.describe()
    assert " -> " not in text
    for f, level in res.coarsening.items():
        assert (
            (f"{f} as {level}" in text) if level != WITHHELD else (f in text.split("withheld: ")[1])
        )
