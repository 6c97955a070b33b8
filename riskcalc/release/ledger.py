"""The release ledger: a table of NPD releases, read from CSV or TOML and checked.

A ledger lists the releases made from the pupil database, one row each (issue 29): its id, date,
recipient and recipient type, tier, the fields released (names of the field registry,
:mod:`synthetic.schema`), the academic years and year groups covered, the population covered and
the kind of pupil reference it carries. :func:`ledger_frame` turns any of the accepted forms into
the one frame every ledger measure reads (the *ledger frame*):

================  ==========================================================================
column            content
================  ==========================================================================
release_id        str, unique
date              datetime64[s], midnight (the day of the release)
recipient         str
recipient_type    one of :data:`RECIPIENT_TYPES`
tier              Int64: 1-4, or <NA> for a release the register left unclassified
fields            tuple of registry names, in registry order (``pupil_id`` is never a field:
                  the ``reference`` column says whether a release carries a pupil reference)
years             tuple of academic years, ascending, named by the year they start in
                  (2013 is 2013/14)
year_groups       tuple of NC years (Reception = 0), ascending; empty for all year groups
population        ``"all"``, ``"sample:<fraction>"`` (0 < fraction <= 1),
                  ``"las:<code>,<code>"`` (3-digit LA codes, ascending) or ``"aggregate"``
                  (a table of counts, such as a tier 3 release: no pupil records)
reference         ``"pmr"`` (persistent across every release), ``"apmr"`` (persistent within
                  one recipient's releases) or ``"none"``
================  ==========================================================================

A tier 3 release is an aggregate (``population="aggregate"``) and an aggregate carries no pupil
reference (``reference="none"``): a ledger breaking either is refused.

Files: CSV with a header naming the ten columns (list columns as ``;``-separated values, an
empty ``tier`` for unclassified), or TOML with one ``[[release]]`` table per release (lists as
arrays; ``tier`` and ``year_groups`` may be left out). Every problem is one line naming the
file, the line or release and the column; a value read from the file is never quoted except a
field name the user wrote (with the closest registry names).
"""

from __future__ import annotations

import csv
import datetime as _dt
import difflib
import io
import json
import math
import numbers
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TypeAlias

import numpy as np
import pandas as pd

from synthetic.ledger import LEDGER_COLUMNS, RECIPIENT_TYPES, REFERENCES
from synthetic.schema import FIELD_NAMES, LA_CODES

from .._outputs import write_files
from .._validation import looks_like_data
from ..exceptions import DataFileError, InvalidParameterError

__all__ = [
    "read_ledger",
    "ledger_frame",
    "write_ledger_csv",
    "write_ledger_toml",
    "LEDGER_COLUMNS",
    "RECIPIENT_TYPES",
    "REFERENCES",
]

#: What :func:`read_ledger` reads: a CSV or TOML path, a ledger frame, or release mappings.
LedgerSource: TypeAlias = "str | os.PathLike[str] | pd.DataFrame | Sequence[Mapping[str, object]]"

_FIELD_ORDER = {name: i for i, name in enumerate(FIELD_NAMES)}
_LA_SET = frozenset(LA_CODES)
_OPTIONAL_TOML = {"tier": None, "year_groups": ()}
_YEARS = (1900, 2100)
_NC_YEARS = (0, 13)


class _Bad(Exception):
    """A problem with one value: the message after "column 'x' ..."."""


def _error(exc_type: type[Exception], where: str, column: str, problem: str) -> Exception:
    return exc_type(f"{where}, column {column!r}: {problem}")


# --------------------------------------------------------------------------------------------
# One value of each column
# --------------------------------------------------------------------------------------------


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, np.generic) and bool(pd.isna(value)):
        return True
    return isinstance(value, str) and not value.strip()


def _text(value: object) -> str:
    if _missing(value):
        raise _Bad("is empty.")
    if not isinstance(value, str):
        raise _Bad(f"must be text; got {type(value).__name__}.")
    return value.strip()


