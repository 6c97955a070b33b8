"""The engine's backend interface (riskcalc._core.backend): dispatch, conformance, and measures
written once.

A measure builds its result from the backend's answers whatever the backend. The "remote" test
backend below answers every count through the in-memory backend but holds no records (arrays
``None``, records refused), as a backend whose data stay elsewhere does (Spark, a lazy frame):
every measure must then give the in-memory headline figures, and the records-only measures
must refuse in the backend's one line. Spark itself is compared in tests/test_spark.py.
"""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskcalc as rc
from riskcalc._core import backend as engine
from riskcalc._core.answers import AttributeFigures, ClosenessFigures, RecordSizes
from riskcalc._core.memory import MemoryBackend
from riskcalc.exceptions import InvalidParameterError

QUESTIONS = [
    name
    for name, member in vars(engine.Backend).items()
    if not name.startswith("_") and (callable(member) or isinstance(member, property))
]


def test_the_protocol_lists_the_questions():
    assert {
        "names",
        "size_histogram",
        "lattice_histograms",
        "missing_counts",
        "weighted_below",
        "summed_histogram",
        "size_pairs",
        "attribute_figures",
        "closeness_figures",
        "trajectory_histograms",
        "record_sizes",
        "column_values",
        "replace_values",
        "encoded",
        "refuse",
        "columns",
        "holds_records",
    } <= set(QUESTIONS)


@pytest.mark.parametrize(
    "cls", ["riskcalc._core.memory.MemoryBackend", "riskcalc._core.spark.SparkBackend"]
)
def test_each_backend_answers_every_question(cls):
    """Every question of the protocol, with its keyword parameters (no pyspark needed)."""
    module, name = cls.rsplit(".", 1)
    klass = getattr(__import__(module, fromlist=[name]), name)
    assert klass.is_backend is True and isinstance(klass.kind, str)
    for q in QUESTIONS:
        assert hasattr(klass, q), f"{name} does not answer {q}"
        member = getattr(engine.Backend, q)
        if callable(member):
            want = [p for p in inspect.signature(member).parameters.values() if p.name != "self"]
            have = inspect.signature(getattr(klass, q)).parameters
            for p in want:
                assert p.name in have, f"{name}.{q} lacks the parameter {p.name!r}"


def test_dispatch():
    df = pd.DataFrame({"a": [1, 1, 2]})
    for data in (df, pa.Table.from_pandas(df), rc.encode(df)):
        b = engine.backend_for(data, func="t")
        assert b.kind == "memory" and b.holds_records and isinstance(b, engine.Backend)
        assert b.columns == ("a",)
    b = engine.backend_for(df, func="t")
    assert engine.backend_for(b, func="t") is b  # a backend passes through


def test_a_path_is_read_in_memory_and_named_in_messages(tmp_path):
    path = tmp_path / "x.csv"
    pd.DataFrame({"a": [1, 2]}).to_csv(path, index=False)
    b = engine.backend_for(str(path), func="t")
    assert b.kind == "memory" and b.columns == ("a",)
    with pytest.raises(rc.exceptions.MissingColumnError, match="'x.csv'"):
        b.names(["nope"], func="t")


# --------------------------------------------------------------------------------------------
# A backend whose records stay elsewhere: counts from the in-memory backend, no arrays
# --------------------------------------------------------------------------------------------


class Remote:
    """Marks a table held "elsewhere" (its frame is only reachable through the backend)."""

    def __init__(self, frame):
        self.frame = frame


