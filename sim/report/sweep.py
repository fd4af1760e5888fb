"""The sweep report: each metric against the swept values, and paired differences from the first point."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..experiment import ExperimentResult
from ..experiment.design import SWEEP_METRICS, sweep_differences
from ..plot import FigureInfo, metric_label
from ..plot.effects import metric_unit
from ..plot.sweep import point_text, sweep_figure
from ..scenario import Scenario, load_scenario
from .content import _calendar_rows, _fmt, _pct, _provenance_rows, _signed, _subtitle
from .loading import _folder_meta, _read_table
from .page import _code, _Figure, _figures_html, _kv_table, _section, _table, _write, shared_doc


@shared_doc
def write_sweep_report(
    out_dir: str | Path,
    result: ExperimentResult | None = None,
    *,
    summary: pd.DataFrame | None = None,
    stats: pd.DataFrame | None = None,
    meta: Mapping[str, Any] | None = None,
    metrics: Sequence[str] = SWEEP_METRICS,
    formats: Sequence[str] = ("png", "svg"),
) -> Path:
    """Write ``report.html`` and ``figures/`` for a sweep (:func:`sim.sweep`, ``incuchain sweep``).

    Inputs not given are taken from ``result``, then from the files in ``out_dir`` (``summary.csv``,
    ``summary_stats.csv``, ``meta.json`` with the points' swept values, ``scenarios/p000.toml``).

    Parameters
    ----------
    out_dir:
        The sweep's folder; the report and ``figures/`` are written there.
    result:
        The sweep's :class:`~sim.ExperimentResult`.
    summary, stats:
        One row per point and replication, and statistics per point and metric (``arm`` column).
    $meta
    metrics:
        Metrics in the tables and the figure (those without values are left out).
    $formats

    Raises
    ------
    ValueError
        No statistics or no points, given or in ``out_dir``.
    """
    out = Path(out_dir)
    scenario: Scenario | None = result.arms[0].scenario if result is not None else None
    info_meta: dict[str, Any] = {**_folder_meta(out, [scenario]), **dict(meta or {})}
    if result is not None:
        summary = summary if summary is not None else result.summary
        stats = stats if stats is not None else result.stats
        info_meta = {**info_meta, **result.meta}
        points = [(a.label, dict(a.params)) for a in result.arms]
    else:
        points = [(str(a["label"]), dict(a.get("params") or {})) for a in info_meta.get("arms", [])]
    if summary is None:
        summary = _read_table(out / "summary.csv")
    if stats is None:
        stats = _read_table(out / "summary_stats.csv")
    if stats is None or not points:
        raise ValueError(f"{out}: no sweep to report (summary_stats.csv and the points in meta.json)")
    first = out / "scenarios" / f"{points[0][0]}.toml"
    if scenario is None and first.is_file():
        scenario = load_scenario(first)
    seed: int | None = info_meta.get("seed")
    reps = int(stats["n"].max()) if len(stats) else 0
    name = scenario.name if scenario is not None else str(info_meta.get("scenario", "sweep"))
    info = (
        FigureInfo.from_scenario(scenario, seed, range(reps))
        if scenario is not None
        else FigureInfo(scenario=name, seed=seed, replications=tuple(range(reps)))
    )
    has_values = stats[stats["n"] > 0]
    shown = [m for m in metrics if m in set(has_values["metric"])]
    keys = list(dict.fromkeys(k for _, params in points for k in params))

    rows = [
        ("Scenario", name),
        ("Swept", ", ".join(keys) or "-"),
        ("Points", f"{len(points)}, each of {reps} replications on the same random numbers"),
        ("Seed", "-" if seed is None else str(seed)),
    ]
    if scenario is not None:
        rows += _calendar_rows(scenario)
    rows += _provenance_rows(info_meta)
    reproduce = _code(_sweep_command(points, keys, reps, seed)) if seed is not None and reps else ""

    by = stats.set_index(["arm", "metric"])
    table_rows = []
    for label, params in points:
        cells = [_mean_ci(by.loc[(label, m)], m) if (label, m) in by.index else "-" for m in shown]
        table_rows.append([label, *(str(params.get(k, "-")) for k in keys), *cells])
    results = _table(
        ["point", *keys, *(metric_label(m, info.label) for m in shown)],
        table_rows,
        numeric=tuple(range(1 + len(keys), 1 + len(keys) + len(shown))),
    ) + ("<p class='small'>Mean ± 95% confidence-interval half-width over the replications of each point.</p>")

    sections = [
        _section("What was swept", _kv_table(rows) + reproduce),
        _section("Results by point", results),
    ]
    if summary is not None and len(points) > 1:
        diffs = sweep_differences(summary, [label for label, _ in points], shown)
        sections.append(_section("Differences from the first point", _differences_html(diffs, points, info)))
    figures = []
    if shown:
        figures.append(
            _Figure(
                "sweep",
                "Outcomes across the sweep",
                "Each outcome's mean at every point of the sweep, with 95% confidence intervals.",
                sweep_figure(stats, points, info, metrics=shown),
            )
        )
    sections.append(_section("Figures", _figures_html(out, figures, formats)))
    sections.append(
        _section(
            "Notes",
            "<ul><li>Every point runs on the same replications and random numbers (common random numbers), so "
            "differences between points are paired replication by replication.</li>"
            "<li>n.s.: the difference's 95% interval contains 0 (not significant).</li>"
            "<li>Every metric of every point is in summary_stats.csv; every replication in summary.csv.</li></ul>",
        )
    )
    return _write(out, f"incuchain sweep: {name}", _subtitle(scenario), sections)


def _mean_ci(row: pd.Series, metric: str) -> str:
    """``mean ± half-width`` (shares in per cent); the mean alone without an interval."""
    if int(row["n"]) == 0:
        return "-"
    share = metric_unit(metric) == "share"
    mean = _pct(float(row["mean"])) if share else _fmt(float(row["mean"]))
    low, high = float(row["ci_low"]), float(row["ci_high"])
    if math.isnan(low) or high == low:
        return mean
    half = (high - low) / 2 * (100 if share else 1)
    return f"{mean} ± {_fmt(half)}{' pp' if share else ''}"


def _differences_html(diffs: pd.DataFrame, points: Sequence[tuple[str, Mapping[str, Any]]], info: FigureInfo) -> str:
    params = dict(points)
    first_label, first_params = points[0]
    metrics = list(dict.fromkeys(diffs["metric"]))
    rows = []
    for label, part in diffs.groupby("arm", sort=False):
        cells = []
        by = part.set_index("metric")
        for m in metrics:
            r = by.loc[m]
            share = metric_unit(m) == "share"
            text = _signed(float(r["diff_mean"]), share)
            if not math.isnan(float(r["ci_low"])):
                text += f" [{_signed(float(r['ci_low']), share)}, {_signed(float(r['ci_high']), share)}]"
                text += "" if bool(r["significant"]) else " n.s."
            cells.append(text)
        rows.append([f"{label} ({point_text(params[str(label)])})", *cells])
    return _table(
        [f"point − {first_label} ({point_text(first_params)})", *(metric_label(m, info.label) for m in metrics)],
        rows,
        numeric=tuple(range(1, len(metrics) + 1)),
    ) + (
        "<p class='small'>Mean paired difference [95% CI]; survival in percentage points (pp). "
        "n.s.: the interval contains 0.</p>"
    )


def _sweep_command(points: Sequence[tuple[str, Mapping[str, Any]]], keys: Sequence[str], reps: int, seed: int) -> str:
    """The ``incuchain sweep`` command that reruns the design from the first point's scenario file."""

    def text(v: Any) -> str:
        return str(v).lower() if isinstance(v, bool) else str(v)

    values = {k: [text(p.get(k)) for _, p in points] for k in keys}
    distinct = {k: list(dict.fromkeys(v)) for k, v in values.items()}
    crossed = math.prod(len(v) for v in distinct.values()) == len(points)
    sets = " ".join(f"--set {k}={','.join(distinct[k] if crossed else values[k])}" for k in keys)
    zipped = "" if crossed or len(keys) < 2 else " --zip"
    return f"incuchain sweep scenarios/{points[0][0]}.toml {sets}{zipped} --reps {reps} --seed {seed}"
