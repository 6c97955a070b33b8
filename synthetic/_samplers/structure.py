"""Pupils in schools: year groups drawn per school (the chunk's rows), the school-level columns
(URN, LAESTAB, LA, region, phase), and enrolment status by phase."""

from __future__ import annotations

import numpy as np

from .._data import load_json
from .._plan import N_YEARS
from ..schema import PHASES
from .chunk import PR, PS, SP, SS, Chunk
from .draw import _cum, _pick

_SCHOOLS = load_json("schools.json")
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


def sample_enrol_status(rng: np.random.Generator, chunk: Chunk) -> dict:
    cfg = _SCHOOLS["enrol_status"]
    out = np.zeros(chunk.n, dtype=np.int8)
    u = rng.random(chunk.n)
    phase = chunk.cols["phase"]
    for p, name in enumerate(PHASES):
        m = phase == p
        out[m] = _pick(_cum(cfg[name]), u[m])
    return {"enrol_status": out}
