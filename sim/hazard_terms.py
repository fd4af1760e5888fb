"""Hazard terms of a carrier stay and of life after it, as the engine applies them.

A stage may set four terms (``docs/model.md``, "Life after the carrier"); each is off unless the
scenario sets it:

* ``support``: during a stay in the stage, the failure and graduation hazards are multiplied by fixed
  factors, and the firm's quality terms (``firms.quality_on_failure * q``, ``quality_on_graduation *
  q``) by ``quality_scale``: support that works through quality;
* ``reveal_quality``: during the stay and for ``years_after`` after it, the failure hazard is
  multiplied by ``exp(-strength * q)``, so low-quality firms fail sooner and high-quality ones later;
* ``after_stay.since_leaving``: after leaving the stage, the failure hazard is multiplied by a
  piecewise-constant factor of the years since leaving (the "leaving the protected environment"
  effect);
* ``after_stay.by_stay_years``: after leaving, the failure hazard is multiplied by a
  piecewise-constant factor of the length of the completed stay, for the rest of the firm's life.

The terms a firm carries after a stay are those of the last stage it left that has any (reveal or
``after_stay``); leaving another such stage replaces them. Nothing here draws random numbers: the
terms change hazards, and the engine re-times a firm's pending event from its clock budgets left, so
common random numbers hold. Compiled with the engine (``hatch_build.py``).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import Final

from .scenario import FactorCurve, Firms, Stage

__all__ = ["Curve", "PostStay", "StageTerms", "stage_terms"]

INF: Final = math.inf


class Curve:
    """A piecewise-constant factor of years: ``factors[i]`` on ``[breaks[i-1], breaks[i])``, the last one after."""

    def __init__(self, breaks: list[float], factors: list[float]) -> None:
        self.breaks = breaks
        self.factors = factors

    def at(self, x: float) -> float:
        """The factor at ``x`` years."""
        return self.factors[bisect_right(self.breaks, x)]

    def next_break(self, x: float) -> float:
        """The first break after ``x`` years (``inf`` if none)."""
        i = bisect_right(self.breaks, x)
        return self.breaks[i] if i < len(self.breaks) else INF


class StageTerms:
    """The terms one stage sets, with the scenario's quality effects they scale.

    Parameters
    ----------
    failure_factor, graduation_factor:
        Fixed support factors on the hazards during a stay.
    quality_scale:
        Multiplier on the quality terms during a stay (1: unchanged).
    quality_on_failure, quality_on_graduation:
        The scenario's ``firms.quality_on_*`` coefficients.
    reveal_strength, reveal_years_after:
        The failure hazard is multiplied by ``exp(-reveal_strength * q)`` during the stay and for
        ``reveal_years_after`` years after leaving.
    since_leaving, by_stay:
        Failure-hazard factors after leaving, by years since leaving and by years of the completed stay.
    """

    def __init__(
        self,
        failure_factor: float,
        graduation_factor: float,
        quality_scale: float,
        quality_on_failure: float,
        quality_on_graduation: float,
        reveal_strength: float,
        reveal_years_after: float,
        since_leaving: Curve | None,
        by_stay: Curve | None,
    ) -> None:
        self.failure_factor = failure_factor
        self.graduation_factor = graduation_factor
        # exp(-b_f q) becomes exp(-k b_f q): the stay adds exp(-(k - 1) b_f q), and likewise for graduation.
        self.extra_f = -(quality_scale - 1.0) * quality_on_failure
        self.extra_g = (quality_scale - 1.0) * quality_on_graduation
        self.reveal = reveal_strength
        self.reveal_after = reveal_years_after
        self.since_leaving = since_leaving
        self.by_stay = by_stay
        self.after = (
            since_leaving is not None or by_stay is not None or (reveal_strength != 0.0 and reveal_years_after > 0)
        )

    def during(self, quality: float) -> tuple[float, float]:
        """Factors on the failure and graduation hazards of a firm of quality ``quality`` during a stay."""
        f = self.failure_factor
        g = self.graduation_factor
        if self.extra_f != 0.0 or self.reveal != 0.0:
            f *= math.exp((self.extra_f - self.reveal) * quality)
        if self.extra_g != 0.0:
            g *= math.exp(self.extra_g * quality)
        return f, g


def _curve(spec: FactorCurve | None) -> Curve | None:
    return None if spec is None else Curve(list(spec.breaks), list(spec.factors))


def stage_terms(spec: Stage, firms: Firms) -> StageTerms | None:
    """The terms a stage sets, or None when it sets none (the engine then runs exactly as without them)."""
    if spec.support is None and spec.reveal_quality is None and spec.after_stay is None:
        return None
    sup = spec.support
    rev = spec.reveal_quality
    after = spec.after_stay
    return StageTerms(
        sup.failure_factor if sup is not None else 1.0,
        sup.graduation_factor if sup is not None else 1.0,
        sup.quality_scale if sup is not None else 1.0,
        firms.quality_on_failure,
        firms.quality_on_graduation,
        rev.strength if rev is not None else 0.0,
        rev.years_after if rev is not None else 0.0,
        _curve(after.since_leaving) if after is not None else None,
        _curve(after.by_stay_years) if after is not None else None,
    )


class PostStay:
    """The terms a firm carries after leaving a stage at ``left`` years, after a stay of ``stay`` years.

    ``factor`` is the failure-hazard factor in force; it holds until ``until`` years (``inf``: for
    good), when the engine calls :meth:`step`. :meth:`advance` catches up after time spent off any
    stage's clock (waiting on a list), when no step was scheduled.
    """

    def __init__(self, terms: StageTerms, quality: float, left: float, stay: float) -> None:
        self.terms = terms
        self.left = left
        self.fixed = terms.by_stay.at(stay) if terms.by_stay is not None else 1.0
        self.revealed = math.exp(-terms.reveal * quality) if terms.reveal != 0.0 else 1.0
        self.factor = 1.0
        self.next_since = 0.0  # years since leaving at which the factor next changes
        self.until = left
        self._set(0.0)

    def _set(self, since: float) -> None:
        terms = self.terms
        factor = self.fixed
        nxt = INF
        curve = terms.since_leaving
        if curve is not None:
            factor *= curve.at(since)
            nxt = curve.next_break(since)
        if since < terms.reveal_after:
            factor *= self.revealed
            nxt = min(nxt, terms.reveal_after)
        self.factor = factor
        self.next_since = nxt
        self.until = self.left + nxt

    def step(self) -> None:
        """Move to the next piece (the engine's event at ``until``; exact at the break, whatever the rounding)."""
        self._set(self.next_since)

    def advance(self, now: float) -> None:
        """Bring the factor up to time ``now`` (years) if one or more changes fell due meanwhile."""
        since = now - self.left
        if since >= self.next_since:
            self._set(since)
