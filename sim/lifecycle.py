"""Tables of the carrier life cycle: what happened to each carrier, and carrier counts over time.

The engine records one row per life-cycle event (:attr:`sim.event_log.SimOutput.carrier_events`):
openings, closures, yearly ratings, promotions, demotions and renewals of recognition (see
:class:`sim.scenario.Lifecycle` for the rules). This module turns them into

* :func:`carrier_events_table` -- one row per event (``carrier_events.csv``);
* :func:`carrier_counts_table` -- open carriers by stage and level on a monthly grid
  (``carrier_counts.csv``, the series :func:`sim.plot.carriers_figure` draws);
* :func:`lifecycle_summary` -- flat summary keys ``carriers.<stage>.<what>``.

A scenario without a life cycle has no events, and its counts are the carriers of the start, flat.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from .calendar import date_of_decimal_year
from .event_log import CARRIER_EVENTS, RATINGS, SimOutput
from .scenario import LEVELS

__all__ = ["CARRIER_EVENT_COLUMNS", "carrier_counts_table", "carrier_events_table", "level_spans", "lifecycle_summary"]

CARRIER_EVENT_COLUMNS = (
    "scenario",
    "replication",
    "time_years",
    "date",
    "carrier",
    "stage",
    "event",
    "level",
    "rating",
)
"""Columns of :func:`carrier_events_table`: ``level`` is the carrier's level after the event (for a
``rating``, the level it was rated at); ``rating`` is set on ``rating`` rows only."""


def carrier_events_table(out: SimOutput, scenario: str, replication: int, start_year: float) -> pd.DataFrame:
    """One row per carrier life-cycle event, in time order (columns :data:`CARRIER_EVENT_COLUMNS`)."""
    rows = out.carrier_events
    n = len(rows)
    t = np.array([r[0] for r in rows], dtype=np.float64)
    cid = np.array([r[1] for r in rows], dtype=np.int64)
    kind = [CARRIER_EVENTS[r[2]] for r in rows]
    return pd.DataFrame(
        {
            "scenario": [scenario] * n,
            "replication": np.full(n, replication, dtype=np.int64),
            "time_years": t,
            "date": [date_of_decimal_year(start_year + x).isoformat() for x in t.tolist()],
            "carrier": cid,
            "stage": [out.carriers[c].stage for c in cid.tolist()],
            "event": kind,
            "level": [LEVELS[r[3]] for r in rows],
            "rating": [RATINGS[r[4]] if k == "rating" else None for r, k in zip(rows, kind, strict=True)],
        },
        columns=list(CARRIER_EVENT_COLUMNS),
    )


def level_spans(out: SimOutput) -> list[tuple[int, float, float, int]]:
    """Spans ``(carrier, from, to, level)`` during which a carrier is open at a level."""
    state = {c.id: (c.opened_years, LEVELS.index(c.level)) for c in out.carriers}
    spans: list[tuple[int, float, float, int]] = []
    for t, cid, kind, level, _ in out.carrier_events:
        name = CARRIER_EVENTS[kind]
        if name in ("rating", "open", "renew"):
            continue
        since, old = state.pop(cid)
        spans.append((cid, since, t, old))
        if name != "close":
            state[cid] = (t, level)
    spans += [(cid, since, out.horizon, level) for cid, (since, level) in state.items()]
    return spans


def carrier_counts_table(out: SimOutput, scenario: str, replication: int) -> pd.DataFrame:
    """Open carriers by stage and level at the start of every month and at the horizon.

    Columns ``scenario``, ``replication``, ``t_years``, ``stage``, ``level``, ``count``: ``count``
    carriers of ``level`` are open in ``stage`` from ``t_years`` until the next row's time (events at
    a grid time count as done). Every level appears for every stage with carriers, zeros included.
    """
    n_months = int(np.ceil(out.horizon * 12 - 1e-9))
    grid = np.append(np.arange(n_months) / 12.0, out.horizon)
    stages = list(dict.fromkeys(c.stage for c in out.carriers))
    spans = level_spans(out)
    cstage = np.array([stages.index(out.carriers[s[0]].stage) for s in spans], dtype=np.int64)
    lo = np.array([s[1] for s in spans])
    hi = np.array([s[2] for s in spans])
    lev = np.array([s[3] for s in spans], dtype=np.int64)
    counts = np.zeros((len(grid), len(stages), len(LEVELS)), dtype=np.int64)
    for g, t in enumerate(grid.tolist()):
        # open at t: from <= t < to (the horizon row counts carriers still open at the end)
        on = (lo <= t) & ((hi > t) | ((hi >= out.horizon) & (t >= out.horizon)))
        np.add.at(counts[g], (cstage[on], lev[on]), 1)
    t_col = np.repeat(grid, len(stages) * len(LEVELS))
    s_col = np.tile(np.repeat(stages, len(LEVELS)), len(grid))
    l_col = np.tile(np.array(LEVELS), len(grid) * len(stages))
    return pd.DataFrame(
        {
            "scenario": scenario,
            "replication": replication,
            "t_years": t_col,
            "stage": s_col,
            "level": l_col,
            "count": counts.reshape(-1),
        }
    )


def lifecycle_summary(out: SimOutput, stages: tuple[str, ...]) -> dict[str, float]:
    """Flat keys per stage of ``stages`` (those with a life cycle): open carriers at the horizon (all and
    by level), and counts of openings, closures, promotions, demotions and unqualified ratings."""
    flat: dict[str, float] = {}
    spans = level_spans(out)
    # the carrier events by stage and kind, and the unqualified ratings, counted in one pass
    tally: Counter[tuple[str, str]] = Counter()
    for _, cid, code, _, rating in out.carrier_events:
        stage, name = out.carriers[cid].stage, CARRIER_EVENTS[code]
        tally[stage, name] += 1
        if name == "rating" and rating == 0:
            tally[stage, "unqualified"] += 1
    for stage in stages:
        at_end = [s[3] for s in spans if out.carriers[s[0]].stage == stage and s[2] >= out.horizon]
        flat[f"carriers.{stage}.open"] = float(len(at_end))
        for j, level in enumerate(LEVELS):
            flat[f"carriers.{stage}.{level}"] = float(sum(1 for x in at_end if x == j))
        for kind in ("open", "close", "promote", "demote"):
            label = {"open": "opened", "close": "closed", "promote": "promoted", "demote": "demoted"}[kind]
            flat[f"carriers.{stage}.{label}"] = float(tally[stage, kind])
        flat[f"carriers.{stage}.unqualified_ratings"] = float(tally[stage, "unqualified"])
    return flat
