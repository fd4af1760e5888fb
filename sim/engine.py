"""The chain model on the SimPy event kernel.

One replication is a pure function of ``(scenario, seed, replication)``: :func:`simulate` builds the
carriers, the firm sources and the policy windows, runs a :class:`simpy.Environment` to the horizon
and returns the event log. Randomness comes only from :mod:`sim.streams` (see its docstring for the
common-random-numbers design).

Mechanics
---------
* A firm resident in a stage faces two competing hazards (failure, graduation), each a distribution
  on its own clock (time in the stage, or the firm's age), scaled by the firm's quality
  (proportional hazards) and by policy multipliers, plus the stage's stay limit. Each hazard spends a
  unit-exponential budget drawn for that visit; the firm has exactly one pending event, the earliest
  of the three. When a multiplier changes, the budget already spent is booked and the event re-timed.
* Leaving a stage (graduation or time-out) routes the firm by the stage's probabilities to another
  stage or to ``exit``. To enter a stage it *applies*: screening (a noisy signal of quality against a
  threshold) may reject it; otherwise it takes a slot in a carrier with room, chosen by its own
  uniform draw among them; if there is none it joins the waiting list (``queue``, possibly limited,
  with patience), goes to the fallback stage (``skip``), or -- if it holds a slot elsewhere and the
  stage says ``block`` -- stays where it is, holding that slot, until room opens.
* When a slot frees, the stage's waiting list is served first-come first-served, then blocked firms
  (in the order they blocked) join the list or take the slot. A firm that frees a slot by moving on
  frees it after it has entered its next stage; the freed slots are then filled in the order freed.
* Ties at the same time resolve in SimPy's order: policy changes first (urgent priority), then events
  in the order they were scheduled. Within a firm, failure beats graduation beats time-out.
* While waiting on a list or blocked, a firm's stage hazards are paused (only patience runs).
* Events after the horizon are never scheduled; firms still active at the horizon are censored.

Speed
-----
The kernel is SimPy, used through callbacks rather than generator processes: a firm's next event is a
pre-triggered :class:`simpy.Event` subclass whose callback is fixed at class level, so scheduling costs
one small object and one heap push. A firm has at most one pending event; re-planning simply points the
firm at a new one and the old one is ignored when the kernel reaches it. Log rows are three appends to
typed arrays (see :mod:`sim.event_log`), and per-visit random numbers come in pre-drawn blocks.
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy
from simpy.events import NORMAL, URGENT, EventPriority

from .distributions import Exponential, _Duration
from .event_log import CARRIER_SHIFT, INFO_SHIFT, STAGE_SHIFT, Ev, EventLog
from .scenario import (
    EXIT,
    LEVELS,
    ArrivalMultiplier,
    CapacityChange,
    HazardMultiplier,
    Scenario,
    Target,
)
from .streams import BLOCK, SourceDraws, Streams, VisitDraws

__all__ = ["CarrierInfo", "SimOutput", "simulate"]

_EXIT = -1
_FAILED = -2
INF = math.inf

# Firm states
_TRANSIT, _RESIDENT, _WAITING, _BLOCKED, _DONE = range(5)

# Row codes without stage / carrier / info (see sim.event_log.pack)
_ARRIVE, _APPLY, _ADMIT, _REJECT, _WAIT, _RENEGE, _SKIP, _BLOCK = (
    int(Ev.ARRIVE),
    int(Ev.APPLY),
    int(Ev.ADMIT),
    int(Ev.REJECT),
    int(Ev.WAIT),
    int(Ev.RENEGE),
    int(Ev.SKIP),
    int(Ev.BLOCK),
)
_GRADUATE, _TIME_OUT, _FAIL, _LEAVE, _EXIT_EV = (
    int(Ev.GRADUATE),
    int(Ev.TIME_OUT),
    int(Ev.FAIL),
    int(Ev.LEAVE),
    int(Ev.EXIT),
)
_NO_CARRIER = 0 << CARRIER_SHIFT  # carrier -1 packed


def _info(value: int) -> int:
    return (value + 2) << INFO_SHIFT


def _stage(value: int) -> int:
    return (value + 1) << STAGE_SHIFT


_I_M1 = _info(-1)
_I_0 = _info(0)
_I_1 = _info(1)
_I_FAILED = _info(_FAILED)
_EXIT_ROW = _EXIT_EV | _stage(-1) | _NO_CARRIER | _I_M1

# Per-visit draws, in the order of sim.streams.VISIT_STREAMS
_F, _G, _ROUTE, _PICK, _PATIENCE, _SCREEN = range(6)


def _fire_due(event: _Due) -> None:
    firm = event.firm
    if firm.pending is event:
        firm.pending = None
        event.fn(firm)


class _Due(simpy.Event):
    """A firm's next event. Stale (ignored) once the firm points at a newer one."""

    _ok = True
    _value = None
    callbacks = (_fire_due,)  # type: ignore[assignment]  # the kernel replaces the instance's with None

    def __init__(self, fn: Callable[[_Firm], None], firm: _Firm) -> None:
        self.fn = fn
        self.firm = firm


