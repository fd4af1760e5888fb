"""Reading an output folder's files for a report: tables, ``meta.json``, kept replications and budget tables."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..api import run
from ..provenance import scenario_digest
from ..scenario import Scenario

LEDGER_FILES = ("ledger.parquet", "ledger.csv")
"""Where a folder's budget ledger is looked for (a table with :data:`sim.plot.budget.LEDGER_COLUMNS`)."""

COST_FILE = "cost_effectiveness.csv"
"""Where a folder's cost-effectiveness table is looked for (:data:`sim.plot.budget.COST_COLUMNS`)."""

INSTRUMENTS_FILE = "instruments.csv"
"""Where a comparison folder's per-instrument table is looked for
(:data:`sim.experiment.instruments.INSTRUMENT_COLUMNS`)."""


def _read_table(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _folder_meta(folder: Path, scenarios: Sequence[Scenario | None]) -> dict[str, Any]:
    """The folder's ``meta.json``, unless it records other scenarios than the results given in memory
    (a report written into a folder that holds another run must not borrow its provenance)."""
    meta = _read_json(folder / "meta.json")
    known = [s for s in scenarios if s is not None]
    if not meta or not known:
        return meta
    recorded = {meta.get("scenario_sha256")} | {a.get("scenario_sha256") for a in meta.get("arms", [])}
    return meta if any(scenario_digest(s) in recorded for s in known) else {}


def _concat(frames: Iterable[pd.DataFrame]) -> pd.DataFrame | None:
    parts = list(frames)
    return pd.concat(parts, ignore_index=True) if parts else None


KEPT_REPLICATIONS = 10
"""Kept event logs and firm tables read for a report: the first ten replications' (enough for the chain
flow's means and pooled survival curves, and a bounded read for large experiments)."""


def _kept(folder: Path, suffix: str, limit: int = KEPT_REPLICATIONS) -> pd.DataFrame | None:
    """The first ``limit`` replications' kept events or firms (``--keep-events``), in replication order."""
    rep_dir = folder / "replications"
    if not rep_dir.is_dir():
        return None
    return _concat(pd.read_parquet(p) for p in sorted(rep_dir.glob(f"rep-*.{suffix}.parquet"))[:limit])


def _budget(folder: Path) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    ledger = next((t for t in (_read_table(folder / n) for n in LEDGER_FILES) if t is not None), None)
    return ledger, _read_table(folder / COST_FILE)


def _replications(meta: Mapping[str, Any], stats: pd.DataFrame | None, ts: pd.DataFrame | None) -> list[int]:
    reps = meta.get("replications")
    if isinstance(reps, list):
        return [int(r) for r in reps]
    if ts is not None and "replication" in ts.columns:
        return sorted(int(r) for r in ts["replication"].unique())
    if isinstance(reps, int):
        return list(range(reps))
    if stats is not None and len(stats):
        return list(range(int(stats["n"].max())))
    return []


FLOW_REPLICATIONS = 3
"""Replications re-simulated for the chain flow of an experiment that kept no events: a replication is
a pure function of (scenario, seed, replication index), so these are the experiment's own."""


def _rerun_events(
    scenario: Scenario | None, seed: int | None, replications: Sequence[int], limit: int = FLOW_REPLICATIONS
) -> pd.DataFrame | None:
    """The event logs of the first ``limit`` replications, simulated again (``None`` without a scenario)."""
    if scenario is None or seed is None or not replications:
        return None
    return _concat(run(scenario, seed=seed, replication=int(r)).events for r in list(replications)[:limit])
