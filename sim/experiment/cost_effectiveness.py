"""Cost per additional outcome of a policy: paired ratios of spend difference to outcome difference.

Replication ``r`` of the baseline and of the variant share their random numbers, so each replication
gives a pair ``(dC_r, dY_r)``: the difference in spend (``budget.total_yuan``, yuan; a scenario
without policies spends 0) and in an outcome. The cost per additional unit of outcome is the ratio
of means ``R = mean(dC) / mean(dY)``, with a delta-method interval: the standard error is that of the
mean of the residuals ``dC_r - R dY_r`` divided by ``|mean(dY)|``, and the interval is ``R +- t se``
with ``n - 1`` degrees of freedom. The delta method assumes ``mean(dY)`` is well away from zero; when
the outcome's own paired interval contains zero the ratio is unreliable (Fieller's interval would be
unbounded) and the row says so in ``note``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from ..stats import Estimate, mean_ci
from .runner import ExperimentResult

__all__ = [
    "COST_COLUMNS",
    "OUTCOMES",
    "SPEND",
    "cost_bounds",
    "cost_effectiveness_table",
    "outcome_values",
    "spend_difference",
]

SPEND = "budget.total_yuan"
"""The summary metric holding a replication's total spend, yuan."""

OUTCOMES: tuple[str, ...] = (
    "active_at_horizon",
    "surviving_firms_3y",
    "surviving_firms_5y",
    "graduations",
    "listings",
    "jobs_at_horizon",
)
"""Outcomes priced: active firms at the horizon; expected firms not failed 3 and 5 years after arrival
(``survival.all.<t>y`` x ``firms``); graduations summed over stages; listings (``listings.total``); jobs in
active firms at the horizon (``jobs.at_horizon``)."""

_SUMMARY_KEYS = {"listings": "listings.total", "jobs_at_horizon": "jobs.at_horizon"}
"""Outcomes read from one summary metric of another name."""

COST_COLUMNS = (
    "metric",
    "cost_per_unit",
    "ci_low",
    "ci_high",
    "spend_diff_mean",
    "outcome_diff_mean",
    "outcome_ci_low",
    "outcome_ci_high",
    "n",
    "method",
    "note",
)
"""Columns of ``cost_effectiveness.csv`` (cost per unit and bounds in yuan per additional unit)."""


def _column(result: ExperimentResult, arm: str, metric: str) -> np.ndarray | None:
    return result.values(arm, metric).to_numpy() if metric in result.summary.columns else None


def outcome_values(result: ExperimentResult, arm: str, outcome: str) -> np.ndarray:
    """One outcome of :data:`OUTCOMES` per replication of ``arm`` (NaN where the summary cannot give it)."""
    n = len(result.values(arm, "firms"))
    if outcome == "graduations":
        cols = [c for c in result.summary.columns if c.startswith("stages.") and c.endswith(".graduations")]
        total = np.zeros(n)
        for c in cols:
            total = total + result.values(arm, c).to_numpy()
        return total
    if outcome.startswith("surviving_firms_"):
        surv = _column(result, arm, f"survival.all.{outcome.removeprefix('surviving_firms_')}")
        firms = result.values(arm, "firms").to_numpy()
        return surv * firms if surv is not None else np.full(n, math.nan)
    if outcome in _SUMMARY_KEYS:
        values = _column(result, arm, _SUMMARY_KEYS[outcome])
        return values if values is not None else np.full(n, math.nan)
    return np.asarray(result.values(arm, outcome), dtype=np.float64)


def _spend(result: ExperimentResult, arm: str) -> np.ndarray:
    values = _column(result, arm, SPEND)
    n = len(result.values(arm, "firms"))
    return np.zeros(n) if values is None else np.nan_to_num(values, nan=0.0)


def spend_difference(result: ExperimentResult, baseline: str, variant: str, level: float = 0.95) -> Estimate:
    """Paired difference in total spend (yuan), variant - baseline; an arm without a budget spends 0."""
    return mean_ci(_spend(result, variant) - _spend(result, baseline), level)


