"""Scenario files (TOML) -> validated, immutable :class:`Scenario` objects.

A scenario is data: it is parsed once, here, into frozen pydantic models; nothing deeper in the
model reads a raw dict. Unknown keys, wrong types and inconsistent settings are reported as
:class:`~sim.errors.ScenarioError` with one line per problem, each naming the field's dotted path
(``stages.incubator.carriers.capacity: must be > 0, got -5``).

Units: time in years (fields say ``_years`` or ``per_year``), dates as calendar dates, money in yuan.
Variants are derived, never mutated: :meth:`Scenario.with_changes` returns a new scenario.
See ``docs/scenario-format.md`` for the file format with examples.
"""

from __future__ import annotations

import copy
import math
import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
)

from .calendar import CalendarDate, decimal_year
from .distributions import DISTRIBUTIONS, Distribution, DurationDistribution, Fixed, Normal, Real
from .errors import ScenarioError, format_validation_error
from .policies import (
    POLICY_TYPES,
    ArrivalMultiplier,
    CapacityChange,
    ChainLinkage,
    Competition,
    ConstructionSubsidy,
    HazardMultiplier,
    PerformanceSubsidy,
    Policy,
    RentRelief,
    Shock,
    Target,
    TaxRelief,
    policy_name,
)

__all__ = [
    "EXIT",
    "LEVELS",
    "MILESTONES",
    "Admission",
    "AfterStay",
    "Arrival",
    "ArrivalMultiplier",
    "Calendar",
    "CapacityChange",
    "Carriers",
    "Evaluation",
    "FactorCurve",
    "Firms",
    "HazardMultiplier",
    "InitialStock",
    "Jobs",
    "Lifecycle",
    "Listing",
    "Outcomes",
    "Policy",
    "RentRelief",
    "RevealQuality",
    "Scenario",
    "Screening",
    "Shock",
    "Stage",
    "Support",
    "Target",
    "default_scenario",
    "load_scenario",
    "parse_scenario",
    "read_scenario_toml",
    "scenario_json_schema",
]

EXIT = "exit"
"""The routing target for leaving the modelled system (acquired, moved away): neither failed nor active."""

Level = Literal["municipal", "provincial", "national"]
LEVELS: tuple[str, ...] = ("municipal", "provincial", "national")

MAX_COUNT = 1_000_000_000
"""Largest count of firms or slots a field may give (larger ones overflow the engine's 64-bit tables)."""

