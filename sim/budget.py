"""The public budget ledger: one row per payment a policy makes, derived from the scenario and the event log.

Every cost rule in :mod:`sim.policies` is a pure function of the scenario and the event log, so the
ledger is computed after the run (no instrumentation in the engine) and is the one place payments are
read: :attr:`sim.RunResult.ledger`. Only payments falling before the horizon are in it.

Columns (:data:`LEDGER_COLUMNS`): ``scenario``, ``replication``, ``time_years`` (years since the
start), ``date``, ``policy`` (its name), ``instrument`` (its type), ``recipient_kind`` (``carrier``,
``firm`` or ``programme`` for running costs without a single recipient), ``recipient`` (carrier or
firm id, -1 for a programme) and ``amount_yuan``. Rows are ordered by policy (scenario order), then
time, then recipient.
"""

from __future__ import annotations

import math
from typing import Any, assert_never

import numpy as np
import pandas as pd

from .calendar import date_of_decimal_year
from .event_log import CARRIER_EVENTS, CarrierInfo, Ev, SimOutput, event_rows, event_values, stable_order
from .lifecycle import level_spans
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
    TaxRelief,
    policy_name,
)
from .scenario import LEVELS, Scenario

__all__ = [
    "LEDGER_COLUMNS",
    "budget_summary",
    "budget_summary_of_payments",
    "calendar_years",
    "ledger_table",
    "payments",
]

LEDGER_COLUMNS = (
    "scenario",
    "replication",
    "time_years",
    "date",
    "policy",
    "instrument",
    "recipient_kind",
    "recipient",
    "amount_yuan",
)
"""Columns of :attr:`sim.RunResult.ledger` and ``ledger.csv``."""


def _window(sc: Scenario, start: Any, end: Any) -> tuple[float, float]:
    cal = sc.calendar
    s = max(0.0, cal.years_since_start(start)) if start is not None else 0.0
    e = cal.years_since_start(end) if end is not None else math.inf
    return s, e


def _tenant_years(
    out: SimOutput, cols: dict[str, np.ndarray], start: float, end: float, stages: tuple[str, ...] | None
) -> np.ndarray:
    """Years each carrier's tenants spent in it inside ``[start, end)`` (index = carrier id)."""
    ev, carrier, firm, t = cols["event"], cols["carrier"], cols["firm"], cols["time"]
    keep = ((ev == Ev.ADMIT) | (ev == Ev.LEAVE)) & (carrier >= 0)
    if stages is not None:
        wanted = [j for j, n in enumerate(out.stage_names) if n in stages]
        keep &= np.isin(cols["stage"], wanted)
    idx = np.flatnonzero(keep)
    # Stable by firm: a firm's rows keep log (time) order, and a stay in a carrier is an admit followed
    # by its leave (no leave if still there at the horizon).
    idx = idx[stable_order(firm[idx])]
    f, e, c, tt = firm[idx], ev[idx], carrier[idx], t[idx]
    adm = np.flatnonzero(e == Ev.ADMIT)
    nxt = adm + 1
    has_leave = nxt < len(idx)
    stay_end = np.full(len(adm), out.horizon)
    ok = np.zeros(len(adm), bool)
    ok[has_leave] = (f[nxt[has_leave]] == f[adm[has_leave]]) & (e[nxt[has_leave]] == Ev.LEAVE)
    stay_end[ok] = tt[nxt[ok]]
    overlap = np.clip(np.minimum(stay_end, end) - np.maximum(tt[adm], start), 0.0, None)
    return np.bincount(c[adm], weights=overlap, minlength=len(out.carriers))


def _targeted(sc: Scenario, pol: ConstructionSubsidy | PerformanceSubsidy | TaxRelief, info: CarrierInfo) -> bool:
    """Whether a carrier's stage (with a life cycle) and specialisation are in the policy's target."""
    car = sc.stages[info.stage].carriers
    if car is None or car.lifecycle is None:
        return False
    target = pol.target
    return (target.stages is None or info.stage in target.stages) and (
        target.specialised is None or (info.specialism is not None) == target.specialised
    )


