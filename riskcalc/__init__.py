"""riskcalc: how identifiable is this extract?

Disclosure-risk measures for record-level data (built for pupil-level extracts such as the
National Pupil Database, usable on any table), computed on a vectorised numpy core that handles
millions of records on a laptop.

Encoding and classes
--------------------
encode                Encode columns once as dense integer codes, for many queries.
partition             Equivalence classes (class id per record, class sizes) on a column set.
EncodedTable          The encoded table that every measure accepts in place of raw data.

Before measuring
----------------
profile_columns       Messy quasi-identifiers (case and space variants, mixed date formats, numbers
                      spelt two ways, direct identifiers), counts only.
normalise             The explicit opt-in fix: a normalised copy and what changed.

Measures
--------
class_sizes           ``fk`` (and ``Fk`` with sampling weights) per record, in input order.
size_histogram        The class-size histogram (``SizeHistogram``), which every sample measure reads.
k_anonymity           The k level; records and classes below thresholds.
uniqueness            Sample uniques and pairs; average and highest prosecutor risk.
small_count_exposure  Cells with counts at most t, and the records in them.
risk_summary          All of the above from one partition, as one tidy table with provenance.

Attacker models and population risk
-----------------------------------
attacker_risk         Prosecutor, journalist and marketer risk (El Emam; ARX), optionally against
                      a population table.
model_risk            Log-linear model risk (Skinner-Shlomo tau1/tau2, sdcMicro modRisk methods).
individual_risk       Benedetti-Franconi individual risk with sampling weights, global risk,
                      expected re-identifications, household risk (sdcMicro indivRisk).
population_uniqueness Estimated share of population uniques when the extract is a sample
                      (Zayatz, Pitman, SNB, Dankar's rule); zayatz, pitman, snb on a histogram.

Attribute disclosure
--------------------
l_diversity           Distinct, entropy and recursive (c, l)-diversity of a sensitive field.
t_closeness           Earth mover's distance between each class and the table (Li et al. 2007).
beta_likeness         Basic and enhanced beta-likeness (Cao & Karras 2012).
delta_disclosure      Largest log-ratio of class to table frequencies (Brickell & Shmatikov 2008).
attribute_disclosure  Pupils whose sensitive value their class reveals, per sensitive field.

Tier tables and reports
-----------------------
load_scenarios        Intruder scenarios (named field sets with a rationale) from TOML or a mapping.
risk_table            Every scenario on every extract, attribute disclosure, tier 3 small counts.
tier_risk_table       The same for a synthetic cohort's tier extracts (tiers 1-4).
what_if               Uniqueness before and after coarsening along the registry's ladders.
smallest_coarsening   Fewest ladder steps giving every scenario a target k.
html_report           A self-contained HTML report with charts, definitions and provenance.

Histories (pupils followed census after census)
-----------------------------------------------
trajectory_uniqueness Uniqueness of a pupil's history as more censuses are linked.
points_singled_out    Pupils singled out by p known points of their history (de Montjoye).
linkage_risk          One release with a common id against yearly releases linked on stable fields.
history_attribute_disclosure  FSM/SEN histories revealed by a homogeneous history class.

Simulated linkage attack
------------------------
linkage_attack        Link an intruder's auxiliary table to an extract (exact and Splink
                      Fellegi-Sunter); correct and wrong claims against the truth.

Field combinations
------------------
field_lattice         Every combination of fields up to a size: classes, k, uniques, small cells;
                      minimal identifying combinations and each field's contribution.
suda                  SUDA2: minimal sample uniques per record, SUDA and DIS-SUDA scores.

Safe outputs
------------
audit_tables          Feasible interval of every suppressed or rounded cell of linked tables
                      (what an attacker can still work out); exact and narrow cells.
tier3_audit           The same for the synthetic tier 3 tables, per table.
check_frequency_table Output checking (pass / review / fail per cell): threshold, zeros, class
check_magnitude_table disclosure; (n, k) dominance and p%; means, medians, extremes and
check_summary         percentages. Rules from ``load_output_rules`` (TOML).

Inputs are pandas DataFrames, pyarrow Tables, or paths to CSV, Parquet or Feather files.
Missing values are an explicit policy recorded in every result: ``missing="category"`` (a value
of its own), ``"raise"``, or, for the per-record measures, ``"wildcard"`` (sdcMicro: a missing
value matches anything). Outputs hold counts and shares, never the values of rare records.

Not in scope: perturbative disclosure control (noise, swapping, microaggregation) - see sdcMicro;
optimal generalisation search - see ARX.
"""

