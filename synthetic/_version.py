"""Version of the synthetic generator, recorded in every extract's metadata.

Bump the minor number whenever the same seed and ``n_pupils`` would produce a different cohort.
"""

GENERATOR_VERSION = "1.2.0"
