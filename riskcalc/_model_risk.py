r"""Model-based risk: Poisson log-linear models for the population frequencies.

A key that crosses a few categorical fields defines a contingency table whose cells are the
equivalence classes. When the extract is a sample of a population, the sample count
:math:`f_j` of cell :math:`j` and its population count :math:`F_j` are modelled as

.. math::
    F_j \sim \mathrm{Poisson}(\lambda_j), \qquad
    f_j \mid F_j \sim \mathrm{Binomial}(F_j, \pi_j)
    \;\Rightarrow\; f_j \sim \mathrm{Poisson}(\mu_j),\ \mu_j = \pi_j \lambda_j,
    \qquad F_j - f_j \mid f_j \sim \mathrm{Poisson}\big(\lambda_j (1 - \pi_j)\big),

with :math:`\log \mu_j = x_j^\top \beta` a log-linear model (main effects of the fields, and
interactions if asked for) fitted to the sample counts (Skinner and Holmes 1998 [1]_;
Skinner and Shlomo 2008 [2]_). The fitted means borrow strength across cells: a sample unique
in a cell the model expects to be large in the population is unlikely to be population unique.

Risk measures, over the sample uniques (SU, :math:`f_j = 1`), with
:math:`\nu_j = \hat\lambda_j (1 - \pi_j)`:

.. math::
    \tau_1 = \sum_{j \in SU} P(F_j = 1 \mid f_j = 1) = \sum_{j \in SU} e^{-\nu_j},
    \qquad
    \tau_2 = \sum_{j \in SU} E(1 / F_j \mid f_j = 1) = \sum_{j \in SU} \frac{1 - e^{-\nu_j}}{\nu_j}.

sdcMicro's ``modRisk`` reports ``gr1`` and ``gr2``: the same sums with :math:`\nu_j` replaced by
:math:`(1 - p_j)\hat\mu_j` (the fitted *sample* mean, :math:`p_j` the sum of the cell's
inclusion probabilities), divided by the number of non-empty cells with :math:`f_j \le`
``bound``. They are reproduced exactly (``gr1``, ``gr2``) and kept apart from
:math:`\tau_1, \tau_2`.

The fit never builds the full cross-classification. The fields split into *components* (fields
joined by interactions); the model factorises over them, so the default fit is the product of
the components' marginal fits (a margin for a field without interactions; the table itself
for a saturated component; IPF on the component's own table otherwise) evaluated at the
non-empty cells only. The weighted methods (``CE``, ``weightedLLM``) do not factorise; they are
fitted by Newton's method (IRLS: the same steps for a canonical link) on the exact likelihood,
with a sparse treatment-coded design at the non-empty cells and the sums over all cells
computed from the components' tables.

References
----------
.. [1] Skinner, C. J. and Holmes, D. J. (1998). Estimating the re-identification risk per
   record in microdata. *Journal of Official Statistics* 14(4), 361-372.
.. [2] Skinner, C. J. and Shlomo, N. (2008). Assessing identification risk in survey microdata
   using log-linear models. *Journal of the American Statistical Association* 103(483),
   989-1001. https://doi.org/10.1198/016214507000001328
.. [3] Clogg, C. C. and Eliason, S. R. (1987). Some common problems in log-linear analysis.
   *Sociological Methods and Research* 16(1), 8-44. https://doi.org/10.1177/0049124187016001002
.. [4] Templ, M., Kowarik, A. and Meindl, B. (2015). Statistical disclosure control for
   micro-data using the R package sdcMicro. *Journal of Statistical Software* 67(4).
   https://doi.org/10.18637/jss.v067.i04
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from . import _format as fmt
from ._core.access import prepare
from ._lazy import lazy_module
from ._render import RecordFrames
from ._typing import Fields, MissingPolicy, TableLike, Weights
from ._validation import (
    check_bound,
    check_choice,
    check_exactly_one,
    check_int,
    check_positive,
    check_sampling_weights,
    check_share,
    check_terms,
)
from .exceptions import InvalidParameterError

if TYPE_CHECKING:
    from scipy import linalg, sparse, special
else:
    linalg = lazy_module("scipy.linalg")
    sparse = lazy_module("scipy.sparse")
    special = lazy_module("scipy.special")

__all__ = ["METHODS", "ModelRiskResult", "SelectionStep", "model_risk"]

#: Accepted values of ``method`` (sdcMicro's names).
ModelRiskMethod = Literal["default", "CE", "PML", "weightedLLM", "IPF"]
METHODS: tuple[ModelRiskMethod, ...] = ("default", "CE", "PML", "weightedLLM", "IPF")
#: Largest table of a component with interactions (its cells are held densely).
MAX_COMPONENT_CELLS = 1 << 23
#: Largest number of parameters of a Newton fit (CE, weightedLLM), whose Hessian is dense.
MAX_NEWTON_PARAMETERS = 3000
#: Up to this many cells, sums over the whole cross-classification are exact; beyond it, they
#: are computed from the histogram of the log fitted means (bins of width ``_LOG_BIN``).
_EXACT_GRID = 1 << 22
_LOG_BIN = 2e-3
#: Convergence of IRLS / Newton: relative change of the deviance (R's glm uses 1e-8).
_TOL = 1e-10
_MAX_ITER = 100
#: Forward selection computes the impact of this many candidates, those lowering the AIC most.
SCREEN_CANDIDATES = 8
#: |standardised impact| at or below which forward selection stops.
DEFAULT_Z = 1.96


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SelectionStep:
    """One step of the forward selection: the model after adding ``added``.

    ``impact`` is the estimated bias of :math:`\\hat\\tau_1` under that model, ``z`` the
    impact divided by its standard error, ``tau1`` the estimate under that model.
    """

    added: tuple[str, ...] | None
    terms: tuple[tuple[str, ...], ...]
    impact: float
    z: float
    tau1: float


@dataclass(frozen=True, slots=True)
class ModelRiskResult(RecordFrames):
    """Log-linear model risk of an extract that is a sample of a population.

    Attributes
    ----------
    tau1 : float
        Expected number of sample uniques that are population unique (Skinner-Shlomo).
    tau2 : float
        Expected number of correct matches of the sample uniques, :math:`\\sum E(1/F_j)`.
    gr1, gr2 : float
        sdcMicro ``modRisk``'s global risk measures (see the module notes).
    n_population_uniques : float
        Expected number of population uniques: :math:`\\sum_{SU} e^{-\\nu_j} / \\pi_j` (each
        sample unique that is population unique stands for :math:`1/\\pi_j` of them). An
        expected value, not a count of anyone.
    population_size : float
        Sum of the weights, or ``n_records / sampling_fraction``.
    method : str
    terms : tuple of tuple of str
        The model's terms: one per field (main effects), then the interactions.
    selection : tuple of SelectionStep
        Forward-selection steps (empty unless ``select="impact"``).
    impact, impact_z : float
        Skinner-Shlomo style criterion of the final model (estimated bias of
        :math:`\\hat\\tau_1` and its standardised value).
    converged : bool
    iterations : int
    deviance : float
        Poisson deviance over the whole cross-classification.
    n_parameters, n_cells, grid_size : int
        Model parameters; non-empty cells; cells of the cross-classification.
    n_records, n_sample_uniques : int
    sampling_fraction : float or None
        As given (``None`` when weights were given).
    bound : float
    quasi_identifiers : tuple of str
    missing : str
    cell_counts, cell_fitted, cell_population_mean, cell_inclusion : numpy.ndarray
        Per non-empty cell: :math:`f_j`, fitted sample mean :math:`\\hat\\mu_j`, fitted
        population mean :math:`\\hat\\lambda_j = \\hat\\mu_j / \\pi_j`, and :math:`\\pi_j`
        (the cell's mean inclusion probability, ``f_j / sum of weights``).
    record_cell : numpy.ndarray
        Each record's cell (index into the ``cell_*`` arrays), input order.
    record_unique_prob : numpy.ndarray
        Per record: :math:`P(F_j = 1 \\mid f_j)` (0 for records not unique in the sample).
    record_match_prob : numpy.ndarray
        Per record: :math:`E(1 / F_j \\mid f_j)`, the chance a match on the key is correct.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMFF"), "year": [7, 7, 7, 8, 8, 8],
    ...                    "fsm": [True, True, False, False, True, False]})
    >>> result = rc.model_risk(df, ["sex", "year"], sampling_fraction=0.5)
    >>> type(result).__name__, result.n_sample_uniques
    ('ModelRiskResult', 2)
    """

    tau1: float
    tau2: float
    gr1: float
    gr2: float
    n_population_uniques: float
    population_size: float
    method: str
    terms: tuple
    selection: tuple
    impact: float
    impact_z: float
    converged: bool
    iterations: int
    deviance: float
    n_parameters: int
    n_cells: int
    grid_size: int
    n_records: int
    n_sample_uniques: int
    sampling_fraction: float | None
    bound: float
    quasi_identifiers: tuple[str, ...]
    missing: str
    cell_counts: np.ndarray = field(repr=False)
    cell_fitted: np.ndarray = field(repr=False)
    cell_population_mean: np.ndarray = field(repr=False)
    cell_inclusion: np.ndarray = field(repr=False)
    record_cell: np.ndarray = field(repr=False)
    record_unique_prob: np.ndarray = field(repr=False)
    record_match_prob: np.ndarray = field(repr=False)

    @property
    def estimate(self) -> float:
        """Expected share of population uniques, ``n_population_uniques / population_size``."""
        return self.n_population_uniques / self.population_size

    @property
    def formula(self) -> str:
        """The model as an R-style formula (``~ a + b + a:b``)."""
        return "~ " + " + ".join(":".join(t) for t in self.terms)

    def to_frame(self) -> pd.DataFrame:
        """One row per measure: ``measure``, ``value`` and, for counts, ``share`` of records."""
        n = self.n_records
        rows = [
            ("n_records", n, None),
            ("n_sample_uniques", self.n_sample_uniques, self.n_sample_uniques / n),
            ("tau1", self.tau1, self.tau1 / n),
            ("tau2", self.tau2, self.tau2 / n),
            ("n_population_uniques", self.n_population_uniques, self.estimate),
            ("gr1", self.gr1, None),
            ("gr2", self.gr2, None),
            ("impact", self.impact, None),
            ("impact_z", self.impact_z, None),
            ("deviance", self.deviance, None),
        ]
        return pd.DataFrame(
            {
                "measure": [r[0] for r in rows],
                "value": [float(r[1]) for r in rows],
                "share": [np.nan if r[2] is None else float(r[2]) for r in rows],
            }
        )

    def records_frame(self) -> pd.DataFrame:
        """One row per record (input order): ``fk``, fitted ``mu``, ``lambda``, the
        probability of being population unique and of a correct match."""
        c = self.record_cell
        return pd.DataFrame(
            {
                "fk": self.cell_counts[c].astype(np.int64),
                "mu": self.cell_fitted[c],
                "lambda": self.cell_population_mean[c],
                "unique_prob": self.record_unique_prob,
                "match_prob": self.record_match_prob,
            }
        )

    def __repr__(self) -> str:
        return (
            f"ModelRiskResult(method={self.method!r}, model={self.formula!r}, "
            f"n_sample_uniques={fmt.count(self.n_sample_uniques)}, tau1={self.tau1:.4g}, "
            f"tau2={self.tau2:.4g}, expected population uniques ~{self.n_population_uniques:,.1f} "
            f"({fmt.pct(self.estimate, 3)}), gr1={self.gr1:.4g}, gr2={self.gr2:.4g}, "
            f"impact_z={self.impact_z:.3g}, converged={self.converged}, "
            f"n_records={fmt.count(self.n_records)})"
        )


# --------------------------------------------------------------------------------------------
# Cells, terms and components
# --------------------------------------------------------------------------------------------


@dataclass
class _Cells:
    """The non-empty cells: each field's (observed) level per cell, and cell totals."""

    levels: list  # observed levels per field
    codes: np.ndarray  # (n_cells, n_fields) int64
    f: np.ndarray  # sample count per cell
    w: np.ndarray  # sum of weights per cell
    p: np.ndarray  # sum of inclusion probabilities (1 / weight) per cell
    record_cell: np.ndarray


