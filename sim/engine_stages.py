"""Stages and carriers in the engine, set up from the scenario.

Each stage's hazards, routes, admission rules and screening become plain attributes of its run-time
state (:class:`sim.engine_state._Stage`); carriers of the start draw their capacities, levels,
specialisms and recognition dates from the stage's own streams, so that a change elsewhere never
changes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .distributions import Exponential
from .engine_hazards import _hazard
from .engine_state import _EXIT, INF, _Carrier, _cum_route, _Stage
from .event_log import CarrierInfo
from .hazard_terms import stage_terms
from .scenario import EXIT, LEVELS

if TYPE_CHECKING:
    from .engine import _Model


def _build_stages(m: _Model) -> None:
    """Each stage's run-time state from its spec, and the carriers it has at the start (levels, specialisms,
    capacities and recognition dates drawn from the stage's own streams)."""
    sc = m.sc
    for st, spec in zip(m.stages, sc.stages.values(), strict=True):
        st.fail = _hazard(spec.failure)
        st.grad = _hazard(spec.graduation)
        st.fail_age = spec.failure_clock == "age"
        st.grad_age = spec.graduation_clock == "age"
        if isinstance(spec.failure, Exponential) and not st.fail_age:
            st.fail_rate = spec.failure.rate
        if isinstance(spec.graduation, Exponential) and not st.grad_age:
            st.grad_rate = spec.graduation.rate
        st.exp_only = (st.fail is None or st.fail_rate > 0.0) and (st.grad is None or st.grad_rate > 0.0)
        st.max_stay = spec.max_stay_years if spec.max_stay_years is not None else INF
        st.grad_cum, st.grad_dest = _cum_route(spec.on_graduation, m.stage_index)
        st.out_cum, st.out_dest = _cum_route(spec.on_timeout, m.stage_index)
        fb = sc.fallback_of(st.name)
        st.fallback = _EXIT if fb == EXIT else m.stage_index[fb]
        adm = spec.admission
        if adm.on_full == "queue":
            st.queue_limit = INF if adm.queue_limit is None else float(adm.queue_limit)
            st.can_block = adm.on_queue_full == "block"
        else:
            st.queue_limit = 0.0
            st.can_block = adm.on_full == "block"
        st.patience = _hazard(adm.patience)
        st.terms = stage_terms(spec, sc.firms)
        if adm.screening is not None:
            st.screen_threshold = adm.screening.threshold
            st.screen_sd = adm.screening.noise_sd
        if spec.carriers is None:
            continue
        st.unlimited = False
        car = spec.carriers
        n = car.count
        g_cap = m.streams.generator("carrier_capacity", st.idx)
        if isinstance(car.capacity, int):
            caps = [car.capacity] * n
        elif isinstance(car.capacity, tuple):
            caps = list(car.capacity)
        else:
            caps = [max(1, int(round(x))) for x in car.capacity.sample(g_cap, n)]
        shares = [float(car.levels.get(lv, 0.0)) for lv in LEVELS]  # type: ignore[call-overload]
        # Which carrier has which level: the counts are fixed, the order is the stage's own draw.
        order = np.argsort(m.streams.generator("carrier_level", st.idx).random(n), kind="stable")
        levels = [0] * n
        for i, level in zip(order.tolist(), _level_counts(shares, n), strict=True):
            levels[i] = level
        g_spec = m.streams.generator("carrier_specialism", st.idx)
        u_spec = g_spec.random((n, 2))
        st.life = car.lifecycle
        recognised = (
            -m.streams.generator("carrier_recognised", st.idx).random(n) * car.lifecycle.recognition_years
            if car.lifecycle is not None
            else np.zeros(n)
        )
        for i in range(n):
            c = _add_carrier(m, st, levels[i], _specialism(m, u_spec[i], car.specialised_share), caps[i])
            c.recognised = float(recognised[i])


def _specialism(m: _Model, u: np.ndarray, share: float) -> int:
    """A carrier's specialism (sector index, -1 for none) from its two uniforms."""
    if u[0] >= share:
        return -1
    shares = m.sc.firms.sectors
    cum = np.cumsum(list(shares.values()))
    j = min(int(np.searchsorted(cum, u[1], side="right")), len(cum) - 1)
    return m.sector_index[list(shares)[j]]


def _add_carrier(m: _Model, st: _Stage, level: int, specialism: int, capacity: int, now: float = 0.0) -> _Carrier:
    """Open a carrier in stage ``st`` at ``now`` years, with room for ``capacity`` firms."""
    c = _Carrier(len(m.carriers), st.idx, level, specialism, capacity, len(st.carriers))
    c.opened = now
    c.recognised = now
    m.carriers.append(c)
    st.carriers.append(c)
    c.free_pos = len(st.free)
    st.free.append(c)
    m.carrier_info.append(
        CarrierInfo(c.id, st.name, LEVELS[level], m.sectors[specialism] if specialism >= 0 else None, capacity, now)
    )
    return c


def _level_counts(shares: list[float], n: int) -> list[int]:
    """The levels of ``n`` carriers with ``shares`` of each level, as a sorted list of level codes.

    Counts are the shares' quotas of ``n`` by largest remainder (Hamilton's method): each level gets the
    whole part of its quota, and the carriers left over go to the largest fractions (ties to the lower
    level). Shares of 0.34 / 0.33 / 0.33 and three carriers give one of each, not a draw that may give
    three of one level.
    """
    total = sum(shares)
    quotas = [n * s / total for s in shares]
    counts = [int(q) for q in quotas]
    by_fraction = sorted(range(len(shares)), key=lambda j: (-(quotas[j] - counts[j]), j))
    for j in by_fraction[: n - sum(counts)]:
        counts[j] += 1
    return [j for j, k in enumerate(counts) for _ in range(k)]
