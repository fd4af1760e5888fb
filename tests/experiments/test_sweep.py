"""Sweeps: parsing --set, factorial and zipped designs, tidy tables, and one-line errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.cli import main as cli
from sim.experiment.design import design_points, parse_setting, parse_value

from .helpers import TUTORIAL

CAP = "stages.incubator.carriers.capacity"
RATE = "arrivals.1.rate_per_year"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("50", 50),
        ("0.8", 0.8),
        ("1e3", 1000.0),
        ("true", True),
        ('"queue"', "queue"),
        ("queue", "queue"),
        ("2020-01-01", dt.date(2020, 1, 1)),
    ],
)
def test_values_are_toml_scalars(text: str, value: object) -> None:
    got = parse_value(text)
    assert got == value and type(got) is type(value), (text, got)


def test_setting_splits_on_commas_outside_quotes() -> None:
    assert parse_setting(f"{CAP}=50,100,200") == (CAP, [50, 100, 200])
    assert parse_setting('name="a,b",c') == ("name", ["a,b", "c"])


@pytest.mark.parametrize("bad", ["capacity", "=1,2", f"{CAP}=", f"{CAP}=1,,2", f"{CAP}=[1,2]"])
def test_malformed_settings_are_one_line_errors(bad: str) -> None:
    with pytest.raises(sim.ScenarioError) as info:
        parse_setting(bad)
    assert len(info.value.problems) == 1


def test_designs() -> None:
    grid = design_points([("a", [1, 2]), ("b", ["x", "y", "z"])])
    assert grid == [{"a": a, "b": b} for a in (1, 2) for b in "xyz"], "full factorial, last varying fastest"
    assert design_points([("a", [1, 2]), ("b", ["x", "y"])], zipped=True) == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    with pytest.raises(sim.ScenarioError, match="same number of values"):
        design_points([("a", [1, 2]), ("b", [1])], zipped=True)


def test_sweep_tables_have_a_row_per_point_and_replication(tiny_horizon: sim.Scenario, tmp_path: Path) -> None:
    res = sim.sweep(tiny_horizon, {CAP: [10, 60], RATE: [20.0, 80.0]}, reps=2, seed=4, out=tmp_path)
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert len(summary) == 4 * 2
    assert list(summary.columns[:5]) == ["scenario", "arm", CAP, RATE, "seed"]
    assert summary[[CAP, RATE]].drop_duplicates().shape[0] == 4
    assert summary["replication"].tolist() == [0, 1] * 4, "every point runs the same replications"
    stats = pd.read_csv(tmp_path / "summary_stats.csv")
    assert len(stats) == 4 * len(res.metrics)
    assert {CAP, RATE, "arm", "metric", "mean", "ci_low", "ci_high", "n"} <= set(stats.columns)
    ts = pd.read_csv(tmp_path / "timeseries.csv")
    assert list(ts.columns[:5]) == ["scenario", "arm", CAP, RATE, "replication"]
    months_stages = 12 * len(tiny_horizon.stages)
    assert len(ts) == 4 * 2 * months_stages
    assert sorted(p.name for p in (tmp_path / "scenarios").iterdir()) == [f"p00{i}.toml" for i in range(4)]
    # The swept values reached the scenarios: more direct start-ups, more market entries.
    by_rate = summary.groupby(RATE)["stages.market.entries"].mean()
    assert by_rate[80.0] > by_rate[20.0], by_rate.to_dict()


def test_zipped_sweep_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sweep", str(TUTORIAL), "--set", f"{CAP}=10,60", "--set", "calendar.horizon_years=1,2", "--zip"]
    code = cli([*argv, "--reps", "2", "--out", str(tmp_path), "--metric", "failed"])
    assert code == 0
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary[[CAP, "calendar.horizon_years"]].drop_duplicates().values.tolist() == [[10, 1], [60, 2]]
    printed = capsys.readouterr().out
    assert "p000" in printed and "p001" in printed and "failed" in printed


@pytest.mark.parametrize(
    ("setting", "field"),
    [
        (f"{CAP}=50,-5", f"{CAP}: must be > 0, got -5"),
        (f"{CAP}=50,abc", f"{CAP}: must be a whole number"),
        ("stages.incubator.carriers.capcity=5", "stages.incubator.carriers.capcity: unknown field"),
        ("stages.incubatr.carriers.capacity=5", "stages.incubatr: unknown key"),
        ("arrivals.7.rate_per_year=5", "arrivals.7: no item"),
    ],
)
def test_invalid_sweeps_exit_2_with_one_line(
    setting: str, field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli(["sweep", str(TUTORIAL), "--set", setting, "--reps", "1", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith(field), err
    assert not (tmp_path / "o").exists(), "nothing may run before every point is valid"
