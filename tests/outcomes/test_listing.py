"""Listings against their closed form, with exponential hazards.

A firm graduates from ``a`` after T ~ Exp(g) (if before the horizon H), then lives in the market until
D ~ Exp(mu); it lists if its own Exp(1) budget is spent by the rate lam = rate x exp(beta q) before
min(D, H - T). Given T = s: P = lam / (lam + mu) (1 - exp(-(lam + mu)(H - s))); integrating over s,

    P = lam / (lam + mu) [1 - exp(-g H) - g (exp(-g H) - exp(-(lam + mu) H)) / (lam + mu - g)].
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .helpers import run

N = 10_000
H = 3.0
G, MU, RATE, BETA, Q = 1.0, 0.5, 0.3, 0.4, 0.5


def scenario(listing: dict[str, Any], stock_stage: str) -> dict[str, Any]:
    return {
        "name": "listing",
        "calendar": {"start": 2020, "horizon_years": H},
        "firms": {"quality": {"dist": "fixed", "value": Q}},
        "stages": {
            "a": {"graduation": {"dist": "exponential", "rate": G}, "on_graduation": {"market": 1.0}},
            "market": {"failure": {"dist": "exponential", "rate": MU}},
        },
        "initial_stock": [{"stage": stock_stage, "count": N}],
        "outcomes": {"listing": {"rate_per_year": RATE, "quality_effect": BETA, **listing}},
    }


def p_after_graduation(lam: float) -> float:
    """The closed form of the module docstring."""
    s = lam + MU
    return lam / s * (1 - math.exp(-G * H) - G * (math.exp(-G * H) - math.exp(-s * H)) / (s - G))


def within(got: float, p: float, what: str) -> None:
    """4 binomial standard errors (sd <= 0.005 for N = 10,000): a chance miss has probability ~6e-5."""
    tol = 4 * math.sqrt(p * (1 - p) / N)
    assert abs(got - p) <= tol, f"{what}: listed share {got:.4f}, closed form {p:.4f} +- {tol:.4f}"


def test_listing_after_graduation_matches_the_closed_form() -> None:
    res = run(scenario({"after_graduation_from": ["a"], "markets": {"star": 0.25, "other": 0.75}}, "a"), seed=3)
    p = p_after_graduation(RATE * math.exp(BETA * Q))
    firms = res.firms
    within(float(firms["listed"].mean()), p, "graduates")
    # quality matters: without exp(beta q) the share would be lower by far more than the tolerance
    assert p - p_after_graduation(RATE) > 8 * math.sqrt(p * (1 - p) / N), "cannot tell the quality effect apart"
    listed = firms[firms["listed"]]
    assert (listed["listing_time"] >= listed["listing_risk_from"]).all()
    assert (listed["listing_time"] < listed["outcome_time"]).all(), "a firm listed after it failed or the horizon"
    assert not firms.loc[~firms["listed"], "listing_market"].notna().any()
    star = float((listed["listing_market"] == "star").mean())
    sd = math.sqrt(0.25 * 0.75 / len(listed))
    assert abs(star - 0.25) <= 4 * sd, f"STAR share of listings {star:.3f}, expected 0.25 +- {4 * sd:.3f}"
    summary = res.summary()
    assert summary["listings.total"] == len(listed)
    assert summary["listings.star"] + summary["listings.other"] == len(listed)


def test_initial_stock_at_risk_from_the_start() -> None:
    """Stock of the market at risk from t = 0: P = lam / (lam + mu) (1 - exp(-(lam + mu) H))."""
    res = run(scenario({"after_graduation_from": [], "stock_at_risk": ["market"]}, "market"), seed=4)
    lam = RATE * math.exp(BETA * Q)
    p = lam / (lam + MU) * (1 - math.exp(-(lam + MU) * H))
    within(float(res.firms["listed"].mean()), p, "stock")
    assert np.allclose(res.firms["listing_risk_from"], 0.0)


def test_no_listing_without_risk_or_rate() -> None:
    never = run(scenario({"after_graduation_from": []}, "a"))
    assert not never.firms["listed"].any(), "firms listed without ever being at risk"
    zero = run(scenario({"after_graduation_from": ["a"], "rate_per_year": 0.0}, "a"))
    assert not zero.firms["listed"].any() and zero.summary()["listings.total"] == 0
