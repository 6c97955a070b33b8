"""Reading user tables from disk (CSV, Parquet, Feather) into Arrow, and writing outputs atomically."""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
from pathlib import Path

import pyarrow as pa

from .._validation import check_sep, missing_column_message
from ..exceptions import DataFileError, EmptyTableError, MissingColumnError

CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
FEATHER_SUFFIXES = (".feather", ".arrow", ".ipc")
_DELIMITERS = ",;\t|"
_EXCEL = (".xlsx", ".xlsm", ".xls", ".ods")
#: Workbooks read with openpyxl (the ``excel`` extra); .xls and .ods are refused with a hint.
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
KNOWN_SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES + FEATHER_SUFFIXES + EXCEL_SUFFIXES
#: Bytes read when a header line must be decoded (a header longer than this is an error).
_HEADER_BYTES = 1 << 20
#: A workbook whose parts would inflate to more than this many bytes in all is refused before
#: a sheet is opened (a decompression bomb: a few MB on disk, gigabytes of XML).
XLSX_MAX_INFLATED = 1 << 30
#: The most a workbook part over :data:`_XLSX_RATIO_FLOOR` bytes may inflate (uncompressed over
#: compressed size); real sheets compress 5-30 fold, repeated filler hundreds or thousands fold.
XLSX_MAX_RATIO = 100
_XLSX_RATIO_FLOOR = 1 << 20


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in KNOWN_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def stem(path: str | os.PathLike) -> str:
    """The file name without its data suffix (``x.backup.csv`` -> ``x.backup``, ``t.csv.gz`` -> ``t``)."""
    path = Path(path)
    kind = _suffix(path)
    name = path.name
    return name[: len(name) - len(kind)] if kind and name.lower().endswith(kind) else path.stem


def file_kind(path: Path) -> str:
    """``"csv"``, ``"parquet"`` or ``"feather"`` by suffix; any other suffix is refused.

    One rule for the command line and the API: the type is never guessed from the content, so
    a spreadsheet or a JSON file is not read as delimited text.
    """
    if path.is_dir():
        return "parquet-dataset"
    kind = _suffix(path)
    if kind in CSV_SUFFIXES:
        return "csv"
    if kind in EXCEL_SUFFIXES:
        return "excel"
    if kind in PARQUET_SUFFIXES:
        return "parquet"
    if kind in FEATHER_SUFFIXES:
        return "feather"
    shown = repr(kind) if kind else "(no suffix)"
    hint = (
        " Save the sheet as .xlsx or as CSV UTF-8 (Excel: File > Save As)."
        if kind in _EXCEL
        else ""
    )
    raise DataFileError(
        f"Cannot read {str(path)!r}: unknown file type {shown}. Use .csv, .tsv, .txt, .parquet, "
        f".feather, .xlsx or a folder of Parquet files.{hint}"
    )


def _parquet_parts(path: Path) -> list[Path]:
    """The Parquet files of a dataset folder (hive partitions included), in name order."""
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and _suffix(p) in PARQUET_SUFFIXES
        and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
    )


