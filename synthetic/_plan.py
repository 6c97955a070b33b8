"""Population plan: schools in LAs, LA geography sizes, IDACI cut-points, ethnicity by LA.

Everything here is drawn once per cohort (from its own named streams) before the pupil chunks
are generated, and is small (about 21,000 schools at full scale).
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass

import numpy as np

from ._data import REGIONS, load_json, local_authorities
from ._rng import stream
from .schema import ETHNIC_MINOR, LA_CODES, NC_YEARS, PHASES, POSTCODE_AREAS

__all__ = ["Plan", "build_plan", "names_tables", "name_table", "birth_days"]

N_YEARS = len(NC_YEARS)


@dataclass(frozen=True, slots=True)
class Plan:
    """Cohort-level structure shared by every LA chunk."""

    root: int
    n_pupils: int
    academic_year: int
    # LA table (CSV order), arrays of length n_la
    la_code: tuple[str, ...]
    la_code_idx: np.ndarray  # index into schema.LA_CODES
    la_region_idx: np.ndarray  # index into REGIONS
    la_area_idx: np.ndarray  # index into POSTCODE_AREAS
    la_area: tuple[str, ...]
    la_service_weight: np.ndarray
    la_pupils: np.ndarray
    la_row_offset: np.ndarray
    la_school_start: np.ndarray
    la_school_stop: np.ndarray
    la_n_districts: np.ndarray
    la_district_start: np.ndarray  # first district number in the LA's postcode area
    la_n_sectors: np.ndarray
    la_n_lsoa: np.ndarray
    la_lsoa_offset: np.ndarray
    la_n_postcodes: np.ndarray
    # first key of each LA's postcodes, sectors and districts across England (LA table order):
    # one postcode has one key whichever chunk draws it (synthetic._geography)
    la_pc_offset: np.ndarray
    la_sec_offset: np.ndarray
    la_dis_offset: np.ndarray
    la_idaci_mu: np.ndarray
    idaci_cuts: np.ndarray  # 9 ascending cut-points of the national LSOA deprivation score
    la_eth_probs: np.ndarray  # (n_la, 20) minor-ethnicity probabilities
    # schools, sorted by LA (CSV order), phase, establishment number
    school_la: np.ndarray
    school_phase: np.ndarray
    school_size: np.ndarray
    school_urn: np.ndarray
    school_laestab: np.ndarray
    school_sixth: np.ndarray


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    share = np.asarray(weights, dtype=float) / np.sum(weights)
    raw = share * total
    out = np.floor(raw).astype(np.int64)
    rest = total - out.sum()
    if rest:
        order = np.argsort(-(raw - out), kind="stable")
        out[order[:rest]] += 1
    return out


def _draw_sizes(rng: np.random.Generator, spec: dict, total: int) -> np.ndarray:
    """Draw school sizes from ``spec`` until they add up to exactly ``total`` pupils."""
    if total <= 0:
        return np.zeros(0, dtype=np.int64)
    mean, lo, hi = float(spec["mean"]), int(spec["min"]), int(spec["max"])
    parts: list[np.ndarray] = []
    acc = 0
    while acc < total:
        k = int((total - acc) / mean * 1.3) + 8
        if spec["family"] == "lognormal":
            sigma = float(spec["sigma"])
            draw = rng.lognormal(np.log(mean) - sigma**2 / 2, sigma, size=k)
        else:
            shape = float(spec["shape"])
            draw = rng.gamma(shape, mean / shape, size=k)
        draw = np.clip(np.rint(draw), lo, hi).astype(np.int64)
        parts.append(draw)
        acc += int(draw.sum())
    sizes = np.concatenate(parts)
    csum = np.cumsum(sizes)
    stop = int(np.searchsorted(csum, total, side="left"))
    sizes = sizes[: stop + 1].copy()
    sizes[-1] = total - (csum[stop - 1] if stop > 0 else 0)
    return sizes


def _ipf(prior: np.ndarray, rows: np.ndarray, cols: np.ndarray, iters: int = 60) -> np.ndarray:
    m = prior.copy()
    for _ in range(iters):
        rs = m.sum(axis=1)
        m *= np.divide(rows, rs, out=np.zeros_like(rs), where=rs > 0)[:, None]
        cs = m.sum(axis=0)
        m *= np.divide(cols, cs, out=np.zeros_like(cs), where=cs > 0)[None, :]
    return m


def _ethnicity_prior(region_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    eth = load_json("ethnicity.json")
    national = np.array([eth["minor_share_pct"]["values"][c] for c in ETHNIC_MINOR], float)
    national /= national.sum()
    major = eth["major_of_minor"]["values"]
    mult = eth["region_multipliers"]["values"]
    table = np.ones((len(REGIONS), len(ETHNIC_MINOR)))
    for r, region in enumerate(REGIONS):
        row = mult[region]
        for j, code in enumerate(ETHNIC_MINOR):
            group = (
                "WBRI" if code == "WBRI" else ("WOTHERS" if major[code] == "WHIT" else major[code])
            )
            table[r, j] = row.get(code, row.get(group, 1.0))
    return national, table[region_idx] * national[None, :]


@functools.cache
def birth_days(academic_year: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days of birth for every NC year of ``academic_year`` and their cumulative weights.

    Returns ``(days, cum_weight, bounds)``: ``days`` (datetime64[D]) runs from the first day of
    the Year 13 cohort to the last day of the Reception cohort; ``cum_weight`` has one more
    element (starting at 0); ``bounds[y]`` and ``bounds[y] + len`` index the days of NC year
    ``y`` (0 = Reception). A pupil in Year N (Reception = 0) in academic year A/A+1 is born
    1 September A-N-5 to 31 August A-N-4 (npd-spec 2.5).
    """
    births = load_json("characteristics.json")["births"]
    first = np.datetime64(f"{academic_year - 13 - 5}-09-01")
    last = np.datetime64(f"{academic_year - 4}-08-31")
    days = np.arange(first, last + 1, dtype="datetime64[D]")
    months = days.astype("datetime64[M]").astype(int) % 12 + 1
    dom = (days - days.astype("datetime64[M]")).astype(int) + 1
    monthly = np.array([births["monthly_index"][str(m)] for m in range(1, 13)])
    weight = monthly[months - 1]
    peak = births["peak"]
    years = days.astype("datetime64[Y]").astype(int) + 1970
    for yr in np.unique(years):
        centre = np.datetime64(_dt.date(int(yr), peak["month"], peak["day"]))
        dist = (days - centre).astype(float)
        weight = weight * (1 + peak["amplitude"] * np.exp(-0.5 * (dist / peak["width_days"]) ** 2))
    for key, factor in births["special_days"].items():
        mm, dd = (int(x) for x in key.split("-"))
        weight = np.where((months == mm) & (dom == dd), weight * factor, weight)
    weekday = (days.astype(int) + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    weight = np.where(weekday >= 5, weight * births["weekend_factor"], weight)
    cum = np.concatenate([[0.0], np.cumsum(weight)])
    bounds = np.empty((N_YEARS, 2), dtype=np.int64)
    for y in range(N_YEARS):
        start = np.datetime64(f"{academic_year - y - 5}-09-01")
        stop = np.datetime64(f"{academic_year - y - 4}-08-31")
        bounds[y] = ((start - first).astype(int), (stop - first).astype(int) + 1)
    return days, cum, bounds


def build_plan(root: int, n_pupils: int) -> Plan:
    """Draw the school and LA structure of a cohort of ``n_pupils``."""
    schools_cfg = load_json("schools.json")
    geo = load_json("geography.json")
    eth = load_json("ethnicity.json")
    la = local_authorities()
    n_la = len(la["la_code"])
    academic_year = int(schools_cfg["census"]["academic_year_start"])

    # ---- pupils by phase, schools by phase, schools into LAs
    phase_pupils = _largest_remainder(
        n_pupils, np.array([schools_cfg["phases"]["pupils"][p] for p in PHASES], float)
    )
    rng = stream(root, "plan.school_size")
    sizes, phases = [], []
    for p, phase in enumerate(PHASES):
        s = _draw_sizes(rng, schools_cfg["school_size"][phase], int(phase_pupils[p]))
        sizes.append(s)
        phases.append(np.full(len(s), p, dtype=np.int8))
    size = np.concatenate(sizes)
    phase = np.concatenate(phases)
    weight = la["population_k"]
    rng = stream(root, "plan.school_la")
    school_la = rng.choice(n_la, size=len(size), p=weight / weight.sum()).astype(np.int16)
    tiebreak = rng.random(len(size))
    order = np.lexsort((tiebreak, phase, school_la))
    size, phase, school_la = size[order], phase[order], school_la[order]
    sixth = (phase == 1) & (rng.random(len(size)) < schools_cfg["sixth_form_share"]["value"])

    # ---- identifiers: URN (unique 6 digits), LAESTAB (LA * 10000 + establishment number)
    rng = stream(root, "plan.school_ids")
    urn = (rng.choice(900_000, size=len(size), replace=False) + 100_000).astype(np.int32)
    estab = np.zeros(len(size), dtype=np.int32)
    bases = schools_cfg["establishment_number_base"]
    caps = {"PS": 1999, "SS": 1999, "SP": 999, "PR": 899}
    key = school_la.astype(np.int64) * 8 + phase
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    stops = np.r_[starts[1:], len(key)]
    for a, b in zip(starts, stops):
        ph = PHASES[phase[a]]
        k = b - a
        cap = max(caps[ph], k)
        estab[a:b] = bases[ph] + np.sort(rng.choice(cap, size=k, replace=False))
    la_num = np.array([int(code) for code in la["la_code"]], dtype=np.int64)
    laestab = (la_num[school_la] * 10000 + estab).astype(np.int32)

    # ---- LA sizes and geography sizes
    la_pupils = np.bincount(school_la, weights=size, minlength=n_la).astype(np.int64)
    la_row_offset = np.concatenate([[0], np.cumsum(la_pupils)[:-1]])
    la_school_start = np.searchsorted(school_la, np.arange(n_la), side="left")
    la_school_stop = np.searchsorted(school_la, np.arange(n_la), side="right")
    ppd = geo["pupils_per_district"]["value"]
    pps = geo["pupils_per_sector"]["value"]
    ppl = geo["pupils_per_lsoa"]["value"]
    ppp = geo["pupils_per_postcode"]["value"]
    pc_factor = load_json("families.json")["postcode_count_factor"]["value"]  # siblings share
    n_pc = np.maximum(1, np.rint(la_pupils / ppp * 1.07 * pc_factor)).astype(np.int64)
    n_lsoa = np.maximum(1, np.rint(la_pupils / ppl)).astype(np.int64)
    n_districts = np.maximum(1, np.rint(la_pupils / ppd)).astype(np.int64)
    n_sectors = np.maximum(n_districts, np.rint(la_pupils / pps)).astype(np.int64)
    n_sectors = np.maximum(n_sectors, np.ceil(n_pc / 350)).astype(np.int64)
    n_districts = np.maximum(n_districts, np.ceil(n_sectors / 10)).astype(np.int64)
    n_lsoa = np.maximum(n_lsoa, n_sectors)
    n_pc = np.maximum(n_pc, n_lsoa)
    area = list(la["postcode_area"])
    counter: dict[str, int] = {}
    district_start = np.zeros(n_la, dtype=np.int64)
    for i in range(n_la):
        if la_pupils[i] == 0:
            continue
        district_start[i] = counter.get(area[i], 0) + 1
        counter[area[i]] = counter.get(area[i], 0) + int(n_districts[i])

    def offsets(counts):
        return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)

    lsoa_offset = offsets(n_lsoa)

    # ---- IDACI: LSOA deprivation ~ N(mu_la, 1); national decile cut-points of the mixture
    region_idx = np.array([REGIONS.index(r) for r in la["region"]], dtype=np.int8)
    idaci = geo["idaci"]
    mu = idaci["la_effect"] * la["deprivation"] + np.array(
        [idaci["region_effect"][r] for r in la["region"]]
    )
    w_lsoa = np.where(la_pupils > 0, n_lsoa, 0).astype(float)
    if w_lsoa.sum() == 0:
        w_lsoa = np.ones(n_la)
    # scipy here, not at the top: the command line's parser imports this module
    from scipy.special import ndtr

    grid = np.linspace(-8, 8, 16001)
    cdf = (ndtr(grid[:, None] - mu[None, :]) * (w_lsoa / w_lsoa.sum())[None, :]).sum(axis=1)
    cuts = np.interp(np.arange(1, 10) / 10, cdf, grid)

    # ---- ethnicity: regional priors x LA effects, fitted to national shares and LA sizes
    national, prior = _ethnicity_prior(region_idx)
    rng = stream(root, "plan.ethnicity")
    var = eth["local_variation"]
    la_all = rng.normal(0.0, var["la_all"], size=(n_la, 1))
    la_code_eff = rng.normal(0.0, var["la_code"], size=prior.shape)
    non_wbri = np.array([c != "WBRI" for c in ETHNIC_MINOR])
    prior = prior * np.exp(np.where(non_wbri[None, :], la_all + la_code_eff, 0.0))
    rows = la_pupils.astype(float)
    if rows.sum() > 0:
        fitted = _ipf(prior, rows, national * rows.sum())
    else:
        fitted = prior
    fitted = np.where(rows[:, None] > 0, fitted, prior)
    probs = fitted / fitted.sum(axis=1, keepdims=True)

    return Plan(
        root=root,
        n_pupils=n_pupils,
        academic_year=academic_year,
        la_code=tuple(la["la_code"]),
        la_code_idx=np.array([LA_CODES.index(c) for c in la["la_code"]], dtype=np.int16),
        la_region_idx=region_idx,
        la_area_idx=np.array([POSTCODE_AREAS.index(a) for a in area], dtype=np.int16),
        la_area=tuple(area),
        la_service_weight=la["service_weight"],
        la_pupils=la_pupils,
        la_row_offset=la_row_offset,
        la_school_start=la_school_start,
        la_school_stop=la_school_stop,
        la_n_districts=n_districts,
        la_district_start=district_start,
        la_n_sectors=n_sectors,
        la_n_lsoa=n_lsoa,
        la_lsoa_offset=lsoa_offset,
        la_n_postcodes=n_pc,
        la_pc_offset=offsets(n_pc),
        la_sec_offset=offsets(n_sectors),
        la_dis_offset=offsets(n_districts),
        la_idaci_mu=mu,
        idaci_cuts=cuts,
        la_eth_probs=probs,
        school_la=school_la,
        school_phase=phase,
        school_size=size,
        school_urn=urn,
        school_laestab=laestab,
        school_sixth=sixth,
    )


