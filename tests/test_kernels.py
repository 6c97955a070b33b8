"""The compiled kernels (numba) against their numpy twins and against an obvious reference.

Every kernel of ``riskcalc._core.kernels`` must give *identical* arrays on both paths (the
numbering of classes is canonical, see ``kernels.group``), and both must agree with a reference
built from ``np.unique``. The lattice walk, partitions and the encoding of dates are compared
across paths too.
"""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

import riskcalc as rc
from riskcalc._core import kernels
from riskcalc._core.grouping import combine_codes, densify, densify_fast
from riskcalc._core.lattice import walk
from riskcalc.exceptions import InvalidParameterError

pytest.importorskip("numba")

INT64_MAX = np.iinfo(np.int64).max


def run_with(backend, fn, *args, **kwargs):
    old = kernels.set_backend(backend)
    try:
        return fn(*args, **kwargs)
    finally:
        kernels.set_backend(old)


def reference_groups(key):
    """fk per record and the sorted multiset of class sizes, by ``np.unique``."""
    if key.shape[0] == 0:
        return np.zeros(0, np.int64), []
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return counts[inverse], sorted(counts.tolist())


def check_labelling(key, ids, sizes):
    """``ids`` is a labelling of ``key``: same id exactly when same key; sizes are the counts."""
    fk, multiset = reference_groups(key)
    assert ids.shape == key.shape
    assert sizes.dtype == np.int64
    if key.shape[0] == 0:
        assert sizes.shape[0] == 0
        return
    assert set(np.unique(ids).tolist()) == set(range(sizes.shape[0]))
    assert_array_equal(sizes[ids], fk)
    assert sorted(sizes.tolist()) == multiset
    # one id per key: the (key, id) pairs are as many as the keys
    assert len(set(zip(key.tolist(), ids.tolist()))) == len(set(key.tolist()))


@st.composite
def keys_and_space(draw):
    n = draw(st.integers(0, 400))
    kind = draw(st.sampled_from(["small", "wide", "extreme", "equal", "distinct"]))
    if kind == "small":
        space = draw(st.integers(1, 50))
        key = draw(st.lists(st.integers(0, space - 1), min_size=n, max_size=n))
    elif kind == "wide":
        space = draw(st.integers(10**6, 10**15))
        pool = draw(st.lists(st.integers(0, space - 1), min_size=1, max_size=20))
        key = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    elif kind == "extreme":
        space = INT64_MAX
        pool = [0, 1, INT64_MAX - 1, INT64_MAX - 2, 2**62, 2**31, 2**32 - 1]
        key = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    elif kind == "equal":
        space = draw(st.sampled_from([1, 7, 10**12]))
        key = [space - 1] * n
    else:
        space = draw(st.sampled_from([max(n, 1), 10**12]))
        key = draw(st.lists(st.integers(0, space - 1), min_size=n, max_size=n, unique=True))
    return np.asarray(key, dtype=np.int64).reshape(-1), int(space)


@settings(max_examples=150, deadline=None)
@given(keys_and_space())
def test_group_compiled_equals_numpy_and_reference(case):
    key, space = case
    ids_np, sizes_np = run_with("numpy", kernels.group, key, space)
    ids_nb, sizes_nb = run_with("numba", kernels.group, key, space)
    ids_1, sizes_1 = run_with("numba", kernels.group, key, space, threads=False)
    check_labelling(key, ids_np, sizes_np)
    assert_array_equal(ids_nb, ids_np)
    assert_array_equal(sizes_nb, sizes_np)
    assert_array_equal(ids_1, ids_np)
    assert_array_equal(sizes_1, sizes_np)


