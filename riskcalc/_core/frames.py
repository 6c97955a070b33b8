"""The kinds of table a measure accepts, recognised in one place.

riskcalc's engine works on Arrow (and on pandas, its first input). Every other dataframe
library now hands its tables to others through the **Arrow PyCapsule interface**
(``__arrow_c_stream__``): polars, DuckDB, pyarrow, pandas, cuDF, Ibis, nanoarrow... export a
stream of record batches without a copy. So this module reads *eager* tables (a polars
DataFrame, a pyarrow Table or RecordBatchReader, any object with ``__arrow_c_stream__``) as
Arrow record batches of only the columns asked for, and hands *lazy* ones (a polars LazyFrame,
a DuckDB relation, a ``pyarrow.dataset.Dataset``) to :mod:`riskcalc._core.lazy`, which asks
their own engine for the grouped counts.

Why not narwhals: narwhals is the well-kept layer for code that must *compute* in the user's
library (it translates expressions to pandas, polars, DuckDB, PySpark...). riskcalc computes
on its own codes, so all it needs from a foreign table is its column names and its values as
Arrow, which the PyCapsule interface gives with no dependency and no copy. The pushed-down
group-bys are three short queries per lazy engine (:mod:`riskcalc._core.lazy`), written out
so that their value semantics (NaN as missing, nulls grouped together) are checked against
the in-memory encoder, not left to a translation layer. Adding narwhals would add a required
dependency for no figure it could compute and we could not.

Nothing here imports an optional library: an object is a polars frame only if polars has
been imported (``sys.modules``), as :func:`riskcalc._core.spark.is_spark_frame` does.

This module imports no encoder: the batches it streams are encoded by
:func:`riskcalc._core.encoding.encode_stream`, through the streaming encoder
(:func:`riskcalc._core.stream.encode_batches`, the codes plus one batch).
"""

from __future__ import annotations

import os
import sys
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ..exceptions import DataFileError, InvalidParameterError

__all__ = [
    "ACCEPTED",
    "VALUE_TABLES",
    "LAZY_KINDS",
    "Source",
    "is_narwhals",
    "unwrap",
    "kind_of",
    "is_native",
    "is_lazy",
    "is_readable",
    "needs_cast",
    "source",
    "column_names",
    "label",
    "arrow_table",
    "refuse",
    "quote_ident",
]

#: What every ``data`` parameter accepts, as messages list it.
ACCEPTED = (
    "a pandas or polars DataFrame, a polars LazyFrame, a pyarrow Table, RecordBatchReader or "
    "Dataset, a DuckDB relation, any table with the Arrow PyCapsule interface "
    "(__arrow_c_stream__), a Spark DataFrame, an EncodedTable, or a path to a CSV, Parquet, "
    "Feather or Excel file"
)

#: What a table of values (not codes) may be, e.g. a population compared with an extract.
VALUE_TABLES = (
    "a pandas or polars DataFrame, a polars LazyFrame, a pyarrow Table, RecordBatchReader or "
    "Dataset, a DuckDB relation, any table with the Arrow PyCapsule interface "
    "(__arrow_c_stream__), or a path to a CSV, Parquet, Feather or Excel file"
)

#: Rows per batch when riskcalc asks an engine for a stream.
BATCH_ROWS = 1 << 17

#: Streams read once already (a RecordBatchReader is empty afterwards: reading it again would
#: measure an empty table, or a part of one).
_READ: weakref.WeakSet = weakref.WeakSet()


def _module_class(module: str, name: str):
    mod = sys.modules.get(module)
    return getattr(mod, name, None) if mod is not None else None


def _isinstance(obj, module: str, name: str) -> bool:
    cls = _module_class(module, name)
    return cls is not None and isinstance(obj, cls)


def is_narwhals(obj) -> bool:
    """A narwhals DataFrame or LazyFrame (never imports narwhals)."""
    nw = sys.modules.get("narwhals")
    return nw is not None and isinstance(obj, (nw.DataFrame, nw.LazyFrame))


def unwrap(obj):
    """The native frame inside a narwhals DataFrame or LazyFrame (dataframe-agnostic code hands
    those on); anything else as it is."""
    return sys.modules["narwhals"].to_native(obj) if is_narwhals(obj) else obj


