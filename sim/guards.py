"""Resource guards: estimate what a run will hold in memory before it starts; refuse what cannot fit.

A replication keeps its whole event log in memory, so its size follows from the scenario: the
expected firms (arrival rates integrated over the horizon, times the largest arrival multiplier of
any policy, plus the initial stock and competition winners), about :data:`EVENTS_PER_FIRM` events
each, and the carriers (those of the start plus the expected openings). An experiment holds one
replication per worker at a time and a summary of every replication. :func:`check_resources`
compares the estimate with a limit (default: half the machine's memory, :func:`default_memory_limit`)
and refuses above it, with one line; above half the limit it returns a warning.

The constants were measured with ``bench/memory_per_event.py`` (peak resident memory of one
replication of ``scenarios/jiangsu.toml`` and of ``scenarios/tutorial.toml`` at 20 times its arrival
rates, against the event count), rounded up.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import ScenarioError
from .policies import ArrivalMultiplier, Competition, ConstructionSubsidy
from .scenario import Scenario, rate_steps

__all__ = [
    "BYTES_PER_CARRIER",
    "BYTES_PER_EVENT",
    "EVENTS_PER_FIRM",
    "PROCESS_BYTES",
    "Estimate",
    "check_resources",
    "default_memory_limit",
    "estimate",
    "format_bytes",
    "parse_bytes",
]

EVENTS_PER_FIRM = 8.0
"""Log rows per firm (measured 5.2 to 6.0 on the shipped scenarios; rounded up)."""

BYTES_PER_EVENT = 500.0
"""Peak memory per log row, the derived tables and the written files included (measured about 340)."""

BYTES_PER_CARRIER = 2000.0
"""Memory per carrier and its yearly life-cycle rows (an upper bound)."""

PROCESS_BYTES = 150e6
"""A worker process with the package imported (measured 146 MB resident)."""

BYTES_PER_SUMMARY_VALUE = 200.0
"""One number of a replication's summary, held until the experiment's tables are made."""


@dataclass(frozen=True)
class Estimate:
    """Expected size of one replication of a scenario.

    Attributes
    ----------
    firms:
        Expected firms (arrivals over the horizon, initial stock, competition winners).
    events:
        Expected rows of the event log.
    carriers:
        Carriers at the start plus expected openings.
    summary_values:
        Numbers in the replication's summary (about 15 per stage, plus the system-wide ones).
    """

    firms: float
    events: float
    carriers: float
    summary_values: float

    @property
    def replication_bytes(self) -> float:
        """Peak memory of simulating one replication, bytes."""
        return self.events * BYTES_PER_EVENT + self.carriers * BYTES_PER_CARRIER


def _expected_arrivals(rate: float | dict[str, float], sc: Scenario) -> float:
    times, rates = rate_steps(rate, sc.calendar)
    horizon = sc.calendar.horizon_years
    edges = [0.0, *(min(t, horizon) for t in times), horizon]
    return math.fsum(r * max(0.0, b - a) for r, a, b in zip(rates, edges, edges[1:], strict=False))


def estimate(sc: Scenario) -> Estimate:
    """The expected size of one replication of ``sc`` (see the module docstring)."""
    boost = 1.0
    for pol in sc.policies:
        if isinstance(pol, ArrivalMultiplier):
            boost *= max(1.0, pol.factor)
    firms = boost * math.fsum(_expected_arrivals(a.rate_per_year, sc) for a in sc.arrivals)
    firms += sum(s.count for s in sc.initial_stock)
    firms += sum(p.winners_per_event * len(p.dates) for p in sc.policies if isinstance(p, Competition))
    opening_boost = 1.0
    for pol in sc.policies:
        if isinstance(pol, ConstructionSubsidy):
            opening_boost *= max(1.0, pol.opening_rate_factor)
    carriers = 0.0
    for st in sc.stages.values():
        if st.carriers is None:
            continue
        carriers += st.carriers.count
        if st.carriers.lifecycle is not None:
            carriers += opening_boost * _expected_arrivals(st.carriers.lifecycle.opening_rate_per_year, sc)
    events = EVENTS_PER_FIRM * firms + 2.0 * carriers * sc.calendar.horizon_years
    return Estimate(firms, events, carriers, 40.0 + 15.0 * len(sc.stages))


def default_memory_limit() -> int:
    """Half the machine's physical memory, bytes (8 GB where it cannot be read)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")) // 2
    except (AttributeError, ValueError, OSError):
        return 8 * 1024**3


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_bytes(text: str) -> int:
    """``"4G"``, ``"512M"``, ``"2.5GB"`` or a number of bytes -> bytes (binary units)."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(?:i?B)?\s*", text, flags=re.IGNORECASE)
    if match is None:
        raise ValueError(f"must be a size such as 4G or 512M, got {text!r}")
    value = float(match[1]) * _UNITS[match[2].upper()]
    if not 0 < value < 2**63:
        raise ValueError(f"must be > 0 and below 8 EiB, got {text!r}")
    return int(value)


def format_bytes(n: float) -> str:
    """Bytes, readably (``1.5 GB``; binary units)."""
    for unit, size in (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def check_resources(
    scenarios: Sequence[Scenario],
    replications: int = 1,
    workers: int = 1,
    max_memory: int | None = None,
    logs_per_task: int = 1,
) -> list[str]:
    """Refuse a run whose estimated memory exceeds ``max_memory``; warn above half of it.

    Parameters
    ----------
    scenarios:
        The scenarios that run (the largest replication counts).
    replications:
        Replications in all (every arm's).
    workers:
        Replications in memory at once (worker processes).
    max_memory:
        The limit, bytes (default :func:`default_memory_limit`).
    logs_per_task:
        Replications a task holds in memory at once (2 for a decomposition: the scenario and its
        untreated world).

    Returns
    -------
    list of str
        Warnings (one line each): the estimate is above half the limit.

    Raises
    ------
    ScenarioError
        One line: the estimate exceeds the limit, with what drives it.
    """
    limit = default_memory_limit() if max_memory is None else max_memory
    sizes = [estimate(sc) for sc in scenarios]
    big = max(sizes, key=lambda e: e.replication_bytes)
    parallel = max(1, min(workers, replications))
    total = (
        parallel * (PROCESS_BYTES + logs_per_task * big.replication_bytes)
        + replications * max(e.summary_values for e in sizes) * BYTES_PER_SUMMARY_VALUE
    )
    what = (
        f"estimated memory {format_bytes(total)}: {big.firms:,.0f} firms, {big.events:,.0f} events and "
        f"{big.carriers:,.0f} carriers a replication, {parallel:,} at once, {replications:,} in all"
    )
    if not total <= limit:  # 'not <=' also catches NaN
        raise ScenarioError(
            [
                f"{what}; more than the limit of {format_bytes(limit)}: shorten the horizon, lower the rates, "
                "counts or --reps, or raise --max-memory"
            ]
        )
    if total > limit / 2:
        return [f"warning: {what} (the limit is {format_bytes(limit)})"]
    return []
