"""Field registry: every column of a synthetic cohort, its NPD item, tier, role and ladder.

The registry is public API. Risk code reads roles (direct identifier, quasi-identifier,
sensitive attribute) and generalisation ladders from it; :func:`~synthetic.tier_extract` reads
tiers from it; :func:`~synthetic.read_extract` restores dtypes from it.

Tiers (npd-spec 1.4, as this project operationalises them): a field's ``tier`` is the least
sensitive record-level tier that carries it. Tier 4 fields appear in tiers 4, 2 and 1; tier 2
fields in tiers 2 and 1; tier 1 fields only in tier 1. Tier 3 is aggregate
(:func:`~synthetic.tier3_tables`).

Ladders
-------
A quasi-identifier's ``ladder`` lists coarser versions of it, finest first. Each :class:`Rung`
names the cohort column that holds that level (if any) and/or a vectorised function that
coarsens the field's own column; :meth:`Field.generalise` uses the column when the frame has it
and the function otherwise.

What a field determines
-----------------------
One dependency graph says which field determines which: ``a -> b`` when every value of ``a``
gives one value of ``b`` in England, not only in the synthetic generator (a unit postcode lies
in one LSOA, an LSOA in one local authority, a school in one LA and one phase, a date of birth
gives the month of birth). Its edges are the ladder rungs that are registry fields (a ladder
coarsens a field, so each rung is a function of it) plus each field's ``determines`` (the
functions that are not generalisations of it). :data:`DETERMINES` holds the direct edges and
:func:`closure` everything a set of fields tells: what an intruder who knows them knows.

Some fields usually, but not always, hold the value of another: the home LA (``home_la``) is
the school's LA (``la_code``) for most pupils, not for those who cross an LA border to school.
``guessed_by`` names that field, the intruder's best guess (:data:`GUESSED_BY`); it is not an
edge of the graph.

Examples
--------
>>> from synthetic.schema import FIELDS, closure, field
>>> field("postcode").ladder_names
('postcode_sector', 'postcode_district', 'postcode_area')
>>> [f.name for f in FIELDS if f.role is Role.DIRECT_IDENTIFIER]
['pupil_id', 'upn', 'forename', 'surname', 'family_id']
>>> closure(["lsoa"])
('lsoa', 'home_la', 'home_region', 'idaci_decile')
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from ._data import REGIONS, load_json, local_authorities
from .exceptions import SyntheticError

if TYPE_CHECKING:  # pandas is imported where it is used: the cohort's samplers need numpy alone
    import pandas as pd

__all__ = [
    "Role",
    "Rung",
    "Field",
    "FIELDS",
    "FIELD_NAMES",
    "RECORD_TIERS",
    "field",
    "fields_for_tier",
    "columns_for_tier",
    "quasi_identifiers",
    "sensitive_attributes",
    "direct_identifiers",
    "pandas_dtype",
    "NC_YEARS",
    "DETERMINES",
    "GUESSED_BY",
    "determines",
    "closure",
]


class Role(str, enum.Enum):  # noqa: UP042 (StrEnum would change str(Role.X) in outputs)
    """Disclosure role of a field.

    Examples
    --------
    >>> import synthetic
    >>> [role.value for role in synthetic.Role]
    ['direct_identifier', 'quasi_identifier', 'sensitive']
    >>> synthetic.field("fsm_eligible").role is synthetic.Role.SENSITIVE
    True
    """

    DIRECT_IDENTIFIER = "direct_identifier"
    """Identifies a pupil on its own (UPN, names, the pseudonymous id); kept out of lattices."""
    QUASI_IDENTIFIER = "quasi_identifier"
    """Something an intruder may know (date of birth, postcode, school, ethnicity...)."""
    SENSITIVE = "sensitive"
    """What a match would reveal (FSM, SEN, looked-after, exclusions...)."""


#: Record-level tiers.
RECORD_TIERS: tuple[int, ...] = (1, 2, 4)
#: National Curriculum year codes in order (Reception, then Years 1 to 13).
NC_YEARS: tuple[str, ...] = ("R",) + tuple(str(i) for i in range(1, 14))


# --------------------------------------------------------------------------- coarsening helpers
def _map_categories(series: pd.Series, func: Callable[[pd.Index], Iterable]) -> pd.Series:
    """Apply ``func`` to the categories of a categorical (or to the values) and re-encode."""
    import pandas as pd

    if not isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype("category")
    cats = series.cat.categories
    mapped = np.asarray(list(func(cats)), dtype=object)
    uniques, inverse = np.unique(mapped.astype(str), return_inverse=True)
    codes = series.cat.codes.to_numpy()
    new_codes = np.where(codes >= 0, inverse[np.maximum(codes, 0)], -1)
    out = pd.Categorical.from_codes(new_codes, categories=pd.Index(uniques.tolist()))
    return pd.Series(out, index=series.index, name=series.name)


def _postcode_sector(s: pd.Series) -> pd.Series:
    return _map_categories(s, lambda c: (v[:-2] for v in c))


def _postcode_district(s: pd.Series) -> pd.Series:
    return _map_categories(s, lambda c: (v.split(" ")[0] for v in c))


def _postcode_area(s: pd.Series) -> pd.Series:
    def area(v: str) -> str:
        out = v.split(" ")[0]
        i = 0
        while i < len(out) and out[i].isalpha():
            i += 1
        return out[:i]

    return _map_categories(s, lambda c: (area(v) for v in c))


def _year_month(s: pd.Series) -> pd.Series:
    dt = s.dt
    return (dt.year.astype("int32") * 100 + dt.month.astype("int32")).rename(s.name)


def _year(s: pd.Series) -> pd.Series:
    return s.dt.year.astype("int16").rename(s.name)


_KEY_STAGE = {
    "R": "EYFS",
    "1": "KS1",
    "2": "KS1",
    "3": "KS2",
    "4": "KS2",
    "5": "KS2",
    "6": "KS2",
    "7": "KS3",
    "8": "KS3",
    "9": "KS3",
    "10": "KS4",
    "11": "KS4",
    "12": "KS5",
    "13": "KS5",
}


def _key_stage(s: pd.Series) -> pd.Series:
    return _map_categories(s, lambda c: (_KEY_STAGE[str(v)] for v in c))


def _idaci_quintile(s: pd.Series) -> pd.Series:
    return ((s.astype("int16") + 1) // 2).astype("int8")


def _laestab_la(s: pd.Series) -> pd.Series:
    import pandas as pd

    codes = (s.to_numpy().astype(np.int64) // 10000).astype(str)
    return pd.Series(
        pd.Categorical(np.char.zfill(codes, 3), categories=list(LA_CODES)),
        index=s.index,
        name=s.name,
    )


# --------------------------------------------------------------------------------- dataclasses
@dataclass(frozen=True, slots=True)
class Rung:
    """One step of a generalisation ladder.

    Parameters
    ----------
    name : str
        Name of the level (e.g. ``"postcode_sector"``).
    column : str or None
        Cohort column that holds this level, if any.
    coarsen : callable or None
        Vectorised function mapping the field's own column (a Series) to this level.
    same_as : tuple of str
        Registry fields that together carry exactly this level's information, when it is not a
        field itself (year and month of birth for ``year_month_of_birth``): what the level
        determines, and what determines it jointly.

    Examples
    --------
    >>> import synthetic
    >>> rung = synthetic.field("postcode").ladder[0]
    >>> type(rung).__name__, rung.name
    ('Rung', 'postcode_sector')
    """

    name: str
    column: str | None = None
    coarsen: Callable[[pd.Series], pd.Series] | None = None
    same_as: tuple[str, ...] = ()

    def apply(self, frame: pd.DataFrame, source: str) -> pd.Series:
        """Return this level for every row of ``frame``, given the field column ``source``."""
        if self.column is not None and self.column in frame.columns:
            return frame[self.column]
        if self.coarsen is not None and source in frame.columns:
            return self.coarsen(frame[source])
        need = [c for c in (self.column, source) if c]
        raise SyntheticError(
            f"Cannot generalise {source!r} to {self.name!r}: the frame needs one of the "
            f"columns {need}."
        )


@dataclass(frozen=True, slots=True)
class Field:
    """A column of the synthetic cohort.

    Parameters
    ----------
    name : str
        snake_case column name.
    dtype : str
        One of ``"category"``, ``"bool"``, ``"int8"``, ``"int16"``, ``"int32"``,
        ``"datetime64[ns]"``, ``"string"``.
    npd_item : str
        The NPD item it imitates (``[U]`` where the exact NPD column name is unverified).
    tier : int
        Least sensitive record-level tier that carries it (4, 2 or 1).
    role : Role
        Direct identifier, quasi-identifier or sensitive attribute.
    description : str
        One sentence.
    codes : tuple of str or None
        Fixed code list (category order) for categorical fields; None when the categories
        depend on the cohort (postcodes, LSOAs, names).
    ordered : bool
        Whether the categorical is ordered.
    ladder : tuple of Rung
        Generalisation ladder, finest first (quasi-identifiers only).
    determines : tuple of str
        Fields this one determines (true in England) besides its ladder's rungs, e.g. a
        postcode its LSOA; see :data:`DETERMINES`.
    guessed_by : str or None
        A field that usually holds this one's value, not always (the school's LA for the home
        LA): an intruder's best guess of it from an extract that lacks it.

    Examples
    --------
    >>> import synthetic
    >>> dob = synthetic.field("date_of_birth")
    >>> dob.role.value, dob.tier, dob.ladder_names
    ('quasi_identifier', 1, ('year_month_of_birth', 'year_of_birth'))
    """

    name: str
    dtype: str
    npd_item: str
    tier: int
    role: Role
    description: str
    codes: tuple[str, ...] | None = None
    ordered: bool = False
    ladder: tuple[Rung, ...] = dc_field(default=())
    determines: tuple[str, ...] = ()
    guessed_by: str | None = None

    @property
    def tiers(self) -> tuple[int, ...]:
        """Record-level tiers whose extracts contain this field."""
        return tuple(t for t in RECORD_TIERS if t <= self.tier)

    @property
    def ladder_names(self) -> tuple[str, ...]:
        """Names of the ladder rungs, finest first."""
        return tuple(r.name for r in self.ladder)

    def generalise(self, frame: pd.DataFrame, level: int | str) -> pd.Series:
        """Return this field coarsened to ``level`` (0 = as is, or a rung index or name)."""
        if level == 0 or level == self.name:
            return frame[self.name]
        if isinstance(level, str):
            names = self.ladder_names
            if level not in names:
                raise SyntheticError(
                    f"The 'level' parameter of Field.generalise for {self.name!r} must be one of "
                    f"{(self.name,) + names}. Got {level!r} instead."
                )
            level = names.index(level) + 1
        if not isinstance(level, (int, np.integer)) or not 0 <= level <= len(self.ladder):
            raise SyntheticError(
                f"The 'level' parameter of Field.generalise for {self.name!r} must be an int in "
                f"[0, {len(self.ladder)}]. Got {level!r} instead."
            )
        return self.ladder[level - 1].apply(frame, self.name)


# --------------------------------------------------------------------------------- code lists
_LA = local_authorities()
LA_CODES: tuple[str, ...] = tuple(sorted(_LA["la_code"]))
POSTCODE_AREAS: tuple[str, ...] = tuple(sorted(set(_LA["postcode_area"])))
_ETH = load_json("ethnicity.json")
ETHNIC_MINOR: tuple[str, ...] = tuple(_ETH["minor_share_pct"]["values"])
ETHNIC_MAJOR: tuple[str, ...] = ("WHIT", "MIXD", "ASIA", "BLAC", "CHIN", "AOEG", "UNCL")
ETHNIC_EXTENDED: tuple[str, ...] = tuple(
    dict.fromkeys(code for minor in ETHNIC_MINOR for code in _ETH["extended"]["values"][minor])
)
_LANG = load_json("language.json")
LANGUAGE_CODES: tuple[str, ...] = ("ENG", "ENB", "OTB", "NOT", "REF") + tuple(
    sorted({c for mix in _LANG["by_ethnicity"]["values"].values() for c in mix})
)
LANGUAGE_GROUPS: tuple[str, ...] = ("ENG", "OTH", "UNCL")
_CHAR = load_json("characteristics.json")
SEN_TYPES: tuple[str, ...] = tuple(_CHAR["sen_type"]["codes"])
EXCLUSION_REASONS: tuple[str, ...] = tuple(_CHAR["exclusions"]["reason_codes"])
PHASES: tuple[str, ...] = ("PS", "SS", "SP", "PR")

_Q = Role.QUASI_IDENTIFIER
_S = Role.SENSITIVE
_D = Role.DIRECT_IDENTIFIER
_TO_REGION = Rung("region", column="region")
_TO_LA = Rung("la_code", column="la_code")
_TO_HOME_REGION = Rung("home_region", column="home_region")

FIELDS: tuple[Field, ...] = (
    # ---------------------------------------------------------------- tier 4: non-sensitive
    Field(
        "pupil_id",
        "string",
        "PupilMatchingRefAnonymous",
        4,
        _D,
        "Pseudonymous pupil id (aPMR-like): unique within the extract, carries no information.",
    ),
    Field("sex", "category", "Gender", 4, _Q, "Legal sex, M or F.", codes=("M", "F")),
    Field("year_of_birth", "int16", "YearOfBirth", 4, _Q, "Calendar year of birth."),
    Field("month_of_birth", "int8", "MonthOfBirth", 4, _Q, "Calendar month of birth, 1-12."),
    Field(
        "nc_year",
        "category",
        "NCyearActual",
        4,
        _Q,
        "National Curriculum year group, R then 1-13 (31 August cut-off).",
        codes=NC_YEARS,
        ordered=True,
        ladder=(Rung("key_stage", coarsen=_key_stage),),
    ),
    Field(
        "urn",
        "int32",
        "URN",
        4,
        _Q,
        "School Unique Reference Number (6 digits).",
        ladder=(_TO_LA, _TO_REGION),
        determines=("laestab", "phase"),
    ),
    Field(
        "laestab",
        "int32",
        "LAESTAB",
        4,
        _Q,
        "LA number x 10000 + DfE establishment number.",
        ladder=(Rung("la_code", column="la_code", coarsen=_laestab_la), _TO_REGION),
        determines=("urn",),
    ),
    Field(
        "la_code",
        "category",
        "LEA",
        4,
        _Q,
        "3-digit DfE local authority number of the school.",
        codes=LA_CODES,
        ladder=(_TO_REGION,),
    ),
    Field("region", "category", "GOR [U]", 4, _Q, "Region of the school's LA.", codes=REGIONS),
    Field(
        "phase",
        "category",
        "Phase (census school phase) [U]",
        4,
        _Q,
        "School phase: PS primary, SS secondary, SP special, PR pupil referral unit / AP.",
        codes=PHASES,
    ),
    Field(
        "enrol_status",
        "category",
        "EnrolStatus",
        4,
        _Q,
        "C single registration, M main and S subsidiary dual registration.",
        codes=("C", "M", "S"),
    ),
    # ---------------------------------------------------------------- tier 2: sensitive
    Field(
        "lsoa",
        "category",
        "LLSOA",
        2,
        _Q,
        "Home Lower layer Super Output Area (synthetic code).",
        ladder=(Rung("home_la", column="home_la"), _TO_HOME_REGION),
        determines=("idaci_decile",),
    ),
    Field(
        "home_la",
        "category",
        "LA of residence (from the home postcode) [U]",
        2,
        _Q,
        "3-digit DfE number of the LA of the pupil's home (the LSOA's LA); not always the "
        "school's (la_code): some pupils cross an LA border to school.",
        codes=LA_CODES,
        ladder=(_TO_HOME_REGION,),
        guessed_by="la_code",
    ),
    Field(
        "home_region",
        "category",
        "Region of residence [U]",
        2,
        _Q,
        "Region of the home LA.",
        codes=REGIONS,
        guessed_by="region",
    ),
    Field(
        "idaci_decile",
        "int8",
        "IDACIDecile",
        2,
        _Q,
        "IDACI decile of the home LSOA, 1 = most deprived 10% of LSOAs.",
        ladder=(Rung("idaci_quintile", coarsen=_idaci_quintile),),
    ),
    Field(
        "postcode_sector",
        "category",
        "Postcode (sector) [U]",
        2,
        _Q,
        "Home postcode sector, e.g. 'LS6 2'.",
        ladder=(
            Rung("postcode_district", column="postcode_district", coarsen=_postcode_district),
            Rung("postcode_area", column="postcode_area", coarsen=_postcode_area),
        ),
    ),
    Field(
        "postcode_district",
        "category",
        "Postcode (district) [U]",
        2,
        _Q,
        "Home postcode district (outward code), e.g. 'LS6'.",
        ladder=(Rung("postcode_area", column="postcode_area", coarsen=_postcode_area),),
    ),
    Field(
        "postcode_area",
        "category",
        "Postcode (area) [U]",
        2,
        _Q,
        "Home postcode area, e.g. 'LS'.",
        codes=POSTCODE_AREAS,
    ),
    Field(
        "ethnic_group_minor",
        "category",
        "EthnicGroupMinor",
        2,
        _Q,
        "DfE 4-letter ethnicity code (18 groups + REFU/NOBT).",
        codes=ETHNIC_MINOR,
        ladder=(Rung("ethnic_group_major", column="ethnic_group_major"),),
    ),
    Field(
        "ethnic_group_major",
        "category",
        "EthnicGroupMajor",
        2,
        _Q,
        "Major ethnic group.",
        codes=ETHNIC_MAJOR,
    ),
    Field(
        "language_group",
        "category",
        "LanguageGroupMajor",
        2,
        _Q,
        "First language group: ENG English (or believed), OTH other than English, UNCL unknown.",
        codes=LANGUAGE_GROUPS,
        determines=("eal",),
    ),
    Field(
        "eal",
        "bool",
        "EAL (from LanguageGroup)",
        2,
        _Q,
        "English as an additional language: first language (believed) other than English.",
    ),
    Field(
        "fsm_eligible",
        "bool",
        "FSMeligible",
        2,
        _S,
        "Eligible for free school meals on census day.",
    ),
    Field(
        "ever_fsm_6",
        "bool",
        "EVERFSM_6",
        2,
        _S,
        "Eligible for free school meals at any census in the last 6 years.",
    ),
    Field(
        "sen_provision",
        "category",
        "SENprovision",
        2,
        _S,
        "SEN provision: N none, K SEN support, E EHC plan.",
        codes=("N", "K", "E"),
    ),
    # ---------------------------------------------------------------- tier 1: highly sensitive
    Field(
        "upn",
        "string",
        "UPN",
        1,
        _D,
        "Unique Pupil Number with a valid check letter; encodes issuing LA, school and year.",
    ),
    Field("forename", "category", "Forename [U]", 1, _D, "Legal forename (synthetic)."),
    Field("surname", "category", "Surname [U]", 1, _D, "Legal surname (synthetic)."),
    Field(
        "date_of_birth",
        "datetime64[ns]",
        "DOB",
        1,
        _Q,
        "Full date of birth, consistent with nc_year.",
        ladder=(
            Rung(
                "year_month_of_birth",
                coarsen=_year_month,
                same_as=("year_of_birth", "month_of_birth"),
            ),
            Rung("year_of_birth", column="year_of_birth", coarsen=_year),
        ),
        determines=("month_of_birth",),
    ),
    Field(
        "postcode",
        "category",
        "Postcode",
        1,
        _Q,
        "Full home unit postcode, e.g. 'LS6 2AB'.",
        ladder=(
            Rung("postcode_sector", column="postcode_sector", coarsen=_postcode_sector),
            Rung("postcode_district", column="postcode_district", coarsen=_postcode_district),
            Rung("postcode_area", column="postcode_area", coarsen=_postcode_area),
        ),
        determines=("lsoa",),
    ),
    Field(
        "ethnicity_extended",
        "category",
        "Ethnicity (extended code) [U]",
        1,
        _Q,
        "Extended DfE ethnicity code (rolls up to ethnic_group_minor).",
        codes=ETHNIC_EXTENDED,
        ladder=(
            Rung("ethnic_group_minor", column="ethnic_group_minor"),
            Rung("ethnic_group_major", column="ethnic_group_major"),
        ),
    ),
    Field(
        "first_language",
        "category",
        "Language (extended code) [U]",
        1,
        _Q,
        "First language code: ENG/ENB English (believed), OTB believed other, NOT/REF "
        "unknown, else an extended language code.",
        codes=LANGUAGE_CODES,
        ladder=(Rung("language_group", column="language_group"),),
    ),
    Field(
        "primary_sen_type",
        "category",
        "PrimarySENtype",
        1,
        _S,
        "Primary type of SEN need (missing when sen_provision is N).",
        codes=SEN_TYPES,
    ),
    Field(
        "looked_after",
        "bool",
        "CLA / in care indicator [U]",
        1,
        _S,
        "Child looked after by the local authority.",
    ),
    Field(
        "service_child",
        "bool",
        "Service child indicator [U]",
        1,
        _S,
        "Parent in the regular armed forces.",
    ),
    Field("disability", "bool", "Disability [U]", 1, _S, "Recorded disability."),
    Field(
        "suspensions",
        "int16",
        "Exclusions: FIXD count [U]",
        1,
        _S,
        "Number of suspensions (fixed-period exclusions) this school year.",
    ),
    Field(
        "permanent_exclusion",
        "bool",
        "Exclusions: PERM [U]",
        1,
        _S,
        "Permanently excluded this school year.",
    ),
    Field(
        "exclusion_reason",
        "category",
        "Exclusions: reason [U]",
        1,
        _S,
        "Reason for the permanent exclusion, else for the latest suspension; missing if none.",
        codes=EXCLUSION_REASONS,
    ),
    Field(
        "family_id",
        "string",
        "GroupID_SGAS",
        1,
        _D,
        "Pseudonymous family group id ('F' + 10 digits): the same for siblings in one home.",
    ),
    Field(
        "n_siblings",
        "int8",
        "NSiblings_SGAS",
        1,
        _Q,
        "Number of the pupil's siblings in the census (same family group).",
    ),
    Field(
        "birth_order",
        "int8",
        "BirthOrder_SGAS",
        1,
        _Q,
        "Rank of the pupil by date of birth among the siblings in the census, 1 = eldest.",
    ),
)

_BY_NAME = MappingProxyType({f.name: f for f in FIELDS})
#: Column names of the cohort, in registry order.
FIELD_NAMES: tuple[str, ...] = tuple(_BY_NAME)


def field(name: str) -> Field:
    """Return the registry entry for column ``name``.

    Raises
    ------
    SyntheticError
        If ``name`` is not a registered field (the message suggests the closest names).

    Examples
    --------
    >>> import synthetic
    >>> postcode = synthetic.field("postcode")
    >>> postcode.tier, postcode.role
    (1, <Role.QUASI_IDENTIFIER: 'quasi_identifier'>)
    """
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        import difflib

        close = difflib.get_close_matches(str(name), FIELD_NAMES, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise SyntheticError(f"Unknown field {name!r}.{hint}") from None


def _edges(f: Field) -> tuple[str, ...]:
    """The fields ``f`` determines directly: its ladder's rungs that are registry fields (the
    rung's column, else its name), then its ``determines``."""
    rungs = [r.column or r.name for r in f.ladder]
    return tuple(dict.fromkeys([n for n in rungs if n in _BY_NAME] + list(f.determines)))


