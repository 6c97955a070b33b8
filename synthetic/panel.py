"""``generate_panel``: the same synthetic pupils census after census, generated LA by LA.

A panel is one row per pupil per census over a run of academic years, with a stable pupil id.
Each LA chunk is built once with the cross-sectional samplers (its pupils of the first census
plus every later entrant: Reception intakes and in-year joiners), then stepped through the
censuses with vectorised transitions: year groups advance each September, Year 11 / 13 leave,
Year 6 transfers to a secondary near home, families move home and pupils change school, some
leave the state sector, special schools and alternative provision refill, FSM / SEN /
looked-after status follow latent Gaussian AR(1) processes that keep each census's
cross-sectional probabilities, exclusions accrue per year, and KS2 and KS4 results attach at the
right years. See ``docs/synthetic.md`` ("The panel") and ``synthetic/data/panel.json``.
"""

from __future__ import annotations

import functools
import json
import numbers
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pds
import pyarrow.parquet as pq
from scipy.special import ndtr
from tqdm import tqdm

from ._data import REGIONS, load_json
from ._families import family_rank
from ._plan import N_YEARS, Plan, build_plan, names_tables
from ._rng import root_entropy, stream
from ._samplers import (
    _INWARD,
    SAMPLERS,
    Chunk,
    _digits,
    _pick_in_range,
    _year_probs,
    exclusion_reason_from_uniform,
    fsm_prob,
    looked_after_prob,
    permanent_exclusion_prob,
    sample_structure,
    school_columns,
    sample_upn,
    sen_from_uniform,
    sen_probs,
    sen_type_from_uniform,
    suspension_rate,
)
from ._version import GENERATOR_VERSION
from .cohort import FULL_POPULATION
from .exceptions import ExtractExistsError, SyntheticError
from .schema import FIELD_NAMES, check_column_names, field, pandas_dtype

__all__ = [
    "CENSUSES",
    "PANEL_FIELDS",
    "PanelDataset",
    "generate_panel",
    "panel_columns",
    "read_panel",
]

#: Census terms in calendar order within an academic year.
CENSUSES: tuple[str, ...] = ("autumn", "spring", "summer")
#: Columns a panel adds to the registry fields: (name, tier). Attainment is tier 4 (npd-spec 1.4).
PANEL_FIELDS: tuple[tuple[str, int], ...] = (
    ("academic_year", 4), ("census", 4), ("ks2_reading", 4), ("ks2_maths", 4), ("attainment8", 4),
)
MAX_PANEL_PUPILS = 20_000_000

_CFG = load_json("panel.json")
_GEO = load_json("geography.json")
_CHAR = load_json("characteristics.json")
_EXCL = _CHAR["exclusions"]
PS, SS, SP, PR = range(4)
N_, K_, E_ = range(3)
_PID_MOD = 9_999_999_967


def panel_columns() -> tuple[str, ...]:
    """Column names of a panel, in order: academic year, census, the registry, attainment."""
    return ("academic_year", "census") + FIELD_NAMES + ("ks2_reading", "ks2_maths", "attainment8")


