"""Output-checking rules on small tables whose verdicts are worked out by hand."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskcalc.exceptions import DataFileError, InvalidParameterError, MissingColumnError
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
    t = pd.DataFrame({"school": ["A", "A", "B", "B", "C"], "sex": ["F", "M", "F", "M", "M"], "count": [12, 15, 4, 20, 14]})
    r = check_frequency_table(t, rules="ons_srs")
    v = _verdicts(r)
    assert v == {
        "school=A, sex=F": "pass", "school=A, sex=M": "pass",
        "school=B, sex=F": "fail", "school=B, sex=M": "pass",
        "school=C, sex=F": "review", "school=C, sex=M": "fail",
    }
    rules = dict(zip(r.cells["cell"], r.cells["rules"]))
    assert rules["school=B, sex=F"] == "threshold: fewer than 10 units"
    assert rules["school=C, sex=M"] == "class disclosure: all units of the row in one category"
    assert r.verdict == "fail" and r.counts == {"pass": 3, "review": 1, "fail": 2}
    # DfE-style 5: 4 still fails; zeros pass; class disclosure is only reviewed
    v5 = _verdicts(check_frequency_table(t, rules="dfe_5"))
    assert v5["school=B, sex=F"] == "fail" and v5["school=C, sex=F"] == "pass" and v5["school=C, sex=M"] == "review"
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
    rec = pd.DataFrame({
        "cell": ["a"] * 10 + ["b"] * 12 + ["c"] * 11 + ["d"] * 3,
        "x": [100] + [1] * 9 + [10] * 12 + [50, 45] + [1] * 9 + [5, 6, 7],
    })
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
    rec = pd.DataFrame({
        "g": ["g1"] * 12 + ["g2"] * 6 + ["g3"] * 10,
        "score": np.arange(28, dtype=float),
        "fsm": [1] * 5 + [0] * 7 + [1, 0] * 3 + [1] * 10,
    })
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
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("xy"), st.integers(1, 30)), min_size=1, max_size=6,
                unique_by=lambda t: t[:2]), st.randoms(use_true_random=False))
def test_frequency_verdicts_match_a_cell_by_cell_reading(cells, rnd):
    t = pd.DataFrame(cells, columns=["r", "c", "count"])
    r = check_frequency_table(t.sample(frac=1, random_state=rnd.randint(0, 1000)))
    grid = {(a, b): n for a, b, n in cells}
    rows, cols = sorted({a for a, _, _ in cells}), sorted({b for _, b, _ in cells})
    v = _verdicts(r)
    for a in rows:
        for b in cols:
            n = grid.get((a, b), 0)
            row_nonzero = sum(grid.get((a, bb), 0) > 0 for bb in cols)
            col_nonzero = sum(grid.get((aa, b), 0) > 0 for aa in rows)
            full = n > 0 and ((row_nonzero == 1 and len(cols) > 1) or (col_nonzero == 1 and len(rows) > 1))
            expected = "fail" if (0 < n < 10 or full) else ("review" if n == 0 else "pass")
            assert v[f"r={a}, c={b}"] == expected


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
    from riskcalc.cli import main

    f = tmp_path / "tab.csv"
    pd.DataFrame({"school": ["A", "A", "B", "B"], "sex": ["F", "M", "F", "M"], "count": [12, 15, 4, 20]}).to_csv(f, index=False)
    assert main(["check-output", str(f), "--out", str(tmp_path / "rep")]) == 0
    assert "verdict: FAIL" in capsys.readouterr().out
    doc = json.loads((tmp_path / "rep" / "tab.check.json").read_text())
    assert doc["summary"]["cells_fail"] == 1 and doc["provenance"]["inputs"][0]["source"] == "tab.csv"
    assert main(["check-output", str(f), "--profile", "dfe_3", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["verdict"] == "pass"
    rec = tmp_path / "rec.csv"
    pd.DataFrame({"g": ["a"] * 12, "v": range(12)}).to_csv(rec, index=False)
    assert main(["check-output", str(rec), "--kind", "summary", "--value", "v", "--by", "g",
                 "--statistics", "mean,max", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["cells_fail"] == 1
    assert main(["check-output", str(rec), "--kind", "magnitude", "--value", "v"]) == 2
    assert "--by is required" in capsys.readouterr().err