#: The dependency graph: each field -> the fields it determines directly (``a -> b`` when a
#: value of ``a`` gives one value of ``b``, in England: unit postcode -> LSOA -> home LA -> home
#: region, postcode -> sector -> district -> area, LSOA -> IDACI decile, school (URN <-> LAESTAB)
#: -> LA -> region and -> phase, date of birth -> year and month of birth, extended ethnicity ->
#: minor -> major group, first language -> language group -> EAL). Derived from the ladders and
#: each field's ``determines``; the tests check every edge on a generated cohort.
DETERMINES: MappingProxyType = MappingProxyType({f.name: _edges(f) for f in FIELDS})

#: Best guesses: a field -> the field that usually (not always) holds its value, which an
#: intruder uses for it on an extract that lacks it (home LA -> the school's LA).
GUESSED_BY: MappingProxyType = MappingProxyType(
    {f.name: f.guessed_by for f in FIELDS if f.guessed_by}
)


def _check_graph() -> None:
    for name, targets in DETERMINES.items():
        unknown = [t for t in targets if t not in _BY_NAME]
        if unknown:  # pragma: no cover - a registry edit that names no field
            raise SyntheticError(f"Field {name!r} determines unknown fields {unknown}.")
    for name, proxy in GUESSED_BY.items():
        if proxy not in _BY_NAME:  # pragma: no cover
            raise SyntheticError(f"Field {name!r} is guessed by an unknown field {proxy!r}.")


