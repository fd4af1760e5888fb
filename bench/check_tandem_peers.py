"""Cross-check the three tandem-network benchmark peers and time them.

Run as ``python bench/check_tandem_peers.py`` (about 15 s).  For each
scenario it runs Ciw, SimPy and the bare heapq loop once on the same seed,
prints their metrics side by side with theoretical references and firms per
second, and checks that they agree.  Scenarios:

* ``reference`` -- the reference network of :mod:`tandem_peers`
  (horizon 2000, warmup 100: about 20,000 outside arrivals);
* ``stress``    -- a small, heavily loaded variant with tiny waiting lists
  (about 20 % of arrivals lost and frequent type-I blocking), because the
  reference network hardly ever blocks (a handful of blocked firms per run,
  all at stage 2) and so would not test the blocking and loss semantics.

How agreement is judged
-----------------------
1. SimPy vs heapq must agree *exactly*: with the same seed the two models
   consume one ``random.Random`` stream in the same order (inter-arrival
   draw at each arrival, service draw at each service start, routing draw at
   each end of service, and the same order inside same-instant blocking
   cascades), so any difference at all reveals a semantic divergence.
2. Ciw uses its own stream, so it can only agree statistically.  The three
   single runs are compared against the mean of an ensemble of ``--reps``
   further heapq runs (other seeds; cheap) with tolerance

       tol = max(fixed floor, Z * sd * sqrt(1 + 1/reps)),   Z = 4.5,

   where ``sd`` is the ensemble's run-to-run standard deviation of that
   metric (``sd * sqrt(1 + 1/reps)`` is the standard deviation of
   ``single run - ensemble mean`` if the peers simulate the same model).
   Z = 4.5 keeps the false-alarm rate negligible (about 1e-5 per metric
   under normality) even with ``sd`` estimated from 40 runs and with the
   skewed wait/loss metrics.  The fixed floors are the customary ones
   (completions per time 3 %, mean waits 15 % or 0.02 absolute, sojourn
   5 %, loss fraction 0.005 absolute).  Fixed floors alone would be wrong
   here: in a 600-run study of the reference network (heapq; horizon 2000,
   warmup 100; Ciw's 120-run spread was the same) the single-run standard
   deviations were

       completions/t  0.072 0.051 0.033 0.028   (0.7 % 1.0 % 1.7 % 2.0 %)
       mean wait      0.007 0.021 0.070 0.093   (11 % 20 % 18 % 59 %)
       sojourn        0.063                      (1.9 %)

   Stage 4 serves for 10 time units on average and only queues during rare
   long busy spells, so two independent runs differ in its mean wait by
   83 % of its value at one standard deviation: a 15 % tolerance would fail
   about six comparisons in seven by pure chance.  The statistical terms
   dominate for stages 2-4, so the single-run check is deliberately loose
   there; ``--ciw-reps N`` adds the tighter comparison of a mean over N
   Ciw runs with the heapq ensemble mean (tolerance
   ``Z * sd * sqrt(1/N + 1/reps)``).
3. Throughput sanity: in steady state stage k completes
   ``nominal_flow[k] * (1 - loss fraction)`` per unit time (blocking delays
   firms but loses none), checked for each peer with the same tolerance.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tandem_peers import (
    REFERENCE,
    Result,
    TandemParams,
    run_ciw,
    run_heapq,
    run_simpy,
)

Runner = Callable[..., Result]

PEERS: dict[str, Runner] = {"ciw": run_ciw, "simpy": run_simpy, "heapq": run_heapq}
Z = 4.5


def _stress_params() -> TandemParams:
    """Small, heavily loaded variant that blocks and loses a lot."""
    servers = (4, 3, 2, 3)
    route = (0.6, 0.8, 0.9, 0.0)
    rho = (0.9, 0.9, 0.9, 0.8)
    flows = [10.0]
    for p in route[:-1]:
        flows.append(flows[-1] * p)
    return TandemParams(
        arrival_rate=10.0,
        servers=servers,
        queue_caps=(3, 2, 1, math.inf),
        service_rates=tuple(f / (r * c) for f, r, c in zip(flows, rho, servers, strict=True)),
        route=route,
    )


STRESS = _stress_params()


def metrics(result: Result) -> dict[str, float]:
    """Flatten a peer's result into comparable scalar metrics."""
    out: dict[str, float] = {}
    for k, x in enumerate(result["completions_per_time"]):
        out[f"completions/t[{k + 1}]"] = x
    for k, x in enumerate(result["mean_wait"]):
        out[f"mean_wait[{k + 1}]"] = x
    out["mean_sojourn"] = result["mean_sojourn"]
    out["loss_fraction"] = result["lost"] / result["arrivals"] if result["arrivals"] else math.nan
    return out


