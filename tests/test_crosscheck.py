"""Every fast path equals the slow reference (``tests/_reference.py``).

Each hypothesis example is checked in every input form: the DataFrame itself, the same data as a
pyarrow Table, and both encoded once with :func:`riskcalc.encode`. Files (Parquet, Feather, CSV)
are checked on fewer examples, since they touch the disk.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import _reference as ref
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
import strategies as S
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import riskcalc as rc

FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FORMS = ("frame", "arrow", "encoded", "encoded_arrow")
RTOL = 1e-12


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


def as_input(frame: pd.DataFrame, form: str, *, weights: str | None = None):
    """The same data in one of the input forms riskcalc accepts."""
    if form == "frame":
        return frame
    if form == "arrow":
        return to_arrow(frame)
    if form == "encoded":
        return rc.encode(frame, weights=weights)
    if form == "encoded_arrow":
        return rc.encode(to_arrow(frame), weights=weights)
    raise AssertionError(form)


def expected_index(frame: pd.DataFrame, form: str) -> pd.Index:
    return frame.index if form in ("frame", "encoded") else pd.RangeIndex(len(frame))


# --------------------------------------------------------------------------------------------
# Class sizes and partitions
# --------------------------------------------------------------------------------------------


@FAST
@given(S.frames_and_qi(index=True))
def test_class_sizes_fk_matches_reference(case):
    frame, qi = case
    fk = ref.fk(frame, qi)
    for form in FORMS:
        res = rc.class_sizes(as_input(frame, form), qi)
        assert_array_equal(res.fk, fk, err_msg=form)
        assert res.n_classes == ref.n_classes(frame, qi), form
        assert res.n_records == len(frame), form
        assert res.Fk is None and res.weight_total is None
        assert res.missing == "category"
        table = res.to_frame()
        assert list(table.columns) == ["fk"]
        assert table.index.equals(expected_index(frame, form)), form
        assert_array_equal(table["fk"].to_numpy(), fk)


@FAST
@given(S.frames_with_weights(index=True))
def test_class_sizes_Fk_matches_reference(case):
    frame, qi, w = case
    Fk = ref.Fk(frame, qi, w)
    fk = ref.fk(frame, qi)
    for form in FORMS:
        data = as_input(frame, form, weights="w")
        spellings = ("w", np.asarray(w), list(w)) if form == "frame" else ("w",)
        for weights in spellings:
            res = rc.class_sizes(data, qi, weights=weights)
            assert_array_equal(res.fk, fk, err_msg=form)
            assert_allclose(res.Fk, Fk, rtol=RTOL, atol=0, err_msg=form)
            assert_allclose(res.weight_total, np.sum(w), rtol=RTOL)
            assert_allclose(res.to_frame()["Fk"].to_numpy(), Fk, rtol=RTOL, atol=0)


@FAST
@given(S.frames_and_qi())
def test_partition_matches_reference(case):
    frame, qi = case
    keys = ref.keys(frame, qi)
    fk = ref.fk(frame, qi)
    for form in FORMS:
        part = rc.partition(as_input(frame, form), qi)
        assert part.columns == tuple(qi)
        assert part.missing == "category"
        assert part.n_records == len(frame)
        assert part.n_classes == ref.n_classes(frame, qi), form
        assert sorted(part.class_sizes.tolist()) == ref.class_size_multiset(frame, qi), form
        assert_array_equal(part.fk, fk, err_msg=form)
        ids = part.class_id.tolist()
        assert set(ids) == set(range(part.n_classes)), form
        # Same class id exactly when the keys are equal.
        first_id = {}
        for key, cid in zip(keys, ids):
            assert first_id.setdefault(key, cid) == cid, form
        assert len(set(first_id.values())) == len(first_id), form
        sizes, n_of_size = part.size_histogram.sizes, part.size_histogram.counts
        assert dict(zip(sizes.tolist(), n_of_size.tolist())) == dict(ref.histogram(frame, qi)), form


# --------------------------------------------------------------------------------------------
# k-anonymity, uniqueness, small counts
# --------------------------------------------------------------------------------------------


@FAST
@given(S.frames_with_weights(), S.thresholds)
def test_k_anonymity_matches_reference(case, thresholds):
    frame, qi, w = case
    ts = sorted(set(thresholds))
    k = ref.k(frame, qi)
    rb = [ref.records_below(frame, qi, t) for t in ts]
    cb = [ref.classes_below(frame, qi, t) for t in ts]
    rbw = [ref.records_below_weighted(frame, qi, w, t) for t in ts]
    for form in FORMS:
        data = as_input(frame, form, weights="w")
        res = rc.k_anonymity(data, qi, thresholds=thresholds)
        assert res.k == k, form
        assert res.thresholds == tuple(ts)
        assert res.n_classes == ref.n_classes(frame, qi)
        assert res.n_records == len(frame)
        assert res.records_below.tolist() == rb, form
        assert res.classes_below.tolist() == cb, form
        assert res.records_below_weighted is None
        assert res.is_k_anonymous(k) and not res.is_k_anonymous(k + 1)
        weighted = rc.k_anonymity(data, qi, thresholds=thresholds, weights="w")
        assert weighted.records_below_weighted.tolist() == rbw, form
        assert weighted.records_below.tolist() == rb, form


@FAST
@given(S.frames_and_qi())
def test_uniqueness_matches_reference(case):
    frame, qi = case
    for form in FORMS:
        res = rc.uniqueness(as_input(frame, form), qi)
        assert res.n_records == len(frame)
        assert res.n_classes == ref.n_classes(frame, qi), form
        assert res.n_unique == ref.n_unique(frame, qi), form
        assert res.n_pairs == ref.n_pairs(frame, qi), form
        assert_allclose(res.average_risk, ref.average_risk(frame, qi), rtol=RTOL, err_msg=form)
        assert_allclose(res.highest_risk, ref.highest_risk(frame, qi), rtol=RTOL, err_msg=form)


@FAST
@given(S.frames_and_qi(), S.thresholds)
def test_small_counts_microdata_match_reference(case, thresholds):
    frame, qi = case
    ts = sorted(set(thresholds))
    expected = [ref.small_cells(frame, qi, t) for t in ts]
    for form in FORMS:
        res = rc.small_count_exposure(as_input(frame, form), qi, thresholds=thresholds)
        assert not res.aggregated
        assert res.thresholds == tuple(ts)
        assert res.n_cells == ref.n_cells(frame, qi), form
        assert res.n_records == len(frame), form
        assert res.cells_at_most.tolist() == [c for c, _ in expected], form
        assert res.records_in_cells_at_most.tolist() == [r for _, r in expected], form


@FAST
@given(S.aggregate_tables(), S.thresholds)
def test_small_counts_aggregated_match_reference(case, thresholds):
    frame, qi, counts = case
    ts = sorted(set(thresholds))
    expected = [ref.small_cells(frame, qi, t, counts) for t in ts]
    for form in FORMS:
        data = as_input(frame, form, weights="count")
        spellings = ("count", np.asarray(counts, dtype=np.int64)) if form == "frame" else ("count",)
        for count in spellings:
            res = rc.small_count_exposure(data, qi, thresholds=thresholds, count=count)
            assert res.aggregated
            assert res.n_cells == ref.n_cells(frame, qi, counts), form
            assert res.n_records == ref.n_people(frame, qi, counts), form
            assert res.cells_at_most.tolist() == [c for c, _ in expected], form
            assert res.records_in_cells_at_most.tolist() == [r for _, r in expected], form


@FAST
@given(S.frames_with_weights(), S.thresholds, S.thresholds)
def test_risk_summary_matches_reference(case, k_thresholds, count_thresholds):
    frame, qi, w = case
    for form in ("frame", "encoded_arrow"):
        data = as_input(frame, form, weights="w")
        summary = rc.risk_summary(
            data, qi, weights="w", k_thresholds=k_thresholds, count_thresholds=count_thresholds
        )
        assert summary.n_records == len(frame)
        assert summary.uniqueness.n_unique == ref.n_unique(frame, qi)
        assert summary.uniqueness.n_pairs == ref.n_pairs(frame, qi)
        assert summary.k_anonymity.k == ref.k(frame, qi)
        assert_allclose(summary.class_sizes.Fk, ref.Fk(frame, qi, w), rtol=RTOL, atol=0)
        table = summary.to_frame()
        values = {
            (m, None if pd.isna(t) else int(t)): v
            for m, t, v in zip(table["measure"], table["threshold"], table["value"])
        }
        assert values[("n_records", None)] == len(frame)
        assert values[("n_classes", None)] == ref.n_classes(frame, qi)
        assert values[("k", None)] == ref.k(frame, qi)
        assert values[("n_unique", None)] == ref.n_unique(frame, qi)
        assert values[("n_pairs", None)] == ref.n_pairs(frame, qi)
        for t in set(k_thresholds):
            assert values[("records_below", t)] == ref.records_below(frame, qi, t)
            assert values[("classes_below", t)] == ref.classes_below(frame, qi, t)
            assert values[("records_below_weighted", t)] == ref.records_below_weighted(
                frame, qi, w, t
            )
        for t in set(count_thresholds):
            cells, records = ref.small_cells(frame, qi, t)
            assert values[("cells_at_most", t)] == cells
            assert values[("records_in_cells_at_most", t)] == records
        assert_allclose(values[("average_risk", None)], ref.average_risk(frame, qi), rtol=RTOL)
        assert_allclose(values[("highest_risk", None)], ref.highest_risk(frame, qi), rtol=RTOL)
        assert_allclose(values[("estimated_population", None)], np.sum(w), rtol=RTOL)


@FAST
@given(
    S.frames_and_qi(
        kinds=("category[wide]", "category[wide]", "category[wide]", "object", "Int64"),
        min_cols=2,
        max_rows=40,
    )
)
def test_large_key_spaces_match_reference(case):
    """Columns with 2**17 levels each: two of them leave the bincount path (the keys are sorted
    or hashed), four overflow the 2**62 mixed-radix key and force a compression."""
    frame, qi = case
    fk = ref.fk(frame, qi)
    for form in FORMS:
        data = as_input(frame, form)
        assert_array_equal(rc.class_sizes(data, qi).fk, fk, err_msg=form)
        part = rc.partition(data, qi)
        assert sorted(part.class_sizes.tolist()) == ref.class_size_multiset(frame, qi), form
        assert_array_equal(part.class_sizes[part.class_id], fk, err_msg=form)
        assert rc.k_anonymity(data, qi).k == ref.k(frame, qi), form
        u = rc.uniqueness(data, qi)
        assert (u.n_unique, u.n_pairs, u.n_classes) == (
            ref.n_unique(frame, qi),
            ref.n_pairs(frame, qi),
            ref.n_classes(frame, qi),
        ), form


# --------------------------------------------------------------------------------------------
# missing="raise"
# --------------------------------------------------------------------------------------------


def _measures(data, qi):
    """Every public measure of ``data`` on ``qi`` with ``missing="raise"``, as thunks."""
    return {
        "partition": lambda: rc.partition(data, qi, missing="raise"),
        "class_sizes": lambda: rc.class_sizes(data, qi, missing="raise"),
        "k_anonymity": lambda: rc.k_anonymity(data, qi, missing="raise"),
        "uniqueness": lambda: rc.uniqueness(data, qi, missing="raise"),
        "small_count_exposure": lambda: rc.small_count_exposure(data, qi, missing="raise"),
        "risk_summary": lambda: rc.risk_summary(data, qi, missing="raise"),
    }


@FAST
@given(S.frames_and_qi(missing_rate=st.sampled_from([0.0, 0.0, 0.05, 0.2])))
def test_missing_raise_raises_exactly_when_a_chosen_column_has_a_missing_value(case):
    frame, qi = case
    has_missing = ref.has_missing(frame, qi)
    for form in FORMS:
        data = as_input(frame, form)
        for name, run in _measures(data, qi).items():
            if has_missing:
                with pytest.raises(rc.MissingValueError):
                    run()
            else:
                result = run()
                if name in ("class_sizes", "k_anonymity", "uniqueness", "small_count_exposure"):
                    assert result.missing == "raise"
        # The same data still works with missing="category" after a failed "raise" query.
        assert_array_equal(rc.class_sizes(data, qi).fk, ref.fk(frame, qi), err_msg=form)


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


@FEW
@given(
    S.frames_and_qi(
        kinds=tuple(k for k in S.ALL_KINDS if k not in ("category[int]", "arrow[dictionary]"))
    )
)
def test_parquet_and_feather_files_match_reference(case):
    frame, qi = case
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".parquet", ".feather"):
            path = Path(tmp) / f"extract{suffix}"
            if suffix == ".parquet":
                frame.to_parquet(path, index=False)
                back = pd.read_parquet(path)
            else:
                frame.reset_index(drop=True).to_feather(path)
                back = pd.read_feather(path)
            fk = ref.fk(back, qi)
            # The file holds the same classes as the frame it was written from.
            assert fk == ref.fk(frame, qi)
            for data in (path, str(path), rc.encode(path)):
                assert_array_equal(rc.class_sizes(data, qi).fk, fk, err_msg=suffix)
                u = rc.uniqueness(data, qi)
                assert u.n_unique == ref.n_unique(back, qi)
                assert rc.k_anonymity(data, qi).k == ref.k(back, qi)
                sc = rc.small_count_exposure(data, qi, thresholds=[1, 3])
                assert sc.records_in_cells_at_most.tolist() == [
                    ref.small_cells(back, qi, 1)[1],
                    ref.small_cells(back, qi, 3)[1],
                ]


@FEW
@given(S.frames_and_qi(kinds=S.TEXT_KINDS, pool=S.CSV_TEXT), st.sampled_from([",", ";", "\t"]))
def test_csv_files_of_text_match_reference(case, sep):
    """Text without null markers or numbers survives a CSV round trip: same classes."""
    frame, qi = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("extract.tsv" if sep == "\t" else "extract.csv")
        frame.to_csv(path, index=False, sep=sep)
        fk = ref.fk(frame, qi)
        for data in (path, rc.encode(path), rc.encode(path, sep=sep)):
            assert_array_equal(rc.class_sizes(data, qi).fk, fk)
            assert rc.uniqueness(data, qi).n_classes == ref.n_classes(frame, qi)
            if ref.has_missing(frame, qi):
                with pytest.raises(rc.MissingValueError):
                    rc.k_anonymity(data, qi, missing="raise")


@FEW
@given(
    S.frames_and_qi(
        kinds=("int64", "Int64", "float64", "bool", "boolean", "object", "datetime64[ns]")
    )
)
def test_csv_files_match_reference_on_the_data_read_back(case):
    """CSV columns are labels: the classes are those of the text as written (read back as
    strings, null markers as missing), never of numbers inferred from it ("01" and "1", or
    big ints through float64, stay distinct)."""
    frame, qi = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "extract.csv"
        frame.to_csv(path, index=False)
        # every column as text, Arrow's null markers missing (pandas' dtype_backend needs 2.0)
        as_text = pacsv.ConvertOptions(
            column_types=dict.fromkeys(frame.columns, pa.string()), strings_can_be_null=True
        )
        back = pacsv.read_csv(path, convert_options=as_text).to_pandas()
        assert_array_equal(rc.class_sizes(path, qi).fk, ref.fk(back, qi))


def test_fixed_files(tmp_path):
    frame = pd.DataFrame(
        {
            "school": ["A", "A", "A", "B", "B", None, None, "C"],
            "sex": ["F", "F", "M", "F", "F", "M", "M", None],
            "year": [7, 7, 7, 8, 8, 9, 9, 9],
        }
    )
    qi = ["school", "sex", "year"]
    fk = [2, 2, 1, 2, 2, 2, 2, 1]
    assert ref.fk(frame, qi) == fk
    frame.to_parquet(tmp_path / "x.parquet", index=False)
    frame.to_csv(tmp_path / "x.csv", index=False)
    frame.to_csv(tmp_path / "x.tsv", index=False, sep="\t")
    frame.to_csv(tmp_path / "x.csv.gz", index=False, compression="gzip")
    frame.to_feather(tmp_path / "x.feather")
    for name in ("x.parquet", "x.csv", "x.tsv", "x.csv.gz", "x.feather"):
        path = tmp_path / name
        assert rc.class_sizes(path, qi).fk.tolist() == fk, name
        assert rc.k_anonymity(path, qi, thresholds=[2, 3]).records_below.tolist() == [2, 8], name
        u = rc.uniqueness(path, qi)
        assert (u.n_unique, u.n_pairs, u.n_classes) == (2, 6, 5), name
        sc = rc.small_count_exposure(path, ["school"], thresholds=[1, 2])
        assert sc.cells_at_most.tolist() == [1, 3], name
        assert sc.records_in_cells_at_most.tolist() == [1, 5], name
        with pytest.raises(rc.MissingValueError):
            rc.uniqueness(path, qi, missing="raise")
        assert rc.uniqueness(path, ["year"], missing="raise").n_classes == 3


# --------------------------------------------------------------------------------------------
# Known bugs (kept failing on purpose until riskcalc is fixed; see strategies.py)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype, values",
    [
        ("int8", [-100, 100, 100]),
        ("int8", [-128, 127]),
        ("int16", [-30000, 30000, 30000]),
        ("uint64", [2**63, 2**63, 2**64 - 1]),
        ("uint64", [2**64 - 1]),
    ],
)
def test_narrow_ints_spanning_more_than_the_dtype_max(dtype, values):
    """Regression (fixed): ``_encode_small_ints`` computes ``values - min`` in the column's own dtype, which
    wraps for int8/int16 when ``max - min`` exceeds the dtype's max; ``np.bincount`` then fails
    with "'list' argument must have no negative elements". For uint64 columns whose minimum is
    at least 2**63, ``np.flatnonzero(present) + lo`` raises ``OverflowError``."""
    frame = pd.DataFrame({"a": np.array(values, dtype=dtype)})
    assert rc.class_sizes(frame, ["a"]).fk.tolist() == ref.fk(frame, ["a"])


REGRESSIONS = settings(max_examples=60, deadline=None)


@REGRESSIONS
@given(
    S.frames_and_qi(
        kinds=("int8", "int16", "uint8", "int32", "int64", "uint64"),
        int_extremes=True,
        max_rows=10,
        max_cols=3,
    )
)
def test_numpy_ints_over_their_full_range_match_reference(case):
    frame, qi = case
    for form in FORMS:
        assert_array_equal(
            rc.class_sizes(as_input(frame, form), qi).fk, ref.fk(frame, qi), err_msg=form
        )


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("dtype", ["float64", "float32", "double[pyarrow]", "object"])
def test_signed_zero_equals_zero_in_every_input_form(form, dtype):
    """``-0.0 == 0.0``: the pandas path (hash factorisation) puts them in one class, but
    Arrow's ``dictionary_encode`` compares bit patterns and makes two classes."""
    frame = pd.DataFrame({"a": pd.Series([0.0, -0.0, 1.0], dtype=dtype)})
    assert rc.class_sizes(as_input(frame, form), ["a"]).fk.tolist() == [2, 2, 1]


