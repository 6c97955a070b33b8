"""Reading files: formats, delimiters, missing markers, errors; atomic writes."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from numpy.testing import assert_array_equal

import riskcalc as rc
from riskcalc._core.io import read_table, write_text_atomic

FRAME = pd.DataFrame(
    {
        "sex": ["F", "M", "F", "M", "F", None],
        "year": [7, 7, 7, 8, 7, 8],
        "postcode": ["AB1 2CD", "AB1 2CD", "AB1 2CD", "EF3 4GH", "", None],
    }
)
QI = ["sex", "year", "postcode"]


def expected_fk():
    # missing sex and missing/empty postcode: both are missing in CSV (empty field -> null)
    return rc.class_sizes(FRAME.replace({"": None}), QI).fk


@pytest.mark.parametrize(
    "suffix, sep", [(".csv", ","), (".tsv", "\t"), (".txt", ";"), (".csv", "|")]
)
def test_delimited_text_with_sniffed_delimiter(tmp_path, suffix, sep):
    path = tmp_path / f"t{suffix}"
    FRAME.to_csv(path, sep=sep, index=False)
    assert_array_equal(rc.class_sizes(path, QI).fk, expected_fk())


def test_gzip_csv(tmp_path):
    path = tmp_path / "t.csv.gz"
    with gzip.open(path, "wt") as fh:
        FRAME.to_csv(fh, index=False)
    assert_array_equal(rc.class_sizes(path, QI).fk, expected_fk())


def test_parquet_and_feather(tmp_path):
    pq.write_table(pa.Table.from_pandas(FRAME, preserve_index=False), tmp_path / "t.parquet")
    FRAME.to_feather(tmp_path / "t.feather")
    direct = rc.class_sizes(FRAME, QI).fk
    assert_array_equal(rc.class_sizes(tmp_path / "t.parquet", QI).fk, direct)
    assert_array_equal(rc.class_sizes(str(tmp_path / "t.feather"), QI).fk, direct)


def test_parquet_with_many_row_groups_and_dictionaries(tmp_path):
    rng = np.random.default_rng(5)
    n = 50_000
    df = pd.DataFrame(
        {
            "low": rng.choice(["a", "b", "c"], n),  # small dictionary: read as codes
            "high": np.char.add("p", rng.integers(0, n, n).astype(str)),  # large: read as text
            "num": rng.integers(0, 9, n),
        }
    )
    path = tmp_path / "rg.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, row_group_size=7_000)
    for qi in (["low", "num"], ["high"], ["low", "high", "num"]):
        assert_array_equal(rc.class_sizes(path, qi).fk, rc.class_sizes(df, qi).fk)


def test_read_only_requested_columns_and_suggest(tmp_path):
    path = tmp_path / "t.csv"
    FRAME.to_csv(path, index=False)
    assert read_table(path, ["year"]).column_names == ["year"]
    with pytest.raises(
        rc.MissingColumnError, match=r"No column named 'Year' in 't.csv'. Did you mean 'year'"
    ):
        read_table(path, ["Year"])


def test_strings_option_reads_text(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"a": ["01", "1", "1"]}).to_csv(path, index=False)
    assert read_table(path, strings=True).column("a").type == pa.string()
    assert read_table(path, strings=True).column("a").to_pylist() == ["01", "1", "1"]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p, "No such file"),
        (lambda p: (p.mkdir(), p)[1], "is a directory"),
        (lambda p: (p.write_text(""), p)[1], "is empty"),
        (
            lambda p: (p.with_suffix(".xlsx").write_text("a\n1\n"), p.with_suffix(".xlsx"))[1],
            "not a readable Excel workbook",
        ),
        (
            lambda p: (p.with_suffix(".json").write_text("a\n1\n"), p.with_suffix(".json"))[1],
            "unknown file type '.json'",
        ),
        (
            lambda p: (
                p.with_suffix(".parquet").write_text("not parquet"),
                p.with_suffix(".parquet"),
            )[1],
            "Cannot read",
        ),
    ],
)
def test_unreadable_files(tmp_path, make, message):
    path = make(tmp_path / "bad.csv")
    with pytest.raises((rc.DataFileError, rc.EmptyTableError), match=message):
        rc.uniqueness(path, ["a"])


def test_header_only_csv_is_empty(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("a,b\n")
    with pytest.raises(rc.EmptyTableError, match="no records"):
        rc.uniqueness(path, ["a"])


def test_atomic_write_refuses_to_overwrite(tmp_path):
    path = tmp_path / "out.txt"
    write_text_atomic(path, "one")
    with pytest.raises(rc.DataFileError, match="exists already"):
        write_text_atomic(path, "two")
    assert path.read_text() == "one"
    write_text_atomic(path, "two", force=True)
    assert path.read_text() == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]  # no temporary left
    assert path.stat().st_mode & 0o644 == 0o644  # readable like any other file, not 0600


def test_atomic_write_missing_folder(tmp_path):
    with pytest.raises(rc.DataFileError, match="does not exist"):
        write_text_atomic(tmp_path / "nope" / "out.txt", "x")


def test_input_file_is_not_modified(tmp_path):
    path = tmp_path / "t.csv"
    FRAME.to_csv(path, index=False)
    before = path.read_bytes()
    rc.risk_summary(path, QI)
    assert path.read_bytes() == before


def test_csv_columns_are_text_unless_named_numeric(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,w\n007,1.5\n7,2\n")
    table = read_table(path)
    assert table.column("id").to_pylist() == ["007", "7"] and table.column("w").type == pa.string()
    typed = read_table(path, numeric=["w"])
    assert typed.column("id").type == pa.string() and typed.column("w").type == pa.float64()
    assert read_table(path, strings=False).column("id").type == pa.int64()


@pytest.mark.parametrize(
    "message",
    [
        "Unknown error: Failed to launch worker thread",
        "std::bad_alloc",
        "Out of memory: realloc of size 64 failed",
    ],
)
def test_a_reader_out_of_threads_or_memory_blames_the_limits_not_the_file(
    tmp_path, monkeypatch, message
):
    """Issue 26, item 12: under ulimit -v, pyarrow's "Failed to launch worker thread" was
    reported as a fault of the file ("Cannot read 'x.csv': Unknown error: ...")."""
    import pyarrow as pa

    import riskcalc as rc
    import riskcalc._core.io as io_module
    from riskcalc.exceptions import InsufficientMemoryError

    path = tmp_path / "x.csv"
    path.write_text("sex\nF\nM\n")

    def starved(*args, **kwargs):
        raise pa.ArrowException(message)

    monkeypatch.setattr(io_module, "csv_header", starved)
    with pytest.raises(InsufficientMemoryError, match="out of memory or threads") as info:
        rc.encode(path)
    assert (
        "x.csv'" in str(info.value) and "ulimit" in str(info.value) and "\n" not in str(info.value)
    )
    # a fault of the file is still the file's
    from riskcalc.exceptions import DataFileError

    def broken(*args, **kwargs):
        raise pa.ArrowInvalid("CSV parse error: Expected 2 columns, got 3")

    monkeypatch.setattr(io_module, "csv_header", broken)
    with pytest.raises(DataFileError, match="not a valid delimited text file"):
        rc.encode(path)
