"""Intruder knowledge as data: auxiliary tables an intruder could hold about pupils of a cohort.

An :class:`IntruderProfile` names what an intruder knows (cohort fields), whom they know it
about (``coverage``, pupil by pupil or whole classes at a time) and how wrong it is (an error
model whose rates are parameters). :func:`auxiliary_table` draws the table from a cohort:
vectorised numpy noise, seeded, deterministic, no loop over pupils. Each error changes the
value it touches (a nickname differs from the name, a former school from the current one), so
the share of values an error changes is its rate at every cohort size; wrong schools and homes
come from the other pupils of the cohort, in the LA, else the region (:data:`POOL_COLUMNS` for
schools, :data:`HOME_POOL_COLUMNS` for homes).
The hidden truth (``pupil_id``) is kept so that a linkage attack can be scored; an attack must
never link on it.

The four built-in profiles (:data:`PROFILES`) are illustrations, not measurements: no
published source gives error rates for what strangers know about children. Every rate is
documented with its source (for the two rates this project's data files hold) or its
rationale (an assumption, labelled as such), so a reader can change it and rerun.

:func:`linking_view` turns an auxiliary table and a tier extract into the fields both share:
each known field at the finest level the extract carries (a full date of birth becomes year
and month of birth against tiers 2 and 4, a postcode its sector against tier 2).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, replace
from dataclasses import field as dc_field

import numpy as np
import pandas as pd

from ._data import load_json
from ._rng import root_entropy, stream
from .exceptions import SyntheticError

__all__ = [
    "IntruderProfile",
    "PROFILES",
    "profile",
    "auxiliary_table",
    "linking_view",
    "COMPARISONS",
    "HOME_MOVE_RATE",
]

#: Families moving home per year (``panel.json`` ``home_move``: English Housing Survey order of
#: magnitude, about 1 in 10 households a year; status [U]).
HOME_MOVE_RATE: float = float(load_json("panel.json")["home_move"]["rate"])

#: Knowledge fields an intruder profile may hold.
KNOWABLE: tuple[str, ...] = (
    "forename",
    "surname",
    "surname_initial",
    "sex",
    "date_of_birth",
    "nc_year",
    "urn",
    "postcode",
    "postcode_district",
)

#: How each linking field is compared by a probabilistic attack
#: (``riskcalc.linkage_attack`` comparison kinds); fields not listed: exact.
COMPARISONS: dict[str, str] = {
    "forename": "name",
    "surname": "name",
    "date_of_birth": "date",
    "postcode": "postcode",
}

# a small table of common English nicknames (a rationale list written for this project, not
# copied from any source); other names shorten to their first four letters
_NICKNAMES = {
    "Alexander": "Alex",
    "Alexandra": "Alex",
    "Amelia": "Millie",
    "Benjamin": "Ben",
    "Charlotte": "Lottie",
    "Christopher": "Chris",
    "Daniel": "Dan",
    "Edward": "Ed",
    "Elizabeth": "Lizzie",
    "Eleanor": "Ellie",
    "Florence": "Flo",
    "Frederick": "Freddie",
    "Harrison": "Harry",
    "Henry": "Harry",
    "Isabella": "Bella",
    "Isabelle": "Izzy",
    "Jacob": "Jake",
    "James": "Jamie",
    "Jessica": "Jess",
    "Jonathan": "Jon",
    "Joseph": "Joe",
    "Joshua": "Josh",
    "Katherine": "Kate",
    "Matilda": "Tilly",
    "Matthew": "Matt",
    "Michael": "Mike",
    "Nathaniel": "Nate",
    "Nicholas": "Nick",
    "Oliver": "Ollie",
    "Olivia": "Liv",
    "Rebecca": "Becky",
    "Robert": "Rob",
    "Samuel": "Sam",
    "Samantha": "Sam",
    "Sebastian": "Seb",
    "Sophia": "Sophie",
    "Theodore": "Teddy",
    "Thomas": "Tom",
    "Victoria": "Tori",
    "William": "Will",
    "Zachary": "Zach",
}


@dataclass(frozen=True, slots=True)
class IntruderProfile:
    """What an intruder knows, about whom, and how wrong it is.

    Parameters
    ----------
    name : str
    description : str
    knows : tuple of str
        Fields held, from :data:`KNOWABLE` (cohort names, plus ``surname_initial``).
    coverage : float in (0, 1]
        Share of pupils (or, with ``by_class``, of school year groups) the intruder has a record
        on.
    by_class : bool
        Coverage is drawn by whole (school, year group) classes, as for a leaked class list.
    nickname_rate : float
        Share of forenames given as a nickname, which always differs from the forename
        (:func:`_nickname`: ``Thomas`` -> ``Tom``, longer names their first four letters,
        names of up to four letters a pet form such as ``Tom`` -> ``Tommie``).
    misspelling_rate : float
        Share of forenames and surnames with one typing error (a letter dropped, doubled or two
        letters swapped), drawn independently of the nickname (a nickname can be misspelt too).
    wrong_year_rate : float
        Share of dates of birth whose year is one off (the day and month kept).
    former_school_rate : float
        Share of school URNs that are out of date: a school other than the pupil's own, that of
        another pupil of the pupil's LA (by pupil numbers); of the region when every pupil of
        the LA is at that one school, of the whole cohort when the region has no other school.
    moved_rate : float
        Share of homes out of date after a move: every known postcode and postcode district
        changes. The old home is that of another pupil whose postcode district (or postcode,
        when the district is not known) differs from the pupil's: living in the same home LA,
        else the home region, else anywhere in the cohort (:data:`HOME_POOL_COLUMNS`).
    missing_rate : float
        Share of each known value absent (field by field, independently).

    Every rate is the share of the covered pupils' known values that the error changes, at any
    cohort size: a wrong value is always drawn among values that differ from the true one. The
    one exception is a cohort in which every pupil shares the value (a single school), where no
    other value exists; that value is kept.
    sources : dict of str to str
        Source or rationale of each rate.
    """

    name: str
    description: str
    knows: tuple[str, ...]
    coverage: float
    by_class: bool = False
    nickname_rate: float = 0.0
    misspelling_rate: float = 0.0
    wrong_year_rate: float = 0.0
    former_school_rate: float = 0.0
    moved_rate: float = 0.0
    missing_rate: float = 0.0
    sources: dict = dc_field(default_factory=dict, compare=False)

    def __post_init__(self):
        bad = [f for f in self.knows if f not in KNOWABLE]
        if not self.knows or bad:
            raise SyntheticError(
                f"The 'knows' parameter of IntruderProfile must name fields from {list(KNOWABLE)}. "
                f"Got {list(self.knows)!r} instead."
            )
        c = self.coverage
        if isinstance(c, bool) or not isinstance(c, numbers.Real) or not 0 < c <= 1:
            raise SyntheticError(
                f"The 'coverage' parameter of IntruderProfile must be a number in (0, 1]. "
                f"Got {c!r} instead."
            )
        for rate in (
            "nickname_rate",
            "misspelling_rate",
            "wrong_year_rate",
            "former_school_rate",
            "moved_rate",
            "missing_rate",
        ):
            v = getattr(self, rate)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 <= v <= 1:
                raise SyntheticError(
                    f"The {rate!r} parameter of IntruderProfile must be a number in [0, 1]. "
                    f"Got {v!r} instead."
                )

    def with_(self, **changes) -> IntruderProfile:
        """A copy with some parameters changed (e.g. ``coverage=0.5`` or no errors)."""
        return replace(self, **changes)

    def error_free(self) -> IntruderProfile:
        """The same knowledge without any error or missing value."""
        return replace(
            self,
            nickname_rate=0.0,
            misspelling_rate=0.0,
            wrong_year_rate=0.0,
            former_school_rate=0.0,
            moved_rate=0.0,
            missing_rate=0.0,
        )

    def to_dict(self) -> dict:
        """Parameters as a JSON-able dict (for provenance)."""
        return {
            "name": self.name,
            "knows": list(self.knows),
            "coverage": self.coverage,
            "by_class": self.by_class,
            "nickname_rate": self.nickname_rate,
            "misspelling_rate": self.misspelling_rate,
            "wrong_year_rate": self.wrong_year_rate,
            "former_school_rate": self.former_school_rate,
            "moved_rate": self.moved_rate,
            "missing_rate": self.missing_rate,
        }


_ASSUME = "assumption (no published rate): "
PROFILES: dict[str, IntruderProfile] = {
    p.name: p
    for p in (
        IntruderProfile(
            "social_media",
            "A public social-media profile: forename (often a nickname), birthday, sex, current or "
            "former school, home town (postcode district).",
            ("forename", "sex", "date_of_birth", "urn", "postcode_district"),
            coverage=0.10,
            nickname_rate=0.20,
            misspelling_rate=0.02,
            wrong_year_rate=0.10,
            former_school_rate=0.20,
            moved_rate=HOME_MOVE_RATE,
            missing_rate=0.10,
            sources={
                "coverage": _ASSUME
                + "a tenth of pupils with a findable public profile naming a school.",
                "nickname_rate": _ASSUME
                + "profiles use the name friends use; one in five differs from the legal forename.",
                "misspelling_rate": _ASSUME
                + "a typing error in one name in fifty, the order of keying error rates reported in record-linkage work.",
                "wrong_year_rate": _ASSUME
                + "children under 13 give an older age to join platforms; one in ten birth years off by one.",
                "former_school_rate": _ASSUME
                + "profiles not updated after the Year 6 to 7 transfer or a move; one in five schools out of date.",
                "moved_rate": "one year of home moves, panel.json home_move (English Housing Survey order of magnitude, [U]).",
                "missing_rate": _ASSUME + "one in ten fields not shown on a profile.",
            },
        ),
        IntruderProfile(
            "neighbourhood_register",
            "A household register (electoral roll, a residents' list): surname and full home postcode "
            "of each child's household, partly out of date after moves.",
            ("surname", "postcode"),
            coverage=0.30,
            misspelling_rate=0.01,
            moved_rate=min(1.0, 2 * HOME_MOVE_RATE),
            sources={
                "coverage": _ASSUME + "a third of households traceable in a public register.",
                "misspelling_rate": _ASSUME + "transcribed surnames, one error in a hundred.",
                "moved_rate": "two years of home moves at panel.json home_move (a register about two years old).",
            },
        ),
        IntruderProfile(
            "local_news",
            "A local news story or sports report: school, year group, sex and often the forename.",
            ("forename", "sex", "nc_year", "urn"),
            coverage=0.01,
            missing_rate=0.30,
            misspelling_rate=0.02,
            sources={
                "coverage": _ASSUME + "one pupil in a hundred named in local media in a year.",
                "missing_rate": _ASSUME
                + "three stories in ten give no name (the missing rate applies to every field).",
                "misspelling_rate": _ASSUME + "reporters' spelling of unusual names.",
            },
        ),
        IntruderProfile(
            "class_list",
            "A leaked class list: school, year group, forename and surname initial of every child in "
            "the class.",
            ("urn", "nc_year", "forename", "surname_initial"),
            coverage=0.05,
            by_class=True,
            nickname_rate=0.10,
            sources={
                "coverage": _ASSUME
                + "one school year group in twenty leaked (lists on a parents' group or a display).",
                "nickname_rate": _ASSUME
                + "class lists use the preferred name; one in ten differs.",
            },
        ),
    )
}


def profile(name: str) -> IntruderProfile:
    """Return the built-in profile ``name`` (one of :data:`PROFILES`)."""
    try:
        return PROFILES[name]
    except (KeyError, TypeError):
        raise SyntheticError(
            f"Unknown intruder profile {name!r}; known: {sorted(PROFILES)}."
        ) from None


# --------------------------------------------------------------------------------- noise
def _nickname(name: str) -> str:
    """The name a pupil goes by: always different from ``name``.

    The table :data:`_NICKNAMES` first (``Thomas`` -> ``Tom``); other names longer than four
    letters shorten to their first four (``Oscar`` -> ``Osca``); names of up to four letters
    take a pet form: a final vowel or ``y`` becomes ``s`` (``Ella`` -> ``Ells``, ``Lily`` ->
    ``Lils``), otherwise ``ie`` is added, doubling a single consonant after a vowel (``Tom`` ->
    ``Tommie``, ``Jack`` -> ``Jackie``). A rule written for this project, so that every name has
    a nickname and ``nickname_rate`` is the share of forenames that differ because of one.
    """
    if name in _NICKNAMES:
        nick = _NICKNAMES[name]
    elif len(name) > 4:
        nick = name[:4]
    elif name[-1:].lower() in ("a", "e", "i", "o", "u", "y") and len(name) > 2:
        nick = name[:-1] + "s"
    elif len(name) >= 2 and name[-2].lower() in "aeiou" and name[-1].lower() not in "aeiouhwxy":
        nick = name + name[-1] + "ie"
    else:
        nick = name + "ie"
    return nick if nick != name else name + "ie"


def _typos(names) -> np.ndarray:
    """Per name, three one-error spellings: a letter dropped, doubled, or two letters swapped;
    each differs from the name (a swap of two equal letters adds an ``e`` instead)."""
    out = []
    for name in names:
        mid = max(1, len(name) // 2)
        drop = name[:mid] + name[mid + 1 :] if len(name) > 2 else name + name[-1:]
        double = name[:mid] + name[mid] + name[mid:] if len(name) > 1 else name * 2
        swap = (
            name[: mid - 1] + name[mid] + name[mid - 1] + name[mid + 1 :]
            if len(name) > 2
            else name[::-1] + "e"
        )
        if swap == name:
            swap = name + "e"
        out.append((drop, double, swap))
    return np.asarray(out, dtype=object).reshape(len(out), 3)


def _noisy_names(s: pd.Series, rng, nickname_rate: float, misspelling_rate: float) -> pd.Series:
    """Nicknames and typing errors, drawn independently: a share ``nickname_rate`` of the known
    names is given as the nickname, a share ``misspelling_rate`` has one typing error (of the
    nickname, when there is one). Each error changes the value; the loop is over names, not
    pupils."""
    s = s.astype("category") if not isinstance(s.dtype, pd.CategoricalDtype) else s
    codes = s.cat.codes.to_numpy()
    cats = [str(c) for c in s.cat.categories]
    names = np.asarray(cats, dtype=object)
    values = names[np.maximum(codes, 0)]
    u_nick = rng.random(len(s))
    u_typo = rng.random(len(s))
    which = rng.integers(0, 3, len(s))
    if nickname_rate > 0 or misspelling_rate > 0:
        known = codes >= 0
        c = np.maximum(codes, 0)
        nick = np.asarray([_nickname(n) for n in cats], dtype=object)
        typo = _typos(cats)
        nick_typo = _typos(nick)
        # a typing error in a nickname that happens to spell the legal name would undo both
        nick_typo = np.where(nick_typo == names[:, None], nick_typo + "e", nick_typo)
        is_nick = (u_nick < nickname_rate) & known
        is_typo = (u_typo < misspelling_rate) & known
        values = np.where(is_nick, nick[c], values)
        values = np.where(is_typo & ~is_nick, typo[c, which], values)
        values = np.where(is_typo & is_nick, nick_typo[c, which], values)
    values = np.where(codes >= 0, values, None)
    return pd.Series(pd.Categorical(values), index=s.index, name=s.name)


def _codes_of(s: pd.Series) -> np.ndarray:
    """Integer codes of a column (-1 where missing)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy().astype(np.int64)
    return pd.factorize(s, use_na_sentinel=True)[0].astype(np.int64)


