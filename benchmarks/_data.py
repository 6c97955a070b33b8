"""Seeded synthetic pupil table for the key/class-size benchmarks.

One row per pupil, 10 columns with census-like cardinalities:

==============  ==========  =====================================================
column          Arrow type  content
==============  ==========  =====================================================
urn             int32       ~22,000 schools, sizes skewed (log-normal)
la_code         int32       ~150 local authorities (3-digit codes), sizes skewed
sex             string      "M"/"F"
date_of_birth   date32      14 academic years of birth (2005-09-01..2019-08-31)
postcode        string      about N/10 distinct, "AB12 3CD"-shaped, clustered:
                            each LA has its own postcode area and each school
                            draws its pupils from a window of its LA's postcodes
ethnicity       string      20 DfE-style codes, WBRI ~65%, the rest Zipf-like
nc_year         string      "R", "1".."13" (derived from date_of_birth)
fsm             bool        ~24% true
sen             string      "N"/"K"/"E" (~83/13/4%)
eal             bool        ~21% true
==============  ==========  =====================================================

Everything is vectorised numpy / pyarrow compute (no Python loop over rows),
so 8.5 million rows take a few seconds.  The same ``(n_rows, seed)`` always
gives the same table.

``cached_paths(n_rows, seed)`` writes the table once to Parquet and CSV under
``benchmarks/results/cache/`` (git-ignored) and returns the paths.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

#: bump when the generator changes, so stale cache files are not reused
GENERATOR_VERSION = 1

COLUMNS = (
    "urn",
    "la_code",
    "sex",
    "date_of_birth",
    "postcode",
    "ethnicity",
    "nc_year",
    "fsm",
    "sen",
    "eal",
)

N_LA = 150
N_SCHOOLS = 22_000

ETHNICITY_CODES = (
    "WBRI",
    "WOTH",
    "APKN",
    "BAFR",
    "MWBC",
    "AIND",
    "MOTH",
    "ABAN",
    "AOTH",
    "WIRI",
    "BCRB",
    "MWBA",
    "MWAS",
    "CHNE",
    "OOTH",
    "BOTH",
    "WROM",
    "REFU",
    "NOBT",
    "WIRT",
)
#: postcode unit letters (the official inward-code alphabet: no C I K M O V)
_UNIT_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))

# year groups R, 1..13; sixth-form years are thinner in schools data
_NC_YEARS = ("R",) + tuple(str(i) for i in range(1, 14))
_YEAR_WEIGHTS = np.array([1.0] * 12 + [0.45, 0.42])
_FIRST_DOB = np.datetime64("2005-09-01")  # oldest: year 13 in the 2023/24 census


def _repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    d = Path(
        os.environ.get("RISKCALC_BENCH_CACHE", _repo_root() / "benchmarks" / "results" / "cache")
    )
    d.mkdir(parents=True, exist_ok=True)
    return d


def _take(values, idx: np.ndarray) -> pa.Array:
    """Plain (non-dictionary) Arrow array ``values[idx]``."""
    return pc.take(pa.array(values), pa.array(idx))


def _postcode_strings(
    area_codes: np.ndarray, la_of_pc: np.ndarray, local_idx: np.ndarray
) -> np.ndarray:
    """Unique "AB12 3CD" strings for postcode ``local_idx`` within area ``la_of_pc``."""
    district = (1 + local_idx // 4000).astype(str)
    sector = ((local_idx // 400) % 10).astype(str)
    unit = local_idx % 400
    u1 = _UNIT_LETTERS[unit // 20]
    u2 = _UNIT_LETTERS[unit % 20]
    out = np.char.add(area_codes[la_of_pc], district)
    out = np.char.add(out, " ")
    out = np.char.add(out, sector)
    out = np.char.add(out, u1)
    return np.char.add(out, u2)


def make_table(n_rows: int, seed: int = 20240118) -> pa.Table:
    """Generate the benchmark table (pyarrow.Table) with ``n_rows`` rows."""
    n = int(n_rows)
    rng = np.random.default_rng(seed)

    # --- local authorities and schools ------------------------------------
    la_codes = np.sort(rng.choice(np.arange(201, 941), N_LA, replace=False)).astype(np.int32)
    la_w = rng.lognormal(0.0, 0.6, N_LA)
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    pairs = rng.choice(26 * 26, N_LA, replace=False)
    area_codes = np.char.add(letters[pairs // 26], letters[pairs % 26])

    school_la = rng.choice(N_LA, N_SCHOOLS, p=la_w / la_w.sum())
    urns = np.sort(rng.choice(np.arange(100_000, 150_000), N_SCHOOLS, replace=False)).astype(
        np.int32
    )
    rng.shuffle(urns)
    # primaries ~ 250, secondaries ~ 1000 pupils: log-normal mix
    school_w = rng.lognormal(np.log(250.0), 0.55, N_SCHOOLS)
    secondary = rng.random(N_SCHOOLS) < 0.15
    school_w[secondary] *= 4.0

    school = rng.choice(N_SCHOOLS, n, p=school_w / school_w.sum())
    la = school_la[school]

    # --- postcodes, clustered by LA and school ------------------------------
    n_postcodes = max(1, n // 10)
    pupils_la = np.bincount(la, minlength=N_LA)
    pc_la = np.maximum(1, np.round(n_postcodes * pupils_la / n).astype(np.int64))
    pc_off = np.concatenate(([0], np.cumsum(pc_la)[:-1]))
    pupils_school = np.bincount(school, minlength=N_SCHOOLS)
    centre = (rng.random(N_SCHOOLS) * pc_la[school_la]).astype(np.int64)
    # catchment half-width ~ pupils/6 postcodes, so neighbouring schools overlap
    half = np.maximum(1, np.round(pupils_school / 6.0)).astype(np.int64)
    half = np.minimum(half, pc_la[school_la])
    h = half[school]
    step = np.floor(rng.random(n) * (2 * h + 1)).astype(np.int64) - h
    local = (centre[school] + step) % pc_la[la]
    pc_id = pc_off[la] + local
    total_pc = int(pc_la.sum())
    pc_la_of = np.repeat(np.arange(N_LA), pc_la)
    pc_local = np.arange(total_pc) - pc_off[pc_la_of]
    pc_strings = _postcode_strings(area_codes, pc_la_of, pc_local)

    # --- pupil attributes ----------------------------------------------------
    yg = rng.choice(14, n, p=_YEAR_WEIGHTS / _YEAR_WEIGHTS.sum())
    year_start = np.array(
        [np.datetime64(f"{2005 + (13 - g)}-09-01") for g in range(14)], dtype="datetime64[D]"
    )
    year_len = np.array(
        [
            (
                np.datetime64(f"{2006 + (13 - g)}-09-01")
                - np.datetime64(f"{2005 + (13 - g)}-09-01")
            ).astype(int)
            for g in range(14)
        ]
    )
    day = np.floor(rng.random(n) * year_len[yg]).astype(np.int64)
    dob_days = (year_start[yg] - np.datetime64("1970-01-01", "D")).astype(np.int64) + day

    eth_w = np.concatenate(
        ([0.65], 0.35 * (1.0 / np.arange(1, 20) ** 1.1) / (1.0 / np.arange(1, 20) ** 1.1).sum())
    )
    eth = rng.choice(len(ETHNICITY_CODES), n, p=eth_w)
    sex = (rng.random(n) < 0.512).astype(np.int8)  # 0 -> M, 1 -> F
    fsm = rng.random(n) < 0.24
    sen = np.searchsorted(np.cumsum([0.83, 0.13, 0.04])[:-1], rng.random(n), side="right")
    eal = rng.random(n) < 0.21

    return pa.table(
        {
            "urn": pa.array(urns[school], pa.int32()),
            "la_code": pa.array(la_codes[la], pa.int32()),
            "sex": _take(["M", "F"], sex),
            "date_of_birth": pa.array(dob_days.astype(np.int32), pa.int32()).cast(pa.date32()),
            "postcode": _take(pc_strings.astype(object), pc_id),
            "ethnicity": _take(list(ETHNICITY_CODES), eth),
            "nc_year": _take(list(_NC_YEARS), yg),
            "fsm": pa.array(fsm),
            "sen": _take(["N", "K", "E"], sen),
            "eal": pa.array(eal),
        }
    )


def cached_paths(n_rows: int, seed: int = 20240118, csv: bool = True) -> dict[str, Path]:
    """Write (once) and return ``{"parquet": path, "csv": path}`` for this size/seed."""
    d = cache_dir()
    stem = f"pupils_n{int(n_rows)}_s{seed}_v{GENERATOR_VERSION}"
    paths = {"parquet": d / f"{stem}.parquet", "csv": d / f"{stem}.csv"}
    need_pq = not paths["parquet"].exists()
    need_csv = csv and not paths["csv"].exists()
    if need_pq or need_csv:
        if need_pq:
            table = make_table(n_rows, seed)
        else:
            table = pq.read_table(paths["parquet"])
        if need_pq:
            tmp = paths["parquet"].with_suffix(".parquet.tmp")
            pq.write_table(table, tmp, row_group_size=1_000_000)
            tmp.replace(paths["parquet"])
        if need_csv:
            tmp = paths["csv"].with_suffix(".csv.tmp")
            pacsv.write_csv(table, tmp)
            tmp.replace(paths["csv"])
    if not csv:
        paths.pop("csv")
    return paths


def describe(table: pa.Table) -> dict[str, int]:
    """Distinct count per column (for the README / sanity checks)."""
    return {name: pc.count_distinct(table[name]).as_py() for name in table.column_names}


if __name__ == "__main__":  # quick look: python benchmarks/_data.py 1000000
    import sys
    import time

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    t0 = time.perf_counter()
    t = make_table(n)
    print(
        f"{n:,} rows generated in {time.perf_counter() - t0:.2f}s, {t.nbytes / 2**20:.0f} MiB in Arrow"
    )
    print(t.slice(0, 5).to_pandas())
    for k, v in describe(t).items():
        print(f"  {k:15s} {v:>10,} distinct")
    vc = pc.value_counts(t["ethnicity"]).to_pylist()
    top = sorted(vc, key=lambda d: -d["counts"])[:3]
    print("  ethnicity top:", [(d["values"], round(d["counts"] / n, 3)) for d in top])
