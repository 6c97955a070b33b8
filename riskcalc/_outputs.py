"""Writing outputs safely: a file, a file with its sidecar, or a folder of files appears whole
or not at all, never over an input, and never over existing files without ``force``.

* Single files and sets of files (``analyse --out FILE`` and its provenance sidecar): every file
  is written to a temporary sibling first; only when all are complete are they moved into
  place. Without ``force`` a file is created exclusively (a hard link, which fails if the name
  exists), so two runs racing for one name cannot both succeed.
* Folders (``tiers --out DIR``): the set is written into a temporary sibling folder with a
  ``manifest.json`` (names, sizes, SHA-256) written last, then the folder is renamed into place.
  A run holds a lock on the destination while it checks and renames, so a concurrent run fails
  instead of replacing the first one's folder; a killed run leaves the destination as it was.
  With ``force`` only an empty folder or a folder riskcalc wrote (one holding a manifest) is
  replaced, so ``--force`` can never delete a folder of the user's own files.
* Every command that writes a set of files (``tiers``, ``report``, ``attack``, ``synth``,
  ``check-output``, ``audit-tables``) goes through :func:`check_folder_out` before its work and
  :func:`write_folder` after it: the checks (not an input, not inside an input folder, no input
  inside it, not a folder of the user's own files) are made in one place, again under the lock.

Temporary names have a fixed length (``.rc-`` and eight random characters; a folder's are
``.rc-``, 16 characters of a hash of the destination, ``-`` and eight random characters), so an
output name that is itself close to the file-system limit still works. A run killed outright
(SIGKILL, power cut) cannot clean up: the destination is as it was, and the next run that
writes the same destination removes the temporary folders left for it (see :func:`_sweep`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from .exceptions import DataFileError

__all__ = [
    "MANIFEST",
    "check_not_input",
    "check_folder_out",
    "write_files",
    "write_folder",
    "check_folder_target",
]

#: The file a riskcalc output folder holds, written last, that marks it complete.
MANIFEST = "manifest.json"
_PREFIX = ".rc-"


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.abspath(os.path.realpath(a)) == os.path.abspath(os.path.realpath(b))


def _inside(path: Path, folder: Path) -> bool:
    p, f = os.path.realpath(path), os.path.realpath(folder)
    return p == f or p.startswith(f.rstrip(os.sep) + os.sep)


def check_not_input(out, inputs: Iterable, *, option: str = "--out", folder: bool = False) -> None:
    """Refuse an output that would replace an input, or be written inside an input folder.

    ``out`` is a file (or, with ``folder``, a folder that will be replaced as a whole, so no input
    may live inside it). ``inputs`` are the files or folders read by the run; ``None`` entries
    are ignored. An output inside an input folder is refused too: a later run on that folder
    would read it as an input. The check resolves ``..``, symbolic and hard links.
    """
    out = Path(out)
    for item in inputs:
        if item is None:
            continue
        item = Path(item)
        clash = _inside(item, out) if folder else _same(out, item)
        if not clash and folder and item.is_dir():
            clash = _same(out, item)
        if clash:
            raise DataFileError(
                f"{option} {str(out)!r} would replace the input {str(item)!r}; write the output "
                "somewhere else."
            )
        if item.is_dir() and _inside(out, item):
            raise DataFileError(
                f"{option} {str(out)!r} is inside the input folder {str(item)!r}; write the output "
                "somewhere else."
            )


def check_folder_out(
    out, *, force: bool, inputs: Iterable = (), option: str = "--out"
) -> Path | None:
    """Check an output folder before a command's work starts: not an input, not inside an input
    folder, holding no input, and (:func:`check_folder_target`) new, empty, or (with ``force``)
    a folder riskcalc wrote. :func:`write_folder` checks the same again under its lock.

    ``out`` of ``None`` (no ``--out`` given) returns ``None``.
    """
    if out is None or out == "":
        return None
    out = Path(out)
    check_not_input(out, inputs, option=option, folder=True)
    check_folder_target(out, force=force, option=option)
    return out


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def _temp_in(folder: Path, target: Path) -> str:
    try:
        fd, tmp = tempfile.mkstemp(prefix=_PREFIX, suffix=".tmp", dir=folder)
    except OSError as exc:
        raise DataFileError(f"Cannot write {str(target)!r}: {_reason(exc)}.") from None
    os.close(fd)
    return tmp


def _write_bytes(tmp: str, data: bytes) -> None:
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _place_exclusive(tmp: str, target: Path) -> None:
    """Move ``tmp`` to ``target``, failing if ``target`` exists (even if it appears meanwhile)."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise
    except OSError:  # no hard links on this file system: reserve the name, then replace it
        fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        os.close(fd)
        os.replace(tmp, target)
        return
    os.unlink(tmp)


