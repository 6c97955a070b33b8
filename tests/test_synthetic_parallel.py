"""``generate_cohort`` on several processes: the same bytes for every worker count.

The reference is the one-process loop the generator had before the pool (kept below as
``_reference_cohort``): every LA chunk through every sampler, the parts concatenated at the end
(a chunk's postcodes, sectors, districts and LSOAs by their keys: chunks share the ones their
cross-border pupils live in).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import synthetic
from synthetic import SyntheticError, _parallel, generate_cohort
from synthetic._plan import build_plan, names_tables
from synthetic._rng import stream
from synthetic._samplers import SAMPLERS, Chunk, LocalCategorical
from synthetic.schema import FIELD_NAMES, field, pandas_dtype


def _reference_cohort(n: int, seed: int) -> pd.DataFrame:
    """The generator as one loop over LA chunks, parts concatenated (the pre-pool code)."""
    plan = build_plan(seed, n)
    arrays: dict[str, np.ndarray] = {}
    cat_parts: dict[str, list] = {}
    string_parts: dict[str, list] = {}
    for la in [i for i in range(len(plan.la_code)) if plan.la_pupils[i] > 0]:
        chunk = Chunk(plan=plan, la=la)
        for name, sampler in SAMPLERS:
            chunk.cols.update(sampler(stream(seed, name, int(plan.la_code[la])), chunk))
        lo = int(plan.la_row_offset[la])
        for col, value in chunk.cols.items():
            if isinstance(value, LocalCategorical):  # codes kept as keys; labels by key
                parts = cat_parts.setdefault(col, [[], {}])
                parts[0].append(np.asarray(value.keys)[value.codes])
                for k, label in zip(value.keys.tolist(), value.categories, strict=True):
                    assert parts[1].setdefault(k, label) == label  # one key, one label

            elif value.ndim == 2:
                string_parts.setdefault(col, []).append(value)
            else:
                arrays.setdefault(col, np.empty(n, dtype=value.dtype))[lo : lo + chunk.n] = value
    forenames, surnames = names_tables()
    names = {"forename": forenames.categories, "surname": surnames.categories}
    data: dict[str, object] = {}
    for name in FIELD_NAMES:
        f = field(name)
        if name in cat_parts:  # the categories in key order, each once
            keys = sorted(cat_parts[name][1])
            code_of = {k: i for i, k in enumerate(keys)}
            codes = np.array(
                [code_of[k] for k in np.concatenate(cat_parts[name][0]).tolist()], dtype=np.int32
            )
            cats = pd.Index([cat_parts[name][1][k] for k in keys], dtype=object)
            data[name] = pd.Categorical.from_codes(codes, categories=cats)
        elif name in string_parts:
            mat = np.concatenate(string_parts[name])
            data[name] = pd.array(
                mat.view(f"S{mat.shape[1]}").ravel().astype(str), dtype=pd.StringDtype("pyarrow")
            )
        elif f.dtype == "category" and f.codes is None:
            data[name] = pd.Categorical.from_codes(
                arrays[name], categories=pd.Index(list(names[name]), dtype=object)
            )
        elif f.dtype == "category":
            data[name] = pd.Categorical.from_codes(arrays[name], dtype=pandas_dtype(f))
        elif f.dtype.startswith("datetime64"):
            data[name] = arrays[name].astype(f.dtype)
        else:
            data[name] = arrays[name].astype(pandas_dtype(f))
    return pd.DataFrame(data)


def _column_digest(s: pd.Series) -> str:
    """SHA-256 of a column's bytes: codes and categories, Arrow buffers, or the numpy data."""
    h = hashlib.sha256(str(s.dtype).encode())
    if isinstance(s.dtype, pd.CategoricalDtype):
        h.update(np.ascontiguousarray(s.cat.codes.to_numpy()).tobytes())
        h.update("\x00".join(map(str, s.cat.categories)).encode())
    elif isinstance(s.dtype, pd.StringDtype):
        arr = pa.chunked_array(pa.array(s.array)).combine_chunks()
        for buf in arr.buffers():
            h.update(b"-" if buf is None else bytes(buf))
    else:
        h.update(np.ascontiguousarray(s.to_numpy()).tobytes())
    return h.hexdigest()


def _digests(frame: pd.DataFrame) -> dict[str, str]:
    return {c: _column_digest(frame[c]) for c in frame.columns}


