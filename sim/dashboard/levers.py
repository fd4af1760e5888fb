"""Levers: the settings a workshop can change, read from the scenario's own stages, policies and shocks.

A :class:`Lever` names one value of the scenario (a dotted path, as :meth:`sim.Scenario.with_changes`
takes it) or one switch (a policy or shock present or not). :func:`levers_for` lists them for a
scenario: the horizon; per stage with carriers, the carriers and the places per carrier (when the
capacity is one number) and the screening threshold (when the stage screens); per policy, a switch
and its main parameter(s); per shock, a switch. :func:`apply_levers` turns lever values into a new,
validated scenario and reports a refused value as :class:`LeverError`, one line per problem, each
attached to its lever.

Presets (:func:`presets_for`) are the workshop exercises, defined relative to the scenario: each
applies only when the scenario has what it needs, and otherwise says what is missing.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import ScenarioError
from ..plot.lang import policy_type_name, stage_name
from ..policies import policy_name
from ..scenario import Scenario, parse_scenario
from .i18n import Lang, text

__all__ = [
    "HORIZON",
    "MAX_HORIZON_YEARS",
    "Lever",
    "LeverError",
    "Preset",
    "apply_levers",
    "default_values",
    "levers_for",
    "presets_for",
]

HORIZON = "calendar.horizon_years"
"""The horizon lever's key; it applies to both worlds (a comparison needs one horizon)."""

MAX_HORIZON_YEARS = 50.0
"""Longest horizon the dashboard runs (years): an answer within a minute, not a day."""

MAX_SCALE = 10
"""Carriers and places may go up to this many times the scenario's value (and at least 100)."""

BUDGET_ENVELOPE_YUAN = 100e6
"""The budget of the 'spend 100 M yuan' exercise, yuan over the horizon."""

Kind = Literal["int", "float", "bool"]

# Policy type -> (field, kind, unit key) of the parameters a workshop turns; the switch comes with every policy.
MAIN_PARAMETERS: dict[str, tuple[tuple[str, Kind, str], ...]] = {
    "hazard_multiplier": (("factor", "float", "factor"),),
    "arrival_multiplier": (("factor", "float", "factor"),),
    "capacity_change": (("factor", "float", "factor"),),
    "rent_relief": (("refund_share", "float", "share"), ("cap_per_carrier_yuan", "float", "yuan")),
    "specialisation": (("failure_factor", "float", "factor"),),
    "chain_linkage": (),
    "gm_matching": (("share_lacking", "float", "share"),),
    "angel_fund": (("amount_per_firm_yuan", "float", "yuan"),),
    "competition": (("winners_per_event", "int", "firms"), ("prize_per_winner_yuan", "float", "yuan")),
    "construction_subsidy": (("opening_rate_factor", "float", "factor"),),
    "performance_subsidy": (("excellent_yuan", "float", "yuan"),),
    "tax_relief": (("closure_factor", "float", "factor"),),
}

PARAMETER_LABELS: dict[str, tuple[str, str]] = {
    "factor": ("factor", "倍数"),
    "refund_share": ("share of waived rent refunded", "减免租金的返还比例"),
    "cap_per_carrier_yuan": ("cap per carrier", "每个载体上限"),
    "failure_factor": ("failure hazard factor", "失败风险倍数"),
    "share_lacking": ("teams lacking a manager", "缺少经理人的团队比例"),
    "amount_per_firm_yuan": ("invested per firm", "每家企业投资额"),
    "winners_per_event": ("winners per contest", "每届获奖项目"),
    "prize_per_winner_yuan": ("prize per winner", "每个获奖项目奖金"),
    "opening_rate_factor": ("opening rate factor", "新建速度倍数"),
    "excellent_yuan": ("paid to an excellent carrier", "优秀载体奖励"),
    "closure_factor": ("closure hazard factor", "关闭风险倍数"),
}


