"""Shocks: time-windowed hazard changes by sector, without cost."""

from __future__ import annotations

from .helpers import run, same_log, tutorial, with_policies

SHOCK = {
    "name": "covid",
    "start": "2020-02-01",
    "end": "2021-01-01",
    "failure_factor": 1.0,
    "failure_by_sector": {"manufacturing": 3.0},
}


def _failures(res, sector: str) -> int:  # type: ignore[no-untyped-def]
    firms = res.firms
    return int(((firms["outcome"] == "failed") & (firms["sector"] == sector)).sum())


def test_shock_raises_failures_of_the_named_sector_only() -> None:
    base = tutorial()
    r0 = run(base, seed=1)
    r1 = run(with_policies(base, shocks=[SHOCK]), seed=1)
    m0, m1 = _failures(r0, "manufacturing"), _failures(r1, "manufacturing")
    assert m1 > m0, f"tripling manufacturing's failure hazard did not raise its failures: {m0} -> {m1}"
    assert r1.ledger.empty and "budget.total_yuan" not in r1.summary(), "a shock has no cost"


def test_neutral_shock_and_late_shock_reproduce_the_baseline_log() -> None:
    base = tutorial()
    r0 = run(base, seed=1)
    neutral = {**SHOCK, "failure_by_sector": {"manufacturing": 1.0}}
    late = {**SHOCK, "start": "2040-01-01", "end": "2041-01-01"}
    for shock in (neutral, late):
        assert same_log(r0, run(with_policies(base, shocks=[shock]), seed=1)), f"shock {shock} changed the log"
