"""Hypothesis strategies shared by the property and cross-check tests.

The main strategy, :func:`frames`, draws a DataFrame of 1..6 columns of mixed dtypes with
*controlled cardinality* (each column takes values from a small alphabet, so equivalence classes
collide and every class size occurs) and a *controllable missing rate*. Column kinds:

* text: object (missing as ``None``/``NaN``/``pd.NA``), the default ``str`` dtype,
  ``"string[pyarrow]"``, ``"string[python]"``;
* categoricals (text or integer categories, with unused categories, missing as ``NaN``;
  ``category[wide]`` has 2**17 integer categories, so a few such columns exercise the
  large-key-space paths: sorting/hashing the keys and compressing an overflowing key);
* Arrow dictionary-encoded text (``pd.ArrowDtype(pa.dictionary(...))``);
* numpy integers ``int8 .. int64`` and ``uint8``/``uint64`` (extremes such as ``2**62``,
  ``-2**63``, ``2**64 - 1`` included), nullable ``Int8``/``Int64``;
* floats ``float64``/``float32`` with ``NaN`` (and ``inf``; ``-0.0`` next to ``0.0`` optionally);
* numpy ``bool`` and nullable ``boolean``;
* ``datetime64[ns]`` with ``NaT``;
* Arrow-backed columns (``pd.ArrowDtype``): int64, string, float64 (null *and* NaN), bool,
  timestamp, date32.

Three switches narrow the inputs when a test needs it (all default to ``True``, the widest):

* ``int_extremes``: ``int8``/``int16`` values spanning more than the dtype's positive range, and
  ``uint64`` columns whose values are all ``>= 2**63`` (both once crashed ``encode``);
* ``signed_zero``: ``-0.0`` next to ``0.0`` in float alphabets (Arrow once told them apart);
* ``wide_missing``: missing values in ``category[wide]`` columns (int32 codes, more than 32767
  categories; once made ``encode`` write into pandas' read-only codes).
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import strategies as st

# --------------------------------------------------------------------------------------------
# Value pools
# --------------------------------------------------------------------------------------------

TEXT = ["a", "b", "c", "A", "ab", "F", "M", "é", "x y", "", "0", "1"]
#: Text safe for a CSV round trip: no empty string, no null markers, nothing numeric-looking.
CSV_TEXT = ["a", "b", "c", "A", "ab", "F", "M", "xy", "foo", "Bar"]
UNUSED_CATEGORIES = ["zz_unused", "yy_unused"]
FLOATS = [0.0, 1.0, -1.5, 0.1, 1e300, -1e-300, 2.0**53, 2.0**53 + 2, float("inf"), -float("inf")]
FLOAT32 = [0.0, 1.0, -1.5, 0.25, 3.0e38, -7.0]
DATES = [
    pd.Timestamp("2000-01-01"),
    pd.Timestamp("2000-01-02"),
    pd.Timestamp("1970-01-01"),
    pd.Timestamp("1999-12-31 23:59:59.999999"),
    pd.Timestamp("2262-04-11"),
    pd.Timestamp("1677-09-22"),
]
DAYS = [dt.date(2000, 1, 1), dt.date(2000, 1, 2), dt.date(1970, 1, 1), dt.date(9999, 12, 31)]


def _int_pool(dtype: str, extremes: bool) -> st.SearchStrategy[int]:
    info = np.iinfo(dtype)
    small = st.integers(max(int(info.min), -5), min(int(info.max), 5))
    if not extremes and info.bits <= 16:
        # int8/int16 values spanning more than the dtype's max once crashed encode.
        return st.integers(max(int(info.min), -50), min(int(info.max), 50))
    if not extremes and info.kind == "u" and info.bits == 64:
        # uint64 columns whose values are all >= 2**63 once crashed encode.
        return st.one_of(small, st.sampled_from([2**62, 2**63 - 1]))
    edges = [int(info.min), int(info.max), int(info.max) - 1]
    if info.bits == 64:
        edges += [2**62, -(2**62), 2**31, -(2**31) - 1] if info.kind == "i" else [2**63, 2**62]
    edges = [e for e in edges if info.min <= e <= info.max]
    return st.one_of(small, st.sampled_from(edges), st.integers(int(info.min), int(info.max)))


# --------------------------------------------------------------------------------------------
# Column kinds: name -> (pool of alphabet values, builder, can hold missing values)
# A builder takes the values (``None`` where missing), the missing markers drawn per row
# (0, 1 or 2: which spelling of "missing" to use where the dtype offers several) and the
# alphabet, and returns a pandas Series.
# --------------------------------------------------------------------------------------------


def _object_text(values, markers, alphabet):
    spell = [None, np.nan, pd.NA]
    return pd.Series([spell[m] if v is None else v for v, m in zip(values, markers)], dtype=object)


def _typed(dtype):
    def build(values, markers, alphabet):
        return pd.Series(values, dtype=dtype)

    return build


def _numpy_float(dtype):
    def build(values, markers, alphabet):
        return pd.Series([np.nan if v is None else v for v in values], dtype=dtype)

    return build


def _category(values, markers, alphabet):
    extra = [u for u in UNUSED_CATEGORIES if u not in alphabet]
    return pd.Series(pd.Categorical(values, categories=list(alphabet) + extra))


def _int_category(values, markers, alphabet):
    cats = sorted(set(alphabet) | {10_000, -10_000})
    return pd.Series(pd.Categorical(values, categories=cats))


def _datetime(values, markers, alphabet):
    return pd.Series([pd.NaT if v is None else v for v in values], dtype="datetime64[ns]")


def _arrow(typ):
    def build(values, markers, alphabet):
        return pd.Series(pd.array(pa.array(values, type=typ), dtype=pd.ArrowDtype(typ)))

    return build


def _arrow_float(values, markers, alphabet):
    # Missing as an Arrow null (marker 0 or 1) or as a NaN stored in the Arrow array (marker 2).
    vals = [(float("nan") if m == 2 else None) if v is None else v for v, m in zip(values, markers)]
    typ = pa.float64()
    return pd.Series(
        pd.array(pa.array(vals, type=typ, from_pandas=False), dtype=pd.ArrowDtype(typ))
    )


#: Integer categories: enough (with their unused levels) for several such columns to leave the
#: "small key space" fast path, and for four of them to overflow the 2**62 mixed-radix key.
WIDE_CATEGORIES = 1 << 17


@functools.lru_cache(maxsize=1)
def _wide_dtype() -> pd.CategoricalDtype:
    return pd.CategoricalDtype(np.arange(WIDE_CATEGORIES, dtype=np.int64))


def _wide_category(values, markers, alphabet):
    return pd.Series(pd.Categorical(values, dtype=_wide_dtype()))


def _arrow_dictionary(values, markers, alphabet):
    typ = pa.dictionary(pa.int32(), pa.string())
    return pd.Series(
        pd.array(pa.array(values, type=pa.string()).dictionary_encode(), dtype=pd.ArrowDtype(typ))
    )


@functools.cache
def column_kinds(*, int_extremes: bool = True, signed_zero: bool = True) -> dict:
    floats = FLOATS + ([-0.0] if signed_zero else [])
    float32 = FLOAT32 + ([-0.0] if signed_zero else [])
    text = st.sampled_from(TEXT)
    kinds = {
        "object": (text, _object_text, True),
        "str": (text, _typed("str"), True),
        "string[pyarrow]": (text, _typed("string[pyarrow]"), True),
        "string[python]": (text, _typed("string[python]"), True),
        "category": (text, _category, True),
        "category[int]": (st.integers(-3, 3), _int_category, True),
        "category[wide]": (st.integers(0, WIDE_CATEGORIES - 1), _wide_category, True),
        "arrow[dictionary]": (text, _arrow_dictionary, True),
        "Int64": (_int_pool("int64", True), _typed("Int64"), True),
        "Int8": (_int_pool("int8", True), _typed("Int8"), True),
        "float64": (st.sampled_from(floats), _numpy_float("float64"), True),
        "float32": (st.sampled_from(float32), _numpy_float("float32"), True),
        "bool": (st.booleans(), _typed("bool"), False),
        "boolean": (st.booleans(), _typed("boolean"), True),
        "datetime64[ns]": (st.sampled_from(DATES), _datetime, True),
        "arrow[int64]": (_int_pool("int64", True), _arrow(pa.int64()), True),
        "arrow[string]": (text, _arrow(pa.string()), True),
        "arrow[float64]": (st.sampled_from(floats), _arrow_float, True),
        "arrow[bool]": (st.booleans(), _arrow(pa.bool_()), True),
        "arrow[timestamp]": (st.sampled_from(DATES), _arrow(pa.timestamp("us")), True),
        "arrow[date32]": (st.sampled_from(DAYS), _arrow(pa.date32()), True),
    }
    for dtype in ("int8", "int16", "int32", "int64", "uint8", "uint64"):
        kinds[dtype] = (_int_pool(dtype, int_extremes), _typed(dtype), False)
    return kinds


ALL_KINDS = tuple(column_kinds())
TEXT_KINDS = ("object", "str", "string[pyarrow]", "string[python]", "category", "arrow[string]")

MISSING_RATES = st.sampled_from([0.0, 0.0, 0.1, 0.3, 0.7, 1.0])


# --------------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------------


@st.composite
def columns(
    draw,
    kind: str,
    n: int,
    *,
    missing_rate=MISSING_RATES,
    max_cardinality: int = 4,
    int_extremes: bool = True,
    signed_zero: bool = True,
    wide_missing: bool = True,
    pool=None,
) -> pd.Series:
    """One column of ``n`` values of ``kind``, from an alphabet of at most ``max_cardinality``
    distinct values, each value missing with probability ``missing_rate``."""
    values_pool, build, can_miss = column_kinds(int_extremes=int_extremes, signed_zero=signed_zero)[
        kind
    ]
    if pool is not None:
        values_pool = st.sampled_from(pool)
    # unique by repr, not ==, so that 0.0 and -0.0 can both be in an alphabet.
    alphabet = draw(st.lists(values_pool, min_size=1, max_size=max_cardinality, unique_by=repr))
    rate = draw(missing_rate) if isinstance(missing_rate, st.SearchStrategy) else missing_rate
    if kind == "category[wide]" and not wide_missing:
        rate = 0.0
    cutoff = 256 - round(256 * rate) if can_miss else 256
    # One byte per row, drawn as one blob (much faster to generate than a list of integers;
    # shrinks towards zero bytes: "first value, not missing"). A byte at or above the cutoff is
    # a missing value; otherwise it picks the alphabet entry. It also picks which missing marker
    # to use where the dtype offers several.
    size = len(alphabet)
    rows = draw(st.binary(min_size=n, max_size=n))
    values = [None if b >= cutoff else alphabet[b % size] for b in rows]
    markers = [(b // size) % 3 for b in rows]
    return build(values, markers, alphabet)


@st.composite
def frames(
    draw,
    *,
    min_rows: int = 1,
    max_rows: int = 60,
    min_cols: int = 1,
    max_cols: int = 6,
    kinds=ALL_KINDS,
    missing_rate=MISSING_RATES,
    max_cardinality: int = 4,
    int_extremes: bool = True,
    signed_zero: bool = True,
    wide_missing: bool = True,
    index: bool = False,
    pool=None,
) -> pd.DataFrame:
    """A DataFrame with columns ``c0, c1, ...`` of kinds drawn from ``kinds``.

    ``index=True`` gives the frame a shuffled, non-default integer index, to check that
    per-record outputs keep the input's labels.
    """
    n = draw(st.integers(min_rows, max_rows))
    m = draw(st.integers(min_cols, max_cols))
    data = {}
    for j in range(m):
        kind = draw(st.sampled_from(list(kinds)))
        data[f"c{j}"] = draw(
            columns(
                kind,
                n,
                missing_rate=missing_rate,
                max_cardinality=max_cardinality,
                int_extremes=int_extremes,
                signed_zero=signed_zero,
                wide_missing=wide_missing,
                pool=pool,
            )
        )
    frame = pd.DataFrame(data)
    if index:
        labels = draw(st.permutations(range(100, 100 + n)))
        frame.index = pd.Index(labels, dtype="int64")
    return frame


def safe_frames(**kwargs):
    """:func:`frames` with every input kind switched on (kept as the name the properties use)."""
    return frames(**kwargs)


@st.composite
def quasi_identifiers(draw, frame: pd.DataFrame, min_size: int = 1) -> list[str]:
    """A non-empty ordered subset of the frame's columns."""
    cols = draw(st.permutations(list(frame.columns)))
    size = draw(st.integers(min(min_size, len(cols)), len(cols)))
    return list(cols[:size])


