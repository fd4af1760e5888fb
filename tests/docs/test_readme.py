"""The README's examples run as written: every ``incuchain`` command line and every Python block.

Each runs in a fresh folder that sees the repository's ``scenarios/`` (and any other folder the README
names), the way a newcomer runs them from a clone. Commands that serve a page until stopped are left to
their own tests (listed in ``LEFT_OUT`` with the reason).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow  # the examples run whole experiments

README = ROOT / "README.md"
LEFT_OUT = {"dashboard": "serves a page until stopped; tests/dashboard drive it in a browser"}


def _blocks() -> list[tuple[str, str]]:
    """(language, text) of every fenced block of the README."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"```(\w*)\n(.*?)```", README.read_text(), re.S)]


def _commands() -> list[str]:
    lines = []
    for lang, text in _blocks():
        if lang not in ("", "sh", "bash", "console"):
            continue
        for line in text.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line.startswith("incuchain"):
                lines.append(line)
    return lines


def _python_blocks() -> list[str]:
    return [text for lang, text in _blocks() if lang == "python"]


def _workdir(tmp_path: Path) -> Path:
    for name in ("scenarios", "targets", "notebooks"):
        if (ROOT / name).exists():
            (tmp_path / name).symlink_to(ROOT / name)
    return tmp_path


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_the_readme_has_examples() -> None:
    assert len(_commands()) >= 5, "the README shows fewer than five commands"
    assert _python_blocks(), "the README shows no Python example"


@pytest.mark.parametrize("line", _commands())
def test_command_runs_as_written(line: str, tmp_path: Path) -> None:
    args = shlex.split(line)[1:]
    if args and args[0] in LEFT_OUT:
        pytest.skip(LEFT_OUT[args[0]])
    stdout = None
    if ">" in args:
        at = args.index(">")
        args, stdout = args[:at], args[at + 1]
    cwd = _workdir(tmp_path)
    args = [x for a in args for x in (sorted(str(p.relative_to(cwd)) for p in cwd.glob(a)) if "*" in a else [a])]
    proc = subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=cwd, env=_env(), capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, f"{line!r} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    if stdout is not None:
        (cwd / stdout).write_text(proc.stdout)
        assert proc.stdout.strip(), f"{line!r} printed nothing to redirect"


@pytest.mark.parametrize("block", range(len(_python_blocks())))
def test_python_block_runs_as_written(block: int, tmp_path: Path) -> None:
    code = "import matplotlib\nmatplotlib.use('Agg')\n" + _python_blocks()[block]
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=_workdir(tmp_path), env=_env(), capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, f"README Python block {block} failed:\n{proc.stderr[-3000:]}"
