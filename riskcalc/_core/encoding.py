"""Encoding: dense integer codes per column, computed once per table.

Every measure in riskcalc is a function of the *equivalence classes* of a table on a set of
quasi-identifiers. The first step is :func:`encode`: each column becomes dense integer codes
(``int8``, ``int16`` or ``int32``, the narrowest that holds the column's levels), once. pandas
categoricals and Arrow dictionary columns give their codes for free; other columns are factorised by a hash table (pandas) or by Arrow's ``dictionary_encode``.
Missing values get a code of their own (the last one), and the count of them is kept, so the
missing-value policy is applied later, per query, without re-encoding. The second step,
grouping the codes into classes, is :mod:`riskcalc._core.partition`.
"""

from __future__ import annotations

import ctypes
import itertools
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._typing import Fields, TableLike
from .._validation import check_column_names, check_weights
from ..exceptions import EmptyTableError, InvalidParameterError, UnsupportedTypeError
from . import kernels
from .codes import (  # noqa: F401 - re-exported: the engine and tests import them from here
    _PARTITION_CACHE_BYTES,
    _PARTITION_CACHE_SIZE,
    EncodedColumn,
    EncodedTable,
    _column_values,
    _dictionary_key,
    _frame_key,
    _is_numeric,
    _normalise_floats,
    _unpack_short_strings,
    code_dtype,
)
from .grouping import small_key_space
from .io import read_table
from .stream import encode_batches
from .threads import map_threads

__all__ = [
    "EncodedColumn",
    "EncodedTable",
    "encode",
    "encode_batches",
    "encode_series",
    "encode_arrow",
    "code_dtype",
]


# --------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------


def encode(
    data: TableLike,
    columns: Fields | None = None,
    *,
    weights: str | None = None,
    sep: str | None = None,
    sheet: str | int | None = None,
) -> EncodedTable:
    """Encode the columns of a table as dense integer codes, once, for repeated measurement.

    Parameters
    ----------
    data : table-like
        The table (see ``docs/inputs.md``). A path is read by suffix: Parquet (a file, or a
        folder of parts), Feather / Arrow IPC, CSV/TSV (gzip allowed) or Excel. Files other than
        workbooks, and polars, DuckDB and Arrow tables, are streamed into codes batch by batch
        (:func:`encode_batches`), reading only ``columns``: memory holds the codes and a batch,
        never the whole table (``docs/reading.md``).
    columns : sequence of str, optional
        The columns to encode (all columns when omitted). Encode every column you will use as a
        quasi-identifier; the cost is one pass per column.
    weights : str, optional
        A numeric column of sampling weights to keep alongside the codes, so that measures can
        take ``weights=<name>`` on the encoded table.
    sep : str, optional
        CSV delimiter; guessed from the header when omitted.
    sheet : str or int, optional
        The sheet of an Excel workbook (``.xlsx``): its name, or its number counting from 1
        (default: the first sheet).

    Returns
    -------
    EncodedTable

    Notes
    -----
    Equality is exact on the stored values: ``"M"`` and ``"m"`` are different values, and so are
    the integer ``1`` and the string ``"1"``. Missing values (``None``, ``NaN``, ``NaT``,
    ``pd.NA``, Arrow nulls, empty CSV fields) are kept as a level of their own; the policy for
    them (``missing="category"`` or ``"raise"``) is chosen by each measure.

    Strings, categoricals, integers, floats, booleans, dates, timestamps and Arrow-backed pandas
    columns are supported. Columns of lists, dicts or other unhashable objects raise
    :class:`~riskcalc.exceptions.UnsupportedTypeError`.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": ["F", "M", "F"], "year": [7, 7, 7]})
    >>> enc = rc.encode(df)
    >>> enc["sex"].n_levels, enc.n_records
    (2, 3)
    """
    if isinstance(data, EncodedTable):
        if columns is None:
            return data
        names = check_column_names(columns, data.columns, name="columns", func="encode")
        return EncodedTable(
            {c: data[c] for c in names},
            data.n_records,
            data.index,
            data.source,
            {w: data.weights(w) for w in data.weight_columns},
        )
    if weights is not None and not isinstance(weights, str):
        raise InvalidParameterError(
            "The 'weights' parameter of encode must be the name of a column of sampling weights "
            f"to keep with the codes. Got {type(weights).__name__} instead; an array of weights "
            "goes to the measure itself (e.g. individual_risk(table, qi, weights=array))."
        )
    from . import frames  # polars, DuckDB, Arrow streams and datasets: read as Arrow batches

    data = frames.unwrap(data)  # a narwhals frame: the native one inside
    if frames.is_native(data):
        src = frames.source(data, func="encode")
        names = (
            src.names
            if columns is None
            else check_column_names(columns, src.names, "columns", "encode", src.label)
        )
        if weights is not None:
            check_column_names([weights], src.names, name="weights", func="encode", table=src.label)
        wanted = list(names) + ([weights] if weights is not None and weights not in names else [])
        schema, batches = src.batches(wanted)
        return encode_stream(batches, schema, names, weights=weights, source=src.label)
    names = wanted = None
    if columns is not None:
        names = list(
            check_column_names(
                columns, _column_names(data, sep, sheet=sheet), "columns", "encode", _label(data)
            )
        )
        wanted = names + ([weights] if weights is not None and weights not in names else [])
    if isinstance(data, (str, os.PathLike)) and not _is_excel(data):
        return _encode_file(data, names, wanted, weights, sep, sheet)
    table, index, source = _load(data, wanted, sep, sheet)
    if names is None:
        names = _table_names(table)
    if weights is not None:
        check_column_names([weights], _table_names(table), name="weights", func="encode")
    n_records = _n_rows(table)
    if n_records == 0:
        where = f" {source}" if source else ""
        raise EmptyTableError(f"The table{where} has no records; nothing to measure.")
    encoded = _encode_columns(table, names)
    kept = {}
    if weights is not None:
        kept[weights] = check_weights(_column_values(table, weights), n_records, column=weights)
    return EncodedTable(encoded, n_records, index, source, kept)


