"""Pin every runtime dependency of pyproject.toml to its declared lower bound.

Prints pip constraints, one ``name==version`` a line, from the ``>=`` bound of each requirement in
``[project].dependencies`` (and of the optional-dependency groups named on the command line), so
that ``pip install -c constraints.txt .`` installs exactly the oldest versions the project
declares it supports. A requirement without a ``>=`` bound is an error: an unbounded dependency
cannot be tested at its oldest.

Usage: python .ci/lower_bounds.py [pyproject.toml] [--extra NAME ...] > constraints.txt
"""

from __future__ import annotations

import re
import sys
import tomllib

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*?)\s*(;.*)?$")
_LOWER = re.compile(r"^>=\s*([0-9][0-9A-Za-z.+!-]*)$")


def lower_bound(requirement: str) -> tuple[str, str]:
    """``(name, version)`` of one requirement's ``>=`` bound; ``ValueError`` when it has none.

    >>> lower_bound("numpy>=1.23.5")
    ('numpy', '1.23.5')
    >>> lower_bound("pandas >=1.5.3, <3")
    ('pandas', '1.5.3')
    """
    match = _REQUIREMENT.match(requirement)
    if not match:
        raise ValueError(f"cannot read the requirement {requirement!r}")
    name, _extras, spec, _marker = match.groups()
    bounds = [_LOWER.match(part.strip()) for part in spec.split(",") if part.strip()]
    found = [b.group(1) for b in bounds if b is not None]
    if len(found) != 1:
        raise ValueError(f"the requirement {requirement!r} has no single '>=' lower bound")
    return name.lower().replace("_", "-"), found[0]


def constraints(pyproject_text: str, extras: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The ``name==version`` lines for the dependencies and the named extras, sorted by name."""
    project = tomllib.loads(pyproject_text)["project"]
    requirements = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise ValueError(f"pyproject.toml has no optional-dependency group {extra!r}")
        requirements += optional[extra]
    pins: dict[str, str] = {}
    for requirement in requirements:
        name, version = lower_bound(requirement)
        if pins.get(name, version) != version:
            raise ValueError(f"{name} has two lower bounds: {pins[name]} and {version}")
        pins[name] = version
    return [f"{name}=={pins[name]}" for name in sorted(pins)]


def main(argv: list[str]) -> int:
    path, extras, rest = "pyproject.toml", [], list(argv)
    while rest:
        arg = rest.pop(0)
        if arg == "--extra" and rest:
            extras.append(rest.pop(0))
        else:
            path = arg
    try:
        with open(path, encoding="utf-8") as fh:
            lines = constraints(fh.read(), extras)
    except (OSError, ValueError, KeyError, tomllib.TOMLDecodeError) as exc:
        print(f"lower_bounds: {path}: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
