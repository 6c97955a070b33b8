"""``riskcalc synth``'s link to :mod:`synthetic`: the release layer is the only riskcalc code
that imports the generator.

The extracts are written by riskcalc's one output writer (:func:`riskcalc._outputs.write_folder`),
like every other command's set of files: into a temporary sibling folder, ``manifest.json``
last, renamed into place under a lock, never into a folder of the user's own files.
"""

from __future__ import annotations

from pathlib import Path

from synthetic.cohort import MAX_PUPILS
from synthetic.exceptions import SyntheticError

__all__ = ["MAX_PUPILS", "SyntheticError", "write_extracts"]


def write_extracts(
    out, n_pupils: int, seed: int, tiers, *, force: bool = False, progress: bool = False
) -> list[Path]:
    """Generate a cohort and write its tier extracts into the folder ``out`` as one set.

    Parameters
    ----------
    out : str or path
        A new or empty folder (its parents are created), or with ``force`` a folder riskcalc
        wrote.
    n_pupils, seed : int
        The cohort (:func:`synthetic.generate_cohort`).
    tiers : sequence of {1, 2, 3, 4}
    force : bool, default False
    progress : bool, default False
        Progress bars on stderr.

    Returns
    -------
    list of pathlib.Path
        The files written, in tier order.

    Raises
    ------
    riskcalc.DataFileError
        For an ``out`` that is not a new or empty folder (or, with ``force``, a folder riskcalc
        wrote), or that cannot be written.
    """
    from synthetic.cohort import generate_cohort
    from synthetic.io import tier_paths, write_tiers

    from .._outputs import check_folder_out, write_folder

    out = Path(out)
    check_folder_out(out, force=bool(force))  # synth reads no file
    cohort = generate_cohort(n_pupils, rng=seed, progress=progress)

    def fill(folder):
        write_tiers(cohort, folder, tiers=tiers, progress=progress)

    write_folder(out, fill, force=bool(force), command="synth")
    return list(tier_paths(out, tiers).values())
