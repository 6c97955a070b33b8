"""Render tidy result frames as text, Markdown, CSV, JSON (with provenance), LaTeX or HTML
table cells, deterministically: the one home of table rendering.

One rule decides which columns are numeric (:func:`numeric_columns`: right-aligned, never
escaped), one formats a cell for people (:func:`_cell`), and every format escapes every text
cell for itself: Markdown (backslash escapes, HTML entities for ``<``, ``>``, ``&``), LaTeX (the
ten special characters), HTML (entities), CSV (quoting, and a single quote before a text cell a
spreadsheet would run as a formula: :func:`escape_formula`). Names from the user's files and
scenarios can hold anything; they must come out as text, never as markup.
"""

from __future__ import annotations

import html
import json
import math
import re
from typing import TYPE_CHECKING

import numpy as np

from ._lazy import lazy_module
from .exceptions import RiskCalcError

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl
    import pyarrow as pa
else:
    # imported on first use: the command line parses before pandas is loaded
    pd = lazy_module("pandas")

FORMATS = ("text", "csv", "json", "markdown", "latex")

#: Column-name endings of figures that are fractions, never counts (kept as floats in CSV).
_FRACTION_SUFFIXES = (
    "share",
    "risk",
    "rate",
    "fraction",
    "estimate",
    "score",
    "contribution",
    "alpha",
)


def numeric_columns(frame: pd.DataFrame) -> list[bool]:
    """Which columns hold numbers: a numeric dtype (booleans excluded), or an object column
    whose non-missing values are all numbers (the mixed ``value`` column of a summary)."""
    from ._compat import numeric_view  # here: this module imports pandas lazily

    out = []
    for c in frame.columns:
        dtype = frame[c].dtype
        if pd.api.types.is_bool_dtype(dtype):
            out.append(False)
        elif pd.api.types.is_numeric_dtype(numeric_view(dtype)):
            out.append(True)
        elif pd.api.types.is_object_dtype(dtype):
            values = [
                v
                for v in frame[c].tolist()
                if v is not None and v is not pd.NA and not (isinstance(v, float) and math.isnan(v))
            ]
            out.append(
                bool(values)
                and all(
                    isinstance(v, (int, float, np.integer, np.floating))
                    and not isinstance(v, (bool, np.bool_))
                    for v in values
                )
            )
        else:
            out.append(False)
    return out


_MD_SPECIAL = re.compile(r"([\\`*\[\]|~$])")
_MD_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
#: A ``<`` that could open raw HTML or an autolink in CommonMark (a tag name, ``</``, ``<!``,
#: ``<?``): only these are written as ``&lt;``, so ``<0.1%`` stays readable as plain text.
_MD_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")
#: An ``&`` that would start an entity or character reference (``&amp;``, ``&#38;``).
_MD_ENTITY = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9A-Fa-f]{1,6};|[A-Za-z][A-Za-z0-9]*;)")


def escape_markdown(text: str) -> str:
    """A table cell as literal Markdown text: markup characters backslash-escaped, a ``<`` that
    could open raw HTML and an ``&`` that could start an entity written as ``&lt;`` / ``&amp;``
    (no raw HTML, ever), line breaks as spaces. Every other character stays as it is, so the
    file reads the same raw and rendered (``43 (<0.1%)``). An underscore inside a word
    (``unique_share``) cannot start emphasis and is left as it is.

    Examples
    --------
    >>> escape_markdown("43 (<0.1%)")
    '43 (<0.1%)'
    >>> print(escape_markdown("<script>a|b</script> &amp;"))
    &lt;script>a\\|b&lt;/script> &amp;amp;
    """
    text = " ".join(str(text).splitlines())
    text = _MD_ENTITY.sub("&amp;", text)
    text = _MD_TAG_OPEN.sub("&lt;", text)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_UNDERSCORE.sub(r"\\_", text)


_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\^{}",
    "_": r"\_",
    "%": r"\%",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}
_LATEX_RE = re.compile("|".join(re.escape(k) for k in _LATEX))


