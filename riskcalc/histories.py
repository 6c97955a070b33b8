"""How identifying is a pupil's history? Trajectories across censuses as quasi-identifiers.

A longitudinal extract (one row per pupil per census, linked by a pseudonymous id) turns each
pupil's sequence of places (school, postcode district, LSOA...) into a quasi-identifier. Three
measures, all vectorised (the loops run over census subsets or census pairs, never records):

trajectory_uniqueness  uniqueness and k as 1, 2, ... censuses of history are linked
points_singled_out     the share of pupils singled out by p known points of their history,
                       points picked by an intruder or drawn at random per pupil (de Montjoye)
linkage_risk           one release with a common id against separate yearly releases that an
                       intruder links on stable fields (sex, month and year of birth, school)
history_attribute_disclosure
                       pupils whose FSM / SEN history their history class reveals

The input is a long table: ``pupil_id``, ``academic_year``, ``census`` (optional, spring if
absent) and the place column; e.g. :func:`synthetic.generate_panel` or a longitudinal tier
extract (:func:`synthetic.cohort_extract`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from . import _format as fmt
from ._core.backend import backend_for
from ._core.panel import Trajectories, _time_labels, trajectories  # noqa: F401 - the history matrix, public here
from ._core.panel import class_sizes_of_codes as _class_sizes
from ._render import Displayed
from ._typing import Seed
from ._validation import (
    check_choice,
    check_column_names,
    check_differs,
    check_frame,
    check_int,
    check_int_list,
    check_rng,
)
from .exceptions import InvalidParameterError

__all__ = [
    "HistoryDisclosureResult",
    "LinkageResult",
    "PointsResult",
    "TrajectoryUniquenessResult",
    "history_attribute_disclosure",
    "linkage_risk",
    "point_matches",
    "points_singled_out",
    "trajectories",
    "trajectory_uniqueness",
]


# --------------------------------------------------------------------------------------------
# uniqueness as censuses are linked
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TrajectoryUniquenessResult(Displayed):
    """Uniqueness of a pupil's history as more censuses are linked.

    Attributes
    ----------
    point : str
        The place column (e.g. ``urn``).
    static : tuple of str
        Static fields added to every history.
    times : tuple of str
        All census labels, in time order.
    order : str
        ``"forward"`` (censuses 1..k) or ``"backward"`` (the last k censuses).
    n_linked : tuple of int
        k, the number of censuses linked, per row.
    n_pupils : tuple of int
        Pupils present in at least one of those k censuses.
    n_unique : tuple of int
        Of those, pupils whose history (and static fields) no other pupil shares.
    n_below_k : tuple of int
        Pupils in classes smaller than ``k_threshold``.
    k_threshold : int
    min_class : tuple of int
        The k-anonymity level (smallest class).
    average_risk : tuple of float
        Mean of ``1 / fk`` (the prosecutor risk).
    """

    point: str
    static: tuple[str, ...]
    times: tuple[str, ...]
    order: str
    n_linked: tuple[int, ...]
    n_pupils: tuple[int, ...]
    n_unique: tuple[int, ...]
    n_below_k: tuple[int, ...]
    k_threshold: int
    min_class: tuple[int, ...]
    average_risk: tuple[float, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per number of linked censuses: counts, then shares."""
        return pd.DataFrame(
            {
                "n_linked": self.n_linked,
                "n_pupils": self.n_pupils,
                "n_unique": self.n_unique,
                "unique_share": [
                    u / n if n else float("nan") for u, n in zip(self.n_unique, self.n_pupils)
                ],
                f"n_below_{self.k_threshold}": self.n_below_k,
                f"below_{self.k_threshold}_share": [
                    b / n if n else float("nan") for b, n in zip(self.n_below_k, self.n_pupils)
                ],
                "min_class": self.min_class,
                "average_risk": self.average_risk,
            }
        )

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{k}: {fmt.count_pct(u, n)}"
            for k, u, n in zip(self.n_linked, self.n_unique, self.n_pupils)
        )
        return (
            f"TrajectoryUniquenessResult(point={self.point!r}, static={list(self.static)}, "
            f"unique by censuses linked {{{parts}}})"
        )


