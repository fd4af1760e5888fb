"""The generic policies (hazard, arrival and capacity multipliers): yearly cost, no-effect identity, late windows."""

from __future__ import annotations

import pytest

from .helpers import run, same_log, tiny, tutorial, with_policies

HAZARD = {"type": "hazard_multiplier", "hazard": "failure", "factor": 0.5, "target": {"stages": ["market"]}}
ARRIVAL = {"type": "arrival_multiplier", "factor": 1.5}
CAPACITY = {"type": "capacity_change", "factor": 2.0, "target": {"stages": ["incubator"]}}
GENERIC = [HAZARD, ARRIVAL, CAPACITY]


@pytest.mark.parametrize("policy", GENERIC, ids=lambda p: p["type"])
def test_yearly_cost_paid_at_each_policy_year_until_the_horizon(policy: dict) -> None:
    # tiny() runs 5 years from 2020; in force from 2021 with no end -> paid at t = 1, 2, 3, 4
    # tiny() has no market or incubator stage: the policy targets everything
    pol = {k: v for k, v in policy.items() if k != "target"} | {"start": "2021-01-01", "cost_per_year_yuan": 1_000}
    led = run(with_policies(tiny(), pol)).ledger
    assert led["time_years"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert led["amount_yuan"].tolist() == [1_000.0] * 4
    assert set(led["recipient_kind"]) == {"programme"}


def test_yearly_cost_is_pro_rata_for_a_last_part_year() -> None:
    # in force [2021-01-01, 2022-07-01): t = 1 and 2; 2022-07-01 is 181/365 of a year after 2022-01-01
    pol = {**HAZARD, "target": {}, "start": "2021-01-01", "end": "2022-07-01", "cost_per_year_yuan": 1_000}
    led = run(with_policies(tiny(), pol)).ledger
    assert led["time_years"].tolist() == [1.0, 2.0]
    assert led["amount_yuan"].tolist() == pytest.approx([1_000.0, 1_000.0 * 181 / 365], abs=1e-9)
    assert led["date"].tolist() == ["2021-01-01", "2022-01-01"]


@pytest.mark.parametrize("policy", GENERIC, ids=lambda p: p["type"])
def test_factor_one_reproduces_the_baseline_log(policy: dict) -> None:
    base = tutorial()
    r0 = run(base, seed=4)
    r1 = run(with_policies(base, {**policy, "factor": 1.0, "start": "2020-03-01", "end": "2022-01-01"}), seed=4)
    assert same_log(r0, r1), f"{policy['type']} with factor 1 changed the event log"
    assert r1.ledger.empty


@pytest.mark.parametrize("policy", GENERIC, ids=lambda p: p["type"])
def test_window_after_the_horizon_changes_nothing(policy: dict) -> None:
    base = tutorial()  # 2019 + 8 years
    r0 = run(base, seed=4)
    r1 = run(with_policies(base, {**policy, "start": "2030-01-01", "cost_per_year_yuan": 1e6}), seed=4)
    assert same_log(r0, r1), f"{policy['type']} after the horizon changed the event log"
    assert r1.ledger.empty
    assert r1.summary()["budget.total_yuan"] == 0.0


def test_lower_market_failure_hazard_lowers_market_failures() -> None:
    base = tutorial()
    r0 = run(base, seed=4)
    r1 = run(with_policies(base, HAZARD), seed=4)
    f0 = r0.summary()["stages.market.failures"]
    f1 = r1.summary()["stages.market.failures"]
    assert f1 < f0, f"halving the market failure hazard did not lower market failures: {f0} -> {f1}"
