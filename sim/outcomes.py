"""Firm outcomes derived after the run: success milestones at graduation, listings and jobs.

None of these changes what happens to a firm in the model, so all three are derived exactly from the
event log, the firms' attributes and their own random numbers, with no instrumentation in the engine
(``docs/outcomes.md`` has the model and the defaults' sources):

* **Milestones.** Graduating from a stage listed in ``[outcomes.milestones]`` is a success test
  (sources D): the graduate met one of :data:`~sim.scenario.MILESTONES`. The engine keeps one
  graduation hazard per stage; splitting it into competing cause-specific hazards proportional to it
  (``h_c = share_c x h``) is the same as drawing the cause with the fixed shares at each graduation,
  which is what is done here, with the firm's own uniform for its ``k``-th graduation (stream
  ``milestone``). Two facts in the log override the draw: a graduation routed to ``exit`` (acquired
  or listed, leaving the model) is ``acquisition_or_listing``; otherwise a firm an ``angel_fund``
  invested in during the stay it graduates from met ``financing``.
* **Listings.** A firm is at risk from its first graduation from a stage of
  ``listing.after_graduation_from`` (or from time 0 if it is initial stock of a stage in
  ``listing.stock_at_risk``) while it is active; its hazard is ``rate_per_year x exp(quality_effect x
  q)``. It lists when that hazard has spent its own Exp(1) budget (stream ``listing``), if that comes
  before its failure, exit or the horizon; a second draw of the same stream picks the market.
* **Jobs.** ``jobs(t) = at_founding x f x (1 + growth_per_year x min(age(t), growth_until_years))``,
  times ``milestone_factor`` after the firm's first milestone; ``f = exp(firm_sd Z - firm_sd^2 / 2)``
  with the firm's own standard normal ``Z`` (stream ``jobs``). Jobs at a time ``t`` are the left limit:
  a firm counts if it arrived before ``t`` and had not failed or exited before ``t``.

Common random numbers: every draw is keyed by the firm's source and number (``Streams.generator(stream,
source, block)``, the firm's row in the block), and a milestone also by the graduation's rank ``k``
within the firm, so a policy variant gives untouched firms exactly the same outcomes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .event_log import Ev, SimOutput, event_values, shared_arrays, stable_order
from .policies import AngelFund
from .scenario import MILESTONES, Scenario
from .streams import BLOCK, Streams

__all__ = [
    "FirmOutcomes",
    "add_carrier_outcomes",
    "carrier_outcomes",
    "derive_outcomes",
    "firm_jobs",
    "outcome_firm_columns",
    "outcome_summary",
    "outcome_timeseries",
    "rank_in_group",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_GRADUATION_KEY = 1 << 20
"""A milestone draw is keyed ``block * _GRADUATION_KEY + k`` for a firm's ``k``-th graduation."""

_FINANCING = MILESTONES.index("financing")
_ACQUIRED = MILESTONES.index("acquisition_or_listing")


@dataclass(frozen=True)
class FirmOutcomes:
    """Milestones, listings and jobs of one replication (arrays indexed by firm id unless said otherwise).

    Times are years since the start; ``inf`` (or NaN in the tables) where something never happens.
    """

    horizon: float
    stage_names: tuple[str, ...]
    market_names: tuple[str, ...]
    milestone_stages: tuple[int, ...]
    """Stage indices whose graduation is a success test."""
    # per graduation, in log order
    grad_time: FloatArray
    grad_firm: IntArray
    grad_stage: IntArray
    grad_milestone: IntArray
    """Index into :data:`~sim.scenario.MILESTONES`, -1 for a graduation that is not a success test."""
    # per firm
    n_graduations: IntArray
    milestone: IntArray
    """The first milestone the firm met (-1: none)."""
    milestone_time: FloatArray
    milestone_stage: IntArray
    arrival: FloatArray
    end: FloatArray
    """Failure or exit time; ``inf`` for firms active at the horizon."""
    listing_risk_from: FloatArray
    listing_time: FloatArray
    """When the firm listed; ``inf`` if it did not list before its failure, exit or the horizon."""
    listing_market: IntArray
    """Index into :attr:`market_names` (-1: not listed)."""
    jobs_scale: FloatArray
    """``at_founding x f``: the firm's jobs at age 0."""
    birth: FloatArray
    growth_per_year: float
    growth_until_years: float
    milestone_factor: float

    @property
    def listed(self) -> npt.NDArray[np.bool_]:
        """Whether each firm listed within the run."""
        return np.isfinite(self.listing_time)

    @property
    def active(self) -> npt.NDArray[np.bool_]:
        """Whether each firm is active at the horizon."""
        return np.isinf(self.end)


