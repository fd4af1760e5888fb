"""Every text inside the dashboard's figures in the page's language.

The figures the page shows -- chain flow, occupancy, survival and spend of a world with policies;
effects, change per stage and cost of a comparison (``city.toml`` against ``city_policies.toml``, 3
paired replications) -- are drawn in Chinese and every text artist is searched for English words; in
English they are drawn exactly as the report and the command line draw them. The phrase table itself
is checked against the figure code: every entry is a text the code draws, with the same numbers.
"""

from __future__ import annotations

import ast
import re
import string
import textwrap
from collections.abc import Iterator

import matplotlib
import pytest

matplotlib.use("Agg")

from matplotlib.figure import Figure
from matplotlib.text import Text

import sim
from sim.dashboard.views import WORLD_FIGURES, paired_figures, world_figures
from sim.metric_names import metric_label, outcome_unit
from sim.plot import (
    FigureInfo,
    bls_reference,
    carriers_figure,
    chain_flows,
    cost_effectiveness_figure,
    effects_figure,
    flow_figure,
    occupancy_difference_figure,
    occupancy_figure,
    spend_figure,
    survival_at_figure,
    survival_figure,
)
from sim.plot.lang import ZH, Lang, stage_name
from sim.plot.style import style_context, text_width, wrap_text
from tests.helpers import ROOT, SCENARIOS

ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
"""A run of two or more Latin letters: an English word (single letters are symbols: ``n``, ``t``)."""

ALLOWED = {
    "incuchain",  # the program's name, in the footer
    "BLS",  # the US Bureau of Labor Statistics, named in Chinese too (美国劳工统计局（BLS）)
    "Kaplan",  # the Kaplan-Meier estimator: Chinese statistics writes the name in Latin letters
    "Meier",
}
"""Latin words a Chinese figure may hold: names. Scenario names (file identifiers, shown in the
footer as given) are removed before the search."""


@pytest.fixture(scope="module")
def scenarios() -> tuple[sim.Scenario, sim.Scenario]:
    return sim.load_scenario(SCENARIOS / "city.toml"), sim.load_scenario(SCENARIOS / "city_policies.toml")


@pytest.fixture(scope="module")
def world(scenarios: tuple[sim.Scenario, sim.Scenario]) -> sim.RunResult:
    return sim.run(scenarios[1], seed=0, replication=0)


@pytest.fixture(scope="module")
def comparison(scenarios: tuple[sim.Scenario, sim.Scenario]) -> sim.Comparison:
    base, variant = scenarios
    return sim.compare(base, variant, reps=3, seed=0, independent=False, per_instrument=False, progress=False)


def _figures(
    scenarios: tuple[sim.Scenario, sim.Scenario], world: sim.RunResult, comparison: sim.Comparison, lang: Lang
) -> Iterator[tuple[str, Figure]]:
    yield from world_figures(scenarios[1], world, lang, WORLD_FIGURES)
    yield from paired_figures(comparison, scenarios[0], lang)


def _texts(fig: Figure) -> list[str]:
    """Every text of the figure, once drawn (tick labels are made when the figure is drawn)."""
    with style_context():
        fig.draw_without_rendering()
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def _english(view: str, texts: list[str], scenarios: tuple[sim.Scenario, sim.Scenario]) -> list[str]:
    """Texts with English words (scenario names taken out), each with its words."""
    found = []
    for t in texts:
        bare = t
        for name in sorted({sc.name for sc in scenarios}, key=len, reverse=True):
            bare = bare.replace(name, "")
        words = set(ENGLISH_WORD.findall(bare)) - ALLOWED
        if words:
            found.append(f"{view}: {t!r} ({', '.join(sorted(words))})")
    return found


