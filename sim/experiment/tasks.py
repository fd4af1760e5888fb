"""One replication as a task that can run anywhere: plain data in, compact results out.

A :class:`ReplicationTask` carries the scenario's digest, the seed and the replication index, and the
resolved scenario as TOML text only until the workers have it: a worker parses a scenario once and keeps
it, keyed by its digest, for every later replication of it (:func:`run_task`). A worker that has not
seen the scenario (a new or restarted one) answers :class:`ScenarioNotLoaded`, and the runner sends
that task again with the text.

:func:`run_task` returns the replication's summary and its monthly time series: for an experiment
with a folder, as its checkpoint, Parquet bytes with the summary in the footer (:func:`checkpoint_bytes`),
a few kilobytes, encoded on the worker and written to disk as they are; for one kept in memory, as the
frame itself (cheaper than encoding it). Not its event log, which stays on the worker unless the
experiment keeps events, and then travels as Parquet bytes too. The summary comes straight from the event log
(:meth:`sim.RunResult.summary`), without the firm table.

An evaluation that needs only summary metrics (a point of a sensitivity design, a draw of a probabilistic
comparison, a calibration step) asks for no time series (``ReplicationTask.timeseries = False``): the
worker then builds no table at all, and the checkpoint holds the summary alone (an empty Parquet table
with the summary in its footer). Metrics the summary lacks are computed on the worker by a
:class:`Measure` and added to the summary under names of its own.

Replications travel in batches (:func:`run_batch`): one message there and one back for several short
replications, so a pool's messages and wake-ups do not cost more than the replications themselves. A
batch is only a way to carry tasks: each replication's output is the same whatever batch it ran in,
and a replication that raises is reported alone (:class:`TaskFailure`) while the rest of its batch runs.
"""

from __future__ import annotations

import json
import time
import tomllib
import traceback
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..api import run
from ..files import parquet_bytes
from ..scenario import Scenario, parse_scenario
from ..summary import RunSummary

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = [
    "MAX_BATCH",
    "BatchOutput",
    "Measure",
    "ReplicationOutput",
    "ReplicationTask",
    "ScenarioNotLoaded",
    "TaskFailure",
    "checkpoint_bytes",
    "parquet_bytes",
    "read_checkpoint",
    "run_batch",
    "run_task",
    "summary_text",
]

SUMMARY_KEY = b"incuchain.summary"
"""Key of the summary (JSON) in a checkpoint's Parquet footer."""


class ScenarioNotLoaded(LookupError):
    """The worker does not hold the task's scenario: send the task again with its text."""

    def __init__(self, digest: str) -> None:
        self.digest = digest
        super().__init__(f"scenario {digest[:12]} is not loaded on this worker")

    def __reduce__(self) -> tuple[Any, ...]:  # crosses process boundaries with its digest
        return (ScenarioNotLoaded, (self.digest,))


class Measure(Protocol):
    """Metrics a summary lacks, computed on the worker from a replication and added to its summary.

    Implementations are frozen dataclasses defined at module level (so they travel to any worker), whose
    :meth:`describe` goes into the experiment's manifest: a resume with another measure is refused.
    """

    def __call__(self, res: RunResult) -> Mapping[str, float]:
        """``{metric name: value}`` for one replication (names must not clash with the summary's keys)."""
        ...

    def describe(self) -> dict[str, Any]:
        """What the measure computes, JSON-ready (the same value for the same metrics, run after run)."""
        ...


