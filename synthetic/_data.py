"""Loading of the packaged marginals (``synthetic/data/``) with :mod:`importlib.resources`.

Each data file carries its own sources and status tags ([V] seen in source, [D] derived,
[U] unverified/assumed; see ``shared/npd-spec.md``). Loaded tables are cached read-only: they
are constants of the package, not random state.
"""

from __future__ import annotations

import functools
import io
import json
from importlib import resources
from typing import Any

import pandas as pd

__all__ = ["load_json", "local_authorities"]


def _read_text(name: str) -> str:
    return resources.files("synthetic").joinpath("data").joinpath(name).read_text(encoding="utf-8")


@functools.cache
def _load_json_cached(name: str) -> str:
    return _read_text(name)


def load_json(name: str) -> dict[str, Any]:
    """Return a fresh copy of the JSON data file ``synthetic/data/<name>``."""
    return json.loads(_load_json_cached(name))


@functools.cache
def _local_authorities_cached() -> pd.DataFrame:
    frame = pd.read_csv(
        io.StringIO(_read_text("local_authorities.csv")),
        comment="#",
        dtype={"la_code": str, "la_name": str, "region": str, "postcode_area": str},
    )
    return frame


def local_authorities() -> pd.DataFrame:
    """Return the table of 153 English local authorities (a copy).

    Columns: ``la_code`` (3-digit string), ``la_name``, ``region``, ``population_k``,
    ``postcode_area``, ``deprivation``, ``service_weight``.
    """
    return _local_authorities_cached().copy()


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
