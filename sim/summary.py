"""The summary of one replication: one flat, typed record of metrics (:class:`RunSummary`).

What produced the run (``scenario``, ``seed``, ``replication``) and the window its flows count
(``horizon_years``, ``warmup_years``) are typed attributes. Everything measured is one flat mapping
``{metric name: int or float}``, the same names and order as the columns of an experiment's
``summary.csv``:

* overall: ``arrivals``, ``initial_stock``, ``firms``, ``active_at_horizon``, ``failed``, ``exited``;
* the flat outcome, budget and carrier keys, by their dotted names (``jobs.at_horizon``,
  ``budget.policy.<name>``, ``carriers.<stage>.open``, ``graduates_cumulative.<stage>.<year>``, ...);
* per stage: ``stages.<stage>.<measure>`` (:data:`STAGE_MEASURES`), stages in chain order;
* survival (Kaplan-Meier): ``survival.<group>.<t>y`` for the groups of :data:`SURVIVAL_GROUPS`.

Counts are ints; a measure the replication cannot give (survival past the horizon, the mean stay in
a stage nobody left, jobs per active firm when none is active) is NaN, and ``null`` in JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DESCRIPTIVE",
    "OVERALL",
    "STAGE_MEASURES",
    "SURVIVAL_GROUPS",
    "Metric",
    "RunSummary",
    "flat_metrics",
    "ordered_metrics",
    "stage_metric",
    "survival_metric",
]

Metric = int | float
"""A metric's value: a count (int) or a measure (float; NaN when the replication cannot give it)."""

OVERALL: tuple[str, ...] = ("arrivals", "initial_stock", "firms", "active_at_horizon", "failed", "exited")
"""System-wide metrics, first in every record and table, in this order."""

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
"""Per-stage measures, in the order the tables list them."""

SURVIVAL_GROUPS: tuple[str, ...] = ("all", "never_in_carrier", "ever_in_carrier")
"""The survival groups, in the order the tables list them."""

DESCRIPTIVE: tuple[str, ...] = ("scenario", "seed", "replication", "horizon_years", "warmup_years")
"""The fields that describe a run rather than measure it (attributes of :class:`RunSummary`)."""


def stage_metric(stage: str, measure: str) -> str:
    """``stages.<stage>.<measure>``: the name of a per-stage metric."""
    return f"stages.{stage}.{measure}"


def survival_metric(group: str, years: float) -> str:
    """``survival.<group>.<t>y``: the name of a survival metric (``survival.all.5y``)."""
    return f"survival.{group}.{years:g}y"


def _rank(name: str) -> int:
    if name.startswith("stages."):
        return 2
    if name.startswith("survival."):
        return 3
    return 1


def ordered_metrics(metrics: Mapping[str, Metric], more_flat: Mapping[str, Metric] | None = None) -> dict[str, Metric]:
    """``metrics`` in the record's order: :data:`OVERALL`, the other flat keys, stages, survival.

    Within each part the given order is kept (stages in chain order, as the tables build them).
    ``more_flat``: further flat keys (none of them ``stages.`` or ``survival.``), placed after the flat
    keys of ``metrics`` as they are, without ranking each: the same record as ``metrics`` updated with
    them, for a fraction of the cost when they are many (a long run's cumulative graduates by year).
    """
    if more_flat and not more_flat.keys().isdisjoint(metrics):
        return ordered_metrics({**metrics, **more_flat})
    head = {k: metrics[k] for k in OVERALL if k in metrics}
    rest = sorted((k for k in metrics if k not in head), key=_rank)  # a stable sort keeps the given order
    if not more_flat:
        return {**head, **{k: metrics[k] for k in rest}}
    flat = sum(1 for k in rest if _rank(k) == 1)
    return {**head, **{k: metrics[k] for k in rest[:flat]}, **more_flat, **{k: metrics[k] for k in rest[flat:]}}


def _number(value: Any) -> Metric:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"summary value {value!r} is not a number")
    return value


def _from_nested(summary: Mapping[str, Any]) -> dict[str, Metric]:
    """The flat metrics of a summary written before the record was flat (``stages`` and ``survival``
    nested), with the names and order the flat record has."""
    flat: dict[str, Metric] = {}
    for key, value in summary.items():
        if key in DESCRIPTIVE or key in ("stages", "survival"):
            continue
        if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            flat[key] = _number(value)
    for stage, measures in summary.get("stages", {}).items():
        for m in [m for m in STAGE_MEASURES if m in measures] + [m for m in measures if m not in STAGE_MEASURES]:
            flat[stage_metric(stage, m)] = _number(measures[m])
    survival = summary.get("survival") or {}
    for group, values in survival.items():
        if group != "years":
            for t, v in zip(survival["years"], values, strict=True):
                flat[survival_metric(group, t)] = _number(v)
    return ordered_metrics(flat)