def escape_latex(text: str) -> str:
    """A table cell as literal LaTeX text (every special character escaped, line breaks as
    spaces), so ``\\input{...}`` or ``$`` in a name is printed, never run."""
    text = " ".join(str(text).splitlines())
    return _LATEX_RE.sub(lambda m: _LATEX[m.group(0)], text)


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
    return [
        [_cell(v, c) for c, v in zip(frame.columns, row)] for row in frame.itertuples(index=False)
    ]


def to_text(frame: pd.DataFrame) -> str:
    """An aligned plain-text table: text left, numbers right."""
    cells = _cells(frame)
    header = [str(c) for c in frame.columns]
    numeric = numeric_columns(frame)
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
    numeric = numeric_columns(frame)
    esc = escape_markdown
    out = ["| " + " | ".join(esc(h) for h in header) + " |"]
    out.append("|" + "|".join("---:" if num else ":---" for num in numeric) + "|")
    out += ["| " + " | ".join(esc(v) for v in r) + " |" for r in cells]
    return "\n".join(out) + "\n"


def _is_fraction(column) -> bool:
    return str(column).lower().endswith(_FRACTION_SUFFIXES)


def _integral_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Whole numbers in float columns that are not fractions (counts, thresholds, sizes held as
    floats because a value is missing or another row holds a fraction) written as integers, so
    CSV shows ``3``, not ``3.0``. Cells of a result table, never records: a comprehension is fine."""
    from ._compat import numeric_view

    changes = {}
    for c, numeric in zip(frame.columns, numeric_columns(frame)):
        col = frame[c]
        if not numeric or _is_fraction(c) or pd.api.types.is_integer_dtype(numeric_view(col.dtype)):
            continue
        # a float column, or an object column of numbers (a summary's mixed ``value`` column)
        values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 2**53)
        if not whole.any():
            continue
        changes[c] = pd.Series(
            [
                int(v) if w else (None if np.isnan(v) else float(v))
                for v, w in zip(values.tolist(), whole.tolist())
            ],
            index=frame.index,
            dtype=object,
        )
    return frame.assign(**changes) if changes else frame


#: First characters that make a spreadsheet read a text cell as a formula or split it (OWASP
#: "CSV Injection"; ASVS 5.0 requirement 1.2.10): ``= + - @``, tab, carriage return, line feed
#: and NUL. A text cell starting with one of them is written with a single quote before it.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
#: A plain decimal number written as text (``-0.5``, ``+3``, ``-1e-05``): a spreadsheet reads it as
#: a number, never a formula, so it is left as it is.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def escape_formula(text: str) -> str:
    """A CSV text cell that no spreadsheet runs as a formula (OWASP CSV injection guidance,
    ASVS 5.0 1.2.10).

    A cell starting with a formula trigger (:data:`FORMULA_TRIGGERS`: ``= + - @``, tab, carriage
    return, line feed, NUL) gets a single quote (``'``) before it, as OWASP recommends: Excel,
    LibreOffice and Google Sheets then show it as text. A cell already starting with a single
    quote gets one more, so the escape is reversible (:func:`unescape_formula`: a text cell
    starting with ``'`` lost its first character). A plain decimal number written as text
    (``-0.5``) is not a formula and is left as it is; number cells are never passed here.

    Examples
    --------
    >>> print(escape_formula('=HYPERLINK("http://x")'))
    '=HYPERLINK("http://x")
    >>> escape_formula("-0.5"), escape_formula("'quoted"), escape_formula("sex")
    ('-0.5', "''quoted", 'sex')
    """
    text = str(text)
    if text[:1] == "'" or (text[:1] in FORMULA_TRIGGERS and not _PLAIN_NUMBER.fullmatch(text)):
        return "'" + text
    return text


def unescape_formula(text: str) -> str:
    """A text cell of a riskcalc CSV as it was before :func:`escape_formula` (one leading single
    quote removed).

    Examples
    --------
    >>> unescape_formula(escape_formula("=1+1")), unescape_formula(escape_formula("'a"))
    ('=1+1', "'a")
    """
    text = str(text)
    return text[1:] if text[:1] == "'" else text


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating, bool, np.bool_))


def _text_columns(frame: pd.DataFrame) -> list:
    """Columns that may hold text: every column but those of a number, boolean or date type."""
    from ._compat import numeric_view

    return [
        c
        for c in frame.columns
        if not (
            pd.api.types.is_numeric_dtype(numeric_view(frame[c].dtype))
            or pd.api.types.is_bool_dtype(frame[c].dtype)
            or pd.api.types.is_datetime64_any_dtype(frame[c].dtype)
        )
    ]


def _formula_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell and every column name through :func:`escape_formula`; number, boolean and
    missing cells, and columns of a number, boolean or date type, unchanged. Cells of a result
    table, never records: a comprehension is fine."""
    changes = {}
    for c in _text_columns(frame):
        values = frame[c].tolist()
        escaped = [
            v if v is None or v is pd.NA or _is_number(v) else escape_formula(v) for v in values
        ]
        if escaped != values:
            changes[c] = pd.Series(escaped, index=frame.index, dtype=object)
    if changes:
        frame = frame.assign(**changes)
    names = [escape_formula(c) for c in frame.columns]
    if names != [str(c) for c in frame.columns]:
        frame = frame.set_axis(names, axis=1)
    return frame


def to_csv(frame: pd.DataFrame) -> str:
    """CSV with ``\\n`` line ends, full-precision fractions and counts as integers, safe to open
    in a spreadsheet: the one CSV writer of riskcalc.

    Every text cell and column name that starts with a formula trigger (``= + - @``, tab,
    carriage return, line feed, NUL) or a single quote is written with a single quote before it
    (:func:`escape_formula`, the OWASP CSV-injection rule): a column named
    ``=HYPERLINK("http://x")`` in the user's file is shown as text, never run. Number cells
    (``-0.5``) are written as numbers. To read the text back as it was, remove one leading
    ``'`` from a text cell that starts with one (:func:`unescape_formula`). A text cell holding
    a carriage return is quoted (Python's CSV writer leaves it bare), so no reader starts a new
    row inside it.

    Examples
    --------
    >>> print(to_csv(pd.DataFrame({"fields": ["=1+1", "sex"], "change": [-0.5, 2.0]})), end="")
    fields,change
    '=1+1,-0.5
    sex,2
    """
    frame = _integral_counts(frame)
    tuples = {
        c: pd.Series(
            [", ".join(map(str, v)) if isinstance(v, tuple) else v for v in frame[c].tolist()],
            index=frame.index,
            dtype=object,
        )
        for c in frame.columns
        if frame[c].dtype == object and any(isinstance(v, tuple) for v in frame[c].tolist())
    }
    frame = _formula_safe(frame.assign(**tuples) if tuples else frame)
    frame, marker = _force_quotes(frame)
    text = frame.to_csv(index=False, lineterminator="\n")
    return text.replace(marker, "") if marker else text


#: Text that must be written quoted though Python's CSV writer (under pandas) leaves it bare: a
#: carriage return (the writer quotes only the characters of its line end, ``\n``), which
#: readers take for a line break, so ``a\r=1+1`` would start a new row with a formula.
_FORCE_QUOTE = re.compile("\r")


def _force_quotes(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """``frame`` with a marker (a private-use character absent from its text, then ``\\n``)
    after every text cell and column name matching :data:`_FORCE_QUOTE`: the line feed makes
    the writer quote the cell, and the marker is removed from the written text. Returns the
    frame unchanged and ``""`` when no cell needs it."""
    texts = [c for c in frame.columns if isinstance(c, str)]
    columns = _text_columns(frame)
    for c in columns:
        texts += [v for v in frame[c].tolist() if isinstance(v, str)]
    if not any(_FORCE_QUOTE.search(t) for t in texts):
        return frame, ""
    joined = "".join(texts)
    marker = next(chr(code) for code in range(0xE000, 0xF900) if chr(code) not in joined) + "\n"

    def mark(v):
        return v + marker if isinstance(v, str) and _FORCE_QUOTE.search(v) else v

    changes = {
        c: pd.Series([mark(v) for v in frame[c].tolist()], index=frame.index, dtype=object)
        for c in columns
    }
    frame = frame.assign(**changes) if changes else frame
    return frame.set_axis([mark(c) for c in frame.columns], axis=1), marker


def to_latex(frame: pd.DataFrame, *, caption: str | None = None, label: str | None = None) -> str:
    """A LaTeX ``tabular`` (booktabs rules): text columns left, numbers right, every cell
    escaped. With a ``caption`` (and a ``label`` for ``\\ref``), the tabular is wrapped in a
    floating ``table`` with ``\\caption`` and ``\\label``, ready to ``\\input`` into a paper
    (``\\usepackage{booktabs}``).

    Examples
    --------
    >>> print(to_latex(pd.DataFrame({"tier": [1], "unique_share": [0.5]}), caption="Uniques", label="tab:u"))
    \\begin{table}[htbp]
    \\centering
    \\caption{Uniques}
    \\label{tab:u}
    \\begin{tabular}{rr}
    \\toprule
    tier & unique\\_share \\\\
    \\midrule
    1 & 50.00\\% \\\\
    \\bottomrule
    \\end{tabular}
    \\end{table}
    <BLANKLINE>
    """
    cells = _cells(frame)
    cols = [str(c) for c in frame.columns]
    align = "".join("r" if num else "l" for num in numeric_columns(frame))
    lines = [
        r"\begin{tabular}{" + align + "}",
        r"\toprule",
        " & ".join(escape_latex(c) for c in cols) + r" \\",
        r"\midrule",
    ]
    lines += [" & ".join(escape_latex(v) for v in row) + r" \\" for row in cells]
    lines += [r"\bottomrule", r"\end{tabular}"]
    if caption is not None:
        head = [r"\begin{table}[htbp]", r"\centering", r"\caption{" + escape_latex(caption) + "}"]
        if label:
            head.append(r"\label{" + latex_label(label) + "}")
        lines = head + lines + [r"\end{table}"]
    return "\n".join(lines) + "\n"


def latex_label(text: str) -> str:
    """A ``\\label`` key: letters, digits and ``:-.`` only (``tab:riskcalc-tier-risk-table``)."""
    return re.sub(r"[^A-Za-z0-9:.-]+", "-", str(text)).strip("-") or "tab:riskcalc"


def latex_caption(title: str, prov: dict | None) -> str:
    """A table caption: the title, then the data's source (:func:`source_line`), so a table
    pasted into a paper keeps its provenance."""
    return f"{title}. {source_line(prov).replace(chr(10), ' ')}" if prov else f"{title}."


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
        {c: _jsonable(v) for c, v in zip(frame.columns, row)}
        for row in frame.itertuples(index=False)
    ]
    doc = {"provenance": provenance or {}, "rows": rows}
    return json.dumps(doc, indent=2, sort_keys=True, allow_nan=False) + "\n"


def is_synthetic(prov: dict) -> bool:
    """Whether the provenance describes a synthetic cohort (not a user's files)."""
    return prov.get("data") == "synthetic" or ("cohort" in prov and prov.get("data") is None)


def inputs_of(prov: dict) -> list[dict]:
    """The input files (or tables) the provenance records, in order."""
    if prov.get("inputs"):
        return list(prov["inputs"])
    if prov.get("input"):
        return [prov["input"]]
    return []


def input_text(info: dict, full_hash: bool = True) -> str:
    """One input for people: its source, records, size and SHA-256 (shortened unless ``full_hash``)."""
    sha = str(info.get("sha256", ""))
    bits = []
    if "n_records" in info:
        bits.append(f"{int(info['n_records']):,} records")
    if "bytes" in info:
        bits.append(f"{int(info['bytes']):,} bytes")
    if sha:
        bits.append("SHA-256 " + (sha if full_hash else sha[:12] + "..."))
    if "fingerprint" in info:  # a Spark table (riskcalc._provenance.describe_spark)
        fp = str(info["fingerprint"])
        bits.append("Spark fingerprint " + (fp if full_hash else fp[:29] + "..."))
    return f"{info.get('source', 'input')}" + (f" ({', '.join(bits)})" if bits else "")


def identity_text(prov: dict) -> str:
    """The code's identity in a provenance block as people read it (its ``riskcalc_version``
    and the first 12 hex digits of its ``riskcalc_commit``): see
    :func:`riskcalc._provenance.code_identity`."""
    version = str(prov.get("riskcalc_version", ""))
    commit = prov.get("riskcalc_commit")
    if not commit:
        return version
    sha, _, state = str(commit).partition("-")
    short = sha[:12] if sha != "unknown" else sha
    return f"{version} (commit {short}{', ' + state if state else ''})"


def source_line(prov: dict) -> str:
    """The lines naming the data and the code behind the figures, as printed inside every
    chart: the data (with the riskcalc version), then the code's commit on a line of its own
    (so that the data's line wraps the same whatever the commit)."""
    return _data_line(prov) + _commit_line(prov)


def _commit_line(prov: dict) -> str:
    commit = prov.get("riskcalc_commit")
    if not commit:
        return ""
    sha, _, state = str(commit).partition("-")
    return f"\nriskcalc commit {sha[:12] if sha != 'unknown' else sha}" + (
        f" ({state})" if state else ""
    )


def _data_line(prov: dict) -> str:
    version = prov.get("riskcalc_version", "")
    if is_synthetic(prov):
        c = prov.get("cohort", {})
        size = f" of {int(c['n_pupils']):,} pupils" if c.get("n_pupils") is not None else ""
        seed = f", seed {c['seed']}" if c.get("seed") is not None else ""
        return (
            f"Source: riskcalc {version}, synthetic cohort{size}{seed}. Synthetic data imitating "
            "the National Pupil Database, not any real child."
        )
    inputs = inputs_of(prov)
    if inputs:
        return (
            f"Source: riskcalc {version}, input "
            + "; ".join(input_text(i, full_hash=False) for i in inputs)
            + "."
        )
    return f"Source: riskcalc {version}, tables supplied in memory (no file recorded)."


def provenance_lines(prov: dict | None) -> list[str]:
    """The provenance block as short plain lines: version, command, and the data's source
    (a synthetic cohort, or each input file with its size, records and SHA-256)."""
    if not prov:
        return []
    lines = [f"riskcalc {identity_text(prov)}, {prov.get('function', '')}"]
    if prov.get("command"):
        lines.append(f"command: {prov['command']}")
    cohort = prov.get("cohort")
    if cohort:
        lines.append(
            f"data: synthetic cohort (seed {cohort.get('seed')}, {cohort.get('n_pupils', 0):,} pupils, "
            f"generator {cohort.get('generator_version')}), not real pupils"
        )
    inputs = prov.get("inputs") or ([prov["input"]] if prov.get("input") else [])
    for inp in inputs:
        size = f", {inp['bytes']:,} bytes" if "bytes" in inp else ""
        rows = f", {inp['n_records']:,} records" if "n_records" in inp else ""
        digest = f", SHA-256 {inp['sha256']}" if "sha256" in inp else ""
        if "fingerprint" in inp:  # a Spark table: its content fingerprint, computed on the cluster
            digest += f", Spark {inp['fingerprint']}"
        lines.append(f"input: {inp.get('source', '')}{size}{rows}{digest}")
    return lines


def markdown_provenance(prov: dict | None) -> str:
    """A provenance footer for Markdown outputs (empty without provenance)."""
    lines = provenance_lines(prov)
    return (
        ("\n\n---\n" + "  \n".join(f"*{escape_markdown(line)}*" for line in lines) + "\n")
        if lines
        else ""
    )


def latex_comment(text: str) -> str:
    """``text`` as one LaTeX comment line: every line break in it (line feed, carriage return,
    and the other breaks of :meth:`str.splitlines`) becomes a space, so a file name or an
    argument holding ``\\n\\input{...}`` stays inside the comment, never a live line.

    Examples
    --------
    >>> print(latex_comment("input: a\\n\\\\input{x}.csv"), end="")
    % input: a \\input{x}.csv
    """
    return "% " + " ".join(str(text).splitlines()) + "\n"


def latex_provenance(prov: dict | None) -> str:
    """Provenance as LaTeX comment lines (:func:`latex_comment`), to put before a table (empty
    without provenance)."""
    return "".join(latex_comment(line) for line in provenance_lines(prov))


def render(
    frame: pd.DataFrame, fmt: str, provenance: dict | None = None, *, title: str | None = None
) -> str:
    """Render ``frame`` in one of :data:`FORMATS`. JSON, Markdown and LaTeX carry the
    provenance (in the document, a footer, comment lines and the caption) and its data-quality
    block (in the document, a section before the table, a paragraph before the table); CSV stays
    plain rows for other tools, its provenance in the JSON sidecar or manifest written beside it.
    LaTeX is a floating table captioned with ``title`` (default: the function in the provenance)
    and the data's source, labelled ``tab:riskcalc-<function>``."""
    if fmt == "json":
        return to_json(frame, provenance)
    if fmt == "csv":
        return to_csv(frame)
    if fmt == "markdown":
        return markdown_quality(provenance) + to_markdown(frame) + markdown_provenance(provenance)
    if fmt == "latex":
        function = (provenance or {}).get("function") or "table"
        title = title or f"riskcalc {function}"
        return (
            latex_provenance(provenance)
            + latex_quality(provenance)
            + to_latex(
                frame, caption=latex_caption(title, provenance), label=f"tab:riskcalc-{function}"
            )
        )
    return to_text(frame)


# ---------------------------------------------------------------------------------------------
# Data quality: the profile's findings, shown with the figures (riskcalc.profile.DataQuality)
# ---------------------------------------------------------------------------------------------

#: The checks the profile runs, named in the sentence of a clean profile.
CHECKS_DONE = (
    "letter case and spaces, number spellings, date formats, postcodes, year groups, sex codes, "
    "direct identifiers"
)


def _names(items) -> str:
    return ", ".join(dict.fromkeys(items))


def _columns_phrase(names) -> str:
    names = list(dict.fromkeys(names))
    return (
        f"column {names[0]} still holds"
        if len(names) == 1
        else f"columns {', '.join(names)} still hold"
    )


def _checks_text(checks) -> str:
    return ", ".join(c.replace("_", " ") for c in checks)


def quality_summary(doc: dict) -> str:
    """One sentence summing up a data-quality block (``provenance["data_quality"]``)."""
    n_cols = sum(len(c["columns"]) for c in doc.get("checked", []))
    upper, lower, findings = (
        doc.get("upper_bound", []),
        doc.get("lower_bound", []),
        doc.get("findings", []),
    )
    done = ""
    if doc.get("normalised"):
        changed = [
            n for n in doc.get("normalisation", []) if n["distinct_before"] != n["distinct_after"]
        ]
        done = f"Normalised before measuring: {len(changed)} column(s) now hold fewer distinct values. "
    if upper:
        return (
            done + "Figures are upper bounds of the risk: "
            f"{_columns_phrase(u['column'] for u in upper)} one value written in more than one way, which "
            "splits pupils who look alike into separate classes."
        )
    if lower:
        return (
            done + "Attribute-disclosure figures may be understated: sensitive "
            f"{_columns_phrase(u['column'] for u in lower)} one value written in more than one way."
        )
    ids = [f["column"] for f in findings if f.get("check") == "direct_identifier"]
    rest = [f for f in findings if f.get("check") != "direct_identifier"]
    if ids and not rest:
        return (
            done
            + f"The profile found no value written in more than one way in the {n_cols} column(s) "
            f"checked; {len(ids)} column(s) look like direct identifiers ({_names(ids)})."
        )
    if findings:
        return (
            done
            + f"The profile of the {n_cols} column(s) checked found {len(findings)} thing(s) to look at."
        )
    return (
        done
        + f"The profile found nothing to fix in the {n_cols} column(s) checked ({CHECKS_DONE})."
    )


def quality_lines(doc: dict | None, *, quiet: bool = False) -> list[str]:
    """A data-quality block as plain lines: the summary (left out with ``quiet`` when nothing was
    found), one line per normalised column (``distinct values before -> after`` and the rules
    applied), one per finding, and the reason for each upper bound. Column names and counts
    only, never a value."""
    if not doc:
        return []
    lines = []
    clean = not doc.get("findings") and not doc.get("upper_bound")
    if not (quiet and clean):
        lines.append(doc.get("summary") or quality_summary(doc))
    several = len(doc.get("checked", [])) > 1
    unchanged = [
        n for n in doc.get("normalisation", []) if not n.get("rules") and not n.get("unreadable")
    ]
    for n in doc.get("normalisation", []):
        if n in unchanged:
            continue
        rules = (
            "; ".join(
                f"{r['rule'].replace('_', ' ')}: {r['values_rewritten']:,} rewritten, {r['merged']:,} merged"
                for r in n.get("rules", [])
            )
            or "nothing to change"
        )
        where = f"{n['source']}: " if several and n.get("source") else ""
        extra = ""
        if n.get("unreadable") and n.get("kind") in ("postcode", "date"):
            what = (
                "not shaped like a postcode" if n["kind"] == "postcode" else "not readable as dates"
            )
            extra = f"; {n['unreadable']:,} distinct values {what}, left as written"
        lines.append(
            f"normalised: {where}column {n['column']!r} ({n['kind'].replace('_', ' ')}): "
            f"{n['distinct_before']:,} -> {n['distinct_after']:,} distinct values ({rules}{extra})"
        )
    if unchanged:
        lines.append(
            f"normalised: {len(unchanged)} other column(s) needed no change "
            f"({_names(n['column'] for n in unchanged)})"
        )
    lines += [f["message"] for f in doc.get("findings", [])]
    for label, kind, what in (
        (
            "upper_bound",
            "upper bound",
            "figures measured on them are upper bounds of the "
            "risk (a lower bound of k): one value written in more than one way splits a class",
        ),
        (
            "lower_bound",
            "lower bound",
            "attribute disclosure of these sensitive columns may "
            "be understated: one value written in more than one way hides a homogeneous class",
        ),
    ):
        by_source: dict = {}
        for u in doc.get(label, []):
            by_source.setdefault(u.get("source", "") if several else "", []).append(u)
        for source, items in by_source.items():
            where = f"{source}: " if source else ""
            cols = "; ".join(f"{u['column']!r} ({_checks_text(u['checks'])})" for u in items)
            lines.append(f"{kind}: {where}{cols}: {what}")
    if (doc.get("upper_bound") or doc.get("lower_bound")) and not doc.get("normalised"):
        lines.append(
            "--normalise (rc.normalise) unifies the spellings its rules know before measuring; it is "
            "recorded in the provenance and the file is not changed"
        )
    return lines


def markdown_quality(prov: dict | None) -> str:
    """The data-quality block of a provenance as a Markdown section (empty without one)."""
    lines = quality_lines((prov or {}).get("data_quality"))
    if not lines:
        return ""
    return "## Data quality\n\n" + "".join(f"- {escape_markdown(line)}\n" for line in lines) + "\n"


def latex_quality(prov: dict | None) -> str:
    """The data-quality block as visible LaTeX text before a table (empty without one)."""
    lines = quality_lines((prov or {}).get("data_quality"))
    if not lines:
        return ""
    return (
        "\\noindent\\textbf{Data quality.} "
        + " ".join(
            escape_latex(line) + "." if not line.endswith(".") else escape_latex(line)
            for line in lines
        )
        + "\\par\n"
    )


def text_quality(prov: dict | None) -> str:
    """The data-quality block as plain text lines (empty without one)."""
    lines = quality_lines((prov or {}).get("data_quality"))
    return "".join(f"data quality: {line}\n" for line in lines)


# --------------------------------------------------------------------------------------------
# Result objects in Jupyter, and per-record outputs in the user's kind of frame
# --------------------------------------------------------------------------------------------

#: The attributes naming the columns a result is about, in the order they are looked for.
_COLUMN_ATTRIBUTES = ("quasi_identifiers", "columns", "fields")
_OPEN, _CLOSE = "([{", ")]}"


def _top_level_split(text: str, separators: tuple[str, ...]) -> list[str]:
    """``text`` cut at each separator outside brackets and quotes."""
    parts, depth, quote, start, i = [], 0, "", 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(depth - 1, 0)
        elif depth == 0:
            sep = next((s for s in separators if text.startswith(s, i)), None)
            if sep is not None:
                parts.append(text[start:i])
                i += len(sep)
                start = i
                continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def headline_rows(text: str) -> tuple[str, list[tuple[str, str]]]:
    """``(name, [(figure, value), ...])`` read off a result's repr ``Name(a=1, b: 2; c)``.

    The repr is the one place a result states its headline figures (and the one reviewed for
    disclosure: counts and shares, never a value of the data), so the HTML display shows
    exactly those. A part with neither ``=`` nor ``:`` continues the row before it.
    """
    match = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\((.*)\)\s*", text, flags=re.S)
    if match is None:
        return "", [("", text)]
    rows: list[tuple[str, str]] = []
    labelled = False
    for part in _top_level_split(match.group(2), (", ", "; ")):
        key, sep, value = part.partition("=")
        colon = False
        if not (sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ ]*", key.strip())):
            pieces = _top_level_split(part, (": ",))
            colon = len(pieces) > 1
            key, value = (pieces[0], part[len(pieces[0]) + 2 :]) if colon else ("", part)
        if not key.strip() and rows and labelled:  # "prosecutor: at risk 5%, highest 1": one row
            rows[-1] = (rows[-1][0], f"{rows[-1][1]}, {value.strip()}")
            continue
        labelled = colon
        rows.append((key.strip(), value.strip()))
    return match.group(1), rows


def _measure_name(class_name: str) -> str:
    """``UniquenessResult`` -> ``uniqueness``; ``SizeHistogram`` -> ``size histogram``."""
    base = class_name[: -len("Result")] if class_name.endswith("Result") else class_name
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", base).lower()


def result_html(result) -> str:
    """The HTML table Jupyter shows for a result (:class:`Displayed`): a caption with the
    measure and the columns it is about, then the headline figures of its repr, one a row.
    Every text is escaped; nothing beyond the repr is shown."""
    name, rows = headline_rows(repr(result))
    caption = _measure_name(name or type(result).__name__)
    for attr in _COLUMN_ATTRIBUTES:
        cols = getattr(result, attr, None)
        if isinstance(cols, (tuple, list)) and cols and all(isinstance(c, str) for c in cols):
            caption += f" of {', '.join(cols)}"
            break
    body = "".join(
        f'<tr><th scope="row">{html.escape(k)}</th><td>{html.escape(v)}</td></tr>' for k, v in rows
    )
    return (
        f'<table class="riskcalc-result"><caption>{html.escape(caption)}</caption>'
        f"<thead><tr><th>figure</th><th>value</th></tr></thead><tbody>{body}</tbody></table>"
    )


class Displayed:
    """Mixin: a result shows as a table in Jupyter (``_repr_html_``), as pandas and polars
    objects do. No state (``__slots__ = ()``), so slotted dataclasses stay slotted."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        return result_html(self)


class MissingDependencyError(RiskCalcError, ImportError):
    """An optional library needed for an output is not installed."""


def _need(module: str, method: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(
            f"{method}() needs {module}, which is not installed: pip install {module}."
        ) from None


class RecordFrames(Displayed):
    """Mixin of the results that carry one row per record: the per-record table as pandas,
    polars or pyarrow, rows in the input's order.

    The per-record table is the result's ``records_frame()`` when it has one, else its
    ``to_frame()``. A pandas frame keeps the input's index; polars and Arrow have no index, so
    a non-default one (the labels of a pandas input) comes first as a column (named after the
    index, else ``index``), as ``pyarrow.Table.from_pandas`` keeps it. polars and pyarrow are
    imported when asked for, with one line saying what to install if missing.
    """

    __slots__ = ()

    if TYPE_CHECKING:  # every result class defines it

        def to_frame(self) -> pd.DataFrame: ...

    def _records(self):
        method = getattr(self, "records_frame", None)
        return method() if callable(method) else self.to_frame()

    def to_pandas(self) -> pd.DataFrame:
        """One row per record (input order and index), as a pandas DataFrame."""
        return self._records()

    def _columns(self) -> dict:
        frame = self._records()
        out = {}
        index = frame.index
        default = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
        if not default:
            name = (
                index.name
                if index.name is not None and index.name not in frame.columns
                else "index"
            )
            out[str(name)] = index.to_numpy()
        for c in frame.columns:
            out[str(c)] = frame[c].to_numpy()
        return out

    def to_arrow(self) -> pa.Table:
        """One row per record (input order), as a ``pyarrow.Table`` (numbers not copied)."""
        pa = _need("pyarrow", "to_arrow")
        return pa.table(self._columns())

    def to_polars(self) -> pl.DataFrame:
        """One row per record (input order), as a ``polars.DataFrame``."""
        pl = _need("polars", "to_polars")
        return pl.DataFrame(self._columns())
