"""How the engine fills the kernel's queue changes nothing in a run, event for event: later slices of the
horizon held back from the heap (any number of slices) and stale firm events dropped from it."""

from __future__ import annotations

import math
from typing import Any

import pytest
import simpy

import sim
import sim.engine as engine
import sim.engine_queue as engine_queue
from sim.engine import simulate
from tests.helpers import SCENARIOS

# Scenarios whose policy windows and shock re-time residents, so that stale events pile up.
CASES = ["covid_rent_relief.toml", "policy_mix.toml"]


def _scenario(name: str) -> sim.Scenario:
    return sim.load_scenario(SCENARIOS / name).with_changes({"calendar.horizon_years": 4})


def _log(sc: sim.Scenario, seed: int) -> tuple[bytes, bytes, bytes]:
    out = simulate(sc, seed)
    return bytes(out.log.time), bytes(out.log.firm), bytes(out.log.code)


def _with_slices(monkeypatch: pytest.MonkeyPatch, slices: int, made: list[engine_queue._KernelQueue]) -> None:
    """The model's queue cut into ``slices`` slices whatever the run's size."""

    class Fixed(engine_queue._KernelQueue):
        def slice(self, firms: float, n: int = -1) -> None:
            super().slice(firms, slices)
            made.append(self)

    monkeypatch.setattr(engine, "_KernelQueue", Fixed)


pytestmark = pytest.mark.skipif(engine.COMPILED, reason="the queue is built inside the compiled model there")


@pytest.mark.parametrize("name", CASES)
def test_compacting_the_heap_often_gives_the_same_log(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Everything in the heap (one slice), compacted whenever it doubles past 16 entries instead of 65,536."""
    sc = _scenario(name)
    reference = _log(sc, 5)
    compactions = dropped = 0
    compact = engine_queue._compact

    def counted(queue: list[tuple[float, int, int, Any]]) -> int:
        nonlocal compactions, dropped
        stale = sum(not engine_queue._in_force(e[3]) for e in queue)
        at = compact(queue)
        assert len(queue) > 0 and all(engine_queue._in_force(e[3]) for e in queue)
        dropped += stale
        compactions += 1
        return at

    monkeypatch.setattr(engine_queue, "_COMPACT_MIN", 16)
    monkeypatch.setattr(engine_queue, "_compact", counted)
    _with_slices(monkeypatch, 1, [])
    assert _log(sc, 5) == reference
    assert compactions >= 2 and dropped > 50, "too few stale events were dropped for the test to show anything"


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("slices", [1, 2, 7, 365, 100_000])
def test_any_number_of_slices_gives_the_same_log(name: str, slices: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """One slice (nothing held back) to far more slices than events: the same bytes as the default."""
    sc = _scenario(name)
    reference = _log(sc, 5)
    made: list[engine_queue._KernelQueue] = []
    _with_slices(monkeypatch, slices, made)
    assert _log(sc, 5) == reference
    (q,) = made
    assert q.slices == slices
    assert all(h is None for h in q.held), "no event was left behind"


def test_a_run_gets_slices_by_its_size() -> None:
    """The province (its initial stock alone, on a short horizon) gets many slices; a small scenario a few (each
    slice with events waiting costs a turn)."""
    seen: dict[str, int] = {}
    for name, sc in [
        ("province", sim.default_scenario()),
        ("tutorial", sim.load_scenario(SCENARIOS / "tutorial.toml")),
    ]:
        m = engine._Model(sc.with_changes({"calendar.horizon_years": 0.01}), 0, 0)
        m.run()
        seen[name] = m.queue.slices
    assert seen["province"] > 1000
    assert 1 <= seen["tutorial"] <= 64


def test_slice_edges_are_exact() -> None:
    """An event lands in the slice whose stored edges hold it, even where ``t * slices / horizon`` rounds across."""
    q = engine_queue._KernelQueue(simpy.Environment(), 0.7)
    q.slice(0.0, 10)
    for b in range(1, 10):
        edge = q.edges[b]
        assert q._slice_of(edge) == b
        assert q._slice_of(math.nextafter(edge, 0.0)) == b - 1
    assert q._slice_of(0.7) == 9 and q._slice_of(1e300) == 9 and q._slice_of(float("inf")) == 9