@pytest.fixture
def pool_for_small(monkeypatch):
    """Let small cohorts use the pool, so the tests stay cheap."""
    monkeypatch.setattr(_parallel, "MIN_PARALLEL_PUPILS", 1)


@pytest.mark.parametrize(("n", "seed"), [(1, 0), (157, 3), (4_000, 11), (15_000, 2024)])
def test_worker_count_does_not_change_a_byte(pool_for_small, n, seed):
    frames = {w: generate_cohort(n, rng=seed, workers=w) for w in (1, 2, 3)}
    ref = _digests(frames[1])
    for w in (2, 3):
        pd.testing.assert_frame_equal(frames[w], frames[1], check_exact=True)
        assert _digests(frames[w]) == ref
        assert frames[w].attrs == frames[1].attrs
    # pupil ids and UPNs stay unique across chunks written by different processes
    assert frames[2]["pupil_id"].is_unique and frames[2]["upn"].is_unique
    if n >= 4_000:  # cross-border homes: chunks in different processes share postcodes and LSOAs
        f = frames[3]
        assert (f["home_la"].astype(str) != f["la_code"].astype(str)).any()
        assert f.groupby("lsoa", observed=True)["la_code"].nunique().max() > 1
        assert f["postcode"].cat.categories.is_unique and f["lsoa"].cat.categories.is_unique


@pytest.mark.parametrize(("n", "seed"), [(3, 1), (2_500, 5), (12_000, 7)])
def test_store_matches_the_one_loop_reference(pool_for_small, n, seed):
    fast = generate_cohort(n, rng=seed, workers=2)
    pd.testing.assert_frame_equal(fast, _reference_cohort(n, seed), check_exact=True)
    # the type pandas' pyarrow strings hold, built without a cast (pandas 1.5 holds only string)
    held = "large_string" if int(pd.__version__.split(".")[0]) >= 2 else "string"
    assert str(fast["upn"].array.__arrow_array__().type) == held


def test_spawn_workers_give_the_same_frame(pool_for_small, monkeypatch):
    """The non-Linux path (spawn: columns sent back and copied in) on this machine."""
    monkeypatch.setattr(_parallel, "start_method", lambda: "spawn")
    spawned = generate_cohort(6_000, rng=8, workers=2)
    assert _digests(spawned) == _digests(generate_cohort(6_000, rng=8, workers=1))


def test_small_cohorts_stay_in_process(monkeypatch):
    def no_pool(*args, **kwargs):
        raise AssertionError("a pool was started")

    monkeypatch.setattr(_parallel.multiprocessing, "get_context", no_pool)
    assert _parallel.MIN_PARALLEL_PUPILS == 200_000
    frame = generate_cohort(5_000, rng=1, workers=2)
    assert len(frame) == 5_000


def test_large_cohorts_use_the_pool(pool_for_small, monkeypatch):
    used = []
    real = _parallel.multiprocessing.get_context

    def spy(method):
        used.append(method)
        return real(method)

    monkeypatch.setattr(_parallel.multiprocessing, "get_context", spy)
    generate_cohort(3_000, rng=1, workers=2)
    assert used == [_parallel.start_method()]
    used.clear()
    generate_cohort(3_000, rng=1, workers=1)
    assert used == []


def test_default_workers_is_every_usable_core():
    expected = _parallel.usable_cores() if _parallel.start_method() == "fork" else 1
    assert _parallel.check_workers(None, func="f") == expected
    assert _parallel.check_workers(3, func="f") == 3
    assert _parallel.check_workers(np.int64(2), func="f") == 2
    assert 1 <= _parallel.usable_cores() <= (__import__("os").cpu_count() or 1)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, [2]])
def test_bad_workers_is_one_line_error(bad):
    with pytest.raises(SyntheticError) as err:
        generate_cohort(100, rng=0, workers=bad)
    msg = str(err.value)
    assert "'workers'" in msg and "generate_cohort" in msg and "\n" not in msg
    assert isinstance(err.value, ValueError)


def test_bad_workers_leaves_the_callers_generator_alone():
    g = np.random.default_rng(5)
    state = g.bit_generator.state
    with pytest.raises(SyntheticError):
        synthetic.generate_cohort(100, rng=g, workers=0)
    assert g.bit_generator.state == state