def _large_cases():
    rng = np.random.default_rng(3)
    n = 60_000  # several hash partitions
    yield "all distinct", rng.permutation(n).astype(np.int64) * 1_000_003, 10**12
    yield "all equal", np.full(n, 123_456_789_012, np.int64), 10**12
    repeats = rng.integers(0, 10**14, n)
    repeats[::3] = 5  # one big class among mostly unique keys
    repeats[1::7] = repeats[2::7][: repeats[1::7].shape[0]]  # many pairs
    yield "mixed", repeats, 10**14
    yield "extremes", rng.choice(np.array([0, INT64_MAX - 1, 2**62, 17], np.int64), n), INT64_MAX
    yield "small space", rng.integers(0, 1000, n), 1000
    yield "bincount edge", rng.integers(0, 4 * n, n), 4 * n


@pytest.mark.parametrize("name,key,space", list(_large_cases()), ids=[c[0] for c in _large_cases()])
def test_group_large_inputs(name, key, space):
    ids_np, sizes_np = run_with("numpy", kernels.group, key, space)
    check_labelling(key, ids_np, sizes_np)
    for threads in (True, False):
        ids, sizes = run_with("numba", kernels.group, key, space, threads=threads)
        assert_array_equal(ids, ids_np, err_msg=name)
        assert_array_equal(sizes, sizes_np, err_msg=name)


