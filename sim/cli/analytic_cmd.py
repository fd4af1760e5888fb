"""``incuchain analytic [SCENARIO]``: the closed-form twin's answers, or why there are none (exit 2)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from ..analytic import REPORT_YEARS, AnalyticResult, NotClosedForm, solve
from ..metric_names import pretty_name
from .common import format_table, load_or_default
from .printing import stage_labels


def _years(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of years, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "analytic",
        help="closed-form results for exponential (Markov) scenarios",
        description="Solve a scenario exactly as a continuous-time Markov chain (exponential hazards, "
        "capacity that does not bind or a single Erlang stage) and print per-firm outcomes, survival, "
        "expected stage occupancy and flows, and queue results. Scenarios outside that class are refused "
        "with one line per offending field (exit code 2).",
    )
    p.add_argument("scenario", nargs="?", help="scenario TOML file (default: the embedded Jiangsu scenario)")
    p.add_argument("--json", action="store_true", help="print every result, curves included, as JSON")
    p.add_argument("--horizon", type=_years, default=None, metavar="YEARS", help="override calendar.horizon_years")
    p.add_argument(
        "--ignore-capacity",
        action="store_true",
        help="treat every stage as unlimited even where its capacity binds (a what-if)",
    )
    p.set_defaults(func=main)


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def report_text(res: AnalyticResult, labels: dict[str, str], millis: float) -> str:
    """The twin's results as readable tables."""
    lab = {s: labels.get(s) or pretty_name(s) for s in res.stages}
    h = res.horizon_years
    parts = [
        f"{res.scenario}: closed form (continuous-time Markov chain), horizon {h:g} years"
        + (f", warm-up {res.warmup_years:g}" if res.warmup_years else "")
        + f"; solved in {millis:.0f} ms"
    ]
    if res.notes:
        parts.append("\n".join(["notes:", *(f"  {n}" for n in res.notes)]))
    shown = list(res.entry_stages) or list(res.stages)
    settle = list(res.settling_stages)
    rows = []
    for s in shown:
        e = res.entries[s]
        carrier = sum(e.at_horizon[c] for c in res.carrier_stages)
        active = sum(e.at_horizon[x] for x in res.stages)
        rows.append(
            [
                lab[s],
                _pct(e.p_failed),
                _pct(e.p_exited),
                *(_pct(e.p_ends_in[x]) for x in settle),
                e.expected_years_total,
                _pct(active),
                _pct(carrier),
            ]
        )
    c = res.cohort
    rows.append(
        [
            "new firms (cohort)",
            _pct(c.p_failed),
            _pct(c.p_exited),
            *(_pct(c.p_ends_in[x]) for x in settle),
            c.expected_years_total,
            _pct(sum(c.at_horizon[x] for x in res.stages)),
            _pct(sum(c.at_horizon[x] for x in res.carrier_stages)),
        ]
    )
    parts.append(
        f"Per firm admitted to an entry stage: eventual outcome, and state {h:g} years later\n"
        + format_table(
            [
                "entry stage",
                "fails",
                "exits",
                *(f"ends in {lab[x]}" for x in settle),
                "years in system",
                f"active at {h:g} y",
                f"in a carrier at {h:g} y",
            ],
            rows,
        )
    )
    parts.append(
        "Expected years in each stage (expected visits), by entry stage\n"
        + format_table(
            ["entry stage", *(lab[x] for x in res.stages)],
            [
                [
                    lab[s],
                    *(
                        f"{res.entries[s].expected_years[x]:.3g} ({res.entries[s].expected_visits[x]:.3g})"
                        for x in res.stages
                    ),
                ]
                for s in shown
            ],
        )
    )
    years = list(REPORT_YEARS)
    srows = []
    for s in shown:
        srows.append(
            [
                lab[s],
                *(_pct(res.survival_at(y, s)) for y in years),
                *(_pct(res.survival_at(y, s, km=True)) for y in years),
            ]
        )
    srows.append(
        [
            "new firms (cohort)",
            *(_pct(res.survival_at(y)) for y in years),
            *(_pct(res.survival_at(y, km=True)) for y in years),
        ]
    )
    parts.append(
        "Survival: not failed by t (the run summary's measure) | Kaplan-Meier with exits treated as censoring\n"
        + format_table(["entry stage", *(f"{y:g} y" for y in years), *(f"KM {y:g} y" for y in years)], srows)
    )
    w = res.window
    st = res.steady
    parts.append(
        f"Stages: expected over [{res.warmup_years:g}, {h:g}) years | steady state\n"
        + format_table(
            [
                "stage",
                "entries",
                "graduated",
                "failed",
                "exited",
                "skipped",
                "waited",
                "mean occupancy",
                "at end",
                "| occupancy",
                "entries/y",
                "mean stay (y)",
            ],
            [
                [
                    lab[s],
                    w[s].entries,
                    w[s].graduations,
                    w[s].failures,
                    w[s].exits,
                    w[s].skips,
                    w[s].waits,
                    w[s].mean_occupancy,
                    w[s].occupancy_end,
                    st[s].mean_occupancy,
                    st[s].entries,
                    st[s].mean_stay_years,
                ]
                for s in res.stages
            ],
        )
    )
    targets = [*res.stages, "failed", "exit"]
    parts.append(
        "Flows per year in the steady state (from row to column)\n"
        + format_table(
            ["from \\ to", *(lab.get(t, t) for t in targets)],
            [[lab[s], *(res.flows_per_year[s].get(t, 0.0) for t in targets)] for s in res.stages],
        )
    )
    if res.queues:
        parts.append(
            "Capacity-limited stages in the steady state\n"
            + format_table(
                [
                    "stage",
                    "model",
                    "slots",
                    "arrivals/y",
                    "load (Erlang)",
                    "P(full, skipped)",
                    "P(wait)",
                    "mean wait (y)",
                    "mean waiting",
                ],
                [
                    [
                        lab[q.stage],
                        "M/M/c/c" if q.kind == "loss" else "M/M/c",
                        q.servers,
                        q.arrival_rate_per_year,
                        q.offered_load,
                        _pct(q.p_loss),
                        _pct(q.p_wait),
                        q.mean_wait_years,
                        q.mean_queue,
                    ]
                    for q in res.queues.values()
                ],
            )
        )
    return "\n\n".join(parts)


def main(args: argparse.Namespace) -> int:
    sc = load_or_default(args.scenario)
    start = time.perf_counter()
    try:
        res = solve(sc, horizon_years=args.horizon, assume_unlimited=args.ignore_capacity)
    except NotClosedForm as exc:
        for line in exc.reasons:
            print(line, file=sys.stderr)
        return 2
    millis = 1000.0 * (time.perf_counter() - start)
    if args.json:
        print(json.dumps({**res.to_dict(), "solve_milliseconds": millis}, indent=2))
    else:
        print(report_text(res, stage_labels(sc), millis))
    return 0
