"""Where pupils live: households (siblings and twins share a home), the home postcode and its
sector, district, area, LSOA and IDACI decile, and home LA / region (some families live in
another LA of the region). The chunk-local categoricals (:class:`LocalCategorical`) number the
postcodes and LSOAs present in the chunk."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._data import load_json
from .._families import family_rank, form_families
from .._geography import la_geography, region_homes
from .._plan import Plan
from ..schema import PHASES
from .chunk import Chunk, Homes
from .draw import _cum, _pick, _pick_in_range
from .identifiers import family_ids

_GEO = load_json("geography.json")


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
    from .._data import REGIONS

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
    from .._rng import stream

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
    instead (:func:`cross_border_homes`; not when ``chunk.cross_border`` is false, as in
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
    from .._rng import stream

    entry = chunk.entry
    fam = form_families(
        stream(plan.root, "family", int(plan.la_code[la])),
        school=chunk.school,
        vyear=chunk.cols["nc_year"] if entry is None else entry.vyear,
        sector=pc_sec[pc],
        entry=None if entry is None else entry.entry_step,
    )
    pc = pc[fam.root]
    twins = fam.twin_of >= 0
    dob_cols = {
        k: chunk.cols[k].copy() for k in ("date_of_birth", "year_of_birth", "month_of_birth")
    }
    for _k, col in dob_cols.items():
        col[twins] = col[fam.twin_of[twins]]
    # cross-border attendance: some families live in another LA of the region
    away = cross_border_homes(plan, la, fam, phase) if chunk.cross_border else None
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
    chunk.homes = Homes(family=fam, pc=pc, geo=geo, lsoa=lsoa.codes, n_lsoa=len(lsoa.categories))
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
