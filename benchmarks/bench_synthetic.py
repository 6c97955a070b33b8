"""Benchmark the synthetic cohort generator and the tier extract writers.

Plain script::

    python benchmarks/bench_synthetic.py                 # 8.5 million pupils
    python benchmarks/bench_synthetic.py --pupils 100000 --uniqueness

Prints the wall time of ``generate_cohort`` and of writing the tier 1, 2 and 4 extracts and the
tier 3 tables to Parquet, and the peak resident memory of the process
(``resource.getrusage``). It first checks the answer of a small run (UPN check letters, date of
birth vs year group), so a fast wrong generator cannot pass. With ``--uniqueness`` it also
prints the share of sample-unique pupils for the key combinations of npd-spec section 5.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import synthetic  # noqa: E402
from synthetic import generate_cohort, write_tiers  # noqa: E402

# (label, columns, optional phase filter, npd-spec section 5 expectation under uniform spread)
UNIQUENESS_KEYS = [
    ("postcode + DOB", ["postcode", "date_of_birth"], None, 0.999),
    ("postcode + year/month of birth + sex", ["postcode", "year_of_birth", "month_of_birth", "sex"], None, 0.985),
    ("postcode + NC year + sex", ["postcode", "nc_year", "sex"], None, 0.84),
    ("LSOA + DOB + sex", ["lsoa", "date_of_birth", "sex"], None, 0.976),
    ("LSOA + year/month of birth + sex", ["lsoa", "year_of_birth", "month_of_birth", "sex"], None, 0.47),
    ("LSOA + NC year + sex", ["lsoa", "nc_year", "sex"], None, 0.0),
    ("primary school + DOB + sex", ["urn", "date_of_birth", "sex"], "PS", 0.95),
    ("primary school + birth month + sex (within year group)", ["urn", "nc_year", "month_of_birth", "sex"], "PS", 0.20),
    ("secondary school + DOB + sex", ["urn", "date_of_birth", "sex"], "SS", 0.81),
    ("LA + DOB + sex", ["la_code", "date_of_birth", "sex"], None, 0.004),
]


def peak_rss_gb() -> float:
    """Peak resident set size of this process in GB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def unique_share(frame: pd.DataFrame, cols: list[str]) -> float:
    """Share of records whose combination of ``cols`` occurs exactly once."""
    size = frame.groupby(cols, observed=True, dropna=False)[cols[0]].transform("size")
    return float((size == 1).mean())


def self_check() -> None:
    small = generate_cohort(3_000, rng=0)
    assert all(synthetic.is_valid_upn(u) for u in small["upn"].astype(str))
    year = small["nc_year"].cat.codes.to_numpy().astype(int)
    start = pd.to_datetime({"year": 2023 - year - 5, "month": 9, "day": 1})
    assert (small["date_of_birth"] >= start).all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=8_500_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="directory for the Parquet files (default: a temp dir)")
    parser.add_argument("--uniqueness", action="store_true", help="also compute the uniqueness table")
    args = parser.parse_args(argv)

    self_check()
    results: dict[str, object] = {
        "pupils": args.pupils, "seed": args.seed, "python": platform.python_version(),
        "numpy": np.__version__, "pandas": pd.__version__, "machine": platform.machine(),
        "generator_version": synthetic.GENERATOR_VERSION,
    }
    t0 = time.perf_counter()
    cohort = generate_cohort(args.pupils, rng=args.seed)
    results["generate_s"] = round(time.perf_counter() - t0, 2)
    results["generate_peak_rss_gb"] = round(peak_rss_gb(), 2)
    results["frame_gb"] = round(cohort.memory_usage(deep=True).sum() / 1e9, 2)
    print(f"generate_cohort({args.pupils:,}): {results['generate_s']} s, "
          f"peak RSS {results['generate_peak_rss_gb']} GB, frame {results['frame_gb']} GB",
          flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        paths = write_tiers(cohort, out, force=True)
        results["write_s"] = round(time.perf_counter() - t0, 2)
        sizes = {k: round(p.stat().st_size / 1e6, 1) for k, p in paths.items() if not k.startswith("tier3:")}
        sizes["tier3 tables"] = sum(1 for k in paths if k.startswith("tier3:"))
        results["file_mb"] = sizes
    results["peak_rss_gb"] = round(peak_rss_gb(), 2)
    print(f"write_tiers (tier 1, 2, 4 extracts + tier 3 tables): {results['write_s']} s {sizes}; "
          f"peak RSS {results['peak_rss_gb']} GB", flush=True)

    if args.uniqueness:
        rows = []
        for label, cols, phase, expected in UNIQUENESS_KEYS:
            sub = cohort if phase is None else cohort[cohort["phase"] == phase]
            t1 = time.perf_counter()
            share = unique_share(sub, cols)
            rows.append({"key": label, "records": len(sub), "expected": expected,
                         "unique_share": round(share, 4),
                         "seconds": round(time.perf_counter() - t1, 1)})
            print(f"  {label:58s} unique {share:7.2%}  (npd-spec 5: {expected:.1%})", flush=True)
        results["uniqueness"] = rows
    print(json.dumps(results, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