@dataclass(frozen=True)
class ReplicationTask:
    """What one replication needs: a pure function of these fields.

    Attributes
    ----------
    scenario_digest:
        SHA-256 of the resolved scenario (:func:`sim.provenance.scenario_digest`): the key workers keep it by.
    seed:
        Root seed.
    replication:
        Replication index (selects the random streams).
    keep_events:
        Also return the event log and the firm table as Parquet bytes.
    scenario_toml:
        The resolved scenario (:meth:`sim.Scenario.to_toml`), or ``None`` once the workers hold it.
    checkpoint:
        Return the time series as checkpoint bytes (an experiment with a folder) rather than a frame.
    timeseries:
        Build the monthly time series; ``False`` for an evaluation that reads only the summary (the
        checkpoint then holds the summary alone, and no frame comes back).
    measure:
        Further metrics to compute on the worker and add to the summary (see :class:`Measure`).
    """

    scenario_digest: str
    seed: int
    replication: int
    keep_events: bool = False
    scenario_toml: str | None = None
    checkpoint: bool = True
    timeseries: bool = True
    measure: Measure | None = None


@dataclass(frozen=True)
class ReplicationOutput:
    """What a replication sends back.

    Attributes
    ----------
    replication:
        Replication index.
    summary:
        :meth:`sim.RunResult.summary`.
    checkpoint:
        :attr:`sim.RunResult.timeseries` (per month and stage; none when the task asked for no time
        series) with the summary, as Parquet bytes (:func:`checkpoint_bytes`), when the task asked for
        a checkpoint; else ``None``.
    frame:
        The time series itself, when the task asked for it without a checkpoint; else ``None``.
    events_parquet, firms_parquet:
        The event log and the firm table as Parquet files (only when the task kept events).
    simulation_seconds:
        Wall time of the simulation on the worker (provenance only; never part of a table).
    """

    replication: int
    summary: RunSummary
    checkpoint: bytes | None
    frame: pd.DataFrame | None
    events_parquet: bytes | None
    firms_parquet: bytes | None
    simulation_seconds: float

    @property
    def timeseries(self) -> pd.DataFrame | None:
        """The time series (read from :attr:`checkpoint` when it came as one); ``None`` when the task
        asked for none."""
        if self.checkpoint is None:
            return self.frame
        frame = read_checkpoint(self.checkpoint)[1]
        return frame if frame is not None and len(frame.columns) else None


def summary_text(summary: RunSummary) -> str:
    """A summary as JSON text (:meth:`~sim.summary.RunSummary.to_json`), metrics in their own order
    (stages in chain order, not alphabetical)."""
    return json.dumps(summary.to_json())


def checkpoint_bytes(summary: RunSummary, timeseries: pd.DataFrame | None) -> bytes:
    """A replication's checkpoint: its time series as Parquet (zstd; a table without columns when it has
    none), its summary (JSON) in the footer's key-value metadata. The same inputs give the same bytes on
    any worker."""
    table = pa.table({}) if timeseries is None else pa.Table.from_pandas(timeseries, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[SUMMARY_KEY] = summary_text(summary).encode()
    buf = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(meta), buf, compression="zstd")
    return bytes(buf.getvalue().to_pybytes())


def read_checkpoint(data: bytes, frame: bool = True) -> tuple[RunSummary, pd.DataFrame | None]:
    """``(summary, timeseries)`` from checkpoint bytes (``None`` for the frame unless ``frame``).

    Raises ``OSError``, ``KeyError``, ``TypeError``, ``ValueError`` or ``pyarrow.ArrowException`` on bytes
    that are not one.
    """
    summary = RunSummary.from_json(json.loads(pq.read_schema(pa.BufferReader(data)).metadata[SUMMARY_KEY]))
    table = pq.read_table(pa.BufferReader(data)).to_pandas() if frame else None
    return summary, table


_LOADED: OrderedDict[str, Scenario] = OrderedDict()
"""Scenarios this process holds, by digest, most recently used last (at most :data:`_KEEP`)."""

_KEEP = 32

MAX_BATCH = _KEEP
"""Most replications in one batch: no more scenarios than a worker keeps, so that none a batch needs is
dropped before it runs."""


