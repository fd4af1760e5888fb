"""Paired policy comparisons: variant minus baseline, replication by replication.

Replication ``r`` of the baseline and of the variant share their random streams (common random
numbers, see :mod:`sim.streams`), so each metric's difference is estimated from the ``reps`` paired
differences, with a t interval. To show what pairing buys, the variant is also run on independent
streams (replications ``reps .. 2 reps - 1``) and compared with the baseline as two independent
samples (Welch interval): ``pairing_ci_ratio`` is that interval's half-width over the paired one's.
A ratio of 3 means independent runs would have needed about 9 times the replications for the same
precision.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..scenario import Scenario
from ..stats import ci_ratio, mean_ci, paired_difference, welch_difference
from .arms import Arm
from .cost_effectiveness import SPEND, cost_effectiveness_table
from .runner import ExperimentResult, execute

__all__ = ["EFFECT_COLUMNS", "Comparison", "compare", "effects_table"]

BASELINE, VARIANT, INDEPENDENT = "baseline", "variant", "variant_independent"

EFFECT_COLUMNS = (
    "metric",
    "baseline_mean",
    "variant_mean",
    "diff_mean",
    "diff_se",
    "ci_low",
    "ci_high",
    "n",
    "pairing_ci_ratio",
    "independent_ci_low",
    "independent_ci_high",
    "note",
)
"""Columns of ``effects.csv``."""


@dataclass(frozen=True)
class Comparison:
    """The effects of a variant against a baseline.

    Attributes
    ----------
    effects:
        One row per metric (:data:`EFFECT_COLUMNS`): the means of both arms, the paired difference
        (variant - baseline) with its standard error and interval, ``n`` pairs, the
        independent-streams interval and ``pairing_ci_ratio``.
    experiment:
        The replications behind it (arms ``baseline``, ``variant`` and, when measured,
        ``variant_independent``).
    level:
        Confidence level of the intervals.
    cost_effectiveness:
        When either scenario has a budget (``budget.total_yuan``): the cost per additional outcome
        (:func:`sim.experiment.cost_effectiveness.cost_effectiveness_table`); otherwise None.
    """

    effects: pd.DataFrame
    experiment: ExperimentResult
    level: float
    cost_effectiveness: pd.DataFrame | None = None

    def effect(self, metric: str) -> pd.Series:
        """The row of ``effects`` for one metric."""
        rows = self.effects[self.effects["metric"] == metric]
        if rows.empty:
            raise KeyError(f"no metric {metric!r}")
        return rows.iloc[0]


def effects_table(result: ExperimentResult, level: float = 0.95) -> pd.DataFrame:
    """Paired effects of arm ``variant`` against ``baseline`` (and the independent-streams check)."""
    labels = [a.label for a in result.arms]
    independent = INDEPENDENT in labels
    rows = []
    base_metrics = result.summary[result.summary["arm"] == BASELINE].dropna(axis=1, how="all").columns
    for metric in result.metrics:
        b = result.values(BASELINE, metric).to_numpy()
        v = result.values(VARIANT, metric).to_numpy()
        paired = paired_difference(b, v, level)
        notes = [paired.note] if paired.note else []
        row = {
            "metric": metric,
            "baseline_mean": mean_ci(b, level).mean,
            "variant_mean": mean_ci(v, level).mean,
            "diff_mean": paired.mean,
            "diff_se": paired.se,
            "ci_low": paired.ci_low,
            "ci_high": paired.ci_high,
            "n": paired.n,
            "pairing_ci_ratio": float("nan"),
            "independent_ci_low": float("nan"),
            "independent_ci_high": float("nan"),
        }
        if independent:
            ind = welch_difference(b, result.values(INDEPENDENT, metric).to_numpy(), level)
            row["pairing_ci_ratio"] = ci_ratio(ind, paired)
            row["independent_ci_low"] = ind.ci_low
            row["independent_ci_high"] = ind.ci_high
        if metric not in base_metrics:
            notes.append("no value in the baseline")
        row["note"] = "; ".join(notes)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))


def compare(
    baseline: Scenario,
    variant: Scenario,
    reps: int = 30,
    seed: int = 0,
    *,
    independent: bool = True,
    executor: Executor | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    keep_events: bool = False,
    progress: bool | None = None,
    level: float = 0.95,
) -> Comparison:
    """Paired comparison of ``variant`` against ``baseline`` on every summary metric.

    Parameters
    ----------
    baseline, variant:
        The two scenarios (e.g. without and with a support policy).
    reps:
        Paired replications (>= 1; at least 2 for intervals).
    seed:
        Root seed.
    independent:
        Also run the variant on independent streams to measure how much pairing narrowed each
        interval (``pairing_ci_ratio``); costs ``reps`` more replications.
    executor, out, resume, overwrite, keep_events, progress, level:
        As for :func:`sim.run_experiment`; ``out`` also gets ``effects.csv`` and, when either
        scenario has a budget, ``cost_effectiveness.csv``.

    Returns
    -------
    Comparison
    """
    arms = [Arm(baseline, BASELINE), Arm(variant, VARIANT)]
    if independent:
        arms.append(Arm(variant, INDEPENDENT, replication_offset=reps))
    tables: dict[str, pd.DataFrame] = {}

    def extra(result: ExperimentResult) -> dict[str, pd.DataFrame]:
        tables["effects.csv"] = effects_table(result, level)
        if SPEND in result.summary.columns:
            tables["cost_effectiveness.csv"] = cost_effectiveness_table(result, BASELINE, VARIANT, level)
        return tables

    result = execute(
        tuple(arms),
        reps,
        seed,
        kind="compare",
        executor=executor,
        out=out,
        resume=resume,
        overwrite=overwrite,
        keep_events=keep_events,
        progress=progress,
        level=level,
        extra_tables=extra,
    )
    return Comparison(tables["effects.csv"], result, level, tables.get("cost_effectiveness.csv"))
