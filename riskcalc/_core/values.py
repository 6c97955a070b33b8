"""A column's distinct values and their counts, from its encoding (the in-memory backend's
answer to :meth:`riskcalc._core.backend.Backend.column_values`, which the profile reads).

Only the values some record holds count: a categorical column (a Parquet dictionary, a sample
of a larger table) may list values no record holds, which are neither distinct values nor
spellings of one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from .answers import ColumnValues

__all__ = ["text_values", "mixed_as_text", "encoded_column_values"]


def text_values(values) -> pa.Array:
    """``values`` (an Arrow array or chunked array, or a sequence) as one Arrow array,
    dictionaries decoded, large strings as strings."""
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if not isinstance(arr, pa.Array):
        arr = pa.array(np.asarray(arr, dtype=object), from_pandas=True)
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    return arr


def mixed_as_text(values) -> pa.Array | None:
    """The values of a column holding text beside other types (an object column of ``7`` and
    ``"07"``), each as its text (``str``), missing values kept missing; ``None`` when no value
    is text (integers past int64, say: a numeric column, nothing to spell two ways). Distinct
    values may then share a text: the profile counts them as one value written two ways."""
    index = pd.Index(
        np.asarray(values, dtype=object), dtype=object
    )  # pandas 1.5 would infer numbers
    if pd.api.types.infer_dtype(index, skipna=True) not in ("mixed", "mixed-integer"):
        return None
    missing = np.asarray(index.isna())
    text = np.asarray(index.astype(str), dtype=object)
    return pa.array(np.where(missing, None, text), pa.string())


def encoded_column_values(enc, name: str) -> ColumnValues:
    """:class:`ColumnValues` of an encoded column, over the values its records hold."""
    col = enc[name]
    all_counts = np.asarray(col.value_counts[: col.n_distinct], dtype=np.int64)
    levels = np.flatnonzero(all_counts > 0)
    counts = all_counts[levels]
    text = None
    cats = col.categories
    if cats is not None:
        try:
            arr = text_values(cats)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):  # mixed types, or integers past
            # int64 (an id column of 20-digit numbers, not text: no spelling to unify)
            arr = mixed_as_text(cats)
        if arr is not None and pa.types.is_string(arr.type):
            text = arr if len(levels) == len(arr) else arr.take(pa.array(levels))
    return ColumnValues(
        name, col.dtype, enc.n_records, len(levels), col.n_missing, counts, text, levels
    )