def _one_partition_keys(n, space, seed):
    """``n`` keys (about a third of them repeats) that all hash to partition 0."""
    rng = np.random.default_rng(seed)
    pb = kernels._partition_bits(n, space)
    pool = rng.integers(0, space, 8 * n << pb)
    part = (pool.astype(np.uint64) * np.uint64(kernels._GOLDEN)) >> np.uint64(64 - pb)
    pool = pool[part == 0][: (2 * n) // 3]
    return np.concatenate([pool, rng.choice(pool, n - pool.shape[0])]), pb


@pytest.mark.parametrize("table_bits", [4, 7])
def test_group_hash_tables_that_must_grow(monkeypatch, table_bits):
    """Tables start at most ``2**table_bits`` slots and grow (rehash) when the distinct keys of
    a partition fill them: the numbering is unchanged, on one thread and on several, also when
    every record falls in one partition (one thread gets all the work)."""
    rng = np.random.default_rng(8)
    n = 60_000
    skewed, pb = _one_partition_keys(n, 10**15, 8)
    assert pb > 0 and skewed.shape[0] == n
    cases = [
        rng.integers(0, 10**15, n),
        rng.integers(0, 10**15, 3000)[rng.integers(0, 3000, n)],
        skewed,
    ]
    for key in cases:
        ids_np, sizes_np = run_with("numpy", kernels.group, key, 10**15)
        check_labelling(key, ids_np, sizes_np)
        monkeypatch.setattr(kernels, "_TABLE_BITS", table_bits)
        for threads in (True, False):
            ids, sizes = run_with("numba", kernels.group, key, 10**15, threads=threads)
            assert_array_equal(ids, ids_np)
            assert_array_equal(sizes, sizes_np)
        monkeypatch.setattr(kernels, "_TABLE_BITS", 18)
        # the variant compiled callers (the lattice's refine) use, temporaries allocated inside
        mod = kernels._load()
        ids = np.empty(n, np.int32)
        sizes = mod.group_hash_serial(key, kernels._partition_bits(n, 10**15), ids, table_bits)
        assert_array_equal(ids, ids_np)
        assert_array_equal(sizes, sizes_np)


def test_group_hash_partition_layout_in_place():
    """After the first half of the kernel, ``pkey`` holds each record's local id (low 32 bits,
    first appearance within its partition) and each local class's size (high 32 bits of the
    partition's first ``m`` slots), as the reference by ``pd.factorize`` gives them; the second
    half then numbers as the numpy path does, for 1, 2 or 3 chunks."""
    rng = np.random.default_rng(12)
    n = 70_000
    key = rng.integers(0, 10**6, n) * 1_000_003
    pb = kernels._partition_bits(n, 10**15)
    mod = kernels._load()
    expected = run_with("numpy", kernels.group, key, 10**15)
    for chunks in (1, 2, 3):
        pkey = np.empty(n, np.int64)
        if chunks == 1:
            starts, cursor, m = mod.hash_group_serial(key, pb, pkey, 18)
        else:
            starts, cursor, m = mod.hash_group(key, pb, chunks, pkey, 18)
        part = ((key.astype(np.uint64) * np.uint64(kernels._GOLDEN)) >> np.uint64(64 - pb)).astype(
            np.int64
        )
        for p in range(1 << pb):
            local, uniques = pd.factorize(key[part == p], sort=False)
            a, b = starts[p], starts[p + 1]
            assert b - a == local.shape[0] and m[p] == uniques.shape[0]
            assert_array_equal(pkey[a:b] & 0xFFFFFFFF, local)
            assert_array_equal(pkey[a : a + m[p]] >> 32, np.bincount(local))
        assert cursor.shape == (chunks, 1 << pb)
        assert_array_equal(cursor[0], starts[:-1])
        # the second half gives the canonical numbering whatever the number of chunks
        ids = np.empty(n, np.int32)
        sizes = np.empty(int(m.sum()), np.int64)
        if chunks == 1:
            mod.hash_ids_serial(key, pb, pkey, starts, cursor, m, ids, sizes)
        else:
            mod.hash_ids(key, pb, pkey, starts, cursor, m, ids, sizes)
        assert_array_equal(ids, expected[0])
        assert_array_equal(sizes, expected[1])


def test_group_n0_and_n1():
    for backend in ("numpy", "numba"):
        ids, sizes = run_with(backend, kernels.group, np.zeros(0, np.int64), 10)
        assert ids.shape == (0,) and sizes.shape == (0,)
        ids, sizes = run_with(backend, kernels.group, np.array([INT64_MAX - 1]), INT64_MAX)
        assert ids.tolist() == [0] and sizes.tolist() == [1]


def test_hash_numbering_is_partition_then_first_appearance():
    rng = np.random.default_rng(11)
    key = rng.integers(0, 10**15, 40_000)
    key = np.concatenate([key, key[::-1][:1000]])
    space = 10**15
    ids, sizes = run_with("numba", kernels.group, key, space)
    pb = kernels._partition_bits(key.shape[0], space)
    part = (key.astype(np.uint64) * np.uint64(kernels._GOLDEN)) >> np.uint64(64 - pb)
    first = pd.unique(key)  # distinct keys in order of first appearance
    first_part = (first.astype(np.uint64) * np.uint64(kernels._GOLDEN)) >> np.uint64(64 - pb)
    expected = np.empty(first.shape[0], np.int64)
    expected[np.argsort(first_part, kind="stable")] = np.arange(first.shape[0])
    lookup = dict(zip(first.tolist(), expected.tolist()))
    assert_array_equal(ids, [lookup[k] for k in key.tolist()])
    assert part.shape == key.shape


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 300),
    st.integers(1, 1000),
    st.integers(0, 2**20),
    st.randoms(use_true_random=False),
)
def test_mix_compiled_equals_numpy(n, levels, top, rnd):
    key = np.array([rnd.randint(0, top) for _ in range(n)], dtype=np.int64)
    codes = np.array([rnd.randint(0, levels - 1) for _ in range(n)], dtype=np.int32)
    expected = key * levels + codes
    a = run_with("numpy", kernels.mix, key.copy(), codes, levels)
    b = run_with("numba", kernels.mix, key.copy(), codes, levels)
    assert_array_equal(a, expected)
    assert_array_equal(b, expected)


def test_combine_codes_overflow_both_paths():
    rng = np.random.default_rng(1)
    n = 5000
    codes = [rng.integers(0, 3, n).astype(np.int32) for _ in range(4)]
    levels = [2**40, 2**40, 3, 2**30]
    outs = [run_with(b, combine_codes, codes, levels) for b in ("numpy", "numba")]
    assert outs[0][1] == outs[1][1] < 2**62
    assert_array_equal(outs[0][0], outs[1][0])
    tuples = list(zip(*[c.tolist() for c in codes]))
    key = outs[0][0]
    assert len(set(tuples)) == len(set(key.tolist())) == len(set(zip(tuples, key.tolist())))


