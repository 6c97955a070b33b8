"""The release layer: intruder scenarios, tier tables, tier 3, coarsening, the report, the jobs.

The only riskcalc code that imports :mod:`synthetic`. It reads the measures' public functions and
results; the CLI calls it.
"""
