r"""Population uniqueness estimated from a sample: a forest model with an interval, Zayatz,
Pitman, SNB, the log-linear model and Dankar's rule.

When an extract is a simple random sample (sampling fraction :math:`f = n / N`) of a
population of :math:`N` records, a record that is unique in the extract need not be unique in
the population. The estimators here read only the sample's *class-size histogram*
(:math:`c_j` = number of equivalence classes of size :math:`j`, as ARX's
``RiskModelHistogram``) and estimate the number of population uniques; the headline figure is
that number divided by :math:`N` (as ARX reports it).

* :func:`zayatz` - Zayatz (1991): the chance that a sample unique is a population unique, from
  hypergeometric sampling probabilities [1]_.
* :func:`pitman` - Hoshino (2001): the Pitman sampling formula, two parameters fitted by
  maximum likelihood [2]_ [3]_.
* :func:`snb` - Chen and Keller-McNulty (1998): the slide negative binomial model, fitted by
  matching the numbers of sample classes of size one and two [4]_.
* ``"loglinear"`` - a Poisson log-linear model of the cell counts with interactions chosen by
  Skinner and Shlomo's impact criterion (:func:`riskcalc.model_risk.model_risk`) [6]_: the
  expected number of population uniques :math:`\hat\tau_1 / f`.
* ``"forest"`` - a forest of smoothed field-to-field conditionals (Chow and Liu 1968 [7]_;
  ``riskcalc._forest``) giving each sample unique's chance of being a population unique, with
  the weight of the record's own count measured on subsamples of the extract; it also gives
  the interval every result carries.
* :func:`population_uniqueness` - runs them all on a table. Its default, ``"auto"``, reports the
  forest's estimate with its interval and a verdict on whether it can be quoted (the evidence,
  a simulation with a held-out half, is in ``docs/population.md``); Dankar et al.'s rule
  (2012) [5]_ (Pitman when :math:`f \le 0.1`, Zayatz if Pitman fails, otherwise the smaller of
  Zayatz and SNB) stays available as ``method="dankar"``.

References
----------
.. [1] Zayatz, L. V. (1991). Estimation of the percent of unique population elements on a
   microdata file using the sample. Statistical Research Division Report Number Census/SRD/
   RR-91/08, US Bureau of the Census.
.. [2] Hoshino, N. (2001). Applying Pitman's sampling formula to microdata disclosure risk
   assessment. *Journal of Official Statistics* 17(4), 499-520.
.. [3] Pitman, J. (1996). Random discrete distributions invariant under size-biased
   permutation. *Advances in Applied Probability* 28(2), 525-539.
   https://doi.org/10.2307/1428070
.. [4] Chen, G. and Keller-McNulty, S. (1998). Estimation of identification disclosure risk in
   microdata. *Journal of Official Statistics* 14(1), 79-95.
.. [5] Dankar, F. K., El Emam, K., Neisa, A. and Roffey, T. (2012). Estimating the
   re-identification risk of clinical data sets. *BMC Medical Informatics and Decision Making*
   12, 66. https://doi.org/10.1186/1472-6947-12-66
.. [6] Skinner, C. J. and Shlomo, N. (2008). Assessing identification risk in survey microdata
   using log-linear models. *Journal of the American Statistical Association* 103(483),
   989-1001. https://doi.org/10.1198/016214507000001328
.. [7] Chow, C. K. and Liu, C. N. (1968). Approximating discrete probability distributions with
   dependence trees. *IEEE Transactions on Information Theory* 14(3), 462-467.
   https://doi.org/10.1109/TIT.1968.1054142
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from . import _format as fmt
from ._core.backend import backend_for
from ._forest import fit_forest, unique_probability
from ._lazy import lazy_module
from ._render import Displayed, RecordFrames
from ._typing import ArrayLike, Fields, MissingPolicy, TableLike
from ._validation import (
    check_choice,
    check_histogram,
    check_int,
    check_missing_policy,
    check_share,
    check_whole,
)
from .exceptions import InvalidParameterError, RiskCalcError

optimize = lazy_module("scipy.optimize")
special = lazy_module("scipy.special")

__all__ = [
    "METHODS",
    "DANKAR_THRESHOLD",
    "PopulationEstimate",
    "PopulationUniquenessResult",
    "population_uniqueness",
    "zayatz",
    "pitman",
    "snb",
]

#: Accepted values of ``method``.
PopulationMethod = Literal["auto", "forest", "dankar", "pitman", "zayatz", "snb", "loglinear"]
METHODS: tuple[PopulationMethod, ...] = (
    "auto",
    "forest",
    "dankar",
    "pitman",
    "zayatz",
    "snb",
    "loglinear",
)
#: Interactions the log-linear estimate may add (a cost cap: each step tries every pair of
#: fields; the simulation in docs/population.md never chose more than 3).
LOGLINEAR_MAX_INTERACTIONS = 3
#: Estimators whose estimates every call reports.
ESTIMATORS = ("zayatz", "pitman", "snb", "loglinear", "forest")
#: Dankar et al.'s threshold on the sampling fraction: Pitman at or below it, Zayatz/SNB above.
DANKAR_THRESHOLD = 0.1
#: Relative size of the log-likelihood gradient below which Pitman's fit counts as converged.
_PITMAN_GTOL = 1e-9
#: Closed forms of Pitman's sums are used while theta / alpha <= this times the number of classes.
_CLOSED_FORM_RATIO = 20.0
#: Terms of the power series used beyond that ratio (each term shrinks by at least 20 times).
_SERIES_TERMS = 24
#: Largest log residual of SNB's two moment equations accepted as a solution.
_SNB_TOL = 1e-9


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


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
# Histogram helpers
# --------------------------------------------------------------------------------------------


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool)


def _trivial(method, s, c, n, N):
    """The cases every estimator answers without a model: no sample uniques, or a census."""
    c1 = int(c[0]) if s[0] == 1 else 0
    if c1 == 0:
        return PopulationEstimate(
            method,
            0.0,
            0.0,
            True,
            {},
            "No record is unique in the sample, so no population unique is estimated (as ARX).",
            n,
            N,
            0,
        )
    if n == N:
        return PopulationEstimate(
            method,
            float(c1),
            c1 / N,
            True,
            {},
            "The sample is the whole population: population uniques are the sample uniques.",
            n,
            N,
            c1,
        )
    return None


def _finish(method, count, n, N, c1, params, message, converged=True):
    ok = bool(converged and np.isfinite(count) and 0.0 <= count <= N)
    if converged and not ok:
        message = (
            f"The fitted model gives {count:.6g} population uniques, outside [0, N = {N}]; "
            "no estimate."
        )
    if not ok:
        count = float("nan")
    return PopulationEstimate(method, float(count), float(count) / N, ok, params, message, n, N, c1)


# --------------------------------------------------------------------------------------------
# Zayatz
# --------------------------------------------------------------------------------------------


def _log_p_one(sizes: np.ndarray, n: int, N: int) -> np.ndarray:
    r"""log P(exactly one of a class of ``sizes`` population records is sampled).

    Hypergeometric: drawing :math:`n` of :math:`N` records,

    .. math::
        P_s = \frac{s \binom{N - s}{n - 1}}{\binom{N}{n}}
            = s \frac{n}{N} \prod_{k=0}^{s-2} \Big(1 - \frac{n - 1}{N - 1 - k}\Big),

    the product summed in logs with ``log1p`` over ``k < max(sizes)`` (one cumulative sum, no
    cancellation between large log-factorials).
    """
    largest = int(sizes.max())
    k = np.arange(max(largest - 1, 0), dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        # A factor N - n - k <= 0 means the class cannot leave all but one record unsampled.
        terms = np.where(N - n - k > 0, np.log1p(-(n - 1) / (N - 1 - k)), -np.inf)
    cum = np.concatenate([[0.0], np.cumsum(terms)])  # cum[m] = sum_{k < m}
    idx = sizes.astype(np.int64) - 1
    return np.log(sizes) + math.log(n / N) + cum[idx]


def zayatz(sizes: ArrayLike, counts: ArrayLike, n: int, N: int) -> PopulationEstimate:
    r"""Zayatz's estimate of the number of population uniques from a sample's class sizes.

    .. math::

        \hat U = \frac{c_1}{f}\,\hat p, \qquad
        \hat p = \frac{c_1 P_1}{\sum_j c_j P_j}, \qquad
        P_j = \frac{j \binom{N - j}{n - 1}}{\binom{N}{n}}

    where :math:`c_j` is the number of sample classes of size :math:`j`, :math:`f = n / N`, and
    :math:`P_j` is the hypergeometric probability that exactly one record of a population class
    of size :math:`j` enters a sample of :math:`n` out of :math:`N`. The observed sample class
    sizes stand in for the population class-size distribution.

    In words: :math:`\hat p` is the estimated chance that a sample unique is also unique in the
    population; scaling the sample uniques that are population uniques by :math:`1/f` gives the
    population count. The share :math:`\hat U / N = c_1 \hat p / n` never exceeds the sample
    uniqueness :math:`c_1 / n`.

    Parameters
    ----------
    sizes : array_like of int
        Distinct class sizes in the sample.
    counts : array_like of int
        Number of sample classes of each size.
    n : int
        Sample size, ``sum(sizes * counts)``.
    N : int
        Population size, at least ``n``.

    Returns
    -------
    PopulationEstimate
        ``parameters["conditional_uniqueness"]`` holds :math:`\hat p`.

    References
    ----------
    .. [1] Zayatz, L. V. (1991). Estimation of the percent of unique population elements on a
       microdata file using the sample. Statistical Research Division Report Number
       Census/SRD/RR-91/08, US Bureau of the Census.
    .. [2] Dankar, F. K., El Emam, K., Neisa, A. and Roffey, T. (2012). Estimating the
       re-identification risk of clinical data sets. *BMC Medical Informatics and Decision
       Making* 12, 66. https://doi.org/10.1186/1472-6947-12-66

    Examples
    --------
    >>> from scipy.stats import hypergeom
    >>> est = zayatz([1, 2], [2, 1], n=4, N=40)
    >>> p1, p2 = hypergeom.pmf(1, 40, [1, 2], 4)
    >>> p_hat = 2 * p1 / (2 * p1 + 1 * p2)
    >>> bool(abs(est.n_population_uniques - 2 * p_hat / (4 / 40)) < 1e-12)
    True
    """
    s, c, n, N = check_histogram(sizes, counts, n, N, "zayatz")
    trivial = _trivial("zayatz", s, c, n, N)
    if trivial is not None:
        return trivial
    c1 = int(c[0])
    log_p = _log_p_one(s, n, N)
    # Ratio P_j / P_1, so that tiny probabilities (large N) never underflow together.
    weights = c * np.exp(log_p - log_p[0])
    p_hat = c1 / float(np.sum(weights))
    count = c1 * p_hat * N / n
    return _finish(
        "zayatz",
        count,
        n,
        N,
        c1,
        {"conditional_uniqueness": p_hat},
        "Sample uniques weighted by the hypergeometric chance that they are population uniques.",
    )


# --------------------------------------------------------------------------------------------
# Pitman
# --------------------------------------------------------------------------------------------


def _power_sums(m: int, kmax: int) -> np.ndarray:
    """``[sum_{i=1}^m i^k for k in 0..kmax]``, exact in integers, then as floats.

    From the telescoping identity ``(m+1)^(k+1) - 1 = sum_{j<=k} C(k+1, j) P_j(m)``; ``kmax`` is
    about 26, so this is a few dozen integer operations.
    """
    sums: list[int] = []
    for k in range(kmax + 1):
        rest = sum(math.comb(k + 1, j) * sums[j] for j in range(k))
        sums.append(((m + 1) ** (k + 1) - 1 - rest) // (k + 1))
    return np.array([float(x) if x < 1e300 else np.inf for x in sums])


def _series_sums(theta: float, step: float, m: float, power: np.ndarray):
    """Sums over i = 1..m of log(x), 1/x, 1/x^2, i/x, i/x^2, i^2/x^2 with x = theta + i step.

    Power series in ``eps = step / theta``: ``1 / x = (1/theta) sum_k (-eps)^k i^k``, with the
    power sums ``power[k] = sum_i i^k``. Used only when ``m * eps < 1 / 20``, so each term is at
    least 20 times smaller than the one before and ``_SERIES_TERMS`` terms reach full precision.
    """
    terms = _SERIES_TERMS
    k = np.arange(terms, dtype=np.float64)
    neg = (-step / theta) ** k
    s1 = float(np.dot(neg, power[:terms])) / theta
    t1 = float(np.dot(neg, power[1 : terms + 1])) / theta
    s2 = float(np.dot((k + 1) * neg, power[:terms])) / theta**2
    t2 = float(np.dot((k + 1) * neg, power[1 : terms + 1])) / theta**2
    t3 = float(np.dot((k + 1) * neg, power[2 : terms + 2])) / theta**2
    s0 = m * math.log(theta) - float(np.dot(neg[1:] / k[1:], power[1:terms]))
    return s0, s1, s2, t1, t2, t3


class _PitmanLikelihood:
    r"""Log-likelihood of the Pitman sampling formula, its gradient and Hessian, in closed form.

    With :math:`u` classes in a sample of :math:`n` records, :math:`c_j` of size :math:`j`,

    .. math::
        \ell(\theta, \alpha) = \sum_{i=1}^{u-1} \log(\theta + i\alpha)
            - \sum_{i=1}^{n-1} \log(\theta + i)
            + \sum_j c_j \sum_{k=1}^{j-1} \log(k - \alpha),

    and every inner sum is a difference of log-gamma (digamma, trigamma) values:
    :math:`\sum_{i=1}^{u-1}\log(\theta + i\alpha) = (u-1)\log\alpha + \log\Gamma(\theta/\alpha + u)
    - \log\Gamma(\theta/\alpha + 1)`, and so on (a power series near :math:`\alpha = 0`, see
    ``_sums``). The sum over sizes is one dot product over the distinct sizes.
    """

    def __init__(self, s: np.ndarray, c: np.ndarray, n: int):
        self.s = s
        self.c = c
        self.n = float(n)
        self.u = float(np.sum(c))
        self._power = _power_sums(int(self.u) - 1, _SERIES_TERMS + 2)
        self._power_n = _power_sums(int(n) - 1, _SERIES_TERMS + 2)

    def _sums(self, theta, alpha):
        """Sums over i = 1..u-1 of log(x), 1/x, 1/x^2, i/x, i/x^2, i^2/x^2 with x = theta + i alpha.

        Closed forms in digamma/trigamma of ``r = theta / alpha`` are used unless ``r`` dwarfs
        ``u`` (alpha near 0), where they cancel catastrophically; there each sum is a power
        series in ``alpha / theta`` whose coefficients are the power sums ``sum_i i^k``.
        Either way an evaluation costs O(1), whatever the number of classes.
        """
        u = self.u
        m = u - 1
        r = theta / alpha
        if r <= _CLOSED_FORM_RATIO * u:
            s0 = m * math.log(alpha) + special.gammaln(r + u) - special.gammaln(r + 1)
            s1 = (special.digamma(r + u) - special.digamma(r + 1)) / alpha
            s2 = (special.polygamma(1, r + 1) - special.polygamma(1, r + u)) / alpha**2
            t1 = (m - theta * s1) / alpha
            t2 = (s1 - theta * s2) / alpha
            t3 = (m - 2 * theta * s1 + theta**2 * s2) / alpha**2
            return s0, s1, s2, t1, t2, t3
        return _series_sums(theta, alpha, m, self._power)

    def _theta_sums(self, theta):
        """Sums over i = 1..n-1 of log(theta + i), 1/(theta + i) and 1/(theta + i)^2.

        Log-gamma differences, or the power series in ``1 / theta`` once ``theta`` dwarfs ``n``
        (where the differences of large log-gamma values would lose digits).
        """
        n = self.n
        if theta <= _CLOSED_FORM_RATIO * n:
            return (
                special.gammaln(theta + n) - special.gammaln(theta + 1),
                special.digamma(theta + n) - special.digamma(theta + 1),
                special.polygamma(1, theta + 1) - special.polygamma(1, theta + n),
            )
        s0, s1, s2, _, _, _ = _series_sums(theta, 1.0, n - 1, self._power_n)
        return s0, s1, s2

    def value(self, theta, alpha):
        s, c = self.s, self.c
        s0 = self._sums(theta, alpha)[0]
        second = self._theta_sums(theta)[0]
        third = float(np.dot(c, special.gammaln(s - alpha))) - self.u * special.gammaln(1 - alpha)
        return s0 - second + third

    def _parts(self, theta, alpha):
        _, s1, _, t1, _, _ = self._sums(theta, alpha)
        tail_theta = self._theta_sums(theta)[1]
        tail_alpha = float(
            np.dot(self.c, special.digamma(self.s - alpha) - special.digamma(1 - alpha))
        )
        return s1, tail_theta, t1, tail_alpha

    def gradient(self, theta, alpha):
        s1, tail_theta, t1, tail_alpha = self._parts(theta, alpha)
        return np.array([s1 - tail_theta, t1 - tail_alpha])

    def gradient_scale(self, theta, alpha):
        """Sizes of the terms that cancel in each gradient component (for a relative test)."""
        s1, tail_theta, t1, tail_alpha = self._parts(theta, alpha)
        return np.array(
            [max(abs(s1) + abs(tail_theta), 1e-300), max(abs(t1) + abs(tail_alpha), 1e-300)]
        )

    def hessian(self, theta, alpha):
        s, c = self.s, self.c
        _, _, s2, _, t2, t3 = self._sums(theta, alpha)
        h_tt = -s2 + self._theta_sums(theta)[2]
        h_ta = -t2
        h_aa = -t3 - float(
            np.dot(c, special.polygamma(1, 1 - alpha) - special.polygamma(1, s - alpha))
        )
        return np.array([[h_tt, h_ta], [h_ta, h_aa]])


def _pitman_start(c1, c2, u, n):
    """Hoshino's moment-type starting values (as used by ARX), or ``None`` if infeasible."""
    c2 = c2 if c2 > 0 else 1.0
    cc = c1 * (c1 - 1) / c2
    den = (2 * c1 * u + c1 * cc) - n * cc
    if den == 0:
        return None
    theta = (n * u * cc - c1 * (n - 1) * (2 * u + cc)) / den
    alpha = (theta * (c1 - n) + (n - 1) * c1) / (n * u)
    if not (np.isfinite(theta) and np.isfinite(alpha) and 0 < alpha < 1 and theta > -alpha):
        return None
    return theta, alpha


