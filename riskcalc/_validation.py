"""Parameter checks shared by every public function.

Messages follow one pattern: "The 'threshold' parameter of k_anonymity must be an int in the
range [1, inf). Got 0 instead."
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable, Sequence

import numpy as np

from .exceptions import InvalidParameterError, MissingColumnError

MISSING_POLICIES = ("category", "raise")
#: Policies of the measures that read per-record counts (class sizes, k, uniqueness, risks).
RECORD_MISSING_POLICIES = ("category", "raise", "wildcard")


def _where(func: str | None) -> str:
    return f" of {func}" if func else ""


def check_choice(value, name: str, options: Sequence[str], func: str | None = None) -> str:
    """Return ``value`` if it is one of ``options``; raise otherwise."""
    if not isinstance(value, str) or value not in options:
        choices = ", ".join(repr(o) for o in options)
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be one of {choices}. Got {value!r} instead."
        )
    return value


def check_missing_policy(value, func: str | None = None, *, wildcard: bool = False) -> str:
    """Validate the ``missing=`` keyword (``"wildcard"`` only where ``wildcard`` is true)."""
    return check_choice(value, "missing", RECORD_MISSING_POLICIES if wildcard else MISSING_POLICIES, func)


def check_alpha(value, func: str | None = None) -> float:
    """The wildcard weight ``alpha`` in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 <= value <= 1):
        raise InvalidParameterError(
            f"The 'alpha' parameter{_where(func)} must be a number in the range [0, 1]. "
            f"Got {value!r} instead."
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
            f"Got {values!r} instead."
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
                    f"[{minimum}, inf). Got {v!r} instead."
                )
        if v < minimum:
            raise InvalidParameterError(
                f"The {name!r} parameter{_where(func)} must hold ints in the range "
                f"[{minimum}, inf). Got {v!r} instead."
            )
        out.append(int(v))
    return tuple(sorted(set(out)))


def check_int(value, name: str, func: str | None = None, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` as an int in ``[minimum, maximum]``; raise otherwise."""
    upper = "inf)" if maximum is None else f"{maximum}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum or (
        maximum is not None and value > maximum
    ):
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be an int in the range [{minimum}, {upper}. "
            f"Got {value!r} instead."
        )
    return int(value)


def check_share(value, name: str, func: str | None = None) -> float:
    """Return ``value`` as a float in (0, 1]; raise otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 < value <= 1):
        raise InvalidParameterError(
            f"The {name!r} parameter{_where(func)} must be a number in the range (0, 1]. "
            f"Got {value!r} instead."
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
    available = list(available)
    for col in requested:
        if col not in available:
            raise MissingColumnError(missing_column_message(col, available, table))
    return requested


def missing_column_message(col: str, available: Sequence[str], table: str = "the table") -> str:
    """Say that ``col`` is not a column, suggesting the closest names."""
    available = [str(a) for a in available]
    lowered = {a.lower(): a for a in available}
    close = difflib.get_close_matches(col.lower(), list(lowered), n=3, cutoff=0.6)
    hint = ""
    if close:
        hint = " Did you mean " + " or ".join(repr(lowered[c]) for c in close) + "?"
    shown = ", ".join(repr(a) for a in available[:12])
    more = f", ... ({len(available)} in all)" if len(available) > 12 else ""
    return f"No column named {col!r} in {table}.{hint} Columns are: {shown}{more}."


def check_weights(
    weights, n_records: int, func: str | None = None, name: str = "weights", column: str | None = None
):
    """Return per-record weights (or counts) as a float64 array of length ``n_records``.

    Values must be finite and non-negative; missing values are an error because a silently
    dropped weight would change every population estimate. ``column`` names the table column the
    values came from, for the message.
    """
    what = (
        f"The {name} column {column!r}" if column is not None else f"The {name!r} parameter{_where(func)}"
    )
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"{what} must be numeric. Got values of type "
            f"{getattr(weights, 'dtype', type(weights).__name__)} instead."
        ) from None
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
            f"{what} must be non-negative. Found {neg.size} negative value(s) (first {w[neg[0]]!r} "
            f"at record {int(neg[0])})."
        )
    return w
