"""Running replications of one or more scenarios on any executor, with checkpoints and resume.

Replication ``r`` of every arm uses the engine's replication ``r`` (plus the arm's offset), so arms
share their random numbers and differences between them are paired. Tasks go to the executor as plain
data and come back in any order; the tables are always put together in (arm, replication) order, from
the same bytes, so the executor and the number of workers never change a result.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from ..executors import SerialExecutor, describe_executor, parallelism
from ..files import atomic_write_text, write_json
from ..provenance import provenance
from ..scenario import Scenario
from ..summary import RunSummary
from .arms import Arm, make_arms
from .options import RunOptions, Timing, resolve_options
from .store import ExperimentStore, summary_text
from .tables import Layout, csv_text, decorate_timeseries, stats_table, summary_table, write_csv_stream
from .tasks import (
    MAX_BATCH,
    BatchOutput,
    Measure,
    ReplicationOutput,
    ReplicationTask,
    ScenarioNotLoaded,
    TaskFailure,
    run_batch,
    run_task,
)

__all__ = ["ExperimentError", "ExperimentResult", "ReplicationFailure", "RunOptions", "Timing", "run_experiment"]

"""Called once, when the first replications are in (as many as run at once, at least two), with the wall
seconds per replication so far: times the replications still to run, an estimate of the time left."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplicationFailure:
    """A replication that raised, or was lost with its worker.

    Attributes
    ----------
    arm:
        The arm's label.
    scenario:
        The scenario's name.
    replication:
        The engine's replication index.
    error:
        ``ExceptionType: message``.
    traceback:
        The formatted traceback (the worker's, where the executor passes it on).
    """

    arm: str
    scenario: str
    replication: int
    error: str
    traceback: str = field(repr=False, default="")

    def line(self) -> str:
        """One line for the terminal."""
        return f"replication {self.replication} of {self.scenario!r} (arm {self.arm}) failed: {self.error}"


class ExperimentError(RuntimeError):
    """Some replications failed; the others are kept (on disk when the experiment has a folder).

    Attributes
    ----------
    failures:
        The failed replications, in (arm, replication) order.
    completed:
        How many replications finished.
    out:
        The experiment's folder, or ``None``.
    """

    def __init__(self, failures: Sequence[ReplicationFailure], completed: int, out: Path | None) -> None:
        self.failures = list(failures)
        self.completed = completed
        self.out = out
        lines = [f.line() for f in self.failures]
        where = f"kept in {out}; run again with --resume to compute only the missing ones" if out else "discarded"
        lines.append(f"{completed} finished replications are {where}")
        self.lines = lines
        super().__init__("\n".join(lines))


