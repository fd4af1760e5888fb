"""Writing a run's files: tables, the resolved scenario, the summary and provenance metadata.

Tables are written so that the same scenario and seed give byte-identical files; everything that
varies from run to run (wall time, machine, date) goes to ``meta.json`` only.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .files import RUN_FILES, claim_folder, json_text, output_error, parquet_bytes
from .provenance import provenance, scenario_digest
from .results import RunResult

__all__ = ["write_run"]


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
    summary = json_text(res.summary().to_json())  # before anything is written: non-finite numbers stop here
    contents: dict[str, bytes] = {
        "events.parquet": parquet_bytes(res.events_arrow()),
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
