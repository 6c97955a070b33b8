"""Issue 24 item 2: an analyst's own messy file. Every route (analyse, lattice, suda, report, the
API's result objects) runs the same profile, carries its findings with the figures in every
output, marks the figures an upper bound where a quasi-identifier still holds one value written
in more than one way, and --normalise unifies the spellings by field kind (UK postcodes, year
groups, sex codes, dates) and records each rule. Plus four small items of item 7: --sheet,
--columns and the --scenarios hint, a name column flagged as an identifier, the record count."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskcalc as rc
import synthetic
from riskcalc._cli import main

GATE = ["urn", "nc_year", "sex", "year_of_birth", "month_of_birth"]
SCENARIOS = (
    '[neighbour]\nfields = ["sex", "date_of_birth", "postcode"]\nrationale = "n"\n'
    '[school_gate]\nfields = ["urn", "nc_year", "sex", "year_of_birth", "month_of_birth"]\n'
    'rationale = "g"\n'
)


def _clean(n=2_000, seed=3) -> pd.DataFrame:
    """A tier-1-like extract of a synthetic cohort, every column as text, as a file holds it."""
    cohort = synthetic.generate_cohort(n, rng=seed)
    cols = [
        "sex",
        "date_of_birth",
        "postcode",
        "urn",
        "nc_year",
        "year_of_birth",
        "month_of_birth",
        "fsm_eligible",
    ]
    out = cohort[cols].copy()
    out["date_of_birth"] = out["date_of_birth"].dt.strftime("%Y-%m-%d")
    return out.astype(str)


def _corrupt(
    df: pd.DataFrame, how: str, share: float = 0.3, seed: int = 0
) -> tuple[pd.DataFrame, str]:
    """A copy of ``df`` with a share of one column's values written another way, as real files
    are: returns the copy and the column corrupted."""
    rng = np.random.default_rng(seed)
    out = df.copy()
    hit = rng.random(len(df)) < share
    col = {
        "sex_case": "sex",
        "urn_pad": "urn",
        "postcode_space": "postcode",
        "postcode_lower": "postcode",
        "year_label": "nc_year",
        "date_format": "date_of_birth",
        "year_zero": "nc_year",
    }[how]
    v = out[col].to_numpy(dtype=object)
    if how == "sex_case":
        v[hit] = [s.lower() for s in v[hit]]
    elif how == "urn_pad":
        v[hit] = [" " + s for s in v[hit]]
    elif how == "postcode_space":
        v[hit] = [s.replace(" ", "") for s in v[hit]]
    elif how == "postcode_lower":
        v[hit] = [s.lower() for s in v[hit]]
    elif how == "year_label":
        v[hit] = [f"Year {s}" if s.isdigit() else "Reception" for s in v[hit]]
    elif how == "year_zero":
        v[hit] = [f"0{s}" if s.isdigit() else s for s in v[hit]]
    elif how == "date_format":
        v[hit] = [f"{s[8:10]}/{s[5:7]}/{s[:4]}" for s in v[hit]]
    out[col] = v
    return out, col


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The clean file and a messy one (sex, school, postcode, year group and dates corrupted)."""
    folder = tmp_path_factory.mktemp("own")
    clean = _clean()
    messy = clean
    for i, how in enumerate(("sex_case", "urn_pad", "postcode_space", "year_label", "date_format")):
        messy, _ = _corrupt(messy, how, seed=i)
    clean.to_csv(folder / "clean.csv", index=False)
    messy.to_csv(folder / "messy.csv", index=False)
    (folder / "s.toml").write_text(SCENARIOS)
    return folder


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _gate(doc) -> dict:
    return next(r for r in doc["records"] if r["scenario"] == "school_gate")


# ---------------------------------------------------------------------------------------------
# The defect: inflated figures with no mark (each of these failed before the fix)
# ---------------------------------------------------------------------------------------------