def write_files(files: Mapping, *, force: bool = False) -> list[Path]:
    """Write ``{path: text or bytes}`` as one set: all complete, or none placed.

    Without ``force`` no existing file is replaced (checked before anything is written, and
    again, exclusively, when each file is placed).
    """
    targets = [
        (Path(p), d.encode("utf-8") if isinstance(d, str) else bytes(d)) for p, d in files.items()
    ]
    for path, _ in targets:
        folder = path.parent if str(path.parent) else Path(".")
        check_name_length(path)
        if path.is_dir():
            raise DataFileError(f"{str(path)!r} is a folder; give the name of a file to write.")
        if path.exists() and not force:
            raise DataFileError(
                f"{str(path)!r} exists already; add --force (force=True) to replace it."
            )
        if not folder.is_dir():
            raise DataFileError(
                f"Cannot write {str(path)!r}: folder {str(folder)!r} does not exist."
            )
    temps: list[str] = []
    placed: list[Path] = []
    try:
        for path, data in targets:
            tmp = _temp_in(path.parent if str(path.parent) else Path("."), path)
            temps.append(tmp)
            try:
                _write_bytes(tmp, data)
            except OSError as exc:
                raise DataFileError(f"Cannot write {str(path)!r}: {_reason(exc)}.") from None
        for (path, _), tmp in zip(targets, temps):
            try:
                if force:
                    os.replace(tmp, path)
                else:
                    _place_exclusive(tmp, path)
            except FileExistsError:
                raise DataFileError(
                    f"{str(path)!r} exists already (another run wrote it meanwhile); add --force to replace it."
                ) from None
            except OSError as exc:
                raise DataFileError(f"Cannot write {str(path)!r}: {_reason(exc)}.") from None
            placed.append(path)
    except BaseException:
        if not force:  # the names were free before: remove what this run placed
            for path in placed:
                with contextlib.suppress(OSError):
                    path.unlink()
        raise
    finally:
        for tmp in temps:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return [p for p, _ in targets]


# --------------------------------------------------------------------------------------------
# Folders
# --------------------------------------------------------------------------------------------


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder if folder.is_dir() else ".", "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):  # pragma: no cover - no pathconf
        return 255


def check_name_length(path: Path) -> None:
    """Refuse a file name longer than the file system allows (before anything is written)."""
    folder = path.parent if str(path.parent) else Path(".")
    limit = _name_max(folder)
    length = len(os.fsencode(path.name))
    if length > limit:
        raise DataFileError(
            f"Cannot write {path.name[:40]!r}...: the name is {length} bytes long and the file "
            f"system allows {limit}. Use a shorter --out name (with --format json the provenance "
            "is inside the file and needs no sidecar)."
        )


def _is_riskcalc_folder(path: Path) -> bool:
    return (path / MANIFEST).is_file()


def check_folder_target(out, *, force: bool, option: str = "--out") -> Path:
    """Whether ``out`` may receive an output folder; raise a one-line error if not.

    Allowed: a name that does not exist, an empty folder, or (with ``force``) a folder that
    riskcalc wrote before (it holds :data:`MANIFEST`).
    """
    out = Path(out)
    check_name_length(out)
    if out.exists() and not out.is_dir():
        raise DataFileError(f"{option} {str(out)!r} exists and is not a folder.")
    if out.is_dir():
        try:
            empty = not any(out.iterdir())
        except OSError as exc:
            raise DataFileError(f"Cannot use {option} {str(out)!r}: {_reason(exc)}.") from None
        if not empty:
            if not force:
                raise DataFileError(
                    f"{option} {str(out)!r} is not empty; add --force to replace it."
                )
            if not _is_riskcalc_folder(out):
                raise DataFileError(
                    f"{option} {str(out)!r} holds files riskcalc did not write (no {MANIFEST}); "
                    "--force only replaces riskcalc output folders. Choose a new folder."
                )
    return out


def _digest(out: Path) -> str:
    """A fixed-length name for ``out`` (its lock and its temporary folders are named by it)."""
    return hashlib.sha256(os.path.abspath(out).encode("utf-8", "surrogateescape")).hexdigest()[:16]


@contextlib.contextmanager
def _lock(out: Path, option: str):
    """Hold an exclusive lock for ``out`` (a fixed-length lock file beside it)."""
    parent = out.parent if str(out.parent) else Path(".")
    lock_path = parent / f"{_PREFIX}{_digest(out)}.lock"
    busy = DataFileError(
        f"Another riskcalc run is writing {option} {str(out)!r}; wait for it to finish."
    )
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: creating the lock file is the lock
        fcntl = None
    try:
        flags = os.O_CREAT | os.O_RDWR | (os.O_EXCL if fcntl is None else 0)
        fd = os.open(lock_path, flags, 0o666)
    except FileExistsError:  # pragma: no cover - Windows
        raise busy from None
    except OSError as exc:
        raise DataFileError(f"Cannot write {option} {str(out)!r}: {_reason(exc)}.") from None
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise busy from None
            # the previous holder may have removed the lock file after we opened it
            try:
                if os.fstat(fd).st_ino != os.stat(lock_path).st_ino:
                    raise busy
            except FileNotFoundError:
                raise busy from None
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.unlink(lock_path)
    finally:
        os.close(fd)


