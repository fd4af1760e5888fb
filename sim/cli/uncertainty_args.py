"""Options and helpers shared by ``sensitivity``, ``psa`` and ``calibrate``: the flags, the declared
uncertainty, the output folder, the run (folder lock, executor, run keywords) and the report at the end."""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, TypedDict

from ..errors import ScenarioError
from ..experiment import ExperimentResult
from ..files import folder_lock
from ..scenario import Scenario
from ..uncertainty import Uncertainty, load_uncertainty
from .common import add_experiment_args, add_seed, experiment_executor, guard_resources, notes_text, positive_int

__all__ = [
    "AnalysisRun",
    "add_common_args",
    "analysis_run",
    "declared_uncertainty",
    "default_out",
    "finish",
    "guard_ranges",
]


class AnalysisRun(TypedDict):
    """The keywords every analysis (``psa``, ``sensitivity``, ``calibrate``) takes for how it runs."""

    executor: Executor
    out: Path
    resume: bool
    overwrite: bool
    progress: bool | None


def add_common_args(p: argparse.ArgumentParser, *, reps_default: int, params_help: str) -> None:
    """``--uncertainty``, ``--params``, ``--reps``, ``--seed``, ``--out``, the experiment options, ``--quiet``."""
    p.add_argument(
        "--uncertainty",
        type=Path,
        default=None,
        metavar="FILE",
        help="TOML file with an [uncertainty] table (default: the scenario file's own [uncertainty])",
    )
    p.add_argument("--params", nargs="+", action="extend", default=[], metavar="PATH", help=params_help)
    p.add_argument(
        "--reps", type=positive_int, default=reps_default, help=f"replications per point (default {reps_default})"
    )
    add_seed(p)
    p.add_argument("--out", type=Path, default=None, help="output folder")
    add_experiment_args(p)
    p.add_argument("--quiet", action="store_true", help="print nothing but errors (and no progress bar)")


def declared_uncertainty(scenario: Scenario, path: str, args: argparse.Namespace) -> Uncertainty:
    """The declared parameters (``--uncertainty`` or the scenario file's table), narrowed to ``--params``."""
    return load_uncertainty(scenario, path, args.uncertainty).select(args.params)


def guard_ranges(
    args: argparse.Namespace,
    scenarios: Sequence[Scenario],
    ranges: Sequence[tuple[str, Any, Any]],
    replications: int,
) -> None:
    """The resource guard for an analysis that moves fields across ranges: every scenario as it is, with
    each ``(field, low, high)`` at either end, and with all of them at their low and at their high ends
    (the largest replication decides). A combination the schema refuses is left out (the analysis
    skips such points too)."""
    changes: list[dict[str, Any]] = [{}]
    changes += [{f: v} for f, lo, hi in ranges for v in (lo, hi)]
    changes += [{f: lo for f, lo, _ in ranges}, {f: hi for f, _, hi in ranges}]
    variants: list[Scenario] = []
    for sc in scenarios:
        for change in changes:
            try:
                variants.append(sc.with_changes(change) if change else sc)
            except ScenarioError:
                continue
    guard_resources(args, variants, replications)


def default_out(*names: str, suffix: str) -> Path:
    """``out/<name>[_vs_<name>]_<suffix>`` with file-safe names."""
    safe = [re.sub(r"[^A-Za-z0-9_.-]+", "_", n) or "scenario" for n in names]
    return Path("out") / f"{'_vs_'.join(safe)}_{suffix}"


@contextlib.contextmanager
def analysis_run(args: argparse.Namespace, out: Path, tasks: int) -> Iterator[AnalysisRun]:
    """Hold ``out`` (no second command writes there meanwhile) and open the executor the flags ask for
    (no more local workers than ``tasks``); yield the run keywords from ``--resume``, ``--overwrite`` and
    ``--quiet``."""
    with folder_lock(out), experiment_executor(args, tasks) as ex:
        yield AnalysisRun(
            executor=ex, out=out, resume=args.resume, overwrite=args.overwrite, progress=False if args.quiet else None
        )


def finish(args: argparse.Namespace, out: Path, experiment: ExperimentResult | None = None) -> None:
    """After an analysis: how its experiment ran (checkpoints reused or recomputed) on stderr, then the
    folder's report and figures, as ``incuchain report`` writes them; says where they are unless ``--quiet``."""
    from ..report.uncertainty import write_uncertainty_folder_report  # matplotlib only when figures are drawn

    for line in notes_text(experiment) if experiment is not None else []:
        print(line, file=sys.stderr)
    _, report = write_uncertainty_folder_report(out)
    if not args.quiet:
        print(f"wrote {report} and {out / 'figures'}/", file=sys.stderr)
