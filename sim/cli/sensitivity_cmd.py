"""``incuchain sensitivity SCENARIO --method morris|sobol|oat``: which uncertain parameters matter."""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from ..scenario import load_scenario
from ..uncertainty import Pair, sensitivity
from ..uncertainty.sensitivity import METHODS
from .common import format_table, positive_int, run_guarded
from .uncertainty_args import add_common_args, analysis_run, declared_uncertainty, default_out, finish, guard_ranges

_COLUMNS = {
    "oat": ("metric_low", "metric_high", "swing"),
    "morris": ("mu_star", "mu_star_conf", "sigma"),
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"),
}


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "sensitivity",
        help="which uncertain parameters matter (one-way tornado, Morris, Sobol)",
        description="Vary the parameters declared in the scenario's [uncertainty] table (or --uncertainty FILE) "
        "over a SALib design and measure how summary metrics respond: oat (each parameter alone at the ends of "
        "its range: a tornado), morris (mu* and sigma of elementary effects, with bootstrap intervals) or sobol "
        "(first-order and total indices with bootstrap intervals). With --baseline, every point runs the "
        "baseline and the scenario on the same random numbers, and the metrics are effects (effect.<metric>) "
        "and yuan per additional outcome (cost_per.<outcome>). Writes sensitivity.csv, points.csv, "
        "parameters.csv, report.html and figures/ beside the experiment's files (resumable with --resume).",
    )
    p.add_argument("scenario", help="scenario TOML file (the variant when --baseline is given)")
    p.add_argument("--method", choices=METHODS, default="morris", help="design and analysis (default morris)")
    p.add_argument("--baseline", default=None, metavar="FILE", help="baseline scenario: analyse effects against it")
    p.add_argument(
        "--metrics",
        nargs="+",
        action="extend",
        default=[],
        metavar="METRIC",
        help="summary metrics (default active_at_horizon survival.all.5y; with --baseline "
        "effect.active_at_horizon cost_per.active_at_horizon)",
    )
    p.add_argument(
        "--n",
        type=positive_int,
        default=None,
        help="Morris trajectories (default 10) or Sobol base sample (default 64)",
    )
    p.add_argument("--levels", type=positive_int, default=4, help="Morris grid levels (default 4)")
    p.add_argument("--no-second-order", action="store_true", help="Sobol: skip the second-order part of the design")
    add_common_args(p, reps_default=1, params_help="declared paths to vary (default: all of them)")
    p.set_defaults(func=main)


def indices_text(indices: pd.DataFrame, method: str) -> str:
    """The indices, one row per metric and parameter."""
    cols = [c for c in _COLUMNS[method] if c in indices.columns]
    rows = [
        [r["metric"], r["parameter"], *(r[c] for c in cols), r.get("note", "") or ""] for _, r in indices.iterrows()
    ]
    return format_table(["metric", "parameter", *cols, "note"], rows)


def main(args: argparse.Namespace) -> int:
    variant = load_scenario(args.scenario)
    uncertainty = declared_uncertainty(variant, args.scenario, args)
    baseline = load_scenario(args.baseline) if args.baseline else None
    target = Pair(baseline, variant) if baseline is not None else variant
    n = args.n or (64 if args.method == "sobol" else 10)
    names = (baseline.name, variant.name) if baseline is not None else (variant.name,)
    out = args.out or default_out(*names, suffix=f"sensitivity_{args.method}")
    ranges = [(p.field, p.low, p.high) for p in uncertainty.params]
    guard_ranges(args, [s for s in (baseline, variant) if s is not None], ranges, args.reps * max(2, n))

    def body() -> int:
        with analysis_run(args, out, args.reps * max(2, n)) as how:
            res = sensitivity(
                target,
                uncertainty,
                args.method,
                metrics=args.metrics or None,
                n=n,
                reps=args.reps,
                seed=args.seed,
                num_levels=args.levels,
                second_order=not args.no_second_order,
                **how,
            )
        finish(args, out, res.experiment)
        if not args.quiet:
            print(
                f"{' against '.join(reversed(names))}: {args.method}, {len(uncertainty)} parameters, "
                f"{len(res.points)} points x {args.reps} replications (seed {args.seed})\n"
            )
            print(indices_text(res.indices, args.method))
            print(f"\nwrote {out}/ (sensitivity.csv, points.csv, parameters.csv, report.html, summary.csv, ...)")
        return 0

    return run_guarded(body)
