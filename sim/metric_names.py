"""Readers' names and units of summary metrics (``stages.incubator.failures`` -> ``Incubator: failures``).

Tables on disk keep the machine names; printouts, reports and figures show these. No plotting
library is needed, so the command line can use them without loading matplotlib.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["NS", "metric_label", "metric_unit", "outcome_unit", "pretty_name", "source_label"]

NS = "n.s."
"""Marks an effect whose confidence interval contains 0 (not significant at the interval's level), in every
printout, table and figure."""

_MEASURE_TEXT = {
    "entries": "entries",
    "graduations": "graduations",
    "failures": "failures",
    "timeouts": "time-outs",
    "reneges": "gave up waiting",
    "skips": "turned away (full)",
    "rejections": "rejected at screening",
    "mean_stay_years": "mean stay",
    "completed_stays": "completed stays",
    "mean_occupancy": "mean occupancy",
    "occupancy_at_horizon": "occupancy at the horizon",
    "found_full": "applications that found it full",
}

_OVERALL_TEXT = {
    "arrivals": "New firms (after the warm-up)",
    "initial_stock": "Firms at the start",
    "firms": "Firms in all",
    "active_at_horizon": "Firms active at the horizon",
    "failed": "Firms failed",
    "exited": "Firms exited",
    "graduations": "Graduations (all stages)",
    "jobs.at_horizon": "Jobs in active firms at the horizon",
    "jobs.per_active_firm": "Jobs per active firm",
    "listings.total": "Listings",
    "budget.total_yuan": "Spend (yuan)",
    "surviving_firms_3y": "Firms not failed 3 years after arrival",
    "surviving_firms_5y": "Firms not failed 5 years after arrival",
    "jobs_at_horizon": "Jobs in active firms at the horizon",
    "listings": "Listings",
}

_GROUP_TEXT = {"all": "all firms", "never_in_carrier": "never in a carrier", "ever_in_carrier": "ever in a carrier"}


def pretty_name(name: str) -> str:
    """``industrial_park`` -> ``Industrial park``."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def source_label(source: str, stage_label: Callable[[str], str] = pretty_name) -> str:
    """A reader's name for a firm source (``source`` of the firm table): ``stock:incubator:0`` ->
    ``Initial stock in Incubator``, ``competition:cup`` -> ``Competition cup``, ``founders`` -> ``Founders``.

    Initial-stock entries after the first carry their place in the scenario's ``initial_stock`` list
    (``stock:incubator:2`` -> ``Initial stock in Incubator (entry 3)``).
    """
    kind, _, rest = source.partition(":")
    if kind == "stock" and rest:
        stage, _, index = rest.rpartition(":")
        entry = f" (entry {int(index) + 1})" if index.isdigit() and int(index) > 0 else ""
        return f"Initial stock in {stage_label(stage)}{entry}"
    if kind == "competition" and rest:
        return f"Competition {rest}"
    return pretty_name(source)


def metric_label(metric: str, stage_label: Callable[[str], str] = pretty_name) -> str:
    """A reader's name for a summary metric (``stages.incubator.failures`` -> ``Incubator: failures``)."""
    if metric in _OVERALL_TEXT:
        return _OVERALL_TEXT[metric]
    m = re.match(r"^survival\.([a-z_]+)\.([0-9.]+)y$", metric)
    if m:
        return f"Not failed after {m.group(2)} y, {_GROUP_TEXT.get(m.group(1), m.group(1))}"
    parts = metric.split(".")
    if len(parts) == 3 and parts[0] == "stages":
        return f"{stage_label(parts[1])}: {_MEASURE_TEXT.get(parts[2], parts[2].replace('_', ' '))}"
    return pretty_name(" ".join(p.replace("_", " ") for p in parts))


def metric_unit(metric: str) -> str:
    """The unit of a summary metric: ``share``, ``years``, ``yuan``, ``jobs``, ``listings`` or ``firms``."""
    if metric.startswith("survival."):
        return "share"
    if metric.endswith("_years"):
        return "years"
    if metric.endswith("_yuan") or metric.startswith("budget."):
        return "yuan"
    if metric == "jobs.per_active_firm":
        return "jobs per firm"
    if metric.startswith("jobs"):
        return "jobs"
    if metric.startswith("listings"):
        return "listings"
    if metric == "graduations":
        return "graduations"
    return "firms"


_OUTCOME_UNIT = {
    "active_at_horizon": "active firm",
    "surviving_firms_3y": "firm not failed at 3 years",
    "surviving_firms_5y": "firm not failed at 5 years",
    "graduations": "graduation",
    "listings": "listing",
    "jobs_at_horizon": "job",
}


def outcome_unit(outcome: str) -> str:
    """One unit of a priced outcome (``cost_effectiveness.csv``'s ``metric``): ``job``, ``graduation``, ...

    The cost per additional unit is "yuan per additional <unit>".
    """
    if outcome in _OUTCOME_UNIT:
        return _OUTCOME_UNIT[outcome]
    if outcome.startswith("survival."):
        return "percentage point"
    unit = metric_unit(outcome)
    return unit[:-1] if unit.endswith("s") else unit