_check_graph()


def determines(name: str) -> tuple[str, ...]:
    """The fields that field ``name`` determines directly (:data:`DETERMINES`).

    Raises
    ------
    SyntheticError
        If ``name`` is not a registered field.

    Examples
    --------
    >>> determines("postcode")
    ('postcode_sector', 'postcode_district', 'postcode_area', 'lsoa')
    """
    return DETERMINES[field(name).name]


def closure(fields: str | Iterable[str]) -> tuple[str, ...]:
    """Every field that ``fields`` determine, themselves included: the transitive closure of
    :data:`DETERMINES`, what an intruder who knows ``fields`` knows.

    The order is stable: each given field, then what it determines, breadth first, each field
    once. A name that is not a registry field (a column of a user's own file) determines only
    itself. :data:`GUESSED_BY` is not followed: a guess is not knowledge.

    Parameters
    ----------
    fields : str or iterable of str

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> closure(["sex", "date_of_birth"])
    ('sex', 'date_of_birth', 'year_of_birth', 'month_of_birth')
    >>> closure("urn")
    ('urn', 'la_code', 'region', 'laestab', 'phase')
    """
    names = [fields] if isinstance(fields, str) else list(fields)
    seen: dict[str, None] = {}
    for start in names:
        if start in seen:
            continue
        seen[start] = None
        queue = [start]
        while queue:
            nxt = []
            for name in queue:
                for target in DETERMINES.get(name, ()):
                    if target not in seen:
                        seen[target] = None
                        nxt.append(target)
            queue = nxt
    return tuple(seen)