def test_chinese_figures_have_no_english_word(
    scenarios: tuple[sim.Scenario, sim.Scenario], world: sim.RunResult, comparison: sim.Comparison
) -> None:
    drawn: dict[str, list[str]] = {}
    english = []
    for view, fig in _figures(scenarios, world, comparison, "zh"):
        drawn[view] = _texts(fig)
        english += _english(view, drawn[view], scenarios)
    assert set(drawn) == {*WORLD_FIGURES, "effects", "occupancy_difference", "cost"}, sorted(drawn)
    assert not english, "English words in the Chinese figures:\n" + "\n".join(english)
    # and the texts are there, in Chinese: axis labels, legends, node and metric names, captions
    expected = {
        "flow": ["期末状态（2028 年 1 月 1 日）", "第 1 阶段（进入）", "众创空间", "失败"],
        "occupancy": ["企业数（家）", "容量", "年份"],
        "survival": ["进入后年数", "未失败（%）", "曾入驻载体（n = "],
        "spend": ["政策工具", "支出（万元）", "租金减免"],
        "effects": ["相对基准均值的变化（%）", "期末存续企业", "孵化器：入驻", "个百分点", "不显著"],
        "occupancy_difference": ["企业数，方案 \u2212 基准", "95% 置信带"],
        "cost": ["每增加一个单位的成本（万元）", "每家存续企业"],
    }
    for view, phrases in expected.items():
        joined = "\n".join(drawn[view])
        missing = [p for p in phrases if p not in joined]
        assert not missing, f"{view}: {missing} not drawn in:\n{joined}"
        assert f"incuchain {sim.__version__}  ·  情景 city" in joined, f"{view}: no Chinese footer"


def test_figures_the_dashboard_does_not_show_are_translated_too(
    scenarios: tuple[sim.Scenario, sim.Scenario], world: sim.RunResult, comparison: sim.Comparison
) -> None:
    """Survival at 1-10 years by arm and carriers by level (the report's), drawn in Chinese."""
    base, variant = scenarios
    stats = survival_at_figure(
        comparison.experiment.stats,
        FigureInfo.from_scenario(base, 0, range(3), lang="zh"),
        by="arm",
        reference=bls_reference(),
    )
    carriers = carriers_figure(world.carrier_counts, FigureInfo.from_scenario(variant, 0, [0], lang="zh"))
    texts = {"survival_at": _texts(stats), "carriers": _texts(carriers)}
    english = [line for view, t in texts.items() for line in _english(view, t, scenarios)]
    assert not english, "English words in the Chinese figures:\n" + "\n".join(english)
    assert "进入 1、3、5 年后未失败的企业比例" in texts["survival_at"] or any(
        t.startswith("进入 1、3、5") for t in texts["survival_at"]
    ), texts["survival_at"]
    assert "载体数" in texts["carriers"], texts["carriers"]


def _plain(
    view: str, scenarios: tuple[sim.Scenario, sim.Scenario], world: sim.RunResult, comparison: sim.Comparison
) -> Figure:
    """The same figure as the report and the command line draw it (no language given)."""
    from sim.dashboard.i18n import text

    base, variant = scenarios
    run_info = FigureInfo.from_scenario(variant, 0, [0])
    paired_info = FigureInfo.from_scenario(base, 0, range(3))
    if view == "flow":
        return flow_figure(
            chain_flows(world.events),
            run_info,
            title=text("fig_flow", "en"),
            horizon_years=variant.calendar.horizon_years,
        )
    if view == "occupancy":
        return occupancy_figure(world.timeseries, run_info, title=text("fig_occupancy", "en"))
    if view == "survival":
        return survival_figure(world.firms, run_info, title=text("fig_survival", "en"), reference=bls_reference())
    if view == "spend":
        return spend_figure(world.ledger, run_info, title=text("fig_spend", "en"))
    if view == "effects":
        return effects_figure(comparison.effects, paired_info, title=text("fig_effects", "en"))
    if view == "occupancy_difference":
        return occupancy_difference_figure(
            comparison.experiment.timeseries, paired_info, title=text("fig_occ_diff", "en")
        )
    assert comparison.cost_effectiveness is not None
    return cost_effectiveness_figure(comparison.cost_effectiveness, paired_info, title=text("fig_cost", "en"))


