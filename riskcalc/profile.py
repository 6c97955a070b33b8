"""Profile the quasi-identifiers before measuring them: messy data changes every figure.

The same pupils recorded as ``"f"``, ``"F "`` and ``"F"`` are three values to a measure, so a
messy extract looks more identifying than it is (or, after a careless clean-up, less). Before
measuring, :func:`profile_columns` reports per column what a careful analyst checks by hand,
reading only the column's dictionary of distinct values (one pass over the records to count
them), never printing a value:

* distinct values, missing values, and the smallest class (the rarest value's count);
* the column's *kind* (UK postcode, year group, sex code, date, number or text), from the name
  the caller gives it (the release layer passes the field registry's kinds) or from its content;
* values that are another spelling of a value already there, rule by rule (:data:`RULES`): letter
  case and surrounding spaces, runs of spaces, numbers (``"01"`` and ``"1"``, ``"7"`` and
  ``"7.0"``), postcode spacing (``DL10NG`` and ``DL1 0NG``), year-group labels (``Year 5``, ``Y5``
  and ``5``), sex codes (``female`` and ``F``), dates in several formats, registry codes;
* text holding dates in more than one format (ISO ``2015-09-01``, ``01/09/2015``, ``20150901``...);
* values that differ only by spaces inside them, where the kind gives no rule to unify them;
* columns that look like direct identifiers: nearly every value distinct, a name such as
  ``upn``, ``pupil_id``, ``forename``, ``FullName``, or content that looks like personal names
  (many distinct words of letters: a name column repeats, so it may be only ~94% distinct).

Every spelling rule maps a value to a *canonical form*; two values are spellings of one value
exactly when their canonical forms are equal. :func:`normalise` is the explicit opt-in fix: it
rewrites each value as its canonical form, returns a new table with a record of each rule it
applied (counts only), and never modifies the input. Splitting one value into several spellings
can only split classes, so figures measured on a column that still holds several spellings of
a value are an upper bound of the risk (a lower bound of k); :class:`DataQuality` carries that,
and the rest of the profile, with the figures into every output.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import _format as fmt
from . import _render
from ._core.backend import backend_for
from ._core.values import encoded_column_values, mixed_as_text, text_values
from ._render import Displayed
from ._typing import Fields, TableLike
from ._validation import column_list
from .exceptions import InvalidParameterError

__all__ = [
    "ColumnProfile",
    "ProfileResult",
    "DataQuality",
    "profile_columns",
    "normalise",
    "canonical_values",
    "detect_kind",
    "DATE_FORMATS",
    "KINDS",
    "RULES",
]

#: Date spellings recognised in text columns: name -> regular expression with the named groups
#: ``y``, ``m``, ``d``. Every format with a day and a month in one order reads the day first
#: (``01/09/2015`` is 1 September 2015), as dates are written in England.
DATE_FORMATS = {
    "yyyy-mm-dd": r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$",
    "dd/mm/yyyy": r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})$",
    "dd-mm-yyyy": r"^(?P<d>\d{1,2})-(?P<m>\d{1,2})-(?P<y>\d{4})$",
    "dd.mm.yyyy": r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})$",
    "yyyymmdd": r"^(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})$",
    "yyyy/mm/dd": r"^(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})$",
    "yyyy-mm-dd 00:00:00": r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})[ T]00:00(?::00(?:\.0+)?)?$",
}

#: The kinds of column the spelling rules know.
KINDS = ("text", "integer", "code", "postcode", "year_group", "sex", "date")

#: Spelling rules, in the order they are applied: name -> what the rule does (for outputs).
RULES = {
    "value_types": "a column of mixed types is read as text: the number 7 and the text '7' -> 7",
    "case_or_space": "letter case and surrounding spaces: ' f', 'F ' -> F; a value of spaces only is missing",
    "inner_spaces": "runs of spaces inside a value become one space",
    "number_spellings": "numbers get one spelling, digit by digit (07 -> 7, 7.0 -> 7), never through floating point",
    "postcode_spacing": "UK postcodes: one space before the 3-character inward code (DL10NG -> DL1 0NG)",
    "year_group_labels": "year groups: Year 5, Y5, Yr 5, 05 -> 5; Reception, YR -> R",
    "sex_codes": "sex codes: female, girl, f -> F; male, boy, m -> M",
    "date_formats": "dates: every format -> yyyy-mm-dd, dd/mm/yyyy read day first (UK convention)",
    "registry_codes": "codes: the registry's spelling of each code (80 -> 080)",
}

_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)$"
_WS = r"[\s\p{Zs}]+"
_POSTCODE = (
    r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$"  # spaces removed; the inward code is the last 3
)
_POSTCODE_SPACED = r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$"
_YEAR_PREFIX = r"(?:YEAR|YR|Y|NC ?YEAR|NCY|NC)"
_YEAR_NUMBER = r"^" + _YEAR_PREFIX + r" ?0*(\d{1,2})$"
_RECEPTION = r"^(?:R|REC|RECEPTION|YR|YEAR ?R|Y ?R|NC ?R)$"
_YEAR_LIKE = r"^(?:" + _YEAR_PREFIX + r" ?)?0*(?:1[0-4]|\d)$"
_SEX = {"F": "F", "FEMALE": "F", "GIRL": "F", "M": "M", "MALE": "M", "BOY": "M"}
_NAME_LIKE = r"^\p{L}+(?:[ '\-.]+\p{L}+)*$"
#: A column with at least this share of distinct values (and 20 records) looks like an identifier.
IDENTIFIER_SHARE = 0.95
#: A column of name-shaped text (words of letters) with at least this share of distinct values
#: (and 50 distinct values) looks like a column of personal names: full names repeat (a
#: cohort of 20,000 pupils holds about 94% distinct full names), so they fall short of 95%.
NAME_SHARE = 0.5
#: Share of a text column's distinct values that must fit a kind for it to be detected.
KIND_SHARE = 0.8

_ID_WORDS = {
    "upn",
    "uln",
    "pmr",
    "forename",
    "forenames",
    "firstname",
    "surname",
    "lastname",
    "email",
    "phone",
    "telephone",
    "mobile",
    "address",
    "nhs",
    "familyname",
    "givenname",
    "fullname",
    "candidate",
    "ninumber",
    "nino",
}
_PERSON = {
    "pupil",
    "child",
    "student",
    "learner",
    "person",
    "candidate",
    "family",
    "given",
    "first",
    "last",
    "middle",
    "full",
    "preferred",
    "legal",
    "former",
    "parent",
    "carer",
    "fore",
    "sur",
    "nick",
    "maiden",
}
_PLACE = {
    "school",
    "la",
    "lea",
    "establishment",
    "estab",
    "urn",
    "provider",
    "centre",
    "center",
    "region",
    "area",
    "lsoa",
    "msoa",
    "local",
    "authority",
    "trust",
    "course",
    "subject",
    "file",
    "ward",
    "district",
    "town",
    "street",
    "road",
    "country",
    "language",
    "ethnic",
    "ethnicity",
    "sen",
    "type",
    "column",
    "sheet",
    "table",
    "record",
    "row",
    "batch",
    "census",
    "academy",
}


def _words(name: str) -> list[str]:
    """The words of a column name: ``FullName`` -> full, name; ``pupil_id`` -> pupil, id."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name))
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def _identifier_name(name: str) -> bool:
    """Whether a column's name is that of a person's identifier (not a school's or an area's).

    By its words: one of :data:`_ID_WORDS` (``upn``, ``forename``, ``FullName``...); or
    ``name`` alone or after a person word (``pupil name``, ``first_name``); or ``id`` / ``ref``
    alone or after any word (``pupil_id``, ``family_id``); or ``number`` after ``pupil``,
    ``candidate`` or ``national insurance`` / ``ni``. None of them in a name with a place word
    (``school_id``, ``name_of_school``, ``school_address``).
    """
    words = _words(name)
    if not words or set(words) & _PLACE:  # a school's, an area's, a file's name, id or address
        return False
    if "".join(words) in _ID_WORDS or any(w in _ID_WORDS for w in words):
        return True
    pairs = set(itertools.pairwise(words))
    if ("ni", "number") in pairs or ("national", "insurance") in pairs:
        return True
    for i, w in enumerate(words):
        before = set(words[:i])
        if w in ("name", "names") and (not before or before & _PERSON):
            return True
        if w in ("id", "ref"):
            return True
        if w in ("number", "no") and before & {"pupil", "candidate", "student", "learner"}:
            return True
    return False


