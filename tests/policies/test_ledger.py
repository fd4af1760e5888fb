"""The budget ledger: totals equal the entries, ``incuchain run`` writes it, compare prices outcomes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.budget import LEDGER_COLUMNS
from sim.cli import main
from sim.experiment.cost_effectiveness import COST_COLUMNS, OUTCOMES
from tests.helpers import SCENARIOS

from .helpers import run, tutorial, with_policies

MIX = [
    {"type": "rent_relief", "name": "rent", "start": "2020-02-01", "end": "2020-07-01"},
    {"type": "hazard_multiplier", "name": "coaching", "hazard": "graduation", "factor": 1.3, "cost_per_year_yuan": 2e5},
    {"type": "capacity_change", "name": "more_space", "factor": 1.5, "start": "2021-01-01", "cost_per_year_yuan": 1e5},
]


def test_totals_equal_the_sum_of_entries() -> None:
    res = run(with_policies(tutorial(), *MIX), seed=3)
    led = res.ledger
    assert list(led.columns) == list(LEDGER_COLUMNS)
    summary = res.summary()
    assert summary["budget.total_yuan"] == pytest.approx(led["amount_yuan"].sum(), rel=1e-12)
    for name in ("rent", "coaching", "more_space"):
        by = led.loc[led["policy"] == name, "amount_yuan"].sum()
        assert by > 0, f"{name} paid nothing"
        assert summary[f"budget.policy.{name}"] == pytest.approx(by, rel=1e-12)
    assert sum(summary[f"budget.policy.{n}"] for n in ("rent", "coaching", "more_space")) == pytest.approx(
        summary["budget.total_yuan"], rel=1e-12
    )
    # coaching: 200,000 a year for the 8-year horizon
    assert led.loc[led["policy"] == "coaching", "amount_yuan"].sum() == pytest.approx(8 * 2e5)


def test_run_writes_ledger_csv(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["run", str(SCENARIOS / "covid_rent_relief.toml"), "--out", str(out), "--quiet"]) == 0
    led = pd.read_csv(out / "ledger.csv")
    assert list(led.columns) == list(LEDGER_COLUMNS)
    assert len(led) > 0 and (led["recipient_kind"] == "carrier").all()


def test_compare_writes_cost_effectiveness(tmp_path: Path) -> None:
    base = sim.load_scenario(SCENARIOS / "tutorial.toml")
    variant = base.with_changes({"policies": MIX[1:2]})
    cmp = sim.compare(base, variant, reps=4, seed=1, independent=False, out=tmp_path)
    cost = pd.read_csv(tmp_path / "cost_effectiveness.csv")
    assert list(cost.columns) == list(COST_COLUMNS)
    assert cost["metric"].tolist() == list(OUTCOMES)
    assert cost["spend_diff_mean"].tolist() == pytest.approx([8 * 2e5] * len(OUTCOMES))
    grads = cost.set_index("metric").loc["graduations"]
    assert grads["outcome_diff_mean"] > 0, "faster graduation gave no additional graduates"
    assert grads["ci_low"] <= grads["cost_per_unit"] <= grads["ci_high"]
    assert grads["cost_per_unit"] == pytest.approx(8 * 2e5 / grads["outcome_diff_mean"])
    assert cmp.cost_effectiveness is not None


def test_compare_without_budgets_has_no_cost_table(tmp_path: Path) -> None:
    base = sim.load_scenario(SCENARIOS / "tutorial.toml")
    cmp = sim.compare(base, base.with_changes({"calendar.horizon_years": 8}), reps=2, independent=False, out=tmp_path)
    assert cmp.cost_effectiveness is None and not (tmp_path / "cost_effectiveness.csv").exists()


@pytest.mark.parametrize("name", ["covid_shock", "covid_rent_relief", "policy_mix"])
def test_policy_scenarios_round_trip_through_their_resolved_file(name: str) -> None:
    import tomllib

    sc = sim.load_scenario(SCENARIOS / f"{name}.toml")
    assert sim.parse_scenario(tomllib.loads(sc.to_toml())) == sc, f"{name}: resolved file differs"


def test_spend_by_calendar_year_adds_up_to_the_totals() -> None:
    from .helpers import run, tiny, with_policies

    yearly = {"type": "hazard_multiplier", "name": "prog", "hazard": "failure", "factor": 1.0}
    res = run(with_policies(tiny(), {**yearly, "start": "2020-07-02", "cost_per_year_yuan": 1_000}))
    s = res.summary()
    years = [f"budget.year.{y}" for y in range(2020, 2025)]
    assert list(k for k in s if k.startswith("budget.year.")) == years
    assert sum(s[k] for k in years) == pytest.approx(s["budget.total_yuan"])
    assert sum(s[f"budget.policy.prog.{y}"] for y in range(2020, 2025)) == pytest.approx(s["budget.policy.prog"])
    # paid at the start of each policy year (2020-07-02, 2021-07-02, ...), the last one pro rata to the horizon
    assert [s[k] for k in years[:4]] == pytest.approx([1_000.0] * 4)
    t0 = res.ledger["time_years"].iloc[0]
    assert s["budget.year.2024"] == pytest.approx(1_000.0 * (5 - (t0 + 4)))