def test_workers_run_the_cohort_modules_samplers(pool_for_small, monkeypatch):
    """A field added to ``synthetic.cohort.SAMPLERS`` reaches forked workers too."""
    from synthetic import _samplers

    def extra(rng, chunk):
        return {"disability": np.ones(chunk.n, dtype=bool)}

    kept = [(n, s) for n, s in _samplers.SAMPLERS if n != "disability"]
    monkeypatch.setattr(synthetic.cohort, "SAMPLERS", tuple(kept + [("disability", extra)]))
    frame = generate_cohort(3_000, rng=4, workers=2)
    assert frame["disability"].all()


# ------------------------------------------------------------------------------ exact fast sorts
from hypothesis import given, settings
from hypothesis import strategies as st

from synthetic import _sort


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-50, 50), min_size=0, max_size=300),
    st.integers(0, 2**32 - 1),
    st.sampled_from([1, 2**26, 2**53]),
)
def test_key_then_uniform_equals_lexsort(keys, seed, grain):
    """Coarse uniforms (grain) force ties, which must fall back to lexsort's order."""
    key = np.array(keys, dtype=np.int64) * (1 if grain < 2**53 else 2**45)
    u = np.floor(np.random.default_rng(seed).random(len(key)) * grain) / grain
    np.testing.assert_array_equal(_sort.argsort_by_key_then_uniform(key, u), np.lexsort((u, key)))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(-3, 3), st.integers(0, 2**40)),
        min_size=0,
        max_size=200,
    )
)
def test_int_sorts_equal_the_stable_sorts(rows):
    a = np.array([r[0] for r in rows], dtype=np.int64)
    b = np.array([r[1] for r in rows], dtype=np.int64)
    big = np.array([r[2] for r in rows], dtype=np.int64)
    np.testing.assert_array_equal(_sort.lexsort_ints((b, a)), np.lexsort((b, a)))
    np.testing.assert_array_equal(_sort.lexsort_ints((big, a)), np.lexsort((big, a)))  # falls back
    np.testing.assert_array_equal(_sort.stable_argsort_int(a), np.argsort(a, kind="stable"))
    np.testing.assert_array_equal(
        _sort.stable_argsort_int(big * 2**20), np.argsort(big * 2**20, kind="stable")
    )


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 60), min_size=0, max_size=300), st.integers(0, 40))
def test_unique_codes_equal_numpys_unique(values, extra):
    """The geography's chunk-local codes: ``np.unique(..., return_inverse=True)`` by a presence
    table, the same values and ranks."""
    from synthetic._samplers.homes import _unique_codes

    idx = np.array(values, dtype=np.int64)
    size = int(idx.max(initial=-1)) + 1 + extra
    used, codes = _unique_codes(idx, size)
    ref_used, ref_codes = np.unique(idx, return_inverse=True)
    np.testing.assert_array_equal(used, ref_used)
    np.testing.assert_array_equal(codes, ref_codes)
    assert used.dtype == np.int64 and codes.dtype == np.int32


def test_fast_paths_are_taken_on_a_real_chunk(monkeypatch):
    calls = []
    real = _sort._stable_lexsort
    monkeypatch.setattr(_sort, "_stable_lexsort", lambda keys: calls.append(1) or real(keys))
    generate_cohort(20_000, rng=3, workers=1)
    assert calls == []


def _cohort_in_a_daemon(_):
    import synthetic._parallel as par

    par.MIN_PARALLEL_PUPILS = 1
    frame = generate_cohort(2_000, rng=6, workers=2)  # a daemon cannot start a pool: in-process
    return _digests(frame)


def test_cohort_inside_a_pool_worker_runs_in_process():
    import multiprocessing

    ctx = multiprocessing.get_context(_parallel.start_method())
    with ctx.Pool(1) as pool:
        inside = pool.map(_cohort_in_a_daemon, [0])[0]
    assert inside == _digests(generate_cohort(2_000, rng=6, workers=1))


@pytest.mark.skipif(_parallel.start_method() != "fork", reason="inherits a patched sampler")
def test_a_dying_worker_raises_instead_of_hanging(pool_for_small, monkeypatch):
    import os
    from concurrent.futures.process import BrokenProcessPool

    from synthetic import _samplers

    parent = os.getpid()

    def killer(rng, chunk):
        if os.getpid() != parent:
            os._exit(3)  # as if the OOM killer took the worker
        return {}

    monkeypatch.setattr(synthetic.cohort, "SAMPLERS", (*_samplers.SAMPLERS, ("x", killer)))
    with pytest.raises(BrokenProcessPool):
        generate_cohort(3_000, rng=1, workers=2)


