"""Sphinx configuration of riskcalc's documentation site.

Build (as CI does, warnings as errors)::

    python -m sphinx -W --keep-going -n -b html docs docs/_build/html

The API reference is written at build time from the package docstrings
(:func:`write_api_pages`): every name in ``riskcalc.__all__`` and ``synthetic.__all__`` is
listed under the section of the package docstring that names it, so a new public name is in
the reference, and numpydoc's validation (EX01) fails the build when it has no Examples.
Nothing is executed at build time beyond importing the packages (no notebooks, no plots).
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

from numpydoc.docscrape import NumpyDocString

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # document this checkout, not an installed copy

import riskcalc  # noqa: E402
import synthetic  # noqa: E402

project = "riskcalc"
author = "riskcalc developers"
copyright = "riskcalc developers (MIT licence)"
release = riskcalc.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinxarg.ext",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]
templates_path = ["_templates"]

# Markdown pages (MyST): $...$ maths, definition lists, heading anchors for links such as
# synthetic.md#the-panel-syntheticgenerate_panel
myst_enable_extensions = ["dollarmath", "deflist", "colon_fence"]
myst_heading_anchors = 4

# API pages
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# EX01: a public function or class without an Examples section fails the build. Methods and
# properties of the result classes are exempt (their class's Example shows them in use).
numpydoc_validation_checks = {"EX01"}
# Constants (``FULL_POPULATION``, ``FIELDS``) are described, not called: exempt too.
numpydoc_validation_exclude = {r"\.[A-Z][A-Za-z0-9]*\.[A-Za-z_]\w*$"} | {
    rf"^{package.__name__}\.{name}$"
    for package in (riskcalc, synthetic)
    for name in package.__all__
    if not callable(getattr(package, name))
}

# -n checks every cross-reference of the pages and of the public names' docstrings. Left out:
# names the docstrings give relative to their own module (``:data:`RULES```,
# ``:meth:`PendingCohort.result```: module helpers and constants the site does not document),
# modules' private paths, and other projects' objects (no intersphinx: the build is offline).
nitpick_ignore_regex = [
    (r"py:.*", r"~?[A-Za-z_]\w*"),
    (r"py:.*", r"~?[A-Z]\w*\.\w+"),
    (
        r"py:.*",
        r"~?(riskcalc|synthetic)\.(_\w+|exceptions|release|schema|cohort|panel|io|tiers)\..*",
    ),
    (r"py:.*", r"~?riskcalc\.(model_risk|suda|uniqueness|linkage_attack)\.\w+"),
    (r"py:.*", r"~?(enum|typing|collections|scipy|numpy|pandas|pyarrow|polars|duckdb|pyspark)\..*"),
]

html_theme = "pydata_sphinx_theme"
html_title = f"riskcalc {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path: list[str] = []
html_show_sourcelink = False


# --------------------------------------------------------------------------------------------
# The API reference, from the package docstrings
# --------------------------------------------------------------------------------------------


def docstring_sections(package) -> list[tuple[str, list[str]]]:
    """The ``Title`` / ``-----`` sections of a package docstring and the public names each
    lists, in order: the names before a line's description, and names in double backticks.
    A name goes to the first section that mentions it."""
    public = set(package.__all__)
    lines = (package.__doc__ or "").splitlines()
    sections: list[tuple[str, list[str]]] = []
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1]) and line.strip():
            sections.append((line.strip(), []))
            continue
        if not sections or re.fullmatch(r"-{3,}", line) or not line.strip():
            continue
        found = re.findall(r"``(\w+)", line)
        if not line[0].isspace():
            head = re.split(r"\s{2,}", line, maxsplit=1)[0]
            found = [piece.split()[0] for piece in head.split(",") if piece.split()] + found
        else:  # a continuation: comma-separated lists of names ("zayatz, pitman, snb")
            for names in re.findall(r"\b\w+(?:, \w+)+\b", line):
                found += [n.strip() for n in names.split(",")]
        for name in found:
            if name in public and name not in seen:
                seen.add(name)
                sections[-1][1].append(name)
    return sections


def _returned_by(package, name: str, listed: dict[str, str]) -> str | None:
    """The section of the listed function whose return annotation names the class ``name``."""
    for other, section in listed.items():
        obj = getattr(package, other)
        if callable(obj) and not isinstance(obj, type):
            annotation = inspect.signature(obj).return_annotation
            if isinstance(annotation, str) and re.search(rf"\b{name}\b", annotation):
                return section
            if annotation is getattr(package, name):
                return section
            returns = NumpyDocString(inspect.getdoc(obj) or "")["Returns"]
            if any(re.search(rf"\b{name}\b", item.type) for item in returns):
                return section
    for other, section in listed.items():  # a part of a listed class (ColumnProfile)
        obj = getattr(package, other)
        if isinstance(obj, type) and re.search(rf"\b{name}\b", inspect.getdoc(obj) or ""):
            return section
    return None


def api_page(package, title: str, intro: str) -> str:
    """reStructuredText of one package's reference: every public name once, by section."""
    sections = docstring_sections(package)
    listed = {name: title_ for title_, names in sections for name in names}
    extra: dict[str, list[str]] = {}
    for name in package.__all__:
        if name in listed or name.startswith("__"):
            continue
        obj = getattr(package, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            extra.setdefault("Errors", []).append(name)
            continue
        home = _returned_by(package, name, listed) if isinstance(obj, type) else None
        if home is not None:
            dict(sections)[home].append(name)
            listed[name] = home
        else:
            extra.setdefault("Other public names", []).append(name)
    sections += list(extra.items())
    out = [title, "=" * len(title), "", f".. module:: {package.__name__}", "", intro, ""]
    for section, names in sections:
        if not names:
            continue
        callables = [n for n in names if callable(getattr(package, n))]
        data = [n for n in names if n not in callables]
        out += [section, "-" * len(section), ""]
        if callables:
            out += [".. autosummary::", "   :toctree: generated/", ""]
            out += [f"   {name}" for name in callables] + [""]
        for name in data:
            out += [f".. autodata:: {name}", "   :no-value:", ""]
    return "\n".join(out) + "\n"


def write_api_pages() -> None:
    """Write ``reference/riskcalc.rst`` and ``reference/synthetic.rst`` (git-ignored) when
    their text changed, before Sphinx reads the sources."""
    pages = {
        "riskcalc": api_page(
            riskcalc,
            "riskcalc: the measures",
            "Every name in ``riskcalc.__all__``, grouped as the package docstring groups them; "
            "each result class sits with the function that returns it. Import as "
            "``import riskcalc as rc``.",
        ),
        "synthetic": api_page(
            synthetic,
            "synthetic: the cohort generator",
            "Every name in ``synthetic.__all__``, grouped as the package docstring groups "
            "them. The generator's data sources and what it models: :doc:`../synthetic`.",
        ),
    }
    for name, text in pages.items():
        path = DOCS / "reference" / f"{name}.rst"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


# Written when this file is read, before Sphinx lists the source files and autosummary generates
# the pages the reference lists.
write_api_pages()