def test_report_on_a_messy_file_marks_its_inflated_figures(files, tmp_path, capsys):
    out = tmp_path / "r"
    code, _, err = _run(
        capsys, "report", files / "messy.csv", "--scenarios", files / "s.toml", "--out", out
    )
    assert code == 0
    doc = json.loads((out / "tier_table.json").read_text())
    clean = json.loads(
        _run(
            capsys,
            "report",
            files / "clean.csv",
            "--scenarios",
            files / "s.toml",
            "--format",
            "json",
        )[1]
    )
    assert _gate(doc)["n_unique"] > 2 * _gate(clean)["n_unique"]  # the inflation this is about
    quality = doc["provenance"]["data_quality"]
    assert {u["column"] for u in quality["upper_bound"]} == {
        "sex",
        "urn",
        "postcode",
        "nc_year",
        "date_of_birth",
    }
    assert _gate(doc)["upper_bound"] is True and "upper_bound" not in _gate(clean)
    html = (out / "report.html").read_text()
    assert '<h2 id="quality">Data quality</h2>' in html
    assert html.index("Data quality") < html.index("Key findings")
    assert (
        "upper bound" in html.split("Key findings")[1].split("</div>")[0]
    )  # next to the key figures
    md = (out / "tier_table.md").read_text()
    assert md.startswith("## Data quality") and "upper bound" in md and "| upper_bound |" in md
    tex = (out / "tier_table.tex").read_text()
    assert "Data quality" in tex and "upper bounds of the risk" in tex
    assert (
        "tier,scenario" in (out / "tier_table_records.csv").read_text()
        and ",True\n" in (out / "tier_table_records.csv").read_text()
    )
    assert "upper bound" in err and "'postcode'" in err


def test_normalise_recovers_the_clean_figures_and_records_each_rule(files, capsys):
    clean = json.loads(
        _run(
            capsys,
            "report",
            files / "clean.csv",
            "--scenarios",
            files / "s.toml",
            "--format",
            "json",
        )[1]
    )
    code, out, err = _run(
        capsys,
        "report",
        files / "messy.csv",
        "--scenarios",
        files / "s.toml",
        "--format",
        "json",
        "--normalise",
    )
    assert code == 0
    doc = json.loads(out)
    for name in ("school_gate", "neighbour"):  # the truth is the figure on the clean data
        got = next(r for r in doc["records"] if r["scenario"] == name)
        want = next(r for r in clean["records"] if r["scenario"] == name)
        assert (got["n_unique"], got["records_below_5"]) == (
            want["n_unique"],
            want["records_below_5"],
        )
    record = {n["column"]: n for n in doc["provenance"]["data_quality"]["normalisation"]}
    assert record["postcode"]["kind"] == "postcode" and "postcode_spacing" in {
        r["rule"] for r in record["postcode"]["rules"]
    }
    assert record["nc_year"]["kind"] == "year_group"
    assert (
        record["postcode"]["distinct_after"]
        == pd.read_csv(files / "clean.csv", dtype=str)["postcode"].nunique()
    )
    # no stale warnings: what was fixed is a note, nothing is still messy
    assert "normalised: column 'postcode' (postcode):" in err
    assert "differ from another" not in err and "upper bound" not in err
    assert doc["provenance"]["data_quality"]["upper_bound"] == []


@pytest.mark.parametrize("command", ["lattice", "suda"])
def test_lattice_and_suda_warn_and_carry_the_findings(files, command, capsys):
    code, out, err = _run(
        capsys, command, files / "messy.csv", "--fields", "urn,nc_year,sex", "--format", "json"
    )
    assert code == 0
    doc = json.loads(out)
    assert {u["column"] for u in doc["provenance"]["data_quality"]["upper_bound"]} == {
        "urn",
        "nc_year",
        "sex",
    }
    assert "riskcalc " + command + ": warning: column 'sex'" in err
    if command == "lattice":
        assert all(r["upper_bound"] for r in doc["rows"])
    code, out, err = _run(
        capsys, command, files / "messy.csv", "--fields", "urn,nc_year,sex", "--normalise"
    )
    assert code == 0 and "warning" not in err and "data quality: normalised: column 'sex'" in out


def test_postcodes_and_year_groups_unify():
    df = pd.DataFrame(
        {
            "postcode": ["DL10NG", "DL1 0NG", "dl1 0ng", " DL1  0NG", "DL1 0NH", "NFA"],
            "nc_year": ["Year 5", "5", "Y5", "05", "yr 5", "Reception"],
        }
    )
    fixed, record = rc.normalise(df, ["postcode", "nc_year"])
    assert fixed["postcode"].tolist() == ["DL1 0NG"] * 4 + ["DL1 0NH", "NFA"]
    assert fixed["nc_year"].tolist() == ["5"] * 5 + ["R"]
    assert (
        record["postcode"]["unreadable"] == 1
    )  # NFA: not shaped like a postcode, left alone and counted
    profile = rc.profile_columns(df).columns
    assert dict(profile[0].variants)["postcode_spacing"] == 1 and dict(profile[1].variants) == {
        "number_spellings": 1,
        "year_group_labels": 3,
    }


