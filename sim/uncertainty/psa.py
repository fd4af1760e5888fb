"""Probabilistic sensitivity analysis of a policy: its effect and cost over parameter draws.

For each of ``n`` draws of the declared parameters (a Latin hypercube over their distributions, from the
``parameter_draws`` stream), the baseline and the variant run ``reps`` replications on the same random
numbers (draw ``i`` uses the engine's replications ``i reps .. (i + 1) reps - 1`` for both), so each draw
gives a paired effect ``dY`` on every priced outcome and an extra spend ``dC`` (yuan). The spread of the
draws mixes parameter uncertainty with what is left of simulation noise after pairing; with a degenerate
distribution (every parameter fixed) the analysis is exactly ``compare`` with ``n reps`` replications.

Outputs, per priced outcome (:data:`sim.experiment.cost_effectiveness.OUTCOMES`):

* the cost-effectiveness plane: ``(dY, dC)`` per draw;
* the cost per additional unit, ``mean(dC) / mean(dY)`` over the draws (as ``compare`` computes it);
* the acceptability curve (CEAC): at a willingness to pay ``w`` yuan per unit, the probability that the
  variant's net benefit ``w dY - dC`` is positive, i.e. that a draw's yuan per additional unit is below
  ``w`` (for a draw with a gain and an extra cost). Where the variant never saves money and never loses
  outcome the curve rises with ``w`` to the share of draws with ``dY > 0``;
* the expected value of perfect information, ``E[max(NB, 0)] - max(E[NB], 0)`` yuan: what learning the
  parameters before deciding would be worth at that willingness to pay.

When the variant adds two or more policies and ``per_instrument`` is set, each also runs alone on the
baseline in every draw (as in ``compare``), and is priced the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ScenarioError
from ..experiment.arms import Arm
from ..experiment.cost_effectiveness import OUTCOMES, SPEND
from ..experiment.instruments import Instrument, added_policies, instrument_arms
from ..experiment.runner import ExperimentResult
from ..experiment.tables import csv_text
from ..files import atomic_write_text
from ..scenario import Scenario
from .declare import Uncertainty, apply_values, declared, unit_points
from .evaluate import COST_PREFIX, EFFECT_PREFIX, Pair, evaluate, pair_frame, point_arms, point_means

__all__ = ["PSAResult", "acceptability", "psa"]

SPEND_EFFECT = EFFECT_PREFIX + SPEND


@dataclass(frozen=True)
class PSAResult:
    """A probabilistic sensitivity analysis.

    Attributes
    ----------
    draws:
        ``draws.csv``: one row per draw: the parameter values, ``effect.<outcome>`` (variant - baseline),
        ``effect.budget.total_yuan`` (extra spend, yuan) and ``cost_per.<outcome>`` (yuan per unit).
    summary:
        ``psa_summary.csv``: per outcome: mean effect and its 2.5-97.5 % range over the draws, the share
        of draws with a positive effect, the mean extra spend, the cost per unit (ratio of means) and its
        2.5-97.5 % range over the draws with a positive effect.
    ceac:
        ``ceac.csv``: per outcome and willingness to pay (yuan per unit): the probability that the
        variant is worth it, and the expected value of perfect information (yuan).
    instruments:
        ``psa_instruments.csv`` when instruments ran alone: per draw, instrument and outcome, the effect
        and the extra spend; otherwise None.
    experiment:
        The replications.
    """

    draws: pd.DataFrame
    summary: pd.DataFrame
    ceac: pd.DataFrame
    instruments: pd.DataFrame | None
    parameters: pd.DataFrame
    experiment: ExperimentResult

    def probability_below(self, outcome: str, wtp_yuan: float) -> float:
        """Share of draws whose yuan per additional ``outcome`` is below ``wtp_yuan`` (net benefit > 0)."""
        dy = self.draws[EFFECT_PREFIX + outcome].to_numpy(dtype=float)
        dc = self.draws[SPEND_EFFECT].to_numpy(dtype=float)
        return float(acceptability(dy, dc, np.array([wtp_yuan]))[0][0])


def acceptability(dy: np.ndarray, dc: np.ndarray, wtp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CEAC and EVPI at each willingness to pay (yuan per unit) from paired draws ``(dy, dc)``.

    Returns the probability that the net benefit ``w dy - dc`` is positive, and the expected value of
    perfect information ``E[max(NB, 0)] - max(E[NB], 0)`` (yuan). Draws with a NaN are left out.
    """
    ok = np.isfinite(dy) & np.isfinite(dc)
    dy, dc = dy[ok], dc[ok]
    if len(dy) == 0:
        nan = np.full(len(wtp), math.nan)
        return nan, nan
    nb = wtp[:, None] * dy[None, :] - dc[None, :]
    prob = (nb > 0).mean(axis=1)
    evpi = np.maximum(nb, 0.0).mean(axis=1) - np.maximum(nb.mean(axis=1), 0.0)
    return prob, evpi


