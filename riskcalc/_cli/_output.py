"""Writing what a command produced: stdout, one ``--out FILE`` with its provenance sidecar, or
an ``--out DIR`` set (riskcalc's one output writer, :mod:`riskcalc._outputs`); the notes and
warnings on stderr; reading ``-`` (standard input)."""

from __future__ import annotations

import argparse
import json
import sys
from importlib import resources
from pathlib import Path

from .. import _render
from ._options import UsageError


def example_path() -> Path:
    """The small synthetic sample that ships with riskcalc (``analyse --example``)."""
    return Path(str(resources.files("riskcalc") / "data" / "sample_pupils.csv"))


def stdin_file(name: str | None) -> str | None:
    """``-`` is standard input: read it once into a private temporary file (removed at exit),
    so it can be hashed and read like any CSV file."""
    if name != "-":
        return name
    import atexit
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="riskcalc-stdin-")
    atexit.register(shutil.rmtree, folder, True)
    path = Path(folder) / "stdin.csv"
    path.write_bytes(sys.stdin.buffer.read())
    return str(path)


def read_measured(args: argparse.Namespace, fields: list[str]):
    """The input of a command measuring one file (lattice, suda): standard input saved to a
    file, ``--out`` checked before any work, the file read with only ``fields`` and profiled.
    Returns ``(table, data-quality findings)``."""
    from ..release.quality import measured_table

    args.file = stdin_file(args.file)
    if args.out:
        out_files(args, inputs=(args.file,))
    return measured_table(
        args.file, fields, normalise_columns=args.normalise, sep=args.sep, sheet=args.sheet
    )


def progress_flag(args: argparse.Namespace) -> bool:
    return sys.stderr.isatty() if args.progress is None else bool(args.progress)


def warn(args: argparse.Namespace, quality: dict | None) -> None:
    """The data-quality block of the figures on stderr, from the block the outputs carry (so
    never stale: after --normalise, what is still messy, not what was fixed): a note per
    normalised column, a warning per finding and per upper bound (counts only, no values)."""
    lines = _render.quality_lines(quality, quiet=True)
    serious = bool(quality and (quality.get("findings") or quality.get("upper_bound")))
    for line in lines:
        kind = "warning" if serious and not line.startswith("normalised:") else "note"
        print(f"riskcalc {args.command}: {kind}: {line}", file=sys.stderr)


def write_stdout(text: str) -> None:
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        enc = getattr(sys.stdout, "encoding", None) or "unknown"
        raise UsageError(
            f"the output holds characters the terminal's encoding ({enc}) cannot show; set "
            "PYTHONIOENCODING=utf-8 or write to a file with --out."
        ) from None


# ---------------------------------------------------------------------------------------------
# --out FILE: the table and its provenance sidecar
# ---------------------------------------------------------------------------------------------


def out_files(args: argparse.Namespace, inputs=()) -> list[Path]:
    """The files ``--out`` will write (the file, and its provenance sidecar unless JSON), checked
    against the inputs and the folder before any work is done."""
    from .._outputs import check_name_length, check_not_input

    out = Path(args.out)
    if out.is_dir():
        raise UsageError(f"--out {str(out)!r} is a folder; give the name of the file to write.")
    targets = [out] + (
        [out.with_name(out.name + ".provenance.json")] if args.format != "json" else []
    )
    for target in targets:
        check_name_length(target)
        check_not_input(target, inputs)
        if target.exists() and not args.force:
            raise UsageError(f"{str(target)!r} exists already; add --force to replace it.")
    return targets


def emit(text: str, args: argparse.Namespace, prov: dict, inputs=()) -> None:
    """Print ``text``, or write it to ``--out`` with its provenance sidecar, as one set."""
    if not args.out:
        write_stdout(text)
        return
    from .._outputs import write_files

    targets = out_files(args, inputs)
    contents = [text, json.dumps(prov, indent=2, sort_keys=True) + "\n"]
    write_files(dict(zip(targets, contents)), force=args.force)
    print(f"wrote {targets[0]}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# --out DIR: a set of files, manifest.json last
# ---------------------------------------------------------------------------------------------


def prepare_out(args: argparse.Namespace, inputs=()) -> Path | None:
    """Check ``--out`` before the work starts (again, under a lock, when the set is written)."""
    from .._outputs import check_folder_out

    args.out_inputs = tuple(inputs)
    return check_folder_out(args.out, force=args.force, inputs=args.out_inputs)


def finish_folder(
    args: argparse.Namespace, out: Path | None, files: dict, text: str, *, newline: bool = False
) -> int:
    """Write the set (atomically, manifest last, under a lock) and then print ``text`` (with a
    newline after it when ``newline``), or print it only when there is no ``--out``."""
    if out is not None:
        from .._outputs import write_folder

        write_folder(
            out,
            files,
            force=args.force,
            inputs=getattr(args, "out_inputs", ()),
            command=args.command,
        )
    if newline:
        print(text)
    else:
        write_stdout(text)
    if out is not None:
        print(f"wrote {len(files)} files and manifest.json to {out}", file=sys.stderr)
    return 0


def finish_job(result, args: argparse.Namespace, out: Path | None) -> int:
    """The end of ``tiers`` and ``report``: the table on stdout in ``--format``, the set in
    ``--out``."""
    table = result.table
    if args.format == "markdown":
        text = table.to_markdown()
    elif args.format == "json":
        text = table.to_json()
    elif args.format == "csv":
        text = table.to_csv()["records"]
    elif args.format == "latex":
        text = table.to_latex()
    else:
        from ..release.tables import _display

        text = _render.text_quality(table.provenance) + _render.to_text(_display(table.headline()))
    if result.coarsening is not None:
        from ..release.job import describe_coarsening

        print(
            f"riskcalc {args.command}: {describe_coarsening(result.coarsening)}",
            file=sys.stderr,
        )
    return finish_folder(args, out, result.files() if out is not None else {}, text)
