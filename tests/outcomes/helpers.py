"""Scenario builders shared by the outcome tests."""

from __future__ import annotations

from typing import Any

import sim


def run(data: dict[str, Any], seed: int = 0, replication: int = 0) -> sim.RunResult:
    """Run a scenario given as a dict."""
    return sim.run(sim.parse_scenario(data), seed=seed, replication=replication)


def chain(stock: int, horizon: float = 5.0, **outcomes: Any) -> dict[str, Any]:
    """Three graduation stages in a row (a -> b -> c) and a market, fixed stays, ``stock`` firms in ``a``.

    Every firm graduates from a at t = 1, from b at t = 1.5 and from c at t = 2.5, then fails in the
    market at age 10 (never, within the horizon). Firms are born at t = 0 (age 0 in the stock).
    """
    fixed = {"dist": "fixed"}
    return {
        "name": "chain",
        "calendar": {"start": 2020, "horizon_years": horizon},
        "stages": {
            "a": {"graduation": {**fixed, "value": 1.0}, "on_graduation": {"b": 1.0}},
            "b": {"graduation": {**fixed, "value": 0.5}, "on_graduation": {"c": 1.0}},
            "c": {"graduation": {**fixed, "value": 1.0}, "on_graduation": {"market": 1.0}},
            "market": {"failure": {**fixed, "value": 10.0}, "failure_clock": "age"},
        },
        "initial_stock": [{"stage": "a", "count": stock}],
        "outcomes": outcomes,
    }
