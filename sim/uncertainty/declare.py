"""Declaring parameter uncertainty: a distribution for any scenario field, read from ``[uncertainty]``.

A scenario file may carry an ``[uncertainty]`` table (or the same table in a file of its own, passed
with ``--uncertainty FILE``). Each key is a scenario field by the dotted path of ``sweep --set``
(``stages.incubator.graduation.scale``; list items by index, ``arrivals.1.rate_per_year``), where a
list of named items (``arrivals``, ``policies``, ``shocks``) may also be indexed by the item's name
(``policies.rent_relief_2020.failure_factor``). Each value is a distribution and its ``source``::

    [uncertainty]
    "policies.rent_relief_2020.failure_factor" = { dist = "uniform", low = 0.6, high = 1.0, source = "assumption" }
    "stages.incubator.graduation.scale" = { dist = "normal", mean = 5.3, sd = 0.2, low = 4.8, source = "..." }

Distributions (numbers in the field's own unit):

* ``uniform``: ``low``, ``high``;
* ``triangular``: ``low``, ``mode``, ``high``;
* ``normal``: ``mean``, ``sd``, optional ``low`` and ``high`` (then truncated to them);
* ``lognormal``: ``median`` and ``sigma`` (of the log), optional ``low`` and ``high`` (truncation);
* ``beta``: ``alpha``, ``beta`` on [``low``, ``high``] (default [0, 1]);
* ``choice``: ``values``, a list of values drawn with equal probability.

Every distribution maps a quantile ``u`` in (0, 1) to a value (:meth:`Uncertain.value`), so one design in
the unit cube serves Morris, Sobol and probabilistic draws alike. A field holding a whole number gets
whole numbers (rounded). Each parameter's *range* (:attr:`Uncertain.low`, :attr:`Uncertain.high`) is its
support, or the 2.5 % and 97.5 % quantiles where the file gives no bound (normal, log-normal): the
one-way (tornado) analysis sets a parameter to its range's ends, and Morris moves it across that range.

Validation names the path: a path the scenario does not have, a distribution with bad numbers, or a
value at either end of the range that makes the scenario invalid (a bound outside the field's range).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from scipy import stats
from scipy.stats import qmc

from ..distributions import Real
from ..errors import ScenarioError, format_validation_error
from ..experiment.design import check_path
from ..scenario import Scenario, read_scenario_toml, read_text_file
from ..streams import Streams

__all__ = [
    "QUANTILE_RANGE",
    "Uncertain",
    "Uncertainty",
    "apply_values",
    "load_uncertainty",
    "parse_uncertainty",
    "resolve_path",
]

QUANTILE_RANGE = (0.025, 0.975)
"""Quantiles that stand for the ends of an unbounded distribution's range."""

_NAMED_LISTS = ("arrivals", "policies", "shocks")
"""Lists of the scenario whose items may be named in a path."""


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    source: str = Field(min_length=1, description="a citation, or 'assumption' with the reason")


class _Uniform(_Dist):
    dist: Literal["uniform"]
    low: Real
    high: Real

    @model_validator(mode="after")
    def _order(self) -> _Uniform:
        if not self.low < self.high:
            raise ValueError(f"low must be < high, got {self.low} and {self.high}")
        return self


class _Triangular(_Dist):
    dist: Literal["triangular"]
    low: Real
    mode: Real
    high: Real

    @model_validator(mode="after")
    def _order(self) -> _Triangular:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(f"need low <= mode <= high and low < high, got {self.low}, {self.mode}, {self.high}")
        return self


class _Normal(_Dist):
    dist: Literal["normal"]
    mean: Real
    sd: Real = Field(gt=0)
    low: Real | None = None
    high: Real | None = None

    @model_validator(mode="after")
    def _order(self) -> _Normal:
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low must be < high, got {self.low} and {self.high}")
        return self


class _LogNormal(_Dist):
    dist: Literal["lognormal"]
    median: Real = Field(gt=0)
    sigma: Real = Field(gt=0)
    low: Real | None = Field(None, ge=0)
    high: Real | None = None

    @model_validator(mode="after")
    def _order(self) -> _LogNormal:
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low must be < high, got {self.low} and {self.high}")
        return self


class _Beta(_Dist):
    dist: Literal["beta"]
    alpha: Real = Field(gt=0)
    beta: Real = Field(gt=0)
    low: Real = 0.0
    high: Real = 1.0

    @model_validator(mode="after")
    def _order(self) -> _Beta:
        if not self.low < self.high:
            raise ValueError(f"low must be < high, got {self.low} and {self.high}")
        return self


class _Choice(_Dist):
    dist: Literal["choice"]
    values: tuple[Real | int | bool | str, ...] = Field(min_length=1)


