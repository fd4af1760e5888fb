"""Checkpoints and resume: killed runs, damaged files, changed inputs, failing replications."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.executors import SerialExecutor, process_executor
from sim.experiment import runner
from sim.experiment.store import CheckpointError, ExperimentStore
from sim.experiment.tasks import ReplicationOutput, ReplicationTask, run_task

from .helpers import TUTORIAL, assert_same_tree

KILL_REPS = 40


def _reps_on_disk(out: Path) -> int:
    folder = out / "replications"
    # A replication is finished when its checksum file is there (written last).
    return len(list(folder.glob("rep-*.sha256"))) if folder.exists() else 0


def test_killed_run_resumes_to_identical_files(tmp_path: Path) -> None:
    scenario_file = tmp_path / "three_years.toml"
    scenario_file.write_text(f'extends = "{TUTORIAL.as_posix()}"\n[calendar]\nhorizon_years = 3\n')
    killed, reference = tmp_path / "killed", tmp_path / "reference"
    cmd = [sys.executable, "-m", "sim", "run", str(scenario_file), "--reps", str(KILL_REPS), "--seed", "3"]
    cmd += ["--workers", "2", "--quiet", "--out", str(killed)]
    # Own session, so SIGKILL reaches the worker processes too (as when a job scheduler kills a job).
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _reps_on_disk(killed) < 3:
        assert proc.poll() is None, f"the run ended before it could be killed: {proc.communicate()}"
        assert time.monotonic() < deadline, "no checkpoints after 120 s"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    on_disk = _reps_on_disk(killed)
    assert 3 <= on_disk < KILL_REPS, f"{on_disk} replications on disk when killed: not an interrupted run"
    assert not (killed / "summary.csv").exists(), "a killed run must not leave combined tables"

    sim.run_experiment(sim.load_scenario(scenario_file), reps=KILL_REPS, seed=3, out=reference)

    done = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    meta = json.loads((killed / "meta.json").read_text())
    # Every replication counted on disk before the kill was whole (atomic writes): all are reused.
    assert meta["reused_from_checkpoints"] >= on_disk, "the resume recomputed finished replications"
    # The kill may land between a replication's data file and its checksum file: that one is
    # recomputed. Anything else (a truncated or altered file) would mean a non-atomic write.
    bad = [line for line in meta["recomputed_damaged"] if "no checksum file" not in line]
    assert not bad, f"a killed run left damaged files: {bad}"
    assert meta["computed"] + meta["reused_from_checkpoints"] == KILL_REPS
    assert_same_tree(reference, killed)


@pytest.fixture
def finished(tiny_horizon: sim.Scenario, tmp_path: Path) -> Path:
    out = tmp_path / "exp"
    sim.run_experiment(tiny_horizon, reps=4, seed=2, out=out, keep_events=True)
    return out


def _snapshot(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and p.name != "meta.json"
    }


@pytest.mark.parametrize(
    "damage",
    ["truncate", "flip_byte", "swap_files", "delete_events", "flip_events_byte", "garbage", "no_checksum_file"],
)
def test_damaged_checkpoints_are_detected_and_recomputed(
    tiny_horizon: sim.Scenario, finished: Path, damage: str
) -> None:
    before = _snapshot(finished)
    rep1, rep2 = finished / "replications" / "rep-00001.parquet", finished / "replications" / "rep-00002.parquet"
    if damage == "truncate":  # a partial file, as a copy cut short would leave
        rep1.write_bytes(rep1.read_bytes()[: rep1.stat().st_size // 2])
    elif damage == "flip_byte":  # one byte in the middle of the data pages
        data = bytearray(rep1.read_bytes())
        data[len(data) // 3] ^= 0xFF
        rep1.write_bytes(bytes(data))
    elif damage == "swap_files":  # whole, valid files (checksums too) in the wrong place
        for suffix in ("parquet", "sha256"):
            one, two = rep1.with_suffix(f".{suffix}"), rep2.with_suffix(f".{suffix}")
            a, b = one.read_bytes(), two.read_bytes()
            one.write_bytes(b.replace(b"rep-00002", b"rep-00001"))
            two.write_bytes(a.replace(b"rep-00001", b"rep-00002"))
    elif damage == "delete_events":
        (finished / "replications" / "rep-00001.events.parquet").unlink()
    elif damage == "flip_events_byte":
        ev = finished / "replications" / "rep-00001.events.parquet"
        data = bytearray(ev.read_bytes())
        data[len(data) // 2] ^= 0x01
        ev.write_bytes(bytes(data))
    elif damage == "garbage":
        rep1.write_bytes(b"not a parquet file")
    elif damage == "no_checksum_file":  # killed between the data file and its checksum file
        (finished / "replications" / "rep-00001.sha256").unlink()
    store = ExperimentStore(finished, [sim.Arm(tiny_horizon, "tutorial")], 4, 2, True, "run")
    with pytest.raises(CheckpointError):
        store.load(0, 1)
    res = sim.run_experiment(tiny_horizon, reps=4, seed=2, out=finished, keep_events=True, resume=True)
    expected_damaged = 2 if damage == "swap_files" else 1
    assert len(res.meta["recomputed_damaged"]) == expected_damaged, res.meta["recomputed_damaged"]
    assert res.meta["computed"] == expected_damaged
    assert _snapshot(finished) == before, "the repaired folder differs from the undamaged one"


def test_keep_events_files_match_a_single_run(tiny_horizon: sim.Scenario, finished: Path) -> None:
    one = sim.run(tiny_horizon, seed=2, replication=3)
    from sim.experiment.tasks import parquet_bytes

    assert (finished / "replications" / "rep-00003.events.parquet").read_bytes() == parquet_bytes(one.events)
    assert (finished / "replications" / "rep-00003.firms.parquet").read_bytes() == parquet_bytes(one.firms)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seed": 3}, "seed differs"),
        ({"reps": 5}, "replication count differs"),
        ({"scenario": {"stages.incubator.carriers.capacity": 31}}, "has changed since the experiment started"),
        ({"keep_events": False}, "keep-events setting differs"),
    ],
)
def test_resume_against_changed_inputs_is_refused(
    tiny_horizon: sim.Scenario, finished: Path, change: dict[str, Any], message: str
) -> None:
    sc = tiny_horizon.with_changes(change["scenario"]) if "scenario" in change else tiny_horizon
    with pytest.raises(sim.ScenarioError, match=message) as info:
        sim.run_experiment(
            sc,
            reps=change.get("reps", 4),
            seed=change.get("seed", 2),
            out=finished,
            keep_events=change.get("keep_events", True),
            resume=True,
        )
    assert len(info.value.problems) == 1, info.value.problems


def test_existing_experiment_needs_resume_or_overwrite(tiny_horizon: sim.Scenario, finished: Path) -> None:
    with pytest.raises(sim.ScenarioError, match="--resume"):
        sim.run_experiment(tiny_horizon, reps=4, seed=2, out=finished)
    res = sim.run_experiment(tiny_horizon, reps=2, seed=9, out=finished, overwrite=True)
    assert res.meta["computed"] == 2
    names = sorted(p.name for p in (finished / "replications").iterdir())
    assert names == ["rep-00000.parquet", "rep-00000.sha256", "rep-00001.parquet", "rep-00001.sha256"], names


def _fails_on_2(task: ReplicationTask) -> ReplicationOutput:
    if task.replication == 2:
        raise ValueError("injected failure")
    return run_task(task)


def _dies_on_2(task: ReplicationTask) -> ReplicationOutput:
    if task.replication == 2:
        os._exit(3)  # the worker process dies without a Python exception
    return run_task(task)


def test_failed_replication_is_reported_and_the_others_kept(
    tiny_horizon: sim.Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "exp"
    monkeypatch.setattr(runner, "run_task", _fails_on_2)
    with pytest.raises(sim.ExperimentError) as info:
        sim.run_experiment(tiny_horizon, reps=5, seed=1, out=out, executor=SerialExecutor())
    err = info.value
    assert [f.replication for f in err.failures] == [2]
    assert "ValueError: injected failure" in err.failures[0].error
    assert "replication 2 of 'tutorial'" in str(err)
    assert err.completed == 4 and _reps_on_disk(out) == 4
    meta = json.loads((out / "meta.json").read_text())
    assert meta["complete"] is False and meta["failures"][0]["replication"] == 2
    assert "injected failure" in meta["failures"][0]["traceback"]
    monkeypatch.undo()
    res = sim.run_experiment(tiny_horizon, reps=5, seed=1, out=out, resume=True)
    assert (res.meta["computed"], res.meta["reused_from_checkpoints"]) == (1, 4)


def test_crashed_worker_process_is_reported(
    tiny_horizon: sim.Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "exp"
    monkeypatch.setattr(runner, "run_task", _dies_on_2)  # forked workers inherit the patch
    with process_executor(2) as ex, pytest.raises(sim.ExperimentError) as info:
        sim.run_experiment(tiny_horizon, reps=6, seed=1, out=out, executor=ex)
    lost = [f.replication for f in info.value.failures]
    assert 2 in lost, f"the crashing replication is not among those reported: {lost}"
    assert "worker process died" in next(f.error for f in info.value.failures if f.replication == 2)
    kept = _reps_on_disk(out)
    assert kept == info.value.completed and kept + len(lost) == 6
    monkeypatch.undo()
    res = sim.run_experiment(tiny_horizon, reps=6, seed=1, out=out, resume=True)
    assert res.meta["computed"] == len(lost)
