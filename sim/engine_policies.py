"""Policies in the engine: the scenario's policies and shocks translated into windows in force, and applied.

See :class:`_Policies`. Costs are not the engine's business: they are derived from the event log
afterwards (:mod:`sim.budget`). Adding a policy type: docs/policies.md has the checklist; the type
checker's ``assert_never`` in :meth:`_Policies._translate` fails until the engine handles it.
"""

from __future__ import annotations

import functools
from bisect import bisect_right
from typing import TYPE_CHECKING, Any, assert_never

from .engine_state import _ATTRIBUTE, _RESIDENT, _URGENT, INF, _Call, _Carrier, _Firm, _info, _Stage
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
    Policy,
    RentRelief,
    Specialisation,
    Target,
    TaxRelief,
)
from .scenario import LEVELS

if TYPE_CHECKING:
    from .engine import _Model


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
        """Whether the target reaches stage ``stage_name``, carrier ``carrier`` and sector index ``sector``."""
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


class _Policies:
    """The scenario's policies and shocks as the engine applies them.

    Translation: each policy becomes windows in force on ``[start, end)`` (:meth:`build`): rent relief,
    specialisation and shocks become hazard multipliers with narrower targets; competitions are firm
    sources (:mod:`sim.engine_sources`); construction and performance subsidies and tax relief are read
    by the carrier life cycle (:mod:`sim.engine_lifecycle`). Application: windows open and close at
    policy edges (:meth:`start`), and manager matching and angel investment act on a firm as it is
    admitted (:meth:`match_manager`, :meth:`invest`). What the firm-level handlers read on every event
    (the windows in force for matching and investment, the chain links) is kept on the model itself.
    """

    def __init__(self, model: _Model) -> None:
        self.model = model
        self.windows: list[_Window] = []
        self.angel_spent: dict[tuple[int, int], float] = {}  # (policy index, policy year) -> yuan invested
        self.angel_index = {i for i, p in enumerate(model.sc.policies) if isinstance(p, AngelFund)}
        self.stamp = 0  # one number per batch of window changes (changes): the firms it has booked carry it

    # ---------------------------------------------------------------- translation
    def build(self) -> None:
        """Policy windows in scenario order, then shocks; rent relief and shocks act as hazard multipliers.

        A multiplier of exactly 1 is left out: it would change nothing but the rounding of re-timed
        events, and a policy without effect must reproduce the baseline log exactly.
        """
        m = self.model
        cal = m.sc.calendar
        for index, pol in enumerate(m.sc.policies):
            start = max(0.0, cal.years_since_start(pol.start)) if pol.start is not None else 0.0
            end = cal.years_since_start(pol.end) if pol.end is not None else INF
            if start >= m.horizon or end <= start:
                continue
            self._translate(pol, index, start, end)
        for shock in m.sc.shocks:
            start = max(0.0, cal.years_since_start(shock.start))
            end = cal.years_since_start(shock.end)
            if start >= m.horizon or end <= start:
                continue
            for hazard, default, by_sector in (
                ("failure", shock.failure_factor, shock.failure_by_sector),
                ("graduation", shock.graduation_factor, shock.graduation_by_sector),
            ):
                groups: dict[float, list[str]] = {}
                for sector in m.sectors:
                    groups.setdefault(by_sector.get(sector, default), []).append(sector)
                for factor, sectors in groups.items():
                    if factor != 1.0:
                        target = Target.model_validate({"sectors": tuple(sectors)})
                        pol = HazardMultiplier.model_validate({"hazard": hazard, "factor": factor, "target": target})
                        self.windows.append(_Window(start, end, pol))
        for w in self.windows:
            aim = getattr(w.policy, "target", None)
            if isinstance(aim, Target):
                w.match = _Match(aim, m.sectors)
            if isinstance(w.policy, HazardMultiplier) and w.match is not None:
                sw = m.switch
                if sw is not None and sw.traces(w.index):  # the decomposition's programme: recorded, maybe off
                    w.entry = (0 if w.policy.hazard == "failure" else 1, 1.0 if sw.off else w.policy.factor, w.match)
                    sw.entries.append(w.entry)
                else:
                    w.entry = (0 if w.policy.hazard == "failure" else 1, w.policy.factor, w.match)

    def _translate(self, pol: Policy, index: int, start: float, end: float) -> None:
        """The windows of policy number ``index`` in force on ``[start, end)`` years (none if it has no effect)."""
        m = self.model
        windows = self.windows
        sw = m.switch
        traced = sw is not None and sw.traces(index)
        match pol:
            case RentRelief():
                if pol.failure_factor != 1.0 or traced:
                    # Tenants only: a target with every level matches firms holding a carrier slot.
                    tenants = pol.target.model_copy(update={"levels": pol.target.levels or LEVELS})
                    relief = {"hazard": "failure", "factor": pol.failure_factor, "target": tenants}
                    windows.append(_Window(start, end, HazardMultiplier.model_validate(relief), index))
            case Specialisation():
                matched = pol.target.model_copy(update={"specialism_match": True})
                for hazard, factor in (("failure", pol.failure_factor), ("graduation", pol.graduation_factor)):
                    if factor != 1.0 or traced:
                        hm = HazardMultiplier.model_validate({"hazard": hazard, "factor": factor, "target": matched})
                        windows.append(_Window(start, end, hm, index))
            case Competition():
                pass  # a firm source of its own (see sim.engine_sources)
            case ConstructionSubsidy() | TaxRelief():
                windows.append(_Window(start, end, pol, index))  # read by the carrier life cycle
            case PerformanceSubsidy():
                if pol.failure_factor != 1.0 or pol.graduation_factor != 1.0 or traced:
                    for st in m.stages:
                        if st.life is not None and (pol.target.stages is None or st.name in pol.target.stages):
                            st.carrier_effects = True
                windows.append(_Window(start, end, pol, index))
            case AngelFund():
                if not (pol.graduation_factor == 1.0 and pol.amount_per_firm_yuan == 0):
                    m.angel_draws = True
                    windows.append(_Window(start, end, pol, index))
            case GmMatching():
                no_effect = pol.failure_factor == 1.0 and pol.graduation_factor == 1.0
                if pol.share_lacking > 0 and not (no_effect and pol.cost_per_match_yuan == 0):
                    m.gap_share = max(m.gap_share, pol.share_lacking)
                    windows.append(_Window(start, end, pol, index))
            case ChainLinkage():
                windows.append(_Window(start, end, pol))
                if traced and sw is not None:
                    sw.link = (m.stage_index[pol.from_stage], m.stage_index[pol.to_stage])
            case HazardMultiplier() | ArrivalMultiplier() | CapacityChange():
                # No effect at 1 (its cost, if any, is the ledger's business), unless the decomposition traces it
                if pol.factor != 1.0 or (traced and isinstance(pol, HazardMultiplier)):
                    windows.append(_Window(start, end, pol, index))
            case _:
                assert_never(pol)

    def arrival_steps(
        self, name: str, base_times: tuple[float, ...], base_rates: tuple[float, ...]
    ) -> tuple[list[float], list[float], list[float]]:
        """Breakpoints, rates and cumulative intensity of an arrival source (policies included)."""
        factors = [
            (w.start, w.end, w.policy.factor)
            for w in self.windows
            if isinstance(w.policy, ArrivalMultiplier) and (w.policy.arrivals is None or name in w.policy.arrivals)
        ]
        return _steps(base_times, base_rates, factors)

    # ---------------------------------------------------------------- application
    def start(self) -> None:
        """One event per distinct time at which windows open or close, applying them in scenario order."""
        m = self.model
        edges: dict[float, list[tuple[_Window, bool]]] = {}
        for w in self.windows:
            if isinstance(w.policy, ArrivalMultiplier | ConstructionSubsidy | PerformanceSubsidy | TaxRelief):
                continue  # folded into the arrival intensity, or read by the carrier life cycle
            edges.setdefault(w.start, []).append((w, True))
            if w.end < m.horizon:
                edges.setdefault(w.end, []).append((w, False))
        for t in sorted(edges):
            m._schedule(t, functools.partial(self.changes, edges[t]), 0.0, _URGENT)

    def changes(self, changes: list[tuple[_Window, bool]], event: _Call) -> None:
        """Windows opening or closing at one time: a firm whose multipliers change is booked once, before
        the first change touching it, and re-planned once, after the last (a shock by sector is several
        windows with the same edges)."""
        m = self.model
        now = event.t
        self.stamp += 1  # the firms booked in this call carry it
        touched: list[tuple[_Firm, _Stage]] = []
        i = 0
        n = len(changes)
        while i < n:
            w, on = changes[i]
            if isinstance(w.policy, HazardMultiplier):
                j = i + 1
                while j < n and isinstance(changes[j][0].policy, HazardMultiplier):
                    j += 1
                self._hazards(changes[i:j], now, touched)
                i = j
            else:
                self._change(w, on, now)
                i += 1
        for firm, st in touched:
            if firm.state == _RESIDENT:
                m._multipliers(firm, st)
                m._plan(firm, st, now)

    def _hazards(self, run: list[tuple[_Window, bool]], now: float, touched: list[tuple[_Firm, _Stage]]) -> None:
        """Hazard-multiplier windows opening or closing together at ``now``: each resident they reach is
        booked once and added to ``touched`` for re-planning.

        One pass over each stage's residents serves all the windows; a firm goes to the first window
        that reaches it, and ``touched`` gets them window by window, stage by stage, resident by resident:
        the order in which a pass per window would first reach each firm.
        """
        m = self.model
        stamp = self.stamp
        found: list[list[tuple[_Firm, _Stage]]] = [[] for _ in run]
        for st in m.stages:
            here: list[tuple[int, _Window]] = []
            for k, (w, on) in enumerate(run):
                pol = w.policy
                if pol.target.stages is not None and st.name not in pol.target.stages:
                    continue
                entry = w.entry
                if entry is None:
                    raise AssertionError("a hazard multiplier's window has no entry")
                if on:
                    st.hazard_policies.append(entry)
                else:
                    st.hazard_policies.remove(entry)
                here.append((k, w))
            if not here:
                continue
            for firm in st.residents.values():
                if firm.state != _RESIDENT or firm.touch == stamp:
                    continue
                for k, w in here:
                    if _matches(w, st.name, firm.carrier, firm.sector):
                        m._book(firm, st, now)  # with the multipliers in force until now
                        firm.touch = stamp
                        found[k].append((firm, st))
                        break
        for firms in found:
            touched.extend(firms)

    def _change(self, w: _Window, on: bool, now: float) -> None:
        """Window ``w`` (not a hazard multiplier: see :meth:`_hazards`) opens (``on``) or closes at ``now``."""
        m = self.model
        pol = w.policy
        match pol:
            case AngelFund():
                _toggle(m.angels, w, on)
            case GmMatching():
                _toggle(m.matching, w, on)
            case ChainLinkage():
                key = (m.stage_index[pol.from_stage], m.stage_index[pol.to_stage])
                m.links[key] = m.links.get(key, 0) + (1 if on else -1)
                if not m.links[key]:
                    del m.links[key]
            case CapacityChange():
                for st in m.stages:
                    changed = False
                    for c in st.carriers:
                        if c.closed < INF or not _matches(w, st.name, c, 0):
                            continue
                        changed = True
                        c.capacity = max(1, int(round(c.base_capacity * self.capacity_factor(st, c, now, w, on))))
                        if c.occupancy < c.capacity and c.free_pos < 0:
                            c.free_pos = len(st.free)
                            st.free.append(c)
                        elif c.occupancy >= c.capacity and c.free_pos >= 0:
                            st.drop_free(c)
                    if changed:
                        m._freed.append(st)
                m._drain(now)
            case _:
                raise AssertionError(f"{type(pol).__name__} has no policy edges")  # see start()

    def capacity_factor(self, st: _Stage, c: _Carrier, now: float, w: _Window | None = None, on: bool = True) -> float:
        """Product of the capacity changes in force for carrier ``c`` (window ``w`` taken as ``on``)."""
        factor = 1.0
        for w2 in self.windows:
            p2 = w2.policy
            active = (w2.start <= now < w2.end) if w2 is not w else on
            if isinstance(p2, CapacityChange) and active and _matches(w2, st.name, c, 0):
                factor *= p2.factor
        return factor

    def in_force(self, kind: type[PerformanceSubsidy | TaxRelief], st: _Stage, now: float) -> list[_Window]:
        """Windows of policies of ``kind`` in force at ``now`` whose target names ``st`` (or every stage)."""
        return [
            w
            for w in self.windows
            if type(w.policy) is kind
            and w.start <= now < w.end
            and (w.policy.target.stages is None or st.name in w.policy.target.stages)
        ]

    def match_manager(self, firm: _Firm, st: _Stage, c: _Carrier | None, now: float) -> None:
        """gm_matching: a lacking firm entering a targeted stage gets a manager (before its events are planned)."""
        for w in self.model.matching:
            pol = w.policy
            if _matches(w, st.name, c, firm.sector) and firm.gap < pol.share_lacking:
                self.model._row(now, firm.id, _ATTRIBUTE | st.code | (c.code if c is not None else 0) | _info(w.index))
                firm.qf *= pol.failure_factor
                firm.qg *= pol.graduation_factor
                firm.gap = 2.0
                return

    def invest(self, firm: _Firm, st: _Stage, c: _Carrier | None, now: float) -> None:
        """angel_fund: fund a firm whose signal passes, while the policy year's budget lasts."""
        for w in self.model.angels:
            if not _matches(w, st.name, c, firm.sector):  # first: the target is typed, the policy's fields are not
                continue
            pol = w.policy
            if firm.quality + pol.noise_sd * firm.angel < pol.threshold:
                continue
            if pol.budget_per_year_yuan is not None:
                key = (w.index, int((now - w.start) // 1.0))
                spent = self.angel_spent.get(key, 0.0)
                if spent + pol.amount_per_firm_yuan > pol.budget_per_year_yuan:
                    continue
                self.angel_spent[key] = spent + pol.amount_per_firm_yuan
            self.model._row(now, firm.id, _ATTRIBUTE | st.code | (c.code if c is not None else 0) | _info(w.index))
            firm.qg_saved = firm.qg
            firm.qg *= pol.graduation_factor
            firm.angel = -INF
            return


def _toggle(in_force: list[_Window], w: _Window, on: bool) -> None:
    """Add window ``w`` to (keeping scenario order) or remove it from a list of windows in force."""
    if on:
        in_force.append(w)
        in_force.sort(key=lambda x: x.index)
    else:
        in_force.remove(w)
