"""Parameter sweeps: ``--set path=v1,v2,...`` settings, full-factorial or zipped designs.

Any scenario field can be swept by its dotted path (``stages.incubator.carriers.capacity``, list
items by index: ``arrivals.0.rate_per_year``). Values are read as TOML scalars -- ``50`` an integer,
``0.8`` a float, ``true`` a boolean, ``"queue"`` (or a bare word, ``queue``) a string, ``2020-01-01``
a date. Every point of the design is validated before anything runs, and a bad path or value is
reported as ``path: problem``.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel

from ..errors import ScenarioError
from ..scenario import Scenario
from ..stats import paired_difference
from .arms import Arm
from .options import RunOptions, Timing, resolve_options
from .runner import ExperimentResult, execute

__all__ = [
    "SWEEP_DIFFERENCE_COLUMNS",
    "SWEEP_METRICS",
    "check_path",
    "design_points",
    "parse_setting",
    "parse_value",
    "sweep",
    "sweep_arms",
    "sweep_differences",
]


def parse_value(text: str) -> Any:
    """A TOML scalar (int, float, bool, string, date); a bare word is taken as a string.

    Raises
    ------
    ScenarioError
        The text is an array or a table (sweep one scalar at a time).
    """
    text = text.strip()
    if text.startswith(("[", "{")):
        raise ScenarioError([f"{text}: sweep values must be single values (numbers, strings, true/false)"])
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    if isinstance(value, list | dict):
        raise ScenarioError([f"{text}: sweep values must be single values (numbers, strings, true/false)"])
    return value


def _split(values: str) -> list[str]:
    """Split on commas outside double quotes (so ``"a,b"`` stays one string)."""
    parts: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in values:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def parse_setting(text: str) -> tuple[str, list[Any]]:
    """``"path=v1,v2"`` -> ``("path", [v1, v2])``.

    Raises
    ------
    ScenarioError
        Not of the form ``PATH=V1,V2,...``, or an empty value.
    """
    path, sep, values = text.partition("=")
    path = path.strip()
    if not sep or not path or not values.strip():
        raise ScenarioError(
            [f"--set {text!r}: expected PATH=V1,V2,... (e.g. stages.incubator.carriers.capacity=50,100)"]
        )
    parts = _split(values)
    if any(not p.strip() for p in parts):
        raise ScenarioError([f"--set {path}: empty value in {values!r}"])
    return path, [parse_value(p) for p in parts]


def check_path(scenario: Scenario, path: str) -> None:
    """Check that ``path`` names a field of ``scenario`` (an unset optional field counts).

    Catches typos in table keys that validation would report as some other missing field (a new
    stage ``incubatr`` would first lack its required keys).

    Raises
    ------
    ScenarioError
        ``path: unknown ...`` with the known names.
    """
    node: Any = scenario
    keys = path.split(".")
    for i, key in enumerate(keys):
        where = ".".join(keys[: i + 1])
        if node is None:
            return  # an optional table not set in this scenario: validation judges what is set in it
        if isinstance(node, BaseModel):
            # fields by the names files use (an alias such as a distribution's ``mean`` where it has one)
            fields = {f.alias or name: name for name, f in type(node).model_fields.items()}
            if key not in fields:
                raise ScenarioError([f"{where}: unknown field (known: {', '.join(fields)})"])
            node = getattr(node, fields[key])
        elif isinstance(node, Mapping):
            if key not in node:
                raise ScenarioError([f"{where}: unknown key (known: {', '.join(map(str, node))})"])
            node = node[key]
        elif isinstance(node, tuple | list):
            if not key.isdigit() or int(key) >= len(node):
                raise ScenarioError([f"{where}: no item {key!r} (the list has {len(node)})"])
            node = node[int(key)]
        else:
            raise ScenarioError([f"{where}: {'.'.join(keys[:i]) or 'the scenario'} is a single value, not a table"])


def design_points(settings: Sequence[tuple[str, Sequence[Any]]], zipped: bool = False) -> list[dict[str, Any]]:
    """The design's points, each ``{path: value}``.

    Full factorial (every combination, the last setting varying fastest) unless ``zipped``: then
    point ``i`` takes the ``i``-th value of every setting, and all need the same number of values.
    """
    if not settings:
        raise ScenarioError(["--set: give at least one PATH=V1,V2,..."])
    paths = [p for p, _ in settings]
    dupes = sorted({p for p in paths if paths.count(p) > 1})
    if dupes:
        raise ScenarioError([f"--set {p}: given more than once" for p in dupes])
    if zipped:
        lengths = {p: len(v) for p, v in settings}
        if len(set(lengths.values())) > 1:
            detail = ", ".join(f"{p} has {n}" for p, n in lengths.items())
            raise ScenarioError([f"--zip: every --set needs the same number of values ({detail})"])
        return [dict(zip(paths, combo, strict=True)) for combo in zip(*(v for _, v in settings), strict=True)]
    return [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*(v for _, v in settings))]


def sweep_arms(scenario: Scenario, points: Sequence[Mapping[str, Any]]) -> tuple[Arm, ...]:
    """One arm per point (labels ``p000``, ``p001``, ...), all validated before any runs.

    Raises
    ------
    ScenarioError
        One line per distinct problem, each naming the field.
    """
    arms = []
    problems: list[str] = []
    for path in dict.fromkeys(p for point in points for p in point):
        try:
            check_path(scenario, path)
        except ScenarioError as exc:
            problems += exc.problems
    if problems:
        raise ScenarioError(problems)
    for i, point in enumerate(points):
        try:
            arms.append(Arm(scenario.with_changes(dict(point)), f"p{i:03d}", dict(point)))
        except ScenarioError as exc:
            problems += [p for p in exc.problems if p not in problems]
    if problems:
        raise ScenarioError(problems)
    return tuple(arms)


def sweep(
    scenario: Scenario,
    settings: Mapping[str, Sequence[Any]] | Sequence[tuple[str, Sequence[Any]]],
    reps: int = 1,
    seed: int = 0,
    *,
    zipped: bool = False,
    executor: Executor | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    keep_events: bool = False,
    progress: bool | None = None,
    level: float = 0.95,
    timing: Timing | None = None,
    options: RunOptions | None = None,
) -> ExperimentResult:
    """Run ``reps`` replications at every point of a design over scenario fields.

    Parameters
    ----------
    scenario:
        The base scenario.
    settings:
        ``{dotted path: values}`` (or pairs), e.g. ``{"stages.incubator.carriers.capacity": [50, 100]}``.
    zipped:
        Pair the i-th values of the settings instead of crossing them.
    reps, seed, executor, out, resume, overwrite, keep_events, progress, level, timing:
        As for :func:`sim.run_experiment`. Every point uses the same replications (common random
        numbers), so differences between points are paired.

    Returns
    -------
    ExperimentResult
        Arms ``p000``, ``p001``, ...; every row carries the swept values (a column per path).
    """
    items = list(settings.items()) if isinstance(settings, Mapping) else list(settings)
    arms = sweep_arms(scenario, design_points(items, zipped))
    keywords = RunOptions(executor, out, resume, overwrite, keep_events, progress, timing)
    return execute(arms, reps, seed, kind="sweep", options=resolve_options(options, keywords), level=level)


SWEEP_METRICS: tuple[str, ...] = ("active_at_horizon", "failed", "exited", "survival.all.5y")
"""Metrics a sweep prints and reports by default (every metric goes to the files)."""

SWEEP_DIFFERENCE_COLUMNS = ("arm", "metric", "n", "diff_mean", "ci_low", "ci_high", "significant")
"""Columns of :func:`sweep_differences`."""


def sweep_differences(
    summary: pd.DataFrame, labels: Sequence[str], metrics: Sequence[str], level: float = 0.95
) -> pd.DataFrame:
    """Each point after the first minus the first, paired replication by replication.

    Parameters
    ----------
    summary:
        A sweep's ``summary.csv`` (one row per point and replication: ``arm``, ``replication`` and a
        column per metric).
    labels:
        The points' arm labels in design order (``p000``, ``p001``, ...); the first is the reference.
    metrics:
        Metrics to difference (those missing from ``summary`` are skipped).
    level:
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per later point and metric: ``arm``, ``metric``, ``n``, ``diff_mean``, ``ci_low``,
        ``ci_high``, ``significant`` (the interval excludes 0).
    """
    rows: list[dict[str, Any]] = []
    if not labels:
        return pd.DataFrame(rows, columns=list(SWEEP_DIFFERENCE_COLUMNS))
    base = summary[summary["arm"] == labels[0]].set_index("replication")
    for label in labels[1:]:
        part = summary[summary["arm"] == label].set_index("replication")
        reps = base.index.intersection(part.index)
        for m in metrics:
            if m not in summary.columns:
                continue
            e = paired_difference(base.loc[reps, m].to_numpy(float), part.loc[reps, m].to_numpy(float), level)
            rows.append(
                {
                    "arm": label,
                    "metric": m,
                    "n": e.n,
                    "diff_mean": e.mean,
                    "ci_low": e.ci_low,
                    "ci_high": e.ci_high,
                    "significant": bool(e.n > 1 and (e.ci_low > 0 or e.ci_high < 0)),
                }
            )
    return pd.DataFrame(rows, columns=list(SWEEP_DIFFERENCE_COLUMNS))
