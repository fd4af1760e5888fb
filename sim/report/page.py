"""The report page: tables, sections, figures saved and embedded, and the self-contained HTML file."""

from __future__ import annotations

import base64
import html
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from matplotlib.figure import Figure

from ..files import atomic_write_text, make_folder
from ..plot import (
    save_figure,
)

REPORT_FILE = "report.html"

FIGURE_DIR = "figures"

_SHARED_DOC = {
    "meta": """meta:
        Provenance; merged over the folder's ``meta.json``.""",
    "budget": """ledger, cost_effectiveness:
        Budget tables (see :mod:`sim.plot.budget`).""",
    "formats": """formats:
        Files written per figure under ``figures/``.

    Returns
    -------
    pathlib.Path
        The report's path.""",
}
"""Parameters that every report writer documents alike (``$meta``, ``$budget``, ``$formats`` in its docstring)."""

_F = TypeVar("_F", bound=Callable[..., Path])


def shared_doc(func: _F) -> _F:
    """Fill ``$meta``, ``$budget`` and ``$formats`` (with the Returns section) in ``func``'s docstring."""
    func.__doc__ = string.Template(func.__doc__ or "").substitute(_SHARED_DOC)
    return func


@dataclass
class _Figure:
    name: str
    title: str
    what: str
    figure: Figure
    paths: list[Path] = field(default_factory=list)


_CSS = """
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #1a1a1a; margin: 0;
       line-height: 1.45; background: #ffffff; }
main { max-width: 1180px; margin: 0 auto; padding: 1.5rem 1.5rem 3rem; }
h1 { font-size: 1.7rem; margin: 0.2rem 0 0.3rem; }
h2 { font-size: 1.3rem; margin-top: 2.2rem; border-bottom: 2px solid #0072B2; padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
p.sub { color: #4d4d4d; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.9rem; }
th, td { padding: 0.25rem 0.7rem; border-bottom: 1px solid #dddddd; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv th { background: none; font-weight: 600; width: 12rem; }
figure { margin: 1.5rem 0 2.5rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #e5e5e5; }
figcaption { font-size: 0.9rem; color: #333333; margin-top: 0.3rem; }
.small { font-size: 0.85rem; color: #4d4d4d; }
pre { background: #f5f5f5; padding: 0.5rem 0.8rem; overflow-x: auto; font-size: 0.85rem; }
nav a { margin-right: 1rem; }
a { color: #0072B2; }
details summary { cursor: pointer; color: #0072B2; margin: 0.5rem 0; }
@media print { nav { display: none; } figure { break-inside: avoid; } }
"""


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    def cls(i: int) -> str:
        return " class='num'" if i in numeric else ""

    head = "".join(f"<th{cls(i)}>{html.escape(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{cls(i)}>{html.escape(str(c))}</td>" for i, c in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _kv_table(rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table class='kv'><tbody>{body}</tbody></table>"


def _anchor(title: str) -> str:
    return title.lower().replace(" ", "-")


def _section(title: str, content: str) -> tuple[str, str]:
    return title, f"<section id='{_anchor(title)}'><h2>{html.escape(title)}</h2>{content}</section>"


def _code(cmd: str) -> str:
    return f"<p class='small'>To reproduce (from this folder):</p><pre>{html.escape(cmd)}</pre>"


def _figures_html(out: Path, figures: Sequence[_Figure], formats: Sequence[str]) -> str:
    if not figures:
        return "<p>No figures: the results hold no time series, firms or events.</p>"
    parts = []
    fig_dir = out / FIGURE_DIR
    for i, f in enumerate(figures, start=1):
        fmts = list(dict.fromkeys(["png", *formats]))  # the page embeds the PNG
        f.paths = save_figure(f.figure, fig_dir / f.name, fmts)
        png = next(p for p in f.paths if p.suffix == ".png")
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        title = f.figure.get_suptitle() or f.title
        links = " · ".join(f"<a href='{FIGURE_DIR}/{html.escape(p.name)}'>{p.suffix[1:].upper()}</a>" for p in f.paths)
        parts.append(
            f"<figure id='fig-{html.escape(f.name)}'>"
            f"<img src='data:image/png;base64,{data}' alt='{html.escape(title)}: {html.escape(f.what)}'>"
            f"<figcaption><strong>Figure {i}. {html.escape(f.title)}.</strong> {html.escape(f.what)} "
            f"<span class='small'>Files: {links}</span></figcaption></figure>"
        )
    return "".join(parts)


def _write(out: Path, title: str, subtitle: str, sections: Sequence[tuple[str, str]]) -> Path:
    make_folder(out)
    nav = "".join(f"<a href='#{_anchor(t)}'>{html.escape(t)}</a>" for t, _ in sections)
    sub = f"<p class='sub'>{html.escape(subtitle)}</p>" if subtitle else ""
    page = (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{html.escape(title)}</h1>\n{sub}\n<nav>{nav}</nav>\n"
        + "\n".join(body for _, body in sections)
        + "\n</main>\n</body>\n</html>\n"
    )
    path = out / REPORT_FILE
    atomic_write_text(path, page)
    return path