def parquet_schema(path):
    """The schema of a Parquet file, read from its footer; a file whose footer cannot be read
    (corrupt, truncated, not Parquet) is one :class:`DataFileError` naming it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(str(path))
    except (OSError, ValueError, pa.ArrowException) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise DataFileError(
            f"{str(path)!r} is not a readable Parquet file (its footer cannot be read: {reason}); "
            "a corrupt or truncated part?"
        ) from None


def check_parquet_parts(parts, root=None) -> None:
    """Every part of a Parquet dataset readable and with one schema: the same columns, of the
    same types (pyarrow would otherwise union them: a missing column becomes a category of
    its own, integers become text). The first part that differs is named (relative to the
    dataset folder ``root``), with how."""
    parts = list(parts)

    def name(part) -> str:
        if root is not None:
            try:
                return str(Path(part).relative_to(root))
            except ValueError:
                pass
        return str(part)

    first = None
    for part in parts:
        schema = parquet_schema(part).remove_metadata()
        if first is None:
            first = (part, schema)
            continue
        if not schema.equals(first[1]):
            base = {f.name: f.type for f in first[1]}
            here = {f.name: f.type for f in schema}
            missing = [n for n in base if n not in here]
            extra = [n for n in here if n not in base]
            retyped = [n for n in base if n in here and base[n] != here[n]]
            how = (
                "; ".join(
                    x
                    for x in (
                        f"no column {', '.join(map(repr, missing[:3]))}" if missing else "",
                        f"other column(s) {', '.join(map(repr, extra[:3]))}" if extra else "",
                        "column(s) of another type: "
                        + ", ".join(f"{n!r} is {here[n]}, not {base[n]}" for n in retyped[:3])
                        if retyped
                        else "",
                    )
                    if x
                )
                or "the columns in another order"
            )
            where = "" if root is None else f" {Path(root).name!r}"
            raise DataFileError(
                f"The parts of the Parquet dataset{where} differ: {name(part)!r} against "
                f"{name(first[0])!r}: {how}. Write every part with one schema."
            )


#: Datasets whose parts were found readable and of one schema, by (part, mtime, size) of every
#: part: a part rewritten since is checked again.
_CHECKED_DATASETS: set = set()


def _dataset(path: Path):
    import pyarrow.dataset as ds

    parts = _parquet_parts(path)
    if not parts:
        raise DataFileError(
            f"{str(path)!r} is a folder with no Parquet files: give a data file, or a "
            "folder of Parquet parts (one dataset)."
        )
    stamp = tuple((str(p), st.st_mtime_ns, st.st_size) for p in parts for st in [p.stat()])
    if (
        stamp not in _CHECKED_DATASETS
    ):  # a dataset is opened 2-3 times by one encode: footers read once
        check_parquet_parts(parts, root=path)
        if len(_CHECKED_DATASETS) >= 8:
            _CHECKED_DATASETS.clear()
        _CHECKED_DATASETS.add(stamp)
    return ds.dataset(
        [str(p) for p in parts],
        format="parquet",
        partitioning=ds.HivePartitioning.discover(),
        partition_base_dir=str(path),
    )


def _need_openpyxl(path: Path) -> None:
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        raise DataFileError(
            f"Reading {path.name!r} needs the optional Excel reader: pip install 'riskcalc[excel]' "
            "(or save the sheet as CSV UTF-8)."
        ) from None


def _bad_workbook(path: Path, exc: BaseException) -> DataFileError:
    return DataFileError(
        f"Cannot read {str(path)!r}: not a readable Excel workbook ({type(exc).__name__}). Save it "
        "again from Excel as .xlsx, or as CSV UTF-8."
    )


def _check_inflation(path: Path) -> None:
    """Refuse a workbook whose parts would inflate beyond :data:`XLSX_MAX_INFLATED` bytes in all,
    or any part over 1 MiB beyond :data:`XLSX_MAX_RATIO` times its compressed size, from the
    sizes its zip directory declares (nothing is inflated). The declared sizes bound what is
    read: Python's zip reader stops at a part's declared size."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _bad_workbook(path, exc) from None
    total = sum(p.file_size for p in parts)
    if total > XLSX_MAX_INFLATED:
        raise DataFileError(
            f"Cannot read {str(path)!r}: its parts would inflate to {total / 2**20:,.0f} MiB, over the limit of "
            f"{XLSX_MAX_INFLATED // 2**20:,} MiB for a workbook (a decompression bomb?); save the sheet as CSV UTF-8."
        )
    for part in parts:
        if part.file_size > _XLSX_RATIO_FLOOR and part.file_size > XLSX_MAX_RATIO * max(
            part.compress_size, 1
        ):
            ratio = part.file_size / max(part.compress_size, 1)
            raise DataFileError(
                f"Cannot read {str(path)!r}: a part of it would inflate {ratio:,.0f}-fold, over the limit of "
                f"{XLSX_MAX_RATIO}-fold for a workbook (a decompression bomb?); save the sheet as CSV UTF-8."
            )


