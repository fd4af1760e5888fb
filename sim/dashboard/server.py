"""Serving the dashboard: a Panel (Bokeh/Tornado) server on one port, offline, stopped cleanly by SIGTERM.

Every asset the page loads (Bokeh's and Panel's JavaScript and style sheets) is served by this
server itself; nothing is fetched from a CDN and nothing is reported anywhere. Replications run in
a pool of worker processes shared by all sessions; SIGTERM or SIGINT stops the server, then the
pool, so no process is left behind.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from types import FrameType
from typing import Any

from ..api import run
from ..errors import ScenarioError
from ..executors import process_executor
from ..scenario import Scenario, load_scenario
from .i18n import Lang, text

__all__ = ["DEFAULT_PORT", "default_reps", "default_scenario_path", "serve"]

log = logging.getLogger(__name__)

DEFAULT_PORT = 5006
DEFAULT_SCENARIOS: tuple[str, ...] = ("scenarios/city.toml", "scenarios/tutorial.toml")
"""Opened when no scenario is named: the first that exists, in the working folder or the checkout."""

PAIRED_SECONDS = 10.0
"""Wall time 'more precision' aims at by default: heavy scenarios get fewer replications."""


def default_scenario_path(cwd: Path | None = None) -> Path | None:
    """``scenarios/city.toml`` if present, else ``scenarios/tutorial.toml`` (working folder first, then
    the checkout the package runs from); None when neither exists."""
    roots = [cwd or Path.cwd(), Path(__file__).resolve().parents[2]]
    for root in roots:
        for rel in DEFAULT_SCENARIOS:
            path = root / rel
            if path.is_file():
                return Path(rel) if cwd is None and root == roots[0] else path  # as typed, when found here
    return None


def default_reps(seconds_per_replication: float, workers: int, budget_seconds: float = PAIRED_SECONDS) -> int:
    """Paired replications that fit in ``budget_seconds`` (two worlds each), between 2 and 20."""
    per_pair = 2.0 * max(seconds_per_replication, 1e-3) / max(workers, 1)
    return int(min(20, max(2, budget_seconds // per_pair)))


def _warm(_: int) -> float:
    """Nothing but a first task: each worker imports the package before the first page asks."""
    return time.perf_counter()


def serve(
    scenario: Scenario,
    *,
    source: str = "",
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    lang: Lang = "en",
    seed: int = 0,
    reps: int | None = None,
    workers: int = 2,
    on_ready: Callable[[str], None] | None = None,
) -> int:
    """Serve the dashboard for ``scenario`` until SIGTERM or SIGINT; returns the exit code (0).

    Parameters
    ----------
    scenario, source:
        The scenario and where it came from (shown on the page).
    port, host:
        Where to listen (``127.0.0.1``: this machine only).
    lang:
        Language the page opens in.
    seed:
        Root seed of both worlds.
    reps:
        Paired replications of 'more precision' (default: as many as fit in about 10 s, 2 to 20).
    workers:
        Worker processes for replications.
    on_ready:
        Called with the page's address once the server listens.
    """
    import panel as pn

    from .app import Dashboard

    pn.extension(inline=True)  # Bokeh and Panel resources from this server, never a CDN
    executor: Executor = process_executor(workers)
    list(executor.map(_warm, range(workers)))  # fork the workers now, before the server starts threads
    if reps is None:
        t0 = time.perf_counter()
        run(scenario, seed=seed)
        reps = default_reps(time.perf_counter() - t0, workers)
    sessions: list[Dashboard] = []

    def page() -> Any:
        dash = Dashboard(scenario, executor, lang=lang, seed=seed, reps=reps, source=source)
        sessions.append(dash)
        pn.state.add_periodic_callback(dash.poll, period=100)
        pn.state.on_session_destroyed(lambda _ctx: dash.close())
        return dash.layout

    origins = [f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    try:
        server = pn.serve(
            {"/": page},
            port=port,
            address=host,
            show=False,
            start=False,
            title="incuchain",
            websocket_origin=origins if host != "0.0.0.0" else "*",
            check_unused_sessions=1000,
            unused_session_lifetime=60000,
        )
    except OSError as exc:
        executor.shutdown(wait=True, cancel_futures=True)
        raise ScenarioError([f"--port: cannot listen on {host}:{port} ({exc.strerror or exc})"]) from None
    loop = server.io_loop

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        loop.add_callback_from_signal(loop.stop)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.start()
        address = f"http://{host}:{server.port}/"
        if on_ready is not None:
            on_ready(address)
        loop.start()
    finally:
        for dash in sessions:
            dash.close()
        server.stop()
        executor.shutdown(wait=True, cancel_futures=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def load(path: str | Path | None) -> tuple[Scenario, str]:
    """The scenario to open and its source (the default when ``path`` is None)."""
    if path is None:
        found = default_scenario_path()
        if found is None:
            raise ScenarioError(["scenario: none given and no scenarios/city.toml or scenarios/tutorial.toml here"])
        path = found
    return load_scenario(path), str(path)


def warn_host(host: str, lang: Lang) -> None:
    """One line on stderr when the server is reachable from other machines."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(text("host_warning", lang, host=host), file=sys.stderr)
