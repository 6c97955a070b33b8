"""Attacker models: prosecutor, journalist and marketer re-identification risk (El Emam; ARX)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from . import _format as fmt
from ._core.io import read_table
from ._core.access import prepare
from ._core.spark import is_spark_frame
from ._core.encoding import EncodedTable, encode
from ._render import Displayed
from ._validation import check_column_names, check_missing_policy, check_share
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
                "records_at_risk": pd.array([round(self.prosecutor_records_at_risk * self.n_records),
                                             round(self.journalist_records_at_risk * self.n_records), None],
                                            dtype="Int64"),
                "records_at_risk_share": [self.prosecutor_records_at_risk, self.journalist_records_at_risk, np.nan],
                "highest_risk": [self.prosecutor_highest_risk, self.journalist_highest_risk, np.nan],
                "success_rate": [
                    self.prosecutor_success_rate, self.journalist_success_rate, self.marketer_success_rate,
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
    data, quasi_identifiers, *, population=None, threshold=0.2, missing="category", sep=None
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
    if is_spark_frame(data):  # computed on the cluster: riskcalc._spark
        from . import _spark

        return _spark.attacker_risk(data, quasi_identifiers, population=population, threshold=threshold,
                                     missing=missing)
    threshold = check_share(threshold, "threshold", func)
    missing = check_missing_policy(missing, func)
    enc, part, _ = prepare(data, quasi_identifiers, func=func, missing=missing, sep=sep)
    names = part.columns
    f = part.class_sizes.astype(np.float64)
    n = part.n_records
    prosecutor = (_share_above(f, f, threshold, n), float(1.0 / f.min()), part.n_classes / n)
    if population is None:
        F, n_population = f, None
    else:
        F, n_population = _population_sizes(enc, part, population, names, missing, sep, func)
    journalist = (
        _share_above(F, f, threshold, n),
        float(1.0 / F.min()),
        float(max(part.n_classes / F.sum(), np.sum(f / F) / n)),
    )
    marketer = float(np.sum(f / F)) / n
    return AttackerRiskResult(
        names, missing, threshold, n, part.n_classes, n_population, *prosecutor, *journalist, marketer
    )


def _share_above(sizes: np.ndarray, class_records: np.ndarray, threshold: float, n: int) -> float:
    """Share of records in classes whose risk ``1 / size`` exceeds ``threshold``."""
    return float(class_records[1.0 / sizes > threshold].sum()) / n


def _population_sizes(enc: EncodedTable, part, population, names, missing, sep, func):
    """Size in the population of each of the extract's classes, in the partition's class order."""
    sample = _as_arrow(enc, names, part, func)
    pop_table = _population_arrow(population, names, sep, func)
    if pop_table.num_rows < part.n_records:
        raise InvalidParameterError(
            f"The 'population' parameter of {func} has {pop_table.num_rows:,} records, fewer than "
            f"the extract's {part.n_records:,}: a population must contain the extract."
        )
    combined = _concat(sample, pop_table, names)
    joint = encode(combined, list(names))
    jpart = joint.partition(tuple(names), missing)
    ids = jpart.class_id
    n = part.n_records
    in_population = np.bincount(ids[n:], minlength=jpart.n_classes)
    # Map each extract class to its joint class through any of its records.
    joint_of_class = np.empty(part.n_classes, dtype=np.int64)
    joint_of_class[part.class_id] = ids[:n]
    F = in_population[joint_of_class].astype(np.float64)
    absent = F == 0
    if absent.any():
        lost = int(part.class_sizes[absent].sum())
        raise InvalidParameterError(
            f"The 'population' parameter of {func}: {lost:,} record(s) of the extract have "
            "quasi-identifier values that do not occur in the population table. Is it the "
            "population the extract was drawn from (same columns, same coding)?"
        )
    return F, int(pop_table.num_rows)


def _as_arrow(enc: EncodedTable, names, part, func) -> pa.Table:
    """The extract's quasi-identifier values as Arrow (decoded from its codes)."""
    arrays = {}
    for name in names:
        col = enc[name]
        cats = col.categories
        if cats is None:
            raise InvalidParameterError(f"Column {name!r} of the extract has no values to compare.")
        if isinstance(cats, pa.ChunkedArray):
            cats = cats.combine_chunks()
        dictionary = cats if isinstance(cats, pa.Array) else pa.array(cats, from_pandas=True)
        codes = col.codes.astype(np.int32)
        mask = codes == col.missing_code if col.n_missing else None
        indices = pa.array(np.where(mask, 0, codes) if mask is not None else codes, mask=mask, type=pa.int32())
        arrays[name] = pa.DictionaryArray.from_arrays(indices, dictionary).cast(dictionary.type)
    return pa.table(arrays)


def _population_arrow(population, names, sep, func) -> pa.Table:
    if isinstance(population, pd.DataFrame):
        check_column_names(list(names), [str(c) for c in population.columns], name="population", func=func)
        return pa.Table.from_pandas(population[list(names)], preserve_index=False)
    if isinstance(population, pa.Table):
        check_column_names(list(names), population.column_names, name="population", func=func)
        return population.select(list(names))
    if isinstance(population, (str, os.PathLike)):
        return read_table(population, list(names), sep=sep)
    raise InvalidParameterError(
        f"The 'population' parameter of {func} must be a pandas DataFrame, a pyarrow Table or a "
        f"path to a data file. Got {type(population).__name__} instead."
    )


def _concat(sample: pa.Table, population: pa.Table, names) -> pa.Table:
    """Stack extract and population; columns whose types differ are compared as text."""
    columns = {}
    for name in names:
        a, b = sample.column(name), population.column(name)
        if pa.types.is_dictionary(a.type):
            a = a.cast(a.type.value_type)
        if pa.types.is_dictionary(b.type):
            b = b.cast(b.type.value_type)
        if a.type != b.type:
            try:
                b = b.cast(a.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                a, b = a.cast(pa.string()), b.cast(pa.string())
        columns[name] = pa.chunked_array(a.chunks + b.chunks, type=a.type)
    return pa.table(columns)
