"""Provenance: the one home of what every output records about where its figures came from.

Every table, report and sidecar carries the block :func:`provenance` builds: the riskcalc
version and the commit of the code (:func:`code_commit`), the function and its parameters, the command line when run from the CLI, and the
source of the data: a *synthetic* cohort (seed, size, generator version) or the user's files
(name, size in bytes, SHA-256, records). No wall-clock time is recorded, so the same input and
parameters give byte-identical files.
"""

from __future__ import annotations

import contextvars
import hashlib
import os
import shlex
from pathlib import Path

from ._version import __version__

__all__ = [
    "provenance",
    "code_commit",
    "code_identity",
    "describe_file",
    "describe_input",
    "describe_cohort",
    "file_sha256",
    "command_line",
    "set_command",
    "reset_command",
    "describe_spark",
]

_COMMAND: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "riskcalc_command", default=None
)


#: What :func:`code_commit` says when the code's commit cannot be known.
UNKNOWN_COMMIT = "unknown"
_CODE_COMMIT: list[str] = []


def code_commit() -> str:
    """The git commit of the code running, as the provenance records it.

    A built package (wheel or sdist) carries the commit it was built from in
    ``riskcalc/_commit.py`` (written by ``setup.py``), preferred when present; code run from a
    checkout reads its ``.git`` files (:mod:`riskcalc._gitcommit`, no ``git`` process), with
    ``"-modified"`` appended when the code under ``riskcalc/`` or ``synthetic/`` differs from
    the commit's index (content compared, so the same files say the same); else
    :data:`UNKNOWN_COMMIT`. Read once per process.
    """
    if not _CODE_COMMIT:
        _CODE_COMMIT.append(_find_commit())
    return _CODE_COMMIT[0]


def _find_commit(root: Path | None = None) -> str:
    """The built package's commit, else the checkout's at ``root`` (default: the folder
    holding the package), else :data:`UNKNOWN_COMMIT`."""
    if root is None:
        try:
            from ._commit import COMMIT  # type: ignore[import-not-found, unused-ignore]  # built packages only

            return str(COMMIT)
        except ImportError:
            pass
    from . import _gitcommit

    root = Path(__file__).resolve().parent.parent if root is None else Path(root)
    try:
        commit = _gitcommit.checkout_commit(root)
        if commit is None:
            return UNKNOWN_COMMIT
        return commit + ("-modified" if _gitcommit.modified(root) else "")
    except (OSError, ValueError):
        return UNKNOWN_COMMIT


def code_identity(prov: dict | None = None) -> str:
    """The code's identity as people read it: ``"0.4.0 (commit 5a5b4faaa589)"`` (the first 12
    hex digits; ``"commit unknown"``, ``", modified"``), of a provenance block (its
    ``riskcalc_version`` and ``riskcalc_commit``), or of the code running.

    Examples
    --------
    >>> code_identity({"riskcalc_version": "0.4.0", "riskcalc_commit": "5a5b4faaa589caa8da74912a047dc07765630619"})
    '0.4.0 (commit 5a5b4faaa589)'
    >>> code_identity({"riskcalc_version": "0.4.0", "riskcalc_commit": "unknown"})
    '0.4.0 (commit unknown)'
    """
    from ._render import identity_text

    if prov is None:
        prov = {"riskcalc_version": __version__, "riskcalc_commit": code_commit()}
    return identity_text(prov)


def set_command(argv) -> contextvars.Token:
    """Record the command line (``riskcalc`` and its arguments) for the outputs of this run.

    The output location is recorded as ``OUT``: where the files were written is not part of
    what they say, and the same command into two folders gives byte-identical files.
    """
    args, hide = [], False
    for a in map(str, argv):
        if hide:
            args.append("OUT")
            hide = False
        elif a == "--out":
            args.append(a)
            hide = True
        elif a.startswith("--out="):
            args.append("--out=OUT")
        else:
            args.append(a)
    return _COMMAND.set(shlex.join(["riskcalc", *args]))


