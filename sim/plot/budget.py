"""Budget figures: spending by instrument and year, and the cost of each additional outcome.

They read the tidy tables the simulator writes (``RunResult.ledger`` / ``ledger.csv`` from
:mod:`sim.budget`, and ``cost_effectiveness.csv`` from ``incuchain compare``):

* the ledger (:data:`LEDGER_COLUMNS`): one row per payment -- ``date`` (a calendar date) or
  ``time_years`` (years since the start), ``policy``, ``instrument``, ``recipient``, ``amount_yuan``;
  with a ``replication`` column, bars show the mean per replication;
* cost-effectiveness (:data:`COST_COLUMNS`): one row per outcome -- ``metric``, ``cost_per_unit``
  (yuan per additional unit of the outcome), ``ci_low``, ``ci_high``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..experiment.cost_effectiveness import cost_bounds
from ..metric_names import metric_label, outcome_unit
from .lang import Lang, phrase
from .style import (
    HATCHES,
    SERIES_COLOURS,
    TEXT_GREY,
    FigureInfo,
    finish_figure,
    new_figure,
    no_data,
    style_context,
)

__all__ = ["COST_COLUMNS", "LEDGER_COLUMNS", "cost_effectiveness_figure", "spend_by_year", "spend_figure", "yuan_scale"]

LEDGER_COLUMNS = ("date", "time_years", "policy", "instrument", "recipient", "amount_yuan")
"""Columns of a budget ledger (``date`` or ``time_years``, or both)."""

COST_COLUMNS = ("metric", "cost_per_unit", "ci_low", "ci_high")
"""Columns of a cost-effectiveness table (yuan per additional unit of ``metric``)."""


_SCALES: dict[str, tuple[tuple[float, str], ...]] = {
    "en": ((1e9, "billion yuan"), (1e6, "million yuan"), (1e3, "thousand yuan")),
    "zh": ((1e8, "亿元"), (1e4, "万元")),  # the units of Chinese budgets
}


def yuan_scale(largest: float, lang: Lang = "en") -> tuple[float, str]:
    """A divisor and unit for amounts up to ``largest`` yuan: yuan, thousand, million or billion yuan
    (in Chinese: 元, 万元 or 亿元)."""
    for div, unit in _SCALES[lang]:
        if abs(largest) >= div:
            return div, unit
    return 1.0, phrase("yuan", lang)


def spend_by_year(ledger: pd.DataFrame, start_year: float | None = None) -> pd.DataFrame:
    """Spending per calendar year and instrument (mean per replication when there are several).

    Parameters
    ----------
    ledger:
        Payments (:data:`LEDGER_COLUMNS`).
    start_year:
        The scenario's start as a decimal year, to date payments given only by ``time_years``; without
        it they are counted by model year (0 = the first year).

    Returns
    -------
    pandas.DataFrame
        ``year``, ``instrument``, ``amount_yuan``.
    """
    if "date" in ledger and ledger["date"].notna().any():
        year = pd.to_datetime(ledger["date"]).dt.year
    elif "time_years" in ledger:
        t = ledger["time_years"].astype(float)
        year = np.floor(t + start_year) if start_year is not None else np.floor(t)
    else:
        raise ValueError("ledger: needs a 'date' or a 'time_years' column")
    frame = pd.DataFrame(
        {
            "year": np.asarray(year, dtype=int),
            "instrument": ledger["instrument"].astype(str),
            "amount_yuan": ledger["amount_yuan"].astype(float),
        }
    )
    reps = int(ledger["replication"].nunique()) if "replication" in ledger else 1
    out = frame.groupby(["year", "instrument"], sort=True)["amount_yuan"].sum().reset_index()
    out["amount_yuan"] /= max(reps, 1)
    return out


def spend_figure(
    ledger: pd.DataFrame,
    info: FigureInfo | None = None,
    *,
    title: str = "Support spending by instrument and year",
) -> Figure:
    """Stacked bars: spending per year, one hatched colour per instrument, with each year's total.

    Parameters
    ----------
    ledger:
        Payments (:data:`LEDGER_COLUMNS`).
    info:
        Footer and the scenario's start (years on the axis are calendar years when it is known).
    title:
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        One bar container per instrument (``gid`` ``spend:<instrument>``); totals as text
        (``gid`` ``spend-total:<year>``).
    """
    info = info or FigureInfo()
    table = spend_by_year(ledger, info.start_year)
    with style_context():
        fig = new_figure(8.0, 4.6)
        ax = fig.add_subplot()
        if table.empty:
            no_data(ax, info.t("no payments"))
            return finish_figure(fig, title, info)
        wide = table.pivot_table(
            index="year", columns="instrument", values="amount_yuan", aggfunc="sum", fill_value=0.0
        )
        wide = wide[wide.sum().sort_values(ascending=False).index]  # largest instrument at the bottom
        totals = wide.sum(axis=1)
        div, unit = yuan_scale(float(totals.max()), info.lang)
        years = wide.index.to_numpy()
        bottom = np.zeros(len(wide))
        for i, instrument in enumerate(wide.columns):
            values = wide[instrument].to_numpy() / div
            ax.bar(
                years,
                values,
                bottom=bottom,
                width=0.7,
                color=SERIES_COLOURS[i % len(SERIES_COLOURS)],
                hatch=HATCHES[i % len(HATCHES)],
                edgecolor="white",
                linewidth=0.8,
                label=info.instrument(str(instrument)),
                gid=f"spend:{instrument}",
            )
            bottom += values
        for year, total in zip(years, totals.to_numpy() / div, strict=True):
            ax.text(
                year,
                total,
                _amount(total),
                ha="center",
                va="bottom",
                fontsize=8,
                color=TEXT_GREY,
                gid=f"spend-total:{year}",
            )
        ax.set_xticks(years)
        ax.set_xlabel(info.t("year" if "date" in ledger or info.start_year is not None else "model year"))
        ax.set_ylabel(info.t("spending ({unit})", unit=unit))
        ax.set_ylim(0, float(bottom.max()) * 1.12)
        ax.grid(axis="x", visible=False)
        handles = [
            Patch(
                facecolor=SERIES_COLOURS[i % len(SERIES_COLOURS)],
                hatch=HATCHES[i % len(HATCHES)],
                edgecolor="white",
                label=info.instrument(str(c)),
            )
            for i, c in enumerate(wide.columns)
        ]
        legend_title = info.t("instrument")
        ax.legend(handles=handles[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0), title=legend_title)
        reps = int(ledger["replication"].nunique()) if "replication" in ledger else 1
        caption = info.t("Payments by calendar year of payment; numbers: the year's total.")
        if reps > 1:
            caption += info.t(" Mean per replication over {reps} replications.", reps=reps)
        return finish_figure(fig, title, info, caption)


def _bounds(row: Mapping[str, Any]) -> tuple[float, float, float, bool]:
    """Estimate, low, high and whether the effect is significant; never below 0 (see :func:`cost_bounds`).

    A full ``cost_effectiveness.csv`` row is read by :func:`cost_bounds`; a bare one (:data:`COST_COLUMNS`)
    is taken as given, its lower end clipped at 0, and an infinite upper end read as not significant.
    """
    if row.keys() >= _EFFECT_COLUMNS:
        return cost_bounds(row)
    cost, low, high = (float(row[k]) for k in ("cost_per_unit", "ci_low", "ci_high"))
    if math.isnan(cost) or cost <= 0:
        return math.nan, math.nan, math.nan, False
    return cost, max(low, 0.0) if not math.isnan(low) else math.nan, high, not math.isinf(high)


def _amount(x: float) -> str:
    """An amount in the figure's unit: three significant digits, whole numbers from 1,000 on (a
    scale such as 万元 can leave amounts in the thousands, which ``g`` would write as ``1.4e+04``)."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:,.3g}"


