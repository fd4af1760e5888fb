"""Effects that are not significant are marked n.s. in every table and figure; costs are never negative.

Synthetic effects and cost tables with known intervals: one effect clear of 0, one whose interval holds
0, one unchanged (zero-width at 0).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from sim.cli.printing import difference_text, level_text
from sim.experiment.cost_effectiveness import cost_bounds
from sim.plot import FigureInfo, cost_effectiveness_figure, effects_figure
from sim.report.content import _cost_section, _effects_table

from .helpers import by_gid, render, text_of

EFFECTS = pd.DataFrame(
    {
        "metric": ["active_at_horizon", "failed", "exited"],
        "baseline_mean": [100.0, 50.0, 5.0],
        "variant_mean": [120.0, 52.0, 5.0],
        "diff_mean": [20.0, 2.0, 0.0],
        "ci_low": [10.0, -3.0, 0.0],
        "ci_high": [30.0, 7.0, 0.0],
        "n": [10, 10, 10],
        "note": ["", "", ""],
    }
)

COSTS = pd.DataFrame(
    {
        "metric": ["active_at_horizon", "jobs_at_horizon", "listings", "graduations"],
        "cost_per_unit": [50_000.0, 2_000.0, 1.0e6, -4.0e5],
        # the delta interval of a significant effect may reach below 0; an n.s. one is meaningless
        "ci_low": [-5_000.0, 1_500.0, -3.0e6, -9.0e5],
        "ci_high": [105_000.0, 2_500.0, 5.0e6, 1.0e5],
        "spend_diff_mean": [1.0e6, 1.0e6, 1.0e6, 1.0e6],
        "outcome_diff_mean": [20.0, 500.0, 1.0, -2.5],
        "outcome_ci_low": [10.0, 400.0, -1.0, -4.0],
        "outcome_ci_high": [30.0, 600.0, 4.0, -1.0],
        "n": [10, 10, 10, 10],
        "method": ["delta"] * 4,
        "note": ["", "", "outcome difference not significant: ratio and interval unreliable", ""],
    }
)


def test_printed_differences_mark_ns() -> None:
    assert difference_text(20.0, 10.0, 30.0) == "+20 [+10, +30]"
    assert difference_text(2.0, -3.0, 7.0) == "+2 [-3, +7] n.s."
    assert difference_text(0.0, 0.0, 0.0) == "0", "no variation: no interval and no n.s."
    assert difference_text(0.012, -0.004, 0.028, share=True) == "+1.2 pp [-0.4 pp, +2.8 pp] n.s."
    assert level_text(40.0, 40.0, 40.0) == "40", "a zero-width interval is not printed as ± 0"
    assert level_text(0.747, 0.723, 0.771, share=True) == "74.7% ± 2.4 pp"


def cells(html: str) -> dict[str, list[str]]:
    """Table rows of a report fragment: first cell -> the row's cells."""
    rows = [re.findall(r"<td[^>]*>([^<]*)</td>", r) for r in html.split("<tr>")[1:]]
    return {r[0]: r for r in rows if r}


def test_report_tables_mark_ns() -> None:
    rows = cells(_effects_table(EFFECTS, FigureInfo(), headline=False))
    assert "n.s." not in rows["Firms active at the horizon"][4]
    assert rows["Firms failed"][4].endswith("n.s.")
    assert "n.s." not in rows["Firms exited"][4], "an unchanged outcome has no interval to judge"
    costs = cells(_cost_section(COSTS, EFFECTS))
    assert "n.s." in costs["per additional listing"][2] and "no upper bound" in costs["per additional listing"][3]
    for name, row in costs.items():
        assert not re.search(r"[−-]\s?\d", row[2] + row[3]), f"{name}: a negative cost in the report: {row}"
    assert costs["per additional graduation"][2] == "-", "fewer graduations: no cost per additional one"


def test_cost_bounds_never_negative() -> None:
    rows = COSTS.to_dict("records")
    est, low, high, sig = cost_bounds(rows[0])
    assert est == 50_000.0
    assert sig and low == 0.0 and high == 105_000.0, "a significant effect's interval is clipped at 0"
    _, low, high, sig = cost_bounds(rows[2])
    assert not sig and math.isinf(high), "an n.s. effect's cost has no upper bound"
    assert low == pytest.approx(1.0e6 / 4.0), "from the spend over the largest effect the interval allows"
    assert all(math.isnan(v) for v in cost_bounds(rows[3])[:3]), "fewer outcomes: no cost per additional one"


def test_effects_figure_draws_ns_differently() -> None:
    fig = effects_figure(EFFECTS, FigureInfo())
    (clear,) = by_gid(fig, "effect:active_at_horizon")
    (ns,) = by_gid(fig, "effect:failed")
    assert clear.get_linestyle() == "-" and ns.get_linestyle() == "--", "n.s. drawn dashed"
    assert clear.get_color() != ns.get_color(), "n.s. drawn in another colour"
    assert text_of(fig, "effect-text:failed").endswith("n.s.")
    assert not text_of(fig, "effect-text:active_at_horizon").endswith("n.s.")
    render(fig)


def test_cost_figure_units_and_no_negative_costs() -> None:
    fig = cost_effectiveness_figure(COSTS, FigureInfo())
    ax = fig.axes[0]
    assert ax.get_xlim()[0] == 0.0, "the cost axis starts at 0"
    for m in ("active_at_horizon", "jobs_at_horizon", "listings"):
        (line,) = by_gid(fig, f"cost:{m}")
        assert np.min(line.get_xdata()) >= 0.0, f"{m}: a negative cost is drawn"
    assert "per job" in text_of(fig, "cost-text:jobs_at_horizon"), "jobs are priced per job"
    assert "per active firm" in text_of(fig, "cost-text:active_at_horizon")
    assert text_of(fig, "cost-text:listings").startswith("n.s.") and "no upper bound" in text_of(
        fig, "cost-text:listings"
    )
    (ns,) = by_gid(fig, "cost:listings")
    assert ns.get_linestyle() == "--", "n.s. drawn dashed"
    assert not by_gid(fig, "cost:graduations"), "fewer graduations: nothing drawn"
    assert "no upper bound" in text_of(fig, "caption")
    render(fig)
