"""Specialisation (sector matches carrier) and chain linkage (priority on the next stage's list)."""

from __future__ import annotations

import pytest

import sim

from .helpers import run, same_log, tiny, tutorial, with_policies

SPECIAL = {
    "type": "specialisation",
    "failure_factor": 0.3,
    "graduation_factor": 1.0,
    "target": {"stages": ["incubator"]},
}


def _all_specialised() -> dict:
    data = tutorial()
    data["stages"]["incubator"]["carriers"]["specialised_share"] = 1.0
    return data


def test_specialisation_lowers_failures_of_matched_firms() -> None:
    base = _all_specialised()
    f0 = sum(run(base, seed=2, replication=r).summary()["stages.incubator.failures"] for r in range(4))
    f1 = sum(
        run(with_policies(base, SPECIAL), seed=2, replication=r).summary()["stages.incubator.failures"]
        for r in range(4)
    )
    assert f1 < 0.8 * f0, f"specialisation did not lower matched incubator failures: {f0} -> {f1}"


def test_specialisation_without_specialised_carriers_or_effect_changes_nothing() -> None:
    base = tutorial()
    r0 = run(base, seed=2)
    neutral = {**SPECIAL, "failure_factor": 1.0}
    assert same_log(r0, run(with_policies(base, neutral), seed=2))
    late = {**SPECIAL, "start": "2040-01-01"}
    assert same_log(r0, run(with_policies(base, late), seed=2))
    r1 = run(with_policies(base, SPECIAL), seed=2)
    assert r1.ledger.empty and r1.summary()["budget.total_yuan"] == 0.0, "specialisation has no cost"


def _linkage_base() -> dict:
    # b: one slot, 0.4 years a stay; five firms start in b (one admitted, four wait), two firms leave a
    # at t = 1 for b. Stays in b: stock at 0, 0.4, 0.8, 1.2, 1.6; the a-graduates at 2.0 and 2.4.
    return tiny(
        **{
            "stages.b.graduation.value": 0.4,
            "initial_stock": [{"stage": "a", "count": 2}, {"stage": "b", "count": 5}],
        }
    )


def _b_admissions_of_a_graduates(res: sim.RunResult) -> list[float]:
    ev = res.events
    from_a = set(ev.loc[(ev["event"] == "graduate") & (ev["stage"] == "a"), "firm"])
    adm = ev[(ev["event"] == "admit") & (ev["stage"] == "b") & ev["firm"].isin(from_a)]
    return sorted(adm["time"].round(9).tolist())


LINK = {"type": "chain_linkage", "name": "link", "from_stage": "a", "to_stage": "b", "cost_per_year_yuan": 1_000}


def test_linked_graduates_go_to_the_front_of_the_list() -> None:
    base = _linkage_base()
    assert _b_admissions_of_a_graduates(run(base)) == [2.0, 2.4]
    linked = run(with_policies(base, LINK))
    assert _b_admissions_of_a_graduates(linked) == [1.2, 1.6], "linked graduates did not jump the list"
    # coordination cost: 1,000 a year for the 5-year horizon
    assert linked.ledger["amount_yuan"].tolist() == [1_000.0] * 5
    assert linked.summary()["budget.policy.link"] == 5_000.0


def test_linkage_outside_the_horizon_or_without_queue_changes_nothing() -> None:
    base = _linkage_base()
    r0 = run(base)
    assert same_log(r0, run(with_policies(base, {**LINK, "start": "2026-01-01"})))
    # in force only before anyone queues from a (graduations at t = 1)
    assert same_log(r0, run(with_policies(base, {**LINK, "end": "2020-07-01"})))


def test_linkage_needs_a_waiting_list() -> None:
    data = with_policies(_linkage_base(), LINK)
    data["stages"]["b"]["admission"] = {"on_full": "skip"}
    with pytest.raises(sim.ScenarioError, match=r"policies\[0\]\.to_stage"):
        sim.parse_scenario(data)