def _fit_pitman(lik: _PitmanLikelihood, start):
    """Maximise the likelihood; return (theta, alpha, converged, message, n_evaluations).

    Two stages: BFGS on an unconstrained reparametrisation
    (:math:`\\alpha = \\mathrm{expit}(a)`, :math:`\\theta = e^b - \\alpha`), which keeps every
    iterate in the parameter space; then Newton's method on the score equations with the
    closed-form Hessian (``scipy.optimize.root``), which polishes the optimum to machine
    precision. Convergence requires a relative gradient below ``_PITMAN_GTOL``, a negative
    definite Hessian and :math:`0 < \\alpha < 1` away from the boundary.
    """
    n_scale = lik.n

    def to_natural(z):
        alpha = special.expit(z[0])
        return math.exp(z[1]) - alpha, alpha

    def objective(z):
        try:
            theta, alpha = to_natural(z)
            with np.errstate(all="ignore"):
                val = lik.value(theta, alpha)
                g = lik.gradient(theta, alpha)
        except (ValueError, OverflowError, ZeroDivisionError):
            return np.inf, np.zeros(2)
        if not (np.isfinite(val) and np.all(np.isfinite(g)) and alpha > 0):
            return np.inf, np.zeros(2)
        # chain rule: d alpha/da = a(1-a); theta = e^b - alpha
        da = alpha * (1 - alpha)
        grad_z = np.array([(g[1] - g[0]) * da, g[0] * math.exp(z[1])])
        return -val / n_scale, -grad_z / n_scale

    theta0, alpha0 = start
    z0 = np.array([special.logit(alpha0), math.log(theta0 + alpha0)])
    evaluations = 0
    try:
        res = optimize.minimize(
            objective,
            z0,
            jac=True,
            method="BFGS",
            options={"maxiter": 500, "gtol": 1e-10},
        )
        evaluations += int(res.nfev)
        theta, alpha = to_natural(res.x)
    except (ValueError, OverflowError, FloatingPointError) as exc:  # pragma: no cover
        return float("nan"), float("nan"), False, f"the optimiser stopped: {exc}", evaluations

    def score(x):
        if not (0 < x[1] < 1 and x[0] > -x[1]):
            return np.array([np.nan, np.nan])
        return lik.gradient(x[0], x[1])

    def jac(x):
        if not (0 < x[1] < 1 and x[0] > -x[1]):
            return np.full((2, 2), np.nan)
        return lik.hessian(x[0], x[1])

    with np.errstate(all="ignore"):
        polished = optimize.root(score, [theta, alpha], jac=jac, method="hybr")
        evaluations += int(polished.nfev)
        cand = polished.x
        if np.all(np.isfinite(cand)) and 0 < cand[1] < 1 and cand[0] > -cand[1]:
            before = np.max(np.abs(lik.gradient(theta, alpha)) / lik.gradient_scale(theta, alpha))
            after = np.max(np.abs(lik.gradient(*cand)) / lik.gradient_scale(*cand))
            if after <= before:
                theta, alpha = float(cand[0]), float(cand[1])
        grad = lik.gradient(theta, alpha)
        rel = np.max(np.abs(grad) / lik.gradient_scale(theta, alpha))
        hess = lik.hessian(theta, alpha)
    if not (np.isfinite(theta) and np.isfinite(alpha)):
        return theta, alpha, False, "the likelihood could not be evaluated", evaluations
    at_zero = alpha < 1e-8 or (not rel <= _PITMAN_GTOL and alpha < 1e-3 and grad[1] < 0)
    at_one = alpha > 1 - 1e-8 or (not rel <= _PITMAN_GTOL and alpha > 1 - 1e-3 and grad[1] > 0)
    if at_zero or at_one:
        edge = "0" if at_zero else "1"
        return (
            theta,
            alpha,
            False,
            (
                f"the likelihood is largest at the boundary alpha -> {edge} (the optimiser stopped "
                f"at alpha = {alpha:.3g}), where the model gives no population-uniques estimate"
            ),
            evaluations,
        )
    if not rel <= _PITMAN_GTOL:
        return (
            theta,
            alpha,
            False,
            (f"the score equations were not solved (relative gradient {rel:.2g})"),
            evaluations,
        )
    eig = np.linalg.eigvalsh(hess) if np.all(np.isfinite(hess)) else np.array([np.nan])
    if not np.all(eig < 0):
        return theta, alpha, False, "the solution is not a maximum of the likelihood", evaluations
    return theta, alpha, True, "", evaluations


