"""Loading of the packaged marginals (``synthetic/data/``) with :mod:`importlib.resources`.

Each data file carries its own sources and status tags ([V] seen in source, [D] derived,
[U] unverified/assumed; see ``shared/npd-spec.md``). Loaded tables are cached read-only: they
are constants of the package, not random state.
"""

from __future__ import annotations

import csv
import functools
import json
from importlib import resources
from typing import Any

import numpy as np

__all__ = ["load_json", "local_authorities"]


def _read_text(name: str) -> str:
    return resources.files("synthetic").joinpath("data").joinpath(name).read_text(encoding="utf-8")


@functools.cache
def _load_json_cached(name: str) -> str:
    return _read_text(name)


def load_json(name: str) -> dict[str, Any]:
    """Return a fresh copy of the JSON data file ``synthetic/data/<name>``."""
    return json.loads(_load_json_cached(name))


#: The LA table's numeric columns (the others are text).
_LA_NUMBERS = ("population_k", "deprivation", "service_weight")


@functools.cache
def _local_authorities_cached() -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    lines = [
        line
        for line in _read_text("local_authorities.csv").splitlines()
        if not line.startswith("#")
    ]
    header, *rows = list(csv.reader(lines))
    return tuple(header), tuple(tuple(row) for row in rows)


def local_authorities() -> dict[str, Any]:
    """Return the table of 153 English local authorities (fresh copies of its columns).

    Columns, in file order: ``la_code`` (3-digit string), ``la_name``, ``region``,
    ``population_k``, ``postcode_area``, ``deprivation``, ``service_weight``. Text columns are
    tuples of str, the numeric ones float64 arrays (parsed with ``float``, correctly rounded).
    Read with the :mod:`csv` module, not pandas: the cohort's plan and its worker processes
    start before pandas is imported (:func:`synthetic.start_cohort`).
    """
    header, rows = _local_authorities_cached()
    columns = zip(*rows) if rows else ((),) * len(header)
    return {
        name: np.array([float(v) for v in values]) if name in _LA_NUMBERS else tuple(values)
        for name, values in zip(header, columns)
    }


REGIONS: tuple[str, ...] = (
    "North East",
    "North West",
    "Yorkshire and The Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
)