def excel_sheets(path: str | os.PathLike) -> list[str]:
    """The sheet names of an Excel workbook, in workbook order. A workbook whose zip directory
    declares a decompression bomb is refused before any part is inflated."""
    path = Path(path)
    _need_openpyxl(path)
    _check_inflation(path)
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True)
        try:
            return [str(n) for n in book.sheetnames]
        finally:
            book.close()
    except Exception as exc:
        raise _bad_workbook(path, exc) from None


def excel_sheet(path: str | os.PathLike, sheet=None) -> str:
    """The name of the sheet ``sheet`` of a workbook: ``None`` is the first sheet, a name is
    that sheet, a whole number (or its digits) counts sheets from 1. A sheet that does not exist
    is one line naming the workbook and its sheets."""
    path = Path(path)
    names = excel_sheets(path)
    if not names:
        raise DataFileError(f"The workbook {path.name!r} has no sheets.")
    if sheet is None:
        return names[0]
    if isinstance(sheet, bool):
        raise DataFileError(
            f"The sheet of {path.name!r} must be a name or a number from 1; got {sheet!r}."
        )
    if isinstance(sheet, str) and sheet in names:
        return sheet
    text = str(sheet).strip()
    if isinstance(sheet, int) or text.isdigit():
        number = int(text)
        if 1 <= number <= len(names):
            return names[number - 1]
        raise DataFileError(
            f"The workbook {path.name!r} has {len(names)} sheet(s); there is no sheet "
            f"number {number} (sheets count from 1: {', '.join(map(repr, names))})."
        )
    raise DataFileError(
        f"The workbook {path.name!r} has no sheet {text!r}; its sheets are "
        f"{', '.join(map(repr, names))}."
    )


def _excel_header(path: Path, sheet=None) -> list[str]:
    """The column names of a sheet as :func:`_read_excel` names them, except that a name the
    sheet's first row holds twice is returned twice (pandas would rename the second ``sex.1``
    and the first would be measured), for :func:`_check_names` to refuse as for any file."""
    import openpyxl
    import pandas as pd

    name = excel_sheet(path, sheet)
    try:
        names = [
            str(c) for c in pd.read_excel(path, sheet_name=name, nrows=0, engine="openpyxl").columns
        ]
        book = openpyxl.load_workbook(path, read_only=True)
        try:
            first = next(book[name].iter_rows(min_row=1, max_row=1, values_only=True), ())
        finally:
            book.close()
    except Exception as exc:
        raise _bad_workbook(path, exc) from None
    given = [str(v) for v in first if v is not None and str(v).strip()]
    return given if len(set(given)) < len(given) else names


def _read_excel(path: Path, columns=None, sheet=None) -> pa.Table:
    """One sheet of an Excel workbook (the first by default), every column as text (optional
    extra ``excel``)."""
    import pandas as pd

    name = excel_sheet(path, sheet)
    try:
        frame = pd.read_excel(path, sheet_name=name, dtype=str, engine="openpyxl", usecols=columns)
    except Exception as exc:  # zip, XML and openpyxl errors: the workbook is not readable
        raise _bad_workbook(path, exc) from None
    frame.columns = [str(c) for c in frame.columns]
    return pa.Table.from_pandas(frame, preserve_index=False)


def _check_sheet(path: Path, kind: str, sheet) -> None:
    if sheet is not None and kind != "excel":
        raise DataFileError(
            f"{path.name!r} is not an Excel workbook: a sheet applies to .xlsx and .xlsm files only."
        )


def _not_utf8(path: Path) -> DataFileError:
    return DataFileError(
        f"Cannot read {str(path)!r}: it is not UTF-8 text. Re-save it as UTF-8 (Excel: CSV UTF-8)."
    )


