"""Selection versus treatment: how much of a participants-versus-others gap is the programme.

A survey compares firms that went through a programme with firms that did not (the *naive*
difference). The simulator can do better: it knows every firm's latent quality, and it can replay the
same firms (common random numbers) in a world where the programme's treatment is switched off while
admission and screening stay as they are, so the same firms are "treated" (:func:`sim.engine.simulate`
with ``programme``; what is switched off is in ``docs/decompose.md``). A programme is a carrier stage,
a policy that treats firms, or a competition. Per replication:

* ``naive`` = mean outcome of participants - mean outcome of non-participants (factual world);
* ``att`` (average treatment effect on the treated) = mean over participants of factual - counterfactual;
* ``selection`` = ``naive - att`` = participants' counterfactual mean - non-participants' mean: the part
  of the gap that is who got in, not what the programme did.

``selection`` is split further by a linear (Oaxaca-Blinder) projection of the untreated outcome on what
differs between the groups: latent ``quality``, entry ``stream`` (arrival source) and ``age`` at entry;
``selection_other`` is the rest (where firms went and for how long, ...). Estimates across replications
are means with t-based intervals (:func:`sim.stats.mean_ci`).

Participants are the firms arriving during the run (initial stock excluded) that were admitted to the
programme stage at least once, or that the policy treated (a competition: its winners). Because the
switch changes tenants' hazards, it can change how long they stay and so, in a full stage, who else gets
a slot later: ``admitted_in_both`` (share of
participants also admitted in the counterfactual world) and ``spillover`` (mean change of the
non-participants' outcome) measure that; the ATT includes it.
"""

from __future__ import annotations

import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, assert_never

import numpy as np
import pandas as pd
from scipy import linalg
from tqdm.auto import tqdm

from .engine import PolicySwitch, Untreated, simulate
from .event_log import Ev
from .executors import SerialExecutor
from .experiment.runner import _progress_enabled
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
from .results import RunResult
from .scenario import EXIT, Scenario
from .stats import mean_ci
from .streams import Streams

__all__ = [
    "LABELS",
    "MEASURES",
    "OUTCOMES",
    "PARTS",
    "Decomposition",
    "decompose",
    "decompose_replication",
    "factual_stays",
    "programme_error",
]

OUTCOMES: tuple[str, ...] = (
    "survival_1y",
    "survival_3y",
    "survival_5y",
    "graduated",
    "financed",
    "listed",
    "jobs",
)
"""Outcomes of a firm: not failed within 1/3/5 years of arrival (firms that exit count as not failed;
only firms arriving at least that long before the horizon), graduated from a stage whose graduation is
a success test (``[outcomes.milestones]``; none in a scenario without them), met the ``financing``
test, listed, and jobs at the horizon (0 for a firm that failed or exited) -- the last four by the
horizon."""

SURVIVAL_YEARS = {"survival_1y": 1.0, "survival_3y": 3.0, "survival_5y": 5.0}

PARTS = ("quality", "stream", "age")
"""Observable and latent differences the selection term is split by."""

MEASURES = ("naive", "att", "selection", *(f"selection_{p}" for p in PARTS), "selection_other", "spillover")


NOT_A_TREATMENT: dict[type, str] = {
    ArrivalMultiplier: "it changes how many firms arrive, not what happens to the firms that do",
    CapacityChange: "it changes carriers' capacity (who gets a slot), not the treatment of the firms in them",
    ConstructionSubsidy: "it changes how many carriers open, not the treatment of any firm",
    TaxRelief: "it changes carriers' closures, not the treatment of any firm",
}
"""Policies that cannot be a programme, and why: they change the chain rather than treat firms, so "the same
firms without the treatment" has no meaning. ``incuchain compare`` with and without them measures their effect."""


