"""The engine's fast paths write exactly the rows of the general methods they stand for.

An arrival that finds room, a graduation that exits or moves on to a stage with room, and admission with
exponential hazards on the stay clock each run in one piece (see the docstring of :mod:`sim.engine`).
With ``fast_paths=False`` every transition goes through the general methods; the logs must agree.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.engine import _Model
from tests.helpers import SCENARIOS

CASES = [
    ("tutorial.toml", {}, 3),
    ("policy_mix.toml", {}, 2),
    ("covid_rent_relief.toml", {}, 1),
    ("bench_tandem.toml", {"calendar.horizon_years": 200}, 1),
    ("textbook_exponential.toml", {}, 4),
    ("jiangsu.toml", {"calendar.horizon_years": 1.5}, 5),
]


@pytest.mark.parametrize(("name", "changes", "seed"), CASES, ids=[c[0] for c in CASES])
def test_fast_paths_write_the_general_paths_rows(name: str, changes: dict[str, object], seed: int) -> None:
    sc = sim.load_scenario(SCENARIOS / name).with_changes(changes)
    fast = _Model(sc, seed, 0).run()
    general = _Model(sc, seed, 0, fast_paths=False).run()
    assert len(fast.log) > 1000, f"{name}: too small a run to exercise the fast paths"
    for col, values in fast.log.columns().items():
        other = general.log.columns()[col]
        if not np.array_equal(values, other):
            first = (
                int(np.flatnonzero(values != other)[0]) if len(values) == len(other) else min(len(values), len(other))
            )
            raise AssertionError(f"{name}: log column {col!r} differs from row {first} on (fast vs general)")
    assert fast.carrier_events == general.carrier_events, f"{name}: carrier life cycles differ"