@st.composite
def frames_and_qi(draw, **kwargs) -> tuple[pd.DataFrame, list[str]]:
    frame = draw(safe_frames(**kwargs))
    return frame, draw(quasi_identifiers(frame))


# --------------------------------------------------------------------------------------------
# Parameters, weights, aggregate tables
# --------------------------------------------------------------------------------------------

thresholds = st.lists(st.integers(1, 12), min_size=1, max_size=5)


def weights(n: int) -> st.SearchStrategy[list[float]]:
    """``n`` sampling weights: non-negative, finite; whole numbers or arbitrary reals."""
    one = st.one_of(
        st.integers(0, 50).map(float),
        st.floats(0, 1000, allow_nan=False, allow_infinity=False),
        st.sampled_from([0.5, 1.5, 2.5, 0.1, 0.2, 0.7]),
    )
    return st.lists(one, min_size=n, max_size=n)


@st.composite
def frames_with_weights(draw, **kwargs) -> tuple[pd.DataFrame, list[str], list[float]]:
    """A frame, quasi-identifiers, and one weight per record (also stored as column ``w``)."""
    frame, qi = draw(frames_and_qi(**kwargs))
    w = draw(weights(len(frame)))
    frame = frame.assign(w=np.asarray(w, dtype=np.float64))
    return frame, qi, w


@st.composite
def aggregate_tables(draw, **kwargs) -> tuple[pd.DataFrame, list[str], list[int]]:
    """An aggregate table: the cell columns, and a ``count`` column of non-negative whole
    numbers (zeros included; several rows may describe the same cell)."""
    frame, qi = draw(frames_and_qi(**kwargs))
    counts = draw(st.lists(st.integers(0, 7), min_size=len(frame), max_size=len(frame)))
    dtype = draw(st.sampled_from(["int64", "float64", "Int64", "uint8"]))
    frame = frame.assign(count=pd.Series(counts, dtype=dtype, index=frame.index))
    return frame, qi, counts
