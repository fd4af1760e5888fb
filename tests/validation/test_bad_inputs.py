"""The bad-input corpus: every file in ``bad/`` is refused with exit code 2 and one line per problem.

Each file's first line says what the message must contain (``# expect: <text>``), normally the
offending field's dotted path and the problem.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main

BAD = sorted((Path(__file__).parent / "bad").glob("*.toml"))
BAD = [p for p in BAD if p.name != "no_such_parent.toml"]


def expected(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name}: first line must say what to expect"
    return first.removeprefix("# expect: ")


def test_corpus_is_large_enough() -> None:
    assert len(BAD) >= 30, f"only {len(BAD)} bad files"


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_file_is_refused_with_one_line_per_problem(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert code == 2, f"{path.name}: exit code {code}, stdout {out!r}"
    lines = err.strip().splitlines()
    assert lines, f"{path.name}: no message"
    want = expected(path)
    assert any(want in line for line in lines), f"{path.name}: expected {want!r} in {lines}"
    for line in lines:
        assert ": " in line and "Traceback" not in line, f"{path.name}: not a one-line message: {line!r}"
        message = line.removeprefix(f"{path}: ")  # the file's own path is as long as the user made it
        assert len(message) < 300, f"{path.name}: message too long: {line!r}"


def test_run_refuses_bad_file_without_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(BAD[0]), "--out", "unused"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout == "", proc.stdout


def test_missing_file_is_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "validate", "no/such/file.toml"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "no/such/file.toml: file not found", proc.stderr


def test_good_files_validate(capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[2] / "scenarios"
    files = sorted(str(p) for p in root.glob("*.toml"))
    assert files
    assert main(["validate", *files]) == 0, capsys.readouterr().err
