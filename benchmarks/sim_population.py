"""Simulation: population-uniqueness estimators against the truth on a synthetic population.

A synthetic pupil population (``synthetic.generate_cohort(N, rng=seed)``) plays the role of
the population, so its number of population uniques on any key is known exactly. For each key
and each sampling fraction, ``--reps`` simple random samples (without replacement, seeded numpy
``Generator``) are drawn; ``riskcalc.population.population_uniqueness(sample, key,
population_size=N)`` is run on each, and every estimator's count is compared with the truth:

* ``zayatz``, ``pitman``, ``snb`` - the histogram estimators;
* ``dankar`` - Dankar et al.'s rule applied to those three (``method="dankar"``);
* ``ll_main`` - the log-linear model with main effects only (``model_risk``, tau1 / f);
* ``loglinear`` - the log-linear model with Skinner-Shlomo impact selection;
* ``default`` - what ``population_uniqueness`` reports by default (``method="auto"``).

The population is encoded once; each sample is the integer codes of the sampled rows, encoded
again (small-int fast path), so no sample repeats the string work.

Keys (``--keys`` picks some):

* ``low``: sex, nc_year, ethnic_group_major, sen_provision, fsm_eligible, idaci_decile
  (a few low-cardinality fields);
* ``school``: sex, nc_year, ethnic_group_minor, urn;
* ``dob_la``: sex, year_of_birth, month_of_birth, la_code;
* ``dob``: sex, date_of_birth, region;
* ``postcode``: sex, year_of_birth, month_of_birth, postcode_district.

Run from the repository root::

    PYTHONPATH=. python benchmarks/sim_population.py                    # 1,000,000 pupils, 20 reps
    PYTHONPATH=. python benchmarks/sim_population.py --n-pupils 50000 --reps 3 --keys low,dob_la
    PYTHONPATH=. python benchmarks/sim_population.py --markdown out.md --csv samples.csv

Output: one Markdown table per key (rows: fraction; columns: truth, then each estimator's mean
count, its spread (standard deviation over samples) and mean relative error), and a summary
table of the default against the goal (within 25% of the true count, or within 0.25
percentage points when the truth is below 1% of N, in every cell with at least 100 population
uniques).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import synthetic  # noqa: E402
from riskcalc import encode, uniqueness  # noqa: E402
from riskcalc.model_risk import model_risk  # noqa: E402
from riskcalc.population import _dankar, population_uniqueness  # noqa: E402

KEYS = {
    "low": ("sex", "nc_year", "ethnic_group_major", "sen_provision", "fsm_eligible", "idaci_decile"),
    "school": ("sex", "nc_year", "ethnic_group_minor", "urn"),
    "dob_la": ("sex", "year_of_birth", "month_of_birth", "la_code"),
    "dob": ("sex", "date_of_birth", "region"),
    "postcode": ("sex", "year_of_birth", "month_of_birth", "postcode_district"),
}
FRACTIONS = (0.01, 0.05, 0.1, 0.2, 0.5)
ESTIMATORS = ("zayatz", "pitman", "snb", "dankar", "ll_main", "loglinear", "default")
#: The goal: relative error of the mean within this, or (truth below 1%) this many points.
GOAL_REL, GOAL_POINTS, GOAL_MIN_UNIQUES = 0.25, 0.0025, 100


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "n/a"


def simulate(n_pupils=1_000_000, fractions=FRACTIONS, reps=20, seed=20240501, keys=KEYS, log=print):
    """Run the simulation; return one row per sample (a DataFrame)."""
    t0 = time.perf_counter()
    columns = sorted({c for k in keys.values() for c in k})
    population = synthetic.generate_cohort(n_pupils, rng=seed)[columns]
    N = len(population)
    enc = encode(population, columns)
    codes = pd.DataFrame({c: enc[c].codes for c in columns})
    del population
    log(f"population of {N:,} generated and encoded in {time.perf_counter() - t0:.0f} s "
        f"(load {_load()})")
    rng = np.random.default_rng(seed)
    rows = []
    for key_name, key in keys.items():
        truth = uniqueness(enc, list(key)).n_unique
        for f in fractions:
            n = int(round(f * N))
            t_key = time.perf_counter()
            for rep in range(reps):
                idx = rng.choice(N, size=n, replace=False)
                sample = encode(codes.iloc[idx][list(key)].reset_index(drop=True))
                t1 = time.perf_counter()
                res = population_uniqueness(sample, key, population_size=N)
                seconds = time.perf_counter() - t1
                main = model_risk(sample, key, sampling_fraction=n / N)
                dankar, _ = _dankar(f, res.fits)
                ll = res.fits["loglinear"]
                row = {
                    "key": key_name, "fraction": f, "rep": rep, "n_sample": n, "population": N,
                    "truth": truth, "sample_uniques": res.n_sample_uniques,
                    "zayatz": res.fits["zayatz"].n_population_uniques,
                    "pitman": res.fits["pitman"].n_population_uniques,
                    "snb": res.fits["snb"].n_population_uniques,
                    "dankar": res.fits[dankar].n_population_uniques,
                    "dankar_choice": dankar,
                    "ll_main": main.tau1 * N / n,
                    "loglinear": ll.n_population_uniques,
                    "ll_model": ll.parameters.get("model", ""),
                    "ll_impact_z": ll.parameters.get("impact_z", math.nan),
                    "default": res.n_population_uniques,
                    "default_choice": res.method_used,
                    "seconds": seconds,
                }
                rows.append(row)
            log(f"{key_name:>8} f={f:<5g} truth {truth:>8,}  default mean "
                f"{np.mean([r['default'] for r in rows[-reps:]]):>11,.1f}  "
                f"({time.perf_counter() - t_key:.0f} s, load {_load()})")
    return pd.DataFrame(rows)


def summarise(samples: pd.DataFrame) -> pd.DataFrame:
    """Per key and fraction: truth and, per estimator, mean, sd, relative error, failures."""
    out = []
    for (key, f), g in samples.groupby(["key", "fraction"], sort=False):
        truth = int(g["truth"].iloc[0])
        N = int(g["population"].iloc[0])
        row = {"key": key, "fraction": f, "n_sample": int(g["n_sample"].iloc[0]), "truth": truth,
               "truth_share": truth / N, "sample_uniques": float(g["sample_uniques"].mean()),
               "reps": len(g), "default_choice": _counts(g["default_choice"]),
               "dankar_choice": _counts(g["dankar_choice"]),
               "models": _counts(g["ll_model"].map(_short_model)),
               "seconds": float(g["seconds"].median())}
        for m in ESTIMATORS:
            v = g[m].to_numpy(dtype=float)
            ok = np.isfinite(v)
            mean = float(v[ok].mean()) if ok.any() else math.nan
            row[m] = mean
            row[f"{m}_sd"] = float(v[ok].std(ddof=1)) if ok.sum() > 1 else math.nan
            row[f"{m}_rel"] = (mean - truth) / truth if truth else math.nan
            row[f"{m}_fail"] = int((~ok).sum())
        err_points = abs(row["default"] - truth) / N
        row["goal_applies"] = truth >= GOAL_MIN_UNIQUES
        if truth / N < 0.01:
            row["goal_met"] = err_points <= GOAL_POINTS
            row["goal_rule"] = "0.25 points"
        else:
            row["goal_met"] = abs(row["default_rel"]) <= GOAL_REL
            row["goal_rule"] = "25%"
        out.append(row)
    return pd.DataFrame(out)


def _counts(series) -> str:
    vc = series.value_counts()
    return ", ".join(f"{k} {v}" for k, v in vc.items())


def _short_model(formula: str) -> str:
    inter = [t.strip() for t in formula.replace("~", "").split("+") if ":" in t]
    return "main" if not inter else " + ".join(inter)


def _num(x) -> str:
    if not math.isfinite(x):
        return "nan"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.1f}"


def _rel(x) -> str:
    return "nan" if not math.isfinite(x) else f"{100 * x:+.0f}%"


def markdown(summary: pd.DataFrame, keys=KEYS) -> str:
    """Per-key tables (mean ± sd, relative error) and the goal table."""
    parts = []
    for key, g in summary.groupby("key", sort=False):
        parts.append(f"**{key}** ({', '.join(keys.get(key, ()))}): true population uniques "
                     f"{int(g['truth'].iloc[0]):,} ({100 * g['truth_share'].iloc[0]:.3f}% of N)\n")
        head = "| f | n sample | sample uniques | " + " | ".join(ESTIMATORS) + " |\n"
        head += "|---:|---:|---:|" + "---:|" * len(ESTIMATORS) + "\n"
        lines = []
        for _, r in g.iterrows():
            cells = []
            for m in ESTIMATORS:
                fail = f", {r[f'{m}_fail']} failed" if r[f"{m}_fail"] else ""
                cells.append(f"{_num(r[m])} ± {_num(r[f'{m}_sd'])} ({_rel(r[f'{m}_rel'])}{fail})")
            lines.append(f"| {r['fraction']:g} | {r['n_sample']:,} | {_num(r['sample_uniques'])} | "
                         + " | ".join(cells) + " |")
        parts.append(head + "\n".join(lines) + "\n")
    goal = ("| key | f | truth | truth % of N | default (mean) | rel. error | rule | goal applies "
            "| met | default chose | log-linear models chosen (count of samples) |\n"
            "|---|---:|---:|---:|---:|---:|---|---|---|---|---|\n")
    for _, r in summary.iterrows():
        goal += (f"| {r['key']} | {r['fraction']:g} | {r['truth']:,} | {100 * r['truth_share']:.3f}% | "
                 f"{_num(r['default'])} | {_rel(r['default_rel'])} | {r['goal_rule']} | "
                 f"{'yes' if r['goal_applies'] else 'no (< 100)'} | "
                 f"{'yes' if r['goal_met'] else 'NO'} | {r['default_choice']} | {r['models']} |\n")
    parts.append(goal)
    return "\n".join(parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-pupils", type=int, default=1_000_000)
    parser.add_argument("--fractions", default=",".join(map(str, FRACTIONS)))
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--keys", default=",".join(KEYS), help="comma-separated key names")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    parser.add_argument("--csv", type=Path, help="also write one row per sample to this file")
    args = parser.parse_args(argv)
    fractions = tuple(float(x) for x in args.fractions.split(","))
    keys = {k: KEYS[k] for k in args.keys.split(",")}
    t0 = time.perf_counter()
    samples = simulate(args.n_pupils, fractions, args.reps, args.seed, keys,
                       log=lambda m: print(m, file=sys.stderr, flush=True))
    summary = summarise(samples)
    table = markdown(summary, keys)
    header = (f"population: synthetic.generate_cohort({args.n_pupils:,}, rng={args.seed}); "
              f"{args.reps} samples per fraction; counts are means ± sd over samples, "
              f"(relative error of the mean)\n")
    print(header)
    print(table)
    footer = (f"median population_uniqueness call, slowest cell: {summary['seconds'].max():.2f} s; "
              f"total {time.perf_counter() - t0:.0f} s; load at the end {_load()}")
    print(footer)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(header + "\n" + table + "\n" + footer + "\n")
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        samples.to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