def test_sex_codes_and_dates_unify_day_first():
    df = pd.DataFrame(
        {
            "sex": ["f", "Female", " F", "M", "male", "U"],
            "dob": ["2015-09-01", "01/09/2015", "1/9/2015", "20150901", "31/02/2015", "09/13/2015"],
        }
    )
    fixed, record = rc.normalise(df, ["sex", "dob"])
    assert fixed["sex"].tolist() == ["F", "F", "F", "M", "M", "U"]
    assert fixed["dob"].tolist() == ["2015-09-01"] * 4 + [
        "31/02/2015",
        "09/13/2015",
    ]  # no such dates: left
    assert record["dob"]["kind"] == "date" and record["dob"]["unreadable"] == 2
    assert "day first" in record["dob"]["rules"][0]["description"]


def test_a_name_column_is_a_direct_identifier_though_names_repeat(files, tmp_path, capsys):
    cohort = synthetic.generate_cohort(20_000, rng=4)
    names = (cohort["forename"].astype(str) + " " + cohort["surname"].astype(str)).to_numpy()
    share = len(set(names)) / len(names)
    assert 0.9 < share < 0.95  # below the 95% rule: only the content tells
    for header in ("who", "PupilFullName"):
        df = pd.DataFrame({header: names, "sex": cohort["sex"].astype(str)})
        col = rc.profile_columns(df, [header]).columns[0]
        assert col.looks_like_identifier, header
    assert (
        not rc.profile_columns(pd.DataFrame({"school_name": ["St Mary", "Hill View"] * 50}))
        .columns[0]
        .looks_like_identifier
    )
    assert (
        not rc.profile_columns(pd.DataFrame({"town": [f"Town{i % 60}" for i in range(2000)]}))
        .columns[0]
        .looks_like_identifier
    )
    # in the report too: every column of the extract is checked for direct identifiers
    df = pd.read_csv(files / "clean.csv", dtype=str).assign(who=names[:2_000])
    df.to_csv(tmp_path / "named.csv", index=False)
    code, out, err = _run(
        capsys,
        "report",
        tmp_path / "named.csv",
        "--scenarios",
        files / "s.toml",
        "--format",
        "markdown",
    )
    assert code == 0 and "column 'who': looks like a direct identifier" in out and "'who'" in err


def test_the_report_names_its_input_with_the_record_count(files, tmp_path, capsys):
    out = tmp_path / "r"
    assert (
        _run(capsys, "report", files / "clean.csv", "--scenarios", files / "s.toml", "--out", out)[
            0
        ]
        == 0
    )
    doc = json.loads((out / "tier_table.json").read_text())
    assert doc["provenance"]["inputs"][0]["n_records"] == 2_000
    assert (
        "2,000 records"
        in (out / "report.html").read_text().split("</p>")[0] + (out / "report.html").read_text()
    )
    banner = re.search(r'<p class="banner">(.*?)</p>', (out / "report.html").read_text()).group(1)
    assert "2,000 records" in banner


def test_sheet_chooses_the_sheet_of_a_workbook(files, tmp_path, capsys):
    pytest.importorskip("openpyxl")
    book = tmp_path / "book.xlsx"
    data = pd.read_csv(files / "clean.csv", dtype=str).head(300)
    with pd.ExcelWriter(book) as xw:
        pd.DataFrame({"note": ["the pupils are on the next sheet"]}).to_excel(
            xw, sheet_name="README", index=False
        )
        data.to_excel(xw, sheet_name="pupils", index=False)
    code, _, err = _run(capsys, "report", book, "--scenarios", files / "s.toml")
    assert (
        code == 2
        and "first sheet, 'README'" in err
        and "--sheet" in err
        and len(err.strip().splitlines()) == 1
    )
    for sheet in ("pupils", "2"):
        code, out, _ = _run(
            capsys,
            "report",
            book,
            "--scenarios",
            files / "s.toml",
            "--sheet",
            sheet,
            "--format",
            "json",
        )
        assert code == 0
        doc = json.loads(out)
        assert (
            doc["provenance"]["inputs"][0]["sheet"] == "pupils"
            and doc["records"][0]["n_records"] == 300
        )
    code, _, err = _run(capsys, "report", book, "--sheet", "pupil")
    assert code == 2 and err.strip() == (
        "riskcalc report: error: The workbook 'book.xlsx' has no sheet 'pupil'; its "
        "sheets are 'README', 'pupils'."
    )
    code, _, err = _run(capsys, "analyse", book, "--qi", "sex,urn", "--sheet", "3")
    assert code == 2 and "no sheet number 3" in err
    code, out, _ = _run(
        capsys, "analyse", book, "--qi", "sex,urn", "--sheet", "pupils", "--format", "json"
    )
    assert code == 0 and json.loads(out)["provenance"]["parameters"]["sheet"] == "pupils"
    # the API's reader
    assert rc.encode(book, ["sex", "urn"], sheet="pupils").n_records == 300
    with pytest.raises(rc.DataFileError, match="no sheet 'x'"):
        rc.encode(book, sheet="x")
    with pytest.raises(rc.DataFileError, match="not an Excel workbook"):
        rc.encode(files / "clean.csv", sheet="x")