class _Call(simpy.Event):
    """An already-triggered event that runs one callback when the kernel reaches it."""

    _ok = True
    _value = None

    def __init__(self, callback: Callable[[simpy.Event], None]) -> None:
        self.callbacks = (callback,)  # type: ignore[assignment]


class _Carrier:
    __slots__ = ("base_capacity", "capacity", "code", "free_pos", "id", "level", "occupancy", "specialism", "stage")

    def __init__(self, cid: int, stage: int, level: int, specialism: int, capacity: int) -> None:
        self.id = cid
        self.code = (cid + 1) << CARRIER_SHIFT
        self.stage = stage
        self.level = level
        self.specialism = specialism
        self.base_capacity = capacity
        self.capacity = capacity
        self.occupancy = 0
        self.free_pos = -1


class _Firm:
    """A firm's state. Plain slots: the engine makes one per firm, so this stays small."""

    __slots__ = (
        "birth", "carrier", "draws", "entry", "id", "index", "k", "mark", "mult_f", "mult_g", "pending", "qf",
        "qg", "quality", "sector", "source", "spent_f", "spent_g", "stage", "state", "target", "v", "visits",
    )  # fmt: skip

    id: int
    source: int
    index: int  # number within its source: the key of its random draws
    birth: float  # founding time, years (negative if founded before the start)
    sector: int
    quality: float
    qf: float  # quality's factor on the failure hazard
    qg: float  # quality's factor on the graduation hazard
    draws: SourceDraws
    v: VisitDraws  # the current visit's draws
    entry: float  # time the stay clock started
    mark: float  # time up to which hazard has been booked into spent_f / spent_g
    spent_f: float
    spent_g: float
    mult_f: float
    mult_g: float

    def __init__(self) -> None:
        self.carrier: _Carrier | None = None
        self.pending: _Due | None = None
        self.stage = -1
        self.state = _TRANSIT
        self.visits = 0
        self.k = 0
        self.target = -1


@dataclass(frozen=True)
class CarrierInfo:
    """A carrier as set up at the start (capacities before any policy)."""

    id: int
    stage: str
    level: str
    specialism: str | None
    capacity: int


@dataclass
class SimOutput:
    """What one replication produces: the event log and static facts needed to read it."""

    log: EventLog
    stage_names: tuple[str, ...]
    sectors: tuple[str, ...]
    carriers: list[CarrierInfo]
    firm_source: np.ndarray
    firm_index: np.ndarray
    firm_sector: np.ndarray
    firm_quality: np.ndarray
    firm_birth: np.ndarray
    source_names: tuple[str, ...]
    horizon: float
    extras: dict[str, Any] = field(default_factory=dict)


class _Stage:
    """Run-time state of one stage."""

    def __init__(self, idx: int, name: str) -> None:
        self.idx = idx
        self.name = name
        self.code = _stage(idx)
        self.carriers: list[_Carrier] = []
        self.free: list[_Carrier] = []
        self.queue: deque[_Firm] = deque()
        self.blocked: deque[_Firm] = deque()
        self.residents: dict[int, _Firm] = {}
        self.unlimited = True
        self.fail: _Duration | None = None
        self.grad: _Duration | None = None
        self.fail_rate = 0.0  # > 0 when the failure hazard is exponential on the stay clock (fast path)
        self.grad_rate = 0.0
        self.fail_age = False
        self.grad_age = False
        self.max_stay = INF
        self.grad_cum: list[float] = []
        self.grad_dest: list[int] = []
        self.out_cum: list[float] = []
        self.out_dest: list[int] = []
        self.fallback = _EXIT
        self.queue_limit: float = 0.0
        self.can_block = False
        self.patience: _Duration | None = None
        self.screen_threshold: float | None = None
        self.screen_sd = 0.0
        self.hazard_policies: list[tuple[int, float, Target]] = []  # (0 fail / 1 grad, factor, target)