def _head_text(path: Path) -> str:
    """The first bytes of a text file, decoded as UTF-8 with any byte-order mark removed."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        raw = fh.read(_HEADER_BYTES)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(raw) - 4:  # a character cut at the end of the block
            return raw[: exc.start].decode("utf-8")
        raise _not_utf8(path) from None


def sniff_delimiter(path: Path) -> str:
    """Guess a CSV delimiter from the header line: the most frequent of ``, ; TAB |``."""
    header = _head_text(path).split("\n", 1)[0]
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def csv_header(path: Path, delimiter: str) -> list[str]:
    """Return the column names of a CSV file (the first line, byte-order mark removed)."""
    head = _head_text(path)
    if len(head) >= _HEADER_BYTES - 4 and "\n" not in head:
        raise DataFileError(
            f"Cannot read {str(path)!r}: the first line is longer than 1 MiB; is it a CSV file?"
        )
    limit = csv.field_size_limit()
    try:
        row = next(csv.reader(io.StringIO(head, newline=""), delimiter=delimiter), None)
    except csv.Error:  # a name over the csv module's field limit (128 KiB), or a quote left open
        raise DataFileError(
            f"Cannot read {str(path)!r}: the header line holds a column name longer than {limit // 1024:,} KiB "
            "(or a quote left open); is it a CSV file?"
        ) from None
    if row is None or row == []:
        raise EmptyTableError(f"The file {str(path)!r} is empty: it has no header line.")
    return row


def _check_names(path: Path, names: list[str]) -> list[str]:
    seen, dupes = set(), []
    for name in names:
        if name in seen and name not in dupes:
            dupes.append(name)
        seen.add(name)
    if dupes:
        shown = ", ".join(repr(d) for d in dupes[:5])
        raise DataFileError(
            f"Cannot read {str(path)!r}: duplicate column names {shown}. Give every column its own name."
        )
    return names


def table_columns(path: str | os.PathLike, *, sep: str | None = None, sheet=None) -> list[str]:
    """Column names of a data file (of one sheet of a workbook), without reading its rows."""
    path = _existing_file(path)
    sep = check_sep(sep)
    kind = file_kind(path)
    _check_sheet(path, kind, sheet)
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            names = list(pq.read_schema(path).names)
        elif kind == "parquet-dataset":
            names = list(_dataset(path).schema.names)
        elif kind == "excel":
            names = _excel_header(path, sheet)
        elif kind == "feather":
            import pyarrow.ipc as ipc

            with pa.memory_map(str(path)) as source:
                try:
                    names = list(ipc.open_file(source).schema.names)
                except pa.ArrowInvalid:
                    import pyarrow.feather as feather

                    names = list(feather.read_table(path, memory_map=True).schema.names)
        else:
            names = csv_header(path, sep or sniff_delimiter(path))
    except (EmptyTableError, DataFileError):
        raise
    except (OSError, pa.ArrowException, UnicodeError, EOFError) as exc:
        raise _read_error(path, exc) from None
    return _check_names(path, names)


def _existing_file(path) -> Path:
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"No such file: {str(path)!r}.")
    if path.is_dir():
        if not _parquet_parts(path):
            raise DataFileError(
                f"{str(path)!r} is a directory with no Parquet files, not a data file."
            )
        return path
    if not os.access(path, os.R_OK):
        raise DataFileError(f"Cannot read {str(path)!r}: permission denied.")
    return path


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


#: What a reader's error says when the machine, not the file, is the problem.
_RESOURCE_WORDS = (
    "failed to launch worker thread",
    "can't start new thread",
    "out of memory",
    "bad_alloc",
    "cannot allocate memory",
    "resource temporarily unavailable",
)


def _read_error(path, exc: BaseException):
    """The one-line error for a file that could not be read: the machine's limits (threads,
    memory: ``ulimit -v``, a container) when the library says so, else the file's fault."""
    from ..exceptions import InsufficientMemoryError

    text = str(exc).lower()
    if isinstance(exc, MemoryError) or any(w in text for w in _RESOURCE_WORDS):
        return InsufficientMemoryError(
            f"Cannot read {str(path)!r}: out of memory or threads (the reader could not start a "
            "thread or allocate memory within this machine's or this process's limits: ulimit -v, "
            "ulimit -u, a container). Raise the limits, or give a smaller file."
        )
    return DataFileError(f"Cannot read {str(path)!r}: {_safe_reason(exc)}")


