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
* When a slot frees, the stage's waiting list is served first-come first-served (graduates that a
  ``chain_linkage`` policy favours wait on a priority list served first), then blocked firms (in the
  order they blocked) join the list or take the slot. A firm that frees a slot by moving on frees it
  after it has entered its next stage; the freed slots are then filled in the order freed.
* Policies act through hazard multipliers (``hazard_multiplier``; ``rent_relief``, ``specialisation``
  and shocks become multipliers with narrower targets), the arrival intensity, carrier capacities, the
  priority list (``chain_linkage``) and a firm's own factors (``gm_matching``: an ``attribute`` row at
  admission, before the firm's events are planned, so the fast paths need no change); their costs are
  derived from the event log afterwards (:mod:`sim.budget`).
* Ties at the same time resolve in SimPy's order: policy changes first (urgent priority), then events
  in the order they were scheduled. Within a firm, failure beats graduation beats time-out.
* While waiting on a list or blocked, a firm's stage hazards are paused (only patience runs).
* Events after the horizon are never scheduled; firms still active at the horizon are censored.

Speed
-----
The kernel is SimPy, used through callbacks rather than generator processes: a firm's next event is a
pre-triggered event (a small slotted object with what the kernel reads of an event) whose callback is fixed, so
scheduling costs one small object and one heap push. A firm has at most one pending event;
re-planning simply points the firm at a new one and the old one is ignored when the kernel reaches
it. Each event carries its own time, so handlers get ``now`` as an argument and pass it down instead
of asking the environment. Log rows are three list appends, moved to the typed arrays of
:mod:`sim.event_log` a chunk at a time.

Wheel installs compile this module and :mod:`sim.streams` with mypyc (``hatch_build.py``). The
code is written for that: module constants are ``Final`` literals, which the compiled code inlines;
classes are plain typed classes, which become native ones with attributes at fixed offsets; hazards
and policy targets the handlers call are engine classes (:class:`_Hazard`, :class:`_Match`), not
pydantic models. The compiled and interpreted engines write the same bytes
(``tests/reproducibility/test_compiled.py``). The cyclic garbage collector is paused during a run.

The common transitions run in one piece: an arrival that finds room (:meth:`_ArrivalStream.fire`), a
graduation that exits or moves on to a stage with room (:meth:`_Model._on_graduate`), and admission
with exponential hazards on the stay clock (the end of :meth:`_Model._admit`, which is :meth:`_plan`'s
arithmetic). They write the same rows, in the same order, as the general methods they stand for
(:meth:`_apply`, :meth:`_vacate`, :meth:`_exit`, :meth:`_plan`), which handle every other case.

Per-firm state stays small: attributes come from per-block lists of the source, a firm holds the
columns of its block's per-visit draws (not a copy of its numbers), sector and quality are read back
from the sources at the end, and reneging leaves a stale entry on the waiting list (skipped when
reached) instead of searching the list for it. See ``docs/performance.md`` for the measurements.
"""

from __future__ import annotations

import functools
import gc
import itertools
import math
from array import array
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from heapq import heappush
from typing import Any, ClassVar, Final

import numpy as np
import simpy
from simpy.events import NORMAL, URGENT, EventPriority

from .distributions import Exponential, Piecewise, Weibull, _Duration
from .event_log import CARRIER_SHIFT, INFO_SHIFT, STAGE_SHIFT, Ev, EventLog, pack
from .policies import (
    AngelFund,
    ArrivalMultiplier,
    CapacityChange,
    ChainLinkage,
    Competition,
    ConstructionSubsidy,
    GmMatching,
    HazardMultiplier,
    PerformanceSubsidy,
    RentRelief,
    Specialisation,
    Target,
    TaxRelief,
    policy_name,
)
from .scenario import EXIT, LEVELS, Lifecycle, Scenario, rate_steps
from .streams import BLOCK, VISIT_STREAMS, SourceDraws, Streams, VisitColumns

__all__ = ["CARRIER_EVENTS", "COMPILED", "RATINGS", "CarrierInfo", "SimOutput", "Untreated", "simulate"]

COMPILED: bool = not __file__.endswith(".py")
"""True when this module is the mypyc-compiled extension (a wheel install; see hatch_build.py)."""

CARRIER_EVENTS = ("open", "close", "rating", "promote", "demote", "renew")
"""Kinds of carrier life-cycle rows (:attr:`SimOutput.carrier_events`), by code."""
_C_OPEN, _C_CLOSE, _C_RATING, _C_PROMOTE, _C_DEMOTE, _C_RENEW = range(6)
RATINGS = ("unqualified", "qualified", "excellent")
"""Evaluation ratings, by code (the ``info`` of a ``rating`` row)."""

_SIMPY_SCHEDULE = simpy.Environment.schedule

# Constants are Final literals (not names imported or computed at import time) so that the compiled
# engine inlines them instead of looking them up; _check_constants ties them to their sources.
_EXIT: Final = -1
_FAILED: Final = -2
INF: Final = math.inf
_NORMAL: Final = 1  # simpy.events.NORMAL
_URGENT: Final = 0  # simpy.events.URGENT

# Firm states
_TRANSIT: Final = 0
_RESIDENT: Final = 1
_WAITING: Final = 2
_BLOCKED: Final = 3
_DONE: Final = 4

# Row codes (sim.event_log): the bit layout and the event codes of Ev
_STAGE_SHIFT: Final = 5
_CARRIER_SHIFT: Final = 16
_INFO_SHIFT: Final = 40
_ARRIVE: Final = 0
_APPLY: Final = 1
_ADMIT: Final = 2
_REJECT: Final = 3
_WAIT: Final = 4
_RENEGE: Final = 5
_SKIP: Final = 6
_BLOCK: Final = 7
_GRADUATE: Final = 8
_TIME_OUT: Final = 9
_FAIL: Final = 10
_LEAVE: Final = 11
_EXIT_EV: Final = 12
_ATTRIBUTE: Final = 13
_NO_CARRIER: Final = 0  # carrier -1 packed
_I_M1: Final = 1 << _INFO_SHIFT  # info -1 packed
_I_0: Final = 2 << _INFO_SHIFT
_I_1: Final = 3 << _INFO_SHIFT
_I_FAILED: Final = 0 << _INFO_SHIFT
_EXIT_ROW: Final = _EXIT_EV | _I_M1  # stage -1 and carrier -1 pack to 0

# Per-visit draws, in the order of sim.streams.VISIT_STREAMS
_F: Final = 0
_G: Final = 1
_ROUTE: Final = 2
_PICK: Final = 3
_PATIENCE: Final = 4
_SCREEN: Final = 5

_FLUSH_ROWS: Final = 1 << 13  # buffered log rows moved to the event log at a time (see _Model._flush)


def _check_constants() -> None:
    codes = (_ARRIVE, _APPLY, _ADMIT, _REJECT, _WAIT, _RENEGE, _SKIP, _BLOCK, _GRADUATE, _TIME_OUT, _FAIL, _LEAVE,
             _EXIT_EV, _ATTRIBUTE)  # fmt: skip
    ok = (
        codes == tuple(int(e) for e in Ev)
        and (_STAGE_SHIFT, _CARRIER_SHIFT, _INFO_SHIFT) == (STAGE_SHIFT, CARRIER_SHIFT, INFO_SHIFT)
        and (_NORMAL, _URGENT) == (NORMAL, URGENT)
        and pack(_EXIT_EV, -1, -1, -1) == _EXIT_ROW
        and tuple(pack(0, -1, -1, i) for i in (-1, 0, 1, _FAILED)) == (_I_M1, _I_0, _I_1, _I_FAILED)
        and VISIT_STREAMS[:6]
        == ("failure_budget", "graduation_budget", "route", "carrier_pick", "patience_budget", "screen_noise")
    )
    if not ok:
        raise ImportError("sim.engine's constants disagree with sim.event_log, sim.streams or simpy")


_check_constants()


def _info(value: int) -> int:
    return (value + 2) << _INFO_SHIFT


def _stage(value: int) -> int:
    return (value + 1) << _STAGE_SHIFT


def _fire_due(event: _Due) -> None:
    firm = event.firm
    if firm.pending is event:
        firm.pending = None
        event.fn(firm, event.t)


_DUE_CALLBACKS = (_fire_due,)


class _Due:
    """A firm's next event, due at ``t`` years. Stale (ignored) once the firm points at a newer one.

    ``t`` is the kernel's own time for the event (computed as the kernel does, ``now + delay``), so a
    handler receives the current time as an argument instead of asking the environment for it.

    What SimPy's kernel reads of an event it pops off its queue is ``callbacks`` (run, then set to
    None), ``_ok`` and ``_value``: this class has those and the firm's fields, and no more. It does not
    subclass :class:`simpy.Event`, whose instances carry an attribute dictionary: there is one of these
    per firm event, so a small fixed-layout object keeps allocation and memory down.
    """

    __slots__ = ("callbacks", "firm", "fn", "t")

    _ok: ClassVar[bool] = True
    _value: ClassVar[None] = None

    def __init__(self, fn: Callable[[_Firm, float], None], firm: _Firm, t: float) -> None:
        self.callbacks: tuple[Callable[[_Due], None]] | None = _DUE_CALLBACKS  # the kernel sets it to None
        self.fn = fn
        self.firm = firm
        self.t = t


class _Call:
    """An event due at ``t`` years that runs one callback when the kernel reaches it (see :class:`_Due`)."""

    __slots__ = ("callbacks", "t")

    _ok: ClassVar[bool] = True
    _value: ClassVar[None] = None

    def __init__(self, callback: Callable[[_Call], None], t: float) -> None:
        self.callbacks: tuple[Callable[[_Call], None]] | None = (callback,)
        self.t = t


class _Carrier:
    __slots__ = (
        "base_capacity", "capacity", "closed", "code", "free_pos", "id", "level", "local", "mult_f", "mult_g",
        "n_excellent", "n_failed", "n_rated", "occupancy", "opened", "recognised", "specialism", "stage", "unqualified",
    )  # fmt: skip

    def __init__(self, cid: int, stage: int, level: int, specialism: int, capacity: int, local: int) -> None:
        self.id = cid
        self.code = (cid + 1) << _CARRIER_SHIFT
        self.stage = stage
        self.local = local  # number within its stage: the key of its life-cycle draws
        self.level = level
        self.specialism = specialism
        self.base_capacity = capacity
        self.capacity = capacity
        self.occupancy = 0
        self.free_pos = -1
        # Life cycle (see sim.scenario.Lifecycle)
        self.opened = 0.0
        self.closed = INF
        self.recognised = 0.0
        self.n_rated = 0  # evaluations since recognition
        self.n_failed = 0  # unqualified ratings since recognition
        self.n_excellent = 0
        self.unqualified = False  # the last rating
        self.mult_f = 1.0  # service quality paid by a performance subsidy: tenants' hazard factors
        self.mult_g = 1.0


class _Firm:
    """A firm's state. Plain slots: the engine makes one per firm, so this stays small."""

    __slots__ = (
        "angel", "birth", "carrier", "draws", "entry", "gap", "id", "index", "mark", "mult_f", "mult_g", "pending",
        "qf", "qg", "qg_saved", "quality", "row", "sector", "source", "spent_f", "spent_g", "stage", "state", "target",
        "v", "visits",
    )  # fmt: skip

    id: int
    source: int
    index: int  # number within its source: the key of its random draws
    birth: float  # founding time, years (negative if founded before the start)
    sector: int
    quality: float
    qf: float  # quality's factor on the failure hazard
    qg: float  # quality's factor on the graduation hazard (both include a manager match's factors)
    gap: float  # uniform: lacks an experienced manager if below a gm_matching share (2 once matched)
    angel: float  # standard normal noise of an angel fund's signal (-inf once funded)
    draws: SourceDraws
    v: VisitColumns  # the current visit's draws, for the firm's block: its own are at ``row``
    row: int  # index % BLOCK
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
        self.target = -1
        self.qg_saved = -1.0  # >= 0 while an angel investment lifts qg for the current stay: qg before it


