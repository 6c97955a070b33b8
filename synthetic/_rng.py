"""Random streams (SPEC 7): one ``rng=`` argument, one child stream per field, no global state.

The root entropy is an int. Each field draws from its own generator seeded by
``SeedSequence(entropy=(root, stable_hash(field_name), chunk_key))``, so adding or removing a
field leaves every other field's draws unchanged, and each LA chunk is independent of the
others.
"""

from __future__ import annotations

import hashlib
import numbers

import numpy as np

from .exceptions import SyntheticError

__all__ = ["root_entropy", "stream", "stable_hash"]


def stable_hash(name: str) -> int:
    """Return a 64-bit hash of ``name`` that does not change between processes or versions."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")


def root_entropy(rng: int | np.random.Generator | None, *, func: str) -> int:
    """Normalise the ``rng`` argument to a non-negative int root entropy.

    Parameters
    ----------
    rng : int, numpy.random.Generator or None
        An int seed is used as is. A Generator gives one draw (so the caller's stream advances
        and the draw is recorded as the seed). None draws fresh OS entropy.
    func : str
        Name of the calling function, for error messages.
    """
    if rng is None:
        return int(np.random.SeedSequence().entropy) % (2**63)
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, 2**63 - 1, dtype=np.int64))
    if isinstance(rng, bool) or not isinstance(rng, numbers.Integral):
        raise SyntheticError(
            f"The 'rng' parameter of {func} must be an int seed >= 0, a numpy.random.Generator "
            f"or None. Got {rng!r} instead."
        )
    if int(rng) < 0:
        raise SyntheticError(
            f"The 'rng' parameter of {func} must be an int seed >= 0. Got {int(rng)} instead."
        )
    return int(rng)


def stream(root: int, field: str, chunk: int = 0) -> np.random.Generator:
    """Return the child generator of ``field`` for ``chunk`` (e.g. an LA code)."""
    seq = np.random.SeedSequence(entropy=(root, stable_hash(field), int(chunk)))
    return np.random.Generator(np.random.PCG64(seq))