class ExperimentResult:
    """Tables of an experiment, in (arm, replication) order.

    Attributes
    ----------
    arms:
        The experiment's arms.
    reps, seed:
        Replications per arm and the root seed.
    summary:
        One row per replication (see :mod:`sim.experiment.tables`).
    stats:
        Per arm and metric: ``n``, ``mean``, ``sd``, ``se``, ``ci_low``, ``ci_high``, ``note``.
    out:
        The folder holding the files, or ``None`` for an experiment kept in memory.
    meta:
        Provenance: executor, wall time, how many replications were computed or reused.
    has_timeseries:
        Whether the replications built their time series (``False`` for summary-only evaluations).
    """

    def __init__(
        self,
        arms: tuple[Arm, ...],
        reps: int,
        seed: int,
        summary: pd.DataFrame,
        stats: pd.DataFrame,
        out: Path | None,
        meta: dict[str, Any],
        frames: dict[tuple[int, int], pd.DataFrame] | None = None,
        store: ExperimentStore | None = None,
        has_timeseries: bool = True,
    ) -> None:
        self.arms = arms
        self.reps = reps
        self.seed = seed
        self.summary = summary
        self.stats = stats
        self.out = out
        self.meta = meta
        self._frames = frames
        self._store = store
        self._layout = Layout(arms)
        self.has_timeseries = has_timeseries

    def iter_timeseries(self) -> Iterator[pd.DataFrame]:
        """Each replication's time series (identity columns included), one at a time, in order.

        Raises
        ------
        ValueError
            The experiment ran its replications for their summaries only.
        """
        if not self.has_timeseries:
            raise ValueError("this experiment holds summaries only, no time series")
        for a, arm in enumerate(self.arms):
            for r in range(self.reps):
                if self._frames is not None:
                    frame = self._frames[(a, r)]
                else:
                    if self._store is None:
                        raise ValueError("this experiment holds summaries only, no time series")
                    loaded = self._store.load(a, r)[1]
                    assert loaded is not None
                    frame = loaded
                yield decorate_timeseries(self._layout, arm, frame)

    @functools.cached_property
    def timeseries(self) -> pd.DataFrame:
        """Every replication's monthly time series in one frame (read from disk on first use)."""
        return pd.concat(list(self.iter_timeseries()), ignore_index=True)

    def values(self, arm: str | int, metric: str) -> pd.Series:
        """One metric across the replications of one arm (by label or index), in replication order."""
        label = arm if isinstance(arm, str) else self.arms[arm].label
        rows = self.summary[self.summary["arm"] == label] if len(self.arms) > 1 else self.summary
        if metric not in rows.columns:
            raise KeyError(f"no metric {metric!r}; known: {', '.join(self.metrics)}")
        return rows[metric].astype(float).reset_index(drop=True)

    @property
    def metrics(self) -> list[str]:
        """The metric columns of :attr:`summary`."""
        ident = set(self._layout.identity(self.arms[0])) | {"seed", "replication"}
        return [c for c in self.summary.columns if c not in ident]

    def __repr__(self) -> str:
        return (
            f"ExperimentResult(arms={[a.label for a in self.arms]}, reps={self.reps}, seed={self.seed}, "
            f"out={str(self.out) if self.out else None!r})"
        )


def _progress_enabled(progress: bool | None) -> bool:
    if progress is not None:
        return progress
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _failure(arm: Arm, replication: int, exc: BaseException) -> ReplicationFailure:
    described = TaskFailure.of(exc)
    error = described.error
    if isinstance(exc, BrokenProcessPool):
        error = "lost when a worker process died (BrokenProcessPool); it may be the one that crashed it"
    return ReplicationFailure(arm.label, arm.scenario.name, replication, error, described.traceback)


BATCH_SECONDS = 0.1
"""Work a batch of replications aims at on a worker once their length is known: enough that a pool's
messages cost little beside it, little enough that a checkpoint is never far behind."""


