"""Budget figures, tested on small synthetic ledgers (the model has no ledger yet)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.plot import FigureInfo, cost_effectiveness_figure, spend_by_year, spend_figure

from .helpers import by_gid, render, text_of


def ledger() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "time_years": [0.2, 0.7, 1.1, 1.5, 2.9],
            "policy": "subsidies",
            "instrument": ["construction", "performance", "construction", "rent relief", "performance"],
            "recipient": [1, 2, 1, 3, 2],
            "amount_yuan": [500_000.0, 250_000.0, 200_000.0, 100_000.0, 500_000.0],
        }
    )


def test_spend_by_calendar_year_and_instrument() -> None:
    table = spend_by_year(ledger(), start_year=2020.0)
    assert table.groupby("year")["amount_yuan"].sum().to_dict() == {2020: 750_000.0, 2021: 300_000.0, 2022: 500_000.0}
    dated = ledger().assign(date=pd.to_datetime(["2020-03-01", "2020-09-01", "2021-02-01", "2021-07-01", "2022-12-01"]))
    assert spend_by_year(dated).equals(table)


def test_replications_are_averaged() -> None:
    two = pd.concat([ledger().assign(replication=0), ledger().assign(replication=1)])
    assert spend_by_year(two)["amount_yuan"].sum() == pytest.approx(ledger()["amount_yuan"].sum())


def test_spend_figure_bars_and_totals() -> None:
    fig = spend_figure(ledger(), FigureInfo(scenario="synthetic", seed=0, start_year=2020.0))
    ax = fig.axes[0]
    heights = {}
    for instrument in ("construction", "performance", "rent relief"):
        (bars,) = [c for c in ax.containers if c.get_label() == instrument]
        heights[instrument] = sum(p.get_height() for p in bars.patches)
    assert heights["construction"] == pytest.approx(700) and heights["rent relief"] == pytest.approx(100)
    assert ax.get_ylabel() == "spending (thousand yuan)", "the unit follows the largest yearly total"
    assert text_of(fig, "spend-total:2020") == "750"
    assert "seed 0" in text_of(fig, "footer")
    render(fig)


def test_cost_effectiveness_rows_and_an_unbounded_interval() -> None:
    table = pd.DataFrame(
        {
            "metric": ["active_at_horizon", "stages.incubator.graduations"],
            "cost_per_unit": [2.0e6, 3.0e6],
            "ci_low": [1.5e6, 1.0e6],
            "ci_high": [3.0e6, np.inf],
        }
    )
    fig = cost_effectiveness_figure(table)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Firms active at the horizon", "Incubator: graduations"]
    assert text_of(fig, "cost-text:active_at_horizon") == "2 million yuan per active firm  [1.5, 3]"
    assert "no upper bound" in text_of(fig, "cost-text:stages.incubator.graduations")
    (line,) = by_gid(fig, "cost:active_at_horizon")
    assert list(line.get_xdata()) == pytest.approx([1.5, 3.0])
    render(fig)
