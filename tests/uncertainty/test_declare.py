"""Declaring uncertainty: distributions, paths by name, ranges, and one-line errors naming the path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import sim
from sim.errors import ScenarioError
from sim.uncertainty import load_uncertainty, parse_uncertainty, resolve_path
from sim.uncertainty.declare import apply_values, unit_points


def _one(scenario: sim.Scenario, path: str, **spec: object) -> sim.uncertainty.Uncertain:
    return parse_uncertainty(scenario, {path: {"source": "test", **spec}}).params[0]


def test_named_list_items_resolve_to_indices(relief: sim.Scenario) -> None:
    assert resolve_path(relief, "policies.rent_relief_2020.failure_factor") == "policies.0.failure_factor"
    assert resolve_path(relief, "arrivals.founders.rate_per_year.2019") == "arrivals.0.rate_per_year.2019"
    with pytest.raises(ScenarioError, match=r"^policies\.nope: no item named 'nope'"):
        resolve_path(relief, "policies.nope.failure_factor")


@pytest.mark.parametrize(
    ("spec", "reference"),
    [
        ({"dist": "uniform", "low": 0.1, "high": 0.5}, stats.uniform(0.1, 0.4)),
        ({"dist": "triangular", "low": 0.1, "mode": 0.2, "high": 0.5}, stats.triang(0.25, loc=0.1, scale=0.4)),
        ({"dist": "normal", "mean": 0.3, "sd": 0.05}, stats.norm(0.3, 0.05)),
        ({"dist": "lognormal", "median": 0.3, "sigma": 0.2}, stats.lognorm(0.2, scale=0.3)),
        ({"dist": "beta", "alpha": 2.0, "beta": 3.0, "low": 0.1, "high": 0.6}, stats.beta(2, 3, loc=0.1, scale=0.5)),
    ],
    ids=["uniform", "triangular", "normal", "lognormal", "beta"],
)
def test_quantiles_follow_the_declared_distribution(tutorial: sim.Scenario, spec: dict, reference: object) -> None:
    p = _one(tutorial, "stages.maker_space.failure.rate", **spec)
    for u in (0.05, 0.3, 0.5, 0.9):
        assert p.value(u) == pytest.approx(float(reference.ppf(u)), rel=1e-9), f"{spec['dist']} at {u}"  # type: ignore[attr-defined]


def test_truncated_normal_stays_in_its_bounds_and_unbounded_range_is_the_central_95_percent(
    tutorial: sim.Scenario,
) -> None:
    p = _one(tutorial, "stages.maker_space.failure.rate", dist="normal", mean=0.3, sd=0.2, low=0.1)
    assert p.low == 0.1, "a truncated normal's low end is its bound"
    assert p.value(1e-6) >= 0.1
    assert p.high == pytest.approx(float(stats.truncnorm(-1, np.inf, loc=0.3, scale=0.2).ppf(0.975)))
    free = _one(tutorial, "stages.maker_space.failure.rate", dist="normal", mean=0.3, sd=0.01)
    assert (free.low, free.high) == pytest.approx((0.3 - 1.959964 * 0.01, 0.3 + 1.959964 * 0.01), rel=1e-6)


def test_whole_number_fields_get_whole_numbers_and_choices_pick_listed_values(tutorial: sim.Scenario) -> None:
    cap = _one(tutorial, "stages.incubator.carriers.capacity", dist="uniform", low=20, high=40)
    assert cap.integer and isinstance(cap.value(0.37), int)
    pick = _one(tutorial, "stages.incubator.carriers.capacity", dist="choice", values=[20, 30, 40])
    assert [pick.value(u) for u in (0.0, 0.34, 0.99)] == [20, 30, 40]


def test_draws_apply_to_the_scenario_and_skip_fields_it_lacks(shock: sim.Scenario, relief: sim.Scenario) -> None:
    u = parse_uncertainty(
        relief,
        {
            "policies.rent_relief_2020.failure_factor": {"dist": "uniform", "low": 0.6, "high": 1.0, "source": "t"},
            "stages.incubator.graduation.scale": {"dist": "uniform", "low": 0.8, "high": 1.4, "source": "t"},
        },
    )
    values = {"policies.rent_relief_2020.failure_factor": 0.7, "stages.incubator.graduation.scale": 1.3}
    changed = apply_values(relief, u, values)
    assert changed.policies[0].failure_factor == 0.7  # type: ignore[union-attr]
    base = apply_values(shock, u, values)  # the baseline has no relief policy: only the stage field changes
    assert base.stages["incubator"].graduation.scale == 1.3  # type: ignore[union-attr]
    assert base.policies == shock.policies


def test_latin_hypercube_draws_are_reproducible_and_stratified() -> None:
    a, b = unit_points(20, 3, seed=7), unit_points(20, 3, seed=7)
    assert np.array_equal(a, b), "same seed, different draws"
    assert not np.array_equal(a, unit_points(20, 3, seed=8))
    for j in range(3):  # one draw in each twentieth of every axis
        assert sorted(np.floor(a[:, j] * 20).astype(int)) == list(range(20))


@pytest.mark.parametrize(
    ("table", "expect"),
    [
        (
            {"stages.incubatr.capacity": {"dist": "uniform", "low": 1, "high": 2}},
            "uncertainty.stages.incubatr: unknown key",
        ),
        ({"stages.maker_space.failure.rate": {"dist": "uniform", "low": 0.5, "high": 0.1}}, "low must be < high"),
        (
            {"stages.maker_space.failure.rate": {"dist": "gauss", "mean": 1}},
            "uncertainty.stages.maker_space.failure.rate.dist: must be one of",
        ),
        (
            {"stages.maker_space.failure.rate": {"dist": "uniform", "low": -0.5, "high": 0.1}},
            "the value -0.5 makes the scenario invalid",
        ),
        ({"stages.market.failure": {"dist": "uniform", "low": 0.1, "high": 0.2}}, "names a table or a list"),
        ({"stages.market.label": {"dist": "uniform", "low": 0.1, "high": 0.2}}, 'not a number; use dist = "choice"'),
        ({"stages.maker_space.failure.rate": {"dist": "normal", "mean": 0.1, "sd": 0}}, ".sd: must be > 0"),
        ({"stages.maker_space.failure.rate": 0.3}, "must be a table"),
    ],
    ids=[
        "unknown-path",
        "bounds-order",
        "unknown-dist",
        "bound-outside-range",
        "table",
        "string-field",
        "sd",
        "not-a-table",
    ],
)
def test_bad_declarations_name_the_path(tutorial: sim.Scenario, table: dict, expect: str) -> None:
    table = {k: ({**v, "source": "t"} if isinstance(v, dict) else v) for k, v in table.items()}
    with pytest.raises(ScenarioError) as info:
        parse_uncertainty(tutorial, table)
    lines = info.value.problems
    assert any(expect in line for line in lines), lines
    assert all(line.startswith("uncertainty.") for line in lines), lines


def test_missing_source_is_refused(tutorial: sim.Scenario) -> None:
    with pytest.raises(ScenarioError, match=r"stages\.maker_space\.failure\.rate\.source: required field is missing"):
        parse_uncertainty(tutorial, {"stages.maker_space.failure.rate": {"dist": "uniform", "low": 0.1, "high": 0.2}})


def test_a_file_or_the_scenario_table(tmp_path: Path, decay: sim.Scenario) -> None:
    from .conftest import DECAY

    assert load_uncertainty(decay, DECAY).names[0] == "stages.market.failure.rate"
    f = tmp_path / "u.toml"
    f.write_text(
        '[uncertainty]\n"stages.market.failure.rate" = { dist = "uniform", low = 0.1, high = 0.2, source = "t" }\n'
    )
    assert len(load_uncertainty(decay, DECAY, f)) == 1
    f.write_text("[other]\nx = 1\n")
    with pytest.raises(ScenarioError, match="other: unknown key"):
        load_uncertainty(decay, DECAY, f)
    with pytest.raises(ScenarioError, match=r"--params nope: not declared"):
        load_uncertainty(decay, DECAY).select(["nope"])


def test_the_province_declares_its_policy_effects_and_validates() -> None:
    from tests.helpers import SCENARIOS

    sc = sim.load_scenario(SCENARIOS / "jiangsu.toml")
    u = load_uncertainty(sc, SCENARIOS / "jiangsu.toml")
    assert len(u) >= 10
    for p in u.params:
        assert p.source, f"{p.path}: no source"
        assert p.low <= p.default <= p.high, f"{p.path}: the scenario's own value {p.default} is outside its range"
