"""Outcome columns and keys in the firm table, the time series, the summary and the carriers table."""

from __future__ import annotations

import numpy as np

import sim
from sim.experiment.cost_effectiveness import OUTCOMES
from sim.experiment.metrics import flatten_summary
from sim.scenario import MILESTONES
from tests.helpers import SCENARIOS


def tutorial_run(warmup: float = 0.0) -> sim.RunResult:
    sc = sim.load_scenario(SCENARIOS / "tutorial.toml").with_changes(
        {
            "calendar.warmup_years": warmup,
            "outcomes.milestones": {"incubator": {"high_tech": 0.5, "financing": 0.2, "revenue": 0.3}},
            "outcomes.listing.rate_per_year": 0.1,
        }
    )
    return sim.run(sc, seed=3)


def test_summary_keys_are_present_and_flat() -> None:
    res = tutorial_run()
    s = res.summary()
    keys = [f"milestones.{m}" for m in MILESTONES] + [f"milestones.incubator.{m}" for m in MILESTONES]
    keys += ["listings.total", "listings.star", "listings.other", "listings.neeq", "jobs.at_horizon"]
    keys += ["jobs.per_active_firm"]
    flat = flatten_summary(s)
    for key in keys:
        assert key in s, f"summary lacks {key}"
        assert key in flat, f"experiments would not see {key}"
    assert s["listings.total"] == int(res.firms["listed"].sum()) > 0
    assert s["jobs.per_active_firm"] == s["jobs.at_horizon"] / s["active_at_horizon"]
    ts = res.timeseries
    for m in MILESTONES:
        assert s[f"milestones.{m}"] == int(ts[f"milestone_{m}"].sum()), f"{m}: summary and time series differ"
    assert int(ts["listed"].iloc[-1]) == s["listings.total"]
    assert s["milestones.high_tech"] > 0
    assert {"listings", "jobs_at_horizon"} <= set(OUTCOMES), "compare must price listings and jobs"


def test_warmup_excludes_early_milestones_and_listings() -> None:
    full, late = tutorial_run().summary(), tutorial_run(warmup=3.0).summary()
    assert late["milestones.high_tech"] < full["milestones.high_tech"]
    assert late["listings.total"] < full["listings.total"]
    assert late["jobs.at_horizon"] == full["jobs.at_horizon"], "jobs at the horizon do not depend on the warm-up"


def test_carriers_table_counts_tenants_graduates_and_failures() -> None:
    res = tutorial_run()
    car = res.carriers
    s = res.summary()
    for stage, rows in car.groupby("stage", observed=True):
        assert rows["tenants_at_horizon"].sum() == s.stage(stage)["occupancy_at_horizon"], stage
        assert rows["graduates"].sum() == s.stage(stage)["graduations"], stage
        assert rows["failures"].sum() == s.stage(stage)["failures"], stage
    assert car["graduates"].sum() > 0
    for col in ("tenants_at_horizon", "graduates", "failures"):
        assert car[col].dtype == np.int64 and (car[col] >= 0).all(), col
