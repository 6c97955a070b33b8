"""Build hook: record the git commit the package is built from in ``riskcalc/_commit.py``.

Everything else about the package is in ``pyproject.toml``. A wheel or sdist built from a
checkout carries the commit (read from the checkout's ``.git`` files by
``riskcalc/_gitcommit.py``, no ``git`` process), so that the installed code names it in every
provenance block (``riskcalc._provenance.code_commit``); an sdist carries the file, so a wheel
built from it keeps the commit. Built from neither, the package says ``"unknown"``.
"""

import runpy
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
COMMIT_FILE = Path("riskcalc") / "_commit.py"


def _commit_source() -> str | None:
    """The text of ``riskcalc/_commit.py`` for this checkout, or ``None`` outside one."""
    git = runpy.run_path(str(ROOT / "riskcalc" / "_gitcommit.py"))
    commit = git["checkout_commit"](ROOT)
    if commit is None:
        return None
    if git["modified"](ROOT):
        commit += "-modified"
    return (
        '"""The git commit this package was built from (written by setup.py)."""\n\n'
        f"COMMIT = {commit!r}\n"
    )


class BuildPyWithCommit(build_py):
    def run(self):
        super().run()
        text = _commit_source()
        if text is not None:  # from an sdist: its own _commit.py was copied with the package
            target = Path(self.build_lib) / COMMIT_FILE
            target.write_text(text, encoding="utf-8")


class SdistWithCommit(sdist):
    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        text = _commit_source()
        if text is not None:
            target = Path(base_dir) / COMMIT_FILE
            target.unlink(missing_ok=True)  # a hard link to the tree's file, if any
            target.write_text(text, encoding="utf-8")


setup(cmdclass={"build_py": BuildPyWithCommit, "sdist": SdistWithCommit})
