"""The main job's school-history section (riskcalc/release/history.py): figures, monotonicity,
the --history switch, determinism and the report section."""

from __future__ import annotations

import json
from collections import Counter
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import synthetic
from riskcalc._cli import main
from riskcalc.exceptions import InvalidParameterError
from riskcalc.histories import trajectory_uniqueness
from riskcalc.release.history import HISTORY_PUPILS, history_section
from riskcalc.release.job import tiers_job

STATIC = ["sex", "year_of_birth", "month_of_birth"]
PANEL_PUPILS, SEED = 3_000, 4


@pytest.fixture(scope="module")
def panel():
    return synthetic.generate_panel(PANEL_PUPILS, years=5, rng=SEED)


@pytest.fixture(scope="module")
def section():
    return history_section(PANEL_PUPILS, SEED, years=5)


@pytest.fixture(scope="module")
def job():
    return tiers_job(1_500, SEED, what_if=False, history_pupils=PANEL_PUPILS)


def _slow_counts(panel: pd.DataFrame, k: int) -> tuple[int, int, int]:
    """Pupils in the first k censuses, unique, and below 5: one Python tuple per pupil."""
    years = sorted(panel["academic_year"].unique())[:k]
    place = {}
    static = {}
    for row in panel.itertuples(index=False):
        static.setdefault(row.pupil_id, (row.sex, row.year_of_birth, row.month_of_birth))
        if row.academic_year in years:
            place[(row.pupil_id, row.academic_year)] = (row.urn, row.nc_year)
    present = {p for p, _ in place}
    keys = {p: static[p] + tuple(place.get((p, y), "absent") for y in years) for p in present}
    sizes = Counter(keys.values())
    return (
        len(present),
        sum(sizes[q] == 1 for q in keys.values()),
        sum(sizes[q] < 5 for q in keys.values()),
    )


def test_figures_equal_a_direct_trajectory_uniqueness_call(panel, section):
    point = (
        panel["urn"].astype(str) + "|" + panel["nc_year"].astype(str)
    )  # another coding of the pair
    direct = trajectory_uniqueness(panel.assign(gate=point), "gate", static=STATIC).to_frame()
    got = section.to_frame()
    assert got["years_linked"].tolist() == [1, 2, 3, 4, 5]
    assert got["n_records"].tolist() == direct["n_pupils"].tolist()
    assert got["n_unique"].tolist() == direct["n_unique"].tolist()
    assert got["records_below_5"].tolist() == direct["n_below_5"].tolist()
    assert got["k"].tolist() == direct["min_class"].tolist()
    np.testing.assert_allclose(got["unique_share"], direct["unique_share"], rtol=0, atol=0)
    np.testing.assert_allclose(got["average_risk"], direct["average_risk"], rtol=1e-12)
    assert section.n_rows == len(panel)


@pytest.mark.parametrize("k", [1, 3])
def test_figures_equal_a_slow_obvious_count(panel, section, k):
    row = section.to_frame().iloc[k - 1]
    assert (
        int(row["n_records"]),
        int(row["n_unique"]),
        int(row["records_below_5"]),
    ) == _slow_counts(panel, k)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_uniqueness_never_falls_as_years_are_linked(seed):
    frame = history_section(800, seed, years=4).to_frame()
    for col in ("n_records", "n_unique", "records_below_5"):
        assert (np.diff(frame[col].to_numpy()) >= 0).all(), col
    assert frame["n_unique"].iloc[-1] > frame["n_unique"].iloc[0]  # a history does identify


def test_sentence_quotes_counts_with_denominators(section):
    r = section.result
    s = section.sentence
    assert "synthetic" in s
    assert f"{r.n_unique[0]:,} of {r.n_pupils[0]:,} pupils" in s
    assert f"{r.n_unique[-1]:,} of {r.n_pupils[-1]:,} pupils" in s
    assert "five years of school history" in s
    assert s.count(".") >= 1 and s.endswith(".") and "\n" not in s
    assert f"{r.n_unique[-1]:,}" in repr(section)


