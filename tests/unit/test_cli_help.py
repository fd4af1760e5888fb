"""The command line's help reads as plain text: every command has help, and none shows raw backticks."""

from __future__ import annotations

import argparse

import pytest

from sim.cli import build_parser
from sim.version import __version__


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


@pytest.mark.parametrize("name", sorted(_commands()))
def test_help_is_plain_text(name: str) -> None:
    text = _commands()[name].format_help()
    assert "`" not in text, f"incuchain {name} --help shows backticks:\n{text}"
    assert len(text.splitlines()) > 3, f"incuchain {name} --help says almost nothing"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"incuchain {__version__}"
