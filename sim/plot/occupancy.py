"""Stage occupancy and waiting lists over time: the mean across replications with a 95% t band.

The input is the monthly time series (:attr:`sim.RunResult.timeseries`, or an experiment's
``timeseries.csv`` with one block per replication). For every month, stage and measure the mean over
replications gets a t-based confidence interval from the per-replication values (``n - 1`` degrees of
freedom), with the project's edge cases (:mod:`sim.stats`): one replication gives a line without a
band, equal values a band of zero width.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy import stats as sps

from .style import (
    LINESTYLES,
    OKABE_ITO,
    SERIES_COLOURS,
    TEXT_GREY,
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

__all__ = [
    "BAND_COLUMNS",
    "MEASURE_LABELS",
    "occupancy_bands",
    "occupancy_difference_figure",
    "occupancy_figure",
    "paired_differences",
]

BAND_COLUMNS = ("t_years", "stage", "measure", "n", "mean", "ci_low", "ci_high", "capacity")
"""Columns of :func:`occupancy_bands` (after the grouping column, when there is one)."""

MEASURE_LABELS = {"occupancy": "firms in the stage", "queue": "firms on the waiting list"}

DEFAULT_TITLE = "Firms in each stage and on its waiting list"

_MEASURE_COLOURS = {"occupancy": OKABE_ITO["blue"], "queue": OKABE_ITO["orange"]}


def occupancy_bands(
    timeseries: pd.DataFrame,
    measures: Sequence[str] = ("occupancy", "queue"),
    by: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Mean and t-based confidence interval across replications, per month, stage and measure.

    Parameters
    ----------
    timeseries:
        Monthly time series with ``replication``, ``t_years``, ``stage``, ``capacity`` and the
        measures (one or more replications; rows of other groups kept apart by ``by``).
    measures:
        Columns to summarise (firms).
    by:
        A column whose groups are summarised separately (``arm`` for a comparison).
    level:
        Confidence level of the interval.

    Returns
    -------
    pandas.DataFrame
        ``[by,] t_years, stage, measure, n, mean, ci_low, ci_high, capacity``: ``n`` replications,
        the mean and interval in firms (NaN interval when ``n < 2``), and ``capacity`` the mean
        capacity over the replications (NaN where the stage has none, ``-1`` in the input).
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level: must be between 0 and 1, got {level}")
    keys = ([by] if by else []) + ["t_years", "stage"]
    ts = timeseries.copy()
    ts["stage"] = ts["stage"].astype(str)
    ts["capacity"] = ts["capacity"].astype(float).where(ts["capacity"] >= 0)
    frames = []
    for m in measures:
        g = ts.groupby(keys, sort=False, observed=True)
        agg = g.agg(n=(m, "count"), mean=(m, "mean"), sd=(m, "std"), capacity=("capacity", "mean")).reset_index()
        agg.insert(len(keys), "measure", m)
        n = agg["n"].to_numpy(dtype=float)
        sd = agg["sd"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            q = sps.t.ppf(0.5 + level / 2.0, np.where(n > 1, n - 1, np.nan))
            half = q * sd / np.sqrt(n)
        half = np.where(sd == 0.0, 0.0, half)  # equal values: a zero-width band, as in sim.stats
        half = np.where(n < 2, np.nan, half)
        agg["ci_low"] = agg["mean"] - half
        agg["ci_high"] = agg["mean"] + half
        frames.append(agg.drop(columns="sd"))
    out = pd.concat(frames, ignore_index=True)
    return out[[*([by] if by else []), *BAND_COLUMNS]]


def occupancy_figure(
    timeseries: pd.DataFrame,
    info: FigureInfo | None = None,
    *,
    measures: Sequence[str] = ("occupancy", "queue"),
    by: str | None = None,
    groups: Sequence[str] | None = None,
    group_labels: dict[str, str] | None = None,
    title: str = DEFAULT_TITLE,
    level: float = 0.95,
    ncols: int | None = None,
    bands: bool = True,
) -> Figure:
    """Occupancy and waiting list of every stage over time, with capacity drawn in.

    One panel per stage (its own firm scale). Without ``by``: the occupancy is a solid line, the
    waiting list a dashed one (drawn only where a stage ever has one), capacity a dotted black line.
    With ``by`` (e.g. ``arm``): one colour and marker-free line style per group, measures by line
    style.

    Parameters
    ----------
    timeseries:
        Monthly time series of one or many replications (see :func:`occupancy_bands`).
    info:
        Footer, stage names and calendar (:meth:`FigureInfo.from_scenario`).
    measures:
        ``occupancy`` and/or ``queue``.
    by, groups, group_labels:
        Grouping column, the groups to draw (default: all, in order of appearance) and their
        display names.
    title:
        The figure's title.
    level:
        Confidence level of the bands.
    ncols:
        Panels per row (default: 2 for up to 4 stages, else 3).
    bands:
        Draw the confidence bands. Comparing two arms, leave them out here and show the paired
        difference with :func:`occupancy_difference_figure`: overlapping bands of two arms say little
        about their difference when the arms share their random numbers.

    Returns
    -------
    matplotlib.figure.Figure
        Lines are :class:`~matplotlib.lines.Line2D` with ``gid`` ``<stage>:<group>:<measure>`` (or
        ``<stage>:capacity``); bands are PolyCollections (``fill_between``), one per line with a
        band.
    """
    info = info or FigureInfo()
    table = occupancy_bands(timeseries, measures, by, level)
    if by and groups is not None:
        table = table[table[by].isin(list(groups))]
    group_list = group_list_of(table, by, groups)
    labels = group_labels or {}
    return _stage_panels(table, info, measures, by, group_list, labels, title, level, ncols, bands, difference=False)


def group_list_of(table: pd.DataFrame, by: str | None, groups: Sequence[str] | None) -> list[str | None]:
    """The groups to draw, in the order given (or of appearance); ``[None]`` without grouping."""
    if not by:
        return [None]
    present = list(dict.fromkeys(table[by].astype(str)))
    return [g for g in (groups or present) if g in present]


def paired_differences(
    timeseries: pd.DataFrame,
    by: str = "arm",
    baseline: str = "baseline",
    variant: str = "variant",
    measures: Sequence[str] = ("occupancy",),
) -> pd.DataFrame:
    """Variant minus baseline, replication by replication, month by month and stage by stage.

    Replication ``r`` of both arms shares its random numbers, so these differences are the paired
    ones that :func:`sim.compare` summarises. Returns the time-series columns with the measures
    replaced by their differences (capacity: the variant's).
    """
    keys = ["replication", "t_years", "stage"]
    ts = timeseries.copy()
    ts["stage"] = ts["stage"].astype(str)
    b = ts[ts[by].astype(str) == baseline].set_index(keys)
    v = ts[ts[by].astype(str) == variant].set_index(keys)
    common = b.index.intersection(v.index)
    out = pd.DataFrame(index=common)
    for m in measures:
        out[m] = v.loc[common, m].astype(float) - b.loc[common, m].astype(float)
    out["capacity"] = v.loc[common, "capacity"]
    return out.reset_index()


def occupancy_difference_figure(
    timeseries: pd.DataFrame,
    info: FigureInfo | None = None,
    *,
    by: str = "arm",
    baseline: str = "baseline",
    variant: str = "variant",
    measure: str = "occupancy",
    title: str = "Change in the firms in each stage: variant \u2212 baseline",
    level: float = 0.95,
    ncols: int | None = None,
) -> Figure:
    """The paired difference in occupancy (or queue) over time, per stage, with its t interval.

    Parameters
    ----------
    timeseries:
        Monthly time series of both arms (an ``arm`` column, as in a comparison's ``timeseries.csv``).
    info:
        Footer, stage names and calendar.
    by, baseline, variant:
        The arm column and the two arms' labels.
    measure:
        ``occupancy`` or ``queue``.
    title, level, ncols:
        Title, confidence level, panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per stage: the mean paired difference (``gid`` ``<stage>:difference:<measure>``),
        its band (a PolyCollection) and a line at zero.
    """
    diffs = paired_differences(timeseries, by, baseline, variant, (measure,))
    table = occupancy_bands(diffs, (measure,), None, level)
    return _stage_panels(table, info, (measure,), None, [None], {}, title, level, ncols, True, difference=True)


def _stage_panels(
    bands: pd.DataFrame,
    info: FigureInfo | None,
    measures: Sequence[str],
    by: str | None,
    group_list: list[str | None],
    labels: dict[str, str],
    title: str,
    level: float,
    ncols: int | None,
    draw_bands: bool,
    difference: bool,
) -> Figure:
    """One panel per stage: lines (and bands) of each group and measure, capacity, legend and caption."""
    info = info or FigureInfo()
    stages = [s for s in info.stage_order if s in set(bands["stage"])] or list(dict.fromkeys(bands["stage"]))
    n_reps = int(bands["n"].max()) if not bands.empty else 0
    with style_context():
        n = max(1, len(stages))
        cols = ncols or (2 if n <= 4 else 3)
        rows = math.ceil(n / cols)
        fig = new_figure(3.7 * cols, 2.4 * rows + 1.3)
        flat, legend_ax = panel_grid(fig, n, cols)
        if not stages:
            no_data(flat[0], info.t("no data"))
        handles: dict[str, Line2D | Patch] = {}
        has_band = False
        for i, stage in enumerate(stages):
            ax = flat[i]
            part = bands[bands["stage"] == stage]
            for gi, group in enumerate(group_list):
                gpart = part if group is None else part[part[by].astype(str) == group]  # type: ignore[index]
                for mi, m in enumerate(measures):
                    mp = gpart[gpart["measure"] == m].sort_values("t_years")
                    if mp.empty or (m == "queue" and not (mp["mean"] > 0).any()):
                        continue
                    x = info.time_axis(mp["t_years"].to_numpy())
                    if group is None:
                        colour, style = _MEASURE_COLOURS.get(m, SERIES_COLOURS[mi]), LINESTYLES[mi]
                        name = info.t(MEASURE_LABELS.get(m, m))
                        if difference:
                            name = info.t("mean paired difference in {name}", name=name)
                    else:
                        # groups differ by colour and line style (lines of equal groups lie on top of each other)
                        colour, style = SERIES_COLOURS[gi % len(SERIES_COLOURS)], LINESTYLES[gi % len(LINESTYLES)]
                        name = labels.get(group) or info.t(group)  # arms named baseline, variant: translated
                        if len(measures) > 1:
                            name = info.t("{group}: {measure}", group=name, measure=info.t(MEASURE_LABELS.get(m, m)))
                    width = 1.6 if mi == 0 else 1.0
                    (line,) = ax.plot(
                        x,
                        mp["mean"],
                        color=colour,
                        linestyle=style,
                        linewidth=width,
                        label=name,
                        gid=f"{stage}:{'difference' if difference else group or 'all'}:{m}",
                    )
                    handles.setdefault(name, line)
                    low, high = mp["ci_low"].to_numpy(), mp["ci_high"].to_numpy()
                    if draw_bands and np.isfinite(low).any():
                        ax.fill_between(
                            x, low, high, color=colour, alpha=0.2, linewidth=0, gid=f"{stage}:{group or 'all'}:{m}:band"
                        )
                        has_band = True
            if difference:
                ax.axhline(0, color="black", linewidth=0.8, zorder=1)
                values = part[["mean", "ci_low", "ci_high"]].to_numpy(dtype=float)
                if not np.nan_to_num(values).any():  # matplotlib would zoom in on a flat zero
                    ax.set_ylim(-1, 1)
                    ax.text(
                        0.5,
                        0.75,
                        info.t("no change in any replication"),
                        transform=ax.transAxes,
                        ha="center",
                        va="center",
                        fontsize=8,
                        color=TEXT_GREY,
                    )
            else:
                _capacity(ax, part, by, group_list, measures[0], labels, info, stage, handles)
            panel_title(ax, info.label(stage), 3.7 - 0.6)
            thousands(ax.yaxis)
            if not difference:
                ax.set_ylim(bottom=0)
            if i % cols == 0:
                ax.set_ylabel(info.t("firms, variant \u2212 baseline" if difference else "firms"))
        for j, ax in enumerate(flat):
            if j + cols >= len(stages):
                ax.set_xlabel(info.time_label)
            else:
                ax.tick_params(labelbottom=False)
        if has_band:
            handles[info.t("{level:.0%} confidence band", level=level)] = Patch(color=TEXT_GREY, alpha=0.25)
        place_legend(legend_ax, list(handles.values()), list(handles))
        queued = "queue" in measures and bool((bands.loc[bands["measure"] == "queue", "mean"] > 0).any())
        if difference:
            caption = info.t(
                "Lines: mean over {n_reps} paired replications of variant \u2212 baseline, at the end of each month "
                "(the arms share their random numbers); bands: {level:.0%} t-based confidence interval of that mean, "
                "month by month. A band that excludes 0 marks a change larger than the replications' noise.",
                n_reps=n_reps,
                level=level,
            )
        elif n_reps > 1 and draw_bands:
            caption = info.t(
                "Lines: mean over {n_reps} replications, at the end of each month; bands: {level:.0%} t-based "
                "confidence interval of that mean.",
                n_reps=n_reps,
                level=level,
            )
        elif n_reps > 1:
            caption = info.t(
                "Lines: mean over {n_reps} replications, at the end of each month (the uncertainty of a difference "
                "between arms is in the paired-difference figure).",
                n_reps=n_reps,
            )
        else:
            caption = info.t("One replication: values at the end of each month (no confidence band).")
        if not difference:
            caption += info.t(" Dotted: capacity at the start (places in the stage's carriers, before any policy).")
        if "queue" in measures:
            caption += info.t(
                " Waiting lists are drawn for stages where firms waited."
                if queued
                else "\nNo firm waited for a place in any stage."
            )
        if title == DEFAULT_TITLE and not queued:
            title = "Firms in each stage"
        return finish_figure(fig, title, info, caption)


def _capacity(
    ax: Axes,
    part: pd.DataFrame,
    by: str | None,
    groups: Sequence[str | None],
    measure: str,
    labels: dict[str, str],
    info: FigureInfo,
    stage: str,
    handles: dict[str, Line2D | Patch],
) -> None:
    """Capacity as a dotted step line: once in black, or once per group where groups differ."""
    series = []
    for group in groups:
        gpart = part if group is None or by is None else part[part[by].astype(str) == group]
        cap = gpart[gpart["measure"] == measure].sort_values("t_years")
        series.append((group, cap["t_years"].to_numpy(), cap["capacity"].to_numpy(dtype=float)))
    if not any(np.isfinite(c).any() for _, _, c in series):
        return
    first = series[0][2]
    differ = any(len(c) != len(first) or not np.allclose(c, first, equal_nan=True) for _, _, c in series[1:])
    for gi, (group, t, cap) in enumerate(series if differ else series[:1]):
        colour = SERIES_COLOURS[gi % len(SERIES_COLOURS)] if differ else "black"
        if differ and group is not None:
            name = info.t("capacity, {group}", group=labels.get(group) or info.t(group))
        else:
            name = info.t("capacity")
        (line,) = ax.plot(
            info.time_axis(t),
            cap,
            color=colour,
            linestyle=":",
            linewidth=1.4,
            drawstyle="steps-post",
            label=name,
            gid=f"{stage}:capacity" + (f":{group}" if differ else ""),
            zorder=3,  # above the occupancy, which runs along it when the stage is full
        )
        handles.setdefault(name, line)
