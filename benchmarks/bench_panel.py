"""Benchmark the synthetic panel generator (``synthetic.generate_panel``).

Plain script::

    python benchmarks/bench_panel.py                          # 8.5 million pupils x 5 springs
    python benchmarks/bench_panel.py --pupils 1000000 --years 5 --censuses spring

Writes the partitioned Parquet dataset into a temporary directory (or ``--out``), then prints
the wall time, the rows and files written, the dataset size on disk, the peak resident memory
of the process (``resource.getrusage``) and the machine load (``os.getloadavg``) before and
after. It first checks a small panel (every pupil one school per census, year groups advance
by one, dates of birth fixed), so a fast wrong generator cannot pass.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synthetic import generate_panel, read_panel


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def self_check() -> None:
    panel = generate_panel(5_000, years=3, rng=7)
    assert not panel.duplicated(["pupil_id", "academic_year", "census"]).any()
    p = panel.sort_values(["pupil_id", "academic_year"])
    same = p["pupil_id"].to_numpy()[1:] == p["pupil_id"].to_numpy()[:-1]
    step = np.diff(p["nc_year"].cat.codes.to_numpy().astype(int))[same]
    gap = np.diff(p["academic_year"].to_numpy().astype(int))[same]
    assert (step == gap).all(), "year groups must advance one a year"
    assert (p.groupby("pupil_id")["date_of_birth"].nunique() == 1).all()


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*.parquet"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pupils", type=int, default=8_500_000)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--censuses", default="spring", help="comma-separated: autumn,spring,summer")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="keep the dataset here (default: a temp dir)")
    ap.add_argument(
        "--read-cohort",
        action="store_true",
        help="also time reading one Year 11 cohort back (read_panel)",
    )
    args = ap.parse_args()
    self_check()
    tmp = None
    if args.out is None:
        tmp = Path(tempfile.mkdtemp(prefix="bench_panel_"))
        out = tmp / "panel"
    else:
        out = Path(args.out)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    ds = generate_panel(
        args.pupils,
        years=args.years,
        censuses=tuple(args.censuses.split(",")),
        rng=args.seed,
        out=out,
        force=True,
    )
    wall = time.perf_counter() - t0
    load_after = os.getloadavg()
    result = {
        "pupils": args.pupils,
        "years": args.years,
        "censuses": args.censuses,
        "rows": ds.n_rows,
        "files": ds.n_files,
        "seconds": round(wall, 1),
        "rows_per_second": round(ds.n_rows / wall),
        "disk_gb": round(dir_size(out) / 1e9, 2),
        "peak_rss_gb": round(peak_rss_gb(), 2),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    if args.read_cohort:
        t1 = time.perf_counter()
        last = ds.first_year + ds.years - 1
        frame = read_panel(out, academic_years=[last], columns=["pupil_id", "nc_year"])
        result["read_last_year_s"] = round(time.perf_counter() - t1, 1)
        result["read_last_year_rows"] = len(frame)
    print(json.dumps(result))
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
