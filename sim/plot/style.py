"""The look shared by every figure: palette, line styles, hatches, titles, footers and saving.

Colours are the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies), and no
figure relies on colour alone: series also differ by line style, marker or hatching, and every node,
band or bar that matters carries a text label, so a figure printed in greyscale still reads.

Figures are built as :class:`matplotlib.figure.Figure` objects, not through ``pyplot``: they never
pile up in pyplot's list of open figures, need no display, and leave pyplot's state alone. In a
notebook a returned figure shows as the cell's value; in a script, save it with :func:`save_figure`
(or ``fig.savefig``). Style settings apply through :func:`style_context` only while a figure is
built and saved; the process-wide ``matplotlib.rcParams`` are never changed.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import textwrap
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
from cycler import cycler
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import FuncFormatter

from ..files import make_folder
from ..version import __version__
from .lang import Lang, phrase, policy_type_name, stage_name

if TYPE_CHECKING:
    from ..scenario import Scenario

__all__ = [
    "HATCHES",
    "LINESTYLES",
    "MARKERS",
    "OKABE_ITO",
    "OUTCOME_COLOURS",
    "FigureInfo",
    "SettledLayout",
    "finish_figure",
    "new_figure",
    "no_data",
    "panel_grid",
    "panel_title",
    "place_legend",
    "save_figure",
    "stage_colours",
    "style_context",
    "thousands",
    "tint",
    "wrap_text",
]

OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
"""The Okabe-Ito colour-blind-safe palette (Okabe and Ito 2008)."""

GREY = "#8C8C8C"
"""Stages outside any carrier (the open market) and reference material."""

SERIES_COLOURS: tuple[str, ...] = (
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["black"],
)
"""Colours of successive series (groups, arms); paired with :data:`LINESTYLES` and :data:`MARKERS`."""

_STAGE_COLOURS: tuple[str, ...] = (
    OKABE_ITO["orange"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["blue"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["black"],
)

OUTCOME_COLOURS: dict[str, str] = {
    "active": OKABE_ITO["bluish_green"],
    "exited": OKABE_ITO["yellow"],
    "failed": OKABE_ITO["vermillion"],
}
"""Final states of a firm."""

LINESTYLES: tuple[Any, ...] = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)), (0, (8, 2)))
"""Line styles of successive series, so that lines differ without colour."""

MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X")
"""Markers of successive series."""

HATCHES: tuple[str, ...] = ("", "//", "..", "xx", "\\\\", "oo", "++", "--")
"""Hatch patterns of successive filled areas (stacked bars and areas)."""

TEXT_GREY = "#4D4D4D"

# Fonts that can draw Chinese stage labels; only those installed are named (a missing family in
# ``font.sans-serif`` makes matplotlib log a warning on every figure).
_CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
)


def _sans_serif() -> list[str]:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return ["DejaVu Sans", *(f for f in _CJK_FONTS if f in installed), *mpl.rcParams["font.sans-serif"]]


def _rc() -> dict[str, Any]:
    fonts = _sans_serif()
    cjk = [f for f in fonts if f in _CJK_FONTS]
    return {
        # With a Chinese font installed, name the families rather than the generic "sans-serif":
        # matplotlib falls back glyph by glyph only along ``font.family``.
        "font.family": ["DejaVu Sans", *cjk] if cjk else "sans-serif",
        "font.sans-serif": fonts,
        "font.size": 9.0,
        "axes.titlesize": 10.0,
        "axes.titleweight": "bold",
        "axes.labelsize": 9.0,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": "#E0E0E0",
        "grid.linewidth": 0.6,
        "axes.axisbelow": True,
        "axes.prop_cycle": cycler(color=list(SERIES_COLOURS)),
        "legend.frameon": False,
        "legend.fontsize": 8.5,
        "xtick.labelsize": 8.5,
        "ytick.labelsize": 8.5,
        "lines.linewidth": 1.8,
        "hatch.linewidth": 0.6,
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "figure.facecolor": "white",
        "savefig.facecolor": "white",
        "svg.fonttype": "path",  # text drawn as outlines: the SVG looks the same without the fonts
        "svg.hashsalt": "incuchain",  # stable element ids: the same figure gives the same SVG bytes
    }


def _not_weight_substitution(record: logging.LogRecord) -> bool:
    # A Chinese font shipped in one weight (WenQuanYi: 500) makes matplotlib say, for every text size,
    # that it uses that weight for "normal" and "bold"; that is what the figures want.
    return not str(record.msg).startswith("findfont: Failed to find font weight")


@contextlib.contextmanager
def style_context() -> Iterator[None]:
    """Apply the project's style while building or saving a figure (rcParams restored afterwards)."""
    settings: Any = _rc()  # rc_context's stub lists the known keys as literals; these are all known
    fonts_log = logging.getLogger("matplotlib.font_manager")
    fonts_log.addFilter(_not_weight_substitution)
    try:
        with mpl.rc_context(settings):
            yield
    finally:
        fonts_log.removeFilter(_not_weight_substitution)


