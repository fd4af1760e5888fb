"""Carriers by stage and level: counts from the carrier table, drawn as stacked steps over the run."""

from __future__ import annotations

import pandas as pd

import sim
from sim.plot import RunPlots, carrier_counts, carriers_figure

from .helpers import gids, render, text_of


def test_counts_hold_from_start_to_horizon(res: sim.RunResult) -> None:
    counts = carrier_counts(res.carriers, 3.0)
    assert sorted(set(counts["t_years"])) == [0.0, 3.0]
    at_start = counts[counts["t_years"] == 0]
    assert at_start["count"].sum() == len(res.carriers)


def test_figure_draws_each_stage_and_level(res: sim.RunResult) -> None:
    fig = RunPlots(res).carriers()
    present = res.carriers.groupby(["stage", "level"], observed=True).size()
    layers = gids(fig, "")
    for (stage, level), n in present.items():
        assert f"{stage}:{level}" in layers, f"no band for {level} {stage}"
        assert text_of(fig, f"count:{stage}:{level}").strip() == str(n)
    render(fig)


def test_a_time_series_of_counts_draws_as_steps() -> None:
    counts = pd.DataFrame(
        {
            "t_years": [0.0, 2.0, 5.0, 0.0, 5.0],
            "stage": ["incubator"] * 3 + ["maker_space"] * 2,
            "level": ["municipal", "municipal", "municipal", "national", "national"],
            "count": [3, 5, 5, 1, 1],
        }
    )
    fig = carriers_figure(counts)
    assert text_of(fig, "count:incubator:municipal").strip() == "5"
    assert "fixed over the run" not in text_of(fig, "caption")
