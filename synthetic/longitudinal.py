"""Longitudinal tier extracts of a panel: a KS4 cohort with its history, a school or LA over years.

Real NPD requests span years: a Key Stage 4 cohort with its census history back to Year 7 and
its KS2 and KS4 results, or one school's (or LA's) pupils over five years. These functions cut
such extracts from a panel (:func:`synthetic.generate_panel`, in memory or on disk) and apply
the tier rules census by census: the registry's tier 1, 2 or 4 columns plus the panel's own
(academic year, census and attainment, all tier 4 as in npd-spec 1.4). A long extract (one row
per pupil per census) linked on the pseudonymous pupil id *is* a history; :func:`history_wide`
lays it out as one row per pupil, which is what makes tier 4 identifying.
"""

from __future__ import annotations

import json
import numbers
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as pds

from .exceptions import SyntheticError
from .panel import CENSUSES, PANEL_FIELDS, _to_frame, read_panel
from .schema import RECORD_TIERS, columns_for_tier

__all__ = ["cohort_extract", "history_wide", "longitudinal_columns", "school_extract"]


def longitudinal_columns(tier: int) -> tuple[str, ...]:
    """Columns of a longitudinal tier extract: census keys, the tier's registry fields, attainment.

    Examples
    --------
    >>> import synthetic
    >>> synthetic.longitudinal_columns(4)
    ('academic_year', 'census', 'pupil_id', 'sex', 'year_of_birth', 'month_of_birth', 'nc_year', 'urn', 'laestab', 'la_code', 'region', 'phase', 'enrol_status', 'ks2_reading', 'ks2_maths', 'attainment8')
    """
    if isinstance(tier, bool) or tier not in RECORD_TIERS:
        raise SyntheticError(
            f"The 'tier' parameter must be one of {list(RECORD_TIERS)} for a longitudinal extract. "
            f"Got {tier!r} instead."
        )
    extra = [name for name, t in PANEL_FIELDS if t >= tier]
    keys = [c for c in ("academic_year", "census") if c in extra]
    rest = [c for c in extra if c not in keys]
    return tuple(keys) + columns_for_tier(int(tier)) + tuple(rest)


def _check_year(year: object, name: str) -> int:
    if isinstance(year, bool) or not isinstance(year, numbers.Integral):
        raise SyntheticError(
            f"The '{name}' parameter must be an int academic year (2019 = 2019/20). Got {year!r}."
        )
    return int(year)


def _source(panel, func: str) -> pd.DataFrame | Path:
    if isinstance(panel, pd.DataFrame):
        missing = {"academic_year", "census", "pupil_id", "nc_year"} - set(panel.columns)
        if missing:
            raise SyntheticError(
                f"The 'panel' parameter of {func} lacks the column(s) {sorted(missing)}: pass a "
                f"frame from synthetic.generate_panel."
            )
        return panel
    if isinstance(panel, (str, os.PathLike)) and Path(panel).is_dir():
        return Path(panel)
    raise SyntheticError(
        f"The 'panel' parameter of {func} must be a panel DataFrame or a panel directory. "
        f"Got {type(panel).__name__}."
    )


def _finish(frame: pd.DataFrame, tier: int, attrs: dict) -> pd.DataFrame:
    cols = [c for c in longitudinal_columns(tier) if c in frame.columns]
    out = frame.loc[:, cols].sort_values(["pupil_id", "academic_year", "census"], kind="stable")
    out = out.reset_index(drop=True)
    out.attrs = {"synthetic": {**attrs, "tier": int(tier)}}
    return out


