"""Figures of the uncertainty analyses: tornado, Morris mu*-sigma, Sobol bars, CE plane, CEAC, calibration fit.

Each takes the table the analysis writes (``sensitivity.csv``, ``draws.csv``, ``ceac.csv``, ``fit.csv``;
see :mod:`sim.uncertainty`) and returns a :class:`matplotlib.figure.Figure`, one panel per metric.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .style import OKABE_ITO, TEXT_GREY, FigureInfo, finish_figure, new_figure, no_data, style_context, thousands

__all__ = [
    "calibration_figure",
    "ce_plane_figure",
    "ceac_figure",
    "morris_figure",
    "sobol_figure",
    "tornado_figure",
    "uncertainty_metric_label",
]

_PALETTE = list(OKABE_ITO.values())[1:]
"""Okabe-Ito colours without black."""
_LOW, _HIGH = OKABE_ITO["orange"], OKABE_ITO["blue"]


def uncertainty_metric_label(metric: str) -> str:
    """``cost_per.active_at_horizon`` -> ``yuan per additional active firm at the horizon``."""
    nice = {
        "active_at_horizon": "active firms at the horizon",
        "surviving_firms_3y": "firms surviving 3 years",
        "surviving_firms_5y": "firms surviving 5 years",
        "jobs_at_horizon": "jobs at the horizon",
        "budget.total_yuan": "spend (yuan)",
        "graduations": "graduations",
    }
    if metric.startswith("cost_per."):
        base = metric.removeprefix("cost_per.")
        return f"yuan per additional {nice.get(base, base).replace('firms', 'firm').replace('jobs', 'job')}"
    if metric.startswith("effect."):
        base = metric.removeprefix("effect.")
        return f"change in {nice.get(base, base)}"
    return nice.get(metric, metric)


def _panels(n: int, width: float, height_each: float) -> tuple[Figure, list[Axes]]:
    fig = new_figure(width, 0.9 + height_each * max(n, 1))
    axes = fig.subplots(max(n, 1), 1, squeeze=False)[:, 0]
    return fig, list(axes)


def tornado_figure(indices: pd.DataFrame, info: FigureInfo, top: int = 12) -> Figure:
    """One-way sensitivity: per metric, a bar per parameter from the metric at its low to its high end."""
    metrics = list(dict.fromkeys(indices["metric"]))
    with style_context():
        rows = [indices[indices["metric"] == m].head(top) for m in metrics]
        height = max(1.6, 0.32 * max((len(r) for r in rows), default=1) + 0.8)
        fig, axes = _panels(len(metrics), 8.0, height)
        for ax, metric, part in zip(axes, metrics, rows, strict=False):
            part = part.iloc[::-1]
            base = float(part["metric_default"].iloc[0]) if len(part) else math.nan
            y = np.arange(len(part))
            lo = part["metric_low"].to_numpy(dtype=float)
            hi = part["metric_high"].to_numpy(dtype=float)
            label = uncertainty_metric_label(metric)
            if np.nanmax(np.abs(np.r_[lo, hi, base])) >= 1e6:  # yuan: read in millions
                lo, hi, base = lo / 1e6, hi / 1e6, base / 1e6
                label = f"{label} (million)" if "yuan" not in label else label.replace("yuan", "million yuan", 1)
            ax.barh(y, lo - base, left=base, color=_LOW, label="parameter at its low end")
            ax.barh(y, hi - base, left=base, color=_HIGH, hatch="//", label="at its high end")
            labels = [
                f"{p}  [{_short(a)}, {_short(b)}]"
                for p, a, b in zip(part["parameter"], part["low"], part["high"], strict=True)
            ]
            ax.set_yticks(y, labels, fontsize=7)
            ax.axvline(base, color=TEXT_GREY, lw=0.8)
            ax.set_xlabel(label)
            thousands(ax.xaxis)
            ax.legend(loc="best", fontsize=7)
        return finish_figure(
            fig,
            "Which assumptions matter: one-way sensitivity (tornado)",
            info,
            "Each bar: the metric with one parameter at the low or high end of its declared range, every other "
            "parameter as in the scenario (vertical line). Longest bars first.",
        )


def _short(x: object) -> str:
    if isinstance(x, float):
        return f"{x:.3g}" if abs(x) < 1e4 else f"{x:,.0f}"
    return str(x)


def morris_figure(indices: pd.DataFrame, info: FigureInfo) -> Figure:
    """Morris screening: per metric, ``sigma`` against ``mu_star`` with ``mu_star``'s bootstrap interval."""
    metrics = list(dict.fromkeys(indices["metric"]))
    with style_context():
        fig = new_figure(4.2 * min(len(metrics), 2), 0.9 + 3.6 * math.ceil(len(metrics) / 2))
        axes = fig.subplots(math.ceil(len(metrics) / 2), min(len(metrics), 2), squeeze=False).ravel()
        for ax, metric in zip(axes, metrics, strict=False):
            part = indices[indices["metric"] == metric]
            if "mu_star" not in part or part["mu_star"].isna().all():
                no_data(ax, "not analysed (see note)")
                continue
            ax.errorbar(
                part["mu_star"], part["sigma"], xerr=part["mu_star_conf"], fmt="o", color=OKABE_ITO["blue"], ms=4
            )
            for _, r in part.iterrows():
                ax.annotate(
                    ".".join(str(r["parameter"]).split(".")[-2:]),
                    (r["mu_star"], r["sigma"]),
                    fontsize=6,
                    xytext=(3, 3),
                    textcoords="offset points",
                )
            top = float(np.nanmax(np.r_[part["mu_star"], part["sigma"], 1e-12]))
            ax.plot([0, top], [0, top], color=TEXT_GREY, lw=0.6, ls=":")
            ax.set_xlabel("mu* (mean |elementary effect|)")
            ax.xaxis.set_major_locator(MaxNLocator(5))
            ax.set_ylabel("sigma")
            ax.set_title(uncertainty_metric_label(metric), loc="left", fontsize=9)
        for ax in axes[len(metrics) :]:
            ax.set_visible(False)
        return finish_figure(
            fig,
            "Morris screening: influence (mu*) and non-linearity or interaction (sigma)",
            info,
            "Right: influential. Above the dotted line: effects that change across the design (interactions or "
            "curvature). Bars: bootstrap interval of mu*. Units: the metric's, per full range of the parameter.",
        )


