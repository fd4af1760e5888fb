"""What each support instrument buys on its own: one arm per added policy in a comparison.

When a variant adds several policies to its baseline (matched by :func:`sim.policies.policy_name`),
the overall effect does not say which instrument produced it. :func:`instrument_arms` builds, for each
added policy, the baseline plus that policy alone (under its own name), and the comparison runs these
arms at the same replications as the baseline (common random numbers). Each arm is then read against
the baseline like the full variant: paired effects on the priced outcomes and the cost per additional
outcome with its delta-method interval (:mod:`sim.experiment.cost_effectiveness`).

The instruments' effects need not add up to the full variant's: instruments interact (two that both
raise graduation compete for the same firms; rent relief pays per tenant, so whatever keeps tenants
alive raises its bill). Comparing each row with the ``all`` row shows how far they do.

Arm labels are ``only-<policy name>`` with anything but letters, digits, ``_``, ``.`` and ``-``
replaced by ``_`` (numbered ``-2``, ``-3`` ... if two names collide that way), so they name folders
on any file system and stay the same from run to run, which resuming needs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ScenarioError
from ..policies import Policy, policy_name
from ..scenario import Scenario
from .arms import Arm
from .cost_effectiveness import SPEND, cost_effectiveness_table
from .runner import ExperimentResult

__all__ = [
    "ALL",
    "ARM_PREFIX",
    "INSTRUMENT_COLUMNS",
    "Instrument",
    "added_policies",
    "as_cost_row",
    "instrument_arms",
    "instruments_table",
]

ARM_PREFIX = "only-"
"""Arm labels of the one-instrument arms start with this."""

ALL = "all"
"""The ``instrument`` of the rows for the full variant (every added instrument at once)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")

INSTRUMENT_COLUMNS = (
    "instrument",
    "type",
    "arm",
    "outcome",
    "effect_mean",
    "effect_ci_low",
    "effect_ci_high",
    "spend_yuan",
    "spend_in_variant_yuan",
    "spend_diff_yuan",
    "cost_per_unit",
    "cost_ci_low",
    "cost_ci_high",
    "n",
    "note",
)
"""Columns of ``instruments.csv``: one row per instrument (then ``all``) and outcome.

``effect_*``: paired difference of the outcome, arm - baseline, with its interval. ``spend_yuan``: mean
of the instrument's own ledger in its arm (``budget.policy.<name>``; for ``all``, the variant's
``budget.total_yuan``). ``spend_in_variant_yuan``: mean of the instrument's ledger in the full variant.
``spend_diff_yuan``: mean paired difference in total spend, arm - baseline (the numerator of the cost
ratio). ``cost_per_unit``, ``cost_ci_*``: yuan per additional unit of the outcome, delta-method interval.
"""


@dataclass(frozen=True)
class Instrument:
    """A policy the variant adds to the baseline, and the arm that runs it alone.

    Attributes
    ----------
    name:
        The policy's name (:func:`sim.policies.policy_name` in the variant).
    type:
        The policy's type (``rent_relief``, ``angel_fund``, ...).
    arm:
        Label of the arm ``baseline + this policy``.
    """

    name: str
    type: str
    arm: str


def added_policies(baseline: Scenario, variant: Scenario) -> list[tuple[str, Policy]]:
    """The variant's policies whose names the baseline does not have, in the variant's order."""
    have = {policy_name(p, i) for i, p in enumerate(baseline.policies)}
    named = [(policy_name(p, i), p) for i, p in enumerate(variant.policies)]
    return [(name, p) for name, p in named if name not in have]


def _labels(names: list[str]) -> list[str]:
    labels: list[str] = []
    for name in names:
        base = ARM_PREFIX + (_UNSAFE.sub("_", name) or "policy")
        label, k = base, 1
        while label in labels:
            k += 1
            label = f"{base}-{k}"
        labels.append(label)
    return labels


