"""The private engine: encoding, partitions, grouping kernels, the histogram, missing values.

Measures read the engine through :mod:`riskcalc._core.access` (``prepare``, ``as_encoded``,
``record_frequencies``) and the objects it returns; the engine imports no measure and no
release code (``tests/test_layers.py`` enforces the direction).

This package module imports nothing: importing one part (the file suffixes of
:mod:`riskcalc._core.io`, the kernels) does not load pandas through the others. The public
names (``riskcalc.encode``, ``riskcalc.partition``, ``riskcalc.EncodedTable``,
``riskcalc.Partition``) are defined in :mod:`~riskcalc._core.encoding`,
:mod:`~riskcalc._core.access` and :mod:`~riskcalc._core.partition`.
"""
