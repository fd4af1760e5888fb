"""Probabilistic sensitivity analysis: a degenerate distribution is compare; the acceptability curve."""

from __future__ import annotations

import numpy as np

import sim
from sim.experiment.cost_effectiveness import OUTCOMES
from sim.uncertainty import parse_uncertainty
from sim.uncertainty.psa import acceptability, psa

FACTOR = "policies.rent_relief_2020.failure_factor"


def test_degenerate_distribution_reproduces_compare_exactly(shock: sim.Scenario, relief: sim.Scenario) -> None:
    # All mass on the scenario's own value: draw i runs replication i of both arms, as compare's pair i does.
    u = parse_uncertainty(relief, {FACTOR: {"dist": "choice", "values": [0.8], "source": "t"}})
    res = psa(shock, relief, u, n=6, reps=1, seed=4)
    comparison = sim.compare(shock, relief, reps=6, seed=4, independent=False)
    cost = comparison.cost_effectiveness.set_index("metric")
    summary = res.summary.set_index("outcome")
    for outcome in OUTCOMES:
        for mine, theirs in (
            ("effect_mean", "outcome_diff_mean"),
            ("spend_diff_mean", "spend_diff_mean"),
            ("cost_per_unit", "cost_per_unit"),
        ):
            a, b = summary.loc[outcome, mine], cost.loc[outcome, theirs]
            assert (np.isnan(a) and np.isnan(b)) or a == b, f"{outcome} {mine}: PSA {a} vs compare {b}"


def test_acceptability_curve_is_monotone_and_reaches_the_share_with_a_gain(
    shock: sim.Scenario, relief: sim.Scenario
) -> None:
    u = parse_uncertainty(relief, {FACTOR: {"dist": "uniform", "low": 0.6, "high": 1.05, "source": "t"}})
    res = psa(shock, relief, u, n=12, reps=1, seed=1, wtp=[1e9])
    draws = res.draws
    assert (draws["effect.budget.total_yuan"] > 0).all(), "relief always costs money"
    for outcome in ("active_at_horizon", "surviving_firms_3y"):
        curve = res.ceac[res.ceac["outcome"] == outcome].sort_values("wtp_yuan")
        prob = curve["probability"].to_numpy()
        assert np.all(np.diff(prob) >= 0), f"{outcome}: the acceptability curve falls somewhere"
        share = float((draws[f"effect.{outcome}"] > 0).mean())
        assert prob[-1] == share, f"{outcome}: reaches {prob[-1]}, {share} of draws gain"
        assert prob[0] == 0.0, "nothing is worth it at a willingness to pay of 0 when it costs money"
        assert (curve["evpi_yuan"] >= -1e-6).all()


def test_acceptability_and_evpi_by_hand() -> None:
    dy = np.array([1.0, 2.0, -1.0, 4.0])
    dc = np.array([10.0, 10.0, 10.0, 10.0])
    prob, evpi = acceptability(dy, dc, np.array([0.0, 5.0, 10.0, 100.0]))
    assert prob.tolist() == [0.0, 0.25, 0.5, 0.75]  # ratios 10, 5, -, 2.5: below 5 only the last; NB > 0 strictly
    nb = 5.0 * dy - dc  # [-5, 0, -15, 10]: E[max(NB, 0)] = 2.5, max(E[NB], 0) = 0
    assert evpi[1] == np.maximum(nb, 0).mean() - max(nb.mean(), 0.0) == 2.5


def test_per_instrument_arms_run_in_every_draw(tutorial: sim.Scenario) -> None:
    from tests.helpers import SCENARIOS

    short = {"calendar.horizon_years": 3}
    base = tutorial.with_changes(short)
    mix = sim.load_scenario(SCENARIOS / "policy_mix.toml").with_changes(short)
    u = parse_uncertainty(
        mix, {"stages.incubator.graduation.scale": {"dist": "uniform", "low": 0.9, "high": 1.3, "source": "t"}}
    )
    res = psa(base, mix, u, n=2, per_instrument=True)
    assert res.instruments is not None
    names = sorted(res.instruments["instrument"].unique())
    from sim.experiment.instruments import added_policies

    assert names == sorted(n for n, _ in added_policies(base, mix))
    assert sorted(res.instruments["draw"].unique()) == [0, 1]
    assert (res.instruments.groupby("instrument")["spend_diff_yuan"].mean() >= 0).all()