def _draws(
    streams: Streams,
    stream: str,
    source: IntArray,
    index: IntArray,
    draw: Callable[[np.random.Generator], FloatArray],
    sub: IntArray | None = None,
) -> FloatArray:
    """Firm-indexed draws: firm ``index`` of ``source`` reads row ``index % BLOCK`` of the block drawn by
    ``draw`` from ``streams.generator(stream, source, block * _GRADUATION_KEY + sub)`` (``sub`` 0 if
    absent). ``draw`` returns ``(..., BLOCK)``; the result is ``(..., len(index))``.

    One generator per (source, block, sub) that occurs: a few hundred for a province, never one per firm.
    ``index`` must not be empty.
    """
    key = index // BLOCK  # the block, then (in place) the generator's key
    key *= _GRADUATION_KEY
    if sub is not None:
        key += sub
    row = index % BLOCK
    both = source * (int(key.max()) + 1)
    both += key
    # stable: firms come mostly in order already, which a stable sort finds quickly (the order within a
    # group does not matter: each firm reads its own row); when they come fully in order (one source,
    # firms in the order of their indices), the sort and its copies are skipped: the same groups
    ordered = len(both) < 2 or bool(np.all(both[1:] >= both[:-1]))
    order = None if ordered else np.argsort(both, kind="stable")
    b_sorted = both if order is None else both[order]
    starts = np.flatnonzero(np.r_[True, b_sorted[1:] != b_sorted[:-1]])
    bounds = np.r_[starts, len(both)]
    first = starts if order is None else order[starts]
    group_source, group_key = source[first].tolist(), key[first].tolist()
    out: FloatArray | None = None
    for i, (lo, hi) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)):
        values = draw(streams.generator(stream, group_source[i], group_key[i]))
        if out is None:
            out = np.empty((*values.shape[:-1], len(index)))
        if order is None:  # the group's firms are rows lo..hi-1 themselves
            out[..., lo:hi] = values[..., row[lo:hi]]
            continue
        rows = order[lo:hi]
        if int(rows[-1]) - int(rows[0]) == hi - lo - 1:  # ascending (a stable sort), so a run of firms
            at = slice(int(rows[0]), int(rows[-1]) + 1)
            out[..., at] = values[..., row[at]]
        else:
            out[..., rows] = values[..., row[rows]]
    assert out is not None
    return out


def rank_in_group(sorted_keys: IntArray) -> IntArray:
    """0, 1, 2, ... within each run of equal keys of a sorted array (a firm's k-th event, say)."""
    n = len(sorted_keys)
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    return np.arange(n, dtype=np.int64) - np.repeat(starts, np.diff(np.r_[starts, n]))


def _among(stage: IntArray, stages: Sequence[int], n_stages: int) -> npt.NDArray[np.bool_]:
    """``np.isin(stage, stages)`` for stage indices (-1 for none, never among ``stages``), by a table
    lookup instead of a search."""
    member = np.zeros(n_stages + 1, dtype=bool)  # the last entry, False, answers stage -1
    member[list(stages)] = True
    return member[stage]


def _first_time(into: FloatArray, firm: IntArray, time: FloatArray) -> None:
    """``np.minimum.at(into, firm, time)`` where ``into`` holds ``inf`` at every ``firm``: each firm's
    earliest time. Times in log (time) order are written backwards, so each firm's first row is written
    last, which is what NumPy keeps for repeated indices; otherwise the slower ``minimum.at``.
    """
    if len(time) < 2 or bool(np.all(time[1:] >= time[:-1])):
        into[firm[::-1]] = time[::-1]
    else:
        np.minimum.at(into, firm, time)