def _execute(
    arms: tuple[Arm, ...],
    todo: list[tuple[int, int]],
    seed: int,
    keep_events: bool,
    executor: Executor,
    workers: int,
    on_result: Callable[[int, int, ReplicationOutput], None],
    bar: Any,
    timing: Timing | None = None,
    checkpoint: bool = True,
    timeseries: bool = True,
    measure: Measure | None = None,
) -> tuple[list[ReplicationFailure], float]:
    """Submit ``todo`` to ``executor`` (which runs ``workers`` tasks at once) and hand each result to
    ``on_result``; ``checkpoint``: results with checkpoint bytes (an experiment with a folder) or with
    frames; ``timeseries`` and ``measure``: as :class:`ReplicationTask` has them.

    Serially, one replication at a time, each saved as soon as it is done. Otherwise a few batches per
    worker are in flight (:func:`~sim.experiment.tasks.run_batch`): single replications until the first
    come back, then batches of about :data:`BATCH_SECONDS` of work each, fewer replications per batch as
    the end nears so that the workers finish together (guided self-scheduling: at most the replications
    not yet sent over twice the workers).

    The first batches of each arm carry the scenario's text, which reaches every worker that takes one;
    later ones carry only its digest. A worker that does not hold it yet (one that joined or restarted
    later) answers :class:`ScenarioNotLoaded`, and that batch goes again with the text.
    """
    serial = isinstance(executor, SerialExecutor)
    window = 1 if serial else 2 * workers  # batches in flight
    failures: list[ReplicationFailure] = []
    sim_seconds = 0.0
    pending: dict[Future[BatchOutput], list[tuple[int, int]]] = {}
    queue = deque(todo)
    broken = False
    sent_text = [0] * len(arms)
    started = time.perf_counter()
    finished = 0
    first = min(len(todo), max(2, workers))
    timed = timing is None
    worker_seconds = 0.0
    worker_reps = 0

    def batch_size() -> int:
        if serial or worker_reps == 0:
            return 1
        per_replication = worker_seconds / worker_reps
        by_time = int(BATCH_SECONDS / per_replication) if per_replication > 0 else MAX_BATCH
        guided = -(-len(queue) // (2 * workers))
        return max(1, min(by_time, guided, MAX_BATCH))

    def submit(items: list[tuple[int, int]], texts: Sequence[bool]) -> None:
        batch = tuple(
            ReplicationTask(
                arms[a].digest,
                seed,
                arms[a].replication(r),
                keep_events,
                arms[a].toml if text else None,
                checkpoint,
                timeseries,
                measure,
            )
            for (a, r), text in zip(items, texts, strict=True)
        )
        # run_task is read here, at each submission, so that what runs one replication can be swapped
        pending[executor.submit(run_batch, batch, run_task)] = items

    def submit_more() -> None:
        while not broken and len(pending) < window and queue:
            items = [queue.popleft() for _ in range(min(batch_size(), len(queue)))]
            flags = []  # each arm's text at most once a batch, in its first few batches
            carried: set[int] = set()
            for a, _ in items:
                flags.append(a not in carried and sent_text[a] < window)
                carried.add(a)
            for a in carried:
                sent_text[a] += 1
            submit(items, flags)

    def fail(failure: ReplicationFailure) -> None:
        log.error("replication %d of %s failed: %s", failure.replication, failure.arm, failure.error)
        failures.append(failure)

    try:
        submit_more()
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: pending[f][0]):
                items = pending.pop(fut)
                try:
                    output = fut.result()
                except ScenarioNotLoaded:
                    submit(items, [True] * len(items))
                    continue
                except BrokenProcessPool as exc:
                    broken = True
                    failures.extend(_failure(arms[a], arms[a].replication(r), exc) for a, r in items)
                except Exception as exc:
                    for a, r in items:
                        fail(_failure(arms[a], arms[a].replication(r), exc))
                else:
                    worker_seconds += output.seconds
                    worker_reps += len(items)
                    for (a, r), result in zip(items, output.results, strict=True):
                        arm = arms[a]
                        if isinstance(result, TaskFailure):
                            fail(
                                ReplicationFailure(
                                    arm.label, arm.scenario.name, arm.replication(r), result.error, result.traceback
                                )
                            )
                            continue
                        sim_seconds += result.simulation_seconds
                        on_result(a, r, result)
                        bar.update(1)
                        finished += 1
                    if not timed and finished >= first:
                        assert timing is not None
                        timing((time.perf_counter() - started) / finished)
                        timed = True
            submit_more()
    except BaseException:
        for fut in pending:
            fut.cancel()
        raise
    if broken:
        for a, r in queue:
            failures.append(
                ReplicationFailure(
                    arms[a].label, arms[a].scenario.name, arms[a].replication(r), "not run: the worker pool broke"
                )
            )
    failures.sort(key=lambda f: ([x.label for x in arms].index(f.arm), f.replication))
    return failures, sim_seconds


