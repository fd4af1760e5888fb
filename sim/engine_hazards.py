"""The engine's hazards: a duration's cumulative hazard and its inverse, as the engine calls them.

Each visit to a stage spends unit-exponential budgets against the stage's hazards (see
:mod:`sim.engine`); these objects turn a budget into a time and back. For the common families they
repeat the distributions' arithmetic on plain attributes, so that the compiled engine makes native
calls instead of method calls on pydantic models; ``tests/unit/test_engine_hazards.py`` checks that
they agree with :mod:`sim.distributions` bit for bit.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from .distributions import Exponential, Piecewise, Weibull, _Duration
from .engine_state import INF


class _Hazard:
    """A duration's cumulative hazard and its inverse, as the engine calls them: the distribution's own
    methods, or the same arithmetic on plain attributes for the common families (a native call when
    the engine is compiled, instead of a method call on a pydantic model)."""

    def __init__(self, dist: _Duration) -> None:
        self.dist = dist

    def cum_hazard(self, x: float) -> float:
        """Cumulative hazard at clock value ``x`` (years)."""
        return self.dist.cum_hazard(x)

    def inv_cum_hazard(self, y: float) -> float:
        """Clock value (years) at which the cumulative hazard reaches ``y``."""
        return self.dist.inv_cum_hazard(y)


class _PiecewiseHazard(_Hazard):
    """:meth:`Piecewise.cum_hazard` and :meth:`Piecewise.inv_cum_hazard`, statement for statement."""

    def __init__(self, dist: Piecewise) -> None:
        super().__init__(dist)
        self.breaks = list(dist.breaks)
        self.rates = list(dist.rates)
        self.cum = list(dist._cum)
        self.n_breaks = len(dist.breaks)
        self.last_zero = dist.rates[-1] == 0

    def cum_hazard(self, x: float) -> float:
        """Cumulative hazard at clock value ``x`` (years)."""
        if x <= 0:
            return 0.0
        i = bisect_right(self.breaks, x)
        start = self.breaks[i - 1] if i > 0 else 0.0
        return self.cum[i] + self.rates[i] * (x - start)

    def inv_cum_hazard(self, y: float) -> float:
        """Clock value (years) at which the cumulative hazard reaches ``y``."""
        if y <= 0:
            return 0.0
        cum = self.cum
        i = bisect_left(cum, y) - 1
        if i >= self.n_breaks and self.last_zero:
            return INF
        start = self.breaks[i - 1] if i > 0 else 0.0
        return start + (y - cum[i]) / self.rates[i]


class _ExponentialHazard(_Hazard):
    """:meth:`Exponential.cum_hazard` and :meth:`Exponential.inv_cum_hazard`."""

    def __init__(self, dist: Exponential) -> None:
        super().__init__(dist)
        self.rate = dist.rate

    def cum_hazard(self, x: float) -> float:
        """Cumulative hazard at clock value ``x`` (years)."""
        return self.rate * x

    def inv_cum_hazard(self, y: float) -> float:
        """Clock value (years) at which the cumulative hazard reaches ``y``."""
        return y / self.rate


class _WeibullHazard(_Hazard):
    """:meth:`Weibull.cum_hazard` and :meth:`Weibull.inv_cum_hazard`."""

    def __init__(self, dist: Weibull) -> None:
        super().__init__(dist)
        self.scale = dist.scale
        self.shape = dist.shape

    def cum_hazard(self, x: float) -> float:
        """Cumulative hazard at clock value ``x`` (years)."""
        return float((x / self.scale) ** self.shape) if x > 0 else 0.0

    def inv_cum_hazard(self, y: float) -> float:
        """Clock value (years) at which the cumulative hazard reaches ``y``."""
        return float(self.scale * y ** (1.0 / self.shape))


def _hazard(dist: _Duration | None) -> _Hazard | None:
    if dist is None:
        return None
    if isinstance(dist, Piecewise):
        return _PiecewiseHazard(dist)
    if isinstance(dist, Exponential):
        return _ExponentialHazard(dist)
    if isinstance(dist, Weibull):
        return _WeibullHazard(dist)
    return _Hazard(dist)


def _time_to(dist: _Hazard, clock0: float, budget_left: float, mult: float) -> float:
    """Years from clock value ``clock0`` until ``mult * (H(clock) - H(clock0))`` reaches the budget."""
    if mult <= 0.0:
        return INF
    return dist.inv_cum_hazard(dist.cum_hazard(clock0) + budget_left / mult) - clock0
