"""The command line: output formats, determinism, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from riskcalc._cli import main

PRACTICE = "tests/data/oracles/01_sdcpractice_tab41_individual_risk/input.csv"
QI = "Residence,Gender,Education,Labor"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_example_runs(capsys):
    code, out, err = run(capsys, "analyse", "--example")
    assert code == 0 and err == ""
    assert "quasi-identifiers: sex, date_of_birth, postcode" in out
    assert "sample uniques (fk = 1)" in out


def test_text_output_practice_guide(capsys):
    code, out, _ = run(capsys, "analyse", PRACTICE, "--qi", QI, "--weights", "Weight")
    assert code == 0
    lines = {line.split("  ")[0].strip(): line for line in out.splitlines()}
    assert "4" in lines["sample uniques (fk = 1)"] and "40.00%" in lines["sample uniques (fk = 1)"]
    assert "0.7" in lines["average prosecutor risk (mean 1/fk)"]
    assert "1,570" in lines["estimated population (sum of weights)"]


def test_json_output_has_provenance_and_rows(capsys):
    code, out, _ = run(capsys, "analyse", PRACTICE, "--qi", QI, "--format", "json")
    doc = json.loads(out)
    assert doc["provenance"]["parameters"]["quasi_identifiers"] == QI.split(",")
    assert doc["provenance"]["input"]["n_records"] == 10
    assert len(doc["provenance"]["input"]["sha256"]) == 64
    rows = {(r["measure"], r["threshold"]): r for r in doc["rows"]}
    assert rows[("n_unique", None)]["value"] == 4
    assert rows[("records_below", 3)]["value"] == 10
    assert rows[("average_risk", None)]["value"] == pytest.approx(0.7)


def test_csv_and_markdown_outputs(capsys):
    _, out, _ = run(capsys, "analyse", PRACTICE, "--qi", QI, "--format", "csv")
    assert out.splitlines()[0] == "section,measure,threshold,value,share"
    assert "quasi_identifiers,n_unique,,4,0.4" in out
    assert "attacker,prosecutor_success_rate,,0.7," in out
    _, out, _ = run(capsys, "analyse", PRACTICE, "--qi", QI, "--format", "markdown")
    # the profile of the columns first (here: nothing to fix), then the table
    assert out.startswith("## Data quality\n\n- The profile found nothing to fix")
    assert "\n| section | measure | threshold | value | share |" in out


def test_out_file_is_byte_identical_across_runs(tmp_path, capsys):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert main(["analyse", PRACTICE, "--qi", QI, "--format", "csv", "--out", str(a)]) == 0
    assert main(["analyse", PRACTICE, "--qi", QI, "--format", "csv", "--out", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()
    sidecar = tmp_path / "a.csv.provenance.json"
    assert json.loads(sidecar.read_text())["riskcalc_version"]
    code, _, err = run(capsys, "analyse", PRACTICE, "--qi", QI, "--out", str(a))
    assert code == 2 and "exists already; add --force" in err
    assert (
        main(["analyse", PRACTICE, "--qi", QI, "--format", "csv", "--out", str(a), "--force"]) == 0
    )


def test_no_rare_values_in_output(capsys):
    # Record 5 is the only rural record: its values must not be printed.
    _, out, _ = run(capsys, "analyse", PRACTICE, "--qi", QI)
    assert "Rural" not in out and "Unemployed" not in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["analyse", "missing.csv", "--qi", "a"], "No such file: 'missing.csv'"),
        (["analyse", PRACTICE, "--qi", "Residence,gender"], "Did you mean 'Gender'?"),
        (["analyse", PRACTICE], "--qi is required"),
        (["analyse", PRACTICE, "--qi", ""], "--qi takes comma-separated column names"),
        (
            ["analyse", PRACTICE, "--qi", QI, "--thresholds", "0"],
            "--thresholds takes whole numbers of at least 1; got 0",
        ),
        (["analyse", PRACTICE, "--qi", QI, "--count-thresholds", "2,x"], "got 'x'"),
        (
            ["analyse", PRACTICE, "--qi", QI, "--weights", "Health"],
            "The column 'Health' must be numeric",
        ),
        (["analyse"], "give a FILE to analyse"),
        (["analyse", PRACTICE, "--example"], "either FILE or --example"),
    ],
)
def test_errors_are_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_negative_and_missing_weights(tmp_path, capsys):
    path = tmp_path / "w.csv"
    pd.DataFrame({"a": [1, 2, 3], "w": [1.0, -1.0, 2.0]}).to_csv(path, index=False)
    code, _, err = run(capsys, "analyse", str(path), "--qi", "a", "--weights", "w")
    assert code == 2 and "must be non-negative" in err
    pd.DataFrame({"a": [1, 2, 3], "w": [1.0, None, 2.0]}).to_csv(path, index=False)
    code, _, err = run(capsys, "analyse", str(path), "--qi", "a", "--weights", "w")
    assert code == 2 and "must not hold missing" in err


def test_empty_file(tmp_path, capsys):
    path = tmp_path / "e.csv"
    path.write_text("a,b\n")
    code, _, err = run(capsys, "analyse", str(path), "--qi", "a")
    assert code == 2 and "has no records" in err


def test_missing_raise_policy(tmp_path, capsys):
    path = tmp_path / "m.csv"
    path.write_text("a,b\n1,\n2,3\n")
    code, _, err = run(capsys, "analyse", str(path), "--qi", "a,b", "--missing", "raise")
    assert code == 2 and "Column 'b' has 1 missing value(s)" in err


def test_python_dash_m_and_version():
    out = subprocess.run(
        [sys.executable, "-m", "riskcalc", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("riskcalc ")


def test_lattice_command(capsys):
    code, out, err = run(
        capsys, "lattice", PRACTICE, "--fields", QI, "--top", "3", "--target", "0.4"
    )
    assert code == 0, err
    assert "Residence, Education" in out and "mean_increase" in out
    assert "Rural" not in out
    code, out, _ = run(
        capsys, "lattice", PRACTICE, "--fields", QI, "--format", "json", "--max-size", "2"
    )
    doc = json.loads(out)
    assert len(doc["rows"]) == 10
    shares = [r["unique_share"] for r in doc["rows"]]
    assert shares == sorted(shares, reverse=True)  # on screen: the most identifying first
    assert doc["provenance"]["parameters"]["max_size"] == 2


def test_suda_command(capsys):
    code, out, err = run(capsys, "suda", PRACTICE, "--fields", QI)
    assert code == 0, err
    assert "records with an MSU" in out and "MSUs of size 1" in out
    assert "Rural" not in out and "Post-secondary" not in out
    code, out, _ = run(capsys, "suda", PRACTICE, "--fields", QI, "--format", "csv")
    assert "highest SUDA score,12" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["lattice", PRACTICE, "--fields", "Residence,gender"], "Did you mean 'Gender'?"),
        (["lattice", PRACTICE, "--fields", QI, "--max-size", "0"], "'max_size' parameter"),
        (["lattice", PRACTICE, "--fields", QI, "--top", "0"], "--top takes a whole number"),
        (["lattice", "nope.csv", "--fields", QI], "No such file"),
        (["suda", PRACTICE, "--fields", QI, "--dis-fraction", "2"], "'dis_fraction' parameter"),
        (["suda", PRACTICE, "--fields", ""], "--fields takes comma-separated column names"),
    ],
)
def test_lattice_and_suda_errors(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and message in err
    assert err.count("\n") == 1


def test_analyse_all_sections(tmp_path, capsys):
    df = pd.read_csv(PRACTICE).assign(hh=[1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    path = tmp_path / "pg.csv"
    df.to_csv(path, index=False)
    pop = tmp_path / "pop.csv"
    pd.concat([df] * 4).to_csv(pop, index=False)
    code, out, err = run(
        capsys,
        "analyse",
        str(path),
        "--qi",
        QI,
        "--weights",
        "Weight",
        "--household",
        "hh",
        "--population",
        str(pop),
        "--format",
        "json",
    )
    assert code == 0, err
    rows = {(r["section"], r["measure"]): r for r in json.loads(out)["rows"]}
    assert rows[("individual", "global_risk")]["value"] == pytest.approx(0.01582, abs=5e-6)
    assert rows[("attacker", "journalist_highest_risk")]["value"] == pytest.approx(0.25)
    assert ("individual", "household_global_risk") in rows


def test_analyse_wildcard(tmp_path, capsys):
    path = "tests/data/oracles/02_sdcpractice_tab42_missing_wildcard/input.csv"
    code, out, _ = run(
        capsys,
        "analyse",
        path,
        "--qi",
        "Gender,Education,Labor",
        "--missing",
        "wildcard",
        "--format",
        "json",
    )
    rows = {(r["section"], r["measure"], r["threshold"]): r for r in json.loads(out)["rows"]}
    assert rows[("quasi_identifiers", "n_unique", None)]["value"] == 0
    assert rows[("quasi_identifiers", "k", None)]["value"] == 2


def test_household_needs_weights(capsys):
    code, _, err = run(capsys, "analyse", PRACTICE, "--qi", QI, "--household", "Health")
    assert code == 2 and "--household needs --weights" in err


def test_analyse_sensitive_and_population_sections(capsys):
    path = "tests/data/oracles/03_sdcpractice_tab43_ldiversity/input.csv"
    code, out, err = run(
        capsys,
        "analyse",
        path,
        "--qi",
        QI,
        "--sensitive",
        "Health",
        "--sampling-fraction",
        "0.5",
        "--format",
        "json",
    )
    assert code == 0, err
    rows = {(r["section"], r["measure"]): r for r in json.loads(out)["rows"]}
    # Practice Guide table 4.3: distinct l per record 1,1,1,2,1,2,1,1,2,2 -> 6 records revealed
    assert rows[("attribute", "Health: records_revealed")]["value"] == 6
    assert rows[("attribute", "Health: distinct_l")]["value"] == 1
    assert rows[("population", "population_size")]["value"] == 20
    code, _, err = run(capsys, "analyse", path, "--qi", QI, "--sensitive", "Gender")
    assert code == 2 and "Gender" in err and err.count("\n") == 1
    code, _, err = run(capsys, "analyse", path, "--qi", QI, "--sampling-fraction", "1.5")
    assert code == 2 and "sampling_fraction" in err
