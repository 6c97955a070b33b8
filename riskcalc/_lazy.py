"""Modules imported on first use.

``scipy.special``, ``scipy.optimize``, ``scipy.linalg`` and ``scipy.sparse`` take about 0.8 s
to import, and the main job (``riskcalc tiers``) and most measures never call them: the
population estimators, individual and model risk and the tier 3 audit's solver do. Their modules hold a :func:`lazy_module`
proxy instead of the module, which imports it (through :func:`importlib.import_module`, under
the import lock, so threads are safe) the first time one of its attributes is read. This is
the pattern of scientific Python's ``lazy_loader``, written out here to avoid a dependency.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["lazy_module"]


class _LazyModule:
    __slots__ = ("_module", "_name")

    def __init__(self, name: str):
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str):
        module = self._module
        if module is None:
            module = importlib.import_module(self._name)
            self._module = module
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy_module(name: str) -> _LazyModule:
    """A stand-in for the module ``name`` that imports it when an attribute is first read."""
    return _LazyModule(name)
