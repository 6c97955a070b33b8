"""``riskcalc analyse`` (alias ``analyze``): the disclosure-risk measures of one table."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import _render
from .._provenance import code_identity
from . import _options as o
from ._output import emit, example_path, out_files, stdin_file, warn

EXAMPLE_QI = "sex,date_of_birth,postcode"

HELP = "k-anonymity, uniqueness and small counts of one table"
DESCRIPTION = "Measure how identifiable the records of FILE are on the quasi-identifiers --qi."


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", help="CSV, TSV, Parquet or Feather file of records")
    p.add_argument(
        "--example",
        action="store_true",
        help="analyse the small synthetic sample that ships with riskcalc",
    )
    p.add_argument(
        "--qi",
        type=o.names("--qi"),
        help="comma-separated quasi-identifier columns"
        + f" (with --example, default {EXAMPLE_QI})",
    )
    p.add_argument(
        "--weights",
        metavar="COL",
        help="column of sampling weights (adds Fk rows and the individual risk)",
    )
    p.add_argument(
        "--thresholds",
        default="2,3,5,10",
        type=o.whole_numbers("--thresholds"),
        help="k thresholds t: records in classes with fk < t (default 2,3,5,10)",
    )
    p.add_argument(
        "--count-thresholds",
        default="1,2,3,5,10",
        type=o.whole_numbers("--count-thresholds"),
        help="small-cell thresholds t: cells with 0 < count <= t (default 1,2,3,5,10)",
    )
    p.add_argument(
        "--missing",
        default="category",
        choices=["category", "raise", "wildcard"],
        help="missing values: a value of their own (category, default), an error (raise), or matching anything (wildcard, sdcMicro)",
    )
    p.add_argument(
        "--alpha",
        type=float,
        default=1.0,
        help="with --missing wildcard: weight of a match through a missing value (default 1)",
    )
    p.add_argument(
        "--risk-threshold",
        type=float,
        default=0.2,
        help="highest acceptable risk of one record, for records at risk (default 0.2)",
    )
    p.add_argument(
        "--population",
        metavar="FILE",
        help="population table the extract was drawn from (journalist and marketer risk)",
    )
    p.add_argument(
        "--sampling-fraction",
        type=float,
        help="the extract is a sample of this fraction of a population: estimate population uniqueness",
    )
    p.add_argument(
        "--population-size", type=int, help="size of the population the extract was sampled from"
    )
    p.add_argument(
        "--population-method",
        default="auto",
        choices=["auto", "forest", "dankar", "pitman", "zayatz", "snb", "loglinear"],
        help="population-uniqueness estimator (default auto: the forest model, with an interval)",
    )
    p.add_argument(
        "--household",
        metavar="COL",
        help="household / sibling-group id column, for the household risk (needs --weights)",
    )
    p.add_argument(
        "--risk-method",
        default="approx",
        choices=["approx", "exact"],
        help="individual-risk method (default approx)",
    )
    p.add_argument(
        "--sensitive",
        metavar="COLS",
        type=o.names("--sensitive"),
        help="comma-separated sensitive columns: attribute disclosure",
    )
    p.add_argument("--sep", help="CSV delimiter (guessed from the header by default)")
    o.add_sheet_option(p)
    o.add_normalise_option(p)
    o.add_file_output_options(p)
    o.add_engine_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..release import analyse as _analyse

    if args.example and args.file:
        raise o.UsageError("give either FILE or --example, not both.")
    if not args.example and not args.file:
        raise o.UsageError("give a FILE to analyse (or --example for the bundled sample).")
    path = example_path() if args.example else Path(stdin_file(args.file))
    qi = args.qi if args.qi is not None else (EXAMPLE_QI.split(",") if args.example else None)
    if not qi:
        raise o.UsageError(
            "--qi is required: name the quasi-identifier columns, e.g. --qi sex,date_of_birth,postcode."
        )
    if args.household and not args.weights:
        raise o.UsageError(
            "--household needs --weights: the household risk combines individual risks."
        )
    if args.out:
        out_files(args, inputs=(path, args.population))
    analysis = o.engine(args, _analyse.analyse, "analyse")(
        path,
        qi,
        weights=args.weights,
        k_thresholds=args.thresholds,
        count_thresholds=args.count_thresholds,
        missing=args.missing,
        alpha=args.alpha,
        risk_threshold=args.risk_threshold,
        population=args.population,
        sampling_fraction=args.sampling_fraction,
        population_size=args.population_size,
        population_method=args.population_method,
        household=args.household,
        risk_method=args.risk_method,
        sensitive=args.sensitive or [],
        sep=args.sep,
        normalise=args.normalise,
        **({"sheet": args.sheet} if args.sheet is not None else {}),
    )
    prov = analysis.provenance
    warn(args, prov.get("data_quality"))
    if args.format == "text":
        text = _text_header(prov) + _analyse.to_text(analysis)
    else:
        text = _render.render(
            analysis.to_frame(),
            args.format,
            prov,
            title="Disclosure-risk measures on "
            + ", ".join(prov["parameters"].get("quasi_identifiers") or []),
        )
    emit(text, args, prov, inputs=(path, args.population))
    return 0


def _text_header(prov: dict) -> str:
    params, inp = prov["parameters"], prov["input"]
    lines = [
        f"riskcalc {code_identity(prov)} - analyse {inp['source']} ({inp['n_records']:,} records)",
        f"quasi-identifiers: {', '.join(params['quasi_identifiers'])}",
        f"missing values: {params['missing']}"
        + (f"; weights: {params['weights']}" if params["weights"] else ""),
    ]
    return "\n".join(lines) + "\n"
