"""The private engine: encoding, partitions, grouping kernels, the histogram, missing values.

Measures read the engine through :mod:`riskcalc._core.access` (``prepare``, ``as_encoded``,
``record_frequencies``) and the objects it returns; the engine imports no measure and no
release code (``tests/test_layers.py`` enforces the direction).
"""

from .access import as_encoded, partition, prepare, record_frequencies, resolve_weights
from .encoding import EncodedColumn, EncodedTable, encode
from .partition import Partition

__all__ = [
    "EncodedColumn", "EncodedTable", "Partition", "encode", "partition", "as_encoded", "prepare",
    "record_frequencies", "resolve_weights",
]
