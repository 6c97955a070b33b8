"""The release ledger (issue 29): the synthetic register and the ledger reader/writer.

The synthetic register must reproduce the published tallies exactly, by period and tier, for any
seed; its recipients must repeat with the heavy tail documented in ``synthetic/ledger.py``; a
ledger must survive CSV and TOML round trips; each bad input is one line naming the file, the
line or release and the column, never a value from the file (except a field name)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import synthetic
from riskcalc.exceptions import DataFileError, InvalidParameterError
from riskcalc.release.ledger import (
    LEDGER_COLUMNS,
    ledger_frame,
    read_ledger,
    write_ledger_csv,
    write_ledger_toml,
)
from synthetic.exceptions import SyntheticError
from synthetic.ledger import FIELD_TEMPLATES, PERIODS, TALLIES
from synthetic.schema import FIELD_NAMES, LA_CODES

SEEDS = (0, 1, 2)


def _tally(frame: pd.DataFrame) -> tuple[int, ...]:
    tiers = frame["tier"]
    return tuple(int((tiers == t).sum()) for t in (1, 2, 3, 4)) + (int(tiers.isna().sum()),)


@pytest.fixture(scope="module")
def ledgers() -> dict[tuple[int, str], pd.DataFrame]:
    return {(s, p): synthetic.generate_ledger(rng=s, period=p) for s in SEEDS for p in PERIODS}


# --------------------------------------------------------------------------------------------
# The synthetic register
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("period", list(PERIODS))
def test_tallies_are_the_published_ones(ledgers, seed, period):
    frame = ledgers[seed, period]
    assert _tally(frame) == TALLIES[period]
    assert (
        _tally(frame)
        == {
            "2012-2014": (163, 177, 11, 53, 60),
            "2012-2016": (334, 368, 29, 84, 72),
        }[period]
    )
    first, last = PERIODS[period]
    assert frame["date"].min() >= pd.Timestamp(first)
    assert frame["date"].max() <= pd.Timestamp(last)


@pytest.mark.parametrize("seed", SEEDS)
def test_both_tallies_hold_at_once(ledgers, seed):
    """The 2012-2014 ledger is the 2012-2016 one's rows of April 2012 - December 2014, unchanged,
    and (March 2012 set aside) its prefix by date."""
    full, early = ledgers[seed, "2012-2016"], ledgers[seed, "2012-2014"]
    in_early = (full["date"] >= "2012-04-01") & (full["date"] <= "2014-12-31")
    assert _tally(full.loc[in_early]) == TALLIES["2012-2014"]
    pd.testing.assert_frame_equal(full.loc[in_early].reset_index(drop=True), early)
    after_march = full.loc[full["date"] >= "2012-04-01"].reset_index(drop=True)
    pd.testing.assert_frame_equal(after_march.iloc[: len(early)], early)
    assert full["date"].is_monotonic_increasing


def test_deterministic_per_seed_and_seeds_differ():
    a = synthetic.generate_ledger(rng=7)
    b = synthetic.generate_ledger(rng=7)
    pd.testing.assert_frame_equal(a, b)
    c = synthetic.generate_ledger(rng=8)
    assert not a["recipient"].equals(c["recipient"])
    gen = synthetic.generate_ledger(rng=np.random.default_rng(3))
    assert _tally(gen) == TALLIES["2012-2016"]


@pytest.mark.parametrize("seed", SEEDS)
def test_contract_columns_and_values(ledgers, seed):
    frame = ledgers[seed, "2012-2016"]
    assert tuple(frame.columns) == LEDGER_COLUMNS
    assert frame["release_id"].is_unique
    assert str(frame["tier"].dtype) == "Int64"
    assert str(frame["date"].dtype) == "datetime64[s]"
    assert (frame["date"] == frame["date"].dt.normalize()).all()
    registry = set(FIELD_NAMES)
    for fields in frame["fields"]:
        assert isinstance(fields, tuple) and fields
        assert set(fields) <= registry and "pupil_id" not in fields
        assert list(fields) == sorted(fields, key=FIELD_NAMES.index)
    aggregate = frame["population"] == "aggregate"
    assert ((frame["tier"] == 3).fillna(False) <= aggregate).all()
    assert (frame.loc[aggregate, "reference"] == "none").all()
    ref = frame["reference"]
    assert (ref[frame["tier"] == 1] == "pmr").all()
    assert ref[(frame["tier"] == 2) | (frame["tier"] == 4)].eq("apmr").all()
    # tier 1 releases carry tier 1 items, tier 4 none of tier 2's
    tier1_only = {f.name for f in synthetic.FIELDS if f.tier == 1}
    tier2_or_1 = {f.name for f in synthetic.FIELDS if f.tier in (1, 2)}
    for fields, tier in zip(frame["fields"], frame["tier"]):
        if tier is pd.NA:
            continue
        if tier == 1:
            assert set(fields) & tier1_only
        if tier == 4:
            assert not set(fields) & tier2_or_1
    # every release covers years complete before it, and its population is well formed
    for day, years, groups, pop in zip(
        frame["date"], frame["years"], frame["year_groups"], frame["population"]
    ):
        last = day.year - 1 if day.month >= 7 else day.year - 2
        assert years and max(years) <= last and list(years) == sorted(years)
        assert all(0 <= g <= 13 for g in groups)
        if pop.startswith("las:"):
            assert set(pop[4:].split(",")) <= set(LA_CODES)
        elif pop.startswith("sample:"):
            assert 0 < float(pop[7:]) <= 1
        else:
            assert pop in ("all", "aggregate")
    assert set(frame["recipient_type"]) <= set(synthetic.ledger.RECIPIENT_TYPES)
    # a recipient keeps its type
    assert (frame.groupby("recipient")["recipient_type"].nunique() == 1).all()
    shapes = frame.loc[~aggregate, "population"].str.split(":").str[0]
    assert {"all", "las", "sample"} <= set(shapes)
    assert any(len(g) >= 3 for g in frame["year_groups"])  # cohorts followed to KS4


@pytest.mark.parametrize("seed", range(5))
def test_recipients_repeat_with_a_heavy_tail(seed):
    """The documented shape: ~220-290 recipients, most with one release, a few with tens."""
    counts = synthetic.generate_ledger(rng=seed)["recipient"].value_counts()
    assert 150 <= len(counts) <= 400
    assert (counts == 1).mean() >= 1 / 3
    assert counts.iloc[0] >= 0.03 * counts.sum()
    assert (counts >= 10).sum() >= 5
    # heavier than a geometric tail of the same mean: the top 5% hold over a quarter of releases
    top = counts.iloc[: max(1, len(counts) // 20)].sum()
    assert top >= 0.25 * counts.sum()


def test_field_templates_are_registry_names():
    for templates in FIELD_TEMPLATES.values():
        for fields in templates.values():
            assert set(fields) <= set(FIELD_NAMES)


def test_bad_period_and_seed():
    with pytest.raises(SyntheticError, match="'period' parameter of generate_ledger"):
        synthetic.generate_ledger(period="2012-2015")
    with pytest.raises(SyntheticError, match="'rng' parameter of generate_ledger"):
        synthetic.generate_ledger(rng=-1)


# --------------------------------------------------------------------------------------------
# Reading and writing
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("writer", [write_ledger_csv, write_ledger_toml])
def test_synthetic_ledger_round_trips(tmp_path, writer):
    ledger = synthetic.generate_ledger(rng=4)
    suffix = ".csv" if writer is write_ledger_csv else ".toml"
    path = writer(ledger, tmp_path / f"ledger{suffix}")
    pd.testing.assert_frame_equal(read_ledger(path), ledger)
    pd.testing.assert_frame_equal(ledger_frame(ledger), ledger)
    with pytest.raises(DataFileError, match="exists already"):
        writer(ledger, path)
    again = writer(ledger, path, force=True)
    pd.testing.assert_frame_equal(read_ledger(again), ledger)


_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs", "Cc")), st.sampled_from(',;"\n\\\t ')
    ),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() != "")

_RELEASE = st.fixed_dictionaries(
    {
        "date": st.dates(dt.date(1990, 1, 1), dt.date(2099, 12, 31)),
        "recipient": _TEXT,
        "recipient_type": st.sampled_from(synthetic.ledger.RECIPIENT_TYPES),
        "tier": st.sampled_from([1, 2, 4, None]),
        "fields": st.lists(st.sampled_from(FIELD_NAMES[1:]), min_size=1, max_size=6, unique=True),
        "years": st.lists(st.integers(1900, 2100), min_size=1, max_size=4, unique=True),
        "year_groups": st.lists(st.integers(0, 13), max_size=4, unique=True),
        "population": st.one_of(
            st.just("all"),
            st.floats(0.0001, 1.0).map(lambda f: f"sample:{f}"),
            st.lists(st.sampled_from(LA_CODES), min_size=1, max_size=3, unique=True).map(
                lambda c: "las:" + ",".join(c)
            ),
        ),
        "reference": st.sampled_from(["pmr", "apmr", "none"]),
        "aggregate": st.booleans(),
    }
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    releases=st.lists(_RELEASE, max_size=6),
    ids=st.lists(_TEXT, min_size=6, max_size=6, unique_by=str.strip),
)
def test_round_trips_on_random_ledgers(tmp_path_factory, releases, ids):
    records = []
    for release, rid in zip(releases, ids):
        rec = dict(release)
        if rec.pop("aggregate"):
            rec.update(tier=3, population="aggregate", reference="none")
        rec["release_id"] = rid
        records.append(rec)
    frame = ledger_frame(records)
    assert len(frame) == len(records)
    folder = tmp_path_factory.mktemp("ledger")
    for writer, name in ((write_ledger_csv, "l.csv"), (write_ledger_toml, "l.toml")):
        back = read_ledger(writer(frame, folder / name))
        pd.testing.assert_frame_equal(back, frame)
        # normalised: reading the normalised frame again changes nothing
        pd.testing.assert_frame_equal(ledger_frame(back), frame)


# --------------------------------------------------------------------------------------------
# Bad input: one line each, naming the file, the line or release, the column
# --------------------------------------------------------------------------------------------

HEADER = ",".join(LEDGER_COLUMNS)
GOOD = "R1,2013-05-02,uni-a,university,2,urn;sex;nc_year,2012,,all,apmr"


def _csv(tmp_path, *rows: str, header: str = HEADER):
    path = tmp_path / "ledger.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _fails(path, *needles: str, absent: tuple[str, ...] = ()) -> str:
    with pytest.raises(DataFileError) as info:
        read_ledger(path)
    message = str(info.value)
    assert "\n" not in message
    assert repr(str(path)) in message
    for needle in needles:
        assert needle in message, message
    for secret in absent:
        assert secret not in message, message
    return message


def test_good_csv_reads(tmp_path):
    frame = read_ledger(_csv(tmp_path, GOOD, GOOD.replace("R1", "R2").replace(",2,", ",,")))
    assert frame["tier"].tolist()[0] == 2 and frame["tier"].isna().tolist() == [False, True]
    assert frame.loc[0, "fields"] == ("sex", "nc_year", "urn")


def test_unknown_field_suggests(tmp_path):
    path = _csv(tmp_path, GOOD, GOOD.replace("R1", "R2").replace("sex;", "sx;"))
    message = _fails(path, "line 3", "'R2'", "column 'fields'", "'sx'", "Did you mean 'sex'?")
    assert message.count("Did you mean") == 1


@pytest.mark.parametrize(
    "row, column, secret",
    [
        (GOOD.replace(",2,", ",42,"), "tier", "42"),
        (GOOD.replace(",2,", ",two,"), "tier", "two"),
        (GOOD.replace("2013-05-02", "2013-13-45"), "date", "13-45"),
        (GOOD.replace("2013-05-02", "02/05/2013"), "date", "02/05"),
        (GOOD.replace("apmr", "secretref"), "reference", "secretref"),
        (GOOD.replace("university", "uniqvx"), "recipient_type", "uniqvx"),
        (GOOD.replace(",all,", ",las:999,"), "population", "999"),
        (GOOD.replace(",all,", ",sample:7.5,"), "population", "7.5"),
        (GOOD.replace(",2012,", ",20x2,"), "years", "20x2"),
        (GOOD.replace(",2012,,", ",2012,17,"), "year_groups", "17"),
        (GOOD.replace("uni-a", ""), "recipient", "uni-a"),
        (GOOD.replace(",2,", ",3,"), "population", "apmr"),
        (GOOD.replace("all,apmr", "aggregate,apmr"), "reference", "uni-a"),
    ],
)
def test_bad_value_is_one_line_without_the_value(tmp_path, row, column, secret):
    _fails(_csv(tmp_path, row), "line 2", "'R1'", f"column {column!r}", absent=(secret,))


def test_duplicate_id(tmp_path):
    _fails(_csv(tmp_path, GOOD, GOOD), "line 3", "'R1'", "column 'release_id'", "line 2", "twice")


def test_missing_and_unknown_columns(tmp_path):
    header = HEADER.replace(",reference", "")
    _fails(_csv(tmp_path, GOOD.rsplit(",", 1)[0], header=header), "'reference' is missing")
    header = HEADER.replace("tier", "teir")
    _fails(_csv(tmp_path, GOOD, header=header), "'teir'", "Did you mean 'tier'?")
    header = HEADER.replace("recipient,", "release_id,", 1)
    _fails(_csv(tmp_path, GOOD, header=header), "'release_id' appears twice")
    _fails(_csv(tmp_path, GOOD, header=GOOD), "does not look like a header", absent=("uni-a",))


def test_wrong_number_of_values(tmp_path):
    _fails(_csv(tmp_path, GOOD + ",extra"), "line 2", "11 values for 10 columns")


def test_toml_errors(tmp_path):
    path = tmp_path / "ledger.toml"
    path.write_text(
        '[[release]]\nrelease_id = "A"\ndate = 2013-05-02\nrecipient = "x"\n'
        'recipient_type = "charity"\nfields = ["postcod"]\nyears = [2012]\n'
        'population = "all"\nreference = "pmr"\n',
        encoding="utf-8",
    )
    message = _fails(path, "[[release]] number 1", "'A'", "column 'fields'", "'postcode'")
    assert "Did you mean" in message
    path.write_text(path.read_text().replace("postcod", "postcode") + "tier = 5\n")
    _fails(path, "column 'tier'", "1, 2, 3 or 4")
    path.write_text("[[release]]\nrelease_id = \n", encoding="utf-8")
    _fails(path, "not valid TOML")
    path.write_text("[meta]\nx = 1\n", encoding="utf-8")
    _fails(path, "unknown table 'meta'")


def test_files_that_cannot_be_read(tmp_path):
    with pytest.raises(DataFileError, match="No such ledger file"):
        read_ledger(tmp_path / "nope.csv")
    with pytest.raises(InvalidParameterError, match=r"\.csv or \.toml"):
        read_ledger(tmp_path / "ledger.xlsx")
    bad = tmp_path / "latin.csv"
    bad.write_bytes(HEADER.encode() + b"\nR1,2013-05-02,caf\xe9\n")
    _fails(bad, "not UTF-8")


def test_frames_are_checked_and_not_modified():
    ledger = synthetic.generate_ledger(rng=0, period="2012-2014").head(5)
    before = ledger.copy()
    bad = ledger.copy()
    bad.loc[2, "fields"] = ("sex", "lsao")
    with pytest.raises(InvalidParameterError) as info:
        ledger_frame(bad)
    assert str(info.value).startswith("the ledger, row 3 (release 'R")
    assert "column 'fields'" in str(info.value) and "Did you mean 'lsoa'?" in str(info.value)
    pd.testing.assert_frame_equal(ledger, before)
    with pytest.raises(InvalidParameterError, match="'recipient' is missing"):
        ledger_frame(ledger.drop(columns="recipient"))
    with pytest.raises(InvalidParameterError, match="pupil reference is not a field"):
        ledger_frame([{**ledger.iloc[0].to_dict(), "fields": ("pupil_id", "sex")}])