def _kind(policy: Policy) -> str:
    """How a policy treats firms (:class:`sim.engine.PolicySwitch`), ``"attribute"`` for those whose
    ``attribute`` rows name the firms (gm_matching, angel_fund), or ``""`` if it treats none."""
    match policy:
        case GmMatching() | AngelFund():
            return "attribute"
        case HazardMultiplier() | RentRelief() | Specialisation():
            return "hazard"
        case PerformanceSubsidy():
            return "performance"
        case ChainLinkage():
            return "link"
        case Competition():
            return "competition"
        case ArrivalMultiplier() | CapacityChange() | ConstructionSubsidy() | TaxRelief():
            return ""  # NOT_A_TREATMENT says why
        case _:
            assert_never(policy)


def _policy_index(scenario: Scenario, programme: str) -> int:
    """Index of the policy named ``programme``, or -1."""
    for i, p in enumerate(scenario.policies):
        if policy_name(p, i) == programme:
            return i
    return -1


def _competition_source(scenario: Scenario, index: int) -> int:
    """The firm source of competition ``index``: numbered after the arrival streams and the initial stock."""
    before = sum(isinstance(p, Competition) for p in scenario.policies[:index])
    return len(scenario.arrivals) + len(scenario.initial_stock) + before


def programme_error(scenario: Scenario, programme: str) -> str | None:
    """Why ``programme`` cannot be decomposed in ``scenario`` (one line), or None if it can."""
    stages = scenario.stage_names
    if programme not in stages:
        i = _policy_index(scenario, programme)
        if i < 0:
            names = [policy_name(p, k) for k, p in enumerate(scenario.policies) if _kind(p)]
            return (
                f"programme: {programme!r} is neither a stage of {scenario.name!r} ({', '.join(stages)}) nor one "
                f"of its policies that treat firms ({', '.join(names) or 'none'})"
            )
        pol = scenario.policies[i]
        if not _kind(pol):
            return f"programme: policy {programme!r} ({pol.type}) cannot be decomposed: {NOT_A_TREATMENT[type(pol)]}"
        if isinstance(pol, ChainLinkage):
            pair = (pol.from_stage, pol.to_stage)
            if any(isinstance(p, ChainLinkage) and (p.from_stage, p.to_stage) == pair and k != i
                   for k, p in enumerate(scenario.policies)):  # fmt: skip
                return (
                    f"programme: chain_linkage {programme!r} shares {pol.from_stage} -> {pol.to_stage} with "
                    "another chain_linkage policy, so the firms it alone favours cannot be told apart"
                )
        return None
    if scenario.fallback_of(programme) == EXIT:
        return (
            f"programme: stage {programme!r} sends turned-away firms to exit, so without the programme its "
            "participants would leave the model (set its admission.fallback to a stage)"
        )
    return None


@dataclass(frozen=True)
class Decomposition:
    """The result of :func:`decompose`.

    Attributes
    ----------
    table:
        One row per outcome and measure (``MEASURES``): ``n`` replications, ``mean``, ``ci_low``,
        ``ci_high``, ``note`` (see :class:`sim.stats.Estimate`). Survival outcomes are shares (0-1),
        ``jobs`` is jobs per firm.
    per_replication:
        One row per replication and outcome: every measure, the participants' and non-participants'
        means, ``n_participants``, ``n_others`` and ``admitted_in_both``.
    firms:
        One row per firm and replication: ``replication``, ``source``, ``source_index``, ``sector``,
        ``quality``, ``age_at_arrival``, ``arrival_time``, ``participant``, ``applied`` (applied to the
        programme stage), ``screen_score`` (the screening signal of the first application, NaN without
        screening), and each outcome as ``<outcome>`` (factual) and ``<outcome>_untreated``.
    """

    scenario: str
    programme: str
    reps: int
    seed: int
    level: float
    table: pd.DataFrame
    per_replication: pd.DataFrame
    firms: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def estimate(self, outcome: str, measure: str = "att") -> tuple[float, float, float]:
        """``(mean, ci_low, ci_high)`` of one measure of one outcome."""
        row = self.table[(self.table["outcome"] == outcome) & (self.table["measure"] == measure)]
        if row.empty:
            raise KeyError(f"no {measure} for {outcome}")
        r = row.iloc[0]
        return float(r["mean"]), float(r["ci_low"]), float(r["ci_high"])


