"""Simulation: population-uniqueness estimators against the truth on a synthetic population.

A synthetic pupil population (``synthetic.generate_cohort(n, rng=seed)``) plays the role of
the population, so its true share of population uniques is known exactly. For each
quasi-identifier set and each sampling fraction, simple random samples (without replacement,
``numpy.random.Generator.choice``, seeded) are drawn; ``riskcalc.population.population_uniqueness``
is run on each with ``population_size=N``, and the Zayatz, Pitman and SNB estimates and
Dankar's choice are compared with the truth.

Quasi-identifier sets:

* ``dob_la``: sex, year_of_birth, month_of_birth, la_code;
* ``school``: sex, nc_year, ethnic_group_minor, urn.

Run from the repository root::

    PYTHONPATH=. python benchmarks/sim_population.py                      # 500,000 pupils, ~1-2 min
    PYTHONPATH=. python benchmarks/sim_population.py --n-pupils 50000 --fractions 0.05,0.2
    PYTHONPATH=. python benchmarks/sim_population.py --markdown benchmarks/results/population.md

The table reports means over ``--reps`` samples per fraction (default 5): the true share of
population uniques, the sample uniqueness, each estimator's share (``nan`` counts of failed fits
are reported in the ``fail`` column and left out of the mean), Dankar's estimate, and which
estimators Dankar's rule chose (counts over the replicates).
"""

from __future__ import annotations

import argparse
import collections
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import synthetic  # noqa: E402
from riskcalc import encode  # noqa: E402
from riskcalc.population import population_uniqueness  # noqa: E402

KEYS = {
    "dob_la": ("sex", "year_of_birth", "month_of_birth", "la_code"),
    "school": ("sex", "nc_year", "ethnic_group_minor", "urn"),
}
FRACTIONS = (0.01, 0.05, 0.1, 0.2, 0.5)
METHODS = ("zayatz", "pitman", "snb")


def true_uniqueness(frame, keys) -> float:
    """Share of population records unique on ``keys`` (the truth)."""
    sizes = frame.groupby(list(keys), observed=True, dropna=False).size().to_numpy()
    return float(np.count_nonzero(sizes == 1)) / len(frame)


def simulate(n_pupils=500_000, fractions=FRACTIONS, reps=5, seed=20240501, keys=KEYS):
    """Run the simulation; return a list of row dicts (one per key set and fraction)."""
    population = synthetic.generate_cohort(n_pupils, rng=seed)
    columns = sorted({c for k in keys.values() for c in k})
    population = population[columns]
    N = len(population)
    rng = np.random.default_rng(seed)
    rows = []
    for key_name, key in keys.items():
        truth = true_uniqueness(population, key)
        for f in fractions:
            n = int(round(f * N))
            est = collections.defaultdict(list)
            chosen = collections.Counter()
            seconds = []
            for _ in range(reps):
                idx = np.sort(rng.choice(N, size=n, replace=False))
                sample = encode(population.iloc[idx], list(key))
                t0 = time.perf_counter()
                res = population_uniqueness(sample, key, population_size=N)
                seconds.append(time.perf_counter() - t0)
                est["sample"].append(res.sample_uniqueness)
                for m in METHODS:
                    est[m].append(res.estimates[m])
                est["dankar"].append(res.estimate)
                chosen[res.method_used] += 1
            row = {
                "key": key_name,
                "fraction": f,
                "n_sample": n,
                "population": N,
                "true": truth,
                "sample_uniqueness": float(np.mean(est["sample"])),
                "seconds": float(np.median(seconds)),
                "dankar_choice": ", ".join(f"{m} {k}" for m, k in sorted(chosen.items())),
            }
            for m in (*METHODS, "dankar"):
                values = np.asarray(est[m], dtype=float)
                ok = np.isfinite(values)
                row[m] = float(values[ok].mean()) if ok.any() else math.nan
                row[f"{m}_fail"] = int((~ok).sum())
            rows.append(row)
    return rows


def _pct(x: float) -> str:
    return "nan" if not math.isfinite(x) else f"{100 * x:.2f}%"


def markdown(rows) -> str:
    """The results as a Markdown table."""
    head = (
        "| key | f | n sample | true | sample uniq. | Zayatz | Pitman | SNB | Dankar | "
        "Dankar chose | fits failed (Z/P/S) |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n"
    )
    lines = []
    for r in rows:
        lines.append(
            f"| {r['key']} | {r['fraction']:g} | {r['n_sample']:,} | {_pct(r['true'])} | "
            f"{_pct(r['sample_uniqueness'])} | {_pct(r['zayatz'])} | {_pct(r['pitman'])} | "
            f"{_pct(r['snb'])} | {_pct(r['dankar'])} | {r['dankar_choice']} | "
            f"{r['zayatz_fail']}/{r['pitman_fail']}/{r['snb_fail']} |"
        )
    return head + "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-pupils", type=int, default=500_000)
    parser.add_argument("--fractions", default=",".join(map(str, FRACTIONS)))
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    fractions = tuple(float(x) for x in args.fractions.split(","))
    t0 = time.perf_counter()
    rows = simulate(args.n_pupils, fractions, args.reps, args.seed)
    table = markdown(rows)
    print(
        f"population: synthetic.generate_cohort({args.n_pupils}, rng={args.seed}); "
        f"{args.reps} samples per fraction; shares are means over samples\n"
    )
    print(table)
    slowest = max(r["seconds"] for r in rows)
    print(f"slowest population_uniqueness call (median over reps): {1000 * slowest:.1f} ms; "
          f"total {time.perf_counter() - t0:.0f} s")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
