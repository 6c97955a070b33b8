"""Streaming encoding (issue 27, part 2): Arrow record batches straight into codes.

``encode_batches`` must give what ``encode`` gives on the whole table (the same levels in the
same order, the same missing values), whatever the batch sizes; ``encode(path)`` must stream
Parquet files and datasets, Arrow IPC and CSV without building the whole table.
"""

from __future__ import annotations

import datetime as dt
import decimal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

import riskcalc as rc
from riskcalc._core import kernels
from riskcalc._core.encoding import encode, encode_batches
from riskcalc._core.io import read_table

# --------------------------------------------------------------------------------------------
# Random Arrow columns
# --------------------------------------------------------------------------------------------

_TEXT = [
    "a",
    "b",
    "F",
    "M",
    "007",
    "7",
    "",
    "x y",
    "é",
    "AB12 3CD",
    "a longer value",
    "yet another long one",
]
_INTS = [0, 1, -1, 7, 2**40, -(2**62), 2**62 + 5]
_FLOATS = [0.0, -0.0, 1.0, -1.5, float("nan"), float("inf"), 2.0**53]
_KINDS = [
    "int64",
    "int8",
    "uint64",
    "float64",
    "float32",
    "bool",
    "string",
    "short_string",
    "large_string",
    "dict_string",
    "dict_int",
    "timestamp",
    "date32",
    "binary",
    "decimal",
]


def _values(kind: str, draw_idx: list[int], nulls: list[bool]):
    """The values of a column of ``kind``: pool entries ``draw_idx``, ``None`` where ``nulls``."""
    if kind in ("int64", "dict_int"):
        pool = _INTS
    elif kind == "int8":
        pool = [0, 1, -128, 127, 5]
    elif kind == "uint64":
        pool = [0, 2**63, 2**64 - 1, 2**63 + 1, 7]
    elif kind in ("float64", "float32"):
        pool = _FLOATS
    elif kind == "bool":
        pool = [True, False]
    elif kind == "short_string":
        pool = [t for t in _TEXT if len(t.encode()) <= 8]
    elif kind == "timestamp":
        pool = [
            dt.datetime(2000, 1, 1),
            dt.datetime(1970, 1, 1),
            dt.datetime(2000, 1, 1, 0, 0, 1),
            dt.datetime(1900, 5, 5),
        ]
    elif kind == "date32":
        pool = [
            dt.date(2000, 1, 1),
            dt.date(2000, 1, 2),
            dt.date(1970, 1, 1),
            dt.date(9999, 12, 31),
        ]
    elif kind == "binary":
        pool = [b"a", b"\x00b", b"", b"0123456789"]
    elif kind == "decimal":
        pool = [decimal.Decimal("1.10"), decimal.Decimal("2.00"), decimal.Decimal("-3.50")]
    else:
        pool = _TEXT
    return [None if m else pool[i % len(pool)] for i, m in zip(draw_idx, nulls, strict=True)]


def _array(kind: str, values: list, rng: np.random.Generator) -> pa.Array:
    typ = {
        "int64": pa.int64(),
        "int8": pa.int8(),
        "uint64": pa.uint64(),
        "float64": pa.float64(),
        "float32": pa.float32(),
        "bool": pa.bool_(),
        "string": pa.string(),
        "short_string": pa.string(),
        "large_string": pa.large_string(),
        "dict_string": pa.string(),
        "dict_int": pa.int64(),
        "timestamp": pa.timestamp("us"),
        "date32": pa.date32(),
        "binary": pa.binary(),
        "decimal": pa.decimal128(5, 2),
    }[kind]
    if kind == "float32":
        values = [None if v is None else float(np.float32(v)) for v in values]
    array = pa.array(values, type=typ)
    if kind.startswith("dict_"):
        array = array.dictionary_encode()
        # a dictionary of its own: shuffled, sometimes with an unused entry
        dictionary = array.dictionary.to_pylist()
        extra = [("zz_unused" if kind == "dict_string" else 99)] if rng.random() < 0.5 else []
        order = list(rng.permutation(len(dictionary)))
        new = [dictionary[i] for i in order] + extra
        position = {old: j for j, old in enumerate(order)}
        indices = pa.array(
            [None if i is None else position[i] for i in array.indices.to_pylist()], pa.int32()
        )
        array = pa.DictionaryArray.from_arrays(indices, pa.array(new, type=array.dictionary.type))
    return array


