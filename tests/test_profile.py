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
    df = pd.DataFrame(
        {"postcode": ["AB1 2CD", "ab1 2cd", "ZZ9 9ZZ "], "dob": ["2015-09-01", "01/09/2015", "x"]}
    )
    text = " ".join(rc.profile_columns(df).problems())
    for value in ("AB1", "ab1", "ZZ9", "2015", "09/2015"):
        assert value not in text


def test_normalise_fixes_and_records_and_leaves_input_alone():
    df = pd.DataFrame(
        {
            "sex": ["F", "f", "M ", "M", None, ""],
            "year": ["07", "7", "8", "8.0", "9", "9"],
            "dob": ["2015-09-01", "01/09/2015", "2015-09-02", "20150903", "2015-09-01", None],
        }
    )
    before = df.copy()
    fixed, changes = rc.normalise(df, ["sex", "year", "dob"])
    pd.testing.assert_frame_equal(df, before)
    assert fixed["sex"].tolist()[:4] == ["F", "F", "M", "M"] and fixed["sex"].isna().sum() == 2
    assert fixed["year"].tolist() == ["7", "7", "8", "8", "9", "9"]
    assert fixed["dob"].tolist()[:4] == ["2015-09-01", "2015-09-01", "2015-09-02", "2015-09-03"]
    assert (changes["sex"]["distinct_before"], changes["sex"]["distinct_after"]) == (
        5,
        2,
    )  # "" a value before
    assert changes["sex"]["kind"] == "sex" and [r["rule"] for r in changes["sex"]["rules"]] == [
        "case_or_space"
    ]
    # fewer spellings can only merge classes: uniqueness never rises after normalisation
    assert (
        rc.uniqueness(fixed, ["sex", "year"]).n_unique
        <= rc.uniqueness(df, ["sex", "year"]).n_unique
    )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "A", " a", "b", "B ", "07", "7", "c"]), min_size=1, max_size=40)
)
def test_variant_count_against_a_direct_count(values):
    groups: dict = {}
    for v in set(values):
        groups.setdefault(v.strip().upper(), set()).add(v)
    expected = sum(len(g) - 1 for g in groups.values())
    assert _one(values).case_or_space_variants == expected


def test_values_no_record_holds_are_not_counted(tmp_path):
    """A sample of a categorical table keeps the whole table's categories (a Parquet dictionary
    too). Before, the profile counted them: a 10% sample's postcodes were "166.7% distinct" and
    flagged as a direct identifier, and spellings of unused categories read as messy values."""
    used = pd.DataFrame(
        {
            "sex": pd.Categorical(["F", "M"] * 50, categories=["F", "M", "f", " M"]),
            "pc": pd.Categorical(
                [f"A{i % 40} 1AA" for i in range(100)], categories=[f"A{i} 1AA" for i in range(400)]
            ),
        }
    )
    p = rc.profile_columns(used, ["sex", "pc"])
    by = {c.name: c for c in p.columns}
    assert by["sex"].n_distinct == 2 and by["sex"].case_or_space_variants == 0
    assert by["pc"].n_distinct == 40 and not by["pc"].looks_like_identifier
    assert p.problems() == []
    path = tmp_path / "s.parquet"
    used.to_parquet(path)
    assert {c.name: c.n_distinct for c in rc.profile_columns(path, ["sex", "pc"]).columns} == {
        "sex": 2,
        "pc": 40,
    }
    frame, record = rc.normalise(used, ["sex", "pc"])
    assert list(frame["sex"].astype(str)) == list(used["sex"].astype(str))
    assert {name: r["distinct_before"] for name, r in record.items()} == {"sex": 2, "pc": 40}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["F", "M", "f ", " m", "X"]), min_size=1, max_size=30),
    st.lists(st.sampled_from(["F", "M", "f ", " m", "X", "Y", "y"]), max_size=5),
)
def test_unused_categories_never_change_the_profile(values, extra):
    plain = pd.DataFrame({"c": pd.Categorical(values)})
    cats = list(dict.fromkeys(sorted(set(values)) + extra))
    wide = pd.DataFrame({"c": pd.Categorical(values, categories=cats)})
    a, b = (rc.profile_columns(f, ["c"]).columns[0] for f in (plain, wide))
    assert (
        a.n_distinct,
        a.case_or_space_variants,
        a.padded_values,
        a.smallest_class,
        a.looks_like_identifier,
    ) == (
        b.n_distinct,
        b.case_or_space_variants,
        b.padded_values,
        b.smallest_class,
        b.looks_like_identifier,
    )
