"""Every distribution in the registry samples with its documented mean and variance.

Two ways of sampling are checked, because the engine uses the second: each class's own ``sample``, and
inverse-transform sampling through the cumulative hazard, ``inv_cum_hazard(E)`` with ``E ~ Exp(1)`` (the
clock budgets of sim.streams). ``inv_cum_hazard(cum_hazard(x)) == x`` is checked where the hazard is
positive (where it is zero the cumulative hazard is flat and has no unique inverse).

Tolerances: the sample mean of n draws has standard error sd / sqrt(n) and the sample variance about
sqrt((m4 - var^2) / n) (m4, the fourth central moment, estimated from the same draws). Each check allows
z standard errors with z the normal quantile for a two-sided 1 % false-alarm rate over all checks in this
file (Bonferroni), with fixed seeds so the verdict is reproducible. With n = 200,000 (100,000 through the
Python-level inverse), a 1 % error in a mean or a 3 % error in a variance is many standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.distributions import DISTRIBUTIONS, _Dist, _Duration

CASES: list[_Dist] = [
    DISTRIBUTIONS["exponential"].model_validate({"rate": 0.7}),
    DISTRIBUTIONS["weibull"].model_validate({"shape": 0.6, "scale": 4.0}),
    DISTRIBUTIONS["weibull"].model_validate({"shape": 2.5, "scale": 1.5}),
    DISTRIBUTIONS["lognormal"].model_validate({"mu": 0.5, "sigma": 0.6}),
    DISTRIBUTIONS["gamma"].model_validate({"shape": 2.0, "scale": 1.1}),
    DISTRIBUTIONS["gamma"].model_validate({"shape": 0.5, "scale": 3.0}),
    DISTRIBUTIONS["piecewise"].model_validate({"breaks": [1.0, 3.0], "rates": [0.5, 0.0, 0.2]}),
    DISTRIBUTIONS["piecewise"].model_validate({"breaks": [0.5, 2.0, 4.0], "rates": [1.2, 0.4, 0.8, 0.3]}),
    DISTRIBUTIONS["fixed"].model_validate({"value": 2.0}),
    DISTRIBUTIONS["uniform"].model_validate({"low": 0.5, "high": 3.0}),
    DISTRIBUTIONS["normal"].model_validate({"mean": 0.3, "sd": 1.2}),
]
IDS = [f"{c.dist}-{i}" for i, c in enumerate(CASES)]  # type: ignore[attr-defined]
N_OWN = 200_000
N_INVERSE = 100_000
CHECKS = 4 * len(CASES)  # mean and variance, two samplers
Z = float(stats.norm.isf(0.01 / (2 * CHECKS)))


def test_every_registered_kind_is_covered() -> None:
    covered = {c.dist for c in CASES}  # type: ignore[attr-defined]
    assert covered == set(DISTRIBUTIONS), f"no moment check for {set(DISTRIBUTIONS) - covered}"


def moment_problems(label: str, dist: _Dist, x: np.ndarray) -> list[str]:
    mean, var = dist.mean(), dist.var()
    n = len(x)
    out = []
    if var == 0.0:
        if not np.all(x == mean):
            out.append(f"{label}: a constant distribution gave values other than {mean}")
        return out
    se_mean = math.sqrt(var / n)
    if abs(x.mean() - mean) > Z * se_mean:
        out.append(f"{label}: mean {x.mean():.6g} vs {mean:.6g} ({(x.mean() - mean) / se_mean:+.1f} se)")
    m4 = float(np.mean((x - x.mean()) ** 4))
    se_var = math.sqrt(max(m4 - var**2, 0.0) / n)
    if abs(x.var(ddof=1) - var) > Z * se_var:
        out.append(f"{label}: variance {x.var(ddof=1):.6g} vs {var:.6g} ({(x.var(ddof=1) - var) / se_var:+.1f} se)")
    return out


@pytest.mark.parametrize("dist", CASES, ids=IDS)
def test_sample_has_theoretical_mean_and_variance(dist: _Dist) -> None:
    x = dist.sample(np.random.default_rng(1234), N_OWN)
    bad = moment_problems("sample()", dist, x)
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(
    "dist",
    [c for c in CASES if isinstance(c, _Duration)],
    ids=[i for c, i in zip(CASES, IDS, strict=True) if isinstance(c, _Duration)],
)
def test_inverse_cumulative_hazard_of_unit_exponential_budgets(dist: _Duration) -> None:
    budgets = np.random.default_rng(99).standard_exponential(N_INVERSE)
    x = np.array([dist.inv_cum_hazard(float(b)) for b in budgets])
    bad = moment_problems("inv_cum_hazard(Exp(1))", dist, x)
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(
    "dist",
    [c for c in CASES if isinstance(c, _Duration)],
    ids=[i for c, i in zip(CASES, IDS, strict=True) if isinstance(c, _Duration)],
)
def test_cumulative_hazard_round_trip(dist: _Duration) -> None:
    if dist.dist == "fixed":  # type: ignore[attr-defined]
        # A point mass: no hazard before the value, certain event at it.
        value = dist.mean()
        assert dist.cum_hazard(0.999 * value) == 0.0 and dist.cum_hazard(value) == math.inf
        assert all(dist.inv_cum_hazard(y) == value for y in (1e-9, 0.5, 7.0))
        return
    # Durations spread over the bulk of the distribution (quantiles 0.1 % .. 99.9 %).
    qs = np.linspace(0.001, 0.999, 401)
    xs = [dist.inv_cum_hazard(-math.log1p(-q)) for q in qs]
    bad = []
    for x in xs:
        h = dist.cum_hazard(x)
        # Keep points where the hazard is positive just below x (the inverse is unique there).
        if dist.cum_hazard(x * (1 - 1e-6)) >= h:
            continue
        back = dist.inv_cum_hazard(h)
        if not math.isclose(back, x, rel_tol=1e-9, abs_tol=1e-12):
            bad.append(f"x = {x:.12g}: H = {h:.12g}, inverse gives {back:.12g}")
    assert len(bad) == 0, f"{dist!r}: round trip fails at\n" + "\n".join(bad[:10])
