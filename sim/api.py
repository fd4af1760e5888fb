"""The public entry point for one replication."""

from __future__ import annotations

import time

from .engine import simulate
from .results import RunResult
from .scenario import Scenario

__all__ = ["run"]


def run(scenario: Scenario, seed: int = 0, replication: int = 0) -> RunResult:
    """Run one replication of ``scenario``.

    Parameters
    ----------
    scenario:
        A validated scenario (:func:`sim.load_scenario`, :func:`sim.default_scenario`).
    seed:
        Root seed (>= 0) of every random stream.
    replication:
        Replication index (>= 0); replication ``r`` of any two scenarios shares its random streams.

    Returns
    -------
    RunResult
        The event log and the tables derived from it. The same arguments give identical results.
    """
    start = time.perf_counter()
    out = simulate(scenario, seed, replication)
    return RunResult(scenario, seed, replication, out, time.perf_counter() - start)
