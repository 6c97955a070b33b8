"""The Spark backend gives the in-memory results, computed on the cluster.

One local Spark session for the whole module (``local[2]``, UI off, two shuffle partitions).
Every measure that accepts a Spark DataFrame is run on the same table in memory and on Spark
and the result objects are compared field by field: counts exactly, real numbers to rounding
(sums are taken in a different order), and the per-record / per-class arrays, which Spark
never collects, are asserted to be ``None``. Tables: the known-value oracles and random
mixed-type tables with missing values (hypothesis; few examples, Spark calls are slow).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import oracle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskcalc as rc
from riskcalc._core.spark import SparkUnsupportedError, fingerprint, is_spark_frame
from riskcalc.exceptions import DataFileError

pytestmark = pytest.mark.slow


def _skip_reason() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'riskcalc[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime (pyspark needs Java 17 or newer)"
    return None


@pytest.fixture(scope="session")
def spark():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("riskcalc-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.session.timeZone", "UTC")
        # tiny tables: skip the adaptive re-planning and the code generation of each query (the
        # same results, a third less time per call)
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("OFF")
    yield session
    session.stop()


def to_spark(spark, df: pd.DataFrame):
    """A Spark DataFrame with the same values: ints and nullable ints as bigint, floats as
    double (NaN kept as NaN, which the backend must treat as missing), booleans, the rest as
    text; pandas missing values become NULL."""
    from pyspark.sql import types as T

    fields, cols = [], []
    for name in df.columns:
        s = df[name]
        if pd.api.types.is_bool_dtype(s.dtype):
            typ, conv = T.BooleanType(), bool
        elif pd.api.types.is_integer_dtype(s.dtype):
            typ, conv = T.LongType(), int
        elif pd.api.types.is_float_dtype(s.dtype):
            typ, conv = T.DoubleType(), float
        else:
            typ, conv = T.StringType(), str
        fields.append(T.StructField(str(name), typ, True))
        if typ == T.DoubleType():
            cols.append([float(v) for v in s.to_numpy(dtype=float, na_value=np.nan)])
        else:
            cols.append([None if pd.isna(v) else conv(v) for v in s.astype(object)])
    rows = list(zip(*cols)) if cols else []
    return spark.createDataFrame(rows, T.StructType(fields))


# --------------------------------------------------------------------------------------------
# Comparing result objects
# --------------------------------------------------------------------------------------------

#: Fields Spark leaves ``None`` (they would need every record or class on the driver).
NOT_COLLECTED = {
    "LDiversityResult": {
        "distinct_l_per_record",
        "entropy_l_per_record",
        "recursive_l_per_record",
        "index",
    },
    "TClosenessResult": {"emd", "class_sizes", "class_id", "index"},
}


def same(a, b, where=""):
    """Assert two results (or values) are equal: exact for counts, to rounding for reals."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        skip = NOT_COLLECTED.get(type(a).__name__, set())
        for f in dataclasses.fields(a):
            if f.name in skip:
                assert getattr(b, f.name) is None, f"{where}{f.name} collected on Spark"
                continue
            same(getattr(a, f.name), getattr(b, f.name), f"{where}{type(a).__name__}.{f.name}: ")
        return
    if isinstance(a, rc.SizeHistogram):
        np.testing.assert_array_equal(a.sizes, b.sizes, err_msg=where)
        np.testing.assert_array_equal(a.counts, b.counts, err_msg=where)
        return
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, obj=where)
        return
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            same(a[k], b[k], f"{where}[{k!r}] ")
        return
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype.kind == "f" or b.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15, err_msg=where)
        else:
            np.testing.assert_array_equal(a, b, err_msg=where)
        return
    if isinstance(a, float) and isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(
            a, b, rel_tol=1e-12, abs_tol=1e-15
        ), (where, a, b)
        return
    if isinstance(a, (tuple, list)) and isinstance(
        b, (tuple, list)
    ):  # per history step: reals to rounding
        assert len(a) == len(b), (where, a, b)
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{where}[{i}] ")
        return
    assert a == b, (where, a, b)


#: What needs the cells on the driver: the log-linear and forest models, and what the forest
#: gives (the interval, the trust verdict, per-record probabilities).
_CELL_MODELS = ("loglinear", "forest")
_FROM_THE_FOREST = ("interval", "trusted", "caution", "record_probabilities", "record_sizes")


