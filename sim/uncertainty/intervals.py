"""How far each fitted parameter can move while the model still meets every fitted target.

A calibration's optimum is one point of a region: the targets have tolerances, so other values meet them
too, and an optimiser started elsewhere lands somewhere else in that region. The region, not the point,
is what the targets determine. :func:`consistent_intervals` estimates its extent along each parameter:

1. the targets' sensitivity to the parameters at the optimum ``x*`` (all in [0, 1]-scaled coordinates):
   a central difference ``J`` over ``step`` of each range (wide enough to see past the steps the
   objective takes as single firms' fates flip; one-sided at a bound);
2. in that linear model, the parameter's smallest and largest value such that every fitted target
   stays within its allowed distance, ``|m* + J dx - observed| <= allowed``, the other parameters free
   to adjust, inside the bounds: two linear programmes per parameter (``scipy.optimize.linprog``, HiGHS).
   The answer is a point ``x* + dx`` of the region (a vertex of the linearised one);
3. the model itself at that point: if a target is missed there (the model is not linear), the point is
   moved back towards ``x*`` by bisection (``bisections`` halvings), keeping the farthest point at which
   every fitted target is met. The interval reported is between the two verified points, so each of its
   ends is a parameter set at which the simulation meets every fitted target.

So ``low``/``high`` are an inner estimate of the projection of the consistent region on the parameter
(a value inside meets the targets with suitable values of the others; the region may extend a little
further), and ``linear_low``/``linear_high`` the linear model's outer guess.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize

__all__ = ["INTERVAL_COLUMNS", "Interval", "consistent_intervals"]

INTERVAL_COLUMNS = ("parameter", "fitted", "low", "high", "linear_low", "linear_high", "before", "before_inside")
"""Columns of ``intervals.csv`` (values in each field's unit)."""

Means = Callable[[np.ndarray], np.ndarray | None]
"""The fitted targets' simulated means at a point of [0, 1]^k (``None`` where the scenario is invalid)."""


@dataclass(frozen=True)
class Interval:
    """One parameter's interval, in [0, 1]-scaled coordinates.

    Attributes
    ----------
    low, high:
        The verified ends (the model meets every fitted target at the point behind each); NaN when the
        optimum misses a target.
    linear_low, linear_high:
        The linear model's ends (NaN when the optimum itself misses a target).
    """

    low: float
    high: float
    linear_low: float
    linear_high: float


def _within(means: np.ndarray | None, observed: np.ndarray, allowed: np.ndarray) -> bool:
    # a relative 1e-9 of slack: a linear end lies on the boundary, where rounding would otherwise decide
    return means is not None and bool(np.all(np.abs(means - observed) <= allowed * (1.0 + 1e-9)))


def consistent_intervals(
    means_at: Means,
    x_star: np.ndarray,
    observed: np.ndarray,
    allowed: np.ndarray,
    *,
    step: float = 0.05,
    bisections: int = 3,
) -> list[Interval]:
    """Each parameter's interval of values at which the model meets every fitted target (module docstring).

    Parameters
    ----------
    means_at:
        Simulated means of the fitted targets at a point (common random numbers: a fixed function).
    x_star:
        The optimum, in [0, 1]-scaled coordinates.
    observed, allowed:
        Each fitted target's observed value and largest allowed distance.
    step:
        Width of the central differences, a share of each range.
    bisections:
        Halvings towards the optimum when the model misses a target at the linear model's end.

    Returns
    -------
    list of Interval
        One per parameter; all NaN when the optimum itself misses a target (no point is known to meet them).
    """
    x0 = np.clip(np.asarray(x_star, dtype=float), 0.0, 1.0)
    obs = np.asarray(observed, dtype=float)
    tol = np.asarray(allowed, dtype=float)
    k = len(x0)
    m0 = means_at(x0)
    if not _within(m0, obs, tol):
        return [Interval(math.nan, math.nan, math.nan, math.nan) for _ in x0]
    assert m0 is not None
    jac = np.zeros((len(obs), k))
    for i in range(k):
        up, down = x0.copy(), x0.copy()
        up[i], down[i] = min(1.0, x0[i] + step), max(0.0, x0[i] - step)
        m_up, m_down = means_at(up), means_at(down)
        if m_up is None or m_down is None or up[i] == down[i]:
            continue  # no usable difference: the linear model holds this parameter fixed
        jac[:, i] = (m_up - m_down) / (up[i] - down[i])
    # |m0 + J dx - obs| <= tol, as two one-sided constraints; x0 + dx inside [0, 1]
    a_ub = np.vstack([jac, -jac])
    b_ub = np.concatenate([obs + tol - m0, m0 - obs + tol])
    bounds = [(-float(x), 1.0 - float(x)) for x in x0]
    out: list[Interval] = []
    for i in range(k):
        ends: list[tuple[float, float]] = []
        for sign in (1.0, -1.0):  # minimise dx_i, then maximise it
            c = np.zeros(k)
            c[i] = sign
            lp = optimize.linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
            dx = np.asarray(lp.x, dtype=float) if lp.status == 0 else np.zeros(k)
            linear_end = float(x0[i] + dx[i])
            t_ok, t_bad = 0.0, 1.0
            if _within(means_at(x0 + dx), obs, tol):
                t_ok = 1.0
            else:
                for _ in range(bisections):
                    mid = (t_ok + t_bad) / 2.0
                    if _within(means_at(x0 + mid * dx), obs, tol):
                        t_ok = mid
                    else:
                        t_bad = mid
            ends.append((float(x0[i] + t_ok * dx[i]), linear_end))
        (low, linear_low), (high, linear_high) = ends
        out.append(Interval(low, high, linear_low, linear_high))
    return out
