"""Forenames and surnames: a name group from the pupil's ethnicity, then a name from that
group's table by sex (tail names from one shared table); siblings usually share the family's
surname."""

from __future__ import annotations

import functools

import numpy as np

from .._data import load_json
from .._families import FAMILY_CFG
from .._plan import name_table
from ..schema import ETHNIC_MINOR
from .chunk import Chunk
from .draw import _cum, _pick, _runs

_NAMES = load_json("names.json")

# ------------------------------------------------------------------------------ names
_GROUP_MIX = {k: v for k, v in _NAMES["group_mix_by_minor"].items() if not k.startswith("_")}


@functools.cache
def _name_plan(kind: str) -> tuple:
    """Per-kind constants of :func:`_sample_names`, built once per process."""
    tables = name_table(kind)
    group_names = sorted({g for mix in _GROUP_MIX.values() for g in mix})
    by_minor = []
    for code in ETHNIC_MINOR:
        mix = _GROUP_MIX[code]
        ids = np.array([group_names.index(g) for g in mix], np.int8)
        by_minor.append((ids, _cum(list(mix.values()))))
    sexes = ("M", "F") if kind == "forename" else (None,)
    groups = [tables.groups[(gname, skey)] for gname in group_names for skey in sexes]
    share = np.array([g.tail_share for g in groups])
    return tables, len(sexes), by_minor, groups, share


def _sample_names(rng: np.random.Generator, chunk: Chunk, kind: str) -> np.ndarray:
    tables, n_sex, by_minor, groups, share = _name_plan(kind)
    minor = chunk.cols["ethnic_group_minor"]
    sex = chunk.cols["sex"]
    u_group, u_tail, u_name = rng.random(chunk.n), rng.random(chunk.n), rng.random(chunk.n)
    fam = None if chunk.homes is None else chunk.homes.family
    if kind == "surname" and fam is not None:  # siblings usually carry the family surname
        p_share = np.where(
            fam.lone_parent,
            FAMILY_CFG["surname_shared"]["lone_parent"],
            FAMILY_CFG["surname_shared"]["couple"],
        )
        src = np.where(rng.random(chunk.n) < p_share, fam.root, np.arange(chunk.n))
        u_group, u_tail, u_name = u_group[src], u_tail[src], u_name[src]
    # name group from the pupil's minor ethnicity
    group = np.zeros(chunk.n, dtype=np.int8)
    order, bounds = _runs(minor, len(ETHNIC_MINOR))
    for code, (ids, cum) in enumerate(by_minor):
        rows = order[bounds[code] : bounds[code + 1]]
        if len(rows):
            group[rows] = ids[_pick(cum, u_group[rows])]
    # tail names share one table; head names come from the (group, sex) table
    key = group.astype(np.int64) * n_sex + (sex if n_sex > 1 else 0)
    tail = u_tail < share[key]
    out = np.empty(chunk.n, dtype=np.int32)
    out[tail] = tables.tail_idx[_pick(tables.tail_cum, u_name[tail])]
    head = np.flatnonzero(~tail)
    order, bounds = _runs(key[head], len(groups))
    for k, g in enumerate(groups):
        rows = head[order[bounds[k] : bounds[k + 1]]]
        if len(rows):
            out[rows] = g.head_idx[_pick(g.head_cum, u_name[rows])]
    return out


def sample_forename(rng: np.random.Generator, chunk: Chunk) -> dict:
    return {"forename": _sample_names(rng, chunk, "forename")}


def sample_surname(rng: np.random.Generator, chunk: Chunk) -> dict:
    return {"surname": _sample_names(rng, chunk, "surname")}
