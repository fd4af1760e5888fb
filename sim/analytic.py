"""The closed-form twin of the chain model: exact answers where a scenario is a Markov chain.

When every stage hazard is a constant rate and no capacity binds, a firm's path through the stages
is a continuous-time Markov chain (the stages are its transient states; failing and exiting are
absorbing) and firms move independently of each other. :func:`solve` maps such a scenario onto
:class:`sim.markov.AbsorbingChain` and the Erlang formulas and returns, in milliseconds, what the
simulator estimates by sampling:

* per entry stage (for a firm admitted there): the probabilities of ending failed or exited, of
  ending in each stage, of each state at the horizon; the expected years in and visits to every
  stage; the survival curve;
* for the cohort of new firms: the same survival curve and outcome probabilities;
* for the scenario's Poisson arrivals (and initial stock): the expected number of firms in every
  stage at each month end, the expected counts of entries, graduations, failures, exits, skips and
  waits over the summary window ``[warmup, horizon)``, and the steady state (occupancy, flows per year,
  mean stay);
* for a capacity-limited stage fed only by outside arrivals: Erlang B (``on_full = "skip"``) or
  Erlang C (an unlimited ``queue``).

Two survival curves are given, because they answer different questions when firms can exit:
``survival`` is the probability of not having failed by ``t`` (an exited firm never fails), and
``survival_km`` is what a Kaplan-Meier estimate that treats exits as censoring (as
:func:`sim.tables.km_survival` does in the run summary) converges to,
``exp(-integral_0^t h(s) ds)`` with ``h`` the failure rate among firms still in a stage.

What makes a scenario closed-form
---------------------------------
* Hazards: ``{dist = "exponential"}`` (or none). A constant hazard does not depend on its clock, so
  ``failure_clock = "age"`` is accepted with an exponential hazard. Every other distribution, and
  ``max_stay_years`` (a fixed stay limit), makes the stay non-exponential: refused.
* Quality: with ``firms.quality_on_failure`` or ``quality_on_graduation`` non-zero, firms differ and
  the population is a mixture of chains. Every quantity here is linear in the firm mix, so the mixture
  is integrated exactly up to Gauss quadrature (Gauss-Hermite for normal, Gauss-Legendre for uniform,
  one node for fixed quality); other quality distributions are refused.
* Arrivals: Poisson with piecewise-constant rates (calendar-year tables, ``arrival_multiplier``
  policies) are handled exactly, segment by segment. The steady state is the long-run limit of the
  rates in force at the horizon.
* Capacity: a stage with carriers is treated as unlimited when its capacity does not bind. The rule:
  without limits, the number of firms in a stage at time ``t`` is Poisson with mean ``m(t)`` (firms
  arrive by Poisson processes and move independently); capacity ``c`` is *non-binding* when
  ``P(Poisson(m*) >= c) <= capacity_tolerance`` (default 1e-6), where ``m*`` is the largest expected
  occupancy over the month ends to the horizon and in the steady state. So at most a fraction
  ``capacity_tolerance`` of applications could find the stage full. (Firms present at the start add a
  sum of independent Bernoulli counts, whose upper tail beyond ``mean + 1`` is no heavier than the
  Poisson's, after Hoeffding 1956 and Anderson & Samuels 1967, so the rule stays conservative.)
  A binding stage is answered exactly when it receives firms only from outside arrivals, has a fixed
  capacity and one kind of firm: its occupancy is then a birth-death chain (M/M/c/c for ``skip`` or
  ``block``, M/M/c for an unlimited ``queue`` without patience) coupled linearly to the rest of the
  chain. Any other binding stage is refused, unless ``assume_unlimited=True`` treats every stage as
  unlimited.
* Refused outright: the hazard terms of a stay (``support``, ``reveal_quality``, ``after_stay``: a
  firm's hazard then depends on where it has been and for how long, so its path is not a Markov
  chain on the stages), ``admission.screening`` (admission depends on each firm's latent quality),
  every policy but ``arrival_multiplier`` (hazards, capacities or priorities that change in time or
  by carrier or firm), shocks, patience and finite waiting lists on binding stages.

Units: years and firms per year throughout. Nothing here draws random numbers.
"""

from __future__ import annotations

import dataclasses
import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# scipy ships no type information; see sim.markov for the same line.
import scipy.linalg  # type: ignore[import-untyped, unused-ignore]
from numpy.typing import NDArray
from scipy import stats

from .distributions import Exponential, Fixed, Normal, Uniform, _Dist
from .markov import AbsorbingChain, erlang_b, erlang_c, mmc_mean_queue, mmc_mean_wait
from .scenario import EXIT, ArrivalMultiplier, Carriers, Scenario

__all__ = [
    "REPORT_YEARS",
    "AnalyticResult",
    "EntryResult",
    "NotClosedForm",
    "QueueResult",
    "StageFlows",
    "solve",
]

FloatArray = NDArray[np.float64]

REPORT_YEARS: tuple[float, ...] = (1.0, 3.0, 5.0, 10.0)
"""Years at which survival is reported in the text summary (the run summary's years)."""

_QUADRATURE_NODES = 40
# Simpson sub-intervals per month for the Kaplan-Meier estimand's integral: the integrand is smooth with
# rates of order 1/year, so the O(h^4) error at h = 1/96 year is far below 1e-8.
_SIMPSON_STEPS = 8
# Probability mass allowed beyond the truncation of an unlimited waiting list, and bound on the expected
# number of firms the truncation may misplace.
_TRUNCATION_MASS = 1e-12
_TRUNCATION_FIRMS = 1e-9
_MAX_LEVELS = 1200  # largest birth-death block (its matrix exponentials grow as levels^3)


class NotClosedForm(ValueError):
    """The scenario has features the twin cannot answer exactly.

    ``reasons`` holds one line per feature, each starting with the offending field's dotted path
    (``stages.market.failure: weibull hazard (only exponential is closed-form)``).
    """

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("\n".join(self.reasons))


# ---------------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class EntryResult:
    """What happens to one firm admitted to ``stage`` at time 0 (mixed over firm quality).

    Attributes
    ----------
    stage:
        The entry stage.
    p_failed, p_exited:
        Probability of eventually failing / exiting (they sum to 1).
    p_ends_in:
        Stage -> probability that the firm's last stage is this one (it fails or exits from it).
        For a settling stage (no graduation) this is the probability of ever reaching it. (Firms of
        the cohort turned away to ``exit`` at once never enter a stage and are not counted here.)
    expected_years:
        Stage -> expected years spent there over all visits, until failure or exit.
    expected_visits:
        Stage -> expected number of admissions (the entry counts as one).
    expected_years_total:
        Expected years until failure or exit (for the cohort, time on waiting lists included).
    at_horizon:
        State -> probability after ``horizon_years``: every stage (a firm waiting for a stage counts
        in it), plus ``failed`` and ``exited``.
    survival:
        P(not failed by t) at :attr:`AnalyticResult.survival_times_years`.
    survival_km:
        The Kaplan-Meier estimand with exits censored, at the same times.
    """

    stage: str
    p_failed: float
    p_exited: float
    p_ends_in: dict[str, float]
    expected_years: dict[str, float]
    expected_visits: dict[str, float]
    expected_years_total: float
    at_horizon: dict[str, float]
    survival: FloatArray
    survival_km: FloatArray


