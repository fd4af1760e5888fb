"""Paired comparisons: exact zeros for identical scenarios, and the interval narrowing pairing buys."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.executors import process_executor
from sim.experiment.comparison import EFFECT_COLUMNS, NO_VARIATION

from .helpers import SUPPORT_POLICY, TUTORIAL


def test_identical_variant_gives_exactly_zero_on_every_metric(short: sim.Scenario, tmp_path: Path) -> None:
    # A variant that is the same scenario written differently (renamed): same streams, same results.
    twin = short.with_changes({"name": "twin"})
    cmp = sim.compare(short, twin, reps=4, seed=8, out=tmp_path)
    eff = cmp.effects
    assert list(eff.columns) == list(EFFECT_COLUMNS)
    assert len(eff) > 50, "expected every flattened summary metric"
    has_value = eff["n"] > 0
    assert (eff.loc[has_value, "diff_mean"] == 0.0).all(), eff.loc[eff["diff_mean"] != 0.0, "metric"].tolist()
    spread = eff["n"] >= 2  # one pair gives a mean but no interval
    assert (eff.loc[spread, "ci_low"] == 0.0).all() and (eff.loc[spread, "ci_high"] == 0.0).all()
    # survival at 10 years is past the 3-year horizon: no value, and the table says so
    assert eff.set_index("metric").loc["survival.all.10y", "n"] == 0
    on_disk = pd.read_csv(tmp_path / "effects.csv")
    assert list(on_disk["metric"]) == list(eff["metric"])


def test_pairing_narrows_the_interval_of_a_hazard_policy(tutorial_4y: sim.Scenario) -> None:
    variant = tutorial_4y.with_changes({"name": "support", "policies": [SUPPORT_POLICY]})
    with process_executor(2) as ex:
        cmp = sim.compare(tutorial_4y, variant, reps=20, seed=1, executor=ex, independent=True)
    inc = cmp.effect("stages.incubator.failures")
    # The policy cuts the incubator failure hazard by 20%: fewer failures there, and the paired
    # interval is narrow enough to show it.
    assert inc.ci_high < 0, f"incubator failures should fall: {inc.diff_mean} [{inc.ci_low}, {inc.ci_high}]"
    # Without common random numbers the ratio would be about 1 (both intervals estimate the same
    # spread). Over seeds 1..12 with these settings it ranged 2.0-4.1 for incubator failures and
    # 7.2-16.2 for all failures (a ratio of two sample sds from 20 replications varies by roughly
    # +-25%), so 1.5 and 4 leave room for chance while failing if pairing were lost.
    assert inc.pairing_ci_ratio > 1.5, f"pairing narrowed the incubator-failures CI only {inc.pairing_ci_ratio:.2f}x"
    total = cmp.effect("failed")
    assert total.pairing_ci_ratio > 4.0, f"pairing narrowed the failed-firms CI only {total.pairing_ci_ratio:.2f}x"
    # Upstream of the incubator nothing can change: the maker space is identical replication by replication.
    ms = cmp.effect("stages.maker_space.entries")
    assert (ms.diff_mean, ms.ci_low, ms.ci_high) == (0.0, 0.0, 0.0)
    # no variation in the paired differences: no ratio (never inf), and a note that says why
    assert math.isnan(ms.pairing_ci_ratio) and NO_VARIATION in ms.note, (ms.pairing_ci_ratio, ms.note)


def test_compare_without_independent_run(short: sim.Scenario) -> None:
    cmp = sim.compare(short, short.with_changes({"name": "twin"}), reps=2, seed=1)  # independent: off by default
    assert [a.label for a in cmp.experiment.arms] == ["baseline", "variant"]
    assert cmp.effects["pairing_ci_ratio"].isna().all()


@pytest.fixture(scope="module")
def tutorial_4y() -> sim.Scenario:
    return sim.load_scenario(TUTORIAL).with_changes({"calendar.horizon_years": 4})
