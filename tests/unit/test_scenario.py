"""Unit tests of the scenario layer: dates, defaults, derived variants, schema."""

from __future__ import annotations

import json

import pytest

import sim
from sim.calendar import date_of_decimal_year, decimal_year, parse_date
from sim.cli import main
from tests.helpers import SCENARIOS, tiny


@pytest.mark.parametrize(
    ("text", "iso"),
    [(2020, "2020-01-01"), ("2020", "2020-01-01"), ("2020-03", "2020-03-01"), ("2020-03-15", "2020-03-15")],
)
def test_dates_accept_year_month_and_day(text: object, iso: str) -> None:
    assert parse_date(text).isoformat() == iso


def test_whole_years_fall_on_january_first() -> None:
    assert decimal_year(parse_date("2021-01-01")) - decimal_year(parse_date(2019)) == 2.0
    assert date_of_decimal_year(decimal_year(parse_date("2020-07-02"))).isoformat() == "2020-07-02"


def test_with_changes_derives_a_new_scenario_and_leaves_the_old_alone(tutorial: sim.Scenario) -> None:
    before = tutorial.to_toml()
    v = tutorial.with_changes({"stages.incubator.carriers.count": 9})
    assert v.stages["incubator"].carriers is not None and v.stages["incubator"].carriers.count == 9
    assert tutorial.to_toml() == before, "with_changes mutated the original"
    with pytest.raises(sim.ScenarioError, match=r"stages.incubator.carriers.count: must be > 0"):
        tutorial.with_changes({"stages.incubator.carriers.count": -1})


def test_scenarios_are_frozen(tutorial: sim.Scenario) -> None:
    with pytest.raises(Exception, match="frozen"):
        tutorial.name = "other"  # type: ignore[misc]


def test_defaults_are_explicit_in_the_resolved_file() -> None:
    sc = sim.parse_scenario(tiny())
    text = sc.to_toml()
    for key in (
        "warmup_years = 0.0",
        'failure_clock = "stay"',
        'on_full = "skip"',
        'fallback = "exit"',
        "quality_on_failure",
    ):
        assert key in text, f"{key!r} missing from the resolved scenario"


def test_extends_merges_tables_and_replaces_lists(tmp_path) -> None:  # type: ignore[no-untyped-def]
    child = tmp_path / "child.toml"
    child.write_text(
        f'extends = "{SCENARIOS / "tutorial.toml"}"\nname = "child"\n'
        "[stages.incubator.carriers]\ncount = 7\ncapacity = 30\n\n"
        '[[arrivals]]\nname = "only"\nstage = "market"\nrate_per_year = 5\n'
    )
    sc = sim.load_scenario(child)
    assert sc.name == "child" and sc.stages["incubator"].carriers.count == 7  # type: ignore[union-attr]
    assert sc.stages["incubator"].failure is not None, "merge dropped the parent's stage fields"
    assert [a.name for a in sc.arrivals] == ["only"], "lists must replace, not merge"


def test_extends_child_can_empty_a_list_of_tables(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``policies = []`` in a child switches off every policy of its parent and keeps its shocks."""
    parent = sim.load_scenario(SCENARIOS / "covid_rent_relief.toml")
    assert parent.policies and parent.shocks, "the parent needs policies and shocks for this test"
    child = tmp_path / "child.toml"
    child.write_text(f'extends = "{SCENARIOS / "covid_rent_relief.toml"}"\nname = "child"\npolicies = []\n')
    sc = sim.load_scenario(child)
    assert sc.policies == (), f"the child kept the parent's policies: {sc.policies}"
    assert sc.shocks == parent.shocks, "emptying the policies must leave the shocks alone"


def test_jiangsu_no_support_is_jiangsu_without_its_policies() -> None:
    jiangsu = sim.load_scenario(SCENARIOS / "jiangsu.toml")
    counterfactual = sim.load_scenario(SCENARIOS / "jiangsu_no_support.toml")
    assert jiangsu.policies and not counterfactual.policies
    assert [s.name for s in counterfactual.shocks] == ["covid_2020h1"], "the shock is not a policy: it must stay"
    same = {"name": "x", "description": "", "policies": []}
    assert counterfactual.with_changes(same) == jiangsu.with_changes(same), "the pair must differ only in policies"


def test_schema_command_prints_a_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "incuchain scenario"
    assert {"calendar", "stages", "arrivals"} <= set(schema["properties"])


def test_default_scenario_loads() -> None:
    sc = sim.default_scenario()
    assert sc.stages and sc.arrivals
