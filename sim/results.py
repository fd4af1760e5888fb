"""The result of one replication: the event log and the tables derived from it."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from .budget import budget_summary, budget_summary_of_payments, ledger_table, payments
from .event_log import CarrierInfo, SimOutput, events_arrow, events_frame, gather_events
from .lifecycle import carrier_counts_table, carrier_events_table, lifecycle_summary
from .outcomes import FirmOutcomes, add_carrier_outcomes, derive_outcomes
from .scenario import Scenario
from .summary import Metric, RunSummary, ordered_metrics
from .tables import (
    SUMMARY_READS,
    firm_fates,
    firm_table,
    graduates_by_year,
    log_summary,
    run_summary,
    stage_timeseries,
)

if TYPE_CHECKING:
    from .plot import RunPlots

__all__ = ["RunResult"]


class RunResult:
    """One replication of a scenario.

    Attributes
    ----------
    scenario, seed, replication:
        What produced it (a replication is a pure function of these three).
    events:
        The event log (one row per event); see ``docs/tables.md`` for the columns.
    firms:
        One row per firm.
    timeseries:
        Per month and stage: stocks and flows.
    carriers:
        One row per carrier as set up when it opened (the start, or during the run), with its tenants at
        the horizon, graduates and failures (from the log).
    outcomes:
        Milestones, listings and jobs (:mod:`sim.outcomes`), also columns of ``firms``, ``timeseries``
        and metrics of ``summary()``.
    carrier_events, carrier_counts:
        The carrier life cycle: one row per event, and open carriers by stage and level over time.
    ledger:
        The budget ledger: one row per policy payment (see :mod:`sim.budget`).
    """

    def __init__(self, scenario: Scenario, seed: int, replication: int, output: SimOutput, wall_seconds: float) -> None:
        self.scenario = scenario
        self.seed = seed
        self.replication = replication
        self.output = output
        self.wall_seconds = wall_seconds
        self._summary: RunSummary | None = None

    @functools.cached_property
    def columns(self) -> dict[str, np.ndarray]:
        """The event log's columns as numpy arrays (unpacked once; every table reads them)."""
        return self.output.log.columns()

    @functools.cached_property
    def _fates(self) -> dict[str, np.ndarray]:
        """Per firm: arrival, outcome and its time, ... (:func:`sim.tables.firm_fates`; read by several tables)."""
        return firm_fates(self.output, self.columns)

    @functools.cached_property
    def events(self) -> pd.DataFrame:
        """The event log as a DataFrame."""
        return events_frame(self.columns, self.output.stage_names, self.scenario.name, self.replication)

    def events_arrow(self) -> pa.Table:
        """The event log as an Arrow table (what ``events.parquet`` holds), without building :attr:`events`."""
        return events_arrow(self.columns, self.output.stage_names, self.scenario.name, self.replication)

    @functools.cached_property
    def outcomes(self) -> FirmOutcomes:
        """Milestones, listings and jobs, derived from the log (see :func:`sim.outcomes.derive_outcomes`)."""
        return derive_outcomes(self.scenario, self.output, self.seed, self.replication, self.columns, self._fates)

    @functools.cached_property
    def firms(self) -> pd.DataFrame:
        """One row per firm (see :func:`sim.tables.firm_table`)."""
        return firm_table(
            self.output,
            self.scenario.name,
            self.replication,
            self.scenario.calendar.warmup_years,
            self.outcomes,
            self.columns,
            self._fates,
        )

    @functools.cached_property
    def timeseries(self) -> pd.DataFrame:
        """Per month and stage (see :func:`sim.tables.stage_timeseries`)."""
        return stage_timeseries(
            self.output,
            self.scenario.name,
            self.replication,
            outcomes=self.outcomes,
            cols=self.columns,
            graduates_before=self._before,
        )

    @property
    def _before(self) -> dict[str, int]:
        """Graduates before the start, per stage with carriers and a graduation hazard (cumulative counts)."""
        return {
            n: st.carriers.graduates_before_start
            for n, st in self.scenario.stages.items()
            if st.carriers is not None and st.graduation is not None
        }

    @functools.cached_property
    def carriers(self) -> pd.DataFrame:
        """One row per carrier: id, stage, level, specialism, capacity."""
        rows: list[CarrierInfo] = self.output.carriers
        frame = pd.DataFrame(
            {
                "scenario": self.scenario.name,
                "replication": self.replication,
                "carrier": [c.id for c in rows],
                "stage": [c.stage for c in rows],
                "level": [c.level for c in rows],
                "specialism": [c.specialism for c in rows],
                "capacity": [c.capacity for c in rows],
                "opened_years": [c.opened_years for c in rows],
            }
        )
        # tenants at the horizon, graduates and failures, counted from the log by carrier id
        return add_carrier_outcomes(frame, self.output, self.columns)

    @functools.cached_property
    def carrier_events(self) -> pd.DataFrame:
        """One row per carrier life-cycle event (see :func:`sim.lifecycle.carrier_events_table`)."""
        return carrier_events_table(
            self.output, self.scenario.name, self.replication, self.scenario.calendar.start_year
        )

    @functools.cached_property
    def carrier_counts(self) -> pd.DataFrame:
        """Open carriers by stage and level, monthly (see :func:`sim.lifecycle.carrier_counts_table`)."""
        return carrier_counts_table(self.output, self.scenario.name, self.replication)

    @functools.cached_property
    def _payments(self) -> pd.DataFrame:
        return payments(self.scenario, self.output, self.columns)

    @functools.cached_property
    def ledger(self) -> pd.DataFrame:
        """One row per policy payment, yuan (see :func:`sim.budget.ledger_table`)."""
        return ledger_table(self.scenario, self.output, self.replication, pays=self._payments)

    @functools.cached_property
    def plot(self) -> RunPlots:
        """Figures of this replication: ``res.plot.flow()``, ``.occupancy()``, ``.survival()``, ``.carriers()``."""
        from .plot import RunPlots  # imported on first use: results do not load matplotlib

        return RunPlots(self)

    def summary(self) -> RunSummary:
        """The run's summary: one flat, typed record (:class:`sim.summary.RunSummary`).

        Per-stage flows, stays and occupancy (``stages.<stage>.<measure>``), overall outcomes, survival
        (``survival.<group>.<t>y``), milestones, listings and jobs, cumulative graduates; with policies,
        ``budget.total_yuan`` and ``budget.policy.<name>`` (yuan, the ledger's totals); with a carrier
        life cycle, ``carriers.<stage>.*``. The names are the columns of an experiment's ``summary.csv``.
        """
        if self._summary is not None:  # kept on the result itself: a cache outside it would keep every result alive
            return self._summary
        # Straight from the log: no firm table, no dated ledger (tables built on request only)
        gather_events(self.columns, SUMMARY_READS)
        body = log_summary(self.output, self.scenario.calendar.warmup_years, self.outcomes, self.columns, self._fates)
        if self.scenario.policies:
            budget = budget_summary_of_payments(self.scenario, self._payments)
        self._summary = self._assemble(body, budget if self.scenario.policies else None)
        return self._summary

    def summary_from_tables(self) -> RunSummary:
        """:meth:`summary` computed the long way, from the firm table and the dated ledger.

        The same record to the last bit (``tests/outcomes/test_fast_summary.py`` checks it); kept as the
        reference the quick path is held to, and built afresh on every call.
        """
        body = run_summary(self.output, self.firms, self.scenario.calendar.warmup_years, self.outcomes, self.columns)
        return self._assemble(body, budget_summary(self.scenario, self.ledger) if self.scenario.policies else None)

    def _assemble(self, body: dict[str, Metric], budget: dict[str, float] | None) -> RunSummary:
        more = graduates_by_year(self.output, self._before, self.scenario.calendar.start_year, self.columns)
        living = tuple(n for n, st in self.scenario.stages.items() if st.carriers and st.carriers.lifecycle)
        if living:
            more.update(lifecycle_summary(self.output, living))
        if budget is not None:
            more.update(budget)
        return RunSummary(
            scenario=self.scenario.name,
            seed=self.seed,
            replication=self.replication,
            horizon_years=self.output.horizon,
            warmup_years=self.scenario.calendar.warmup_years,
            metrics=ordered_metrics(body, more),
        )

    def __repr__(self) -> str:
        return (
            f"RunResult(scenario={self.scenario.name!r}, seed={self.seed}, replication={self.replication}, "
            f"firms={len(self.output.firm_source)}, events={len(self.output.log)})"
        )
