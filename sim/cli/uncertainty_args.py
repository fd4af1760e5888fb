"""Options and helpers shared by ``sensitivity``, ``psa`` and ``calibrate``."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ..scenario import Scenario
from ..uncertainty import Uncertainty, load_uncertainty
from .common import add_experiment_args, add_seed, positive_int

__all__ = ["add_common_args", "declared_uncertainty", "default_out", "write_figures"]


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


def default_out(*names: str, suffix: str) -> Path:
    """``out/<name>[_vs_<name>]_<suffix>`` with file-safe names."""
    safe = [re.sub(r"[^A-Za-z0-9_.-]+", "_", n) or "scenario" for n in names]
    return Path("out") / f"{'_vs_'.join(safe)}_{suffix}"


def write_figures(out: Path, quiet: bool) -> None:
    """The folder's report and figures, as ``incuchain report`` writes them; says where they are unless quiet."""
    from ..report.uncertainty import write_uncertainty_folder_report  # matplotlib only when figures are drawn

    _, report = write_uncertainty_folder_report(out)
    if not quiet:
        print(f"wrote {report} and {out / 'figures'}/", file=sys.stderr)
