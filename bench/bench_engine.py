"""Speed of the incuchain engine against Ciw, plain SimPy and a bare heapq loop, plus scaling and memory.

Run as ``pip install ".[bench]" && python bench/bench_engine.py`` (a few minutes; ``--quick`` for a
smaller horizon). Everything runs in this one process, one model after the other, on the same machine.
A wheel install (``pip install .``) compiles the engine with mypyc (``hatch_build.py``); the benchmark
then also times the engine's Python source, interpreted ("engine-py"), and checks that both write the
same event log. An editable install (``pip install -e .``) times the interpreted engine only.

What it measures
----------------
1-4. The reference network (``scenarios/bench_tandem.toml``, the network of :mod:`tandem_peers`: four
     M/M/c stages in tandem, finite waiting lists, type-I blocking; horizon 20000, about 200,000
     outside arrivals) simulated by

     1. this engine, ``sim.engine.simulate(scenario, seed)``: the simulation itself, event log
        included; and separately ``sim.run(scenario, seed).summary()``, which adds deriving the run
        summary from the log (straight from its columns, no firm table);
     2. Ciw 3.2.7 (``tandem_peers.run_ciw``);
     3. plain SimPy, one process per firm (``tandem_peers.run_simpy``);
     4. a bare ``heapq`` event loop (``tandem_peers.run_heapq``), the pure-Python speed floor.

     First it checks that all four simulate the same network (see "Agreement" below), then reports
     firms per second (outside arrivals simulated / wall seconds of the run), the median of ``--reps``
     runs. The runs are interleaved (rep 1 of every model, then rep 2, ... in a rotating order) so that
     drift in the machine's speed affects all models alike.
5.   Scaling: the default province scenario (``sim.default_scenario()``, horizon shortened to
     ``--province-years``) with every arrival rate multiplied by 1, 2 and 4; time ratios of the
     medians of ``--reps`` runs each, interleaved like the throughput runs. The initial
     stock is not scaled, so the number of firms grows a little less than the arrivals; the targets
     are judged on the time per firm (time ratio divided by firm ratio, times 2 for one doubling).
6.   Peak memory per firm: ``tracemalloc`` peak during ``simulate`` (event log included) divided by
     the number of firms, for the reference network and the province scenario.
7.   The province scenario (full horizon) in firm-lifecycles per second: firms simulated (arrivals
     and initial stock) / simulation seconds, on one core.

Agreement (before any timing is believed)
-----------------------------------------
The engine's metrics come from its event log, with the peers' definitions (``tandem_peers`` module
docstring), over ``[warmup, horizon]``:

* completions per unit time at stage k: ``graduate`` rows at k (end of service; a firm that then
  blocks has still completed service), divided by ``horizon - warmup``;
* mean wait at stage k: ``admit`` time minus the time the firm joined stage k, over admissions in the
  window. A firm joins when it applies and is placed on the list (its ``wait`` row) or admitted at once
  (then the wait is 0); a firm released from blocking joins when released (the log shows its ``wait``
  or ``admit`` at that time), so blocking is not counted as waiting, as in the peers;
* time in system: ``arrive`` to ``exit`` for admitted firms arriving in the window and gone by the
  horizon;
* loss fraction: arrivals in the window whose first application ended in ``skip``.

Ciw, SimPy and the engine use different random numbers, so agreement is statistical, judged as in
``check_tandem_peers.py``: each model's first timed run is compared with the mean of an ensemble of
``--ensemble`` heapq runs of the same horizon on other seeds, with tolerance
``max(fixed floor, Z * sd * sqrt(1 + 1/n))``, ``Z = 4.5``. ``sd * sqrt(1 + 1/n)`` is the standard
deviation of "single run minus ensemble mean" if the models simulate the same network; Z = 4.5 keeps
the false-alarm rate near 1e-5 per comparison under normality, and still small (about 3e-4 with ``sd``
estimated from 20 runs, a t distribution with 19 degrees of freedom) for each of the 44 comparisons.
The fixed floors (completions 3 %, waits 15 % or 0.02, time in system 5 %, loss 0.005 absolute) are
the customary ones; at the full horizon they dominate for the busy stages, while the statistical term
covers stage 4, whose mean wait varies a lot from run to run (see ``check_tandem_peers.py``). Each
model's throughput is also checked against the nominal flow times its own admitted fraction.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import math
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_tandem_peers import Z, fixed_floor, metrics  # noqa: E402
from tandem_peers import REFERENCE, Result, run_ciw, run_heapq, run_simpy  # noqa: E402

import sim  # noqa: E402
from sim import engine  # noqa: E402
from sim.engine import simulate  # noqa: E402
from sim.event_log import Ev, SimOutput  # noqa: E402

SCENARIO = ROOT / "scenarios" / "bench_tandem.toml"
# The engine's modules in import order (streams stays compiled in the interpreted comparison, as before)
ENGINE_MODULES = (
    "engine_state",
    "engine_hazards",
    "engine_policies",
    "engine_stages",
    "engine_sources",
    "engine_lifecycle",
    "engine_queue",
    "engine_untreated",
    "engine",
)
PEERS: dict[str, Callable[..., Result]] = {"ciw": run_ciw, "simpy": run_simpy, "heapq": run_heapq}

# Targets (see docs/performance.md)
TARGET_VS_CIW = 6.0  # engine throughput >= 6x Ciw's
TARGET_VS_HEAPQ = 2.5  # engine no more than 2.5x slower than the heapq loop
TARGET_DOUBLING = 2.1  # doubling the firms at most 2.1x the time
TARGET_BYTES_PER_FIRM = 1024.0
TARGET_PROVINCE_RATE = 30_000.0  # firm-lifecycles per second per core


# ---------------------------------------------------------------------------- engine metrics
def engine_metrics(out: SimOutput, horizon: float, warmup: float) -> Result:
    """The peers' metrics (``tandem_peers`` docstring) computed from the engine's event log."""
    cols = out.log.columns()
    t, firm, ev, stage, info = cols["time"], cols["firm"], cols["event"], cols["stage"], cols["info"]
    n_st = len(out.stage_names)
    span = horizon - warmup
    in_window = (t >= warmup) & (t <= horizon)

    grad = (ev == Ev.GRADUATE) & in_window
    completions = np.bincount(stage[grad], minlength=n_st)

    # Join time per (firm, stage): the wait row if the firm queued there. Each firm visits a stage of a
    # tandem at most once, so the key is unique.
    n_firms = len(out.firm_source)
    joined = np.full(n_firms * n_st, np.nan)
    w = ev == Ev.WAIT
    joined[firm[w] * n_st + stage[w]] = t[w]
    adm = (ev == Ev.ADMIT) & in_window
    a_key = firm[adm] * n_st + stage[adm]
    start = t[adm]
    join = np.where(info[adm] == 1, joined[a_key], start)
    if np.isnan(join).any():
        raise RuntimeError("an admission off the waiting list has no wait row")
    wait_sum = np.bincount(stage[adm], weights=start - join, minlength=n_st)
    wait_n = np.bincount(stage[adm], minlength=n_st)

    arrive = ev == Ev.ARRIVE
    t_arr = np.full(n_firms, np.nan)
    t_arr[firm[arrive]] = t[arrive]
    skip = ev == Ev.SKIP
    lost_firm = np.zeros(n_firms, dtype=bool)
    # Only outside arrivals can be lost: a firm holding a slot blocks instead of skipping.
    lost_firm[firm[skip & (stage == 0)]] = True
    measured = t_arr >= warmup
    ex = (ev == Ev.EXIT) & (t <= horizon)
    ex_firm = firm[ex]
    keep = measured[ex_firm] & ~lost_firm[ex_firm]
    sojourn = t[ex][keep] - t_arr[ex_firm[keep]]

    return {
        "arrivals": int(measured.sum()),
        "lost": int((measured & lost_firm).sum()),
        "completions_per_time": (completions / span).tolist(),
        "mean_wait": [s / n if n else math.nan for s, n in zip(wait_sum, wait_n, strict=True)],
        "mean_sojourn": float(sojourn.mean()) if len(sojourn) else math.nan,
        "firms": n_firms,
    }


# ---------------------------------------------------------------------------- runners
def interpreted_engine() -> Callable[[sim.Scenario, int], SimOutput] | None:
    """``simulate`` of the engine's Python sources run by the interpreter, if the imported engine is the
    compiled one (a wheel install ships both); None otherwise. The engine's modules are loaded from their
    sources in import order, each seeing the others' sources, then the compiled ones are put back."""
    if not engine.COMPILED:
        return None
    names = [f"sim.{n}" for n in ENGINE_MODULES]
    saved = {n: sys.modules.get(n) for n in names}
    try:
        for name in names:
            path = Path(engine.__file__).with_name(name.split(".")[1] + ".py")
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                return None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module  # its relative imports of the engine's modules find the sources
            spec.loader.exec_module(module)
        fn: Callable[[sim.Scenario, int], SimOutput] = sys.modules["sim.engine"].simulate
    finally:
        for name, module in saved.items():
            if module is not None:
                sys.modules[name] = module
    return fn


