"""Parameter checks shared by every public function.

Messages follow one pattern: "The 'threshold' parameter of k_anonymity must be an int in the
range [1, inf). Got 0 instead."
"""

from __future__ import annotations

import difflib
import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, TypeVar, cast, overload

import numpy as np

from . import _format as fmt
from ._typing import MissingPolicy, RecordMissingPolicy
from .exceptions import EmptyTableError, InvalidParameterError, MissingColumnError

_S = TypeVar("_S", bound=str)

MISSING_POLICIES: tuple[MissingPolicy, ...] = ("category", "raise")
#: Policies of the measures that read per-record counts (class sizes, k, uniqueness, risks).
RECORD_MISSING_POLICIES: tuple[RecordMissingPolicy, ...] = ("category", "raise", "wildcard")


#: Largest threshold accepted: beyond it every class is "small" anyway, and larger numbers
#: would not survive conversion to float64 or int64 exactly.
MAX_THRESHOLD = 2**53


def _where(func: str | None) -> str:
    return f" of {func}" if func else ""


def show(value) -> str:
    """``repr`` of a parameter value as the user wrote it: numpy scalars as plain numbers, long
    values cut short."""
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_choice(value: object, name: str, options: Sequence[_S], func: str | None = None) -> _S:
    """Return ``value`` if it is one of ``options``; raise otherwise."""
    if not isinstance(value, str) or value not in options:
        choices = ", ".join(repr(o) for o in options)
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be one of {choices}. Got {show(value)} instead."
        )
    return cast(_S, value)  # one of the options: their type


def check_tiers(
    value, func: str | None = None, *, allowed: Sequence[int] = (1, 2, 3, 4), why: str = ""
) -> tuple[int, ...]:
    """A non-empty sequence of distinct tier numbers among ``allowed``; ``why`` explains a
    refused tier (e.g. that tier 3 holds aggregate tables)."""
    if (
        isinstance(value, (str, bytes))
        or not isinstance(value, (Sequence, set, frozenset))
        or not value
    ):
        raise InvalidParameterError(
            f"The 'tiers' parameter{_where(func)} must be a non-empty sequence of tier numbers "
            f"among {list(allowed)}. Got {show(value)} instead."
        )
    out = []
    for t in value:
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or int(t) not in allowed:
            raise InvalidParameterError(
                f"The 'tiers' parameter{_where(func)} must hold tier numbers among "
                f"{list(allowed)}. Got {show(t)}{why}."
            )
        if int(t) not in out:
            out.append(int(t))
    return tuple(out)


@overload
def check_missing_policy(
    value: object, func: str | None = None, *, wildcard: Literal[False] = False
) -> MissingPolicy: ...
@overload
def check_missing_policy(
    value: object, func: str | None = None, *, wildcard: bool
) -> RecordMissingPolicy: ...
def check_missing_policy(
    value: object, func: str | None = None, *, wildcard: bool = False
) -> RecordMissingPolicy:
    """Validate the ``missing=`` keyword (``"wildcard"`` only where ``wildcard`` is true)."""
    return check_choice(
        value, "missing", RECORD_MISSING_POLICIES if wildcard else MISSING_POLICIES, func
    )