@dataclass(frozen=True)
class FigureInfo:
    """What a figure is about: its footer, the display names and colours of stages, and its language.

    Attributes
    ----------
    scenario:
        Scenario name (the footer's first item).
    seed:
        Root seed, or ``None`` when unknown.
    replications:
        Engine replication indices the data come from (empty when unknown).
    start_year:
        The scenario's start as a decimal year; time axes then show calendar years. ``None``: time
        axes show years since the start.
    stage_labels:
        Stage name -> display name (the scenario's ``label``); other names are prettified.
    carrier_stages:
        Stages with carriers (the others, such as the open market, are drawn in grey). ``None``:
        every stage except one named ``market``.
    stage_order:
        Stages in chain order (the scenario's order); colours follow it.
    note:
        Extra footer text (e.g. ``"replication 0 of 30"``).
    lang:
        Language of every text the figure draws: ``en`` (the default) or ``zh`` (Simplified
        Chinese; :mod:`sim.plot.lang`). Stage labels are given in that language too.
    """

    scenario: str = ""
    seed: int | None = None
    replications: tuple[int, ...] = ()
    start_year: float | None = None
    stage_labels: Mapping[str, str] = field(default_factory=dict)
    carrier_stages: tuple[str, ...] | None = None
    stage_order: tuple[str, ...] = ()
    note: str = ""
    lang: Lang = "en"

    @classmethod
    def from_scenario(
        cls,
        scenario: Scenario,
        seed: int | None = None,
        replications: Sequence[int] = (),
        note: str = "",
        lang: Lang = "en",
    ) -> FigureInfo:
        """The info of a scenario's figures: its name, start, stage labels (in ``lang``) and carrier stages."""
        return cls(
            scenario=scenario.name,
            seed=seed,
            replications=tuple(int(r) for r in replications),
            start_year=scenario.calendar.start_year,
            stage_labels={n: stage_name(n, st.label, lang) for n, st in scenario.stages.items()},
            carrier_stages=tuple(n for n, st in scenario.stages.items() if st.carriers is not None),
            stage_order=scenario.stage_names,
            note=note,
            lang=lang,
        )

    def t(self, english: str, /, **values: object) -> str:
        """The phrase ``english`` in the figure's language, its placeholders filled (:func:`~sim.plot.lang.phrase`)."""
        return phrase(english, self.lang, **values)

    def label(self, stage: str) -> str:
        """Display name of a stage."""
        return self.stage_labels.get(stage) or stage_name(stage, None, self.lang)

    def instrument(self, name: str) -> str:
        """Display name of a budget instrument (a policy type): as given in English, translated in Chinese."""
        return policy_type_name(name, self.lang) if self.lang == "zh" else name

    def has_carriers(self, stage: str) -> bool:
        """Whether the stage has carriers (drawn in colour) or not (drawn in grey)."""
        if self.carrier_stages is None:
            return stage != "market"
        return stage in self.carrier_stages

    def time_axis(self, t_years: Any) -> Any:
        """Model time (years since start) as plotted: calendar years when the start is known."""
        return t_years + self.start_year if self.start_year is not None else t_years

    @property
    def time_label(self) -> str:
        """Label of a time axis."""
        return self.t("year" if self.start_year is not None else "years since the start")

    def footer(self) -> str:
        """``incuchain 0.1.0 · scenario tutorial · seed 7 · replications 0-29``."""
        parts = [self.t("incuchain {version}", version=__version__)]
        if self.scenario:
            parts.append(self.t("scenario {name}", name=self.scenario))
        if self.seed is not None:
            parts.append(self.t("seed {seed}", seed=self.seed))
        reps = self.replications
        if len(reps) == 1:
            parts.append(self.t("replication {rep}", rep=reps[0]))
        elif reps:
            contiguous = list(reps) == list(range(reps[0], reps[0] + len(reps)))
            span = f"{reps[0]}-{reps[-1]}" if contiguous else ", ".join(map(str, reps))
            parts.append(self.t("{n} replications ({span})", n=len(reps), span=span))
        if self.note:
            parts.append(self.t(self.note))
        return "  ·  ".join(parts)


def tint(colour: str, strength: float) -> str:
    """``colour`` mixed with white (``strength`` 1: the colour, 0: white), as an opaque hex colour.

    Opaque tints let bands and lanes that abut each other join without antialiasing seams.
    """
    r, g, b = mpl.colors.to_rgb(colour)

    def mix(c: float) -> float:
        return strength * c + (1.0 - strength)

    return mpl.colors.to_hex((mix(r), mix(g), mix(b)))