def _safe_reason(exc: BaseException) -> str:
    """Why a file could not be read, without any of its content.

    Arrow's messages quote the offending row or value after a colon ("Expected 2 columns, got
    3: F,Florence,..."); only the text before the quoted part is kept.
    """
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = _first_line(exc)
    head = re.split(r":\s", text)
    if "parse error" in text.lower() or "conversion error" in text.lower():
        return "not a valid delimited text file"
    if len(head) > 2:  # "Invalid: <what>: <detail quoting content>"
        return ": ".join(head[:2])
    return text if len(text) <= 200 else text[:200]


def _checked_request(path, columns, sep, sheet):
    """``(path, sep, kind, available columns, columns asked for without repeats or None)``: the
    file checked to exist and be readable by kind, the columns checked to be in it (one line
    naming the column and the file, with a suggestion)."""
    path = _existing_file(path)
    sep = check_sep(sep)
    kind = file_kind(path)
    available = table_columns(path, sep=sep, sheet=sheet)
    if columns is not None:
        for col in columns:
            if col not in available:
                raise MissingColumnError(missing_column_message(col, available, repr(path.name)))
        columns = list(dict.fromkeys(columns))
    return path, sep, kind, available, columns


def read_table(
    path: str | os.PathLike,
    columns=None,
    *,
    sep: str | None = None,
    strings: bool = True,
    numeric=(),
    sheet=None,
) -> pa.Table:
    """Read a CSV, Parquet or Feather file into an Arrow table.

    Parameters
    ----------
    path : str or path-like
        The file. The format is chosen by suffix: ``.parquet``/``.pq``, ``.feather``/``.arrow``,
        and ``.csv``/``.tsv``/``.txt`` (optionally gzip-compressed) for delimited text; any
        other suffix is refused.
    columns : sequence of str, optional
        Read only these columns. Unknown names raise :class:`MissingColumnError` with a
        suggestion.
    sep : str, optional
        The CSV delimiter (one character); guessed from the header line when omitted.
    strings : bool, default True
        Read every CSV column as text. Quasi-identifiers are labels: ``"007"`` and ``"7"``, or
        two 20-digit ids that differ in the last digit, must stay distinct, which type
        inference (through float64 for long numbers) does not guarantee. Measures convert the
        columns they need as numbers (weights, counts) themselves. ``False`` lets Arrow infer
        the types.
    numeric : sequence of str, optional
        CSV columns that hold numbers (weights, counts): their types are inferred even when
        ``strings`` is true, which is faster than converting text later. Values that are not
        numbers leave the column as text, for the caller's validator to refuse.
    sheet : str or int, optional
        The sheet of an Excel workbook: its name, or its number counting from 1 (default: the
        first sheet). A sheet that does not exist raises :class:`DataFileError` naming the
        workbook's sheets; any other kind of file refuses ``sheet``.

    Notes
    -----
    CSV files must be UTF-8 (a byte-order mark is allowed and removed). Quoted fields may
    hold line breaks. An empty field, ``NA``, ``NaN``, ``null`` and similar markers are read as
    missing values, in text columns too. Column names must be distinct (in a workbook too: a
    name its first row holds twice is refused, not renamed). A CSV header line over 1 MiB, or a
    name in it over the ``csv`` module's field limit (128 KiB), is refused. A workbook whose zip
    directory declares more than :data:`XLSX_MAX_INFLATED` bytes in all, or a part over 1 MiB
    inflating more than :data:`XLSX_MAX_RATIO`-fold, is refused before it is inflated. Error
    messages name the file and a line number, never a value from the file.
    """
    path, sep, kind, available, columns = _checked_request(path, columns, sep, sheet)
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(
                path,
                columns=columns,
                read_dictionary=_small_dictionary_columns(path, columns) or None,
            )
        elif kind == "parquet-dataset":
            table = _dataset(path).to_table(columns=columns)
        elif kind == "excel":
            table = _read_excel(path, columns, sheet)
        elif kind == "feather":
            import pyarrow.feather as feather

            table = feather.read_table(path, columns=columns)
        else:
            table = _read_csv(path, columns, available, sep=sep, strings=strings, numeric=numeric)
    except (DataFileError, EmptyTableError, MissingColumnError):
        raise
    except (OSError, pa.ArrowException, UnicodeError, ValueError, EOFError) as exc:
        raise _read_error(path, exc) from None
    return table