def run_experiment(
    scenarios: Scenario | Arm | Sequence[Scenario | Arm],
    reps: int = 1,
    seed: int = 0,
    *,
    executor: Executor | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    keep_events: bool = False,
    progress: bool | None = None,
    level: float = 0.95,
    timing: Timing | None = None,
    options: RunOptions | None = None,
) -> ExperimentResult:
    """Run ``reps`` replications of each scenario and gather tidy tables.

    Parameters
    ----------
    scenarios:
        A scenario, or several (as scenarios or :class:`Arm` s with labels, swept values and
        replication offsets). Replication ``r`` of every arm uses the same random streams.
    reps:
        Replications per scenario (>= 1).
    seed:
        Root seed (>= 0).
    executor:
        Where replications run (any :class:`concurrent.futures.Executor`; see :mod:`sim.executors`).
        ``None``: serially in this process.
    out:
        Folder for checkpoints and tables (see :mod:`sim.experiment.store`); ``None`` keeps
        everything in memory (no resume, no event files).
    resume:
        Continue the experiment in ``out``: verify what is there, compute only what is missing.
    overwrite:
        Replace an experiment already in ``out``.
    keep_events:
        Also write each replication's event log and firm table (needs ``out``).
    progress:
        Show a progress bar (``None``: when stderr is a terminal). It appears after two seconds.
    level:
        Confidence level of the intervals in :attr:`ExperimentResult.stats`.
    timing:
        Called once, when the first replications are in, with the wall seconds per replication so far
        (:data:`Timing`): what the command line turns into an estimate of the whole before most of it runs.
    options:
        ``executor`` ... ``timing`` as one :class:`~sim.experiment.options.RunOptions` (then give none
        of them as keywords).

    Returns
    -------
    ExperimentResult
        Files in ``out`` (when given): ``summary.csv``, ``summary_stats.csv``, ``timeseries.csv``,
        ``experiment.json``, the resolved scenario(s), ``meta.json`` and ``replications/``.

    Raises
    ------
    ScenarioError
        ``out`` holds another experiment, or a resume does not match it.
    ExperimentError
        Replications failed; the others are kept.
    """
    keywords = RunOptions(executor, out, resume, overwrite, keep_events, progress, timing)
    return execute(
        make_arms(scenarios), reps, seed, kind="run", options=resolve_options(options, keywords), level=level
    )


ExtraTables = Callable[[ExperimentResult], dict[str, pd.DataFrame]]


