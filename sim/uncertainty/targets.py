"""Calibration targets: observed figures, and the same figures computed from replications.

A targets file lists ``[[targets]]``, each an observed figure with its uncertainty and source::

    [[targets]]
    name = "incubator_tenants_2019"
    metric = "occupancy"       # a stage's stock in December of the year
    stage = "incubator"
    year = 2019
    value = 34000
    tolerance = 1700           # or: se = ... (a standard error)
    source = "sources C: > 34,000 tenants in 2019 (Xinhua Daily)"

Metrics a target may name:

* per stage and year (``stage`` and ``year`` required): the stocks ``occupancy``, ``queue`` and
  ``capacity`` at the end of December; the flows ``entries``, ``graduations``, ``timeouts``,
  ``failures``, ``reneges``, ``skips`` and ``rejections`` summed over the year's months; and
  ``graduation_share``, ``failure_share``, ``timeout_share``: graduations, failures or time-outs over all
  exits (graduations + time-outs + failures) in the year;
* system-wide per year (``year`` required, no ``stage``): ``active``, ``arrived``, ``failed``,
  ``exited`` at the end of December;
* any run-summary metric (no ``year``; see :mod:`sim.experiment.metrics`): ``survival.all.5y``,
  ``active_at_horizon``, and with ``stage``, a stage measure such as ``mean_stay_years``
  (``stages.<stage>.<measure>``).

A target the scenario cannot give (an unknown metric or stage, a year outside the run) is refused,
naming it, before anything runs.

A calibration computes the yearly figures on the workers (:class:`YearlyTargets`, from a stage time
series built there and dropped), so its evaluations keep nothing but summaries; :func:`target_values`
reads those, or the time series of an ordinary experiment, with the same result to the last digit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..distributions import Real
from ..errors import ScenarioError, format_validation_error
from ..experiment.metrics import OVERALL, STAGE_MEASURES
from ..experiment.runner import ExperimentResult
from ..scenario import Scenario
from ..tables import SURVIVAL_YEARS, stage_timeseries

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = [
    "STAGE_FLOWS",
    "STAGE_STOCKS",
    "SYSTEM_STOCKS",
    "Target",
    "YearlyTargets",
    "load_targets",
    "parse_targets",
    "target_values",
]

MEASURED_PREFIX = "target."
"""Summary key of a yearly target computed on the worker: ``target.<name>``."""

STAGE_STOCKS = ("occupancy", "queue", "capacity")
STAGE_FLOWS = ("entries", "graduations", "timeouts", "failures", "reneges", "skips", "rejections")
SYSTEM_STOCKS = ("active", "arrived", "failed", "exited")
_SHARES = {"graduation_share": "graduations", "failure_share": "failures", "timeout_share": "timeouts"}
_YEARLY = (*STAGE_STOCKS, *STAGE_FLOWS, *_SHARES, *SYSTEM_STOCKS)
_SURVIVAL = re.compile(r"^survival\.(all|never_in_carrier|ever_in_carrier)\.(\d+)y$")
_OTHER_SUMMARY = ("jobs.at_horizon", "jobs.per_active_firm", "listings.total")


class Target(BaseModel):
    """One observed figure (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    metric: str = Field(min_length=1)
    stage: str | None = None
    year: Annotated[int, Field(strict=True)] | None = None
    value: Real
    tolerance: Real | None = Field(None, gt=0, description="how far the model may be from value, same unit")
    se: Real | None = Field(None, gt=0, description="standard error of value, same unit")
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _spread(self) -> Target:
        if (self.tolerance is None) == (self.se is None):
            raise ValueError("give exactly one of tolerance and se")
        return self

    @property
    def scale(self) -> float:
        """The unit of the misfit: the standard error, or the tolerance."""
        return float(self.se if self.se is not None else self.tolerance)  # type: ignore[arg-type]

    @property
    def allowed(self) -> float:
        """Largest distance from ``value`` counted as a fit: the tolerance, or 2 standard errors."""
        return float(self.tolerance) if self.tolerance is not None else 2.0 * float(self.se)  # type: ignore[arg-type]

    @property
    def column(self) -> str | None:
        """The run-summary metric it reads, or None for a yearly one."""
        if self.year is not None:
            return None
        return f"stages.{self.stage}.{self.metric}" if self.stage else self.metric


def _problems(sc: Scenario, t: Target, horizon_years: float) -> list[str]:
    where = f"targets.{t.name}"
    if t.stage is not None and t.stage not in sc.stages:
        return [f"{where}.stage: unknown stage {t.stage!r} (stages: {', '.join(sc.stages)})"]
    if t.year is not None:
        if t.metric not in _YEARLY:
            return [f"{where}.metric: cannot compute {t.metric!r} by year (yearly metrics: {', '.join(_YEARLY)})"]
        stage_metric = t.metric not in SYSTEM_STOCKS
        if stage_metric and t.stage is None:
            return [f"{where}.stage: {t.metric} by year needs a stage"]
        if not stage_metric and t.stage is not None:
            return [f"{where}.stage: {t.metric} is system-wide; remove the stage"]
        first = math.floor(sc.calendar.start_year + 1e-9)
        last = math.floor(sc.calendar.start_year + horizon_years - 1e-9)
        if not first <= t.year <= last:
            return [f"{where}.year: {t.year} is outside the run ({first}-{last})"]
        return []
    col = t.column
    assert col is not None
    known = (
        col in OVERALL
        or col in _OTHER_SUMMARY
        or (t.stage is not None and t.metric in STAGE_MEASURES)
        or (col.startswith("carriers.") and col.split(".")[1] in sc.stages)
    )
    match = _SURVIVAL.match(col)
    if match and float(match.group(2)) in SURVIVAL_YEARS:
        known = True
    if not known:
        return [
            f"{where}.metric: cannot compute {t.metric!r} (a yearly metric such as occupancy needs a year; "
            "a run-summary one is such as survival.all.5y or stages.<stage>.mean_stay_years)"
        ]
    return []


def parse_targets(data: Mapping[str, Any], scenario: Scenario, source: str | None = None) -> tuple[Target, ...]:
    """Validate a targets table (``{"targets": [...]}``) against ``scenario``.

    Raises
    ------
    ScenarioError
        One line per problem, naming the target (``targets.<name>.<field>: ...``).
    """
    prefix = f"{source}: " if source else ""
    unknown = sorted(set(data) - {"targets"})
    problems = [f"{prefix}{k}: unknown key (a targets file holds [[targets]] rows)" for k in unknown]
    rows = data.get("targets")
    if not isinstance(rows, list) or not rows:
        raise ScenarioError([*problems, f"{prefix}targets: needs at least one [[targets]] row"])
    targets: list[Target] = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        label = f"targets.{row.get('name', i) if isinstance(row, Mapping) else i}"
        try:
            t = Target.model_validate(row)
        except ValidationError as exc:
            lines = format_validation_error(exc, frozenset())
            problems += [
                f"{prefix}{label}: {ln.removeprefix('(top level): ')}"
                if ln.startswith("(top level)")
                else f"{prefix}{label}.{ln}"
                for ln in lines
            ]
            continue
        if t.name in seen:
            problems.append(f"{prefix}{label}: name used twice")
        seen.add(t.name)
        problems += [f"{prefix}{p}" for p in _problems(scenario, t, scenario.calendar.horizon_years)]
        targets.append(t)
    if problems:
        raise ScenarioError(problems)
    return tuple(targets)


def load_targets(path: str | Path, scenario: Scenario) -> tuple[Target, ...]:
    """Read and validate a targets file against ``scenario`` (see the module docstring)."""
    from .declare import read_toml_file

    p = Path(path)
    return parse_targets(read_toml_file(p), scenario, str(p))


def check_horizon(targets: Iterable[Target], scenario: Scenario) -> None:
    """Check that every target can be computed from ``scenario`` (e.g. a shortened one used while fitting)."""
    problems = [p for t in targets for p in _problems(scenario, t, scenario.calendar.horizon_years)]
    if problems:
        raise ScenarioError(problems)


def _yearly(frame: pd.DataFrame, t: Target, start_year: float) -> float:
    year = np.floor(start_year + (frame["month"].to_numpy() + 0.5) / 12.0)
    rows = frame[year == t.year]
    if t.metric in SYSTEM_STOCKS:
        last = rows[rows["month"] == rows["month"].max()]
        return float(last[t.metric].iloc[0])
    rows = rows[rows["stage"] == t.stage]
    if t.metric in STAGE_STOCKS:
        return float(rows.loc[rows["month"].idxmax(), t.metric])
    if t.metric in _SHARES:
        exits = sum(float(rows[c].sum()) for c in ("graduations", "timeouts", "failures"))
        return float(rows[_SHARES[t.metric]].sum()) / exits if exits else math.nan
    return float(rows[t.metric].sum())


@dataclass(frozen=True)
class YearlyTargets:
    """The yearly targets' values of a replication, computed where it runs (a
    :class:`~sim.experiment.tasks.Measure`): ``{"target.<name>": value}``.

    They come from the stage time series (:func:`sim.tables.stage_timeseries`, without the outcome
    columns none of them reads), built on the worker and dropped there.
    """

    targets: tuple[Target, ...]

    def __call__(self, res: RunResult) -> dict[str, float]:
        yearly = [t for t in self.targets if t.year is not None]
        if not yearly:
            return {}
        frame = stage_timeseries(res.output, res.scenario.name, res.replication, cols=res.columns)
        start = res.scenario.calendar.start_year
        return {MEASURED_PREFIX + t.name: _yearly(frame, t, start) for t in yearly}

    def describe(self) -> dict[str, Any]:
        return {"yearly_targets": [t.model_dump(exclude={"source"}) for t in self.targets if t.year is not None]}


def yearly_measure(targets: Sequence[Target]) -> YearlyTargets | None:
    """The measure of the yearly ones among ``targets`` (``None`` when there are none)."""
    yearly = tuple(t for t in targets if t.year is not None)
    return YearlyTargets(yearly) if yearly else None


def target_values(result: ExperimentResult, targets: Sequence[Target], arm: int = 0) -> pd.DataFrame:
    """Each target's simulated value in each replication of one arm (rows: replications; columns: targets).

    A yearly target is read from the summary when the replications measured it (:class:`YearlyTargets`),
    else from the experiment's time series.
    """
    label = result.arms[arm].label
    summary = result.summary
    if "arm" in summary.columns:
        summary = summary[summary["arm"] == label]
    start = result.arms[arm].scenario.calendar.start_year
    from_series = [t for t in targets if t.year is not None and MEASURED_PREFIX + t.name not in summary.columns]
    frames = list(result.iter_timeseries()) if from_series else []
    frames = [f for f in frames if "arm" not in f.columns or (f["arm"] == label).all()]
    columns: dict[str, list[float]] = {}
    for t in targets:
        col = t.column
        if col is None and MEASURED_PREFIX + t.name in summary.columns:
            columns[t.name] = summary[MEASURED_PREFIX + t.name].astype(float).tolist()
        elif col is None:
            columns[t.name] = [_yearly(f, t, start) for f in frames]
        else:
            columns[t.name] = (
                summary[col].astype(float).tolist() if col in summary.columns else [math.nan] * len(summary)
            )
    return pd.DataFrame(columns)
