"""The workshop dashboard's latency: lever to figures in the browser, paired replications, the twin's answer.

Three measurements, against the targets of docs/dashboard.md:

1. **Lever to figures, in the browser** (target: median under 1 s with one replication): starts
   ``incuchain dashboard`` on a free port of 127.0.0.1, opens it in Debian's Chromium (Playwright),
   then ``--changes`` times moves a variant lever (the carriers of the accelerator, or of the last
   stage with carriers, alternating between two values) and times from the key press to the status
   line saying "Updated" (set once both worlds' figures of the open tab are on the page). The baseline's
   figures are already on the page (a variant lever does not change the baseline). A change of the
   horizon moves both worlds: the time to compute both worlds' chain-flow figures in the pool (no
   browser) is printed too.
2. **Paired replications** (target: 20 within 10 s): :func:`sim.dashboard.views.comparisons` as
   'more precision' runs them (a step at 5, then 20) on a pool of ``--workers`` processes; time to
   the first intervals and to the last.
3. **The closed-form twin** (target: under 200 ms): :func:`sim.dashboard.views.twin_text` for both
   worlds of ``scenarios/textbook_exponential.toml`` (a Markov chain: it answers), and of the
   dashboard's scenario (usually not closed-form: the time to say why).

Usage::

    python bench/bench_dashboard.py                         # scenarios/city.toml, or tutorial.toml until it exists
    python bench/bench_dashboard.py scenarios/jiangsu.toml --changes 5

Needs the dashboard and test extras (Panel, Playwright) and /usr/bin/chromium. Wall times depend on
the machine and on what else it is doing: the script prints the load average next to its figures.
With an editable install the interpreted engine runs; ``pip install .`` builds the compiled one.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sim
from sim.dashboard.levers import HORIZON, apply_levers, levers_for
from sim.dashboard.server import default_scenario_path
from sim.dashboard.views import comparisons, render_world, twin_text
from sim.executors import process_executor

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _engine() -> str:
    from sim import engine

    return "compiled" if engine.COMPILED else "interpreted"


def _lever_key(sc: sim.Scenario) -> tuple[str, int, int]:
    stages = [n for n, st in sc.stages.items() if st.carriers is not None]
    name = "accelerator" if "accelerator" in stages else stages[-1]
    carriers = sc.stages[name].carriers
    assert carriers is not None
    return f"stages.{name}.carriers.count", carriers.count, carriers.count + 1


def pool_latency(path: Path, changes: int, workers: int) -> list[float]:
    """Seconds to compute both worlds' chain-flow figures (one replication each) in a pool of ``workers``."""
    sc = sim.load_scenario(path)
    key, low, high = _lever_key(sc)
    levers = levers_for(sc)
    ex = process_executor(workers)
    times = []
    try:
        list(ex.map(abs, range(workers)))
        for i in range(changes + 1):
            base = apply_levers(sc, levers, {HORIZON: sc.calendar.horizon_years - i % 2})
            variant = apply_levers(sc, levers, {HORIZON: sc.calendar.horizon_years - i % 2, key: (low, high)[i % 2]})
            t0 = time.perf_counter()
            futures = [
                ex.submit(render_world, w.to_toml(), 0, "en", role, ("flow",))
                for role, w in (("baseline", base), ("variant", variant))
            ]
            for f in futures:
                f.result()
            if i > 0:
                times.append(time.perf_counter() - t0)
    finally:
        ex.shutdown()
    return times


