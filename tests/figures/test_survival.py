"""Survival: Kaplan-Meier curves agree with the summary, with bands, groups and the BLS reference."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.plot import (
    BLS_SURVIVAL_PERCENT,
    FigureInfo,
    RunPlots,
    bls_reference,
    km_curve,
    km_curves,
    survival_at_figure,
    survival_figure,
    uses_age_clock,
)
from sim.tables import km_survival

from .helpers import bands, by_gid, render


def test_km_curve_agrees_with_the_summary(res: sim.RunResult) -> None:
    f = res.firms[~res.firms["in_warmup"]]
    dur, failed = f["survival_years"].to_numpy(), (f["outcome"] == "failed").to_numpy()
    curve = km_curve(dur, failed)
    want = km_survival(dur, failed, (1.0, 2.0))
    at = [float(curve.loc[curve["time"] <= x, "survival"].iloc[-1]) for x in (1.0, 2.0)]
    assert at == pytest.approx(want), "the step table must give the summary's survival"
    assert (curve["ci_low"].dropna() <= curve["survival"][curve["ci_low"].notna()] + 1e-12).all()
    assert curve.iloc[0].tolist()[:2] == [0.0, 1.0], "curves start at 100% at time 0"


def test_no_failures_gives_a_flat_curve_without_band() -> None:
    curve = km_curve(np.array([1.0, 2.0]), np.array([False, False]))
    assert curve["survival"].tolist() == [1.0, 1.0] and curve["ci_low"].isna().all()


def test_groups_hold_their_firms(res: sim.RunResult) -> None:
    curves = km_curves(res.firms, "ever_in_carrier")
    sizes = curves.groupby("group")["firms"].first().to_dict()
    assert sizes == res.firms["ever_in_carrier"].value_counts().to_dict()


def test_figure_panels_curves_bands_and_reference(res: sim.RunResult, short: sim.Scenario) -> None:
    assert uses_age_clock(short), "the tutorial's market fails firms by age"
    fig = RunPlots(res).survival()
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 3, "by entry stage, by support, and against the BLS curve"
    entry = res.firms["entry_stage"].astype(str).value_counts()
    by_entry = panels[0]
    labels = [t.get_text() for t in by_entry.get_legend().get_texts()]
    assert len(by_entry.get_lines()) == len(entry) == len(labels)
    assert f"Maker space (n = {entry['maker_space']:,})" in labels
    assert len(bands(by_entry)) == len(entry), "each curve has its confidence band"
    assert len(panels[1].get_lines()) == 2 and len(bands(panels[1])) == 2
    (ref,) = by_gid(fig, "reference")
    xmax = res.firms["survival_years"].max()
    shown = [v for a, v in zip(range(1, 11), BLS_SURVIVAL_PERCENT, strict=True) if a <= xmax]
    assert list(ref.get_ydata()) == pytest.approx(shown), "the BLS points up to the horizon"
    assert all(ax.get_xlabel() == "years since arrival" for ax in panels)
    assert panels[0].get_ylabel() == "not failed (%)"
    render(fig)


def test_no_reference_without_an_age_clock(res: sim.RunResult, short: sim.Scenario) -> None:
    stay = short.with_changes({"stages.market.failure_clock": "stay"})
    assert not uses_age_clock(stay)
    fig = survival_figure(res.firms, FigureInfo.from_scenario(stay))
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 2 and not by_gid(fig, "reference")


def test_survival_at_from_statistics(comparison: sim.Comparison) -> None:
    stats = comparison.experiment.stats
    fig = survival_at_figure(stats, by="arm", groups=["baseline", "variant"], reference=bls_reference())
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title(loc="left")]
    assert [ax.get_title(loc="left") for ax in panels] == ["All firms", "Never in a carrier", "Ever in a carrier"]
    for ax in panels:
        assert len(ax.containers) == 2, "one error-bar series per arm"
    base = stats[(stats["arm"] == "baseline") & (stats["metric"] == "survival.all.1y")].iloc[0]
    (line,) = by_gid(fig, "all:baseline")
    assert line.get_ydata()[0] == pytest.approx(100 * base["mean"])
    assert by_gid(fig, "reference"), "the BLS curve sits on the never-in-a-carrier panel"
    render(fig)
