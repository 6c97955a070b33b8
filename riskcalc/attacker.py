"""Attacker models: prosecutor, journalist and marketer re-identification risk (El Emam; ARX)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _format as fmt
from ._core.backend import backend_for
from ._render import Displayed
from ._typing import Fields, MissingPolicy, TableLike
from ._validation import check_missing_policy, check_share
from .exceptions import InvalidParameterError

__all__ = ["AttackerRiskResult", "attacker_risk"]


@dataclass(frozen=True, slots=True)
class AttackerRiskResult(Displayed):
    """Re-identification risk under the three attacker models of El Emam.

    Attributes
    ----------
    quasi_identifiers : tuple of str
    missing : str
    threshold : float
        The highest acceptable probability of re-identification of one record.
    n_records, n_classes : int
        Records and equivalence classes of the extract.
    population_size : int or None
        Records of the population table, when one was given.
    prosecutor_records_at_risk, prosecutor_highest_risk, prosecutor_success_rate : float
        Share of records whose risk ``1 / fk`` exceeds ``threshold``; ``1 / min fk``; the
        expected share re-identified, ``n_classes / n_records``.
    journalist_records_at_risk, journalist_highest_risk, journalist_success_rate : float
        The same with each class's size in the population ``F_j`` in place of ``f_j``. Without
        a population table the population is the extract and these equal the prosecutor's.
    marketer_success_rate : float
        Expected share of records re-identified when every record is matched:
        ``sum_j f_j / F_j / n``.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMFF"), "year": [7, 7, 7, 8, 8, 8],
    ...                    "fsm": [True, True, False, False, True, False]})
    >>> result = rc.attacker_risk(df, ["sex", "year"], population=pd.concat([df, df]))
    >>> result.prosecutor_success_rate, result.journalist_success_rate, result.marketer_success_rate
    (0.6666666666666666, 0.3333333333333333, 0.3333333333333333)
    """

    quasi_identifiers: tuple[str, ...]
    missing: str
    threshold: float
    n_records: int
    n_classes: int
    population_size: int | None
    prosecutor_records_at_risk: float
    prosecutor_highest_risk: float
    prosecutor_success_rate: float
    journalist_records_at_risk: float
    journalist_highest_risk: float
    journalist_success_rate: float
    marketer_success_rate: float

    def to_frame(self) -> pd.DataFrame:
        """One row per attacker model: records at risk (count, then share), highest risk, success
        rate."""
        return pd.DataFrame(
            {
                "attacker": ["prosecutor", "journalist", "marketer"],
                "records_at_risk": pd.array(
                    [
                        round(self.prosecutor_records_at_risk * self.n_records),
                        round(self.journalist_records_at_risk * self.n_records),
                        None,
                    ],
                    dtype="Int64",
                ),
                "records_at_risk_share": [
                    self.prosecutor_records_at_risk,
                    self.journalist_records_at_risk,
                    np.nan,
                ],
                "highest_risk": [
                    self.prosecutor_highest_risk,
                    self.journalist_highest_risk,
                    np.nan,
                ],
                "success_rate": [
                    self.prosecutor_success_rate,
                    self.journalist_success_rate,
                    self.marketer_success_rate,
                ],
            }
        )

    def __repr__(self) -> str:
        pop = f", population={fmt.count(self.population_size)}" if self.population_size else ""
        return (
            f"AttackerRiskResult(threshold={self.threshold:g}, prosecutor: at risk "
            f"{fmt.pct(self.prosecutor_records_at_risk)}, highest {self.prosecutor_highest_risk:.4g}, "
            f"success {self.prosecutor_success_rate:.4g}; journalist: at risk "
            f"{fmt.pct(self.journalist_records_at_risk)}, highest {self.journalist_highest_risk:.4g}, "
            f"success {self.journalist_success_rate:.4g}; marketer: success "
            f"{self.marketer_success_rate:.4g}; n_records={fmt.count(self.n_records)}{pop})"
        )


def attacker_risk(
    data: TableLike,
    quasi_identifiers: Fields,
    *,
    population: TableLike | None = None,
    threshold: float = 0.2,
    missing: MissingPolicy = "category",
    sep: str | None = None,
) -> AttackerRiskResult:
    r"""Prosecutor, journalist and marketer risk of an extract.

    Let the extract have classes *j* of sizes :math:`f_j` (*n* records, *C* classes) and let
    :math:`F_j` be the number of records of the population with the same key.

    .. math::

        \text{prosecutor: } r_i = 1/f_{j(i)}, \quad
        \text{journalist: } r_i = 1/F_{j(i)}, \quad
        \text{marketer: } \frac{1}{n}\sum_j \frac{f_j}{F_j}

    For the prosecutor and the journalist three figures are reported [1]_ [2]_: the share of
    records whose risk exceeds ``threshold``, the highest risk (:math:`1/\min f_j`,
    :math:`1/\min F_j`), and the success rate: :math:`C/n` for the prosecutor and
    :math:`\max(C / \sum_j F_j,\ \frac{1}{n}\sum_j f_j/F_j)` for the journalist, as ARX computes
    them.

    In words: a *prosecutor* knows the pupil is in the extract; a *journalist* only knows the
    pupil is in the population (e.g. all pupils in England) the extract was drawn from, so each
    match hides among the population's look-alikes; a *marketer* tries to re-identify everyone
    and cares about the share of correct matches.

    Parameters
    ----------
    data : table-like
        The extract.
    quasi_identifiers : sequence of str
    population : pandas.DataFrame, pyarrow.Table, str or path-like, optional
        A larger table holding the same quasi-identifier columns, of which the extract is a
        subset (for instance the full synthetic cohort). Without it the extract is its own
        population.
    threshold : float in (0, 1], default 0.2
        Highest acceptable risk of a single record (0.2: classes of fewer than 5).
    missing : {"category", "raise"}, default "category"
    sep : str, optional
        CSV delimiter for file inputs.

    Returns
    -------
    AttackerRiskResult

    Raises
    ------
    InvalidParameterError
        When the population is smaller than the extract, or lacks records the extract has.

    References
    ----------
    .. [1] El Emam, K. (2013). *Guide to the De-Identification of Personal Health Information*.
       CRC Press, chapter "Measuring the probability of re-identification".
       https://doi.org/10.1201/b14764
    .. [2] Prasser, F. and Kohlmayer, F. (2015). Putting statistical disclosure control into
       practice: the ARX data anonymization tool. In *Medical Data Privacy Handbook*, 111-148.
       https://doi.org/10.1007/978-3-319-23633-9_6

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> extract = pd.DataFrame({"sex": ["F", "M"], "year": [7, 7]})
    >>> population = pd.DataFrame({"sex": ["F", "F", "M", "M", "M"], "year": [7] * 5})
    >>> res = rc.attacker_risk(extract, ["sex", "year"], population=population)
    >>> res.prosecutor_success_rate, res.journalist_highest_risk, round(res.marketer_success_rate, 4)
    (1.0, 0.5, 0.4167)
    """
    func = "attacker_risk"
    threshold = check_share(threshold, "threshold", func)
    missing = check_missing_policy(missing, func)
    backend = backend_for(data, func=func, sep=sep)
    names = backend.names(quasi_identifiers, func=func)
    pairs = backend.size_pairs(names, population, missing=missing, func=func)
    # c classes have f records in the extract and F in the population (in memory c = 1 per class)
    f, F, c = pairs.sample, pairs.population, pairs.counts
    records = f * c
    n = int(records.sum())
    n_classes = int(c.sum())
    absent = F == 0
    if absent.any():
        raise InvalidParameterError(
            f"The 'population' parameter of {func}: {int(records[absent].sum()):,} record(s) of the extract have "
            "quasi-identifier values that do not occur in the population table. Is it the "
            "population the extract was drawn from (same columns, same coding)?"
        )
    prosecutor = (_share_above(f, records, threshold, n), float(1.0 / f.min()), n_classes / n)
    ratio = float(np.sum(f / F * c))
    journalist = (
        _share_above(F, records, threshold, n),
        float(1.0 / F.min()),
        float(max(n_classes / float(np.sum(F * c)), ratio / n)),
    )
    return AttackerRiskResult(
        names,
        missing,
        threshold,
        n,
        n_classes,
        pairs.n_population,
        *prosecutor,
        *journalist,
        ratio / n,
    )


def _share_above(sizes: np.ndarray, class_records: np.ndarray, threshold: float, n: int) -> float:
    """Share of records in classes whose risk ``1 / size`` exceeds ``threshold``."""
    return float(class_records[1.0 / sizes > threshold].sum()) / n
