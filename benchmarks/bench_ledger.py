"""Benchmark issue 29's release ledger: ``rc.ledger_exposure`` on the whole synthetic ledger.

Plain script::

    # the panels (once; Parquet datasets outside the repository)
    python benchmarks/bench_ledger.py --make-panel 100000 --out /work/data/panel_2011_100k
    python benchmarks/bench_ledger.py --make-panel 8457089 --out /work/data/panel_2011_national

    # the whole 887-release ledger against a panel, and prefixes of it
    python benchmarks/bench_ledger.py --panel /work/data/panel_2011_national --releases 887
    python benchmarks/bench_ledger.py --panel DIR --releases 100,300,887,2000 --json out.jsonl

Each case runs in its own process (``_harness.run_sampled``): wall time of the whole process,
peak resident memory of the whole process tree (psutil, every 50 ms), the load average before
and after; the child prints its own split (reading the panel, the measure) and the figures
(median, p90, children at each level, a digest of the per-child counts, so that two versions of
the code can be checked to agree). ``--read pandas`` reads the Parquet dataset into pandas first
(pyarrow, only the columns needed) and passes the frame; ``--read path`` (default) passes the
path, the measure reading only the columns it needs. ``--code DIR`` runs another checkout of
riskcalc (the code before a change) on the same cases.

The ledger is ``synthetic.generate_ledger(0)`` (2012-2016, 887 releases); ``--releases K`` takes
its first ``K`` releases in date order, and ``K`` above 887 appends copies of the ledger's
releases (in order, ids and recipients suffixed ``~2``, ``~3``...: new recipients holding the
same field sets, so work shared per field set and census shows as such).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

#: The columns a run reads: the ids and censuses, the fields of the built-in scenarios the
#: ledger's releases hold, NC year and LA (year groups and LA populations), the breakdowns.
COLUMNS = [
    "pupil_id",
    "academic_year",
    "census",
    "sex",
    "year_of_birth",
    "month_of_birth",
    "nc_year",
    "urn",
    "la_code",
    "region",
    "fsm_eligible",
    "sen_provision",
    "ethnic_group_minor",
    "lsoa",
    "date_of_birth",
    "postcode",
    "forename",
]


def ledger_of(k: int):
    """The first ``k`` releases of the synthetic ledger (copies appended past its end)."""
    import pandas as pd

    from synthetic import generate_ledger

    led = generate_ledger(0)
    parts, copy = [led], 2
    while sum(len(p) for p in parts) < k:
        c = led.copy()
        c["release_id"] = c["release_id"] + f"~{copy}"
        c["recipient"] = c["recipient"] + f"~{copy}"
        parts.append(c)
        copy += 1
    return pd.concat(parts, ignore_index=True).head(k)


def _cpu_seconds() -> float:
    """CPU seconds of this process so far (user + system, every thread): what the work costs
    whatever else the machine runs."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child(args) -> None:
    if args.code:
        sys.path.insert(0, args.code)
    import numpy as np

    import riskcalc as rc
    from riskcalc.release.scenarios import load_scenarios

    fields = next(s.fields for s in load_scenarios() if s.name == args.scenario)
    need = [
        c
        for c in COLUMNS
        if c
        in (
            "pupil_id",
            "academic_year",
            "census",
            "nc_year",
            "la_code",
            "region",
            "fsm_eligible",
            "sen_provision",
        )
        or c in fields
    ]
    ledger = ledger_of(args.releases)
    t0 = time.perf_counter()
    if args.read == "pandas":
        import pyarrow.dataset as ds

        panel = (
            ds.dataset(args.panel, format="parquet", partitioning="hive")
            .to_table(columns=need)
            .to_pandas()
        )
    else:
        panel = args.panel
    t1 = time.perf_counter()
    res = rc.ledger_exposure(panel, ledger, args.scenario, links=not args.no_links)
    t2 = time.perf_counter()
    per_child = res.per_child
    digest = hashlib.blake2b(
        per_child["pupil_id"].astype(str).str.cat(sep="\n").encode()
        + np.ascontiguousarray(per_child["n_recipients"].to_numpy(np.int64)).tobytes(),
        digest_size=8,
    ).hexdigest()
    print(
        json.dumps(
            {
                "read_s": t1 - t0,
                "cpu_s": _cpu_seconds(),
                "measure_s": t2 - t1,
                "n_children": res.n_children,
                "n_releases": res.n_releases,
                "n_recipients": res.n_recipients,
                "median": res.median,
                "p90": res.p90,
                "n_at_least": list(res.n_at_least),
                "n_at_least_linked": list(res.n_at_least_linked),
                "links": not args.no_links,
                "digest": digest,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--panel", help="a Parquet panel dataset (academic_year=/census= folders)")
    ap.add_argument("--releases", default="887", help="comma-separated ledger sizes")
    ap.add_argument("--scenario", default="school_gate")
    ap.add_argument("--read", choices=("path", "pandas"), default="path")
    ap.add_argument(
        "--no-links",
        action="store_true",
        help="ledger_exposure(links=False): both bounds, no link_rate / n_false_links",
    )
    ap.add_argument("--code", help="another checkout of riskcalc to run instead")
    ap.add_argument("--json", help="append each case as a JSON line to this file")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--make-panel", type=int, metavar="N", help="write an N-pupil panel to --out")
    ap.add_argument("--out")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        args.releases = int(args.releases)
        return child(args)
    if args.make_panel:
        sys.path.insert(0, str(HERE.parent))
        from synthetic import generate_panel

        t = time.perf_counter()
        ds = generate_panel(
            args.make_panel,
            first_year=2011,
            years=5,
            rng=0,
            out=args.out,
            columns=[c for c in COLUMNS if c not in ("pupil_id", "academic_year", "census")],
        )
        print(f"{ds} in {time.perf_counter() - t:.1f} s")
        return
    from _harness import case_result, print_case, run_sampled

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [p for p in (args.code, str(HERE.parent), env.get("PYTHONPATH")) if p]
    )
    for k in [int(x) for x in args.releases.split(",")]:
        argv = [
            sys.executable,
            __file__,
            "--child",
            "--panel",
            args.panel,
            "--releases",
            str(k),
            "--scenario",
            args.scenario,
            "--read",
            args.read,
        ]
        if args.code:
            argv += ["--code", args.code]
        if args.no_links:
            argv += ["--no-links"]
        head = {
            "panel": os.path.basename(args.panel.rstrip("/")),
            "releases": k,
            "scenario": args.scenario,
            "read": args.read,
            "links": not args.no_links,
            "code": args.code or "this checkout",
            "cores": os.cpu_count(),
        }
        load = os.getloadavg()
        run = run_sampled(argv, env=env, timeout=args.timeout, interval=0.05)
        print_case(case_result(run, head, load), args.json)


if __name__ == "__main__":
    main()
