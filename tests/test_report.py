"""The HTML report's honesty and meaning: data statement, hashes, findings, number format,
projected scenarios, minimal combinations, chart files."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import riskcalc as rc
import synthetic
from riskcalc._provenance import describe_file
from riskcalc.release.report import (
    SYNTHETIC_NOTE,
    citation,
    html_report,
    identifying_combinations,
    key_findings,
    report_files,
)
from riskcalc.release.tables import pct_text, project_scenario, split_guesses


@pytest.fixture(scope="module")
def cohort():
    return synthetic.generate_cohort(2_500, rng=7)


@pytest.fixture(scope="module")
def table(cohort):
    return rc.tier_risk_table(cohort)


@pytest.fixture(scope="module")
def own_file(tmp_path_factory, cohort):
    folder = tmp_path_factory.mktemp("own")
    path = folder / "pupils_2024.csv"
    synthetic.tier_extract(cohort, 2).to_csv(path, index=False)
    return path


def _visible_text(doc: str) -> str:
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", doc)


class _Tables(HTMLParser):
    """Header and cell text of every table, in order."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"head": [], "rows": []})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("th", "td"):
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            t = self.tables[-1]
            (t["head"] if tag == "th" else t["rows"][-1]).append(self._cell.strip())
            self._cell = None


def _tables(doc: str) -> list[dict]:
    p = _Tables()
    p.feed(doc)
    for t in p.tables:
        t["rows"] = [r for r in t["rows"] if r]
    return p.tables


# ------------------------------------------------------------------------------ honesty


def test_synthetic_report_says_synthetic_at_the_top(table):
    doc = html_report(table)
    assert table.provenance["data"] == "synthetic"
    top = doc.split('<h2 id="tiers">', 1)[0]
    assert SYNTHETIC_NOTE in top
    assert "seed 7" in citation(table.provenance) and "2,500 pupils" in citation(table.provenance)


def test_own_file_report_never_says_synthetic_and_names_the_input_with_its_hash(own_file):
    frame = pd.read_csv(own_file)
    info = describe_file(own_file, len(frame))
    table = rc.risk_table({"pupils_2024": frame}, provenance={"inputs": [info]})
    assert table.provenance["data"] == "file"
    files = report_files(table, title="How identifiable are these extracts?")
    sha = hashlib.sha256(own_file.read_bytes()).hexdigest()
    doc = files["report.html"]
    assert "synthetic" not in _visible_text(doc).lower()
    top = doc.split('<h2 id="tiers">', 1)[0]
    assert sha in top and "pupils_2024.csv" in top
    assert sha in citation(table.provenance)
    for name, content in files.items():  # the charts' source line names the file, not "synthetic"
        if name.endswith(".svg"):
            assert "synthetic" not in content.lower() and "pupils_2024.csv" in content


def test_report_job_on_own_files_is_honest(own_file, tmp_path):
    from riskcalc.release.job import report_job

    result = report_job(own_file, progress=False)
    doc = _visible_text(result.html)
    assert "synthetic" not in doc.lower()
    assert hashlib.sha256(own_file.read_bytes()).hexdigest() in doc


def test_provenance_is_a_readable_table_not_json(table):
    doc = html_report(table)
    section = doc.split('<h2 id="provenance">', 1)[1]
    assert "<pre>" not in section and '"riskcalc_version"' not in section
    rows = {r[0]: r[1] for r in _tables(section)[0]["rows"]}
    assert rows["Data"] == "synthetic" and rows["Cohort: seed"] == "7"
    assert rows["riskcalc version"] == rc.__version__


def test_key_findings_give_counts_with_denominators(table):
    findings = key_findings(table)
    assert 2 <= len(findings) <= 3
    for sentence in findings:
        assert re.search(r"[\d,]+ of [\d,]+ (pupils|non-empty cells)", sentence), sentence
    worst = table.records.sort_values("unique_share", ascending=False).iloc[0]
    assert f"{int(worst['n_unique']):,} of {int(worst['n_records']):,} pupils" in findings[0]


# ------------------------------------------------------------------------------ number format


@pytest.mark.parametrize(
    "share, text",
    [
        (0, "0%"),
        (1, "100%"),
        (14 / 1_000_000, "<0.1%"),
        (0.0045, "0.45%"),
        (0.123, "12.3%"),
        (0.99995, ">99.9%"),
        (float("nan"), ""),
    ],
)
def test_percent_text(share, text):
    assert pct_text(share) == text


