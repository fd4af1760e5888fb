"""Calibration: recovering known parameters from targets the model made, and refusing what it cannot compute."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.errors import ScenarioError
from sim.uncertainty.calibrate import calibrate, parse_bound
from sim.uncertainty.targets import load_targets, parse_targets, target_values

RATE = "arrivals.founders.rate_per_year.2019"
SCALE = "stages.incubator.graduation.scale"
ROWS = [
    {"name": "maker_entries_2019", "metric": "entries", "stage": "maker_space", "year": 2019, "tolerance": 3.0},
    {"name": "maker_entries_2020", "metric": "entries", "stage": "maker_space", "year": 2020, "tolerance": 3.0},
    {
        "name": "incubator_share_2020",
        "metric": "graduation_share",
        "stage": "incubator",
        "year": 2020,
        "tolerance": 0.03,
    },
    {"name": "incubator_stock_2021", "metric": "occupancy", "stage": "incubator", "year": 2021, "tolerance": 3.0},
    {"name": "survival_3y", "metric": "survival.all.3y", "tolerance": 0.02},
]


def test_recovers_known_parameters_from_model_generated_targets_and_brackets_them(
    tutorial: sim.Scenario, tmp_path: Path
) -> None:
    tutorial = tutorial.with_changes({"calendar.horizon_years": 4})
    # Targets are the model's own output at the scenario's values (60 founders a year, graduation scale 1.1) on
    # the same replications the fit uses, so the objective is 0 at the truth. Starting from the middle of
    # wide bounds, the fit must land within 5 % of both (a 5 % error in the rate moves 2019 maker-space entries
    # by ~3, the tolerance), and the held-out row must be reproduced.
    shell = parse_targets({"targets": [{**r, "value": 1.0, "source": "model"} for r in ROWS]}, tutorial)
    truth = target_values(sim.run_experiment(tutorial, reps=3, seed=5), shell).mean()
    rows = [{**r, "value": float(truth[r["name"]]), "source": "model"} for r in ROWS]
    targets = parse_targets({"targets": rows}, tutorial)
    bounds = [parse_bound(f"{RATE}=30:120", tutorial), parse_bound(f"{SCALE}=0.5:2", tutorial)]
    res = calibrate(
        tutorial,
        targets,
        bounds,
        reps=3,
        seed=5,
        holdout=["survival_3y"],
        max_evals=60,
        intervals=True,
        out=tmp_path / "cal",
    )
    assert res.fitted[RATE] == pytest.approx(60.0, rel=0.05), res.fitted
    assert res.fitted[SCALE] == pytest.approx(1.1, rel=0.05), res.fitted
    assert res.fit["within"].all(), res.fit
    assert list(res.fit.loc[res.fit["role"] == "holdout", "target"]) == ["survival_3y"]
    again = sim.load_scenario(tmp_path / "cal" / "calibrated.toml")
    assert again == res.scenario, "calibrated.toml does not hold the fitted scenario"
    # The refit is one point of the values that meet the targets; the scenario's own values (the truth here)
    # must lie in each parameter's interval of them, and meet every fitted target when run as a point.
    spans = res.intervals
    assert spans is not None and (tmp_path / "cal" / "intervals.csv").is_file()
    for row in spans.itertuples(index=False):
        assert row.low < row.high, f"{row.parameter}: an empty interval [{row.low}, {row.high}]"
        assert row.low <= row.fitted <= row.high, f"{row.parameter}: the fit {row.fitted} outside its interval"
        assert row.before_inside and row.low <= row.before <= row.high, (
            f"{row.parameter}: the scenario's {row.before} outside [{row.low}, {row.high}]"
        )
        assert row.linear_low <= row.low and row.high <= row.linear_high, "verified ends beyond the linear ones"
    # the tolerances (3 maker-space entrants of ~60, 0.03 of a share) pin the rate to a few percent, not more
    rate = spans.set_index("parameter").loc[RATE]
    assert rate["high"] - rate["low"] < 0.2 * 60, f"the rate's interval is implausibly wide: {rate.to_dict()}"
    assert res.meta["intervals"]["before_meets_fitted_targets"] is True
    assert res.meta["intervals"]["before_objective"] == 0.0, "targets made at the truth: no misfit there"


def test_calibrated_file_extends_the_scenario_with_only_the_fitted_values(
    tutorial: sim.Scenario, tmp_path: Path
) -> None:
    source = Path(__file__).parents[2] / "scenarios" / "tutorial.toml"
    rows = [
        {
            "name": "share",
            "metric": "graduation_share",
            "stage": "incubator",
            "year": 2019,
            "value": 0.5,
            "tolerance": 0.05,
            "source": "s",
        }
    ]
    res = calibrate(
        tutorial,
        parse_targets({"targets": rows}, tutorial),
        [parse_bound(f"{SCALE}=0.5:2", tutorial)],
        reps=1,
        max_evals=4,
        fit_changes={"calendar.horizon_years": 1},
        out=tmp_path / "cal",
        scenario_path=source,
    )
    text = (tmp_path / "cal" / "calibrated.toml").read_text()
    assert text.startswith("# Calibrated by incuchain calibrate")
    body = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert body[0].startswith("extends = ") and body[1] == 'name = "tutorial_calibrated"', body
    assert body[2:] == ["[stages.incubator.graduation]", f"scale = {res.fitted[SCALE]!r}"], body
    again = sim.load_scenario(tmp_path / "cal" / "calibrated.toml")
    assert again.with_changes({"name": tutorial.name}) == res.scenario


@pytest.mark.parametrize(
    ("row", "expect"),
    [
        (
            {"metric": "happiness", "stage": "incubator", "year": 2020},
            "targets.t.metric: cannot compute 'happiness' by year",
        ),
        ({"metric": "occupancy", "stage": "incubatr", "year": 2020}, "targets.t.stage: unknown stage 'incubatr'"),
        ({"metric": "occupancy", "stage": "incubator", "year": 2040}, "targets.t.year: 2040 is outside the run"),
        ({"metric": "occupancy", "year": 2020}, "targets.t.stage: occupancy by year needs a stage"),
        ({"metric": "revenue"}, "targets.t.metric: cannot compute 'revenue'"),
    ],
    ids=["unknown-metric", "unknown-stage", "year-outside", "needs-stage", "summary-unknown"],
)
def test_targets_it_cannot_compute_are_refused_by_name(tutorial: sim.Scenario, row: dict, expect: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_targets({"targets": [{"name": "t", "value": 1.0, "tolerance": 1.0, "source": "s", **row}]}, tutorial)
    assert any(expect in line for line in info.value.problems), info.value.problems


def test_fit_horizon_must_cover_the_fitted_targets_and_holdouts_must_exist(tutorial: sim.Scenario) -> None:
    rows = [
        {
            "name": "late",
            "metric": "occupancy",
            "stage": "incubator",
            "year": 2022,
            "value": 1.0,
            "tolerance": 1.0,
            "source": "s",
        }
    ]
    targets = parse_targets({"targets": rows}, tutorial)
    bound = [parse_bound(f"{SCALE}=0.5:2", tutorial)]
    with pytest.raises(ScenarioError, match=r"targets\.late\.year: 2022 is outside the run"):
        calibrate(tutorial, targets, bound, fit_changes={"calendar.horizon_years": 1})
    with pytest.raises(ScenarioError, match="--holdout nope: no such target"):
        calibrate(tutorial, targets, bound, holdout=["nope"])
    with pytest.raises(ScenarioError, match=r"--params .*expected PATH=LOW:HIGH"):
        parse_bound(f"{SCALE}=2:1", tutorial)
    with pytest.raises(ScenarioError, match=r"--params stages.incubator.label: the field holds"):
        parse_bound("stages.incubator.label=1:2", tutorial)


def test_the_province_targets_file_is_valid() -> None:
    from tests.helpers import SCENARIOS

    sc = sim.load_scenario(SCENARIOS / "jiangsu.toml")
    targets = load_targets(Path(__file__).parents[2] / "targets" / "jiangsu.toml", sc)
    assert all(t.source for t in targets)
    assert {t.name for t in targets} >= {"incubator_tenants_2019", "incubator_graduation_share_2019"}