#: Rows a batch holds when a file is streamed into codes (Parquet, Arrow IPC); CSV batches are
#: blocks of :data:`_CSV_BLOCK` bytes. Big enough that per-batch costs vanish, small enough
#: that a batch of ten columns is a few megabytes.
STREAM_BATCH_ROWS = 1 << 18
_CSV_BLOCK = 1 << 24


def stream_file(path: str | os.PathLike, columns, consume, *, sep: str | None = None, sheet=None):
    """Read a data file as a stream of Arrow record batches and hand them to ``consume``.

    ``consume(schema, batches)`` receives the schema of the columns read and an iterator of
    ``pyarrow.RecordBatch`` holding only ``columns`` (all columns when ``None``), in record
    order; its result is returned. The batches are read as :func:`read_table` reads the whole
    file (the same types, the same CSV rules: text by default, the header checked, empty fields
    missing, quoted line breaks allowed), on Arrow's threads, one batch after another, so that
    the reader never holds the whole table. Parquet datasets are scanned with a small
    read-ahead. Errors are the one-line messages of :func:`read_table`; ``consume`` may be
    called again after a failed CSV attempt (quoted line breaks), with the file read afresh.
    Excel workbooks are read whole (one batch).
    """
    from ..exceptions import RiskCalcError

    path, sep, kind, available, columns = _checked_request(path, columns, sep, sheet)
    wanted = list(available) if columns is None else columns
    try:
        return _stream(path, kind, wanted, available, consume, sep, sheet)
    except RiskCalcError:
        raise
    except (OSError, pa.ArrowException, UnicodeError, ValueError, EOFError, MemoryError) as exc:
        raise _read_error(path, exc) from None


def _stream(path: Path, kind: str, wanted: list[str], available: list[str], consume, sep, sheet):
    """:func:`stream_file` once the file and its columns are checked."""
    if kind == "csv":
        return _stream_csv(path, wanted, available, consume, sep=sep)
    if kind == "excel":
        table = _read_excel(path, wanted, sheet)
        return consume(table.schema, iter(table.to_batches()))
    if kind == "feather":
        return _stream_feather(path, wanted, consume)
    if kind == "parquet":  # row group by row group (a scanner would read ahead several)
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(
            path, read_dictionary=_small_dictionary_columns(path, wanted) or None
        )
        schema = pa.schema([parquet.schema_arrow.field(c) for c in wanted])
        batches = parquet.iter_batches(
            batch_size=STREAM_BATCH_ROWS // 4, columns=wanted, use_threads=True
        )
        return consume(schema, batches)
    dataset = _dataset(path)
    scanner = dataset.scanner(
        columns=wanted,
        use_threads=True,
        batch_size=STREAM_BATCH_ROWS,
        batch_readahead=4,
        fragment_readahead=4,
    )
    return consume(scanner.projected_schema, iter(scanner.to_batches()))


def _stream_feather(path: Path, columns: list[str], consume):
    import pyarrow.ipc as ipc

    with pa.memory_map(str(path)) as source:
        try:
            reader = ipc.open_file(source)
        except pa.ArrowInvalid:  # Feather version 1: read whole
            import pyarrow.feather as feather

            table = feather.read_table(path, columns=columns)
            return consume(table.schema, iter(table.to_batches()))
        schema = pa.schema([reader.schema.field(c) for c in columns])
        batches = (reader.get_batch(i).select(columns) for i in range(reader.num_record_batches))
        return consume(schema, batches)


