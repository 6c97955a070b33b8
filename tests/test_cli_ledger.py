"""``riskcalc ledger``: a release ledger on a panel: files, determinism, one-line errors."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import riskcalc as rc
import synthetic
from riskcalc._cli import main
from riskcalc.release import ledger_job as lj
from riskcalc.release.ledger import write_ledger_csv

ROOT = Path(__file__).resolve().parent.parent
PUPILS = "1500"
SCEN = "school_gate,local_journalist"


def cli(*argv, cwd=None):
    """``python -m riskcalc ARGV`` in a subprocess (the worktree's code first on the path)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "riskcalc", *map(str, argv)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=600,
    )


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ledger")
    out = folder / "out"
    done = cli("ledger", "--pupils", PUPILS, "--scenario", SCEN, "--out", out)
    return done, out


def test_synthetic_run_writes_the_set(synthetic_run):
    done, out = synthetic_run
    assert done.returncode == 0, done.stderr
    names = {p.name for p in out.iterdir()}
    assert {
        "ledger_headline.csv",
        "ledger_recipients.csv",
        "ledger_distribution.csv",
        "ledger_by.csv",
        "ledger_timeline.csv",
        "ledger_policies.csv",
        "ledger_collusion.csv",
        "ledger_breach.csv",
        "ledger.json",
        "report.html",
        "manifest.json",
        "chart_ledger_timeline.png",
        "chart_ledger_distribution.png",
    } <= names
    assert "internal_per_child.csv" not in names  # never without --per-child
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "ledger"
    doc = json.loads((out / "ledger.json").read_text())
    prov = doc["provenance"]
    assert prov["data"] == "synthetic" and prov["cohort"]["n_pupils"] == int(PUPILS)
    assert prov["riskcalc_commit"] and prov["riskcalc_version"] == rc.__version__
    assert prov["parameters"]["scenarios"] == SCEN.split(",")
    assert prov["parameters"]["ledger"]["period"] == "2012-2016"
    assert "--out OUT" in prov["command"]  # where the files went is not part of them
    # the stdout summary: headline, recipients, and the size caveat
    assert "school_gate" in done.stdout and "local_journalist" in done.stdout
    assert "not the national population" in done.stdout
    assert "wrote" in done.stderr


def test_headline_matches_ledger_exposure(synthetic_run):
    """The files hold rc.ledger_exposure's figures on the same synthetic panel and register."""
    _, out = synthetic_run
    head = pd.read_csv(out / "ledger_headline.csv")
    scen = {s.name: s for s in rc.load_scenarios()}
    panel = lj.synthetic_panel(int(PUPILS), 0, [scen[n] for n in SCEN.split(",")])
    ledger = synthetic.generate_ledger(0)
    for name in SCEN.split(","):
        res = rc.ledger_exposure(panel, ledger, name)
        row = head.set_index("scenario").loc[name]
        assert row["n_children"] == res.n_children
        assert [row[f"n_at_least_{k}"] for k in (1, 5, 20)] == list(res.n_at_least)
        assert row["median"] == res.median and row["p90"] == res.p90
    main_res = rc.ledger_exposure(panel, ledger, "school_gate")
    rec = pd.read_csv(out / "ledger_recipients.csv")
    assert rec["n_singled_out"].is_monotonic_decreasing
    assert rec["n_singled_out"].sum() == main_res.per_recipient["n_singled_out"].sum()
    dist = pd.read_csv(out / "ledger_distribution.csv")
    assert dist["n_children"].sum() == main_res.n_children
    exposure = main_res.per_child["n_recipients"].to_numpy()
    assert dist.loc[dist["n_recipients"] == "0", "n_children"].item() == (exposure == 0).sum()
    assert dist.loc[dist["n_recipients"] == "100+", "n_children"].item() == (exposure >= 100).sum()
    timeline = pd.read_csv(out / "ledger_timeline.csv")
    last = timeline.iloc[-1]
    assert [last[f"n_at_least_{k}"] for k in (1, 5, 20)] == list(main_res.n_at_least)


def test_output_folder_is_byte_identical(synthetic_run, tmp_path):
    done, first = synthetic_run
    assert done.returncode == 0
    second = tmp_path / "again"
    again = cli("ledger", "--pupils", PUPILS, "--scenario", SCEN, "--out", second)
    assert again.returncode == 0, again.stderr
    a = sorted(p.name for p in first.iterdir())
    assert a == sorted(p.name for p in second.iterdir())
    for name in a:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert again.stdout == done.stdout