def _check_tier(tier: object, func: str, allowed: tuple[int, ...] = RECORD_TIERS) -> int:
    if isinstance(tier, bool) or not isinstance(tier, (int, np.integer)) or tier not in allowed:
        raise SyntheticError(
            f"The 'tier' parameter of {func} must be one of {list(allowed)}. Got {tier!r} instead."
        )
    return int(tier)


def fields_for_tier(tier: int) -> tuple[Field, ...]:
    """Return the fields of a record-level tier extract (1, 2 or 4), in registry order."""
    tier = _check_tier(tier, "fields_for_tier")
    return tuple(f for f in FIELDS if f.tier >= tier)


def columns_for_tier(tier: int) -> tuple[str, ...]:
    """Return the column names of a record-level tier extract (1, 2 or 4).

    Examples
    --------
    >>> import synthetic
    >>> synthetic.columns_for_tier(4)
    ('pupil_id', 'sex', 'year_of_birth', 'month_of_birth', 'nc_year', 'urn', 'laestab', 'la_code', 'region', 'phase', 'enrol_status')
    """
    return tuple(f.name for f in fields_for_tier(tier))


def _by_role(role: Role, tier: int | None) -> tuple[str, ...]:
    pool = FIELDS if tier is None else fields_for_tier(tier)
    return tuple(f.name for f in pool if f.role is role)


