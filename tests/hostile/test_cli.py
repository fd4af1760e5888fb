"""Command-line attacks: each ends in one line with the right exit code, or runs correctly."""

from __future__ import annotations

import argparse
import errno
import pathlib
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sim.executors import ExecutorUnavailable, dask_executor, parallelism
from sim.files import folder_lock
from tests.helpers import SCENARIOS

from .helpers import SHORT, assert_one_line, cli, tutorial_changed, tutorial_with

TUTORIAL = str(SCENARIOS / "tutorial.toml")


@pytest.fixture()
def short(tmp_path: Path) -> str:
    """The tutorial over 2 years."""
    return str(tutorial_changed(tmp_path, list(SHORT.items()), "short.toml"))


@pytest.mark.parametrize(
    ("argv", "want"),
    [
        (["run", TUTORIAL, "--replication", str(2**70)], "--replication: must be <= 2147483647"),
        (["run", TUTORIAL, "--reps", "-1"], "--reps: must be >= 1, got -1"),
        (["run", TUTORIAL, "--max-memory", "lots"], "--max-memory: must be a size such as 4G"),
        (
            ["compare", TUTORIAL, TUTORIAL, "--reps", "2", "--instrument-reps", "0"],
            "--instrument-reps: must be between 1",
        ),
        (
            ["compare", TUTORIAL, TUTORIAL, "--reps", "2", "--instrument-reps", "5"],
            "--instrument-reps: must be between 1",
        ),
        (["run", TUTORIAL, "--reps", "2", "--scheduler", "garbage"], "--scheduler garbage: not a scheduler address"),
    ],
    ids=[
        "replication_2_70",
        "reps_negative",
        "max_memory_garbage",
        "instrument_reps_0",
        "instrument_reps_above",
        "scheduler_garbage",
    ],
)
def test_bad_option_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], want: str) -> None:
    code, _, err = cli(capsys, *argv, "--out", str(tmp_path / "out"))
    assert code == 2, f"exit {code}: {err!r}"
    assert_one_line(err, want)