def pitman(sizes: ArrayLike, counts: ArrayLike, n: int, N: int) -> PopulationEstimate:
    r"""Pitman-model estimate of the number of population uniques (Hoshino 2001).

    The population's class sizes are modelled by Pitman's two-parameter sampling formula
    (:math:`0 < \alpha < 1`, :math:`\theta > -\alpha`). The parameters are maximum-likelihood
    estimates from the sample's class-size histogram, maximising

    .. math::
        \ell(\theta, \alpha) = \sum_{i=1}^{u-1} \log(\theta + i\alpha)
            - \sum_{i=1}^{n-1} \log(\theta + i)
            + \sum_{j \ge 2} c_j \sum_{k=1}^{j-1} \log(k - \alpha),

    and the expected number of population uniques is, for large :math:`N`,

    .. math::
        \hat U = \frac{\Gamma(\hat\theta + 1)}{\Gamma(\hat\theta + \hat\alpha)}\, N^{\hat\alpha},

    where :math:`u` is the number of sample classes and :math:`c_j` the number of classes of
    size :math:`j`.

    In words: the model learns from the sample how quickly new combinations appear as records
    are added, and extrapolates that to the population.

    Parameters
    ----------
    sizes, counts : array_like of int
        The class-size histogram: distinct sizes, and the number of classes of each.
    n : int
        Sample size, ``sum(sizes * counts)``.
    N : int
        Population size, at least ``n``.

    Returns
    -------
    PopulationEstimate
        ``parameters`` holds ``theta``, ``alpha``, ``log_likelihood``, ``gradient`` (the
        largest relative score at the solution) and ``n_evaluations``. When the fit fails
        (no interior maximum, a boundary solution :math:`\hat\alpha \to 0` or :math:`1`, or a
        count outside ``[0, N]``), ``converged`` is False, the estimate is ``nan`` and
        ``message`` says why.

    Notes
    -----
    The likelihood and its first and second derivatives are written with log-gamma, digamma
    and trigamma differences (or, when :math:`\theta/\alpha` or :math:`\theta` dwarfs the
    number of classes or records and those differences would cancel, with a power series in
    :math:`\alpha/\theta` whose coefficients are exact power sums), so each evaluation costs
    one pass over the *distinct* class sizes (a few dozen numbers), not over records or
    classes. The optimum is found by BFGS on an unconstrained reparametrisation
    (:math:`\alpha = \operatorname{expit}(a)`, :math:`\theta = e^b - \alpha`) and then
    polished by Newton's method on the score equations (``scipy.optimize.root`` with the
    analytic Hessian), which solves them to about machine precision. The fit counts as
    converged only if the relative score is below ``1e-9``, the Hessian is negative definite
    and :math:`\alpha` is not at a boundary. Starting values are Hoshino's moment-type
    guesses (also used by ARX), or :math:`\alpha = 0.5`, :math:`\theta = 1` if those fall
    outside the parameter space. As in ARX, a sample without uniques gives 0 without a fit.

    References
    ----------
    .. [1] Hoshino, N. (2001). Applying Pitman's sampling formula to microdata disclosure risk
       assessment. *Journal of Official Statistics* 17(4), 499-520.
    .. [2] Pitman, J. (1996). Random discrete distributions invariant under size-biased
       permutation. *Advances in Applied Probability* 28(2), 525-539.
       https://doi.org/10.2307/1428070
    .. [3] Dankar, F. K., El Emam, K., Neisa, A. and Roffey, T. (2012). Estimating the
       re-identification risk of clinical data sets. *BMC Medical Informatics and Decision
       Making* 12, 66. https://doi.org/10.1186/1472-6947-12-66

    Examples
    --------
    >>> est = pitman([1, 2, 3], [60, 5, 1], n=73, N=730)
    >>> est.converged, 0 < est.parameters["alpha"] < 1
    (True, True)
    """
    s, c, n, N = check_histogram(sizes, counts, n, N, "pitman")
    trivial = _trivial("pitman", s, c, n, N)
    if trivial is not None:
        return trivial
    c1 = int(c[0])
    c2 = float(c[1]) if s.shape[0] > 1 and s[1] == 2 else 0.0
    u = float(np.sum(c))
    if u < 2:
        return _finish(
            "pitman",
            np.nan,
            n,
            N,
            c1,
            {},
            "The sample has a single class; Pitman's two parameters cannot be estimated.",
            False,
        )
    lik = _PitmanLikelihood(s, c, n)
    start = _pitman_start(float(c1), c2, u, float(n)) or (1.0, 0.5)
    theta, alpha, ok, why, evaluations = _fit_pitman(lik, start)
    params = {"theta": float(theta), "alpha": float(alpha)}
    if ok:
        with np.errstate(all="ignore"):
            params["log_likelihood"] = float(lik.value(theta, alpha))
            params["gradient"] = float(
                np.max(np.abs(lik.gradient(theta, alpha)) / lik.gradient_scale(theta, alpha))
            )
            count = math.exp(
                special.gammaln(theta + 1) - special.gammaln(theta + alpha) + alpha * math.log(N)
            )
        params["n_evaluations"] = evaluations
        return _finish("pitman", count, n, N, c1, params, "Maximum-likelihood fit converged.")
    params["n_evaluations"] = evaluations
    return _finish("pitman", np.nan, n, N, c1, params, f"Pitman's fit failed: {why}.", False)