def _cells(enc, part, weights) -> _Cells:
    cell, n_cells = part.class_id, part.n_classes
    n = part.n_records
    rep = np.empty(n_cells, dtype=np.int64)
    rep[cell] = np.arange(n, dtype=np.int64)  # any record of a cell: they share the levels
    levels, codes = [], np.empty((n_cells, len(part.columns)), dtype=np.int64)
    for i, name in enumerate(part.columns):
        col = enc[name]
        seen = np.bincount(col.codes, minlength=col.n_levels) > 0
        remap = np.cumsum(seen) - 1
        codes[:, i] = remap[col.codes[rep]]
        levels.append(int(seen.sum()))
    f = np.bincount(cell, minlength=n_cells).astype(np.float64)
    w = np.bincount(cell, weights=weights, minlength=n_cells)
    p = np.bincount(cell, weights=1.0 / weights, minlength=n_cells)
    return _Cells(levels, codes, f, w, p, cell)


def _closure(interactions) -> list[tuple[int, ...]]:
    """Hierarchical closure of the interaction terms (every sub-term of order >= 2)."""
    out: set[tuple[int, ...]] = set()
    for t in interactions:
        for r in range(2, len(t) + 1):
            out.update(itertools.combinations(sorted(t), r))
    return sorted(out, key=lambda t: (len(t), t))


