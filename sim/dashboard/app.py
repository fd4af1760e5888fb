"""The workshop page (Panel): levers on the left, the two worlds side by side on the right.

Everything the page shows comes from :mod:`sim.dashboard.views` (plain functions over the public
API); this module only lays it out and keeps it current. Long work never blocks the page: one
replication of each world runs in the worker pool, paired replications in a background thread, and
a periodic callback on the server's event loop moves finished results onto the page.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any

import panel as pn

from ..experiment import Comparison
from ..scenario import Scenario
from .i18n import Lang, text
from .levers import (
    BUDGET_ENVELOPE_YUAN,
    HORIZON,
    Lever,
    LeverError,
    Preset,
    apply_levers,
    default_values,
    levers_for,
    presets_for,
)
from .views import (
    Cancelled,
    Progress,
    WorldView,
    comparison_figures,
    comparisons,
    numbers_table,
    render_world,
    report_html,
    scenario_toml,
    twin_text,
)

__all__ = ["PAGE_CSS", "Dashboard", "css_name"]

log = logging.getLogger(__name__)

VIEWS: tuple[str, ...] = ("flow", "occupancy", "survival", "effects", "spend")
"""The tabs, in order; the first three are one replication of each world."""

WORLD_VIEWS = {"flow": "flow", "occupancy": "occupancy", "survival": "survival", "spend": "spend"}
"""Tab -> the per-world figure it shows."""

POLL_SECONDS = 0.1

PAGE_CSS = """
:root, :host { --bokeh-font-size: 17px; --base-font-size: 17px; font-size: 17px; }
h1 { font-size: 30px; margin: 4px 0; }
h2 { font-size: 24px; margin: 4px 0; }
p, li, td, th, label, input, select, button { font-size: 17px; }
table.numbers td, table.numbers th { font-size: 20px; padding: 2px 14px; text-align: right; }
table.numbers td:first-child, table.numbers th:first-child { text-align: left; }
"""
"""Projector-friendly sizes: given to the page and to every pane and widget (their styles live in shadow roots)."""

ROLE_CSS = {
    "baseline": ":host h2 { color: #0072B2; }",
    "variant": ":host h2 { color: #D55E00; }",
    "error": ":host { color: #D55E00; font-weight: bold; }",
}
"""Baseline and variant in the Okabe-Ito blue and vermillion of the figures; messages in vermillion."""


def css_name(key: str) -> str:
    """A lever key as a CSS class name (``stages.incubator.carriers.count`` -> ``stages-incubator-carriers-count``)."""
    return key.replace(".", "-").replace("_", "-")


@dataclass
class _Precision:
    """A run of paired replications in a background thread; the page reads it on each poll."""

    token: int
    thread: threading.Thread
    progress: Progress
    cancelled: threading.Event
    latest: tuple[Comparison, dict[str, bytes]] | None = None
    seen: int = 0
    finished: bool = False
    error: str = ""


class Dashboard:
    """One browser session's page for ``scenario``.

    Parameters
    ----------
    scenario:
        The scenario the levers are read from; the baseline world is this scenario (or what a
        preset makes of it), the variant is it with the levers applied.
    executor:
        Where replications run (a process pool shared by the sessions).
    lang:
        ``en`` or ``zh`` to start with.
    seed:
        Root seed of both worlds.
    reps:
        Paired replications 'more precision' aims at.
    source:
        Where the scenario came from (shown on the page).
    """

    def __init__(
        self,
        scenario: Scenario,
        executor: Executor,
        *,
        lang: Lang = "en",
        seed: int = 0,
        reps: int = 20,
        source: str = "",
    ) -> None:
        self.scenario = scenario
        self.executor = executor
        self.lang: Lang = lang
        self.seed = seed
        self.source = source or scenario.name
        self.levers: list[Lever] = levers_for(scenario)
        self.presets: list[Preset] = presets_for(scenario, self.levers)
        self.base_values: dict[str, Any] = {}
        self.baseline_note: tuple[str, str] = ("", "")
        self.preset_message: tuple[str, str] | None = None
        self.baseline = scenario
        self.variant = scenario
        self.worlds: dict[str, WorldView] = {}
        self.figures: dict[tuple[str, str], bytes | None] = {}  # (role, view) -> PNG of the current worlds
        self.pending: dict[tuple[str, str], Future[WorldView]] = {}
        self.generation = 0
        self.started = 0.0
        self.precision: _Precision | None = None
        self.progress_line: tuple[int, int, str] | None = None  # replications done, planned, error
        self.comparison: Comparison | None = None
        self._suspend = False
        self._build(reps)
        self._changed()

    # -- layout ----------------------------------------------------------------------------------
    def _build(self, reps: int) -> None:
        self.lang_switch = pn.widgets.RadioButtonGroup(
            name="lang", options={"English": "en", "中文": "zh"}, value=self.lang, button_type="default"
        )
        self.lang_switch.param.watch(self._on_lang, "value")
        self.title = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.crn = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["crn"])

        self.widgets: dict[str, Any] = {}
        self.errors: dict[str, pn.pane.HTML] = {}
        groups: dict[str, list[Any]] = {}
        for lever in self.levers:
            w = self._widget(lever)
            w.param.watch(self._on_lever, "value")
            self.widgets[lever.key] = w
            err = pn.pane.HTML(
                "",
                css_classes=["lever-error", f"error-{css_name(lever.key)}"],
                visible=False,
                stylesheets=[ROLE_CSS["error"]],
            )
            self.errors[lever.key] = err
            groups.setdefault(lever.group, []).extend([w, err])
        self.group_cards = {
            g: pn.Card(*items, title=g, collapsed=False, sizing_mode="stretch_width") for g, items in groups.items()
        }
        self.no_policies = pn.pane.Markdown("", visible=not self.scenario.policies)

        self.preset_select = pn.widgets.Select(name="preset", options=self._preset_options())
        self.preset_button = pn.widgets.Button(name="apply", button_type="primary")
        self.preset_button.on_click(self._on_preset)
        self.preset_text = pn.pane.Markdown("", css_classes=["preset-message"])
        self.reset_button = pn.widgets.Button(name="reset", button_type="warning")
        self.reset_button.on_click(self._on_reset)

        self.reps_input = pn.widgets.IntInput(name="reps", value=reps, start=2, end=200, step=1)
        self.more_button = pn.widgets.Button(name="more", button_type="success")
        self.more_button.on_click(self._on_more)
        self.cancel_button = pn.widgets.Button(name="cancel", button_type="danger", disabled=True)
        self.cancel_button.on_click(self._on_cancel)
        self.progress = pn.indicators.Progress(
            name="progress", value=0, max=1, visible=False, sizing_mode="stretch_width"
        )
        self.progress_text = pn.pane.Markdown("", css_classes=["status"])

        self.report_download = pn.widgets.FileDownload(
            callback=self._report, filename="report.html", label="report", embed=False
        )
        self.scenario_download = pn.widgets.FileDownload(
            callback=self._scenario_file, filename=f"{self.scenario.name}_variant.toml", label="scenario", embed=False
        )

        self.status = pn.pane.Markdown("", css_classes=["status", "status-line"])
        self.top_error = pn.pane.HTML(
            "", css_classes=["lever-error", "error-top"], visible=False, stylesheets=[ROLE_CSS["error"]]
        )
        self.baseline_text = pn.pane.Markdown("")
        self.numbers = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["numbers-pane"])
        self.twin = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["twin-pane"])

        self.images: dict[tuple[str, str], pn.pane.PNG] = {}
        self.world_titles: dict[str, pn.pane.Markdown] = {}
        tabs = []
        for view in VIEWS:
            content: list[Any] = []
            if view in WORLD_VIEWS:
                row = []
                for role in ("baseline", "variant"):
                    img = pn.pane.PNG(None, sizing_mode="scale_width", css_classes=[f"fig-{view}-{role}"])
                    self.images[(role, view)] = img
                    head = pn.pane.Markdown("", stylesheets=[ROLE_CSS[role]])
                    self.world_titles[f"{view}:{role}"] = head
                    row.append(pn.Column(head, img, css_classes=[f"world-{role}"], sizing_mode="stretch_width"))
                content.append(pn.Row(*row, sizing_mode="stretch_width"))
            if view in ("occupancy", "effects", "spend"):
                key = {"occupancy": "occupancy_difference", "effects": "effects", "spend": "cost"}[view]
                img = pn.pane.PNG(None, sizing_mode="scale_width", css_classes=[f"fig-{key}-paired"], max_width=1100)
                self.images[("paired", key)] = img
                wait = pn.pane.Markdown("", name=f"wait:{key}")
                self.world_titles[f"wait:{key}"] = wait
                content += [wait, img]
            if view == "spend":
                self.envelope = pn.pane.Markdown("")
                content.insert(0, self.envelope)
            tabs.append((view, pn.Column(*content, sizing_mode="stretch_width")))
        self.tab_bodies = [body for _, body in tabs]
        self.tabs = pn.Tabs(*tabs, dynamic=False, sizing_mode="stretch_width", css_classes=["views"])
        self.tabs.param.watch(self._on_tab, "active")

        sidebar = pn.Column(
            self.lang_switch,
            self.reset_button,
            pn.Row(self.preset_select, self.preset_button),
            self.preset_text,
            self.no_policies,
            *self.group_cards.values(),
            width=430,
        )
        main = pn.Column(
            self.title,
            self.crn,
            self.baseline_text,
            self.top_error,
            self.status,
            pn.Row(self.reps_input, self.more_button, self.cancel_button),
            self.progress,
            self.progress_text,
            self.numbers,
            self.twin,
            self.tabs,
            pn.Row(self.report_download, self.scenario_download),
            sizing_mode="stretch_width",
        )
        self.layout = pn.Row(sidebar, main, sizing_mode="stretch_width")
        for item in self.layout.select():
            if hasattr(item, "stylesheets"):
                item.stylesheets = [*item.stylesheets, PAGE_CSS]
        self._relabel()

    def _widget(self, lever: Lever) -> Any:
        w = self._new_widget(lever)
        w.css_classes = [f"lever-{css_name(lever.key)}"]
        return w

    def _new_widget(self, lever: Lever) -> Any:
        label = lever.label(self.lang)
        if lever.kind == "bool":
            return pn.widgets.Checkbox(name=label, value=bool(lever.value))
        if lever.key == HORIZON:
            return pn.widgets.FloatSlider(
                name=label, value=float(lever.value), start=lever.low or 1.0, end=lever.high or 50.0, step=lever.step
            )
        if lever.unit == "share":
            return pn.widgets.FloatSlider(name=label, value=float(lever.value), start=0.0, end=1.0, step=lever.step)
        if lever.kind == "int":
            return pn.widgets.IntInput(name=label, value=int(lever.value), step=int(lever.step))
        return pn.widgets.FloatInput(name=label, value=float(lever.value), step=lever.step)

    def _t(self, key: str, **fmt: object) -> str:
        return text(key, self.lang, **fmt)

    def _preset_options(self) -> dict[str, str]:
        opts = {self._t("preset_none"): ""}
        for p in self.presets:
            opts[self._t(p.key)] = p.key
        return opts

    def _group_title(self, group: str) -> str:
        kind, _, name = group.partition(":")
        if kind == "calendar":
            return self._t("horizon")
        if kind == "stage":
            lever = next(lv for lv in self.levers if lv.group == group)
            return lever.label(self.lang).split("：" if self.lang == "zh" else ":")[0]
        if kind == "shock":
            return f"{self._t('shock')}: {name}"
        return name

    def _relabel(self) -> None:
        t = self._t
        self.title.object = f"# {t('title')}\n**{self.source}**: {self.scenario.description}"
        self.crn.object = f"**{t('crn')}**"
        for lever in self.levers:
            self.widgets[lever.key].name = lever.label(self.lang)
        for group, card in self.group_cards.items():
            card.title = self._group_title(group)
        self.no_policies.object = t("no_policies")
        current = self.preset_select.value
        self.preset_select.options = self._preset_options()
        self.preset_select.value = current
        self.preset_select.name = t("presets")
        self.preset_button.name = t("apply")
        self.reset_button.name = t("reset")
        self.reps_input.name = t("reps")
        self.more_button.name = t("more")
        self.cancel_button.name = t("cancel")
        self.report_download.label = t("download_report")
        self.scenario_download.label = t("download_scenario")
        active = self.tabs.active
        # Each tab's body in a new wrapper: Panel keeps the browser's tab (and its title) of an object it
        # already shows, so the same objects under new names would keep their old titles on the page.
        self.tabs[:] = [
            (t(f"tab_{v}"), pn.Column(body, sizing_mode="stretch_width"))
            for v, body in zip(VIEWS, self.tab_bodies, strict=True)
        ]
        self.tabs.active = active
        self._show_progress()
        note = self.baseline_note[1 if self.lang == "zh" else 0] or t("baseline_file")
        self.baseline_text.object = f"**{t('baseline_is').strip().rstrip(':：')}:** {note}"
        if self.preset_message is not None:
            self.preset_text.object = self.preset_message[1 if self.lang == "zh" else 0]
        for key, head in self.world_titles.items():
            view, _, role = key.partition(":")
            if view == "wait":
                head.object = t("cost_wait") if role == "cost" else t("effects_wait")
            else:
                caption = f" — {t('sankey_caption')}" if view == "flow" else ""
                head.object = f"## {t(role)}{caption}"

    # -- events ------------------------------------------------------------------------------------
    def _on_lang(self, event: Any) -> None:
        self.lang = event.new
        self._relabel()
        self._refresh_numbers()
        self._refresh_twin()
        self.figures.clear()  # titles and stage names are drawn into the figures
        self.pending.clear()
        self.started = time.perf_counter()
        self._render()
        if self.comparison is not None:
            self._start_paired_figures()

    def _on_lever(self, _event: Any) -> None:
        if not self._suspend:
            self._changed()

    def _on_tab(self, _event: Any) -> None:
        self._render()

    def _set_values(self, values: Mapping[str, Any]) -> None:
        self._suspend = True
        try:
            for key, w in self.widgets.items():
                w.value = values[key]
        finally:
            self._suspend = False

    def _on_reset(self, _event: Any) -> None:
        self.base_values = {}
        self.baseline_note = ("", "")
        self.preset_message = None
        self.preset_text.object = ""
        self._set_values(default_values(self.levers))
        self._relabel()
        self._changed()

    def _on_preset(self, _event: Any) -> None:
        preset = next((p for p in self.presets if p.key == self.preset_select.value), None)
        if preset is None:
            return
        name = (text(preset.key, "en"), text(preset.key, "zh"))
        if not preset.applies:
            self.preset_message = (
                text("preset_not_applicable", "en") + preset.reason[0],
                text("preset_not_applicable", "zh") + preset.reason[1],
            )
            self._relabel()
            return
        self.preset_message = (text("preset_applied", "en") + name[0], text("preset_applied", "zh") + name[1])
        self.base_values = dict(preset.baseline)
        self.baseline_note = preset.baseline_note
        self._set_values({**default_values(self.levers), **preset.variant})
        self._relabel()
        self._changed()

    def values(self) -> dict[str, Any]:
        """Lever key -> the value on the page."""
        return {key: w.value for key, w in self.widgets.items()}

    def _changed(self) -> None:
        """The levers moved: check them, then answer with the twin at once and one replication soon."""
        values = self.values()
        for err in self.errors.values():
            err.object, err.visible = "", False
        self.top_error.visible = False
        try:
            base = apply_levers(self.scenario, self.levers, {**self.base_values, HORIZON: values[HORIZON]})
            variant = apply_levers(self.scenario, self.levers, values, name=f"{self.scenario.name}_variant")
        except LeverError as exc:
            for key, line in exc.by_lever.items():
                self.errors[key].object, self.errors[key].visible = line, True
            loose = [line for line in exc.problems if line not in exc.by_lever.values()]
            if loose:
                self.top_error.object, self.top_error.visible = self._t("error_top") + loose[0], True
            return
        # a variant lever leaves the baseline as it was: its figures stay (only a changed world is drawn again)
        stale = ("baseline", "variant") if base.to_toml() != self.baseline.to_toml() else ("variant",)
        self.baseline, self.variant = base, variant
        self._cancel_precision()
        self.comparison = None
        for key in ("effects", "occupancy_difference", "cost"):
            self.images[("paired", key)].object = None
            self.world_titles[f"wait:{key}"].visible = True
        self.progress.visible = False
        self.progress_line = None
        self._show_progress()
        self.generation += 1
        for cache in (self.figures, self.pending):
            for cached in [k for k in cache if k[0] in stale]:
                del cache[cached]
        for role in stale:
            self.worlds.pop(role, None)
        self.started = time.perf_counter()
        self.status.object = self._t("running")
        self._render()  # the pool starts first; the twin answers on this thread meanwhile
        self._refresh_twin()

    def _refresh_twin(self) -> None:
        self.twin.object = f"**{self._t('twin')}**: " + twin_text(self.baseline, self.variant, self.lang)

    def _active_view(self) -> str:
        return VIEWS[int(self.tabs.active)]

    def _render(self) -> None:
        """Ask the pool for the current tab's figure of each world (and the headline numbers)."""
        view = WORLD_VIEWS.get(self._active_view(), "flow")
        for role, sc in (("baseline", self.baseline), ("variant", self.variant)):
            if (role, view) in self.figures or (role, view) in self.pending:
                continue
            self.pending[(role, view)] = self.executor.submit(
                render_world, sc.to_toml(), self.seed, self.lang, role, (view,)
            )
        self._show_cached()

    def _show_cached(self) -> None:
        for (role, view), img in self.images.items():
            if role == "paired":
                continue
            img.object = self.figures.get((role, view))

    # -- polling -------------------------------------------------------------------------------------
    def poll(self) -> None:
        """Move finished work onto the page (runs on the server's event loop, every 0.1 s)."""
        done = [k for k, f in self.pending.items() if f.done()]
        for key in done:
            fut = self.pending.pop(key)
            try:
                world = fut.result()
            except Exception as exc:  # a worker failure: one line on the page, the details in the log
                log.exception("rendering %s failed", key)
                self.top_error.object, self.top_error.visible = (
                    f"{self._t('error_top')}{type(exc).__name__}: {exc}",
                    True,
                )
                continue
            self.worlds[world.role] = world
            self.figures[key] = world.figures.get(key[1])  # None: no such figure (spend without policies)
        if done:
            self._show_cached()
            self._refresh_numbers()
            if not self.pending and self.started:
                self.status.object = self._t("updated", s=time.perf_counter() - self.started)
                self.started = 0.0
        self._poll_precision()

    def _refresh_numbers(self) -> None:
        if "baseline" not in self.worlds or "variant" not in self.worlds:
            return
        effects = self.comparison.effects if self.comparison is not None else None
        table = numbers_table(self.worlds["baseline"], self.worlds["variant"], self.lang, effects)
        n = self.comparison.experiment.reps if self.comparison is not None else 1
        caption = self._t("one_rep") if n == 1 else f"{n} {self._t('n_reps')}"
        self.numbers.object = (
            f"<h2>{self._t('numbers')}</h2>"
            + table.to_html(index=False, border=0, classes="numbers")
            + f"<p>{caption}</p>"
        )
        spend = self.worlds["variant"].numbers.get("budget.total_yuan", 0.0)
        if self.scenario.policies:
            self.envelope.object = self._t(
                "budget_envelope",
                spend=f"{spend / 1e4:,.0f} 万元" if self.lang == "zh" else f"{spend / 1e6:,.1f} M",
                share=spend / BUDGET_ENVELOPE_YUAN,
            )
        else:
            self.envelope.object = self._t("no_spend")

    # -- paired replications -----------------------------------------------------------------------
    def _on_more(self, _event: Any) -> None:
        self._cancel_precision()
        reps = int(self.reps_input.value or 2)
        prec = _Precision(self.generation, threading.Thread(), Progress(), threading.Event())
        base, variant, lang = self.baseline, self.variant, self.lang

        def work() -> None:
            try:
                for cmp in comparisons(
                    base, variant, reps, self.seed, self.executor, progress=prec.progress, cancelled=prec.cancelled
                ):
                    prec.latest = (cmp, comparison_figures(cmp, base, lang))
            except Cancelled:
                prec.error = self._t("cancelled")
            except Exception as exc:  # shown as one line; the server keeps serving
                log.exception("paired replications failed")
                prec.error = f"{self._t('error_top')}{type(exc).__name__}: {exc}"
            finally:
                prec.finished = True

        prec.thread = threading.Thread(target=work, name="incuchain-precision", daemon=True)
        self.precision = prec
        self.progress.max, self.progress.value, self.progress.visible = 1, 0, True
        self.cancel_button.disabled = False
        prec.thread.start()

    def _on_cancel(self, _event: Any) -> None:
        if self.precision is not None:
            self.precision.cancelled.set()

    def _cancel_precision(self) -> None:
        if self.precision is not None:
            self.precision.cancelled.set()
            self.precision = None
        self.cancel_button.disabled = True

    def _start_paired_figures(self) -> None:
        """Redraw the paired figures of the current comparison (after a language switch)."""
        if self.comparison is None:
            return
        cmp, base, lang = self.comparison, self.baseline, self.lang
        for key, data in comparison_figures(cmp, base, lang).items():
            self.images[("paired", key)].object = data

    def _poll_precision(self) -> None:
        prec = self.precision
        if prec is None:
            return
        total = max(prec.progress.total, 1)
        self.progress.max, self.progress.value = total, min(prec.progress.done, total)
        self.progress_line = (prec.progress.done, total, prec.error if prec.finished else "")
        self._show_progress()
        if prec.latest is not None and prec.latest[0].experiment.reps != prec.seen:
            cmp, figs = prec.latest
            prec.seen = cmp.experiment.reps
            self.comparison = cmp
            for key in ("effects", "occupancy_difference", "cost"):
                self.images[("paired", key)].object = figs.get(key)
                self.world_titles[f"wait:{key}"].visible = key not in figs
            self._refresh_numbers()
        if prec.finished:
            self.cancel_button.disabled = True
            self.precision = None

    def _show_progress(self) -> None:
        """The line under the progress bar, in the page's language (empty before any 'more precision')."""
        if self.progress_line is None:
            self.progress_text.object = ""
            return
        done, total, error = self.progress_line
        self.progress_text.object = f"{done} / {total} {self._t('progress')}" + (f" — {error}" if error else "")

    # -- downloads --------------------------------------------------------------------------------
    def _report(self) -> io.BytesIO:
        reps = self.comparison.experiment.reps if self.comparison is not None else 1
        return io.BytesIO(report_html(self.baseline, self.variant, reps, self.seed, self.executor))

    def _scenario_file(self) -> io.StringIO:
        return io.StringIO(scenario_toml(self.variant))

    def close(self) -> None:
        """Stop background work of this session."""
        self._cancel_precision()
