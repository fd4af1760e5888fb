"""Which uncertain parameters matter: one-way (tornado), Morris screening and Sobol indices.

The designs come from SALib (:class:`SALib.ProblemSpec`: sample, evaluate, analyze). SALib samples the
unit cube; each coordinate is a parameter's quantile, turned into a value by its declared distribution
(:class:`sim.uncertainty.declare.Uncertain`):

* ``oat``: the scenario as it is, then each parameter alone at the low and at the high end of its range
  (``2 k + 1`` points); the tornado ranks parameters by the swing of the metric between the two.
* ``morris``: ``n`` trajectories of ``k + 1`` points on a ``num_levels`` grid across each parameter's range
  (``n (k + 1)`` points). ``mu_star`` is the mean absolute elementary effect (change of the metric for a
  move of one parameter, per unit of its range), with a bootstrap interval; ``sigma`` their standard
  deviation (non-linearity and interactions). A parameter that does nothing has ``mu_star`` 0.
* ``sobol``: Saltelli's design of ``n (2 k + 2)`` points (``n (k + 2)`` without second order) over the
  full distributions; first-order (``S1``) and total (``ST``) indices with bootstrap intervals. Indices
  are shares of the metric's variance, so they do not depend on how each parameter is scaled.

Every point runs ``reps`` replications on the same random numbers (replication ``r`` of every point
shares its streams), so differences between points are parameter effects, not noise. With a
:class:`~sim.uncertainty.evaluate.Pair`, each point runs the baseline and the variant and the metrics are
their differences (``effect.<metric>``) and the cost per additional outcome (``cost_per.<outcome>``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ScenarioError
from ..experiment.runner import ExperimentResult
from ..experiment.tables import csv_text
from ..files import atomic_write_text
from ..scenario import Scenario
from ..streams import Streams
from .declare import Uncertainty, declared
from .evaluate import Pair, evaluate, metric_frame, pair_frame, point_arms

__all__ = ["DEFAULT_METRICS", "DEFAULT_PAIR_METRICS", "METHODS", "SensitivityResult", "salib_seed", "sensitivity"]

METHODS = ("oat", "morris", "sobol")

DEFAULT_METRICS = ("active_at_horizon", "survival.all.5y")
"""Metrics analysed when none are named (one scenario)."""

DEFAULT_PAIR_METRICS = ("effect.active_at_horizon", "cost_per.active_at_horizon")
"""Metrics analysed when none are named (a baseline and a variant)."""


@dataclass(frozen=True)
class SensitivityResult:
    """The indices of a sensitivity analysis and the evaluations behind them.

    Attributes
    ----------
    method:
        ``oat``, ``morris`` or ``sobol``.
    indices:
        ``sensitivity.csv``: one row per metric and parameter (columns by method; see the module
        docstring): ``oat``: ``low``, ``high``, ``metric_low``, ``metric_high``, ``metric_default``,
        ``swing``; ``morris``: ``mu``, ``mu_star``, ``mu_star_conf``, ``sigma``; ``sobol``: ``S1``,
        ``S1_conf``, ``ST``, ``ST_conf``. ``note`` says when a metric could not be analysed.
    points:
        ``points.csv``: one row per point: the parameter values and the metrics (means over replications).
    parameters:
        ``parameters.csv``: the declared distributions, ranges and sources.
    experiment:
        The replications (an experiment with one arm per point, two per point for a pair).
    """

    method: str
    indices: pd.DataFrame
    points: pd.DataFrame
    parameters: pd.DataFrame
    experiment: ExperimentResult
    metrics: tuple[str, ...]

    @property
    def out(self) -> Path | None:
        """The output folder, or None."""
        return self.experiment.out


def salib_seed(seed: int) -> int:
    """An integer seed for SALib's samplers, from the ``parameter_draws`` stream of ``seed``."""
    return int(Streams(seed).generator("parameter_draws").integers(2**31 - 1))


def _problem(uncertainty: Uncertainty, outputs: Sequence[str]) -> Any:
    try:
        from SALib import ProblemSpec
    except ImportError:
        raise ScenarioError(
            ['--method: Morris and Sobol need SALib; install it with: pip install "incuchain[uncertainty]"']
        ) from None

    return ProblemSpec(
        {
            "num_vars": len(uncertainty),
            "names": uncertainty.names,
            "bounds": [[0.0, 1.0]] * len(uncertainty),
            "outputs": list(outputs),
        }
    )


