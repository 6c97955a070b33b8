"""Vectorised per-field samplers for one LA chunk.

Every sampler has the signature ``sampler(rng, chunk) -> dict[column, array]``: ``rng`` is the
field's own child stream for this LA (see :mod:`synthetic._rng`) and ``chunk`` holds the
columns generated so far (internal integer codes, aligned to the chunk's rows). Samplers run in
the order of :data:`SAMPLERS`; a sampler may read only columns produced before it. No sampler
loops over pupils; loops run over code lists or school types.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._data import load_json
from ._families import FAMILY_CFG, family_rank, form_families
from ._geography import INWARD, la_geography, region_homes
from ._plan import N_YEARS, Plan, birth_days, name_table
from ._sort import stable_argsort_int
from .schema import (
    ETHNIC_EXTENDED,
    ETHNIC_MAJOR,
    ETHNIC_MINOR,
    EXCLUSION_REASONS,
    LANGUAGE_CODES,
    PHASES,
    SEN_TYPES,
)
from .upn import upn_check_letters

__all__ = ["SAMPLERS", "SAMPLER_COLUMNS", "Chunk", "LocalCategorical", "samplers_for"]

_SCHOOLS = load_json("schools.json")
_GEO = load_json("geography.json")
_ETH = load_json("ethnicity.json")
_LANG = load_json("language.json")
_CHAR = load_json("characteristics.json")
_NAMES = load_json("names.json")

PS, SS, SP, PR = range(4)
N_, K_, E_ = range(3)


@dataclass(slots=True)
class Chunk:
    """One LA's pupils while they are being generated."""

    plan: Plan
    la: int  # row of the LA table
    n: int = 0
    school: np.ndarray | None = None  # local school index per pupil
    cols: dict = field(default_factory=dict)
    aux: dict = field(default_factory=dict)  # per-LA intermediate arrays (not output)

    @property
    def school_slice(self) -> slice:
        return slice(
            int(self.plan.la_school_start[self.la]), int(self.plan.la_school_stop[self.la])
        )

    def school_attr(self, name: str) -> np.ndarray:
        """Per-school array of the plan for this LA's schools."""
        return getattr(self.plan, f"school_{name}")[self.school_slice]


def _cum(p) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    c = np.cumsum(p)
    return c / c[-1]


