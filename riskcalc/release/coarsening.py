"""What-if coarsening: the tier figures after generalising fields along their ladders, and the
smallest coarsening that brings every scenario to a target k."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from .._core.encoding import encode
from .._render import Displayed
from .._validation import check_tiers
from ..exceptions import InvalidParameterError
from .ladders import WITHHELD, ladder_length, level_name
from .scenarios import Scenarios, load_scenarios
from .tables import RiskTable, tier_risk_table

__all__ = ["what_if", "smallest_coarsening", "CoarseningResult", "DEFAULT_COARSENING"]

DEFAULT_COARSENING = {
    "date_of_birth": "year_month_of_birth",
    "postcode": "postcode_sector",
    "urn": "la_code",
    "ethnic_group_minor": "ethnic_group_major",
    "lsoa": "home_la",
}


def _check_cohort(cohort, func: str) -> None:
    if not isinstance(cohort, pd.DataFrame):
        raise InvalidParameterError(
            f"The 'cohort' parameter of {func} must be a pandas DataFrame (a synthetic cohort, "
            f"or your own table with its fields). Got {type(cohort).__name__} instead."
        )


def what_if(
    cohort: pd.DataFrame,
    coarsening: dict[str, str] | None = None,
    *,
    scenarios: Scenarios = None,
    tiers: Sequence[int] = (1, 2, 4),
    before: RiskTable | None = None,
) -> pd.DataFrame:
    """Before/after table: each scenario's uniqueness and k on each tier, as released and after
    coarsening (default :data:`DEFAULT_COARSENING`).

    ``before`` may pass the table of the cohort as released, to save recomputing it. Columns:
    ``tier``, ``scenario``, ``unique_before``, ``unique_share_before``, ``k_before``,
    ``unique_after``, ``unique_share_after``, ``k_after``.

    Examples
    --------
    >>> import riskcalc as rc, synthetic
    >>> cohort = synthetic.generate_cohort(2_000, rng=0)
    >>> rc.what_if(cohort, tiers=(4,)).columns.tolist()
    ['tier', 'scenario', 'unique_before', 'unique_share_before', 'k_before', 'unique_after', 'unique_share_after', 'k_after']
    """
    _check_cohort(cohort, "what_if")
    tiers = check_tiers(
        tiers,
        "what_if",
        allowed=(1, 2, 4),
        why=" (tier 3 holds aggregate tables, not records to coarsen)",
    )
    coarsening = DEFAULT_COARSENING if coarsening is None else coarsening
    if not isinstance(coarsening, dict) or not coarsening:
        raise InvalidParameterError(
            "The 'coarsening' parameter of what_if must be a non-empty mapping of field to "
            f"ladder level (e.g. {{'postcode': 'district'}}). Got {type(coarsening).__name__} instead."
        )
    record_tiers = list(tiers)
    if before is None:
        before = tier_risk_table(cohort, tiers=record_tiers, scenarios=scenarios)
    after = tier_risk_table(
        cohort, tiers=record_tiers, scenarios=scenarios, coarsening=coarsening, attributes=False
    ).records
    keys = ["tier", "scenario"]
    merged = before.records[keys + ["n_unique", "unique_share", "k"]].merge(
        after[keys + ["n_unique", "unique_share", "k"]], on=keys, suffixes=("_before", "_after")
    )
    return merged.rename(
        columns={"n_unique_before": "unique_before", "n_unique_after": "unique_after"}
    )[
        [
            "tier",
            "scenario",
            "unique_before",
            "unique_share_before",
            "k_before",
            "unique_after",
            "unique_share_after",
            "k_after",
        ]
    ]


@dataclass(frozen=True)
class CoarseningResult(Displayed):
    """The smallest coarsening that brings every scenario to a target k.

    Attributes
    ----------
    target_k : int
    max_suppressed : float
        Share of records that may stay below ``target_k`` (to be suppressed).
    coarsening : dict
        ``{field: level name}`` for the fields coarsened (``"*"``: withheld).
    steps : int
        Total number of ladder steps taken.
    result : pandas.DataFrame
        Per scenario: ``scenario``, ``k_after``, ``below_target`` (records still below
        ``target_k``), ``below_target_share``, ``matched_on`` (what the intruder matches on in
        the coarsened release: fields and ladder levels, finest of each chain).
    """

    target_k: int
    max_suppressed: float
    coarsening: dict
    steps: int
    result: pd.DataFrame

    def describe(self, label: Callable[[str], str] = str) -> str:
        """The coarsening in words: each field released at a coarser level (``date_of_birth as
        year_of_birth``), then the fields withheld; ``label`` names a field for people.

        Examples
        --------
        >>> import pandas as pd
        >>> CoarseningResult(5, 0.01, {"date_of_birth": "year_of_birth", "sex": "*"}, 3, pd.DataFrame()).describe()
        'date_of_birth as year_of_birth; withheld: sex'
        """
        kept = [
            f"{label(f)} as {label(lvl)}" for f, lvl in self.coarsening.items() if lvl != WITHHELD
        ]
        withheld = [label(f) for f, lvl in self.coarsening.items() if lvl == WITHHELD]
        parts = [", ".join(kept)] if kept else []
        if withheld:
            parts.append("withheld: " + ", ".join(withheld))
        return "; ".join(parts) or "none"

    def __repr__(self) -> str:
        levels = self.describe()
        return (
            f"CoarseningResult(target_k={self.target_k}, max_suppressed={self.max_suppressed:g}, "
            f"steps={self.steps}, coarsening: {levels})"
        )


class _Information:
    """What a value tells, over the registry's fields and the levels of their ladders.

    The registry's dependency graph (:data:`synthetic.DETERMINES`) covers fields; a ladder level
    that is no field (``year_month_of_birth``, ``key_stage``) is added here: a field determines
    its first level, each level the next, and a level with ``same_as`` determines those fields
    (the year and month of birth). :meth:`closure` is everything a set of names determines;
    :meth:`values` computes one name's values from a cohort."""

    def __init__(self):
        from synthetic import DETERMINES, FIELDS

        graph = {name: set(targets) for name, targets in DETERMINES.items()}
        self.level_of: dict[str, tuple[str, int]] = {}  # level name -> (field, ladder index)
        for f in FIELDS:
            names = [f.name] + [r.column or r.name for r in f.ladder]
            for i, rung in enumerate(f.ladder):
                graph.setdefault(names[i], set()).add(names[i + 1])
                graph.setdefault(names[i + 1], set()).update(rung.same_as)
                if names[i + 1] not in DETERMINES:
                    self.level_of.setdefault(names[i + 1], (f.name, i + 1))
        self.graph = graph
        self._memo: dict[str, frozenset] = {}

    def of(self, name: str) -> frozenset:
        """Everything ``name`` determines, itself included (a column the registry does not know
        determines itself)."""
        if name not in self._memo:
            seen, queue = {name}, [name]
            while queue:
                for b in self.graph.get(queue.pop(), ()):
                    if b not in seen:
                        seen.add(b)
                        queue.append(b)
            self._memo[name] = frozenset(seen)
        return self._memo[name]

    def closure(self, names) -> frozenset:
        return frozenset().union(*(self.of(n) for n in names))

    def finest(self, names) -> tuple[str, ...]:
        """``names`` less those another one determines (of two that determine each other, the
        first in sorted order): the same classes, fewest columns."""
        names = sorted(names)
        return tuple(
            f
            for i, f in enumerate(names)
            if not any(
                f in self.of(g) and (g not in self.of(f) or j < i)
                for j, g in enumerate(names)
                if g != f
            )
        )

    def values(self, cohort: pd.DataFrame, name: str) -> pd.Series:
        if name in cohort.columns:
            return cohort[name]
        from synthetic import field as registry_field

        source, level = self.level_of[name]
        return registry_field(source).generalise(cohort, level)


