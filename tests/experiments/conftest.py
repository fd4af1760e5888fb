"""Small scenarios for the experiment tests (kept short: the folder runs in about a minute on 2 cores)."""

from __future__ import annotations

import pytest

import sim

from .helpers import TUTORIAL


@pytest.fixture(scope="session")
def short() -> sim.Scenario:
    """The tutorial chain over 3 years (about 0.1 s a replication)."""
    return sim.load_scenario(TUTORIAL).with_changes({"calendar.horizon_years": 3})


@pytest.fixture(scope="session")
def tiny_horizon() -> sim.Scenario:
    """The tutorial chain over 1 year: for tests about files, not numbers."""
    return sim.load_scenario(TUTORIAL).with_changes({"calendar.horizon_years": 1})