def check_alpha(value, func: str | None = None) -> float:
    """The wildcard weight ``alpha`` in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 <= value <= 1):
        raise InvalidParameterError(
            f"The 'alpha' parameter{_where(func)} must be a number in the range [0, 1]. "
            f"Got {show(value)} instead."
        )
    return float(value)


def check_thresholds(
    values, name: str = "thresholds", func: str | None = None, minimum: int = 1
) -> tuple[int, ...]:
    """Return a sorted tuple of distinct integer thresholds, each at least ``minimum``."""
    if isinstance(values, numbers.Integral) and not isinstance(values, bool):
        values = (values,)
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be a sequence of ints >= {minimum}. "
            f"Got {show(values)} instead."
        )
    values = list(values)
    if not values:
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must hold at least one threshold. Got an empty "
            "sequence instead."
        )
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            if not isinstance(v, bool) and isinstance(v, numbers.Real) and float(v).is_integer():
                v = int(v)
            else:
                raise InvalidParameterError(
                    f"The {name!r} parameter{_where(func)} must hold ints in the range "
                    f"[{minimum}, 2**53]. Got {show(v)} instead."
                )
        if v < minimum or v > MAX_THRESHOLD:
            raise InvalidParameterError(
                f"The {name!r} parameter{_where(func)} must hold ints in the range "
                f"[{minimum}, 2**53]. Got {show(v)} instead."
            )
        out.append(int(v))
    return tuple(sorted(set(out)))


def check_int(
    value, name: str, func: str | None = None, minimum: int = 1, maximum: int | None = None
) -> int:
    """Return ``value`` as an int in ``[minimum, maximum]``; raise otherwise."""
    upper = "inf)" if maximum is None else f"{maximum}]"
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be an int in the range [{minimum}, {upper}. "
            f"Got {show(value)} instead."
        )
    return int(value)


def check_share(value, name: str, func: str | None = None) -> float:
    """Return ``value`` as a float in (0, 1]; raise otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 < value <= 1):
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be a number in the range (0, 1]. "
            f"Got {show(value)} instead."
        )
    return float(value)


def check_column_names(
    requested,
    available: Sequence[str],
    name: str = "quasi_identifiers",
    func: str | None = None,
    table: str = "the table",
) -> tuple[str, ...]:
    """Return the requested column names as a tuple, checking they exist and are distinct.

    A single string is taken as one column name. Unknown names raise
    :class:`MissingColumnError` with the closest existing names suggested.
    """
    requested = column_list(requested, name, func)
    available = list(available)
    for col in requested:
        if col not in available:
            raise MissingColumnError(missing_column_message(col, available, table))
    return requested


def column_list(requested, name: str = "columns", func: str | None = None) -> tuple[str, ...]:
    """The requested column names as a tuple: one name (a string), or a non-empty sequence of
    distinct names; anything else is one :class:`InvalidParameterError` naming the parameter."""
    if isinstance(requested, str):
        requested = (requested,)
    if requested is None or not isinstance(requested, Iterable):
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be a list of column names. "
            f"Got {requested!r} instead."
        )
    requested = tuple(requested)
    if not requested:
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must name at least one column. Got an empty "
            "list instead."
        )
    for col in requested:
        if not isinstance(col, str):
            raise InvalidParameterError(
                f"The {name!r} parameter{_where(func)} must hold column names (str). "
                f"Got {col!r} instead."
            )
    seen = set()
    for col in requested:
        if col in seen:
            raise InvalidParameterError(
                f"The {name!r} parameter{_where(func)} names the column {col!r} twice."
            )
        seen.add(col)
    return requested


def missing_column_message(col: str, available: Sequence[str], table: str = "the table") -> str:
    """Say that ``col`` is not a column, suggesting the closest names."""
    available = [str(a) for a in available]
    # a file (named, unlike "the table") whose first line is a record: never list its values
    if table != "the table" and looks_like_data(available):
        return (
            f"No column named {col!r} in {table}: its first line does not look like a header "
            "(it holds numbers, dates or quoted records). The first line must name the columns."
        )
    lowered = {a.lower(): a for a in available}
    close = difflib.get_close_matches(col.lower(), list(lowered), n=3, cutoff=0.6)
    hint = ""
    if close:
        hint = " Did you mean " + " or ".join(repr(lowered[c]) for c in close) + "?"
    shown = ", ".join(repr(a) for a in available[:12])
    more = f", ... ({len(available)} in all)" if len(available) > 12 else ""
    return f"No column named {col!r} in {table}.{hint} Columns are: {shown}{more}."


_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_LONG_DIGITS = re.compile(r"\d{6,}")
_DATE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T].*)?$")


