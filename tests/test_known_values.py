"""Known values from published and hand-computed examples (sources cited per test)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ARX_QI, PRACTICE_QI, oracle
from numpy.testing import assert_allclose, assert_array_equal

import riskcalc as rc

# --- SDC Practice Guide, table 4.1 (values quoted in the project's foundation issue) ----------


def test_practice_guide_fk_and_Fk(practice_guide):
    res = rc.class_sizes(practice_guide, PRACTICE_QI, weights="Weight")
    assert_array_equal(res.fk, [2, 2, 1, 2, 1, 2, 1, 1, 2, 2])
    assert_allclose(res.Fk, [360, 360, 215, 152, 186, 152, 180, 215, 262, 262], rtol=1e-12)
    assert res.n_classes == 7
    assert res.weight_total == pytest.approx(1570)


def test_practice_guide_k_anonymity(practice_guide):
    res = rc.k_anonymity(practice_guide, PRACTICE_QI)
    assert res.k == 1
    assert res.thresholds == (2, 3, 5, 10)
    assert_array_equal(res.records_below, [4, 10, 10, 10])
    assert_array_equal(res.classes_below, [4, 7, 7, 7])
    assert not res.is_k_anonymous(2)


def test_practice_guide_uniqueness(practice_guide):
    res = rc.uniqueness(practice_guide, PRACTICE_QI)
    assert (res.n_unique, res.n_pairs, res.n_classes) == (4, 6, 7)
    assert res.average_risk == pytest.approx(0.7, rel=1e-12)
    assert res.highest_risk == 1.0
    assert res.unique_share == pytest.approx(0.4)


def test_practice_guide_from_file_matches_frame(practice_guide):
    path = oracle("01_sdcpractice_tab41_individual_risk/input.csv")
    a = rc.class_sizes(path, PRACTICE_QI, weights="Weight")
    b = rc.class_sizes(practice_guide, PRACTICE_QI, weights="Weight")
    assert_array_equal(a.fk, b.fk)
    assert_allclose(a.Fk, b.Fk, rtol=1e-12)


# --- ARX adult (values quoted in the foundation issue, from ARX's own test suite) -------------


def test_arx_adult_uniqueness(arx_adult):
    res = rc.uniqueness(arx_adult, ARX_QI)
    assert res.n_records == 30_162
    assert res.n_classes == 19_502
    assert res.n_unique == 15_512
    assert_allclose(res.unique_share, 0.5142895033485844, rtol=1e-12)
    assert_allclose(res.average_risk, 0.6465751607983555, rtol=1e-12)


def test_arx_adult_from_gzip_csv():
    res = rc.uniqueness(oracle("data/arx_adult.csv.gz"), ARX_QI)
    assert (res.n_records, res.n_classes, res.n_unique) == (30_162, 19_502, 15_512)


# --- ARX example: prosecutor risk before and after generalisation (hand-computed) ------------


def test_arx_prosecutor_example():
    raw = pd.read_csv(oracle("16_arx_example_prosecutor_risk/input.csv"))
    gen = pd.read_csv(oracle("16_arx_example_prosecutor_risk/input_generalised.csv"))
    qi = ["age", "gender", "zipcode"]
    before = rc.uniqueness(raw, qi)
    after = rc.uniqueness(gen, qi)
    # Before: seven distinct records. After: classes of 2, 3 and 2.
    assert (before.n_unique, before.average_risk, before.highest_risk) == (7, 1.0, 1.0)
    assert after.n_classes == 3 and after.n_unique == 0 and after.n_pairs == 4
    assert_allclose(after.average_risk, 3 / 7, rtol=1e-12)
    assert after.highest_risk == 0.5
    assert rc.k_anonymity(gen, qi).k == 2


# --- sdcMicro test_freqCalc.R frame (hand-computed, matches sdcMicro's assertions) ------------


def test_sdcmicro_freqcalc_frame():
    df = pd.read_csv(oracle("07_sdcmicro_freqcalc_tests/input.csv"))
    res = rc.class_sizes(df, ["A", "B", "C"], weights="weight")
    assert_array_equal(res.fk, [3, 1, 3, 1, 2, 2, 1, 3])
    assert_allclose(res.Fk, [108, 45.5, 108, 17, 100, 100, 123.5, 108], rtol=1e-12)
    u = rc.uniqueness(df, ["A", "B", "C"])
    assert (u.n_unique, u.n_pairs) == (3, 2)


def test_missing_as_category_freqcalc_na_frame():
    # Column C missing in records 3 and 7: each missing value is a value of its own kind,
    # equal only to other missing values of C.
    df = pd.read_csv(oracle("07_sdcmicro_freqcalc_tests/input_na_C.csv"))
    res = rc.class_sizes(df, ["A", "B", "C"])
    assert_array_equal(res.fk, [2, 1, 1, 1, 2, 2, 1, 2])
    with pytest.raises(rc.MissingValueError, match="Column 'C' has 2 missing value"):
        rc.class_sizes(df, ["A", "B", "C"], missing="raise")
    assert_array_equal(rc.class_sizes(df, ["A", "B"], missing="raise").fk, [4, 3, 4, 4, 3, 3, 1, 4])


def test_missing_as_category_ldiversity_na_keys():
    # sdcMicro test_ldiversity.R keys: occupation missing for three women, who match each other.
    df = pd.read_csv(oracle("09_sdcmicro_ldiversity_na_keys/input.csv"))
    res = rc.class_sizes(df, ["sex", "occupation", "ethnicity"])
    assert_array_equal(res.fk, [3, 3, 3, 2, 2, 2, 2])
    assert rc.k_anonymity(df, ["sex", "occupation", "ethnicity"]).k == 2


def test_all_missing_row_is_its_own_class():
    df = pd.read_csv(oracle("07_sdcmicro_freqcalc_tests/input_na_row_and_col.csv"))
    res = rc.class_sizes(df, ["A", "B", "C"])
    # (2,3,NA) x3, (3,3,NA) x3, (NA,NA,NA) x1, (1,4,NA) x1
    assert_array_equal(res.fk, [3, 3, 1, 3, 3, 3, 1, 3])


# --- Small counts: SDC Practice Guide table (sdcMicro riskyCells rule 0 < count <= t) --------


def test_small_counts_practice_guide_by_hand():
    df = pd.read_csv(oracle("13_sdcmicro_riskycells_small_counts/input.csv"))
    # Residence x Gender: Urban/Female 6, Urban/Male 3, Rural/Female 1.
    res = rc.small_count_exposure(df, ["Residence", "Gender"], thresholds=[1, 2, 3])
    assert res.n_cells == 3
    assert_array_equal(res.cells_at_most, [1, 1, 2])
    assert_array_equal(res.records_in_cells_at_most, [1, 1, 4])
    # Education alone: Secondary incomplete 4, Secondary complete 3, Primary incomplete 1,
    # Primary complete 1, Post-secondary 1.
    res = rc.small_count_exposure(df, ["Education"], thresholds=[1, 2, 3])
    assert_array_equal(res.cells_at_most, [3, 3, 4])
    assert_array_equal(res.records_in_cells_at_most, [3, 3, 6])


def test_small_counts_on_aggregate_table():
    agg = pd.DataFrame(
        {
            "school": ["A", "A", "B", "B", "C", "C", "C"],
            "sex": ["F", "M", "F", "M", "F", "M", "M"],
            "count": [12, 1, 0, 2, 3, 4, 1],  # C/M appears twice: 4 + 1 = 5
        }
    )
    res = rc.small_count_exposure(agg, ["school", "sex"], count="count", thresholds=[1, 2, 5])
    assert res.aggregated
    assert res.n_cells == 5  # B/F is empty
    assert res.n_records == 23
    assert_array_equal(res.cells_at_most, [1, 2, 4])
    assert_array_equal(res.records_in_cells_at_most, [1, 3, 11])


# --- Every supported dtype, hand-computed ------------------------------------------------------

DTYPE_CASES = {
    "object strings": pd.Series(["a", "b", "a", None, "b", None], dtype=object),
    "pandas str": pd.Series(["a", "b", "a", None, "b", None], dtype="string"),
    "arrow strings": pd.Series(["a", "b", "a", None, "b", None], dtype="string[pyarrow]"),
    "categorical": pd.Categorical(
        ["a", "b", "a", None, "b", None], categories=["b", "a", "unused"]
    ),
    "int64": pd.Series([5, -(2**62), 5, 7, -(2**62), 7], dtype="int64"),
    "uint8": pd.Series([5, 0, 5, 255, 0, 255], dtype="uint8"),
    "nullable Int64": pd.Series([5, 6, 5, None, 6, None], dtype="Int64"),
    "float with NaN": pd.Series([0.5, 1.5, 0.5, np.nan, 1.5, np.nan]),
    "bool": pd.Series([True, False, True, True, False, True]),
    "nullable boolean": pd.Series([True, False, True, None, False, None], dtype="boolean"),
    "datetime with NaT": pd.to_datetime(
        pd.Series(["2015-09-01", "2016-01-31", "2015-09-01", None, "2016-01-31", None])
    ),
    "arrow date": pd.Series(
        pd.array(
            [
                pd.Timestamp("2015-09-01").date(),
                pd.Timestamp("2016-01-31").date(),
                pd.Timestamp("2015-09-01").date(),
                None,
                pd.Timestamp("2016-01-31").date(),
                None,
            ],
            dtype="date32[pyarrow]",
        )
    ),
    "arrow int": pd.Series([1, 2, 1, None, 2, None], dtype="int64[pyarrow]"),
}


@pytest.mark.parametrize("case", sorted(DTYPE_CASES))
def test_every_dtype(case):
    values = DTYPE_CASES[case]
    df = pd.DataFrame({"x": values, "g": ["p", "p", "p", "p", "q", "p"]})
    if case == "bool":
        # x = T F T T F T with g = p p p p q p: (T,p) x4, (F,p), (F,q)
        expected_fk = [4, 1, 4, 4, 1, 4]
    else:
        # (v1,p) x2, (v2,p), (v3 or missing,p) x2, (v2,q)
        expected_fk = [2, 1, 2, 2, 1, 2]
    assert_array_equal(rc.class_sizes(df, ["x", "g"]).fk, expected_fk)
    table = __import__("pyarrow").Table.from_pandas(df, preserve_index=False)
    assert_array_equal(rc.class_sizes(table, ["x", "g"]).fk, expected_fk)


def test_integer_and_string_one_are_different_values():
    df = pd.DataFrame({"x": pd.Series([1, "1", 1], dtype=object)})
    assert_array_equal(rc.class_sizes(df, ["x"]).fk, [2, 1, 2])


def test_weights_given_as_array(practice_guide):
    w = practice_guide["Weight"].to_numpy()
    res = rc.class_sizes(practice_guide, PRACTICE_QI, weights=w)
    assert_allclose(res.Fk[:3], [360, 360, 215], rtol=1e-12)


def test_weighted_k_anonymity_violations(practice_guide):
    res = rc.k_anonymity(practice_guide, PRACTICE_QI, weights="Weight", thresholds=[153, 200, 300])
    # Fk = 360,360,215,152,186,152,180,215,262,262
    assert_array_equal(res.records_below_weighted, [2, 4, 8])


def test_to_frame_aligns_with_input_index(practice_guide):
    df = practice_guide.set_index("No")
    frame = rc.class_sizes(df, PRACTICE_QI, weights="Weight").to_frame()
    assert list(frame.index) == list(df.index)
    assert list(frame.columns) == ["fk", "Fk"]
    assert frame.loc[3, "fk"] == 1 and frame.loc[3, "Fk"] == 215
