"""Competitions: batches of selected projects on given dates, fast-tracked, with prizes and organising costs."""

from __future__ import annotations

import pytest

from .helpers import run, same_log, tiny, tutorial, with_policies

COMP = {
    "type": "competition",
    "name": "contest",
    "stage": "b",
    "dates": ["2021-01-01"],  # t = 1: the stock firms of tiny() reach b at the same time, after it
    "winners_per_event": 2,
    "quality": {"dist": "fixed", "value": 2.0},
    "prize_per_winner_yuan": 50_000,
    "organising_cost_yuan": 80_000,
}


def test_winners_arrive_on_the_date_and_jump_the_waiting_list() -> None:
    res = run(with_policies(tiny(), COMP))
    firms = res.firms
    winners = firms[firms["source"] == "competition:contest"]
    assert len(winners) == 2 and (winners["quality"] == 2.0).all()
    ev = res.events
    adm = ev[(ev["event"] == "admit") & (ev["stage"] == "b")].sort_values("time")
    # b has one slot: the first winner takes it at t = 1; the second waits at the front of the list,
    # ahead of the three stock firms that queue at t = 1 -> winners stay in b over [1, 2)
    first_two = adm["firm"].head(2).tolist()
    assert sorted(first_two) == sorted(winners["firm"]), f"winners not served first: {adm}"
    assert adm["time"].head(2).tolist() == pytest.approx([1.0, 1.5])


def test_costs_are_prizes_and_organising_cost_per_event() -> None:
    data = with_policies(tiny(), {**COMP, "dates": ["2021-01-01", "2022-01-01", "2030-01-01"]})
    res = run(data)
    led = res.ledger
    # two events within the 5-year horizon: 2 x (80,000 + 2 x 50,000)
    assert led["amount_yuan"].sum() == 360_000.0
    assert (led["recipient_kind"] == "firm").sum() == 4
    assert led.loc[led["recipient_kind"] == "programme", "time_years"].tolist() == pytest.approx([1.0, 2.0])
    assert res.summary()["arrivals"] == 4 and res.summary()["initial_stock"] == 3


def test_no_winners_no_cost_and_late_dates_reproduce_the_baseline() -> None:
    base = tutorial()
    r0 = run(base, seed=9)
    comp = {**COMP, "stage": "incubator"}
    for pol in (
        {**comp, "winners_per_event": 0, "organising_cost_yuan": 0},
        {**comp, "dates": ["2040-01-01"]},
    ):
        res = run(with_policies(base, pol), seed=9)
        assert same_log(r0, res), f"{pol} changed the event log"
        assert res.ledger.empty


def test_other_sources_keep_their_random_numbers() -> None:
    base = tutorial()
    r0 = run(base, seed=9)
    r1 = run(
        with_policies(base, {**COMP, "stage": "incubator", "quality": {"dist": "normal", "mean": 1.0, "sd": 0.5}}),
        seed=9,
    )
    f0 = r0.firms.astype({"source": str}).set_index(["source", "source_index"]).sort_index()
    f1 = r1.firms.astype({"source": str}).set_index(["source", "source_index"]).sort_index()
    f1 = f1.loc[f1.index.intersection(f0.index)].sort_index()
    assert len(f1) == len(f0), "baseline firms missing in the variant"
    assert (f0["quality"].to_numpy() == f1["quality"].to_numpy()).all(), "a competition moved other firms' quality"
    assert (f0["arrival_time"].to_numpy() == f1["arrival_time"].to_numpy()).all(), "a competition moved arrivals"
