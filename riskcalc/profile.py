"""Profile the quasi-identifiers before measuring them: messy data changes every figure.

The same pupils recorded as ``"f"``, ``"F "`` and ``"F"`` are three values to a measure, so a
messy extract looks more identifying than it is (or, after a careless clean-up, less). Before
measuring, :func:`profile_columns` reports per column what a careful analyst checks by hand,
reading only the column's dictionary of distinct values (one pass over the records to count
them), never printing a value:

* distinct values, missing values, and the smallest class (the rarest value's count);
* values that differ only by letter case or surrounding whitespace;
* text holding dates in more than one format (ISO ``2015-09-01``, ``01/09/2015``, ``20150901``...);
* numeric codes written two ways (``"01"`` and ``"1"``, ``"7"`` and ``"7.0"``);
* columns that look like direct identifiers: nearly every value distinct, or a name such as
  ``upn``, ``pupil_id``, ``forename``.

:func:`normalise` is the explicit opt-in fix (strip, upper-case, one spelling per number, ISO
dates): it returns a new table and says what it changed; the input is never modified.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import _format as fmt
from ._core.access import as_encoded

__all__ = ["ColumnProfile", "ProfileResult", "profile_columns", "normalise", "DATE_FORMATS"]

#: Date spellings recognised in text columns: name -> (regular expression, strptime format).
DATE_FORMATS = {
    "yyyy-mm-dd": (r"^\d{4}-\d{2}-\d{2}$", "%Y-%m-%d"),
    "dd/mm/yyyy": (r"^\d{1,2}/\d{1,2}/\d{4}$", "%d/%m/%Y"),
    "dd-mm-yyyy": (r"^\d{1,2}-\d{1,2}-\d{4}$", "%d-%m-%Y"),
    "dd.mm.yyyy": (r"^\d{1,2}\.\d{1,2}\.\d{4}$", "%d.%m.%Y"),
    "yyyymmdd": (r"^(19|20)\d{6}$", "%Y%m%d"),
    "yyyy/mm/dd": (r"^\d{4}/\d{2}/\d{2}$", "%Y/%m/%d"),
}
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)$"
_ID_NAME = re.compile(r"(^|_)(id|upn|uln|pmr|pupil_?id|candidate|forename|first_?name|surname|last_?name|"
                      r"name|email|phone|telephone|address|nhs|ni_?number)(_|$)", re.IGNORECASE)
#: A column with at least this share of distinct values (and 20 records) looks like an identifier.
IDENTIFIER_SHARE = 0.95


@dataclass(frozen=True)
class ColumnProfile:
    """What :func:`profile_columns` found in one column (counts only, never values).

    Attributes
    ----------
    name, dtype : str
    n_records, n_distinct, n_missing : int
    smallest_class : int
        Records holding the rarest value (1: some value occurs once).
    case_or_space_variants : int
        Distinct values that become equal to another after stripping surrounding whitespace
        and ignoring letter case (0 when none).
    padded_values : int
        Distinct values with leading or trailing whitespace.
    date_formats : tuple of str
        The :data:`DATE_FORMATS` found among the values (more than one: mixed formats).
    number_spellings : int
        Distinct text values that equal another numerically (``"01"`` and ``"1"``).
    looks_like_identifier : bool
    identifier_reason : str
    """

    name: str
    dtype: str
    n_records: int
    n_distinct: int
    n_missing: int
    smallest_class: int
    case_or_space_variants: int = 0
    padded_values: int = 0
    date_formats: tuple[str, ...] = ()
    number_spellings: int = 0
    looks_like_identifier: bool = False
    identifier_reason: str = ""

    def problems(self) -> list[str]:
        """One plain sentence per problem found (column name and counts only)."""
        out = []
        if self.case_or_space_variants:
            out.append(f"column {self.name!r}: {self.case_or_space_variants} distinct values differ from "
                       "another only by letter case or surrounding spaces")
        elif self.padded_values:
            out.append(f"column {self.name!r}: {self.padded_values} distinct values have leading or "
                       "trailing spaces")
        if len(self.date_formats) > 1:
            out.append(f"column {self.name!r}: dates written in {len(self.date_formats)} formats "
                       f"({', '.join(self.date_formats)})")
        if self.number_spellings:
            out.append(f"column {self.name!r}: {self.number_spellings} numeric codes are written in "
                       "more than one way (such as 01 and 1)")
        if self.looks_like_identifier:
            out.append(f"column {self.name!r} looks like a direct identifier ({self.identifier_reason}); "
                       "direct identifiers single out every record and belong in no release")
        return out


@dataclass(frozen=True)
class ProfileResult:
    """Profiles of the quasi-identifiers of a table (:func:`profile_columns`)."""

    columns: tuple[ColumnProfile, ...]
    n_records: int
    source: str = field(default="")

    def problems(self) -> list[str]:
        """Every problem found, one line each."""
        return [p for c in self.columns for p in c.problems()]

    def to_frame(self) -> pd.DataFrame:
        """One row per column: the counts, the date formats as text and the identifier flag."""
        rows = []
        for c in self.columns:
            rows.append({
                "column": c.name, "dtype": c.dtype, "n_records": c.n_records, "n_distinct": c.n_distinct,
                "n_missing": c.n_missing, "smallest_class": c.smallest_class,
                "case_or_space_variants": c.case_or_space_variants, "padded_values": c.padded_values,
                "date_formats": ", ".join(c.date_formats), "number_spellings": c.number_spellings,
                "looks_like_identifier": c.looks_like_identifier,
            })
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        found = self.problems()
        head = f"{len(found)} problem(s)" if found else "no problems found"
        return f"ProfileResult({len(self.columns)} columns, n_records={fmt.count(self.n_records)}, {head})"


def _dictionary(col) -> pa.Array | None:
    """The distinct non-missing values of an encoded column as Arrow strings (text columns only)."""
    cats = col.categories
    if cats is None:
        return None
    if isinstance(cats, (pa.Array, pa.ChunkedArray)):
        arr = cats.combine_chunks() if isinstance(cats, pa.ChunkedArray) else cats
    else:
        arr = pa.array(np.asarray(cats, dtype=object), from_pandas=True)
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    return arr


def _collisions(values: pa.Array) -> int:
    """Distinct values that coincide with another after the transformation that made ``values``."""
    if len(values) == 0:
        return 0
    n_groups = len(pc.unique(values))
    return len(values) - n_groups if n_groups < len(values) else 0


def _profile_one(enc, name: str) -> ColumnProfile:
    col = enc[name]
    n = enc.n_records
    counts = np.bincount(col.codes, minlength=col.n_levels)
    observed = counts[: col.n_distinct]
    smallest = int(observed[observed > 0].min()) if np.any(observed > 0) else 0
    variants = padded = spellings = 0
    formats: tuple[str, ...] = ()
    text = _dictionary(col)
    if text is not None and len(text):
        stripped = pc.utf8_trim_whitespace(text)
        padded = int(pc.sum(pc.not_equal(stripped, text)).as_py() or 0)
        variants = _collisions(pc.utf8_upper(stripped))
        found = []
        for label, (pattern, _) in DATE_FORMATS.items():
            if pc.any(pc.match_substring_regex(stripped, pattern)).as_py():
                found.append(label)
        formats = tuple(found)
        numeric = pc.match_substring_regex(stripped, _NUMBER)
        if pc.any(numeric).as_py():
            as_numbers = pc.cast(pc.filter(stripped, numeric), pa.float64())
            spellings = _collisions(as_numbers)
    share = col.n_distinct / n if n else 0.0
    reason = ""
    if n >= 20 and share >= IDENTIFIER_SHARE:
        reason = f"{fmt.pct(share, 1)} of its values are distinct"
    elif _ID_NAME.search(name):
        reason = "its name is that of an identifier"
    return ColumnProfile(name, col.dtype, n, col.n_distinct, col.n_missing, smallest, variants, padded,
                         formats, spellings, bool(reason), reason)


def profile_columns(data, columns=None, *, sep=None) -> ProfileResult:
    """Profile quasi-identifiers for the mess that changes disclosure-risk figures.

    Parameters
    ----------
    data : EncodedTable, pandas.DataFrame, pyarrow.Table, str or path-like
    columns : sequence of str, optional
        The columns to profile (all columns when omitted).
    sep : str, optional
        CSV separator.

    Returns
    -------
    ProfileResult

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": ["F", "f", "M ", "M"], "year": ["07", "7", "8", "8"]})
    >>> rc.profile_columns(df).problems()[0]
    "column 'sex': 2 distinct values differ from another only by letter case or surrounding spaces"
    """
    if columns is None:
        if hasattr(data, "columns") and not isinstance(data, (str,)):
            columns = [str(c) for c in data.columns]
        else:
            from ._core.encoding import _column_names

            columns = _column_names(data, sep)
    columns = [columns] if isinstance(columns, str) else list(columns)
    enc = as_encoded(data, columns, func="profile_columns", sep=sep, name="columns")
    return ProfileResult(tuple(_profile_one(enc, c) for c in columns), enc.n_records, enc.source)


def _normalise_text(values: pa.Array) -> pa.Array:
    """Strip, upper-case, one spelling per number, ISO dates (for the mixed formats found)."""
    out = pc.utf8_upper(pc.utf8_trim_whitespace(values))
    out = pc.if_else(pc.equal(out, ""), pa.scalar(None, pa.string()), out)
    numeric = pc.match_substring_regex(out, _NUMBER)
    if pc.any(numeric).as_py():
        as_num = pc.cast(pc.if_else(numeric, out, pa.scalar(None, pa.string())), pa.float64())
        whole = pc.equal(as_num, pc.round(as_num))
        canon = pc.if_else(whole, pc.cast(pc.cast(as_num, pa.int64(), safe=False), pa.string()),
                           pc.cast(as_num, pa.string()))
        out = pc.if_else(numeric, canon, out)
    dates = [(p, f) for p, f in DATE_FORMATS.values() if pc.any(pc.match_substring_regex(out, p)).as_py()]
    if len(dates) > 1:
        for pattern, form in dates:
            hit = pc.match_substring_regex(out, pattern)
            parsed = pc.strftime(pc.strptime(pc.if_else(hit, out, pa.scalar(None, pa.string())), format=form,
                                             unit="s", error_is_null=True), format="%Y-%m-%d")
            out = pc.if_else(pc.and_(hit, pc.is_valid(parsed)), parsed, out)
    return out


def normalise(data, columns, *, sep=None) -> tuple[pd.DataFrame, dict]:
    """A normalised copy of the text columns among ``columns``, and a record of what changed.

    Each text value is stripped of surrounding whitespace and upper-cased, an empty value
    becomes missing, numbers get one spelling (``"07"`` -> ``"7"``), and when a column holds
    dates in more than one :data:`DATE_FORMATS` they are rewritten as ISO ``yyyy-mm-dd``
    (day first for ``dd/mm/yyyy``, as in England). The work is done on each column's
    dictionary of distinct values. Other columns are copied unchanged; the input is never
    modified.

    Returns
    -------
    (pandas.DataFrame, dict)
        The normalised table (``columns`` only) and ``{column: distinct values before, after}``
        for the provenance.
    """
    columns = [columns] if isinstance(columns, str) else list(columns)
    enc = as_encoded(data, columns, func="normalise", sep=sep, name="columns")
    out, changes = {}, {}
    for name in columns:
        col = enc[name]
        text = _dictionary(col)
        codes = col.codes
        if text is None:
            values = col.categories
            labels = pd.Index(np.asarray(values)) if values is not None else None
            out[name] = pd.Series(pd.Categorical.from_codes(
                np.where(codes == (col.missing_code if col.missing_code is not None else -2), -1, codes),
                categories=labels)) if labels is not None else pd.Series(codes)
            continue
        fixed = _normalise_text(text)
        # one code per distinct normalised value, through the dictionary (never the records)
        uniq = pc.unique(fixed.filter(pc.is_valid(fixed)))
        new_code = pc.index_in(fixed, value_set=uniq).to_numpy(zero_copy_only=False)
        new_code = np.where(np.isnan(new_code.astype(np.float64)), -1, new_code).astype(np.int64)
        per_record = np.full(codes.shape[0], -1, dtype=np.int64)
        observed = codes < col.n_distinct
        per_record[observed] = new_code[codes[observed]]
        out[name] = pd.Series(pd.Categorical.from_codes(per_record, categories=pd.Index(uniq.to_pylist())))
        changes[name] = {"distinct_before": int(col.n_distinct), "distinct_after": int(len(uniq))}
    frame = pd.DataFrame(out)
    if isinstance(data, pd.DataFrame):
        frame.index = data.index
    return frame, changes
