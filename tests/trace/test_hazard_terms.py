"""Exact traces of the hazard terms of a stay (docs/model.md, "Life after the carrier").

Every hazard here is exponential, so each firm's event time follows from its clock budget E: a firm
whose failure hazard is ``r * a(t)`` fails when the integral of ``r * a`` since its admission reaches
E. Common random numbers give a firm the same E with and without a term, so the run without it
reveals E (``E = r * (T0 - entry)``) and the run with it must put each event exactly where that
integral says (to 1e-9 years: rounding only).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

import sim

R_MARKET = 0.4  # failure per year in the market
R_INC = 0.5  # failure per year in the incubator (support test)


def chain(**stage_inc: Any) -> dict[str, Any]:
    """An incubator (fixed 1-year stay, then the market) with room for everyone; long horizon, all fail."""
    inc: dict[str, Any] = {
        "graduation": {"dist": "fixed", "value": 1.0},
        "on_graduation": {"market": 1.0},
        "carriers": {"count": 1, "capacity": 10_000},
        **stage_inc,
    }
    return {
        "name": "terms",
        "calendar": {"start": 2020, "horizon_years": 400},
        "firms": {"quality_on_failure": 0.5, "quality_on_graduation": 0.3},
        "stages": {"incubator": inc, "market": {"failure": {"dist": "exponential", "rate": R_MARKET}}},
        "arrivals": [{"name": "new", "stage": "incubator", "rate_per_year": 100}],
        "policies": [{"type": "arrival_multiplier", "factor": 0.0, "start": "2022-01-01"}],
    }


def event_times(data: dict[str, Any], event: str, stage: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Per firm (by arrival number): the time of ``event`` in ``stage``, its admission there, its quality."""
    res = sim.run(sim.parse_scenario(data), seed=11)
    ev = res.events
    key = res.firms.set_index("firm")
    at = ev[(ev.event == event) & (ev.stage == stage)].groupby("firm")["time"].first()
    entry = ev[(ev.event == "admit") & (ev.stage == stage)].groupby("firm")["time"].first()
    idx = key["source_index"]
    q = key["quality"]
    return (
        pd.Series(at.to_numpy(), index=idx.reindex(at.index).to_numpy()).sort_index(),
        pd.Series(entry.to_numpy(), index=idx.reindex(entry.index).to_numpy()).sort_index(),
        pd.Series(q.to_numpy(), index=idx.to_numpy()).sort_index(),
    )


def first_passage(budget: float, rate: float, pieces: list[tuple[float, float]]) -> float:
    """Years until ``rate * integral of a`` reaches ``budget``; ``a`` is ``factor`` from ``start`` (sorted)."""
    spent = 0.0
    for i, (start, factor) in enumerate(pieces):
        end = pieces[i + 1][0] if i + 1 < len(pieces) else math.inf
        need = (budget - spent) / (rate * factor) if factor > 0 else math.inf
        if start + need <= end:
            return start + need
        spent += rate * factor * (end - start)
    return math.inf


def check_market(data: dict[str, Any], pieces_of: Any) -> int:
    """Market failure times with a term against the closed form from the budgets of the run without it."""
    base = chain()
    t0, e0, _ = event_times(base, "fail", "market")
    t1, e1, q = event_times(data, "fail", "market")
    assert t0.index.equals(t1.index) and len(t0) > 150, "common random numbers broke, or too few firms"
    assert (e0 - e1).abs().max() < 1e-12, "the stay before the market changed"
    worst = 0.0
    for n in t0.index:
        budget = R_MARKET * (t0[n] - e0[n])
        want = e1[n] + first_passage(budget, R_MARKET, pieces_of(q[n]))
        worst = max(worst, abs(t1[n] - want))
    assert worst < 1e-9, f"market failure off the closed form by {worst:g} years"
    return len(t0)


def test_since_leaving_is_a_piecewise_factor_of_time_since_leaving() -> None:
    curve = {"breaks": [0.5, 2.0], "factors": [3.0, 1.5, 1.0]}
    data = chain(after_stay={"since_leaving": curve})
    check_market(data, lambda q: [(0.0, 3.0), (0.5, 1.5), (2.0, 1.0)])


