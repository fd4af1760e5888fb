"""Outcomes under common random numbers: same seed, same outcomes; a policy leaves untouched firms' alone."""

from __future__ import annotations

from typing import Any

import pandas as pd

import sim
from tests.helpers import SCENARIOS

OUTCOME_COLUMNS = [
    "n_graduations",
    "milestone",
    "milestone_time",
    "milestone_stage",
    "listed",
    "listing_risk_from",
    "listing_time",
    "listing_market",
    "jobs",
    "jobs_at_horizon",
]
MILESTONES = {
    "maker_space": {"high_tech": 0.2, "revenue": 0.8},
    "incubator": {"high_tech": 0.5, "financing": 0.2, "revenue": 0.3},
    "accelerator": {"revenue": 1.0},
}


def tutorial(**changes: Any) -> sim.Scenario:
    """The tutorial with success tests at every graduation stage and a listing rate high enough to see."""
    return sim.load_scenario(SCENARIOS / "tutorial.toml").with_changes(
        {"outcomes.milestones": MILESTONES, "outcomes.listing.rate_per_year": 0.2, **changes}
    )


def test_same_seed_same_outcomes() -> None:
    sc = tutorial()
    a, b = sim.run(sc, seed=4), sim.run(sc, seed=4)
    pd.testing.assert_frame_equal(a.firms[OUTCOME_COLUMNS], b.firms[OUTCOME_COLUMNS])
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    assert a.summary() == b.summary()
    other = sim.run(sc, seed=5)
    assert not a.firms[OUTCOME_COLUMNS].equals(other.firms[OUTCOME_COLUMNS]), "another seed gave the same outcomes"


def _histories(res: sim.RunResult) -> pd.Series:
    """Each firm's whole event history as one string, indexed by (source, source_index)."""
    ev = res.events
    parts = (ev["time"].map("{:.12g}".format), ev["event"].cat.codes, ev["stage"].cat.codes, ev["info"])
    text = parts[0] + " " + parts[1].astype(str) + " " + parts[2].astype(str) + " " + parts[3].astype(str)
    hist = text.groupby(ev["firm"]).agg("|".join)
    key = res.firms.set_index("firm")[["source", "source_index"]]
    return pd.Series(hist.to_numpy(), index=pd.MultiIndex.from_frame(key.loc[hist.index].astype(str)))


def test_policy_leaves_untouched_firms_outcomes_unchanged() -> None:
    """Doubling accelerator graduation changes some firms' histories; every firm whose event history is the
    same in both runs has the same milestones, listing and jobs (its draws are keyed by the firm)."""
    base = sim.run(tutorial(), seed=6)
    policy = {"type": "hazard_multiplier", "hazard": "graduation", "factor": 2.0, "target": {"stages": ["accelerator"]}}
    variant = sim.run(tutorial(policies=[policy]), seed=6)
    h0, h1 = _histories(base), _histories(variant)
    common = h0.index.intersection(h1.index)
    same = common[(h0[common] == h1[common]).to_numpy()]
    assert len(same) < len(common), "the policy touched no firm: the test would prove nothing"

    def outcomes(res: sim.RunResult) -> pd.DataFrame:
        f = res.firms.copy()
        f.index = pd.MultiIndex.from_frame(f[["source", "source_index"]].astype(str))
        return f.loc[same, OUTCOME_COLUMNS]

    o0, o1 = outcomes(base), outcomes(variant)
    assert (o0["milestone"].notna()).sum() > 100, "too few untouched firms with a milestone"
    assert o0["listed"].sum() > 10, "too few untouched listed firms"
    pd.testing.assert_frame_equal(o0, o1)