def _stream_csv(path: Path, columns: list[str], header: list[str], consume, *, sep: str | None):
    """CSV streamed block by block (``pyarrow.csv.open_csv``), every column as text. When the
    stream fails (a quoted line break without the option, a bad row, bad UTF-8), it is read once
    more allowing quoted line breaks; when that fails too, :func:`_read_csv` reads the file
    whole, for the message naming the bad row's line (or, should it succeed, for the table)."""
    import pyarrow.csv as pacsv

    delimiter = sep or sniff_delimiter(path)
    convert = pacsv.ConvertOptions(
        include_columns=columns,
        strings_can_be_null=True,
        column_types={c: pa.string() for c in columns},
    )
    for newlines in (False, True):
        try:
            reader = pacsv.open_csv(
                path,
                read_options=pacsv.ReadOptions(
                    column_names=list(header), skip_rows=1, use_threads=True, block_size=_CSV_BLOCK
                ),
                parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=newlines),
                convert_options=convert,
            )
            return consume(reader.schema, reader)
        except pa.ArrowInvalid:
            continue
    table = _read_csv(path, columns, header, sep=sep, strings=True)
    return consume(table.schema, iter(table.to_batches()))


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


def _read_csv(
    path: Path, columns, header: list[str], *, sep: str | None, strings: bool, numeric=()
) -> pa.Table:
    """Read delimited text with the header decoded once (byte-order mark removed).

    The fast path reads blocks in parallel assuming no quoted field holds a line break; when
    the parse fails it is retried with line breaks allowed in quoted values (valid CSV of any
    size). A row with the wrong number of fields is reported by its line number, never by its
    content.
    """
    import pyarrow.csv as pacsv

    delimiter = sep or sniff_delimiter(path)
    wanted = list(columns) if columns is not None else list(header)
    convert = pacsv.ConvertOptions(
        include_columns=wanted,
        strings_can_be_null=True,
        column_types={c: pa.string() for c in wanted if c not in set(numeric)} if strings else None,
    )
    bad: list = []

    def on_bad_row(row):
        bad.append((row.expected_columns, row.actual_columns, row.number))
        return "error"

    def attempt(newlines: bool, threads: bool) -> pa.Table:
        bad.clear()
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=list(header), skip_rows=1, use_threads=threads
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=newlines, invalid_row_handler=on_bad_row
            ),
            convert_options=convert,
        )

    try:
        try:
            return attempt(False, True)
        except pa.ArrowInvalid as exc:
            if "parse error" not in str(exc).lower() and "out of sync" not in str(exc).lower():
                raise
        try:
            return attempt(True, True)
        except pa.ArrowInvalid as exc:
            if "parse error" not in str(exc).lower():
                raise
        try:  # once more on one thread, for the line number of the bad row
            return attempt(True, False)
        except pa.ArrowInvalid as exc:
            if "parse error" not in str(exc).lower():
                raise
            raise DataFileError(_bad_row_message(path, bad, len(header))) from None
    except pa.ArrowInvalid as exc:
        if "utf8" in str(exc).lower() or "utf-8" in str(exc).lower():
            raise _not_utf8(path) from None
        raise


def _bad_row_message(path: Path, bad: list, n_header: int) -> str:
    where = f"Cannot read {str(path)!r}: "
    if not bad:
        return where + "not a valid delimited text file (unbalanced quotes?)."
    expected, actual, number = bad[0]
    line = f"row {number}" if number is not None and number > 0 else "a row"
    text = (
        f"{line} (counting the header as row 1) has {actual} field(s) where the header has "
        f"{expected}."
    )
    return where + text + " Check the delimiter (--sep) and quoting."


def write_text_atomic(path: str | os.PathLike, text: str, *, force: bool = False) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder.

    The file appears complete or not at all. An existing file is kept unless ``force`` is true.
    """
    return write_bytes_atomic(path, text.encode("utf-8"), force=force)


def write_bytes_atomic(path: str | os.PathLike, data: bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, then rename; exclusive without
    ``force``)."""
    from .._outputs import write_files

    return write_files({Path(path): data}, force=force)[0]