@dataclass
class _Component:
    fields: tuple  # field indices
    shape: tuple  # levels of each
    terms: list  # terms (tuples of positions within ``fields``), mains first
    cell_index: np.ndarray  # each non-empty cell's index in the component table
    _design: sparse.csr_matrix | None = None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def n_params(self) -> int:
        return sum(int(np.prod([self.shape[j] - 1 for j in t], dtype=np.int64)) for t in self.terms)

    @property
    def design(self) -> sparse.csr_matrix:
        """(size, n_params) treatment-coded indicators over the table, built when needed."""
        if self._design is None:
            self._design = _design(self.shape, self.terms)
        return self._design


def _components(cells: _Cells, interactions, names) -> list[_Component]:
    groups: dict = {}
    for i, root in enumerate(_roots(len(cells.levels), interactions)):
        groups.setdefault(root, []).append(i)
    comps = []
    for members in groups.values():
        fields = tuple(members)
        shape = tuple(cells.levels[i] for i in fields)
        size = int(np.prod(shape, dtype=np.int64))
        pos = {fi: j for j, fi in enumerate(fields)}
        terms = [(j,) for j in range(len(fields))]
        terms += [tuple(pos[a] for a in t) for t in interactions if t[0] in pos]
        if len(fields) > 1 and size > MAX_COMPONENT_CELLS:
            raise InvalidParameterError(
                f"The interactions of model_risk join {fmt.qi_list(names[i] for i in fields)}, "
                f"whose table has {fmt.count(size)} cells, more than {fmt.count(MAX_COMPONENT_CELLS)}. "
                "Drop an interaction with a many-valued field."
            )
        index = np.ravel_multi_index(tuple(cells.codes[:, i] for i in fields), shape)
        comps.append(_Component(fields, shape, terms, index.astype(np.int64)))
    return comps


def _design(shape, terms) -> sparse.csr_matrix:
    """Treatment-coded indicators of every term over a component's table (no intercept)."""
    size = int(np.prod(shape, dtype=np.int64))
    grid = np.unravel_index(np.arange(size, dtype=np.int64), shape)
    rows, cols, offset = [], [], 0
    for t in terms:
        sub = tuple(shape[j] - 1 for j in t)
        width = int(np.prod(sub, dtype=np.int64))
        keep = np.ones(size, dtype=bool)
        for j in t:
            keep &= grid[j] >= 1
        r = np.flatnonzero(keep)
        c = np.ravel_multi_index(tuple(grid[j][r] - 1 for j in t), sub) if width else r[:0]
        rows.append(r)
        cols.append(c + offset)
        offset += width
    r = np.concatenate(rows) if rows else np.empty(0, np.int64)
    c = np.concatenate(cols) if cols else np.empty(0, np.int64)
    return sparse.csr_matrix((np.ones(r.shape[0]), (r, c)), shape=(size, offset))


# --------------------------------------------------------------------------------------------
# Fits
# --------------------------------------------------------------------------------------------


@dataclass
class _Fit:
    log_mu: np.ndarray  # log fitted sample mean at each non-empty cell
    comp_log: list  # per component: log of its factor over its table (for grid sums)
    log_scale: float  # log mu over the grid = log_scale + sum of comp_log terms
    log_mu_empty: np.ndarray  # log mean of each non-empty cell under the grid formula
    converged: bool
    iterations: int
    n_parameters: int