class RemoteBackend:
    is_backend = True
    kind = "remote"
    holds_records = False
    label = "the remote table"

    def __init__(self, data, **_):
        self._memory = MemoryBackend(data.frame)

    @property
    def columns(self):
        return self._memory.columns

    def names(self, requested, *, func, name="quasi_identifiers"):
        return self._memory.names(requested, func=func, name=name)

    def refuse(self, what, func):
        return InvalidParameterError(
            f"{what} of {func} cannot run on the remote table (test backend)."
        )

    def encoded(self, columns, *, func, weights=None, name="quasi_identifiers"):
        raise self.refuse("Reading the records", func)

    def _no_arrays(self, answer):
        arrays = {
            f.name: None
            for f in dataclasses.fields(answer)
            if f.name
            in (
                "distinct_per_class",
                "entropy_l_per_class",
                "recursive_l_per_class",
                "class_id",
                "index",
                "emd_per_class",
                "class_sizes",
                "levels",
            )
        }
        return dataclasses.replace(answer, **arrays)

    def attribute_figures(self, *args, **kwargs):
        return [self._no_arrays(f) for f in self._memory.attribute_figures(*args, **kwargs)]

    def closeness_figures(self, *args, **kwargs):
        return self._no_arrays(self._memory.closeness_figures(*args, **kwargs))

    def record_sizes(self, columns, *, missing, func, weights=None, alpha=1.0):
        if missing == "wildcard":
            raise self.refuse("The wildcard rule", func)
        return RecordSizes(tuple(columns), missing, frame="sizes stay remote")

    def __getattr__(self, name):  # the counts: answered as in memory
        if name.startswith("_") or name in ("replace_values",):
            raise AttributeError(name)
        return getattr(self._memory, name)


@pytest.fixture
def remote_kind():
    engine.register_backend(lambda d: isinstance(d, Remote), RemoteBackend, first=True)
    try:
        yield
    finally:
        engine._BACKENDS[:] = [e for e in engine._BACKENDS if e[1] is not RemoteBackend]


def test_register_backend_is_the_extension_point(remote_kind):
    b = engine.backend_for(Remote(pd.DataFrame({"a": [1]})), func="t")
    assert b.kind == "remote" and not b.holds_records


def _headline(result) -> dict:
    """The result's fields that are not per-record or per-class arrays."""
    out = {}
    for f in dataclasses.fields(result):
        v = getattr(result, f.name)
        if (
            v is None
            or isinstance(v, pd.Index)
            or (
                isinstance(v, np.ndarray)
                and f.name.endswith(("per_record", "per_class", "class_sizes", "class_id", "emd"))
            )
        ):
            continue
        out[f.name] = v
    return out


def _same(a: dict, b: dict):
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y)
        elif isinstance(x, (np.ndarray, float)):
            np.testing.assert_array_equal(x, y)
        else:
            assert x == y, key


def _table(draw_values, n):
    return pd.DataFrame(
        {
            "a": draw_values(["x", "y", None], n),
            "b": draw_values([1, 2, 3], n),
            "c": draw_values(["p", "q"], n),
            "s": draw_values(["K", "E", "N", None], n),
            "o": draw_values([1.5, 2.0, 7.0], n),
            "w": draw_values([1.0, 2.5, 4.0], n),
        }
    )


@st.composite
def tables(draw):
    n = draw(st.integers(1, 40))
    return _table(
        lambda values, n: draw(st.lists(st.sampled_from(values), min_size=n, max_size=n)), n
    )


