"""Compare riskcalc's output checker with ACRO on the same tables, cell by cell.

ACRO (SACRO project, ``pip install acro``) requires pandas <= 2.3.3, so run this script in a
separate environment (riskcalc also works with pandas 2.x)::

    python -m venv /tmp/acro-venv && /tmp/acro-venv/bin/pip install acro scipy pyarrow tqdm
    PYTHONPATH=. /tmp/acro-venv/bin/python benchmarks/compare_acro.py

The tables are built from one seeded synthetic cohort. For each, ACRO runs with
``suppress=False`` and its per-cell outcome (``ok`` or the names of the failing checks) is read
from the session's results; riskcalc runs with its ``acro_default`` profile (ACRO's
``default.yaml`` parameters) and with ``ons_srs``. Every cell where the verdicts differ is
listed with the rules each tool applied.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings

import pandas as pd

import synthetic
from riskcalc.output_check import (
    check_frequency_table,
    check_magnitude_table,
    check_summary,
    load_rules,
)


def _acro_session():
    import acro

    logging.disable(logging.CRITICAL)
    devnull = open(os.devnull, "w")
    old = sys.stdout
    sys.stdout = devnull
    try:
        session = acro.ACRO(suppress=False)
    finally:
        sys.stdout = old
    return session, devnull


def _last_outcome(session) -> tuple[str, pd.DataFrame]:
    record = list(session.results.results.values())[-1]
    return record.status, record.outcome


def _quiet(fn, *args, **kwargs):
    old = sys.stdout
    sys.stdout = open(os.devnull, "w")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    finally:
        sys.stdout.close()
        sys.stdout = old


def _acro_cells(outcome: pd.DataFrame, row: str, col: str | None) -> pd.DataFrame:
    """ACRO's outcome grid as (cell label, acro verdict, acro checks)."""
    rows = []
    for r in outcome.index:
        for c in outcome.columns:
            text = str(outcome.loc[r, c]).strip()
            cc = c[-1] if isinstance(c, tuple) else c
            label = f"{row}={r}, {col}={cc}" if col else f"{row}={r}"
            rows.append(
                (
                    label,
                    "pass" if text == "ok" else "fail",
                    "" if text == "ok" else text.rstrip("; "),
                )
            )
    return pd.DataFrame(rows, columns=["cell", "acro", "acro_checks"])


def _merge(name: str, acro_cells: pd.DataFrame, ours: dict) -> pd.DataFrame:
    out = acro_cells
    for profile, result in ours.items():
        cells = result.cells[["cell", "verdict", "rules"]].rename(
            columns={"verdict": f"riskcalc_{profile}", "rules": f"rules_{profile}"}
        )
        if result.kind == "summary":
            cells = cells.drop_duplicates("cell")
        out = out.merge(cells, on="cell", how="outer")
    out.insert(0, "table", name)
    return out


def build_tables(n_pupils: int, seed: int):
    cohort = synthetic.generate_cohort(n_pupils, rng=seed)
    cohort["age_in_months"] = (
        (pd.Timestamp("2024-08-31") - pd.to_datetime(cohort["date_of_birth"])).dt.days // 30
    ).astype(float)
    for c in cohort.columns:
        if isinstance(cohort[c].dtype, pd.CategoricalDtype):
            cohort[c] = cohort[c].astype(str)
    la = cohort["la_code"].value_counts().index[-1]  # the smallest local authority
    small = cohort[cohort["la_code"] == la].reset_index(drop=True)
    schools = cohort.groupby(["la_code", "urn"]).size().reset_index(name="pupils")
    few = (
        schools["la_code"].value_counts().sort_values(kind="stable").index[:10]
    )  # LAs with fewest schools
    schools = schools[schools["la_code"].isin(few)].reset_index(drop=True)
    by_phase = cohort.groupby(["region", "phase", "urn"]).size().reset_index(name="pupils")
    return cohort, small, schools, by_phase


