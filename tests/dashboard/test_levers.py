"""Levers read from the scenario, applied to it, and the workshop presets (no browser, no Panel)."""

from __future__ import annotations

import pytest

import sim
from sim.dashboard.levers import HORIZON, LeverError, apply_levers, default_values, levers_for, presets_for
from tests.helpers import SCENARIOS


@pytest.fixture(scope="module")
def mix() -> sim.Scenario:
    return sim.load_scenario(SCENARIOS / "policy_mix.toml")


@pytest.fixture(scope="module")
def relief() -> sim.Scenario:
    return sim.load_scenario(SCENARIOS / "covid_rent_relief.toml")


def test_levers_come_from_the_scenarios_stages_policies_and_shocks(tutorial: sim.Scenario, mix: sim.Scenario) -> None:
    keys = [lv.key for lv in levers_for(tutorial)]
    carrier_stages = [n for n, st in tutorial.stages.items() if st.carriers is not None]
    assert keys[0] == HORIZON
    for name in carrier_stages:
        assert f"stages.{name}.carriers.count" in keys, name
    assert "stages.market.carriers.count" not in keys, "the market has no carriers, so no carrier lever"
    assert keys == [k for k in keys if not k.startswith(("policies.", "shocks."))], "the tutorial has no policy"
    assert "stages.incubator.admission.screening.threshold" in keys, "the incubator screens: its threshold is a lever"
    mix_keys = [lv.key for lv in levers_for(mix)]
    switches = [k for k in mix_keys if k.startswith("policies.") and k.endswith(".on")]
    assert len(switches) == len(mix.policies), f"one switch per policy: {switches}"
    assert "policies.3.refund_share" in mix_keys and "policies.3.cap_per_carrier_yuan" in mix_keys


def test_default_values_give_back_the_scenario(mix: sim.Scenario) -> None:
    levers = levers_for(mix)
    again = apply_levers(mix, levers, default_values(levers))
    assert again == mix


def test_levers_change_the_named_fields_and_switches_drop_items(relief: sim.Scenario) -> None:
    levers = levers_for(relief)
    values = {
        "stages.accelerator.carriers.count": 3,
        "policies.0.refund_share": 0.25,
        "shocks.0.on": False,
        HORIZON: 5.0,
    }
    out = apply_levers(relief, levers, values, name="v")
    assert out.name == "v"
    assert out.stages["accelerator"].carriers is not None and out.stages["accelerator"].carriers.count == 3
    assert out.policies[0].refund_share == 0.25  # type: ignore[union-attr]
    assert out.shocks == () and out.calendar.horizon_years == 5.0
    off = apply_levers(relief, levers, {"policies.0.on": False})
    assert off.policies == () and off.shocks == relief.shocks


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("stages.accelerator.carriers.capacity", 0, "stages.accelerator.carriers.capacity: must be between 1 and"),
        (HORIZON, 500, "calendar.horizon_years: must be between 1 and 50 on the dashboard, got 500"),
        ("policies.0.refund_share", 1.5, "policies[0].refund_share: must be <= 1"),  # the schema's own line
        ("stages.accelerator.carriers.count", 2.5, "stages.accelerator.carriers.count: must be a whole number"),
        ("stages.incubator.admission.screening.threshold", "high", "must be a number, got 'high'"),
    ],
)
def test_refused_values_give_one_line_on_their_lever(
    relief: sim.Scenario, key: str, value: object, message: str
) -> None:
    with pytest.raises(LeverError) as err:
        apply_levers(relief, levers_for(relief), {key: value})
    assert list(err.value.by_lever) == [key], f"the message is not attached to its lever: {err.value.by_lever}"
    line = err.value.by_lever[key]
    assert message in line and "\n" not in line, line


def test_schema_lines_keep_the_levers_index_when_earlier_policies_are_off(mix: sim.Scenario) -> None:
    with pytest.raises(LeverError) as err:
        apply_levers(mix, levers_for(mix), {"policies.0.on": False, "policies.3.refund_share": 3.0})
    assert err.value.by_lever == {"policies.3.refund_share": "policies[3].refund_share: must be <= 1, got 3.0"}


def test_presets_apply_where_the_scenario_has_what_they_need(
    tutorial: sim.Scenario, mix: sim.Scenario, relief: sim.Scenario
) -> None:
    def by_key(sc: sim.Scenario) -> dict[str, object]:
        return {p.key: p for p in presets_for(sc, levers_for(sc))}

    tut = by_key(tutorial)
    assert tut["preset_bottleneck"].applies  # type: ignore[attr-defined]
    assert tut["preset_bottleneck"].baseline == {"stages.accelerator.carriers.capacity": 5}  # type: ignore[attr-defined]
    assert tut["preset_bottleneck"].variant == {}  # type: ignore[attr-defined]
    assert not tut["preset_shock"].applies and "a shock and a rent_relief policy" in tut["preset_shock"].reason[0]  # type: ignore[attr-defined]
    assert not tut["preset_mix"].applies and "it has 0" in tut["preset_mix"].reason[0]  # type: ignore[attr-defined]
    rel = by_key(relief)["preset_shock"]
    assert rel.applies and rel.baseline == {"policies.0.on": False} and rel.variant == {"policies.0.on": True}  # type: ignore[attr-defined]
    mixed = by_key(mix)["preset_mix"]
    assert mixed.applies and len(mixed.baseline) == len(mix.policies)  # type: ignore[attr-defined]
    # every preset's values are valid levers of its scenario
    for sc in (tutorial, mix, relief):
        levers = levers_for(sc)
        for p in presets_for(sc, levers):
            if p.applies:
                apply_levers(sc, levers, {**p.baseline})
                apply_levers(sc, levers, {**p.variant})
