"""Reproducibility: the same experiment gives the same bytes on every executor, and matches sim.run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.executors import SerialExecutor, local_dask_executor, process_executor
from sim.experiment.tables import csv_text
from sim.files import OWNER_FILE

from .helpers import assert_same_tree

REPS = 6


@pytest.fixture(scope="module")
def serial_run(short: sim.Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("serial")
    sim.run_experiment(short, reps=REPS, seed=11, executor=SerialExecutor(), out=out)
    return out


def test_processes_write_the_same_bytes_as_serial(short: sim.Scenario, serial_run: Path, tmp_path: Path) -> None:
    with process_executor(2) as ex:
        sim.run_experiment(short, reps=REPS, seed=11, executor=ex, out=tmp_path)
    assert_same_tree(serial_run, tmp_path)


def test_dask_writes_the_same_bytes_as_serial(short: sim.Scenario, serial_run: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    # Threads in this process: starts in about a second; the tasks still travel through Dask's
    # scheduler and serialisation, which is what could reorder or alter results.
    with local_dask_executor(workers=2, processes=False) as ex:
        res = sim.run_experiment(short, reps=REPS, seed=11, executor=ex, out=tmp_path)
    assert res.meta["executor"]["kind"] == "dask"
    assert_same_tree(serial_run, tmp_path)


def test_rows_are_in_replication_order_and_match_single_runs(short: sim.Scenario) -> None:
    with process_executor(2) as ex:
        res = sim.run_experiment(short, reps=4, seed=5, executor=ex)
    assert res.summary["replication"].tolist() == [0, 1, 2, 3]
    for r in (0, 3):
        one = sim.run(short, seed=5, replication=r)
        row = res.summary.iloc[r]
        flat = sim.experiment.flatten_summary(one.summary())
        assert row["failed"] == flat["failed"] and row["stages.incubator.entries"] == flat["stages.incubator.entries"]
        ts = res.timeseries[res.timeseries["replication"] == r].reset_index(drop=True)
        assert csv_text(ts) == csv_text(one.timeseries), f"replication {r}: time series differs from sim.run"


def test_memory_and_folder_give_the_same_tables(short: sim.Scenario, serial_run: Path) -> None:
    res = sim.run_experiment(short, reps=REPS, seed=11)
    assert res.out is None
    assert csv_text(res.summary) == (serial_run / "summary.csv").read_text()
    assert csv_text(res.stats) == (serial_run / "summary_stats.csv").read_text()
    assert csv_text(res.timeseries) == (serial_run / "timeseries.csv").read_text()


def test_folder_layout(serial_run: Path) -> None:
    names = {p.name for p in serial_run.iterdir()} - {OWNER_FILE}
    expected = {
        "experiment.json",
        "meta.json",
        "scenario.resolved.toml",
        "summary.csv",
        "summary_stats.csv",
        "timeseries.csv",
        "replications",
    }
    assert names == expected
    reps = sorted(p.name for p in (serial_run / "replications").iterdir())
    assert reps == sorted(f"rep-{r:05d}.{ext}" for r in range(REPS) for ext in ("parquet", "sha256"))
    summary = pd.read_csv(serial_run / "summary.csv")
    assert list(summary.columns[:3]) == ["scenario", "seed", "replication"]
    assert len(summary) == REPS
    stats = pd.read_csv(serial_run / "summary_stats.csv")
    assert {"metric", "mean", "sd", "ci_low", "ci_high", "n"} <= set(stats.columns)
    assert len(stats) == summary.shape[1] - 3, "one stats row per metric"
    meta = (serial_run / "meta.json").read_text()
    for key in ('"versions"', '"machine"', '"executor"', '"wall_seconds"', '"seed": 11', '"replications": 6'):
        assert key in meta, f"meta.json lacks {key}"