def kind_of(obj) -> str | None:
    """The kind of ``obj`` among those this module reads, or ``None``.

    ``"polars"``, ``"polars-lazy"``, ``"arrow-table"``, ``"arrow-reader"``,
    ``"arrow-dataset"``, ``"duckdb"``, ``"arrow-stream"`` (any other object with
    ``__arrow_c_stream__``). pandas frames, paths, encoded tables and Spark frames are not
    this module's (``None``): the existing readers keep them.
    """
    if isinstance(obj, (str, os.PathLike, bytes)):
        return None
    obj = unwrap(obj)
    if _isinstance(obj, "pandas", "DataFrame") or _isinstance(obj, "pyspark.sql", "DataFrame"):
        return None
    if type(obj).__name__ in ("EncodedTable", "SparkTable"):
        return None
    if _isinstance(obj, "polars", "DataFrame"):
        return "polars"
    if _isinstance(obj, "polars", "LazyFrame"):
        return "polars-lazy"
    if isinstance(obj, pa.Table):
        return "arrow-table"
    if isinstance(obj, pa.RecordBatch):
        return "arrow-table"
    if isinstance(obj, pa.RecordBatchReader):
        return "arrow-reader"
    if _isinstance(obj, "pyarrow.dataset", "Dataset"):
        return "arrow-dataset"
    if _isinstance(obj, "duckdb", "DuckDBPyRelation"):
        return "duckdb"
    if hasattr(type(obj), "__arrow_c_stream__"):
        return "arrow-stream"
    return None


def is_native(obj) -> bool:
    """Whether ``obj`` is a table this module reads (see :func:`kind_of`); a pyarrow Table only
    when its types need a cast first (:func:`needs_cast`): the encoder reads it as it is."""
    if is_narwhals(obj):  # the backend dispatches on the native frame inside
        return True
    if isinstance(obj, pa.Table):
        return needs_cast(obj.schema)
    return kind_of(obj) is not None


def is_readable(obj) -> bool:
    """Whether some reader of riskcalc takes ``obj`` as a table: a pandas DataFrame, a pyarrow
    Table, a path, an EncodedTable, a Spark DataFrame or a kind of :func:`kind_of` (or a
    narwhals frame holding one)."""
    obj = unwrap(obj)
    if isinstance(obj, (str, os.PathLike, pa.Table)) or _isinstance(obj, "pandas", "DataFrame"):
        return True
    if _isinstance(obj, "pyspark.sql", "DataFrame") or type(obj).__name__ in (
        "EncodedTable",
        "SparkTable",
    ):
        return True
    return kind_of(obj) is not None


#: Kinds whose engine groups and counts for riskcalc (pushed down by :mod:`riskcalc._core.lazy`).
#: A pyarrow Dataset is not one of them: its columns are streamed into the encoder, which is
#: faster than Acero's hash aggregation (2.5x to 4x for one histogram at 100,000 rows; a
#: lattice reads the files once, not once per subset; benchmarks/bench_inputs.py) for the same
#: memory.
LAZY_KINDS = ("polars-lazy", "duckdb")


def is_lazy(obj) -> bool:
    """A polars LazyFrame or a DuckDB relation: counts are pushed down."""
    return kind_of(obj) in LAZY_KINDS


_LABELS = {
    "polars": "the polars DataFrame",
    "polars-lazy": "the polars LazyFrame",
    "arrow-table": "the pyarrow Table",
    "arrow-reader": "the pyarrow RecordBatchReader",
    "arrow-dataset": "the pyarrow Dataset",
    "duckdb": "the DuckDB relation",
}


def label(obj) -> str:
    """How messages name the table (never a value from it)."""
    obj = unwrap(obj)
    kind = kind_of(obj)
    if kind == "arrow-stream":
        return f"the {type(obj).__name__} table"
    return _LABELS.get(kind or "", "the table")


def quote_ident(name: str) -> str:
    """A column name quoted for SQL (DuckDB): double quotes, inner quotes doubled."""
    return '"' + str(name).replace('"', '""') + '"'


# --------------------------------------------------------------------------------------------
# Sources: one resolved input (a stream is opened once)
# --------------------------------------------------------------------------------------------


