"""Cell labels of aggregate tables: ``col=value, col=value``, with blank categories labelled.

One home for how a category is shown in a cell label (the output checker's reports, and any
table report that names cells):

- a missing category (NaN, None, ``pd.NA``, ``NaT``, an Arrow null, an empty CSV field or a
  text of only spaces) is one category of its own, shown as :data:`MISSING_LABEL`, sorted last;
- a number is shown as a number (a whole float as an integer: a CSV column of whole numbers
  with a blank is read as floats, and ``206.0`` is the category ``206``);
- a text is shown as it is, unless it could be confused with another category or break the
  label: a text spelt ``(missing)``, a text holding ``,`` ``=`` ``"`` or a control character,
  a text with leading or trailing spaces, and every text of a column that mixes texts with
  other types are shown in double quotes (JSON string syntax). So a real category spelt
  ``(missing)`` is shown ``"(missing)"`` and never merges with the blank one.

Labels are built per distinct value (not per row), then joined per cell: vectorised over
rows, no string concatenation on a column that may hold non-text values.
"""

from __future__ import annotations

import datetime as _dt
import json
import numbers
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._compat import PANDAS_MAJOR, numeric_view

__all__ = ["MISSING_LABEL", "ALL_LABEL", "column_codes", "group_codes"]

#: Label of a blank or missing category in a cell label (``LA=(missing)``).
MISSING_LABEL = "(missing)"
#: Label of the single cell of a table grouped by no column.
ALL_LABEL = "(all)"

_NEEDS_QUOTES = (",", "=", '"')


def _blank(v) -> bool:
    """A blank text, or a missing marker kept as a value (an Arrow float array holds NaN apart
    from its nulls; an object column can hold NaN, None, NA or NaT)."""
    if isinstance(v, str):
        return not v.strip()
    return bool(pd.api.types.is_scalar(v) and pd.isna(v))


def _sort_key(v):
    """Order of a column that mixes types: numbers, then texts, then dates, then the rest."""
    if isinstance(v, (bool, np.bool_, numbers.Real)):
        return (0, float(v), "")
    if isinstance(v, str):
        return (1, 0.0, v)
    if isinstance(v, (_dt.date, np.datetime64)):
        return (2, 0.0, str(v))
    return (3, 0.0, f"{type(v).__name__}:{v}")


def _text(v, mixed: bool) -> str:
    """How one non-missing category is shown."""
    if isinstance(v, str):
        quote = (
            mixed
            or v == MISSING_LABEL
            or v != v.strip()
            or any(s in v for s in _NEEDS_QUOTES)
            or any(ord(ch) < 32 for ch in v)
        )
        return json.dumps(v, ensure_ascii=False) if quote else v
    if isinstance(v, (bool, np.bool_)):
        return "True" if v else "False"
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        f = float(v)
        return str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)
    if isinstance(v, _dt.datetime):  # pandas Timestamps too; a midnight without a zone is a date
        midnight = (v.hour, v.minute, v.second, v.microsecond, getattr(v, "nanosecond", 0)) == (
            0,
        ) * 5
        return str(v.date()) if midnight and v.tzinfo is None else str(v)
    text = str(v)
    return json.dumps(text, ensure_ascii=False) if any(s in text for s in _NEEDS_QUOTES) else text


#: pandas before 2.0 factorizes an Arrow dictionary column by dictionary-encoding it again,
#: which pyarrow cannot do (no kernel for a dictionary input).
_FACTORIZE_ARROW_DICTIONARIES = PANDAS_MAJOR < 2


def _factorize(s: pd.Series):
    """``pd.factorize(s, use_na_sentinel=True)``; on pandas 1.5 an Arrow dictionary column is
    factorized as pandas 2 does it: its indices (missing -1) and its whole dictionary."""
    typ = getattr(s.dtype, "pyarrow_dtype", None)
    if _FACTORIZE_ARROW_DICTIONARIES and typ is not None:
        import pyarrow as pa

        if not pa.types.is_dictionary(typ):
            return pd.factorize(s, use_na_sentinel=True)
        data = s.array.__arrow_array__()
        chunked = data if isinstance(data, pa.ChunkedArray) else pa.chunked_array([data])
        chunks = chunked.unify_dictionaries().chunks
        if not chunks:
            return np.zeros(0, np.int64), pd.Series([], dtype=object)
        codes = np.concatenate(
            [c.indices.fill_null(-1).to_numpy(zero_copy_only=False) for c in chunks]
        )
        return codes, chunks[0].dictionary.to_pandas()
    if PANDAS_MAJOR < 2:  # pandas 1.5 warns that its Index of object numbers will stay object
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return pd.factorize(s, use_na_sentinel=True)
    return pd.factorize(s, use_na_sentinel=True)


