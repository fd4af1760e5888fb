"""Readers' names and units of summary metrics (``stages.incubator.failures`` -> ``Incubator: failures``).

Tables on disk keep the machine names; printouts, reports and figures show these. No plotting
library is needed, so the command line can use them without loading matplotlib.

Every name exists in English (the default everywhere) and in Simplified Chinese (``lang="zh"``, for
the workshop dashboard's figures); a metric without a Chinese name keeps its English one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

__all__ = [
    "LANGS",
    "NS",
    "Lang",
    "metric_label",
    "metric_unit",
    "outcome_unit",
    "pretty_name",
    "source_label",
    "unit_label",
]

NS = "n.s."
"""Marks an effect whose confidence interval contains 0 (not significant at the interval's level), in every
printout, table and figure."""

Lang = Literal["en", "zh"]
"""A language of readers' names: English or Simplified Chinese."""

LANGS: tuple[Lang, ...] = ("en", "zh")

_MEASURE: dict[str, tuple[str, str]] = {
    "entries": ("entries", "入驻"),
    "graduations": ("graduations", "毕业"),
    "failures": ("failures", "失败"),
    "timeouts": ("time-outs", "期满离开"),
    "reneges": ("gave up waiting", "放弃等候"),
    "skips": ("turned away (full)", "满员未能进入"),
    "rejections": ("rejected at screening", "筛选未通过"),
    "mean_stay_years": ("mean stay", "平均停留时间"),
    "completed_stays": ("completed stays", "已结束的入驻"),
    "mean_occupancy": ("mean occupancy", "平均在驻企业数"),
    "occupancy_at_horizon": ("occupancy at the horizon", "期末在驻企业数"),
    "found_full": ("applications that found it full", "遇满员的申请"),
}
"""Measure of a stage -> (English, Chinese) name."""

_OVERALL: dict[str, tuple[str, str]] = {
    "arrivals": ("New firms (after the warm-up)", "新进入企业（预热期后）"),
    "initial_stock": ("Firms at the start", "期初企业"),
    "firms": ("Firms in all", "企业总数"),
    "active_at_horizon": ("Firms active at the horizon", "期末存续企业"),
    "failed": ("Firms failed", "失败企业"),
    "exited": ("Firms exited", "退出企业"),
    "graduations": ("Graduations (all stages)", "毕业（所有阶段）"),
    "jobs.at_horizon": ("Jobs in active firms at the horizon", "期末存续企业的就业岗位"),
    "jobs.per_active_firm": ("Jobs per active firm", "每家存续企业的就业岗位"),
    "listings.total": ("Listings", "上市企业"),
    "budget.total_yuan": ("Spend (yuan)", "支出（元）"),
    "surviving_firms_3y": ("Firms not failed 3 years after arrival", "进入 3 年后未失败的企业"),
    "surviving_firms_5y": ("Firms not failed 5 years after arrival", "进入 5 年后未失败的企业"),
    "jobs_at_horizon": ("Jobs in active firms at the horizon", "期末存续企业的就业岗位"),
    "listings": ("Listings", "上市企业"),
}
"""System-wide metric -> (English, Chinese) name."""

_GROUP: dict[str, tuple[str, str]] = {
    "all": ("all firms", "全部企业"),
    "never_in_carrier": ("never in a carrier", "从未入驻载体"),
    "ever_in_carrier": ("ever in a carrier", "曾入驻载体"),
}
"""Firm group of a survival metric -> (English, Chinese) name."""

_MILESTONE_ZH = {
    "high_tech": "认定为高新技术企业",
    "revenue": "营收达标",
    "financing": "获得融资",
    "acquisition_or_listing": "被并购或上市",
}

_MARKET_ZH = {"star": "科创板", "neeq": "新三板", "other": "其他市场"}

_CARRIER_ZH = {
    "open": "期末在营载体",
    "municipal": "期末市级载体",
    "provincial": "期末省级载体",
    "national": "期末国家级载体",
    "opened": "新开载体",
    "closed": "关闭载体",
    "promoted": "升级载体",
    "demoted": "降级载体",
    "unqualified_ratings": "考核不合格次数",
}

_UNIT_ZH = {
    "share": "比例",
    "years": "年",
    "yuan": "元",
    "jobs per firm": "个岗位/家企业",
    "jobs": "个岗位",
    "listings": "家上市企业",
    "graduations": "次毕业",
    "firms": "家企业",
}
"""Units of :func:`metric_unit` as Chinese writes them after a number (with the measure word)."""


def _pick(names: tuple[str, str], lang: Lang) -> str:
    """The name in ``lang`` of an (English, Chinese) pair."""
    return names[1] if lang == "zh" else names[0]


def pretty_name(name: str) -> str:
    """``industrial_park`` -> ``Industrial park``."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def source_label(source: str, stage_label: Callable[[str], str] = pretty_name) -> str:
    """A reader's name for a firm source (``source`` of the firm table): ``stock:incubator:0`` ->
    ``Initial stock in Incubator``, ``competition:cup`` -> ``Competition cup``, ``founders`` -> ``Founders``.

    Initial-stock entries after the first carry their place in the scenario's ``initial_stock`` list
    (``stock:incubator:2`` -> ``Initial stock in Incubator (entry 3)``).
    """
    kind, _, rest = source.partition(":")
    if kind == "stock" and rest:
        stage, _, index = rest.rpartition(":")
        entry = f" (entry {int(index) + 1})" if index.isdigit() and int(index) > 0 else ""
        return f"Initial stock in {stage_label(stage)}{entry}"
    if kind == "competition" and rest:
        return f"Competition {rest}"
    return pretty_name(source)


def metric_label(metric: str, stage_label: Callable[[str], str] = pretty_name, lang: Lang = "en") -> str:
    """A reader's name for a summary metric (``stages.incubator.failures`` -> ``Incubator: failures``).

    ``stage_label`` names a stage (in ``lang``); ``lang="zh"`` gives the Chinese name
    (``孵化器：失败``).
    """
    zh = lang == "zh"
    if metric in _OVERALL:
        return _pick(_OVERALL[metric], lang)
    m = re.match(r"^survival\.([a-z_]+)\.([0-9.]+)y$", metric)
    if m:
        years, group = m.group(2), m.group(1)
        name = _pick(_GROUP[group], lang) if group in _GROUP else group
        return f"{years} 年后未失败：{name}" if zh else f"Not failed after {years} y, {name}"
    parts = metric.split(".")
    if len(parts) == 3 and parts[0] == "stages":
        if parts[2] in _MEASURE:
            return f"{stage_label(parts[1])}{'：' if zh else ': '}{_pick(_MEASURE[parts[2]], lang)}"
        return f"{stage_label(parts[1])}: {parts[2].replace('_', ' ')}"
    if zh:
        label = _family_zh(parts, stage_label)
        if label is not None:
            return label
    return pretty_name(" ".join(p.replace("_", " ") for p in parts))


def _family_zh(parts: list[str], stage_label: Callable[[str], str]) -> str | None:
    """The Chinese name of a metric of a family keyed by stage, test, market, year or policy, if known.

    A policy's name (``budget.policy.<name>``) is the scenario's own and is shown as given.
    """
    head, rest = parts[0], parts[1:]
    if head == "milestones" and rest and rest[-1] in _MILESTONE_ZH:
        test = _MILESTONE_ZH[rest[-1]]
        return f"{stage_label(rest[0])}毕业：{test}" if len(rest) == 2 else f"毕业企业：{test}"
    if head == "listings" and len(rest) == 1 and rest[0] in _MARKET_ZH:
        return f"上市企业：{_MARKET_ZH[rest[0]]}"
    if head == "graduates_cumulative" and len(rest) == 2:
        return f"{stage_label(rest[0])}：截至 {rest[1]} 年末累计毕业"
    if head == "carriers" and len(rest) == 2 and rest[1] in _CARRIER_ZH:
        return f"{stage_label(rest[0])}：{_CARRIER_ZH[rest[1]]}"
    if head == "budget" and len(rest) == 2 and rest[0] == "year":
        return f"{rest[1]} 年支出（元）"
    if head == "budget" and rest[:1] == ["policy"] and len(rest) in (2, 3):
        return f"支出：{rest[1]}" + (f"，{rest[2]} 年" if len(rest) == 3 else "") + "（元）"
    return None


def metric_unit(metric: str) -> str:
    """The unit of a summary metric: ``share``, ``years``, ``yuan``, ``jobs``, ``listings`` or ``firms``."""
    if metric.startswith("survival."):
        return "share"
    if metric.endswith("_years"):
        return "years"
    if metric.endswith("_yuan") or metric.startswith("budget."):
        return "yuan"
    if metric == "jobs.per_active_firm":
        return "jobs per firm"
    if metric.startswith("jobs"):
        return "jobs"
    if metric.startswith("listings"):
        return "listings"
    if metric == "graduations":
        return "graduations"
    return "firms"


def unit_label(unit: str, lang: Lang = "en") -> str:
    """A unit of :func:`metric_unit` as written after a number in ``lang`` (``firms``, ``家企业``)."""
    return _UNIT_ZH.get(unit, unit) if lang == "zh" else unit


_OUTCOME_UNIT: dict[str, tuple[str, str]] = {
    "active_at_horizon": ("active firm", "家存续企业"),
    "surviving_firms_3y": ("firm not failed at 3 years", "家 3 年未失败的企业"),
    "surviving_firms_5y": ("firm not failed at 5 years", "家 5 年未失败的企业"),
    "graduations": ("graduation", "次毕业"),
    "listings": ("listing", "家上市企业"),
    "jobs_at_horizon": ("job", "个岗位"),
}
"""Priced outcome -> one unit of it (English, Chinese with its measure word)."""


def outcome_unit(outcome: str, lang: Lang = "en") -> str:
    """One unit of a priced outcome (``cost_effectiveness.csv``'s ``metric``): ``job``, ``graduation``, ...

    The cost per additional unit is "yuan per additional <unit>". In Chinese the unit carries its
    measure word (``个岗位``), so that "per unit" is ``每`` and the unit (``每个岗位``).
    """
    if outcome in _OUTCOME_UNIT:
        return _pick(_OUTCOME_UNIT[outcome], lang)
    if outcome.startswith("survival."):
        return _pick(("percentage point", "个百分点"), lang)
    if lang == "zh":
        return unit_label(metric_unit(outcome), lang)
    unit = metric_unit(outcome)
    return unit[:-1] if unit.endswith("s") else unit
