"""The tutorial scenario with one change, and running the command line in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from tests.helpers import SCENARIOS

TUTORIAL_TEXT = (SCENARIOS / "tutorial.toml").read_text(encoding="utf-8")

SHORT = {"horizon_years = 8": "horizon_years = 2"}
"""A shorter horizon for the cases that run (the tutorial's 8 years are not needed to show a crash)."""


def tutorial_with(tmp_path: Path, old: str, new: str, name: str = "attack.toml") -> Path:
    """``scenarios/tutorial.toml`` with the first ``old`` replaced by ``new``, written to ``tmp_path``."""
    assert old in TUTORIAL_TEXT, f"not in the tutorial: {old!r}"
    path = tmp_path / name
    path.write_text(TUTORIAL_TEXT.replace(old, new, 1), encoding="utf-8")
    return path


def tutorial_changed(tmp_path: Path, changes: list[tuple[str, str]], name: str = "attack.toml") -> Path:
    """``scenarios/tutorial.toml`` with several ``(old, new)`` replacements, written to ``tmp_path``."""
    text = TUTORIAL_TEXT
    for old, new in changes:
        assert old in text, f"not in the tutorial: {old!r}"
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``incuchain ARGV...`` in this process: (exit code, stdout, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(err: str, want: str) -> None:
    """``err`` is one line (no traceback) containing ``want``."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got {len(lines)}: {err[:2000]!r}"
    assert want in lines[0], f"expected {want!r} in {lines[0]!r}"
    assert "Traceback" not in err