def _is_excel(path) -> bool:
    from .io import file_kind

    path = Path(path)
    return path.exists() and file_kind(path) == "excel"


def _encode_file(path, names, wanted, weights, sep, sheet) -> EncodedTable:
    """A data file streamed into codes (:func:`riskcalc._core.io.stream_file`, then
    :func:`encode_batches`): only the columns asked for, batch by batch, no whole table."""
    from .io import stream_file

    source = str(Path(path))

    def consume(schema, batches):
        chosen = list(schema.names) if names is None else names
        if weights is not None:
            check_column_names([weights], list(schema.names), name="weights", func="encode")
        return encode_batches(batches, schema, chosen, weights=weights, source=source)

    return stream_file(path, wanted, consume, sep=sep, sheet=sheet)


def encode_stream(
    batches, schema: pa.Schema, names, *, weights: str | None = None, source: str = ""
) -> EncodedTable:
    """Encode Arrow record batches of ``names`` (and a ``weights`` column kept alongside): the
    foreign tables of :mod:`riskcalc._core.frames` (polars, DuckDB, Arrow streams and
    datasets) come in here, and go through the streaming encoder (:func:`encode_batches`:
    memory bounded by the codes and one batch). ``source`` names the table in messages."""
    try:
        return encode_batches(batches, schema, list(names), weights=weights, source=source)
    except EmptyTableError:
        what = source[0].upper() + source[1:] if source else "The table"
        raise EmptyTableError(f"{what} has no records; nothing to measure.") from None


def _label(data) -> str:
    """How messages name the table: a file by its name, anything else as "the table"."""
    if isinstance(data, (str, os.PathLike)):
        return repr(Path(data).name)
    from .frames import label

    return label(data)


def _column_names(data, sep, sheet=None) -> list[str]:
    if isinstance(data, pd.DataFrame):
        return [str(c) for c in data.columns]
    if isinstance(data, pa.Table):
        return list(data.column_names)
    if isinstance(data, (str, os.PathLike)):
        from .io import table_columns

        return table_columns(data, sep=sep, sheet=sheet)
    from . import frames

    native = frames.unwrap(data)
    if native is not data:
        return _column_names(native, sep, sheet)
    if frames.is_native(data):
        return frames.column_names(data)
    raise frames.refuse(data)