def trajectory_uniqueness(
    panel: pd.DataFrame,
    point: str = "urn",
    *,
    static: Sequence[str] = (),
    max_linked: int | None = None,
    order: Literal["forward", "backward"] = "forward",
    k_threshold: int = 5,
) -> TrajectoryUniquenessResult:
    r"""Uniqueness and k of pupils' histories as 1, 2, ... censuses are linked.

    For each k, the quasi-identifier of pupil *i* is
    :math:`q_i^{(k)} = (s_i, x_{i,t_1}, \dots, x_{i,t_k})` with :math:`s_i` the static fields
    and :math:`x_{i,t}` the place at census *t* (or "absent"); the pupils counted are those
    present in at least one of :math:`t_1 \dots t_k`. With :math:`f_k(i)` the number of pupils
    sharing :math:`q_i^{(k)}`,

    .. math::

        n_1^{(k)} = \#\{i : f_k(i) = 1\}, \qquad \bar r^{(k)} = \frac{1}{n^{(k)}} \sum_i \frac{1}{f_k(i)}.

    Linking censuses can only split classes, so uniqueness never falls as k grows: this is
    the longitudinal effect El Emam et al. (2011) report ("uniqueness increased for
    longitudinal data").

    Parameters
    ----------
    panel : pandas.DataFrame
        Long table with ``pupil_id``, ``academic_year``, optionally ``census``, and ``point``.
    point : str, default "urn"
        The place column (school, postcode district, LSOA...).
    static : sequence of str, default ()
        Fields known for every pupil and fixed over time (sex, year and month of birth).
    max_linked : int, optional
        The largest k (default: all censuses).
    order : {"forward", "backward"}
        Link censuses from the first (1..k) or from the last (T-k+1..T).
    k_threshold : int, default 5

    Returns
    -------
    TrajectoryUniquenessResult

    Examples
    --------
    >>> import pandas as pd
    >>> from riskcalc.histories import trajectory_uniqueness
    >>> panel = pd.DataFrame({"pupil_id": list("aabbc"),
    ...                       "academic_year": [2022, 2023, 2022, 2023, 2022],
    ...                       "urn": [1, 2, 1, 3, 1]})
    >>> res = trajectory_uniqueness(panel, "urn")
    >>> res.n_pupils, res.n_unique  # one school in 2022; then three different histories
    ((3, 3), (0, 3))

    References
    ----------
    .. [1] El Emam, K., Buckeridge, D., Tamblyn, R., Neisa, A., Jonker, E. and Verma, A. (2011).
       The re-identification risk of Canadians from longitudinal demographics. *BMC Medical
       Informatics and Decision Making* 11:46. https://doi.org/10.1186/1472-6947-11-46
    .. [2] de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M. and Blondel, V. D. (2013). Unique in
       the crowd: the privacy bounds of human mobility. *Scientific Reports* 3, 1376.
       https://doi.org/10.1038/srep01376
    """
    func = "trajectory_uniqueness"
    check_choice(order, "order", ("forward", "backward"), func)
    k_threshold = check_int(k_threshold, "k_threshold", func, minimum=2)
    static = (static,) if isinstance(static, str) else tuple(static or ())
    backend = backend_for(panel, func=func)
    linked = backend.trajectory_histograms(
        point, static=static, id="pupil_id", order=order, max_linked=max_linked, func=func
    )
    hists = linked.histograms
    return TrajectoryUniquenessResult(
        point=point,
        static=static,
        times=linked.times,
        order=order,
        n_linked=tuple(range(1, len(hists) + 1)),
        n_pupils=tuple(h.n_records for h in hists),
        n_unique=tuple(h.n_unique for h in hists),
        n_below_k=tuple(int(h.records_below([k_threshold])[0]) for h in hists),
        k_threshold=k_threshold,
        min_class=tuple(h.k for h in hists),
        average_risk=tuple(h.average_risk for h in hists),
    )


