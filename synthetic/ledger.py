"""A synthetic NPD release ledger: the DfE third-party register's releases, one row each.

The ledger reproduces the published tallies of the register EXACTLY (defenddigitalme's count of
the DfE third-party release register, ``shared/npd-spec.md`` section 1.1) [V]:

==========================  ======  ======  ======  ======  ============  =====
Period                      Tier 1  Tier 2  Tier 3  Tier 4  Unclassified  Total
==========================  ======  ======  ======  ======  ============  =====
April 2012 - December 2014     163     177      11      53            60    466 (*)
March 2012 - December 2016     334     368      29      84            72    887
==========================  ======  ======  ======  ======  ============  =====

(*) The published tiers of April 2012 - December 2014 sum to 464, not to the published total of
466 (the 2012-2016 tiers do sum to 887). A ledger cannot hold both; it keeps every tier count
exact, so the 2012-2014 ledger has **464** releases, and the 2 releases the source's total
counts without a tier are absent [V: the inconsistency is the source's; U: which figure is
right]. :data:`PUBLISHED_TOTALS` keeps the published totals.

Everything else is an assumption [U], chosen to give realistic shapes, and named here:

* **Periods.** The "2012-2016" ledger is generated first; the "2012-2014" ledger is its rows
  dated 1 April 2012 - 31 December 2014, unchanged (same ids, recipients, fields). So with one
  seed both tallies hold at once, and the 2012-2014 ledger is the 2012-2016 one's prefix by date
  once its March 2012 releases are set aside (the 2012-2014 tally starts in April). The 423
  releases outside April 2012 - December 2014 are split into 14 dated March 2012 (the average
  monthly rate of 2012-2014, 466 / 33 months, rounded) and 409 dated 2015-2016; the tiers of the
  14 are a random draw without replacement from the 423's tier counts. Dates are uniform days
  within each block [U].
* **Recipients** arrive as a Pitman-Yor (two-parameter Chinese restaurant) process over the
  releases in date order, discount ``d = 0.5``, concentration ``theta = 25``: each release goes to
  a new recipient with probability ``(theta + d K) / (n + theta)`` (``K`` recipients after ``n``
  releases), otherwise to an earlier recipient ``k`` with probability ``(c_k - d) / (n + theta)``
  (``c_k`` its releases so far). The number of releases per recipient then has a power-law tail
  (``P(c) ~ c^(-1 - d)``): most recipients receive one release, a few receive tens (the shape
  expected of regular research users beside one-off requesters; the register itself was not
  read). No published count of distinct recipients was found; the parameters are an
  assumption [U] giving roughly 220-290 recipients for 887 releases (seeds 0-4: 224-286). The
  tests check the heavy tail: over a third of the recipients receive exactly one release, the
  busiest several per cent of all releases, the top 5 % of recipients over a quarter.
* **Recipient type** of a new recipient: university 0.40, think tank 0.10, charity 0.12,
  consultancy 0.12, commercial 0.10, newspaper 0.04, public body 0.10, other 0.02 [U]
  (defenddigitalme lists all these kinds among recipients [V]; the shares are not published).
  A recipient's name is its type and a number in order of first release (``university-007``).
* **Tier, fields and reference.** A release's fields are one of a few templates per tier, from
  the tier items of ``npd-spec.md`` section 1.4 as the field registry (:mod:`synthetic.schema`)
  operationalises them, uniform among the tier's templates [U]; field names are in registry
  order; ``pupil_id`` is never listed (the ``reference`` column says whether a release carries a
  pupil reference). Tier 1 carries the PMR (``reference="pmr"``, persistent across every
  release), tiers 2 and 4 an anonymised PMR (``"apmr"``, persistent within one recipient)
  [V: npd-spec 1.2 lists PMR under tier 1 and aPMR under tier 2]. Tier 2's "telegraph" template is
  the Daily Telegraph's 2013 tier 2 release (SEN status, FSM, language, ethnicity) [V].
  **Tier 3 releases are aggregate tables** (no pupil records): ``population="aggregate"``,
  ``reference="none"``, and ``fields`` the table's dimensions (school or LA, year group, sex, one
  characteristic); a measure of record-level exposure skips them by ``population``.
  Unclassified releases (``tier`` <NA>) take the shape of a tier drawn from the classified
  tallies of their period (the register did not record it), keeping that tier's reference.
* **Shapes** of record-level releases: a cohort followed to KS4 (3-6 consecutive years ending in
  Year 11, ``year_groups`` the years it was in) 0.35; one census year for all pupils 0.30; the
  pupils of one to three LAs over one to five years (``population="las:<code>,..."``) 0.15; a
  sample of 1, 2, 5 or 10 per cent over one to three years (``population="sample:<fraction>"``)
  0.20 [U]. ``years`` are academic years named by the calendar year they start in (2013 is
  2013/14, as :func:`synthetic.generate_panel`'s ``academic_year``); a release's latest year is the
  last academic year complete before it (the one that ended in the summer before a release from
  July on, the one before that otherwise) [U].

Each quantity draws from its own stream (:mod:`synthetic._rng`): the same seed gives the same
ledger, and changing how one quantity is drawn leaves the others' draws alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._data import local_authorities
from ._rng import root_entropy, stream
from .exceptions import SyntheticError
from .schema import FIELD_NAMES, FIELDS
from .tiers import TIER3_CHARACTERISTICS

__all__ = [
    "generate_ledger",
    "LEDGER_COLUMNS",
    "PERIODS",
    "TALLIES",
    "PUBLISHED_TOTALS",
    "RECIPIENT_TYPES",
    "REFERENCES",
    "FIELD_TEMPLATES",
]

#: The columns of a ledger frame, in order.
LEDGER_COLUMNS: tuple[str, ...] = (
    "release_id",
    "date",
    "recipient",
    "recipient_type",
    "tier",
    "fields",
    "years",
    "year_groups",
    "population",
    "reference",
)
#: Recipient kinds, in the order of the ledger's documentation.
RECIPIENT_TYPES: tuple[str, ...] = (
    "university",
    "think_tank",
    "charity",
    "consultancy",
    "commercial",
    "newspaper",
    "public_body",
    "other",
)
#: Kinds of pupil reference a release carries.
REFERENCES: tuple[str, ...] = ("pmr", "apmr", "none")
#: Period -> (first day, last day) of the published tally.
PERIODS: dict[str, tuple[str, str]] = {
    "2012-2014": ("2012-04-01", "2014-12-31"),
    "2012-2016": ("2012-03-01", "2016-12-31"),
}
#: Period -> releases by tier 1, 2, 3, 4 and unclassified [V] (npd-spec 1.1, defenddigitalme).
TALLIES: dict[str, tuple[int, int, int, int, int]] = {
    "2012-2014": (163, 177, 11, 53, 60),
    "2012-2016": (334, 368, 29, 84, 72),
}

#: Period -> the published total (2012-2014: 466, two more than its tiers' sum, 464).
PUBLISHED_TOTALS: dict[str, int] = {"2012-2014": 466, "2012-2016": 887}

_TYPE_SHARES = (0.40, 0.10, 0.12, 0.12, 0.10, 0.04, 0.10, 0.02)
_PY_DISCOUNT = 0.5
_PY_CONCENTRATION = 25.0
_MARCH_2012 = 14  # round(466 / 33): the 2012-2014 monthly rate
_SHAPES = ("cohort", "census", "las", "sample")
_SHAPE_SHARES = (0.35, 0.30, 0.15, 0.20)
_SAMPLE_FRACTIONS = (0.01, 0.02, 0.05, 0.1)


def _in_order(names: set[str]) -> tuple[str, ...]:
    return tuple(n for n in FIELD_NAMES if n in names)


def _templates() -> dict[int, dict[str, tuple[str, ...]]]:
    by_tier = {t: {f.name for f in FIELDS if f.tier == t} for t in (1, 2, 4)}
    tier4 = by_tier[4] - {"pupil_id"}
    tier2 = tier4 | by_tier[2]
    return {
        4: {
            "school": _in_order(tier4),
            "la": _in_order({"sex", "year_of_birth", "nc_year", "la_code", "region", "phase"}),
        },
        2: {
            "telegraph": _in_order(
                tier4 | {"ethnic_group_major", "language_group", "fsm_eligible", "sen_provision"}
            ),
            "area": _in_order(
                tier4
                | {"lsoa", "home_la", "home_region", "idaci_decile", "fsm_eligible", "ever_fsm_6"}
            ),
            "full": _in_order(tier2),
        },
        1: {
            "full": _in_order(tier2 | by_tier[1]),
            "address": _in_order(tier2 | {"postcode", "date_of_birth"}),
            "linkage": _in_order(
                tier2 | {"upn", "forename", "surname", "date_of_birth", "postcode"}
            ),
            "needs": _in_order(
                tier2
                | {
                    "ethnicity_extended",
                    "first_language",
                    "primary_sen_type",
                    "looked_after",
                    "service_child",
                    "disability",
                    "suspensions",
                    "permanent_exclusion",
                    "exclusion_reason",
                }
            ),
        },
        3: {
            f"{by}_x_{c}": _in_order({by, "nc_year", "sex", c})
            for by in ("urn", "la_code")
            for c in TIER3_CHARACTERISTICS
        },
    }


#: Tier -> template name -> field names (registry order) of a release of that tier.
FIELD_TEMPLATES: dict[int, dict[str, tuple[str, ...]]] = _templates()
_REFERENCE_OF_TIER = {1: "pmr", 2: "apmr", 3: "none", 4: "apmr"}


def _check_period(period: object) -> str:
    if not isinstance(period, str) or period not in PERIODS:
        raise SyntheticError(
            f"The 'period' parameter of generate_ledger must be one of {list(PERIODS)}. "
            f"Got {period!r} instead."
        )
    return period


def _block_tiers(counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Tier codes (1-4, 0 = unclassified) with exactly ``counts`` of each, shuffled."""
    codes = np.repeat(np.array([1, 2, 3, 4, 0]), counts)
    return rng.permutation(codes)


