"""The records' door of the engine: raw data or an encoded table in, a partition out.

Measures that need the records (SUDA, the population models, per-record risks) call
:func:`prepare` (validate, encode if needed, partition, resolve weights) and
:func:`record_frequencies` (``fk``/``Fk`` per record under the missing-value policy). Both ask
the table's backend (:func:`riskcalc._core.backend.backend_for`) for the records, so a table
whose records are not here (Spark) is refused in one line; measures that read only counts ask
the backend directly (:mod:`riskcalc._core.backend`).
"""

from __future__ import annotations

from .._typing import Fields, MissingPolicy, TableLike
from .._validation import check_missing_policy
from .backend import backend_for
from .encoding import EncodedTable
from .memory import record_frequencies, resolve_weights
from .partition import Partition

__all__ = ["partition", "as_encoded", "prepare", "record_frequencies", "resolve_weights"]


def partition(
    data: TableLike, columns: Fields, *, missing: MissingPolicy = "category", sep: str | None = None
) -> Partition:
    """Group the records of a table into equivalence classes on ``columns``.

    Parameters
    ----------
    data : table-like
    columns : sequence of str
        The quasi-identifiers.
    missing : {"category", "raise"}, default "category"
        ``"category"``: a missing value is a value of its own, equal to other missing values of
        the same column (as ARX, pyCANON and sdcMicro's ``ldiversity`` treat it).
        ``"raise"``: raise :class:`~riskcalc.exceptions.MissingValueError` if any of ``columns``
        holds a missing value.

    Returns
    -------
    Partition

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMF"), "year": [7, 7, 7, 8, 8]})
    >>> part = rc.partition(df, ["sex", "year"])
    >>> part.n_classes, part.fk.tolist()  # four classes; each record's class size
    (4, [2, 2, 1, 1, 1])
    """
    enc = as_encoded(data, columns, func="partition", sep=sep)
    missing = check_missing_policy(missing, "partition")
    return enc.partition(columns, missing)


def as_encoded(
    data, columns, *, func: str, weights=None, sep=None, name="quasi_identifiers"
) -> EncodedTable:
    """Return an :class:`EncodedTable` holding ``columns`` (encoding raw data on the fly): the
    records, asked of the table's backend (:meth:`~riskcalc._core.backend.Backend.encoded`),
    which refuses in one line where the records are not here (a Spark DataFrame)."""
    return backend_for(data, func=func, sep=sep).encoded(
        columns, func=func, weights=weights, name=name
    )


def prepare(
    data,
    quasi_identifiers,
    *,
    func: str,
    missing: str = "category",
    weights=None,
    sep=None,
    wildcard: bool = False,
):
    """Validate arguments and return ``(encoded_table, partition, weights_or_None)``.

    ``weights`` may be the name of a column (of the raw table, or one kept by :func:`encode`) or
    an array with one value per record. With ``wildcard=True`` the policy ``"wildcard"`` is
    accepted; the partition returned is then that of ``"category"`` (the distinct keys), and
    the caller reads per-record counts from :func:`record_frequencies`.
    """
    missing = check_missing_policy(missing, func, wildcard=wildcard)
    backend = backend_for(data, func=func, sep=sep)
    if missing == "wildcard" and not backend.holds_records:
        raise backend.refuse("The wildcard rule (missing='wildcard')", func)
    enc = backend.encoded(quasi_identifiers, func=func, weights=weights)
    names = (quasi_identifiers,) if isinstance(quasi_identifiers, str) else tuple(quasi_identifiers)
    part = enc.partition(names, "category" if missing == "wildcard" else missing)
    return enc, part, resolve_weights(enc, weights, func)