def _cum_route(route: dict[str, float] | None, index: dict[str, int]) -> tuple[list[float], list[int]]:
    if not route:
        return [], []
    cum: list[float] = []
    dest: list[int] = []
    acc = 0.0
    for name, p in route.items():
        if p <= 0:
            continue
        acc += p
        cum.append(acc)
        dest.append(_EXIT if name == EXIT else index[name])
    cum[-1] = 1.0  # guard against rounding: the last destination takes the remainder
    return cum, dest


def _pick(cum: list[float], dest: list[int], u: float) -> int:
    return dest[bisect_right(cum, u)] if len(dest) > 1 else dest[0]


class _Window:
    """A policy in force on ``[start, end)`` years."""

    __slots__ = ("end", "policy", "start")

    def __init__(self, start: float, end: float, policy: Any) -> None:
        self.start = start
        self.end = end
        self.policy = policy


def _target_matches(
    target: Target, stage_name: str, carrier: _Carrier | None, sector: int, sectors: tuple[str, ...]
) -> bool:
    if target.stages is not None and stage_name not in target.stages:
        return False
    if target.levels is not None and (carrier is None or LEVELS[carrier.level] not in target.levels):
        return False
    if target.specialised is not None and (carrier is None or (carrier.specialism >= 0) != target.specialised):
        return False
    return target.sectors is None or sectors[sector] in target.sectors


def _time_to(dist: _Duration, clock0: float, budget_left: float, mult: float) -> float:
    """Years from clock value ``clock0`` until ``mult * (H(clock) - H(clock0))`` reaches the budget."""
    if mult <= 0.0:
        return INF
    return dist.inv_cum_hazard(dist.cum_hazard(clock0) + budget_left / mult) - clock0


