"""Whether a stage's capacity ever bound: the one-line notice of ``run``, ``compare`` and the report.

A stage with carriers *found full* when an application found no carrier with room: the firm waited,
was turned away to the fallback (skip) or stayed blocked in its old slot. The run summary counts
these per stage (``stages.<stage>.found_full``, over the summary window). When the count is zero in
every replication, places added to that stage cannot change what happens to any firm (under common
random numbers, nothing at all changes), and the outputs say so in one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from .metric_names import pretty_name
from .scenario import Scenario

__all__ = ["FOUND_FULL", "never_full", "never_full_lines", "stage_found_full"]

FOUND_FULL = "found_full"
"""The per-stage summary measure: applications that found the stage full (waits + skips + blocks)."""


def stage_found_full(results: Iterable[Mapping[str, Any] | pd.DataFrame]) -> dict[str, float]:
    """Largest ``found_full`` per stage over run summaries and/or experiment statistics tables.

    A summary (:class:`sim.summary.RunSummary`, or any mapping of metrics) gives
    ``stages.<name>.found_full``; a statistics table (``summary_stats``, any arms) gives the mean of that
    metric (counts are never negative, so a zero mean means zero in every replication).
    """
    prefix, suffix = "stages.", f".{FOUND_FULL}"
    out: dict[str, float] = {}
    for res in results:
        if isinstance(res, pd.DataFrame):
            rows = res[res["metric"].str.startswith(prefix) & res["metric"].str.endswith(suffix)]
            pairs = list(zip(rows["metric"], rows["mean"], strict=True))
        else:
            pairs = [(m, res[m]) for m in res if m.startswith(prefix) and m.endswith(suffix)]
        for name, value in ((m[len(prefix) : -len(suffix)], float(v)) for m, v in pairs):
            out[name] = max(out.get(name, 0.0), value)
    return out


def never_full(scenario: Scenario, found_full: Mapping[str, float]) -> list[str]:
    """Stages with carriers, in chain order, that never found themselves full."""
    return [
        name
        for name, st in scenario.stages.items()
        if st.carriers is not None and name in found_full and found_full[name] == 0
    ]


def never_full_lines(scenario: Scenario, found_full: Mapping[str, float]) -> list[str]:
    """One line per never-full stage, by its label: ``Incubator: never full; capacity instruments cannot ...``."""
    return [
        f"{scenario.stages[name].label or pretty_name(name)}: never full; "
        "capacity instruments cannot change firm outcomes here"
        for name in never_full(scenario, found_full)
    ]