def time_engine(
    scenario: sim.Scenario, seed: int, run: Callable[[sim.Scenario, int], SimOutput] = simulate
) -> tuple[float, SimOutput]:
    """Wall seconds of ``simulate`` (the simulation and its event log) and its output."""
    gc.collect()
    t0 = time.perf_counter()
    out = run(scenario, seed)
    return time.perf_counter() - t0, out


def time_engine_with_tables(scenario: sim.Scenario, seed: int) -> float:
    """Wall seconds of ``sim.run(...).summary()``: simulation plus the summary (from the log, no tables)."""
    gc.collect()
    t0 = time.perf_counter()
    sim.run(scenario, seed).summary()
    return time.perf_counter() - t0


def time_peer(name: str, horizon: float, seed: int, warmup: float) -> Result:
    gc.collect()
    return PEERS[name](horizon, seed, warmup)


# ---------------------------------------------------------------------------- agreement
def check_agreement(
    singles: dict[str, Result], horizon: float, warmup: float, n_ensemble: int
) -> tuple[list[str], list[list[str]]]:
    """Compare each model's run with a heapq ensemble; return (failures, table rows)."""
    ensemble = [metrics(run_heapq(horizon, 10_000 + i, warmup)) for i in range(n_ensemble)]
    flat = {name: metrics(r) for name, r in singles.items()}
    names = list(ensemble[0])
    mean = {m: statistics.fmean(e[m] for e in ensemble) for m in names}
    sd = {m: statistics.stdev(e[m] for e in ensemble) for m in names}
    tol = {m: max(fixed_floor(m, mean[m]), Z * sd[m] * math.sqrt(1.0 + 1.0 / n_ensemble)) for m in names}
    failures: list[str] = []
    rows = [["metric", *flat, "ens.mean", "ens.sd", "tol"]]
    for m in names:
        rows.append([m, *(f"{flat[p][m]:.4f}" for p in flat), f"{mean[m]:.4f}", f"{sd[m]:.4f}", f"{tol[m]:.4f}"])
        for p in flat:
            if not abs(flat[p][m] - mean[m]) <= tol[m]:
                failures.append(f"{p} {m} = {flat[p][m]:.4f}, heapq ensemble {mean[m]:.4f}, tol {tol[m]:.4f}")
    flows = REFERENCE.nominal_flows()
    for p in flat:
        admitted = 1.0 - flat[p]["loss_fraction"]
        for k, f in enumerate(flows):
            m = f"completions/t[{k + 1}]"
            if not abs(flat[p][m] - f * admitted) <= tol[m]:
                failures.append(f"{p} {m} = {flat[p][m]:.4f}, nominal x admitted {f * admitted:.4f}, tol {tol[m]:.4f}")
    return failures, rows


