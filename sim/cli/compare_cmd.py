"""``incuchain compare BASELINE VARIANT``: paired effects of a variant (e.g. a policy) on every metric."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..capacity import never_full_lines, stage_found_full
from ..experiment import Comparison, compare
from ..experiment.comparison import NO_VARIATION, compare_size
from ..experiment.cost_effectiveness import SPEND, cost_bounds, outcome_values, spend_difference
from ..experiment.instruments import ALL, as_cost_row
from ..files import folder_lock
from ..metric_names import outcome_unit
from ..scenario import load_scenario
from ..stats import Estimate, paired_difference
from .common import (
    add_experiment_args,
    add_report_arg,
    add_seed,
    announce,
    experiment_executor,
    format_table,
    guard_resources,
    notes_text,
    positive_int,
    reject,
    run_guarded,
    run_options,
    safe_name,
)
from .printing import NS, difference_text, is_share, label, level_text, number, spend_years, stage_labels, yuan_text

HEADLINE = ("active_at_horizon", "failed", "exited")
LEAD_COSTS = ("active_at_horizon", "graduations", "jobs_at_horizon")
"""Costs per additional outcome printed first (every outcome is in cost_effectiveness.csv)."""
STAGE_HEADLINE = ("entries", "graduations", "timeouts", "failures", "mean_stay_years", "mean_occupancy")
SURVIVAL_HEADLINE = ("survival.all.",)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "compare",
        help="paired comparison of two scenarios (variant minus baseline)",
        description="Run both scenarios on the same random streams (replication r of each shares its "
        "random numbers), and report for every summary metric the paired difference variant - baseline "
        "with its 95% confidence interval (with --independent, also how many times wider the interval would "
        "have been with independent streams: pairing_ci_ratio, measured by running the variant on other "
        "replications too). Writes effects.csv, summary.csv, summary_stats.csv, timeseries.csv, "
        "cost_effectiveness.csv (when either scenario has policies: yuan per additional outcome), "
        "instruments.csv (when the variant adds two or more policies: each also runs alone on the baseline, "
        "and is priced), replications/ and meta.json.",
    )
    p.add_argument("baseline", help="baseline scenario TOML file")
    p.add_argument("variant", help="variant scenario TOML file")
    p.add_argument("--reps", type=positive_int, default=30, help="paired replications (default 30)")
    add_seed(p)
    p.add_argument("--out", type=Path, default=None, help="output folder (default: out/<baseline>_vs_<variant>)")
    p.add_argument(
        "--independent",
        action="store_true",
        help="also run the variant on independent streams to measure how much pairing narrows each interval "
        "(pairing_ci_ratio, the 'CI narrowed' column); --reps more replications",
    )
    p.add_argument("--no-independent", action="store_true", help=argparse.SUPPRESS)  # the default now
    p.add_argument(
        "--no-per-instrument",
        action="store_true",
        help="do not run each added policy alone on the baseline (by default done when the variant adds "
        "two or more policies: one more arm each)",
    )
    p.add_argument(
        "--instrument-reps",
        type=int,
        default=None,
        metavar="N",
        help="replications of each instrument's arm (default: the smaller of --reps and 20; fewer than --reps "
        "run as a second experiment in OUT/instruments/ with the baseline and variant again)",
    )
    p.add_argument("--all", action="store_true", help="print every metric (default: the headline ones)")
    add_experiment_args(p)
    add_report_arg(p)
    p.add_argument("--quiet", action="store_true", help="print nothing but errors (and no progress bar)")
    p.set_defaults(func=main)


def _headline(metric: str) -> bool:
    if metric in HEADLINE or metric.startswith(SURVIVAL_HEADLINE):
        return True
    parts = metric.split(".")
    return len(parts) == 3 and parts[0] == "stages" and parts[2] in STAGE_HEADLINE


def _narrowed(row: Any) -> str:
    if NO_VARIATION in str(row.note or ""):
        return "no variation"
    ratio = float(row.pairing_ci_ratio)
    return number(ratio) if math.isfinite(ratio) else "-"


def effects_text(
    effects: pd.DataFrame, everything: bool = False, labels: dict[str, str] | None = None, narrowed: bool = False
) -> str:
    """The effects as a readable table (headline metrics unless ``everything``), n.s. marked; the "CI
    narrowed x" column when ``narrowed``, i.e. when the independent arm ran.

    Left out: outcomes without values, outcomes the variant left unchanged in every replication (a
    zero difference with a zero-width interval), and spend by year and by policy (in ``effects.csv``).
    """
    rows = []
    for row in effects.itertuples(index=False):
        m = str(row.metric)
        if not (everything or _headline(m)) or _unchanged(row) or math.isnan(row.diff_mean):
            continue
        if m.startswith("budget.") and m != SPEND:
            continue
        share = is_share(m)
        fmt = yuan_text if m == SPEND else None
        base, var = (0.0 if math.isnan(x) and m == SPEND else x for x in (row.baseline_mean, row.variant_mean))
        rows.append(
            [
                label(m, labels),
                fmt(base) if fmt else level_text(base, share=share),
                fmt(var) if fmt else level_text(var, share=share),
                difference_text(row.diff_mean, row.ci_low, row.ci_high, share=share, fmt=fmt),
                *([_narrowed(row)] if narrowed else []),
            ]
        )
    headers = ["outcome", "baseline", "variant", "difference [95% CI]"]
    return format_table([*headers, "CI narrowed x"] if narrowed else headers, rows)


def _unchanged(row: Any) -> bool:
    """The same in both scenarios in every replication: nothing to read (rounding noise aside)."""
    return all(abs(float(x)) < 1e-12 for x in (row.diff_mean, row.ci_low, row.ci_high))


def cost_text(cost: pd.DataFrame, spend: Estimate, years: str) -> str:
    """The spend difference and the cost per additional outcome as a readable table (yuan)."""
    rows: list[list[Any]] = [
        [f"spend difference {years}", difference_text(spend.mean, spend.ci_low, spend.ci_high, fmt=yuan_text)]
    ]
    for row in cost.itertuples(index=False):
        rows.append([f"yuan per additional {outcome_unit(str(row.metric))}", _cost_cell(row._asdict())])
    return format_table(["cost (yuan, mean per replication)", "estimate [95% CI]"], rows)


def _cost_cell(row: Mapping[str, Any]) -> str:
    """``1.28M [302k, 2.26M]``; ``at least 610k n.s.`` when the effect may be nil; ``-`` without a gain."""
    est, low, high, sig = cost_bounds(row)
    if math.isnan(est):
        return "- (no additional outcome)" if float(row["outcome_diff_mean"]) <= 0 else "-"
    if sig:
        return f"{yuan_text(est)} [{yuan_text(low)}, {yuan_text(high)}]" if not math.isnan(low) else yuan_text(est)
    floor = f", at least {yuan_text(low)}" if not math.isnan(low) else ""
    return f"{yuan_text(est)} ({NS}: no upper bound{floor})"


def lead_text(cmp: Comparison, labels: dict[str, str] | None = None) -> str:
    """The few numbers that matter: effects on active firms, failures and graduations; spend; cost per outcome."""
    eff = cmp.effects.set_index("metric")
    exp = cmp.experiment
    rows: list[list[Any]] = []
    for m in ("active_at_horizon", "failed"):
        if m in eff.index:
            r = eff.loc[m]
            rows.append(
                [
                    label(m, labels),
                    level_text(float(r.baseline_mean)),
                    level_text(float(r.variant_mean)),
                    difference_text(float(r.diff_mean), float(r.ci_low), float(r.ci_high)),
                ]
            )
    grads = {a: outcome_values(exp, a, "graduations") for a in ("baseline", "variant")}
    if all(len(v) for v in grads.values()):
        e = paired_difference(grads["baseline"], grads["variant"], cmp.level)
        rows.append(
            [
                label("graduations"),
                level_text(float(np.nanmean(grads["baseline"]))),
                level_text(float(np.nanmean(grads["variant"]))),
                difference_text(e.mean, e.ci_low, e.ci_high),
            ]
        )
    if cmp.cost_effectiveness is not None:
        spend = spend_difference(exp, "baseline", "variant", cmp.level)
        cols = ("baseline_mean", "variant_mean")
        means = [float(eff.loc[SPEND, c]) if SPEND in eff.index else math.nan for c in cols]
        rows.append(
            [
                f"Spend {spend_years(eff.index)}, yuan",
                *(yuan_text(0.0 if math.isnan(x) else x) for x in means),  # no policies: no spend
                difference_text(spend.mean, spend.ci_low, spend.ci_high, fmt=yuan_text),
            ]
        )
        cost = cmp.cost_effectiveness.set_index("metric", drop=False)
        for outcome in LEAD_COSTS:
            if outcome in cost.index:
                rows.append(
                    [f"Yuan per additional {outcome_unit(outcome)}", "", "", _cost_cell(cost.loc[outcome].to_dict())]
                )
    return format_table(["", "baseline", "variant", "difference [95% CI]"], rows)


NOTE_CODES = {
    "outcome difference not significant: ratio and interval unreliable": "",  # n.s. in the cells
    "no additional outcome on average: no cost per unit": "no effect",
}
"""Short forms of the cost notes for the per-instrument table (explained below it)."""


def instruments_text(table: pd.DataFrame) -> str:
    """The per-instrument table (:data:`sim.experiment.instruments.INSTRUMENT_COLUMNS`) for the terminal.

    One block of rows per instrument, then ``all`` (the full variant); the instrument, its spend alone
    and its spend within the full variant are printed on its first row only. Yuan in k (thousand), M
    (million) and bn (billion).
    """
    rows: list[list[Any]] = []
    last: tuple[Any, Any] | None = None
    for row in table.itertuples(index=False):
        first = (row.instrument, row.arm) != last
        last = (row.instrument, row.arm)
        # the full variant's rows are those of its own arm (a policy may be called "all")
        name = f"{ALL} (variant)" if row.arm == "variant" else row.instrument
        note = str(row.note or "")
        rows.append(
            [
                name if first else "",
                yuan_text(row.spend_yuan) if first else "",
                yuan_text(row.spend_in_variant_yuan) if first else "",
                label(str(row.outcome)),
                difference_text(row.effect_mean, row.effect_ci_low, row.effect_ci_high),
                _cost_cell(as_cost_row(row._asdict())),
                "; ".join(c for c in (NOTE_CODES.get(n, n) for n in note.split("; ")) if c),
            ]
        )
    headers = ["instrument", "spend alone", "in variant", "outcome", "effect [95% CI]", "yuan per unit [95% CI]"]
    headers.append("note")
    legend = (
        "spend alone: the instrument's ledger with the baseline alone; in variant: its ledger in the full variant.\n"
        "n.s.: the effect's interval contains 0, so the cost per unit has no upper bound; no effect: no additional "
        "outcome."
    )
    return format_table(headers, rows) + "\n\n" + legend


def main(args: argparse.Namespace) -> int:
    base = load_scenario(args.baseline)
    variant = load_scenario(args.variant)
    out = args.out or Path("out") / f"{safe_name(base.name)}_vs_{safe_name(variant.name)}"
    if args.instrument_reps is not None and not 1 <= args.instrument_reps <= args.reps:
        reject(f"--instrument-reps: must be between 1 and --reps ({args.reps}), got {args.instrument_reps}")
    options: dict[str, Any] = {
        "independent": args.independent,
        "per_instrument": False if args.no_per_instrument else None,
        "instrument_reps": args.instrument_reps,
    }
    tasks = compare_size(base, variant, args.reps, **options)
    guard_resources(args, [base, variant], tasks)

    def body() -> int:
        with folder_lock(out):
            with experiment_executor(args, tasks) as ex:
                timing = announce(f"{variant.name} vs {base.name}", tasks, args.quiet)
                cmp = compare(
                    base,
                    variant,
                    reps=args.reps,
                    seed=args.seed,
                    **options,
                    options=run_options(args, ex, out, timing),
                )
            for line in notes_text(cmp.experiment):
                print(line, file=sys.stderr)
            if args.report:
                from ..report import write_comparison_report  # matplotlib only when a report is asked for

                write_comparison_report(out, cmp)
                if not args.quiet:
                    print(f"report: {out / 'report.html'}")
        if not args.quiet:
            labels = stage_labels(base)
            print(
                f"{variant.name} (variant) - {base.name} (baseline): {args.reps} paired replications "
                f"(seed {args.seed}); means and paired differences with 95% confidence intervals\n"
            )
            print(lead_text(cmp, labels))
            stats = cmp.experiment.stats
            for line in never_full_lines(base, stage_found_full([stats[stats["arm"].isin(["baseline", "variant"])]])):
                print(line)
            print(f"\n{NS}: the interval contains 0 (no effect cannot be ruled out).")
            if args.all:
                print("\nEvery effect (outcomes the variant left unchanged in every replication left out):\n")
                print(effects_text(cmp.effects, everything=True, labels=labels, narrowed=args.independent))
                if args.independent:
                    print(
                        "\nCI narrowed x: half-width of the interval from independent streams over the paired one's "
                        "(common random numbers); no variation: the paired differences are all equal."
                    )
                if cmp.cost_effectiveness is not None:
                    years = spend_years(cmp.effects["metric"])
                    print("\nBudget: paired spend difference, and cost per additional outcome (delta-method)\n")
                    spend = spend_difference(cmp.experiment, "baseline", "variant", cmp.level)
                    print(cost_text(cmp.cost_effectiveness, spend, years))
                if cmp.instruments is not None:
                    n_inst = int(cmp.instruments["n"].max()) if len(cmp.instruments) else 0
                    print(
                        f"\nPer instrument: the baseline plus one instrument alone, on the same replications "
                        f"({n_inst} paired); spend from each instrument's own ledger (yuan, mean per replication)\n"
                    )
                    print(instruments_text(cmp.instruments))
            files = ["effects.csv"]
            files += ["cost_effectiveness.csv"] if cmp.cost_effectiveness is not None else []
            files += ["instruments.csv"] if cmp.instruments is not None else []
            rest = "" if args.all else "every other effect, cost per outcome and instrument: --all, or "
            files += ["summary_stats.csv", "timeseries.csv", "meta.json", "..."]
            print(f"\n{rest}the files in {out}/ ({', '.join(files)})")
        return 0

    return run_guarded(body)