def end_date_text(info: FigureInfo, horizon_years: float) -> str:
    """The horizon as a date (``1 Jan 2027``, ``2027 年 1 月 1 日``), or ``8 years`` when the start is unknown."""
    if info.start_year is None:
        return info.t("{years:g} years", years=horizon_years)
    from ..calendar import date_of_decimal_year

    d = date_of_decimal_year(info.start_year + horizon_years)
    return info.t("{day} {month} {year}", day=d.day, month=f"{d:%b}", month_number=d.month, year=d.year)


def stage_colours(stages: Sequence[str], info: FigureInfo) -> dict[str, str]:
    """A colour per stage: Okabe-Ito colours in chain order for carrier stages, grey for the others."""
    order = list(info.stage_order) or list(stages)
    order += [s for s in stages if s not in order]
    out: dict[str, str] = {}
    i = 0
    for s in order:
        if info.has_carriers(s):
            out[s] = _STAGE_COLOURS[i % len(_STAGE_COLOURS)]
            i += 1
        else:
            out[s] = GREY
    return out


class SettledLayout(ConstrainedLayoutEngine):
    """Matplotlib's constrained layout, with the positions it gives the axes rounded to 12 decimals
    (fractions of the figure: a billionth of a point on any page).

    The layout's solver can give the same figure positions that differ in the last bit from one drawing
    to the next, in one process or two (its internal order is not fixed). A legend whose position falls
    a hair from a rounding step of the SVG's six decimals then lands on either side of it, and the same
    figure is written as two different files. Rounded, the positions are the same bits every time.
    """

    def execute(self, fig: Any) -> Any:
        grid = super().execute(fig)
        for ax in fig.axes:
            if ax.get_in_layout():
                ax.set_position([round(v, 12) for v in ax.get_position(original=True).bounds])
                ax.set_in_layout(True)  # set_position takes an axes out of the layout
        return grid


def new_figure(width: float, height: float) -> Figure:
    """An empty figure (inches) with constrained layout (:class:`SettledLayout`). Call inside
    :func:`style_context`."""
    return Figure(figsize=(width, height), layout=SettledLayout())


def panel_grid(
    fig: Figure, n: int, ncols: int, *, legend: bool = True, panel_height: float = 2.4, sharex: bool = True
) -> tuple[list[Axes], Axes | None]:
    """``n`` panels in rows of ``ncols`` (spare slots hidden), under a row that holds the legend.

    A figure legend placed with ``loc="outside upper center"`` sits on top of a left-aligned
    suptitle; a row of its own keeps the two apart. Returns the panels and the legend's axes.
    """
    rows = max(1, math.ceil(n / ncols))
    ratios = ([0.32] if legend else []) + [panel_height] * rows
    gs = fig.add_gridspec(len(ratios), ncols, height_ratios=ratios)
    top = 1 if legend else 0
    axes: list[Axes] = []
    for i in range(rows * ncols):
        r, c = divmod(i, ncols)
        share = axes[0] if (sharex and axes) else None
        ax = fig.add_subplot(gs[top + r, c], sharex=share)
        if i >= n:
            ax.set_visible(False)
        axes.append(ax)
    legend_ax = None
    if legend:
        legend_ax = fig.add_subplot(gs[0, :])
        legend_ax.set_axis_off()
    return axes[:n] if n else axes[:1], legend_ax


def place_legend(legend_ax: Axes | None, handles: Sequence[Any], labels: Sequence[str], ncols: int = 4) -> None:
    """Put a legend in the row made by :func:`panel_grid` (nothing when there is nothing to explain)."""
    if legend_ax is None:
        return
    if not handles:
        legend_ax.set_visible(False)
        return
    legend_ax.legend(handles, labels, loc="center", ncols=min(len(handles), ncols), borderaxespad=0.0)


def finish_figure(fig: Figure, title: str, info: FigureInfo, caption: str = "") -> Figure:
    """Add the title (what the figure shows), a caption (how to read it) and the provenance footer.

    The caption and the footer go in a strip at the bottom that the layout leaves free. The title,
    when it is one of the figures' default titles, is given in ``info``'s language.
    """
    fig.suptitle(info.t(title), fontsize=12, fontweight="bold", x=0.01, ha="left")
    height = float(fig.get_figheight())
    # wrap the caption to the figure's width (about 15 characters an inch at 8 points)
    chars = max(40, int(fig.get_figwidth() * 15.5))
    caption = "\n".join(wrap_text(line, chars) for line in caption.split("\n")) if caption else ""
    lines = caption.count("\n") + 1 if caption else 0
    strip = (0.22 + 0.16 * lines) / height  # inches of caption and footer, as a share of the height
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.set(rect=(0.0, strip, 1.0, 1.0 - strip))  # type: ignore[call-arg]
    if caption:
        fig.text(0.01, 0.2 / height, caption, fontsize=8, color=TEXT_GREY, ha="left", va="bottom", gid="caption")
    fig.text(0.01, 0.04 / height, info.footer(), fontsize=7, color=TEXT_GREY, ha="left", va="bottom", gid="footer")
    return fig


