"""The jobs curve: exact on hand-computed firms, the firm's own factor, and the monthly totals."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import sim
from sim.outcomes import firm_jobs
from sim.streams import BLOCK, Streams
from tests.helpers import SCENARIOS, tiny

from .helpers import run

JOBS = {"at_founding": 2.0, "growth_per_year": 0.5, "growth_until_years": 3.0, "firm_sd": 0.0, "milestone_factor": 2.0}


def hand_scenario(firm_sd: float = 0.0) -> dict[str, Any]:
    """tiny(): three firms born at t = 0 graduate from a at t = 1 (a revenue milestone) and queue for b's one
    slot: firm 0 is in b on [1, 1.5), firm 1 on [1.5, 2), firm 2 from 2; each exits when it leaves b."""
    return tiny(
        calendar__horizon_years=2.25,
        outcomes={"milestones": {"a": {"revenue": 1.0}}, "jobs": {**JOBS, "firm_sd": firm_sd}},
    )


def test_jobs_exact_on_hand_computed_firms() -> None:
    res = run(hand_scenario())
    firms = res.firms.set_index("firm")
    # jobs = 2 x (1 + 0.5 x age) x 2 after the milestone at t = 1; just before exit, or at the horizon
    expected = {0: 2 * 2 * (1 + 0.5 * 1.5), 1: 2 * 2 * (1 + 0.5 * 2.0), 2: 2 * 2 * (1 + 0.5 * 2.25)}
    for f, jobs in expected.items():
        assert firms.loc[f, "jobs"] == pytest.approx(jobs, rel=1e-12), f"firm {f}"
    assert firms["jobs_at_horizon"].tolist() == pytest.approx([0.0, 0.0, 8.5]), "only firm 2 is active"
    ts = res.timeseries
    jobs = ts[ts["stage"] == "a"].set_index("month")["jobs"]
    by_month = {
        5: 3 * 2 * 1.25,  # t = 0.5: three firms, no milestone yet
        11: 3 * 2 * 1.5,  # t = 1: the milestones at exactly t = 1 are not counted yet (left limit)
        12: 3 * 4 * (1 + 0.5 * 13 / 12),  # all boosted
        17: 3 * 4 * 1.75,  # t = 1.5: firm 0 exits at 1.5, still counted (as in `active`)
        18: 2 * 4 * (1 + 0.5 * 19 / 12),
        26: 4 * (1 + 0.5 * 2.25),  # the horizon: firm 2 alone
    }
    for month, value in by_month.items():
        assert jobs[month] == pytest.approx(value, rel=1e-12), f"month {month}: {jobs[month]} != {value}"
    s = res.summary()
    assert s["jobs.at_horizon"] == pytest.approx(8.5) and s["jobs.per_active_firm"] == pytest.approx(8.5)


def test_growth_stops_at_the_cap() -> None:
    """With growth_until_years = 1, every firm's jobs stop growing at age 1: 2 x (1 + 0.5) x 2 = 6."""
    data = hand_scenario()
    data["outcomes"]["jobs"]["growth_until_years"] = 1.0
    assert run(data).firms["jobs"].tolist() == pytest.approx([6.0, 6.0, 6.0])


def test_firm_factor_is_the_firms_own_lognormal_draw() -> None:
    sd, seed, rep = 0.7, 9, 1
    base = run(hand_scenario(), seed=seed, replication=rep)
    res = run(hand_scenario(sd), seed=seed, replication=rep)
    out = res.output
    z = Streams(seed, rep).generator("jobs", int(out.firm_source[0]), 0).standard_normal(BLOCK)
    factor = np.exp(sd * z[out.firm_index] - sd**2 / 2)
    assert np.allclose(res.firms["jobs"], base.firms["jobs"] * factor, rtol=1e-12)


def test_monthly_total_is_the_sum_of_firm_curves() -> None:
    """On the tutorial (firms of every age, milestones, failures, exits), the time series' ``jobs`` equals the
    sum of every firm's jobs at each month's end, computed firm by firm; and its last month the summary's."""
    sc = sim.load_scenario(SCENARIOS / "tutorial.toml").with_changes(
        {"outcomes.milestones": {"incubator": {"high_tech": 0.6, "revenue": 0.4}, "accelerator": {"revenue": 1.0}}}
    )
    res = sim.run(sc, seed=2)
    o = res.outcomes
    assert (o.milestone >= 0).sum() > 50, "too few milestones to exercise the step"
    ts = res.timeseries
    series = ts[ts["stage"] == "market"].set_index("month")["jobs"]
    for month in range(0, len(series)):
        t = min((month + 1) / 12.0, o.horizon)
        want = float(firm_jobs(o, t).sum())
        assert series[month] == pytest.approx(want, rel=1e-9), f"month {month}"
    assert series.iloc[-1] == pytest.approx(res.summary()["jobs.at_horizon"], rel=1e-9)
    assert math.isclose(res.firms["jobs_at_horizon"].sum(), res.summary()["jobs.at_horizon"], rel_tol=1e-9)
