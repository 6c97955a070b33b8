"""The engine's front door for measures: raw data or an encoded table in, a partition out.

Measures call :func:`prepare` (validate, encode if needed, partition, resolve weights) and
:func:`record_frequencies` (``fk``/``Fk`` per record under the missing-value policy).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_column_names, check_missing_policy, check_weights
from ..exceptions import InvalidParameterError
from .encoding import EncodedTable, _column_names, _label, encode
from .partition import Partition

def _is_spark(data) -> bool:
    from .spark import is_spark_frame  # cheap: never imports pyspark

    return is_spark_frame(data)


__all__ = ["partition", "as_encoded", "prepare", "record_frequencies", "resolve_weights"]

def partition(data, columns, *, missing: str = "category", sep: str | None = None) -> Partition:
    """Group the records of a table into equivalence classes on ``columns``.

    Parameters
    ----------
    data : table-like
    columns : sequence of str
        The quasi-identifiers.
    missing : {"category", "raise"}, default "category"
        ``"category"``: a missing value is a value of its own, equal to other missing values of
        the same column (as ARX, pyCANON and sdcMicro's ``ldiversity`` treat it).
        ``"raise"``: raise :class:`~riskcalc.exceptions.MissingValueError` if any of ``columns``
        holds a missing value.

    Returns
    -------
    Partition
    """
    enc = as_encoded(data, columns, func="partition", sep=sep)
    missing = check_missing_policy(missing, "partition")
    return enc.partition(columns, missing)


def as_encoded(data, columns, *, func: str, weights=None, sep=None, name="quasi_identifiers") -> EncodedTable:
    """Return an :class:`EncodedTable` holding ``columns`` (encoding raw data on the fly).

    A Spark DataFrame gives a :class:`~riskcalc._core.spark.SparkTable`, which partitions on the
    cluster and refuses anything that would need the records on the driver.
    """
    if _is_spark(data):
        from .spark import spark_table, unsupported

        if weights is not None:
            raise unsupported(f"The {'weights'!r} parameter", func)
        return spark_table(data, columns, func=func, name=name)
    if type(data).__name__ == "SparkTable":  # a measure handed on a Spark stand-in (e.g. model_risk)
        from .spark import SparkTable, unsupported

        if isinstance(data, SparkTable):
            raise unsupported("Reading the records", func)
    if isinstance(data, EncodedTable):
        check_column_names(columns, data.columns, name=name, func=func)
        return data
    from . import frames

    if not frames.is_readable(data):
        raise frames.refuse(data, func=func)
    if frames.is_native(data):  # polars, DuckDB, Arrow streams and datasets, PyCapsule tables
        src = frames.source(data, func=func)
        names = check_column_names(columns, src.names, name=name, func=func, table=src.label)
        keep = weights if isinstance(weights, str) else None
        if keep is not None:
            check_column_names([keep], src.names, name="weights", func=func, table=src.label)
        return frames.encode_native(src, names, weights=keep, func=func)
    names = check_column_names(columns, _column_names(data, sep), name=name, func=func, table=_label(data))
    keep = weights if isinstance(weights, str) else None
    if keep is not None:
        check_column_names([keep], _column_names(data, sep), name="weights", func=func, table=_label(data))
    return encode(data, names, weights=keep, sep=sep)



def prepare(
    data, quasi_identifiers, *, func: str, missing: str = "category", weights=None, sep=None, wildcard: bool = False
):
    """Validate arguments and return ``(encoded_table, partition, weights_or_None)``.

    ``weights`` may be the name of a column (of the raw table, or one kept by :func:`encode`) or
    an array with one value per record. With ``wildcard=True`` the policy ``"wildcard"`` is
    accepted; the partition returned is then that of ``"category"`` (the distinct keys), and
    the caller reads per-record counts from :func:`record_frequencies`.
    """
    missing = check_missing_policy(missing, func, wildcard=wildcard)
    if missing == "wildcard" and _is_spark(data):
        from .spark import unsupported

        raise unsupported("The wildcard rule (missing='wildcard')", func)
    enc = as_encoded(data, quasi_identifiers, func=func, weights=weights, sep=sep)
    names = (quasi_identifiers,) if isinstance(quasi_identifiers, str) else tuple(quasi_identifiers)
    part = enc.partition(names, "category" if missing == "wildcard" else missing)
    return enc, part, resolve_weights(enc, weights, func)


def record_frequencies(enc: EncodedTable, part: Partition, missing: str, weights, alpha: float = 1.0):
    """Per-record ``(fk, Fk or None)``: class sizes, or wildcard match counts (float64)."""
    if missing != "wildcard" or not any(enc[c].n_missing for c in part.columns):
        # Without missing values wildcard matching is plain equality.
        Fk = part.weighted_fk(weights) if weights is not None else None
        return part.fk, Fk
    from .wildcard import wildcard_counts

    return wildcard_counts([enc[c] for c in part.columns], weights, alpha)


def resolve_weights(enc: EncodedTable, weights, func: str, name: str = "weights") -> np.ndarray | None:
    """Per-record numbers (weights, counts) as float64, from a kept column name or an array."""
    if weights is None:
        return None
    if isinstance(weights, str):
        if weights not in enc.weight_columns:
            raise InvalidParameterError(
                f"The {name!r} parameter of {func} names {weights!r}, which was not kept when the "
                f"table was encoded. Use encode(..., weights={weights!r})."
            )
        return enc.weights(weights)
    return check_weights(weights, enc.n_records, func, name)