def _scenario(task: ReplicationTask) -> Scenario:
    """The task's scenario: the one this worker holds, or parsed (once) from the text the task carries."""
    sc = _LOADED.get(task.scenario_digest)
    if sc is None:
        if task.scenario_toml is None:
            raise ScenarioNotLoaded(task.scenario_digest)
        sc = parse_scenario(tomllib.loads(task.scenario_toml))
        _LOADED[task.scenario_digest] = sc
        while len(_LOADED) > _KEEP:
            _LOADED.popitem(last=False)
    else:
        _LOADED.move_to_end(task.scenario_digest)
    return sc


def run_task(task: ReplicationTask) -> ReplicationOutput:
    """Run one replication (on whichever worker the executor chose).

    Parameters
    ----------
    task:
        The scenario (digest, and text until the worker holds it), seed and replication index.

    Returns
    -------
    ReplicationOutput
        Summary and checkpoint; events too when ``task.keep_events``.

    Raises
    ------
    ScenarioNotLoaded
        The task carries no text and this worker does not hold the scenario.
    """
    res = run(_scenario(task), seed=task.seed, replication=task.replication)
    summary = res.summary()
    if task.measure is not None:
        extra = task.measure(res)
        clash = sorted(set(extra) & set(summary))
        if clash:
            raise ValueError(f"measure {task.measure.describe()}: names already in the summary: {', '.join(clash)}")
        summary = replace(summary, metrics={**summary.metrics, **extra})
    timeseries = res.timeseries if task.timeseries else None  # built only when asked for
    return ReplicationOutput(
        replication=task.replication,
        summary=summary,
        checkpoint=checkpoint_bytes(summary, timeseries) if task.checkpoint else None,
        frame=None if task.checkpoint else timeseries,
        events_parquet=parquet_bytes(res.events_arrow()) if task.keep_events else None,
        firms_parquet=parquet_bytes(res.firms) if task.keep_events else None,
        simulation_seconds=res.wall_seconds,
    )


@dataclass(frozen=True)
class TaskFailure:
    """A replication of a batch that raised: what the runner reports about it (the exception itself
    need not survive the trip back).

    Attributes
    ----------
    error:
        ``ExceptionType: message``.
    traceback:
        The traceback as formatted on the worker.
    """

    error: str
    traceback: str

    @classmethod
    def of(cls, exc: BaseException) -> TaskFailure:
        """``ExceptionType: message`` and the formatted traceback of ``exc``."""
        return cls(f"{type(exc).__name__}: {exc}", "".join(traceback.format_exception(exc)))


@dataclass(frozen=True)
class BatchOutput:
    """What a batch sends back: one result per task, in the tasks' order, and the batch's wall seconds on
    the worker (what the runner sizes later batches by; never part of a table)."""

    results: tuple[ReplicationOutput | TaskFailure, ...]
    seconds: float


def run_batch(
    batch: Sequence[ReplicationTask], run_one: Callable[[ReplicationTask], ReplicationOutput] = run_task
) -> BatchOutput:
    """Run several replications one after another on one worker.

    Parameters
    ----------
    batch:
        At most :data:`MAX_BATCH` tasks. Each scenario's text need come with only one of its tasks.
    run_one:
        How one task runs (:func:`run_task`).

    Returns
    -------
    BatchOutput
        Each task's output, or a :class:`TaskFailure` for one that raised an ``Exception``.

    Raises
    ------
    ScenarioNotLoaded
        A task's scenario is neither held by this worker nor carried by the batch; nothing has run.
    """
    started = time.perf_counter()
    if len(batch) > MAX_BATCH:
        raise ValueError(f"a batch holds at most {MAX_BATCH} tasks, got {len(batch)}")
    for task in batch:  # every scenario in place before anything runs; none is dropped while it runs
        if task.scenario_toml is not None:
            _scenario(task)
    for task in batch:
        _scenario(task)
    results: list[ReplicationOutput | TaskFailure] = []
    for task in batch:
        try:
            results.append(run_one(task))
        except Exception as exc:
            results.append(TaskFailure.of(exc))
    return BatchOutput(tuple(results), time.perf_counter() - started)