def _released_as(field: str, level: int) -> str | None:
    """The information a field released at ``level`` carries: itself, a ladder level's name,
    or None (withheld)."""
    name = level_name(field, level)
    return None if name == WITHHELD else name


def smallest_coarsening(
    cohort: pd.DataFrame,
    target_k: int,
    *,
    max_suppressed: float = 0.01,
    scenarios: Scenarios = None,
) -> CoarseningResult:
    """The smallest coarsening (fewest ladder steps in total) under which every scenario leaves
    at most ``max_suppressed`` of the records in classes smaller than ``target_k``.

    Ladders come from the synthetic registry (date of birth -> year and month -> year;
    postcode -> sector -> district -> area; school -> LA -> region; ethnicity minor -> major...),
    each topped by withholding the field. The release holds every scenario field at its level.

    An intruder matches on everything it knows that the release tells: the closure of its
    fields under the registry's dependency graph (:func:`synthetic.closure`, with the ladder
    levels that are no field: a date of birth tells the year and month of birth, which tell
    the year) intersected with the closure of what the released columns hold. So a field is
    never both released and withheld in effect: with the date of birth released as the year of
    birth, the ``year_of_birth`` column adds nothing, and withholding it protects nothing; an
    intruder who knows the year and month of birth still matches on the date of birth released
    as year and month. A field the intruder knows but cannot see, whose usual stand-in the
    release holds (the school's LA for the home LA, :data:`synthetic.GUESSED_BY`), is counted as
    if the guess were always right: the search errs on the safe side.

    Every tier holds the same pupils, so a scenario's figures depend only on the levels of the
    fields that can tell it something: each distinct set of matched columns is measured once
    (one partition), and the combinations of levels are then searched from those figures.

    Parameters
    ----------
    cohort : pandas.DataFrame
        A synthetic cohort (every field present).
    target_k : int
    max_suppressed : float in [0, 1), default 0.01
        Share of records that may remain below ``target_k`` (they would be suppressed).
    scenarios : optional
        See :func:`load_scenarios`.

    Returns
    -------
    CoarseningResult

    Examples
    --------
    >>> import riskcalc as rc, synthetic
    >>> cohort = synthetic.generate_cohort(2_000, rng=0)
    >>> result = rc.smallest_coarsening(cohort, target_k=2)
    >>> result
    CoarseningResult(target_k=2, max_suppressed=0.01, steps=8, coarsening: date_of_birth as year_of_birth, postcode as postcode_sector; withheld: forename, month_of_birth, nc_year, sex)
    """
    from .._validation import check_fraction, check_int

    func = "smallest_coarsening"
    _check_cohort(cohort, func)
    n = len(cohort)
    target_k = check_int(target_k, "target_k", func, minimum=1)
    if target_k > n:
        raise InvalidParameterError(
            f"The 'target_k' parameter of {func} ({target_k:,}) is above the number of records "
            f"({n:,}): no coarsening makes a class larger than the whole table."
        )
    max_suppressed = check_fraction(max_suppressed, "max_suppressed", func)
    from synthetic import GUESSED_BY

    scenarios = [s for s in load_scenarios(scenarios) if s.applies_to(cohort.columns)]
    info = _Information()
    fields = sorted({f for s in scenarios for f in s.fields})
    lengths = {f: ladder_length(f) for f in fields}
    # what each field tells at each level: everything its released value determines
    tells = {
        f: [
            info.of(name) if (name := _released_as(f, lvl)) else frozenset()
            for lvl in range(lengths[f] + 1)
        ]
        for f in fields
    }
    # what each intruder knows: the closure of its fields, and the field that usually holds the
    # value of one it knows but cannot see (the school's LA for the home LA) as if always right,
    # so the search errs on the safe side
    knows = {}
    for s in scenarios:
        known = info.closure(s.fields)
        knows[s.name] = info.closure(known | {GUESSED_BY[g] for g in known if g in GUESSED_BY})
    # the fields whose level can change what an intruder matches on
    relevant = {s.name: [f for f in fields if tells[f][0] & knows[s.name]] for s in scenarios}
    budget = max_suppressed * n
    # every name an intruder could match on, encoded once; each match is a partition of it
    names = sorted(
        frozenset().union(*knows.values())
        & frozenset().union(*(t for f in fields for t in tells[f]))
    )
    enc = (
        encode(pd.DataFrame({m: info.values(cohort, m) for m in names}, index=cohort.index), names)
        if names
        else None
    )
    per_scenario: dict = {}
    per_match: dict = {}

    def figures(s, chosen) -> tuple[int, int, tuple[str, ...]]:
        """k, records below the target and the columns matched on, for scenario ``s`` when each
        field is released at ``chosen[field]``: the intruder matches on everything it knows
        that the release tells (both closures), computed from the cohort."""
        key = (s.name, tuple(chosen[f] for f in relevant[s.name]))
        if key not in per_scenario:
            told = frozenset().union(*(tells[f][chosen[f]] for f in relevant[s.name]))
            match = info.finest(knows[s.name] & told)
            if match not in per_match:
                if match:
                    hist = enc.partition(list(match), "category").size_histogram
                    per_match[match] = (hist.k, int(hist.records_below([target_k])[0]))
                else:  # nothing to match on: one class of everyone
                    per_match[match] = (n, 0 if target_k <= n else n)
            per_scenario[key] = (*per_match[match], match)
        return per_scenario[key]

    best = None
    for levels in sorted(
        itertools.product(*[range(lengths[f] + 1) for f in fields]), key=lambda v: (sum(v), v)
    ):
        chosen = dict(zip(fields, levels))
        if all(figures(s, chosen)[1] <= budget for s in scenarios):
            best = chosen
            break
    if best is None:  # pragma: no cover - withholding every field gives k = n >= target_k
        raise InvalidParameterError(f"No coarsening brings every scenario to k = {target_k}.")
    rows = []
    for s in scenarios:
        k, low, match = figures(s, best)
        rows.append(
            {
                "scenario": s.name,
                "k_after": k,
                "below_target": low,
                "below_target_share": low / n,
                "matched_on": match,
            }
        )
    named = {f: level_name(f, lvl) for f, lvl in best.items() if lvl}
    return CoarseningResult(
        target_k, float(max_suppressed), named, int(sum(best.values())), pd.DataFrame(rows)
    )
