"""``generate_cohort``: one row per pupil, every registered field, generated LA by LA.

``start_cohort`` starts the same work and returns at once with a :class:`PendingCohort`, whose
``result()`` is the frame. This module imports pandas, pyarrow and tqdm only when a frame is
built or a progress bar shown: the plan and the LA chunks need numpy alone, so a caller can
start them first and import the rest while worker processes generate the chunks.
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ._parallel import Filling, check_workers, start_fill
from ._plan import build_plan, name_table
from ._rng import root_entropy
from ._samplers import SAMPLERS, samplers_for
from ._version import GENERATOR_VERSION
from .exceptions import SyntheticError
from .schema import FIELD_NAMES, check_column_names, field, pandas_dtype

if TYPE_CHECKING:
    import pandas as pd
    from tqdm import tqdm

__all__ = ["FULL_POPULATION", "MAX_PUPILS", "PendingCohort", "generate_cohort", "start_cohort"]

#: State-funded pupils in England, January 2024 (npd-spec 3.1, less nursery schools).
FULL_POPULATION = 8_457_089
#: Upper bound on ``n_pupils`` (memory: about 150 bytes per pupil).
MAX_PUPILS = 50_000_000


def _check_n(n_pupils: object, func: str) -> int:
    if isinstance(n_pupils, bool) or not isinstance(n_pupils, numbers.Integral):
        raise SyntheticError(
            f"The 'n_pupils' parameter of {func} must be an int in the range "
            f"[1, {MAX_PUPILS}]. Got {n_pupils!r} instead."
        )
    n = int(n_pupils)
    if not 1 <= n <= MAX_PUPILS:
        raise SyntheticError(
            f"The 'n_pupils' parameter of {func} must be an int in the range "
            f"[1, {MAX_PUPILS}]. Got {n} instead."
        )
    return n


def _check_columns(columns, func: str) -> frozenset | None:
    """The fields a cohort is asked for, or ``None`` for all of them."""
    if columns is None:
        return None
    columns = check_column_names(columns, FIELD_NAMES, func=func)
    if not columns:
        raise SyntheticError(f"The 'columns' parameter of {func} must name at least one field.")
    return frozenset(columns)


def _string_array(mat: np.ndarray):
    """A fixed-width ASCII byte matrix -> one pyarrow-backed pandas string array, no copy.

    The array is built as ``large_string`` (the type pandas' pyarrow strings hold), so pandas
    does not cast it, and its data buffer is ``mat`` itself.
    """
    import pandas as pd
    import pyarrow as pa

    n, width = mat.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    data = np.ascontiguousarray(mat).reshape(-1)
    arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    if int(pd.__version__.split(".")[0]) < 2:
        # pandas 1.5 holds only 32-bit-offset strings and builds through numpy: one cast
        return pd.arrays.ArrowStringArray(pa.chunked_array([arr.cast(pa.string())]))
    return pd.array(arr, dtype=pd.StringDtype("pyarrow"))


def generate_cohort(
    n_pupils: int = FULL_POPULATION,
    *,
    rng: int | np.random.Generator | None = None,
    progress: bool = False,
    workers: int | None = None,
    columns: Sequence[str] | None = None,
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
    workers : int or None, default None
        Processes generating LA chunks: None uses every core this process may run on (on
        Linux; one process elsewhere, where a pool needs ``spawn``), 1 generates in the calling
        process. Cohorts under 200,000 pupils always run in the calling process. The frame is
        byte-identical for every ``workers``: each chunk draws only from its own streams.
    columns : sequence of str, optional
        The columns to return (names from :data:`synthetic.FIELD_NAMES`), in the registry's
        order. The pupils and the values of every column are the same whatever is asked for;
        the fields generated after the last one asked for (the direct identifiers surname, UPN
        and pupil id come last) are not generated at all.

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
        If ``n_pupils`` is not an int in [1, 50,000,000], ``rng`` is not a seed / Generator,
        ``workers`` is not None or an int >= 1, or ``columns`` names no field or a field the
        cohort does not have.

    Examples
    --------
    >>> from synthetic import generate_cohort
    >>> cohort = generate_cohort(2_000, rng=1)
    >>> len(cohort), cohort["upn"].str.len().unique().tolist()
    (2000, [13])
    """
    return _start(n_pupils, rng, progress, workers, columns, func="generate_cohort").result()


def start_cohort(
    n_pupils: int = FULL_POPULATION,
    *,
    rng: int | np.random.Generator | None = None,
    progress: bool = False,
    workers: int | None = None,
    columns: Sequence[str] | None = None,
) -> PendingCohort:
    """Start generating the cohort of :func:`generate_cohort` (same parameters, same frame).

    The parameters are checked, the plan is drawn and the first LA chunk generated here; on
    Linux the other chunks are then generated by forked worker processes while the caller goes
    on, and :meth:`PendingCohort.result` waits for them and builds the frame. Where workers
    are not forked (one worker, a small cohort, macOS and Windows) every chunk is done before
    this returns. Only numpy is needed until the frame is built: a program can start its
    cohort before it imports pandas. Nothing here starts a thread, so the caller may fork
    again while the workers run.

    Returns
    -------
    PendingCohort
        ``result()`` gives the frame (raising a worker's error, or ``BrokenProcessPool`` for a
        worker that died); ``cancel()`` stops the workers.

    Raises
    ------
    SyntheticError
        As :func:`generate_cohort`, for a bad parameter (before any work starts).

    Examples
    --------
    >>> import synthetic
    >>> pending = synthetic.start_cohort(1_000, rng=0, workers=1)  # the work starts now
    >>> cohort = pending.result()  # ... and this waits for it
    >>> cohort.equals(synthetic.generate_cohort(1_000, rng=0))
    True
    """
    return _start(n_pupils, rng, progress, workers, columns, func="start_cohort")


def _start(n_pupils, rng, progress, workers, columns, *, func: str) -> PendingCohort:
    """:func:`start_cohort`, its messages naming ``func`` (the function the user called)."""
    n = _check_n(n_pupils, func)
    n_workers = check_workers(workers, func=func)
    wanted = _check_columns(columns, func)
    root = root_entropy(rng, func=func)
    plan = build_plan(root, n)
    las = [i for i in range(len(plan.la_code)) if plan.la_pupils[i] > 0]
    bar = _progress_bar(len(las)) if progress else None
    samplers = SAMPLERS if wanted is None else samplers_for(wanted)
    filling = start_fill(
        plan, las, n_workers, samplers, on_done=bar.update if bar else None, keep=wanted
    )
    return PendingCohort(
        filling,
        las,
        {
            "seed": root,
            "n_pupils": n,
            "generator_version": GENERATOR_VERSION,
            "census": "spring 2023/24",
        },
        bar,
    )


def _progress_bar(total: int):
    from tqdm import tqdm

    return tqdm(total=total, desc="synthetic cohort", unit="LA", file=sys.stderr)


class PendingCohort:
    """A cohort being generated (:func:`start_cohort`): :meth:`result` gives the frame, once.

    Examples
    --------
    >>> import synthetic
    >>> pending = synthetic.start_cohort(500, rng=0, workers=1)
    >>> pending.result().shape[0]
    500
    """

    def __init__(
        self, filling: Filling, las: list[int], attrs: dict, bar: tqdm | None = None
    ) -> None:
        self._filling: Filling | None = filling
        self._las, self._attrs, self._bar = las, attrs, bar

    def result(self) -> pd.DataFrame:
        """Wait for the workers and return the cohort frame, as :func:`generate_cohort` does.

        The frame is not kept here (a national cohort is gigabytes): ``result()`` may be
        called once; a second call, or one after :meth:`cancel`, raises ``RuntimeError``.
        """
        filling, self._filling = self._filling, None
        if filling is None:
            raise RuntimeError(
                "This cohort's result() has already been taken, or it was cancelled."
            )
        try:
            store = filling.finish()
        finally:
            self._close_bar()
        return _frame(store, self._las, self._attrs)

    def cancel(self) -> None:
        """Stop the workers if they are still generating; nothing is returned after."""
        filling, self._filling = self._filling, None
        if filling is not None:
            filling.cancel()
        self._close_bar()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _frame(store, las: list[int], attrs: dict) -> pd.DataFrame:
    """The cohort frame from a filled store (its arrays are taken over, column by column)."""
    import pandas as pd

    local = store.finish_categories(las)
    arrays = store.arrays  # emptied column by column below

    # Each column is converted, then its raw array dropped, so at most one column is held twice.
    data: dict[str, object] = {}
    for name in FIELD_NAMES:
        if name not in arrays:
            continue
        f = field(name)
        values = arrays.pop(name)
        if name in local:
            cats = pd.Index(local.pop(name), dtype=object)
            data[name] = pd.Categorical.from_codes(values, categories=cats)
        elif values.ndim == 2:
            data[name] = _string_array(values)
        elif f.dtype == "category" and f.codes is None:  # names: codes into the name tables
            cats = pd.Index(list(name_table(name).categories), dtype=object)
            data[name] = pd.Categorical.from_codes(values, categories=cats)
        elif f.dtype == "category":
            data[name] = pd.Categorical.from_codes(values, dtype=pandas_dtype(f))
        elif f.dtype.startswith("datetime64"):
            data[name] = values.astype(f.dtype)
        else:
            data[name] = values.astype(pandas_dtype(f), copy=False)
        del values
    frame = pd.DataFrame(data, copy=False)
    frame.attrs["synthetic"] = dict(attrs)
    return frame
