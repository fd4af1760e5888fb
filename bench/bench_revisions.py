"""Another git revision against this checkout, side by side: the engine, and everything around it.

    python bench/bench_revisions.py 8894989 [--reps 3]                 # the engine (firms per second)
    python bench/bench_revisions.py df60a4f --before-python ENV/bin/python --installed-only   # compiled vs compiled
    python bench/bench_revisions.py d5410e9 --throughput [--reps 3]    # summaries, files, workers
    python bench/bench_revisions.py d5410e9 --throughput --before-python ENV/bin/python   # the same, own engines

Checks the revision out into a temporary git worktree and runs each measurement in a fresh process,
alternating between the ways below, ``--reps`` times, so that drift in the machine's speed affects all
alike; prints medians and ratios to ``before``.

Engine (default): ``sim.engine.simulate(scenario, 1)`` on the reference network
(``scenarios/bench_tandem.toml``) and the default province scenario, three ways:

* ``before``: the revision's engine, interpreted (its sources on ``sys.path``);
* ``now, interpreted``: this checkout's sources;
* ``now, installed``: whatever ``import sim`` gives outside the checkout (compiled after ``pip install .``);

and, with ``--before-python``, a fourth:

* ``before, installed``: the revision installed in another environment (``pip install .`` of the
  revision there, so compiled), run by that environment's Python outside any checkout
  (``--installed-only`` keeps just the two installed engines).

It prints the median firms (firm-lifecycles) per second of each and the ratios to ``before``, then the
median wall time of one replication (seconds) and its ratio to the revision's engine of the same kind:
for the province, the default replication as each revision defines it (the scenario may have grown).

Throughput (``--throughput``): what users wait for around the engine, two ways, both on the installed
(compiled) engine: ``before`` is the revision's sources and ``now`` a copy of this checkout's, each with
every compiled module of the installed package copied in (the engine's modules and the library mypyc
shares between them; allowed only when both trees have the installed sources of every compiled module,
byte for byte, so the engine is the same and only the code around it differs; no reinstall is needed
after changing the rest). Measured:

* ``summary / engine``: on the reference network, (``simulate`` + the run's ``summary()``) over
  ``simulate`` alone (the target: at most 1.15);
* ``files / engine``: on the default province (``incuchain run``'s work), the seconds of writing every
  table and file (:func:`sim.output.write_run`, summary included) over the simulation's;
* ``2-worker efficiency``: 40 tutorial replications serially and on a new pool of 2 worker processes
  (in memory), alternated 5 times: median serial seconds / (2 x median parallel seconds);
* ``task / engine``: one province replication as an experiment runs it (``run_experiment`` with one
  replication: the task, its summary and time series, the tables) over ``simulate`` alone.

With ``--before-python``, ``--throughput`` instead runs each revision on its own installed engine
(``before``: that environment's package; ``now``: this environment's), for revisions whose engines
differ: each ratio is taken within one revision, so the two engines' speeds cancel out of it.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import statistics
import subprocess
import sys
import sysconfig
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
seconds = time.perf_counter() - t0
print(len(out.firm_source) / seconds, seconds, sim.engine.__file__)
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
    import statistics
    sim.run(sc, seed=1)  # imports and first-call costs out of the way
    serial, parallel = [], []
    for _ in range(5):  # alternated: a third of a second each, so one slow moment moves one round only
        t0 = time.perf_counter()
        a = sim.run_experiment(sc, reps=40, seed=1, executor=SerialExecutor(), progress=False)
        serial.append(time.perf_counter() - t0)
        with process_executor(2) as ex:  # a new pool each round: its start is part of the time
            t0 = time.perf_counter()
            b = sim.run_experiment(sc, reps=40, seed=1, executor=ex, progress=False)
            parallel.append(time.perf_counter() - t0)
        assert a.summary.equals(b.summary), "serial and parallel summaries differ"
    value = statistics.median(serial) / (2 * statistics.median(parallel))
print(value, sim.engine.__file__)
"""

THROUGHPUT_CASES = ("summary / engine", "files / engine", "task / engine", "2-worker efficiency")


