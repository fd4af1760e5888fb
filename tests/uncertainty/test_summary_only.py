"""Evaluations build no table they do not use, and give the same numbers as the full path to the last digit."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

import sim
import sim.results
from sim.experiment.options import RunOptions
from sim.experiment.runner import execute
from sim.experiment.tables import csv_text
from sim.uncertainty import Pair, parse_uncertainty
from sim.uncertainty.evaluate import evaluate, point_arms
from sim.uncertainty.targets import parse_targets, target_values, yearly_measure

FACTOR = "policies.rent_relief_2020.failure_factor"
SCALE = "stages.incubator.graduation.scale"


def _forbid_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the firm table, the stage time series and the dated ledger of a replication raise if built."""

    def refuse(name: str) -> object:
        def build(*args: object, **kwargs: object) -> None:
            raise AssertionError(f"an evaluation built the {name}, which it does not use")

        return build

    for attr, name in (("firm_table", "firm table"), ("stage_timeseries", "time series"), ("ledger_table", "ledger")):
        monkeypatch.setattr(sim.results, attr, refuse(name))


def test_pair_evaluations_build_no_table_and_match_the_full_path(
    shock: sim.Scenario, relief: sim.Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    u = parse_uncertainty(
        relief,
        {
            FACTOR: {"dist": "uniform", "low": 0.6, "high": 1.0, "source": "t"},
            SCALE: {"dist": "uniform", "low": 0.9, "high": 1.3, "source": "t"},
        },
    )
    arms, _ = point_arms(Pair(shock, relief), u, [{FACTOR: 0.6, SCALE: 0.9}, {FACTOR: 1.0, SCALE: 1.3}])
    # the full path first (it builds every table), then the evaluation with the tables forbidden
    full = execute(arms, 2, 3, kind="full", options=RunOptions(out=tmp_path / "full"))
    _forbid_tables(monkeypatch)
    quick = evaluate(arms, 2, 3, kind="full", out=tmp_path / "quick")
    assert csv_text(quick.summary) == csv_text(full.summary), "summary-only evaluation changed the summaries"
    assert csv_text(quick.stats) == csv_text(full.stats)
    assert not (tmp_path / "quick" / "timeseries.csv").exists(), "an evaluation wrote a time series"
    for checkpoint in (tmp_path / "quick" / "replications").rglob("rep-*.parquet"):
        assert pq.read_schema(checkpoint).names == [], f"{checkpoint.name} holds a table besides the summary"
    with pytest.raises(ValueError, match="summaries only"):
        quick.timeseries  # noqa: B018
    in_memory = evaluate(arms, 2, 3, kind="full")
    assert csv_text(in_memory.summary) == csv_text(full.summary)


def test_yearly_targets_measured_on_the_workers_equal_the_time_series_path(
    tutorial: sim.Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    short = tutorial.with_changes({"calendar.horizon_years": 3})
    rows = [
        {"name": "stock", "metric": "occupancy", "stage": "incubator", "year": 2020},
        {"name": "entries", "metric": "entries", "stage": "maker_space", "year": 2019},
        {"name": "share", "metric": "graduation_share", "stage": "incubator", "year": 2021},
        {"name": "active", "metric": "active", "year": 2021},
        {"name": "survival", "metric": "survival.all.1y"},
    ]
    targets = parse_targets({"targets": [{**r, "value": 1.0, "tolerance": 1.0, "source": "t"} for r in rows]}, short)
    full = target_values(sim.run_experiment(short, reps=3, seed=2), targets)
    _forbid_tables(monkeypatch)
    quick = evaluate((sim.Arm(short, "fit"),), 3, 2, kind="calibrate", measure=yearly_measure(targets))
    measured = target_values(quick, targets)
    assert measured.to_dict("list") == full.to_dict("list"), "yearly targets differ between the two paths"
    assert yearly_measure(targets[-1:]) is None, "a run-summary target needs no measure"
