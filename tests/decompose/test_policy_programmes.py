"""Policies and competitions as programmes: the same firms with the treatment switched off.

Each kind of policy that treats firms is checked where the answer is known by construction: at a factor of
1 the two worlds are the same, so the effect on the treated is exactly 0 while the naive gap (screening on
quality) stays large; with a strong factor it is clearly positive. A hazard multiplier's effect is also
checked against its closed form. Every decomposable policy of a scenario with one of each satisfies
naive = ATT + selection, and recording whom a policy treats leaves the factual log byte for byte as it was.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.decomposition import NOT_A_TREATMENT, decompose, programme_error
from sim.engine import PolicySwitch, simulate
from sim.policies import POLICY_TYPES, policy_name
from tests.decompose.helpers import linkage_world, policy_world, programme_world
from tests.helpers import SCENARIOS

SCREEN = {"threshold": 0.5, "noise_sd": 0.3}  # about a third admitted, on quality, which lowers failure
WHOLE_RUN = {"start": "2020-01-01", "end": "2030-01-01"}


def _policy(kind: str, factor: float) -> dict[str, object]:
    """One policy of ``kind`` on the programme stage, with its failure factor at ``factor``."""
    aim = {"stages": ["programme"]}
    return {
        "hazard_multiplier": {"type": "hazard_multiplier", "hazard": "failure", "factor": factor, "target": aim},
        "rent_relief": {"type": "rent_relief", "failure_factor": factor, "target": aim, **WHOLE_RUN},
        "specialisation": {"type": "specialisation", "failure_factor": factor, "graduation_factor": 1.0,
                           "target": aim},
    }[kind] | {"name": "programme_policy"}  # fmt: skip


def _participants(d: sim.Decomposition) -> np.ndarray:
    """Participants per replication (those followed for a year)."""
    pr = d.per_replication
    return pr.loc[pr["outcome"] == "survival_1y", "n_participants"].to_numpy()


def _check_identity(d: sim.Decomposition) -> None:
    pr = d.per_replication
    assert np.allclose(pr["naive"], pr["att"] + pr["selection"], equal_nan=True), "naive != ATT + selection"


@pytest.mark.parametrize("kind", ["hazard_multiplier", "rent_relief", "specialisation"])
def test_a_hazard_policy_without_effect_is_all_selection_and_a_strong_one_helps(kind: str) -> None:
    inert = decompose(policy_world([_policy(kind, 1.0)], screening=SCREEN), "programme_policy", reps=4, seed=2)
    strong = decompose(policy_world([_policy(kind, 0.3)], screening=SCREEN), "programme_policy", reps=4, seed=2)
    for d in (inert, strong):
        _check_identity(d)
        assert (_participants(d) > 50).all(), f"{kind}: the policy reached too few firms"
    att, lo, hi = inert.estimate("survival_1y", "att")
    assert att == 0.0 and lo <= 0.0 <= hi, f"{kind} at factor 1: ATT {att} [{lo}, {hi}]"
    naive_lo = inert.estimate("survival_1y", "naive")[1]
    assert naive_lo > 0.05, f"{kind}: screening on quality should open a naive gap (low end {naive_lo:.3f})"
    att, lo, _ = strong.estimate("survival_1y", "att")
    assert lo > 0.02, f"{kind} at factor 0.3: ATT {att:.3f}, interval low {lo:.3f}"


def test_a_hazard_multiplier_matches_the_closed_form() -> None:
    """The policy halves the programme's failure (0.3 a year; graduation to exit 0.5 a year) for its tenants.

    Switched off, the same tenants stay in the programme with failure 0.3: P(failed by t) is
    0.3 / 0.8 (1 - exp(-0.8 t)) untreated and 0.15 / 0.65 (1 - exp(-0.65 t)) treated. Quality does not act on
    failure here and screening is a lottery, so about half of the ~2,000 arrivals a year are tenants; the
    paired interval's half-width is near 0.01 (see test_decompose's closed-form test).
    """
    sc = programme_world(multiplier=0.5, rate=2000.0, screening={"threshold": 0.0, "noise_sd": 1e6})
    d = decompose(sc, "hazard_multiplier_0", reps=5, seed=1)
    lam, grad, m = 0.3, 0.5, 0.5
    for outcome, t in (("survival_1y", 1.0), ("survival_3y", 3.0)):
        untreated = lam / (lam + grad) * (1 - np.exp(-(lam + grad) * t))
        treated = lam * m / (lam * m + grad) * (1 - np.exp(-(lam * m + grad) * t))
        att, lo, hi = d.estimate(outcome, "att")
        assert lo <= untreated - treated <= hi, (
            f"{outcome}: ATT {att:.4f} [{lo:.4f}, {hi:.4f}], exact {untreated - treated:.4f}"
        )


@pytest.mark.parametrize("factor", [1.0, 0.3])
def test_a_performance_subsidy_without_effect_and_with_a_strong_one(factor: float) -> None:
    """city_policies: carriers rated qualified are paid; their tenants are the participants."""
    sc = sim.load_scenario(SCENARIOS / "city_policies.toml")
    i = next(k for k, p in enumerate(sc.policies) if p.type == "performance_subsidy")
    sc = sc.with_changes({f"policies.{i}.failure_factor": factor, f"policies.{i}.graduation_factor": 1.0})
    d = decompose(sc, "performance_subsidy", reps=4, seed=3)
    _check_identity(d)
    assert (_participants(d) > 100).all()
    att, lo, hi = d.estimate("survival_3y", "att")
    if factor == 1.0:
        assert att == 0.0 and lo <= 0.0 <= hi, f"an inert subsidy: ATT {att} [{lo}, {hi}]"
    else:
        assert lo > 0.0, f"a subsidy that cuts tenants' failure to 30 %: ATT {att:.3f}, low {lo:.3f}"


def test_chain_linkage_helps_the_graduates_it_puts_first() -> None:
    """Priority spares linked graduates the wait that sends impatient firms to the risky market."""
    d = decompose(linkage_world(), "link", reps=6, seed=1)
    _check_identity(d)
    assert (_participants(d) > 50).all(), "the accelerator should be full often enough to queue graduates"
    att, lo, _ = d.estimate("survival_1y", "att")
    assert lo > 0.0, f"priority should raise 1-year survival of the linked graduates: ATT {att:.3f}, low {lo:.3f}"


@pytest.mark.parametrize(("threshold", "helps"), [(None, False), (1.5, True)])
def test_a_competition_is_its_fast_track(threshold: float | None, helps: bool) -> None:
    """Winners (quality ~ Normal(1, 0.5)) are fast-tracked into the programme; the market is riskier.

    Without screening everyone gets in anyway: the fast track does nothing (ATT exactly 0) and the winners'
    advantage is all selection. With a strict screen the winners would mostly be turned away to the market.
    """
    screening = None if threshold is None else {"threshold": threshold, "noise_sd": 0.3}
    sc = programme_world(screening=screening, quality_on_failure=0.7, market_fail=1.0, rate=500.0)
    data = sc.to_dict()
    data["policies"] = [{"type": "competition", "name": "contest", "stage": "programme", "winners_per_event": 300,
                         "dates": ["2020-03-01", "2021-03-01", "2022-03-01"]}]  # fmt: skip
    d = decompose(sim.parse_scenario(data), "contest", reps=4, seed=4)
    _check_identity(d)
    assert (_participants(d) == 900).all()
    att, lo, _ = d.estimate("survival_1y", "att")
    if helps:
        assert lo > 0.05, f"the fast track past a strict screen should help: ATT {att:.3f}, low {lo:.3f}"
    else:
        assert att == 0.0, f"a fast track into a stage that takes everyone changed the winners' fate: {att}"
        assert d.estimate("survival_1y", "naive")[1] > 0.05, "better winners should open a naive gap"


CITY = sim.load_scenario(SCENARIOS / "city_policies.toml")


def test_city_policies_has_every_policy_type() -> None:
    missing = set(POLICY_TYPES) - {p.type for p in CITY.policies}
    assert not missing, f"city_policies.toml no longer has {sorted(missing)}: the test below misses them"


@pytest.mark.parametrize(
    "index", range(len(CITY.policies)), ids=[policy_name(p, i) for i, p in enumerate(CITY.policies)]
)
def test_every_policy_is_decomposed_or_refused_in_one_line(index: int) -> None:
    """city_policies has one policy of every type: each decomposes (naive = ATT + selection) or says why not."""
    pol = CITY.policies[index]
    name = policy_name(pol, index)
    problem = programme_error(CITY, name)
    if type(pol) in NOT_A_TREATMENT:
        assert problem is not None and "\n" not in problem and "cannot be decomposed" in problem, problem
        with pytest.raises(ValueError, match="cannot be decomposed"):
            decompose(CITY, name, reps=1)
        return
    assert problem is None, problem
    d = decompose(CITY, name, reps=2, seed=1)
    _check_identity(d)


@pytest.mark.parametrize("kind", ["hazard", "performance", "link"])
def test_recording_whom_a_policy_treats_leaves_the_log_unchanged(kind: str) -> None:
    sc = sim.load_scenario(SCENARIOS / "city_policies.toml")
    types = {"hazard": "hazard_multiplier", "performance": "performance_subsidy", "link": "chain_linkage"}
    i = next(k for k, p in enumerate(sc.policies) if p.type == types[kind])
    plain, traced = simulate(sc, 2, 0), simulate(sc, 2, 0, PolicySwitch(kind, i, off=False))
    for column in ("time", "firm", "code"):
        assert bytes(getattr(plain.log, column)) == bytes(getattr(traced.log, column)), f"recording changed {column}"
    assert traced.extras["programme_reached"] or kind == "link"