def _population_same(a, b):
    """Population estimates: all but the models that need the cells on the driver."""
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name in _FROM_THE_FOREST:
            continue
        if f.name in ("estimates", "fits"):
            x = {k: v for k, v in x.items() if k not in _CELL_MODELS}
            y = {k: v for k, v in y.items() if k not in _CELL_MODELS}
        same(x, y, f"PopulationUniquenessResult.{f.name}: ")
    for model in _CELL_MODELS:
        assert not b.fits[model].converged and "Spark" in b.fits[model].message
    # on Spark the interval is the logical bound, never trusted, and says so
    assert b.interval == (0.0, b.population_size - (b.n_records - b.n_sample_uniques))
    assert not b.trusted and "logical bound" in b.caution and b.record_probabilities is None


def compare(
    pdf, sdf, qi, *, sensitive=None, ordered=None, weights=None, count=None, missing="category"
):
    """Every Spark-capable measure, in memory and on Spark, on one table."""
    calls = {
        "size_histogram": lambda d: rc.size_histogram(d, qi, missing=missing),
        "k_anonymity": lambda d: rc.k_anonymity(
            d, qi, thresholds=[2, 3, 5], weights=weights, missing=missing
        ),
        "uniqueness": lambda d: rc.uniqueness(d, qi, missing=missing),
        "small_count_exposure": lambda d: rc.small_count_exposure(
            d, qi, thresholds=[1, 2, 3], missing=missing
        ),
        "attacker_risk": lambda d: rc.attacker_risk(d, qi, threshold=0.34, missing=missing),
        "field_lattice": lambda d: rc.field_lattice(
            d, qi, thresholds=[1, 2], target=0.1, missing=missing
        ),
    }
    if count is not None:
        calls["small_count_exposure(count)"] = lambda d: rc.small_count_exposure(
            d, qi, count=count, thresholds=[1, 3], missing=missing
        )
    if sensitive is not None:
        calls["l_diversity"] = lambda d: rc.l_diversity(d, qi, sensitive[0], c=2, missing=missing)
        calls["attribute_disclosure"] = lambda d: rc.attribute_disclosure(
            d, qi, sensitive, missing=missing
        )
        for s in sensitive:
            calls[f"t_closeness({s})"] = lambda d, s=s: rc.t_closeness(
                d, qi, s, ordered=ordered, missing=missing
            )
    for name, call in calls.items():
        same(call(pdf), call(sdf), f"{name}: ")


# --------------------------------------------------------------------------------------------
# Without Spark
# --------------------------------------------------------------------------------------------


def test_riskcalc_imports_and_runs_without_pyspark():
    code = (
        "import sys; sys.modules['pyspark'] = None\n"
        "import pandas as pd, riskcalc as rc\n"
        "from riskcalc._core.spark import is_spark_frame\n"
        "df = pd.DataFrame({'a': [1, 1, 2]})\n"
        "assert rc.k_anonymity(df, ['a']).k == 1 and not is_spark_frame(df)\n"
        "assert 'pyspark.sql' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=os.getcwd()
    )
    assert done.returncode == 0, done.stderr


def test_is_spark_frame_is_false_for_other_tables():
    assert not is_spark_frame(pd.DataFrame({"a": [1]}))
    assert not is_spark_frame("x.parquet")


# --------------------------------------------------------------------------------------------
# The known-value oracles
# --------------------------------------------------------------------------------------------

PRACTICE = ["Residence", "Gender", "Education", "Labor"]
ORACLES = [
    # file, quasi-identifiers, sensitive fields, ordered, weights, count
    ("01_sdcpractice_tab41_individual_risk/input.csv", PRACTICE, ["Health"], None, "Weight", None),
    (
        "06_sdcmicro_francdat/input_with_na.csv",
        ["Key1", "Key2", "Key3", "Key4"],
        ["Num3"],
        True,
        "w",
        None,
    ),
    (
        "07_sdcmicro_freqcalc_tests/input_na_row_and_col.csv",
        ["A", "B", "C"],
        None,
        None,
        "weight",
        None,
    ),
    (
        "09_sdcmicro_ldiversity_na_keys/input.csv",
        ["sex", "occupation", "ethnicity"],
        ["sensitive"],
        False,
        None,
        None,
    ),
    (
        "13_sdcmicro_riskycells_small_counts/input.csv",
        ["Residence", "Gender", "Education"],
        None,
        None,
        None,
        "Weight",
    ),
    (
        "16_arx_example_prosecutor_risk/input.csv",
        ["age", "gender", "zipcode"],
        None,
        None,
        None,
        None,
    ),
    (
        "19_pycanon_hospital/input.csv",
        ["age", "gender", "city"],
        ["disease", "religion"],
        None,
        None,
        None,
    ),
    ("20_li2007_tcloseness_emd/input.csv", ["zip"], ["salary_k"], True, None, None),
]