def test_per_child_is_internal_and_needs_out(tmp_path, capsys):
    code, out, err = run(capsys, "ledger", "--pupils", "300", "--per-child")
    assert code == 2 and err.count("\n") == 1 and "--per-child needs --out" in err
    folder = tmp_path / "o"
    code, out, err = run(
        capsys,
        "ledger",
        "--pupils",
        "300",
        "--scenario",
        "school_gate",
        "--no-timeline",
        "--no-policies",
        "--no-collusion",
        "--per-child",
        "--out",
        folder,
    )
    assert code == 0, err
    assert "INTERNAL" in err and "internal_per_child.csv" in err
    per_child = pd.read_csv(folder / "internal_per_child.csv")
    assert list(per_child.columns) == ["pupil_id", "n_recipients"]
    doc = json.loads((folder / "ledger.json").read_text())
    assert "INTERNAL" in doc["internal_files"]["internal_per_child.csv"]
    # no other file names a pupil
    for name in ("ledger_by.csv", "ledger_recipients.csv", "report.html"):
        text = (folder / name).read_text()
        assert not any(pid in text for pid in per_child["pupil_id"].head(50))


def test_missing_ledger_file_is_one_line(tmp_path, capsys):
    code, _, err = run(capsys, "ledger", "--ledger", tmp_path / "nope.csv")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("riskcalc ledger: error: --ledger") and "does not exist" in err


def test_unknown_ledger_field_is_one_line(tmp_path, capsys):
    path = tmp_path / "ledger.csv"
    path.write_text(
        "release_id,date,recipient,recipient_type,tier,fields,years,year_groups,population,reference\n"
        "R1,2013-05-02,uni-a,university,4,urn;sex;nc_yeer,2012,,all,apmr\n"
    )
    code, _, err = run(capsys, "ledger", "--ledger", path, "--pupils", "300")
    assert code == 2 and err.count("\n") == 1
    assert "ledger.csv" in err and "'fields'" in err and "nc_yeer" in err


def test_bad_scenario_is_one_line(capsys):
    code, _, err = run(capsys, "ledger", "--pupils", "300", "--scenario", "school_gait")
    assert code == 2 and err.count("\n") == 1
    assert "unknown scenario 'school_gait'" in err and "school_gate" in err


def test_conflicting_options_are_one_line(tmp_path, capsys):
    panel = tmp_path / "p.csv"
    panel.write_text("pupil_id,academic_year\na,2013\n")
    code, _, err = run(capsys, "ledger", "--panel", panel, "--pupils", "10")
    assert code == 2 and "--pupils" in err and err.count("\n") == 1
    code, _, err = run(capsys, "ledger", "--ledger", panel, "--period", "2012-2014")
    assert code == 2 and "--period" in err and err.count("\n") == 1


@pytest.fixture(scope="module")
def own_files(tmp_path_factory):
    """A user's panel (CSV) and ledger (CSV): a synthetic panel and part of the register."""
    folder = tmp_path_factory.mktemp("own")
    cols = ["urn", "nc_year", "sex", "year_of_birth", "month_of_birth", "la_code", *lj.BY]
    panel = synthetic.generate_panel(800, first_year=2011, years=5, rng=3, columns=cols)
    panel_path = folder / "my_panel.csv"
    panel.to_csv(panel_path, index=False)
    ledger = synthetic.generate_ledger(3, period="2012-2014").iloc[:120]
    ledger_path = folder / "my_ledger.csv"
    write_ledger_csv(ledger, ledger_path)
    return folder, panel_path, ledger_path


def test_own_files_run_with_fingerprints_and_withheld_cells(own_files, capsys):
    folder, panel_path, ledger_path = own_files
    before = {p: p.read_bytes() for p in (panel_path, ledger_path)}
    out = folder / "out"
    code, stdout, err = run(
        capsys,
        "ledger",
        "--ledger",
        ledger_path,
        "--panel",
        panel_path,
        "--scenario",
        "school_gate",
        "--out",
        out,
    )
    assert code == 0, err
    assert {p: p.read_bytes() for p in before} == before  # inputs untouched
    prov = json.loads((out / "ledger.json").read_text())["provenance"]
    assert prov["data"] == "file"
    shas = {i["source"]: i["sha256"] for i in prov["inputs"]}
    for p in (panel_path, ledger_path):
        assert shas[p.name] == hashlib.sha256(p.read_bytes()).hexdigest()
    by = pd.read_csv(out / "ledger_by.csv", keep_default_na=False)
    t = lj.min_cell()
    assert "withheld" in by.columns and (by["withheld"] != "").any()
    shown = by["n_children"] != ""
    assert (by.loc[shown, "n_children"].astype(int) >= t).all()
    assert "withheld" in stdout  # the note says what was done
    html = (out / "report.html").read_text()
    assert "my_panel.csv" in html and "my_ledger.csv" in html