_Spec = Annotated[_Uniform | _Triangular | _Normal | _LogNormal | _Beta | _Choice, Field(discriminator="dist")]
_SPEC: TypeAdapter[Any] = TypeAdapter(_Spec)
_DISTS = frozenset({"uniform", "triangular", "normal", "lognormal", "beta", "choice"})


def _frozen(spec: _Dist) -> Any:
    """scipy's frozen distribution of a continuous spec, truncated to its bounds where it has them."""
    if isinstance(spec, _Uniform):
        return stats.uniform(spec.low, spec.high - spec.low)
    if isinstance(spec, _Triangular):
        width = spec.high - spec.low
        return stats.triang((spec.mode - spec.low) / width, loc=spec.low, scale=width)
    if isinstance(spec, _Beta):
        return stats.beta(spec.alpha, spec.beta, loc=spec.low, scale=spec.high - spec.low)
    if isinstance(spec, _Normal):
        lo = -math.inf if spec.low is None else (spec.low - spec.mean) / spec.sd
        hi = math.inf if spec.high is None else (spec.high - spec.mean) / spec.sd
        return stats.truncnorm(lo, hi, loc=spec.mean, scale=spec.sd)
    assert isinstance(spec, _LogNormal)
    base = stats.lognorm(spec.sigma, scale=spec.median)
    if spec.low is None and spec.high is None:
        return base
    # truncation of the log: a truncated normal of ln x
    mu = math.log(spec.median)
    lo = -math.inf if not spec.low else (math.log(spec.low) - mu) / spec.sigma
    hi = math.inf if spec.high is None else (math.log(spec.high) - mu) / spec.sigma
    return _LogTruncNorm(stats.truncnorm(lo, hi, loc=mu, scale=spec.sigma))


class _LogTruncNorm:
    """``exp`` of a truncated normal: what scipy lacks for a truncated log-normal."""

    def __init__(self, log_dist: Any) -> None:
        self._log = log_dist

    def ppf(self, u: Any) -> Any:
        return np.exp(self._log.ppf(u))

    def cdf(self, x: Any) -> Any:
        return self._log.cdf(np.log(np.maximum(x, 1e-300)))

    def support(self) -> tuple[float, float]:
        lo, hi = self._log.support()
        return float(np.exp(lo)), float(np.exp(hi))


@dataclass(frozen=True)
class Uncertain:
    """One uncertain scenario field.

    Attributes
    ----------
    path:
        The path as written in the file (names allowed: ``policies.rent_relief_2020.failure_factor``).
    field:
        The same path with list items by index (``policies.0.failure_factor``), as
        :meth:`sim.Scenario.with_changes` takes it.
    spec:
        The distribution (validated).
    default:
        The field's value in the scenario (what every other analysis holds it at).
    integer:
        The field holds a whole number: values are rounded.
    """

    path: str
    field: str
    spec: Any
    default: Any
    integer: bool

    @property
    def dist(self) -> str:
        """The distribution's name."""
        return str(self.spec.dist)

    @property
    def source(self) -> str:
        """The citation or assumption behind the distribution."""
        return str(self.spec.source)

    @property
    def discrete(self) -> bool:
        """A ``choice`` among listed values."""
        return isinstance(self.spec, _Choice)

    def _cast(self, x: float) -> Any:
        return int(round(x)) if self.integer else float(x)

    def value(self, u: float) -> Any:
        """The value at quantile ``u``: a bound at 0 or 1 where the support has one; otherwise ``u`` is clipped
        to [1e-9, 1 - 1e-9], so unbounded tails stay finite."""
        if isinstance(self.spec, _Choice):
            k = len(self.spec.values)
            return self.spec.values[min(max(int(float(u) * k), 0), k - 1)]
        dist = _frozen(self.spec)
        lo, hi = (float(x) for x in dist.support())
        if u <= 0.0 and math.isfinite(lo):  # a bounded end is itself, not a quantile near it
            return self._cast(lo)
        if u >= 1.0 and math.isfinite(hi):
            return self._cast(hi)
        u = min(max(float(u), 1e-9), 1.0 - 1e-9)
        return self._cast(float(dist.ppf(u)))

    def _range_quantiles(self) -> tuple[float, float]:
        if isinstance(self.spec, _Normal | _LogNormal):  # bounded only where the file bounds it
            q_lo = 0.0 if self.spec.low is not None else QUANTILE_RANGE[0]
            q_hi = 1.0 if self.spec.high is not None else QUANTILE_RANGE[1]
            return q_lo, q_hi
        return 0.0, 1.0

    def range_value(self, u: float) -> Any:
        """The value a fraction ``u`` of the way across the range (in quantiles): Morris and one-way designs."""
        q_lo, q_hi = self._range_quantiles()
        return self.value(q_lo + float(u) * (q_hi - q_lo))

    @property
    def low(self) -> Any:
        """Low end of the range: the support's lower bound, or the 2.5 % quantile."""
        if isinstance(self.spec, _Choice):
            return self.spec.values[0]
        return self.range_value(0.0)

    @property
    def high(self) -> Any:
        """High end of the range: the support's upper bound, or the 97.5 % quantile."""
        if isinstance(self.spec, _Choice):
            return self.spec.values[-1]
        return self.range_value(1.0)

    def describe(self) -> str:
        """The distribution in one line (``uniform(0.6, 1)``)."""
        fields = self.spec.model_dump(exclude={"dist", "source"}, exclude_none=True)
        return f"{self.dist}({', '.join(f'{k}={v}' for k, v in fields.items())})"