@st.composite
def batch_streams(draw):
    """A list of record batches (1..3 columns of random kinds, nulls, several batch sizes
    including 1; dictionary columns with a dictionary of their own in each batch)."""
    n = draw(st.integers(1, 60))
    kinds = draw(st.lists(st.sampled_from(_KINDS), min_size=1, max_size=3))
    null_rate = draw(st.sampled_from([0.0, 0.2, 0.6, 1.0]))
    size = draw(st.sampled_from([1, 2, 3, 7, 16, 1000]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    cols = {}
    for j, kind in enumerate(kinds):
        idx = list(rng.integers(0, 12, n))
        nulls = list(rng.random(n) < null_rate)
        cols[f"c{j}_{kind}"] = (kind, _values(kind, idx, nulls))
    batches = []
    for start in range(0, n, size):
        arrays = {
            name: _array(kind, values[start : start + size], rng)
            for name, (kind, values) in cols.items()
        }
        batches.append(pa.RecordBatch.from_pydict(arrays))  # pyarrow 14: no dict in record_batch
    return batches


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labellings of the records define the same classes (up to renaming)."""
    pairs = np.unique(np.stack([a.astype(np.int64), b.astype(np.int64)]), axis=1)
    return pairs.shape[1] == np.unique(a).shape[0] == np.unique(b).shape[0]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch_streams())
def test_encode_batches_equals_encode_on_the_whole_table(batches):
    schema = batches[0].schema
    names = list(schema.names)
    whole = pa.Table.from_batches(batches, schema=schema)
    expected = encode(whole)
    got = encode_batches(iter(batches), schema, names)
    assert got.n_records == expected.n_records
    for name in names:
        a, b = got[name], expected[name]
        # the partition: same classes up to renaming, same class sizes
        assert _same_partition(a.codes, b.codes), name
        assert_array_equal(np.sort(a.value_counts), np.sort(b.value_counts))
        assert (a.n_levels, a.n_missing, a.dtype) == (b.n_levels, b.n_missing, b.dtype), name
        # and in fact the same codes, levels and labels
        assert_array_equal(a.codes, b.codes)
        assert a.codes.dtype == b.codes.dtype
        assert pa.array(a.categories).equals(pa.array(b.categories)), name
    # every measure reads the combined partition
    assert _same_partition(
        rc.partition(got, names).class_id, rc.partition(expected, names).class_id
    )
    h1, h2 = rc.size_histogram(got, names), rc.size_histogram(expected, names)
    assert_array_equal(h1.sizes, h2.sizes)
    assert_array_equal(h1.counts, h2.counts)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("batch", [1, 7, 1 << 12, 1 << 20])
def test_encode_batches_on_a_large_table_gives_the_codes_of_encode(backend, batch):
    """Large enough for the compiled paths (hash-partition order of short text, value order of
    dates), in batches of 1 to the whole table, on both kernel backends."""
    if batch == 1:
        n = 3000
    else:
        n = 300_000
    rng = np.random.default_rng(3)
    postcodes = np.array([f"P{i:05d}" for i in range(40_000)], dtype=object)
    table = pa.table(
        {
            "postcode": pa.array(postcodes[rng.integers(0, 40_000, n)], mask=rng.random(n) < 0.01),
            "la": pa.array(postcodes[rng.integers(0, 150, n)]).dictionary_encode(),
            "dob": pa.array(rng.integers(10_000, 15_000, n).astype("datetime64[D]")),
            "upn": pa.array([f"A{i:012d}" for i in rng.integers(0, 10**12, n)]),
            "id": pa.array(rng.integers(0, 2**64 - 1, n, dtype=np.uint64)),
            "score": pa.array(rng.integers(0, 50, n) / 4.0),
        }
    )
    old = kernels.set_backend(backend if backend == "numpy" else "auto")
    try:
        expected = encode(table)
        got = encode_batches(
            table.to_batches(max_chunksize=batch), table.schema, table.column_names
        )
    finally:
        kernels.set_backend(old)
    for name in table.column_names:
        assert_array_equal(got[name].codes, expected[name].codes, err_msg=name)
        assert got[name].n_levels == expected[name].n_levels
        assert pa.array(got[name].categories).equals(pa.array(expected[name].categories))


def test_a_dictionary_column_with_a_long_value_later_keeps_its_levels():
    """Short text packs into integers until a batch holds a longer value: the builder then
    turns into a dictionary merge, keeping the levels (and codes) seen so far."""
    b1 = pa.RecordBatch.from_pydict(
        {
            "a": pa.array(["x", "y", None, "x"]).dictionary_encode(),
            "s": pa.array(["x", "y", None, "x"]),
        }
    )
    b2 = pa.RecordBatch.from_pydict(
        {
            "a": pa.array(["a value over eight bytes", "y"]).dictionary_encode(),
            "s": pa.array(["a value over eight bytes", "y"]),
        }
    )
    got = encode_batches([b1, b2], b1.schema, ["a", "s"])
    whole = encode(pa.Table.from_batches([b1, b2]))
    for name in ("a", "s"):
        assert_array_equal(got[name].codes, whole[name].codes)
        assert got[name].categories.to_pylist() == ["x", "y", "a value over eight bytes"]


def test_encode_batches_keeps_weights_and_refuses_an_empty_stream():
    t = pa.table({"sex": ["F", "M", "F"], "w": [1.5, 2.0, 3.0]})
    enc = encode_batches(t.to_batches(max_chunksize=1), t.schema, ["sex"], weights="w", source="x")
    assert_array_equal(enc.weights("w"), [1.5, 2.0, 3.0])
    assert enc.columns == ("sex",) and enc.source == "x"
    with pytest.raises(rc.exceptions.EmptyTableError, match="no records"):
        encode_batches(iter([]), t.schema, ["sex"])


def test_nested_columns_are_refused_in_one_line():
    t = pa.table({"a": pa.array([[1], [2]])})
    with pytest.raises(rc.exceptions.UnsupportedTypeError, match="nested type"):
        encode_batches(t.to_batches(), t.schema, ["a"])


# --------------------------------------------------------------------------------------------
# Files go through the stream
# --------------------------------------------------------------------------------------------


def _table(n=5000, seed=0):
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "sex": pa.array(rng.choice(["F", "M"], n)),
            "school": pa.array(rng.integers(100000, 100400, n).astype(np.int32)),
            "dob": pa.array(rng.integers(12000, 13000, n).astype("datetime64[D]")),
            "pc": pa.array(
                np.array([f"AB{i} 1CD" for i in range(900)])[rng.integers(0, 900, n)]
            ).dictionary_encode(),
            "id": pa.array(["0" * 15 + str(i) for i in rng.integers(0, 10**4, n)]),
            "w": pa.array(rng.random(n) + 1),
        }
    )


@pytest.fixture()
def files(tmp_path):
    t = _table()
    out = {}
    pq.write_table(t, tmp_path / "t.parquet", row_group_size=700)
    out["parquet"] = tmp_path / "t.parquet"
    d = tmp_path / "ds"
    for i, part in enumerate(range(0, t.num_rows, 1500)):
        (d / f"year={2020 + i % 2}").mkdir(parents=True, exist_ok=True)
        pq.write_table(t.slice(part, 1500), d / f"year={2020 + i % 2}" / f"p{i}.parquet")
    out["dataset"] = d
    import pyarrow.feather as feather

    feather.write_feather(t, tmp_path / "t.feather", chunksize=800)
    out["feather"] = tmp_path / "t.feather"
    plain = t.set_column(3, "pc", t.column("pc").cast(pa.string()))
    import pyarrow.csv as pacsv

    pacsv.write_csv(plain, tmp_path / "t.csv")
    out["csv"] = tmp_path / "t.csv"
    return out


@pytest.mark.parametrize("kind", ["parquet", "dataset", "feather", "csv"])
def test_encode_of_a_file_equals_encode_of_the_table_read_whole(files, kind, monkeypatch):
    path = files[kind]
    names = ["sex", "school", "dob", "pc", "id"]
    expected = encode(read_table(path, names + ["w"]), names, weights="w")
    import riskcalc._core.io as io_mod

    monkeypatch.setattr(io_mod, "_CSV_BLOCK", 1 << 12)  # many CSV blocks
    got = encode(path, names, weights="w")
    assert got.source == str(path) and got.n_records == expected.n_records
    for name in names:
        assert_array_equal(got[name].codes, expected[name].codes, err_msg=name)
        assert got[name].n_levels == expected[name].n_levels
    assert_array_equal(got.weights("w"), expected.weights("w"))
    if kind == "csv":  # text by default: long ids exact, "007" kept apart from "7"
        assert got["school"].dtype == "string"


@pytest.mark.parametrize("kind", ["parquet", "dataset", "feather", "csv"])
def test_encode_of_a_file_never_reads_the_whole_table(files, kind, monkeypatch):
    """Failed before: encode(path) read the file into one Arrow table first."""
    import pyarrow.csv as pacsv
    import pyarrow.dataset as pads
    import pyarrow.feather as feather

    import riskcalc._core.io as io_mod

    def refuse(*args, **kwargs):
        raise AssertionError("the whole table was read")

    monkeypatch.setattr(pq, "read_table", refuse)
    monkeypatch.setattr(feather, "read_table", refuse)
    monkeypatch.setattr(pacsv, "read_csv", refuse)

    class NoWholeTable:  # a dataset whose whole-table reads refuse
        def __init__(self, dataset):
            self._dataset = dataset

        def __getattr__(self, name):
            if name in ("to_table", "head", "take"):
                return refuse
            return getattr(self._dataset, name)

    real = io_mod._dataset
    monkeypatch.setattr(io_mod, "_dataset", lambda path: NoWholeTable(real(path)))
    real_ds = pads.dataset
    monkeypatch.setattr(pads, "dataset", lambda *a, **k: NoWholeTable(real_ds(*a, **k)))
    monkeypatch.setattr(io_mod, "read_table", refuse)
    enc = rc.encode(files[kind], ["sex", "pc"])
    assert enc.n_records == 5000


def test_a_quoted_line_break_in_csv_still_reads(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('sex,note\nF,"one\ntwo"\nM,plain\nF,x\n', encoding="utf-8")
    enc = rc.encode(path, ["sex", "note"])
    assert enc.n_records == 3 and enc["note"].n_levels == 3


_PEAK = textwrap.dedent("""
    import sys
    import numpy as np, pyarrow as pa, pyarrow.parquet as pq
    import riskcalc as rc
    path = sys.argv[1]
    pool = pa.default_memory_pool()
    before = pool.max_memory()
    enc = rc.encode(path, ["a", "b", "c"])
    print(enc.n_records, pool.max_memory() - before)
""")


def test_streaming_holds_a_batch_not_the_table(tmp_path):
    """Arrow's peak allocation while a 48 MB Parquet file is encoded stays a fraction of the
    table (failed before: the whole table was read first, then encoded)."""
    n = 2_000_000
    rng = np.random.default_rng(0)
    table = pa.table({c: pa.array(rng.integers(0, 1000, n)) for c in "abc"})  # 8 bytes a value
    path = tmp_path / "big.parquet"
    pq.write_table(table, path, row_group_size=1 << 16)
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(Path(rc.__file__).parents[1]),
    )
    assert proc.returncode == 0, proc.stderr[-800:]
    records, peak = map(int, proc.stdout.split())
    assert records == n
    assert peak < table.nbytes / 3, (peak, table.nbytes)


# --------------------------------------------------------------------------------------------
# Class sizes without a key per record for all records at once
# --------------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(1, 40), min_size=1, max_size=5),
    st.integers(1, 3000),
    st.sampled_from([1 << 10, 1 << 14, 1 << 30]),
    st.integers(0, 2**32 - 1),
)
def test_class_sizes_bounded_equal_the_grouping(levels, n, budget, seed):
    """Counting (a small key space) and hash passes (otherwise) give the class sizes of
    ``group_codes``, whatever the chunk and the budget."""
    from riskcalc._core import grouping

    rng = np.random.default_rng(seed)
    codes = [rng.integers(0, lv, n).astype(np.int16) for lv in levels]
    expected = np.sort(grouping.group_codes(codes, levels)[1])
    old = grouping._CHUNK
    grouping._CHUNK = 97
    try:
        got = np.sort(grouping.class_sizes_bounded(codes, levels, budget=budget))
    finally:
        grouping._CHUNK = old
    assert_array_equal(got, expected)
    assert got.sum() == n


def test_encode_batches_takes_any_arrow_stream():
    """A RecordBatchReader (as DuckDB's and polars' exports give), tables in place of batches,
    and batches holding more columns than asked for."""
    t = pa.table({"sex": ["F", "M", None, "F"], "year": [7, 8, 7, 7], "other": [1, 2, 3, 4]})
    expected = encode(t, ["sex", "year"])
    reader = pa.RecordBatchReader.from_batches(t.schema, t.to_batches(max_chunksize=3))
    for stream in (reader, [t.slice(0, 1), t.slice(1)]):
        got = encode_batches(stream, t.schema, ["sex", "year"])
        assert got.columns == ("sex", "year")
        for name in ("sex", "year"):
            assert_array_equal(got[name].codes, expected[name].codes)
