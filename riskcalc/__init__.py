"""riskcalc: how identifiable is this extract?

Disclosure-risk measures for record-level data (built for pupil-level extracts such as the
National Pupil Database, usable on any table), computed on a vectorised numpy core that handles
millions of records on a laptop.

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

The public names follow, by section (this table is built from ``riskcalc._NAMES``).
"""

# One source of public names: the table ``_NAMES`` below. ``__all__``, the lazy imports
# (:func:`__getattr__`) and the package docstring's table are derived from it; the
# ``TYPE_CHECKING`` imports (what type checkers and IDEs read) are checked against it by
# tests/test_public_api.py, whose failure message prints the block to paste.
#
# The public names are imported on first use (the pattern of Scientific Python's SPEC 1, "lazy
# loading of submodules and functions"): ``import riskcalc`` then costs about 0.1 s instead of
# a second of pandas, pyarrow and numba, and the ``riskcalc tiers`` job starts its cohort's
# worker processes before it imports them (:func:`riskcalc.release.job.tiers_job`). The
# errors and the version are imported now: every message a user sees names them.
#
# No submodule shares its name with a public name (the measures ``suda``, ``uniqueness``,
# ``model_risk`` and ``linkage_attack`` live in ``_suda.py``, ... as scipy.stats does): importing
# a submodule binds it on the package, and would otherwise hide the function.

from __future__ import annotations

import importlib
import textwrap
from typing import TYPE_CHECKING

from ._version import __version__

