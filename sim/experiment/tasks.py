"""One replication as a task that can run anywhere: plain data in, compact results out.

A :class:`ReplicationTask` carries the resolved scenario as TOML text (not a live object), the seed
and the replication index, so it pickles in a few kilobytes and means the same thing on any worker.
:func:`run_task` returns the replication's summary and monthly time series -- not its event log,
which stays on the worker unless the experiment keeps events, and then travels as Parquet bytes.
"""

from __future__ import annotations

import functools
import io
import tomllib
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..api import run
from ..scenario import Scenario, parse_scenario

__all__ = ["ReplicationOutput", "ReplicationTask", "parquet_bytes", "run_task"]


@dataclass(frozen=True)
class ReplicationTask:
    """What one replication needs: a pure function of these fields.

    Attributes
    ----------
    scenario_toml:
        The resolved scenario (:meth:`sim.Scenario.to_toml`).
    seed:
        Root seed.
    replication:
        Replication index (selects the random streams).
    keep_events:
        Also return the event log and the firm table as Parquet bytes.
    """

    scenario_toml: str
    seed: int
    replication: int
    keep_events: bool = False


@dataclass(frozen=True)
class ReplicationOutput:
    """What a replication sends back.

    Attributes
    ----------
    replication:
        Replication index.
    summary:
        :meth:`sim.RunResult.summary` (JSON-ready).
    timeseries:
        :attr:`sim.RunResult.timeseries` (per month and stage).
    events_parquet, firms_parquet:
        The event log and the firm table as Parquet files (only when the task kept events).
    simulation_seconds:
        Wall time of the simulation on the worker (provenance only; never part of a table).
    """

    replication: int
    summary: dict[str, object]
    timeseries: pd.DataFrame
    events_parquet: bytes | None
    firms_parquet: bytes | None
    simulation_seconds: float


def parquet_bytes(df: pd.DataFrame) -> bytes:
    """A DataFrame as the bytes of a Parquet file (no index, zstd): the same frame, the same bytes."""
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), buf, compression="zstd")
    return buf.getvalue()


@functools.lru_cache(maxsize=16)
def _scenario(scenario_toml: str) -> Scenario:
    # A worker receives the same text for every replication of a scenario: parse and validate it once.
    return parse_scenario(tomllib.loads(scenario_toml))


def run_task(task: ReplicationTask) -> ReplicationOutput:
    """Run one replication (on whichever worker the executor chose).

    Parameters
    ----------
    task:
        The scenario text, seed and replication index.

    Returns
    -------
    ReplicationOutput
        Summary and time series; events too when ``task.keep_events``.
    """
    res = run(_scenario(task.scenario_toml), seed=task.seed, replication=task.replication)
    return ReplicationOutput(
        replication=task.replication,
        summary=res.summary(),
        timeseries=res.timeseries,
        events_parquet=parquet_bytes(res.events) if task.keep_events else None,
        firms_parquet=parquet_bytes(res.firms) if task.keep_events else None,
        simulation_seconds=res.wall_seconds,
    )
