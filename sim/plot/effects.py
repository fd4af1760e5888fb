"""Policy effects: a forest plot of paired effects with their confidence intervals, one row per outcome.

Outcomes have different units (firms, years, shares), so the common axis is the change relative to
the baseline mean, in per cent; the absolute effect, with its interval and unit, is written beside
each row. The input is the effects table of :func:`sim.compare` (``effects.csv``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..metric_names import metric_label, metric_unit, unit_label
from .style import TEXT_GREY, FigureInfo, finish_figure, new_figure, no_data, style_context

__all__ = ["HEADLINE_METRICS", "effects_figure", "headline_metrics", "metric_label", "metric_unit"]

HEADLINE_METRICS: tuple[str, ...] = ("active_at_horizon", "failed", "exited")
"""System-wide outcomes shown first."""

_STAGE_HEADLINE = ("entries", "graduations", "failures", "timeouts")


def headline_metrics(metrics: Sequence[str]) -> list[str]:
    """The outcomes a reader looks at first, in a stable order: system-wide outcomes, survival of all
    firms, then entries, graduations, failures and time-outs of each stage."""
    present = list(metrics)
    out = [m for m in HEADLINE_METRICS if m in present]
    out += [m for m in present if re.match(r"^survival\.all\.[0-9.]+y$", m)]
    stages = list(dict.fromkeys(m.split(".")[1] for m in present if m.startswith("stages.") and m.count(".") == 2))
    for s in stages:
        out += [f"stages.{s}.{k}" for k in _STAGE_HEADLINE if f"stages.{s}.{k}" in present]
    return out


def _num(x: float, unit: str, sign: bool = True, info: FigureInfo | None = None, bound: bool = False) -> str:
    """A number for a label: signed (a difference) or not (a level); shares as percentages.

    ``bound``: the number is an end of an interval. Chinese names the unit of a difference in shares
    (个百分点, which is long) once, after the estimate, and not again on the interval's ends.
    """
    info = info or FigureInfo()
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return info.t("no bound")
    plus = "+" if sign else ""
    if unit == "share":
        pp = "" if bound and info.lang == "zh" else info.t(" pp")
        text = (f"{100 * x:{plus}.1f}{pp}" if x else f"0{pp}") if sign else f"{100 * x:.1f}%"
    else:
        ax = abs(x)
        text = f"{x:{plus},.0f}" if ax >= 100 else f"{x:{plus}.1f}" if ax >= 1 else f"{x:{plus}.2f}" if ax else "0"
    return text.replace("-", "\u2212")  # a true minus sign


def _group(metric: str) -> str:
    """Rows of one group are drawn together: system-wide, survival, then one group per stage."""
    if metric.startswith("survival."):
        return "survival"
    if metric.startswith("stages."):
        return metric.split(".")[1]
    return "overall"


def effects_figure(
    effects: pd.DataFrame,
    info: FigureInfo | None = None,
    *,
    metrics: Sequence[str] | None = None,
    drop_zero: bool = True,
    title: str = "Effect of the variant against the baseline",
    level: float = 0.95,
) -> Figure:
    """Forest plot of paired effects: one row per outcome, relative to the baseline mean.

    Parameters
    ----------
    effects:
        :attr:`sim.Comparison.effects` (``metric``, ``baseline_mean``, ``variant_mean``, ``diff_mean``,
        ``ci_low``, ``ci_high``, ``n``, ...).
    info:
        Footer and stage names.
    metrics:
        Outcomes to show, in order (default: :func:`headline_metrics`).
    drop_zero:
        Leave out outcomes the variant did not change in any replication (a zero-width interval at
        0), and say how many in the caption.
    title:
        The figure's title.
    level:
        Confidence level of the intervals in ``effects`` (for the caption).

    Returns
    -------
    matplotlib.figure.Figure
        One row per outcome: a marker at the mean (filled when the interval excludes 0) and the
        interval as a line (``gid`` ``effect:<metric>``), with its absolute effect as text
        (``gid`` ``effect-text:<metric>``).
    """
    info = info or FigureInfo()
    eff = effects.set_index("metric", drop=False)
    chosen = list(metrics) if metrics is not None else headline_metrics(list(effects["metric"].astype(str)))
    chosen = [m for m in chosen if m in eff.index and not math.isnan(float(eff.loc[m, "diff_mean"]))]
    zero = [m for m in chosen if _unchanged(eff.loc[m])]
    rows = [m for m in chosen if not (drop_zero and m in zero)]
    height = 1.6 + 0.3 * max(len(rows), 2)
    with style_context():
        fig = new_figure(10.5, height)
        ax = fig.add_subplot()
        if not rows:
            no_data(ax, info.t("the variant changed none of these outcomes"))
            return finish_figure(fig, title, info)
        y = np.arange(len(rows))[::-1].astype(float)
        xs_all: list[float] = []
        for yi, m in zip(y, rows, strict=True):
            r = eff.loc[m]
            base = float(r["baseline_mean"])
            unit = metric_unit(m)
            d, lo, hi = float(r["diff_mean"]), float(r["ci_low"]), float(r["ci_high"])
            excludes_zero = math.isfinite(lo) and (lo > 0 or hi < 0)
            ns = math.isfinite(lo) and not excludes_zero and not (lo == hi == d)
            colour = TEXT_GREY if ns else "black"
            if base != 0 and math.isfinite(base):
                rel = 100 * np.array([d, lo, hi]) / abs(base)
                if np.isfinite(rel[1:]).all():
                    ax.plot(
                        rel[1:],
                        [yi, yi],
                        color=colour,
                        linewidth=1.6,
                        linestyle="--" if ns else "-",
                        solid_capstyle="butt",
                        gid=f"effect:{m}",
                    )
                    xs_all += [float(rel[1]), float(rel[2])]
                ax.plot(
                    [rel[0]],
                    [yi],
                    marker="o",
                    markersize=6.5,
                    color=colour,
                    markerfacecolor=colour if excludes_zero else "white",
                    markeredgewidth=1.4,
                    linestyle="none",
                    gid=f"effect-mean:{m}",
                    zorder=3,
                )
                xs_all.append(float(rel[0]))
            else:
                ax.text(
                    0,
                    yi,
                    info.t("baseline 0: no relative change"),
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color=TEXT_GREY,
                )
            ci = (
                ""
                if math.isnan(lo)
                else f"  [{_num(lo, unit, info=info, bound=True)}, {_num(hi, unit, info=info, bound=True)}]"
            )
            unit_text = "" if unit == "share" else f" {unit_label(unit, info.lang)}"
            ns_text = f"  {info.t('n.s.')}" if ns else ""
            ax.text(
                1.02,
                yi,
                _num(base, unit, sign=False, info=info),
                transform=ax.get_yaxis_transform(),
                ha="left",
                va="center",
                fontsize=8,
                gid=f"effect-base:{m}",
            )
            ax.text(
                1.13,
                yi,
                f"{_num(d, unit, info=info)}{unit_text}{ci}{ns_text}",
                transform=ax.get_yaxis_transform(),
                ha="left",
                va="center",
                fontsize=8,
                color=colour,
                gid=f"effect-text:{m}",
            )
        ax.axvline(0, color=TEXT_GREY, linewidth=1.0, zorder=1)
        for k in range(1, len(rows)):
            if _group(rows[k]) != _group(rows[k - 1]):
                ax.axhline((y[k] + y[k - 1]) / 2, color="#C8C8C8", linewidth=0.8, zorder=0)
        ax.set_yticks(y, [metric_label(m, info.label, info.lang) for m in rows])
        ax.set_ylim(-0.7, len(rows) - 0.3)
        span = max([abs(v) for v in xs_all if math.isfinite(v)] + [1.0])
        ax.set_xlim(-1.15 * span, 1.15 * span)
        ax.set_xlabel(info.t("change against the baseline mean (%)"))
        ax.grid(axis="y", visible=False)
        ax.text(
            1.02,
            1.0,
            info.t("baseline"),
            transform=ax.transAxes,
            ha="left",
            va="bottom",
            fontsize=8,
            fontweight="bold",
            color=TEXT_GREY,
        )
        ax.text(
            1.13,
            1.0,
            info.t("variant \u2212 baseline [{level:.0%} CI]", level=level),
            transform=ax.transAxes,
            ha="left",
            va="bottom",
            fontsize=8,
            fontweight="bold",
            color=TEXT_GREY,
        )
        n = int(effects["n"].max()) if len(effects) else 0
        caption = info.t(
            "Paired differences over {n} replications sharing their random numbers; lines: {level:.0%} t-based "
            "confidence intervals; filled markers: the interval excludes 0; grey, dashed, hollow and marked n.s.: the "
            "interval contains 0 (not significant). pp = percentage points.",
            n=n,
            level=level,
        )
        if drop_zero and zero:
            caption += info.t("\nNot shown: {n} outcomes the variant left unchanged in every replication.", n=len(zero))
        return finish_figure(fig, title, info, caption)


def _unchanged(row: pd.Series) -> bool:
    d, lo, hi = float(row["diff_mean"]), float(row["ci_low"]), float(row["ci_high"])
    return d == 0.0 and lo == 0.0 and hi == 0.0