class _Model:
    def __init__(self, sc: Scenario, seed: int, replication: int) -> None:
        self.sc = sc
        self.env = simpy.Environment()
        self.streams = Streams(seed, replication)
        self.log = EventLog()
        self._lt = self.log.time.append
        self._lf = self.log.firm.append
        self._lc = self.log.code.append
        self.horizon = sc.calendar.horizon_years
        self.stage_names = sc.stage_names
        self.stage_index = {n: i for i, n in enumerate(self.stage_names)}
        sectors: list[str] = list(sc.firms.sectors)
        for a in sc.arrivals:
            sectors += [s for s in (a.sectors or {}) if s not in sectors]
        for s in sc.initial_stock:
            sectors += [x for x in (s.sectors or {}) if x not in sectors]
        self.sectors = tuple(sectors)
        self.sector_index = {s: i for i, s in enumerate(self.sectors)}
        self.stages = [_Stage(i, n) for i, n in enumerate(self.stage_names)]
        self.carriers: list[_Carrier] = []
        self.carrier_info: list[CarrierInfo] = []
        self.firms_source: list[int] = []
        self.firms_index: list[int] = []
        self.firms_sector: list[int] = []
        self.firms_quality: list[float] = []
        self.firms_birth: list[float] = []
        self._freed: deque[_Stage] = deque()
        self._draining = False
        self.windows: list[_Window] = []
        self._build_stages()
        self._build_policies()
        self._schedule_raw = self.env.schedule

    # ---------------------------------------------------------------- set-up
    def _build_stages(self) -> None:
        sc = self.sc
        sector_shares = np.cumsum(list(sc.firms.sectors.values()))
        for st, spec in zip(self.stages, sc.stages.values(), strict=True):
            st.fail = spec.failure
            st.grad = spec.graduation
            st.fail_age = spec.failure_clock == "age"
            st.grad_age = spec.graduation_clock == "age"
            if isinstance(spec.failure, Exponential) and not st.fail_age:
                st.fail_rate = spec.failure.rate
            if isinstance(spec.graduation, Exponential) and not st.grad_age:
                st.grad_rate = spec.graduation.rate
            st.max_stay = spec.max_stay_years if spec.max_stay_years is not None else INF
            st.grad_cum, st.grad_dest = _cum_route(spec.on_graduation, self.stage_index)
            st.out_cum, st.out_dest = _cum_route(spec.on_timeout, self.stage_index)
            fb = sc.fallback_of(st.name)
            st.fallback = _EXIT if fb == EXIT else self.stage_index[fb]
            adm = spec.admission
            if adm.on_full == "queue":
                st.queue_limit = INF if adm.queue_limit is None else float(adm.queue_limit)
                st.can_block = adm.on_queue_full == "block"
            else:
                st.queue_limit = 0.0
                st.can_block = adm.on_full == "block"
            st.patience = adm.patience
            if adm.screening is not None:
                st.screen_threshold = adm.screening.threshold
                st.screen_sd = adm.screening.noise_sd
            if spec.carriers is None:
                continue
            st.unlimited = False
            car = spec.carriers
            n = car.count
            g_cap = self.streams.generator("carrier_capacity", st.idx)
            if isinstance(car.capacity, int):
                caps = [car.capacity] * n
            elif isinstance(car.capacity, tuple):
                caps = list(car.capacity)
            else:
                caps = [max(1, int(round(x))) for x in car.capacity.sample(g_cap, n)]
            g_lev = self.streams.generator("carrier_level", st.idx)
            lev_names = [lv for lv in LEVELS if car.levels.get(lv, 0.0) > 0]  # type: ignore[call-overload]
            lev_cum = np.cumsum([car.levels[lv] for lv in lev_names])  # type: ignore[index]
            lev_cum[-1] = 1.0
            levels = [
                LEVELS.index(lev_names[int(np.searchsorted(lev_cum, u, side="right"))]) for u in g_lev.random(n)
            ]
            g_spec = self.streams.generator("carrier_specialism", st.idx)
            u_spec = g_spec.random((n, 2))
            for i in range(n):
                specialism = -1
                if u_spec[i, 0] < car.specialised_share:
                    j = min(int(np.searchsorted(sector_shares, u_spec[i, 1], side="right")), len(sector_shares) - 1)
                    specialism = self.sector_index[list(sc.firms.sectors)[j]]
                c = _Carrier(len(self.carriers), st.idx, levels[i], specialism, caps[i])
                self.carriers.append(c)
                st.carriers.append(c)
                c.free_pos = len(st.free)
                st.free.append(c)
                self.carrier_info.append(
                    CarrierInfo(
                        c.id,
                        st.name,
                        LEVELS[c.level],
                        self.sectors[specialism] if specialism >= 0 else None,
                        c.capacity,
                    )
                )

    def _build_policies(self) -> None:
        cal = self.sc.calendar
        for pol in self.sc.policies:
            start = max(0.0, cal.years_since_start(pol.start)) if pol.start is not None else 0.0
            end = cal.years_since_start(pol.end) if pol.end is not None else INF
            if start >= self.horizon or end <= start:
                continue
            self.windows.append(_Window(start, end, pol))

    # ---------------------------------------------------------------- sources
    def _arrival_steps(
        self, name: str, base_times: tuple[float, ...], base_rates: tuple[float, ...]
    ) -> tuple[list[float], list[float], list[float]]:
        """Breakpoints, rates and cumulative intensity of an arrival source (policies included)."""
        arrival_windows = [w for w in self.windows if isinstance(w.policy, ArrivalMultiplier)]
        points = sorted(
            {0.0, *base_times, *(w.start for w in arrival_windows), *(w.end for w in arrival_windows if w.end < INF)}
        )
        rates: list[float] = []
        for t in points:
            rate = base_rates[bisect_right(base_times, t)]
            for w in arrival_windows:
                pol = w.policy
                if w.start <= t < w.end and (pol.arrivals is None or name in pol.arrivals):
                    rate *= pol.factor
            rates.append(rate)
        cum = [0.0]
        for i in range(1, len(points)):
            cum.append(cum[-1] + rates[i - 1] * (points[i] - points[i - 1]))
        return points, rates, cum

    def _start_sources(self) -> None:
        sc = self.sc
        n_arr = len(sc.arrivals)
        for s, arr in enumerate(sc.arrivals):
            times, rates = arr.rate_steps(sc.calendar)
            points, prates, cum = self._arrival_steps(arr.name, times, rates)
            factory = _FirmFactory(
                self,
                s,
                self.streams.source(s),
                arr.sectors or sc.firms.sectors,
                arr.quality or sc.firms.quality,
                arr.age_years,
                None,
            )
            _ArrivalStream(self, factory, self.stage_index[arr.stage], points, prates, cum).next()
        for j, stock in enumerate(sc.initial_stock):
            s = n_arr + j
            factory = _FirmFactory(
                self,
                s,
                self.streams.source(s),
                stock.sectors or sc.firms.sectors,
                stock.quality or sc.firms.quality,
                stock.age_years,
                stock.years_in_stage,
            )
            entry = self.stage_index[stock.stage]
            for n in range(stock.count):
                firm, in_stage = factory.make(n, 0.0)
                self._row(0.0, firm.id, _ARRIVE | _stage(entry) | _info(s))
                firm.entry = -in_stage
                self._apply(firm, entry, from_stock=True)
                self._drain()

    # ---------------------------------------------------------------- helpers
    def _row(self, t: float, firm: int, code: int) -> None:
        self._lt(t)
        self._lf(firm)
        self._lc(code)

    def _schedule(self, t: float, callback: Callable[[simpy.Event], None], priority: EventPriority = NORMAL) -> None:
        """Run ``callback(event)`` at time ``t`` (years)."""
        self._schedule_raw(_Call(callback), priority, t - self.env.now)

    def _drain(self) -> None:
        """Fill slots freed during the last action, in the order they were freed."""
        if self._draining or not self._freed:
            return
        self._draining = True
        freed = self._freed
        while freed:
            self._fill(freed.popleft())
        self._draining = False

    # ---------------------------------------------------------------- admission
    def _apply(self, firm: _Firm, j: int, can_block: bool = False, from_stock: bool = False) -> None:
        """Firm asks to enter stage ``j`` (it may still hold a slot elsewhere if ``can_block``)."""
        now = self.env.now
        st = self.stages[j]
        k = firm.visits
        firm.visits = k + 1
        firm.k = k
        v = firm.v = firm.draws.visit(firm.index, k)
        fid = firm.id
        self._lt(now)
        self._lf(fid)
        self._lc(_APPLY | st.code | _info(k))
        if st.screen_threshold is not None and not from_stock:
            if firm.quality + st.screen_sd * v[_SCREEN] < st.screen_threshold:
                self._row(now, fid, _REJECT | st.code | _info(st.fallback))
                self._vacate(firm, st.fallback)
                self._to_fallback(firm, st)
                return
        if st.unlimited or st.free:
            if firm.state != _TRANSIT:
                self._vacate(firm, j)
            self._admit(firm, st, 0, from_stock)
        elif len(st.queue) < st.queue_limit:
            self._vacate(firm, j)
            self._enqueue(firm, st)
        elif can_block and st.can_block and firm.state == _RESIDENT:
            firm.state = _BLOCKED
            firm.target = j
            firm.pending = None  # pause the stage's hazards
            st.blocked.append(firm)
            c = firm.carrier
            self._row(now, fid, _BLOCK | self.stages[firm.stage].code | (c.code if c else 0) | _info(j))
        else:
            self._row(now, fid, _SKIP | st.code | _info(st.fallback))
            self._vacate(firm, st.fallback)
            self._to_fallback(firm, st)

    def _to_fallback(self, firm: _Firm, st: _Stage) -> None:
        if st.fallback == _EXIT:
            self._exit(firm)
        else:
            self._apply(firm, st.fallback)

    def _exit(self, firm: _Firm) -> None:
        firm.state = _DONE
        firm.pending = None
        self._row(self.env.now, firm.id, _EXIT_ROW)

    def _vacate(self, firm: _Firm, dest: int) -> None:
        """The firm leaves the slot it holds (if any), heading to ``dest``."""
        state = firm.state
        if state != _RESIDENT and state != _BLOCKED:
            return
        st = self.stages[firm.stage]
        c = firm.carrier
        self._lt(self.env.now)
        self._lf(firm.id)
        self._lc(_LEAVE | st.code | (c.code if c is not None else 0) | _info(dest))
        del st.residents[firm.id]
        firm.state = _TRANSIT
        firm.pending = None
        if c is not None:
            firm.carrier = None
            c.occupancy -= 1
            if c.free_pos < 0 and c.occupancy < c.capacity:
                c.free_pos = len(st.free)
                st.free.append(c)
            self._freed.append(st)

    @staticmethod
    def _drop_free(st: _Stage, c: _Carrier) -> None:
        free = st.free
        pos = c.free_pos
        last = free.pop()
        if last is not c:
            free[pos] = last
            last.free_pos = pos
        c.free_pos = -1

    def _admit(self, firm: _Firm, st: _Stage, from_queue: int, from_stock: bool = False) -> None:
        now = self.env.now
        if st.unlimited:
            c = None
            ccode = 0
        else:
            free = st.free
            c = free[int(firm.v[_PICK] * len(free))]
            c.occupancy += 1
            if c.occupancy >= c.capacity:
                self._drop_free(st, c)
            ccode = c.code
        firm.carrier = c
        firm.stage = st.idx
        firm.state = _RESIDENT
        if not from_stock:
            firm.entry = now
        firm.mark = now
        firm.spent_f = 0.0
        firm.spent_g = 0.0
        st.residents[firm.id] = firm
        self._lt(now)
        self._lf(firm.id)
        self._lc(_ADMIT | st.code | ccode | (_I_1 if from_queue else _I_0))
        if st.hazard_policies:
            self._multipliers(firm, st)
        else:
            firm.mult_f = firm.qf
            firm.mult_g = firm.qg
        self._plan(firm, st)

    def _enqueue(self, firm: _Firm, st: _Stage) -> None:
        now = self.env.now
        firm.state = _WAITING
        firm.target = st.idx
        firm.pending = None
        st.queue.append(firm)
        self._row(now, firm.id, _WAIT | st.code | _info(len(st.queue)))
        if st.patience is not None:
            t = now + st.patience.inv_cum_hazard(firm.v[_PATIENCE])
            if t < self.horizon:
                self._due(t, self._renege, firm)

    def _renege(self, firm: _Firm) -> None:
        if firm.state != _WAITING:
            return
        st = self.stages[firm.target]
        st.queue.remove(firm)
        firm.state = _TRANSIT
        self._row(self.env.now, firm.id, _RENEGE | st.code | _info(st.fallback))
        self._to_fallback(firm, st)
        self._drain()

    def _fill(self, st: _Stage) -> None:
        """Serve the waiting list, then blocked firms, while the stage has room."""
        while True:
            if st.free and st.queue:
                self._admit(st.queue.popleft(), st, 1)
            elif st.blocked and (st.free or len(st.queue) < st.queue_limit):
                firm = st.blocked.popleft()
                self._vacate(firm, st.idx)
                if st.free and not st.queue:
                    self._admit(firm, st, 0)
                else:
                    self._enqueue(firm, st)
            else:
                return

    # ---------------------------------------------------------------- hazards
    def _due(self, t: float, fn: Callable[[_Firm], None], firm: _Firm) -> None:
        ev = _Due(fn, firm)
        firm.pending = ev
        self._schedule_raw(ev, NORMAL, t - self.env.now)

    def _multipliers(self, firm: _Firm, st: _Stage) -> None:
        mf, mg = firm.qf, firm.qg
        for which, factor, target in st.hazard_policies:
            if _target_matches(target, st.name, firm.carrier, firm.sector, self.sectors):
                if which == 0:
                    mf *= factor
                else:
                    mg *= factor
        firm.mult_f = mf
        firm.mult_g = mg

    def _plan(self, firm: _Firm, st: _Stage) -> None:
        """Schedule the firm's next residence event from its budgets left."""
        now = firm.mark
        v = firm.v
        t_f = t_g = INF
        if st.fail_rate > 0.0:
            m = firm.mult_f
            if m > 0.0:
                t_f = now + (v[_F] - firm.spent_f) / (st.fail_rate * m)
        elif st.fail is not None:
            clock0 = (now - firm.birth) if st.fail_age else (now - firm.entry)
            t_f = now + _time_to(st.fail, clock0, v[_F] - firm.spent_f, firm.mult_f)
        if st.grad_rate > 0.0:
            m = firm.mult_g
            if m > 0.0:
                t_g = now + (v[_G] - firm.spent_g) / (st.grad_rate * m)
        elif st.grad is not None:
            clock0 = (now - firm.birth) if st.grad_age else (now - firm.entry)
            t_g = now + _time_to(st.grad, clock0, v[_G] - firm.spent_g, firm.mult_g)
        t_o = firm.entry + st.max_stay
        if t_f <= t_g and t_f <= t_o:
            t, fn = t_f, self._on_fail
        elif t_g <= t_o:
            t, fn = t_g, self._on_graduate
        else:
            t, fn = t_o, self._on_timeout
        if t < self.horizon:
            ev = _Due(fn, firm)
            firm.pending = ev
            now = self.env.now
            self._schedule_raw(ev, NORMAL, t - now if t > now else 0.0)
        else:
            firm.pending = None

    def _book(self, firm: _Firm, st: _Stage, now: float) -> None:
        """Book the hazard spent since the firm's mark (before a multiplier changes)."""
        t0 = firm.mark
        if now <= t0:
            return
        if st.fail is not None:
            if st.fail_rate > 0.0:
                firm.spent_f += firm.mult_f * st.fail_rate * (now - t0)
            else:
                off = firm.birth if st.fail_age else firm.entry
                firm.spent_f += firm.mult_f * (st.fail.cum_hazard(now - off) - st.fail.cum_hazard(t0 - off))
        if st.grad is not None:
            if st.grad_rate > 0.0:
                firm.spent_g += firm.mult_g * st.grad_rate * (now - t0)
            else:
                off = firm.birth if st.grad_age else firm.entry
                firm.spent_g += firm.mult_g * (st.grad.cum_hazard(now - off) - st.grad.cum_hazard(t0 - off))
        firm.mark = now

    # ---------------------------------------------------------------- residence events
    def _on_fail(self, firm: _Firm) -> None:
        now = self.env.now
        st = self.stages[firm.stage]
        c = firm.carrier
        self._row(now, firm.id, _FAIL | st.code | (c.code if c is not None else 0) | _I_M1)
        self._vacate(firm, _FAILED)
        firm.state = _DONE
        self._drain()

    def _on_graduate(self, firm: _Firm) -> None:
        st = self.stages[firm.stage]
        dest = _pick(st.grad_cum, st.grad_dest, firm.v[_ROUTE])
        c = firm.carrier
        self._lt(self.env.now)
        self._lf(firm.id)
        self._lc(_GRADUATE | st.code | (c.code if c is not None else 0) | _info(dest))
        self._move(firm, dest)

    def _on_timeout(self, firm: _Firm) -> None:
        st = self.stages[firm.stage]
        dest = _pick(st.out_cum, st.out_dest, firm.v[_ROUTE])
        c = firm.carrier
        self._row(self.env.now, firm.id, _TIME_OUT | st.code | (c.code if c is not None else 0) | _info(dest))
        self._move(firm, dest)

    def _move(self, firm: _Firm, dest: int) -> None:
        if dest == _EXIT:
            self._vacate(firm, _EXIT)
            self._exit(firm)
        else:
            self._apply(firm, dest, can_block=True)
        self._drain()

    # ---------------------------------------------------------------- policies
    def _start_policies(self) -> None:
        for w in self.windows:
            if isinstance(w.policy, ArrivalMultiplier):
                continue  # folded into the arrival intensity
            self._schedule(w.start, functools.partial(self._policy_change, w, True), URGENT)
            if w.end < self.horizon:
                self._schedule(w.end, functools.partial(self._policy_change, w, False), URGENT)

    def _policy_change(self, w: _Window, on: bool, _event: simpy.Event | None = None) -> None:
        pol = w.policy
        now = self.env.now
        if isinstance(pol, HazardMultiplier):
            entry = (0 if pol.hazard == "failure" else 1, pol.factor, pol.target)
            for st in self.stages:
                if pol.target.stages is not None and st.name not in pol.target.stages:
                    continue
                if on:
                    st.hazard_policies.append(entry)
                else:
                    st.hazard_policies.remove(entry)
                for firm in list(st.residents.values()):
                    if firm.state != _RESIDENT:
                        continue
                    if not _target_matches(pol.target, st.name, firm.carrier, firm.sector, self.sectors):
                        continue
                    self._book(firm, st, now)
                    self._multipliers(firm, st)
                    self._plan(firm, st)
        elif isinstance(pol, CapacityChange):
            for st in self.stages:
                touched = False
                for c in st.carriers:
                    if not _target_matches(pol.target, st.name, c, 0, self.sectors):
                        continue
                    touched = True
                    factor = 1.0
                    for w2 in self.windows:
                        p2 = w2.policy
                        active = (w2.start <= now < w2.end) if w2 is not w else on
                        if (
                            isinstance(p2, CapacityChange)
                            and active
                            and _target_matches(p2.target, st.name, c, 0, self.sectors)
                        ):
                            factor *= p2.factor
                    c.capacity = max(1, int(round(c.base_capacity * factor)))
                    if c.occupancy < c.capacity and c.free_pos < 0:
                        c.free_pos = len(st.free)
                        st.free.append(c)
                    elif c.occupancy >= c.capacity and c.free_pos >= 0:
                        self._drop_free(st, c)
                if touched:
                    self._freed.append(st)
            self._drain()

    # ---------------------------------------------------------------- run
    def run(self) -> SimOutput:
        self._start_policies()
        self._start_sources()
        self.env.run(until=self.horizon)
        return SimOutput(
            log=self.log,
            stage_names=self.stage_names,
            sectors=self.sectors,
            carriers=self.carrier_info,
            firm_source=np.asarray(self.firms_source, dtype=np.int32),
            firm_index=np.asarray(self.firms_index, dtype=np.int64),
            firm_sector=np.asarray(self.firms_sector, dtype=np.int16),
            firm_quality=np.asarray(self.firms_quality, dtype=np.float64),
            firm_birth=np.asarray(self.firms_birth, dtype=np.float64),
            source_names=tuple(a.name for a in self.sc.arrivals)
            + tuple(f"stock:{s.stage}:{i}" for i, s in enumerate(self.sc.initial_stock)),
            horizon=self.horizon,
        )