def _date(value: object) -> np.datetime64:
    if _missing(value):
        raise _Bad("is empty; give the release's day as YYYY-MM-DD.")
    if isinstance(value, str):
        try:
            day = _dt.date.fromisoformat(value.strip())
        except ValueError:
            raise _Bad("is not a date written YYYY-MM-DD.") from None
        if len(value.strip()) != 10:
            raise _Bad("is not a date written YYYY-MM-DD.")
        return np.datetime64(day, "D")
    if isinstance(value, (_dt.date, np.datetime64, pd.Timestamp)):
        if isinstance(value, _dt.time):
            raise _Bad("is a time of day, not a date.")
        return np.datetime64(pd.Timestamp(value).date(), "D")
    raise _Bad(f"must be a date; got {type(value).__name__}.")


def _choice(value: object, options: Sequence[str]) -> str:
    text = _text(value)
    if text not in options:
        raise _Bad("must be one of " + ", ".join(repr(o) for o in options) + ".")
    return text


def _whole(value: object, what: str) -> int:
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?\d+", text):
            raise _Bad(f"must hold whole numbers ({what}).")
        return int(text)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _Bad(f"must hold whole numbers ({what}).")
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value)
    if not math.isfinite(number) or number != int(number):
        raise _Bad(f"must hold whole numbers ({what}).")
    return int(number)


def _tier(value: object) -> int | None:
    if _missing(value):
        return None
    try:
        tier = _whole(value, "1, 2, 3 or 4")
    except _Bad:
        raise _Bad("must be 1, 2, 3 or 4, or empty for an unclassified release.") from None
    if tier not in (1, 2, 3, 4):
        raise _Bad("must be 1, 2, 3 or 4, or empty for an unclassified release.")
    return tier


