"""Cumulative graduates: the stage's graduates before the start plus its graduations, by calendar year."""

from __future__ import annotations

import numpy as np

import sim
from tests.helpers import SCENARIOS


def test_summary_time_series_and_event_log_agree() -> None:
    sc = sim.load_scenario(SCENARIOS / "tutorial.toml").with_changes(
        {"stages.incubator.carriers.graduates_before_start": 500}
    )
    res = sim.run(sc, seed=4)
    s = res.summary()
    ev = res.events
    grads = ev[(ev.event == "graduate") & (ev.stage == "incubator")]["time"].to_numpy()
    for year in range(2019, 2027):
        want = 500 + int(np.count_nonzero(grads <= year + 1 - 2019))
        assert s[f"graduates_cumulative.incubator.{year}"] == want, f"{year}: summary disagrees with the log"
    assert "graduates_cumulative.incubator.2027" not in s, "a year the run does not cover was reported"
    assert s["graduates_cumulative.maker_space.2019"] >= 0  # other stages with carriers start from 0
    ts = res.timeseries
    inc = ts[ts.stage == "incubator"].sort_values("month")
    assert inc["graduates_cumulative"].iloc[-1] == 500 + len(grads)
    assert (np.diff(inc["graduates_cumulative"].to_numpy()) == inc["graduations"].to_numpy()[1:]).all()
