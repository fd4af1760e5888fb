"""``incuchain dashboard`` refuses bad input with one line and exit code 2, before serving anything."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sim.cli import main
from sim.dashboard.server import default_reps, default_scenario_path

pytest.importorskip("panel")


def test_missing_scenario_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard", "no/such/file.toml"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["no/such/file.toml: file not found"], err


def test_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["dashboard", "scenarios/tutorial.toml", "--port", str(port), "--reps", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"--port: cannot listen on 127.0.0.1:{port}"), err


def test_bad_flags_exit_2() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["dashboard", "--lang", "fr"])
    assert exc.value.code == 2


def test_default_scenario_prefers_the_city(tmp_path: Path) -> None:
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "tutorial.toml").write_text("")
    assert default_scenario_path(tmp_path) == tmp_path / "scenarios" / "tutorial.toml"
    (tmp_path / "scenarios" / "city.toml").write_text("")
    assert default_scenario_path(tmp_path) == tmp_path / "scenarios" / "city.toml"


def test_default_reps_fit_the_time_budget() -> None:
    assert default_reps(0.05, 2) == 20  # a small scenario: the full 20
    assert default_reps(2.0, 2) == 5  # 2 s a replication, 2 workers: 5 pairs in 10 s
    assert default_reps(60.0, 2) == 2  # never fewer than 2 (an interval needs two)
