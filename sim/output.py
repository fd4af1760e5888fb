"""Writing a run's files: tables, the resolved scenario and provenance metadata.

Tables are written so that the same scenario and seed give byte-identical files; everything that
varies from run to run (wall time, machine, date) goes to ``meta.json`` only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import io
import json
import os
import platform
import shutil
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import OutputError
from .event_log import EVENTS, events_frame
from .results import RunResult
from .scenario import Scenario

__all__ = [
    "OWNER_FILE",
    "RUN_FILES",
    "atomic_path",
    "atomic_write_text",
    "claim_folder",
    "events_arrow",
    "folder_lock",
    "provenance",
    "scenario_digest",
    "write_json",
    "write_parquet",
    "write_run",
]

_PACKAGES = ("incuchain", "simpy", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "matplotlib", "tqdm")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a result depends on."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def scenario_digest(scenario: Scenario) -> str:
    """SHA-256 of the resolved scenario text: two runs with the same digest ran the same inputs."""
    return hashlib.sha256(scenario.to_toml().encode()).hexdigest()


def provenance(**extra: Any) -> dict[str, Any]:
    """Versions, machine, time and command line, plus ``extra`` (seed, replications, ...)."""
    return {
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": sys.argv,
        "versions": package_versions(),
        "machine": {
            "node": platform.node(),
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpus": os.cpu_count(),
        },
        **extra,
    }


_USER_ERRNOS = frozenset(
    {errno.ENOENT, errno.EACCES, errno.EPERM, errno.EROFS, errno.EEXIST, errno.ENOTDIR, errno.EISDIR}
)
"""Errors caused by the place the user chose (exit code 2); others (a full disk) are the machine's (1)."""


def output_error(path: Path, exc: OSError, step: str = "writing") -> OutputError:
    """``exc`` as a one-line :class:`OutputError` naming the step and the path."""
    code = 2 if exc.errno in _USER_ERRNOS else 1
    return OutputError(f"{step} {path}: {exc.strerror or exc}", code)


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


def events_arrow(res: RunResult) -> pa.Table:
    """The event log as an Arrow table, straight from its columns: equal (schema, pandas metadata and
    values) to ``pa.Table.from_pandas(res.events, preserve_index=False)`` without building the DataFrame.

    So ``pandas.read_parquet`` of the file gives :attr:`sim.RunResult.events` back.
    """
    cols = res.columns
    n = len(cols["time"])
    if n == 0:
        return pa.Table.from_pandas(res.events, preserve_index=False)
    # the schema (with the pandas metadata) of a one-row frame of the same kind: categories, dtypes
    one = {k: v[:1] for k, v in cols.items()}
    schema = pa.Schema.from_pandas(
        events_frame(one, res.output.stage_names, res.scenario.name, res.replication), preserve_index=False
    )

    def coded(name: str, codes: np.ndarray, categories: list[str]) -> pa.Array:
        kind = schema.field(name).type
        indices = pa.array(codes.astype(kind.index_type.to_pandas_dtype()), mask=codes < 0)
        return pa.DictionaryArray.from_arrays(indices, pa.array(categories, type=kind.value_type))

    arrays = [
        coded("scenario", np.zeros(n, np.int8), [res.scenario.name]),
        pa.array(np.full(n, res.replication, dtype=np.int32)),
        pa.array(cols["time"]),
        pa.array(cols["firm"]),
        coded("event", cols["event"], list(EVENTS)),
        coded("stage", cols["stage"], list(res.output.stage_names)),
        pa.array(cols["carrier"]),
        pa.array(cols["info"]),
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


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
"""The files of a single run (:func:`write_run`)."""

_EXPERIMENT_FILES = (
    "experiment.json",
    "summary.csv",
    "summary_stats.csv",
    "effects.csv",
    "cost_effectiveness.csv",
    "instruments.csv",
)
_SHARED = ("report.html",)
_FOLDERS = ("replications", "scenarios", "figures", "instruments")


def describe_kind(kind: str) -> str:
    """``run`` -> 'a single run'; ``experiment:compare`` -> "an experiment ('compare')"."""
    if kind == "run":
        return "a single run"
    return f"an experiment ({kind.partition(':')[2] or kind!r})"


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
        for name in (*RUN_FILES, *_EXPERIMENT_FILES, *_SHARED):
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
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{out}: exists and is not a folder; choose another --out", 2) from None
    except OSError as exc:
        raise output_error(out, exc, "creating") from None
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
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(out, os.O_RDONLY)
    except FileExistsError:
        raise OutputError(f"{out}: exists and is not a folder; choose another --out", 2) from None
    except OSError as exc:
        raise output_error(out, exc, "creating") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise OutputError(f"{out}: another incuchain command is writing to this folder", 2) from None
        yield
    finally:
        os.close(fd)


def write_run(res: RunResult, out: Path, command: str = "run", overwrite: bool = False) -> dict[str, Path]:
    """Write one replication's files to ``out`` and return their paths.

    Files: ``events.parquet``, ``firms.parquet``, ``timeseries.csv``, ``carriers.csv``,
    ``carrier_events.csv``, ``carrier_counts.csv``, ``ledger.csv``, ``summary.json``,
    ``scenario.resolved.toml``, ``meta.json``. Every file is made in memory and written to a staging
    folder first, then moved in: a failure (a full disk) leaves the folder as it was.

    Raises
    ------
    OutputError
        ``out`` holds another kind of output (see :func:`claim_folder`), or writing failed.
    """
    summary = json_text(res.summary())  # before anything is written: non-finite numbers stop here
    contents: dict[str, bytes] = {
        "events.parquet": parquet_bytes(events_arrow(res)),
        "firms.parquet": parquet_bytes(res.firms),
        "timeseries.csv": res.timeseries.to_csv(index=False, float_format="%.10g").encode(),
        "carriers.csv": res.carriers.to_csv(index=False).encode(),
        "carrier_events.csv": res.carrier_events.to_csv(index=False, float_format="%.10g").encode(),
        "carrier_counts.csv": res.carrier_counts.to_csv(index=False, float_format="%.10g").encode(),
        "ledger.csv": res.ledger.to_csv(index=False, float_format="%.10g").encode(),
        "summary.json": summary.encode(),
        "scenario.resolved.toml": res.scenario.to_toml().encode(),
    }
    contents["meta.json"] = json_text(
        provenance(
            command_name=command,
            scenario=res.scenario.name,
            scenario_sha256=scenario_digest(res.scenario),
            seed=res.seed,
            replications=[res.replication],
            simulation_seconds=round(res.wall_seconds, 4),
            events=len(res.output.log),
            firms=len(res.output.firm_source),
            files=sorted(RUN_FILES),
        )
    ).encode()
    claim_folder(out, "run", res.scenario.name, overwrite)
    staging = out / f".staging.tmp{os.getpid()}"
    try:
        staging.mkdir(exist_ok=True)
        for name, data in contents.items():
            (staging / name).write_bytes(data)
        for name in contents:
            os.replace(staging / name, out / name)
    except OSError as exc:
        raise output_error(out, exc) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {name.split(".")[0]: out / name for name in contents}
