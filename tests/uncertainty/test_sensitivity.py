"""Sensitivity analyses on a scenario with a known answer: only the failure rate moves active firms."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from sim.errors import ScenarioError
from sim.uncertainty import Pair, Uncertainty, sensitivity

RATE = "stages.market.failure.rate"


def test_sobol_gives_the_only_active_parameter_all_the_variance(
    decay: sim.Scenario, decay_uncertainty: Uncertainty
) -> None:
    # Active firms depend on the failure rate alone (common random numbers make the metric a fixed function of
    # the parameters), so S1 = ST = 1 for it and exactly 0 for the others; Saltelli's estimators with n = 32
    # carry bootstrap intervals of about +-0.3, which must cover 1.
    res = sensitivity(decay, decay_uncertainty, "sobol", n=32, second_order=False, metrics=["active_at_horizon"])
    by = res.indices.set_index("parameter")
    s1, conf = float(by.loc[RATE, "S1"]), float(by.loc[RATE, "S1_conf"])
    assert abs(s1 - 1.0) <= max(conf, 0.05), f"S1 of the failure rate {s1:.3f} +- {conf:.3f}: does not cover 1"
    assert float(by.loc[RATE, "ST"]) > 0.9
    for other in decay_uncertainty.names[1:]:
        assert by.loc[other, "S1"] == 0.0 and by.loc[other, "ST"] == 0.0, f"{other} has a non-zero Sobol index"
    assert len(res.points) == 32 * (3 + 2), "Saltelli's design without second order has n (k + 2) points"


def test_morris_gives_a_parameter_that_does_nothing_mu_star_zero(
    decay: sim.Scenario, decay_uncertainty: Uncertainty
) -> None:
    res = sensitivity(decay, decay_uncertainty, "morris", n=4, metrics=["active_at_horizon", "jobs_at_horizon"])
    active = res.indices[res.indices["metric"] == "active_at_horizon"].set_index("parameter")
    # Across the whole range (rate 0.1 -> 0.4) 400 x (exp(-0.5) - exp(-2)) ~ 190 fewer active firms.
    assert 100 < active.loc[RATE, "mu_star"] < 300
    assert active.loc[RATE, "mu"] < 0, "a higher failure rate must lower active firms"
    for other in decay_uncertainty.names[1:]:
        assert active.loc[other, "mu_star"] == 0.0, f"{other} does nothing to active firms but has mu* > 0"
    jobs = res.indices[res.indices["metric"] == "jobs_at_horizon"].set_index("parameter")
    assert jobs.loc["outcomes.jobs.at_founding", "mu_star"] > 0, "jobs at founding must move jobs"


def test_one_way_analysis_ranks_by_swing_and_matches_runs_at_the_ends(
    decay: sim.Scenario, decay_uncertainty: Uncertainty
) -> None:
    res = sensitivity(decay, decay_uncertainty, "oat", reps=2, metrics=["active_at_horizon"])
    top = res.indices.iloc[0]
    assert top["parameter"] == RATE and top["swing"] > 0
    assert list(res.indices["swing"])[1:] == [0.0, 0.0]
    at_low = sim.run_experiment(decay.with_changes({RATE: 0.1}), reps=2).stats
    mean = float(at_low.loc[at_low["metric"] == "active_at_horizon", "mean"].iloc[0])
    assert top["metric_low"] == mean, "the tornado's low end is not the scenario run at the low end"
    assert len(res.points) == 2 * 3 + 1


def test_pair_metrics_are_effects_and_costs(shock: sim.Scenario, relief: sim.Scenario) -> None:
    u = sim.uncertainty.parse_uncertainty(
        relief,
        {"policies.rent_relief_2020.failure_factor": {"dist": "uniform", "low": 0.6, "high": 1.0, "source": "t"}},
    )
    res = sensitivity(
        Pair(shock, relief), u, "oat", reps=3, metrics=["effect.budget.total_yuan", "cost_per.active_at_horizon"]
    )
    spend = res.indices[res.indices["metric"] == "effect.budget.total_yuan"].iloc[0]
    assert spend["metric_default"] > 0, "the relief costs money"
    comparison = sim.compare(shock, relief, reps=3, independent=False)
    cost = comparison.cost_effectiveness.set_index("metric").loc["active_at_horizon", "cost_per_unit"]
    row = res.indices[res.indices["metric"] == "cost_per.active_at_horizon"].iloc[0]
    assert math.isclose(row["metric_default"], cost, rel_tol=1e-12), "the default point is not compare's figure"
    labels = [a.label for a in res.experiment.arms]
    assert labels.count("p00000-base") == 1 and "p00001-base" not in labels, "policy-only points must share a baseline"


def test_bad_requests_are_one_line(decay: sim.Scenario, decay_uncertainty: Uncertainty) -> None:
    with pytest.raises(ScenarioError, match="--n: Sobol's base sample must be a power of 2"):
        sensitivity(decay, decay_uncertainty, "sobol", n=30)
    with pytest.raises(ScenarioError, match="--metrics nope: unknown metric"):
        sensitivity(decay, decay_uncertainty, "oat", metrics=["nope"])
    with pytest.raises(ScenarioError, match="--method: must be one of"):
        sensitivity(decay, decay_uncertainty, "fast")
    assert np.isfinite(sensitivity(decay, decay_uncertainty.select([RATE]), "oat").indices["swing"]).all()
