"""Streaming encoding: Arrow record batches straight into codes, column by column, batch by batch.

:func:`encode_batches` is the reading half of :func:`riskcalc._core.encoding.encode` for data
that arrive as a stream of ``pyarrow.RecordBatch`` (a Parquet file or dataset, an Arrow IPC
file, a CSV file read block by block, a polars or DuckDB result). Memory is bounded by the
codes plus one batch: no pandas frame and no Arrow table of all the batches is ever held.

Each column has a *builder* that keeps the levels seen so far and turns each batch into codes:

* integers, booleans, dates, times, timestamps, durations, floats (by their bits, NaN and
  ``-0.0`` normalised) and strings of at most 8 bytes (their bytes packed into one integer)
  become one ``int64`` key per value, numbered by a hash table that persists across batches
  (pandas' ``Int64Factorizer``: first appearance);
* dictionary columns (Parquet text, pandas categoricals) hand over their dictionary and
  indices; other values (longer text, decimals, binary) are dictionary-encoded batch by batch.
  The batch dictionaries are merged into one level set (:class:`_DictionaryBuilder`), lazily:
  a merge waits until the pending dictionaries hold as many entries as the merged one, so each
  value is hashed a bounded number of times whatever the number of batches.

The codes mean what :func:`riskcalc._core.encoding.encode_arrow` gives for the whole column:
the same levels, in the same order (first appearance; value order for small ranges of dates and
times; hash-partition order for short strings, as :func:`riskcalc._core.kernels.group` numbers
them), the same missing values (nulls, NaN, NaT), values of different types apart.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pandas._libs import hashtable as _pd_hashtable

from ..exceptions import UnsupportedTypeError
from . import kernels
from .kernels import small_key_space

__all__ = ["encode_batches", "column_builder"]


def _narrow(codes: np.ndarray, n_levels: int) -> np.ndarray:
    """Codes in ``[-1, n_levels)`` in the narrowest signed type (``-1``: missing)."""
    for dtype in (np.int8, np.int16, np.int32):
        if n_levels < np.iinfo(dtype).max:
            return codes.astype(dtype, copy=False)
    return codes.astype(np.int64, copy=False)


class _Chunks:
    """The codes of one column, batch by batch, in narrow types; finished into one array.

    A batch may take its slot (:meth:`reserve`) before its codes are known (a dictionary
    batch waiting for a merge); slots keep record order."""

    def __init__(self):
        self.parts: list[np.ndarray | None] = []
        self.n = 0
        self.n_missing = 0

    def reserve(self) -> int:
        self.parts.append(None)
        return len(self.parts) - 1

    def put(
        self, slot: int, codes: np.ndarray, n_levels: int, n_missing: int | None = None
    ) -> None:
        codes = _narrow(codes, n_levels)
        self.n_missing += int(np.count_nonzero(codes < 0)) if n_missing is None else n_missing
        self.n += codes.shape[0]
        self.parts[slot] = codes

    def add(self, codes: np.ndarray, n_levels: int, n_missing: int | None = None) -> None:
        self.put(self.reserve(), codes, n_levels, n_missing)

    def finish(
        self, name, n_distinct: int, dtype: str, categories, order: np.ndarray | None = None
    ):
        """The :class:`EncodedColumn`; ``order`` (optional) gives the final code of each
        first-appearance code. One gather per batch; batches are dropped as they are copied."""
        from .codes import EncodedColumn, code_dtype

        n_levels = max(n_distinct + (1 if self.n_missing else 0), 1)
        out_dtype = code_dtype(n_levels)
        lut = np.empty(n_distinct + 1, out_dtype)
        lut[:n_distinct] = np.arange(n_distinct) if order is None else order
        lut[n_distinct] = n_levels - 1  # index -1 (missing) reads the last entry
        out = np.empty(self.n, out_dtype)
        start = 0
        parts, self.parts = self.parts, []
        parts.reverse()
        while parts:
            part = parts.pop()
            assert part is not None, "a batch left unmapped"
            out[start : start + part.shape[0]] = lut[part]
            start += part.shape[0]
        return EncodedColumn(name, out, n_levels, self.n_missing, dtype, categories)


# --------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------


class _KeyTable:
    """``int64`` keys numbered by first appearance across calls (a persistent hash table).

    The compiled table (:func:`riskcalc._core._numba_kernels.table_factorize`: open
    addressing, at most half full, doubled when a call could fill it past that) when numba is
    in use, else pandas' ``Int64Factorizer`` (same numbering; it copies its level list on each
    call, so it is slow for columns of very many levels)."""

    def __init__(self):
        self.mod = kernels._load() if kernels.backend() != "numpy" else None
        self.count = 0
        if self.mod:
            self._alloc(1 << 10)
        else:
            self.table = _pd_hashtable.Int64Factorizer(1 << 10)

    def _alloc(self, size: int) -> None:
        self.slot_keys = np.empty(size, np.int64)
        self.slot_ids = np.full(size, -1, np.int32)
        self.shift = 64 - (size.bit_length() - 1)
        if not hasattr(self, "keys"):
            self.keys = np.empty(size // 2, np.int64)

    def factorize(self, keys: np.ndarray, nulls: np.ndarray | None) -> np.ndarray:
        if not self.mod:
            keys = (
                keys.view(np.int64)
                if keys.dtype == np.uint64
                else keys.astype(np.int64, copy=False)
            )
            if nulls is not None and nulls.any():  # pandas' factorizer takes no mask before 2.0
                codes = np.full(keys.shape[0], -1, np.int64)
                valid = ~nulls
                codes[valid] = self.table.factorize(keys[valid], na_sentinel=-1)
            else:
                codes = self.table.factorize(keys, na_sentinel=-1)
            self.count = self.table.get_count()
            return codes
        need = self.count + keys.shape[0]
        if 2 * need > self.slot_keys.shape[0]:
            size = self.slot_keys.shape[0]
            while 2 * need > size:
                size *= 2
            self._alloc(size)
            self.mod.table_rehash(self.keys, self.count, self.slot_keys, self.slot_ids, self.shift)
        if need > self.keys.shape[0]:
            grown = np.empty(max(need, 2 * self.keys.shape[0]), np.int64)
            grown[: self.count] = self.keys[: self.count]
            self.keys = grown
        out = np.empty(keys.shape[0], np.int32)
        empty = np.zeros(0, np.bool_)
        if keys.dtype == np.uint64:
            keys = keys.view(np.int64)
        self.count = int(
            self.mod.table_factorize(
                np.ascontiguousarray(keys),
                empty if nulls is None else nulls,
                self.slot_keys,
                self.slot_ids,
                self.shift,
                self.keys,
                self.count,
                out,
            )
        )
        return out

    def uniques(self) -> np.ndarray:
        if not self.mod:
            return self.table.uniques.to_array()
        return self.keys[: self.count].copy()


class _KeyBuilder:
    """Values that map one-to-one onto ``int64`` keys, numbered by a persistent hash table."""

    def __init__(self, name: str, typ: pa.DataType):
        self.name, self.type, self.dtype = name, typ, str(typ)
        self.table = _KeyTable()
        self.chunks = _Chunks()

    def keys(
        self, array: pa.Array
    ) -> tuple[np.ndarray, np.ndarray | None] | None:  # pragma: no cover
        raise NotImplementedError

    def add_many(self, arrays: list[pa.Array]):
        """Encode the arrays (consecutive batches of the column) as one; returns the builder
        to use from now on (a short-text builder may turn into a dictionary builder)."""
        return self.add(arrays[0] if len(arrays) == 1 else pa.concat_arrays(arrays))

    def add(self, array: pa.Array) -> _KeyBuilder:
        keys, nulls = self.keys(array)
        codes = self.table.factorize(keys, nulls)
        self.chunks.add(codes, self.table.count)
        return self

    def uniques(self) -> np.ndarray:
        return self.table.uniques()

    def categories(self, uniques: np.ndarray):
        return pa.array(uniques).cast(self.type)

    def order(self, uniques: np.ndarray, n: int) -> np.ndarray | None:
        return None

    def finish(self):
        uniques = self.uniques()
        order = self.order(uniques, self.chunks.n)
        cats = uniques
        if order is not None:
            cats = np.empty_like(uniques)
            cats[order] = uniques
        return self.chunks.finish(
            self.name, uniques.shape[0], self.dtype, self.categories(cats), order
        )


_NO_NULLS = np.zeros(0, np.bool_)


def _nulls(array: pa.Array) -> np.ndarray | None:
    if not array.null_count:
        return None
    return np.asarray(array.is_null().to_numpy(zero_copy_only=False))


def _ints(array: pa.Array, typ=None) -> np.ndarray:
    """The stored integers of a fixed-width array (integers; dates, times, timestamps and
    durations by their storage), read from Arrow's buffer without a copy; a null's slot holds
    any value (the caller masks it). Keys of any integer width hash alike: the hash table
    compares and hashes values, not bytes."""
    width = array.type.bit_width
    signed = not (pa.types.is_unsigned_integer(array.type))
    dtype = np.dtype(f"{'int' if signed else 'uint'}{width}")
    buf = array.buffers()[1]
    if buf is None or len(array) == 0:
        return np.zeros(0, dtype)
    return np.frombuffer(buf, dtype=dtype)[array.offset : array.offset + len(array)]


class _IntBuilder(_KeyBuilder):
    def keys(self, array):
        return _ints(array, self.type), _nulls(array)

    def categories(self, uniques):
        if self.type == pa.uint64():
            return pa.array(uniques.view(np.uint64))
        return pa.array(uniques).cast(self.type)


class _BoolBuilder(_KeyBuilder):
    def keys(self, array):
        return _ints(pc.cast(array, pa.int8())), _nulls(array)

    def categories(self, uniques):
        return pa.array(uniques.astype(bool))


class _TemporalBuilder(_KeyBuilder):
    """Dates, times, timestamps, durations: their integer representation. Codes in value order
    when the range is small (as :func:`riskcalc._core.encoding._encode_small_ints` numbers
    them), else first appearance."""

    def keys(self, array):
        return _ints(array), _nulls(array)

    def order(self, uniques, n):
        if uniques.shape[0] == 0:
            return None
        lo, hi = int(uniques.min()), int(uniques.max())
        n_present = n - self.chunks.n_missing
        if not (lo >= -(1 << 62) and hi < (1 << 62) and small_key_space(hi - lo + 1, n_present)):
            return None
        rank = np.empty(uniques.shape[0], np.int64)
        rank[np.argsort(uniques, kind="stable")] = np.arange(uniques.shape[0])
        return rank

    def categories(self, uniques):
        width = pa.int32() if self.type.bit_width == 32 else pa.int64()
        return pa.array(uniques).cast(width).cast(self.type)


class _FloatBuilder(_KeyBuilder):
    """Floats by their bits after NaN became null and ``-0.0`` became ``0.0``."""

    def keys(self, array):
        from .codes import _normalise_floats

        array = _normalise_floats(array)
        nulls = _nulls(array)
        values = (
            array.fill_null(0.0).to_numpy(zero_copy_only=False)
            if array.null_count
            else array.to_numpy(zero_copy_only=False)
        )
        bits = values.view(np.int32 if values.dtype.itemsize == 4 else np.int64)
        return bits.astype(np.int64, copy=False), nulls

    def categories(self, uniques):
        if self.type.bit_width == 32:
            return pa.array(uniques.astype(np.int32).view(np.float32), type=pa.float32()).cast(
                self.type
            )
        return pa.array(uniques.view(np.float64)).cast(self.type)


class _ShortStringBuilder(_KeyBuilder):
    """Text of at most 8 bytes without NUL bytes, packed into one ``int64`` a value. A batch
    holding a longer value turns the builder into a :class:`_DictionaryBuilder` holding the
    levels seen so far (returned by :meth:`add`)."""

    def __init__(self, name, typ, mod):
        super().__init__(name, typ)
        self.mod = mod

    def keys(self, array):
        """Packed keys and null mask, or ``None`` when a value does not pack (too long, NUL)."""
        key = np.empty(len(array), np.int64)
        if len(array) and not self._pack(array, key):
            return None
        return key, _nulls(array)

    def add(self, array):
        keyed = self.keys(array)
        if keyed is None:
            return self._to_dictionary().add(array)
        codes = self.table.factorize(*keyed)
        self.chunks.add(codes, self.table.count)
        return self

    def _pack(self, chunk, key) -> bool:
        _, off_buf, data_buf = chunk.buffers()[:3]
        wide = pa.types.is_large_string(chunk.type) or pa.types.is_large_binary(chunk.type)
        m = len(chunk)
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
        return bool(self.mod.pack_short_strings(offsets, data, key, np.int64(0)))

    def categories(self, uniques):
        from .codes import _unpack_short_strings

        return _unpack_short_strings(uniques, self.type)

    def order(self, uniques, n):
        """Hash-partition order, as :func:`riskcalc._core.kernels.group` numbers the packed
        keys of the whole column (when the whole-column encoder would have packed them)."""
        if kernels.compiled(n) is None or uniques.shape[0] == 0:
            return None
        pb = kernels._partition_bits(n, np.iinfo(np.int64).max)
        if pb == 0:
            return None
        part = (uniques.astype(np.uint64) * np.uint64(kernels._GOLDEN)) >> np.uint64(64 - pb)
        rank = np.empty(uniques.shape[0], np.int64)
        rank[np.argsort(part, kind="stable")] = np.arange(uniques.shape[0])
        return rank

    def _to_dictionary(self) -> _DictionaryBuilder:
        builder = _DictionaryBuilder(self.name, self.type)
        builder.merged = self.categories(self.uniques())
        builder.chunks = self.chunks
        return builder


class _KeyedDictionaryBuilder:
    """A dictionary column whose values map onto ``int64`` keys (short text, numbers, dates):
    each batch's dictionary goes through the value type's persistent hash table (a few
    thousand entries, microseconds), its indices through the resulting lookup. The levels are
    the dictionaries' entries by first appearance, unused entries included, as
    :func:`riskcalc._core.encoding.encode_arrow` numbers a column of several dictionaries.
    Text that does not pack turns it into a :class:`_DictionaryBuilder`."""

    def __init__(self, name, typ, values: _KeyBuilder):
        self.name, self.type, self.dtype = name, typ, str(typ)
        self.values = values
        self.chunks = _Chunks()
        self._last: tuple | None = None  # (key, dictionary, lookup) of the last dictionary

    def add(self, array):
        return self.add_many([array])

    def add_many(self, arrays: list[pa.Array]):
        """Several batches at once: each dictionary through the hash table (one call per
        distinct dictionary), then one gather for all the indices."""
        from .codes import _dictionary_key

        table = self.values.table
        lookups = []
        for array in arrays:
            dictionary = array.dictionary
            key = _dictionary_key(dictionary)
            if self._last is None or self._last[0] != key:
                keyed = self.values.keys(dictionary)
                if keyed is None:  # nothing of this group is coded yet: all go the other way
                    builder = self._to_dictionary()
                    for a in arrays:
                        builder = builder.add(a)
                    return builder
                lookup = np.append(table.factorize(*keyed), -1)
                self._last = (key, dictionary, lookup)
            lookups.append(self._last[2])
        mod = kernels.compiled(1 << 30) if self.values.table.mod else None
        if mod is not None:  # one compiled pass a batch, straight from Arrow's index buffers
            out = np.empty(
                sum(len(a) for a in arrays), _narrow(np.zeros(0, np.int64), table.count).dtype
            )
            start = missing = 0
            for array, lookup in zip(arrays, lookups, strict=True):
                indices = array.indices
                if len(indices):
                    nulls = _nulls(indices)
                    missing += int(
                        mod.map_indices(
                            _ints(indices),
                            _NO_NULLS if nulls is None else nulls,
                            lookup.astype(out.dtype, copy=False),
                            out,
                            np.int64(start),
                        )
                    )
                start += len(indices)
            self.chunks.add(out, table.count, missing)
            return self
        # Each lookup ends with -1, so a missing index (-1) plus the batch's offset reads the
        # previous lookup's last entry (the first batch's: the very last entry): -1 again.
        lengths = np.array([lk.shape[0] for lk in lookups], np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        lookup = _narrow(np.concatenate(lookups), table.count)
        indices = [a.indices for a in arrays]
        typ = indices[0].type
        indices = pa.concat_arrays([i if i.type == typ else i.cast(typ) for i in indices])
        local = indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        local += np.repeat(offsets, [len(a) for a in arrays])
        self.chunks.add(lookup[local], table.count)
        return self

    def _categories(self):
        return self.values.categories(self.values.uniques())

    def _to_dictionary(self) -> _DictionaryBuilder:
        builder = _DictionaryBuilder(self.name, self.type)
        builder.merged = self._categories()
        builder.chunks = self.chunks
        return builder

    def finish(self):
        uniques = self.values.uniques()
        return self.chunks.finish(
            self.name, uniques.shape[0], self.dtype, self.values.categories(uniques)
        )


class _DictionaryBuilder:
    """Any other comparable type, and dictionary columns: batch dictionaries merged into one.

    A batch gives ``(dictionary, indices)`` (its own for a dictionary column, else from
    ``dictionary_encode``). The indices wait, with their dictionary, until the pending
    dictionaries hold at least as many entries as the merged level set (and at least
    :data:`_MERGE_MIN`); the merge then encodes ``merged + pending`` once, which keeps the
    merged levels' codes and numbers new values by first appearance, and maps each waiting
    batch through it. Each value is hashed a bounded number of times, whatever the batches.
    """

    _MERGE_MIN = 1 << 16

    def __init__(self, name, typ):
        self.name, self.type, self.dtype = name, typ, str(typ)
        self.value_type = typ.value_type if pa.types.is_dictionary(typ) else typ
        self.merged: pa.Array | None = None
        self.pending: list[tuple[pa.Array, list[tuple[int, np.ndarray]]]] = []
        self.pending_of: dict = {}
        self.pending_entries = 0
        self.chunks = _Chunks()
        self._last: tuple | None = None  # (key, dictionary, lookup) of the last merged dictionary

    def add_many(self, arrays: list[pa.Array]):
        builder = self
        for array in arrays:
            builder = builder.add(array)
        return builder

    def add(self, array):
        if pa.types.is_dictionary(array.type):
            dictionary, indices = array.dictionary, array.indices
        else:
            try:
                encoded = pc.dictionary_encode(array)
            except pa.ArrowNotImplementedError:
                raise UnsupportedTypeError(
                    f"Column {self.name!r} has the type {self.type}, which cannot be compared for equality."
                ) from None
            dictionary, indices = encoded.dictionary, encoded.indices
        from .codes import _dictionary_key

        local = _narrow(indices.fill_null(-1).to_numpy(zero_copy_only=False), len(dictionary))
        # A dictionary is known by its buffers' addresses; the builder holds every dictionary
        # it keys (pending or last), so an address is never reused while it is a key here.
        key = _dictionary_key(dictionary)
        slot = self.chunks.reserve()
        if self._last is not None and self._last[0] == key:  # batches sharing a dictionary
            self._map(self._last[2], local, slot)
            return self
        at = self.pending_of.get(key)
        if at is None:
            self.pending_of[key] = len(self.pending)
            self.pending.append((dictionary, [(slot, local)]))
            self.pending_entries += len(dictionary)
        else:
            self.pending[at][1].append((slot, local))
        if self.pending_entries >= max(self._MERGE_MIN, self.n_merged):
            self._merge()
        return self

    def _map(self, lookup: np.ndarray, local: np.ndarray, slot: int) -> None:
        codes = lookup[local]  # lookup[-1] is -1: a missing index stays missing
        self.chunks.put(slot, codes, self.n_merged)

    @property
    def n_merged(self) -> int:
        return 0 if self.merged is None else len(self.merged)

    def _merge(self) -> None:
        if not self.pending:
            return
        from .codes import _normalise_floats

        parts = ([] if self.merged is None else [self.merged]) + [d for d, _ in self.pending]
        values = pa.concat_arrays(
            [p.cast(self.value_type) if p.type != self.value_type else p for p in parts]
        )
        if pa.types.is_floating(values.type):
            values = _normalise_floats(values)
        try:
            encoded = pc.dictionary_encode(values)
        except pa.ArrowNotImplementedError:
            raise UnsupportedTypeError(
                f"Column {self.name!r} has the type {self.type}, which cannot be compared for equality."
            ) from None
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        dictionary = encoded.dictionary
        if dictionary.null_count:  # a null entry in a dictionary: a missing value
            is_null = np.asarray(dictionary.is_null())
            remap = np.cumsum(~is_null) - 1
            remap[is_null] = -1
            codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
            dictionary = dictionary.filter(pa.array(~is_null))
        start = self.n_merged
        self.merged = dictionary
        for dictionary_, locals_ in self.pending:
            lookup = np.append(codes[start : start + len(dictionary_)], -1)
            start += len(dictionary_)
            for slot, local in locals_:
                self._map(lookup, local, slot)
        last, _ = self.pending[-1]
        from .codes import _dictionary_key

        self._last = (_dictionary_key(last), last, lookup)
        self.pending, self.pending_entries, self.pending_of = [], 0, {}

    def finish(self):
        self._merge()
        merged = self.merged if self.merged is not None else pa.array([], type=self.value_type)
        return self.chunks.finish(self.name, len(merged), self.dtype, merged)


def _is_string(typ) -> bool:
    return (
        pa.types.is_string(typ)
        or pa.types.is_large_string(typ)
        or pa.types.is_binary(typ)
        or pa.types.is_large_binary(typ)
    )


def column_builder(name: str, typ: pa.DataType):
    """The builder of a column of Arrow type ``typ`` (see the module's notes)."""
    if pa.types.is_nested(typ):
        raise UnsupportedTypeError(
            f"Column {name!r} has the nested type {typ}; only flat values (text, numbers, "
            "booleans, dates) can be quasi-identifiers."
        )
    if pa.types.is_dictionary(typ):
        if pa.types.is_nested(typ.value_type):
            raise UnsupportedTypeError(
                f"Column {name!r} has the nested type {typ}; only flat values (text, numbers, "
                "booleans, dates) can be quasi-identifiers."
            )
        values = _scalar_builder(name, typ.value_type)
        if isinstance(values, _KeyBuilder):
            return _KeyedDictionaryBuilder(name, typ, values)
        return _DictionaryBuilder(name, typ)
    return _scalar_builder(name, typ)


def _scalar_builder(name: str, typ: pa.DataType):
    if pa.types.is_integer(typ):
        return _IntBuilder(name, typ)
    if pa.types.is_boolean(typ):
        return _BoolBuilder(name, typ)
    if (
        pa.types.is_date(typ)
        or pa.types.is_timestamp(typ)
        or pa.types.is_time(typ)
        or pa.types.is_duration(typ)
    ):
        return _TemporalBuilder(name, typ)
    if pa.types.is_floating(typ) and typ.bit_width in (32, 64):
        return _FloatBuilder(name, typ)
    if _is_string(typ):
        mod = kernels._load() if kernels.backend() != "numpy" else None
        if mod:
            return _ShortStringBuilder(name, typ, mod)
    return _DictionaryBuilder(name, typ)


# --------------------------------------------------------------------------------------------
# The stream
# --------------------------------------------------------------------------------------------

#: Every this many groups, memory freed by the C allocator is handed back (:func:`_release_memory`).
_TRIM_EVERY = 16


def _release_memory() -> None:
    """Hand freed memory back to the system: glibc keeps the pages of freed temporaries (a
    batch's keys, on several threads' heaps, between the long-lived codes) resident, some 300 MB
    over the codes at 10^7 rows x 10 fields; ``malloc_trim`` returns them (a few milliseconds).
    Elsewhere (no glibc) nothing happens."""
    global _TRIM
    if _TRIM is None:
        try:
            import ctypes

            _TRIM = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)
    pa.default_memory_pool().release_unused()