def looks_like_data(names: Sequence[str]) -> bool:
    """Whether a file's "column names" look like a record: a number, a date, an identifier
    with a run of six or more digits (a UPN, a phone number; not ``ks2_2019``) or a JSON/quoted fragment among them (a
    file without a header line, or not delimited text at all)."""
    for name in names:
        text = str(name).strip()
        if not text:
            continue
        if _NUMBER.match(text) or _DATE.match(text) or text[0] in '{["' or text[-1] in "}]":
            return True
        if _LONG_DIGITS.search(text):
            return True
    return False


def check_sep(sep) -> str | None:
    """The ``sep`` keyword: ``None`` (guess) or one character other than a quote or line end."""
    if sep is None:
        return None
    if not isinstance(sep, str) or len(sep) != 1 or sep in '"\r\n':
        raise InvalidParameterError(
            "The 'sep' parameter (the CSV delimiter) must be one character such as ',' or ';'. "
            f"Got {show(sep)} instead."
        )
    return sep


def _float_values(values, what: str) -> np.ndarray:
    """Numbers as float64; text that spells numbers (a CSV column) is converted, anything else
    refused. Booleans are refused: true/false is not a weight or a count."""
    dtype = getattr(values, "dtype", None)
    if dtype is not None and str(dtype).lower() in ("bool", "boolean", "bool[pyarrow]"):
        raise InvalidParameterError(f"{what} must be numeric. Got true/false values instead.")
    arr = values if isinstance(values, np.ndarray) else np.asarray(values)
    if arr.dtype == bool:
        raise InvalidParameterError(f"{what} must be numeric. Got true/false values instead.")
    if arr.dtype == object or arr.dtype.kind in "US":
        flat = arr.reshape(-1)
        if any(isinstance(v, (bool, np.bool_)) for v in flat[:1000]):
            raise InvalidParameterError(f"{what} must be numeric. Got true/false values instead.")
        if flat.size and all(isinstance(v, str) or v is None for v in flat[:1000]):
            import pyarrow as pa
            import pyarrow.compute as pc

            try:
                converted = pc.cast(pa.array(flat, type=pa.string()), pa.float64())
            except (pa.ArrowException, ValueError, TypeError):
                raise InvalidParameterError(
                    f"{what} must be numeric. Got text values instead."
                ) from None
            return converted.to_numpy(zero_copy_only=False).astype(np.float64).reshape(arr.shape)
    try:
        return np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"{what} must be numeric. Got values of type {getattr(values, 'dtype', type(values).__name__)} instead."
        ) from None


def check_weights(
    weights,
    n_records: int,
    func: str | None = None,
    name: str = "weights",
    column: str | None = None,
):
    """Return per-record weights (or counts) as a float64 array of length ``n_records``.

    Values must be finite and non-negative; missing values are an error because a silently
    dropped weight would change every population estimate. ``column`` names the table column the
    values came from, for the message. Text that spells numbers (a CSV column) is converted;
    booleans are refused. Messages give record numbers, never values.
    """
    what = (
        f"The column {column!r}" if column is not None else f"The {name!r} parameter{_where(func)}"
    )
    w = _float_values(weights, what)
    if w.ndim != 1 or w.shape[0] != n_records:
        raise InvalidParameterError(
            f"{what} must have one value per record ({n_records}). Got shape {w.shape} instead."
        )
    bad = np.flatnonzero(~np.isfinite(w))
    if bad.size:
        raise InvalidParameterError(
            f"{what} must not hold missing or infinite values. Found {bad.size} (first at record "
            f"{int(bad[0])})."
        )
    neg = np.flatnonzero(w < 0)
    if neg.size:
        raise InvalidParameterError(
            f"{what} must be non-negative. Found {neg.size} negative value(s) (first at record "
            f"{int(neg[0])})."
        )
    with np.errstate(over="ignore"):
        total = float(np.sum(w))
    if not np.isfinite(total):
        raise InvalidParameterError(
            f"{what} sums to more than a floating-point number can hold (over 1.8e308): every "
            "population figure would be infinite. Are they weights (1 / inclusion probability)?"
        )
    return w