def _items(value: object) -> list[object]:
    """A list value: a ';'-separated string, or a sequence."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        return list(value)
    if _missing(value):
        return []
    raise _Bad(f"must be a list (';'-separated in CSV); got {type(value).__name__}.")


def _fields(value: object) -> tuple[str, ...]:
    names = _items(value)
    if not names:
        raise _Bad("is empty; name the released fields (registry names, ';'-separated in CSV).")
    seen: set[str] = set()
    for name in names:
        if not isinstance(name, str):
            raise _Bad(f"must hold field names (text); got {type(name).__name__}.")
        name = name.strip()
        if name == "pupil_id":
            raise _Bad(
                "names 'pupil_id': the pupil reference is not a field; say it in the "
                "'reference' column ('pmr', 'apmr' or 'none')."
            )
        if name not in _FIELD_ORDER:
            close = difflib.get_close_matches(name, FIELD_NAMES, n=3, cutoff=0.6)
            hint = (" Did you mean " + " or ".join(repr(c) for c in close) + "?") if close else ""
            raise _Bad(
                f"unknown field {name!r}.{hint} Fields are the registry's names "
                "(synthetic.FIELD_NAMES)."
            )
        if name in seen:
            raise _Bad(f"names the field {name!r} twice.")
        seen.add(name)
    return tuple(sorted(seen, key=_FIELD_ORDER.__getitem__))


def _ints(value: object, bounds: tuple[int, int], what: str, *, empty_ok: bool) -> tuple[int, ...]:
    raw = _items(value)
    if not raw and not empty_ok:
        raise _Bad(f"is empty; give the {what} covered.")
    out = [_whole(v, what) for v in raw]
    lo, hi = bounds
    if any(v < lo or v > hi for v in out):
        raise _Bad(f"must hold {what} from {lo} to {hi}.")
    if len(set(out)) != len(out):
        raise _Bad(f"names one of its {what} twice.")
    return tuple(sorted(out))


def _population(value: object) -> str:
    text = _text(value)
    if text in ("all", "aggregate"):
        return text
    kind, sep, rest = text.partition(":")
    if sep and kind == "sample":
        try:
            fraction = float(rest)
        except ValueError:
            fraction = math.nan
        if not (0.0 < fraction <= 1.0):
            raise _Bad("'sample:<fraction>' needs a fraction above 0 and at most 1.")
        return f"sample:{fraction:g}"
    if sep and kind == "las":
        codes = [c.strip() for c in rest.split(",") if c.strip()]
        if not codes:
            raise _Bad("'las:<code>,<code>' needs at least one LA code.")
        if any(c not in _LA_SET for c in codes):
            raise _Bad(
                "'las:' holds a code that is not one of England's 153 LA codes "
                "(3 digits, such as '201')."
            )
        if len(set(codes)) != len(codes):
            raise _Bad("'las:' names one LA twice.")
        return "las:" + ",".join(sorted(codes))
    raise _Bad("must be 'all', 'sample:<fraction>', 'las:<code>,<code>' or 'aggregate'.")


_PARSERS = {
    "release_id": _text,
    "date": _date,
    "recipient": _text,
    "recipient_type": lambda v: _choice(v, RECIPIENT_TYPES),
    "tier": _tier,
    "fields": _fields,
    "years": lambda v: _ints(v, _YEARS, "academic years", empty_ok=False),
    "year_groups": lambda v: _ints(v, _NC_YEARS, "NC years (Reception = 0)", empty_ok=True),
    "population": _population,
    "reference": lambda v: _choice(v, REFERENCES),
}


# --------------------------------------------------------------------------------------------
# Records -> the ledger frame
# --------------------------------------------------------------------------------------------


def _frame_from(
    records: Iterable[tuple[str, Mapping[str, object]]], exc_type: type[Exception], what: str
) -> pd.DataFrame:
    """``records`` are ``(where, mapping)``; ``what`` names the ledger in messages."""
    columns: dict[str, list[object]] = {c: [] for c in LEDGER_COLUMNS}
    first_seen: dict[str, str] = {}
    for where, record in records:
        row = {}
        for column in LEDGER_COLUMNS:
            try:
                row[column] = _PARSERS[column](record.get(column))
            except _Bad as bad:
                raise _error(exc_type, where, column, str(bad)) from None
        rid = str(row["release_id"])
        if rid in first_seen:
            raise _error(
                exc_type,
                where,
                "release_id",
                f"the id {rid!r} is used twice (first at {first_seen[rid]}); ids must be unique.",
            )
        first_seen[rid] = where
        if row["tier"] == 3 and row["population"] != "aggregate":
            raise _error(
                exc_type,
                where,
                "population",
                "a tier 3 release is aggregate tables: its population must be 'aggregate'.",
            )
        if row["population"] == "aggregate" and row["reference"] != "none":
            raise _error(
                exc_type,
                where,
                "reference",
                "an aggregate release holds no pupil records: its reference must be 'none'.",
            )
        for column in LEDGER_COLUMNS:
            columns[column].append(row[column])
    return _assemble(columns)


def _assemble(columns: Mapping[str, list[object]]) -> pd.DataFrame:
    n = len(columns["release_id"])
    days = np.array(columns["date"], dtype="datetime64[D]").reshape(n)
    tiers = pd.array([pd.NA if t is None else t for t in columns["tier"]], dtype="Int64")

    def tuples(name: str) -> pd.Series:
        out = np.empty(n, dtype=object)
        out[:] = columns[name] if n else []
        return pd.Series(out, dtype=object)

    return pd.DataFrame(
        {
            "release_id": pd.Series(columns["release_id"], dtype="str"),
            "date": pd.Series(days.astype("datetime64[s]")),
            "recipient": pd.Series(columns["recipient"], dtype="str"),
            "recipient_type": pd.Series(columns["recipient_type"], dtype="str"),
            "tier": tiers,
            "fields": tuples("fields"),
            "years": tuples("years"),
            "year_groups": tuples("year_groups"),
            "population": pd.Series(columns["population"], dtype="str"),
            "reference": pd.Series(columns["reference"], dtype="str"),
        }
    )


def _check_columns(present: Sequence[str], where: str, exc_type: type[Exception]) -> None:
    present = [str(c) for c in present]
    for i, column in enumerate(present):
        if column in present[:i]:
            raise exc_type(f"{where}: the column {column!r} appears twice.")
    unknown = [c for c in present if c not in LEDGER_COLUMNS]
    if unknown and looks_like_data(unknown):  # a record where the header should be: quote none
        raise exc_type(
            f"{where}: the first line does not look like a header (it holds numbers, dates or "
            "quoted records). The first line must name the columns: "
            + ", ".join(LEDGER_COLUMNS)
            + "."
        )
    for column in present:
        if column not in LEDGER_COLUMNS:
            close = difflib.get_close_matches(column, LEDGER_COLUMNS, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise exc_type(
                f"{where}: unknown column {column!r}.{hint} A ledger has the columns "
                + ", ".join(LEDGER_COLUMNS)
                + "."
            )
    for column in LEDGER_COLUMNS:
        if column not in present:
            raise exc_type(f"{where}: the column {column!r} is missing.")


def ledger_frame(
    data: pd.DataFrame | Sequence[Mapping[str, object]], *, name: str = "the ledger"
) -> pd.DataFrame:
    """Check a ledger and return it as the ledger frame (the columns and types every measure reads).

    Lists may be sequences or ``;``-separated strings; field names are put in registry order,
    years and year groups ascending, LA codes ascending and a sample fraction in its shortest
    form, so that equal releases compare equal. The input is not modified.

    Parameters
    ----------
    data : pandas.DataFrame or sequence of mappings
        One row (or mapping) per release with the ten ledger columns
        (:data:`LEDGER_COLUMNS`); a mapping may leave out ``tier`` (unclassified) and
        ``year_groups`` (all).
    name : str, default "the ledger"
        How messages name the ledger.

    Returns
    -------
    pandas.DataFrame
        The ledger frame (module docstring of :mod:`riskcalc.release.ledger`), in input order
        with a fresh ``RangeIndex``.

    Raises
    ------
    InvalidParameterError
        One line naming the row (and release id once read) and the column: a missing or
        unknown column, an unknown field name (with the closest registry names), a tier other
        than 1-4, a date not written YYYY-MM-DD, a repeated id, a reference other than 'pmr',
        'apmr' or 'none', a tier 3 release that is not aggregate, ...

    Examples
    --------
    >>> from riskcalc.release.ledger import ledger_frame
    >>> frame = ledger_frame([{"release_id": "R1", "date": "2013-05-02", "recipient": "uni-a",
    ...     "recipient_type": "university", "tier": 2, "fields": "urn;sex;nc_year",
    ...     "years": [2012], "population": "all", "reference": "apmr"}])
    >>> frame.loc[0, "fields"], frame.loc[0, "year_groups"], str(frame["date"].dtype)
    (('sex', 'nc_year', 'urn'), (), 'datetime64[s]')
    """
    if isinstance(data, pd.DataFrame):
        _check_columns(list(data.columns), name, InvalidParameterError)
        rows = data.to_dict("records")
        where_of = [f"{name}, row {i + 1}" for i in range(len(rows))]
    elif isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        rows = list(data)
        where_of = [f"{name}, release {i + 1}" for i in range(len(rows))]
        for where, row in zip(where_of, rows):
            if not isinstance(row, Mapping):
                raise InvalidParameterError(
                    f"{where}: a release must be a mapping of column to value; "
                    f"got {type(row).__name__}."
                )
            _check_columns(
                [*row, *(c for c in _OPTIONAL_TOML if c not in row)], where, InvalidParameterError
            )
    else:
        raise InvalidParameterError(
            "The 'data' parameter of ledger_frame must be a pandas DataFrame or a sequence of "
            f"mappings (one per release). Got {type(data).__name__} instead."
        )
    return _frame_from(_located(rows, where_of), InvalidParameterError, name)


def _located(
    rows: Sequence[Mapping[str, object]], where_of: Sequence[str]
) -> Iterable[tuple[str, Mapping[str, object]]]:
    """Each row with its place, the release id added once it reads as text."""
    for where, row in zip(where_of, rows):
        rid = row.get("release_id")
        label = (
            f"{where} (release {rid.strip()!r})" if isinstance(rid, str) and rid.strip() else where
        )
        yield label, {**_OPTIONAL_TOML, **row}


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def _open_text(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise DataFileError(f"No such ledger file: {path!r}.") from None
    except IsADirectoryError:
        raise DataFileError(f"The ledger file {path!r} is a folder.") from None
    except OSError as exc:
        raise DataFileError(
            f"Cannot read the ledger file {path!r}: {exc.strerror or type(exc).__name__}."
        ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataFileError(
            f"Cannot read the ledger file {path!r}: it is not UTF-8 text. Re-save it as UTF-8."
        ) from None


def _read_csv(path: str) -> pd.DataFrame:
    text = _open_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise DataFileError(f"The ledger file {path!r} is empty: it needs a header line.")
        _check_columns([h.strip() for h in header], repr(path), DataFileError)
        columns = [h.strip() for h in header]
        records: list[tuple[str, Mapping[str, object]]] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            where = f"{path!r}, line {reader.line_num}"
            if len(row) != len(columns):
                raise DataFileError(
                    f"{where}: {len(row)} values for {len(columns)} columns (quote a value that "
                    "holds a comma)."
                )
            record = dict(zip(columns, row))
            rid = record["release_id"].strip()
            records.append((f"{where} (release {rid!r})" if rid else where, record))
    except csv.Error as exc:
        raise DataFileError(
            f"Cannot read the ledger file {path!r}: not valid CSV at line {reader.line_num} "
            f"({type(exc).__name__})."
        ) from None
    return _frame_from(records, DataFileError, repr(path))


def _read_toml(path: str) -> pd.DataFrame:
    text = _open_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = " ".join(str(exc).split())
        reason = reason if len(reason) <= 120 else reason[:117] + "..."
        raise DataFileError(
            f"Cannot read the ledger file {path!r}: not valid TOML ({reason})."
        ) from None
    extra = [k for k in data if k != "release"]
    if extra:
        raise DataFileError(
            f"{path!r}: unknown table {extra[0]!r}; a ledger file holds [[release]] tables only."
        )
    releases = data.get("release", [])
    if not isinstance(releases, list) or not all(isinstance(r, dict) for r in releases):
        raise DataFileError(f"{path!r}: 'release' must be an array of tables ([[release]]).")
    records = []
    for i, release in enumerate(releases, start=1):
        rid = release.get("release_id")
        where = f"{path!r}, [[release]] number {i}"
        if isinstance(rid, str) and rid.strip():
            where += f" (release {rid.strip()!r})"
        _check_columns(
            [*release, *(c for c in _OPTIONAL_TOML if c not in release)], where, DataFileError
        )
        records.append((where, {**_OPTIONAL_TOML, **release}))
    return _frame_from(records, DataFileError, repr(path))


def read_ledger(source: LedgerSource) -> pd.DataFrame:
    """Read a release ledger (CSV or TOML file, frame or mappings) and check it.

    Parameters
    ----------
    source : str, os.PathLike, pandas.DataFrame or sequence of mappings
        A ``.csv`` file (a header naming the ten columns of :data:`LEDGER_COLUMNS`; lists
        ``;``-separated; an empty ``tier`` for an unclassified release), a ``.toml`` file (one
        ``[[release]]`` table per release; ``tier`` and ``year_groups`` may be left out), or
        data for :func:`ledger_frame`.

    Returns
    -------
    pandas.DataFrame
        The ledger frame (see :func:`ledger_frame`).

    Raises
    ------
    DataFileError
        For a file: one line naming it, the line or ``[[release]]`` (and the release id) and
        the column. A value from the file is never quoted, except a field name it gives (with
        the closest registry names).
    InvalidParameterError
        For a frame or mappings, as :func:`ledger_frame`; or a path that is neither ``.csv`` nor
        ``.toml``.

    Examples
    --------
    >>> import os, tempfile
    >>> from riskcalc.release.ledger import read_ledger
    >>> path = os.path.join(tempfile.mkdtemp(), "ledger.csv")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("release_id,date,recipient,recipient_type,tier,fields,years,year_groups,population,reference\\n"
    ...                  "R1,2013-05-02,uni-a,university,4,urn;sex;nc_yeer,2012,,all,apmr\\n")
    >>> from riskcalc.exceptions import DataFileError
    >>> try:
    ...     read_ledger(path)
    ... except DataFileError as error:
    ...     print(str(error).split(", ", 1)[1])
    line 2 (release 'R1'), column 'fields': unknown field 'nc_yeer'. Did you mean 'nc_year'? Fields are the registry's names (synthetic.FIELD_NAMES).
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        suffix = Path(path).suffix.lower()
        if suffix == ".csv":
            return _read_csv(path)
        if suffix == ".toml":
            return _read_toml(path)
        raise InvalidParameterError(
            f"The ledger file {path!r} must end in .csv or .toml (the two formats read)."
        )
    return ledger_frame(source)