@dataclass(frozen=True)
class Lever:
    """One setting of the variant.

    Attributes
    ----------
    key:
        Unique name: a dotted scenario path (``stages.incubator.carriers.count``), or
        ``policies.<i>.on`` / ``shocks.<i>.on`` for a switch.
    kind:
        ``int``, ``float`` or ``bool``.
    value:
        The scenario's value (the default and what *reset* restores).
    group:
        What it belongs to: ``calendar``, ``stage:<name>``, ``policy:<name>`` or ``shock:<name>``.
    labels:
        (English, Chinese) label.
    unit:
        Unit key in :data:`sim.dashboard.i18n.TEXTS` (``years``, ``yuan``, ...), or empty.
    low, high:
        Accepted range (inclusive) for numbers; None where only the schema limits it.
    step:
        Slider / spinner step.
    """

    key: str
    kind: Kind
    value: Any
    group: str
    labels: tuple[str, str]
    unit: str = ""
    low: float | None = None
    high: float | None = None
    step: float = 1.0

    def label(self, lang: Lang) -> str:
        """The label in ``lang``, with its unit."""
        name = self.labels[1] if lang == "zh" else self.labels[0]
        return f"{name} ({text(self.unit, lang)})" if self.unit else name


class LeverError(ScenarioError):
    """Lever values the dashboard or the scenario schema refuses.

    ``by_lever`` maps a lever key to its one-line message; ``problems`` holds every line (as in
    :class:`~sim.errors.ScenarioError`), including any not attached to a lever.
    """

    def __init__(self, problems: list[tuple[str | None, str]]) -> None:
        super().__init__([line for _, line in problems])
        self.by_lever: dict[str, str] = {key: line for key, line in problems if key is not None}


@dataclass(frozen=True)
class Preset:
    """A workshop exercise: lever values of both worlds, or why it does not apply here.

    ``baseline`` and ``variant`` are lever values over the scenario's defaults; ``reason`` (English,
    Chinese) is empty when the preset applies.
    """

    key: str
    applies: bool
    reason: tuple[str, str] = ("", "")
    baseline: Mapping[str, Any] = field(default_factory=dict)
    variant: Mapping[str, Any] = field(default_factory=dict)
    baseline_note: tuple[str, str] = ("", "")


def _upper(value: float, floor: float = 100) -> float:
    return float(max(floor, MAX_SCALE * value))


def levers_for(scenario: Scenario) -> list[Lever]:
    """The levers of ``scenario``, in the order the page shows them."""
    out = [
        Lever(
            HORIZON,
            "float",
            scenario.calendar.horizon_years,
            "calendar",
            ("Horizon", "模拟年限"),
            "years",
            max(1.0, scenario.calendar.warmup_years + 1.0),
            MAX_HORIZON_YEARS,
            1.0,
        )
    ]
    for name, st in scenario.stages.items():
        group = f"stage:{name}"
        en, zh = stage_name(name, st.label, "en"), stage_name(name, st.label, "zh")
        if st.carriers is not None:
            base = f"stages.{name}.carriers"
            count = st.carriers.count
            out.append(
                Lever(
                    f"{base}.count", "int", count, group, (f"{en}: carriers", f"{zh}：载体数量"), "", 1, _upper(count)
                )
            )
            if isinstance(st.carriers.capacity, int):
                cap = st.carriers.capacity
                out.append(
                    Lever(
                        f"{base}.capacity",
                        "int",
                        cap,
                        group,
                        (f"{en}: places per carrier", f"{zh}：每个载体的席位"),
                        "",
                        1,
                        _upper(cap),
                    )
                )
        screening = st.admission.screening
        if screening is not None:
            out.append(
                Lever(
                    f"stages.{name}.admission.screening.threshold",
                    "float",
                    screening.threshold,
                    group,
                    (f"{en}: admission threshold (screening)", f"{zh}：入驻门槛（筛选）"),
                    "quality_sd",
                    -5.0,
                    5.0,
                    0.1,
                )
            )
    for i, pol in enumerate(scenario.policies):
        pname = policy_name(pol, i)
        group = f"policy:{pname}"
        kind_en, kind_zh = policy_type_name(pol.type, "en"), policy_type_name(pol.type, "zh")
        out.append(Lever(f"policies.{i}.on", "bool", True, group, (f"{pname} ({kind_en})", f"{pname}（{kind_zh}）")))
        for fname, kind, unit in MAIN_PARAMETERS.get(pol.type, ()):
            value = getattr(pol, fname)
            en_l, zh_l = PARAMETER_LABELS.get(fname, (fname, fname))
            low: float | None
            high: float | None
            if unit == "share":
                low, high, step = None, None, 0.05  # the schema's own 0..1 check speaks
            elif unit == "factor":
                low, high, step = 0.0, 5.0, 0.05
            elif unit == "yuan":
                low, high, step = 0.0, _upper(float(value), 1e6), 10_000.0
            else:
                low, high, step = 0.0, _upper(float(value)), 1.0
            out.append(
                Lever(
                    f"policies.{i}.{fname}",
                    kind,
                    value,
                    group,
                    (f"{pname}: {en_l}", f"{pname}：{zh_l}"),
                    unit,
                    low,
                    high,
                    step,
                )
            )
    for i, shock in enumerate(scenario.shocks):
        out.append(
            Lever(f"shocks.{i}.on", "bool", True, f"shock:{shock.name}", (f"shock {shock.name}", f"冲击 {shock.name}"))
        )
    return out


