"""Policy windows that open or close together: applied in one batch versus one edge at a time.

The default scenario's 2020 shock is several hazard windows (one per sector group) with the same edges.
The engine applies all windows changing at one time together, booking and re-planning each firm once;
this script runs the default scenario that way and with each edge applied on its own (the engine's
earlier behaviour, patched in here), interleaved, and prints the median times and their ratio.

    python bench/bench_policy_edges.py [--reps 3]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

from simpy.events import URGENT

import sim
from sim import engine
from sim.policies import ArrivalMultiplier, ConstructionSubsidy, PerformanceSubsidy, TaxRelief


def one_edge_at_a_time(self: engine._Model) -> None:
    """Each window's start and end as its own event (every firm re-planned once per window)."""
    skip = ArrivalMultiplier | ConstructionSubsidy | PerformanceSubsidy | TaxRelief
    for w in self.windows:
        if isinstance(w.policy, skip):
            continue
        self._schedule(w.start, functools.partial(self._policy_changes, [(w, True)]), 0.0, URGENT)
        if w.end < self.horizon:
            self._schedule(w.end, functools.partial(self._policy_changes, [(w, False)]), 0.0, URGENT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3, help="interleaved runs of each (default 3)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if engine.COMPILED:
        parser.exit(2, "bench_policy_edges.py patches the engine, which the compiled engine does not allow: "
                       'run it with an editable install (pip install -e ".[bench]")\n')  # fmt: skip
    sc = sim.default_scenario()
    ways = {"batched": engine._Model._start_policies, "one edge at a time": one_edge_at_a_time}
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.reps):
        for name, start in ways.items():
            engine._Model._start_policies = start  # type: ignore[method-assign]
            t0 = time.perf_counter()
            engine.simulate(sc, seed=args.seed)
            times[name].append(time.perf_counter() - t0)
    engine._Model._start_policies = ways["batched"]  # type: ignore[method-assign]
    for name, ts in times.items():
        each = ", ".join(f"{t:.1f}" for t in ts)
        print(f"{name:>20}: median {statistics.median(ts):.1f} s over {len(ts)} runs ({each})")
    ratio = statistics.median(times["one edge at a time"]) / statistics.median(times["batched"])
    print(f"one edge at a time / batched: {ratio:.2f}x (default scenario, seed {args.seed})")


if __name__ == "__main__":
    main()
