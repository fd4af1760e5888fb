"""Reports: one self-contained ``report.html`` per output folder, with its figures as PNG and SVG.

Two entry points:

* :func:`write_report` -- a single scenario: one replication (``incuchain run``) or many
  (``incuchain run --reps N``);
* :func:`write_comparison_report` -- a baseline against a variant (``incuchain compare``).

Both take the results in memory (a :class:`~sim.RunResult`, :class:`~sim.ExperimentResult` or
:class:`~sim.Comparison`, or the tables themselves as DataFrames) and read whatever is not given from
the folder's files, so a report can be written right after a run or later for any output folder.
The page embeds its figures as base64 PNG and its style sheet inline: it needs no network, no
scripts and no other file to be read (the SVG and PNG files under ``figures/`` are for papers and
slides). Sections: what was run (scenario, seeds, replications, versions), the headline numbers, the
figures and, for comparisons, the effects table.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from .capacity import never_full_lines, stage_found_full
from .experiment import Comparison, ExperimentResult
from .output import atomic_write_text, package_versions, scenario_digest
from .plot import (
    FigureInfo,
    bls_reference,
    carrier_counts,
    carriers_figure,
    chain_flows,
    cost_effectiveness_figure,
    effects_figure,
    flow_figure,
    headline_metrics,
    metric_label,
    occupancy_difference_figure,
    occupancy_figure,
    save_figure,
    spend_figure,
    survival_at_figure,
    survival_figure,
    uses_age_clock,
)
from .plot.effects import metric_unit
from .results import RunResult
from .scenario import Scenario, load_scenario

__all__ = ["FIGURE_DIR", "REPORT_FILE", "write_comparison_report", "write_report"]

REPORT_FILE = "report.html"
FIGURE_DIR = "figures"

LEDGER_FILES = ("ledger.parquet", "ledger.csv")
"""Where a folder's budget ledger is looked for (a table with :data:`sim.plot.budget.LEDGER_COLUMNS`)."""

COST_FILE = "cost_effectiveness.csv"
"""Where a folder's cost-effectiveness table is looked for (:data:`sim.plot.budget.COST_COLUMNS`)."""

INSTRUMENTS_FILE = "instruments.csv"
"""Where a comparison folder's per-instrument table is looked for
(:data:`sim.experiment.instruments.INSTRUMENT_COLUMNS`)."""


# -- inputs ------------------------------------------------------------------------------------------


