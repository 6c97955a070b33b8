"""Exceptions raised by :mod:`synthetic`.

Exception tree::

    ValueError
     └── SyntheticError          bad argument to a public function or to ``riskcalc synth``
          └── ExtractExistsError  an output file exists and ``force`` was not given

Every message names the parameter (or file), the constraint and the bad value, on one line, so the
CLI can print it as is.
"""

from __future__ import annotations

__all__ = ["SyntheticError", "ExtractExistsError"]


class SyntheticError(ValueError):
    """A bad argument to the synthetic cohort generator, its extracts or its CLI.

    Subclasses :class:`ValueError`, so callers that catch ``ValueError`` keep working.

    Examples
    --------
    >>> import synthetic
    >>> try:
    ...     synthetic.field("postcod")
    ... except synthetic.SyntheticError as error:
    ...     print(error)
    Unknown field 'postcod'. Did you mean 'postcode', 'postcode_area', 'postcode_sector'?
    """


class ExtractExistsError(SyntheticError, FileExistsError):
    """An output file already exists and overwriting was not requested (``force=False``).

    Examples
    --------
    >>> import tempfile, synthetic
    >>> cohort = synthetic.generate_cohort(200, rng=0)
    >>> path = tempfile.mkdtemp() + "/tier4.parquet"
    >>> _ = synthetic.write_extract(synthetic.tier_extract(cohort, 4), path, tier=4)
    >>> try:
    ...     synthetic.write_extract(synthetic.tier_extract(cohort, 4), path, tier=4)
    ... except synthetic.ExtractExistsError:
    ...     print("refused: pass force=True to replace it")
    refused: pass force=True to replace it
    """