def browser_latency(path: Path, changes: int) -> list[float]:
    """Seconds from a lever's key press to the variant's flow figure replaced and 'Updated' shown."""
    from playwright.sync_api import sync_playwright

    sc = sim.load_scenario(path)
    key, low, high = _lever_key(sc)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "dashboard", str(path), "--port", str(port), "--reps", "2"],
        cwd=tempfile.mkdtemp(prefix="bench-dashboard-"),  # an empty folder: `-m sim` imports the installed package
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    url = None
    for line in proc.stdout:
        m = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
        if m:
            url = m.group(1)
            break
    assert url is not None, "the server did not start"
    times: list[float] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.set_default_timeout(120_000)
            page.goto(url)
            page.locator(".status-line", has_text="Updated in").wait_for()
            css = key.replace(".", "-").replace("_", "-")
            box = page.locator(f".lever-{css} input").first
            values = [low, high]
            status = page.locator(".status-line p").first
            for i in range(changes + 1):
                before = status.inner_text()
                box.fill(str(values[(i + 1) % 2]))
                t0 = time.perf_counter()
                box.press("Enter")
                ran = False
                while True:  # "Running" on the change, then "Updated in" once the figures are on the page
                    now = status.inner_text()
                    ran = ran or "Running" in now
                    if "Updated in" in now and (ran or now != before):
                        break
                    if time.perf_counter() - t0 > 120:
                        raise TimeoutError("the page did not update within 120 s")
                    time.sleep(0.01)
                if i > 0:  # the first change warms the workers
                    times.append(time.perf_counter() - t0)
            browser.close()
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    return times


def paired_latency(path: Path, reps: int, workers: int) -> tuple[float, float]:
    """Seconds to the first intervals (5 replications) and to ``reps`` paired replications."""
    sc = sim.load_scenario(path)
    key, _low, high = _lever_key(sc)
    levers = levers_for(sc)
    variant = apply_levers(sc, levers, {key: high}, name=f"{sc.name}_variant")
    ex = process_executor(workers)
    try:
        list(ex.map(abs, range(workers)))  # start the workers
        t0 = time.perf_counter()
        first = 0.0
        for cmp in comparisons(sc, variant, reps, 0, ex):
            if not first:
                first = time.perf_counter() - t0
            last = time.perf_counter() - t0
            assert cmp.experiment.reps <= reps
    finally:
        ex.shutdown()
    return first, last


def twin_latency(path: Path, repeats: int) -> tuple[float, str]:
    """Median seconds of the twin's answer for both worlds of ``path``, and its first line."""
    sc = sim.load_scenario(path)
    key, _low, high = _lever_key(sc)
    variant = apply_levers(sc, levers_for(sc), {key: high})
    twin_text(sc, variant, "en")  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = twin_text(sc, variant, "en")
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out.splitlines()[0][:100]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = default_scenario_path(ROOT)
    p.add_argument("scenario", nargs="?", default=str(default) if default else None)
    p.add_argument("--changes", type=int, default=9, help="timed lever changes in the browser (default 9)")
    p.add_argument("--reps", type=int, default=20, help="paired replications (default 20)")
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--repeats", type=int, default=7, help="timed twin answers (default 7)")
    p.add_argument("--skip-browser", action="store_true", help="leave out the browser measurement")
    args = p.parse_args()
    path = Path(args.scenario).resolve()
    load: Any = os.getloadavg()
    print(f"scenario {path}; {_engine()} engine; {os.cpu_count()} cores; load average {load[0]:.1f}")
    if not args.skip_browser:
        t = browser_latency(path, args.changes)
        med = statistics.median(t)
        print(
            f"lever -> variant figures in the browser (one replication): median {med:.2f} s "
            f"(min {min(t):.2f}, max {max(t):.2f}, n={len(t)}); target 1 s: {med / 1.0:.2f}x"
        )
    t = pool_latency(path, args.changes, args.workers)
    med = statistics.median(t)
    print(
        f"both worlds' flow figures in the pool (horizon moved, no browser): median {med:.2f} s "
        f"(min {min(t):.2f}, max {max(t):.2f}, n={len(t)})"
    )
    first, last = paired_latency(path, args.reps, args.workers)
    print(
        f"paired replications on {args.workers} workers: first intervals (5) after {first:.1f} s, "
        f"{args.reps} after {last:.1f} s; target 10 s: {last / 10.0:.2f}x"
    )
    for twin_path in (ROOT / "scenarios" / "textbook_exponential.toml", path):
        sec, line = twin_latency(twin_path, args.repeats)
        print(f"twin, both worlds of {twin_path.name}: median {sec * 1000:.0f} ms ({line!r}); target 200 ms")
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.1f}")


if __name__ == "__main__":
    main()