LABELS = {
    "survival_1y": "not failed at 1 y",
    "survival_3y": "not failed at 3 y",
    "survival_5y": "not failed at 5 y",
    "graduated": "graduated (success test)",
    "financed": "financing test met",
    "listed": "listed",
    "jobs": "jobs at the horizon",
}


def _outcomes(res: RunResult) -> pd.DataFrame:
    """Per firm (by id): each outcome; NaN where a survival outcome has too short a follow-up."""
    f = res.firms
    horizon = res.output.horizon
    arrival = f["arrival_time"].to_numpy()
    failed = (f["outcome"] == "failed").to_numpy()
    fail_at = np.where(failed, f["outcome_time"].to_numpy(), np.inf)
    cols: dict[str, Any] = {}
    for name, years in SURVIVAL_YEARS.items():
        y = (fail_at - arrival > years).astype(float)
        y[arrival > horizon - years] = np.nan
        cols[name] = y
    cols["graduated"] = f["milestone"].notna().to_numpy().astype(float)
    cols["financed"] = (f["milestone"] == "financing").to_numpy().astype(float)
    cols["listed"] = f["listed"].to_numpy().astype(float)
    cols["jobs"] = f["jobs_at_horizon"].to_numpy(dtype=float)
    return pd.DataFrame(cols)


def _admitted(res: RunResult, stage: int) -> tuple[np.ndarray, np.ndarray]:
    """Per firm id: admitted to ``stage`` at least once; the visit number of its first application there (-1)."""
    cols = res.output.log.columns()
    n = len(res.output.firm_source)
    ev, st, firm = cols["event"], cols["stage"], cols["firm"]
    admitted = np.zeros(n, dtype=bool)
    admitted[firm[(ev == Ev.ADMIT) & (st == stage)]] = True
    visit = np.full(n, -1, dtype=np.int64)
    apply = (ev == Ev.APPLY) & (st == stage)
    f_app, k_app = firm[apply][::-1], cols["info"][apply][::-1]
    visit[f_app] = k_app  # reversed, so the first application's visit number is written last
    return admitted, visit


def factual_stays(res: RunResult, stage: str) -> dict[tuple[int, int, int], float]:
    """When each stay in ``stage`` ended: ``(source, number, n)`` (the firm's ``n``-th admission there) -> years.

    A stay ends with the firm's next ``leave`` row in the stage; ``inf`` if none came before the horizon.
    """
    cols = res.output.log.columns()
    j = res.scenario.stage_names.index(stage)
    ev, st, firm, t = cols["event"], cols["stage"], cols["firm"], cols["time"]
    here = st == j
    adm = np.flatnonzero(here & (ev == Ev.ADMIT))
    lv = np.flatnonzero(here & (ev == Ev.LEAVE))
    # The n-th admission of a firm pairs with its n-th leave (rows are in time order, and a firm leaves a
    # stage before it is admitted to it again).
    a_firm, l_firm = firm[adm], firm[lv]
    a_order = np.argsort(a_firm, kind="stable")
    l_order = np.argsort(l_firm, kind="stable")
    a_sorted, l_sorted = a_firm[a_order], l_firm[l_order]
    a_rank = np.empty(len(adm), dtype=np.int64)
    a_rank[a_order] = np.arange(len(adm)) - np.searchsorted(a_sorted, a_sorted, side="left")
    l_rank = np.empty(len(lv), dtype=np.int64)
    l_rank[l_order] = np.arange(len(lv)) - np.searchsorted(l_sorted, l_sorted, side="left")
    ends = dict(zip(zip(l_firm.tolist(), l_rank.tolist(), strict=True), t[lv].tolist(), strict=True))
    source, index = res.output.firm_source, res.output.firm_index
    return {
        (int(source[f]), int(index[f]), n): ends.get((f, n), np.inf)
        for f, n in zip(a_firm.tolist(), a_rank.tolist(), strict=True)
    }


