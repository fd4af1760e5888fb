"""The figures' texts in Simplified Chinese: one table of phrases, stage names and instrument names.

Figures are written in English; every text a figure draws goes through :func:`phrase` (usually as
:meth:`FigureInfo.t <sim.plot.style.FigureInfo.t>`), keyed by its English template, so English
output is the template itself and the Chinese one comes from :data:`ZH`. Templates carry their
numbers as ``str.format`` placeholders (``"{n:,} replications"``), so a translation can put them
where Chinese wants them. A phrase missing from the table stays English: the dashboard's tests draw
every figure it shows in Chinese and look for English words.

Units in Chinese: 元, 万元 and 亿元 (the units Chinese budgets use); percentage points are 个百分点,
"n.s." is 不显著.
"""

from __future__ import annotations

from ..metric_names import LANGS, Lang, pretty_name

__all__ = ["LANGS", "POLICY_TYPE_NAMES", "STAGE_NAMES_ZH", "ZH", "Lang", "phrase", "policy_type_name", "stage_name"]

STAGE_NAMES_ZH: dict[str, str] = {
    "maker_space": "众创空间",
    "incubator": "孵化器",
    "accelerator": "加速器",
    "industrial_park": "产业园",
    "market": "开放市场",
}
"""Chinese names of the stage keys the shipped scenarios use."""

POLICY_TYPE_NAMES: dict[str, tuple[str, str]] = {
    "hazard_multiplier": ("hazard multiplier", "风险倍数"),
    "arrival_multiplier": ("more founders", "创业者增加"),
    "capacity_change": ("capacity change", "容量调整"),
    "rent_relief": ("rent relief", "租金减免"),
    "specialisation": ("sector focus", "专业化"),
    "chain_linkage": ("chain linkage", "链条衔接"),
    "gm_matching": ("manager matching", "职业经理人匹配"),
    "angel_fund": ("angel fund", "天使基金"),
    "competition": ("competition prizes", "创业大赛"),
    "construction_subsidy": ("construction subsidy", "建设补贴"),
    "performance_subsidy": ("performance subsidy", "绩效补贴"),
    "tax_relief": ("tax relief", "税收减免"),
}
"""Policy type -> (English, Chinese) name of the kind of instrument."""


def stage_name(name: str, label: str | None, lang: Lang = "en") -> str:
    """A stage's display name: the scenario's ``label`` (or the prettified key) in English; in Chinese
    the standard name of a shipped stage key, else the scenario's label."""
    if lang == "zh" and name in STAGE_NAMES_ZH:
        return STAGE_NAMES_ZH[name]
    return label or pretty_name(name)


def policy_type_name(kind: str, lang: Lang = "en") -> str:
    """The kind of instrument a policy type is (``rent_relief`` -> ``rent relief`` / ``租金减免``)."""
    en, zh = POLICY_TYPE_NAMES.get(kind, (kind.replace("_", " "), kind))
    return zh if lang == "zh" else en


def phrase(english: str, lang: Lang = "en", /, **values: object) -> str:
    """``english`` in ``lang``, its ``{placeholders}`` filled with ``values`` (none: the text as is)."""
    template = ZH.get(english, english) if lang == "zh" else english
    return template.format(**values) if values else template


