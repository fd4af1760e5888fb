"""Parameter uncertainty: declaring it, sensitivity analysis, probabilistic comparison and calibration.

* :mod:`~sim.uncertainty.declare` -- the ``[uncertainty]`` table: a distribution and a source per
  scenario field (:func:`load_uncertainty`).
* :mod:`~sim.uncertainty.sensitivity` -- one-way (tornado), Morris and Sobol analyses with SALib
  (:func:`sensitivity`).
* :mod:`~sim.uncertainty.psa` -- probabilistic sensitivity analysis of a policy: paired baseline and
  variant per parameter draw, cost-effectiveness plane, acceptability curve, value of information (:func:`psa`).
* :mod:`~sim.uncertainty.calibrate` -- fitting parameters to observed figures with scipy.optimize
  (:func:`calibrate`, :func:`load_targets`); :mod:`~sim.uncertainty.intervals` -- how far each fitted
  parameter can move while the model still meets every fitted target.

All of them run their evaluations through the experiment runner (:mod:`~sim.uncertainty.evaluate`):
any executor, checkpoints and resume, summaries only. See ``docs/uncertainty.md``.
"""

from __future__ import annotations

from .declare import Uncertain, Uncertainty, load_uncertainty, parse_uncertainty, resolve_path
from .evaluate import Pair
from .sensitivity import SensitivityResult, sensitivity

__all__ = [
    "Pair",
    "SensitivityResult",
    "Uncertain",
    "Uncertainty",
    "load_uncertainty",
    "parse_uncertainty",
    "resolve_path",
    "sensitivity",
]
