"""Paired policy comparisons: variant minus baseline, replication by replication.

Replication ``r`` of the baseline and of the variant share their random streams (common random
numbers, see :mod:`sim.streams`), so each metric's difference is estimated from the ``reps`` paired
differences, with a t interval. To show what pairing buys (on request, ``independent=True``: it costs
``reps`` more replications), the variant is also run on independent streams (replications
``reps .. 2 reps - 1``) and compared with the baseline as two independent samples (Welch interval):
``pairing_ci_ratio`` is that interval's half-width over the paired one's. A ratio of 3 means
independent runs would have needed about 9 times the replications for the same precision.

When the variant adds two or more policies to the baseline, each also runs alone on top of the
baseline, at the same replications (arms ``only-<policy name>``; see :mod:`sim.experiment.instruments`),
so the comparison says what each instrument buys and at what cost per additional outcome. The
instruments' arms are read against the comparison's own baseline and variant replications: nothing
runs twice.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..scenario import Scenario
from ..stats import ci_ratio, mean_ci, paired_difference, welch_difference
from .arms import Arm
from .cost_effectiveness import SPEND, cost_effectiveness_table
from .instruments import Instrument, added_policies, instrument_arms, instruments_table
from .options import RunOptions, Timing, resolve_options
from .runner import ExperimentResult, execute
from .tables import Layout, stats_table

__all__ = ["EFFECT_COLUMNS", "NO_VARIATION", "Comparison", "compare", "compare_size", "effects_table"]

NO_VARIATION = "no variation in the paired differences"
"""The note of a metric whose paired differences are all equal while independent runs vary: pairing
removed all the noise, and ``pairing_ci_ratio`` (a division by zero) is left empty."""

BASELINE, VARIANT, INDEPENDENT = "baseline", "variant", "variant_independent"

EFFECT_COLUMNS = (
    "metric",
    "baseline_mean",
    "variant_mean",
    "diff_mean",
    "diff_se",
    "ci_low",
    "ci_high",
    "n",
    "pairing_ci_ratio",
    "independent_ci_low",
    "independent_ci_high",
    "note",
)
"""Columns of ``effects.csv``."""


@dataclass(frozen=True)
class Comparison:
    """The effects of a variant against a baseline.

    Attributes
    ----------
    effects:
        One row per metric (:data:`EFFECT_COLUMNS`): the means of both arms, the paired difference
        (variant - baseline) with its standard error and interval, ``n`` pairs, the
        independent-streams interval and ``pairing_ci_ratio``.
    experiment:
        The replications behind it (arms ``baseline``, ``variant`` and, when measured,
        ``variant_independent`` and one ``only-<policy name>`` per instrument).
    level:
        Confidence level of the intervals.
    cost_effectiveness:
        When either scenario has a budget (``budget.total_yuan``): the cost per additional outcome
        (:func:`sim.experiment.cost_effectiveness.cost_effectiveness_table`); otherwise None.
    instruments:
        When the instruments ran one by one: per instrument (then ``all``) and priced outcome, the
        paired effect, the spend and the cost per additional outcome
        (:data:`sim.experiment.instruments.INSTRUMENT_COLUMNS`); otherwise None.
    instrument_arms:
        Policy name -> label of the arm running it alone on the baseline (empty when none ran).
    instrument_experiment:
        When the instruments ran fewer replications than the comparison: the baseline and the variant
        over those first replications (read from ``experiment``, not run again) with the instruments'
        arms; None when they are arms of ``experiment``.
    """

    effects: pd.DataFrame
    experiment: ExperimentResult
    level: float
    cost_effectiveness: pd.DataFrame | None = None
    instruments: pd.DataFrame | None = None
    instrument_arms: Mapping[str, str] = field(default_factory=dict)
    instrument_experiment: ExperimentResult | None = None

    def effect(self, metric: str) -> pd.Series:
        """The row of ``effects`` for one metric."""
        rows = self.effects[self.effects["metric"] == metric]
        if rows.empty:
            raise KeyError(f"no metric {metric!r}")
        return rows.iloc[0]

    def instrument_effects(self, name: str) -> pd.DataFrame:
        """Paired effects of one instrument alone against the baseline, on every metric (like ``effects``).

        Raises
        ------
        KeyError
            No arm ran the policy ``name`` alone.
        """
        if name not in self.instrument_arms:
            known = ", ".join(self.instrument_arms) or "none ran"
            raise KeyError(f"no instrument {name!r} (instruments: {known})")
        where = self.instrument_experiment or self.experiment
        return effects_table(where, self.level, variant=self.instrument_arms[name])


def effects_table(
    result: ExperimentResult, level: float = 0.95, *, baseline: str = BASELINE, variant: str = VARIANT
) -> pd.DataFrame:
    """Paired effects of arm ``variant`` against arm ``baseline`` on every metric.

    For the arms ``variant`` and ``baseline``, also the independent-streams check when the experiment
    has the arm ``variant_independent``.
    """
    labels = [a.label for a in result.arms]
    independent = INDEPENDENT in labels and (baseline, variant) == (BASELINE, VARIANT)
    rows = []
    base_metrics = result.summary[result.summary["arm"] == baseline].dropna(axis=1, how="all").columns
    for metric in result.metrics:
        b = result.values(baseline, metric).to_numpy()
        v = result.values(variant, metric).to_numpy()
        paired = paired_difference(b, v, level)
        notes = [paired.note] if paired.note else []
        row = {
            "metric": metric,
            "baseline_mean": mean_ci(b, level).mean,
            "variant_mean": mean_ci(v, level).mean,
            "diff_mean": paired.mean,
            "diff_se": paired.se,
            "ci_low": paired.ci_low,
            "ci_high": paired.ci_high,
            "n": paired.n,
            "pairing_ci_ratio": float("nan"),
            "independent_ci_low": float("nan"),
            "independent_ci_high": float("nan"),
        }
        if independent:
            ind = welch_difference(b, result.values(INDEPENDENT, metric).to_numpy(), level)
            ratio = ci_ratio(ind, paired)
            if math.isinf(ratio):
                notes.append(NO_VARIATION)
                ratio = math.nan
            row["pairing_ci_ratio"] = ratio
            row["independent_ci_low"] = ind.ci_low
            row["independent_ci_high"] = ind.ci_high
        if metric not in base_metrics:
            notes.append("no value in the baseline")
        row["note"] = "; ".join(notes)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))


def _plan(
    baseline: Scenario,
    variant: Scenario,
    reps: int,
    independent: bool,
    per_instrument: bool | None,
    instrument_reps: int | None,
) -> tuple[list[Arm], tuple[Instrument, ...], tuple[Arm, ...], int]:
    """The comparison's arms, its instruments with their arms, and the instruments' replications."""
    arms = [Arm(baseline, BASELINE), Arm(variant, VARIANT)]
    if independent:
        arms.append(Arm(variant, INDEPENDENT, replication_offset=reps))
    if per_instrument is None:
        per_instrument = len(added_policies(baseline, variant)) >= 2
    n_inst = min(reps, 20) if instrument_reps is None else instrument_reps
    if n_inst < 1 or n_inst > reps:
        raise ValueError(f"instrument_reps: must be between 1 and reps ({reps}), got {n_inst}")
    instruments: tuple[Instrument, ...] = ()
    one_each: tuple[Arm, ...] = ()
    if per_instrument:
        instruments, one_each = instrument_arms(baseline, variant)
        if not instruments:
            raise ValueError("per_instrument: the variant adds no policy to the baseline (policies match by name)")
    return arms, instruments, one_each, n_inst


def compare_size(
    baseline: Scenario,
    variant: Scenario,
    reps: int = 30,
    *,
    independent: bool = False,
    per_instrument: bool | None = None,
    instrument_reps: int | None = None,
) -> int:
    """How many replications (simulations) :func:`compare` with these arguments runs, resumed ones included.

    Raises as :func:`compare` does on arguments it refuses.
    """
    arms, _, one_each, n_inst = _plan(baseline, variant, reps, independent, per_instrument, instrument_reps)
    return len(arms) * reps + len(one_each) * n_inst


def _with_shared_arms(main: ExperimentResult, alone: ExperimentResult, n: int, level: float) -> ExperimentResult:
    """The instruments' experiment completed with the baseline and variant of ``main`` over its first
    ``n`` replications: the same numbers a run of all these arms together would give."""
    shared = tuple(a for a in main.arms if a.label in (BASELINE, VARIANT))
    arms = (*shared, *alone.arms)
    layout = Layout(arms)
    first = main.summary[main.summary["arm"].isin([BASELINE, VARIANT]) & (main.summary["replication"] < n)]
    rest = alone.summary if "arm" in alone.summary.columns else alone.summary.assign(arm=alone.arms[0].label)
    columns = list(dict.fromkeys([*first.columns, *rest.columns]))
    ident = [c for c in columns if c in layout.identity(arms[0]) or c in ("seed", "replication")]
    order = ident + [c for c in columns if c not in ident]
    summary = pd.concat([first, rest], ignore_index=True)[order]
    meta = {**alone.meta, "shared_arms_from": "the comparison's own baseline and variant replications"}
    return ExperimentResult(arms, n, main.seed, summary, stats_table(layout, summary, level), alone.out, meta)


def compare(
    baseline: Scenario,
    variant: Scenario,
    reps: int = 30,
    seed: int = 0,
    *,
    independent: bool = False,
    per_instrument: bool | None = None,
    instrument_reps: int | None = None,
    executor: Executor | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    keep_events: bool = False,
    progress: bool | None = None,
    level: float = 0.95,
    timing: Timing | None = None,
    options: RunOptions | None = None,
) -> Comparison:
    """Paired comparison of ``variant`` against ``baseline`` on every summary metric.

    Parameters
    ----------
    baseline, variant:
        The two scenarios (e.g. without and with a support policy).
    reps:
        Paired replications (>= 1; at least 2 for intervals).
    seed:
        Root seed.
    independent:
        Also run the variant on independent streams to measure how much pairing narrowed each
        interval (``pairing_ci_ratio``); costs ``reps`` more replications. Off by default.
    per_instrument:
        Also run, for each policy the variant adds to the baseline (matched by name), the baseline
        plus that policy alone, at the same replications (arms ``only-<policy name>``), and price
        each (``instruments.csv``, :attr:`Comparison.instruments`). ``None``: when the variant adds
        two or more policies. Costs ``instrument_reps`` more replications per instrument.
    instrument_reps:
        Replications of the per-instrument arms (default ``min(reps, 20)``: common random numbers keep
        their intervals narrow, and a province-scale comparison of many instruments stays affordable).
        Fewer than ``reps``: they run as a second experiment of the instruments' arms alone, in
        ``out/instruments/``, read against the comparison's baseline and variant over the same first
        ``instrument_reps`` replications (the ``all`` row of the table is the full variant over those).
    executor, out, resume, overwrite, keep_events, progress, level:
        As for :func:`sim.run_experiment`; ``out`` also gets ``effects.csv`` and, when either
        scenario has a budget, ``cost_effectiveness.csv``.
    timing:
        Called once, early, with the wall seconds per replication so far (see :func:`sim.run_experiment`);
        :func:`compare_size` gives the number of replications to multiply it by.
    options:
        ``executor`` ... ``timing`` as one :class:`~sim.experiment.options.RunOptions` (then give none
        of them as keywords); per-instrument arms write to ``out/instruments`` without event files.

    Returns
    -------
    Comparison

    Raises
    ------
    ValueError
        ``per_instrument=True`` but the variant adds no policy to the baseline.
    ScenarioError
        An added policy is not valid on the baseline alone.
    """
    opts = resolve_options(options, RunOptions(executor, out, resume, overwrite, keep_events, progress, timing))
    arms, instruments, one_each, n_inst = _plan(baseline, variant, reps, independent, per_instrument, instrument_reps)
    together = bool(instruments) and n_inst == reps
    if together:
        arms += one_each
    tables: dict[str, pd.DataFrame] = {}
    inst_result: ExperimentResult | None = None
    alone: ExperimentResult | None = None
    if instruments and not together:
        alone = execute(
            one_each,
            n_inst,
            seed,
            kind="compare",
            options=opts.replace(out=None if opts.out is None else Path(opts.out) / "instruments", keep_events=False),
            level=level,
        )
        opts = opts.replace(timing=None)  # the estimate is given once, from the first replications

    def extra(result: ExperimentResult) -> dict[str, pd.DataFrame]:
        nonlocal inst_result
        tables["effects.csv"] = effects_table(result, level)
        if SPEND in result.summary.columns:
            tables["cost_effectiveness.csv"] = cost_effectiveness_table(result, BASELINE, VARIANT, level)
        if together:
            tables["instruments.csv"] = instruments_table(result, instruments, BASELINE, VARIANT, level)
        elif alone is not None:
            inst_result = _with_shared_arms(result, alone, n_inst, level)
            tables["instruments.csv"] = instruments_table(inst_result, instruments, BASELINE, VARIANT, level)
        return tables

    result = execute(
        tuple(arms),
        reps,
        seed,
        kind="compare",
        options=opts,
        level=level,
        extra_tables=extra,
    )
    return Comparison(
        tables["effects.csv"],
        result,
        level,
        tables.get("cost_effectiveness.csv"),
        tables.get("instruments.csv"),
        {inst.name: inst.arm for inst in instruments},
        inst_result,
    )
