"""Forest plot of paired effects: one row per outcome, the numbers of the effects table."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import sim
from sim.plot import effects_figure, headline_metrics, metric_label

from .helpers import by_gid, gids, render, text_of


def test_one_row_per_changed_headline_outcome(comparison: sim.Comparison) -> None:
    eff = comparison.effects
    fig = effects_figure(eff)
    rows = headline_metrics(list(eff["metric"]))
    changed = [
        m
        for m in rows
        if not (eff.set_index("metric").loc[m, ["diff_mean", "ci_low", "ci_high"]] == 0).all()
        and not math.isnan(eff.set_index("metric").loc[m, "diff_mean"])
    ]
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [metric_label(m) for m in changed]
    assert len(gids(fig, "effect-mean:")) == len(changed)
    row = eff.set_index("metric").loc["stages.incubator.failures"]
    (mean,) = by_gid(fig, "effect-mean:stages.incubator.failures")
    assert mean.get_xdata()[0] == pytest.approx(100 * row["diff_mean"] / row["baseline_mean"])
    text = text_of(fig, "effect-text:stages.incubator.failures")
    assert text.startswith(f"{row['diff_mean']:+.1f}".replace("-", "\u2212")), text
    assert ax.get_xlabel() == "change against the baseline mean (%)"
    render(fig)


def synthetic() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "metric": ["failed", "exited", "survival.all.1y"],
            "baseline_mean": [100.0, 10.0, 0.5],
            "variant_mean": [90.0, 11.0, 0.55],
            "diff_mean": [-10.0, 1.0, 0.05],
            "ci_low": [-14.0, -1.0, 0.01],
            "ci_high": [-6.0, 3.0, 0.09],
            "n": [10, 10, 10],
        }
    )


def test_filled_markers_mark_intervals_that_exclude_zero() -> None:
    fig = effects_figure(synthetic(), metrics=["failed", "exited", "survival.all.1y"])
    fill = {
        k.split(":", 1)[1]: v[0].get_markerfacecolor()
        for k, v in ((g, by_gid(fig, g)) for g in gids(fig, "effect-mean:"))
    }
    assert fill["failed"] == "black" and fill["exited"] == "white"
    (line,) = by_gid(fig, "effect:failed")
    assert list(line.get_xdata()) == pytest.approx([-14.0, -6.0]), "per cent of the baseline mean"
    assert text_of(fig, "effect-text:survival.all.1y") == "+5.0 pp  [+1.0 pp, +9.0 pp]"
    assert text_of(fig, "effect-base:survival.all.1y") == "50.0%"


def test_unchanged_outcomes_are_counted_in_the_caption() -> None:
    eff = synthetic()
    eff.loc[1, ["diff_mean", "ci_low", "ci_high"]] = 0.0
    fig = effects_figure(eff, metrics=list(eff["metric"]))
    assert "effect-mean:exited" not in gids(fig, "effect-mean:")
    assert "Not shown: 1 outcomes" in text_of(fig, "caption")