@dataclass(frozen=True)
class StageFlows:
    """Expected stocks and flows of one stage.

    Over the summary window ``[warmup, horizon)`` the flows are expected numbers of events (firms), with
    the run summary's definitions (initial stock admitted at time 0 counts as entries when the window
    starts at 0); in the steady state they are rates (firms per year).

    Attributes
    ----------
    entries:
        Admissions (the summary's ``entries``).
    graduations, failures:
        Graduations from and failures in the stage.
    exits:
        Firms leaving the system from the stage: graduating to ``exit``, or turned away with the
        fallback ``exit``.
    skips:
        Applications turned away because the stage was full.
    waits:
        Applications that joined the waiting list.
    mean_occupancy:
        Time-average number of firms in the stage's slots (firms; the summary's ``mean_occupancy``).
    mean_queue:
        Time-average number of firms on its waiting list (firms).
    occupancy_end:
        Expected number in the stage at the horizon (the steady state: the mean occupancy).
    mean_stay_years:
        Steady state only: mean years per stay, occupancy / entries (Little's law). Over the window it
        is None: the summary's completed-stay mean is censored by the horizon.
    """

    entries: float
    graduations: float
    failures: float
    exits: float
    skips: float
    waits: float
    mean_occupancy: float
    mean_queue: float
    occupancy_end: float
    mean_stay_years: float | None


@dataclass(frozen=True)
class QueueResult:
    """Steady state of a capacity-limited stage fed only by outside Poisson arrivals.

    Attributes
    ----------
    kind:
        ``"loss"`` (full means skip: M/M/c/c, Erlang B) or ``"queue"`` (unlimited waiting list,
        no patience: M/M/c, Erlang C).
    servers:
        Total slots ``c`` of the stage's carriers.
    arrival_rate_per_year, service_rate_per_year:
        ``lambda`` (arrivals in force at the horizon) and ``mu`` (failure + graduation rate).
    offered_load:
        ``a = lambda / mu`` in Erlangs.
    p_loss:
        Probability that an arrival finds the stage full (Erlang B; 0 for a queue).
    p_wait:
        Probability that an arrival has to wait (Erlang C; 0 for a loss stage).
    mean_wait_years:
        Mean wait of all arrivals (0 for a loss stage).
    mean_queue:
        Mean number waiting.
    mean_in_service:
        Mean number of firms in the stage's slots.
    """

    stage: str
    kind: str
    servers: int
    arrival_rate_per_year: float
    service_rate_per_year: float
    offered_load: float
    p_loss: float
    p_wait: float
    mean_wait_years: float
    mean_queue: float
    mean_in_service: float


