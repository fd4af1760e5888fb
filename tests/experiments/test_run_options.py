"""One RunOptions value carries how an experiment runs; keywords are the same fields, never both."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.executors import SerialExecutor

from .helpers import TUTORIAL


@pytest.fixture(scope="module")
def short() -> sim.Scenario:
    return sim.load_scenario(TUTORIAL).with_changes({"calendar.horizon_years": 1})


def test_options_and_keywords_give_the_same_experiment(short: sim.Scenario, tmp_path: Path) -> None:
    by_keywords = sim.run_experiment(short, reps=2, seed=3, executor=SerialExecutor(), out=tmp_path / "a")
    options = sim.RunOptions(executor=SerialExecutor(), out=tmp_path / "b", progress=False)
    by_options = sim.run_experiment(short, reps=2, seed=3, options=options)
    assert by_keywords.summary.drop(columns="wall_seconds", errors="ignore").equals(
        by_options.summary.drop(columns="wall_seconds", errors="ignore")
    ), "options gave another experiment than the same keywords"
    assert (tmp_path / "b" / "summary.csv").read_bytes() == (tmp_path / "a" / "summary.csv").read_bytes()


def test_options_and_keywords_together_are_refused(short: sim.Scenario, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="out"):
        sim.run_experiment(short, reps=1, out=tmp_path / "x", options=sim.RunOptions(progress=False))
    with pytest.raises(ValueError, match="resume"):
        sim.sweep(short, {"calendar.horizon_years": [1]}, resume=True, options=sim.RunOptions())
    with pytest.raises(ValueError, match="keep_events"):
        sim.compare(short, short, reps=2, keep_events=True, options=sim.RunOptions())


def test_options_are_values(tmp_path: Path) -> None:
    a = sim.RunOptions(out=tmp_path)
    b = a.replace(resume=True)
    assert (a.resume, b.resume, b.out) == (False, True, tmp_path)
    with pytest.raises(AttributeError):
        a.resume = True  # type: ignore[misc]