from ._core import EncodedTable, Partition, encode, partition
from ._version import __version__
from .exceptions import (
    DataFileError,
    EmptyTableError,
    InvalidParameterError,
    MissingColumnError,
    MissingValueError,
    RiskCalcError,
    UnsupportedTypeError,
)
from .attacker import AttackerRiskResult, attacker_risk
from .attribute import (
    AttributeDisclosureResult,
    BetaLikenessResult,
    DeltaDisclosureResult,
    LDiversityResult,
    TClosenessResult,
    attribute_disclosure,
    beta_likeness,
    delta_disclosure,
    l_diversity,
    t_closeness,
)
from .frequencies import ClassSizesResult, SizeHistogram, class_sizes, size_histogram
from .individual import IndividualRiskResult, individual_risk
from .kanon import KAnonymityResult, k_anonymity
from .profile import ColumnProfile, ProfileResult, normalise, profile_columns
from .model_risk import ModelRiskResult, model_risk
from .histories import (
    linkage_risk,
    points_singled_out,
    trajectory_uniqueness,
    history_attribute_disclosure,
)
from .population import PopulationEstimate, PopulationUniquenessResult, pitman, population_uniqueness, snb, zayatz
from .release.report import html_report
from .release.scenarios import Scenario, load_scenarios
from .release.coarsening import smallest_coarsening, what_if
from .release.tables import RiskTable, risk_table, tier_risk_table
from .lattice import LatticeResult, field_lattice
from .small_counts import SmallCountResult, small_count_exposure
from .suda import SudaResult, suda
from .summary import RiskSummary, risk_summary
from .uniqueness import UniquenessResult, uniqueness
from .linkage_attack import LinkageAttackResult, linkage_attack

# safe outputs: table audit and output checking
from .audit import AuditResult, SuppressionPolicy, apply_policy, audit_tables, tier3_audit
from .output_check import OutputCheckResult, check_frequency_table, check_magnitude_table, check_summary
from .output_check import load_rules as load_output_rules

__all__ = [
    "__version__",
    "encode",
    "partition",
    "EncodedTable",
    "Partition",
    "class_sizes",
    "size_histogram",
    "profile_columns",
    "normalise",
    "ProfileResult",
    "ColumnProfile",
    "SizeHistogram",
    "k_anonymity",
    "uniqueness",
    "small_count_exposure",
    "risk_summary",
    "field_lattice",
    "suda",
    "attacker_risk",
    "individual_risk",
    "population_uniqueness",
    "model_risk",
    "trajectory_uniqueness",
    "points_singled_out",
    "linkage_risk",
    "history_attribute_disclosure",
    "ModelRiskResult",
    "l_diversity",
    "t_closeness",
    "beta_likeness",
    "delta_disclosure",
    "attribute_disclosure",
    "zayatz",
    "pitman",
    "snb",
    "load_scenarios",
    "risk_table",
    "tier_risk_table",
    "what_if",
    "smallest_coarsening",
    "html_report",
    "ClassSizesResult",
    "KAnonymityResult",
    "UniquenessResult",
    "SmallCountResult",
    "RiskSummary",
    "LatticeResult",
    "SudaResult",
    "AttackerRiskResult",
    "IndividualRiskResult",
    "PopulationUniquenessResult",
    "LDiversityResult",
    "TClosenessResult",
    "BetaLikenessResult",
    "DeltaDisclosureResult",
    "AttributeDisclosureResult",
    "PopulationEstimate",
    "Scenario",
    "RiskTable",
    "RiskCalcError",
    "InvalidParameterError",
    "MissingColumnError",
    "EmptyTableError",
    "UnsupportedTypeError",
    "MissingValueError",
    "DataFileError",
    # safe outputs
    "audit_tables",
    "tier3_audit",
    "apply_policy",
    "SuppressionPolicy",
    "AuditResult",
    "check_frequency_table",
    "check_magnitude_table",
    "check_summary",
    "load_output_rules",
    "OutputCheckResult",
    # simulated linkage attack
    "linkage_attack",
    "LinkageAttackResult",
]

for _name in __all__:
    _obj = globals()[_name]
    if hasattr(_obj, "__module__") and isinstance(_obj, type):
        try:
            _obj.__module__ = "riskcalc"
        except (AttributeError, TypeError):  # pragma: no cover
            pass
del _name, _obj