def _days(first: str, last: str, n: int, rng: np.random.Generator) -> np.ndarray:
    lo = np.datetime64(first, "D")
    span = int((np.datetime64(last, "D") - lo).astype(int)) + 1
    return np.sort(lo + rng.integers(0, span, size=n))


def _recipients(n: int, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """Pitman-Yor seating of ``n`` releases in date order: each release's recipient and type."""
    d, theta = _PY_DISCOUNT, _PY_CONCENTRATION
    u = rng.random(n)
    type_draw = rng.choice(len(RECIPIENT_TYPES), size=n, p=_TYPE_SHARES)
    counts: list[int] = []
    names: list[str] = []
    types: list[int] = []
    per_type = [0] * len(RECIPIENT_TYPES)
    seat = np.empty(n, dtype=np.int64)
    for i in range(n):  # 887 releases: sequential by nature (each seat depends on the last)
        k = len(counts)
        p_new = (theta + d * k) / (i + theta)
        if u[i] < p_new:
            t = int(type_draw[i])
            per_type[t] += 1
            names.append(f"{RECIPIENT_TYPES[t]}-{per_type[t]:03d}")
            types.append(t)
            counts.append(1)
            seat[i] = k
        else:
            w = np.asarray(counts, dtype=float) - d
            cum = np.cumsum(w)
            r = (u[i] - p_new) / (1.0 - p_new) * cum[-1]
            j = min(int(np.searchsorted(cum, r, side="right")), k - 1)
            counts[j] += 1
            seat[i] = j
    return [names[j] for j in seat], [RECIPIENT_TYPES[types[j]] for j in seat]


def _last_complete_year(day: np.datetime64) -> int:
    year = int(str(day)[:4])
    month = int(str(day)[5:7])
    return year - 1 if month >= 7 else year - 2


def _shape(
    day: np.datetime64, rng: np.random.Generator, la_codes: tuple[str, ...]
) -> tuple[tuple[int, ...], tuple[int, ...], str]:
    """``(years, year_groups, population)`` of one record-level release."""
    last = _last_complete_year(day)
    kind = _SHAPES[int(rng.choice(len(_SHAPES), p=_SHAPE_SHARES))]
    if kind == "cohort":
        n = int(rng.integers(3, 7))
        end = last - int(rng.integers(0, 4))
        return (
            tuple(range(end - n + 1, end + 1)),
            tuple(range(12 - n, 12)),
            "all",
        )
    if kind == "census":
        return (last - int(rng.integers(0, 5)),), (), "all"
    if kind == "las":
        n_years = int(rng.integers(1, 6))
        end = last - int(rng.integers(0, 3))
        picked = rng.choice(len(la_codes), size=int(rng.integers(1, 4)), replace=False)
        codes = ",".join(sorted(la_codes[int(i)] for i in picked))
        return tuple(range(end - n_years + 1, end + 1)), (), f"las:{codes}"
    n_years = int(rng.integers(1, 4))
    end = last - int(rng.integers(0, 3))
    fraction = _SAMPLE_FRACTIONS[int(rng.integers(0, len(_SAMPLE_FRACTIONS)))]
    return tuple(range(end - n_years + 1, end + 1)), (), f"sample:{fraction:g}"


def generate_ledger(
    rng: int | np.random.Generator | None = 0, period: str = "2012-2016"
) -> pd.DataFrame:
    """A synthetic NPD release ledger reproducing the DfE third-party register's published tallies.

    One row per release, with exactly the published number of releases per tier in the period
    (defenddigitalme's tally of the DfE register, ``npd-spec.md`` 1.1): from April 2012 to
    December 2014 tier 1 163, tier 2 177, tier 3 11, tier 4 53, unclassified 60 (464 releases:
    the published total, 466, exceeds the sum of its tiers by 2, which the ledger cannot
    place), and from March 2012 to December 2016 334, 368, 29, 84, 72 (887). With one seed, the "2012-2014" ledger is
    the rows of the "2012-2016" one dated April 2012 - December 2014, so both tallies hold at
    once. Recipients repeat with a heavy tail (a Pitman-Yor process, discount 0.5: the number of
    releases per recipient has a tail ``P(c) ~ c^-1.5``); fields follow the tier item lists; the
    shapes are a cohort followed to KS4, one census year, some LAs' pupils, or a sample. Every
    assumption and its source: the module docstring of ``synthetic.ledger`` and
    ``docs/synthetic.md`` ("The release ledger").

    Parameters
    ----------
    rng : int, numpy.random.Generator or None, default 0
        Seed (SPEC 7). The same int gives the same ledger.
    period : {"2012-2016", "2012-2014"}, default "2012-2016"
        The published tally to reproduce.

    Returns
    -------
    pandas.DataFrame
        Columns ``release_id`` (``R0001``... in date order over 2012-2016), ``date``
        (datetime64, midnight), ``recipient``, ``recipient_type`` (one of
        :data:`RECIPIENT_TYPES`), ``tier`` (Int64 1-4, <NA> unclassified), ``fields`` (tuple of
        registry names), ``years`` (tuple of academic years by their start year), ``year_groups``
        (tuple of NC years, empty for all), ``population`` (``"all"``, ``"sample:<fraction>"``,
        ``"las:<code>,..."`` or, for tier 3 tables, ``"aggregate"``) and ``reference`` (``"pmr"``,
        ``"apmr"`` or ``"none"``). ``attrs["synthetic"]`` holds the seed and the period.

    Raises
    ------
    SyntheticError
        If ``period`` is not one of the two, or ``rng`` is not a seed.

    Examples
    --------
    >>> import synthetic
    >>> ledger = synthetic.generate_ledger(rng=0)
    >>> len(ledger), ledger["tier"].value_counts(dropna=False).sort_index().tolist()
    (887, [334, 368, 29, 84, 72])
    >>> early = synthetic.generate_ledger(rng=0, period="2012-2014")
    >>> len(early), early["release_id"].isin(ledger["release_id"]).all()
    (464, np.True_)
    """
    period = _check_period(period)
    root = root_entropy(rng, func="generate_ledger")
    early = np.array(TALLIES["2012-2014"])
    extra = np.array(TALLIES["2012-2016"]) - early
    # the 14 releases of March 2012: a draw without replacement from the 423 outside 2012-2014
    pool = np.repeat(np.arange(5), extra)
    march = np.bincount(
        stream(root, "ledger.march").choice(pool, size=_MARCH_2012, replace=False), minlength=5
    )
    tier_rng = stream(root, "ledger.tier")
    date_rng = stream(root, "ledger.date")
    blocks = (
        (march, "2012-03-01", "2012-03-31"),
        (early, "2012-04-01", "2014-12-31"),
        (extra - march, "2015-01-01", "2016-12-31"),
    )
    tiers = np.concatenate([_block_tiers(c, tier_rng) for c, _, _ in blocks])
    days = np.concatenate([_days(a, b, int(c.sum()), date_rng) for c, a, b in blocks])
    n = len(tiers)
    recipients, types = _recipients(n, stream(root, "ledger.recipient"))

    # unclassified releases: the shape of a tier drawn from the classified tallies of the block
    shape_tier = tiers.copy()
    hidden_rng = stream(root, "ledger.unclassified")
    start = 0
    for counts, _, _ in blocks:
        stop = start + int(counts.sum())
        part = shape_tier[start:stop]
        unclassified = part == 0
        p = counts[:4] / counts[:4].sum()
        part[unclassified] = hidden_rng.choice([1, 2, 3, 4], size=int(unclassified.sum()), p=p)
        start = stop

    la_codes = tuple(local_authorities()["la_code"])
    template_rng = stream(root, "ledger.fields")
    shape_rng = stream(root, "ledger.shape")
    fields: list[tuple[str, ...]] = []
    years: list[tuple[int, ...]] = []
    year_groups: list[tuple[int, ...]] = []
    populations: list[str] = []
    references: list[str] = []
    for i in range(n):  # 887 rows of tuples: assembled once, not a measure's hot path
        t = int(shape_tier[i])
        names = list(FIELD_TEMPLATES[t])
        fields.append(FIELD_TEMPLATES[t][names[int(template_rng.integers(0, len(names)))]])
        references.append(_REFERENCE_OF_TIER[t])
        if t == 3:
            years.append((_last_complete_year(days[i]) - int(shape_rng.integers(0, 3)),))
            year_groups.append(())
            populations.append("aggregate")
        else:
            y, g, pop = _shape(days[i], shape_rng, la_codes)
            years.append(y)
            year_groups.append(g)
            populations.append(pop)

    frame = pd.DataFrame(
        {
            "release_id": [f"R{i + 1:04d}" for i in range(n)],
            "date": pd.to_datetime(days.astype("datetime64[s]")),
            "recipient": recipients,
            "recipient_type": types,
            "tier": pd.array(np.where(tiers == 0, 0, tiers), dtype="Int64"),
            "fields": pd.Series(fields, dtype=object),
            "years": pd.Series(years, dtype=object),
            "year_groups": pd.Series(year_groups, dtype=object),
            "population": populations,
            "reference": references,
        }
    )
    frame.loc[tiers == 0, "tier"] = pd.NA
    if period == "2012-2014":
        first, last = PERIODS[period]
        keep = (frame["date"] >= pd.Timestamp(first)) & (frame["date"] <= pd.Timestamp(last))
        frame = frame.loc[keep].reset_index(drop=True)
    frame.attrs = {"synthetic": {"seed": root, "period": period, "kind": "ledger"}}
    return frame
