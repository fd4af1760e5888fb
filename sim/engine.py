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
scheduling costs one small object and a heap push or a list append (:mod:`sim.engine_queue`: events of
later slices of the horizon wait outside the heap); the kernel's loop steps these events in compiled code as
``Environment.step`` does, and any other SimPy event by ``Environment.step`` itself. A firm has at most one
pending event; re-planning
simply points the firm at a new one and the old one is ignored (dropped before it reaches the heap, or
skipped when the kernel reaches it). Each event carries its own time, so handlers get ``now`` as an
argument and pass it down instead of asking the environment. Log rows are three list appends, moved to
the typed arrays of :mod:`sim.event_log` a chunk at a time.

Modules
-------
This module holds the firm mechanics (:class:`_Model`: admission, waiting lists and blocking, hazards,
residence events) and :func:`simulate`. The rest of the engine lives beside it:

* :mod:`sim.engine_state` -- the run-time records (scheduled events, firms, carriers, stages) and constants;
* :mod:`sim.engine_hazards` -- cumulative hazards and their inverses;
* :mod:`sim.engine_stages` -- stages and the carriers of the start, set up from the scenario;
* :mod:`sim.engine_sources` -- arrival streams, the initial stock, competitions' intakes, the output;
* :mod:`sim.engine_policies` -- policies and shocks translated into windows in force, and applied;
* :mod:`sim.engine_lifecycle` -- carriers opening, yearly evaluations, levels and closures;
* :mod:`sim.engine_untreated` -- a programme stage switched off for the same admissions (:func:`sim.decompose`);
* :mod:`sim.engine_queue` -- how events reach SimPy's queue (later slices held back, stale events dropped) and
  how the kernel steps them.

The log's layout (:class:`sim.event_log.SimOutput`) is not the engine's: the tables read it without
importing the engine.

Wheel installs compile these modules and :mod:`sim.streams` with mypyc (``hatch_build.py``). The
code is written for that: module constants are ``Final`` literals, which the compiled code inlines;
classes are plain typed classes, which become native ones with attributes at fixed offsets; hazards
and policy targets the handlers call are engine classes (:class:`_Hazard`, :class:`_Match`), not
pydantic models. The compiled and interpreted engines write the same bytes
(``tests/reproducibility/test_compiled.py``). The cyclic garbage collector is paused during a run.

The common transitions run in one piece: an arrival that finds room (:meth:`_ArrivalStream.fire`), a
graduation that exits or moves on to a stage with room (:meth:`_Model._on_graduate`), and admission
with exponential hazards on the stay clock (the end of :meth:`_Model._admit`, which is :meth:`_plan`'s
arithmetic). They write the same rows, in the same order, as the general methods they stand for
(:meth:`_apply`, :meth:`_vacate`, :meth:`_exit`, :meth:`_plan`), which handle every other case;
``_Model(..., fast_paths=False)`` sends every transition through those, and
``tests/trace/test_fast_paths.py`` checks that both write the same log.

Per-firm state stays small: attributes come from per-block lists of the source, a firm holds the
columns of its block's per-visit draws (not a copy of its numbers), sector and quality are read back
from the sources at the end, and reneging leaves a stale entry on the waiting list (skipped when
reached) instead of searching the list for it. See ``docs/performance.md`` for the measurements.
"""

from __future__ import annotations

import gc
from bisect import bisect_right
from collections import deque
from collections.abc import Callable

import numpy as np
import simpy

from .engine_hazards import _time_to
from .engine_lifecycle import _Lifecycle
from .engine_policies import _Policies, _Window
from .engine_queue import _KernelQueue
from .engine_sources import _Sources
from .engine_stages import _build_stages
from .engine_state import (
    _ADMIT,
    _APPLY,
    _BLOCK,
    _BLOCKED,
    _DONE,
    _EXIT,
    _EXIT_ROW,
    _F,
    _FAIL,
    _FAILED,
    _FLUSH_ROWS,
    _G,
    _GRADUATE,
    _I_0,
    _I_1,
    _I_M1,
    _INFO_SHIFT,
    _LEAVE,
    _NORMAL,
    _PATIENCE,
    _PICK,
    _REJECT,
    _RENEGE,
    _RESIDENT,
    _ROUTE,
    _SCREEN,
    _SKIP,
    _TIME_OUT,
    _TRANSIT,
    _WAIT,
    _WAITING,
    INF,
    _Call,
    _Carrier,
    _Due,
    _Firm,
    _info,
    _live,
    _pick,
    _Stage,
)
from .engine_untreated import (
    PolicySwitch,
    Programme,
    Untreated,
    finish,
    link_treated,
    track_multipliers,
    untreated_stay,
)
from .event_log import CarrierInfo, EventLog, SimOutput
from .hazard_terms import PostStay
from .policies import Competition
from .scenario import Scenario
from .streams import Streams

__all__ = ["COMPILED", "PolicySwitch", "Untreated", "simulate"]

COMPILED: bool = not __file__.endswith(".py")
"""True when this module is the mypyc-compiled extension (a wheel install; see hatch_build.py)."""


def _sectors(sc: Scenario) -> tuple[str, ...]:
    """Every sector a firm of the scenario can have: the firm mix's, then the sources' and competitions'."""
    sectors: list[str] = list(sc.firms.sectors)
    for a in sc.arrivals:
        sectors += [s for s in (a.sectors or {}) if s not in sectors]
    for s in sc.initial_stock:
        sectors += [x for x in (s.sectors or {}) if x not in sectors]
    for pol in sc.policies:
        if isinstance(pol, Competition):
            sectors += [x for x in (pol.sectors or {}) if x not in sectors]
    return tuple(sectors)


