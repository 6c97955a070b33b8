"""Attribute disclosure: l-diversity, t-closeness, beta-likeness, delta-disclosure, homogeneity.

Three kinds of test, as elsewhere: known values (published examples, worked by hand in the
comments), the vectorised code against the slow reference ``tests/_reference_attribute.py`` on
random frames (missing values included), and properties.
"""

from __future__ import annotations

import contextlib
import doctest
import math

import _reference_attribute as ref
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import strategies as S
from conftest import PRACTICE_QI, oracle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import riskcalc as rc
import riskcalc._core.crosstab as crosstab
import riskcalc.attribute as attribute
from riskcalc._core.encoding import EncodedColumn
from riskcalc.attribute import (
    attribute_disclosure,
    beta_likeness,
    delta_disclosure,
    l_diversity,
    t_closeness,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RTOL = 1e-9

PUBLIC = ["l_diversity", "t_closeness", "beta_likeness", "delta_disclosure", "attribute_disclosure"]


# --------------------------------------------------------------------------------------------
# Known values
# --------------------------------------------------------------------------------------------


def test_practice_guide_table_4_3_distinct_l():
    # SDC Practice Guide, table 4.3 (sdcMicro ldiversity): distinct l per record.
    df = pd.read_csv(oracle("03_sdcpractice_tab43_ldiversity/input.csv"))
    res = l_diversity(df, PRACTICE_QI, "Health", c=2)
    assert_array_equal(res.distinct_l_per_record, [1, 1, 1, 2, 1, 2, 1, 1, 2, 2])
    assert res.distinct_l == 1
    # Classes with two values hold one "yes" and one "no": entropy exp(ln 2) = 2.
    assert_allclose(res.entropy_l_per_record, [1, 1, 1, 2, 1, 2, 1, 1, 2, 2], rtol=RTOL)
    # (c=2, l=2) for a yes/no pair: r1 = 1 < 2 * r2 = 2. Singletons stop at l = 1.
    assert_array_equal(res.recursive_l_per_record, [1, 1, 1, 2, 1, 2, 1, 1, 2, 2])
    # Records 1, 2, 3, 5, 7, 8 are in homogeneous classes (here all of size 1 or a "yes" pair).
    assert res.records_revealed == 6
    assert_array_equal(res.to_frame().index, df.index)


def test_sdcmicro_ldiversity_missing_keys():
    # sdcMicro test_ldiversity.R keys; missing occupation is a value of its own, so the three
    # women (sensitive 1, 0, 2) form one class with 3 values; the two other classes have 2.
    df = pd.read_csv(oracle("09_sdcmicro_ldiversity_na_keys/input.csv"))
    res = l_diversity(df, ["sex", "occupation", "ethnicity"], "sensitive", c=2)
    assert_array_equal(res.distinct_l_per_record, [3, 3, 3, 2, 2, 2, 2])
    assert_allclose(res.entropy_l_per_record, [3, 3, 3, 2, 2, 2, 2], rtol=RTOL)
    # Counts (1, 1, 1): l = 3 since 1 < 2 * 1; counts (1, 1): l = 2.
    assert_array_equal(res.recursive_l_per_record, [3, 3, 3, 2, 2, 2, 2])
    assert (res.distinct_l, res.recursive_l, res.records_revealed) == (2, 2, 0)
    with pytest.raises(rc.MissingValueError, match="occupation"):
        l_diversity(df, ["sex", "occupation", "ethnicity"], "sensitive", missing="raise")


def test_li2007_salary_example():
    # Li, Li & Venkatasubramanian (2007), section 4: overall salaries {3..11}k, each 1/9.
    # Hand calculation with the ordered EMD, D = sum_i |sum_{j<=i} r_j| / (m - 1), m = 9:
    #   {3,4,5}k:  cumulative r = 2,4,6,5,4,3,2,1,0 (/9)  -> 27/9/8 = 0.375   (the paper's P1)
    #   {6,8,11}k: cumulative r = -1,-2,-3,-1,-2,0,-1,-2,0 -> 12/9/8 = 0.1667 (the paper's P2)
    # In input.csv the classes are the paper's 3-diverse table 4: {3,5,9}, {6,11,8}, {4,7,10}.
    #   {3,5,9}k:  2,1,3,2,1,0,2,1,0 -> 12/72 = 0.1667;  {4,7,10}k: 1,1,0,1,1,0,1,1,0 -> 6/72.
    # So it is the class {6,8,11}k (and {3,5,9}k) that gives 0.167: the table is 0.167-close.
    df = pd.read_csv(oracle("20_li2007_tcloseness_emd/input.csv"))
    res = t_closeness(df, ["class"], "salary_k")
    assert res.ordered and res.n_values == 9
    assert_allclose(res.emd, [1 / 6, 1 / 6, 1 / 12], rtol=RTOL)
    assert_allclose(res.t, 1 / 6, rtol=RTOL)
    assert res.records_at_t == 6
    assert_allclose(res.emd_per_record, np.repeat([1 / 6, 1 / 6, 1 / 12], 3), rtol=RTOL)


def test_li2007_pymasq_variant():
    # The pyCANON/pymasq variant: classes {3,4,5}, {6,8,11}, {7,9,10}.
    #   {7,9,10}k: cumulative r = -1,-2,-3,-4,-2,-3,-1,1,0 (/9) -> 17/72 = 0.2361
    df = pd.read_csv(oracle("20_li2007_tcloseness_emd/input_pymasq.csv"))
    res = t_closeness(df, ["col_0", "col_1", "col_2"], "sensitive")
    assert_allclose(res.emd, [0.375, 1 / 6, 17 / 72], rtol=RTOL)
    assert_allclose(res.t, 0.375, rtol=RTOL)
    # Nominal reading of the same numbers: every class shares no value with the others, so
    # each class is 1/2 * (3 * (1/3 - 1/9) + 6 * 1/9) = 2/3 from the table.
    assert_allclose(
        t_closeness(df, ["col_0", "col_1", "col_2"], "sensitive", ordered=False).emd, [2 / 3] * 3
    )
    # beta: q = 1/3 against p = 1/9 -> (1/3 - 1/9) / (1/9) = 2; -ln(1/9) = 2.197 > 2, so the
    # enhanced model agrees. delta = ln(3).
    assert_allclose(beta_likeness(df, ["col_0", "col_1", "col_2"], "sensitive").beta, 2.0)
    enh = beta_likeness(df, ["col_0", "col_1", "col_2"], "sensitive", enhanced=True)
    assert_allclose(enh.beta, 2.0)
    assert enh.records_over_cap == 0
    assert_allclose(
        delta_disclosure(df, ["col_0", "col_1", "col_2"], "sensitive").delta, math.log(3)
    )


def test_li2007_letters_variant_equal_distance():
    # pyCANON's letters variant: overall A, B, C each 3/9. Classes {A,B,C}: 0;
    # {A,B,A}: 1/2 (|2/3-1/3| + 0 + 1/3) = 1/3; {C,C,B}: 1/3. Text is nominal by default.
    df = pd.read_csv(oracle("20_li2007_tcloseness_emd/input_letters.csv"))
    qi = ["col_0", "col_1", "col_2"]
    res = t_closeness(df, qi, "sensitive")
    assert not res.ordered
    assert_allclose(res.emd, [0, 1 / 3, 1 / 3], atol=1e-12)
    assert_allclose(res.t, 1 / 3, rtol=RTOL)
    # Alphabetical order A < B < C with the ordered distance: {A,B,A}: cumulative r = 1/3, 1/3,
    # 0 -> 2/3 / 2 = 1/3; {C,C,B}: -1/3, -1/3, 0 -> 1/3.
    assert_allclose(
        t_closeness(df, qi, "sensitive", ordered=True).emd, [0, 1 / 3, 1 / 3], atol=1e-12
    )
    # beta: q = 2/3 against 1/3 -> 1; delta = ln 2.
    assert_allclose(beta_likeness(df, qi, "sensitive").beta, 1.0)
    assert_allclose(delta_disclosure(df, qi, "sensitive").delta, math.log(2))


HOSPITAL_QI = ["name", "age", "gender", "city"]


def test_pycanon_hospital_example():
    # pyCANON's hospital table (13 patients; name and religion suppressed, age one interval).
    # Classes on (gender, city): F-Kerala {Viral, Heart}, F-Tamil Nadu {Cancer, TB},
    # M-Karnataka {No illness, TB, Heart}, M-Kerala {Cancer, Heart, Viral}, M-Tamil Nadu
    # {Cancer x3}. Table counts: Cancer 5, Heart 3, Viral 2, TB 2, No illness 1 (n = 13).
    # Worked by hand (no published values for this table were found):
    #   distinct l = 1 (M-Tamil Nadu); k = 2.
    #   t (equal distance): M-Tamil Nadu 1/2 (|1 - 5/13| + 8/13) = 8/13; F-Kerala
    #     1/2 (|1/2 - 2/13| + |1/2 - 3/13| + 8/13) = 8/13.
    #   beta: M-Karnataka No illness (1/3 - 1/13) / (1/13) = 10/3 (F-Kerala Viral: 9/4).
    #   delta: M-Karnataka No illness ln((1/3) / (1/13)) = ln(13/3).
    df = pd.read_csv(oracle("19_pycanon_hospital/input.csv"))
    ld = l_diversity(df, HOSPITAL_QI, "disease", c=2)
    assert_array_equal(ld.distinct_l_per_record, [2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 1, 1, 1])
    assert (ld.distinct_l, ld.recursive_l, ld.records_revealed) == (1, 1, 3)
    assert_allclose(ld.entropy_l, 1.0)
    tc = t_closeness(df, HOSPITAL_QI, "disease")
    assert_allclose(tc.t, 8 / 13, rtol=RTOL)
    assert tc.records_at_t == 2 + 3
    assert_allclose(beta_likeness(df, HOSPITAL_QI, "disease").beta, 10 / 3, rtol=RTOL)
    assert_allclose(delta_disclosure(df, HOSPITAL_QI, "disease").delta, math.log(13 / 3), rtol=RTOL)
    # Enhanced: F-Kerala Viral gain 9/4 > -ln(2/13) = 1.87 breaks the cap; so do the
    # homogeneous class (q = 1 > p (1 - ln p) for any p < 1), F-Tamil Nadu (Cancer 1/2:
    # gain 0.3 < 0.96, TB 1/2: gain 2.25 > 1.87) and M-Karnataka (No illness 1/3 vs 1/13:
    # gain 10/3 > ln 13). M-Kerala passes: Heart 1/3 vs 3/13 gain 4/9 < 1.47, Viral 1/3 vs
    # 2/13 gain 7/6 < 1.87 (Cancer 1/3 < 5/13 is no gain).
    enh = beta_likeness(df, HOSPITAL_QI, "disease", enhanced=True)
    assert enh.beta == math.inf
    assert (enh.classes_over_cap, enh.records_over_cap) == (4, 10)
    ad = attribute_disclosure(df, HOSPITAL_QI, ["disease", "religion"])
    assert ad.records_revealed.tolist() == [3, 13]  # religion is suppressed: all "*"
    assert ad.classes_homogeneous.tolist() == [1, 5]
    assert ad.distinct_l.tolist() == [1, 1]


def test_attribute_disclosure_frame_and_counts():
    df = pd.DataFrame(
        {
            "year": [7, 7, 7, 8, 8, 9, 10, 10],
            "fsm": ["y", "n", "n", "y", "y", "n", None, None],
            "sen": ["a", "a", "a", "b", "a", "a", "a", "b"],
        }
    )
    res = attribute_disclosure(df, ["year"], ["fsm", "sen"])
    # fsm: year 8 (2, both y), year 9 (1), year 10 (2, both missing: revealed as missing).
    # sen: year 7 (3, all a), year 9 (1).
    assert res.records_revealed.tolist() == [5, 4]
    assert res.records_revealed_nonunique.tolist() == [4, 3]
    assert res.classes_homogeneous.tolist() == [3, 2]
    assert res.distinct_l.tolist() == [1, 1]
    assert res.n_values.tolist() == [3, 2]
    frame = res.to_frame()
    assert frame["sensitive"].tolist() == ["fsm", "sen"]
    assert_allclose(frame["records_revealed_share"], [5 / 8, 4 / 8])
    assert_allclose(frame["classes_homogeneous_share"], [3 / 4, 2 / 4])
    assert "fsm: 5 (62.50%)" in repr(res)
    # A single field may be given as a string.
    assert attribute_disclosure(df, ["year"], "sen").records_revealed.tolist() == [4]
    with pytest.raises(rc.MissingValueError, match="'fsm'"):
        attribute_disclosure(df, ["year"], ["fsm"], missing="raise")


def test_recursive_cl_textbook_definition():
    # One class with counts 6, 3, 2, 1 (n = 12). r1 = 6 < c * (r_l + ... + r_m):
    #   c = 1: l=1: 6 < 12 yes; l=2: 6 < 6 no             -> 1
    #   c = 2: l=2: 6 < 12 yes; l=3: 6 < 6 no              -> 2
    #   c = 3: l=3: 6 < 9 yes;  l=4: 6 < 3 no              -> 3
    #   c = 7: l=4: 6 < 7 yes                              -> 4 (= distinct l)
    #   c = 0.5: l=1: 6 < 6 no                             -> 0
    df = pd.DataFrame({"q": [1] * 12, "s": ["a"] * 6 + ["b"] * 3 + ["c"] * 2 + ["d"]})
    for c, expected in [(1, 1), (2, 2), (3, 3), (7, 4), (0.5, 0), (100, 4)]:
        assert l_diversity(df, ["q"], "s", c=c).recursive_l == expected, c
    assert l_diversity(df, ["q"], "s").recursive_l is None


def test_ordered_categorical_uses_category_order():
    # SEN provision as an ordinal: none < support < ehcp. Alphabetical order would put
    # "ehcp" first and give a different distance.
    levels = ["none", "support", "ehcp"]
    sen = pd.Categorical(
        ["none", "none", "support", "ehcp", "none", "support"], categories=levels, ordered=True
    )
    df = pd.DataFrame({"q": [1, 1, 1, 2, 2, 2], "sen": sen})
    res = t_closeness(df, ["q"], "sen", ordered=True)
    # table p = (3, 2, 1)/6; class 1 (2, 1, 0)/3: r = (1/6, 0, -1/6): cumulative 1/6, 1/6, 0
    # -> (1/3) / 2 = 1/6. class 2 (1, 1, 1)/3: r = (-1/6, 0, 1/6) -> 1/6.
    assert_allclose(res.emd, [1 / 6, 1 / 6], rtol=RTOL)
    plain = df.assign(sen=df["sen"].astype(str))
    # alphabetical ehcp < none < support: p = (1, 3, 2)/6; class 1 (0, 2, 1)/3 -> r = (-1/6,
    # 1/6, 0): cumulative -1/6, 0, 0 -> 1/12.
    assert_allclose(t_closeness(plain, ["q"], "sen", ordered=True).emd[0], 1 / 12, rtol=RTOL)
    assert not t_closeness(plain, ["q"], "sen").ordered


def test_missing_sensitive_value_sorts_last_in_ordered_distance():
    df = pd.DataFrame({"q": [1, 1, 2, 2], "s": [1.0, np.nan, 2.0, np.nan]})
    # values 1 < 2 < missing, p = (1, 1, 2)/4. class 1 (1, 0, 1)/2: r = (1/4, -1/4, 0):
    # cumulative 1/4, 0, 0 -> 1/4 / 2 = 1/8. class 2 (0, 1, 1)/2: r = (-1/4, 1/4, 0) -> 1/8.
    res = t_closeness(df, ["q"], "s")
    assert res.ordered and res.n_values == 3
    assert_allclose(res.emd, [1 / 8, 1 / 8], rtol=RTOL)
    with pytest.raises(rc.MissingValueError, match="Column 's' has 2 missing"):
        t_closeness(df, ["q"], "s", missing="raise")


def test_single_value_table_and_single_class():
    df = pd.DataFrame({"q": [1, 1, 2], "s": ["x", "x", "x"]})
    assert t_closeness(df, ["q"], "s").t == 0.0
    assert t_closeness(df, ["q"], "s", ordered=True).t == 0.0
    assert beta_likeness(df, ["q"], "s").beta == 0.0
    assert beta_likeness(df, ["q"], "s", enhanced=True).beta == 0.0  # q = p = 1: no gain
    assert delta_disclosure(df, ["q"], "s").delta == 0.0
    one = pd.DataFrame({"q": [1] * 4, "s": list("abca")})
    assert t_closeness(one, ["q"], "s").t == 0.0
    assert l_diversity(one, ["q"], "s").distinct_l == 3


# --------------------------------------------------------------------------------------------
# Against the slow reference
# --------------------------------------------------------------------------------------------

ORDERED_KINDS = (
    "Int64",
    "Int8",
    "float64",
    "float32",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint64",
    "arrow[int64]",
    "arrow[float64]",
    "datetime64[ns]",
    "arrow[timestamp]",
    "arrow[date32]",
)


@st.composite
def problems(draw, sensitive_kinds=S.ALL_KINDS, **kwargs):
    """A frame, quasi-identifiers and a sensitive column that is not one of them."""
    frame = draw(S.frames(min_cols=1, max_cols=4, index=draw(st.booleans()), **kwargs))
    sens = draw(
        S.columns(draw(st.sampled_from(list(sensitive_kinds))), len(frame), max_cardinality=5)
    )
    sens.index = frame.index
    frame = frame.assign(s=sens)
    qi = draw(S.quasi_identifiers(frame.drop(columns="s")))
    return frame, qi


@contextlib.contextmanager
def _count_path(sparse: bool):
    """Force the sparse (sorted keys) cell count, which small frames never reach on their own."""
    with pytest.MonkeyPatch.context() as mp:
        if sparse:
            mp.setattr(crosstab, "small_key_space", lambda space, n: False)
        yield


def _as_input(frame, form):
    if form == "frame":
        return frame
    if form == "arrow":
        return pa.Table.from_pandas(frame, preserve_index=False)
    return rc.encode(frame)


@FAST
@given(
    problems(),
    st.sampled_from([0.5, 1, 1.5, 2, 3]),
    st.sampled_from(["frame", "arrow", "encoded"]),
    st.booleans(),
)
def test_l_diversity_matches_reference(problem, c, form, sparse):
    frame, qi = problem
    with _count_path(sparse):
        res = l_diversity(_as_input(frame, form), qi, "s", c=c)
    assert_array_equal(res.distinct_l_per_record, ref.per_record(frame, qi, "s", ref.distinct_l))
    assert_allclose(
        res.entropy_l_per_record, ref.per_record(frame, qi, "s", ref.entropy_l), rtol=RTOL
    )
    rec = ref.per_record(frame, qi, "s", lambda cnt: ref.recursive_l(cnt, c))
    assert_array_equal(res.recursive_l_per_record, rec)
    assert res.recursive_l == min(rec)
    assert res.distinct_l == min(res.distinct_l_per_record)
    records, _, classes = ref.homogeneous(frame, qi, "s")
    assert (res.records_revealed, res.classes_homogeneous) == (records, classes)
    assert res.n_values == len(ref.table_counts(frame, "s"))


@FAST
@given(problems(), st.sampled_from(["frame", "arrow", "encoded"]), st.booleans())
def test_nominal_measures_match_reference(problem, form, sparse):
    frame, qi = problem
    data = _as_input(frame, form)
    table = ref.table_counts(frame, "s")
    with _count_path(sparse):
        tc = t_closeness(data, qi, "s", ordered=False)
        b = beta_likeness(data, qi, "s")
        e = beta_likeness(data, qi, "s", enhanced=True)
        d = delta_disclosure(data, qi, "s")
        ad = attribute_disclosure(data, qi, ["s"])
    assert_allclose(
        tc.emd_per_record,
        ref.per_record(frame, qi, "s", lambda c: ref.emd_equal(c, table)),
        rtol=RTOL,
        atol=1e-12,
    )
    assert_allclose(
        b.beta_per_record,
        ref.per_record(frame, qi, "s", lambda c: ref.beta(c, table)),
        rtol=RTOL,
        atol=1e-12,
    )
    assert_allclose(
        e.beta_per_record,
        ref.per_record(frame, qi, "s", lambda c: ref.beta(c, table, True)),
        rtol=RTOL,
        atol=1e-12,
    )
    assert_allclose(
        d.delta_per_record,
        ref.per_record(frame, qi, "s", lambda c: ref.delta(c, table)),
        rtol=RTOL,
        atol=1e-12,
    )
    got = (ad.records_revealed[0], ad.records_revealed_nonunique[0], ad.classes_homogeneous[0])
    assert got == ref.homogeneous(frame, qi, "s")


@FAST
@given(
    problems(sensitive_kinds=ORDERED_KINDS, int_extremes=False),
    st.sampled_from(["frame", "arrow", "encoded"]),
    st.booleans(),
)
def test_ordered_emd_matches_reference(problem, form, sparse):
    frame, qi = problem
    table = ref.table_counts(frame, "s")
    with _count_path(sparse):
        res = t_closeness(_as_input(frame, form), qi, "s")
    assert res.ordered  # numbers and dates are ordered by default
    expected = ref.per_record(frame, qi, "s", lambda c: ref.emd_ordered(c, table))
    assert_allclose(res.emd_per_record, expected, rtol=1e-9, atol=1e-12)
    assert_allclose(res.t, max(expected), rtol=1e-9, atol=1e-12)


def test_sparse_and_dense_cell_counts_agree(monkeypatch):
    rng = np.random.default_rng(12345678)
    n = 5000
    df = pd.DataFrame(
        {"a": rng.integers(0, 400, n), "b": rng.integers(0, 30, n), "s": rng.integers(0, 40, n)}
    )
    dense = [
        t_closeness(df, ["a", "b"], "s"),
        l_diversity(df, ["a", "b"], "s", c=2),
        beta_likeness(df, ["a", "b"], "s"),
        delta_disclosure(df, ["a", "b"], "s"),
    ]
    monkeypatch.setattr(crosstab, "small_key_space", lambda space, n: False)
    sparse = [
        t_closeness(df, ["a", "b"], "s"),
        l_diversity(df, ["a", "b"], "s", c=2),
        beta_likeness(df, ["a", "b"], "s"),
        delta_disclosure(df, ["a", "b"], "s"),
    ]
    assert_allclose(dense[0].emd, sparse[0].emd, rtol=1e-12)
    assert_array_equal(dense[1].recursive_l_per_record, sparse[1].recursive_l_per_record)
    assert_allclose(dense[1].entropy_l_per_record, sparse[1].entropy_l_per_record, rtol=1e-12)
    assert_allclose(dense[2].beta_per_class, sparse[2].beta_per_class, rtol=1e-12)
    assert_allclose(dense[3].delta_per_class, sparse[3].delta_per_class, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


@FEW
@given(
    problems(sensitive_kinds=ORDERED_KINDS, int_extremes=False), st.randoms(use_true_random=False)
)
def test_row_order_never_matters(problem, rnd):
    frame, qi = problem
    perm = list(range(len(frame)))
    rnd.shuffle(perm)
    shuffled = frame.iloc[perm]
    a, b = l_diversity(frame, qi, "s", c=2), l_diversity(shuffled, qi, "s", c=2)
    assert (a.distinct_l, a.recursive_l, a.records_revealed) == (
        b.distinct_l,
        b.recursive_l,
        b.records_revealed,
    )
    assert_allclose(a.entropy_l, b.entropy_l, rtol=RTOL)
    assert_array_equal(a.distinct_l_per_record[perm], b.distinct_l_per_record)
    for func in (t_closeness, beta_likeness, delta_disclosure):
        x, y = func(frame, qi, "s"), func(shuffled, qi, "s")
        per_x = {
            "t_closeness": "emd_per_record",
            "beta_likeness": "beta_per_record",
            "delta_disclosure": "delta_per_record",
        }[func.__name__]
        assert_allclose(getattr(x, per_x)[perm], getattr(y, per_x), rtol=1e-9, atol=1e-12)


@FAST
@given(problems())
def test_bounds(problem):
    frame, qi = problem
    res = l_diversity(frame, qi, "s", c=2)
    fk = rc.class_sizes(frame, qi).fk
    assert (res.distinct_l_per_record <= fk).all()
    assert (res.entropy_l_per_record >= 1 - 1e-12).all()
    assert (res.entropy_l_per_record <= res.distinct_l_per_record * (1 + 1e-12)).all()
    assert (res.recursive_l_per_record <= res.distinct_l_per_record).all()
    assert 0 <= res.records_revealed_share <= 1
    ad = attribute_disclosure(frame, qi, "s")
    assert ((ad.records_revealed_share >= 0) & (ad.records_revealed_share <= 1)).all()
    assert ad.records_revealed_nonunique[0] <= ad.records_revealed[0]
    for ordered in (False, True):
        try:
            tc = t_closeness(frame, qi, "s", ordered=ordered)
        except rc.InvalidParameterError:  # values that cannot be sorted (bool vs text...)
            continue
        assert ((tc.emd >= 0) & (tc.emd <= 1)).all()
    b, e = beta_likeness(frame, qi, "s"), beta_likeness(frame, qi, "s", enhanced=True)
    assert (e.beta_per_class >= b.beta_per_class).all()
    if res.n_values > 1:  # a homogeneous class breaks the enhanced cap, since p (1 - ln p) < 1
        assert np.isinf(e.beta_per_record[res.distinct_l_per_record == 1]).all()


@FAST
@given(problems(), st.data())
def test_adding_a_quasi_identifier_never_raises_distinct_l(problem, data):
    frame, qi = problem
    others = [c for c in frame.columns if c not in qi and c != "s"]
    if not others:
        return
    extra = data.draw(st.sampled_from(others))
    coarse = l_diversity(frame, qi, "s")
    fine = l_diversity(frame, qi + [extra], "s")
    assert fine.distinct_l <= coarse.distinct_l
    assert (fine.distinct_l_per_record <= coarse.distinct_l_per_record).all()
    assert fine.records_revealed >= coarse.records_revealed


def test_enhanced_fails_every_homogeneous_class_below_full_share():
    # q = 1 > p (1 - ln p) whenever p < 1: a class revealing a value always breaks the cap.
    df = pd.DataFrame({"q": [1, 1, 2, 2, 2], "s": ["a", "a", "a", "b", "b"]})
    res = beta_likeness(df, ["q"], "s", enhanced=True)
    assert res.beta == math.inf
    assert res.classes_over_cap >= 1
    assert res.records_over(10.0) >= 2


# --------------------------------------------------------------------------------------------
# Validation, inputs and disclosure safety
# --------------------------------------------------------------------------------------------


@pytest.fixture
def hospital():
    return pd.read_csv(oracle("19_pycanon_hospital/input.csv"))


@pytest.mark.parametrize("name", PUBLIC)
def test_sensitive_that_is_a_quasi_identifier_is_an_error(hospital, name):
    func = getattr(attribute, name)
    with pytest.raises(
        rc.InvalidParameterError, match="'city', which is also one of the 'quasi_identifiers'"
    ):
        func(
            hospital,
            ["gender", "city"],
            ["disease", "city"] if name == "attribute_disclosure" else "city",
        )


@pytest.mark.parametrize("name", PUBLIC)
def test_unknown_sensitive_column_suggests_names(hospital, name):
    func = getattr(attribute, name)
    with pytest.raises(rc.MissingColumnError, match="Did you mean 'disease'"):
        func(hospital, ["gender"], "diseese")


@pytest.mark.parametrize("name", PUBLIC)
def test_bad_missing_policy(hospital, name):
    with pytest.raises(
        rc.InvalidParameterError, match=f"The 'missing' parameter of {name} must be one of"
    ):
        getattr(attribute, name)(hospital, ["gender"], "disease", missing="drop")


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda d: l_diversity(d, ["gender"], ["disease"]),
            "The 'sensitive' parameter of l_diversity must be a column name (str). Got ['disease'] instead.",
        ),
        (
            lambda d: l_diversity(d, ["gender"], "disease", c=0),
            "The 'c' parameter of l_diversity must be a number in the range (0, inf). Got 0 instead.",
        ),
        (
            lambda d: l_diversity(d, ["gender"], "disease", c=True),
            "The 'c' parameter of l_diversity must be a number in the range (0, inf). Got True instead.",
        ),
        (
            lambda d: l_diversity(d, ["gender"], "disease", c=float("nan")),
            "The 'c' parameter of l_diversity must be a number in the range (0, inf). Got nan instead.",
        ),
        (
            lambda d: t_closeness(d, ["gender"], "disease", ordered="yes"),
            "The 'ordered' parameter of t_closeness must be True, False or None. Got 'yes' instead.",
        ),
        (
            lambda d: beta_likeness(d, ["gender"], "disease", enhanced=None),
            "The 'enhanced' parameter of beta_likeness must be True or False. Got None instead.",
        ),
        (
            lambda d: attribute_disclosure(d, ["gender"], []),
            "The 'sensitive_fields' parameter of attribute_disclosure must name at least one column.",
        ),
        (
            lambda d: t_closeness(d, [], "disease"),
            "The 'quasi_identifiers' parameter of t_closeness must name at least one column.",
        ),
    ],
)
def test_parameter_messages(hospital, call, message):
    with pytest.raises(rc.InvalidParameterError) as info:
        call(hospital)
    assert message in str(info.value)


