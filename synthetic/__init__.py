"""Synthetic NPD-like pupil cohorts and tier extracts for disclosure-risk work.

``synthetic`` builds a synthetic England spring-census cohort (one row per pupil, every field
of the registry), cuts it into the NPD tier extracts this project operationalises
(``shared/npd-spec.md`` section 1.4) and writes them to Parquet with provenance. All marginals
come from data files in ``synthetic/data`` that name their sources; see ``docs/synthetic.md``.

Cohort
------
generate_cohort       one row per pupil, vectorised, chunked by LA, reproducible (SPEC 7 ``rng=``)
FULL_POPULATION       8,457,089 state-funded pupils (January 2024)

Panel
-----
generate_panel        one row per pupil per census over several years, stable ids; LA chunks,
                      partitioned Parquet dataset (``out=``) or a DataFrame
read_panel            read (part of) a panel dataset, filters pushed down
panel_columns, CENSUSES, PanelDataset
cohort_extract        a KS4 cohort with its censuses back to Year 7, KS2 and KS4 (tier 1/2/4)
school_extract        one school's or LA's pupils over several years (tier 1/2/4)
history_wide          a long extract as one row per pupil (school / year group per census)
longitudinal_columns  the columns of a longitudinal tier extract

Extracts
--------
tier_extract          record-level extract of tier 1, 2 or 4 (columns from the registry)
tier3_tables          tier 3 aggregate counts: school or LA x year group x sex x characteristic
write_extract         atomic Parquet write with tier, seed, version and field roles in metadata
write_tiers           write tiers 1, 2, 4 and the tier 3 tables into a directory (2 threads)
tier_paths            the file names write_tiers uses
read_extract          read back, restoring registry dtypes; metadata in ``attrs["synthetic"]``
read_metadata         the metadata block only

Registry (``synthetic.schema``)
-------------------------------
FIELDS, FIELD_NAMES   every field: name, dtype, code list, NPD item, tier, role, ladder
Field, Rung, Role     the registry types (a Rung names a column and/or a coarsening function)
field                 look up one field by name
columns_for_tier      column names of a tier extract
quasi_identifiers, sensitive_attributes, direct_identifiers
                      field names by role, optionally for one tier

UPN helpers
-----------
upn_check_letter, is_valid_upn

Errors
------
SyntheticError (ValueError), ExtractExistsError

Out of scope: the disclosure-risk measures themselves live in :mod:`riskcalc`.
"""

from ._version import GENERATOR_VERSION
from .cohort import FULL_POPULATION, generate_cohort
from .exceptions import ExtractExistsError, SyntheticError
from .panel import CENSUSES, PanelDataset, generate_panel, panel_columns, read_panel
from .longitudinal import cohort_extract, history_wide, longitudinal_columns, school_extract
from .io import read_extract, read_metadata, tier_paths, write_extract, write_tiers
from .schema import (
    FIELD_NAMES,
    FIELDS,
    Field,
    Role,
    Rung,
    columns_for_tier,
    direct_identifiers,
    field,
    quasi_identifiers,
    sensitive_attributes,
)
from .tiers import tier3_tables, tier_extract
from .upn import is_valid_upn, upn_check_letter

__version__ = GENERATOR_VERSION

__all__ = [
    "generate_cohort",
    "FULL_POPULATION",
    "generate_panel",
    "read_panel",
    "PanelDataset",
    "panel_columns",
    "CENSUSES",
    "cohort_extract",
    "school_extract",
    "history_wide",
    "longitudinal_columns",
    "tier_extract",
    "tier3_tables",
    "write_extract",
    "write_tiers",
    "tier_paths",
    "read_extract",
    "read_metadata",
    "FIELDS",
    "FIELD_NAMES",
    "Field",
    "Rung",
    "Role",
    "field",
    "columns_for_tier",
    "quasi_identifiers",
    "sensitive_attributes",
    "direct_identifiers",
    "upn_check_letter",
    "is_valid_upn",
    "SyntheticError",
    "ExtractExistsError",
    "GENERATOR_VERSION",
]
