"""Occupancy over time: mean and t interval across replications, capacity drawn in."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import sim
from sim.plot import FigureInfo, RunPlots, occupancy_bands, occupancy_difference_figure, occupancy_figure
from sim.stats import mean_ci

from .helpers import bands, by_gid, render, text_of


def test_bands_are_the_t_interval_of_sim_stats(experiment: sim.ExperimentResult) -> None:
    ts = experiment.timeseries
    got = occupancy_bands(ts, ("occupancy",)).set_index(["t_years", "stage"])
    t = sorted(ts["t_years"].unique())[17]
    values = ts[(ts["t_years"] == t) & (ts["stage"] == "maker_space")]["occupancy"].to_numpy()
    want = mean_ci(values)
    row = got.loc[(t, "maker_space")]
    assert (row["n"], row["mean"]) == (4, pytest.approx(want.mean))
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(want.ci_low), pytest.approx(want.ci_high))


def test_edge_cases_one_replication_and_equal_values() -> None:
    one = pd.DataFrame(
        {"replication": [0], "t_years": [1.0], "stage": ["a"], "occupancy": [5], "queue": [0], "capacity": [-1]}
    )
    row = occupancy_bands(one, ("occupancy",)).iloc[0]
    assert row["n"] == 1 and row["mean"] == 5 and math.isnan(row["ci_low"]), "n = 1 has no interval"
    assert math.isnan(row["capacity"]), "capacity -1 means none"
    same = pd.concat([one, one.assign(replication=1)])
    row = occupancy_bands(same, ("occupancy",)).iloc[0]
    assert row["ci_low"] == row["ci_high"] == 5, "equal values give a zero-width interval"


def test_figure_has_a_band_per_line_and_the_capacity(experiment: sim.ExperimentResult, short: sim.Scenario) -> None:
    fig = occupancy_figure(experiment.timeseries, FigureInfo.from_scenario(short, 1, range(4)))
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title(loc="left")]
    assert [ax.get_title(loc="left") for ax in panels] == [st.label for st in short.stages.values()]
    for ax, (name, stage) in zip(panels, short.stages.items(), strict=True):
        lines = [ln for ln in ax.get_lines() if not str(ln.get_gid()).endswith("capacity")]
        assert len(bands(ax)) == len(lines), f"{name}: every mean line has its confidence band"
        capacity = by_gid(fig, f"{name}:capacity")
        if stage.carriers is None:
            assert not capacity, f"{name} has no carriers, so no capacity line"
        else:
            want = stage.carriers.count * stage.carriers.capacity
            assert set(np.asarray(capacity[0].get_ydata())) == {want}
    assert {ax.get_xlabel() for ax in panels} == {"year", ""}, "calendar years on the bottom row's time axes"
    assert "4 replications" in text_of(fig, "caption")
    assert "firms" in {ax.get_ylabel() for ax in panels}
    render(fig)


def test_single_run_has_lines_but_no_bands(res: sim.RunResult) -> None:
    fig = res_plot(res).occupancy()
    assert not any(bands(ax) for ax in fig.axes), "one replication: no confidence band"
    assert by_gid(fig, "maker_space:all:occupancy"), "the occupancy line is drawn"
    assert "One replication" in text_of(fig, "caption")


def test_arms_are_drawn_side_by_side(comparison: sim.Comparison) -> None:
    fig = occupancy_figure(
        comparison.experiment.timeseries, by="arm", measures=("occupancy",), groups=["baseline", "variant"]
    )
    legend = fig.axes[-1].get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[:2] == ["baseline", "variant"], labels
    base, var = by_gid(fig, "incubator:baseline:occupancy"), by_gid(fig, "incubator:variant:occupancy")
    assert base and var and base[0].get_linestyle() != var[0].get_linestyle(), "arms differ by line style too"


def test_queues_are_drawn_where_firms_waited(short: sim.Scenario) -> None:
    crowded = short.with_changes({"stages.maker_space.carriers.capacity": 5})
    run = sim.run(crowded, seed=3)
    assert run.timeseries.loc[run.timeseries.stage == "maker_space", "queue"].max() > 0
    fig = res_plot(run).occupancy()
    assert by_gid(fig, "maker_space:all:queue"), "the maker space had a waiting list"
    assert not by_gid(fig, "market:all:queue"), "nobody waits for the market"
    assert fig.get_suptitle() == "Firms in each stage and on its waiting list"


def res_plot(run: sim.RunResult) -> RunPlots:
    return RunPlots(run)


def test_paired_difference_of_a_comparison(comparison: sim.Comparison, short: sim.Scenario) -> None:
    ts = comparison.experiment.timeseries
    fig = occupancy_difference_figure(ts, FigureInfo.from_scenario(short, 1, range(4)))
    (line,) = by_gid(fig, "incubator:difference:occupancy")
    inc = ts[ts["stage"] == "incubator"]
    by_arm = inc.groupby(["arm", "t_years"])["occupancy"].mean()
    want = (by_arm["variant"] - by_arm["baseline"]).to_numpy()
    assert np.asarray(line.get_ydata()) == pytest.approx(want), "the mean of paired differences"
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title(loc="left")]
    maker = next(ax for ax in panels if ax.get_title(loc="left") == "Maker space")
    assert "no change in any replication" in [t.get_text() for t in maker.texts], "upstream of the policy"
    assert all(len(bands(ax)) == 1 for ax in panels)
    render(fig)
