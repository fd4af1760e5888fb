"""Parallel speed-up of experiments: the same replications serially and on local worker processes.

Runs ``--reps`` replications of a scenario (default: ``scenarios/tutorial.toml``) twice -- serially,
then with ``--workers`` processes -- checks that both give the same summary table byte for byte, and
prints the wall times side by side with their ratio. Each mode runs in memory (no output folder),
after one warm-up replication so that neither pays for first-call costs.

Usage::

    python bench/bench_parallel.py                      # 40 replications, 2 workers
    python bench/bench_parallel.py --reps 100 --workers 2 scenarios/jiangsu.toml

The speed-up is below the worker count: each replication's results are pickled back to the parent,
which also builds the tables; and on a machine whose cores are busy with other work, less.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import sim
from sim.executors import SerialExecutor, process_executor
from sim.experiment.tables import csv_text

ROOT = Path(__file__).resolve().parents[1]


def timed(scenario: sim.Scenario, reps: int, seed: int, workers: int) -> tuple[float, str]:
    """Wall seconds of an in-memory experiment and its summary table as CSV text."""
    start = time.perf_counter()
    if workers <= 1:
        res = sim.run_experiment(scenario, reps=reps, seed=seed, executor=SerialExecutor(), progress=False)
    else:
        with process_executor(workers) as ex:
            res = sim.run_experiment(scenario, reps=reps, seed=seed, executor=ex, progress=False)
    return time.perf_counter() - start, csv_text(res.summary)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "tutorial.toml"))
    p.add_argument("--reps", type=int, default=40)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    sc = sim.load_scenario(args.scenario)
    sim.run(sc, seed=args.seed, replication=0)  # warm-up: imports, first-call caches
    serial_s, serial_csv = timed(sc, args.reps, args.seed, 1)
    parallel_s, parallel_csv = timed(sc, args.reps, args.seed, args.workers)
    same = serial_csv == parallel_csv
    print(f"scenario {sc.name}: {args.reps} replications, seed {args.seed}, {os.cpu_count()} CPUs")
    print(f"{'mode':<22}{'wall s':>10}{'reps/s':>10}")
    print(f"{'serial':<22}{serial_s:>10.2f}{args.reps / serial_s:>10.2f}")
    print(f"{f'{args.workers} worker processes':<22}{parallel_s:>10.2f}{args.reps / parallel_s:>10.2f}")
    print(f"speed-up: {serial_s / parallel_s:.2f}x   identical summary tables: {same}")
    if not same:
        raise SystemExit("serial and parallel runs gave different tables")


if __name__ == "__main__":
    main()
