"""Render tidy result frames as text, Markdown, CSV or JSON (with provenance), deterministically."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

FORMATS = ("text", "csv", "json", "markdown")


def _cell(value, column: str) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if column.endswith("share"):
        return f"{100 * float(value):.2f}%"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if v.is_integer():
            return f"{int(v):,}"
        return f"{v:,.2f}" if abs(v) >= 100 else f"{v:.4g}"
    if isinstance(value, tuple):
        return ", ".join(map(str, value))
    return str(value)


def _cells(frame: pd.DataFrame) -> list[list[str]]:
    return [[_cell(v, c) for c, v in zip(frame.columns, row)] for row in frame.itertuples(index=False)]


def to_text(frame: pd.DataFrame) -> str:
    """An aligned plain-text table: text left, numbers right."""
    cells = _cells(frame)
    header = [str(c) for c in frame.columns]
    numeric = [
        pd.api.types.is_numeric_dtype(frame[c].dtype) or c in ("value",) for c in frame.columns
    ]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]

    def line(row):
        return "  ".join(
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(row, widths, numeric)
        ).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out) + "\n"


def to_markdown(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table."""
    cells = _cells(frame)
    header = [str(c) for c in frame.columns]
    numeric = [pd.api.types.is_numeric_dtype(frame[c].dtype) or c == "value" for c in frame.columns]
    esc = lambda s: s.replace("|", "\\|")  # noqa: E731
    out = ["| " + " | ".join(esc(h) for h in header) + " |"]
    out.append("|" + "|".join("---:" if num else ":---" for num in numeric) + "|")
    out += ["| " + " | ".join(esc(v) for v in r) + " |" for r in cells]
    return "\n".join(out) + "\n"


def to_csv(frame: pd.DataFrame) -> str:
    """CSV with ``\\n`` line ends and full-precision numbers."""
    return frame.to_csv(index=False, lineterminator="\n")


def _jsonable(value):
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def to_json(frame: pd.DataFrame, provenance: dict | None = None) -> str:
    """``{"provenance": ..., "rows": [...]}``, keys sorted, two-space indent."""
    rows = [
        {c: _jsonable(v) for c, v in zip(frame.columns, row)} for row in frame.itertuples(index=False)
    ]
    doc = {"provenance": provenance or {}, "rows": rows}
    return json.dumps(doc, indent=2, sort_keys=True, allow_nan=False) + "\n"


def render(frame: pd.DataFrame, fmt: str, provenance: dict | None = None) -> str:
    """Render ``frame`` in one of :data:`FORMATS`."""
    if fmt == "json":
        return to_json(frame, provenance)
    if fmt == "csv":
        return to_csv(frame)
    if fmt == "markdown":
        return to_markdown(frame)
    return to_text(frame)