def _read_table(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _folder_meta(folder: Path, scenarios: Sequence[Scenario | None]) -> dict[str, Any]:
    """The folder's ``meta.json``, unless it records other scenarios than the results given in memory
    (a report written into a folder that holds another run must not borrow its provenance)."""
    meta = _read_json(folder / "meta.json")
    known = [s for s in scenarios if s is not None]
    if not meta or not known:
        return meta
    recorded = {meta.get("scenario_sha256")} | {a.get("scenario_sha256") for a in meta.get("arms", [])}
    return meta if any(scenario_digest(s) in recorded for s in known) else {}


def _concat(frames: Iterable[pd.DataFrame]) -> pd.DataFrame | None:
    parts = list(frames)
    return pd.concat(parts, ignore_index=True) if parts else None


KEPT_REPLICATIONS = 10
"""Kept event logs and firm tables read for a report: the first ten replications' (enough for the chain
flow's means and pooled survival curves, and a bounded read for large experiments)."""


def _kept(folder: Path, suffix: str, limit: int = KEPT_REPLICATIONS) -> pd.DataFrame | None:
    """The first ``limit`` replications' kept events or firms (``--keep-events``), in replication order."""
    rep_dir = folder / "replications"
    if not rep_dir.is_dir():
        return None
    return _concat(pd.read_parquet(p) for p in sorted(rep_dir.glob(f"rep-*.{suffix}.parquet"))[:limit])


def _budget(folder: Path) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    ledger = next((t for t in (_read_table(folder / n) for n in LEDGER_FILES) if t is not None), None)
    return ledger, _read_table(folder / COST_FILE)


@dataclass
class _Figure:
    name: str
    title: str
    what: str
    figure: Figure
    paths: list[Path] = field(default_factory=list)


# -- the single-scenario report -------------------------------------------------------------------


def write_report(
    out_dir: str | Path,
    result: RunResult | ExperimentResult | None = None,
    *,
    scenario: Scenario | None = None,
    summary: Mapping[str, Any] | None = None,
    stats: pd.DataFrame | None = None,
    timeseries: pd.DataFrame | None = None,
    firms: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    carriers: pd.DataFrame | None = None,
    meta: Mapping[str, Any] | None = None,
    ledger: pd.DataFrame | None = None,
    cost_effectiveness: pd.DataFrame | None = None,
    formats: Sequence[str] = ("png", "svg"),
) -> Path:
    """Write ``report.html`` and ``figures/`` for one scenario: a run, or an experiment of many replications.

    Every input may be given in memory; what is not is taken from ``result``, then from the files in
    ``out_dir`` (``scenario.resolved.toml``, ``summary.json`` or ``summary_stats.csv``,
    ``timeseries.csv``, ``firms.parquet``, ``events.parquet``, ``carriers.csv``, ``meta.json``, kept
    replication files, ``ledger.csv`` and ``cost_effectiveness.csv``). Figures whose data are missing
    are left out (the budget figures when there is no ledger or cost table).

    Parameters
    ----------
    out_dir:
        The run's or experiment's folder; the report and ``figures/`` are written there.
    result:
        :class:`~sim.RunResult` (one replication) or :class:`~sim.ExperimentResult` of one scenario.
    scenario:
        The scenario (names, calendar, stage labels).
    summary:
        One replication's :meth:`~sim.RunResult.summary` (a single run).
    stats:
        An experiment's statistics per metric (:attr:`~sim.ExperimentResult.stats`).
    timeseries:
        Monthly time series of one or many replications.
    firms, events, carriers:
        Firm tables, event logs and carrier tables (one or many replications).
    meta:
        Provenance (``meta.json``); merged over the folder's ``meta.json``.
    ledger, cost_effectiveness:
        Budget tables (see :mod:`sim.plot.budget`).
    formats:
        Files written per figure under ``figures/``.

    Returns
    -------
    pathlib.Path
        The report's path.

    Raises
    ------
    ValueError
        The experiment has several scenarios (use :func:`write_comparison_report` for a comparison),
        or there is nothing to report in ``out_dir``.
    """
    out = Path(out_dir)
    given = result.scenario if isinstance(result, RunResult) else None
    if isinstance(result, ExperimentResult):
        given = result.arms[0].scenario
    info_meta: dict[str, Any] = {**_folder_meta(out, [given or scenario]), **dict(meta or {})}
    seed: int | None = info_meta.get("seed")
    replications: list[int] = []
    counts: pd.DataFrame | None = None
    if isinstance(result, RunResult):
        scenario = scenario or result.scenario
        summary = summary if summary is not None else result.summary()
        timeseries = timeseries if timeseries is not None else result.timeseries
        firms = firms if firms is not None else result.firms
        events = events if events is not None else result.events
        carriers = carriers if carriers is not None else result.carriers
        counts = result.carrier_counts
        seed, replications = result.seed, [result.replication]
    elif isinstance(result, ExperimentResult):
        if len(result.arms) > 1:
            raise ValueError(
                f"the experiment has {len(result.arms)} scenarios; write_report covers one "
                "(use write_comparison_report for a comparison)"
            )
        arm = result.arms[0]
        scenario = scenario or arm.scenario
        stats = stats if stats is not None else result.stats
        timeseries = timeseries if timeseries is not None else result.timeseries
        info_meta = {**info_meta, **result.meta}
        seed, replications = result.seed, list(range(arm.replication(0), arm.replication(result.reps - 1) + 1))
    # what was not given: from the folder
    if scenario is None and (out / "scenario.resolved.toml").is_file():
        scenario = load_scenario(out / "scenario.resolved.toml")
    if summary is None and stats is None:
        if (out / "summary.json").is_file():
            summary = _read_json(out / "summary.json")
        else:
            stats = _read_table(out / "summary_stats.csv")
    if stats is not None and "arm" in stats.columns and stats["arm"].nunique() > 1:
        raise ValueError("the statistics hold several scenarios; use write_comparison_report for a comparison")
    if timeseries is None:
        timeseries = _read_table(out / "timeseries.csv")
    if firms is None:
        firms = _read_table(out / "firms.parquet") if (out / "firms.parquet").is_file() else _kept(out, "firms")
    if events is None:
        events = _read_table(out / "events.parquet") if (out / "events.parquet").is_file() else _kept(out, "events")
    if carriers is None:
        carriers = _read_table(out / "carriers.csv")
    if counts is None and (out / "carrier_counts.csv").is_file():
        counts = _read_table(out / "carrier_counts.csv")
    if ledger is None and cost_effectiveness is None:
        ledger, cost_effectiveness = _budget(out)
    if summary is not None:
        seed = summary.get("seed", seed)
        replications = replications or [int(summary.get("replication", 0))]
    if not replications:
        replications = _replications(info_meta, stats, timeseries)
    if seed is None and timeseries is None and summary is None and stats is None:
        raise ValueError(f"{out}: nothing to report (no results given and no result files in the folder)")
    name = scenario.name if scenario is not None else str(info_meta.get("scenario", "scenario"))
    info = (
        FigureInfo.from_scenario(scenario, seed, replications)
        if scenario is not None
        else FigureInfo(scenario=name, seed=seed, replications=tuple(replications))
    )
    horizon = scenario.calendar.horizon_years if scenario is not None else None
    if counts is None and carriers is not None and len(carriers) and horizon is not None:
        counts = carrier_counts(carriers, horizon)  # carriers fixed over the run

    figures: list[_Figure] = []
    if events is not None and len(events):
        flows = chain_flows(events)
        figures.append(
            _Figure(
                "chain_flow",
                "Chain flow",
                "Where firms go: from their first stage through the chain to their status at the horizon.",
                flow_figure(flows, info, horizon_years=horizon),
            )
        )
    if timeseries is not None and len(timeseries):
        figures.append(
            _Figure(
                "occupancy",
                "Stage occupancy",
                "Firms in each stage (and waiting for a place) over time, against the stage's capacity.",
                occupancy_figure(timeseries, info),
            )
        )
    reference = bls_reference() if scenario is not None and uses_age_clock(scenario) else None
    if firms is not None and len(firms):
        figures.append(
            _Figure(
                "survival",
                "Survival",
                "How long firms last, by entry stage and by support"
                + (", and against the US BLS survival of new establishments." if reference is not None else "."),
                survival_figure(firms, info, reference=reference),
            )
        )
    elif stats is not None:
        figures.append(
            _Figure(
                "survival",
                "Survival",
                "Share of firms not failed 1, 3, 5 and 10 years after arrival (as far as the horizon reaches), "
                "with confidence intervals.",
                survival_at_figure(stats, info, reference=reference),
            )
        )
    if counts is not None and len(counts):
        figures.append(
            _Figure(
                "carriers",
                "Carriers",
                "Carriers by stage and level over the run.",
                carriers_figure(counts, info),
            )
        )
    figures += _budget_figures(ledger, cost_effectiveness, info)

    kind = "single run" if summary is not None else f"experiment of {len(replications)} replications"
    rows = _run_rows(scenario, name, kind, seed, replications, info_meta)
    headline = _single_headline(summary, info) if summary is not None else _stats_headline(stats, info)
    reproduce = _reproduce(seed, replications, summary is not None, "scenario.resolved.toml")
    body = [
        _section("What was run", _kv_table(rows) + reproduce),
        _section("Headline numbers", headline + _capacity_html(scenario, summary if summary is not None else stats)),
        _section("Figures", _figures_html(out, figures, formats)),
        _section("Notes", _notes(reference is not None)),
    ]
    title = f"incuchain report: {name}"
    return _write(out, title, _subtitle(scenario), body)


# -- the comparison report ---------------------------------------------------------------------------


def write_comparison_report(
    out_dir: str | Path,
    comparison: Comparison | None = None,
    *,
    effects: pd.DataFrame | None = None,
    stats: pd.DataFrame | None = None,
    timeseries: pd.DataFrame | None = None,
    baseline: Scenario | None = None,
    variant: Scenario | None = None,
    meta: Mapping[str, Any] | None = None,
    ledger: pd.DataFrame | None = None,
    cost_effectiveness: pd.DataFrame | None = None,
    instruments: pd.DataFrame | None = None,
    formats: Sequence[str] = ("png", "svg"),
) -> Path:
    """Write ``report.html`` and ``figures/`` for a paired comparison of a variant against a baseline.

    Inputs not given are taken from ``comparison``, then from the files in ``out_dir``
    (``effects.csv``, ``summary_stats.csv``, ``timeseries.csv``, ``scenarios/baseline.toml``,
    ``scenarios/variant.toml``, ``meta.json``, ``ledger.csv``, ``cost_effectiveness.csv``,
    ``instruments.csv``).

    Parameters
    ----------
    out_dir:
        The comparison's folder; the report and ``figures/`` are written there.
    comparison:
        The result of :func:`sim.compare`.
    effects:
        The paired effects (:attr:`~sim.Comparison.effects`).
    stats, timeseries:
        Statistics and monthly time series with an ``arm`` column (``baseline``, ``variant``).
    baseline, variant:
        The two scenarios.
    meta:
        Provenance; merged over the folder's ``meta.json``.
    ledger, cost_effectiveness:
        Budget tables (see :mod:`sim.plot.budget`).
    instruments:
        Per-instrument effects and costs (:attr:`~sim.Comparison.instruments`); a table section when
        present.
    formats:
        Files written per figure under ``figures/``.

    Returns
    -------
    pathlib.Path
        The report's path.

    Raises
    ------
    ValueError
        No effects table, given or in ``out_dir``.
    """
    out = Path(out_dir)
    arms = [a.scenario for a in comparison.experiment.arms] if comparison is not None else [baseline, variant]
    info_meta: dict[str, Any] = {**_folder_meta(out, arms), **dict(meta or {})}
    seed: int | None = info_meta.get("seed")
    reps: int | None = info_meta.get("replications")
    if comparison is not None:
        exp = comparison.experiment
        effects = effects if effects is not None else comparison.effects
        instruments = instruments if instruments is not None else comparison.instruments
        stats = stats if stats is not None else exp.stats
        timeseries = timeseries if timeseries is not None else exp.timeseries
        labels = {a.label: a.scenario for a in exp.arms}
        baseline = baseline or labels.get("baseline")
        variant = variant or labels.get("variant")
        info_meta = {**info_meta, **exp.meta}
        seed, reps = exp.seed, exp.reps
    if effects is None:
        effects = _read_table(out / "effects.csv")
    if effects is None:
        raise ValueError(f"{out}: no effects table (effects.csv) to report")
    if stats is None:
        stats = _read_table(out / "summary_stats.csv")
    if timeseries is None:
        timeseries = _read_table(out / "timeseries.csv")
    if instruments is None and comparison is None:
        instruments = _read_table(out / INSTRUMENTS_FILE)
    for label in ("baseline", "variant"):
        path = out / "scenarios" / f"{label}.toml"
        if label == "baseline" and baseline is None and path.is_file():
            baseline = load_scenario(path)
        if label == "variant" and variant is None and path.is_file():
            variant = load_scenario(path)
    if ledger is None and cost_effectiveness is None:
        ledger, cost_effectiveness = _budget(out)
    if reps is None and len(effects):
        reps = int(effects["n"].max())
    replications = list(range(reps or 0))
    main = baseline or variant
    base_name = baseline.name if baseline is not None else "baseline"
    var_name = variant.name if variant is not None else "variant"
    note = f"{var_name} vs {base_name}"
    info = (
        FigureInfo.from_scenario(main, seed, replications, note=note)
        if main is not None
        else FigureInfo(scenario=base_name, seed=seed, replications=tuple(replications), note=note)
    )
    arm_labels = {"baseline": f"baseline ({base_name})", "variant": f"variant ({var_name})"}
    if base_name == var_name:
        arm_labels = {"baseline": "baseline", "variant": "variant"}

    figures: list[_Figure] = [
        _Figure(
            "effects",
            "Effects",
            "The variant's paired effect on each headline outcome, relative to the baseline, with 95% intervals.",
            effects_figure(
                effects,
                info,
                title=f"Effect of {var_name} against {base_name}"
                if var_name != base_name
                else "Effect of the variant against the baseline",
            ),
        )
    ]
    if timeseries is not None and len(timeseries) and "arm" in timeseries.columns:
        figures.append(
            _Figure(
                "occupancy",
                "Stage occupancy",
                "Firms in each stage over time, baseline and variant.",
                occupancy_figure(
                    timeseries,
                    info,
                    measures=("occupancy",),
                    by="arm",
                    groups=["baseline", "variant"],
                    group_labels=arm_labels,
                    title="Firms in each stage, baseline and variant",
                    bands=False,
                ),
            )
        )
        figures.append(
            _Figure(
                "occupancy_difference",
                "Change in stage occupancy",
                "The variant's paired effect on the firms in each stage over time, with 95% intervals.",
                occupancy_difference_figure(timeseries, info),
            )
        )
    if stats is not None and "arm" in stats.columns:
        reference = bls_reference() if main is not None and uses_age_clock(main) else None
        figures.append(
            _Figure(
                "survival",
                "Survival",
                "Share of firms not failed 1, 3, 5 and 10 years after arrival (as far as the horizon reaches), "
                "baseline and variant.",
                survival_at_figure(
                    stats, info, by="arm", groups=["baseline", "variant"], group_labels=arm_labels, reference=reference
                ),
            )
        )
    figures += _budget_figures(ledger, cost_effectiveness, info)

    rows = [
        ("Comparison", f"{var_name} (variant) against {base_name} (baseline)"),
        ("Replications", f"{reps} paired replications (common random numbers)" if reps else "-"),
        ("Seed", "-" if seed is None else str(seed)),
    ]
    for label, sc in (("Baseline", baseline), ("Variant", variant)):
        if sc is not None:
            rows.append((f"{label} scenario", f"{sc.name} (SHA-256 {scenario_digest(sc)[:16]}...)"))
    if baseline is not None:
        rows += _calendar_rows(baseline)
    rows += _provenance_rows(info_meta)
    diff = _scenario_differences(baseline, variant) if baseline is not None and variant is not None else ""
    reproduce = ""
    if seed is not None and reps:
        reproduce = _code(
            f"incuchain compare scenarios/baseline.toml scenarios/variant.toml --reps {reps} --seed {seed}"
        )
    body = [
        _section("What was compared", _kv_table(rows) + diff + reproduce),
        _section(
            "Headline effects",
            _effects_table(effects, info, headline=True)
            + _capacity_html(
                baseline,
                stats[stats["arm"].isin(["baseline", "variant"])]
                if stats is not None and "arm" in stats.columns
                else None,
            ),
        ),
        *([_section("Per instrument", _instruments_table(instruments))] if instruments is not None else []),
        _section("Figures", _figures_html(out, figures, formats)),
        _section(
            "All effects",
            "<details><summary>Every metric (click to open)</summary>"
            + _effects_table(effects, info, headline=False)
            + "</details>",
        ),
        _section("Notes", _notes(False, comparison=True)),
    ]
    title = (
        f"incuchain comparison: {var_name} vs {base_name}"
        if var_name != base_name
        else f"incuchain comparison: {base_name}, variant vs baseline"
    )
    return _write(out, title, _subtitle(variant or baseline), body)


# -- pieces ------------------------------------------------------------------------------------------


def _replications(meta: Mapping[str, Any], stats: pd.DataFrame | None, ts: pd.DataFrame | None) -> list[int]:
    reps = meta.get("replications")
    if isinstance(reps, list):
        return [int(r) for r in reps]
    if ts is not None and "replication" in ts.columns:
        return sorted(int(r) for r in ts["replication"].unique())
    if isinstance(reps, int):
        return list(range(reps))
    if stats is not None and len(stats):
        return list(range(int(stats["n"].max())))
    return []


def _budget_figures(ledger: pd.DataFrame | None, cost: pd.DataFrame | None, info: FigureInfo) -> list[_Figure]:
    out = []
    if ledger is not None and len(ledger):
        out.append(
            _Figure(
                "budget_spend",
                "Budget",
                "Support spending by instrument and year.",
                spend_figure(ledger, info),
            )
        )
    if cost is not None and len(cost):
        out.append(
            _Figure(
                "cost_effectiveness",
                "Cost-effectiveness",
                "Cost of each additional outcome, with confidence intervals.",
                cost_effectiveness_figure(cost, info),
            )
        )
    return out


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if math.isnan(x):
            return "-"
        if math.isinf(x):
            return "∞" if x > 0 else "-∞"
        ax = abs(x)
        if ax >= 1000:
            return f"{x:,.0f}"
        if ax >= 10:
            return f"{x:,.1f}"
        return f"{x:.{digits}g}"
    return str(x)


def _pct(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{100 * float(x):.1f}%"


def _calendar_rows(sc: Scenario) -> list[tuple[str, str]]:
    cal = sc.calendar
    rows = [
        ("Start", cal.start.isoformat()),
        ("Horizon", f"{cal.horizon_years:g} years"),
    ]
    if cal.warmup_years:
        rows.append(("Warm-up", f"{cal.warmup_years:g} years (left out of flows and survival)"))
    return rows


def _provenance_rows(meta: Mapping[str, Any]) -> list[tuple[str, str]]:
    versions = meta.get("versions") or package_versions()
    rows = [("Versions", ", ".join(f"{k} {v}" for k, v in versions.items()))]
    if "versions" not in meta:
        rows[0] = ("Versions", rows[0][1] + " (at report time)")
    if meta.get("created_at"):
        rows.append(("Results created", str(meta["created_at"])))
    if meta.get("command"):
        rows.append(("Command", " ".join(str(c) for c in meta["command"])))
    machine = meta.get("machine")
    if isinstance(machine, Mapping):
        rows.append(("Machine", f"{machine.get('platform', '')}, {machine.get('cpus', '?')} CPUs"))
    rows.append(("Report written", dt.datetime.now(dt.UTC).isoformat(timespec="seconds")))
    return rows


def _run_rows(
    sc: Scenario | None,
    name: str,
    kind: str,
    seed: int | None,
    replications: Sequence[int],
    meta: Mapping[str, Any],
) -> list[tuple[str, str]]:
    rows = [("Scenario", name)]
    if sc is not None and sc.description:
        rows.append(("Description", sc.description))
    rows.append(("What", kind))
    rows.append(("Seed", "-" if seed is None else str(seed)))
    if replications:
        reps = list(replications)
        contiguous = reps == list(range(reps[0], reps[0] + len(reps)))
        rows.append(
            ("Replications", f"{reps[0]}-{reps[-1]}" if contiguous and len(reps) > 1 else ", ".join(map(str, reps)))
        )
    if sc is not None:
        rows += _calendar_rows(sc)
        digest = meta.get("scenario_sha256") or scenario_digest(sc)
        rows.append(("Scenario SHA-256", str(digest)))
        if sc.policies:
            rows.append(("Policies", "; ".join(_policy_text(p) for p in sc.policies)))
    rows += _provenance_rows(meta)
    return rows


def _policy_text(policy: Any) -> str:
    data = policy.model_dump(mode="json", exclude_none=True)
    name = data.pop("name", None)
    kind = data.pop("type", "policy")
    body = ", ".join(f"{k} = {v}" for k, v in data.items())
    return f"{name or kind} ({body})"


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(data, list):
        out = {}
        for i, v in enumerate(data):
            out.update(_flat(v, f"{prefix}.{i}"))
        return out if data else {prefix: []}
    return {prefix: data}


def _scenario_differences(a: Scenario, b: Scenario) -> str:
    """The fields where the variant differs from the baseline, as a table."""
    fa, fb = _flat(a.to_dict()), _flat(b.to_dict())

    def filled_elsewhere(key: str) -> bool:  # an empty list on one side, items on the other
        return any(k.startswith(f"{key}.") for k in (*fa, *fb))

    keys = [k for k in dict.fromkeys([*fa, *fb]) if k != "name" and fa.get(k) != fb.get(k) and not filled_elsewhere(k)]
    if not keys:
        return "<p>The two scenarios are identical apart from their names.</p>"
    rows = [(k, _value(fa.get(k)), _value(fb.get(k))) for k in keys]
    return "<h3>Where the variant differs from the baseline</h3>" + _table(
        ["field", "baseline", "variant"], rows, numeric=()
    )


def _value(v: Any) -> str:
    return "(not set)" if v is None else json.dumps(v, ensure_ascii=False, default=str) if not isinstance(v, str) else v


def _ordered_stages(stages: Iterable[str], info: FigureInfo) -> list[str]:
    """Stages in chain order (a summary read back from JSON has its keys sorted)."""
    names = list(stages)
    return [s for s in info.stage_order if s in names] + [s for s in names if s not in info.stage_order]


def _year_label(y: float) -> str:
    return f"{y:g} year" if y == 1 else f"{y:g} years"


def _sentence(total: float, active: float, failed: float, exited: float, mean: bool = False) -> str:
    if not total or any(math.isnan(x) for x in (total, active, failed, exited)):
        return ""
    of = "On average, of" if mean else "Of"
    return (
        f"<p>{of} {_fmt(total)} firms, {_fmt(active)} ({active / total:.0%}) were active at the horizon, "
        f"{_fmt(failed)} ({failed / total:.0%}) had failed and {_fmt(exited)} ({exited / total:.0%}) had exited "
        "the modelled system.</p>"
    )


def _single_headline(summary: Mapping[str, Any], info: FigureInfo) -> str:
    top = [
        ("New firms (after the warm-up)", _fmt(summary.get("arrivals"))),
        ("Firms at the start", _fmt(summary.get("initial_stock"))),
        ("Active at the horizon", _fmt(summary.get("active_at_horizon"))),
        ("Failed", _fmt(summary.get("failed"))),
        ("Exited", _fmt(summary.get("exited"))),
    ]
    counts = [float(summary.get(k) or 0) for k in ("firms", "active_at_horizon", "failed", "exited")]
    parts = [_sentence(counts[0], counts[1], counts[2], counts[3]), _table(["outcome", "firms"], top, numeric=(1,))]
    stages = summary.get("stages", {})
    stage_rows = []
    for stage in _ordered_stages(stages, info):
        s = stages[stage]
        stage_rows.append(
            (
                info.label(stage),
                _fmt(s.get("entries")),
                _fmt(s.get("graduations")),
                _fmt(s.get("timeouts")),
                _fmt(s.get("failures")),
                _fmt(s.get("mean_stay_years")),
                _fmt(s.get("mean_occupancy")),
                _fmt(s.get("occupancy_at_horizon")),
            )
        )
    parts.append(
        "<h3>By stage</h3>"
        + _table(
            [
                "stage",
                "entries",
                "graduated",
                "timed out",
                "failed",
                "mean stay (years)",
                "mean occupancy (firms)",
                "at the horizon (firms)",
            ],
            stage_rows,
            numeric=tuple(range(1, 8)),
        )
    )
    surv = summary.get("survival")
    if surv:
        groups = [
            (key, name)
            for key, name in (
                ("all", "all firms"),
                ("never_in_carrier", "never in a carrier"),
                ("ever_in_carrier", "ever in a carrier"),
            )
            if key in surv
        ]
        keep = [i for i, _ in enumerate(surv["years"]) if any(surv[k][i] is not None for k, _ in groups)]
        srows = [(name, *(_pct(surv[key][i]) for i in keep)) for key, name in groups]
        if keep:
            parts.append(
                "<h3>Survival (Kaplan-Meier, share not failed)</h3>"
                + _table(
                    ["firms", *(_year_label(surv["years"][i]) for i in keep)],
                    srows,
                    numeric=tuple(range(1, len(keep) + 1)),
                )
            )
    return "".join(parts)


def _stats_headline(stats: pd.DataFrame | None, info: FigureInfo) -> str:
    if stats is None or stats.empty:
        return "<p>No statistics.</p>"
    by = {str(r.metric): r for r in stats.itertuples(index=False)}

    def cell(metric: str, share: bool = False) -> str:
        r = by.get(metric)
        if r is None or int(r.n) == 0:
            return "-"
        scale = 100.0 if share else 1.0
        mean = _fmt(float(r.mean) * scale)
        if math.isnan(float(r.ci_low)):
            return mean + ("%" if share else "")
        half = (float(r.ci_high) - float(r.ci_low)) / 2 * scale
        return f"{mean}{'%' if share else ''} ± {_fmt(half)}"

    overall = ["arrivals", "initial_stock", "active_at_horizon", "failed", "exited"]
    top = [(metric_label(m), cell(m)) for m in overall if m in by]

    def mean(metric: str) -> float:
        return float(by[metric].mean) if metric in by else math.nan

    parts = [
        _sentence(mean("firms"), mean("active_at_horizon"), mean("failed"), mean("exited"), mean=True),
        _table(["outcome", "firms: mean ± 95% CI half-width"], top, numeric=(1,)),
    ]
    stages = _ordered_stages(
        dict.fromkeys(m.split(".")[1] for m in by if m.startswith("stages.") and m.count(".") == 2), info
    )
    measures = ["entries", "graduations", "timeouts", "failures", "mean_stay_years", "mean_occupancy"]
    srows = [(info.label(s), *(cell(f"stages.{s}.{m}") for m in measures)) for s in stages]
    parts.append(
        "<h3>By stage (mean ± 95% CI half-width)</h3>"
        + _table(
            ["stage", "entries", "graduated", "timed out", "failed", "mean stay (years)", "mean occupancy (firms)"],
            srows,
            numeric=tuple(range(1, 7)),
        )
    )
    years = sorted({m.rsplit(".", 1)[1] for m in by if m.startswith("survival.")}, key=lambda y: float(y[:-1]))
    years = [y for y in years if any(int(by[f"survival.{g}.{y}"].n) > 0 for g in ("all",) if f"survival.{g}.{y}" in by)]
    if years:
        groups = (
            ("all", "all firms"),
            ("never_in_carrier", "never in a carrier"),
            ("ever_in_carrier", "ever in a carrier"),
        )
        rows = [(name, *(cell(f"survival.{g}.{y}", share=True) for y in years)) for g, name in groups]
        parts.append(
            "<h3>Survival (Kaplan-Meier, share not failed; mean ± 95% CI half-width)</h3>"
            + _table(
                ["firms", *(_year_label(float(y[:-1])) for y in years)], rows, numeric=tuple(range(1, len(years) + 1))
            )
        )
    return "".join(parts)


def _signed(x: float, share: bool) -> str:
    """A difference with its sign (``+4.25``, ``\u22124.25``; shares in percentage points)."""
    if math.isnan(x):
        return "-"
    if x == 0:
        return "0 pp" if share else "0"
    text = f"{100 * x:+.1f} pp" if share else ("+" if x > 0 else "") + _fmt(x)
    return text.replace("-", "\u2212")


def _effects_table(effects: pd.DataFrame, info: FigureInfo, headline: bool) -> str:
    metrics = list(effects["metric"].astype(str))
    eff = effects.set_index("metric", drop=False)
    chosen = headline_metrics(metrics) if headline else metrics
    if headline:
        # what the reader looks for: outcomes that exist and that something happened to
        chosen = [
            m
            for m in chosen
            if not math.isnan(float(eff.loc[m, "diff_mean"]))
            and not (float(eff.loc[m, "baseline_mean"]) == 0 and float(eff.loc[m, "variant_mean"]) == 0)
        ]
    with_ratio = "pairing_ci_ratio" in eff.columns and bool(eff["pairing_ci_ratio"].notna().any())
    rows = []
    for m in chosen:
        r = eff.loc[m]
        share = metric_unit(m) == "share"

        def num(x: Any, share: bool = share) -> str:
            return _pct(x) if share else _fmt(float(x))

        lo, hi = float(r["ci_low"]), float(r["ci_high"])
        ci = "-" if math.isnan(lo) else f"[{_signed(lo, share)}, {_signed(hi, share)}]"
        row = [
            metric_label(m, info.label),
            num(r["baseline_mean"]),
            num(r["variant_mean"]),
            _signed(float(r["diff_mean"]), share),
            ci,
        ]
        if with_ratio:
            row.append(_fmt(float(r["pairing_ci_ratio"])))
        row.append(str(r.get("note", "") or ""))
        rows.append(row)
    headers = ["outcome", "baseline", "variant", "difference", "95% CI"]
    headers += ["CI narrowed ×"] if with_ratio else []
    table = _table([*headers, "note"], rows, numeric=tuple(range(1, len(headers))))
    ratio_note = (
        " <em>CI narrowed ×</em>: how many times wider the interval would be with independent random numbers."
        if with_ratio
        else ""
    )
    dropped = "" if not headline else " Outcomes without values, or zero in both scenarios, are left out here."
    return table + (
        "<p class='small'>Differences are variant − baseline, paired replication by replication; survival in "
        f"percentage points (pp).{ratio_note}{dropped}</p>"
    )


def _yuan(x: Any) -> str:
    """Yuan, compactly (12.3 M, 830 k); '-' for a missing value."""
    v = float(x)
    if math.isnan(v):
        return "-"
    for scale, unit in ((1e9, " bn"), (1e6, " M"), (1e3, " k")):
        if abs(v) >= scale:
            return f"{v / scale:.3g}{unit}".replace("-", "\u2212")
    return _fmt(v).replace("-", "\u2212")


def _instruments_table(table: pd.DataFrame) -> str:
    rows = []
    last: tuple[Any, Any] | None = None
    for r in table.itertuples(index=False):
        first = (r.instrument, r.arm) != last
        last = (r.instrument, r.arm)
        # the full variant's rows are those of its own arm (a policy may be called "all")
        name = "all (the full variant)" if r.arm == "variant" else f"{r.instrument} ({r.type})"
        effect_ci = (
            "-"
            if math.isnan(float(r.effect_ci_low))
            else f"[{_signed(float(r.effect_ci_low), False)}, {_signed(float(r.effect_ci_high), False)}]"
        )
        cost_ci = "-" if math.isnan(float(r.cost_ci_low)) else f"[{_yuan(r.cost_ci_low)}, {_yuan(r.cost_ci_high)}]"
        rows.append(
            [
                name if first else "",
                _yuan(r.spend_yuan) if first else "",
                _yuan(r.spend_in_variant_yuan) if first else "",
                str(r.outcome).replace("_", " "),
                _signed(float(r.effect_mean), False),
                effect_ci,
                _yuan(r.cost_per_unit),
                cost_ci,
                "" if pd.isna(r.note) else str(r.note),
            ]
        )
    headers = [
        "instrument",
        "spend alone (yuan)",
        "spend in variant (yuan)",
        "outcome",
        "effect",
        "95% CI",
        "yuan per additional unit",
        "95% CI",
        "note",
    ]
    return _table(headers, rows, numeric=(1, 2, 4, 5, 6, 7)) + (
        "<p class='small'>Each instrument ran alone on top of the baseline, on the same replications as the "
        "baseline (common random numbers): effects are paired differences against the baseline. <em>Spend "
        "alone</em> is the instrument's own ledger in that run, <em>spend in variant</em> its ledger in the "
        "full variant (mean per replication). The cost per additional unit is the paired spend difference "
        "over the paired outcome difference, with a delta-method interval; it is unreliable when the "
        "effect's interval contains 0. Effects of instruments need not add up to the full variant's: "
        "instruments interact.</p>"
    )


def _capacity_html(scenario: Scenario | None, result: Mapping[str, Any] | pd.DataFrame | None) -> str:
    """The never-full notice (:mod:`sim.capacity`) as a paragraph, or nothing."""
    if scenario is None or result is None:
        return ""
    lines = never_full_lines(scenario, stage_found_full([result]))
    return "".join(f"<p class='small'>{html.escape(line)}</p>" for line in lines)


def _notes(with_reference: bool, comparison: bool = False) -> str:
    items = [
        "Times are years since the scenario's start; calendar years on time axes count from it.",
        "Confidence intervals are t-based, across replications; with a single replication there are none.",
        "Capacity lines show places at the start, before any capacity policy.",
    ]
    if not comparison:
        items.append(
            "Survival of firms ever versus never in a carrier conditions on the future (a firm must survive to "
            "enter one): the gap mixes selection and time at risk with any effect of support. Use a paired "
            "comparison (<code>incuchain compare</code>) to measure effects."
        )
    else:
        items.append(
            "Baseline and variant share their random numbers replication by replication, so each effect is "
            "estimated from paired differences."
        )
    if with_reference:
        items.append(
            "US BLS reference: establishments born in March 1994, share still open at ages 1 to 10 years "
            "(BLS, The Economics Daily, 2018-11-01)."
        )
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _reproduce(seed: int | None, replications: Sequence[int], single: bool, scenario_file: str) -> str:
    if seed is None or not replications:
        return ""
    if single:
        cmd = f"incuchain run {scenario_file} --seed {seed} --replication {replications[0]}"
    else:
        cmd = f"incuchain run {scenario_file} --seed {seed} --reps {len(replications)}"
    return _code(cmd)


def _code(cmd: str) -> str:
    return f"<p class='small'>To reproduce (from this folder):</p><pre>{html.escape(cmd)}</pre>"


def _subtitle(sc: Scenario | None) -> str:
    return sc.description if sc is not None and sc.description else ""


# -- HTML --------------------------------------------------------------------------------------------

_CSS = """
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #1a1a1a; margin: 0;
       line-height: 1.45; background: #ffffff; }
main { max-width: 1180px; margin: 0 auto; padding: 1.5rem 1.5rem 3rem; }
h1 { font-size: 1.7rem; margin: 0.2rem 0 0.3rem; }
h2 { font-size: 1.3rem; margin-top: 2.2rem; border-bottom: 2px solid #0072B2; padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
p.sub { color: #4d4d4d; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.9rem; }
th, td { padding: 0.25rem 0.7rem; border-bottom: 1px solid #dddddd; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv th { background: none; font-weight: 600; width: 12rem; }
figure { margin: 1.5rem 0 2.5rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #e5e5e5; }
figcaption { font-size: 0.9rem; color: #333333; margin-top: 0.3rem; }
.small { font-size: 0.85rem; color: #4d4d4d; }
pre { background: #f5f5f5; padding: 0.5rem 0.8rem; overflow-x: auto; font-size: 0.85rem; }
nav a { margin-right: 1rem; }
a { color: #0072B2; }
details summary { cursor: pointer; color: #0072B2; margin: 0.5rem 0; }
@media print { nav { display: none; } figure { break-inside: avoid; } }
"""


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    def cls(i: int) -> str:
        return " class='num'" if i in numeric else ""

    head = "".join(f"<th{cls(i)}>{html.escape(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{cls(i)}>{html.escape(str(c))}</td>" for i, c in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _kv_table(rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table class='kv'><tbody>{body}</tbody></table>"


def _anchor(title: str) -> str:
    return title.lower().replace(" ", "-")


def _section(title: str, content: str) -> tuple[str, str]:
    return title, f"<section id='{_anchor(title)}'><h2>{html.escape(title)}</h2>{content}</section>"


def _figures_html(out: Path, figures: Sequence[_Figure], formats: Sequence[str]) -> str:
    if not figures:
        return "<p>No figures: the results hold no time series, firms or events.</p>"
    parts = []
    fig_dir = out / FIGURE_DIR
    for i, f in enumerate(figures, start=1):
        fmts = list(dict.fromkeys(["png", *formats]))  # the page embeds the PNG
        f.paths = save_figure(f.figure, fig_dir / f.name, fmts)
        png = next(p for p in f.paths if p.suffix == ".png")
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        title = f.figure.get_suptitle() or f.title
        links = " · ".join(f"<a href='{FIGURE_DIR}/{html.escape(p.name)}'>{p.suffix[1:].upper()}</a>" for p in f.paths)
        parts.append(
            f"<figure id='fig-{html.escape(f.name)}'>"
            f"<img src='data:image/png;base64,{data}' alt='{html.escape(title)}: {html.escape(f.what)}'>"
            f"<figcaption><strong>Figure {i}. {html.escape(f.title)}.</strong> {html.escape(f.what)} "
            f"<span class='small'>Files: {links}</span></figcaption></figure>"
        )
    return "".join(parts)


def _write(out: Path, title: str, subtitle: str, sections: Sequence[tuple[str, str]]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    nav = "".join(f"<a href='#{_anchor(t)}'>{html.escape(t)}</a>" for t, _ in sections)
    sub = f"<p class='sub'>{html.escape(subtitle)}</p>" if subtitle else ""
    page = (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{html.escape(title)}</h1>\n{sub}\n<nav>{nav}</nav>\n"
        + "\n".join(body for _, body in sections)
        + "\n</main>\n</body>\n</html>\n"
    )
    path = out / REPORT_FILE
    atomic_write_text(path, page)
    return path