@dataclass(frozen=True, eq=False)
class RunSummary(Mapping[str, Metric]):
    """One replication's summary: typed descriptive fields, and its metrics as a read-only mapping.

    ``summary["failed"]``, ``summary["stages.incubator.entries"]``, ``"budget.total_yuan" in summary``
    and ``dict(summary)`` read the metrics (see the module docstring for their names);
    :meth:`stage` and :meth:`survival` read one stage's measures or one group's curve by their parts.
    Two summaries are equal when their fields and metrics are (NaN equal to NaN).

    Attributes
    ----------
    scenario, seed, replication:
        What produced it.
    horizon_years, warmup_years:
        The run's length and the warm-up before the flows are counted (years).
    metrics:
        ``{metric name: value}`` in the record's order (:func:`ordered_metrics`).
    """

    scenario: str
    seed: int
    replication: int
    horizon_years: float
    warmup_years: float
    metrics: Mapping[str, Metric]

    def __getitem__(self, name: str) -> Metric:
        return self.metrics[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.metrics)

    def __len__(self) -> int:
        return len(self.metrics)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RunSummary):
            return NotImplemented
        return self.to_json() == other.to_json()

    @property
    def stage_names(self) -> tuple[str, ...]:
        """The stages the record measures, in chain order."""
        names = (k.split(".")[1] for k in self.metrics if k.startswith("stages."))
        return tuple(dict.fromkeys(names))

    def stage(self, name: str) -> dict[str, Metric]:
        """One stage's measures, ``{measure: value}`` (``entries``, ``graduations``, ...).

        Raises
        ------
        KeyError
            The record has no such stage.
        """
        prefix = f"stages.{name}."
        found = {k.removeprefix(prefix): v for k, v in self.metrics.items() if k.startswith(prefix)}
        if not found:
            raise KeyError(f"no stage {name!r} in the summary (stages: {', '.join(self.stage_names)})")
        return found

    def survival(self, group: str = "all") -> dict[float, float]:
        """One group's Kaplan-Meier curve, ``{years since arrival: share not failed}`` (NaN past the horizon).

        Raises
        ------
        KeyError
            The record has no such group (see :data:`SURVIVAL_GROUPS`).
        """
        prefix = f"survival.{group}."
        found = {
            float(k.removeprefix(prefix).removesuffix("y")): float(v)
            for k, v in self.metrics.items()
            if k.startswith(prefix)
        }
        if not found:
            raise KeyError(f"no survival group {group!r} in the summary (groups: {', '.join(SURVIVAL_GROUPS)})")
        return found

    def to_json(self) -> dict[str, Any]:
        """The record as plain JSON data: the descriptive fields, and ``metrics`` with NaN as ``None``."""
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "replication": self.replication,
            "horizon_years": self.horizon_years,
            "warmup_years": self.warmup_years,
            "metrics": {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in self.metrics.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunSummary:
        """The record from :meth:`to_json`'s data (or from a summary written with nested ``stages`` and
        ``survival``, which gives the same metrics).

        Raises
        ------
        KeyError, TypeError
            ``data`` lacks a descriptive field or holds a value that is not a number.
        """
        metrics = data.get("metrics")
        flat = {str(k): _number(v) for k, v in metrics.items()} if isinstance(metrics, Mapping) else _from_nested(data)
        return cls(
            scenario=str(data["scenario"]),
            seed=int(data["seed"]),
            replication=int(data["replication"]),
            horizon_years=float(data["horizon_years"]),
            warmup_years=float(data["warmup_years"]),
            metrics=flat,
        )


def flat_metrics(summary: Mapping[str, Any]) -> dict[str, Metric]:
    """The flat ``{metric: value}`` of a summary: a :class:`RunSummary`, its JSON data, a flat mapping of
    metrics (given back in the record's order: so this is idempotent), or a nested summary."""
    if isinstance(summary, RunSummary):
        return dict(summary.metrics)
    metrics = summary.get("metrics")
    if isinstance(metrics, Mapping):
        return {str(k): _number(v) for k, v in metrics.items()}
    return _from_nested(summary)
