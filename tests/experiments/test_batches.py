"""Replications travel in batches: fewer messages for short replications, the same results whatever the
batch, and a replication that raises reported alone while the rest of its batch runs."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.executors import SerialExecutor, process_executor
from sim.experiment import runner, tasks
from sim.experiment.tasks import (
    MAX_BATCH,
    ReplicationOutput,
    ReplicationTask,
    ScenarioNotLoaded,
    TaskFailure,
    run_batch,
    run_task,
)
from sim.provenance import scenario_digest

from .helpers import assert_same_tree


def _fails_on_2(task: ReplicationTask) -> ReplicationOutput:
    if task.replication == 2:
        raise ValueError("injected failure")
    return run_task(task)


def test_a_batch_gives_each_task_its_own_output(tiny_horizon: sim.Scenario) -> None:
    digest, text = scenario_digest(tiny_horizon), tiny_horizon.to_toml()
    tasks._LOADED.clear()
    batch = [ReplicationTask(digest, 5, r, scenario_toml=text if r == 0 else None) for r in range(4)]
    out = run_batch(batch, _fails_on_2)
    assert len(out.results) == 4 and out.seconds > 0
    failed = out.results[2]
    assert isinstance(failed, TaskFailure) and failed.error == "ValueError: injected failure"
    assert "_fails_on_2" in failed.traceback, "the worker's own traceback comes back"
    for r in (0, 1, 3):
        alone = run_task(ReplicationTask(digest, 5, r))
        result = out.results[r]
        assert isinstance(result, ReplicationOutput) and result.replication == r
        assert result.summary == alone.summary and result.checkpoint == alone.checkpoint


def test_a_batch_whose_scenario_is_missing_runs_nothing(tiny_horizon: sim.Scenario) -> None:
    calls: list[int] = []

    def counted(task: ReplicationTask) -> ReplicationOutput:
        calls.append(task.replication)
        return run_task(task)

    digest = scenario_digest(tiny_horizon)
    tasks._LOADED.clear()
    with pytest.raises(ScenarioNotLoaded):
        run_batch([ReplicationTask(digest, 1, 0), ReplicationTask(digest, 1, 1)], counted)
    assert calls == []
    with pytest.raises(ValueError, match="at most"):
        run_batch([ReplicationTask(digest, 1, r) for r in range(MAX_BATCH + 1)])


class CountingPool(ThreadPoolExecutor):
    """Two threads; counts the batches it is given and the replications in them."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.sizes: list[int] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.sizes.append(len(args[0]))
        return super().submit(fn, *args, **kwargs)


def test_short_replications_go_in_batches_with_the_same_bytes(
    tiny_horizon: sim.Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "BATCH_SECONDS", 60.0)  # every replication "short", however slow the machine
    sim.run_experiment(tiny_horizon, reps=60, seed=7, executor=SerialExecutor(), out=tmp_path / "serial")
    with CountingPool() as pool:
        sim.run_experiment(tiny_horizon, reps=60, seed=7, executor=pool, out=tmp_path / "batched")
    assert_same_tree(tmp_path / "serial", tmp_path / "batched")
    assert sum(pool.sizes) == 60
    # single replications until the first come back, then batches; the last ones small again
    assert pool.sizes[0] == 1 and max(pool.sizes) > 1 and len(pool.sizes) < 60, pool.sizes
    assert pool.sizes[-1] <= 2, pool.sizes


def test_serially_each_replication_is_its_own_task(tiny_horizon: sim.Scenario) -> None:
    sizes: list[int] = []

    class Counting(SerialExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
            sizes.append(len(args[0]))
            return super().submit(fn, *args, **kwargs)

    sim.run_experiment(tiny_horizon, reps=6, seed=1, executor=Counting())
    assert sizes == [1] * 6


def test_a_failure_in_a_batch_on_worker_processes_is_reported_alone(
    tiny_horizon: sim.Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "run_task", _fails_on_2)  # forked workers inherit the patch
    with process_executor(2) as ex, pytest.raises(sim.ExperimentError) as info:
        sim.run_experiment(tiny_horizon, reps=30, seed=1, out=tmp_path / "exp", executor=ex)
    err = info.value
    assert [f.replication for f in err.failures] == [2] and err.completed == 29
    assert "injected failure" in err.failures[0].traceback