# Section -> rows ``(public name, home, one-line summary)``; the home is the module under
# ``riskcalc`` that defines the name (under that name). One row a line: the formatter leaves the
# table as written.
# fmt: off
_NAMES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "Encoding and classes": (
        ("encode", "_core.encoding", "Encode columns once as dense integer codes, for many queries."),
        ("partition", "_core.access", "Equivalence classes (class id per record, class sizes) on a column set."),
        ("EncodedTable", "_core.encoding", "The encoded table that every measure accepts in place of raw data."),
        ("Partition", "_core.partition", "The equivalence classes of a table on a set of columns."),
    ),
    "Before measuring": (
        ("profile_columns", "release.quality", "Messy quasi-identifiers (case and space variants, mixed date formats, numbers spelt two ways, direct identifiers), counts only."),
        ("normalise", "release.quality", "The explicit opt-in fix: a normalised copy and what changed."),
        ("ProfileResult", "profile", "What profile_columns found, per column."),
        ("ColumnProfile", "profile", "What profile_columns found in one column (counts only, never values)."),
    ),
    "Measures": (
        ("class_sizes", "frequencies", "``fk`` (and ``Fk`` with sampling weights) per record, in input order."),
        ("size_histogram", "frequencies", "The class-size histogram (``SizeHistogram``), which every sample measure reads."),
        ("k_anonymity", "kanon", "The k level; records and classes below thresholds."),
        ("uniqueness", "_uniqueness", "Sample uniques and pairs; average and highest prosecutor risk."),
        ("small_count_exposure", "small_counts", "Cells with counts at most t, and the records in them."),
        ("risk_summary", "summary", "All of the above from one partition, as one tidy table with provenance."),
        ("ClassSizesResult", "frequencies", "What class_sizes returns."),
        ("SizeHistogram", "frequencies", "Class sizes and how many classes have each size."),
        ("KAnonymityResult", "kanon", "What k_anonymity returns."),
        ("UniquenessResult", "_uniqueness", "What uniqueness returns."),
        ("SmallCountResult", "small_counts", "What small_count_exposure returns."),
        ("RiskSummary", "summary", "What risk_summary returns."),
    ),
    "Attacker models and population risk": (
        ("attacker_risk", "attacker", "Prosecutor, journalist and marketer risk (El Emam; ARX), optionally against a population table."),
        ("model_risk", "_model_risk", "Log-linear model risk (Skinner-Shlomo tau1/tau2, sdcMicro modRisk methods)."),
        ("individual_risk", "individual", "Benedetti-Franconi individual risk with sampling weights, global risk, expected re-identifications, household risk (sdcMicro indivRisk)."),
        ("population_uniqueness", "population", "Estimated share of population uniques when the extract is a sample (Zayatz, Pitman, SNB, Dankar's rule)."),
        ("zayatz", "population", "Zayatz's estimate of the population uniques, from a class-size histogram."),
        ("pitman", "population", "Pitman-model estimate of the population uniques (Hoshino 2001), from a histogram."),
        ("snb", "population", "Slide-negative-binomial estimate of the population uniques, from a histogram."),
        ("AttackerRiskResult", "attacker", "What attacker_risk returns."),
        ("ModelRiskResult", "_model_risk", "What model_risk returns."),
        ("IndividualRiskResult", "individual", "What individual_risk returns."),
        ("PopulationUniquenessResult", "population", "What population_uniqueness returns."),
        ("PopulationEstimate", "population", "What zayatz, pitman and snb return."),
    ),
    "Attribute disclosure": (
        ("l_diversity", "attribute", "Distinct, entropy and recursive (c, l)-diversity of a sensitive field."),
        ("t_closeness", "attribute", "Earth mover's distance between each class and the table (Li et al. 2007)."),
        ("beta_likeness", "attribute", "Basic and enhanced beta-likeness (Cao & Karras 2012)."),
        ("delta_disclosure", "attribute", "Largest log-ratio of class to table frequencies (Brickell & Shmatikov 2008)."),
        ("attribute_disclosure", "attribute", "Pupils whose sensitive value their class reveals, per sensitive field."),
        ("LDiversityResult", "attribute", "What l_diversity returns."),
        ("TClosenessResult", "attribute", "What t_closeness returns."),
        ("BetaLikenessResult", "attribute", "What beta_likeness returns."),
        ("DeltaDisclosureResult", "attribute", "What delta_disclosure returns."),
        ("AttributeDisclosureResult", "attribute", "What attribute_disclosure returns."),
    ),
    "Tier tables and reports": (
        ("load_scenarios", "release.scenarios", "Intruder scenarios (named field sets with a rationale) from TOML or a mapping."),
        ("risk_table", "release.tables", "Every scenario on every extract, attribute disclosure, tier 3 small counts."),
        ("tier_risk_table", "release.tables", "The same for a synthetic cohort's tier extracts (tiers 1-4)."),
        ("what_if", "release.coarsening", "Uniqueness before and after coarsening along the registry's ladders."),
        ("smallest_coarsening", "release.coarsening", "Fewest ladder steps giving every scenario a target k."),
        ("html_report", "release.report", "A self-contained HTML report with charts, definitions and provenance."),
        ("Scenario", "release.scenarios", "An intruder scenario: a named set of fields with its rationale."),
        ("RiskTable", "release.tables", "What risk_table and tier_risk_table return."),
    ),
    "Histories (pupils followed census after census)": (
        ("trajectory_uniqueness", "histories", "Uniqueness of a pupil's history as more censuses are linked."),
        ("points_singled_out", "histories", "Pupils singled out by p known points of their history (de Montjoye)."),
        ("linkage_risk", "histories", "One release with a common id against yearly releases linked on stable fields."),
        ("history_attribute_disclosure", "histories", "FSM/SEN histories revealed by a homogeneous history class."),
    ),
    "Release ledger (every release made so far)": (
        ("read_ledger", "release.ledger", "A ledger of releases from CSV or TOML (or a frame, or release mappings), checked against the field registry."),
        ("write_ledger_csv", "release.ledger", "Write a ledger as CSV (atomically), as read_ledger reads it."),
        ("write_ledger_toml", "release.ledger", "Write a ledger as TOML (atomically), as read_ledger reads it."),
        ("ledger_exposure", "release.exposure", "How many recipients of a ledger of releases can single out each child: record sets unjoined (lower bound) and linked (upper bound), with link feasibility; per recipient and per child."),
        ("LedgerExposureResult", "release.exposure", "What ledger_exposure returns."),
        ("exposure_over_time", "release.exposure_policies", "Cumulative exposure as a ledger's releases accumulate, one row per calendar year of their dates."),
        ("ExposureTimeline", "release.exposure_policies", "What exposure_over_time returns."),
        ("LedgerPolicy", "release.exposure_policies", "A counterfactual ledger policy: releases selected by tier, recipient type, date and reference, dropped or unjoined."),
        ("LEDGER_POLICIES", "release.exposure_policies", "The built-in ledger policies, by name."),
        ("apply_ledger_policy", "release.exposure_policies", "The ledger a LedgerPolicy would have left (a new frame)."),
        ("compare_policies", "release.exposure_policies", "Exposure as released and under each policy: children and exposures saved."),
        ("PolicyComparison", "release.exposure_policies", "What compare_policies returns."),
        ("collusion_exposure", "release.collusion", "What coalitions of k recipients (greedy: a lower bound on the worst k) and all recipients pooled single out, joined on the national PMR; what a breach of each recipient exposes."),
        ("CollusionResult", "release.collusion", "What collusion_exposure returns."),
    ),
    "Simulated linkage attack": (
        ("linkage_attack", "_linkage_attack", "Link an intruder's auxiliary table to an extract (exact and Splink Fellegi-Sunter); correct and wrong claims against the truth."),
        ("LinkageAttackResult", "_linkage_attack", "What linkage_attack returns."),
    ),
    "Field combinations": (
        ("field_lattice", "lattice", "Every combination of fields up to a size: classes, k, uniques, small cells; minimal identifying combinations and each field's contribution."),
        ("suda", "_suda", "SUDA2: minimal sample uniques per record, SUDA and DIS-SUDA scores."),
        ("LatticeResult", "lattice", "What field_lattice returns."),
        ("SudaResult", "_suda", "What suda returns."),
    ),
    "Safe outputs": (
        ("audit_tables", "audit", "Feasible interval of every suppressed or rounded cell of linked tables (what an attacker can still work out); exact and narrow cells."),
        ("tier3_audit", "audit", "The same for the synthetic tier 3 tables, per table."),
        ("apply_policy", "audit", "A frequency table as it would be published under a suppression policy."),
        ("check_frequency_table", "output_check", "Output checking (pass / review / fail per cell) of a frequency table: threshold, zeros, class disclosure."),
        ("check_magnitude_table", "output_check", "The same for a table of totals: (n, k) dominance and p%."),
        ("check_summary", "output_check", "The same for means, medians, extremes and percentages."),
        ("load_output_rules", "output_check", "Output-checking rules (a profile of a TOML file; default: the bundled one)."),
        ("SuppressionPolicy", "audit", "How a releaser protects a frequency table before publishing it."),
        ("AuditResult", "audit", "What audit_tables and tier3_audit return."),
        ("OutputCheckResult", "output_check", "What the check_* functions return."),
    ),
    "Errors (imported with the package)": (
        ("RiskCalcError", "exceptions", "Base class of every error raised by riskcalc."),
        ("InvalidParameterError", "exceptions", "A parameter has the wrong type or a value outside its allowed range (also ValueError, TypeError)."),
        ("MissingColumnError", "exceptions", "A column named by the caller is not in the table (also KeyError)."),
        ("EmptyTableError", "exceptions", "The table has no records (or none left after excluding missing values); also ValueError."),
        ("UnsupportedTypeError", "exceptions", "A column holds values riskcalc cannot encode, e.g. lists (also TypeError)."),
        ("MissingValueError", "exceptions", "A column holds missing values but the chosen policy forbids them (also ValueError)."),
        ("DataFileError", "exceptions", "A data file cannot be found, read or written (also OSError)."),
    ),
}
# fmt: on

