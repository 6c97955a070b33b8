"""Type aliases of the public signatures, defined once.

The aliases are strings for the type checker and for readers (``help()``, the API pages);
importing this module imports nothing but :mod:`typing`. The table libraries they name are
imported only under ``TYPE_CHECKING`` (polars' pattern for optional dependencies): none of
polars, DuckDB or Spark has to be installed for riskcalc to run.

tests/test_layers.py counts type-only imports as edges and forbids cycles: this module imports
only ``_core.codes`` (for :class:`EncodedTable`, under ``TYPE_CHECKING``), so ``_core.codes``
and the modules it imports spell their few types out instead of importing them from here; the
scenario sources (``Scenarios``) are defined next to ``Scenario`` in ``release/scenarios.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from typing import TYPE_CHECKING, Literal, Protocol, TypeAlias

if TYPE_CHECKING:
    import duckdb
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    import polars as pl
    import pyarrow as pa
    import pyarrow.dataset as pads
    import pyspark.sql

    from ._core.codes import EncodedTable

__all__ = [
    "ArrayLike",
    "ArrowStreamExportable",
    "Fields",
    "MissingPolicy",
    "PathLikeStr",
    "RecordMissingPolicy",
    "Seed",
    "TableLike",
    "Thresholds",
    "Weights",
]


class ArrowStreamExportable(Protocol):
    """Any table with the Arrow PyCapsule stream interface (``__arrow_c_stream__``)."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...


#: A file path: ``str`` or :class:`os.PathLike` (``pathlib.Path``).
PathLikeStr: TypeAlias = "str | PathLike[str]"

#: What every measure accepts as its table (``docs/inputs.md``): a pandas or polars DataFrame,
#: a polars LazyFrame, a pyarrow Table, RecordBatchReader or Dataset, a DuckDB relation, a
#: Spark DataFrame, any table with ``__arrow_c_stream__``, an :class:`~riskcalc.EncodedTable`,
#: or the path of a CSV, Parquet, Feather or Excel file.
TableLike: TypeAlias = (
    "pd.DataFrame | pl.DataFrame | pl.LazyFrame | pa.Table | pa.RecordBatchReader"
    " | pads.Dataset | duckdb.DuckDBPyRelation | pyspark.sql.DataFrame"
    " | ArrowStreamExportable | EncodedTable | str | PathLike[str]"
)

#: Column names: one name, or a sequence of distinct names.
Fields: TypeAlias = "str | Sequence[str]"

#: Thresholds (k, or a count t): one int, or a sequence of ints.
Thresholds: TypeAlias = "int | Sequence[int]"

#: Values per record: a numpy array, a pandas Series, or any sequence of numbers.
ArrayLike: TypeAlias = "npt.ArrayLike | pd.Series"

#: Sampling weights: the name of a column of the table, or one value per record.
Weights: TypeAlias = "str | ArrayLike"

#: ``missing=`` of the class measures: a missing value is a value of its own, or an error.
MissingPolicy: TypeAlias = Literal["category", "raise"]

#: ``missing=`` of the per-record measures, which also take sdcMicro's wildcard (a missing
#: value matches anything).
RecordMissingPolicy: TypeAlias = Literal["category", "raise", "wildcard"]


#: A random seed: an int, a :class:`numpy.random.Generator`, or None (fresh entropy).
Seed: TypeAlias = "int | np.random.Generator | None"
