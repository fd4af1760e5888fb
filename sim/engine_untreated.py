"""A programme stage switched off for the same admissions: the counterfactual of :func:`sim.decompose`.

A firm admitted to the stage is admitted exactly as in the factual world (the same rows, the same
slot), then leaves at once for the stage's fallback, as a turned-away firm would: it gets nothing of
the programme (its hazards, graduation and success test, onward route, support or any policy aimed at
its tenants). Its slot stays taken until the time the factual stay ended, so the stage's slots free at
the same times and the same firms get in. Compiled with the engine (``hatch_build.py``).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from .engine_state import _LEAVE, _TRANSIT, _Call, _Carrier, _Firm, _info, _Stage

if TYPE_CHECKING:
    from .engine import _Model

__all__ = ["Untreated"]


class Untreated:
    """Which stage is switched off, and when each factual stay there ended.

    ``stays`` maps ``(source, number, n)`` -- a firm's ``n``-th admission to ``stage``, counted from 0 --
    to the time (years) that stay ended in the factual world (``inf`` if it had not ended by the horizon;
    :func:`sim.decomposition.factual_stays`). A firm admitted without a factual stay (admissions can
    differ where the outside option feeds back into the stage) frees its slot at once; ``unmatched``
    counts them (``SimOutput.extras["untreated_unmatched"]``).
    """

    def __init__(self, stage: str, stays: dict[tuple[int, int, int], float]) -> None:
        self.stage = stage
        self.stays = stays
        self.admissions: dict[int, int] = {}  # firm id -> admissions to the stage so far
        self.unmatched = 0


def untreated_stay(m: _Model, u: Untreated, firm: _Firm, st: _Stage, c: _Carrier | None, now: float) -> None:
    """The firm just admitted to the switched-off stage leaves for the fallback; its slot stays held."""
    n = u.admissions.get(firm.id, 0)
    u.admissions[firm.id] = n + 1
    end = u.stays.get((firm.source, firm.index, n))
    if end is None:
        u.unmatched += 1
        end = now
    m._row(now, firm.id, _LEAVE | st.code | (c.code if c is not None else 0) | _info(st.fallback))
    del st.residents[firm.id]
    firm.state = _TRANSIT
    firm.carrier = None
    if c is not None and end < m.horizon:
        m._schedule(end, functools.partial(_free_slot, m, st, c), now)
    m._to_fallback(firm, st, now)


def _free_slot(m: _Model, st: _Stage, c: _Carrier, event: _Call) -> None:
    """A slot held for an untreated firm's factual stay frees."""
    c.occupancy -= 1
    if c.free_pos < 0 and c.occupancy < c.capacity:
        c.free_pos = len(st.free)
        st.free.append(c)
    m._freed.append(st)
    m._drain(event.t)