# --------------------------------------------------------------------------------------------
# p known points (de Montjoye)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PointsResult(Displayed):
    """Pupils singled out by p known points of their history.

    For each pupil a set of p points (census, place) of its own history is chosen; the matches
    are the pupils whose histories contain all p points (the pupil itself included). A pupil is
    *singled out* when it is its only match.

    Attributes
    ----------
    point : str
    how : str
        ``"random"`` (p of the pupil's observed censuses uniformly at random, as de Montjoye et
        al.), ``"first"`` (the first p) or ``"first_last"`` (the first ceil(p/2) and the last
        floor(p/2): for p = 2 the first and last school).
    p : tuple of int
    n_eligible : tuple of int
        Pupils with at least p observed censuses (the others cannot be given p points).
    n_singled_out : tuple of int
    n_at_most_5 : tuple of int
        Pupils with at most five matches.
    mean_matches : tuple of float
    seed : int or None
        The seed of the random draws (``how="random"``).
    """

    point: str
    how: str
    p: tuple[int, ...]
    n_eligible: tuple[int, ...]
    n_singled_out: tuple[int, ...]
    n_at_most_5: tuple[int, ...]
    mean_matches: tuple[float, ...]
    seed: int | None

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "p": self.p,
                "n_eligible": self.n_eligible,
                "n_singled_out": self.n_singled_out,
                "singled_out_share": [
                    s / e if e else float("nan")
                    for s, e in zip(self.n_singled_out, self.n_eligible)
                ],
                "n_at_most_5": self.n_at_most_5,
                "at_most_5_share": [
                    s / e if e else float("nan") for s, e in zip(self.n_at_most_5, self.n_eligible)
                ],
                "mean_matches": self.mean_matches,
            }
        )

    def __repr__(self) -> str:
        parts = ", ".join(
            f"p={p}: {fmt.count_pct(s, e)}"
            for p, s, e in zip(self.p, self.n_singled_out, self.n_eligible)
        )
        return f"PointsResult(point={self.point!r}, how={self.how!r}, singled out {{{parts}}})"