# ------------------------------------------------------------------------------ columns=
def test_sampler_columns_are_what_each_sampler_returns():
    """The table that ``columns=`` trims by is checked against the samplers themselves."""
    from synthetic._samplers import SAMPLER_COLUMNS

    plan = build_plan(5, 2_000)
    la = next(i for i in range(len(plan.la_code)) if plan.la_pupils[i] > 0)
    chunk = Chunk(plan=plan, la=la)
    assert [name for name, _ in SAMPLERS] == list(SAMPLER_COLUMNS)
    for name, sampler in SAMPLERS:
        out = sampler(stream(plan.root, name, int(plan.la_code[la])), chunk)
        assert tuple(out) == SAMPLER_COLUMNS[name], name
        chunk.cols.update(out)
    assert set(chunk.cols) == set(FIELD_NAMES)


def test_samplers_for_stops_after_the_last_field_asked_for():
    from synthetic._samplers import samplers_for

    names = [name for name, _ in samplers_for(["sex", "forename"])]
    assert names == [name for name, _ in SAMPLERS][: names.index("forename") + 1]
    assert names[-1] == "forename" and "upn" not in names and "pupil_id" not in names
    assert [n for n, _ in samplers_for(["nc_year"])] == ["nc_year"]
    assert len(samplers_for(FIELD_NAMES)) == len(SAMPLERS)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(
    "columns",
    [
        ["sex", "postcode", "forename"],
        ["nc_year"],
        [f for f in FIELD_NAMES if f not in {"upn", "pupil_id", "surname"}],
    ],
)
def test_cohort_columns_subset_is_the_full_cohorts_columns(pool_for_small, workers, columns):
    """Asking for some fields gives exactly the full cohort's values for them, in registry
    order, with the same attributes, in the calling process and on the pool."""
    full = generate_cohort(4_000, rng=9, workers=workers)
    part = generate_cohort(4_000, rng=9, workers=workers, columns=list(reversed(columns)))
    assert list(part.columns) == [f for f in FIELD_NAMES if f in columns]
    pd.testing.assert_frame_equal(part, full[part.columns], check_exact=True)
    assert _digests(part) == {c: d for c, d in _digests(full).items() if c in columns}
    assert part.attrs == full.attrs


def test_cohort_columns_skip_the_samplers_after_the_last_field(monkeypatch):
    """The direct identifiers come last: a cohort without them never runs their samplers."""
    from synthetic import _samplers

    def refuse(rng, chunk):
        raise AssertionError("a sampler after the last field asked for ran")

    patched = tuple(
        (n, refuse if n in {"surname", "upn", "pupil_id"} else s) for n, s in _samplers.SAMPLERS
    )
    monkeypatch.setattr(_samplers, "SAMPLERS", patched)
    frame = generate_cohort(1_500, rng=2, columns=["sex", "forename", "postcode"])
    assert list(frame.columns) == [f for f in FIELD_NAMES if f in {"sex", "forename", "postcode"}]
    assert len(frame) == 1_500


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (["sex", "no_such"], r"'columns' parameter of generate_cohort.*'no_such'"),
        (5, r"'columns' parameter of generate_cohort must be a sequence of column names.*int"),
        ([], r"'columns' parameter of generate_cohort must name at least one field"),
        ([1], r"'columns' parameter of generate_cohort names columns it does not have: \[1\]"),
    ],
)
def test_bad_columns_is_one_line_error(bad, message):
    with pytest.raises(SyntheticError, match=message) as info:
        generate_cohort(100, rng=1, columns=bad)
    assert "\n" not in str(info.value).strip()


# ------------------------------------------------------------------------------ start_cohort
_START_WITHOUT_PANDAS = """
import sys
import synthetic
import synthetic._parallel as par
par.MIN_PARALLEL_PUPILS = 1
pending = synthetic.start_cohort(6_000, rng=8, workers=2)
started = sorted(m for m in ("pandas", "pyarrow", "tqdm", "matplotlib", "numba") if m in sys.modules)
frame = pending.result()
import hashlib
h = hashlib.sha256(frame.to_csv().encode()).hexdigest()
print("started with", started, "digest", h)
"""


