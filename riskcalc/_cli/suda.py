"""``riskcalc suda``: SUDA2 minimal sample uniques and scores."""

from __future__ import annotations

import argparse

from .. import _render
from . import _options as o
from ._output import emit, read_measured, warn
from .lattice import header

HELP = "SUDA2 minimal sample uniques and scores"
DESCRIPTION = "Find minimal sample uniques and SUDA / DIS-SUDA scores on --fields."


def configure(p: argparse.ArgumentParser) -> None:
    o.add_input_options(p, "key variables")
    p.add_argument(
        "--max-msu",
        type=int,
        help="largest minimal sample unique to search for (default: all fields)",
    )
    p.add_argument(
        "--dis-fraction",
        type=float,
        default=0.01,
        help="sampling fraction for DIS-SUDA (default 0.01)",
    )
    p.add_argument(
        "--scoring",
        default="elliot",
        choices=["elliot", "ihsn"],
        help="MSU weights (default elliot)",
    )
    o.add_file_output_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .._suda import suda
    from ..release.quality import run_provenance

    fields = args.fields
    table, quality = read_measured(args, fields)
    result = suda(
        table,
        fields,
        max_msu=args.max_msu,
        dis_fraction=args.dis_fraction,
        scoring=args.scoring,
        progress=args.progress,
    )
    prov = run_provenance(
        "suda",
        args.file,
        result.n_records,
        {
            "fields": fields,
            "max_msu": result.max_msu,
            "dis_fraction": result.dis_fraction,
            "scoring": result.scoring,
        },
        quality,
        normalise=args.normalise,
        sheet=args.sheet,
    )
    if quality is not None:
        warn(args, prov["data_quality"])
    frame = result.summary()
    if args.format == "text":
        text = header(prov, "suda") + "\n" + _render.to_text(frame)
        text += "\nShare of the total SUDA score from MSUs holding each field:\n\n"
        text += _render.to_text(result.field_shares())
    else:
        text = _render.render(frame, args.format, prov, title="SUDA2 special uniques")
    emit(text, args, prov, inputs=(args.file,))
    return 0