def _reached(res: RunResult) -> np.ndarray:
    """Per firm id: whether the run's policy switch recorded it as treated (or, off, as would have been)."""
    out = np.zeros(len(res.output.firm_source), dtype=bool)
    out[np.asarray(res.output.extras["programme_reached"], dtype=np.int64)] = True
    return out


def _attributed(res: RunResult, index: int) -> np.ndarray:
    """Per firm id: whether policy ``index`` matched or funded it (an ``attribute`` row with that info)."""
    cols = res.output.log.columns()
    out = np.zeros(len(res.output.firm_source), dtype=bool)
    out[cols["firm"][(cols["event"] == Ev.ATTRIBUTE) & (cols["info"] == index)]] = True
    return out


def _policy_off(scenario: Scenario, index: int) -> Scenario:
    """The scenario with policy ``index``'s effect factors at 1 (its admissions, rows and costs unchanged)."""
    pol = scenario.policies[index]
    factors = ("failure_factor", "graduation_factor") if isinstance(pol, GmMatching) else ("graduation_factor",)
    return scenario.with_changes({f"policies.{index}.{f}": 1.0 for f in factors})


def _screen_scores(res: RunResult, programme: str, visit: np.ndarray) -> np.ndarray:
    """The screening signal ``q + noise_sd * Z`` of each firm's first application to the stage (NaN if none)."""
    screen = res.scenario.stages[programme].admission.screening
    out = np.full(len(visit), np.nan)
    if screen is None:
        return out
    streams = Streams(res.seed, res.replication)
    source, index = res.output.firm_source, res.output.firm_index
    quality = res.output.firm_quality
    draws: dict[int, Any] = {}
    for fid in np.flatnonzero(visit >= 0).tolist():
        s = int(source[fid])
        d = draws.get(s)
        if d is None:
            d = draws[s] = streams.source(s)
        out[fid] = quality[fid] + screen.noise_sd * d.visit(int(index[fid]), int(visit[fid]))[5]
    return out


def _design(firms: pd.DataFrame) -> dict[str, np.ndarray]:
    """Regressors by part: quality, stream dummies (first dropped), age at entry."""
    streams = pd.get_dummies(firms["source"].astype(str), drop_first=True, dtype=float).to_numpy()
    return {
        "quality": firms["quality"].to_numpy(dtype=float)[:, None],
        "stream": streams,
        "age": firms["age_at_arrival"].to_numpy(dtype=float)[:, None],
    }


def _selection_parts(y0: np.ndarray, treated: np.ndarray, parts: dict[str, np.ndarray]) -> dict[str, float]:
    """Oaxaca-Blinder explained parts of ``mean(y0 | treated) - mean(y0 | not)``: coefficient x difference in means.

    The coefficients come from one least-squares fit of the untreated outcome on every part's regressors
    (pooled over both groups); a part with no variation contributes 0.
    """
    ok = ~np.isnan(y0)
    y, t = y0[ok], treated[ok]
    if t.all() or not t.any():
        return dict.fromkeys(PARTS, np.nan)
    blocks = [(name, x[ok]) for name, x in parts.items() if x.shape[1]]
    x = np.column_stack([np.ones(len(y)), *(b for _, b in blocks)])
    beta = linalg.lstsq(x, y, lapack_driver="gelsy")[0]
    out = dict.fromkeys(PARTS, 0.0)
    col = 1
    for name, b in blocks:
        k = b.shape[1]
        gap = b[t].mean(axis=0) - b[~t].mean(axis=0)
        out[name] = float(beta[col : col + k] @ gap)
        col += k
    return out


