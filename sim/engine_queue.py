"""The kernel's event queue as the engine fills it: SimPy's own heap, with later slices of the horizon held back.

The engine schedules into :class:`simpy.Environment`'s queue directly (the same tuple ``(time, priority,
sequence number, event)`` and the same sequence numbers as ``Environment.schedule``, without a Python call per
event), and SimPy's ``step`` pops it as usual. Two things keep that heap small, which is what a pop costs:

* **Later slices wait outside the heap.** The horizon is cut into equal slices, by the number of firms
  the run expects (:meth:`_KernelQueue.slice`). A normal-priority event due in a later slice than the
  kernel's current one gets its sequence number when it is scheduled, as always, but waits in its slice's
  list; an urgent event at the start of the slice (its *turn*, scheduled with the slice's first waiting
  event) moves the slice's events into the heap. Every event of a slice is due at or after the slice's start,
  and a normal event at the same time as the turn comes after it (urgent first), so each reaches the heap
  before the kernel could have popped it, with the key it would have had: the order in which the kernel pops
  the model's events -- (time, priority, sequence number), a total order -- is unchanged, event for event.
  The turns take sequence numbers too, which shifts later numbers but not their order.
* **The engine's own events are stepped in compiled code.** :meth:`_KernelQueue.run` is
  ``Environment.run(until=horizon)``: it schedules the same stop event, pops the same heap in the same order
  and sets the kernel's clock, and for the engine's own events (:class:`~sim.engine_state._Due`,
  :class:`~sim.engine_state._Call`: always successful, never processes) does what ``Environment.step``
  does -- clear the callbacks, call them -- without an interpreted frame per event. Every other event (the
  stop event, any SimPy event or process) is stepped by ``Environment.step`` itself.
* **Stale events are dropped.** Re-timing a firm (a policy window opening or closing, a shock, a carrier's
  service factor changing) leaves its old event behind, ignored when reached. A waiting slice drops its stale
  events when it turns; the heap is compacted (:func:`_compact`) whenever it has doubled since the last time.

``docs/performance.md`` has the measurements. ``tests/unit/test_engine_queue.py`` runs with many more slices
and a much lower compaction floor and gets the same bytes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from heapq import heapify, heappop, heappush
from typing import Any, Final

import simpy
from simpy.core import StopSimulation
from simpy.events import URGENT, EventPriority

from .engine_state import _NORMAL, _URGENT, INF, _Call, _Due, _fire_due

_SIMPY_SCHEDULE = simpy.Environment.schedule

_SLICES: Final = 4096
"""Most slices of the horizon. The province's ~900,000 events come to about 220 a slice, and its heap to
about 2,500 events instead of a hundred thousand (docs/performance.md)."""

_FIRMS_PER_SLICE: Final = 64
"""Firms expected per slice: a small run gets few slices (and few turns, which are events too)."""

_COMPACT_MIN: Final = 1 << 16
"""Smallest heap length at which the stale events are dropped from it (when it has doubled since the last
time), which costs O(1) per event on average."""

Entry = tuple[Any, ...]
"""A queue entry as SimPy makes it: (time, priority, sequence number, event). Typed loosely on purpose: the
compiled code then reads the event out of the tuple as it is, instead of unboxing all four items."""


def _simpy_queue(env: simpy.Environment) -> tuple[list[Entry] | None, Iterator[int]]:
    """SimPy's own event queue and sequence counter, or None for the queue if its internals differ.

    The engine fills the queue as ``Environment.schedule`` does (the same tuple, the same sequence numbers)
    without a Python call per event, and calls ``Environment.schedule`` itself when the queue is None.
    """
    plain = type(env).schedule is _SIMPY_SCHEDULE
    queue = getattr(env, "_queue", None)
    eid = getattr(env, "_eid", None)
    ok = plain and isinstance(queue, list) and isinstance(eid, itertools.count)
    return (queue if ok else None), (eid if isinstance(eid, itertools.count) else itertools.count())


class _Sequence:
    """The kernel's sequence numbers (``Environment._eid``), counted in compiled code: SimPy's ``schedule`` takes
    the next one with ``next(env._eid)`` as from its own counter, and the engine's pushes read and advance it
    directly. The same numbers in the same order as the counter it replaces."""

    def __init__(self, first: int) -> None:
        self.n = first

    def __iter__(self) -> _Sequence:
        return self

    def __next__(self) -> object:  # (an int; typed as an object, the form an iterator's result takes in C)
        n = self.n
        self.n = n + 1
        return n


def _in_force(event: object) -> bool:
    """Whether a queued event still does something: anything but a firm event its firm no longer points at."""
    return not isinstance(event, _Due) or event.firm.pending is event


def _compact(queue: list[Entry]) -> int:
    """Drop the stale firm events from the heap; the heap length at which to do it next.

    The queue's order is total, so removing stale entries and restoring the heap leaves every other event
    where it was in the order.
    """
    queue[:] = [e for e in queue if _in_force(e[3])]  # SimPy's own events are there too (the stop event)
    heapify(queue)
    return max(2 * len(queue), _COMPACT_MIN)


class _KernelQueue:
    """Where the engine's events go: the kernel's heap, or the list of a later slice (see the module docstring).

    Until :meth:`slice` is called everything goes to the heap (one slice).
    """

    def __init__(self, env: simpy.Environment, horizon: float) -> None:
        self.env = env
        self.heap, eid = _simpy_queue(env)
        self.seq = _Sequence(0)
        if self.heap is not None:  # the kernel's counter from here on, from the number it would give next
            self.seq.n = next(eid)
            env._eid = self.seq  # type: ignore[assignment]  # an iterator of ints, as SimPy reads it
        self.now = float(env.now)  # the kernel's time, kept here by run() for push()
        # heapq's functions held by the queue: read from it per event, not looked up among the module's names
        self.heappush: Callable[[list[Entry], Entry], None] = heappush
        self.heappop: Callable[[list[Entry]], Entry] = heappop
        self.compact_at = _COMPACT_MIN
        self.horizon = horizon
        self.slices = 1
        self.edges = [0.0, INF]  # slice b is [edges[b], edges[b + 1]); the last one runs on past the horizon
        self.per_year = 1.0 / horizon
        # Each slice's waiting events: a list made with its first one, which schedules the slice's turn
        # (None until then, and once turned), so that slices with nothing waiting cost nothing.
        self.held: list[list[Entry] | None] = [None]
        self.current = 0  # the slice of the kernel's time, as last seen
        self.next_edge = INF  # events due at or after this wait for their slice (INF: nothing waits)

    def slice(self, firms: float, slices: int = -1) -> None:
        """Cut the horizon into slices, about :data:`_FIRMS_PER_SLICE` of the run's ``firms`` expected each (at
        most :data:`_SLICES`; ``slices`` > 0: that many). Before any firm's event is scheduled, at time 0."""
        if slices <= 0:
            slices = min(_SLICES, max(1, int(firms / _FIRMS_PER_SLICE)))
        if self.heap is None or slices <= 1 or self.now > 0.0:
            return
        width = self.horizon / slices
        self.slices = slices
        self.edges = [b * width for b in range(slices)] + [INF]
        self.per_year = slices / self.horizon
        self.held = [None] * slices
        self.current = 0
        self.next_edge = self.edges[1]

    def push(self, event: _Due | _Call, priority: int, delay: float) -> None:
        """``env.schedule(event, priority, delay)``."""
        heap = self.heap
        if heap is None:
            self.env.schedule(event, EventPriority(priority), delay)  # type: ignore[arg-type]  # duck-typed event
            return
        now = self.now
        t = now + delay
        seq = self.seq
        n = seq.n
        seq.n = n + 1
        entry: Entry = (t, priority, n, event)
        if t >= self.next_edge and priority == _NORMAL:
            if now >= self.next_edge:  # the kernel has moved on through slices that had nothing waiting
                c = self._slice_of(now)
                self.current = c
                self.next_edge = self.edges[c + 1]
            if t >= self.next_edge:
                b = self._slice_of(t)
                held = self.held[b]
                if held is None:
                    self.held[b] = [entry]
                    # Its turn: urgent, at the slice's start exactly (after the kernel's time: b > current)
                    start = self.edges[b]
                    heappush(heap, (start, _URGENT, next(self.seq), _Call(self.turn, start)))
                else:
                    held.append(entry)
                return
        self.heappush(heap, entry)
        if len(heap) > self.compact_at:
            self.compact_at = _compact(heap)

    def _slice_of(self, t: float) -> int:
        """The slice whose edges hold ``t`` (exactly, by the stored edges)."""
        edges = self.edges
        last = self.slices - 1
        if t >= edges[last]:
            return last
        b = int(t * self.per_year)
        if b > last:
            b = last
        while t < edges[b]:
            b -= 1
        while t >= edges[b + 1]:
            b += 1
        return b

    def turn(self, event: _Call) -> None:
        """A slice with events waiting begins: those still in force join the heap."""
        heap = self.heap
        if heap is None:
            raise AssertionError("slices without the kernel's queue")
        b = self._slice_of(event.t)
        self.current = b
        self.next_edge = self.edges[b + 1]
        held = self.held[b]
        self.held[b] = None
        live = [] if held is None else [e for e in held if _in_force(e[3])]
        if len(live) > len(heap):
            heap.extend(live)
            heapify(heap)
        else:
            for e in live:
                heappush(heap, e)

    def run(self, until: float) -> None:
        """``env.run(until=until)``: the kernel's events in the kernel's order up to ``until`` (see the module
        docstring), the engine's own stepped here and any other by ``Environment.step``."""
        env = self.env
        heap = self.heap
        if heap is None:
            env.run(until=until)
            return
        if until <= env.now:
            raise ValueError(f"until ({until}) must be greater than the current simulation time")
        stop = simpy.Event(env)  # as Environment.run makes it: urgent, before the events due at the same time
        stop._ok = True
        stop._value = None
        env.schedule(stop, URGENT, until - env.now)
        assert stop.callbacks is not None
        stop.callbacks.append(StopSimulation.callback)
        step = env.step
        pop = self.heappop
        try:
            while heap:
                entry = heap[0]
                event = entry[3]
                if isinstance(event, _Due):
                    pop(heap)
                    env._now = entry[0]
                    self.now = entry[0]
                    event.callbacks = None
                    _fire_due(event)
                elif isinstance(event, _Call):
                    pop(heap)
                    env._now = entry[0]
                    self.now = entry[0]
                    callbacks = event.callbacks
                    event.callbacks = None
                    if callbacks is not None:
                        for callback in callbacks:
                            callback(event)
                else:
                    self.now = entry[0]  # the time SimPy's step is about to set, for anything it calls
                    step()
        except StopSimulation:
            return
        raise RuntimeError(f'No scheduled events left but "until" event was not triggered: {stop}')
