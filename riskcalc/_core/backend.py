"""The engine's interface: the questions a measure may ask of a table, wherever its records are.

Every measure is written once, against :class:`Backend`; each kind of table has a short module
answering the questions where the data are (as splink's ``DatabaseAPI`` lets its algorithms run
on DuckDB or Spark unchanged):

* :mod:`riskcalc._core.memory` -- :class:`~riskcalc.EncodedTable`, pandas, pyarrow, a file
  path: the records are encoded into integer codes and the kernels count them (numpy/numba);
* :mod:`riskcalc._core.spark` -- a ``pyspark.sql.DataFrame``: the counting is Spark SQL
  (``GROUP BY``, ``GROUPING SETS``, windows, joins) and only small results reach the driver.

:func:`backend_for` picks the backend of a table. A measure never tests what kind of table it
holds: it validates its own parameters once, asks the backend its questions, and assembles its
result from the answers (one place, whatever the backend).

What a measure may ask
----------------------
Identity: ``kind`` (``"memory"``, ``"spark"``...), ``label`` (how messages name the table),
``columns`` (all column names), ``holds_records`` (whether :meth:`Backend.encoded` can answer),
and :meth:`Backend.names` (requested column names, validated with the project's one-line
errors; a backend may reserve names, as Spark reserves ``__rc_*``).

Counts (every backend answers; the answers are small numpy objects whatever the table's size):

* :meth:`Backend.size_histogram` -- the class-size histogram (:class:`SizeHistogram`) of a set
  of columns under a missing-value policy (``"category"`` or ``"raise"``);
* :meth:`Backend.lattice_histograms` -- the histograms of every subset of some columns up to a
  size (the field lattice), as ``(subset, histogram)`` pairs;
* :meth:`Backend.missing_counts` -- the missing values of each column;
* :meth:`Backend.weighted_below` -- with sampling weights: the histogram, and the records whose
  class's sum of weights is below each threshold (the weights are validated here, once);
* :meth:`Backend.summed_histogram` -- the histogram of the cells of an aggregate table, each
  cell's size being the sum of a count column over its rows (validated here);
* :meth:`Backend.size_pairs` -- the classes of the table joined to those of a population table
  of the same kind: ``(sample size, population size) -> number of classes``;
* :meth:`Backend.attribute_figures` / :meth:`Backend.closeness_figures` -- the class x value
  table of a sensitive field, answered as the figures the attribute measures report
  (:class:`AttributeFigures`, :class:`ClosenessFigures`). Their per-class and per-record arrays
  are present when the records are in memory and ``None`` when they stay remote;
* :meth:`Backend.trajectory_histograms` -- a panel (one row per pupil per census) pivoted to one
  trajectory per pupil, and the histogram of each number of censuses linked;
* :meth:`Backend.record_sizes` -- per-record class sizes *where the data are*
  (:class:`RecordSizes`: arrays in input row order in memory; on Spark a column added to the
  user's DataFrame, in ``frame``);
* :meth:`Backend.column_values` -- each column's distinct values and their counts (the profile);
  :meth:`Backend.replace_values` -- the table with some values rewritten where the data are
  (normalising a remote table).

The answers that are more than a histogram are the dataclasses of :mod:`riskcalc._core.answers`
(re-exported here).

Records: :meth:`Backend.encoded` returns the records as an :class:`EncodedTable` (SUDA, the
population models, the wildcard rule, per-record risks need them). A backend whose records are
not on this machine refuses through :meth:`Backend.refuse`: one line saying what cannot run,
where, and what to do instead (``ALTERNATIVE``); nothing is ever collected silently.

Errors: every backend raises the project's errors for the same causes -- a missing column
(:class:`~riskcalc.exceptions.MissingColumnError`), a missing value under ``missing="raise"``
(:class:`~riskcalc.exceptions.MissingValueError`, naming the first column holding one), an empty
table (:class:`~riskcalc.exceptions.EmptyTableError`), bad weights or counts
(:class:`~riskcalc.exceptions.InvalidParameterError`).

Adding a backend
----------------
Write a module with a class satisfying :class:`Backend`, and register it with
:func:`register_backend` (a test accepting the table, and a factory). A backend that can answer
only some questions by itself (a lazy frame that pushes counts down) may answer the others by
reading the asked-for columns into the in-memory backend (:class:`riskcalc._core.memory.
MemoryBackend`), or refuse with its one-line message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

import numpy as np

from .answers import (
    AttributeFigures,
    ClosenessFigures,
    ColumnValues,
    RecordSizes,
    SizePairs,
    TrajectoryHistograms,
)

if TYPE_CHECKING:  # pragma: no cover
    from .encoding import EncodedTable
    from .histogram import SizeHistogram

__all__ = [
    "Backend",
    "AttributeFigures",
    "ClosenessFigures",
    "ColumnValues",
    "RecordSizes",
    "SizePairs",
    "TrajectoryHistograms",
    "backend_for",
    "register_backend",
]


# --------------------------------------------------------------------------------------------
# The interface
# --------------------------------------------------------------------------------------------


@runtime_checkable
class Backend(Protocol):
    """What a measure may ask of a table (see the module docstring).

    Column arguments are tuples of names already returned by :meth:`names`; ``missing`` is a
    policy already validated by the measure (``"category"`` or ``"raise"``; ``"wildcard"`` only
    where stated); ``func`` is the public function asking, for messages.
    """

    #: Marks a backend class (what :func:`backend_for` passes through unchanged).
    is_backend: ClassVar[bool] = True
    kind: str
    label: str

    @property
    def columns(self) -> tuple[str, ...]: ...

    @property
    def holds_records(self) -> bool:
        """Whether :meth:`encoded` answers (the records are, or can be brought, here)."""
        ...

    def names(self, requested, *, func: str, name: str = "quasi_identifiers") -> tuple[str, ...]:
        """``requested`` (a name or a sequence of names) as a tuple, each checked to be a column
        of the table (:class:`~riskcalc.exceptions.MissingColumnError` naming the parameter)."""
        ...

    def missing_counts(self, columns: Sequence[str]) -> np.ndarray:
        """Number of missing values of each column (int64; NaN counts as missing)."""
        ...

    def size_histogram(self, columns: Sequence[str], *, missing: str, func: str) -> SizeHistogram:
        """Class-size histogram on ``columns``; raises ``MissingValueError`` (``"raise"``) and
        ``EmptyTableError`` (no records)."""
        ...

    def lattice_histograms(
        self, columns: Sequence[str], max_size: int, *, missing: str, func: str
    ) -> Iterator[tuple[tuple[int, ...], SizeHistogram]]:
        """``(subset, histogram)`` for every subset of ``columns`` (sorted tuples of positions)
        of 1 to ``max_size`` columns, in any order, one pair per subset."""
        ...

    def weighted_below(
        self,
        columns: Sequence[str],
        weights,
        thresholds: Sequence[float],
        *,
        missing: str,
        func: str,
    ) -> tuple[SizeHistogram, np.ndarray]:
        """The histogram, and for each threshold ``t`` the records whose class's sum of
        ``weights`` (a column name, or one number per record where the records are here) is
        below ``t`` (int64). Weights are validated here: finite, non-negative, none missing."""
        ...

    def summed_histogram(
        self, columns: Sequence[str], count, *, missing: str, func: str
    ) -> SizeHistogram:
        """Histogram of the cells of an aggregate table: a cell's size is the sum of ``count``
        (a column name, or one number per row where the records are here) over its rows.
        Counts are validated here: whole, non-negative, none missing."""
        ...

    def size_pairs(
        self, columns: Sequence[str], population=None, *, missing: str, func: str
    ) -> SizePairs:
        """The table's classes with their sizes in ``population`` (a table this backend can
        read; ``None``: the table is the population). Raises if ``population`` has fewer
        records than the table."""
        ...

    def attribute_figures(
        self,
        quasi_identifiers: Sequence[str],
        sensitive: Sequence[str],
        *,
        missing: str,
        func: str,
        minority: bool = False,
        entropy: bool = False,
        c: float | None = None,
    ) -> list[AttributeFigures]:
        """:class:`AttributeFigures` of each sensitive column over the classes of
        ``quasi_identifiers`` (``missing`` applies to both)."""
        ...

    def closeness_figures(
        self,
        quasi_identifiers: Sequence[str],
        sensitive: str,
        *,
        ordered: bool | None,
        missing: str,
        func: str,
    ) -> ClosenessFigures:
        """:class:`ClosenessFigures` (earth mover's distance, ordered or equal distance;
        ``ordered=None``: ordered for numbers, dates and times)."""
        ...

    def trajectory_histograms(
        self,
        point: str,
        *,
        static: Sequence[str],
        id: str,
        order: str,
        max_linked: int | None,
        func: str,
    ) -> TrajectoryHistograms:
        """Histograms of pupils' histories of ``point`` (a panel with ``id``,
        ``academic_year`` and optionally ``census``) as 1, 2, ... censuses are linked, from the
        first (``order="forward"``) or the last census."""
        ...

    def column_values(self, columns: Sequence[str], *, func: str) -> list[ColumnValues]:
        """:class:`ColumnValues` of each column (the profile's question): counts of the distinct
        values, and a text column's distinct values themselves (never the records)."""
        ...

    def replace_values(self, column: str, before, after, *, func: str):
        """The table (of the user's kind) with the values ``before`` of ``column`` rewritten to
        ``after`` (two Arrow arrays of equal length) where the data are: how :func:`riskcalc.
        normalise` rewrites a table whose records stay remote. The in-memory backend refuses
        (in memory, normalise builds a new table from the codes)."""
        ...

    def record_sizes(
        self, columns: Sequence[str], *, missing: str, func: str, weights=None, alpha: float = 1.0
    ) -> RecordSizes:
        """Per-record class sizes where the data are (``missing`` may be ``"wildcard"`` where
        the records are here; weights validated here)."""
        ...

    def encoded(
        self, columns: Sequence[str], *, func: str, weights=None, name: str = "quasi_identifiers"
    ) -> EncodedTable:
        """The records of ``columns`` as an :class:`EncodedTable` (``weights``: a column name to
        keep alongside). Refused (:meth:`refuse`) where the records are not here."""
        ...

    def refuse(self, what: str, func: str | None) -> Exception:
        """The one-line error saying that ``what`` (of ``func``) cannot run where the data are,
        and what to do instead; the caller raises it."""
        ...


# --------------------------------------------------------------------------------------------
# The dispatcher
# --------------------------------------------------------------------------------------------

#: ``(accepts, factory)`` pairs, tried in order; the first whose ``accepts(data)`` is true
#: builds the backend with ``factory(data, func=..., sep=...)``. Anything no entry accepts goes
#: to the in-memory backend (which reads EncodedTable, pandas, pyarrow and file paths, and says
#: in one line what it cannot read). A test must not import optional libraries: it looks the
#: library up in ``sys.modules`` (an object of a library never imported cannot exist).
_BACKENDS: list[tuple[Callable[[object], bool], Callable[..., Backend]]] = []


def register_backend(
    accepts: Callable[[object], bool], factory: Callable[..., Backend], *, first: bool = False
) -> None:
    """Add a kind of table: ``accepts(data)`` says whether ``factory(data, func=, sep=)`` builds
    its backend. ``first=True`` puts it before the kinds already known."""
    entry = (accepts, factory)
    if first:
        _BACKENDS.insert(0, entry)
    else:
        _BACKENDS.append(entry)


def _is_spark(data) -> bool:
    from .spark import is_spark_frame  # never imports pyspark

    return is_spark_frame(data)


def _spark(data, *, func: str, sep=None) -> Backend:
    from .spark import SparkBackend

    return SparkBackend(data)


register_backend(_is_spark, _spark)


def _is_frame(data) -> bool:
    from .frames import is_native  # never imports polars, duckdb or pyarrow.dataset

    return is_native(data)


def _frame(data, *, func: str, sep=None) -> Backend:
    from .lazy import backend  # LazyBackend (counts pushed down) or FrameBackend (through Arrow)

    return backend(data, func=func, sep=sep)


register_backend(_is_frame, _frame)


def _is_no_table(data) -> bool:
    from .frames import is_readable

    return not is_readable(data)


def _no_table(data, *, func: str, sep=None) -> Backend:
    from .frames import refuse  # one line naming the parameter, the function and every kind

    raise refuse(data, func=func)


register_backend(_is_no_table, _no_table)


def backend_for(data, *, func: str, sep=None) -> Backend:
    """The backend answering for ``data`` (a backend passes through unchanged).

    Parameters
    ----------
    data : EncodedTable, pandas.DataFrame, pyarrow.Table, path, pyspark DataFrame or Backend
    func : str
        The public function asking (for messages).
    sep : str, optional
        Field separator of a text file.
    """
    if getattr(type(data), "is_backend", False) is True:  # already a backend
        return data
    for accepts, factory in _BACKENDS:
        if accepts(data):
            return factory(data, func=func, sep=sep)
    from .memory import MemoryBackend

    return MemoryBackend(data, sep=sep)