def check_counts(counts, n_records: int, what: str) -> np.ndarray:
    """Cell counts of an aggregate table: whole, non-negative, finite numbers (as int64).

    ``what`` names the column for the message, e.g. ``"The 'count' column of 'x.csv'"``.
    """
    c = _float_values(counts, what)
    if c.ndim != 1 or c.shape[0] != n_records:
        raise InvalidParameterError(f"{what} must have one value per row ({n_records}).")
    bad = np.flatnonzero(~np.isfinite(c))
    if bad.size:
        raise InvalidParameterError(
            f"{what} must not hold missing values. Found {bad.size} (first at row {int(bad[0]) + 1})."
        )
    wrong = np.flatnonzero((c < 0) | (c != np.round(c)))
    if wrong.size:
        raise InvalidParameterError(
            f"{what} must hold whole, non-negative numbers. Found {wrong.size} other value(s) "
            f"(first at row {int(wrong[0]) + 1})."
        )
    return c.astype(np.int64)


def check_sampling_weights(w: np.ndarray, func: str | None = None) -> np.ndarray:
    """Sampling weights: each record stands for at least itself in the population (w >= 1).

    Weights below 1 (all zero, shares, booleans read as 0/1) imply a population smaller than
    the sample, which no risk model describes; they are refused, as a population size below the
    number of records is.
    """
    low = np.flatnonzero(w < 1)
    if low.size:
        raise InvalidParameterError(
            f"The 'weights' parameter{_where(func)} must hold sampling weights of at least 1 (the "
            f"number of population records each record stands for). Found {low.size} below 1 "
            f"(first at record {int(low[0])})."
        )
    return w


# ---------------------------------------------------------------------------------------------
# Validators used by single measures (one home for every parameter check)
# ---------------------------------------------------------------------------------------------


def check_column_name(value, func: str | None = None, name: str = "sensitive") -> str:
    """One column name (a str)."""
    if not isinstance(value, str):
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be a column name (str). Got {show(value)} instead."
        )
    return value


def check_positive(value, name: str, func: str | None = None) -> float:
    """A finite number in (0, inf)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
        or value <= 0
    ):
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be a number in the range (0, inf). "
            f"Got {show(value)} instead."
        )
    return float(value)


def check_bool(value, name: str, func: str | None = None, allow_none: bool = False):
    """``True`` or ``False`` (or ``None`` where allowed)."""
    if value is None and allow_none:
        return None
    if not isinstance(value, (bool, np.bool_)):
        what = "True, False or None" if allow_none else "True or False"
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be {what}. Got {show(value)} instead."
        )
    return bool(value)


def check_whole(value, name: str, func: str | None = None, minimum: int = 1) -> int:
    """An int, or an integral float, at least ``minimum`` (sizes given as ``1e6``)."""
    ok = (
        not isinstance(value, bool)
        and isinstance(value, numbers.Real)
        and math.isfinite(value)
        and float(value).is_integer()
        and value >= minimum
    )
    if not ok:
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be an int in the range [{minimum}, inf). "
            f"Got {show(value)} instead."
        )
    return int(value)


def check_fraction(value, name: str, func: str | None = None) -> float:
    """A number in [0, 1) (a share that may be zero but not everything)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be a number in [0, 1). Got {show(value)} instead."
        )
    return float(value)