def _financed_graduations(
    ev: npt.NDArray[np.int8], firm: IntArray, angel_rows: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """For each graduation row (in log order): whether an angel fund invested in the firm in that stay.

    A stay opens with an ``admit`` row and an investment is written right after it; a graduation belongs
    to the firm's latest admission. Only funded firms' rows are looked at; they are put in log order
    firm by firm, and each row is labelled by the log position of its firm's latest ``admit`` (a running
    maximum).
    """
    is_adm = ev == Ev.ADMIT
    is_grad = ev == Ev.GRADUATE
    funded = np.zeros(int(firm.max()) + 1 if len(firm) else 0, dtype=bool)
    funded[firm[angel_rows]] = True
    rows = np.flatnonzero(funded[firm] & (is_adm | is_grad | angel_rows))
    order = stable_order(firm[rows])
    r = rows[order]
    f = firm[r]
    pos = np.arange(len(r))
    last = np.maximum.accumulate(np.where(is_adm[r], pos, -1)) if len(r) else pos
    ok = last >= 0
    ok[ok] = f[last[ok]] == f[ok]  # the latest admit must be the same firm's
    stay = np.where(ok, r[np.maximum(last, 0)], -1)
    funded_stays = np.unique(stay[angel_rows[r] & ok])
    financed = np.isin(stay, funded_stays) & ok
    grad_sorted = is_grad[r]
    # back to log order of the graduation rows
    out = np.zeros(int(is_grad.sum()), dtype=bool)
    grad_rows = r[grad_sorted]
    out[np.searchsorted(np.flatnonzero(is_grad), grad_rows)] = financed[grad_sorted]
    return out


def derive_outcomes(
    scenario: Scenario,
    out: SimOutput,
    seed: int,
    replication: int,
    cols: dict[str, np.ndarray] | None = None,
    fates: Mapping[str, np.ndarray] | None = None,
) -> FirmOutcomes:
    """Milestones, listings and jobs of one replication (see the module docstring).

    Parameters
    ----------
    scenario:
        The scenario that produced ``out`` (its ``[outcomes]`` and policies are read).
    out:
        The replication's output.
    seed, replication:
        What produced it: the outcome draws come from ``Streams(seed, replication)``.
    cols:
        The unpacked event log, when the caller has it already.
    fates:
        The firms' ``arrival``, ``outcome`` and ``outcome_time`` (:func:`sim.tables.firm_fates`), when the
        caller has them already.
    """
    oc = scenario.outcomes
    streams = Streams(seed, replication)
    cols = out.log.columns() if cols is None else cols
    ev, firm, info = cols["event"], cols["firm"], cols["info"]
    n = len(out.firm_source)
    names = out.stage_names
    source = out.firm_source.astype(np.int64)
    index = out.firm_index.astype(np.int64, copy=False)  # read only

    # ------------------------------------------------------------------------------- milestones
    g_time, g_dest = event_values(cols, Ev.GRADUATE, "time"), event_values(cols, Ev.GRADUATE, "info")
    g_firm = np.asarray(event_values(cols, Ev.GRADUATE, "firm"), dtype=np.int64)
    g_stage = event_values(cols, Ev.GRADUATE, "stage").astype(np.int64)
    n_grad = np.bincount(g_firm, minlength=n).astype(np.int64, copy=False)[:n]
    ms_stages = tuple(names.index(s) for s in oc.milestones if s in names)
    cum = np.zeros((len(names), len(MILESTONES)))
    for s in ms_stages:
        shares = {str(k): v for k, v in oc.milestones[names[s]].items()}
        cum[s] = np.cumsum([shares.get(m, 0.0) for m in MILESTONES])
    g_ms = np.full(len(g_firm), -1, dtype=np.int64)
    tested = _among(g_stage, ms_stages, len(names))
    if tested.any():
        # rank of each graduation within its firm (the log is in time order)
        order = stable_order(g_firm)
        rank = np.empty(len(g_firm), dtype=np.int64)
        rank[order] = rank_in_group(g_firm[order])
        f_t = g_firm[tested]
        u = _draws(streams, "milestone", source[f_t], index[f_t], lambda gen: gen.random(BLOCK), rank[tested])
        c = cum[g_stage[tested]]
        drawn = np.minimum((u[:, None] >= c).sum(axis=1), len(MILESTONES) - 1)
        angel_idx = [i for i, p in enumerate(scenario.policies) if isinstance(p, AngelFund)]
        if angel_idx:
            angel_rows = ev == Ev.ATTRIBUTE  # gm_matching writes attribute rows too: keep the funds' only
            angel_rows[angel_rows] = np.isin(info[angel_rows], angel_idx)
            drawn = np.where(_financed_graduations(ev, firm, angel_rows)[tested], _FINANCING, drawn)
        drawn = np.where(g_dest[tested] == -1, _ACQUIRED, drawn)
        g_ms[tested] = drawn
    # the per-firm results in one allocation (shared_arrays), filled with "never"
    milestone, milestone_stage, listing_market, milestone_time, risk_from, listing_time = shared_arrays(
        n, (np.int64, np.int64, np.int64, np.float64, np.float64, np.float64)
    )
    for a in (milestone, milestone_stage, listing_market):
        a.fill(-1)
    for a in (milestone_time, risk_from, listing_time):
        a.fill(math.inf)
    met = np.flatnonzero(g_ms >= 0)
    first_firms, first_at = np.unique(g_firm[met], return_index=True)
    first = met[first_at]
    milestone[first_firms] = g_ms[first]
    milestone_time[first_firms] = g_time[first]
    milestone_stage[first_firms] = g_stage[first]

    # ------------------------------------------------------------------------------- life span
    if fates is not None:
        arrival = fates["arrival"]
        end = np.where(fates["outcome"] != 0, fates["outcome_time"], math.inf)
    else:
        arrival = np.full(n, math.nan)
        arrival[event_values(cols, Ev.ARRIVE, "firm")] = event_values(cols, Ev.ARRIVE, "time")
        end = np.full(n, math.inf)
        for final in (Ev.FAIL, Ev.EXIT):  # a firm has at most one of the two
            end[event_values(cols, final, "firm")] = event_values(cols, final, "time")

    # ------------------------------------------------------------------------------- listings
    lst = oc.listing
    risk_stages = (
        [names.index(s) for s in lst.after_graduation_from if s in names]
        if lst.after_graduation_from is not None
        else [j for j, s in enumerate(names) if s in scenario.stages and scenario.stages[s].carriers is not None]
    )
    at_risk_grad = _among(g_stage, risk_stages, len(names))
    if np.count_nonzero(at_risk_grad) == len(at_risk_grad):  # every graduation (no copies needed)
        _first_time(risk_from, g_firm, g_time)
    else:
        _first_time(risk_from, g_firm[at_risk_grad], g_time[at_risk_grad])
    stock_sources = [
        i
        for i, s in enumerate(out.source_names)
        if s.startswith("stock:") and s.removeprefix("stock:").rpartition(":")[0] in lst.stock_at_risk
    ]
    if stock_sources:
        stock = np.isin(source, stock_sources)
        risk_from[stock] = np.minimum(risk_from[stock], arrival[stock])
    markets = tuple(lst.markets)
    risky = np.flatnonzero(np.isfinite(risk_from) & (risk_from < np.minimum(end, out.horizon)))
    if len(risky) and lst.rate_per_year > 0:
        budget, u_market = _draws(
            streams,
            "listing",
            source[risky],
            index[risky],
            lambda gen: np.stack([gen.standard_exponential(BLOCK), gen.random(BLOCK)]),
        )
        rate = lst.rate_per_year * np.exp(lst.quality_effect * out.firm_quality[risky])
        when = risk_from[risky] + budget / rate
        lists = when < np.minimum(end[risky], out.horizon)
        listing_time[risky[lists]] = when[lists]
        cum_m = np.cumsum([lst.markets[k] for k in markets])
        listing_market[risky[lists]] = np.minimum(
            np.searchsorted(cum_m, u_market[lists], side="right"), len(markets) - 1
        )

    # ------------------------------------------------------------------------------- jobs
    jb = oc.jobs
    z = _draws(streams, "jobs", source, index, lambda gen: gen.standard_normal(BLOCK)) if n else np.empty(0)
    # at_founding * exp(firm_sd * z - firm_sd**2 / 2), in place: the same operations, no temporaries
    scale = np.multiply(z, jb.firm_sd, out=z)
    scale -= 0.5 * jb.firm_sd**2
    np.exp(scale, out=scale)
    scale *= jb.at_founding
    return FirmOutcomes(
        horizon=out.horizon,
        stage_names=names,
        market_names=markets,
        milestone_stages=ms_stages,
        grad_time=g_time,
        grad_firm=g_firm,
        grad_stage=g_stage,
        grad_milestone=g_ms,
        n_graduations=n_grad,
        milestone=milestone,
        milestone_time=milestone_time,
        milestone_stage=milestone_stage,
        arrival=arrival,
        end=end,
        listing_risk_from=risk_from,
        listing_time=listing_time,
        listing_market=listing_market,
        jobs_scale=scale,
        birth=out.firm_birth.astype(np.float64),
        growth_per_year=jb.growth_per_year,
        growth_until_years=jb.growth_until_years,
        milestone_factor=jb.milestone_factor,
    )


# ----------------------------------------------------------------------------------------- jobs
def _curve(o: FirmOutcomes, t: FloatArray) -> FloatArray:
    """Each firm's jobs curve at time ``t`` (one time per firm), whether or not it is active then;
    the milestone step counts if the milestone came strictly before ``t`` (left limit)."""
    age = np.clip(t - o.birth, 0.0, o.growth_until_years)
    boost = np.where(o.milestone_time < t, o.milestone_factor, 1.0)
    return np.asarray(o.jobs_scale * boost * (1.0 + o.growth_per_year * age), dtype=np.float64)


def firm_jobs(o: FirmOutcomes, t: float) -> FloatArray:
    """Jobs of every firm at time ``t`` (years), 0 for firms not active then.

    The left limit at ``t``: a firm counts if it arrived before ``t`` and did not fail or exit before
    ``t``, as the monthly stocks of the time series count it.
    """
    active = (o.arrival < t) & (o.end >= t)
    return np.where(active, _curve(o, np.full(len(o.arrival), t)), 0.0)


def _jobs_series(o: FirmOutcomes, n_months: int) -> FloatArray:
    """Total jobs in active firms at the end of each month (capped at the horizon), exactly and in O(firms).

    Between its breakpoints (arrival, milestone, end of growth, failure or exit) a firm's jobs are
    ``C + S t``. Each breakpoint adds the change of ``(C, S)`` to its month; the running sums give the
    total at each month's end. Breakpoints are binned like the other stocks of the time series
    (``floor(12 t)``), so a firm counts at a month's end exactly when the ``active`` column counts it.
    """
    g, cap, mf = o.growth_per_year, o.growth_until_years, o.milestone_factor
    sat = o.birth + cap
    a, e, mt = o.arrival, o.end, o.milestone_time
    points = (a, mt, sat, e)

    def coef(tau: FloatArray, after: bool) -> tuple[FloatArray, FloatArray]:
        if after:
            live, boosted, flat = (a <= tau) & (tau < e), mt <= tau, sat <= tau
        else:
            live, boosted, flat = (a < tau) & (tau <= e), mt < tau, sat < tau
        w = np.where(live, o.jobs_scale * np.where(boosted, mf, 1.0), 0.0)
        return w * np.where(flat, 1.0 + g * cap, 1.0 - g * o.birth), w * np.where(flat, 0.0, g)

    d_c = np.zeros(n_months)
    d_s = np.zeros(n_months)
    for j, tau in enumerate(points):
        use = (tau >= 0.0) & (tau < o.horizon)  # nothing changes before the start (the end of growth may)
        for earlier in points[:j]:
            use &= tau != earlier  # coinciding breakpoints: one change covers them all
        c1, s1 = coef(tau, True)
        c0, s0 = coef(tau, False)
        month = np.minimum((tau[use] * 12.0).astype(np.int64), n_months - 1)
        d_c += np.bincount(month, weights=(c1 - c0)[use], minlength=n_months)[:n_months]
        d_s += np.bincount(month, weights=(s1 - s0)[use], minlength=n_months)[:n_months]
    t_end = np.minimum((np.arange(n_months) + 1) / 12.0, o.horizon)
    return np.asarray(np.cumsum(d_c) + np.cumsum(d_s) * t_end, dtype=np.float64)


# ----------------------------------------------------------------------------------------- tables
def outcome_firm_columns(o: FirmOutcomes) -> dict[str, Any]:
    """Columns added to the firm table (``docs/tables.md``).

    ``n_graduations``; ``milestone`` (the first success test met), ``milestone_time`` (years),
    ``milestone_stage``; ``listed``, ``listing_risk_from`` (years; when the firm became at risk),
    ``listing_time`` (years), ``listing_market``; ``jobs`` (jobs just before the firm's outcome time:
    failure, exit or the horizon) and ``jobs_at_horizon`` (``jobs`` if active, else 0).
    """

    def nan_inf(x: FloatArray) -> FloatArray:
        return np.where(np.isfinite(x), x, np.nan)

    jobs = _curve(o, np.minimum(o.end, o.horizon))
    return {
        "n_graduations": o.n_graduations,
        "milestone": pd.Categorical.from_codes(o.milestone, categories=list(MILESTONES)),
        "milestone_time": nan_inf(o.milestone_time),
        "milestone_stage": pd.Categorical.from_codes(o.milestone_stage, categories=list(o.stage_names)),
        "listed": o.listed,
        "listing_risk_from": nan_inf(o.listing_risk_from),
        "listing_time": nan_inf(o.listing_time),
        "listing_market": pd.Categorical.from_codes(o.listing_market, categories=list(o.market_names)),
        "jobs": jobs,
        "jobs_at_horizon": np.where(o.active, jobs, 0.0),
    }


def outcome_timeseries(o: FirmOutcomes, n_months: int) -> tuple[dict[int, dict[str, Any]], dict[str, Any]]:
    """Monthly columns for the stage time series: per stage, and for the whole system.

    Per stage: ``milestone_<test>``, the stage's graduations in the month that met each success test.
    System (the same in every stage's row): ``listed`` (cumulative listings) and ``jobs`` (total jobs in
    active firms at the end of the month).
    """

    def counts(times: FloatArray) -> IntArray:
        idx = np.minimum((times * 12.0).astype(np.int64), n_months - 1)
        return np.bincount(idx, minlength=n_months)[:n_months].astype(np.int64)

    per_stage: dict[int, dict[str, Any]] = {}
    for j in range(len(o.stage_names)):
        mine = o.grad_stage == j
        per_stage[j] = {
            f"milestone_{name}": counts(o.grad_time[mine & (o.grad_milestone == k)])
            for k, name in enumerate(MILESTONES)
        }
    system = {
        "listed": np.cumsum(counts(o.listing_time[o.listed])),
        "jobs": _jobs_series(o, n_months),
    }
    return per_stage, system


def outcome_summary(o: FirmOutcomes, warmup: float = 0.0) -> dict[str, float | int]:
    """Flat summary keys (counts of events in ``[warmup, horizon)``; jobs at the horizon).

    ``milestones.<test>`` (every stage whose graduation is a success test), ``milestones.<stage>.<test>``;
    ``listings.total``, ``listings.<market>``; ``jobs.at_horizon`` (total jobs in active firms) and
    ``jobs.per_active_firm`` (NaN if no firm is active).
    """
    flat: dict[str, float | int] = {}
    window = o.grad_time >= warmup
    for k, name in enumerate(MILESTONES):
        flat[f"milestones.{name}"] = int(np.count_nonzero(window & (o.grad_milestone == k)))
    for j in o.milestone_stages:
        for k, name in enumerate(MILESTONES):
            hit = window & (o.grad_stage == j) & (o.grad_milestone == k)
            flat[f"milestones.{o.stage_names[j]}.{name}"] = int(np.count_nonzero(hit))
    listed = o.listed & (o.listing_time >= warmup)
    flat["listings.total"] = int(np.count_nonzero(listed))
    for k, name in enumerate(o.market_names):
        flat[f"listings.{name}"] = int(np.count_nonzero(listed & (o.listing_market == k)))
    active = o.active
    jobs = float(_curve(o, np.full(len(active), o.horizon))[active].sum())
    n_active = int(np.count_nonzero(active))
    flat["jobs.at_horizon"] = jobs
    flat["jobs.per_active_firm"] = jobs / n_active if n_active else math.nan
    return flat


# ----------------------------------------------------------------------------------------- carriers
def carrier_outcomes(out: SimOutput, cols: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Per carrier id found in the log: ``tenants_at_horizon`` (admissions - departures; blocked firms
    hold their slot), ``graduates`` and ``failures`` over the whole run."""
    cols = out.log.columns() if cols is None else cols
    ev, carrier = cols["event"], cols["carrier"].astype(np.int64)
    held = carrier >= 0
    size = int(carrier.max()) + 1 if held.any() else 0

    def per(kind: Ev) -> IntArray:
        return np.bincount(carrier[held & (ev == kind)], minlength=size).astype(np.int64)

    tenants = per(Ev.ADMIT) - per(Ev.LEAVE)
    return pd.DataFrame(
        {
            "carrier": np.arange(size, dtype=np.int64),
            "tenants_at_horizon": tenants,
            "graduates": per(Ev.GRADUATE),
            "failures": per(Ev.FAIL),
        }
    )


def add_carrier_outcomes(
    carriers: pd.DataFrame, out: SimOutput, cols: dict[str, np.ndarray] | None = None
) -> pd.DataFrame:
    """``carriers`` (one row per carrier, column ``carrier``) with the columns of :func:`carrier_outcomes`
    (0 for a carrier without any such event)."""
    extra = carrier_outcomes(out, cols)
    merged = carriers.merge(extra, on="carrier", how="left")
    for col in ("tenants_at_horizon", "graduates", "failures"):
        merged[col] = merged[col].fillna(0).astype(np.int64)
    return merged
