r"""The population estimators that read only the sample's class-size histogram
(:math:`c_j` = number of equivalence classes of size :math:`j`): Zayatz, Pitman and SNB, and
Dankar et al.'s rule that chooses among them.

* :func:`zayatz` - Zayatz (1991): the chance that a sample unique is a population unique, from
  hypergeometric sampling probabilities.
* :func:`pitman` - Hoshino (2001): the Pitman sampling formula, two parameters fitted by
  maximum likelihood.
* :func:`snb` - Chen and Keller-McNulty (1998): the slide negative binomial model, fitted by
  matching the numbers of sample classes of size one and two.
* :func:`_dankar` - Dankar et al. (2012): Pitman when :math:`f \le 0.1`, Zayatz if Pitman
  fails, otherwise the smaller of Zayatz and SNB (``method="dankar"`` of
  :func:`riskcalc.population_uniqueness`).

Each returns a :class:`~riskcalc._population_results.PopulationEstimate`; the references are
in each function's docstring and in :mod:`riskcalc.population`.
"""

from __future__ import annotations

import math

import numpy as np

from . import _format as fmt
from ._lazy import lazy_module
from ._population_results import _LABEL, PopulationEstimate, _finish
from ._typing import ArrayLike
from ._validation import check_histogram

optimize = lazy_module("scipy.optimize")
special = lazy_module("scipy.special")

__all__ = ["DANKAR_THRESHOLD", "pitman", "snb", "zayatz"]

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


#: The histogram estimators by name, in the order every call computes them.
_ESTIMATORS = {"zayatz": zayatz, "pitman": pitman, "snb": snb}


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
