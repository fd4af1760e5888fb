"""Angel fund: firms whose signal passes are funded at admission; graduation faster during that stay."""

from __future__ import annotations

import pytest

from .helpers import run, same_log, tiny, tutorial, with_policies

ANGEL = {
    "type": "angel_fund",
    "name": "angels",
    "threshold": -100.0,  # every firm passes
    "noise_sd": 0.0,
    "amount_per_firm_yuan": 100_000,
    "graduation_factor": 2.0,
    "target": {"stages": ["b"]},
}


def test_every_passing_firm_is_funded_once_and_paid() -> None:
    # tiny(): the three stock firms enter b at t = 1, 1.5 and 2
    res = run(with_policies(tiny(), ANGEL))
    attr = res.events[res.events["event"] == "attribute"]
    assert len(attr) == 3 and attr["firm"].is_unique
    assert res.ledger["amount_yuan"].tolist() == [100_000.0] * 3
    assert res.ledger["time_years"].tolist() == pytest.approx([1.0, 1.5, 2.0])
    assert res.summary()["budget.total_yuan"] == 300_000.0


def test_yearly_budget_caps_the_investments() -> None:
    # policy years from 2021-01-01 (t = 1): [1, 2) has room for one 100,000 investment out of 150,000;
    # the firm entering at t = 1.5 is turned down; the one at t = 2 falls in the next policy year.
    pol = {**ANGEL, "start": "2021-01-01", "budget_per_year_yuan": 150_000}
    led = run(with_policies(tiny(), pol)).ledger
    assert led["time_years"].tolist() == pytest.approx([1.0, 2.0])
    assert led["amount_yuan"].sum() == 200_000.0


def test_threshold_selects_on_the_signal() -> None:
    res = run(with_policies(tutorial(), {**ANGEL, "threshold": 1.0, "target": {"stages": ["incubator"]}}), seed=8)
    attr = res.events[res.events["event"] == "attribute"]
    funded = res.firms.set_index("firm").loc[attr["firm"], "quality"]
    assert len(funded) > 0 and (funded >= 1.0).all(), "noise-free signal: only firms of quality >= 1 are funded"


def test_funding_raises_graduations() -> None:
    base = tutorial()
    pol = {**ANGEL, "threshold": 0.0, "target": {"stages": ["incubator"]}}
    g0 = sum(run(base, seed=8, replication=r).summary()["stages.incubator.graduations"] for r in range(3))
    g1 = sum(
        run(with_policies(base, pol), seed=8, replication=r).summary()["stages.incubator.graduations"] for r in range(3)
    )
    assert g1 > g0, f"funding that doubles graduation did not raise incubator graduations: {g0} -> {g1}"


def test_no_effect_no_cost_or_late_window_reproduces_the_baseline() -> None:
    base = tutorial()
    r0 = run(base, seed=8)
    target = {"stages": ["incubator"]}
    for pol in (
        {**ANGEL, "graduation_factor": 1.0, "amount_per_firm_yuan": 0, "target": target},
        {**ANGEL, "start": "2040-01-01", "target": target},
        {**ANGEL, "threshold": 1e9, "target": target},
    ):
        res = run(with_policies(base, pol), seed=8)
        assert same_log(r0, res), f"{pol} changed the event log"
        assert res.ledger.empty
