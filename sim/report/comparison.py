"""The comparison report: a variant against a baseline, paired replication by replication."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from ..experiment import Comparison
from ..plot import (
    FigureInfo,
    bls_reference,
    calibrated_to_bls,
    chain_flows,
    effects_figure,
    flow_figure,
    occupancy_difference_figure,
    occupancy_figure,
    survival_at_figure,
)
from ..provenance import scenario_digest
from ..scenario import Scenario, load_scenario
from .content import (
    _budget_figures,
    _calendar_rows,
    _capacity_html,
    _cost_section,
    _effects_table,
    _instruments_table,
    _notes,
    _provenance_rows,
    _scenario_differences,
    _subtitle,
)
from .loading import FLOW_REPLICATIONS, INSTRUMENTS_FILE, _budget, _folder_meta, _read_table, _rerun_events
from .page import _code, _Figure, _figures_html, _kv_table, _section, _write, shared_doc


@shared_doc
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
    $meta
    $budget
    instruments:
        Per-instrument effects and costs (:attr:`~sim.Comparison.instruments`); a table section when
        present.
    $formats

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
    horizon = main.calendar.horizon_years if main is not None else None
    for arm, sc in (("baseline", baseline), ("variant", variant)):
        events = _rerun_events(sc, seed, replications)
        if sc is not None and events is not None and len(events):
            arm_info = replace(info, replications=tuple(replications[:FLOW_REPLICATIONS]), note=f"{arm}: {sc.name}")
            n = min(len(replications), FLOW_REPLICATIONS)
            figures.append(
                _Figure(
                    f"chain_flow_{arm}",
                    f"Chain flow, {arm}",
                    f"Where the {arm}'s firms go, from their first stage to their status at the horizon: mean "
                    f"flows per replication over the first {n} replications, simulated again from the seed for "
                    "this figure (a replication depends only on the scenario, the seed and its index, so they "
                    "are the comparison's own).",
                    flow_figure(chain_flows(events), arm_info, horizon_years=horizon),
                )
            )
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
        reference = bls_reference() if main is not None and calibrated_to_bls(main) else None
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
    has_cost = cost_effectiveness is not None and len(cost_effectiveness) > 0
    body = [
        *([_section("Spend and cost-effectiveness", _cost_section(cost_effectiveness, effects))] if has_cost else []),
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
