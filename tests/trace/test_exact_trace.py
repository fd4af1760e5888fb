"""Exact traces: tiny deterministic scenarios whose full event lists are worked out by hand.

Durations are fixed, so every time below follows from the engine docstring's rules: firms scheduled
at the same time act in the order they were scheduled (firm 0 first), a firm entering its next stage
leaves its slot after entering, and freed slots serve the waiting list first-come first-served,
then blocked firms.
"""

from __future__ import annotations

import pandas as pd

import sim
from tests.helpers import tiny


def trace(data: dict) -> list[tuple[float, int, str, str | None, int, int]]:
    res = sim.run(sim.parse_scenario(data), seed=1)
    ev: pd.DataFrame = res.events
    return [
        (
            round(float(r.time), 9),
            int(r.firm),
            str(r.event),
            None if pd.isna(r.stage) else str(r.stage),
            int(r.carrier),
            int(r.info),
        )
        for r in ev.itertuples()
    ]


START = [
    (0.0, 0, "arrive", "a", -1, 0), (0.0, 0, "apply", "a", -1, 0), (0.0, 0, "admit", "a", -1, 0),
    (0.0, 1, "arrive", "a", -1, 0), (0.0, 1, "apply", "a", -1, 0), (0.0, 1, "admit", "a", -1, 0),
    (0.0, 2, "arrive", "a", -1, 0), (0.0, 2, "apply", "a", -1, 0), (0.0, 2, "admit", "a", -1, 0),
]  # fmt: skip


def test_waiting_list_served_first_come_first_served() -> None:
    got = trace(tiny())
    want = [
        *START,
        # t = 1: all three graduate from a; b has one slot.
        (1.0, 0, "graduate", "a", -1, 1), (1.0, 0, "apply", "b", -1, 1), (1.0, 0, "leave", "a", -1, 1),
        (1.0, 0, "admit", "b", 0, 0),
        (1.0, 1, "graduate", "a", -1, 1), (1.0, 1, "apply", "b", -1, 1), (1.0, 1, "leave", "a", -1, 1),
        (1.0, 1, "wait", "b", -1, 1),
        (1.0, 2, "graduate", "a", -1, 1), (1.0, 2, "apply", "b", -1, 1), (1.0, 2, "leave", "a", -1, 1),
        (1.0, 2, "wait", "b", -1, 2),
        # t = 1.5: firm 0 leaves b; firm 1 (first in line) takes the slot.
        (1.5, 0, "graduate", "b", 0, -1), (1.5, 0, "leave", "b", 0, -1), (1.5, 0, "exit", None, -1, -1),
        (1.5, 1, "admit", "b", 0, 1),
        (2.0, 1, "graduate", "b", 0, -1), (2.0, 1, "leave", "b", 0, -1), (2.0, 1, "exit", None, -1, -1),
        (2.0, 2, "admit", "b", 0, 1),
        (2.5, 2, "graduate", "b", 0, -1), (2.5, 2, "leave", "b", 0, -1), (2.5, 2, "exit", None, -1, -1),
    ]  # fmt: skip
    assert got == want, "\n".join(f"{g} | {w}" for g, w in zip(got, want, strict=False) if g != w)


def test_blocking_holds_the_slot_until_room_opens() -> None:
    data = tiny(**{"stages.b.admission": {"on_full": "block"}, "stages.a.carriers": {"count": 1, "capacity": 3}})
    got = trace(data)
    want = [
        (0.0, 0, "arrive", "a", -1, 0), (0.0, 0, "apply", "a", -1, 0), (0.0, 0, "admit", "a", 0, 0),
        (0.0, 1, "arrive", "a", -1, 0), (0.0, 1, "apply", "a", -1, 0), (0.0, 1, "admit", "a", 0, 0),
        (0.0, 2, "arrive", "a", -1, 0), (0.0, 2, "apply", "a", -1, 0), (0.0, 2, "admit", "a", 0, 0),
        (1.0, 0, "graduate", "a", 0, 1), (1.0, 0, "apply", "b", -1, 1), (1.0, 0, "leave", "a", 0, 1),
        (1.0, 0, "admit", "b", 1, 0),
        # b is full: firms 1 and 2 block, keeping their slots in a.
        (1.0, 1, "graduate", "a", 0, 1), (1.0, 1, "apply", "b", -1, 1), (1.0, 1, "block", "a", 0, 1),
        (1.0, 2, "graduate", "a", 0, 1), (1.0, 2, "apply", "b", -1, 1), (1.0, 2, "block", "a", 0, 1),
        # t = 1.5: firm 0 leaves b; firm 1 (blocked first) leaves a and enters b.
        (1.5, 0, "graduate", "b", 1, -1), (1.5, 0, "leave", "b", 1, -1), (1.5, 0, "exit", None, -1, -1),
        (1.5, 1, "leave", "a", 0, 1), (1.5, 1, "admit", "b", 1, 0),
        (2.0, 1, "graduate", "b", 1, -1), (2.0, 1, "leave", "b", 1, -1), (2.0, 1, "exit", None, -1, -1),
        (2.0, 2, "leave", "a", 0, 1), (2.0, 2, "admit", "b", 1, 0),
        (2.5, 2, "graduate", "b", 1, -1), (2.5, 2, "leave", "b", 1, -1), (2.5, 2, "exit", None, -1, -1),
    ]  # fmt: skip
    assert got == want, "\n".join(f"{g} | {w}" for g, w in zip(got, want, strict=False) if g != w)