def _design(
    method: str, uncertainty: Uncertainty, n: int, seed: int, num_levels: int, second_order: bool
) -> tuple[Any, np.ndarray | None, list[dict[str, Any]]]:
    """The SALib problem (None for oat), the unit-cube sample and the points as ``{path: value}``."""
    if method == "oat":
        points: list[dict[str, Any]] = [{}]
        for p in uncertainty.params:
            points += [{p.path: p.low}, {p.path: p.high}]
        return None, None, points
    sp = _problem(uncertainty, ["y"])
    if method == "morris":
        sp.sample_morris(n, num_levels=num_levels, seed=salib_seed(seed))
        x = np.asarray(sp.samples)
        return sp, x, [uncertainty.values_at(row, across_range=True) for row in x]
    sp.sample_sobol(n, calc_second_order=second_order, seed=salib_seed(seed))
    x = np.asarray(sp.samples)
    return sp, x, [uncertainty.values_at(row) for row in x]


def _oat_rows(uncertainty: Uncertainty, table: pd.DataFrame, metrics: Sequence[str]) -> list[dict[str, Any]]:
    rows = []
    for metric in metrics:
        y = table[metric].to_numpy(dtype=float)
        for i, p in enumerate(uncertainty.params):
            lo, hi = float(y[1 + 2 * i]), float(y[2 + 2 * i])
            rows.append(
                {
                    "method": "oat",
                    "metric": metric,
                    "parameter": p.path,
                    "low": p.low,
                    "high": p.high,
                    "metric_low": lo,
                    "metric_high": hi,
                    "metric_default": float(y[0]),
                    "swing": abs(hi - lo),
                    "note": "" if math.isfinite(hi - lo) else "metric undefined at an end of the range",
                }
            )
    frame = pd.DataFrame(rows)
    order = frame.assign(_s=frame["swing"].fillna(-1.0)).sort_values(["metric", "_s"], ascending=[True, False])
    key = {m: i for i, m in enumerate(metrics)}
    order = order.sort_values("metric", key=lambda s: s.map(key), kind="stable")
    return list(order.drop(columns="_s").to_dict("records"))


def _salib_rows(
    method: str,
    sp: Any,
    x: np.ndarray,
    uncertainty: Uncertainty,
    table: pd.DataFrame,
    metrics: Sequence[str],
    *,
    seed: int,
    num_levels: int,
    second_order: bool,
    level: float,
) -> list[dict[str, Any]]:
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    rows: list[dict[str, Any]] = []
    for metric in metrics:
        y = table[metric].to_numpy(dtype=float)
        base: dict[str, Any] = {"method": method, "metric": metric}
        if not np.all(np.isfinite(y)):
            bad = int(np.sum(~np.isfinite(y)))
            rows += [
                {**base, "parameter": p.path, "note": f"metric undefined at {bad} of {len(y)} points: not analysed"}
                for p in uncertainty.params
            ]
            continue
        # ProblemSpec's own analyze wraps these with the sample it holds; called directly per metric so that
        # one metric undefined somewhere does not stop the others.
        if method == "morris":
            res = morris_analyze.analyze(
                sp, x, y, num_levels=num_levels, conf_level=level, num_resamples=1000, seed=salib_seed(seed) + 1
            )
            for i, p in enumerate(uncertainty.params):
                rows.append(
                    {
                        **base,
                        "parameter": p.path,
                        "mu": float(res["mu"][i]),
                        "mu_star": float(res["mu_star"][i]),
                        "mu_star_conf": float(res["mu_star_conf"][i]),
                        "sigma": float(res["sigma"][i]),
                        "note": "",
                    }
                )
        else:
            res = sobol_analyze.analyze(
                sp,
                y,
                calc_second_order=second_order,
                conf_level=level,
                num_resamples=1000,
                seed=salib_seed(seed) + 1,
            )
            constant = float(np.var(y)) == 0.0
            for i, p in enumerate(uncertainty.params):
                rows.append(
                    {
                        **base,
                        "parameter": p.path,
                        "S1": float(res["S1"][i]),
                        "S1_conf": float(res["S1_conf"][i]),
                        "ST": float(res["ST"][i]),
                        "ST_conf": float(res["ST_conf"][i]),
                        "note": "the metric does not vary: indices undefined" if constant else "",
                    }
                )
    return rows