def _ipf(table: np.ndarray, terms) -> tuple[np.ndarray, bool, int]:
    """Iterative proportional fitting of a hierarchical model to a dense table."""
    maximal = [t for t in terms if not any(set(t) < set(u) for u in terms)]
    axes_all = tuple(range(table.ndim))
    fit = np.full(table.shape, table.sum() / table.size)
    margins = [
        (
            tuple(a for a in axes_all if a not in t),
            table.sum(axis=tuple(a for a in axes_all if a not in t), keepdims=True),
        )
        for t in maximal
    ]
    scale = max(float(table.sum()), 1.0)
    for it in range(1, 10 * _MAX_ITER + 1):
        for other, obs in margins:
            cur = fit.sum(axis=other, keepdims=True)
            with np.errstate(divide="ignore", invalid="ignore"):
                fit = fit * np.where(cur > 0, obs / cur, 0.0)
        gap = max(float(np.max(np.abs(fit.sum(axis=o, keepdims=True) - m))) for o, m in margins)
        if gap <= 1e-11 * scale:
            return fit, True, it
    return fit, False, 10 * _MAX_ITER


def _fit_factorised(cells: _Cells, comps, y: np.ndarray, method: str) -> _Fit:
    """Default / PML / IPF: the product of the components' marginal fits."""
    Y = float(y.sum())
    log_mu = np.full(y.shape[0], -(len(comps) - 1) * math.log(Y))
    comp_log, ok, iters, n_par = [], True, 0, 1
    for comp in comps:
        table = np.bincount(comp.cell_index, weights=y, minlength=comp.size)
        n_par += comp.n_params
        saturated = any(len(t) == len(comp.fields) for t in comp.terms)
        if saturated:  # one field, or a term over all the component's fields: the table itself
            fitted = table
        else:  # IPF: the Poisson MLE of a hierarchical model, exact zeros where a margin is 0
            fitted, conv, it = _ipf(table.reshape(comp.shape), comp.terms)
            fitted = fitted.ravel()
            ok, iters = ok and conv, max(iters, it)
        with np.errstate(divide="ignore"):
            lf = np.log(fitted)
        comp_log.append(lf)
        log_mu += lf[comp.cell_index]
    return _Fit(log_mu, comp_log, -(len(comps) - 1) * math.log(Y), log_mu, ok, iters, n_par)


def _fit_newton(cells: _Cells, comps, y, offset_ne, log_a0, covariate) -> _Fit:
    r"""Newton's method on the exact Poisson log-likelihood over the whole cross-classification.

    :math:`\log\mu_j = x_j^\top\theta + o_j` at non-empty cells (offset :math:`o_j`, and a
    covariate that is 0 at empty cells), :math:`\log\mu_g = x_g^\top\theta + \log a_0` at empty
    cells. The sum over all cells, its gradient and Hessian come from the components' tables:
    :math:`Z = e^{\theta_0}\prod_C T_C` with :math:`T_C = \sum_{g \in C} e^{\eta_C(g)}`.
    """
    K = y.shape[0]
    blocks = [comp.design[comp.cell_index] for comp in comps]
    widths = [b.shape[1] for b in blocks]
    starts = np.cumsum([1] + widths[:-1]) if widths else np.array([], int)
    p0 = 1 + sum(widths)
    has_cov = covariate is not None
    p = p0 + int(has_cov)
    if p > MAX_NEWTON_PARAMETERS:
        raise InvalidParameterError(
            f"model_risk's weighted methods fit a dense model with {p} parameters here, more than "
            f"{MAX_NEWTON_PARAMETERS}: use method='default' or fields with fewer values."
        )
    Xt = sparse.hstack([np.ones((K, 1))] + blocks, format="csr")  # without the covariate
    X = sparse.hstack([Xt, covariate[:, None]], format="csr") if has_cov else Xt
    a0 = math.exp(log_a0)

    # start: the main-effects fit (margins) for the field parameters
    theta = np.zeros(p)
    Y = float(y.sum())
    for comp, s in zip(comps, starts):
        for j in range(len(comp.fields)):
            marg = np.bincount(cells.codes[:, comp.fields[j]], weights=y, minlength=comp.shape[j])
            marg = np.maximum(marg, 1e-3)
            lo = s + sum(comp.shape[i] - 1 for i in range(j))
            theta[lo : lo + comp.shape[j] - 1] = np.log(marg[1:] / marg[0])

    def parts(th):
        comp_eta, logT, m, M = [], [], [], []
        for comp, s, wd in zip(comps, starts, widths):
            eta = comp.design @ th[s : s + wd]
            shift = eta.max() if eta.size else 0.0
            E = np.exp(eta - shift)
            T = E.sum()
            comp_eta.append(eta)
            logT.append(math.log(T) + shift)
            m.append(comp.design.T @ E / T)
            M.append((comp.design.T @ comp.design.multiply(E[:, None])).toarray() / T)
        return comp_eta, logT, m, M

    def loglik(th):
        comp_eta, logT, _, _ = parts(th)
        eta_t = Xt @ th[:p0]
        eta = eta_t + (covariate * th[p0] if has_cov else 0.0) + offset_ne
        logZ = th[0] + sum(logT)
        if logZ > 700 or np.max(eta, initial=-np.inf) > 700:  # a step far too long
            return -math.inf, comp_eta, logT
        rest = math.exp(logZ) - np.exp(eta_t).sum()  # sum over the empty cells of e^eta
        return float(y @ eta - np.exp(eta).sum() - a0 * max(rest, 0.0)), comp_eta, logT

    # first: centre the intercept so that the totals match
    _, logT, _, _ = parts(theta)
    theta[0] = math.log(Y) - sum(logT) - log_a0
    ll, _, _ = loglik(theta)
    converged, it = False, 0
    for it in range(1, _MAX_ITER + 1):  # noqa: B007 (it is reported after the loop)
        comp_eta, logT, m, M = parts(theta)
        Z = math.exp(theta[0] + sum(logT))
        eta_t = Xt @ theta[:p0]
        e_t = np.exp(eta_t)
        eta = eta_t + (covariate * theta[p0] if has_cov else 0.0) + offset_ne
        mu = np.exp(eta)
        u = np.zeros(p)
        u[0] = 1.0
        B = np.zeros((p, p))
        for s, wd, mm, MM in zip(starts, widths, m, M):
            u[s : s + wd] = mm
            B[s : s + wd, s : s + wd] = MM - np.outer(mm, mm)
        grad = X.T @ (y - mu) - a0 * (Z * u - np.concatenate([Xt.T @ e_t, np.zeros(p - p0)]))
        H = (X.T @ X.multiply(mu[:, None])).toarray()
        Ht = (Xt.T @ Xt.multiply(e_t[:, None])).toarray()
        H += a0 * Z * (np.outer(u, u) + B)
        H[:p0, :p0] -= a0 * Ht
        step = _solve_psd(H, grad)
        t = 1.0
        for _ in range(40):
            cand = theta + t * step
            ll_new, _, _ = loglik(cand)
            if ll_new >= ll - 1e-12 * abs(ll):
                break
            t /= 2
        change = abs(ll_new - ll) / (abs(ll) + 0.1)
        theta, ll = cand, ll_new
        if change < _TOL and np.max(np.abs(t * step)) < 1e-6:
            converged = True
            break
    comp_eta, logT, _, _ = parts(theta)
    eta_t = Xt @ theta[:p0]
    log_mu = eta_t + (covariate * theta[p0] if has_cov else 0.0) + offset_ne
    # an empty cell's mean is a0 * e^{theta0} * prod_C e^{eta_C}
    return _Fit(log_mu, list(comp_eta), theta[0] + log_a0, eta_t + log_a0, converged, it, p)


