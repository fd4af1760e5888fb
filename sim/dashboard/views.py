"""What the page shows, as plain functions of scenarios and results (no Panel in here).

Every function is a thin call into the public API -- :func:`sim.run`, :func:`sim.compare`, the
figure functions of :mod:`sim.plot`, :func:`sim.report.write_comparison_report` and the closed-form
twin :func:`sim.analytic.solve` -- and returns bytes (PNG figures), numbers or text, so the page only
places them and the tests call them without a browser.

* :func:`render_world` -- one replication of one world and its figures (runs in a worker process);
* :func:`numbers_table` -- the headline numbers of both worlds, with paired intervals when known;
* :func:`comparison_figures` -- the paired effects, the change per stage and the cost per outcome;
* :func:`comparisons` -- paired replications in growing steps, for the 'more precision' button;
* :func:`twin_text` -- the closed-form answer for both worlds, or why there is none;
* :func:`report_html` and :func:`scenario_toml` -- what the download buttons give.
"""

from __future__ import annotations

import io
import math
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from ..analytic import NotClosedForm, solve
from ..api import run
from ..executors import parallelism
from ..experiment import Comparison, compare
from ..experiment.tasks import run_batch
from ..plot import (
    FigureInfo,
    bls_reference,
    chain_flows,
    cost_effectiveness_figure,
    effects_figure,
    flow_figure,
    occupancy_difference_figure,
    occupancy_figure,
    spend_figure,
    style_context,
    survival_figure,
    uses_age_clock,
)
from ..plot.lang import stage_name
from ..results import RunResult
from ..scenario import Scenario, parse_scenario
from .i18n import Lang, text

__all__ = [
    "HEADLINE",
    "WORLD_FIGURES",
    "Cancelled",
    "Progress",
    "WorldView",
    "comparison_figures",
    "comparisons",
    "figure_info",
    "numbers_table",
    "paired_figures",
    "png",
    "render_world",
    "report_html",
    "scenario_toml",
    "twin_text",
    "world_figures",
]

HEADLINE: tuple[tuple[str, str], ...] = (
    ("firms", "firms_total"),
    ("active_at_horizon", "active_at_horizon"),
    ("failed", "failed"),
    ("exited", "exited"),
    ("survival.all.5y", "survival_5"),
    ("budget.total_yuan", "spend_total"),
)
"""(summary metric, text key) of the headline numbers table."""

STEPS: tuple[int, ...] = (5,)
"""Replication counts at which 'more precision' shows intervals before its target (then the target)."""

FIGURE_DPI = 80.0

WORLD_FIGURES: tuple[str, ...] = ("flow", "occupancy", "survival", "spend")
"""The figures of one world (:func:`render_world`)."""


class Cancelled(Exception):
    """The user cancelled a run of paired replications."""


def png(fig: Figure, dpi: float = FIGURE_DPI) -> bytes:
    """A figure as PNG bytes (the figure is closed)."""
    buf = io.BytesIO()
    with style_context():  # the style's font list (with a Chinese font when installed) applies when drawn
        fig.savefig(buf, format="png", dpi=dpi)
    fig.clear()
    return buf.getvalue()


def figure_info(scenario: Scenario, lang: Lang, replications: tuple[int, ...] = (0,), seed: int = 0) -> FigureInfo:
    """The figures' footer, stage names and every text drawn in them, in ``lang``."""
    return FigureInfo.from_scenario(scenario, seed, replications, lang=lang)


@dataclass(frozen=True)
class WorldView:
    """One replication of one world: PNG figures by view, headline numbers and the time it took.

    ``figures`` keys: ``flow``, ``occupancy``, ``survival`` and, when the world has policies,
    ``spend``. ``numbers``: summary metric -> value (see :data:`HEADLINE`).
    """

    role: str
    scenario_name: str
    figures: Mapping[str, bytes]
    numbers: Mapping[str, float]
    seconds: float = 0.0


def render_world(toml_text: str, seed: int, lang: Lang, role: str, views: tuple[str, ...] = WORLD_FIGURES) -> WorldView:
    """Replication 0 of the scenario in ``toml_text`` (root ``seed``) and its figures, titled in ``lang``.

    A plain function of its arguments (it runs in a worker process): the scenario travels as TOML.
    Only the figures in ``views`` are drawn (drawing is most of the time); ``spend`` only when the
    world has policies.
    """
    start = time.perf_counter()
    sc = parse_scenario(tomllib.loads(toml_text))
    res = run(sc, seed=seed, replication=0)
    figures = {v: png(fig) for v, fig in world_figures(sc, res, lang, views)}
    summary = res.summary()
    # every headline number; a survival the run cannot estimate is NaN (shown as "-"), spend without policies 0
    numbers = {key: float(summary.get(key, math.nan)) for key, _ in HEADLINE}
    numbers["budget.total_yuan"] = float(summary.get("budget.total_yuan", 0.0))
    return WorldView(role, sc.name, figures, numbers, time.perf_counter() - start)


