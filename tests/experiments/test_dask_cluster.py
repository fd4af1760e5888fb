"""A real Dask cluster: a scheduler and two workers started as separate processes, as on several hosts.

``dask scheduler`` and two ``dask worker`` processes (no nanny, one thread each) listen on 127.0.0.1;
``incuchain run --reps N --scheduler tcp://127.0.0.1:PORT`` runs in its own process too. Once a few
replications are on disk, one worker is killed (SIGKILL, as a host that goes away): the scheduler gives
its tasks to the other, which has never seen some of them, and the experiment must still finish with
files byte-identical to a serial run. Every process the test started is stopped by its id.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .helpers import TUTORIAL, assert_same_tree

pytestmark = pytest.mark.slow

REPS = 60
"""Enough replications (about 0.05-0.1 s each) that the run is still going when a worker is killed."""

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("wb") as sink:
        return subprocess.Popen(args, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _workers_connected(address: str, n: int) -> bool:
    from distributed import Client

    try:
        with Client(address, timeout="5s") as client:
            return len(client.scheduler_info()["workers"]) >= n
    except OSError:
        return False


def test_a_cluster_of_separate_processes_survives_a_lost_worker(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    dask = str(BIN / "dask")
    incuchain = str(BIN / "incuchain")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    started: list[subprocess.Popen[bytes]] = []
    try:
        scheduler_args = ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]
        started.append(_start([dask, *scheduler_args], tmp_path / "scheduler.log"))
        worker_args = ["worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny", "--no-dashboard"]
        workers = [_start([dask, *worker_args, "--name", f"w{i}"], tmp_path / f"worker{i}.log") for i in range(2)]
        started += workers
        _wait_for(lambda: _workers_connected(address, 2), 60, "two workers to join the scheduler")

        out = tmp_path / "cluster"
        run = _start(
            [incuchain, "run", str(TUTORIAL), "--reps", str(REPS), "--seed", "3", "--scheduler", address,
             "--out", str(out), "--quiet"],
            tmp_path / "run.log",
        )  # fmt: skip
        started.append(run)
        done = out / "replications"
        _wait_for(lambda: len(list(done.glob("rep-*.sha256"))) >= 4, 120, "the first replications")
        finished_before = len(list(done.glob("rep-*.sha256")))
        assert run.poll() is None and finished_before < REPS, "the run ended before a worker could be killed"
        os.kill(workers[1].pid, signal.SIGKILL)  # a host goes away mid-run
        workers[1].wait(timeout=10)
        assert run.wait(timeout=300) == 0, (tmp_path / "run.log").read_text()
        assert len(list(done.glob("rep-*.sha256"))) == REPS

        serial = tmp_path / "serial"
        code = subprocess.run(
            [incuchain, "run", str(TUTORIAL), "--reps", str(REPS), "--seed", "3", "--out", str(serial), "--quiet"],
            cwd=ROOT, check=False,
        ).returncode  # fmt: skip
        assert code == 0
        assert_same_tree(serial, out)
    finally:
        for proc in reversed(started):
            _stop(proc)
    assert all(p.poll() is not None for p in started), "a process the test started is still running"