@pytest.mark.parametrize("space", [10, 10**12])
def test_densify_key_order_and_fast_labelling_both_paths(space):
    key = np.array([9, 3, 9, 5, 3, 3] * 30_000, dtype=np.int64)
    for backend in ("numpy", "numba"):
        ids, sizes = run_with(backend, densify, key, space)
        assert_array_equal(ids[:6], [2, 0, 2, 1, 0, 0])
        assert_array_equal(sizes, [90_000, 30_000, 60_000])
        ids, sizes = run_with(backend, densify_fast, key, space)
        check_labelling(key, ids, sizes)


def _frame(n, seed):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.integers(0, 4, n),
            "b": rng.choice(np.array(["x", "y", "z"], dtype=object), n),
            "c": rng.integers(0, 10**9, n),
            "d": rng.integers(0, 50, n),
        }
    )


@pytest.mark.parametrize("qi", [["a", "b"], ["a", "c"], ["c", "d", "a", "b"]])
def test_partition_identical_on_both_paths(qi):
    frame = _frame(30_000, 5)
    frame.loc[::4, "c"] = 7

    def figures():
        p = rc.partition(rc.encode(frame), qi)
        return p.class_id, p.class_sizes, p.fk, p.size_histogram.sizes, p.size_histogram.counts

    for a, b in zip(run_with("numpy", figures), run_with("numba", figures)):
        assert_array_equal(a, b)


def _walk_summary(backend, codes, levels, max_size, threads, unique_rows):
    def go():
        out = {}
        for res in walk(codes, levels, max_size, unique_rows=unique_rows, threads=threads):
            out[res.subset] = (
                res.prior_unique,
                sorted(res.sizes.tolist()),
                None if res.new_unique_rows is None else res.new_unique_rows.tolist(),
            )
        return out

    return run_with(backend, go)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 120),
    st.lists(st.integers(1, 6), min_size=1, max_size=5),
    st.integers(1, 5),
    st.booleans(),
    st.randoms(use_true_random=False),
)
def test_walk_compiled_equals_numpy(n, levels, max_size, unique_rows, rnd):
    codes = [np.array([rnd.randint(0, lv - 1) for _ in range(n)], dtype=np.int32) for lv in levels]
    ref = _walk_summary("numpy", codes, levels, max_size, None, unique_rows)
    for threads in (1, 2):
        got = _walk_summary("numba", codes, levels, max_size, threads, unique_rows)
        assert got == ref


def test_walk_threads_parent_before_child_and_large_spaces():
    rng = np.random.default_rng(9)
    n = 20_000
    levels = [5000, 3000, 7, 2, 40]
    codes = [rng.integers(0, lv, n).astype(np.int32) for lv in levels]
    ref = _walk_summary("numpy", codes, levels, 5, None, True)
    seen = set()
    old = kernels.set_backend("numba")
    try:
        for res in walk(codes, levels, 5, threads=2):
            assert len(res.subset) == 1 or res.subset[:-1] in seen
            seen.add(res.subset)
    finally:
        kernels.set_backend(old)
    assert len(seen) == 31
    assert _walk_summary("numba", codes, levels, 5, 2, True) == ref


def test_walk_consumer_may_stop_early():
    codes = [np.arange(200_000, dtype=np.int32) % m for m in (7, 11, 13, 17)]
    old = kernels.set_backend("numba")
    try:
        gen = walk(codes, [7, 11, 13, 17], 4, threads=2)
        first = next(gen)
        gen.close()  # the worker threads must stop, not hang
    finally:
        kernels.set_backend(old)
    assert len(first.subset) == 1


def test_object_dates_encode_as_factorised():
    days = [
        dt.date(2000, 1, 1),
        dt.date(1999, 12, 31),
        None,
        dt.date(9999, 12, 31),
        dt.date(1, 1, 1),
    ]
    values = pd.Series([days[i % 5] for i in range(997)], dtype=object)
    col = rc.encode(pd.DataFrame({"d": values}))["d"]
    assert col.n_missing == values.isna().sum()
    codes, _ = pd.factorize(values, use_na_sentinel=True)
    # same partition as pandas' own factorisation (missing: its own level)
    pairs = set(zip(codes.tolist(), col.codes.tolist()))
    assert len(pairs) == len(set(codes.tolist())) == col.n_levels