# --------------------------------------------------------------------------------------------
# SNB
# --------------------------------------------------------------------------------------------


def _shlosser(s: np.ndarray, c: np.ndarray, f: float) -> float:
    r"""Estimated number of non-empty population classes :math:`K` (Haas and Stokes 1998).

    .. math::
        \hat K = u + c_1
            \frac{\sum_j j f^2 (1 - f^2)^{j-1} c_j}{\sum_j (1 - f)^j \big((1 + f)^j - 1\big) c_j}
            \left(\frac{\sum_j (1 - f)^j c_j}{\sum_j j f (1 - f)^{j-1} c_j}\right)^2
    """
    u = float(np.sum(c))
    c1 = float(c[0]) if s[0] == 1 else 0.0
    log1mf = math.log1p(-f)
    log1mf2 = math.log1p(-f * f)
    num1 = np.sum(s * f * f * np.exp((s - 1) * log1mf2) * c)
    den1 = np.sum((np.exp(s * log1mf2) - np.exp(s * log1mf)) * c)
    num2 = np.sum(np.exp(s * log1mf) * c)
    den2 = np.sum(s * f * np.exp((s - 1) * log1mf) * c)
    return u + c1 * (num1 / den1) * (num2 / den2) ** 2


def _snb_log_moments(log_alpha, logit_beta, K, f):
    r"""log E[c_1] and log E[c_2] under the SNB model (see :func:`snb`)."""
    alpha = math.exp(log_alpha)
    beta = special.expit(logit_beta)
    log_beta = -math.log1p(math.exp(-logit_beta)) if logit_beta > -30 else logit_beta
    log_1mbeta = -math.log1p(math.exp(logit_beta)) if logit_beta < 30 else -logit_beta
    d = (1 - f) * (1 - beta)
    log_1md = math.log1p(-d)
    m1 = math.log(K) + math.log(f) + alpha * (log_beta - log_1md) + math.log1p(alpha * d / (1 - d))
    m2 = (
        math.log(K)
        + 2 * math.log(f)
        - math.log(2)
        + math.log(alpha)
        + alpha * log_beta
        + log_1mbeta
        + math.log(2 - (1 - alpha) * d)
        - (alpha + 2) * log_1md
    )
    return m1, m2