def check_open_fraction(value, name: str, func: str | None = None) -> float:
    """A number in the open range (0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be a number in the open range (0, 1). "
            f"Got {show(value)} instead."
        )
    return float(value)


def check_thresholds_by_size(
    values, max_size: int, name: str = "threshold_by_size", func: str | None = None
) -> tuple[int, ...]:
    """One threshold per combination size ``1..max_size``."""
    if isinstance(values, (int, np.integer, str, bytes)) or not isinstance(values, Iterable):
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be a sequence with one threshold per "
            f"combination size (1..{max_size}). Got {show(values)} instead."
        )
    values = list(values)
    if len(values) < max_size:
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must give a threshold for every size "
            f"1..{max_size}. Got {len(values)} value(s)."
        )
    for v in values:
        check_thresholds([v], name=name, func=func)
    return tuple(int(v) for v in values)


def check_histogram(sizes, counts, n, N, func: str | None = None):
    """A class-size histogram (distinct sizes >= 1, counts >= 0) with its sample and population
    sizes; return sorted clean arrays (empty sizes dropped) and ``n``, ``N`` as ints."""
    try:
        s = np.asarray(sizes, dtype=np.float64)
        c = np.asarray(counts, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"The 'sizes' and 'counts' parameters{_where(func)} must be numeric arrays. "
            f"Got {type(sizes).__name__} and {type(counts).__name__} instead."
        ) from None
    if s.ndim != 1 or c.ndim != 1 or s.shape != c.shape:
        raise InvalidParameterError(
            f"The 'sizes' and 'counts' parameters{_where(func)} must be 1-d arrays of the same "
            f"length. Got shapes {s.shape} and {c.shape} instead."
        )
    if not (np.all(np.isfinite(s)) and np.all(s >= 1) and np.all(s == np.round(s))):
        raise InvalidParameterError(
            f"The 'sizes' parameter{_where(func)} must hold ints >= 1 (class sizes). "
            f"Got {show(sizes)} instead."
        )
    if not (np.all(np.isfinite(c)) and np.all(c >= 0) and np.all(c == np.round(c))):
        raise InvalidParameterError(
            f"The 'counts' parameter{_where(func)} must hold ints >= 0 (numbers of classes). "
            f"Got {show(counts)} instead."
        )
    if np.unique(s).shape[0] != s.shape[0]:
        raise InvalidParameterError(
            f"The 'sizes' parameter{_where(func)} must hold distinct class sizes. Got {show(sizes)} instead."
        )
    keep = c > 0
    s, c = s[keep], c[keep]
    order = np.argsort(s)
    s, c = s[order], c[order]
    total = int(np.sum(s * c))
    if total < 1:
        raise InvalidParameterError(
            f"The 'counts' parameter{_where(func)} must describe at least one record. "
            f"Got {show(counts)} instead."
        )
    n = check_whole(n, "n", func, 1)
    if n != total:
        raise InvalidParameterError(
            f"The 'n' parameter{_where(func)} must equal the number of records in the histogram, "
            f"sum(sizes * counts) = {total}. Got {show(n)} instead."
        )
    N = check_whole(N, "N", func, n)
    return s, c, n, N


def check_population(n_records: int, sampling_fraction, population_size, func: str):
    """Return ``(sampling_fraction, population_size)`` from whichever was given.

    ``population_size = round(n_records / sampling_fraction)``, as ARX derives it; if both are
    given they must agree on that.
    """
    if sampling_fraction is None and population_size is None:
        raise InvalidParameterError(
            f"{func} needs the size of the population the extract was drawn from: give "
            "'sampling_fraction' (a number in (0, 1]) or 'population_size' (an int >= the "
            f"number of records, {n_records}). Got neither."
        )
    f = None
    if sampling_fraction is not None:
        f = check_share(sampling_fraction, "sampling_fraction", func)
    N = None
    if population_size is not None:
        # at least the number of records in the extract
        N = check_whole(population_size, "population_size", func, minimum=n_records)
    if f is not None:
        implied = int(round(n_records / f))
        if N is not None and implied != N:
            raise InvalidParameterError(
                f"The 'sampling_fraction' and 'population_size' parameters of {func} disagree: "
                f"{fmt.count(n_records)} records / {f!r} = {fmt.count(implied)} (rounded), not "
                f"{fmt.count(N)}. Give one of them, or values with population_size == "
                "round(n_records / sampling_fraction)."
            )
        return f, implied
    return n_records / N, N


def check_confidence(value, func: str | None = None) -> float:
    """An interval's intended coverage: a number in [0.5, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.5 <= value < 1:
        raise InvalidParameterError(
            f"The 'confidence' parameter{_where(func)} must be a number in [0.5, 1), the "
            f"interval's intended coverage (e.g. 0.9). Got {show(value)} instead."
        )
    return float(value)


