"""Every public callable of riskcalc and synthetic has a numpydoc Examples section.

The Examples themselves run as doctests (``--doctest-modules`` in pyproject.toml); the docs
build fails on a public object without one (numpydoc's EX01 in docs/conf.py). This test says
the same in the fast lane, without Sphinx.
"""

from __future__ import annotations

import inspect

import pytest
from numpydoc.docscrape import NumpyDocString

import riskcalc
import synthetic

PUBLIC = [
    (package.__name__, name)
    for package in (riskcalc, synthetic)
    for name in package.__all__
    if callable(getattr(package, name))
]


def test_the_public_api_is_there():
    assert len(PUBLIC) > 100
    assert ("riskcalc", "k_anonymity") in PUBLIC and ("synthetic", "generate_cohort") in PUBLIC


@pytest.mark.parametrize(("package", "name"), PUBLIC, ids=[f"{p}.{n}" for p, n in PUBLIC])
def test_every_public_callable_has_an_example(package, name):
    obj = getattr({"riskcalc": riskcalc, "synthetic": synthetic}[package], name)
    examples = NumpyDocString(inspect.getdoc(obj) or "")["Examples"]
    assert any(line.lstrip().startswith(">>> ") for line in examples), (
        f"{package}.{name} has no Examples section with a doctest (numpydoc; see CONTRIBUTING.md)"
    )


@pytest.mark.parametrize("page", ["index.md", "guide/researcher.md"])
def test_the_docs_pages_examples_run(page):
    """The worked examples of the documentation site (``>>>`` blocks in its Markdown pages)
    print what the pages say they print."""
    import doctest
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "docs" / page
    result = doctest.testfile(
        str(path),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
    )
    assert result.attempted > 0
    assert result.failed == 0
