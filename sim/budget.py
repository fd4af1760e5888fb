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
from typing import Any

import numpy as np
import pandas as pd

from .calendar import date_of_decimal_year
from .engine import SimOutput
from .event_log import Ev
from .policies import AngelFund, Competition, GmMatching, RentRelief, Specialisation, policy_name
from .scenario import Scenario

__all__ = ["LEDGER_COLUMNS", "budget_summary", "ledger_table"]

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


def _tenant_years(out: SimOutput, start: float, end: float, stages: tuple[str, ...] | None) -> np.ndarray:
    """Years each carrier's tenants spent in it inside ``[start, end)`` (index = carrier id)."""
    cols = out.log.columns()
    ev, carrier, firm, t = cols["event"], cols["carrier"], cols["firm"], cols["time"]
    keep = ((ev == Ev.ADMIT) | (ev == Ev.LEAVE)) & (carrier >= 0)
    if stages is not None:
        wanted = [j for j, n in enumerate(out.stage_names) if n in stages]
        keep &= np.isin(cols["stage"], wanted)
    idx = np.flatnonzero(keep)
    # Stable by firm: a firm's rows keep log (time) order, and a stay in a carrier is an admit followed
    # by its leave (no leave if still there at the horizon).
    idx = idx[np.argsort(firm[idx], kind="stable")]
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


def ledger_table(sc: Scenario, out: SimOutput, replication: int = 0) -> pd.DataFrame:
    """Every payment of the run's policies (see the module docstring for the columns and rules).

    Parameters
    ----------
    sc:
        The scenario that was run.
    out:
        The engine's output for it.
    replication:
        Carried on every row.

    Returns
    -------
    pandas.DataFrame
        One row per payment, columns :data:`LEDGER_COLUMNS`; amounts in yuan.
    """
    rows: list[tuple[float, str, str, str, int, float]] = []
    horizon = out.horizon
    for i, pol in enumerate(sc.policies):
        name = policy_name(pol, i)
        start, end = _window(sc, pol.start, pol.end)
        if start >= horizon or end <= start:
            continue
        if isinstance(pol, RentRelief):
            if end >= horizon:
                continue  # paid at the window's end, after the run
            tenant = _tenant_years(out, start, end, pol.target.stages)
            for info in out.carriers:
                ok = (pol.target.levels is None or info.level in pol.target.levels) and (
                    pol.target.specialised is None or (info.specialism is not None) == pol.target.specialised
                )
                amount = min(
                    pol.cap_per_carrier_yuan, pol.refund_share * pol.rent_per_tenant_year_yuan * tenant[info.id]
                )
                if ok and amount > 0:
                    rows.append((end, name, pol.type, "carrier", info.id, amount))
        elif isinstance(pol, GmMatching | AngelFund):
            amount = pol.cost_per_match_yuan if isinstance(pol, GmMatching) else pol.amount_per_firm_yuan
            if amount > 0:
                cols = out.log.columns()
                hit = np.flatnonzero((cols["event"] == Ev.ATTRIBUTE) & (cols["info"] == i))
                for j in hit.tolist():
                    rows.append((float(cols["time"][j]), name, pol.type, "firm", int(cols["firm"][j]), amount))
        elif isinstance(pol, Competition):
            source = out.source_names.index(f"competition:{name}")
            cols = out.log.columns()
            hit = np.flatnonzero((cols["event"] == Ev.ARRIVE) & (cols["info"] == source))
            times = cols["time"][hit]
            for t in np.unique(times).tolist():
                if pol.organising_cost_yuan > 0:
                    rows.append((t, name, pol.type, "programme", -1, pol.organising_cost_yuan))
                if pol.prize_per_winner_yuan > 0:
                    for f in cols["firm"][hit[times == t]].tolist():
                        rows.append((t, name, pol.type, "firm", int(f), pol.prize_per_winner_yuan))
        elif not isinstance(pol, Specialisation) and pol.cost_per_year_yuan > 0:
            stop = min(end, horizon)
            k = 0
            while start + k < stop:
                t = start + k
                rows.append((t, name, pol.type, "programme", -1, pol.cost_per_year_yuan * (min(t + 1.0, stop) - t)))
                k += 1
    start_year = sc.calendar.start_year
    frame = pd.DataFrame(
        rows, columns=["time_years", "policy", "instrument", "recipient_kind", "recipient", "amount_yuan"]
    )
    frame.insert(1, "date", [date_of_decimal_year(start_year + t).isoformat() for t in frame["time_years"]])
    frame.insert(0, "replication", replication)
    frame.insert(0, "scenario", sc.name)
    frame["recipient"] = frame["recipient"].astype(np.int64)
    frame["amount_yuan"] = frame["amount_yuan"].astype(np.float64)
    frame["time_years"] = frame["time_years"].astype(np.float64)
    return frame[list(LEDGER_COLUMNS)]


def budget_summary(sc: Scenario, ledger: pd.DataFrame) -> dict[str, float]:
    """Flat summary keys: ``budget.total_yuan`` and ``budget.policy.<name>`` (yuan) for every policy."""
    flat: dict[str, float] = {"budget.total_yuan": float(ledger["amount_yuan"].sum())}
    by = ledger.groupby("policy", sort=False)["amount_yuan"].sum()
    for i, pol in enumerate(sc.policies):
        name = policy_name(pol, i)
        flat[f"budget.policy.{name}"] = float(by.get(name, 0.0))
    return flat
