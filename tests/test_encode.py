"""The encoding core: codes, levels, missing codes, reuse, partition caching and key combination."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

import riskcalc as rc
from riskcalc._core.grouping import combine_codes, densify, group_codes


def test_codes_are_dense_with_missing_last():
    enc = rc.encode(pd.DataFrame({"a": ["x", None, "y", "x", None]}))
    col = enc["a"]
    assert col.n_levels == 3 and col.n_missing == 2 and col.missing_code == 2
    assert col.n_distinct == 2
    assert_array_equal(col.codes == col.missing_code, [False, True, False, False, True])
    assert col.codes.dtype == np.int8  # the narrowest type holding 3 levels


def test_categorical_codes_are_used_as_they_are():
    cat = pd.Categorical(["b", "a", None], categories=["a", "b", "c"])
    col = rc.encode(pd.DataFrame({"a": cat}))["a"]
    assert_array_equal(col.codes, [1, 0, 3])
    assert col.n_levels == 4


def test_arrow_dictionary_chunks_with_different_dictionaries():
    c1 = pa.array(["x", "y", "x"]).dictionary_encode()
    c2 = pa.array(["y", "z", None]).dictionary_encode()
    table = pa.table({"a": pa.chunked_array([c1, c2])})
    assert_array_equal(rc.class_sizes(table, ["a"]).fk, [2, 2, 2, 2, 1, 1])


def test_arrow_float_nan_and_null_are_both_missing():
    table = pa.table({"a": pa.array([1.0, float("nan"), None, 1.0])})
    col = rc.encode(table)["a"]
    assert col.n_missing == 2
    assert_array_equal(rc.class_sizes(table, ["a"]).fk, [2, 2, 2, 2])


def test_encode_subset_and_reuse():
    df = pd.DataFrame({"a": [1, 2, 1], "b": ["x", "x", "y"], "c": [0.5, 0.5, 0.5]})
    enc = rc.encode(df, ["a", "b"])
    assert enc.columns == ("a", "b") and len(enc) == 3
    assert rc.encode(enc, ["b"]).columns == ("b",)
    assert rc.encode(enc) is enc
    assert "EncodedTable(n_records=3" in repr(enc)


def test_partition_cache_returns_same_object():
    enc = rc.encode(pd.DataFrame({"a": [1, 2, 1], "b": ["x", "x", "y"]}))
    assert rc.partition(enc, ["a", "b"]) is rc.partition(enc, ["a", "b"])
    assert rc.partition(enc, ["a", "b"]) is not rc.partition(enc, ["b", "a"])


def test_partition_sizes_and_ids_agree_for_large_key_space():
    rng = np.random.default_rng(0)
    n = 20_000
    df = pd.DataFrame({"a": rng.integers(0, 10**9, n), "b": rng.integers(0, 10**9, n)})
    df.loc[::3, ["a", "b"]] = 7  # a big class
    p = rc.partition(df, ["a", "b"])
    assert p.key_space > 4 * n  # the sort / hash path
    sizes_first = p.class_sizes.copy()
    ids = p.class_id
    assert_array_equal(np.bincount(ids), sizes_first)
    q = rc.partition(rc.encode(df), ["a", "b"])
    _ = q.class_id  # ids first, then sizes
    assert_array_equal(q.class_sizes, sizes_first)


def test_overflowing_key_space_is_compressed():
    rng = np.random.default_rng(1)
    n = 1000
    codes = [rng.integers(0, 3, n).astype(np.int32) for _ in range(3)]
    levels = [2**40, 2**40, 3]  # the product overflows int64
    key, space = combine_codes(codes, levels)
    assert space < 2**62
    ids, sizes = group_codes(codes, levels)
    tuples = list(zip(*[c.tolist() for c in codes]))
    counts = {t: tuples.count(t) for t in set(tuples)}
    assert_array_equal(sizes[ids], [counts[t] for t in tuples])


@pytest.mark.parametrize("space", [10, 10**12])
def test_densify_ids_follow_key_order(space):
    key = np.array([9, 3, 9, 5, 3, 3], dtype=np.int64)
    ids, sizes = densify(key, space)
    assert_array_equal(ids, [2, 0, 2, 1, 0, 0])
    assert_array_equal(sizes, [3, 1, 2])


def test_bool_and_small_int_columns():
    df = pd.DataFrame({"b": [True, False, True], "u": np.array([250, 3, 250], dtype=np.uint8)})
    assert_array_equal(rc.class_sizes(df, ["b", "u"]).fk, [2, 1, 2])


def test_non_string_frame_labels():
    df = pd.DataFrame({0: ["a", "b", "a"], 1: [1, 1, 1]})
    assert_array_equal(rc.class_sizes(df, ["0", "1"]).fk, [2, 1, 2])


def test_fk_by_hash_buckets_equals_fk_by_class_ids():
    rng = np.random.default_rng(7)
    n = 30_000
    df = pd.DataFrame({"a": rng.integers(0, 10**9, n), "b": rng.integers(0, 3_000, n)})
    df.iloc[: n // 3] = df.iloc[: n // 3].assign(a=5, b=rng.integers(0, 40, n // 3))  # many repeats
    first = rc.partition(rc.encode(df), ["a", "b"])
    assert first.key_space > 4 * n
    fk_buckets = first.fk.copy()  # through the bucket split
    hist_buckets = first.size_histogram
    n_classes = first.n_classes
    second = rc.partition(rc.encode(df), ["a", "b"])
    _ = second.class_id  # class ids first: fk from them
    assert_array_equal(fk_buckets, second.fk)
    assert_array_equal(hist_buckets.sizes, second.size_histogram.sizes)
    assert_array_equal(hist_buckets.counts, second.size_histogram.counts)
    assert n_classes == second.n_classes == len(set(zip(df["a"], df["b"])))


def test_weighted_fk_by_buckets_equals_by_class_ids():
    rng = np.random.default_rng(8)
    n = 20_000
    df = pd.DataFrame({"a": rng.integers(0, 10**9, n), "b": rng.integers(0, 10**6, n)})
    df.iloc[:5000] = df.iloc[:5000].assign(a=1, b=rng.integers(0, 50, 5000))
    w = rng.uniform(1, 3, n)
    split = rc.partition(rc.encode(df), ["a", "b"])
    by_ids = rc.partition(rc.encode(df), ["a", "b"])
    _ = by_ids.class_id
    np.testing.assert_allclose(split.weighted_fk(w), by_ids.weighted_fk(w), rtol=1e-12)


@pytest.mark.parametrize(
    "n_levels, dtype",
    [(1, np.int8), (128, np.int8), (129, np.int16), (32768, np.int16), (32769, np.int32)],
)
def test_codes_take_the_narrowest_type_and_group_as_wide_codes(n_levels, dtype):
    """Codes are int8/int16/int32 by the number of levels (boundaries included), and class
    sizes on narrow codes equal those on the same codes as int64 (no wrap-around in mixing)."""
    rng = np.random.default_rng(n_levels)
    n = max(2 * n_levels, 300)
    a = np.concatenate([np.arange(n_levels), rng.integers(0, n_levels, n - n_levels)])
    b = rng.integers(0, 3, n)
    frame = pd.DataFrame({"a": a.astype(np.int64) * 7 + 10**12, "b": b})
    enc = rc.encode(frame)
    assert enc["a"].codes.dtype == dtype and enc["a"].n_levels == n_levels
    assert enc["b"].codes.dtype == np.int8
    fk = rc.class_sizes(enc, ["a", "b"]).fk
    expected = frame.groupby(["a", "b"])["a"].transform("size").to_numpy()
    assert_array_equal(fk, expected)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(-2, 2),
            st.booleans(),
            st.sampled_from([0.0, 1.0, 2.0, 1.5]),
            st.sampled_from(["1", "0", "a"]),
            st.none(),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_an_object_column_mixing_types_never_merges_values_of_different_types(values):
    """Python's equality merges 1, 1.0 and True (0 and False): the encoder keeps a value of one
    type apart from an equal one of another, so mixed spellings are never counted as one person
    (the risk would be understated). The reference: one class per (type, value), missing apart."""
    import riskcalc as rc

    df = pd.DataFrame({"x": pd.Series(values, dtype=object)})
    key = [("missing",) if v is None else (type(v).__name__, v) for v in values]
    expected = [key.count(k) for k in key]
    assert rc.class_sizes(df, ["x"]).fk.tolist() == expected


def test_equal_values_of_different_types_stay_themselves_and_normalise():
    """The encoder keeps 0, 0.0 and False apart and labels them with the values themselves (equal
    labels: a pandas Categorical refuses them, so normalise gives such a column as objects)."""
    import riskcalc as rc

    df = pd.DataFrame({"x": pd.Series([0, 0.0, False, 0, None], dtype=object)})
    col = rc.encode(df, ["x"])["x"]
    assert [(type(v).__name__, v) for v in col.categories] == [
        ("int", 0),
        ("float", 0.0),
        ("bool", False),
    ]
    fixed, _ = rc.normalise(df, ["x"])
    assert [(type(v).__name__, v) for v in fixed["x"]] == [
        ("int", 0),
        ("float", 0.0),
        ("bool", False),
        ("int", 0),
        ("NoneType", None),
    ]
