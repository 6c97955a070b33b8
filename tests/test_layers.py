"""The layers of the tree and the direction of their imports.

* engine (``riskcalc/_core``): imports no measure, no release code, no CLI, no ``synthetic``;
* measures (the flat modules of ``riskcalc``): import the engine and the shared helpers, never
  the release layer, the CLI or ``synthetic``;
* release (``riskcalc/release``): the only riskcalc code that imports ``synthetic``; never the CLI;
* CLI (``riskcalc/_cli/``, and ``riskcalc/__main__.py``): parses, calls and prints; the only
  code that imports argparse, and imported by no library module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "riskcalc"
SHARED = {
    "riskcalc._validation",
    "riskcalc.exceptions",
    "riskcalc._version",
    "riskcalc._format",
    "riskcalc._provenance",
    "riskcalc._gitcommit",
    "riskcalc._commit",
    "riskcalc._render",
    "riskcalc._outputs",
    "riskcalc._memory",
    "riskcalc._lazy",
    "riskcalc._compat",
    "riskcalc._typing",
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _import_nodes(path: Path):
    """``(module, names)`` for every import statement of a file, anywhere in it (lazy imports
    included), with relative imports made absolute; ``names`` is empty for ``import x``."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            yield mod, [a.name for a in node.names]


def _imports(path: Path) -> set[str]:
    """Absolute names of the modules a file imports (anywhere in it, lazy imports included)."""
    out = set()
    for mod, names in _import_nodes(path):
        out.add(mod)
        out |= {f"{mod}.{n}" for n in names}
    return out


def _layer(module: str) -> str:
    if module.startswith("riskcalc._core"):
        return "engine"
    if module.startswith("riskcalc.release"):
        return "release"
    if module == "riskcalc.__main__" or module.startswith("riskcalc._cli"):
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
    if layer == "engine" or layer == "shared":
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


def _import_edges(path: Path) -> set[str]:
    """The riskcalc modules a file imports, anywhere in it (module level, inside functions, under
    ``TYPE_CHECKING``): ``from pkg import sub`` is an edge to the module ``sub`` when it is one,
    else to ``pkg``; the parent packages Python loads on the way are not edges."""
    name = _module_name(path)
    out = set()
    for mod, names in _import_nodes(path):
        if not names:
            out.add(mod)
            continue
        subs = {f"{mod}.{n}" for n in names if _module_layer_exists(f"{mod}.{n}")}
        out |= subs
        if len(subs) < len(names):
            out.add(mod)
    return {m for m in out if m.startswith("riskcalc") and _module_layer_exists(m) and m != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    break
                if nxt in on:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        top = stack.pop()
                        on.discard(top)
                        comp.append(top)
                        if top == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    """No module imports (directly or through others, at module level or inside a function) a
    module that imports it back: each layer's modules form a tree of dependencies. The package
    ``riskcalc/__init__.py`` (which gathers the public names) is left out: it imports the
    measures by design, and a measure reaching it would be caught by the layer test above."""
    graph = {_module_name(p): _import_edges(p) for p in FILES}
    graph = {
        m: {t for t in targets if t != "riskcalc"}
        for m, targets in graph.items()
        if m != "riskcalc"
    }
    cycles = _cycles(graph)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


#: The modules outside the engine allowed to name a backend's module: the Spark job (its
#: one-line refusals before a session starts) and the provenance (a Spark table's fingerprint).
KNOWS_SPARK = {"riskcalc.release.spark_job", "riskcalc._provenance"}


@pytest.mark.parametrize(
    "path",
    [p for p in FILES if _layer(_module_name(p)) != "engine"],
    ids=lambda p: str(p.relative_to(PKG)),
)
def test_only_the_engine_knows_the_kinds_of_table(path):
    """Measures and the release layer ask the backend interface (riskcalc._core.backend); they
    never import a backend's module, nor test what kind of table they hold."""
    name = _module_name(path)
    backends = {
        m
        for m in _riskcalc_imports(path)
        if m.startswith(("riskcalc._core.spark", "riskcalc._core.memory"))
    }
    if name not in KNOWS_SPARK:
        assert not backends, (
            f"{name} imports {sorted(backends)}: ask riskcalc._core.backend instead"
        )
    assert "is_spark_frame" not in path.read_text(encoding="utf-8") or name in KNOWS_SPARK


SYNTHETIC = Path(__file__).resolve().parents[1] / "synthetic"


@pytest.mark.parametrize(
    "path",
    FILES + sorted(SYNTHETIC.rglob("*.py")),
    ids=lambda p: str(p.relative_to(PKG.parent)),
)
def test_only_the_cli_parses_command_lines(path):
    """argparse is imported by ``riskcalc/_cli/`` only: no library module (nor the generator)
    defines options of its own, so every command's options are in one place."""
    if path.is_relative_to(PKG) and _layer(_module_name(path)) == "cli":
        return
    assert "argparse" not in _imports(path), f"{path.name} imports argparse"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PKG)))
def test_nothing_in_the_library_imports_the_cli(path):
    """The command line sits on top: no library module imports ``riskcalc._cli``."""
    if _layer(_module_name(path)) == "cli":
        return
    assert not {m for m in _import_edges(path) if _layer(m) == "cli"}, path.name