@REGRESSIONS
@given(
    S.frames_and_qi(
        kinds=("float64", "float32", "arrow[float64]", "object"),
        signed_zero=True,
        max_rows=10,
        max_cols=3,
        pool=[0.0, -0.0, 1.0],
    )
)
def test_floats_with_signed_zero_match_reference(case):
    frame, qi = case
    for form in FORMS:
        assert_array_equal(
            rc.class_sizes(as_input(frame, form), qi).fk, ref.fk(frame, qi), err_msg=form
        )


@pytest.mark.parametrize("form", FORMS)
def test_categorical_with_int32_codes_and_a_missing_value(form):
    """Regression (fixed): with more than 32767 categories pandas stores int32 codes; ``_finish`` then skips
    the copy (``astype(int32, copy=False)``) and writes the missing code into pandas' own,
    read-only codes array: ``ValueError: assignment destination is read-only`` (with a writable
    array it would silently change the caller's categorical)."""
    frame = pd.DataFrame({"a": pd.Categorical([1, None, 1, None, 2], categories=range(40_000))})
    before = frame["a"].cat.codes.tolist()
    assert rc.class_sizes(as_input(frame, form), ["a"]).fk.tolist() == [2, 2, 2, 2, 1]
    assert frame["a"].cat.codes.tolist() == before


