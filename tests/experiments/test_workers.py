"""Warm workers: a worker parses each scenario once and keeps it; tasks carry its text only until then."""

from __future__ import annotations

import dataclasses
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.executors import SerialExecutor, process_executor
from sim.experiment import tasks
from sim.experiment.tasks import ReplicationTask, ScenarioNotLoaded, run_task
from sim.provenance import scenario_digest

from .helpers import assert_same_tree


def test_a_worker_without_the_scenario_asks_for_it(short: sim.Scenario) -> None:
    digest = scenario_digest(short)
    tasks._LOADED.clear()
    with pytest.raises(ScenarioNotLoaded):
        run_task(ReplicationTask(digest, 1, 0))
    first = run_task(ReplicationTask(digest, 1, 0, scenario_toml=short.to_toml()))
    again = run_task(ReplicationTask(digest, 1, 0))  # held now: no text needed
    assert again.summary == first.summary and again.checkpoint == first.checkpoint
    assert list(tasks._LOADED) == [digest]


class ForgetfulExecutor(SerialExecutor):
    """Every call runs on a 'new worker' that holds no scenario, as after a restart: each task without the
    text misses, and must come back with it."""

    def __init__(self) -> None:
        super().__init__()
        self.texts = 0
        self.calls = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        tasks._LOADED.clear()
        self.calls += 1
        self.texts += sum(task.scenario_toml is not None for task in args[0])  # a batch of tasks
        return super().submit(fn, *args, **kwargs)


def test_tasks_that_miss_are_sent_again_with_the_text(short: sim.Scenario, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    sim.run_experiment(short, reps=4, seed=3, executor=SerialExecutor(), out=reference)
    forgetful = ForgetfulExecutor()
    sim.run_experiment(short, reps=4, seed=3, executor=forgetful, out=tmp_path / "forgetful")
    assert_same_tree(reference, tmp_path / "forgetful")
    # serially one task is in flight: the first carries the text, the other three miss once each
    assert (forgetful.calls, forgetful.texts) == (7, 4)


def test_results_travel_as_a_summary_and_checkpoint_bytes_or_a_frame(short: sim.Scenario) -> None:
    task = ReplicationTask(scenario_digest(short), 1, 2, scenario_toml=short.to_toml())
    out = run_task(task)  # an experiment with a folder: the checkpoint, encoded on the worker
    assert isinstance(out.checkpoint, bytes) and out.frame is None and out.events_parquet is None
    in_memory = run_task(dataclasses.replace(task, checkpoint=False))
    assert in_memory.checkpoint is None and in_memory.frame is not None
    one = sim.run(short, seed=1, replication=2)
    assert out.summary == in_memory.summary == one.summary()
    assert out.timeseries.equals(one.timeseries) and in_memory.timeseries.equals(one.timeseries)


def test_process_workers_without_the_text_give_the_same_bytes(short: sim.Scenario, tmp_path: Path) -> None:
    # 2 workers: the first 8 tasks carry the text, the other 12 only the digest
    sim.run_experiment(short, reps=20, seed=4, executor=SerialExecutor(), out=tmp_path / "serial")
    tasks._LOADED.clear()  # forked workers start with nothing loaded
    with process_executor(2) as ex:
        sim.run_experiment(short, reps=20, seed=4, executor=ex, out=tmp_path / "pool")
    assert_same_tree(tmp_path / "serial", tmp_path / "pool")