def default_values(levers: list[Lever]) -> dict[str, Any]:
    """Lever key -> the scenario's value."""
    return {lv.key: lv.value for lv in levers}


def _coerce(lever: Lever, value: Any) -> tuple[Any, str | None]:
    """The value as the lever's kind, or the one-line problem."""
    if lever.kind == "bool":
        return bool(value), None
    if value is None or isinstance(value, bool):
        return None, f"{lever.key}: a number is needed, got {value!r}"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None, f"{lever.key}: must be a number, got {value!r}"
    if number != number:
        return None, f"{lever.key}: must be a number, got NaN"
    if lever.kind == "int":
        if number != int(number):
            return None, f"{lever.key}: must be a whole number, got {value!r}"
        number = int(number)
    if lever.low is not None and lever.high is not None and not lever.low <= number <= lever.high:
        return None, f"{lever.key}: must be between {lever.low:g} and {lever.high:g} on the dashboard, got {number:g}"
    return number, None


_INDEXED = re.compile(r"\[(\d+)\]")


def _lever_of(line: str, keys: list[str], renumber: Mapping[str, dict[int, int]]) -> str | None:
    """The lever a validator line speaks of (its path, with list indices mapped back), if any."""
    path = line.split(":", 1)[0].strip()
    parts = _INDEXED.sub(r".\1", path).split(".")
    if len(parts) >= 2 and parts[0] in renumber and parts[1].isdigit():
        parts[1] = str(renumber[parts[0]].get(int(parts[1]), int(parts[1])))
    dotted = ".".join(parts)
    best = None
    for key in keys:
        stem = key[: -len(".on")] if key.endswith(".on") else key
        if (dotted == stem or dotted.startswith(stem + ".") or stem.startswith(dotted + ".")) and (
            best is None or len(key) > len(best)
        ):
            best = key
    return best


def apply_levers(
    scenario: Scenario, levers: list[Lever], values: Mapping[str, Any], name: str | None = None
) -> Scenario:
    """The scenario with the lever ``values`` applied (levers not given keep the scenario's value).

    Parameters
    ----------
    scenario:
        The scenario the levers were read from (:func:`levers_for`).
    levers, values:
        The levers and lever key -> value. A policy or shock switched off is left out.
    name:
        Name of the result (default: the scenario's).

    Raises
    ------
    LeverError
        A value outside the lever's range or refused by the scenario schema, one line each.
    """
    problems: list[tuple[str | None, str]] = []
    data = copy.deepcopy(scenario.model_dump(mode="json", by_alias=True, exclude_none=True))
    switched_off: dict[str, set[int]] = {"policies": set(), "shocks": set()}
    known = {lv.key: lv for lv in levers}
    for key, raw in values.items():
        lever = known.get(key)
        if lever is None:
            problems.append((None, f"{key}: no such lever in scenario {scenario.name!r}"))
            continue
        value, problem = _coerce(lever, raw)
        if problem is not None:
            problems.append((key, problem))
            continue
        parts = key.split(".")
        if key.endswith(".on"):
            if not value:
                switched_off[parts[0]].add(int(parts[1]))
            continue
        node: Any = data
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[parts[-1]] = value
    if problems:
        raise LeverError(problems)
    keys = list(known)
    if any(switched_off.values()):
        # Check the values with every policy and shock still in place, so a message names the
        # lever's own index (switching items off renumbers the rest).
        try:
            parse_scenario(data)
        except ScenarioError as exc:
            raise LeverError([(_lever_of(line, keys, {}), line) for line in exc.problems]) from None
    renumber: dict[str, dict[int, int]] = {}
    for table, off in switched_off.items():
        kept = [i for i in range(len(data.get(table, []))) if i not in off]
        renumber[table] = {new: old for new, old in enumerate(kept)}
        if table in data:
            data[table] = [data[table][i] for i in kept]
    if name is not None:
        data["name"] = name
    try:
        return parse_scenario(data)
    except ScenarioError as exc:
        raise LeverError([(_lever_of(line, keys, renumber), line) for line in exc.problems]) from None


