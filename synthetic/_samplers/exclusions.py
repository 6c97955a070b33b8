"""Suspensions (negative binomial with published relative rates), permanent exclusions and the
reason for either (``characteristics.json``, ``exclusions``); the rate functions are shared with
the panel."""

from __future__ import annotations

import numpy as np

from .._data import load_json
from ..schema import EXCLUSION_REASONS, PHASES
from .chunk import E_, K_, Chunk
from .draw import _cum, _pick

_CHAR = load_json("characteristics.json")


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
