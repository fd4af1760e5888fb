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

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .results import RunResult
from .scenario import Scenario

__all__ = ["atomic_write_text", "provenance", "scenario_digest", "write_json", "write_parquet", "write_run"]

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


def write_parquet(path: Path, df: pd.DataFrame) -> None:
    """A DataFrame as Parquet (no index), written atomically."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp, compression="zstd")
    os.replace(tmp, path)


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
    write_parquet(paths["events"], res.events)
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
