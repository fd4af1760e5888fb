"""Tables derived from the event log: firms, the monthly stage time series, and the run summary.

Nothing here reaches into the engine: every measure is computed from :class:`sim.event_log.SimOutput`
(the log plus the static facts needed to read it), so a new measure never needs new instrumentation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .event_log import CARRIER_EVENTS, Ev, SimOutput
from .outcomes import FirmOutcomes, outcome_firm_columns, outcome_summary, outcome_timeseries

__all__ = ["SURVIVAL_YEARS", "firm_table", "km_survival", "run_summary", "stage_timeseries"]

SURVIVAL_YEARS: tuple[float, ...] = (1.0, 3.0, 5.0, 10.0)

_OUTCOMES = ("active", "failed", "exited")


def firm_table(
    out: SimOutput, scenario: str, replication: int, warmup: float = 0.0, outcomes: FirmOutcomes | None = None
) -> pd.DataFrame:
    """One row per firm.

    Columns: ``firm``, ``source`` (arrival stream, stock entry or competition), ``source_index`` (the firm's number
    within its source: the key that matches firms across scenarios under common random numbers),
    ``arrival_time`` (years), ``in_warmup``, ``entry_stage``, ``sector``, ``quality``,
    ``age_at_arrival`` (years), ``stages_visited`` (admissions as ``stage@time`` joined by ``>``),
    ``n_stages``, ``ever_in_carrier``, ``years_in_<stage>`` for each stage, ``outcome``
    (active / failed / exited), ``outcome_time`` (years; the horizon if censored), ``outcome_stage``
    (last stage), ``censored``, ``survival_years`` (from arrival to failure or censoring). With
    ``outcomes``, also the milestone, listing and jobs columns of :func:`sim.outcomes.outcome_firm_columns`.
    """
    cols = out.log.columns()
    t, firm, ev, stage = cols["time"], cols["firm"], cols["event"], cols["stage"]
    carrier = cols["carrier"]
    n = len(out.firm_source)
    names = out.stage_names
    arrival = np.full(n, np.nan)
    entry = np.full(n, -1, dtype=np.int64)
    m = ev == Ev.ARRIVE
    arrival[firm[m]] = t[m]
    entry[firm[m]] = stage[m]
    outcome = np.zeros(n, dtype=np.int64)
    outcome_time = np.full(n, out.horizon)
    fail = ev == Ev.FAIL
    outcome[firm[fail]] = 1
    outcome_time[firm[fail]] = t[fail]
    ex = ev == Ev.EXIT
    outcome[firm[ex]] = 2
    outcome_time[firm[ex]] = t[ex]
    # last stage the firm was admitted to
    adm = ev == Ev.ADMIT
    last_stage = np.full(n, -1, dtype=np.int64)
    last_stage[firm[adm]] = stage[adm]  # later rows overwrite earlier ones: the log is in time order
    ever_carrier = np.zeros(n, dtype=bool)
    ever_carrier[firm[adm & (carrier >= 0)]] = True
    # time in each stage: admit -> leave (or censored at the horizon)
    years_in = np.zeros((n, len(names)))
    lv = ev == Ev.LEAVE
    np.add.at(years_in, (firm[lv], stage[lv].astype(np.int64)), t[lv])
    np.add.at(years_in, (firm[adm], stage[adm].astype(np.int64)), -t[adm])
    open_ = np.zeros((n, len(names)), dtype=np.int64)
    np.add.at(open_, (firm[adm], stage[adm].astype(np.int64)), 1)
    np.add.at(open_, (firm[lv], stage[lv].astype(np.int64)), -1)
    years_in += open_ * out.horizon
    # visited path
    order_f = firm[adm]
    order_s = stage[adm]
    order_t = t[adm]
    path = [""] * n
    counts = np.zeros(n, dtype=np.int64)
    for f, s, tt in zip(order_f.tolist(), order_s.tolist(), order_t.tolist(), strict=True):
        path[f] = f"{path[f]}>{names[s]}@{tt:.3f}" if path[f] else f"{names[s]}@{tt:.3f}"
        counts[f] += 1
    stage_cat = pd.Categorical.from_codes(entry, categories=list(names))
    df = pd.DataFrame(
        {
            "scenario": pd.Categorical([scenario] * n),
            "replication": np.full(n, replication, dtype=np.int32),
            "firm": np.arange(n, dtype=np.int64),
            "source": pd.Categorical.from_codes(out.firm_source.astype(np.int64), categories=list(out.source_names)),
            "source_index": out.firm_index,
            "arrival_time": arrival,
            "in_warmup": arrival < warmup,
            "entry_stage": stage_cat,
            "sector": pd.Categorical.from_codes(out.firm_sector.astype(np.int64), categories=list(out.sectors)),
            "quality": out.firm_quality,
            "age_at_arrival": arrival - out.firm_birth,
            "stages_visited": path,
            "n_stages": counts,
            "ever_in_carrier": ever_carrier,
        }
    )
    # one block for all stages: a column at a time fragments the frame (a warning per stage past 100)
    df = pd.concat([df, pd.DataFrame(years_in, columns=[f"years_in_{name}" for name in names])], axis=1)
    df["outcome"] = pd.Categorical.from_codes(outcome, categories=list(_OUTCOMES))
    df["outcome_time"] = outcome_time
    df["outcome_stage"] = pd.Categorical.from_codes(last_stage, categories=list(names))
    df["censored"] = outcome != 1
    df["survival_years"] = outcome_time - arrival
    if outcomes is not None:
        for key, values in outcome_firm_columns(outcomes).items():
            df[key] = values
    return df


def _monthly_counts(times: np.ndarray, n_months: int) -> np.ndarray:
    idx = np.minimum((times * 12.0).astype(np.int64), n_months - 1)
    return np.bincount(idx, minlength=n_months)[:n_months]


def stage_timeseries(
    out: SimOutput,
    scenario: str,
    replication: int,
    capacities: list[int] | None = None,
    outcomes: FirmOutcomes | None = None,
) -> pd.DataFrame:
    """Per month and stage: occupancy, waiting list, blocked firms, entries and exits by kind.

    Months are twelfths of a year. Stocks (``occupancy``, ``queue``, ``blocked``, and the system columns
    ``active``) are measured at the end of the month; flows (``entries`` ... ``skips``) count events in
    the month. System columns (the same in every row of a month): ``arrived`` (cumulative, initial
    stock included), ``active`` (in a stage or on a waiting list), ``failed`` and ``exited``
    (cumulative), with ``arrived == active + failed + exited`` in every row. With ``outcomes``, also
    ``milestone_<test>`` per stage and the system columns ``listed`` and ``jobs``
    (:func:`sim.outcomes.outcome_timeseries`).
    """
    cols = out.log.columns()
    t, ev, stage, info = cols["time"], cols["event"], cols["stage"], cols["info"]
    n_months = max(1, int(math.ceil(out.horizon * 12.0 - 1e-9)))
    names = out.stage_names
    month = np.arange(n_months)
    frames = []

    def counts(mask: np.ndarray) -> np.ndarray:
        return _monthly_counts(t[mask], n_months)

    arrived = np.cumsum(counts(ev == Ev.ARRIVE))
    failed = np.cumsum(counts(ev == Ev.FAIL))
    exited = np.cumsum(counts(ev == Ev.EXIT))
    active = np.zeros(n_months, dtype=np.int64)
    # Places in the carriers open at the end of each month (capacities before any policy).
    month_end = np.minimum((month + 1) / 12.0, out.horizon)
    closed_at = {cid: t_ for t_, cid, kind, _, _ in out.carrier_events if kind == CARRIER_EVENTS.index("close")}
    cap_by_stage: dict[int, np.ndarray] = {}
    if capacities is None:
        for c in out.carriers:
            j = names.index(c.stage)
            open_ = (c.opened_years <= month_end) & (closed_at.get(c.id, math.inf) > month_end)
            cap_by_stage[j] = cap_by_stage.get(j, np.zeros(n_months, dtype=np.int64)) + c.capacity * open_
    per_stage = []
    for j, name in enumerate(names):
        s = stage == j
        adm = counts(s & (ev == Ev.ADMIT))
        lv = counts(s & (ev == Ev.LEAVE))
        wait = counts(s & (ev == Ev.WAIT))
        off_queue = counts(s & (((ev == Ev.ADMIT) & (info == 1)) | (ev == Ev.RENEGE)))
        blk = counts(s & (ev == Ev.BLOCK))
        # a blocked firm is released by the 'leave' of its stage; count releases by the blocked firm's stage
        occupancy = np.cumsum(adm - lv)
        queue = np.cumsum(wait - off_queue)
        per_stage.append(
            {
                "stage": name,
                "occupancy": occupancy,
                "queue": queue,
                "blocked_events": blk,
                "entries": adm,
                "graduations": counts(s & (ev == Ev.GRADUATE)),
                "timeouts": counts(s & (ev == Ev.TIME_OUT)),
                "failures": counts(s & (ev == Ev.FAIL)),
                "reneges": counts(s & (ev == Ev.RENEGE)),
                "skips": counts(s & (ev == Ev.SKIP)),
                "rejections": counts(s & (ev == Ev.REJECT)),
                "capacity": cap_by_stage.get(j, np.full(n_months, -1, dtype=np.int64)),
            }
        )
        active += occupancy + queue
    by_stage, system = outcome_timeseries(outcomes, n_months) if outcomes is not None else ({}, {})
    for j, rec in enumerate(per_stage):
        frames.append(
            pd.DataFrame(
                {
                    "scenario": scenario,
                    "replication": replication,
                    "month": month,
                    "t_years": (month + 1) / 12.0,
                    **rec,
                    **by_stage.get(j, {}),
                    "arrived": arrived,
                    "active": active,
                    "failed": failed,
                    "exited": exited,
                    **system,
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    df["stage"] = pd.Categorical(df["stage"], categories=list(names))
    df["scenario"] = pd.Categorical(df["scenario"])
    df["replication"] = df["replication"].astype(np.int32)
    return df.sort_values(["month", "stage"], kind="stable").reset_index(drop=True)


def km_survival(durations: np.ndarray, observed: np.ndarray, at: tuple[float, ...]) -> list[float | None]:
    """Kaplan-Meier survival at the given times (``None`` past the last observation).

    ``durations`` in years; ``observed`` is True where the firm failed (False: censored).
    Uses :func:`scipy.stats.ecdf` with censored data.
    """
    from scipy import stats  # imported here: scipy.stats is slow to import and only needed for summaries

    if len(durations) == 0:
        return [None] * len(at)
    data = stats.CensoredData(uncensored=durations[observed], right=durations[~observed])
    if observed.sum() == 0:
        return [1.0 if x <= durations.max() else None for x in at]
    sf = stats.ecdf(data).sf
    out: list[float | None] = []
    for x in at:
        out.append(float(sf.evaluate(x)) if x <= durations.max() + 1e-12 else None)
    return out


def run_summary(
    out: SimOutput, firms: pd.DataFrame, warmup: float = 0.0, outcomes: FirmOutcomes | None = None
) -> dict[str, Any]:
    """The run's summary (a JSON-ready dict): per stage flows, stays and occupancy; overall outcomes.

    Flows count events in ``[warmup, horizon)``; mean occupancy is the exact time-average over the
    same window; survival is the Kaplan-Meier estimate of P(not failed by t years after arrival) over
    firms arriving after the warm-up (firms that exited count as not failed; the horizon censors),
    split by whether they ever entered a carrier (that split conditions on the future, so it mixes
    selection, time at risk and treatment -- use paired comparisons for effects). With ``outcomes``, also
    the flat milestone, listing and jobs keys of :func:`sim.outcomes.outcome_summary`.
    """
    cols = out.log.columns()
    t, ev, stage = cols["time"], cols["event"], cols["stage"]
    firm = cols["firm"]
    window = t >= warmup
    span = out.horizon - warmup
    stages: dict[str, Any] = {}
    for j, name in enumerate(out.stage_names):
        s = stage == j
        sw = s & window

        def c(kind: Ev, mask: np.ndarray = sw) -> int:
            return int(np.count_nonzero(mask & (ev == kind)))

        # exact time-average occupancy over the window: integrate the step function
        adm_t = t[s & (ev == Ev.ADMIT)]
        lv_t = t[s & (ev == Ev.LEAVE)]
        occ_area = float(
            np.sum(out.horizon - np.maximum(adm_t, warmup)) - np.sum(out.horizon - np.maximum(lv_t, warmup))
        )
        # completed stays that started in the window
        adm_mask = s & (ev == Ev.ADMIT)
        lv_mask = s & (ev == Ev.LEAVE)
        stays = _completed_stays(firm[adm_mask], t[adm_mask], firm[lv_mask], t[lv_mask], warmup)
        stages[name] = {
            "entries": c(Ev.ADMIT),
            "graduations": c(Ev.GRADUATE),
            "failures": c(Ev.FAIL),
            "timeouts": c(Ev.TIME_OUT),
            "reneges": c(Ev.RENEGE),
            "skips": c(Ev.SKIP),
            "rejections": c(Ev.REJECT),
            # applications that found no room: waits and skips here, and blocks aimed here (info = target)
            "found_full": c(Ev.WAIT)
            + c(Ev.SKIP)
            + int(np.count_nonzero(window & (ev == Ev.BLOCK) & (cols["info"] == j))),
            "mean_stay_years": float(np.mean(stays)) if len(stays) else None,
            "completed_stays": len(stays),
            "mean_occupancy": occ_area / span if span > 0 else None,
            "occupancy_at_horizon": int(
                np.count_nonzero(s & (ev == Ev.ADMIT)) - np.count_nonzero(s & (ev == Ev.LEAVE))
            ),
        }
    post = firms[~firms["in_warmup"].to_numpy()]
    obs = (post["outcome"] == "failed").to_numpy()
    # A firm that left the system (exit) did not fail: it counts as not failed up to the horizon, so the
    # curves estimate P(not failed by t) rather than a survival with exits treated as lost to follow-up.
    exited = (post["outcome"] == "exited").to_numpy()
    dur = np.where(exited, out.horizon - post["arrival_time"].to_numpy(), post["survival_years"].to_numpy())
    carrier = post["ever_in_carrier"].to_numpy()
    survival = {
        "years": list(SURVIVAL_YEARS),
        "all": km_survival(dur, obs, SURVIVAL_YEARS),
        "never_in_carrier": km_survival(dur[~carrier], obs[~carrier], SURVIVAL_YEARS),
        "ever_in_carrier": km_survival(dur[carrier], obs[carrier], SURVIVAL_YEARS),
    }
    stock = np.isin(cols["info"], [i for i, n in enumerate(out.source_names) if n.startswith("stock:")])
    arrivals_window = int(np.count_nonzero(window & (ev == Ev.ARRIVE) & ~stock))
    outcome = firms["outcome"].value_counts()
    return {
        "horizon_years": out.horizon,
        "warmup_years": warmup,
        "arrivals": arrivals_window,
        "initial_stock": int(np.count_nonzero((ev == Ev.ARRIVE) & stock)),
        "firms": len(firms),
        "active_at_horizon": int(outcome.get("active", 0)),
        "failed": int(outcome.get("failed", 0)),
        "exited": int(outcome.get("exited", 0)),
        "stages": stages,
        "survival": survival,
        **(outcome_summary(outcomes, warmup) if outcomes is not None else {}),
    }


def _completed_stays(
    adm_f: np.ndarray, adm_t: np.ndarray, lv_f: np.ndarray, lv_t: np.ndarray, warmup: float
) -> np.ndarray:
    """Durations admit -> leave, pairing each firm's k-th admission with its k-th leave in this stage."""
    if len(lv_f) == 0:
        return np.empty(0)
    a_order = np.lexsort((adm_t, adm_f))
    l_order = np.lexsort((lv_t, lv_f))
    af, at_ = adm_f[a_order], adm_t[a_order]
    lf, lt = lv_f[l_order], lv_t[l_order]
    # rank of each event within its firm
    a_rank = np.arange(len(af)) - np.searchsorted(af, af, side="left")
    l_rank = np.arange(len(lf)) - np.searchsorted(lf, lf, side="left")
    a_key = pd.MultiIndex.from_arrays([af, a_rank])
    l_key = pd.MultiIndex.from_arrays([lf, l_rank])
    pos = a_key.get_indexer(l_key)
    starts = at_[pos]
    keep = starts >= warmup
    return np.asarray((lt - starts)[keep], dtype=np.float64)
