"""Tier extracts (record-level tiers 1, 2, 4) and tier 3 aggregate tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .exceptions import SyntheticError
from .schema import FIELD_NAMES, RECORD_TIERS, columns_for_tier

__all__ = ["tier_extract", "tier3_tables", "TIER3_BY", "TIER3_CHARACTERISTICS"]

#: Default groupings of tier 3 tables: school and local authority.
TIER3_BY: tuple[str, ...] = ("urn", "la_code")
#: Default characteristics of tier 3 tables (one per table).
TIER3_CHARACTERISTICS: tuple[str, ...] = (
    "ethnic_group_major",
    "ethnic_group_minor",
    "fsm_eligible",
    "sen_provision",
    "eal",
)


def _check_cohort(cohort: object, func: str) -> pd.DataFrame:
    if not isinstance(cohort, pd.DataFrame):
        raise SyntheticError(
            f"The 'cohort' parameter of {func} must be a pandas DataFrame from generate_cohort. "
            f"Got {type(cohort).__name__} instead."
        )
    return cohort


def _missing(cohort: pd.DataFrame, needed: Sequence[str], func: str) -> None:
    missing = [c for c in needed if c not in cohort.columns]
    if missing:
        raise SyntheticError(f"The cohort passed to {func} lacks the columns {missing}.")


def tier_extract(cohort: pd.DataFrame, tier: int) -> pd.DataFrame:
    """Cut a record-level tier extract (tier 1, 2 or 4) from a cohort.

    The columns are exactly :func:`synthetic.schema.columns_for_tier` of ``tier``, in registry
    order: tier 4 holds the non-sensitive fields, tier 2 adds the sensitive ones (LSOA, IDACI,
    ethnic group, language group, FSM, SEN provision), tier 1 adds the highly sensitive and
    identifying ones (UPN, names, full date of birth, full postcode, extended codes, SEN type,
    looked-after, service child, disability, exclusions).

    Parameters
    ----------
    cohort : pandas.DataFrame
        A frame from :func:`synthetic.generate_cohort`.
    tier : {1, 2, 4}
        Record-level tier. Tier 3 is aggregate: use :func:`tier3_tables`.

    Returns
    -------
    pandas.DataFrame
        The extract; ``attrs["synthetic"]`` is the cohort's provenance plus ``"tier"``.

    Raises
    ------
    SyntheticError
        If ``tier`` is not 1, 2 or 4, or the cohort lacks a column of the tier.

    Examples
    --------
    >>> import synthetic
    >>> cohort = synthetic.generate_cohort(1_000, rng=0)
    >>> tier4 = synthetic.tier_extract(cohort, 4)
    >>> tier4.shape, "postcode" in tier4, "postcode" in synthetic.tier_extract(cohort, 1)
    ((1000, 11), False, True)
    """
    cohort = _check_cohort(cohort, "tier_extract")
    if isinstance(tier, bool) or tier not in RECORD_TIERS:
        hint = " (tier 3 is aggregate: use tier3_tables)" if tier == 3 else ""
        raise SyntheticError(
            f"The 'tier' parameter of tier_extract must be one of {list(RECORD_TIERS)}{hint}. "
            f"Got {tier!r} instead."
        )
    cols = list(columns_for_tier(int(tier)))
    _missing(cohort, cols, "tier_extract")
    out = cohort.loc[:, cols].copy()
    out.attrs = {"synthetic": {**cohort.attrs.get("synthetic", {}), "tier": int(tier)}}
    return out


def tier3_tables(
    cohort: pd.DataFrame,
    *,
    by: Sequence[str] = TIER3_BY,
    characteristics: Sequence[str] = TIER3_CHARACTERISTICS,
) -> dict[str, pd.DataFrame]:
    """Tier 3 aggregate tables: counts by (school or LA) x year group x sex x one characteristic.

    Tables are published without suppression or rounding, so they expose small cells (1, 2)
    exactly as DfE's underlying SPC and exclusions data do (npd-spec 4.2).

    Parameters
    ----------
    cohort : pandas.DataFrame
        A frame from :func:`synthetic.generate_cohort`.
    by : sequence of str, default ("urn", "la_code")
        Grouping levels, one set of tables per level (any cohort column, e.g. ``"laestab"``).
    characteristics : sequence of str
        One table per characteristic (any cohort column).

    Returns
    -------
    dict of str to pandas.DataFrame
        Keyed ``f"{level}_x_{characteristic}"``. Each tidy frame has the columns
        ``[level, "nc_year", "sex", characteristic, "count"]`` sorted by them. Only non-empty
        cells are listed (zero cells are omitted; every listed ``count`` is >= 1). Missing
        values of the characteristic form their own cells.

    Raises
    ------
    SyntheticError
        If a name in ``by`` or ``characteristics`` is not a column of the cohort.

    Examples
    --------
    >>> import synthetic
    >>> cohort = synthetic.generate_cohort(1_000, rng=0)
    >>> tables = synthetic.tier3_tables(cohort, by=["la_code"], characteristics=["fsm_eligible"])
    >>> list(tables)
    ['la_code_x_fsm_eligible']
    >>> tables["la_code_x_fsm_eligible"].columns.tolist()
    ['la_code', 'nc_year', 'sex', 'fsm_eligible', 'count']
    """
    cohort = _check_cohort(cohort, "tier3_tables")
    lists: dict[str, list[str]] = {}
    for param, given in (("by", by), ("characteristics", characteristics)):
        # one name is refused as a whole (list("urn") would be the columns u, r and n)
        named = list(given) if isinstance(given, Iterable) and not isinstance(given, str) else []
        if not named:
            raise SyntheticError(
                f"The '{param}' parameter of tier3_tables must be a non-empty sequence of column "
                f"names. Got {given!r} instead."
            )
        lists[param] = named
    by, characteristics = lists["by"], lists["characteristics"]
    for param, names in (("by", by), ("characteristics", characteristics)):
        bad = [c for c in names if c not in cohort.columns]
        if bad:
            raise SyntheticError(
                f"The '{param}' parameter of tier3_tables names columns not in the cohort: {bad}. "
                f"Known columns: {list(FIELD_NAMES)}."
            )
    _missing(cohort, ["nc_year", "sex"], "tier3_tables")
    tables: dict[str, pd.DataFrame] = {}
    provenance = cohort.attrs.get("synthetic", {})
    encoded = {
        c: _encode(cohort[c]) for c in dict.fromkeys(by + ["nc_year", "sex"] + characteristics)
    }
    for level in by:
        for char in characteristics:
            keys = [level, "nc_year", "sex", char]
            table = _count_cells(cohort, keys, [encoded[k] for k in keys])
            table.attrs = {
                "synthetic": {**provenance, "tier": 3, "by": level, "characteristic": char}
            }
            tables[f"{level}_x_{char}"] = table
    return tables


def _encode(series: pd.Series) -> tuple[np.ndarray, object, int]:
    """Sorted dense codes of a column; missing values get the last code (as groupby sorts)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        n_levels = len(series.cat.categories)
        uniques = series.dtype
    else:
        codes, uniques = pd.factorize(series, sort=True, use_na_sentinel=True)
        n_levels = len(uniques)
    # The narrowest integer type holding the codes: nine code columns of a national cohort are
    # alive at once while the tables are counted.
    narrow = np.int16 if n_levels < np.iinfo(np.int16).max else np.int32
    codes = codes.astype(narrow)
    codes[codes < 0] = n_levels
    return codes, uniques, n_levels + 1


