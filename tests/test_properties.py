"""Invariants of the measures (STYLE.md section 3, kind 2), checked with hypothesis.

These do not need the reference: each compares riskcalc with itself on transformed data (rows
permuted, rows duplicated, a column added, an aggregate table expanded to records, ...).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import strategies as S
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import riskcalc as rc

PROPS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RTOL = 1e-12
K_THRESHOLDS = (1, 2, 3, 4, 5, 7, 10, 20)


def figures(data, qi, *, thresholds=K_THRESHOLDS) -> dict:
    """Every order-free figure riskcalc gives for ``qi``."""
    k = rc.k_anonymity(data, qi, thresholds=thresholds)
    u = rc.uniqueness(data, qi)
    sc = rc.small_count_exposure(data, qi, thresholds=thresholds)
    part = rc.partition(data, qi)
    return {
        "n_records": u.n_records,
        "n_classes": u.n_classes,
        "k": k.k,
        "records_below": k.records_below.tolist(),
        "classes_below": k.classes_below.tolist(),
        "n_unique": u.n_unique,
        "n_pairs": u.n_pairs,
        "average_risk": u.average_risk,
        "highest_risk": u.highest_risk,
        "cells": sc.cells_at_most.tolist(),
        "records_in_cells_at_most": sc.records_in_cells_at_most.tolist(),
        "n_cells": sc.n_cells,
        "class_sizes": sorted(part.class_sizes.tolist()),
        "histogram": [part.size_histogram.sizes.tolist(), part.size_histogram.counts.tolist()],
    }


def assert_same_figures(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        if isinstance(a[name], float):
            assert_allclose(a[name], b[name], rtol=RTOL, err_msg=name)
        else:
            assert a[name] == b[name], name


# --------------------------------------------------------------------------------------------
# Row order
# --------------------------------------------------------------------------------------------


@st.composite
def permuted(draw, **kwargs):
    frame, qi = draw(S.frames_and_qi(index=True, **kwargs))
    order = draw(st.permutations(range(len(frame))))
    return frame, qi, np.asarray(order, dtype=np.intp)


@PROPS
@given(permuted())
def test_row_order_never_changes_any_figure(case):
    frame, qi, order = case
    shuffled = frame.iloc[order]
    assert_same_figures(figures(frame, qi), figures(shuffled, qi))
    # Per-record fk permutes with the rows, and keeps the rows' labels.
    before = rc.class_sizes(frame, qi)
    after = rc.class_sizes(shuffled, qi)
    assert_array_equal(after.fk, before.fk[order])
    assert after.to_frame().index.equals(shuffled.index)
    assert_array_equal(
        after.to_frame()["fk"].to_numpy(), before.to_frame()["fk"].loc[shuffled.index].to_numpy()
    )


@PROPS
@given(permuted())
def test_row_order_never_changes_any_figure_arrow(case):
    frame, qi, order = case
    table = pa.Table.from_pandas(frame, preserve_index=False)
    shuffled = table.take(pa.array(order))
    assert_same_figures(figures(table, qi), figures(shuffled, qi))
    assert_array_equal(rc.class_sizes(shuffled, qi).fk, rc.class_sizes(table, qi).fk[order])


@PROPS
@given(permuted())
def test_partition_is_canonical_under_permutation(case):
    """The same classes whatever the row order: the class-size multiset, and two records share
    a class id after permuting exactly when they did before."""
    frame, qi, order = case
    a = rc.partition(frame, qi)
    b = rc.partition(frame.iloc[order], qi)
    assert sorted(a.class_sizes.tolist()) == sorted(b.class_sizes.tolist())
    assert a.n_classes == b.n_classes
    ids_a = a.class_id[order]
    ids_b = b.class_id
    # A bijection between the two numberings.
    mapping = {}
    for x, y in zip(ids_a.tolist(), ids_b.tolist()):
        assert mapping.setdefault(x, y) == y
    assert len(set(mapping.values())) == len(mapping)
    assert_array_equal(a.class_sizes[a.class_id][order], b.class_sizes[b.class_id])


@PROPS
@given(S.frames_with_weights(), st.data())
def test_row_order_permutes_Fk(case, data):
    frame, qi, w = case
    order = np.asarray(data.draw(st.permutations(range(len(frame)))), dtype=np.intp)
    before = rc.class_sizes(frame, qi, weights="w")
    after = rc.class_sizes(frame.iloc[order], qi, weights="w")
    assert_allclose(after.Fk, before.Fk[order], rtol=RTOL)
    kb = rc.k_anonymity(frame, qi, weights=np.asarray(w))
    ka = rc.k_anonymity(frame.iloc[order], qi, weights=np.asarray(w)[order])
    assert kb.records_below_weighted.tolist() == ka.records_below_weighted.tolist()


# --------------------------------------------------------------------------------------------
# Duplicating rows, sums, identities
# --------------------------------------------------------------------------------------------


@PROPS
@given(S.frames_and_qi())
def test_duplicating_every_row_doubles_fk_and_k(case):
    frame, qi = case
    doubled = pd.concat([frame, frame], ignore_index=True)
    fk = rc.class_sizes(frame, qi).fk
    assert_array_equal(rc.class_sizes(doubled, qi).fk, np.concatenate([2 * fk, 2 * fk]))
    k1, k2 = rc.k_anonymity(frame, qi), rc.k_anonymity(doubled, qi)
    assert k2.k == 2 * k1.k
    assert k2.n_classes == k1.n_classes
    assert k2.n_records == 2 * k1.n_records
    u1, u2 = rc.uniqueness(frame, qi), rc.uniqueness(doubled, qi)
    assert u2.n_unique == 0
    assert u2.n_pairs == 2 * u1.n_unique
    assert_allclose(u2.average_risk, u1.average_risk / 2, rtol=RTOL)
    assert_allclose(u2.highest_risk, u1.highest_risk / 2, rtol=RTOL)
    assert sorted(rc.partition(doubled, qi).class_sizes.tolist()) == sorted(
        (2 * rc.partition(frame, qi).class_sizes).tolist()
    )


@PROPS
@given(S.frames_and_qi())
def test_class_sizes_sum_to_the_number_of_records(case):
    frame, qi = case
    part = rc.partition(frame, qi)
    assert int(part.class_sizes.sum()) == len(frame) == part.n_records
    assert (part.class_sizes >= 1).all()
    sizes, n_of_size = part.size_histogram.sizes, part.size_histogram.counts
    assert int((sizes * n_of_size).sum()) == len(frame)
    assert int(n_of_size.sum()) == part.n_classes
    assert list(sizes) == sorted(set(sizes.tolist()))
    fk = rc.class_sizes(frame, qi).fk
    # Each class of size s contributes s records of fk s, so sum(1/fk) = number of classes.
    assert_allclose(np.sum(1.0 / fk), part.n_classes, rtol=RTOL)
    assert set(fk.tolist()) == set(sizes.tolist())


@PROPS
@given(S.frames_and_qi())
def test_uniqueness_identities(case):
    frame, qi = case
    u = rc.uniqueness(frame, qi)
    fk = rc.class_sizes(frame, qi).fk
    assert_allclose(u.average_risk, u.n_classes / u.n_records, rtol=RTOL)
    assert_allclose(u.average_risk, np.mean(1.0 / fk), rtol=RTOL)
    assert_allclose(u.highest_risk, 1.0 / fk.min(), rtol=RTOL)
    assert 0 < u.average_risk <= u.highest_risk <= 1
    assert u.n_unique + u.n_pairs <= u.n_records
    assert u.n_pairs % 2 == 0
    assert u.n_unique == int((fk == 1).sum())
    assert u.n_pairs == int((fk == 2).sum())
    assert u.expected_reidentifications == u.n_classes
    assert_allclose(u.unique_share, u.n_unique / u.n_records, rtol=RTOL)


@PROPS
@given(S.frames_and_qi(), S.thresholds)
def test_threshold_counts_are_monotone(case, thresholds):
    frame, qi = case
    ts = sorted(set(thresholds))
    k = rc.k_anonymity(frame, qi, thresholds=thresholds)
    sc = rc.small_count_exposure(frame, qi, thresholds=thresholds)
    for arr in (k.records_below, k.classes_below, sc.cells_at_most, sc.records_in_cells_at_most):
        assert (np.diff(arr) >= 0).all()
    assert (k.records_below <= k.n_records).all() and (k.classes_below <= k.n_classes).all()
    for t, r, c in zip(ts, k.records_below, k.classes_below):
        # fk < t for some record exactly when t > k; records below t are at least the classes.
        assert (r > 0) == (t > k.k)
        assert c <= r
    # Record-level data: "at or below t" is "below t + 1".
    shifted = rc.k_anonymity(frame, qi, thresholds=[t + 1 for t in ts])
    assert sc.records_in_cells_at_most.tolist() == shifted.records_below.tolist()
    assert sc.cells_at_most.tolist() == shifted.classes_below.tolist()


@PROPS
@given(S.frames_and_qi())
def test_small_counts_at_one_are_the_sample_uniques(case):
    frame, qi = case
    u = rc.uniqueness(frame, qi)
    sc = rc.small_count_exposure(frame, qi, thresholds=[1, 2])
    assert sc.records_in_cells_at_most[0] == u.n_unique == sc.cells_at_most[0]
    assert sc.records_in_cells_at_most[1] == u.n_unique + u.n_pairs
    assert sc.n_cells == u.n_classes
    assert sc.n_records == u.n_records


# --------------------------------------------------------------------------------------------
# Adding a column refines the classes
# --------------------------------------------------------------------------------------------


@PROPS
@given(S.safe_frames(min_cols=2), st.data())
def test_adding_a_column_refines_the_classes(frame, data):
    qi = data.draw(S.quasi_identifiers(frame))
    rest = [c for c in frame.columns if c not in qi]
    if not rest:
        qi = qi[:-1] or qi
        rest = [c for c in frame.columns if c not in qi]
    extra = data.draw(st.sampled_from(rest))
    wider = qi + [extra]
    a, b = figures(frame, qi), figures(frame, wider)
    assert b["k"] <= a["k"]
    assert b["n_unique"] >= a["n_unique"]
    assert b["n_classes"] >= a["n_classes"]
    assert b["average_risk"] >= a["average_risk"] - 1e-15
    assert b["highest_risk"] >= a["highest_risk"]
    assert all(x >= y for x, y in zip(b["records_below"], a["records_below"]))
    assert all(x >= y for x, y in zip(b["records_in_cells_at_most"], a["records_in_cells_at_most"]))
    fa, fb = rc.class_sizes(frame, qi).fk, rc.class_sizes(frame, wider).fk
    assert (fb <= fa).all()
    # Each wider class lies inside one narrower class.
    pa_, pb = rc.partition(frame, qi), rc.partition(frame, wider)
    parent = {}
    for x, y in zip(pb.class_id.tolist(), pa_.class_id.tolist()):
        assert parent.setdefault(x, y) == y


@PROPS
@given(S.frames_and_qi(min_cols=1))
def test_column_order_of_the_quasi_identifiers_does_not_matter(case):
    frame, qi = case
    assert_same_figures(figures(frame, qi), figures(frame, qi[::-1]))
    assert_array_equal(rc.class_sizes(frame, qi).fk, rc.class_sizes(frame, qi[::-1]).fk)


# --------------------------------------------------------------------------------------------
# Weights, aggregates, missing policy, encoding reuse
# --------------------------------------------------------------------------------------------


@PROPS
@given(S.frames_and_qi(), S.thresholds)
def test_unit_weights_give_Fk_equal_to_fk(case, thresholds):
    frame, qi = case
    ones = np.ones(len(frame))
    res = rc.class_sizes(frame, qi, weights=ones)
    assert_allclose(res.Fk, res.fk, rtol=RTOL)
    assert_allclose(res.weight_total, len(frame), rtol=RTOL)
    k = rc.k_anonymity(frame, qi, thresholds=thresholds, weights=ones)
    assert k.records_below_weighted.tolist() == k.records_below.tolist()


@PROPS
@given(S.frames_with_weights())
def test_Fk_is_constant_on_classes_and_sums_to_the_population(case):
    frame, qi, w = case
    res = rc.class_sizes(frame, qi, weights="w")
    part = rc.partition(frame, qi)
    per_class = {}
    for cid, F in zip(part.class_id.tolist(), res.Fk.tolist()):
        per_class.setdefault(cid, F)
        assert_allclose(per_class[cid], F, rtol=RTOL)
    assert_allclose(sum(per_class.values()), np.sum(w), rtol=1e-9, atol=1e-9)
    assert (res.Fk >= np.asarray(w) - 1e-9).all()


@PROPS
@given(S.aggregate_tables(), S.thresholds)
def test_aggregate_table_equals_the_records_it_counts(case, thresholds):
    """Expanding an aggregate table (each row repeated ``count`` times) gives record-level data
    with the same small cells."""
    frame, qi, counts = case
    agg = rc.small_count_exposure(frame, qi, thresholds=thresholds, count="count")
    records = frame.loc[frame.index.repeat(counts)]
    if len(records) == 0:
        assert agg.n_cells == 0 and agg.n_records == 0
        assert agg.cells_at_most.tolist() == [0] * len(set(thresholds))
        return
    micro = rc.small_count_exposure(records, qi, thresholds=thresholds)
    assert agg.n_records == micro.n_records == sum(counts)
    assert agg.n_cells == micro.n_cells
    assert agg.cells_at_most.tolist() == micro.cells_at_most.tolist()
    assert agg.records_in_cells_at_most.tolist() == micro.records_in_cells_at_most.tolist()


@PROPS
@given(S.aggregate_tables(), S.thresholds)
def test_aggregate_rows_with_a_count_of_one_are_records(case, thresholds):
    frame, qi, _ = case
    ones = rc.small_count_exposure(frame, qi, thresholds=thresholds, count=np.ones(len(frame)))
    micro = rc.small_count_exposure(frame, qi, thresholds=thresholds)
    assert ones.cells_at_most.tolist() == micro.cells_at_most.tolist()
    assert ones.records_in_cells_at_most.tolist() == micro.records_in_cells_at_most.tolist()
    assert (ones.n_cells, ones.n_records) == (micro.n_cells, micro.n_records)


@PROPS
@given(S.frames_and_qi(missing_rate=st.just(0.0)))
def test_without_missing_values_raise_and_category_agree(case):
    frame, qi = case
    assert_array_equal(rc.class_sizes(frame, qi, missing="raise").fk, rc.class_sizes(frame, qi).fk)
    assert rc.k_anonymity(frame, qi, missing="raise").k == rc.k_anonymity(frame, qi).k
    assert rc.uniqueness(frame, qi, missing="raise").n_unique == rc.uniqueness(frame, qi).n_unique


@PROPS
@given(S.safe_frames(), st.data())
def test_one_encoding_answers_many_queries(frame, data):
    """An EncodedTable (with its partition cache, which keeps 8) answers a long sequence of
    queries exactly as fresh encodings do."""
    enc = rc.encode(frame)
    queries = data.draw(
        st.lists(
            st.tuples(S.quasi_identifiers(frame), st.sampled_from(["category", "raise"])),
            min_size=1,
            max_size=14,
        )
    )
    for qi, missing in queries:
        try:
            expected = rc.class_sizes(frame, qi, missing=missing).fk
        except rc.MissingValueError:
            try:
                rc.class_sizes(enc, qi, missing=missing)
            except rc.MissingValueError:
                continue
            raise AssertionError("the encoded table did not raise") from None
        assert_array_equal(rc.class_sizes(enc, qi, missing=missing).fk, expected)
        assert_array_equal(rc.partition(enc, qi, missing=missing).fk, expected)
        assert rc.k_anonymity(enc, qi, missing=missing).k == int(expected.min())


@PROPS
@given(S.frames_and_qi(), st.data())
def test_missing_marker_spelling_does_not_matter(case, data):
    """Rewriting every column as object dtype with each missing value spelled None, NaN or
    pd.NA (at random) changes no class."""
    frame, qi = case
    markers = [None, np.nan, pd.NA]
    rewritten = {}
    for c in qi:
        values = frame[c].astype(object).tolist()
        out = []
        for v in values:
            if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
                out.append(markers[data.draw(st.integers(0, 2))])
            else:
                out.append(v)
        rewritten[c] = pd.Series(out, dtype=object)
    other = pd.DataFrame(rewritten)
    assert_array_equal(rc.class_sizes(other, qi).fk, rc.class_sizes(frame, qi).fk)


@PROPS
@given(S.frames_and_qi())
def test_risk_summary_agrees_with_the_single_measures(case):
    frame, qi = case
    summary = rc.risk_summary(frame, qi)
    assert summary.uniqueness.n_unique == rc.uniqueness(frame, qi).n_unique
    assert (
        summary.k_anonymity.records_below.tolist()
        == rc.k_anonymity(frame, qi).records_below.tolist()
    )
    assert (
        summary.small_counts.records_in_cells_at_most.tolist()
        == rc.small_count_exposure(frame, qi).records_in_cells_at_most.tolist()
    )
    table = summary.to_frame()
    assert list(table.columns) == ["measure", "threshold", "value", "share"]
    shares = table["share"].dropna().to_numpy()
    assert ((shares >= 0) & (shares <= 1)).all()
