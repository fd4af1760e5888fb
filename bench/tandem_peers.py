"""Benchmark peer models of the reference tandem incubation network.

Three independent implementations of the same queueing network, used as
correctness and speed references for the ``sim`` package:

* :func:`run_ciw`    -- Ciw 3.2.7 (an established queueing-network library);
* :func:`run_simpy`  -- a plain SimPy model, written the way a typical user
  would (one generator process per firm, one ``simpy.Resource`` per stage);
* :func:`run_heapq`  -- a bare ``heapq`` next-event loop, the pure-Python
  speed floor.

The network (time unit: "unit time")
------------------------------------
* Four stages in tandem; stage k has ``C[k]`` servers ("slots") and a FIFO
  waiting list (excluding those in service) of at most ``Q[k]`` firms.
* Poisson arrivals from outside into stage 1 at rate ``ARRIVAL_RATE``.
* Exponential service at stage k with rate ``MU[k] = LAM[k] / (0.7 * C[k])``,
  so every stage has utilisation 0.7 when nothing is lost.
* After service at stage k the firm moves to stage k+1 with probability
  ``ROUTE[k]``, otherwise it leaves; the decision is drawn at the end of
  service, before checking for room.
* An outside arrival finding stage 1 with all servers busy and a full
  waiting list is lost.
* Type-I (blocking-after-service) blocking: a firm routed to a stage with
  neither a free server nor room in its waiting list stays in its server
  (blocking it) until room appears; blocked firms are released first come,
  first served by the time they became blocked.

Returned metrics (identical definitions for all three peers)
-------------------------------------------------------------
``arrivals``             outside arrivals at times >= warmup (lost included)
``lost``                 of which lost
``completions_per_time`` per stage: service completions (end of service,
                         *not* end of blocking) in [warmup, horizon], divided
                         by ``horizon - warmup``
``mean_wait``            per stage: mean of (service start - time the firm
                         joined the stage) over firms starting service in
                         [warmup, horizon]; a firm "joins" stage k+1 when its
                         blocking at stage k ends, so blocking time is *not*
                         counted as waiting (this is how Ciw records it)
``mean_sojourn``         mean of (network exit - arrival at stage 1) over
                         admitted firms with arrival >= warmup that left the
                         network by ``horizon``
``firms``                outside arrivals simulated in total (from t = 0)
``seconds``              wall time (``time.perf_counter``) of building and
                         running the model, excluding imports and excluding
                         metric post-processing that is not part of the run
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from heapq import heappop, heappush
from itertools import count
from typing import Any

import ciw
import simpy

__all__ = [
    "ARRIVAL_RATE",
    "LAM",
    "MU",
    "REFERENCE",
    "ROUTE",
    "C",
    "Q",
    "Result",
    "TandemParams",
    "run_ciw",
    "run_heapq",
    "run_simpy",
]

#: Outside (Poisson) arrival rate into stage 1.
ARRIVAL_RATE: float = 10.0
#: Servers ("slots") per stage.
C: tuple[int, ...] = (8, 10, 6, 20)
#: Waiting-list capacity per stage (excluding those in service).
Q: tuple[float, ...] = (20, 20, 10, math.inf)
#: Nominal flow into each stage when nothing is lost.
LAM: tuple[float, ...] = (10.0, 5.0, 2.0, 1.4)
#: Service rate per server: utilisation LAM[k] / (C[k] * MU[k]) = 0.7.
MU: tuple[float, ...] = tuple(lam / (0.7 * c) for lam, c in zip(LAM, C, strict=True))
#: Probability of moving on from stage k to stage k+1 (otherwise leave).
ROUTE: tuple[float, ...] = (0.5, 0.4, 0.7, 0.0)


@dataclass(frozen=True)
class TandemParams:
    """Parameters of a tandem network with probabilistic early exits.

    The defaults are the reference network of the module docstring; other
    instances (e.g. a heavily blocking stress variant) are only for checking
    that the peers agree on blocking and loss semantics.
    """

    arrival_rate: float = ARRIVAL_RATE
    servers: tuple[int, ...] = C
    queue_caps: tuple[float, ...] = Q
    service_rates: tuple[float, ...] = MU
    route: tuple[float, ...] = ROUTE

    def __post_init__(self) -> None:
        n = len(self.servers)
        if not (len(self.queue_caps) == len(self.service_rates) == len(self.route) == n):
            raise ValueError("servers, queue_caps, service_rates and route must have equal length")
        if self.route[-1] != 0.0:
            raise ValueError("the last stage must route everybody out (route[-1] == 0)")

    @property
    def n_stages(self) -> int:
        """Number of stages in tandem."""
        return len(self.servers)

    def nominal_flows(self) -> tuple[float, ...]:
        """Flow into (= throughput of) each stage if no arrival were lost."""
        flows = [self.arrival_rate]
        for p in self.route[:-1]:
            flows.append(flows[-1] * p)
        return tuple(flows)


#: The reference network.
REFERENCE = TandemParams()

Result = dict[str, Any]


def _result(
    *,
    horizon: float,
    warmup: float,
    arrivals: int,
    lost: int,
    completions: list[int],
    wait_sum: list[float],
    wait_n: list[int],
    sojourn_sum: float,
    sojourn_n: int,
    firms: int,
    seconds: float,
) -> Result:
    """Assemble the common result dict from raw counters."""
    span = horizon - warmup
    return {
        "arrivals": arrivals,
        "lost": lost,
        "completions_per_time": [n / span for n in completions],
        "mean_wait": [s / n if n else math.nan for s, n in zip(wait_sum, wait_n, strict=True)],
        "mean_sojourn": sojourn_sum / sojourn_n if sojourn_n else math.nan,
        "firms": firms,
        "seconds": seconds,
    }


# --------------------------------------------------------------------------
# Ciw
# --------------------------------------------------------------------------


def run_ciw(horizon: float, seed: int, warmup: float = 0.0, *, params: TandemParams = REFERENCE) -> Result:
    """Simulate the reference network with Ciw 3.2.7.

    Ciw's default behaviour with finite ``queue_capacities`` is exactly the
    type-I blocking described in the module docstring: a node's capacity is
    ``servers + queue_capacity`` and counts firms in service, waiting *and*
    blocked in its servers; a firm finishing service waits in its server
    while the destination is at capacity, and the destination releases
    blocked firms in the order they became blocked.  Outside arrivals to a
    full node produce ``"rejection"`` records.

    Metrics come from ``get_all_records(include_incomplete=True)`` so that
    firms still in service or blocked at ``horizon`` are counted exactly as
    the other peers count them (a ``"service"`` record is only written when
    the firm *leaves* a node).  Ciw's ``arrival_date`` at a node is the time
    the firm was accepted there, i.e. after any blocking upstream, and its
    ``waiting_time`` is ``service_start_date - arrival_date``; blocking is
    reported separately as ``time_blocked``.

    Note: Ciw draws from the global ``random`` module, seeded by
    ``ciw.seed``.

    Args:
        horizon: simulated time to run until.
        seed: random seed.
        warmup: start of the measurement window.
        params: network parameters (default: the reference network).

    Returns:
        The metrics dict described in the module docstring.
    """
    t0 = time.perf_counter()
    n = params.n_stages
    routing = [[0.0] * n for _ in range(n)]
    for k in range(n - 1):
        routing[k][k + 1] = float(params.route[k])
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(params.arrival_rate)] + [None] * (n - 1),
        service_distributions=[ciw.dists.Exponential(mu) for mu in params.service_rates],
        routing=routing,
        number_of_servers=list(params.servers),
        # Ciw insists on ints (or inf) here.
        queue_capacities=[q if math.isinf(q) else int(q) for q in params.queue_caps],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(horizon)
    seconds = time.perf_counter() - t0

    arrivals = lost = 0
    completions = [0] * n
    wait_sum = [0.0] * n
    wait_n = [0] * n
    stage1_arrival: dict[int, float] = {}
    network_exit: dict[int, float] = {}
    for rec in sim.get_all_records(include_incomplete=True):
        if rec.record_type == "rejection":
            if rec.arrival_date >= warmup:
                arrivals += 1
                lost += 1
            continue
        if rec.record_type not in ("service", "incomplete"):
            raise RuntimeError(f"unexpected Ciw record type {rec.record_type!r}")
        k = rec.node - 1
        if k == 0:
            stage1_arrival[rec.id_number] = rec.arrival_date
            if rec.arrival_date >= warmup:
                arrivals += 1
        start = rec.service_start_date
        if start is not None and warmup <= start <= horizon:
            wait_sum[k] += start - rec.arrival_date
            wait_n[k] += 1
        end = rec.service_end_date
        if end is not None and warmup <= end <= horizon:
            completions[k] += 1
        if rec.record_type == "service" and rec.destination == -1:
            network_exit[rec.id_number] = rec.exit_date

    sojourn_sum = 0.0
    sojourn_n = 0
    for ident, t_exit in network_exit.items():
        t_arr = stage1_arrival[ident]
        if t_arr >= warmup and t_exit <= horizon:
            sojourn_sum += t_exit - t_arr
            sojourn_n += 1

    return _result(
        horizon=horizon,
        warmup=warmup,
        arrivals=arrivals,
        lost=lost,
        completions=completions,
        wait_sum=wait_sum,
        wait_n=wait_n,
        sojourn_sum=sojourn_sum,
        sojourn_n=sojourn_n,
        firms=sim.nodes[0].number_of_individuals,
        seconds=seconds,
    )


# --------------------------------------------------------------------------
# SimPy
# --------------------------------------------------------------------------


def run_simpy(horizon: float, seed: int, warmup: float = 0.0, *, params: TandemParams = REFERENCE) -> Result:
    """Simulate the reference network with a plain SimPy model.

    One generator process per firm and one ``simpy.Resource`` per stage.
    SimPy resources have unbounded request queues, so the waiting-list
    limits and type-I blocking need a little bookkeeping:

    * "room" at stage k means a free server or fewer than ``queue_caps[k]`` queued
      requests (``res.count < res.capacity or len(res.queue) < qcaps[k]``);
    * a firm routed to a stage without room parks on a fresh ``env.event()``
      appended to that stage's FIFO of blocked firms, still holding its
      current request (so its server stays occupied);
    * a firm that leaves stage k (releases its request) wakes the
      longest-blocked firm waiting for stage k -- exactly one slot of room
      was freed;
    * a firm moving on requests the next stage *before* releasing the
      current one (idiomatic hand-over: no instant without a slot).

    Args:
        horizon: simulated time to run until.
        seed: random seed for a private ``random.Random`` instance.
        warmup: start of the measurement window.
        params: network parameters (default: the reference network).

    Returns:
        The metrics dict described in the module docstring.
    """
    t0 = time.perf_counter()
    n = params.n_stages
    rng = random.Random(seed)
    env = simpy.Environment()
    stages = [simpy.Resource(env, capacity=c) for c in params.servers]
    qcaps = params.queue_caps
    mus = params.service_rates
    route = params.route
    arrival_rate = params.arrival_rate
    blocked: list[deque[simpy.Event]] = [deque() for _ in range(n)]

    completions = [0] * n
    wait_sum = [0.0] * n
    wait_n = [0] * n
    counters = {"firms": 0, "arrivals": 0, "lost": 0, "sojourn_n": 0}
    sojourn_sum = [0.0]

    def has_room(k: int) -> bool:
        """Whether a firm joining stage k now would get a server or a place."""
        res = stages[k]
        return res.count < res.capacity or len(res.queue) < qcaps[k]

    def leave_stage(k: int, req: simpy.resources.resource.Request) -> None:
        """Give up a slot at stage k and wake the longest-blocked firm for k."""
        stages[k].release(req)
        if blocked[k]:
            blocked[k].popleft().succeed()

    def firm(t_arrival: float) -> Generator[simpy.Event, Any, None]:
        """Life of one admitted firm, from stage 1 to leaving the network."""
        k = 0
        req = stages[0].request()
        t_join = t_arrival
        while True:
            yield req
            if env.now >= warmup:
                wait_sum[k] += env.now - t_join
                wait_n[k] += 1
            yield env.timeout(rng.expovariate(mus[k]))
            if env.now >= warmup:
                completions[k] += 1
            if k + 1 == n or rng.random() >= route[k]:
                leave_stage(k, req)
                if t_arrival >= warmup:
                    sojourn_sum[0] += env.now - t_arrival
                    counters["sojourn_n"] += 1
                return
            nxt = k + 1
            if not has_room(nxt):
                # Blocked: keep holding `req`.  The waker has just freed one
                # slot at `nxt` and nothing else can take it at the same
                # instant (continuous times), so one wake-up suffices.
                unblock = env.event()
                blocked[nxt].append(unblock)
                yield unblock
            next_req = stages[nxt].request()
            t_join = env.now
            leave_stage(k, req)
            req, k = next_req, nxt

    def source() -> Generator[simpy.Event, Any, None]:
        """Poisson stream of outside arrivals into stage 1."""
        while True:
            yield env.timeout(rng.expovariate(arrival_rate))
            counters["firms"] += 1
            measured = env.now >= warmup
            if measured:
                counters["arrivals"] += 1
            if has_room(0):
                env.process(firm(env.now))
            elif measured:
                counters["lost"] += 1

    env.process(source())
    env.run(until=horizon)
    seconds = time.perf_counter() - t0

    return _result(
        horizon=horizon,
        warmup=warmup,
        arrivals=counters["arrivals"],
        lost=counters["lost"],
        completions=completions,
        wait_sum=wait_sum,
        wait_n=wait_n,
        sojourn_sum=sojourn_sum[0],
        sojourn_n=counters["sojourn_n"],
        firms=counters["firms"],
        seconds=seconds,
    )


# --------------------------------------------------------------------------
# Bare heapq event loop
# --------------------------------------------------------------------------


def run_heapq(horizon: float, seed: int, warmup: float = 0.0, *, params: TandemParams = REFERENCE) -> Result:
    """Simulate the reference network with a bare ``heapq`` event loop.

    Events are tuples ``(time, seq, stage, t_arrival)`` on a heap, where
    ``stage == -1`` is the next outside arrival and ``stage >= 0`` is an end
    of service at that stage of a firm that entered the network at
    ``t_arrival``.  State per stage: ``busy`` (servers occupied, including
    blocked firms), a FIFO of waiting firms ``(t_arrival, t_join)`` and a
    FIFO of blocked firms ``(from_stage, t_arrival)`` waiting for room.

    When a firm frees a server the following cascade runs at the same
    instant (as in Ciw): the head of that stage's waiting list starts
    service, then the longest-blocked firm waiting for that stage moves in,
    which frees a server upstream, and so on.

    Args:
        horizon: simulated time to run until.
        seed: random seed for a private ``random.Random`` instance.
        warmup: start of the measurement window.
        params: network parameters (default: the reference network).

    Returns:
        The metrics dict described in the module docstring.
    """
    t0 = time.perf_counter()
    n = params.n_stages
    rng = random.Random(seed)
    expo = rng.expovariate
    unif = rng.random
    seq = count()
    arrival_rate = params.arrival_rate
    caps = list(params.servers)
    qcaps = list(params.queue_caps)
    mus = list(params.service_rates)
    route = list(params.route)
    last = n - 1

    busy = [0] * n
    waiting: list[deque[tuple[float, float]]] = [deque() for _ in range(n)]
    blocked: list[deque[tuple[int, float]]] = [deque() for _ in range(n)]
    completions = [0] * n
    wait_sum = [0.0] * n
    wait_n = [0] * n
    sojourn_sum = 0.0
    sojourn_n = 0
    firms = arrivals = lost = 0

    heap: list[tuple[float, int, int, float]] = [(expo(arrival_rate), next(seq), -1, 0.0)]

    def enter(j: int, t_arr: float, t: float) -> None:
        """A firm joins stage j at time t: start service or queue (room assumed)."""
        if busy[j] < caps[j]:
            busy[j] += 1
            if t >= warmup:
                wait_n[j] += 1
            heappush(heap, (t + expo(mus[j]), next(seq), j, t_arr))
        else:
            waiting[j].append((t_arr, t))

    while heap:
        t, _, k, t_arr = heappop(heap)
        if t >= horizon:
            break

        if k < 0:  # outside arrival into stage 1
            firms += 1
            heappush(heap, (t + expo(arrival_rate), next(seq), -1, 0.0))
            if t >= warmup:
                arrivals += 1
            if busy[0] < caps[0] or len(waiting[0]) < qcaps[0]:
                enter(0, t, t)
            elif t >= warmup:
                lost += 1
            continue

        # end of service at stage k
        if t >= warmup:
            completions[k] += 1
        if k < last and unif() < route[k]:
            j = k + 1
            if busy[j] >= caps[j] and len(waiting[j]) >= qcaps[j]:
                blocked[j].append((k, t_arr))  # keeps its server at k
                continue
            enter(j, t_arr, t)
        elif t_arr >= warmup:
            sojourn_sum += t - t_arr
            sojourn_n += 1

        # a server at stage s is freed: cascade upstream through blocked firms
        s = k
        while True:
            wq = waiting[s]
            if wq:
                w_arr, w_join = wq.popleft()
                if t >= warmup:
                    wait_sum[s] += t - w_join
                    wait_n[s] += 1
                heappush(heap, (t + expo(mus[s]), next(seq), s, w_arr))
            else:
                busy[s] -= 1
            bq = blocked[s]
            if not bq:
                break
            i, b_arr = bq.popleft()
            enter(s, b_arr, t)
            s = i

    seconds = time.perf_counter() - t0
    return _result(
        horizon=horizon,
        warmup=warmup,
        arrivals=arrivals,
        lost=lost,
        completions=completions,
        wait_sum=wait_sum,
        wait_n=wait_n,
        sojourn_sum=sojourn_sum,
        sojourn_n=sojourn_n,
        firms=firms,
        seconds=seconds,
    )
