"""The closed-form twin against the simulator on the same scenario: wall time side by side.

Times :func:`sim.analytic.solve` and one replication of :func:`sim.run` (with its summary, the
comparable output) on one scenario (default ``scenarios/textbook_exponential.toml``), each the median
of ``--repeats`` calls after one warm-up call, and prints both with their ratio. The twin answers
exactly; one replication is one sample path, so the script also estimates, from the timed
replications, how many replications the simulator needs for a 99 % interval of +-1 % on the largest
stage's mean occupancy, and what that costs.

Usage::

    python bench/bench_analytic.py
    python bench/bench_analytic.py --repeats 11 path/to/exponential_scenario.toml

Wall times depend on the machine and on what else it is doing; the ratio is the stable part.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from pathlib import Path

from scipy import stats

import sim
from sim.analytic import solve

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "textbook_exponential.toml"))
    p.add_argument("--repeats", type=int, default=7, help="timed calls of each method (default 7)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    sc = sim.load_scenario(args.scenario)

    solve(sc)  # warm-up: imports, first-call caches
    sim.run(sc, args.seed, args.repeats).summary()
    twin_s, des_s, occupancy = [], [], []
    for r in range(args.repeats):
        start = time.perf_counter()
        tw = solve(sc)
        twin_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        summary = sim.run(sc, args.seed, r).summary()
        des_s.append(time.perf_counter() - start)
        occupancy.append(summary)
    twin, des = statistics.median(twin_s), statistics.median(des_s)

    print(
        f"scenario {sc.name}: {sc.calendar.horizon_years:g} years, {os.cpu_count()} CPUs, "
        f"median of {args.repeats} calls after one warm-up"
    )
    print(f"{'method':<40}{'median ms':>12}{'min ms':>10}")
    print(f"{'closed-form twin (sim.analytic.solve)':<40}{1000 * twin:>12.1f}{1000 * min(twin_s):>10.1f}")
    print(f"{'simulator, one replication + summary':<40}{1000 * des:>12.1f}{1000 * min(des_s):>10.1f}")
    print(f"ratio simulator / twin: {des / twin:.1f}x for one replication")

    stage = max(tw.window, key=lambda s: tw.window[s].mean_occupancy)
    values = [o[f"stages.{stage}.mean_occupancy"] for o in occupancy]
    if len(values) > 1 and statistics.stdev(values) > 0:
        target = 0.01 * tw.window[stage].mean_occupancy
        z = float(stats.norm.isf(0.005))
        reps = math.ceil((z * statistics.stdev(values) / target) ** 2)
        print(
            f"+-1 % (99 %) on the mean occupancy of {stage!r} takes ~{reps} replications: "
            f"~{reps * des:.1f} s, {reps * des / twin:.0f}x the twin's exact answer"
        )


if __name__ == "__main__":
    main()