def test_user_panel_missing_scenario_field_is_one_line(own_files, tmp_path, capsys):
    _, panel_path, ledger_path = own_files
    frame = pd.read_csv(panel_path).drop(columns=["urn"])
    path = tmp_path / "no_urn.csv"
    frame.to_csv(path, index=False)
    code, _, err = run(capsys, "ledger", "--panel", path, "--scenario", "school_gate")
    assert code == 2 and err.count("\n") == 1 and "'urn'" in err


# ---------------------------------------------------------------------------------------------
# Small cells of a user's panel
# ---------------------------------------------------------------------------------------------


def _by_frame(draw_sizes, draw_counts, thr=(1, 5, 20)):
    rows = []
    for f, sizes in draw_sizes.items():
        for j, n in enumerate(sizes):
            counts = sorted(draw_counts[f][j][: len(thr)], reverse=True)
            counts = [min(c, n) for c in counts]
            row = {"field": f, "value": str(j), "n_children": n, "median": 1.0, "p90": 2.0}
            for k, c in zip(thr, counts, strict=True):
                row[f"n_at_least_{k}"] = c
                row[f"share_at_least_{k}"] = c / n if n else np.nan
            # the linked bound: at least the unjoined counts, at most the cell
            row["median_linked"], row["p90_linked"] = 2.0, 3.0
            for k, c in zip(thr, counts, strict=True):
                cl = min(n, c + (j + len(f)) % 7)
                row[f"n_at_least_linked_{k}"] = cl
                row[f"share_at_least_linked_{k}"] = cl / n if n else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["nc_year", "fsm_eligible", "region"]),
        st.lists(st.integers(1, 40), min_size=1, max_size=6),
        min_size=1,
    ),
    st.data(),
)
def test_protected_breakdown_shows_no_small_count(sizes, data):
    """Property: after protection no shown count (cell size, level count or its complement in
    the cell) is between 1 and t - 1, and no field has exactly one withheld cell, nor exactly one
    withheld count at a level (it would be the panel's total minus the others)."""
    counts = {
        f: [data.draw(st.lists(st.integers(0, 40), min_size=3, max_size=3)) for _ in s]
        for f, s in sizes.items()
    }
    by = _by_frame(sizes, counts)
    t = 10
    out = lj.protect_breakdown(by, (1, 5, 20), t)
    n = out["n_children"]
    assert not ((n.notna()) & (n < t)).any()
    # a withheld cell shows no figure at all, whatever its columns (fail closed)
    figures = [c for c in by.columns if c not in ("field", "value")]
    assert out.loc[n.isna(), figures].isna().all().all()
    for kind in ("", "_linked"):
        for k in (1, 5, 20):
            c = out[f"n_at_least{kind}_{k}"]
            shown = c.notna()
            assert not (shown & (c > 0) & (c < t)).any()
            comp = by["n_children"] - by[f"n_at_least{kind}_{k}"]
            assert not (shown & (comp > 0) & (comp < t)).any()
            assert (out[f"share_at_least{kind}_{k}"].isna() | shown).all()
            for _, g in out.groupby("field"):
                assert int(g[f"n_at_least{kind}_{k}"].isna().sum()) != 1 or len(g) == 1
    for _, g in out.groupby("field"):
        withheld = int(g["n_children"].isna().sum())
        assert withheld != 1 or len(g) == 1
    # what is shown is the truth
    keep = n.notna()
    assert (n[keep].astype(int) == by.loc[keep, "n_children"]).all()


def test_protected_breakdown_hides_the_second_cell():
    by = _by_frame({"region": [4, 50, 30, 80]}, {"region": [[4, 0, 0], [50, 20, 0]] * 2})
    out = lj.protect_breakdown(by, (1, 5, 20), 10)
    assert out["n_children"].isna().tolist() == [True, False, True, False]
    assert out.loc[2, "withheld"].startswith("withheld so that")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 150), min_size=1, max_size=300), st.integers(1, 20))
def test_distribution_merges_small_bins(values, t):
    """Property: the bins hold every child once, cover 0 to infinity without gaps, and merged
    (a user's panel) no bin holds 1 to t - 1 children unless it is the only one."""
    x = np.array(values)
    for coded in (lj.distribution(x), lj.distribution(x, min_count=t)):
        assert coded["n_children"].sum() == len(x)
        lo, hi = coded["lowest"].to_numpy(), coded["highest"]
        assert lo[0] == 0 and pd.isna(hi.iloc[-1]) and (lo[1:] == hi.iloc[:-1] + 1).all()
        for _, r in coded.iterrows():
            top = np.inf if pd.isna(r["highest"]) else r["highest"]
            assert r["n_children"] == np.count_nonzero((x >= r["lowest"]) & (x <= top))
    coded = lj.distribution(x, min_count=t)
    if len(coded) > 1:
        n = coded["n_children"]
        assert not ((n > 0) & (n < t)).any()