def instrument_arms(baseline: Scenario, variant: Scenario) -> tuple[tuple[Instrument, ...], tuple[Arm, ...]]:
    """One arm per policy the variant adds: the baseline plus that policy alone, under its own name.

    The arm's scenario is named ``<baseline>+<policy name>``; it is validated like any scenario, so a
    policy that needs something only the variant has (a stage, a waiting list) is reported here.

    Raises
    ------
    ScenarioError
        An added policy is not valid on the baseline (one line per problem).
    """
    added = added_policies(baseline, variant)
    labels = _labels([name for name, _ in added])
    dumped = [p.model_dump(mode="json", by_alias=True, exclude_none=True) for p in baseline.policies]
    instruments: list[Instrument] = []
    arms: list[Arm] = []
    for (name, pol), label in zip(added, labels, strict=True):
        alone: dict[str, Any] = {**pol.model_dump(mode="json", by_alias=True, exclude_none=True), "name": name}
        try:
            scenario = baseline.with_changes({"name": f"{baseline.name}+{name}", "policies": [*dumped, alone]})
        except ScenarioError as exc:
            raise ScenarioError(
                [f"instrument {name!r} cannot run on the baseline alone: {p}" for p in exc.problems]
            ) from None
        instruments.append(Instrument(name, pol.type, label))
        arms.append(Arm(scenario, label))
    return tuple(instruments), tuple(arms)


def _mean(result: ExperimentResult, arm: str, metric: str) -> float:
    if metric not in result.summary.columns:
        return math.nan
    values = result.values(arm, metric).to_numpy(dtype=float)
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else math.nan


def instruments_table(
    result: ExperimentResult,
    instruments: tuple[Instrument, ...],
    baseline: str,
    variant: str,
    level: float = 0.95,
) -> pd.DataFrame:
    """Per instrument (then ``all`` for the full variant) and priced outcome: effect, spend, cost per unit.

    Parameters
    ----------
    result:
        The comparison's experiment, with the baseline, the variant and every instrument's arm.
    instruments:
        From :func:`instrument_arms`.
    baseline, variant:
        Arm labels.
    level:
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`INSTRUMENT_COLUMNS`; spend in yuan, cost in yuan per additional unit.
    """
    rows = []
    for inst in (*instruments, Instrument(ALL, "", variant)):
        if inst.name == ALL:
            spend = in_variant = _mean(result, variant, SPEND)
        else:
            spend = _mean(result, inst.arm, f"budget.policy.{inst.name}")
            in_variant = _mean(result, variant, f"budget.policy.{inst.name}")
        cost = cost_effectiveness_table(result, baseline, inst.arm, level)
        for row in cost.itertuples(index=False):
            rows.append(
                {
                    "instrument": inst.name,
                    "type": inst.type,
                    "arm": inst.arm,
                    "outcome": row.metric,
                    "effect_mean": row.outcome_diff_mean,
                    "effect_ci_low": row.outcome_ci_low,
                    "effect_ci_high": row.outcome_ci_high,
                    "spend_yuan": spend,
                    "spend_in_variant_yuan": in_variant,
                    "spend_diff_yuan": row.spend_diff_mean,
                    "cost_per_unit": row.cost_per_unit,
                    "cost_ci_low": row.ci_low,
                    "cost_ci_high": row.ci_high,
                    "n": row.n,
                    "note": row.note,
                }
            )
    return pd.DataFrame(rows, columns=list(INSTRUMENT_COLUMNS))


def as_cost_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row of :func:`instruments_table` with the names of a cost-effectiveness row (for
    :func:`~sim.experiment.cost_effectiveness.cost_bounds`)."""
    return {
        "cost_per_unit": row["cost_per_unit"],
        "ci_low": row["cost_ci_low"],
        "ci_high": row["cost_ci_high"],
        "spend_diff_mean": row["spend_diff_yuan"],
        "outcome_diff_mean": row["effect_mean"],
        "outcome_ci_low": row["effect_ci_low"],
        "outcome_ci_high": row["effect_ci_high"],
    }
