"""Check research outputs (tables and summaries) against output-checking rules before release.

Researchers in the ONS Secure Research Service, the DfE's route for NPD access, must pass every
table and summary through output checking. This module applies the SDAP handbook's rules [1]_
with parameters read from a TOML file (``riskcalc/data/output_rules.toml``: ONS SRS defaults,
DfE-style variants and ACRO's defaults [2]_), and gives a ``pass`` / ``review`` / ``fail``
verdict per cell and per output.

Frequency tables (counts ``n`` in a rows x columns grid):

- threshold: ``0 < n < t`` fails;
- zeros: ``n = 0`` gets the profile's ``zeros`` verdict;
- class disclosure: a row (or column) with a positive total whose units all fall in one
  category (one non-zero cell, a *full cell*) gets ``class_disclosure``: everyone in that row
  is known to share the category.

Magnitude tables (a total of unit contributions ``x_1 >= x_2 >= ... >= x_N`` per cell):

- threshold: ``N < t`` fails;
- ``(n, k)`` dominance: ``x_1 + ... + x_n > k * sum(x)`` fails;
- p% rule: ``sum(x) - x_1 - x_2 < p * x_1`` fails (the second largest unit can estimate the
  largest within ``p``), Hundepool et al. [3]_ section 4.2;
- negative contributions get ``negative``; all values identical gets ``identical_values``.

Cells are labelled ``col=value, col=value``. A blank category (an empty CSV field, ``NaN``,
``None``, ``pd.NA``, ``NaT``, an Arrow null, a text of spaces) in any dimension column is a
category of its own, labelled :data:`MISSING_LABEL` (``(missing)``) and checked like any other;
a real category spelt ``(missing)`` is shown in quotes (rules in :mod:`riskcalc._labels`). A
blank or non-numeric count or value stops the check with :class:`CellValueError`, naming the
column and the first such row, never a value.

Summaries (per group): means need ``N >= t``; medians need ``N >= t`` and get ``median``;
minima and maxima get ``extremes``; a percentage fails when its numerator or its complement is
in ``(0, t)``.

References
----------
.. [1] Griffiths, E. et al. (2019). Handbook on Statistical Disclosure Control for Outputs,
   version 1.0. Safe Data Access Professionals Working Group (no DOI).
.. [2] ACRO: Automatic Checking of Research Outputs (SACRO project),
   https://github.com/AI-SDC/ACRO (``acro/default.yaml`` for its parameters)
.. [3] Hundepool, A. et al. (2012). Statistical Disclosure Control. Wiley.
   https://doi.org/10.1002/9781118348239
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ._compat import numeric_view
from ._labels import MISSING_LABEL, column_codes, group_codes
from ._provenance import code_identity
from ._render import Displayed
from ._validation import (
    check_apart,
    check_choice,
    check_choices,
    check_column_names,
    check_frame,
    check_instance,
)
from .exceptions import DataFileError, InvalidParameterError

__all__ = [
    "OutputRules",
    "OutputCheckResult",
    "load_rules",
    "load_output_rules",
    "check_frequency_table",
    "check_magnitude_table",
    "check_summary",
    "VERDICTS",
    "MISSING_LABEL",
    "CellValueError",
]

VERDICTS = ("pass", "review", "fail")
_RANK = {v: i for i, v in enumerate(VERDICTS)}
CELL_COLUMNS = ["cell", "statistic", "n", "verdict", "rules"]


@dataclass(frozen=True)
class OutputRules:
    """The parameters of one profile: ``frequency``, ``magnitude`` and ``summary`` rules."""

    profile: str
    description: str
    frequency: Mapping = field(repr=False)
    magnitude: Mapping = field(repr=False)
    summary: Mapping = field(repr=False)


def _default_rules_path() -> Path:
    return Path(str(resources.files("riskcalc") / "data" / "output_rules.toml"))


_NEEDED = {
    "frequency": {"threshold": int, "zeros": str, "class_disclosure": str},
    "magnitude": {
        "threshold": int,
        "nk": list,
        "p_percent": float,
        "negative": str,
        "identical_values": str,
    },
    "summary": {"threshold": int, "median": str, "extremes": str, "percent": str},
}


def load_rules(profile: str = "ons_srs", path: str | Path | None = None) -> OutputRules:
    """Read one profile of output-checking rules from a TOML file (default: the bundled one).

    Examples
    --------
    >>> import riskcalc as rc
    >>> rules = rc.load_output_rules("ons_srs")
    >>> rules
    OutputRules(profile='ons_srs', description='ONS Secure Research Service: at least 10 units per cell or statistic (SDAP rules of thumb)')
    """
    path = Path(path) if path is not None else _default_rules_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFileError(
            f"Cannot read the rules file {str(path)!r}: it does not exist."
        ) from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeError) as exc:
        raise DataFileError(
            f"Cannot read the rules file {path.name!r}: {str(exc).splitlines()[0]}"
        ) from None
    profiles = data.get("profiles", {})
    check_choice(profile, "profile", tuple(profiles) or ("(none in the file)",), "load_rules")
    spec = profiles[profile]
    parts = {}
    for kind, keys in _NEEDED.items():
        part = dict(spec.get(kind, {}))
        for key, typ in keys.items():
            if key not in part:
                raise DataFileError(
                    f"The rules file {path.name!r} lacks {kind}.{key} in profile {profile!r}."
                )
            value = part[key]
            ok = (
                isinstance(value, (int, float)) and not isinstance(value, bool)
                if typ is float
                else isinstance(value, typ)
            )
            if typ is int and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                ok = False
            if typ is str and value not in VERDICTS:
                ok = False
            if not ok:
                raise DataFileError(
                    f"The rules file {path.name!r} has a bad {kind}.{key} in profile {profile!r}: {value!r}."
                )
        if kind == "magnitude":
            nk = part["nk"]
            if not all(
                isinstance(p, list)
                and len(p) == 2
                and isinstance(p[0], int)
                and p[0] >= 1
                and isinstance(p[1], (int, float))
                and 0 < p[1] <= 1
                for p in nk
            ):
                raise DataFileError(
                    f"The rules file {path.name!r} has a bad magnitude.nk in profile {profile!r}: {nk!r}."
                )
            part["nk"] = [(int(n), float(k)) for n, k in nk]
        parts[kind] = part
    return OutputRules(
        profile,
        str(spec.get("description", "")),
        parts["frequency"],
        parts["magnitude"],
        parts["summary"],
    )


# ``riskcalc.load_output_rules``: the package's name for :func:`load_rules`.
load_output_rules = load_rules


def _rules(rules, func: str) -> OutputRules:
    if isinstance(rules, str):
        return load_rules(rules)
    return check_instance(rules, OutputRules, "rules", func, "an OutputRules or a profile name")


@dataclass(frozen=True)
class OutputCheckResult(Displayed):
    """Verdicts of one output: per cell (``cells``) and overall (``verdict``).

    ``cells`` has :data:`CELL_COLUMNS`: the cell's label, the statistic checked, the number of
    units ``n`` behind it (for a frequency table, the cell's count), the verdict and the rules
    that set it. No magnitude, mean or extreme value is kept. The report is meant for the output
    checker inside the secure environment, attached to the output request, not for release.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> table = pd.DataFrame({"sex": list("FM"), "count": [3, 12]})
    >>> result = rc.check_frequency_table(table, count="count")
    >>> result.verdict, result.counts
    ('fail', {'pass': 1, 'review': 0, 'fail': 1})
    """

    name: str
    kind: str
    rules: OutputRules
    cells: pd.DataFrame = field(repr=False)

    @property
    def verdict(self) -> str:
        if self.cells.empty:
            return "pass"
        return VERDICTS[int(self.cells["verdict"].map(_RANK).max())]

    @property
    def counts(self) -> dict[str, int]:
        vc = self.cells["verdict"].value_counts()
        return {v: int(vc.get(v, 0)) for v in VERDICTS}

    def to_frame(self) -> pd.DataFrame:
        return self.cells.copy()

    def summary(self) -> dict:
        rule_counts: dict[str, int] = {}
        for text in self.cells["rules"]:
            for rule in filter(None, text.split("; ")):
                rule_counts[rule] = rule_counts.get(rule, 0) + 1
        return {
            "output": self.name,
            "kind": self.kind,
            "profile": self.rules.profile,
            "verdict": self.verdict,
            "cells": len(self.cells),
            **{f"cells_{k}": v for k, v in self.counts.items()},
            "rules_triggered": dict(sorted(rule_counts.items())),
        }

    def to_json(self, provenance: dict | None = None) -> str:
        doc = {"summary": self.summary(), "cells": self.cells.to_dict("records")}
        if provenance is not None:
            doc["provenance"] = provenance
        return json.dumps(doc, indent=2, sort_keys=False, default=int) + "\n"

    def to_markdown(self, provenance: dict | None = None) -> str:
        s = self.summary()
        lines = [
            f"# Output check: {self.name}",
            "",
            f"- kind: {self.kind}",
            f"- rules: {self.rules.profile} ({self.rules.description})",
            f"- **verdict: {s['verdict'].upper()}**",
            f"- cells: {s['cells']} ({s['cells_pass']} pass, {s['cells_review']} review, {s['cells_fail']} fail)",
        ]
        for rule, n in s["rules_triggered"].items():
            lines.append(f"- {rule}: {n} cells")
        if provenance is not None:
            first = (provenance.get("inputs") or [provenance.get("input", {})])[0]
            lines.append(
                f"- riskcalc {code_identity(provenance)}; input "
                f"{first.get('source', '')} sha256 {first.get('sha256', '')}"
            )
        flagged = self.cells[self.cells["verdict"] != "pass"]
        lines += ["", "## Cells needing action" if len(flagged) else "## No cell needs action", ""]
        if len(flagged):
            lines.append("| cell | statistic | n | verdict | rules |")
            lines.append("|---|---|---:|---|---|")
            for _, r in flagged.iterrows():
                cell, stat = (str(r[k]).replace("|", "\\|") for k in ("cell", "statistic"))
                lines.append(f"| {cell} | {stat} | {r['n']} | {r['verdict']} | {r['rules']} |")
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        c = self.counts
        return (
            f"OutputCheckResult({self.name!r}, kind={self.kind!r}, profile={self.rules.profile!r}, "
            f"verdict={self.verdict!r}, cells={len(self.cells)}, fail={c['fail']}, review={c['review']})"
        )


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _codes(frame: pd.DataFrame, cols: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids of the combinations of ``cols`` (sorted; a blank category last) and their labels."""
    return group_codes(frame, cols)


class CellValueError(InvalidParameterError):
    """A count or value column with cells that cannot be used (missing, not a number, ...).

    The message names the column and the first such row (1-based, as in the table), never a
    value; ``first_row`` is its 0-based position, for a caller that knows the file's layout.
    """

    def __init__(self, column, func: str, requirement: str, rows: np.ndarray):
        self.column, self.func, self.requirement = column, func, requirement
        self.n_rows, self.first_row = int(len(rows)), int(rows[0])
        super().__init__(
            self.text(f"The {column!r} column passed to {func}", f"row {self.first_row + 1}")
        )

    def text(self, what: str, where: str) -> str:
        return f"{what} {self.requirement}. Found {self.n_rows} (first at {where})."


def _column(frame: pd.DataFrame, col, func: str) -> pd.Series:
    v = frame[col]
    if isinstance(v, pd.DataFrame):
        raise InvalidParameterError(
            f"The table passed to {func} has {v.shape[1]} columns named {col!r}; rename them."
        )
    return v


def _check_numeric(frame, col: str, func: str, *, whole: bool = False) -> np.ndarray:
    """A count or value column as float64: numbers, booleans or text that spells numbers.

    Missing or blank cells, texts that are not numbers and infinite values are refused with the
    first row that holds one (:class:`CellValueError`); with ``whole``, so are negative and
    fractional numbers. Messages never show a value.
    """
    v = _column(frame, col, func)
    dtype = v.dtype
    if (
        pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
        or isinstance(dtype, pd.PeriodDtype)
        or getattr(dtype, "kind", "") in "cmM"
    ):
        raise InvalidParameterError(
            f"The {col!r} column passed to {func} must hold numbers; it holds dates, "
            "times or complex numbers."
        )
    if pd.api.types.is_bool_dtype(dtype) or (
        pd.api.types.is_numeric_dtype(numeric_view(dtype))
        and not isinstance(dtype, pd.CategoricalDtype)
    ):
        arr = v.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(arr)
        text = np.zeros(len(arr), dtype=bool)
    else:  # text, categories, mixed objects: each cell on its own
        obj = v.astype(object).to_numpy()
        missing = np.asarray(pd.isna(obj), dtype=bool) | np.fromiter(
            (isinstance(x, str) and not x.strip() for x in obj), dtype=bool, count=len(obj)
        )
        clean = np.where(missing, None, obj)
        clean = (
            np.array(
                [float(x) if isinstance(x, (bool, np.bool_)) else x for x in clean], dtype=object
            )
            if any(isinstance(x, (bool, np.bool_)) for x in clean)
            else clean
        )
        try:
            arr = pd.to_numeric(pd.Series(clean, dtype=object), errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
        except (TypeError, ValueError):  # objects to_numeric cannot even try
            arr = np.full(len(obj), np.nan)
        text = ~missing & np.isnan(arr)
    for bad, requirement in (
        (missing, "must not hold missing or blank values"),
        (text, "must hold numbers; some cells are text or other values that are not numbers"),
        (np.isinf(arr), "must hold finite numbers"),
    ):
        if bad.any():
            raise CellValueError(col, func, requirement, np.flatnonzero(bad))
    if whole:
        wrong = (arr < 0) | (np.floor(arr) != arr) | (arr > 2.0**53)
        if wrong.any():
            raise CellValueError(
                col, func, "must hold whole, non-negative numbers (counts)", np.flatnonzero(wrong)
            )
    return arr


class _Verdicts:
    """Per-cell verdict and rule list, combined with ``max`` over pass < review < fail."""

    def __init__(self, n: int):
        self.rank = np.zeros(n, dtype=np.int64)
        self.rules = np.full(n, "", dtype=object)

    def apply(self, mask: np.ndarray, verdict: str, rule: str) -> None:
        if verdict == "pass" or not mask.any():
            return
        self.rank[mask] = np.maximum(self.rank[mask], _RANK[verdict])
        self.rules[mask] = self.rules[mask] + np.where(self.rules[mask] == "", "", "; ") + rule

    def verdicts(self) -> np.ndarray:
        return np.asarray(VERDICTS, dtype=object)[self.rank]


# ---------------------------------------------------------------------------------------------
# frequency tables
# ---------------------------------------------------------------------------------------------


def check_frequency_table(
    table: pd.DataFrame,
    *,
    count: str = "count",
    rows: str | Sequence[str] | None = None,
    columns: str | Sequence[str] | None = None,
    rules: OutputRules | str = "ons_srs",
    name: str = "frequency table",
) -> OutputCheckResult:
    """Verdict per cell of a frequency table (long form: dimension columns and ``count``).

    The grid is every observed row combination x every observed column combination; listed
    cells absent from the grid are zeros. ``columns`` defaults to the last dimension, ``rows``
    to the others. A blank category is a category of its own, labelled ``(missing)``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"LA": [206, 206, 206, 208, 208], "Sex": ["F", None, "M", "F", "M"],
    ...                   "count": [12, 3, 15, 20, 22]})
    >>> r = check_frequency_table(t)
    >>> r.verdict, r.counts
    ('fail', {'pass': 4, 'review': 1, 'fail': 1})
    >>> flagged = r.cells[r.cells["verdict"] != "pass"]
    >>> list(zip(flagged["cell"], flagged["n"].tolist(), flagged["verdict"]))
    [('LA=206, Sex=(missing)', 3, 'fail'), ('LA=208, Sex=(missing)', 0, 'review')]
    """
    func = "check_frequency_table"
    r = _rules(rules, func)
    check_frame(table, "table", func)
    check_column_names([count], table.columns, "count", func)
    dims = [c for c in table.columns if c != count]
    if not dims:
        raise InvalidParameterError(
            f"The table passed to {func} has no dimension columns besides {count!r}."
        )
    # one name (a string) is one column, as in every field list (list("Sex") is S, e, x)
    columns = [columns] if isinstance(columns, str) else columns
    rows = [rows] if isinstance(rows, str) else rows
    columns = list(columns) if columns is not None else dims[-1:]
    rows = list(rows) if rows is not None else [c for c in dims if c not in columns]
    check_column_names(columns, table.columns, "columns", func)
    if rows:
        check_column_names(rows, table.columns, "rows", func)
    check_apart(count, rows, columns, func)
    n = _check_numeric(table, count, func, whole=True)
    rid, rlabels = _codes(table, rows)
    cid, clabels = _codes(table, columns)
    n_r, n_c = len(rlabels), len(clabels)
    grid = np.bincount(rid * n_c + cid, weights=n, minlength=n_r * n_c).reshape(n_r, n_c)
    f = r.frequency
    v = _Verdicts(n_r * n_c)
    flat = grid.ravel()
    v.apply(
        (flat > 0) & (flat < f["threshold"]),
        "fail",
        f"threshold: fewer than {f['threshold']} units",
    )
    v.apply(flat == 0, f["zeros"], "zero cell")
    full_row = (grid > 0) & ((grid > 0).sum(axis=1, keepdims=True) == 1) & (n_c > 1)
    full_col = (grid > 0) & ((grid > 0).sum(axis=0, keepdims=True) == 1) & (n_r > 1)
    v.apply(
        full_row.ravel(),
        f["class_disclosure"],
        "class disclosure: all units of the row in one category",
    )
    v.apply(
        full_col.ravel(),
        f["class_disclosure"],
        "class disclosure: all units of the column in one category",
    )
    rl = np.repeat(rlabels, n_c)
    cl = np.tile(clabels, n_r)
    label = rl + ", " + cl if rows and len(cl) else cl
    cells = pd.DataFrame(
        {
            "cell": label,
            "statistic": "count",
            "n": flat.astype(np.int64),
            "verdict": v.verdicts(),
            "rules": v.rules,
        },
        columns=CELL_COLUMNS,
    )
    return OutputCheckResult(name, "frequency", r, cells)


# ---------------------------------------------------------------------------------------------
# magnitude tables
# ---------------------------------------------------------------------------------------------


def _unit_contributions(records, by, value, unit, func):
    x = _check_numeric(records, value, func)
    if unit is None:
        gid, labels = _codes(records, by)
        return gid, x, labels
    check_column_names([unit], records.columns, "unit", func)
    gid, labels = _codes(records, by)
    # records without a unit id are one unit (fewer units, larger shares: the cautious reading)
    uid = column_codes(_column(records, unit, func))[0]
    pair = gid * (int(uid.max(initial=0)) + 1) + uid
    uniq, inv = np.unique(pair, return_inverse=True)
    sums = np.bincount(inv, weights=x)
    return uniq // (int(uid.max(initial=0)) + 1), sums, labels


def _sorted_within(gid: np.ndarray, x: np.ndarray):
    """Order by group then descending value; each value's rank within its group (0 = largest)."""
    order = np.lexsort((-x, gid))
    g, xs = gid[order], x[order]
    n_g = np.bincount(g)
    starts = np.concatenate([[0], np.cumsum(n_g)[:-1]])
    rank = np.arange(len(g)) - starts[g]
    return g, xs, rank, n_g


def check_magnitude_table(
    records: pd.DataFrame,
    by: Sequence[str],
    value: str,
    *,
    unit: str | None = None,
    rules: OutputRules | str = "ons_srs",
    name: str = "magnitude table",
) -> OutputCheckResult:
    """Verdict per cell of a table of totals of ``value`` by ``by``, from the records behind it.

    ``unit`` names the contributor (a school, an employer) when several records belong to one;
    contributions are summed per unit before the dominance rules.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> records = pd.DataFrame({"region": ["N"] * 12 + ["S"] * 3,
    ...                         "pay": [10.0 + i for i in range(12)] + [100.0, 1.0, 1.0]})
    >>> result = rc.check_magnitude_table(records, ["region"], "pay")
    >>> result
    OutputCheckResult('magnitude table', kind='magnitude', profile='ons_srs', verdict='fail', cells=2, fail=1, review=0)
    >>> result.cells[["cell", "n", "verdict"]]
           cell   n verdict
    0  region=N  12    pass
    1  region=S   3    fail
    >>> result.cells.loc[1, "rules"]  # few units, and one dominates
    'threshold: fewer than 10 units; dominance (1, 0.5); dominance (2, 0.85); p% rule (p = 0.1)'
    """
    func = "check_magnitude_table"
    r = _rules(rules, func)
    check_frame(records, "records", func)
    by = list(check_column_names(by, records.columns, "by", func))
    check_column_names([value], records.columns, "value", func)
    gid, x, labels = _unit_contributions(records, by, value, unit, func)
    m = r.magnitude
    g, xs, rank, n_g = _sorted_within(gid, x)
    n_cells = len(labels)
    n_g = np.bincount(g, minlength=n_cells)
    total = np.bincount(g, weights=xs, minlength=n_cells)
    v = _Verdicts(n_cells)
    v.apply(n_g < m["threshold"], "fail", f"threshold: fewer than {m['threshold']} units")
    negative = np.bincount(g, weights=xs < 0, minlength=n_cells) > 0
    v.apply(negative, m["negative"], "negative contributions")
    positive_total = (total > 0) & ~negative
    for n, k in m["nk"]:
        top = np.bincount(g, weights=np.where(rank < n, xs, 0.0), minlength=n_cells)
        v.apply(positive_total & (top > k * total), "fail", f"dominance ({n}, {k:g})")
    x1 = np.bincount(g, weights=np.where(rank == 0, xs, 0.0), minlength=n_cells)
    x2 = np.bincount(g, weights=np.where(rank == 1, xs, 0.0), minlength=n_cells)
    p = m["p_percent"]
    v.apply(positive_total & (total - x1 - x2 < p * x1), "fail", f"p% rule (p = {p:g})")
    vmin = np.full(n_cells, np.inf)
    vmax = np.full(n_cells, -np.inf)
    np.minimum.at(vmin, g, xs)
    np.maximum.at(vmax, g, xs)
    v.apply((n_g > 1) & (vmin == vmax), m["identical_values"], "all units have the same value")
    cells = pd.DataFrame(
        {
            "cell": labels,
            "statistic": f"sum of {value}",
            "n": n_g.astype(np.int64),
            "verdict": v.verdicts(),
            "rules": v.rules,
        },
        columns=CELL_COLUMNS,
    )
    return OutputCheckResult(name, "magnitude", r, cells)


# ---------------------------------------------------------------------------------------------
# summaries
# ---------------------------------------------------------------------------------------------

SUMMARY_STATISTICS = ("mean", "median", "min", "max", "percent")


def check_summary(
    records: pd.DataFrame,
    value: str,
    *,
    by: Sequence[str] | None = None,
    statistics: Sequence[str] = ("mean",),
    rules: OutputRules | str = "ons_srs",
    name: str = "summary",
) -> OutputCheckResult:
    """Verdict per group and statistic of simple summaries of ``value`` (by ``by``).

    ``"percent"`` reads ``value`` as an indicator (true / 1 counts towards the numerator).

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> records = pd.DataFrame({"school": ["A"] * 12 + ["B"] * 3, "score": range(15)})
    >>> result = rc.check_summary(records, "score", by=["school"], statistics=["mean"])
    >>> result.cells[["cell", "statistic", "n", "verdict", "rules"]]
           cell      statistic   n verdict                           rules
    0  school=A  mean of score  12    pass
    1  school=B  mean of score   3    fail  threshold: fewer than 10 units
    """
    func = "check_summary"
    r = _rules(rules, func)
    check_frame(records, "records", func)
    check_column_names([value], records.columns, "value", func)
    by = list(check_column_names(by, records.columns, "by", func)) if by else []
    stats = check_choices(statistics, "statistics", SUMMARY_STATISTICS, func, what="statistic")
    x = _check_numeric(records, value, func)
    gid, labels = _codes(records, by)
    n_cells = len(labels)
    n_g = np.bincount(gid, minlength=n_cells)
    s = r.summary
    t = s["threshold"]
    frames = []
    for stat in stats:
        v = _Verdicts(n_cells)
        if stat in ("mean", "median"):
            v.apply(n_g < t, "fail", f"threshold: fewer than {t} units")
            if stat == "median":
                v.apply(n_g >= t, s["median"], "median is a unit's own value")
        elif stat in ("min", "max"):
            v.apply(n_g > 0, s["extremes"], f"{stat} is a single unit's value")
            v.apply(n_g < t, "fail", f"threshold: fewer than {t} units")
        else:
            other = np.flatnonzero((x != 0) & (x != 1))
            if other.size:
                raise CellValueError(value, func, "must hold 0/1 or booleans for 'percent'", other)
            num = np.bincount(gid, weights=x, minlength=n_cells)
            rest = n_g - num
            small = ((num > 0) & (num < t)) | ((rest > 0) & (rest < t))
            v.apply(small, s["percent"], f"percentage: numerator or complement below {t} units")
            v.apply(
                (num == 0) | (rest == 0), s["percent"], "percentage of 0% or 100%: class disclosure"
            )
            v.apply(n_g < t, "fail", f"threshold: fewer than {t} units")
        frames.append(
            pd.DataFrame(
                {
                    "cell": labels,
                    "statistic": f"{stat} of {value}",
                    "n": n_g.astype(np.int64),
                    "verdict": v.verdicts(),
                    "rules": v.rules,
                },
                columns=CELL_COLUMNS,
            )
        )
    return OutputCheckResult(name, "summary", r, pd.concat(frames, ignore_index=True))
