"""``incuchain calibrate SCENARIO TARGETS --params ...``: fit parameters to observed figures."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import ScenarioError
from ..experiment.design import parse_setting
from ..files import claim_folder
from ..scenario import load_scenario
from ..uncertainty import load_uncertainty
from ..uncertainty.calibrate import calibrate, parse_bound
from ..uncertainty.declare import resolve_path
from ..uncertainty.targets import load_targets
from .common import format_table, positive_int, run_guarded
from .uncertainty_args import add_common_args, analysis_run, default_out, finish, guard_ranges


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "calibrate",
        help="fit scenario parameters to observed figures (scipy.optimize, Nelder-Mead)",
        description="Fit the --params so that the scenario reproduces the targets file's figures: minimise the "
        "sum of squared standardised misfits (each target's mean over --reps replications, common random "
        "numbers across evaluations) with scipy's bounded Nelder-Mead. Writes calibrated.toml (an extends "
        "file with only the fitted values and their provenance), fit.csv (every target at the fitted values; "
        "--holdout ones marked), history.csv, calibration.json, report.html and figures/; with --intervals also "
        "intervals.csv.",
    )
    p.add_argument("scenario", help="scenario TOML file")
    p.add_argument("targets", help="targets TOML file ([[targets]] rows)")
    p.add_argument(
        "--holdout", nargs="+", action="extend", default=[], metavar="NAME", help="targets kept out of the fit"
    )
    p.add_argument(
        "--start", nargs="+", action="extend", default=[], metavar="PATH=V", help="starting values (default: mid-range)"
    )
    p.add_argument(
        "--max-evals", type=positive_int, default=40, help="most evaluations the search may make (default 40)"
    )
    p.add_argument(
        "--fit-set",
        dest="fit_set",
        action="append",
        default=[],
        metavar="PATH=V",
        help="a setting used only while fitting, e.g. calendar.horizon_years=1 when every fitted target is in "
        "the first year (the final check runs the scenario as it is)",
    )
    p.add_argument(
        "--check-reps", type=positive_int, default=None, help="replications of the final check (default --reps)"
    )
    p.add_argument(
        "--intervals",
        action="store_true",
        help="also estimate each fitted parameter's interval of values at which the model still meets every "
        "fitted target, and evaluate the scenario's own values the same way (intervals.csv; 4-10 more "
        "evaluations per parameter)",
    )
    add_common_args(
        p, reps_default=2, params_help="fields to fit: PATH=LOW:HIGH, or PATH declared in [uncertainty] (its range)"
    )
    p.set_defaults(func=main)


def _single(texts: list[str], option: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for text in texts:
        path, vals = parse_setting(text)
        if len(vals) != 1:
            raise ScenarioError([f"{option} {text!r}: give one value"])
        values[path] = vals[0]
    return values


def main(args: argparse.Namespace) -> int:
    sc = load_scenario(args.scenario)
    targets = load_targets(args.targets, sc)
    if not args.params:
        raise ScenarioError(["--params: name at least one field to fit (PATH=LOW:HIGH or a declared PATH)"])
    declared = None
    if any("=" not in t for t in args.params):
        declared = load_uncertainty(sc, args.scenario, args.uncertainty)
    bounds = [parse_bound(t, sc, declared) for t in args.params]
    start = _single(args.start, "--start")
    for b in bounds:  # before the output folder is made (calibrate checks it again)
        v = start.get(b.path)
        if v is not None and not (isinstance(v, int | float) and b.low <= v <= b.high):
            raise ScenarioError([f"--start {b.path}: {v} is outside the bounds {b.low}:{b.high}"])
    fit_changes = _single(args.fit_set, "--fit-set")
    out = args.out or default_out(sc.name, suffix="calibration")
    ranges = [(resolve_path(sc, b.path), b.value(0.0), b.value(1.0)) for b in bounds]
    fitting = [sc.with_changes(fit_changes)] if fit_changes else []
    guard_ranges(args, [sc, *fitting], ranges, args.reps * args.max_evals)

    def body() -> int:
        with analysis_run(args, out, args.reps) as how:
            claim_folder(out, "calibrate", sc.name, args.overwrite)
            res = calibrate(
                sc,
                targets,
                bounds,
                reps=args.reps,
                seed=args.seed,
                holdout=args.holdout,
                start=start,
                max_evals=args.max_evals,
                fit_changes=fit_changes,
                check_reps=args.check_reps,
                intervals=args.intervals,
                scenario_path=args.scenario,
                **how,
            )
        finish(args, out)
        if not args.quiet:
            meta = res.meta
            print(
                f"{sc.name}: {meta['evaluations']} evaluations x {args.reps} replications (seed {args.seed}); "
                f"objective {res.objective:.4g}; {meta['message']}\n"
            )
            if res.intervals is None:
                print(
                    format_table(
                        ["parameter", "before", "fitted"], [[p, meta["before"][p], v] for p, v in res.fitted.items()]
                    )
                )
            else:
                spans = meta["intervals"]
                print(
                    format_table(
                        ["parameter", "before", "fitted", "consistent from", "to", "before inside"],
                        [
                            [r.parameter, r.before, r.fitted, r.low, r.high, "yes" if r.before_inside else "NO"]
                            for r in res.intervals.itertuples(index=False)
                        ],
                    )
                )
                if res.intervals["low"].isna().all():
                    print("\nthe fitted values miss a target: no values are known to meet them all, so no intervals")
                meets = "meet" if spans["before_meets_fitted_targets"] else "do NOT meet"
                print(
                    f"\nthe scenario's own values {meets} every fitted target "
                    f"(objective {spans['before_objective']:.4g} there)"
                )
            print()
            rows = [
                [
                    r.target,
                    r.role,
                    r.observed,
                    r.simulated_mean,
                    r.ci_low,
                    r.ci_high,
                    r.allowed,
                    "yes" if r.within else "NO",
                ]
                for r in res.fit.itertuples(index=False)
            ]
            print(
                format_table(
                    ["target", "role", "observed", "simulated", "ci low", "ci high", "tolerance", "within"], rows
                )
            )
            print(f"\nwrote {out}/ (calibrated.toml, fit.csv, history.csv, calibration.json, report.html, ...)")
        return 0

    return run_guarded(body)
