"""The city chain (scenarios/city.toml): capacity binds at the accelerators, and the outputs say where it does not.

Paired tests use 20 replications on common random numbers: places added at the bottleneck change the
active firms at the horizon by about +12 firms (sd of the paired difference ~10, measured), so the 95 %
interval sits well clear of zero; places added where nothing binds change nothing at all, so the paired
difference is exactly zero in every replication.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.capacity import never_full, stage_found_full
from sim.cli import main
from sim.policies import policy_name
from sim.stats import paired_difference
from tests.helpers import SCENARIOS

REPS = 20
CITY = SCENARIOS / "city.toml"


def active(sc: sim.Scenario) -> list[int]:
    return [sim.run(sc, seed=0, replication=r).summary()["active_at_horizon"] for r in range(REPS)]


@pytest.fixture(scope="module")
def city() -> sim.Scenario:
    return sim.load_scenario(CITY)


@pytest.fixture(scope="module")
def base_active(city: sim.Scenario) -> list[int]:
    return active(city)


def test_bottleneck_places_raise_active_firms(city: sim.Scenario, base_active: list[int]) -> None:
    more = active(city.with_changes({"stages.accelerator.carriers.capacity": 18}))
    e = paired_difference(base_active, more)
    assert e.ci_low > 0, f"50 % more accelerator places: active firms {e.mean:+.2f} [{e.ci_low:.2f}, {e.ci_high:.2f}]"


def test_upstream_places_where_nothing_binds_change_nothing(city: sim.Scenario, base_active: list[int]) -> None:
    more = active(city.with_changes({"stages.maker_space.carriers.capacity": 45}))
    e = paired_difference(base_active, more)
    assert e.ci_low <= 0 <= e.ci_high, f"maker-space places moved active firms: {e}"
    assert more == base_active, "the maker spaces are never full, so extra places must change no firm at all"


def test_the_chain_shows_waiting_reneging_and_upstream_blocking(city: sim.Scenario) -> None:
    res = sim.run(city, seed=0)
    ev = res.events
    acc = ev[ev.stage == "accelerator"]
    blocks = ev[(ev.event == "block") & (ev.stage == "incubator")]
    assert (acc.event == "wait").sum() > 50, "no waiting list at the bottleneck"
    assert (acc.event == "renege").sum() > 5, "nobody gave up waiting for the accelerator"
    assert len(blocks) > 5, "no incubator graduate was held in its incubator by a full accelerator"
    st = res.summary()
    assert st["stages.accelerator.found_full"] == (acc.event.isin(["wait", "skip"]).sum() + len(blocks))
    assert never_full(city, stage_found_full([res.summary()])) == ["maker_space", "incubator", "industrial_park"]


def test_every_instrument_changes_firm_outcomes() -> None:
    full = sim.load_scenario(SCENARIOS / "city_policies.toml")
    base = sim.load_scenario(CITY)
    assert {p.type for p in full.policies} == {
        "hazard_multiplier", "capacity_change", "arrival_multiplier", "rent_relief", "specialisation",
        "chain_linkage", "gm_matching", "angel_fund", "competition", "construction_subsidy",
        "performance_subsidy", "tax_relief",
    }, "city_policies.toml should hold one of every instrument"  # fmt: skip

    def outcomes(sc: sim.Scenario, rep: int) -> list[tuple[int, int, int]]:
        f = sim.run(sc, seed=0, replication=rep).firms
        return sorted(zip(f["source"].cat.codes, f["source_index"], f["outcome"].cat.codes, strict=True))

    before = [outcomes(base, r) for r in range(2)]
    for i, pol in enumerate(full.policies):
        alone = base.with_changes({"policies": [pol.model_dump(mode="json", exclude_none=True)]})
        after = [outcomes(alone, r) for r in range(2)]
        assert after != before, f"{policy_name(pol, i)} ({pol.type}) changed no firm's outcome in two replications"


NOTICE = "Incubator: never full; capacity instruments cannot change firm outcomes here"


def test_run_and_its_report_print_the_never_full_notice(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["run", str(CITY), "--out", str(tmp_path / "c"), "--report"]) == 0
    out = capsys.readouterr().out
    assert NOTICE in out
    assert "Accelerator: never full" not in out and "incubator:" not in out, "the bottleneck was reported as never full"
    assert NOTICE in (tmp_path / "c" / "report.html").read_text(encoding="utf-8")


def test_compare_prints_the_never_full_notice(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ["compare", str(CITY), str(SCENARIOS / "city_policies.toml"), "--reps", "2", "--no-independent"]
    assert main([*args, "--no-per-instrument", "--out", str(tmp_path / "cmp")]) == 0
    out = capsys.readouterr().out
    assert NOTICE in out and "Accelerator: never full" not in out and "incubator:" not in out
