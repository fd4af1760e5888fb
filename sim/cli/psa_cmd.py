"""``incuchain psa BASELINE VARIANT``: a policy's effect and cost over draws of the uncertain parameters."""

from __future__ import annotations

import argparse
import math
from typing import Any

from ..scenario import load_scenario
from ..uncertainty.psa import psa
from .common import format_table, positive_int, run_guarded
from .uncertainty_args import add_common_args, analysis_run, declared_uncertainty, default_out, finish, guard_ranges


def _wtp(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of yuan, got {text!r}") from None
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "psa",
        help="probabilistic sensitivity analysis of a policy (CE plane, acceptability curve, EVPI)",
        description="Draw the parameters declared in the variant's [uncertainty] table (or --uncertainty FILE) "
        "--n times (Latin hypercube); for each draw run the baseline and the variant on the same random numbers. "
        "Reports per priced outcome the distribution of the effect and of the extra spend, the cost per "
        "additional unit, the probability that it is below each willingness to pay (CEAC) and the expected "
        "value of perfect information. Writes draws.csv, psa_summary.csv, ceac.csv, parameters.csv, "
        "report.html and figures/ (CE plane, CEAC) beside the experiment's files (resumable with --resume).",
    )
    p.add_argument("baseline", help="baseline scenario TOML file")
    p.add_argument("variant", help="variant scenario TOML file (its [uncertainty] table is used by default)")
    p.add_argument("--n", type=positive_int, default=50, help="parameter draws (default 50)")
    p.add_argument(
        "--wtp",
        type=_wtp,
        nargs="+",
        action="extend",
        default=[],
        metavar="YUAN",
        help="willingness to pay per additional unit to report (default 1000000)",
    )
    p.add_argument(
        "--per-instrument", action="store_true", help="also run each policy the variant adds alone, in every draw"
    )
    add_common_args(p, reps_default=1, params_help="declared paths to draw (default: all; the others stay fixed)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    baseline = load_scenario(args.baseline)
    variant = load_scenario(args.variant)
    uncertainty = declared_uncertainty(variant, args.variant, args)
    out = args.out or default_out(baseline.name, variant.name, suffix="psa")
    wtp = args.wtp or [1e6]
    ranges = [(p.field, p.low, p.high) for p in uncertainty.params]
    guard_ranges(args, [baseline, variant], ranges, 2 * args.reps * args.n)

    def body() -> int:
        with analysis_run(args, out, 2 * args.reps * args.n) as how:
            res = psa(
                baseline,
                variant,
                uncertainty,
                n=args.n,
                reps=args.reps,
                seed=args.seed,
                wtp=wtp,
                per_instrument=args.per_instrument,
                **how,
            )
        finish(args, out, res.experiment)
        if not args.quiet:
            print(
                f"{variant.name} against {baseline.name}: {args.n} draws of {len(uncertainty)} parameters x "
                f"{args.reps} paired replications (seed {args.seed})\n"
            )
            rows = []
            for r in res.summary.itertuples(index=False):
                probs = [res.probability_below(r.outcome, w) for w in wtp]
                rows.append(
                    [
                        r.outcome,
                        r.effect_mean,
                        r.effect_q025,
                        r.effect_q975,
                        f"{r.prob_effect_positive:.0%}",
                        r.cost_per_unit,
                        *(f"{x:.0%}" for x in probs),
                    ]
                )
            heads = ["outcome", "effect", "2.5%", "97.5%", "P(effect>0)", "yuan per unit"]
            heads += [f"P(< {w:,.0f})" for w in wtp]
            print(format_table(heads, rows))
            print(f"\nwrote {out}/ (draws.csv, psa_summary.csv, ceac.csv, report.html, summary.csv, ...)")
        return 0

    return run_guarded(body)