@pytest.mark.parametrize(
    "name,qi,sensitive,ordered,weights,count", ORACLES, ids=[o[0].split("/")[0] for o in ORACLES]
)
def test_oracle_tables_give_the_in_memory_results(
    spark, name, qi, sensitive, ordered, weights, count
):
    pdf = pd.read_csv(oracle(name))
    compare(
        pdf,
        to_spark(spark, pdf),
        qi,
        sensitive=sensitive,
        ordered=ordered,
        weights=weights,
        count=count,
    )


def test_practice_guide_known_values_on_spark(spark, practice_guide):
    # SDC Practice Guide table 4.1: fk on the four keys (sdcMicro freqCalc; test_known_values)
    sdf = to_spark(spark, practice_guide)
    hist = rc.size_histogram(sdf, PRACTICE)
    assert (hist.sizes.tolist(), hist.counts.tolist()) == ([1, 2], [4, 3])
    fk = rc.class_sizes(sdf, PRACTICE).orderBy("No").select("fk").toPandas()["fk"].tolist()
    assert fk == [2, 2, 1, 2, 1, 2, 1, 1, 2, 2]


def test_population_estimators_fit_on_the_driver(spark):
    pdf = pd.read_csv(oracle("06_sdcmicro_francdat/input_with_na.csv"))
    sdf = to_spark(spark, pdf)
    qi = ["Key1", "Key2", "Key3"]
    for method in ("zayatz", "dankar", "auto"):
        a = rc.population_uniqueness(pdf, qi, sampling_fraction=0.3, method=method)
        b = rc.population_uniqueness(sdf, qi, sampling_fraction=0.3, method=method)
        if method == "auto":  # the forest model is not fitted on Spark: Dankar's rule, said so
            assert b.method_used in ("zayatz", "pitman", "snb") and "Dankar" in b.reason
            assert not b.trusted and b.caution
            continue
        _population_same(a, b)


@pytest.mark.parametrize("fraction", [0.5, 1.0])
def test_population_without_sample_uniques_or_a_census_on_spark(spark, fraction):
    """Both branches read a per-class array of the partition and raised SparkUnsupportedError;
    now the figures come from the histogram and there are no per-record probabilities."""
    pdf = pd.DataFrame({"a": [1, 1, 2, 2, 3, 3], "b": ["x"] * 6})
    a = rc.population_uniqueness(pdf, ["a", "b"], sampling_fraction=fraction, method="zayatz")
    b = rc.population_uniqueness(
        to_spark(spark, pdf), ["a", "b"], sampling_fraction=fraction, method="zayatz"
    )
    assert (b.n_population_uniques, b.method_used, b.estimate) == (
        a.n_population_uniques,
        a.method_used,
        a.estimate,
    )
    assert b.record_probabilities is None and b.record_sizes is None


# --------------------------------------------------------------------------------------------
# Random mixed-type tables with missing values
# --------------------------------------------------------------------------------------------


@st.composite
def mixed_tables(draw):
    n = draw(st.integers(1, 30))

    def column(values, missing):
        return draw(
            st.lists(
                st.one_of(st.sampled_from(values), st.just(missing))
                if draw(st.booleans())
                else st.sampled_from(values),
                min_size=n,
                max_size=n,
            )
        )

    df = pd.DataFrame(
        {
            "i": pd.array(column([1, 2, 3, -7], None), dtype="Int64"),
            "f": pd.array(column([0.5, 1.0, 2.5], np.nan), dtype="float64"),
            "t": pd.array(column(["x", "y", "z", ""], None), dtype=object),
            "b": pd.array(column([True, False], None), dtype="boolean"),
            "s": pd.array(column(["K", "E", "N"], None), dtype=object),
            "o": pd.array(column([0, 1, 2, 5, 9], None), dtype="Int64"),
            "w": draw(st.lists(st.sampled_from([1.0, 2.5, 10.0]), min_size=n, max_size=n)),
            "cnt": draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)),
        }
    )
    qi = draw(st.lists(st.sampled_from(["i", "f", "t", "b"]), min_size=1, max_size=4, unique=True))
    return df, qi


