"""The chunk the samplers fill: one LA's pupils while they are being generated, and the typed
records that pass between samplers (:class:`PanelEntry` from the panel, :class:`Homes` from the
geography sampler), plus the code numbers the samplers compare with and the shared-draw rule
for siblings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._families import Families
from .._geography import Geography
from .._plan import Plan

__all__ = ["Chunk", "Homes", "PanelEntry"]

#: Code numbers of the phases (``schema.PHASES``: primary, secondary, special, AP) and of SEN
#: provision (no SEN, SEN support, EHC plan).
PS, SS, SP, PR = range(4)
N_, K_, E_ = range(3)


@dataclass(frozen=True, slots=True)
class PanelEntry:
    """When each row of a panel chunk entered the panel (the panel's structure sampler,
    :func:`synthetic.panel._panel_structure`, sets it; a cohort chunk has none): the first
    census's pupils, then the later entrants."""

    entry_t: np.ndarray  # academic year of entry, 0 = the panel's first (int64)
    entry_step: np.ndarray  # census of entry, counted over every census of every year (int64)
    vyear: np.ndarray  # virtual year group: the year group less entry_t (int64)


@dataclass(frozen=True, slots=True)
class Homes:
    """What the geography sampler (:func:`synthetic._samplers.homes.sample_geography`) leaves
    for the samplers after it and for the panel: households and where they live."""

    family: Families  # households: siblings share the eldest's home and some draws
    pc: np.ndarray  # each pupil's home postcode, numbered within the chunk's LA geography
    geo: Geography  # the chunk LA's geography
    lsoa: np.ndarray  # each pupil's LSOA, numbered 0 .. n_lsoa - 1 within the chunk
    n_lsoa: int


@dataclass(slots=True)
class Chunk:
    """One LA's pupils while they are being generated."""

    plan: Plan
    la: int  # row of the LA table
    n: int = 0
    school: np.ndarray | None = None  # local school index per pupil
    cols: dict = field(default_factory=dict)
    #: Whether families may live in another LA of the region (the panel's first census: no).
    cross_border: bool = True
    entry: PanelEntry | None = None  # set by the panel's structure sampler
    homes: Homes | None = None  # set by the geography sampler

    @property
    def school_slice(self) -> slice:
        return slice(
            int(self.plan.la_school_start[self.la]), int(self.plan.la_school_stop[self.la])
        )

    def school_attr(self, name: str) -> np.ndarray:
        """Per-school array of the plan for this LA's schools."""
        return getattr(self.plan, f"school_{name}")[self.school_slice]


def _shared(chunk: Chunk, u: np.ndarray) -> np.ndarray:
    """Give every pupil its family's draw (the eldest's), so siblings share the outcome."""
    return u if chunk.homes is None else u[chunk.homes.family.root]
