"""``incuchain run [SCENARIO]``: run a scenario (the embedded default if none) and write its tables.

With ``--reps N`` (N > 1) or any experiment option (``--workers``, ``--scheduler``, ``--resume``,
``--overwrite``, ``--keep-events``) it runs an experiment instead: N replications, checkpointed one
by one, then ``summary.csv``, ``summary_stats.csv`` and ``timeseries.csv`` (see
``docs/experiments.md``). The experiment options are shared with ``compare`` and ``sweep``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from ..api import run
from ..capacity import never_full_lines, stage_found_full
from ..experiment import run_experiment
from ..files import claim_folder, folder_lock
from ..metric_names import pretty_name, source_label
from ..output import write_run
from ..scenario import Scenario
from ..summary import RunSummary
from ..tables import EVER_LABEL, NEVER_LABEL, survival_by_source
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
    reject,
    replication_index,
    run_guarded,
    run_options,
    safe_name,
)
from .printing import is_share, label, level_text, spend_years, stage_labels


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run a scenario (or many replications of it) and write its tables",
        description="Run a scenario (the embedded Jiangsu default if none is given), print a summary and "
        "write events.parquet, firms.parquet, timeseries.csv, carriers.csv, ledger.csv, summary.json, "
        "scenario.resolved.toml and meta.json. With --reps N (or any experiment option) run N "
        "replications and write replications/, summary.csv, summary_stats.csv, timeseries.csv, "
        "experiment.json, scenario.resolved.toml and meta.json.",
    )
    p.add_argument("scenario", nargs="?", help="scenario TOML file (default: the embedded Jiangsu scenario)")
    add_seed(p)
    p.add_argument(
        "--replication", type=replication_index, default=0, help="replication index of a single run (default 0)"
    )
    p.add_argument("--reps", type=positive_int, default=1, help="replications (default 1: a single run)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: out/<scenario name>)")
    add_experiment_args(p)
    add_report_arg(p)
    p.add_argument(
        "--decompose",
        metavar="PROGRAMME",
        default=None,
        help="also split the gap between a programme's participants (a stage's tenants, a policy's or a "
        "competition's firms) and other firms into treatment and selection "
        "(incuchain decompose; --reps replications, at least 2) and write decomposition.csv",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing but errors (and no progress bar)")
    p.set_defaults(func=main)


def is_experiment(args: argparse.Namespace) -> bool:
    """True when ``run`` was asked for more than the single replication of old (``--overwrite`` is not)."""
    return bool(args.reps > 1 or args.workers or args.scheduler or args.resume or args.keep_events)


def stats_text(stats: pd.DataFrame, labels: dict[str, str]) -> str:
    """Means with confidence intervals: system-wide metrics and survival, then stages side by side."""
    by = {m: row for m, row in zip(stats["metric"], stats.itertuples(index=False), strict=True)}

    def cell(metric: str) -> str:
        row = by.get(metric)
        if row is None or int(row.n) == 0:
            return "-"
        return level_text(float(row.mean), float(row.ci_low), float(row.ci_high), share=is_share(metric))

    overall = ["arrivals", "initial_stock", "active_at_horizon", "failed", "exited"]
    rows = [[label(m, labels), cell(m), int(by[m].n) if m in by else 0] for m in overall]
    for group in ("all", "never_in_carrier", "ever_in_carrier"):
        for t in ("1", "3", "5", "10"):
            m = f"survival.{group}.{t}y"
            if m in by and int(by[m].n) > 0:
                rows.append([label(m, labels), cell(m), int(by[m].n)])
    top = format_table(["outcome", "mean ± 95% CI half-width", "replications"], rows)
    stages = list(dict.fromkeys(m.split(".")[1] for m in by if m.startswith("stages.")))
    measures = [
        ("entries", "entries"),
        ("graduations", "graduated"),
        ("timeouts", "timed out"),
        ("failures", "failed"),
        ("mean_stay_years", "mean stay (y)"),
        ("mean_occupancy", "mean occupancy"),
    ]
    srows = [[labels.get(s) or pretty_name(s), *(cell(f"stages.{s}.{m}") for m, _ in measures)] for s in stages]
    table = format_table(["stage", *(h for _, h in measures)], srows)
    return f"{top}\n\n{table}"


def default_out(name: str) -> Path:
    """``out/<scenario name>`` with the name made safe for a folder (never ``..`` or hidden)."""
    return Path("out") / safe_name(name)


def _percent(share: float | None) -> str | None:
    return None if share is None or share != share else f"{100 * share:.1f}%"


def summary_text(
    summary: RunSummary, stage_labels: dict[str, str] | None = None, by_source: pd.DataFrame | None = None
) -> str:
    """A short readable summary of one replication (``by_source``: :func:`sim.tables.survival_by_source`)."""
    labels = stage_labels or {}

    def stage_label(name: str) -> str:
        return labels.get(name) or pretty_name(name)

    measures = ("entries", "graduations", "timeouts", "failures", "mean_stay_years", "mean_occupancy")
    rows = []
    for name in summary.stage_names:
        s = summary.stage(name)
        rows.append([stage_label(name), *(s[m] for m in measures), s["occupancy_at_horizon"]])
    head = (
        f"{summary.scenario} (seed {summary.seed}, replication {summary.replication}): "
        f"{summary.horizon_years:g} years"
        + (f", warm-up {summary.warmup_years:g}" if summary.warmup_years else "")
        + f"; {summary['arrivals']:,} new firms + {summary['initial_stock']:,} at the start"
        f" -> {summary['active_at_horizon']:,} active, {summary['failed']:,} failed, {summary['exited']:,} exited"
    )
    table = format_table(
        ["stage", "entries", "graduated", "timed out", "failed", "mean stay (y)", "mean occupancy", "at end"], rows
    )
    # survival past the horizon cannot be estimated: leave those columns out
    years = [y for y in summary.survival("all") if y <= summary.horizon_years - summary.warmup_years]
    rows_pct = [
        [name, *(_percent(summary.survival(group)[y]) for y in years)]
        for group, name in (("never_in_carrier", NEVER_LABEL), ("ever_in_carrier", EVER_LABEL), ("all", "all firms"))
    ]
    if by_source is not None:
        for r in by_source.itertuples(index=False):
            cells = [getattr(r, f"_{3 + k}") for k in range(len(years))]
            rows_pct.append(
                [f"  {source_label(r.source, stage_label)}, {r.group} ({r.firms:,})", *(_percent(c) for c in cells)]
            )
    stable = format_table(["not failed since arrival (Kaplan-Meier)", *(f"{y:g} y" for y in years)], rows_pct)
    text = f"{head}\n\n{table}\n\n{stable}\n{ASSOCIATION_NOTE}"
    living = [n for n in summary.stage_names if f"carriers.{n}.open" in summary]
    if living:
        crows = [
            [
                stage_label(n),
                *(int(summary[f"carriers.{n}.{k}"]) for k in ("open", "municipal", "provincial", "national")),
                *(int(summary[f"carriers.{n}.{k}"]) for k in ("opened", "closed", "promoted", "demoted")),
            ]
            for n in living
        ]
        text += "\n\n" + format_table(
            [
                "carriers",
                "open at end",
                "municipal",
                "provincial",
                "national",
                "opened",
                "closed",
                "promoted",
                "demoted",
            ],
            crows,
        )
    cumulative: dict[str, list[str]] = {}
    for key, value in summary.items():
        if key.startswith("graduates_cumulative."):
            _, stage, year = key.split(".")
            cumulative.setdefault(stage, []).append(f"{year} {value:,}")
    if cumulative:
        text += "\n\ncumulative graduates (before the start included), at the end of each year:"
        for stage, cells in cumulative.items():
            text += f"\n  {stage_label(stage)}: " + "; ".join(cells)
    if "jobs.at_horizon" in summary:
        per_firm = summary["jobs.per_active_firm"]
        text += (
            f"\n\noutcomes: {summary['jobs.at_horizon']:,.0f} jobs in active firms at the horizon "
            + (f"({per_firm:.1f} per firm)" if per_firm == per_firm else "(no firm active)")
            + f"; {summary['listings.total']:,} listings"
        )
        tests = {  # the totals (milestones.<test>), not the per-stage keys (milestones.<stage>.<test>)
            k.removeprefix("milestones."): summary[k]
            for k in summary
            if k.startswith("milestones.") and k.count(".") == 1
        }
        if any(tests.values()):
            text += "; graduations by success test: " + ", ".join(
                f"{k.replace('_', ' ')} {v:,}" for k, v in tests.items()
            )
    if "budget.total_yuan" in summary:
        spend = [
            f"{k.removeprefix('budget.policy.')} {summary[k] / 1e6:,.1f}"
            for k in summary
            if k.startswith("budget.policy.") and summary[k] and not re.search(r"\.\d{4}$", k)  # not by year
        ]
        text += f"\n\npublic spend {spend_years(summary)}: {summary['budget.total_yuan'] / 1e6:,.1f} million yuan" + (
            f" ({'; '.join(spend)})" if spend else ""
        )
    return text


ASSOCIATION_NOTE = (
    "(ever vs never in a carrier is an association, not an effect: it mixes who got in -- screening, quality,\n"
    "the initial stock, the source streams -- with what support did; --decompose STAGE splits it)"
)


def _decompose(args: argparse.Namespace, sc: Any, out: Path) -> str | None:
    """With ``--decompose STAGE``: run the decomposition, write decomposition.csv, return its text."""
    if args.decompose is None:
        return None
    from ..decomposition import decompose
    from .decompose_cmd import decomposition_text, write_decomposition

    with experiment_executor(args, max(2, args.reps)) as ex:
        d = decompose(sc, args.decompose, reps=max(2, args.reps), seed=args.seed, executor=ex)
    write_decomposition(d, out, per_replication=False)
    return decomposition_text(d)


def _check_decompose(args: argparse.Namespace, sc: Scenario) -> None:
    """With ``--decompose STAGE``: refuse an unknown programme, or a decomposition that would not fit in
    memory, before anything runs."""
    if args.decompose is None:
        return
    from ..decomposition import programme_error
    from .decompose_cmd import guard_decomposition

    problem = programme_error(sc, args.decompose)
    if problem:
        reject(f"--decompose: {problem}")
    guard_decomposition(args, sc, max(2, args.reps))


def main(args: argparse.Namespace) -> int:
    if is_experiment(args):
        return run_guarded(lambda: _experiment(args))
    sc = load_or_default(args.scenario)
    out = args.out or default_out(sc.name)
    guard_resources(args, [sc], 1)
    _check_decompose(args, sc)
    with folder_lock(out):
        claim_folder(out, "run", sc.name, args.overwrite)  # before a long run, not after
        res = run(sc, seed=args.seed, replication=args.replication)
        write_run(res, out)
        split = _decompose(args, sc, out)
        if args.report:
            from ..report import write_report  # imported here: matplotlib only when a report is asked for

            write_report(out, res)
    if not args.quiet:
        labels = stage_labels(sc)
        summary = res.summary()
        by_source = survival_by_source(res.firms, sc.calendar.horizon_years, sc.calendar.warmup_years)
        print(summary_text(summary, labels, by_source))
        for line in never_full_lines(sc, stage_found_full([summary])):
            print(line)
        if split:
            print(f"\n{split}")
        print(f"\nwrote {out}/ (events.parquet, firms.parquet, timeseries.csv, summary.json, ...)")
        if args.report:
            print(f"report: {out / 'report.html'}")
    return 0


def _experiment(args: argparse.Namespace) -> int:
    if args.replication:
        print("--replication: only for a single run; an experiment runs replications 0 .. reps-1", file=sys.stderr)
        return 2
    sc = load_or_default(args.scenario)
    out = args.out or default_out(sc.name)
    guard_resources(args, [sc], args.reps)
    _check_decompose(args, sc)
    with folder_lock(out):
        with experiment_executor(args, args.reps) as ex:
            timing = announce(sc.name, args.reps, args.quiet)
            result = run_experiment(
                sc,
                reps=args.reps,
                seed=args.seed,
                options=run_options(args, ex, out, timing),
            )
        for line in notes_text(result):
            print(line, file=sys.stderr)
        split = _decompose(args, sc, out)
        if args.report:
            from ..report import write_report

            write_report(out, result)
    if not args.quiet:
        labels = stage_labels(sc)
        if args.report:
            print(f"report: {out / 'report.html'}")
        print(
            f"{sc.name}: {args.reps} replications (seed {args.seed}), {sc.calendar.horizon_years:g} years; "
            "means with 95% confidence intervals\n"
        )
        print(stats_text(result.stats, labels))
        for line in never_full_lines(sc, stage_found_full([result.stats])):
            print(line)
        print(ASSOCIATION_NOTE if split is None else f"\n{split}")
        print(f"\nwrote {out}/ (summary.csv, summary_stats.csv, timeseries.csv, replications/, meta.json, ...)")
    return 0
