"""Generalisation ladders of the synthetic registry: coarsen a field by levels, or withhold it."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ..exceptions import InvalidParameterError

__all__ = ["WITHHELD", "ladder_length", "level_name", "coarsen"]

WITHHELD = "*"


def ladder_length(name: str) -> int:
    """Number of coarser levels of a field: its registry ladder, then withholding it (``"*"``)."""
    from synthetic import field as registry_field
    from synthetic.exceptions import SyntheticError

    try:
        return len(registry_field(name).ladder) + 1
    except SyntheticError:
        return 1  # a field the registry does not know can only be withheld


def level_name(name: str, level: int) -> str:
    """Name of a ladder level: the field itself (0), a rung name, or ``"*"`` (withheld)."""
    if level == 0:
        return name
    if level == ladder_length(name):
        return WITHHELD
    from synthetic import field as registry_field

    return registry_field(name).ladder[level - 1].name


def coarsen(frame: pd.DataFrame, coarsening: Mapping[str, int | str], columns=None) -> pd.DataFrame:
    """A copy of ``frame`` with fields generalised along their registry ladders.

    ``coarsening`` maps a field to a ladder level: an index (0 = as is), a rung name, or ``"*"``
    (withheld: every record gets the same value, the top of every hierarchy, as in ARX). The
    column keeps its name, so scenarios still find it. Columns derived from it (e.g. the month
    of birth when the date of birth is cut to the year) are left as they are. ``columns`` limits
    the copy to those columns (the ladders may still read the others).
    """
    from synthetic import field as registry_field
    from synthetic.exceptions import SyntheticError

    from .._validation import check_column_names

    # a field the table does not hold would be left as it is without a word
    check_column_names(
        list(coarsening), list(frame.columns), name="coarsening", func="coarsen", table="the cohort"
    )
    out = frame[list(columns)].copy() if columns is not None else frame.copy()
    for name, level in coarsening.items():
        if name not in out.columns or level in (0, name):
            continue
        if level == WITHHELD or (isinstance(level, int) and level == ladder_length(name)):
            out[name] = pd.Categorical([WITHHELD] * len(out))
            continue
        try:
            out[name] = registry_field(name).generalise(frame, level)
        except SyntheticError as exc:
            raise InvalidParameterError(f"Cannot coarsen {name!r} to {level!r}: {exc}") from None
    return out
