"""Finding what a figure draws: artists by ``gid``, texts, bands; and drawing it headless."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from matplotlib.artist import Artist
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.text import Text

SUPPORT = {"type": "hazard_multiplier", "hazard": "failure", "factor": 0.7, "target": {"stages": ["incubator"]}}
"""A policy that changes outcomes (incubator failure hazard x 0.7), so effects are not all zero."""


def render(fig: Figure) -> bytes:
    """Draw the figure headless (Agg) as a small PNG; returns the bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=40)
    data = buf.getvalue()
    assert data.startswith(b"\x89PNG"), "the figure did not render as a PNG"
    return data


def artists(fig: Figure) -> Iterator[Artist]:
    """Every artist of the figure (axes contents, figure texts, legends)."""
    yield from fig.findobj(lambda a: True)


def by_gid(fig: Figure, gid: str) -> list[Any]:
    """Artists whose gid is ``gid``."""
    return [a for a in artists(fig) if a.get_gid() == gid]


def gids(fig: Figure, prefix: str) -> dict[str, Any]:
    """``{gid: artist}`` for artists whose gid starts with ``prefix``."""
    return {str(a.get_gid()): a for a in artists(fig) if str(a.get_gid() or "").startswith(prefix)}


def text_of(fig: Figure, gid: str) -> str:
    """The text drawn with ``gid`` (exactly one)."""
    found = [a for a in by_gid(fig, gid) if isinstance(a, Text)]
    assert len(found) == 1, f"expected one text with gid {gid!r}, found {len(found)}"
    return found[0].get_text()


def all_text(fig: Figure) -> str:
    """Every text of the figure, one per line (titles, labels, legend entries, annotations)."""
    return "\n".join(t.get_text() for t in fig.findobj(Text) if t.get_text())


def bands(ax: Any) -> list[PolyCollection]:
    """Filled bands (``fill_between``) of an axes."""
    return [c for c in ax.collections if isinstance(c, PolyCollection)]
