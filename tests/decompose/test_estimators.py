"""sim.estimators: each design recovers the true effect where its assumption holds, and is biased as
expected where it fails.

Tolerance: an estimate within 3 of its own standard errors of the true effect on the treated (computed
from the same firms' untreated outcomes). With a correct estimator and a fixed seed, a miss of 3 SE has
probability ~0.3 %; a biased one misses by many SE at these sample sizes (several thousand firms).
"""

from __future__ import annotations

import warnings

import pytest

import sim
from sim import estimators as E
from tests.decompose.helpers import confounded_world, programme_world

pytest.importorskip("statsmodels")


def _firms(sc: sim.Scenario, seed: int = 1) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' convergence chatter on separable toy data
        return sim.decompose(sc, "programme", reps=1, seed=seed).firms


def _close(est: E.EffectEstimate, truth: float) -> None:
    assert abs(est.estimate - truth) < 3 * est.se, f"{est.design}: {est.estimate:.3f} ± {est.se:.3f}, truth {truth:.3f}"


@pytest.mark.parametrize("outcome", ["survival_1y", "survival_3y"])
def test_selection_on_observables_ipw_and_matching_recover_the_att(outcome: str) -> None:
    f = _firms(confounded_world())
    truth = E.true_att(f, outcome)
    naive = E.naive(f, outcome)
    assert naive.estimate - truth > 5 * naive.se, "the world should confound a naive comparison"
    _close(E.ipw(f, outcome), truth)
    _close(E.matching(f, outcome), truth)


def test_matching_on_observables_is_biased_up_when_screening_reads_latent_quality() -> None:
    """No effect at all; the screen admits high quality, which also lowers failure: matching cannot see it."""
    sc = programme_world(grad=None, screening={"threshold": 0.5, "noise_sd": 0.3}, quality_on_failure=0.7, rate=1500)
    f = _firms(sc)
    truth = E.true_att(f, "survival_1y")
    assert abs(truth) < 0.02
    for est in (E.matching(f, "survival_1y"), E.ipw(f, "survival_1y")):
        assert est.estimate - truth > 5 * est.se, f"{est.design} should be biased up: {est.estimate:.3f}"


@pytest.mark.parametrize("outcome", ["survival_1y", "survival_3y"])
def test_regression_discontinuity_recovers_the_effect_at_a_sharp_threshold(outcome: str) -> None:
    sc = programme_world(
        multiplier=0.5, screening={"threshold": 0.0, "noise_sd": 0.5}, quality_on_failure=0.7, rate=3000
    )
    f = _firms(sc)
    rd = E.regression_discontinuity(f, outcome, threshold=0.0, bandwidth=0.5)
    assert rd.note == "", "an unlimited stage with a screen is a sharp design"
    near = f[(f["screen_score"] >= 0.0) & (f["screen_score"] < 0.25)]
    _close(rd, E.true_att(near, outcome))
    naive = E.naive(f, outcome)
    assert naive.estimate - E.true_att(f, outcome) > 5 * naive.se


def test_lottery_recovers_the_att() -> None:
    sc = programme_world(
        multiplier=0.5, screening={"threshold": 0.0, "noise_sd": 1e6}, quality_on_failure=0.7, rate=1500
    )
    f = _firms(sc, seed=2)
    _close(E.lottery(f, "survival_1y"), E.true_att(f, "survival_1y"))


def test_difference_in_differences_recovers_a_policy_effect() -> None:
    """The programme's failure hazard halves from year 2: cohorts of years 2-4 against those of year 0."""
    sc = programme_world(screening={"threshold": 0.0, "noise_sd": 0.5}, quality_on_failure=0.7, rate=1500, horizon=5)
    data = sc.to_dict()
    data["policies"] = [
        {"type": "hazard_multiplier", "hazard": "failure", "factor": 0.5, "start": "2022-01-01",
         "target": {"stages": ["programme"]}}
    ]  # fmt: skip
    f = _firms(sim.parse_scenario(data))
    pre, post = f[f["arrival_time"] < 1.0], f[(f["arrival_time"] >= 2.0) & (f["arrival_time"] < 4.0)]
    truth = E.true_att(post, "survival_1y") - E.true_att(pre, "survival_1y")
    _close(E.difference_in_differences(f, "survival_1y", window=(2.0, 4.0), before=(0.0, 1.0)), truth)
