"""Distributions as data: one registry of small, frozen, validated sampler classes.

A scenario file writes a distribution as an inline table keyed by ``dist``::

    failure = {dist = "weibull", shape = 0.67, scale = 9.0}

and :data:`Distribution` (every kind) or :data:`DurationDistribution` (kinds with support on
``[0, inf)``, usable as a hazard) turns it into one of the classes below. Every class documents its
parameterisation and offers

* ``sample(gen, n)`` -- ``n`` independent draws from a :class:`numpy.random.Generator`;
* ``mean()`` and ``var()`` -- the theoretical moments (used by the verification tests);

and the duration kinds also offer the cumulative hazard ``H(x) = -log S(x)`` and its inverse. The
engine never samples a duration directly: each firm carries unit-exponential *clock budgets* and a
duration ends when the (policy-scaled) cumulative hazard has used up the budget, so
``inv_cum_hazard(cum_hazard(x0) + budget / multiplier)`` is the only operation it needs. With a
multiplier of one this is exactly inverse-transform sampling, so ``H^-1(E)`` with ``E ~ Exp(1)`` has
the distribution's law.

Time is in years throughout.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from typing import Annotated, Literal

import numpy as np
import numpy.typing as npt
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from scipy import special

FloatArray = npt.NDArray[np.float64]

Real = Annotated[float, Field(strict=True, allow_inf_nan=False)]
"""A finite decimal number. Whole numbers are accepted; ``true``, ``"0.35"``, ``nan`` and ``inf`` are not."""

LARGEST = 1e300
"""Largest magnitude a draw may reach: beyond it sums and products of draws overflow."""

TAIL_BUDGET = 70.0
"""A unit-exponential clock budget above this has probability ``exp(-70)``, about 4e-31: never drawn
(a billion firms in each of a million replications make 1e15 draws)."""

TAIL_Z = 11.5
"""A standard normal draw beyond +-11.5 has probability about 1e-30: never drawn."""

__all__ = [
    "DISTRIBUTIONS",
    "Distribution",
    "DurationDistribution",
    "Exponential",
    "Fixed",
    "Gamma",
    "LogNormal",
    "Normal",
    "Piecewise",
    "Real",
    "Uniform",
    "Weibull",
]


def _exp(x: float) -> float:
    """``exp(x)``, ``inf`` where it overflows (moments of extreme but valid parameters)."""
    return math.exp(x) if x < 709.0 else math.inf


class _Dist(BaseModel):
    """Common base: frozen, no unknown keys, no parameters whose draws overflow."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def practical_range(self) -> tuple[float, float]:  # pragma: no cover - abstract
        """``(low, high)`` outside which a draw falls with probability below about 1e-30 (``inf``: overflow)."""
        raise NotImplementedError

    @model_validator(mode="after")
    def _draws_stay_finite(self) -> _Dist:
        low, high = self.practical_range()
        if not (-LARGEST <= low <= high <= LARGEST):
            raise ValueError(
                f"draws overflow (they reach {max(abs(low), abs(high)):.3g}); "
                f"choose parameters whose draws stay within +-{LARGEST:g}"
            )
        return self

    def sample(self, gen: np.random.Generator, n: int) -> FloatArray:  # pragma: no cover - abstract
        raise NotImplementedError

    def mean(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def var(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError


class _Duration(_Dist):
    """A non-negative duration (years) with a cumulative hazard and its inverse."""

    def cum_hazard(self, x: float) -> float:  # pragma: no cover - abstract
        """Cumulative hazard ``H(x) = -log S(x)`` at duration ``x`` years (``inf`` past the support)."""
        raise NotImplementedError

    def inv_cum_hazard(self, y: float) -> float:  # pragma: no cover - abstract
        """Smallest duration ``x`` (years) with ``H(x) >= y``; ``inf`` if the hazard never gets there."""
        raise NotImplementedError

    def survival(self, x: FloatArray) -> FloatArray:
        """Survival function ``S(x)`` evaluated element-wise (x in years)."""
        h = np.array([self.cum_hazard(float(v)) for v in np.atleast_1d(x)], dtype=np.float64)
        return np.asarray(np.exp(-h), dtype=np.float64)

    def sample(self, gen: np.random.Generator, n: int) -> FloatArray:
        budgets = gen.standard_exponential(n)
        return np.array([self.inv_cum_hazard(float(b)) for b in budgets], dtype=np.float64)


class Exponential(_Duration):
    """Exponential duration with constant hazard ``rate`` per year (mean ``1 / rate`` years)."""

    dist: Literal["exponential"] = "exponential"
    rate: Real = Field(gt=0, description="hazard, events per year")

    def practical_range(self) -> tuple[float, float]:
        return 0.0, TAIL_BUDGET / self.rate

    def cum_hazard(self, x: float) -> float:
        return self.rate * x

    def inv_cum_hazard(self, y: float) -> float:
        return y / self.rate

    def sample(self, gen: np.random.Generator, n: int) -> FloatArray:
        return gen.standard_exponential(n) / self.rate

    def mean(self) -> float:
        return 1.0 / self.rate

    def var(self) -> float:
        return 1.0 / self.rate**2


class Weibull(_Duration):
    """Weibull duration, ``S(x) = exp(-(x / scale) ** shape)``; ``shape < 1`` gives a falling hazard.

    ``scale`` is in years; ``shape`` is dimensionless.
    """

    dist: Literal["weibull"] = "weibull"
    shape: Real = Field(gt=0)
    scale: Real = Field(gt=0, description="years")

    def practical_range(self) -> tuple[float, float]:
        log10_high = math.log10(self.scale) + math.log10(TAIL_BUDGET) / self.shape
        return 0.0, 10.0**log10_high if log10_high < 308 else math.inf

    def cum_hazard(self, x: float) -> float:
        return float((x / self.scale) ** self.shape) if x > 0 else 0.0

    def inv_cum_hazard(self, y: float) -> float:
        return float(self.scale * y ** (1.0 / self.shape))

    def sample(self, gen: np.random.Generator, n: int) -> FloatArray:
        return self.scale * gen.standard_exponential(n) ** (1.0 / self.shape)

    def mean(self) -> float:
        return self.scale * _exp(math.lgamma(1.0 + 1.0 / self.shape))

    def var(self) -> float:
        g1 = _exp(math.lgamma(1.0 + 1.0 / self.shape))
        return self.scale**2 * (_exp(math.lgamma(1.0 + 2.0 / self.shape)) - g1 * g1)


class LogNormal(_Duration):
    """Log-normal duration: ``log(x)`` is normal with mean ``mu`` and standard deviation ``sigma``.

    The median is ``exp(mu)`` years.
    """

    dist: Literal["lognormal"] = "lognormal"
    mu: Real = Field(description="mean of log(duration in years)")
    sigma: Real = Field(gt=0, description="standard deviation of log(duration in years)")

    def practical_range(self) -> tuple[float, float]:
        return 0.0, _exp(self.mu + TAIL_Z * self.sigma)

    def cum_hazard(self, x: float) -> float:
        if x <= 0:
            return 0.0
        z = (math.log(x) - self.mu) / self.sigma
        return -float(special.log_ndtr(-z))

    def inv_cum_hazard(self, y: float) -> float:
        if y <= 0:
            return 0.0
        # S(x) = exp(-y)  <=>  x = exp(mu - sigma * ndtri(exp(-y)))
        return math.exp(self.mu - self.sigma * float(special.ndtri(math.exp(-y))))

    def sample(self, gen: np.random.Generator, n: int) -> FloatArray:
        return gen.lognormal(self.mu, self.sigma, n)

    def mean(self) -> float:
        return _exp(self.mu + self.sigma**2 / 2)

    def var(self) -> float:
        s2 = self.sigma**2
        return (_exp(s2) - 1.0) * _exp(2 * self.mu + s2)


class Gamma(_Duration):
    """Gamma duration with ``shape`` k and ``scale`` theta in years (mean ``k * theta``)."""

    dist: Literal["gamma"] = "gamma"
    shape: Real = Field(gt=0)
    scale: Real = Field(gt=0, description="years")

    def practical_range(self) -> tuple[float, float]:
        high = self.scale * float(special.gammainccinv(self.shape, math.exp(-TAIL_BUDGET)))
        return 0.0, high if math.isfinite(high) else math.inf

    def cum_hazard(self, x: float) -> float:
        if x <= 0:
            return 0.0
        s = float(special.gammaincc(self.shape, x / self.scale))
        return math.inf if s <= 0 else -math.log(s)

    def inv_cum_hazard(self, y: float) -> float:
        if y <= 0:
            return 0.0
        p = math.exp(-y)
        if p <= 0:
            return math.inf
        return self.scale * float(special.gammainccinv(self.shape, p))

    def sample(self, gen: np.random.Generator, n: int) -> FloatArray:
        return gen.gamma(self.shape, self.scale, n)

    def mean(self) -> float:
        return self.shape * self.scale

    def var(self) -> float:
        return self.shape * self.scale**2


class Piecewise(_Duration):
    """Piecewise-constant hazard: ``rates[i]`` per year between ``breaks[i-1]`` and ``breaks[i]``.

    ``breaks`` are durations in years, strictly increasing and positive; ``rates`` has one more entry
    than ``breaks`` (the last rate applies beyond the last break). Fits survival curves given by age.
    """

    dist: Literal["piecewise"] = "piecewise"
    breaks: tuple[Real, ...] = Field(description="years, strictly increasing, > 0")
    rates: tuple[Real, ...] = Field(description="hazard per year on each interval, >= 0")

    @model_validator(mode="after")
    def _check(self) -> Piecewise:
        if len(self.rates) != len(self.breaks) + 1:
            raise ValueError(f"rates needs len(breaks) + 1 = {len(self.breaks) + 1} entries, got {len(self.rates)}")
        if any(r < 0 for r in self.rates):
            raise ValueError("rates must be >= 0")
        if any(b <= 0 for b in self.breaks) or any(
            b2 <= b1 for b1, b2 in zip(self.breaks, self.breaks[1:], strict=False)
        ):
            raise ValueError("breaks must be positive and strictly increasing")
        return self

    def practical_range(self) -> tuple[float, float]:
        if len(self.rates) != len(self.breaks) + 1 or any(r < 0 for r in self.rates):
            return 0.0, 0.0  # reported by _check
        if not all(math.isfinite(c) for c in self._cum):
            return 0.0, math.inf
        last = self.breaks[-1] if self.breaks else 0.0
        # A hazard that stops (last rate 0) means 'never' past the last break: a legitimate duration.
        return 0.0, last + TAIL_BUDGET / self.rates[-1] if self.rates[-1] > 0 else last

    @property
    def _cum(self) -> tuple[float, ...]:
        # Cumulative hazard at each break (cached on first use; the model is frozen).
        cached: tuple[float, ...] | None = self.__dict__.get("_cum_cache")
        if cached is None:
            acc = [0.0]
            prev = 0.0
            for b, r in zip(self.breaks, self.rates, strict=False):
                acc.append(acc[-1] + r * (b - prev))
                prev = b
            cached = tuple(acc)
            self.__dict__["_cum_cache"] = cached
        return cached

    def cum_hazard(self, x: float) -> float:
        if x <= 0:
            return 0.0
        i = bisect_right(self.breaks, x)
        start = self.breaks[i - 1] if i > 0 else 0.0
        return self._cum[i] + self.rates[i] * (x - start)

    def inv_cum_hazard(self, y: float) -> float:
        if y <= 0:
            return 0.0
        cum = self._cum
        # the interval i with cum[i] < y <= cum[i + 1] (flat stretches are skipped by the strict '<')
        i = bisect_left(cum, y) - 1
        if i >= len(self.breaks) and self.rates[-1] == 0:
            return math.inf
        start = self.breaks[i - 1] if i > 0 else 0.0
        return start + (y - cum[i]) / self.rates[i]

    def mean(self) -> float:
        # E[X] = integral of S(x) dx, piecewise exact.
        total, prev = 0.0, 0.0
        for i, r in enumerate(self.rates):
            end = self.breaks[i] if i < len(self.breaks) else math.inf
            s0 = math.exp(-self._cum[i])
            if r == 0:
                if end == math.inf:
                    return math.inf
                total += s0 * (end - prev)
            else:
                span = end - prev
                total += s0 * (1 - math.exp(-r * span)) / r if span != math.inf else s0 / r
            prev = end
        return total

    def var(self) -> float:
        # E[X^2] = integral of 2 x S(x) dx, piecewise exact.
        second, prev = 0.0, 0.0
        for i, r in enumerate(self.rates):
            end = self.breaks[i] if i < len(self.breaks) else math.inf
            s0 = math.exp(-self._cum[i])
            if r == 0:
                if end == math.inf:
                    return math.inf
                second += s0 * (end**2 - prev**2)
            else:
                # integral_a^b 2 x e^{-r (x - a)} dx
                def antider(x: float, a: float = prev, rr: float = r) -> float:
                    if x == math.inf:
                        return 0.0
                    return -2 * math.exp(-rr * (x - a)) * (x / rr + 1 / rr**2)

                second += s0 * (antider(end) - antider(prev))
            prev = end
        m = self.mean()
        return second - m * m


class Fixed(_Duration):
    """A constant ``value`` (years when used as a duration)."""

    dist: Literal["fixed"] = "fixed"
    value: Real = Field(ge=0)

    def practical_range(self) -> tuple[float, float]:
        return self.value, self.value

    def cum_hazard(self, x: float) -> float:
        return 0.0 if x < self.value else math.inf

    def inv_cum_hazard(self, y: float) -> float:
        return self.value if y > 0 else 0.0

    def sample(self, gen: np.random.Generator, n: int) -> FloatArray:
        return np.full(n, self.value)

    def mean(self) -> float:
        return self.value

    def var(self) -> float:
        return 0.0


class Uniform(_Duration):
    """Uniform on ``[low, high]`` (years when used as a duration; then ``low >= 0``)."""

    dist: Literal["uniform"] = "uniform"
    low: Real
    high: Real

    @model_validator(mode="after")
    def _check(self) -> Uniform:
        if not self.high > self.low:
            raise ValueError(f"high must be > low, got low={self.low}, high={self.high}")
        return self

    def practical_range(self) -> tuple[float, float]:
        return self.low, self.high

    def cum_hazard(self, x: float) -> float:
        if x <= self.low:
            return 0.0
        if x >= self.high:
            return math.inf
        return -math.log((self.high - x) / (self.high - self.low))

    def inv_cum_hazard(self, y: float) -> float:
        return self.high - (self.high - self.low) * math.exp(-y)

    def sample(self, gen: np.random.Generator, n: int) -> FloatArray:
        return gen.uniform(self.low, self.high, n)

    def mean(self) -> float:
        return (self.low + self.high) / 2

    def var(self) -> float:
        return (self.high - self.low) ** 2 / 12


class Normal(_Dist):
    """Normal with ``mean`` and standard deviation ``sd`` (for attributes such as latent quality)."""

    dist: Literal["normal"] = "normal"
    mean_: Real = Field(0.0, alias="mean")
    sd: Real = Field(1.0, ge=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    def practical_range(self) -> tuple[float, float]:
        return self.mean_ - TAIL_Z * self.sd, self.mean_ + TAIL_Z * self.sd

    def sample(self, gen: np.random.Generator, n: int) -> FloatArray:
        return self.mean_ + self.sd * gen.standard_normal(n)

    def mean(self) -> float:
        return self.mean_

    def var(self) -> float:
        return self.sd**2


Distribution = Annotated[
    Exponential | Weibull | LogNormal | Gamma | Piecewise | Fixed | Uniform | Normal,
    Field(discriminator="dist"),
]
"""Any registered distribution (attributes such as quality or age)."""


def _non_negative(dist: _Duration) -> _Duration:
    if isinstance(dist, Uniform) and dist.low < 0:
        raise ValueError(f"a duration must be >= 0, got low = {dist.low:g}")
    return dist


DurationDistribution = Annotated[
    Exponential | Weibull | LogNormal | Gamma | Piecewise | Fixed | Uniform,
    Field(discriminator="dist"),
    AfterValidator(_non_negative),
]
"""Distributions of non-negative durations, usable as hazards and patience."""

DISTRIBUTIONS: dict[str, type[_Dist]] = {
    cls.model_fields["dist"].default: cls
    for cls in (Exponential, Weibull, LogNormal, Gamma, Piecewise, Fixed, Uniform, Normal)
}
"""The registry: ``dist`` name -> class."""
