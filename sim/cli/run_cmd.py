"""``incuchain run [SCENARIO]``: run a scenario (the embedded default if none) and write its tables."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from ..api import run
from ..output import write_run
from .common import add_seed, format_table, load_or_default, nonneg_int


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run a scenario and write its tables",
        description="Run a scenario (the embedded Jiangsu default if none is given), print a summary and "
        "write events.parquet, firms.parquet, timeseries.csv, carriers.csv, summary.json, "
        "scenario.resolved.toml and meta.json.",
    )
    p.add_argument("scenario", nargs="?", help="scenario TOML file (default: the embedded Jiangsu scenario)")
    add_seed(p)
    p.add_argument("--replication", type=nonneg_int, default=0, help="replication index (default 0)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: out/<scenario name>)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=main)


def default_out(name: str) -> Path:
    """``out/<scenario name>`` with the name made safe for a folder."""
    return Path("out") / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "scenario")


def summary_text(summary: dict[str, Any], stage_labels: dict[str, str] | None = None) -> str:
    """A short readable summary of one replication."""
    labels = stage_labels or {}
    rows = []
    for name, s in summary["stages"].items():
        rows.append(
            [
                labels.get(name) or name,
                s["entries"],
                s["graduations"],
                s["timeouts"],
                s["failures"],
                s["mean_stay_years"],
                s["mean_occupancy"],
                s["occupancy_at_horizon"],
            ]
        )
    head = (
        f"{summary['scenario']} (seed {summary['seed']}, replication {summary['replication']}): "
        f"{summary['horizon_years']:g} years"
        + (f", warm-up {summary['warmup_years']:g}" if summary["warmup_years"] else "")
        + f"; {summary['arrivals']:,} new firms + {summary['initial_stock']:,} at the start"
        f" -> {summary['active_at_horizon']:,} active, {summary['failed']:,} failed, {summary['exited']:,} exited"
    )
    table = format_table(
        ["stage", "entries", "graduated", "timed out", "failed", "mean stay (y)", "mean occupancy", "at end"], rows
    )
    surv = summary["survival"]
    srows = [
        ["never in a carrier", *surv["never_in_carrier"]],
        ["ever in a carrier", *surv["ever_in_carrier"]],
        ["all firms", *surv["all"]],
    ]
    stable = format_table(["survival (Kaplan-Meier)", *(f"{y:g} y" for y in surv["years"])], [
        [r[0], *(None if v is None else f"{100 * v:.1f}%" for v in r[1:])] for r in srows
    ])
    return f"{head}\n\n{table}\n\n{stable}"


def main(args: argparse.Namespace) -> int:
    sc = load_or_default(args.scenario)
    res = run(sc, seed=args.seed, replication=args.replication)
    out = args.out or default_out(sc.name)
    write_run(res, out)
    if not args.quiet:
        labels = {n: st.label or n for n, st in sc.stages.items()}
        print(summary_text(res.summary(), labels))
        print(f"\nwrote {out}/ (events.parquet, firms.parquet, timeseries.csv, summary.json, ...)")
    return 0
