"""The ``riskcalc synth`` command's link to :mod:`synthetic`: the release layer is the only
riskcalc code that imports the generator."""

from __future__ import annotations

import synthetic._cli as _synth_cli
from synthetic.exceptions import SyntheticError

__all__ = ["configure_parser", "run", "SyntheticError"]

configure_parser = _synth_cli.configure_parser
run = _synth_cli.run