def _load(data, columns, sep, sheet=None):
    """Return (table, index, source) where table is a DataFrame or an Arrow table."""
    if isinstance(data, pd.DataFrame):
        if len(set(map(str, data.columns))) != data.shape[1]:
            dupes = sorted(
                {str(c) for c in data.columns if list(map(str, data.columns)).count(str(c)) > 1}
            )
            raise InvalidParameterError(
                f"The table has duplicate column names: {', '.join(map(repr, dupes))}."
            )
        return data, data.index, "DataFrame"
    if isinstance(data, pa.Table):
        return data, None, "pyarrow.Table"
    if isinstance(data, (str, os.PathLike)):
        return read_table(data, columns, sep=sep, sheet=sheet), None, str(Path(data))
    _column_names(data, sep)  # raises the standard message
    raise AssertionError  # pragma: no cover


def _table_names(table) -> list[str]:
    if isinstance(table, pd.DataFrame):
        return [str(c) for c in table.columns]
    return list(table.column_names)


def _n_rows(table) -> int:
    return int(table.shape[0]) if isinstance(table, pd.DataFrame) else int(table.num_rows)


def _encode_columns(table, names) -> dict[str, EncodedColumn]:
    def one(name):
        if isinstance(table, pd.DataFrame):
            return encode_series(table[_frame_key(table, name)], name)
        return encode_arrow(table.column(name), name)

    workers = min(len(names), os.cpu_count() or 1)
    if workers <= 1:
        return {n: one(n) for n in names}
    # pandas' hash tables and Arrow's kernels release the GIL: columns encode in parallel.
    return dict(zip(names, map_threads(one, names, workers, name="riskcalc-encode")))


def _finish(name, codes, n_distinct, dtype, categories) -> EncodedColumn:
    """Move missing codes (negative) to the last level and narrow (:func:`code_dtype`)."""
    codes = np.asarray(codes)
    missing = codes < 0
    n_missing = int(np.count_nonzero(missing))
    n_levels = int(n_distinct) + (1 if n_missing else 0)
    # Always a private copy: codes may be a view of the caller's data (categorical codes).
    out = codes.astype(code_dtype(max(n_levels, 1)), copy=True)
    if n_missing:
        out[missing] = n_levels - 1
    return EncodedColumn(name, out, max(n_levels, 1), n_missing, dtype, categories)