@REGRESSIONS
@given(
    S.frames_and_qi(
        kinds=("category[wide]", "category", "Int64"), wide_missing=True, max_rows=10, max_cols=3
    )
)
def test_wide_categoricals_with_missing_values_match_reference(case):
    frame, qi = case
    for form in FORMS:
        assert_array_equal(
            rc.class_sizes(as_input(frame, form), qi).fk, ref.fk(frame, qi), err_msg=form
        )


@pytest.mark.parametrize("encoded", [False, True])
def test_arrow_dictionary_with_repeated_values(encoded):
    """Regression (fixed): an Arrow dictionary may list a value twice (the format allows it; e.g. dictionaries
    built by hand or by other writers). Records pointing at either copy hold the same value, but
    riskcalc uses the dictionary indices as codes and puts them in different classes."""
    column = pa.DictionaryArray.from_arrays(
        pa.array([0, 1, 0, 2], pa.int32()), pa.array(["a", "a", "b"])
    )
    table = pa.table({"a": column})
    decoded = pd.DataFrame({"a": column.cast(pa.string()).to_pylist()})
    assert ref.fk(decoded, ["a"]) == [3, 3, 3, 1]
    data = rc.encode(table) if encoded else table
    assert rc.class_sizes(data, ["a"]).fk.tolist() == [3, 3, 3, 1]