@dataclass(frozen=True)
class Uncertainty:
    """The uncertain fields of a scenario, in the order the file gives them."""

    params: tuple[Uncertain, ...]

    @property
    def names(self) -> list[str]:
        """The paths as written."""
        return [p.path for p in self.params]

    def __len__(self) -> int:
        return len(self.params)

    def select(self, names: Sequence[str] | None) -> Uncertainty:
        """Only the named parameters (all when ``names`` is empty or None), in the order given.

        Raises
        ------
        ScenarioError
            A name is not declared (``--params X: not in [uncertainty] (declared: ...)``).
        """
        if not names:
            return self
        by = {p.path: p for p in self.params}
        missing = [n for n in names if n not in by]
        if missing:
            raise ScenarioError(
                [f"--params {n}: not declared in [uncertainty] (declared: {', '.join(by)})" for n in missing]
            )
        return Uncertainty(tuple(by[n] for n in dict.fromkeys(names)))

    def values_at(self, u: Sequence[float], *, across_range: bool = False) -> dict[str, Any]:
        """``{path: value}`` for one point of the unit cube (quantiles, or fractions of the ranges)."""
        return {p.path: (p.range_value(x) if across_range else p.value(x)) for p, x in zip(self.params, u, strict=True)}


def resolve_path(scenario: Scenario, path: str) -> str:
    """``path`` with named list items replaced by their index, checked against ``scenario``.

    ``policies.rent_relief_2020.failure_factor`` -> ``policies.0.failure_factor``.

    Raises
    ------
    ScenarioError
        ``path: unknown ...`` (as :func:`sim.experiment.design.check_path`), or an unknown item name.
    """
    keys = path.split(".")
    if len(keys) >= 2 and keys[0] in _NAMED_LISTS and not keys[1].isdigit():
        items = getattr(scenario, keys[0])
        names = [getattr(item, "name", None) for item in items]
        if keys[1] not in names:
            known = ", ".join(str(n) for n in names if n)
            detail = f"named: {known}" if known else f"the scenario has no named {keys[0]}"
            raise ScenarioError([f"{'.'.join(keys[:2])}: no item named {keys[1]!r} ({detail})"])
        keys[1] = str(names.index(keys[1]))
    field = ".".join(keys)
    check_path(scenario, field)
    return field


def _current(scenario: Scenario, field: str) -> Any:
    node: Any = scenario.model_dump(mode="json", by_alias=True)
    for key in field.split("."):
        if isinstance(node, list):
            node = node[int(key)]
        elif isinstance(node, dict):
            node = node.get(key)
        if node is None:
            return None
    return node


def apply_values(scenario: Scenario, uncertainty: Uncertainty, values: Mapping[str, Any]) -> Scenario:
    """The scenario with each declared field set to its value in ``values`` (``{path: value}``).

    Fields a scenario does not have (a policy only the variant adds) are skipped, so one design serves a
    baseline and its variant.
    """
    changes: dict[str, Any] = {}
    for p in uncertainty.params:
        if p.path not in values:
            continue
        try:
            field = resolve_path(scenario, p.path)
        except ScenarioError:
            continue
        changes[field] = values[p.path]
    return scenario.with_changes(changes) if changes else scenario