def test_temporal_columns_encode_by_integers():
    ts = pd.Series(pd.to_datetime(["2001-01-01", None, "2001-01-01", "1677-09-22", "2262-04-11"]))
    arrow = pa.table(
        {
            "d": pa.array([dt.date(2000, 1, 1), None, dt.date(2000, 1, 1), dt.date(1970, 1, 1)]),
            "t": pa.array([1, None, 1, -(2**62)], pa.timestamp("ns")),
            "u": pa.array([None, None, None, None], pa.date32()),
        }
    )
    assert rc.class_sizes(pd.DataFrame({"t": ts}), ["t"]).fk.tolist() == [2, 1, 2, 1, 1]
    enc = rc.encode(arrow)
    assert enc["d"].n_missing == 1 and enc["d"].n_levels == 3
    assert enc["u"].n_missing == 4 and enc["u"].n_levels == 1
    assert rc.class_sizes(arrow, ["d", "t"]).fk.tolist() == [2, 1, 2, 1]


def test_backend_switch_validates():
    with pytest.raises(InvalidParameterError, match="backend"):
        kernels.set_backend("fortran")
    assert kernels.backend() in ("auto", "numba", "numpy")


def test_numba_backend_really_compiles():
    """The comparisons above are not numpy against numpy: the numba backend loads kernels."""
    assert run_with("numba", kernels.compiled, 1) is not None
    assert run_with("numpy", kernels.compiled, 10**9) is None
    assert run_with("auto", kernels.compiled, kernels.MIN_COMPILED - 1) is None


def _assert_same_encoding(col_a, col_b, values):
    """Two encodings of one column: the same partition, and categories naming the values."""
    assert col_a.n_levels == col_b.n_levels and col_a.n_missing == col_b.n_missing
    assert len(set(zip(col_a.codes.tolist(), col_b.codes.tolist()))) == col_a.n_levels
    for col in (col_a, col_b):
        cats = np.asarray(col.categories.to_pylist() + [None], dtype=object)
        codes = np.where(
            col.codes == (col.missing_code if col.n_missing else -1), len(cats) - 1, col.codes
        )
        assert cats[codes].tolist() == values


@pytest.mark.parametrize("variant", ["plain", "nulls", "long", "nul-byte", "large", "sliced"])
def test_short_strings_packed_as_integers(variant):
    rng = np.random.default_rng(4)
    n = 20_000
    alphabet = np.array(list("ABCDEFGHJ0123456789 é"), dtype=object)
    lengths = rng.integers(0, 8, n)
    values = ["".join(alphabet[rng.integers(0, len(alphabet), k)]) for k in lengths]
    values = [v.encode()[:8].decode(errors="ignore") for v in values]  # at most 8 bytes
    if variant == "nulls":
        values = [None if i % 17 == 0 else v for i, v in enumerate(values)]
    if variant == "long":
        values[-1] = "a much longer string"
    if variant == "nul-byte":
        values[5] = "a\x00"
    typ = pa.large_string() if variant == "large" else pa.string()
    chunks = [pa.array(values[:7000], typ), pa.array(values[7000:], typ)]
    array = pa.chunked_array(chunks)
    if variant == "sliced":
        array = pa.chunked_array([pa.array(["zz"] * 50 + values, typ).slice(50)])
    from riskcalc._core.encoding import encode_arrow

    a = run_with("numba", encode_arrow, array, "s")
    b = run_with("numpy", encode_arrow, array, "s")
    _assert_same_encoding(a, b, values)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_can_group_after_the_parent_ran_parallel_kernels():
    """GNU OpenMP kills a forked child entering a parallel region: the child must go serial."""
    key = np.random.default_rng(0).integers(0, 10**15, 200_000)
    expected = run_with("numba", kernels.group, key, 10**15)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            ids, sizes = run_with("numba", kernels.group, key, 10**15)
            ok = np.array_equal(ids, expected[0]) and np.array_equal(sizes, expected[1])
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1"
    assert os.WIFEXITED(status)