@pytest.mark.skipif(
    _parallel.start_method() != "fork", reason="workers go on after start_cohort only when forked"
)
def test_a_cohort_starts_on_numpy_alone_and_gives_the_same_frame():
    """The main job starts its cohort before pandas is imported: starting one imports neither
    pandas nor pyarrow, and the frame is byte for byte the one-process frame."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _START_WITHOUT_PANDAS], capture_output=True, text=True, check=True
    ).stdout
    assert "started with [] digest" in out, out
    expected = hashlib.sha256(
        generate_cohort(6_000, rng=8, workers=1).to_csv().encode()
    ).hexdigest()
    assert out.split()[-1] == expected


def test_start_cohort_result_equals_generate_cohort(pool_for_small):
    pending = synthetic.start_cohort(5_000, rng=3, workers=2, columns=["sex", "postcode", "urn"])
    frame = pending.result()
    pd.testing.assert_frame_equal(
        frame,
        generate_cohort(5_000, rng=3, workers=1, columns=["sex", "postcode", "urn"]),
        check_exact=True,
    )
    assert frame.attrs["synthetic"]["seed"] == 3
    with pytest.raises(RuntimeError, match="already been taken"):
        pending.result()


def test_start_cohort_checks_its_parameters_before_any_work():
    """One line each, naming the parameter and the function the user called."""
    for bad, name in [
        (dict(n_pupils=0), "n_pupils"),
        (dict(n_pupils=10, columns=["no_such_field"]), "columns"),
        (dict(n_pupils=10, columns=[]), "columns"),
        (dict(n_pupils=10, workers=0), "workers"),
        (dict(n_pupils=10, rng="x"), "rng"),
    ]:
        with pytest.raises(SyntheticError) as info:
            synthetic.start_cohort(**bad)
        msg = str(info.value)
        assert f"'{name}'" in msg and "start_cohort" in msg and "\n" not in msg, msg
    with pytest.raises(SyntheticError, match="'n_pupils' parameter of generate_cohort"):
        generate_cohort(0)


@pytest.mark.skipif(_parallel.start_method() != "fork", reason="the forked workers' errors")
def test_a_workers_error_is_raised_by_result(pool_for_small, monkeypatch):
    import os

    from synthetic import _samplers

    parent = os.getpid()

    def fails(rng, chunk):
        if os.getpid() != parent:
            raise ValueError("a sampler failed in a worker")
        return {}

    monkeypatch.setattr(synthetic.cohort, "SAMPLERS", (*_samplers.SAMPLERS, ("x", fails)))
    pending = synthetic.start_cohort(3_000, rng=1, workers=2)
    with pytest.raises(ValueError, match="a sampler failed in a worker"):
        pending.result()


@pytest.mark.skipif(_parallel.start_method() != "fork", reason="the forked workers")
def test_cancel_stops_the_workers(pool_for_small, monkeypatch):
    import os
    import time

    from synthetic import _samplers

    parent = os.getpid()

    def slow(rng, chunk):
        if os.getpid() != parent:
            time.sleep(30)
        return {}

    monkeypatch.setattr(synthetic.cohort, "SAMPLERS", (*_samplers.SAMPLERS, ("x", slow)))
    pending = synthetic.start_cohort(3_000, rng=1, workers=2)
    processes = list(pending._filling._workers.processes)
    assert processes and all(p.is_alive() for p in processes)
    started = time.perf_counter()
    pending.cancel()
    assert not any(p.is_alive() for p in processes)
    assert time.perf_counter() - started < 10
    with pytest.raises(RuntimeError):
        pending.result()


def test_the_la_table_reads_as_pandas_reads_it():
    """The plan's LA table is read without pandas (the csv module); its values are the ones
    pandas reads, bit for bit."""
    import io

    from synthetic._data import _read_text, local_authorities

    ours = local_authorities()
    theirs = pd.read_csv(
        io.StringIO(_read_text("local_authorities.csv")),
        comment="#",
        dtype={"la_code": str, "la_name": str, "region": str, "postcode_area": str},
    )
    assert list(ours) == list(theirs.columns)
    for name in theirs.columns:
        if theirs[name].dtype == object or isinstance(theirs[name].dtype, pd.StringDtype):
            assert ours[name] == tuple(theirs[name]), name
        else:
            got = ours[
                name
            ]  # strict: a float64 array (assert_array_equal's strict= needs numpy 1.24)
            assert isinstance(got, np.ndarray) and got.dtype == np.float64, name
            np.testing.assert_array_equal(got, theirs[name].to_numpy(float))
    ours["population_k"][0] = -1.0  # a copy: the cached table is not changed
    assert local_authorities()["population_k"][0] != -1.0
