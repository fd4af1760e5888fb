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

``--warm`` times the parallel runs on one pool made before the first round (and used once, untimed,
before timing), as a program that runs several experiments on the same workers would; without it each
round makes a new pool, whose start (forking the workers, their first touches of memory shared with
the parent) is part of its time.

``--rounds N`` alternates the two modes N times and reports medians. Beside them it measures two
ceilings the same way:

* the machine's: a pure-Python loop that allocates nothing, run twice serially and once on each of
  ``--workers`` processes. No experiment can scale better than that loop does on the same cores at the
  same moment (shared caches, memory bandwidth, other processes, the hypervisor);
* the replications': the same replications (each as the task a worker runs,
  :func:`sim.experiment.tasks.run_task`) serially in this process, then split evenly over ``--workers``
  processes forked at the start of the timing, with nothing sent back and no pool. That is what any
  runner on a new pool of forked workers could reach: it pays only what no runner avoids (forking the
  workers, their first touches of memory shared with this process, the replications slowing each other
  down on shared cores), and its work is split perfectly. The pool's efficiency over this one is what the
  runner itself costs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time
import traceback
from concurrent.futures import Executor
from pathlib import Path

import sim
from sim.executors import SerialExecutor, process_executor
from sim.experiment.tables import csv_text
from sim.experiment.tasks import ReplicationTask, run_task
from sim.provenance import scenario_digest

ROOT = Path(__file__).resolve().parents[1]


def timed(
    scenario: sim.Scenario, reps: int, seed: int, workers: int, pool: Executor | None = None
) -> tuple[float, str]:
    """Wall seconds of an in-memory experiment and its summary table as CSV text (on ``pool`` if given)."""
    start = time.perf_counter()
    if pool is not None:
        res = sim.run_experiment(scenario, reps=reps, seed=seed, executor=pool, progress=False)
    elif workers <= 1:
        res = sim.run_experiment(scenario, reps=reps, seed=seed, executor=SerialExecutor(), progress=False)
    else:
        with process_executor(workers) as ex:
            res = sim.run_experiment(scenario, reps=reps, seed=seed, executor=ex, progress=False)
    return time.perf_counter() - start, csv_text(res.summary)


def _spin(_: int) -> float:
    """CPU-bound work with no memory traffic to speak of: the ceiling of any speed-up on these cores."""
    total = 0
    for i in range(3_000_000):
        total += i * i
    return float(total)


def ceiling(workers: int) -> float:
    """Speed-up of ``workers`` copies of :func:`_spin` on as many forked processes, against serially."""
    start = time.perf_counter()
    for k in range(workers):
        _spin(k)
    serial = time.perf_counter() - start
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pool.map(_spin, range(workers))  # start the processes before timing
        start = time.perf_counter()
        pool.map(_spin, range(workers))
        parallel = time.perf_counter() - start
    return serial / parallel


def _replications(sc: sim.Scenario, seed: int, indices: range) -> None:
    """The replications as an experiment kept in memory runs each on a worker (its task, returned here)."""
    digest, text = scenario_digest(sc), sc.to_toml()
    for r in indices:
        run_task(ReplicationTask(digest, seed, r, scenario_toml=text, checkpoint=False))


def split_ceiling(sc: sim.Scenario, reps: int, seed: int, workers: int) -> float:
    """Speed-up of ``reps`` replications split evenly over ``workers`` processes forked at the start of
    the timing (nothing sent back, no pool), against the same replications serially in this process."""
    start = time.perf_counter()
    _replications(sc, seed, range(reps))
    serial = time.perf_counter() - start
    start = time.perf_counter()
    children = []
    for k in range(workers):
        pid = os.fork()
        if pid == 0:  # the child: its share, then out at once (no clean-up of the parent's state)
            code = 0
            try:
                _replications(sc, seed, range(k, reps, workers))
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    failed = [pid for pid in children if os.waitpid(pid, 0)[1] != 0]
    parallel = time.perf_counter() - start
    if failed:
        raise SystemExit("a forked share of the replications failed")
    return serial / parallel


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "tutorial.toml"))
    p.add_argument("--reps", type=int, default=40)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rounds", type=int, default=1, help="alternate serial and parallel this many times (medians)")
    p.add_argument("--warm", action="store_true", help="one pool for every round, started before the first")
    args = p.parse_args()
    sc = sim.load_scenario(args.scenario)
    sim.run(sc, seed=args.seed, replication=0)  # warm-up: imports, first-call caches
    serial: list[float] = []
    parallel: list[float] = []
    spin: list[float] = []
    split: list[float] = []
    forks = hasattr(os, "fork")
    pool = process_executor(args.workers) if args.warm else None
    if pool is not None:
        timed(sc, args.reps, args.seed, args.workers, pool)  # the workers started and warmed, untimed
    for _ in range(args.rounds):
        serial_s, serial_csv = timed(sc, args.reps, args.seed, 1)
        parallel_s, parallel_csv = timed(sc, args.reps, args.seed, args.workers, pool)
        if serial_csv != parallel_csv:
            raise SystemExit("serial and parallel runs gave different tables")
        serial.append(serial_s)
        parallel.append(parallel_s)
        spin.append(ceiling(args.workers))
        if forks:
            split.append(split_ceiling(sc, args.reps, args.seed, args.workers))
    if pool is not None:
        pool.shutdown()
    serial_s, parallel_s = statistics.median(serial), statistics.median(parallel)
    cpus = os.cpu_count()
    print(f"scenario {sc.name}: {args.reps} replications, seed {args.seed}, {cpus} CPUs, {args.rounds} rounds")
    print(f"{'mode':<29}{'wall s':>10}{'reps/s':>10}")
    print(f"{'serial':<29}{serial_s:>10.2f}{args.reps / serial_s:>10.2f}")
    label = f"{args.workers} worker processes" + (" (warm)" if args.warm else "")
    print(f"{label:<29}{parallel_s:>10.2f}{args.reps / parallel_s:>10.2f}")
    speedup = serial_s / parallel_s
    print(f"speed-up: {speedup:.2f}x, efficiency {speedup / args.workers:.2f}   identical summary tables: True")
    if args.rounds > 1:
        rounds = ", ".join(f"{s / p / args.workers:.2f}" for s, p in zip(serial, parallel, strict=True))
        print(f"  efficiency by round: {rounds}")
    ceil = statistics.median(spin)
    print(f"the machine's ceiling (a CPU-bound loop on {args.workers} processes): speed-up {ceil:.2f}x, "
          f"efficiency {ceil / args.workers:.2f}")  # fmt: skip
    if split:
        best = statistics.median(split)
        print(f"the replications' ceiling (split evenly over {args.workers} forked processes, no pool): "
              f"speed-up {best:.2f}x, efficiency {best / args.workers:.2f}; the pool reaches "
              f"{speedup / best:.2f} of it")  # fmt: skip
        if args.rounds > 1:
            print(f"  by round: {', '.join(f'{x / args.workers:.2f}' for x in split)}")


if __name__ == "__main__":
    main()
