"""The layers of the tree and the direction of their imports.

* engine (``riskcalc/_core``): imports no measure, no release code, no CLI, no ``synthetic``;
* measures (the flat modules of ``riskcalc``): import the engine and the shared helpers, never
  the release layer, the CLI or ``synthetic``;
* release (``riskcalc/release``): the only riskcalc code that imports ``synthetic``; never the CLI;
* CLI (``riskcalc/cli.py``, ``riskcalc/_cli_*.py``): parses, calls and prints.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "riskcalc"
SHARED = {"riskcalc._validation", "riskcalc.exceptions", "riskcalc._version", "riskcalc._format",
          "riskcalc._provenance", "riskcalc._render", "riskcalc._outputs", "riskcalc._memory", "riskcalc._lazy",
          "riskcalc._compat"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of the modules a file imports (anywhere in it, lazy imports included)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out |= {f"{mod}.{a.name}" for a in node.names}
    return out


def _layer(module: str) -> str:
    if module.startswith("riskcalc._core"):
        return "engine"
    if module.startswith("riskcalc.release"):
        return "release"
    if module in ("riskcalc.cli", "riskcalc.__main__") or module.startswith("riskcalc._cli"):
        return "cli"
    if module == "riskcalc":
        return "package"
    if module in SHARED:
        return "shared"
    return "measure"


FILES = sorted(PKG.rglob("*.py"))


def _riskcalc_imports(path):
    return {m for m in _imports(path) if m.startswith("riskcalc.")}


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PKG)))
def test_import_direction(path):
    layer = _layer(_module_name(path))
    imported = _imports(path)
    targets = {_layer(m) for m in _riskcalc_imports(path) if _module_layer_exists(m)}
    uses_synthetic = any(m == "synthetic" or m.startswith("synthetic.") for m in imported)
    if layer == "engine":
        assert targets <= {"engine", "shared"}, targets
    elif layer == "shared":
        assert targets <= {"engine", "shared"}, targets
    elif layer == "measure":
        assert targets <= {"engine", "shared", "measure"}, targets
    elif layer == "release":
        assert "cli" not in targets
    if layer != "release":
        assert not uses_synthetic, f"{path.name}: only riskcalc.release imports synthetic"


def _module_layer_exists(name: str) -> bool:
    """Whether ``name`` is a riskcalc module (not a name imported from one)."""
    parts = name.split(".")
    path = PKG.parent.joinpath(*parts)
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def test_the_engine_is_a_package_of_its_own():
    assert (PKG / "_core" / "__init__.py").exists() and (PKG / "release" / "__init__.py").exists()