def _wtp_grid(dy: np.ndarray, dc: np.ndarray, extra: Sequence[float]) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = dc / dy
    finite = ratio[np.isfinite(ratio) & (dy > 0)]
    top = 3.0 * float(np.median(finite)) if len(finite) else 0.0
    if not top > 0:
        top = max([1e6, *extra])
    grid = np.linspace(0.0, top, 101)
    return np.unique(np.concatenate([grid, np.asarray(list(extra), dtype=float)]))


def _summary_rows(draws: pd.DataFrame, outcomes: Sequence[str]) -> list[dict[str, Any]]:
    rows = []
    dc = draws[SPEND_EFFECT].to_numpy(dtype=float)
    for outcome in outcomes:
        dy = draws[EFFECT_PREFIX + outcome].to_numpy(dtype=float)
        ok = np.isfinite(dy)
        ratio = draws[COST_PREFIX + outcome].to_numpy(dtype=float)
        gains = ratio[ok & (dy > 0) & np.isfinite(ratio)]
        mean_dy = float(np.mean(dy[ok])) if ok.any() else math.nan
        rows.append(
            {
                "outcome": outcome,
                "effect_mean": mean_dy,
                "effect_q025": float(np.quantile(dy[ok], 0.025)) if ok.any() else math.nan,
                "effect_q975": float(np.quantile(dy[ok], 0.975)) if ok.any() else math.nan,
                "prob_effect_positive": float(np.mean(dy[ok] > 0)) if ok.any() else math.nan,
                "spend_diff_mean": float(np.mean(dc[ok])) if ok.any() else math.nan,
                "cost_per_unit": float(np.mean(dc[ok]) / mean_dy) if ok.any() and mean_dy != 0 else math.nan,
                "cost_q025": float(np.quantile(gains, 0.025)) if len(gains) else math.nan,
                "cost_q975": float(np.quantile(gains, 0.975)) if len(gains) else math.nan,
                "n": int(ok.sum()),
            }
        )
    return rows


def _ceac_rows(draws: pd.DataFrame, outcomes: Sequence[str], wtp: Sequence[float]) -> list[dict[str, Any]]:
    rows = []
    dc = draws[SPEND_EFFECT].to_numpy(dtype=float)
    for outcome in outcomes:
        dy = draws[EFFECT_PREFIX + outcome].to_numpy(dtype=float)
        grid = _wtp_grid(dy, dc, wtp)
        prob, evpi = acceptability(dy, dc, grid)
        rows += [
            {"outcome": outcome, "wtp_yuan": float(w), "probability": float(p), "evpi_yuan": float(e)}
            for w, p, e in zip(grid, prob, evpi, strict=True)
        ]
    return rows


def _instrument_design(
    baseline: Scenario, variant: Scenario, uncertainty: Uncertainty, points: Sequence[dict[str, Any]], reps: int
) -> tuple[tuple[Instrument, ...], list[Arm]]:
    instruments: tuple[Instrument, ...] = ()
    arms: list[Arm] = []
    for i, point in enumerate(points):
        base = apply_values(baseline, uncertainty, point)
        var = apply_values(variant, uncertainty, point)
        instruments, alone = instrument_arms(base, var)
        arms += [Arm(a.scenario, f"d{i:05d}-{a.label}", dict(point), i * reps) for a in alone]
    return instruments, arms


