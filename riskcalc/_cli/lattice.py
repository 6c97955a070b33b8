"""``riskcalc lattice``: the risk of every combination of fields up to a size."""

from __future__ import annotations

import argparse
import sys

from .. import _render
from .._provenance import code_identity
from . import _options as o
from ._output import emit, read_measured, warn

HELP = "risk of every combination of fields up to a size"
DESCRIPTION = "Classes, k, sample uniques and small cells for every combination of --fields."

#: Rows of the lattice printed on screen without --top or --out.
SCREEN_ROWS = 20


def configure(p: argparse.ArgumentParser) -> None:
    o.add_input_options(p, "candidate quasi-identifier columns")
    p.add_argument("--max-size", type=int, help="largest combination of fields (default: all)")
    p.add_argument(
        "--thresholds",
        default="1,2,3,5,10",
        type=o.whole_numbers("--thresholds"),
        help="t for records and cells in classes of size <= t (default 1,2,3,5,10)",
    )
    p.add_argument(
        "--threshold-by-size",
        type=o.whole_numbers("--threshold-by-size"),
        help="one small-cell threshold per combination size, e.g. 1,2,3",
    )
    p.add_argument(
        "--target",
        type=float,
        help="mark minimal combinations reaching this uniqueness share, e.g. 0.5",
    )
    p.add_argument(
        "--top",
        type=o.at_least(1, "--top takes a whole number of at least 1; got {value}."),
        help="show only the N most identifying combinations",
    )
    p.add_argument("--missing", default="category", choices=["category", "raise"])
    o.add_file_output_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..lattice import field_lattice
    from ..release.quality import run_provenance, upper_bound_rows

    fields = args.fields
    table, quality = read_measured(args, fields)
    result = field_lattice(
        table,
        fields,
        max_size=args.max_size,
        thresholds=args.thresholds,
        threshold_by_size=args.threshold_by_size or None,
        target=args.target,
        missing=args.missing,
        progress=args.progress,
    )
    # On screen: the most identifying combinations first; a file gets every row.
    shown = args.top or (None if args.out else SCREEN_ROWS)
    frame = result.top(shown) if shown else result.to_frame()
    if shown and not args.top and len(result.table) > shown:
        print(
            f"riskcalc lattice: showing the {shown} most identifying of {len(result.table):,} "
            "combinations; --top N shows more, --out FILE writes them all",
            file=sys.stderr,
        )
    prov = run_provenance(
        "field_lattice",
        args.file,
        result.n_records,
        {
            "fields": fields,
            "max_size": result.max_size,
            "thresholds": list(result.thresholds),
            "threshold_by_size": list(result.threshold_by_size)
            if result.threshold_by_size
            else None,
            "target": args.target,
            "top": args.top,
            "missing": args.missing,
        },
        quality,
        normalise=args.normalise,
        sheet=args.sheet,
    )
    if quality is not None:
        warn(args, prov["data_quality"])
    flags = upper_bound_rows([None] * len(frame), frame["fields"], prov["data_quality"])
    if flags is not None:  # rows measured on a column still holding one value written two ways
        frame = frame.assign(upper_bound=flags)
    if args.format == "text":
        text = header(prov, "lattice") + "\n" + _render.to_text(frame)
        text += "\nEach field's contribution (mean rise in the unique share when it is added):\n\n"
        text += _render.to_text(result.contributions())
    else:
        text = _render.render(frame, args.format, prov, title="Risk of each combination of fields")
    emit(text, args, prov, inputs=(args.file,))
    return 0


def header(prov: dict, command: str) -> str:
    """The text output's first lines (lattice and suda): version, file, records, fields."""
    inp, params = prov["input"], prov["parameters"]
    return (
        f"riskcalc {code_identity(prov)} - {command} {inp['source']} ({inp['n_records']:,} records)\n"
        f"fields: {', '.join(params['fields'])}\n" + _render.text_quality(prov)
    )