def _one(scenario: Scenario, path: str, raw: Any, where: str) -> tuple[Uncertain | None, list[str]]:
    label = f"{where}{path}"
    if not isinstance(raw, Mapping):
        return None, [f'{label}: must be a table such as {{ dist = "uniform", low = 0.6, high = 1.0, source = ... }}']
    if raw.get("dist") not in _DISTS:
        return None, [f"{label}.dist: must be one of {', '.join(sorted(_DISTS))}, got {raw.get('dist')!r}"]
    try:
        spec = _SPEC.validate_python(dict(raw))
    except ValidationError as exc:
        lines = format_validation_error(exc, _DISTS)
        return None, [
            f"{label}.{ln}" if not ln.startswith("(top") else f"{label}: {ln.split(': ', 1)[-1]}" for ln in lines
        ]
    try:
        field = resolve_path(scenario, path)
    except ScenarioError as exc:
        return None, [f"{where}{p}" for p in exc.problems]
    current = _current(scenario, field)
    if isinstance(current, dict | list):
        return None, [f"{label}: names a table or a list, not a single value"]
    numeric = not isinstance(spec, _Choice)
    if numeric and (isinstance(current, bool) or (current is not None and not isinstance(current, int | float))):
        return None, [f'{label}: the field holds {current!r}, not a number; use dist = "choice"']
    integer = isinstance(current, int) and not isinstance(current, bool)
    param = Uncertain(path, field, spec, current, integer)
    problems: list[str] = []
    ends = list(dict.fromkeys(spec.values)) if isinstance(spec, _Choice) else [param.low, param.high]
    for value in ends:
        try:
            scenario.with_changes({field: value})
        except ScenarioError as exc:
            detail = exc.problems[0].split(": ", 1)[-1] if exc.problems else "invalid"
            problems.append(f"{label}: the value {value!r} makes the scenario invalid ({detail})")
            break
    return param, problems


def parse_uncertainty(scenario: Scenario, table: Mapping[str, Any], source: str | None = None) -> Uncertainty:
    """Validate an ``[uncertainty]`` table against ``scenario``.

    Raises
    ------
    ScenarioError
        One line per problem, each naming the path (prefixed by ``source: `` when given).
    """
    where = f"{source}: uncertainty." if source else "uncertainty."
    if not isinstance(table, Mapping) or not table:
        raise ScenarioError([f"{where.rstrip('.')}: must be a table with at least one path"])
    params: list[Uncertain] = []
    problems: list[str] = []
    fields: dict[str, str] = {}
    for path, raw in table.items():
        param, found = _one(scenario, str(path), raw, where)
        problems += found
        if param is not None:
            if param.field in fields:
                problems.append(f"{where}{path}: the same field as {fields[param.field]!r}")
            fields[param.field] = param.path
            params.append(param)
    if problems:
        raise ScenarioError(problems)
    return Uncertainty(tuple(params))


def read_toml_file(path: Path) -> dict[str, Any]:
    """A TOML input file (read as scenario files are: regular, small, UTF-8); one-line errors."""
    try:
        return tomllib.loads(read_text_file(path))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"{path}: not valid TOML: {exc}"]) from None
    except RecursionError:
        raise ScenarioError([f"{path}: not valid TOML: arrays or tables nested too deeply"]) from None


def load_uncertainty(
    scenario: Scenario, scenario_path: str | Path | None = None, file: str | Path | None = None
) -> Uncertainty:
    """The uncertainty declared for a scenario: ``file``'s ``[uncertainty]`` table if given, else the
    scenario file's own (inherited through ``extends``).

    Raises
    ------
    ScenarioError
        Neither declares any, or the table is invalid (one line per problem).
    """
    if file is not None:
        data = read_toml_file(Path(file))
        table = data.get("uncertainty", None)
        unknown = sorted(set(data) - {"uncertainty"})
        if unknown:
            raise ScenarioError(
                [f"{file}: {k}: unknown key (an uncertainty file holds only [uncertainty])" for k in unknown]
            )
        if table is None:
            raise ScenarioError([f"{file}: uncertainty: missing (the file needs an [uncertainty] table)"])
        return parse_uncertainty(scenario, table, str(file))
    if scenario_path is None:
        raise ScenarioError(["--uncertainty: the scenario declares no [uncertainty]; give a file with --uncertainty"])
    table = read_scenario_toml(Path(scenario_path)).get("uncertainty")
    if table is None:
        raise ScenarioError(
            [f"{scenario_path}: uncertainty: no [uncertainty] table; add one or give --uncertainty FILE"]
        )
    return parse_uncertainty(scenario, table, str(scenario_path))


def unit_points(n: int, k: int, seed: int) -> np.ndarray:
    """``n`` points of a ``k``-dimensional Latin hypercube in (0, 1) (scipy's sampler).

    Drawn from the ``parameter_draws`` stream of ``seed`` (:mod:`sim.streams`), which no replication
    reads: the same seed gives the same draws, and the draws never move the engine's random numbers.
    """
    gen = Streams(seed).generator("parameter_draws")
    return np.asarray(qmc.LatinHypercube(d=k, seed=gen).random(n))


def declared(items: Iterable[Uncertain]) -> list[dict[str, Any]]:
    """One row per parameter: path, distribution, range, default and source (for tables and provenance)."""
    return [
        {
            "parameter": p.path,
            "distribution": p.describe(),
            "low": p.low,
            "high": p.high,
            "default": p.default,
            "source": p.source,
        }
        for p in items
    ]
