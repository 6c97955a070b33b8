"""How well could any forest rank sample uniques? The per-record AUC of a forest fitted to the
whole population.

``population_uniqueness`` gives each sample unique a probability of being a population unique,
from a forest model fitted to the *sample*. This script fits the same forest
(``riskcalc._forest.fit_forest``) to the *population* itself, which a real user never holds, and
ranks the sample uniques of a simple random sample by the population model's cell probability
(the smaller, the likelier unique). Its AUC among the sample uniques is a ceiling for what a
forest-shaped model can do at that fraction: at large fractions most sample uniques sit in cells
of one or two pupils, and whether the other pupil exists is then nearly a coin toss for any
model of the cell's expected size.

Run from the repository root::

    PYTHONPATH=. python benchmarks/population_auc_ceiling.py

Tuning population and keys only (``synthetic.generate_cohort(400_000, rng=13579)``), so that
nothing here informs the held-out half of ``benchmarks/sim_population.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import synthetic
from riskcalc._core.access import prepare
from riskcalc._forest import fit_forest
from riskcalc._model_risk import _cells

KEYS = {
    "dob_la": ("sex", "year_of_birth", "month_of_birth", "la_code"),
    "school": ("sex", "nc_year", "urn"),
    "pcd_sen_fsm": ("postcode_district", "sen_provision", "fsm_eligible", "sex", "year_of_birth"),
}
FRACTIONS = (0.01, 0.1, 0.5)


def auc(score: np.ndarray, label: np.ndarray) -> float:
    """Mann-Whitney AUC of ``score`` for the positive ``label`` (ties count half)."""
    from scipy.stats import rankdata

    r = rankdata(score)
    pos = int(label.sum())
    return float((r[label].sum() - pos * (pos + 1) / 2) / (pos * (label.shape[0] - pos)))


def main() -> int:
    population = synthetic.generate_cohort(400_000, rng=13579)
    N = len(population)
    print("| key | f | sample uniques | AUC of the population's own forest |")
    print("|---|---:|---:|---:|")
    for name, key in KEYS.items():
        frame = pd.DataFrame(
            {c: pd.factorize(population[c], use_na_sentinel=False)[0] for c in key}
        )
        enc, part, _ = prepare(frame, list(key), func="population_auc_ceiling")
        cells = _cells(enc, part, np.ones(N))
        forest = fit_forest(cells.codes, cells.f, cells.levels)
        cell_p = forest.probability(cells.codes)
        for f in FRACTIONS:
            idx = np.random.default_rng(0).choice(N, int(f * N), replace=False)
            counts = np.bincount(cells.record_cell[idx], minlength=cells.f.shape[0])
            su = np.flatnonzero(counts == 1)
            label = cells.f[su] == 1
            print(f"| {name} | {f:g} | {su.shape[0]:,} | {auc(-cell_p[su], label):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
