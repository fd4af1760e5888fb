"""Speed of the uncertainty analyses: a Morris design on the province and a Sobol design on the city.

The speed targets (compiled engine, ``pip install .``, 2 cores):

* Morris, 10 parameters (the first ten of ``scenarios/jiangsu.toml``'s ``[uncertainty]``), 10 trajectories
  (110 evaluations), 1 replication each, on the province: under 15 minutes;
* Sobol, 8 parameters (:data:`CITY_PARAMS`), N = 256 with second-order indices (N (2 k + 2) = 4,608
  evaluations), 1 replication each, on ``scenarios/city.toml``: under 30 minutes.

``--full`` runs exactly these designs, each once, and prints each wall time against its target. Without it,
smaller designs of the same parameters run, each timed side by side with as many plain replications of the
scenario on the same worker pool (:func:`sim.run_experiment`), so the ratio shows what the analysis adds to
the simulation it runs (a scenario variant per point, validated and sent to the workers; the indices), and
the full designs' times are projected from the measured time per evaluation.

Usage::

    python bench/bench_uncertainty.py                  # Morris: 2 trajectories (22 evaluations);
                                                       # Sobol: N = 16 (288 evaluations); with plain replications
    python bench/bench_uncertainty.py --full           # the targets' designs: 110 and 4,608 evaluations
    python bench/bench_uncertainty.py --full --plain   # ... and as many plain replications after each
    python bench/bench_uncertainty.py --trajectories 4 --sobol-n 32 --workers 2
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sim
from sim.executors import process_executor
from sim.uncertainty import parse_uncertainty, sensitivity

ROOT = Path(__file__).resolve().parents[1]

CITY_PARAMS: dict[str, dict[str, Any]] = {
    "stages.maker_space.failure.rate": {"dist": "uniform", "low": 0.25, "high": 0.45},
    "stages.incubator.failure.rate": {"dist": "uniform", "low": 0.08, "high": 0.16},
    "stages.incubator.graduation.scale": {"dist": "uniform", "low": 0.8, "high": 1.2},
    "stages.accelerator.failure.rate": {"dist": "uniform", "low": 0.03, "high": 0.08},
    "stages.accelerator.carriers.capacity": {"dist": "uniform", "low": 10, "high": 16},
    "stages.market.failure.scale": {"dist": "uniform", "low": 4.0, "high": 6.0},
    "firms.quality_on_failure": {"dist": "uniform", "low": 0.1, "high": 0.5},
    "arrivals.founders.rate_per_year": {"dist": "uniform", "low": 90, "high": 150},
}
"""Eight parameters of the city chain for the Sobol design (ranges around the file's values; bench only)."""


@dataclass(frozen=True)
class Design:
    """One of the speed targets."""

    name: str
    method: str
    full_n: int
    full_evaluations: int
    limit_minutes: float


MORRIS = Design("Morris, 10 parameters, province", "morris", 10, 110, 15.0)
SOBOL = Design("Sobol, 8 parameters, city", "sobol", 256, 4608, 30.0)


def timed(
    scenario: sim.Scenario, table: dict[str, Any], design: Design, n: int, workers: int, seed: int, plain: bool
) -> tuple[float, float | None, int]:
    """Wall seconds of the analysis (and of as many plain replications after it), and its evaluations."""
    u = parse_uncertainty(scenario, table)
    with process_executor(workers) as ex:
        start = time.perf_counter()
        res = sensitivity(scenario, u, design.method, n=n, reps=1, seed=seed, executor=ex, progress=False)
        analysis = time.perf_counter() - start
        evaluations = len(res.points)
        plain_seconds = None
        if plain:
            start = time.perf_counter()
            sim.run_experiment(scenario, reps=evaluations, seed=seed, executor=ex, progress=False)
            plain_seconds = time.perf_counter() - start
    return analysis, plain_seconds, evaluations


def report(design: Design, n: int, analysis: float, plain: float | None, evaluations: int) -> None:
    per = analysis / evaluations
    print(f"{design.name}, n = {n}: {evaluations} evaluations")
    print(f"  {'analysis':<34}{analysis:>9.1f} s  ({per:.2f} s per evaluation)")
    if plain is not None:
        print(f"  {'plain replications, same count':<34}{plain:>9.1f} s  (analysis / plain: {analysis / plain:.2f}x)")
    if evaluations == design.full_evaluations:
        minutes = analysis / 60
        verdict = "under" if minutes < design.limit_minutes else "OVER"
        print(f"  the target's design: {minutes:.1f} min, {verdict} the {design.limit_minutes:g}-minute target")
    else:
        projected = per * design.full_evaluations / 60
        verdict = "under" if projected < design.limit_minutes else "over"
        print(
            f"  full design ({design.full_evaluations} evaluations): {projected:.1f} min projected "
            f"({verdict} the {design.limit_minutes:g}-minute target)"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--trajectories", type=int, default=2, help="Morris trajectories on the province (target: 10)")
    p.add_argument("--sobol-n", type=int, default=16, help="Sobol base sample on the city, a power of 2 (target: 256)")
    p.add_argument("--full", action="store_true", help="run the targets' designs (10 trajectories, N = 256)")
    p.add_argument("--plain", action="store_true", help="with --full: also time as many plain replications")
    p.add_argument("--skip-province", action="store_true", help="only the Sobol design")
    p.add_argument("--skip-city", action="store_true", help="only the Morris design")
    args = p.parse_args()
    trajectories, sobol_n = (MORRIS.full_n, SOBOL.full_n) if args.full else (args.trajectories, args.sobol_n)
    plain = args.plain or not args.full
    compiled = sim.engine.__file__.endswith((".so", ".pyd"))  # type: ignore[attr-defined]
    print(f"{os.cpu_count()} CPUs, {args.workers} workers, engine {'compiled' if compiled else 'interpreted'}")
    if not args.skip_province:
        province = sim.default_scenario()
        declared = sim.uncertainty.load_uncertainty(province, sim.scenario.DEFAULT_SCENARIO_PATH)
        table = {q.path: q.spec.model_dump(exclude_none=True) for q in declared.params[:10]}
        print(f"Morris parameters: {', '.join(table)}")
        a, b, n = timed(province, table, MORRIS, trajectories, args.workers, args.seed, plain)
        report(MORRIS, trajectories, a, b, n)
    if not args.skip_city:
        city = sim.load_scenario(ROOT / "scenarios" / "city.toml")
        table = {k: {**v, "source": "bench"} for k, v in CITY_PARAMS.items()}
        a, b, n = timed(city, table, SOBOL, sobol_n, args.workers, args.seed, plain)
        report(SOBOL, sobol_n, a, b, n)


if __name__ == "__main__":
    main()
