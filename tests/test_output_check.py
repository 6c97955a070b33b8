"""Output-checking rules on small tables whose verdicts are worked out by hand."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import frames

from riskcalc.exceptions import (
    DataFileError,
    InvalidParameterError,
    MissingColumnError,
    RiskCalcError,
)
from riskcalc.output_check import (
    check_frequency_table,
    check_magnitude_table,
    check_summary,
    load_rules,
)


def _verdicts(result):
    return dict(zip(result.cells["cell"], result.cells["verdict"]))


def test_rules_file_profiles():
    srs = load_rules("ons_srs")
    assert srs.frequency["threshold"] == 10 and srs.magnitude["p_percent"] == pytest.approx(0.1)
    assert load_rules("dfe_5").frequency["threshold"] == 5
    assert load_rules("dfe_3").frequency["threshold"] == 3
    assert load_rules("acro_default").magnitude["nk"] == [(2, 0.9)]


def test_frequency_threshold_zeros_and_class_disclosure():
    # rows school A, B, C; columns sex F, M.  A: 12, 15 (pass).  B: 4, 20 (F fails the threshold).
    # C: 0 (not listed), 14 -> the zero is reviewed and M is a full cell (class disclosure).
    t = pd.DataFrame(
        {
            "school": ["A", "A", "B", "B", "C"],
            "sex": ["F", "M", "F", "M", "M"],
            "count": [12, 15, 4, 20, 14],
        }
    )
    r = check_frequency_table(t, rules="ons_srs")
    v = _verdicts(r)
    assert v == {
        "school=A, sex=F": "pass",
        "school=A, sex=M": "pass",
        "school=B, sex=F": "fail",
        "school=B, sex=M": "pass",
        "school=C, sex=F": "review",
        "school=C, sex=M": "fail",
    }
    rules = dict(zip(r.cells["cell"], r.cells["rules"]))
    assert rules["school=B, sex=F"] == "threshold: fewer than 10 units"
    assert rules["school=C, sex=M"] == "class disclosure: all units of the row in one category"
    assert r.verdict == "fail" and r.counts == {"pass": 3, "review": 1, "fail": 2}
    # DfE-style 5: 4 still fails; zeros pass; class disclosure is only reviewed
    v5 = _verdicts(check_frequency_table(t, rules="dfe_5"))
    assert (
        v5["school=B, sex=F"] == "fail"
        and v5["school=C, sex=F"] == "pass"
        and v5["school=C, sex=M"] == "review"
    )
    # DfE-style 3: 4 passes
    assert _verdicts(check_frequency_table(t, rules="dfe_3"))["school=B, sex=F"] == "pass"


def test_frequency_column_class_disclosure():
    # column "x" has all its units in row A
    t = pd.DataFrame({"r": ["A", "A", "B"], "c": ["x", "y", "y"], "count": [30, 40, 50]})
    v = _verdicts(check_frequency_table(t))
    assert v["r=A, c=x"] == "fail" and v["r=B, c=x"] == "review" and v["r=A, c=y"] == "pass"


def test_magnitude_dominance_and_p_percent():
    # cell a: 10 units, one of 100 and nine of 1: top 1 holds 100/109 > 0.5 -> (1, 0.5) fails;
    #   p%: 109 - 100 - 1 = 8 < 0.1 * 100 = 10 -> fails.
    # cell b: 12 units of 10: passes everything.
    # cell c: 11 units, 50, 45, nine of 1: top2 = 95/104 > 0.85 fails; p%: 104 - 95 = 9 >= 5 passes;
    #   top1 = 50/104 < 0.5 passes.
    # cell d: 3 units: threshold fails.
    rec = pd.DataFrame(
        {
            "cell": ["a"] * 10 + ["b"] * 12 + ["c"] * 11 + ["d"] * 3,
            "x": [100] + [1] * 9 + [10] * 12 + [50, 45] + [1] * 9 + [5, 6, 7],
        }
    )
    r = check_magnitude_table(rec, ["cell"], "x", rules="ons_srs")
    rules = dict(zip(r.cells["cell"], r.cells["rules"]))
    v = _verdicts(r)
    assert v == {"cell=a": "fail", "cell=b": "review", "cell=c": "fail", "cell=d": "fail"}
    assert rules["cell=a"] == "dominance (1, 0.5); dominance (2, 0.85); p% rule (p = 0.1)"
    assert rules["cell=b"] == "all units have the same value"
    assert rules["cell=c"] == "dominance (2, 0.85)"
    assert rules["cell=d"].startswith("threshold: fewer than 10 units")
    assert "x" not in r.cells.columns and list(r.cells["n"]) == [10, 12, 11, 3]


def test_magnitude_units_are_summed_before_dominance():
    # 12 records from 3 schools: units, not records, count for the threshold
    rec = pd.DataFrame({"cell": ["a"] * 12, "school": list("ppppqqqqrrrr"), "x": [1.0] * 12})
    r = check_magnitude_table(rec, ["cell"], "x", unit="school")
    assert r.cells["n"].tolist() == [3] and r.verdict == "fail"


def test_negative_contributions_are_reviewed():
    rec = pd.DataFrame({"cell": ["a"] * 10, "x": [-5.0] + [3.0] * 9})
    r = check_magnitude_table(rec, ["cell"], "x")
    assert r.cells["rules"].iloc[0] == "negative contributions" and r.verdict == "review"


def test_summaries_by_hand():
    # group g1: 12 pupils, 5 FSM; g2: 6 pupils; g3: 10 pupils all FSM
    rec = pd.DataFrame(
        {
            "g": ["g1"] * 12 + ["g2"] * 6 + ["g3"] * 10,
            "score": np.arange(28, dtype=float),
            "fsm": [1] * 5 + [0] * 7 + [1, 0] * 3 + [1] * 10,
        }
    )
    r = check_summary(rec, "score", by=["g"], statistics=["mean", "median", "max"])
    got = {(c, s): v for c, s, v in zip(r.cells["cell"], r.cells["statistic"], r.cells["verdict"])}
    assert got[("g=g1", "mean of score")] == "pass"
    assert got[("g=g2", "mean of score")] == "fail"
    assert got[("g=g1", "median of score")] == "review"
    assert got[("g=g2", "median of score")] == "fail"
    assert got[("g=g1", "max of score")] == "fail"
    p = check_summary(rec, "fsm", by=["g"], statistics="percent")
    pv = dict(zip(p.cells["cell"], p.cells["verdict"]))
    # g1: 5 of 12 -> numerator below 10 fails; g3: 10 of 10 -> 100%: class disclosure fails
    assert pv == {"g=g1": "fail", "g=g2": "fail", "g=g3": "fail"}
    ok = pd.DataFrame({"g": ["a"] * 30, "fsm": [1] * 12 + [0] * 18})
    assert check_summary(ok, "fsm", by=["g"], statistics="percent").verdict == "pass"


def test_report_holds_no_values():
    rec = pd.DataFrame({"cell": ["a"] * 10, "x": [123456.0] + [1.0] * 9})
    r = check_magnitude_table(rec, ["cell"], "x")
    text = r.to_json({"riskcalc_version": "x"}) + r.to_markdown()
    assert "123456" not in text
    doc = json.loads(r.to_json())
    assert doc["summary"]["verdict"] == "fail" and doc["cells"][0]["verdict"] == "fail"
    assert "verdict: FAIL" in r.to_markdown()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abc"), st.sampled_from("xy"), st.integers(1, 30)),
        min_size=1,
        max_size=6,
        unique_by=lambda t: t[:2],
    ),
    st.randoms(use_true_random=False),
)
def test_frequency_verdicts_match_a_cell_by_cell_reading(cells, rnd):
    t = pd.DataFrame(cells, columns=["r", "c", "count"])
    r = check_frequency_table(t.sample(frac=1, random_state=rnd.randint(0, 1000)))
    grid = {(a, b): n for a, b, n in cells}
    rows, cols = sorted({a for a, _, _ in cells}), sorted({b for _, b, _ in cells})
    v = _verdicts(r)
    for a in rows:
        for b in cols:
            assert v[f"r={a}, c={b}"] == _cell_verdict(grid, a, b, rows, cols)


def test_bad_input(tmp_path):
    t = pd.DataFrame({"r": ["a"], "count": [3]})
    with pytest.raises(MissingColumnError):
        check_frequency_table(t, count="n")
    with pytest.raises(InvalidParameterError, match="'profile'"):
        load_rules("nope")
    bad = tmp_path / "rules.toml"
    bad.write_text("[profiles.x.frequency]\nthreshold = 0\n")
    with pytest.raises(DataFileError, match="frequency.threshold"):
        load_rules("x", bad)
    with pytest.raises(InvalidParameterError, match="'statistics'"):
        check_summary(pd.DataFrame({"v": [1.0]}), "v", statistics=["mode"])


def test_cli_check_output(tmp_path, capsys):
    from riskcalc._cli import main

    f = tmp_path / "tab.csv"
    pd.DataFrame(
        {"school": ["A", "A", "B", "B"], "sex": ["F", "M", "F", "M"], "count": [12, 15, 4, 20]}
    ).to_csv(f, index=False)
    assert main(["check-output", str(f), "--out", str(tmp_path / "rep")]) == 0
    assert "verdict: FAIL" in capsys.readouterr().out
    doc = json.loads((tmp_path / "rep" / "tab.check.json").read_text())
    assert (
        doc["summary"]["cells_fail"] == 1 and doc["provenance"]["inputs"][0]["source"] == "tab.csv"
    )
    assert main(["check-output", str(f), "--profile", "dfe_3", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["verdict"] == "pass"
    rec = tmp_path / "rec.csv"
    pd.DataFrame({"g": ["a"] * 12, "v": range(12)}).to_csv(rec, index=False)
    assert (
        main(
            [
                "check-output",
                str(rec),
                "--kind",
                "summary",
                "--value",
                "v",
                "--by",
                "g",
                "--statistics",
                "mean,max",
                "--format",
                "json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["summary"]["cells_fail"] == 1
    assert main(["check-output", str(rec), "--kind", "magnitude", "--value", "v"]) == 2
    assert "--by is required" in capsys.readouterr().err


# ------------------------------------------------------------------------ blank categories (issue 24 item 5)
ISSUE_TABLE = "LA,Sex,count\n206,F,12\n206,,3\n206,M,15\n208,F,20\n208,M,22\n"


def test_blank_category_is_labelled_and_gets_a_verdict():
    t = pd.DataFrame(
        {
            "LA": [206, 206, 206, 208, 208],
            "Sex": ["F", None, "M", "F", "M"],
            "count": [12, 3, 15, 20, 22],
        }
    )
    v = _verdicts(check_frequency_table(t))
    # the blank column holds 3 units, all in LA 206: threshold fails, and it is a full column
    assert v == {
        "LA=206, Sex=F": "pass",
        "LA=206, Sex=M": "pass",
        "LA=206, Sex=(missing)": "fail",
        "LA=208, Sex=F": "pass",
        "LA=208, Sex=M": "pass",
        "LA=208, Sex=(missing)": "review",
    }
    # every spelling of a blank is the same category: NaN, None, pd.NA, "", "  "
    for blank in (np.nan, pd.NA, "", "  "):
        t2 = t.assign(Sex=pd.Series(["F", blank, "M", "F", "M"], dtype=object))
        assert _verdicts(check_frequency_table(t2)) == v
    m = check_magnitude_table(t, ["LA", "Sex"], "count")
    assert list(m.cells["cell"]) == [
        "LA=206, Sex=F",
        "LA=206, Sex=M",
        "LA=206, Sex=(missing)",
        "LA=208, Sex=F",
        "LA=208, Sex=M",
    ]
    s = check_summary(t, "count", by=["LA", "Sex"], statistics=["mean", "median"])
    assert "LA=206, Sex=(missing)" in set(s.cells["cell"]) and len(s.cells) == 10


def test_a_real_category_spelt_missing_is_not_the_blank_one():
    t = pd.DataFrame(
        {
            "g": ["(missing)", None, "a,b", "x=y", 'say "hi"', " pad"],
            "count": [11, 12, 13, 14, 15, 16],
        }
    )
    cells = check_frequency_table(t, rows=[], columns=["g"]).cells
    assert list(cells["cell"]) == [
        'g=" pad"',
        'g="(missing)"',
        'g="a,b"',
        'g="say \\"hi\\""',
        'g="x=y"',
        "g=(missing)",
    ]
    assert list(cells["n"]) == [16, 11, 13, 15, 14, 12]


def test_blank_in_an_integer_column_keeps_integer_labels():
    # a CSV column of whole numbers with a blank is read as floats: 206.0 is the category 206
    t = pd.DataFrame({"LA": [np.nan, 206.0, 208.0], "count": [12, 30, 40]})
    assert list(check_frequency_table(t).cells["cell"]) == ["LA=206", "LA=208", "LA=(missing)"]
    t = pd.DataFrame({"LA": pd.array([None, 206, 208], dtype="Int64"), "count": [12, 30, 40]})
    assert list(check_frequency_table(t).cells["cell"]) == ["LA=206", "LA=208", "LA=(missing)"]


def test_blank_in_categorical_bool_datetime_and_mixed_columns():
    cat = pd.Series(pd.Categorical(["b", None, "a"], categories=["b", "a", "unused"]))
    assert list(
        check_frequency_table(pd.DataFrame({"g": cat, "count": [10, 11, 12]})).cells["cell"]
    ) == ["g=b", "g=a", "g=(missing)"]
    b = pd.Series(pd.array([True, None, False], dtype="boolean"))
    assert list(
        check_frequency_table(pd.DataFrame({"g": b, "count": [10, 11, 12]})).cells["cell"]
    ) == ["g=False", "g=True", "g=(missing)"]
    d = pd.Series(pd.to_datetime(["2020-01-02", None, "2020-01-01"]))
    assert list(
        check_frequency_table(pd.DataFrame({"g": d, "count": [10, 11, 12]})).cells["cell"]
    ) == ["g=2020-01-01", "g=2020-01-02", "g=(missing)"]
    mixed = pd.Series([2, "1", None, 1, 2.5], dtype=object)  # numbers first, then quoted texts
    assert list(
        check_frequency_table(pd.DataFrame({"g": mixed, "count": [10] * 5})).cells["cell"]
    ) == ["g=1", "g=2", "g=2.5", 'g="1"', "g=(missing)"]


@pytest.mark.parametrize(
    "kind",
    [
        [],
        ["--kind", "magnitude", "--by", "LA,Sex", "--value", "count"],
        ["--kind", "summary", "--by", "LA,Sex", "--value", "count"],
    ],
)
@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_cli_issue_table_with_a_blank(tmp_path, capsys, kind, fmt):
    from riskcalc._cli import main

    f = tmp_path / "f.csv"
    f.write_text(ISSUE_TABLE)
    assert (
        main(["check-output", str(f), *kind, "--format", fmt, "--out", str(tmp_path / "rep")]) == 0
    )
    out = capsys.readouterr().out
    doc = json.loads((tmp_path / "rep" / "f.check.json").read_text())
    labels = [c["cell"] for c in doc["cells"]]
    assert "LA=206, Sex=(missing)" in labels and "LA=206, Sex=F" in labels
    assert all(c["verdict"] in ("pass", "review", "fail") for c in doc["cells"])
    assert (
        "Sex=(missing)" in out and "Sex=(missing)" in (tmp_path / "rep" / "f.check.md").read_text()
    )


@pytest.mark.parametrize(
    "cell, requirement",
    [
        ("", "missing or blank"),
        ("x3", "numbers"),
        ("-2", "whole, non-negative"),
        ("2.5", "whole, non-negative"),
        ("inf", "finite"),
    ],
)
def test_bad_count_cell_is_one_line_with_its_row(tmp_path, capsys, cell, requirement):
    from riskcalc._cli import main

    f = tmp_path / "t.csv"
    f.write_text(f"LA,Sex,count\n206,F,12\n206,M,{cell}\n208,F,987654\n")
    assert main(["check-output", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'count'" in err and "'t.csv'" in err and requirement in err
    assert "row 3, counting the header as row 1" in err
    assert "987654" not in err and ("x3" not in err) and "206" not in err
    expected = r"'count' column passed to check_frequency_table .*\(first at row 2\)"
    with pytest.raises(InvalidParameterError, match=expected):
        check_frequency_table(pd.read_csv(f, keep_default_na=False, dtype={"count": object}))


def test_bad_value_cells_in_magnitude_and_summary(tmp_path, capsys):
    from riskcalc._cli import main

    rec = tmp_path / "rec.parquet"
    pd.DataFrame({"g": ["a", "a", "b"], "v": [1.5, np.nan, 123456.75]}).to_parquet(rec)
    for kind in ("magnitude", "summary"):
        assert main(["check-output", str(rec), "--kind", kind, "--by", "g", "--value", "v"]) == 2
        err = capsys.readouterr().err
        assert (
            err.count("\n") == 1
            and "'v' column of 'rec.parquet'" in err
            and "first at row 2)" in err
        )
        assert "123456" not in err and "1.5" not in err
    with pytest.raises(
        InvalidParameterError, match="0/1 or booleans for 'percent'. Found 2 \\(first at row 1\\)"
    ):
        check_summary(pd.DataFrame({"v": [2.0, 1.0, 3.0]}), "v", statistics="percent")


# ------------------------------------------------------------------------ property tests: the checker never crashes
MIXED = [1, 2, "1", "a", 2.5, None, "", " ", "(missing)", pd.Timestamp("2020-01-01"), np.nan, "a,b"]
SECRET_TEXT = "zqsecret"  # a text count: must never be printed
SECRET_NUMBER = 987654.25  # a magnitude value: must never be printed


def _is_missing(v) -> bool:
    return (isinstance(v, str) and not v.strip()) or bool(pd.api.types.is_scalar(v) and pd.isna(v))


def _key(v):
    """A category as the reference sees it: blank or missing values are one category."""
    if _is_missing(v):
        return ("<missing>",)
    return (v.item() if hasattr(v, "item") else v,)


@st.composite
def dimension_frames(draw, min_rows=0, max_rows=14):
    frame = draw(frames(min_rows=min_rows, max_rows=max_rows, min_cols=1, max_cols=3))
    if draw(st.booleans()):  # a column mixing numbers, texts, dates and blanks
        frame[f"c{frame.shape[1]}"] = pd.Series(
            draw(st.lists(st.sampled_from(MIXED), min_size=len(frame), max_size=len(frame))),
            dtype=object,
            index=frame.index,
        )
    return frame


@st.composite
def counts(draw, n, *, valid):
    """A count column: whole non-negative numbers of several dtypes, or one bad cell."""
    vals = draw(
        st.lists(st.one_of(st.integers(0, 12), st.integers(0, 2**40)), min_size=n, max_size=n)
    )
    dtype = draw(st.sampled_from(["int64", "float64", "Int64", "object-text", "uint64"]))
    col = pd.Series(
        [str(v) for v in vals] if dtype == "object-text" else vals,
        dtype=object if dtype == "object-text" else dtype,
    )
    bad_row = None
    if not valid and n:
        bad_row = draw(st.integers(0, n - 1))
        bad = draw(st.sampled_from([np.nan, None, -3, 2.5, float("inf"), SECRET_TEXT, ""]))
        col = col.astype(object)
        col.iloc[bad_row] = bad
    return col, bad_row


def _cell_verdict(grid: dict, row, col, rows, cols, threshold: int = 10) -> str:
    """The SDAP reading of one cell of a grid ``{(row, col): count}``, by hand: fail below the
    threshold or when it is the only non-zero cell of its row or column (class disclosure),
    review a zero, else pass."""
    n = grid.get((row, col), 0)
    row_nz = sum(grid.get((row, c), 0) > 0 for c in cols)
    col_nz = sum(grid.get((r, col), 0) > 0 for r in rows)
    full = n > 0 and ((row_nz == 1 and len(cols) > 1) or (col_nz == 1 and len(rows) > 1))
    return "fail" if (0 < n < threshold or full) else ("review" if n == 0 else "pass")


def _reference_frequency(frame, rows, columns, count, threshold=10):
    """Brute force: the grid of every observed row key x column key, its counts and verdicts."""
    grid, rkeys, ckeys = {}, {}, {}
    for i in range(len(frame)):
        rk = tuple(_key(frame[c].iloc[i]) for c in rows)
        ck = tuple(_key(frame[c].iloc[i]) for c in columns)
        rkeys[rk] = True
        ckeys[ck] = True
        grid[rk, ck] = grid.get((rk, ck), 0) + int(float(frame[count].iloc[i]))
    out = []
    for rk in rkeys:
        for ck in ckeys:
            n = grid.get((rk, ck), 0)
            verdict = _cell_verdict(grid, rk, ck, list(rkeys), list(ckeys), threshold)
            missing = tuple(
                c
                for c, k in zip(list(rows) + list(columns), rk + ck, strict=True)
                if k == ("<missing>",)
            )
            out.append((missing, n, verdict))
    return sorted(out)


def _observed(cells, dims):
    got = []
    for label, n, verdict in zip(cells["cell"], cells["n"], cells["verdict"], strict=True):
        parts = label.split(", ")
        missing = tuple(c for c in dims if f"{c}=(missing)" in parts)
        got.append((missing, int(n), verdict))
    return sorted(got)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_frequency_checker_never_crashes_and_labels_every_blank(data):
    frame = data.draw(dimension_frames())
    dims = list(frame.columns)
    valid = data.draw(st.booleans())
    col, bad_row = data.draw(counts(len(frame), valid=valid))
    frame["count"] = col.to_numpy() if col.dtype == object else col.values
    split = data.draw(st.integers(0, len(dims) - 1))
    rows, columns = dims[:split], dims[split:]
    try:
        r = check_frequency_table(frame, rows=rows, columns=columns)
    except RiskCalcError as exc:
        msg = str(exc)
        assert "\n" not in msg and SECRET_TEXT not in msg
        assert bad_row is not None, msg  # a valid table is checked
        assert isinstance(exc, InvalidParameterError) and f"(first at row {bad_row + 1})" in msg
        return
    assert bad_row is None or len(frame) == 0
    cells = r.cells
    assert cells["verdict"].isin(["pass", "review", "fail"]).all() and cells["cell"].is_unique
    assert _observed(cells, dims) == _reference_frequency(frame, rows, columns, "count")
    text = r.to_markdown() + r.to_json({"riskcalc_version": "x"})
    assert SECRET_TEXT not in text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_magnitude_and_summary_checkers_never_crash(data):
    frame = data.draw(dimension_frames(max_rows=24))
    by = data.draw(
        st.lists(st.sampled_from(list(frame.columns)), min_size=1, max_size=3, unique=True)
    )
    n = len(frame)
    values = data.draw(
        st.lists(
            st.one_of(
                st.floats(-5, 1e6, allow_nan=False), st.integers(0, 50), st.just(SECRET_NUMBER)
            ),
            min_size=n,
            max_size=n,
        )
    )
    bad_row = None
    v = pd.Series(values, dtype=float)
    if n and data.draw(st.booleans()):
        bad_row = data.draw(st.integers(0, n - 1))
        v = v.astype(object)
        v.iloc[bad_row] = data.draw(st.sampled_from([np.nan, None, SECRET_TEXT, float("-inf"), ""]))
    frame["v"] = v.to_numpy()
    unit = data.draw(st.sampled_from([None] + list(frame.columns[:-1])))
    for call in (
        lambda: check_magnitude_table(frame, by, "v", unit=unit),
        lambda: check_summary(frame, "v", by=by, statistics=["mean", "median", "min", "max"]),
    ):
        try:
            r = call()
        except RiskCalcError as exc:
            msg = str(exc)
            assert "\n" not in msg and SECRET_TEXT not in msg and "987654" not in msg
            assert bad_row is not None and f"(first at row {bad_row + 1})" in msg, msg
            continue
        assert bad_row is None
        cells = r.cells
        assert cells["verdict"].isin(["pass", "review", "fail"]).all()
        keys = {tuple(_key(frame[c].iloc[i]) for c in by) for i in range(n)}
        per_stat = len(cells) // max(1, cells["statistic"].nunique())
        assert (
            per_stat == len(keys)
            and cells.groupby("statistic")["cell"].nunique().eq(len(keys)).all()
        )
        assert sum(k == ("<missing>",) for key in keys for k in key) == sum(
            label.split(", ").count(f"{c}=(missing)")
            for label in cells["cell"][:per_stat]
            for c in by
        )
        text = r.to_markdown() + r.to_json({"riskcalc_version": "x"})
        assert "987654" not in text


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.data())
def test_cli_checker_never_crashes_on_a_written_csv(tmp_path_factory, data):
    from riskcalc._cli import main

    frame = data.draw(dimension_frames(min_rows=1))
    valid = data.draw(st.booleans())
    col, bad_row = data.draw(counts(len(frame), valid=valid))
    frame["count"] = col.to_numpy()
    f = tmp_path_factory.mktemp("csv") / "t.csv"
    frame.to_csv(f, index=False)
    kind = data.draw(
        st.sampled_from(
            [
                [],
                ["--kind", "magnitude", "--by", "c0", "--value", "count"],
                [
                    "--kind",
                    "summary",
                    "--by",
                    ",".join(frame.columns[:-1]),
                    "--value",
                    "count",
                    "--statistics",
                    "mean,percent",
                ],
            ]
        )
    )
    import contextlib
    import io

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        status = main(["check-output", str(f), "--format", "json", *kind])
    assert status in (0, 2), err.getvalue()
    if status == 2:
        line = err.getvalue()
        assert (
            line.count("\n") == 1
            and line.startswith("riskcalc check-output: error:")
            and SECRET_TEXT not in line
        )
        return
    doc = json.loads(out.getvalue())
    assert all(c["verdict"] in ("pass", "review", "fail") for c in doc["cells"])
    assert len({c["cell"] for c in doc["cells"]}) == len(
        {(c["cell"], c["statistic"]) for c in doc["cells"]}
    ) or kind[1:2] == ["summary"]
    if bad_row is None and not kind:  # a valid frequency table: every blank of the file is labelled
        # astype(object): pandas 1.5 maps no NaN of a categorical column
        blanks = {c for c in frame.columns[:-1] if frame[c].astype(object).map(_is_missing).any()}
        labelled = {
            c
            for c in frame.columns[:-1]
            for cell in doc["cells"]
            if f"{c}=(missing)" in cell["cell"].split(", ")
        }
        assert labelled == blanks


def _awkward_csvs():
    yield "LA,Sex,count\n206,F,12\n206,,3\n206,M,15\n208,F,20\n208,M,22\n"
    yield "LA,Sex,count\n,F,12\n206,M,3\n"
    yield "when,flag,count\n2020-01-01,true,4\n,false,5\n2020-01-02,,6\n"
    yield 'g,count\n"(missing)",3\n,4\n"a,b",5\n'
    yield "g,count\na,1\nb,\n"
    yield "g,count\na,x\n"
    yield "g,count\n"


@pytest.mark.parametrize("i, text", list(enumerate(_awkward_csvs())))
def test_cli_subprocess_never_reports_an_internal_error(tmp_path, i, text):
    import os
    import subprocess
    import sys
    from pathlib import Path

    f = tmp_path / f"t{i}.csv"
    f.write_text(text)
    by = text.split("\n")[0].split(",")[0]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for kind in (
        [],
        ["--kind", "magnitude", "--by", by, "--value", "count"],
        ["--kind", "summary", "--by", by, "--value", "count"],
    ):
        p = subprocess.run(
            [sys.executable, "-m", "riskcalc", "check-output", str(f), *kind],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert p.returncode in (0, 2), p.stderr
        if p.returncode == 2:
            assert p.stderr.count("\n") == 1 and "internal error" not in p.stderr
        else:
            assert "verdict:" in p.stdout


@given(
    names=st.lists(
        st.text(alphabet="abcdefghXYZ_", min_size=1, max_size=4),
        min_size=2,
        max_size=3,
        unique=True,
    ),
    counts=st.lists(st.integers(0, 30), min_size=1, max_size=12),
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_one_name_is_one_column_in_every_field_list(names, counts):
    """A field-list parameter given one name (a string) reads it as that column, as riskcalc's
    measures do: ``columns="Sex"`` once read as the columns 'S', 'e', 'x' ("No column named
    'S'"). The class: rows= and columns= of check_frequency_table, by= of the other checks."""
    rng = np.random.default_rng(len(counts))
    dims = {c: rng.integers(0, 3, len(counts)) for c in names}
    table = pd.DataFrame({**dims, "count": counts})
    row, col = names[0], names[-1]
    as_list = check_frequency_table(table, rows=[row], columns=[col])
    as_name = check_frequency_table(table, rows=row, columns=col)
    pd.testing.assert_frame_equal(as_name.cells, as_list.cells)
    assert as_name.verdict == as_list.verdict
    records = pd.DataFrame({**dims, "value": rng.random(len(counts))})
    for check in (check_magnitude_table, check_summary):
        pd.testing.assert_frame_equal(
            check(records, value="value", by=row).cells,
            check(records, value="value", by=[row]).cells,
        )
