"""A programme switched off for the same admissions: the counterfactual of :func:`sim.decompose`.

A stage (:class:`Untreated`): a firm admitted to the stage is admitted exactly as in the factual world
(the same rows, the same slot), then leaves at once for the stage's fallback, as a turned-away firm
would: it gets nothing of the programme (its hazards, graduation and success test, onward route,
support or any policy aimed at its tenants). Its slot stays taken until the time the factual stay
ended, so the stage's slots free at the same times and the same firms get in.

A policy or a competition (:class:`PolicySwitch`): the engine records which firms the policy treats and,
switched off, gives them a factor of 1 (or the ordinary queue) where the policy would act, while the
policy's windows, payments and winners stay as they are. Compiled with the engine (``hatch_build.py``).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from .engine_state import _LEAVE, _RESIDENT, _TRANSIT, _Call, _Carrier, _Firm, _info, _Stage
from .event_log import SimOutput

if TYPE_CHECKING:
    from .engine import _Model
    from .engine_policies import _Match

__all__ = ["PolicySwitch", "Programme", "Untreated"]


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


class PolicySwitch:
    """A policy or competition as a programme: the firms it treats are recorded, and ``off`` withholds the treatment.

    ``index`` is the policy's place in the scenario's policies; ``kind`` says how it treats firms:

    * ``"hazard"`` (``hazard_multiplier``, ``rent_relief``, ``specialisation``): a firm is treated while the
      policy's multiplier applies to it; ``off`` applies a factor of 1 instead (the windows open and close
      as before).
    * ``"performance"`` (``performance_subsidy``): a firm is treated while a carrier the policy pays holds it;
      ``off`` pays the same carriers but their service factors stay at 1.
    * ``"link"`` (``chain_linkage``): a graduate is treated when it is put on the priority list; ``off``
      puts it on the ordinary waiting list instead.
    * ``"competition"``: the winners (the competition's own firm source, ``source``) are treated by the
      fast track; ``off`` has them apply like any arriving firm (screened, the ordinary waiting list).

    Without ``off`` the switch only records: the run writes the same log as without it. ``reached``
    holds the ids of the firms treated (or, ``off``, that would have been).
    """

    def __init__(self, kind: str, index: int, off: bool, source: int = -1) -> None:
        self.kind = kind
        self.index = index
        self.off = off
        self.source = source
        self.reached: set[int] = set()
        self.entries: list[tuple[int, float, _Match]] = []  # the policy's hazard entries (set when built)
        self.paid: set[int] = set()  # carriers the policy pays now (performance)
        self.link: tuple[int, int] = (-1, -1)  # (from stage, to stage) of a chain linkage

    def traces(self, index: int) -> bool:
        """Whether policy number ``index`` is this programme."""
        return index == self.index


Programme = Untreated | PolicySwitch
"""What :func:`sim.engine.simulate` can switch off for the same firms: a stage, or a policy or competition."""


def track_multipliers(sw: PolicySwitch, firm: _Firm, st: _Stage) -> None:
    """Record the firm if the policy's multiplier applies to it in ``st`` now, or its carrier is paid."""
    c = firm.carrier
    if c is not None and c.id in sw.paid:
        sw.reached.add(firm.id)
        return
    for e in sw.entries:
        # By the target's identity (each window has its own): compiled, the entry tuples are copied.
        if any(x[2] is e[2] for x in st.hazard_policies) and e[2].matches(st.name, c, firm.sector):
            sw.reached.add(firm.id)
            return


def link_treated(sw: PolicySwitch, firm: _Firm, st: _Stage) -> bool:
    """A linked graduate joins ``st``'s waiting list: whether it goes to the priority list.

    Recorded if the link is the programme's; off, the programme's link gives no priority.
    """
    if sw.link != (firm.stage, st.idx):
        return True
    sw.reached.add(firm.id)
    return not sw.off


def paid_carriers(sw: PolicySwitch, st: _Stage, paid: list[_Carrier]) -> None:
    """The programme's carriers in ``st`` after an evaluation: ``paid``; their residents are treated now."""
    sw.paid.difference_update(c.id for c in st.carriers)
    for c in paid:
        sw.paid.add(c.id)
    if paid:
        for firm in st.residents.values():
            if firm.state == _RESIDENT and firm.carrier is not None and firm.carrier.id in sw.paid:
                sw.reached.add(firm.id)


def finish(p: Programme | None, out: SimOutput) -> None:
    """What the switch tells the caller: stays without a factual match; the firms treated."""
    if isinstance(p, Untreated):
        out.extras["untreated_unmatched"] = p.unmatched
    elif isinstance(p, PolicySwitch):
        out.extras["programme_reached"] = sorted(p.reached)
