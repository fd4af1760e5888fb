"""``incuchain compare BASELINE VARIANT``: paired effects of a variant (e.g. a policy) on every metric."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ..capacity import never_full_lines, stage_found_full
from ..experiment import compare
from ..experiment.cost_effectiveness import spend_difference
from ..experiment.instruments import ALL
from ..output import folder_lock
from ..scenario import load_scenario
from ..stats import Estimate
from .common import add_seed, format_table, positive_int, reject, safe_name
from .run_cmd import (
    add_experiment_args,
    add_report_arg,
    experiment_executor,
    guard_resources,
    notes_text,
    run_guarded,
)

HEADLINE = ("active_at_horizon", "failed", "exited")
STAGE_HEADLINE = ("entries", "graduations", "timeouts", "failures", "mean_stay_years", "mean_occupancy")
SURVIVAL_HEADLINE = ("survival.all.",)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "compare",
        help="paired comparison of two scenarios (variant minus baseline)",
        description="Run both scenarios on the same random streams (replication r of each shares its "
        "random numbers), and report for every summary metric the paired difference variant - baseline "
        "with its 95% confidence interval, and how many times wider the interval would have been with "
        "independent streams (pairing_ci_ratio; measured by also running the variant on other "
        "replications). Writes effects.csv, summary.csv, summary_stats.csv, timeseries.csv, "
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
        "--no-independent",
        action="store_true",
        help="skip the independent-streams run that measures pairing_ci_ratio (saves a third of the work)",
    )
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


def _num(x: float) -> str | None:
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf"
    ax = abs(x)
    return f"{x:,.0f}" if ax >= 1000 else f"{x:.1f}" if ax >= 10 else f"{x:.3g}"


def effects_text(effects: pd.DataFrame, everything: bool = False) -> str:
    """The effects as a readable table (headline metrics unless ``everything``)."""
    rows = []
    for row in effects.itertuples(index=False):
        if not (everything or _headline(str(row.metric))):
            continue
        ci = None if math.isnan(row.ci_low) else f"[{_num(row.ci_low)}, {_num(row.ci_high)}]"
        rows.append(
            [
                row.metric,
                _num(row.baseline_mean),
                _num(row.variant_mean),
                _num(row.diff_mean),
                ci,
                _num(row.pairing_ci_ratio),
            ]
        )
    return format_table(["metric", "baseline", "variant", "difference", "95% CI", "CI narrowed x"], rows)


def cost_text(cost: pd.DataFrame, spend: Estimate) -> str:
    """The spend difference and the cost per additional outcome as a readable table (yuan)."""
    ci = None if math.isnan(spend.ci_low) else f"[{_num(spend.ci_low)}, {_num(spend.ci_high)}]"
    rows: list[list[Any]] = [["spend difference (yuan)", _num(spend.mean), ci, None, spend.note]]
    for row in cost.itertuples(index=False):
        ci = None if math.isnan(row.ci_low) else f"[{_num(row.ci_low)}, {_num(row.ci_high)}]"
        rows.append(
            [f"yuan per additional {row.metric}", _num(row.cost_per_unit), ci, _num(row.outcome_diff_mean), row.note]
        )
    return format_table(["cost", "estimate", "95% CI", "outcome difference", "note"], rows)


def _yuan(x: float) -> str | None:
    """Yuan, compactly: 12.3M, 830k, 950."""
    if math.isnan(x):
        return None
    ax = abs(x)
    if ax >= 1e9:
        return f"{x / 1e9:.3g}bn"
    if ax >= 1e6:
        return f"{x / 1e6:.3g}M"
    if ax >= 1e3:
        return f"{x / 1e3:.3g}k"
    return f"{x:.3g}"


def _interval(low: float, high: float, fmt: Callable[[float], str | None]) -> str | None:
    return None if math.isnan(low) else f"[{fmt(low)}, {fmt(high)}]"


def _signed(x: float) -> str | None:
    text = _num(x)
    return f"+{text}" if text is not None and x > 0 else text


NOTE_CODES = {
    "outcome difference not significant: ratio and interval unreliable": "n.s.",
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
                _yuan(row.spend_yuan) if first else "",
                _yuan(row.spend_in_variant_yuan) if first else "",
                row.outcome,
                _signed(row.effect_mean),
                _interval(row.effect_ci_low, row.effect_ci_high, _num),
                _yuan(row.cost_per_unit),
                _interval(row.cost_ci_low, row.cost_ci_high, _yuan),
                "; ".join(NOTE_CODES.get(n, n) for n in note.split("; ")) if note else "",
            ]
        )
    headers = ["instrument", "spend alone", "in variant", "outcome", "effect", "95% CI", "yuan/unit", "95% CI", "note"]
    legend = (
        "spend alone: the instrument's ledger with the baseline alone; in variant: its ledger in the full variant.\n"
        "n.s.: the effect's interval contains 0, so yuan/unit is unreliable; no effect: no additional outcome."
    )
    return format_table(headers, rows) + "\n\n" + legend


def main(args: argparse.Namespace) -> int:
    base = load_scenario(args.baseline)
    variant = load_scenario(args.variant)
    out = args.out or Path("out") / f"{safe_name(base.name)}_vs_{safe_name(variant.name)}"
    if args.instrument_reps is not None and not 1 <= args.instrument_reps <= args.reps:
        reject(f"--instrument-reps: must be between 1 and --reps ({args.reps}), got {args.instrument_reps}")
    arms = 2 + (not args.no_independent)
    tasks = args.reps * arms + (0 if args.no_per_instrument else min(args.reps, 20) * (len(variant.policies) + 2))
    guard_resources(args, [base, variant], tasks)

    def body() -> int:
        with folder_lock(out):
            with experiment_executor(args, tasks) as ex:
                cmp = compare(
                    base,
                    variant,
                    reps=args.reps,
                    seed=args.seed,
                    independent=not args.no_independent,
                    per_instrument=False if args.no_per_instrument else None,
                    instrument_reps=args.instrument_reps,
                    executor=ex,
                    out=out,
                    resume=args.resume,
                    overwrite=args.overwrite,
                    keep_events=args.keep_events,
                    progress=False if args.quiet else None,
                )
            for line in notes_text(cmp.experiment):
                print(line, file=sys.stderr)
            if args.report:
                from ..report import write_comparison_report  # matplotlib only when a report is asked for

                write_comparison_report(out, cmp)
                if not args.quiet:
                    print(f"report: {out / 'report.html'}")
        if not args.quiet:
            print(
                f"{variant.name} (variant) - {base.name} (baseline): {args.reps} paired replications "
                f"(seed {args.seed}); means, paired differences and 95% confidence intervals\n"
            )
            print(effects_text(cmp.effects, args.all))
            stats = cmp.experiment.stats
            for line in never_full_lines(base, stage_found_full([stats[stats["arm"].isin(["baseline", "variant"])]])):
                print(line)
            if not args.no_independent:
                print(
                    "\nCI narrowed x: half-width of the interval from independent streams over the paired one's "
                    "(common random numbers)."
                )
            if cmp.cost_effectiveness is not None:
                print("\nBudget: paired spend difference, and cost per additional outcome (delta-method interval)\n")
                spend = spend_difference(cmp.experiment, "baseline", "variant", cmp.level)
                print(cost_text(cmp.cost_effectiveness, spend))
            if cmp.instruments is not None:
                n_inst = int(cmp.instruments["n"].max()) if len(cmp.instruments) else 0
                print(
                    f"\nPer instrument: the baseline plus one instrument alone, on the same replications "
                    f"({n_inst} paired); spend from each instrument's own ledger (yuan, mean per replication)\n"
                )
                print(instruments_text(cmp.instruments))
            extra = "cost_effectiveness.csv, " if cmp.cost_effectiveness is not None else ""
            extra += "instruments.csv, " if cmp.instruments is not None else ""
            print(
                f"\nwrote {out}/ (effects.csv, {extra}summary.csv, summary_stats.csv, timeseries.csv, meta.json, ...)"
            )
        return 0

    return run_guarded(body)
