"""The git commit of a riskcalc checkout, read from its ``.git`` files (standard library only,
no ``git`` process): used at run time from a checkout, and by ``setup.py`` at build time, which
records it in the built package as ``riskcalc/_commit.py``.

:func:`checkout_commit` resolves ``HEAD`` (a branch through its loose ref or ``packed-refs``; a
worktree through its ``commondir``). :func:`modified` says whether the code that makes the
figures (the tracked files under ``riskcalc/`` and ``synthetic/``) differs from the commit's
index: each file's git blob hash is compared with the index entry's, and a Python file in those
folders that the index does not hold counts too. Content only (no timestamps), so the answer is
the same for the same files. Changes staged in the index but not committed are not seen (that
needs the commit's tree from the object store, packed and compressed).
"""

from __future__ import annotations

import hashlib
import re
import struct
from pathlib import Path

#: The folders whose code makes the figures: a change there is a modified tree.
CODE_FOLDERS = ("riskcalc/", "synthetic/")
_SHA = re.compile(r"^[0-9a-f]{40}$")


def git_dir(root: Path) -> Path | None:
    """The git directory of the checkout at ``root`` (``.git``, or where a ``.git`` file
    points for a worktree), or ``None``."""
    dot = root / ".git"
    if dot.is_dir():
        return dot
    if dot.is_file():
        text = dot.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            path = Path(text[len("gitdir:") :].strip())
            path = path if path.is_absolute() else (root / path)
            return path if path.is_dir() else None
    return None


def _common_dir(gitdir: Path) -> Path:
    common = gitdir / "commondir"
    if common.is_file():
        path = Path(common.read_text(encoding="utf-8").strip())
        return path if path.is_absolute() else (gitdir / path).resolve()
    return gitdir


def _ref(gitdir: Path, ref: str) -> str | None:
    for base in dict.fromkeys((gitdir, _common_dir(gitdir))):
        loose = base / ref
        if loose.is_file():
            sha = loose.read_text(encoding="ascii", errors="replace").strip()
            return sha if _SHA.match(sha) else None
        packed = base / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8", errors="replace").splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[1] == ref and _SHA.match(parts[0]):
                    return parts[0]
    return None


def checkout_commit(root: Path) -> str | None:
    """The commit ``HEAD`` names in the checkout at ``root``, or ``None``."""
    gitdir = git_dir(root)
    if gitdir is None or not (gitdir / "HEAD").is_file():
        return None
    head = (gitdir / "HEAD").read_text(encoding="utf-8", errors="replace").strip()
    if head.startswith("ref:"):
        return _ref(gitdir, head[len("ref:") :].strip())
    return head if _SHA.match(head) else None


def _index_entries(gitdir: Path) -> dict[str, str] | None:
    """``{path: blob sha}`` of the index (versions 2 and 3), or ``None`` when unreadable."""
    try:
        data = (gitdir / "index").read_bytes()
    except OSError:
        return None
    if len(data) < 12 or data[:4] != b"DIRC":
        return None
    version, count = struct.unpack(">II", data[4:12])
    if version not in (2, 3):
        return None
    entries, pos = {}, 12
    for _ in range(count):
        sha = data[pos + 40 : pos + 60].hex()
        flags = struct.unpack(">H", data[pos + 60 : pos + 62])[0]
        fixed = 62 + (2 if version == 3 and flags & 0x4000 else 0)
        end = data.index(b"\0", pos + fixed)
        entries[data[pos + fixed : end].decode("utf-8", errors="replace")] = sha
        pos += ((fixed + end - (pos + fixed) + 8) // 8) * 8  # padded with 1-8 NULs
    return entries


def modified(root: Path) -> bool | None:
    """Whether the code under :data:`CODE_FOLDERS` differs from the index (see the module
    notes); ``None`` when it cannot be told (no readable index)."""
    gitdir = git_dir(root)
    entries = _index_entries(gitdir) if gitdir is not None else None
    if entries is None:
        return None
    for path, sha in entries.items():
        if not path.startswith(CODE_FOLDERS):
            continue
        try:
            body = (root / path).read_bytes()
        except OSError:
            return True  # deleted
        if hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest() != sha:
            return True
    for folder in CODE_FOLDERS:
        for file in sorted((root / folder).rglob("*.py")):
            if file.relative_to(root).as_posix() not in entries:
                return True
    return False