def world_figures(
    sc: Scenario, res: RunResult, lang: Lang, views: tuple[str, ...] = WORLD_FIGURES
) -> Iterator[tuple[str, Figure]]:
    """The figures of one world's replication ``res`` in ``views`` (``spend`` only when the world has
    policies), drawn one at a time, every text in ``lang``."""
    info = figure_info(sc, lang, (res.replication,), res.seed)
    draw: dict[str, Callable[[], Figure]] = {
        "flow": lambda: flow_figure(
            chain_flows(res.events), info, title=text("fig_flow", lang), horizon_years=sc.calendar.horizon_years
        ),
        "occupancy": lambda: occupancy_figure(res.timeseries, info, title=text("fig_occupancy", lang)),
        "survival": lambda: survival_figure(
            res.firms,
            info,
            title=text("fig_survival", lang),
            reference=bls_reference() if uses_age_clock(sc) else None,
        ),
        "spend": lambda: spend_figure(res.ledger, info, title=text("fig_spend", lang)),
    }
    for v in views:
        if v != "spend" or sc.policies:
            yield v, draw[v]()


def _fmt(value: float, key: str, lang: Lang) -> str:
    if value != value:
        return "-"
    if key.startswith("survival"):
        return f"{value:.1%}"
    if key.startswith("budget"):  # millions of yuan; in Chinese, 万元 (ten thousands), as budgets are written
        return f"{value / 1e4:,.1f} 万元" if lang == "zh" else f"{value / 1e6:,.2f} M"
    return f"{value:,.0f}"


def _signed(value: float, key: str, lang: Lang) -> str:
    body = _fmt(value, key, lang)
    return f"+{body}" if value > 0 and body != "-" else body


def numbers_table(base: WorldView, variant: WorldView, lang: Lang, effects: pd.DataFrame | None = None) -> pd.DataFrame:
    """Headline numbers of both worlds, their difference and, from paired replications, its interval.

    Without ``effects`` the numbers are replication 0 of each world (no interval); with
    :attr:`sim.Comparison.effects` they are means over the paired replications.
    """
    rows = []
    by_metric = effects.set_index("metric") if effects is not None else None
    for key, label in HEADLINE:
        if key.startswith("budget") and not (base.numbers.get(key) or variant.numbers.get(key)):
            continue
        if by_metric is not None and key in by_metric.index:
            row = by_metric.loc[key]
            b, v, d = float(row["baseline_mean"]), float(row["variant_mean"]), float(row["diff_mean"])
            lo, hi = float(row["ci_low"]), float(row["ci_high"])
            if key.startswith("budget") and (b != b or v != v):
                # A world without policies has no budget metric: it spends nothing.
                b, v = (0.0 if b != b else b), (0.0 if v != v else v)
                d, lo, hi = v - b, math.nan, math.nan
            interval = "-" if lo != lo else f"[{_signed(lo, key, lang)}, {_signed(hi, key, lang)}]"
        else:
            b, v = base.numbers.get(key, math.nan), variant.numbers.get(key, math.nan)
            d, interval = v - b, "-"
        rows.append(
            {
                text("metric", lang): text(label, lang),
                text("baseline", lang): _fmt(b, key, lang),
                text("variant", lang): _fmt(v, key, lang),
                text("difference", lang): _signed(d, key, lang),
                text("interval", lang): interval,
            }
        )
    return pd.DataFrame(rows)


def comparison_figures(cmp: Comparison, baseline: Scenario, lang: Lang) -> dict[str, bytes]:
    """The paired views of a comparison as PNG: ``effects`` (forest plot), ``occupancy_difference`` and,
    when either world has policies, ``cost`` (yuan per additional outcome). Needs at least 2 replications."""
    return {name: png(fig) for name, fig in paired_figures(cmp, baseline, lang)}


def paired_figures(cmp: Comparison, baseline: Scenario, lang: Lang) -> Iterator[tuple[str, Figure]]:
    """The figures of :func:`comparison_figures`, drawn one at a time, every text in ``lang``."""
    reps = cmp.experiment.reps
    info = figure_info(baseline, lang, tuple(range(reps)), cmp.experiment.seed)
    yield "effects", effects_figure(cmp.effects, info, title=text("fig_effects", lang), level=cmp.level)
    timeseries = cmp.experiment.timeseries
    yield "occupancy_difference", occupancy_difference_figure(timeseries, info, title=text("fig_occ_diff", lang))
    if cmp.cost_effectiveness is not None:
        yield "cost", cost_effectiveness_figure(cmp.cost_effectiveness, info, title=text("fig_cost", lang))