def panel_title(ax: Axes, text: str, panel_width: float) -> None:
    """A panel's title, left-aligned and wrapped to the panel's width (inches; about 11 bold characters
    an inch at 10 points), so long stage names do not run into the next panel."""
    ax.set_title(wrap_text(text, max(12, int(panel_width * 11))), loc="left")


WIDE_CHAR = 1.9
"""Width of a Chinese character (1 em) in widths of an average Latin character as the wrapping widths
count them (0.58 em; English text runs narrower, about 0.53 em, which leaves its lines a margin that
this value keeps for Chinese)."""


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def text_width(text: str) -> float:
    """Width of ``text`` in average Latin characters (a Chinese character counts :data:`WIDE_CHAR`)."""
    return sum(WIDE_CHAR if _wide(ch) else 1.0 for ch in text)


_TOKEN = re.compile(r"\s+|[^\s\u2e80-\uffef]+|.")
_NO_LINE_START = set("，。、；：！？）》」』”’％%,.;:!?)]")


def wrap_text(text: str, width: int) -> str:
    """``text`` wrapped to lines of about ``width`` average Latin characters.

    Text without Chinese characters is wrapped at spaces (:func:`textwrap.fill`); Chinese text may
    break between any two Chinese characters, but not inside a Latin word or a number, and not
    before closing punctuation.
    """
    if not any(_wide(ch) for ch in text):
        return textwrap.fill(text, width)
    lines: list[str] = []
    line = ""
    for token in _TOKEN.findall(text):
        if line and text_width(line + token.rstrip()) > width and token[0] not in _NO_LINE_START:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    lines.append(line.rstrip())
    return "\n".join(lines)


def thousands(axis: Any) -> None:
    """Tick labels with thousands separators (``40,000``) on an axis of counts."""

    def label(x: float, _pos: int | None) -> str:
        text = f"{x:,.0f}" if abs(x) >= 1000 else f"{x:g}"
        return text.replace("-", "\u2212")  # the true minus sign, as matplotlib's own labels have

    axis.set_major_formatter(FuncFormatter(label))


def no_data(ax: Any, message: str = "no data") -> None:
    """Mark an empty panel."""
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", color=TEXT_GREY)
    ax.set_xticks([])
    ax.set_yticks([])


_SVG_ID = re.compile(r'\bid="([a-z][0-9a-f]{10})"')


def _stable_svg_ids(text: str) -> str:
    """Number matplotlib's hashed SVG ids (clip paths, markers, hatches) in order of appearance.

    The hashes are taken over coordinates at full float precision, which can differ in the last bit
    from one process to another for the same figure; numbered ids make the same figure the same file.
    """
    names = {old: f"{old[0]}{i:05d}" for i, old in enumerate(dict.fromkeys(_SVG_ID.findall(text)))}
    if not names:
        return text
    pattern = re.compile("|".join(re.escape(k) for k in names))
    return pattern.sub(lambda m: names[m.group(0)], text)


_NO_DATES: dict[str, dict[str, Any]] = {"svg": {"Date": None}, "png": {"Software": None}}
"""Metadata that would differ between two saves of the same figure, left out."""


def save_figure(fig: Figure, stem: str | Path, formats: Sequence[str] = ("png", "svg"), dpi: float = 150) -> list[Path]:
    """Save ``fig`` as ``<stem>.png``, ``<stem>.svg`` (or the given formats); returns the paths.

    The files carry no creation date, so the same figure gives the same bytes.
    """
    stem = Path(stem)
    make_folder(stem.parent)
    paths = []
    engine = fig.get_layout_engine()
    try:
        with style_context():
            for fmt in formats:
                path = stem.with_name(f"{stem.name}.{fmt}")
                fig.savefig(path, format=fmt, dpi=dpi, metadata=_NO_DATES.get(fmt))
                if fmt == "svg":
                    path.write_text(_stable_svg_ids(path.read_text(encoding="utf-8")), encoding="utf-8")
                paths.append(path)
                if engine is not None:
                    # The layout is done; the other formats reuse it instead of computing it again.
                    fig.set_layout_engine("none")
    finally:
        if engine is not None:
            fig.set_layout_engine(engine)
    return paths
