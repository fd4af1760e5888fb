"""incuchain: a discrete-event simulator of technology-incubation chains.

Firms move through a chain of stages (maker space -> incubator -> accelerator -> industrial park, and
the open market outside any carrier); at each stage they can fail, graduate onward, time out or wait
for space. Typical use::

    import sim
    sc = sim.load_scenario("scenarios/tutorial.toml")   # or sim.default_scenario()
    res = sim.run(sc, seed=7)
    res.events, res.firms, res.timeseries, res.summary()   # summary(): one flat record of metrics
    exp = sim.run_experiment(sc, reps=50, seed=1)        # many replications: exp.summary, exp.stats
    cmp = sim.compare(sc, sc.with_changes({...}), reps=50)  # paired policy effects: cmp.effects
"""

from __future__ import annotations

import logging

from .api import run
from .decomposition import Decomposition, decompose
from .errors import ScenarioError
from .experiment import (
    Arm,
    Comparison,
    ExperimentError,
    ExperimentResult,
    RunOptions,
    compare,
    run_experiment,
    sweep,
)
from .results import RunResult
from .scenario import Scenario, default_scenario, load_scenario, parse_scenario, scenario_json_schema
from .summary import RunSummary
from .version import __version__

__all__ = [
    "Arm",
    "Comparison",
    "Decomposition",
    "ExperimentError",
    "ExperimentResult",
    "RunOptions",
    "RunResult",
    "RunSummary",
    "Scenario",
    "ScenarioError",
    "__version__",
    "compare",
    "decompose",
    "default_scenario",
    "load_scenario",
    "parse_scenario",
    "run",
    "run_experiment",
    "scenario_json_schema",
    "sweep",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
