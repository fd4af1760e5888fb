"""Chain flow: how firms move from stage to stage and on to their outcome (a Sankey-style diagram).

The flows come from the event log: each firm's ``admit`` events, in order, give its path (entry stage,
next stage, ...) and its ``fail`` / ``exit`` event (or neither: still active at the horizon) its
outcome. Column ``j`` of the diagram holds every firm's ``j+1``-th stage; a firm whose path has ended
is carried along a lane of its outcome's colour to the last column, which holds every firm's status at
the horizon. So every column accounts for every firm, and band widths are proportional to firms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath

from .style import (
    OUTCOME_COLOURS,
    TEXT_GREY,
    FigureInfo,
    end_date_text,
    finish_figure,
    new_figure,
    no_data,
    stage_colours,
    style_context,
    text_width,
    tint,
    wrap_text,
)

__all__ = ["FLOW_COLUMNS", "OUTCOME_LABELS", "chain_flows", "flow_figure"]

FLOW_COLUMNS = ("step", "source_kind", "source", "target_kind", "target", "firms", "replications")
"""Columns of :func:`chain_flows`."""

OUTCOMES = ("active", "exited", "failed")
OUTCOME_LABELS = {"active": "Active at the horizon", "exited": "Exited", "failed": "Failed"}
NOT_ADMITTED = "not_admitted"

STAGE, OUTCOME, NONE = "stage", "outcome", "none"

OUTCOME_HATCHES = {"failed": "///", "exited": "..."}
"""Hatching of bands, lanes and nodes of outcomes, so failures stand out in greyscale too."""

LANE_TINT = 0.3
"""Strength of the colour of lanes that carry firms whose path has ended (see :func:`tint`)."""


def chain_flows(events: pd.DataFrame, max_steps: int = 6) -> pd.DataFrame:
    """Firms moving between the diagram's columns, from the event log.

    Parameters
    ----------
    events:
        An event log (:attr:`sim.RunResult.events`), of one or several replications.
    max_steps:
        Most stages drawn per firm; a longer path is cut after its ``max_steps``-th stage (the firm
        still reaches its outcome).

    Returns
    -------
    pandas.DataFrame
        One row per band (:data:`FLOW_COLUMNS`): ``step`` (the source column, 0 = the firm's first
        stage), ``source_kind`` / ``target_kind`` (``stage``, ``outcome``, or ``none`` for firms
        never admitted anywhere), ``source`` / ``target`` (a stage name, or ``active`` / ``exited`` /
        ``failed``, or ``not_admitted``), ``firms`` (per replication: the mean over the replications
        in ``events``) and ``replications`` (how many).
    """
    if max_steps < 1:
        raise ValueError(f"max_steps: must be >= 1, got {max_steps}")
    ev = events[["replication", "firm", "event", "stage"]]
    kind = ev["event"].astype(str)
    firms = ev.loc[kind == "arrive", ["replication", "firm"]].drop_duplicates()
    n_reps = int(firms["replication"].nunique())
    if firms.empty:
        return pd.DataFrame(columns=list(FLOW_COLUMNS))
    key = ["replication", "firm"]
    outcome = pd.Series("active", index=pd.MultiIndex.from_frame(firms), dtype=object)
    for event, name in (("fail", "failed"), ("exit", "exited")):
        done = ev.loc[kind == event, key]
        outcome.loc[pd.MultiIndex.from_frame(done)] = name
    adm = ev.loc[kind == "admit", [*key, "stage"]].copy()
    adm["step"] = adm.groupby(key, sort=False).cumcount()
    adm = adm[adm["step"] < max_steps]
    path = adm.pivot_table(index=key, columns="step", values="stage", aggfunc="first", observed=True)
    path = path.reindex(outcome.index)
    n_cols = max(1, path.shape[1])
    nodes = np.empty((len(outcome), n_cols + 1), dtype=object)
    kinds = np.empty_like(nodes)
    out_values = outcome.to_numpy()
    for j in range(n_cols + 1):
        stage_j = path[j].to_numpy(dtype=object) if j in path.columns else np.full(len(outcome), None, dtype=object)
        has = pd.notna(stage_j)
        nodes[:, j] = np.where(has, stage_j, out_values)
        kinds[:, j] = np.where(has, STAGE, OUTCOME)
    never = pd.isna(path[0]).to_numpy() if 0 in path.columns else np.ones(len(outcome), dtype=bool)
    nodes[never, 0] = NOT_ADMITTED
    kinds[never, 0] = NONE
    rows = []
    for j in range(n_cols):
        frame = pd.DataFrame(
            {
                "source_kind": kinds[:, j],
                "source": nodes[:, j],
                "target_kind": kinds[:, j + 1],
                "target": nodes[:, j + 1],
            }
        )
        counts = frame.value_counts(sort=False).reset_index(name="n")
        counts.insert(0, "step", j)
        rows.append(counts)
    flows = pd.concat(rows, ignore_index=True)
    flows["firms"] = flows.pop("n") / n_reps
    flows["replications"] = n_reps
    return flows[list(FLOW_COLUMNS)].reset_index(drop=True)


@dataclass
class _Node:
    column: int
    kind: str
    name: str
    value: float
    y0: float = 0.0  # bottom
    out_used: float = 0.0  # from the top, for outgoing bands
    in_used: float = 0.0  # from the top, for incoming bands

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.column, self.kind, self.name)

    @property
    def top(self) -> float:
        return self.y0 + self.value

    @property
    def centre(self) -> float:
        return self.y0 + self.value / 2


def _order(kind: str, name: str, stages: Sequence[str]) -> tuple[int, int]:
    if kind == STAGE:
        return (0, stages.index(name) if name in stages else len(stages))
    if kind == NONE:
        return (1, 0)
    return (2, OUTCOMES.index(name) if name in OUTCOMES else len(OUTCOMES))


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value - round(value)) < 1e-9 else f"{value:,.1f}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _band(x0: float, x1: float, top0: float, bot0: float, top1: float, bot1: float) -> MplPath:
    xm = (x0 + x1) / 2
    verts = [
        (x0, top0),
        (xm, top0),
        (xm, top1),
        (x1, top1),
        (x1, bot1),
        (xm, bot1),
        (xm, bot0),
        (x0, bot0),
        (x0, top0),
    ]
    codes = [MplPath.MOVETO, *[MplPath.CURVE4] * 3, MplPath.LINETO, *[MplPath.CURVE4] * 3, MplPath.CLOSEPOLY]
    return MplPath(verts, codes)


def _spread(centres: list[float], heights: list[float], low: float, high: float) -> list[float]:
    """Label positions near ``centres`` (sorted top-down) that keep labels of ``heights`` apart, in [low, high]."""
    pos = list(centres)
    for _ in range(50):
        moved = False
        for i in range(1, len(pos)):
            min_gap = (heights[i - 1] + heights[i]) / 2
            if pos[i - 1] - pos[i] < min_gap:
                push = (min_gap - (pos[i - 1] - pos[i])) / 2
                pos[i - 1] += push
                pos[i] -= push
                moved = True
        if pos:
            if pos[0] > high:
                shift = pos[0] - high
                pos = [p - shift for p in pos]
            if pos[-1] < low:
                shift = low - pos[-1]
                pos = [p + shift for p in pos]
        if not moved:
            break
    return pos


def flow_figure(
    flows: pd.DataFrame,
    info: FigureInfo | None = None,
    *,
    title: str = "How firms move through the chain",
    horizon_years: float | None = None,
    width: float = 11.0,
    height: float = 6.5,
) -> Figure:
    """Sankey-style chain flow: firms from stage to stage and on to their outcome.

    Parameters
    ----------
    flows:
        :func:`chain_flows` output.
    info:
        Footer and stage names and colours (:meth:`FigureInfo.from_scenario`).
    title:
        The figure's title.
    horizon_years:
        Years simulated (names the last column by its calendar year when the start is known).
    width, height:
        Figure size, inches.

    Returns
    -------
    matplotlib.figure.Figure
        Nodes are rectangles labelled with their name and firms (text ``gid``
        ``flow-node:<column>:<name>``); bands are patches whose width is proportional to firms, the
        wider ones labelled with their firms (text ``gid`` ``flow-band:<step>:<source>-><target>``).
    """
    info = info or FigureInfo()
    with style_context():
        fig = new_figure(width, height)
        ax = fig.add_subplot()
        if flows.empty or float(flows["firms"].sum()) <= 0:
            no_data(ax, info.t("no firms"))
            return finish_figure(fig, title, info)
        caption = _draw(ax, fig, flows, info, horizon_years)
        return finish_figure(fig, title, info, caption)


def _draw(ax: Axes, fig: Figure, flows: pd.DataFrame, info: FigureInfo, horizon_years: float | None) -> str:
    stages_seen = [
        str(s)
        for s in pd.unique(
            pd.concat(
                [flows.loc[flows.source_kind == STAGE, "source"], flows.loc[flows.target_kind == STAGE, "target"]]
            )
        )
    ]
    stage_order = list(info.stage_order) + [s for s in stages_seen if s not in info.stage_order]
    colours = stage_colours(stage_order, info)
    n_cols = int(flows["step"].max()) + 2
    # Nodes: sources of step j in column j; targets of the last step in the last column.
    nodes: dict[tuple[int, str, str], _Node] = {}
    for row in flows.itertuples(index=False):
        j = int(row.step)
        for column, kind, name in ((j, row.source_kind, row.source), (j + 1, row.target_kind, row.target)):
            nodes.setdefault((column, str(kind), str(name)), _Node(column, str(kind), str(name), 0.0))
    out_sum = flows.groupby(["step", "source_kind", "source"], sort=False)["firms"].sum()
    in_sum = flows.groupby(["step", "target_kind", "target"], sort=False)["firms"].sum()
    for node in nodes.values():
        if node.column < n_cols - 1:
            node.value = float(out_sum.get((node.column, node.kind, node.name), 0.0))
        else:
            node.value = float(in_sum.get((node.column - 1, node.kind, node.name), 0.0))
    total = max(float(flows.loc[flows.step == 0, "firms"].sum()), 1e-9)
    gap = 0.035 * total
    columns: list[list[_Node]] = []
    for c in range(n_cols):
        col = sorted((n for n in nodes.values() if n.column == c), key=lambda n: _order(n.kind, n.name, stage_order))
        y = 0.0  # stack from the bottom: outcome lanes stay level from column to column
        for node in reversed(col):
            node.y0 = y
            y += node.value + gap
        columns.append(col)
    top = max(sum(n.value for n in col) + gap * (len(col) - 1) for col in columns)
    xs = np.arange(n_cols, dtype=float)
    node_w = 0.045
    ax.set_xlim(-0.03, n_cols - 1 + 0.75)
    ax.set_ylim(-0.02 * total, top * 1.1)
    ax.set_axis_off()
    # text heights in data units, to decide which bands can hold a label
    fig_h = fig.get_figheight() * 0.8  # about the axes' share of the figure
    per_inch = (top * 1.12) / fig_h
    line_h = 8.5 / 72 * per_inch

    def colour(kind: str, name: str) -> str:
        if kind == OUTCOME:
            return OUTCOME_COLOURS.get(name, TEXT_GREY)
        if kind == NONE:
            return "#BBBBBB"
        return colours.get(name, TEXT_GREY)

    band_labels: list[tuple[float, float, str, str]] = []  # (right end x, y, text, gid)
    # bands, in column order; within a node, outgoing bands ordered by their target's height
    for j in range(n_cols - 1):
        part = flows[flows.step == j]
        items = []
        for row in part.itertuples(index=False):
            src = nodes[(j, str(row.source_kind), str(row.source))]
            dst = nodes[(j + 1, str(row.target_kind), str(row.target))]
            items.append((src, dst, float(row.firms)))
        for src, dst, v in sorted(items, key=lambda it: (-it[0].centre, -it[1].centre)):
            top0 = src.top - src.out_used
            src.out_used += v
            dst_in = [it for it in items if it[1] is dst]
            above = sum(w for s, _, w in dst_in if s.centre > src.centre)
            top1 = dst.top - above
            x0, x1 = xs[j] + node_w / 2, xs[j + 1] - node_w / 2
            carry = src.kind == OUTCOME
            # Lanes are opaque tints that overlap their neighbours a little, so no seam shows where they join.
            seam = node_w * 0.1
            hatch = OUTCOME_HATCHES.get(dst.name, "") if dst.kind == OUTCOME else ""
            patch = PathPatch(
                _band(x0 - seam * carry, x1 + seam, top0, top0 - v, top1, top1 - v),
                facecolor=tint(colour(dst.kind, dst.name), LANE_TINT) if carry else colour(dst.kind, dst.name),
                edgecolor=tint(colour(dst.kind, dst.name), 0.6) if hatch else "none",
                linewidth=0.0,
                hatch=hatch or None,
                alpha=1.0 if carry else 0.45,
                zorder=0.5 if carry else 1.0,
                gid=f"flow-band-patch:{j}:{src.name}->{dst.name}",
            )
            ax.add_patch(patch)
            if not carry and v >= 1.3 * line_h:
                # labelled at the target end, away from the source node's label
                y_end = top1 - v / 2
                band_labels.append((x1 - 0.012, y_end, _fmt(v), f"flow-band:{j}:{src.name}->{dst.name}"))
    # nodes and their labels; label boxes are estimated in data units to keep band labels off them
    x_span = (n_cols - 1 + 0.75) + 0.03
    x_per_inch = x_span / (fig.get_figwidth() * 0.97)

    def text_w(text: str, size: float) -> float:
        return text_width(text) * size * 0.6 / 72 * x_per_inch

    taken: list[tuple[float, float, float, float]] = []  # (x0, x1, y0, y1) of labels placed
    for c, col in enumerate(columns):
        last = c == n_cols - 1
        labelled = []
        for node in col:
            lane = node.kind == OUTCOME and not last  # an outcome in mid-chart is a lane, not a node
            ax.add_patch(
                Rectangle(
                    (xs[c] - node_w / 2, node.y0),
                    node_w,
                    node.value,
                    facecolor=tint(colour(node.kind, node.name), LANE_TINT) if lane else colour(node.kind, node.name),
                    edgecolor=(tint(colour(node.kind, node.name), 0.6) if lane else "#333333"),
                    hatch=(OUTCOME_HATCHES.get(node.name) or None) if node.kind == OUTCOME else None,
                    zorder=1.5 if lane else 2.0,
                    linewidth=0.0 if lane else 0.6,
                    gid=f"flow-node-patch:{c}:{node.name}",
                )
            )
            if not lane:
                labelled.append(node)
        names = [
            info.t(OUTCOME_LABELS.get(n.name, n.name))
            if n.kind == OUTCOME
            else info.t("Never admitted")
            if n.kind == NONE
            else info.label(n.name)
            for n in labelled
        ]
        room = (0.72 if last else 0.8) - node_w / 2 - 0.02  # to the figure's edge, or most of a column gap
        texts = [
            _node_text(name, _fmt(n.value), room, lambda t: text_w(t, 8.5))
            for name, n in zip(names, labelled, strict=True)
        ]
        heights = [(t.count("\n") + 1) * line_h * 1.25 for t in texts]
        ys = _spread([n.centre for n in labelled], heights, 0.0, top)
        for node, text, y, h in zip(labelled, texts, ys, heights, strict=True):
            x = xs[c] + node_w / 2 + 0.02
            ax.text(
                x,
                y,
                text,
                ha="left",
                va="center",
                fontsize=8.5,
                fontweight="bold" if last else "normal",
                gid=f"flow-node:{c}:{node.name}",
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
            )
            width = max(text_w(line, 8.5) for line in text.split("\n"))
            taken.append((x, x + width, y - h / 2, y + h / 2))
    # band labels where they do not cover a node's label or another band's (the node labels give counts too)
    for x_right, y, text, gid in band_labels:
        box = (x_right - text_w(text, 8.0), x_right, y - line_h * 0.55, y + line_h * 0.55)
        if any(box[0] < b[1] and b[0] < box[1] and box[2] < b[3] and b[2] < box[3] for b in taken):
            continue
        taken.append(box)
        ax.text(
            x_right,
            y,
            text,
            ha="right",
            va="center",
            fontsize=8,
            gid=gid,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.7},
        )
    # column headings
    for c in range(n_cols):
        if c == n_cols - 1:
            if horizon_years is None:
                head = info.t("Status at the horizon")
            else:
                head = info.t("Status at the horizon ({date})", date=end_date_text(info, horizon_years))
        elif c == 0:
            head = info.t("1st stage (entry)")
        else:
            head = info.t("{ordinal} stage", ordinal=_ordinal(c + 1), n=c + 1)
        ax.text(
            xs[c],
            top * 1.05,
            head,
            ha="center" if c < n_cols - 1 else "left",
            va="bottom",
            fontsize=9,
            color=TEXT_GREY,
            fontweight="bold",
            gid=f"flow-column:{c}",
        )
    # a scale bar: band widths are firms
    unit = _nice(total / 8)
    bx = n_cols - 1 + 0.55
    ax.plot([bx, bx], [0, unit], color="black", linewidth=2.5, solid_capstyle="butt", gid="flow-scale")
    scale = info.t("{firms} firms", firms=_fmt(unit))
    ax.text(bx + 0.015, unit / 2, scale, ha="left", va="center", fontsize=7.5, color=TEXT_GREY)
    reps = int(flows["replications"].iloc[0])
    per = info.t("mean per replication over {reps} replications", reps=reps) if reps > 1 else info.t("one replication")
    return info.t(
        "Each column accounts for all {total} firms ({per}). Band width is proportional to firms; numbers are firms. "
        "Faint lanes carry firms whose path has ended to their status at the horizon; failures are hatched.",
        total=_fmt(total),
        per=per,
    )


def _node_text(name: str, count: str, room: float, width: Callable[[str], float]) -> str:
    """``name  count`` on one line if it fits in ``room`` (data units), else the name wrapped, count below."""
    one = f"{name}  {count}"
    if width(one) <= room:
        return one
    per_char = width("x" * 10) / 10
    lines = wrap_text(name, max(8, int(room / per_char))).split("\n")
    if width(f"{lines[-1]}  {count}") <= room:
        lines[-1] = f"{lines[-1]}  {count}"
    else:
        lines.append(count)
    return "\n".join(lines)


def _nice(x: float) -> float:
    """A round number close to ``x`` (1, 2 or 5 times a power of ten)."""
    if x <= 0:
        return 1.0
    exp = 10 ** np.floor(np.log10(x))
    for m in (1, 2, 5, 10):
        if m * exp >= x * 0.7:
            return float(m * exp)
    return float(10 * exp)
