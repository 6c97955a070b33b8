"""Every CSV riskcalc writes: counts as integers, whatever command wrote it.

Before (issue 24, item 7), some CSVs wrote counts as floats (`riskcalc suda --format csv`:
``records,5520.0``) because their column mixed counts with a score. The class: a whole number in
a column that is not a fraction (by the one naming rule of :mod:`riskcalc._render`) is written
as an integer, in every CSV of every command.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from riskcalc import _render
from riskcalc._cli import main
from riskcalc._cli._output import example_path as _example_path

_WHOLE_FLOAT = re.compile(r"^-?\d+\.0+$")


def _bad_cells(text: str) -> list[tuple[str, str]]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    header, body = rows[0], rows[1:]
    return [
        (header[j], v)
        for r in body
        for j, v in enumerate(r)
        if j < len(header) and not _render._is_fraction(header[j]) and _WHOLE_FLOAT.match(v)
    ]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, str]:
    """The CSV text of every command's outputs, by a label."""
    root = tmp_path_factory.mktemp("csv")
    out: dict[str, str] = {}

    def run(label, argv, folder=None, capsys=None):
        code = main(argv)
        assert code == 0, (label, argv)
        if folder is not None:
            for path in sorted(Path(folder).rglob("*.csv")):
                out[f"{label}/{path.name}"] = path.read_text(encoding="utf-8")

    example = str(_example_path())
    run(
        "tiers",
        ["tiers", "--pupils", "3000", "--out", str(root / "tiers"), "--no-what-if"],
        root / "tiers",
    )
    run("synth", ["synth", "--pupils", "2000", "--seed", "1", "--out", str(root / "synth")])
    run("report", ["report", str(root / "synth"), "--out", str(root / "report")], root / "report")
    run(
        "analyse",
        ["analyse", example, "--qi", "sex,date_of_birth,postcode", "--out", str(root / "a.csv")],
    )
    out["analyse/a.csv"] = (root / "a.csv").read_text(encoding="utf-8")
    for cmd, fields in (
        ("lattice", "sex,nc_year,urn,postcode"),
        ("suda", "sex,nc_year,urn,ethnic_group_minor"),
    ):
        run(cmd, [cmd, example, "--fields", fields, "--out", str(root / f"{cmd}.csv")])
        out[f"{cmd}/{cmd}.csv"] = (root / f"{cmd}.csv").read_text(encoding="utf-8")
    tables = root / "tables"
    tables.mkdir()
    (tables / "t.csv").write_text("LA,Sex,count\n206,F,12\n206,,3\n206,M,15\n208,F,20\n208,M,2\n")
    run(
        "check",
        ["check-output", str(tables / "t.csv"), "--out", str(root / "check")],
        root / "check",
    )
    run("audit", ["audit-tables", str(tables), "--out", str(root / "audit")], root / "audit")
    run(
        "release",
        ["audit-tables", str(tables), "--for-release", "--out", str(root / "release")],
        root / "release",
    )
    return out


def test_every_command_wrote_csv(outputs):
    labels = {k.split("/")[0] for k in outputs}
    assert labels >= {"tiers", "report", "analyse", "lattice", "suda", "audit", "release"}, (
        labels
    )  # check-output writes JSON and Markdown


def test_counts_are_integers_in_every_csv(outputs):
    bad = {name: cells[:5] for name, text in outputs.items() if (cells := _bad_cells(text))}
    assert bad == {}


@pytest.mark.parametrize("fmt", ["csv"])
@pytest.mark.parametrize(
    "cmd, fields", [("suda", "sex,nc_year,urn"), ("lattice", "sex,nc_year,urn")]
)
def test_stdout_csv_counts_are_integers(cmd, fields, fmt, capsys):
    assert main([cmd, str(_example_path()), "--fields", fields, "--format", fmt]) == 0
    text = capsys.readouterr().out
    assert _bad_cells(text) == []
