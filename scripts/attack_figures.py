"""The measured figures of docs/attack.md, from the documented command, in one step.

Run from the repository root::

    python scripts/attack_figures.py            # print the block (table and reading)
    python scripts/attack_figures.py --write    # and replace it in docs/attack.md

It runs ``python -m riskcalc attack --pupils 20000 --seed 0 --out TMP`` (every profile, tiers 1,
2 and 4; Splink needed), reads ``attack_summary.csv`` and renders the table and the paragraph that
reads it, with every number taken from that file. ``--from DIR`` reads an existing
``riskcalc attack --out DIR`` folder instead. The block sits between the
``<!-- attack-figures:begin -->`` and ``<!-- attack-figures:end -->`` markers of docs/attack.md.
Rerun it whenever the cohort generator or an intruder profile changes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "attack.md"
BEGIN, END = "<!-- attack-figures:begin -->", "<!-- attack-figures:end -->"
PUPILS, SEED = 20_000, 0


def _pct(k: float, n: float) -> str:
    return f"{100 * k / n:.0f}%" if n else "n/a"


def _n(x) -> str:
    return f"{int(round(float(x))):,}"


def run_attack(pupils: int, seed: int) -> tuple[pd.DataFrame, str]:
    """Run the documented command; return its summary table and a line on time and load."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "riskcalc",
                "attack",
                "--pupils",
                str(pupils),
                "--seed",
                str(seed),
                "--out",
                tmp,
                "--format",
                "json",
            ],
            check=True,
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - start
        load_after = os.getloadavg()[0]
        summary = pd.read_csv(Path(tmp) / "attack_summary.csv")
    minutes, seconds = divmod(round(wall), 60)
    took = f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
    return summary, f"{took} wall, load average {load_before:.1f} before and {load_after:.1f} after"


def render(summary: pd.DataFrame, timing: str | None, pupils: int, seed: int) -> str:
    """The table and the paragraph reading it, every number from ``summary``."""
    rows = summary[summary["sample_unique"].notna()]
    when = f"; {timing}" if timing else ""
    lines = [
        f"`riskcalc attack --pupils {pupils} --seed {seed}` (all profiles, tiers 1, 2, 4{when}); regenerate "
        "this block with `python scripts/attack_figures.py --write`:",
        "",
        "| tier | intruder | targets | sample unique | prosecutor expected | exact correct / claimed | "
        "linkage correct / claimed (p >= 0.5) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for _, r in rows.iterrows():
        lines.append(
            f"| {int(r['tier'])} | {r['intruder']} | {_n(r['targets'])} | {_n(r['sample_unique'])} | "
            f"{_n(r['prosecutor_expected'])} | {_n(r['exact_correct'])} / {_n(r['exact_claimed'])} | "
            f"{_n(r['linkage_correct'])} / {_n(r['linkage_claimed'])} |"
        )
    s = summary.set_index(["tier", "intruder"])
    sm1, sm2, sm4 = (s.loc[(t, "social_media")] for t in (1, 2, 4))
    cl1 = s.loc[(1, "class_list")]
    t = sm2["targets"]
    wrong2 = sm2["linkage_claimed"] - sm2["linkage_correct"]
    prec2 = (
        sm2["linkage_correct"] / sm2["linkage_claimed"] if sm2["linkage_claimed"] else float("nan")
    )
    word = "overstates" if sm2["prosecutor_expected"] > sm2["linkage_correct"] else "understates"
    tier4 = (
        "the fitted model gives no candidate a probability of 0.5: the linkage model understates a risk the "
        f"exact attack still realises ({_n(sm4['exact_correct'])} children)"
        if sm4["linkage_claimed"] == 0
        else f"the probabilistic attack is right on {_n(sm4['linkage_correct'])} of {_n(sm4['linkage_claimed'])} "
        f"claims and the exact attack on {_n(sm4['exact_correct'])} of {_n(sm4['exact_claimed'])}"
    )
    text = (
        "Reading it: on tier 1 an intruder with names re-identifies most targets (class list "
        f"{_pct(cl1['linkage_correct'], cl1['targets'])}, social media "
        f"{_pct(sm1['linkage_correct'], sm1['targets'])} with "
        f"{_pct(sm1['linkage_correct'], sm1['linkage_claimed'])} precision; the exact attack gets "
        f"{_pct(sm1['exact_correct'], sm1['targets'])} of the social-media targets, losing those whose knowledge "
        "has an error or a gap). On tier 2 the social-media intruder is left with sex, birth month and year, school "
        f"and district: {_pct(sm2['sample_unique'], t)} of targets are sample unique, the exact attack gets "
        f"{_pct(sm2['exact_correct'], t)} right, and the probabilistic attack claims "
        f"{_pct(sm2['linkage_claimed'], t)} of targets but is right on {100 * prec2:.0f}% of its claims "
        f"({_n(sm2['linkage_correct'])} correct, {_n(wrong2)} wrong: children to whom another child's record is "
        f"attributed); the prosecutor's {_pct(sm2['prosecutor_expected'], t)} {word} the "
        f"{_pct(sm2['linkage_correct'], t)} it achieved. On tier 4 (no district) {tier4}. Figures move with the "
        f"cohort size; these are from {pupils:,} pupils, not a national figure."
    )
    return "\n".join([*lines, "", *_wrap(text), ""])


def _wrap(text: str, width: int = 100) -> list[str]:
    out, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*out, line] if line else out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--from",
        dest="source",
        metavar="DIR",
        help="read DIR/attack_summary.csv instead of running",
    )
    ap.add_argument("--pupils", type=int, default=PUPILS)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--write", action="store_true", help="replace the block in docs/attack.md")
    args = ap.parse_args(argv)
    if args.source:
        summary, timing = pd.read_csv(Path(args.source) / "attack_summary.csv"), None
    else:
        summary, timing = run_attack(args.pupils, args.seed)
    block = render(summary, timing, args.pupils, args.seed)
    print(block)
    if args.write:
        doc = DOC.read_text(encoding="utf-8")
        head, rest = doc.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        DOC.write_text(f"{head}{BEGIN}\n{block}{END}{tail}", encoding="utf-8")
        print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
