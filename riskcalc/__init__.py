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
apply_policy          A table as it would be published under a ``SuppressionPolicy``.
check_frequency_table Output checking (pass / review / fail per cell): threshold, zeros, class
check_magnitude_table disclosure; (n, k) dominance and p%; means, medians, extremes and
check_summary         percentages. Rules from ``load_output_rules`` (TOML).

Inputs are *table-like*: pandas or polars DataFrames, polars LazyFrames, pyarrow Tables,
RecordBatchReaders or Datasets, DuckDB relations, any table with the Arrow PyCapsule interface
(``__arrow_c_stream__``), Spark DataFrames, or paths to CSV, Parquet, Feather or Excel files
(``docs/inputs.md``: what is pushed down, what is streamed). Per-record results come back with
``to_pandas()``, ``to_polars()`` or ``to_arrow()``; every result displays as a table in Jupyter.
Missing values are an explicit policy recorded in every result: ``missing="category"`` (a value
of its own), ``"raise"``, or, for the per-record measures, ``"wildcard"`` (sdcMicro: a missing
value matches anything). Outputs hold counts and shares, never the values of rare records.

Not in scope: perturbative disclosure control (noise, swapping, microaggregation) - see sdcMicro;
optimal generalisation search - see ARX.
"""

# The public names are imported on first use (the pattern of Scientific Python's SPEC 1, "lazy
# loading of submodules and functions"): ``import riskcalc`` then costs about 0.1 s instead of
# a second of pandas, pyarrow and numba, and the ``riskcalc tiers`` job starts its cohort's
# worker processes before it imports them (:func:`riskcalc.release.job.tiers_job`). The
# errors and the version are imported now: every message a user sees names them.

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

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

#: Public name -> (module under riskcalc, attribute), imported by :func:`__getattr__`.
_LAZY: dict[str, tuple[str, str]] = {
    "EncodedTable": ("_core.encoding", "EncodedTable"),
    "Partition": ("_core.partition", "Partition"),
    "encode": ("_core.encoding", "encode"),
    "partition": ("_core.access", "partition"),
    "AttackerRiskResult": ("attacker", "AttackerRiskResult"),
    "attacker_risk": ("attacker", "attacker_risk"),
    "AttributeDisclosureResult": ("attribute", "AttributeDisclosureResult"),
    "BetaLikenessResult": ("attribute", "BetaLikenessResult"),
    "DeltaDisclosureResult": ("attribute", "DeltaDisclosureResult"),
    "LDiversityResult": ("attribute", "LDiversityResult"),
    "TClosenessResult": ("attribute", "TClosenessResult"),
    "attribute_disclosure": ("attribute", "attribute_disclosure"),
    "beta_likeness": ("attribute", "beta_likeness"),
    "delta_disclosure": ("attribute", "delta_disclosure"),
    "l_diversity": ("attribute", "l_diversity"),
    "t_closeness": ("attribute", "t_closeness"),
    "ClassSizesResult": ("frequencies", "ClassSizesResult"),
    "SizeHistogram": ("frequencies", "SizeHistogram"),
    "class_sizes": ("frequencies", "class_sizes"),
    "size_histogram": ("frequencies", "size_histogram"),
    "IndividualRiskResult": ("individual", "IndividualRiskResult"),
    "individual_risk": ("individual", "individual_risk"),
    "KAnonymityResult": ("kanon", "KAnonymityResult"),
    "k_anonymity": ("kanon", "k_anonymity"),
    "ColumnProfile": ("profile", "ColumnProfile"),
    "ProfileResult": ("profile", "ProfileResult"),
    "normalise": ("release.quality", "normalise"),
    "profile_columns": ("release.quality", "profile_columns"),
    "ModelRiskResult": ("model_risk", "ModelRiskResult"),
    "model_risk": ("model_risk", "model_risk"),
    "linkage_risk": ("histories", "linkage_risk"),
    "points_singled_out": ("histories", "points_singled_out"),
    "trajectory_uniqueness": ("histories", "trajectory_uniqueness"),
    "history_attribute_disclosure": ("histories", "history_attribute_disclosure"),
    "PopulationEstimate": ("population", "PopulationEstimate"),
    "PopulationUniquenessResult": ("population", "PopulationUniquenessResult"),
    "pitman": ("population", "pitman"),
    "population_uniqueness": ("population", "population_uniqueness"),
    "snb": ("population", "snb"),
    "zayatz": ("population", "zayatz"),
    "html_report": ("release.report", "html_report"),
    "Scenario": ("release.scenarios", "Scenario"),
    "load_scenarios": ("release.scenarios", "load_scenarios"),
    "smallest_coarsening": ("release.coarsening", "smallest_coarsening"),
    "what_if": ("release.coarsening", "what_if"),
    "RiskTable": ("release.tables", "RiskTable"),
    "risk_table": ("release.tables", "risk_table"),
    "tier_risk_table": ("release.tables", "tier_risk_table"),
    "LatticeResult": ("lattice", "LatticeResult"),
    "field_lattice": ("lattice", "field_lattice"),
    "SmallCountResult": ("small_counts", "SmallCountResult"),
    "small_count_exposure": ("small_counts", "small_count_exposure"),
    "SudaResult": ("suda", "SudaResult"),
    "suda": ("suda", "suda"),
    "RiskSummary": ("summary", "RiskSummary"),
    "risk_summary": ("summary", "risk_summary"),
    "UniquenessResult": ("uniqueness", "UniquenessResult"),
    "uniqueness": ("uniqueness", "uniqueness"),
    "LinkageAttackResult": ("linkage_attack", "LinkageAttackResult"),
    "linkage_attack": ("linkage_attack", "linkage_attack"),
    "AuditResult": ("audit", "AuditResult"),
    "SuppressionPolicy": ("audit", "SuppressionPolicy"),
    "apply_policy": ("audit", "apply_policy"),
    "audit_tables": ("audit", "audit_tables"),
    "tier3_audit": ("audit", "tier3_audit"),
    "OutputCheckResult": ("output_check", "OutputCheckResult"),
    "check_frequency_table": ("output_check", "check_frequency_table"),
    "check_magnitude_table": ("output_check", "check_magnitude_table"),
    "check_summary": ("output_check", "check_summary"),
    "load_output_rules": ("output_check", "load_rules"),
}

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

if TYPE_CHECKING:  # what static analysis and IDEs see: the same names, imported eagerly
    from ._core.access import partition
    from ._core.encoding import EncodedTable, encode
    from ._core.partition import Partition
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
    from .audit import (
        AuditResult,
        SuppressionPolicy,
        apply_policy,
        audit_tables,
        tier3_audit,
    )
    from .frequencies import (
        ClassSizesResult,
        SizeHistogram,
        class_sizes,
        size_histogram,
    )
    from .histories import (
        history_attribute_disclosure,
        linkage_risk,
        points_singled_out,
        trajectory_uniqueness,
    )
    from .individual import IndividualRiskResult, individual_risk
    from .kanon import KAnonymityResult, k_anonymity
    from .lattice import LatticeResult, field_lattice
    from .linkage_attack import LinkageAttackResult, linkage_attack
    from .model_risk import ModelRiskResult, model_risk
    from .output_check import (
        OutputCheckResult,
        check_frequency_table,
        check_magnitude_table,
        check_summary,
    )
    from .output_check import load_rules as load_output_rules
    from .population import (
        PopulationEstimate,
        PopulationUniquenessResult,
        pitman,
        population_uniqueness,
        snb,
        zayatz,
    )
    from .profile import ColumnProfile, ProfileResult
    from .release.coarsening import smallest_coarsening, what_if
    from .release.quality import normalise, profile_columns
    from .release.report import html_report
    from .release.scenarios import Scenario, load_scenarios
    from .release.tables import RiskTable, risk_table, tier_risk_table
    from .small_counts import SmallCountResult, small_count_exposure
    from .suda import SudaResult, suda
    from .summary import RiskSummary, risk_summary
    from .uniqueness import UniquenessResult, uniqueness


def _publish(module_name: str) -> None:
    """Bind every public name that ``riskcalc.<module_name>`` defines; its classes print as
    ``riskcalc.<Name>``, as they do in the documentation."""
    module = importlib.import_module(f"{__name__}.{module_name}")
    for name, (home, attr) in _LAZY.items():
        if home == module_name:
            value = getattr(module, attr)
            if isinstance(value, type):
                try:
                    value.__module__ = __name__
                except (AttributeError, TypeError):  # pragma: no cover
                    pass
            globals()[name] = value


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _publish(_LAZY[name][0])
    return globals()[name]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """The package module: importing a submodule that shares its name with a public function
    (``riskcalc.suda``, ``riskcalc.uniqueness``, ...) leaves ``riskcalc.<name>`` the function,
    as the eager imports did (Python's import system would otherwise bind the submodule)."""

    def __setattr__(self, name: str, value) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


for _error in (
    DataFileError,
    EmptyTableError,
    InvalidParameterError,
    MissingColumnError,
    MissingValueError,
    RiskCalcError,
    UnsupportedTypeError,
):
    _error.__module__ = __name__
del _error
sys.modules[__name__].__class__ = _Package
