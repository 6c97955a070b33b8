"""Vectorised per-field samplers for one LA chunk, and the order they run in.

Every sampler has the signature ``sampler(rng, chunk) -> dict[column, array]``: ``rng`` is the
field's own child stream for this LA (see :mod:`synthetic._rng`) and ``chunk``
(:class:`~synthetic._samplers.chunk.Chunk`) holds the columns generated so far (internal integer
codes, aligned to the chunk's rows). Samplers run in the order of :data:`SAMPLERS`; a sampler
may read only columns produced before it. What passes between samplers other than columns is
typed: the panel's :class:`~synthetic._samplers.chunk.PanelEntry` and the geography sampler's
:class:`~synthetic._samplers.chunk.Homes`. No sampler loops over pupils; loops run over code
lists or school types.

One module per concept:

=================== =========================================================================
``structure``       pupils in schools by year group; school-level columns; enrolment status
``demographics``    sex, date of birth, ethnicity, first language / EAL
``homes``           households, home postcode / LSOA / IDACI, home LA (cross-border families)
``characteristics`` SEN, SEN type, FSM, EverFSM6, looked after, service child, disability
``exclusions``      suspensions, permanent exclusions, reasons
``names``           forenames and surnames
``identifiers``     UPN, pupil id, family id
``chunk``           the chunk, the typed records between samplers, code numbers
``draw``            categorical draws and other primitives
=================== =========================================================================
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .characteristics import (
    sample_disability,
    sample_ever_fsm,
    sample_fsm,
    sample_looked_after,
    sample_sen,
    sample_sen_type,
    sample_service_child,
)
from .chunk import Chunk
from .demographics import sample_date_of_birth, sample_ethnicity, sample_language, sample_sex
from .exclusions import sample_exclusion_reason, sample_permanent_exclusion, sample_suspensions
from .homes import LocalCategorical, sample_geography
from .identifiers import sample_pupil_id, sample_upn
from .names import sample_forename, sample_surname
from .structure import sample_enrol_status, sample_structure

__all__ = ["SAMPLERS", "SAMPLER_COLUMNS", "Chunk", "LocalCategorical", "samplers_for"]

#: (stream name, sampler) in generation order. The stream name is the field whose child stream
#: the sampler uses; derived columns (e.g. ethnic_group_minor) share their parent's stream.
SAMPLERS: tuple[tuple[str, Callable[[np.random.Generator, Chunk], dict]], ...] = (
    ("nc_year", sample_structure),
    ("sex", sample_sex),
    ("date_of_birth", sample_date_of_birth),
    ("enrol_status", sample_enrol_status),
    ("postcode", sample_geography),
    ("ethnicity_extended", sample_ethnicity),
    ("first_language", sample_language),
    ("sen_provision", sample_sen),
    ("primary_sen_type", sample_sen_type),
    ("fsm_eligible", sample_fsm),
    ("ever_fsm_6", sample_ever_fsm),
    ("looked_after", sample_looked_after),
    ("service_child", sample_service_child),
    ("disability", sample_disability),
    ("suspensions", sample_suspensions),
    ("permanent_exclusion", sample_permanent_exclusion),
    ("exclusion_reason", sample_exclusion_reason),
    ("forename", sample_forename),
    ("surname", sample_surname),
    ("upn", sample_upn),
    ("pupil_id", sample_pupil_id),
)

#: The columns each sampler of :data:`SAMPLERS` returns (a later one may return an earlier
#: one's column again: households give twins one date of birth). The tests run every sampler
#: and compare.
SAMPLER_COLUMNS: dict[str, tuple[str, ...]] = {
    "nc_year": ("nc_year", "urn", "laestab", "la_code", "region", "phase"),
    "sex": ("sex",),
    "date_of_birth": ("date_of_birth", "year_of_birth", "month_of_birth"),
    "enrol_status": ("enrol_status",),
    "postcode": (
        "date_of_birth",
        "year_of_birth",
        "month_of_birth",
        "family_id",
        "n_siblings",
        "birth_order",
        "postcode",
        "postcode_sector",
        "postcode_district",
        "postcode_area",
        "lsoa",
        "idaci_decile",
        "home_la",
        "home_region",
    ),
    "ethnicity_extended": ("ethnicity_extended", "ethnic_group_minor", "ethnic_group_major"),
    "first_language": ("first_language", "language_group", "eal"),
    "sen_provision": ("sen_provision",),
    "primary_sen_type": ("primary_sen_type",),
    "fsm_eligible": ("fsm_eligible",),
    "ever_fsm_6": ("ever_fsm_6",),
    "looked_after": ("looked_after",),
    "service_child": ("service_child",),
    "disability": ("disability",),
    "suspensions": ("suspensions",),
    "permanent_exclusion": ("permanent_exclusion",),
    "exclusion_reason": ("exclusion_reason",),
    "forename": ("forename",),
    "surname": ("surname",),
    "upn": ("upn",),
    "pupil_id": ("pupil_id",),
}


def samplers_for(columns) -> tuple[tuple[str, Callable[[np.random.Generator, Chunk], dict]], ...]:
    """The samplers that ``columns`` need: :data:`SAMPLERS` up to the last one returning one of
    them. A sampler reads only the columns of the samplers before it, and each draws from its
    own stream, so the columns of this prefix are the same as those of the full run."""
    wanted = set(columns)
    last = max(
        (i for i, (name, _) in enumerate(SAMPLERS) if wanted & set(SAMPLER_COLUMNS[name])),
        default=-1,
    )
    return SAMPLERS[: last + 1]