def reference_class_values(labels, n_labels, codes):
    """Per class, by a loop over the records: its one value, -2 when it holds two, -1 if empty."""
    values = [-1] * n_labels
    for c, v in zip(labels.tolist(), codes.tolist()):
        if values[c] == -1:
            values[c] = v
        elif values[c] != v:
            values[c] = -2
    return np.array(values, np.int64)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 300),
    st.integers(1, 40),
    st.integers(1, 6),
    st.sampled_from([np.int8, np.int32, np.int64]),
    st.randoms(use_true_random=False),
)
def test_class_values_compiled_equals_numpy_and_reference(n, n_labels, n_values, dtype, rnd):
    labels = np.array([rnd.randrange(n_labels) for _ in range(n)], dtype=np.int32)
    codes = np.array([rnd.randrange(n_values) for _ in range(n)], dtype=dtype)
    expected = reference_class_values(labels, n_labels, codes)
    for backend in ("numpy", "numba"):
        values = run_with(backend, kernels.class_values, labels, n_labels, codes)
        assert values.dtype == (np.int64 if dtype == np.int64 else np.int32)
        assert_array_equal(values, expected)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 300), st.integers(1, 40), st.integers(1, 6), st.randoms(use_true_random=False)
)
def test_homogeneous_tally_compiled_equals_numpy_and_reference(n, n_labels, n_values, rnd):
    labels = np.array([rnd.randrange(n_labels) for _ in range(n)], dtype=np.int32)
    codes = np.array([rnd.randrange(n_values) for _ in range(n)], dtype=np.int16)
    sizes = np.bincount(labels, minlength=n_labels).astype(np.int64)
    values = reference_class_values(labels, n_labels, codes).astype(np.int32)
    modal = int(np.bincount(codes).argmax())
    homo = [c for c in range(n_labels) if values[c] != -2]
    expected = (
        sum(int(sizes[c]) for c in homo),
        sum(int(sizes[c]) for c in homo if sizes[c] > 1),
        sum(int(sizes[c]) for c in homo if values[c] != modal),
        len(homo),
    )
    for backend in ("numpy", "numba"):
        assert run_with(backend, kernels.homogeneous_tally, values, sizes, modal) == expected