def _sweep(out: Path, parent: Path) -> None:
    """Remove the temporary folders a killed run (SIGKILL, power cut) left for ``out``.

    Called under the lock, so no live run owns them. A run killed between moving the folder it
    replaced aside and moving the new one in left the old folder in its temporary folder: it is
    put back first, so a kill never loses a complete output folder.
    """
    prefix = f"{_PREFIX}{_digest(out)}-"
    try:
        stale = sorted(p for p in parent.iterdir() if p.name.startswith(prefix) and p.is_dir())
    except OSError:
        return
    for folder in stale:
        previous = folder / "previous"
        if previous.is_dir() and not os.path.lexists(out):
            with contextlib.suppress(OSError):
                os.rename(previous, out)
        shutil.rmtree(folder, ignore_errors=True)


def _hash_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def _manifest_doc(entries: Mapping[str, tuple[int, str]], command: str | None) -> bytes:
    from ._provenance import code_commit
    from ._version import __version__

    doc = {
        "riskcalc_version": __version__,
        "riskcalc_commit": code_commit(),
        "files": {
            name: {"bytes": size, "sha256": sha} for name, (size, sha) in sorted(entries.items())
        },
    }
    if command is not None:
        doc["command"] = command
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")


def manifest(files: Mapping[str, bytes], command: str | None = None) -> bytes:
    """``manifest.json``: each file's size and SHA-256, names sorted, and the command that wrote
    the folder (no time: reproducible)."""
    return _manifest_doc(
        {name: (len(data), hashlib.sha256(data).hexdigest()) for name, data in files.items()},
        command,
    )


def manifest_command(folder) -> str | None:
    """The command recorded in ``folder``'s manifest (``None``: no manifest, or none recorded)."""
    try:
        doc = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    command = doc.get("command") if isinstance(doc, dict) else None
    return command if isinstance(command, str) else None


def _write_file(path: Path, content: bytes) -> None:
    with open(path, "xb") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())


def _write_manifest(folder: Path, command: str | None) -> None:
    """Hash every file of the finished temporary folder and write the manifest (the last file)."""
    entries = {}
    for path in sorted(folder.iterdir()):
        if path.name == MANIFEST or not path.is_file() or path.is_symlink():
            raise ValueError(
                f"unexpected entry {path.name!r} in an output folder"
            )  # pragma: no cover
        entries[path.name] = _hash_file(path)
    _write_file(folder / MANIFEST, _manifest_doc(entries, command))


def write_folder(
    out,
    files,
    *,
    force: bool = False,
    option: str = "--out",
    inputs: Iterable = (),
    command: str | None = None,
) -> Path:
    """Write a set of files into the folder ``out`` as one set (see the module notes).

    ``files`` is ``{name: text or bytes}``, or a function that writes the files into the
    (temporary) folder it is given, for outputs too large to hold in memory. The files are
    written into a temporary sibling folder, the manifest (each file's size and SHA-256, and
    ``command``) last, and the folder is then renamed to ``out`` while a lock is held. ``inputs``
    are checked as :func:`check_folder_out` does, again under the lock. The parent folders of
    ``out`` are created if needed.
    """
    out = Path(out)
    if callable(files):
        fill = files
    else:
        data = {
            name: d.encode("utf-8") if isinstance(d, str) else bytes(d) for name, d in files.items()
        }
        for name in data:
            if (
                name != Path(name).name
                or name in ("", ".", "..", MANIFEST)
                or name.startswith(_PREFIX)
            ):
                raise ValueError(
                    f"bad output file name {name!r}"
                )  # pragma: no cover - programming error

        def fill(folder: Path) -> None:
            for name, content in data.items():
                _write_file(folder / name, content)

    parent = out.parent if str(out.parent) else Path(".")
    check_not_input(out, inputs, option=option, folder=True)
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataFileError(f"Cannot create {option} {str(out)!r}: {_reason(exc)}.") from None
    with _lock(out, option):
        _sweep(out, parent)
        check_not_input(out, inputs, option=option, folder=True)
        check_folder_target(out, force=force, option=option)
        prefix = f"{_PREFIX}{_digest(out)}-"
        try:
            tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        except OSError as exc:
            raise DataFileError(f"Cannot write {option} {str(out)!r}: {_reason(exc)}.") from None
        old = None
        try:
            try:
                os.chmod(tmp, 0o777 & ~_umask())
                fill(tmp)
                _write_manifest(tmp, command)
            except OSError as exc:
                raise DataFileError(
                    f"Cannot write {option} {str(out)!r}: {_reason(exc)}."
                ) from None
            if out.is_dir() and any(out.iterdir()):
                old = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
                os.rename(out, old / "previous")
            try:
                os.rename(tmp, out)
            except OSError as exc:
                if old is not None:
                    os.rename(old / "previous", out)
                raise DataFileError(
                    f"Cannot write {option} {str(out)!r}: {_reason(exc)}."
                ) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    return out
