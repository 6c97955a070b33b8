"""``python -m riskcalc``: the same as the ``riskcalc`` command."""

from ._cli import console

console()
