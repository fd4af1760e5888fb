"""The summary computed straight from the event log equals the one read from the tables, bit for bit.

:meth:`sim.RunResult.summary` (and every experiment, through it) derives the summary from the log's
columns without building the firm table or dating the ledger, and with its own Kaplan-Meier of
scipy's arithmetic; :meth:`sim.RunResult.summary_from_tables` reads the same facts from the firm table
and the dated ledger, with :func:`scipy.stats.ecdf`. The two are compared as JSON text, so a single
differing bit of any float (or a key out of order) fails. Every shipped scenario, three seeds each; the
province (a minute per full run, interpreted) and the reference network on a shortened horizon and one
seed here, at full length and the other seeds under ``slow``. The back tests (``tests/backtest``) hold
both to the stored results.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import sim
from sim.budget import calendar_years
from sim.calendar import date_of_decimal_year
from sim.tables import km_survival, km_survival_fast
from tests.helpers import SCENARIOS

SEEDS = (0, 5, 11)
SHORTER = {"jiangsu": 0.5, "jiangsu_no_support": 0.5, "bench_tandem": 400.0}
"""Horizons (years) of the large scenarios in the quick test, which runs them with the first seed only."""


def _scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIOS.glob("*.toml"))


def _check(scenario: sim.Scenario, seed: int) -> None:
    res = sim.run(scenario, seed=seed, replication=seed)
    fast = json.dumps(res.summary().to_json())
    slow = json.dumps(res.summary_from_tables().to_json())
    if fast != slow:
        a, b = json.loads(fast)["metrics"], json.loads(slow)["metrics"]
        moved = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        pytest.fail(f"{scenario.name} seed {seed}: fast and table summaries differ in {moved[:10]}")


@pytest.mark.parametrize("name", _scenarios())
def test_fast_summary_equals_the_table_summary(name: str) -> None:
    scenario = sim.load_scenario(SCENARIOS / f"{name}.toml")
    if name in SHORTER:
        _check(scenario.with_changes({"calendar.horizon_years": SHORTER[name]}), SEEDS[0])
    else:
        for seed in SEEDS:
            _check(scenario, seed)


def test_with_a_warm_up() -> None:
    # flows and stays count from the warm-up on, survival only firms arriving after it
    for name in ("tutorial", "policy_mix"):
        scenario = sim.load_scenario(SCENARIOS / f"{name}.toml").with_changes({"calendar.warmup_years": 1.5})
        for seed in SEEDS:
            _check(scenario, seed)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHORTER))
def test_large_scenarios_at_full_length_with_every_seed(name: str) -> None:
    scenario = sim.load_scenario(SCENARIOS / f"{name}.toml")
    for seed in SEEDS[1:]:
        _check(scenario, seed)


def test_kaplan_meier_matches_scipy_on_ties_and_edge_cases() -> None:
    rng = np.random.default_rng(3)
    at = (0.5, 1.0, 3.0, 5.0, 10.0)
    cases = [
        (np.round(rng.exponential(2.0, 5000), 1), rng.random(5000) < 0.6),  # many ties, deaths and losses mixed
        (rng.exponential(2.0, 1000), rng.random(1000) < 0.01),  # almost all censored
        (np.array([1.0, 1.0, 2.0]), np.array([True, False, True])),
        (np.array([4.0]), np.array([False])),  # nobody observed: the fall-back branch
        (np.array([0.5, 2.0]), np.array([True, True])),  # nobody censored: scipy's other branch
        (np.empty(0), np.empty(0, dtype=bool)),
    ]
    for durations, observed in cases:
        assert km_survival_fast(durations, observed, at) == km_survival(durations, observed, at), (durations[:5],)


def test_calendar_years_match_the_ledger_dates() -> None:
    # around every year's end (the last half day rounds to 1 January) and across leap years
    edges = [k + np.array([-2e-3, -1.4e-3, -1.3e-3, -1e-9, 0.0, 1e-9]) for k in range(1, 12)]
    times = np.concatenate([np.arange(0, 12, 1 / 365.0), *edges])
    times = times[times >= 0]
    for start in (2019.0, 2020.0, 2020.5):
        expected = [date_of_decimal_year(start + t).year for t in times.tolist()]
        assert calendar_years(start, times).tolist() == expected, f"start {start}"