ZH: dict[str, str] = {
    # style: footer, time axes, empty panels
    "incuchain {version}": "incuchain {version}",
    "scenario {name}": "情景 {name}",
    "seed {seed}": "种子 {seed}",
    "replication {rep}": "第 {rep} 次重复",
    "{n} replications ({span})": "{n} 次重复（{span}）",
    "year": "年份",
    "years since the start": "起始后年数",
    "model year": "模型年份",
    "{years:g} years": "{years:g} 年",
    "{day} {month} {year}": "{year} 年 {month_number} 月 {day} 日",
    "no data": "无数据",
    # flow
    "How firms move through the chain": "企业如何在链条中流动",
    "no firms": "没有企业",
    "Active at the horizon": "期末存续",
    "Exited": "退出",
    "Failed": "失败",
    "Never admitted": "从未入驻",
    "Status at the horizon": "期末状态",
    "Status at the horizon ({date})": "期末状态（{date}）",
    "1st stage (entry)": "第 1 阶段（进入）",
    "{ordinal} stage": "第 {n} 阶段",
    "{firms} firms": "{firms} 家企业",
    "one replication": "一次重复",
    "mean per replication over {reps} replications": "{reps} 次重复的每次平均",
    "Each column accounts for all {total} firms ({per}). Band width is proportional to firms; numbers are firms. "
    "Faint lanes carry firms whose path has ended to their status at the horizon; failures are hatched.": (
        "每一列都包含全部 {total} 家企业（{per}）。带宽与企业数成正比，数字为企业数。"
        "浅色通道把已结束路径的企业带到其期末状态；失败用斜线填充。"
    ),
    # occupancy
    "Firms in each stage and on its waiting list": "各阶段企业数与等候名单",
    "Firms in each stage": "各阶段企业数",
    "Change in the firms in each stage: variant \u2212 baseline": "各阶段企业数的变化：方案 \u2212 基准",
    "firms in the stage": "阶段内企业",
    "firms on the waiting list": "等候名单上的企业",
    "mean paired difference in {name}": "{name}的平均配对差",
    "{group}: {measure}": "{group}：{measure}",
    "capacity": "容量",
    "capacity, {group}": "容量，{group}",
    "no change in any replication": "各次重复均无变化",
    "firms": "企业数（家）",
    "firms, variant \u2212 baseline": "企业数，方案 \u2212 基准",
    "{level:.0%} confidence band": "{level:.0%} 置信带",
    "Lines: mean over {n_reps} paired replications of variant \u2212 baseline, at the end of each month (the arms "
    "share their random numbers); bands: {level:.0%} t-based confidence interval of that mean, month by month. "
    "A band that excludes 0 marks a change larger than the replications' noise.": (
        "线：方案 \u2212 基准在 {n_reps} 次配对重复上的平均值，取每月月末（两组使用相同的随机数）；"
        "带：该平均值逐月的 {level:.0%} 置信区间（基于 t 分布）。不包含 0 的带表示变化大于重复之间的随机波动。"
    ),
    "Lines: mean over {n_reps} replications, at the end of each month; bands: {level:.0%} t-based confidence "
    "interval of that mean.": (
        "线：{n_reps} 次重复的平均值，取每月月末；带：该平均值的 {level:.0%} 置信区间（基于 t 分布）。"
    ),
    "Lines: mean over {n_reps} replications, at the end of each month (the uncertainty of a difference between "
    "arms is in the paired-difference figure).": (
        "线：{n_reps} 次重复的平均值，取每月月末（两组之间差异的不确定性见配对差异图）。"
    ),
    "One replication: values at the end of each month (no confidence band).": "一次重复：每月月末的数值（无置信带）。",
    " Dotted: capacity at the start (places in the stage's carriers, before any policy).": (
        "点线：期初容量（该阶段载体的席位，未计任何政策）。"
    ),
    " Waiting lists are drawn for stages where firms waited.": "有企业等候的阶段画出了等候名单。",
    "\nNo firm waited for a place in any stage.": "\n没有企业在任何阶段等候席位。",
    # survival
    "How long firms survive": "企业存活多久",
    "US BLS: establishments born March 1994, still open": "美国劳工统计局（BLS）：1994 年 3 月新设机构的存续比例",
    "All firms": "全部企业",
    "Never in a carrier": "从未入驻载体",
    "Ever in a carrier": "曾入驻载体",
    "{name} (n = {n:,})": "{name}（n = {n:,}）",
    "By entry stage": "按进入阶段",
    "By support: ever vs never in a carrier": "按扶持：曾入驻与从未入驻载体",
    "{stage} entrants (n = {n:,})": "进入{stage}的企业（n = {n:,}）",
    "{stage} entrants vs the US BLS curve": "进入{stage}的企业与美国 BLS 曲线对比",
    "years since arrival": "进入后年数",
    "not failed (%)": "未失败（%）",
    "Kaplan-Meier estimates (firms failing; exits and firms active at the horizon are censored); bands: "
    "{level:.0%} pointwise confidence intervals (log-log).\nEver vs never in a carrier mixes selection and time "
    "at risk with any effect of support: compare scenarios for effects.": (
        "Kaplan-Meier 生存估计（以企业失败为事件；退出的企业和期末存续的企业作删失处理）；"
        "带：{level:.0%} 逐点置信区间（双对数变换）。\n"
        "“曾入驻”与“从未入驻”载体的差别混合了选择效应、风险暴露时间和扶持的作用：政策效果请用情景对比。"
    ),
    " BLS: share of establishments still open at each age.": "BLS：各年龄仍在经营的机构比例。",
    " Firms of {reps} replications pooled.": "合并了 {reps} 次重复的企业。",
    "mean, 95% CI": "均值，95% 置信区间",
    "no survival estimates (the horizon is shorter than a year?)": "没有存活估计（模拟期不足一年？）",
    "{first} and {last}": "{first}、{last}",
    ", ": "、",
    "Share of firms not failed {at} years after arrival": "进入 {at} 年后未失败的企业比例",
    "Share of firms not failed": "未失败的企业比例",
    "Kaplan-Meier survival of each replication at 1, 3, 5 and 10 years (where the horizon reaches); points: mean "
    "over {reps} replications; bars: 95% t-based confidence interval.": (
        "每次重复在 1、3、5、10 年（模拟期所及）的 Kaplan-Meier 存活率；点：{reps} 次重复的平均值；"
        "误差线：95% 置信区间（基于 t 分布）。"
    ),
    # carriers
    "Carriers by stage and level": "各阶段各级别的载体",
    "no carriers": "没有载体",
    "{stage}: {count}": "{stage}：{count}",
    "carriers": "载体数",
    "municipal": "市级",
    "provincial": "省级",
    "national": "国家级",
    "Numbers: carriers at the horizon (after the stage's name: all levels).": (
        "数字：期末载体数（阶段名称后为各级别合计）。"
    ),
    " Mean per replication over {reps} replications (levels are drawn at random).": (
        "{reps} 次重复的每次平均（级别为随机抽取）。"
    ),
    " Carriers are fixed over the run.": "载体数在整个模拟期内不变。",
    # effects
    "Effect of the variant against the baseline": "方案相对基准的效果",
    "the variant changed none of these outcomes": "方案没有改变这些结果中的任何一项",
    "baseline 0: no relative change": "基准为 0：无相对变化",
    "baseline": "基准",
    "variant": "方案",
    "variant \u2212 baseline [{level:.0%} CI]": "方案 \u2212 基准 [{level:.0%} 置信区间]",
    "change against the baseline mean (%)": "相对基准均值的变化（%）",
    " pp": " 个百分点",
    "no bound": "无界",
    "n.s.": "不显著",
    "Paired differences over {n} replications sharing their random numbers; lines: {level:.0%} t-based "
    "confidence intervals; filled markers: the interval excludes 0; grey, dashed, hollow and marked n.s.: the "
    "interval contains 0 (not significant). pp = percentage points.": (
        "{n} 次使用相同随机数的重复的配对差；线：{level:.0%} 置信区间（基于 t 分布）；"
        "实心标记：区间不包含 0；灰色虚线、空心并标“不显著”：区间包含 0（统计上不显著）。"
    ),
    "\nNot shown: {n} outcomes the variant left unchanged in every replication.": (
        "\n未显示：{n} 项在每次重复中都未被方案改变的结果。"
    ),
    # budget
    "Support spending by instrument and year": "按工具和年份的扶持支出",
    "no payments": "没有支付",
    "instrument": "政策工具",
    "spending ({unit})": "支出（{unit}）",
    "Payments by calendar year of payment; numbers: the year's total.": "按支付年份汇总；数字：当年合计。",
    " Mean per replication over {reps} replications.": "{reps} 次重复的每次平均。",
    "Cost of each additional outcome": "每增加一个成果的成本",
    "no cost-effectiveness estimates": "没有成本效果估计",
    "  no additional outcome: no cost per unit": "  没有增加的成果：无单位成本",
    "{cost} {unit} per {per}{ci}": "每{per} {cost} {unit}{ci}",
    "at least {low}, ": "至少 {low}，",
    "n.s.: {cost} {unit} per {per}  [{floor}no upper bound]": "不显著：每{per} {cost} {unit}  [{floor}无上限]",
    "cost per additional unit ({unit})": "每增加一个单位的成本（{unit}）",
    "Spending divided by the paired effect on each outcome; black lines: {level:.0%} confidence intervals (never "
    "below 0). Grey, dashed, hollow and marked n.s.: the outcome's interval contains 0, so the effect may be nil "
    "and the cost has no upper bound; the interval is open, from the spend over the largest effect the interval "
    "allows.": (
        "支出除以各项结果的配对效果；黑线：{level:.0%} 置信区间（不低于 0）。"
        "灰色虚线、空心并标“不显著”：该结果的区间包含 0，效果可能为零，成本没有上限；"
        "区间为开区间，起点为支出除以区间允许的最大效果。"
    ),
    "yuan": "元",
}
"""English template -> Chinese template (same placeholders, which a translation may reorder)."""