def _choose_points(obs: np.ndarray, p: int, how: str, rng) -> tuple[np.ndarray, np.ndarray]:
    """(eligible mask, chosen mask n x m) of p observed censuses per pupil."""
    n, m = obs.shape
    n_obs = obs.sum(axis=1)
    eligible = n_obs >= p
    if p > m:  # nobody has more observed censuses than there are censuses
        return eligible, np.zeros((n, m), dtype=bool)
    if how == "first_last":  # first ceil(p/2), last floor(p/2): rank from the front and back
        rank_f = np.cumsum(obs, axis=1) - 1
        rank_b = n_obs[:, None] - 1 - rank_f
        pick = obs & ((rank_f < (p + 1) // 2) | (rank_b < p // 2))
        return eligible, pick & eligible[:, None]
    if how == "random":  # distinct keys (ties have probability 0); absent censuses last
        key = np.where(obs, rng.random((n, m)), np.inf)
    else:  # "first": the observed censuses in time order
        key = np.where(obs, np.arange(m)[None, :], np.inf) * np.ones((n, 1))
    kth = np.partition(key, p - 1, axis=1)[:, p - 1]  # the p-th smallest key of each pupil
    return eligible, (key <= kth[:, None]) & obs & eligible[:, None]


def point_matches(codes: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """For each pupil (row of ``codes``), how many pupils' histories hold all its chosen points.

    ``chosen`` is a boolean pupils x censuses mask of observed censuses. Pupils are grouped by
    their chosen census set (a bitmask); each set is one partition of all pupils on those
    censuses. Rows with no chosen census get 0.
    """
    n, m = codes.shape
    mask = (chosen.astype(np.int64) * (1 << np.arange(m, dtype=np.int64))[None, :]).sum(axis=1)
    matches = np.zeros(n, dtype=np.int64)
    for subset in np.unique(mask[mask > 0]).tolist():  # census subsets, at most 2**m
        cols = [j for j in range(m) if subset >> j & 1]
        # only pupils observed at every census of the set can hold all its (observed) points
        cand = np.flatnonzero((codes[:, cols] >= 0).all(axis=1))
        fk = _class_sizes([codes[cand, j] for j in cols])
        sel = mask[cand] == subset
        matches[cand[sel]] = fk[sel]
    return matches


def points_singled_out(
    panel: pd.DataFrame,
    point: str = "urn",
    *,
    p: int | Sequence[int] = (1, 2, 3, 4, 5),
    how: Literal["random", "first", "first_last"] = "random",
    rng: Seed = None,
) -> PointsResult:
    r"""The share of pupils singled out by p known points of their history (de Montjoye).

    For pupil *i* with chosen census set :math:`S_i` (:math:`|S_i| = p`, censuses at which *i*
    is in the extract), the matches are

    .. math::

        M_i = \#\{j : x_{j,t} = x_{i,t} \ \forall t \in S_i\},

    which counts *i* itself; *i* is singled out when :math:`M_i = 1`. The result reports
    :math:`\#\{i : M_i = 1\}` over the eligible pupils (at least p observed censuses). Pupils
    are grouped by their census set (at most :math:`\binom{T}{p}` groups); each group's
    :math:`M_i` is the class size of *i* in the partition of *all* pupils on the censuses of the
    set, so the loop runs over census subsets, never over pupils.

    Parameters
    ----------
    panel : pandas.DataFrame
        Long table (``pupil_id``, ``academic_year``, optional ``census``, ``point``).
    point : str, default "urn"
    p : int or sequence of int, default (1, 2, 3, 4, 5)
    how : {"random", "first", "first_last"}
        Who picks the points: drawn per pupil at random (de Montjoye's protocol), or an
        intruder who knows the first p schools, or the first and last (``"first_last"``).
    rng : int, numpy.random.Generator or None
        Seed for ``how="random"``; an int gives reproducible draws.

    Returns
    -------
    PointsResult

    References
    ----------
    .. [1] de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M. and Blondel, V. D. (2013). Unique in
       the crowd: the privacy bounds of human mobility. *Scientific Reports* 3, 1376.
       https://doi.org/10.1038/srep01376

    Examples
    --------
    >>> import riskcalc as rc, synthetic
    >>> panel = synthetic.generate_panel(1_000, years=3, rng=0, columns=["urn", "nc_year"])
    >>> rc.points_singled_out(panel, "urn", p=(1, 2), rng=0)
    PointsResult(point='urn', how='random', singled out {p=1: 1 (0.08%), p=2: 1 (0.10%)})
    """
    func = "points_singled_out"
    check_choice(how, "how", ("random", "first", "first_last"), func)
    ps = check_int_list(p, "p", func, minimum=1, what="number of points")
    gen, seed = check_rng(rng, "rng", func) if how == "random" else (None, None)
    tr = trajectories(panel, point, func=func)
    obs = tr.observed
    m = obs.shape[1]
    out: dict[str, list] = {"elig": [], "single": [], "five": [], "mean": []}
    for pv in ps:
        if pv > m:
            raise InvalidParameterError(
                f"The 'p' parameter of {func} must be at most the number of censuses ({m}). Got {pv}."
            )
        eligible, chosen = _choose_points(obs, pv, how, gen)
        got = point_matches(tr.codes, chosen)[eligible]
        out["elig"].append(int(eligible.sum()))
        out["single"].append(int(np.count_nonzero(got == 1)))
        out["five"].append(int(np.count_nonzero(got <= 5)))
        out["mean"].append(float(got.mean()) if len(got) else float("nan"))
    return PointsResult(
        point,
        how,
        ps,
        tuple(out["elig"]),
        tuple(out["single"]),
        tuple(out["five"]),
        tuple(out["mean"]),
        seed,
    )


# --------------------------------------------------------------------------------------------
# one release with an id vs separate yearly releases linked on stable fields
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LinkageResult(Displayed):
    """Linking pupils across censuses: with the release's own id, or by an intruder who joins
    separate releases on stable fields.

    Attributes
    ----------
    stable : tuple of str
        The fields the intruder joins on.
    times : tuple of str
    pairs : tuple of (str, str)
        Consecutive census pairs.
    n_records : tuple of int
        Records in the earlier census of each pair.
    n_one_to_one : tuple of int
        Records whose stable key occurs exactly once in both censuses (a unique link).
    n_correct : tuple of int
        Of those, links that join the same pupil.
    n_wrong : tuple of int
        Unique links that join two different pupils.
    n_pupils_all : int
        Pupils present in every census.
    n_chain_correct : int
        Of those, pupils correctly linked across every consecutive pair: their whole history is
        recovered from separate releases. In one release with a common id it is all of them.
    """

    stable: tuple[str, ...]
    times: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    n_records: tuple[int, ...]
    n_one_to_one: tuple[int, ...]
    n_correct: tuple[int, ...]
    n_wrong: tuple[int, ...]
    n_pupils_all: int
    n_chain_correct: int

    @property
    def chain_share(self) -> float:
        return self.n_chain_correct / self.n_pupils_all if self.n_pupils_all else float("nan")

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "from": [a for a, _ in self.pairs],
                "to": [b for _, b in self.pairs],
                "n_records": self.n_records,
                "n_one_to_one": self.n_one_to_one,
                "n_correct": self.n_correct,
                "n_wrong": self.n_wrong,
                "correct_share": [
                    c / n if n else float("nan") for c, n in zip(self.n_correct, self.n_records)
                ],
            }
        )

    def __repr__(self) -> str:
        return (
            f"LinkageResult(stable={list(self.stable)}, whole history linked: one release "
            f"{fmt.count_pct(self.n_pupils_all, self.n_pupils_all)}, separate releases "
            f"{fmt.count_pct(self.n_chain_correct, self.n_pupils_all)})"
        )


def linkage_risk(
    panel: pd.DataFrame,
    stable: Sequence[str] = ("sex", "year_of_birth", "month_of_birth", "urn"),
    *,
    id: str = "pupil_id",
) -> LinkageResult:
    r"""Linking a history: one release with a common id against separate yearly releases.

    Inside one release the pseudonymous id links every census of a pupil. Separate yearly
    releases carry no common id; an intruder joins census *t* to census *t + 1* on the
    ``stable`` fields. A record of *t* is linked when its stable key :math:`s` occurs exactly
    once in *t* and exactly once in *t + 1* (:math:`n_t(s) = n_{t+1}(s) = 1`); the link is
    correct when both records belong to the same pupil. A pupil's whole history is recovered
    when it is present in every census and every consecutive link is correct.

    The joins are one partition of the two censuses' records on the stable key (public
    :func:`riskcalc.partition`) and bincounts per census; no loop over records.

    Parameters
    ----------
    panel : pandas.DataFrame
        Long table with ``id``, ``academic_year``, optionally ``census``, and the stable fields.
    stable : sequence of str
        What the intruder joins on. A school changes at the Year 7 transfer and on moves, so
        links on ``urn`` break there, as they would for a real intruder.
    id : str, default "pupil_id"
        The true pupil id (used only to score the links).

    Returns
    -------
    LinkageResult

    References
    ----------
    .. [1] El Emam, K., Buckeridge, D., Tamblyn, R., Neisa, A., Jonker, E. and Verma, A. (2011).
       The re-identification risk of Canadians from longitudinal demographics. *BMC Medical
       Informatics and Decision Making* 11:46. https://doi.org/10.1186/1472-6947-11-46

    Examples
    --------
    >>> import riskcalc as rc, synthetic
    >>> panel = synthetic.generate_panel(1_000, years=3, rng=0)
    >>> rc.linkage_risk(panel)
    LinkageResult(stable=['sex', 'year_of_birth', 'month_of_birth', 'urn'], whole history linked: one release 819 (100.00%), separate releases 97 (11.84%))
    """
    func = "linkage_risk"
    check_frame(panel, "panel", func, form=" in long form")
    stable = check_column_names(stable, panel.columns, name="stable", func=func)
    check_column_names([id, "academic_year"], panel.columns, name="id", func=func)
    t, labels = _time_labels(panel)
    pid, _ = pd.factorize(panel[id], sort=False)
    n_p = int(pid.max()) + 1 if len(pid) else 0
    m = len(labels)
    codes = []
    for col in stable:
        c, _ = pd.factorize(panel[col], sort=False, use_na_sentinel=False)
        codes.append(c.astype(np.int64))
    present = np.zeros((n_p, m), bool)
    present[pid, t] = True
    ok_chain = present.all(axis=1)
    pairs, n_rec, n_11, n_ok, n_bad = [], [], [], [], []
    # the public API, imported here to avoid a cycle at package import
    from . import partition

    for a in range(m - 1):
        sel = np.flatnonzero((t == a) | (t == a + 1))
        frame = pd.DataFrame({f"s{j}": c[sel] for j, c in enumerate(codes)})
        part = partition(frame, list(frame.columns))
        cls = part.class_id
        later = (t[sel] == a + 1).astype(np.int64)
        nc = part.n_classes
        cnt_a = np.bincount(cls[later == 0], minlength=nc)
        cnt_b = np.bincount(cls[later == 1], minlength=nc)
        one = (cnt_a == 1) & (cnt_b == 1)
        who_a = np.full(nc, -1, np.int64)
        who_b = np.full(nc, -1, np.int64)
        who_a[cls[later == 0]] = pid[sel][later == 0]
        who_b[cls[later == 1]] = pid[sel][later == 1]
        correct = one & (who_a == who_b)
        wrong = one & (who_a != who_b)
        linked_ok = np.zeros(n_p, bool)
        linked_ok[who_a[correct]] = True
        ok_chain &= linked_ok
        pairs.append((labels[a], labels[a + 1]))
        n_rec.append(int(cnt_a.sum()))
        n_11.append(int(one.sum()))
        n_ok.append(int(correct.sum()))
        n_bad.append(int(wrong.sum()))
    return LinkageResult(
        stable,
        tuple(labels),
        tuple(pairs),
        tuple(n_rec),
        tuple(n_11),
        tuple(n_ok),
        tuple(n_bad),
        int(present.all(axis=1).sum()),
        int(ok_chain.sum()),
    )


# --------------------------------------------------------------------------------------------
# attribute disclosure over time
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HistoryDisclosureResult(Displayed):
    """Pupils whose sensitive history is revealed by a homogeneous history class.

    Attributes
    ----------
    point, sensitive : str
    static : tuple of str
    n_linked : tuple of int
        Censuses linked (the first k).
    n_pupils : tuple of int
        Pupils present in at least one of the k censuses.
    n_revealed : tuple of int
        Pupils in classes of two or more whose members all share one sensitive history (the
        sequence of the sensitive value over the k censuses): knowing the pupil's history
        reveals, e.g., its FSM in every year without singling it out.
    n_unique : tuple of int
        Sample-unique pupils (their sensitive history is revealed with their identity).
    """

    point: str
    sensitive: str
    static: tuple[str, ...]
    n_linked: tuple[int, ...]
    n_pupils: tuple[int, ...]
    n_revealed: tuple[int, ...]
    n_unique: tuple[int, ...]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "n_linked": self.n_linked,
                "n_pupils": self.n_pupils,
                "n_revealed": self.n_revealed,
                "revealed_share": [
                    r / n if n else float("nan") for r, n in zip(self.n_revealed, self.n_pupils)
                ],
                "n_unique": self.n_unique,
                "unique_share": [
                    u / n if n else float("nan") for u, n in zip(self.n_unique, self.n_pupils)
                ],
            }
        )

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{k}: {fmt.count_pct(r, n)}"
            for k, r, n in zip(self.n_linked, self.n_revealed, self.n_pupils)
        )
        return (
            f"HistoryDisclosureResult(point={self.point!r}, sensitive={self.sensitive!r}, "
            f"revealed in classes of 2+ by censuses linked {{{parts}}})"
        )