def _count_cells(cohort: pd.DataFrame, keys: list[str], encoded: list) -> pd.DataFrame:
    """Counts of the non-empty cells of ``keys``: mixed-radix key + bincount (or unique)."""
    n = len(cohort)
    key = np.zeros(n, dtype=np.int64)
    radix = 1
    for codes, _, size in encoded:
        key *= size  # in place: one key array, however many columns
        key += codes
        radix *= size
    if radix <= 4 * n + 10_000_000:
        counts = np.bincount(key, minlength=radix)
        cells = np.flatnonzero(counts)
        counts = counts[cells]
    else:
        cells, counts = np.unique(key, return_counts=True)
    columns: dict[str, object] = {}
    rest = cells
    decoded = []
    for _codes, _uniques, size in reversed(encoded):
        decoded.append(rest % size)
        rest = rest // size
    decoded.reverse()
    for name, (_codes, uniques, size), cell_codes in zip(keys, encoded, decoded):
        missing = cell_codes == size - 1
        if isinstance(uniques, pd.CategoricalDtype):
            columns[name] = pd.Categorical.from_codes(
                np.where(missing, -1, cell_codes), dtype=uniques
            )
        else:
            values = (
                pd.Series(uniques).take(np.where(missing, 0, cell_codes)).reset_index(drop=True)
            )
            if missing.any():
                values = values.where(~missing)
            columns[name] = values.astype(cohort[name].dtype) if not missing.any() else values
    out = pd.DataFrame(columns)
    out["count"] = counts.astype(np.int64)
    return out
