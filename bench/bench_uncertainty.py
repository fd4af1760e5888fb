"""Speed of the uncertainty analyses: a Morris design on the province and a Sobol design on the tutorial.

For each design, two timings side by side in one process, on the same worker pool:

1. the analysis itself (:func:`sim.uncertainty.sensitivity`: design, arms, runner, indices), and
2. the same number of plain replications of the scenario (:func:`sim.run_experiment`),

so the ratio shows what the analysis adds to the simulation it runs (scenario variants to build and
validate, one arm each, the indices). The full designs of the speed targets are projected from the
measured time per evaluation, which is how they are reported unless ``--full`` runs them.

Usage::

    python bench/bench_uncertainty.py                     # Morris: 10 parameters, 2 trajectories (22 evaluations);
                                                          # Sobol: 8 parameters, N = 16 (288 evaluations)
    python bench/bench_uncertainty.py --full              # the targets' designs: 110 and 4,608 evaluations
    python bench/bench_uncertainty.py --trajectories 4 --sobol-n 32 --workers 2

Speed targets (compiled engine, ``pip install .``, 2 cores): Morris with 10 parameters and 10 trajectories
on the province under 15 minutes; Sobol with 8 parameters and N = 256 on the tutorial under 30 minutes.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import sim
from sim.executors import process_executor
from sim.uncertainty import parse_uncertainty, sensitivity

ROOT = Path(__file__).resolve().parents[1]

TUTORIAL_PARAMS: dict[str, dict[str, Any]] = {
    "stages.maker_space.failure.rate": {"dist": "uniform", "low": 0.25, "high": 0.45},
    "stages.maker_space.graduation.scale": {"dist": "uniform", "low": 1.2, "high": 1.8},
    "stages.incubator.graduation.scale": {"dist": "uniform", "low": 0.9, "high": 1.3},
    "stages.incubator.failure.scale": {"dist": "uniform", "low": 5.0, "high": 7.0},
    "stages.accelerator.failure.rate": {"dist": "uniform", "low": 0.05, "high": 0.12},
    "stages.industrial_park.failure.rate": {"dist": "uniform", "low": 0.03, "high": 0.08},
    "firms.quality_on_failure": {"dist": "uniform", "low": 0.1, "high": 0.5},
    "arrivals.founders.rate_per_year.2019": {"dist": "uniform", "low": 40, "high": 80},
}
"""Eight parameters of the tutorial chain for the Sobol design."""


def timed_pair(
    scenario: sim.Scenario, table: dict[str, Any], method: str, n: int, workers: int, seed: int
) -> tuple[float, float, int]:
    """Wall seconds of the analysis and of as many plain replications, and the number of evaluations."""
    u = parse_uncertainty(scenario, table)
    with process_executor(workers) as ex:
        start = time.perf_counter()
        res = sensitivity(scenario, u, method, n=n, seed=seed, second_order=True, executor=ex, progress=False)
        analysis = time.perf_counter() - start
        evaluations = len(res.points)
        start = time.perf_counter()
        sim.run_experiment(scenario, reps=evaluations, seed=seed, executor=ex, progress=False)
        plain = time.perf_counter() - start
    return analysis, plain, evaluations


def report(name: str, analysis: float, plain: float, evaluations: int, full: int, limit_minutes: float) -> None:
    per = analysis / evaluations
    print(f"{name}: {evaluations} evaluations")
    print(f"  {'analysis':<34}{analysis:>9.1f} s  ({per:.2f} s per evaluation)")
    print(f"  {'plain replications, same count':<34}{plain:>9.1f} s  (analysis / plain: {analysis / plain:.2f}x)")
    projected = per * full / 60
    verdict = "under" if projected < limit_minutes else "over"
    target = f"{verdict} the {limit_minutes:g}-minute target"
    print(f"  full design ({full} evaluations): {projected:.1f} min projected ({target})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--trajectories", type=int, default=2, help="Morris trajectories on the province (target: 10)")
    p.add_argument("--sobol-n", type=int, default=16, help="Sobol base sample on the tutorial (target: 256)")
    p.add_argument("--full", action="store_true", help="run the targets' designs (10 trajectories, N = 256)")
    p.add_argument("--skip-province", action="store_true", help="only the Sobol design")
    args = p.parse_args()
    trajectories, sobol_n = (10, 256) if args.full else (args.trajectories, args.sobol_n)
    try:
        import sim.engine as engine

        compiled = engine.__file__.endswith((".so", ".pyd"))
    except AttributeError:
        compiled = False
    print(f"{os.cpu_count()} CPUs, {args.workers} workers, engine {'compiled' if compiled else 'interpreted'}")
    if not args.skip_province:
        province = sim.default_scenario()
        declared = sim.uncertainty.load_uncertainty(province, sim.scenario.DEFAULT_SCENARIO_PATH)
        table = {q.path: q.spec.model_dump(exclude_none=True) for q in declared.params[:10]}
        a, b, n = timed_pair(province, table, "morris", trajectories, args.workers, args.seed)
        report(f"Morris, 10 parameters, {trajectories} trajectories, province", a, b, n, 110, 15)
    tutorial = sim.load_scenario(ROOT / "scenarios" / "tutorial.toml")
    table = {k: {**v, "source": "bench"} for k, v in TUTORIAL_PARAMS.items()}
    a, b, n = timed_pair(tutorial, table, "sobol", sobol_n, args.workers, args.seed)
    report(f"Sobol, 8 parameters, N = {sobol_n}, tutorial", a, b, n, 4608, 30)


if __name__ == "__main__":
    main()
