"""Files and output folders: atomic writes, JSON and Parquet bytes, who owns a folder, and its lock.

Every file is written to a temporary name and renamed, so a crash or a full disk leaves the previous
file or none, never a half-written one; an :class:`OSError` becomes a one-line :class:`OutputError`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import OutputError

__all__ = [
    "OWNER_FILE",
    "RUN_FILES",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "claim_folder",
    "folder_lock",
    "json_text",
    "make_folder",
    "parquet_bytes",
    "write_json",
    "write_parquet",
]


_USER_ERRNOS = frozenset(
    {errno.ENOENT, errno.EACCES, errno.EPERM, errno.EROFS, errno.EEXIST, errno.ENOTDIR, errno.EISDIR}
)
"""Errors caused by the place the user chose (exit code 2); others (a full disk) are the machine's (1)."""


def output_error(path: Path, exc: OSError, step: str = "writing") -> OutputError:
    """``exc`` as a one-line :class:`OutputError` naming the step and the path."""
    code = 2 if exc.errno in _USER_ERRNOS else 1
    return OutputError(f"{step} {path}: {exc.strerror or exc}", code)


def make_folder(path: Path) -> None:
    """``mkdir -p path``, or a one-line :class:`OutputError`: a file in the way (exit code 2), a place
    that cannot be written (2) or a machine error (1)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{path}: exists and is not a folder; choose another --out", 2) from None
    except OSError as exc:
        raise output_error(path, exc, "creating") from None


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary name beside ``path`` to write to; renamed to ``path`` when the block succeeds.

    On any error the temporary file is removed, so a crash or a full disk leaves the previous file
    or none, never a half-written one; an :class:`OSError` becomes a one-line :class:`OutputError`.
    """
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise output_error(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename (never a half-written file)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename (never a half-written file)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def json_text(data: Any) -> str:
    """JSON with sorted keys and a final newline; non-finite numbers are an error, not ``NaN``."""
    return json.dumps(data, indent=2, sort_keys=True, allow_nan=False, default=str) + "\n"


def write_json(path: Path, data: Any) -> None:
    """JSON with sorted keys and a final newline, written atomically."""
    atomic_write_text(path, json_text(data))


def parquet_bytes(table: pd.DataFrame | pa.Table) -> bytes:
    """A DataFrame (no index) or an Arrow table as Parquet (zstd) in memory: the same table, the same bytes.

    Dictionary encoding only where the data is categorical: trying it on every column (the default)
    costs about as much as the rest of the write and gains nothing on unique floats and paths.
    """
    if not isinstance(table, pa.Table):
        table = pa.Table.from_pandas(table, preserve_index=False)
    dictionary = [f.name for f in table.schema if pa.types.is_dictionary(f.type)]
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", use_dictionary=dictionary)
    return buf.getvalue()


def write_parquet(path: Path, df: pd.DataFrame) -> None:
    """A DataFrame as Parquet (no index), written atomically."""
    atomic_write_bytes(path, parquet_bytes(df))


# -- output folders: who owns them --------------------------------------------------------------

OWNER_FILE = ".incuchain.json"
"""In every output folder: which command and scenario wrote it (``{"kind": ..., "scenario": ...}``)."""

RUN_FILES = (
    "events.parquet",
    "firms.parquet",
    "timeseries.csv",
    "carriers.csv",
    "carrier_events.csv",
    "carrier_counts.csv",
    "ledger.csv",
    "summary.json",
    "scenario.resolved.toml",
    "meta.json",
)
"""The files of a single run (:func:`sim.output.write_run`)."""

_EXPERIMENT_FILES = (
    "experiment.json",
    "summary.csv",
    "summary_stats.csv",
    "effects.csv",
    "cost_effectiveness.csv",
    "instruments.csv",
)
_ANALYSIS_FILES = (
    "decomposition.csv",
    "per_replication.csv",
    "sensitivity.csv",
    "points.csv",
    "parameters.csv",
    "draws.csv",
    "psa_summary.csv",
    "ceac.csv",
    "fit.csv",
    "history.csv",
    "intervals.csv",
    "calibrated.toml",
    "calibration.json",
)
"""Files of ``decompose``, ``run --decompose``, ``sensitivity``, ``psa`` and ``calibrate``."""
_SHARED = ("report.html",)
_FOLDERS = ("replications", "scenarios", "figures", "instruments", "evaluations", "check")


def describe_kind(kind: str) -> str:
    """``run`` -> 'a single run'; ``experiment:compare`` -> "an experiment ('compare')"; ``decompose`` ->
    "the output of 'incuchain decompose'"."""
    if kind == "run":
        return "a single run"
    if ":" not in kind:
        return f"the output of 'incuchain {kind}'"
    return f"an experiment ({kind.partition(':')[2]!r})"


def folder_owner(out: Path) -> dict[str, Any] | None:
    """Who wrote ``out``: its owner file, or for folders written before there was one, their files."""
    for name, read in (
        (OWNER_FILE, lambda d: d),
        ("experiment.json", lambda d: {"kind": f"experiment:{d.get('kind', 'run')}", "scenario": None}),
        ("meta.json", lambda d: {"kind": "run", "scenario": d.get("scenario")} if "events" in d else None),
    ):
        try:
            data = json.loads((out / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            owner = read(data)
            if owner is not None and isinstance(owner.get("kind"), str):
                return owner
    return None


def clear_output(out: Path) -> None:
    """Remove the files and folders incuchain writes (nothing else) from ``out``."""
    try:
        for name in (*RUN_FILES, *_EXPERIMENT_FILES, *_ANALYSIS_FILES, *_SHARED):
            (out / name).unlink(missing_ok=True)
        for name in _FOLDERS:
            if (out / name).is_dir():
                shutil.rmtree(out / name)
    except OSError as exc:
        raise output_error(out, exc, "clearing") from None


def claim_folder(out: Path, kind: str, scenario: str, overwrite: bool = False) -> None:
    """Make ``out`` an output folder of ``kind`` written from ``scenario``, or refuse.

    A folder holding another kind of output (a single run, an experiment of another command) is
    only taken with ``overwrite``, which first removes that output's files. The owner is recorded in
    :data:`OWNER_FILE`.

    Raises
    ------
    OutputError
        ``out`` is not a folder and cannot be made one, or it holds another kind of output.
    """
    make_folder(out)
    owner = folder_owner(out)
    if owner is not None and owner["kind"] != kind:
        if not overwrite:
            raise OutputError(
                f"{out}: holds {describe_kind(owner['kind'])} of {owner.get('scenario') or 'another scenario'!r}; "
                f"writing {describe_kind(kind)} there needs --overwrite (or choose another --out)",
                2,
            )
        clear_output(out)
    if owner != {"kind": kind, "scenario": scenario}:
        write_json(out / OWNER_FILE, {"kind": kind, "scenario": scenario})


@contextlib.contextmanager
def folder_lock(out: Path) -> Iterator[None]:
    """Hold ``out`` for one command: a second command writing to it at the same time is refused.

    An advisory lock (``flock``) on the folder itself, released when the block ends or the process
    dies; created if missing.

    Raises
    ------
    OutputError
        Another process holds the folder, or it cannot be created.
    """
    make_folder(out)
    try:
        fd = os.open(out, os.O_RDONLY)
    except OSError as exc:
        raise output_error(out, exc, "opening") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise OutputError(f"{out}: another incuchain command is writing to this folder", 2) from None
        yield
    finally:
        os.close(fd)