def quasi_identifiers(tier: int | None = None) -> tuple[str, ...]:
    """Names of the quasi-identifiers (of one tier extract, or of the whole cohort).

    Examples
    --------
    >>> import synthetic
    >>> synthetic.quasi_identifiers(4)
    ('sex', 'year_of_birth', 'month_of_birth', 'nc_year', 'urn', 'laestab', 'la_code', 'region', 'phase', 'enrol_status')
    """
    return _by_role(Role.QUASI_IDENTIFIER, tier)


def sensitive_attributes(tier: int | None = None) -> tuple[str, ...]:
    """Names of the sensitive attributes (of one tier extract, or of the whole cohort).

    Examples
    --------
    >>> import synthetic
    >>> synthetic.sensitive_attributes(2)
    ('fsm_eligible', 'ever_fsm_6', 'sen_provision')
    """
    return _by_role(Role.SENSITIVE, tier)


def direct_identifiers(tier: int | None = None) -> tuple[str, ...]:
    """Names of the direct identifiers (of one tier extract, or of the whole cohort).

    Examples
    --------
    >>> import synthetic
    >>> synthetic.direct_identifiers()
    ('pupil_id', 'upn', 'forename', 'surname', 'family_id')
    """
    return _by_role(Role.DIRECT_IDENTIFIER, tier)


def pandas_dtype(f: Field):
    """Return the pandas dtype used for field ``f`` in a cohort or extract."""
    import pandas as pd

    if f.dtype == "category":
        if f.codes is None:
            return "category"
        return pd.CategoricalDtype(list(f.codes), ordered=f.ordered)
    if f.dtype == "string":
        return pd.StringDtype("pyarrow")
    return np.dtype(f.dtype)


def check_column_names(columns, known: Iterable[str], *, func: str) -> list[str]:
    """``columns`` (a name or a sequence of names) as a list, each one of ``known``: the
    validation of the ``columns`` parameter of :func:`generate_cohort` and
    :func:`generate_panel`, one :class:`SyntheticError` line naming it otherwise."""
    if isinstance(columns, str):
        columns = [columns]
    try:
        columns = list(columns)
    except TypeError:
        raise SyntheticError(
            f"The 'columns' parameter of {func} must be a sequence of column names. "
            f"Got {type(columns).__name__} instead."
        ) from None
    known = list(known)
    unknown = [c for c in columns if not isinstance(c, str) or c not in known]
    if unknown:
        raise SyntheticError(
            f"The 'columns' parameter of {func} names columns it does not have: "
            f"{unknown}. Known columns: {known}."
        )
    return columns