@given(st.integers(1, 10**7), st.integers(1, 10**7))
def test_percent_text_never_hides_pupils(a, b):
    n, total = min(a, b), max(a, b)
    text = pct_text(n / total)
    assert text.endswith("%")
    assert text != "0%" and (n == total) == (text == "100%")


def test_every_share_in_the_report_is_a_percentage(cohort, table):
    what = rc.what_if(cohort, before=table)
    doc = html_report(table, what_if=what)
    tables = _tables(doc)
    whatif = next(t for t in tables if "Unique (%), as released" in t["head"])
    col = whatif["head"].index("Unique (%), as released")
    assert all(r[col].endswith("%") for r in whatif["rows"])
    for t in tables:
        for i, h in enumerate(t["head"]):
            if "%" in h:
                assert all(r[i] == "" or r[i].endswith("%") for r in t["rows"]), h
            if h in ("Pupils", "Unique pupils", "Non-empty cells"):
                assert all(re.fullmatch(r"[\d,]+", r[i]) for r in t["rows"]), h
    assert "('" not in doc  # no Python tuples


def test_headers_are_plain_english_and_tier3_names_every_dimension(table):
    doc = html_report(table)
    heads = {h for t in _tables(doc) for h in t["head"]}
    assert not any("_" in h for h in heads), heads
    tier3 = doc.split('<h2 id="tier3">', 1)[1].split("<h2", 1)[0]
    assert "school x year group x sex x SEN provision" in tier3


def test_viewport_and_print_stylesheet(table):
    doc = html_report(table)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in doc
    assert "@media print" in doc and "max-width:100%" in doc


# ------------------------------------------------------------------------------ projection


def test_projection_by_hand():
    tier2 = synthetic.columns_for_tier(2)
    tier4 = synthetic.columns_for_tier(4)
    neighbour = ("sex", "date_of_birth", "postcode")
    assert project_scenario(neighbour, tier2) == (
        "sex",
        "year_of_birth",
        "month_of_birth",
        "postcode_sector",
        "lsoa",
    )
    # the postcode gives the LSOA, its home LA and region; tier 4 holds the school's LA and
    # region: the school's LA stands for the home LA, as a guess (and implies the region)
    assert project_scenario(neighbour, tier4) == (
        "sex",
        "year_of_birth",
        "month_of_birth",
        "la_code~home_la",
    )
    assert project_scenario(("lsoa", "sex"), tier4) == ("sex", "la_code~home_la")
    # a tier that holds a field determining the home LA needs no guess
    assert project_scenario(neighbour, ("sex", "home_la", "la_code")) == ("sex", "home_la")
    assert project_scenario(("postcode",), ("region", "sex")) == ("region~home_region",)
    # a forename has no coarser version: dropped
    assert project_scenario(("forename", "date_of_birth", "urn"), tier2) == (
        "year_of_birth",
        "month_of_birth",
        "urn",
    )
    # the school's LA is implied by the school: not listed twice
    assert project_scenario(("la_code", "urn", "sen_provision"), tier4) == ("urn",)
    assert project_scenario(("sex", "urn"), tier4) == ()  # nothing to project
    assert project_scenario(("forename",), tier4) == ()


def test_projected_rows_are_marked_and_equal_the_direct_measure(cohort, table):
    rec = table.records
    proj = rec[rec["projected"]]
    assert len(proj)
    names = {s.name: s.fields for s in table.scenarios}
    for row in proj.itertuples(index=False):
        columns = synthetic.columns_for_tier(row.tier)
        assert not all(f in columns for f in names[row.scenario])  # the tier lacks the scenario
        assert row.fields == project_scenario(names[row.scenario], columns)
        used, guesses = split_guesses(row.fields)
        u = rc.uniqueness(synthetic.tier_extract(cohort, row.tier), list(used))
        if (
            guesses
        ):  # a unique pupil counts only where the guess is right (tests/test_projection.py)
            assert row.n_unique <= u.n_unique and row.n_records == u.n_records
        else:
            assert (row.n_unique, row.n_records) == (u.n_unique, u.n_records)
    # every scenario has a row on every tier it touches, so none reads as absent (zero) risk
    assert set(zip(rec["tier"], rec["scenario"])) >= {
        (2, "neighbour"),
        (4, "neighbour"),
        (4, "home_area"),
    }
    assert "neighbour (projected)" in set(table.headline()["scenario"])
    plain = rc.tier_risk_table(cohort, project=False).records
    assert not plain["projected"].any() and len(plain) == len(rec) - len(proj)


