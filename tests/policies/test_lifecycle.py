"""The carrier life cycle: openings, yearly evaluations, recognition levels, closures and wind-down."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import sim

from .helpers import run, same_log, tiny

# tiny(): three firms leave stage a at t = 1 for stage b (one carrier, one slot, a queue), 0.5 years
# each: the carrier holds a tenant from t = 1 to t = 2.5; graduations from b at 1.5, 2.0 and 2.5.


def living(**life: Any) -> dict[str, Any]:
    """tiny() with a life cycle on stage b's carriers."""
    data = tiny()
    data["stages"]["b"]["carriers"]["lifecycle"] = life
    return data


def events(res: sim.RunResult) -> list[tuple[float, int, str, str, Any]]:
    ce = res.carrier_events
    return [
        (round(float(r.time_years), 9), int(r.carrier), str(r.event), str(r.level), r.rating)
        for r in ce.itertuples(index=False)
    ]


def test_without_a_life_cycle_carriers_stay_and_counts_are_flat() -> None:
    res = run(tiny())
    assert res.carrier_events.empty
    counts = res.carrier_counts
    b = counts[(counts["stage"] == "b") & (counts["level"] == "municipal")]
    assert set(b["count"]) == {1}
    assert b["t_years"].iloc[-1] == 5.0


def test_ratings_are_measured_results_of_the_past_year() -> None:
    # t=1: no tenant-years yet -> unqualified; t=2: 1 tenant-year, 1 graduation (the one at t = 2.0 comes
    # after the evaluation scheduled before it) -> score 1 -> excellent; t=3: 0.5 tenant-years, 2
    # graduations -> 4 -> excellent; t=4: empty -> unqualified.
    life = {"evaluation": {"fail_below": -0.5, "excellent_from": 0.9, "min_tenant_years": 0.1}, "recognition_years": 50}
    rows = [e for e in events(run(living(**life))) if e[2] == "rating"]
    assert [(t, rating) for t, _, _, _, rating in rows] == [
        (1.0, "unqualified"),
        (2.0, "excellent"),
        (3.0, "excellent"),
        (4.0, "unqualified"),
    ]


def test_two_failed_evaluations_cost_a_level() -> None:
    data = living(evaluation={"fail_below": 100.0, "excellent_from": 100.0}, recognition_years=50)
    data["stages"]["b"]["carriers"]["levels"] = {"national": 1.0}
    ev = events(run(data))
    moves = [(t, level) for t, _, kind, level, _ in ev if kind == "demote"]
    assert moves == [(2.0, "provincial"), (4.0, "municipal")]
    res = run(data)
    assert res.summary()["carriers.b.demoted"] == 2.0
    assert res.summary()["carriers.b.municipal"] == 1.0


def test_excellent_carriers_move_up_at_renewal_every_recognition_period() -> None:
    data = living(
        evaluation={"fail_below": -100.0, "excellent_from": -50.0, "min_tenant_years": 0.0}, recognition_years=2
    )
    data["calendar"]["horizon_years"] = 9
    data["initial_stock"] = [{"stage": "a", "count": 20}]  # a tenant in b from t = 1 to t = 11
    ev = events(run(data))
    promotions = [(t, level) for t, _, kind, level, _ in ev if kind == "promote"]
    assert [lv for _, lv in promotions] == ["provincial", "national"]
    assert promotions[1][0] - promotions[0][0] == 2.0  # a full recognition period later
    renewals = [t for t, _, kind, _, _ in ev if kind == "renew"]
    assert [t for t in renewals if t > promotions[1][0]]  # at the top, recognition is renewed


def test_openings_follow_the_rate() -> None:
    data = living(opening_rate_per_year=5.0)
    data["calendar"]["horizon_years"] = 8
    sc = sim.parse_scenario(data)
    counts = [int(sim.run(sc, seed=3, replication=r).summary()["carriers.b.opened"]) for r in range(30)]
    mean, se = np.mean(counts), math.sqrt(40.0 / 30)
    assert abs(mean - 40.0) < 4 * se, counts


def test_opening_rate_by_calendar_year() -> None:
    data = living(opening_rate_per_year={"2020": 0.0, "2023": 50.0})
    opened = run(data).carrier_events.query("event == 'open'")["time_years"]
    assert len(opened) > 20 and opened.min() >= 3.0