def fixed_floor(name: str, reference: float) -> float:
    """Customary fixed tolerance for a metric (see module docstring)."""
    if name.startswith("completions"):
        return 0.03 * abs(reference)
    if name.startswith("mean_wait"):
        return max(0.15 * abs(reference), 0.02)
    if name == "mean_sojourn":
        return 0.05 * abs(reference)
    return 0.005  # loss fraction, absolute


def erlang_c_wait(c: int, lam: float, mu: float) -> float:
    """Mean wait in an M/M/c queue with unlimited waiting room."""
    a = lam / mu
    if a >= c:
        return math.inf
    term = 1.0
    total = 0.0
    for k in range(c):
        total += term
        term *= a / (k + 1)
    tail = term * c / (c - a)  # a^c / c! * c / (c - a)
    return tail / (total + tail) / (c * mu - lam)


def jackson_reference(params: TandemParams) -> dict[str, float]:
    """Product-form (Jackson, M/M/c, no capacity limits) waits and sojourn.

    Only an approximation for capped networks; close for the reference
    network, where losses and blocking are rare.
    """
    flows = params.nominal_flows()
    out: dict[str, float] = {}
    sojourn = 0.0
    for k, (c, lam, mu) in enumerate(zip(params.servers, flows, params.service_rates, strict=True)):
        w = erlang_c_wait(c, lam, mu)
        out[f"mean_wait[{k + 1}]"] = w
        sojourn += lam / params.arrival_rate * (w + 1.0 / mu)
    out["mean_sojourn"] = sojourn
    return out


def _fmt(x: float | int | str) -> str:
    """Format a table cell."""
    if isinstance(x, str):
        return x
    if isinstance(x, int):
        return str(x)
    if math.isnan(x):
        return "nan"
    return f"{x:.4f}" if abs(x) < 1e4 else f"{x:.0f}"


def run_scenario(
    name: str,
    params: TandemParams,
    horizon: float,
    warmup: float,
    seed: int,
    reps: int,
    jackson: bool,
    ciw_reps: int = 0,
) -> list[str]:
    """Run, print and check one scenario; return the failed checks."""
    singles = {peer: fn(horizon, seed, warmup, params=params) for peer, fn in PEERS.items()}
    ensemble = [run_heapq(horizon, seed + 1 + i, warmup, params=params) for i in range(reps)]

    flat = {peer: metrics(r) for peer, r in singles.items()}
    ens = [metrics(r) for r in ensemble]
    names = list(flat["heapq"])
    ens_mean = {m: statistics.fmean(e[m] for e in ens) for m in names}
    ens_sd = {m: statistics.stdev(e[m] for e in ens) for m in names}
    tol = {m: max(fixed_floor(m, ens_mean[m]), Z * ens_sd[m] * math.sqrt(1.0 + 1.0 / reps)) for m in names}

    flows = params.nominal_flows()
    nominal: dict[str, float | str] = {m: "-" for m in names}
    theory: dict[str, float | str] = {m: "-" for m in names}
    for k, f in enumerate(flows):
        nominal[f"completions/t[{k + 1}]"] = f
        theory[f"completions/t[{k + 1}]"] = f * (1.0 - ens_mean["loss_fraction"])
    if jackson:
        theory.update(jackson_reference(params))

    header = ["metric", "nominal", "theory", *PEERS, "ens.mean", "ens.sd", "tol"]
    rows: list[list[str]] = []
    for m in names:
        rows.append(
            [m, _fmt(nominal[m]), _fmt(theory[m])]
            + [_fmt(flat[p][m]) for p in PEERS]
            + [_fmt(ens_mean[m]), _fmt(ens_sd[m]), _fmt(tol[m])]
        )
    for key in ("arrivals", "lost", "firms"):
        rows.append([key, "-", "-"] + [_fmt(singles[p][key]) for p in PEERS] + ["-", "-", "-"])
    rows.append(["seconds", "-", "-"] + [f"{singles[p]['seconds']:.3f}" for p in PEERS] + ["-", "-", "-"])
    rows.append(
        ["firms/second", "-", "-"]
        + [f"{singles[p]['firms'] / singles[p]['seconds']:,.0f}" for p in PEERS]
        + [f"{statistics.fmean(r['firms'] / r['seconds'] for r in ensemble):,.0f}", "-", "-"]
    )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n== {name}: horizon {horizon:g}, warmup {warmup:g}, seed {seed}, heapq ensemble of {reps} ==")
    if jackson:
        print("theory: throughput = nominal flow x (1 - ensemble loss fraction); waits and sojourn:")
        print("        Jackson product form (M/M/c, no caps, no blocking), approximate")
    else:
        print("theory: throughput = nominal flow x (1 - ensemble loss fraction)")
    for row in [header, *rows]:
        print(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )

    failures: list[str] = []
    # 1. SimPy and heapq share the random stream and its order: exact match.
    for key in ("arrivals", "lost", "firms"):
        if singles["simpy"][key] != singles["heapq"][key]:
            failures.append(f"{name}: simpy {key} {singles['simpy'][key]} != heapq {singles['heapq'][key]}")
    for m in names:
        a, b = flat["simpy"][m], flat["heapq"][m]
        if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12):
            failures.append(f"{name}: simpy {m} {a!r} != heapq {b!r} (same seed, same stream)")
    # 2. Every peer vs the independent heapq ensemble.
    for peer in PEERS:
        for m in names:
            diff = flat[peer][m] - ens_mean[m]
            if not abs(diff) <= tol[m]:
                failures.append(
                    f"{name}: {peer} {m} = {flat[peer][m]:.4f}, ensemble {ens_mean[m]:.4f}, tol {tol[m]:.4f}"
                )
    # 3. Throughput vs nominal flow minus the peer's own losses.
    for peer in PEERS:
        admitted = 1.0 - flat[peer]["loss_fraction"]
        for k, f in enumerate(flows):
            m = f"completions/t[{k + 1}]"
            expected = f * admitted
            if not abs(flat[peer][m] - expected) <= tol[m]:
                failures.append(f"{name}: {peer} {m} = {flat[peer][m]:.4f}, theory {expected:.4f}, tol {tol[m]:.4f}")
    if ciw_reps > 0:
        failures += compare_ciw_replications(name, params, horizon, warmup, seed, ciw_reps, ens)
    return failures


