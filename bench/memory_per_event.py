"""Peak memory of one replication against its event count: the constants of the resource guard.

Runs, each in its own fresh process, one replication of a scenario with its arrival rates scaled
(default: the tutorial at x1 and x20, and the Jiangsu province at x1), writes its files, and prints
firms, events, the peak resident memory above the process's start, and bytes per event. The slope
between two sizes of one scenario is the memory an extra event costs; ``sim/guards.py`` rounds it up
(``BYTES_PER_EVENT``) and takes the process's own size for ``PROCESS_BYTES``, and
``EVENTS_PER_FIRM`` from the events per firm.

    python bench/memory_per_event.py
    python bench/memory_per_event.py scenarios/tutorial.toml:1 scenarios/tutorial.toml:40
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ["scenarios/tutorial.toml:1", "scenarios/tutorial.toml:20", "scenarios/jiangsu.toml:1"]


def measure(path: str, factor: float) -> dict[str, float]:
    """One replication of ``path`` with arrival rates x ``factor``, in this process."""
    import sim
    from sim.output import write_run

    sc = sim.load_scenario(path)
    changes = {}
    for i, arr in enumerate(sc.arrivals):
        rate = arr.rate_per_year
        changes[f"arrivals.{i}.rate_per_year"] = (
            {k: v * factor for k, v in rate.items()} if isinstance(rate, dict) else rate * factor
        )
    sc = sc.with_changes(changes)
    start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    res = sim.run(sc)
    with tempfile.TemporaryDirectory() as tmp:
        write_run(res, Path(tmp) / "out")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "start_bytes": start,
        "peak_bytes": peak - start,
        "firms": len(res.output.firm_source),
        "events": len(res.output.log),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", default=DEFAULT, help="SCENARIO:FACTOR (default: %(default)s)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        path, factor = args.one.rsplit(":", 1)
        print(json.dumps(measure(path, float(factor))))
        return
    rows = []
    for run in args.runs:
        proc = subprocess.run(
            [sys.executable, __file__, "--one", run], capture_output=True, text=True, check=True, cwd=ROOT
        )
        m = json.loads(proc.stdout.strip().splitlines()[-1])
        rows.append((run, m))
        print(
            f"{run:32s} firms {m['firms']:>9,}  events {m['events']:>10,}  events/firm {m['events'] / m['firms']:.2f}  "
            f"process at start {m['start_bytes'] / 2**20:,.0f} MB  peak above it {m['peak_bytes'] / 2**20:,.0f} MB  "
            f"bytes/event {m['peak_bytes'] / m['events']:,.0f}"
        )
    for (a, ma), (b, mb) in itertools.pairwise(rows):
        if a.rsplit(":", 1)[0] == b.rsplit(":", 1)[0] and mb["events"] != ma["events"]:
            slope = (mb["peak_bytes"] - ma["peak_bytes"]) / (mb["events"] - ma["events"])
            print(f"slope {a} -> {b}: {slope:,.0f} bytes per extra event")


if __name__ == "__main__":
    main()
