"""Benchmark the history measures (``riskcalc.histories``) on a synthetic panel dataset.

Plain script::

    python benchmarks/bench_histories.py --panel /tmp/panel            # an existing dataset
    python benchmarks/bench_histories.py --pupils 1000000               # generate one first

Reads ``pupil_id``, ``academic_year``, ``census``, ``urn`` (and the stable fields) of every
census, then times ``trajectory_uniqueness`` (school history, 1..5 censuses linked, with sex and
month/year of birth), ``points_singled_out`` (p = 1..5 random points, and first and last
school), ``linkage_risk`` and ``history_attribute_disclosure`` (FSM history); prints the
figures, the peak RSS and the load average. A small check against a plain pivot runs first.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from riskcalc.histories import (
    history_attribute_disclosure,
    linkage_risk,
    points_singled_out,
    trajectory_uniqueness,
)
from synthetic import generate_panel, read_panel


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def self_check() -> None:
    panel = generate_panel(5_000, years=3, rng=2)
    res = trajectory_uniqueness(panel, "urn")
    wide = panel.pivot(index="pupil_id", columns="academic_year", values="urn")
    key = wide.fillna(-1).astype("int64").astype(str).agg("|".join, axis=1)
    assert res.n_unique[-1] == int((key.map(key.value_counts()) == 1).sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--panel", default=None, help="an existing panel dataset directory")
    ap.add_argument("--pupils", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    self_check()
    tmp = None
    if args.panel is None:
        tmp = Path(tempfile.mkdtemp(prefix="bench_hist_"))
        path = generate_panel(args.pupils, years=5, rng=args.seed, out=tmp / "p").path
    else:
        path = Path(args.panel)
    out = {"load_before": [round(x, 2) for x in os.getloadavg()]}
    t0 = time.perf_counter()
    cols = ["pupil_id", "urn", "sex", "year_of_birth", "month_of_birth", "fsm_eligible"]
    panel = read_panel(path, columns=cols)
    out["read_s"] = round(time.perf_counter() - t0, 1)
    out["rows"] = len(panel)
    t0 = time.perf_counter()
    tu = trajectory_uniqueness(panel, "urn", static=("sex", "year_of_birth", "month_of_birth"))
    out["trajectory_uniqueness_s"] = round(time.perf_counter() - t0, 1)
    out["unique_share_by_linked"] = [round(u / n, 4) for u, n in zip(tu.n_unique, tu.n_pupils)]
    t0 = time.perf_counter()
    pr = points_singled_out(panel, "urn", p=(1, 2, 3, 4, 5), how="random", rng=0)
    out["points_random_s"] = round(time.perf_counter() - t0, 1)
    out["singled_out_random"] = [
        round(s / e, 4) if e else None for s, e in zip(pr.n_singled_out, pr.n_eligible)
    ]
    pf = points_singled_out(panel, "urn", p=2, how="first_last")
    out["singled_out_first_last_school"] = round(pf.n_singled_out[0] / pf.n_eligible[0], 4)
    t0 = time.perf_counter()
    lk = linkage_risk(panel, stable=("sex", "year_of_birth", "month_of_birth", "urn"))
    out["linkage_s"] = round(time.perf_counter() - t0, 1)
    out["linkage_correct_share"] = [round(c / n, 4) for c, n in zip(lk.n_correct, lk.n_records)]
    out["history_recovered_separate_releases"] = round(lk.chain_share, 4)
    t0 = time.perf_counter()
    hd = history_attribute_disclosure(
        panel, "urn", "fsm_eligible", static=("sex", "year_of_birth", "month_of_birth")
    )
    out["fsm_history_s"] = round(time.perf_counter() - t0, 1)
    out["fsm_history_revealed_share"] = [
        round(r / n, 4) for r, n in zip(hd.n_revealed, hd.n_pupils)
    ]
    out["peak_rss_gb"] = round(peak_rss_gb(), 2)
    out["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out))
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
