"""A run's result is freed once the caller drops it: experiments run thousands of replications per worker."""

from __future__ import annotations

import gc
import weakref

import sim
from tests.helpers import SCENARIOS


def test_a_result_is_freed_after_its_tables_and_summary_were_read() -> None:
    res = sim.run(sim.load_scenario(SCENARIOS / "tutorial.toml"), seed=1)
    first = res.summary()
    assert res.summary() is first  # computed once
    _ = (res.firms, res.timeseries, res.ledger, res.carriers, res.carrier_counts)
    ref = weakref.ref(res)
    del res, first
    gc.collect()
    assert ref() is None, "something still holds the RunResult (a cache keyed on it?)"
