"""Writing a run's files: tables, the resolved scenario and provenance metadata.

Tables are written so that the same scenario and seed give byte-identical files; everything that
varies from run to run (wall time, machine, date) goes to ``meta.json`` only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .event_log import EVENTS, events_frame
from .results import RunResult
from .scenario import Scenario

__all__ = [
    "atomic_write_text",
    "events_arrow",
    "parquet_bytes",
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


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename (never a half-written file)."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_json(path: Path, data: Any) -> None:
    """JSON with sorted keys and a final newline, written atomically."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, allow_nan=False, default=str) + "\n")


def _arrow(table: pd.DataFrame | pa.Table) -> pa.Table:
    return table if isinstance(table, pa.Table) else pa.Table.from_pandas(table, preserve_index=False)


def _write_table(table: pa.Table, where: Any) -> None:
    # Dictionary encoding only where the data is categorical: trying it on every column (the default)
    # costs about as much as the rest of the write and gains nothing on unique floats and paths.
    dictionary = [f.name for f in table.schema if pa.types.is_dictionary(f.type)]
    pq.write_table(table, where, compression="zstd", use_dictionary=dictionary)


def parquet_bytes(table: pd.DataFrame | pa.Table) -> bytes:
    """A table as the bytes of a Parquet file (no index, zstd): the same table, the same bytes."""
    buf = pa.BufferOutputStream()
    _write_table(_arrow(table), buf)
    return bytes(buf.getvalue().to_pybytes())


def write_parquet(path: Path, table: pd.DataFrame | pa.Table) -> None:
    """A DataFrame (no index) or an Arrow table as Parquet, written atomically."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    _write_table(_arrow(table), tmp)
    os.replace(tmp, path)


def events_arrow(res: RunResult) -> pa.Table:
    """The event log as an Arrow table, straight from its columns: equal (schema, pandas metadata and
    values) to ``pa.Table.from_pandas(res.events, preserve_index=False)`` without building the DataFrame.

    So ``pandas.read_parquet`` of the file gives :attr:`sim.RunResult.events` back.
    """
    cols = res.columns
    n = len(cols["time"])
    if n == 0:
        return _arrow(res.events)
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


def write_run(res: RunResult, out: Path, command: str = "run") -> dict[str, Path]:
    """Write one replication's files to ``out`` and return their paths.

    Files: ``events.parquet``, ``firms.parquet``, ``timeseries.csv``, ``carriers.csv``,
    ``carrier_events.csv``, ``carrier_counts.csv``, ``ledger.csv``, ``summary.json``,
    ``scenario.resolved.toml``, ``meta.json``.
    """
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "events": out / "events.parquet",
        "firms": out / "firms.parquet",
        "timeseries": out / "timeseries.csv",
        "carriers": out / "carriers.csv",
        "carrier_events": out / "carrier_events.csv",
        "carrier_counts": out / "carrier_counts.csv",
        "ledger": out / "ledger.csv",
        "summary": out / "summary.json",
        "scenario": out / "scenario.resolved.toml",
        "meta": out / "meta.json",
    }
    write_parquet(paths["events"], events_arrow(res))
    write_parquet(paths["firms"], res.firms)
    atomic_write_text(paths["timeseries"], res.timeseries.to_csv(index=False, float_format="%.10g"))
    atomic_write_text(paths["carriers"], res.carriers.to_csv(index=False))
    atomic_write_text(paths["carrier_events"], res.carrier_events.to_csv(index=False, float_format="%.10g"))
    atomic_write_text(paths["carrier_counts"], res.carrier_counts.to_csv(index=False, float_format="%.10g"))
    atomic_write_text(paths["ledger"], res.ledger.to_csv(index=False, float_format="%.10g"))
    write_json(paths["summary"], res.summary())
    atomic_write_text(paths["scenario"], res.scenario.to_toml())
    write_json(
        paths["meta"],
        provenance(
            command_name=command,
            scenario=res.scenario.name,
            scenario_sha256=scenario_digest(res.scenario),
            seed=res.seed,
            replications=[res.replication],
            simulation_seconds=round(res.wall_seconds, 4),
            events=len(res.output.log),
            firms=len(res.output.firm_source),
            files=sorted(p.name for p in paths.values()),
        ),
    )
    return paths