@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(table=mixed_tables())
def test_random_tables_give_the_in_memory_results(spark, table):
    pdf, qi = table
    compare(pdf, to_spark(spark, pdf), qi, sensitive=["s", "o"], weights="w", count="cnt")


# --------------------------------------------------------------------------------------------
# Class sizes stay on the cluster; missing values; what Spark refuses
# --------------------------------------------------------------------------------------------


def test_class_sizes_are_a_spark_column_equal_to_fk(spark):
    rng = np.random.default_rng(3)
    pdf = pd.DataFrame(
        {
            "id": np.arange(200),
            "a": rng.integers(0, 4, 200).astype(float),
            "b": rng.choice(["p", "q", None], 200),
            "w": rng.uniform(1, 3, 200),
        }
    )
    pdf.loc[rng.random(200) < 0.2, "a"] = np.nan
    out = rc.class_sizes(to_spark(spark, pdf), ["a", "b"], weights="w")
    assert is_spark_frame(out)
    got = out.orderBy("id").toPandas()
    ref = rc.class_sizes(pdf, ["a", "b"], weights="w")
    np.testing.assert_array_equal(got["fk"].to_numpy(), ref.fk)
    np.testing.assert_allclose(got["weighted_fk"].to_numpy(), ref.Fk, rtol=1e-12)
    # the obvious reference: pandas' own group sizes, NaN and None grouped together
    keys = pdf[["a", "b"]].astype(str)
    np.testing.assert_array_equal(
        got["fk"].to_numpy(),
        keys.groupby(["a", "b"], dropna=False)["a"].transform("size").to_numpy(),
    )


def test_missing_raise_names_the_column(spark):
    pdf = pd.DataFrame({"a": [1, 2, 2], "b": ["x", None, "y"], "s": ["u", "v", None]})
    sdf = to_spark(spark, pdf)
    with pytest.raises(
        rc.exceptions.MissingValueError, match=r"^Column 'b' has 1 missing value\(s\)"
    ):
        rc.k_anonymity(sdf, ["a", "b"], missing="raise")
    with pytest.raises(rc.exceptions.MissingValueError, match="Column 'b'"):
        rc.class_sizes(sdf, ["b"], missing="raise")
    with pytest.raises(rc.exceptions.MissingValueError, match="Column 's'"):
        rc.l_diversity(sdf, ["a"], "s", missing="raise")
    assert rc.uniqueness(sdf, ["a"], missing="raise").n_unique == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda d: rc.uniqueness(d, ["a"], missing="wildcard"),
        lambda d: rc.class_sizes(d, ["a"], missing="wildcard"),
        lambda d: rc.suda(d, ["a", "b"]),
        lambda d: rc.individual_risk(d, ["a"], weights="w"),
        lambda d: rc.beta_likeness(d, ["a"], "b"),
        lambda d: rc.k_anonymity(d, ["a"], weights=np.ones(3)),
        lambda d: rc.model_risk(d, ["a", "b"], sampling_fraction=0.5),
    ],
    ids=[
        "wildcard",
        "class_sizes-wildcard",
        "suda",
        "individual_risk",
        "beta_likeness",
        "weights-array",
        "model_risk",
    ],
)
def test_what_needs_the_records_says_so_and_names_the_alternative(spark, call):
    sdf = to_spark(
        spark, pd.DataFrame({"a": [1, 2, 2], "b": ["x", "y", "y"], "w": [1.0, 2.0, 3.0]})
    )
    with pytest.raises(
        SparkUnsupportedError, match=r"cannot run on a Spark DataFrame.*in memory.*sample"
    ) as err:
        call(sdf)
    assert "\n" not in str(err.value)