#: What each normalisation rule's finding says, for ``n`` distinct values it would rewrite.
_VARIANT_MESSAGES = {
    "value_types": "{n:,} distinct values are a value already there as another type (such as the number 7 "
    "and the text 7): the column mixes types",
    "case_or_space": "{n:,} distinct values differ from another only by letter case or surrounding spaces",
    "inner_spaces": "{n:,} distinct values differ from another only by repeated spaces inside them",
    "number_spellings": "{n:,} numeric codes are written in more than one way (such as 01 and 1)",
    "postcode_spacing": "{n:,} distinct postcodes differ from another only by the space before the inward "
    "code (such as AB12CD and AB1 2CD)",
    "year_group_labels": "{n:,} distinct year groups are another label of one already there (such as Year 5, "
    "Y5 and 5)",
    "sex_codes": "{n:,} distinct sex codes are another spelling of one already there (such as female and F)",
    "date_formats": "{n:,} distinct dates are a date already there written in another format",
    "registry_codes": "{n:,} distinct codes are another spelling of a code of the registry's list",
}


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
        Distinct text values that equal another as numbers (``"01"`` and ``"1"``), compared
        digit by digit.
    looks_like_identifier : bool
    identifier_reason : str
    kind : str
        One of :data:`KINDS`: given by the caller, else detected from the content
        (:func:`detect_kind`); ``""`` for a column that is not text.
    kind_from : str
        ``"given"``, ``"content"`` or ``""``.
    variants : tuple of (str, int)
        For each spelling rule of :data:`RULES` that merges values in this column, the distinct
        values it merges into another (in rule order; rules that merge none are left out).
    space_variants : int
        Distinct values (in canonical form) that differ from another only by spaces inside
        them, which no rule of the column's kind unifies (``AB12CD`` and ``AB1 2CD`` in a column
        not recognised as postcodes).
    unreadable : int
        Distinct values the kind's rule cannot read: dates in no known format (or a day-first
        date with a month above 12), text in a postcode column that is not shaped like a
        postcode. Left as written by :func:`normalise`.
    role : str
        What the caller measures the column as (``"quasi_identifier"``, ``"sensitive"``, ...;
        ``""`` when not said): decides which way messy spellings bias the figures.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": ["F", "f", " F", "M"]})
    >>> column = rc.profile_columns(df, ["sex"]).columns[0]
    >>> column.name, column.kind, column.case_or_space_variants
    ('sex', 'sex', 2)
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
    kind: str = ""
    kind_from: str = ""
    variants: tuple[tuple[str, int], ...] = ()
    space_variants: int = 0
    unreadable: int = 0
    role: str = ""

    @property
    def n_variants(self) -> int:
        """Distinct values that are another spelling of a value already there (all rules)."""
        return sum(n for _, n in self.variants)

    def messy_checks(self) -> tuple[str, ...]:
        """The checks that found one value written in more than one way (rule names of
        :data:`RULES`, ``"space_variants"``, ``"unreadable_dates"``): a measure on this column
        splits classes that are one."""
        out = [rule for rule, _ in self.variants]
        if self.space_variants:
            out.append("space_variants")
        if self.kind == "date" and self.unreadable and len(self.date_formats) > 1:
            out.append("unreadable_dates")
        return tuple(out)

    def findings(self) -> list[dict]:
        """One finding per problem: ``{"column", "check", "count", "messy", "message"}`` (counts
        only, never a value); ``messy`` marks one value written in more than one way."""
        out: list[dict] = []
        name = f"column {self.name!r}"
        if self.role == "other":  # a column checked for direct identifiers only
            if self.looks_like_identifier:
                out.append(
                    {
                        "column": self.name,
                        "check": "direct_identifier",
                        "count": 1,
                        "messy": False,
                        "message": f"{name}: {self._identifier_message()}",
                    }
                )
            return out

        def add(check, count, message, messy=True):
            out.append(
                {
                    "column": self.name,
                    "check": check,
                    "count": int(count),
                    "messy": messy,
                    "message": f"{name}: {message}",
                }
            )

        if len(self.date_formats) > 1:
            add(
                "mixed_date_formats",
                len(self.date_formats),
                f"dates written in {len(self.date_formats)} formats ({', '.join(self.date_formats)})",
                messy=False,
            )
        for rule, n in self.variants:
            if rule in _VARIANT_MESSAGES:
                add(rule, n, _VARIANT_MESSAGES[rule].format(n=n))
        if self.space_variants:
            add(
                "space_variants",
                self.space_variants,
                f"{self.space_variants:,} distinct values differ from another only by spaces inside them; no rule "
                "for this column's kind tells whether they are one value",
            )
        if self.unreadable and self.kind == "date":
            add(
                "unreadable_dates",
                self.unreadable,
                f"{self.unreadable:,} distinct values are not dates riskcalc can read (day-first formats only: a "
                "month above 12 means the column may be month first); left as written",
                messy=len(self.date_formats) > 1,
            )
        if self.looks_like_identifier:
            add("direct_identifier", 1, self._identifier_message(), messy=False)
        return out

    def problems(self) -> list[str]:
        """One plain sentence per problem found (column name and counts only)."""
        return [f["message"] for f in self.findings()]

    def _identifier_message(self) -> str:
        return (
            f"looks like a direct identifier ({self.identifier_reason}); a direct identifier singles out "
            "nearly every record on its own: release it only as a pseudonym, never as a quasi-identifier"
        )


