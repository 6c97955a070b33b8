"""Reading user tables from disk (CSV, Parquet, Feather) into Arrow, and writing outputs atomically."""

from __future__ import annotations

import csv
import gzip
import io
import os
import tempfile
from pathlib import Path

import pyarrow as pa

from .._validation import missing_column_message
from ..exceptions import DataFileError, EmptyTableError, MissingColumnError

CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
FEATHER_SUFFIXES = (".feather", ".arrow", ".ipc")
_DELIMITERS = ",;\t|"


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in CSV_SUFFIXES + PARQUET_SUFFIXES + FEATHER_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def _open_text(path: Path):
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace", newline="")


def sniff_delimiter(path: Path) -> str:
    """Guess a CSV delimiter from the header line: the most frequent of ``, ; TAB |``."""
    with _open_text(path) as fh:
        header = fh.readline()
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def csv_header(path: Path, delimiter: str) -> list[str]:
    """Return the column names of a CSV file."""
    with _open_text(path) as fh:
        row = next(csv.reader(fh, delimiter=delimiter), None)
    if row is None:
        raise EmptyTableError(f"The file {str(path)!r} is empty: it has no header line.")
    return row


def table_columns(path: str | os.PathLike, *, sep: str | None = None) -> list[str]:
    """Column names of a data file, without reading its rows."""
    path = _existing_file(path)
    kind = _suffix(path)
    try:
        if kind in PARQUET_SUFFIXES:
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        if kind in FEATHER_SUFFIXES:
            import pyarrow.feather as feather

            return list(feather.read_table(path, memory_map=True).schema.names)
        return csv_header(path, sep or sniff_delimiter(path))
    except (EmptyTableError, DataFileError):
        raise
    except (OSError, pa.ArrowException, UnicodeError) as exc:
        raise DataFileError(f"Cannot read {str(path)!r}: {_first_line(exc)}") from None


def _existing_file(path) -> Path:
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"No such file: {str(path)!r}.")
    if path.is_dir():
        raise DataFileError(f"{str(path)!r} is a directory, not a data file.")
    if not os.access(path, os.R_OK):
        raise DataFileError(f"Cannot read {str(path)!r}: permission denied.")
    return path


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def read_table(
    path: str | os.PathLike,
    columns=None,
    *,
    sep: str | None = None,
    strings: bool = False,
) -> pa.Table:
    """Read a CSV, Parquet or Feather file into an Arrow table.

    Parameters
    ----------
    path : str or path-like
        The file. The format is chosen by suffix: ``.parquet``/``.pq``, ``.feather``/``.arrow``,
        and ``.csv``/``.tsv``/``.txt`` (optionally gzip-compressed) for delimited text.
    columns : sequence of str, optional
        Read only these columns. Unknown names raise :class:`MissingColumnError` with a
        suggestion.
    sep : str, optional
        The CSV delimiter; guessed from the header line when omitted.
    strings : bool, default False
        Read every CSV column as text instead of inferring types. Equality classes are the same
        either way except where two spellings denote one number (``"01"`` and ``"1"``).

    Notes
    -----
    In CSV files an empty field, ``NA``, ``NaN``, ``null`` and similar markers are read as
    missing values, in text columns too.
    """
    path = _existing_file(path)
    kind = _suffix(path)
    if columns is not None:
        available = table_columns(path, sep=sep)
        for col in columns:
            if col not in available:
                raise MissingColumnError(missing_column_message(col, available, repr(path.name)))
        columns = list(dict.fromkeys(columns))
    try:
        if kind in PARQUET_SUFFIXES:
            import pyarrow.parquet as pq

            table = pq.read_table(
                path, columns=columns, read_dictionary=_small_dictionary_columns(path, columns) or None
            )
        elif kind in FEATHER_SUFFIXES:
            import pyarrow.feather as feather

            table = feather.read_table(path, columns=columns)
        elif kind in CSV_SUFFIXES:
            table = _read_csv(path, columns, sep=sep, strings=strings)
        else:
            raise DataFileError(
                f"Cannot read {str(path)!r}: unknown file type {kind or '(no suffix)'!r}. "
                "Use .csv, .tsv, .parquet or .feather."
            )
    except (DataFileError, EmptyTableError, MissingColumnError):
        raise
    except (OSError, pa.ArrowException, UnicodeError, ValueError) as exc:
        raise DataFileError(f"Cannot read {str(path)!r}: {_first_line(exc)}") from None
    return table


def _small_dictionary_columns(path: Path, columns) -> list[str]:
    """Text columns of a Parquet file stored with small dictionaries.

    Parquet writers dictionary-encode text; reading such a column as an Arrow dictionary hands
    riskcalc its codes for free. When the dictionary is large (a postcode column, say) Arrow's
    per-batch dictionaries cost more than encoding afresh, so those columns are read as text.
    The size is judged from the first row group's dictionary page: under a quarter of a byte
    per value.
    """
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    if meta.num_row_groups == 0:
        return []
    schema = meta.schema.to_arrow_schema()
    group = meta.row_group(0)
    wanted = set(columns) if columns is not None else set(schema.names)
    out = []
    for j in range(group.num_columns):
        chunk = group.column(j)
        name = chunk.path_in_schema
        if name not in wanted or schema.get_field_index(name) < 0:
            continue
        typ = schema.field(name).type
        if not (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
            continue
        if not chunk.has_dictionary_page or chunk.num_values == 0:
            continue
        dict_bytes = chunk.data_page_offset - chunk.dictionary_page_offset
        if 0 < dict_bytes <= 0.25 * chunk.num_values:
            out.append(name)
    return out


def _read_csv(path: Path, columns, *, sep: str | None, strings: bool) -> pa.Table:
    import pyarrow.csv as pacsv

    delimiter = sep or sniff_delimiter(path)
    header = csv_header(path, delimiter)
    wanted = columns if columns is not None else header
    convert = pacsv.ConvertOptions(
        include_columns=list(wanted),
        strings_can_be_null=True,
        column_types={c: pa.string() for c in wanted} if strings else None,
    )
    return pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(delimiter=delimiter),
        convert_options=convert,
    )


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | os.PathLike, text: str, *, force: bool = False) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder.

    The file appears complete or not at all. An existing file is kept unless ``force`` is true.
    """
    return write_bytes_atomic(path, text.encode("utf-8"), force=force)


def write_bytes_atomic(path: str | os.PathLike, data: bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    if path.exists() and not force:
        raise DataFileError(f"{str(path)!r} exists already; pass force=True (--force) to replace it.")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise DataFileError(f"Cannot write {str(path)!r}: folder {str(folder)!r} does not exist.")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise DataFileError(f"Cannot write {str(path)!r}: {_first_line(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