@FEW
@given(
    S.frames_and_qi(kinds=S.TEXT_KINDS + ("category[int]", "Int64", "float64"), max_rows=30),
    st.integers(10, 40),
    st.integers(1, 5),
)
def test_parquet_with_many_row_groups_matches_reference(case, repeat, groups):
    """Parquet text columns with small dictionaries are read as Arrow dictionaries, one per row
    group; the row groups' dictionaries are merged. Repeating the rows keeps the dictionaries
    small; the class sizes are the frame's times ``repeat``."""
    frame, qi = case
    big = pd.concat([frame] * repeat, ignore_index=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "extract.parquet"
        rows = max(len(big) // groups, 1)
        import pyarrow.parquet as pq

        pq.write_table(to_arrow(big), path, row_group_size=rows)
        fk = ref.fk(big, qi)
        assert fk == [f * repeat for f in ref.fk(frame, qi)] * repeat
        assert pq.ParquetFile(path).metadata.num_row_groups >= min(groups, len(big))
        for data in (path, rc.encode(path)):
            assert_array_equal(rc.class_sizes(data, qi).fk, fk)
            assert rc.k_anonymity(data, qi).k == ref.k(big, qi)


def test_parquet_text_column_entirely_missing_in_several_row_groups(tmp_path):
    """Regression (fixed): a Parquet text column that is all null, written in two row groups, is read as an
    Arrow dictionary column whose chunks have empty dictionaries; ``_merge_dictionaries`` then
    indexes an empty array: ``IndexError: index 0 is out of bounds for axis 0 with size 0``."""
    import pyarrow.parquet as pq

    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"a": pa.array([None] * 120, pa.string())}), path, row_group_size=60)
    assert rc.class_sizes(path, ["a"]).fk.tolist() == [120] * 120