def test_blocked_firms_do_not_fail_while_blocked_but_resume_nothing() -> None:
    # Failure at 1.2 in stage a would hit firm 2 while blocked (1.0 .. 2.0): blocked firms' hazards pause.
    data = tiny(
        **{
            "stages.b.admission": {"on_full": "block"},
            "stages.a.carriers": {"count": 1, "capacity": 3},
            "stages.a.failure": {"dist": "fixed", "value": 1.2},
        }
    )
    got = trace(data)
    assert not [g for g in got if g[2] == "fail"], f"a blocked firm failed: {[g for g in got if g[2] == 'fail']}"


def test_patience_runs_out_and_firm_goes_to_fallback() -> None:
    data = tiny(
        **{
            "stages.b.admission": {"on_full": "queue", "patience": {"dist": "fixed", "value": 0.3}, "fallback": "exit"},
        }
    )
    got = [g for g in trace(data) if g[0] > 1.0]
    want = [
        (1.3, 1, "renege", "b", -1, -1), (1.3, 1, "exit", None, -1, -1),
        (1.3, 2, "renege", "b", -1, -1), (1.3, 2, "exit", None, -1, -1),
        (1.5, 0, "graduate", "b", 0, -1), (1.5, 0, "leave", "b", 0, -1), (1.5, 0, "exit", None, -1, -1),
    ]  # fmt: skip
    assert got == want, f"got {got}"


def test_skip_sends_firm_to_fallback_at_once() -> None:
    data = tiny(
        **{
            "stages.b.admission": {"on_full": "skip", "fallback": "c"},
            "stages.c": {"failure": {"dist": "fixed", "value": 0.25}},
        }
    )
    got = [g for g in trace(data) if g[0] >= 1.0 and g[1] == 1]
    want = [
        (1.0, 1, "graduate", "a", -1, 1), (1.0, 1, "apply", "b", -1, 1), (1.0, 1, "skip", "b", -1, 2),
        (1.0, 1, "leave", "a", -1, 2), (1.0, 1, "apply", "c", -1, 2), (1.0, 1, "admit", "c", -1, 0),
        (1.25, 1, "fail", "c", -1, -1), (1.25, 1, "leave", "c", -1, -2),
    ]  # fmt: skip
    assert got == want, f"got {got}"


def test_time_out_routes_by_on_timeout_not_graduation() -> None:
    data = tiny(
        **{
            "stages.a.max_stay_years": 0.75,
            "stages.a.on_timeout": {"exit": 1.0},
        }
    )
    got = [g for g in trace(data) if g[1] == 0]
    assert (0.75, 0, "time_out", "a", -1, -1) in got, f"no time-out at 0.75: {got}"
    assert not [g for g in got if g[2] == "graduate"], "a firm that timed out also graduated"


def test_hazard_multiplier_retimes_pending_event_from_budget_left() -> None:
    # Exponential graduation at rate 1 per year; from t = 0.5 the rate doubles. A firm whose budget is E
    # graduates at E if E < 0.5, else at 0.5 + (E - 0.5) / 2.
    base = tiny(
        **{
            "stages.a.graduation": {"dist": "exponential", "rate": 1.0},
            "initial_stock.0.count": 200,
            "calendar.horizon_years": 30,
        }
    )
    pol = dict(base)
    pol["policies"] = [
        {
            "type": "hazard_multiplier",
            "hazard": "graduation",
            "factor": 2.0,
            "start": "2020-07-02",
            "target": {"stages": ["a"]},
        }
    ]
    t_half = sim.calendar.decimal_year(sim.calendar.parse_date("2020-07-02")) - 2020
    ev0 = sim.run(sim.parse_scenario(base), seed=3).events
    ev1 = sim.run(sim.parse_scenario(pol), seed=3).events
    g0 = ev0[(ev0.event == "graduate") & (ev0.stage == "a")].set_index("firm")["time"]
    g1 = ev1[(ev1.event == "graduate") & (ev1.stage == "a")].set_index("firm")["time"]
    expect = g0.where(g0 < t_half, t_half + (g0 - t_half) / 2)
    assert len(g0) == 200
    assert (g1.sort_index() - expect.sort_index()).abs().max() < 1e-9, "re-timed graduations off the closed form"