def snb(sizes: ArrayLike, counts: ArrayLike, n: int, N: int) -> PopulationEstimate:
    r"""Slide-negative-binomial estimate of the number of population uniques.

    Chen and Keller-McNulty (1998) model the size :math:`F` of each of the :math:`K` non-empty
    population classes as one plus a negative binomial count,
    :math:`P(F = 1 + g) = \binom{g + \alpha - 1}{g} \beta^\alpha (1 - \beta)^g`, and the sample
    as Bernoulli(:math:`f`) thinning of each class. Then, with :math:`d = (1 - f)(1 - \beta)`,

    .. math::
        E[c_1] = K f \left(\frac{\beta}{1 - d}\right)^{\alpha}
                 \left(1 + \frac{\alpha d}{1 - d}\right), \qquad
        E[c_2] = \frac{K f^2}{2}\,\alpha\,\beta^{\alpha}(1 - \beta)\,
                 \frac{2 - (1 - \alpha) d}{(1 - d)^{\alpha + 2}},

    and the number of population uniques is :math:`K P(F = 1) = K \beta^\alpha`.
    :math:`K` is estimated from the histogram by Shlosser's estimator as given by Haas and
    Stokes (1998),

    .. math::
        \hat K = u + c_1
            \frac{\sum_j j f^2 (1 - f^2)^{j-1} c_j}{\sum_j (1 - f)^j ((1 + f)^j - 1) c_j}
            \left(\frac{\sum_j (1 - f)^j c_j}{\sum_j j f (1 - f)^{j-1} c_j}\right)^2,

    and :math:`(\alpha, \beta)` solve :math:`E[c_1] = c_1`, :math:`E[c_2] = c_2`.

    In words: the model matches the observed numbers of sample uniques and pairs, then reads
    off how many population classes have exactly one member.

    Parameters
    ----------
    sizes, counts : array_like of int
        The class-size histogram: distinct sizes, and the number of classes of each.
    n : int
        Sample size, ``sum(sizes * counts)``.
    N : int
        Population size, at least ``n``.

    Returns
    -------
    PopulationEstimate
        ``parameters`` holds ``alpha``, ``beta`` and ``n_population_classes`` (:math:`\hat K`).
        When the two equations have no solution (for instance when there are no classes of
        size 2) ``converged`` is False and the estimate is ``nan``.

    Notes
    -----
    The equations are solved in logs, for :math:`\log\alpha` and
    :math:`\operatorname{logit}\beta`, by ``scipy.optimize.least_squares`` from a few starting
    points; a solution is accepted when both log residuals are below ``1e-9``.

    Two differences from ARX 3.x's ``ModelSNB``, which follows the same paper: ARX multiplies
    :math:`E[c_2]` by :math:`(1 - d)^{\alpha + 2}` where the model divides by it (the formula
    above is the second factorial moment of the model, checked against direct summation in the
    tests), and its Shlosser denominator subtracts 1 once per distinct class size rather than
    :math:`(1 - f)^j c_j`. SNB estimates here can therefore differ from ARX's.

    References
    ----------
    .. [1] Chen, G. and Keller-McNulty, S. (1998). Estimation of identification disclosure
       risk in microdata. *Journal of Official Statistics* 14(1), 79-95.
    .. [2] Haas, P. J. and Stokes, L. (1998). Estimating the number of classes in a finite
       population. *Journal of the American Statistical Association* 93(444), 1475-1487.
       https://doi.org/10.1080/01621459.1998.10473807
    .. [3] Dankar, F. K., El Emam, K., Neisa, A. and Roffey, T. (2012). Estimating the
       re-identification risk of clinical data sets. *BMC Medical Informatics and Decision
       Making* 12, 66. https://doi.org/10.1186/1472-6947-12-66

    Examples
    --------
    >>> est = snb([1, 2, 3, 5], [40, 10, 4, 2], n=82, N=164)
    >>> est.converged
    True
    """
    s, c, n, N = check_histogram(sizes, counts, n, N, "snb")
    trivial = _trivial("snb", s, c, n, N)
    if trivial is not None:
        return trivial
    c1 = int(c[0])
    c2 = float(c[1]) if s.shape[0] > 1 and s[1] == 2 else 0.0
    f = n / N
    with np.errstate(all="ignore"):
        K = _shlosser(s, c, f)
    params = {"n_population_classes": float(K)}
    if c2 == 0:
        return _finish(
            "snb",
            np.nan,
            n,
            N,
            c1,
            params,
            "SNB's fit failed: there are no classes of size 2 to match.",
            False,
        )
    if not (np.isfinite(K) and K > 0):
        return _finish(
            "snb",
            np.nan,
            n,
            N,
            c1,
            params,
            "SNB's fit failed: the number of population classes could not be estimated.",
            False,
        )
    target = np.array([math.log(c1), math.log(c2)])

    def residual(z):
        try:
            m = _snb_log_moments(z[0], z[1], K, f)
        except (ValueError, OverflowError, ZeroDivisionError):
            return np.array([1e6, 1e6])
        r = np.array(m) - target
        return np.where(np.isfinite(r), r, 1e6)

    best = None
    for z0 in ((0.0, 0.0), (-2.0, -2.0), (2.0, 2.0), (-2.0, 2.0), (2.0, -2.0), (-4.0, -6.0)):
        with np.errstate(all="ignore"):
            res = optimize.least_squares(
                residual, z0, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15
            )
        if best is None or res.cost < best.cost:
            best = res
        if np.max(np.abs(res.fun)) < _SNB_TOL:
            break
    alpha = math.exp(best.x[0])
    beta = float(special.expit(best.x[1]))
    params.update(alpha=alpha, beta=beta)
    if not np.max(np.abs(best.fun)) < _SNB_TOL:
        return _finish(
            "snb",
            np.nan,
            n,
            N,
            c1,
            params,
            "SNB's fit failed: no (alpha, beta) matches the numbers of sample classes of sizes "
            "1 and 2.",
            False,
        )
    count = K * beta**alpha
    return _finish(
        "snb", count, n, N, c1, params, "Moment equations for classes of size 1 and 2 solved."
    )


_ESTIMATORS = {"zayatz": zayatz, "pitman": pitman, "snb": snb}
_LABEL = {
    "zayatz": "Zayatz",
    "pitman": "Pitman",
    "snb": "SNB",
    "loglinear": "The log-linear model",
    "forest": "The forest model",
}


def _loglinear(
    enc, part, names, missing, n: int, N: int, c1: int, why: str = ""
) -> PopulationEstimate:
    """The log-linear estimate of the number of population uniques, ``tau1 * N / n``."""
    if c1 == 0:
        return PopulationEstimate(
            "loglinear",
            0.0,
            0.0,
            True,
            {},
            "No record is unique in the sample, so no population unique is estimated.",
            n,
            N,
            0,
        )
    if n == N:
        return PopulationEstimate(
            "loglinear",
            float(c1),
            c1 / N,
            True,
            {},
            "The sample is the whole population: population uniques are the sample uniques.",
            n,
            N,
            c1,
        )
    if enc is None:  # the cells stay where the records are
        return PopulationEstimate(
            "loglinear",
            float("nan"),
            float("nan"),
            False,
            {},
            f"The log-linear model could not be fitted: {_lower_first(why)}",
            n,
            N,
            c1,
        )
    from .model_risk import model_risk

    try:
        res = model_risk(
            enc,
            names,
            sampling_fraction=n / N,
            select="impact",
            max_interactions=LOGLINEAR_MAX_INTERACTIONS,
            missing=missing,
        )
    except InvalidParameterError as exc:  # e.g. a component too large to hold
        return PopulationEstimate(
            "loglinear",
            float("nan"),
            float("nan"),
            False,
            {},
            f"The log-linear model could not be fitted: {_lower_first(str(exc))}",
            n,
            N,
            c1,
        )
    count = res.tau1 * N / n
    params = {
        "tau1": res.tau1,
        "tau2": res.tau2,
        "impact_z": res.impact_z,
        "n_interactions": len(res.terms) - len(names),
        "deviance": res.deviance,
        "model": res.formula,
    }
    if not res.converged:
        return _finish(
            "loglinear",
            np.nan,
            n,
            N,
            c1,
            params,
            f"The log-linear fit of {res.formula} did not converge.",
            False,
        )
    return _finish(
        "loglinear",
        count,
        n,
        N,
        c1,
        params,
        f"model {res.formula} (standardised impact {res.impact_z:.2f}); "
        f"{res.tau1:,.1f} of {c1:,} sample uniques expected to be population unique, "
        f"times N / n.",
    )


#: Shares of the extract a validation subsample may hold: the extract's own sampling fraction,
#: so that subsample -> extract mirrors extract -> population, kept within these bounds.
VALIDATION_SHARES = (0.1, 0.5)
#: ...and never fewer records than this in a subsample (a larger share of a small extract).
VALIDATION_MIN = 200
#: Subsamples drawn for that measurement; one weight is solved over all of them together.
VALIDATION_REPS = 11
#: The estimate is called trusted when its interval lies within this share of it on each side
#: (or within ``TRUST_COUNT`` records, whichever is larger).
TRUST_SHARE = 0.25
TRUST_COUNT = 50


def _cells_of(enc, part, n):
    """The extract's non-empty cells (codes, counts, each record's cell), or why not."""
    from .model_risk import _cells

    try:
        return _cells(enc, part, np.ones(n)), ""
    except RiskCalcError as exc:  # e.g. a component too large to hold
        return None, str(exc)


def _pooled_weight(runs, rest: float) -> float:
    r"""The own-record weight :math:`w \in [0, 1]` at which the expected number of uniques that
    stay unique, summed over ``runs`` (``(terms of the sample uniques, observed)``),
    equals the observed number summed (bisection: the expected count falls as :math:`w`
    grows)."""
    target = sum(observed for _, observed in runs)

    def total(w):
        return sum(float(unique_probability(terms, rest, w).sum()) for terms, _ in runs)

    if total(0.0) <= target:
        return 0.0
    if total(1.0) >= target:
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(18):  # w to 4e-6
        mid = 0.5 * (lo + hi)
        if total(mid) > target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _value_ranks(enc, part, cells) -> np.ndarray:
    """Each cell's levels as ranks of their values (labels sorted as text, a missing value
    last): an order of the cells that does not depend on the order of the records."""
    ranks = np.empty_like(cells.codes)
    for j, name in enumerate(part.columns):
        col = enc[name]
        cats = col.categories
        if hasattr(cats, "to_numpy"):  # pandas Index, pyarrow Array
            labels = (
                cats.to_numpy(zero_copy_only=False)
                if hasattr(cats, "to_pylist")
                else cats.to_numpy()
            )
        else:
            labels = np.asarray(cats if cats is not None else [], dtype=object)
        text = np.asarray(labels).astype(str)
        if text.shape[0] != col.n_levels - (col.missing_code is not None):
            text = np.array(
                [f"{c:012d}" for c in range(col.n_levels)], dtype=object
            )  # codes as text
        order = np.argsort(text, kind="stable")
        rank = np.empty(col.n_levels, dtype=np.int64)
        rank[order] = np.arange(order.shape[0])
        if col.missing_code is not None and order.shape[0] < col.n_levels:
            # the missing level: after every value (its code is the last, as the encoder gives it)
            rank[order.shape[0] :] = order.shape[0]
        seen = np.flatnonzero(np.bincount(col.codes, minlength=col.n_levels) > 0)
        ranks[:, j] = rank[seen][cells.codes[:, j]]
    return ranks