def test_english_figures_are_the_figures_of_the_report(
    scenarios: tuple[sim.Scenario, sim.Scenario], world: sim.RunResult, comparison: sim.Comparison
) -> None:
    drawn = {}
    for view, fig in _figures(scenarios, world, comparison, "en"):
        drawn[view] = _texts(fig)
        plain = _texts(_plain(view, scenarios, world, comparison))
        assert drawn[view] == plain, f"{view}: the English dashboard figure differs from the plain one"
    # the English texts are the figures' own (tests/figures pins more of them)
    joined = "\n".join(t for texts in drawn.values() for t in texts)
    for phrase in (
        "years since arrival",
        "not failed (%)",
        "firms, variant \u2212 baseline",
        "change against the baseline mean (%)",
        "cost per additional unit (million yuan)",
        "spending (million yuan)",
        "Status at the horizon (1 Jan 2028)",
        "1st stage (entry)",
        "firms on the waiting list",
        "rent_relief",
        "Incubator: entries",
        "Not failed after 5 y, all firms",
        f"incuchain {sim.__version__}  ·  scenario city_policies  ·  seed 0  ·  replication 0",
        f"incuchain {sim.__version__}  ·  scenario city  ·  seed 0  ·  3 replications (0-2)",
    ):
        assert phrase in joined, f"{phrase!r} not drawn in the English figures"


def test_every_metric_and_priced_outcome_has_a_chinese_name(comparison: sim.Comparison) -> None:
    """Not only the rows the forest plot shows: every metric of a comparison (the stages' too)."""

    def zh_stage(s: str) -> str:
        return stage_name(s, None, "zh")

    def bare(metric: str, label: str) -> str:
        # a policy's name is the scenario's own (budget.policy.<name>), shown as given
        parts = metric.split(".")
        return label.replace(parts[2], "") if parts[:2] == ["budget", "policy"] else label

    english = [
        f"{m}: {label}"
        for m in comparison.effects["metric"].astype(str)
        if ENGLISH_WORD.search(bare(m, label := metric_label(m, zh_stage, "zh")))
    ]
    assert comparison.cost_effectiveness is not None
    english += [
        f"{m}: {unit}"
        for m in comparison.cost_effectiveness["metric"].astype(str)
        if ENGLISH_WORD.search(unit := outcome_unit(m, "zh"))
    ]
    assert not english, "metrics without a Chinese name:\n" + "\n".join(english)
    assert metric_label("stages.incubator.entries", zh_stage, "zh") == "孵化器：入驻"
    assert metric_label("stages.incubator.entries") == "Incubator: entries", "English is the default"


def _string_constants() -> set[str]:
    """Every string literal of the figure code (implicitly joined literals as one)."""
    found: set[str] = set()
    for path in (ROOT / "sim" / "plot").glob("*.py"):
        if path.name == "lang.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def _fields(template: str) -> set[str]:
    return {name.split(".")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


EXTRA_VALUES = {
    "{day} {month} {year}": {"month_number"},  # Chinese dates name the month by its number
    "{ordinal} stage": {"n"},  # "2nd stage": 第 2 阶段
}
"""Values the figure code passes beyond the English template's own placeholders."""


def test_the_phrase_table_matches_the_figure_code() -> None:
    literals = _string_constants()
    unused = [k for k in ZH if k not in literals]
    assert not unused, "phrases no figure draws (a typo in the key?):\n" + "\n".join(map(repr, unused))
    wrong = [k for k, zh in ZH.items() if not _fields(zh) <= _fields(k) | EXTRA_VALUES.get(k, set())]
    assert not wrong, f"Chinese phrases with placeholders their English key does not have: {wrong}"
    english = [zh for zh in ZH.values() if set(ENGLISH_WORD.findall(re.sub(r"\{[^}]*\}", "", zh))) - ALLOWED]
    assert not english, f"English words in the Chinese phrases: {english}"


def test_wrapping_keeps_english_and_measures_chinese() -> None:
    english = "Lines: mean over 3 replications, at the end of each month; bands: 95% t-based confidence interval."
    assert wrap_text(english, 40) == textwrap.fill(english, 40), "English wraps as before"
    chinese = ZH[" Dotted: capacity at the start (places in the stage's carriers, before any policy)."] * 3
    lines = wrap_text(chinese, 40).split("\n")
    assert len(lines) > 1 and all(text_width(line) <= 40 + 2 for line in lines), lines
    assert not any(line[0] in "，。；）" for line in lines[1:]), f"a line starts with closing punctuation: {lines}"
    assert "".join(lines) == chinese.strip(), "wrapping lost or added characters"