def compare(n_pupils: int = 30_000, seed: int = 0) -> pd.DataFrame:
    session, _ = _acro_session()
    cohort, small, schools, by_phase = build_tables(n_pupils, seed)
    profiles = {p: load_rules(p) for p in ("acro_default", "ons_srs")}
    frames = []

    # 1. frequency: SEN provision x ethnic group (major), smallest LA
    _quiet(session.crosstab, small["sen_provision"], small["ethnic_group_major"])
    _, outcome = _last_outcome(session)
    long = small.groupby(["sen_provision", "ethnic_group_major"]).size().reset_index(name="count")
    ours = {p: check_frequency_table(long, rules=r) for p, r in profiles.items()}
    frames.append(
        _merge(
            "sen x ethnic group (one LA)",
            _acro_cells(outcome, "sen_provision", "ethnic_group_major"),
            ours,
        )
    )

    # 2. frequency: year group x FSM, smallest LA
    _quiet(session.crosstab, small["nc_year"], small["fsm_eligible"])
    _, outcome = _last_outcome(session)
    long = small.groupby(["nc_year", "fsm_eligible"]).size().reset_index(name="count")
    ours = {p: check_frequency_table(long, rules=r) for p, r in profiles.items()}
    frames.append(
        _merge("year x FSM (one LA)", _acro_cells(outcome, "nc_year", "fsm_eligible"), ours)
    )

    # 2b. the same with FSM labelled "N"/"Y" instead of False/True
    small["fsm"] = small["fsm_eligible"].map({True: "Y", False: "N"})
    _quiet(session.crosstab, small["nc_year"], small["fsm"])
    _, outcome = _last_outcome(session)
    long = small.groupby(["nc_year", "fsm"]).size().reset_index(name="count")
    ours = {p: check_frequency_table(long, rules=r) for p, r in profiles.items()}
    frames.append(
        _merge("year x FSM as N/Y (one LA)", _acro_cells(outcome, "nc_year", "fsm"), ours)
    )

    # 3. mean age by SEN provision x sex, smallest LA
    _quiet(
        session.pivot_table,
        small,
        index="sen_provision",
        columns="sex",
        values="age_in_months",
        aggfunc="mean",
    )
    _, outcome = _last_outcome(session)
    ours = {
        p: check_summary(
            small, "age_in_months", by=["sen_provision", "sex"], statistics="mean", rules=r
        )
        for p, r in profiles.items()
    }
    frames.append(
        _merge("mean age, sen x sex (one LA)", _acro_cells(outcome, "sen_provision", "sex"), ours)
    )

    # 4. magnitude: total pupils by LA, summed over schools (dominance of large schools)
    _quiet(session.pivot_table, schools, index="la_code", values="pupils", aggfunc="sum")
    _, outcome = _last_outcome(session)
    ours = {
        p: check_magnitude_table(schools, ["la_code"], "pupils", rules=r)
        for p, r in profiles.items()
    }
    frames.append(
        _merge("pupils by LA (sum over schools)", _acro_cells(outcome, "la_code", None), ours)
    )

    # 5. magnitude: total pupils by region x phase, summed over schools
    _quiet(
        session.pivot_table,
        by_phase,
        index="region",
        columns="phase",
        values="pupils",
        aggfunc="sum",
    )
    _, outcome = _last_outcome(session)
    ours = {
        p: check_magnitude_table(by_phase, ["region", "phase"], "pupils", rules=r)
        for p, r in profiles.items()
    }
    frames.append(
        _merge(
            "pupils by region x phase (sum over schools)",
            _acro_cells(outcome, "region", "phase"),
            ours,
        )
    )

    # 6. hand-made magnitudes, 12 contributors per cell: d1 one unit holds 60% (top 2: 65%);
    #    d2 two units hold 88%; d3 two units hold 95%; d4 even; d5 all equal
    values = {
        "d1": [60.0, 5.0] + [3.5] * 10,
        "d2": [50.0, 38.0] + [1.2] * 10,
        "d3": [60.0, 35.0] + [0.5] * 10,
        "d4": [10.0, 9.0] + [8.1] * 10,
        "d5": [7.0] * 12,
    }
    hand = pd.DataFrame([(k, v) for k, vs in values.items() for v in vs], columns=["cell", "x"])
    _quiet(session.pivot_table, hand, index="cell", values="x", aggfunc="sum")
    _, outcome = _last_outcome(session)
    ours = {p: check_magnitude_table(hand, ["cell"], "x", rules=r) for p, r in profiles.items()}
    frames.append(_merge("hand-made dominance", _acro_cells(outcome, "cell", None), ours))
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser(description="riskcalc output checking vs ACRO")
    ap.add_argument("--pupils", type=int, default=30_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from importlib.metadata import version

    table = compare(args.pupils, args.seed)
    print(
        f"ACRO {version('acro')}, pandas {pd.__version__}, cohort {args.pupils:,} pupils, seed {args.seed}\n"
    )
    for name, g in table.groupby("table", sort=False):
        agree_a = (g["acro"] == g["riskcalc_acro_default"]).sum()
        agree_s = (g["acro"] == g["riskcalc_ons_srs"]).sum()
        print(
            f"{name}: {len(g)} cells; same verdict as ACRO: {agree_a} (acro_default profile), "
            f"{agree_s} (ons_srs profile)"
        )
        for col in ("acro", "riskcalc_acro_default", "riskcalc_ons_srs"):
            print(f"    {col}: {g[col].value_counts().to_dict()}")
    diff = table[
        (table["acro"] != table["riskcalc_acro_default"])
        | (table["acro"] != table["riskcalc_ons_srs"])
    ]
    print(f"\n{len(diff)} cells where a verdict differs:\n")
    with pd.option_context(
        "display.width", 250, "display.max_colwidth", 80, "display.max_rows", 500
    ):
        print(diff.fillna("").to_string(index=False))


if __name__ == "__main__":
    main()