def _accelerator(scenario: Scenario) -> str | None:
    for name, st in scenario.stages.items():
        if st.carriers is not None and ("accelerator" in name.lower() or "accelerator" in (st.label or "").lower()):
            return name
    return None


def presets_for(scenario: Scenario, levers: list[Lever]) -> list[Preset]:
    """The three workshop exercises, each applied to this scenario or saying why it cannot be."""
    keys = {lv.key: lv for lv in levers}
    out: list[Preset] = []

    acc = _accelerator(scenario)
    if acc is None:
        out.append(
            Preset("preset_bottleneck", False, ("it has no accelerator stage with carriers", "没有带载体的加速器阶段"))
        )
    else:
        # The baseline is the accelerator with a quarter of its places (or carriers): a bottleneck; the
        # variant is the scenario's accelerator, so the difference is what relieving it does.
        cap_key, count_key = f"stages.{acc}.carriers.capacity", f"stages.{acc}.carriers.count"
        key = cap_key if cap_key in keys else count_key
        current = int(keys[key].value)
        quarter = max(1, current // 4)
        what_en, what_zh = ("places", "席位") if key == cap_key else ("carriers", "载体")
        if current < 2:
            out.append(
                Preset(
                    "preset_bottleneck",
                    False,
                    (f"its accelerator has a single place ({key})", f"加速器只有一个席位（{key}）"),
                )
            )
        else:
            out.append(
                Preset(
                    "preset_bottleneck",
                    True,
                    baseline={key: quarter},
                    baseline_note=(
                        f"the accelerator with a quarter of its {what_en} ({quarter} instead of {current})",
                        f"加速器{what_zh}减为四分之一（{quarter}，原为 {current}）",
                    ),
                )
            )

    relief = [i for i, p in enumerate(scenario.policies) if p.type == "rent_relief"]
    if not scenario.shocks or not relief:
        missing_en = " and ".join(
            w for w, miss in (("a shock", not scenario.shocks), ("a rent_relief policy", not relief)) if miss
        )
        missing_zh = "、".join(w for w, miss in (("冲击", not scenario.shocks), ("租金减免政策", not relief)) if miss)
        out.append(
            Preset(
                "preset_shock",
                False,
                (
                    f"it needs {missing_en} (try scenarios/covid_rent_relief.toml)",
                    f"缺少{missing_zh}（可试 scenarios/covid_rent_relief.toml）",
                ),
            )
        )
    else:
        off = {f"policies.{i}.on": False for i in relief}
        on = {f"policies.{i}.on": True for i in relief}
        out.append(
            Preset(
                "preset_shock",
                True,
                baseline=off,
                variant=on,
                baseline_note=("the shock without rent relief", "有冲击、无租金减免"),
            )
        )

    if len(scenario.policies) < 2:
        n = len(scenario.policies)
        out.append(
            Preset(
                "preset_mix",
                False,
                (
                    f"it needs two or more policy instruments, it has {n} (try scenarios/policy_mix.toml)",
                    f"需要至少两个政策工具，当前只有 {n} 个（可试 scenarios/policy_mix.toml）",
                ),
            )
        )
    else:
        all_off = {f"policies.{i}.on": False for i in range(len(scenario.policies))}
        out.append(
            Preset(
                "preset_mix",
                True,
                baseline=all_off,
                variant={},
                baseline_note=("no support policy", "无扶持政策"),
            )
        )
    return out