@dataclass(frozen=True)
class CarrierInfo:
    """A carrier as set up when it opened (capacity before any policy; level on opening)."""

    id: int
    stage: str
    level: str
    specialism: str | None
    capacity: int
    opened_years: float = 0.0  # 0 for the carriers of the start


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
    # Carrier life cycle: (time, carrier, kind code of CARRIER_EVENTS, level code after the event, info)
    carrier_events: list[tuple[float, int, int, int, int]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)


class _Stage:
    """Run-time state of one stage."""

    def __init__(self, idx: int, name: str) -> None:
        self.idx = idx
        self.name = name
        self.code = _stage(idx)
        self.carriers: list[_Carrier] = []
        self.free: list[_Carrier] = []
        # The waiting list: (firm, its visit number) in arrival order. A firm that reneges leaves its entry
        # behind, stale, to be skipped when reached (removing it from the middle costs the list's length);
        # ``waiting`` counts the live entries.
        self.queue: deque[tuple[_Firm, int]] = deque()
        # Linked graduates (chain_linkage) wait here, served before ``queue``; same stale-entry rule.
        self.priority: deque[tuple[_Firm, int]] = deque()
        self.waiting = 0
        self.blocked: deque[_Firm] = deque()
        self.residents: dict[int, _Firm] = {}
        self.unlimited = True
        self.fail: _Hazard | None = None
        self.grad: _Hazard | None = None
        self.fail_rate = 0.0  # > 0 when the failure hazard is exponential on the stay clock (fast path)
        self.grad_rate = 0.0
        self.exp_only = False  # every hazard of the stage is exponential on the stay clock, or absent
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
        self.patience: _Hazard | None = None
        self.screen_threshold: float | None = None
        self.screen_sd = 0.0
        self.hazard_policies: list[tuple[int, float, _Match]] = []  # (0 fail / 1 grad, factor, target)
        self.life: Lifecycle | None = None
        self.carrier_effects = False  # a performance subsidy can change its carriers' service factors
        self.new_caps: list[int] = []  # capacities and specialisms of the carriers it will open, in order
        self.new_specs: list[int] = []


def _live(entry: tuple[_Firm, int]) -> bool:
    """Whether a waiting-list entry still stands: the firm waits, and for the same visit."""
    firm, visit = entry
    return firm.state == _WAITING and firm.visits == visit


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
    """A policy in force on ``[start, end)`` years (``index``: its place in the scenario's policies)."""

    __slots__ = ("end", "entry", "index", "match", "policy", "start")

    def __init__(self, start: float, end: float, policy: Any, index: int = -1) -> None:
        self.start = start
        self.end = end
        self.policy = policy
        self.index = index
        self.match: _Match | None = None  # the policy's target, if it has one (set by _Model._build_policies)
        # A hazard multiplier's entry in its stages' hazard_policies while in force
        self.entry: tuple[int, float, _Match] | None = None


class _Match:
    """A policy's :class:`Target` as sets of indices: which stage, carrier and sector it reaches."""

    def __init__(self, target: Target, sectors: tuple[str, ...]) -> None:
        t = target
        self.stages: frozenset[str] | None = None if t.stages is None else frozenset(t.stages)
        self.levels: frozenset[int] | None = (
            None if t.levels is None else frozenset(i for i, name in enumerate(LEVELS) if name in t.levels)
        )
        self.specialised = -1 if t.specialised is None else int(t.specialised)  # -1: either
        self.specialism_match = -1 if t.specialism_match is None else int(t.specialism_match)
        self.sectors: frozenset[int] | None = (
            None if t.sectors is None else frozenset(i for i, name in enumerate(sectors) if name in t.sectors)
        )

    def matches(self, stage_name: str, carrier: _Carrier | None, sector: int) -> bool:
        if self.stages is not None and stage_name not in self.stages:
            return False
        if self.levels is not None and (carrier is None or carrier.level not in self.levels):
            return False
        if self.specialised >= 0 and (carrier is None or int(carrier.specialism >= 0) != self.specialised):
            return False
        if self.specialism_match >= 0 and (
            carrier is None or int(carrier.specialism >= 0 and carrier.specialism == sector) != self.specialism_match
        ):
            return False
        return self.sectors is None or sector in self.sectors


def _matches(w: _Window, stage_name: str, carrier: _Carrier | None, sector: int) -> bool:
    """Whether window ``w``'s policy targets this stage, carrier and sector."""
    m = w.match
    if m is None:
        raise AssertionError(f"{type(w.policy).__name__} has no target")
    return m.matches(stage_name, carrier, sector)


def _steps(
    base_times: tuple[float, ...], base_rates: tuple[float, ...], factors: list[tuple[float, float, float]]
) -> tuple[list[float], list[float], list[float]]:
    """A step rate times windowed factors ``(start, end, factor)``: breakpoints, rates, cumulative intensity."""
    points = sorted({0.0, *base_times, *(s for s, _, _ in factors), *(e for _, e, _ in factors if e < INF)})
    rates: list[float] = []
    for t in points:
        rate = base_rates[bisect_right(base_times, t)]
        for start, end, factor in factors:
            if start <= t < end:
                rate *= factor
        rates.append(rate)
    cum = [0.0]
    for i in range(1, len(points)):
        cum.append(cum[-1] + rates[i - 1] * (points[i] - points[i - 1]))
    return points, rates, cum


class _Hazard:
    """A duration's cumulative hazard and its inverse, as the engine calls them: the distribution's own
    methods, or the same arithmetic on plain attributes for the common families (a native call when
    the engine is compiled, instead of a method call on a pydantic model)."""

    def __init__(self, dist: _Duration) -> None:
        self.dist = dist

    def cum_hazard(self, x: float) -> float:
        return self.dist.cum_hazard(x)

    def inv_cum_hazard(self, y: float) -> float:
        return self.dist.inv_cum_hazard(y)


class _PiecewiseHazard(_Hazard):
    """:meth:`Piecewise.cum_hazard` and :meth:`Piecewise.inv_cum_hazard`, statement for statement."""

    def __init__(self, dist: Piecewise) -> None:
        super().__init__(dist)
        self.breaks = list(dist.breaks)
        self.rates = list(dist.rates)
        self.cum = list(dist._cum)
        self.n_breaks = len(dist.breaks)
        self.last_zero = dist.rates[-1] == 0

    def cum_hazard(self, x: float) -> float:
        if x <= 0:
            return 0.0
        i = bisect_right(self.breaks, x)
        start = self.breaks[i - 1] if i > 0 else 0.0
        return self.cum[i] + self.rates[i] * (x - start)

    def inv_cum_hazard(self, y: float) -> float:
        if y <= 0:
            return 0.0
        cum = self.cum
        i = bisect_left(cum, y) - 1
        if i >= self.n_breaks and self.last_zero:
            return INF
        start = self.breaks[i - 1] if i > 0 else 0.0
        return start + (y - cum[i]) / self.rates[i]


