"""Helpers shared by the commands: loading scenarios, formatting tables for the terminal."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ScenarioError
from ..scenario import Scenario, default_scenario, load_scenario

__all__ = [
    "add_seed",
    "format_table",
    "load_or_default",
    "nonneg_int",
    "positive_int",
    "replication_index",
    "safe_name",
]


def load_or_default(path: str | None) -> Scenario:
    """The scenario at ``path``, or the embedded default when none is given."""
    return default_scenario() if path is None else load_scenario(Path(path))


def nonneg_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


MAX_REPLICATION = 2**31 - 1
"""Largest replication index: the event log stores it in 32 bits."""


def replication_index(text: str) -> int:
    value = nonneg_int(text)
    if value > MAX_REPLICATION:
        raise argparse.ArgumentTypeError(f"must be <= {MAX_REPLICATION} (a 32-bit index), got {value}")
    return value


def safe_name(name: str) -> str:
    """``name`` as one safe folder name: letters, digits, '_', '.', '-', never '.', '..' or hidden."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).lstrip(".") or "scenario"


def add_seed(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=nonneg_int, default=0, help="root random seed (default 0)")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], first_left: bool = True) -> str:
    """A plain-text table with right-aligned numbers."""
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]

    def line(items: Sequence[str]) -> str:
        return "  ".join(
            s.ljust(w) if (i == 0 and first_left) else s.rjust(w)
            for i, (s, w) in enumerate(zip(items, widths, strict=True))
        )

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


def reject(message: str) -> None:
    """Raise a one-line user error."""
    raise ScenarioError([message])