@dataclass
class Source:
    """A foreign table resolved once per call: its kind, label, schema and a way to stream it.

    A one-shot stream (RecordBatchReader, a PyCapsule stream) is opened here, once; its
    schema comes from the opened stream and :meth:`batches` may be called once.
    """

    obj: Any
    kind: str
    label: str
    schema: pa.Schema
    _reader: pa.RecordBatchReader | None = None

    @property
    def names(self) -> list[str]:
        return list(self.schema.names)

    def batches(self, columns) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        """``(schema, batches)`` of only ``columns`` (in that order), streamed."""
        columns = list(dict.fromkeys(columns))
        schema = pa.schema([self.schema.field(c) for c in columns])
        target = _signed_schema(schema)
        if target.equals(schema):
            return schema, _batches(self, columns, schema)
        return target, (batch.cast(target) for batch in _batches(self, columns, schema))


_VIEWS = {"string_view": pa.large_string(), "binary_view": pa.large_binary()}


def _plain(typ: pa.DataType) -> pa.DataType:
    """A view type as its plain large type (the view types exist from pyarrow 16; by their names,
    so older pyarrow, which has none, needs no test)."""
    return _VIEWS.get(str(typ), typ)


def _signed_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` in the types the encoder reads as it reads pandas' and Parquet's:

    * unsigned dictionary indices made signed (``int64``): polars gives its categoricals and
      enums as ``dictionary<uint32>``/``<uint8>``, which the encoder's dictionary path does not
      take (the cast copies the indices, not the values);
    * ``string_view``/``binary_view`` (polars' own layout, through the PyCapsule stream) as
      ``large_string``/``large_binary``, which the encoder's and the profile's text paths know
      (a copy of those columns only).

    Both belong in the encoder; until it takes them, this keeps every kind's figures equal.
    """
    fields = []
    for f in schema:
        typ = f.type
        if pa.types.is_dictionary(typ):
            index = pa.int64() if pa.types.is_unsigned_integer(typ.index_type) else typ.index_type
            typ = pa.dictionary(index, _plain(typ.value_type), typ.ordered)
        else:
            typ = _plain(typ)
        fields.append(f.with_type(typ) if typ != f.type else f)
    return pa.schema(fields, metadata=schema.metadata)


def needs_cast(schema: pa.Schema) -> bool:
    """Whether a table of ``schema`` must be cast before the encoder reads it
    (:func:`_signed_schema`)."""
    return not _signed_schema(schema).equals(schema)


def source(obj, *, name: str = "data", func: str | None = None) -> Source:
    """Resolve ``obj`` (a kind of :func:`kind_of`) into a :class:`Source`; anything else is
    refused with one line naming the parameter (:func:`refuse`)."""
    obj = unwrap(obj)
    kind = kind_of(obj)
    if kind is None:
        raise refuse(obj, name=name, func=func)
    reader = None
    if kind == "polars" or kind == "polars-lazy":
        schema = _polars_schema(obj)
    elif kind == "arrow-table" or kind == "arrow-dataset":
        schema = obj.schema
    elif kind == "duckdb":
        schema = _duckdb_schema(obj)
    else:  # a one-shot stream: opened once
        if kind == "arrow-reader" or isinstance(obj, pa.RecordBatchReader):
            if obj in _READ:
                raise InvalidParameterError(
                    f"The {name!r} parameter{_where(func)} is a RecordBatchReader that riskcalc has "
                    "read already (a stream is read once). Pass a pyarrow Table or Dataset, or open "
                    "a new reader, to measure it again."
                )
            reader = obj
        else:
            try:
                reader = pa.RecordBatchReader.from_stream(obj)
            except (TypeError, ValueError, pa.ArrowException) as exc:
                raise InvalidParameterError(
                    f"The {name!r} parameter{_where(func)} ({type(obj).__name__}) offers an Arrow "
                    f"stream that cannot be read: {_first_line(exc)}"
                ) from None
        schema = reader.schema
    _check_names(schema, label(obj))
    return Source(obj, kind, label(obj), schema, reader)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]


def _where(func: str | None) -> str:
    return f" of {func}" if func else ""


def _check_names(schema: pa.Schema, where: str) -> None:
    names = list(schema.names)
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise InvalidParameterError(
            f"{where[0].upper() + where[1:]} has duplicate column names: {', '.join(map(repr, dupes))}."
        )


def _polars_schema(frame) -> pa.Schema:
    """The Arrow schema of a polars frame without computing it (a LazyFrame resolves its plan's
    schema; no data are read)."""
    schema = frame.collect_schema() if hasattr(frame, "collect_schema") else frame.schema
    empty = sys.modules["polars"].DataFrame(schema=schema)
    return empty.to_arrow().schema


def _duckdb_schema(rel) -> pa.Schema:
    """The Arrow schema of a DuckDB relation (of zero rows: nothing is computed)."""
    return rel.limit(0).to_arrow_table().schema


def column_names(obj) -> list[str]:
    """The column names of a table of a kind :func:`kind_of` knows (a stream is not opened
    when its schema can be read without it)."""
    if isinstance(obj, Source):
        return obj.names
    obj = unwrap(obj)
    kind = kind_of(obj)
    if kind in ("polars", "polars-lazy"):
        schema = obj.collect_schema() if hasattr(obj, "collect_schema") else obj.schema
        return [str(n) for n in schema]
    if kind == "duckdb":
        return list(obj.columns)
    if kind in ("arrow-table", "arrow-reader", "arrow-dataset"):
        return list(obj.schema.names)
    if kind == "arrow-stream" and hasattr(type(obj), "__arrow_c_schema__"):
        return list(pa.schema(obj).names)
    return source(obj).names


def refuse(
    obj, *, name: str = "data", func: str | None = None, accepted: str = ACCEPTED
) -> InvalidParameterError:
    """The one line refusing a ``data`` argument of a kind no reader knows."""
    what = type(obj).__name__
    module = type(obj).__module__.split(".")[0]
    shown = what if module in ("builtins", "") else f"{module}.{what}"
    return InvalidParameterError(
        f"The {name!r} parameter{_where(func)} must be a table: {accepted}. Got {shown} instead."
    )


# --------------------------------------------------------------------------------------------
# Streaming the asked-for columns as Arrow record batches
# --------------------------------------------------------------------------------------------


def _batches(src: Source, columns: list[str], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    kind, obj = src.kind, src.obj
    if kind == "polars":
        yield from obj.select(columns).to_arrow().to_batches()
    elif kind == "polars-lazy":
        query = obj.select(columns)
        if not hasattr(
            query, "collect_batches"
        ):  # an older polars has no streaming collect: only the columns, at once
            yield from query.collect().to_arrow().to_batches()
            return
        for frame in query.collect_batches(chunk_size=BATCH_ROWS):
            yield from frame.to_arrow().to_batches()
    elif kind == "arrow-table":
        table = obj if isinstance(obj, pa.Table) else pa.Table.from_batches([obj])
        yield from table.select(columns).to_batches()
    elif kind == "arrow-dataset":
        yield from obj.to_batches(columns=columns, batch_size=BATCH_ROWS)
    elif kind == "duckdb":
        query = obj.select(*[_duckdb_column(c) for c in columns])
        reader = query.to_arrow_reader(BATCH_ROWS)
        for batch in reader:
            yield batch
    else:
        reader = src._reader
        if reader is None or reader in _READ:
            raise InvalidParameterError(f"{src.label} was read already (a stream is read once).")
        _READ.add(reader)
        try:
            for batch in reader:
                yield batch.select(columns)
        except pa.ArrowException as exc:
            raise DataFileError(f"Reading {src.label} failed: {_first_line(exc)}") from None


def _duckdb_column(name: str):
    import duckdb

    return duckdb.SQLExpression(quote_ident(name))


def arrow_table(obj, columns, *, name: str = "data", func: str | None = None) -> pa.Table:
    """``columns`` of a foreign table as one Arrow table (streamed, then gathered), the names
    checked with the did-you-mean message naming the parameter ``name``: for a table whose
    values (not codes) are needed, such as a population compared with an extract."""
    from .._validation import check_column_names

    src = obj if isinstance(obj, Source) else source(obj, name=name, func=func)
    names = check_column_names(columns, src.names, name=name, func=func, table=src.label)
    schema, batches = src.batches(list(names))
    return pa.Table.from_batches(list(batches), schema=schema)
