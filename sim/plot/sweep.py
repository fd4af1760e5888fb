"""Sweeps: each metric against the swept value, with its confidence interval, one panel per metric.

The input is a sweep's ``summary_stats.csv`` (one row per point and metric, with an ``arm`` column
naming the point) and the points' swept values (``meta.json``'s ``arms``: label and params).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .effects import metric_label, metric_unit
from .style import OKABE_ITO, FigureInfo, finish_figure, new_figure, panel_grid, panel_title, style_context

__all__ = ["point_text", "sweep_figure"]


def point_text(params: Mapping[str, Any]) -> str:
    """A point's swept values as text: ``capacity = 50, rate = 0.8``."""
    return ", ".join(f"{k.rsplit('.', 1)[-1]} = {v}" for k, v in params.items())


def _numeric_axis(points: Sequence[tuple[str, Mapping[str, Any]]]) -> str | None:
    """The swept field when there is exactly one and every value is a number (drawn to scale)."""
    keys = {k for _, params in points for k in params}
    if len(keys) != 1:
        return None
    key = next(iter(keys))
    values = [params.get(key) for _, params in points]
    ok = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    return key if ok else None


def sweep_figure(
    stats: pd.DataFrame,
    points: Sequence[tuple[str, Mapping[str, Any]]],
    info: FigureInfo | None = None,
    *,
    metrics: Sequence[str],
    title: str = "Outcomes across the sweep",
    level: float = 0.95,
) -> Figure:
    """One panel per metric: its mean at every point of the sweep with the confidence interval.

    Parameters
    ----------
    stats:
        ``summary_stats.csv`` of a sweep: ``arm``, ``metric``, ``mean``, ``ci_low``, ``ci_high``, ``n``.
    points:
        ``(arm label, {field: value})`` per point, in design order.
    info:
        Footer and stage names.
    metrics:
        Metrics to draw, one panel each (those without statistics are left out).
    title:
        The figure's title.
    level:
        Confidence level of the intervals (for the caption).

    Returns
    -------
    matplotlib.figure.Figure
        Per panel, the means joined by a line and the intervals as error bars (``gid``
        ``sweep:<metric>``). A single numeric swept field is drawn to scale on the x axis; otherwise
        the points are evenly spaced and labelled with their values.
    """
    info = info or FigureInfo()
    by = stats.set_index(["arm", "metric"])
    shown = [m for m in metrics if any((label, m) in by.index for label, _ in points)]
    key = _numeric_axis(points)
    x = (
        np.array([float(params[key]) for _, params in points])
        if key is not None
        else np.arange(len(points), dtype=float)
    )
    ncols = min(2, max(1, len(shown)))
    with style_context():
        fig = new_figure(10.0 if ncols > 1 else 6.5, 1.4 + 2.6 * math.ceil(max(len(shown), 1) / ncols))
        axes, _ = panel_grid(fig, len(shown), ncols, legend=False, panel_height=2.4, sharex=True)
        for ax, m in zip(axes, shown, strict=False):
            share = metric_unit(m) == "share"
            scale = 100.0 if share else 1.0
            mean, low, high = (
                np.array(
                    [
                        float(by.loc[(label, m), col]) * scale if (label, m) in by.index else math.nan
                        for label, _ in points
                    ]
                )
                for col in ("mean", "ci_low", "ci_high")
            )
            err = np.vstack([mean - low, high - mean])
            err = np.where(np.isfinite(err), err, 0.0)
            ax.errorbar(
                x,
                mean,
                yerr=err,
                color=OKABE_ITO["blue"],
                marker="o",
                markersize=5,
                capsize=3,
                linewidth=1.4,
                gid=f"sweep:{m}",
            )
            panel_title(ax, metric_label(m, info.label), 4.5 if ncols > 1 else 6.0)
            ax.set_ylabel("%" if share else metric_unit(m))
            if key is None:
                ax.set_xticks(x, [point_text(params) for _, params in points], rotation=20, ha="right")
            else:
                ax.set_xlabel(key)
        caption = (
            f"Means over the replications of each point, with {level:.0%} t-based confidence intervals. "
            "Every point runs on the same random numbers, so differences between points are paired."
        )
        return finish_figure(fig, title, info, caption)