def _validation_size(n: int, f: float) -> int:
    """Records in each validation subsample: the share ``f`` of ``n``, kept within
    ``VALIDATION_SHARES``, at least ``VALIDATION_MIN`` and at most half the extract."""
    g = min(max(f, VALIDATION_SHARES[0]), VALIDATION_SHARES[1])
    return min(max(int(round(g * n)), VALIDATION_MIN), n // 2)


def _validate_weight(cells, ranks, n: int, f: float, seed: int):
    r"""Measure the own-record weight on subsamples of the extract.

    Each subsample :math:`T` holds the share :math:`g` of the extract's records, :math:`g` the
    extract's own sampling fraction :math:`f` kept within ``VALIDATION_SHARES`` (so that the
    step from :math:`T` to the extract mirrors the step from the extract to the population;
    at least ``VALIDATION_MIN`` records, at most half; simple random, without replacement, over
    the records put in the order of their cells' values, so that the row order never changes a
    figure). The
    forest is fitted to :math:`T`, and the weight :math:`w` is solved so that the expected
    number of :math:`T`'s uniques that are unique in the whole extract equals the number that
    are (known: the extract is the population of its subsamples).

    Returns the number of subsample uniques the weight rests on, the cross-validated log error
    of the procedure (for each subsample, the count predicted with the weight solved on the
    *other* subsamples against the count observed, :math:`\log\{(\hat c + 1)/(c + 1)\}`), and
    the runs ``(terms of the subsample uniques, observed)`` the weight is solved on.
    """
    rng = np.random.default_rng(seed)
    m = _validation_size(n, f)
    support, runs = 0, []
    if m < 2 or m >= n:
        return support, [], []
    # the records in the order of their cells' values (records of one cell are alike), so that
    # the subsamples never depend on the row order
    order = np.lexsort(ranks.T[::-1])
    records = np.repeat(order, cells.f[order].astype(np.int64))
    n_cells = order.shape[0]
    for _ in range(VALIDATION_REPS):
        counts = np.bincount(records[rng.choice(n, size=m, replace=False)], minlength=n_cells)
        present = counts > 0
        codes = cells.codes[present]
        sub = counts[present].astype(np.float64)
        su = sub == 1
        if not su.any():
            continue
        forest = fit_forest(codes, sub, cells.levels)
        still_unique = float(np.count_nonzero(cells.f[present][su] == 1))
        runs.append((forest.terms(codes[su]), still_unique))
        support += int(su.sum())
    errors = []
    if len(runs) >= 2:
        for i, (terms, observed) in enumerate(runs):
            w_other = _pooled_weight(runs[:i] + runs[i + 1 :], float(n - m))
            predicted = float(unique_probability(terms, float(n - m), w_other).sum())
            errors.append(math.log((predicted + 1.0) / (observed + 1.0)))
    return support, errors, runs


def _design_sd(p: np.ndarray, count: float, f: float) -> float:
    r"""Standard deviation of :math:`\hat U = \sum p / f` from the sampling alone:
    :math:`\sum p(1-p)/f^2` (which sample uniques are population unique) plus
    :math:`U (1 - f) / f` (how many population uniques the sample drew)."""
    return math.sqrt(float(np.sum(p * (1.0 - p))) / f**2 + max(count, 0.0) * (1.0 - f) / f)


def _forest_estimate(
    enc, part, n: int, N: int, c1: int, confidence: float, seed: int, why: str = ""
):
    """The default estimate: ``(PopulationEstimate, interval, record probabilities)``."""
    f = n / N
    z = float(special.ndtri(0.5 + confidence / 2.0))
    top = float(N - (n - c1))  # records in sample classes of size >= 2 are not population unique
    if c1 == 0:
        # no sample unique: population uniques may still exist among the unsampled records; had
        # there been U, the sample would have missed all of them with chance (1 - f)^U
        hi = min(top, math.log(1.0 - confidence) / math.log1p(-f)) if f < 1 else 0.0
        est = PopulationEstimate(
            "forest",
            0.0,
            0.0,
            True,
            {"interval_low": 0.0, "interval_high": hi},
            "No record is unique in the sample; population uniques missed by the sample are "
            "bounded by the chance of missing them all.",
            n,
            N,
            0,
        )
        return est, (0.0, float(hi)), None if part is None else np.zeros(n)
    if n == N:
        est = PopulationEstimate(
            "forest",
            float(c1),
            c1 / N,
            True,
            {"interval_low": float(c1), "interval_high": float(c1)},
            "The sample is the whole population: population uniques are the sample uniques.",
            n,
            N,
            c1,
        )
        record_p = (
            None if part is None else (part.class_sizes[part.class_id] == 1).astype(np.float64)
        )
        return est, (float(c1), float(c1)), record_p
    cells, why = _cells_of(enc, part, n) if part is not None else (None, why)
    if cells is None:
        est = PopulationEstimate(
            "forest",
            float("nan"),
            float("nan"),
            False,
            {},
            f"The forest model could not be fitted: {_lower_first(why)}",
            n,
            N,
            c1,
        )
        return est, (0.0, top), None
    su = cells.f == 1
    codes_su = cells.codes[su]
    forest = fit_forest(cells.codes, cells.f, cells.levels)
    support, errors, runs = _validate_weight(cells, _value_ranks(enc, part, cells), n, f, seed)
    w = _pooled_weight(runs, float(n - _validation_size(n, f))) if runs else 0.5
    # the procedure's own error, measured one step down (root mean square of the log errors)
    sigma = math.sqrt(float(np.mean(np.square(errors)))) if errors else math.inf
    rest = float(N - n)
    terms = forest.terms(codes_su)
    p = unique_probability(terms, rest, w)
    p_fit = unique_probability(terms, rest, 1.0)
    p_out = unique_probability(terms, rest, 0.0)
    count, low_model, high_model = p.sum() / f, p_fit.sum() / f, p_out.sum() / f
    # the interval: the two bounding models with their sampling noise, and the estimate with its
    # sampling noise and the procedure's measured error, whichever reaches further
    sd = _design_sd(p, count, f)
    spread = math.exp(z * sigma) if math.isfinite(sigma) else math.inf
    lo = max(0.0, min(low_model - z * _design_sd(p_fit, low_model, f), count / spread - z * sd))
    hi = min(top, max(high_model + z * _design_sd(p_out, high_model, f), count * spread + z * sd))
    per_cell = np.zeros(cells.f.shape[0])
    per_cell[su] = p
    names = part.columns
    edges = forest.edges(names)
    params = {
        "weight": w,
        "validation_error": sigma,
        "validation_uniques": support,
        "fitted_count": low_model,
        "left_out_count": high_model,
        "interval_low": lo,
        "interval_high": hi,
        "n_edges": len(edges),
        "model": "; ".join(f"{a} -> {b}" for a, b in edges) or "independent fields",
    }
    message = (
        f"forest of {len(edges)} edge(s) ({params['model']}); own-record weight {w:.2f} "
        f"measured on {len(runs)} subsample(s) of {_validation_size(n, f):,} records of the extract "
        f"({support:,} subsample uniques); {p.sum():,.1f} of {c1:,} sample uniques expected to "
        "be population unique, times N / n."
    )
    if not runs:
        message += " No subsample had a unique record, so the weight is the midpoint 0.5."
    est = _finish("forest", count, n, N, c1, params, message)
    return est, (lo, hi), per_cell[cells.record_cell]


# --------------------------------------------------------------------------------------------
# The public measure
# --------------------------------------------------------------------------------------------


def resolve_population(n_records: int, sampling_fraction, population_size, func: str):
    """Return ``(sampling_fraction, population_size)`` from whichever was given.

    ``population_size = round(n_records / sampling_fraction)``, as ARX derives it; if both are
    given they must agree on that.
    """
    if sampling_fraction is None and population_size is None:
        raise InvalidParameterError(
            f"{func} needs the size of the population the extract was drawn from: give "
            "'sampling_fraction' (a number in (0, 1]) or 'population_size' (an int >= the "
            f"number of records, {n_records}). Got neither."
        )
    f = None
    if sampling_fraction is not None:
        f = check_share(sampling_fraction, "sampling_fraction", func)
    N = None
    if population_size is not None:
        # at least the number of records in the extract
        N = check_whole(population_size, "population_size", func, minimum=n_records)
    if f is not None:
        implied = int(round(n_records / f))
        if N is not None and implied != N:
            raise InvalidParameterError(
                f"The 'sampling_fraction' and 'population_size' parameters of {func} disagree: "
                f"{fmt.count(n_records)} records / {f!r} = {fmt.count(implied)} (rounded), not "
                f"{fmt.count(N)}. Give one of them, or values with population_size == "
                "round(n_records / sampling_fraction)."
            )
        return f, implied
    return n_records / N, N


def population_uniqueness(
    data: TableLike,
    quasi_identifiers: Fields,
    *,
    sampling_fraction: float | None = None,
    population_size: int | None = None,
    method: PopulationMethod = "auto",
    missing: MissingPolicy = "category",
    confidence: float = 0.9,
    rng: int = 0,
) -> PopulationUniquenessResult:
    r"""Estimated share of population uniques when the extract is a sample of a population.

    A record unique in a sample is often not unique in the population it was drawn from. Given
    the population size :math:`N` (or the sampling fraction :math:`f = n / N`), this estimates
    the number :math:`\hat U` of records unique in the population on ``quasi_identifiers`` and
    reports the share

    .. math::
        \hat\pi = \hat U / N,

    as ARX does. ``method`` picks the estimator:

    * ``"auto"`` (default) - the forest estimate (``"forest"``); Dankar's choice where the
      forest cannot be fitted (a Spark table), said in ``reason``;
    * ``"forest"`` - the fields form a forest of smoothed conditionals (``riskcalc._forest``),
      and each sample unique :math:`x` is a population unique with chance

      .. math::
          p(x) = \exp\{-(N - n)\, P_w(x)\}, \qquad \hat U = \frac{1}{f} \sum_{f_x = 1} p(x),

      where :math:`P_w(x)` counts the unique record itself with weight :math:`w` (1: the fitted
      model, which understates :math:`p`; 0: the record left out, which overstates it). The
      weight is *measured*: on ``VALIDATION_REPS`` subsamples of the extract (at its own
      sampling fraction, kept within ``VALIDATION_SHARES``), the one :math:`w` is solved for
      which the expected number of subsample uniques that stay unique in the extract equals the
      number that do;
    * ``"loglinear"`` - a Poisson log-linear model of the sample's cell counts
      (:func:`riskcalc.model_risk.model_risk` with ``select="impact"``: main effects, then up
      to ``LOGLINEAR_MAX_INTERACTIONS`` two-way interactions that Skinner and Shlomo's impact
      criterion asks for and the data support), giving the
      expected number of population uniques :math:`\hat U = \hat\tau_1 / f`, with
      :math:`\hat\tau_1 = \sum_{f_j=1} e^{-\hat\mu_j (1 - f) / f}` [5]_;
    * ``"zayatz"`` - :func:`zayatz` (Zayatz 1991);
    * ``"pitman"`` - :func:`pitman` (Hoshino 2001; Pitman's sampling formula, MLE);
    * ``"snb"`` - :func:`snb` (Chen and Keller-McNulty 1998; slide negative binomial);
    * ``"dankar"`` - the decision rule of Dankar et al. (2012), chosen from a simulation study:
      if :math:`f \le 0.1`, Pitman, or Zayatz when Pitman's fit fails; if :math:`f > 0.1`,
      the smaller of the Zayatz and SNB estimates (Zayatz if SNB fails). Zayatz overstates
      badly at small fractions (tenfold on a date-of-birth key in the simulation), and the
      fallback is taken whenever Pitman's likelihood peaks at its boundary, so this rule is no
      longer the default.

    Zayatz, Pitman and SNB read only the sample's class-size histogram; the log-linear and
    forest models read the cells' values too (they borrow strength from cells sharing a value).

    **The interval** (whatever ``method``) takes whichever reaches further of the two bounding
    forests (:math:`w = 1` below, :math:`w = 0` above) and the estimate widened by the
    procedure's cross-validated error on the subsamples, each with its sampling noise
    (:math:`\sqrt{\sum p(1-p)/f^2 + \hat U (1 - f)/f}`), within
    :math:`[0, N - (n - c_1)]`. With no sample unique it is
    :math:`[0, \log(1 - \text{confidence}) / \log(1 - f)]`. ``trusted`` is whether it lies
    within ``TRUST_SHARE`` of the estimate (or ``TRUST_COUNT`` records) on each side; when not,
    quote the interval, not the estimate (``caution`` says so).

    In words: for a policy reader, ``estimate`` is the estimated proportion of the *whole
    population* who would be unique on these fields, which is what matters when an intruder
    knows someone is in the population but not whether they are in the extract.

    Parameters
    ----------
    data : table-like
        The extract (the sample).
    quasi_identifiers : sequence of str
    sampling_fraction : float in (0, 1], optional
        Share of the population in the extract. ``1`` means the extract is the population, and
        population uniques are then the sample uniques.
    population_size : int, optional
        Number of records in the population, at least the number in the extract. Give this or
        ``sampling_fraction``; if both are given they must satisfy
        ``population_size == round(n_records / sampling_fraction)``.
    method : {"auto", "forest", "dankar", "pitman", "zayatz", "snb", "loglinear"}, default "auto"
    missing : {"category", "raise"}, default "category"
    confidence : float in [0.5, 1), default 0.9
        The interval's intended coverage.
    rng : int >= 0, default 0
        Seed of the validation subsamples. Fixed by default, so that the same call gives
        byte-identical results; another seed moves the estimate within its interval.

    Returns
    -------
    PopulationUniquenessResult
        ``estimate`` and ``n_population_uniques`` from the chosen estimator, ``method_used``
        and ``reason`` (why the rule chose it or fell back); ``interval`` (at ``confidence``),
        ``trusted`` and ``caution``; ``record_probabilities``; every estimator's value in
        ``estimates`` and its fit (Pitman's :math:`\hat\theta, \hat\alpha`, the log-linear
        model and its impact criterion, the forest's edges and weight, convergence) in ``fits``.

    Notes
    -----
    The population size is ``round(n_records / sampling_fraction)`` when a fraction is given,
    and every estimator uses :math:`f = n / N` with that :math:`N`. Dankar's threshold is
    compared with ``sampling_fraction`` as given (so ``0.1`` selects Pitman even if rounding
    makes :math:`n / N` a hair above 0.1).

    All five estimators are computed (the histogram ones cost microseconds to milliseconds;
    the log-linear and forest fits milliseconds to a few seconds), so the result can show how
    far they disagree. A fit that fails gives ``nan``
    in ``estimates``; for ``method="pitman"`` or ``"snb"`` a failed fit makes ``estimate``
    ``nan`` too, while Dankar's rule falls back to Zayatz and says so in ``reason``. Following
    ARX, an extract without sample uniques gets 0 from every estimator (but not a zero-width
    interval).

    The estimators assume a simple random sample without replacement (Zayatz) or a Bernoulli
    sample (Pitman, SNB) from the population. They are not meant for an extract that is the
    population (use :func:`uniqueness`), nor for samples drawn by cluster (e.g. whole schools).

    See Also
    --------
    uniqueness : sample uniques and prosecutor risk.
    zayatz, pitman, snb : the estimators on a class-size histogram.

    References
    ----------
    .. [1] Dankar, F. K., El Emam, K., Neisa, A. and Roffey, T. (2012). Estimating the
       re-identification risk of clinical data sets. *BMC Medical Informatics and Decision
       Making* 12, 66. https://doi.org/10.1186/1472-6947-12-66
    .. [2] Zayatz, L. V. (1991). Estimation of the percent of unique population elements on a
       microdata file using the sample. Statistical Research Division Report Number
       Census/SRD/RR-91/08, US Bureau of the Census.
    .. [3] Hoshino, N. (2001). Applying Pitman's sampling formula to microdata disclosure risk
       assessment. *Journal of Official Statistics* 17(4), 499-520.
    .. [4] Chen, G. and Keller-McNulty, S. (1998). Estimation of identification disclosure
       risk in microdata. *Journal of Official Statistics* 14(1), 79-95.
    .. [5] Skinner, C. J. and Shlomo, N. (2008). Assessing identification risk in survey
       microdata using log-linear models. *Journal of the American Statistical Association*
       103(483), 989-1001. https://doi.org/10.1198/016214507000001328
    .. [6] Chow, C. K. and Liu, C. N. (1968). Approximating discrete probability distributions
       with dependence trees. *IEEE Transactions on Information Theory* 14(3), 462-467.
       https://doi.org/10.1109/TIT.1968.1054142

    Examples
    --------
    >>> import pandas as pd
    >>> from riskcalc.population import population_uniqueness
    >>> df = pd.DataFrame({"sex": list("FFMMFMFM"), "year": [7, 7, 7, 8, 8, 9, 9, 10]})
    >>> res = population_uniqueness(df, ["sex", "year"], sampling_fraction=1.0)
    >>> res.method_used, res.n_population_uniques, res.estimate  # census: 6 uniques of 8
    ('census', 6.0, 0.75)

    A 10% sample: the default's estimate, its 90% interval, and whether it can be quoted.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sample = pd.DataFrame({"school": rng.integers(0, 60, 800), "year": rng.integers(7, 12, 800)})
    >>> res = population_uniqueness(sample, ["school", "year"], sampling_fraction=0.1)
    >>> res.method_used, bool(res.interval[0] <= res.n_population_uniques <= res.interval[1])
    ('forest', True)
    >>> res.trusted == (res.caution == "")
    True
    >>> len(res.records_frame()) == len(sample)  # one probability per record, to rank them
    True
    """
    func = "population_uniqueness"
    method = check_choice(method, "method", METHODS, func)
    confidence = _check_confidence(confidence, func)
    seed = check_int(rng, "rng", func, minimum=0)
    missing = check_missing_policy(missing, func)
    backend = backend_for(data, func=func)
    names = backend.names(quasi_identifiers, func=func)
    if backend.holds_records:
        enc = backend.encoded(names, func=func)
        part = enc.partition(names, missing)
        hist, why = part.size_histogram, ""
    else:  # the records stay where they are: the histogram comes here, the models' cells cannot
        enc = part = None
        hist = backend.size_histogram(names, missing=missing, func=func)
        why = str(backend.refuse("Counting the cells of the records", func))
    n = hist.n_records
    f_given, N = resolve_population(n, sampling_fraction, population_size, func)
    sizes, counts = hist.sizes, hist.counts
    c1 = int(counts[0]) if sizes.shape[0] and sizes[0] == 1 else 0

    fits = {name: est(sizes, counts, n, N) for name, est in _ESTIMATORS.items()}
    fits["loglinear"] = _loglinear(enc, part, names, missing, n, N, c1, why)
    fits["forest"], interval, record_p = _forest_estimate(
        enc, part, n, N, c1, confidence, seed, why
    )
    estimates = {name: fit.estimate for name, fit in fits.items()}

    if n == N:
        used = "census"
        count = float(c1)
        reason = (
            "The sampling fraction is 1, so the extract is the population and its uniques are "
            "the population uniques."
        )
    elif c1 == 0:
        used = "none" if method in ("dankar", "auto") else method
        count = 0.0
        reason = (
            "No record is unique in the extract, so no population unique is estimated (every "
            "estimator gives 0, as in ARX)."
        )
    elif method not in ("dankar", "auto"):
        used = method
        count = fits[method].n_population_uniques
        reason = (
            f"{_LABEL[method]} was requested."
            if fits[method].converged
            else f"{_LABEL[method]} was requested but its fit failed, so there is no estimate: "
            f"{_lower_first(fits[method].message)}"
        )
    elif method == "auto" and fits["forest"].converged:
        used, reason = "forest", _auto_reason(fits["forest"])
        count = fits[used].n_population_uniques
    else:
        used, reason = _dankar(f_given, fits)
        count = fits[used].n_population_uniques
        if method == "auto":
            reason = (
                "The forest model is the default, but it could not be fitted "
                f"({_lower_first(fits['forest'].message).rstrip('.')}); Dankar's rule is "
                f"used instead. {reason}"
            )
    trusted, caution = _trust(count, interval, used, n == N, fits)

    return PopulationUniquenessResult(
        estimate=count / N if math.isfinite(count) else float("nan"),
        n_population_uniques=float(count),
        method=method,
        method_used=used,
        reason=reason,
        sampling_fraction=f_given,
        population_size=N,
        n_records=n,
        n_sample_uniques=c1,
        quasi_identifiers=names,
        missing=missing,
        estimates=estimates,
        fits=fits,
        interval=(float(interval[0]), float(interval[1])),
        confidence=confidence,
        trusted=trusted,
        caution=caution,
        record_probabilities=record_p,
        record_sizes=None if record_p is None else part.class_sizes[part.class_id].astype(np.int64),
    )


def _check_confidence(value, func: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not (0.5 <= float(value) < 1)
    ):
        raise InvalidParameterError(
            f"The 'confidence' parameter of {func} must be a number in [0.5, 1), the interval's "
            f"intended coverage (e.g. 0.9). Got {value!r} instead."
        )
    return float(value)


def _auto_reason(fit: PopulationEstimate) -> str:
    w = fit.parameters.get("weight", math.nan)
    return (
        "The forest model is the default: each sample unique's chance of being population "
        "unique comes from a forest of smoothed field-to-field conditionals fitted to the "
        f"extract, and how much the record's own count weighs (here {w:.2f}, between 0: left "
        "out, and 1: fully counted) was measured on subsamples of the extract, whose own uniques "
        f"are known. {fit.message}"
    )


def _trust(count: float, interval, used: str, census: bool, fits: dict) -> tuple[bool, str]:
    """Whether the estimate can be quoted as a number, and if not, one sentence why."""
    lo, hi = interval
    if census:
        return True, ""
    if not math.isfinite(count):
        return False, "The requested estimator failed; quote the interval only."
    if not fits["forest"].converged:
        return False, (
            "No model of the cells could be fitted here, so the interval is only the logical "
            f"bound [0, {hi:,.0f}]; the estimate is a histogram estimator's and may be far off."
        )
    tol = max(TRUST_SHARE * count, TRUST_COUNT)
    if not lo <= count <= hi:
        return False, (
            f"{_LABEL.get(used, used)}'s estimate lies outside the interval the extract supports "
            f"({lo:,.0f} to {hi:,.0f}); quote the interval."
        )
    if hi - count > tol or count - lo > tol:
        return False, (
            f"The extract cannot pin this down: the population uniques lie between {lo:,.0f} and "
            f"{hi:,.0f} (at the stated confidence), wider than 25% of the estimate; quote the "
            "interval, not the estimate."
        )
    return True, ""


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def _valid(fit: PopulationEstimate) -> bool:
    """ARX's test of a usable estimate: finite and non-zero."""
    return (
        fit.converged and math.isfinite(fit.n_population_uniques) and fit.n_population_uniques != 0
    )


def _dankar(f: float, fits: dict) -> tuple[str, str]:
    """Dankar et al.'s rule: the estimator to report and one sentence on why."""
    ff = f"{f:.4g}"
    if f <= DANKAR_THRESHOLD:
        if _valid(fits["pitman"]):
            return "pitman", (
                f"The sampling fraction {ff} is at most {DANKAR_THRESHOLD}, so Dankar's rule "
                "uses Pitman's model."
            )
        why = fits["pitman"].message.removeprefix("Pitman's fit failed: ").rstrip(".")
        if fits["pitman"].converged:
            why = "it estimated no population uniques"
        return "zayatz", (
            f"The sampling fraction {ff} is at most {DANKAR_THRESHOLD}, so Dankar's rule "
            f"prefers Pitman's model, but Pitman's fit failed ({why}); it falls back to Zayatz."
        )
    z, s = fits["zayatz"], fits["snb"]
    if not _valid(s):
        why = s.message.removeprefix("SNB's fit failed: ").rstrip(".")
        if s.converged:
            why = "it estimated no population uniques"
        return "zayatz", (
            f"The sampling fraction {ff} is above {DANKAR_THRESHOLD}, so Dankar's rule takes the "
            f"smaller of Zayatz and SNB, but SNB's fit failed ({why}); it uses Zayatz."
        )
    if z.n_population_uniques < s.n_population_uniques:
        chosen = "zayatz"
    else:
        chosen = "snb"
    return chosen, (
        f"The sampling fraction {ff} is above {DANKAR_THRESHOLD}, so Dankar's rule takes the "
        f"smaller of Zayatz ({fmt.pct(z.estimate, 3)}) and SNB ({fmt.pct(s.estimate, 3)}): "
        f"{_LABEL[chosen]}."
    )
