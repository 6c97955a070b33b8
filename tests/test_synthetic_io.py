"""Parquet round trip, file metadata, overwrite protection and the ``riskcalc synth`` CLI."""

from __future__ import annotations

import importlib
import json
import os
import re

import pandas as pd
import pyarrow.parquet as pq
import pytest

import synthetic
from synthetic import (
    ExtractExistsError,
    SyntheticError,
    columns_for_tier,
    generate_cohort,
    read_extract,
    read_metadata,
    tier3_tables,
    tier_extract,
    write_extract,
)
from synthetic.io import check_output_dir

SEED = 99


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return generate_cohort(6_000, rng=SEED)


@pytest.mark.parametrize("tier", [1, 2, 4])
def test_round_trip_restores_frame_and_metadata(cohort, tmp_path, tier):
    extract = tier_extract(cohort, tier)
    path = write_extract(extract, tmp_path / f"tier{tier}.parquet")
    back = read_extract(path)
    pd.testing.assert_frame_equal(back, extract)
    meta = back.attrs["synthetic"]
    assert meta["tier"] == tier
    assert meta["seed"] == SEED
    assert meta["n_pupils"] == len(cohort)
    assert meta["generator_version"] == synthetic.GENERATOR_VERSION
    assert meta["columns"] == list(columns_for_tier(tier))
    assert set(meta["roles"]) == set(columns_for_tier(tier))
    assert meta["roles"]["pupil_id"] == "direct_identifier"
    assert meta["roles"]["sex"] == "quasi_identifier"
    if tier <= 2:
        assert meta["roles"]["fsm_eligible"] == "sensitive"
    # metadata sits in the Parquet schema, readable without pandas
    raw = json.loads(pq.read_schema(path).metadata[b"synthetic"])
    assert raw == meta


def test_round_trip_tier3_table(cohort, tmp_path):
    table = tier3_tables(cohort, by=["la_code"], characteristics=["sen_provision"])[
        "la_code_x_sen_provision"
    ]
    path = write_extract(table, tmp_path / "t3.parquet")
    back = read_extract(path)
    pd.testing.assert_frame_equal(back, table)
    assert back.attrs["synthetic"]["tier"] == 3
    assert back.attrs["synthetic"]["roles"]["count"] == "count"


def test_write_is_deterministic(cohort, tmp_path):
    extract = tier_extract(cohort, 4)
    a = write_extract(extract, tmp_path / "a.parquet")
    b = write_extract(tier_extract(generate_cohort(6_000, rng=SEED), 4), tmp_path / "b.parquet")
    assert a.read_bytes() == b.read_bytes()


def test_never_overwrites_without_force(cohort, tmp_path):
    path = tmp_path / "t4.parquet"
    write_extract(tier_extract(cohort, 4), path)
    before = path.read_bytes()
    other = tier_extract(generate_cohort(500, rng=1), 4)
    with pytest.raises(ExtractExistsError, match="already exists: '.*t4.parquet'.*force"):
        write_extract(other, path)
    assert path.read_bytes() == before
    write_extract(other, path, force=True)
    assert len(read_extract(path)) == 500
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t4.parquet"]  # no temp files left


def test_write_errors(cohort, tmp_path, monkeypatch):
    extract = tier_extract(cohort, 4)
    with pytest.raises(SyntheticError, match="does not exist: '.*missing'"):
        write_extract(extract, tmp_path / "missing" / "x.parquet")
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(SyntheticError, match="not a directory"):
        write_extract(extract, afile / "x.parquet")
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    with pytest.raises(SyntheticError, match="not writable: '.*'"):
        write_extract(extract, tmp_path / "x.parquet")
    monkeypatch.undo()
    with pytest.raises(SyntheticError, match="must be a pandas DataFrame"):
        write_extract({"a": 1}, tmp_path / "x.parquet")
    with pytest.raises(SyntheticError, match="no synthetic metadata"):
        pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "plain.parquet")
        read_extract(tmp_path / "plain.parquet")