def check_instance(value, types, name: str, func: str | None, what: str):
    """``value`` if it is an instance of ``types``; ``what`` says what is expected."""
    if not isinstance(value, types):
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be {what}. "
            f"Got {type(value).__name__} instead."
        )
    return value


def check_frame(value, name: str, func: str | None, *, form: str = "", nonempty: bool = False):
    """A pandas DataFrame (``form`` adds what shape, e.g. ``" in long form"``); with
    ``nonempty``, an empty one is an :class:`EmptyTableError`."""
    import pandas as pd

    check_instance(value, pd.DataFrame, name, func, f"a pandas DataFrame{form}")
    if nonempty and len(value) == 0:
        raise EmptyTableError(f"The {name!r} table passed to {func} has no records.")
    return value


def check_exactly_one(func: str, **named) -> str:
    """The name of the one parameter given (not ``None``) among ``named``, which maps each
    parameter's name to ``(value, what it is)``."""
    given = [name for name, (value, _) in named.items() if value is not None]
    if len(given) != 1:
        options = " and ".join(f"{name!r} ({what})" for name, (_, what) in named.items())
        raise InvalidParameterError(
            f"{func} needs exactly one of {options}. Got " + ("neither." if not given else "both.")
        )
    return given[0]


def check_bound(value, name: str, func: str | None = None) -> float:
    """A number >= 1, ``math.inf`` meaning no bound."""
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and value >= 1
    if not ok or (isinstance(value, float) and math.isnan(value)):
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be a number >= 1 (math.inf for no bound). "
            f"Got {show(value)} instead."
        )
    return float(value)


def check_probabilities(values, name: str, func: str | None = None, *, one: bool = False):
    """Distinct numbers in (0, 1], sorted: one number or a non-empty sequence; with ``one``, a
    single number (a sequence holding it once is accepted)."""
    if isinstance(values, numbers.Real) and not isinstance(values, bool):
        values = (values,)
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be a non-empty sequence of numbers in "
            f"(0, 1]. Got {show(values)} instead."
        )
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 < v <= 1:
            raise InvalidParameterError(
                f"The {name!r} parameter{_where(func)} must hold numbers in (0, 1]. "
                f"Got {show(v)} instead."
            )
        out.append(float(v))
    out = sorted(set(out))
    if one and len(out) != 1:
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be one number in (0, 1]."
        )
    return tuple(out)


