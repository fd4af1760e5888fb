"""Chain flow: flows derived from the event log agree with the firm table, and the figure labels them."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from matplotlib.patches import PathPatch

import sim
from sim.plot import FigureInfo, chain_flows, flow_figure

from .helpers import gids, render, text_of


def paths(firms: pd.DataFrame) -> list[list[str]]:
    """Each firm's admitted stages, read from the firm table's ``stages_visited``."""
    return [[step.split("@")[0] for step in p.split(">")] if p else [] for p in firms["stages_visited"]]


def test_every_column_accounts_for_every_firm(res: sim.RunResult) -> None:
    flows = chain_flows(res.events)
    n = len(res.firms)
    per_step = flows.groupby("step")["firms"].sum()
    assert (per_step == n).all(), f"columns should each hold all {n} firms, got {per_step.to_dict()}"


def test_flows_match_the_firm_table(res: sim.RunResult) -> None:
    flows = chain_flows(res.events)
    expected: Counter[tuple[int, str, str]] = Counter()
    outcome = res.firms["outcome"].astype(str).tolist()
    for path, out in zip(paths(res.firms), outcome, strict=True):
        for j in range(len(path) - 1):
            expected[(j, path[j], path[j + 1])] += 1
        if path:
            expected[(len(path) - 1, path[-1], out)] += 1
    got = flows[flows["source_kind"] == "stage"]
    got_counts = {(int(r.step), r.source, r.target): r.firms for r in got.itertuples()}
    assert got_counts == dict(expected), "stage-to-stage and stage-to-outcome flows differ from the firm table"
    final = flows[flows["step"] == flows["step"].max()].groupby("target")["firms"].sum()
    assert final.to_dict() == res.firms["outcome"].astype(str).value_counts().to_dict()


def test_band_labels_equal_counts_from_the_firm_table(res: sim.RunResult, short: sim.Scenario) -> None:
    fig = flow_figure(chain_flows(res.events), FigureInfo.from_scenario(short, 3, [0]), horizon_years=3)
    firm_paths = paths(res.firms)
    maker_to_incubator = sum(1 for p in firm_paths if p[:2] == ["maker_space", "incubator"])
    assert maker_to_incubator > 20, "the test needs a band wide enough to carry a label"
    assert text_of(fig, "flow-band:0:maker_space->incubator") == str(maker_to_incubator)
    first_stage = Counter(p[0] for p in firm_paths if p)
    label = text_of(fig, "flow-node:0:maker_space")
    assert label == f"Maker space  {first_stage['maker_space']}", label
    n_cols = int(chain_flows(res.events)["step"].max()) + 1
    failed = int((res.firms["outcome"] == "failed").sum())
    assert text_of(fig, f"flow-node:{n_cols}:failed") == f"Failed  {failed}"
    render(fig)


def test_one_band_per_flow_and_widths_proportional_to_firms(res: sim.RunResult) -> None:
    flows = chain_flows(res.events)
    fig = flow_figure(flows)
    patches = gids(fig, "flow-band-patch:")
    assert len(patches) == len(flows), f"{len(flows)} flows but {len(patches)} bands"
    assert all(isinstance(p, PathPatch) for p in patches.values())
    # a band's thickness at its source end is its firms (in data units)
    row = flows[(flows.step == 0) & (flows.source == "maker_space") & (flows.target == "incubator")].iloc[0]
    verts = patches["flow-band-patch:0:maker_space->incubator"].get_path().vertices
    assert verts[0, 1] - verts[-2, 1] == pytest.approx(row.firms)


def test_several_replications_give_the_mean_per_replication(short: sim.Scenario) -> None:
    runs = [sim.run(short, seed=3, replication=r) for r in range(2)]
    flows = chain_flows(pd.concat([r.events for r in runs], ignore_index=True))
    assert set(flows["replications"]) == {2}
    mean_firms = sum(len(r.firms) for r in runs) / 2
    assert flows[flows.step == 0]["firms"].sum() == pytest.approx(mean_firms)
    assert "mean per replication over 2 replications" in text_of(flow_figure(flows), "caption")


def test_no_firms_gives_an_empty_figure(res: sim.RunResult) -> None:
    flows = chain_flows(res.events.iloc[0:0])
    assert flows.empty
    render(flow_figure(flows))
