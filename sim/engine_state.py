"""The engine's run-time records: scheduled events, carriers, firms and stages, and the constants they use.

Shared by the engine's modules (:mod:`sim.engine` and the ``sim.engine_*`` modules, compiled together by
mypyc; see ``hatch_build.py``); their leading underscores mark them as the engine's own, not the
package's API. The records are plain slotted classes: the engine makes one per firm and per event, so
they stay small, and the compiled engine reads their attributes at fixed offsets.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, Final

from simpy.events import NORMAL, URGENT

from .event_log import CARRIER_SHIFT, INFO_SHIFT, STAGE_SHIFT, Ev, pack
from .hazard_terms import PostStay, StageTerms
from .scenario import EXIT, Lifecycle
from .streams import VISIT_STREAMS, SourceDraws, VisitColumns

if TYPE_CHECKING:
    from .engine_hazards import _Hazard
    from .engine_policies import _Match
    from .hazard_terms import PostStay, StageTerms

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

_FLUSH_ROWS: Final = 1 << 10  # buffered log rows moved to the event log at a time (see _Model._flush)


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
        "n_excellent", "n_failed", "n_rated", "n_scored", "occupancy", "opened", "recognised", "score_sum",
        "specialism", "stage", "unqualified",
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
        self.n_scored = 0  # ratings since recognition with a score (the carrier was operating)
        self.score_sum = 0.0  # their scores' sum: promotion by list ranks on the mean
        self.unqualified = False  # the last rating
        self.mult_f = 1.0  # service quality paid by a performance subsidy: tenants' hazard factors
        self.mult_g = 1.0


class _Firm:
    """A firm's state. Plain slots: the engine makes one per firm, so this stays small."""

    __slots__ = (
        "angel", "birth", "carrier", "draws", "entry", "gap", "id", "index", "mark", "mult_f", "mult_g", "pending",
        "post", "qf", "qg", "qg_saved", "quality", "row", "sector", "source", "spent_f", "spent_g", "stage", "state",
        "target", "touch", "v", "visits",
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
        self.post: PostStay | None = None  # hazard terms carried from the last stay that sets any (sim.hazard_terms)
        self.touch = 0  # the last batch of policy-window changes that booked the firm (_Policies.changes)


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
        self.terms: StageTerms | None = None  # support, reveal_quality, after_stay (sim.hazard_terms)
        self.carrier_effects = False  # a performance subsidy can change its carriers' service factors
        self.new_caps: list[int] = []  # capacities and specialisms of the carriers it will open, in order
        self.new_specs: list[int] = []

    def next_waiting(self) -> _Firm:
        """Take the first live firm off the waiting lists, linked graduates first (``waiting`` must be > 0)."""
        priority = self.priority
        while priority:
            entry = priority.popleft()
            if _live(entry):
                self.waiting -= 1
                return entry[0]
        queue = self.queue
        while True:
            entry = queue.popleft()
            if _live(entry):
                self.waiting -= 1
                return entry[0]

    def drop_free(self, c: _Carrier) -> None:
        """Take carrier ``c`` off the list of carriers with room (swapping the last one into its place)."""
        free = self.free
        pos = c.free_pos
        last = free.pop()
        if last is not c:
            free[pos] = last
            last.free_pos = pos
        c.free_pos = -1


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
