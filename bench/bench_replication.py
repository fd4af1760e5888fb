"""The engine at another git revision against the engine as installed, side by side.

    python bench/bench_replication.py 8894989 [--reps 3]

Checks the revision out into a temporary git worktree and times ``sim.engine.simulate(scenario, 1)``
on the reference network (``scenarios/bench_tandem.toml``) and the default province scenario, three
ways, each run in a fresh process, alternating so that drift in the machine's speed affects all alike:

* ``before``: the revision's engine, interpreted (its sources on ``sys.path``);
* ``now, interpreted``: this checkout's sources;
* ``now, installed``: whatever ``import sim`` gives outside the checkout (compiled after ``pip install .``).

and, with ``--before-python``, a fourth:

* ``before, installed``: the revision installed in another environment (``pip install .`` of the
  revision there, so compiled), run by that environment's Python outside any checkout.

Prints the median firms (firm-lifecycles) per second of each and the ratios to ``before``, then the
median wall time of one replication (seconds) and its ratio to the revision's: the default
replication of this checkout (its own default scenario, whatever its size) against the revision's.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RUN = r"""
import gc, sys, time
if sys.argv[1]:
    sys.path.insert(0, sys.argv[1])
import sim, sim.engine
sc = sim.load_scenario(sys.argv[3]) if sys.argv[2] == "reference network" else sim.default_scenario()
gc.collect()
t0 = time.perf_counter()
out = sim.engine.simulate(sc, 1)
seconds = time.perf_counter() - t0
print(len(out.firm_source) / seconds, seconds, sim.engine.__file__)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revision", help="git revision to compare with (e.g. a commit hash)")
    parser.add_argument("--reps", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument(
        "--before-python", default=None, help="Python of an environment with the revision installed (compiled)"
    )
    parser.add_argument(
        "--installed-only", action="store_true", help="with --before-python: time the two installed engines only"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="incuchain-rev-") as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.revision],
                       check=True, capture_output=True)  # fmt: skip
        try:
            ways = {"before": (sys.executable, str(old)), "now, interpreted": (sys.executable, str(ROOT)),
                    "now, installed": (sys.executable, "")}  # fmt: skip
            if args.before_python:
                ways["before, installed"] = (args.before_python, "")
                if args.installed_only:
                    ways = {w: v for w, v in ways.items() if "installed" in w}
            cases = ("reference network", "province")
            rates: dict[tuple[str, str], list[float]] = {(c, w): [] for c in cases for w in ways}
            walls: dict[tuple[str, str], list[float]] = {(c, w): [] for c in cases for w in ways}
            files: dict[str, str] = {}
            for _ in range(args.reps):
                for case in cases:
                    for way, (python, path) in ways.items():
                        proc = subprocess.run(
                            [python, "-c", RUN, path, case, str(ROOT / "scenarios" / "bench_tandem.toml")],
                            check=True, capture_output=True, text=True, cwd=tmp,
                        )  # fmt: skip
                        rate, wall, file = proc.stdout.split()
                        rates[case, way].append(float(rate))
                        walls[case, way].append(float(wall))
                        files[way] = file
                        print(f"  {case:18s} {way:17s} {float(rate):10,.0f}", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)
    print(f"\nmedian of {args.reps}, firms per second (ratio to before); revision {args.revision}")
    for way in ways:
        print(f"  {way:17s} {files[way]}")
    for case in cases:
        base = statistics.median(rates[case, "before" if "before" in ways else "before, installed"])
        cells = [f"{w}: {statistics.median(rates[case, w]):,.0f} (x{statistics.median(rates[case, w]) / base:.2f})"
                 for w in ways]  # fmt: skip
        print(f"  {case:18s} " + "   ".join(cells))
    print(f"\nmedian of {args.reps}, seconds per replication (ratio to the revision's, same kind of engine)")
    for case in cases:
        cells = []
        for w in ways:
            ref = (
                "before, installed"
                if "before, installed" in ways and ("installed" in w or "before" not in ways)
                else "before"
            )
            wall = statistics.median(walls[case, w])
            cells.append(f"{w}: {wall:.2f} (x{wall / statistics.median(walls[case, ref]):.2f})")
        print(f"  {case:18s} " + "   ".join(cells))


if __name__ == "__main__":
    main()
