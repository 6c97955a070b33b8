"""Every measure of the toolbox on one synthetic cohort, timed against class sizes (issue 5).

    python benchmarks/bench_measures.py [--pupils 8500000] [--seed 0] [--repeats 1]

Target: each measure within 3 times the time of ``riskcalc.class_sizes`` on the same data (all
read class sizes or per-class counts). Timings are on an encoded table whose partition cache is
cleared before each call, so each call builds its own classes; the encoding time is printed
separately. Prints a table (seconds, ratio to class_sizes) and peak RSS.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from _harness import format_table, max_rss_bytes, median

import riskcalc as rc
import synthetic

QI = ["sex", "year_of_birth", "month_of_birth", "urn", "ethnic_group_minor"]
SENSITIVE = "sen_provision"


def cases(enc, cohort):
    sample = enc  # the cohort plays the extract; population estimates need a sampling fraction
    return {
        "class_sizes": lambda: rc.class_sizes(enc, QI),
        "class_sizes (weights)": lambda: rc.class_sizes(enc, QI, weights="w"),
        "k_anonymity": lambda: rc.k_anonymity(enc, QI),
        "uniqueness": lambda: rc.uniqueness(enc, QI),
        "small_count_exposure": lambda: rc.small_count_exposure(enc, QI),
        "attacker_risk": lambda: rc.attacker_risk(enc, QI),
        "population_uniqueness (dankar, f=0.1)": lambda: rc.population_uniqueness(
            sample, QI, sampling_fraction=0.1, method="dankar"
        ),
        "population_uniqueness (auto, f=0.1)": lambda: rc.population_uniqueness(
            sample, QI, sampling_fraction=0.1
        ),
        "individual_risk (approx)": lambda: rc.individual_risk(enc, QI, weights="w"),
        "individual_risk (exact)": lambda: rc.individual_risk(enc, QI, weights="w", method="exact"),
        "class_sizes (wildcard)": lambda: rc.class_sizes(enc, QI, missing="wildcard"),
        "l_diversity": lambda: rc.l_diversity(enc, QI, SENSITIVE),
        "t_closeness": lambda: rc.t_closeness(enc, QI, SENSITIVE),
        "beta_likeness": lambda: rc.beta_likeness(enc, QI, SENSITIVE),
        "delta_disclosure": lambda: rc.delta_disclosure(enc, QI, SENSITIVE),
        "attribute_disclosure": lambda: rc.attribute_disclosure(
            enc, QI, [SENSITIVE, "fsm_eligible"]
        ),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pupils", type=int, default=8_500_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    cohort = synthetic.generate_cohort(args.pupils, rng=args.seed)
    cohort["w"] = np.random.default_rng(args.seed).uniform(5, 15, len(cohort))
    t1 = time.perf_counter()
    enc = rc.encode(cohort, QI + [SENSITIVE, "fsm_eligible"], weights="w")
    t2 = time.perf_counter()
    print(
        f"cohort {args.pupils:,} pupils: generated in {t1 - t0:.1f} s, encoded in {t2 - t1:.2f} s",
        flush=True,
    )
    rows, base = [], None
    for name, call in cases(enc, cohort).items():
        times = []
        for _ in range(args.repeats):
            enc._partitions.clear()
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        t = median(times)
        base = base or t
        rows.append([name, f"{t:.3f}", f"{t / base:.2f}", "ok" if t <= 3 * base else "MISS"])
        print(f"  {name}: {t:.3f} s", flush=True)
    print()
    print(format_table(rows, ["measure", "seconds", "x class_sizes", "<= 3x"]))
    print(f"\npeak RSS {max_rss_bytes() / 2**30:.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
