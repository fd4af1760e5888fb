"""Fixtures for the figure and report tests: a tiny run, experiment and comparison of the tutorial chain.

Figures are drawn with the Agg backend (no display). Horizons are short and replications few: these
tests check what the figures show, not the model's numbers, and the folder runs in well under a minute.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest

import sim
from tests.helpers import SCENARIOS

from .helpers import SUPPORT


@pytest.fixture(scope="session")
def short() -> sim.Scenario:
    """The tutorial chain over 3 years."""
    return sim.load_scenario(SCENARIOS / "tutorial.toml").with_changes({"calendar.horizon_years": 3})


@pytest.fixture(scope="session")
def res(short: sim.Scenario) -> sim.RunResult:
    return sim.run(short, seed=3)


@pytest.fixture(scope="session")
def experiment(short: sim.Scenario) -> sim.ExperimentResult:
    return sim.run_experiment(short, reps=4, seed=1)


@pytest.fixture(scope="session")
def comparison(short: sim.Scenario) -> sim.Comparison:
    return sim.compare(short, short.with_changes({"policies": [SUPPORT]}), reps=4, seed=1, independent=False)
