"""Conservation: every firm is accounted for, in every month of every shipped scenario."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from tests.helpers import SCENARIOS

SHIPPED = sorted(p for p in SCENARIOS.glob("*.toml"))


def short(path: Path) -> sim.Scenario:
    sc = sim.load_scenario(path)
    # Conservation is a property of every month; a few years of the big scenarios are enough to test it.
    cap = 3.0 if "jiangsu" in path.name else 200.0
    return sc.with_changes({"calendar.horizon_years": min(sc.calendar.horizon_years, cap)})


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_arrived_equals_active_plus_failed_plus_exited(path: Path) -> None:
    res = sim.run(short(path), seed=11)
    ts = res.timeseries
    bad = ts[ts["arrived"] != ts["active"] + ts["failed"] + ts["exited"]]
    assert bad.empty, f"{path.name}: not conserved in months {bad['month'].unique()[:5]}"
    # and the stocks agree with the firm table at the horizon
    last = ts[ts["month"] == ts["month"].max()]
    firms = res.firms
    assert int(last["arrived"].iloc[0]) == len(firms)
    counts = firms["outcome"].value_counts()
    assert int(last["active"].iloc[0]) == counts.get("active", 0), "active at horizon differs from firm table"
    assert int(last["failed"].iloc[0]) == counts.get("failed", 0)
    assert int(last["exited"].iloc[0]) == counts.get("exited", 0)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_occupancy_never_exceeds_capacity_and_is_never_negative(path: Path) -> None:
    res = sim.run(short(path), seed=5)
    ts = res.timeseries
    assert (ts["occupancy"] >= 0).all() and (ts["queue"] >= 0).all(), "negative stock"
    capped = ts[ts["capacity"] >= 0].copy()
    # A carrier that closes admits no one but its tenants finish their stays there (docs/model.md), so the
    # places to check against are those of open carriers plus the tenants still winding down in closed ones.
    capped["winding_down"] = winding_down(res, capped)
    # The column holds capacities before any policy: a capacity_change adds up to x factor places per carrier
    # (rounded, so at most half a place more each).
    boost = math.prod(max(1.0, p.factor) for p in res.scenario.policies if p.type == "capacity_change")
    slack = 0.0 if boost == 1.0 else 0.5 * len(res.carriers)
    places = capped["capacity"] * boost + slack + capped["winding_down"]
    over = capped[capped["occupancy"] > places]
    assert over.empty, (
        f"{path.name}: occupancy above capacity: {over[['month', 'stage', 'occupancy', 'capacity']].head()}"
    )


def winding_down(res: sim.RunResult, ts: pd.DataFrame) -> np.ndarray:
    """Per time-series row: tenants of its stage at the month's end in carriers closed by then."""
    ce = res.carrier_events
    closed = ce[ce.event == "close"].set_index("carrier")["time_years"]
    if closed.empty:
        return np.zeros(len(ts), dtype=np.int64)
    ev = res.events
    stays = ev[ev.event.isin(["admit", "leave"]) & ev.carrier.isin(closed.index)]
    out = np.zeros(len(ts), dtype=np.int64)
    for i, (stage, t_end) in enumerate(zip(ts["stage"].astype(str), ts["t_years"], strict=True)):
        mine = stays[(stays.stage == stage) & (stays.time <= t_end)]
        held = (mine.event == "admit").astype(int) - (mine.event == "leave").astype(int)
        shut = closed.reindex(mine.carrier).to_numpy() <= t_end
        out[i] = int(held[shut].sum())
    return out


def test_every_admission_is_matched_by_a_leave_or_censored(tutorial: sim.Scenario) -> None:
    res = sim.run(tutorial, seed=2)
    ev = res.events
    adm = ev[ev.event == "admit"].groupby("firm").size()
    lv = ev[ev.event == "leave"].groupby("firm").size().reindex(adm.index, fill_value=0)
    open_stays = adm - lv
    active = res.firms.set_index("firm")["outcome"] == "active"
    waiting = ev.groupby("firm")["event"].last() == "wait"
    assert ((open_stays == 0) | (open_stays == 1)).all(), "a firm holds two stays at once"
    expect_open = (active & ~waiting.reindex(active.index, fill_value=False)).reindex(adm.index, fill_value=False)
    assert np.array_equal(open_stays.to_numpy() == 1, expect_open.to_numpy()), "open stays do not match active firms"
    # every failed or exited firm has exactly one final event
    finals = ev[ev.event.isin(["fail", "exit"])].groupby("firm").size()
    assert (finals == 1).all(), "a firm ended twice"