class _ExponentialHazard(_Hazard):
    """:meth:`Exponential.cum_hazard` and :meth:`Exponential.inv_cum_hazard`."""

    def __init__(self, dist: Exponential) -> None:
        super().__init__(dist)
        self.rate = dist.rate

    def cum_hazard(self, x: float) -> float:
        return self.rate * x

    def inv_cum_hazard(self, y: float) -> float:
        return y / self.rate


class _WeibullHazard(_Hazard):
    """:meth:`Weibull.cum_hazard` and :meth:`Weibull.inv_cum_hazard`."""

    def __init__(self, dist: Weibull) -> None:
        super().__init__(dist)
        self.scale = dist.scale
        self.shape = dist.shape

    def cum_hazard(self, x: float) -> float:
        return float((x / self.scale) ** self.shape) if x > 0 else 0.0

    def inv_cum_hazard(self, y: float) -> float:
        return float(self.scale * y ** (1.0 / self.shape))


def _hazard(dist: _Duration | None) -> _Hazard | None:
    if dist is None:
        return None
    if isinstance(dist, Piecewise):
        return _PiecewiseHazard(dist)
    if isinstance(dist, Exponential):
        return _ExponentialHazard(dist)
    if isinstance(dist, Weibull):
        return _WeibullHazard(dist)
    return _Hazard(dist)


def _time_to(dist: _Hazard, clock0: float, budget_left: float, mult: float) -> float:
    """Years from clock value ``clock0`` until ``mult * (H(clock) - H(clock0))`` reaches the budget."""
    if mult <= 0.0:
        return INF
    return dist.inv_cum_hazard(dist.cum_hazard(clock0) + budget_left / mult) - clock0


class Untreated:
    """The programme switched off for the same admissions (the counterfactual of :mod:`sim.decomposition`).

    ``stage`` names the programme stage; ``stays`` maps ``(source, number, n)`` -- a firm's ``n``-th
    admission there, counted from 0 -- to the time (years) that stay ended in the factual world (``inf``
    if it had not ended by the horizon). A firm admitted to the stage is admitted exactly as before (the
    same rows, the same slot), then leaves it at once for the stage's fallback, as a turned-away firm
    would: it gets nothing of the programme (its hazards, graduation, onward route, or any policy aimed
    at its tenants). Its slot stays taken until the factual stay's end, so the stage's slots free at the
    same times and the same firms get in. A firm admitted without a factual stay (admissions can differ
    where the outside option feeds back into the stage) frees its slot at once; ``unmatched`` counts them.
    """

    def __init__(self, stage: str, stays: dict[tuple[int, int, int], float]) -> None:
        self.stage = stage
        self.stays = stays
        self.admissions: dict[int, int] = {}  # firm id -> admissions to the stage so far
        self.unmatched = 0