def _solve_psd(H, g):
    """Newton step ``H^-1 g`` for a positive semi-definite ``H`` (pseudo-inverse if singular:
    a parameter whose margin is 0 has no finite MLE and is left where it is)."""
    d = np.sqrt(np.clip(np.diag(H), 1e-300, None))
    Hs = H / d[:, None] / d[None, :]
    try:
        c = linalg.cho_factor(Hs + 1e-12 * np.eye(H.shape[0]), check_finite=False)
        return linalg.cho_solve(c, g / d, check_finite=False) / d
    except linalg.LinAlgError:
        return linalg.lstsq(Hs, g / d, cond=1e-12)[0] / d


# --------------------------------------------------------------------------------------------
# Sums over the whole cross-classification
# --------------------------------------------------------------------------------------------


def _grid_sum(fit: _Fit, func) -> list[float]:
    """Sums over every cell of the table of the arrays ``func(mu)`` returns (a tuple).

    Exact when the table has at most ``_EXACT_GRID`` cells; otherwise from the histogram of
    :math:`\\log\\mu` (the convolution of the components' histograms, bins ``_LOG_BIN`` wide).
    """
    vecs = [v[np.isfinite(v)] for v in fit.comp_log]
    size = int(np.prod([v.shape[0] for v in vecs], dtype=np.float64))
    if size <= _EXACT_GRID:
        acc = np.array([fit.log_scale])
        for v in vecs:
            acc = (acc[:, None] + v[None, :]).ravel()
        return [float(np.sum(a)) for a in func(np.exp(acc))]
    # imported here, not at the top: scipy.signal costs ~0.7 s to import
    from scipy.signal import fftconvolve

    lo = fit.log_scale
    hist = np.ones(1)
    for v in vecs:
        vmin = float(v.min())
        idx = np.floor((v - vmin) / _LOG_BIN + 0.5).astype(np.int64)
        h = np.bincount(idx).astype(np.float64)
        hist = fftconvolve(hist, h) if hist.size > 1 else h
        lo += vmin
    hist = np.clip(hist, 0.0, None)
    hist *= size / hist.sum()
    mu = np.exp(lo + _LOG_BIN * np.arange(hist.shape[0]))
    return [float(hist @ a) for a in func(mu)]


def _impact(fit: _Fit, f: np.ndarray, pi: float) -> tuple[float, float]:
    r"""Estimated bias of :math:`\hat\tau_1` from misfit, and its standardised value.

    With :math:`h(\mu) = \mu e^{-\mu/\pi}` (the expected contribution of a cell to
    :math:`\tau_1`), a Taylor expansion of :math:`\sum_k h(\hat\mu_k) - h(\mu_k)` in which
    :math:`\mu_k - \hat\mu_k` and :math:`(\mu_k - \hat\mu_k)^2` are replaced by their unbiased
    estimates :math:`f_k - \hat\mu_k` and :math:`(f_k - \hat\mu_k)^2 - f_k` gives

    .. math::
        \hat B = -\sum_k \Big[ h'(\hat\mu_k)(f_k - \hat\mu_k)
            + \tfrac12 h''(\hat\mu_k)\big((f_k - \hat\mu_k)^2 - f_k\big) \Big],
        \qquad
        \hat v = \sum_k h'(\hat\mu_k)^2 \hat\mu_k + \tfrac12 h''(\hat\mu_k)^2 \hat\mu_k^2,

    summed over every cell of the table (empty cells included), as in Skinner and Shlomo
    (2008, section 4). The criterion is :math:`\hat B / \sqrt{\hat v}`.
    """

    def derivatives(m):
        e = np.exp(-m / pi)
        return e * (1 - m / pi), e * (m / pi - 2) / pi

    def empty_terms(m):  # the bias and variance terms of a cell with f = 0
        a1, a2 = derivatives(m)
        return -a1 * m + 0.5 * a2 * m * m, a1 * a1 * m + 0.5 * (a2 * m) ** 2

    mu, mu0 = np.exp(fit.log_mu), np.exp(fit.log_mu_empty)
    # every cell of the table as if empty (f = 0), then the non-empty cells corrected
    g_b, g_v = _grid_sum(fit, empty_terms)
    e_b, e_v = empty_terms(mu0)
    a1, a2 = derivatives(mu)
    d = f - mu
    b = g_b - e_b.sum() + np.sum(a1 * d + 0.5 * a2 * (d * d - f))
    v = g_v - e_v.sum() + np.sum(a1 * a1 * mu + 0.5 * (a2 * mu) ** 2)
    B = -float(b)
    return B, B / math.sqrt(v) if v > 0 else float("nan")