class _ArrivalStream:
    """Poisson arrivals by inversion of the cumulative intensity: firm n arrives at Lambda^-1(epoch n)."""

    def __init__(
        self,
        model: _Model,
        factory: _FirmFactory,
        entry: int,
        points: list[float],
        rates: list[float],
        cum: list[float],
    ) -> None:
        self.model = model
        self.factory = factory
        self.entry = entry
        self.entry_code = _ARRIVE | _stage(entry) | _info(factory.source)
        self.points = points
        self.rates = rates
        self.cum = cum
        self.n = 0
        self.t = 0.0

    def next(self) -> None:
        """Schedule the next arrival, if it falls before the horizon."""
        epoch = self.factory.draws.epoch(self.n)
        points, rates, cum = self.points, self.rates, self.cum
        i = bisect_right(cum, epoch) - 1
        # Skip zero-rate segments: the epoch is reached in the first later segment with positive rate.
        while rates[i] == 0.0:
            i += 1
            if i >= len(points):
                return
        t = points[i] + (epoch - cum[i]) / rates[i]
        if t >= self.model.horizon:
            return
        self.t = t
        m = self.model
        m._schedule_raw(_Call(self.fire), NORMAL, t - m.env.now)

    def fire(self, _event: simpy.Event) -> None:
        m = self.model
        firm, _in_stage = self.factory.make(self.n, self.t)
        m._row(self.t, firm.id, self.entry_code)
        m._apply(firm, self.entry)
        m._drain()
        self.n += 1
        self.next()


