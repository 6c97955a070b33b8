"""The answers of :func:`riskcalc.population_uniqueness`: one estimator's
(:class:`PopulationEstimate`) and the measure's (:class:`PopulationUniquenessResult`), with how
their expected counts are shown.

The estimators live in :mod:`riskcalc._population_estimators` (Zayatz, Pitman, SNB and Dankar's
rule, on a class-size histogram), :mod:`riskcalc._population_loglinear` and
:mod:`riskcalc._population_forest`; :mod:`riskcalc.population` runs them and chooses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _format as fmt
from ._render import Displayed, RecordFrames
from .exceptions import InvalidParameterError

__all__ = ["PopulationEstimate", "PopulationUniquenessResult"]

#: The estimators' names in sentences ("Zayatz was requested.").
_LABEL = {
    "zayatz": "Zayatz",
    "pitman": "Pitman",
    "snb": "SNB",
    "loglinear": "The log-linear model",
    "forest": "The forest model",
}


@dataclass(frozen=True, slots=True)
class PopulationEstimate(Displayed):
    """One estimator's answer, computed from a class-size histogram.

    Attributes
    ----------
    method : {"zayatz", "pitman", "snb", "loglinear"}
    n_population_uniques : float
        Estimated (expected) number of population uniques, not rounded: a model's expectation,
        not a count of anyone; ``nan`` when the estimator failed.
    estimate : float
        ``n_population_uniques / population_size``, the estimated share of population uniques.
    converged : bool
        Whether the estimate is usable: the fit converged to an interior solution and the count
        is finite and within ``[0, population_size]``. Always ``True`` for Zayatz.
    parameters : dict
        The fitted or intermediate quantities (Pitman: ``theta``, ``alpha``,
        ``log_likelihood``, ``gradient``; SNB: ``alpha``, ``beta``, ``n_population_classes``;
        Zayatz: ``conditional_uniqueness``; loglinear: ``tau1``, ``tau2``, ``impact_z``,
        ``n_interactions``, ``deviance``, and ``model``, the formula chosen).
    message : str
        One sentence on how the value was obtained or why the estimator failed.
    n_records, population_size, n_sample_uniques : int
        The inputs.

    Examples
    --------
    >>> import riskcalc as rc
    >>> estimate = rc.zayatz([1, 2], [2, 1], n=4, N=40)  # 2 classes of 1, one class of 2
    >>> type(estimate).__name__, estimate.method, estimate.n_sample_uniques
    ('PopulationEstimate', 'zayatz', 2)
    """

    method: str
    n_population_uniques: float
    estimate: float
    converged: bool
    parameters: dict = field(default_factory=dict)
    message: str = ""
    n_records: int = 0
    population_size: int = 0
    n_sample_uniques: int = 0

    @property
    def sampling_fraction(self) -> float:
        """``n_records / population_size``."""
        return self.n_records / self.population_size

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v:.6g}" for k, v in self.parameters.items() if _is_number(v))
        return (
            f"PopulationEstimate({self.method!r}, estimate={self.estimate:.6g}, "
            f"n_population_uniques={_expected(self.n_population_uniques)}, "
            f"converged={self.converged}" + (f", {params}" if params else "") + ")"
        )


@dataclass(frozen=True, slots=True)
class PopulationUniquenessResult(RecordFrames):
    """Estimated population uniques, the estimator used, and why.

    Attributes
    ----------
    estimate : float
        Estimated share of population uniques: estimated number of population uniques divided by
        the population size (ARX's ``getFractionOfUniqueTuples``). ``nan`` if the requested
        estimator failed.
    n_population_uniques : float
        Estimated number of population uniques: an expected value under the estimator's model,
        not rounded (the repr rounds it and says so).
    method : str
        The method asked for: ``"auto"``, ``"dankar"``, ``"pitman"``, ``"zayatz"``, ``"snb"`` or
        ``"loglinear"``.
    method_used : str
        The estimator whose value is reported: ``"loglinear"``, ``"pitman"``, ``"zayatz"`` or
        ``"snb"``;
        ``"census"`` when the sampling fraction is 1 (population uniques are the sample
        uniques); ``"none"`` when a rule had nothing to estimate (no sample uniques).
    reason : str
        One sentence on why ``method_used`` was chosen, or why the rule fell back.
    sampling_fraction : float
        The sampling fraction as given (or ``n_records / population_size`` when only the
        population size was given). The estimators use ``n_records / population_size``.
    population_size : int
    n_records : int
    n_sample_uniques : int
        Records unique in the extract (``c_1``).
    quasi_identifiers : tuple of str
    missing : str
    estimates : dict of str to float
        Share of population uniques according to each estimator computed (``nan`` if it failed).
    fits : dict of str to PopulationEstimate
        Each estimator's full answer: fitted parameters, convergence flag and message.
    interval : tuple of float
        ``(low, high)``: where the number of population uniques lies, at ``confidence``, whatever
        estimator is reported: from the two models that bound the forest estimate (the unique
        record's own count fully trusted, and left out) widened by the sampling noise of each
        (see :func:`population_uniqueness`). ``(0, N - (n - n_sample_uniques))`` when no model
        could be fitted. Quote it with the estimate.
    confidence : float
        The interval's intended coverage (default 0.9).
    trusted : bool
        Whether the interval lies within ``TRUST_SHARE`` (25%) of the estimate on each side (or
        within ``TRUST_COUNT`` = 50 records): if not, the extract cannot pin the figure down and
        only the interval should be quoted; ``caution`` says why.
    caution : str
        Empty when ``trusted``; otherwise one sentence for the reader.
    record_probabilities : numpy.ndarray or None
        Per record, input order: the forest model's probability that the record is unique in the
        population (0 for records not unique in the extract; 1 for sample uniques of a census).
        ``None`` when the model could not be fitted (a Spark table). See :meth:`records_frame`.
    record_sizes : numpy.ndarray or None
        Per record, input order: the size of its class in the extract.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMFF"), "year": [7, 7, 7, 8, 8, 8],
    ...                    "fsm": [True, True, False, False, True, False]})
    >>> result = rc.population_uniqueness(df, ["sex", "year"], sampling_fraction=0.1, method="zayatz")
    >>> result.method, result.n_sample_uniques
    ('zayatz', 2)
    """

    estimate: float
    n_population_uniques: float
    method: str
    method_used: str
    reason: str
    sampling_fraction: float
    population_size: int
    n_records: int
    n_sample_uniques: int
    quasi_identifiers: tuple[str, ...]
    missing: str
    estimates: dict
    fits: dict
    interval: tuple = (math.nan, math.nan)
    confidence: float = 0.9
    trusted: bool = False
    caution: str = ""
    record_probabilities: np.ndarray | None = field(default=None, repr=False, compare=False)
    record_sizes: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def interval_share(self) -> tuple:
        """``interval`` divided by the population size."""
        return (self.interval[0] / self.population_size, self.interval[1] / self.population_size)

    def records_frame(self) -> pd.DataFrame:
        """One row per record of the extract (input order): its class size in the extract
        (``fk``) and its estimated probability of being unique in the population
        (``population_unique_prob``, 0 unless unique in the extract), to rank records by."""
        if self.record_probabilities is None:
            raise InvalidParameterError(
                "This estimate has no per-record probabilities: the forest model was not fitted "
                f"({_lower_first(self.fits['forest'].message)})"
            )
        return pd.DataFrame(
            {"fk": self.record_sizes, "population_unique_prob": self.record_probabilities}
        )

    @property
    def sample_uniqueness(self) -> float:
        """Share of records unique in the extract, ``n_sample_uniques / n_records``."""
        return self.n_sample_uniques / self.n_records

    @property
    def converged(self) -> dict:
        """``{method: bool}``: whether each estimator computed gave a usable value."""
        return {m: f.converged for m, f in self.fits.items()}

    @property
    def parameters(self) -> dict:
        """``{method: dict}``: the fitted parameters of each estimator (Pitman's MLE
        ``theta`` and ``alpha``, SNB's ``alpha``, ``beta`` and ``n_population_classes``)."""
        return {m: dict(f.parameters) for m, f in self.fits.items()}

    def to_frame(self) -> pd.DataFrame:
        """One row per estimator computed: counts, then shares, then fit diagnostics.

        The row of the reported estimator has ``chosen == True``. ``theta`` and ``alpha`` on
        the ``pitman`` row are Pitman's MLE; ``alpha`` and ``beta`` on the ``snb`` row are the
        SNB parameters; ``impact_z`` and ``model`` on the ``loglinear`` row are the model's
        standardised impact and formula; other cells are ``nan`` (``""`` for ``model``).
        ``message`` says how each value was obtained or why the fit failed.
        """
        rows = []
        for name, fit in self.fits.items():
            params = fit.parameters
            rows.append(
                {
                    "method": name,
                    "chosen": name == self.method_used,
                    "n_records": self.n_records,
                    "population_size": self.population_size,
                    "sampling_fraction": self.sampling_fraction,
                    "n_sample_uniques": self.n_sample_uniques,
                    "sample_uniqueness": self.sample_uniqueness,
                    "n_population_uniques": fit.n_population_uniques,
                    "estimate": fit.estimate,
                    "converged": fit.converged,
                    "theta": params.get("theta", np.nan),
                    "alpha": params.get("alpha", np.nan),
                    "beta": params.get("beta", np.nan),
                    "impact_z": params.get("impact_z", np.nan),
                    "model": params.get("model", ""),
                    "message": fit.message,
                }
            )
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        others = ", ".join(
            f"{m}={fmt.pct(v, 3)}" for m, v in self.estimates.items() if m != self.method_used
        )
        interval = (
            f"interval=({_expected_bound(self.interval[0])}, "
            f"{_expected_bound(self.interval[1])}) at {self.confidence:.0%}"
        )
        if self.trusted:
            head = (
                f"n_population_uniques={_expected(self.n_population_uniques)}, "
                f"estimate={fmt.pct(self.estimate, 4)}, {interval}, trusted=True"
            )
        else:  # the interval first: the estimate alone should not be quoted
            head = (
                f"NOT TRUSTED: {interval}, caution={self.caution!r}, "
                f"n_population_uniques={_expected(self.n_population_uniques)}, "
                f"estimate={fmt.pct(self.estimate, 4)}"
            )
        return (
            f"PopulationUniquenessResult({head}, method_used={self.method_used!r}, "
            f"method={self.method!r}, reason={self.reason!r}, other estimates: {others}; "
            f"n_sample_uniques={fmt.count(self.n_sample_uniques)}, "
            f"sample_uniqueness={fmt.pct(self.sample_uniqueness, 4)}, "
            f"sampling_fraction={self.sampling_fraction:.6g}, "
            f"population_size={fmt.count(self.population_size)}, "
            f"n_records={fmt.count(self.n_records)})"
        )


def _expected_bound(count: float) -> str:
    return "nan" if not math.isfinite(count) else fmt.count(round(count))


def _expected(count: float) -> str:
    """An expected count for display: rounded, and said to be an expectation."""
    if not math.isfinite(count):
        return "nan"
    if count == round(count):
        return fmt.count(round(count))
    return f"~{fmt.count(round(count))} (expected, rounded)"


# --------------------------------------------------------------------------------------------


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def _finish(method, count, n, N, c1, params, message, converged=True):
    """The estimate of ``count`` population uniques, usable only when the fit converged and the
    count is finite and within ``[0, N]`` (else ``nan``, and the message says why)."""
    ok = bool(converged and np.isfinite(count) and 0.0 <= count <= N)
    if converged and not ok:
        message = (
            f"The fitted model gives {count:.6g} population uniques, outside [0, N = {N}]; "
            "no estimate."
        )
    if not ok:
        count = float("nan")
    return PopulationEstimate(method, float(count), float(count) / N, ok, params, message, n, N, c1)
