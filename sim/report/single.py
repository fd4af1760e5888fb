"""The single-scenario report: one run or an experiment of many replications."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from ..experiment import ExperimentResult
from ..plot import (
    FigureInfo,
    bls_reference,
    calibrated_to_bls,
    carrier_counts,
    carriers_figure,
    chain_flows,
    flow_figure,
    occupancy_figure,
    survival_at_figure,
    survival_figure,
)
from ..results import RunResult
from ..scenario import Scenario, load_scenario
from ..summary import RunSummary
from .content import (
    _budget_figures,
    _capacity_html,
    _decomposition_html,
    _notes,
    _reproduce,
    _run_rows,
    _single_headline,
    _stats_headline,
    _subtitle,
)
from .loading import (
    FLOW_REPLICATIONS,
    _budget,
    _folder_meta,
    _kept,
    _read_json,
    _read_table,
    _replications,
    _rerun_events,
)
from .page import _Figure, _figures_html, _kv_table, _section, _write, shared_doc


@shared_doc
def write_report(
    out_dir: str | Path,
    result: RunResult | ExperimentResult | None = None,
    *,
    scenario: Scenario | None = None,
    summary: RunSummary | None = None,
    stats: pd.DataFrame | None = None,
    timeseries: pd.DataFrame | None = None,
    firms: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    carriers: pd.DataFrame | None = None,
    meta: Mapping[str, Any] | None = None,
    ledger: pd.DataFrame | None = None,
    cost_effectiveness: pd.DataFrame | None = None,
    decomposition: pd.DataFrame | None = None,
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
    $meta
    $budget
    decomposition:
        :attr:`sim.Decomposition.table` (default: ``decomposition.csv`` in the folder, if any): the report
        then splits a programme's gap into treatment and selection.
    $formats

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
            summary = RunSummary.from_json(_read_json(out / "summary.json"))
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
    if decomposition is None and (out / "decomposition.csv").is_file():
        decomposition = _read_table(out / "decomposition.csv")
    if summary is not None:
        seed = summary.seed
        replications = replications or [summary.replication]
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
    what = "Where firms go: from their first stage through the chain to their status at the horizon."
    flow_info = info
    if (events is None or not len(events)) and summary is None:
        events = _rerun_events(scenario, seed, replications)
        if events is not None:
            flow_info = replace(info, replications=tuple(replications[:FLOW_REPLICATIONS]))
            n = min(len(replications), FLOW_REPLICATIONS)
            what += (
                f" Mean flows per replication over the first {n} replications, simulated again from the seed "
                "for this figure (a replication depends only on the scenario, the seed and its index, so they "
                "are the experiment's own)."
            )
    if events is not None and len(events):
        flows = chain_flows(events)
        figures.append(_Figure("chain_flow", "Chain flow", what, flow_figure(flows, flow_info, horizon_years=horizon)))
    if timeseries is not None and len(timeseries):
        figures.append(
            _Figure(
                "occupancy",
                "Stage occupancy",
                "Firms in each stage (and waiting for a place) over time, against the stage's capacity.",
                occupancy_figure(timeseries, info),
            )
        )
    reference = bls_reference() if scenario is not None and calibrated_to_bls(scenario) else None
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
        *(
            [_section("Selection versus treatment", _decomposition_html(decomposition))]
            if decomposition is not None
            else []
        ),
        _section("Figures", _figures_html(out, figures, formats)),
        _section("Notes", _notes(reference is not None)),
    ]
    title = f"incuchain report: {name}"
    return _write(out, title, _subtitle(scenario), body)