def test_scheduler_that_never_answers(tmp_path: Path) -> None:
    """A server that accepts and never replies: refused after the timeout, not waited on for ever."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(server.accept()[0]), daemon=True).start()
    start = time.perf_counter()
    with (
        pytest.raises(ExecutorUnavailable, match="cannot reach the Dask scheduler"),
        dask_executor(f"tcp://127.0.0.1:{server.getsockname()[1]}", timeout_seconds=1.0),
    ):
        pass
    assert time.perf_counter() - start < 30, "the timeout was not kept"
    server.close()


def test_scheduler_that_never_answers_from_the_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, short: str
) -> None:
    """The same through ``run --scheduler``: exit 2 and one line once the timeout (1 s here, 20 s by default)
    has passed, nothing written."""
    import functools

    import sim.executors

    monkeypatch.setattr(
        sim.executors, "dask_executor", functools.partial(sim.executors.dask_executor, timeout_seconds=1.0)
    )
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(server.accept()[0]), daemon=True).start()
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    start = time.perf_counter()
    code, _, err = cli(capsys, "run", short, "--reps", "2", "--scheduler", address, "--out", str(tmp_path / "o"))
    assert time.perf_counter() - start < 30, "the timeout was not kept"
    assert code == 2, err
    assert_one_line(err, "cannot reach the Dask scheduler")
    assert not (tmp_path / "o" / "summary.csv").exists()
    server.close()


# -- output folders -------------------------------------------------------------------------------


def test_run_then_experiment_do_not_mix(capsys: pytest.CaptureFixture[str], tmp_path: Path, short: str) -> None:
    out = str(tmp_path / "X")
    assert cli(capsys, "run", short, "--out", out, "--quiet")[0] == 0
    code, _, err = cli(capsys, "run", short, "--reps", "2", "--seed", "9", "--out", out, "--quiet")
    assert code == 2
    assert_one_line(err, "holds a single run of 'tutorial'; writing an experiment ('run') there needs --overwrite")
    assert cli(capsys, "run", short, "--reps", "2", "--seed", "9", "--out", out, "--quiet", "--overwrite")[0] == 0
    assert not (tmp_path / "X" / "firms.parquet").exists(), "the single run's files were left beside the experiment"


def test_experiment_then_run_do_not_mix(capsys: pytest.CaptureFixture[str], tmp_path: Path, short: str) -> None:
    out = str(tmp_path / "X")
    assert cli(capsys, "run", short, "--reps", "2", "--out", out, "--quiet")[0] == 0
    before = (tmp_path / "X" / "timeseries.csv").read_bytes()
    code, _, err = cli(capsys, "run", short, "--out", out, "--quiet")
    assert code == 2
    assert_one_line(err, "holds an experiment ('run') of 'tutorial'; writing a single run there needs --overwrite")
    assert (tmp_path / "X" / "timeseries.csv").read_bytes() == before, "the experiment's table was replaced"
    assert cli(capsys, "run", short, "--out", out, "--quiet", "--overwrite")[0] == 0
    assert not (tmp_path / "X" / "experiment.json").exists()
    assert (tmp_path / "X" / "firms.parquet").exists()


def test_name_dot_dot_stays_inside_out(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tutorial_changed(tmp_path, [('name = "tutorial"', 'name = ".."'), *SHORT.items()])
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert cli(capsys, "run", str(path), "--quiet")[0] == 0
    assert list(work.iterdir()) == [work / "out"], "wrote outside out/"
    assert (work / "out" / "scenario" / "summary.json").exists()


def test_out_is_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "f").write_text("mine", encoding="utf-8")
    code, _, err = cli(capsys, "run", TUTORIAL, "--out", str(tmp_path / "f"))
    assert code == 2
    assert_one_line(err, "exists and is not a folder")
    assert (tmp_path / "f").read_text(encoding="utf-8") == "mine"


def test_out_is_read_only(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(pathlib.Path, "mkdir", refuse)
    code, _, err = cli(capsys, "run", TUTORIAL, "--out", str(tmp_path / "ro"))
    assert code == 2
    assert_one_line(err, "creating")
    assert "Read-only file system" in err


def _disk_full_after(monkeypatch: pytest.MonkeyPatch, n_bytes: int) -> None:
    """Every write of a file stops after ``n_bytes`` with ENOSPC, as on a full disk."""
    real = pathlib.Path.write_bytes

    def write_bytes(self: Path, data: bytes) -> int:
        real(self, bytes(data[:n_bytes]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pathlib.Path, "write_bytes", write_bytes)


def test_disk_full_in_a_run_keeps_the_previous_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, short: str
) -> None:
    out = tmp_path / "X"
    assert cli(capsys, "run", short, "--out", str(out), "--quiet")[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    _disk_full_after(monkeypatch, 100)
    code, _, err = cli(capsys, "run", short, "--seed", "3", "--out", str(out), "--quiet")
    assert code == 1
    assert_one_line(err, "No space left on device")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before, "a half-written or changed folder"


def test_disk_full_in_an_experiment_leaves_no_temporary_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, short: str
) -> None:
    out = tmp_path / "X"
    _disk_full_after(monkeypatch, 100)
    code, _, err = cli(capsys, "run", short, "--reps", "2", "--out", str(out), "--quiet")
    assert code == 1
    assert_one_line(err, "writing")
    assert not [p for p in out.rglob("*") if ".tmp" in p.name], "temporary files left behind"


def test_concurrent_writer_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path, short: str) -> None:
    out = tmp_path / "X"
    with folder_lock(out):  # another command holds the folder
        code, _, err = cli(capsys, "run", short, "--reps", "2", "--out", str(out), "--overwrite", "--quiet")
    assert code == 2
    assert_one_line(err, "another incuchain command is writing to this folder")


def test_checkpoint_that_is_a_directory_is_recomputed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, short: str
) -> None:
    out = tmp_path / "X"
    assert cli(capsys, "run", short, "--reps", "2", "--out", str(out), "--quiet")[0] == 0
    before = (out / "summary.csv").read_bytes()
    rep = out / "replications" / "rep-00000.parquet"
    rep.unlink()
    rep.mkdir()
    (rep / "junk").write_text("x", encoding="utf-8")
    code, _, err = cli(capsys, "run", short, "--reps", "2", "--out", str(out), "--quiet", "--resume")
    assert code == 0, err
    assert "damaged checkpoint, computed again" in err
    assert (out / "summary.csv").read_bytes() == before


@pytest.mark.parametrize("name", ["replications", "figures"])
def test_a_file_where_a_subfolder_goes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, short: str, name: str
) -> None:
    """``replications/`` (resumed) or ``figures/`` (a report) replaced by a file: one line, exit 2."""
    out = tmp_path / "X"
    assert cli(capsys, "run", short, "--reps", "2", "--out", str(out), "--quiet")[0] == 0
    if (out / name).is_dir():
        import shutil

        shutil.rmtree(out / name)
    (out / name).write_text("x", encoding="utf-8")
    resume = ["run", short, "--reps", "2", "--out", str(out), "--resume", "--quiet"]
    argv = ["report", str(out)] if name == "figures" else resume
    code, _, err = cli(capsys, *argv)
    assert code == 2, err
    assert_one_line(err, f"{out / name}: exists and is not a folder")


def test_broken_pipe_exits_quietly() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "analytic", str(SCENARIOS / "textbook_exponential.toml"), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # the reader goes away, as `| head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert err == "", err


def test_workers_are_not_more_than_replications() -> None:
    from sim.cli.run_cmd import experiment_executor

    args = argparse.Namespace(workers=1000, scheduler=None)
    with experiment_executor(args, 3) as ex:
        assert parallelism(ex) == 3


def test_unexpected_error_is_one_line_unless_debug(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("sim.cli.run_cmd.run", broken)
    code, _, err = cli(capsys, "run", TUTORIAL, "--out", str(tmp_path / "o"))
    assert code == 1
    assert_one_line(err, "run: unexpected error: RuntimeError: boom (rerun with --debug)")
    with pytest.raises(RuntimeError, match="boom"):
        cli(capsys, "--debug", "run", TUTORIAL, "--out", str(tmp_path / "o"))


# -- resource guards ------------------------------------------------------------------------------

POLICY_AFTER = "rate_per_year = 40\n"


@pytest.mark.parametrize(
    ("old", "new", "extra"),
    [
        ("rate_per_year = 40", "rate_per_year = 1e6", []),
        ("horizon_years = 8", "horizon_years = 1e6", []),
        ("count = 40", "count = 1000000000", []),
        ("carriers = { count = 1, capacity = 20 }", "carriers = { count = 1000000000, capacity = 20 }", []),
        (
            POLICY_AFTER,
            POLICY_AFTER + '\n[[policies]]\ntype = "competition"\nstage = "incubator"\ndates = [2020-01-01]\n'
            "winners_per_event = 1000000\n",
            ["--max-memory", "1G"],
        ),
        ("horizon_years = 8", "horizon_years = 8", ["--reps", "1000000000", "--workers", "2"]),
    ],
    ids=["rate_1e6", "horizon_1e6", "stock_1e9", "carriers_1e9", "competition_1e6_winners", "reps_1e9"],
)
def test_runaway_memory_is_refused_before_running(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, old: str, new: str, extra: list[str]
) -> None:
    path = tutorial_with(tmp_path, old, new)
    start = time.perf_counter()
    code, _, err = cli(capsys, "run", str(path), "--out", str(tmp_path / "o"), "--quiet", *extra)
    assert code == 2, err
    assert_one_line(err, "estimated memory")
    assert "more than the limit" in err
    assert time.perf_counter() - start < 20, "the guard ran the simulation first"
    assert not (tmp_path / "o" / "replications").exists()


def test_close_to_the_limit_warns_and_runs(capsys: pytest.CaptureFixture[str], tmp_path: Path, short: str) -> None:
    code, _, err = cli(capsys, "run", short, "--out", str(tmp_path / "o"), "--quiet", "--max-memory", "200M")
    assert code == 0, err
    assert_one_line(err, "warning: estimated memory")


def test_many_stages_print_no_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A chain of 150 stages: no PerformanceWarning per stage from the per-firm table."""
    n = 150
    lines = ['name = "many"', "[calendar]", "start = 2019", "horizon_years = 1"]
    for i in range(n):
        nxt = f"s{i + 1}" if i < n - 1 else "exit"
        lines += [
            f"[stages.s{i}]",
            'failure = { dist = "exponential", rate = 0.1 }',
            'graduation = { dist = "exponential", rate = 50 }',
            f"on_graduation = {{ {nxt} = 1.0 }}",
        ]
    lines += ["[[arrivals]]", 'name = "a"', 'stage = "s0"', "rate_per_year = 20"]
    path = tmp_path / "many.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, _, err = cli(capsys, "run", str(path), "--out", str(tmp_path / "o"), "--quiet")
    assert code == 0, err
    assert err == ""
