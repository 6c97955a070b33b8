"""Unique Pupil Number (UPN) check letters.

A UPN is 13 characters: a check letter, a 3-digit LA number, a 4-digit establishment number, the
last two digits of the academic year of issue and 3 serial characters (3 digits, or 2 digits and
a letter for a temporary UPN). The check letter is ``LETTERS[sum(value_i * i for i in 2..13) % 23]``
over positions 2-13, digits taking their face value and a final letter its table value
(npd-spec section 2.2, UK Government Data Standards Catalogue "Unique Pupil Number" v2.0).

Examples
--------
>>> upn_check_letter("801200005001")
'B'
>>> upn_check_letter("207000016049")
'P'
>>> is_valid_upn("B801200005001")
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["UPN_LETTERS", "upn_check_letter", "is_valid_upn", "upn_check_letters"]

#: Check-letter table: value -> letter (I, O and S are never used).
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_LETTER_VALUE = {c: i for i, c in enumerate(UPN_LETTERS)}
_WEIGHTS = np.arange(2, 14, dtype=np.int64)


def _value(ch: str, position: int) -> int:
    if ch.isdigit():
        return int(ch)
    if position == 13 and ch in _LETTER_VALUE:
        return _LETTER_VALUE[ch]
    raise ValueError(f"invalid UPN character {ch!r} at position {position}")


def upn_check_letter(body: str) -> str:
    """Return the check letter for the 12-character UPN body (positions 2-13).

    Parameters
    ----------
    body : str
        11 digits followed by a digit (permanent UPN) or a table letter (temporary UPN).

    Raises
    ------
    ValueError
        If ``body`` is not 12 characters of the allowed form.

    Examples
    --------
    >>> import synthetic
    >>> synthetic.upn_check_letter("801200005001")  # the DfE specification's example
    'B'
    """
    if not isinstance(body, str) or len(body) != 12:
        raise ValueError(f"UPN body must be a 12-character string. Got {body!r} instead.")
    total = sum(_value(ch, pos) * pos for pos, ch in enumerate(body, start=2))
    return UPN_LETTERS[total % 23]


def is_valid_upn(upn: str) -> bool:
    """Return True if ``upn`` is 13 characters with a correct check letter.

    Examples
    --------
    >>> import synthetic
    >>> synthetic.is_valid_upn("B801200005001"), synthetic.is_valid_upn("A801200005001")
    (True, False)
    """
    if not isinstance(upn, str) or len(upn) != 13:
        return False
    try:
        return upn_check_letter(upn[1:]) == upn[0]
    except ValueError:
        return False


def upn_check_letters(digits: np.ndarray) -> np.ndarray:
    """Vectorised check letters for permanent UPN bodies.

    Parameters
    ----------
    digits : ndarray of shape (n, 12)
        Integer digits of positions 2-13.

    Returns
    -------
    ndarray of shape (n,), dtype uint8
        ASCII codes of the check letters.
    """
    digits = np.asarray(digits)
    total = np.zeros(len(digits), dtype=np.int64)
    for j in range(
        digits.shape[1] if digits.ndim == 2 else 0
    ):  # 12 column passes, no (n, 12) temporary
        total += digits[:, j].astype(np.int64) * _WEIGHTS[j]
    table = np.frombuffer(UPN_LETTERS.encode("ascii"), dtype=np.uint8)
    return table[total % 23]
