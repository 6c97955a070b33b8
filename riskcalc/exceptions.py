"""Exceptions raised by riskcalc.

The tree::

    RiskCalcError                      base class of every riskcalc error
    ├── InvalidParameterError          (ValueError, TypeError) a parameter out of range or of the wrong type
    ├── MissingColumnError             (KeyError) a named column is not in the table
    ├── EmptyTableError                (ValueError) no records to measure
    ├── UnsupportedTypeError           (TypeError) a column whose values cannot be compared
    ├── MissingValueError              (ValueError) missing values where the policy forbids them
    ├── DataFileError                  (OSError) a file that cannot be read or written
    └── InsufficientMemoryError        (MemoryError) a job that needs more memory than is available

Every message names the function or file, the column or parameter, and the bad value, so that a
command-line user sees one line that says what to change.
"""

from __future__ import annotations

__all__ = [
    "RiskCalcError",
    "InvalidParameterError",
    "MissingColumnError",
    "EmptyTableError",
    "UnsupportedTypeError",
    "MissingValueError",
    "DataFileError",
    "InsufficientMemoryError",
]


class RiskCalcError(Exception):
    """Base class of every error raised by riskcalc.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> try:
    ...     rc.k_anonymity(pd.DataFrame({"sex": ["F"]}), ["sexx"])
    ... except rc.RiskCalcError as error:  # every riskcalc error
    ...     print(error)
    No column named 'sexx' in the table. Did you mean 'sex'? Columns are: 'sex'.
    """


class InvalidParameterError(RiskCalcError, ValueError, TypeError):
    """A parameter has the wrong type or a value outside its allowed range.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> try:
    ...     rc.k_anonymity(pd.DataFrame({"sex": ["F"]}), ["sex"], thresholds=[0])
    ... except rc.InvalidParameterError as error:
    ...     print(error)
    The 'thresholds' parameter of k_anonymity must hold ints in the range [1, 2**53]. Got 0 instead.
    """


class MissingColumnError(RiskCalcError, KeyError):
    """A column named by the caller is not in the table.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> try:
    ...     rc.uniqueness(pd.DataFrame({"postcode": ["NW1 3BR"]}), ["postcod"])
    ... except rc.MissingColumnError as error:
    ...     print(error)
    No column named 'postcod' in the table. Did you mean 'postcode'? Columns are: 'postcode'.
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class EmptyTableError(RiskCalcError, ValueError):
    """The table has no records (or none left after excluding missing values).

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> try:
    ...     rc.uniqueness(pd.DataFrame({"sex": []}), ["sex"])
    ... except rc.EmptyTableError as error:
    ...     print(error)
    The table DataFrame has no records; nothing to measure.
    """


class UnsupportedTypeError(RiskCalcError, TypeError):
    """A column holds values riskcalc cannot encode (e.g. lists or dictionaries).

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> try:
    ...     rc.uniqueness(pd.DataFrame({"tags": [["a"], ["b"]]}), ["tags"])
    ... except rc.UnsupportedTypeError as error:
    ...     print(error)
    Column 'tags' holds values that cannot be compared for equality (dtype object): unhashable type: 'list'.
    """


class MissingValueError(RiskCalcError, ValueError):
    """A column holds missing values but the chosen policy forbids them.

    Examples
    --------
    >>> import pandas as pd, riskcalc as rc
    >>> try:
    ...     rc.uniqueness(pd.DataFrame({"sex": ["F", None]}), ["sex"], missing="raise")
    ... except rc.MissingValueError as error:
    ...     print(error)
    Column 'sex' has 1 missing value(s) (first at record 1, label 1) and missing='raise'. Use missing='category' to treat a missing value as a value of its own.
    """


class DataFileError(RiskCalcError, OSError):
    """A data file cannot be found, read or written.

    Examples
    --------
    >>> import riskcalc as rc
    >>> try:
    ...     rc.uniqueness("no_such_file.csv", ["sex"])
    ... except rc.DataFileError as error:
    ...     print(error)
    No such file: 'no_such_file.csv'.
    """


class InsufficientMemoryError(RiskCalcError, MemoryError):
    """A job needs more memory than is available; the message says how much and what to do."""
