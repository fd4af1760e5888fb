"""Where replications run: one :class:`concurrent.futures.Executor` interface for every back end.

* :class:`SerialExecutor` -- in the calling thread, one call at a time (the default).
* local processes -- :class:`concurrent.futures.ProcessPoolExecutor` (``--workers N``).
* Dask distributed -- an existing cluster (``--scheduler tcp://host:8786``) or a local one
  (``--scheduler local``, bound to 127.0.0.1), through ``distributed.Client.get_executor()``.

The experiment runner only calls ``submit`` and reads the returned futures, and it puts results back
in replication order itself, so the choice of executor never changes a result (serial, parallel and
distributed runs write the same bytes). Dask is optional: ``pip install "incuchain[dask]"``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar

__all__ = [
    "ExecutorUnavailable",
    "SerialExecutor",
    "dask_executor",
    "describe_executor",
    "local_dask_executor",
    "open_executor",
    "parallelism",
    "process_executor",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

DASK_HINT = 'Dask is not installed; install it with: pip install "incuchain[dask]"'


class ExecutorUnavailable(RuntimeError):
    """An executor cannot be set up (Dask missing, scheduler unreachable). The message is one line."""


class SerialExecutor(Executor):
    """Runs each call when it is submitted, in the calling thread; returns completed futures.

    The reference back end: no processes, no pickling, exceptions land in the future like any
    other executor's. ``KeyboardInterrupt`` and ``SystemExit`` propagate at once.
    """

    def __init__(self) -> None:
        self._shutdown = False

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        fut: Future[T] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:
            fut.set_exception(exc)
        return fut

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._shutdown = True


def process_executor(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` local processes.

    On Linux the workers are forked: they start in milliseconds with the package already imported
    (a fresh interpreter would spend seconds importing scipy and pandas). Tasks carry only plain
    data, so nothing depends on what the parent held when it forked.
    """
    if workers < 1:
        raise ValueError(f"workers: must be >= 1, got {workers}")
    ctx = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ExecutorUnavailable(DASK_HINT) from None
    return distributed


def _connect(distributed: Any, address: str, timeout_seconds: float) -> Any:
    """A Dask client of ``address``, or :class:`ExecutorUnavailable` within about ``timeout_seconds``.

    The client is made in a daemon thread that is abandoned if it has not answered in time: a server
    that accepts the connection and never replies would otherwise keep ``Client()`` waiting for ever,
    whatever its own ``timeout``.
    """
    box: dict[str, Any] = {}

    def connect() -> None:
        try:
            box["client"] = distributed.Client(address, timeout=f"{timeout_seconds}s")
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    thread = threading.Thread(target=connect, name="incuchain-dask-connect", daemon=True)
    thread.start()
    thread.join(timeout_seconds + 5.0)
    if "client" in box:
        return box["client"]
    error = box.get("error")
    reason = "no answer" if error is None else f"{type(error).__name__}: {error}"
    raise ExecutorUnavailable(f"--scheduler {address}: cannot reach the Dask scheduler ({reason})")


@contextmanager
def dask_executor(address: str, timeout_seconds: float = 20.0) -> Iterator[Executor]:
    """An executor on the running Dask cluster whose scheduler is at ``address``.

    Workers need ``incuchain`` installed (the same version: a replication must compute the same
    numbers everywhere). The client is closed on exit; the cluster keeps running.
    """
    distributed = _import_distributed()
    try:
        distributed.comm.parse_address(address)
        distributed.comm.get_address_host_port(address)
    except (ValueError, TypeError) as exc:
        raise ExecutorUnavailable(
            f"--scheduler {address}: not a scheduler address ({exc}); expected tcp://HOST:PORT or 'local'"
        ) from None
    client = _connect(distributed, address, timeout_seconds)
    try:
        # pure=False: every submission is computed, never answered from a cache keyed on the arguments.
        yield client.get_executor(pure=False)
    finally:
        client.close()


@contextmanager
def local_dask_executor(workers: int = 2, processes: bool = True) -> Iterator[Executor]:
    """An executor on a new local Dask cluster bound to 127.0.0.1 (closed on exit).

    Parameters
    ----------
    workers:
        Number of Dask workers, one thread each.
    processes:
        Workers in their own processes (True) or as threads of this one (False: quicker to start,
        used by the tests).
    """
    distributed = _import_distributed()
    with ExitStack() as stack:
        cluster = stack.enter_context(
            distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=processes,
                host="127.0.0.1",
                # TCP even for threads (Dask would pick in-process queues): tasks and results then
                # cross the same serialisation as on a real cluster.
                protocol="tcp://",
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        )
        client = stack.enter_context(distributed.Client(cluster))
        yield client.get_executor(pure=False)


@contextmanager
def open_executor(workers: int | None = None, scheduler: str | None = None) -> Iterator[Executor]:
    """The executor for the command-line options ``--workers`` and ``--scheduler``.

    Parameters
    ----------
    workers:
        Local processes (``None`` or 1: serial). With ``scheduler="local"``: the local Dask
        cluster's workers (default: one per CPU).
    scheduler:
        ``None`` (no Dask), ``"local"`` (a local Dask cluster on 127.0.0.1) or a scheduler address
        such as ``tcp://host:8786``.

    Raises
    ------
    ExecutorUnavailable
        Dask is requested but not installed, or the scheduler cannot be reached.
    """
    if scheduler == "local":
        with local_dask_executor(workers or os.cpu_count() or 1, processes=True) as ex:
            yield ex
    elif scheduler is not None:
        with dask_executor(scheduler) as ex:
            yield ex
    elif workers is not None and workers > 1:
        pool = process_executor(workers)
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        ex = SerialExecutor()
        yield ex


def _dask_client(executor: Executor) -> Any:
    return getattr(executor, "_client", None) if type(executor).__name__ == "ClientExecutor" else None


def parallelism(executor: Executor) -> int:
    """How many tasks ``executor`` runs at once (1 if it cannot tell)."""
    if isinstance(executor, SerialExecutor):
        return 1
    if isinstance(executor, ProcessPoolExecutor):
        return int(getattr(executor, "_max_workers", 1))
    client = _dask_client(executor)
    if client is not None:
        try:
            return max(1, int(sum(client.nthreads().values())))
        except Exception:
            return 1
    return int(getattr(executor, "_max_workers", 1) or 1)


def describe_executor(executor: Executor) -> dict[str, Any]:
    """What ran the replications, for provenance: kind, workers and (Dask) the scheduler address."""
    if isinstance(executor, SerialExecutor):
        return {"kind": "serial", "workers": 1}
    if isinstance(executor, ProcessPoolExecutor):
        return {"kind": "processes", "workers": parallelism(executor)}
    client = _dask_client(executor)
    if client is not None:
        address = getattr(getattr(client, "scheduler", None), "address", None)
        return {"kind": "dask", "workers": parallelism(executor), "scheduler": address}
    return {"kind": type(executor).__name__, "workers": parallelism(executor)}