@dataclass(frozen=True)
class ProfileResult(Displayed):
    """Profiles of the quasi-identifiers of a table (:func:`profile_columns`).

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": ["F", "f", " F", "M"], "postcode": ["DL1 0NG", "DL10NG", "NW1 3BR", "NW1 3BR"]})
    >>> profile = rc.profile_columns(df, ["sex", "postcode"])
    >>> profile.problems()
    ["column 'sex': 2 distinct values differ from another only by letter case or surrounding spaces", "column 'postcode': 1 distinct postcodes differ from another only by the space before the inward code (such as AB12CD and AB1 2CD)"]
    """

    columns: tuple[ColumnProfile, ...]
    n_records: int
    source: str = field(default="")

    def problems(self) -> list[str]:
        """Every problem found, one line each."""
        return [p for c in self.columns for p in c.problems()]

    def to_frame(self) -> pd.DataFrame:
        """One row per column: the counts, the kind, the date formats as text and the identifier flag."""
        rows = []
        for c in self.columns:
            rows.append(
                {
                    "column": c.name,
                    "dtype": c.dtype,
                    "kind": c.kind,
                    "n_records": c.n_records,
                    "n_distinct": c.n_distinct,
                    "n_missing": c.n_missing,
                    "smallest_class": c.smallest_class,
                    "case_or_space_variants": c.case_or_space_variants,
                    "padded_values": c.padded_values,
                    "date_formats": ", ".join(c.date_formats),
                    "number_spellings": c.number_spellings,
                    "variants": c.n_variants,
                    "space_variants": c.space_variants,
                    "unreadable": c.unreadable,
                    "looks_like_identifier": c.looks_like_identifier,
                }
            )
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        found = self.problems()
        head = f"{len(found)} problem(s)" if found else "no problems found"
        return f"ProfileResult({len(self.columns)} columns, n_records={fmt.count(self.n_records)}, {head})"


# ---------------------------------------------------------------------------------------------
# Canonical forms: one vectorised pass over a column's distinct values per rule
# ---------------------------------------------------------------------------------------------


def _null_like(values: pa.Array) -> pa.Scalar:
    return pa.scalar(None, values.type)


def _where(mask, new, old):
    return pc.if_else(pc.fill_null(mask, False), new, old)


def _numbers(out: pa.Array) -> pa.Array:
    """One spelling per number, textually: no sign ``+``, no leading zeros, no trailing zeros
    after the point, ``.5`` -> ``0.5``, ``-0`` -> ``0``. Digits never pass through floating
    point, so two long ids that differ in their last digit stay two values."""
    numeric = pc.match_substring_regex(out, _NUMBER)
    if not pc.any(numeric).as_py():
        return out
    text = pc.replace_substring_regex(out, r"^\+", "")
    text = pc.replace_substring_regex(text, r"^(-?)\.", r"\10.")  # RE2: group 1, then "0."
    text = pc.replace_substring_regex(text, r"^(-?)0+(\d)", r"\1\2")
    text = pc.replace_substring_regex(text, r"^(-?\d+\.\d*?)0+$", r"\1")
    text = pc.replace_substring_regex(text, r"^(-?\d+)\.$", r"\1")
    text = pc.replace_substring_regex(text, r"^-(0)$", r"\1")
    return _where(numeric, text, out)


