"""Households of pupils: twins, sibling chains, family roots, sibling counts and birth order.

Families are formed after every pupil has a school, a (virtual) year group and a home postcode
sector, so the school and geography marginals are drawn exactly as before; siblings then take
the eldest's home (:func:`form_families`). Everything is vectorised: sorts, rank matching and
pointer jumping, never a loop over pupils.

*Virtual year* ``v`` is the pupil's year group in the first census (Reception = 0); a pupil
who enters Reception ``t`` years later has ``v = -t``. Two pupils of one family are ``g``
school years apart when their virtual years differ by ``g``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._data import load_json
from ._sort import argsort_by_key_then_uniform, lexsort_ints

__all__ = ["FAMILY_CFG", "Families", "family_rank", "form_families"]

FAMILY_CFG = load_json("families.json")


@dataclass(frozen=True, slots=True)
class Families:
    """Family structure of one LA chunk (arrays aligned to the chunk's rows)."""

    root: np.ndarray  # row of the family's eldest unit (its id within the chunk)
    twin_of: np.ndarray  # row of the first twin for a second twin, else -1
    lone_parent: np.ndarray  # per row: the family (root) is a lone-parent family


def _rank_in_groups(sorted_keys: np.ndarray) -> np.ndarray:
    """Rank of each element within its run of equal keys (keys already sorted)."""
    n = len(sorted_keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    first = np.flatnonzero(starts)
    gid = np.cumsum(starts) - 1
    return np.arange(n) - first[gid]


def _cum(p) -> np.ndarray:
    c = np.cumsum(np.asarray(p, dtype=float))
    return c / c[-1]


def form_families(
    rng: np.random.Generator,
    *,
    school: np.ndarray,
    vyear: np.ndarray,
    sector: np.ndarray,
    entry: np.ndarray | None = None,
) -> Families:
    """Group a chunk's pupils into families.

    1. **Twins.** Within each (school, virtual year) the pupils are shuffled and taken in
       adjacent pairs (in a panel, also within one entry census); each pair is a twin pair with probability ``twin_pupil_share``, so that
       share of pupils are twins (ONS multiple-maternity rate, ``families.json``).
    2. **Sibling chains.** A *unit* is a single pupil or a twin pair. Each unit asks for a
       younger sibling with probability ``younger_sibling_probability`` at a gap of ``g`` school
       years drawn from ``gap_years``. Requests to one (home sector, virtual year) are ranked at
       random and matched to that group's units in a random order, at most one elder per unit,
       so the links form disjoint chains (the gap is strictly positive: no cycles).
    3. **Roots.** Pointer jumping finds each chain's eldest unit, which is the family id.
    """
    cfg = FAMILY_CFG
    n = len(school)
    idx = np.arange(n, dtype=np.int64)
    vmin = int(vyear.min(initial=0))
    v = vyear.astype(np.int64) - vmin
    ny = int(v.max(initial=0)) + 1
    # ---- twins: adjacent pairs within (school, virtual year)
    tkey = school.astype(np.int64) * ny + v
    if entry is not None:
        tkey = tkey * (int(entry.max(initial=0)) + 1) + entry
    order = argsort_by_key_then_uniform(tkey, rng.random(n))
    sk = tkey[order]
    rank = _rank_in_groups(sk)
    nxt_same = np.r_[sk[1:] == sk[:-1], False]
    lead_pos = np.flatnonzero((rank % 2 == 0) & nxt_same)
    is_twin = rng.random(len(lead_pos)) < cfg["twin_pupil_share"]["value"]
    lead_pos = lead_pos[is_twin]
    twin_of = np.full(n, -1, dtype=np.int64)
    twin_of[order[lead_pos + 1]] = order[lead_pos]
    unit = np.flatnonzero(twin_of < 0)  # singles and first twins
    # ---- sibling chains among units, matched within (home sector, virtual year)
    ukey = sector[unit].astype(np.int64) * ny + v[unit]
    corder = argsort_by_key_then_uniform(ukey, rng.random(len(unit)))
    cand = unit[corder]
    ckey = ukey[corder]
    asks = rng.random(len(unit)) < cfg["younger_sibling_probability"]["value"]
    gaps = np.asarray(cfg["gap_years"]["weights"], float)
    gap = np.asarray(cfg["gap_years"]["years"], np.int64)[
        np.minimum(np.searchsorted(_cum(gaps), rng.random(len(unit)), side="right"), len(gaps) - 1)
    ]
    tv = v[unit] - gap
    asks &= tv >= 0
    req = unit[asks]
    rkey = sector[req].astype(np.int64) * ny + tv[asks]
    rorder = argsort_by_key_then_uniform(rkey, rng.random(len(req)))
    req, rkey = req[rorder], rkey[rorder]
    rrank = _rank_in_groups(rkey)
    lo = np.searchsorted(ckey, rkey, side="left")
    hi = np.searchsorted(ckey, rkey, side="right")
    ok = rrank < hi - lo
    elder = np.full(n, -1, dtype=np.int64)
    elder[cand[lo[ok] + rrank[ok]]] = req[ok]
    # ---- roots by pointer jumping (chains are at most ny long)
    root = np.where(elder >= 0, elder, idx)
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    root = np.where(twin_of >= 0, root[np.maximum(twin_of, 0)], root)
    lone = rng.random(n) < cfg["lone_parent_share"]["value"]
    return Families(root=root, twin_of=twin_of, lone_parent=lone[root])


def family_rank(root: np.ndarray, dob_days: np.ndarray, present: np.ndarray | None = None):
    """Return ``(n_siblings, birth_order)`` per row among the rows in ``present``.

    ``n_siblings`` is the number of other pupils of the same family present; ``birth_order``
    is 1 for the eldest (earliest date of birth), ties (twins) broken by row order. Rows not
    present get 0 and 0.
    """
    n = len(root)
    if present is None:
        present = np.ones(n, dtype=bool)
    rows = np.flatnonzero(present)
    order = rows[lexsort_ints((dob_days[rows], root[rows]))]  # rows ascending: ties by row
    sk = root[order]
    rank = _rank_in_groups(sk)
    starts = np.r_[True, sk[1:] != sk[:-1]] if len(sk) else np.zeros(0, bool)
    first = np.flatnonzero(starts)
    size = np.diff(np.r_[first, len(sk)])
    gid = np.cumsum(starts) - 1
    n_sib = np.zeros(n, dtype=np.int8)
    order_out = np.zeros(n, dtype=np.int8)
    n_sib[order] = np.minimum(size[gid] - 1, 127)
    order_out[order] = np.minimum(rank + 1, 127)
    return n_sib, order_out