def _carrier_payments(
    sc: Scenario, out: SimOutput, pol: ConstructionSubsidy | PerformanceSubsidy | TaxRelief, start: float, stop: float
) -> list[tuple[float, int, float]]:
    """(time, carrier, yuan) of a carrier instrument's payments in ``[start, stop)`` (see sim.policies)."""
    pays: list[tuple[float, int, float]] = []
    levels = pol.target.levels
    events = out.carrier_events
    targeted = [_targeted(sc, pol, info) for info in out.carriers]  # by carrier id, once (not once an event)
    if isinstance(pol, PerformanceSubsidy):
        rated = CARRIER_EVENTS.index("rating")
        for t, cid, kind, level, rating in events:
            if kind != rated or not (start <= t < stop) or not targeted[cid]:
                continue
            if rating >= 1 and (levels is None or LEVELS[level] in levels):
                amount = pol.excellent_yuan if rating == 2 else pol.qualified_yuan
                if amount > 0:
                    pays.append((t, cid, amount))
    elif isinstance(pol, ConstructionSubsidy):
        award = {lv: pol.level_award_yuan.get(lv, 0.0) for lv in LEVELS}  # type: ignore[call-overload]
        had = {c.id: award[c.level] for c in out.carriers if c.opened_years == 0.0}  # awards before the run
        paid: dict[int, float] = {}
        for t, cid, kind, level, _ in events:
            name = CARRIER_EVENTS[kind]
            if name not in ("open", "promote") or not (start <= t < stop) or not targeted[cid]:
                continue
            info = out.carriers[cid]
            if levels is not None and LEVELS[level] not in levels:
                continue
            amount = pol.new_carrier_yuan.get(info.stage, 0.0) if name == "open" else 0.0
            top_up = max(0.0, award[LEVELS[level]] - had.get(cid, 0.0))
            had[cid] = max(had.get(cid, 0.0), award[LEVELS[level]])
            amount = min(amount + top_up, pol.cap_per_carrier_yuan - paid.get(cid, 0.0))
            if amount > 0:
                paid[cid] = paid.get(cid, 0.0) + amount
                pays.append((t, cid, amount))
    else:
        # Tax relief: eligible spans (open, at a targeted level) from the carriers' level histories.
        spans: dict[int, list[tuple[float, float]]] = {}
        for cid, since, until, level in level_spans(out):
            if targeted[cid] and (levels is None or LEVELS[level] in levels):
                spans.setdefault(cid, []).append((since, until))
        k = math.floor(start) + 1
        while k - 1 < stop:
            lo, hi = max(start, k - 1.0), min(stop, float(k))
            if hi > lo:
                for cid in sorted(spans):
                    years = sum(max(0.0, min(hi, b) - max(lo, a)) for a, b in spans[cid])
                    if years > 0:
                        pays.append((hi, cid, pol.yuan_per_carrier_year * years))
            k += 1
    pays = [p for p in pays if p[2] > 0]
    pays.sort(key=lambda p: (p[0], p[1]))
    return pays


_PAYMENT_COLUMNS = ["time_years", "policy", "instrument", "recipient_kind", "recipient", "amount_yuan"]


