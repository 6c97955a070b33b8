"""One LA's home geography: postcodes in LSOAs in sectors in districts, and their labels.

A pupil may live in another LA than its school's (cross-border attendance,
:func:`synthetic._samplers.homes.sample_geography`), so an LA's geography is needed by other LAs'
chunks too, and must be the same in each of them: it is drawn from its own stream,
``(seed, "geography", la_code)``, and depends only on the plan. :func:`la_geography` builds it
once per process (a chunk's own LA and the few LAs its cross-border pupils live in) and keeps it
for the rest of the cohort.

Numbers are the LA's own (postcode, LSOA, sector and district ``0 .. n - 1``); a *key* is the
number across England: the LA's offset (the plan's LAs in order) plus its own number, so that
one postcode has one key whichever chunk draws it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._data import load_json
from ._plan import Plan
from ._rng import stream

__all__ = ["Geography", "la_geography", "INWARD"]

_GEO = load_json("geography.json")
#: Letters of the inward code (Royal Mail never uses C, I, K, M, O or V there).
INWARD = np.array(list(_GEO["inward_letters"]["value"]))
_UNIT_MULT = np.array([a for a in range(1, 400) if np.gcd(a, 400) == 1])
_PHASES = ("PS", "SS", "SP", "PR")  # the plan's phase codes 0-3 (schema.PHASES)


def _district_label(num: np.ndarray) -> list[str]:
    out = []
    for k in num.tolist():
        if k <= 99:
            out.append(str(k))
        else:  # beyond 99 districts in one area: ANA-style outward codes (e.g. 'E1W')
            j = k - 100
            out.append(f"{j % 9 + 1}{'ABCDEFGHJKPSTUW'[(j // 9) % 15]}")
    return out


@dataclass(frozen=True, slots=True, eq=False)
class Geography:
    """The home geography of one LA (row ``la`` of the plan's LA table).

    Districts > sectors > LSOAs > unit postcodes, contiguous blocks (each level nested in the
    one above); postcode weights gamma distributed (``cw``: cumulative, from 0); the sector of
    each of the LA's schools; each LSOA's IDACI decile (1 = most deprived); the labels of
    districts and sectors, and each postcode's inward-code number (``unit``, 0-399, a
    per-sector permutation). ``home_w[phase]`` is where the LA's pupils of each school phase live:
    the expected pupils per postcode of the catchment model (each school's pupils in its
    sector, its district or anywhere in the LA, in proportion to the postcode weights); a pupil
    who lives here and goes to school in another LA lives where the LA's own pupils of its
    phase do.
    """

    la: int
    pc_lsoa: np.ndarray  # per postcode
    pc_sec: np.ndarray  # per postcode
    sec_dis: np.ndarray  # per sector
    cw: np.ndarray  # cumulative postcode weights, n_pc + 1
    sec_lo: np.ndarray  # postcodes of sector s: sec_lo[s]:sec_hi[s]
    sec_hi: np.ndarray
    dis_lo: np.ndarray  # postcodes of district d: dis_lo[d]:dis_hi[d]
    dis_hi: np.ndarray
    unit: np.ndarray  # per postcode
    decile: np.ndarray  # per LSOA
    school_sector: np.ndarray  # per school of the LA (plan order)
    home_w: np.ndarray  # (phase, postcode): expected pupils of the phase living there
    sec_label: np.ndarray  # object, per sector ('LS6 2')
    dis_label: np.ndarray  # object, per district ('LS6')

    @property
    def n_pc(self) -> int:
        return len(self.pc_sec)

    def postcode_labels(self, pc: np.ndarray) -> np.ndarray:
        """Unit postcode labels ('LS6 2AB') of the LA's postcodes ``pc`` (object array)."""
        u = self.unit[pc]
        letters = INWARD[u // 20].astype(object) + INWARD[u % 20].astype(object)
        return self.sec_label[self.pc_sec[pc]] + letters


def build_geography(plan: Plan, la: int) -> Geography:
    """Draw LA ``la``'s geography from its stream ``(seed, "geography", la_code)``."""
    rng = stream(plan.root, "geography", int(plan.la_code[la]))
    n_pc = int(plan.la_n_postcodes[la])
    n_lsoa = int(plan.la_n_lsoa[la])
    n_sec = int(plan.la_n_sectors[la])
    n_dis = int(plan.la_n_districts[la])
    pc_lsoa = (np.arange(n_pc, dtype=np.int64) * n_lsoa // n_pc).astype(np.int32)
    lsoa_sec = np.arange(n_lsoa, dtype=np.int64) * n_sec // n_lsoa
    sec_dis = (np.arange(n_sec, dtype=np.int64) * n_dis // n_sec).astype(np.int32)
    pc_sec = lsoa_sec[pc_lsoa].astype(np.int32)
    pc_dis = sec_dis[pc_sec]
    w = rng.gamma(_GEO["postcode_weight_shape"]["value"], 1.0, size=n_pc)
    cw = np.concatenate([[0.0], np.cumsum(w)])
    steps = np.arange(n_sec)
    sec_lo = np.searchsorted(pc_sec, steps, side="left")
    sec_hi = np.searchsorted(pc_sec, steps, side="right")
    dis_lo = np.searchsorted(pc_dis, np.arange(n_dis), side="left")
    dis_hi = np.searchsorted(pc_dis, np.arange(n_dis), side="right")
    # schools sit in a sector chosen in proportion to its weight
    sec_w = cw[sec_hi] - cw[sec_lo]
    school = slice(int(plan.la_school_start[la]), int(plan.la_school_stop[la]))
    size = plan.school_size[school].astype(float)
    phase = plan.school_phase[school]
    cum = np.cumsum(sec_w)
    school_sec = np.minimum(
        np.searchsorted(cum / cum[-1], rng.random(len(size)), side="right"), n_sec - 1
    )
    # where the LA's pupils live: each school's catchment shares spread over postcode weights
    share = {
        k: np.array([_GEO["catchment"][p][k] for p in _PHASES])
        for k in ("sector", "district", "la")
    }
    school_dis = sec_dis[school_sec]
    dis_w = cw[dis_hi] - cw[dis_lo]
    home_w = np.empty((len(_PHASES), n_pc))
    for p in range(len(_PHASES)):  # a loop over the 4 phases
        m = phase == p
        sz, ss, sd = size[m], school_sec[m], school_dis[m]
        sec_mass = np.bincount(ss, weights=sz * share["sector"][p] / sec_w[ss], minlength=n_sec)
        dis_mass = np.bincount(sd, weights=sz * share["district"][p] / dis_w[sd], minlength=n_dis)
        la_mass = float(np.sum(sz)) * share["la"][p] / cw[-1]
        home_w[p] = w * (sec_mass[pc_sec] + dis_mass[pc_dis] + la_mass)
    # unit postcode labels: a per-sector affine permutation of the 400 letter pairs
    rank = np.arange(n_pc) - sec_lo[pc_sec]
    a = _UNIT_MULT[rng.integers(0, len(_UNIT_MULT), size=n_sec)]
    b = rng.integers(0, 400, size=n_sec)
    unit = ((a[pc_sec] * rank + b[pc_sec]) % 400).astype(np.int16)
    # IDACI decile per LSOA (1 = most deprived)
    z = plan.la_idaci_mu[la] + rng.standard_normal(n_lsoa)
    decile = (10 - np.searchsorted(plan.idaci_cuts, z, side="right")).astype(np.int8)
    area = plan.la_area[la]
    dis_num = plan.la_district_start[la] + np.arange(n_dis)
    dis_label = np.array([area + d for d in _district_label(dis_num)], dtype=object)
    sec_digit = steps - np.searchsorted(sec_dis, sec_dis, side="left")
    sec_label = dis_label[sec_dis] + " " + sec_digit.astype(str).astype(object)
    return Geography(
        la,
        pc_lsoa,
        pc_sec,
        sec_dis,
        cw,
        sec_lo,
        sec_hi,
        dis_lo,
        dis_hi,
        unit,
        decile,
        school_sec,
        home_w,
        sec_label,
        dis_label,
    )


# The geographies built in this process, for one plan at a time (a national cohort's take some
# 30 MB; a new plan drops them). Forked workers start with the parent's.
# No lock (the process may fork at any time): two threads may build one geography twice,
# identically, and keep either.
_CACHE: dict = {"plan": None, "las": {}}


def la_geography(plan: Plan, la: int) -> Geography:
    """LA ``la``'s geography (:func:`build_geography`), built once per process and plan (a
    plan is a function of its seed and size)."""
    key = (plan.root, plan.n_pupils)
    las = _CACHE["las"]
    if _CACHE["plan"] != key:
        las = {}
        _CACHE["plan"], _CACHE["las"] = key, las
    geo = las.get(la)
    if geo is None:
        geo = las.setdefault(la, build_geography(plan, la))
    return geo


@dataclass(frozen=True, slots=True, eq=False)
class RegionHomes:
    """The postcodes of a region's LAs side by side (the LAs with pupils, in plan order): where a
    pupil who crosses an LA border to school lives, drawn and labelled in one pass however many
    LAs its chunk's families live in.

    A *position* numbers the region's postcodes (sectors, districts) LA after LA; ``*_key``
    turns a position into its key across England, which is increasing in the position.
    """

    las: np.ndarray  # LA rows, ascending
    starts: np.ndarray  # (phase, postcode position): where its home-weight interval starts
    shift: np.ndarray  # (phase, LA row, all rows): the start of the LA's block (0 if not here)
    total: np.ndarray  # (phase, LA row): the LA's total home weight
    first: np.ndarray  # per LA row: its first postcode position
    n_pc: np.ndarray  # per LA row: its postcodes
    pc_key: np.ndarray
    pc_sec: np.ndarray  # sector position of each postcode position
    pc_lsoa_key: np.ndarray  # LSOA key (= global LSOA number) of each postcode position
    pc_decile: np.ndarray
    unit: np.ndarray
    sec_key: np.ndarray
    sec_dis: np.ndarray  # district position of each sector position
    sec_label: np.ndarray
    dis_key: np.ndarray
    dis_label: np.ndarray

    def pick(self, la: np.ndarray, phase: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A postcode position in LA ``la`` (rows) for each uniform ``u``, where the LA's pupils
        of school phase ``phase`` live (``Geography.home_w``)."""
        pos = np.empty(len(la), dtype=np.int64)
        for p in range(self.starts.shape[0]):  # a loop over the 4 phases
            m = phase == p
            pos[m] = (
                np.searchsorted(
                    self.starts[p], self.shift[p, la[m]] + u[m] * self.total[p, la[m]], side="right"
                )
                - 1
            )
        return np.clip(pos, self.first[la], self.first[la] + self.n_pc[la] - 1)

    def postcode_labels(self, pos: np.ndarray) -> np.ndarray:
        u = self.unit[pos]
        letters = INWARD[u // 20].astype(object) + INWARD[u % 20].astype(object)
        return self.sec_label[self.pc_sec[pos]] + letters


def build_region_homes(plan: Plan, region: int) -> RegionHomes:
    """The :class:`RegionHomes` of a region, from its LAs' geographies."""
    n_la = len(plan.la_code)
    las = np.flatnonzero((plan.la_region_idx == region) & (plan.la_pupils > 0))
    geos = [la_geography(plan, int(la)) for la in las]
    k = len(_PHASES)
    n_pc = np.zeros(n_la, np.int64)
    total = np.zeros((k, n_la))
    shift = np.zeros((k, n_la))
    first = np.zeros(n_la, np.int64)
    n_pc[las] = [g.n_pc for g in geos]
    home_cw = [np.cumsum(g.home_w, axis=1) - g.home_w for g in geos]  # each interval's start
    total[:, las] = np.array([g.home_w.sum(axis=1) for g in geos]).T if geos else np.zeros((k, 0))
    shift[:, las] = np.cumsum(total[:, las], axis=1) - total[:, las]
    first[las] = np.concatenate([[0], np.cumsum(n_pc[las])[:-1]])
    n_sec = np.array([len(g.sec_dis) for g in geos], np.int64)
    n_dis = np.array([len(g.dis_label) for g in geos], np.int64)
    sec_first = np.concatenate([[0], np.cumsum(n_sec)[:-1]])
    dis_first = np.concatenate([[0], np.cumsum(n_dis)[:-1]])

    def cat(parts, dtype):
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    pairs = list(zip(geos, las.tolist(), strict=True))
    return RegionHomes(
        las=las,
        starts=(
            np.concatenate(
                [c + shift[:, [la]] for c, la in zip(home_cw, las.tolist(), strict=True)], axis=1
            )
            if geos
            else np.zeros((k, 0))
        ),
        shift=shift,
        total=total,
        first=first,
        n_pc=n_pc,
        pc_key=cat([plan.la_pc_offset[la] + np.arange(g.n_pc) for g, la in pairs], np.int64),
        pc_sec=cat([g.pc_sec + s for g, s in zip(geos, sec_first, strict=True)], np.int64),
        pc_lsoa_key=cat([g.pc_lsoa + plan.la_lsoa_offset[la] for g, la in pairs], np.int64),
        pc_decile=cat([g.decile[g.pc_lsoa] for g in geos], np.int8),
        unit=cat([g.unit for g in geos], np.int16),
        sec_key=cat(
            [plan.la_sec_offset[la] + np.arange(len(g.sec_dis)) for g, la in pairs], np.int64
        ),
        sec_dis=cat([g.sec_dis + d for g, d in zip(geos, dis_first, strict=True)], np.int64),
        sec_label=cat([g.sec_label for g in geos], object),
        dis_key=cat(
            [plan.la_dis_offset[la] + np.arange(len(g.dis_label)) for g, la in pairs], np.int64
        ),
        dis_label=cat([g.dis_label for g in geos], object),
    )


def region_homes(plan: Plan, region: int) -> RegionHomes:
    """The region's :class:`RegionHomes`, built once per process and plan."""
    key = (plan.root, plan.n_pupils)
    if _CACHE["plan"] != key:
        _CACHE["plan"], _CACHE["las"] = key, {}
    las = _CACHE["las"]
    homes = las.get(("region", region))
    if homes is None:
        homes = las.setdefault(("region", region), build_region_homes(plan, region))
    return homes
