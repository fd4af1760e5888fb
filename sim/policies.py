"""Policy instruments and shocks: what a scenario's ``[[policies]]`` and ``[[shocks]]`` entries may say.

Each policy type is a small frozen model with its parameters (validated when the scenario is read),
a documented effect on the engine and a cost rule; the budget ledger (:mod:`sim.budget`) applies the
cost rules. A policy is in force on ``[start, end)`` (calendar dates; none = the scenario's start /
never ends). Default effect sizes cite docs/sources.md section E where it speaks to a size and are
otherwise marked *assumption*. See ``docs/policies.md`` for the same in prose.

Money is in yuan, time in years. A shock (:class:`Shock`) is a time-windowed change that no policy
causes (an epidemic, a downturn): it has effects but no cost.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .calendar import CalendarDate
from .distributions import Distribution, DurationDistribution, Fixed, Normal, Real

__all__ = [
    "POLICY_TYPES",
    "AngelFund",
    "ArrivalMultiplier",
    "CapacityChange",
    "ChainLinkage",
    "Competition",
    "ConstructionSubsidy",
    "GmMatching",
    "HazardMultiplier",
    "PerformanceSubsidy",
    "Policy",
    "RentRelief",
    "Shock",
    "Specialisation",
    "Target",
    "TaxRelief",
    "policy_name",
]

Level = Literal["municipal", "provincial", "national"]
Factor = Annotated[Real, Field(ge=0, le=1e6)]
"""A multiplier of a hazard or a rate: up to a million (larger ones overflow once combined)."""
Yuan = Annotated[Real, Field(ge=0, le=1e15)]
"""An amount of money: up to 1e15 yuan (ten times China's yearly GDP), so that sums stay finite."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Target(_Frozen):
    """Which firms or carriers a policy touches; an empty field means 'all'."""

    stages: tuple[str, ...] | None = None
    levels: tuple[Level, ...] | None = None
    specialised: bool | None = Field(None, description="only (un)specialised carriers")
    sectors: tuple[str, ...] | None = Field(None, description="only firms of these sectors")
    specialism_match: bool | None = Field(
        None, description="only firms whose sector is (true) or is not (false) their carrier's specialism"
    )


class _PolicyBase(_Frozen):
    name: str | None = Field(None, description="name in the ledger and summaries (default '<type>_<index>')")
    start: CalendarDate | None = Field(None, description="first day in force (none = scenario start)")
    end: CalendarDate | None = Field(None, description="first day no longer in force (none = never ends)")


class _YearlyCost(_PolicyBase):
    cost_per_year_yuan: Yuan = Field(
        0.0,
        description="programme cost, yuan per year in force; paid at the start of each policy year, "
        "pro rata for a last part-year or the part before the horizon",
    )


class HazardMultiplier(_YearlyCost):
    """Multiply a hazard of the targeted firms by ``factor`` while in force.

    Cost: ``cost_per_year_yuan`` per year in force (default 0).
    """

    type: Literal["hazard_multiplier"] = "hazard_multiplier"
    hazard: Literal["failure", "graduation"]
    factor: Factor
    target: Target = Field(default_factory=Target)


class ArrivalMultiplier(_YearlyCost):
    """Multiply the rate of the named arrival streams (all if none named) by ``factor``.

    Cost: ``cost_per_year_yuan`` per year in force (default 0).
    """

    type: Literal["arrival_multiplier"] = "arrival_multiplier"
    factor: Factor
    arrivals: tuple[str, ...] | None = None


class CapacityChange(_YearlyCost):
    """Multiply the capacity of the targeted carriers by ``factor`` (rounded, at least 1).

    Cost: ``cost_per_year_yuan`` per year in force (default 0).
    """

    type: Literal["capacity_change"] = "capacity_change"
    factor: Real = Field(gt=0, le=1e6)
    target: Target = Field(default_factory=Target)


class RentRelief(_PolicyBase):
    """Carriers waive their tenants' rent during a shock and are refunded part of it.

    Seed instrument: Suzhou Industrial Park, 2020 -- private carriers that waived rent and property
    fees from February to June 2020 were refunded up to 50 % of what they waived, capped at 500,000
    yuan per carrier (docs/sources.md).

    Effect: while in force, the failure hazard of firms holding a slot in a carrier of the targeted
    stages is multiplied by ``failure_factor`` (assumption: 0.8; docs/sources.md section E finds no
    survival effect of cash and co-working alone in Start-Up Chile, so a factor near 1 is defensible
    too). Firms without a carrier (the market) are not tenants and are not touched.

    Cost: per carrier, ``min(cap_per_carrier_yuan, refund_share * rent_per_tenant_year_yuan *
    tenant-years)``, with tenant-years the time its tenants spent in it inside ``[start, end)``; paid
    to the carrier at ``end`` (``end`` is required). A payment due after the horizon is not in the run.
    """

    type: Literal["rent_relief"] = "rent_relief"
    end: CalendarDate = Field(description="first day the relief no longer covers (required: payments fall then)")
    rent_per_tenant_year_yuan: Yuan = Field(
        30_000.0, description="rent a carrier waives per tenant and year, yuan (assumption)"
    )
    refund_share: Annotated[Real, Field(ge=0, le=1)] = Field(
        0.5, description="share of the waived rent refunded (seed: 50 %)"
    )
    cap_per_carrier_yuan: Yuan = Field(500_000.0, description="most refunded per carrier, yuan (seed: 500,000)")
    failure_factor: Factor = Field(0.8, description="tenants' failure hazard multiplier while in force (assumption)")
    target: Target = Field(default_factory=Target)


class Specialisation(_PolicyBase):
    """Firms placed in a carrier specialised in their own sector fare better there.

    Effect: while in force, a resident firm whose sector is its carrier's specialism has its failure
    hazard x ``failure_factor`` and its graduation hazard x ``graduation_factor`` (defaults 0.9 and
    1.1: assumption; docs/sources.md section E gives no size for specialised carriers). ``target``
    narrows it further (stages, levels, sectors). Cost: none.
    """

    type: Literal["specialisation"] = "specialisation"
    failure_factor: Factor = Field(0.9, description="failure hazard multiplier on a sector match (assumption)")
    graduation_factor: Factor = Field(1.1, description="graduation hazard multiplier on a sector match (assumption)")
    target: Target = Field(default_factory=Target)


class ChainLinkage(_YearlyCost):
    """Graduates of one stage get priority at the next: they go to the front of its waiting list.

    Effect: while in force, a firm that graduates from ``from_stage`` and finds ``to_stage`` full joins
    its waiting list ahead of the firms from elsewhere (behind earlier linked graduates still waiting);
    screening and the list's limit still apply. Cost: ``cost_per_year_yuan`` for coordination
    (default 0; assumption).
    """

    type: Literal["chain_linkage"] = "chain_linkage"
    from_stage: str = Field(description="stage whose graduates get priority")
    to_stage: str = Field(description="stage where they get it (must queue: admission.on_full = 'queue')")


class GmMatching(_PolicyBase):
    """Team completion: firms lacking an experienced general manager are matched with one.

    Whether a firm lacks one is an attribute drawn once per firm (its own uniform from the
    ``manager_gap`` stream, against ``share_lacking``). While in force, a lacking firm admitted to a
    targeted stage is matched (an ``attribute`` event, info = the policy's index in the scenario); from
    then on, in every stage, its failure hazard is x ``failure_factor`` and its graduation hazard x
    ``graduation_factor``. A firm is matched at most once. Firms of the initial stock are admitted
    before any policy switches on, so they are not matched on their first admission.

    Defaults: ``share_lacking`` 0.5, ``failure_factor`` 0.9, ``graduation_factor`` 1.2 and
    ``cost_per_match_yuan`` 50,000 are assumptions (docs/sources.md section E: training raised the
    probability of raising capital by up to 45 % in Start-Up Chile, with no effect on survival; a
    manager is closer to training than to cash, hence a graduation effect well below +45 % and a small
    failure effect).

    Cost: ``cost_per_match_yuan`` paid to the firm when it is matched.
    """

    type: Literal["gm_matching"] = "gm_matching"
    share_lacking: Annotated[Real, Field(ge=0, le=1)] = Field(
        0.5, description="share of firms lacking an experienced manager (assumption)"
    )
    failure_factor: Factor = Field(0.9, description="matched firms' failure hazard multiplier (assumption)")
    graduation_factor: Factor = Field(1.2, description="matched firms' graduation hazard multiplier (assumption)")
    cost_per_match_yuan: Yuan = Field(50_000.0, description="paid per match, yuan (assumption)")
    target: Target = Field(default_factory=Target)


class AngelFund(_PolicyBase):
    """A public angel fund invests in promising tenants when they are admitted.

    While in force, a firm admitted to a targeted stage whose signal ``q + noise_sd * Z`` (latent
    quality plus its own standard normal from the ``angel_signal`` stream) reaches ``threshold`` is
    funded (an ``attribute`` event, info = the policy's index), unless this policy year's budget is
    spent. A firm is funded at most once. Financing counts toward graduation: for the rest of that
    stay its graduation hazard is x ``graduation_factor``. Initial stock is admitted before policies
    switch on at time 0, so it is considered only when it enters a later stage.

    Defaults: ``threshold`` 1.0 and ``noise_sd`` 0.5 (assumption: about the best sixth of firms by
    signal), ``amount_per_firm_yuan`` 200,000 (assumption), ``graduation_factor`` 1.2 (assumption;
    docs/sources.md section E: cash alone had no effect in Start-Up Chile, training raised capital
    raising by up to 45 %, so financing that counts toward graduation is given a modest push).

    Cost: ``amount_per_firm_yuan`` to the firm when funded; at most ``budget_per_year_yuan`` per
    policy year (``start``, ``start + 1``, ...; none = no cap).
    """

    type: Literal["angel_fund"] = "angel_fund"
    threshold: Real = Field(1.0, allow_inf_nan=False, description="signal needed, in units of quality (assumption)")
    noise_sd: Real = Field(0.5, ge=0, allow_inf_nan=False, description="sd of the signal's noise (assumption)")
    amount_per_firm_yuan: Yuan = Field(200_000.0, description="invested per funded firm, yuan (assumption)")
    budget_per_year_yuan: Yuan | None = Field(None, description="most invested per policy year, yuan (none = no cap)")
    graduation_factor: Factor = Field(1.2, description="graduation hazard multiplier while funded (assumption)")
    target: Target = Field(default_factory=Target)


class Competition(_PolicyBase):
    """A start-up competition: on each date, a batch of selected projects enters a stage, fast-tracked.

    Effect: on each of ``dates`` (within ``[start, end)`` and the horizon), ``winners_per_event`` new
    firms arrive at ``stage`` with quality drawn from ``quality`` (default Normal(1, 0.5): selected,
    better than the usual entrant; assumption) and are fast-tracked: no screening, and the front of
    the waiting list if the stage is full (behind earlier fast-tracked firms; if the list is full they
    go to the fallback). Each competition is its own firm source, numbered after the arrival streams
    and the initial stock, so the other sources' random numbers are unchanged.

    Cost: per event, ``organising_cost_yuan`` to the programme and ``prize_per_winner_yuan`` to each
    winner, paid on the date (defaults 300,000 and 100,000 yuan: assumption).
    """

    type: Literal["competition"] = "competition"
    stage: str = Field(description="stage the winners enter")
    dates: tuple[CalendarDate, ...] = Field(min_length=1, description="dates of the intake events")
    winners_per_event: Annotated[int, Field(ge=0, le=1_000_000_000, strict=True)] = Field(
        10, description="projects per event"
    )
    quality: Distribution = Field(
        default_factory=lambda: Normal(mean_=1.0, sd=0.5), description="winners' latent quality (assumption)"
    )
    sectors: dict[str, Annotated[Real, Field(ge=0, le=1)]] | None = Field(
        None, description="sector mix of winners (default firms.sectors)"
    )
    age_years: DurationDistribution = Field(default_factory=lambda: Fixed(value=0.0), description="age, years")
    prize_per_winner_yuan: Yuan = Field(100_000.0, description="prize per winner, yuan (assumption)")
    organising_cost_yuan: Yuan = Field(300_000.0, description="organising cost per event, yuan (assumption)")


class ConstructionSubsidy(_PolicyBase):
    """One-off grants for new carriers and newly recognised levels; more carriers open while in force.

    Seed instrument: Suzhou, 2020 rules (docs/sources.md): a newly filed municipal maker space gets
    200,000 yuan and a new municipal incubator 500,000; a carrier newly recognised at provincial level
    250,000 and at national level 450,000, paid as a top-up ("difference subsidy"), at most 1,000,000
    yuan per carrier in all.

    Effect: while in force, the opening rate of carriers in the targeted stages (their
    ``carriers.lifecycle.opening_rate_per_year``) is x ``opening_rate_factor`` (assumption: 1.2; the
    sources give no elasticity of openings to the grant).

    Cost: when a carrier of a targeted stage opens inside ``[start, end)``, ``new_carrier_yuan[stage]``;
    when one is promoted to a level inside the window, the top-up ``level_award_yuan[level]`` minus the
    level awards it already had (a carrier that starts the run at a level is taken to have had that
    level's award before the run); every carrier's payments stop at ``cap_per_carrier_yuan``. Paid to
    the carrier on the day. Needs the targeted stages to have a carrier life cycle.
    """

    type: Literal["construction_subsidy"] = "construction_subsidy"
    new_carrier_yuan: dict[str, Yuan] = Field(
        default_factory=lambda: {"maker_space": 200_000.0, "incubator": 500_000.0},
        description="grant to a newly opened carrier, by stage, yuan (seed: maker space 200,000, incubator 500,000)",
    )
    level_award_yuan: dict[Level, Yuan] = Field(
        default_factory=lambda: {"provincial": 250_000.0, "national": 450_000.0},  # type: ignore[arg-type]
        description="award for a newly recognised level, paid as a top-up, yuan (seed: 250,000 and 450,000)",
    )
    cap_per_carrier_yuan: Yuan = Field(1_000_000.0, description="most paid to one carrier, yuan (seed: 1,000,000)")
    opening_rate_factor: Factor = Field(1.2, description="opening rate multiplier while in force (assumption)")
    target: Target = Field(default_factory=Target)


class PerformanceSubsidy(_PolicyBase):
    """A yearly reward for carriers rated qualified or better, which buys them better services.

    Seed instrument: Suzhou (docs/sources.md): maker spaces and incubators are rated every year by
    an independent evaluator; those rated "qualified" or better receive up to 500,000 yuan a year.

    The rating is the carrier life cycle's yearly evaluation (``carriers.lifecycle.evaluation``), made
    on measured results of the past year, so it feeds back: money -> better services -> better
    results -> better ratings. Effect: a carrier of the targeted stages (and levels) paid at an
    evaluation inside ``[start, end)`` has its tenants' failure hazard x ``failure_factor`` and
    graduation hazard x ``graduation_factor`` until the next evaluation (assumptions: 0.95 and 1.1;
    docs/sources.md section E: services such as training raised capital raising by up to 45 % in
    Start-Up Chile, with no effect on survival, hence a small failure effect).

    Cost: ``excellent_yuan`` (seed: the 500,000 cap) to a carrier rated excellent and
    ``qualified_yuan`` (assumption: 200,000) to one rated qualified, paid at the evaluation.
    """

    type: Literal["performance_subsidy"] = "performance_subsidy"
    qualified_yuan: Yuan = Field(200_000.0, description="paid to a carrier rated qualified, yuan (assumption)")
    excellent_yuan: Yuan = Field(500_000.0, description="paid to a carrier rated excellent, yuan (seed: the cap)")
    failure_factor: Factor = Field(0.95, description="paid carriers' tenants' failure multiplier (assumption)")
    graduation_factor: Factor = Field(1.1, description="paid carriers' tenants' graduation multiplier (assumption)")
    target: Target = Field(default_factory=Target)


class TaxRelief(_PolicyBase):
    """Property, land-use and VAT relief for recognised carriers: forgone revenue, fewer closures.

    Seed instrument: Ministry of Finance et al. 2018 No. 120 (docs/sources.md): recognised
    (national-level) incubators, university science parks and maker spaces are exempt from property
    tax, urban land-use tax and VAT on their incubation income. Default target: national level.

    Effect: while in force, the yearly closure hazard of a targeted carrier is x ``closure_factor``
    (assumption: 0.7; no source gives the size).

    Cost: ``yuan_per_carrier_year`` for each year a targeted carrier is open inside ``[start, end)``
    (pro rata for part-years), booked to the carrier at each anniversary of the scenario's start for
    the year before it, and at the window's end or the horizon for a last part-year. Default 500,000
    yuan (assumption: a national incubator has >= 10,000 m2 (docs/sources.md D); property tax of 1.2 %
    on 70 % of a building value of ~5,000 yuan/m2 is ~420,000 yuan a year, plus land-use tax and VAT
    on rent).
    """

    type: Literal["tax_relief"] = "tax_relief"
    yuan_per_carrier_year: Yuan = Field(500_000.0, description="tax forgone per carrier and year, yuan (assumption)")
    closure_factor: Factor = Field(0.7, description="closure hazard multiplier while in force (assumption)")
    target: Target = Field(default_factory=lambda: Target(levels=("national",)))


Policy = Annotated[
    HazardMultiplier
    | ArrivalMultiplier
    | CapacityChange
    | RentRelief
    | Specialisation
    | ChainLinkage
    | GmMatching
    | AngelFund
    | Competition
    | ConstructionSubsidy
    | PerformanceSubsidy
    | TaxRelief,
    Field(discriminator="type"),
]
POLICY_TYPES = (
    "hazard_multiplier",
    "arrival_multiplier",
    "capacity_change",
    "rent_relief",
    "specialisation",
    "chain_linkage",
    "gm_matching",
    "angel_fund",
    "competition",
    "construction_subsidy",
    "performance_subsidy",
    "tax_relief",
)


class Shock(_Frozen):
    """A time-windowed change not caused by policy (e.g. the 2020 epidemic); no cost.

    While in force the failure hazard of a firm of sector ``s`` is multiplied by
    ``failure_by_sector[s]`` (``failure_factor`` for sectors not listed), and likewise its graduation
    hazard, in every stage. Factors default to 1 (no change).
    """

    name: str = Field(description="name of the shock, e.g. 'covid_2020h1'")
    start: CalendarDate = Field(description="first day of the shock")
    end: CalendarDate = Field(description="first day after the shock")
    failure_factor: Factor = Field(1.0, description="failure hazard multiplier for sectors not listed")
    failure_by_sector: dict[str, Factor] = Field(default_factory=dict, description="failure multiplier by sector")
    graduation_factor: Factor = Field(1.0, description="graduation hazard multiplier for sectors not listed")
    graduation_by_sector: dict[str, Factor] = Field(default_factory=dict, description="graduation multiplier by sector")


def policy_name(policy: Policy, index: int) -> str:
    """The policy's name in the ledger and summaries: its ``name``, else ``<type>_<index>``."""
    return policy.name if policy.name is not None else f"{policy.type}_{index}"
