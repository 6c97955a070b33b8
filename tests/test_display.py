"""Results display as tables in Jupyter, and per-record results come back as pandas, polars or
pyarrow frames in the input's row order."""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from test_common import MEASURES, QI, _frame

import riskcalc as rc
from riskcalc._render import RecordFrames, headline_rows, result_html

pl = pytest.importorskip("polars")

#: A figure as a repr writes it: digits, with thousands separators or a decimal point, maybe a %.
NUMBER = r"\d+(?:[.,]\d+)*%?"


def _text(element) -> str:
    return " ".join(t.strip() for t in element.itertext() if t.strip())


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_every_result_displays_as_an_html_table_with_its_headline_figures(name):
    result = MEASURES[name](_frame(), QI)
    page = result._repr_html_()
    table = ET.fromstring(page)  # well-formed: every value escaped
    assert table.tag == "table"
    caption = table.find("caption")
    assert caption is not None and caption.text
    text = _text(table)
    headline = repr(result)
    # every number of the repr (the headline figures) is in the table, and nothing else is
    numbers = re.findall(NUMBER, headline)
    assert numbers
    for number in numbers:
        assert number in text, number
    shown = set(re.findall(NUMBER, text))
    assert shown <= set(numbers) | set(re.findall(NUMBER, caption.text))


def test_every_value_is_escaped():
    df = pd.DataFrame({"<b>x</b>": ["a", "b", "a"], "y & z": [1, 1, 2]})
    page = rc.uniqueness(df, ["<b>x</b>", "y & z"])._repr_html_()
    assert "<b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page and "y &amp; z" in page
    ET.fromstring(page)


def test_headline_rows_keep_brackets_and_labels_together():
    name, rows = headline_rows("R(a=1, b=(x, y), label: 2 cells, 3 records; c=4, {1: 2})")
    assert name == "R"
    assert rows == [
        ("a", "1"),
        ("b", "(x, y)"),
        ("label", "2 cells, 3 records"),
        ("c", "4"),
        ("", "{1: 2}"),
    ]
    assert result_html(object()).startswith("<table")


PER_RECORD = {
    "class_sizes": lambda d: rc.class_sizes(d, QI, weights="w"),
    "individual_risk": lambda d: rc.individual_risk(d, QI, weights="w"),
    "suda": lambda d: rc.suda(d, QI, max_msu=2),
    "l_diversity": lambda d: rc.l_diversity(d, QI, "sen"),
    "model_risk": lambda d: rc.model_risk(d, QI, sampling_fraction=0.2),
    "population_uniqueness": lambda d: rc.population_uniqueness(d, QI, sampling_fraction=0.2),
    "t_closeness": lambda d: rc.t_closeness(d, QI, "sen"),
    "beta_likeness": lambda d: rc.beta_likeness(d, QI, "sen"),
    "delta_disclosure": lambda d: rc.delta_disclosure(d, QI, "sen"),
}


@pytest.mark.parametrize(
    ("name", "column", "per_record"),
    [
        ("t_closeness", "emd", "emd_per_record"),
        ("beta_likeness", "beta", "beta_per_record"),
        ("delta_disclosure", "delta", "delta_per_record"),
    ],
)
def test_attribute_results_give_each_record_its_class_figure(name, column, per_record):
    df = _frame()
    df.index = pd.Index(np.arange(len(df))[::-1] + 500, name="upn")
    result = PER_RECORD[name](df)
    frame = result.records_frame()
    assert frame.index.equals(df.index)
    np.testing.assert_array_equal(frame[column].to_numpy(), getattr(result, per_record))
    sizes = (
        df.groupby(QI, dropna=False)[QI[0]].transform("size").to_numpy()
    )  # the obvious reference
    np.testing.assert_array_equal(frame["class_size"].to_numpy(), sizes)


@pytest.mark.parametrize("name", sorted(PER_RECORD))
def test_per_record_results_come_back_in_every_kind_of_frame(name):
    df = _frame()
    result = PER_RECORD[name](df)
    assert isinstance(result, RecordFrames)
    expected = result.records_frame() if hasattr(result, "records_frame") else result.to_frame()
    pd.testing.assert_frame_equal(result.to_pandas(), expected)
    arrow, polars = result.to_arrow(), result.to_polars()
    assert isinstance(arrow, pa.Table) and isinstance(polars, pl.DataFrame)
    assert arrow.num_rows == polars.height == len(df)
    for column in expected.columns:
        np.testing.assert_array_equal(
            arrow.column(str(column)).to_numpy(), expected[column].to_numpy()
        )
        np.testing.assert_array_equal(polars[str(column)].to_numpy(), expected[column].to_numpy())


def test_a_pandas_index_comes_first_as_a_column_in_polars_and_arrow():
    df = _frame()
    df.index = pd.Index(np.arange(1000, 1000 + len(df))[::-1], name="upn")
    result = rc.class_sizes(df, QI)
    assert result.to_pandas().index.equals(df.index)
    assert result.to_polars().columns == ["upn", "fk"]
    assert result.to_arrow().column("upn").to_pylist() == df.index.tolist()
    plain = rc.class_sizes(_frame(), QI)
    assert plain.to_polars().columns == ["fk"]


def test_a_polars_input_gives_its_rows_back_in_order():
    df = _frame()
    frame = pl.from_pandas(df)
    got = rc.class_sizes(frame, QI).to_polars()
    assert got["fk"].to_list() == rc.class_sizes(df, QI).fk.tolist()


def test_a_missing_optional_library_is_one_line(monkeypatch):
    result = rc.class_sizes(_frame(), QI)
    monkeypatch.setitem(sys.modules, "polars", None)  # import polars -> ImportError
    line = r"^to_polars\(\) needs polars, which is not installed: pip install polars\.$"
    with pytest.raises(ImportError, match=line):
        result.to_polars()
    with pytest.raises(rc.RiskCalcError):
        result.to_polars()


def test_every_public_result_class_displays():
    results = [
        n
        for n in rc.__all__
        if isinstance(getattr(rc, n), type)
        and (
            n.endswith("Result")
            or n in ("SizeHistogram", "Partition", "RiskSummary", "RiskTable", "PopulationEstimate")
        )
    ]
    assert len(results) > 20
    missing = [n for n in results if not callable(getattr(getattr(rc, n), "_repr_html_", None))]
    assert not missing
