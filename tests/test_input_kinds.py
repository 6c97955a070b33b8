"""Every kind of table a user may hold gives the figures of the same data as a pandas DataFrame.

Kinds: polars DataFrame and LazyFrame, pyarrow Table, RecordBatchReader and Dataset, DuckDB
relations, any object with the Arrow PyCapsule interface (``__arrow_c_stream__``). Each public
measure of ``tests/test_common.py::MEASURES`` runs on each kind against the pandas result; a
hypothesis property does the same on tables of mixed dtypes with missing values, and checks the
lazy backend's pushed-down counts (histograms, the lattice, missing counts, weighted sizes)
against the in-memory encoder.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import frames as frame_strategy
from strategies import quasi_identifiers
from test_common import MEASURES, QI, _frame

import riskcalc as rc
from riskcalc._core import frames, lazy
from riskcalc._core.lazy import FrameBackend, LazyBackend, backend

pl = pytest.importorskip("polars")
duckdb = pytest.importorskip("duckdb")
ds = pytest.importorskip("pyarrow.dataset")


class Capsule:
    """A table known only by its Arrow PyCapsule stream (as nanoarrow, cuDF or Ibis hand one)."""

    def __init__(self, obj):
        self._obj = obj

    def __arrow_c_stream__(self, requested_schema=None):
        return self._obj.__arrow_c_stream__(requested_schema)


def _kinds(table: pa.Table) -> dict:
    """name -> a fresh object of that kind holding ``table`` (a stream is one-shot: built anew)."""
    return {
        "polars": lambda: pl.from_arrow(table),
        "polars-lazy": lambda: pl.from_arrow(table).lazy(),
        "arrow-table": lambda: table,
        "arrow-reader": lambda: pa.RecordBatchReader.from_batches(
            table.schema, table.to_batches(max_chunksize=7)
        ),
        "arrow-dataset": lambda: ds.dataset(table),
        "duckdb": lambda: duckdb.connect().from_arrow(table),
        "capsule": lambda: Capsule(table),
        "capsule-polars": lambda: Capsule(pl.from_arrow(table)),  # string_view columns
    }


KINDS = tuple(_kinds(pa.table({"a": [1]})))


def _same(a, b) -> None:
    assert repr(a) == repr(b)
    if hasattr(a, "to_frame"):
        fa, fb = a.to_frame().reset_index(drop=True), b.to_frame().reset_index(drop=True)
        if isinstance(a, rc.ProfileResult):  # each column's type as its own library names it
            fa, fb = fa.drop(columns="dtype"), fb.drop(columns="dtype")
        pd.testing.assert_frame_equal(fa, fb)
    if hasattr(a, "fk"):
        np.testing.assert_array_equal(np.asarray(a.fk), np.asarray(b.fk))


# --------------------------------------------------------------------------------------------
# Every measure, every kind
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", sorted(MEASURES))
def test_every_measure_on_every_kind_equals_pandas(name, kind):
    df = _frame()
    df.loc[[2, 11, 30], "sex"] = None  # missing values: nulls in Arrow, None in pandas
    table = pa.Table.from_pandas(df, preserve_index=False)
    expected = MEASURES[name](df, QI)
    got = MEASURES[name](_kinds(table)[kind](), QI)
    if name == "partition":
        expected, got = expected.size_histogram, got.size_histogram
    _same(expected, got)


@pytest.mark.parametrize("kind", KINDS)
def test_missing_column_is_named_with_a_suggestion(kind):
    table = pa.Table.from_pandas(_frame(), preserve_index=False)
    with pytest.raises(
        rc.MissingColumnError, match="No column named 'shcool'.*Did you mean 'school'"
    ):
        rc.uniqueness(_kinds(table)[kind](), ["sex", "shcool"])


def test_the_reported_case_polars_from_parquet(tmp_path):
    """Issue 27: rc.uniqueness(pl.read_parquet(...), qi) was refused ("Got DataFrame instead")."""
    df = _frame()
    path = tmp_path / "x.parquet"
    df.to_parquet(path, index=False)
    assert repr(rc.uniqueness(pl.read_parquet(path), QI)) == repr(rc.uniqueness(df, QI))
    assert repr(rc.uniqueness(pl.scan_parquet(path), QI)) == repr(rc.uniqueness(df, QI))
    assert repr(rc.uniqueness(ds.dataset(path), QI)) == repr(rc.uniqueness(df, QI))
    assert repr(rc.uniqueness(duckdb.connect().read_parquet(str(path)), QI)) == repr(
        rc.uniqueness(df, QI)
    )


def test_anything_else_is_one_line_naming_the_parameter_and_the_kinds():
    with pytest.raises(rc.InvalidParameterError) as info:
        rc.uniqueness({"sex": ["F"]}, ["sex"])
    text = str(info.value)
    assert "\n" not in text
    assert "'data' parameter of uniqueness must be a table" in text and "Got dict instead" in text
    for kind in (
        "pandas",
        "polars",
        "LazyFrame",
        "RecordBatchReader",
        "Dataset",
        "DuckDB",
        "__arrow_c_stream__",
    ):
        assert kind in text


def test_a_stream_read_once_is_not_measured_again_as_empty():
    table = pa.Table.from_pandas(_frame(), preserve_index=False)
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
    rc.uniqueness(reader, QI)
    with pytest.raises(rc.InvalidParameterError, match="read already"):
        rc.uniqueness(reader, QI)


def test_encode_reads_every_kind():
    df = _frame()
    table = pa.Table.from_pandas(df, preserve_index=False)
    expected = rc.encode(df, QI, weights="w")
    for kind, make in _kinds(table).items():
        enc = rc.encode(make(), QI, weights="w")
        assert enc.columns == expected.columns, kind
        for c in QI:
            assert enc[c].n_levels == expected[c].n_levels
        np.testing.assert_array_equal(enc.weights("w"), expected.weights("w"))


def test_recognising_a_kind_imports_no_optional_library():
    code = (
        "import sys, riskcalc._core.frames as f, pandas as pd; "
        "f.kind_of(object()); f.kind_of(pd.DataFrame()); "
        "print(any(m in sys.modules for m in ('polars', 'duckdb', 'pyarrow.dataset', 'pyspark')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------------------------
# Value semantics: nulls and NaN, categoricals and enums, dates, string types, nested types
# --------------------------------------------------------------------------------------------


def test_null_and_nan_are_one_missing_value_in_every_kind():
    # polars keeps null and NaN apart; the encoder (pandas) counts both as missing, one value.
    values = [1.0, None, float("nan"), -0.0, 0.0, None, float("nan"), 2.0]
    df = pd.DataFrame({"x": values, "y": [1] * 8})
    expected = rc.size_histogram(df, ["x", "y"])
    assert (expected.sizes.tolist(), expected.counts.tolist()) == ([1, 2, 4], [2, 1, 1])
    table = pa.table({"x": pa.array(values, from_pandas=False), "y": [1] * 8})
    assert table.column("x").null_count == 2  # NaN is not null in Arrow
    for kind, make in _kinds(table).items():
        got = rc.size_histogram(make(), ["x", "y"])
        assert (got.sizes.tolist(), got.counts.tolist()) == ([1, 2, 4], [2, 1, 1]), kind
        if kind in frames.LAZY_KINDS:
            b = backend(make(), func="test")
            h = b.size_histogram(("x", "y"), missing="category", func="test")
            assert (h.sizes.tolist(), h.counts.tolist()) == ([1, 2, 4], [2, 1, 1]), kind
            assert b.missing_counts(("x", "y")).tolist() == [4, 0], kind
            with pytest.raises(rc.MissingValueError, match="Column 'x' has 4 missing"):
                b.size_histogram(("x", "y"), missing="raise", func="test")


def test_categoricals_enums_dates_and_string_types():
    n = 12
    frame = pl.DataFrame(
        {
            "cat": pl.Series(["a", "b", None, "a"] * 3, dtype=pl.Categorical),
            "enum": pl.Series(["u", "v", "u", None] * 3, dtype=pl.Enum(["u", "v", "w"])),
            "day": [dt.date(2000, 1, 1), None, dt.date(2000, 1, 2)] * 4,
            "when": [
                dt.datetime(2000, 1, 1, 12),
                dt.datetime(2000, 1, 1, 12),
                None,
                dt.datetime(1999, 1, 1),
            ]
            * 3,
            "text": ["x", "y", "x", None, "zz", "y"] * 2,
        }
    )
    assert frame.height == n
    df = frame.to_pandas()
    cols = list(frame.columns)
    expected = rc.class_sizes(df, cols).fk
    for kind, obj in {
        "polars": frame,
        "polars-lazy": frame.lazy(),
        "large_string": frame.to_arrow(),
        "string_view": pa.RecordBatchReader.from_stream(frame),  # polars' newest Arrow types
        "duckdb": duckdb.connect().from_arrow(frame.to_arrow()),
        "dataset": ds.dataset(frame.to_arrow()),
    }.items():
        np.testing.assert_array_equal(rc.class_sizes(obj, cols).fk, expected, err_msg=kind)
    for obj in (frame.lazy(), duckdb.connect().from_arrow(frame.to_arrow())):  # pushed down
        b = backend(obj, func="test")
        for sub in (["cat"], ["enum"], ["day"], ["when"], ["text"], cols):
            h, r = (
                b.size_histogram(tuple(sub), missing="category", func="t"),
                rc.size_histogram(df, sub),
            )
            assert (h.sizes.tolist(), h.counts.tolist()) == (r.sizes.tolist(), r.counts.tolist()), (
                b.kind,
                sub,
            )


@pytest.mark.parametrize("kind", ["polars", "polars-lazy", "duckdb", "arrow-dataset", "capsule"])
def test_nested_columns_are_refused_with_the_encoders_line(kind):
    table = pa.table({"a": [[1, 2], [3]], "b": ["x", "y"]})
    obj = _kinds(table)[kind]()
    with pytest.raises(rc.UnsupportedTypeError, match="Column 'a' has the nested type"):
        rc.uniqueness(obj, ["a", "b"])
    if kind in frames.LAZY_KINDS:
        with pytest.raises(rc.UnsupportedTypeError, match="Column 'a' has the nested type"):
            backend(_kinds(table)[kind](), func="uniqueness").names(["a", "b"], func="uniqueness")


# --------------------------------------------------------------------------------------------
# The backends: pushed-down counts equal the in-memory encoder's
# --------------------------------------------------------------------------------------------


def test_lazy_and_frame_backends_are_chosen_by_kind():
    table = pa.Table.from_pandas(_frame(), preserve_index=False)
    made = {k: backend(m(), func="t") for k, m in _kinds(table).items() if k != "arrow-table"}
    assert {k for k, b in made.items() if isinstance(b, LazyBackend)} == set(frames.LAZY_KINDS)
    assert all(isinstance(b, FrameBackend) for k, b in made.items() if k not in frames.LAZY_KINDS)
    for b in made.values():
        assert b.label.startswith("the ") and b.holds_records


@pytest.mark.parametrize("kind", frames.LAZY_KINDS)
def test_weighted_sizes_and_summed_cells_pushed_down(kind):
    df = _frame()
    table = pa.Table.from_pandas(df, preserve_index=False)
    b = backend(_kinds(table)[kind](), func="test")
    part = rc.partition(df, QI)
    Fk = part.weighted_sizes(df["w"].to_numpy())
    hist, below = b.weighted_below(tuple(QI), "w", [10.0, 20.0, 40.0], missing="category", func="t")
    assert hist.sizes.tolist() == part.size_histogram.sizes.tolist()
    expected = [int(part.class_sizes[Fk < t].sum()) for t in (10.0, 20.0, 40.0)]
    assert below.tolist() == expected
    cells = b.summed_histogram(("sex", "year"), "count", missing="category", func="t")
    sums = df.groupby(["sex", "year"])["count"].sum().to_numpy()
    ref = rc.SizeHistogram.from_class_sizes(sums)
    assert (cells.sizes.tolist(), cells.counts.tolist()) == (
        ref.sizes.tolist(),
        ref.counts.tolist(),
    )
    bad = table.set_column(table.schema.get_field_index("w"), "w", pa.array([-1.0] + [1.0] * 59))
    with pytest.raises(rc.InvalidParameterError, match="'w' must be non-negative"):
        backend(_kinds(bad)[kind](), func="t").weighted_below(
            tuple(QI), "w", [1.0], missing="category", func="t"
        )


@pytest.mark.parametrize("kind", frames.LAZY_KINDS)
def test_an_empty_lazy_table_is_refused(kind):
    table = pa.Table.from_pandas(_frame().iloc[:0], preserve_index=False)
    with pytest.raises(rc.EmptyTableError):
        backend(_kinds(table)[kind](), func="t").size_histogram(
            tuple(QI), missing="category", func="t"
        )


def _arrow_or_none(df: pd.DataFrame) -> pa.Table | None:
    try:
        return pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError):
        return None


#: Measures that take any quasi-identifiers of any table (no sensitive or weight column).
_ANY_TABLE = (
    "class_sizes",
    "size_histogram",
    "k_anonymity",
    "uniqueness",
    "small_count_exposure",
    "risk_summary",
    "attacker_risk",
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_property_every_kind_gives_the_pandas_figures(data):
    df = data.draw(frame_strategy(max_rows=40, max_cols=4))
    qi = data.draw(quasi_identifiers(df))
    table = _arrow_or_none(df)
    if table is None:  # pandas objects Arrow cannot hold (mixed types): not a table of these kinds
        return
    kinds = _kinds(table)
    name = data.draw(st.sampled_from(_ANY_TABLE))
    kind = data.draw(st.sampled_from(KINDS))
    try:
        obj = kinds[kind]()
    except Exception:
        return
    _same(MEASURES[name](df, qi), MEASURES[name](obj, qi))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_property_pushed_down_counts_equal_the_encoder(data):
    df = data.draw(frame_strategy(max_rows=40, max_cols=4))
    table = _arrow_or_none(df)
    if table is None:
        return
    kind = data.draw(st.sampled_from(frames.LAZY_KINDS))
    try:
        obj = _kinds(table)[kind]()
    except Exception:
        return
    b = backend(obj, func="test")
    cols = tuple(df.columns)
    enc = rc.encode(df)
    assert b.missing_counts(cols).tolist() == [enc[c].n_missing for c in cols]
    for subset, hist in b.lattice_histograms(cols, 3, missing="category", func="t"):
        ref = enc.partition([cols[i] for i in subset]).size_histogram
        assert (hist.sizes.tolist(), hist.counts.tolist()) == (
            ref.sizes.tolist(),
            ref.counts.tolist(),
        ), subset
    # weighted class sizes and summed cells, pushed down, against the partition in memory
    n = len(df)
    w = np.asarray(
        data.draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 7.25]), min_size=n, max_size=n))
    )
    c = np.asarray(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    extra = table.append_column("__w", pa.array(w)).append_column("__n", pa.array(c))
    b = backend(_kinds(extra)[kind](), func="test")
    part = enc.partition(cols)
    thresholds = [0.5, 1.0, 3.0, 10.0]
    _, below = b.weighted_below(cols, "__w", thresholds, missing="category", func="t")
    Fk = part.weighted_sizes(w)
    assert below.tolist() == [int(part.class_sizes[Fk < t].sum()) for t in thresholds]
    cells = b.summed_histogram(cols, "__n", missing="category", func="t")
    sums = np.bincount(part.class_id, weights=c, minlength=part.n_classes).astype(np.int64)
    ref = rc.SizeHistogram.from_class_sizes(sums)
    assert (cells.sizes.tolist(), cells.counts.tolist()) == (
        ref.sizes.tolist(),
        ref.counts.tolist(),
    )


#: Measures that read counts only: on a lazy table nothing is encoded, the engine counts.
_COUNTS_ONLY = (
    "size_histogram",
    "k_anonymity",
    "uniqueness",
    "small_count_exposure",
    "field_lattice",
)


@pytest.mark.parametrize("kind", frames.LAZY_KINDS)
@pytest.mark.parametrize("name", sorted(MEASURES))
def test_lazy_tables_push_counts_down_and_encode_at_most_once(name, kind, monkeypatch):
    calls = []
    real = lazy.encode_native

    def spy(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(lazy, "encode_native", spy)
    table = pa.Table.from_pandas(_frame(), preserve_index=False)
    MEASURES[name](_kinds(table)[kind](), QI)
    assert len(calls) == (0 if name in _COUNTS_ONLY else 1), calls


@pytest.mark.parametrize("kind", KINDS)
def test_a_population_of_any_kind(kind):
    df = _frame()
    pop = pd.concat([df, df, df.iloc[:20]], ignore_index=True)
    expected = rc.attacker_risk(df, QI, population=pop)
    population = _kinds(pa.Table.from_pandas(pop, preserve_index=False))[kind]()
    assert repr(rc.attacker_risk(df, QI, population=population)) == repr(expected)
    with pytest.raises(
        rc.InvalidParameterError,
        match=r"^The 'population' parameter of attacker_risk must be a "
        r"table: .* Got dict instead\.$",
    ):
        rc.attacker_risk(df, QI, population={"sex": ["F"]})


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_table_of_any_kind_is_named(kind):
    table = pa.Table.from_pandas(_frame().iloc[:0], preserve_index=False)
    for measure in (rc.uniqueness, rc.class_sizes):
        obj = _kinds(table)[kind]()
        with pytest.raises(rc.EmptyTableError, match="has no records; nothing to measure"):
            measure(obj, QI)
        if kind != "arrow-table":
            with pytest.raises(rc.EmptyTableError) as info:
                measure(_kinds(table)[kind](), QI)
            assert "pyarrow.Table" not in str(info.value)


@pytest.mark.parametrize("cls", [LazyBackend, FrameBackend])
def test_each_backend_of_this_module_answers_every_question(cls):
    """Every question of the engine's protocol, with its keyword parameters."""
    import inspect

    from riskcalc._core import backend as engine

    questions = [
        n
        for n, m in vars(engine.Backend).items()
        if not n.startswith("_") and (callable(m) or isinstance(m, property))
    ]
    assert cls.is_backend is True
    for q in questions:
        assert hasattr(cls, q), f"{cls.__name__} does not answer {q}"
        member = getattr(engine.Backend, q)
        if callable(member):
            have = inspect.signature(getattr(cls, q)).parameters
            for p in inspect.signature(member).parameters.values():
                if p.name != "self" and p.kind is not p.VAR_KEYWORD:
                    assert p.name in have or any(h.kind is h.VAR_KEYWORD for h in have.values()), (
                        q,
                        p.name,
                    )
    table = pa.Table.from_pandas(_frame(), preserve_index=False)
    obj = _kinds(table)["polars-lazy" if cls is LazyBackend else "polars"]()
    b = backend(obj, func="t")
    assert isinstance(b, cls) and isinstance(b, engine.Backend) and isinstance(b.kind, str)
    values = b.column_values(("sex", "year"), func="profile_columns")
    assert len(values) == 2
    with pytest.raises(rc.InvalidParameterError, match="cannot run on the polars"):
        raise b.replace_values("sex", pa.array(["F"]), pa.array(["f"]), func="normalise")


def test_narwhals_frames_are_read_as_the_native_frame_inside():
    nw = pytest.importorskip("narwhals")
    df = _frame()
    expected = repr(rc.uniqueness(df, QI))
    table = pa.Table.from_pandas(df, preserve_index=False)
    for native in (
        df,
        pl.from_arrow(table),
        pl.from_arrow(table).lazy(),
        duckdb.connect().from_arrow(table),
        table,
    ):
        wrapped = nw.from_native(native)
        assert repr(rc.uniqueness(wrapped, QI)) == expected, type(native)
        assert rc.encode(wrapped, QI).n_records == len(df)
    lazy = backend(nw.from_native(pl.from_arrow(table).lazy()), func="t")
    assert isinstance(lazy, LazyBackend)
