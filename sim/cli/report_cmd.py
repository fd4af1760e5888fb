"""``incuchain report DIR``: write report.html for a run, experiment, compare or sweep folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import reject


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="write report.html for an output folder (run, experiment, compare or sweep)",
        description="Write report.html and figures/ (PNG and SVG) for the results in an output folder of "
        "incuchain run, run --reps, compare or sweep. The kind of results is read from the folder's files.",
    )
    p.add_argument("folder", type=Path, help="the output folder")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from ..report.folder import folder_kind, write_folder_report  # matplotlib only when a report is asked for

    if folder_kind(args.folder) is None:
        what = "no such folder" if not args.folder.is_dir() else "no summary.json, summary_stats.csv or effects.csv"
        reject(f"{args.folder}: not an output folder of run, compare or sweep ({what})")
    kind, path = write_folder_report(args.folder)
    if not args.quiet:
        print(f"report of the {kind} in {args.folder}: {path}")
    return 0
