"""Benchmark the simulated linkage attack: one intruder profile against a tier 1 extract.

Plain script::

    python benchmarks/bench_attack.py                                  # 1,000,000 pupils, coverage 0.01,0.05,0.1
    python benchmarks/bench_attack.py --pupils 200000 --coverage 0.1 --intruder class_list

Each coverage runs in its own subprocess, so the peak resident memory (``VmHWM``) is that of
one run: Python, imports, the cohort, the auxiliary table and the attack. Printed per run: the
wall time of drawing the auxiliary table, of the exact attack alone, of the full attack (exact +
Splink: blocking choice, u sampling, EM, prediction), the pairs scored, the headline counts and
the machine load (``os.getloadavg``) before and after. Cohort generation is not timed. A small
self-check first (the exact attack on error-free data claims exactly the sample uniques), so a
fast wrong attack cannot pass.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _peak_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def self_check() -> None:
    import synthetic
    from riskcalc import linkage_attack, uniqueness
    from synthetic.intruders import auxiliary_table, linking_view, profile

    cohort = synthetic.generate_cohort(3_000, rng=1)
    p = profile("social_media").error_free().with_(coverage=1.0)
    f, aux, ext = linking_view(auxiliary_table(cohort, p, rng=1), synthetic.tier_extract(cohort, 2))
    res = linkage_attack(ext, aux, f, probabilistic=False)
    assert res.exact_correct == res.exact_claimed == uniqueness(ext, list(f)).n_unique, (
        "self-check failed"
    )


def one_run(
    pupils: int, coverage: float, intruder: str, seed: int, threads: int, tier: int
) -> dict:
    import synthetic
    from riskcalc import linkage_attack
    from synthetic.intruders import COMPARISONS, auxiliary_table, linking_view, profile

    cohort = synthetic.generate_cohort(pupils, rng=seed)
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    aux_all = auxiliary_table(cohort, profile(intruder).with_(coverage=coverage), rng=seed)
    fields, aux, ext = linking_view(aux_all, synthetic.tier_extract(cohort, tier))
    t_aux = time.perf_counter() - t0
    t0 = time.perf_counter()
    exact = linkage_attack(ext, aux, fields, probabilistic=False)
    t_exact = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = linkage_attack(
        ext,
        aux,
        fields,
        comparisons={k: v for k, v in COMPARISONS.items() if k in fields},
        seed=seed,
        threads=threads,
    )
    t_attack = time.perf_counter() - t0
    j = res.thresholds.index(res.reference_threshold)
    return {
        "pupils": pupils,
        "tier": tier,
        "intruder": intruder,
        "coverage": coverage,
        "threads": threads,
        "auxiliary_records": len(aux),
        "fields": list(fields),
        "blocking": [list(r) for r in res.blocking],
        "seconds_auxiliary": round(t_aux, 2),
        "seconds_exact": round(t_exact, 2),
        "seconds_attack": round(t_attack, 2),
        "targets": res.n_targets,
        "sample_unique": res.n_sample_unique,
        "exact_correct": exact.exact_correct,
        "linkage_claimed": res.claimed[j],
        "linkage_correct": res.correct[j],
        "peak_rss_mib": round(_peak_mib(), 1),
        "load_before": [round(x, 2) for x in load0],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pupils", type=int, default=1_000_000)
    ap.add_argument(
        "--coverage", default="0.01,0.05,0.1", help="comma-separated coverages, one run each"
    )
    ap.add_argument("--intruder", default="social_media")
    ap.add_argument("--tier", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--threads", type=int, default=2, help="DuckDB threads (default 2, the machine's cores)"
    )
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--jsonl", help="append one JSON line per run to this file")
    args = ap.parse_args(argv)
    if args.child:
        print(
            json.dumps(
                one_run(
                    args.pupils,
                    float(args.coverage),
                    args.intruder,
                    args.seed,
                    args.threads,
                    args.tier,
                )
            )
        )
        return 0
    self_check()
    for cov in (float(c) for c in args.coverage.split(",")):
        cmd = [
            sys.executable,
            __file__,
            "--child",
            "--pupils",
            str(args.pupils),
            "--coverage",
            str(cov),
            "--intruder",
            args.intruder,
            "--seed",
            str(args.seed),
            "--threads",
            str(args.threads),
            "--tier",
            str(args.tier),
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps(row), flush=True)
        if args.jsonl:
            with open(args.jsonl, "a") as fh:
                fh.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