class _Model:
    def __init__(self, sc: Scenario, seed: int, replication: int, untreated: Untreated | None = None) -> None:
        self.sc = sc
        self.env = simpy.Environment()
        self.streams = Streams(seed, replication)
        self.log = EventLog()
        # Rows go to lists first and reach the log's typed arrays a chunk at a time (_flush): appending a
        # Python int to an array('q') parses it as a function argument, several times the cost of a list append.
        self._bt: list[float] = []
        self._bf: list[int] = []
        self._bc: list[int] = []
        self.horizon = sc.calendar.horizon_years
        self.stage_names = sc.stage_names
        self.stage_index = {n: i for i, n in enumerate(self.stage_names)}
        sectors: list[str] = list(sc.firms.sectors)
        for a in sc.arrivals:
            sectors += [s for s in (a.sectors or {}) if s not in sectors]
        for s in sc.initial_stock:
            sectors += [x for x in (s.sectors or {}) if x not in sectors]
        for pol in sc.policies:
            if isinstance(pol, Competition):
                sectors += [x for x in (pol.sectors or {}) if x not in sectors]
        self.sectors = tuple(sectors)
        self.sector_index = {s: i for i, s in enumerate(self.sectors)}
        self.stages = [_Stage(i, n) for i, n in enumerate(self.stage_names)]
        self.carriers: list[_Carrier] = []
        self.carrier_info: list[CarrierInfo] = []
        # Per firm (by id): its source, its number there and its founding time. Sector and quality are
        # read back from the sources' draws at the end (they are keyed by source and number).
        self.firms_source = array("i")
        self.firms_index = array("q")
        self.firms_birth = array("d")
        self.factories: list[_FirmFactory] = []
        self._freed: deque[_Stage] = deque()
        self._draining = False
        self.windows: list[_Window] = []
        # chain_linkage in force: (from stage, to stage) -> number of windows open
        self.links: dict[tuple[int, int], int] = {}
        self._graduating: _Firm | None = None  # the firm whose graduation is being routed (general path)
        self.matching: list[_Window] = []  # gm_matching windows in force, in scenario order
        self.gap_share = 0.0  # > 0: firms draw the manager_gap attribute
        self.angels: list[_Window] = []  # angel_fund windows in force, in scenario order
        self.angel_draws = False  # firms draw the angel_signal noise
        self.angel_spent: dict[tuple[int, int], float] = {}  # (policy index, policy year) -> yuan invested
        self.angel_index = {i for i, p in enumerate(sc.policies) if isinstance(p, AngelFund)}
        self.carrier_events: list[tuple[float, int, int, int, int]] = []
        self._eval_row = 0  # first log row of the current evaluation year
        self._occ_start: list[int] = []  # carriers' occupancy at the last evaluation (by id)
        self.untreated = untreated
        self.untreated_stage = -1 if untreated is None else self.stage_index[untreated.stage]
        self._build_stages()
        self._build_policies()
        # SimPy's own queue, filled as Environment.schedule fills it (the same tuple, the same sequence
        # numbers) without a Python call per event; Environment.schedule itself if SimPy's internals differ.
        env = self.env
        plain = type(env).schedule is _SIMPY_SCHEDULE
        queue = getattr(env, "_queue", None)
        eid = getattr(env, "_eid", None)
        self._queue: list[tuple[float, int, int, _Due | _Call]] | None = (
            queue if plain and isinstance(queue, list) and isinstance(eid, itertools.count) else None
        )
        self._eid: Iterator[int] = eid if isinstance(eid, itertools.count) else itertools.count()
        # Bound once: looking a method up on ``self`` makes a new bound-method object every time.
        self._fail_fn = self._on_fail
        self._grad_fn = self._on_graduate
        self._timeout_fn = self._on_timeout
        self._renege_fn = self._renege

    # ---------------------------------------------------------------- set-up
    def _build_stages(self) -> None:
        sc = self.sc
        for st, spec in zip(self.stages, sc.stages.values(), strict=True):
            st.fail = _hazard(spec.failure)
            st.grad = _hazard(spec.graduation)
            st.fail_age = spec.failure_clock == "age"
            st.grad_age = spec.graduation_clock == "age"
            if isinstance(spec.failure, Exponential) and not st.fail_age:
                st.fail_rate = spec.failure.rate
            if isinstance(spec.graduation, Exponential) and not st.grad_age:
                st.grad_rate = spec.graduation.rate
            st.exp_only = (st.fail is None or st.fail_rate > 0.0) and (st.grad is None or st.grad_rate > 0.0)
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
            st.patience = _hazard(adm.patience)
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
            levels = [LEVELS.index(lev_names[int(np.searchsorted(lev_cum, u, side="right"))]) for u in g_lev.random(n)]
            g_spec = self.streams.generator("carrier_specialism", st.idx)
            u_spec = g_spec.random((n, 2))
            st.life = car.lifecycle
            recognised = (
                -self.streams.generator("carrier_recognised", st.idx).random(n) * car.lifecycle.recognition_years
                if car.lifecycle is not None
                else np.zeros(n)
            )
            for i in range(n):
                c = self._add_carrier(st, levels[i], self._specialism(u_spec[i], car.specialised_share), caps[i])
                c.recognised = float(recognised[i])

    def _specialism(self, u: np.ndarray, share: float) -> int:
        """A carrier's specialism (sector index, -1 for none) from its two uniforms."""
        if u[0] >= share:
            return -1
        shares = self.sc.firms.sectors
        cum = np.cumsum(list(shares.values()))
        j = min(int(np.searchsorted(cum, u[1], side="right")), len(cum) - 1)
        return self.sector_index[list(shares)[j]]

    def _add_carrier(self, st: _Stage, level: int, specialism: int, capacity: int, now: float = 0.0) -> _Carrier:
        c = _Carrier(len(self.carriers), st.idx, level, specialism, capacity, len(st.carriers))
        c.opened = now
        c.recognised = now
        self.carriers.append(c)
        st.carriers.append(c)
        c.free_pos = len(st.free)
        st.free.append(c)
        self.carrier_info.append(
            CarrierInfo(
                c.id, st.name, LEVELS[level], self.sectors[specialism] if specialism >= 0 else None, capacity, now
            )
        )
        return c

    def _visit_streams(self) -> tuple[str, ...]:
        """The per-visit streams this scenario can ever read (the others are not drawn)."""
        st = self.stages
        use = {
            "failure_budget": any(x.fail is not None for x in st),
            "graduation_budget": any(x.grad is not None for x in st),
            "route": any(len(x.grad_dest) > 1 or len(x.out_dest) > 1 for x in st),
            "carrier_pick": any(len(x.carriers) > 1 or x.new_caps for x in st),
            "patience_budget": any(x.patience is not None for x in st),
            "screen_noise": any(x.screen_threshold is not None for x in st),
        }
        return tuple(name for name in VISIT_STREAMS if use[name])

    def _build_policies(self) -> None:
        """Policy windows in scenario order, then shocks; rent relief and shocks act as hazard multipliers.

        A multiplier of exactly 1 is left out: it would change nothing but the rounding of re-timed
        events, and a policy without effect must reproduce the baseline log exactly.
        """
        cal = self.sc.calendar
        for index, pol in enumerate(self.sc.policies):
            start = max(0.0, cal.years_since_start(pol.start)) if pol.start is not None else 0.0
            end = cal.years_since_start(pol.end) if pol.end is not None else INF
            if start >= self.horizon or end <= start:
                continue
            if isinstance(pol, RentRelief):
                if pol.failure_factor != 1.0:
                    # Tenants only: a target with every level matches firms holding a carrier slot.
                    tenants = pol.target.model_copy(update={"levels": pol.target.levels or LEVELS})
                    relief = {"hazard": "failure", "factor": pol.failure_factor, "target": tenants}
                    hm = HazardMultiplier.model_validate(relief)
                    self.windows.append(_Window(start, end, hm))
                continue
            if isinstance(pol, Specialisation):
                matched = pol.target.model_copy(update={"specialism_match": True})
                for hazard, factor in (("failure", pol.failure_factor), ("graduation", pol.graduation_factor)):
                    if factor != 1.0:
                        hm = HazardMultiplier.model_validate({"hazard": hazard, "factor": factor, "target": matched})
                        self.windows.append(_Window(start, end, hm))
                continue
            if isinstance(pol, Competition):
                continue  # a firm source of its own (see _start_sources)
            if isinstance(pol, ConstructionSubsidy | TaxRelief):
                self.windows.append(_Window(start, end, pol, index))  # read by the carrier life cycle
                continue
            if isinstance(pol, PerformanceSubsidy):
                if pol.failure_factor != 1.0 or pol.graduation_factor != 1.0:
                    for st in self.stages:
                        if st.life is not None and (pol.target.stages is None or st.name in pol.target.stages):
                            st.carrier_effects = True
                self.windows.append(_Window(start, end, pol, index))
                continue
            if isinstance(pol, AngelFund):
                if not (pol.graduation_factor == 1.0 and pol.amount_per_firm_yuan == 0):
                    self.angel_draws = True
                    self.windows.append(_Window(start, end, pol, index))
                continue
            if isinstance(pol, GmMatching):
                no_effect = pol.failure_factor == 1.0 and pol.graduation_factor == 1.0
                if pol.share_lacking > 0 and not (no_effect and pol.cost_per_match_yuan == 0):
                    self.gap_share = max(self.gap_share, pol.share_lacking)
                    self.windows.append(_Window(start, end, pol, index))
                continue
            if not isinstance(pol, ChainLinkage) and pol.factor == 1.0:
                continue  # no effect (its cost, if any, is the ledger's business)
            self.windows.append(_Window(start, end, pol))
        for shock in self.sc.shocks:
            start = max(0.0, cal.years_since_start(shock.start))
            end = cal.years_since_start(shock.end)
            if start >= self.horizon or end <= start:
                continue
            for hazard, default, by_sector in (
                ("failure", shock.failure_factor, shock.failure_by_sector),
                ("graduation", shock.graduation_factor, shock.graduation_by_sector),
            ):
                groups: dict[float, list[str]] = {}
                for sector in self.sectors:
                    groups.setdefault(by_sector.get(sector, default), []).append(sector)
                for factor, sectors in groups.items():
                    if factor != 1.0:
                        target = Target.model_validate({"sectors": tuple(sectors)})
                        pol = HazardMultiplier.model_validate({"hazard": hazard, "factor": factor, "target": target})
                        self.windows.append(_Window(start, end, pol))
        for w in self.windows:
            aim = getattr(w.policy, "target", None)
            if isinstance(aim, Target):
                w.match = _Match(aim, self.sectors)
            if isinstance(w.policy, HazardMultiplier) and w.match is not None:
                w.entry = (0 if w.policy.hazard == "failure" else 1, w.policy.factor, w.match)

    # ---------------------------------------------------------------- sources
    def _arrival_steps(
        self, name: str, base_times: tuple[float, ...], base_rates: tuple[float, ...]
    ) -> tuple[list[float], list[float], list[float]]:
        """Breakpoints, rates and cumulative intensity of an arrival source (policies included)."""
        factors = [
            (w.start, w.end, w.policy.factor)
            for w in self.windows
            if isinstance(w.policy, ArrivalMultiplier) and (w.policy.arrivals is None or name in w.policy.arrivals)
        ]
        return _steps(base_times, base_rates, factors)

    def _start_sources(self) -> None:
        sc = self.sc
        n_arr = len(sc.arrivals)
        visit_streams = self._visit_streams()
        # Competitions first in time order of set-up, but numbered after every arrival and stock source.
        s = n_arr + len(sc.initial_stock)
        cal = sc.calendar
        for pol in sc.policies:
            if not isinstance(pol, Competition):
                continue
            factory = _FirmFactory(
                self,
                s,
                SourceDraws(self.streams, s, visit_streams),
                pol.sectors or sc.firms.sectors,
                pol.quality,
                pol.age_years,
                None,
            )
            self.factories.append(factory)
            s += 1
            start = cal.years_since_start(pol.start) if pol.start is not None else 0.0
            end = cal.years_since_start(pol.end) if pol.end is not None else INF
            entry = self.stage_index[pol.stage]
            made = 0
            for date in sorted(pol.dates):
                t = cal.years_since_start(date)
                if 0.0 <= t < self.horizon and start <= t < end and pol.winners_per_event > 0:
                    self._schedule(t, functools.partial(self._intake, factory, entry, made, pol.winners_per_event), 0.0)
                    made += pol.winners_per_event
        for s, arr in enumerate(sc.arrivals):
            times, rates = arr.rate_steps(sc.calendar)
            points, prates, cum = self._arrival_steps(arr.name, times, rates)
            factory = _FirmFactory(
                self,
                s,
                SourceDraws(self.streams, s, visit_streams),
                arr.sectors or sc.firms.sectors,
                arr.quality or sc.firms.quality,
                arr.age_years,
                None,
            )
            self.factories.append(factory)
            _ArrivalStream(self, factory, self.stage_index[arr.stage], points, prates, cum).next(0.0)
        for j, stock in enumerate(sc.initial_stock):
            s = n_arr + j
            factory = _FirmFactory(
                self,
                s,
                SourceDraws(self.streams, s, visit_streams),
                stock.sectors or sc.firms.sectors,
                stock.quality or sc.firms.quality,
                stock.age_years,
                stock.years_in_stage,
            )
            self.factories.append(factory)
            entry = self.stage_index[stock.stage]
            code = _ARRIVE | _stage(entry) | _info(s)
            for n in range(stock.count):
                firm, in_stage = factory.make(n, 0.0)
                self._row(0.0, firm.id, code)
                firm.entry = -in_stage
                self._apply(firm, entry, 0.0, from_stock=True)
                if len(self._bc) >= _FLUSH_ROWS:
                    self._flush()
                if self._freed:
                    self._drain(0.0)

    def _intake(self, factory: _FirmFactory, entry: int, first: int, count: int, event: _Call) -> None:
        """A competition's intake: ``count`` firms numbered from ``first`` arrive and are fast-tracked."""
        now = event.t
        st = self.stages[entry]
        code = _ARRIVE | st.code | _info(factory.source)
        for n in range(first, first + count):
            firm, _ = factory.make(n, now)
            self._row(now, firm.id, code)
            k = firm.visits
            firm.visits = k + 1
            firm.v = firm.draws.visit_columns(firm.index, k)
            self._row(now, firm.id, _APPLY | st.code | (k + 2) << _INFO_SHIFT)
            if st.unlimited or st.free:
                self._admit(firm, st, 0, now)
            elif st.waiting < st.queue_limit:
                self._enqueue(firm, st, now, front=True)
            else:
                self._row(now, firm.id, _SKIP | st.code | _info(st.fallback))
                self._to_fallback(firm, st, now)
            if self._freed:
                self._drain(now)

    # ---------------------------------------------------------------- helpers
    def _flush(self) -> None:
        """Move the buffered rows into the event log."""
        log = self.log
        log.time.frombytes(np.array(self._bt, dtype=np.float64).tobytes())
        log.firm.frombytes(np.array(self._bf, dtype=np.int64).tobytes())
        log.code.frombytes(np.array(self._bc, dtype=np.int64).tobytes())
        self._bt.clear()
        self._bf.clear()
        self._bc.clear()

    def _row(self, t: float, firm: int, code: int) -> None:
        self._bt.append(t)
        self._bf.append(firm)
        self._bc.append(code)

    def _schedule_raw(self, event: _Due | _Call, priority: int, delay: float) -> None:
        """``self.env.schedule(event, priority, delay)``."""
        queue = self._queue
        if queue is not None:
            heappush(queue, (self.env._now + delay, priority, next(self._eid), event))
        else:
            self.env.schedule(event, EventPriority(priority), delay)  # type: ignore[arg-type]  # duck-typed event

    def _schedule(self, t: float, callback: Callable[[_Call], None], now: float, priority: int = _NORMAL) -> None:
        """Run ``callback(event)`` at time ``t`` (years); ``event.t`` is that time."""
        delay = t - now
        self._schedule_raw(_Call(callback, now + delay), priority, delay)

    def _drain(self, now: float) -> None:
        """Fill slots freed during the last action, in the order they were freed.

        For each stage: serve the waiting list, then blocked firms, while the stage has room.
        """
        if self._draining or not self._freed:
            return
        self._draining = True
        freed = self._freed
        while freed:
            st = freed.popleft()
            blocked = st.blocked
            while True:
                if st.free and st.waiting:
                    self._admit(self._next_waiting(st), st, 1, now)
                elif blocked and (st.free or st.waiting < st.queue_limit):
                    firm = blocked.popleft()
                    self._vacate(firm, st.idx, now)
                    if st.free and not st.waiting:
                        self._admit(firm, st, 0, now)
                    else:
                        self._enqueue(firm, st, now)
                else:
                    break
        self._draining = False

    # ---------------------------------------------------------------- admission
    def _apply(self, firm: _Firm, j: int, now: float, can_block: bool = False, from_stock: bool = False) -> None:
        """Firm asks to enter stage ``j`` (it may still hold a slot elsewhere if ``can_block``)."""
        st = self.stages[j]
        k = firm.visits
        firm.visits = k + 1
        v = firm.v = firm.draws.visit_columns(firm.index, k)
        fid = firm.id
        self._bt.append(now)
        self._bf.append(fid)
        self._bc.append(_APPLY | st.code | (k + 2) << _INFO_SHIFT)
        if (
            st.screen_threshold is not None
            and not from_stock
            and firm.quality + st.screen_sd * v[_SCREEN][firm.row] < st.screen_threshold
        ):
            self._row(now, fid, _REJECT | st.code | _info(st.fallback))
            self._vacate(firm, st.fallback, now)
            self._to_fallback(firm, st, now)
            return
        if st.unlimited or st.free:
            if firm.state != _TRANSIT:
                self._vacate(firm, j, now)
            self._admit(firm, st, 0, now, from_stock)
        elif st.waiting < st.queue_limit:
            self._vacate(firm, j, now)
            self._enqueue(firm, st, now)
        elif can_block and st.can_block and firm.state == _RESIDENT:
            firm.state = _BLOCKED
            firm.target = j
            firm.pending = None  # pause the stage's hazards
            st.blocked.append(firm)
            c = firm.carrier
            self._row(now, fid, _BLOCK | self.stages[firm.stage].code | (c.code if c else 0) | _info(j))
        else:
            self._row(now, fid, _SKIP | st.code | _info(st.fallback))
            self._vacate(firm, st.fallback, now)
            self._to_fallback(firm, st, now)

    def _to_fallback(self, firm: _Firm, st: _Stage, now: float) -> None:
        if st.fallback == _EXIT:
            self._exit(firm, now)
        else:
            self._apply(firm, st.fallback, now)

    def _exit(self, firm: _Firm, now: float) -> None:
        firm.state = _DONE
        firm.pending = None
        self._row(now, firm.id, _EXIT_ROW)

    def _vacate(self, firm: _Firm, dest: int, now: float) -> None:
        """The firm leaves the slot it holds (if any), heading to ``dest``."""
        state = firm.state
        if state != _RESIDENT and state != _BLOCKED:
            return
        st = self.stages[firm.stage]
        c = firm.carrier
        self._bt.append(now)
        self._bf.append(firm.id)
        self._bc.append(_LEAVE | st.code | (c.code if c is not None else 0) | (dest + 2) << _INFO_SHIFT)
        self._release(firm, st, c)

    def _release(self, firm: _Firm, st: _Stage, c: _Carrier | None) -> None:
        """State changes of leaving stage ``st`` and carrier ``c`` (the row is the caller's)."""
        del st.residents[firm.id]
        firm.state = _TRANSIT
        firm.pending = None
        if firm.qg_saved >= 0.0:
            firm.qg = firm.qg_saved  # the investment's push ends with the stay
            firm.qg_saved = -1.0
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

    def _admit(self, firm: _Firm, st: _Stage, from_queue: int, now: float, from_stock: bool = False) -> None:
        if st.unlimited:
            c = None
            ccode = 0
        else:
            free = st.free
            n_free = len(free)
            c = free[0] if n_free == 1 else free[int(firm.v[_PICK][firm.row] * n_free)]
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
        self._bt.append(now)
        self._bf.append(firm.id)
        self._bc.append(_ADMIT | st.code | ccode | (_I_1 if from_queue else _I_0))
        if st.idx == self.untreated_stage:
            self._untreated_stay(firm, st, c, now)
            return
        if self.matching and firm.gap < self.gap_share:
            self._match(firm, st, c, now)
        if self.angels and firm.angel > -INF:
            self._invest(firm, st, c, now)
        if st.hazard_policies or st.carrier_effects:
            self._multipliers(firm, st)
            self._plan(firm, st, now)
            return
        mf = firm.mult_f = firm.qf
        mg = firm.mult_g = firm.qg
        if not st.exp_only:
            self._plan(firm, st, now)
            return
        # _plan's arithmetic, inlined for the common case: exponential hazards on the stay clock and
        # nothing booked yet. Ties: failure beats graduation beats time-out.
        v = firm.v
        row = firm.row
        t = firm.entry + st.max_stay
        fn = self._timeout_fn
        if st.grad_rate > 0.0 and mg > 0.0:
            t_g = now + v[_G][row] / (st.grad_rate * mg)
            if t_g <= t:
                t, fn = t_g, self._grad_fn
        if st.fail_rate > 0.0 and mf > 0.0:
            t_f = now + v[_F][row] / (st.fail_rate * mf)
            if t_f <= t:
                t, fn = t_f, self._fail_fn
        if t < self.horizon:
            delay = t - now if t > now else 0.0
            ev = _Due(fn, firm, now + delay)
            firm.pending = ev
            self._schedule_raw(ev, _NORMAL, delay)
        else:
            firm.pending = None

    def _untreated_stay(self, firm: _Firm, st: _Stage, c: _Carrier | None, now: float) -> None:
        """An admitted firm leaves for the fallback at once; its slot stays held as in the factual world.

        See :class:`Untreated`.
        """
        u = self.untreated
        assert u is not None
        n = u.admissions.get(firm.id, 0)
        u.admissions[firm.id] = n + 1
        end = u.stays.get((firm.source, firm.index, n))
        if end is None:
            u.unmatched += 1
            end = now
        self._row(now, firm.id, _LEAVE | st.code | (c.code if c is not None else 0) | _info(st.fallback))
        del st.residents[firm.id]
        firm.state = _TRANSIT
        firm.carrier = None
        if c is not None and end < self.horizon:
            self._schedule(end, functools.partial(self._free_slot, st, c), now)
        self._to_fallback(firm, st, now)

    def _free_slot(self, st: _Stage, c: _Carrier, event: _Call) -> None:
        """A slot held for an untreated firm's factual stay frees (:class:`Untreated`)."""
        c.occupancy -= 1
        if c.free_pos < 0 and c.occupancy < c.capacity:
            c.free_pos = len(st.free)
            st.free.append(c)
        self._freed.append(st)
        self._drain(event.t)

    def _match(self, firm: _Firm, st: _Stage, c: _Carrier | None, now: float) -> None:
        """gm_matching: a lacking firm entering a targeted stage gets a manager (before its events are planned)."""
        for w in self.matching:
            pol = w.policy
            if firm.gap < pol.share_lacking and _matches(w, st.name, c, firm.sector):
                self._row(now, firm.id, _ATTRIBUTE | st.code | (c.code if c is not None else 0) | _info(w.index))
                firm.qf *= pol.failure_factor
                firm.qg *= pol.graduation_factor
                firm.gap = 2.0
                return

    def _invest(self, firm: _Firm, st: _Stage, c: _Carrier | None, now: float) -> None:
        """angel_fund: fund a firm whose signal passes, while the policy year's budget lasts."""
        for w in self.angels:
            pol = w.policy
            if firm.quality + pol.noise_sd * firm.angel < pol.threshold:
                continue
            if not _matches(w, st.name, c, firm.sector):
                continue
            if pol.budget_per_year_yuan is not None:
                key = (w.index, int((now - w.start) // 1.0))
                spent = self.angel_spent.get(key, 0.0)
                if spent + pol.amount_per_firm_yuan > pol.budget_per_year_yuan:
                    continue
                self.angel_spent[key] = spent + pol.amount_per_firm_yuan
            self._row(now, firm.id, _ATTRIBUTE | st.code | (c.code if c is not None else 0) | _info(w.index))
            firm.qg_saved = firm.qg
            firm.qg *= pol.graduation_factor
            firm.angel = -INF
            return

    @staticmethod
    def _next_waiting(st: _Stage) -> _Firm:
        """Take the first live firm off the stage's waiting list (``st.waiting`` must be > 0)."""
        priority = st.priority
        while priority:
            entry = priority.popleft()
            if _live(entry):
                st.waiting -= 1
                return entry[0]
        queue = st.queue
        while True:
            entry = queue.popleft()
            if _live(entry):
                st.waiting -= 1
                return entry[0]

    def _enqueue(self, firm: _Firm, st: _Stage, now: float, front: bool = False) -> None:
        firm.state = _WAITING
        firm.target = st.idx
        firm.pending = None
        if front or (self._graduating is firm and (firm.stage, st.idx) in self.links):
            st.priority.append((firm, firm.visits))
        else:
            st.queue.append((firm, firm.visits))
        st.waiting += 1
        self._row(now, firm.id, _WAIT | st.code | _info(st.waiting))
        if st.patience is not None:
            t = now + st.patience.inv_cum_hazard(firm.v[_PATIENCE][firm.row])
            if t < self.horizon:
                self._due(t, self._renege_fn, firm, now)

    def _renege(self, firm: _Firm, now: float) -> None:
        if firm.state != _WAITING:
            return
        st = self.stages[firm.target]
        firm.state = _TRANSIT  # its entry on the list is now stale
        st.waiting -= 1
        if len(st.queue) > 2 * st.waiting + 64:
            st.queue = deque(e for e in st.queue if _live(e))
        if len(st.priority) > 2 * st.waiting + 64:
            st.priority = deque(e for e in st.priority if _live(e))
        self._row(now, firm.id, _RENEGE | st.code | _info(st.fallback))
        self._to_fallback(firm, st, now)
        self._drain(now)
        if len(self._bc) >= _FLUSH_ROWS:
            self._flush()

    # ---------------------------------------------------------------- hazards
    def _due(self, t: float, fn: Callable[[_Firm, float], None], firm: _Firm, now: float) -> None:
        """Make ``fn(firm, t)`` at ``t >= now`` years the firm's one pending event."""
        delay = t - now if t > now else 0.0
        ev = _Due(fn, firm, now + delay)  # the kernel's own sum, so ``ev.t`` is the kernel's time then
        firm.pending = ev
        self._schedule_raw(ev, _NORMAL, delay)

    def _multipliers(self, firm: _Firm, st: _Stage) -> None:
        mf, mg = firm.qf, firm.qg
        for which, factor, target in st.hazard_policies:
            if target.matches(st.name, firm.carrier, firm.sector):
                if which == 0:
                    mf *= factor
                else:
                    mg *= factor
        c = firm.carrier
        if c is not None and st.carrier_effects:
            mf *= c.mult_f
            mg *= c.mult_g
        firm.mult_f = mf
        firm.mult_g = mg

    def _plan(self, firm: _Firm, st: _Stage, now: float) -> None:
        """Schedule the firm's next residence event from its budgets left (``now`` is its mark)."""
        v = firm.v
        row = firm.row
        t_f = t_g = INF
        if st.fail_rate > 0.0:
            m = firm.mult_f
            if m > 0.0:
                t_f = now + (v[_F][row] - firm.spent_f) / (st.fail_rate * m)
        elif st.fail is not None:
            clock0 = (now - firm.birth) if st.fail_age else (now - firm.entry)
            t_f = now + _time_to(st.fail, clock0, v[_F][row] - firm.spent_f, firm.mult_f)
        if st.grad_rate > 0.0:
            m = firm.mult_g
            if m > 0.0:
                t_g = now + (v[_G][row] - firm.spent_g) / (st.grad_rate * m)
        elif st.grad is not None:
            clock0 = (now - firm.birth) if st.grad_age else (now - firm.entry)
            t_g = now + _time_to(st.grad, clock0, v[_G][row] - firm.spent_g, firm.mult_g)
        t_o = firm.entry + st.max_stay
        if t_f <= t_g and t_f <= t_o:
            t, fn = t_f, self._fail_fn
        elif t_g <= t_o:
            t, fn = t_g, self._grad_fn
        else:
            t, fn = t_o, self._timeout_fn
        if t < self.horizon:
            delay = t - now if t > now else 0.0
            ev = _Due(fn, firm, now + delay)
            firm.pending = ev
            self._schedule_raw(ev, _NORMAL, delay)
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
    def _on_fail(self, firm: _Firm, now: float) -> None:
        st = self.stages[firm.stage]
        c = firm.carrier
        self._row(now, firm.id, _FAIL | st.code | (c.code if c is not None else 0) | _I_M1)
        self._vacate(firm, _FAILED, now)
        firm.state = _DONE
        if self._freed:
            self._drain(now)
        if len(self._bc) >= _FLUSH_ROWS:
            self._flush()

    def _on_graduate(self, firm: _Firm, now: float) -> None:
        st = self.stages[firm.stage]
        gd = st.grad_dest
        dest = gd[bisect_right(st.grad_cum, firm.v[_ROUTE][firm.row])] if len(gd) > 1 else gd[0]
        c = firm.carrier
        fid = firm.id
        ccode = c.code if c is not None else 0
        bt, bf, bc = self._bt, self._bf, self._bc
        if dest == _EXIT:
            # The common cases in one piece; rows and state changes are those of _move -> _vacate ->
            # _exit, and of _move -> _apply -> _vacate -> _admit when the next stage has room.
            bt.append(now)
            bf.append(fid)
            bc.append(_GRADUATE | st.code | ccode | _I_M1)
            bt.append(now)
            bf.append(fid)
            bc.append(_LEAVE | st.code | ccode | _I_M1)
            bt.append(now)
            bf.append(fid)
            bc.append(_EXIT_ROW)
            self._release(firm, st, c)
            firm.state = _DONE
        else:
            nxt = self.stages[dest]
            if nxt.screen_threshold is not None or not (nxt.unlimited or nxt.free):
                self._row(now, fid, _GRADUATE | st.code | ccode | (dest + 2) << _INFO_SHIFT)
                self._graduating = firm
                self._apply(firm, dest, now, can_block=True)
                self._graduating = None
                if self._freed:
                    self._drain(now)
                return
            k = firm.visits
            firm.visits = k + 1
            firm.v = firm.draws.visit_columns(firm.index, k)
            info = (dest + 2) << _INFO_SHIFT
            bt.append(now)
            bf.append(fid)
            bc.append(_GRADUATE | st.code | ccode | info)
            bt.append(now)
            bf.append(fid)
            bc.append(_APPLY | nxt.code | (k + 2) << _INFO_SHIFT)
            bt.append(now)
            bf.append(fid)
            bc.append(_LEAVE | st.code | ccode | info)
            self._release(firm, st, c)
            self._admit(firm, nxt, 0, now)
        if self._freed:
            self._drain(now)
        if len(self._bc) >= _FLUSH_ROWS:
            self._flush()

    def _on_timeout(self, firm: _Firm, now: float) -> None:
        st = self.stages[firm.stage]
        dest = _pick(st.out_cum, st.out_dest, firm.v[_ROUTE][firm.row])
        c = firm.carrier
        self._row(now, firm.id, _TIME_OUT | st.code | (c.code if c is not None else 0) | _info(dest))
        self._move(firm, dest, now)
        if len(self._bc) >= _FLUSH_ROWS:
            self._flush()

    def _move(self, firm: _Firm, dest: int, now: float) -> None:
        if dest == _EXIT:
            self._vacate(firm, _EXIT, now)
            self._exit(firm, now)
        else:
            self._apply(firm, dest, now, can_block=True)
        if self._freed:
            self._drain(now)

    # ---------------------------------------------------------------- policies
    def _start_policies(self) -> None:
        """One event per distinct time at which windows open or close, applying them in scenario order."""
        edges: dict[float, list[tuple[_Window, bool]]] = {}
        for w in self.windows:
            if isinstance(w.policy, ArrivalMultiplier | ConstructionSubsidy | PerformanceSubsidy | TaxRelief):
                continue  # folded into the arrival intensity, or read by the carrier life cycle
            edges.setdefault(w.start, []).append((w, True))
            if w.end < self.horizon:
                edges.setdefault(w.end, []).append((w, False))
        for t in sorted(edges):
            self._schedule(t, functools.partial(self._policy_changes, edges[t]), 0.0, _URGENT)

    def _policy_changes(self, changes: list[tuple[_Window, bool]], event: _Call) -> None:
        """Windows opening or closing at one time: a firm whose multipliers change is booked once, before
        the first change touching it, and re-planned once, after the last (a shock by sector is several
        windows with the same edges)."""
        now = event.t
        touched: dict[int, tuple[_Firm, _Stage]] = {}
        for w, on in changes:
            self._policy_change(w, on, now, touched)
        for firm, st in touched.values():
            if firm.state == _RESIDENT:
                self._multipliers(firm, st)
                self._plan(firm, st, now)

    def _policy_change(self, w: _Window, on: bool, now: float, touched: dict[int, tuple[_Firm, _Stage]]) -> None:
        pol = w.policy
        if isinstance(pol, AngelFund):
            if on:
                self.angels.append(w)
                self.angels.sort(key=lambda x: x.index)
            else:
                self.angels.remove(w)
        elif isinstance(pol, GmMatching):
            if on:
                self.matching.append(w)
                self.matching.sort(key=lambda x: x.index)
            else:
                self.matching.remove(w)
        elif isinstance(pol, ChainLinkage):
            key = (self.stage_index[pol.from_stage], self.stage_index[pol.to_stage])
            self.links[key] = self.links.get(key, 0) + (1 if on else -1)
            if not self.links[key]:
                del self.links[key]
        elif isinstance(pol, HazardMultiplier):
            entry = w.entry
            if entry is None:
                raise AssertionError("a hazard multiplier's window has no entry")
            for st in self.stages:
                if pol.target.stages is not None and st.name not in pol.target.stages:
                    continue
                if on:
                    st.hazard_policies.append(entry)
                else:
                    st.hazard_policies.remove(entry)
                for firm in st.residents.values():
                    if firm.state != _RESIDENT or firm.id in touched:
                        continue
                    if not _matches(w, st.name, firm.carrier, firm.sector):
                        continue
                    self._book(firm, st, now)  # with the multipliers in force until now
                    touched[firm.id] = (firm, st)
        elif isinstance(pol, CapacityChange):
            for st in self.stages:
                changed = False
                for c in st.carriers:
                    if c.closed < INF or not _matches(w, st.name, c, 0):
                        continue
                    changed = True
                    c.capacity = max(1, int(round(c.base_capacity * self._capacity_factor(st, c, now, w, on))))
                    if c.occupancy < c.capacity and c.free_pos < 0:
                        c.free_pos = len(st.free)
                        st.free.append(c)
                    elif c.occupancy >= c.capacity and c.free_pos >= 0:
                        self._drop_free(st, c)
                if changed:
                    self._freed.append(st)
            self._drain(now)

    def _capacity_factor(self, st: _Stage, c: _Carrier, now: float, w: _Window | None = None, on: bool = True) -> float:
        """Product of the capacity changes in force for carrier ``c`` (window ``w`` taken as ``on``)."""
        factor = 1.0
        for w2 in self.windows:
            p2 = w2.policy
            active = (w2.start <= now < w2.end) if w2 is not w else on
            if isinstance(p2, CapacityChange) and active and _matches(w2, st.name, c, 0):
                factor *= p2.factor
        return factor

    # ---------------------------------------------------------------- carrier life cycle
    def _in_force(self, kind: type[PerformanceSubsidy | TaxRelief], st: _Stage, now: float) -> list[_Window]:
        """Windows of policies of ``kind`` in force at ``now`` whose target names ``st`` (or every stage)."""
        return [
            w
            for w in self.windows
            if type(w.policy) is kind
            and w.start <= now < w.end
            and (w.policy.target.stages is None or st.name in w.policy.target.stages)
        ]

    def _plan_openings(self) -> None:
        """Opening times of every stage's new carriers, and their capacities and specialisms.

        Openings are a Poisson process by inversion of the cumulative intensity (unit-rate epochs from
        the stage's ``carrier_opening`` stream), so a higher rate opens the same carriers earlier and
        more of them; carrier ``k`` opened in a stage draws its capacity and specialism as number ``k``
        of the stage's second block of ``carrier_capacity`` and ``carrier_specialism``.
        """
        for st in self.stages:
            life = st.life
            if life is None:
                continue
            times, rates = rate_steps(life.opening_rate_per_year, self.sc.calendar)
            subsidies = [
                (w.start, w.end, w.policy.opening_rate_factor)
                for w in self.windows
                if isinstance(w.policy, ConstructionSubsidy)
                and (w.policy.target.stages is None or st.name in w.policy.target.stages)
            ]
            points, prates, cum = _steps(times, rates, subsidies)
            total = cum[-1] + prates[-1] * (self.horizon - points[-1]) if points[-1] < self.horizon else cum[-1]
            g = self.streams.generator("carrier_opening", st.idx)
            epochs: list[float] = []
            acc = 0.0
            while True:
                chunk = np.cumsum(g.standard_exponential(64)) + acc
                acc = float(chunk[-1])
                epochs += [float(e) for e in chunk if e <= total]
                if acc > total:
                    break
            open_times: list[float] = []
            for e in epochs:
                i = bisect_right(cum, e) - 1
                while i < len(prates) and prates[i] <= 0.0:  # reached in the next segment with a positive rate
                    i += 1
                if i == len(prates):
                    break  # no later segment with a positive rate
                t = points[i] + (e - cum[i]) / prates[i]
                if t < self.horizon:
                    open_times.append(t)
            n = len(open_times)
            if n == 0:
                continue
            car = self.sc.stages[st.name].carriers
            assert car is not None
            cap = car.capacity
            if isinstance(cap, int):
                st.new_caps = [cap] * n
            else:
                assert not isinstance(cap, tuple)  # validation: no list of capacities with openings
                g_cap = self.streams.generator("carrier_capacity", st.idx, 1)
                st.new_caps = [max(1, int(round(x))) for x in cap.sample(g_cap, n)]
            u_spec = self.streams.generator("carrier_specialism", st.idx, 1).random((n, 2))
            st.new_specs = [self._specialism(u_spec[k], car.specialised_share) for k in range(n)]
            for k, t in enumerate(open_times):
                self._schedule(t, functools.partial(self._open, st, k), 0.0)

    def _open(self, st: _Stage, k: int, event: _Call) -> None:
        """The ``k``-th carrier opened in stage ``st`` opens now, recognised at the life cycle's level."""
        now = event.t
        life = st.life
        assert life is not None
        c = self._add_carrier(st, LEVELS.index(life.new_level), st.new_specs[k], st.new_caps[k], now)
        factor = self._capacity_factor(st, c, now)
        if factor != 1.0:
            c.capacity = max(1, int(round(c.base_capacity * factor)))
        self.carrier_events.append((now, c.id, _C_OPEN, c.level, -1))
        self._freed.append(st)
        self._drain(now)

    def _start_lifecycle(self) -> None:
        if not any(st.life is not None for st in self.stages):
            return
        self._plan_openings()
        k = 1
        while k < self.horizon:
            self._schedule(float(k), functools.partial(self._evaluate, k), 0.0)
            k += 1

    def _year_results(self, now: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per carrier id, over the year to ``now``: tenant-years, graduations, and financed minus failed.

        Read from the event log's rows since the last evaluation (a copy of that slice: the log's
        buffers keep growing).
        """
        self._flush()
        i0 = self._eval_row
        n_car = len(self.carriers)
        t = np.frombuffer(self.log.time[i0:], dtype=np.float64)
        code = np.frombuffer(self.log.code[i0:], dtype=np.int64)
        ev = code & 0x1F
        carrier = ((code >> _CARRIER_SHIFT) & 0xFFFFFF) - 1
        info = (code >> _INFO_SHIFT) - 2
        in_carrier = carrier >= 0
        occ0 = np.zeros(n_car)
        occ0[: len(self._occ_start)] = self._occ_start
        tenant_years = occ0 * 1.0
        adm = in_carrier & (ev == _ADMIT)
        lev = in_carrier & (ev == _LEAVE)
        tenant_years += np.bincount(carrier[adm], weights=now - t[adm], minlength=n_car)
        tenant_years -= np.bincount(carrier[lev], weights=now - t[lev], minlength=n_car)
        grads = np.bincount(carrier[in_carrier & (ev == _GRADUATE)], minlength=n_car).astype(np.float64)
        net = -np.bincount(carrier[in_carrier & (ev == _FAIL)], minlength=n_car).astype(np.float64)
        if self.angel_index:
            funded = in_carrier & (ev == _ATTRIBUTE) & np.isin(info, list(self.angel_index))
            net += np.bincount(carrier[funded], minlength=n_car)
        self._eval_row = len(self.log)
        self._occ_start = [c.occupancy for c in self.carriers]
        return tenant_years, grads, net

    def _evaluate(self, year: int, event: _Call) -> None:
        """The yearly round on an anniversary of the start: closures, then ratings, levels and subsidies."""
        now = event.t
        tenant_years, grads, net = self._year_results(now)
        log = self.carrier_events
        for st in self.stages:
            life = st.life
            if life is None:
                continue
            # Closures (hazard from the last rating and any tax relief in force)
            u = self.streams.generator("carrier_fate", st.idx, year).random(len(st.carriers))
            tax = self._in_force(TaxRelief, st, now)
            for c in st.carriers:
                if c.closed < INF:
                    continue
                h = life.closure_rate_per_year * (life.closure_factor_unqualified if c.unqualified else 1.0)
                for w in tax:
                    if w.policy.target.levels is None or LEVELS[c.level] in w.policy.target.levels:
                        h *= w.policy.closure_factor
                if h > 0.0 and u[c.local] < -math.expm1(-h):
                    c.closed = now
                    c.capacity = 0
                    if c.free_pos >= 0:
                        self._drop_free(st, c)
                    log.append((now, c.id, _C_CLOSE, c.level, -1))
            # Ratings, recognition levels, performance subsidies
            ev = life.evaluation
            paying = self._in_force(PerformanceSubsidy, st, now)
            new_mult: dict[int, tuple[float, float]] = {}
            for c in st.carriers:
                if c.closed < INF or c.opened > now - 1.0 + 1e-9:
                    continue
                ty = tenant_years[c.id]
                if ty <= 0.0 or ty < ev.min_tenant_years:
                    rating = 0  # an empty carrier
                else:
                    score = (grads[c.id] + net[c.id]) / ty
                    rating = 0 if score < ev.fail_below else (2 if score >= ev.excellent_from else 1)
                log.append((now, c.id, _C_RATING, c.level, rating))
                mf = mg = 1.0
                for w in paying:
                    pol = w.policy
                    if rating >= 1 and (pol.target.levels is None or LEVELS[c.level] in pol.target.levels):
                        mf *= pol.failure_factor
                        mg *= pol.graduation_factor
                if st.carrier_effects and (mf, mg) != (c.mult_f, c.mult_g):
                    new_mult[c.id] = (mf, mg)
                c.unqualified = rating == 0
                c.n_rated += 1
                c.n_failed += rating == 0
                c.n_excellent += rating == 2
                if c.level > 0 and c.n_failed >= life.demote_after_failed:
                    self._relevel(c, c.level - 1, _C_DEMOTE, now)
                elif now - c.recognised >= life.recognition_years - 1e-9:
                    rated = c.n_rated
                    if rated and c.n_excellent >= life.promote_excellent_share * rated - 1e-9 and c.level < 2:
                        self._relevel(c, c.level + 1, _C_PROMOTE, now)
                    else:
                        self._relevel(c, c.level, _C_RENEW, now)
            if st.carrier_effects:
                for c in st.carriers:  # closed or unrated carriers lose a paid service
                    if (
                        c.id not in new_mult
                        and (c.mult_f != 1.0 or c.mult_g != 1.0)
                        and (c.closed < INF or c.opened > now - 1.0 + 1e-9)
                    ):
                        new_mult[c.id] = (1.0, 1.0)
                if new_mult:
                    self._reprice(st, new_mult, now)

    def _relevel(self, c: _Carrier, level: int, kind: int, now: float) -> None:
        c.level = level
        c.recognised = now
        c.n_rated = 0
        c.n_failed = 0
        c.n_excellent = 0
        self.carrier_events.append((now, c.id, kind, level, -1))

    def _reprice(self, st: _Stage, new_mult: dict[int, tuple[float, float]], now: float) -> None:
        """Set carriers' service factors, re-timing their residents' pending events from the budget left."""
        touched = [
            f
            for f in st.residents.values()
            if f.state == _RESIDENT and f.carrier is not None and f.carrier.id in new_mult
        ]
        for firm in touched:
            self._book(firm, st, now)
        for cid, (mf, mg) in new_mult.items():
            self.carriers[cid].mult_f = mf
            self.carriers[cid].mult_g = mg
        for firm in touched:
            self._multipliers(firm, st)
            self._plan(firm, st, now)

    # ---------------------------------------------------------------- run
    def run(self) -> SimOutput:
        self._start_policies()
        self._start_lifecycle()
        self._start_sources()
        self.env.run(until=self.horizon)
        self._flush()
        source = np.frombuffer(self.firms_source, dtype=np.int32) if self.firms_source else np.empty(0, np.int32)
        index = np.frombuffer(self.firms_index, dtype=np.int64) if self.firms_index else np.empty(0, np.int64)
        sector = np.zeros(len(source), dtype=np.int16)
        quality = np.zeros(len(source), dtype=np.float64)
        for f in self.factories:
            mine = source == f.source
            if mine.any():
                sector[mine], quality[mine] = f.attributes(index[mine])
        return SimOutput(
            log=self.log,
            stage_names=self.stage_names,
            sectors=self.sectors,
            carriers=self.carrier_info,
            firm_source=source.copy(),
            firm_index=index.copy(),
            firm_sector=sector,
            firm_quality=quality,
            firm_birth=np.array(self.firms_birth, dtype=np.float64),
            source_names=tuple(a.name for a in self.sc.arrivals)
            + tuple(f"stock:{s.stage}:{i}" for i, s in enumerate(self.sc.initial_stock))
            + tuple(
                f"competition:{policy_name(p, i)}" for i, p in enumerate(self.sc.policies) if isinstance(p, Competition)
            ),
            horizon=self.horizon,
            carrier_events=self.carrier_events,
            extras={} if self.untreated is None else {"untreated_unmatched": self.untreated.unmatched},
        )


class _ArrivalStream:
    """Poisson arrivals by inversion of the cumulative intensity: firm n arrives at Lambda^-1(epoch n).

    Arrival times are computed a block of firms at a time (vectorised, with the same arithmetic as the
    scalar formula, so the times are bit for bit the same); one arrival is scheduled at a time.
    """

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
        self.stage = model.stages[entry]
        self.entry_code = _ARRIVE | _stage(entry) | _info(factory.source)
        self.apply_code = _APPLY | _stage(entry) | _I_0
        self.points = np.asarray(points, dtype=np.float64)
        self.rates = np.asarray(rates, dtype=np.float64)
        self.cum = np.asarray(cum, dtype=np.float64)
        # Segment that serves an epoch falling in segment i: the first one from i on with a positive rate
        # (an epoch is reached in the first later segment with positive rate); len(points) if none.
        serve = np.full(len(points) + 1, len(points), dtype=np.int64)
        for i in range(len(points) - 1, -1, -1):
            serve[i] = i if rates[i] > 0.0 else serve[i + 1]
        self.serve = serve
        self.n = 0
        self.block = -1
        self.times: list[float] = []
        self._fire = self.fire

    def _load(self, block: int) -> None:
        epochs = self.factory.draws.epochs(block)
        i = self.serve[np.searchsorted(self.cum, epochs, side="right") - 1]
        times = np.full(len(epochs), INF)
        ok = i < len(self.points)
        j = i[ok]
        times[ok] = self.points[j] + (epochs[ok] - self.cum[j]) / self.rates[j]
        self.times = times.tolist()
        self.block = block

    def next(self, now: float) -> None:
        """Schedule the next arrival, if it falls before the horizon."""
        block, row = divmod(self.n, BLOCK)
        if block != self.block:
            self._load(block)
        t = self.times[row]
        if t >= self.model.horizon:
            return
        delay = t - now
        self.model._schedule_raw(_Call(self._fire, now + delay), _NORMAL, delay)

    def fire(self, event: _Call) -> None:
        m = self.model
        now = event.t
        n = self.n
        t = self.times[n % BLOCK]  # the exact arrival time (``now`` is the kernel's sum for it)
        firm, _in_stage = self.factory.make(n, t)
        st = self.stage
        if st.screen_threshold is None and (st.unlimited or st.free):
            # The common case in one piece: what _apply does when the stage has room and no screening.
            firm.visits = 1
            firm.v = firm.draws.visit_columns(n, 0)
            fid = firm.id
            bt, bf, bc = m._bt, m._bf, m._bc
            bt.append(t)
            bf.append(fid)
            bc.append(self.entry_code)
            bt.append(now)
            bf.append(fid)
            bc.append(self.apply_code)
            m._admit(firm, st, 0, now)
        else:
            m._row(t, firm.id, self.entry_code)
            m._apply(firm, self.entry, now)
        if m._freed:
            m._drain(now)
        if len(m._bc) >= _FLUSH_ROWS:
            m._flush()
        self.n = n + 1
        self.next(now)


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
        self.sector_ids = np.asarray([model.sector_index[s] for s in sectors], dtype=np.int16)
        cum = np.cumsum(list(sectors.values()))
        cum[-1] = 1.0
        self.sector_cum = cum
        self.quality = quality
        self.age = age
        self.in_stage = in_stage
        self.block = -1
        # The current block's firm attributes, one list per attribute (sector, quality, its factors on
        # the failure and graduation hazards, age, years in stage).
        self.attrs: tuple[list[Any], ...] = ([],) * 8
        self.blocks: list[tuple[np.ndarray, np.ndarray]] = []  # (sector, quality) per block, kept for the output
        fm = model.sc.firms
        self.bf = fm.quality_on_failure
        self.bg = fm.quality_on_graduation

    def _load(self, block: int) -> None:
        d = self.draws
        sec_u = d.firm_values("sector", block, lambda g, n: g.random(n))
        pos = np.searchsorted(self.sector_cum, sec_u, side="right")
        sector = self.sector_ids[np.minimum(pos, len(self.sector_ids) - 1)]
        q = d.firm_values("quality", block, self.quality.sample)
        age = d.firm_values("age", block, self.age.sample).tolist()
        ins = (
            d.firm_values("years_in_stage", block, self.in_stage.sample).tolist()
            if self.in_stage is not None
            else [0.0] * BLOCK
        )
        ql = q.tolist()
        bf, bg = self.bf, self.bg
        qf = [math.exp(-bf * x) for x in ql] if bf else [1.0] * BLOCK
        qg = [math.exp(bg * x) for x in ql] if bg else [1.0] * BLOCK
        # Drawn only when a gm_matching policy can read it (a stream's numbers never depend on another's).
        gap = (
            d.firm_values("manager_gap", block, lambda g, n: g.random(n)).tolist()
            if self.model.gap_share > 0
            else [2.0] * BLOCK
        )
        angel = (
            d.firm_values("angel_signal", block, lambda g, n: g.standard_normal(n)).tolist()
            if self.model.angel_draws
            else [-INF] * BLOCK
        )
        self.attrs = (sector.tolist(), ql, qf, qg, age, ins, gap, angel)
        self.block = block
        while len(self.blocks) <= block:
            self.blocks.append((np.empty(0, np.int16), np.empty(0)))
        self.blocks[block] = (sector, q)

    def make(self, n: int, now: float) -> tuple[_Firm, float]:
        """Firm ``n`` of this source, arriving at ``now``; also returns its years already in stage."""
        block, row = divmod(n, BLOCK)
        if block != self.block:
            self._load(block)
        sector, q, qf, qg, age, ins, gap, angel = self.attrs  # type: ignore[misc]  # eight lists, see __init__
        m = self.model
        f = _Firm()
        f.id = len(m.firms_source)
        f.source = self.source
        f.index = n
        f.row = row
        f.sector = sector[row]
        f.quality = q[row]
        f.qf = qf[row]
        f.qg = qg[row]
        f.gap = gap[row]
        f.angel = angel[row]
        age_n = age[row]
        birth = now - age_n
        f.birth = birth
        f.draws = self.draws
        m.firms_source.append(self.source)
        m.firms_index.append(n)
        m.firms_birth.append(birth)
        return f, min(ins[row], age_n)

    def attributes(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sector and quality of this source's firms number ``index``."""
        sector = np.concatenate([b[0] for b in self.blocks])
        quality = np.concatenate([b[1] for b in self.blocks])
        return sector[index], quality[index]


def simulate(scenario: Scenario, seed: int = 0, replication: int = 0, untreated: Untreated | None = None) -> SimOutput:
    """Run one replication of ``scenario`` and return its event log and static facts.

    ``untreated`` switches a programme stage's treatment off for the same admissions (:class:`Untreated`,
    used by :func:`sim.decompose`); by default nothing is switched off and nothing changes.

    Python's cyclic garbage collector is paused while the model runs (and restored after): the
    engine's per-firm objects form no reference cycles, so reference counting frees them, and the
    collector's passes over hundreds of thousands of live firms and events would only cost time.
    ``tests/unit/test_engine_memory.py`` checks that a run leaves no per-firm cyclic garbage.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _Model(scenario, seed, replication, untreated).run()
    finally:
        if enabled:
            gc.enable()
