"""The carrier life cycle in the engine: openings, yearly evaluations, recognition levels and closures.

See :class:`_Lifecycle` and docs/model.md ("Carriers over time"). The life cycle writes its own rows
(:attr:`sim.event_log.SimOutput.carrier_events`); what it does to firms goes through the model: a
closed carrier admits no one, a new one frees room, and a performance subsidy re-prices its tenants'
hazards.
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_right
from typing import TYPE_CHECKING, Final

import numpy as np

from .engine_policies import _steps
from .engine_stages import _add_carrier, _specialism
from .engine_state import (
    _ADMIT,
    _ATTRIBUTE,
    _CARRIER_SHIFT,
    _FAIL,
    _GRADUATE,
    _INFO_SHIFT,
    _LEAVE,
    _RESIDENT,
    INF,
    _Call,
    _Carrier,
    _Stage,
)
from .engine_untreated import paid_carriers
from .event_log import CARRIER_EVENTS
from .policies import ConstructionSubsidy, PerformanceSubsidy, TaxRelief
from .scenario import LEVELS, Evaluation, rate_steps

if TYPE_CHECKING:
    from .engine import _Model

_NOT_OPERATING: Final = -math.inf
"""Score of a carrier with too few tenant-years to be scored: rated unqualified, outside the ranking."""

# Kinds of life-cycle rows, codes of sim.event_log.CARRIER_EVENTS
_C_OPEN: Final = 0
_C_CLOSE: Final = 1
_C_RATING: Final = 2
_C_PROMOTE: Final = 3
_C_DEMOTE: Final = 4
_C_RENEW: Final = 5
if CARRIER_EVENTS != ("open", "close", "rating", "promote", "demote", "renew"):
    raise ImportError("sim.engine_lifecycle's row kinds disagree with sim.event_log.CARRIER_EVENTS")


class _Lifecycle:
    """Carriers opening during the run and the yearly round on every anniversary of the start.

    ``events`` holds the rows ``(time, carrier, kind code of CARRIER_EVENTS, level code after the event,
    info)``. The yearly evaluation reads last year's results from the event log itself: tenant-years,
    graduations, and tenants financed by an angel fund minus failures, per carrier.
    """

    def __init__(self, model: _Model) -> None:
        self.model = model
        self.events: list[tuple[float, int, int, int, int]] = []
        self._eval_row = 0  # first log row of the current evaluation year
        self._occ_start: list[int] = []  # carriers' occupancy at the last evaluation (by id)

    def start(self) -> None:
        """Schedule the openings and the yearly evaluations (nothing if no stage has a life cycle)."""
        m = self.model
        if not any(st.life is not None for st in m.stages):
            return
        self._plan_openings()
        k = 1
        while k < m.horizon:
            m._schedule(float(k), functools.partial(self._evaluate, k), 0.0)
            k += 1

    def _plan_openings(self) -> None:
        """Opening times of every stage's new carriers, and their capacities and specialisms.

        Openings are a Poisson process by inversion of the cumulative intensity (unit-rate epochs from
        the stage's ``carrier_opening`` stream), so a higher rate opens the same carriers earlier and
        more of them; carrier ``k`` opened in a stage draws its capacity and specialism as number ``k``
        of the stage's second block of ``carrier_capacity`` and ``carrier_specialism``.
        """
        m = self.model
        for st in m.stages:
            life = st.life
            if life is None:
                continue
            times, rates = rate_steps(life.opening_rate_per_year, m.sc.calendar)
            subsidies = [
                (w.start, w.end, w.policy.opening_rate_factor)
                for w in m.policies.windows
                if isinstance(w.policy, ConstructionSubsidy)
                and (w.policy.target.stages is None or st.name in w.policy.target.stages)
            ]
            points, prates, cum = _steps(times, rates, subsidies)
            total = cum[-1] + prates[-1] * (m.horizon - points[-1]) if points[-1] < m.horizon else cum[-1]
            g = m.streams.generator("carrier_opening", st.idx)
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
                if t < m.horizon:
                    open_times.append(t)
            n = len(open_times)
            if n == 0:
                continue
            car = m.sc.stages[st.name].carriers
            assert car is not None
            cap = car.capacity
            if isinstance(cap, int):
                st.new_caps = [cap] * n
            else:
                assert not isinstance(cap, tuple)  # validation: no list of capacities with openings
                g_cap = m.streams.generator("carrier_capacity", st.idx, 1)
                st.new_caps = [max(1, int(round(x))) for x in cap.sample(g_cap, n)]
            u_spec = m.streams.generator("carrier_specialism", st.idx, 1).random((n, 2))
            st.new_specs = [_specialism(m, u_spec[k], car.specialised_share) for k in range(n)]
            for k, t in enumerate(open_times):
                m._schedule(t, functools.partial(self._open, st, k), 0.0)

    def _open(self, st: _Stage, k: int, event: _Call) -> None:
        """The ``k``-th carrier opened in stage ``st`` opens now, recognised at the life cycle's level."""
        m = self.model
        now = event.t
        life = st.life
        assert life is not None
        c = _add_carrier(m, st, LEVELS.index(life.new_level), st.new_specs[k], st.new_caps[k], now)
        factor = m.policies.capacity_factor(st, c, now)
        if factor != 1.0:
            c.capacity = max(1, int(round(c.base_capacity * factor)))
        self.events.append((now, c.id, _C_OPEN, c.level, -1))
        m._freed.append(st)
        m._drain(now)

    def _year_results(self, now: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per carrier id, over the year to ``now``: tenant-years, graduations, and financed minus failed.

        Read from the event log's rows since the last evaluation (a copy of that slice: the log's
        buffers keep growing).
        """
        m = self.model
        m._flush()
        i0 = self._eval_row
        n_car = len(m.carriers)
        t = np.frombuffer(m.log.time[i0:], dtype=np.float64)
        code = np.frombuffer(m.log.code[i0:], dtype=np.int64)
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
        if m.policies.angel_index:
            funded = in_carrier & (ev == _ATTRIBUTE) & np.isin(info, list(m.policies.angel_index))
            net += np.bincount(carrier[funded], minlength=n_car)
        self._eval_row = len(m.log)
        self._occ_start = [c.occupancy for c in m.carriers]
        return tenant_years, grads, net

    def _evaluate(self, year: int, event: _Call) -> None:
        """The yearly round on an anniversary of the start: closures, then ratings, levels and subsidies."""
        m = self.model
        now = event.t
        tenant_years, grads, net = self._year_results(now)
        log = self.events
        for st in m.stages:
            life = st.life
            if life is None:
                continue
            # Closures (hazard from the last rating and any tax relief in force)
            u = m.streams.generator("carrier_fate", st.idx, year).random(len(st.carriers))
            tax = m.policies.in_force(TaxRelief, st, now)
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
                        st.drop_free(c)
                    log.append((now, c.id, _C_CLOSE, c.level, -1))
            # Ratings, recognition levels, performance subsidies
            ev = life.evaluation
            paying = m.policies.in_force(PerformanceSubsidy, st, now)
            sw = m.switch  # the decomposition's programme, if a performance subsidy: its carriers, maybe off
            programme_paid: list[_Carrier] = []
            new_mult: dict[int, tuple[float, float]] = {}
            cohort = [c for c in st.carriers if c.closed == INF and c.opened <= now - 1.0 + 1e-9]
            scores = [_NOT_OPERATING] * len(cohort)
            for j, c in enumerate(cohort):
                ty = tenant_years[c.id]
                if ty > 0.0 and ty >= ev.min_tenant_years:
                    scores[j] = (grads[c.id] + net[c.id]) / ty
            order = self._order(st, year, cohort) if ev.basis == "rank" or life.promotions_per_year else []
            ratings = _rank_ratings(scores, order, ev) if ev.basis == "rank" else _score_ratings(scores, ev)
            moved: set[int] = set()
            due: list[_Carrier] = []
            for c, rating, score in zip(cohort, ratings, scores, strict=True):
                log.append((now, c.id, _C_RATING, c.level, rating))
                mf = mg = 1.0
                for w in paying:
                    pol = w.policy
                    if rating >= 1 and (pol.target.levels is None or LEVELS[c.level] in pol.target.levels):
                        if sw is not None and sw.traces(w.index):
                            programme_paid.append(c)
                            if sw.off:
                                continue
                        mf *= pol.failure_factor
                        mg *= pol.graduation_factor
                if st.carrier_effects and (mf, mg) != (c.mult_f, c.mult_g):
                    new_mult[c.id] = (mf, mg)
                c.unqualified = rating == 0
                c.n_rated += 1
                c.n_failed += rating == 0
                c.n_excellent += rating == 2
                if score != _NOT_OPERATING:
                    c.n_scored += 1
                    c.score_sum += score
                if c.level > 0 and c.n_failed >= life.demote_after_failed:
                    self._relevel(c, c.level - 1, _C_DEMOTE, now)
                    moved.add(c.id)
                elif now - c.recognised >= life.recognition_years - 1e-9:
                    rated = c.n_rated
                    if life.promotions_per_year:
                        due.append(c)  # renewed after the lists, which rank on the ratings since recognition
                    elif rated and c.n_excellent >= life.promote_excellent_share * rated - 1e-9 and c.level < 2:
                        self._relevel(c, c.level + 1, _C_PROMOTE, now)
                    else:
                        self._relevel(c, c.level, _C_RENEW, now)
            if sw is not None and sw.kind == "performance":
                paid_carriers(sw, st, programme_paid)
            if life.promotions_per_year:
                self._promote_by_list(st, cohort, order, moved, now)
                for c in due:
                    if c.id not in moved:
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

    def _order(self, st: _Stage, year: int, cohort: list[_Carrier]) -> list[float]:
        """Per member of ``cohort``, a uniform from the stream ``carrier_rating`` (by carrier) ordering
        equal scores and equal means in relative ratings and promotion lists."""
        u = self.model.streams.generator("carrier_rating", st.idx, year).random(len(st.carriers))
        return [float(u[c.local]) for c in cohort]

    def _promote_by_list(
        self, st: _Stage, cohort: list[_Carrier], order: list[float], moved: set[int], now: float
    ) -> None:
        """Promotions by list (:attr:`sim.scenario.Lifecycle.promotions_per_year`), top level first."""
        m = self.model
        life = st.life
        assert life is not None and life.promotions_per_year is not None
        lists = sorted(
            ((LEVELS.index(name), rate) for name, rate in life.promotions_per_year.items()), key=lambda x: -x[0]
        )
        for level, rate in lists:
            times, rates = rate_steps(rate, m.sc.calendar)
            k = int(math.floor(rates[bisect_right(times, now - 1e-9)] + 0.5))
            ranked = sorted(
                (-c.score_sum / c.n_scored, order[j], j)
                for j, c in enumerate(cohort)
                if c.level == level - 1 and c.n_scored > 0 and c.id not in moved and c.closed == INF
            )
            for _, _, j in ranked[:k]:
                c = cohort[j]
                self._relevel(c, level, _C_PROMOTE, now)
                moved.add(c.id)

    def _relevel(self, c: _Carrier, level: int, kind: int, now: float) -> None:
        """Carrier ``c`` is recognised at ``level`` now (a promotion, demotion or renewal, by ``kind``)."""
        c.level = level
        c.recognised = now
        c.n_rated = 0
        c.n_failed = 0
        c.n_excellent = 0
        c.n_scored = 0
        c.score_sum = 0.0
        self.events.append((now, c.id, kind, level, -1))

    def _reprice(self, st: _Stage, new_mult: dict[int, tuple[float, float]], now: float) -> None:
        """Set carriers' service factors, re-timing their residents' pending events from the budget left."""
        m = self.model
        touched = [
            f
            for f in st.residents.values()
            if f.state == _RESIDENT and f.carrier is not None and f.carrier.id in new_mult
        ]
        for firm in touched:
            m._book(firm, st, now)
        for cid, (mf, mg) in new_mult.items():
            m.carriers[cid].mult_f = mf
            m.carriers[cid].mult_g = mg
        for firm in touched:
            m._multipliers(firm, st)
            m._plan(firm, st, now)


def _score_ratings(scores: list[float], ev: Evaluation) -> list[int]:
    """Ratings (0 unqualified, 1 qualified, 2 excellent) by the absolute thresholds of ``ev``."""
    return [0 if s == _NOT_OPERATING or s < ev.fail_below else (2 if s >= ev.excellent_from else 1) for s in scores]


def _rank_ratings(scores: list[float], order: list[float], ev: Evaluation) -> list[int]:
    """Ratings relative to the cohort: the worst ``unqualified_share`` of the scored carriers unqualified,
    the best ``excellent_share`` excellent (whole carriers, rounded), equal scores ordered by ``order``."""
    ranked = sorted((s, order[j], j) for j, s in enumerate(scores) if s != _NOT_OPERATING)
    n = len(ranked)
    n_fail = int(math.floor(ev.unqualified_share * n + 0.5))
    n_best = min(int(math.floor(ev.excellent_share * n + 0.5)), n - n_fail)
    out = [0] * len(scores)
    for pos, (_, _, j) in enumerate(ranked):
        out[j] = 0 if pos < n_fail else (2 if pos >= n - n_best else 1)
    return out
