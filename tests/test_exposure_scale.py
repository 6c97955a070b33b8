"""The release ledger at scale (issue 29): the per-census key against the per-cell key it
replaced, the panel inputs beyond pandas, and Spark.

``_cell_key_singled`` is the grouping of the first version of ``_group_singled`` (one code
column per population and census, one per held cell, -1 where not held), kept here as the old
path every new one must agree with, group by group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_exposure import (
    COLUMNS,
    FIELDS,
    SCENARIO,
    SLOW,
    _hand_ledger,
    _las,
    _ledger,
    _panel,
    ledgers,
)

import riskcalc as rc
import synthetic
from riskcalc._core.panel import class_sizes_of_codes
from riskcalc.release import exposure
from riskcalc.release.exposure import _Engine, _group_singled, _groups


def _cell_key_singled(panel, group, fields, sample_seed):
    """The old path: the key as one column per (population, census) and per held cell."""
    rels = [r for r in group if any(f in fields for f in r.fields)]
    out = np.zeros(panel.n, bool)
    if not rels:
        return out
    pops = sorted({r.pop_key for r in rels})
    helds = [panel.held(next(r for r in rels if r.pop_key == pop), sample_seed) for pop in pops]
    any_held = np.zeros(panel.n, bool)
    for h in helds:
        any_held |= h.any_row
    rec = np.flatnonzero(any_held)
    cols = []
    by_field = {}
    for pop, h in zip(pops, helds, strict=True):
        own = [h.mask[t][rec] for t in h.times]
        cols += [c.astype(np.int64) for c in own]
        for f in fields:
            if any(f in r.fields for r in rels if r.pop_key == pop):
                cells = by_field.setdefault(f, {})
                for t, c in zip(h.times, own, strict=True):
                    cells[t] = cells[t] | c if t in cells else c
    for f in sorted(by_field):
        v = panel.values(f).astype(np.int64)
        cols += [np.where(c, v[t][rec], -1) for t, c in sorted(by_field[f].items())]
    if not cols:
        return out
    fk = class_sizes_of_codes(cols)
    out[rec[fk == 1]] = True
    return out


def _every_group_agrees(panel, ledger, fields, sample_seed=0):
    eng = _Engine.build(panel, ledger, list(fields), "test", sample_seed=sample_seed)
    n = 0
    for recipient in eng.recipients:
        rels = [r for r in eng.by_recipient[recipient] if r.population != "aggregate"]
        for g in _groups(rels):
            new = _group_singled(eng.panel, g, eng.fields, sample_seed)
            old = _cell_key_singled(eng.panel, g, eng.fields, sample_seed)
            np.testing.assert_array_equal(new, old)
            n += 1
    return n


@pytest.mark.parametrize("seed", [0, 1])
def test_per_census_key_equals_the_cell_key_on_the_hand_ledger(seed):
    panel = _panel(seed)
    assert _every_group_agrees(panel, _hand_ledger(_las(panel)), SCENARIO) > 0


@SLOW
@given(data=st.data(), seed=st.sampled_from([0, 1]))
def test_per_census_key_equals_the_cell_key(data, seed):
    """Property: for any ledger and scenario, every joined group singles out the same children
    by the per-census key (population pattern, code of the held fields) as by the per-cell
    key."""
    panel = _panel(seed)
    ledger = data.draw(ledgers(_las(panel)))
    fields = tuple(data.draw(st.sets(st.sampled_from(FIELDS), min_size=1, max_size=5)))
    _every_group_agrees(panel, ledger, fields, data.draw(st.integers(0, 3)))


def test_more_than_62_populations_in_one_group():
    """A group holding a child in over 62 populations at a census: the pattern takes two words
    (combined by the grouping kernel), and agrees with the per-cell key."""
    panel = _panel(0, 800)
    rows = [
        (
            f"s{i}",
            "uni",
            ("urn", "sex") if i % 2 else ("month_of_birth",),
            (2019, 2020),
            (),
            f"sample:{0.3 + 0.005 * i:.3f}",
            "pmr",
        )
        for i in range(70)
    ]
    ledger = _ledger(rows)
    assert _every_group_agrees(panel, ledger, SCENARIO) == 1
    eng = _Engine.build(panel, ledger, list(SCENARIO), "test")
    assert len({r.pop_key for r in eng.releases}) == 70


def test_the_cells_cache_budget_never_changes_a_figure(monkeypatch):
    panel = _panel(1)
    ledger = _hand_ledger(_las(panel))
    full = rc.ledger_exposure(panel, ledger, list(SCENARIO))
    monkeypatch.setattr(exposure, "_CELLS_BUDGET", 0)
    monkeypatch.setattr(exposure, "_HELD_BUDGET", 0)
    small = rc.ledger_exposure(panel, ledger, list(SCENARIO))
    pd.testing.assert_frame_equal(full.per_child, small.per_child)
    pd.testing.assert_frame_equal(full.per_recipient, small.per_recipient)


def test_the_synthetic_ledger_equals_the_cell_key():
    """The whole 887-release synthetic ledger on a small panel of its years: every group."""
    panel = synthetic.generate_panel(1_500, first_year=2011, years=5, rng=3, columns=COLUMNS)
    ledger = synthetic.generate_ledger(0)
    assert _every_group_agrees(panel, ledger, SCENARIO) > 100


# ------------------------------------------------------------------------------------------
# panels beyond pandas
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A panel written by generate_panel(out=...), that dataset read into pandas, a ledger."""
    import pyarrow.dataset as ds

    out = tmp_path_factory.mktemp("ledger") / "panel"
    dataset = synthetic.generate_panel(
        1_200, first_year=2019, years=3, rng=5, out=out, columns=COLUMNS
    )
    frame = ds.dataset(out, format="parquet", partitioning="hive").to_table().to_pandas()
    return dataset, frame, _hand_ledger(_las(frame))