class _CountingExecutor(Executor):
    """Wraps an executor: counts the replications of finished tasks (a task is a batch of them) and refuses
    new tasks once cancelled. Runs as many tasks at once as the executor it wraps."""

    def __init__(self, inner: Executor, on_done: Callable[[int], None], cancelled: threading.Event) -> None:
        self.inner = inner
        self.on_done = on_done
        self.cancelled = cancelled
        self._max_workers = parallelism(inner)  # what sim.executors.parallelism reads of an executor it does not know

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self.cancelled.is_set():
            raise Cancelled("cancelled")
        replications = len(args[0]) if fn is run_batch else 1
        fut = self.inner.submit(fn, *args, **kwargs)
        fut.add_done_callback(lambda _f: self.on_done(replications))
        return fut


@dataclass
class Progress:
    """Replications finished out of the total planned (both worlds count), shared with a thread."""

    done: int = 0
    total: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def tick(self, replications: int = 1) -> None:
        with self.lock:
            self.done += replications


def comparisons(
    baseline: Scenario,
    variant: Scenario,
    reps: int,
    seed: int,
    executor: Executor,
    *,
    progress: Progress | None = None,
    cancelled: threading.Event | None = None,
    steps: tuple[int, ...] = STEPS,
) -> Iterator[Comparison]:
    """Paired comparisons of growing size: one at each of ``steps`` below ``reps``, then at ``reps``.

        Each is :func:`sim.compare` (no independent-streams arm, no per-instrument arms) with ``reps``
        replications of both worlds, so its intervals are those of ``incuchain compare --no-independent
        --no-per-instrument``. Setting ``cancelled`` stops before the next batch of replications is sent
    (:class:`Cancelled`).
    """
    sizes = [n for n in steps if 2 <= n < reps] + [reps]
    prog = progress or Progress()
    stop = cancelled or threading.Event()
    prog.total = 2 * sum(sizes)
    wrapped = _CountingExecutor(executor, prog.tick, stop)
    for n in sizes:
        yield compare(
            baseline,
            variant,
            reps=n,
            seed=seed,
            independent=False,
            per_instrument=False,
            executor=wrapped,
            progress=False,
        )


def twin_text(baseline: Scenario, variant: Scenario, lang: Lang) -> str:
    """The closed-form twin's answer for both worlds (Markdown), or one line saying why it has none."""
    try:
        a, b = solve(baseline), solve(variant)
    except NotClosedForm as exc:
        reasons = exc.reasons
        more = text("twin_more", lang, n=len(reasons) - 1) if len(reasons) > 1 else ""
        return text("twin_cannot", lang) + str(reasons[0]) + more
    lines = [
        text("twin_exact", lang),
        "",
        f"| | {text('baseline', lang)} | {text('variant', lang)} |",
        "|---|---:|---:|",
    ]
    for j, stage in enumerate(a.stages):
        label = text("twin_stage_horizon", lang, stage=stage_name(stage, baseline.stages[stage].label, lang))
        lines.append(f"| {label} | {a.occupancy[-1, j]:,.1f} | {b.occupancy[-1, j]:,.1f} |")
    if max(a.survival_times_years) >= 5:  # survival is given at month ends to 10 years at least
        lines.append(f"| {text('twin_surv5', lang)} | {a.survival_at(5.0):.1%} | {b.survival_at(5.0):.1%} |")
    return "\n".join(lines)


def report_html(baseline: Scenario, variant: Scenario, reps: int, seed: int, executor: Executor | None = None) -> bytes:
    """The report ``incuchain compare BASELINE VARIANT --reps R --seed S --no-independent --no-per-instrument
    --report`` writes, for these two scenarios (a self-contained HTML page)."""
    from ..report import write_comparison_report  # matplotlib report code only when a report is asked for

    with tempfile.TemporaryDirectory(prefix="incuchain-dashboard-") as tmp:
        out = Path(tmp) / "comparison"
        cmp = compare(
            baseline,
            variant,
            reps=reps,
            seed=seed,
            independent=False,
            per_instrument=False,
            executor=executor,
            out=out,
            progress=False,
        )
        path = write_comparison_report(out, cmp, formats=("png",))
        return path.read_bytes()


def scenario_toml(variant: Scenario) -> str:
    """The variant as a TOML file that ``incuchain validate`` accepts (every default explicit)."""
    return variant.to_toml()
