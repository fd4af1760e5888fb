"""Small worlds whose programme effect is known by construction."""

from __future__ import annotations

from typing import Any

import sim


def programme_world(
    *,
    fail: float = 0.3,
    market_fail: float | None = None,
    grad: float | None = 0.5,
    multiplier: float | None = None,
    screening: dict[str, float] | None = None,
    quality_on_failure: float = 0.0,
    rate: float = 400.0,
    horizon: float = 4.0,
) -> sim.Scenario:
    """Firms arrive (age 0) at a programme stage with no capacity limit; those turned away go to the market.

    In the programme: exponential failure ``fail`` and graduation ``grad`` (to exit; none if None) on the
    stay clock, times ``multiplier`` on failure (a hazard_multiplier aimed at the stage) if given. In the
    market: exponential failure ``market_fail`` (default ``fail``). Quality is standard normal.
    """
    data: dict[str, Any] = {
        "name": "programme_world",
        "calendar": {"start": 2020, "horizon_years": horizon},
        "firms": {"quality_on_failure": quality_on_failure, "quality_on_graduation": 0.0},
        "stages": {
            "programme": {
                "failure": {"dist": "exponential", "rate": fail},
                **(
                    {"graduation": {"dist": "exponential", "rate": grad}, "on_graduation": {"exit": 1.0}}
                    if grad
                    else {}
                ),
                "admission": {"fallback": "market", **({"screening": screening} if screening else {})},
            },
            "market": {"failure": {"dist": "exponential", "rate": fail if market_fail is None else market_fail}},
        },
        "arrivals": [{"name": "applicants", "stage": "programme", "rate_per_year": rate}],
    }
    if multiplier is not None:
        data["policies"] = [
            {
                "type": "hazard_multiplier",
                "hazard": "failure",
                "factor": multiplier,
                "target": {"stages": ["programme"]},
            }
        ]
    return sim.parse_scenario(data)


def confounded_world(rate: float = 1500.0) -> sim.Scenario:
    """Treatment depends on an observable that also drives the outcome (selection on observables only).

    Two streams arrive at the programme (unlimited; failure halved, graduation to exit), which admits by
    a screen ``q + Z >= 0``: ``spin_offs`` (quality 1, all in sector ``safe``) get in 84 % of the time,
    ``walk_ins`` (quality -1, all ``risky``) 16 %. Quality has no effect on hazards, but ``risky`` firms
    fail at twice the rate everywhere, so a naive comparison flatters the programme; conditioning on the
    stream or the sector removes the bias.
    """
    base = programme_world(multiplier=0.5, screening={"threshold": 0.0, "noise_sd": 1.0}, rate=rate)
    data = base.to_dict()
    data["firms"]["sectors"] = {"safe": 0.5, "risky": 0.5}
    data["arrivals"] = [
        {"name": "spin_offs", "stage": "programme", "rate_per_year": rate, "sectors": {"safe": 1.0},
         "quality": {"dist": "normal", "mean": 1.0, "sd": 0.01}},
        {"name": "walk_ins", "stage": "programme", "rate_per_year": rate, "sectors": {"risky": 1.0},
         "quality": {"dist": "normal", "mean": -1.0, "sd": 0.01}},
    ]  # fmt: skip
    data["policies"].append(
        {"type": "hazard_multiplier", "name": "sector_risk", "hazard": "failure", "factor": 2.0,
         "target": {"sectors": ["risky"]}}
    )  # fmt: skip
    return sim.parse_scenario(data)
