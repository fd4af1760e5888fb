"""The province year by year, 2019-2024 (seed 1; the 10-seed table is in docs/jiangsu.md).

Checks the whole path against what the sources give for it, not only the end of 2019 (docs/sources.md C
and F; the derivations are in docs/jiangsu.md, "The yearly path"):

* incubator tenants follow the target path of the incubator intake (> 34,000 at the end of 2019, then
  4.1 % a year to 2023, flat in 2024) and the published > 36,000 (2020) and > 40,000 (2022);
* incubators follow the published counts (848, > 960, > 1,100 at the end of 2019, 2020, 2022) and then
  the stated assumption (+70 a year); national-level ones 201 (2019) and 244 (after the 2021 list), and
  their share of all incubators stays in the 2015-2022 range;
* ratings are relative to the year's cohort: 23.5 % excellent in every round (the national evaluations'
  share), promotions follow the yearly lists and demotions stay rare;
* graduations per tenant-year are stable without the support instruments (only the 2020 shock moves
  them), and the instruments raise them;
* cumulative graduates pass the published > 30,000 at the end of 2020; jobs per incubator tenant are in
  line with the national ~18.
"""

from __future__ import annotations

import pandas as pd
import pytest

import sim
from sim.experiment.metrics import flatten_summary
from tests.calibration.yearly_path import yearly_path
from tests.helpers import SCENARIOS

TARGET_TENANTS = {2019: 34_000, 2020: 35_400, 2021: 36_800, 2022: 38_300, 2023: 39_900, 2024: 39_900}
PUBLISHED_TENANTS = {2020: 36_000, 2022: 40_000}  # lower bounds ("more than"), sources C
PUBLISHED_INCUBATORS = {2019: 848, 2020: 960, 2022: 1_100}  # 2020 and 2022 lower bounds, sources C
NATIONAL_LISTS = (28, 20, 27, 18, 18)  # promotions to national level at the rounds closing 2019..2023

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs() -> dict[str, sim.RunResult]:
    with_support = sim.default_scenario()
    without = sim.load_scenario(SCENARIOS / "jiangsu_no_support.toml")
    return {"with": sim.run(with_support, seed=1), "without": sim.run(without, seed=1)}


@pytest.fixture(scope="module")
def path(runs: dict[str, sim.RunResult]) -> pd.DataFrame:
    return yearly_path(runs["with"]).set_index("year")


def test_tenants_follow_the_target_path_and_the_published_figures(path: pd.DataFrame) -> None:
    # 8 %: year-end tenants vary ~0.5 % between seeds, run 2-4 % above the path with the policy set in
    # force, and the intake was tuned to a few per cent.
    for year, target in TARGET_TENANTS.items():
        got = path.loc[year, "tenants"]
        assert abs(got / target - 1) < 0.08, f"{year}: {got:,} tenants against the target path's {target:,}"
    # "More than" figures: 3 % below them is allowed for rounding in the press and seed noise.
    for year, floor in PUBLISHED_TENANTS.items():
        assert path.loc[year, "tenants"] >= 0.97 * floor, f"{year}: {path.loc[year, 'tenants']:,} tenants"


def test_incubator_counts_follow_the_published_path_then_the_assumption(path: pd.DataFrame) -> None:
    n = path["incubators"]
    # Openings are Poisson (sd ~12 on ~130 a year) and closures binomial: 40 carriers is ~3 sd.
    for year, published in PUBLISHED_INCUBATORS.items():
        assert n[year] >= published - 40, f"{year}: {n[year]} incubators, sources C give {published}"
    assert abs(n[2019] - 848) <= 40 and n[2022] <= 1_100 + 80, f"incubators {n.tolist()}"
    growth = n[2023] - n[2022]
    assert 35 <= growth <= 105, f"2023: +{growth} incubators, the assumption is ~+70 a year"
    national = path["national"]
    assert abs(national[2019] - 201) <= 15 and abs(national[2021] - 244) <= 20, f"national {national.tolist()}"
    share = national / n
    assert share.between(0.20, 0.26).all(), f"national share {share.round(3).tolist()} left the 2015-2022 range"


def test_ratings_are_relative_and_promotions_follow_the_lists(runs: dict[str, sim.RunResult]) -> None:
    ce = runs["with"].carrier_events
    inc = ce[ce["stage"] == "incubator"]
    rated = inc[inc["event"] == "rating"]
    for t, part in rated.groupby("time_years"):
        share = (part["rating"] == "excellent").sum() / len(part)
        # Whole carriers, rounded, of a cohort of 700-1,200; the few carriers with too few tenant-years to
        # be scored count in the cohort here but not in the engine's ranking.
        assert abs(share - 0.235) < 0.01, f"round {t}: {share:.3f} rated excellent, the set share is 0.235"
    promoted = inc[(inc["event"] == "promote") & (inc["level"] == "national")].groupby("time_years").size()
    assert tuple(promoted.tolist()) == NATIONAL_LISTS, f"national promotions by round {promoted.to_dict()}"
    # Two unqualified ratings (2.3 % each year) in one recognition period: a handful at most.
    assert (inc["event"] == "demote").sum() <= 10


def test_graduations_per_tenant_year_are_stable_unless_a_policy_changes_them(runs: dict[str, sim.RunResult]) -> None:
    without = yearly_path(runs["without"]).set_index("year")["graduations_per_tenant_year"]
    with_ = yearly_path(runs["with"]).set_index("year")["graduations_per_tenant_year"]
    calm = without.drop(2020)  # the 2020 shock lowers the graduation hazard by 30 % in February-June
    # 6 %: the rate varies ~1 % between seeds; the tenant path (growing 4 % a year, then flat in 2024)
    # moves tenants' elapsed stays, and with them the success test's hazard, by a few per cent. The
    # drift this guards against was +18 % over the run.
    assert calm.max() / calm.min() - 1 < 0.06, f"without support: {without.round(4).tolist()}"
    assert without[2020] < calm.min(), "the 2020 shock did not lower graduations"
    assert (with_[2021:] > without[2021:]).all(), f"support did not raise graduations: {with_.round(4).tolist()}"


def test_cumulative_graduates_and_jobs_per_tenant(runs: dict[str, sim.RunResult], path: pd.DataFrame) -> None:
    cum = path["cumulative_graduates"]
    assert cum[2019] > 22_000 and cum.is_monotonic_increasing, f"cumulative graduates {cum.tolist()}"
    # sources C: "more than 30,000" at the end of 2020 (the file's 22,000 before 2019 is derived from it).
    assert 30_000 * 0.97 <= cum[2020] <= 30_000 * 1.15, f"end-2020 cumulative graduates {cum[2020]:,}"
    firms = runs["with"].firms
    tenants = firms[(firms["outcome"] == "active") & (firms["outcome_stage"] == "incubator")]
    per_tenant = tenants["jobs_at_horizon"].mean()
    # sources B: ~18 jobs per tenant in China (2014), 20 (2012): within a quarter of 18.
    assert abs(per_tenant / 18 - 1) < 0.25, f"{per_tenant:.1f} jobs per incubator tenant"
    flat = flatten_summary(runs["with"].summary())
    assert flat["carriers.incubator.open"] == path.loc[2024, "incubators"]
