"""The page's binding functions, called without a browser: what each view gets and what the buttons give.

Short horizons and few replications: these tests check that the views are the public API's answers
for the two worlds (same random numbers, baseline untouched by a variant lever), not the model.
"""

from __future__ import annotations

import threading

import pytest

import sim
from sim.dashboard.levers import HORIZON, apply_levers, levers_for
from sim.dashboard.views import (
    Cancelled,
    Progress,
    comparison_figures,
    comparisons,
    numbers_table,
    render_world,
    report_html,
    scenario_toml,
    twin_text,
)
from sim.executors import SerialExecutor
from tests.helpers import SCENARIOS

PNG = b"\x89PNG"


@pytest.fixture(scope="module")
def worlds() -> tuple[sim.Scenario, sim.Scenario]:
    sc = sim.load_scenario(SCENARIOS / "covid_rent_relief.toml")
    levers = levers_for(sc)
    base = apply_levers(sc, levers, {HORIZON: 4.0, "policies.0.on": False})
    variant = apply_levers(sc, levers, {HORIZON: 4.0}, name="with_relief")
    return base, variant


def test_render_world_is_replication_0_of_sim_run(worlds: tuple[sim.Scenario, sim.Scenario]) -> None:
    base, _ = worlds
    view = render_world(base.to_toml(), 3, "en", "baseline", ("flow", "spend"))
    assert set(view.figures) == {"flow"}, "no spend figure for a world without policies"
    assert view.figures["flow"].startswith(PNG)
    summary = sim.run(base, seed=3).summary()
    assert view.numbers["active_at_horizon"] == summary["active_at_horizon"]
    assert view.numbers["failed"] == summary["failed"]


def test_same_scenario_under_another_name_gives_the_same_numbers(worlds: tuple[sim.Scenario, sim.Scenario]) -> None:
    base, _ = worlds
    renamed = base.model_copy(update={"name": "renamed"})
    a = render_world(base.to_toml(), 0, "en", "baseline", ())
    b = render_world(renamed.to_toml(), 0, "en", "variant", ())
    assert a.numbers == b.numbers, "the variant's name must not change its random numbers"


def test_numbers_table_one_replication_then_paired(worlds: tuple[sim.Scenario, sim.Scenario]) -> None:
    base, variant = worlds
    a = render_world(base.to_toml(), 0, "en", "baseline", ())
    b = render_world(variant.to_toml(), 0, "zh", "variant", ())
    table = numbers_table(a, b, "en")
    assert list(table.columns) == ["measure", "Baseline", "Variant (your levers)", "difference", "95% interval"]
    assert set(table["95% interval"]) == {"-"}, "one replication has no interval"
    assert "spend, yuan" in set(table["measure"]), "the variant spends on rent relief"
    cmp = sim.compare(base, variant, reps=3, independent=False, per_instrument=False, progress=False)
    paired = numbers_table(a, b, "zh", cmp.effects)
    assert next(iter(paired.columns)) == "指标"
    assert any(str(x).startswith("[") for x in paired["95% 区间"]), paired


def test_comparisons_grow_and_count_and_cancel(worlds: tuple[sim.Scenario, sim.Scenario]) -> None:
    base, variant = worlds
    progress = Progress()
    sizes = [c.experiment.reps for c in comparisons(base, variant, 6, 0, SerialExecutor(), progress=progress)]
    assert sizes == [5, 6]
    assert progress.done == progress.total == 2 * (5 + 6)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        next(comparisons(base, variant, 4, 0, SerialExecutor(), cancelled=stop))


def test_comparison_figures(worlds: tuple[sim.Scenario, sim.Scenario]) -> None:
    base, variant = worlds
    cmp = sim.compare(base, variant, reps=2, independent=False, per_instrument=False, progress=False)
    figs = comparison_figures(cmp, base, "zh")
    assert set(figs) == {"effects", "occupancy_difference", "cost"}
    assert all(v.startswith(PNG) for v in figs.values())


def test_twin_answers_a_markov_chain_and_says_why_not_otherwise(worlds: tuple[sim.Scenario, sim.Scenario]) -> None:
    base, variant = worlds
    line = twin_text(base, variant, "en")
    assert line.startswith("The closed-form twin cannot answer: stages.") and "\n" not in line, line
    exp = sim.load_scenario(SCENARIOS / "textbook_exponential.toml")
    table = twin_text(exp, exp, "en")
    assert table.startswith("Expected values, exact") and "| firms in" in table, table


def test_downloads(worlds: tuple[sim.Scenario, sim.Scenario], tmp_path: object) -> None:
    base, variant = worlds
    html = report_html(base, variant, 2, 0).decode("utf-8")
    assert "incuchain comparison: with_relief vs" in html and "data:image/png;base64," in html
    text = scenario_toml(variant)
    assert sim.parse_scenario(__import__("tomllib").loads(text)) == variant


def test_comparisons_use_every_worker_of_the_pool_they_are_given() -> None:
    # the counting wrapper runs as many tasks at once as the pool it wraps (batches on every worker)
    from sim.dashboard.views import _CountingExecutor
    from sim.executors import parallelism, process_executor

    pool = process_executor(3)
    try:
        wrapped = _CountingExecutor(pool, Progress().tick, threading.Event())
        assert parallelism(wrapped) == 3
        assert parallelism(_CountingExecutor(SerialExecutor(), Progress().tick, threading.Event())) == 1
    finally:
        pool.shutdown()
