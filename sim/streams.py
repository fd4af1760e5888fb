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
clock budgets, routing, carrier choice, patience, screening noise) have :data:`VISITS` columns: the
``k``-th stage a firm applies to uses column ``k``; a firm that applies to more stages than that
gets further columns from a generator keyed by the firm itself.

So replication ``r`` of a baseline and of a policy variant give firm ``(s, n)`` exactly the same
luck: the same arrival epoch on the unit-rate clock, the same quality and sector, the same clock
budgets at its ``k``-th stage. A policy that changes one firm's fate leaves every other firm's
draws where they were; differences between the runs come from the policy and from interactions
(competition for slots), not from reshuffled random numbers.

Hazard-based durations use unit-exponential *clock budgets*: a duration ends when the firm's
cumulative (policy-scaled) hazard reaches its budget. Changing a hazard multiplier mid-stay
re-times the event from the budget left, which keeps common random numbers intact.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

__all__ = ["BLOCK", "STREAMS", "VISITS", "SourceDraws", "Streams", "stream_id"]

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
)

BLOCK = 4096
"""Firms per block of pre-drawn numbers."""

VISITS = 8
"""Per-visit columns drawn in a block; later visits are drawn per firm."""

_EXTRA_BLOCK = 1 << 30  # block index reserved for per-firm overflow draws

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


_PerVisit = Callable[[np.random.Generator, tuple[int, ...]], FloatArray]

_VISIT_STREAMS: dict[str, _PerVisit] = {
    "failure_budget": lambda g, shape: g.standard_exponential(shape),
    "graduation_budget": lambda g, shape: g.standard_exponential(shape),
    "route": lambda g, shape: g.random(shape),
    "carrier_pick": lambda g, shape: g.random(shape),
    "patience_budget": lambda g, shape: g.standard_exponential(shape),
    "screen_noise": lambda g, shape: g.standard_normal(shape),
}
VISIT_STREAMS: tuple[str, ...] = tuple(_VISIT_STREAMS)


class SourceDraws:
    """Firm-indexed random numbers of one source (arrival stream or stock entry)."""

    def __init__(self, streams: Streams, source: int) -> None:
        self._streams = streams
        self._source = source
        self._visit_blocks: dict[tuple[str, int], list[list[float]]] = {}
        self._epoch_block = -1
        self._epochs: list[float] = []
        self._epoch_base = 0.0

    def firm_values(
        self, stream: str, block: int, draw: Callable[[np.random.Generator, int], FloatArray]
    ) -> FloatArray:
        """One value per firm of ``block`` from ``stream``, drawn by ``draw(generator, BLOCK)``."""
        return draw(self._streams.generator(stream, self._source, block), BLOCK)

    def visit_rows(self, index: int) -> tuple[list[float], ...]:
        """The per-visit rows of firm ``index``, one list per stream in :data:`VISIT_STREAMS`.

        Each row has :data:`VISITS` entries; :meth:`extend_row` adds more when a firm needs them.
        """
        block, row = divmod(index, BLOCK)
        out = []
        for name, draw in _VISIT_STREAMS.items():
            key = (name, block)
            rows = self._visit_blocks.get(key)
            if rows is None:
                gen = self._streams.generator(name, self._source, block)
                rows = draw(gen, (BLOCK, VISITS)).tolist()
                self._visit_blocks[key] = rows
            out.append(rows[row])
        if row == BLOCK - 1:
            # The last firm of a block has its rows; the block's storage is no longer needed.
            for name in _VISIT_STREAMS:
                self._visit_blocks.pop((name, block), None)
        return tuple(out)

    def extend_row(self, stream: str, index: int, row: list[float]) -> None:
        """Append further per-visit draws to ``row`` (firm ``index``'s row of ``stream``)."""
        gen = np.random.Generator(
            np.random.PCG64(
                np.random.SeedSequence(
                    self._streams.seed,
                    spawn_key=(
                        self._streams.replication,
                        stream_id(stream),
                        self._source,
                        _EXTRA_BLOCK,
                        index,
                        len(row),
                    ),
                )
            )
        )
        row.extend(_VISIT_STREAMS[stream](gen, (VISITS,)).tolist())

    def epoch(self, index: int) -> float:
        """The ``index``-th epoch (0-based) of this source's unit-rate Poisson process."""
        block, row = divmod(index, BLOCK)
        if block != self._epoch_block:
            if block != self._epoch_block + 1:
                raise ValueError("epochs must be read in order")
            base = self._epochs[-1] if self._epochs else 0.0
            gen = self._streams.generator("arrival_epochs", self._source, block)
            self._epochs = (base + np.cumsum(gen.standard_exponential(BLOCK))).tolist()
            self._epoch_block = block
        return self._epochs[row]
