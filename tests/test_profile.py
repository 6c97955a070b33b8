"""The profile of messy quasi-identifiers, on crafted columns, and the opt-in normalisation."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import riskcalc as rc


def _one(values, name="c"):
    return rc.profile_columns(pd.DataFrame({name: pd.Series(values, dtype=object)})).columns[0]


def test_case_and_space_variants_are_counted():
    p = _one(["F", "f", "F ", "M", "m", "X"])
    # F, f, "F " collapse to one group of 3 (2 extra), M, m to one (1 extra)
    assert p.case_or_space_variants == 3 and p.padded_values == 1


def test_clean_column_has_no_problems():
    p = _one(["F", "M", "F", "M"] * 10)
    assert p.problems() == [] and p.smallest_class == 20 and p.n_distinct == 2


def test_mixed_date_formats():
    p = _one(["2015-09-01", "01/09/2015", "2016-01-31", "31/01/2016"])
    assert p.date_formats == ("yyyy-mm-dd", "dd/mm/yyyy")
    assert "dates written in 2 formats" in p.problems()[0]
    assert _one(["2015-09-01", "2016-01-31"]).date_formats == ("yyyy-mm-dd",)


def test_numbers_spelt_two_ways():
    assert _one(["07", "7", "8", "8.0", "9"]).number_spellings == 2
    assert _one(["7", "8", "9"]).number_spellings == 0


def test_direct_identifiers_by_share_and_by_name():
    ids = [f"P{i:05d}" for i in range(50)]
    assert _one(ids, name="ref").looks_like_identifier
    assert _one(["A", "B", "A"], name="upn").looks_like_identifier
    assert not _one(["A", "B"] * 25, name="school").looks_like_identifier


def test_missing_and_smallest_class():
    p = _one(["A", None, "A", "B", None, "A"])
    assert (p.n_missing, p.n_distinct, p.smallest_class) == (2, 2, 1)


def test_messages_carry_no_values():
    df = pd.DataFrame({"postcode": ["AB1 2CD", "ab1 2cd", "ZZ9 9ZZ "], "dob": ["2015-09-01", "01/09/2015", "x"]})
    text = " ".join(rc.profile_columns(df).problems())
    for value in ("AB1", "ab1", "ZZ9", "2015", "09/2015"):
        assert value not in text


def test_normalise_fixes_and_records_and_leaves_input_alone():
    df = pd.DataFrame({"sex": ["F", "f", "M ", "M", None, ""], "year": ["07", "7", "8", "8.0", "9", "9"],
                       "dob": ["2015-09-01", "01/09/2015", "2015-09-02", "20150903", "2015-09-01", None]})
    before = df.copy()
    fixed, changes = rc.normalise(df, ["sex", "year", "dob"])
    pd.testing.assert_frame_equal(df, before)
    assert fixed["sex"].tolist()[:4] == ["F", "F", "M", "M"] and fixed["sex"].isna().sum() == 2
    assert fixed["year"].tolist() == ["7", "7", "8", "8", "9", "9"]
    assert fixed["dob"].tolist()[:4] == ["2015-09-01", "2015-09-01", "2015-09-02", "2015-09-03"]
    assert (changes["sex"]["distinct_before"], changes["sex"]["distinct_after"]) == (5, 2)  # "" a value before
    assert changes["sex"]["kind"] == "sex" and [r["rule"] for r in changes["sex"]["rules"]] == ["case_or_space"]
    # fewer spellings can only merge classes: uniqueness never rises after normalisation
    assert rc.uniqueness(fixed, ["sex", "year"]).n_unique <= rc.uniqueness(df, ["sex", "year"]).n_unique


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["a", "A", " a", "b", "B ", "07", "7", "c"]), min_size=1, max_size=40))
def test_variant_count_against_a_direct_count(values):
    groups: dict = {}
    for v in set(values):
        groups.setdefault(v.strip().upper(), set()).add(v)
    expected = sum(len(g) - 1 for g in groups.values())
    assert _one(values).case_or_space_variants == expected
