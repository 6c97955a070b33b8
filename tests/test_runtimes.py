"""Behaviour that must not depend on which supported pandas or pyspark a runtime ships.

The oldest-versions lane (.ci/oldest) runs this file at pandas 1.5.3, numpy 1.23.5 and pyarrow
14.0.1 (what Databricks Runtime 15.4 LTS ships); the main suite at the newest versions.
"""

import sys

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskcalc._compat import numeric_view
from riskcalc.audit import audit_tables
from riskcalc.exceptions import InvalidParameterError
from riskcalc.output_check import check_frequency_table

ARROW_TYPES = [
    pa.int8(),
    pa.int16(),
    pa.int32(),
    pa.int64(),
    pa.uint8(),
    pa.uint32(),
    pa.uint64(),
    pa.float32(),
    pa.float64(),
    pa.bool_(),
    pa.string(),
    pa.date32(),
    pa.timestamp("ns"),
]


@pytest.mark.parametrize("typ", ARROW_TYPES, ids=str)
def test_arrow_numbers_are_numbers_on_every_pandas(typ):
    """pandas 2's answers for Arrow dtypes (pandas 1.5 called no Arrow number numeric)."""
    dtype = numeric_view(pd.ArrowDtype(typ))
    is_int = pa.types.is_integer(typ)
    is_float = pa.types.is_floating(typ)
    assert pd.api.types.is_integer_dtype(dtype) == is_int
    assert pd.api.types.is_float_dtype(dtype) == is_float
    assert pd.api.types.is_numeric_dtype(dtype) == (is_int or is_float)


cells = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["F", "M"]), st.integers(0, 40)),
    min_size=1,
    max_size=6,
    unique_by=lambda t: t[:2],
)


@settings(max_examples=25, deadline=None)
@given(cells, st.sampled_from([pa.int64(), pa.int32(), pa.float64()]))
def test_an_arrow_count_column_is_read_as_its_numbers(rows, typ):
    """The audit and the output checker give an Arrow count column the verdicts of the same
    counts as numpy integers (pandas 1.5 refused it: 'must hold whole numbers')."""
    plain = pd.DataFrame(rows, columns=["la", "sex", "count"])
    arrow = plain.assign(count=plain["count"].astype(pd.ArrowDtype(typ)))
    expected = audit_tables(plain, "dfe_suppress_below_5").to_frame()
    pd.testing.assert_frame_equal(audit_tables(arrow, "dfe_suppress_below_5").to_frame(), expected)
    want = check_frequency_table(plain, rows=["la"], columns=["sex"])
    got = check_frequency_table(arrow, rows=["la"], columns=["sex"])
    assert got.to_markdown() == want.to_markdown()


def test_spark_before_4_is_refused_in_one_line(monkeypatch):
    """Spark 3.5 (Databricks Runtime 15.4 and 16.4 LTS) lacks grouping sets and toArrow: one
    line naming the versions, never an AttributeError part-way through a job."""
    pyspark = pytest.importorskip("pyspark")
    from riskcalc._core import spark

    monkeypatch.setattr(pyspark, "__version__", "3.5.0")
    with pytest.raises(InvalidParameterError) as info:
        spark._functions()
    message = str(info.value)
    assert "\n" not in message and "pyspark 4.0 or newer" in message and "pyspark 3.5.0" in message
    for version in ("4.0.0", "4.1.0.dev1", "17.3.1"):
        monkeypatch.setattr(pyspark, "__version__", version)
        assert spark._functions() is sys.modules["pyspark.sql.functions"]