def _different_donors(
    value: np.ndarray, levels: list[np.ndarray], targets: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """For each target row, a random other row whose value differs from the target's own.

    ``value`` holds integer codes over the whole cohort (-1 missing: never a donor); ``levels``
    are nested group codes, narrowest first (LA, region; the whole cohort is added last);
    ``targets`` are the rows that need a wrong value and ``u`` one uniform draw per target.
    The donor is drawn uniformly among the pupils of the target's group at the narrowest level
    that holds a known value different from the target's (so by pupil numbers, among values
    that differ). Returns donor rows, -1 where no other value exists anywhere (a cohort whose
    every pupil shares the value) or the target's own value is missing. Vectorised: one sort
    per level, no loop over pupils.
    """
    donor = np.full(len(targets), -1, dtype=np.int64)
    todo = np.flatnonzero(value[targets] >= 0)
    known = np.flatnonzero(value >= 0)
    n_values = int(value.max(initial=-1)) + 1
    for group in [*levels, np.zeros(len(value), dtype=np.int64)]:
        if not len(todo):
            break
        g_pool, v_pool = group[known], value[known]
        order = np.lexsort((v_pool, g_pool))
        key = g_pool[order] * n_values + v_pool[order]
        rows = targets[todo]
        g, v = group[rows], value[rows]
        g_start = np.searchsorted(key, g * n_values, side="left")
        g_end = np.searchsorted(key, (g + 1) * n_values, side="left")
        v_start = np.searchsorted(key, g * n_values + v, side="left")
        own = np.searchsorted(key, g * n_values + v, side="right") - v_start
        available = g_end - g_start - own
        ok = available > 0
        k = np.minimum((u[todo] * available).astype(np.int64), np.maximum(available - 1, 0))
        idx = g_start + k + np.where(k >= v_start - g_start, own, 0)
        donor[todo[ok]] = known[order[idx[ok]]]
        todo = todo[~ok]
    return donor


def _replace_from(
    s: pd.Series, changed: np.ndarray, donor: np.ndarray, source: pd.Series
) -> pd.Series:
    """``s`` (the covered pupils' values) with ``changed`` positions taken from the cohort rows
    ``donor`` of ``source`` (the same column over the whole cohort)."""
    use = changed & (donor >= 0)
    if not use.any():
        return s
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy().copy()
        codes[use] = source.cat.codes.to_numpy()[donor[use]]
        return pd.Series(
            pd.Categorical.from_codes(codes, dtype=s.dtype), index=s.index, name=s.name
        )
    values = s.to_numpy().copy()
    values[use] = source.to_numpy()[donor[use]]
    return pd.Series(values, index=s.index, name=s.name).astype(s.dtype)


def _with_missing(s: pd.Series, mask: np.ndarray) -> pd.Series:
    if not mask.any():
        return s
    if pd.api.types.is_integer_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype("Int64")
    return s.mask(mask)


#: Where a wrong school is drawn from, narrowest first: the school's LA, then its region; the
#: whole cohort is the last resort (:func:`_different_donors`).
POOL_COLUMNS: tuple[str, ...] = ("la_code", "region")
#: Where an old home is drawn from: the home's LA, then its region (a family that moves mostly
#: stays near; a pupil who crosses an LA border to school moved near its home, not its school).
#: A cohort without the home columns falls back to :data:`POOL_COLUMNS`.
HOME_POOL_COLUMNS: tuple[str, ...] = ("home_la", "home_region")


def _pool_levels(cohort: pd.DataFrame, columns: tuple[str, ...] = POOL_COLUMNS) -> list[np.ndarray]:
    if not all(c in cohort.columns for c in columns):
        columns = POOL_COLUMNS
    return [_codes_of(cohort[c]) for c in columns if c in cohort.columns]


def auxiliary_table(
    cohort: pd.DataFrame,
    intruder: IntruderProfile | str,
    *,
    rng: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Draw an intruder's auxiliary table from a cohort.

    Parameters
    ----------
    cohort : pandas.DataFrame
        A frame from :func:`synthetic.generate_cohort` (it needs ``pupil_id``, ``la_code`` and
        the fields the profile knows; ``surname_initial`` is derived from ``surname``).
    intruder : IntruderProfile or str
        A profile or the name of a built-in one.
    rng : int, Generator or None, default 0
        Seed. Each step draws from its own child stream, so the same seed, cohort and profile
        give a byte-identical table, and changing one rate does not move the other draws.

    Returns
    -------
    pandas.DataFrame
        One row per covered pupil, in cohort order: ``pupil_id`` (the hidden truth, for
        scoring only), then the known fields with the profile's errors.
        ``attrs["synthetic"]`` records the cohort's provenance, the profile and the seed.
    """
    if not isinstance(cohort, pd.DataFrame):
        raise SyntheticError(
            "The 'cohort' parameter of auxiliary_table must be a pandas DataFrame from "
            f"generate_cohort. Got {type(cohort).__name__} instead."
        )
    p = profile(intruder) if isinstance(intruder, str) else intruder
    if not isinstance(p, IntruderProfile):
        raise SyntheticError(
            "The 'intruder' parameter of auxiliary_table must be an IntruderProfile or a profile "
            f"name. Got {type(intruder).__name__} instead."
        )
    need = ["pupil_id", "la_code"] + [("surname" if f == "surname_initial" else f) for f in p.knows]
    if p.by_class:
        need += ["urn", "nc_year"]
    missing = [c for c in dict.fromkeys(need) if c not in cohort.columns]
    if missing:
        raise SyntheticError(f"The cohort passed to auxiliary_table lacks the columns {missing}.")
    root = root_entropy(rng, func="auxiliary_table")
    n = len(cohort)
    # ---- coverage: pupils, or whole (school, year group) classes
    r_cov = stream(root, "intruder:coverage")
    if p.by_class:
        cls, _ = pd.factorize(
            pd.MultiIndex.from_arrays([cohort["urn"].to_numpy(), cohort["nc_year"].to_numpy()])
        )
        keep = (r_cov.random(int(cls.max(initial=-1)) + 1) < p.coverage)[cls]
    else:
        keep = r_cov.random(n) < p.coverage
    rows = np.flatnonzero(keep)
    base = cohort.iloc[rows].reset_index(drop=True)
    m = len(base)
    out: dict[str, pd.Series] = {"pupil_id": base["pupil_id"]}
    levels = _pool_levels(cohort)
    # moves: one draw per record, shared by postcode and district (a move changes both): the
    # home of another pupil whose coarsest known home field differs (so every known home field
    # is out of date)
    r_move = stream(root, "intruder:moved")
    moved = r_move.random(m) < p.moved_rate
    u_move = r_move.random(m)
    home_fields = [f for f in ("postcode_district", "postcode") if f in p.knows]
    if home_fields and moved.any():
        home_donor = np.full(m, -1, dtype=np.int64)
        home_donor[moved] = _different_donors(
            _codes_of(cohort[home_fields[0]]),
            _pool_levels(cohort, HOME_POOL_COLUMNS),
            rows[moved],
            u_move[moved],
        )
    for f in p.knows:
        r = stream(root, f"intruder:{f}")
        if f in ("forename", "surname"):
            s = _noisy_names(
                base[f], r, p.nickname_rate if f == "forename" else 0.0, p.misspelling_rate
            )
        elif f == "surname_initial":
            s = pd.Series(
                pd.Categorical(base["surname"].astype(str).str[:1].where(base["surname"].notna())),
                name=f,
            )
        elif f == "date_of_birth":
            s = base[f].copy()
            wrong = (r.random(m) < p.wrong_year_rate) & s.notna().to_numpy()
            step = np.where(r.random(m) < 0.5, -1, 1)
            if wrong.any():
                sub = s[wrong]
                y = sub.dt.year.to_numpy() + step[wrong]
                mo = sub.dt.month.to_numpy()
                d = sub.dt.day.to_numpy()
                d = np.where((mo == 2) & (d == 29) & ~_leap(y), 28, d)  # 29 Feb in a common year
                vals = s.to_numpy().copy()
                vals[wrong] = pd.to_datetime(
                    pd.DataFrame({"year": y, "month": mo, "day": d})
                ).to_numpy()
                s = pd.Series(vals, name=f).astype(base[f].dtype)
        elif f == "urn":
            former = r.random(m) < p.former_school_rate
            u = r.random(m)
            donor = np.full(m, -1, dtype=np.int64)
            if former.any():
                donor[former] = _different_donors(
                    _codes_of(cohort[f]), levels, rows[former], u[former]
                )
            s = _replace_from(base[f], former, donor, cohort[f])
        elif f in ("postcode", "postcode_district"):
            s = _replace_from(base[f], moved, home_donor, cohort[f]) if moved.any() else base[f]
        else:
            s = base[f]
        if p.missing_rate > 0:
            s = _with_missing(s, stream(root, f"intruder:missing:{f}").random(m) < p.missing_rate)
        out[f] = s.reset_index(drop=True).rename(f)
    frame = pd.DataFrame(out)
    frame.attrs = {
        "synthetic": {
            **cohort.attrs.get("synthetic", {}),
            "intruder": p.to_dict(),
            "intruder_seed": root,
        }
    }
    return frame


def _leap(years: np.ndarray) -> np.ndarray:
    return ((years % 4 == 0) & (years % 100 != 0)) | (years % 400 == 0)


# --------------------------------------------------------------------------------- linking
_LEVELS: dict[str, tuple[tuple[str, ...], ...]] = {
    "date_of_birth": (("date_of_birth",), ("year_of_birth", "month_of_birth"), ("year_of_birth",)),
    "postcode": (("postcode",), ("postcode_sector",), ("postcode_district",), ("postcode_area",)),
    "postcode_district": (("postcode_district",), ("postcode_area",)),
    "surname_initial": (("surname_initial",),),
}


def _derive(aux: pd.DataFrame, src: str, col: str) -> pd.Series:
    s = aux[src]
    if src == col:
        return s
    if src == "date_of_birth":
        vals = s.dt.year if col == "year_of_birth" else s.dt.month
        return vals.astype("Int64")
    text = s.astype(object)
    ok = s.notna().to_numpy()
    t = text.where(ok, "").astype(str)
    if col == "postcode_sector":
        v = t.str[:-2]
    elif col == "postcode_district":
        v = t.str.split(" ").str[0]
    else:  # postcode_area
        v = t.str.split(" ").str[0].str.extract(r"^([A-Z]+)", expand=False)
    return pd.Series(pd.Categorical(v.where(ok)), index=s.index, name=col)


def linking_view(
    auxiliary: pd.DataFrame,
    extract: pd.DataFrame,
) -> tuple[tuple[str, ...], pd.DataFrame, pd.DataFrame]:
    """The fields an auxiliary table and an extract share, and both tables cut to them.

    Each known field is taken at the finest level the extract carries (:data:`_LEVELS`: a date
    of birth as itself, else year and month of birth, else year; a postcode as itself, else
    its sector, district or area). ``surname_initial`` is derived on the extract side from
    ``surname`` when the extract has names. Fields the extract lacks at every level are
    dropped.

    Returns
    -------
    fields : tuple of str
    auxiliary : pandas.DataFrame
        ``pupil_id`` and the fields.
    extract : pandas.DataFrame
        The extract with ``surname_initial`` added when it is a linking field.
    """
    fields: list[str] = []
    aux_cols: dict[str, pd.Series] = {"pupil_id": auxiliary["pupil_id"]}
    ext = extract
    cols = set(extract.columns) | ({"surname_initial"} if "surname" in extract.columns else set())
    for f in auxiliary.columns:
        if f == "pupil_id":
            continue
        for level in _LEVELS.get(f, ((f,),)):
            if all(c in cols for c in level):
                for c in level:
                    if c not in fields:
                        fields.append(c)
                        aux_cols[c] = _derive(auxiliary, f, c)
                break
    if "surname_initial" in fields and "surname_initial" not in extract.columns:
        ext = extract.copy()
        sur = extract["surname"]
        ext["surname_initial"] = pd.Categorical(sur.astype(str).str[:1].where(sur.notna()))
    return tuple(fields), pd.DataFrame(aux_cols), ext