def test_no_matching_scenario_says_what_they_need_and_columns_maps_them(files, tmp_path, capsys):
    df = pd.read_csv(files / "clean.csv", dtype=str).rename(
        columns={"sex": "Gender", "nc_year": "Year"}
    )
    path = tmp_path / "mine.csv"
    df.to_csv(path, index=False)
    code, _, err = _run(capsys, "report", path, "--scenarios", files / "s.toml")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert (
        "need the columns sex, date_of_birth, postcode, urn, nc_year" in err
        and "--scenarios FILE" in err
    )
    assert "--columns" in err and "(missing: sex, nc_year)" in err
    code, out, err = _run(
        capsys,
        "report",
        path,
        "--scenarios",
        files / "s.toml",
        "--columns",
        "sex=Gender,nc_year=Year",
        "--format",
        "json",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["provenance"]["columns"] == {"sex": "Gender", "nc_year": "Year"}
    assert {r["scenario"] for r in doc["records"]} == {"neighbour", "school_gate"}
    for bad, words in (
        ("sex=Gendr", "No column named 'Gendr'"),
        ("sx=Gender", "'sx' is not a field of any scenario"),
        ("sex", "FIELD=COLUMN"),
        ("sex=Gender,sex=Year", "twice"),
    ):
        code, _, err = _run(
            capsys, "report", path, "--scenarios", files / "s.toml", "--columns", bad
        )
        assert code == 2 and words in err and len(err.strip().splitlines()) == 1, (bad, err)
    # the built-in scenarios, some not held: a note on stderr and in the report
    code, _, err = _run(capsys, "report", files / "clean.csv")
    assert code == 0 and "built-in scenarios not measured" in err and "--scenarios FILE" in err


# ---------------------------------------------------------------------------------------------
# The class: every route's outputs carry the profile's findings
# ---------------------------------------------------------------------------------------------


def _outputs(route: str, path: Path, folder: Path, capsys) -> tuple[dict, list[str]]:
    """Run one route on ``path``: its data-quality block, and the texts of its outputs."""
    if route.startswith("cli-report"):
        out = folder / "r"
        assert (
            _run(capsys, "report", path, "--scenarios", folder / "s.toml", "--out", out, "--force")[
                0
            ]
            == 0
        )
        doc = json.loads((out / "tier_table.json").read_text())
        texts = [(out / n).read_text() for n in ("report.html", "tier_table.md", "tier_table.tex")]
        texts.append(
            _run(capsys, "report", path, "--scenarios", folder / "s.toml", "--format", "text")[1]
        )
        return doc["provenance"]["data_quality"], texts
    if route.startswith("cli-"):
        command = route[4:]
        opt = "--qi" if command == "analyse" else "--fields"
        docs = json.loads(_run(capsys, command, path, opt, ",".join(GATE), "--format", "json")[1])
        texts = [
            _run(capsys, command, path, opt, ",".join(GATE), "--format", f)[1]
            for f in ("text", "markdown", "latex")
        ]
        sidecar = folder / "o.csv"
        assert (
            _run(
                capsys,
                command,
                path,
                opt,
                ",".join(GATE),
                "--format",
                "csv",
                "--out",
                sidecar,
                "--force",
            )[0]
            == 0
        )
        side = json.loads((folder / "o.csv.provenance.json").read_text())
        assert side["data_quality"] == docs["provenance"]["data_quality"]
        return docs["provenance"]["data_quality"], texts
    if route == "api-risk_table":
        table = rc.risk_table(
            {"extract": pd.read_csv(path, dtype=str)}, scenarios={"school_gate": GATE}
        )
        return table.provenance["data_quality"], [
            table.to_markdown(),
            table.to_latex(),
            table.to_json(),
        ]
    if route == "api-analysis":
        from riskcalc import _render
        from riskcalc.release.analyse import analyse, to_text

        result = analyse(path, GATE)
        assert result.quality.to_dict() == result.provenance["data_quality"]
        return result.provenance["data_quality"], [
            to_text(result),
            _render.render(result.to_frame(), "markdown", result.provenance),
        ]
    raise AssertionError(route)


ROUTES = ["cli-analyse", "cli-lattice", "cli-suda", "cli-report", "api-risk_table", "api-analysis"]
CORRUPTIONS = ["sex_case", "urn_pad", "year_label", "year_zero"]


def _carried(lines, text) -> bool:
    """Whether an output text carries every data-quality line (as each format escapes it)."""
    from riskcalc._render import escape_latex, escape_markdown

    flat = " ".join(text.split())
    forms = lambda line: {
        line,
        escape_markdown(line),
        escape_latex(line),
        line.replace("'", "&#x27;"),
        json.dumps(line)[1:-1],
    }
    return all(any(" ".join(f.split()) in flat for f in forms(line)) for line in lines)


@pytest.mark.parametrize("route", ROUTES)
@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(how=st.sampled_from(CORRUPTIONS), share=st.sampled_from([0.05, 0.4]), seed=st.integers(0, 3))
def test_every_route_carries_the_profile_findings(
    route, how, share, seed, tmp_path_factory, capsys
):
    folder = tmp_path_factory.mktemp("route")
    (folder / "s.toml").write_text(
        '[school_gate]\nfields = ["urn", "nc_year", "sex", "year_of_birth", '
        '"month_of_birth"]\nrationale = "g"\n'
    )
    clean = _clean(600, seed=seed)
    messy, column = _corrupt(clean, how, share=share, seed=seed)
    messy.to_csv(folder / "messy.csv", index=False)
    clean.to_csv(folder / "clean.csv", index=False)
    doc, texts = _outputs(route, folder / "messy.csv", folder, capsys)
    assert column in {u["column"] for u in doc["upper_bound"]}  # the corrupted column, and why
    assert any(f["column"] == column and f["upper_bound"] for f in doc["findings"])
    for text in texts:  # the summary and every finding, and the upper bound, in every output
        assert _carried([doc["summary"]] + [f["message"] for f in doc["findings"]], text), (
            route,
            text[:400],
        )
        assert "upper bound" in text.lower()
    doc, texts = _outputs(route, folder / "clean.csv", folder, capsys)
    assert doc["upper_bound"] == [] and not [
        f for f in doc["findings"] if f["check"] != "direct_identifier"
    ]
    for text in texts:
        assert (
            "found nothing to fix" in text or "found no value written in more than one way" in text
        ), route


# ---------------------------------------------------------------------------------------------
# The normaliser: properties against a plain-Python reference
# ---------------------------------------------------------------------------------------------


def _ref_number(s: str) -> str:
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", s):
        return s
    sign = "-" if s.startswith("-") else ""
    body = s.lstrip("+-")
    whole, _, frac = body.partition(".")
    whole = whole.lstrip("0") or "0"
    frac = frac.rstrip("0")
    out = whole + ("." + frac if frac else "")
    return "0" if out == "0" else sign + out


def _ref_canonical(value, kind):
    """The canonical form, written out plainly (str methods and Python's re)."""
    if value is None:
        return None
    s = value.strip().upper()
    if not s:
        return None
    s = re.sub(r"\s+", " ", s)
    if kind in ("text", "year_group"):
        s = _ref_number(s)
    if kind == "postcode":
        bare = s.replace(" ", "")
        if re.fullmatch(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}", bare):
            s = bare[:-3] + " " + bare[-3:]
    elif kind == "year_group":
        m = re.fullmatch(r"(?:YEAR|YR|Y|NC ?YEAR|NCY|NC) ?0*(\d{1,2})", s)
        if m:
            s = m.group(1)
        if re.fullmatch(r"R|REC|RECEPTION|YR|YEAR ?R|Y ?R|NC ?R", s):
            s = "R"
    elif kind == "sex":
        s = {"F": "F", "FEMALE": "F", "GIRL": "F", "M": "M", "MALE": "M", "BOY": "M"}.get(s, s)
    return s


_PIECES = st.sampled_from(
    [
        "",
        " ",
        "  ",
        "\t",
        "0",
        "00",
        "5",
        "12",
        "Year",
        "Y",
        "yr",
        "R",
        "Reception",
        "f",
        "Female",
        "M",
        "DL1",
        "0NG",
        "dl10ng",
        "SW1A",
        "1AA",
        ".",
        "+",
        "-",
        "7.0",
        "a",
        "b",
    ]
)
_VALUES = st.lists(
    st.one_of(
        st.none(),
        st.lists(_PIECES, min_size=1, max_size=3).map("".join),
        st.text(alphabet="AbZ09 .-+", max_size=6),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(_VALUES, st.sampled_from(["text", "postcode", "year_group", "sex"]))
def test_normaliser_matches_the_reference_and_is_idempotent(values, kind):
    from riskcalc.profile import canonical_values

    got = canonical_values(values, kind)
    assert got == [_ref_canonical(v, kind) for v in values]
    assert canonical_values(got, kind) == got  # idempotent
    df = pd.DataFrame({"c": pd.Series(values, dtype=object)})
    before = df.copy()
    fixed, record = rc.normalise(df, ["c"], kinds={"c": kind})
    pd.testing.assert_frame_equal(df, before)  # the input is never changed
    want = [_ref_canonical(v, kind) for v in values]
    assert [None if pd.isna(v) else v for v in fixed["c"].tolist()] == want
    # two values are merged exactly when their canonical forms are equal (an all-missing column
    # is no text column: nothing to record)
    if any(v is not None for v in values):
        assert record["c"]["distinct_after"] == len({w for w in want if w is not None})


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(10**18, 10**22), min_size=2, max_size=20, unique=True),
    st.lists(st.sampled_from(["", "0", "00", "+"]), min_size=20, max_size=20),
)
def test_long_numeric_ids_never_merge(ids, pads):
    values = [p + str(i) for p, i in zip(pads, ids, strict=False)]
    fixed, record = rc.normalise(pd.DataFrame({"id": values}), ["id"])
    assert fixed["id"].tolist() == [str(i) for i in ids]  # digit by digit, never through float64
    assert record["id"]["distinct_after"] == len(ids)


def test_distinct_postcodes_never_merge():
    cohort = synthetic.generate_cohort(5_000, rng=9)
    codes = sorted(set(cohort["postcode"].astype(str)))
    messy = [c.replace(" ", "").lower() if i % 2 else c for i, c in enumerate(codes)]
    fixed, record = rc.normalise(pd.DataFrame({"postcode": messy}), ["postcode"])
    assert fixed["postcode"].tolist() == codes and record["postcode"]["distinct_after"] == len(
        codes
    )


def test_the_file_is_never_changed(files, capsys):
    path = files / "messy.csv"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert _run(capsys, "analyse", path, "--qi", ",".join(GATE), "--normalise")[0] == 0
    assert _run(capsys, "report", path, "--scenarios", files / "s.toml", "--normalise")[0] == 0
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_kinds_are_detected_from_content():
    from riskcalc.profile import detect_kind

    assert detect_kind(["DL1 0NG", "dl10ng", "LS6 2AB", "SW1A 1AA"]) == "postcode"
    assert detect_kind(["Year 5", "5", "Reception", "Y6"]) == "year_group"
    assert detect_kind(["5", "6", "7"]) == "text"  # plain numbers: the number rule does
    assert detect_kind(["f", "F", "male"]) == "sex"
    assert detect_kind(["C", "M", "S"]) == "text"  # enrolment status, not sex
    assert detect_kind(["2015-09-01", "01/09/2015"]) == "date"


@pytest.mark.parametrize(
    "name,expected",
    [
        *[
            (n, True)
            for n in (
                "upn",
                "pupil_id",
                "PupilID",
                "Forename",
                "FirstName",
                "last_name",
                "FullName",
                "PupilFullName",
                "Name",
                "pupil name",
                "family_id",
                "ni_number",
                "candidate_number",
                "PupilMatchingRefAnonymous",
                "home_address",
            )
        ],
        *[
            (n, False)
            for n in (
                "school_name",
                "SchoolName",
                "school_id",
                "name_of_school",
                "school_address",
                "la_code",
                "urn",
                "postcode",
                "n_siblings",
                "year_of_birth",
                "identifier_type",
            )
        ],
    ],
)
def test_identifier_names(name, expected):
    from riskcalc.profile import _identifier_name

    assert _identifier_name(name) is expected


def test_what_normalising_cannot_fix_stays_an_upper_bound(tmp_path, capsys):
    """Inner spaces in a column of no known kind, and month-first dates, are still messy after
    --normalise: the figures on them stay upper bounds, and the outputs say why."""
    rng = np.random.default_rng(1)
    n = 400
    code = rng.choice([f"AB{i:02d}" for i in range(30)], n).astype(object)
    spaced = rng.random(n) < 0.3
    code[spaced] = [f"{c[:2]} {c[2:]}" for c in code[spaced]]
    days = pd.to_datetime("2015-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    dob = days.strftime("%Y-%m-%d").to_numpy(dtype=object)
    us = rng.random(n) < 0.2
    dob[us] = days[us].strftime(
        "%m/%d/%Y"
    )  # month first: not a day-first date when the day is above 12
    path = tmp_path / "odd.csv"
    pd.DataFrame({"club": code, "date_of_birth": dob}).to_csv(path, index=False)
    code_, out, err = _run(
        capsys, "analyse", path, "--qi", "club,date_of_birth", "--normalise", "--format", "json"
    )
    assert code_ == 0
    doc = json.loads(out)["provenance"]["data_quality"]
    checks = {u["column"]: u["checks"] for u in doc["upper_bound"]}
    assert checks["club"] == ["space_variants"] and "unreadable_dates" in checks["date_of_birth"]
    assert "no rule for this column's kind tells whether they are one value" in err
    assert "month above 12" in err and "upper bound" in err


def test_attribute_disclosure_figures_carry_the_profile_too():
    """Before: the attribute rows (and the report's finding on them) carried no mark, although a
    messy quasi-identifier splits classes (more of them homogeneous: an overstatement) and a
    messy sensitive field splits values (fewer homogeneous classes: an understatement)."""
    import riskcalc as rc

    rng = np.random.default_rng(3)
    n = 400
    base = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], n),
            "urn": rng.choice(["1", "2", "3"], n),
            "fsm_eligible": rng.choice(["Y", "N"], n),
            "sen_provision": rng.choice(["N", "K"], n),
        }
    )
    scen = {"gate": ["sex", "urn"]}
    sens = ["fsm_eligible", "sen_provision"]

    def bounds(frame):
        t = rc.risk_table({"x": frame}, scenarios=scen, sensitive=sens)
        b = t.attribute_bound()
        return None if b is None else dict(zip(t.attributes["sensitive"], b))

    assert bounds(base) is None
    messy_qi = base.assign(sex=[s.lower() if i % 3 == 0 else s for i, s in enumerate(base["sex"])])
    assert bounds(messy_qi) == {"fsm_eligible": "upper bound", "sen_provision": "upper bound"}
    messy_sens = base.assign(
        fsm_eligible=[v.lower() if i % 3 == 0 else v for i, v in enumerate(base["fsm_eligible"])]
    )
    assert bounds(messy_sens) == {"fsm_eligible": "may be understated", "sen_provision": ""}
    both = messy_qi.assign(fsm_eligible=messy_sens["fsm_eligible"])
    assert bounds(both) == {"fsm_eligible": "direction unknown", "sen_provision": "upper bound"}
    t = rc.risk_table({"x": both}, scenarios=scen, sensitive=sens)
    assert "bound" in t.to_csv()["attributes"].splitlines()[0]
    assert "direction unknown" in t.to_markdown() and "upper bound" in t.to_json()


