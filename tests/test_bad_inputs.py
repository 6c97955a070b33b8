"""Bad inputs across every subcommand, run from a table of cases (issue 10).

Every case runs ``riskcalc.cli.main`` on small files made in a temporary folder and checks the
contract for user mistakes: exit status 2, nothing on stdout, exactly one line on stderr that
starts ``riskcalc CMD: error:``, names the file, column or parameter at fault, holds no
traceback and no value from any record, and leaves every input file byte-for-byte unchanged.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pytest

from riskcalc.cli import main

# One pupil-like record set. Every value below is "data": none may appear in a message.
PUPILS = (
    "sex,first_name,dob,postcode,upn,w\n"
    "F,Florence,2017-08-17,DH1 0AW,W840254521499,12.5\n"
    "M,Oliver,2016-02-29,NE4 7QT,K112233445566,30\n"
    "F,Amelia,2017-08-17,DH1 0AW,Z998877665544,4\n"
)
SECRETS = ("Florence", "Oliver", "Amelia", "DH1 0AW", "NE4 7QT", "W840254521499", "K112233445566",
           "Z998877665544", "2017-08-17", "2016-02-29", "Hélène", "many")

TIER3 = "la_code,sex,count\n{a}\n"


def _files() -> dict[str, bytes]:
    f = {
        "good.csv": PUPILS,
        "pop.csv": PUPILS + PUPILS,
        "ragged.csv": PUPILS + "F,Florence,Hughes,2017-08-17,DH1 0AW,W840254521499,X\n",
        "headerless.csv": PUPILS.split("\n", 1)[1],
        "json_as.csv": '{"sex": "F", "first_name": "Florence", "upn": "W840254521499"}\n',
        "records.json": '[{"sex": "F", "first_name": "Florence"}]\n',
        "dup.csv": "sex,sex,dob\nF,M,2017-08-17\n",
        "header_only.csv": "sex,dob\n",
        "empty.csv": "",
        "zero_w.csv": "sex,w\nF,0\nM,0\nF,0\n",
        "small_w.csv": "sex,w\nF,0.5\nM,0.2\nF,1\n",
        "bool_w.csv": "sex,w\nF,true\nM,false\nF,true\n",
        "scen_absent.toml": '[nobody]\nfields = ["shoe_size"]\n',
        "scen_bad.toml": "[x\nfields = 3\n",
    }
    out = {k: v.encode("utf-8") for k, v in f.items()}
    out["latin1.csv"] = "sex,prénom\nF,Hélène\nM,Hélène\n".encode("latin-1")
    out["scen_latin1.toml"] = '[x]\nfields = ["prénom"]\n'.encode("latin-1")
    out["sheet.xlsx"] = b"PK\x03\x04" + PUPILS.encode()
    return out


TIER3_FOLDERS = {
    "t3_negative": "la_code,sex,count\nA,F,-3\nA,M,5\nB,F,7\n",
    "t3_fraction": "la_code,sex,count\nA,F,2.5\nA,M,5\nB,F,7\n",
    "t3_empty": "la_code,sex,count\nA,F,\nA,M,5\nB,F,7\n",
    "t3_text": "la_code,sex,count\nA,F,many\nA,M,5\nB,F,7\n",
    "t3_count_only": "count\n3\n5\n",
    "header_only_dir": "sex,dob\n",
    "same_label": None,  # x.csv and x.parquet
    "unknown_type": None,  # one .json file given directly
}


@pytest.fixture
def d(tmp_path) -> Path:
    for name, data in _files().items():
        (tmp_path / name).write_bytes(data)
    for folder, text in TIER3_FOLDERS.items():
        (tmp_path / folder).mkdir()
        if text is not None:
            (tmp_path / folder / "table.csv").write_text(text)
    (tmp_path / "same_label" / "x.csv").write_text(PUPILS)
    pd.read_csv(io.StringIO(PUPILS)).to_parquet(tmp_path / "same_label" / "x.parquet")
    (tmp_path / "not_ours").mkdir()
    (tmp_path / "not_ours" / "thesis.docx").write_text("my own file")
    (tmp_path / "a_file").write_text("not a folder")
    (tmp_path / "outdir").mkdir()
    return tmp_path


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


G = "{d}/good.csv"
QI = ["--qi", "sex,dob"]

# (id, argv, words the message must hold)
CASES = [
    # --- analyse ---------------------------------------------------------------------------
    ("analyse-ragged-row", ["analyse", "{d}/ragged.csv", *QI], ["ragged.csv", "row 5", "7 field"]),
    ("analyse-headerless", ["analyse", "{d}/headerless.csv", *QI], ["headerless.csv", "does not look like a header"]),
    ("analyse-json-as-csv", ["analyse", "{d}/json_as.csv", *QI], ["json_as.csv"]),
    ("analyse-json-suffix", ["analyse", "{d}/records.json", *QI], ["records.json", "unknown file type '.json'"]),
    ("analyse-xlsx", ["analyse", "{d}/sheet.xlsx", *QI], ["sheet.xlsx", "unknown file type '.xlsx'", "CSV UTF-8"]),
    ("analyse-latin1", ["analyse", "{d}/latin1.csv", "--qi", "prénom"], ["latin1.csv", "not UTF-8"]),
    ("analyse-duplicate-columns", ["analyse", "{d}/dup.csv", "--qi", "sex"], ["dup.csv", "duplicate column names 'sex'"]),
    ("analyse-header-only", ["analyse", "{d}/header_only.csv", *QI], ["header_only.csv", "no records"]),
    ("analyse-empty-file", ["analyse", "{d}/empty.csv", *QI], ["empty.csv", "empty"]),
    ("analyse-missing-file", ["analyse", "{d}/nope.csv", *QI], ["nope.csv", "No such file"]),
    ("analyse-unknown-column", ["analyse", G, "--qi", "gender"], ["'gender'", "good.csv"]),
    ("analyse-sep-two-chars", ["analyse", G, *QI, "--sep", "ab"], ["'sep'", "one character"]),
    ("analyse-threshold-overflow", ["analyse", G, *QI, "--thresholds", "99999999999999999999999"], ["thresholds"]),
    ("analyse-threshold-text", ["analyse", G, *QI, "--thresholds", "2,x"], ["--thresholds"]),
    ("analyse-out-is-input", ["analyse", G, *QI, "--out", G, "--force"], ["would replace the input"]),
    ("analyse-out-is-input-dotdot", ["analyse", G, *QI, "--out", "{d}/outdir/../good.csv", "--force"], ["would replace the input"]),
    ("analyse-out-is-population", ["analyse", G, *QI, "--population", "{d}/pop.csv", "--out", "{d}/pop.csv", "--force"], ["would replace the input"]),
    ("analyse-out-is-folder", ["analyse", G, *QI, "--out", "{d}/outdir", "--force"], ["outdir", "is a folder"]),
    ("analyse-weights-zero", ["analyse", "{d}/zero_w.csv", "--qi", "sex", "--weights", "w"], ["'weights'", "at least 1"]),
    ("analyse-weights-below-one", ["analyse", "{d}/small_w.csv", "--qi", "sex", "--weights", "w"], ["'weights'", "at least 1"]),
    ("analyse-weights-boolean", ["analyse", "{d}/bool_w.csv", "--qi", "sex", "--weights", "w"], ["'w'", "must be numeric"]),
    ("analyse-weights-text", ["analyse", G, *QI, "--weights", "first_name"], ["'first_name'", "must be numeric"]),
    ("analyse-unknown-option", ["analyse", G, *QI, "--bogus"], ["unrecognized arguments: --bogus", "riskcalc analyse --help"]),
    ("analyse-bad-choice", ["analyse", G, *QI, "--missing", "drop"], ["--missing", "riskcalc analyse --help"]),
    ("analyse-alpha-text", ["analyse", G, *QI, "--alpha", "x"], ["--alpha"]),
    # --- lattice ---------------------------------------------------------------------------
    ("lattice-ragged-row", ["lattice", "{d}/ragged.csv", "--fields", "sex,dob"], ["ragged.csv", "row 5"]),
    ("lattice-headerless", ["lattice", "{d}/headerless.csv", "--fields", "sex,dob"], ["does not look like a header"]),
    ("lattice-xlsx", ["lattice", "{d}/sheet.xlsx", "--fields", "sex"], ["unknown file type '.xlsx'"]),
    ("lattice-latin1", ["lattice", "{d}/latin1.csv", "--fields", "sex"], ["not UTF-8"]),
    ("lattice-duplicate-columns", ["lattice", "{d}/dup.csv", "--fields", "sex,dob"], ["duplicate column names"]),
    ("lattice-huge-threshold", ["lattice", G, "--fields", "sex,dob", "--thresholds", "1000000000000000000"], ["thresholds"]),
    ("lattice-out-is-input", ["lattice", G, "--fields", "sex,dob", "--out", G, "--force"], ["would replace the input"]),
    ("lattice-sep-two-chars", ["lattice", G, "--fields", "sex", "--sep", ";;"], ["'sep'"]),
    ("lattice-missing-fields", ["lattice", G], ["--fields", "riskcalc lattice --help"]),
    ("lattice-top-zero", ["lattice", G, "--fields", "sex", "--top", "0"], ["--top"]),
    # --- suda ------------------------------------------------------------------------------
    ("suda-ragged-row", ["suda", "{d}/ragged.csv", "--fields", "sex,dob"], ["ragged.csv", "row 5"]),
    ("suda-json-suffix", ["suda", "{d}/records.json", "--fields", "sex"], ["unknown file type '.json'"]),
    ("suda-out-is-input", ["suda", G, "--fields", "sex,dob", "--out", G, "--force"], ["would replace the input"]),
    ("suda-sep-two-chars", ["suda", G, "--fields", "sex", "--sep", "ab"], ["'sep'"]),
    ("suda-header-only", ["suda", "{d}/header_only.csv", "--fields", "sex"], ["no records"]),
    ("suda-bad-scoring", ["suda", G, "--fields", "sex", "--scoring", "x"], ["--scoring"]),
    # --- tiers -----------------------------------------------------------------------------
    ("tiers-pupils-zero", ["tiers", "--pupils", "0"], ["--pupils"]),
    ("tiers-pupils-text", ["tiers", "--pupils", "lots"], ["--pupils", "riskcalc tiers --help"]),
    ("tiers-target-k-without-out", ["tiers", "--pupils", "300", "--target-k", "5"], ["--target-k needs --out"]),
    ("tiers-target-k-above-pupils", ["tiers", "--pupils", "300", "--target-k", "5000", "--out", "{d}/o1"], ["--target-k", "above"]),
    ("tiers-scenarios-absent-fields", ["tiers", "--pupils", "300", "--scenarios", "{d}/scen_absent.toml"], ["No scenario (nobody)"]),
    ("tiers-scenarios-latin1", ["tiers", "--pupils", "300", "--scenarios", "{d}/scen_latin1.toml"], ["scen_latin1.toml", "not UTF-8"]),
    ("tiers-scenarios-bad-toml", ["tiers", "--pupils", "300", "--scenarios", "{d}/scen_bad.toml"], ["scen_bad.toml", "TOML"]),
    ("tiers-scenarios-missing", ["tiers", "--pupils", "300", "--scenarios", "{d}/nope.toml"], ["nope.toml"]),
    ("tiers-out-is-file", ["tiers", "--pupils", "300", "--out", "{d}/a_file"], ["a_file", "not a folder"]),
    ("tiers-out-not-empty", ["tiers", "--pupils", "300", "--out", "{d}/not_ours"], ["not_ours", "not empty"]),
    ("tiers-out-not-ours-force", ["tiers", "--pupils", "300", "--out", "{d}/not_ours", "--force"], ["not_ours", "did not write"]),
    ("tiers-out-holds-scenarios", ["tiers", "--pupils", "300", "--scenarios", "{d}/not_ours/s.toml", "--out", "{d}/not_ours", "--force"], ["would replace the input"]),
    ("tiers-bad-format", ["tiers", "--format", "pdf"], ["--format"]),
    # --- report ----------------------------------------------------------------------------
    ("report-same-label", ["report", "{d}/same_label"], ["'x'", "x.csv", "x.parquet"]),
    ("report-t3-negative", ["report", "{d}/t3_negative"], ["'count'", "whole, non-negative", "row 1"]),
    ("report-t3-fraction", ["report", "{d}/t3_fraction"], ["'count'", "whole, non-negative"]),
    ("report-t3-empty-count", ["report", "{d}/t3_empty"], ["'count'", "missing"]),
    ("report-t3-text-count", ["report", "{d}/t3_text"], ["'count'", "must be numeric"]),
    ("report-t3-count-only", ["report", "{d}/t3_count_only"], ["only a 'count' column"]),
    ("report-header-only", ["report", "{d}/header_only_dir"], ["table.csv", "no records"]),
    ("report-unknown-type", ["report", "{d}/records.json"], ["unknown file type '.json'"]),
    ("report-xlsx", ["report", "{d}/sheet.xlsx"], ["unknown file type '.xlsx'"]),
    ("report-ragged", ["report", "{d}/ragged.csv"], ["ragged.csv", "row 5"]),
    ("report-latin1", ["report", "{d}/latin1.csv"], ["not UTF-8"]),
    ("report-out-is-input-folder", ["report", "{d}/same_label", "--out", "{d}/same_label", "--force"], ["would replace the input"]),
    ("report-missing", ["report", "{d}/nowhere"], ["nowhere"]),
    ("report-sep-two-chars", ["report", G, "--sep", "ab"], ["'sep'"]),
    ("report-scenarios-latin1", ["report", G, "--scenarios", "{d}/scen_latin1.toml"], ["not UTF-8"]),
    # --- top level -------------------------------------------------------------------------
    ("no-command", [], ["riskcalc: error:", "riskcalc --help"]),
    ("unknown-command", ["analyze-this"], ["riskcalc: error:", "invalid choice"]),
]


@pytest.mark.parametrize("case_id, argv, words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_one_clean_line(case_id, argv, words, d, capsys):
    if case_id == "tiers-out-holds-scenarios":
        (d / "not_ours" / "s.toml").write_text('[x]\nfields = ["sex"]\n')
    before = _hashes(d)
    code = main([a.format(d=d) for a in argv])
    out, err = capsys.readouterr()
    command = argv[0] if argv and argv[0] in {"analyse", "lattice", "suda", "tiers", "report"} else None
    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1 and err.endswith("\n"), err
    prefix = f"riskcalc {command}: error: " if command else "riskcalc: error: "
    assert err.startswith(prefix), err
    assert "Traceback" not in err and "internal error" not in err and "please report" not in err
    assert "usage:" not in err
    for word in words:
        assert word in err, (word, err)
    for secret in SECRETS:
        assert secret not in err, (secret, err)
    assert "np.float64" not in err and "np.int64" not in err
    assert _hashes(d) == before, "an input file changed"
    assert not [p for p in d.rglob(".rc-*")], "temporary files left behind"


def test_every_subcommand_is_covered():
    commands = {c[1][0] for c in CASES if c[1]}
    assert {"analyse", "lattice", "suda", "tiers", "report"} <= commands


# ---------------------------------------------------------------------------------------------
# The same through the API: one rule for files
# ---------------------------------------------------------------------------------------------

API_CASES = [
    ("sheet.xlsx", ["sex"], "unknown file type '.xlsx'"),
    ("records.json", ["sex"], "unknown file type '.json'"),
    ("ragged.csv", ["sex"], "row 5"),
    ("headerless.csv", ["sex"], "does not look like a header"),
    ("latin1.csv", ["sex"], "not UTF-8"),
    ("dup.csv", ["sex"], "duplicate column names"),
]


@pytest.mark.parametrize("name, qi, message", API_CASES, ids=[c[0] for c in API_CASES])
@pytest.mark.parametrize("function", ["uniqueness", "encode", "k_anonymity", "small_count_exposure"])
def test_api_refuses_bad_files_in_one_line(name, qi, message, function, d):
    import riskcalc as rc

    with pytest.raises(rc.RiskCalcError) as info:
        getattr(rc, function)(d / name, qi)
    text = str(info.value)
    assert message in text and "\n" not in text
    for secret in SECRETS:
        assert secret not in text


def test_feather_duplicate_columns_are_refused(tmp_path):
    import riskcalc as rc

    path = tmp_path / "dup.feather"
    feather.write_feather(pa.Table.from_arrays([pa.array(["F"]), pa.array(["M"])], names=["sex", "sex"]), path)
    with pytest.raises(rc.DataFileError, match="duplicate column names 'sex'"):
        rc.uniqueness(path, ["sex"])