def cost_effectiveness_table(
    result: ExperimentResult, baseline: str, variant: str, level: float = 0.95
) -> pd.DataFrame:
    """Cost per additional unit of each outcome of ``variant`` over ``baseline`` (see the module docstring).

    Parameters
    ----------
    result:
        An experiment with both arms, replications paired by number.
    baseline, variant:
        Arm labels.
    level:
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per outcome of :data:`OUTCOMES`, columns :data:`COST_COLUMNS`.
    """
    d_cost = _spend(result, variant) - _spend(result, baseline)
    rows = []
    for outcome in OUTCOMES:
        d_y = outcome_values(result, variant, outcome) - outcome_values(result, baseline, outcome)
        ok = ~(np.isnan(d_y) | np.isnan(d_cost))
        dc, dy = d_cost[ok], d_y[ok]
        n = len(dy)
        est = mean_ci(dy, level)
        notes: list[str] = []
        ratio = low = high = math.nan
        if n == 0:
            notes.append("no replications with this outcome")
        elif est.mean == 0.0:
            notes.append("no additional outcome on average: no cost per unit")
        else:
            ratio = float(np.mean(dc) / est.mean)
            if n >= 2:
                resid = dc - ratio * dy
                se = float(np.std(resid, ddof=1)) / math.sqrt(n) / abs(est.mean)
                half = float(special.stdtrit(n - 1, 0.5 + level / 2)) * se
                low, high = ratio - half, ratio + half
            else:
                notes.append("one replication: no interval")
            if n >= 2 and est.ci_low <= 0.0 <= est.ci_high:
                notes.append("outcome difference not significant: ratio and interval unreliable")
        rows.append(
            {
                "metric": outcome,
                "cost_per_unit": ratio,
                "ci_low": low,
                "ci_high": high,
                "spend_diff_mean": float(np.mean(dc)) if n else math.nan,
                "outcome_diff_mean": est.mean,
                "outcome_ci_low": est.ci_low,
                "outcome_ci_high": est.ci_high,
                "n": n,
                "method": "delta",
                "note": "; ".join(notes),
            }
        )
    return pd.DataFrame(rows, columns=list(COST_COLUMNS))


def cost_bounds(row: Mapping[str, Any]) -> tuple[float, float, float, bool]:
    """The cost per additional unit as a reader should see it: never negative, open when the effect is n.s.

    Parameters
    ----------
    row:
        A row of :func:`cost_effectiveness_table` (``cost_per_unit``, ``ci_low``, ``ci_high``,
        ``spend_diff_mean``, ``outcome_diff_mean``, ``outcome_ci_low``, ``outcome_ci_high``).

    Returns
    -------
    tuple
        ``(estimate, low, high, significant)`` in yuan per additional unit. When the effect's interval
        lies above 0, the delta-method interval with its lower end clipped at 0 (a positive spend
        for a positive effect cannot cost less than nothing). When it contains 0 the effect may be
        nil, so the cost has no upper bound (``high`` is infinite); the lower end is the spend over
        the largest effect the interval allows. NaN throughout when there is no additional outcome
        (an effect that is 0 or below it) or no additional spend.
    """
    nan = math.nan
    cost, low, high = (float(row[k]) for k in ("cost_per_unit", "ci_low", "ci_high"))
    spend, d_lo, d_hi = (float(row[k]) for k in ("spend_diff_mean", "outcome_ci_low", "outcome_ci_high"))
    effect = float(row["outcome_diff_mean"])
    if math.isnan(effect) or effect <= 0 or math.isnan(spend) or spend <= 0:
        return nan, nan, nan, False
    if not (math.isnan(d_lo) or math.isnan(d_hi)) and d_lo > 0:
        return cost, max(low, 0.0) if not math.isnan(low) else nan, high, True
    floor = spend / d_hi if not math.isnan(d_hi) and d_hi > 0 else nan
    return cost, floor, math.inf, False