# Issue 26 item 2: distinct long ids, through every way a table reaches the normaliser and the
# profile (text in a frame, a CSV file, uint64 and Python integers past int64), stay distinct and
# are never reported as one value "written in more than one way".
_LONG_IDS = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.integers(10 ** (n - 1) if n > 1 else 0, 10**n - 1),
        st.lists(st.integers(0, 2_000), min_size=2, max_size=12, unique=True),
    )
)


def _distinct_ids(base_deltas) -> list[int]:
    base, deltas = base_deltas
    return sorted({base + d for d in deltas})


def _ids_frames(ids: list[int]) -> dict[str, pd.DataFrame]:
    frames = {
        "text": pd.DataFrame({"id": [str(i) for i in ids]}),
        "python_int": pd.DataFrame({"id": pd.Series(ids, dtype=object)}),
    }
    if max(ids) < 2**64:
        frames["uint64"] = pd.DataFrame({"id": np.array(ids, dtype=np.uint64)})
    return frames


@settings(max_examples=80, deadline=None)
@given(base_deltas=_LONG_IDS)
def test_distinct_digit_strings_up_to_40_digits_never_merge(base_deltas):
    ids = _distinct_ids(base_deltas)
    for how, frame in _ids_frames(ids).items():
        fixed, record = rc.normalise(frame, ["id"])
        assert fixed["id"].nunique() == len(ids), how  # (8 digits may read as yyyymmdd dates)
        as_text = rc.normalise(frame, ["id"], kinds={"id": "text"})[0]
        assert [str(v) for v in as_text["id"].tolist()] == [str(i) for i in ids], how
        if "id" in record:
            assert record["id"]["distinct_after"] == len(ids), how
        profile = rc.profile_columns(frame, ["id"])
        assert profile.to_frame()["n_distinct"].tolist() == [len(ids)], how
        assert profile.to_frame()["variants"].tolist() == [0], how
        assert not any("more than one way" in p for p in profile.problems()), how


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(base_deltas=_LONG_IDS)
def test_distinct_long_ids_in_a_file_stay_distinct_with_normalise(base_deltas, tmp_path, capsys):
    ids = _distinct_ids(base_deltas)
    path = tmp_path / "ids.csv"
    path.write_text("id\n" + "\n".join(map(str, ids)) + "\n")
    for extra in ([], ["--normalise"]):
        code, out, err = _run(capsys, "analyse", path, "--qi", "id", "--format", "json", *extra)
        assert code == 0, err
        rows = {
            (r["measure"], r["threshold"]): r["value"]
            for r in json.loads(out)["rows"]
            if r["section"] == "quasi_identifiers"
        }
        assert rows[("n_classes", None)] == len(ids) and rows[("n_unique", None)] == len(ids)
        assert "more than one way" not in err.replace("no value written in more than one way", "")


