"""``incuchain report DIR``: write report.html for the folder of run, compare, sweep, sensitivity, psa or
calibrate."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import reject


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="write report.html for an output folder (run, experiment, compare, sweep, sensitivity, psa, calibrate)",
        description="Write report.html and figures/ (PNG and SVG) for the results in an output folder of "
        "incuchain run, run --reps, compare, sweep, sensitivity, psa or calibrate. The kind of results is read "
        "from the folder's files.",
    )
    p.add_argument("folder", type=Path, help="the output folder")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from ..report.folder import NOT_A_FOLDER, folder_kind, write_folder_report  # matplotlib only when needed

    if folder_kind(args.folder) is None:
        what = "no such folder" if not args.folder.is_dir() else NOT_A_FOLDER
        reject(f"{args.folder}: not an output folder of incuchain ({what})")
    kind, path = write_folder_report(args.folder)
    if not args.quiet:
        print(f"report of the {kind} in {args.folder}: {path}")
    return 0
