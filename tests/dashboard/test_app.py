"""The page object without a browser: lever events, messages, presets, language (Panel, serial executor)."""

from __future__ import annotations

import pytest

import sim
from tests.helpers import SCENARIOS

pytest.importorskip("panel")

from sim.dashboard.app import Dashboard
from sim.executors import SerialExecutor


@pytest.fixture()
def dash() -> Dashboard:
    sc = sim.load_scenario(SCENARIOS / "covid_rent_relief.toml").with_changes({"calendar.horizon_years": 3})
    d = Dashboard(sc, SerialExecutor(), reps=2)
    d.poll()
    return d


def test_opens_with_both_worlds_equal(dash: Dashboard) -> None:
    assert set(dash.worlds) == {"baseline", "variant"}
    assert dash.worlds["baseline"].numbers == dash.worlds["variant"].numbers
    assert dash.images[("baseline", "flow")].object is not None
    assert "Updated in" in dash.status.object


def test_a_lever_changes_the_variant_only(dash: Dashboard) -> None:
    before = dict(dash.worlds["baseline"].numbers)
    dash.widgets["policies.0.on"].value = False
    dash.poll()
    assert dash.variant.policies == ()
    assert dash.worlds["baseline"].numbers == before
    assert dash.worlds["variant"].numbers.get("budget.total_yuan", 0.0) == 0.0 < before["budget.total_yuan"]


def test_bad_value_shows_its_line_and_keeps_the_last_worlds(dash: Dashboard) -> None:
    variant = dash.variant
    dash.widgets["stages.incubator.carriers.capacity"].value = 0
    err = dash.errors["stages.incubator.carriers.capacity"]
    assert err.visible and err.object.startswith("stages.incubator.carriers.capacity: must be between 1 and")
    assert dash.variant is variant
    dash.widgets["stages.incubator.carriers.capacity"].value = 31
    assert not err.visible


def test_presets_reset_and_language(dash: Dashboard) -> None:
    dash.preset_select.value = "preset_mix"
    dash._on_preset(None)
    assert "does not apply" in dash.preset_text.object and "it has 1" in dash.preset_text.object
    dash.preset_select.value = "preset_shock"
    dash._on_preset(None)
    assert dash.baseline.policies == () and len(dash.variant.policies) == 1
    dash._on_reset(None)
    assert dash.baseline == dash.scenario and len(dash.variant.policies) == 1
    dash.lang_switch.value = "zh"
    assert dash.widgets["stages.accelerator.carriers.count"].name == "加速器：载体数量"
    assert "研讨会" in dash.title.object
    dash.poll()
    assert "用时" in dash.status.object


def test_more_precision_reaches_the_page(dash: Dashboard) -> None:
    dash.widgets["policies.0.refund_share"].value = 0.9
    dash.poll()
    dash._on_more(None)
    assert dash.precision is not None
    dash.precision.thread.join(timeout=120)
    dash.poll()
    assert dash.comparison is not None and dash.comparison.experiment.reps == 2
    assert dash.images[("paired", "effects")].object is not None
    assert "2 paired replications" in dash.numbers.object
