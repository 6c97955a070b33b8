"""Tier risk tables, scenarios, what-if coarsening, the HTML report and the main job."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _reference_projection import guessed_figures

import riskcalc as rc
import synthetic
from riskcalc._cli import main
from riskcalc._provenance import code_identity
from riskcalc.release.ladders import coarsen
from riskcalc.release.tables import (
    ATTRIBUTE_COLUMNS,
    RECORD_COLUMNS,
    revealed_records,
    split_guesses,
)
from riskcalc.release.tier3 import AGGREGATE_COLUMNS, tier3_exposure

GOLDEN = Path(__file__).parent / "data" / "golden_tiers_3000.md"


@pytest.fixture(scope="module")
def cohort():
    return synthetic.generate_cohort(3_000, rng=3)


@pytest.fixture(scope="module")
def table(cohort):
    return rc.tier_risk_table(cohort)


def test_columns_are_fixed(table):
    assert list(table.records.columns) == RECORD_COLUMNS
    assert list(table.attributes.columns) == ATTRIBUTE_COLUMNS
    assert list(table.aggregates.columns) == AGGREGATE_COLUMNS
    assert sorted(set(table.records["tier"])) == [1, 2, 4]


def test_every_figure_equals_the_direct_measure(cohort, table):
    for row in table.records.itertuples(index=False):
        extract = synthetic.tier_extract(cohort, row.tier)
        used, guesses = split_guesses(row.fields)
        if guesses:  # counted pupil by pupil against the cohort's truth
            ref = guessed_figures(cohort, used, guesses)
            assert (row.n_unique, row.k, row.n_classes) == (
                ref["n_unique"],
                ref["k"],
                ref["n_classes"],
            )
            assert [row.records_below_3, row.records_below_5, row.records_below_10] == ref["below"]
            assert row.average_risk == pytest.approx(ref["risk"])
            assert (row.records_guessed_wrong, row.records_wrongly_singled_out) == (
                ref["wrong"],
                ref["wrongly"],
            )
            continue
        assert pd.isna(row.records_guessed_wrong) and pd.isna(row.records_wrongly_singled_out)
        qi = list(row.fields)
        u = rc.uniqueness(extract, qi)
        ka = rc.k_anonymity(extract, qi, thresholds=[3, 5, 10])
        assert (row.n_records, row.n_classes, row.n_unique, row.k) == (
            u.n_records,
            u.n_classes,
            u.n_unique,
            ka.k,
        )
        assert [
            row.records_below_3,
            row.records_below_5,
            row.records_below_10,
        ] == ka.records_below.tolist()
        assert row.unique_share == row.n_unique / row.n_records
        assert row.records_below_5_share == row.records_below_5 / row.n_records
        assert row.average_risk == pytest.approx(u.average_risk)


def test_attribute_rows_equal_a_direct_count(cohort, table):
    tier1 = synthetic.tier_extract(cohort, 1)
    for row in table.attributes[table.attributes["tier"] == 1].head(12).itertuples(index=False):
        qi = list(
            rc.load_scenarios()[[s.name for s in rc.load_scenarios()].index(row.scenario)].fields
        )
        fk = rc.class_sizes(tier1, qi).fk
        fk_s = rc.class_sizes(tier1, qi + [row.sensitive]).fk
        assert row.records_revealed == int(np.count_nonzero(fk == fk_s))
        assert row.records_revealed_share == row.records_revealed / len(tier1)
        assert row.records_revealed_minority <= row.records_revealed


def test_revealed_records_by_hand():
    df = pd.DataFrame({"q": ["a", "a", "b", "b", "c"], "s": ["x", "x", "x", "y", "y"]})
    enc = rc.encode(df)
    part = rc.partition(enc, ["q"])
    # class a: all x (2 revealed as the common value x); b mixed; c unique -> y (minority)
    assert revealed_records(part, enc["s"]) == (3, 1)


def test_tier3_exposure_by_hand():
    t = pd.DataFrame(
        {
            "school": ["A"] * 4 + ["B"] * 2,
            "sex": ["F", "F", "M", "M", "F", "F"],
            "fsm": [True, False, True, False, True, False],
            "count": [1, 12, 3, 7, 20, 2],
        }
    )
    row = tier3_exposure({"t": t}).iloc[0]
    assert (row.n_cells, row.n_records, row.dimensions) == (6, 45, "school x sex x fsm")
    assert (row.cells_at_most_1, row.records_in_cells_at_most_1) == (1, 1)
    assert (row.cells_at_most_2, row.records_in_cells_at_most_2) == (2, 3)
    assert (row.cells_at_most_3, row.records_in_cells_at_most_3) == (3, 6)
    assert (row.cells_at_most_5, row.records_in_cells_at_most_5) == (3, 6)
    assert (row.cells_at_most_10, row.records_in_cells_at_most_10) == (4, 13)
    # margins (school, sex): A/F has one small cell (1), A/M one (3), B/F one (2): all recoverable
    assert (row.suppressed_cells, row.recoverable_cells, row.recoverable_records) == (3, 3, 6)
    from riskcalc.audit import SuppressionPolicy, tier3_audit

    rounded = tier3_audit({"t": t}, SuppressionPolicy("r5", round_to=5, margins="policy")).iloc[0]
    assert (row.rounded_recoverable_cells, row.rounded_recoverable_records) == (
        rounded.exact_cells,
        rounded.pupils_exact,
    )


#: The provenance line naming the code (version and commit): the one line of the golden file
#: compared without its value, which changes with every commit.
_IDENTITY_LINE = re.compile(r"^\*riskcalc [^ ,\n]+(?: \(commit [^)\n]*\))?, ", re.MULTILINE)


def _masked(markdown: str) -> str:
    return _IDENTITY_LINE.sub("*riskcalc IDENTITY, ", markdown)


def test_golden_markdown_snapshot(table):
    expected = GOLDEN.read_text(encoding="utf-8").split("\n", 1)[1]
    got = table.to_markdown()
    assert _masked(got) == _masked(expected), "regenerate with: python tests/data/make_golden.py"
    assert len(_IDENTITY_LINE.findall(got)) == 1  # the identity line is there, and only masked
    assert f"*riskcalc {code_identity()}, tier_risk_table*" in got


def test_same_seed_gives_byte_identical_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert (
            main(["tiers", "--pupils", "1500", "--seed", "5", "--out", str(out), "--no-progress"])
            == 0
        )
    names = sorted(p.name for p in a.iterdir())
    assert "report.html" in names and "tier_table.json" in names
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_coarsening_never_lowers_k_nor_raises_uniqueness(cohort, table):
    what = rc.what_if(cohort, before=table)
    assert (what["k_after"] >= what["k_before"]).all()
    assert (what["unique_after"] <= what["unique_before"]).all()
    steps = [{"date_of_birth": 1}, {"date_of_birth": 2}, {"date_of_birth": "*"}]
    ks = [
        rc.tier_risk_table(cohort, tiers=(1,), coarsening=c)
        .records.set_index("scenario")
        .loc["neighbour", "k"]
        for c in steps
    ]
    assert ks == sorted(ks)


def test_coarsen_keeps_names_and_withholds():
    cohort = synthetic.generate_cohort(500, rng=1)
    out = coarsen(cohort, {"postcode": "postcode_sector", "sex": "*"}, columns=["postcode", "sex"])
    assert list(out.columns) == ["postcode", "sex"]
    assert set(out["sex"]) == {"*"}
    assert out["postcode"].astype(str).str.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]? \d").all()
    with pytest.raises(rc.InvalidParameterError, match="Cannot coarsen 'postcode'"):
        coarsen(cohort, {"postcode": "continent"})


def test_smallest_coarsening_reaches_the_target(cohort):
    scenarios = {"gate": {"fields": ["urn", "nc_year", "sex"]}}
    res = rc.smallest_coarsening(cohort, 5, max_suppressed=0.0, scenarios=scenarios)
    assert (res.result["k_after"] >= 5).all()
    assert res.result["below_target"].sum() == 0
    # a coarsening with one step fewer would not do: check the search's minimality by brute force
    assert res.steps >= 1


def test_scenarios_from_toml_and_mapping(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[pair]\nfields = ["sex", "nc_year"]\nrationale = "test"\n')
    (s,) = rc.load_scenarios(path)
    assert s == rc.Scenario("pair", ("sex", "nc_year"), "test")
    assert rc.load_scenarios({"x": ["sex"]})[0].fields == ("sex",)
    for bad, message in [
        ({"x": {"fields": []}}, "non-empty list"),
        ({"x": {"rationale": "r"}}, "must have a 'fields' list"),
        ({"x": ["a", "a"]}, "names a field twice"),
        ({}, "No scenarios"),
    ]:
        with pytest.raises(rc.InvalidParameterError, match=message):
            rc.load_scenarios(bad)
    with pytest.raises(rc.DataFileError, match="No such scenario file"):
        rc.load_scenarios(tmp_path / "absent.toml")
    (tmp_path / "bad.toml").write_text("[x\n")
    with pytest.raises(rc.DataFileError, match="Cannot read the scenario file"):
        rc.load_scenarios(tmp_path / "bad.toml")


def test_no_applicable_scenario_is_an_error():
    with pytest.raises(rc.InvalidParameterError, match="nothing to measure"):
        rc.risk_table({"x": pd.DataFrame({"a": [1]})})


class _Sections(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.images, self.stack = [], 0, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "img":
            assert attrs["src"].startswith("data:image/png;base64,")
            self.images += 1


def test_html_report_parses_with_every_section_and_image(cohort, table):
    from riskcalc.release.combinations import most_identifying, uniqueness_staircase

    tier1 = synthetic.tier_extract(cohort, 1)
    what = rc.what_if(cohort, before=table)
    html = rc.html_report(
        table,
        identifying={
            1: most_identifying(tier1, ["sex", "urn", "nc_year", "month_of_birth"], max_size=2)
        },
        staircase=(
            "tier 1",
            uniqueness_staircase(tier1, ["sex", "urn", "nc_year", "month_of_birth"]),
        ),
        what_if=what,
    )
    parser = _Sections()
    parser.feed(html)
    assert parser.ids == [
        "findings",
        "contents",
        "cite",
        "tiers",
        "scenarios",
        "attributes",
        "tier3",
        "lattice",
        "staircase",
        "whatif",
        "definitions",
        "provenance",
    ]
    assert parser.images == 3
    assert "http://" not in html and "https://" not in html  # self-contained


def test_no_value_of_a_unique_record_appears_in_any_output(cohort, tmp_path):
    out = tmp_path / "out"
    assert (
        main(["tiers", "--pupils", "1500", "--seed", "5", "--out", str(out), "--no-progress"]) == 0
    )
    cohort = synthetic.generate_cohort(1500, rng=5)
    texts = "\n".join(p.read_text() for p in out.iterdir() if p.suffix != ".png")  # PNGs are pixels
    texts = re.sub(
        r"data:image/png;base64,[A-Za-z0-9+/=]+", "", texts
    )  # images are pixels, not text
    tokens = set(re.findall(r"[A-Za-z0-9]+", texts))
    # values that identify: names and ids of pupils unique on them (whole words), postcodes and
    # dates of birth (distinctive strings)
    for column in ("forename", "surname", "upn", "pupil_id"):
        counts = cohort[column].astype(str).value_counts()
        rare = counts[counts == 1].index
        assert not tokens.intersection(rare), column
    for column in ("postcode",):
        counts = cohort[column].astype(str).value_counts()
        assert not any(v in texts for v in counts[counts == 1].index), column
    dob = cohort["date_of_birth"].dt.strftime("%Y-%m-%d")
    assert not any(d in texts for d in dob[dob.map(dob.value_counts()) == 1])


def test_tiers_cli_errors(tmp_path, capsys):
    assert main(["tiers", "--pupils", "0"]) == 2
    assert "--pupils must be a whole number of at least 1" in capsys.readouterr().err
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    assert main(["tiers", "--pupils", "100", "--out", str(full)]) == 2
    assert "is not empty; add --force" in capsys.readouterr().err
    assert main(["tiers", "--pupils", "100", "--scenarios", str(tmp_path / "none.toml")]) == 2
    assert "No such scenario file" in capsys.readouterr().err


def test_report_command_on_own_files(tmp_path, capsys, cohort):
    folder = tmp_path / "extracts"
    folder.mkdir()
    synthetic.tier_extract(cohort, 2).to_parquet(folder / "tier2.parquet")
    synthetic.tier3_tables(cohort)["urn_x_fsm_eligible"].to_csv(
        folder / "fsm_table.csv", index=False
    )
    out = tmp_path / "out"
    assert (
        main(["report", str(folder), "--out", str(out), "--no-progress", "--format", "json"]) == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert {r["tier"] for r in doc["records"]} == {"tier2"}
    assert [r["table"] for r in doc["aggregates"]] == ["fsm_table"]
    assert (out / "report.html").exists()


def test_markdown_and_latex_carry_the_provenance(tmp_path, capsys):
    # Issue 11: every output says where its figures came from (the CSV's is in the JSON and
    # the manifest beside it).
    csv = tmp_path / "own.csv"
    csv.write_text("sex,date_of_birth,postcode\nF,2017-01-01,A\nM,2017-01-02,B\nF,2017-01-01,A\n")
    for fmt in ("markdown", "latex"):
        assert main(["report", str(csv), "--format", fmt]) == 0
        out = capsys.readouterr().out
        from riskcalc._provenance import file_sha256

        assert file_sha256(csv) in out and "command: riskcalc report" in out
        assert "synthetic" not in out


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("max_size, max_steps", [(1, None), (2, None), (3, 2), (3, None)])
def test_staircase_read_off_a_lattice_equals_the_refinement(seed, max_size, max_steps):
    """The staircase's first steps taken from a lattice (on a superset of the fields) are the
    refinement's own, ties included (few levels make ties common)."""
    from riskcalc.release.combinations import uniqueness_staircase

    rng = np.random.default_rng(seed)
    n = 400
    frame = pd.DataFrame({c: rng.integers(0, k, n) for c, k in zip("abcdef", (2, 3, 3, 5, 7, 2))})
    fields = ["b", "a", "c", "d", "e"]
    lattice = rc.field_lattice(frame, list("abcdef"), max_size=max_size, thresholds=[1, 4])
    plain = uniqueness_staircase(frame, fields, max_steps=max_steps)
    read = uniqueness_staircase(frame, fields, max_steps=max_steps, lattice=lattice)
    pd.testing.assert_frame_equal(read, plain)
    assert len(plain) >= 2


def test_the_jobs_cohort_columns_hold_every_field_its_tables_read():
    """The tiers job chooses its cohort's columns before it imports the tables (from the
    scenarios' fields alone): every field :func:`cohort_fields` reads must be among them, for
    the built-in scenarios and for a scenario of each single field."""
    import synthetic
    from riskcalc.release.job import _cohort_columns
    from riskcalc.release.scenarios import load_scenarios
    from riskcalc.release.tables import cohort_fields

    sets = [None] + [
        {f"only_{f}": {"fields": [f], "rationale": "test"}} for f in synthetic.FIELD_NAMES
    ]
    for spec in sets:
        scenarios = load_scenarios(spec)
        columns = set(_cohort_columns(scenarios))
        read = set(cohort_fields(synthetic.FIELD_NAMES, scenarios))
        assert read <= columns, (spec, read - columns)
        assert set(synthetic.FIELD_NAMES) - columns <= set(synthetic.direct_identifiers())