CALLS = {
    "size_histogram": lambda d: rc.size_histogram(d, ["a", "b"]),
    "k_anonymity": lambda d: rc.k_anonymity(d, ["a", "b"], thresholds=[2, 3, 5]),
    "k_anonymity(weights)": lambda d: rc.k_anonymity(
        d, ["a", "b"], thresholds=[2, 3, 5], weights="w"
    ),
    "uniqueness": lambda d: rc.uniqueness(d, ["a", "b", "c"]),
    "small_count_exposure": lambda d: rc.small_count_exposure(d, ["a", "c"], thresholds=[1, 2, 3]),
    "small_count_exposure(count)": lambda d: rc.small_count_exposure(
        d, ["a", "c"], thresholds=[1, 2], count="b"
    ),
    "attacker_risk": lambda d: rc.attacker_risk(d, ["a", "b"], threshold=0.34),
    "l_diversity": lambda d: rc.l_diversity(d, ["a", "b"], "s", c=2),
    "t_closeness(ordered)": lambda d: rc.t_closeness(d, ["a"], "o"),
    "t_closeness(nominal)": lambda d: rc.t_closeness(d, ["a"], "s"),
    "attribute_disclosure": lambda d: rc.attribute_disclosure(d, ["a", "b"], ["s", "c"]),
    "field_lattice": lambda d: rc.field_lattice(d, ["a", "b", "c"], thresholds=[1, 2], target=0.1),
    "population_uniqueness": lambda d: rc.population_uniqueness(
        d, ["a", "b"], sampling_fraction=0.5, method="zayatz"
    ),
}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=tables())
def test_every_measure_is_assembled_once_whatever_the_backend(df):
    """Property: a backend holding no records gives the in-memory headline figures of every
    count measure (the arrays are None there), through the same measure code."""
    engine.register_backend(lambda d: isinstance(d, Remote), RemoteBackend, first=True)
    try:
        for name, call in CALLS.items():
            a, b = call(df), call(Remote(df))
            if name == "size_histogram":
                np.testing.assert_array_equal(a.sizes, b.sizes)
                np.testing.assert_array_equal(a.counts, b.counts)
                continue
            if name == "population_uniqueness":
                assert (a.estimates["zayatz"], a.n_records) == (b.estimates["zayatz"], b.n_records)
                continue
            _same(_headline(a), _headline(b))
    finally:
        engine._BACKENDS[:] = [e for e in engine._BACKENDS if e[1] is not RemoteBackend]


@pytest.mark.parametrize(
    "call",
    [
        lambda d: rc.suda(d, ["a", "b"]),
        lambda d: rc.individual_risk(d, ["a"], weights="w"),
        lambda d: rc.beta_likeness(d, ["a"], "s"),
        lambda d: rc.model_risk(d, ["a", "b"], sampling_fraction=0.5),
        lambda d: rc.uniqueness(d, ["a"], missing="wildcard"),
    ],
)
def test_what_needs_the_records_is_refused_by_the_backend(remote_kind, call):
    df = _table(lambda values, n: [values[i % len(values)] for i in range(n)], 12)
    with pytest.raises(InvalidParameterError, match="cannot run on the remote table"):
        call(Remote(df))


def test_remote_arrays_are_none_and_sizes_stay_remote(remote_kind):
    df = _table(lambda values, n: [values[i % len(values)] for i in range(n)], 12)
    res = rc.l_diversity(Remote(df), ["a"], "s")
    assert (
        res.distinct_l_per_record is None and res.entropy_l_per_record is None and res.index is None
    )
    assert rc.t_closeness(Remote(df), ["a"], "o").emd is None
    assert rc.class_sizes(Remote(df), ["a"]) == "sizes stay remote"


def test_answers_are_documented_dataclasses():
    for cls in (AttributeFigures, ClosenessFigures, RecordSizes):
        assert dataclasses.is_dataclass(cls) and cls.__doc__


@pytest.mark.parametrize("fraction", [1.0, 0.5])
def test_population_uniqueness_without_records_has_no_per_record_figures(remote_kind, fraction):
    """Where the records stay remote the models are not fitted and no per-record probability
    is given, whatever the branch (a census, or no sample unique: both once read per-class
    arrays of a Spark partition and failed)."""
    df = pd.DataFrame({"a": [1, 1, 2, 2, 3, 3], "b": ["x"] * 6})
    res = rc.population_uniqueness(
        Remote(df), ["a", "b"], sampling_fraction=fraction, method="zayatz"
    )
    ref = rc.population_uniqueness(df, ["a", "b"], sampling_fraction=fraction, method="zayatz")
    assert res.record_probabilities is None and res.record_sizes is None
    assert (res.n_population_uniques, res.method_used) == (
        ref.n_population_uniques,
        ref.method_used,
    )
    uniques = pd.DataFrame({"a": [1, 2, 2, 3, 3, 4], "b": ["x"] * 6})
    res = rc.population_uniqueness(
        Remote(uniques), ["a", "b"], sampling_fraction=0.5, method="auto"
    )
    assert not res.fits["forest"].converged and not res.fits["loglinear"].converged
    assert "cannot run on the remote table" in res.fits["loglinear"].message
    assert res.record_probabilities is None and "Dankar" in res.reason
