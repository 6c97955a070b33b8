"""Inputs analysts actually have (issue 11): Excel, standard input, a folder of Parquet parts,
messy text found before it is measured, --normalise, --sensitive for own files."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import riskcalc as rc
from riskcalc._cli import main


def _messy(n=400, seed=5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n)
    messy_sex = np.where(rng.random(n) < 0.3, np.char.lower(sex.astype(str)), sex)
    messy_sex = np.where(rng.random(n) < 0.2, np.char.add(messy_sex, " "), messy_sex)
    year = rng.integers(7, 12, n).astype(str)
    year = np.where(rng.random(n) < 0.3, np.char.add("0", year), year)
    return pd.DataFrame(
        {
            "sex": messy_sex,
            "nc_year": year,
            "urn": rng.choice([f"1{i:05d}" for i in range(8)], n),
            "fsm_eligible": rng.choice(["Y", "N"], n),
        }
    )


def test_excel_is_read_as_text(tmp_path, capsys):
    pytest.importorskip("openpyxl")
    df = _messy()
    df.to_excel(tmp_path / "x.xlsx", index=False)
    df.to_csv(tmp_path / "x.csv", index=False)
    qi = ["sex", "nc_year", "urn"]
    assert repr(rc.uniqueness(tmp_path / "x.xlsx", qi)) == repr(
        rc.uniqueness(tmp_path / "x.csv", qi)
    )
    assert (
        main(["analyse", str(tmp_path / "x.xlsx"), "--qi", ",".join(qi), "--format", "json"]) == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert (
        doc["provenance"]["input"]["source"] == "x.xlsx"
        and len(doc["provenance"]["input"]["sha256"]) == 64
    )


def test_old_excel_and_ods_are_refused_in_one_line(tmp_path, capsys):
    (tmp_path / "x.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    assert main(["analyse", str(tmp_path / "x.xls"), "--qi", "sex"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown file type '.xls'" in err[0] and "\\x" not in err[0]


def test_standard_input_is_read_once(tmp_path):
    df = _messy()
    text = df.to_csv(index=False)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "riskcalc",
            "analyse",
            "-",
            "--qi",
            "sex,nc_year,urn",
            "--format",
            "json",
        ],
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["provenance"]["input"]["source"] == "stdin.csv"
    n_unique = next(r for r in doc["rows"] if r["measure"] == "n_unique")["value"]
    assert (
        n_unique
        == rc.uniqueness(
            pd.read_csv(io.StringIO(text), dtype=str), ["sex", "nc_year", "urn"]
        ).n_unique
    )


def test_a_folder_of_parquet_parts_is_one_dataset(tmp_path, capsys):
    df = _messy()
    folder = tmp_path / "parts"
    folder.mkdir()
    for i in range(4):
        df.iloc[i * 100 : (i + 1) * 100].to_parquet(folder / f"part-{i}.parquet")
    qi = ["sex", "nc_year", "urn"]
    assert repr(rc.uniqueness(folder, qi)) == repr(rc.uniqueness(df, qi))
    assert main(["analyse", str(folder), "--qi", ",".join(qi), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["provenance"]["input"]["files"] == 4
    # hive partitions too
    hive = tmp_path / "hive"
    df.to_parquet(hive, partition_cols=["fsm_eligible"])
    assert rc.uniqueness(hive, qi).n_records == len(df)


def test_messy_values_warn_and_normalise_is_recorded(tmp_path, capsys):
    df = _messy()
    path = tmp_path / "messy.csv"
    df.to_csv(path, index=False)
    before = path.read_bytes()
    qi = "sex,nc_year,urn"
    assert main(["analyse", str(path), "--qi", qi, "--format", "json"]) == 0
    captured = capsys.readouterr()
    raw = json.loads(captured.out)
    warnings = [line for line in captured.err.splitlines() if "warning" in line]
    assert any("'sex'" in w and "letter case" in w for w in warnings)
    assert any("'nc_year'" in w and "more than one way" in w for w in warnings)
    assert main(["analyse", str(path), "--qi", qi, "--format", "json", "--normalise"]) == 0
    fixed = json.loads(capsys.readouterr().out)
    value = lambda doc: next(r for r in doc["rows"] if r["measure"] == "n_unique")["value"]
    assert value(fixed) < value(raw)
    assert fixed["provenance"]["parameters"]["normalise"] is True
    record = {n["column"]: n for n in fixed["provenance"]["data_quality"]["normalisation"]}
    assert (record["sex"]["distinct_before"], record["sex"]["distinct_after"]) == (
        8,
        2,
    )  # F f "F " "f " M m ...
    assert path.read_bytes() == before


def test_report_takes_sensitive_fields_for_own_files(tmp_path, capsys):
    df = _messy().assign(sex=lambda d: d["sex"].str.strip().str.upper())
    path = tmp_path / "own.csv"
    df.to_csv(path, index=False)
    scen = tmp_path / "s.toml"
    scen.write_text(
        '[gate]\nfields = ["urn", "nc_year", "sex"]\nrationale = "A parent at the gate."\n'
    )
    assert (
        main(
            [
                "report",
                str(path),
                "--scenarios",
                str(scen),
                "--sensitive",
                "fsm_eligible",
                "--format",
                "json",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert [a["sensitive"] for a in doc["attributes"]] == ["fsm_eligible"]
    assert doc["provenance"]["data"] == "file" and doc["provenance"]["inputs"][0]["sha256"]


def test_lattice_on_screen_shows_the_most_identifying_first(tmp_path, capsys):
    df = _messy()
    path = tmp_path / "x.csv"
    df.to_csv(path, index=False)
    assert (
        main(["lattice", str(path), "--fields", "sex,nc_year,urn,fsm_eligible", "--format", "csv"])
        == 0
    )
    captured = capsys.readouterr()
    rows = pd.read_csv(io.StringIO(captured.out))
    assert len(rows) == 15  # fewer than the screen limit: every subset, sorted by risk
    assert rows["unique_share"].is_monotonic_decreasing