def column_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes of a column's categories in sorted order, and each code's label text.

    Returns ``(codes, texts)``: ``codes[i]`` is row ``i``'s category, ``texts[k]`` the label of
    category ``k``. Categories are sorted (a categorical column in its category order; a column
    mixing types by type, then value); a missing or blank category, when present, is the last
    code and its text is :data:`MISSING_LABEL`. Texts are unique.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(s.dtype, pd.CategoricalDtype):
        raw = s.cat.codes.to_numpy().astype(np.int64)
        cats = np.asarray(s.cat.categories, dtype=object)
        used = np.zeros(len(cats), dtype=bool)
        used[raw[raw >= 0]] = True
        blank = np.fromiter((_blank(v) for v in cats), dtype=bool, count=len(cats))
        keep = np.flatnonzero(used & ~blank)
        uniq = cats[keep]
        new = np.full(len(cats) + 1, -1, dtype=np.int64)  # the last entry: code -1 stays -1
        new[keep] = np.arange(len(keep))
        codes = new[raw]
    else:
        if pd.api.types.is_float_dtype(numeric_view(s.dtype)):  # an Arrow double too
            s = s + 0.0  # -0.0 is 0.0 (hash tables may tell the two apart)
        codes, found = _factorize(s)
        codes = codes.astype(np.int64)
        obj = np.asarray(found, dtype=object)
        blank = np.fromiter((_blank(v) for v in obj), dtype=bool, count=len(obj))
        keep = np.flatnonzero(~blank)
        try:
            order = keep[np.asarray(pd.Index(found).take(keep).argsort(), dtype=np.int64)]
        except (TypeError, ValueError, NotImplementedError):  # mixed types; Arrow dictionaries
            order = keep[
                np.asarray(
                    sorted(range(len(keep)), key=lambda i: _sort_key(obj[keep[i]])), dtype=np.int64
                )
            ]
        rank = np.full(len(obj) + 1, -1, dtype=np.int64)  # the last entry: code -1 stays -1
        rank[order] = np.arange(len(order))
        codes = rank[codes]
        uniq = obj[order]
    mixed = len({isinstance(v, str) for v in uniq}) > 1
    texts = [_text(v, mixed) for v in uniq]
    if len(set(texts)) < len(texts):  # distinct values shown alike (e.g. 1 and "1" are quoted;
        seen: dict[str, int] = {}  # this is the last resort): number the repeats
        for i, t in enumerate(texts):
            seen[t] = seen.get(t, 0) + 1
            if seen[t] > 1:
                texts[i] = f"{t} [{seen[t]}]"
    if (codes < 0).any():
        codes = np.where(codes < 0, len(texts), codes)
        texts.append(MISSING_LABEL)
    return codes, np.asarray(texts, dtype=object)


def group_codes(frame: pd.DataFrame, cols: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids of the combinations of ``cols`` (sorted column by column) and their labels.

    Returns ``(ids, labels)``: ``ids[i]`` is row ``i``'s cell, ``labels[k]`` the text
    ``col=value, col=value`` of cell ``k`` (:data:`ALL_LABEL` for no column; a missing
    category is ``col=(missing)``).

    Examples
    --------
    >>> import pandas as pd
    >>> ids, labels = group_codes(pd.DataFrame({"LA": [206, 206, None], "Sex": ["F", "", "M"]}), ["LA", "Sex"])
    >>> ids.tolist(), labels.tolist()
    ([0, 1, 2], ['LA=206, Sex=F', 'LA=206, Sex=(missing)', 'LA=(missing), Sex=M'])
    """
    n = len(frame)
    cols = list(cols)
    if not cols:
        return np.zeros(n, dtype=np.int64), np.asarray([ALL_LABEL], dtype=object)
    key = np.zeros(n, dtype=np.int64)
    per_col = []
    for c in cols:
        codes, texts = column_codes(frame[c])
        per_col.append((c, codes, texts))
        _, key = np.unique(key * len(texts) + codes, return_inverse=True)  # dense, order kept
        key = key.reshape(-1).astype(np.int64)
    _, first = np.unique(key, return_index=True)
    labels = None
    for c, codes, texts in per_col:
        part = f"{c}=" + texts[codes[first]] if len(first) else np.empty(0, dtype=object)
        labels = part if labels is None else labels + ", " + part
    return key, np.asarray(labels, dtype=object)