@dataclass(frozen=True, slots=True)
class NameGroup:
    head_idx: np.ndarray  # global category indices
    head_cum: np.ndarray  # cumulative probabilities within the head
    tail_share: float


@dataclass(frozen=True, slots=True)
class NameTables:
    categories: tuple[str, ...]
    tail_idx: np.ndarray
    tail_cum: np.ndarray
    groups: dict  # (group, sex or None) -> NameGroup


def _tail_names(cfg: dict, kind: str, exclude: set[str]) -> list[str]:
    spec = cfg[kind]
    rng = np.random.default_rng(spec["seed"])  # fixed: the tail is data, not cohort randomness
    onsets = cfg.get(f"{kind}_onsets", cfg["onsets"])
    vowels = cfg.get(f"{kind}_vowels", cfg["vowels"])
    codas = cfg.get(f"{kind}_codas", cfg["codas"])
    endings = cfg[f"{kind}_endings"]
    on = np.array(onsets, dtype=object)
    on_low = np.array([x.lower() for x in onsets], dtype=object)
    vo = np.array(vowels, dtype=object)
    co = np.array(codas, dtype=object)
    en = np.array(endings, dtype=object)
    out: dict[str, None] = {}
    while len(out) < spec["n"]:
        k = 4096
        o = rng.integers(0, len(onsets), k)
        v = rng.integers(0, len(vowels), k)
        c = rng.integers(0, len(codas), k)
        o2 = rng.integers(0, len(onsets), k)
        v2 = rng.integers(0, len(vowels), k)
        e = rng.integers(0, len(endings), k)
        two = rng.random(k) < 0.5
        # candidate i: onset + vowel + coda [+ onset.lower() + vowel if two] + ending, then
        # first letter upper, the rest lower; kept in draw order until n distinct names
        middle = np.where(two, on_low[o2] + vo[v2], "")
        for raw in (on[o] + vo[v] + co[c] + middle + en[e]).tolist():
            name = raw[0].upper() + raw[1:].lower()
            if len(name) >= 3 and name not in exclude:
                out.setdefault(name, None)
                if len(out) >= spec["n"]:
                    break
    return list(out)


