"""Write riskcalc/data/sample_pupils.csv: a small, fully synthetic pupil extract for the quick start.

Run from the repository root: ``python scripts/make_sample.py``. Deterministic (seed 20261128).
The table imitates a tier-4/tier-2 style extract for ~5,000 pupils in 12 schools of 3 local
authorities: no real person is in it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261128
OUT = Path(__file__).resolve().parents[1] / "riskcalc" / "data" / "sample_pupils.csv"


def main() -> None:
    rng = np.random.default_rng(SEED)
    las = np.array([202, 330, 873])  # Camden, Birmingham, Cambridgeshire (codes only)
    schools = pd.DataFrame(
        {
            "urn": 100000 + rng.choice(90000, size=12, replace=False),
            "la_code": np.repeat(las, 4),
            "phase": ["Primary", "Primary", "Primary", "Secondary"] * 3,
        }
    )
    sizes = np.where(schools["phase"] == "Primary", 280, 1000)
    school_idx = np.repeat(np.arange(12), sizes // 1)
    n = school_idx.shape[0]
    phase = schools["phase"].to_numpy()[school_idx]
    year = np.where(phase == "Primary", rng.integers(0, 7, n), rng.integers(7, 12, n))
    # Academic year 2025/26: Year N pupils were born 1 Sep (2019 - N) .. 31 Aug (2020 - N).
    start = pd.to_datetime(pd.Series(2019 - year).astype(str) + "-09-01")
    dob = start + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    ethnic_codes = np.array(
        ["WBRI", "WOTH", "APKN", "AIND", "BAFR", "BCRB", "MWBC", "CHNE", "AOTH", "WIRT"]
    )
    ethnic_p = np.array([0.62, 0.08, 0.07, 0.05, 0.05, 0.03, 0.04, 0.01, 0.04, 0.01])
    sector = rng.integers(1, 9, 12)[school_idx]
    district = np.array(["NW1", "B12", "CB4"])[np.repeat(np.arange(3), 4)][school_idx]
    unit = np.array([a + b for a in "ABDEFGHJ" for b in "ABDEFGHJLNPQRSTUWXYZ"])
    postcode = pd.Series(district) + " " + sector.astype(str) + unit[rng.integers(0, 40, n)]
    frame = pd.DataFrame(
        {
            "pupil_id": [f"P{i:06d}" for i in range(1, n + 1)],
            "sex": rng.choice(["F", "M"], n),
            "date_of_birth": dob.dt.strftime("%Y-%m-%d"),
            "nc_year": np.where(year == 0, "R", year.astype(str)),
            "postcode": postcode,
            "urn": schools["urn"].to_numpy()[school_idx],
            "la_code": schools["la_code"].to_numpy()[school_idx],
            "ethnic_group_minor": rng.choice(ethnic_codes, n, p=ethnic_p),
            "fsm_eligible": rng.random(n) < 0.246,
            "sen_provision": rng.choice(["N", "K", "E"], n, p=[0.816, 0.136, 0.048]),
            "eal": rng.random(n) < 0.2,
        }
    )
    frame.to_csv(OUT, index=False, lineterminator="\n")
    print(f"wrote {OUT} ({n} rows)")


if __name__ == "__main__":
    main()