@pytest.mark.parametrize("n", [5_000, 300_000])
def test_key_spaces_past_int64_group_both_paths(n):
    # A key space between 2**63 and 2**64 is combined without compression, in unsigned
    # arithmetic (keys past 2**63 held as negative int64), and grouped right on both paths.
    rng = np.random.default_rng(3)
    levels = [2**31 + 11, 2**31 + 7, 3]  # product ~1.4 * 2**63
    codes = [rng.integers(0, 40, n).astype(np.int64) * (lv // 40) for lv in levels[:2]]
    codes.append(rng.integers(0, 3, n).astype(np.int32))
    codes[0][::7] = levels[0] - 1  # the largest codes: keys past 2**63
    tuples = list(zip(*[c.tolist() for c in codes]))
    expected = pd.Series(tuples).map(pd.Series(tuples).value_counts()).to_numpy()
    for backend in ("numpy", "numba"):
        key, space = run_with(backend, combine_codes, codes, levels)
        assert space == levels[0] * levels[1] * levels[2] > 2**63
        assert (key < 0).any()  # values of 2**63 or more, read as negative int64
        assert len(set(key.tolist())) == len(set(tuples))
        ids, sizes = run_with(backend, densify_fast, key, space)
        assert_array_equal(sizes[ids], expected)
        ids, sizes = run_with(backend, densify, key, space)
        assert_array_equal(sizes[ids], expected)
        class_key = np.empty(sizes.shape[0], np.uint64)
        class_key[ids] = key.view(np.uint64)
        assert np.all(
            class_key[1:] > class_key[:-1]
        )  # densify numbers classes in unsigned key order


def test_homogeneous_counts_on_threads_equal_the_numpy_path():
    from riskcalc._core.crosstab import homogeneous_counts
    from riskcalc._core.encoding import EncodedColumn

    rng = np.random.default_rng(4)
    n, n_labels = 20_000, 3_000
    labels = rng.integers(0, n_labels, n).astype(np.int32)
    columns = [
        EncodedColumn(f"s{j}", rng.integers(0, lv, n).astype(np.int32), lv, 0, "int32")
        for j, lv in enumerate([2, 3, 7, 40, 1])
    ]
    for c in columns[:3]:  # some homogeneous classes: one value for a block of labels
        c.codes[labels < 500] = 0
    expected = run_with("numpy", homogeneous_counts, labels, n_labels, columns)
    assert run_with("numba", homogeneous_counts, labels, n_labels, columns) == expected
    assert [c.records_revealed > 0 for c in expected] == [True] * 5


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-3, 40), max_size=300), st.sampled_from([1, 4, 16, 64]))
def test_first_appearance_compiled_equals_numpy_and_reference(values, cap):
    key = np.array(values, dtype=np.int64) * (2**40 + 7)  # spread over the hash
    distinct = list(dict.fromkeys(key.tolist()))  # first-appearance order
    expected = None
    if len(distinct) <= cap:
        rank = {k: r for r, k in enumerate(distinct)}
        expected = (
            [rank[k] for k in key.tolist()],
            [key.tolist().count(k) for k in distinct],
            [key.tolist().index(k) for k in distinct],
        )
    for backend in ("numba", "numpy"):
        got = run_with(backend, kernels.first_appearance, key, cap)
        if expected is None:
            assert got is None
        else:
            ids, sizes, first = got
            assert ids.dtype == np.int32 and sizes.dtype == np.int64 and first.dtype == np.int64
            assert (ids.tolist(), sizes.tolist(), first.tolist()) == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 30), max_size=300), st.integers(0, 5))
def test_first_rows_compiled_equals_numpy_and_reference(values, extra):
    ids = np.array(values, dtype=np.int32)
    n_ids = (max(values) + 1 if values else 0) + extra  # some ids no row holds
    expected = [values.index(c) if c in values else -1 for c in range(n_ids)]
    for backend in ("numba", "numpy"):
        assert run_with(backend, kernels.first_rows, ids, n_ids).tolist() == expected


def _direct_encoding(series):
    from riskcalc._core import encoding

    return encoding._encode_values("c", series.to_numpy(), series.dtype)


@pytest.mark.parametrize("kind", ["dates", "text", "mixed", "floats"])
def test_object_columns_grouped_by_identity_encode_as_directly(kind):
    """Records sharing Python objects (as Arrow's conversion to pandas gives them) are encoded
    through the objects: codes, levels, missing counts and categories equal the direct encoding,
    equal values held by distinct objects included."""
    from riskcalc._core import encoding

    rng = np.random.default_rng(3)
    if kind == "dates":
        pool = [dt.date(2010, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 3000, 300)]
        pool += [None, dt.date(2010, 1, 1), dt.date(2010, 1, 1)]  # equal values, other objects
    elif kind == "text":
        pool = ["".join(rng.choice(list("ABCDE"), 3)) for _ in range(400)] + [None, float("nan")]
        pool += [str(s) + "" for s in ("ABC", "ABC")]
    elif kind == "mixed":
        pool = [1, 1.0, "1", None, True, dt.date(2000, 1, 1), (1, 2), "x" * 20]
    else:
        pool = [float(v) for v in rng.integers(0, 50, 200)] + [float("nan"), -0.0, 0.0]
    n = encoding._IDENTITY_MIN + 1234
    picks = rng.integers(0, len(pool), n)
    values = np.empty(n, dtype=object)
    values[:] = [pool[i] for i in picks]
    series = pd.Series(values)
    assert encoding._encode_by_identity("c", values, "object") is not None  # the path under test
    got = encoding.encode_series(series, "c")
    want = _direct_encoding(series)
    assert got.n_levels == want.n_levels and got.n_missing == want.n_missing
    assert_array_equal(got.codes, want.codes)
    assert list(pd.Series(got.categories, dtype=object)) == list(
        pd.Series(want.categories, dtype=object)
    )