def test_unsortable_values_with_ordered_true():
    df = pd.DataFrame({"q": [1, 1, 2], "s": pd.Series(["a", 1, "b"], dtype=object)})
    with pytest.raises(rc.InvalidParameterError, match="cannot be sorted"):
        t_closeness(df, ["q"], "s", ordered=True)
    assert t_closeness(df, ["q"], "s").ordered is False


def test_every_input_form_agrees(hospital, tmp_path):
    path = tmp_path / "hospital.parquet"
    hospital.to_parquet(path)
    csv = oracle("19_pycanon_hospital/input.csv")
    forms = [hospital, pa.Table.from_pandas(hospital), rc.encode(hospital), str(path), csv]
    ts = [t_closeness(f, HOSPITAL_QI, "disease").t for f in forms]
    assert_allclose(ts, [8 / 13] * len(forms), rtol=RTOL)
    enc = rc.encode(hospital, ["gender", "city"])
    with pytest.raises(rc.MissingColumnError, match="disease"):
        l_diversity(enc, ["gender", "city"], "disease")


def test_results_are_frozen_and_keep_parameters(hospital):
    res = l_diversity(hospital, HOSPITAL_QI, "disease", c=3)
    assert (res.quasi_identifiers, res.sensitive, res.c, res.missing) == (
        tuple(HOSPITAL_QI),
        "disease",
        3.0,
        "category",
    )
    with pytest.raises(AttributeError):
        res.distinct_l = 5
    tc = t_closeness(hospital, HOSPITAL_QI, "disease", ordered=False)
    assert tc.ordered is False and tc.sensitive == "disease"
    assert beta_likeness(hospital, HOSPITAL_QI, "disease", enhanced=True).enhanced is True
    frame = tc.to_frame()
    assert list(frame.columns) == ["class_size", "emd"] and frame["class_size"].sum() == 13