# ------------------------------------------------------------------------------ validation
def _check_int(value: object, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not lo <= int(value) <= hi:
        raise SyntheticError(
            f"The '{name}' parameter of generate_panel must be an int in the range [{lo}, {hi}]. "
            f"Got {value!r} instead."
        )
    return int(value)


def _check_censuses(censuses: object) -> tuple[str, ...]:
    if isinstance(censuses, str):
        censuses = (censuses,)
    try:
        items = tuple(censuses)  # type: ignore[arg-type]
    except TypeError:
        items = ()
    if not items or any(c not in CENSUSES for c in items) or len(set(items)) != len(items):
        raise SyntheticError(
            f"The 'censuses' parameter of generate_panel must be distinct names from "
            f"{list(CENSUSES)}. Got {censuses!r} instead."
        )
    return tuple(c for c in CENSUSES if c in items)


@dataclass(frozen=True, slots=True)
class _Spec:
    root: int
    n_pupils: int
    years: int
    first_year: int
    censuses: tuple[str, ...]
    columns: tuple[str, ...] | None = None  # None: every column of panel_columns()

    @property
    def steps(self) -> list[tuple[int, str]]:
        return [(t, c) for t in range(self.years) for c in self.censuses]

    def wants(self, column: str) -> bool:
        return self.columns is None or column in self.columns


# ------------------------------------------------------------------------------ helpers
def _shift_years(dob: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Add ``k`` calendar years to dates (29 February becomes 28 February)."""
    month = dob.astype("datetime64[M]")
    day = (dob - month.astype("datetime64[D]")).astype(np.int64)
    m2 = month + (12 * np.asarray(k, np.int64)).astype("timedelta64[M]")
    end = (m2 + np.timedelta64(1, "M")).astype("datetime64[D]") - np.timedelta64(1, "D")
    return np.minimum(m2.astype("datetime64[D]") + day.astype("timedelta64[D]"), end)


def _ar1(rng: np.random.Generator, z: np.ndarray, rho: float) -> np.ndarray:
    return rho * z + np.sqrt(1.0 - rho * rho) * rng.standard_normal(len(z))


def _ids(root: int, name: str, prefix: str, g: np.ndarray) -> np.ndarray:
    """'P'/'F' + 10 digits: affine bijection (mod a prime) of a global index."""
    s = stream(root, name)
    a = int(s.integers(1, _PID_MOD))
    b = int(s.integers(0, _PID_MOD))
    v = (a * g.astype(np.int64) + b) % _PID_MOD
    out = np.empty((len(v), 11), dtype=np.uint8)
    out[:, 0] = ord(prefix)
    out[:, 1:] = _digits(v, 10) + ord("0")
    return out


class _SchoolChooser:
    """Capacity-weighted choice of a school of one phase near a home, with scope shares.

    Schools of the phase are sorted by their postcode sector; a pupil picks its own sector's
    schools with probability ``share_sector``, its district's with ``share_district``, else
    any in the LA (falling back to the wider scope when a range is empty).
    """

    def __init__(self, local_idx, sector, sec_dis, capacity, n_sec, n_dis):
        order = np.lexsort((local_idx, sector))
        self.idx = local_idx[order]
        self.sec = sector[order]
        self.cw = np.concatenate([[0.0], np.cumsum(capacity[order].astype(float))])
        dis = sec_dis[self.sec]
        self.sec_lo = np.searchsorted(self.sec, np.arange(n_sec), "left")
        self.sec_hi = np.searchsorted(self.sec, np.arange(n_sec), "right")
        self.dis_lo = np.searchsorted(dis, np.arange(n_dis), "left")
        self.dis_hi = np.searchsorted(dis, np.arange(n_dis), "right")
        self.sec_dis = sec_dis
        self.n = len(self.idx)

    def choose(self, rng, home_sec, share_sector, share_district) -> np.ndarray:
        m = len(home_sec)
        if self.n == 0:
            return np.full(m, -1, dtype=np.int64)
        u = rng.random(m)
        lo = np.zeros(m, np.int64)
        hi = np.full(m, self.n, np.int64)
        d = self.sec_dis[home_sec]
        dl, dh = self.dis_lo[d], self.dis_hi[d]
        sl, sh = self.sec_lo[home_sec], self.sec_hi[home_sec]
        in_dis = (u >= share_sector) & (u < share_sector + share_district) | ((u < share_sector) & (sh == sl))
        in_sec = (u < share_sector) & (sh > sl)
        in_dis &= dh > dl
        lo[in_dis], hi[in_dis] = dl[in_dis], dh[in_dis]
        lo[in_sec], hi[in_sec] = sl[in_sec], sh[in_sec]
        pos = _pick_in_range(self.cw, lo, hi, rng.random(m))
        return self.idx[pos]


# ------------------------------------------------------------------------------ chunk build
def _panel_structure(spec: _Spec):
    n_c = len(spec.censuses)

    def sampler(rng: np.random.Generator, chunk: Chunk) -> dict:
        base = sample_structure(rng, chunk)
        n0 = chunk.n
        school0, year0 = chunk.school, base["nc_year"]
        size = chunk.school_attr("size").astype(float)
        phase = chunk.school_attr("phase")
        expected = size[:, None] * _year_probs(phase, chunk.school_attr("sixth"))
        join = np.array([_CFG["join_rate"][p] for p in ("PS", "SS", "SP", "PR")])[phase]
        rate = np.zeros_like(expected)
        rate[:, 0] = 1.0  # a Reception intake the size of the current one
        rate[:, 1:12] = join[:, None]
        n_s = expected.shape[0]
        extra_t = max(spec.years - 1, 0)
        counts = rng.poisson(np.broadcast_to(expected * rate, (extra_t, n_s, N_YEARS)))
        flat = counts.ravel()
        t_e = np.repeat(np.repeat(np.arange(1, extra_t + 1), n_s * N_YEARS), flat)
        s_e = np.repeat(np.tile(np.repeat(np.arange(n_s), N_YEARS), extra_t), flat).astype(np.int32)
        y_e = np.repeat(np.tile(np.arange(N_YEARS, dtype=np.int8), extra_t * n_s), flat)
        term = np.where(y_e == 0, 0, rng.integers(0, n_c, size=len(y_e)))  # joiners: any census
        school = np.concatenate([school0, s_e])
        year = np.concatenate([year0, y_e])
        entry_t = np.concatenate([np.zeros(n0, np.int64), t_e])
        entry_step = np.concatenate([np.zeros(n0, np.int64), t_e * n_c + term])
        chunk.school = school
        chunk.n = len(school)
        chunk.aux["entry_t"] = entry_t
        chunk.aux["entry_step"] = entry_step
        chunk.aux["vyear"] = year.astype(np.int64) - entry_t
        return school_columns(chunk, school, year, phase)

    return sampler


_SKIP = {"primary_sen_type", "ever_fsm_6", "looked_after", "suspensions", "permanent_exclusion",
         "exclusion_reason", "pupil_id", "upn"}


#: Fields only the panel's output reads (its dynamics do not): not drawn unless asked for.
_OUTPUT_ONLY = ("forename", "surname", "upn")


def _build_chunk(plan: Plan, la: int, spec: _Spec) -> Chunk:
    chunk = Chunk(plan=plan, la=la)
    key = int(plan.la_code[la])
    structure = _panel_structure(spec)
    skip = _SKIP | {f for f in _OUTPUT_ONLY if not spec.wants(f)}
    for name, sampler in SAMPLERS:
        if name in skip:
            continue
        fn = structure if name == "nc_year" else sampler
        chunk.cols.update(fn(stream(spec.root, name, key), chunk))
    if spec.wants("upn"):
        # UPN: issued in the year the pupil entered Reception (first year minus its virtual year)
        saved = chunk.cols["nc_year"]
        chunk.cols["nc_year"] = (chunk.aux["vyear"] + (plan.academic_year - spec.first_year)).astype(np.int64)
        chunk.cols.update(sample_upn(stream(spec.root, "upn", key), chunk))
        chunk.cols["nc_year"] = saved
    # dates of birth: drawn for the plan's year, shifted to the pupil's entry year
    shift = chunk.aux["entry_t"] + (spec.first_year - plan.academic_year)
    dob = _shift_years(chunk.cols["date_of_birth"].astype("datetime64[D]"), shift)
    chunk.cols["date_of_birth"] = dob
    chunk.cols["year_of_birth"] = (dob.astype("datetime64[Y]").astype(np.int64) + 1970).astype(np.int16)
    chunk.cols["month_of_birth"] = (dob.astype("datetime64[M]").astype(np.int64) % 12 + 1).astype(np.int8)
    return chunk


# ------------------------------------------------------------------------------ simulation
class _LA:
    """State of one LA chunk while it is stepped through the censuses."""

    def __init__(self, plan: Plan, la: int, spec: _Spec, offset_id: int):
        self.plan, self.la, self.spec = plan, la, spec
        ch = _build_chunk(plan, la, spec)
        self.chunk = ch
        n = ch.n
        self.n = n
        key = int(plan.la_code[la])
        self.rng = stream(spec.root, "panel.dynamics", key)
        rng = self.rng
        geo = ch.aux["geo"]
        self.geo = geo
        self.fam = ch.aux["family"]
        self.root = self.fam.root
        self.is_root = self.root == np.arange(n)
        self.start = int(plan.la_school_start[la])
        c = ch.cols
        self.sex, self.minor = c["sex"], c["ethnic_group_minor"]
        self.eal = c["eal"]
        self.entry_step = ch.aux["entry_step"]
        self.entry_year = c["nc_year"].astype(np.int8)
        self.vyear = ch.aux["vyear"]
        # state
        self.present = np.zeros(n, bool)
        self.left = np.zeros(n, bool)
        self.year = c["nc_year"].astype(np.int8).copy()
        self.school = (self.start + ch.school).astype(np.int32)  # global school index
        self.home = ch.aux["pc"].astype(np.int64).copy()  # per row; families share via root
        self.z_fsm = rng.standard_normal(n)
        self.z_sen = rng.standard_normal(n)
        self.z_cla = rng.standard_normal(n)
        self.u_type = rng.random(n)
        self.frailty = rng.gamma(_EXCL["suspension_dispersion"], 1.0 / _EXCL["suspension_dispersion"], n)
        self.susp = np.zeros(n, np.int16)
        self.pex = np.zeros(n, bool)
        self.reason = np.full(n, -1, np.int8)
        self.pending_ap = np.zeros(n, bool)
        self.last_fsm_year = np.full(n, -100, np.int64)
        self.susp_year = np.full(n, -1, np.int64)
        # KS2 / KS4: persistent attainment latents; scores fixed at the first census in Year 6
        # (KS2) and Year 11 (KS4) from that census's FSM / SEN / EAL
        cfg = _CFG["ks2"]
        r = cfg["reading_maths_correlation"]
        self.a_read = rng.standard_normal(n)
        self.a_math = r * self.a_read + np.sqrt(1 - r * r) * rng.standard_normal(n)
        self.e_ks4 = rng.standard_normal(n)
        self.ks2_reading = np.zeros(n, np.int8)
        self.ks2_maths = np.zeros(n, np.int8)
        self.has_ks2 = np.zeros(n, bool)
        self.att8 = np.zeros(n, np.float32)
        self.has_ks4 = np.zeros(n, bool)
        self.low_ks2 = np.zeros(n, bool)
        # choosers
        self._choosers()
        # special school / AP targets by year group (this LA's first-census counts)
        ph0 = plan.school_phase[self.school]
        base = self.entry_step == 0
        self.target = {p: np.bincount(self.year[base & (ph0 == p)], minlength=N_YEARS) for p in (SP, PR)}
        # pre-panel FSM history (burn-in) for pupils on roll at the first census
        self._burn_in(c)
        # static output columns
        g = offset_id + np.arange(n, dtype=np.int64)
        self.pupil_id = _ids(spec.root, "panel.pupil_id", "P", g)
        self.offset_id = offset_id
        self.dob_days = c["date_of_birth"].astype("datetime64[D]").astype(np.int64)

    # Static output columns only some panels ask for, built once per LA when first asked.
    @functools.cached_property
    def family_id(self) -> np.ndarray:
        return _ids(self.spec.root, "panel.family_id", "F", self.offset_id + self.root)

    @functools.cached_property
    def pc_label(self) -> np.ndarray:
        geo, unit = self.geo, self.geo["unit"]
        return (geo["sec_label"][geo["pc_sec"]] + _INWARD[unit // 20].astype(object)
                + _INWARD[unit % 20].astype(object))

    # -------------------------------------------------------------- set-up pieces
    def _attainment(self, rows, year, fsm, ever, sen):
        """Fix KS2 at the first census in Year 6 or later, Attainment 8 at the first in Year 11+."""
        k2 = _CFG["ks2"]
        share = _CFG["national_shares"]
        need = ~self.has_ks2[rows] & (year >= 6) & ~((self.entry_step[rows] > 0) & (self.entry_year[rows] >= 7))
        r = rows[need]
        if len(r):
            f, sn = fsm[need], sen[need]
            for name, z, outp in (("reading", self.a_read, self.ks2_reading), ("maths", self.a_math, self.ks2_maths)):
                k = k2[name]
                eff = (k["fsm"] * (f - share["fsm"])
                       + np.where(sn == K_, k["sen_K"], np.where(sn == E_, k["sen_E"], 0.0))
                       - k["sen_K"] * share["sen_K"] - k["sen_E"] * share["sen_E"]
                       + k["eal"] * (self.eal[r] - share["eal"]) + k["female"] * ((self.sex[r] == 1) - 0.49))
                outp[r] = np.clip(np.rint(k["mean"] + k["sd"] * (0.85 * z[r] + eff)), 80, 120)
            self.has_ks2[r] = True
            prior = ((self.ks2_reading[r] - k2["reading"]["mean"]) / k2["reading"]["sd"]
                     + (self.ks2_maths[r] - k2["maths"]["mean"]) / k2["maths"]["sd"]) / 2
            self.low_ks2[r] = prior < -0.75
        need = ~self.has_ks4[rows] & (year >= 11)
        r = rows[need]
        if len(r):
            k4 = _CFG["ks4"]
            prior = np.where(self.has_ks2[r],
                             ((self.ks2_reading[r] - k2["reading"]["mean"]) / k2["reading"]["sd"]
                              + (self.ks2_maths[r] - k2["maths"]["mean"]) / k2["maths"]["sd"]) / 2,
                             (self.a_read[r] + self.a_math[r]) / 2)
            sn = sen[need]
            a8 = (k4["mean"] + k4["prior_slope"] * prior + k4["ever_fsm"] * (ever[need] - share["ever_fsm"])
                  + np.where(sn == K_, k4["sen_K"], np.where(sn == E_, k4["sen_E"], 0.0))
                  - k4["sen_K"] * share["sen_K"] - k4["sen_E"] * share["sen_E"]
                  + k4["noise_sd"] * self.e_ks4[r])
            self.att8[r] = np.clip(np.rint(a8 * 2) / 2, k4["min"], k4["max"])
            self.has_ks4[r] = True

    def _choosers(self):
        plan, la, geo = self.plan, self.la, self.geo
        sl = slice(self.start, int(plan.la_school_stop[la]))
        phase = plan.school_phase[sl]
        size = plan.school_size[sl].astype(float)
        sixth = plan.school_sixth[sl]
        sec = geo["school_sector"]
        n_sec, n_dis = int(plan.la_n_sectors[la]), int(plan.la_n_districts[la])
        local = np.arange(len(phase))
        self.chooser = {}
        for p in (PS, SS, SP, PR):
            m = phase == p
            cap = size[m] / np.where(p == SS, 5 + 1.22 * sixth[m], 1.0)
            self.chooser[p] = _SchoolChooser(local[m], sec[m], geo["sec_dis"], cap, n_sec, n_dis)
        # schools of the region by phase (cross-LA transfers; LAs without a school of a phase)
        reg = plan.la_region_idx[plan.school_la]
        self.region = {}
        for p in (PS, SS, SP, PR):
            m = (plan.school_phase == p) & (reg == plan.la_region_idx[la])
            if not m.any():  # small cohorts: no school of the phase in the region -> England
                m = plan.school_phase == p
            cap = plan.school_size[m] / np.where(p == SS, 5 + 1.22 * plan.school_sixth[m], 1.0)
            self.region[p] = (np.flatnonzero(m), np.concatenate([[0.0], np.cumsum(cap.astype(float))]))

    def _region_pick(self, p: int, m: int) -> np.ndarray:
        """Global indices of ``m`` capacity-weighted schools of phase ``p`` in the region (in
        England when the region has none, which happens only in small cohorts)."""
        idx, cw = self.region[p]
        if len(idx) == 0:
            return np.full(m, -1, np.int64)
        pos = _pick_in_range(cw, np.zeros(m, np.int64), np.full(m, len(idx), np.int64), self.rng.random(m))
        return idx[pos]

    def _burn_in(self, c):
        """FSM in the (up to) five years before the panel, for pupils on roll at the start."""
        rho = _CFG["persistence"]["fsm"]
        z = self.z_fsm.copy()
        on0 = self.entry_step == 0
        dec = self.decile_of(self.home[self.root])
        sen = c["sen_provision"]
        for k in range(1, 6):
            z = _ar1(self.rng, z, rho)  # a stationary AR(1) is time-reversible
            yr = self.year.astype(np.int64) - k
            ph = self.plan.school_phase[self.school]
            ph = np.where((ph == SS) & (yr <= 6), PS, ph)
            fsm = ndtr(z[self.root]) < fsm_prob(dec, ph, sen, self.minor)
            hit = on0 & (yr >= 0) & fsm & (self.last_fsm_year < -k)
            self.last_fsm_year[hit] = -k

    # -------------------------------------------------------------- geography
    def decile_of(self, pc):
        return self.geo["decile"][self.geo["pc_lsoa"][pc]]

    def sector_of(self, pc):
        return self.geo["pc_sec"][pc]

    # -------------------------------------------------------------- transitions
    def _leave(self, mask):
        self.present &= ~mask
        self.left |= mask

    def _move_school(self, rows, phase_now):
        """Move ``rows`` to another school of their phase near the family home.

        A draw that lands on the current school is redrawn LA-wide, then region-wide (up to three
        times), so a move is a move even where the LA has one school of the phase."""
        rng = self.rng
        home_sec = self.sector_of(self.home[self.root[rows]])
        cur = self.school[rows].astype(np.int64)
        new = np.full(len(rows), -1, np.int64)
        for scope in ("near", "la", "region", "region", "region"):
            redo = (new < 0) | (new == cur)
            for p in (PS, SS, SP, PR):
                m = redo & (phase_now == p)
                if not m.any():
                    continue
                if scope == "region":
                    new[m] = self._region_pick(p, int(m.sum()))
                    continue
                c = _GEO["catchment"][("PS", "SS", "SP", "PR")[p]]
                sh = (c["sector"], c["district"]) if scope == "near" else (0.0, 0.0)
                got = self.chooser[p].choose(rng, home_sec[m], *sh)
                new[m] = np.where(got >= 0, self.start + got, -1)
        ok = new >= 0
        self.school[rows[ok]] = new[ok]

    def new_year(self, t: int):
        """September: age, leave at 16/18, Year 7 transfer, AP returns."""
        rng = self.rng
        plan = self.plan
        p = self.present
        self.year[p] += 1
        phase = plan.school_phase[self.school]
        w = _CFG_YEAR_W
        # sixth form: stay with the cross-sectional year ratios, else leave
        y = self.year
        key = np.where(phase == SS, np.where(plan.school_sixth[self.school], 1, 0), phase + 2)
        stay12 = w["stay12"][key]
        stay13 = w["stay13"][key]
        u = rng.random(self.n)
        out = p & (((y == 12) & (u >= stay12)) | ((y == 13) & (u >= stay13)) | (y >= 14))
        self._leave(out)
        # Year 7 transfer from primary
        tr = np.flatnonzero(self.present & (y == 7) & (phase == PS))
        if len(tr):
            home_sec = self.sector_of(self.home[self.root[tr]])
            c = _GEO["catchment"]["SS"]
            new = self.chooser[SS].choose(rng, home_sec, c["sector"], c["district"])
            new = np.where(new >= 0, self.start + new, -1)
            other = (rng.random(len(tr)) < _CFG["transfer"]["other_la_share"]) | (new < 0)
            new[other] = self._region_pick(SS, int(other.sum()))
            self.school[tr] = np.where(new >= 0, new, self.school[tr])
        # AP returns to mainstream
        phase = plan.school_phase[self.school]
        ap = np.flatnonzero(self.present & (phase == PR))
        back = ap[rng.random(len(ap)) < _CFG["alternative_provision"]["return_rate"]]
        if len(back):
            self._move_school(back, np.where(self.year[back] <= 6, PS, SS))

    def step_events(self, s: int, t: int, dt: float):
        """Entrants, home moves, school moves, leavers, special / AP refills at one census."""
        rng = self.rng
        plan = self.plan
        # entrants
        enter = (self.entry_step == s) & ~self.left
        self.present |= enter
        if s == 0:
            return
        n = self.n
        p = self.present & ~enter
        phase = plan.school_phase[self.school]
        fsm_prev = self.fsm_prev if hasattr(self, "fsm_prev") else np.zeros(n, bool)
        # ---- family home moves (within the LA)
        hm = _CFG["home_move"]
        mult = np.where(fsm_prev[self.root], hm["fsm_multiplier"], 1.0)
        fam_rows = self.is_root & (np.bincount(self.root[p], minlength=n) > 0)
        base = hm["rate"] * dt / max(mult[fam_rows].mean(), 1e-9) if fam_rows.any() else 0.0
        moved_fam = fam_rows & (rng.random(n) < base * mult)
        movers = np.flatnonzero(moved_fam)
        old_dis = self.geo["sec_dis"][self.sector_of(self.home[movers])]
        within = rng.random(len(movers)) < hm["within_district"]
        lo = np.zeros(len(movers), np.int64)
        hi = np.full(len(movers), len(self.geo["pc_sec"]), np.int64)
        lo[within], hi[within] = self.geo["dis_lo"][old_dis[within]], self.geo["dis_hi"][old_dis[within]]
        new_pc = _pick_in_range(self.geo["cw"], lo, hi, rng.random(len(movers)))
        self.home[movers] = new_pc
        other_dis = np.zeros(n, bool)
        other_dis[movers] = self.geo["sec_dis"][self.sector_of(new_pc)] != old_dis
        fam_moved = moved_fam[self.root]
        # ---- school moves after a home move, and background moves (mainstream only)
        sm = _CFG["school_move_after_home_move"]
        bg = _CFG["background_school_move"]
        far = other_dis[self.root]
        u = rng.random(n)
        mainstream = (phase == PS) | (phase == SS)
        p_home = np.where(phase == PS, np.where(far, sm["other_district"]["PS"], sm["same_district"]["PS"]),
                          np.where(far, sm["other_district"]["SS"], sm["same_district"]["SS"]))
        sen = self.sen_prev if hasattr(self, "sen_prev") else np.zeros(n, np.int8)
        bmult = (np.where(fsm_prev, bg["fsm"], 1.0) * np.where(sen > 0, bg["sen"], 1.0)
                 * np.where(self.susp > 0, bg["suspended"], 1.0)
                 * np.where(self.low_ks2 & (self.year >= 7), bg["low_ks2"], 1.0))
        p_bg = np.where(phase == PS, bg["PS"], bg["SS"]) * dt * bmult
        move = p & mainstream & ((fam_moved & (u < p_home)) | (~fam_moved & (u < p_bg)))
        rows = np.flatnonzero(move)
        if len(rows):
            self._move_school(rows, phase[rows])
        # ---- leavers from the state sector
        ex = _CFG["exit_hazard"]
        em = _CFG["exit_multiplier"]
        h = np.array([ex["PS"], ex["SS"], ex["SP"], ex["PR"]])[phase] * dt
        m = (np.where(fsm_prev, em["fsm"], 1.0)
             * np.where(sen == K_, em["sen_K"], np.where(sen == E_, em["sen_E"], 1.0))
             * np.where(self.low_ks2 & (self.year >= 7), em["low_ks2"], 1.0)
             * np.where(self.susp > 0, em["suspended"], 1.0))
        norm = np.bincount(phase[p], weights=m[p], minlength=4) / np.maximum(np.bincount(phase[p], minlength=4), 1)
        hz = h * m / np.where(norm[phase] > 0, norm[phase], 1.0)
        self._leave(p & (rng.random(n) < hz))
        # ---- permanently excluded pupils go to AP; special schools and AP refill by year group
        self._refill(PR, self.present & self.pending_ap, dt)
        self.pending_ap[:] = False
        self._refill(SP, None, dt)
        self._refill(PR, None, dt)

    def _refill(self, target_phase: int, forced, dt):
        rng = self.rng
        phase = self.plan.school_phase[self.school]
        mainstream = self.present & ((phase == PS) | (phase == SS))
        if forced is not None:
            rows = np.flatnonzero(forced & mainstream)
        else:
            cur = np.bincount(self.year[self.present & (phase == target_phase)], minlength=N_YEARS)
            deficit = np.maximum(self.target[target_phase] - cur, 0)
            sen = self.sen_prev if hasattr(self, "sen_prev") else np.zeros(self.n, np.int8)
            if target_phase == SP:
                cand = mainstream & (sen == E_)
                score = rng.random(self.n)
            else:
                cand = mainstream & (self.year >= 1)
                score = rng.random(self.n) / (1.0 + self.susp)  # suspended pupils first
            idx = np.flatnonzero(cand)
            order = idx[np.lexsort((score[idx], self.year[idx]))]
            ys = self.year[order]
            first = np.searchsorted(ys, np.arange(N_YEARS), "left")
            rank = np.arange(len(order)) - first[ys]
            rows = order[rank < deficit[ys]]
        if len(rows):
            self._move_school(rows, np.full(len(rows), target_phase))

    # -------------------------------------------------------------- one census
    def census(self, s: int, t: int, census: str) -> pa.Table:
        plan, rng = self.plan, self.rng
        dt = 1.0 / len(self.spec.censuses)
        rho = _CFG["persistence"]
        if s > 0:
            self.z_fsm = _ar1(rng, self.z_fsm, rho["fsm"] ** dt)
            self.z_sen = _ar1(rng, self.z_sen, rho["sen"] ** dt)
            self.z_cla = _ar1(rng, self.z_cla, rho["looked_after"] ** dt)
        rows = np.flatnonzero(self.present)
        sch = self.school[rows]
        phase = plan.school_phase[sch].astype(np.int8)
        year = self.year[rows]
        pc = self.home[self.root[rows]]
        dec = self.decile_of(pc)
        sex = self.sex[rows]
        pk, pe = sen_probs(year, sex, dec, phase)
        sen = sen_from_uniform(ndtr(self.z_sen[rows]), pk, pe)
        sen_type = sen_type_from_uniform(self.u_type[rows], sen, year, sex)
        fsm = ndtr(self.z_fsm[self.root[rows]]) < fsm_prob(dec, phase, sen, self.minor[rows])
        cla = ndtr(self.z_cla[rows]) < looked_after_prob(sen, sex, dec, year)
        self.last_fsm_year[rows[fsm]] = t
        ever = self.last_fsm_year[rows] >= t - 5
        # exclusions: one draw per pupil per academic year, carried by the year's censuses
        fresh = self.susp_year[rows] != t
        fr = rows[fresh]
        cols = {"sen_provision": sen[fresh], "sex": sex[fresh], "fsm_eligible": fsm[fresh],
                "phase": phase[fresh], "nc_year": year[fresh]}
        count = rng.poisson(suspension_rate(cols) * self.frailty[fr])
        self.susp[fr] = np.minimum(count, 60)
        px = rng.random(len(fr)) < permanent_exclusion_prob(cols, count > 0)
        self.pex[fr] = px
        self.reason[fr] = exclusion_reason_from_uniform(rng.random(len(fr)), px, count > 0, year[fresh] <= 6)
        self.susp_year[fr] = t
        self.pending_ap[fr[px & (phase[fresh] != PR)]] = True
        # remember for next step's hazards
        self.fsm_prev = np.zeros(self.n, bool)
        self.fsm_prev[rows] = fsm
        self.sen_prev = np.zeros(self.n, np.int8)
        self.sen_prev[rows] = sen
        self._attainment(rows, year, fsm, ever, sen)
        n_sib, order = family_rank(self.root, self.dob_days, self.present)
        # attainment: KS2 from Year 7 (or the summer of Year 6) for pupils in state school at
        # Year 6; KS4 from Year 11 (the cohort's results)
        ks2_ok = self.has_ks2[rows] & ((year >= 7) | ((year == 6) & (census == "summer")))
        ks4_ok = self.has_ks4[rows]
        return self._table(rows, t, census, year, sch, phase, pc, dec, sen, sen_type, fsm, ever,
                           cla, n_sib[rows], order[rows], ks2_ok, ks4_ok)

    # -------------------------------------------------------------- output
    def _table(self, rows, t, census, year, sch, phase, pc, dec, sen, sen_type, fsm, ever, cla,
               n_sib, order, ks2_ok, ks4_ok) -> pa.Table:
        plan, geo, c = self.plan, self.geo, self.chunk.cols
        n = len(rows)
        school_la = plan.school_la[sch]
        sec = geo["pc_sec"][pc]

        def coded(values, labels):  # a dictionary column of the values present
            used, inv = np.unique(values, return_inverse=True)
            return _dict(inv, labels(used))

        data = {
            "academic_year": lambda: pa.array(np.full(n, self.spec.first_year + t, np.int16)),
            "census": lambda: _dict(np.full(n, CENSUSES.index(census)), CENSUSES),
            "pupil_id": lambda: _strings(self.pupil_id[rows]),
            "sex": lambda: _dict(self.sex[rows], field("sex").codes),
            "year_of_birth": lambda: pa.array(c["year_of_birth"][rows]),
            "month_of_birth": lambda: pa.array(c["month_of_birth"][rows]),
            "nc_year": lambda: _dict(year, field("nc_year").codes),
            "urn": lambda: pa.array(plan.school_urn[sch]),
            "laestab": lambda: pa.array(plan.school_laestab[sch]),
            "la_code": lambda: _dict(plan.la_code_idx[school_la], field("la_code").codes),
            "region": lambda: _dict(plan.la_region_idx[school_la], REGIONS),
            "phase": lambda: _dict(phase, field("phase").codes),
            "enrol_status": lambda: _dict(c["enrol_status"][rows], field("enrol_status").codes),
            "lsoa": lambda: coded(plan.la_lsoa_offset[self.la] + geo["pc_lsoa"][pc],
                                  lambda used: [f"E01{v + 1:06d}" for v in used.tolist()]),
            "idaci_decile": lambda: pa.array(dec),
            "postcode_sector": lambda: coded(sec, lambda used: geo["sec_label"][used]),
            "postcode_district": lambda: coded(geo["sec_dis"][sec], lambda used: geo["dis_label"][used]),
            "postcode_area": lambda: _dict(np.full(n, plan.la_area_idx[self.la]), field("postcode_area").codes),
            "ethnic_group_minor": lambda: _dict(c["ethnic_group_minor"][rows], field("ethnic_group_minor").codes),
            "ethnic_group_major": lambda: _dict(c["ethnic_group_major"][rows], field("ethnic_group_major").codes),
            "language_group": lambda: _dict(c["language_group"][rows], field("language_group").codes),
            "eal": lambda: pa.array(c["eal"][rows]),
            "fsm_eligible": lambda: pa.array(fsm),
            "ever_fsm_6": lambda: pa.array(ever),
            "sen_provision": lambda: _dict(sen, field("sen_provision").codes),
            "upn": lambda: _strings(c["upn"][rows]),
            "forename": lambda: _names(c["forename"][rows], 0),
            "surname": lambda: _names(c["surname"][rows], 1),
            "date_of_birth": lambda: pa.array(c["date_of_birth"][rows].astype("datetime64[ns]")),
            "postcode": lambda: coded(pc, lambda used: self.pc_label[used]),
            "ethnicity_extended": lambda: _dict(c["ethnicity_extended"][rows], field("ethnicity_extended").codes),
            "first_language": lambda: _dict(c["first_language"][rows], field("first_language").codes),
            "primary_sen_type": lambda: _dict(sen_type, field("primary_sen_type").codes),
            "looked_after": lambda: pa.array(cla),
            "service_child": lambda: pa.array(c["service_child"][rows]),
            "disability": lambda: pa.array(c["disability"][rows]),
            "suspensions": lambda: pa.array(self.susp[rows]),
            "permanent_exclusion": lambda: pa.array(self.pex[rows]),
            "exclusion_reason": lambda: _dict(self.reason[rows], field("exclusion_reason").codes),
            "family_id": lambda: _strings(self.family_id[rows]),
            "n_siblings": lambda: pa.array(n_sib),
            "birth_order": lambda: pa.array(order),
            "ks2_reading": lambda: pa.array(self.ks2_reading[rows], mask=~ks2_ok),
            "ks2_maths": lambda: pa.array(self.ks2_maths[rows], mask=~ks2_ok),
            "attainment8": lambda: pa.array(self.att8[rows], mask=~ks4_ok),
        }
        # Each column is built only when asked for (``generate_panel(columns=...)``).
        wanted = self.spec.columns
        return pa.table({name: build() for name, build in data.items() if wanted is None or name in wanted})


def _year_table():
    w = load_json("schools.json")["year_weights"]
    keys = [w["SS_no_sixth"], w["SS_sixth"], w["PS"], w["SS_no_sixth"], w["SP"], w["PR"]]
    # key: 0 = SS without sixth form, 1 = SS with, 2 + phase for PS, SS(unused), SP, PR
    stay12 = np.array([(k[12] / k[11]) if k[11] else 0.0 for k in keys])
    stay13 = np.array([(k[13] / k[12]) if k[12] else 0.0 for k in keys])
    return {"stay12": np.minimum(stay12, 1.0), "stay13": np.minimum(stay13, 1.0)}


_CFG_YEAR_W = _year_table()


_FIXED: dict[int, tuple[tuple, pa.Array]] = {}


def _dict(codes, categories) -> pa.DictionaryArray:
    """Dictionary column; fixed code lists (tuples) are converted to Arrow once."""
    codes = np.asarray(codes)
    idx = pa.array(codes.astype(np.int32), mask=codes < 0)
    if isinstance(categories, tuple):
        hit = _FIXED.get(id(categories))
        if hit is None or hit[0] is not categories:
            hit = (categories, pa.array(list(categories), type=pa.string()))
            _FIXED[id(categories)] = hit
        dictionary = hit[1]
    else:
        dictionary = pa.array(categories, type=pa.string())
    return pa.DictionaryArray.from_arrays(idx, dictionary)


def _strings(mat: np.ndarray) -> pa.Array:
    n, width = mat.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(mat).tobytes()))


_NAME_CATS: list = []


def _names(codes: np.ndarray, which: int) -> pa.DictionaryArray:
    if not _NAME_CATS:
        fn, sn = names_tables()
        _NAME_CATS.extend([np.array(fn.categories, dtype=object), np.array(sn.categories, dtype=object)])
    used, inv = np.unique(codes, return_inverse=True)
    return _dict(inv, _NAME_CATS[which][used])


# ------------------------------------------------------------------------------ driver
def _iter_panel(spec: _Spec, progress: bool) -> Iterator[tuple[int, int, str, str, pa.Table]]:
    plan = build_plan(spec.root, spec.n_pupils)
    las = [i for i in range(len(plan.la_code)) if plan.la_pupils[i] > 0]
    bar = tqdm(las, desc="synthetic panel", unit="LA", disable=not progress, file=sys.stderr)
    for la in bar:
        state = _LA(plan, la, spec, offset_id=la << 22)
        for s, (t, census) in enumerate(spec.steps):
            new_year = t > 0 and census == spec.censuses[0]
            if new_year:
                state.new_year(t)
            state.step_events(s, t, 1.0 / len(spec.censuses))
            yield s, t, census, plan.la_code[la], state.census(s, t, census)
    bar.close()


@dataclass(frozen=True, slots=True)
class PanelDataset:
    """A panel written as a partitioned Parquet dataset (``academic_year=*/census=*/LA.parquet``)."""

    path: Path
    n_rows: int
    n_files: int
    seed: int
    n_pupils: int
    years: int
    first_year: int
    censuses: tuple[str, ...]

    def __repr__(self) -> str:
        return (f"PanelDataset({self.n_rows:,} rows in {self.n_files} files, {self.years} years from "
                f"{self.first_year}/{(self.first_year + 1) % 100:02d}, censuses={list(self.censuses)}, "
                f"seed={self.seed}, path='{self.path}')")


def generate_panel(
    n_pupils: int = FULL_POPULATION,
    *,
    years: int = 5,
    first_year: int = 2019,
    censuses: Sequence[str] | str = ("spring",),
    rng: int | np.random.Generator | None = None,
    out: str | os.PathLike | None = None,
    force: bool = False,
    progress: bool = False,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame | PanelDataset:
    """Generate a synthetic NPD-like panel: one row per pupil per census, stable pupil ids.

    The first census is a cross-sectional cohort of ``n_pupils`` (as :func:`generate_cohort`,
    with households); later censuses follow the same pupils. Year groups advance each
    September; a Reception intake enters and Year 11 / 13 leave; Year 6 pupils transfer to a
    secondary near home (own sector / district / LA with the cross-sectional catchment shares,
    a few to another LA of the region); families move home within the LA and a school move
    often follows; some pupils leave the state sector and in-year joiners arrive; special
    schools and AP refill by year group; FSM (per family), SEN and looked-after status follow
    latent AR(1) spells with each census's cross-sectional probabilities; EverFSM6 is derived
    from the panel's own FSM history (with a burn-in of the five pre-panel years); suspensions
    and permanent exclusions are drawn per academic year; KS2 scaled scores (80-120) attach from
    Year 7 and Attainment 8 from Year 11. Rates and their sources: ``synthetic/data/panel.json``.

    Parameters
    ----------
    n_pupils : int, default 8_457_089
        Pupils in the first census, 1 to 20 million.
    years : int, default 5
        Academic years, 1 to 14.
    first_year : int, default 2019
        Start of the first academic year (2019 = 2019/20), 2006 to 2040.
    censuses : sequence of {"autumn", "spring", "summer"}, default ("spring",)
        Censuses per year. With several, each applies its share of the annual rates; ageing,
        leaving at 16/18, transfers and intakes happen before the first census of a year.
    rng : int, numpy.random.Generator or None
        Seed (SPEC 7). The same seed and parameters give a byte-identical panel.
    out : path or None
        None returns a DataFrame (small panels). A directory writes a partitioned Parquet
        dataset ``out/academic_year=YYYY/census=NAME/<LA>.parquet`` one LA at a time (bounded
        memory) and returns a :class:`PanelDataset`.
    force : bool, default False
        Replace an existing ``out`` directory (it is never silently overwritten).
    progress : bool, default False
        tqdm progress bar over the LAs.
    columns : sequence of str, optional
        The columns to return (names from :func:`panel_columns`; ``academic_year``, ``census``
        and ``pupil_id`` are always included), in the panel's order. The pupils and their
        histories are the same whatever is asked for; only the columns not asked for are not
        built (a history measure reading five fields needs a tenth of the work).

    Returns
    -------
    pandas.DataFrame or PanelDataset
        Columns :func:`panel_columns`: ``academic_year``, ``census``, every registry field
        (registry dtypes) and ``ks2_reading``, ``ks2_maths`` (Int8) and ``attainment8``
        (Float32, missing outside the attainment years). Rows are ordered by census, then LA,
        then pupil.

    Raises
    ------
    SyntheticError
        If a parameter is out of range; :class:`ExtractExistsError` if ``out`` exists and
        ``force`` is false.

    Examples
    --------
    >>> from synthetic import generate_panel
    >>> panel = generate_panel(3_000, years=2, rng=1)
    >>> panel.groupby("academic_year").size().index.tolist()
    [2019, 2020]
    """
    n = _check_int(n_pupils, "n_pupils", 1, MAX_PANEL_PUPILS)
    years = _check_int(years, "years", 1, 14)
    first_year = _check_int(first_year, "first_year", 2006, 2040)
    cens = _check_censuses(censuses)
    wanted = _check_columns(columns)
    root = root_entropy(rng, func="generate_panel")
    spec = _Spec(root=root, n_pupils=n, years=years, first_year=first_year, censuses=cens, columns=wanted)
    if out is None:
        parts: dict[int, list[pa.Table]] = {}
        for s, _t, _c, _la, table in _iter_panel(spec, progress):
            parts.setdefault(s, []).append(table)
        tables = [t for s in sorted(parts) for t in parts[s]]
        frame = _to_frame(pa.concat_tables(tables))
        frame.attrs["synthetic"] = _meta(spec)
        return frame
    path = Path(out)
    if path.exists():
        if not force:
            raise ExtractExistsError(
                f"The 'out' directory of generate_panel already exists: {path}. Pass force=True "
                f"to replace it."
            )
        shutil.rmtree(path)
    tmp = path.with_name(path.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    n_rows = n_files = 0
    meta = {b"synthetic": json.dumps(_meta(spec), sort_keys=True).encode()}
    for _s, t, census, la_code, table in _iter_panel(spec, progress):
        d = tmp / f"academic_year={first_year + t}" / f"census={census}"
        d.mkdir(parents=True, exist_ok=True)
        table = table.drop_columns(["academic_year", "census"]).replace_schema_metadata(meta)
        pq.write_table(table, d / f"{la_code}.parquet", compression="zstd")
        n_rows += table.num_rows
        n_files += 1
    tmp.rename(path)
    return PanelDataset(path=path, n_rows=n_rows, n_files=n_files, seed=root, n_pupils=n,
                        years=years, first_year=first_year, censuses=cens)


def _check_columns(columns) -> tuple[str, ...] | None:
    """The columns a panel is asked for, always with its keys, or ``None`` for all of them."""
    if columns is None:
        return None
    known = panel_columns()
    columns = check_column_names(columns, known, func="generate_panel")
    return tuple(c for c in known if c in {"academic_year", "census", "pupil_id", *columns})


def _meta(spec: _Spec) -> dict:
    return {"seed": spec.root, "n_pupils": spec.n_pupils, "years": spec.years,
            "first_year": spec.first_year, "censuses": list(spec.censuses),
            "generator_version": GENERATOR_VERSION, "kind": "panel"}


def _to_frame(table: pa.Table) -> pd.DataFrame:
    from .io import restore_dtypes

    table = table.unify_dictionaries() if hasattr(table, "unify_dictionaries") else table
    frame = restore_dtypes(table.to_pandas())
    frame["academic_year"] = frame["academic_year"].astype(np.int16)
    frame["census"] = pd.Categorical(frame["census"].astype(str), categories=list(CENSUSES), ordered=True)
    for col, dtype in (("ks2_reading", "Int8"), ("ks2_maths", "Int8"), ("attainment8", "Float32")):
        if col in frame.columns:
            frame[col] = frame[col].astype(dtype)
    return frame


def read_panel(path: str | os.PathLike, *, academic_years: Sequence[int] | None = None,
               censuses: Sequence[str] | None = None, columns: Sequence[str] | None = None,
               la_codes: Sequence[str] | None = None) -> pd.DataFrame:
    """Read (part of) a panel dataset written by :func:`generate_panel` into a DataFrame.

    Filters on the partitions (``academic_years``, ``censuses``) and on ``la_codes`` (the
    school's LA) are pushed down to the Parquet reader, so one cohort or one LA never loads the
    whole panel.
    """
    p = Path(path)
    if not p.is_dir():
        raise SyntheticError(f"The 'path' parameter of read_panel must be a panel directory. Got '{p}'.")
    ds = pds.dataset(p, format="parquet", partitioning="hive")
    expr = None
    for name, values in (("academic_year", academic_years), ("census", censuses), ("la_code", la_codes)):
        if values is not None:
            e = pds.field(name).isin(list(values))
            expr = e if expr is None else expr & e
    cols = None if columns is None else list(dict.fromkeys(["academic_year", "census", *columns]))
    table = ds.to_table(filter=expr, columns=cols)
    frame = _to_frame(table) if columns is None else _to_frame_partial(table)
    first = pq.read_schema(next(iter(ds.files))).metadata or {}
    if b"synthetic" in first:
        frame.attrs["synthetic"] = json.loads(first[b"synthetic"].decode())
    when = frame["academic_year"].to_numpy().astype(np.int64) * 3 + frame["census"].cat.codes.to_numpy()
    if len(when) and (np.diff(when) < 0).any():  # the reader returns files in path order already
        frame = frame.iloc[np.argsort(when, kind="stable")].reset_index(drop=True)
    return frame


def _to_frame_partial(table: pa.Table) -> pd.DataFrame:
    frame = table.unify_dictionaries().to_pandas()
    for col in frame.columns:
        if col in FIELD_NAMES:
            f = field(col)
            if not (f.dtype == "category" and f.codes is None):
                frame[col] = frame[col].astype(pandas_dtype(f))
    frame["academic_year"] = frame["academic_year"].astype(np.int16)
    frame["census"] = pd.Categorical(frame["census"].astype(str), categories=list(CENSUSES), ordered=True)
    return frame
