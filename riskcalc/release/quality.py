"""The data-quality check every route runs before measuring: one function, one record.

``riskcalc analyse``, ``lattice``, ``suda``, ``report`` (in memory and on Spark) and
:func:`riskcalc.risk_table` call :func:`quality_check` on the columns they measure. It profiles
them (:func:`riskcalc.profile_columns`, with the field registry's kinds: the registry knows that
``postcode`` holds UK postcodes, ``nc_year`` year groups, ``sex`` sex codes, ``date_of_birth``
dates, ``urn`` a number, ``la_code`` a code of its list), normalises them when asked
(:func:`riskcalc.normalise`), profiles what will be measured again, and returns the table to
measure with a :class:`~riskcalc.profile.DataQuality`. Its :meth:`~DataQuality.to_dict` goes
into the provenance of the figures as ``data_quality``, so every output carries it: the stderr
warnings, the report's "Data quality" section, the JSON, Markdown and LaTeX tables. After
normalising, the findings are those of the normalised columns: what is still messy, never what
was fixed (that is the ``normalisation`` record).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._typing import Fields, TableLike
from .._validation import column_list
from ..profile import DataQuality, ProfileResult, normalise_and_profile
from ..profile import normalise as _normalise_columns
from ..profile import profile_columns as _profile_columns

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "registry_kinds",
    "quality_check",
    "upper_bound_rows",
    "attribute_bound_rows",
    "apply_column_map",
    "parse_column_map",
    "measured_table",
    "profile_columns",
    "normalise",
]


def registry_kinds(columns) -> dict:
    """The kinds of the columns the synthetic field registry knows by name (others are left
    to the content): ``{"postcode": "postcode", "nc_year": "year_group", "sex": "sex",
    "date_of_birth": "date", "urn": "integer", "la_code": ("code", LA_CODES), ...}``."""
    import synthetic
    from synthetic.exceptions import SyntheticError
    from synthetic.schema import NC_YEARS

    out: dict = {}
    for name in columns:
        try:
            f = synthetic.field(name)
        except SyntheticError:
            continue
        if name == "postcode":
            out[name] = "postcode"
        elif f.codes is not None and tuple(f.codes) == tuple(NC_YEARS):
            out[name] = "year_group"
        elif name == "sex":
            out[name] = "sex"
        elif f.dtype.startswith("datetime"):
            out[name] = "date"
        elif f.dtype.startswith("int"):
            out[name] = "integer"
        elif f.codes is not None:
            out[name] = ("code", tuple(f.codes))
        else:
            out[name] = "text"
    return out


def _kinds_used(profile: ProfileResult, kinds: dict) -> dict:
    """The kinds a profile used, to profile the normalised columns by the same rules."""
    return {c.name: kinds.get(c.name, c.kind) for c in profile.columns if c.kind}


def quality_check(
    data,
    columns,
    *,
    roles=None,
    normalise_columns=False,
    source="",
    sep=None,
    sheet=None,
    identifiers=(),
    kinds=None,
):
    """Profile ``columns`` (normalising them first when asked) and say what that means for the
    figures about to be measured on them.

    Parameters
    ----------
    data : table-like
    columns : sequence of str
        The columns the figures are measured on.
    roles : mapping of str to str, optional
        ``"quasi_identifier"`` (the default) or ``"sensitive"``, per column.
    normalise_columns : bool
        Normalise the text columns (:func:`riskcalc.normalise`) before measuring.
    source : str
        How the figures name this input (a file name, an extract's label).
    identifiers : sequence of str
        Further columns checked for direct identifiers only (an extract's other columns).
    kinds : mapping, optional
        Column kinds that override the registry's and the content's.

    Returns
    -------
    (table or None, DataQuality)
        With ``normalise_columns``: the normalised ``columns`` (a pandas DataFrame; for a Spark
        DataFrame, the whole DataFrame with them replaced), else ``None``; and the findings.
    """
    columns = list(dict.fromkeys(columns))
    roles = {c: (roles or {}).get(c, "quasi_identifier") for c in columns}
    kinds = {**registry_kinds(columns), **dict(kinds or {})}
    profile = (
        _profile_columns(data, columns, sep=sep, kinds=kinds, roles=roles, sheet=sheet)
        if columns
        else ProfileResult((), 0, "")
    )
    fixed, record = None, ()
    if normalise_columns and columns:
        used = _kinds_used(profile, kinds)
        fixed, changes, profile = normalise_and_profile(
            data, columns, kinds=used, roles=roles, sep=sep, sheet=sheet
        )
        record = tuple(
            {"source": str(source), "column": c, **changes[c]} for c in columns if c in changes
        )
    extra = ()
    others = [c for c in dict.fromkeys(identifiers) if c not in set(columns)]
    if others:
        extra = _profile_columns(
            data, others, sep=sep, roles={c: "other" for c in others}, sheet=sheet
        ).columns
    n = (
        profile.n_records
        if columns
        else (_profile_columns(data, others[:1], sep=sep, sheet=sheet).n_records if others else 0)
    )
    result = ProfileResult(profile.columns + tuple(extra), n, str(source))
    return fixed, DataQuality((result,), bool(normalise_columns), record)


def _messy_by_source(doc: dict, key: str) -> tuple[dict, bool]:
    """``({source: {columns}}, several)``: the columns a data-quality block lists under ``key``
    (``"upper_bound"`` or ``"lower_bound"``), by extract when it checked several (else under
    ``None``, whatever an extract is called)."""
    several = len(doc.get("checked", [])) > 1
    out: dict = {}
    for u in doc.get(key, []):
        out.setdefault(str(u["source"]) if several else None, set()).add(u["column"])
    return out, several


def _used(fields) -> set[str]:
    return {f.strip() for f in fields.split(",")} if isinstance(fields, str) else set(fields)


def upper_bound_rows(labels, fields, doc: dict | None) -> list[bool] | None:
    """For rows of figures (an extract's label and the fields each row is measured on): whether
    the row is an upper bound, by the data-quality block ``doc``; ``None`` when no row is."""
    if not doc or not doc.get("upper_bound"):
        return None
    messy, several = _messy_by_source(doc, "upper_bound")
    flags = [
        bool(messy.get(str(label) if several else None, set()) & _used(used))
        for label, used in zip(labels, fields, strict=True)
    ]
    return flags if any(flags) else None


def attribute_bound_rows(labels, fields, sensitive, doc: dict | None) -> list[str] | None:
    """For rows of attribute disclosure (an extract's label, the fields the intruder matches
    on, the sensitive field): how the data-quality block ``doc`` qualifies the figure, or
    ``None`` when it qualifies none. A quasi-identifier still holding one value written in more
    than one way splits classes, so more of them hold one sensitive value: ``"upper bound"``. A
    sensitive field written in more than one way splits its values, so fewer classes look
    homogeneous: ``"may be understated"``. Both: ``"direction unknown"``. Else ``""``."""
    if not doc or not (doc.get("upper_bound") or doc.get("lower_bound")):
        return None
    messy_qi, several = _messy_by_source(doc, "upper_bound")
    messy_sensitive, _ = _messy_by_source(doc, "lower_bound")
    out = []
    for label, used, sens in zip(labels, fields, sensitive, strict=True):
        key = str(label) if several else None
        over = bool(messy_qi.get(key, set()) & _used(used))
        under = sens in messy_sensitive.get(key, set())
        out.append(
            "direction unknown"
            if over and under
            else "upper bound"
            if over
            else "may be understated"
            if under
            else ""
        )
    return out if any(out) else None


def parse_column_map(text: str | None, option: str = "--columns") -> dict[str, str]:
    """``"sex=Gender,date_of_birth=DOB"`` -> ``{"sex": "Gender", "date_of_birth": "DOB"}``:
    each scenario field name, and the column of the file that holds it."""
    from ..exceptions import InvalidParameterError

    if not text:
        return {}
    out: dict[str, str] = {}
    for part in text.split(","):
        field, sep, column = part.partition("=")
        field, column = field.strip(), column.strip()
        if not sep or not field or not column:
            raise InvalidParameterError(
                f"{option} takes FIELD=COLUMN pairs separated by commas, such as "
                f"sex=Gender,date_of_birth=DOB; got {part.strip()!r}."
            )
        if field in out:
            raise InvalidParameterError(f"{option} maps the field {field!r} twice.")
        if column in out.values():
            raise InvalidParameterError(f"{option} maps the column {column!r} to two fields.")
        out[field] = column
    return out


def apply_column_map(
    columns, mapping: dict, fields, *, where: str, option: str = "--columns"
) -> dict[str, str]:
    """The renaming ``{column: field}`` that ``mapping`` (``{field: column}``) makes of a table
    with ``columns``: checked, one clear line for a field no scenario names or a column that
    would clash. Columns the table lacks are skipped (the caller checks that each is somewhere)."""
    from ..exceptions import InvalidParameterError

    known = set(fields)
    present = set(columns)
    rename = {}
    for field, column in mapping.items():
        if field not in known:
            raise InvalidParameterError(
                f"{option}: {field!r} is not a field of any scenario (the scenarios' "
                f"fields are {', '.join(sorted(known))})."
            )
        if column not in present:
            continue
        if field in present and field != column:
            raise InvalidParameterError(
                f"{option}: {where} has both a column {field!r} and the column "
                f"{column!r} mapped to it; map only one."
            )
        rename[column] = field
    return rename


def measured_table(path, columns, *, normalise_columns=False, sep=None, sheet=None, roles=None):
    """Encode ``columns`` of a file, profile them and (when asked) normalise them: the encoded
    table to measure and its :class:`~riskcalc.profile.DataQuality` (``riskcalc lattice`` and
    ``riskcalc suda``)."""
    from pathlib import Path

    from .._core.encoding import encode

    enc = encode(path, columns, sep=sep, sheet=sheet)
    fixed, quality = quality_check(
        enc, columns, roles=roles, normalise_columns=normalise_columns, source=Path(str(path)).name
    )
    if fixed is not None:
        out = encode(fixed, list(columns))
        out.source = enc.source
        enc = out
    return enc, quality


def run_provenance(
    function: str,
    path,
    n_records: int,
    params: dict,
    quality=None,
    *,
    normalise: bool = False,
    sheet=None,
) -> dict:
    """The provenance of a measure run on the table :func:`measured_table` read from ``path``
    (``riskcalc lattice`` and ``riskcalc suda``): the file, the parameters (with ``normalise``
    and, when given, ``sheet``) and the profile of the fields (``data_quality``)."""
    from .._provenance import describe_file, provenance

    info = describe_file(path, n_records)
    params = {**params, "normalise": bool(normalise)}
    if sheet is not None:
        params["sheet"] = sheet
    extra = {} if quality is None else {"data_quality": quality.to_dict()}
    return provenance(function, params, inputs=[info], input=info, **extra)


def _with_registry(kinds, columns) -> dict:
    return {**registry_kinds(columns), **dict(kinds or {})}


def profile_columns(
    data: TableLike,
    columns: Fields | None = None,
    *,
    sep: str | None = None,
    kinds: Mapping[str, str] | None = None,
    roles: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
) -> ProfileResult:
    # the docstring is riskcalc.profile.profile_columns's, with the registry's kinds (below)
    if columns is None:
        names = _all_columns(data, sep, sheet)
    else:
        names = list(column_list(columns, "columns", "profile_columns"))
    return _profile_columns(
        data, names, sep=sep, kinds=_with_registry(kinds, names), roles=roles, sheet=sheet
    )


def _all_columns(data, sep, sheet):
    if hasattr(data, "columns") and not isinstance(data, str):  # a data frame (pandas, Spark...)
        return [str(c) for c in data.columns]
    from .._core.encoding import _column_names

    return _column_names(data, sep, sheet=sheet)


def normalise(
    data: TableLike,
    columns: Fields,
    *,
    sep: str | None = None,
    kinds: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
) -> tuple[pd.DataFrame, dict]:
    # the docstring is riskcalc.profile.normalise's, with the registry's kinds (below)
    names = list(column_list(columns, "columns", "normalise"))
    return _normalise_columns(data, names, sep=sep, kinds=_with_registry(kinds, names), sheet=sheet)


def _registry_doc(doc: str) -> str:
    return doc.replace(
        "    Parameters\n",
        "    Columns named as fields of the synthetic registry (``postcode``, ``nc_year``, ``sex``,\n"
        "    ``date_of_birth``, ``urn``, ``la_code``...) take the registry's kind\n"
        "    (:func:`riskcalc.release.quality.registry_kinds`) unless ``kinds`` says otherwise.\n\n"
        "    Parameters\n",
        1,
    )


def _docs() -> None:
    from .. import profile as _p

    profile_columns.__doc__ = _registry_doc(_p.profile_columns.__doc__ or "")
    normalise.__doc__ = _registry_doc(_p.normalise.__doc__ or "")


_docs()
