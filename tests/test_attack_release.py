"""The linkage-attack experiment (riskcalc/release/attack.py): tables, the CLI command, byte-
identical outputs, the report section and the tiers --attack switch."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import synthetic
from riskcalc._cli import main
from riskcalc.exceptions import InvalidParameterError
from riskcalc.release import attack as attack_mod
from riskcalc.release.attack import attack_experiment, attack_section
from riskcalc.release.job import tiers_job
from synthetic.intruders import auxiliary_table, linking_view

pytest.importorskip("splink")


@pytest.fixture(scope="module")
def exact_run():
    return attack_experiment(1_500, 3, probabilistic=False)


def test_summary_equals_a_direct_count(exact_run):
    cohort = synthetic.generate_cohort(1_500, rng=3)
    s = exact_run.summary.set_index(["tier", "intruder"])
    assert set(s.index.get_level_values("intruder")) == {
        "social_media",
        "neighbourhood_register",
        "local_news",
        "class_list",
    }
    aux = auxiliary_table(cohort, "class_list", rng=3 + 3)
    f, a, e = linking_view(aux, synthetic.tier_extract(cohort, 1))
    fk = e.groupby(list(f), observed=True)["pupil_id"].transform("size")
    ids = dict(zip(e["pupil_id"], fk))
    row = s.loc[(1, "class_list")]
    assert row["targets"] == len(a)
    assert row["sample_unique"] == sum(ids[p] == 1 for p in a["pupil_id"])
    assert row["sample_unique_share"] == pytest.approx(row["sample_unique"] / row["targets"])
    # tier 4 has no field of the neighbourhood register: a row with no fields and no figures
    assert s.loc[(4, "neighbourhood_register"), "fields"] == ""


def test_tables_are_counts_and_rates_only(exact_run):
    for frame in (
        exact_run.summary,
        exact_run.thresholds,
        exact_run.calibration,
        exact_run.attributes,
    ):
        assert not {"pupil_id", "forename", "surname", "postcode", "upn", "date_of_birth"} & set(
            frame.columns
        )
    text = b"".join(exact_run.files().values()).decode()
    cohort = synthetic.generate_cohort(1_500, rng=3)
    for pid in cohort["pupil_id"].head(50):
        assert pid not in text


def test_cli_writes_byte_identical_files(tmp_path):
    args = [
        "attack",
        "--pupils",
        "1500",
        "--seed",
        "2",
        "--intruders",
        "class_list",
        "--tiers",
        "1",
    ]
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(args + ["--out", str(a)]) == 0
    assert main(args + ["--out", str(b)]) == 0
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert {
        "attack_summary.csv",
        "attack_thresholds.csv",
        "attack_calibration.csv",
        "attack_attributes.csv",
        "attack.json",
        "attack.html",
        "attack.md",
        "manifest.json",
    } <= set(names)
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes(), n
    prov = json.loads((a / "attack.json").read_text())["provenance"]
    assert prov["cohort"]["seed"] == 2 and prov["parameters"]["intruders"] == ["class_list"]
    summary = pd.read_csv(a / "attack_summary.csv")
    assert summary["linkage_correct"].iloc[0] > 0


@pytest.mark.parametrize(
    "args, text",
    [
        (["--tiers", "3"], "tiers"),
        (["--intruders", "nobody"], "intruders"),
        (["--coverage", "0"], "--coverage"),
        (["--pupils", "5"], "--pupils"),
    ],
)
def test_cli_bad_input_one_line(args, text, capsys):
    assert main(["attack", "--exact-only", "--pupils", "500"] + args) == 2
    err = capsys.readouterr().err.strip()
    assert text in err and "\n" not in err


def test_bad_parameters():
    with pytest.raises(InvalidParameterError, match="'tiers'"):
        attack_experiment(500, tiers=[3], probabilistic=False)


def test_report_section_has_a_table_and_chart_per_tier(exact_run):
    html = attack_section(exact_run)
    assert html.count("<h3>Tier ") == 3
    assert html.count("<svg") == 3 and html.count("<table") == 3


def test_tiers_attack_switch(monkeypatch):
    monkeypatch.setattr(attack_mod, "ATTACK_PUPILS", 800)
    real = attack_mod.attack_experiment
    monkeypatch.setattr(
        attack_mod,
        "attack_experiment",
        lambda n, seed, **kw: real(n, seed, probabilistic=False, **kw),
    )
    on = tiers_job(800, 1, what_if=False, history=False, attack=True)
    off = tiers_job(800, 1, what_if=False, history=False)
    assert 'id="linkage-attack"' in on.html and 'id="linkage-attack"' not in off.html
    assert "attack_summary.csv" in on.files() and "attack_summary.csv" not in off.files()
    assert json.loads(on.files()["tier_table.json"])["provenance"]["attack"]["n_pupils"] == 800
