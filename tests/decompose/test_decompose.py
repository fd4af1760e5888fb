"""sim.decompose: naive gap = treatment on the treated + selection, checked where the answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.decomposition import factual_stays
from sim.engine import Untreated, simulate
from sim.event_log import Ev, SimOutput
from tests.decompose.helpers import programme_world
from tests.helpers import SCENARIOS


def _admissions(out: SimOutput, stage: int) -> list[tuple[int, int, float]]:
    cols = out.log.columns()
    m = (cols["event"] == Ev.ADMIT) & (cols["stage"] == stage)
    f = cols["firm"][m]
    return sorted(zip(out.firm_source[f].tolist(), out.firm_index[f].tolist(), cols["time"][m].tolist(), strict=True))


def test_switch_keeps_admissions_and_changes_the_participants_fate() -> None:
    """The tutorial's incubators queue, screen and block: the same firms still get in at the same times."""
    sc = sim.load_scenario(SCENARIOS / "tutorial.toml")
    fact = sim.run(sc, seed=3)
    j = sc.stage_names.index("incubator")
    switch = Untreated("incubator", factual_stays(fact, "incubator"))
    cf = simulate(sc, 3, 0, switch)
    assert _admissions(cf, j) == _admissions(fact.output, j), "the switch changed who entered the incubator, or when"
    assert cf.extras["untreated_unmatched"] == 0
    cols = cf.log.columns()
    assert not np.any((cols["event"] == Ev.GRADUATE) & (cols["stage"] == j)), "an untreated tenant graduated"
    assert bytes(simulate(sc, 3).log.code) == bytes(fact.output.log.code), "a run without the switch changed"


def test_programme_without_effect_is_all_selection() -> None:
    """The programme stage is the market under another name and admits on quality: ATT 0, naive gap large."""
    sc = programme_world(grad=None, screening={"threshold": 0.5, "noise_sd": 0.3}, quality_on_failure=0.7)
    d = sim.decompose(sc, "programme", reps=6, seed=2)
    for outcome in ("survival_1y", "survival_3y"):
        naive, n_lo, _ = d.estimate(outcome, "naive")
        att, a_lo, a_hi = d.estimate(outcome, "att")
        assert n_lo > 0.05, f"{outcome}: screening on quality should open a clear naive gap, got {naive:.3f}"
        assert a_lo <= 0.0 <= a_hi, f"{outcome}: a programme without effect has ATT {att:.3f} [{a_lo:.3f}, {a_hi:.3f}]"
        sel = d.estimate(outcome, "selection")[0]
        q = d.estimate(outcome, "selection_quality")[0]
        # Quality is all that differs between the groups (same stream, age 0), so the linear projection
        # should carry most of the selection (not all: survival is not linear in quality).
        assert q > 0.6 * sel, f"{outcome}: quality explains {q:.3f} of a selection of {sel:.3f}"


def test_random_admission_gives_naive_equal_to_att() -> None:
    """A lottery (screening noise swamping quality) makes participants and others exchangeable."""
    sc = programme_world(screening={"threshold": 0.0, "noise_sd": 1e6}, multiplier=0.5, quality_on_failure=0.5)
    d = sim.decompose(sc, "programme", reps=6, seed=4)
    for outcome in ("survival_1y", "survival_3y"):
        att = d.estimate(outcome, "att")[0]
        sel, lo, hi = d.estimate(outcome, "selection")
        assert att > 0.05, f"{outcome}: the programme should help, ATT {att:.3f}"
        assert lo <= 0.0 <= hi, f"{outcome}: selection {sel:.3f} [{lo:.3f}, {hi:.3f}] under random admission"


def test_att_matches_the_closed_form() -> None:
    """Exponential hazards: the programme halves failure (rate 0.3) and graduates to exit (rate 0.5).

    Untreated, a participant is a market firm (failure 0.3). P(failed by t) is 1 - exp(-0.3 t) untreated
    and 0.15 / 0.65 (1 - exp(-0.65 t)) treated. ~2,000 participants a replication with a year's follow-up
    put the interval's half-width near 0.015 at 1 year and 0.012 at 3 years (both worlds share each
    firm's arrival, so the paired difference is tight); the interval must hold the analytic value.
    """
    sc = programme_world(multiplier=0.5, rate=2000.0)
    d = sim.decompose(sc, "programme", reps=5, seed=1)
    lam, grad, m = 0.3, 0.5, 0.5
    for outcome, t in (("survival_1y", 1.0), ("survival_3y", 3.0)):
        exact = (1 - np.exp(-lam * t)) - lam * m / (lam * m + grad) * (1 - np.exp(-(lam * m + grad) * t))
        att, lo, hi = d.estimate(outcome, "att")
        assert lo <= exact <= hi, f"{outcome}: ATT {att:.4f} [{lo:.4f}, {hi:.4f}], closed form {exact:.4f}"
        assert abs(att - exact) < 0.02


def test_parts_add_up_and_tables_are_complete() -> None:
    sc = sim.load_scenario(SCENARIOS / "tutorial.toml")
    d = sim.decompose(sc, "incubator", reps=2, seed=1)
    pr = d.per_replication
    parts = pr[["selection_quality", "selection_stream", "selection_age", "selection_other"]].sum(axis=1)
    assert np.allclose(parts, pr["selection"], equal_nan=True)
    assert np.allclose(pr["naive"], pr["att"] + pr["selection"], equal_nan=True)
    assert set(d.firms["replication"]) == {0, 1}
    assert d.firms["participant"].any() and (~d.firms["participant"]).any()
    scored = d.firms[d.firms["applied"]]
    assert scored["screen_score"].notna().all(), "the incubator screens: every applicant has a score"


@pytest.mark.parametrize("programme", ["nowhere", "market"])
def test_bad_programme_is_one_line(programme: str) -> None:
    sc = sim.load_scenario(SCENARIOS / "tutorial.toml")
    with pytest.raises(ValueError, match="programme"):
        sim.decompose(sc, programme, reps=1)


def test_a_policy_programme_without_effect_is_all_selection() -> None:
    """A manager-matching policy with factors 1 still matches (and pays for) the same firms: ATT exactly 0."""
    sc = sim.load_scenario(SCENARIOS / "policy_mix.toml")
    i = next(k for k, p in enumerate(sc.policies) if p.name == "manager_matching")
    inert = sc.with_changes({f"policies.{i}.failure_factor": 1.0, f"policies.{i}.graduation_factor": 1.0})
    d = sim.decompose(inert, "manager_matching", reps=2, seed=5)
    pr = d.per_replication
    assert (pr["n_participants"] > 0).all() and (pr["admitted_in_both"] == 1.0).all()
    assert np.allclose(pr["att"], 0.0, equal_nan=True), "an inert policy has an effect"
    assert np.allclose(pr["naive"], pr["selection"], equal_nan=True)
    real = sim.decompose(sc, "manager_matching", reps=2, seed=5)
    assert real.estimate("survival_3y", "att")[0] > 0, "matching managers (failure x0.9) should help survival"


def test_an_executor_gives_the_same_tables() -> None:
    from sim.executors import process_executor

    sc = sim.load_scenario(SCENARIOS / "tutorial.toml")
    serial = sim.decompose(sc, "incubator", reps=3, seed=2)
    with process_executor(2) as pool:
        parallel = sim.decompose(sc, "incubator", reps=3, seed=2, executor=pool)
    for name in ("table", "per_replication", "firms"):
        pd.testing.assert_frame_equal(getattr(serial, name), getattr(parallel, name))
