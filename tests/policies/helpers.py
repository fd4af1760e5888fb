"""Shared builders for the policy tests."""

from __future__ import annotations

from typing import Any

import pandas as pd

import sim
from tests.helpers import SCENARIOS, tiny


def run(data: dict[str, Any], seed: int = 0, replication: int = 0) -> sim.RunResult:
    """Run a scenario given as a dict."""
    return sim.run(sim.parse_scenario(data), seed=seed, replication=replication)


def with_policies(
    data: dict[str, Any], *policies: dict[str, Any], shocks: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A copy of ``data`` with the given policies (and shocks)."""
    out = dict(data)
    out["policies"] = list(policies)
    if shocks is not None:
        out["shocks"] = shocks
    return out


def same_log(a: sim.RunResult, b: sim.RunResult) -> bool:
    """Whether two runs wrote the same event log, byte for byte."""
    la, lb = a.output.log, b.output.log
    return bytes(la.time) == bytes(lb.time) and bytes(la.firm) == bytes(lb.firm) and bytes(la.code) == bytes(lb.code)


def tutorial() -> dict[str, Any]:
    """The tutorial scenario as a dict (a few seconds for several replications)."""
    return sim.load_scenario(SCENARIOS / "tutorial.toml").to_dict()


def failures_in(res: sim.RunResult, stages: tuple[str, ...]) -> int:
    ev: pd.DataFrame = res.events
    return int(((ev["event"] == "fail") & ev["stage"].isin(stages)).sum())


__all__ = ["failures_in", "run", "same_log", "tiny", "tutorial", "with_policies"]