def test_json_format_is_the_headline_with_provenance(capsys):
    code, out, err = run(
        capsys,
        "ledger",
        "--pupils",
        "300",
        "--scenario",
        "school_gate,neighbour",
        "--no-timeline",
        "--no-policies",
        "--no-collusion",
        "--format",
        "json",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert [r["scenario"] for r in doc["rows"]] == ["school_gate", "neighbour"]
    assert doc["provenance"]["function"] == "ledger_job"
    assert doc["provenance"]["cohort"]["n_pupils"] == 300


def test_panel_with_a_bad_year_is_one_line(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text(
        "pupil_id,academic_year,urn,nc_year,sex,year_of_birth,month_of_birth\n"
        "a,2013,1,5,F,2004,3\nb,twenty,1,5,M,2004,3\n"
    )
    code, _, err = run(capsys, "ledger", "--panel", path, "--scenario", "school_gate")
    assert code == 2 and err.count("\n") == 1
    assert "p.csv" in err and "line 3" in err and "'academic_year'" in err
    assert "twenty" not in err  # never a value from the file


def test_parquet_panel_and_toml_ledger_give_the_csv_figures(own_files, tmp_path, capsys):
    """The package's readers: the same panel as Parquet and the same ledger as TOML give the
    same figures as the CSV files."""
    from riskcalc.release.ledger import read_ledger, write_ledger_toml

    _, panel_path, ledger_path = own_files
    parquet = tmp_path / "panel.parquet"
    pd.read_csv(panel_path, dtype=str).to_parquet(parquet, index=False)
    toml = tmp_path / "ledger.toml"
    write_ledger_toml(read_ledger(ledger_path), toml)
    outs = []
    for panel, ledger in ((panel_path, ledger_path), (parquet, toml)):
        code, out, err = run(
            capsys,
            "ledger",
            "--ledger",
            ledger,
            "--panel",
            panel,
            "--scenario",
            "school_gate",
            "--no-timeline",
            "--no-policies",
            "--no-collusion",
            "--format",
            "csv",
        )
        assert code == 0, err
        outs.append(out)
    assert outs[0] == outs[1]


def test_a_messy_panel_is_profiled_and_can_be_normalised(own_files, tmp_path, capsys):
    """A user's panel with one value written two ways: the figures are said to be upper bounds
    (stderr, the notes, the provenance's data-quality block, no data value quoted); with
    --normalise the spellings are unified before measuring (the file is not changed) and the
    figures equal those of the clean panel."""
    _, panel_path, ledger_path = own_files
    clean = pd.read_csv(panel_path)
    messy = clean.copy()
    messy["sex"] = messy["sex"].astype(str)
    rows = np.arange(len(messy)) % 5 == 0
    messy.loc[rows, "sex"] = messy.loc[rows, "sex"].str.lower()
    messy_path = tmp_path / "messy_panel.csv"
    messy.to_csv(messy_path, index=False)
    before = messy_path.read_bytes()
    args = ["ledger", "--ledger", ledger_path, "--scenario", "school_gate", "--format", "json"]
    runs = {}
    for name, extra in (
        ("clean", ["--panel", panel_path]),
        ("messy", ["--panel", messy_path, "--out", tmp_path / "messy"]),
        ("normalised", ["--panel", messy_path, "--normalise", "--out", tmp_path / "norm"]),
    ):
        code, out, err = run(capsys, *args, *extra)
        assert code == 0, err
        runs[name] = (json.loads(out), err)
    assert messy_path.read_bytes() == before
    doc, err = runs["messy"]
    assert "upper bound" in err and "'sex'" in err
    assert "traceback" not in err.lower()
    prov = doc["provenance"]
    assert any(u["column"] == "sex" for u in prov["data_quality"]["upper_bound"])
    notes = json.loads((tmp_path / "messy" / "ledger.json").read_text())["notes"]
    assert any("upper bound" in n for n in notes)
    # the messy spelling splits classes: more children singled out than on the clean panel
    head = {k: doc["rows"][0][k] for k in ("n_at_least_1", "n_at_least_5")}
    clean_head = {k: runs["clean"][0]["rows"][0][k] for k in head}
    assert head["n_at_least_1"] >= clean_head["n_at_least_1"]
    assert head != clean_head
    norm, err = runs["normalised"]
    assert "normalised" in err
    assert norm["provenance"]["parameters"]["normalise"] is True
    assert {k: norm["rows"][0][k] for k in head} == clean_head