def compare_ciw_replications(
    name: str,
    params: TandemParams,
    horizon: float,
    warmup: float,
    seed: int,
    ciw_reps: int,
    ens: list[dict[str, float]],
) -> list[str]:
    """Compare the mean of ``ciw_reps`` Ciw runs with the heapq ensemble mean."""
    runs = [metrics(run_ciw(horizon, seed + 100_000 + i, warmup, params=params)) for i in range(ciw_reps)]
    names = list(ens[0])
    print(f"\n-- {name}: mean of {ciw_reps} Ciw runs vs mean of {len(ens)} heapq runs --")
    print(f"{'metric':16}  {'ciw mean':>9}  {'heapq mean':>10}  {'diff':>8}  {'tol':>7}")
    failures: list[str] = []
    for m in names:
        c_mean = statistics.fmean(r[m] for r in runs)
        h_mean = statistics.fmean(e[m] for e in ens)
        sd = statistics.stdev(e[m] for e in ens)
        tol = Z * sd * math.sqrt(1.0 / ciw_reps + 1.0 / len(ens))
        print(f"{m:16}  {c_mean:9.4f}  {h_mean:10.4f}  {c_mean - h_mean:8.4f}  {tol:7.4f}")
        if not abs(c_mean - h_mean) <= tol:
            failures.append(
                f"{name}: mean of {ciw_reps} ciw runs {m} = {c_mean:.4f}, heapq mean {h_mean:.4f}, tol {tol:.4f}"
            )
    return failures


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="seed of the single runs (default 1)")
    parser.add_argument("--reps", type=int, default=40, help="heapq ensemble size (default 40)")
    parser.add_argument("--horizon", type=float, default=2000.0)
    parser.add_argument("--warmup", type=float, default=100.0)
    parser.add_argument("--no-stress", action="store_true", help="skip the stress scenario")
    parser.add_argument(
        "--ciw-reps", type=int, default=0, help="also compare the mean of this many Ciw runs (default 0: off)"
    )
    args = parser.parse_args(argv)
    if args.reps < 2:
        parser.error("--reps must be at least 2")

    failures = run_scenario(
        "reference", REFERENCE, args.horizon, args.warmup, args.seed, args.reps, jackson=True, ciw_reps=args.ciw_reps
    )
    if not args.no_stress:
        failures += run_scenario(
            "stress",
            STRESS,
            args.horizon / 2,
            args.warmup / 2,
            args.seed,
            args.reps,
            jackson=False,
            ciw_reps=args.ciw_reps,
        )

    print()
    if failures:
        print("DISAGREEMENT:")
        for f in failures:
            print("  " + f)
        raise AssertionError(f"{len(failures)} check(s) failed")
    print("OK: simpy == heapq exactly; ciw, simpy and heapq agree with the heapq ensemble and with theory")
    return 0


if __name__ == "__main__":
    sys.exit(main())