def _pick(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Categorical draw: index i with probability cum[i] - cum[i-1]."""
    return np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)


def _pick_in_range(cw: np.ndarray, lo: np.ndarray, hi: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Weighted draw of an index in [lo, hi) given cumulative weights ``cw`` (len m + 1)."""
    target = cw[lo] + u * (cw[hi] - cw[lo])
    idx = np.searchsorted(cw, target, side="right") - 1
    return np.clip(idx, lo, hi - 1)


def _shared(chunk: Chunk, u: np.ndarray) -> np.ndarray:
    """Give every pupil its family's draw (the eldest's), so siblings share the outcome."""
    fam = chunk.aux.get("family")
    return u if fam is None else u[fam.root]


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# ------------------------------------------------------------------------------ structure
_YEAR_W = _SCHOOLS["year_weights"]


def _year_probs(phase: np.ndarray, sixth: np.ndarray) -> np.ndarray:
    table = {
        (PS, False): _YEAR_W["PS"],
        (PS, True): _YEAR_W["PS"],
        (SS, False): _YEAR_W["SS_no_sixth"],
        (SS, True): _YEAR_W["SS_sixth"],
        (SP, False): _YEAR_W["SP"],
        (SP, True): _YEAR_W["SP"],
        (PR, False): _YEAR_W["PR"],
        (PR, True): _YEAR_W["PR"],
    }
    out = np.empty((len(phase), N_YEARS))
    for (ph, sx), w in table.items():
        m = (phase == ph) & (sixth == sx)
        out[m] = np.asarray(w, float) / np.sum(w)
    return out


def sample_structure(rng: np.random.Generator, chunk: Chunk) -> dict:
    """Pupils in schools by year group (multinomial per school); school-level columns."""
    size = chunk.school_attr("size")
    phase = chunk.school_attr("phase")
    probs = _year_probs(phase, chunk.school_attr("sixth"))
    counts = rng.multinomial(size, probs)
    n_s = len(size)
    school = np.repeat(np.repeat(np.arange(n_s, dtype=np.int32), N_YEARS), counts.ravel())
    year = np.repeat(np.tile(np.arange(N_YEARS, dtype=np.int8), n_s), counts.ravel())
    chunk.school = school
    chunk.n = len(school)
    return school_columns(chunk, school, year, phase)


def school_columns(chunk: Chunk, school: np.ndarray, year: np.ndarray, phase: np.ndarray) -> dict:
    """The school-level columns of the pupils of a chunk, from their school and year group."""
    plan = chunk.plan
    return {
        "nc_year": year,
        "urn": chunk.school_attr("urn")[school],
        "laestab": chunk.school_attr("laestab")[school],
        "la_code": np.full(len(school), plan.la_code_idx[chunk.la], dtype=np.int16),
        "region": np.full(len(school), plan.la_region_idx[chunk.la], dtype=np.int8),
        "phase": phase[school].astype(np.int8),
    }


def sample_sex(rng: np.random.Generator, chunk: Chunk) -> dict:
    share = np.array([_SCHOOLS["male_share"][p] for p in PHASES])
    male = rng.random(chunk.n) < share[chunk.cols["phase"]]
    return {"sex": np.where(male, 0, 1).astype(np.int8)}


def sample_date_of_birth(rng: np.random.Generator, chunk: Chunk) -> dict:
    days, cum, bounds = birth_days(chunk.plan.academic_year)
    year = chunk.cols["nc_year"]
    idx = _pick_in_range(cum, bounds[year, 0], bounds[year, 1], rng.random(chunk.n))
    dob = days[idx]
    y = dob.astype("datetime64[Y]").astype(np.int64) + 1970
    m = dob.astype("datetime64[M]").astype(np.int64) % 12 + 1
    return {
        "date_of_birth": dob,
        "year_of_birth": y.astype(np.int16),
        "month_of_birth": m.astype(np.int8),
    }


def sample_enrol_status(rng: np.random.Generator, chunk: Chunk) -> dict:
    cfg = _SCHOOLS["enrol_status"]
    out = np.zeros(chunk.n, dtype=np.int8)
    u = rng.random(chunk.n)
    phase = chunk.cols["phase"]
    for p, name in enumerate(PHASES):
        m = phase == p
        out[m] = _pick(_cum(cfg[name]), u[m])
    return {"enrol_status": out}


# ------------------------------------------------------------------------------ geography
_INWARD = INWARD  # the panel's labels read it here


@dataclass(slots=True)
class LocalCategorical:
    """Codes into categories that exist only in this chunk (postcodes, LSOAs, sectors...).

    ``keys`` (int64, one per category) number the categories across England (a postcode's
    key is the same in every chunk, :mod:`synthetic._geography`): chunks whose pupils live in
    the same LA share categories, which the cohort keeps once, in key order
    (:meth:`synthetic._parallel.ColumnStore.finish_categories`).
    """

    codes: np.ndarray
    categories: np.ndarray  # object: the labels, str
    keys: np.ndarray


def _unique_codes(idx: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(idx, return_inverse=True)`` for ints in ``[0, size)``, without a sort: the
    values present (ascending, int64) and each element's rank among them (int32), from a
    presence table and its running count."""
    present = np.zeros(size, dtype=bool)
    present[idx] = True
    rank = np.cumsum(present, dtype=np.int32) - 1
    return np.flatnonzero(present), rank[idx]


def _local_categorical(
    n: int,
    own_rows,
    own_local: np.ndarray,
    n_own: int,
    own_offset: int,
    own_labels,
    away_rows=None,
    away_value=None,
    away_key=None,
    away_labels=None,
) -> LocalCategorical:
    """The chunk's categorical of one geography level (postcode, sector, district, LSOA).

    ``own_local`` numbers the level in the chunk's LA for the pupils living there (rows
    ``own_rows``, None for all; keys ``own_offset`` + number, labels ``own_labels(numbers)``);
    ``away_value`` identifies it for the others (rows ``away_rows``; keys
    ``away_key(values)``, labels ``away_labels(values)``, both increasing with the value).
    Categories: the chunk LA's used values, ascending, then the others', by key."""
    used, inv = _unique_codes(own_local, n_own)
    labels = np.asarray(own_labels(used), dtype=object)
    keys = used + own_offset
    if away_rows is None or not len(away_rows):
        return LocalCategorical(inv, labels, keys)
    used_away, inv_away = np.unique(away_value, return_inverse=True)
    codes = np.empty(n, dtype=np.int32)
    codes[own_rows] = inv
    codes[away_rows] = len(used) + inv_away
    return LocalCategorical(
        codes,
        np.concatenate([labels, np.asarray(away_labels(used_away), dtype=object)]),
        np.concatenate([keys, away_key(used_away)]),
    )


_CROSS = _GEO["cross_border"]


def _cross_border_rates(plan: Plan, la: int) -> np.ndarray:
    """Share of the LA's pupils living in another LA, by phase (``geography.json``)."""
    from ._data import REGIONS

    rates = _CROSS.get(REGIONS[int(plan.la_region_idx[la])], _CROSS["default"])
    return np.array([rates[p] for p in PHASES])


def _other_las(plan: Plan, la: int) -> tuple[np.ndarray, np.ndarray]:
    """The LAs a pupil of LA ``la`` may live in instead: the region's other LAs with pupils,
    and their cumulative weights (their pupils)."""
    region = plan.la_region_idx
    cand = np.flatnonzero(
        (region == region[la]) & (plan.la_pupils > 0) & (np.arange(len(region)) != la)
    )
    return cand, _cum(plan.la_pupils[cand]) if len(cand) else np.zeros(0)


def family_rates(rates: np.ndarray, phase: np.ndarray, eldest: np.ndarray) -> np.ndarray:
    """The share of families living in another LA, by the phase of their eldest pupil, such
    that the expected share of the pupils of each phase is ``rates[phase]``.

    Siblings share a home, so a primary pupil whose eldest sibling is at secondary school lives
    where that family lives. With ``N[p, q]`` the pupils of phase ``p`` whose eldest is of phase
    ``q``, the family shares ``x`` solve ``N x = rates * N.sum(axis=1)`` (least squares,
    clipped to [0, 1]; a phase with no eldest pupil gets 0).
    """
    k = len(PHASES)
    counts = (
        np.bincount(phase.astype(np.int64) * k + eldest, minlength=k * k)
        .reshape(k, k)
        .astype(float)
    )
    x = np.linalg.lstsq(counts, rates * counts.sum(axis=1), rcond=None)[0]
    return np.clip(x, 0.0, 1.0)


def cross_border_homes(plan: Plan, la: int, fam, phase: np.ndarray):
    """Homes in other LAs: each family (siblings share a home) lives in another LA of the
    region, with a share set by its eldest pupil's phase so that each phase's share is the one
    of ``geography.json`` (``cross_border``; :func:`family_rates`), at a postcode of that LA
    drawn where its own pupils of the eldest's phase live (:class:`~synthetic._geography.Geography`,
    ``home_w``). Draws come from the stream ``(seed, "home_la", la_code)``: one
    uniform per pupil, then two per family living elsewhere (its eldest's).

    Returns ``(rows, home, pos, homes)``: the pupils living in another LA, their LA (rows of
    the LA table), their postcode's position in the region's
    :class:`~synthetic._geography.RegionHomes` ``homes``; None when no pupil does.
    """
    from ._rng import stream

    n = len(phase)
    cand, cum = _other_las(plan, la)
    if not len(cand):
        return None
    rng = stream(plan.root, "home_la", int(plan.la_code[la]))
    root = fam.root
    eldest = phase[root]
    rate = family_rates(_cross_border_rates(plan, la), phase, eldest)
    away_root = np.flatnonzero((rng.random(n) < rate[eldest]) & (root == np.arange(n)))
    if not len(away_root):
        return None
    u_la, u_pc = rng.random(len(away_root)), rng.random(len(away_root))
    homes = region_homes(plan, int(plan.la_region_idx[la]))
    dest = cand[_pick(cum, u_la)]
    pos = homes.pick(dest, eldest[away_root], u_pc)
    # every pupil of those families: its eldest's draws
    of_root = np.full(n, -1, dtype=np.int64)
    of_root[away_root] = np.arange(len(away_root))
    which = of_root[root]
    rows = np.flatnonzero(which >= 0)
    return rows, dest[which[rows]], pos[which[rows]], homes


def sample_geography(rng: np.random.Generator, chunk: Chunk) -> dict:
    """Home postcode (unit, sector, district, area), LSOA, IDACI decile and home LA / region.

    Inside the LA (:func:`synthetic._geography.la_geography`): districts > sectors > LSOAs >
    postcodes, contiguous blocks; postcode weights are gamma distributed. Each school sits in a
    sector; its pupils live in that sector, its district or anywhere in the LA with the
    catchment shares of ``geography.json``; then some families live in another LA of the region
    instead (:func:`cross_border_homes`; not when ``chunk.aux["cross_border"]`` is false, as in
    the panel, whose homes stay in the school's LA at the first census).
    """
    plan, la = chunk.plan, chunk.la
    n = chunk.n
    geo = la_geography(plan, la)
    n_pc = geo.n_pc
    pc_sec, sec_dis, cw = geo.pc_sec, geo.sec_dis, geo.cw
    sec_lo, sec_hi, dis_lo, dis_hi = geo.sec_lo, geo.sec_hi, geo.dis_lo, geo.dis_hi
    school_sec = geo.school_sector
    # each pupil's catchment scope
    phase = chunk.cols["phase"]
    scope_u = rng.random(n)
    sec = school_sec[chunk.school]
    lo = np.zeros(n, dtype=np.int64)
    hi = np.full(n, n_pc, dtype=np.int64)
    for p, name in enumerate(PHASES):
        c = _GEO["catchment"][name]
        m = phase == p
        in_sec = m & (scope_u < c["sector"])
        in_dis = m & (scope_u >= c["sector"]) & (scope_u < c["sector"] + c["district"])
        lo[in_sec], hi[in_sec] = sec_lo[sec[in_sec]], sec_hi[sec[in_sec]]
        d = sec_dis[sec[in_dis]]
        lo[in_dis], hi[in_dis] = dis_lo[d], dis_hi[d]
    pc = _pick_in_range(cw, lo, hi, rng.random(n))
    # households: twins and sibling chains within the home sector; siblings share the eldest's home
    from ._rng import stream

    vyear = chunk.aux.get("vyear", chunk.cols["nc_year"])
    fam = form_families(
        stream(plan.root, "family", int(plan.la_code[la])),
        school=chunk.school,
        vyear=vyear,
        sector=pc_sec[pc],
        entry=chunk.aux.get("entry_step"),
    )
    pc = pc[fam.root]
    chunk.aux["family"] = fam
    chunk.aux["pc"] = pc
    chunk.aux["geo"] = geo.aux()
    twins = fam.twin_of >= 0
    dob_cols = {
        k: chunk.cols[k].copy() for k in ("date_of_birth", "year_of_birth", "month_of_birth")
    }
    for _k, col in dob_cols.items():
        col[twins] = col[fam.twin_of[twins]]
    # cross-border attendance: some families live in another LA of the region
    away = cross_border_homes(plan, la, fam, phase) if chunk.aux.get("cross_border", True) else None
    home = np.full(n, la, dtype=np.int64)
    if away is None:
        rows = None
        own_pc = pc
        levels = {}
    else:
        rows, home_away, pos, homes = away
        home[rows] = home_away
        own = np.ones(n, dtype=bool)
        own[rows] = False
        own_pc = pc[own]
        rows_own = np.flatnonzero(own)
        sec_pos = homes.pc_sec[pos]
        levels = {
            "postcode": (pos, homes.pc_key.__getitem__, homes.postcode_labels),
            "postcode_sector": (sec_pos, homes.sec_key.__getitem__, homes.sec_label.__getitem__),
            "postcode_district": (
                homes.sec_dis[sec_pos],
                homes.dis_key.__getitem__,
                homes.dis_label.__getitem__,
            ),
            "lsoa": (homes.pc_lsoa_key[pos], lambda k: k, _lsoa_labels),
        }
    own_sec = pc_sec[own_pc]
    own_lsoa = geo.pc_lsoa[own_pc]

    def categorical(name, local, size, offset, labels):
        if rows is None:
            return _local_categorical(n, None, local, size, offset, labels)
        value, key, away_labels = levels[name]
        return _local_categorical(
            n, rows_own, local, size, offset, labels, rows, value, key, away_labels
        )

    lsoa_offset = int(plan.la_lsoa_offset[la])
    lsoa = categorical(
        "lsoa",
        own_lsoa,
        int(plan.la_n_lsoa[la]),
        lsoa_offset,
        lambda used: _lsoa_labels(used + lsoa_offset),
    )
    decile = geo.decile[own_lsoa]
    if rows is not None:
        decile = np.empty(n, dtype=np.int8)
        decile[rows_own] = geo.decile[own_lsoa]
        decile[rows] = homes.pc_decile[pos]
    chunk.aux["lsoa"] = lsoa.codes  # the LSOAs of the chunk's pupils, numbered 0 .. n_lsoa - 1
    chunk.aux["n_lsoa"] = len(lsoa.categories)
    dob_days = dob_cols["date_of_birth"].astype("datetime64[D]").astype(np.int64)
    n_sib, order = family_rank(fam.root, dob_days)
    return {
        **dob_cols,
        "family_id": family_ids(plan.root, plan.la_row_offset[la] + fam.root),
        "n_siblings": n_sib,
        "birth_order": order,
        "postcode": categorical(
            "postcode", own_pc, n_pc, int(plan.la_pc_offset[la]), geo.postcode_labels
        ),
        "postcode_sector": categorical(
            "postcode_sector",
            own_sec,
            len(sec_dis),
            int(plan.la_sec_offset[la]),
            geo.sec_label.__getitem__,
        ),
        "postcode_district": categorical(
            "postcode_district",
            sec_dis[own_sec],
            len(geo.dis_label),
            int(plan.la_dis_offset[la]),
            geo.dis_label.__getitem__,
        ),
        "postcode_area": plan.la_area_idx[home].astype(np.int16),
        "lsoa": lsoa,
        "idaci_decile": decile,
        "home_la": plan.la_code_idx[home].astype(np.int16),
        "home_region": plan.la_region_idx[home].astype(np.int8),
    }


def _lsoa_labels(keys: np.ndarray) -> np.ndarray:
    """LSOA codes of LSOA keys (their number across England): 'E01000001'..."""
    out = np.empty(len(keys), dtype=object)
    out[:] = [f"E01{v + 1:06d}" for v in keys.tolist()]
    return out


# ------------------------------------------------------------------------------ ethnicity
_MINOR_IDX = {c: i for i, c in enumerate(ETHNIC_MINOR)}
_EXT_IDX = {c: i for i, c in enumerate(ETHNIC_EXTENDED)}
_MAJOR_OF_MINOR = np.array(
    [ETHNIC_MAJOR.index(_ETH["major_of_minor"]["values"][c]) for c in ETHNIC_MINOR], np.int8
)
_MINOR_OF_EXT = np.zeros(len(ETHNIC_EXTENDED), np.int8)
for _minor, _mix in _ETH["extended"]["values"].items():
    for _code in _mix:
        _MINOR_OF_EXT[_EXT_IDX[_code]] = _MINOR_IDX[_minor]


def sample_ethnicity(rng: np.random.Generator, chunk: Chunk) -> dict:
    """Extended, minor and major ethnicity: LA mix (fitted to national shares), LSOA clustering."""
    probs = chunk.plan.la_eth_probs[chunk.la]
    wbri = _MINOR_IDX["WBRI"]
    s = 1.0 - probs[wbri]
    conc = _ETH["local_variation"]["lsoa_concentration"]
    n_lsoa = chunk.aux["n_lsoa"]
    if 0.0 < s < 1.0:  # LSOA share of non-WBRI pupils ~ Beta with mean s (keeps the LA mix)
        p_other = rng.beta(s * conc, (1 - s) * conc, size=n_lsoa)[chunk.aux["lsoa"]]
    else:
        p_other = np.full(chunk.n, s)
    other = _shared(chunk, rng.random(chunk.n)) < p_other
    rest = probs.copy()
    rest[wbri] = 0.0
    minor = np.full(chunk.n, wbri, dtype=np.int8)
    if rest.sum() > 0:
        minor[other] = _pick(_cum(rest), _shared(chunk, rng.random(chunk.n))[other])
    ext = np.zeros(chunk.n, dtype=np.int16)
    u = _shared(chunk, rng.random(chunk.n))
    for code, mix in _ETH["extended"]["values"].items():
        sel = minor == _MINOR_IDX[code]
        codes = np.array([_EXT_IDX[c] for c in mix], np.int16)
        ext[sel] = codes[_pick(_cum(list(mix.values())), u[sel])]
    return {
        "ethnicity_extended": ext,
        "ethnic_group_minor": minor,
        "ethnic_group_major": _MAJOR_OF_MINOR[minor],
    }


# ------------------------------------------------------------------------------ language
_LANG_IDX = {c: i for i, c in enumerate(LANGUAGE_CODES)}


def sample_language(rng: np.random.Generator, chunk: Chunk) -> dict:
    """First language and EAL, by ethnicity and region (London higher)."""
    from ._data import REGIONS

    minor = chunk.cols["ethnic_group_minor"]
    p_eth = np.array([_LANG["eal_probability"]["values"][c] for c in ETHNIC_MINOR])
    region = REGIONS[int(chunk.plan.la_region_idx[chunk.la])]
    shift = _LANG["region_log_odds"]["values"].get(
        region, _LANG["region_log_odds"]["values"]["default"]
    )
    logit = np.log(p_eth / (1 - p_eth)) + shift
    eal = _shared(chunk, rng.random(chunk.n)) < _logistic(logit)[minor]
    lang = np.full(chunk.n, _LANG_IDX["ENG"], dtype=np.int16)
    u = _shared(chunk, rng.random(chunk.n))
    table = _LANG["by_ethnicity"]["values"]
    for code in ETHNIC_MINOR:
        sel = eal & (minor == _MINOR_IDX[code])
        mix = table.get(code, table["*"])
        codes = np.array([_LANG_IDX[c] for c in mix], np.int16)
        lang[sel] = codes[_pick(_cum(list(mix.values())), u[sel])]
    v = _shared(chunk, rng.random(chunk.n))
    believed = _LANG["believed_share"]
    lang[eal & (v < believed["OTB"])] = _LANG_IDX["OTB"]
    lang[~eal & (v < believed["ENB"])] = _LANG_IDX["ENB"]
    unk = _LANG["unknown_share"]
    w = _shared(chunk, rng.random(chunk.n))
    lang[w < unk["NOT"]] = _LANG_IDX["NOT"]
    lang[(w >= unk["NOT"]) & (w < unk["NOT"] + unk["REF"])] = _LANG_IDX["REF"]
    group = np.where(lang <= _LANG_IDX["ENB"], 0, 1).astype(np.int8)
    group[(lang == _LANG_IDX["NOT"]) | (lang == _LANG_IDX["REF"])] = 2
    return {"first_language": lang, "language_group": group, "eal": group == 1}


# ------------------------------------------------------------------------------ SEN
def sample_sen(rng: np.random.Generator, chunk: Chunk) -> dict:
    """SEN provision by year group, sex, IDACI and phase (special schools almost all EHCP)."""
    pk, pe = sen_probs(
        chunk.cols["nc_year"], chunk.cols["sex"], chunk.cols["idaci_decile"], chunk.cols["phase"]
    )
    return {"sen_provision": sen_from_uniform(rng.random(chunk.n), pk, pe)}


def sen_from_uniform(u: np.ndarray, pk: np.ndarray, pe: np.ndarray) -> np.ndarray:
    """N/K/E codes from uniforms: E if u < pe, K if pe <= u < pe + pk, else N."""
    out = np.zeros(len(u), dtype=np.int8)
    out[u < pe] = E_
    out[(u >= pe) & (u < pe + pk)] = K_
    return out


def sen_probs(year, sex, idaci_decile, phase) -> tuple[np.ndarray, np.ndarray]:
    """P(SEN support), P(EHC plan) by year group, sex, IDACI decile and phase."""
    cfg = _CHAR["sen"]
    dec = idaci_decile.astype(float)
    male = sex == 0
    probs = {}
    for code, by_year, scale in (
        ("K", "support_by_year", "support_scale"),
        ("E", "ehcp_by_year", "ehcp_scale"),
    ):
        r = cfg["male_rate_ratio"][code]
        sex_mult = np.where(male, 2 * r / (1 + r), 2 / (1 + r))
        base = np.asarray(cfg[by_year])[year] * cfg[scale]
        probs[code] = base * sex_mult * (1 + cfg["idaci_slope"][code] * (5.5 - dec))
    pk, pe = probs["K"], probs["E"]
    for p, key in ((SP, "special_school"), (PR, "alternative_provision")):
        m = phase == p
        pk = np.where(m, cfg[key]["K"], pk)
        pe = np.where(m, cfg[key]["E"], pe)
    return pk, pe


def sample_sen_type(rng: np.random.Generator, chunk: Chunk) -> dict:
    c = chunk.cols
    return {
        "primary_sen_type": sen_type_from_uniform(
            rng.random(chunk.n), c["sen_provision"], c["nc_year"], c["sex"]
        )
    }


def sen_type_from_uniform(u, prov, year, sex) -> np.ndarray:
    """Primary SEN type (code index, -1 for no SEN) from uniforms, by provision, stage, sex."""
    cfg = _CHAR["sen_type"]
    out = np.full(len(u), -1, dtype=np.int8)
    mult = cfg["male_multiplier"]
    male_w = np.array([mult.get(c, mult["_default"]) for c in SEN_TYPES])
    for pcode, pval in (("K", K_), ("E", E_)):
        for stage, in_stage in (("primary", year <= 6), ("secondary", year > 6)):
            base = np.asarray(cfg[f"{pcode}_{stage}"], float)
            for is_male, w in ((True, male_w), (False, np.ones_like(male_w))):
                sel = (prov == pval) & in_stage & ((sex == 0) == is_male)
                out[sel] = _pick(_cum(base * w), u[sel])
    return out


# ------------------------------------------------------------------------------ FSM
def sample_fsm(rng: np.random.Generator, chunk: Chunk) -> dict:
    """FSM eligibility: logistic in IDACI decile, phase, ethnicity and SEN provision."""
    c = chunk.cols
    p = fsm_prob(c["idaci_decile"], c["phase"], c["sen_provision"], c["ethnic_group_minor"])
    return {"fsm_eligible": _shared(chunk, rng.random(chunk.n)) < p}


def fsm_prob(idaci_decile, phase, sen_provision, ethnic_group_minor) -> np.ndarray:
    """P(FSM eligible): logistic in IDACI decile, phase, SEN provision and minor ethnicity."""
    cfg = _CHAR["fsm"]
    phase_eff = np.array([cfg["phase_log_odds"][p] for p in PHASES])
    sen_eff = np.array([cfg["sen_log_odds"][c] for c in ("N", "K", "E")])
    eth_eff = np.array([cfg["ethnicity_log_odds"][c] for c in ETHNIC_MINOR])
    dec = idaci_decile.astype(float)
    x = (
        cfg["intercept"]
        + cfg["idaci_log_odds_per_decile"] * (dec - 5.5)
        + phase_eff[phase]
        + sen_eff[sen_provision]
        + eth_eff[ethnic_group_minor]
    )
    return _logistic(x)


def sample_ever_fsm(rng: np.random.Generator, chunk: Chunk) -> dict:
    cfg = _CHAR["fsm"]["ever6_hazard"]
    years_on_roll = np.minimum(chunk.cols["nc_year"].astype(float) + 1, 6)
    dec = chunk.cols["idaci_decile"].astype(float)
    h = cfg["base"] * np.exp(cfg["slope"] * (5.5 - dec))
    p = 1 - np.exp(-h * years_on_roll)
    return {"ever_fsm_6": chunk.cols["fsm_eligible"] | (_shared(chunk, rng.random(chunk.n)) < p)}


# ------------------------------------------------------------------------------ CLA, service, disability
def sample_looked_after(rng: np.random.Generator, chunk: Chunk) -> dict:
    c = chunk.cols
    p = looked_after_prob(c["sen_provision"], c["sex"], c["idaci_decile"], c["nc_year"])
    return {"looked_after": rng.random(chunk.n) < p}


def looked_after_prob(sen_provision, sex, idaci_decile, nc_year) -> np.ndarray:
    """P(looked after) by SEN provision, sex, IDACI decile and year group (capped at 0.5)."""
    cfg = _CHAR["looked_after"]
    sen_mult = np.array([cfg["sen_multiplier"][c] for c in ("N", "K", "E")])
    dec = idaci_decile.astype(float)
    p = (
        cfg["base"]
        * sen_mult[sen_provision]
        * np.where(sex == 0, cfg["male_multiplier"], 1.0)
        * np.exp(cfg["idaci_log_slope"] * (5.5 - dec))
        * np.asarray(cfg["year_multiplier"])[nc_year]
    )
    return np.minimum(p, 0.5)


def sample_service_child(rng: np.random.Generator, chunk: Chunk) -> dict:
    cfg = _CHAR["service_child"]
    plan = chunk.plan
    w = plan.la_service_weight
    mean_w = np.sum(w * plan.la_pupils) / max(1, plan.la_pupils.sum())
    p = cfg["base"] * w[chunk.la] / mean_w
    p = p * np.where(chunk.cols["fsm_eligible"], cfg["fsm_multiplier"], 1.0)
    return {"service_child": _shared(chunk, rng.random(chunk.n)) < np.minimum(p, 0.5)}


def sample_disability(rng: np.random.Generator, chunk: Chunk) -> dict:
    cfg = _CHAR["disability"]["by_sen"]
    p = np.array([cfg[c] for c in ("N", "K", "E")])[chunk.cols["sen_provision"]]
    return {"disability": rng.random(chunk.n) < p}


# ------------------------------------------------------------------------------ exclusions
def _rate_mult(cols: dict, ratios: dict) -> np.ndarray:
    prov = cols["sen_provision"]
    m = np.where(cols["sex"] == 0, ratios["male"], 1.0)
    m = m * np.where(prov == K_, ratios["K"], np.where(prov == E_, ratios["E"], 1.0))
    return m * np.where(cols["fsm_eligible"], ratios["fsm"], 1.0)


def suspension_rate(cols: dict) -> np.ndarray:
    """Expected suspensions this year (before the gamma frailty), from the columns in ``cols``
    (sen_provision, sex, fsm_eligible, phase, nc_year)."""
    cfg = _CHAR["exclusions"]
    phase_m = np.array([cfg["phase_multiplier"][p] for p in PHASES])
    return (
        cfg["suspension_base"]
        * _rate_mult(cols, cfg["rate_ratio"])
        * phase_m[cols["phase"]]
        * np.asarray(cfg["year_multiplier"])[cols["nc_year"]]
    )


def permanent_exclusion_prob(cols: dict, suspended: np.ndarray) -> np.ndarray:
    """P(permanent exclusion this year), higher after a suspension."""
    cfg = _CHAR["exclusions"]
    phase_m = np.array([cfg["pex_phase_multiplier"][p] for p in PHASES])
    p = (
        cfg["pex_base"]
        * _rate_mult(cols, cfg["pex_rate_ratio"])
        * phase_m[cols["phase"]]
        * np.where(suspended, cfg["pex_if_suspended"], 1.0)
        * np.asarray(cfg["year_multiplier"])[cols["nc_year"]]
    )
    return np.minimum(p, 0.5)


def sample_suspensions(rng: np.random.Generator, chunk: Chunk) -> dict:
    """Suspension counts: negative binomial (gamma-Poisson) with published relative rates."""
    cfg = _CHAR["exclusions"]
    lam = suspension_rate(chunk.cols)
    k = cfg["suspension_dispersion"]
    frailty = rng.gamma(k, 1.0 / k, size=chunk.n)
    counts = rng.poisson(lam * frailty)
    return {"suspensions": np.minimum(counts, 60).astype(np.int16)}


def sample_permanent_exclusion(rng: np.random.Generator, chunk: Chunk) -> dict:
    p = permanent_exclusion_prob(chunk.cols, chunk.cols["suspensions"] > 0)
    return {"permanent_exclusion": rng.random(chunk.n) < p}


def sample_exclusion_reason(rng: np.random.Generator, chunk: Chunk) -> dict:
    c = chunk.cols
    return {
        "exclusion_reason": exclusion_reason_from_uniform(
            rng.random(chunk.n), c["permanent_exclusion"], c["suspensions"] > 0, c["nc_year"] <= 6
        )
    }


def exclusion_reason_from_uniform(u, pex, susp, primary) -> np.ndarray:
    """Reason code index (-1 if none): the permanent exclusion's, else the latest suspension's."""
    cfg = _CHAR["exclusions"]
    out = np.full(len(u), -1, dtype=np.int8)
    for sel, key in (
        (pex, "pex_reasons"),
        (~pex & susp & primary, "suspension_reasons_primary"),
        (~pex & susp & ~primary, "suspension_reasons"),
    ):
        out[sel] = _pick(_cum(cfg[key]), u[sel])
    assert len(cfg["reason_codes"]) == len(EXCLUSION_REASONS)
    return out


#: Multipliers coprime with 1000: ``a * rank + b (mod 1000)`` then numbers a school's UPNs
#: without repeats.
_UNITS_MOD_1000 = np.arange(1, 1000)[np.gcd(np.arange(1, 1000), 1000) == 1]


# ------------------------------------------------------------------------------ names
_GROUP_MIX = {k: v for k, v in _NAMES["group_mix_by_minor"].items() if not k.startswith("_")}


def _runs(key: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows grouped by a small non-negative int key: ``(order, bounds)``.

    ``order[bounds[k]:bounds[k + 1]]`` are the rows with key ``k``, ascending (a stable sort), so
    one pass over the rows replaces a boolean mask per key value.
    """
    order = np.argsort(key, kind="stable")
    bounds = np.searchsorted(key[order], np.arange(n_keys + 1), side="left")
    return order, bounds


@functools.cache
def _name_plan(kind: str) -> tuple:
    """Per-kind constants of :func:`_sample_names`, built once per process."""
    tables = name_table(kind)
    group_names = sorted({g for mix in _GROUP_MIX.values() for g in mix})
    by_minor = []
    for code in ETHNIC_MINOR:
        mix = _GROUP_MIX[code]
        ids = np.array([group_names.index(g) for g in mix], np.int8)
        by_minor.append((ids, _cum(list(mix.values()))))
    sexes = ("M", "F") if kind == "forename" else (None,)
    groups = [tables.groups[(gname, skey)] for gname in group_names for skey in sexes]
    share = np.array([g.tail_share for g in groups])
    return tables, len(sexes), by_minor, groups, share


def _sample_names(rng: np.random.Generator, chunk: Chunk, kind: str) -> np.ndarray:
    tables, n_sex, by_minor, groups, share = _name_plan(kind)
    minor = chunk.cols["ethnic_group_minor"]
    sex = chunk.cols["sex"]
    u_group, u_tail, u_name = rng.random(chunk.n), rng.random(chunk.n), rng.random(chunk.n)
    fam = chunk.aux.get("family")
    if kind == "surname" and fam is not None:  # siblings usually carry the family surname
        p_share = np.where(
            fam.lone_parent,
            FAMILY_CFG["surname_shared"]["lone_parent"],
            FAMILY_CFG["surname_shared"]["couple"],
        )
        src = np.where(rng.random(chunk.n) < p_share, fam.root, np.arange(chunk.n))
        u_group, u_tail, u_name = u_group[src], u_tail[src], u_name[src]
    # name group from the pupil's minor ethnicity
    group = np.zeros(chunk.n, dtype=np.int8)
    order, bounds = _runs(minor, len(ETHNIC_MINOR))
    for code, (ids, cum) in enumerate(by_minor):
        rows = order[bounds[code] : bounds[code + 1]]
        if len(rows):
            group[rows] = ids[_pick(cum, u_group[rows])]
    # tail names share one table; head names come from the (group, sex) table
    key = group.astype(np.int64) * n_sex + (sex if n_sex > 1 else 0)
    tail = u_tail < share[key]
    out = np.empty(chunk.n, dtype=np.int32)
    out[tail] = tables.tail_idx[_pick(tables.tail_cum, u_name[tail])]
    head = np.flatnonzero(~tail)
    order, bounds = _runs(key[head], len(groups))
    for k, g in enumerate(groups):
        rows = head[order[bounds[k] : bounds[k + 1]]]
        if len(rows):
            out[rows] = g.head_idx[_pick(g.head_cum, u_name[rows])]
    return out


def sample_forename(rng: np.random.Generator, chunk: Chunk) -> dict:
    return {"forename": _sample_names(rng, chunk, "forename")}


def sample_surname(rng: np.random.Generator, chunk: Chunk) -> dict:
    return {"surname": _sample_names(rng, chunk, "surname")}


# ------------------------------------------------------------------------------ identifiers
def _ascii_digits(values: np.ndarray, width: int) -> np.ndarray:
    """(n, width) uint8 matrix of the ASCII decimal digits of non-negative ints (the lowest
    ``width`` digits), one column per pass: ``q = v // 10`` (a division by a constant) and
    ``v - 10 q``."""
    v = np.array(values, dtype=np.int64)
    out = np.empty((len(v), width), dtype=np.uint8)
    for j in range(width - 1, -1, -1):
        q = v // 10
        v -= q * 10
        out[:, j] = v
        out[:, j] += ord("0")
        v = q
    return out


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """(n, width) int64 matrix of the decimal digits of non-negative ints."""
    return _ascii_digits(values, width).astype(np.int64) - ord("0")


def sample_upn(rng: np.random.Generator, chunk: Chunk) -> dict:
    """UPN issued by the pupil's first school (Reception entry) or, for late entrants, the
    current school; body = LA + establishment + 2-digit year of issue + 3-digit serial that is
    unique within (issuing school, year)."""
    plan = chunk.plan
    year = chunk.cols["nc_year"].astype(np.int64)
    phase_s = chunk.school_attr("phase")
    laestab_s = chunk.school_attr("laestab").astype(np.int64)
    primaries = np.flatnonzero(phase_s == PS)
    own = laestab_s[chunk.school]
    issuer = own.copy()
    not_primary = chunk.cols["phase"] != PS
    if len(primaries):
        pick = primaries[rng.integers(0, len(primaries), size=chunk.n)]
        issuer = np.where(not_primary, laestab_s[pick], own)
    entry = plan.academic_year - year
    late = (rng.random(chunk.n) < _SCHOOLS["upn"]["late_issue_share"]) & (year >= 1)
    shift = np.floor(rng.random(chunk.n) * np.maximum(year, 1)).astype(np.int64) + 1
    issue_year = np.where(late, entry + shift, entry)
    issuer = np.where(late, own, issuer)
    # serials: rank within (issuer, year), then a per-group affine permutation of 0..999
    key = issuer * 100 + issue_year % 100
    order = stable_argsort_int(key)
    sk = key[order]
    starts = np.r_[True, sk[1:] != sk[:-1]]
    gid_sorted = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    rank_sorted = np.arange(chunk.n) - first[gid_sorted]
    if rank_sorted.max(initial=0) >= 1000:
        raise RuntimeError("more than 1000 UPNs issued by one school in one year")
    n_groups = len(first)
    mult = _UNITS_MOD_1000
    a = mult[rng.integers(0, len(mult), size=n_groups)]
    b = rng.integers(0, 1000, size=n_groups)
    serial = np.empty(chunk.n, dtype=np.int64)
    serial[order] = (a[gid_sorted] * rank_sorted + b[gid_sorted]) % 1000
    body = issuer * 100000 + (issue_year % 100) * 1000 + serial  # 12 digits
    out = np.empty((chunk.n, 13), dtype=np.uint8)
    out[:, 1:] = _ascii_digits(body, 12)
    out[:, 0] = upn_check_letters(out[:, 1:] - ord("0"))
    return {"upn": out}


_PID_MOD = 9_999_999_967  # prime < 10**10


@functools.lru_cache(maxsize=16)
def _affine_key(root: int, name: str) -> tuple[int, int]:
    """The multiplier and offset of a cohort's pseudonymous ids, drawn once per cohort from the
    stream ``name`` (the same in every chunk)."""
    from ._rng import stream

    cohort = stream(root, name)
    a = int(cohort.integers(1, _PID_MOD))
    b = int(cohort.integers(0, _PID_MOD))
    return a, b


def family_ids(root: int, global_row: np.ndarray) -> np.ndarray:
    """Family group id 'F' + 10 digits: an affine bijection (mod a prime) of the eldest pupil's
    global row, with its own multiplier and offset, so it carries no information."""
    a, b = _affine_key(root, "family_id.cohort")
    v = (a * np.asarray(global_row, np.int64) + b) % _PID_MOD
    out = np.empty((len(v), 11), dtype=np.uint8)
    out[:, 0] = ord("F")
    out[:, 1:] = _ascii_digits(v, 10)
    return out


def sample_pupil_id(rng: np.random.Generator, chunk: Chunk) -> dict:
    """Pseudonymous id 'P' + 10 digits: an affine bijection of the global row number modulo a
    prime, with multiplier and offset drawn once per cohort (the same in every chunk)."""
    a, b = _affine_key(chunk.plan.root, "pupil_id.cohort")
    start = int(chunk.plan.la_row_offset[chunk.la])
    g = np.arange(start, start + chunk.n, dtype=np.int64)
    v = (a * g + b) % _PID_MOD  # a < 2**34 and g < 2**27: no int64 overflow
    out = np.empty((chunk.n, 11), dtype=np.uint8)
    out[:, 0] = ord("P")
    out[:, 1:] = _ascii_digits(v, 10)
    return {"pupil_id": out}


#: (stream name, sampler) in generation order. The stream name is the field whose child stream
#: the sampler uses; derived columns (e.g. ethnic_group_minor) share their parent's stream.
SAMPLERS: tuple[tuple[str, Callable[[np.random.Generator, Chunk], dict]], ...] = (
    ("nc_year", sample_structure),
    ("sex", sample_sex),
    ("date_of_birth", sample_date_of_birth),
    ("enrol_status", sample_enrol_status),
    ("postcode", sample_geography),
    ("ethnicity_extended", sample_ethnicity),
    ("first_language", sample_language),
    ("sen_provision", sample_sen),
    ("primary_sen_type", sample_sen_type),
    ("fsm_eligible", sample_fsm),
    ("ever_fsm_6", sample_ever_fsm),
    ("looked_after", sample_looked_after),
    ("service_child", sample_service_child),
    ("disability", sample_disability),
    ("suspensions", sample_suspensions),
    ("permanent_exclusion", sample_permanent_exclusion),
    ("exclusion_reason", sample_exclusion_reason),
    ("forename", sample_forename),
    ("surname", sample_surname),
    ("upn", sample_upn),
    ("pupil_id", sample_pupil_id),
)

#: The columns each sampler of :data:`SAMPLERS` returns (a later one may return an earlier
#: one's column again: households give twins one date of birth). The tests run every sampler
#: and compare.
SAMPLER_COLUMNS: dict[str, tuple[str, ...]] = {
    "nc_year": ("nc_year", "urn", "laestab", "la_code", "region", "phase"),
    "sex": ("sex",),
    "date_of_birth": ("date_of_birth", "year_of_birth", "month_of_birth"),
    "enrol_status": ("enrol_status",),
    "postcode": (
        "date_of_birth",
        "year_of_birth",
        "month_of_birth",
        "family_id",
        "n_siblings",
        "birth_order",
        "postcode",
        "postcode_sector",
        "postcode_district",
        "postcode_area",
        "lsoa",
        "idaci_decile",
        "home_la",
        "home_region",
    ),
    "ethnicity_extended": ("ethnicity_extended", "ethnic_group_minor", "ethnic_group_major"),
    "first_language": ("first_language", "language_group", "eal"),
    "sen_provision": ("sen_provision",),
    "primary_sen_type": ("primary_sen_type",),
    "fsm_eligible": ("fsm_eligible",),
    "ever_fsm_6": ("ever_fsm_6",),
    "looked_after": ("looked_after",),
    "service_child": ("service_child",),
    "disability": ("disability",),
    "suspensions": ("suspensions",),
    "permanent_exclusion": ("permanent_exclusion",),
    "exclusion_reason": ("exclusion_reason",),
    "forename": ("forename",),
    "surname": ("surname",),
    "upn": ("upn",),
    "pupil_id": ("pupil_id",),
}


def samplers_for(columns) -> tuple[tuple[str, Callable[[np.random.Generator, Chunk], dict]], ...]:
    """The samplers that ``columns`` need: :data:`SAMPLERS` up to the last one returning one of
    them. A sampler reads only the columns of the samplers before it, and each draws from its
    own stream, so the columns of this prefix are the same as those of the full run."""
    wanted = set(columns)
    last = max(
        (i for i, (name, _) in enumerate(SAMPLERS) if wanted & set(SAMPLER_COLUMNS[name])),
        default=-1,
    )
    return SAMPLERS[: last + 1]
