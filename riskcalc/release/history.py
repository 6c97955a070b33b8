"""The longitudinal section of the main job: tier 4 school-gate uniqueness as years are linked.

A tier 4 extract that spans several censuses, linked on the pseudonymous pupil id, turns the
school a pupil attended and its year group at each census into one long quasi-identifier. This
module generates a small synthetic panel (:func:`synthetic.generate_panel`, spring censuses)
and measures the built-in ``school_gate`` scenario on it with
:func:`riskcalc.trajectory_uniqueness`: the fields that change between censuses (school and
year group) are taken per census, the others (sex, year and month of birth) once per pupil.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import _format as fmt
from .._validation import check_int
from ..histories import TrajectoryUniquenessResult, trajectory_uniqueness
from .scenarios import DEFAULT_SCENARIOS
from .tables import pct_text

__all__ = ["HISTORY_PUPILS", "HistorySection", "PER_CENSUS_FIELDS", "history_section"]

#: Panel size of the main job's section: about 1.4 CPU-s of generation on a quiet 2-core machine.
HISTORY_PUPILS = 50_000
#: Scenario fields that change from census to census (the rest are fixed for a pupil).
PER_CENSUS_FIELDS = ("urn", "nc_year")
#: The scenario measured: the built-in tier 4 school-gate intruder.
SCENARIO = "school_gate"
FIRST_YEAR = 2019
K_THRESHOLD = 5
_NUMBERS = {
    1: "one",
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
    11: "eleven",
    12: "twelve",
    13: "thirteen",
    14: "fourteen",
}


def _academic(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


@dataclass(frozen=True, slots=True)
class HistorySection:
    """School-gate uniqueness of a synthetic panel as 1, 2, ... years of school history are linked.

    Attributes
    ----------
    n_pupils : int
        Pupils in the panel's first census.
    seed : int
        The panel's seed.
    years : int
        Spring censuses in the panel (one per academic year from 2019/20).
    first_year : int
        Start of the first academic year (2019 = 2019/20).
    scenario : str
        The scenario measured (``school_gate``).
    per_census : tuple of str
        Its fields taken at every linked census (school, year group).
    static : tuple of str
        Its fields taken once per pupil (sex, year and month of birth).
    n_rows : int
        Rows of the panel (pupils x censuses present).
    result : TrajectoryUniquenessResult
        The measure itself.
    """

    n_pupils: int
    seed: int
    years: int
    first_year: int
    scenario: str
    per_census: tuple[str, ...]
    static: tuple[str, ...]
    n_rows: int
    result: TrajectoryUniquenessResult

    def to_frame(self) -> pd.DataFrame:
        """One row per number of years linked: the academic years, counts, then shares.

        Columns: ``years_linked``, ``academic_years``, ``n_records`` (pupils present in at least
        one linked census), ``n_unique``, ``unique_share``, ``records_below_5``,
        ``records_below_5_share``, ``k`` and ``average_risk``.
        """
        r = self.result
        n = np.asarray(r.n_pupils, dtype=np.int64)
        unique = np.asarray(r.n_unique, dtype=np.int64)
        below = np.asarray(r.n_below_k, dtype=np.int64)
        t = r.k_threshold
        last = [self.first_year + k - 1 for k in r.n_linked]
        span = [
            _academic(self.first_year)
            if k == 1
            else f"{_academic(self.first_year)} to {_academic(y)}"
            for k, y in zip(r.n_linked, last)
        ]
        return pd.DataFrame(
            {
                "years_linked": np.asarray(r.n_linked, dtype=np.int64),
                "academic_years": span,
                "n_records": n,
                "n_unique": unique,
                "unique_share": unique / n,
                f"records_below_{t}": below,
                f"records_below_{t}_share": below / n,
                "k": np.asarray(r.min_class, dtype=np.int64),
                "average_risk": np.asarray(r.average_risk, dtype=float),
            }
        )

    @property
    def sentence(self) -> str:
        """One sentence for a policy writer: counts with their denominators, and "synthetic"."""
        r = self.result
        first = f"{r.n_unique[0]:,} of {r.n_pupils[0]:,} pupils ({pct_text(r.n_unique[0] / r.n_pupils[0])})"
        where = (
            f"In a synthetic panel of {self.n_pupils:,} pupils followed over {_NUMBERS.get(self.years, self.years)} "
            f"spring censuses ({_academic(self.first_year)} to {_academic(self.first_year + self.years - 1)})"
        )
        if len(r.n_linked) == 1:
            return (
                f"{where}, {first} are unique on their school, year group, sex and year and month of "
                f"birth in one census."
            )
        k = r.n_linked[-1]
        last = f"{r.n_unique[-1]:,} of {r.n_pupils[-1]:,} pupils ({pct_text(r.n_unique[-1] / r.n_pupils[-1])})"
        return (
            f"{where}, {first} are unique on their school, year group, sex and year and month of "
            f"birth in one census; linking {_NUMBERS.get(k, k)} years of school history makes {last} unique."
        )

    def provenance(self) -> dict:
        """The section's entry in the provenance block."""
        return {
            "panel_pupils": self.n_pupils,
            "panel_seed": self.seed,
            "years": self.years,
            "censuses": "spring",
            "first_year": self.first_year,
            "panel_rows": self.n_rows,
            "scenario": self.scenario,
            "per_census_fields": list(self.per_census),
            "static_fields": list(self.static),
            "order": self.result.order,
        }

    def __repr__(self) -> str:
        r = self.result
        parts = ", ".join(
            f"{k}: {fmt.count_pct(u, n)}" for k, u, n in zip(r.n_linked, r.n_unique, r.n_pupils)
        )
        return (
            f"HistorySection(n_pupils={self.n_pupils:,}, seed={self.seed}, scenario={self.scenario!r}, "
            f"unique by years linked {{{parts}}})"
        )


