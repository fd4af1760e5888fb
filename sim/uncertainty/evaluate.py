"""Evaluating a design of parameter values: every point as an arm of one experiment.

Each point of a sensitivity design, probabilistic draw or calibration step is a scenario derived with
:func:`sim.uncertainty.declare.apply_values`, run as an :class:`~sim.experiment.Arm` by the experiment
runner (:func:`sim.experiment.runner.execute`). So the analyses run on any executor (processes, Dask),
show progress, checkpoint every replication and resume after an interruption exactly as experiments
do, and their folders hold the usual ``summary.csv`` and ``experiment.json``.

Every analysis reaches the runner through :func:`evaluate` alone, and reads only the replications'
summaries (:func:`point_means`). So :func:`evaluate` runs the replications for their summaries only: no
time series, firm table or dated ledger is built on the workers, and checkpoints hold the summary alone
(:mod:`sim.experiment.tasks`). Metrics the summary lacks (a calibration's yearly targets) are computed on
the workers by a :class:`~sim.experiment.tasks.Measure` and travel in the summary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ScenarioError
from ..experiment.arms import Arm
from ..experiment.cost_effectiveness import OUTCOMES, SPEND
from ..experiment.options import RunOptions
from ..experiment.runner import ExperimentResult, execute
from ..experiment.tasks import Measure
from ..scenario import Scenario
from .declare import Uncertainty, apply_values

__all__ = [
    "COST_PREFIX",
    "EFFECT_PREFIX",
    "Pair",
    "evaluate",
    "metric_frame",
    "pair_frame",
    "point_arms",
    "point_means",
]

EFFECT_PREFIX = "effect."
"""Metrics of a pair: ``effect.<metric>`` is variant - baseline (mean over the replications)."""

COST_PREFIX = "cost_per."
"""Metrics of a pair: ``cost_per.<outcome>`` is yuan per additional unit of a priced outcome."""


@dataclass(frozen=True)
class Pair:
    """A baseline and a variant evaluated at the same parameter values and replications."""

    baseline: Scenario
    variant: Scenario


def point_arms(
    target: Scenario | Pair,
    uncertainty: Uncertainty,
    points: Sequence[Mapping[str, Any]],
    *,
    prefix: str = "p",
    offsets: Sequence[int] | None = None,
) -> tuple[tuple[Arm, ...], list[str]]:
    """One arm per point (for a :class:`Pair`, also its baseline), validated first.

    Parameters
    ----------
    target:
        The scenario, or a baseline and variant pair (each point is applied to both; a path only the
        variant has is skipped for the baseline).
    uncertainty:
        The declared parameters.
    points:
        ``{path: value}`` per point.
    prefix:
        Labels are ``<prefix>00000``, ``<prefix>00001``, ...; a baseline's is ``<label>-base``.
    offsets:
        The replication offset of each point's arms (default 0 for all: common random numbers across
        points; a pair always shares its offset).

    Returns
    -------
    arms, base_labels:
        The arms, and for a pair the label of each point's baseline arm (empty otherwise). Points whose
        baseline is the same scenario at the same replications (only the variant's policies vary) share
        one baseline arm, which then runs once.

    Raises
    ------
    ScenarioError
        A point makes a scenario invalid (one line per distinct problem, naming the point's values).
    """
    arms: list[Arm] = []
    base_labels: list[str] = []
    shared: dict[tuple[str, int], str] = {}
    problems: list[str] = []
    for i, point in enumerate(points):
        label = f"{prefix}{i:05d}"
        offset = 0 if offsets is None else int(offsets[i])
        params = {k: _plain(v) for k, v in point.items()}
        try:
            if isinstance(target, Pair):
                base = Arm(apply_values(target.baseline, uncertainty, point), f"{label}-base", params, offset)
                key = (base.digest, offset)
                if key not in shared:
                    shared[key] = base.label
                    arms.append(base)
                base_labels.append(shared[key])
                arms.append(Arm(apply_values(target.variant, uncertainty, point), label, params, offset))
            else:
                arms.append(Arm(apply_values(target, uncertainty, point), label, params, offset))
        except ScenarioError as exc:
            values = ", ".join(f"{k} = {v}" for k, v in params.items())
            line = f"point {label} ({values}): {exc.problems[0] if exc.problems else 'invalid'}"
            if line not in problems:
                problems.append(line)
    if problems:
        raise ScenarioError(problems)
    return tuple(arms), base_labels


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def evaluate(
    arms: tuple[Arm, ...],
    reps: int,
    seed: int,
    *,
    kind: str,
    executor: Executor | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool | None = None,
    measure: Measure | None = None,
) -> ExperimentResult:
    """Run ``reps`` replications of every arm (the experiment runner: checkpoints, resume, any executor).

    The analyses need the replications' summaries only (:attr:`ExperimentResult.summary`), so none is
    run for anything else (no time series, no ``timeseries.csv``); ``measure`` adds the metrics a summary
    lacks, computed on the workers.
    """
    options = RunOptions(executor=executor, out=out, resume=resume, overwrite=overwrite, progress=progress)
    return execute(arms, reps, seed, kind=kind, options=options, timeseries=False, measure=measure)


def _outcome_column(summary: pd.DataFrame, metric: str) -> pd.Series:
    """A metric per replication: a summary column, or a priced outcome of :data:`OUTCOMES`."""
    if metric in summary.columns:
        return summary[metric].astype(float)
    n = len(summary)
    if metric == "graduations":
        cols = [c for c in summary.columns if c.startswith("stages.") and c.endswith(".graduations")]
        return summary[cols].astype(float).sum(axis=1) if cols else pd.Series(np.zeros(n), index=summary.index)
    if metric.startswith("surviving_firms_"):
        col = f"survival.all.{metric.removeprefix('surviving_firms_')}"
        if col in summary.columns:
            return summary[col].astype(float) * summary["firms"].astype(float)
    aliases = {"listings": "listings.total", "jobs_at_horizon": "jobs.at_horizon"}
    if metric in aliases and aliases[metric] in summary.columns:
        return summary[aliases[metric]].astype(float)
    if metric == SPEND:  # a scenario without policies spends nothing
        return pd.Series(np.zeros(n), index=summary.index)
    return pd.Series(np.full(n, math.nan), index=summary.index)


def point_means(result: ExperimentResult, metrics: Sequence[str]) -> pd.DataFrame:
    """Mean of each metric over the replications of every arm (rows: arm labels, in arm order)."""
    summary = result.summary
    labels = [a.label for a in result.arms]
    arm_col = summary["arm"] if "arm" in summary.columns else pd.Series([labels[0]] * len(summary))
    frame = pd.DataFrame({m: _outcome_column(summary, m).to_numpy() for m in metrics})
    frame["arm"] = arm_col.to_numpy()
    if SPEND in frame.columns:
        frame[SPEND] = frame[SPEND].fillna(0.0)
    return frame.groupby("arm", sort=False).mean().reindex(labels)


def known_metrics(result: ExperimentResult) -> list[str]:
    """Metrics of one scenario's points: summary metrics and the priced outcomes."""
    return [*result.metrics, *(o for o in OUTCOMES if o not in result.metrics)]


def metric_frame(result: ExperimentResult, metrics: Sequence[str], prefix: str = "p") -> pd.DataFrame:
    """One row per point (``point`` label) and a column per metric: the mean over its replications.

    Raises
    ------
    ScenarioError
        A metric is not a summary metric or priced outcome (naming it).
    """
    known = known_metrics(result)
    unknown = [m for m in metrics if m not in known]
    if unknown:
        raise ScenarioError([f"--metrics {m}: unknown metric (see summary_stats.csv for the names)" for m in unknown])
    means = point_means(result, metrics)
    means = means[[str(i).startswith(prefix) for i in means.index]]
    return means.rename_axis("point").reset_index()


def pair_metric_names(result: ExperimentResult) -> list[str]:
    """Metrics of a pair's points: ``effect.<m>`` for every metric and outcome, ``cost_per.<outcome>``."""
    return [*(EFFECT_PREFIX + m for m in known_metrics(result)), *(COST_PREFIX + o for o in OUTCOMES)]


def pair_frame(
    result: ExperimentResult, metrics: Sequence[str], base_labels: Sequence[str], prefix: str = "p"
) -> pd.DataFrame:
    """One row per point of a pair design: ``effect.<m>`` (variant - baseline) and ``cost_per.<outcome>``.

    ``cost_per.<outcome>`` is the point's mean extra spend over its mean extra outcome (yuan per
    additional unit; NaN when the outcome does not change). Both arms of a point share their
    replications, so the differences are paired.

    Raises
    ------
    ScenarioError
        A metric is neither ``effect.<metric>`` nor ``cost_per.<outcome>`` of a known one.
    """
    known = set(pair_metric_names(result))
    unknown = [m for m in metrics if m not in known]
    if unknown:
        raise ScenarioError(
            [
                f"--metrics {m}: unknown metric of a comparison (use effect.<metric> or cost_per.<outcome>, "
                f"outcomes: {', '.join(OUTCOMES)})"
                for m in unknown
            ]
        )
    base_metrics = [m.removeprefix(EFFECT_PREFIX) for m in metrics if m.startswith(EFFECT_PREFIX)]
    outcomes = [m.removeprefix(COST_PREFIX) for m in metrics if m.startswith(COST_PREFIX)]
    needed = list(dict.fromkeys([*base_metrics, *outcomes, SPEND]))
    means = point_means(result, needed)
    labels = [f"{prefix}{i:05d}" for i in range(len(base_labels))]
    var = means.loc[labels].to_numpy(dtype=float)
    base = means.loc[list(base_labels)].to_numpy(dtype=float)
    diff = pd.DataFrame(var - base, columns=needed)
    rows: dict[str, Any] = {"point": labels}
    for m in metrics:
        if m.startswith(EFFECT_PREFIX):
            rows[m] = diff[m.removeprefix(EFFECT_PREFIX)].to_numpy()
        else:
            dy = diff[m.removeprefix(COST_PREFIX)].to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                rows[m] = np.where(dy != 0.0, diff[SPEND].to_numpy() / dy, math.nan)
    return pd.DataFrame(rows)
