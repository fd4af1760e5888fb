"""Means and t-based confidence intervals across replications, and paired differences.

Every estimate states its edge cases instead of failing or returning a silently wrong interval:

* no values (``n = 0``): mean, sd and interval are NaN, ``note`` says why;
* one value (``n = 1``): the mean only; sd and interval are NaN (one replication shows no spread);
* all values equal: sd 0 and a zero-width interval at the mean.

Missing values (``None`` or NaN, e.g. survival past the horizon, or the mean stay in a stage nobody
left) are dropped before estimating, so ``n`` counts the replications that have a value.

Policy effects are *paired* differences: replication ``r`` of the variant minus replication ``r`` of
the baseline, which share their random numbers (see :mod:`sim.streams`). :func:`welch_difference`
gives the interval that independent streams would have given, to measure what pairing bought.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special as _special  # stdtrit: Student t quantile, without importing scipy.stats

__all__ = ["Estimate", "as_values", "ci_ratio", "mean_ci", "paired_difference", "welch_difference"]

NO_VALUES = "no values"
ONE_VALUE = "one value: no spread, no interval"
NO_VARIATION = "no variation: zero-width interval"

Values = Sequence[float | int | None] | npt.NDArray[np.float64]


@dataclass(frozen=True)
class Estimate:
    """A mean with its standard deviation, standard error and t-based confidence interval.

    Attributes
    ----------
    n:
        Number of values used (missing ones dropped).
    mean, sd, se:
        Sample mean, standard deviation (``ddof = 1``) and standard error of the mean, in the
        values' unit; NaN where undefined (see ``note``).
    ci_low, ci_high:
        Bounds of the ``level`` confidence interval of the mean; NaN when ``n < 2``.
    level:
        Confidence level, e.g. 0.95.
    df:
        Degrees of freedom of the t quantile (Welch-Satterthwaite for independent differences).
    note:
        Empty, or why some fields are NaN or the interval has zero width.
    """

    n: int
    mean: float
    sd: float
    se: float
    ci_low: float
    ci_high: float
    level: float
    df: float
    note: str = ""

    @property
    def half_width(self) -> float:
        """Half the width of the confidence interval (NaN when there is none)."""
        return (self.ci_high - self.ci_low) / 2.0


def as_values(values: Values) -> npt.NDArray[np.float64]:
    """Values as a float array with ``None`` turned into NaN."""
    return np.array([math.nan if v is None else v for v in values], dtype=np.float64)


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level: must be between 0 and 1, got {level}")


def _empty(level: float) -> Estimate:
    nan = math.nan
    return Estimate(0, nan, nan, nan, nan, nan, level, nan, NO_VALUES)


def mean_ci(values: Values, level: float = 0.95) -> Estimate:
    """Mean and t-based confidence interval of ``values`` (missing values dropped).

    Parameters
    ----------
    values:
        One value per replication (any unit; the estimate has the same unit).
    level:
        Confidence level of the interval (default 0.95).

    Returns
    -------
    Estimate
        See the module docstring for the edge cases ``n = 0``, ``n = 1`` and zero variance.
    """
    _check_level(level)
    x = as_values(values)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return _empty(level)
    mean = float(np.mean(x))
    if n == 1:
        nan = math.nan
        return Estimate(1, mean, nan, nan, nan, nan, level, nan, ONE_VALUE)
    df = float(n - 1)
    if np.all(x == x[0]):
        # Exact equality test: np.var of equal values can come out as a rounding error, not 0.
        value = float(x[0])
        return Estimate(n, value, 0.0, 0.0, value, value, level, df, NO_VARIATION)
    sd = float(np.std(x, ddof=1))
    se = sd / math.sqrt(n)
    half = float(_special.stdtrit(df, 0.5 + level / 2.0)) * se
    return Estimate(n, mean, sd, se, mean - half, mean + half, level, df)


def paired_difference(baseline: Values, variant: Values, level: float = 0.95) -> Estimate:
    """Mean of ``variant[i] - baseline[i]`` with its t interval (pairs with a missing side dropped).

    Parameters
    ----------
    baseline, variant:
        Values of the same replications (same random streams), in the same order.
    level:
        Confidence level (default 0.95).
    """
    b = as_values(baseline)
    v = as_values(variant)
    if b.shape != v.shape:
        raise ValueError(f"paired values need equal lengths, got {len(b)} and {len(v)}")
    return mean_ci(v - b, level)  # NaN - x is NaN, so a pair with a missing side drops out


def welch_difference(baseline: Values, variant: Values, level: float = 0.95) -> Estimate:
    """``mean(variant) - mean(baseline)`` for independent samples, with a Welch t interval.

    ``sd`` is NaN (a difference of independent means has no per-pair spread); ``se`` is
    ``sqrt(s_b^2 / n_b + s_v^2 / n_v)`` and ``df`` the Welch-Satterthwaite degrees of freedom.
    """
    _check_level(level)
    b = as_values(baseline)
    v = as_values(variant)
    b = b[~np.isnan(b)]
    v = v[~np.isnan(v)]
    nb, nv = len(b), len(v)
    nan = math.nan
    n = min(nb, nv)
    if n == 0:
        return _empty(level)
    diff = float(np.mean(v) - np.mean(b))
    if n == 1:
        return Estimate(n, diff, nan, nan, nan, nan, level, nan, ONE_VALUE)
    vb = 0.0 if np.all(b == b[0]) else float(np.var(b, ddof=1))
    vv = 0.0 if np.all(v == v[0]) else float(np.var(v, ddof=1))
    qb, qv = vb / nb, vv / nv
    if qb + qv == 0.0:
        return Estimate(n, diff, nan, 0.0, diff, diff, level, nan, NO_VARIATION)
    se = math.sqrt(qb + qv)
    df = (qb + qv) ** 2 / (qb**2 / (nb - 1) + qv**2 / (nv - 1))
    half = float(_special.stdtrit(df, 0.5 + level / 2.0)) * se
    return Estimate(n, diff, nan, se, diff - half, diff + half, level, df)


def ci_ratio(independent: Estimate, paired: Estimate) -> float:
    """How many times wider the independent-streams interval is than the paired one.

    ``> 1`` means pairing narrowed the interval. ``inf`` when the paired interval has zero width but
    the independent one does not; NaN when either interval is missing or both have zero width.
    """
    hi, hp = independent.half_width, paired.half_width
    if math.isnan(hi) or math.isnan(hp):
        return math.nan
    if hp == 0.0:
        return math.inf if hi > 0.0 else math.nan
    return hi / hp
