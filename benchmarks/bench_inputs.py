"""Input kinds: the same histogram and lattice from pandas, polars (eager and lazy), DuckDB and
a pyarrow Dataset (streamed into the encoder, and through Acero's hash aggregation for
comparison). The figures of ``docs/inputs.md``.

Usage: ``python benchmarks/bench_inputs.py [n_rows]`` (default 100,000; seeded).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _table(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], n),
            "year": rng.integers(7, 12, n),
            "la": rng.integers(0, 150, n),
            "eth": rng.choice([f"E{i}" for i in range(18)], n),
            "dob_month": rng.integers(1, 13, n),
            "fsm": rng.random(n) < 0.2,
        }
    )


def _acero_histogram(dataset, columns):
    """The histogram by Acero (scan, hash count per class, hash count per size): the pushdown
    riskcalc does not use for Datasets, kept here to show why."""
    import pyarrow.acero as ac
    import pyarrow.compute as pc

    keys = list(columns)
    plan = ac.Declaration.from_sequence(
        [
            ac.Declaration("scan", ac.ScanNodeOptions(dataset, columns=keys)),
            ac.Declaration("project", ac.ProjectNodeOptions([pc.field(k) for k in keys], keys)),
            ac.Declaration(
                "aggregate", ac.AggregateNodeOptions([([], "hash_count_all", None, "n")], keys=keys)
            ),
            ac.Declaration(
                "aggregate",
                ac.AggregateNodeOptions([([], "hash_count_all", None, "c")], keys=["n"]),
            ),
        ]
    )
    return plan.to_table()


def main(n: int = 100_000) -> None:
    import duckdb
    import polars as pl
    import pyarrow.dataset as ds

    import riskcalc as rc
    from riskcalc._core.lazy import backend

    df = _table(n)
    qi = list(df.columns)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "t.parquet")
        df.to_parquet(path, index=False)

        def best(f, reps=3):
            times = []
            for _ in range(reps):
                start = time.perf_counter()
                f()
                times.append(time.perf_counter() - start)
            return 1000 * min(times)

        def pushed(obj):
            return backend(obj, func="bench").size_histogram(qi, missing="category", func="bench")

        rows = {
            "pandas DataFrame (in memory)": lambda: rc.size_histogram(df, qi),
            "polars DataFrame (through Arrow)": lambda: rc.size_histogram(
                pl.read_parquet(path), qi
            ),
            "polars LazyFrame (pushed down)": lambda: pushed(pl.scan_parquet(path)),
            "DuckDB relation (pushed down)": lambda: pushed(duckdb.connect().read_parquet(path)),
            "pyarrow Dataset (streamed)": lambda: rc.size_histogram(ds.dataset(path), qi),
            "pyarrow Dataset (Acero, not used)": lambda: _acero_histogram(ds.dataset(path), qi),
        }
        print(f"size_histogram of {len(qi)} fields, {n:,} rows (best of 3)")
        for label, f in rows.items():
            print(f"  {label:40s} {best(f):8.1f} ms")

        def lattice(obj):
            return list(
                backend(obj, func="bench").lattice_histograms(
                    qi, 3, missing="category", func="bench"
                )
            )

        print("field lattice up to size 3")
        print(
            f"  {'DuckDB GROUPING SETS':40s} {best(lambda: lattice(duckdb.connect().read_parquet(path)), 1):8.1f} ms"
        )
        print(
            f"  {'polars collect_all':40s} {best(lambda: lattice(pl.scan_parquet(path)), 1):8.1f} ms"
        )
        print(
            f"  {'pandas in memory':40s} {best(lambda: rc.field_lattice(df, qi, max_size=3), 1):8.1f} ms"
        )
        print(
            f"  {'pyarrow Dataset streamed':40s} "
            f"{best(lambda: rc.field_lattice(ds.dataset(path), qi, max_size=3), 1):8.1f} ms"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
