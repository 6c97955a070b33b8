"""Parquet input/output of extracts with provenance and field roles in the file metadata."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from ._version import GENERATOR_VERSION
from .exceptions import ExtractExistsError, SyntheticError
from .schema import FIELD_NAMES, field, pandas_dtype
from .tiers import TIER3_BY, TIER3_CHARACTERISTICS, tier3_tables, tier_extract

__all__ = [
    "write_extract",
    "write_tiers",
    "tier_paths",
    "read_extract",
    "read_metadata",
    "METADATA_KEY",
]

_UNIQUE_STRINGS = frozenset({"pupil_id", "upn"})

#: Key of the JSON provenance block in the Parquet schema metadata.
METADATA_KEY = b"synthetic"


def _field_info(column: str) -> dict[str, Any]:
    if column in FIELD_NAMES:
        f = field(column)
        return {
            "role": f.role.value,
            "tier": f.tier,
            "npd_item": f.npd_item,
            "dtype": f.dtype,
            "ladder": list(f.ladder_names),
        }
    if column == "count":
        return {"role": "count", "tier": None, "npd_item": None, "dtype": "int64", "ladder": []}
    return {"role": None, "tier": None, "npd_item": None, "dtype": None, "ladder": []}


def _check_path(path: object, func: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise SyntheticError(
            f"The 'path' parameter of {func} must be a str or os.PathLike. "
            f"Got {type(path).__name__} instead."
        )
    return Path(path)


def check_output_dir(directory: Path, func: str) -> None:
    """Raise :class:`SyntheticError` unless ``directory`` exists and is writable."""
    if not directory.exists():
        raise SyntheticError(f"The output directory of {func} does not exist: '{directory}'.")
    if not directory.is_dir():
        raise SyntheticError(f"The output path of {func} is not a directory: '{directory}'.")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise SyntheticError(f"The output directory of {func} is not writable: '{directory}'.")


def write_extract(
    frame: pd.DataFrame,
    path: str | os.PathLike,
    *,
    tier: int | None = None,
    seed: int | None = None,
    force: bool = False,
    compression: str = "zstd",
) -> Path:
    """Write an extract or tier 3 table to Parquet, atomically, with provenance metadata.

    The schema metadata key ``b"synthetic"`` holds JSON with ``tier``, ``seed``,
    ``n_pupils``, ``generator_version``, ``n_rows``, ``columns`` (in order) and, per column, its ``role`` (direct
    identifier, quasi-identifier, sensitive, count), registry tier, NPD item, dtype and ladder.
    The file is written to a temporary file in the same directory and moved into place
    (``os.replace``), so readers never see a partial file.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`synthetic.tier_extract`, :func:`synthetic.tier3_tables` or
        :func:`synthetic.generate_cohort`.
    path : str or os.PathLike
        Output file; its directory must exist and be writable.
    tier, seed : int, optional
        Override the values recorded in ``frame.attrs["synthetic"]``.
    force : bool, default False
        Overwrite an existing file. Without it an existing file raises
        :class:`~synthetic.exceptions.ExtractExistsError` and is left untouched.
    compression : str, default "zstd"
        Parquet compression codec.

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    SyntheticError
        If the directory does not exist or is not writable, or ``frame`` is not a DataFrame.
    ExtractExistsError
        If ``path`` exists and ``force`` is False.

    Examples
    --------
    >>> import tempfile, synthetic
    >>> cohort = synthetic.generate_cohort(1_000, rng=0)
    >>> path = synthetic.write_extract(synthetic.tier_extract(cohort, 4), tempfile.mkdtemp() + "/tier4.parquet",
    ...                                tier=4, seed=0)
    >>> path.name, synthetic.read_metadata(path)["tier"]
    ('tier4.parquet', 4)
    """
    if not isinstance(frame, pd.DataFrame):
        raise SyntheticError(
            f"The 'frame' parameter of write_extract must be a pandas DataFrame. "
            f"Got {type(frame).__name__} instead."
        )
    path = _check_path(path, "write_extract")
    directory = path.parent if str(path.parent) else Path(".")
    check_output_dir(directory, "write_extract")
    if path.exists() and not force:
        raise ExtractExistsError(
            f"The output file of write_extract already exists: '{path}'. Pass force=True "
            f"(--force) to overwrite it."
        )
    provenance = dict(frame.attrs.get("synthetic", {}))
    if tier is not None:
        provenance["tier"] = tier
    if seed is not None:
        provenance["seed"] = seed
    meta = {
        "generator": "synthetic",
        "generator_version": provenance.get("generator_version", GENERATOR_VERSION),
        "tier": provenance.get("tier"),
        "seed": provenance.get("seed"),
        "n_pupils": provenance.get("n_pupils"),
        "n_rows": len(frame),
        "columns": [str(c) for c in frame.columns],
        "provenance": provenance,
        "roles": {c: _field_info(str(c))["role"] for c in frame.columns},
        "fields": {str(c): _field_info(str(c)) for c in frame.columns},
    }
    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema_meta = dict(table.schema.metadata or {})
    schema_meta[METADATA_KEY] = json.dumps(meta, sort_keys=True, default=str).encode("utf-8")
    table = table.replace_schema_metadata(schema_meta)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        # unique strings (UPN, pupil id) are not worth a dictionary
        dictionary = [
            c
            for c in table.column_names
            if not (pa.types.is_string(table.schema.field(c).type) and str(c) in _UNIQUE_STRINGS)
        ]
        pq.write_table(table, tmp, compression=compression, use_dictionary=dictionary)
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual file mode
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # atomic and never overwrites
            except FileExistsError:
                raise ExtractExistsError(
                    f"The output file of write_extract already exists: '{path}'. Pass "
                    f"force=True (--force) to overwrite it."
                ) from None
            except OSError:  # file system without hard links
                if path.exists():
                    raise ExtractExistsError(
                        f"The output file of write_extract already exists: '{path}'."
                    ) from None
                os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """Return the ``b"synthetic"`` metadata block of an extract written by :func:`write_extract`.

    Examples
    --------
    >>> import tempfile, synthetic
    >>> cohort = synthetic.generate_cohort(1_000, rng=0)
    >>> path = synthetic.write_extract(synthetic.tier_extract(cohort, 4), tempfile.mkdtemp() + "/t.parquet",
    ...                                tier=4, seed=0)
    >>> meta = synthetic.read_metadata(path)
    >>> meta["tier"], meta["seed"], sorted(meta)[:4]
    (4, 0, ['columns', 'fields', 'generator', 'generator_version'])
    """
    path = _check_path(path, "read_metadata")
    if not path.is_file():
        raise SyntheticError(f"The input file of read_metadata does not exist: '{path}'.")
    raw = (pq.read_schema(path).metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise SyntheticError(
            f"The file '{path}' has no synthetic metadata (not written by write_extract)."
        )
    return json.loads(raw)


def read_extract(path: str | os.PathLike) -> pd.DataFrame:
    """Read an extract written by :func:`write_extract`, restoring the registry dtypes.

    Returns
    -------
    pandas.DataFrame
        With ``attrs["synthetic"]`` set to the file's metadata block
        (see :func:`read_metadata`).

    Examples
    --------
    >>> import tempfile, synthetic
    >>> cohort = synthetic.generate_cohort(1_000, rng=0)
    >>> tier4 = synthetic.tier_extract(cohort, 4)
    >>> path = synthetic.write_extract(tier4, tempfile.mkdtemp() + "/tier4.parquet", tier=4, seed=0)
    >>> back = synthetic.read_extract(path)
    >>> back.equals(tier4), back.attrs["synthetic"]["tier"]
    (True, 4)
    """
    meta = read_metadata(path)
    frame = restore_dtypes(pq.read_table(path).to_pandas())
    frame.attrs = {"synthetic": meta}
    return frame


def restore_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Give the registry's fields their registry dtypes again after a round trip through Arrow
    (in place; returns ``frame``)."""
    for col in frame.columns:
        if col in FIELD_NAMES:
            f = field(col)
            if f.dtype == "category" and f.codes is None:
                if not isinstance(frame[col].dtype, pd.CategoricalDtype):
                    frame[col] = frame[col].astype("category")
                cats = frame[col].cat.categories
                if cats.dtype != object:
                    frame[col] = frame[col].cat.set_categories(pd.Index(list(cats), dtype=object))
            else:
                frame[col] = frame[col].astype(pandas_dtype(f))
        elif col == "count":
            frame[col] = frame[col].astype("int64")
    return frame


