"""A long table of any kind riskcalc reads (one row per pupil per census), as pandas with only
the columns a panel measure needs (:func:`long_frame`): the release ledger's input.

Its own module: it asks the backends (:mod:`riskcalc._core.backend`, the Spark encoder), which
import :mod:`riskcalc._core.panel`.
"""

from __future__ import annotations

import os

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._validation import check_column_names
from ..exceptions import InvalidParameterError

__all__ = ["long_frame"]


def long_frame(data, required, optional=(), *, func: str, name: str = "panel") -> pd.DataFrame:
    """The columns ``required`` (each checked: one line naming the column) and those of
    ``optional`` the table has, of a long table of any kind riskcalc reads, as a pandas
    DataFrame (a pandas frame is returned as it is, no copy).

    A path (a CSV, Parquet or Feather file, or a folder of Parquet parts) and a pyarrow, polars
    or DuckDB table (any table with the Arrow PyCapsule interface) are read through Arrow, only
    the columns needed; Arrow dictionaries become categoricals. A Spark DataFrame is encoded on
    the cluster (:func:`riskcalc._core.spark.collect_coded`): each text or date column's distinct
    values are numbered there, and only integer codes (and the distinct values once) reach the
    driver."""
    from .backend import backend_for
    from .spark import collect_coded, is_spark_frame

    if isinstance(data, pd.DataFrame):
        check_column_names(list(required), [str(c) for c in data.columns], name=name, func=func)
        return data
    if type(data).__name__ == "EncodedTable":
        raise InvalidParameterError(
            f"The {name!r} parameter of {func} must hold the values (a long table), not an "
            "EncodedTable."
        )
    columns = backend_for(data, func=func).columns
    check_column_names(list(required), list(columns), name=name, func=func)
    wanted = list(dict.fromkeys([*required, *(c for c in optional if c in columns)]))
    if is_spark_frame(data):
        return collect_coded(data, wanted)
    if isinstance(data, (str, os.PathLike)):
        from .io import read_table

        table = read_table(data, wanted, numeric=("academic_year",))
    elif isinstance(data, pa.Table):
        table = data.select(wanted)
    else:
        from .frames import arrow_table

        table = arrow_table(data, wanted, name=name, func=func)
    return _arrow_to_pandas(table)


def _arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as pandas one column at a time, each Arrow column released once
    converted; text columns dictionary-encoded first (a categorical: 4-byte codes and the
    distinct values once, not a string per row)."""
    out = {}
    for name in list(table.column_names):
        col = table.column(name)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            col = pc.dictionary_encode(col.combine_chunks())
        out[name] = col.to_pandas()
        table = table.drop_columns([name])
        del col
    return pd.DataFrame(out)