def test_by_stay_years_is_a_factor_of_the_completed_stay() -> None:
    # Stays vary: graduation is exponential (rate 1); stays shorter than 0.8 years double the market
    # failure hazard afterwards, longer ones halve it.
    def data(after: Any) -> dict[str, Any]:
        d = chain(graduation={"dist": "exponential", "rate": 1.0})
        if after is not None:
            d["stages"]["incubator"]["after_stay"] = after
        return d

    t0, e0, _ = event_times(data(None), "fail", "market")
    t1, e1, _ = event_times(data({"by_stay_years": {"breaks": [0.8], "factors": [2.0, 0.5]}}), "fail", "market")
    _, arrived, _ = event_times(data(None), "admit", "incubator")
    stay = e0 - arrived.reindex(e0.index)
    assert t0.index.equals(t1.index) and (stay < 0.8).sum() > 50 and (stay >= 0.8).sum() > 50
    factor = stay.map(lambda s: 2.0 if s < 0.8 else 0.5)
    want = e1 + (t0 - e0) / factor
    assert (t1 - want).abs().max() < 1e-9, "market failure off stay-length factor's closed form"


def test_reveal_quality_during_and_after_the_stay() -> None:
    # During the incubator stay (no failure there: nothing to reveal) and 0.75 years after it.
    data = chain(reveal_quality={"strength": 0.8, "years_after": 0.75})
    n = check_market(data, lambda q: [(0.0, math.exp(-0.8 * q)), (0.75, 1.0)])
    assert n > 150


def test_reveal_quality_acts_on_the_stay_itself() -> None:
    fail = {"dist": "exponential", "rate": R_INC}
    t0, e0, q = event_times(chain(failure=fail), "fail", "incubator")
    t1, e1, _ = event_times(chain(failure=fail, reveal_quality={"strength": 0.8}), "fail", "incubator")
    both = t0.index.intersection(t1.index)
    # A firm fails in the incubator in both runs if its stretched or shrunk failure time is under a year.
    assert len(both) > 30
    want = e1[both] + (t0[both] - e0[both]) / (q[both] * -0.8).map(math.exp)
    assert (t1[both] - want).abs().max() < 1e-9, "incubator failure off the reveal factor's closed form"
    factor = (q * -0.8).map(math.exp)
    expect_fail = (t0 - e0) / factor.reindex(t0.index) < 1.0
    assert set(expect_fail[expect_fail].index) <= set(t1.index)


def test_support_fixed_and_through_quality() -> None:
    # In the incubator: failure x 0.5 and quality term x 3 (b_f = 0.5: failure x exp(-0.5 * 2 * q) more).
    fail = {"dist": "exponential", "rate": R_INC}
    sup = {"failure_factor": 0.5, "quality_scale": 3.0}
    t0, e0, q = event_times(chain(failure=fail), "fail", "incubator")
    t1, e1, _ = event_times(chain(failure=fail, support=sup), "fail", "incubator")
    factor = 0.5 * (q * (-(3.0 - 1.0) * 0.5)).map(math.exp)
    both = t0.index.intersection(t1.index)
    assert len(both) > 30
    want = e1[both] + (t0[both] - e0[both]) / factor[both]
    assert (t1[both] - want).abs().max() < 1e-9, "incubator failure off the support factor's closed form"


def test_support_graduation_factor() -> None:
    grad = {"dist": "exponential", "rate": 1.0}
    t0, e0, q = event_times(chain(graduation=grad), "graduate", "incubator")
    t1, e1, _ = event_times(
        chain(graduation=grad, support={"graduation_factor": 2.0, "quality_scale": 0.0}), "graduate", "incubator"
    )
    assert t0.index.equals(t1.index) and len(t0) > 150
    # quality_scale 0 removes the quality term exp(0.3 q): the stay adds exp(-0.3 q).
    factor = 2.0 * (q * -0.3).map(math.exp)
    want = e1 + (t0 - e0) / factor.reindex(t0.index)
    assert (t1 - want).abs().max() < 1e-9, "graduation off the support factor's closed form"


def test_terms_follow_the_firm_into_the_next_carrier_and_step_there() -> None:
    # The since-leaving factor of the incubator keeps running in an accelerator (a carrier stage).
    data = chain(after_stay={"since_leaving": {"breaks": [0.5], "factors": [4.0, 1.0]}})
    base = chain()
    for d in (data, base):
        d["stages"]["incubator"]["on_graduation"] = {"accelerator": 1.0}
        d["stages"]["accelerator"] = {
            "failure": {"dist": "exponential", "rate": R_MARKET},
            "carriers": {"count": 1, "capacity": 10_000},
        }
        del d["stages"]["market"]
    t0, e0, _ = event_times(base, "fail", "accelerator")
    t1, e1, _ = event_times(data, "fail", "accelerator")
    assert t0.index.equals(t1.index)
    want = pd.Series(
        [e1[n] + first_passage(R_MARKET * (t0[n] - e0[n]), R_MARKET, [(0.0, 4.0), (0.5, 1.0)]) for n in t0.index],
        index=t0.index,
    )
    assert (t1 - want).abs().max() < 1e-9, "the after-stay factor did not follow the firm into the accelerator"
