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
  Skinner and Shlomo's impact criterion (:func:`riskcalc.model_risk`) [6]_: the
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

Where each part lives: this module holds the public entry, :func:`population_uniqueness`, which
runs every estimator and chooses; ``riskcalc._population_estimators`` the histogram estimators
and Dankar's rule; ``riskcalc._population_loglinear`` the log-linear estimate;
``riskcalc._population_forest`` the forest estimate, its measured weight and the interval;
``riskcalc._population_trust`` whether the estimate can be quoted; and
``riskcalc._population_results`` the result classes.

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
from typing import Literal

import numpy as np

from ._core.backend import backend_for
from ._population_estimators import (
    _ESTIMATORS,
    DANKAR_THRESHOLD,
    _dankar,
    pitman,
    snb,
    zayatz,
)
from ._population_forest import VALIDATION_MIN as VALIDATION_MIN
from ._population_forest import VALIDATION_REPS as VALIDATION_REPS
from ._population_forest import VALIDATION_SHARES as VALIDATION_SHARES
from ._population_forest import _forest_estimate
from ._population_loglinear import LOGLINEAR_MAX_INTERACTIONS as LOGLINEAR_MAX_INTERACTIONS
from ._population_loglinear import _loglinear
from ._population_results import (
    _LABEL,
    PopulationEstimate,
    PopulationUniquenessResult,
    _lower_first,
)
from ._population_trust import TRUST_COUNT as TRUST_COUNT
from ._population_trust import TRUST_SHARE as TRUST_SHARE
from ._population_trust import _trust
from ._typing import Fields, MissingPolicy, TableLike
from ._validation import (
    check_choice,
    check_confidence,
    check_int,
    check_missing_policy,
    check_population,
)

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
#: Estimators whose estimates every call reports.
ESTIMATORS = ("zayatz", "pitman", "snb", "loglinear", "forest")


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
      (:func:`riskcalc.model_risk` with ``select="impact"``: main effects, then up
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
    confidence = check_confidence(confidence, func)
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
    f_given, N = check_population(n, sampling_fraction, population_size, func)
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


def _auto_reason(fit: PopulationEstimate) -> str:
    w = fit.parameters.get("weight", math.nan)
    return (
        "The forest model is the default: each sample unique's chance of being population "
        "unique comes from a forest of smoothed field-to-field conditionals fitted to the "
        f"extract, and how much the record's own count weighs (here {w:.2f}, between 0: left "
        "out, and 1: fully counted) was measured on subsamples of the extract, whose own uniques "
        f"are known. {fit.message}"
    )
