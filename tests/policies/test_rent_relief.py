"""Rent relief: tenants' failure hazard lower while in force; carriers refunded part of the waived rent."""

from __future__ import annotations

import pytest

from .helpers import failures_in, run, same_log, tiny, tutorial, with_policies

# tiny(): three firms leave stage a at t = 1 (fixed graduation) for stage b, one carrier with one slot
# and a queue, 0.5 years each: the carrier holds a tenant from t = 1 to t = 2.5 without a break.
RELIEF = {
    "type": "rent_relief",
    "name": "relief",
    "start": "2021-01-01",  # t = 1
    "end": "2022-01-01",  # t = 2
    "rent_per_tenant_year_yuan": 10_000,
    "refund_share": 0.5,
    "cap_per_carrier_yuan": 500_000,
    "failure_factor": 0.5,
}


def test_cost_is_share_of_rent_for_tenant_years_in_window_paid_at_end() -> None:
    res = run(with_policies(tiny(), RELIEF))
    led = res.ledger
    assert len(led) == 1, led
    row = led.iloc[0]
    # 1 tenant-year in [1, 2) x 10,000 yuan x 0.5
    assert row["amount_yuan"] == pytest.approx(5_000.0, abs=1e-6), row
    assert row["time_years"] == pytest.approx(2.0) and row["date"] == "2022-01-01"
    assert (row["recipient_kind"], row["recipient"], row["policy"], row["instrument"]) == (
        "carrier",
        0,
        "relief",
        "rent_relief",
    )


def test_cost_is_capped_per_carrier() -> None:
    res = run(with_policies(tiny(), {**RELIEF, "cap_per_carrier_yuan": 3_000}))
    assert res.ledger["amount_yuan"].tolist() == [3_000.0]


def test_part_of_the_window_without_tenants_costs_nothing() -> None:
    # window [0.5, 1.5): the carrier has a tenant only from t = 1 -> 0.5 tenant-years -> 2,500 yuan
    res = run(with_policies(tiny(), {**RELIEF, "start": "2020-07-02", "end": "2021-07-02"}))
    from sim.calendar import decimal_year, parse_date

    t0 = decimal_year(parse_date("2020-07-02")) - 2020
    t1 = decimal_year(parse_date("2021-07-02")) - 2020
    expect = 0.5 * 10_000 * (t1 - 1.0)
    assert t0 < 1.0
    assert res.ledger["amount_yuan"].sum() == pytest.approx(expect, abs=1e-6)


def test_payment_after_the_horizon_is_not_in_the_run() -> None:
    res = run(with_policies(tiny(), {**RELIEF, "end": "2030-01-01"}))
    assert res.ledger.empty


def test_lowers_tenant_failures() -> None:
    base = tutorial()
    stages = ("maker_space", "incubator", "accelerator")
    pol = {
        "type": "rent_relief",
        "start": "2019-01-01",
        "end": "2026-01-01",
        "failure_factor": 0.3,
        "target": {"stages": list(stages)},
    }
    # A strong factor over most of the horizon, summed over 4 replications: the direction is certain,
    # although queue interactions can move a single firm's fate either way.
    f0 = sum(failures_in(run(base, seed=5, replication=r), stages) for r in range(4))
    f1 = sum(failures_in(run(with_policies(base, pol), seed=5, replication=r), stages) for r in range(4))
    assert f1 < 0.8 * f0, f"rent relief did not lower tenants' failures: {f0} -> {f1}"


def test_no_effect_no_cost_reproduces_the_baseline_log() -> None:
    base = tutorial()
    pol = {"type": "rent_relief", "start": "2020-02-01", "end": "2020-07-01", "failure_factor": 1.0}
    pol_free = {**pol, "rent_per_tenant_year_yuan": 0}
    r0 = run(base, seed=2)
    r1 = run(with_policies(base, pol_free), seed=2)
    assert same_log(r0, r1), "a relief without effect changed the event log"
    assert r1.ledger.empty
    # a relief with cost but no effect: same log, a non-empty ledger
    r2 = run(with_policies(base, pol), seed=2)
    assert same_log(r0, r2) and len(r2.ledger) > 0