def test_arrow_chunks_with_empty_dictionaries():
    """Regression (fixed; same code path, in memory): a dictionary column of two all-null chunks."""
    chunk = pa.array([None, None], pa.string()).dictionary_encode()
    table = pa.table(
        {"a": pa.chunked_array([chunk, pa.array([None, None], pa.string()).dictionary_encode()])}
    )
    assert rc.class_sizes(table, ["a"]).fk.tolist() == [4, 4, 4, 4]


def test_arrow_chunks_with_different_dictionaries():
    chunks = [
        pa.array(v, pa.string()).dictionary_encode()
        for v in (["x", None, "y"], [None, "y", "z", "x"])
    ]
    table = pa.table({"a": pa.chunked_array(chunks)})
    frame = table.to_pandas()
    assert rc.class_sizes(table, ["a"]).fk.tolist() == ref.fk(frame, ["a"]) == [2, 2, 2, 2, 2, 1, 2]


@pytest.mark.parametrize(
    "call",
    [
        lambda df: rc.class_sizes(df, ["a", "n"], weights="n"),
        lambda df: rc.k_anonymity(df, ["a", "n"], weights="n"),
        lambda df: rc.small_count_exposure(df, ["a", "n"], count="n"),
    ],
    ids=["class_sizes", "k_anonymity", "small_count_exposure"],
)
def test_weight_column_that_is_also_a_quasi_identifier(call):
    """Regression (fixed): when the weights/count column is also one of the quasi-identifiers, ``encode`` keeps
    it only as weights (``names = [c for c in wanted if c != weights ...]``) and the partition
    then fails with a bare ``KeyError: 'n'``. Either answer (the reference below) or raise a
    riskcalc error naming the problem."""
    df = pd.DataFrame({"a": ["x", "y", "y"], "n": [1, 2, 2]})
    try:
        result = call(df)
    except rc.RiskCalcError:
        return
    if hasattr(result, "fk"):
        assert result.fk.tolist() == ref.fk(df, ["a", "n"])


def test_partition_class_numbering_is_a_labelling():
    """``Partition``'s documented contract: class numbers are labels. ``class_sizes[class_id]`` is
    every record's fk, and the multiset of sizes does not depend on row order (the numbering may:
    rows x, y, y and y, y, x number their classes differently)."""
    frame = pd.DataFrame({"a": ["x", "y", "y"]})
    forward = rc.partition(frame, ["a"])
    backward = rc.partition(frame.iloc[::-1], ["a"])
    assert sorted(forward.class_sizes.tolist()) == sorted(backward.class_sizes.tolist()) == [1, 2]
    assert forward.class_sizes[forward.class_id].tolist() == ref.fk(frame, ["a"])
    assert backward.class_sizes[backward.class_id].tolist() == ref.fk(frame.iloc[::-1], ["a"])