_TRIM: Callable[[int], int] | Literal[False] | None = None  # libc's malloc_trim, once looked up

#: Batches are encoded in groups of about this many rows (consecutive small batches together).
_GROUP_ROWS = 1 << 17
#: Groups of at least this many rows have their columns encoded on threads.
_PARALLEL_ROWS = 1 << 15


def _chunks_of(group, name: str) -> list[pa.Array]:
    """The arrays of column ``name`` in a group of record batches (or tables: their chunks)."""
    out: list[pa.Array] = []
    for batch in group:
        column = batch.column(name)
        out.extend(column.chunks if isinstance(column, pa.ChunkedArray) else [column])
    return [a for a in out if len(a)]


def encode_batches(
    batches,
    schema: pa.Schema,
    names,
    *,
    weights: str | None = None,
    source: str = "",
    threads: bool = True,
):
    """Encode a stream of Arrow record batches, column by column, batch by batch.

    Parameters
    ----------
    batches : iterable of pyarrow.RecordBatch
        The data, in record order. Each batch holds at least the columns ``names`` (and
        ``weights``), with the types of ``schema``; other columns are ignored.
    schema : pyarrow.Schema
        The batches' schema (the column types decide how each column is encoded).
    names : sequence of str
        The columns to encode, in the order the :class:`EncodedTable` lists them.
    weights : str, optional
        A column of sampling weights kept alongside the codes (checked as :func:`encode` does).
    source : str
        Where the data came from, for messages and the table's ``source``.
    threads : bool, default True
        Encode the columns of a batch on threads (Arrow's kernels, pandas' hash tables and the
        compiled packing release the GIL).

    Returns
    -------
    EncodedTable
        Codes equal to :func:`encode` on the whole table: the same levels in the same order,
        the same missing values. Memory: the codes (in the narrowest type), the merged levels
        and one batch.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from riskcalc._core.encoding import encode_batches
    >>> t = pa.table({"sex": ["F", "M", "F", None], "year": [7, 7, 8, 8]})
    >>> enc = encode_batches(t.to_batches(max_chunksize=2), t.schema, ["sex", "year"])
    >>> enc["sex"].n_levels, enc["sex"].n_missing, enc.n_records
    (3, 1, 4)
    """
    from .._validation import check_weights
    from ..exceptions import EmptyTableError
    from .codes import EncodedTable, _column_values

    names = list(names)
    builders = {n: column_builder(n, schema.field(n).type) for n in names}
    kept: list = []
    n_records = 0
    workers = min(len(names), os.cpu_count() or 1) if threads else 1
    pool = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None

    def one(item):
        name, arrays = item
        return name, builders[name].add_many(arrays)

    def flush(group, rows):
        items = [(n, _chunks_of(group, n)) for n in names]
        # threads pay for themselves on big groups only (a thread hand-off costs ~50 us)
        parallel = pool is not None and rows >= _PARALLEL_ROWS
        for name, builder in pool.map(one, items) if parallel else map(one, items):
            builders[name] = builder
        if weights is not None:
            kept.extend(_chunks_of(group, weights))

    try:
        # Small batches (a Parquet part per LA and census) are encoded a group at a time: the
        # cost per call, not per value, dominates below some 10^4 rows.
        group, rows, n_groups = [], 0, 0
        for batch in batches:
            if batch.num_rows == 0:
                continue
            n_records += batch.num_rows
            group.append(batch)
            rows += batch.num_rows
            if rows >= _GROUP_ROWS:
                flush(group, rows)
                group, rows = [], 0
                n_groups += 1
                if n_groups % _TRIM_EVERY == 0:
                    _release_memory()
            del batch
        if group:
            flush(group, rows)
        del group
        if n_records == 0:
            where = f" {source}" if source else ""
            raise EmptyTableError(f"The table{where} has no records; nothing to measure.")
        if pool is not None:
            columns = dict(
                zip(names, pool.map(lambda n: builders.pop(n).finish(), names), strict=True)
            )
        else:
            columns = {n: builders.pop(n).finish() for n in names}
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
        _release_memory()
    weight_values = {}
    if weights is not None:
        table = pa.table({weights: pa.chunked_array(kept, type=schema.field(weights).type)})
        del kept
        weight_values[weights] = check_weights(
            _column_values(table, weights), n_records, column=weights
        )
    return EncodedTable(columns, n_records, None, source, weight_values)