# --------------------------------------------------------------------------------------------
# The public measure
# --------------------------------------------------------------------------------------------


def _parse_terms(terms, names, func) -> list[tuple[int, ...]]:
    """Interactions (tuples of field indices) from a formula string or a sequence of tuples."""
    pos = {n: i for i, n in enumerate(names)}
    return _closure([tuple(sorted(pos[n] for n in t)) for t in check_terms(terms, names, func)])


def model_risk(
    data: TableLike,
    quasi_identifiers: Fields,
    *,
    weights: Weights | None = None,
    sampling_fraction: float | None = None,
    terms: str | Sequence[Sequence[str]] | None = None,
    method: ModelRiskMethod = "default",
    select: Literal["impact"] | None = None,
    z_threshold: float = DEFAULT_Z,
    max_interactions: int | None = None,
    bound: float = math.inf,
    missing: MissingPolicy = "category",
) -> ModelRiskResult:
    r"""Re-identification risk from a Poisson log-linear model of the population frequencies.

    Fits :math:`\log\mu_j = x_j^\top\beta` to the sample counts of the cross-classification of
    ``quasi_identifiers`` (every combination of their observed values, empty cells included),
    then estimates for each sample unique the chance that it is also population unique and the
    chance that a match on the key is correct (see the module notes for the formulas):

    .. math::
        \tau_1 = \sum_{f_j = 1} e^{-\hat\lambda_j(1 - \pi_j)}, \qquad
        \tau_2 = \sum_{f_j = 1} \frac{1 - e^{-\hat\lambda_j(1-\pi_j)}}{\hat\lambda_j(1-\pi_j)},
        \qquad \hat\lambda_j = \hat\mu_j / \pi_j.

    Parameters
    ----------
    data : table-like
        The extract (the sample).
    quasi_identifiers : sequence of str
        The fields of the key; each gets a main effect.
    weights : str or array-like, optional
        Sampling weights (a column name or one value per record), :math:`1/\pi_i`.
    sampling_fraction : float in (0, 1], optional
        For a simple random sample: the same as ``weights = 1 / sampling_fraction`` for every
        record. Give this or ``weights``.
    terms : str or sequence of tuple of str, optional
        Interactions, as a formula (``"~ sex + nc_year + nc_year:urn"``; ``a*b`` means ``a:b``)
        or a list of tuples of field names. Main effects of every quasi-identifier are always in
        the model, and lower-order interactions of a higher-order one are added (hierarchical
        model). Default: main effects only (independence).
    method : {"default", "CE", "PML", "weightedLLM", "IPF"}
        As sdcMicro's ``modRisk``: ``"default"`` fits the counts; ``"CE"`` (Clogg and Eliason
        1987) adds the offset :math:`\log(f_j / w_j + 0.1)` (:math:`\log 0.1` at empty cells);
        ``"PML"`` fits the rounded rescaled weighted counts
        :math:`\mathrm{round}(w_j\, n / \sum w)`; ``"weightedLLM"`` adds the cell's weight sum
        :math:`w_j` (0 at empty cells) as a covariate; ``"IPF"`` fits the counts by iterative
        proportional fitting (same fitted values as ``"default"``).
    select : {None, "impact"}
        ``"impact"``: forward selection over two-way interactions by the Skinner-Shlomo
        criterion, starting from ``terms``: at each step add the interaction that brings the
        while the standardised impact :math:`|\hat B/\sqrt{\hat v}|` (see :func:`_impact`) of
        the current model exceeds ``z_threshold``, add the two-way interaction that brings it
        closest to 0; stop when it is at most ``z_threshold``, when no interaction brings it
        closer to 0, or after ``max_interactions`` additions. A candidate must be supported by
        the data (it lowers the AIC: deviance falls by more than twice the parameters it adds;
        this keeps a sparse sample from saturating a large table; only the
        ``SCREEN_CANDIDATES`` = 8 candidates lowering it most are scored by the impact) and must join two fields not
        yet connected, so that the interaction graph stays a forest: the model is then
        decomposable and its fit closed-form. The criterion measures the fit
        where it matters for the risk (the bias of :math:`\hat\tau_1`), not the fit of the
        whole table, so an interaction that changes no risky cell is not added. Interactions whose joined table would exceed
        ``MAX_COMPONENT_CELLS`` cells are not tried. The steps are in ``selection``.
    z_threshold : float, default 1.96
    max_interactions : int, optional
        At most this many interactions added by the selection (default: all pairs).
    bound : float, default inf
        sdcMicro's ``bound``: only cells with :math:`f_j \le` ``bound`` count in the
        denominator of ``gr1`` and ``gr2``. It does not change :math:`\tau_1, \tau_2`.
    missing : {"category", "raise"}, default "category"

    Returns
    -------
    ModelRiskResult

    Notes
    -----
    The cross-classification can have millions of cells, most of them empty; the fit never
    holds them. For ``"default"``, ``"PML"`` and ``"IPF"`` the maximum-likelihood fit is the
    product of the components' fits (one margin per field without interactions; iterative
    proportional fitting on the joint table of fields joined by interactions, exact after one
    cycle for a decomposable model), divided by the total to the power (number of components
    - 1), evaluated at the non-empty cells. ``"CE"`` and ``"weightedLLM"`` are fitted by
    Newton's method (IRLS) with a sparse design; the sums over all cells are products of the
    components' sums. Cells whose fitted mean is 0 are left out of ``gr1``/``gr2`` (as
    sdcMicro); a sample unique with :math:`\pi_j = 1` has :math:`\nu_j = 0`, risk 1.

    ``gr1`` and ``gr2`` reproduce sdcMicro's values (its tests' 0.553 / 0.705 for ``"default"``,
    0.542 / 0.699 for ``"CE"`` and 0.408 / 0.613 for ``"weightedLLM"``), but they plug the
    fitted *sample* mean into :math:`e^{-(1-p)\mu}` and divide by the number of non-empty
    cells; :math:`\tau_1, \tau_2` use the population mean :math:`\hat\lambda = \hat\mu/\pi` as
    Skinner and Shlomo (2008) do, and are counts of sample uniques.

    References
    ----------
    .. [1] Skinner, C. J. and Shlomo, N. (2008). Assessing identification risk in survey
       microdata using log-linear models. *Journal of the American Statistical Association*
       103(483), 989-1001. https://doi.org/10.1198/016214507000001328
    .. [2] Skinner, C. J. and Holmes, D. J. (1998). Estimating the re-identification risk per
       record in microdata. *Journal of Official Statistics* 14(4), 361-372.
    .. [3] Clogg, C. C. and Eliason, S. R. (1987). Some common problems in log-linear
       analysis. *Sociological Methods and Research* 16(1), 8-44.
       https://doi.org/10.1177/0049124187016001002

    Examples
    --------
    >>> import pandas as pd
    >>> from riskcalc import model_risk
    >>> df = pd.DataFrame({"sex": list("FFMMFMFMFM"), "year": [7, 7, 7, 8, 8, 9, 9, 10, 10, 10]})
    >>> res = model_risk(df, ["sex", "year"], sampling_fraction=1.0)
    >>> res.tau1 == res.n_sample_uniques  # a census: every sample unique is population unique
    True
    """
    func = "model_risk"
    method = check_choice(method, "method", METHODS, func)
    if select is not None:
        select = check_choice(select, "select", ("impact",), func)
    z_threshold = check_positive(z_threshold, "z_threshold", func)
    bound = check_bound(bound, "bound", func)
    check_exactly_one(
        func,
        weights=(weights, "sampling weights, 1 / inclusion probability"),
        sampling_fraction=(sampling_fraction, "a number in (0, 1]"),
    )
    enc, part, w = prepare(data, quasi_identifiers, func=func, missing=missing, weights=weights)
    n = part.n_records
    if sampling_fraction is not None:
        sampling_fraction = check_share(sampling_fraction, "sampling_fraction", func)
        w = np.full(n, 1.0 / sampling_fraction)
    else:
        w = check_sampling_weights(w, func)
    names = part.columns
    cells = _cells(enc, part, w)
    interactions = _parse_terms(terms, names, func)
    pairs = [t for t in itertools.combinations(range(len(names)), 2)]
    if max_interactions is None:
        max_interactions = len(pairs)
    else:
        max_interactions = check_int(max_interactions, "max_interactions", func, minimum=0)
    pi_bar = n / float(w.sum())

    def run(inter):
        comps = _components(cells, inter, names)
        return _fit_method(cells, comps, method)

    fit = run(interactions)
    B, z = _impact(fit, cells.f, pi_bar)
    steps = []
    if select == "impact":
        steps.append(SelectionStep(None, _named(interactions, names), B, z, _tau(cells, fit)[0]))
        dev_now = _full_deviance(fit, cells)
        while abs(z) > z_threshold and len(steps) - 1 < max_interactions:
            best = None
            roots = _roots(len(names), interactions)
            supported = []
            for pair in pairs:
                if roots[pair[0]] == roots[pair[1]]:
                    continue  # already joined: the model stays a forest (decomposable)
                trial = _closure(interactions + [pair])
                try:
                    if _joined_size(cells, trial) > MAX_COMPONENT_CELLS:
                        continue
                    tf = run(trial)
                except InvalidParameterError:
                    continue
                dev = _full_deviance(tf, cells)
                gain = dev_now - dev - 2.0 * (tf.n_parameters - fit.n_parameters)
                if gain > 0:  # the data support it (a fall in AIC)
                    supported.append((gain, pair, tf, trial, dev))
            # the impact (the costly part) of the best-supported candidates only
            supported.sort(key=lambda c: -c[0])
            for _, pair, tf, trial, dev in supported[:SCREEN_CANDIDATES]:
                tb, tz = _impact(tf, cells.f, pi_bar)
                if np.isfinite(tz) and (best is None or abs(tz) < best[0]):
                    best = (abs(tz), pair, tb, tz, tf, trial, dev)
            if best is None or best[0] >= abs(z):
                break  # no supported interaction brings the impact closer to 0
            _, pair, B, z, fit, interactions, dev_now = best
            steps.append(
                SelectionStep(
                    tuple(names[i] for i in pair),
                    _named(interactions, names),
                    B,
                    z,
                    _tau(cells, fit)[0],
                )
            )

    tau1, tau2, nu = _tau(cells, fit)
    mu = np.exp(fit.log_mu)
    pi = cells.f / cells.w
    lam = mu / pi
    su = cells.f == 1
    n_pop = float(np.sum(np.exp(-nu[su]) / pi[su]))
    gr1, gr2 = _sdcmicro_gr(cells, mu, bound)
    match = _match_prob(cells.f, nu)
    cell = cells.record_cell
    rec_unique = np.where(su, np.exp(-nu), 0.0)[cell]
    dev = _full_deviance(fit, cells)
    return ModelRiskResult(
        tau1=tau1,
        tau2=tau2,
        gr1=gr1,
        gr2=gr2,
        n_population_uniques=n_pop,
        population_size=float(w.sum()),
        method=method,
        terms=tuple((nm,) for nm in names) + _named(interactions, names),
        selection=tuple(steps),
        impact=B,
        impact_z=z,
        converged=fit.converged,
        iterations=fit.iterations,
        deviance=dev,
        n_parameters=fit.n_parameters,
        n_cells=int(cells.f.shape[0]),
        grid_size=int(np.prod(cells.levels, dtype=np.float64)),
        n_records=n,
        n_sample_uniques=int(np.count_nonzero(su)),
        sampling_fraction=sampling_fraction,
        bound=bound,
        quasi_identifiers=names,
        missing=part.missing,
        cell_counts=cells.f,
        cell_fitted=mu,
        cell_population_mean=lam,
        cell_inclusion=pi,
        record_cell=cell,
        record_unique_prob=rec_unique,
        record_match_prob=match[cell],
    )