def _postcodes(out: pa.Array) -> tuple[pa.Array, int]:
    """UK postcodes with one space before the inward code; the count of other values."""
    bare = pc.replace_substring(out, " ", "")
    hit = pc.match_substring_regex(bare, _POSTCODE)
    spaced = pc.replace_substring_regex(bare, r"^(.+)(.{3})$", r"\1 \2")
    other = int(pc.sum(pc.and_(pc.invert(pc.fill_null(hit, False)), pc.is_valid(out))).as_py() or 0)
    return _where(hit, spaced, out), other


def _year_groups(out: pa.Array) -> pa.Array:
    number = pc.match_substring_regex(out, _YEAR_NUMBER)
    out = _where(number, pc.replace_substring_regex(out, _YEAR_NUMBER, r"\1"), out)
    reception = pc.match_substring_regex(out, _RECEPTION)
    return _where(reception, pa.scalar("R", out.type), out)


def _lookup(out: pa.Array, mapping: Mapping[str, str]) -> pa.Array:
    keys = pa.array(list(mapping), out.type)
    index = pc.index_in(out, value_set=keys)
    mapped = pc.take(pa.array(list(mapping.values()), out.type), index)
    return _where(pc.is_valid(index), mapped, out)


def _dates(out: pa.Array) -> tuple[pa.Array, int]:
    """Dates in every :data:`DATE_FORMATS` rewritten as ISO ``yyyy-mm-dd``, checked as real
    dates (31/02/2015 is not one); the count of values left as written."""
    iso = out
    done = pc.is_null(out)
    for pattern in DATE_FORMATS.values():
        hit = pc.fill_null(pc.match_substring_regex(out, pattern), False)
        if not pc.any(hit).as_py():
            continue
        parts = pc.extract_regex(_where(hit, out, _null_like(out)), pattern)
        text = pc.binary_join_element_wise(
            parts.field("y"),
            pc.utf8_lpad(parts.field("m"), 2, "0"),
            pc.utf8_lpad(parts.field("d"), 2, "0"),
            "-",
        )
        stamp = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
        real = pc.fill_null(pc.equal(pc.strftime(stamp, format="%Y-%m-%d"), text), False)
        ok = pc.and_(hit, real)
        iso = _where(ok, text, iso)
        done = pc.or_(done, ok)
    unreadable = int(pc.sum(pc.invert(done)).as_py() or 0)
    return iso, unreadable


def _steps(values: pa.Array, kind: str, codes=None) -> tuple[list[tuple[str, pa.Array]], int]:
    """The canonical form of each value after each rule, in rule order, and the count of
    values the kind's rule could not read. ``values`` are the distinct non-missing values as text
    (two distinct values of a mixed-type column, the number 7 and the text ``"7"``, are both
    ``"7"``: the first step, ``value_types``, is where they become one)."""
    out = pc.utf8_upper(pc.utf8_trim_whitespace(values))
    out = pc.if_else(pc.equal(out, ""), _null_like(out), out)
    steps = [("value_types", values), ("case_or_space", out)]
    out = pc.replace_substring_regex(out, _WS, " ")
    steps.append(("inner_spaces", out))
    unreadable = 0
    if kind in ("text", "integer", "code", "year_group"):
        out = _numbers(out)
        steps.append(("number_spellings", out))
    if kind == "postcode":
        out, unreadable = _postcodes(out)
        steps.append(("postcode_spacing", out))
    elif kind == "year_group":
        steps.append(("year_group_labels", _year_groups(out)))
    elif kind == "sex":
        steps.append(("sex_codes", _lookup(out, _SEX)))
    elif kind == "date":
        out, unreadable = _dates(out)
        steps.append(("date_formats", out))
    elif kind == "code" and codes:
        code_array = pa.array([str(c) for c in codes], pa.string())
        canon = _steps(code_array, "text")[0][-1][1]
        steps.append(
            (
                "registry_codes",
                _lookup(out, dict(zip(canon.to_pylist(), code_array.to_pylist(), strict=True))),
            )
        )
    return steps, unreadable


def _n_unique(values: pa.Array) -> int:
    return len(pc.unique(values.filter(pc.is_valid(values))))


