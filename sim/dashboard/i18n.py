"""Every text of the dashboard in English and Simplified Chinese.

Stage and instrument names come from the scenario (a stage's ``label``, a policy's ``name``); for
Chinese, well-known stage keys and policy types have a standard translation, shared with the
figures (:mod:`sim.plot.lang`, which also holds every text drawn inside a figure), and any other
name is shown as the scenario gives it.
"""

from __future__ import annotations

from ..plot.lang import LANGS, Lang

__all__ = ["LANGS", "Lang", "text"]

TEXTS: dict[str, tuple[str, str]] = {
    "title": ("incuchain workshop: a policy and its baseline, side by side", "incuchain 研讨会：政策与基准并排对比"),
    "crn": (
        "Both worlds run on the same firms with the same random numbers, so any difference you see is the "
        "policy, not luck.",
        "两个世界使用同一批企业和相同的随机数，因此你看到的任何差异都来自政策，而不是运气。",
    ),
    "baseline": ("Baseline", "基准"),
    "variant": ("Variant (your levers)", "方案（你的调整）"),
    "levers": ("Levers (variant)", "调节杆（方案）"),
    "horizon": ("Horizon", "模拟年限"),
    "years": ("years", "年"),
    "firms": ("firms", "家企业"),
    "yuan": ("yuan", "元"),
    "share": ("share 0-1", "比例 0-1"),
    "factor": ("factor", "倍数"),
    "quality_sd": ("quality, sd units", "质量（标准差单位）"),
    "carriers": ("carriers", "个载体"),
    "places": ("places per carrier", "每个载体的席位"),
    "n_carriers": ("carriers", "载体数量"),
    "threshold": ("admission threshold (screening)", "入驻门槛（筛选）"),
    "on": ("on", "启用"),
    "shock": ("shock", "冲击"),
    "reset": ("Reset", "重置"),
    "presets": ("Workshop exercises", "研讨练习"),
    "apply": ("Apply", "应用"),
    "preset_none": ("(choose an exercise)", "（选择练习）"),
    "preset_bottleneck": ("A bottleneck at the accelerator", "加速器的瓶颈"),
    "preset_shock": ("The 2020 shock with and without rent relief", "2020 年冲击：有无租金减免"),
    "preset_mix": ("Spend 100 M yuan: which mix?", "花 1 亿元：哪种组合？"),
    "preset_applied": ("Exercise applied: ", "已应用练习："),
    "preset_not_applicable": ("This exercise does not apply to this scenario: ", "此练习不适用于该情景："),
    "baseline_is": ("Baseline: ", "基准："),
    "baseline_file": ("the scenario file as it is", "情景文件原样"),
    "more": ("More precision", "提高精度"),
    "cancel": ("Cancel", "取消"),
    "reps": ("paired replications", "配对重复次数"),
    "progress": ("replications done", "已完成重复"),
    "cancelled": (
        "Cancelled: the intervals shown are from the last completed step.",
        "已取消：显示的区间来自上一步完成的结果。",
    ),
    "language": ("Language", "语言"),
    "download_report": ("Download report", "下载报告"),
    "download_scenario": ("Download scenario", "下载情景"),
    "tab_flow": ("Chain flow", "链条流动"),
    "tab_occupancy": ("Occupancy and waiting lists", "在孵数量与等候名单"),
    "tab_survival": ("Survival", "存活"),
    "tab_effects": ("Effects", "政策效果"),
    "tab_spend": ("Spend", "支出"),
    "numbers": ("Headline numbers", "主要数字"),
    "metric": ("measure", "指标"),
    "difference": ("difference", "差异"),
    "interval": ("95% interval", "95% 区间"),
    "one_rep": (
        "One replication: no interval yet. Press 'More precision' for paired replications with intervals.",
        "一次重复：尚无区间。点击“提高精度”以获得带区间的配对重复。",
    ),
    "n_reps": ("paired replications", "次配对重复"),
    "twin": ("Closed-form twin (instant)", "解析孪生模型（即时）"),
    "twin_cannot": ("The closed-form twin cannot answer: ", "解析孪生模型无法回答："),
    "twin_more": (" (and {n} more reasons)", "（另有 {n} 个原因）"),
    "twin_exact": ("Expected values, exact (no sampling):", "期望值，精确（无抽样）："),
    "twin_stage_horizon": ("firms in {stage} at the horizon", "模拟期末{stage}中的企业"),
    "twin_surv5": ("5-year survival of new firms", "新企业 5 年存活率"),
    "running": ("Running both worlds...", "正在运行两个世界……"),
    "updated": ("Updated in {s:.2f} s", "用时 {s:.2f} 秒更新"),
    "error_top": ("Not run: ", "未运行："),
    "budget_envelope": (
        "Budget envelope 100 M yuan; the variant spends {spend} over the horizon ({share:.0%} of it).",
        "预算 1 亿元；方案在模拟期内支出 {spend}（占 {share:.0%}）。",
    ),
    "no_policies": ("This scenario has no policy instruments to switch.", "该情景没有可切换的政策工具。"),
    "no_spend": ("Neither world has a support policy: no spend.", "两个世界都没有扶持政策：无支出。"),
    "effects_wait": (
        "Paired effects with intervals appear after 'More precision' (at least 2 replications).",
        "点击“提高精度”后（至少 2 次重复）显示带区间的配对效果。",
    ),
    "sankey_caption": ("Replication 0 of each world.", "每个世界的第 0 次重复。"),
    "firms_total": ("firms", "企业总数"),
    "active_at_horizon": ("active at the horizon", "期末仍在经营"),
    "failed": ("failed", "失败"),
    "exited": ("exited", "退出"),
    "survival_5": ("5-year survival", "5 年存活率"),
    "spend_total": ("spend, yuan", "支出"),
    "fig_flow": ("How firms move through the chain", "企业如何在链条中流动"),
    "fig_occupancy": ("Firms in each stage, with capacity", "各阶段企业数量（含容量）"),
    "fig_survival": ("How long firms survive", "企业存活多久"),
    "fig_effects": ("Effect of the variant against the baseline", "方案相对基准的效果"),
    "fig_occ_diff": ("Change in firms per stage", "各阶段企业数量变化"),
    "fig_spend": ("Support spending by instrument and year", "按工具和年份的扶持支出"),
    "fig_cost": ("Cost of each additional outcome", "每增加一个成果的成本"),
    "cost_wait": (
        "Yuan per additional outcome needs paired replications: press 'More precision'.",
        "每增加一个成果的成本需要配对重复：请点击“提高精度”。",
    ),
    "host_warning": (
        "warning: serving on {host}, reachable from other machines on this network; anyone who can reach it can use it",
        "警告：在 {host} 上提供服务，同一网络中的其他机器可以访问",
    ),
}
"""Key -> (English, Chinese)."""


def text(key: str, lang: Lang, **fmt: object) -> str:
    """The text ``key`` in ``lang``, formatted with ``fmt``."""
    en, zh = TEXTS[key]
    out = zh if lang == "zh" else en
    return out.format(**fmt) if fmt else out
