"""``python -m riskcalc``: the same as the ``riskcalc`` command."""

from .cli import console

console()
