"""Small scenarios for the uncertainty tests (the folder runs in well under a minute on 2 cores)."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.uncertainty import Uncertainty, load_uncertainty
from tests.helpers import SCENARIOS

HERE = Path(__file__).parent
DECAY = HERE / "decay.toml"
"""Market firms at the start failing at a constant rate; its [uncertainty] has one parameter that matters."""


@pytest.fixture(scope="session")
def decay() -> sim.Scenario:
    return sim.load_scenario(DECAY)


@pytest.fixture(scope="session")
def decay_uncertainty(decay: sim.Scenario) -> Uncertainty:
    return load_uncertainty(decay, DECAY)


@pytest.fixture(scope="session")
def shock() -> sim.Scenario:
    """The tutorial chain with the 2020 shock, over 3 years (the baseline of the relief)."""
    return sim.load_scenario(SCENARIOS / "covid_shock.toml").with_changes({"calendar.horizon_years": 3})


@pytest.fixture(scope="session")
def relief() -> sim.Scenario:
    """The same with Suzhou-style rent relief (the variant)."""
    return sim.load_scenario(SCENARIOS / "covid_rent_relief.toml").with_changes({"calendar.horizon_years": 3})
