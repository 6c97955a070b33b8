"""Provenance recorded with every table: version, parameters and a fingerprint of the input.

No wall-clock time is recorded, so the same input and parameters give byte-identical files.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ._version import __version__


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def describe_input(data, encoded) -> dict:
    """A JSON-able description of the input: its source, size and, for files, a hash."""
    info: dict = {"source": encoded.source, "n_records": encoded.n_records}
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        info["source"] = path.name
        info["bytes"] = path.stat().st_size
        info["sha256"] = file_sha256(path)
    info["columns"] = {c: encoded[c].dtype for c in encoded.columns}
    return info


def provenance(function: str, parameters: dict, data=None, encoded=None) -> dict:
    """The provenance block: ``riskcalc_version``, ``function``, ``parameters``, ``input``."""
    block = {"riskcalc_version": __version__, "function": function, "parameters": parameters}
    if encoded is not None:
        block["input"] = describe_input(data, encoded)
    return block
