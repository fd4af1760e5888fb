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


def policy_world(
    policies: list[dict[str, Any]],
    *,
    screening: dict[str, float] | None = None,
    market_fail: float | None = None,
    rate: float = 600.0,
) -> sim.Scenario:
    """:func:`programme_world` (screening on quality, which lowers failure) whose programme stage has four
    specialised-or-not carriers with room for everyone, firms of two sectors, and ``policies``."""
    base = programme_world(screening=screening, quality_on_failure=0.7, market_fail=market_fail, rate=rate)
    data = base.to_dict()
    data["firms"]["sectors"] = {"a": 0.5, "b": 0.5}
    data["stages"]["programme"]["carriers"] = {"count": 4, "capacity": 100_000, "specialised_share": 0.5}
    data["policies"] = policies
    return sim.parse_scenario(data)


def linkage_world() -> sim.Scenario:
    """Incubator graduates meet outside scale-ups at a small, safe accelerator with an impatient waiting list.

    Incubator (no limit): failure 0.3, graduation 2.0 a year to the accelerator. Accelerator: 20 places,
    failure 0.05, a one-year stay ending in exit; a full accelerator queues firms (patience: exponential,
    4 a year), and those who give up go to the market, where failure is 1.0 a year. A chain_linkage puts
    incubator graduates ahead of the scale-ups, so they wait less and give up less often: it helps them.
    """
    data: dict[str, Any] = {
        "name": "linkage_world",
        "calendar": {"start": 2020, "horizon_years": 5.0},
        "firms": {"quality_on_failure": 0.0, "quality_on_graduation": 0.0},
        "stages": {
            "incubator": {
                "failure": {"dist": "exponential", "rate": 0.3},
                "graduation": {"dist": "exponential", "rate": 2.0},
                "on_graduation": {"accelerator": 1.0},
                "admission": {"fallback": "market"},
            },
            "accelerator": {
                "failure": {"dist": "exponential", "rate": 0.05},
                "max_stay_years": 1.0,
                "on_timeout": {"exit": 1.0},
                "carriers": {"count": 1, "capacity": 20},
                "admission": {
                    "on_full": "queue",
                    "queue_limit": 200,
                    "patience": {"dist": "exponential", "rate": 4.0},
                    "fallback": "market",
                },
            },
            "market": {"failure": {"dist": "exponential", "rate": 1.0}},
        },
        "arrivals": [
            {"name": "founders", "stage": "incubator", "rate_per_year": 30.0},
            {"name": "scale_ups", "stage": "accelerator", "rate_per_year": 30.0},
        ],
        "policies": [{"type": "chain_linkage", "name": "link", "from_stage": "incubator", "to_stage": "accelerator"}],
    }
    return sim.parse_scenario(data)