def test_object_columns_of_many_objects_or_unhashables_take_the_direct_path():
    from riskcalc._core import encoding
    from riskcalc.exceptions import UnsupportedTypeError

    n = encoding._IDENTITY_MIN
    many = pd.Series(np.array([str(i) for i in range(n)], dtype=object))  # n distinct objects
    assert encoding._encode_by_identity("c", many.to_numpy(), "object") is None
    assert encoding.encode_series(many, "c").n_levels == n
    shared = [[1], [2]]
    lists = pd.Series(np.array([shared[i % 2] for i in range(n)] + [None], dtype=object))
    with pytest.raises(UnsupportedTypeError, match="'c'"):
        encoding.encode_series(lists, "c")


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["bool", "int8", "uint8", "int16", "int32", "int64", "uint64"]),
    st.lists(st.integers(-128, 127), min_size=1, max_size=300),
)
def test_range_codes_compiled_equals_numpy_and_reference(dtype, values):
    info = np.iinfo(dtype) if dtype != "bool" else None
    if dtype == "bool":
        arr = (np.array(values) > 0).view(np.uint8)
    else:
        arr = np.clip(np.array(values), info.min, info.max).astype(dtype)
    lo, hi = int(arr.min()), int(arr.max())
    present = sorted(set(arr.tolist()))
    expected = [present.index(v) for v in arr.tolist()]
    for backend in ("numba", "numpy"):
        codes, uniques = run_with(backend, kernels.range_codes, arr, lo, hi - lo + 1)
        assert codes.dtype == np.int32 and codes.tolist() == expected
        assert uniques.tolist() == present


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 50), max_size=300), st.lists(st.integers(10**6, 10**9), max_size=3))
def test_size_tally_compiled_equals_the_histograms_numpy_tally(small, huge):
    """Dense tally (small sizes) and sort-and-run-lengths (a huge size among few) paths."""
    from riskcalc._core import _numba_kernels
    from riskcalc._core.histogram import SizeHistogram

    for values in (small, small + huge):
        sizes = np.array(values, dtype=np.int64)
        distinct, counts = _numba_kernels.size_tally(sizes)
        want = SizeHistogram.from_class_sizes(sizes)
        assert_array_equal(distinct, want.sizes)
        assert_array_equal(counts, want.counts)
        # and the plain reference: each positive value and how often it occurs
        ref = sorted({v: values.count(v) for v in values if v > 0}.items())
        assert list(zip(distinct.tolist(), counts.tolist())) == ref


@pytest.mark.parametrize("threads", [1, 2])
def test_walk_histograms_are_the_tallies_of_the_class_sizes(threads):
    """With ``histograms`` the walking threads tally each subset's sizes: the same histogram as
    tallying them afterwards (and the numpy walk, which tallies on demand)."""
    from riskcalc._core.histogram import SizeHistogram

    rng = np.random.default_rng(4)
    levels = [40, 7, 3, 900]
    codes = [rng.integers(0, lv, 30_000).astype(np.int32) for lv in levels]

    def histograms(backend):
        def go():
            return {
                res.subset: (
                    res.histogram(),
                    SizeHistogram.from_class_sizes(res.sizes, extra_singletons=res.prior_unique),
                    res.size_counts is not None,
                )
                for res in walk(codes, levels, 4, threads=threads, histograms=True)
            }

        return run_with(backend, go)

    compiled, plain = histograms("numba"), histograms("numpy")
    assert compiled.keys() == plain.keys() and len(compiled) == 15
    for subset, (hist, tallied, walked) in compiled.items():
        assert walked
        assert_array_equal(hist.sizes, tallied.sizes)
        assert_array_equal(hist.counts, tallied.counts)
        assert_array_equal(hist.sizes, plain[subset][0].sizes)
        assert_array_equal(hist.counts, plain[subset][0].counts)