def sensitivity(
    target: Scenario | Pair,
    uncertainty: Uncertainty,
    method: str = "morris",
    *,
    metrics: Sequence[str] | None = None,
    n: int = 10,
    reps: int = 1,
    seed: int = 0,
    num_levels: int = 4,
    second_order: bool = True,
    executor: Executor | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool | None = None,
    level: float = 0.95,
) -> SensitivityResult:
    """Sensitivity of summary metrics to the declared parameters (see the module docstring).

    Parameters
    ----------
    target:
        A scenario, or a :class:`~sim.uncertainty.evaluate.Pair` (metrics are then differences).
    uncertainty:
        The parameters to vary (:func:`sim.uncertainty.load_uncertainty`, ``.select(...)``).
    method:
        ``oat``, ``morris`` or ``sobol``.
    metrics:
        Summary metrics (``active_at_horizon``, ``stages.incubator.graduations``, a priced outcome such
        as ``surviving_firms_5y``); for a pair ``effect.<metric>`` or ``cost_per.<outcome>``. Default
        :data:`DEFAULT_METRICS` / :data:`DEFAULT_PAIR_METRICS`.
    n:
        Morris trajectories, or Sobol's base sample size (a power of 2). Unused by ``oat``.
    reps:
        Replications per point (their mean is the point's value).
    seed:
        Root seed: the replications' streams and the design (its ``parameter_draws`` stream).
    num_levels:
        Morris grid levels.
    second_order:
        Sobol: also the second-order design (``n (2 k + 2)`` points instead of ``n (k + 2)``).
    executor, out, resume, overwrite, progress:
        As for :func:`sim.run_experiment`; ``out`` also gets ``sensitivity.csv``, ``points.csv`` and
        ``parameters.csv``.
    level:
        Confidence level of the bootstrap intervals.

    Raises
    ------
    ScenarioError
        Unknown method or metric, too few parameters, or a point makes the scenario invalid.
    """
    if method not in METHODS:
        raise ScenarioError([f"--method: must be one of {', '.join(METHODS)}, got {method!r}"])
    if len(uncertainty) < (1 if method == "oat" else 2):
        raise ScenarioError([f"--params: {method} needs at least 2 uncertain parameters, got {len(uncertainty)}"])
    if n < 1:
        raise ScenarioError([f"--n: must be >= 1, got {n}"])
    if method == "sobol" and n & (n - 1):
        raise ScenarioError([f"--n: Sobol's base sample must be a power of 2 (64, 128, 256, ...), got {n}"])
    pair = isinstance(target, Pair)
    chosen = tuple(metrics) if metrics else (DEFAULT_PAIR_METRICS if pair else DEFAULT_METRICS)
    sp, x, points = _design(method, uncertainty, n, seed, num_levels, second_order)
    arms, base_labels = point_arms(target, uncertainty, points)
    result = evaluate(
        arms,
        reps,
        seed,
        kind=f"sensitivity-{method}",
        executor=executor,
        out=out,
        resume=resume,
        overwrite=overwrite,
        progress=progress,
    )
    table = pair_frame(result, chosen, base_labels) if pair else metric_frame(result, chosen)
    if method == "oat":
        rows = _oat_rows(uncertainty, table, chosen)
    else:
        assert x is not None
        rows = _salib_rows(
            method,
            sp,
            x,
            uncertainty,
            table,
            chosen,
            seed=seed,
            num_levels=num_levels,
            second_order=second_order,
            level=level,
        )
    indices = pd.DataFrame(rows)
    values = pd.DataFrame([{p: points[i].get(p, math.nan) for p in uncertainty.names} for i in range(len(points))])
    point_table = pd.concat([table[["point"]], values, table.drop(columns="point")], axis=1)
    parameters = pd.DataFrame(declared(uncertainty.params))
    if result.out is not None:
        atomic_write_text(result.out / "sensitivity.csv", csv_text(indices))
        atomic_write_text(result.out / "points.csv", csv_text(point_table))
        atomic_write_text(result.out / "parameters.csv", csv_text(parameters))
    return SensitivityResult(method, indices, point_table, parameters, result, chosen)