class _Model:
    """One replication's firm mechanics: admission, waiting lists and blocking, hazards, residence events.

    Policies (:class:`sim.engine_policies._Policies`), the carrier life cycle
    (:class:`sim.engine_lifecycle._Lifecycle`) and the firm sources (:class:`sim.engine_sources._Sources`)
    are parts of their own that act on the model through its methods.
    """

    def __init__(
        self, sc: Scenario, seed: int, replication: int, fast_paths: bool = True, programme: Programme | None = None
    ) -> None:
        self.sc = sc
        # False: every transition goes through the general methods (a test compares the two; see run()).
        self.fast = fast_paths
        self.env = simpy.Environment()
        self.streams = Streams(seed, replication)
        self.log = EventLog()
        # Rows go to lists first and reach the log's typed arrays a chunk at a time (_flush): appending a
        # Python int to an array('q') parses it as a function argument, several times the cost of a list append.
        # The chunk is small (_FLUSH_ROWS) so that the rows' number objects are still in the cache when they are
        # read back: with chunks eight times larger, reading them back was a tenth of the province's run.
        self._bt: list[float] = []
        self._bf: list[int] = []
        self._bc: list[int] = []
        self.horizon = sc.calendar.horizon_years
        self.stage_names = sc.stage_names
        self.stage_index = {n: i for i, n in enumerate(self.stage_names)}
        self.sectors = _sectors(sc)
        self.sector_index = {s: i for i, s in enumerate(self.sectors)}
        self.stages = [_Stage(i, n) for i, n in enumerate(self.stage_names)]
        self.carriers: list[_Carrier] = []
        self.carrier_info: list[CarrierInfo] = []
        # Per firm (by id): its source, its number there and its founding time. Sector and quality are
        # read back from the sources' draws at the end (they are keyed by source and number).
        self.firms_source: list[int] = []
        self.firms_index: list[int] = []
        self.firms_birth: list[float] = []
        self._freed: deque[_Stage] = deque()
        self._draining = False
        # chain_linkage in force: (from stage, to stage) -> number of windows open
        self.links: dict[tuple[int, int], int] = {}
        self._graduating: _Firm | None = None  # the firm whose graduation is being routed (general path)
        self.matching: list[_Window] = []  # gm_matching windows in force, in scenario order
        self.gap_share = 0.0  # > 0: firms draw the manager_gap attribute
        self.angels: list[_Window] = []  # angel_fund windows in force, in scenario order
        self.angel_draws = False  # firms draw the angel_signal noise
        # A programme switched off for the same admissions (sim.engine_untreated): a stage (-1: none), or a policy
        self.untreated = untreated = programme if isinstance(programme, Untreated) else None
        self.untreated_stage = -1 if untreated is None else self.stage_index[untreated.stage]
        self.switch = programme if isinstance(programme, PolicySwitch) else None
        self.policies = _Policies(self)
        self.lifecycle = _Lifecycle(self)
        self.sources = _Sources(self)
        _build_stages(self)
        self.policies.build()
        self.queue = _KernelQueue(self.env, self.horizon)
        # Handlers bound once: looking a method up on ``self`` makes a new bound-method object every time
        self._fail_fn = self._on_fail
        self._grad_fn = self._on_graduate
        self._timeout_fn = self._on_timeout
        self._renege_fn = self._renege
        self._step_fn = self._on_step

    def _flush(self) -> None:
        """Move the buffered rows into the event log."""
        log = self.log
        n = len(self._bc)
        log.time.frombytes(np.fromiter(self._bt, np.float64, n).tobytes())
        log.firm.frombytes(np.fromiter(self._bf, np.int64, n).tobytes())
        log.code.frombytes(np.fromiter(self._bc, np.int64, n).tobytes())
        self._bt.clear()
        self._bf.clear()
        self._bc.clear()

    def _row(self, t: float, firm: int, code: int) -> None:
        """Buffer one log row: time (years), firm id, packed code (see :func:`sim.event_log.pack`)."""
        self._bt.append(t)
        self._bf.append(firm)
        self._bc.append(code)

    def _schedule(self, t: float, callback: Callable[[_Call], None], now: float, priority: int = _NORMAL) -> None:
        """Run ``callback(event)`` at time ``t`` (years); ``event.t`` is that time (the kernel's ``now + delay``)."""
        self.queue.push(_Call(callback, now + (t - now)), priority, t - now)

    # ---------------------------------------------------------------- slots
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
                    self._admit(st.next_waiting(), st, 1, now)
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
        """Send the firm on to stage ``st``'s fallback: another stage it applies to, or ``exit``."""
        if st.fallback == _EXIT:
            self._exit(firm, now)
        else:
            self._apply(firm, st.fallback, now)

    def _exit(self, firm: _Firm, now: float) -> None:
        """The firm leaves the chain (it holds no slot any more)."""
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
        self._release(firm, st, c, now)

    def _release(self, firm: _Firm, st: _Stage, c: _Carrier | None, now: float) -> None:
        """State changes of leaving stage ``st`` and carrier ``c`` at ``now`` (the row is the caller's)."""
        del st.residents[firm.id]
        terms = st.terms
        if terms is not None and terms.after:
            firm.post = PostStay(terms, firm.quality, now, now - firm.entry)
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

    def _admit(self, firm: _Firm, st: _Stage, from_queue: int, now: float, from_stock: bool = False) -> None:
        """Admit the firm to a slot of stage ``st`` (``from_queue``: 1 if it waited) and plan its next event."""
        if st.unlimited:
            c = None
            ccode = 0
        else:
            free = st.free
            n_free = len(free)
            c = free[0] if n_free == 1 else free[int(firm.v[_PICK][firm.row] * n_free)]
            c.occupancy += 1
            if c.occupancy >= c.capacity:
                st.drop_free(c)
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
        if st.idx == self.untreated_stage and self.untreated is not None:
            untreated_stay(self, self.untreated, firm, st, c, now)
            return
        if self.matching and firm.gap < self.gap_share:
            self.policies.match_manager(firm, st, c, now)
        if self.angels and firm.angel > -INF:
            self.policies.invest(firm, st, c, now)
        if st.hazard_policies or st.carrier_effects or st.terms is not None or firm.post is not None or not self.fast:
            if firm.post is not None:
                firm.post.advance(now)
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
            self.queue.push(ev, _NORMAL, delay)
        else:
            firm.pending = None

    def _enqueue(self, firm: _Firm, st: _Stage, now: float, front: bool = False) -> None:
        """Put the firm on stage ``st``'s waiting list (``front``: the priority list), with its patience."""
        firm.state = _WAITING
        firm.target = st.idx
        firm.pending = None
        linked = self._graduating is firm and (firm.stage, st.idx) in self.links
        if front or (linked and (self.switch is None or link_treated(self.switch, firm, st))):
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
        """The firm's patience runs out on a waiting list: it goes to the stage's fallback."""
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
        self.queue.push(ev, _NORMAL, delay)

    def _multipliers(self, firm: _Firm, st: _Stage) -> None:
        """The firm's hazard factors in stage ``st``: quality, policies in force and its carrier's service."""
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
        if st.terms is not None:
            tf, tg = st.terms.during(firm.quality)
            mf *= tf
            mg *= tg
        if firm.post is not None:
            mf *= firm.post.factor
        firm.mult_f = mf
        firm.mult_g = mg
        if self.switch is not None:
            track_multipliers(self.switch, firm, st)

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
        post = firm.post
        if post is not None and post.until < t and st.fail is not None:
            t, fn = post.until, self._step_fn  # the after-stay factor changes first: re-plan then
        if t < self.horizon:
            delay = t - now if t > now else 0.0
            ev = _Due(fn, firm, now + delay)
            firm.pending = ev
            self.queue.push(ev, _NORMAL, delay)
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

    def _on_step(self, firm: _Firm, now: float) -> None:
        """The failure factor a firm carries from an earlier stay changes (``sim.hazard_terms``)."""
        post = firm.post
        if post is None:
            raise AssertionError("a hazard-term step for a firm without after-stay terms")
        st = self.stages[firm.stage]
        self._book(firm, st, now)  # with the factor in force until now
        post.step()
        self._multipliers(firm, st)
        self._plan(firm, st, now)

    # ---------------------------------------------------------------- residence events
    def _on_fail(self, firm: _Firm, now: float) -> None:
        """The firm fails: it leaves its slot and the chain."""
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
        """The firm graduates and is routed by the stage's graduation probabilities."""
        st = self.stages[firm.stage]
        gd = st.grad_dest
        dest = gd[bisect_right(st.grad_cum, firm.v[_ROUTE][firm.row])] if len(gd) > 1 else gd[0]
        c = firm.carrier
        fid = firm.id
        ccode = c.code if c is not None else 0
        bt, bf, bc = self._bt, self._bf, self._bc
        if dest == _EXIT and not self.fast:
            self._row(now, fid, _GRADUATE | st.code | ccode | _I_M1)
            self._move(firm, _EXIT, now)
        elif dest == _EXIT:
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
            self._release(firm, st, c, now)
            firm.state = _DONE
        else:
            nxt = self.stages[dest]
            if not self.fast or nxt.screen_threshold is not None or not (nxt.unlimited or nxt.free):
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
            self._release(firm, st, c, now)
            self._admit(firm, nxt, 0, now)
        if self._freed:
            self._drain(now)
        if len(self._bc) >= _FLUSH_ROWS:
            self._flush()

    def _on_timeout(self, firm: _Firm, now: float) -> None:
        """The firm reaches the stage's stay limit and is routed by its time-out probabilities."""
        st = self.stages[firm.stage]
        dest = _pick(st.out_cum, st.out_dest, firm.v[_ROUTE][firm.row])
        c = firm.carrier
        self._row(now, firm.id, _TIME_OUT | st.code | (c.code if c is not None else 0) | _info(dest))
        self._move(firm, dest, now)
        if len(self._bc) >= _FLUSH_ROWS:
            self._flush()

    def _move(self, firm: _Firm, dest: int, now: float) -> None:
        """Route a firm leaving its stay to stage ``dest`` (it applies there) or out of the chain."""
        if dest == _EXIT:
            self._vacate(firm, _EXIT, now)
            self._exit(firm, now)
        else:
            self._apply(firm, dest, now, can_block=True)
        if self._freed:
            self._drain(now)

    # ---------------------------------------------------------------- run
    def run(self) -> SimOutput:
        """Run to the horizon and return the output (:class:`sim.event_log.SimOutput`)."""
        self.policies.start()
        self.lifecycle.start()
        self.sources.start()
        self.queue.run(self.horizon)
        self._flush()
        out = self.sources.output(self.log, self.carrier_info, self.lifecycle.events)
        finish(self.untreated if self.untreated is not None else self.switch, out)
        return out


def simulate(scenario: Scenario, seed: int = 0, replication: int = 0, programme: Programme | None = None) -> SimOutput:
    """Run one replication of ``scenario`` and return its event log and static facts.

    ``programme`` switches a programme off for the same admissions (a stage: :class:`sim.engine_untreated.Untreated`;
    a policy or competition: :class:`sim.engine_untreated.PolicySwitch`, which also records the firms it treats;
    used by :func:`sim.decompose`); by default nothing is switched off and nothing changes.

    Python's cyclic garbage collector is paused while the model runs (and restored after): the
    engine's per-firm objects form no reference cycles, so reference counting frees them, and the
    collector's passes over hundreds of thousands of live firms and events would only cost time.
    ``tests/unit/test_engine_memory.py`` checks that a run leaves no per-firm cyclic garbage.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _Model(scenario, seed, replication, programme=programme).run()
    finally:
        if enabled:
            gc.enable()