def test_no_values_in_reprs_or_frames(hospital):
    values = set(hospital["disease"]) | set(hospital["city"]) | {"Female", "Male", "[17, 30["}
    results = [
        l_diversity(hospital, HOSPITAL_QI, "disease", c=2),
        t_closeness(hospital, HOSPITAL_QI, "disease"),
        beta_likeness(hospital, HOSPITAL_QI, "disease", enhanced=True),
        delta_disclosure(hospital, HOSPITAL_QI, "disease"),
        attribute_disclosure(hospital, HOSPITAL_QI, ["disease", "religion"]),
    ]
    for res in results:
        text = repr(res) + res.to_frame().to_string()
        for v in values:
            assert v not in text, (type(res).__name__, v)


def test_docstring_examples(monkeypatch):
    # The examples call rc.<name>; the names are exported from riskcalc by the maintainers.
    for name in PUBLIC:
        monkeypatch.setattr(rc, name, getattr(attribute, name), raising=False)
    result = doctest.testmod(attribute, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


@FEW
@given(st.data())
def test_homogeneous_counts_against_a_direct_count(data):
    # One "homogeneous class" implementation: the tier table and attribute_disclosure agree
    # with a dictionary count.
    n = data.draw(st.integers(1, 60))
    q = data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    s = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    df = pd.DataFrame({"q": q, "s": s})
    groups: dict = {}
    for a, b in zip(q, s):
        groups.setdefault(a, []).append(b)
    tally = pd.Series(s).value_counts()
    modal = tally.index[0]
    revealed = sum(len(v) for v in groups.values() if len(set(v)) == 1)
    minority = sum(len(v) for v in groups.values() if len(set(v)) == 1 and v[0] != modal)
    enc = rc.encode(df)
    from riskcalc.release.tables import revealed_records

    got = revealed_records(enc.partition(["q"]), enc["s"])
    assert got[0] == revealed
    if (tally == tally.iloc[0]).sum() == 1:  # the most common value is unambiguous
        assert got[1] == minority
    assert rc.attribute_disclosure(df, ["q"], ["s"]).records_revealed.tolist() == [revealed]


@FEW
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 4)), min_size=1, max_size=80))
def test_homogeneous_counts_against_the_class_value_table(pairs):
    # The first-value test and the class x value table give the same counts.
    raw = np.array([p[0] for p in pairs], dtype=np.int64)
    codes = np.array([p[1] for p in pairs], dtype=np.int64)
    _, labels = np.unique(raw, return_inverse=True)  # dense class labels
    sizes = np.bincount(labels)
    column = EncodedColumn("s", codes, 5, 0, "int64")
    fast = crosstab.homogeneous_counts(labels, len(sizes), [column])[0]
    table = crosstab.class_value_table(labels, sizes, codes, 5)
    homo = table.distinct == 1
    assert fast.records_revealed == int(sizes[homo].sum())
    assert fast.records_revealed_nonunique == int(sizes[homo & (sizes > 1)].sum())
    assert fast.classes_homogeneous == int(homo.sum())
    assert fast.min_distinct == int(table.distinct.min())