# ------------------------------------------------------------------------------ CLI
# ``riskcalc synth`` (riskcalc/_cli/synth.py; the generator's stand-alone synthetic/_cli.py,
# which wrote the files one by one, is gone: the riskcalc command is the one way in).
def _synth(capsys, *argv):
    from riskcalc._cli import main

    code = main(["synth", *argv])
    return code, *capsys.readouterr()


def test_cli_writes_extracts(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--pupils", "2000", "--seed", "5", "--out", str(out), "--tiers", "1,3,4"]
    code, printed, err = _synth(capsys, *argv)
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert "tier1.parquet" in names and "tier4.parquet" in names and "tier2.parquet" not in names
    assert any(n.startswith("tier3_urn_x_") for n in names)
    meta = read_metadata(out / "tier1.parquet")
    assert meta["seed"] == 5 and meta["n_pupils"] == 2000 and meta["tier"] == 1
    assert "tier1.parquet" in printed
    assert err == ""  # no progress bar when stderr is not a terminal
    expected = tier_extract(generate_cohort(2000, rng=5), 1)
    pd.testing.assert_frame_equal(read_extract(out / "tier1.parquet"), expected)
    # an existing set: refused without --force, replaced with it
    code, _, err = _synth(capsys, *argv)
    assert code == 2 and "--force" in err
    assert _synth(capsys, *argv, "--force")[0] == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--pupils", "0"], "--pupils must be an integer in the range \\[1, .*Got '0'"),
        (["--pupils", "-3"], "Got '-3'"),
        (["--pupils", "many"], "Got 'many'"),
        (["--seed", "-1"], "--seed must be an integer.*Got '-1'"),
        (["--tiers", "1,5"], "--tiers .*bad tier '5'"),
        (["--tiers", ""], "--tiers .*bad tier ''"),
    ],
)
def test_cli_bad_arguments(tmp_path, capsys, argv, message):
    code, out, err = _synth(capsys, "--pupils", "100", "--out", str(tmp_path / "o"), *argv)
    assert code == 2 and out == ""
    assert re.search(message, err) and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_cli_bad_output_directory(tmp_path, capsys, monkeypatch):
    # riskcalc synth creates missing parents (the stand-alone writer refused them)
    code, _, _ = _synth(capsys, "--pupils", "100", "--out", str(tmp_path / "a" / "b"))
    assert code == 0 and (tmp_path / "a" / "b" / "manifest.json").exists()
    afile = tmp_path / "f"
    afile.write_text("x")
    code, _, err = _synth(capsys, "--pupils", "100", "--out", str(afile))
    assert code == 2 and "--out" in err and err.count("\n") == 1
    # the generator's own check of an output directory (synthetic.io.check_output_dir)
    with pytest.raises(SyntheticError, match="does not exist"):
        check_output_dir(tmp_path / "nope", "f")
    with pytest.raises(SyntheticError, match="not a directory"):
        check_output_dir(afile, "f")
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    with pytest.raises(SyntheticError, match="not writable"):
        check_output_dir(tmp_path, "f")


def test_public_api():
    """``__all__`` is the table of public names (``synthetic._NAMES``, which also gives the lazy
    imports and the docstring; tests/test_public_api.py checks the static imports), every name
    listed once, its module present; the names the docs lean on are there."""
    names = [name for rows in synthetic._NAMES.values() for name, _, _ in rows]
    assert synthetic.__all__ == names and len(set(names)) == len(names)
    for name, home in synthetic._LAZY.items():
        assert getattr(importlib.import_module(f"synthetic.{home}"), name) is getattr(
            synthetic, name
        )
    assert {
        "generate_cohort",
        "generate_panel",
        "tier_extract",
        "write_tiers",
        "FIELDS",
        "SyntheticError",
        "GENERATOR_VERSION",
    } <= set(synthetic.__all__)
    assert synthetic.__version__ == synthetic.GENERATOR_VERSION
    for name in synthetic.__all__:
        assert hasattr(synthetic, name)
