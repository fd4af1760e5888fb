"""Firm sources in the engine: arrival streams, the initial stock and competitions' intakes.

Every source makes its firms from its own firm-indexed draws (:class:`sim.streams.SourceDraws`), so
firm ``n`` of a source has the same attributes and per-visit numbers whatever else happens in the run
(common random numbers; see docs/model.md).
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_right
from typing import TYPE_CHECKING, Any

import numpy as np

from .engine_state import (
    _APPLY,
    _ARRIVE,
    _FLUSH_ROWS,
    _I_0,
    _INFO_SHIFT,
    _NORMAL,
    _SKIP,
    INF,
    _Call,
    _Firm,
    _info,
    _stage,
)
from .event_log import CarrierInfo, EventLog, SimOutput
from .policies import Competition, policy_name
from .streams import BLOCK, VISIT_STREAMS, SourceDraws

if TYPE_CHECKING:
    from .engine import _Model


class _Sources:
    """The run's firm sources and their factories (one per source, in source order once started)."""

    def __init__(self, model: _Model) -> None:
        self.model = model
        self.factories: list[_FirmFactory] = []

    def _visit_streams(self) -> tuple[str, ...]:
        """The per-visit streams this scenario can ever read (the others are not drawn)."""
        st = self.model.stages
        use = {
            "failure_budget": any(x.fail is not None for x in st),
            "graduation_budget": any(x.grad is not None for x in st),
            "route": any(len(x.grad_dest) > 1 or len(x.out_dest) > 1 for x in st),
            "carrier_pick": any(len(x.carriers) > 1 or x.new_caps for x in st),
            "patience_budget": any(x.patience is not None for x in st),
            "screen_noise": any(x.screen_threshold is not None for x in st),
        }
        return tuple(name for name in VISIT_STREAMS if use[name])

    def start(self) -> None:
        """Make every source's factory and start it: competitions' intakes, arrival streams, the initial stock.

        Sources are numbered arrivals first, then initial stock, then competitions (the order of
        :attr:`sim.event_log.SimOutput.source_names`); a source's firms draw from its own streams.
        """
        m = self.model
        sc = m.sc
        n_arr = len(sc.arrivals)
        visit_streams = self._visit_streams()
        steps: list[tuple[list[float], list[float], list[float]]] = []
        firms = float(sum(stock.count for stock in sc.initial_stock))
        for arr in sc.arrivals:
            times, rates = arr.rate_steps(sc.calendar)
            points, prates, cum = m.policies.arrival_steps(arr.name, times, rates)
            steps.append((points, prates, cum))
            i = bisect_right(points, m.horizon) - 1
            firms += cum[i] + prates[i] * (m.horizon - points[i]) if i >= 0 else 0.0
        m.queue.slice(firms)  # the slices of the kernel's queue, by the firms expected (arrivals and stock)
        # Competitions first in time order of set-up, but numbered after every arrival and stock source.
        s = n_arr + len(sc.initial_stock)
        cal = sc.calendar
        for pol in sc.policies:
            if not isinstance(pol, Competition):
                continue
            factory = _FirmFactory(
                m,
                s,
                SourceDraws(m.streams, s, visit_streams),
                pol.sectors or sc.firms.sectors,
                pol.quality,
                pol.age_years,
                None,
            )
            self.factories.append(factory)
            s += 1
            start = cal.years_since_start(pol.start) if pol.start is not None else 0.0
            end = cal.years_since_start(pol.end) if pol.end is not None else INF
            entry = m.stage_index[pol.stage]
            made = 0
            for date in sorted(pol.dates):
                t = cal.years_since_start(date)
                if 0.0 <= t < m.horizon and start <= t < end and pol.winners_per_event > 0:
                    m._schedule(t, functools.partial(self._intake, factory, entry, made, pol.winners_per_event), 0.0)
                    made += pol.winners_per_event
        for s, arr in enumerate(sc.arrivals):
            points, prates, cum = steps[s]
            factory = _FirmFactory(
                m,
                s,
                SourceDraws(m.streams, s, visit_streams),
                arr.sectors or sc.firms.sectors,
                arr.quality or sc.firms.quality,
                arr.age_years,
                None,
            )
            self.factories.append(factory)
            _ArrivalStream(m, factory, m.stage_index[arr.stage], points, prates, cum).next(0.0)
        for j, stock in enumerate(sc.initial_stock):
            s = n_arr + j
            factory = _FirmFactory(
                m,
                s,
                SourceDraws(m.streams, s, visit_streams),
                stock.sectors or sc.firms.sectors,
                stock.quality or sc.firms.quality,
                stock.age_years,
                stock.years_in_stage,
            )
            self.factories.append(factory)
            entry = m.stage_index[stock.stage]
            code = _ARRIVE | _stage(entry) | _info(s)
            for n in range(stock.count):
                firm, in_stage = factory.make(n, 0.0)
                m._row(0.0, firm.id, code)
                firm.entry = -in_stage
                m._apply(firm, entry, 0.0, from_stock=True)
                if len(m._bc) >= _FLUSH_ROWS:
                    m._flush()
                if m._freed:
                    m._drain(0.0)

    def _intake(self, factory: _FirmFactory, entry: int, first: int, count: int, event: _Call) -> None:
        """A competition's intake: ``count`` firms numbered from ``first`` arrive and are fast-tracked."""
        m = self.model
        now = event.t
        st = m.stages[entry]
        code = _ARRIVE | st.code | _info(factory.source)
        sw = m.switch
        ordinary = sw is not None and sw.off and sw.source == factory.source  # the decomposition's counterfactual
        for n in range(first, first + count):
            firm, _ = factory.make(n, now)
            m._row(now, firm.id, code)
            if ordinary:  # no fast track: the winner applies like any arriving firm
                m._apply(firm, entry, now)
                if m._freed:
                    m._drain(now)
                continue
            k = firm.visits
            firm.visits = k + 1
            firm.v = firm.draws.visit_columns(firm.index, k)
            m._row(now, firm.id, _APPLY | st.code | (k + 2) << _INFO_SHIFT)
            if st.unlimited or st.free:
                m._admit(firm, st, 0, now)
            elif st.waiting < st.queue_limit:
                m._enqueue(firm, st, now, front=True)
            else:
                m._row(now, firm.id, _SKIP | st.code | _info(st.fallback))
                m._to_fallback(firm, st, now)
            if m._freed:
                m._drain(now)

    def output(
        self, log: EventLog, carrier_info: list[CarrierInfo], carrier_events: list[tuple[float, int, int, int, int]]
    ) -> SimOutput:
        """The replication's output: the log, and each firm's source, number, sector, quality and birth."""
        m = self.model
        n = len(m.firms_source)
        source = np.fromiter(m.firms_source, np.int32, n)
        index = np.fromiter(m.firms_index, np.int64, n)
        sector = np.zeros(len(source), dtype=np.int16)
        quality = np.zeros(len(source), dtype=np.float64)
        for f in self.factories:
            mine = source == f.source
            if mine.any():
                sector[mine], quality[mine] = f.attributes(index[mine])
        sc = m.sc
        return SimOutput(
            log=log,
            stage_names=m.stage_names,
            sectors=m.sectors,
            carriers=carrier_info,
            firm_source=source,
            firm_index=index,
            firm_sector=sector,
            firm_quality=quality,
            firm_birth=np.fromiter(m.firms_birth, np.float64, n),
            source_names=tuple(a.name for a in sc.arrivals)
            + tuple(f"stock:{s.stage}:{i}" for i, s in enumerate(sc.initial_stock))
            + tuple(
                f"competition:{policy_name(p, i)}" for i, p in enumerate(sc.policies) if isinstance(p, Competition)
            ),
            horizon=m.horizon,
            carrier_events=carrier_events,
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
        """Arrival times of block ``block`` of the source's firms."""
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
        self.model.queue.push(_Call(self._fire, now + delay), _NORMAL, delay)

    def fire(self, event: _Call) -> None:
        """The next firm arrives (the event's time) and applies to the source's stage."""
        m = self.model
        now = event.t
        n = self.n
        t = self.times[n % BLOCK]  # the exact arrival time (``now`` is the kernel's sum for it)
        firm, _in_stage = self.factory.make(n, t)
        st = self.stage
        if m.fast and st.screen_threshold is None and (st.unlimited or st.free):
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
        """Attributes of block ``block`` of the source's firms, from their own draws."""
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
        ql: list[float] = q.tolist()
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
