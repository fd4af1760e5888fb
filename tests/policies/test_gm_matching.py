"""Manager matching: lacking firms entering targeted stages are matched once; faster graduation; cost per match."""

from __future__ import annotations

import pytest

from .helpers import run, same_log, tiny, tutorial, with_policies

GM = {
    "type": "gm_matching",
    "name": "gm",
    "share_lacking": 1.0,
    "failure_factor": 1.0,
    "graduation_factor": 2.0,
    "cost_per_match_yuan": 40_000,
    "target": {"stages": ["b"]},
}


def test_every_lacking_firm_entering_the_stage_is_matched_and_paid_for() -> None:
    # tiny(): the three stock firms enter b at t = 1, 1.5 and 2 (one slot, 0.5 years each): three matches
    res = run(with_policies(tiny(), GM))
    ev = res.events
    attr = ev[ev["event"] == "attribute"]
    assert len(attr) == 3 and set(attr["stage"]) == {"b"} and set(attr["info"]) == {0}
    led = res.ledger
    assert led["amount_yuan"].tolist() == [40_000.0] * 3
    assert sorted(led["recipient"]) == sorted(attr["firm"])
    assert (led["recipient_kind"] == "firm").all()
    assert led["time_years"].tolist() == pytest.approx([1.0, 1.5, 2.0])
    assert res.summary()["budget.policy.gm"] == 120_000.0


def test_no_firm_lacking_or_no_effect_no_cost_reproduces_the_baseline() -> None:
    base = tutorial()
    r0 = run(base, seed=6)
    target = {"stages": ["incubator"]}
    for pol in (
        {**GM, "share_lacking": 0.0, "target": target},
        {**GM, "graduation_factor": 1.0, "cost_per_match_yuan": 0, "target": target},
        {**GM, "start": "2040-01-01", "target": target},
    ):
        res = run(with_policies(base, pol), seed=6)
        assert same_log(r0, res), f"{pol} changed the event log"
        assert res.ledger.empty


def test_matched_firms_graduate_faster_in_every_stage() -> None:
    base = tutorial()
    pol = {**GM, "share_lacking": 0.6, "target": {"stages": ["maker_space"]}}
    g0 = g1 = 0
    for r in range(3):
        s0 = run(base, seed=6, replication=r).summary()
        s1 = run(with_policies(base, pol), seed=6, replication=r).summary()
        g0 += s0["stages.maker_space.graduations"] + s0["stages.incubator.graduations"]
        g1 += s1["stages.maker_space.graduations"] + s1["stages.incubator.graduations"]
    assert g1 > g0, f"doubling matched firms' graduation hazard did not raise graduations: {g0} -> {g1}"


def test_matching_only_lacking_firms_once() -> None:
    base = tutorial()
    res = run(with_policies(base, {**GM, "share_lacking": 0.5, "target": {}}), seed=6)
    ev = res.events
    attr = ev[ev["event"] == "attribute"]
    assert attr["firm"].is_unique, "a firm was matched twice"
    share = len(attr) / res.summary()["firms"]
    assert 0.3 < share < 0.55, f"matched share {share:.2f} far from the lacking share 0.5"