def test_projected_rows_are_explained_in_the_chart_and_table(table):
    files = report_files(table)
    assert "projected" in files["chart_tiers.svg"] and "not zero risk" in files["chart_tiers.svg"]
    assert "(projected)" in files["report.html"] and "is not zero risk" in files["report.html"]


# ------------------------------------------------------------------------------ combinations


def test_identifying_combinations_are_minimal_and_leave_out_direct_identifiers(cohort):
    from riskcalc.lattice import field_lattice

    fields = ["forename", "sex", "date_of_birth", "urn", "nc_year", "month_of_birth"]
    lattice = field_lattice(cohort, fields, max_size=3, thresholds=[1, 4])
    rows = identifying_combinations(lattice, fields, top=50)
    assert len(rows)
    assert not rows["fields"].map(lambda f: "forename" in f).any()
    share = lambda f: rc.uniqueness(cohort, list(f)).n_unique / len(cohort) if f else 0.0
    for combo, s in zip(rows["fields"], rows["unique_share"]):
        assert s == pytest.approx(share(combo))
        for f in combo:  # every field adds at least one percentage point
            assert s - share([g for g in combo if g != f]) >= 0.01 - 1e-12


def test_lattice_section_says_where_it_stops(cohort, table):
    from riskcalc.release.combinations import most_identifying

    tier1 = synthetic.tier_extract(cohort, 1)
    frame = most_identifying(tier1, ["forename", "sex", "date_of_birth", "urn"], max_size=3)
    doc = html_report(table, identifying={1: frame})
    section = doc.split('<h2 id="lattice">', 1)[1].split('<h2 id="definitions">', 1)[0]
    assert "up to 3" in section and "forename" not in section.split("</p>", 1)[1]


# ------------------------------------------------------------------------------ charts


def test_report_files_are_deterministic_png_and_svg(table):
    a, b = report_files(table), report_files(table)
    assert a.keys() == b.keys() == {"report.html", "chart_tiers.png", "chart_tiers.svg"}
    for name in a:
        assert a[name] == b[name], name
    assert a["chart_tiers.png"][:8] == b"\x89PNG\r\n\x1a\n"
    import io

    from PIL import Image

    assert Image.open(io.BytesIO(a["chart_tiers.png"])).size[0] >= 1400  # print resolution
    assert "Synthetic data imitating the National Pupil Database" in a["chart_tiers.svg"]
    assert 'alt="Bar chart of the share of pupils unique' in a["report.html"]
    assert a["report.html"] == html_report(table)


def test_chart_png_is_one_grey_channel_with_the_pixels_matplotlib_draws(table):
    """The charts are pure grey: stored as one grey channel (half the bytes of RGBA), with
    exactly the pixels matplotlib's own PNG has; a chart with colour stays RGBA."""
    import io

    import numpy as np
    from matplotlib import rc_context
    from PIL import Image

    from riskcalc.release import report as rpt

    with rc_context(rpt._RC):
        fig = rpt.chart_tiers(table)
        ours = rpt._png(fig)
        reference = io.BytesIO()
        fig.savefig(reference, format="png", dpi=rpt.DPI, metadata={"Software": None})
    mine, theirs = Image.open(io.BytesIO(ours)), Image.open(io.BytesIO(reference.getvalue()))
    assert mine.mode == "L" and theirs.mode == "RGBA" and mine.size == theirs.size
    assert np.array_equal(np.asarray(mine.convert("RGBA")), np.asarray(theirs))
    assert mine.info["dpi"] == theirs.info["dpi"]
    assert len(ours) < 0.6 * len(reference.getvalue())
    fig.axes[0].bar([0], [50], color="tab:red")
    coloured = Image.open(io.BytesIO(rpt._png(fig)))
    assert coloured.mode == "RGBA"


def test_projected_attribute_rows_equal_a_direct_count(cohort, table):
    import numpy as np

    att = table.attributes
    proj = att[att["projected"]]
    assert len(proj) and set(proj["tier"]) <= {2, 4}
    fields = table.records.set_index(["tier", "scenario"])["fields"]
    for row in proj.head(6).itertuples(index=False):
        extract = synthetic.tier_extract(cohort, row.tier)
        qi = list(fields[(row.tier, row.scenario)])
        fk = rc.class_sizes(extract, qi).fk
        fk_s = rc.class_sizes(extract, qi + [row.sensitive]).fk
        assert row.records_revealed == int(np.count_nonzero(fk == fk_s))
    assert "neighbour (projected)" in set(table.attribute_matrix()["scenario"])
