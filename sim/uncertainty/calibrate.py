"""Fitting scenario parameters to observed figures with ``scipy.optimize``.

The objective is the sum of squared standardised misfits over the fitted targets,
``sum_j ((mean_j(x) - observed_j) / scale_j)^2``, where ``mean_j(x)`` is target ``j``'s mean over ``reps``
replications of the scenario at parameter values ``x`` and ``scale_j`` is the target's standard error or
tolerance (:mod:`sim.uncertainty.targets`).

Every evaluation uses the same replications (common random numbers), so the objective is a fixed
function of ``x`` for a given seed, not a noisy one: two nearby points differ only through the parameters.
It is not smooth, though: each firm's fate flips at some threshold of a rate, so at fine scale the
objective moves in small steps. That rules out quasi-Newton methods (L-BFGS-B and friends estimate
gradients by finite differences, which see the steps, not the trend) and suits a derivative-free direct
search: **Nelder-Mead** with bounds (``scipy.optimize.minimize(method="Nelder-Mead")``), in coordinates
scaled to [0, 1] across each parameter's bounds, with an initial simplex a quarter of the box wide. It needs
one or two evaluations per step, which matters when an evaluation is a province run, and it stops when the
simplex is smaller than ``xatol`` (a share of each range) and the objective changes by less than ``fatol``.

Each evaluation is an experiment of its own (:func:`sim.uncertainty.evaluate.evaluate`) in
``out/evaluations/<hash of the values>/``, so an interrupted calibration resumes from disk: the search is
deterministic and replays up to where it stopped without running anything again.

``fit_changes`` are settings used only while fitting (``{"calendar.horizon_years": 1}`` when every fitted
target is in the first year: the engine simulates in time order with each firm's own random numbers, so a
shorter run gives the same first year). The final check runs the scenario as it is, and reports every
target, held-out ones included.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w
from scipy import optimize

from ..errors import ScenarioError
from ..experiment.arms import Arm
from ..experiment.runner import ExperimentResult
from ..experiment.tables import csv_text
from ..files import atomic_write_text
from ..provenance import package_versions
from ..scenario import Scenario, load_scenario
from ..stats import mean_ci
from .declare import Uncertainty, resolve_path
from .evaluate import evaluate
from .intervals import INTERVAL_COLUMNS, Interval, consistent_intervals
from .targets import Target, check_horizon, target_values, yearly_measure

__all__ = ["FIT_COLUMNS", "Bound", "CalibrationResult", "calibrate", "parse_bound"]

FIT_COLUMNS = (
    "target",
    "role",
    "metric",
    "stage",
    "year",
    "observed",
    "allowed",
    "simulated_mean",
    "ci_low",
    "ci_high",
    "within",
    "source",
)
"""Columns of ``fit.csv``: ``allowed`` is the tolerance (or 2 standard errors); ``within`` says whether the
simulated mean is that close to the observed value."""


@dataclass(frozen=True)
class Bound:
    """A fitted parameter and its bounds (in the field's unit)."""

    path: str
    low: float
    high: float
    integer: bool = False

    def value(self, x: float) -> float | int:
        """The value at ``x`` in [0, 1] across the bounds."""
        v = self.low + min(max(x, 0.0), 1.0) * (self.high - self.low)
        return int(round(v)) if self.integer else float(v)

    def unit(self, value: float) -> float:
        """Inverse of :meth:`value`."""
        return (float(value) - self.low) / (self.high - self.low)


def parse_bound(text: str, scenario: Scenario, uncertainty: Uncertainty | None = None) -> Bound:
    """``PATH=LOW:HIGH``, or ``PATH`` declared in ``[uncertainty]`` (its range gives the bounds).

    Raises
    ------
    ScenarioError
        Bad syntax, an unknown path, a field that is not a number, or no bounds.
    """
    path, sep, rng = text.partition("=")
    path = path.strip()
    field_path = resolve_path(scenario, path)
    node: Any = scenario.model_dump(mode="json", by_alias=True)
    for key in field_path.split("."):
        node = node[int(key)] if isinstance(node, list) else (node or {}).get(key)
    if isinstance(node, bool) or not isinstance(node, int | float):
        raise ScenarioError([f"--params {path}: the field holds {node!r}, not a number"])
    integer = isinstance(node, int)
    if sep:
        lo_text, colon, hi_text = rng.partition(":")
        try:
            low, high = float(lo_text), float(hi_text)
        except ValueError:
            low = high = math.nan
        if not colon or not (math.isfinite(low) and math.isfinite(high)) or not low < high:
            raise ScenarioError([f"--params {text!r}: expected PATH=LOW:HIGH with LOW < HIGH (e.g. {path}=4:7)"])
        return Bound(path, low, high, integer)
    declared = {p.path: p for p in (uncertainty.params if uncertainty else ())}
    if path not in declared:
        raise ScenarioError([f"--params {path}: give bounds as {path}=LOW:HIGH (it is not declared in [uncertainty])"])
    p = declared[path]
    if p.discrete:
        raise ScenarioError([f"--params {path}: a choice among values cannot be fitted; give {path}=LOW:HIGH"])
    return Bound(path, float(p.low), float(p.high), integer)


@dataclass
class CalibrationResult:
    """A calibration.

    Attributes
    ----------
    fitted:
        ``{path: value}`` at the optimum.
    scenario:
        The scenario with the fitted values.
    fit:
        ``fit.csv`` (:data:`FIT_COLUMNS`): every target at the fitted values, fitted and held-out rows.
    history:
        ``history.csv``: one row per evaluation: its number, the values, the objective.
    objective:
        The objective at the optimum (sum of squared standardised misfits over the fitted targets).
    calibrated_toml:
        The text of ``calibrated.toml``.
    check:
        The replications of the final check.
    meta:
        ``calibration.json``: optimiser, convergence, evaluations, values before and after, intervals.
    intervals:
        ``intervals.csv`` (:data:`~sim.uncertainty.intervals.INTERVAL_COLUMNS`), with ``intervals=True``:
        per parameter, the values at which the model still meets every fitted target, and whether the
        scenario's own value is among them; else ``None``.
    """

    fitted: dict[str, Any]
    scenario: Scenario
    fit: pd.DataFrame
    history: pd.DataFrame
    objective: float
    calibrated_toml: str
    check: ExperimentResult
    meta: dict[str, Any] = field(default_factory=dict)
    intervals: pd.DataFrame | None = None


def _key(values: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def _fit_table(values: pd.DataFrame, targets: Sequence[Target], holdout: set[str], level: float) -> pd.DataFrame:
    rows = []
    for t in targets:
        est = mean_ci(values[t.name].to_numpy(dtype=float), level)
        rows.append(
            {
                "target": t.name,
                "role": "holdout" if t.name in holdout else "fit",
                "metric": t.metric,
                "stage": t.stage or "",
                "year": t.year if t.year is not None else "",
                "observed": t.value,
                "allowed": t.allowed,
                "simulated_mean": est.mean,
                "ci_low": est.ci_low,
                "ci_high": est.ci_high,
                "within": bool(abs(est.mean - t.value) <= t.allowed) if math.isfinite(est.mean) else False,
                "source": t.source,
            }
        )
    return pd.DataFrame(rows, columns=list(FIT_COLUMNS))


def _extends_file(
    base: Scenario, fitted: Scenario, fields: Mapping[str, str], scenario_path: Path | None, out: Path | None
) -> dict[str, Any]:
    """The body of an ``extends`` file that turns ``base`` into ``fitted``: the fitted fields only (a field
    inside a list takes the whole list, since a child file's lists replace the parent's)."""
    dumped = fitted.model_dump(mode="json", by_alias=True, exclude_none=True)
    if scenario_path is None:
        return fitted.to_dict()
    where = out if out is not None else Path.cwd()
    # not resolved: a link (scenarios/jiangsu.toml) stays the name the user gave
    body: dict[str, Any] = {"extends": os.path.relpath(os.path.abspath(scenario_path), os.path.abspath(where))}
    body["name"] = f"{base.name}_calibrated"
    for field_path in fields.values():
        keys = field_path.split(".")
        cut = next((i for i, k in enumerate(keys) if k.isdigit()), None)
        if cut is not None:  # a field inside a list: the list, whole
            keys = keys[:cut]
        node: dict[str, Any] = body
        src: Any = dumped
        for k in keys[:-1]:
            node = node.setdefault(k, {})
            src = src[k]
        node[keys[-1]] = src[keys[-1]]
    return body


def calibrate(
    scenario: Scenario,
    targets: Sequence[Target],
    params: Sequence[Bound],
    *,
    reps: int = 2,
    seed: int = 0,
    holdout: Sequence[str] = (),
    start: Mapping[str, float] | None = None,
    max_evals: int = 40,
    xatol: float = 0.01,
    fatol: float = 0.05,
    fit_changes: Mapping[str, Any] | None = None,
    check_reps: int | None = None,
    intervals: bool = False,
    scenario_path: str | Path | None = None,
    executor: Executor | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool | None = None,
    level: float = 0.95,
) -> CalibrationResult:
    """Fit ``params`` so that the scenario reproduces ``targets`` (see the module docstring).

    Parameters
    ----------
    scenario:
        The scenario to calibrate.
    targets:
        Observed figures (:func:`sim.uncertainty.targets.load_targets`).
    params:
        The fitted fields and their bounds (:func:`parse_bound`).
    reps:
        Replications per evaluation (common random numbers across evaluations).
    seed:
        Root seed.
    holdout:
        Target names kept out of the objective and reported separately.
    start:
        Starting values ``{path: value}`` (default: the middle of each parameter's bounds).
    max_evals:
        Largest number of evaluations the search may make.
    xatol, fatol:
        Stop when the simplex is narrower than ``xatol`` (a share of each range) and the objective
        changes by less than ``fatol``.
    fit_changes:
        Settings used only while fitting (e.g. a shorter horizon).
    check_reps:
        Replications of the final check at the fitted values (default ``reps``).
    intervals:
        Also estimate each parameter's interval of values consistent with the fitted targets
        (:mod:`sim.uncertainty.intervals`; ``4 k + 1`` to ``10 k + 1`` more evaluations for ``k`` parameters),
        and evaluate the scenario's own values the same way: ``intervals.csv``, and in ``calibration.json``
        whether the scenario's values lie inside and meet every fitted target.
    scenario_path:
        The scenario's file: ``calibrated.toml`` then ``extends`` it with only the fitted values.
    executor, out, resume, overwrite, progress:
        As for :func:`sim.run_experiment`; ``out`` gets ``evaluations/``, ``check/``, ``fit.csv``,
        ``history.csv``, ``calibrated.toml``, ``calibration.json`` (and ``intervals.csv``).
    level:
        Confidence level of the simulated intervals.

    Raises
    ------
    ScenarioError
        No target left to fit, an unknown hold-out name, a start outside the bounds, or a target the
        fitting scenario cannot compute.
    """
    names = [t.name for t in targets]
    unknown = [h for h in holdout if h not in names]
    if unknown:
        raise ScenarioError([f"--holdout {h}: no such target (targets: {', '.join(names)})" for h in unknown])
    fit_targets = [t for t in targets if t.name not in set(holdout)]
    if not fit_targets:
        raise ScenarioError(["--holdout: every target is held out; nothing left to fit"])
    if not params:
        raise ScenarioError(["--params: name at least one parameter to fit"])
    fields = {b.path: resolve_path(scenario, b.path) for b in params}
    fitting = scenario.with_changes(dict(fit_changes)) if fit_changes else scenario
    check_horizon(fit_targets, fitting)
    root = Path(out) if out is not None else None
    x0 = []
    for b in params:
        v = (start or {}).get(b.path, (b.low + b.high) / 2.0)
        if not b.low <= v <= b.high:
            raise ScenarioError([f"--start {b.path}: {v} is outside the bounds {b.low}:{b.high}"])
        x0.append(b.unit(v))
    history: list[dict[str, Any]] = []
    cache: dict[str, tuple[float, np.ndarray | None]] = {}
    fit_measure = yearly_measure(fit_targets)
    phase = ["search"]

    def values_at(x: np.ndarray) -> dict[str, Any]:
        return {b.path: b.value(float(xi)) for b, xi in zip(params, x, strict=True)}

    def run_at(values: Mapping[str, Any]) -> tuple[float, np.ndarray | None]:
        """Objective and the fitted targets' means at ``values`` (each point run once, then cached)."""
        key = _key(dict(values))
        if key not in cache:
            try:
                sc = fitting.with_changes({fields[p]: v for p, v in values.items()})
            except ScenarioError:
                cache[key] = (math.inf, None)  # outside the valid region: the search turns back
            else:
                result = evaluate(
                    (Arm(sc, "fit", dict(values)),),
                    reps,
                    seed,
                    kind="calibrate",
                    executor=executor,
                    out=None if root is None else root / "evaluations" / key,
                    resume=resume and root is not None and (root / "evaluations" / key).exists(),
                    overwrite=overwrite,
                    progress=progress,
                    measure=fit_measure,
                )
                sims = target_values(result, fit_targets).mean(axis=0)
                means = np.array([float(sims[t.name]) for t in fit_targets])
                z = (means - np.array([t.value for t in fit_targets])) / np.array([t.scale for t in fit_targets])
                cache[key] = (float(np.sum(np.square(z))) if np.all(np.isfinite(z)) else math.inf, means)
            history.append({"evaluation": len(history), "phase": phase[0], **values, "objective": cache[key][0]})
        return cache[key]

    def objective(x: np.ndarray) -> float:
        return run_at(values_at(x))[0]

    k = len(params)
    simplex = np.array([x0, *[[*x0[:i], x0[i] + (0.25 if x0[i] <= 0.75 else -0.25), *x0[i + 1 :]] for i in range(k)]])
    res = optimize.minimize(
        objective,
        np.array(x0),
        method="Nelder-Mead",
        bounds=[(0.0, 1.0)] * k,
        options={"maxfev": max_evals, "xatol": xatol, "fatol": fatol, "initial_simplex": simplex},
    )
    fitted = values_at(res.x)
    best = scenario.with_changes({fields[p]: v for p, v in fitted.items()})
    before = {p: _value_of(scenario, f) for p, f in fields.items()}
    spans: list[Interval] | None = None
    before_objective, before_meets = math.nan, False
    if intervals:
        phase[0] = "interval"
        observed = np.array([t.value for t in fit_targets])
        allowed = np.array([t.allowed for t in fit_targets])
        spans = consistent_intervals(lambda x: run_at(values_at(x))[1], np.clip(res.x, 0.0, 1.0), observed, allowed)
        phase[0] = "before"  # the scenario's own values, evaluated as the search's points are
        before_objective, before_means = run_at(before)
        before_meets = before_means is not None and bool(np.all(np.abs(before_means - observed) <= allowed))
    check = evaluate(
        (Arm(best, "check", fitted),),
        check_reps or reps,
        seed,
        kind="calibrate-check",
        executor=executor,
        out=None if root is None else root / "check",
        resume=resume,
        overwrite=overwrite,
        progress=progress,
        measure=yearly_measure(targets),
    )
    fit = _fit_table(target_values(check, targets), targets, set(holdout), level)
    hist = pd.DataFrame(history)
    searched = sum(1 for h in history if h["phase"] == "search")
    body = _extends_file(scenario, best, fields, Path(scenario_path) if scenario_path else None, root)
    table = _interval_table(params, fitted, before, spans) if spans is not None else None
    meta: dict[str, Any] = {
        "optimizer": "scipy.optimize.minimize(method='Nelder-Mead') on [0, 1]-scaled bounds",
        "converged": bool(res.success),
        "message": str(res.message),
        "evaluations": searched,
        "objective": float(res.fun),
        "seed": seed,
        "reps": reps,
        "check_reps": check_reps or reps,
        "fit_changes": dict(fit_changes or {}),
        "holdout": list(holdout),
        "bounds": {b.path: [b.low, b.high] for b in params},
        "fitted": fitted,
        "before": before,
        "incuchain": package_versions()["incuchain"],
    }
    if table is not None:
        meta["intervals"] = {
            "method": "linearised projection of the targets' tolerances, each end checked by the model "
            "(sim.uncertainty.intervals)",
            "before_inside": bool(table["before_inside"].all()),
            "before_objective": before_objective,
            "before_meets_fitted_targets": before_meets,
            "evaluations": len(history) - searched,
        }
    header = [
        "# Calibrated by incuchain calibrate: only the fitted values; everything else comes from the parent file.",
        f"# Optimiser: {meta['optimizer']}, {searched} evaluations of {reps} replications (seed {seed}),",
        f"# objective {res.fun:.4g} (sum of squared standardised misfits over {len(fit_targets)} fitted targets).",
        *(
            f"# {p}: {before[p]} -> {v} (bounds {b.low}:{b.high})"
            for (p, v), b in zip(fitted.items(), params, strict=True)
        ),
        *(f"# target {t.name}: {t.source}" for t in fit_targets),
    ]
    text = "\n".join(header) + "\n" + tomli_w.dumps(body)
    if root is not None:
        atomic_write_text(root / "fit.csv", csv_text(fit))
        atomic_write_text(root / "history.csv", csv_text(hist))
        if table is not None:
            atomic_write_text(root / "intervals.csv", csv_text(table))
        atomic_write_text(root / "calibrated.toml", text)
        atomic_write_text(root / "calibration.json", json.dumps(meta, indent=2, default=str) + "\n")
        if scenario_path is not None:
            reread = load_scenario(root / "calibrated.toml")
            if reread.model_dump(exclude={"name"}) != best.model_dump(exclude={"name"}):
                raise RuntimeError("calibrated.toml does not reproduce the fitted scenario")
    return CalibrationResult(fitted, best, fit, hist, float(res.fun), text, check, meta, table)


def _interval_table(
    params: Sequence[Bound], fitted: Mapping[str, Any], before: Mapping[str, Any], spans: Sequence[Interval]
) -> pd.DataFrame:
    """``intervals.csv``: each parameter's interval in its own unit, and whether the scenario's value is in it."""
    rows = []

    def unit_value(b: Bound, x: float) -> float:
        return b.value(x) if math.isfinite(x) else math.nan

    for b, span in zip(params, spans, strict=True):
        low, high = unit_value(b, span.low), unit_value(b, span.high)
        value = before[b.path]
        rows.append(
            {
                "parameter": b.path,
                "fitted": fitted[b.path],
                "low": low,
                "high": high,
                "linear_low": b.low + span.linear_low * (b.high - b.low),
                "linear_high": b.low + span.linear_high * (b.high - b.low),
                "before": value,
                "before_inside": isinstance(value, int | float) and bool(low <= value <= high),
            }
        )
    return pd.DataFrame(rows, columns=list(INTERVAL_COLUMNS))


def _value_of(scenario: Scenario, field_path: str) -> Any:
    node: Any = scenario.model_dump(mode="json", by_alias=True)
    for key in field_path.split("."):
        node = node[int(key)] if isinstance(node, list) else node.get(key)
    return node
