"""Tidy tables across replications: one row per replication, statistics per metric, time series.

Every row starts with its identity: ``scenario`` (the scenario's name), ``arm`` (only when the
experiment has several), one column per swept field (named by its dotted path), then ``seed`` and
``replication`` (the engine's replication index, so ``sim.run(scenario, seed, replication)``
reproduces the row).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..files import atomic_path
from ..stats import mean_ci
from ..summary import RunSummary
from .arms import Arm

__all__ = ["Layout", "csv_text", "decorate_timeseries", "stats_table", "summary_table", "write_csv_stream"]

FLOAT_FORMAT = "%.10g"
"""Numbers in CSV files: ten significant digits, the same in every table of the project."""


class Layout:
    """The identity columns shared by an experiment's tables."""

    def __init__(self, arms: Sequence[Arm]) -> None:
        self.arms = tuple(arms)
        self.multi = len(self.arms) > 1
        keys: list[str] = []
        for arm in self.arms:
            keys += [k for k in arm.params if k not in keys]
        self.param_keys = tuple(keys)

    def identity(self, arm: Arm) -> dict[str, Any]:
        """``scenario``, ``arm`` (several arms only) and the swept values of ``arm``."""
        row: dict[str, Any] = {"scenario": arm.scenario.name}
        if self.multi:
            row["arm"] = arm.label
        for key in self.param_keys:
            row[key] = arm.params.get(key)
        return row


def summary_table(layout: Layout, summaries: Iterable[tuple[Arm, RunSummary]]) -> pd.DataFrame:
    """One row per replication: identity, ``seed``, ``replication``, then every metric.

    ``summaries`` yields ``(arm, summary)`` in the order the rows should have (arm, then replication).
    """
    rows = []
    for arm, summary in summaries:
        rows.append(
            {
                **layout.identity(arm),
                "seed": summary.seed,
                "replication": summary.replication,
                **summary.metrics,
            }
        )
    return pd.DataFrame(rows)


def stats_table(layout: Layout, summary: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per arm and metric: ``n``, ``mean``, ``sd``, ``se``, ``ci_low``, ``ci_high`` and a ``note``.

    ``n`` counts replications with a value; see :mod:`sim.stats` for the edge cases.
    """
    id_cols = list(layout.identity(layout.arms[0]))
    metrics = [c for c in summary.columns if c not in (*id_cols, "seed", "replication")]
    rows = []
    for arm in layout.arms:
        part = summary[summary["arm"] == arm.label] if layout.multi else summary
        ident = layout.identity(arm)
        # every metric as one contiguous column of floats, read once (not a pandas look-up per metric)
        values = np.asfortranarray(part[metrics].to_numpy(dtype=float)) if metrics else np.empty((len(part), 0))
        for j, metric in enumerate(metrics):
            est = mean_ci(values[:, j], level)
            rows.append(
                {
                    **ident,
                    "metric": metric,
                    "n": est.n,
                    "mean": est.mean,
                    "sd": est.sd,
                    "se": est.se,
                    "ci_low": est.ci_low,
                    "ci_high": est.ci_high,
                    "note": est.note,
                }
            )
    return pd.DataFrame(rows)


def decorate_timeseries(layout: Layout, arm: Arm, frame: pd.DataFrame) -> pd.DataFrame:
    """A replication's time series with the arm and swept values inserted after ``scenario``."""
    extra = {k: v for k, v in layout.identity(arm).items() if k != "scenario"}
    if not extra:
        return frame
    out = frame.copy()
    for i, (key, value) in enumerate(extra.items(), start=1):
        out.insert(i, key, [value] * len(out))
    return out


def csv_text(df: pd.DataFrame, header: bool = True) -> str:
    """A table as CSV text: no index, ten significant digits, NaN as an empty field, ``\\n`` line ends."""
    text: str = df.to_csv(index=False, header=header, float_format=FLOAT_FORMAT, lineterminator="\n")
    return text


def write_csv_stream(path: Path, frames: Iterable[pd.DataFrame]) -> None:
    """Write frames one after another as one CSV file (header once), atomically.

    Only one frame is in memory at a time, so a thousand replications' time series never are.
    """
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        first = True
        for frame in frames:
            fh.write(csv_text(frame, header=first))
            first = False
