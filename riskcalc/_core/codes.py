"""Encoded columns and tables: the integer codes every measure counts.

:class:`EncodedColumn` (one column's codes and levels) and :class:`EncodedTable` (the codes of
several columns, with the partitions cached for reuse) are made by :func:`riskcalc.encode`
(:mod:`riskcalc._core.encoding`) and by the streaming encoder (:mod:`riskcalc._core.stream`),
which both import this module and neither of which it imports.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._compat import numeric_view
from .partition import Partition, build_partition

__all__ = ["EncodedColumn", "EncodedTable", "code_dtype"]


#: How many partitions an :class:`EncodedTable` keeps for reuse: at most this many, and no
#: more than fit in ``_PARTITION_CACHE_BYTES`` at 12 bytes a record (class id and class size),
#: but always the last one.
_PARTITION_CACHE_SIZE = 8


_PARTITION_CACHE_BYTES = 1 << 28


@dataclass(frozen=True, eq=False, repr=False)
class EncodedColumn:
    """One column as dense integer codes.

    Attributes
    ----------
    name : str
        The column name.
    codes : numpy.ndarray of int8, int16 or int32
        One code per record in ``[0, n_levels)``, in the narrowest of these types that holds
        ``n_levels`` (:func:`code_dtype`): a sex or a year group takes one byte a record, a
        postcode four. Missing values carry the code ``n_levels - 1`` when ``n_missing > 0``.
    n_levels : int
        Number of codes, the missing level included.
    n_missing : int
        Number of records whose value is missing.
    dtype : str
        The column's type before encoding.
    categories : object
        The distinct non-missing values, in code order (kept for labelling; never printed by
        default, since rare values identify people).
    """

    name: str
    codes: np.ndarray
    n_levels: int
    n_missing: int
    dtype: str
    categories: object = None

    def __post_init__(self):
        dtype = code_dtype(self.n_levels)
        if self.codes.dtype != dtype:
            object.__setattr__(self, "codes", self.codes.astype(dtype))

    @property
    def missing_code(self) -> int | None:
        """The code of missing values, or ``None`` when the column has none."""
        return self.n_levels - 1 if self.n_missing else None

    @property
    def n_distinct(self) -> int:
        """Number of distinct non-missing values (unused categorical levels included)."""
        return self.n_levels - (1 if self.n_missing else 0)

    @cached_property
    def value_counts(self) -> np.ndarray:
        """Records holding each code (``int64``, length ``n_levels``), counted once."""
        return np.bincount(self.codes, minlength=self.n_levels).astype(np.int64)

    def __repr__(self) -> str:
        return (
            f"EncodedColumn({self.name!r}, dtype={self.dtype}, n_levels={self.n_levels}, "
            f"n_missing={self.n_missing})"
        )


def code_dtype(n_levels: int) -> np.dtype:
    """The narrowest signed integer type holding codes ``0 .. n_levels - 1``: ``int8``,
    ``int16`` or ``int32``. Narrow codes are read faster and keep a national table small (ten
    fields of 8.5 million pupils: about 0.1 GB instead of 0.34 GB)."""
    for dtype in (np.int8, np.int16):
        if n_levels <= np.iinfo(dtype).max + 1:
            return np.dtype(dtype)
    return np.dtype(np.int32)


class EncodedTable:
    """A table whose columns have been encoded once, ready for any number of queries.

    Build it with :func:`encode`. Every measure accepts it in place of raw data, so an analyst
    running many queries on one extract pays for encoding once. Partitions (equivalence classes)
    of recently used column sets are cached too.

    Attributes
    ----------
    columns : tuple of str
        The encoded columns, in the order given.
    n_records : int
        Number of records.
    index : pandas.Index
        Labels of the records (the DataFrame's index, or a RangeIndex), used to align per-record
        outputs with the input.
    source : str
        Where the data came from (a file path, or the type of the in-memory object).

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMFF"), "year": [7, 7, 7, 8, 8, 8],
    ...                    "fsm": [True, True, False, False, True, False]})
    >>> enc = rc.encode(df)
    >>> enc.columns
    ('sex', 'year', 'fsm')
    >>> rc.k_anonymity(enc, ["sex", "year"]).k  # any measure accepts it
    1
    """

    def __init__(
        self,
        columns: dict[str, EncodedColumn],
        n_records: int,
        index: pd.Index | None = None,
        source: str = "",
        weights: dict[str, np.ndarray] | None = None,
    ) -> None:
        self._columns = dict(columns)
        self.n_records = int(n_records)
        self.index = index if index is not None else pd.RangeIndex(self.n_records)
        self.source = source
        self._weights = dict(weights or {})
        self._partitions: OrderedDict = OrderedDict()

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self._columns)

    @property
    def _cache_size(self) -> int:
        """Partitions kept for reuse (fewer for tables of millions of records)."""
        fit = _PARTITION_CACHE_BYTES // max(12 * self.n_records, 1)
        return int(min(max(fit, 1), _PARTITION_CACHE_SIZE))

    def __getitem__(self, name: str) -> EncodedColumn:
        return self._columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __len__(self) -> int:
        return self.n_records

    def __repr__(self) -> str:
        cols = ", ".join(f"{c.name}[{c.n_levels}]" for c in self._columns.values())
        src = f", source={self.source!r}" if self.source else ""
        return f"EncodedTable(n_records={self.n_records}, columns=({cols}){src})"

    @property
    def nbytes(self) -> int:
        """Memory held by the codes and cached partitions, in bytes."""
        total = sum(c.codes.nbytes for c in self._columns.values())
        total += sum(p.class_id.nbytes + p.class_sizes.nbytes for p in self._partitions.values())
        return total

    def weights(self, name: str) -> np.ndarray:
        """The sampling-weight column ``name`` kept by :func:`encode`."""
        return self._weights[name]

    @property
    def weight_columns(self) -> tuple[str, ...]:
        return tuple(self._weights)

    def partition(self, columns: str | Sequence[str], missing: str = "category") -> Partition:
        """The (cached) :class:`Partition` of the records on ``columns``.

        ``missing`` is ``"category"`` or ``"raise"``; columns must have been encoded. The last
        few partitions are kept, so measures asked about the same columns share one grouping.
        """
        columns = (columns,) if isinstance(columns, str) else tuple(columns)
        key = (columns, missing)
        part = self._partitions.get(key)
        if part is None:
            part = build_partition(self, columns, missing)
            self._partitions[key] = part
            while len(self._partitions) > self._cache_size:
                self._partitions.popitem(last=False)
        else:
            self._partitions.move_to_end(key)
        return part


def _column_values(table, name):
    if isinstance(table, pd.DataFrame):
        col = table[_frame_key(table, name)]
        return (
            col.to_numpy(dtype=np.float64, na_value=np.nan) if _is_numeric(col) else col.to_numpy()
        )
    col = table.column(name)
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
        return col.to_numpy(zero_copy_only=False).astype(np.float64)
    return col.to_numpy(zero_copy_only=False)


def _is_numeric(series: pd.Series) -> bool:
    dtype = series.dtype
    return pd.api.types.is_numeric_dtype(numeric_view(dtype)) and not pd.api.types.is_bool_dtype(
        dtype
    )


def _frame_key(frame: pd.DataFrame, name: str):
    """The DataFrame column label whose string form is ``name`` (labels may be non-strings)."""
    if name in frame.columns:
        return name
    for label in frame.columns:
        if str(label) == name:
            return label
    raise KeyError(name)  # pragma: no cover - names are checked before


def _unpack_short_strings(packed: np.ndarray, typ) -> pa.Array:
    """The strings whose bytes :func:`_encode_short_strings` packed (the missing sentinel
    unpacks to a placeholder that the caller drops), as an Arrow array of type ``typ``."""
    raw = np.ascontiguousarray(packed, dtype="<i8").view(np.uint8).reshape(-1, 8)
    # No packed string holds a NUL byte, so a string's length is its count of non-zero bytes.
    lengths = np.count_nonzero(raw, axis=1)
    offsets = np.zeros(raw.shape[0] + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data = raw[np.arange(8) < lengths[:, None]]
    wide = pa.types.is_large_string(typ) or pa.types.is_large_binary(typ)
    offsets = offsets if wide else offsets.astype(np.int32)
    return pa.Array.from_buffers(
        typ, raw.shape[0], [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def _normalise_floats(array):
    """NaN becomes null and -0.0 becomes 0.0, so equal numbers get one code (as in pandas)."""
    typ = array.type
    array = pc.if_else(pc.is_nan(array), pa.scalar(None, typ), array)
    return pc.add(array, pa.scalar(0.0, typ))  # IEEE: -0.0 + 0.0 == +0.0


def _dictionary_key(dictionary: pa.Array) -> tuple:
    """Identity of a dictionary by its buffers (chunks of one encoding share them)."""
    return (len(dictionary), dictionary.offset) + tuple(
        b.address if b is not None else 0 for b in dictionary.buffers()
    )