def _named(interactions, names):
    return tuple(tuple(names[i] for i in t) for t in interactions)


def _roots(k: int, interactions) -> list[int]:
    """Component (a root field) of each field under the interactions."""
    parent = list(range(k))

    def find(a):
        while parent[a] != a:
            a = parent[a]
        return a

    for t in interactions:
        for a in t[1:]:
            ra, rb = find(t[0]), find(a)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return [find(i) for i in range(k)]


def _joined_size(cells, interactions) -> int:
    """Largest table among the components the interactions would form."""
    sizes: dict = {}
    for i, root in enumerate(_roots(len(cells.levels), interactions)):
        sizes[root] = sizes.get(root, 1) * cells.levels[i]
    return max(sizes.values())


def _fit_method(cells: _Cells, comps, method) -> _Fit:
    f = cells.f
    if method in ("default", "IPF"):
        return _fit_factorised(cells, comps, f, method)
    if method == "PML":
        y = np.round(cells.w * f.sum() / cells.w.sum())  # numpy rounds half to even, as R
        if y.sum() <= 0:
            raise InvalidParameterError(
                "model_risk's method 'PML' rounds every rescaled weighted count to 0: the "
                "weights are too uneven for it. Use method='default' or 'CE'."
            )
        return _fit_factorised(cells, comps, y, method)
    if method == "CE":
        return _fit_newton(cells, comps, f, np.log(f / cells.w + 0.1), math.log(0.1), None)
    # weightedLLM: the cell's weight sum as a covariate (scaled for the solver)
    scale = float(np.mean(cells.w))
    return _fit_newton(cells, comps, f, np.zeros_like(f), 0.0, cells.w / scale)


