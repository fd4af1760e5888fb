"""``incuchain sweep [SCENARIO] --set PATH=V1,V2,...``: replications at every point of a design."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from ..experiment import ExperimentResult, sweep
from ..experiment.design import SWEEP_METRICS, design_points, parse_setting, sweep_arms, sweep_differences
from ..files import folder_lock
from .common import (
    add_experiment_args,
    add_report_arg,
    add_seed,
    announce,
    experiment_executor,
    format_table,
    guard_resources,
    load_or_default,
    notes_text,
    positive_int,
    run_guarded,
    run_options,
    safe_name,
)
from .printing import NS, difference_text, field_label, is_share, label, level_text, stage_labels

DEFAULT_METRICS = SWEEP_METRICS


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "sweep",
        help="run a scenario over a grid of parameter values",
        description="Run replications at every point of a design over scenario fields: one or more "
        "--set PATH=V1,V2,... (any field by its dotted path; values read as TOML: 50, 0.8, true, "
        '"queue"), crossed in full (default) or paired in order (--zip). Every point uses the same '
        "replications (common random numbers). Writes summary.csv, summary_stats.csv and "
        "timeseries.csv with a column per swept field, replications/, scenarios/ and meta.json.",
    )
    p.add_argument("scenario", nargs="?", help="scenario TOML file (default: the embedded Jiangsu scenario)")
    p.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="PATH=V1,V2,...",
        help="a field and its values, e.g. stages.incubator.carriers.capacity=50,100,200 (repeatable)",
    )
    p.add_argument("--zip", action="store_true", help="pair the i-th values of every --set instead of crossing them")
    p.add_argument("--reps", type=positive_int, default=10, help="replications per point (default 10)")
    add_seed(p)
    p.add_argument("--out", type=Path, default=None, help="output folder (default: out/<scenario name>_sweep)")
    p.add_argument(
        "--metric",
        dest="metrics",
        action="append",
        default=None,
        help=f"metric to print (repeatable; default: {', '.join(DEFAULT_METRICS)}); all go to the files",
    )
    add_experiment_args(p)
    add_report_arg(p)
    p.add_argument("--quiet", action="store_true", help="print nothing but errors (and no progress bar)")
    p.set_defaults(func=main)


def sweep_text(result: ExperimentResult, metrics: list[str], labels: dict[str, str] | None = None) -> str:
    """One row per point: its swept values, then mean ± 95% CI half-width of each metric."""
    stats: pd.DataFrame = result.stats
    keys = [k for arm in result.arms for k in arm.params]
    keys = list(dict.fromkeys(keys))
    rows = []
    for arm in result.arms:
        part = stats[stats["arm"] == arm.label] if len(result.arms) > 1 else stats
        by = {m: r for m, r in zip(part["metric"], part.itertuples(index=False), strict=True)}
        cells = []
        for m in metrics:
            r = by.get(m)
            if r is None or int(r.n) == 0:
                cells.append("-")
            else:
                cells.append(level_text(float(r.mean), float(r.ci_low), float(r.ci_high), share=is_share(m)))
        rows.append([arm.label, *(arm.params.get(k) for k in keys), *cells])
    return format_table(["point", *(field_label(k) for k in keys), *(label(m, labels) for m in metrics)], rows)


def paired_text(result: ExperimentResult, metrics: list[str], labels: dict[str, str] | None = None) -> str:
    """Each point after the first minus the first, paired replication by replication: mean [95% CI], n.s."""
    first = result.arms[0].label
    diffs = sweep_differences(result.summary, [a.label for a in result.arms], metrics)
    rows = []
    for arm in result.arms[1:]:
        by = diffs[diffs["arm"] == arm.label].set_index("metric")
        cells = [
            difference_text(float(r.diff_mean), float(r.ci_low), float(r.ci_high), share=is_share(m))
            if m in by.index and int((r := by.loc[m]).n) > 1
            else "-"
            for m in metrics
        ]
        rows.append([f"{arm.label} - {first}", *cells])
    return format_table(["paired difference", *(label(m, labels) for m in metrics)], rows)


def main(args: argparse.Namespace) -> int:
    settings = [parse_setting(s) for s in args.settings]
    sc = load_or_default(args.scenario)
    arms = sweep_arms(sc, design_points(settings, args.zip))  # every point valid before a cluster is contacted
    out = args.out or Path("out") / f"{safe_name(sc.name)}_sweep"
    guard_resources(args, [a.scenario for a in arms], args.reps * len(arms))
    metrics = args.metrics or list(DEFAULT_METRICS)

    def body() -> int:
        with folder_lock(out), experiment_executor(args, args.reps * len(arms)) as ex:
            timing = announce(f"{sc.name} sweep", len(arms) * args.reps, args.quiet)
            result = sweep(
                sc,
                settings,
                reps=args.reps,
                seed=args.seed,
                zipped=args.zip,
                options=run_options(args, ex, out, timing),
            )
        for line in notes_text(result):
            print(line, file=sys.stderr)
        if args.report:
            from ..report import write_sweep_report  # matplotlib only when a report is asked for

            write_sweep_report(out, result, metrics=[m for m in metrics if m in result.metrics])
            if not args.quiet:
                print(f"report: {out / 'report.html'}")
        if not args.quiet:
            unknown = [m for m in metrics if m not in result.metrics]
            if unknown:
                print(f"--metric: unknown {', '.join(unknown)} (see summary_stats.csv for the names)", file=sys.stderr)
            print(
                f"{sc.name}: {len(result.arms)} points x {args.reps} replications (seed {args.seed}); "
                "means ± 95% confidence-interval half-widths\n"
            )
            known = [m for m in metrics if m in result.metrics]
            labels = stage_labels(sc)
            print(sweep_text(result, known, labels))
            if len(result.arms) > 1:
                print(
                    "\nEvery point runs on the same random numbers, so differences from the first point are paired "
                    f"(mean and 95% confidence interval; {NS}: the interval contains 0):\n"
                )
                print(paired_text(result, known, labels))
            print(f"\nwrote {out}/ (summary.csv, summary_stats.csv, timeseries.csv, scenarios/, meta.json, ...)")
        return 0

    return run_guarded(body)
