"""How numbers read in the terminal: readers' metric names, percentages, intervals and "n.s.".

Files on disk keep the machine names (``stages.incubator.failures``); what a planner reads says
``Incubator: failures``. One way to print each kind of number, shared by ``run``, ``compare`` and
``sweep``:

* a level with its interval: ``538.7 ± 8.0`` (the mean alone when the interval has no width);
* a share: ``74.7%`` (with ``± 2.4 pp``);
* a paired difference: ``+36.0 [+9.1, +62.9]``, followed by ``n.s.`` when the interval contains 0;
* no ``inf``: an interval without a bound says ``no bound``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping

from ..metric_names import NS, metric_label, metric_unit, pretty_name
from ..scenario import Scenario

__all__ = [
    "NS",
    "difference_text",
    "field_label",
    "is_share",
    "label",
    "level_text",
    "number",
    "significant",
    "spend_years",
    "stage_labels",
    "yuan_text",
]


def stage_labels(scenario: Scenario) -> dict[str, str]:
    """Every stage's reader's name: its label in the scenario, else its name in words (``Maker space``)."""
    return {n: st.label or pretty_name(n) for n, st in scenario.stages.items()}


def label(metric: str, stage_labels: Mapping[str, str] | None = None) -> str:
    """A reader's name for a metric, with the scenario's stage labels."""
    labels = stage_labels or {}
    return metric_label(metric, lambda s: labels.get(s) or pretty_name(s))


def field_label(path: str) -> str:
    """A scenario field's path for a table header: ``stages.incubator.carriers.capacity`` -> ``incubator
    carriers capacity`` (the path itself is in the files and in the command that was typed)."""
    return path.removeprefix("stages.").replace(".", " ").replace("_", " ")


def number(x: float) -> str:
    """A number to about three significant figures, thousands separated; ``-`` when missing."""
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return "no bound"
    ax = abs(x)
    if ax >= 1000 or (x == round(x) and ax < 1e15):
        return f"{x:,.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    if x == 0:
        return "0"
    return f"{x:.3g}"


def _signed(x: float) -> str:
    text = number(x)
    return f"+{text}" if x > 0 and math.isfinite(x) else text


def significant(low: float, high: float) -> bool:
    """Whether an interval excludes 0 (an interval that is missing is not significant)."""
    return not (math.isnan(low) or math.isnan(high)) and (low > 0 or high < 0)


def level_text(mean: float, low: float = math.nan, high: float = math.nan, share: bool = False) -> str:
    """``mean ± half-width``; shares in per cent (``74.7% ± 2.4 pp``); the mean alone without a width."""
    if math.isnan(mean):
        return "-"
    scale = 100.0 if share else 1.0
    text = f"{100 * mean:.1f}%" if share else number(mean)
    if math.isnan(low) or math.isnan(high) or high == low:
        return text
    half = (high - low) / 2 * scale
    return f"{text} ± {half:.1f} pp" if share else f"{text} ± {number(half)}"


def difference_text(
    diff: float, low: float, high: float, share: bool = False, fmt: Callable[[float], str] | None = None
) -> str:
    """``+36.0 [+9.1, +62.9]`` (shares in percentage points), then ``n.s.`` when the interval holds 0."""
    if math.isnan(diff):
        return "-"

    def signed(x: float) -> str:
        if fmt is not None:
            text = fmt(x)
            return f"+{text}" if x > 0 and math.isfinite(x) else text
        return f"{100 * x:+.1f} pp" if share else _signed(x)

    if math.isnan(low) or math.isnan(high) or low == high == diff:  # no interval, or no variation at all
        return signed(diff)
    text = f"{signed(diff)} [{signed(low)}, {signed(high)}]"
    return text if significant(low, high) else f"{text} {NS}"


def yuan_text(x: float) -> str:
    """Yuan, compactly: ``12.3M``, ``830k``, ``950``; ``no bound`` for an infinite bound."""
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return "no bound"
    ax = abs(x)
    for div, unit in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if ax >= div:
            return f"{x / div:.3g}{unit}"
    return f"{x:.3g}"


def spend_years(metrics: Iterable[str]) -> str:
    """The calendar years a spend covers, from the ``budget.year.<YYYY>`` metrics: ``2019-2026 (8 years)``."""
    years = sorted(int(m.rsplit(".", 1)[1]) for m in metrics if re.fullmatch(r"budget\.year\.\d{4}", m))
    if not years:
        return "over the horizon"
    if len(years) == 1:
        return f"in {years[0]}"
    return f"over {years[0]}-{years[-1]} ({len(years)} years)"


def is_share(metric: str) -> bool:
    """Whether a metric is a share (printed in per cent)."""
    return metric_unit(metric) == "share"