def detect_kind(values) -> str:
    """The kind of a text column from its distinct values: ``"postcode"``, ``"date"``,
    ``"sex"``, ``"year_group"`` or ``"text"``.

    A kind is detected when at least :data:`KIND_SHARE` of the distinct values fit it (a year
    group also needs one label such as ``Year 5`` or ``R``, or it is a column of numbers; sex
    needs both F and M, and at most three other codes).

    Examples
    --------
    >>> from riskcalc.profile import detect_kind
    >>> detect_kind(["DL1 0NG", "dl10ng", "LS6 2AB"]), detect_kind(["Year 5", "5", "Reception"])
    ('postcode', 'year_group')
    """
    if isinstance(values, (list, tuple)):
        values = pa.array([None if v is None else str(v) for v in values], pa.string())
    try:
        arr = text_values(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        arr = mixed_as_text(values)
    if arr is None or not pa.types.is_string(arr.type):
        return "text"
    arr = arr.filter(pc.is_valid(arr))
    out = pc.replace_substring_regex(pc.utf8_upper(pc.utf8_trim_whitespace(arr)), _WS, " ")
    out = pc.unique(out.filter(pc.not_equal(out, "")))
    n = len(out)
    if n == 0:
        return "text"

    def share(pattern) -> float:
        return (int(pc.sum(pc.match_substring_regex(out, pattern)).as_py() or 0)) / n

    if share(_POSTCODE_SPACED) >= KIND_SHARE:
        return "postcode"
    if sum(share(p) for p in DATE_FORMATS.values()) >= KIND_SHARE:
        return "date"
    sexes = set(pc.unique(_lookup(out, _SEX)).to_pylist()) if n <= 64 else set()
    others = n - int(pc.sum(pc.is_in(out, value_set=pa.array(list(_SEX)))).as_py() or 0)
    if {"F", "M"} <= sexes and others <= 3:
        return "sex"
    year = share(_YEAR_LIKE) + share(_RECEPTION)
    labelled = pc.any(
        pc.or_(
            pc.match_substring_regex(out, r"^" + _YEAR_PREFIX + r" ?\d"),
            pc.match_substring_regex(out, _RECEPTION),
        )
    ).as_py()
    if year >= 0.9 and labelled:
        return "year_group"
    return "text"


def _kind_spec(kinds, name):
    """(kind, codes) given by the caller for ``name``, or (None, None)."""
    if not kinds or name not in kinds:
        return None, None
    spec = kinds[name]
    kind, codes = (spec, None) if isinstance(spec, str) else (spec[0], tuple(spec[1]))
    if kind not in KINDS:
        raise InvalidParameterError(
            f"The 'kinds' parameter gives column {name!r} the kind {kind!r}; "
            f"kinds are {', '.join(KINDS)}."
        )
    return kind, codes


def canonical_values(values, kind: str | None = None, *, codes=None) -> list:
    """The canonical form of each value under the spelling rules of its kind (:data:`RULES`).

    Two values are spellings of one value exactly when their canonical forms are equal; a
    value that is missing (or only spaces) has ``None``. ``kind`` is detected from the values
    when omitted (:func:`detect_kind`).

    Examples
    --------
    >>> from riskcalc.profile import canonical_values
    >>> canonical_values(["dl10ng", "DL1 0NG", "DL1 0NH"], "postcode")
    ['DL1 0NG', 'DL1 0NG', 'DL1 0NH']
    >>> canonical_values([" Year 5", "05", "Reception", "YR"], "year_group")
    ['5', '5', 'R', 'R']
    """
    arr = pa.array([None if v is None else str(v) for v in values], pa.string())
    kind = kind or detect_kind(arr)
    steps, _ = _steps(arr, kind, codes)
    return steps[-1][1].to_pylist()


# ---------------------------------------------------------------------------------------------
# Per-column statistics: from an encoded table (in memory) or aggregated on Spark
# ---------------------------------------------------------------------------------------------


@dataclass
class _Stats:
    name: str
    dtype: str
    n_records: int
    n_distinct: int
    n_missing: int
    counts: np.ndarray  # records per distinct non-missing value
    text: pa.Array | None  # the distinct non-missing values, when the column is text
    levels: np.ndarray | None = None  # each value's code in the encoded column (in memory)


def _stats(values) -> _Stats:
    return _Stats(
        values.name,
        values.dtype,
        values.n_records,
        values.n_distinct,
        values.n_missing,
        values.counts,
        values.text,
        values.levels,
    )


def _encoded_stats(enc, name: str) -> _Stats:
    """The column's statistics over the values its records hold (a categorical column may list
    values no record holds: :func:`riskcalc._core.values.encoded_column_values`)."""
    return _stats(encoded_column_values(enc, name))


def _backend(data, columns, *, sep, sheet, func):
    """``(backend, source)``: the table's backend, its records encoded once when they are here
    (a sheet of a workbook is read in memory); the columns checked either way."""
    if sheet is not None and not hasattr(data, "columns"):
        from ._core.encoding import encode

        enc = encode(data, columns, sep=sep, sheet=sheet)
        return backend_for(enc, func=func), enc.source
    backend = backend_for(data, func=func, sep=sep)
    if backend.holds_records:
        enc = backend.encoded(columns, func=func, name="columns")
        return backend_for(enc, func=func), enc.source
    backend.names(columns, func=func, name="columns")
    return backend, ""


def _column_stats(
    data, columns, *, sep=None, sheet=None, func="profile_columns"
) -> tuple[list[_Stats], str]:
    backend, source = _backend(data, columns, sep=sep, sheet=sheet, func=func)
    return [_stats(v) for v in backend.column_values(columns, func=func)], source


def _name_like(text: pa.Array | None) -> float:
    """Share of distinct text values shaped like personal names (words of letters)."""
    if text is None or not len(text):
        return 0.0
    shaped = pc.match_substring_regex(pc.utf8_trim_whitespace(text), _NAME_LIKE)
    return float(pc.mean(pc.cast(shaped, pa.float64())).as_py() or 0)


def _identifier(stats: _Stats) -> str:
    """Why a column looks like a direct identifier (``""`` when it does not)."""
    n, d = stats.n_records, stats.n_distinct
    share = d / n if n else 0.0
    if n >= 20 and share >= IDENTIFIER_SHARE:
        return f"{fmt.pct(share, 1)} of its values are distinct"
    if _identifier_name(stats.name):
        return "its name is that of an identifier"
    if n >= 20 and d >= 50 and share >= NAME_SHARE:  # only then are its values read
        name_like = _name_like(stats.text)
        if name_like >= 0.9:
            return (
                f"its values look like personal names: {fmt.pct(share, 1)} of them are distinct, and "
                f"{fmt.pct(name_like, 0)} of the distinct values are words of letters"
            )
    return ""


def _profile(stats: _Stats, kind_spec=(None, None), role: str = "") -> ColumnProfile:
    counts = stats.counts
    smallest = int(counts[counts > 0].min()) if counts.size and np.any(counts > 0) else 0
    text = stats.text
    padded = spellings = case = space = unreadable = 0
    formats: tuple[str, ...] = ()
    variants: list[tuple[str, int]] = []
    kind, codes = kind_spec
    kind_from = "given" if kind else ""
    if text is not None and len(text) and role != "other":  # "other": checked for identifiers only
        if kind is None:
            kind, kind_from = detect_kind(text), "content"
        stripped = pc.utf8_trim_whitespace(text)
        padded = int(pc.sum(pc.not_equal(stripped, text)).as_py() or 0)
        steps, unreadable = _steps(text, kind, codes)
        before = len(text)
        for rule, values in steps:
            after = _n_unique(values)
            if before - after:
                variants.append((rule, before - after))
            if rule == "case_or_space":
                case = before - after
            if rule == "number_spellings":
                spellings = before - after
            before = after
        final = steps[-1][1]
        space = before - _n_unique(pc.replace_substring_regex(final, _WS, ""))
        upper = dict(steps)["case_or_space"]
        formats = tuple(
            label
            for label, pattern in DATE_FORMATS.items()
            if pc.any(pc.match_substring_regex(upper, pattern)).as_py()
        )
    elif text is not None and role != "other":
        kind, kind_from = (kind or "text"), (kind_from or "content")
    reason = _identifier(stats)
    return ColumnProfile(
        stats.name,
        stats.dtype,
        stats.n_records,
        stats.n_distinct,
        stats.n_missing,
        smallest,
        case,
        padded,
        formats,
        spellings,
        bool(reason),
        reason,
        kind or "",
        kind_from if kind else "",
        tuple(variants),
        space,
        unreadable,
        role,
    )


def profile_columns(
    data: TableLike,
    columns: Fields | None = None,
    *,
    sep: str | None = None,
    kinds: Mapping[str, str] | None = None,
    roles: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
) -> ProfileResult:
    """Profile quasi-identifiers for the mess that changes disclosure-risk figures.

    Each text column's distinct values are put through the spelling rules of its kind
    (:data:`RULES`); a rule that maps two distinct values to one canonical form has found one
    value written two ways. Only counts are reported, never a value.

    Parameters
    ----------
    data : table-like
        A Spark DataFrame is profiled by aggregated queries on the cluster: each text column's
        distinct values and their counts, never the records.
    columns : sequence of str, optional
        The columns to profile (all columns when omitted).
    sep : str, optional
        CSV separator.
    kinds : mapping of str to str, optional
        The kind of a column (one of :data:`KINDS`, or ``("code", code_list)``), where it is
        known: ``{"Gender": "sex", "DOB": "date"}``. Other text columns' kinds are detected
        from their content (:func:`detect_kind`).
    roles : mapping of str to str, optional
        What each column is measured as (``"quasi_identifier"``, ``"sensitive"``), recorded
        in the profiles for :class:`DataQuality`.
    sheet : str or int, optional
        The sheet of an Excel workbook (a name, or a number counting from 1).

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

            columns = _column_names(data, sep, sheet=sheet)
    columns = list(column_list(columns, "columns", "profile_columns"))
    stats, source = _column_stats(data, columns, sep=sep, sheet=sheet)
    roles = roles or {}
    profiles = tuple(_profile(s, _kind_spec(kinds, s.name), roles.get(s.name, "")) for s in stats)
    n = stats[0].n_records if stats else 0
    return ProfileResult(profiles, n, source)


# ---------------------------------------------------------------------------------------------
# Normalisation: the canonical form of every value, rule by rule, recorded
# ---------------------------------------------------------------------------------------------


def _normalise_column(text: pa.Array, kind: str, codes) -> tuple[pa.Array, list[dict], int]:
    """Canonical values of a column's distinct values, and the record of each rule applied."""
    steps, unreadable = _steps(text, kind, codes)
    rules = []
    prev, before = text, len(text)
    for rule, values in steps:
        after = _n_unique(values)
        rewritten = int(pc.sum(pc.fill_null(pc.not_equal(values, prev), True)).as_py() or 0) - int(
            pc.sum(pc.and_(pc.is_null(values), pc.is_null(prev))).as_py() or 0
        )
        if rule == "value_types":  # values of other types, read as the text of one already there
            rewritten = before - after
        if rewritten:
            rules.append(
                {
                    "rule": rule,
                    "description": RULES[rule],
                    "values_rewritten": rewritten,
                    "merged": before - after,
                }
            )
        prev, before = values, after
    return steps[-1][1], rules, unreadable


def normalise(
    data: TableLike,
    columns: Fields,
    *,
    sep: str | None = None,
    kinds: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
) -> tuple[pd.DataFrame, dict]:
    """A normalised copy of the text columns among ``columns``, and a record of what changed.

    Each text value is rewritten as its canonical form under the spelling rules of its column's
    kind (:data:`RULES`, in order): stripped of surrounding spaces and upper-cased (a value of
    spaces only becomes missing), runs of inner spaces made one, numbers given one spelling
    digit by digit (``"07"`` -> ``"7"``), and by kind: UK postcodes with one space before the
    inward code (``DL10NG`` -> ``DL1 0NG``; text not shaped like a postcode is left alone and
    counted), year-group labels (``Year 5``, ``Y5``, ``05`` -> ``5``; ``Reception``, ``YR`` ->
    ``R``), sex codes (``female``, ``f`` -> ``F``; only these unambiguous words), dates in any
    :data:`DATE_FORMATS` as ISO ``yyyy-mm-dd`` (day first for ``dd/mm/yyyy``, as in England;
    values that are no real date are left as written and counted), registry codes in the
    registry's spelling. Two values are merged exactly when their canonical forms are equal.

    The work is done on each column's dictionary of distinct values; other columns are left
    out; the input is never modified.

    Parameters
    ----------
    data : table-like
    columns : sequence of str
    sep : str, optional
        CSV separator.
    kinds : mapping of str to str, optional
        Column kinds, as for :func:`profile_columns` (others are detected from the content).
    sheet : str or int, optional
        The sheet of an Excel workbook.

    Returns
    -------
    (pandas.DataFrame, dict)
        The normalised table (``columns`` only) and, for each text column, ``{"kind",
        "kind_from", "distinct_before", "distinct_after", "rules": [{"rule", "description",
        "values_rewritten", "merged"}, ...], "unreadable"}``: counts only, for the provenance.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"postcode": ["DL10NG", "dl1 0ng", "DL1 0NG"], "year": ["Year 5", "5", "05"]})
    >>> fixed, record = rc.normalise(df, ["postcode", "year"])
    >>> fixed["postcode"].tolist(), fixed["year"].tolist()
    (['DL1 0NG', 'DL1 0NG', 'DL1 0NG'], ['5', '5', '5'])
    >>> record["postcode"]["distinct_before"], record["postcode"]["distinct_after"]
    (3, 1)
    """
    columns = list(column_list(columns, "columns", "normalise"))
    backend = backend_for(data, func="normalise", sep=sep)
    if sheet is None and not backend.holds_records:  # rewritten where the data are
        return _remote_normalise(data, backend, columns, kinds)
    if sheet is not None and not hasattr(data, "columns"):
        from ._core.encoding import encode

        enc = encode(data, columns, sep=sep, sheet=sheet)
    else:
        enc = backend.encoded(columns, func="normalise", name="columns")
    out, changes = {}, {}
    for name in columns:
        col = enc[name]
        stats = _encoded_stats(enc, name)
        text = stats.text
        codes = col.codes
        if text is None:
            values = col.categories
            arr = np.asarray(values) if values is not None else None
            # object stays object (pandas 1.5 would infer numbers from it, as pandas 2 does not)
            labels = (
                pd.Index(arr, dtype=object if arr.dtype == object else None)
                if arr is not None
                else None
            )
            missing = codes == (col.missing_code if col.missing_code is not None else -2)
            if labels is not None and not labels.is_unique:
                # equal values of different types (0 and 0.0) kept apart by the encoder: the
                # values themselves, as objects (a Categorical refuses equal categories)
                objects = np.asarray(values, dtype=object)
                out[name] = pd.Series(
                    np.where(missing, None, objects[np.where(missing, 0, codes)]), dtype=object
                )
            else:
                out[name] = (
                    pd.Series(
                        pd.Categorical.from_codes(np.where(missing, -1, codes), categories=labels)
                    )
                    if labels is not None
                    else pd.Series(codes)
                )
            continue
        kind, given = _kind_spec(kinds, name)
        kind_from = "given" if kind else "content"
        kind = kind or detect_kind(text)
        fixed, rules, unreadable = _normalise_column(text, kind, given)
        # one code per distinct normalised value, through the dictionary (never the records)
        uniq = pc.unique(fixed.filter(pc.is_valid(fixed)))
        new_code = pc.index_in(fixed, value_set=uniq).to_numpy(zero_copy_only=False)
        new_code = np.where(np.isnan(new_code.astype(np.float64)), -1, new_code).astype(np.int64)
        per_level = np.full(col.n_distinct, -1, dtype=np.int64)  # a level no record holds: none
        per_level[stats.levels] = new_code
        per_record = np.full(codes.shape[0], -1, dtype=np.int64)
        observed = codes < col.n_distinct
        per_record[observed] = per_level[codes[observed]]
        out[name] = pd.Series(
            pd.Categorical.from_codes(
                per_record, categories=pd.Index(uniq.to_pylist(), dtype=object)
            )
        )
        changes[name] = {
            "kind": kind,
            "kind_from": kind_from,
            "distinct_before": int(stats.n_distinct),
            "distinct_after": int(len(uniq)),
            "rules": rules,
            "unreadable": int(unreadable),
        }
    frame = pd.DataFrame(out)
    if isinstance(data, pd.DataFrame):
        frame.index = data.index
    return frame, changes


def _after(stats: _Stats, fixed: pa.Array) -> _Stats:
    """The statistics of a column after normalising, from its distinct values' canonical forms
    (counts summed over the values each canonical form merges; no pass over the records)."""
    valid = pc.is_valid(fixed).to_numpy(zero_copy_only=False)
    uniq = pc.unique(fixed.filter(pc.is_valid(fixed)))
    index = pc.index_in(fixed, value_set=uniq).to_numpy(zero_copy_only=False)
    where = np.asarray(index[valid], dtype=np.int64)
    counts = np.bincount(where, weights=stats.counts[valid], minlength=len(uniq)).astype(np.int64)
    missing = stats.n_missing + int(stats.counts[~valid].sum())
    return _Stats(stats.name, stats.dtype, stats.n_records, len(uniq), missing, counts, uniq)


def normalise_and_profile(data, columns, *, kinds=None, roles=None, sep=None, sheet=None):
    """:func:`normalise`, then :func:`profile_columns` of what will be measured: ``(table,
    record, ProfileResult)``. On Spark the profile after normalising is read off the distinct
    values' canonical forms and counts (no second pass over the cluster's records)."""
    columns = list(column_list(columns, "columns", "normalise"))
    roles = roles or {}
    backend = backend_for(data, func="normalise", sep=sep)
    if sheet is not None or backend.holds_records:
        fixed, changes = normalise(data, columns, sep=sep, kinds=kinds, sheet=sheet)
        return fixed, changes, profile_columns(fixed, columns, kinds=kinds, roles=roles)
    after: list[_Stats] = []
    fixed, changes = _remote_normalise(data, backend, columns, kinds, after=after)
    kinds_used = {
        **dict(kinds or {}),
        **{c: changes[c]["kind"] for c in changes if c not in (kinds or {})},
    }
    profiles = tuple(
        _profile(st, _kind_spec(kinds_used, st.name), roles.get(st.name, "")) for st in after
    )
    return fixed, changes, ProfileResult(profiles, after[0].n_records if after else 0, "")


def _remote_normalise(data, backend, columns, kinds, after=None):
    """:func:`normalise` of a table whose records stay where they are (Spark): each text
    column's distinct values come here (:meth:`~riskcalc._core.backend.Backend.column_values`,
    never the records), their canonical forms are computed here, and the values a rule rewrites
    are replaced where the data are (:meth:`~riskcalc._core.backend.Backend.replace_values`:
    on Spark a join with that small mapping), only for a column where a rule merges values (a
    rewritten spelling that merges nothing changes no class). Returns the whole table,
    ``columns`` replaced, and the record."""
    func = "normalise"
    backend.names(columns, func=func, name="columns")
    table, changes = data, {}
    for stats in map(_stats, backend.column_values(columns, func=func)):
        if stats.text is None:
            if after is not None:
                after.append(stats)
            continue
        kind, given = _kind_spec(kinds, stats.name)
        kind_from = "given" if kind else "content"
        kind = kind or detect_kind(stats.text)
        fixed, rules, unreadable = _normalise_column(stats.text, kind, given)
        changed = pc.fill_null(pc.not_equal(fixed, stats.text), True)
        # Values rewritten without merging leave every class as it is: nothing to rewrite.
        if _n_unique(fixed) < stats.n_distinct and pc.any(changed).as_py():
            table = backend_for(table, func=func).replace_values(
                stats.name, stats.text.filter(changed), fixed.filter(changed), func=func
            )
        changes[stats.name] = {
            "kind": kind,
            "kind_from": kind_from,
            "distinct_before": int(stats.n_distinct),
            "distinct_after": _n_unique(fixed),
            "rules": rules,
            "unreadable": int(unreadable),
        }
        if after is not None:
            after.append(_after(stats, fixed))
    return table, changes


# ---------------------------------------------------------------------------------------------
# The findings that travel with the figures
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataQuality:
    """The profile of every input a set of figures was measured on, as measured (after
    :func:`normalise` when it was asked for), with the record of the normalisation.

    Carried with the figures into every output (``provenance["data_quality"]``, from
    :meth:`to_dict`): the findings, and which quasi-identifiers still hold one value written in
    more than one way. Such a column splits classes that are one, so the figures measured on it
    are an **upper bound** of the risk (uniqueness, records in small classes, average risk;
    a lower bound of k); on a sensitive column, it hides homogeneous classes, so the attribute
    disclosure figures on it may be understated.

    Attributes
    ----------
    profiles : tuple of ProfileResult
        One per input (``ProfileResult.source`` names it as the figures do).
    normalised : bool
        Whether the columns were normalised before measuring.
    normalisation : tuple of dict
        For each normalised column: ``{"source", "column", "kind", "kind_from",
        "distinct_before", "distinct_after", "rules", "unreadable"}`` (:func:`normalise`).
    """

    profiles: tuple[ProfileResult, ...]
    normalised: bool = False
    normalisation: tuple[dict, ...] = ()

    @classmethod
    def combine(cls, items) -> DataQuality:
        """One block for figures measured on several inputs (the extracts of a report)."""
        items = list(items)
        return cls(
            tuple(p for q in items for p in q.profiles),
            any(q.normalised for q in items),
            tuple(n for q in items for n in q.normalisation),
        )

    def findings(self) -> list[dict]:
        """Every finding: ``{"source", "column", "check", "count", "upper_bound", "lower_bound",
        "message"}``.

        ``upper_bound`` is true where the finding makes the figures on a quasi-identifier an
        upper bound of the risk."""
        several = len(self.profiles) > 1
        out = []
        for prof in self.profiles:
            for col in prof.columns:
                for f in col.findings():
                    message = (
                        f"{prof.source}: {f['message']}"
                        if several and prof.source
                        else f["message"]
                    )
                    out.append(
                        {
                            "source": prof.source,
                            "column": f["column"],
                            "check": f["check"],
                            "count": f["count"],
                            "upper_bound": bool(
                                f["messy"] and col.role in ("quasi_identifier", "")
                            ),
                            "lower_bound": bool(f["messy"] and col.role == "sensitive"),
                            "message": message,
                        }
                    )
        return out

    def upper_bound(self) -> list[dict]:
        """The quasi-identifiers whose figures are upper bounds: ``{"source", "column",
        "checks"}``, one per column still holding a value written in more than one way."""
        out = []
        for prof in self.profiles:
            for col in prof.columns:
                checks = col.messy_checks()
                if checks and col.role in ("quasi_identifier", ""):
                    out.append({"source": prof.source, "column": col.name, "checks": list(checks)})
        return out

    def lower_bound(self) -> list[dict]:
        """Sensitive columns still holding a value written in more than one way: attribute
        disclosure on them may be understated."""
        return [
            {"source": prof.source, "column": col.name, "checks": list(col.messy_checks())}
            for prof in self.profiles
            for col in prof.columns
            if col.role == "sensitive" and col.messy_checks()
        ]

    def summary(self) -> str:
        """One sentence: what the profile found, for the top of every output."""
        return _render.quality_summary(self.to_dict())

    def warnings(self) -> list[str]:
        """The lines printed on stderr (findings, then the upper bounds, normalisation notes
        first); empty when the profile found nothing."""
        return _render.quality_lines(self.to_dict(), quiet=True)

    def to_dict(self) -> dict:
        """The JSON-able block recorded as ``provenance["data_quality"]``: ``checked`` (per
        input: records and columns profiled), ``normalised``, ``normalisation``, ``findings``,
        ``upper_bound``, ``lower_bound``, ``summary``."""
        doc = {
            "checked": [
                {
                    "source": p.source,
                    "n_records": int(p.n_records),
                    "columns": [c.name for c in p.columns],
                }
                for p in self.profiles
            ],
            "normalised": bool(self.normalised),
            "normalisation": [dict(n) for n in self.normalisation],
            "findings": self.findings(),
            "upper_bound": self.upper_bound(),
            "lower_bound": self.lower_bound(),
        }
        doc["summary"] = _render.quality_summary(doc)
        return doc

    def __repr__(self) -> str:
        return f"DataQuality({self.summary()})"
