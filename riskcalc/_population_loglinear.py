"""The log-linear estimate of population uniques: a Poisson log-linear model of the sample's
cell counts with interactions chosen by Skinner and Shlomo's impact criterion
(:func:`riskcalc.model_risk` with ``select="impact"``), giving the expected number of
population uniques :math:`\\hat\tau_1 / f` (``method="loglinear"`` of
:func:`riskcalc.population_uniqueness`).

References
----------
.. [1] Skinner, C. J. and Shlomo, N. (2008). Assessing identification risk in survey microdata
   using log-linear models. *Journal of the American Statistical Association* 103(483),
   989-1001. https://doi.org/10.1198/016214507000001328
"""

from __future__ import annotations

import numpy as np

from ._population_results import PopulationEstimate, _finish, _lower_first
from .exceptions import InvalidParameterError

#: Interactions the log-linear estimate may add (a cost cap: each step tries every pair of
#: fields; the simulation in docs/population.md never chose more than 3).
LOGLINEAR_MAX_INTERACTIONS = 3


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
    from ._model_risk import model_risk

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