# Issue 26 item 12 (first part): a column mixing types (the number 7 beside the text "07") was
# profiled as "no problems found" and left unnormalised (an ArrowInvalid crash in the issue's
# build); its values are now read as text, and two distinct values that are one value as text
# are reported and merged by the rule value_types.
def test_a_mixed_type_column_is_read_as_text():
    df = pd.DataFrame({"urn": pd.Series([7, "07", "7", "a", None, 7], dtype=object)})
    before = df.copy()
    problems = rc.profile_columns(df).problems()
    assert any("mixes types" in p for p in problems) and any(
        "written in more than one way" in p for p in problems
    )
    fixed, record = rc.normalise(df, ["urn"])
    pd.testing.assert_frame_equal(df, before)  # the input is never changed
    assert [None if pd.isna(v) else v for v in fixed["urn"].tolist()] == [
        "7",
        "7",
        "7",
        "A",
        None,
        "7",
    ]
    assert record["urn"]["distinct_before"] == 4 and record["urn"]["distinct_after"] == 2
    assert next(r["rule"] for r in record["urn"]["rules"]) == "value_types"
    # the figures on the unnormalised column carry the mark, the normalised ones do not
    from riskcalc.release.analyse import analyse

    assert analyse(df, ["urn"]).quality.upper_bound()
    normalised = analyse(df, ["urn"], normalise=True)
    assert not normalised.quality.upper_bound()

    def classes(result):  # missing values are a category of their own
        return result.to_frame().set_index("measure")["value"]["n_classes"]

    assert classes(analyse(df, ["urn"])) == 5 and classes(normalised) == 3


