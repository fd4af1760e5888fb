"""Input files that are not small UTF-8 text files: each is refused in one line, never read for ever."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sim.scenario import MAX_EXTENDS, read_text_file

from .helpers import TUTORIAL_TEXT, assert_one_line, cli


def validate_one_line(capsys: pytest.CaptureFixture[str], path: Path | str, want: str) -> None:
    code, out, err = cli(capsys, "validate", str(path))
    assert code == 2, f"exit {code}: {out!r} {err!r}"
    assert_one_line(err, want)


def test_latin1_byte(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes(TUTORIAL_TEXT.replace("A small town", "A sm\xe9ll town").encode("latin-1"))
    validate_one_line(capsys, path, "not UTF-8 text (byte 0xe9 on line 4); save it as UTF-8")


def test_utf16(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "utf16.toml"
    path.write_bytes(TUTORIAL_TEXT.encode("utf-16"))
    validate_one_line(capsys, path, "is UTF-16 text; save it as UTF-8")


def test_dev_zero_as_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    validate_one_line(capsys, "/dev/zero", "/dev/zero: cannot read (not a regular file)")


def test_dev_zero_as_parent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "child.toml"
    path.write_text('extends = "/dev/zero"\n', encoding="utf-8")
    validate_one_line(capsys, path, "/dev/zero: cannot read (not a regular file)")


def test_fifo_is_not_waited_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    validate_one_line(capsys, fifo, "cannot read (not a regular file)")


def test_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    validate_one_line(capsys, tmp_path, "cannot read (a directory)")


def test_too_large(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text("# padding\n" * 100, encoding="utf-8")
    with pytest.raises(Exception, match="larger than 500 bytes"):
        read_text_file(path, limit=500)


def test_symlink_loop_in_extends(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.toml").symlink_to(tmp_path / "b.toml")
    (tmp_path / "b.toml").symlink_to(tmp_path / "a.toml")
    path = tmp_path / "child.toml"
    path.write_text('extends = "a.toml"\n', encoding="utf-8")
    validate_one_line(capsys, path, "cannot read (symbolic-link loop)")


def test_long_extends_chain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    n = 2000
    for i in range(n - 1):
        (tmp_path / f"c{i}.toml").write_text(f'extends = "c{i + 1}.toml"\n', encoding="utf-8")
    (tmp_path / f"c{n - 1}.toml").write_text(TUTORIAL_TEXT, encoding="utf-8")
    validate_one_line(capsys, tmp_path / "c0.toml", f"extends: chain longer than {MAX_EXTENDS} files")


def test_deeply_nested_arrays(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    validate_one_line(capsys, path, "not valid TOML: arrays or tables nested too deeply")


def test_deeply_nested_sweep_value(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = cli(
        capsys, "sweep", "--set", "calendar.horizon_years=" + "[" * 100_000, "--out", str(tmp_path / "o"), "--quiet"
    )
    assert code == 2
    assert_one_line(err, "sweep values must be single values")