def test_bad_columns_and_empty_tables(spark):
    sdf = to_spark(spark, pd.DataFrame({"a": [1, 2], "w": [1.0, -1.0]}))
    with pytest.raises(rc.exceptions.MissingColumnError, match="'nope'"):
        rc.k_anonymity(sdf, ["nope"])
    with pytest.raises(rc.InvalidParameterError, match="'w'"):
        rc.k_anonymity(sdf, ["a"], weights="w")
    with pytest.raises(rc.exceptions.EmptyTableError):
        rc.uniqueness(sdf.limit(0), ["a"])


def test_attacker_population_is_a_spark_table(spark):
    rng = np.random.default_rng(5)
    pop = pd.DataFrame({"a": rng.integers(0, 5, 300), "b": rng.choice(["x", "y", None], 300)})
    ext = pop.sample(60, random_state=1)
    a = rc.attacker_risk(ext, ["a", "b"], population=pop)
    b = rc.attacker_risk(to_spark(spark, ext), ["a", "b"], population=to_spark(spark, pop))
    same(a, b)
    stranger = pd.concat([ext, pd.DataFrame({"a": [99], "b": ["x"]})], ignore_index=True)
    with pytest.raises(rc.InvalidParameterError, match="1 record.* do not occur in the population"):
        rc.attacker_risk(to_spark(spark, stranger), ["a", "b"], population=to_spark(spark, pop))
    with pytest.raises(rc.InvalidParameterError, match="fewer than the extract"):
        rc.attacker_risk(to_spark(spark, pop), ["a", "b"], population=to_spark(spark, ext))
    with pytest.raises(rc.InvalidParameterError, match="must be a Spark DataFrame"):
        rc.attacker_risk(to_spark(spark, ext), ["a", "b"], population=pop)


def test_lattice_strategies_agree(spark):
    from riskcalc._core.spark import lattice_histograms

    rng = np.random.default_rng(11)
    pdf = pd.DataFrame({c: rng.choice([0, 1, 2, None], 120) for c in "abcd"}).astype("Int64")
    sdf = to_spark(spark, pdf)
    subsets = [(0,), (1, 3), (0, 2, 3), (0, 1, 2, 3)]
    a = lattice_histograms(sdf, list("abcd"), subsets, strategy="grouping_sets")
    b = lattice_histograms(sdf, list("abcd"), subsets, strategy="per_subset")
    for s in subsets:
        same(a[s], b[s])
        same(a[s], rc.size_histogram(pdf, [list("abcd")[j] for j in s]))


def test_fingerprint_is_order_free_and_sees_every_change(spark):
    pdf = pd.DataFrame({"a": [1, 2, 3, 3], "b": ["x", None, "y", "y"]})
    sdf = to_spark(spark, pdf)
    fp = fingerprint(sdf)
    assert fp["n_records"] == 4
    assert fingerprint(sdf.repartition(3).orderBy("b")) == fp
    changed = [
        pdf.assign(a=[1, 2, 3, 4]),
        pdf.iloc[:3],
        pdf.rename(columns={"a": "c"}),
        pd.DataFrame({"a": [1, 2, 3, 3], "b": [None, "x", "y", "y"]}),
        pdf.assign(a=pdf["a"].astype(float)),
    ]
    seen = {fp["fingerprint"]}
    for df in changed:
        seen.add(fingerprint(to_spark(spark, df))["fingerprint"])
    assert len(seen) == len(changed) + 1


# --------------------------------------------------------------------------------------------
# The release layer and the CLI on Spark
# --------------------------------------------------------------------------------------------


def _survey(n=400, seed=2):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], n),
            "year": rng.integers(7, 12, n),
            "school": rng.choice([f"S{i}" for i in range(12)], n),
            "fsm": rng.choice(["Y", "N", None], n, p=[0.2, 0.75, 0.05]),
        }
    )