def _compiled_engine(tree: Path) -> None:
    """Copy every compiled module of the installed package into the sources under ``tree``, and the
    library mypyc shares between them (beside the package), refusing if any of their sources differ."""
    import sim

    package = Path(str(sim.__file__)).parent
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    built = sorted(package.glob(f"*{suffix}"))
    if not built:
        raise SystemExit("--throughput compares on the compiled engine: pip install . first")
    for module in built:
        source = package / f"{module.name.removesuffix(suffix)}.py"
        theirs = tree / "sim" / source.name
        if not theirs.is_file() or not filecmp.cmp(source, theirs, shallow=False):
            raise SystemExit(f"{tree}: {source.name} differs from the installed one: the engines are not the same")
        shutil.copy2(module, theirs.parent / module.name)
    for shared in package.parent.glob(f"*__mypyc{suffix}"):  # the group library: imported by its own name
        shutil.copy2(shared, tree / shared.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revision", help="git revision to compare with (e.g. a commit hash)")
    parser.add_argument("--reps", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("--throughput", action="store_true", help="summaries, files and workers, not the engine")
    parser.add_argument(
        "--before-python", default=None, help="Python of an environment with the revision installed (compiled)"
    )
    parser.add_argument(
        "--installed-only", action="store_true", help="with --before-python: time the two installed engines only"
    )
    args = parser.parse_args()
    cases: tuple[str, ...]
    with tempfile.TemporaryDirectory(prefix="incuchain-rev-") as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.revision],
                       check=True, capture_output=True)  # fmt: skip
        try:
            if args.throughput and args.before_python:  # each revision on its own installed (compiled) engine
                ways = {"before": (args.before_python, ""), "now": (sys.executable, "")}
                cases = THROUGHPUT_CASES
                script = THROUGHPUT
            elif args.throughput:
                now = Path(tmp) / "now"
                shutil.copytree(ROOT / "sim", now / "sim", ignore=shutil.ignore_patterns("__pycache__"))
                for tree in (old, now):
                    _compiled_engine(tree)
                ways = {"before": (sys.executable, str(old)), "now": (sys.executable, str(now))}
                cases = THROUGHPUT_CASES
                script = THROUGHPUT
            else:
                ways = {"before": (sys.executable, str(old)), "now, interpreted": (sys.executable, str(ROOT)),
                        "now, installed": (sys.executable, "")}  # fmt: skip
                if args.before_python:
                    ways["before, installed"] = (args.before_python, "")
                    if args.installed_only:
                        ways = {w: v for w, v in ways.items() if "installed" in w}
                cases = ("reference network", "province")
                script = ENGINE
            values: dict[tuple[str, str], list[float]] = {(c, w): [] for c in cases for w in ways}
            walls: dict[tuple[str, str], list[float]] = {(c, w): [] for c in cases for w in ways}
            files: dict[str, str] = {}
            for _ in range(args.reps):
                for case in cases:
                    for way, (python, path) in ways.items():
                        proc = subprocess.run(
                            [python, "-c", script, path, case, str(ROOT / "scenarios" / "bench_tandem.toml")],
                            check=True, capture_output=True, text=True, cwd=tmp,
                        )  # fmt: skip
                        value, *wall, file = proc.stdout.split()
                        values[case, way].append(float(value))
                        walls[case, way] += [float(w) for w in wall]
                        files[way] = file
                        print(f"  {case:20s} {way:17s} {float(value):10,.3f}", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)
    unit = "ratios" if args.throughput else "firms per second"
    print(f"\nmedian of {args.reps}, {unit} (ratio to before); revision {args.revision}")
    for way in ways:
        print(f"  {way:17s} {files[way]}")
    for case in cases:
        base = statistics.median(values[case, "before" if "before" in ways else "before, installed"])
        cells = [f"{w}: {statistics.median(values[case, w]):,.3f} (x{statistics.median(values[case, w]) / base:.2f})"
                 for w in ways]  # fmt: skip
        print(f"  {case:20s} " + "   ".join(cells))
    if args.throughput:
        return
    print(f"\nmedian of {args.reps}, seconds per replication (ratio to the revision's, same kind of engine)")
    for case in cases:
        cells = []
        for w in ways:
            installed = "before, installed" in ways and ("installed" in w or "before" not in ways)
            wall = statistics.median(walls[case, w])
            ref = statistics.median(walls[case, "before, installed" if installed else "before"])
            cells.append(f"{w}: {wall:.2f} (x{wall / ref:.2f})")
        print(f"  {case:20s} " + "   ".join(cells))


if __name__ == "__main__":
    main()