_MIXED = st.lists(
    st.one_of(
        st.none(),
        st.integers(-(10**25), 10**25),
        st.floats(-1e6, 1e6, allow_nan=False),
        st.text(alphabet="07a. -", max_size=5),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=100, deadline=None)
@given(_MIXED)
def test_a_mixed_type_column_normalises_as_its_text(values):
    """Normalising a column of mixed types gives what normalising the text of its values gives;
    the profile finds as many spellings as the normaliser merges."""
    df = pd.DataFrame({"c": pd.Series(values, dtype=object)})
    kinds = {str(type(v)) for v in values if v is not None}
    as_text = pd.DataFrame(
        {"c": pd.Series([None if v is None else str(v) for v in values], dtype=object)}
    )
    fixed, record = rc.normalise(df, ["c"], kinds={"c": "text"})
    want, want_record = rc.normalise(as_text, ["c"], kinds={"c": "text"})
    if any(isinstance(v, str) for v in values) and len(kinds) > 1:  # a mixed column
        assert [None if pd.isna(v) else v for v in fixed["c"].tolist()] == [
            None if pd.isna(v) else v for v in want["c"].tolist()
        ]
        assert record["c"]["distinct_after"] == want_record["c"]["distinct_after"]
        profile = rc.profile_columns(df, ["c"], kinds={"c": "text"}).columns[0]
        assert profile.n_distinct - profile.n_variants == record["c"]["distinct_after"]


def test_uint64_ids_in_a_parquet_file_are_measured(tmp_path, capsys):
    """Before: an internal error (OverflowError) in every command that profiles, with or without
    --normalise: the ids past int64 could not be read as the profile's text."""
    path = tmp_path / "ids.parquet"
    pd.DataFrame({"id": np.array([2**63 + 1, 2**63 + 2, 2**64 - 1], dtype=np.uint64)}).to_parquet(
        path
    )
    for extra in ([], ["--normalise"]):
        code, out, err = _run(capsys, "analyse", path, "--qi", "id", "--format", "json", *extra)
        assert code == 0, err
        rows = {
            r["measure"]: r["value"]
            for r in json.loads(out)["rows"]
            if r["section"] == "quasi_identifiers"
        }
        assert rows["n_classes"] == 3 and rows["n_unique"] == 3