def history_attribute_disclosure(
    panel: pd.DataFrame,
    point: str = "urn",
    sensitive: str = "fsm_eligible",
    *,
    static: Sequence[str] = (),
    max_linked: int | None = None,
) -> HistoryDisclosureResult:
    r"""Pupils whose sensitive history (e.g. FSM in each year) their history class reveals.

    With :math:`q_i^{(k)}` the history quasi-identifier of :func:`trajectory_uniqueness` and
    :math:`a_i^{(k)} = (a_{i,t_1}, \dots, a_{i,t_k})` the pupil's sensitive values over the
    same censuses ("absent" where it is not in the extract), the class of *i* is
    homogeneous when every pupil sharing :math:`q_i^{(k)}` also shares :math:`a_i^{(k)}`, i.e.
    :math:`f(q_i, a_i) = f(q_i)`; the pupil is counted as revealed when moreover
    :math:`f(q_i) \ge 2` (l-diversity of 1 on the sensitive history, Machanavajjhala et al.
    2007). Two partitions per k, no loop over records.

    References
    ----------
    .. [1] Machanavajjhala, A., Kifer, D., Gehrke, J. and Venkitasubramaniam, M. (2007).
       l-diversity: privacy beyond k-anonymity. *ACM Transactions on Knowledge Discovery from
       Data* 1(1), 3. https://doi.org/10.1145/1217299.1217302

    Examples
    --------
    >>> import riskcalc as rc, synthetic
    >>> panel = synthetic.generate_panel(1_000, years=3, rng=0)
    >>> rc.history_attribute_disclosure(panel, "urn", "fsm_eligible")
    HistoryDisclosureResult(point='urn', sensitive='fsm_eligible', revealed in classes of 2+ by censuses linked {1: 2 (0.20%), 2: 9 (0.83%), 3: 17 (1.44%)})
    """
    func = "history_attribute_disclosure"
    check_column_names(
        [sensitive],
        panel.columns if isinstance(panel, pd.DataFrame) else [],
        name="sensitive",
        func=func,
    )
    check_differs(sensitive, point, "sensitive", "point", func)
    tr = trajectories(panel, point, static=static, func=func)
    sens_codes = tr.column(panel[sensitive])
    m = len(tr.times)
    top = (
        m if max_linked is None else check_int(max_linked, "max_linked", func, minimum=1, maximum=m)
    )
    ks, n_p, n_r, n_u = [], [], [], []
    for k in range(1, top + 1):
        keep = (tr.codes[:, :k] >= 0).any(axis=1)
        qi = [tr.static[keep, j] for j in range(tr.static.shape[1])] + [
            tr.codes[keep, j] for j in range(k)
        ]
        if keep.any():
            f_q = _class_sizes(qi)
            f_qa = _class_sizes(qi + [sens_codes[keep, j] for j in range(k)])
        else:
            f_q = f_qa = np.zeros(0, np.int64)
        ks.append(k)
        n_p.append(int(keep.sum()))
        n_r.append(int(np.count_nonzero((f_q >= 2) & (f_qa == f_q))))
        n_u.append(int(np.count_nonzero(f_q == 1)))
    return HistoryDisclosureResult(
        point, sensitive, tr.static_names, tuple(ks), tuple(n_p), tuple(n_r), tuple(n_u)
    )