PositiveInt = Annotated[int, Field(gt=0, le=MAX_COUNT, strict=True)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT, strict=True)]
Share = Annotated[Real, Field(ge=0, le=1)]
Rate = Annotated[Real, Field(ge=0, allow_inf_nan=False)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _capacity_kind(value: Any) -> str:
    if isinstance(value, Mapping | BaseModel):
        return "dist"
    if isinstance(value, list | tuple):
        return "list"
    return "int"


Capacity = Annotated[
    Annotated[PositiveInt, Tag("int")]
    | Annotated[tuple[PositiveInt, ...], Tag("list")]
    | Annotated[DurationDistribution, Tag("dist")],
    Discriminator(_capacity_kind),
]


class Calendar(_Frozen):
    """When the scenario starts and how long it runs."""

    start: CalendarDate = Field(description="first day simulated: a year, 'YYYY-MM' or 'YYYY-MM-DD'")
    horizon_years: Real = Field(gt=0, le=1_000_000, description="simulated span, years")
    warmup_years: Real = Field(0.0, ge=0, description="years at the start excluded from flows and survival summaries")

    @property
    def start_year(self) -> float:
        """The start as a decimal year."""
        return decimal_year(self.start)

    def years_since_start(self, date: Any) -> float:
        """Model time (years) of a calendar date."""
        return decimal_year(date) - self.start_year


class Firms(_Frozen):
    """Attributes of firms shared by every arrival stream (streams may override them)."""

    sectors: dict[str, Share] = Field(
        default_factory=lambda: {"general": 1.0},
        description="sector mix of arriving firms; shares sum to 1",
    )
    quality: Distribution = Field(
        default_factory=lambda: Normal(mean_=0.0, sd=1.0),
        description="latent quality q of a firm (dimensionless)",
    )
    quality_on_failure: Real = Field(0.0, description="failure hazard is multiplied by exp(-quality_on_failure * q)")
    quality_on_graduation: Real = Field(
        0.0, description="graduation hazard is multiplied by exp(+quality_on_graduation * q)"
    )


class Screening(_Frozen):
    """Carriers admit a firm only if ``q + noise_sd * Z >= threshold`` (Z standard normal)."""

    threshold: Real
    noise_sd: Real = Field(0.0, ge=0)


class Admission(_Frozen):
    """What happens when a firm asks to enter a stage."""

    on_full: Literal["queue", "skip", "block"] = Field(
        "skip",
        description="no carrier has room: join the waiting list, go to the fallback at once, "
        "or (a firm leaving a carrier) stay in place holding its slot until room opens",
    )
    queue_limit: Count | None = Field(
        None, description="most firms on the waiting list (none = unlimited); only with on_full = 'queue'"
    )
    on_queue_full: Literal["skip", "block"] = Field(
        "skip", description="waiting list full: go to the fallback, or block in place (firms in a carrier)"
    )
    patience: DurationDistribution | None = Field(
        None, description="years a firm waits on the list before giving up (none = forever)"
    )
    fallback: str | None = Field(
        None, description="stage (or 'exit') for firms turned away; default 'market' if it exists, else 'exit'"
    )
    screening: Screening | None = None


def _rate_kind(value: Any) -> str:
    return "table" if isinstance(value, Mapping) else "number"


RatePerYear = Annotated[
    Annotated[Rate, Tag("number")] | Annotated[dict[str, Rate], Tag("table")],
    Discriminator(_rate_kind),
]
"""A rate per year: a number, or a table by calendar year ``{"2019" = 300, ...}`` (each holds until the next)."""


def _check_year_table(value: Any) -> Any:
    if isinstance(value, dict):
        if not value:
            raise ValueError("needs at least one year")
        for key in value:
            if not (key.isdigit() and len(key) == 4):
                raise ValueError(f'keys must be calendar years like "2020", got {key!r}')
    return value


def rate_steps(value: float | dict[str, float], calendar: Calendar) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """A :data:`RatePerYear` as a step function: (change times in years since start, rates per year).

    ``rates[0]`` applies from time 0; ``rates[i]`` from ``times[i - 1]``.
    """
    if not isinstance(value, dict):
        return (), (float(value),)
    items = sorted((int(k), v) for k, v in value.items())
    times: list[float] = []
    rates = [items[0][1]]
    for year, rate in items[1:]:
        t = year - calendar.start_year
        if t <= 0:
            rates[-1] = rate
        else:
            times.append(t)
            rates.append(rate)
    return tuple(times), tuple(rates)


class Evaluation(_Frozen):
    """The yearly third-party evaluation of a stage's carriers, on measured results of the past year.

    Score = (graduations + tenants financed by an angel fund - failures) per tenant-year of the
    carrier over the year. A carrier with fewer than ``min_tenant_years`` tenant-years (or none: an
    empty carrier) is rated *unqualified*. The others are rated on one of two bases:

    * ``basis = "score"``: below ``fail_below`` *unqualified*, from ``excellent_from`` *excellent*,
      else *qualified* (absolute thresholds: support that raises every score raises the share rated
      excellent);
    * ``basis = "rank"``: relative to the year's cohort (the stage's carriers rated that year): the
      worst ``unqualified_share`` of them by score are *unqualified*, the best ``excellent_share``
      *excellent* (counts rounded to the nearest whole carrier; equal scores ordered by the stream
      ``carrier_rating``), so the shares stay where they are set whatever raises the scores.
    """

    basis: Literal["score", "rank"] = Field(
        "score", description="'score': thresholds on the score; 'rank': shares of the year's rated carriers"
    )
    fail_below: Real = Field(-0.1, allow_inf_nan=False, description="score below which a carrier is unqualified")
    excellent_from: Real = Field(0.1, allow_inf_nan=False, description="score from which a carrier is excellent")
    unqualified_share: Share = Field(0.1, description="basis 'rank': share of the rated cohort rated unqualified")
    excellent_share: Share = Field(0.33, description="basis 'rank': share of the rated cohort rated excellent")
    min_tenant_years: Real = Field(
        1.0, ge=0, allow_inf_nan=False, description="fewer tenant-years in the year: unqualified"
    )


class Lifecycle(_Frozen):
    """Carriers of a stage open, are evaluated, gain and lose recognition levels, and close.

    * Openings: a Poisson process of ``opening_rate_per_year`` (a ``construction_subsidy`` raises it);
      a new carrier starts at ``new_level``, recognised on opening.
    * On every anniversary of the scenario's start: first closures (each open carrier closes with
      probability ``1 - exp(-h)``, ``h = closure_rate_per_year``, x ``closure_factor_unqualified`` if
      its last rating was unqualified, x a ``tax_relief`` factor), then the evaluation
      (:class:`Evaluation`) of every carrier open for the whole past year.
    * A carrier at provincial or national level with ``demote_after_failed`` unqualified ratings since
      its recognition drops one level (the national rule of docs/sources.md D, applied to provincial
      too). Recognition lasts ``recognition_years``; at renewal a carrier whose evaluations since its
      recognition (at least one; for carriers of the start, those within the run) were excellent in
      a share of at least ``promote_excellent_share`` moves up one level, others are renewed at their
      level.
    * With ``promotions_per_year`` promotions come by list instead, as recognitions do in practice:
      at each yearly round, for each listed level from the top down, the ``k`` best carriers one
      level below move up (``k`` = the number in force during the year just ended, rounded), ranked
      by the mean score of their ratings since recognition (equal means ordered by the stream
      ``carrier_rating``), among the carriers rated in the round and not demoted or promoted in it.
      Renewals then keep a carrier at its level.
    * A closed carrier admits no one; its tenants finish their stay there.
    """

    opening_rate_per_year: RatePerYear = Field(0.0, description="new carriers a year (number or table by year)")
    new_level: Level = Field("municipal", description="level of a newly opened carrier")
    recognition_years: Real = Field(
        3.0, ge=0.1, description="years a recognition holds before renewal (at least 0.1: renewals are events)"
    )
    promote_excellent_share: Annotated[Real, Field(gt=0, le=1)] = Field(
        0.66,
        description="share of evaluations since recognition rated excellent to move up at renewal (0.66: two in three)",
    )
    demote_after_failed: PositiveInt = Field(2, description="unqualified ratings since recognition to move down")
    promotions_per_year: dict[Level, RatePerYear] | None = Field(
        None,
        description="carriers recognised at each level a year, by list (number or table by year; "
        "none = promotion at renewal by promote_excellent_share)",
    )
    closure_rate_per_year: Rate = Field(0.0, description="yearly closure hazard")
    closure_factor_unqualified: Rate = Field(3.0, description="closure hazard multiplier after an unqualified rating")
    evaluation: Evaluation = Field(default_factory=Evaluation)

    _years = field_validator("opening_rate_per_year")(_check_year_table)

    @field_validator("promotions_per_year")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        for level, rate in (value or {}).items():
            if level == LEVELS[0]:
                raise ValueError(f"{level}: the lowest level has no promotions into it")
            _check_year_table(rate)
        return value


class Carriers(_Frozen):
    """The individual carriers (maker spaces, incubators, ...) of a stage."""

    count: PositiveInt = Field(description="number of carriers at the start")
    capacity: Capacity = Field(
        description="firms per carrier: a whole number, a distribution (rounded, at least 1) or a list"
    )
    levels: dict[Level, Share] = Field(
        default_factory=lambda: {"municipal": 1.0},  # type: ignore[arg-type,dict-item]
        description="shares of carriers by level; sum to 1",
    )
    specialised_share: Share = Field(
        0.0, description="share of carriers specialised in one sector (drawn from the sector mix)"
    )
    lifecycle: Lifecycle | None = Field(None, description="none = the carriers of the start stay, unchanged")
    graduates_before_start: Annotated[int, Field(ge=0, strict=True)] = Field(
        0, description="firms the stage's carriers graduated before the start (cumulative counts start from it)"
    )


class FactorCurve(_Frozen):
    """A piecewise-constant hazard factor of years: ``factors[i]`` on ``[breaks[i-1], breaks[i])``.

    ``factors`` has one entry more than ``breaks``; the first holds from 0, the last after the last break.
    """

    breaks: tuple[Annotated[Real, Field(gt=0, allow_inf_nan=False)], ...] = Field(
        (), description="years, strictly increasing"
    )
    factors: tuple[Annotated[Real, Field(ge=0, allow_inf_nan=False)], ...] = Field(
        description="hazard factors, one per interval (len(breaks) + 1)"
    )


class Support(_Frozen):
    """What a stay in the stage does to a tenant's hazards, beyond any policy (off: all 1).

    During the stay the failure hazard is multiplied by ``failure_factor``, the graduation hazard by
    ``graduation_factor`` (fixed support), and the firm's quality terms (``firms.quality_on_failure
    * q`` and ``quality_on_graduation * q``) by ``quality_scale`` (support that works through quality:
    above 1 it helps good firms more and weak ones less, or not at all).
    """

    failure_factor: Rate = Field(1.0, description="failure hazard x this during the stay")
    graduation_factor: Rate = Field(1.0, description="graduation hazard x this during the stay")
    quality_scale: Rate = Field(1.0, description="the quality terms x this during the stay (1: unchanged)")


class RevealQuality(_Frozen):
    """A stay that reveals quality: the failure hazard x ``exp(-strength * q)`` during it and ``years_after``."""

    strength: Real = Field(ge=0, allow_inf_nan=False, description="per sd of quality (0: off)")
    years_after: Real = Field(
        0.0, ge=0, allow_inf_nan=False, description="years after leaving during which the term still applies"
    )


class AfterStay(_Frozen):
    """Failure-hazard factors that follow a firm out of the stage (wherever it goes next).

    They last until the firm leaves another stage that sets terms of its own (``after_stay`` or
    ``reveal_quality``).
    """

    since_leaving: FactorCurve | None = Field(None, description="factor by years since leaving the stage")
    by_stay_years: FactorCurve | None = Field(
        None, description="factor by the length of the completed stay, years (for the rest of the firm's life)"
    )


Route = dict[str, Annotated[Real, Field(ge=0, le=1)]]


class Stage(_Frozen):
    """One stage of the chain: competing hazards, a stay limit, routing, carriers and admission."""

    label: str | None = Field(None, description="display name")
    failure: DurationDistribution | None = Field(None, description="failure hazard (none = never fails here)")
    failure_clock: Literal["stay", "age"] = Field(
        "stay", description="the failure hazard's clock: time in this stage, or the firm's age"
    )
    graduation: DurationDistribution | None = Field(None, description="graduation hazard (none = firms settle here)")
    graduation_clock: Literal["stay", "age"] = "stay"
    max_stay_years: Real | None = Field(None, gt=0, description="stay limit; reaching it is a time-out")
    on_graduation: Route | None = Field(None, description="probabilities over next stages (or 'exit')")
    on_timeout: Route | None = Field(None, description="probabilities over next stages (or 'exit')")
    carriers: Carriers | None = Field(None, description="none = no capacity limit and no carriers (the market)")
    admission: Admission = Field(default_factory=Admission)
    support: Support | None = Field(None, description="hazard factors during a stay (none = no support effect)")
    reveal_quality: RevealQuality | None = Field(None, description="a stay that reveals quality (none = off)")
    after_stay: AfterStay | None = Field(None, description="hazard factors after leaving (none = off)")


class Arrival(_Frozen):
    """A Poisson stream of new firms into an entry stage."""

    name: str
    stage: str = Field(description="entry stage")
    rate_per_year: RatePerYear = Field(
        description='firms per year: a number, or a table by calendar year {"2019" = 300, ...}'
    )
    age_years: DurationDistribution = Field(
        default_factory=lambda: Fixed(value=0.0), description="firm age on arrival, years"
    )
    sectors: dict[str, Share] | None = Field(None, description="overrides firms.sectors")
    quality: Distribution | None = Field(None, description="overrides firms.quality")

    _years = field_validator("rate_per_year")(_check_year_table)

    def rate_steps(self, calendar: Calendar) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Piecewise-constant rate: (change times in years since start, rates per year); see :func:`rate_steps`."""
        return rate_steps(self.rate_per_year, calendar)


class InitialStock(_Frozen):
    """Firms already in a stage at the start."""

    stage: str
    count: Count
    age_years: DurationDistribution = Field(default_factory=lambda: Fixed(value=0.0))
    years_in_stage: DurationDistribution | None = Field(
        None, description="time already spent in the stage (capped at the age); none = 0"
    )
    sectors: dict[str, Share] | None = None
    quality: Distribution | None = None


MilestoneName = Literal["high_tech", "financing", "revenue", "acquisition_or_listing"]
MILESTONES: tuple[str, ...] = ("high_tech", "financing", "revenue", "acquisition_or_listing")
"""The success tests a graduate may meet (sources D), in the order every milestone table uses."""


class Listing(_Frozen):
    """Listings of graduates, derived from the event log after the run (``docs/outcomes.md``).

    A firm that has graduated from one of ``after_graduation_from`` and is still active lists at rate
    ``rate_per_year x exp(quality_effect x q)``, on a market drawn from ``markets``.
    """

    rate_per_year: Rate = Field(0.0022, description="listings per active graduate and year, at quality 0")
    quality_effect: Real = Field(
        0.3, allow_inf_nan=False, description="the listing rate is multiplied by exp(quality_effect * q)"
    )
    after_graduation_from: tuple[str, ...] | None = Field(
        None, description="stages whose graduates are at risk of listing (none = every stage with carriers)"
    )
    stock_at_risk: tuple[str, ...] = Field(
        (), description="stages whose initial stock graduated before the start: at risk from time 0"
    )
    markets: dict[str, Share] = Field(
        default_factory=lambda: {"star": 0.2, "other": 0.4, "neeq": 0.4},
        description="shares of listings by market; sum to 1",
    )


class Jobs(_Frozen):
    """The jobs curve of a firm, deterministic given its own factor ``f`` (``docs/outcomes.md``).

    ``jobs(age) = at_founding x f x (1 + growth_per_year x min(age, growth_until_years))``, times
    ``milestone_factor`` once the firm has met a success milestone; ``f`` is log-normal with mean 1
    and log-sd ``firm_sd``.
    """

    at_founding: Real = Field(4.0, gt=0, le=1e6, description="jobs of a firm at age 0 (f = 1)")
    growth_per_year: Real = Field(
        1.2, ge=0, le=1000, description="jobs added per year of age, as a multiple of at_founding"
    )
    growth_until_years: Real = Field(8.0, ge=0, le=1000, description="age after which the curve is flat, years")
    firm_sd: Real = Field(1.0, ge=0, le=10, description="sd of log f, the firm's own factor")
    milestone_factor: Real = Field(
        1.5, ge=0, le=1000, description="jobs x this from the firm's first success milestone on"
    )


class Outcomes(_Frozen):
    """Firm outcomes derived after the run: milestones at graduation, listings, jobs (``docs/outcomes.md``)."""

    milestones: dict[str, dict[MilestoneName, Share]] = Field(
        default_factory=dict,
        description="stages whose graduation is a success test: shares of the test met, summing to 1",
    )
    listing: Listing = Field(default_factory=Listing)
    jobs: Jobs = Field(default_factory=Jobs)


class Scenario(_Frozen):
    """A complete, validated scenario. Build with :func:`load_scenario` or :func:`parse_scenario`."""

    name: str = Field(description="short name, carried on every output row")
    description: str = ""
    calendar: Calendar
    firms: Firms = Field(default_factory=Firms)
    stages: dict[str, Stage] = Field(description="stages of the chain, in order")
    arrivals: tuple[Arrival, ...] = ()
    initial_stock: tuple[InitialStock, ...] = ()
    policies: tuple[Policy, ...] = ()
    shocks: tuple[Shock, ...] = Field((), description="time-windowed changes not caused by policy (no cost)")
    outcomes: Outcomes = Field(default_factory=Outcomes, description="milestones, listings and jobs (derived)")

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(self.stages)

    def fallback_of(self, stage: str) -> str:
        """Where firms turned away from ``stage`` go."""
        fb = self.stages[stage].admission.fallback
        if fb is not None:
            return fb
        return "market" if "market" in self.stages and stage != "market" else EXIT

    def to_dict(self) -> dict[str, Any]:
        """A plain dict with every default explicit (what ``scenario.resolved.toml`` holds)."""
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        for name in self.stages:
            data["stages"][name]["admission"]["fallback"] = self.fallback_of(name)
        return data

    def to_toml(self) -> str:
        """The resolved scenario as TOML text; loading it gives an equal scenario."""
        return tomli_w.dumps(self.to_dict())

    def with_changes(self, changes: Mapping[str, Any] | None = None, **kw: Any) -> Scenario:
        """A new scenario with fields replaced by dotted path (``{"stages.incubator.carriers.count": 50}``).

        Raises :class:`ScenarioError` if a path does not exist or the result is invalid.
        """
        data = copy.deepcopy(self.model_dump(mode="json", by_alias=True, exclude_none=True))
        for path, value in {**(changes or {}), **kw}.items():
            set_path(data, path, value)
        return parse_scenario(data)


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``data[a][b][c] = value`` for ``path = "a.b.c"`` (list items by index: ``arrivals.0.stage``)."""
    keys = path.split(".")
    node: Any = data
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                raise ScenarioError([f"{path}: no item {key!r} in this list"])
            if last:
                node[int(key)] = value
            else:
                node = node[int(key)]
        elif isinstance(node, dict):
            if last:
                node[key] = value
            else:
                if key not in node:
                    node[key] = {}
                node = node[key]
        else:
            raise ScenarioError([f"{path}: {'.'.join(keys[:i])} is not a table"])


_TAGS = frozenset(DISTRIBUTIONS) | frozenset(POLICY_TYPES)


def _check_route(where: str, route: Mapping[str, float], targets: set[str], problems: list[str]) -> None:
    for dest in route:
        if dest not in targets:
            problems.append(f"{where}.{dest}: unknown stage (known: {', '.join(sorted(targets))})")
    total = math.fsum(route.values())
    if abs(total - 1.0) > 1e-9:
        problems.append(f"{where}: probabilities must sum to 1, got {total:.10g}")


def _check_shares(where: str, shares: Mapping[Any, float], problems: list[str]) -> None:
    total = math.fsum(shares.values())
    if not shares:
        problems.append(f"{where}: needs at least one entry")
    elif abs(total - 1.0) > 1e-9:
        problems.append(f"{where}: shares must sum to 1, got {total:.10g}")


def _semantic_problems(sc: Scenario) -> list[str]:
    """Cross-field checks pydantic cannot express field by field."""
    problems: list[str] = []
    names = set(sc.stages)
    targets = names | {EXIT}
    if not sc.stages:
        problems.append("stages: needs at least one stage")
    if sc.calendar.warmup_years >= sc.calendar.horizon_years:
        problems.append(
            f"calendar.warmup_years: must be shorter than horizon_years ({sc.calendar.horizon_years:g}), "
            f"got {sc.calendar.warmup_years:g}"
        )
    _check_shares("firms.sectors", sc.firms.sectors, problems)
    for name, st in sc.stages.items():
        where = f"stages.{name}"
        if name == EXIT:
            problems.append(f"{where}: 'exit' is reserved for leaving the system")
        if st.graduation is not None and st.on_graduation is None:
            problems.append(f"{where}.on_graduation: required when the stage has a graduation hazard")
        if st.on_graduation is not None:
            if st.graduation is None:
                problems.append(f"{where}.on_graduation: set, but the stage has no graduation hazard")
            _check_route(f"{where}.on_graduation", st.on_graduation, targets, problems)
        if st.max_stay_years is not None and st.on_timeout is None:
            problems.append(f"{where}.on_timeout: required when max_stay_years is set")
        if st.on_timeout is not None:
            if st.max_stay_years is None:
                problems.append(f"{where}.on_timeout: set, but the stage has no max_stay_years")
            _check_route(f"{where}.on_timeout", st.on_timeout, targets, problems)
        adm = st.admission
        fb = sc.fallback_of(name)
        if fb not in targets:
            problems.append(f"{where}.admission.fallback: unknown stage {fb!r}")
        elif fb == name:
            problems.append(f"{where}.admission.fallback: cannot be the stage itself")
        if adm.queue_limit is not None and adm.on_full != "queue":
            problems.append(f"{where}.admission.queue_limit: only meaningful with on_full = 'queue'")
        if adm.patience is not None and adm.on_full != "queue":
            problems.append(f"{where}.admission.patience: only meaningful with on_full = 'queue'")
        if st.carriers is None and (adm.on_full != "skip" or adm.queue_limit is not None):
            problems.append(f"{where}.admission.on_full: a stage without carriers is never full")
        if st.carriers is not None:
            _check_shares(f"{where}.carriers.levels", st.carriers.levels, problems)
            life = st.carriers.lifecycle
            if life is not None and isinstance(st.carriers.capacity, tuple) and life.opening_rate_per_year:
                problems.append(
                    f"{where}.carriers.capacity: a list gives no capacity to carriers opened during the run "
                    "(use a number or a distribution with lifecycle.opening_rate_per_year)"
                )
            if life is not None:
                _evaluation_problems(f"{where}.carriers.lifecycle.evaluation", life.evaluation, problems)
            cap = st.carriers.capacity
            if isinstance(cap, tuple) and len(cap) != st.carriers.count:
                problems.append(
                    f"{where}.carriers.capacity: list has {len(cap)} entries but count is {st.carriers.count}"
                )
        if st.failure is None and st.graduation is None and st.max_stay_years is None:
            problems.append(f"{where}: no way out (needs failure, graduation or max_stay_years)")
        _term_problems(where, st, problems)
    # A firm must be able to leave the carrier system or fail from wherever it is.
    if not problems:
        problems.extend(_trap_problems(sc))
        problems.extend(_loop_problems(sc))
    problems.extend(_overflow_problems(sc))
    for i, arr in enumerate(sc.arrivals):
        if arr.stage not in names:
            problems.append(f"arrivals[{i}].stage: unknown stage {arr.stage!r}")
        if arr.sectors is not None:
            _check_shares(f"arrivals[{i}].sectors", arr.sectors, problems)
    seen: set[str] = set()
    for i, arr in enumerate(sc.arrivals):
        if arr.name in seen:
            problems.append(f"arrivals[{i}].name: duplicate name {arr.name!r}")
        seen.add(arr.name)
    for i, stock in enumerate(sc.initial_stock):
        if stock.stage not in names:
            problems.append(f"initial_stock[{i}].stage: unknown stage {stock.stage!r}")
        if stock.sectors is not None:
            _check_shares(f"initial_stock[{i}].sectors", stock.sectors, problems)
    for i, pol in enumerate(sc.policies):
        where = f"policies[{i}]"
        if pol.start is not None and pol.end is not None and pol.end <= pol.start:
            problems.append(f"{where}.end: must be after start ({pol.start.isoformat()})")
        if isinstance(pol, ArrivalMultiplier):
            for name in pol.arrivals or ():
                if name not in seen:
                    problems.append(f"{where}.arrivals: unknown arrival stream {name!r}")
        elif isinstance(pol, Competition):
            if pol.stage not in names:
                problems.append(f"{where}.stage: unknown stage {pol.stage!r}")
            if pol.sectors is not None:
                _check_shares(f"{where}.sectors", pol.sectors, problems)
        elif isinstance(pol, ChainLinkage):
            for field_ in ("from_stage", "to_stage"):
                if getattr(pol, field_) not in names:
                    problems.append(f"{where}.{field_}: unknown stage {getattr(pol, field_)!r}")
            if pol.to_stage in names and sc.stages[pol.to_stage].admission.on_full != "queue":
                problems.append(f"{where}.to_stage: stage {pol.to_stage!r} has no waiting list (on_full = 'queue')")
        else:
            for stage in pol.target.stages or ():
                if stage not in names:
                    problems.append(f"{where}.target.stages: unknown stage {stage!r}")
    known_sectors = set(sc.firms.sectors)
    for a in sc.arrivals:
        known_sectors |= set(a.sectors or {})
    for st_ in sc.initial_stock:
        known_sectors |= set(st_.sectors or {})
    for pol in sc.policies:
        if isinstance(pol, Competition):
            known_sectors |= set(pol.sectors or {})
    policy_names: set[str] = set()
    for i, pol in enumerate(sc.policies):
        where = f"policies[{i}]"
        pname = policy_name(pol, i)
        if pname in policy_names:
            problems.append(f"{where}.name: duplicate name {pname!r}")
        policy_names.add(pname)
        if (
            isinstance(pol, CapacityChange | ConstructionSubsidy | PerformanceSubsidy | TaxRelief)
            and pol.target.specialism_match is not None
        ):
            problems.append(f"{where}.target.specialism_match: not meaningful for carriers (a firm's match)")
        if isinstance(pol, ConstructionSubsidy | PerformanceSubsidy | TaxRelief):
            wanted = pol.target.stages or tuple(names)
            if not any(
                n in names and sc.stages[n].carriers is not None and sc.stages[n].carriers.lifecycle  # type: ignore[union-attr]
                for n in wanted
            ):
                problems.append(
                    f"{where}.target.stages: {pol.type} needs a stage with a carrier life cycle "
                    "(stages.<name>.carriers.lifecycle)"
                )
        if isinstance(pol, ConstructionSubsidy) and "new_carrier_yuan" in pol.model_fields_set:
            for stage in pol.new_carrier_yuan:
                if stage not in names or sc.stages[stage].carriers is None:
                    problems.append(f"{where}.new_carrier_yuan.{stage}: not a stage with carriers")
        if isinstance(pol, RentRelief):
            for stage in pol.target.stages or ():
                if stage in names and sc.stages[stage].carriers is None:
                    problems.append(f"{where}.target.stages: stage {stage!r} has no carriers (no rent to relieve)")
    shock_names: set[str] = set()
    for i, shock in enumerate(sc.shocks):
        where = f"shocks[{i}]"
        if shock.end <= shock.start:
            problems.append(f"{where}.end: must be after start ({shock.start.isoformat()})")
        if shock.name in shock_names:
            problems.append(f"{where}.name: duplicate name {shock.name!r}")
        shock_names.add(shock.name)
        for field_ in ("failure_by_sector", "graduation_by_sector"):
            for sector in getattr(shock, field_):
                if sector not in known_sectors:
                    problems.append(
                        f"{where}.{field_}.{sector}: unknown sector (known: {', '.join(sorted(known_sectors))})"
                    )
    problems.extend(_outcome_problems(sc))
    return problems


def _evaluation_problems(where: str, ev: Evaluation, problems: list[str]) -> None:
    """Checks of a life cycle's evaluation: thresholds with basis 'score', shares with basis 'rank'."""
    unused = ("unqualified_share", "excellent_share") if ev.basis == "score" else ("fail_below", "excellent_from")
    for name in unused:  # a value other than the default (a scenario's dict carries every default)
        if getattr(ev, name) != Evaluation.model_fields[name].default:
            problems.append(f"{where}.{name}: not used with basis = {ev.basis!r}")
    if ev.basis == "score" and ev.excellent_from < ev.fail_below:
        problems.append(f"{where}.excellent_from: must be >= fail_below ({ev.fail_below})")
    if ev.basis == "rank" and ev.unqualified_share + ev.excellent_share > 1.0:
        problems.append(
            f"{where}.excellent_share: with unqualified_share ({ev.unqualified_share}) more than the whole cohort"
        )


def _term_problems(where: str, st: Stage, problems: list[str]) -> None:
    """Checks of a stage's hazard terms (``support``, ``reveal_quality``, ``after_stay``)."""
    for field_ in ("support", "reveal_quality", "after_stay"):
        if getattr(st, field_) is not None and st.carriers is None:
            problems.append(f"{where}.{field_}: only for a stage with carriers (a stay in a carrier)")
    after = st.after_stay
    for name in ("since_leaving", "by_stay_years"):
        curve = getattr(after, name) if after is not None else None
        if curve is None:
            continue
        if len(curve.factors) != len(curve.breaks) + 1:
            problems.append(
                f"{where}.after_stay.{name}.factors: needs len(breaks) + 1 = {len(curve.breaks) + 1} entries, "
                f"got {len(curve.factors)}"
            )
        if any(b <= a for a, b in zip(curve.breaks, curve.breaks[1:], strict=False)):
            problems.append(f"{where}.after_stay.{name}.breaks: must be strictly increasing")


def _outcome_problems(sc: Scenario) -> list[str]:
    """Checks of ``[outcomes]``: known stages, success tests only where firms graduate, shares summing to 1."""
    problems: list[str] = []
    oc = sc.outcomes
    for name, shares in oc.milestones.items():
        where = f"outcomes.milestones.{name}"
        if name not in sc.stages:
            problems.append(f"{where}: unknown stage {name!r}")
        elif sc.stages[name].graduation is None:
            problems.append(f"{where}: stage {name!r} has no graduation hazard")
        _check_shares(where, shares, problems)
    for field_ in ("after_graduation_from", "stock_at_risk"):
        for name in getattr(oc.listing, field_) or ():
            if name not in sc.stages:
                problems.append(f"outcomes.listing.{field_}: unknown stage {name!r}")
    _check_shares("outcomes.listing.markets", oc.listing.markets, problems)
    return problems


LOOP_LAPS = 1_000_000
"""A routing loop whose typical lap is shorter than horizon / LOOP_LAPS is refused: firms would circle it
(nearly) without end, with the simulation clock hardly moving."""

EXP_LIMIT = 500.0
"""Largest exponent a quality effect may reach (``exp(500)`` is about 1e217: room for policy factors)."""


def _graduation_years(st: Stage, oldest_years: float) -> float:
    """A typical time from entering ``st`` to graduating from it (years): the median graduation time.

    On the firm's age clock, that of the oldest firm the run can hold (``oldest_years``): a distribution
    with a bounded support, such as ``fixed``, gives 0 once the firm is past it.
    """
    dist = st.graduation
    assert dist is not None
    if st.graduation_clock == "age":
        used = dist.cum_hazard(oldest_years)
        years = 0.0 if math.isinf(used) else dist.inv_cum_hazard(used + math.log(2.0)) - oldest_years
    else:
        years = dist.inv_cum_hazard(math.log(2.0))
    return min(years, st.max_stay_years) if st.max_stay_years is not None else years


def _loop_problems(sc: Scenario) -> list[str]:
    """Routing loops a firm goes round in (almost) no time: a hang with growing memory, so refused.

    The routing graph has an edge for every next stage a firm can take, weighted with a typical stay
    before it: the median graduation time, the stay limit for a time-out, and nothing for being turned
    away to the fallback of a full stage. A cycle lighter than ``horizon / LOOP_LAPS`` is refused.
    """
    names = list(sc.stages)
    index = {n: i for i, n in enumerate(names)}
    limit = sc.calendar.horizon_years / LOOP_LAPS
    edges: dict[tuple[int, int], tuple[float, str]] = {}

    def add(a: str, b: str, years: float, how: str) -> None:
        key = (index[a], index[b])
        if years < limit and (key not in edges or years < edges[key][0]):
            edges[key] = (years, how)

    ages = [a.age_years for a in sc.arrivals] + [s.age_years for s in sc.initial_stock]
    ages += [p.age_years for p in sc.policies if isinstance(p, Competition)]
    oldest = sc.calendar.horizon_years + max((a.practical_range()[1] for a in ages), default=0.0)
    for name, st in sc.stages.items():
        if st.graduation is not None and st.on_graduation:
            years = _graduation_years(st, oldest)
            for dest, p in st.on_graduation.items():
                if p > 0 and dest in index:
                    add(name, dest, years, "on_graduation")
        if st.max_stay_years is not None:
            for dest, p in (st.on_timeout or {}).items():
                if p > 0 and dest in index:
                    add(name, dest, st.max_stay_years, "on_timeout")
        if st.carriers is not None and sc.fallback_of(name) in index:
            add(name, sc.fallback_of(name), 0.0, "admission.fallback")
    if not edges:
        return []
    import numpy as np  # scipy's graph routines: only when some route is fast enough to matter
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components, dijkstra

    rows, cols = zip(*edges, strict=True)
    # csgraph reads a stored 0 as 'no edge': a zero-time edge weighs the smallest positive float.
    weights = [max(edges[k][0], 5e-324) for k in edges]
    graph = csr_matrix((weights, (rows, cols)), shape=(len(names), len(names)))
    _, component = connected_components(graph, directed=True, connection="strong")
    sizes = np.bincount(component)
    problems: list[str] = []
    seen: set[int] = set()
    for v in range(len(names)):
        if v in seen or not (sizes[component[v]] > 1 or (v, v) in edges):
            continue
        dist, pred = dijkstra(graph, indices=v, return_predecessors=True, limit=limit)
        closing = [(dist[u] + edges[(u, v)][0], u) for u in range(len(names)) if (u, v) in edges and dist[u] < limit]
        lap, last = min(closing, default=(math.inf, -1))
        if lap >= limit:
            continue
        path = [last]
        while path[-1] != v:
            path.append(int(pred[path[-1]]))
        path.reverse()
        seen.update(path)
        loop = " -> ".join(names[i] for i in (*path, v))
        problems.append(
            f"stages.{names[last]}.{edges[(last, v)][1]}: routing loop {loop} takes "
            + ("no time" if lap < 1e-12 else f"{lap:.3g} years")
            + f" a lap (under horizon / {LOOP_LAPS:,}): firms would circle it without end; give a stay on it more time"
        )
        if len(problems) >= 5:
            break
    return problems


def _overflow_problems(sc: Scenario) -> list[str]:
    """Parameters each valid alone whose combination overflows: quality effects, capacity draws."""
    problems: list[str] = []
    sources = [sc.firms.quality, *(a.quality for a in sc.arrivals), *(s.quality for s in sc.initial_stock)]
    sources += [p.quality for p in sc.policies if isinstance(p, Competition)]
    q = max(max(abs(lo), abs(hi)) for lo, hi in (d.practical_range() for d in sources if d is not None))
    terms = [
        ("firms.quality_on_failure", sc.firms.quality_on_failure),
        ("firms.quality_on_graduation", sc.firms.quality_on_graduation),
        ("outcomes.listing.quality_effect", sc.outcomes.listing.quality_effect),
    ]
    for name, st in sc.stages.items():  # a stay's own terms add to the firm's, or scale them
        scale = st.support.quality_scale if st.support is not None else 1.0
        reveal = st.reveal_quality.strength if st.reveal_quality is not None else 0.0
        if scale != 1.0:
            terms.append((f"stages.{name}.support.quality_scale", scale * abs(sc.firms.quality_on_failure) + reveal))
            terms.append((f"stages.{name}.support.quality_scale", scale * abs(sc.firms.quality_on_graduation)))
        if reveal:
            terms.append((f"stages.{name}.reveal_quality.strength", abs(sc.firms.quality_on_failure) + reveal))
    for where, coef in dict.fromkeys(terms):
        if abs(coef) * q > EXP_LIMIT and not any(p.startswith(where) for p in problems):
            problems.append(
                f"{where}: exp({coef:g} x quality) overflows for quality up to {q:.3g} "
                f"(the exponent must stay below {EXP_LIMIT:g}: a coefficient of at most {EXP_LIMIT / q:.3g} here)"
            )
    for name, st in sc.stages.items():
        cap = st.carriers.capacity if st.carriers is not None else None
        if cap is not None and not isinstance(cap, int | tuple) and cap.practical_range()[1] > MAX_COUNT:
            problems.append(
                f"stages.{name}.carriers.capacity: draws reach {cap.practical_range()[1]:.3g} slots, "
                f"more than {MAX_COUNT:,}"
            )
    return problems


def _trap_problems(sc: Scenario) -> list[str]:
    """Stages from which a firm can never fail or exit (it would circulate for ever)."""
    can_end = {n for n, st in sc.stages.items() if st.failure is not None}
    edges: dict[str, set[str]] = {n: set() for n in sc.stages}
    for n, st in sc.stages.items():
        for route in (st.on_graduation, st.on_timeout):
            for dest, p in (route or {}).items():
                if p > 0:
                    if dest == EXIT:
                        can_end.add(n)
                    else:
                        edges[n].add(dest)
        if st.carriers is not None:
            fb = sc.fallback_of(n)
            if fb == EXIT:
                can_end.add(n)
    changed = True
    while changed:
        changed = False
        for n in sc.stages:
            if n not in can_end and edges[n] & can_end:
                can_end.add(n)
                changed = True
    # A stage with no failure, no exit route and no graduation is a legitimate place to settle only if
    # firms can stay there indefinitely by design (no stay limit, no graduation): flag loops, not sinks.
    return [
        f"stages.{n}: no way out (firms entering it can never fail or exit)"
        for n, st in sc.stages.items()
        if n not in can_end and (st.graduation is not None or st.max_stay_years is not None)
    ]


def parse_scenario(data: Mapping[str, Any], source: str | None = None) -> Scenario:
    """Validate a scenario given as a dict (as read from TOML). Raises :class:`ScenarioError`."""
    try:
        sc = Scenario.model_validate(dict(data))
    except ValidationError as exc:
        lines = format_validation_error(exc, _TAGS)
        raise ScenarioError([f"{source}: {ln}" if source else ln for ln in lines]) from None
    problems = _semantic_problems(sc)
    if problems:
        raise ScenarioError([f"{source}: {ln}" if source else ln for ln in problems])
    if any(st.admission.fallback is None for st in sc.stages.values()):
        # Make the default fallbacks explicit, so the object equals its resolved file.
        sc = Scenario.model_validate(sc.to_dict())
    return sc


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


MAX_FILE_BYTES = 10_000_000
"""Largest scenario file read (10 MB; the shipped ones are a few kB)."""

MAX_EXTENDS = 32
"""Longest chain of ``extends``."""


def read_text_file(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes; :class:`ScenarioError` otherwise.

    Opened without blocking and checked before reading, so a FIFO, a device (``/dev/zero``) or a
    directory is refused at once instead of hanging or filling the memory.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ScenarioError([f"{path}: file not found"]) from None
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot read ({exc.strerror})"]) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise ScenarioError([f"{path}: cannot read ({'a directory' if stat.S_ISDIR(mode) else 'not a regular file'})"])
    with os.fdopen(fd, "rb") as fh:
        try:
            data = fh.read(limit + 1)
        except OSError as exc:
            raise ScenarioError([f"{path}: cannot read ({exc.strerror})"]) from None
    if len(data) > limit:
        raise ScenarioError([f"{path}: larger than {limit:,} bytes; not read"])
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ScenarioError([f"{path}: is UTF-16 text; save it as UTF-8"])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            [f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); save it as UTF-8"]
        ) from None


def _read_toml(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):  # a symbolic-link loop
        raise ScenarioError([f"{path}: cannot read (symbolic-link loop)"]) from None
    if resolved in chain:
        raise ScenarioError([f"{path}: extends: circular ({' -> '.join(p.name for p in (*chain, path))})"])
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError([f"{path}: extends: chain longer than {MAX_EXTENDS} files"])
    text = read_text_file(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"{path}: not valid TOML: {exc}"]) from None
    except RecursionError:
        raise ScenarioError([f"{path}: not valid TOML: arrays or tables nested too deeply"]) from None
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError([f"{path}: extends: must be a file name, got {parent!r}"])
    base = _read_toml(path.parent / parent, (*chain, resolved))
    return _deep_merge(base, data)


def read_scenario_toml(path: str | Path) -> dict[str, Any]:
    """A scenario file as a dict, its ``extends`` chain merged in (not validated)."""
    return _read_toml(Path(path))


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    A file may start from another with ``extends = "other.toml"`` (a path relative to it): tables are
    merged key by key, and any other value (lists included) replaces the parent's. An ``[uncertainty]``
    table is not part of the scenario: :func:`sim.uncertainty.load_uncertainty` reads and checks it.
    """
    data = _read_toml(Path(path))
    data.pop("uncertainty", None)
    return parse_scenario(data, source=str(path))


DEFAULT_SCENARIO_PATH = Path(__file__).parent / "data" / "jiangsu.toml"


def default_scenario() -> Scenario:
    """The embedded default: a Jiangsu-scale province (``scenarios/jiangsu.toml``)."""
    return load_scenario(DEFAULT_SCENARIO_PATH)


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of the scenario file format (for editors)."""
    schema: dict[str, Any] = Scenario.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "incuchain scenario"
    return schema
