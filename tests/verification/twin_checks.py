"""Shared by the verification suite: replications, intervals, self-explaining comparisons, its scenarios.

Every DES-versus-twin comparison uses the same rule. A quantity is measured once per replication
(replications differ only by the ``replication`` argument, with a fixed seed, so each test is
reproducible), and the twin's exact value must lie in the t confidence interval of the replication
mean. When a test compares ``k`` quantities at once, each interval has level ``1 - 0.01 / k``
(Bonferroni), so that a correct engine passes the whole test with probability at least 99 % for
any seed: the tolerance is the sampling error at a 1 % family-wise false-alarm rate, nothing looser.
A test that could not tell a wrong engine from a right one proves nothing, so the DES-versus-twin
tests also show that a twin with one rate 10 % off is rejected by the same intervals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

import sim
from sim.stats import Estimate, mean_ci
from tests.helpers import SCENARIOS

LEVEL = 0.99
"""Family-wise confidence level of each comparison test."""


def replicate(
    scenario: sim.Scenario, reps: int, seed: int, measure: Callable[[sim.RunResult], Mapping[str, float]]
) -> dict[str, np.ndarray]:
    """``measure`` of replications ``0 .. reps - 1`` of ``scenario`` with root seed ``seed``, per quantity."""
    rows = [measure(sim.run(scenario, seed, r)) for r in range(reps)]
    return {k: np.array([row[k] for row in rows], dtype=np.float64) for k in rows[0]}


def intervals(samples: Mapping[str, np.ndarray], k: int, level: float = LEVEL) -> dict[str, Estimate]:
    """Bonferroni intervals (level ``1 - (1 - level) / k``) of each quantity's replication mean."""
    per = 1.0 - (1.0 - level) / k
    return {name: mean_ci(values, per) for name, values in samples.items()}


def misses(twin: Mapping[str, float], samples: Mapping[str, np.ndarray], level: float = LEVEL) -> list[str]:
    """The quantities whose twin value lies outside the DES interval, each as a readable line."""
    est = intervals({k: samples[k] for k in twin}, len(twin), level)
    out = []
    for name, value in twin.items():
        e = est[name]
        if not e.ci_low <= value <= e.ci_high:
            out.append(
                f"{name}: twin {value:.6g} outside the DES {e.level:.4%} interval [{e.ci_low:.6g}, {e.ci_high:.6g}] "
                f"(mean {e.mean:.6g}, se {e.se:.3g}, {e.n} replications, z = {(e.mean - value) / e.se:+.2f})"
            )
    return out


# ------------------------------------------------------------------------------ scenarios of the suite
def textbook() -> sim.Scenario:
    """The shipped textbook chain (scenarios/textbook_exponential.toml)."""
    return sim.load_scenario(SCENARIOS / "textbook_exponential.toml")


def loop_chain() -> sim.Scenario:
    """Incubator <-> accelerator loop, a settling park and the market; stock only, failure on the age clock."""
    return sim.parse_scenario(
        {
            "name": "loop",
            "calendar": {"start": 2020, "horizon_years": 40},
            "stages": {
                "incubator": {
                    "failure": {"dist": "exponential", "rate": 0.2},
                    "graduation": {"dist": "exponential", "rate": 0.8},
                    "on_graduation": {"accelerator": 0.6, "market": 0.3, "exit": 0.1},
                },
                "accelerator": {
                    "failure": {"dist": "exponential", "rate": 0.1},
                    "failure_clock": "age",
                    "graduation": {"dist": "exponential", "rate": 1.0},
                    "on_graduation": {"incubator": 0.3, "industrial_park": 0.4, "exit": 0.3},
                },
                "industrial_park": {"failure": {"dist": "exponential", "rate": 0.3}},
                "market": {"failure": {"dist": "exponential", "rate": 0.5}, "failure_clock": "age"},
            },
            "initial_stock": [
                {"stage": "incubator", "count": 500, "age_years": {"dist": "uniform", "low": 0.0, "high": 5.0}}
            ],
        }
    )


def mixed_quality() -> sim.Scenario:
    """The textbook chain, 8 years, with quality acting on both hazards and a founders' rate that jumps."""
    return textbook().with_changes(
        {
            "calendar.horizon_years": 8.0,
            "firms.quality_on_failure": 0.8,
            "firms.quality_on_graduation": 0.5,
            "arrivals.0.rate_per_year": {"2020": 150.0, "2024": 260.0},
        }
    )


def single_stage(on_full: str, servers: int, rate: float, horizon: float, warmup: float) -> sim.Scenario:
    """One stage of ``servers`` slots (stay ~ Exp(5/year)) fed by Poisson arrivals, turned-away firms to a market."""
    data: dict[str, Any] = {
        "name": f"single_{on_full}",
        "calendar": {"start": 2020, "horizon_years": horizon, "warmup_years": warmup},
        "stages": {
            "s": {
                "failure": {"dist": "exponential", "rate": 1.0},
                "graduation": {"dist": "exponential", "rate": 4.0},
                "on_graduation": {"m": 1.0},
                "carriers": {"count": 1, "capacity": servers},
                "admission": {"on_full": on_full, "fallback": "m"},
            },
            "m": {"failure": {"dist": "exponential", "rate": 0.5}},
        },
        "arrivals": [{"name": "x", "stage": "s", "rate_per_year": rate}],
    }
    return sim.parse_scenario(data)
