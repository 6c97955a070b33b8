"""Parquet datasets in parts (issue 26, item 9): a corrupt part is one line naming it in every
command, and parts with different schemas are refused instead of silently unioned."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from riskcalc._cli import main


def _tier(n=400):
    import synthetic

    return synthetic.tier_extract(synthetic.generate_cohort(n, rng=2), 1)


@pytest.fixture()
def corrupt(tmp_path):
    t = _tier()
    d = tmp_path / "ds"
    d.mkdir()
    t.iloc[:200].to_parquet(d / "a.parquet")
    t.iloc[200:].to_parquet(d / "b.parquet")
    (d / "c.parquet").write_bytes(b"PAR1garbage")
    return d


def _mixed(tmp_path, change):
    t = _tier()
    d = tmp_path / "mix"
    d.mkdir()
    t.iloc[:200].to_parquet(d / "a.parquet")
    change(t.iloc[200:].copy()).to_parquet(d / "b.parquet")
    return d


def _one_line(capsys, *args):
    code = main(list(args))
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and "Traceback" not in err and "internal error" not in err
    return lines[0]


@pytest.mark.parametrize("command", [["report"], ["analyse", "--qi", "sex,year_of_birth"]])
def test_a_corrupt_part_is_one_line_naming_it(corrupt, tmp_path, capsys, command):
    out = ["--out", str(tmp_path / "out")] if command[0] == "report" else []
    line = _one_line(capsys, command[0], str(corrupt), *command[1:], *out)
    assert "c.parquet" in line and "not a readable Parquet file" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "change,how",
    [
        (lambda f: f.drop(columns=["sex"]), "no column 'sex'"),
        # the text column's Arrow type is pandas' own (large_string on pandas 3, string before)
        (
            lambda f: f.assign(year_of_birth=f["year_of_birth"].astype(str)),
            "'year_of_birth' is {b}, not int16",
        ),
        (lambda f: f.assign(extra=1), "other column(s) 'extra'"),
    ],
)
@pytest.mark.parametrize("command", ["report", "analyse"])
def test_parts_with_different_schemas_are_refused(tmp_path, capsys, change, how, command):
    d = _mixed(tmp_path, change)
    args = (
        ["report", str(d), "--out", str(tmp_path / "out")]
        if command == "report"
        else ["analyse", str(d), "--qi", "sex,year_of_birth"]
    )
    line = _one_line(capsys, *args)
    if "{b}" in how:
        how = how.format(b=pq.read_schema(d / "b.parquet").field("year_of_birth").type)
    assert "b.parquet" in line and "a.parquet" in line and how in line


def test_parts_with_one_schema_still_read(tmp_path, capsys):
    d = _mixed(tmp_path, lambda f: f)
    assert main(["analyse", str(d), "--qi", "sex,year_of_birth", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "n_records" in out or "records" in out
    frame = pd.read_parquet(d)
    assert len(frame) == 400
