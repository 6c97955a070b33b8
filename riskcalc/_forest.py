r"""A forest of smoothed conditionals: the model behind the default population-uniqueness estimate.

The key's fields form a forest (Chow and Liu 1968 [1]_): each field is either a root, with its
marginal distribution, or the child of one other field, with its distribution given that
parent. The probability of a cell :math:`x = (x_1, \dots, x_k)` is

.. math::
    P(x) = \prod_{\text{roots } r} P(x_r) \prod_{\text{children } c} P(x_c \mid x_{\pi(c)}),

each conditional smoothed towards the child's marginal with a Dirichlet prior (an empirical-Bayes
estimate of the concentration :math:`a`, maximising the Dirichlet-multinomial marginal likelihood,
as in Bayesian-network learning, Heckerman et al. 1995 [2]_):

.. math::
    P(b \mid a) = \frac{n_{ab} + \hat a\, P(b)}{n_a + \hat a}.

An edge is kept when its marginal-likelihood gain over the child's marginal exceeds
:math:`\tfrac12 \log n` (a BIC charge for the one extra parameter :math:`a`); edges are taken
greatest gain first while they join two trees (Kruskal), and each tree is rooted where the sum of
the directed gains is largest.

The fit reads only the non-empty cells (their codes and counts); everything is vectorised over
cells, and the loops run over fields and pairs of fields.

References
----------
.. [1] Chow, C. K. and Liu, C. N. (1968). Approximating discrete probability distributions with
   dependence trees. *IEEE Transactions on Information Theory* 14(3), 462-467.
   https://doi.org/10.1109/TIT.1968.1054142
.. [2] Heckerman, D., Geiger, D. and Chickering, D. M. (1995). Learning Bayesian networks: the
   combination of knowledge and statistical data. *Machine Learning* 20, 197-243.
   https://doi.org/10.1007/BF00994016
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._lazy import lazy_module

special = lazy_module("scipy.special")

#: Concentrations tried for each conditional (log-spaced, a quarter decade apart); an infinite
#: concentration is the child's marginal (no edge).
_ALPHAS = 10.0 ** np.arange(-1.0, 6.01, 0.25)
#: Pseudo-count of each level in a root's marginal (only matters when a record is left out).
_ROOT_PRIOR = 0.5


@dataclass(frozen=True, slots=True)
class _Pair:
    """Counts of a (parent, child) pair of fields over the non-empty cells."""

    key: np.ndarray  # parent * n_child_levels + child, sorted, distinct
    count: np.ndarray  # records with that pair
    n_child: int


@dataclass(frozen=True, slots=True)
class Forest:
    """A fitted forest: parents, concentrations and the counts the probabilities read."""

    n: float
    levels: tuple[int, ...]
    parent: tuple[int, ...]  # -1 for a root
    alpha: tuple[float, ...]  # concentration of each child's conditional (nan for roots)
    margins: tuple[np.ndarray, ...]  # records per level, per field
    pairs: tuple[_Pair | None, ...]  # the (parent, field) counts, per field (None for roots)
    gains: tuple[float, ...]  # marginal-likelihood gain of each edge (0 for roots)

    def edges(self, names) -> list[tuple[str, str]]:
        """``(parent, child)`` field names, in field order."""
        return [(names[p], names[j]) for j, p in enumerate(self.parent) if p >= 0]

    def terms(self, codes: np.ndarray) -> Terms:
        """What :meth:`probability` reads for each row of ``codes``, gathered once."""
        k, m = len(self.parent), codes.shape[0]
        count = np.empty((k, m))
        prior = np.empty((k, m))
        total = np.empty((k, m))
        n = self.n
        for j, p in enumerate(self.parent):
            x = codes[:, j]
            margin = self.margins[j]
            if p < 0:
                count[j] = margin[x]
                prior[j] = _ROOT_PRIOR
                total[j] = n + _ROOT_PRIOR * int(np.count_nonzero(margin))
                continue
            pair = self.pairs[j]
            a = self.alpha[j]
            key = codes[:, p].astype(np.int64) * pair.n_child + x
            pos = np.minimum(np.searchsorted(pair.key, key), pair.key.shape[0] - 1)
            count[j] = np.where(pair.key[pos] == key, pair.count[pos], 0.0)
            prior[j] = a * margin[x] / n
            total[j] = self.margins[p][codes[:, p]] + a
        return Terms(n, count, prior, total)

    def probability(self, codes: np.ndarray, leave_out: float = 0.0) -> np.ndarray:
        r"""Each row's cell probability, with ``leave_out`` of its own record removed.

        ``leave_out = 0`` is the fitted model; ``leave_out = 1`` takes one record out of every
        count the row's probability reads (its own, for a row that is a record of the data):

        .. math::
            P_{-d}(x) = \frac{n - d}{n} \prod_r \frac{n_{x_r} - d + p_0}{n - d + p_0 L_r}
            \prod_c \frac{n_{x_{\pi(c)} x_c} - d + a_c P(x_c)}{n_{x_{\pi(c)}} - d + a_c},

        with :math:`p_0` = 0.5 pseudo-records per level of a root (Jeffreys' prior;
        :math:`L_r` its levels with records).
        """
        return self.terms(codes).probability(leave_out)


@dataclass(frozen=True, slots=True)
class Terms:
    """Per field and row: ``count``, ``prior`` and ``total`` of the factor
    ``(max(count - d, 0) + prior) / (total - d)``."""

    n: float
    count: np.ndarray
    prior: np.ndarray
    total: np.ndarray

    def probability(self, leave_out: float = 0.0) -> np.ndarray:
        d = float(leave_out)
        factors = (np.maximum(self.count - d, 0.0) + self.prior) / (self.total - d)
        return np.exp(np.log(factors).sum(axis=0)) * ((self.n - d) / self.n)


def _gain_curve(pair: _Pair, parent_margin: np.ndarray, child_p: np.ndarray) -> np.ndarray:
    r"""Dirichlet-multinomial log evidence of the child given the parent, minus the plug-in
    log-likelihood of the child's marginal, at every concentration of ``_ALPHAS``:

    .. math::
        \sum_a \Big[\log\Gamma(\alpha) - \log\Gamma(n_a + \alpha)
        + \sum_b \big(\log\Gamma(n_{ab} + \alpha P_b) - \log\Gamma(\alpha P_b)\big)\Big]
        - \sum_{ab} n_{ab} \log P_b.
    """
    al = _ALPHAS[None, :]
    # each term depends on a few numbers only: evaluate it once per distinct value, times its
    # multiplicity (parents by their size; pairs by (count, child level))
    sizes, times = np.unique(parent_margin[parent_margin > 0], return_counts=True)
    ev = times @ (special.gammaln(al) - special.gammaln(sizes[:, None] + al))
    child = pair.key % pair.n_child
    combo, mult = np.unique(pair.count.astype(np.int64) * pair.n_child + child, return_counts=True)
    count = (combo // pair.n_child).astype(np.float64)[:, None]
    prior = child_p[combo % pair.n_child][:, None]
    ev += mult @ (special.gammaln(count + al * prior) - special.gammaln(al * prior))
    plug = float(np.sum(pair.count * np.log(child_p[child])))
    return ev - plug


def _pairs(codes: np.ndarray, counts: np.ndarray, i: int, j: int, levels) -> tuple[_Pair, _Pair]:
    """The (i, j) and (j, i) pair counts: one dense count when the two fields' table is small,
    one sort otherwise; the reverse pair re-sorts only the distinct pairs."""
    li, lj = int(levels[i]), int(levels[j])
    key = codes[:, i].astype(np.int64) * lj + codes[:, j]
    if li * lj <= max(4 * codes.shape[0], 1 << 16):
        dense = np.bincount(key, weights=counts, minlength=li * lj)
        distinct = np.flatnonzero(dense)
        total = dense[distinct]
    else:
        distinct, inverse = np.unique(key, return_inverse=True)
        total = np.bincount(inverse.ravel(), weights=counts)
    back = (distinct % lj) * li + distinct // lj
    order = np.argsort(back, kind="stable")
    return _Pair(distinct, total, lj), _Pair(back[order], total[order], li)


def fit_forest(codes: np.ndarray, counts: np.ndarray, levels) -> Forest:
    """Fit the forest to non-empty cells: ``codes`` (cells x fields, each field coded
    ``0..levels[j]-1``) and ``counts`` (records per cell, all >= 1)."""
    counts = np.asarray(counts, dtype=np.float64)
    k = codes.shape[1]
    n = float(counts.sum())
    margins = [np.bincount(codes[:, j], weights=counts, minlength=int(levels[j])) for j in range(k)]
    shares = [m / n for m in margins]
    directed: dict[tuple[int, int], tuple[float, float, _Pair]] = {}
    for i in range(k):
        for j in range(i + 1, k):
            for (p, c), pair in zip(((i, j), (j, i)), _pairs(codes, counts, i, j, levels)):
                curve = _gain_curve(pair, margins[p], shares[c])
                best = int(np.argmax(curve))
                directed[(p, c)] = (max(float(curve[best]), 0.0), float(_ALPHAS[best]), pair)
    charge = 0.5 * math.log(max(n, 2.0))
    undirected = sorted(
        (
            (max(directed[(i, j)][0], directed[(j, i)][0]), i, j)
            for i in range(k)
            for j in range(i + 1, k)
        ),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    root = list(range(k))

    def find(a):
        while root[a] != a:
            a = root[a]
        return a

    edges: list[tuple[int, int]] = []
    for gain, i, j in undirected:
        if gain <= charge:
            break
        ri, rj = find(i), find(j)
        if ri != rj:
            root[max(ri, rj)] = min(ri, rj)
            edges.append((i, j))
    parent = [-1] * k
    trees: dict[int, list[int]] = {}
    for i in range(k):
        trees.setdefault(find(i), []).append(i)
    for nodes in trees.values():
        if len(nodes) == 1:
            continue
        best_total, best_parent = -math.inf, None
        for r in nodes:  # root the tree where the directed gains add up most
            par = {r: -1}
            stack, total = [r], 0.0
            while stack:
                u = stack.pop()
                for a, b in edges:
                    for x, y in ((a, b), (b, a)):
                        if x == u and y not in par:
                            par[y] = u
                            total += directed[(u, y)][0]
                            stack.append(y)
            if total > best_total:
                best_total, best_parent = total, par
        for child, p in best_parent.items():
            parent[child] = p
    alpha = tuple(directed[(p, j)][1] if p >= 0 else math.nan for j, p in enumerate(parent))
    pairs = tuple(directed[(p, j)][2] if p >= 0 else None for j, p in enumerate(parent))
    gains = tuple(directed[(p, j)][0] if p >= 0 else 0.0 for j, p in enumerate(parent))
    return Forest(
        n, tuple(int(v) for v in levels), tuple(parent), alpha, tuple(margins), pairs, gains
    )


def unique_probability(terms: Terms, rest: float, weight: float) -> np.ndarray:
    r"""Chance that each sample-unique cell (its :class:`Terms`) has no other record among
    ``rest`` more.

    With the own record counted with weight :math:`w` (``weight``; :math:`d = 1 - w` of it left
    out), the cell's expected share is :math:`P_{-d}(x)` and, the rest being a Poisson number of
    records with that share,

    .. math::
        p(x) = \exp\{-\,\mathrm{rest} \cdot P_{-d}(x)\}.

    :math:`w = 1` trusts the fitted model, which counts the unique record as evidence that its
    cell is common (it understates the chance); :math:`w = 0` leaves the record out, and a cell
    that only the record shows looks empty (it overstates the chance).
    """
    return np.exp(-rest * terms.probability(1.0 - weight))