def payments(sc: Scenario, out: SimOutput, cols: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """The ledger's rows without the columns that only label them (scenario, replication, date).

    What :func:`budget_summary_of_payments` needs; :func:`ledger_table` adds the rest. ``cols``: the
    unpacked event log, when the caller has it already.
    """
    cols = out.log.columns() if cols is None else cols
    rows: list[tuple[float, str, str, str, int, float]] = []
    horizon = out.horizon
    for i, pol in enumerate(sc.policies):
        name = policy_name(pol, i)
        start, end = _window(sc, pol.start, pol.end)
        if start >= horizon or end <= start:
            continue
        rows += [
            (t, name, pol.type, kind, recipient, amount)
            for t, kind, recipient, amount in _payments(sc, out, pol, i, cols)
        ]
    frame = pd.DataFrame(rows, columns=_PAYMENT_COLUMNS)
    frame["recipient"] = frame["recipient"].astype(np.int64)
    frame["amount_yuan"] = frame["amount_yuan"].astype(np.float64)
    frame["time_years"] = frame["time_years"].astype(np.float64)
    return frame


def ledger_table(
    sc: Scenario,
    out: SimOutput,
    replication: int = 0,
    cols: dict[str, np.ndarray] | None = None,
    pays: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every payment of the run's policies (see the module docstring for the columns and rules).

    Parameters
    ----------
    sc:
        The scenario that was run.
    out:
        The engine's output for it.
    replication:
        Carried on every row.
    cols:
        The unpacked event log, when the caller has it already.
    pays:
        :func:`payments` of this run, when the caller has it already (it is not changed).

    Returns
    -------
    pandas.DataFrame
        One row per payment, columns :data:`LEDGER_COLUMNS`; amounts in yuan.
    """
    frame = (payments(sc, out, cols) if pays is None else pays).copy()
    start_year = sc.calendar.start_year
    frame.insert(1, "date", [date_of_decimal_year(start_year + t).isoformat() for t in frame["time_years"]])
    frame.insert(0, "replication", replication)
    frame.insert(0, "scenario", sc.name)
    return frame[list(LEDGER_COLUMNS)]


def _payments(
    sc: Scenario, out: SimOutput, pol: Policy, index: int, cols: dict[str, np.ndarray]
) -> list[tuple[float, str, int, float]]:
    """(time in years, recipient kind, recipient id, yuan) of each payment of policy number ``index``.

    Every policy type has a case here (``assert_never`` makes the type checker say so when one is
    added): its cost rule, from the event log, in docs/policies.md.
    """
    horizon = out.horizon
    start, end = _window(sc, pol.start, pol.end)
    pays: list[tuple[float, str, int, float]] = []
    match pol:
        case RentRelief():
            if end >= horizon:
                return pays  # paid at the window's end, after the run
            tenant = _tenant_years(out, cols, start, end, pol.target.stages)
            for info in out.carriers:
                ok = (pol.target.levels is None or info.level in pol.target.levels) and (
                    pol.target.specialised is None or (info.specialism is not None) == pol.target.specialised
                )
                amount = min(
                    pol.cap_per_carrier_yuan, pol.refund_share * pol.rent_per_tenant_year_yuan * tenant[info.id]
                )
                if ok and amount > 0:
                    pays.append((end, "carrier", info.id, amount))
        case GmMatching() | AngelFund():
            amount = pol.cost_per_match_yuan if isinstance(pol, GmMatching) else pol.amount_per_firm_yuan
            if amount > 0:
                rows = event_rows(cols, Ev.ATTRIBUTE)  # found once for every policy that reads them
                hit = rows[cols["info"][rows] == index]
                for j in hit.tolist():
                    pays.append((float(cols["time"][j]), "firm", int(cols["firm"][j]), amount))
        case Competition():
            source = out.source_names.index(f"competition:{policy_name(pol, index)}")
            rows = event_rows(cols, Ev.ARRIVE)
            hit = rows[event_values(cols, Ev.ARRIVE, "info") == source]
            times = cols["time"][hit]
            for t in np.unique(times).tolist():
                if pol.organising_cost_yuan > 0:
                    pays.append((t, "programme", -1, pol.organising_cost_yuan))
                if pol.prize_per_winner_yuan > 0:
                    for f in cols["firm"][hit[times == t]].tolist():
                        pays.append((t, "firm", int(f), pol.prize_per_winner_yuan))
        case ConstructionSubsidy() | PerformanceSubsidy() | TaxRelief():
            for t, recipient, amount in _carrier_payments(sc, out, pol, start, min(end, horizon)):
                pays.append((t, "carrier", recipient, amount))
        case Specialisation():
            pass  # no cost of its own
        case HazardMultiplier() | ArrivalMultiplier() | CapacityChange() | ChainLinkage():
            stop = min(end, horizon)
            k = 0
            while pol.cost_per_year_yuan > 0 and start + k < stop:
                t = start + k
                pays.append((t, "programme", -1, pol.cost_per_year_yuan * (min(t + 1.0, stop) - t)))
                k += 1
        case _:
            assert_never(pol)
    return pays


def calendar_years(start_year: float, time_years: np.ndarray) -> np.ndarray:
    """The calendar year of the date :func:`sim.calendar.date_of_decimal_year` gives each time, vectorised
    (a time in the last half day of a year rounds to 1 January of the next, as the dates do)."""
    y = start_year + time_years
    year = np.floor(y)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days = np.where(leap, 366.0, 365.0)
    day = np.rint((y - year) * days)
    return (year + (day >= days)).astype(np.int64)


def budget_summary(sc: Scenario, ledger: pd.DataFrame) -> dict[str, float]:
    """Flat summary keys (yuan): ``budget.total_yuan``, ``budget.policy.<name>`` for every policy, and
    spend by calendar year, ``budget.year.<YYYY>`` and ``budget.policy.<name>.<YYYY>``, for every year the
    run covers (so experiments give spend by policy and year with intervals)."""
    year = ledger["date"].str.slice(0, 4).astype(int) if len(ledger) else pd.Series([], dtype=int)
    return _budget_flat(sc, ledger, year)


def budget_summary_of_payments(sc: Scenario, pays: pd.DataFrame) -> dict[str, float]:
    """:func:`budget_summary` from :func:`payments`, without dating every row: the same keys and numbers."""
    year = pd.Series(calendar_years(sc.calendar.start_year, pays["time_years"].to_numpy()), dtype=int)
    return _budget_flat(sc, pays, year)


def _budget_flat(sc: Scenario, ledger: pd.DataFrame, year: pd.Series) -> dict[str, float]:
    flat: dict[str, float] = {"budget.total_yuan": float(ledger["amount_yuan"].sum())}
    by = ledger.groupby("policy", sort=False)["amount_yuan"].sum()
    cal = sc.calendar
    first = math.floor(cal.start_year)
    last = math.floor(cal.start_year + cal.horizon_years - 1e-9)
    years = range(first, last + 1)
    by_year = ledger.groupby(year)["amount_yuan"].sum() if len(ledger) else pd.Series(dtype=float)
    for y in years:
        flat[f"budget.year.{y}"] = float(by_year.get(y, 0.0))
    by_both = ledger.groupby([ledger["policy"], year])["amount_yuan"].sum() if len(ledger) else pd.Series(dtype=float)
    for i, pol in enumerate(sc.policies):
        name = policy_name(pol, i)
        flat[f"budget.policy.{name}"] = float(by.get(name, 0.0))
        for y in years:
            flat[f"budget.policy.{name}.{y}"] = float(by_both.get((name, y), 0.0))
    return flat
