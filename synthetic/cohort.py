"""``generate_cohort``: one row per pupil, every registered field, generated LA by LA."""

from __future__ import annotations

import numbers
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from ._plan import build_plan, names_tables
from ._rng import root_entropy, stream
from ._samplers import SAMPLERS, Chunk, LocalCategorical
from ._version import GENERATOR_VERSION
from .exceptions import SyntheticError
from .schema import FIELD_NAMES, field, pandas_dtype

__all__ = ["generate_cohort", "FULL_POPULATION", "MAX_PUPILS"]

#: State-funded pupils in England, January 2024 (npd-spec 3.1, less nursery schools).
FULL_POPULATION = 8_457_089
#: Upper bound on ``n_pupils`` (memory: about 150 bytes per pupil).
MAX_PUPILS = 50_000_000


def _check_n(n_pupils: object) -> int:
    if isinstance(n_pupils, bool) or not isinstance(n_pupils, numbers.Integral):
        raise SyntheticError(
            f"The 'n_pupils' parameter of generate_cohort must be an int in the range "
            f"[1, {MAX_PUPILS}]. Got {n_pupils!r} instead."
        )
    n = int(n_pupils)
    if not 1 <= n <= MAX_PUPILS:
        raise SyntheticError(
            f"The 'n_pupils' parameter of generate_cohort must be an int in the range "
            f"[1, {MAX_PUPILS}]. Got {n} instead."
        )
    return n


def _name_categories() -> dict[str, tuple[str, ...]]:
    forenames, surnames = names_tables()
    return {"forename": forenames.categories, "surname": surnames.categories}


def _string_array(parts: list[np.ndarray]) -> pd.arrays.ArrowStringArray:
    """Fixed-width ASCII byte matrices -> one pyarrow-backed pandas string array."""
    mat = np.concatenate(parts) if parts else np.zeros((0, 1), np.uint8)
    n, width = mat.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    arr = pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(mat).tobytes())
    )
    return pd.array(arr, dtype=pd.StringDtype("pyarrow"))


def generate_cohort(
    n_pupils: int = FULL_POPULATION,
    *,
    rng: int | np.random.Generator | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Generate a synthetic NPD-like spring-census cohort, one row per pupil.

    Pupils sit in schools (primary, secondary with or without a sixth form, special, alternative
    provision) drawn with realistic sizes and placed in the 153 English LAs; every other field
    is drawn conditionally on the fields before it (see ``docs/synthetic.md``). Published
    marginals come from the data files in ``synthetic/data``.

    Parameters
    ----------
    n_pupils : int, default 8_457_089
        Number of pupils, 1 to 50 million. Schools, postcodes and LSOAs scale with it, so that
        school sizes and pupils per postcode / LSOA stay realistic at any size.
    rng : int, numpy.random.Generator or None, default None
        Seed (SPEC 7). An int gives a reproducible cohort; a Generator contributes one draw
        (recorded as the seed); None uses fresh entropy. Each field draws from its own child
        stream, ``SeedSequence((seed, hash(field), la_code))``, so the same seed and
        ``n_pupils`` give a byte-identical frame and adding a field changes no other column.
    progress : bool, default False
        Show a tqdm progress bar (stderr) over the LA chunks.

    Returns
    -------
    pandas.DataFrame
        Columns in :data:`synthetic.FIELD_NAMES` order with compact dtypes (categoricals with
        the registry's code lists, bool, int8/16/32, datetime64[ns], pyarrow strings). Rows
        are ordered by LA, school and year group. ``frame.attrs["synthetic"]`` records the
        seed, ``n_pupils`` and the generator version.

    Raises
    ------
    SyntheticError
        If ``n_pupils`` is not an int in [1, 50,000,000] or ``rng`` is not a seed / Generator.

    Examples
    --------
    >>> from synthetic import generate_cohort
    >>> cohort = generate_cohort(2_000, rng=1)
    >>> len(cohort), cohort["upn"].str.len().unique().tolist()
    (2000, [13])
    """
    n = _check_n(n_pupils)
    root = root_entropy(rng, func="generate_cohort")
    plan = build_plan(root, n)
    arrays: dict[str, np.ndarray] = {}
    cat_parts: dict[str, list] = {}
    string_parts: dict[str, list] = {}
    las = [i for i in range(len(plan.la_code)) if plan.la_pupils[i] > 0]
    bar = tqdm(las, desc="synthetic cohort", unit="LA", disable=not progress, file=sys.stderr)
    for la in bar:
        chunk = Chunk(plan=plan, la=la)
        chunk_key = int(plan.la_code[la])
        for name, sampler in SAMPLERS:
            chunk.cols.update(sampler(stream(root, name, chunk_key), chunk))
        lo = int(plan.la_row_offset[la])
        hi = lo + chunk.n
        for col, value in chunk.cols.items():
            if isinstance(value, LocalCategorical):
                parts = cat_parts.setdefault(col, [[], []])
                offset = sum(len(c) for c in parts[1])
                parts[0].append(value.codes + offset)
                parts[1].append(value.categories)
            elif value.ndim == 2:
                string_parts.setdefault(col, []).append(value)
            else:
                if col not in arrays:
                    arrays[col] = np.empty(n, dtype=value.dtype)
                arrays[col][lo:hi] = value
    bar.close()

    data: dict[str, object] = {}
    for name in FIELD_NAMES:
        f = field(name)
        if name in cat_parts:
            codes = np.concatenate(cat_parts[name][0]).astype(np.int32)
            cats = [c for part in cat_parts[name][1] for c in part]
            data[name] = pd.Categorical.from_codes(codes, categories=pd.Index(cats, dtype=object))
        elif name in string_parts:
            data[name] = _string_array(string_parts[name])
        elif name in arrays:
            values = arrays[name]
            if f.dtype == "category" and f.codes is None:  # names: codes into the name tables
                cats = pd.Index(list(_name_categories()[name]), dtype=object)
                data[name] = pd.Categorical.from_codes(values, categories=cats)
            elif f.dtype == "category":
                data[name] = pd.Categorical.from_codes(values, dtype=pandas_dtype(f))
            elif f.dtype.startswith("datetime64"):
                data[name] = values.astype(f.dtype)
            else:
                data[name] = values.astype(pandas_dtype(f), copy=False)
    frame = pd.DataFrame(data, copy=False)
    frame.attrs["synthetic"] = {
        "seed": root,
        "n_pupils": n,
        "generator_version": GENERATOR_VERSION,
        "census": "spring 2023/24",
    }
    return frame
