"""Pupil characteristics (``characteristics.json``): SEN provision and primary SEN type, FSM
eligibility and EverFSM6, looked after, service child and disability. The probability
functions (``sen_probs``, ``fsm_prob``, ``looked_after_prob``, ...) are shared with the panel,
which draws the same characteristics census by census."""

from __future__ import annotations

import numpy as np

from .._data import load_json
from ..schema import ETHNIC_MINOR, PHASES, SEN_TYPES
from .chunk import E_, K_, PR, SP, Chunk, _shared
from .draw import _cum, _logistic, _pick

_CHAR = load_json("characteristics.json")


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
