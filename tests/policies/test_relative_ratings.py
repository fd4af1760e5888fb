"""Ratings relative to the year's cohort, and promotions by yearly list (sim.scenario.Evaluation, Lifecycle).

A relative evaluation rates a fixed share of the carriers rated each year excellent and unqualified, so
support that raises every carrier's score leaves the shares where they were set; absolute thresholds let
the share rated excellent climb with it. Lists promote a set number of the best carriers a year.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

import sim

from .helpers import run, same_log, with_policies

SUBSIDY = {
    "type": "performance_subsidy",
    "name": "subsidy",
    "qualified_yuan": 1.0,
    "excellent_yuan": 2.0,
    "graduation_factor": 3.0,
    "failure_factor": 0.5,
}


def cohort(evaluation: dict[str, Any], **life: Any) -> dict[str, Any]:
    """120 carriers of 6 places, ~300 tenants, with a life cycle: ratings are noisy, as in the province."""
    return {
        "name": "cohort",
        "calendar": {"start": 2020, "horizon_years": 4.5},
        "stages": {
            "b": {
                "graduation": {"dist": "exponential", "rate": 0.8},
                "failure": {"dist": "exponential", "rate": 0.4},
                "on_graduation": {"exit": 1.0},
                "carriers": {
                    "count": 120,
                    "capacity": 6,
                    "levels": {"municipal": 0.5, "provincial": 0.5},
                    "lifecycle": {"evaluation": evaluation, "recognition_years": 50, **life},
                },
            },
        },
        "arrivals": [{"name": "n", "stage": "b", "rate_per_year": 400}],
    }


def ratings(res: sim.RunResult) -> pd.DataFrame:
    """Rating rows by round: counts of each rating."""
    ce = res.carrier_events
    rows = ce[ce["event"] == "rating"]
    return rows.groupby(["time_years", "rating"]).size().unstack(fill_value=0)


RANK = {"basis": "rank", "excellent_share": 0.25, "unqualified_share": 0.0, "min_tenant_years": 0.5}
SCORE = {"fail_below": -10.0, "excellent_from": 0.5, "min_tenant_years": 0.5}


def test_relative_ratings_rate_the_set_share_of_the_cohort_excellent() -> None:
    table = ratings(run(cohort(RANK), seed=4))
    assert len(table) == 4
    for t, row in table.iterrows():
        # With unqualified_share 0, unqualified carriers are the ones not operating (< 0.5 tenant-years).
        scored = row.get("qualified", 0) + row.get("excellent", 0)
        assert scored > 100, f"round {t}: only {scored} carriers scored"
        want = math.floor(0.25 * scored + 0.5)
        assert row["excellent"] == want, f"round {t}: {row['excellent']} excellent of {scored}, set share gives {want}"


def test_support_raises_the_excellent_share_under_thresholds_but_not_relative_to_the_cohort() -> None:
    """Same random numbers, with and without a subsidy that triples graduations in qualified carriers."""
    shares = {}
    for name, ev in (("score", SCORE), ("rank", RANK)):
        for arm, data in (("without", cohort(ev)), ("with", with_policies(cohort(ev), SUBSIDY))):
            table = ratings(run(data, seed=4)).iloc[1:]  # the subsidy pays from the first round on
            scored = table.get("qualified", 0) + table["excellent"]
            shares[name, arm] = float(table["excellent"].sum() / scored.sum())
    assert shares["score", "with"] > shares["score", "without"] + 0.2, f"thresholds: {shares}"
    assert abs(shares["rank", "with"] - 0.25) < 0.01 and abs(shares["rank", "without"] - 0.25) < 0.01, shares


def test_unqualified_share_is_the_worst_of_the_cohort() -> None:
    ev = dict(RANK, unqualified_share=0.1, min_tenant_years=0.0)
    table = ratings(run(cohort(ev), seed=2))
    for t, row in table.iterrows():
        # Carriers without a tenant-year are unqualified outside the ranking: some number s of the rated
        # carriers were scored, and the shares apply to those s.
        n = int(row.sum())
        fits = [
            s
            for s in range(n - 10, n + 1)
            if row["unqualified"] == n - s + math.floor(0.1 * s + 0.5)
            and row["excellent"] == math.floor(0.25 * s + 0.5)
        ]
        assert fits, f"round {t}: {row.to_dict()} fits no cohort of scored carriers"


def test_promotions_by_list_take_the_set_number_of_the_best_each_year() -> None:
    lists = {"national": 3, "provincial": {"2020": 5, "2022": 0}}
    res = run(cohort(RANK, promotions_per_year=lists), seed=6)
    ce = res.carrier_events
    promo = ce[ce["event"] == "promote"]
    by_round = promo.groupby(["time_years", "level"]).size().unstack(fill_value=0)
    # The round at t = k closes calendar year 2020 + k - 1: provincial lists of 5 for 2020 and 2021, then 0.
    assert by_round["national"].tolist() == [3, 3, 3, 3], by_round
    assert by_round.get("provincial", pd.Series(0, index=by_round.index)).tolist() == [5, 5, 0, 0], by_round
    # First round: every carrier's mean is this round's score, so each promoted carrier is rated at
    # least as well as every candidate of its former level left behind.
    first = ce[ce["time_years"] == 1.0]
    rating = first[first["event"] == "rating"].set_index("carrier")
    order = {"unqualified": 0, "qualified": 1, "excellent": 2}
    up = first[(first["event"] == "promote") & (first["level"] == "national")]["carrier"]
    left = rating[(rating["level"] == "provincial") & ~rating.index.isin(up)]
    worst_up = min(order[rating.loc[c, "rating"]] for c in up)
    assert worst_up >= max(order[r] for r in left["rating"]), "a list passed over a better-rated carrier"
    # Lists replace promotion at renewal: a carrier moves up once a round at most.
    assert not promo.duplicated(["time_years", "carrier"]).any()


def test_lists_and_relative_ratings_are_reproducible_and_change_nothing_unasked() -> None:
    data = cohort(RANK, promotions_per_year={"national": 2})
    a, b = run(data, seed=1), run(data, seed=1)
    assert same_log(a, b) and a.carrier_events.equals(b.carrier_events)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("evaluation.excellent_share", 0.3, "evaluation.excellent_share: not used with basis = 'score'"),
        ("evaluation", {"basis": "rank", "fail_below": -1.0}, "evaluation.fail_below: not used with basis = 'rank'"),
        ("evaluation", {"basis": "rank", "excellent_share": 0.7, "unqualified_share": 0.4}, "more than the whole"),
        ("evaluation", {"basis": "ranked"}, "evaluation.basis"),
        ("promotions_per_year", {"municipal": 3}, "lowest level has no promotions"),
        ("promotions_per_year", {"national": {"20x1": 3}}, "calendar years"),
        ("promotions_per_year", {"national": -1}, "promotions_per_year.national"),
    ],
)
def test_bad_ratings_and_lists_are_refused_in_one_line(path: str, value: Any, message: str) -> None:
    data = cohort(SCORE)
    sim.scenario.set_path(data, f"stages.b.carriers.lifecycle.{path}", value)
    with pytest.raises(sim.ScenarioError) as err:
        sim.parse_scenario(data)
    text = str(err.value)
    assert message in text and "\n" not in text.strip(), text
