"""Construction subsidy, performance subsidy and tax relief: effects on the carrier life cycle, exact costs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import sim

from .helpers import run, same_log, tiny, with_policies
from .test_lifecycle import living


def crowd(**life: Any) -> dict[str, Any]:
    """living() with 20 firms passing through b (a tenant from t = 1 to t = 11) and a 9-year horizon."""
    data = living(**life)
    data["initial_stock"] = [{"stage": "a", "count": 20}]
    data["calendar"]["horizon_years"] = 9
    return data


def busy() -> dict[str, Any]:
    """A chain whose incubator has a life cycle: random arrivals, 10 carriers, openings and closures."""
    return {
        "name": "busy",
        "calendar": {"start": 2020, "horizon_years": 6},
        "stages": {
            "incubator": {
                "failure": {"dist": "exponential", "rate": 0.3},
                "graduation": {"dist": "exponential", "rate": 0.3},
                "on_graduation": {"market": 1.0},
                "carriers": {
                    "count": 10,
                    "capacity": 8,
                    "levels": {"municipal": 0.5, "provincial": 0.3, "national": 0.2},
                    "lifecycle": {
                        "opening_rate_per_year": 2.0,
                        "closure_rate_per_year": 0.1,
                        "evaluation": {"fail_below": -0.05, "excellent_from": 0.1},
                    },
                },
                "admission": {"on_full": "queue"},
            },
            "market": {"failure": {"dist": "exponential", "rate": 0.2}},
        },
        "arrivals": [{"name": "new", "stage": "incubator", "rate_per_year": 40}],
    }


def test_construction_subsidy_pays_new_carriers_and_level_top_ups_to_the_cap() -> None:
    # Always excellent, recognition 2 years: municipal -> provincial -> national (see test_lifecycle).
    data = crowd(
        evaluation={"fail_below": -100.0, "excellent_from": -50.0, "min_tenant_years": 0.0}, recognition_years=2
    )
    grant = {
        "type": "construction_subsidy",
        "name": "build",
        "new_carrier_yuan": {"b": 300_000},
        "level_award_yuan": {"provincial": 250_000, "national": 450_000},
        "cap_per_carrier_yuan": 1_000_000,
        "opening_rate_factor": 1.0,
    }
    res = run(with_policies(data, grant))
    promotions = res.carrier_events.query("event == 'promote'")
    assert promotions["level"].tolist() == ["provincial", "national"]
    led = res.ledger
    # Municipal at the start (no award had): 250,000 on provincial, then the top-up 450,000 - 250,000.
    assert led["amount_yuan"].tolist() == [250_000.0, 200_000.0]
    assert led["time_years"].tolist() == promotions["time_years"].tolist()
    assert set(led["recipient_kind"]) == {"carrier"} and set(led["recipient"]) == {0}
    capped = run(with_policies(data, {**grant, "cap_per_carrier_yuan": 300_000}))
    assert capped.ledger["amount_yuan"].tolist() == [250_000.0, 50_000.0]


def test_construction_subsidy_pays_each_new_carrier_and_opens_more_of_them() -> None:
    data = living(opening_rate_per_year=3.0)
    grant = {"type": "construction_subsidy", "new_carrier_yuan": {"b": 200_000}, "opening_rate_factor": 2.0}
    more = 0
    for rep in range(6):
        base = run(data, replication=rep)
        sub = run(with_policies(data, grant), replication=rep)
        n_base = int(base.summary()["carriers.b.opened"])
        n_sub = int(sub.summary()["carriers.b.opened"])
        assert n_sub >= n_base  # same epochs, a higher rate: the same carriers earlier, and more
        more += n_sub - n_base
        opened = sub.carrier_events.query("event == 'open'")
        assert sub.ledger["amount_yuan"].tolist() == [200_000.0] * len(opened)
        assert sub.ledger["recipient"].tolist() == opened["carrier"].tolist()
    assert more > 6 * 3.0 * 5 * 0.5  # about 15 more per replication expected


def test_performance_subsidy_pays_by_rating_exactly() -> None:
    data = crowd(evaluation={"fail_below": -0.5, "excellent_from": 3.0, "min_tenant_years": 0.1}, recognition_years=50)
    pay = {"type": "performance_subsidy", "name": "perf", "qualified_yuan": 100_000, "excellent_yuan": 500_000}
    res = run(with_policies(data, pay))
    ratings = res.carrier_events.query("event == 'rating'")
    expect = ratings["rating"].map({"unqualified": 0.0, "qualified": 100_000.0, "excellent": 500_000.0})
    paid = expect[expect > 0]
    assert res.ledger["amount_yuan"].tolist() == paid.tolist()
    assert res.ledger["time_years"].tolist() == ratings.loc[paid.index, "time_years"].tolist()
    assert res.summary()["budget.policy.perf"] == pytest.approx(paid.sum())


def test_performance_subsidy_improves_tenants_and_feeds_back_into_ratings() -> None:
    sc = sim.parse_scenario(busy())
    pay = {"type": "performance_subsidy", "failure_factor": 0.5, "graduation_factor": 2.0}
    sv = sim.parse_scenario(with_policies(busy(), pay))
    grads, bad = [], []
    for rep in range(8):
        a, b = sim.run(sc, seed=2, replication=rep), sim.run(sv, seed=2, replication=rep)
        grads.append(b.summary()["stages.incubator.graduations"] - a.summary()["stages.incubator.graduations"])
        bad.append(
            b.summary()["carriers.incubator.unqualified_ratings"]
            - a.summary()["carriers.incubator.unqualified_ratings"]
        )
    assert np.mean(grads) > 0 and np.mean(bad) < 0, (grads, bad)


def test_tax_relief_costs_each_eligible_carrier_year_and_lowers_closures() -> None:
    data = crowd(evaluation={"fail_below": -100.0, "excellent_from": 100.0}, recognition_years=50)
    data["stages"]["b"]["carriers"]["levels"] = {"national": 1.0}
    relief = {
        "type": "tax_relief",
        "name": "tax",
        "start": "2020-07-02",
        "end": "2023-07-02",
        "yuan_per_carrier_year": 100_000,
    }
    res = run(with_policies(data, relief))
    from sim.calendar import decimal_year, parse_date

    t0 = decimal_year(parse_date("2020-07-02")) - 2020
    t1 = decimal_year(parse_date("2023-07-02")) - 2020
    led = res.ledger
    assert led["time_years"].tolist() == pytest.approx([1.0, 2.0, 3.0, t1])
    assert led["amount_yuan"].tolist() == pytest.approx([100_000 * (1 - t0), 100_000.0, 100_000.0, 100_000 * (t1 - 3)])
    # Lower closures: with a closure factor of 0 no targeted carrier ever closes.
    many = busy()
    many["stages"]["incubator"]["carriers"]["levels"] = {"national": 1.0}
    many["stages"]["incubator"]["carriers"]["lifecycle"]["new_level"] = "national"
    many["stages"]["incubator"]["carriers"]["lifecycle"]["evaluation"] = {"fail_below": -100.0, "excellent_from": 100.0}
    shut = run(many).summary()["carriers.incubator.closed"]
    kept = run(with_policies(many, {"type": "tax_relief", "closure_factor": 0.0})).summary()
    assert shut > 0 and kept["carriers.incubator.closed"] == 0


def test_tax_relief_stops_with_a_closure_or_a_lost_level() -> None:
    data = crowd(evaluation={"fail_below": 100.0, "excellent_from": 100.0}, recognition_years=50)
    data["stages"]["b"]["carriers"]["levels"] = {"national": 1.0}
    res = run(with_policies(data, {"type": "tax_relief", "yuan_per_carrier_year": 100_000}))
    demoted = res.carrier_events.query("event == 'demote'")["time_years"].min()
    assert demoted == 2.0  # two failed evaluations
    assert res.ledger["amount_yuan"].sum() == pytest.approx(200_000.0)


@pytest.mark.parametrize(
    "policy",
    [
        {"type": "construction_subsidy", "new_carrier_yuan": {"incubator": 0}, "level_award_yuan": {},
         "opening_rate_factor": 1.0},
        {"type": "performance_subsidy", "qualified_yuan": 0, "excellent_yuan": 0, "failure_factor": 1.0,
         "graduation_factor": 1.0},
        {"type": "tax_relief", "yuan_per_carrier_year": 0, "closure_factor": 1.0},
    ],
    ids=["construction", "performance", "tax"],
)  # fmt: skip
def test_zero_effect_zero_cost_reproduces_the_baseline(policy: dict[str, Any]) -> None:
    base = run(busy(), seed=4)
    same = run(with_policies(busy(), policy), seed=4)
    assert same_log(base, same)
    assert base.carrier_events.equals(same.carrier_events)
    assert same.ledger.empty


@pytest.mark.parametrize("kind", ["construction_subsidy", "performance_subsidy", "tax_relief"])
def test_a_window_after_the_horizon_changes_nothing(kind: str) -> None:
    base = run(busy(), seed=4)
    late = run(with_policies(busy(), {"type": kind, "start": "2030-01-01"}), seed=4)
    assert same_log(base, late) and base.carrier_events.equals(late.carrier_events) and late.ledger.empty


def test_carrier_instruments_need_a_life_cycle() -> None:
    with pytest.raises(sim.ScenarioError, match=r"policies\[0\]\.target\.stages: performance_subsidy needs"):
        sim.parse_scenario(with_policies(tiny(), {"type": "performance_subsidy"}))
