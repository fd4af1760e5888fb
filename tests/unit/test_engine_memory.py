"""The engine runs with the cyclic garbage collector paused, so it must not make cyclic garbage per event."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import sim
from sim.engine import simulate
from sim.event_log import Ev
from tests.helpers import SCENARIOS

pytestmark = pytest.mark.slow  # runs of tens of thousands of firms


def _cyclic_garbage_after(sc: sim.Scenario) -> tuple[int, int, int]:
    """(objects only the cycle collector frees once the output is dropped, firms, firms still in at the end)."""
    gc.collect()
    was = gc.isenabled()
    gc.disable()  # from before the run, so that no automatic collection frees the cycles before they are counted
    try:
        out = simulate(sc, 3)
        cols = out.log.columns()
        done = np.unique(cols["firm"][(cols["event"] == Ev.EXIT) | (cols["event"] == Ev.FAIL)])
        firms = len(out.firm_source)
        del out, cols
        return gc.collect(), firms, firms - len(done)
    finally:
        if was:
            gc.enable()


@pytest.mark.parametrize("enabled", [True, False])
def test_simulate_restores_the_collector_state(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        simulate(sim.load_scenario(SCENARIOS / "tutorial.toml"), 1)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_no_cyclic_garbage_per_firm_on_the_reference_network() -> None:
    sc = sim.load_scenario(SCENARIOS / "bench_tandem.toml").with_changes({"calendar.horizon_years": 1000})
    garbage, firms, active = _cyclic_garbage_after(sc)
    assert firms > 9000
    assert garbage < 1000, f"{garbage} objects in reference cycles after {firms} firms ({active} still in)"


def test_cyclic_garbage_is_bounded_by_the_firms_still_in() -> None:
    """With life cycle, policies and a shock: the model's own cycles hold only the firms still in the model."""
    garbage, firms, active = _cyclic_garbage_after(sim.default_scenario().with_changes({"calendar.horizon_years": 2}))
    assert firms - active > 10_000, "too few firms left the model for this test to tell anything"
    assert garbage < 3 * active + 20_000, f"{garbage} objects in reference cycles; {firms} firms, {active} still in"
