"""Who the pupils are: sex (by phase), date of birth (within the year group), ethnicity (LA
mix, LSOA clustering, shared by siblings) and first language / EAL (by ethnicity and region)."""

from __future__ import annotations

import numpy as np

from .._data import load_json
from .._plan import birth_days
from ..schema import ETHNIC_EXTENDED, ETHNIC_MAJOR, ETHNIC_MINOR, LANGUAGE_CODES, PHASES
from .chunk import Chunk, _shared
from .draw import _cum, _logistic, _pick, _pick_in_range

_SCHOOLS = load_json("schools.json")
_ETH = load_json("ethnicity.json")
_LANG = load_json("language.json")


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
    homes = chunk.homes
    if 0.0 < s < 1.0:  # LSOA share of non-WBRI pupils ~ Beta with mean s (keeps the LA mix)
        p_other = rng.beta(s * conc, (1 - s) * conc, size=homes.n_lsoa)[homes.lsoa]
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
    from .._data import REGIONS

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
