"""Survival of firms: Kaplan-Meier curves with confidence bands, and the US BLS reference curve.

A firm's survival time runs from its arrival to its failure; firms that exit the modelled system or
are still active at the horizon are right-censored (the ``survival_years`` and ``outcome`` columns of
the firm table). Curves come from :func:`scipy.stats.ecdf` on censored data, their bands from
``ecdf(...).sf.confidence_interval`` (log-log method, which stays within 0-100 %). As in the run
summary, firms that arrived during the warm-up are left out.

Splitting firms by whether they ever entered a carrier conditions on their future (a firm must
survive to enter one), so the gap between those curves mixes selection, time at risk and any effect
of support; paired comparisons (:func:`sim.compare`) measure effects.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy import stats as sps

from .style import (
    GREY,
    LINESTYLES,
    MARKERS,
    OKABE_ITO,
    SERIES_COLOURS,
    FigureInfo,
    finish_figure,
    new_figure,
    no_data,
    panel_grid,
    place_legend,
    stage_colours,
    style_context,
)

if TYPE_CHECKING:
    from ..scenario import Scenario

__all__ = [
    "BLS_LABEL",
    "BLS_SURVIVAL_PERCENT",
    "BLS_TOLERANCE_PP",
    "KM_COLUMNS",
    "bls_reference",
    "calibrated_to_bls",
    "km_curve",
    "km_curves",
    "survival_at_figure",
    "survival_figure",
    "uses_age_clock",
]

BLS_SURVIVAL_PERCENT: tuple[float, ...] = (79.6, 68.1, 60.6, 54.3, 49.6, 45.2, 41.5, 38.3, 35.7, 33.6)
"""US BLS Business Employment Dynamics: establishments born in March 1994 still open at age 1..10 years
(%). Source: BLS, The Economics Daily, 2018-11-01."""

BLS_LABEL = "US BLS: establishments born March 1994, still open"

KM_COLUMNS = ("group", "time", "survival", "ci_low", "ci_high", "firms", "failures")
"""Columns of :func:`km_curves` (``survival`` and the interval as shares, 0-1)."""

GROUP_LABELS = {
    "all": "All firms",
    "never_in_carrier": "Never in a carrier",
    "ever_in_carrier": "Ever in a carrier",
}


def bls_reference() -> pd.DataFrame:
    """The BLS curve as a table: ``age_years`` (1..10) and ``survival`` (share, 0-1)."""
    return pd.DataFrame({"age_years": np.arange(1.0, 11.0), "survival": np.array(BLS_SURVIVAL_PERCENT) / 100.0})


def uses_age_clock(scenario: Scenario) -> bool:
    """True when the scenario's ``market`` stage fails firms by their age (the BLS curve's setting)."""
    market = scenario.stages.get("market")
    return market is not None and market.failure_clock == "age"


BLS_TOLERANCE_PP = 2.0
"""How close (percentage points, at every age 1..10 years) a market's own survival must be to the BLS
curve for the curve to be drawn as its reference (:func:`calibrated_to_bls`)."""


def calibrated_to_bls(scenario: Scenario, tolerance_pp: float = BLS_TOLERANCE_PP) -> bool:
    """Whether the scenario is calibrated to the BLS curve, so that figures may set firms against it.

    The rule: the scenario has a ``market`` stage whose failure hazard runs on the firm's age
    (``failure_clock = "age"``, the BLS curve's setting: a birth cohort followed by age), and that
    hazard's own survival ``S(a)`` is within ``tolerance_pp`` percentage points of the BLS shares at
    every age 1..10 years. Market entrants then follow the curve by construction, and a gap between
    them and it is a finding (the province's market stream reproduces it exactly). A scenario with
    another market hazard would show a gap that is only its own assumption, so the curve is left out.
    """
    market = scenario.stages.get("market")
    if market is None or market.failure_clock != "age" or market.failure is None:
        return False
    ages = np.arange(1.0, 11.0)
    own = 100.0 * market.failure.survival(ages)
    return bool(np.all(np.abs(own - np.array(BLS_SURVIVAL_PERCENT)) <= tolerance_pp))


def km_curve(durations: np.ndarray, failed: np.ndarray, level: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier survival with a pointwise confidence interval, as a step table from time 0.

    Parameters
    ----------
    durations:
        Years from arrival to failure or censoring.
    failed:
        True where the firm failed (False: censored).
    level:
        Confidence level of the interval.

    Returns
    -------
    pandas.DataFrame
        ``time`` (years; starts at 0), ``survival``, ``ci_low``, ``ci_high`` (shares; the value holds
        until the next row's time). No failures: survival 1 to the last time, no interval.
    """
    durations = np.asarray(durations, dtype=float)
    failed = np.asarray(failed, dtype=bool)
    if len(durations) == 0:
        return pd.DataFrame({"time": [], "survival": [], "ci_low": [], "ci_high": []})
    if not failed.any():
        end = float(durations.max())
        return pd.DataFrame(
            {"time": [0.0, end], "survival": [1.0, 1.0], "ci_low": [math.nan] * 2, "ci_high": [math.nan] * 2}
        )
    data = sps.CensoredData(uncensored=durations[failed], right=durations[~failed])
    sf = sps.ecdf(data).sf
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        # Where the interval is undefined (e.g. after the last failure) scipy returns NaN and warns; NaN
        # leaves a gap in the band, which is the right picture.
        warnings.filterwarnings("ignore", message="The confidence interval is undefined", category=RuntimeWarning)
        ci = sf.confidence_interval(level, method="log-log")
    times = np.concatenate([[0.0], sf.quantiles])
    surv = np.concatenate([[1.0], sf.probabilities])
    low = np.concatenate([[1.0], ci.low.probabilities])
    high = np.concatenate([[1.0], ci.high.probabilities])
    return pd.DataFrame({"time": times, "survival": surv, "ci_low": low, "ci_high": high})


def km_curves(
    firms: pd.DataFrame, by: str | None = None, level: float = 0.95, include_warmup: bool = False
) -> pd.DataFrame:
    """Kaplan-Meier curves of the firm table, one per group of ``by`` (or one, ``all``).

    Parameters
    ----------
    firms:
        Firm table(s) (:attr:`sim.RunResult.firms`; several replications are pooled).
    by:
        Grouping column (``entry_stage``, ``ever_in_carrier``, ...); ``None`` for all firms.
    level:
        Confidence level of the intervals.
    include_warmup:
        Keep firms that arrived during the warm-up (left out by default, as in the summary).

    Returns
    -------
    pandas.DataFrame
        :data:`KM_COLUMNS`: one step table per group, with the group's firms and failures.
    """
    f = firms if include_warmup or "in_warmup" not in firms else firms[~firms["in_warmup"].astype(bool)]
    groups: list[tuple[object, pd.DataFrame]] = (
        [("all", f)] if by is None else list(f.groupby(by, sort=False, observed=True))
    )
    frames = []
    for key, part in groups:
        failed = (part["outcome"].astype(str) == "failed").to_numpy()
        curve = km_curve(part["survival_years"].to_numpy(dtype=float), failed, level)
        curve.insert(0, "group", key)
        curve["firms"] = len(part)
        curve["failures"] = int(failed.sum())
        frames.append(curve)
    if not frames:
        return pd.DataFrame(columns=list(KM_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(KM_COLUMNS)]


MAX_STEPS = 1000
"""Curves with more steps are drawn on a grid of this many times (finer than the figure's pixels), so
that a curve of 100,000 firms does not make a 30 MB SVG."""


def _thin(curve: pd.DataFrame, max_steps: int = MAX_STEPS) -> pd.DataFrame:
    """The step function evaluated on an even grid, when it has more than ``max_steps`` steps."""
    if len(curve) <= max_steps:
        return curve
    t = curve["time"].to_numpy()
    grid = np.linspace(t[0], t[-1], max_steps)
    idx = np.searchsorted(t, grid, side="right") - 1
    out = curve.iloc[idx].copy()
    out["time"] = grid
    return out


def _draw_curve(ax: Axes, curve: pd.DataFrame, colour: str, style: object, label: str, gid: str) -> Line2D:
    curve = _thin(curve)
    t = curve["time"].to_numpy()
    (line,) = ax.step(
        t,
        100 * curve["survival"].to_numpy(),
        where="post",
        color=colour,
        linestyle=style,
        linewidth=1.6,
        label=label,
        gid=gid,
    )
    low, high = curve["ci_low"].to_numpy(dtype=float), curve["ci_high"].to_numpy(dtype=float)
    if np.isfinite(low).any():
        ax.fill_between(t, 100 * low, 100 * high, step="post", color=colour, alpha=0.18, linewidth=0, gid=f"{gid}:band")
    return line


def _reference(ax: Axes, reference: pd.DataFrame, xmax: float, label: str, hollow: bool = False) -> Line2D | None:
    ref = reference[reference["age_years"] <= xmax + 1e-9]
    if ref.empty:
        return None
    (line,) = ax.plot(
        ref["age_years"],
        100 * ref["survival"],
        color="black",
        linestyle=":",
        marker="s",
        markersize=5 if hollow else 4.5,
        markerfacecolor="white" if hollow else "black",
        linewidth=1.2,
        label=label,
        gid="reference",
        zorder=1.5,  # under estimates drawn on the same ages
    )
    return line


def survival_figure(
    firms: pd.DataFrame,
    info: FigureInfo | None = None,
    *,
    reference: pd.DataFrame | None = None,
    reference_label: str = BLS_LABEL,
    reference_stage: str = "market",
    title: str = "How long firms survive",
    level: float = 0.95,
    include_warmup: bool = False,
) -> Figure:
    """Kaplan-Meier survival by entry stage, by support (ever vs never in a carrier) and, with a
    ``reference``, of the firms entering ``reference_stage`` against it.

    Parameters
    ----------
    firms:
        Firm table(s) of one or several replications (pooled).
    info:
        Footer and stage names (:meth:`FigureInfo.from_scenario`).
    reference:
        ``age_years`` and ``survival`` (share) of a reference curve, e.g. :func:`bls_reference` when
        the market's failure hazard runs on firm age (:func:`uses_age_clock`); ``None`` for none.
    reference_label, reference_stage:
        The reference's legend entry, and the entry stage whose firms are set against it.
    title:
        The figure's title.
    level:
        Confidence level of the bands.
    include_warmup:
        Keep firms that arrived during the warm-up.

    Returns
    -------
    matplotlib.figure.Figure
        Two or three panels; each curve a step line (``gid`` ``<panel>:<group>``) with its band
        (a PolyCollection, ``gid`` ``<panel>:<group>:band``); the reference is ``gid`` ``reference``.
    """
    info = info or FigureInfo()
    by_entry = km_curves(firms, "entry_stage", level, include_warmup)
    by_support = km_curves(firms, "ever_in_carrier", level, include_warmup)
    entrants = firms[firms["entry_stage"].astype(str) == reference_stage]
    with_ref = reference is not None and not entrants.empty
    panels = 3 if with_ref else 2
    with style_context():
        fig = new_figure(3.9 * panels, 4.3)
        axes, legend_ax = panel_grid(fig, panels, panels, legend=False, panel_height=3.0, sharex=False)
        xmax = float(firms["survival_years"].max()) if len(firms) else 1.0
        # 1. by entry stage
        ax = axes[0]
        present = [str(g) for g in pd.unique(by_entry["group"].astype(str))]
        order = [s for s in info.stage_order if s in present] + [s for s in present if s not in info.stage_order]
        colours = stage_colours(order, info)
        for i, stage in enumerate(order):
            curve = by_entry[by_entry["group"].astype(str) == stage]
            n = int(curve["firms"].iloc[0])
            _draw_curve(
                ax,
                curve,
                colours[stage],
                LINESTYLES[i % len(LINESTYLES)],
                info.t("{name} (n = {n:,})", name=info.label(stage), n=n),
                f"entry:{stage}",
            )
        ax.set_title(info.t("By entry stage"), loc="left")
        # 2. ever vs never in a carrier
        ax = axes[1]
        for key, colour, style, name in (
            (True, OKABE_ITO["blue"], "-", "Ever in a carrier"),
            (False, "black", "--", "Never in a carrier"),
        ):
            curve = by_support[by_support["group"].astype(bool) == key]
            if curve.empty:
                continue
            gid = "support:ever_in_carrier" if key else "support:never_in_carrier"
            label = info.t("{name} (n = {n:,})", name=info.t(name), n=int(curve["firms"].iloc[0]))
            _draw_curve(ax, curve, colour, style, label, gid)
        ax.set_title(info.t("By support: ever vs never in a carrier"), loc="left")
        # 3. entrants of the reference stage against the reference
        if with_ref:
            assert reference is not None
            ax = axes[2]
            curve = km_curves(entrants, None, level, include_warmup)
            if not curve.empty:
                n_firms = int(curve["firms"].iloc[0])
                name = info.t("{stage} entrants (n = {n:,})", stage=info.label(reference_stage), n=n_firms)
                _draw_curve(ax, curve, GREY, "-", name, f"reference_stage:{reference_stage}")
            _reference(ax, reference, xmax, info.t(reference_label))
            ax.set_title(info.t("{stage} entrants vs the US BLS curve", stage=info.label(reference_stage)), loc="left")
        for i, ax in enumerate(axes):
            if not ax.has_data():
                no_data(ax, info.t("no data"))
                continue
            ax.set_xlim(0, xmax * 1.02)  # room for a reference marker at the horizon
            ax.set_ylim(0, 102)
            ax.set_xlabel(info.t("years since arrival"))
            if i == 0:
                ax.set_ylabel(info.t("not failed (%)"))
            ax.legend(loc="lower left", fontsize=7.5)
        place_legend(legend_ax, [], [])
        caption = info.t(
            "Kaplan-Meier estimates (firms failing; exits and firms active at the horizon are censored); bands: "
            "{level:.0%} pointwise confidence intervals (log-log).\nEver vs never in a carrier mixes selection and "
            "time at risk with any effect of support: compare scenarios for effects.",
            level=level,
        )
        if with_ref:
            caption += info.t(" BLS: share of establishments still open at each age.")
        reps = int(firms["replication"].nunique()) if "replication" in firms else 1
        if reps > 1:
            caption += info.t(" Firms of {reps} replications pooled.", reps=reps)
        return finish_figure(fig, title, info, caption)


def survival_at_figure(
    stats: pd.DataFrame,
    info: FigureInfo | None = None,
    *,
    by: str | None = None,
    groups: Sequence[str] | None = None,
    group_labels: dict[str, str] | None = None,
    reference: pd.DataFrame | None = None,
    reference_label: str = BLS_LABEL,
    title: str | None = None,
) -> Figure:
    """Survival at 1, 3, 5 and 10 years from an experiment's statistics: means with confidence intervals.

    Parameters
    ----------
    stats:
        :attr:`sim.ExperimentResult.stats` (``metric``, ``mean``, ``ci_low``, ``ci_high``, ``n``;
        metrics ``survival.<group>.<t>y``).
    info:
        Footer (:meth:`FigureInfo.from_scenario`).
    by, groups, group_labels:
        A grouping column (``arm``), the groups to draw and their display names.
    reference, reference_label:
        A reference curve (:func:`bls_reference`), drawn on the never-in-a-carrier panel.
    title:
        The figure's title (default: names the years shown).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per firm group (all, never and ever in a carrier); one line with error bars per
        arm (``gid`` ``<group>:<arm>``).
    """
    info = info or FigureInfo()
    st = stats[stats["metric"].astype(str).str.match(r"^survival\.[a-z_]+\.[0-9.]+y$")].copy()
    parts = st["metric"].astype(str).str.extract(r"^survival\.([a-z_]+)\.([0-9.]+)y$")
    st["group"], st["years"] = parts[0], parts[1].astype(float)
    st = st[st["n"] > 0]
    firm_groups = [g for g in GROUP_LABELS if g in set(st["group"])]
    arm_list: list[str | None] = [None]
    if by:
        present = list(dict.fromkeys(st[by].astype(str)))
        arm_list = [g for g in (groups or present) if g in present]
    labels = group_labels or {}
    with style_context():
        n = max(1, len(firm_groups))
        fig = new_figure(3.6 * n, 4.4)
        axes, legend_ax = panel_grid(fig, n, n, panel_height=3.0, sharex=False)
        handles: dict[str, object] = {}
        for i, fg in enumerate(firm_groups):
            ax = axes[i]
            for ai, arm in enumerate(arm_list):
                part = st[st["group"] == fg] if arm is None else st[(st["group"] == fg) & (st[by].astype(str) == arm)]  # type: ignore[index]
                part = part.sort_values("years")
                if part.empty:
                    continue
                colour = SERIES_COLOURS[ai % len(SERIES_COLOURS)]
                mean = 100 * part["mean"].to_numpy(dtype=float)
                err = np.vstack(
                    [
                        mean - 100 * part["ci_low"].to_numpy(dtype=float),
                        100 * part["ci_high"].to_numpy(dtype=float) - mean,
                    ]
                )
                # arms side by side, so equal values do not hide each other
                shift = (ai - (len(arm_list) - 1) / 2) * 0.12
                name = info.t("mean, 95% CI") if arm is None else labels.get(arm) or info.t(arm)
                cont = ax.errorbar(
                    part["years"] + shift,
                    mean,
                    yerr=np.nan_to_num(err),
                    color=colour,
                    linestyle=LINESTYLES[ai % len(LINESTYLES)],
                    marker=MARKERS[ai % len(MARKERS)],
                    markersize=5,
                    capsize=3,
                    linewidth=1.4,
                    label=name,
                )
                gid = f"{fg}:{arm or 'all'}"
                data_line, caps, bars = cont.lines
                for artist in (*caps, *bars):
                    artist.set_gid(f"{gid}:ci")
                if data_line is not None:
                    data_line.set_gid(gid)
                handles.setdefault(name, cont)
            if reference is not None and fg == "never_in_carrier":
                xmax = float(st["years"].max())
                ref_name = info.t(reference_label)
                line = _reference(ax, reference, xmax, ref_name, hollow=True)
                if line is not None:
                    handles.setdefault(ref_name, line)
            ax.set_title(info.t(GROUP_LABELS.get(fg, fg)), loc="left")
            ax.set_ylim(0, 102)
            ax.set_xlabel(info.t("years since arrival"))
            years = sorted(set(st["years"]))
            ax.set_xticks(years)
            ax.set_xlim(min(years) - 0.5, max(years) + 0.5)
            if i == 0:
                ax.set_ylabel(info.t("not failed (%)"))
        if not firm_groups:
            no_data(axes[0], info.t("no survival estimates (the horizon is shorter than a year?)"))
        place_legend(legend_ax, list(handles.values()), list(handles))
        if title is None:
            shown = [f"{y:g}" for y in sorted(set(st["years"]))]
            at = (
                info.t("{first} and {last}", first=info.t(", ").join(shown[:-1]), last=shown[-1])
                if len(shown) > 1
                else "".join(shown)
            )
            if shown:
                title = info.t("Share of firms not failed {at} years after arrival", at=at)
            else:
                title = info.t("Share of firms not failed")
        reps = int(st["n"].max()) if len(st) else 0
        caption = info.t(
            "Kaplan-Meier survival of each replication at 1, 3, 5 and 10 years (where the horizon reaches); "
            "points: mean over {reps} replications; bars: 95% t-based confidence interval.",
            reps=reps,
        )
        return finish_figure(fig, title, info, caption)