def reset_command(token: contextvars.Token) -> None:
    """Forget the command line recorded by :func:`set_command` (at the end of a CLI run)."""
    _COMMAND.reset(token)


def command_line() -> str | None:
    """The command line recorded by :func:`set_command`, if any."""
    return _COMMAND.get()


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def describe_file(path: str | os.PathLike, n_records: int | None = None) -> dict:
    """``{"source": name, "bytes", "sha256"[, "n_records"]}`` of one input file (or, for a
    directory of Parquet parts, of its files in name order)."""
    path = Path(path)
    info: dict = {"source": path.name}
    if path.is_dir():
        parts = sorted(p for p in path.rglob("*") if p.is_file())
        digest = hashlib.sha256()
        for p in parts:
            digest.update(
                p.relative_to(path).as_posix().encode("utf-8")
                + b"\0"
                + file_sha256(p).encode("ascii")
            )
        info["bytes"] = sum(p.stat().st_size for p in parts)
        info["sha256"] = digest.hexdigest()
        info["files"] = len(parts)
    else:
        info["bytes"] = path.stat().st_size
        info["sha256"] = file_sha256(path)
    if n_records is not None:
        info["n_records"] = int(n_records)
    return info


def describe_input(data, encoded) -> dict:
    """A JSON-able description of an encoded input: its source, size and, for files, a hash."""
    if isinstance(data, (str, os.PathLike)):
        info = describe_file(data, encoded.n_records)
    else:
        info = {"source": encoded.source, "n_records": encoded.n_records}
    info["columns"] = {c: encoded[c].dtype for c in encoded.columns}
    return info


def describe_spark(frame, source=None) -> dict:
    """A Spark table in place of a file: ``{"source", "engine", "n_records", "fingerprint",
    "columns"}``.

    ``source`` is the table name or the path it was read from (recorded by its last component,
    as :func:`describe_file` does, so the same data in two folders gives the same block); by
    default the folder its files share. The fingerprint is computed on the cluster
    (:func:`riskcalc._core.spark.fingerprint`: row count, sum and XOR of 64-bit row hashes),
    since a Spark table may be too large, or too scattered, to hash its files.
    """
    from ._core.spark import fingerprint, source_name

    if source is None:
        name = source_name(frame)
    else:
        text = str(source).rstrip("/")
        name = Path(text).name if ("/" in text or os.sep in text) else text
    info: dict = {"source": name, "engine": "spark"}
    info.update(fingerprint(frame))
    info["columns"] = dict(frame.dtypes)
    return info


def describe_cohort(meta: dict) -> dict:
    """The synthetic cohort a table was measured on (seed, size, generator version)."""
    out = {k: meta.get(k) for k in ("seed", "n_pupils", "generator_version") if k in meta}
    out["synthetic"] = True
    return out


def provenance(
    function: str, parameters: dict, data=None, encoded=None, *, inputs=None, cohort=None, **extra
) -> dict:
    """The provenance block.

    Keys: ``riskcalc_version``, ``riskcalc_commit`` (:func:`code_commit`), ``function``, ``parameters``, ``command`` (when run from the
    CLI), ``data`` (``"synthetic"``, ``"file"`` or ``"in-memory"``), then ``input`` (one encoded
    input, from ``data``/``encoded``), ``inputs`` (a list of :func:`describe_file` blocks) or
    ``cohort`` (:func:`describe_cohort`), and any ``extra`` entries.
    """
    block: dict = {
        "riskcalc_version": __version__,
        "riskcalc_commit": code_commit(),
        "function": function,
        "parameters": parameters,
    }
    if command_line() is not None:
        block["command"] = command_line()
    if cohort is not None:
        block["data"] = "synthetic"
        block["cohort"] = describe_cohort(cohort)
    elif inputs is not None:
        block["data"] = "file"
        block["inputs"] = list(inputs)
    elif encoded is not None:
        block["data"] = "file" if isinstance(data, (str, os.PathLike)) else "in-memory"
        block["input"] = describe_input(data, encoded)
    block.update(extra)
    return block
