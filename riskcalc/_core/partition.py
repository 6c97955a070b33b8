"""Partitions: the equivalence classes of a table on a set of encoded columns.

:func:`build_partition` combines the codes of the chosen columns by mixed radix into one
``int64`` key (compressing to dense ids whenever the key space would overflow; see
:mod:`riskcalc._core.grouping`). A :class:`Partition` holds the key and computes, lazily, the
class sizes, the ``fk`` per record, a class labelling and the class-size histogram; all sample
measures read only the sizes or their histogram, as ARX's ``RiskModelHistogram`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .._render import Displayed
from ..exceptions import MissingValueError
from .grouping import combine_codes, densify_fast
from .histogram import SizeHistogram

__all__ = ["Partition", "build_partition", "check_no_missing"]


@dataclass(frozen=True, eq=False)
class Partition(Displayed):
    """The equivalence classes of a table on a set of columns.

    Built by :func:`partition` from the records' combined keys. Class numbers are labels:
    ``class_sizes[class_id]`` is each record's ``fk`` and the multiset of class sizes does not
    depend on row order, but the numbering itself may (column codes follow first appearance).
    Ids and sizes come from one grouping (:func:`riskcalc._core.kernels.group`), computed on
    first use and kept.

    Attributes
    ----------
    columns : tuple of str
        The quasi-identifiers.
    missing : str
        The missing-value policy used.
    key : numpy.ndarray of int64 or None
        Mixed-radix key of each record in ``[0, key_space)``; equal keys, equal class. Released
        (``None``) once the classes are numbered: a cached partition keeps 4 bytes a record
        (``class_id``), not 12.
    key_space : int
    n_records : int

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> df = pd.DataFrame({"sex": list("FFMMFF"), "year": [7, 7, 7, 8, 8, 8],
    ...                    "fsm": [True, True, False, False, True, False]})
    >>> part = rc.partition(df, ["sex", "year"])
    >>> part
    Partition(columns=('sex', 'year'), missing='category', key_space=4, n_records=6)
    >>> part.class_sizes.tolist(), part.class_id.tolist()
    ([2, 2, 1, 1], [0, 0, 2, 3, 1, 1])
    """

    columns: tuple[str, ...]
    missing: str
    key: np.ndarray | None = field(repr=False)
    key_space: int
    n_records: int

    @property
    def n_classes(self) -> int:
        return int(self.class_sizes.shape[0])

    @cached_property
    def class_sizes(self) -> np.ndarray:
        """Number of records in each class (int64), in class-id order."""
        return self._dense[1]

    @cached_property
    def class_id(self) -> np.ndarray:
        """Class of each record, in input row order, in ``[0, n_classes)``.

        A labelling: increasing key when the key space is small, otherwise hash partition then
        first appearance (see :func:`riskcalc._core.kernels.group`); deterministic for a given
        table.
        """
        return self._dense[0]

    @cached_property
    def _dense(self) -> tuple[np.ndarray, np.ndarray]:
        # One grouping gives ids and sizes together (compiled on every core for large tables);
        # the keys are not needed after it.
        dense = densify_fast(self.key, self.key_space)
        object.__setattr__(self, "key", None)
        return dense

    @property
    def fk(self) -> np.ndarray:
        """Size of each record's class, in input row order (computed on each call, not kept)."""
        return self.class_sizes[self.class_id]

    @cached_property
    def size_histogram(self) -> SizeHistogram:
        """The class-size histogram as a :class:`~riskcalc.SizeHistogram` (what every sample
        measure reads)."""
        return SizeHistogram.from_class_sizes(self.class_sizes)

    def weighted_sizes(self, weights: np.ndarray) -> np.ndarray:
        """Sum of ``weights`` in each class (``Fk`` per class)."""
        return np.bincount(self.class_id, weights=weights, minlength=self.n_classes)

    def labels(self) -> tuple[np.ndarray, int]:
        """``(label per record, number of labels)``: a class labelling (``class_id``)."""
        return self.class_id, self.n_classes

    def weighted_fk(self, weights: np.ndarray) -> np.ndarray:
        """Sum of ``weights`` in each record's class (``Fk`` per record, input order)."""
        return self.weighted_sizes(weights)[self.class_id]


def build_partition(enc, columns: tuple[str, ...], missing: str) -> Partition:
    cols = [enc[c] for c in columns]
    if missing == "raise":
        check_no_missing(enc, cols)
    key, space = combine_codes([c.codes for c in cols], [c.n_levels for c in cols])
    return Partition(tuple(columns), missing, key, space, int(key.shape[0]))


def check_no_missing(enc, cols) -> None:
    """Raise :class:`MissingValueError` for the first of ``cols`` holding a missing value."""
    for col in cols:
        if col.n_missing:
            first = int(np.flatnonzero(col.codes == col.missing_code)[0])
            raise MissingValueError(
                f"Column {col.name!r} has {col.n_missing} missing value(s) (first at record "
                f"{first}, label {enc.index[first]!r}) and missing='raise'. Use "
                "missing='category' to treat a missing value as a value of its own."
            )
