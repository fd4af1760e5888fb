"""Another git revision against this checkout, side by side: the engine, and everything around it.

    python bench/bench_revisions.py 8894989 [--reps 3]                 # the engine (firms per second)
    python bench/bench_revisions.py d5410e9 --throughput [--reps 3]    # summaries, files, workers

Checks the revision out into a temporary git worktree and runs each measurement in a fresh process,
alternating between the ways below, ``--reps`` times, so that drift in the machine's speed affects all
alike; prints medians and ratios to ``before``.

Engine (default): ``sim.engine.simulate(scenario, 1)`` on the reference network
(``scenarios/bench_tandem.toml``) and the default province scenario, three ways:

* ``before``: the revision's engine, interpreted (its sources on ``sys.path``);
* ``now, interpreted``: this checkout's sources;
* ``now, installed``: whatever ``import sim`` gives outside the checkout (compiled after ``pip install .``).

Throughput (``--throughput``): what users wait for around the engine, two ways, both on the installed
(compiled) engine: ``before`` is the revision's sources and ``now`` a copy of this checkout's, each with
the installed engine's compiled modules copied in (allowed only when both have the installed
``sim/engine.py`` and ``sim/streams.py``, byte for byte, so the engine is the same and only the code
around it differs; no reinstall is needed after changing the rest). Measured:

* ``summary / engine``: on the reference network, (``simulate`` + the run's ``summary()``) over
  ``simulate`` alone (the target: at most 1.15);
* ``files / engine``: on the default province (``incuchain run``'s work), the seconds of writing every
  table and file (:func:`sim.output.write_run`, summary included) over the simulation's;
* ``2-worker efficiency``: 40 tutorial replications serially and on 2 worker processes (in memory),
  serial seconds / (2 x parallel seconds);
* ``task / engine``: one province replication as an experiment runs it (``run_experiment`` with one
  replication: the task, its summary and time series, the tables) over ``simulate`` alone.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ENGINE = r"""
import gc, sys, time
if sys.argv[1]:
    sys.path.insert(0, sys.argv[1])
import sim, sim.engine
sc = sim.load_scenario(sys.argv[3]) if sys.argv[2] == "reference network" else sim.default_scenario()
gc.collect()
t0 = time.perf_counter()
out = sim.engine.simulate(sc, 1)
print(len(out.firm_source) / (time.perf_counter() - t0), sim.engine.__file__)
"""

THROUGHPUT = r"""
import gc, sys, tempfile, time
from pathlib import Path
if sys.argv[1]:
    sys.path.insert(0, sys.argv[1])
import sim, sim.engine
from sim.results import RunResult
case, bench = sys.argv[2], sys.argv[3]

def simulated(sc):
    gc.collect()
    t0 = time.perf_counter()
    out = sim.engine.simulate(sc, 1)
    return out, time.perf_counter() - t0

if case == "summary / engine":
    sc = sim.load_scenario(bench)
    out, t_sim = simulated(sc)
    t0 = time.perf_counter()
    RunResult(sc, 1, 0, out, t_sim).summary()
    value = (t_sim + time.perf_counter() - t0) / t_sim
elif case == "files / engine":
    from sim.output import write_run
    sc = sim.default_scenario()
    out, t_sim = simulated(sc)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_run(RunResult(sc, 1, 0, out, t_sim), Path(tmp))
        value = (time.perf_counter() - t0) / t_sim
elif case == "task / engine":
    from sim.executors import SerialExecutor
    sc = sim.default_scenario()
    out, t_sim = simulated(sc)
    del out
    gc.collect()
    t0 = time.perf_counter()
    sim.run_experiment(sc, reps=1, seed=1, executor=SerialExecutor(), progress=False)
    value = (time.perf_counter() - t0) / t_sim
else:  # 2-worker efficiency
    from sim.executors import SerialExecutor, process_executor
    sc = sim.load_scenario(bench.replace("bench_tandem", "tutorial"))
    sim.run(sc, seed=1)  # imports and first-call costs out of the way
    t0 = time.perf_counter()
    a = sim.run_experiment(sc, reps=40, seed=1, executor=SerialExecutor(), progress=False)
    serial = time.perf_counter() - t0
    with process_executor(2) as ex:
        t0 = time.perf_counter()
        b = sim.run_experiment(sc, reps=40, seed=1, executor=ex, progress=False)
        parallel = time.perf_counter() - t0
    assert a.summary.equals(b.summary), "serial and parallel summaries differ"
    value = serial / (2 * parallel)
print(value, sim.engine.__file__)
"""

THROUGHPUT_CASES = ("summary / engine", "files / engine", "task / engine", "2-worker efficiency")


def _compiled_engine(tree: Path) -> None:
    """Copy the installed engine's compiled modules into the sources under ``tree`` (same engine source only)."""
    import sim.engine
    import sim.streams

    for module in (sim.engine, sim.streams):
        built = Path(str(module.__file__))
        source = built.parent / f"{module.__name__.rpartition('.')[2]}.py"
        if built.suffix == ".py":
            raise SystemExit("--throughput compares on the compiled engine: pip install . first")
        if not filecmp.cmp(source, tree / "sim" / source.name, shallow=False):
            raise SystemExit(f"{tree}: {source.name} differs from the installed one: the engines are not the same")
        shutil.copy2(built, tree / "sim" / built.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revision", help="git revision to compare with (e.g. a commit hash)")
    parser.add_argument("--reps", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("--throughput", action="store_true", help="summaries, files and workers, not the engine")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="incuchain-rev-") as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.revision],
                       check=True, capture_output=True)  # fmt: skip
        try:
            if args.throughput:
                now = Path(tmp) / "now"
                shutil.copytree(ROOT / "sim", now / "sim", ignore=shutil.ignore_patterns("__pycache__"))
                for tree in (old, now):
                    _compiled_engine(tree)
                ways = {"before": str(old), "now": str(now)}
                cases: tuple[str, ...] = THROUGHPUT_CASES
                script = THROUGHPUT
            else:
                ways = {"before": str(old), "now, interpreted": str(ROOT), "now, installed": ""}
                cases = ("reference network", "province")
                script = ENGINE
            values: dict[tuple[str, str], list[float]] = {(c, w): [] for c in cases for w in ways}
            files: dict[str, str] = {}
            for _ in range(args.reps):
                for case in cases:
                    for way, path in ways.items():
                        proc = subprocess.run(
                            [sys.executable, "-c", script, path, case, str(ROOT / "scenarios" / "bench_tandem.toml")],
                            check=True, capture_output=True, text=True, cwd=tmp,
                        )  # fmt: skip
                        value, file = proc.stdout.split()
                        values[case, way].append(float(value))
                        files[way] = file
                        print(f"  {case:20s} {way:17s} {float(value):10,.3f}", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)
    unit = "ratios" if args.throughput else "firms per second"
    print(f"\nmedian of {args.reps}, {unit} (ratio to before); revision {args.revision}")
    for way in ways:
        print(f"  {way:17s} {files[way]}")
    for case in cases:
        base = statistics.median(values[case, "before"])
        cells = [f"{w}: {statistics.median(values[case, w]):,.3f} (x{statistics.median(values[case, w]) / base:.2f})"
                 for w in ways]  # fmt: skip
        print(f"  {case:20s} " + "   ".join(cells))


if __name__ == "__main__":
    main()