# ---------------------------------------------------------------------------- province
def scaled(scenario: sim.Scenario, factor: float, years: float | None) -> sim.Scenario:
    """``scenario`` with every arrival rate (each value of a per-year table) times ``factor``."""
    changes: dict[str, Any] = {}
    for i, arr in enumerate(scenario.arrivals):
        rate = arr.rate_per_year
        if isinstance(rate, dict):
            changes[f"arrivals.{i}.rate_per_year"] = {k: v * factor for k, v in rate.items()}
        else:
            changes[f"arrivals.{i}.rate_per_year"] = rate * factor
    if years is not None:
        changes["calendar.horizon_years"] = years
    return scenario.with_changes(changes)


def peak_bytes(scenario: sim.Scenario, seed: int) -> tuple[int, int, int]:
    """(tracemalloc peak bytes during ``simulate``, firms, event-log bytes)."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    out = simulate(scenario, seed)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, len(out.firm_source), out.log.nbytes()


# ---------------------------------------------------------------------------- report
def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))) for r in rows
    )


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="horizon 2000 (about 20,000 arrivals), shorter province")
    parser.add_argument("--reps", type=int, default=3, help="timed runs per model (median reported; default 3)")
    parser.add_argument("--ensemble", type=int, default=20, help="heapq runs in the agreement ensemble (default 20)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--province-years", type=float, default=None, help="horizon of the scaling runs (default 3)")
    args = parser.parse_args(argv)
    if args.ensemble < 2 or args.reps < 1:
        parser.error("--ensemble must be >= 2 and --reps >= 1")

    tandem = sim.load_scenario(SCENARIO)
    horizon = 2000.0 if args.quick else tandem.calendar.horizon_years
    warmup = horizon / 20
    tandem = tandem.with_changes({"calendar.horizon_years": horizon})
    province = sim.default_scenario()
    scale_years = args.province_years or (1.5 if args.quick else 3.0)
    print(f"incuchain {sim.__version__}, Python {sys.version.split()[0]}; reference network horizon {horizon:g}")
    source_engine = interpreted_engine()
    if source_engine is not None:
        print("engine: compiled with mypyc (a wheel install); 'engine-py' is its Python source, interpreted")
    else:
        print("engine: interpreted (an editable or pure-Python install; `pip install .` builds the compiled one)")

    # 1-4: interleaved timed runs
    models = ["engine", "ciw", "simpy", "heapq"] + (["engine-py"] if source_engine is not None else [])
    same_bytes: bool | None = None
    first_log: dict[str, np.ndarray] = {}
    rates: dict[str, list[float]] = {m: [] for m in models}
    with_tables: list[float] = []
    firms_engine = 0
    singles: dict[str, Result] = {}
    for rep in range(args.reps):
        seed = args.seed + rep
        order = models[rep % len(models) :] + models[: rep % len(models)]
        for m in order:
            if m == "engine":
                secs, out = time_engine(tandem, seed)
                firms_engine = len(out.firm_source)
                rates[m].append(firms_engine / secs)
                if rep == 0:
                    singles[m] = engine_metrics(out, horizon, warmup)
                    first_log = out.log.columns()
                del out
            elif m == "engine-py" and source_engine is not None:
                secs, out = time_engine(tandem, seed, source_engine)
                rates[m].append(len(out.firm_source) / secs)
                if rep == 0:
                    py_log = out.log.columns()
                del out
            else:
                r = time_peer(m, horizon, seed, warmup)
                rates[m].append(r["firms"] / r["seconds"])
                if rep == 0:
                    singles[m] = r
            print(f"  rep {rep + 1}/{args.reps} {m:6s} {rates[m][-1]:10,.0f} firms/s", flush=True)
        with_tables.append(firms_engine / time_engine_with_tables(tandem, seed))

    failures, rows = check_agreement(singles, horizon, warmup, args.ensemble)
    if source_engine is not None:
        same_bytes = first_log.keys() == py_log.keys() and all(
            np.array_equal(first_log[k], py_log[k]) for k in first_log
        )
        if not same_bytes:
            failures.append("the compiled engine's event log differs from the interpreted one's (same seed)")
    print(f"\n== agreement: first run of each model vs {args.ensemble} heapq runs (warmup {warmup:g}) ==")
    print(table(rows))
    if failures:
        print("\nDISAGREEMENT (timings below are not comparable):")
        for f in failures:
            print("  " + f)
    else:
        print("OK: all four models agree within tolerance")
    if same_bytes:
        print("OK: compiled and interpreted engine wrote the same event log, byte for byte")

    med = {m: statistics.median(v) for m, v in rates.items()}
    tab_rate = statistics.median(with_tables)
    print(f"\n== throughput on the reference network: firms per second, median of {args.reps} ==")
    rows = [["model", "firms/s", "engine / model"]]
    for m in models:
        rows.append([m, f"{med[m]:,.0f}", f"{med['engine'] / med[m]:.2f}"])
    rows.append(["engine + summary", f"{tab_rate:,.0f}", f"{med['engine'] / tab_rate:.2f}"])
    print(table(rows))
    vs_ciw = med["engine"] / med["ciw"]
    vs_heapq = med["heapq"] / med["engine"]

    # 5: scaling
    print(f"\n== scaling: default province scenario, horizon {scale_years:g} years, arrivals x1 x2 x4 ==")
    scale_rows = [["arrivals", "firms", "rows/firm", "seconds", "time ratio", "firm ratio", "time per doubling"]]
    prev: tuple[int, float] | None = None
    doublings: list[float] = []
    factors = (1, 2, 4)
    scenarios = {f: scaled(province, f, scale_years) for f in factors}
    scale_times: dict[int, list[float]] = {f: [] for f in factors}
    scale_firms: dict[int, int] = {}
    scale_rows_per_firm: dict[int, float] = {}
    for rep in range(args.reps):  # interleaved in a rotating order, like the throughput runs
        for factor in factors[rep % 3 :] + factors[: rep % 3]:
            t_run, out = time_engine(scenarios[factor], args.seed)
            scale_times[factor].append(t_run)
            scale_firms[factor] = len(out.firm_source)
            scale_rows_per_firm[factor] = len(out.log) / len(out.firm_source)
            del out
    for factor in factors:
        secs = statistics.median(scale_times[factor])
        n = scale_firms[factor]
        row = [f"x{factor}", f"{n:,}", f"{scale_rows_per_firm[factor]:.2f}", f"{secs:.2f}", "-", "-", "-"]
        if prev is not None:
            t_ratio, n_ratio = secs / prev[1], n / prev[0]
            per_doubling = 2.0 * t_ratio / n_ratio
            doublings.append(per_doubling)
            row[4:] = [f"{t_ratio:.2f}", f"{n_ratio:.2f}", f"{per_doubling:.2f}"]
        scale_rows.append(row)
        prev = (n, secs)
    print(table(scale_rows))
    print("(time per doubling = 2 x time ratio / firm ratio: the time for exactly twice the firms;")
    print(" rows/firm: event-log rows per firm, which grow with congestion: more waiting and reneging)")

    # 6: memory
    print("\n== peak memory during simulate (tracemalloc), event log included ==")
    mem_rows = [["scenario", "firms", "peak MiB", "bytes/firm", "log bytes/firm"]]
    per_firm: list[float] = []
    cases = (("reference network", tandem), (f"province, {scale_years:g} years", scaled(province, 1, scale_years)))
    for name, sc in cases:
        peak, n, log_bytes = peak_bytes(sc, args.seed)
        per_firm.append(peak / n)
        mem_rows.append([name, f"{n:,}", f"{peak / 2**20:.1f}", f"{peak / n:,.0f}", f"{log_bytes / n:,.0f}"])
    print(table(mem_rows))

    # 7: province lifecycles per second
    prov = province if not args.quick else scaled(province, 1, scale_years)
    runs = [time_engine(prov, args.seed + i) for i in range(args.reps)]
    prov_rate = statistics.median(len(o.firm_source) / s for s, o in runs)
    n_prov = len(runs[0][1].firm_source)
    del runs
    print(f"\n== province scenario ({prov.calendar.horizon_years:g} years, {n_prov:,} firms) ==")
    print(f"firm-lifecycles per second: {prov_rate:,.0f} (median of {args.reps})")

    worst = max(doublings)
    mem = max(per_firm)
    print("\n== targets ==")
    print(table([
        ["target", "measured", "goal", ""],
        ["engine vs Ciw", f"{vs_ciw:.2f}x", f">= {TARGET_VS_CIW}x", verdict(vs_ciw >= TARGET_VS_CIW)],
        ["heapq vs engine", f"{vs_heapq:.2f}x", f"<= {TARGET_VS_HEAPQ}x", verdict(vs_heapq <= TARGET_VS_HEAPQ)],
        ["time per doubling (worst)", f"{worst:.2f}x", f"<= {TARGET_DOUBLING}x", verdict(worst <= TARGET_DOUBLING)],
        ["memory per firm (worst)", f"{mem:,.0f} B", f"<= {TARGET_BYTES_PER_FIRM:,.0f} B",
         verdict(mem <= TARGET_BYTES_PER_FIRM)],
        ["province lifecycles/s", f"{prov_rate:,.0f}", f">= {TARGET_PROVINCE_RATE:,.0f}",
         verdict(prov_rate >= TARGET_PROVINCE_RATE)],
    ]))  # fmt: skip
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