def test_analyse_on_spark_gives_the_same_sections(spark, tmp_path):
    from riskcalc.release import analyse as memory
    from riskcalc.release import spark_job

    path = tmp_path / "survey.parquet"
    _survey().to_parquet(path)
    kw = dict(sensitive=["fsm"], sampling_fraction=0.5, population_method="zayatz")
    a = memory.analyse(path, ["sex", "year", "school"], **kw)
    b = spark_job.analyse(path, ["sex", "year", "school"], spark=spark, **kw)
    assert set(b.sections) == set(a.sections) - {"model"}  # the log-linear model needs the cells
    for name, frame in b.sections.items():
        expected = a.sections[name]
        if name == "population":
            # the cell models (and the forest's interval) need the cells on the driver
            cells = [
                "estimate_loglinear",
                "estimate_forest",
                "population_uniques_low",
                "population_uniques_high",
            ]
            hi = frame.set_index("measure").loc["population_uniques_high", "value"]
            c1 = rc.uniqueness(_survey(), ["sex", "year", "school"]).n_unique
            assert hi == 800 - 400 + c1  # the logical bound: unsampled records plus sample uniques
            expected = expected[~expected["measure"].isin(cells)].reset_index(drop=True)
            frame = frame[~frame["measure"].isin(cells)].reset_index(drop=True)
        pd.testing.assert_frame_equal(expected, frame, check_exact=False, rtol=1e-12)
    inp = b.provenance["input"]
    assert (
        b.provenance["data"] == "spark"
        and inp["source"] == "survey.parquet"
        and inp["n_records"] == 400
    )
    assert inp["fingerprint"] == fingerprint(spark.read.parquet(str(path)))["fingerprint"]
    with pytest.raises(SparkUnsupportedError, match="--weights"):
        spark_job.analyse(path, ["sex"], weights="year", spark=spark)


def test_cli_analyse_engine_spark(spark, tmp_path, capsys):
    from riskcalc._cli import main

    path = tmp_path / "survey.parquet"
    _survey().to_parquet(path)
    args = ["analyse", str(path), "--qi", "sex,year,school", "--format", "csv"]
    assert main(args) == 0
    memory_out = capsys.readouterr().out
    assert main(args + ["--engine", "spark"]) == 0
    spark_out = capsys.readouterr().out
    rows = lambda text: [line for line in text.splitlines() if line and not line.startswith("#")]
    assert rows(spark_out) == rows(memory_out)
    assert main(args + ["--spark-master", "local[1]"]) == 2  # needs --engine spark


