"""Shared fixtures."""

from __future__ import annotations

import pytest

import sim
from tests.helpers import SCENARIOS


@pytest.fixture(scope="session")
def tutorial() -> sim.Scenario:
    return sim.load_scenario(SCENARIOS / "tutorial.toml")