_EFFECT_COLUMNS = {"spend_diff_mean", "outcome_diff_mean", "outcome_ci_low", "outcome_ci_high"}


def cost_effectiveness_figure(
    table: pd.DataFrame,
    info: FigureInfo | None = None,
    *,
    title: str = "Cost of each additional outcome",
    level: float = 0.95,
) -> Figure:
    """Yuan per additional unit of each outcome, with confidence intervals (one row per outcome).

    Costs are never drawn below 0. When the outcome's own interval contains 0 the effect may be nil,
    so the cost has no upper bound: the row is drawn in grey, dashed and with a hollow marker, from
    the spend over the largest effect the interval allows to an arrow at the right, and marked n.s.

    Parameters
    ----------
    table:
        ``cost_effectiveness.csv``: at least :data:`COST_COLUMNS` (``metric``, ``cost_per_unit`` in
        yuan, ``ci_low``, ``ci_high``); with ``spend_diff_mean`` and the outcome's ``outcome_diff_mean``,
        ``outcome_ci_low`` and ``outcome_ci_high``, intervals are read by
        :func:`sim.experiment.cost_effectiveness.cost_bounds`.
    info:
        Footer and stage names.
    title:
        The figure's title.
    level:
        Confidence level of the intervals (for the caption).

    Returns
    -------
    matplotlib.figure.Figure
        One row per outcome: a marker and an interval line (``gid`` ``cost:<metric>``) and the value as
        text (``gid`` ``cost-text:<metric>``), per the outcome's unit (per job, per graduation, ...).
    """
    info = info or FigureInfo()
    records = table.to_dict("records")
    bounds = [_bounds(r) for r in records]
    with style_context():
        fig = new_figure(9.0, 1.7 + 0.34 * max(len(records), 2))
        ax = fig.add_subplot()
        # the scale follows the significant rows: an n.s. row's estimate and floor may be far off (a
        # near-zero effect); past the axis it is drawn as an arrow at the right edge
        finite = [v for b in bounds if b[3] for v in b[:3] if math.isfinite(v)]
        finite = finite or [v for b in bounds for v in (b[0], b[1]) if math.isfinite(v)]
        if not finite:
            no_data(ax, info.t("no cost-effectiveness estimates"))
            return finish_figure(fig, title, info)
        largest = max([*finite, 1.0])
        div, unit = yuan_scale(largest, info.lang)
        right = 1.15 * largest / div  # an unbounded interval is drawn to here, ending in an arrow
        y = np.arange(len(records))[::-1].astype(float)
        for yi, r, (c, lo, hi, significant) in zip(y, records, bounds, strict=True):
            m = str(r["metric"])
            per = outcome_unit(m, info.lang)
            if math.isnan(c):
                none = info.t("  no additional outcome: no cost per unit")
                ax.text(0, yi, none, va="center", fontsize=8, color=TEXT_GREY)
                ax.text(
                    1.02, yi, "-", transform=ax.get_yaxis_transform(), va="center", fontsize=8, gid=f"cost-text:{m}"
                )
                continue
            colour = "black" if significant else TEXT_GREY
            c, lo, hi = c / div, lo / div, hi / div
            start = min(lo, 0.94 * right) if math.isfinite(lo) else 0.0
            end = hi if math.isfinite(hi) else right
            ax.plot(
                [start, end],
                [yi, yi],
                color=colour,
                linewidth=1.6,
                linestyle="-" if significant else "--",
                solid_capstyle="butt",
                gid=f"cost:{m}",
            )
            if not math.isfinite(hi):
                ax.plot([end], [yi], marker=">", color=colour, markersize=6, linestyle="none")
            ax.plot(
                [c] if c <= right else [],
                [yi] if c <= right else [],
                marker="D",
                color=colour,
                markerfacecolor=colour if significant else "white",
                markersize=6,
                linestyle="none",
                zorder=3,
            )
            if significant:
                ci = f"  [{_amount(lo)}, {_amount(hi)}]" if math.isfinite(lo) else ""
                text = info.t("{cost} {unit} per {per}{ci}", cost=_amount(c), unit=unit, per=per, ci=ci)
            else:
                floor = info.t("at least {low}, ", low=_amount(lo)) if math.isfinite(lo) else ""
                text = info.t(
                    "n.s.: {cost} {unit} per {per}  [{floor}no upper bound]",
                    cost=_amount(c),
                    unit=unit,
                    per=per,
                    floor=floor,
                )
            ax.text(
                1.02,
                yi,
                text,
                transform=ax.get_yaxis_transform(),
                ha="left",
                va="center",
                fontsize=8,
                color=colour,
                gid=f"cost-text:{m}",
            )
        ax.set_yticks(y, [metric_label(str(r["metric"]), info.label, info.lang) for r in records])
        ax.set_ylim(-0.7, len(records) - 0.3)
        ax.set_xlim(0, right * 1.04)
        ax.set_xlabel(info.t("cost per additional unit ({unit})", unit=unit))
        ax.grid(axis="y", visible=False)
        caption = info.t(
            "Spending divided by the paired effect on each outcome; black lines: {level:.0%} confidence "
            "intervals (never below 0). Grey, dashed, hollow and marked n.s.: the outcome's interval contains 0, "
            "so the effect may be nil and the cost has no upper bound; the interval is open, from the spend over "
            "the largest effect the interval allows.",
            level=level,
        )
        return finish_figure(fig, title, info, caption)