def test_tier_table_on_spark_extracts(spark):
    import synthetic
    from riskcalc.release.tables import risk_table

    extract = synthetic.tier_extract(synthetic.generate_cohort(3_000, rng=4), 1)
    a = risk_table({"1": extract})
    b = risk_table({"1": to_spark(spark, extract)})
    pd.testing.assert_frame_equal(a.records, b.records, check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(a.attributes, b.attributes, check_exact=False, rtol=1e-12)
    assert len(b.records) > 0 and len(b.attributes) > 0


@pytest.mark.parametrize("order", ["forward", "backward"])
def test_trajectory_uniqueness_on_a_spark_panel(spark, tmp_path, order):
    import synthetic
    from riskcalc.histories import trajectory_uniqueness

    panel = synthetic.generate_panel(600, years=3, rng=3)
    path = tmp_path / "panel"
    panel[["pupil_id", "academic_year", "census", "urn", "sex", "postcode_district"]].to_parquet(
        path, partition_cols=["academic_year"]
    )
    spanel = spark.read.parquet(
        str(path)
    )  # a partitioned Parquet dataset, as generate_panel writes
    kw = dict(static=["sex"], order=order, k_threshold=3)
    a = trajectory_uniqueness(panel, "urn", **kw)
    b = trajectory_uniqueness(spanel, "urn", **kw)
    same(a, b)
    same(
        trajectory_uniqueness(panel, "postcode_district", max_linked=2),
        trajectory_uniqueness(spanel, "postcode_district", max_linked=2),
    )
    with pytest.raises(rc.InvalidParameterError, match="more than one row"):
        trajectory_uniqueness(spanel.unionByName(spanel.limit(1)), "urn")


@pytest.mark.parametrize("source", ["missing_dir/survey.parquet", "survey.csv", "not a table!"])
def test_cli_engine_spark_missing_source_is_one_line(spark, tmp_path, capsys, monkeypatch, source):
    # A path that does not exist, or a name Spark cannot parse, is one line naming it.
    from riskcalc._cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["analyse", source, "--qi", "sex", "--engine", "spark"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "internal error" not in err[0] and "No such file" in err[0], err


def _messy_pupils(n=1_500, seed=6):
    """Clean and messy text versions of a synthetic extract (issue 24 item 2): sex codes in
    mixed case, padded school numbers, postcodes without their inner space, year-group labels."""
    import synthetic

    cohort = synthetic.generate_cohort(n, rng=seed)
    clean = cohort[["sex", "postcode", "urn", "nc_year", "year_of_birth", "month_of_birth"]].astype(
        str
    )
    rng = np.random.default_rng(seed)
    messy = clean.copy()
    hit = lambda: rng.random(n) < 0.3
    for col, fix in (
        ("sex", str.lower),
        ("urn", lambda s: " " + s),
        ("postcode", lambda s: s.replace(" ", "")),
        ("nc_year", lambda s: "Year " + s if s.isdigit() else "Reception"),
    ):
        v = messy[col].to_numpy(dtype=object)
        rows = hit()
        v[rows] = [fix(s) for s in v[rows]]
        messy[col] = v
    return clean, messy


def test_messy_file_on_spark_carries_the_profile_and_normalises_on_the_cluster(
    spark, tmp_path, capsys
):
    from riskcalc._cli import main
    from riskcalc.release import analyse as memory
    from riskcalc.release import spark_job

    clean, messy = _messy_pupils()
    path = tmp_path / "messy.parquet"
    messy.to_parquet(path)
    qi = ["urn", "nc_year", "sex", "postcode"]
    a, b = memory.analyse(path, qi), spark_job.analyse(path, qi, spark=spark)
    assert (
        b.provenance["data_quality"] == a.provenance["data_quality"]
    )  # the same profile, on the cluster
    assert {u["column"] for u in b.provenance["data_quality"]["upper_bound"]} == set(qi)
    a, b = (
        memory.analyse(path, qi, normalise=True),
        spark_job.analyse(path, qi, spark=spark, normalise=True),
    )
    assert b.provenance["data_quality"] == a.provenance["data_quality"]
    for name, frame in b.sections.items():
        pd.testing.assert_frame_equal(a.sections[name], frame, check_exact=False, rtol=1e-12)
    clean.to_parquet(tmp_path / "clean.parquet")
    want = memory.analyse(tmp_path / "clean.parquet", qi).sections["quasi_identifiers"]
    pd.testing.assert_frame_equal(
        b.sections["quasi_identifiers"], want, check_exact=False, rtol=1e-12
    )
    # the command line warned of nothing on Spark before
    assert (
        main(["analyse", str(path), "--qi", ",".join(qi), "--engine", "spark", "--format", "json"])
        == 0
    )
    err = capsys.readouterr().err
    assert "riskcalc analyse: warning: column 'postcode'" in err and "upper bound" in err


def test_report_on_spark_carries_the_profile(spark, tmp_path):
    from riskcalc.release import job, spark_job

    _, messy = _messy_pupils(800)
    path = tmp_path / "messy.parquet"
    messy.to_parquet(path)
    scen = {"gate": {"fields": ["urn", "nc_year", "sex"]}, "home": {"fields": ["sex", "postcode"]}}
    for normalise in (False, True):
        a = job.report_job(path, scenarios=scen, report=False, normalise=normalise)
        b = spark_job.report_job(
            path, scenarios=scen, report=False, normalise=normalise, spark=spark
        )
        qa, qb = a.table.provenance["data_quality"], b.table.provenance["data_quality"]
        assert qa["findings"] == qb["findings"] and qa["upper_bound"] == qb["upper_bound"]
        assert qa["normalisation"] == qb["normalisation"]
        pd.testing.assert_frame_equal(
            a.table.records, b.table.records, check_exact=False, rtol=1e-12
        )
        rows = json.loads(b.table.to_json())["records"]
        assert all(r.get("upper_bound") is True for r in rows) is (not normalise)


# --------------------------------------------------------------------------------------------
# Bad input on --engine spark: one line before Spark starts, Spark's errors in one line, a quiet
# JVM (issue 26, item 7)
# --------------------------------------------------------------------------------------------


def _cli(tmp_path, *args):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    env.pop("RISKCALC_SPARK_LOG", None)
    return subprocess.run(
        [sys.executable, "-m", "riskcalc", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    "make,match",
    [
        (
            lambda d: (d / "bad.parquet").write_bytes(b"PAR1" + b"x" * 64),
            "not a readable Parquet file",
        ),
        (
            lambda d: (
                (d / "ds").mkdir(),
                _survey().to_parquet(d / "ds" / "a.parquet"),
                (d / "ds" / "b.parquet").write_bytes(b"PAR1garbage"),
            ),
            "b.parquet",
        ),
    ],
)
def test_a_corrupt_parquet_input_is_one_line_before_spark_starts(tmp_path, make, match):
    make(tmp_path)
    target = "bad.parquet" if (tmp_path / "bad.parquet").exists() else "ds"
    res = _cli(tmp_path, "analyse", target, "--qi", "sex", "--engine", "spark")
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and match in lines[0] and "Traceback" not in res.stderr
    assert "Py4J" not in lines[0] and "internal error" not in lines[0]


def test_an_unreachable_master_is_one_line(tmp_path):
    _survey().to_parquet(tmp_path / "s.parquet")
    res = _cli(
        tmp_path,
        "analyse",
        "s.parquet",
        "--qi",
        "sex",
        "--engine",
        "spark",
        "--spark-master",
        "spark://127.0.0.1:9",
    )
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "--spark-master" in lines[0] and "cannot be reached" in lines[0]


def test_a_valid_spark_run_prints_no_jvm_log(tmp_path):
    if _skip_reason():
        pytest.skip(_skip_reason())
    _survey().to_parquet(tmp_path / "s.parquet")
    res = _cli(
        tmp_path, "analyse", "s.parquet", "--qi", "sex,year", "--engine", "spark", "--format", "csv"
    )
    assert res.returncode == 0, res.stderr
    assert res.stderr.strip() == ""  # the JVM's warnings went to its own (temporary) log


def test_spark_errors_become_one_line(spark, tmp_path):
    from riskcalc.release.spark_job import spark_error

    (tmp_path / "bad.parquet").write_bytes(b"PAR1" + b"x" * 64)
    with pytest.raises(Exception) as info:
        spark.read.parquet(str(tmp_path / "bad.parquet")).count()
    mapped = spark_error(info.value)
    assert isinstance(mapped, DataFileError)
    text = str(mapped)
    assert "\n" not in text and text.startswith("Spark failed:") and " at org.apache" not in text
    assert spark_error(ValueError("not Spark's")) is None


# --------------------------------------------------------------------------------------------
# Every public measure on the Spark backend (tests/test_common.py's registry)
# --------------------------------------------------------------------------------------------


def _headline(result) -> dict:
    """The figures a result reports, whatever the backend: its scalar fields (arrays, which
    stay on the cluster on Spark, are left out)."""
    import dataclasses

    if not dataclasses.is_dataclass(result):
        return {"repr": repr(result)}
    out = {}
    for f in dataclasses.fields(result):
        value = getattr(result, f.name)
        if isinstance(value, (int, float, str, bool, tuple)) or value is None:
            out[f.name] = value
    return out


@pytest.mark.parametrize("name", sorted(__import__("test_common").MEASURES))
def test_every_measure_on_spark_gives_the_in_memory_figures_or_one_line(spark, name):
    """Each measure of the registry on a Spark table holding the registry's frame (with missing
    values): the in-memory headline figures, or a one-line refusal naming the alternatives."""
    from test_common import MEASURES, QI, _frame

    pdf = _frame()
    pdf.loc[[2, 11, 30], "sex"] = None
    try:
        got = MEASURES[name](to_spark(spark, pdf), QI)
    except SparkUnsupportedError as err:
        assert "\n" not in str(err) and "in memory" in str(err)
        return
    expected = MEASURES[name](pdf, QI)
    if (
        name == "population_uniqueness"
    ):  # on Spark the default is Dankar's rule (docs/population.md)
        assert not got.trusted and got.caution  # Dankar's rule picks an estimator of the histogram
        ref = rc.population_uniqueness(pdf, QI, sampling_fraction=0.2, method=got.method_used)
        assert got.estimate == pytest.approx(ref.estimate, rel=1e-9)
        return
    if name == "profile_columns":  # each column's type as its own library names it

        def strip(r):
            return [dataclasses.replace(c, dtype="") for c in r.columns]

        assert strip(got) == strip(expected)
        return
    if is_spark_frame(got):  # class sizes stay where the data are, as a column
        assert int(got.count()) == len(pdf)
        return
    if name == "partition":
        expected, got = expected.size_histogram, got.size_histogram
    a, b = _headline(expected), _headline(got)
    for key, value in a.items():
        if b.get(key) is None and value is not None and key not in b:
            continue
        if isinstance(value, float):
            assert b[key] == pytest.approx(value, rel=1e-9), key
        elif b[key] is not None:
            assert b[key] == value, key