def encode_series(series: pd.Series, name: str) -> EncodedColumn:
    """Encode one pandas column (see :func:`encode`)."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _finish(
            name, series.cat.codes.to_numpy(), len(dtype.categories), str(dtype), dtype.categories
        )
    if isinstance(dtype, pd.ArrowDtype) or (
        isinstance(dtype, pd.StringDtype) and getattr(dtype, "storage", "") == "pyarrow"
    ):
        # an Array or a ChunkedArray by pandas version; encode_arrow takes either
        return encode_arrow(series.array.__arrow_array__(), name, str(dtype))
    values = series.array if pd.api.types.is_extension_array_dtype(dtype) else series.to_numpy()
    if isinstance(values, np.ndarray) and values.dtype == object:
        by_identity = _encode_by_identity(name, values, str(dtype))
        if by_identity is not None:
            return by_identity
    return _encode_values(name, values, dtype)


#: Object columns at least this long are grouped by object identity first (see
#: :func:`_encode_by_identity`), when they hold at most a quarter as many distinct objects.
_IDENTITY_MIN = 1 << 16
_IDENTITY_CAP = 1 << 16


def _encode_by_identity(name, values: np.ndarray, dtype: str) -> EncodedColumn | None:
    """An object column whose records share few Python objects, encoded through them.

    Arrow's conversion to pandas gives one object per distinct value (``deduplicate_objects``),
    so a column of 8.6 million dates from Parquet holds some 5,000 objects. Records are grouped
    by the objects' addresses (integers: one hash pass, no Python call per record); the distinct
    objects alone are then encoded as usual, in order of first appearance, so the codes equal a
    direct encoding's. The same object is the same value; equal values held by different
    objects get one code from the second encoding. ``None`` (encode directly) when the column
    is short or holds more than ``min(_IDENTITY_CAP, n / 4)`` distinct objects.
    """
    n = values.shape[0]
    if n < _IDENTITY_MIN:
        return None
    values = np.ascontiguousarray(values)
    # The array's own buffer of object pointers, read as integers (the objects stay alive: the
    # array holds them). No object is dereferenced.
    addresses = np.ctypeslib.as_array((ctypes.c_ssize_t * n).from_address(values.ctypes.data))
    grouped = kernels.first_appearance(
        addresses.astype(np.int64, copy=False), min(_IDENTITY_CAP, n // 4)
    )
    del addresses
    if grouped is None:
        return None
    ids, sizes, first = grouped
    distinct = _encode_values(name, values[first], dtype)
    n_missing = (
        int(sizes[distinct.codes == distinct.missing_code].sum()) if distinct.n_missing else 0
    )
    return EncodedColumn(
        name, distinct.codes[ids], distinct.n_levels, n_missing, dtype, distinct.categories
    )


def _encode_values(name, values, dtype) -> EncodedColumn:
    """Encode a numpy or extension array of one column (see :func:`encode`)."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "iub":
        return _encode_small_ints(name, values, str(dtype))
    if isinstance(values, np.ndarray) and values.dtype.kind in "mM":
        return _encode_temporal(name, values, str(dtype))
    if isinstance(values, np.ndarray) and values.dtype == object and _holds_dates(values):
        # pandas gives Parquet/Arrow dates as Python ``date`` objects: hashing them one by one
        # is slow, their day numbers (Arrow ``date32``) are not.
        try:
            days = pa.array(values, type=pa.date32(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass  # mixed objects after all: factorised below
        else:
            return encode_arrow(days, name, str(dtype))
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError as exc:
        raise UnsupportedTypeError(
            f"Column {name!r} holds values that cannot be compared for equality "
            f"(dtype {dtype}): {exc}."
        ) from None
    if (
        isinstance(values, np.ndarray)
        and values.dtype == object
        and pd.api.types.infer_dtype(values, skipna=True).startswith("mixed")
    ):
        return _split_by_type(name, values, codes, str(dtype))
    return _finish(name, codes, len(uniques), str(dtype), uniques)


_TYPE_OF = np.frompyfunc(type, 1, 1)


def _split_by_type(name, values: np.ndarray, codes: np.ndarray, dtype: str) -> EncodedColumn:
    """Codes of an object column mixing types, one per (type, value).

    Python's equality merges ``1``, ``1.0`` and ``True`` (and ``0`` with ``False``), which would
    count three spellings as one value and understate the risk. Kept apart, they are counted as
    distinct, as the text ``"7"`` and the number ``7`` already are: the profile's rule
    ``value_types`` reports the mix (the figures an upper bound) and ``--normalise`` reads the
    values as their text. Codes follow first appearance, as every encoding's do.
    """
    types = pd.factorize(_TYPE_OF(values))[0]  # a ufunc loop over the objects, no Python loop
    key = np.where(codes < 0, -1, codes.astype(np.int64) * (int(types.max()) + 1) + types)
    kept = key >= 0
    distinct, first, inverse = np.unique(key[kept], return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # first-appearance order
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0])
    out = np.full(key.shape[0], -1, dtype=np.int64)
    out[kept] = rank[inverse.ravel()]
    # the values themselves (0 and 0.0 may both be there: equal, but kept apart)
    categories = values[np.flatnonzero(kept)[first[order]]]
    return _finish(name, out, distinct.shape[0], dtype, pd.Index(categories, dtype=object))


def _holds_dates(values: np.ndarray) -> bool:
    """Whether an object column looks like Python ``datetime.date`` values (not datetimes)."""
    import datetime as dt

    for v in values[:64]:
        if v is None or v is pd.NA or (isinstance(v, float) and v != v):
            continue
        return type(v) is dt.date
    return False


def _encode_temporal(name, values: np.ndarray, dtype: str) -> EncodedColumn:
    """datetime64 / timedelta64: codes of the integer representation (``NaT`` is missing)."""
    ints = values.view(np.int64)
    col = _encode_ints_missing(name, ints, ints == np.iinfo(np.int64).min, dtype)
    if col.categories is not None:
        object.__setattr__(
            col, "categories", np.asarray(col.categories, dtype=np.int64).view(values.dtype)
        )
    return col


def _encode_ints_missing(
    name, ints: np.ndarray, missing: np.ndarray | None, dtype: str
) -> EncodedColumn:
    """Integers some of which (``missing``) are missing values."""
    if missing is None or not missing.any():
        return _encode_small_ints(name, ints, dtype)
    present = ~missing
    if not present.any():
        return _finish(name, np.full(ints.shape[0], -1, np.int64), 0, dtype, ints[:0])
    col = _encode_small_ints(name, ints[present], dtype)
    codes = np.full(ints.shape[0], -1, np.int64)
    codes[present] = col.codes
    return _finish(name, codes, col.n_levels, dtype, col.categories)


def _encode_arrow_temporal(name, array: pa.ChunkedArray, dtype: str) -> EncodedColumn:
    """Arrow dates, times, timestamps and durations: codes of their integer representation."""
    typ = array.type
    ints = array.cast(pa.int32() if typ.bit_width == 32 else pa.int64())
    missing = None
    if ints.null_count:
        missing = ints.is_null().to_numpy(zero_copy_only=False)
        ints = ints.fill_null(0)
    values = ints.to_numpy()
    col = _encode_ints_missing(name, values, missing, dtype)
    if col.categories is not None:
        cats = pa.array(np.asarray(col.categories, dtype=values.dtype)).cast(typ)
        object.__setattr__(col, "categories", cats)
    return col


def _encode_small_ints(name, values: np.ndarray, dtype: str) -> EncodedColumn:
    """Integers and booleans: offset codes when the range is small, else a hash table."""
    if values.dtype.kind == "b":
        values = values.view(np.uint8)
    n = values.shape[0]
    lo, hi = int(values.min()), int(values.max())
    span = hi - lo + 1
    if lo >= -(1 << 62) and hi < (1 << 62) and small_key_space(span, n):
        codes, uniques = kernels.range_codes(values, lo, span, code_dtype(span))
        return EncodedColumn(name, codes, int(uniques.shape[0]), 0, dtype, uniques)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return _finish(name, codes, len(uniques), dtype, uniques)


def encode_arrow(array, name: str, dtype: str | None = None) -> EncodedColumn:
    """Encode one Arrow column (see :func:`encode`)."""
    if isinstance(array, pa.Array):
        array = pa.chunked_array([array])
    typ = array.type
    dtype = dtype or str(typ)
    if pa.types.is_nested(typ):
        raise UnsupportedTypeError(
            f"Column {name!r} has the nested type {typ}; only flat values (text, numbers, "
            "booleans, dates) can be quasi-identifiers."
        )
    if array.num_chunks == 0 or len(array) == 0:
        return EncodedColumn(name, np.zeros(0, np.int32), 1, 0, dtype, None)
    if pa.types.is_dictionary(typ):
        dictionaries = _distinct_dictionaries(array)
        if len(dictionaries) == 1:
            dictionary, indices = _canonical_dictionary(
                array.chunk(0).dictionary, _chunk_indices(array)
            )
            return _from_dictionary(name, dictionary, indices, dtype)
        if sum(len(d) for d in dictionaries.values()) <= max(len(array) // 4, 1 << 16):
            return _from_dictionary(name, *_merge_dictionaries(array, dictionaries), dtype)
        array = array.cast(typ.value_type)  # large per-chunk dictionaries: encode afresh
        typ = array.type
    if _is_plain_temporal(typ):
        return _encode_arrow_temporal(name, array, dtype)
    if pa.types.is_floating(typ):
        array = _normalise_floats(array)
    if _is_string(typ) and not _is_string_view(typ):
        packed = _encode_short_strings(name, array, dtype)
        if packed is not None:
            return packed
    if _is_string(typ) and len(array) >= _CHUNKED_ENCODE_MIN and (os.cpu_count() or 1) > 1:
        return _encode_strings_parallel(name, array, dtype)
    try:
        encoded = pc.dictionary_encode(array)
    except pa.ArrowNotImplementedError:
        raise UnsupportedTypeError(
            f"Column {name!r} has the type {typ}, which cannot be compared for equality."
        ) from None
    dictionaries = _distinct_dictionaries(encoded)
    if len(dictionaries) > 1:  # pragma: no cover - Arrow's chunked encoding shares one memo
        return _from_dictionary(name, *_merge_dictionaries(encoded, dictionaries), dtype)
    return _from_dictionary(name, encoded.chunk(0).dictionary, _chunk_indices(encoded), dtype)


#: String columns at least this long are dictionary-encoded in slices, one per core.
_CHUNKED_ENCODE_MIN = 1 << 18


def _is_plain_temporal(typ) -> bool:
    return (
        pa.types.is_date(typ)
        or pa.types.is_timestamp(typ)
        or pa.types.is_time(typ)
        or pa.types.is_duration(typ)
    )


def _is_string(typ) -> bool:
    return (
        pa.types.is_string(typ)
        or pa.types.is_large_string(typ)
        or pa.types.is_binary(typ)
        or pa.types.is_large_binary(typ)
        or _is_string_view(typ)
    )


#: Arrow's string_view type (pyarrow >= 16); older pyarrow has no such type, so nothing is one.
_is_string_view = getattr(pa.types, "is_string_view", lambda typ: False)


#: The packed sentinel of a missing value: a NUL byte then 0x01, which no packed string is.
_NULL_PACKED = 0x0100


def _encode_short_strings(name, array: pa.ChunkedArray, dtype: str) -> EncodedColumn | None:
    """Strings of at most 8 bytes without NUL bytes (codes, postcodes, sexes...): their bytes
    packed into one ``int64`` each, grouped by the integer kernels. ``None`` when the column
    does not qualify or the compiled kernels are not in use (Arrow's encoding then runs)."""
    n = len(array)
    mod = kernels.compiled(n)
    if mod is None or n == 0:
        return None
    key = np.empty(n, np.int64)
    start = 0
    for chunk in array.chunks:
        m = len(chunk)
        if m == 0:
            continue
        _, off_buf, data_buf = chunk.buffers()[:3]
        wide = pa.types.is_large_string(chunk.type) or pa.types.is_large_binary(chunk.type)
        offsets = np.frombuffer(off_buf, dtype=np.int64 if wide else np.int32)[
            chunk.offset : chunk.offset + m + 1
        ]
        data = (
            np.frombuffer(data_buf, dtype=np.uint8)
            if data_buf is not None
            else np.zeros(1, np.uint8)
        )
        if data.shape[0] == 0:
            data = np.zeros(1, np.uint8)
        ok = mod.pack_short_strings(offsets, data, key, np.int64(start))
        if not ok:
            return None
        if chunk.null_count:
            nulls = np.asarray(chunk.is_null().to_numpy(zero_copy_only=False))
            key[start : start + m][nulls] = _NULL_PACKED
        start += m
    ids, sizes = kernels.group(key, np.iinfo(np.int64).max)
    distinct = key[kernels.first_rows(ids, sizes.shape[0])]  # the packed value of each class
    del key
    categories = _unpack_short_strings(distinct, array.type)
    if array.null_count:
        null_class = int(np.flatnonzero(distinct == _NULL_PACKED)[0])
        remap = np.arange(sizes.shape[0], dtype=np.int64)
        remap[null_class] = -1
        remap[null_class + 1 :] -= 1
        keep = np.ones(sizes.shape[0], dtype=bool)
        keep[null_class] = False
        categories = categories.filter(pa.array(keep))
        return _finish(name, remap[ids], sizes.shape[0] - 1, dtype, categories)
    return EncodedColumn(
        name,
        ids.astype(code_dtype(sizes.shape[0]), copy=False),
        max(int(sizes.shape[0]), 1),
        0,
        dtype,
        categories,
    )


def _encode_strings_parallel(name, array: pa.ChunkedArray, dtype: str) -> EncodedColumn:
    """Dictionary-encode slices of a long string column on threads (Arrow releases the GIL),
    then merge the slices' dictionaries (:func:`_merge_dictionaries`)."""
    workers = os.cpu_count() or 1
    n = len(array)
    bounds = np.linspace(0, n, workers + 1).astype(np.int64)
    slices = [array.slice(int(a), int(b - a)) for a, b in itertools.pairwise(bounds)]
    parts = map_threads(pc.dictionary_encode, slices, workers, name="riskcalc-encode")
    chunks = [c for part in parts for c in part.chunks]
    encoded = pa.chunked_array(chunks, type=parts[0].type)
    dictionaries = _distinct_dictionaries(encoded)
    if len(dictionaries) == 1:
        return _from_dictionary(name, encoded.chunk(0).dictionary, _chunk_indices(encoded), dtype)
    return _from_dictionary(name, *_merge_dictionaries(encoded, dictionaries), dtype)


def _canonical_dictionary(dictionary: pa.Array, indices: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """Merge repeated dictionary entries (Arrow allows them) and float spellings of one number.

    Cost: one encoding of the dictionary, which is small next to the column.
    """
    if pa.types.is_floating(dictionary.type):
        dictionary = _normalise_floats(dictionary)
    encoded = pc.dictionary_encode(dictionary)
    if len(encoded.dictionary) == len(dictionary) and not dictionary.null_count:
        return dictionary, indices
    lookup = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    codes = np.full(indices.shape[0], -1, dtype=np.int64)
    valid = indices >= 0
    codes[valid] = lookup[indices[valid]]
    return encoded.dictionary, codes


def _from_dictionary(name, dictionary: pa.Array, indices: np.ndarray, dtype: str) -> EncodedColumn:
    if dictionary.null_count:
        # A dictionary holding a null: route it to the missing code.
        lookup = np.arange(len(dictionary), dtype=np.int64)
        lookup[np.asarray(dictionary.is_null())] = -1
        indices = np.where(indices >= 0, lookup[np.maximum(indices, 0)], -1)
    return _finish(name, indices, len(dictionary), dtype, dictionary)


def _merge_dictionaries(array: pa.ChunkedArray, dictionaries: dict) -> tuple[pa.Array, np.ndarray]:
    """One dictionary for a column whose chunks carry their own (e.g. Parquet row groups).

    The distinct dictionaries are concatenated and encoded once; each chunk's indices are then
    mapped through the merged codes. Cost: the total dictionary length plus one pass.
    """
    keys = list(dictionaries)
    values = pa.concat_arrays([dictionaries[k] for k in keys])
    if pa.types.is_floating(values.type):
        values = _normalise_floats(values)
    merged = pc.dictionary_encode(values)
    global_code = merged.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    global_code = np.append(global_code, -1)  # so that an all-missing column indexes safely
    starts = np.concatenate([[0], np.cumsum([len(dictionaries[k]) for k in keys])])[:-1]
    start_of = dict(zip(keys, starts))
    offsets = np.repeat(
        np.array([start_of[_dictionary_key(c.dictionary)] for c in array.chunks], dtype=np.int64),
        [len(c) for c in array.chunks],
    )
    local = _chunk_indices(array)
    missing = local < 0
    local += offsets
    codes = global_code[np.where(missing, 0, local)]
    codes[missing] = -1
    return merged.dictionary, codes


def _chunk_indices(array: pa.ChunkedArray) -> np.ndarray:
    """The dictionary indices of every chunk, concatenated, with nulls as -1."""
    parts = [c.indices.fill_null(-1).to_numpy(zero_copy_only=False) for c in array.chunks]
    if not parts:
        return np.zeros(0, np.int64)
    return np.concatenate(parts).astype(np.int64, copy=False)


def _distinct_dictionaries(array: pa.ChunkedArray) -> dict:
    out: dict = {}
    for chunk in array.chunks:
        out.setdefault(_dictionary_key(chunk.dictionary), chunk.dictionary)
    return out
