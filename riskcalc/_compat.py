"""What differs between the pandas versions riskcalc supports (1.5.3 to 3.x), in one place.

The oldest-versions CI lane (``.ci/oldest``) runs the tests at pandas 1.5.3, the version
Databricks Runtime 15.4 and 16.4 LTS ship (docs/runtimes.md).
"""

from __future__ import annotations

import pandas as pd

#: pandas' major version (1 on Databricks Runtime 15.4 and 16.4 LTS).
PANDAS_MAJOR = int(pd.__version__.split(".")[0])


def numeric_view(dtype):
    """The dtype to hand pandas' ``is_numeric_dtype``, ``is_integer_dtype``, ``is_float_dtype``.

    pandas 1.5 calls an Arrow number column (``int64[pyarrow]``, ``double[pyarrow]``) neither
    numeric, integer nor float; pandas 2 calls it all three as it does the numpy dtype. On
    pandas 1.5 an Arrow number dtype is given as its numpy dtype; any other dtype is itself.

    Examples
    --------
    >>> import numpy as np
    >>> import pyarrow as pa
    >>> pd.api.types.is_integer_dtype(numeric_view(pd.ArrowDtype(pa.int64())))
    True
    >>> numeric_view(np.dtype("float64"))
    dtype('float64')
    """
    if PANDAS_MAJOR < 2 and isinstance(dtype, pd.ArrowDtype) and dtype.kind in "iuf":
        return dtype.numpy_dtype
    return dtype
