"""Tables derived from the event log: firms, the monthly stage time series, and the run summary.

Nothing here reaches into the engine: every measure is computed from :class:`sim.event_log.SimOutput`
(the log plus the static facts needed to read it), so a new measure never needs new instrumentation.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .event_log import CARRIER_EVENTS, Ev, SimOutput, event_rows, event_values, shared_arrays, stable_order
from .outcomes import FirmOutcomes, outcome_firm_columns, outcome_summary, outcome_timeseries, rank_in_group
from .summary import STAGE_MEASURES, SURVIVAL_GROUPS, Metric, stage_metric, survival_metric

__all__ = [
    "EVER_LABEL",
    "NEVER_LABEL",
    "SUMMARY_READS",
    "SURVIVAL_YEARS",
    "firm_fates",
    "firm_table",
    "graduates_by_year",
    "km_survival",
    "km_survival_fast",
    "log_summary",
    "run_summary",
    "stage_timeseries",
    "survival_by_source",
    "visited_paths",
]

SURVIVAL_YEARS: tuple[float, ...] = (1.0, 3.0, 5.0, 10.0)

NEVER_LABEL = "never in a carrier (association)"
EVER_LABEL = "ever in a carrier (association)"
"""Labels of the summary's survival groups: a comparison of them is an association, not an effect
(:func:`sim.decompose` splits a programme's gap into treatment and selection)."""

_OUTCOMES = ("active", "failed", "exited")

SUMMARY_READS: dict[int, tuple[str, ...]] = {
    Ev.ARRIVE: ("firm", "time", "info"),
    Ev.FAIL: ("firm", "time"),
    Ev.EXIT: ("firm", "time"),
    Ev.ADMIT: ("firm", "time", "stage", "carrier"),
    Ev.LEAVE: ("firm", "time", "stage"),
    Ev.GRADUATE: ("firm", "time", "stage", "info"),
    Ev.BLOCK: ("rows", "info"),
}
"""The event kinds and columns a run's summary reads (:func:`firm_fates`, :func:`log_summary`,
:func:`graduates_by_year`, :func:`sim.outcomes.derive_outcomes`), for :func:`sim.event_log.gather_events`
to gather in one pass before they are read."""


Columns = dict[str, np.ndarray]
"""The unpacked event log (:meth:`sim.event_log.EventLog.columns`)."""


def firm_fates(out: SimOutput, cols: Columns | None = None) -> dict[str, np.ndarray]:
    """Per firm, from the log: ``arrival`` (years), ``outcome`` (0 active, 1 failed, 2 exited),
    ``outcome_time`` (years; the horizon if censored) and ``ever_carrier``. The columns :func:`firm_table`,
    :func:`log_summary` and :func:`sim.outcomes.derive_outcomes` share."""
    cols = out.log.columns() if cols is None else cols
    n = len(out.firm_source)
    arrival = np.full(n, np.nan)
    arrival[event_values(cols, Ev.ARRIVE, "firm")] = event_values(cols, Ev.ARRIVE, "time")
    outcome = np.zeros(n, dtype=np.int64)
    outcome_time = np.full(n, out.horizon)
    for code, kind in ((1, Ev.FAIL), (2, Ev.EXIT)):
        gone = event_values(cols, kind, "firm")
        outcome[gone] = code
        outcome_time[gone] = event_values(cols, kind, "time")
    ever_carrier = np.zeros(n, dtype=bool)
    ever_carrier[event_values(cols, Ev.ADMIT, "firm")[event_values(cols, Ev.ADMIT, "carrier") >= 0]] = True
    return {"arrival": arrival, "outcome": outcome, "outcome_time": outcome_time, "ever_carrier": ever_carrier}


def _entry_and_last_stage(out: SimOutput, cols: Columns) -> tuple[np.ndarray, np.ndarray]:
    """Per firm: the stage it arrived heading for, and the last stage it was admitted to (-1 if none)."""
    n = len(out.firm_source)
    entry = np.full(n, -1, dtype=np.int64)
    entry[event_values(cols, Ev.ARRIVE, "firm")] = event_values(cols, Ev.ARRIVE, "stage")
    last_stage = np.full(n, -1, dtype=np.int64)
    # later rows overwrite earlier ones: the rows are in log (time) order
    last_stage[event_values(cols, Ev.ADMIT, "firm")] = event_values(cols, Ev.ADMIT, "stage")
    return entry, last_stage


_THOUSANDTHS = pa.array([f"{i:03d}" for i in range(1000)], type=pa.string())


def _three_decimals(t: np.ndarray) -> pa.Array:
    """``f"{x:.3f}"`` of every time (years >= 0), as Arrow strings, vectorised.

    ``x * 1000`` rounded to an integer gives the same digits as the correctly rounded ``%.3f`` unless
    ``x * 1000`` lies within a hair of a half (where the product's own rounding could tip it); those
    few are formatted by Python.
    """
    y = t * 1000.0
    k = np.rint(y)
    exact = np.abs(np.abs(y - k) - 0.5) > 1e-6
    thousandths = k.astype(np.int64)  # whole numbers >= 0: integer division gives the float one's digits
    whole = thousandths // 1000
    frac = thousandths - whole * 1000
    # the digits looked up rather than formatted: whole years and thousandths each take few distinct values
    years = pa.array([str(i) for i in range(int(whole.max()) + 1 if len(whole) else 0)], type=pa.string())
    text = pc.binary_join_element_wise(pc.take(years, whole), pc.take(_THOUSANDTHS, frac), ".")
    if not exact.all():  # the few near a half, formatted by Python and put in their places
        fixes = pa.array([f"{x:.3f}" for x in t[~exact].tolist()], type=pa.string())
        text = pc.replace_with_mask(text, pa.array(~exact), fixes)
    return text


def visited_paths(out: SimOutput, cols: Columns | None = None) -> tuple[list[str], np.ndarray]:
    """Each firm's admissions as ``stage@time`` (3 decimals) joined by ``>``, and their number.

    Only the firm table needs these strings, so they are built when it is, with Arrow's string kernels.
    """
    paths, counts = _visited_paths(out, cols)
    return (paths if isinstance(paths, list) else paths.to_pylist()), counts


def _visited_paths(out: SimOutput, cols: Columns | None = None) -> tuple[list[str] | pa.Array, np.ndarray]:
    """:func:`visited_paths`, the strings as an Arrow array (a list of empty strings when no firm was admitted)."""
    cols = out.log.columns() if cols is None else cols
    n = len(out.firm_source)
    adm = np.flatnonzero(cols["event"] == Ev.ADMIT)
    f = cols["firm"][adm]
    order = stable_order(f)  # by firm, each firm's admissions in log (time) order
    counts = np.bincount(f, minlength=n).astype(np.int64)[:n]
    if len(adm) == 0:
        return [""] * n, counts
    names = pa.array(list(out.stage_names), type=pa.string())
    stage = pc.take(names, pa.array(cols["stage"][adm][order].astype(np.int64)))
    labels = pc.binary_join_element_wise(stage, _three_decimals(cols["time"][adm][order]), "@")
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    paths = pc.binary_join(pa.ListArray.from_arrays(offsets, labels), ">")
    return paths, counts


def _strings(values: list[str] | pa.Array) -> Any:
    """A column of strings as pandas would make it from Python strings: when pandas keeps strings in Arrow
    (pandas 3), straight from the Arrow array, without a Python object per string on the way."""
    if isinstance(values, list):
        return values
    dtype = pd.Series(["x"]).dtype  # what pandas makes of strings here
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        return pd.arrays.ArrowStringArray(values.cast(pa.large_string()), dtype=dtype)
    return values.to_pylist()


def firm_table(
    out: SimOutput,
    scenario: str,
    replication: int,
    warmup: float = 0.0,
    outcomes: FirmOutcomes | None = None,
    cols: Columns | None = None,
    fates: Mapping[str, np.ndarray] | None = None,
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
    ``cols``, ``fates``: the unpacked log and :func:`firm_fates`, when the caller has them already.
    """
    cols = out.log.columns() if cols is None else cols
    t, firm, ev, stage = cols["time"], cols["firm"], cols["event"], cols["stage"]
    n = len(out.firm_source)
    names = out.stage_names
    fates = firm_fates(out, cols) if fates is None else fates
    arrival, outcome, outcome_time = fates["arrival"], fates["outcome"], fates["outcome_time"]
    adm = ev == Ev.ADMIT
    # time in each stage: admit -> leave (or censored at the horizon), summed per (firm, stage) cell: the
    # leaves' times, then minus the admissions', each cell's terms added in that order
    lv = ev == Ev.LEAVE
    cells = n * len(names)
    at_lv = firm[lv] * len(names) + stage[lv]
    at_adm = firm[adm] * len(names) + stage[adm]
    years_in: np.ndarray = (
        np.bincount(np.concatenate([at_lv, at_adm]), weights=np.concatenate([t[lv], -t[adm]]), minlength=cells)
        .astype(np.float64, copy=False)  # (an empty log's count comes back as integers)
        .reshape(n, len(names))
    )
    open_ = (np.bincount(at_adm, minlength=cells) - np.bincount(at_lv, minlength=cells)).reshape(n, len(names))
    years_in += open_ * out.horizon
    path, counts = _visited_paths(out, cols)
    entry, last_stage = _entry_and_last_stage(out, cols)
    stage_cat = pd.Categorical.from_codes(entry, categories=list(names))
    df = pd.DataFrame(
        {
            "scenario": pd.Categorical.from_codes(np.zeros(n, np.int8), categories=[scenario])
            if n
            else pd.Categorical([]),
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
            "stages_visited": _strings(path),
            "n_stages": counts,
            "ever_in_carrier": fates["ever_carrier"],
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
    cols: Columns | None = None,
    graduates_before: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Per month and stage: occupancy, waiting list, blocked firms, entries and exits by kind.

    Months are twelfths of a year. Stocks (``occupancy``, ``queue``, ``blocked``, and the system columns
    ``active``) are measured at the end of the month; flows (``entries`` ... ``skips``) count events in
    the month. System columns (the same in every row of a month): ``arrived`` (cumulative, initial
    stock included), ``active`` (in a stage or on a waiting list), ``failed`` and ``exited``
    (cumulative), with ``arrived == active + failed + exited`` in every row. With ``outcomes``, also
    ``milestone_<test>`` per stage and the system columns ``listed`` and ``jobs``
    (:func:`sim.outcomes.outcome_timeseries`). ``graduates_cumulative``: the stage's graduates before
    the start (``graduates_before``, by stage name) plus its graduations up to the end of the month.
    ``cols``: the unpacked log, when the caller has it already.
    """
    cols = out.log.columns() if cols is None else cols
    t, ev, stage, info = cols["time"], cols["event"], cols["stage"], cols["info"]
    n_months = max(1, int(math.ceil(out.horizon * 12.0 - 1e-9)))
    names = out.stage_names
    n_st = len(names)
    n_ev = len(Ev)
    month = np.arange(n_months)
    # every (stage, event, month) count in one pass over the log; stage -1 (none) is row 0
    month_of = np.minimum((t * 12.0).astype(np.int64), n_months - 1)
    key = ((stage.astype(np.int64) + 1) * n_ev + ev) * n_months + month_of
    cnt = np.bincount(key, minlength=(n_st + 1) * n_ev * n_months).reshape(n_st + 1, n_ev, n_months)
    off_list = (ev == Ev.ADMIT) & (info == 1)  # admitted from the waiting list
    from_list = np.bincount(
        (stage[off_list].astype(np.int64) + 1) * n_months + month_of[off_list], minlength=(n_st + 1) * n_months
    ).reshape(n_st + 1, n_months)
    everywhere = cnt.sum(axis=0)
    arrived = np.cumsum(everywhere[Ev.ARRIVE])
    failed = np.cumsum(everywhere[Ev.FAIL])
    exited = np.cumsum(everywhere[Ev.EXIT])
    # Places in the carriers open at the end of each month (capacities before any policy).
    month_end = np.minimum((month + 1) / 12.0, out.horizon)
    closed_at = {cid: t_ for t_, cid, kind, _, _ in out.carrier_events if kind == CARRIER_EVENTS.index("close")}
    capacity = np.full((n_st, n_months), -1, dtype=np.int64)
    if capacities is None:
        has = np.zeros(n_st, dtype=bool)
        for c in out.carriers:
            j = names.index(c.stage)
            if not has[j]:
                capacity[j] = 0
                has[j] = True
            capacity[j] += c.capacity * ((c.opened_years <= month_end) & (closed_at.get(c.id, math.inf) > month_end))
    per = cnt[1:]
    occupancy = np.cumsum(per[:, Ev.ADMIT] - per[:, Ev.LEAVE], axis=1)
    # a blocked firm is released by the 'leave' of its stage; count releases by the blocked firm's stage
    queue = np.cumsum(per[:, Ev.WAIT] - (from_list[1:] + per[:, Ev.RENEGE]), axis=1)
    active = (occupancy + queue).sum(axis=0)
    before = np.array([(graduates_before or {}).get(name, 0) for name in names], dtype=np.int64)
    by_stage, system = outcome_timeseries(outcomes, n_months) if outcomes is not None else ({}, {})

    def grid(values: np.ndarray) -> np.ndarray:  # (stage, month) -> rows in (month, stage) order
        return np.ascontiguousarray(values.T).reshape(-1)

    def each(values: np.ndarray) -> np.ndarray:  # the same value for every stage of a month
        return np.repeat(values, n_st)

    rows = n_months * n_st
    data: dict[str, Any] = {
        "scenario": pd.Categorical.from_codes(np.zeros(rows, dtype=np.int64), categories=[scenario]),
        "replication": np.full(rows, replication, dtype=np.int32),
        "month": each(month),
        "t_years": each((month + 1) / 12.0),
        "stage": pd.Categorical.from_codes(np.tile(np.arange(n_st), n_months), categories=list(names)),
        "occupancy": grid(occupancy),
        "queue": grid(queue),
        "blocked_events": grid(per[:, Ev.BLOCK]),
        "entries": grid(per[:, Ev.ADMIT]),
        "graduations": grid(per[:, Ev.GRADUATE]),
        "graduates_cumulative": grid(before[:, None] + np.cumsum(per[:, Ev.GRADUATE], axis=1)),
        "timeouts": grid(per[:, Ev.TIME_OUT]),
        "failures": grid(per[:, Ev.FAIL]),
        "reneges": grid(per[:, Ev.RENEGE]),
        "skips": grid(per[:, Ev.SKIP]),
        "rejections": grid(per[:, Ev.REJECT]),
        "capacity": grid(capacity),
    }
    for key_ in by_stage.get(0, {}):
        data[key_] = grid(np.stack([by_stage[j][key_] for j in range(n_st)]))
    data.update(arrived=each(arrived), active=each(active), failed=each(failed), exited=each(exited))
    for key_, values in system.items():
        data[key_] = each(values)
    return pd.DataFrame(data)


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


def _km_sf_right_censored(durations: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier steps ``(times, survival)`` with some censoring: the arithmetic of
    :func:`scipy.stats.ecdf` for right-censored data, operation for operation, without its input checks.

    Deaths and losses tied at one time enter only through counts at that time, so the order in which
    sorting leaves tied observations does not change a bit of the result.
    """
    times = np.concatenate((durations[observed], durations[~observed]))
    died = np.zeros(len(times), dtype=np.int64)
    died[: int(np.count_nonzero(observed))] = 1
    i = np.argsort(times)
    times = times[i]
    died = died[i]
    at_risk = np.arange(times.size, 0, -1)
    j = np.diff(times, prepend=-np.inf, append=np.inf) > 0
    t = times[j[:-1]]
    n = at_risk[j[:-1]]
    d = np.diff(np.cumsum(died)[j[1:]], prepend=0)
    return t, np.cumprod((n - d) / n)


def km_survival_fast(durations: np.ndarray, observed: np.ndarray, at: tuple[float, ...]) -> list[float | None]:
    """:func:`km_survival` to the last bit, an order of magnitude quicker on large samples.

    Evaluates the step function as :func:`scipy.stats.ecdf` does (the value at the last step at or before
    each time). Falls back to :func:`km_survival` when no observation is censored (scipy's other branch);
    a sample without deaths (:func:`km_survival` answers it before calling scipy) needs no scipy at all.
    """
    if len(durations) == 0:
        return [None] * len(at)
    if observed.sum() == 0:
        return [1.0 if x <= durations.max() else None for x in at]
    if observed.all():
        return km_survival(durations, observed, at)
    steps, sf = _km_sf_right_censored(durations, observed)
    top = durations.max()
    out: list[float | None] = []
    for x in at:
        if x <= top + 1e-12:
            k = int(np.searchsorted(steps, x, side="right")) - 1
            out.append(float(sf[k]) if k >= 0 else 1.0)
        else:
            out.append(None)
    return out


def _stage_event_counts(stage: np.ndarray, ev: np.ndarray, n_st: int, first: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts of every (stage, event) pair over the whole log and over its rows from ``first`` on, as two
    ``(n_st + 1, len(Ev))`` tables (stage -1, none, is row 0).

    Counted a slice at a time: the integer keys that ``np.bincount`` takes are then a small buffer used
    over and over, where keys for the whole log at once would cost more in fresh memory than in counting.
    """
    n_ev = len(Ev)
    size = (n_st + 1) * n_ev
    parts = [np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int64)]  # before first, from first on
    step = 1 << 16
    for lo, hi, part in ((0, first, 0), (first, len(ev), 1)):
        for a in range(lo, hi, step):
            b = min(a + step, hi)
            key = stage[a:b].astype(np.intp)
            key += 1
            key *= n_ev
            key += ev[a:b]
            parts[part] += np.bincount(key, minlength=size)
    in_window = parts[1].reshape(n_st + 1, n_ev)
    return (parts[0] + parts[1]).reshape(n_st + 1, n_ev), in_window


def _by_stage(stage: np.ndarray, n_st: int) -> tuple[np.ndarray, list[slice]]:
    """The order that groups rows by their ``stage`` (in log order within a stage), and the slice of each
    stage 0..n_st-1 in that order."""
    order = np.argsort(stage, kind="stable")  # a radix sort of the small stage codes
    ends = np.cumsum(np.bincount(stage.astype(np.intp) + 1, minlength=n_st + 1)).tolist()
    return order, [slice(ends[j], ends[j + 1]) for j in range(n_st)]


def _stage_summary(out: SimOutput, cols: Columns, warmup: float) -> dict[str, Metric]:
    """Per stage: flows in ``[warmup, horizon)``, completed stays, time-average and final occupancy, as
    ``stages.<stage>.<measure>`` metrics (stages in chain order, measures in :data:`STAGE_MEASURES` order)."""
    # the log is in time order, so the window [warmup, horizon) is its tail
    first = int(np.searchsorted(cols["time"], warmup, side="left"))
    span = out.horizon - warmup
    n_st = len(out.stage_names)
    total, in_window = _stage_event_counts(cols["stage"], cols["event"], n_st, first)
    adm_order, adm_at = _by_stage(event_values(cols, Ev.ADMIT, "stage"), n_st)
    lv_order, lv_at = _by_stage(event_values(cols, Ev.LEAVE, "stage"), n_st)
    # the admissions' and departures' times and firms grouped by stage, in one allocation (shared_arrays)
    values = [event_values(cols, kind, c) for kind in (Ev.ADMIT, Ev.LEAVE) for c in ("time", "firm")]
    orders = [adm_order, adm_order, lv_order, lv_order]
    grouped = shared_arrays([len(o) for o in orders], [v.dtype for v in values])
    for into, v, o in zip(grouped, values, orders, strict=True):
        np.take(v, o, out=into, mode="clip")  # v[o]
    adm_time, adm_firm, lv_time, lv_firm = grouped
    blocks = event_rows(cols, Ev.BLOCK)  # in log order: those in the window are the tail
    aimed = event_values(cols, Ev.BLOCK, "info")[int(np.searchsorted(blocks, first)) :].astype(np.int64)
    blocked_for = np.bincount(aimed[aimed >= 0], minlength=n_st)
    flat: dict[str, Metric] = {}
    for j, name in enumerate(out.stage_names):
        adm_t, lv_t = adm_time[adm_at[j]], lv_time[lv_at[j]]
        # exact time-average occupancy over the window: integrate the step function
        occ_area = float(
            np.sum(out.horizon - np.maximum(adm_t, warmup)) - np.sum(out.horizon - np.maximum(lv_t, warmup))
        )
        # completed stays that started in the window
        stays = _completed_stays(adm_firm[adm_at[j]], adm_t, lv_firm[lv_at[j]], lv_t, warmup)
        c = in_window[j + 1]
        measures: dict[str, Metric] = {
            "entries": int(c[Ev.ADMIT]),
            "graduations": int(c[Ev.GRADUATE]),
            "failures": int(c[Ev.FAIL]),
            "timeouts": int(c[Ev.TIME_OUT]),
            "reneges": int(c[Ev.RENEGE]),
            "skips": int(c[Ev.SKIP]),
            "rejections": int(c[Ev.REJECT]),
            # applications that found no room: waits and skips here, and blocks aimed here (info = target)
            "found_full": int(c[Ev.WAIT]) + int(c[Ev.SKIP]) + int(blocked_for[j]),
            "mean_stay_years": float(np.mean(stays)) if len(stays) else math.nan,
            "completed_stays": len(stays),
            "mean_occupancy": occ_area / span if span > 0 else math.nan,
            "occupancy_at_horizon": int(total[j + 1, Ev.ADMIT] - total[j + 1, Ev.LEAVE]),
        }
        flat.update((stage_metric(name, m), measures[m]) for m in STAGE_MEASURES)
    return flat


def _summary(
    out: SimOutput,
    cols: Columns,
    warmup: float,
    outcomes: FirmOutcomes | None,
    fates: dict[str, np.ndarray],
    km: Any,
) -> dict[str, Metric]:
    """The summary's metrics from per-firm arrays (``arrival``, ``outcome`` codes, ``survival_years``,
    ``ever_carrier``), in the record's order (:func:`sim.summary.ordered_metrics`)."""
    post = ~(fates["arrival"] < warmup)
    outcome = fates["outcome"][post]
    obs = outcome == 1
    # A firm that left the system (exit) did not fail: it counts as not failed up to the horizon, so the
    # curves estimate P(not failed by t) rather than a survival with exits treated as lost to follow-up.
    exited = outcome == 2
    dur = np.where(exited, out.horizon - fates["arrival"][post], fates["survival_years"][post])
    carrier = fates["ever_carrier"][post]
    groups = {"all": np.ones(len(dur), dtype=bool), "never_in_carrier": ~carrier, "ever_in_carrier": carrier}
    survival: dict[str, Metric] = {}
    for group in SURVIVAL_GROUPS:
        mask = groups[group]
        for t, v in zip(SURVIVAL_YEARS, km(dur[mask], obs[mask], SURVIVAL_YEARS), strict=True):
            survival[survival_metric(group, t)] = math.nan if v is None else v
    stock_sources = [i for i, n in enumerate(out.source_names) if n.startswith("stock:")]
    stock = np.isin(event_values(cols, Ev.ARRIVE, "info"), stock_sources)
    arrivals_window = int(np.count_nonzero((event_values(cols, Ev.ARRIVE, "time") >= warmup) & ~stock))
    counts = np.bincount(fates["outcome"], minlength=3)
    return {
        "arrivals": arrivals_window,
        "initial_stock": int(np.count_nonzero(stock)),
        "firms": len(fates["outcome"]),
        "active_at_horizon": int(counts[0]),
        "failed": int(counts[1]),
        "exited": int(counts[2]),
        **(outcome_summary(outcomes, warmup) if outcomes is not None else {}),
        **_stage_summary(out, cols, warmup),
        **survival,
    }


_SUMMARY_DOC = """Flows count events in ``[warmup, horizon)``; mean occupancy is the exact time-average over the
    same window; survival is the Kaplan-Meier estimate of P(not failed by t years after arrival) over
    firms arriving after the warm-up (firms that exited count as not failed; the horizon censors),
    split by whether they ever entered a carrier (that split conditions on the future, so it mixes
    selection, time at risk and treatment -- use paired comparisons for effects). With ``outcomes``, also
    the milestone, listing and jobs metrics of :func:`sim.outcomes.outcome_summary`. Names and order are
    those of :mod:`sim.summary`; a measure the run cannot give is NaN."""


def log_summary(
    out: SimOutput,
    warmup: float = 0.0,
    outcomes: FirmOutcomes | None = None,
    cols: Columns | None = None,
    fates: Mapping[str, np.ndarray] | None = None,
) -> dict[str, Metric]:
    """The run's summary metrics (flat ``{name: value}``) straight from the event log, without any table.

    Equal to :func:`run_summary` of the firm table, value for value and bit for bit
    (``tests/outcomes/test_fast_summary.py`` checks every shipped scenario). This is what
    :meth:`sim.RunResult.summary` and the experiments use. ``cols``, ``fates``: the unpacked log and
    :func:`firm_fates`, when the caller has them already.
    """
    cols = out.log.columns() if cols is None else cols
    fates = firm_fates(out, cols) if fates is None else fates
    fates = {**fates, "survival_years": fates["outcome_time"] - fates["arrival"]}
    return _summary(out, cols, warmup, outcomes, fates, km_survival_fast)


def run_summary(
    out: SimOutput,
    firms: pd.DataFrame,
    warmup: float = 0.0,
    outcomes: FirmOutcomes | None = None,
    cols: Columns | None = None,
) -> dict[str, Metric]:
    """The run's summary metrics (flat ``{name: value}``) read from the firm table: per stage flows, stays and
    occupancy; overall outcomes. The reference for :func:`log_summary`, which gives the same without the
    table (and with a quicker Kaplan-Meier of the same arithmetic).
    """
    cols = out.log.columns() if cols is None else cols
    fates = {
        "arrival": firms["arrival_time"].to_numpy(),
        "outcome": np.asarray(firms["outcome"].cat.codes.to_numpy(), dtype=np.int64),
        "survival_years": firms["survival_years"].to_numpy(),
        "ever_carrier": firms["ever_in_carrier"].to_numpy(),
    }
    return _summary(out, cols, warmup, outcomes, fates, km_survival)


for _f in (log_summary, run_summary):
    _f.__doc__ = f"{_f.__doc__}\n\n    {_SUMMARY_DOC}\n    "


def _survival_data(firms: pd.DataFrame, horizon: float) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Firms arriving after the warm-up, their years to failure or censoring, and whether they failed.

    A firm that left the system (exit) did not fail: it counts as not failed up to the horizon, so the
    curves estimate P(not failed by t) rather than a survival with exits treated as lost to follow-up.
    """
    post = firms[~firms["in_warmup"].to_numpy()]
    obs = (post["outcome"] == "failed").to_numpy()
    exited = (post["outcome"] == "exited").to_numpy()
    dur = np.where(exited, horizon - post["arrival_time"].to_numpy(), post["survival_years"].to_numpy())
    return post, dur, obs


def survival_by_source(firms: pd.DataFrame, horizon: float, warmup: float = 0.0) -> pd.DataFrame:
    """Kaplan-Meier P(not failed by t years after arrival), per source stream and carrier use.

    One row per source (arrival stream, initial stock entry, competition) and group (``ever in a
    carrier``, ``never in a carrier``) with firms: ``source``, ``group``, ``firms`` and one column per
    year of :data:`SURVIVAL_YEARS` within the horizon (None where it cannot be estimated). The split
    is an association, not an effect: who enters a carrier is selected (screening, quality, surviving
    long enough to enter), and the streams differ in age and quality at arrival.
    """
    post, dur, obs = _survival_data(firms, horizon)
    years = tuple(y for y in SURVIVAL_YEARS if y <= horizon - warmup)
    carrier = post["ever_in_carrier"].to_numpy()
    source = post["source"].astype(str).to_numpy()
    rows: list[dict[str, Any]] = []
    for name in dict.fromkeys(source):
        mine = source == name
        for label, mask in (("ever in a carrier", mine & carrier), ("never in a carrier", mine & ~carrier)):
            if mask.any():
                surv = km_survival(dur[mask], obs[mask], years)
                cells = {f"{y:g}y": v for y, v in zip(years, surv, strict=True)}
                rows.append({"source": name, "group": label, "firms": int(mask.sum()), **cells})
    return pd.DataFrame(rows)


def graduates_by_year(
    out: SimOutput,
    graduates_before: Mapping[str, int],
    start_year: float,
    columns: Columns | None = None,
) -> dict[str, Metric]:
    """Cumulative graduates at the end of each calendar year the run covers, per stage of ``graduates_before``.

    Keys ``graduates_cumulative.<stage>.<year>``: the stage's graduates before the start plus its
    graduations from the start to the end of that year (whole run, warm-up included), as Torch statistics
    count them. Years whose end is after the horizon are left out. ``columns``: the log's columns when
    the caller has them already.
    """
    if not graduates_before:
        return {}
    cols = out.log.columns() if columns is None else columns
    first = int(math.floor(start_year + 1e-9))
    # the year ends grow with the year, so the years within the horizon are a leading run of candidates
    candidates = np.arange(first, first + int(out.horizon) + 2, dtype=np.int64)
    ends = (candidates + 1 - start_year).astype(np.float64)
    within = int(np.count_nonzero(ends <= out.horizon + 1e-9))
    ends = ends[:within]
    order, at = _by_stage(event_values(cols, Ev.GRADUATE, "stage"), len(out.stage_names))
    g_time = event_values(cols, Ev.GRADUATE, "time")[order]
    keys: dict[str, Metric] = {}
    for j, name in enumerate(out.stage_names):
        if name not in graduates_before:
            continue
        done = np.searchsorted(_ascending(g_time[at[j]]), ends, side="right") + graduates_before[name]
        keys.update(zip(_graduate_keys(name, first, within), done.tolist(), strict=True))
    return keys


@functools.lru_cache(maxsize=16)
def _graduate_keys(stage: str, first_year: int, years: int) -> tuple[str, ...]:
    """``graduates_cumulative.<stage>.<year>`` for ``years`` years from ``first_year``.

    Every replication of a scenario has the same names: made once, they are reused (with their hashes)
    by the next summary, which matters when a long horizon has thousands of years.
    """
    return tuple(map(f"graduates_cumulative.{stage}.".__add__, map(str, range(first_year, first_year + years))))


def _ascending(times: np.ndarray) -> np.ndarray:
    """``np.sort(times)``, without sorting when the times are in order already (rows of the log)."""
    if len(times) < 2 or bool(np.all(times[1:] >= times[:-1])):
        return times
    return np.sort(times)


def _completed_stays(
    adm_f: np.ndarray, adm_t: np.ndarray, lv_f: np.ndarray, lv_t: np.ndarray, warmup: float
) -> np.ndarray:
    """Durations admit -> leave that started at or after ``warmup``, pairing each firm's k-th admission
    with its k-th leave in this stage; in the order of the leaves sorted by firm, then time (the order
    fixes the bits of their mean).

    When no firm entered the stage twice or left it twice and every leaving firm was admitted (the common
    case), each leave's admission is looked up in an array indexed by firm, which also gives the firm
    order without sorting; that array then holds the stays, and a mask over firms picks those that count
    (one array of 8 bytes and two of 1 byte a firm: on a long run, fresh memory is most of the cost).
    """
    if len(lv_f) == 0:
        return np.empty(0)
    if len(adm_f):
        size = max(int(adm_f.max()), int(lv_f.max())) + 1
        admitted = np.zeros(size, dtype=bool)
        admitted[adm_f] = True
        leaving = np.zeros(size, dtype=bool)
        leaving[lv_f] = True
        if (
            np.count_nonzero(admitted) == len(adm_f)
            and np.count_nonzero(leaving) == len(lv_f)
            and bool(admitted[lv_f].all())
        ):
            start = np.zeros(size)
            start[adm_f] = adm_t
            began = start[lv_f]
            leaving[lv_f] = began >= warmup  # the stays that count
            start[lv_f] = lv_t - began  # each leaving firm's stay, in place of its admission time
            return start[leaving]
    return _paired_stays(adm_f, adm_t, lv_f, lv_t, warmup)


def _paired_stays(
    adm_f: np.ndarray, adm_t: np.ndarray, lv_f: np.ndarray, lv_t: np.ndarray, warmup: float
) -> np.ndarray:
    """:func:`_completed_stays` for any number of stays per firm: both sides sorted by firm, each leave's
    admission found by a binary search on (firm, rank)."""
    # by firm, then time: the rows come in log (time) order, so a stable sort by firm is enough
    a_order = stable_order(adm_f)
    l_order = stable_order(lv_f)
    af, at_ = adm_f[a_order], adm_t[a_order]
    lf, lt = lv_f[l_order], lv_t[l_order]
    a_rank = rank_in_group(af)
    l_rank = rank_in_group(lf)
    # (firm, rank) as one integer: sorted and unique for the admissions, so a binary search finds each
    # leave's admission
    width = int(max(a_rank.max(), l_rank.max())) + 1
    pos = np.searchsorted(af * width + a_rank, lf * width + l_rank)
    starts = at_[pos]
    keep = starts >= warmup
    return np.asarray((lt - starts)[keep], dtype=np.float64)