def _csv_text(frame: pd.DataFrame) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LEDGER_COLUMNS)
    for row in frame.itertuples(index=False):
        rec = row._asdict()
        writer.writerow(
            [
                rec["release_id"],
                pd.Timestamp(rec["date"]).strftime("%Y-%m-%d"),
                rec["recipient"],
                rec["recipient_type"],
                "" if pd.isna(rec["tier"]) else str(int(rec["tier"])),
                ";".join(rec["fields"]),
                ";".join(str(y) for y in rec["years"]),
                ";".join(str(g) for g in rec["year_groups"]),
                rec["population"],
                rec["reference"],
            ]
        )
    return out.getvalue()


def _toml_text(frame: pd.DataFrame) -> str:
    def s(value: str) -> str:  # a JSON string is a TOML basic string
        return json.dumps(value, ensure_ascii=False)

    parts = []
    for row in frame.itertuples(index=False):
        rec = row._asdict()
        lines = [
            "[[release]]",
            f"release_id = {s(rec['release_id'])}",
            f"date = {pd.Timestamp(rec['date']).strftime('%Y-%m-%d')}",
            f"recipient = {s(rec['recipient'])}",
            f"recipient_type = {s(rec['recipient_type'])}",
        ]
        if not pd.isna(rec["tier"]):
            lines.append(f"tier = {int(rec['tier'])}")
        lines += [
            "fields = [" + ", ".join(s(f) for f in rec["fields"]) + "]",
            "years = [" + ", ".join(str(y) for y in rec["years"]) + "]",
            "year_groups = [" + ", ".join(str(g) for g in rec["year_groups"]) + "]",
            f"population = {s(rec['population'])}",
            f"reference = {s(rec['reference'])}",
        ]
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def write_ledger_csv(
    ledger: pd.DataFrame, path: str | os.PathLike[str], *, force: bool = False
) -> Path:
    """Write a ledger as CSV (checked first; written atomically; never over a file unless ``force``).

    Lists are ``;``-separated, an unclassified tier is empty, dates are YYYY-MM-DD: what
    :func:`read_ledger` reads back to an equal frame.

    Parameters
    ----------
    ledger : pandas.DataFrame
        A ledger (checked with :func:`ledger_frame`).
    path : str or os.PathLike
        The file to write.
    force : bool, default False
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InvalidParameterError
        If the ledger does not check.
    DataFileError
        If the file exists (without ``force``) or cannot be written.

    Examples
    --------
    >>> import os, tempfile, synthetic
    >>> from riskcalc.release.ledger import read_ledger, write_ledger_csv
    >>> ledger = synthetic.generate_ledger(rng=0, period="2012-2014")
    >>> path = write_ledger_csv(ledger, os.path.join(tempfile.mkdtemp(), "ledger.csv"))
    >>> read_ledger(path).equals(ledger)
    True
    """
    frame = ledger_frame(ledger)
    return write_files({Path(path): _csv_text(frame)}, force=force)[0]


def write_ledger_toml(
    ledger: pd.DataFrame, path: str | os.PathLike[str], *, force: bool = False
) -> Path:
    """Write a ledger as TOML, one ``[[release]]`` table per release (as :func:`write_ledger_csv`).

    An unclassified release has no ``tier`` key; dates are TOML dates.

    Parameters
    ----------
    ledger : pandas.DataFrame
        A ledger (checked with :func:`ledger_frame`).
    path : str or os.PathLike
        The file to write.
    force : bool, default False
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InvalidParameterError
        If the ledger does not check.
    DataFileError
        If the file exists (without ``force``) or cannot be written.

    Examples
    --------
    >>> import os, tempfile, synthetic
    >>> from riskcalc.release.ledger import read_ledger, write_ledger_toml
    >>> ledger = synthetic.generate_ledger(rng=1, period="2012-2014")
    >>> path = write_ledger_toml(ledger, os.path.join(tempfile.mkdtemp(), "ledger.toml"))
    >>> read_ledger(path).equals(ledger)
    True
    """
    frame = ledger_frame(ledger)
    return write_files({Path(path): _toml_text(frame)}, force=force)[0]