def _worlds(
    scenario: Scenario, programme: str, seed: int, replication: int
) -> tuple[RunResult, RunResult, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The factual and the untreated world of one replication; per firm id of the factual world: participant,
    participant of the untreated world (by the other world's ids), first application's visit (-1) and screen score."""

    def world(sc: Scenario, switch: Untreated | PolicySwitch | None = None) -> RunResult:
        return RunResult(sc, seed, replication, simulate(sc, seed, replication, switch), 0.0)

    if programme in scenario.stage_names:
        fact = world(scenario)
        cf = world(scenario, Untreated(programme, factual_stays(fact, programme)))
        j = scenario.stage_names.index(programme)
        admitted, visit = _admitted(fact, j)
        return fact, cf, admitted, _admitted(cf, j)[0], visit, _screen_scores(fact, programme, visit)
    i = _policy_index(scenario, programme)
    kind = _kind(scenario.policies[i])
    if kind == "attribute":
        # The same scenario with the policy's effect factors at 1; its participants are in the log.
        fact = world(scenario)
        cf = world(_policy_off(scenario, i))
        admitted, admitted_cf = _attributed(fact, i), _attributed(cf, i)
    elif kind == "competition":
        # The same winners arrive; off, they apply like any arriving firm (no fast track).
        source = _competition_source(scenario, i)
        fact = world(scenario)
        cf = world(scenario, PolicySwitch(kind, i, off=True, source=source))
        admitted, admitted_cf = fact.output.firm_source == source, cf.output.firm_source == source
    else:
        # The engine records whom the policy treats (the factual log is the same as without the record)
        # and, off, withholds the treatment from the same firms.
        fact = world(scenario, PolicySwitch(kind, i, off=False))
        cf = world(scenario, PolicySwitch(kind, i, off=True))
        admitted, admitted_cf = _reached(fact), _reached(cf)
    return fact, cf, admitted, admitted_cf, np.where(admitted, 0, -1), np.full(len(admitted), np.nan)


def decompose_replication(
    scenario: Scenario, programme: str, seed: int = 0, replication: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One replication of :func:`decompose`: its per-outcome rows and its firm rows."""
    problem = programme_error(scenario, programme)
    if problem:
        raise ValueError(problem)
    fact, cf, admitted, admitted_cf, visit, scores = _worlds(scenario, programme, seed, replication)
    ff = fact.firms
    keep = ~ff["source"].astype(str).str.startswith("stock:").to_numpy()  # firms arriving during the run
    y1 = _outcomes(fact)
    # The same firm in the other world: matched by source and number (ids follow arrival order, which the
    # switch does not change, but matching by key does not rely on that).
    key_f = pd.MultiIndex.from_arrays([fact.output.firm_source, fact.output.firm_index])
    key_c = pd.MultiIndex.from_arrays([cf.output.firm_source, cf.output.firm_index])
    pos = key_c.get_indexer(key_f)
    if (pos < 0).any():
        raise AssertionError("a firm of the factual world is missing from the counterfactual one")
    y0 = _outcomes(cf).iloc[pos].reset_index(drop=True)
    firms = pd.DataFrame(
        {
            "replication": replication,
            "source": ff["source"].astype(str),
            "source_index": ff["source_index"].to_numpy(),
            "sector": ff["sector"].astype(str),
            "quality": ff["quality"].to_numpy(),
            "age_at_arrival": ff["age_at_arrival"].to_numpy(),
            "arrival_time": ff["arrival_time"].to_numpy(),
            "participant": admitted,
            "applied": visit >= 0,
            "screen_score": scores,
        }
    )
    for o in OUTCOMES:
        firms[o] = y1[o].to_numpy()
        firms[f"{o}_untreated"] = y0[o].to_numpy()
    firms = firms[keep].reset_index(drop=True)
    treated = firms["participant"].to_numpy()
    both = float(admitted_cf[pos][keep][treated].mean()) if treated.any() else np.nan
    parts = _design(firms)
    rows = []
    for o in OUTCOMES:
        a, b = firms[o].to_numpy(), firms[f"{o}_untreated"].to_numpy()
        ok = ~np.isnan(a)
        p, q = treated & ok, ~treated & ok
        mean_p = a[p].mean() if p.any() else np.nan
        mean_n = a[q].mean() if q.any() else np.nan
        naive = mean_p - mean_n
        att = float((a[p] - b[p]).mean()) if p.any() else np.nan
        # The untreated outcome of every firm: participants' from the counterfactual, the others' as observed.
        split = _selection_parts(np.where(treated, b, a), treated, parts)
        selection = naive - att
        rows.append(
            {
                "replication": replication,
                "outcome": o,
                "naive": naive,
                "att": att,
                "selection": selection,
                **{f"selection_{k}": v for k, v in split.items()},
                "selection_other": selection - sum(split.values()),
                "spillover": float((a[q] - b[q]).mean()) if q.any() else np.nan,
                "mean_participants": mean_p,
                "mean_participants_untreated": float(b[p].mean()) if p.any() else np.nan,
                "mean_others": mean_n,
                "n_participants": int(p.sum()),
                "n_others": int(q.sum()),
                "admitted_in_both": both,
            }
        )
    return pd.DataFrame(rows), firms


def decompose(
    scenario: Scenario,
    programme: str,
    reps: int = 10,
    seed: int = 0,
    level: float = 0.95,
    *,
    executor: Executor | None = None,
    progress: bool | None = None,
) -> Decomposition:
    """Split the participants-versus-others gap of a programme into treatment and selection.

    Parameters
    ----------
    scenario:
        A validated scenario.
    programme:
        A stage (a carrier stage such as ``"incubator"``): its tenants are the participants; in the
        counterfactual world they are admitted exactly as before, then carry on in the stage's fallback
        as a turned-away firm would, while their slots stay taken for the factual stays
        (:class:`sim.engine.Untreated`; ``docs/decompose.md``). Or a policy, by its name in the ledger,
        that treats firms: its participants are the firms it treated, and in the counterfactual the same
        firms go without the treatment (:class:`sim.engine.PolicySwitch`): ``hazard_multiplier``,
        ``rent_relief`` and ``specialisation`` (their multipliers at 1), ``performance_subsidy`` (the
        same carriers paid, their service unchanged), ``chain_linkage`` (no priority list),
        ``competition`` (the same winners, screened and queued like any arriving firm), and
        ``gm_matching`` and ``angel_fund`` (the same firms matched or funded, their effect factors at
        1). Policies that change the chain rather than treat firms (``NOT_A_TREATMENT``) are refused.
    reps:
        Replications (>= 1); replication ``r`` of both worlds shares its random numbers.
    seed:
        Root seed (>= 0).
    level:
        Confidence level of the intervals across replications.
    executor:
        Where replications run (any :class:`concurrent.futures.Executor`, see :mod:`sim.executors`;
        ``None``: serially). Results do not depend on it.
    progress:
        Show a progress bar (``None``: when stderr is a terminal). It appears after two seconds.

    Returns
    -------
    Decomposition
        Naive difference, ATT, selection and its parts, per outcome, with intervals.
    """
    problem = programme_error(scenario, programme)
    if problem:
        raise ValueError(problem)
    if reps < 1:
        raise ValueError(f"reps: must be >= 1, got {reps}")
    start = time.perf_counter()
    ex: Executor = executor if executor is not None else SerialExecutor()
    # Each replication is a pure function of (scenario, programme, seed, replication); results are put
    # together in replication order, so the executor never changes them.
    futures = [ex.submit(decompose_replication, scenario, programme, seed, r) for r in range(reps)]
    done = []
    with tqdm(
        total=reps, unit="rep", desc="decompose", disable=not _progress_enabled(progress), delay=2.0, dynamic_ncols=True
    ) as bar:
        for f in futures:
            done.append(f.result())
            bar.update(1)
    per_rep = pd.concat([rows for rows, _ in done], ignore_index=True)
    table = []
    for o in OUTCOMES:
        sub = per_rep[per_rep["outcome"] == o]
        for m in MEASURES:
            e = mean_ci(sub[m].to_numpy(dtype=float), level)
            est = {"n": e.n, "mean": e.mean, "ci_low": e.ci_low, "ci_high": e.ci_high, "note": e.note}
            table.append({"programme": programme, "outcome": o, "measure": m, **est})
    return Decomposition(
        scenario=scenario.name,
        programme=programme,
        reps=reps,
        seed=seed,
        level=level,
        table=pd.DataFrame(table),
        per_replication=per_rep,
        firms=pd.concat([firms for _, firms in done], ignore_index=True),
        meta={"wall_seconds": time.perf_counter() - start},
    )