@dataclass(frozen=True)
class AnalyticResult:
    """Everything :func:`solve` computes for one scenario (see the module docstring).

    Attributes
    ----------
    scenario, horizon_years, warmup_years:
        What was solved (years).
    stages, carrier_stages, settling_stages, entry_stages:
        Stage names: all, those with carriers, those without graduation (firms settle there until
        they fail), and those receiving arrivals or initial stock.
    quality_nodes:
        Quadrature nodes over firm quality (1 when quality does not change the hazards).
    times_years:
        Month ends up to the horizon (years), the rows of ``occupancy`` and ``queue``.
    occupancy, queue:
        Expected number of firms in each stage's slots and on its waiting list, shape
        (months, stages).
    survival_times_years:
        Month ends up to ``max(horizon, 10)`` and the horizon (years), with 0 first: the points of
        every survival curve.
    entries:
        Entry stage -> :class:`EntryResult` of a firm admitted there (every stage is given).
    cohort:
        :class:`EntryResult` of a new firm drawn from the arrivals of the window, mixed by their
        expected numbers (the initial stock if there are no arrivals); binding stages in their
        steady state.
    cohort_weights:
        Entry stage -> share of the cohort.
    window, steady:
        Stage -> :class:`StageFlows` over ``[warmup, horizon)`` and in the steady state.
    flows_per_year:
        Steady state: stage -> {next stage, ``failed`` or ``exit`` -> firms per year}.
    queues:
        Binding stage -> :class:`QueueResult`.
    notes:
        One line per decision worth knowing (capacity that never binds, a harmless age clock, ...).
    """

    scenario: str
    horizon_years: float
    warmup_years: float
    stages: tuple[str, ...]
    carrier_stages: tuple[str, ...]
    settling_stages: tuple[str, ...]
    entry_stages: tuple[str, ...]
    quality_nodes: int
    times_years: FloatArray
    occupancy: FloatArray
    queue: FloatArray
    survival_times_years: FloatArray
    entries: dict[str, EntryResult]
    cohort: EntryResult
    cohort_weights: dict[str, float]
    window: dict[str, StageFlows]
    steady: dict[str, StageFlows]
    flows_per_year: dict[str, dict[str, float]]
    queues: dict[str, QueueResult]
    notes: tuple[str, ...]

    def survival_at(self, years: float, which: str | None = None, km: bool = False) -> float:
        """Survival at ``years`` (a month end or the horizon) of entry stage ``which`` (None: the cohort)."""
        res = self.cohort if which is None else self.entries[which]
        curve = res.survival_km if km else res.survival
        i = int(np.argmin(np.abs(self.survival_times_years - years)))
        if abs(self.survival_times_years[i] - years) > 1e-9:
            raise ValueError(f"years: {years:g} is not on the survival grid (month ends and the horizon)")
        return float(curve[i])

    def timeseries(self) -> pd.DataFrame:
        """Expected occupancy and waiting list per month end and stage (tidy, like the run's time series)."""
        n_months, n = self.occupancy.shape
        return pd.DataFrame(
            {
                "scenario": self.scenario,
                "month": np.repeat(np.arange(n_months), n),
                "t_years": np.repeat(self.times_years, n),
                "stage": pd.Categorical(np.tile(np.array(self.stages), n_months), categories=list(self.stages)),
                "occupancy": self.occupancy.reshape(-1),
                "queue": self.queue.reshape(-1),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every result (curves as lists)."""

        def entry(e: EntryResult) -> dict[str, Any]:
            d = dict(e.__dict__)
            d["survival"] = e.survival.tolist()
            d["survival_km"] = e.survival_km.tolist()
            return d

        return {
            "scenario": self.scenario,
            "horizon_years": self.horizon_years,
            "warmup_years": self.warmup_years,
            "stages": list(self.stages),
            "carrier_stages": list(self.carrier_stages),
            "settling_stages": list(self.settling_stages),
            "entry_stages": list(self.entry_stages),
            "quality_nodes": self.quality_nodes,
            "notes": list(self.notes),
            "entries": {k: entry(v) for k, v in self.entries.items()},
            "cohort": {**entry(self.cohort), "weights": self.cohort_weights},
            "survival_times_years": self.survival_times_years.tolist(),
            "window": {k: dict(v.__dict__) for k, v in self.window.items()},
            "steady_state": {k: dict(v.__dict__) for k, v in self.steady.items()},
            "flows_per_year": self.flows_per_year,
            "queues": {k: dict(v.__dict__) for k, v in self.queues.items()},
            "timeseries": {
                "t_years": self.times_years.tolist(),
                "occupancy": {s: self.occupancy[:, j].tolist() for j, s in enumerate(self.stages)},
                "queue": {s: self.queue[:, j].tolist() for j, s in enumerate(self.stages)},
            },
        }


# ---------------------------------------------------------------------------------------- the network
@dataclass(frozen=True)
class _Net:
    """Base rates per stage (per year) and graduation routing, with quality nodes."""

    names: tuple[str, ...]
    fail: FloatArray  # (n,)
    grad: FloatArray  # (n,)
    route: FloatArray  # (n, n) graduation routing between stages (self-routes kept)
    route_exit: FloatArray  # (n,)
    beta_f: float
    beta_g: float

    @property
    def n(self) -> int:
        return len(self.names)

    def rates(self, q: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Failure and graduation rates per node, shape (K, n), for qualities ``q`` (K,)."""
        f = self.fail[None, :] * np.exp(-self.beta_f * q)[:, None]
        g = self.grad[None, :] * np.exp(self.beta_g * q)[:, None]
        return f, g

    def transient(self, f: FloatArray, g: FloatArray) -> FloatArray:
        """Transient generators, shape (K, n, n): stage-to-stage rates, self-routes dropped."""
        t = g[:, :, None] * self.route[None, :, :]
        idx = np.arange(self.n)
        t[:, idx, idx] = 0.0
        t[:, idx, idx] = -(f + g * (1.0 - np.diag(self.route))[None, :])
        return t


def _net(sc: Scenario) -> _Net:
    names = sc.stage_names
    index = {s: i for i, s in enumerate(names)}
    n = len(names)
    fail, grad = np.zeros(n), np.zeros(n)
    route, route_exit = np.zeros((n, n)), np.zeros(n)
    for i, st in enumerate(sc.stages.values()):
        if isinstance(st.failure, Exponential):
            fail[i] = st.failure.rate
        if isinstance(st.graduation, Exponential):
            grad[i] = st.graduation.rate
            for dest, p in (st.on_graduation or {}).items():
                if dest == EXIT:
                    route_exit[i] += p
                else:
                    route[i, index[dest]] += p
    return _Net(names, fail, grad, route, route_exit, sc.firms.quality_on_failure, sc.firms.quality_on_graduation)


# ------------------------------------------------------------------------------------- static checks
def _quality_sources(sc: Scenario) -> list[tuple[str, _Dist]]:
    out: list[tuple[str, _Dist]] = [("firms.quality", sc.firms.quality)]
    out += [(f"arrivals[{i}].quality", a.quality) for i, a in enumerate(sc.arrivals) if a.quality is not None]
    out += [(f"initial_stock[{i}].quality", s.quality) for i, s in enumerate(sc.initial_stock) if s.quality is not None]
    return out


def _static_problems(sc: Scenario, assume_unlimited: bool) -> tuple[list[str], list[str]]:
    """Reasons the scenario is not a Markov chain, and notes on features that are harmless here."""
    reasons: list[str] = []
    notes: list[str] = []
    for name, st in sc.stages.items():
        where = f"stages.{name}"
        for hz in ("failure", "graduation"):
            dist = getattr(st, hz)
            clock = getattr(st, f"{hz}_clock")
            if dist is None:
                continue
            if not isinstance(dist, Exponential):
                on = " on the firm's age" if clock == "age" else ""
                reasons.append(f"{where}.{hz}: {dist.dist} hazard{on} (only exponential is closed-form)")
            elif clock == "age":
                notes.append(f"{where}.{hz}_clock: 'age' is harmless: a constant hazard is the same on any clock")
        if st.max_stay_years is not None:
            reasons.append(
                f"{where}.max_stay_years: a stay limit ({st.max_stay_years:g} years) makes the stay "
                "non-exponential (not Markov)"
            )
        if st.carriers is not None and st.carriers.lifecycle is not None:
            if assume_unlimited:
                notes.append(f"{where}.carriers.lifecycle: ignored (every stage treated as unlimited)")
            else:
                reasons.append(
                    f"{where}.carriers.lifecycle: carriers that open and close change capacity in time "
                    "(not a time-homogeneous chain)"
                )
        for term, what in (
            ("support", "hazards that differ with each firm's quality during a stay"),
            ("reveal_quality", "a failure hazard that depends on quality and on time since leaving"),
            ("after_stay", "a failure hazard that depends on the time since leaving and the length of the stay"),
        ):
            if getattr(st, term) is not None:
                reasons.append(f"{where}.{term}: {what} (not the twin's Markov chain)")
        if st.admission.screening is not None:
            reasons.append(
                f"{where}.admission.screening: admission depends on each firm's latent quality "
                "(a selection the twin does not model)"
            )
    if sc.firms.quality_on_failure or sc.firms.quality_on_graduation:
        for path, dist in _quality_sources(sc):
            if not isinstance(dist, Normal | Uniform | Fixed):
                reasons.append(
                    f"{path}: {getattr(dist, 'dist', '?')} quality with quality effects on the hazards "
                    "(the twin integrates normal, uniform or fixed quality only)"
                )
    for i, pol in enumerate(sc.policies):
        if isinstance(pol, ArrivalMultiplier):
            continue
        if pol.type == "capacity_change" and assume_unlimited:
            notes.append(f"policies[{i}]: capacity_change ignored (every stage treated as unlimited)")
            continue
        what = {
            "capacity_change": "capacities",
            "chain_linkage": "waiting-list priorities",
            "gm_matching": "firm-specific hazards",
            "angel_fund": "firm-specific hazards",
            "competition": "batch intakes on given dates",
            "construction_subsidy": "carrier openings",
            "performance_subsidy": "carrier-specific hazards",
            "tax_relief": "carrier closures",
        }.get(pol.type, "hazards")
        reasons.append(
            f"policies[{i}]: {pol.type}: {what} that change in time or differ between carriers are not "
            "a time-homogeneous chain"
        )
    for i, shock in enumerate(sc.shocks):
        if (
            shock.failure_factor != 1.0
            or shock.graduation_factor != 1.0
            or any(f != 1.0 for f in (*shock.failure_by_sector.values(), *shock.graduation_by_sector.values()))
        ):
            reasons.append(f"shocks[{i}]: hazards that change in time are not a time-homogeneous chain")
    return reasons, notes


# ------------------------------------------------------------------------------------ firm sources
def _quality_rule(dist: _Dist, n_nodes: int) -> tuple[FloatArray, FloatArray]:
    """Quadrature nodes (quality values) and weights (sum 1) for ``E[g(q)]``."""
    if isinstance(dist, Fixed):
        return np.array([dist.value]), np.array([1.0])
    if isinstance(dist, Normal):
        if dist.sd == 0:
            return np.array([dist.mean()]), np.array([1.0])
        x, w = np.polynomial.hermite_e.hermegauss(n_nodes)
        return dist.mean() + dist.sd * x, w / math.sqrt(2.0 * math.pi)
    if isinstance(dist, Uniform):
        x, w = np.polynomial.legendre.leggauss(n_nodes)
        return 0.5 * (dist.low + dist.high) + 0.5 * (dist.high - dist.low) * x, 0.5 * w
    raise TypeError(f"no quadrature for {type(dist).__name__}")  # excluded by _static_problems


@dataclass(frozen=True)
class _Sources:
    """Arrival streams and initial stock, with each source's weights over the quality nodes."""

    nodes: FloatArray  # (K,)
    default_weights: FloatArray  # (K,) firms.quality: used for the per-entry-stage results
    arrival_stage: tuple[int, ...]
    arrival_weights: FloatArray  # (A, K)
    bounds: FloatArray  # (S + 1,) segment bounds, 0 ... horizon
    arrival_rates: FloatArray  # (S, A) per year
    stock_stage: tuple[int, ...]
    stock_weights: FloatArray  # (B, K)
    stock_count: FloatArray  # (B,)

    def stage_rates(self, n: int) -> FloatArray:
        """Arrival rate into each stage per segment, shape (S, n)."""
        out = np.zeros((len(self.bounds) - 1, n))
        for a, j in enumerate(self.arrival_stage):
            out[:, j] += self.arrival_rates[:, a]
        return out

    def node_forcing(self, n: int) -> FloatArray:
        """Arrival rate into each stage per segment and node, shape (S, K, n)."""
        out = np.zeros((len(self.bounds) - 1, len(self.nodes), n))
        for a, j in enumerate(self.arrival_stage):
            out[:, :, j] += self.arrival_rates[:, a, None] * self.arrival_weights[a][None, :]
        return out

    def node_stock(self, n: int) -> FloatArray:
        """Initial expected count per node and stage, shape (K, n)."""
        out = np.zeros((len(self.nodes), n))
        for b, j in enumerate(self.stock_stage):
            out[:, j] += self.stock_count[b] * self.stock_weights[b]
        return out


def _sources(sc: Scenario, horizon: float, heterogeneous: bool, n_nodes: int) -> _Sources:
    index = {s: i for i, s in enumerate(sc.stage_names)}
    dists: list[_Dist] = [sc.firms.quality]
    dists += [a.quality or sc.firms.quality for a in sc.arrivals]
    dists += [s.quality or sc.firms.quality for s in sc.initial_stock]
    # One quadrature rule per distinct quality distribution; without quality effects, one node.
    node_list: list[FloatArray] = []
    weight_list: list[FloatArray] = []
    seen: list[tuple[_Dist, int, int]] = []
    rules: list[tuple[int, int]] = []  # per position in ``dists``: (first node, number of nodes)
    for d in dists:
        if not heterogeneous:
            if not node_list:
                node_list.append(np.zeros(1))
                weight_list.append(np.ones(1))
            rules.append((0, 1))
            continue
        match = next(((off, cnt) for u, off, cnt in seen if u == d), None)
        if match is None:
            q, w = _quality_rule(d, n_nodes)
            match = (sum(len(x) for x in node_list), len(q))
            node_list.append(q)
            weight_list.append(w)
            seen.append((d, *match))
        rules.append(match)
    nodes = np.concatenate(node_list)
    all_weights = np.concatenate(weight_list)

    def weights(pos: int) -> FloatArray:
        off, cnt = rules[pos]
        out = np.zeros(len(nodes))
        out[off : off + cnt] = all_weights[off : off + cnt]
        return out

    # Piecewise-constant arrival rates, as the engine builds them (calendar-year tables x multipliers).
    cal = sc.calendar
    windows: list[tuple[float, float, ArrivalMultiplier]] = []
    for pol in sc.policies:
        if isinstance(pol, ArrivalMultiplier):
            start = max(0.0, cal.years_since_start(pol.start)) if pol.start is not None else 0.0
            end = cal.years_since_start(pol.end) if pol.end is not None else math.inf
            if start < horizon and end > start:
                windows.append((start, end, pol))
    steps = [a.rate_steps(cal) for a in sc.arrivals]
    points = {0.0, horizon}
    for times, _ in steps:
        points.update(t for t in times if 0.0 < t < horizon)
    for start, end, _ in windows:
        points.update(t for t in (start, end) if 0.0 < t < horizon)
    bounds = np.array(sorted(points))
    rates = np.zeros((len(bounds) - 1, len(sc.arrivals)))
    for s, t in enumerate(bounds[:-1]):
        for a, (arr, (times, base)) in enumerate(zip(sc.arrivals, steps, strict=True)):
            rate = base[bisect_right(times, t)]
            for start, end, pol in windows:
                if start <= t < end and (pol.arrivals is None or arr.name in pol.arrivals):
                    rate *= pol.factor
            rates[s, a] = rate
    n_arr = len(sc.arrivals)
    return _Sources(
        nodes=nodes,
        default_weights=weights(0),
        arrival_stage=tuple(index[a.stage] for a in sc.arrivals),
        arrival_weights=np.array([weights(1 + a) for a in range(n_arr)]).reshape(n_arr, len(nodes)),
        bounds=bounds,
        arrival_rates=rates,
        stock_stage=tuple(index[s.stage] for s in sc.initial_stock),
        stock_weights=np.array([weights(1 + n_arr + b) for b in range(len(sc.initial_stock))]).reshape(
            len(sc.initial_stock), len(nodes)
        ),
        stock_count=np.array([float(s.count) for s in sc.initial_stock]),
    )


# -------------------------------------------------------------------------------- capacity-limited
@dataclass(frozen=True)
class _Block:
    """A binding stage as a birth-death chain on its number of firms (in slots and waiting), 0..levels-1."""

    stage: int
    kind: str  # "loss" | "queue"
    servers: int
    levels: int
    mu: float
    fallback: int  # stage index, or -1 for exit
    start_level: int
    overflow: float  # initial stock turned away at time 0 (to the fallback)
    offset: int = 0

    @property
    def in_service(self) -> FloatArray:
        return np.minimum(np.arange(self.levels), self.servers).astype(np.float64)

    @property
    def waiting(self) -> FloatArray:
        return np.maximum(np.arange(self.levels) - self.servers, 0).astype(np.float64)

    def generator(self, lam: float) -> FloatArray:
        k = self.levels
        b = np.zeros((k, k))
        up = np.arange(k - 1)
        b[up, up + 1] = lam
        down = np.arange(1, k)
        b[down, down - 1] = self.in_service[1:] * self.mu
        b[np.arange(k), np.arange(k)] = -b.sum(axis=1)
        return b


def _capacity(car: Carriers) -> tuple[int, bool]:
    """Smallest total number of slots the engine can set up, and whether it is fixed."""
    cap = car.capacity
    if isinstance(cap, int):
        return car.count * cap, True
    if isinstance(cap, tuple):
        return sum(cap), True
    low = cap.value if isinstance(cap, Fixed) else cap.low if isinstance(cap, Uniform) else 0.0
    return car.count * max(1, int(round(low))), False


# -------------------------------------------------------------------------------------- propagation
def _augmented(m: FloatArray, forcing: FloatArray) -> FloatArray:
    """``[[M, I, 0], [0, 0, 0], [f, 0, 0]]`` per node: ``[x, X, 1]' = [x, X, 1] A`` with ``X = int x``."""
    k, d, _ = m.shape
    a = np.zeros((k, 2 * d + 1, 2 * d + 1))
    a[:, :d, :d] = m
    a[:, np.arange(d), d + np.arange(d)] = 1.0
    a[:, 2 * d, :d] = forcing
    return a


def _propagate(
    x0: FloatArray, mats: list[FloatArray], forcing: list[FloatArray], bounds: FloatArray, times: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Solve ``x' = x M_s + f_s`` (segment ``s`` of ``bounds``) for every node.

    Returns ``x(t)`` and ``X(t) = integral_0^t x``, shape (len(times), K, d); ``times`` is sorted, starts
    at 0 and contains every segment bound, so no step straddles two segments. Each step is one exact
    matrix exponential (cached by segment and step length).
    """
    k, d = x0.shape
    z = np.zeros((k, 2 * d + 1))
    z[:, :d] = x0
    z[:, 2 * d] = 1.0
    xs = np.zeros((len(times), k, d))
    ints = np.zeros((len(times), k, d))
    xs[0] = x0
    cache: dict[tuple[int, float], FloatArray] = {}
    aug = [_augmented(m, f) for m, f in zip(mats, forcing, strict=True)]
    for i in range(1, len(times)):
        t0, t1 = times[i - 1], times[i]
        seg = min(bisect_right(bounds, t0) - 1, len(mats) - 1)
        key = (seg, round(float(t1 - t0), 12))
        step = cache.get(key)
        if step is None:
            step = scipy.linalg.expm(aug[seg] * (t1 - t0))
            cache[key] = step
        z = np.matmul(z[:, None, :], step)[:, 0, :]
        xs[i] = z[:, :d]
        ints[i] = z[:, d : 2 * d]
    return xs, ints


def _month_ends(horizon: float) -> FloatArray:
    n_months = max(1, int(math.ceil(horizon * 12.0 - 1e-9)))
    return np.minimum((np.arange(n_months) + 1) / 12.0, horizon)


# --------------------------------------------------------------------------------------------- solve
def solve(
    scenario: Scenario,
    *,
    horizon_years: float | None = None,
    assume_unlimited: bool = False,
    capacity_tolerance: float = 1e-6,
    quality_nodes: int = _QUADRATURE_NODES,
) -> AnalyticResult:
    """Closed-form results for a scenario that is a continuous-time Markov chain.

    Parameters
    ----------
    scenario:
        A validated scenario.
    horizon_years:
        Overrides ``calendar.horizon_years`` (years, > warm-up).
    assume_unlimited:
        Treat every stage as unlimited even where its capacity binds (a what-if, not the scenario).
    capacity_tolerance:
        Largest probability that an application finds a stage full for its capacity to count as
        non-binding (see the module docstring for the rule).
    quality_nodes:
        Quadrature nodes for normal or uniform firm quality when quality changes the hazards.

    Returns
    -------
    AnalyticResult

    Raises
    ------
    NotClosedForm
        With one reason per feature that makes the scenario non-Markov or outside what the twin
        covers, each naming the field.
    """
    sc = scenario
    if horizon_years is not None:
        sc = sc.with_changes({"calendar.horizon_years": float(horizon_years)})
    reasons, notes = _static_problems(sc, assume_unlimited)
    if reasons:
        raise NotClosedForm(reasons)
    horizon = sc.calendar.horizon_years
    warmup = sc.calendar.warmup_years
    net = _net(sc)
    n = net.n
    heterogeneous = bool(net.beta_f or net.beta_g)
    src = _sources(sc, horizon, heterogeneous, quality_nodes)
    if heterogeneous:
        notes.append(f"firms.quality: quality effects integrated over {len(src.nodes)} quadrature node(s)")
    f, g = net.rates(src.nodes)  # (K, n)
    t_gen = net.transient(f, g)  # (K, n, n)
    months = _month_ends(horizon)
    times = np.array(sorted({0.0, warmup, horizon, *months.tolist(), *src.bounds.tolist()}))
    final = src.node_forcing(n)[-1]  # (K, n): rates in force at the horizon
    steady_y = _steady(t_gen, final)  # (K, n)

    # 1. Without limits: is any capacity binding?
    mats = [t_gen] * (len(src.bounds) - 1)
    forcing = list(src.node_forcing(n))
    xs, ints = _propagate(src.node_stock(n), mats, forcing, src.bounds, times)
    occ_max = np.maximum(xs.sum(axis=1).max(axis=0), steady_y.sum(axis=0))
    blocks, cap_reasons, cap_notes = _capacity_analysis(
        sc, net, src, f[0] + g[0], occ_max, assume_unlimited, capacity_tolerance
    )
    notes += cap_notes
    if cap_reasons:
        raise NotClosedForm(cap_reasons)

    # 2. The time course, with binding stages as birth-death blocks (one kind of firm there).
    stage_lam = src.stage_rates(n)  # (S, n)
    if blocks:
        d = n
        placed = []
        for b in blocks:
            placed.append(dataclasses.replace(b, offset=d))
            d += b.levels
        blocks = placed
        mats, forcing = [], []
        for s in range(len(src.bounds) - 1):
            m, fo = _block_system(t_gen[0], g[0], net, blocks, stage_lam[s], d)
            mats.append(m[None])
            forcing.append(fo[None])
        x0 = np.zeros((1, d))
        x0[0, :n] = src.node_stock(n)[0]
        for b in blocks:
            x0[0, b.stage] = 0.0
            x0[0, b.offset + b.start_level] = 1.0
            if b.fallback >= 0:
                x0[0, b.fallback] += b.overflow
        xs, ints = _propagate(x0, mats, forcing, src.bounds, times)

    occupancy, queue = _stage_levels(xs, n, blocks)
    month_idx = np.searchsorted(times, months)
    window = _window_flows(net, src, f, g, blocks, times, ints, occupancy, warmup, horizon)
    steady, flows, queues = _steady_state(net, f, g, blocks, final, steady_y)
    if blocks and not assume_unlimited:
        # Firms turned away from a loss stage add to its fallback: check that no other capacity binds now.
        occ_max = np.maximum(occupancy.max(axis=0), np.array([steady[s].mean_occupancy for s in net.names]))
        late = _newly_binding(sc, net, blocks, occ_max, capacity_tolerance)
        if late:
            raise NotClosedForm(late)

    # 3. Firms: per entry stage and for the cohort.
    surv_times = _month_ends(max(horizon, max(REPORT_YEARS)))
    surv_times = np.array(sorted({0.0, *surv_times.tolist(), horizon}))
    entries, cohort, cohort_weights = _firms(net, src, f, g, blocks, queues, surv_times, horizon, warmup)

    names = sc.stage_names
    return AnalyticResult(
        scenario=sc.name,
        horizon_years=horizon,
        warmup_years=warmup,
        stages=names,
        carrier_stages=tuple(s for s, st in sc.stages.items() if st.carriers is not None),
        settling_stages=tuple(s for s, st in sc.stages.items() if st.graduation is None),
        entry_stages=tuple(dict.fromkeys([a.stage for a in sc.arrivals] + [s.stage for s in sc.initial_stock])),
        quality_nodes=len(src.nodes),
        times_years=months,
        occupancy=occupancy[month_idx],
        queue=queue[month_idx],
        survival_times_years=surv_times,
        entries=entries,
        cohort=cohort,
        cohort_weights=cohort_weights,
        window=window,
        steady=steady,
        flows_per_year=flows,
        queues=queues,
        notes=tuple(notes),
    )


def _steady(t_gen: FloatArray, lam: FloatArray) -> FloatArray:
    """Steady-state occupancy per node ``y (-T) = lambda``, shape (K, n)."""
    return np.asarray(np.linalg.solve(-np.swapaxes(t_gen, 1, 2), lam[:, :, None])[:, :, 0], dtype=np.float64)


def _capacity_analysis(
    sc: Scenario,
    net: _Net,
    src: _Sources,
    out_rate: FloatArray,
    occ_max: FloatArray,
    assume_unlimited: bool,
    tol: float,
) -> tuple[list[_Block], list[str], list[str]]:
    """Classify carrier stages as non-binding, answerable binding blocks, or reasons to refuse."""
    names = net.names
    reasons: list[str] = []
    notes: list[str] = []
    binding: list[int] = []
    for j, (name, st) in enumerate(sc.stages.items()):
        if st.carriers is None:
            continue
        c, fixed = _capacity(st.carriers)
        p_full = float(stats.poisson.sf(c - 1, occ_max[j])) if occ_max[j] > 0 else 0.0
        if p_full <= tol:
            notes.append(
                f"stages.{name}.carriers: {c}{'' if fixed else '+'} slots never bind (expected occupancy "
                f"at most {occ_max[j]:.3g}; P(full) {p_full:.1e} <= {tol:g})"
            )
        elif assume_unlimited:
            notes.append(
                f"stages.{name}.carriers: {c} slots would bind (P(full) {p_full:.2g}); treated as unlimited "
                "(assume_unlimited)"
            )
        else:
            binding.append(j)
    blocks: list[_Block] = []
    fallbacks = {j: sc.fallback_of(names[j]) for j in binding}
    stock = np.zeros(len(names))
    for b, j in enumerate(src.stock_stage):
        stock[j] += src.stock_count[b]
    for j in binding:
        name = names[j]
        st = sc.stages[name]
        assert st.carriers is not None
        where = f"stages.{name}"
        c, fixed = _capacity(st.carriers)
        head = f"{where}.carriers: {c} slots bind (expected occupancy up to {occ_max[j]:.3g} without a limit)"
        why: list[str] = []
        feeders = [names[i] for i in range(len(names)) if net.grad[i] > 0 and net.route[i, j] > 0]
        feeders += [names[i] for i, fb in fallbacks.items() if fb == name]
        if feeders:
            why.append(f"it also receives firms from {', '.join(f'stages.{x}' for x in feeders)}")
        if not fixed:
            why.append("its capacity is random")
        if len(src.nodes) > 1:
            why.append("firms differ in quality, so stays are not exponential")
        adm = st.admission
        kind = "queue" if adm.on_full == "queue" else "loss"
        if kind == "queue" and adm.queue_limit is not None:
            why.append(f"{where}.admission.queue_limit: a finite waiting list is not covered")
        if kind == "queue" and adm.patience is not None:
            why.append(f"{where}.admission.patience: firms giving up the waiting list are not covered")
        mu = float(out_rate[j])
        lam = src.stage_rates(len(names))[:, j]
        if kind == "queue" and lam[-1] >= c * mu:
            why.append(f"offered load {lam[-1] / mu:.3g} >= {c} slots: the waiting list grows without bound")
        if why:
            reasons.append(
                f"{head}; the twin answers a binding stage only when fed by outside arrivals alone, "
                f"with fixed capacity and exponential stays, but "
                + "; ".join(why)
                + " (assume_unlimited / --ignore-capacity treats it as unlimited)"
            )
            continue
        n0 = int(round(stock[j]))
        if kind == "loss":
            levels, start, overflow = c + 1, min(n0, c), float(max(n0 - c, 0))
        else:
            levels, start, overflow = _queue_levels(c, mu, lam, src.bounds, n0) + 1, n0, 0.0
        if levels > _MAX_LEVELS:
            reasons.append(
                f"{head}; its slots and waiting list need {levels} levels, more than the {_MAX_LEVELS} the twin "
                "represents"
            )
            continue
        fb = fallbacks[j]
        blocks.append(_Block(j, kind, c, levels, mu, -1 if fb == EXIT else names.index(fb), start, overflow))
        notes.append(
            f"{where}.carriers: {c} slots bind; answered as "
            + ("an M/M/c/c loss stage (Erlang B)" if kind == "loss" else "an M/M/c queue (Erlang C)")
        )
    return blocks, reasons, notes


def _newly_binding(sc: Scenario, net: _Net, blocks: list[_Block], occ_max: FloatArray, tol: float) -> list[str]:
    """Carrier stages that bind once the binding stages' turned-away firms reach their fallbacks."""
    out = []
    in_block = {b.stage for b in blocks}
    for j, (name, st) in enumerate(sc.stages.items()):
        if st.carriers is None or j in in_block:
            continue
        c, _ = _capacity(st.carriers)
        p_full = float(stats.poisson.sf(c - 1, occ_max[j])) if occ_max[j] > 0 else 0.0
        if p_full > tol:
            sources = ", ".join(f"stages.{net.names[b.stage]}" for b in blocks if b.fallback == j)
            out.append(
                f"stages.{name}.carriers: {c} slots bind (P(full) {p_full:.2g}) once the firms turned away from "
                f"{sources or 'the binding stages'} arrive; a second binding stage is not closed-form"
            )
    return out


def _queue_levels(c: int, mu: float, lam: FloatArray, bounds: FloatArray, n0: int) -> int:
    """Highest number in system kept for an unlimited waiting list.

    From an empty start with the largest arrival rate below ``c mu``, the number in system stays
    below its stationary law, whose tail beyond ``c + q`` is at most ``rho^q``; the truncation then
    misplaces fewer than ``_TRUNCATION_FIRMS`` firms in expectation over the horizon. Otherwise bound
    the number in system by the initial stock plus all arrivals (a Poisson count).
    """
    lam_max = float(lam.max()) if len(lam) else 0.0
    total = float(np.sum(lam * np.diff(bounds)))
    if n0 == 0 and lam_max < c * mu:
        if lam_max == 0:
            return c
        rho = lam_max / (c * mu)
        expected = max(total, 1e-300)
        q = math.ceil(math.log(_TRUNCATION_FIRMS / expected) / math.log(rho))
        return c + max(q, 1)
    return int(n0 + stats.poisson.isf(_TRUNCATION_MASS, total)) + 1


def _block_system(
    t_gen: FloatArray, g: FloatArray, net: _Net, blocks: list[_Block], lam: FloatArray, d: int
) -> tuple[FloatArray, FloatArray]:
    """Coupled system for one segment: expected counts in the other stages plus the blocks' laws."""
    n = net.n
    m = np.zeros((d, d))
    m[:n, :n] = t_gen
    fo = np.zeros(d)
    fo[:n] = lam
    for b in blocks:
        fo[b.stage] = 0.0
        sl = slice(b.offset, b.offset + b.levels)
        m[sl, sl] = b.generator(float(lam[b.stage]))
        for j in range(n):
            if j != b.stage and net.route[b.stage, j] > 0:
                m[sl, j] += b.in_service * g[b.stage] * net.route[b.stage, j]
        if b.kind == "loss" and b.fallback >= 0:
            m[b.offset + b.servers, b.fallback] += lam[b.stage]
    return m, fo


def _stage_levels(xs: FloatArray, n: int, blocks: list[_Block]) -> tuple[FloatArray, FloatArray]:
    """Expected occupancy and waiting list per time and stage, summed over nodes."""
    occ = xs[:, :, :n].sum(axis=1)
    queue = np.zeros_like(occ)
    for b in blocks:
        law = xs[:, 0, b.offset : b.offset + b.levels]
        occ[:, b.stage] = law @ b.in_service
        queue[:, b.stage] = law @ b.waiting
    return occ, queue


def _window_flows(
    net: _Net,
    src: _Sources,
    f: FloatArray,
    g: FloatArray,
    blocks: list[_Block],
    times: FloatArray,
    ints: FloatArray,
    occupancy: FloatArray,
    warmup: float,
    horizon: float,
) -> dict[str, StageFlows]:
    """Expected event counts over ``[warmup, horizon)``, the run summary's window."""
    n = net.n
    span = horizon - warmup
    stage_lam = src.stage_rates(n)
    skips, waits, q_area = np.zeros(n), np.zeros(n), np.zeros(n)
    keep = np.flatnonzero(times[:-1] >= warmup - 1e-12)  # intervals [times[i], times[i + 1]) in the window
    seg = np.minimum(np.searchsorted(src.bounds, times[keep], side="right") - 1, len(src.bounds) - 2)
    lam = stage_lam[seg]  # (I, n)
    dt = times[keep + 1] - times[keep]  # (I,)
    dx = ints[keep + 1] - ints[keep]  # (I, K, d)
    y = dx[:, :, :n].sum(axis=0)  # (K, n) firm-years per stage and node
    area = y.sum(axis=0)
    fails = (f * y).sum(axis=0)
    grads = (g * y).sum(axis=0)
    exits = grads * net.route_exit
    entries = lam.T @ dt + grads @ net.route
    for b in blocks:
        j = b.stage
        law = dx[:, 0, b.offset : b.offset + b.levels]  # (I, levels) years spent at each level
        busy = float((law @ b.in_service).sum())
        area[j] += busy
        q_area[j] += float((law @ b.waiting).sum())
        fails[j] += f[0, j] * busy
        grads[j] += g[0, j] * busy
        exits[j] += g[0, j] * net.route_exit[j] * busy
        moved = busy * g[0, j] * net.route[j]
        moved[j] = 0.0
        entries += moved
        arrived = float(lam[:, j] @ dt)
        if b.kind == "loss":
            full = float(lam[:, j] @ law[:, b.servers])  # arrivals finding every slot taken
            entries[j] += -full
            skips[j] += full
            if b.fallback >= 0:
                entries[b.fallback] += full
            else:
                exits[j] += full
        else:
            delayed = arrived - float(lam[:, j] @ law[:, : b.servers].sum(axis=1))
            waits[j] += delayed
            # admitted at once, plus one admission from the list per completion while firms wait
            entries[j] += -delayed + b.servers * b.mu * float(law[:, b.servers + 1 :].sum())
    if warmup == 0.0:
        for b_i, j in enumerate(src.stock_stage):
            entries[j] += src.stock_count[b_i]
        for b in blocks:
            entries[b.stage] -= b.overflow
            skips[b.stage] += b.overflow  # a full loss stage turns the excess stock away at time 0
            if b.fallback >= 0:
                entries[b.fallback] += b.overflow
            else:
                exits[b.stage] += b.overflow
            if b.kind == "queue":  # a full queue stage puts the excess stock on its waiting list
                queued = max(b.start_level - b.servers, 0)
                entries[b.stage] -= queued
                waits[b.stage] += queued
    out: dict[str, StageFlows] = {}
    end = int(np.searchsorted(times, horizon))
    for j, name in enumerate(net.names):
        out[name] = StageFlows(
            entries=float(entries[j]),
            graduations=float(grads[j]),
            failures=float(fails[j]),
            exits=float(exits[j]),
            skips=float(skips[j]),
            waits=float(waits[j]),
            mean_occupancy=float(area[j] / span),
            mean_queue=float(q_area[j] / span),
            occupancy_end=float(occupancy[end, j]),
            mean_stay_years=None,
        )
    return out


def _steady_state(
    net: _Net,
    f: FloatArray,
    g: FloatArray,
    blocks: list[_Block],
    final: FloatArray,
    steady_y: FloatArray,
) -> tuple[dict[str, StageFlows], dict[str, dict[str, float]], dict[str, QueueResult]]:
    """Long-run occupancy, flows per year and queue results under the rates in force at the horizon."""
    n = net.n
    names = net.names
    lam = final.sum(axis=0)  # (n,) total arrival rate per stage
    queues: dict[str, QueueResult] = {}
    extra_in = np.zeros(n)  # inflow into unlimited stages from blocks (per year)
    busy = np.zeros(n)
    waiting = np.zeros(n)
    skips = np.zeros(n)
    waits = np.zeros(n)
    admitted = np.zeros(n)
    for b in blocks:
        j = b.stage
        lj = float(lam[j])
        a = lj / b.mu
        if b.kind == "loss":
            p_loss = erlang_b(b.servers, a)
            q = QueueResult(names[j], "loss", b.servers, lj, b.mu, a, p_loss, 0.0, 0.0, 0.0, a * (1 - p_loss))
            skips[j] = lj * p_loss
            if b.fallback >= 0:
                extra_in[b.fallback] += lj * p_loss
        else:
            q = QueueResult(
                names[j],
                "queue",
                b.servers,
                lj,
                b.mu,
                a,
                0.0,
                erlang_c(b.servers, a),
                mmc_mean_wait(b.servers, lj, b.mu),
                mmc_mean_queue(b.servers, lj, b.mu),
                a,
            )
            waits[j] = lj * q.p_wait
        queues[names[j]] = q
        busy[j] = q.mean_in_service
        waiting[j] = q.mean_queue
        admitted[j] = lj * (1 - q.p_loss)
        for k in range(n):
            if k != j:
                extra_in[k] += busy[j] * g[0, j] * net.route[j, k]
    if blocks:
        lam_y = final[0].copy()
        for b in blocks:
            lam_y[b.stage] = 0.0
        t_gen = net.transient(f, g)
        y = _steady(t_gen, (lam_y + extra_in)[None])
        for b in blocks:
            y[0, b.stage] = busy[b.stage]
    else:
        y = steady_y
    occ = y.sum(axis=0)
    gy = g * y  # (K, n) graduations per year
    flows_mat = (gy[:, :, None] * net.route[None]).sum(axis=0)  # (n, n)
    fails = (f * y).sum(axis=0)
    exits = gy.sum(axis=0) * net.route_exit
    entries = lam + flows_mat.sum(axis=0)
    for b in blocks:
        j = b.stage
        entries[j] = admitted[j]
        if b.fallback >= 0:
            entries[b.fallback] += skips[j]
        else:
            exits[j] += skips[j]
    steady: dict[str, StageFlows] = {}
    flows: dict[str, dict[str, float]] = {}
    for j, name in enumerate(names):
        steady[name] = StageFlows(
            entries=float(entries[j]),
            graduations=float(gy[:, j].sum()),
            failures=float(fails[j]),
            exits=float(exits[j]),
            skips=float(skips[j]),
            waits=float(waits[j]),
            mean_occupancy=float(occ[j]),
            mean_queue=float(waiting[j]),
            occupancy_end=float(occ[j]),
            mean_stay_years=float(occ[j] / entries[j]) if entries[j] > 0 else None,
        )
        row = {names[k]: float(flows_mat[j, k]) for k in range(n) if flows_mat[j, k] > 0}
        if fails[j] > 0:
            row["failed"] = float(fails[j])
        if gy[:, j].sum() * net.route_exit[j] > 0:
            row[EXIT] = float(gy[:, j].sum() * net.route_exit[j])
        flows[name] = row
    return steady, flows, queues


# --------------------------------------------------------------------------------------------- firms
def _firms(
    net: _Net,
    src: _Sources,
    f: FloatArray,
    g: FloatArray,
    blocks: list[_Block],
    queues: dict[str, QueueResult],
    surv_times: FloatArray,
    horizon: float,
    warmup: float,
) -> tuple[dict[str, EntryResult], EntryResult, dict[str, float]]:
    """Per entry stage and cohort: outcomes, time in stages, state at the horizon, survival curves."""
    n = net.n
    names = net.names
    k_nodes = len(src.nodes)
    # Extended states: stages, then one waiting state per queue block; outcomes failed@stage, exit@stage.
    waits = [b for b in blocks if b.kind == "queue"]
    e = n + len(waits)
    # Cohort: new firms arriving in the window, mixed by their expected numbers (the initial stock if there
    # are none); binding stages in their steady state (Erlang B / C).
    lo = np.clip(src.bounds[:-1], warmup, None)
    hi = src.bounds[1:]
    expected = (src.arrival_rates * np.clip(hi - lo, 0.0, None)[:, None]).sum(axis=0)  # (A,)
    cohort = np.zeros((k_nodes, e))
    cohort_exit = np.zeros(k_nodes)
    weights: dict[str, float] = {}
    block_of = {b.stage: b for b in blocks}
    parts = [(src.arrival_stage[a], expected[a], src.arrival_weights[a]) for a in range(len(expected))]
    if sum(p[1] for p in parts) <= 0:  # no new firms: the initial stock stands in for the cohort
        parts = [(src.stock_stage[b], src.stock_count[b], src.stock_weights[b]) for b in range(len(src.stock_count))]
    total = sum(p[1] for p in parts)
    for j, count, w in parts:
        if count <= 0:
            continue
        share = count / total
        weights[names[j]] = weights.get(names[j], 0.0) + share
        b = block_of.get(j)
        if b is None:
            cohort[:, j] += share * w
            continue
        q = queues[names[j]]
        if b.kind == "loss":
            cohort[:, j] += share * (1 - q.p_loss) * w
            if b.fallback >= 0:
                cohort[:, b.fallback] += share * q.p_loss * w
            else:
                cohort_exit += share * q.p_loss * w
        else:
            cohort[:, j] += share * (1 - q.p_wait) * w
            cohort[:, n + waits.index(b)] += share * q.p_wait * w
    if total <= 0:  # no firms at all: report a firm entering the first stage
        cohort[:, 0] = src.default_weights
    # Generators over extended states plus two outcome columns (failed, exited), per node.
    full = np.zeros((k_nodes, e + 2, e + 2))
    t_gen = net.transient(f, g)
    full[:, :n, :n] = t_gen
    full[:, :n, e] = f
    full[:, :n, e + 1] = g * net.route_exit
    for i, b in enumerate(waits):
        q = queues[names[b.stage]]
        rate = b.servers * b.mu - q.arrival_rate_per_year
        full[:, n + i, b.stage] = rate
        full[:, n + i, n + i] = -rate
    fail_rate = np.zeros((k_nodes, e))
    fail_rate[:, :n] = f
    # Rows: entry stage i (weighted by firms.quality), then the cohort.
    z0 = np.zeros((k_nodes, n + 1, e + 2))
    z0[:, np.arange(n), np.arange(n)] = src.default_weights[:, None]
    z0[:, n, :e] = cohort
    z0[:, n, e + 1] = cohort_exit
    mass = z0.sum(axis=(0, 2))  # (n + 1,) total weight of each row (1, or 1 for the cohort)
    states, cum_km = _survival_curves(full, z0, fail_rate, surv_times)
    survival = 1.0 - states[:, :, e] / mass[None, :]
    survival_km = np.exp(-cum_km)
    h_idx = int(np.searchsorted(surv_times, horizon))
    at_h = states[h_idx] / mass[:, None]  # (rows, e + 2)

    outs = tuple(f"failed@{s}" for s in names) + tuple(f"exit@{s}" for s in names)
    ext_names = names + tuple(f"waiting@{names[b.stage]}" for b in waits)

    # Mixed firms as one chain: a firm's quality node never changes, so the chain over (node, state) is
    # block-diagonal and a start row spreads its weight over the nodes.
    size = k_nodes * e
    q_all = np.zeros((size, size))
    r_all = np.zeros((size, k_nodes * 2 * n))
    for k in range(k_nodes):
        blk = slice(k * e, (k + 1) * e)
        q_all[blk, blk] = full[k, :e, :e]
        r_all[k * e + np.arange(n), k * 2 * n + np.arange(n)] = f[k]
        r_all[k * e + np.arange(n), k * 2 * n + n + np.arange(n)] = g[k] * net.route_exit
    chain = AbsorbingChain(
        tuple(f"{s}#{k}" for k in range(k_nodes) for s in ext_names),
        tuple(f"{o}#{k}" for k in range(k_nodes) for o in outs),
        q_all,
        r_all,
    )
    # Every visit ends in an event at the state's total rate (a self-route starts a new visit).
    out_rate = np.concatenate([np.concatenate([f[k] + g[k], -np.diag(full[k])[n:e]]) for k in range(k_nodes)])

    def eventual(row: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Outcome probabilities (2n,), years per extended state (e,) and visits (e,), over the row's weight."""
        start = z0[:, row, :e].reshape(-1)
        mass = float(z0[:, row, :].sum())
        moving = float(start.sum())
        if moving <= 0:
            return np.zeros(2 * n), np.zeros(e), np.zeros(e)
        p = start / moving
        scale = moving / mass
        p_out = chain.absorption_probabilities(p).reshape(k_nodes, 2 * n).sum(axis=0) * scale
        years_all = chain.expected_time_in_stage(p)
        years = years_all.reshape(k_nodes, e).sum(axis=0) * scale
        visits = (years_all * out_rate).reshape(k_nodes, e).sum(axis=0) * scale
        return p_out, years, visits

    def result(row: int, label: str) -> EntryResult:
        p_out, years, visits = eventual(row)
        p_exit_now = float(z0[:, row, e + 1].sum() / z0[:, row, :].sum())
        ends = {s: float(p_out[j] + p_out[n + j]) for j, s in enumerate(names)}
        horizon_state = {s: float(at_h[row, j]) for j, s in enumerate(names)}
        for i, b in enumerate(waits):
            key = names[b.stage]
            horizon_state[key] += float(at_h[row, n + i])
        horizon_state["failed"] = float(at_h[row, e])
        horizon_state["exited"] = float(at_h[row, e + 1])
        return EntryResult(
            stage=label,
            p_failed=float(p_out[:n].sum()),
            p_exited=float(p_out[n:].sum()) + p_exit_now,
            p_ends_in=ends,
            expected_years={s: float(years[j]) for j, s in enumerate(names)},
            expected_visits={s: float(visits[j]) for j, s in enumerate(names)},
            expected_years_total=float(years.sum()),
            at_horizon=horizon_state,
            survival=np.asarray(survival[:, row], dtype=np.float64),
            survival_km=np.asarray(survival_km[:, row], dtype=np.float64),
        )

    entries = {s: result(j, s) for j, s in enumerate(names)}
    return entries, result(n, "cohort"), weights


def _survival_curves(
    full: FloatArray, z0: FloatArray, fail_rate: FloatArray, times: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """State distributions of each start row at ``times`` and the cumulative Kaplan-Meier hazard.

    ``full`` (K, s, s) are generators (rows sum to 0), ``z0`` (K, r, s) the start rows per node,
    ``fail_rate`` (K, e) the failure rate of each transient state. Returns the node-summed states
    (len(times), r, s) and ``integral_0^t h`` (len(times), r) with ``h = sum_k p_k . f_k / sum_k p_k . 1``
    (the failure rate among firms still in a stage), by composite Simpson within each interval.
    Runs of equal intervals (the months) are evaluated together, a chunk at a time.
    """
    _, rows, size = z0.shape
    e = fail_rate.shape[1]
    states = np.zeros((len(times), rows, size))
    cum = np.zeros((len(times), rows))
    z = z0.copy()
    states[0] = z.sum(axis=0)
    simpson = np.array([4.0 if j % 2 else 2.0 for j in range(1, _SIMPSON_STEPS + 1)])
    simpson[-1] = 1.0
    cache: dict[float, FloatArray] = {}

    def hazard(zz: FloatArray) -> FloatArray:
        """Failure rate among firms in a stage, for z of shape (..., K, r, size) -> (..., r)."""
        num = np.einsum("...kre,ke->...r", zz[..., :e], fail_rate)
        den = zz[..., :e].sum(axis=(-3, -1))
        return np.asarray(np.divide(num, den, out=np.zeros_like(num), where=den > 1e-300), dtype=np.float64)

    steps = np.diff(times)
    i = 0
    while i < len(steps):
        j = i + 1
        while j < len(steps) and j - i < 32 and abs(steps[j] - steps[i]) < 1e-12:
            j += 1
        sub = float(steps[i]) / _SIMPSON_STEPS
        powers = cache.get(round(sub, 12))
        if powers is None:
            # expm(G m sub) for m = 1 .. steps, by repeated products of one exact step.
            powers = np.empty((_SIMPSON_STEPS, *full.shape))
            powers[0] = scipy.linalg.expm(full * sub)
            for m in range(1, _SIMPSON_STEPS):
                powers[m] = powers[m - 1] @ powers[0]
            cache[round(sub, 12)] = powers
        starts = [z]
        for _ in range(j - i):
            starts.append(np.matmul(starts[-1], powers[-1]))
        begin = np.stack(starts[:-1])  # (M, K, r, size): states at the start of intervals i .. j-1
        inner = np.matmul(begin[:, None], powers[None])  # (M, steps, K, r, size)
        pieces = (hazard(begin) + np.einsum("s,msr->mr", simpson, hazard(inner))) * sub / 3.0
        cum[i + 1 : j + 1] = cum[i] + np.cumsum(pieces, axis=0)
        states[i + 1 : j + 1] = np.stack(starts[1:]).sum(axis=1)
        z = starts[-1]
        i = j
    return states, cum