def _zipf_cum(n: int, exponent: float, offset: float) -> np.ndarray:
    w = 1.0 / (np.arange(n) + offset) ** exponent
    c = np.cumsum(w)
    return c / c[-1]


def names_tables() -> tuple[NameTables, NameTables]:
    """Return (forename, surname) sampling tables built from ``names.json``."""
    return name_table("forename"), name_table("surname")


@functools.cache
def name_table(kind: str) -> NameTables:
    """The sampling table of ``kind`` (``"forename"`` or ``"surname"``), built once per process
    (a tenth of a second each: a cohort without surnames does not build theirs)."""
    cfg = load_json("names.json")
    tail_cfg = cfg["tail"]
    groups = cfg[f"{kind}_groups"]
    heads: dict[str, None] = {}
    for g in groups.values():
        for key in ("M", "F", "head"):
            for name in g.get(key, {}):
                heads.setdefault(name, None)
    tail = _tail_names(tail_cfg, kind, set(heads))
    categories = tuple(heads) + tuple(tail)
    index = {name: i for i, name in enumerate(categories)}
    tail_idx = np.arange(len(heads), len(categories), dtype=np.int32)
    spec = tail_cfg[kind]
    tail_cum = _zipf_cum(len(tail), spec["exponent"], spec["offset"])
    out = {}
    for gname, g in groups.items():
        keys = ("M", "F") if kind == "forename" else ("head",)
        for key in keys:
            names = list(g[key])
            w = np.array([g[key][n] for n in names], float)
            out[(gname, None if key == "head" else key)] = NameGroup(
                head_idx=np.array([index[n] for n in names], dtype=np.int32),
                head_cum=np.cumsum(w) / w.sum(),
                tail_share=float(g["tail_share"]),
            )
    return NameTables(categories, tail_idx, tail_cum, out)
