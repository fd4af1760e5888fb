"""The summary metrics of a replication as one flat record: ``{metric name: number or NaN}``.

Names follow the nesting of :meth:`sim.RunResult.summary`, joined by dots, the way scenario fields
are named on the command line:

* overall: ``arrivals``, ``initial_stock``, ``firms``, ``active_at_horizon``, ``failed``, ``exited``;
* per stage: ``stages.<stage>.<measure>`` for ``entries``, ``graduations``, ``failures``,
  ``timeouts``, ``reneges``, ``skips``, ``rejections``, ``found_full``, ``mean_stay_years``, ``completed_stays``,
  ``mean_occupancy`` and ``occupancy_at_horizon``;
* survival (Kaplan-Meier): ``survival.<group>.<t>y`` for groups ``all``, ``never_in_carrier`` and
  ``ever_in_carrier`` at ``t`` = 1, 3, 5, 10 years.

A measure the replication cannot give (survival past the horizon, the mean stay in a stage no firm
left) is NaN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["NOT_METRICS", "OVERALL", "STAGE_MEASURES", "flatten_summary"]

OVERALL: tuple[str, ...] = ("arrivals", "initial_stock", "firms", "active_at_horizon", "failed", "exited")
"""System-wide metrics, in the order the tables list them."""

STAGE_MEASURES: tuple[str, ...] = (
    "entries",
    "graduations",
    "failures",
    "timeouts",
    "reneges",
    "skips",
    "rejections",
    "found_full",
    "mean_stay_years",
    "completed_stays",
    "mean_occupancy",
    "occupancy_at_horizon",
)
"""Per-stage metrics, in the order the tables list them."""

NOT_METRICS = frozenset({"scenario", "seed", "replication", "horizon_years", "warmup_years"})
"""Summary keys that describe the run rather than measure it."""


def _number(value: Any) -> float | int:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"summary value {value!r} is not a number")
    return value


def flatten_summary(summary: Mapping[str, Any]) -> dict[str, float | int]:
    """One flat ``{metric: value}`` record from a replication's summary (see the module docstring).

    Counts stay ints; missing values become NaN. Keys the summary adds later are kept (after the
    known ones), so a new measure reaches the experiment tables without changes here.
    """
    flat: dict[str, float | int] = {}
    for key in OVERALL:
        if key in summary:
            flat[key] = _number(summary[key])
    for key, value in summary.items():
        if key in NOT_METRICS or key in flat or key in ("stages", "survival"):
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            flat[key] = value
    for stage, measures in summary.get("stages", {}).items():
        ordered = [m for m in STAGE_MEASURES if m in measures] + [m for m in measures if m not in STAGE_MEASURES]
        for m in ordered:
            flat[f"stages.{stage}.{m}"] = _number(measures[m])
    survival = summary.get("survival")
    if survival:
        years = survival["years"]
        for group, values in survival.items():
            if group == "years":
                continue
            for t, v in zip(years, values, strict=True):
                flat[f"survival.{group}.{t:g}y"] = _number(v)
    return flat