def cohort_extract(
    panel: pd.DataFrame | str | os.PathLike[str],
    *,
    year: int,
    tier: int = 4,
    census: str = "spring",
    from_nc_year: int = 7,
) -> pd.DataFrame:
    """A KS4 cohort with its history: pupils in Year 11 in ``census`` of ``year``, every census of
    theirs from Year ``from_nc_year`` on (the years ``year - (11 - from_nc_year)`` .. ``year``),
    with the tier's columns per census and their KS2 and KS4 results.

    Parameters
    ----------
    panel : DataFrame or path
        A panel from :func:`synthetic.generate_panel` (in memory, or its dataset directory;
        then only the years needed are read, the cohort's pupils filtered in the reader).
    year : int
        Academic year of the Year 11 census (2023 = 2023/24).
    tier : {1, 2, 4}, default 4
    census : str, default "spring"
        The census that defines the cohort (the KS4 cohort is the spring Year 11 roll).
    from_nc_year : int, default 7
        The earliest year group kept.

    Returns
    -------
    pandas.DataFrame
        Long: one row per pupil per census, sorted by pupil, year and census.

    Examples
    --------
    >>> import synthetic
    >>> panel = synthetic.generate_panel(2_000, years=5, rng=0)
    >>> ks4 = synthetic.cohort_extract(panel, year=2023)  # the 2023 KS4 cohort, back to year 7
    >>> sorted(ks4["nc_year"].unique(), key=int)
    ['7', '8', '9', '10', '11']
    """
    year = _check_year(year, "year")
    if census not in CENSUSES:
        raise SyntheticError(
            f"The 'census' parameter of cohort_extract must be one of {list(CENSUSES)}. Got {census!r}."
        )
    if (
        isinstance(from_nc_year, bool)
        or not isinstance(from_nc_year, numbers.Integral)
        or not 0 <= from_nc_year <= 11
    ):
        raise SyntheticError(
            f"The 'from_nc_year' parameter of cohort_extract must be an int in [0, 11]. Got {from_nc_year!r}."
        )
    src = _source(panel, "cohort_extract")
    years = list(range(year - (11 - int(from_nc_year)), year + 1))
    if isinstance(src, Path):
        roll = read_panel(
            src, academic_years=[year], censuses=[census], columns=["pupil_id", "nc_year"]
        )
        ids = roll.loc[roll["nc_year"] == "11", "pupil_id"].astype(str).unique()
        ds = pds.dataset(src, format="parquet", partitioning="hive")
        expr = pds.field("academic_year").isin(years) & pds.field("pupil_id").isin(list(ids))
        frame = _to_frame(ds.to_table(filter=expr))
        attrs = roll.attrs.get("synthetic", {})
    else:
        p = src
        roll = p[(p["academic_year"] == year) & (p["census"] == census) & (p["nc_year"] == "11")]
        ids = roll["pupil_id"].unique()
        frame = p[p["academic_year"].isin(years) & p["pupil_id"].isin(ids)]
        attrs = p.attrs.get("synthetic", {})
    codes = frame["nc_year"].cat.codes.to_numpy()
    frame = frame[(codes >= from_nc_year) & (codes <= 11)]
    if len(ids) == 0:
        raise SyntheticError(
            f"The panel has no Year 11 pupils in the {census} census of {year}: check 'year'."
        )
    return _finish(frame, tier, {**attrs, "extract": "cohort", "year": year, "years": years})


def school_extract(
    panel: pd.DataFrame | str | os.PathLike[str],
    *,
    years: Sequence[int],
    tier: int = 4,
    urn: int | None = None,
    la_code: str | None = None,
) -> pd.DataFrame:
    """One school's (``urn``) or one LA's (``la_code``) pupils over ``years``: every census row in
    which the pupil is at that school / in a school of that LA, with the tier's columns.

    A pupil who leaves and returns keeps one pupil id, so the extract links its spells.

    Examples
    --------
    >>> import synthetic
    >>> panel = synthetic.generate_panel(2_000, years=3, rng=0)
    >>> la = panel["la_code"].iloc[0]
    >>> extract = synthetic.school_extract(panel, years=[2019, 2020, 2021], la_code=la)
    >>> extract["la_code"].unique().tolist() == [la], sorted(extract["academic_year"].unique().tolist())
    (True, [2019, 2020, 2021])
    """
    if (urn is None) == (la_code is None):
        raise SyntheticError(
            "school_extract needs exactly one of the 'urn' and 'la_code' parameters."
        )
    try:
        years = [_check_year(y, "years") for y in years]
    except TypeError:
        raise SyntheticError(
            f"The 'years' parameter of school_extract must be a sequence of ints. Got {years!r}."
        ) from None
    if not years:
        raise SyntheticError("The 'years' parameter of school_extract must not be empty.")
    src = _source(panel, "school_extract")
    if isinstance(src, Path):
        ds = pds.dataset(src, format="parquet", partitioning="hive")
        expr = pds.field("academic_year").isin(years)
        expr &= (
            (pds.field("urn") == int(urn))
            if urn is not None
            else (pds.field("la_code") == str(la_code))
        )
        frame = _to_frame(ds.to_table(filter=expr))
        meta = ds.schema.metadata or {}
        attrs = json.loads(meta[b"synthetic"].decode()) if b"synthetic" in meta else {}
    else:
        p = src
        sel = p["academic_year"].isin(years)
        sel &= (p["urn"] == int(urn)) if urn is not None else (p["la_code"] == str(la_code))
        frame = p[sel]
        attrs = p.attrs.get("synthetic", {})
    what = {"urn": int(urn)} if urn is not None else {"la_code": str(la_code)}
    return _finish(
        frame,
        tier,
        {**attrs, "extract": "school" if urn is not None else "la", "years": years, **what},
    )