ALL_TIERS: tuple[int, ...] = (1, 2, 3, 4)


def tier_paths(out: str | os.PathLike, tiers: tuple[int, ...] = ALL_TIERS) -> dict[str, Path]:
    """Files :func:`write_tiers` writes: ``tier1.parquet``, ``tier2.parquet``,
    ``tier4.parquet`` and one ``tier3_<level>_x_<characteristic>.parquet`` per tier 3 table.

    Keys are ``"tier1"``, ``"tier2"``, ``"tier4"`` and ``"tier3:<level>_x_<characteristic>"``.

    Examples
    --------
    >>> import synthetic
    >>> {name: path.name for name, path in synthetic.tier_paths("out", tiers=(1, 4)).items()}
    {'tier1': 'tier1.parquet', 'tier4': 'tier4.parquet'}
    """
    out = Path(out)
    paths = {f"tier{t}": out / f"tier{t}.parquet" for t in sorted(tiers) if t != 3}
    if 3 in tiers:
        for level in TIER3_BY:
            for char in TIER3_CHARACTERISTICS:
                key = f"{level}_x_{char}"
                paths[f"tier3:{key}"] = out / f"tier3_{key}.parquet"
    return paths


def write_tiers(
    cohort: pd.DataFrame,
    out: str | os.PathLike,
    *,
    tiers: tuple[int, ...] = ALL_TIERS,
    force: bool = False,
    workers: int = 2,
    progress: bool = False,
) -> dict[str, Path]:
    """Write the tier extracts and tier 3 tables of ``cohort`` into directory ``out``.

    Files are named as :func:`tier_paths` says and written with :func:`write_extract` by
    ``workers`` threads (Parquet encoding releases the GIL). Existing files are checked
    before anything is written.

    Parameters
    ----------
    cohort : pandas.DataFrame
        From :func:`synthetic.generate_cohort`.
    out : str or os.PathLike
        Existing, writable directory.
    tiers : tuple of int, default (1, 2, 3, 4)
        Tiers to write.
    force : bool, default False
        Overwrite existing files.
    workers : int, default 2
        Writer threads.
    progress : bool, default False
        Show a tqdm progress bar on stderr.

    Returns
    -------
    dict of str to pathlib.Path
        As :func:`tier_paths`.

    Raises
    ------
    SyntheticError
        If ``tiers`` holds an unknown tier or ``out`` is not a writable directory.
    ExtractExistsError
        If a target file exists and ``force`` is False (nothing is written).

    Examples
    --------
    >>> import tempfile, synthetic
    >>> cohort = synthetic.generate_cohort(1_000, rng=0)
    >>> paths = synthetic.write_tiers(cohort, tempfile.mkdtemp(), tiers=(2, 4))
    >>> sorted(p.name for p in paths.values())
    ['tier2.parquet', 'tier4.parquet']
    """
    bad = [t for t in tiers if isinstance(t, bool) or t not in ALL_TIERS]
    if bad or not tiers:
        raise SyntheticError(
            f"The 'tiers' parameter of write_tiers must be a non-empty subset of "
            f"{list(ALL_TIERS)}. Got {tiers!r} instead."
        )
    out = _check_path(out, "write_tiers")
    check_output_dir(out, "write_tiers")
    paths = tier_paths(out, tuple(tiers))
    if not force:
        existing = [str(p) for p in paths.values() if p.exists()]
        if existing:
            raise ExtractExistsError(
                f"The output directory already holds {len(existing)} of the files to write, "
                f"e.g. '{existing[0]}'; pass force=True (--force) to overwrite."
            )
    tables = tier3_tables(cohort) if 3 in tiers else {}

    def job(key: str) -> Path:
        if key.startswith("tier3:"):
            frame = tables[key.split(":", 1)[1]]
        else:
            frame = tier_extract(cohort, int(key[4:]))
        return write_extract(frame, paths[key], force=force)

    with (
        ThreadPoolExecutor(max_workers=max(1, int(workers))) as pool,
        tqdm(
            total=len(paths),
            desc="writing extracts",
            unit="file",
            disable=not progress,
            file=sys.stderr,
        ) as bar,
    ):
        for _ in pool.map(job, list(paths)):
            bar.update()
    return paths
