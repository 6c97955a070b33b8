"""Intruder scenarios: named sets of quasi-identifiers a realistic intruder could know."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TypeAlias

from ..exceptions import DataFileError, InvalidParameterError

__all__ = ["Scenario", "DEFAULT_SCENARIOS", "load_scenarios"]


@dataclass(frozen=True, slots=True)
class Scenario:
    """An intruder scenario.

    Attributes
    ----------
    name : str
        Short identifier (``"neighbour"``).
    fields : tuple of str
        The columns the intruder knows.
    rationale : str
        One line saying who the intruder is and why they know these fields.

    Examples
    --------
    >>> import riskcalc as rc
    >>> gate = rc.Scenario("school_gate", ("urn", "nc_year", "sex"), "A parent at the school gate.")
    >>> gate.name, gate.fields
    ('school_gate', ('urn', 'nc_year', 'sex'))
    """

    name: str
    fields: tuple[str, ...]
    rationale: str = ""

    def applies_to(self, columns: Iterable[str]) -> bool:
        """Whether a table with ``columns`` holds every field of the scenario."""
        available = set(columns)
        return all(f in available for f in self.fields)


def _from_mapping(mapping: Mapping, source: str) -> tuple[Scenario, ...]:
    out = []
    for name, spec in mapping.items():
        if isinstance(spec, Scenario):
            out.append(spec)
            continue
        if isinstance(spec, (list, tuple)):
            spec = {"fields": spec}
        if not isinstance(spec, Mapping) or "fields" not in spec:
            raise InvalidParameterError(
                f"Scenario {name!r} in {source} must have a 'fields' list (and optionally a "
                f"'rationale'). Got {spec!r}."
            )
        fields = spec["fields"]
        if (
            isinstance(fields, str)
            or not fields
            or not all(isinstance(f, str) and f for f in fields)
        ):
            raise InvalidParameterError(
                f"Scenario {name!r} in {source}: 'fields' must be a non-empty list of column "
                f"names. Got {fields!r}."
            )
        if len(set(fields)) != len(fields):
            raise InvalidParameterError(
                f"Scenario {name!r} in {source} names a field twice: {fields!r}."
            )
        out.append(Scenario(str(name), tuple(fields), str(spec.get("rationale", ""))))
    if not out:
        raise InvalidParameterError(f"No scenarios in {source}.")
    return tuple(out)


def _toml_reason(exc) -> str:
    """The parser's reason and position, without quoting the file's text."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 120 else text[:117] + "..."


#: What :func:`load_scenarios` reads (``scenarios=`` of the tables): a TOML file, a mapping
#: ``{name: {"fields": [...], "rationale": "..."}}``, Scenario objects, or None (the defaults).
Scenarios: TypeAlias = "str | os.PathLike[str] | Mapping[str, object] | Sequence[Scenario] | None"


def load_scenarios(source: Scenarios = None) -> tuple[Scenario, ...]:
    """Scenarios from a TOML file, a mapping, or (``None``) the defaults.

    Parameters
    ----------
    source : str, path-like, mapping or None
        A TOML file with one table per scenario (``fields = [...]``, ``rationale = "..."``); a
        mapping ``{name: {"fields": [...], "rationale": "..."}}`` or ``{name: [fields]}``; or
        ``None`` for :data:`DEFAULT_SCENARIOS`.

    Returns
    -------
    tuple of Scenario

    Examples
    --------
    >>> import riskcalc as rc
    >>> [s.name for s in rc.load_scenarios()]  # the built-in intruders
    ['neighbour', 'classmate_parent', 'local_journalist', 'online_profile', 'school_gate', 'home_area']
    >>> rc.load_scenarios({"gate": {"fields": ["urn", "nc_year", "sex"], "rationale": "A parent at the school gate."}})
    (Scenario(name='gate', fields=('urn', 'nc_year', 'sex'), rationale='A parent at the school gate.'),)
    """
    if source is None:
        text = (resources.files("riskcalc") / "data" / "scenarios.toml").read_text(encoding="utf-8")
        return _from_mapping(tomllib.loads(text), "the default scenarios")
    if isinstance(source, Mapping):
        return _from_mapping(source, "the scenario mapping")
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise DataFileError(f"No such scenario file: {str(source)!r}.") from None
        except IsADirectoryError:
            raise DataFileError(f"The scenario file {str(source)!r} is a folder.") from None
        except UnicodeDecodeError:
            raise DataFileError(
                f"Cannot read the scenario file {str(source)!r}: it is not UTF-8 text. Re-save it as UTF-8."
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise DataFileError(
                f"Cannot read the scenario file {str(source)!r}: not valid TOML ({_toml_reason(exc)})."
            ) from None
        except OSError as exc:
            raise DataFileError(
                f"Cannot read the scenario file {str(source)!r}: {exc.strerror or type(exc).__name__}."
            ) from None
        return _from_mapping(data, repr(str(source)))
    if isinstance(source, (list, tuple)) and all(isinstance(s, Scenario) for s in source):
        return tuple(source)
    raise InvalidParameterError(
        "The 'scenarios' parameter must be a TOML path, a mapping, a sequence of Scenario or None. "
        f"Got {type(source).__name__} instead."
    )


DEFAULT_SCENARIOS = load_scenarios()
