"""The private engine: the backend interface, its backends, encoding, partitions, kernels.

Measures read tables through one interface, :class:`riskcalc._core.backend.Backend` (a
``typing.Protocol``): :func:`~riskcalc._core.backend.backend_for` gives the backend of a table,
and a measure asks it the questions it needs -- the class-size histogram, the lattice's
histograms, weighted sizes, the (sample, population) size pairs, the class x value figures of
the attribute measures, per-record class sizes where the data are, and, for the measures that
need them, the records themselves (:meth:`~riskcalc._core.backend.Backend.encoded`). The
answers' dataclasses are in :mod:`~riskcalc._core.answers`. Backends:

* :mod:`~riskcalc._core.memory` -- :class:`~riskcalc.EncodedTable`, pandas, pyarrow, file
  paths: encoding (:mod:`~riskcalc._core.encoding`, reading in :mod:`~riskcalc._core.io`),
  partitions (:mod:`~riskcalc._core.partition`, :mod:`~riskcalc._core.grouping`), the
  histogram (:mod:`~riskcalc._core.histogram`), the class x value table
  (:mod:`~riskcalc._core.crosstab`), the lattice walk (:mod:`~riskcalc._core.lattice`), the
  wildcard rule (:mod:`~riskcalc._core.wildcard`), panels (:mod:`~riskcalc._core.panel`), the
  compiled kernels (:mod:`~riskcalc._core.kernels`);
* :mod:`~riskcalc._core.spark` -- ``pyspark.sql.DataFrame``: the same questions in Spark SQL,
  only small results reaching the driver; the records are refused in one line.

:mod:`~riskcalc._core.access` keeps the records' door for the measures that read them
(``prepare``, ``as_encoded``, ``record_frequencies``), through the backend. The engine imports
no measure and no release code, and its modules import each other without cycles
(``tests/test_layers.py`` enforces both).

This package module imports nothing: importing one part (the file suffixes of
:mod:`riskcalc._core.io`, the kernels) does not load pandas through the others. The public
names (``riskcalc.encode``, ``riskcalc.partition``, ``riskcalc.EncodedTable``,
``riskcalc.Partition``) are defined in :mod:`~riskcalc._core.encoding`,
:mod:`~riskcalc._core.access` and :mod:`~riskcalc._core.partition`.
"""
