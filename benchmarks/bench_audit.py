"""Audit the synthetic tier 3 tables of a national cohort under DfE-like policies.

Every school x year group x sex x characteristic table and every LA table of
:func:`synthetic.tier3_tables` (five characteristics, ten tables), with the level x year x sex
totals published, under "suppress below 5", "round to 5" (totals rounded too) and "suppress 1-4,
round the rest to 5" (each rounded figure read without the counts that would have been suppressed).
Target: under 2 minutes for the audit of one policy at national size.

Usage::

    PYTHONPATH=. python benchmarks/bench_audit.py --pupils 8500000
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import synthetic
from riskcalc.audit import tier3_audit


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pupils", type=int, default=8_500_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--policies", default="dfe_suppress_below_5,dfe_round_5,dfe_suppress_below_5_round_5"
    )
    ap.add_argument(
        "--method",
        default="auto",
        choices=["auto", "lp", "milp"],
        help="auto: closed form (tier 3 tables share one margin); lp: batched HiGHS LPs (a relaxation); "
        "milp: batched integer programmes",
    )
    args = ap.parse_args()
    print(f"load before: {os.getloadavg()}")
    t = time.perf_counter()
    cohort = synthetic.generate_cohort(args.pupils, rng=args.seed)
    print(f"cohort of {args.pupils:,} pupils: {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    tables = synthetic.tier3_tables(cohort)
    del cohort
    n_cells = sum(len(v) for v in tables.values())
    n_schools = tables["urn_x_eal"]["urn"].nunique()
    print(
        f"tier 3 tables: {len(tables)} tables, {n_cells:,} cells, {n_schools:,} schools: {time.perf_counter() - t:.1f} s"
    )
    for name in args.policies.split(","):
        t = time.perf_counter()
        out = tier3_audit(tables, name, method=args.method)
        dt = time.perf_counter() - t
        print(f"\n{name} ({args.method}): audit {dt:.1f} s (load {os.getloadavg()[0]:.2f})")
        print(out.to_string(index=False))
        tot = out[
            [
                "cells",
                "suppressed",
                "rounded",
                "exact_cells",
                "narrow_cells",
                "pupils_exact",
                "pupils_exposed",
            ]
        ].sum()
        print(
            "sum over tables (a pupil counts once per table):", {k: int(v) for k, v in tot.items()}
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {peak:,.0f} MiB; load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
