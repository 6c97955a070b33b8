"""Formula injection in CSV and line injection in LaTeX (issue 26, items 10 and 11).

Before, column names, scenario names, file labels and table dimension values reached every CSV
verbatim (``riskcalc lattice --fields '=HYPERLINK("http://x")' --format csv`` wrote a cell a
spreadsheet runs), and ``audit-tables`` wrote its CSVs with pandas, past the project's writer.
A newline in a file name or an argument ended a LaTeX provenance comment, so ``\\input{...}``
in a file name became a live command in ``--format latex`` and ``tier_table.tex``.

The class: every CSV any command writes goes through :func:`riskcalc._render.to_csv`, whose
text cells and headers never start with a formula trigger unless escaped with a single quote
(numbers stay numbers); every LaTeX output keeps the input's line breaks out of its lines.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskcalc import _render
from riskcalc._cli import build_parser, main
from riskcalc._cli._output import example_path as _example_path

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _unsafe_cells(text: str) -> list[str]:
    """Cells of a CSV text (header included) that a spreadsheet could run as a formula: they
    start with a trigger and are not a plain number."""
    return [
        cell
        for row in csv.reader(io.StringIO(text, newline=""))
        for cell in row
        if cell[:1] in TRIGGERS and not _PLAIN_NUMBER.fullmatch(cell)
    ]


# ---------------------------------------------------------------------------------------------
# The escaper and the writer
# ---------------------------------------------------------------------------------------------

_starts = st.sampled_from(TRIGGERS + ("'", "a", " ", "1", "\u00e9", ""))
hostile_text = st.builds(lambda a, b: a + b, _starts, st.text(max_size=12))


@given(hostile_text)
def test_escape_formula_is_safe_and_reversible(text):
    escaped = _render.escape_formula(text)
    assert _render.unescape_formula(escaped) == text
    assert escaped[:1] not in TRIGGERS or _PLAIN_NUMBER.fullmatch(escaped)
    assert escaped in (text, "'" + text)


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x")', "+sex", "-pc", "@SUM(A1)", "\tx", "\rx", "\nx", "\0x", "-", "'=1"],
)
def test_formula_triggers_get_a_quote(text):
    assert _render.escape_formula(text) == "'" + text


@pytest.mark.parametrize("text", ["-0.5", "+3", "-1e-05", "sex", "", "0", " =1"])
def test_numbers_and_plain_text_are_left_alone(text):
    assert _render.escape_formula(text) == text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(hostile_text, min_size=1, max_size=3, unique=True),
    values=st.lists(hostile_text, min_size=1, max_size=6),
    numbers=st.lists(
        st.one_of(st.floats(-1e12, 1e12, allow_nan=False), st.integers(-(10**6), 10**6)),
        min_size=1,
        max_size=6,
    ),
    as_tuple=st.booleans(),
)
def test_to_csv_parses_back_to_safe_cells_and_unchanged_numbers(names, values, numbers, as_tuple):
    n = min(len(values), len(numbers))
    text_col = [tuple(v.split(",")) if as_tuple else v for v in values[:n]]
    frame = pd.DataFrame({names[0]: text_col})
    frame["-value_share"] = pd.Series([float(x) for x in numbers[:n]], dtype=np.float64)
    frame["@count"] = pd.Series([int(x) for x in numbers[:n]], dtype=np.int64)
    frame["+mixed"] = pd.Series(
        [numbers[i] if i % 2 else values[i] for i in range(n)], dtype=object
    )
    for extra in names[1:]:
        if extra not in frame.columns:
            frame[extra] = values[:n]
    out = _render.to_csv(frame)
    assert _unsafe_cells(out) == []
    rows = list(csv.reader(io.StringIO(out, newline="")))
    header, body = rows[0], rows[1:]
    assert [_render.unescape_formula(h) for h in header] == [str(c) for c in frame.columns]
    assert len(body) == n
    for i, row in enumerate(body):
        text = ", ".join(text_col[i]) if as_tuple else text_col[i]
        assert _render.unescape_formula(row[0]) == text
        assert float(row[1]) == float(numbers[i])  # numbers as numbers, never quoted
        assert int(row[2]) == int(numbers[i])
        mixed = frame["+mixed"].iloc[i]
        if isinstance(mixed, str):
            assert _render.unescape_formula(row[3]) == mixed
        else:
            assert float(row[3]) == float(mixed)


def test_negative_numbers_stay_numbers():
    out = _render.to_csv(pd.DataFrame({"change": [-0.5, -3.0], "n": [-2, 4], "label": ["-x", "y"]}))
    assert out == "change,n,label\n-0.5,-2,'-x\n-3,4,y\n"


# ---------------------------------------------------------------------------------------------
# LaTeX: no line of the output starts where the input put a line break
# ---------------------------------------------------------------------------------------------

_BREAKS = ("\n", "\r", "\r\n", "\u2028", "\x0b", "\x0c", "\x85")
PAYLOAD = r"\input{pwned}"
with_break = st.builds(
    lambda a, br, b: a + br + PAYLOAD + b,
    st.text(max_size=8),
    st.sampled_from(_BREAKS),
    st.text(max_size=8),
)


def _no_breaks(text: str) -> str:
    return " ".join(text.splitlines())


def _check_latex(out: str, clean: str) -> None:
    """``out`` (inputs with line breaks) has as many lines as ``clean`` (the same inputs without),
    and the payload is live on no line outside a comment."""
    assert len(out.splitlines()) == len(clean.splitlines())
    for line in out.split("\n"):
        if not line.startswith("%"):
            assert PAYLOAD not in line, line
    assert "\r" not in out


def _prov(source: str, command: str) -> dict:
    return {
        "riskcalc_version": "0",
        "function": "lattice",
        "command": command,
        "input": {"source": source, "bytes": 1, "n_records": 2, "sha256": "ab"},
        "data_quality": {
            "checked": [{"columns": [source]}],
            "findings": [{"check": "x", "column": source, "message": f"column {source!r} is odd"}],
        },
    }


@settings(max_examples=120, deadline=None)
@given(source=with_break, command=with_break, cell=with_break, name=with_break, title=with_break)
def test_latex_keeps_line_breaks_of_the_input_out_of_its_lines(source, command, cell, name, title):
    frame = pd.DataFrame({name: [cell], "n": [1]})
    clean_frame = pd.DataFrame({_no_breaks(name): [_no_breaks(cell)], "n": [1]})
    out = _render.render(frame, "latex", _prov(source, command), title=title)
    clean = _render.render(
        clean_frame,
        "latex",
        _prov(_no_breaks(source), _no_breaks(command)),
        title=_no_breaks(title),
    )
    _check_latex(out, clean)
    label = _render.to_latex(frame, caption=title, label=name)
    _check_latex(
        label, _render.to_latex(clean_frame, caption=_no_breaks(title), label=_no_breaks(name))
    )


def test_latex_comment_holds_one_line():
    assert _render.latex_comment("a\n\\input{x}\r\nb") == "% a \\input{x} b\n"


def test_cli_latex_file_name_with_a_newline_stays_a_comment(tmp_path, capsys):
    bad = tmp_path / "evil\n\\input{pwned}\n.csv"
    bad.write_text("a,b\n1,2\n3,4\n")
    clean = tmp_path / "evil  input{pwned}  .csv"
    clean.write_text("a,b\n1,2\n3,4\n")
    assert main(["lattice", str(bad), "--fields", "a,b", "--format", "latex"]) == 0
    out = capsys.readouterr().out
    assert main(["lattice", str(clean), "--fields", "a,b", "--format", "latex"]) == 0
    _check_latex(out, capsys.readouterr().out)


def test_tier_table_tex_keeps_a_file_name_newline_in_its_comment(tmp_path):
    extracts = tmp_path / "in"
    extracts.mkdir()
    sample = pd.read_csv(_example_path(), dtype=str).head(300)
    sample.to_csv(extracts / "x\n\\input{pwned}.csv", index=False)
    assert main(["report", str(extracts), "--out", str(tmp_path / "out")]) == 0
    tex = (tmp_path / "out" / "tier_table.tex").read_text(encoding="utf-8")
    for line in tex.split("\n"):
        if not line.startswith("%"):
            assert PAYLOAD not in line, line


# ---------------------------------------------------------------------------------------------
# Every command that writes CSV, with hostile names and values
# ---------------------------------------------------------------------------------------------

HYPERLINK = '=HYPERLINK("http://x","y")'
COLUMN = '=HYPERLINK("http://x")'  # a column name (no comma: --fields splits on commas)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """Input files whose names, columns, values and scenario names start with formula triggers."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "h.csv").write_text(
        f'"{COLUMN.replace(chr(34), chr(34) * 2)}",+sex,-pc,@yr\n'
        "A,F,1,2\nB,M,1,3\n=1+1,F,2,3\nB,F,@x,-3\n",
        encoding="utf-8",
    )
    (root / "sc.toml").write_text(
        "['" + HYPERLINK + "']\n"
        'fields = ["sex", "date_of_birth", "postcode"]\nrationale = "@evil"\n\n'
        '["-neighbour"]\nfields = ["urn", "nc_year", "sex"]\nrationale = "+x"\n',
        encoding="utf-8",
    )
    rep = root / "rep"
    rep.mkdir()
    sample = (
        pd.read_csv(_example_path(), dtype=str)
        .head(600)
        .rename(columns={"sex": "+Sex", "postcode": "@pc"})
    )
    sample.loc[:5, "+Sex"] = "=1+1"
    sample.to_csv(rep / "=evil.csv", index=False)
    (rep / "@agg.csv").write_text(
        "-la,+sex,count\n=A,F,3\n=A,M,4\n@B,F,6\n@B,M,2\n", encoding="utf-8"
    )
    tables = root / "tables"
    tables.mkdir()
    (tables / "=x.csv").write_text(
        "pc,sex,count\n=cmd|x,F,3\n=cmd|x,M,4\n-B,F,6\n-B,M,2\n", encoding="utf-8"
    )
    (tables / "@y.csv").write_text("-pc,count\n=cmd|x,7\n-B,8\n", encoding="utf-8")
    ledger = root / "ledger"
    ledger.mkdir()
    head = (
        "release_id,date,recipient,recipient_type,tier,fields,years,year_groups,population,"
        "reference"
    )
    fields = "sex;year_of_birth;month_of_birth;nc_year;urn"
    (ledger / "l.csv").write_text(
        f"{head}\nR1,2014-05-02,=evil,university,4,{fields},2012;2013,,all,apmr\n"
        f"R2,2014-06-02,@firm,commercial,1,{fields},2013,,all,pmr\n",
        encoding="utf-8",
    )
    rows = ["pupil_id,academic_year,urn,nc_year,sex,year_of_birth,month_of_birth,region"]
    for i in range(60):
        for year in (2012, 2013):
            region = "=cmd|x" if i % 2 else "-B"
            rows.append(
                f"p{i},{year},{i % 3},{year - 2006},{'FM'[i % 2]},2001,{1 + i % 12},{region}"
            )
    (ledger / "p.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


def _argv(label: str, root: Path, out: Path) -> list[str]:
    h, fields = str(root / "h.csv"), f"{COLUMN},+sex,-pc,@yr"
    tiers = ["tiers", "--pupils", "2000", "--scenarios", str(root / "sc.toml"), "--no-history"]
    report = ["report", str(root / "rep"), "--columns", "sex=+Sex,postcode=@pc"]
    ledger = [
        "ledger",
        "--ledger",
        str(root / "ledger" / "l.csv"),
        "--panel",
        str(root / "ledger" / "p.csv"),
        "--scenario",
        "school_gate",
    ]
    return {
        "ledger": [*ledger, "--format", "csv"],
        "ledger --out": [*ledger, "--out", str(out / "g")],
        "analyse": [
            "analyse",
            h,
            "--qi",
            f"{COLUMN},+sex",
            "--sensitive",
            "@yr",
            "--format",
            "csv",
        ],
        "analyse --out": [
            "analyse",
            h,
            "--qi",
            f"{COLUMN},+sex",
            "--sensitive",
            "@yr",
            "--format",
            "csv",
            "--out",
            str(out / "a.csv"),
        ],
        "lattice": ["lattice", h, "--fields", fields, "--format", "csv"],
        "lattice --out": [
            "lattice",
            h,
            "--fields",
            fields,
            "--format",
            "csv",
            "--out",
            str(out / "l.csv"),
        ],
        "suda": ["suda", h, "--fields", fields, "--format", "csv"],
        "tiers": [*tiers, "--no-what-if", "--format", "csv"],
        "tiers --out": [*tiers, "--format", "csv", "--attack", "--out", str(out / "t")],
        "report": [*report, "--format", "csv"],
        "report --out": [*report, "--out", str(out / "r")],
        "attack": ["attack", "--pupils", "2000", "--exact-only", "--format", "csv"],
        "attack --out": ["attack", "--pupils", "2000", "--exact-only", "--out", str(out / "k")],
        "audit-tables --out": ["audit-tables", str(root / "tables"), "--out", str(out / "u")],
        "audit-tables --for-release --out": [
            "audit-tables",
            str(root / "tables"),
            "--for-release",
            "--out",
            str(out / "v"),
        ],
    }[label]


#: The escaped names each case must show (so the case is not vacuous: the hostile text reached it).
EXPECT = {
    "ledger": [],
    "ledger --out": ["'=evil", "'@firm", "'=cmd|x", "'-B"],
    "analyse": ["'@yr"],
    "analyse --out": ["'@yr"],
    "lattice": ["'=HYPERLINK", "'+sex"],
    "lattice --out": ["'=HYPERLINK", "'+sex"],
    "suda": [],
    "tiers": ["'=HYPERLINK", "'-neighbour"],
    "tiers --out": ["'=HYPERLINK", "'-neighbour"],
    "report": ["'=evil"],
    "report --out": ["'=evil", "'@agg", "'-la"],
    "attack": [],
    "attack --out": [],
    "audit-tables --out": ["'=x", "'@y"],
    "audit-tables --for-release --out": ["'=x", "'@y"],
}


def test_every_command_writing_csv_is_covered():
    """A new command with ``--format csv`` or CSV files must join the cases below."""
    parser = build_parser()
    with_csv = {
        name
        for name, p in parser.commands.items()
        if any(a.dest == "format" and "csv" in (a.choices or ()) for a in p._actions)
    }
    with_csv |= {"audit-tables", "attack", "tiers", "report"}  # write CSV files with --out
    covered = {label.split()[0] for label in EXPECT}
    assert with_csv - {"analyze"} <= covered


@pytest.mark.parametrize("label", list(EXPECT))
def test_every_csv_of_every_command_is_formula_safe(label, hostile, tmp_path, capsys):
    argv = _argv(label, hostile, tmp_path)
    assert main(argv) == 0, capsys.readouterr().err
    stdout = capsys.readouterr().out
    texts = {
        str(p.relative_to(tmp_path)): p.read_text(encoding="utf-8")
        for p in sorted(tmp_path.rglob("*.csv"))
    }
    if "--format" in argv and argv[argv.index("--format") + 1] == "csv" and stdout:
        texts["stdout"] = stdout
    assert texts
    for name, text in texts.items():
        assert _unsafe_cells(text) == [], (label, name)
    joined = "\n".join(texts.values())
    for token in EXPECT[label]:
        assert token in joined, (label, token)


def test_audit_reports_escape_table_names_and_values(tmp_path):
    """The audit's Markdown reports go through the shared renderer: a table's file name or a
    category holding Markdown or HTML is printed as text (issue 26, found while fixing item 10)."""
    from riskcalc._cli import main

    tables = tmp_path / "t"
    tables.mkdir()
    name = "a|b<script>"
    (tables / f"{name}.csv").write_text(
        "pc,sex,count\n<b>A|x</b>,F,3\n<b>A|x</b>,M,1\nB,F,6\nB,M,2\n"
    )
    for extra, stem in (([], "internal_audit"), (["--for-release"], "release_audit")):
        out = tmp_path / f"out{len(extra)}"
        assert main(["audit-tables", str(tables), "--out", str(out), *extra]) == 0
        md = (out / f"{stem}.md").read_text()
        assert "<script>" not in md and "<b>" not in md
        assert "a\\|b&lt;script>" in md
        # every row of each Markdown table has as many cells as its header (no stray pipe)
        import re

        blocks, block = [], []
        for line in md.splitlines() + [""]:
            if line.startswith("|"):
                block.append(len(re.findall(r"(?<!\\)\|", line)))
            elif block:
                blocks.append(block)
                block = []
        assert blocks and all(len(set(b)) == 1 for b in blocks), blocks