def check_field_kinds(
    value, fields: Sequence[str], kinds: Sequence[str], name: str, func: str | None = None
) -> dict[str, str]:
    """A mapping of some of ``fields`` to one of ``kinds`` each (``None``: an empty one)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be a mapping of field to one of "
            f"{list(kinds)}. Got {type(value).__name__} instead."
        )
    for f, kind in value.items():
        if f not in fields:
            raise InvalidParameterError(
                f"The {name!r} parameter{_where(func)} names {f!r}, which is not a linking field."
            )
        if kind not in kinds:
            raise InvalidParameterError(
                f"The {name!r} parameter{_where(func)} must map fields to one of "
                f"{list(kinds)}. Got {show(kind)} for {f!r} instead."
            )
    return dict(value)


def check_field_groups(
    value, fields: Sequence[str], name: str, func: str | None = None
) -> tuple[tuple[str, ...], ...]:
    """A non-empty list of non-empty lists of ``fields`` (a name alone stands for a list of
    one)."""
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be a non-empty list of lists of "
            f"linking fields. Got {show(value)} instead."
        )
    groups = []
    for group in value:
        if not isinstance(group, Iterable):
            group = [group]  # refused below, shown as the list it would be
        group = (group,) if isinstance(group, str) else tuple(group)
        if not group or any(not isinstance(f, str) or f not in fields for f in group):
            raise InvalidParameterError(
                f"The {name!r} parameter{_where(func)} must hold lists of linking fields. "
                f"Got {show(list(group))} instead."
            )
        groups.append(group)
    return tuple(groups)


def check_terms(value, names: Sequence[str], func: str | None = None) -> list[tuple[str, ...]]:
    """The interactions of a log-linear model (the terms of two or more fields) as tuples of
    field names, from a formula (``"~ a + b + a:b"``, ``a*b`` as ``a:b``) or a sequence of
    field names and tuples of them; every field one of ``names``."""
    if value is None:
        return []
    if isinstance(value, str):
        raw = []
        for part in value.strip().removeprefix("~").split("+"):
            part = part.strip()
            if not part:
                raise InvalidParameterError(
                    f"The 'terms' parameter{_where(func)} has an empty term. Got {value!r} instead."
                )
            sep = "*" if "*" in part else ":"
            raw.append(tuple(p.strip() for p in part.split(sep)))
    else:
        try:
            raw = [(t,) if isinstance(t, str) else tuple(t) for t in value]
        except TypeError:
            raise InvalidParameterError(
                f"The 'terms' parameter{_where(func)} must be a formula string ('~ a + b + a:b') "
                f"or a sequence of tuples of field names. Got {type(value).__name__} instead."
            ) from None
    for fields in raw:
        for n in fields:
            if n not in names:
                raise InvalidParameterError(
                    f"The 'terms' parameter{_where(func)} names {n!r}, which is not one of the "
                    f"quasi_identifiers ({', '.join(names)})."
                )
        if len(set(fields)) != len(fields):
            raise InvalidParameterError(
                f"The 'terms' parameter{_where(func)} repeats a field within a term: {fields!r}."
            )
    return [fields for fields in raw if len(fields) >= 2]


def check_int_list(value, name: str, func: str | None = None, *, minimum: int = 1, what: str):
    """One int or a non-empty sequence of ints >= ``minimum``, as a tuple in the given order;
    ``what`` names one of them (for the message of an empty sequence)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be an int or a sequence of ints. "
            f"Got {show(value)} instead."
        )
    values = tuple(value)
    if not values:
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must name at least one {what}."
        )
    return tuple(check_int(v, name, func, minimum=minimum) for v in values)


def check_rng(value, name: str = "rng", func: str | None = None):
    """``(generator, seed)`` from an int seed >= 0 (``seed`` is it), a numpy Generator or
    ``None`` (a fresh generator; ``seed`` is ``None`` for both)."""
    if isinstance(value, np.random.Generator):
        return value, None
    if value is None or (
        isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0
    ):
        seed = None if value is None else int(value)
        return np.random.default_rng(seed), seed
    raise InvalidParameterError(
        f"The {name!r} parameter{_where(func)} must be an int seed >= 0, a numpy Generator or "
        f"None. Got {show(value)} instead."
    )


def check_differs(value, other, name: str, other_name: str, func: str | None = None):
    """``value`` unless it equals the ``other_name`` parameter's value."""
    if value == other:
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must differ from {other_name!r}."
        )
    return value


def check_choices(
    values, name: str, options: Sequence[str], func: str | None = None, *, what: str
) -> list[str]:
    """One of ``options`` or a non-empty sequence of them; ``what`` names one (the message of
    an empty sequence)."""
    if isinstance(values, str):
        values = [values]
    elif isinstance(values, Iterable) and not isinstance(values, (bytes, Mapping)):
        values = list(values)
    else:
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be one of "
            f"{', '.join(repr(o) for o in options)} or a list of them. Got {show(values)} instead."
        )
    if not values:
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must name at least one {what}."
        )
    return [check_choice(v, name, options, func) for v in values]


def check_apart(count: str, rows: Sequence[str], columns: Sequence[str], func: str | None = None):
    """The dimensions of a frequency table: ``rows`` and ``columns`` share no column, and
    neither names the ``count`` column."""
    for name, cols in (("rows", rows), ("columns", columns)):
        if count in cols:
            raise InvalidParameterError(
                f"The {name!r} parameter{_where(func)} names the count column {count!r}."
            )
    both = [c for c in rows if c in columns]
    if both:
        raise InvalidParameterError(
            f"The 'rows' and 'columns' parameters{_where(func)} both name {both[0]!r}."
        )