def _tau(cells: _Cells, fit: _Fit):
    mu = np.exp(fit.log_mu)
    pi = cells.f / cells.w
    nu = mu * (1.0 - pi) / pi
    su = cells.f == 1
    e = np.exp(-nu[su])
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(nu[su] > 0, -np.expm1(-nu[su]) / nu[su], 1.0)
    return float(e.sum()), float(r2.sum()), nu


def _sdcmicro_gr(cells: _Cells, mu, bound):
    keep = (cells.f <= bound) & (mu > 0)
    m = int(np.count_nonzero(keep))
    if m == 0:
        return float("nan"), float("nan")
    su = keep & (cells.f == 1)
    v = (1.0 - cells.p[su]) * mu[su]
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(v > 0, -np.expm1(-v) / v, 1.0)
    return float(np.exp(-v).sum() / m), float(r2.sum() / m)


def _match_prob(f, nu):
    r""":math:`E(1/F \mid f) = E[1/(f + X)]`, :math:`X \sim \mathrm{Poisson}(\nu)`:
    :math:`{}_1F_1(1; f + 1; -\nu) / f` (Kummer's function; :math:`(1 - e^{-\nu})/\nu` at
    :math:`f = 1`)."""
    out = special.hyp1f1(1.0, f + 1.0, -nu) / f
    one = f == 1
    with np.errstate(divide="ignore", invalid="ignore"):
        out[one] = np.where(nu[one] > 0, -np.expm1(-nu[one]) / nu[one], 1.0)
    return out


def _full_deviance(fit: _Fit, cells: _Cells) -> float:
    """Poisson deviance of the fit over the whole table (an empty cell adds ``2 mu``)."""
    mu = np.exp(fit.log_mu)
    y = cells.f
    with np.errstate(divide="ignore", invalid="ignore"):
        ne = np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu)
    # the sum of the means over the table factorises over the components
    log_total = fit.log_scale + sum(float(special.logsumexp(v)) for v in fit.comp_log)
    total = math.exp(log_total)
    empty = total - float(np.exp(fit.log_mu_empty).sum())
    return float(2 * (ne.sum() + max(empty, 0.0)))