def execute(
    arms: tuple[Arm, ...],
    reps: int,
    seed: int,
    *,
    kind: str,
    options: RunOptions,
    level: float = 0.95,
    extra_tables: ExtraTables | None = None,
    timeseries: bool = True,
    measure: Measure | None = None,
) -> ExperimentResult:
    """:func:`run_experiment` for prepared arms; ``kind`` (run, compare, sweep) goes to the manifest.

    ``extra_tables`` derives further tables from the result (``{file name: table}``, e.g. the
    effects of a comparison); they are written with the others, before ``meta.json``.

    ``timeseries=False`` runs the replications for their summaries only: no time series is built (on
    the workers or in memory) and no ``timeseries.csv`` is written; the summaries are the same to the
    last bit. ``measure`` adds metrics computed on the workers to every summary
    (:class:`~sim.experiment.tasks.Measure`). Both are recorded in the manifest, so a resume must match.
    """
    executor, out, resume, overwrite = options.executor, options.out, options.resume, options.overwrite
    keep_events, progress, timing = options.keep_events, options.progress, options.timing
    if reps < 1:
        raise ValueError(f"reps: must be >= 1, got {reps}")
    if seed < 0:
        raise ValueError(f"seed: must be >= 0, got {seed}")
    if keep_events and out is None:
        raise ValueError("keep_events needs an output folder (out=...)")
    if resume and out is None:
        raise ValueError("resume needs an output folder (out=...)")
    layout = Layout(arms)
    started = time.perf_counter()
    store = None
    done: dict[tuple[int, int], RunSummary] = {}
    damaged: list[str] = []
    frames: dict[tuple[int, int], pd.DataFrame] | None = None  # time series of an experiment kept in memory
    if out is not None:
        store = ExperimentStore(Path(out), arms, reps, seed, keep_events, kind, timeseries, measure)
        store.open(resume=resume, overwrite=overwrite)
        if resume:
            done, damaged = store.scan()
            log.info("resuming %s: %d of %d replications on disk", out, len(done), reps * len(arms))
    elif timeseries:
        frames = {}
    # Replication-major order: an interrupted experiment has the same replications of every arm.
    todo = [(a, r) for r in range(reps) for a in range(len(arms)) if (a, r) not in done]
    reused = len(done)

    def on_result(a: int, r: int, output: ReplicationOutput) -> None:
        # Keep the summary as a checkpoint gives it back, so fresh and resumed runs build the same tables.
        done[(a, r)] = RunSummary.from_json(json.loads(summary_text(output.summary)))
        if store is not None:
            store.save(a, r, output)
        elif frames is not None:
            frame = output.timeseries
            assert frame is not None
            frames[(a, r)] = frame

    ex: Executor = executor if executor is not None else SerialExecutor()
    with tqdm(
        total=reps * len(arms),
        initial=reused,
        unit="rep",
        desc=kind,
        disable=not _progress_enabled(progress),
        delay=2.0,
        dynamic_ncols=True,
    ) as bar:
        failures, sim_seconds = _execute(
            arms,
            todo,
            seed,
            keep_events,
            ex,
            parallelism(ex),
            on_result,
            bar,
            timing,
            checkpoint=store is not None,
            timeseries=timeseries,
            measure=measure,
        )
    meta: dict[str, Any] = {
        "kind": kind,
        "seed": seed,
        "replications": reps,
        "level": level,
        "arms": [
            {
                "label": a.label,
                "scenario": a.scenario.name,
                "scenario_sha256": a.digest,
                "params": dict(a.params),
                "replication_indices": [a.replication(0), a.replication(reps - 1)],
            }
            for a in arms
        ],
        "executor": describe_executor(ex),
        "computed": len(todo) - len(failures),
        "reused_from_checkpoints": reused,
        "recomputed_damaged": damaged,
        "simulation_seconds": round(sim_seconds, 3),
    }
    if failures:
        meta["failures"] = [
            {"arm": f.arm, "replication": f.replication, "error": f.error, "traceback": f.traceback} for f in failures
        ]
        meta["wall_seconds"] = round(time.perf_counter() - started, 3)
        if store is not None:
            write_json(store.root / "meta.json", provenance(command_name=kind, complete=False, **meta))
        raise ExperimentError(failures, len(done), store.root if store is not None else None)
    ordered = [(arm, done[(a, r)]) for a, arm in enumerate(arms) for r in range(reps)]
    summary = summary_table(layout, ordered)
    stats = stats_table(layout, summary, level)
    root_dir = store.root if store else None
    result = ExperimentResult(arms, reps, seed, summary, stats, root_dir, meta, frames, store, timeseries)
    extra = extra_tables(result) if extra_tables is not None else {}
    if store is not None:
        root = store.root
        atomic_write_text(root / "summary.csv", csv_text(summary))
        atomic_write_text(root / "summary_stats.csv", csv_text(stats))
        for name, table in extra.items():
            atomic_write_text(root / name, csv_text(table))
        if timeseries:
            write_csv_stream(root / "timeseries.csv", result.iter_timeseries())
        meta["wall_seconds"] = round(time.perf_counter() - started, 3)
        files = sorted(p.name for p in root.iterdir() if not p.name.startswith(".") and p.name != "meta.json")
        write_json(
            root / "meta.json", provenance(command_name=kind, complete=True, files=[*files, "meta.json"], **meta)
        )
    else:
        meta["wall_seconds"] = round(time.perf_counter() - started, 3)
    return result