#: Public name -> the module under riskcalc that defines it, imported by :func:`__getattr__`.
_LAZY: dict[str, str] = {name: home for rows in _NAMES.values() for name, home, _ in rows}

__all__ = ["__version__", *_LAZY]


def _names_doc(width: int = 100, indent: int = 22) -> str:
    """The docstring's table: a heading per section, a name and its summary per row."""
    out = []
    for section, rows in _NAMES.items():
        out += ["", section, "-" * len(section)]
        for name, _, summary in rows:
            first = name.ljust(indent) if len(name) < indent else name + "  "
            out += textwrap.wrap(
                summary,
                width,
                initial_indent=first,
                subsequent_indent=" " * indent,
                break_on_hyphens=False,
            )
    return "\n".join(out) + "\n"


__doc__ = (__doc__ or "") + _names_doc()

# What type checkers and IDEs see: the same names, each re-exported explicitly (``x as x``);
# tests/test_public_api.py checks this block against _NAMES.
if TYPE_CHECKING:
    from ._core.access import partition as partition
    from ._core.encoding import EncodedTable as EncodedTable
    from ._core.encoding import encode as encode
    from ._core.partition import Partition as Partition
    from ._linkage_attack import LinkageAttackResult as LinkageAttackResult
    from ._linkage_attack import linkage_attack as linkage_attack
    from ._model_risk import ModelRiskResult as ModelRiskResult
    from ._model_risk import model_risk as model_risk
    from ._suda import SudaResult as SudaResult
    from ._suda import suda as suda
    from ._uniqueness import UniquenessResult as UniquenessResult
    from ._uniqueness import uniqueness as uniqueness
    from .attacker import AttackerRiskResult as AttackerRiskResult
    from .attacker import attacker_risk as attacker_risk
    from .attribute import AttributeDisclosureResult as AttributeDisclosureResult
    from .attribute import BetaLikenessResult as BetaLikenessResult
    from .attribute import DeltaDisclosureResult as DeltaDisclosureResult
    from .attribute import LDiversityResult as LDiversityResult
    from .attribute import TClosenessResult as TClosenessResult
    from .attribute import attribute_disclosure as attribute_disclosure
    from .attribute import beta_likeness as beta_likeness
    from .attribute import delta_disclosure as delta_disclosure
    from .attribute import l_diversity as l_diversity
    from .attribute import t_closeness as t_closeness
    from .audit import AuditResult as AuditResult
    from .audit import SuppressionPolicy as SuppressionPolicy
    from .audit import apply_policy as apply_policy
    from .audit import audit_tables as audit_tables
    from .audit import tier3_audit as tier3_audit
    from .exceptions import DataFileError as DataFileError
    from .exceptions import EmptyTableError as EmptyTableError
    from .exceptions import InvalidParameterError as InvalidParameterError
    from .exceptions import MissingColumnError as MissingColumnError
    from .exceptions import MissingValueError as MissingValueError
    from .exceptions import RiskCalcError as RiskCalcError
    from .exceptions import UnsupportedTypeError as UnsupportedTypeError
    from .frequencies import ClassSizesResult as ClassSizesResult
    from .frequencies import SizeHistogram as SizeHistogram
    from .frequencies import class_sizes as class_sizes
    from .frequencies import size_histogram as size_histogram
    from .histories import history_attribute_disclosure as history_attribute_disclosure
    from .histories import linkage_risk as linkage_risk
    from .histories import points_singled_out as points_singled_out
    from .histories import trajectory_uniqueness as trajectory_uniqueness
    from .individual import IndividualRiskResult as IndividualRiskResult
    from .individual import individual_risk as individual_risk
    from .kanon import KAnonymityResult as KAnonymityResult
    from .kanon import k_anonymity as k_anonymity
    from .lattice import LatticeResult as LatticeResult
    from .lattice import field_lattice as field_lattice
    from .output_check import OutputCheckResult as OutputCheckResult
    from .output_check import check_frequency_table as check_frequency_table
    from .output_check import check_magnitude_table as check_magnitude_table
    from .output_check import check_summary as check_summary
    from .output_check import load_output_rules as load_output_rules
    from .population import PopulationEstimate as PopulationEstimate
    from .population import PopulationUniquenessResult as PopulationUniquenessResult
    from .population import pitman as pitman
    from .population import population_uniqueness as population_uniqueness
    from .population import snb as snb
    from .population import zayatz as zayatz
    from .profile import ColumnProfile as ColumnProfile
    from .profile import ProfileResult as ProfileResult
    from .release.coarsening import smallest_coarsening as smallest_coarsening
    from .release.coarsening import what_if as what_if
    from .release.collusion import CollusionResult as CollusionResult
    from .release.collusion import collusion_exposure as collusion_exposure
    from .release.exposure import LedgerExposureResult as LedgerExposureResult
    from .release.exposure import ledger_exposure as ledger_exposure
    from .release.exposure_policies import LEDGER_POLICIES as LEDGER_POLICIES
    from .release.exposure_policies import ExposureTimeline as ExposureTimeline
    from .release.exposure_policies import LedgerPolicy as LedgerPolicy
    from .release.exposure_policies import PolicyComparison as PolicyComparison
    from .release.exposure_policies import apply_ledger_policy as apply_ledger_policy
    from .release.exposure_policies import compare_policies as compare_policies
    from .release.exposure_policies import exposure_over_time as exposure_over_time
    from .release.ledger import read_ledger as read_ledger
    from .release.ledger import write_ledger_csv as write_ledger_csv
    from .release.ledger import write_ledger_toml as write_ledger_toml
    from .release.quality import normalise as normalise
    from .release.quality import profile_columns as profile_columns
    from .release.report import html_report as html_report
    from .release.scenarios import Scenario as Scenario
    from .release.scenarios import load_scenarios as load_scenarios
    from .release.tables import RiskTable as RiskTable
    from .release.tables import risk_table as risk_table
    from .release.tables import tier_risk_table as tier_risk_table
    from .small_counts import SmallCountResult as SmallCountResult
    from .small_counts import small_count_exposure as small_count_exposure
    from .summary import RiskSummary as RiskSummary
    from .summary import risk_summary as risk_summary


def _publish(module_name: str) -> None:
    """Bind every public name that ``riskcalc.<module_name>`` defines; its classes print as
    ``riskcalc.<Name>``, as they do in the documentation (and pickles name them so)."""
    module = importlib.import_module(f"{__name__}.{module_name}")
    for name, home in _LAZY.items():
        if home == module_name:
            value = getattr(module, name)
            if isinstance(value, type):
                try:
                    value.__module__ = __name__
                except (AttributeError, TypeError):  # pragma: no cover
                    pass
            globals()[name] = value


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _publish(_LAZY[name])
    return globals()[name]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


_publish("exceptions")  # every message a user sees names these errors
