"""The engine's own hazard objects compute exactly what the distributions' methods compute."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from sim import distributions as d
from sim.engine_hazards import _hazard

DISTS = [
    d.Piecewise(breaks=(0.5, 1.0, 3.0), rates=(0.2, 0.05, 0.3, 0.1)),
    d.Piecewise(breaks=(1.0, 2.0), rates=(0.4, 0.0, 0.0)),  # the hazard stops: inv is inf past the top
    d.Piecewise(breaks=(1.0,), rates=(0.0, 0.7)),  # starts flat
    d.Exponential(rate=0.37),
    d.Weibull(shape=0.6, scale=4.2),
    d.Weibull(shape=1.8, scale=0.9),
    d.LogNormal(mu=0.3, sigma=0.8),  # no engine copy: delegated to the distribution
]


@pytest.mark.parametrize("dist", DISTS, ids=lambda x: type(x).__name__)
def test_engine_hazards_match_the_distributions_bit_for_bit(dist: d._Duration) -> None:
    h = _hazard(dist)
    assert h is not None
    rng = np.random.default_rng(1)
    xs = [0.0, -1.0, 0.5, 1.0, 2.0, 3.0, 1e-12, 50.0, *rng.exponential(2.0, 200).tolist()]
    for x in xs:
        assert _outcome(h.cum_hazard, x) == _outcome(dist.cum_hazard, x), x
    ys = [0.0, -0.5, 1e-12, 0.1, 0.4, 0.4000000001, 5.0, *rng.exponential(1.0, 200).tolist()]
    for y in ys:
        assert _outcome(h.inv_cum_hazard, y) == _outcome(dist.inv_cum_hazard, y), y


def _outcome(fn: Callable[[float], float], v: float) -> object:
    """The value (NaN as a string, so that it compares equal) or the type of the exception raised."""
    try:
        out = fn(v)
    except Exception as exc:  # the same error for a value outside the domain counts as agreement
        return type(exc)
    return "nan" if math.isnan(out) else out
