"""Carriers: how many maker spaces, incubators, ... there are, by stage and level, over time.

Today carriers are set up at the start and stay for the whole run, so :func:`carrier_counts` turns
the carrier table into a flat time series (the same counts at the start and at the horizon). The
figure takes any time series of counts (:data:`COUNT_COLUMNS`), so carriers that open, are promoted
or close during a run draw the same way once the model has them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from .style import (
    HATCHES,
    OKABE_ITO,
    SERIES_COLOURS,
    FigureInfo,
    finish_figure,
    new_figure,
    no_data,
    panel_grid,
    panel_title,
    place_legend,
    style_context,
    thousands,
)

__all__ = ["COUNT_COLUMNS", "LEVELS", "carrier_counts", "carriers_figure"]

COUNT_COLUMNS = ("t_years", "stage", "level", "count")
"""Columns of a carrier-count time series: from ``t_years`` until the next row's time, ``count``
carriers of ``level`` in ``stage`` (a ``replication`` column, when present, is averaged over)."""

LEVELS = ("municipal", "provincial", "national")
"""Carrier levels, lowest first (stacked from the bottom)."""

_LEVEL_STYLE = {
    "municipal": (OKABE_ITO["sky_blue"], ""),
    "provincial": (OKABE_ITO["orange"], "//"),
    "national": (OKABE_ITO["vermillion"], "xx"),
}


def _level_style(level: str, i: int) -> tuple[str, str]:
    """Colour and hatch of a level (the i-th present, for levels beyond the known three)."""
    return _LEVEL_STYLE.get(level, (SERIES_COLOURS[i % len(SERIES_COLOURS)], HATCHES[i % len(HATCHES)]))


def carrier_counts(carriers: pd.DataFrame, horizon_years: float) -> pd.DataFrame:
    """Carriers by stage and level as a time series, from a carrier table fixed over the run.

    Parameters
    ----------
    carriers:
        :attr:`sim.RunResult.carriers` (``stage``, ``level``; several replications allowed).
    horizon_years:
        The run's length: the counts hold from 0 to here.

    Returns
    -------
    pandas.DataFrame
        :data:`COUNT_COLUMNS` (plus ``replication`` when the table has one): each count at 0 and at
        the horizon.
    """
    keys = ["replication"] if "replication" in carriers else []
    counts = carriers.groupby([*keys, "stage", "level"], observed=True, sort=False).size().reset_index(name="count")
    counts["stage"] = counts["stage"].astype(str)
    counts["level"] = counts["level"].astype(str)
    frames = [counts.assign(t_years=t) for t in (0.0, float(horizon_years))]
    out = pd.concat(frames, ignore_index=True)
    return out[[*keys, *COUNT_COLUMNS]]


def _count(x: float) -> str:
    """A count as written on the figure: whole numbers with separators, means to one decimal."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def carriers_figure(
    counts: pd.DataFrame,
    info: FigureInfo | None = None,
    *,
    title: str = "Carriers by stage and level",
    ncols: int | None = None,
) -> Figure:
    """Stacked step areas: carriers of each level in each stage over time, with the counts written in.

    Parameters
    ----------
    counts:
        :data:`COUNT_COLUMNS` (e.g. :func:`carrier_counts`); with ``replication``, the mean per
        replication is drawn.
    info:
        Footer, stage names and the calendar.
    title:
        The figure's title.
    ncols:
        Panels per row (default: up to 4).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per stage with carriers; one PolyCollection per level (``gid``
        ``<stage>:<level>``); the final count of each level as text (``gid``
        ``count:<stage>:<level>``).
    """
    info = info or FigureInfo()
    c = counts.copy()
    c["stage"], c["level"] = c["stage"].astype(str), c["level"].astype(str)
    reps = int(c["replication"].nunique()) if "replication" in c else 1
    mean = c.groupby(["stage", "level", "t_years"], sort=False)["count"].sum().div(max(reps, 1)).reset_index()
    stages = [s for s in info.stage_order if s in set(mean["stage"])] + sorted(
        set(mean["stage"]) - set(info.stage_order)
    )
    levels = [lv for lv in LEVELS if lv in set(mean["level"])] + sorted(set(mean["level"]) - set(LEVELS))
    with style_context():
        n = max(1, len(stages))
        cols = ncols or min(n, 4)
        rows = math.ceil(n / cols)
        fig = new_figure(max(3.0 * cols, 6.0), 2.5 * rows + 1.3)
        panel_width = max(3.0 * cols, 6.0) / cols - 0.6  # less the tick labels
        axes, legend_ax = panel_grid(fig, n, cols, panel_height=2.3)
        if not stages:
            no_data(axes[0], info.t("no carriers"))
        for i, stage in enumerate(stages):
            ax = axes[i]
            part = mean[mean["stage"] == stage]
            wide = part.pivot_table(index="t_years", columns="level", values="count", aggfunc="sum").sort_index()
            wide = wide.reindex(columns=[lv for lv in levels if lv in wide.columns]).ffill().fillna(0.0)
            t = info.time_axis(wide.index.to_numpy(dtype=float))
            bottom = np.zeros(len(wide))
            for j, level in enumerate(wide.columns):
                colour, hatch = _level_style(level, j)
                top = bottom + wide[level].to_numpy()
                ax.fill_between(
                    t,
                    bottom,
                    top,
                    step="post",
                    facecolor=colour,
                    hatch=hatch,
                    edgecolor="white",
                    linewidth=0.6,
                    gid=f"{stage}:{level}",
                )
                last = float(wide[level].iloc[-1])
                if last > 0:
                    ax.text(
                        t[-1],
                        (bottom[-1] + top[-1]) / 2,
                        f" {_count(last)}",
                        ha="left",
                        va="center",
                        fontsize=8,
                        gid=f"count:{stage}:{level}",
                    )
                bottom = top
            total = float(bottom[-1])
            ax.step(t, bottom, where="post", color="black", linewidth=1.0)
            panel_title(ax, info.t("{stage}: {count}", stage=info.label(stage), count=_count(total)), panel_width)
            ax.set_ylim(0, max(float(bottom.max()), 1.0) * 1.15)
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            thousands(ax.yaxis)
            ax.grid(axis="x", visible=False)
            ax.set_xlabel(info.time_label)
            if i % cols == 0:
                ax.set_ylabel(info.t("carriers"))
        names = [info.t(lv) for lv in levels]
        handles = [
            Patch(facecolor=_level_style(lv, j)[0], hatch=_level_style(lv, j)[1], edgecolor="white", label=name)
            for j, (lv, name) in enumerate(zip(levels, names, strict=True))
        ]
        place_legend(legend_ax, handles, names)
        caption = info.t("Numbers: carriers at the horizon (after the stage's name: all levels).")
        if reps > 1:
            caption += info.t(" Mean per replication over {reps} replications (levels are drawn at random).", reps=reps)
        if (mean.groupby(["stage", "level"])["count"].nunique() <= 1).all():
            caption += info.t(" Carriers are fixed over the run.")
        return finish_figure(fig, title, info, caption)
