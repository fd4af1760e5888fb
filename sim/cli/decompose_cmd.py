"""``incuchain decompose SCENARIO --programme STAGE``: how much of the participants' advantage is the programme."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from ..decomposition import LABELS, MEASURES, OUTCOMES, PARTS, Decomposition, decompose, programme_error
from ..experiment.tables import csv_text
from ..files import atomic_write_text, claim_folder, folder_lock
from ..scenario import Scenario
from .common import (
    add_executor_args,
    add_max_memory,
    add_seed,
    experiment_executor,
    format_table,
    guard_resources,
    load_or_default,
    positive_int,
    reject,
    run_guarded,
)
from .run_cmd import default_out


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "decompose",
        help="split the participants-versus-others gap of a programme into treatment and selection",
        description="Run the scenario and, on the same random numbers, the world where the programme (a "
        "stage, a policy that treats firms, or a competition) takes in the same firms but gives them no treatment; "
        "print per outcome the naive gap (participants - others), the average treatment effect on the treated "
        "(ATT), selection = naive - ATT and its parts (latent quality, entry stream, age at entry), with 95% "
        "intervals across replications. Writes decomposition.csv and per_replication.csv.",
    )
    p.add_argument("scenario", nargs="?", help="scenario TOML file (default: the embedded Jiangsu scenario)")
    p.add_argument(
        "--programme",
        default="incubator",
        help="the programme: a stage (default: incubator), or a policy or competition by its name in the ledger",
    )
    p.add_argument("--reps", type=positive_int, default=5, help="replications (default 5)")
    add_seed(p)
    g = p.add_argument_group("experiments")
    add_executor_args(g)
    add_max_memory(g)
    p.add_argument("--out", type=Path, default=None, help="output folder (default: out/<scenario>_decompose)")
    p.add_argument(
        "--overwrite", action="store_true", help="replace another command's output (a run, an experiment) in --out"
    )
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=main)


def decomposition_text(d: Decomposition) -> str:
    """Per outcome: naive gap = treatment (ATT) + selection, with intervals, and selection's parts."""

    def cell(outcome: str, measure: str, scale: float) -> str:
        m, lo, hi = d.estimate(outcome, measure)
        if math.isnan(m):
            return "-"
        if math.isnan(lo):
            return f"{scale * m:+.1f}"
        return f"{scale * m:+.1f} ± {scale * (hi - lo) / 2:.1f}"

    rows = [[LABELS[o], *(cell(o, m, 1.0 if o == "jobs" else 100.0) for m in MEASURES)] for o in OUTCOMES]
    head = ["outcome", "naive gap", "treatment (ATT)", "selection", *(f"sel.: {p}" for p in PARTS)]
    head += ["sel.: other", "spillover"]
    first = d.per_replication[d.per_replication["outcome"] == OUTCOMES[0]]
    intro = (
        f"{d.scenario}: programme '{d.programme}', {d.reps} replications (seed {d.seed}); per replication "
        f"{first['n_participants'].mean():,.0f} participants and {first['n_others'].mean():,.0f} other firms "
        f"(arrivals); {100 * first['admitted_in_both'].mean():.1f} % of participants took part in the untreated "
        f"world too.\nPercentage points (jobs: per firm), means ± {100 * d.level:g} % CI half-width; "
        "naive gap = treatment + selection."
    )
    return f"{intro}\n\n{format_table(head, rows)}"


def main(args: argparse.Namespace) -> int:
    sc = load_or_default(args.scenario)
    problem = programme_error(sc, args.programme)
    if problem:
        reject(problem)
    guard_decomposition(args, sc, args.reps)
    return run_guarded(lambda: _decompose(args, sc))


def guard_decomposition(args: argparse.Namespace, sc: Scenario, reps: int) -> None:
    """The resource guard for a decomposition: each replication runs the scenario and its untreated
    world and holds both event logs at once (:func:`sim.decomposition.decompose`)."""
    guard_resources(args, [sc], reps, logs_per_task=2)


def write_decomposition(d: Decomposition, out: Path, per_replication: bool = True) -> None:
    """``decomposition.csv`` (and ``per_replication.csv``) in ``out``, each written atomically."""
    atomic_write_text(out / "decomposition.csv", csv_text(d.table))
    if per_replication:
        atomic_write_text(out / "per_replication.csv", csv_text(d.per_replication))


def _decompose(args: argparse.Namespace, sc: Scenario) -> int:
    out = args.out or default_out(f"{sc.name}_decompose")
    with folder_lock(out):
        claim_folder(out, "decompose", sc.name, args.overwrite)  # before the long part, not after
        with experiment_executor(args, args.reps) as ex:
            d = decompose(sc, args.programme, args.reps, args.seed, executor=ex, progress=False if args.quiet else None)
        write_decomposition(d, out)
    if not args.quiet:
        print(decomposition_text(d))
        print(f"\nwrote {out}/ (decomposition.csv, per_replication.csv)")
    return 0