def test_closures_follow_the_hazard() -> None:
    data = living(closure_rate_per_year=0.3, closure_factor_unqualified=1.0)
    data["stages"]["b"]["carriers"].update(count=400, capacity=2)
    data["calendar"]["horizon_years"] = 1.5
    closed = int(run(data, seed=5).summary()["carriers.b.closed"])
    p = 1 - math.exp(-0.3)
    assert abs(closed - 400 * p) < 4 * math.sqrt(400 * p * (1 - p)), closed


def test_unqualified_carriers_close_more_often() -> None:
    base = living(closure_rate_per_year=0.1, closure_factor_unqualified=1.0)
    base["stages"]["b"]["carriers"].update(count=400, capacity=2)
    worse = living(closure_rate_per_year=0.1, closure_factor_unqualified=5.0)
    worse["stages"]["b"]["carriers"].update(count=400, capacity=2)
    assert run(worse).summary()["carriers.b.closed"] > run(base).summary()["carriers.b.closed"]


def test_a_closed_carrier_admits_no_one_and_its_tenants_finish_their_stay() -> None:
    data = tiny()
    data["initial_stock"] = [{"stage": "a", "count": 6}]
    data["stages"]["b"]["carriers"].update(count=2, capacity=1)
    data["stages"]["b"]["carriers"]["lifecycle"] = {"closure_rate_per_year": 50.0}
    data["stages"]["a"]["graduation"] = {"dist": "fixed", "value": 0.5}  # two tenants in b from t = 0.5
    data["stages"]["b"]["graduation"] = {"dist": "fixed", "value": 1.5}
    res = run(data)
    closes = res.carrier_events.query("event == 'close'")
    assert len(closes) == 2 and set(closes["time_years"]) == {1.0}  # both close at the first evaluation
    ev = res.events
    admits = ev[(ev["event"] == "admit") & (ev["stage"] == "b")]
    assert admits["time"].tolist() == [0.5, 0.5]  # no one after the closures (the others wait in vain)
    grads = ev[(ev["event"] == "graduate") & (ev["stage"] == "b")]
    assert grads["time"].round(9).tolist() == [2.0, 2.0]  # the two tenants stay their 1.5 years
    counts = res.carrier_counts
    assert counts[(counts["stage"] == "b") & (counts["t_years"] >= 1.0)]["count"].sum() == 0


def test_same_seed_same_life_cycle_and_no_life_cycle_changes_nothing_else() -> None:
    data = living(opening_rate_per_year=2.0, closure_rate_per_year=0.2)
    a, b = run(data, seed=9), run(data, seed=9)
    assert same_log(a, b) and a.carrier_events.equals(b.carrier_events)
    # A life cycle that never does anything leaves the firms' log as without one.
    assert same_log(run(living()), run(tiny()))


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("stages.b.carriers.lifecycle.evaluation.excellent_from", -1.0, "must be >= fail_below"),
        ("stages.b.carriers.lifecycle.opening_rate_per_year", {"20x0": 1.0}, "calendar years"),
        ("stages.b.carriers.lifecycle.closure_rate_per_year", -1.0, "closure_rate_per_year"),
    ],
)
def test_bad_life_cycles_are_refused_in_one_line(path: str, value: Any, message: str) -> None:
    data = living()
    sim.scenario.set_path(data, path, value)
    with pytest.raises(sim.ScenarioError) as err:
        sim.parse_scenario(data)
    assert message in str(err.value) and "\n" not in str(err.value).strip()


def test_capacity_in_the_time_series_follows_openings_and_closures() -> None:
    data = living(closure_rate_per_year=50.0)  # the one carrier closes at the first evaluation (t = 1)
    data["stages"]["b"]["carriers"]["capacity"] = 3
    res = run(data)
    cap = res.timeseries.query("stage == 'b'")["capacity"].tolist()
    assert cap[:11] == [3] * 11 and set(cap[11:]) == {0}  # the month ending at t = 1 counts the closure
    assert res.carriers["opened_years"].tolist() == [0.0]
    grow = run(living(opening_rate_per_year=4.0))
    opened = grow.carriers["opened_years"].to_numpy()
    cap = grow.timeseries.query("stage == 'b'")["capacity"].to_numpy()
    ends = np.minimum((np.arange(len(cap)) + 1) / 12.0, 5.0)
    assert (cap == [(opened <= e).sum() for e in ends]).all()
