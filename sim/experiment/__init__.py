"""Experiments: many replications of one or more scenarios, paired comparisons and sweeps.

* :func:`run_experiment` -- ``reps`` replications of each scenario, on any executor, with
  checkpoints and resume when given a folder; tidy tables with means and t intervals.
* :func:`compare` -- the paired effect of a variant against a baseline on every summary metric,
  on request how much common random numbers narrowed each interval and, when the variant adds
  several policies, what each buys alone.
* :func:`sweep` -- a design over scenario fields (``stages.incubator.carriers.capacity``), full
  factorial or zipped.

Modules: :mod:`~sim.experiment.arms` (what runs), :mod:`~sim.experiment.tasks` (one replication as
a task), :mod:`~sim.experiment.store` (the folder, checkpoints, resume), :mod:`~sim.experiment.tables`
and :mod:`~sim.experiment.metrics` (tidy tables), :mod:`~sim.experiment.runner`,
:mod:`~sim.experiment.comparison`, :mod:`~sim.experiment.cost_effectiveness`,
:mod:`~sim.experiment.instruments` and :mod:`~sim.experiment.design`. See ``docs/experiments.md``.
"""

from __future__ import annotations

from .arms import Arm
from .comparison import Comparison, compare
from .design import sweep
from .metrics import flatten_summary
from .options import RunOptions
from .runner import ExperimentError, ExperimentResult, ReplicationFailure, run_experiment
from .store import CheckpointError

__all__ = [
    "Arm",
    "CheckpointError",
    "Comparison",
    "ExperimentError",
    "ExperimentResult",
    "ReplicationFailure",
    "RunOptions",
    "compare",
    "flatten_summary",
    "run_experiment",
    "sweep",
]