def history_wide(
    extract: pd.DataFrame, columns: Sequence[str] = ("urn", "nc_year")
) -> pd.DataFrame:
    """Lay a long extract out as one row per pupil: ``<column>@<year><census initial>`` per census.

    This is the pupil's history as quasi-identifiers (e.g. the school at each census); missing
    where the pupil was not in the extract at that census. Built with one factorisation of the
    pupil ids and of the census times (no loop over pupils).

    Examples
    --------
    >>> import synthetic
    >>> panel = synthetic.generate_panel(500, years=2, rng=0)
    >>> extract = synthetic.school_extract(panel, years=[2019, 2020], la_code=panel["la_code"].iloc[0])
    >>> wide = synthetic.history_wide(extract)  # one row per pupil, a column per census
    >>> wide.columns.tolist()
    ['pupil_id', 'urn@2019sp', 'urn@2020sp', 'nc_year@2019sp', 'nc_year@2020sp']
    >>> len(wide) == extract["pupil_id"].nunique()
    True
    """
    need = {"pupil_id", "academic_year", "census", *columns}
    missing = need - set(extract.columns)
    if missing:
        raise SyntheticError(
            f"The 'extract' parameter of history_wide lacks the column(s) {sorted(missing)}."
        )
    pid_codes, pids = pd.factorize(extract["pupil_id"], sort=True)
    time_key = (
        extract["academic_year"].astype(np.int64).to_numpy() * 3
        + pd.Categorical(extract["census"].astype(str), categories=list(CENSUSES)).codes
    )
    t_codes, times = pd.factorize(time_key, sort=True)
    labels = [f"{t // 3}{CENSUSES[t % 3][:2]}" for t in np.asarray(times).tolist()]
    out = {"pupil_id": pd.array(np.asarray(pids, dtype=object), dtype=extract["pupil_id"].dtype)}
    for col in columns:
        s = extract[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            grid = np.full((len(pids), len(labels)), -1, dtype=np.int32)
            grid[pid_codes, t_codes] = s.cat.codes.to_numpy()
            for j, lab in enumerate(labels):
                out[f"{col}@{lab}"] = pd.Categorical.from_codes(grid[:, j], dtype=s.dtype)
        else:
            vals = (
                pd.array(s).astype("Float64")
                if s.dtype.kind == "f"
                else pd.array(s).astype("Int64")
            )
            grid = np.zeros(
                (len(pids), len(labels)), dtype=np.float64 if s.dtype.kind == "f" else np.int64
            )
            mask = np.ones_like(grid, dtype=bool)
            grid[pid_codes, t_codes] = np.asarray(vals.fillna(0).to_numpy(), dtype=grid.dtype)
            mask[pid_codes, t_codes] = np.asarray(vals.isna())
            for j, lab in enumerate(labels):
                arr = pd.arrays.FloatingArray if grid.dtype.kind == "f" else pd.arrays.IntegerArray
                out[f"{col}@{lab}"] = arr(grid[:, j].copy(), mask[:, j].copy())
    frame = pd.DataFrame(out)
    frame.attrs = dict(extract.attrs)
    return frame