def school_gate_point(panel: pd.DataFrame, per_census=PER_CENSUS_FIELDS) -> np.ndarray:
    """One code per row for the per-census fields together (equal iff every field is equal).

    Each field is factorised (missing is a value of its own) and the codes are combined in
    mixed radix, so the point of a row is its (school, year group) pair."""
    codes, sizes = [], []
    for col in per_census:
        c, uniq = pd.factorize(panel[col], sort=True, use_na_sentinel=False)
        codes.append(c.astype(np.int64))
        sizes.append(max(len(uniq), 1))
    return np.ravel_multi_index(codes, sizes).astype(np.int64)


def history_section(
    n_pupils: int = HISTORY_PUPILS, seed: int = 0, *, years: int = 5
) -> HistorySection:
    r"""Tier 4 school-gate uniqueness as 1, 2, ... ``years`` of school history are linked.

    Generates a synthetic panel of ``n_pupils`` pupils over ``years`` spring censuses from
    2019/20 (:func:`synthetic.generate_panel` with ``rng=seed``) and measures, for
    k = 1..``years``, the pupils present in at least one of the first k censuses who are unique
    on :math:`(s_i, x_{i,1}, \dots, x_{i,k})`: :math:`s_i` the static fields of the built-in
    ``school_gate`` scenario (sex, year and month of birth) and :math:`x_{i,t}` the pair
    (school, year group) at census t, or "absent" (:func:`riskcalc.trajectory_uniqueness`).
    Uniqueness never falls as k grows: linking censuses only splits classes (El Emam et al.
    2011, doi:10.1186/1472-6947-11-46).

    Parameters
    ----------
    n_pupils : int, default 50,000
        Pupils in the panel's first census (later censuses add Reception intakes and joiners).
    seed : int, default 0
        Panel seed; the same seed gives the same figures.
    years : int, default 5
        Spring censuses (academic years), 1 to 14.

    Returns
    -------
    HistorySection
        ``.to_frame()`` the table (counts and shares), ``.sentence`` the quotable sentence,
        ``.provenance()`` the provenance entry.

    Examples
    --------
    >>> from riskcalc.release.history import history_section
    >>> section = history_section(2_000, seed=1, years=2)
    >>> section.to_frame()["years_linked"].tolist()
    [1, 2]
    """
    import synthetic

    func = "history_section"
    n_pupils = check_int(n_pupils, "n_pupils", func, minimum=1, maximum=20_000_000)
    seed = check_int(seed, "seed", func, minimum=0)
    years = check_int(years, "years", func, minimum=1, maximum=14)
    scenario = next(s for s in DEFAULT_SCENARIOS if s.name == SCENARIO)
    per_census = tuple(f for f in scenario.fields if f in PER_CENSUS_FIELDS)
    static = tuple(f for f in scenario.fields if f not in PER_CENSUS_FIELDS)
    panel = synthetic.generate_panel(
        n_pupils,
        years=years,
        first_year=FIRST_YEAR,
        censuses=("spring",),
        rng=seed,
        columns=[*static, *per_census],
    )
    frame = panel.loc[:, ["pupil_id", "academic_year", "census", *static]]
    frame["school_gate_point"] = school_gate_point(panel, per_census)
    result = trajectory_uniqueness(
        frame, "school_gate_point", static=static, k_threshold=K_THRESHOLD
    )
    return HistorySection(
        n_pupils=n_pupils,
        seed=seed,
        years=years,
        first_year=FIRST_YEAR,
        scenario=SCENARIO,
        per_census=per_census,
        static=static,
        n_rows=len(panel),
        result=result,
    )