def _same(a, b, *, categories=True):
    if categories:
        pd.testing.assert_frame_equal(a.per_child, b.per_child)
    else:  # the same values, as the table types them (a CSV's are text)
        pd.testing.assert_frame_equal(
            a.per_child.astype(str), b.per_child.astype(str), check_dtype=False
        )
    pd.testing.assert_frame_equal(a.per_recipient, b.per_recipient)
    key = ["field", "value"]
    pd.testing.assert_frame_equal(
        a.by.sort_values(key).reset_index(drop=True), b.by.sort_values(key).reset_index(drop=True)
    )
    assert (a.median, a.p90, a.n_at_least) == (b.median, b.p90, b.n_at_least)


@pytest.mark.parametrize("kind", ["path", "dataset", "arrow", "polars", "csv"])
def test_any_table_gives_the_figures_of_pandas(written, kind, tmp_path):
    import pyarrow as pa

    dataset, frame, ledger = written
    ref = rc.ledger_exposure(frame, ledger, list(SCENARIO))
    if kind == "path":
        panel = str(dataset.path)
    elif kind == "dataset":
        panel = dataset
    elif kind == "arrow":
        panel = pa.Table.from_pandas(frame, preserve_index=False)
    elif kind == "polars":
        pl = pytest.importorskip("polars")
        panel = pl.from_pandas(frame)
    else:
        panel = tmp_path / "panel.csv"
        frame.to_csv(panel, index=False)
    res = rc.ledger_exposure(panel, ledger, list(SCENARIO))
    # polars and CSV keep their own category order (or none): the breakdown rows may come in
    # another order, the figures do not change
    _same(res, ref, categories=kind in ("path", "dataset", "arrow"))


def test_a_path_reads_only_the_columns_needed(written, monkeypatch):
    from riskcalc._core import io

    dataset, frame, ledger = written
    asked = []
    real = io.read_table

    def spy(path, columns=None, **kw):
        asked.append(list(columns))
        return real(path, columns, **kw)

    monkeypatch.setattr(io, "read_table", spy)
    rc.ledger_exposure(dataset.path, ledger, list(SCENARIO), by=("region",))
    # the scenario's fields, the selection and breakdown columns, and every field a release
    # holds (the links between record sets compare them all), those the panel has
    held = {f for fs in ledger["fields"] for f in fs} & set(frame.columns)
    expected = {"pupil_id", "academic_year", "census", *SCENARIO, "la_code", "region", *held}
    assert set(asked[0]) == expected


def test_a_missing_column_of_a_path_is_named(written):
    dataset, _, ledger = written
    with pytest.raises(rc.MissingColumnError, match="'forename'") as info:
        rc.ledger_exposure(dataset.path, ledger, ["forename", "sex"])
    assert "\n" not in str(info.value)


# ------------------------------------------------------------------------------------------
# Spark: encoded on the cluster, the codes collected once
# ------------------------------------------------------------------------------------------
# the one local Spark session of the tests (skipped with its reason without pyspark or Java)
from test_spark import spark  # noqa: F401


@pytest.mark.slow
def test_a_spark_panel_gives_the_figures_of_pandas(written, spark):  # noqa: F811
    """A Spark panel (read from the Parquet dataset, with a missing value and a date column)
    gives the in-memory figures; its text columns reach the driver as codes."""
    from riskcalc._core.spark import collect_coded

    dataset, frame, ledger = written
    frame = frame.copy()
    frame["sex"] = frame["sex"].astype(object)
    frame.loc[frame.index[:40], "sex"] = None  # a missing value: a value of its own
    frame["academic_year"] = frame["academic_year"].astype("int64")
    sdf = spark.createDataFrame(
        frame.astype(
            {c: object for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)}
        )
    )
    ref = rc.ledger_exposure(frame, ledger, list(SCENARIO))
    res = rc.ledger_exposure(sdf, ledger, list(SCENARIO))
    _same(res, ref, categories=False)
    coded = collect_coded(sdf, ["pupil_id", "urn", "sex"])
    assert isinstance(coded["pupil_id"].dtype, pd.CategoricalDtype)
    assert coded["sex"].isna().sum() == 40


def test_a_scenario_of_over_62_fields():
    """Field bits past int64 (a scenario of 70 fields, most absent from every release) take
    the Python-integer path and agree with the per-cell key."""
    panel = _panel(2, 600)
    extra = {f"x{i}": (panel["urn"].to_numpy() + i) % 3 for i in range(66)}
    panel = panel.assign(**extra)
    fields = (*SCENARIO, *extra)
    ledger = _ledger(
        [
            ("r1", "uni", ("urn", "x65"), (2019, 2020), (), "all", "pmr"),
            ("r2", "uni", ("sex", "x0", "x64"), (2020,), (), "sample:0.5", "pmr"),
            ("r3", "firm", ("x65", "month_of_birth"), (2021,), (), "all", "none"),
        ]
    )
    assert len(fields) > 62
    assert _every_group_agrees(panel, ledger, fields) == 2