def sobol_figure(indices: pd.DataFrame, info: FigureInfo) -> Figure:
    """Sobol indices: per metric, first-order and total indices per parameter with bootstrap intervals."""
    metrics = list(dict.fromkeys(indices["metric"]))
    with style_context():
        k = indices["parameter"].nunique()
        fig, axes = _panels(len(metrics), 8.0, max(1.8, 0.36 * k + 0.8))
        for ax, metric in zip(axes, metrics, strict=False):
            part = indices[indices["metric"] == metric]
            if "S1" not in part or part["S1"].isna().all():
                no_data(ax, "not analysed (see note)")
                continue
            y = np.arange(len(part))
            ax.barh(
                y + 0.2, part["S1"], height=0.38, xerr=part["S1_conf"], color=OKABE_ITO["blue"], label="first order S1"
            )
            ax.barh(
                y - 0.2,
                part["ST"],
                height=0.38,
                xerr=part["ST_conf"],
                color=OKABE_ITO["vermillion"],
                hatch="//",
                label="total ST",
            )
            ax.set_yticks(y, list(part["parameter"]), fontsize=7)
            ax.axvline(0, color=TEXT_GREY, lw=0.6)
            ax.set_xlabel(f"share of the variance of {uncertainty_metric_label(metric)}")
            ax.legend(loc="best", fontsize=7)
        return finish_figure(
            fig,
            "Sobol indices: share of the metric's variance due to each parameter",
            info,
            "S1: alone; ST: with its interactions. Bars: bootstrap intervals (small designs give wide ones, and "
            "estimates slightly below 0 are noise around 0).",
        )


