"""Small worlds whose programme effect is known by construction."""

from __future__ import annotations

from typing import Any

import sim


def programme_world(
    *,
    fail: float = 0.3,
    market_fail: float | None = None,
    grad: float = 0.5,
    multiplier: float | None = None,
    screening: dict[str, float] | None = None,
    quality_on_failure: float = 0.0,
    rate: float = 400.0,
    horizon: float = 4.0,
) -> sim.Scenario:
    """Firms arrive (age 0) at a programme stage with no capacity limit; those turned away go to the market.

    In the programme: exponential failure ``fail`` and graduation ``grad`` (to exit) on the stay clock,
    times ``multiplier`` on failure (a hazard_multiplier aimed at the stage) if given. In the market:
    exponential failure ``market_fail`` (default ``fail``). Quality is standard normal.
    """
    data: dict[str, Any] = {
        "name": "programme_world",
        "calendar": {"start": 2020, "horizon_years": horizon},
        "firms": {"quality_on_failure": quality_on_failure, "quality_on_graduation": 0.0},
        "stages": {
            "programme": {
                "failure": {"dist": "exponential", "rate": fail},
                "graduation": {"dist": "exponential", "rate": grad},
                "on_graduation": {"exit": 1.0},
                "admission": {"fallback": "market", **({"screening": screening} if screening else {})},
            },
            "market": {"failure": {"dist": "exponential", "rate": fail if market_fail is None else market_fail}},
        },
        "arrivals": [{"name": "applicants", "stage": "programme", "rate_per_year": rate}],
    }
    if multiplier is not None:
        data["policies"] = [
            {"type": "hazard_multiplier", "hazard": "failure", "factor": multiplier, "target": {"stages": ["programme"]}}
        ]
    return sim.parse_scenario(data)
