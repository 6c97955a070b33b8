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
    """Base class of every error raised by riskcalc."""


class InvalidParameterError(RiskCalcError, ValueError, TypeError):
    """A parameter has the wrong type or a value outside its allowed range."""


class MissingColumnError(RiskCalcError, KeyError):
    """A column named by the caller is not in the table."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class EmptyTableError(RiskCalcError, ValueError):
    """The table has no records (or none left after excluding missing values)."""


class UnsupportedTypeError(RiskCalcError, TypeError):
    """A column holds values riskcalc cannot encode (e.g. lists or dictionaries)."""


class MissingValueError(RiskCalcError, ValueError):
    """A column holds missing values but the chosen policy forbids them."""


class DataFileError(RiskCalcError, OSError):
    """A data file cannot be found, read or written."""


class InsufficientMemoryError(RiskCalcError, MemoryError):
    """A job needs more memory than is available; the message says how much and what to do."""
