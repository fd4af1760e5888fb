"""Named random streams from one seed, built for common random numbers.

Design
------
Every random quantity in a replication comes from a stream named in :data:`STREAMS`, an
append-only registry: a stream's number never changes, so adding a stream never shifts the others.
A stream's generator for a given purpose is ``PCG64(SeedSequence(seed, spawn_key=(replication,
stream, source, block)))``: it depends only on those numbers, never on the order in which the model
asks for draws. There is no global RNG anywhere.

Firms' draws are indexed by the firm, not by time. Firms come from *sources* (an arrival stream,
an initial-stock entry) and are numbered within their source (``source_index``). A firm's
attributes and its per-visit draws live in blocks of :data:`BLOCK` firms: firm ``n`` of source
``s`` reads row ``n % BLOCK`` of block ``n // BLOCK``. Per-visit streams (failure and graduation
clock budgets, routing, carrier choice, patience, screening noise) are drawn per ``(block, visit
number)``: the ``k``-th stage a firm applies to uses the numbers of visit ``k``, whenever that
happens.

So replication ``r`` of a baseline and of a policy variant give firm ``(s, n)`` exactly the same
luck: the same arrival epoch on the unit-rate clock, the same quality and sector, the same clock
budgets at its ``k``-th stage. A policy that changes one firm's fate leaves every other firm's
draws where they were; differences between the runs come from the policy and from interactions
(competition for slots), not from reshuffled random numbers.

Hazard-based durations use unit-exponential *clock budgets*: a duration ends when the firm's
cumulative (policy-scaled) hazard reaches its budget. Changing a hazard multiplier mid-stay
re-times the event from the budget left, which keeps common random numbers intact.

A model may say which per-visit streams it can ever read (a scenario without patience never reads
``patience_budget``); the others are not drawn at all. That saves time and changes nothing else: a
stream's numbers depend only on its key, so drawing or skipping one never moves another.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Collection
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["BLOCK", "STREAMS", "VISIT_STREAMS", "SourceDraws", "Streams", "VisitColumns", "VisitDraws", "stream_id"]

STREAMS: tuple[str, ...] = (
    # 0..: append only; never reorder or remove.
    "arrival_epochs",  # unit-rate Poisson epochs of an arrival source
    "sector",  # uniform for the firm's sector
    "quality",  # the firm's latent quality
    "age",  # age on arrival / at the start
    "years_in_stage",  # initial stock: time already spent in the stage
    "failure_budget",  # per visit: Exp(1) budget of the failure clock
    "graduation_budget",  # per visit: Exp(1) budget of the graduation clock
    "route",  # per visit: uniform for the routing choice on leaving
    "carrier_pick",  # per visit: uniform for the choice among carriers with room
    "patience_budget",  # per visit: Exp(1) budget of the patience clock
    "screen_noise",  # per visit: standard normal noise of the screening signal
    "carrier_capacity",  # carrier set-up: capacity draws
    "carrier_level",  # carrier set-up: level
    "carrier_specialism",  # carrier set-up: specialised or not, and in which sector
    "manager_gap",  # per firm: uniform; the firm lacks an experienced manager if below a gm_matching share
    "angel_signal",  # per firm: standard normal noise of an angel fund's quality signal
    "carrier_opening",  # carrier life cycle: unit-rate epochs of a stage's openings
    "carrier_fate",  # carrier life cycle: per stage and year, one uniform per carrier for closure
    "carrier_recognised",  # carrier life cycle: initial carriers' time since their last recognition
    "milestone",  # per graduation: uniform for which success test (milestone) a graduate met
    "listing",  # per firm: Exp(1) budget of the listing clock, and the uniform for its market
    "jobs",  # per firm: the firm's own factor on the jobs curve
    "parameter_draws",  # uncertainty analyses: the design of parameter draws (replication 0), never the engine
    "carrier_rating",  # carrier life cycle: per stage and year, one uniform per carrier ordering equal scores
)

_BLOCK_BITS: Final = 12
BLOCK: Final = 1 << _BLOCK_BITS
"""Firms per block of pre-drawn numbers (4096)."""
_ROW_MASK: Final = BLOCK - 1

_VISITS_KEY: Final = 1 << 20
"""Blocks of per-visit draws are keyed ``block * _VISITS_KEY + visit``: room for a million visits."""

FloatArray = npt.NDArray[np.float64]


def stream_id(name: str) -> int:
    """The registry number of a stream."""
    return STREAMS.index(name)


class Streams:
    """All random streams of one replication: ``(seed, replication) -> generators``."""

    def __init__(self, seed: int, replication: int = 0) -> None:
        if seed < 0 or replication < 0:
            raise ValueError("seed and replication must be >= 0")
        self.seed = int(seed)
        self.replication = int(replication)

    def generator(self, stream: str, source: int = 0, block: int = 0) -> np.random.Generator:
        """An independent generator for ``(stream, source, block)`` of this replication."""
        ss = np.random.SeedSequence(self.seed, spawn_key=(self.replication, stream_id(stream), source, block))
        return np.random.Generator(np.random.PCG64(ss))

    def source(self, source: int) -> SourceDraws:
        """The firm-indexed draws of one firm source."""
        return SourceDraws(self, source)


_PerVisit = Callable[[np.random.Generator, int], FloatArray]

_VISIT_STREAMS: dict[str, _PerVisit] = {
    "failure_budget": lambda g, n: g.standard_exponential(n),
    "graduation_budget": lambda g, n: g.standard_exponential(n),
    "route": lambda g, n: g.random(n),
    "carrier_pick": lambda g, n: g.random(n),
    "patience_budget": lambda g, n: g.standard_exponential(n),
    "screen_noise": lambda g, n: g.standard_normal(n),
}
VISIT_STREAMS: tuple[str, ...] = tuple(_VISIT_STREAMS)
"""The per-visit streams, in the order of the tuple :meth:`SourceDraws.visit` returns."""

VisitDraws = tuple[float, float, float, float, float, float]
VisitColumns = tuple["array[float]", "array[float]", "array[float]", "array[float]", "array[float]", "array[float]"]

_UNUSED = array("d", [math.nan]) * BLOCK  # stands in for a per-visit stream the model never reads
_CACHE_BLOCKS = 64
"""(block, visit) entries kept per source at first (8 bytes a number: 6 x 4096 x 8 = 192 KiB each). One
dropped is drawn again, identically, if needed again; each time that happens the cache doubles, up to
:data:`_CACHE_MAX` entries, so long-lived firms do not make the same numbers be drawn over and over."""
_CACHE_MAX = 4096


class SourceDraws:
    """Firm-indexed random numbers of one source (arrival stream or stock entry)."""

    def __init__(self, streams: Streams, source: int, visit_streams: Collection[str] | None = None) -> None:
        self._streams = streams
        self._source = source
        self._visit_blocks: dict[int, VisitColumns] = {}
        self._cache_size = _CACHE_BLOCKS
        self._dropped: set[int] = set()
        self._epoch_block = -1
        self._epochs: list[float] = []
        self._epoch_base = 0.0
        # Per-visit streams to draw, in VISIT_STREAMS order; the others read as NaN (never used).
        wanted = VISIT_STREAMS if visit_streams is None else tuple(visit_streams)
        unknown = set(wanted) - set(VISIT_STREAMS)
        if unknown:
            raise ValueError(f"not per-visit streams: {sorted(unknown)}")
        self._visit_draws = [(name, draw if name in wanted else None) for name, draw in _VISIT_STREAMS.items()]

    def firm_values(
        self, stream: str, block: int, draw: Callable[[np.random.Generator, int], FloatArray]
    ) -> FloatArray:
        """One value per firm of ``block`` from ``stream``, drawn by ``draw(generator, BLOCK)``."""
        return draw(self._streams.generator(stream, self._source, block), BLOCK)

    def visit(self, index: int, k: int) -> VisitDraws:
        """Firm ``index``'s draws for its ``k``-th stage visit, one per stream in :data:`VISIT_STREAMS`.

        Draws for visit ``k`` of a block of firms come from generators keyed by ``(stream, source,
        block * VISITS_KEY + k)``: they are drawn when the first firm of the block gets there, kept in
        a small cache, and drawn again (identically) if needed after leaving it.
        """
        row = index & _ROW_MASK
        f, g, route, pick, patience, screen = self.visit_columns(index, k)
        return f[row], g[row], route[row], pick[row], patience[row], screen[row]

    def visit_columns(self, index: int, k: int) -> VisitColumns:
        """The ``k``-th visit draws of firm ``index``'s whole block: one column per stream in
        :data:`VISIT_STREAMS`; the firm's own numbers are at row ``index % BLOCK`` (as in :meth:`visit`).

        Holding the columns instead of copying the firm's numbers out costs nothing per firm.
        """
        key = (index >> _BLOCK_BITS) * _VISITS_KEY + k
        cols = self._visit_blocks.get(key)
        if cols is None:
            cols = self._draw_visit_block(key)
        return cols

    def _draw_visit_block(self, key: int) -> VisitColumns:
        f, g, route, pick, patience, screen = (
            array("d", draw(self._streams.generator(name, self._source, key), BLOCK).tobytes())
            if draw is not None
            else _UNUSED
            for name, draw in self._visit_draws
        )
        cols = (f, g, route, pick, patience, screen)
        blocks = self._visit_blocks
        if key in self._dropped and self._cache_size < _CACHE_MAX:
            # Drawn again after being dropped: firms stay in the model longer than the cache remembers.
            self._cache_size *= 2
        if len(blocks) >= self._cache_size:
            # Drop the oldest block's earliest visit: its firms are the likeliest to be past it.
            old = min(blocks)
            del blocks[old]
            self._dropped.add(old)
        blocks[key] = cols
        return cols

    def epoch(self, index: int) -> float:
        """The ``index``-th epoch (0-based) of this source's unit-rate Poisson process."""
        block, row = divmod(index, BLOCK)
        if block != self._epoch_block:
            self._epochs = self.epochs(block).tolist()
        return self._epochs[row]

    def epochs(self, block: int) -> FloatArray:
        """Epochs ``block * BLOCK ..`` of this source's unit-rate Poisson process (blocks read in order)."""
        if block != self._epoch_block + 1:
            raise ValueError("epochs must be read in order")
        gen = self._streams.generator("arrival_epochs", self._source, block)
        out = self._epoch_base + np.cumsum(gen.standard_exponential(BLOCK))
        self._epoch_base = float(out[-1])
        self._epoch_block = block
        return out