def test_one_year_panel_sentence():
    sec = history_section(500, 1, years=1)
    assert (
        len(sec.to_frame()) == 1 and "linking" not in sec.sentence and "synthetic" in sec.sentence
    )


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n_pupils": 0}, "n_pupils"),
        ({"n_pupils": 2.5}, "n_pupils"),
        ({"years": 15}, "years"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_parameters_name_themselves(kwargs, name):
    args = {"n_pupils": 100, "seed": 0, **kwargs}
    with pytest.raises(InvalidParameterError, match=f"'{name}'"):
        history_section(args.pop("n_pupils"), args.pop("seed"), **args)


def test_job_carries_the_section(job, section):
    assert job.history.to_frame().equals(section.to_frame())
    files = job.files()
    assert (
        files["history.csv"]
        .splitlines()[0]
        .startswith("years_linked,academic_years,n_records,n_unique")
    )
    assert {"chart_history.png", "chart_history.svg"} <= set(files)
    prov = json.loads(files["tier_table.json"])["provenance"]["history"]
    assert (
        prov["panel_pupils"] == PANEL_PUPILS and prov["panel_seed"] == SEED and prov["years"] == 5
    )
    assert prov["per_census_fields"] == ["urn", "nc_year"] and prov["static_fields"] == STATIC
    assert (
        f"School history: synthetic panel of {PANEL_PUPILS:,} pupils" in files["chart_history.svg"]
    )


def test_no_history_removes_it():
    res = tiers_job(1_500, SEED, what_if=False, history=False)
    files = res.files()
    assert res.history is None
    assert not {"history.csv", "chart_history.png", "chart_history.svg"} & set(files)
    assert "history" not in json.loads(files["tier_table.json"])["provenance"]
    assert 'id="history"' not in files["report.html"]


def test_cli_switch(tmp_path, monkeypatch):
    import riskcalc.release.history as history

    monkeypatch.setattr(history, "HISTORY_PUPILS", 1_000)  # the flag, not the panel size, is tested
    on, off = tmp_path / "on", tmp_path / "off"
    assert (
        main(["tiers", "--pupils", "800", "--out", str(on), "--no-progress", "--no-what-if"]) == 0
    )
    assert (
        main(
            [
                "tiers",
                "--pupils",
                "800",
                "--out",
                str(off),
                "--no-progress",
                "--no-what-if",
                "--no-history",
            ]
        )
        == 0
    )
    assert (on / "history.csv").is_file() and not (off / "history.csv").exists()
    assert sorted(p.name for p in on.iterdir() if "history" not in p.name) == sorted(
        p.name for p in off.iterdir()
    )


def test_default_size():
    assert HISTORY_PUPILS == 50_000


def test_same_seed_gives_byte_identical_files():
    # both runs here: a CLI run earlier in the process leaves its command line in the provenance
    first = tiers_job(1_500, SEED, what_if=False, history_pupils=PANEL_PUPILS).files()
    again = tiers_job(1_500, SEED, what_if=False, history_pupils=PANEL_PUPILS).files()
    assert sorted(first) == sorted(again)
    for name in first:
        assert first[name] == again[name], name
    other = tiers_job(1_500, SEED + 1, what_if=False, history_pupils=PANEL_PUPILS).files()
    assert other["history.csv"] != first["history.csv"]


class _Report(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.alts, self._in = [], [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h2" and "id" in a:
            self.ids.append(a["id"])
        if tag == "img":
            self.alts.append(a.get("alt", ""))


def test_report_shows_the_section_after_the_tier_tables(job):
    html = job.html
    parser = _Report()
    parser.feed(html)
    ids = parser.ids
    assert "history" in ids
    tier_sections = [i for i in ("tiers", "scenarios", "attributes", "tier3") if i in ids]
    assert ids.index("history") == max(ids.index(i) for i in tier_sections) + 1
    r = job.history.result
    part = html[html.index('id="history"') : html.index("<h2", html.index('id="history"'))]
    assert job.history.sentence.replace("'", "&#x27;") in part
    assert "Years of history linked" in part and f"{r.n_unique[-1]:,}" in part
    assert "data:image/png;base64," in part
    alt = [a for a in parser.alts if "school-gate" in a]
    assert (
        len(alt) == 1
        and f"{r.n_unique[0]:,} of {r.n_pupils[0]:,}" in alt[0]
        and "synthetic" in alt[0]
    )
