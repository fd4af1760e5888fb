"""``incuchain dashboard [SCENARIO]``: the workshop page in a browser (needs the ``dashboard`` extra)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..guards import check_resources
from .common import add_max_memory, add_seed, positive_int, reject


def _port(text: str) -> int:
    value = positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"must be at most 65535, got {value}")
    return value


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "dashboard",
        help="serve the workshop dashboard: a policy and its baseline side by side, live",
        description="Serve the workshop page on this machine: the baseline and a variant (the scenario with "
        "your levers) on the same firms and random numbers, side by side. Opens scenarios/city.toml, or "
        "scenarios/tutorial.toml until it exists, unless a scenario is named. Works offline. Stop with Ctrl-C "
        "or SIGTERM. Needs: pip install '.[dashboard]'.",
    )
    p.add_argument("scenario", nargs="?", default=None, help="scenario TOML file (default: see above)")
    p.add_argument("--port", type=_port, default=5006, help="port (default 5006)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 for a room network)",
    )
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="language the page opens in (default en)")
    p.add_argument(
        "--reps",
        type=positive_int,
        default=None,
        help="paired replications of 'more precision' (default: as many as fit in about 10 s, 2 to 20)",
    )
    p.add_argument("--workers", type=positive_int, default=2, help="worker processes (default 2)")
    add_seed(p)
    add_max_memory(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    try:
        import panel  # noqa: F401
    except ImportError:
        reject("dashboard: needs the dashboard extra: pip install 'incuchain[dashboard]' (or '.[dashboard]')")
    from ..dashboard.server import load, serve, warn_host

    scenario, source = load(args.scenario)
    # the page runs the baseline and the variant of a replication side by side on every worker
    for line in check_resources([scenario], 2, args.workers, args.max_memory, logs_per_task=2):
        print(line, file=sys.stderr)
    warn_host(args.host, args.lang)

    def ready(address: str) -> None:
        print(f"incuchain dashboard: {source} at {address} (stop with Ctrl-C)", flush=True)

    return serve(
        scenario,
        source=source,
        port=args.port,
        host=args.host,
        lang=args.lang,
        seed=args.seed,
        reps=args.reps,
        workers=args.workers,
        on_ready=ready,
    )