def ce_plane_figure(draws: pd.DataFrame, outcomes: Sequence[str], info: FigureInfo, wtp: float | None = None) -> Figure:
    """Cost-effectiveness plane: per outcome, extra spend against extra outcome, one point per draw."""
    with style_context():
        n = len(outcomes)
        fig = new_figure(4.0 * min(n, 3), 0.9 + 3.3 * math.ceil(n / 3))
        axes = fig.subplots(math.ceil(n / 3), min(n, 3), squeeze=False).ravel()
        dc = draws["effect.budget.total_yuan"].to_numpy(dtype=float) / 1e6
        for ax, outcome in zip(axes, outcomes, strict=False):
            dy = draws[f"effect.{outcome}"].to_numpy(dtype=float)
            ax.scatter(dy, dc, s=12, color=OKABE_ITO["blue"], alpha=0.8)
            ax.scatter(
                [np.nanmean(dy)], [np.nanmean(dc)], s=40, marker="D", color=OKABE_ITO["vermillion"], label="mean"
            )
            ax.axhline(0, color=TEXT_GREY, lw=0.6)
            ax.axvline(0, color=TEXT_GREY, lw=0.6)
            if wtp is not None:
                xs = np.array([min(0.0, float(np.nanmin(dy))), max(0.0, float(np.nanmax(dy)))])
                ax.plot(
                    xs,
                    xs * wtp / 1e6,
                    color=OKABE_ITO["bluish_green"],
                    ls="--",
                    lw=0.9,
                    label=f"{wtp / 1e6:g} M yuan per unit",
                )
            ax.set_xlabel(f"change in {uncertainty_metric_label(outcome)}")
            ax.set_ylabel("extra spend (million yuan)")
            ax.legend(fontsize=7, loc="best")
        for ax in axes[n:]:
            ax.set_visible(False)
        return finish_figure(
            fig,
            "Cost-effectiveness plane: the policy's extra outcome and extra spend, per parameter draw",
            info,
            "Each point: one draw of the uncertain parameters, baseline and variant on the same random numbers. "
            "Below the dashed line: cheaper than the willingness to pay per additional unit.",
        )


def ceac_figure(ceac: pd.DataFrame, outcomes: Sequence[str], info: FigureInfo) -> Figure:
    """Cost-effectiveness acceptability curves: probability the policy is worth it against willingness to pay."""
    with style_context():
        fig = new_figure(8.0, 4.2)
        ax = fig.subplots()
        for i, outcome in enumerate(outcomes):
            part = ceac[ceac["outcome"] == outcome]
            ax.plot(
                part["wtp_yuan"] / 1e6,
                part["probability"],
                color=_PALETTE[i % len(_PALETTE)],
                ls=["-", "--", ":", "-."][i % 4],
                label=uncertainty_metric_label(outcome),
            )
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("willingness to pay (million yuan per additional unit)")
        ax.set_ylabel("probability the policy is worth it")
        ax.legend(fontsize=7, loc="lower right")
        return finish_figure(
            fig,
            "Cost-effectiveness acceptability: share of parameter draws where the policy pays for itself",
            info,
            "At each willingness to pay w: the share of draws with w x (extra outcome) > extra spend. Each outcome on "
            "its own scale of w (see ceac.csv).",
        )


def calibration_figure(fit: pd.DataFrame, info: FigureInfo) -> Figure:
    """Observed against simulated, per target, as a share of the observed value (fitted and held-out rows)."""
    with style_context():
        fig = new_figure(8.0, 0.9 + 0.34 * len(fit) + 0.8)
        ax = fig.subplots()
        y = np.arange(len(fit))[::-1]
        obs = fit["observed"].to_numpy(dtype=float)
        scale = np.where(obs != 0, np.abs(obs), 1.0)
        rel = (fit["simulated_mean"].to_numpy(dtype=float) - obs) / scale * 100
        lo = (fit["ci_low"].to_numpy(dtype=float) - obs) / scale * 100
        hi = (fit["ci_high"].to_numpy(dtype=float) - obs) / scale * 100
        allowed = fit["allowed"].to_numpy(dtype=float) / scale * 100
        hold = (fit["role"] == "holdout").to_numpy()
        for mask, colour, marker, label in (
            (~hold, OKABE_ITO["blue"], "o", "fitted"),
            (hold, OKABE_ITO["vermillion"], "s", "held out"),
        ):
            if mask.any():
                err = np.vstack([rel[mask] - lo[mask], hi[mask] - rel[mask]])
                ax.errorbar(rel[mask], y[mask], xerr=np.nan_to_num(err), fmt=marker, color=colour, ms=4, label=label)
        ax.barh(y, 2 * allowed, left=-allowed, color=TEXT_GREY, alpha=0.15, label="tolerance")
        ax.axvline(0, color=TEXT_GREY, lw=0.8)
        ax.set_yticks(y, list(fit["target"]), fontsize=7)
        ax.set_xlabel("simulated - observed (% of observed)")
        ax.legend(fontsize=7, loc="best")
        return finish_figure(
            fig,
            "Calibration: simulated against observed, per target",
            info,
            "Points: simulated mean at the fitted values with its confidence interval; grey band: the target's "
            "tolerance (or 2 standard errors). Squares: targets held out of the fit.",
        )
