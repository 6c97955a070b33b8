"""Identifiers: the UPN (issuing school, year of issue, a serial unique within them, the check
letter), and the pseudonymous pupil and family ids (affine bijections of row numbers modulo a
prime, keyed once per cohort)."""

from __future__ import annotations

import functools

import numpy as np

from .._data import load_json
from .._sort import stable_argsort_int
from ..upn import upn_check_letters
from .chunk import PS, Chunk

_SCHOOLS = load_json("schools.json")

#: Multipliers coprime with 1000: ``a * rank + b (mod 1000)`` then numbers a school's UPNs
#: without repeats.
_UNITS_MOD_1000 = np.arange(1, 1000)[np.gcd(np.arange(1, 1000), 1000) == 1]


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
    from .._rng import stream

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
