"""The twin itself: hand-checked numbers, internal consistency, what it refuses, and its command.

These are deterministic: tolerances are floating-point (1e-9 relative) unless a numerical method is
involved, where the comment says which error the tolerance covers.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

import sim
from sim.analytic import NotClosedForm, solve
from sim.cli import main
from sim.markov import erlang_b, erlang_c, mmc_mean_queue
from tests.helpers import SCENARIOS
from tests.verification.twin_checks import mixed_quality, single_stage

TEXTBOOK = SCENARIOS / "textbook_exponential.toml"


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(1.0, abs(b))


def test_textbook_numbers_worked_by_hand() -> None:
    tw = solve(sim.load_scenario(TEXTBOOK))
    # Leaving a stage: graduation wins the race with probability g / (f + g).
    p_exit_market = 0.03 / 0.23
    p_exit_acc = 0.6 / 0.7 * 0.4
    p_exit_inc = 0.5 / 0.65 * (0.1 + 0.4 * p_exit_acc + 0.5 * p_exit_market)
    p_exit_maker = 1.2 / 1.6 * (0.1 + 0.5 * p_exit_inc + 0.4 * p_exit_market)
    assert rel(tw.entries["maker_space"].p_exited, p_exit_maker) < 1e-9
    assert rel(tw.entries["incubator"].p_exited, p_exit_inc) < 1e-9
    # Settling in the park: reached from the maker space via incubator and accelerator.
    p_park = 1.2 / 1.6 * 0.5 * 0.5 / 0.65 * 0.4 * 0.6 / 0.7 * 0.6
    assert rel(tw.entries["maker_space"].p_ends_in["industrial_park"], p_park) < 1e-9
    # Steady state: L = inflow x mean stay, inflows from the routing.
    inflow_inc = 200 * 1.2 / 1.6 * 0.5 + 30
    assert rel(tw.steady["maker_space"].mean_occupancy, 200 / 1.6) < 1e-9
    assert rel(tw.steady["incubator"].mean_occupancy, inflow_inc / 0.65) < 1e-9
    assert rel(tw.flows_per_year["incubator"]["accelerator"], inflow_inc * 0.5 / 0.65 * 0.4) < 1e-9
    # A firm admitted to the park stays there until it fails: survival exp(-0.05 t), no exits.
    park = tw.entries["industrial_park"]
    assert np.allclose(park.survival, np.exp(-0.05 * tw.survival_times_years), rtol=1e-9)
    # Expected visits of the incubator from the maker space: reached once with probability 0.375.
    assert rel(tw.entries["maker_space"].expected_visits["incubator"], 1.2 / 1.6 * 0.5) < 1e-9


def test_twin_conserves_firms_over_the_window() -> None:
    """Expected arrivals + stock = expected failed + exited + still present, from independent computations.

    Occupancy comes from the propagated state, failures and exits from integrals of it; the identity
    holds to the accuracy of the matrix exponentials (~1e-12 relative).
    """
    for sc in (
        sim.load_scenario(TEXTBOOK),
        mixed_quality(),
        single_stage("skip", 10, 40.0, 3.0, 0.0),
        single_stage("queue", 5, 20.0, 6.0, 0.0),
    ):
        tw = solve(sc)
        arrived = sum(s.count for s in sc.initial_stock)
        for a in sc.arrivals:
            times, rates = a.rate_steps(sc.calendar)
            edges = [0.0, *[t for t in times if t < tw.horizon_years], tw.horizon_years]
            arrived += sum(r * (e1 - e0) for r, e0, e1 in zip(rates, edges, edges[1:], strict=False))
        gone = sum(w.failures + w.exits for w in tw.window.values())
        present = sum(w.occupancy_end for w in tw.window.values()) + tw.queue[-1].sum()
        assert rel(gone + present, arrived) < 1e-9, f"{sc.name}: {gone} + {present} != {arrived}"


def test_quadrature_over_quality_has_converged() -> None:
    # Gauss-Hermite with 40 nodes against 80: the integrands are smooth in q, so the two agree far
    # below any sampling error (1e-8 relative).
    sc = mixed_quality()
    a, b = solve(sc), solve(sc, quality_nodes=80)
    assert rel(a.cohort.p_failed, b.cohort.p_failed) < 1e-8
    for s in sc.stages:
        assert rel(a.window[s].mean_occupancy, b.window[s].mean_occupancy) < 1e-8
    assert np.allclose(a.cohort.survival, b.cohort.survival, rtol=1e-8)


def test_birth_death_blocks_settle_on_erlang_formulas() -> None:
    """The time course of a binding stage (a matrix exponential of its birth-death chain) ends at Erlang's law.

    Two independent computations: the propagated state at the horizon and the closed forms. The loss
    stage forgets its empty start within weeks, so after 30 years they agree to 1e-8. The queue relaxes
    with time constant about 1 / (sqrt(c mu) - sqrt(lambda))^2 = 3.6 years, so after 60 years what is
    left of the start is below exp(-60 / 3.6) ~ 6e-8 of it; its waiting list is truncated with fewer
    than 1e-9 firms misplaced. Hence 1e-7 relative.
    """
    loss = solve(single_stage("skip", 10, 40.0, 30.0, 0.0))
    assert rel(loss.occupancy[-1, 0], 8.0 * (1 - erlang_b(10, 8.0))) < 1e-8
    assert rel(loss.steady["s"].skips, 40.0 * erlang_b(10, 8.0)) < 1e-12
    queue = solve(single_stage("queue", 5, 20.0, 60.0, 0.0))
    assert rel(queue.occupancy[-1, 0], 4.0) < 1e-7
    assert rel(queue.queue[-1, 0], mmc_mean_queue(5, 20.0, 5.0)) < 1e-7
    assert rel(queue.queues["s"].p_wait, erlang_c(5, 4.0)) < 1e-12


def test_kaplan_meier_estimand_is_survival_when_nobody_exits() -> None:
    # The two survival curves differ only through exits; without exits they coincide (the Simpson
    # integral of the hazard is accurate to ~1e-10 here).
    sc = sim.load_scenario(TEXTBOOK)
    tw = solve(sc)
    park = tw.entries["industrial_park"]
    assert np.allclose(park.survival_km, park.survival, rtol=1e-8)
    maker = tw.entries["maker_space"]
    assert maker.survival_km[-1] < maker.survival[-1] - 0.05, "exits should make the KM estimand lower"


def textbook_with(**changes: Any) -> sim.Scenario:
    base = sim.load_scenario(TEXTBOOK)
    return base.with_changes(changes)


def reasons_of(sc: sim.Scenario, **kw: Any) -> list[str]:
    with pytest.raises(NotClosedForm) as info:
        solve(sc, **kw)
    return info.value.reasons


def test_tutorial_is_refused_naming_every_field() -> None:
    reasons = reasons_of(sim.load_scenario(SCENARIOS / "tutorial.toml"))
    paths = {r.split(":")[0] for r in reasons}
    assert paths == {
        "stages.maker_space.graduation",
        "stages.maker_space.max_stay_years",
        "stages.incubator.failure",
        "stages.incubator.graduation",
        "stages.incubator.max_stay_years",
        "stages.incubator.admission.screening",
        "stages.accelerator.graduation",
        "stages.accelerator.max_stay_years",
        "stages.market.failure",
    }, reasons
    assert "stages.market.failure: weibull hazard on the firm's age (only exponential is closed-form)" in reasons


def test_policies_and_unintegrable_quality_are_refused() -> None:
    sc = textbook_with(
        **{
            "firms.quality_on_failure": 0.3,
            "firms.quality": {"dist": "lognormal", "mu": 0.0, "sigma": 0.5},
            "policies": [
                {"type": "hazard_multiplier", "hazard": "failure", "factor": 0.8},
                {"type": "arrival_multiplier", "factor": 1.5, "start": 2025},
                {"type": "capacity_change", "factor": 2.0},
            ],
        }
    )
    paths = [r.split(":")[0] for r in reasons_of(sc)]
    assert paths == ["firms.quality", "policies[0]", "policies[2]"], paths


def test_arrival_multiplier_is_exact_piecewise() -> None:
    # Doubling the founders from 2030 equals a rate table that doubles in 2030.
    double = {"type": "arrival_multiplier", "factor": 2.0, "start": 2030, "arrivals": ["founders"]}
    a = solve(textbook_with(policies=[double]))
    b = solve(textbook_with(**{"arrivals.0.rate_per_year": {"2020": 200.0, "2030": 400.0}}))
    assert np.allclose(a.occupancy, b.occupancy, rtol=1e-12)
    assert a.steady["maker_space"].mean_occupancy == pytest.approx(400 / 1.6, rel=1e-12)


def test_capacity_rules() -> None:
    # Huge capacity: never binds (noted). Small capacity fed by another stage: refused, naming why;
    # assume_unlimited answers anyway and says so.
    small = textbook_with(**{"stages.accelerator.carriers.capacity": 10})
    reasons = reasons_of(small)
    assert len(reasons) == 1 and reasons[0].startswith("stages.accelerator.carriers: 20 slots bind"), reasons
    assert "receives firms from stages.incubator" in reasons[0]
    tw = solve(small, assume_unlimited=True)
    assert any("treated as unlimited" in n for n in tw.notes)
    assert any(n.startswith("stages.maker_space.carriers: 1000 slots never bind") for n in tw.notes)
    # A binding entry stage with a finite waiting list or patience is refused, naming the field.
    q = single_stage("queue", 5, 20.0, 10.0, 0.0).with_changes(
        {"stages.s.admission.queue_limit": 3, "stages.s.admission.patience": {"dist": "exponential", "rate": 2.0}}
    )
    text = reasons_of(q)[0]
    assert "stages.s.admission.queue_limit" in text and "stages.s.admission.patience" in text


def test_exponential_age_clock_is_accepted_with_a_note() -> None:
    tw = solve(textbook_with(**{"stages.market.failure_clock": "age"}))
    assert any(n.startswith("stages.market.failure_clock") for n in tw.notes)
    same = solve(sim.load_scenario(TEXTBOOK))
    assert np.allclose(tw.occupancy, same.occupancy, rtol=1e-12)


def test_command_prints_tables_json_and_refusals(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analytic", str(TEXTBOOK)]) == 0
    out = capsys.readouterr().out
    assert "closed form" in out and "Flows per year" in out and "ms" in out.splitlines()[0]
    assert main(["analytic", str(TEXTBOOK), "--json", "--horizon", "5"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["horizon_years"] == 5.0 and len(data["timeseries"]["t_years"]) == 60
    assert math.isclose(data["steady_state"]["maker_space"]["mean_occupancy"], 125.0)
    assert main(["analytic", str(SCENARIOS / "tutorial.toml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == reasons_of(sim.load_scenario(SCENARIOS / "tutorial.toml")), "one line per reason, nothing else"


def test_hazard_terms_of_a_stay_are_refused_by_field() -> None:
    sc = textbook_with(
        **{
            "stages.incubator.support": {"quality_scale": 2.0},
            "stages.accelerator.reveal_quality": {"strength": 0.5},
            "stages.incubator.after_stay": {"since_leaving": {"breaks": [1.0], "factors": [1.5, 1.0]}},
        }
    )
    paths = sorted(r.split(":")[0] for r in reasons_of(sc, assume_unlimited=True))
    assert paths == ["stages.accelerator.reveal_quality", "stages.incubator.after_stay", "stages.incubator.support"], (
        paths
    )