def _instrument_rows(
    result: ExperimentResult, instruments: Sequence[Instrument], base_labels: Sequence[str], outcomes: Sequence[str]
) -> pd.DataFrame:
    needed = [*outcomes, SPEND]
    means = point_means(result, needed)
    rows = []
    for i, base_label in enumerate(base_labels):
        base = means.loc[base_label]
        for inst in instruments:
            arm = means.loc[f"d{i:05d}-{inst.arm}"]
            for outcome in outcomes:
                rows.append(
                    {
                        "draw": i,
                        "instrument": inst.name,
                        "outcome": outcome,
                        "effect": float(arm[outcome] - base[outcome]),
                        "spend_diff_yuan": float(arm[SPEND] - base[SPEND]),
                    }
                )
    return pd.DataFrame(rows)


def psa(
    baseline: Scenario,
    variant: Scenario,
    uncertainty: Uncertainty,
    n: int = 50,
    reps: int = 1,
    seed: int = 0,
    *,
    wtp: Sequence[float] = (),
    per_instrument: bool = False,
    executor: Executor | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool | None = None,
) -> PSAResult:
    """Probabilistic sensitivity analysis of ``variant`` against ``baseline`` (see the module docstring).

    Parameters
    ----------
    baseline, variant:
        The two scenarios; each draw's values are applied to both (a path only the variant has, such as
        one of its policies, is left out of the baseline).
    uncertainty:
        The parameters drawn.
    n:
        Parameter draws (>= 1).
    reps:
        Paired replications per draw.
    seed:
        Root seed (the draws come from its ``parameter_draws`` stream).
    wtp:
        Willingness-to-pay values (yuan per unit) to include in the acceptability curve's grid.
    per_instrument:
        Also run each policy the variant adds alone on the baseline, in every draw.
    executor, out, resume, overwrite, progress:
        As for :func:`sim.run_experiment`; ``out`` also gets ``draws.csv``, ``psa_summary.csv``,
        ``ceac.csv``, ``parameters.csv`` (and ``psa_instruments.csv``).

    Raises
    ------
    ScenarioError
        ``n`` < 1, no instruments to run alone, or a draw makes a scenario invalid.
    """
    if n < 1:
        raise ScenarioError([f"--n: must be >= 1, got {n}"])
    if reps < 1:
        raise ScenarioError([f"--reps: must be >= 1, got {reps}"])
    if per_instrument and len(added_policies(baseline, variant)) < 1:
        raise ScenarioError(["--per-instrument: the variant adds no policy to the baseline (policies match by name)"])
    unit = unit_points(n, len(uncertainty), seed)
    points = [uncertainty.values_at(row) for row in unit]
    offsets = [i * reps for i in range(n)]
    pair_arms, base_labels = point_arms(Pair(baseline, variant), uncertainty, points, prefix="d", offsets=offsets)
    arms = list(pair_arms)
    instruments: tuple[Instrument, ...] = ()
    if per_instrument:
        instruments, alone = _instrument_design(baseline, variant, uncertainty, points, reps)
        arms += alone
    result = evaluate(
        tuple(arms),
        reps,
        seed,
        kind="psa",
        executor=executor,
        out=out,
        resume=resume,
        overwrite=overwrite,
        progress=progress,
    )
    metrics = [*(EFFECT_PREFIX + o for o in OUTCOMES), SPEND_EFFECT, *(COST_PREFIX + o for o in OUTCOMES)]
    table = pair_frame(result, metrics, base_labels, prefix="d").rename(columns={"point": "draw"})
    values = pd.DataFrame(points, columns=uncertainty.names)
    draws = pd.concat([table[["draw"]], values, table.drop(columns="draw")], axis=1)
    summary = pd.DataFrame(_summary_rows(draws, OUTCOMES))
    ceac = pd.DataFrame(_ceac_rows(draws, OUTCOMES, wtp))
    inst = _instrument_rows(result, instruments, base_labels, OUTCOMES) if instruments else None
    parameters = pd.DataFrame(declared(uncertainty.params))
    if result.out is not None:
        files = {"draws.csv": draws, "psa_summary.csv": summary, "ceac.csv": ceac, "parameters.csv": parameters}
        if inst is not None:
            files["psa_instruments.csv"] = inst
        for name, frame in files.items():
            atomic_write_text(result.out / name, csv_text(frame))
    return PSAResult(draws, summary, ceac, inst, parameters, result)
