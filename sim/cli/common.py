"""Helpers shared by the commands: loading scenarios, formatting tables for the terminal."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import ScenarioError
from ..executors import ExecutorUnavailable, open_executor
from ..experiment import ExperimentError, ExperimentResult, RunOptions
from ..guards import check_resources, parse_bytes
from ..scenario import Scenario, default_scenario, load_scenario

__all__ = [
    "add_seed",
    "format_table",
    "load_or_default",
    "nonneg_int",
    "positive_int",
    "replication_index",
    "safe_name",
]


def load_or_default(path: str | None) -> Scenario:
    """The scenario at ``path``, or the embedded default when none is given."""
    return default_scenario() if path is None else load_scenario(Path(path))


def nonneg_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


MAX_REPLICATION = 2**31 - 1
"""Largest replication index: the event log stores it in 32 bits."""


def replication_index(text: str) -> int:
    value = nonneg_int(text)
    if value > MAX_REPLICATION:
        raise argparse.ArgumentTypeError(f"must be <= {MAX_REPLICATION} (a 32-bit index), got {value}")
    return value


def safe_name(name: str) -> str:
    """``name`` as one safe folder name: letters, digits, '_', '.', '-', never '.', '..' or hidden."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).lstrip(".") or "scenario"


def add_seed(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=nonneg_int, default=0, help="root random seed (default 0)")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], first_left: bool = True) -> str:
    """A plain-text table with right-aligned numbers."""
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]

    def line(items: Sequence[str]) -> str:
        return "  ".join(
            s.ljust(w) if (i == 0 and first_left) else s.rjust(w)
            for i, (s, w) in enumerate(zip(items, widths, strict=True))
        )

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


def reject(message: str) -> None:
    """Raise a one-line user error."""
    raise ScenarioError([message])


def add_report_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--report",
        action="store_true",
        help="also write report.html (self-contained) and figures/ (PNG and SVG) to the output folder",
    )


# -- options and helpers shared by the experiment commands (run --reps, compare, sweep) ---------------


def add_executor_args(g: argparse._ActionsContainer) -> None:
    """``--workers`` and ``--scheduler``: where replications run (:func:`experiment_executor`)."""
    g.add_argument("--workers", type=positive_int, default=None, help="local worker processes (default: serial)")
    g.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run on a Dask cluster: a scheduler address (tcp://host:8786), or 'local' for a local "
        'cluster of --workers processes (needs pip install "incuchain[dask]")',
    )


def add_experiment_args(p: argparse.ArgumentParser) -> None:
    """``--workers``, ``--scheduler``, ``--resume``, ``--overwrite``, ``--keep-events``."""
    g = p.add_argument_group("experiments")
    add_executor_args(g)
    g.add_argument(
        "--resume", action="store_true", help="continue the experiment in --out; compute only what is missing"
    )
    g.add_argument(
        "--overwrite", action="store_true", help="replace the output (a run or an experiment) already in --out"
    )
    g.add_argument(
        "--keep-events", action="store_true", help="also keep every replication's events.parquet and firms.parquet"
    )
    add_max_memory(g)


def add_max_memory(g: argparse._ActionsContainer) -> None:
    """``--max-memory``: the resource guard's limit (:func:`guard_resources`)."""
    g.add_argument(
        "--max-memory",
        type=_memory,
        default=None,
        metavar="SIZE",
        help="refuse to start when the estimated memory exceeds SIZE, e.g. 4G or 500M "
        "(default: half the machine's memory; see docs/scenario-format.md, limits)",
    )


def _memory(text: str) -> int:
    try:
        return parse_bytes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def guard_resources(
    args: argparse.Namespace, scenarios: list[Scenario], replications: int, logs_per_task: int = 1
) -> None:
    """Refuse (one line, exit 2) what would not fit in memory; print a warning when it is close.

    ``logs_per_task``: event logs a task holds at once (2 for a decomposition's two worlds).
    """
    remote = args.scheduler not in (None, "local")
    workers = 1 if remote else (args.workers or ((os.cpu_count() or 1) if args.scheduler == "local" else 1))
    for line in check_resources(scenarios, replications, workers, args.max_memory, logs_per_task):
        print(line, file=sys.stderr)


@contextmanager
def experiment_executor(args: argparse.Namespace, tasks: int) -> Iterator[Executor]:
    """The executor the options ask for (closed on exit), with no more local workers than ``tasks``."""
    workers = min(args.workers, max(1, tasks)) if args.workers else None
    with open_executor(workers, args.scheduler) as ex:
        yield ex


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def announce(what: str, simulations: int, quiet: bool) -> Callable[[float], None] | None:
    """Say how many simulations a command runs, before it starts; return the callback that adds an
    estimate of how long once the first replications are timed (``None`` when ``quiet``).

    Both lines go to stderr, so the tables on stdout stay the same. The estimate counts every
    replication, including those a resume finds on disk.
    """
    if quiet:
        return None
    print(f"{what}: {simulations:,} simulations", file=sys.stderr, flush=True)

    def estimate(seconds_per_replication: float) -> None:
        total = seconds_per_replication * simulations
        print(
            f"{what}: first replications took {seconds_per_replication:.2f} s each (wall, all workers): "
            f"about {_duration(total)} for the {simulations:,}",
            file=sys.stderr,
            flush=True,
        )

    return estimate


def run_guarded(body: Callable[[], int]) -> int:
    """Run an experiment command: failed replications exit 1, an unavailable executor exits 2."""
    try:
        return body()
    except ExecutorUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except ExperimentError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 1


def notes_text(result: ExperimentResult) -> list[str]:
    """Lines about how the experiment ran: checkpoints reused, damaged ones recomputed."""
    meta = result.meta
    lines = []
    if meta.get("reused_from_checkpoints"):
        reused, computed = meta["reused_from_checkpoints"], meta["computed"]
        lines.append(f"resumed: {reused} replications read from checkpoints, {computed} computed")
    for line in meta.get("recomputed_damaged", []):
        lines.append(f"damaged checkpoint, computed again: {line}")
    return lines


def run_options(
    args: argparse.Namespace, executor: Executor, out: Path, timing: Callable[[float], None] | None
) -> RunOptions:
    """The experiment options the command-line flags ask for (``--resume``, ``--overwrite``,
    ``--keep-events``, ``--quiet``), with the command's executor, folder and time estimate."""
    return RunOptions(
        executor=executor,
        out=out,
        resume=args.resume,
        overwrite=args.overwrite,
        keep_events=args.keep_events,
        progress=False if args.quiet else None,
        timing=timing,
    )