class _FirmFactory:
    """Makes the firms of one source from its firm-indexed draws."""

    def __init__(
        self,
        model: _Model,
        source: int,
        draws: SourceDraws,
        sectors: dict[str, float],
        quality: Any,
        age: Any,
        in_stage: Any,
    ) -> None:
        self.model = model
        self.source = source
        self.draws = draws
        self.sector_ids = [model.sector_index[s] for s in sectors]
        cum = np.cumsum(list(sectors.values()))
        cum[-1] = 1.0
        self.sector_cum = cum.tolist()
        self.quality = quality
        self.age = age
        self.in_stage = in_stage
        self.block = -1
        self.attrs: list[tuple[float, float, float, float]] = []
        fm = model.sc.firms
        self.bf = fm.quality_on_failure
        self.bg = fm.quality_on_graduation

    def _load(self, block: int) -> None:
        d = self.draws
        sec = d.firm_values("sector", block, lambda g, n: g.random(n)).tolist()
        q = d.firm_values("quality", block, self.quality.sample).tolist()
        age = d.firm_values("age", block, self.age.sample).tolist()
        ins = (
            d.firm_values("years_in_stage", block, self.in_stage.sample).tolist()
            if self.in_stage is not None
            else [0.0] * BLOCK
        )
        self.attrs = list(zip(sec, q, age, ins, strict=True))
        self.block = block

    def make(self, n: int, now: float) -> tuple[_Firm, float]:
        """Firm ``n`` of this source, arriving at ``now``; also returns its years already in stage."""
        block, row = divmod(n, BLOCK)
        if block != self.block:
            self._load(block)
        sec_u, q, age, ins = self.attrs[row]
        m = self.model
        f = _Firm()
        fid = len(m.firms_source)
        f.id = fid
        f.source = self.source
        f.index = n
        ids = self.sector_ids
        sector = ids[bisect_right(self.sector_cum, sec_u)] if len(ids) > 1 else ids[0]
        f.sector = sector
        f.quality = q
        f.qf = math.exp(-self.bf * q) if self.bf else 1.0
        f.qg = math.exp(self.bg * q) if self.bg else 1.0
        birth = now - age
        f.birth = birth
        f.draws = self.draws
        m.firms_source.append(self.source)
        m.firms_index.append(n)
        m.firms_sector.append(sector)
        m.firms_quality.append(q)
        m.firms_birth.append(birth)
        return f, min(ins, age)


def simulate(scenario: Scenario, seed: int = 0, replication: int = 0) -> SimOutput:
    """Run one replication of ``scenario`` and return its event log and static facts."""
    return _Model(scenario, seed, replication).run()
