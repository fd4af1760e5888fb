"""Extreme values: no arrivals, huge capacity, a horizon shorter than every stay."""

from __future__ import annotations

import math

import pytest

import sim
from tests.helpers import tiny


def test_no_arrivals_and_no_stock_gives_an_empty_log(tutorial: sim.Scenario) -> None:
    sc = tutorial.with_changes({"arrivals": [], "initial_stock": []})
    res = sim.run(sc, seed=1)
    assert len(res.events) == 0 and len(res.firms) == 0
    ts = res.timeseries
    assert (ts[["occupancy", "queue", "arrived", "active"]] == 0).all().all()
    summary = res.summary()
    assert summary["arrivals"] == 0 and all(math.isnan(v) for v in summary.survival("all").values())


def test_zero_rate_arrivals_give_no_firms(tutorial: sim.Scenario) -> None:
    sc = tutorial.with_changes({"arrivals.0.rate_per_year": 0, "arrivals.1.rate_per_year": 0, "initial_stock": []})
    assert len(sim.run(sc, seed=1).firms) == 0


def test_huge_capacity_means_nobody_waits(tutorial: sim.Scenario) -> None:
    changes = {
        f"stages.{s}.carriers.capacity": 100_000 for s in ("maker_space", "incubator", "accelerator", "industrial_park")
    }
    res = sim.run(tutorial.with_changes(changes), seed=4)
    kinds = set(res.events["event"].astype(str))
    assert not kinds & {"wait", "skip", "block", "renege"}, f"firms waited despite huge capacity: {kinds}"


def test_horizon_shorter_than_every_stay_censors_everyone() -> None:
    data = tiny(**{"calendar.horizon_years": 0.5})
    res = sim.run(sim.parse_scenario(data), seed=1)
    firms = res.firms
    assert (firms["outcome"] == "active").all() and firms["censored"].all()
    assert (firms["outcome_time"] == 0.5).all()
    assert set(res.events["event"].astype(str)) == {"arrive", "apply", "admit"}


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("stages.b.carriers.capacity", 0, "stages.b.carriers.capacity: must be > 0"),
        ("calendar.horizon_years", 0, "calendar.horizon_years: must be > 0"),
        ("calendar.horizon_years", -1, "calendar.horizon_years: must be > 0"),
    ],
)
def test_degenerate_settings_are_refused(path: str, value: object, message: str) -> None:
    with pytest.raises(sim.ScenarioError) as info:
        sim.parse_scenario(tiny(**{path: value}))
    assert any(message in p for p in info.value.problems), info.value.problems


def test_huge_initial_stock_beyond_capacity_queues_then_falls_back() -> None:
    data = tiny(**{"stages.a.carriers": {"count": 2, "capacity": 1}, "initial_stock.0.count": 5})
    res = sim.run(sim.parse_scenario(data), seed=1)
    first = res.timeseries[(res.timeseries.month == 0) & (res.timeseries.stage == "a")]
    assert int(first["occupancy"].iloc[0]) == 2, "more stock admitted than capacity"
