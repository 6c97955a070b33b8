"""Rendering: every text cell reads the same raw and rendered, and is never markup.

The Markdown tables riskcalc prints are read two ways: raw (on a terminal, in a diff) and
rendered (GitHub, a notebook). A CommonMark parser (markdown-it-py, the test extra) renders
random cells; the rendered text must equal the cell, and no tag may appear.
"""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskcalc import _render

markdown_it = pytest.importorskip("markdown_it")
_MD = markdown_it.MarkdownIt("commonmark").enable("table")


def _rendered_cells(markdown: str) -> list[str]:
    """The text of every body cell of the first table, as a browser would show it."""
    out = _MD.render(markdown)
    body = out.split("<tbody>", 1)[1]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", body, flags=re.S)
    assert not any(re.search(r"<(?!/?td)[A-Za-z/!?]", c) for c in cells), (
        out
    )  # no tag inside a cell
    return [html.unescape(c) for c in cells]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40))
def test_markdown_cell_renders_as_itself(text):
    frame = pd.DataFrame({"name": [text], "n": [1]})
    cells = _rendered_cells(_render.to_markdown(frame))
    # CommonMark trims a cell's surrounding (Unicode) whitespace and changes nothing else
    assert cells[0].strip() == " ".join(text.splitlines()).strip()


def test_markdown_small_shares_read_plainly():
    # Before: "43 (&lt;0.1%)" on stdout and in tier_table.md (issue 24, item 7).
    frame = pd.DataFrame({"cell": ["43 (<0.1%)", "a > b", "AT&T", "&amp;"]})
    md = _render.to_markdown(frame)
    assert "43 (<0.1%)" in md and "a > b" in md and "AT&T" in md
    assert "&amp;amp;" in md  # an entity-like text stays text
    assert _rendered_cells(md) == ["43 (<0.1%)", "a > b", "AT&T", "&amp;"]


@pytest.mark.parametrize(
    "tag", ["<script>", "</td>", "<!-- x -->", "<?php", "<https://x.y>", "<b>x</b>"]
)
def test_markdown_never_emits_markup(tag):
    md = _render.to_markdown(pd.DataFrame({"c": [tag]}))
    assert _rendered_cells(md) == [tag]


def test_provenance_counts_get_separators_years_and_seeds_do_not():
    # Before: the report's provenance printed "first_year: 2,019" (issue 24, item 7).
    from riskcalc.release.report import _provenance_rows

    rows = dict(
        _provenance_rows(
            {
                "cohort": {"seed": 12345, "n_pupils": 100000},
                "parameters": {"tiers": [1, 2, 4], "k_thresholds": [3, 5, 10]},
                "history": {
                    "first_year": 2019,
                    "panel_rows": 247278,
                    "panel_seed": 4321,
                    "years": 5,
                },
            }
        )
    )
    assert rows["Cohort: seed"] == "12345" and rows["Cohort: n pupils"] == "100,000"
    assert rows["History"] == "first_year: 2019; panel_rows: 247,278; panel_seed: 4321; years: 5"


@given(st.integers(min_value=1000, max_value=10**9))
def test_setting_separators_follow_the_name(value):
    from riskcalc import _format

    assert _format.setting(value, "first_year") == str(value)
    assert _format.setting(value, "seed") == str(value)
    assert _format.setting(value, "n_records") == f"{value:,}"


def test_csv_counts_in_a_mixed_column_are_integers():
    # Before: `riskcalc suda --format csv` wrote "records,5520.0" (an object column of numbers).
    frame = pd.DataFrame(
        {
            "measure": ["records", "mean score", "none"],
            "value": pd.Series([5520.0, 1.25, None], dtype=object),
            "share": [1.0, None, 0.5],
        }
    )
    assert _render.to_csv(frame).splitlines() == [
        "measure,value,share",
        "records,5520,1.0",
        "mean score,1.25,",
        "none,,0.5",
    ]


def test_suda_csv_writes_counts_as_integers(capsys):
    from riskcalc._cli import main
    from riskcalc._cli._output import example_path as _example_path

    assert (
        main(["suda", str(_example_path()), "--fields", "sex,nc_year,urn", "--format", "csv"]) == 0
    )
    out = capsys.readouterr().out
    assert re.search(r"^records,\d+,1\.0$", out, flags=re.M), out
    assert not re.search(r"^[^,]*MSU[^,]*,\d+\.0,", out, flags=re.M), out


@pytest.mark.parametrize(
    "argv",
    [
        ["analyse", "--example"],
        ["lattice", "EXAMPLE", "--fields", "sex,nc_year,urn"],
        ["suda", "EXAMPLE", "--fields", "sex,nc_year,urn"],
    ],
)
def test_every_latex_table_has_a_caption_and_a_label(argv, capsys):
    # Before: `--format latex` gave a bare tabular, with no caption or label (issue 24, item 7).
    from riskcalc._cli import main
    from riskcalc._cli._output import example_path as _example_path

    argv = [str(_example_path()) if a == "EXAMPLE" else a for a in argv]
    assert main(argv + ["--format", "latex"]) == 0
    tex = capsys.readouterr().out
    assert tex.count(r"\begin{table}") == 1 and tex.count(r"\end{table}") == 1
    caption = re.search(r"\\caption\{(.*)\}\n", tex)
    assert caption and "sample\\_pupils.csv" in caption.group(1) and "SHA-256" in caption.group(1)
    assert re.search(r"\\label\{tab:riskcalc-[a-z-]+\}", tex)


def test_tier_table_latex_has_a_caption_naming_synthetic_data():
    from riskcalc.release.tables import ATTRIBUTE_COLUMNS, RECORD_COLUMNS, RiskTable

    table = RiskTable(
        pd.DataFrame(columns=RECORD_COLUMNS),
        pd.DataFrame(columns=ATTRIBUTE_COLUMNS),
        pd.DataFrame(),
        (),
        {"riskcalc_version": "x", "cohort": {"seed": 3, "n_pupils": 1000}},
    )
    tex = table.to_latex()
    assert r"\label{tab:riskcalc-tiers}" in tex
    assert "synthetic cohort of 1,000 pupils, seed 3" in tex and "not any real child" in tex
