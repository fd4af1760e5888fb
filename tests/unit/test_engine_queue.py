"""Dropping stale firm events from the kernel's queue changes nothing in a run, event for event."""

from __future__ import annotations

from typing import Any

import pytest

import sim
import sim.engine as engine
from sim.engine import simulate
from tests.helpers import SCENARIOS


def _log(sc: sim.Scenario, seed: int) -> tuple[bytes, bytes, bytes]:
    out = simulate(sc, seed)
    return bytes(out.log.time), bytes(out.log.firm), bytes(out.log.code)


@pytest.mark.skipif(engine.COMPILED, reason="the floor is a compiled constant there (the compiled test covers it)")
@pytest.mark.parametrize("name", ["covid_rent_relief.toml", "policy_mix.toml"])
def test_compacting_the_queue_often_gives_the_same_log(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Scenarios whose policy windows and shock re-time residents (so stale events pile up), with the
    queue compacted whenever it doubles past 16 entries instead of 65,536: the same bytes."""
    sc = sim.load_scenario(SCENARIOS / name).with_changes({"calendar.horizon_years": 4})
    reference = _log(sc, 5)
    compactions = dropped = 0
    compact = engine._Model._compact

    def counted(self: engine._Model, queue: list[tuple[float, int, int, Any]]) -> None:
        nonlocal compactions, dropped
        stale = sum(not engine._in_force(e[3]) for e in queue)
        compact(self, queue)
        assert len(queue) > 0 and all(engine._in_force(e[3]) for e in queue)
        dropped += stale
        compactions += 1

    monkeypatch.setattr(engine, "_COMPACT_MIN", 16)
    monkeypatch.setattr(engine._Model, "_compact", counted)
    assert _log(sc, 5) == reference
    assert compactions >= 2 and dropped > 50, "too few stale events were dropped for the test to show anything"
