"""``incuchain report DIR``: write report.html for the folder of run, compare, sweep, sensitivity, psa or
calibrate."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..files import folder_owner
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

    folder: Path = args.folder
    if not folder.is_dir():
        reject(f"{folder}: not an output folder of incuchain (no such folder)")
    if folder_kind(folder) is None:
        reject(f"{folder}: not an output folder of incuchain ({NOT_A_FOLDER})")
    if folder_owner(folder) is None and not (folder / "calibration.json").is_file():
        reject(f"{folder}: not an output folder of incuchain (no .incuchain.json, meta.json or experiment.json)")
    try:
        kind, path = write_folder_report(folder)
    except (ValueError, LookupError) as exc:  # a table or summary that does not parse, or lacks a column
        if getattr(args, "debug", False):
            raise
        reject(
            f"{folder}: a damaged or incomplete output folder ({type(exc).__name__}: {exc}); "
            "run the command that wrote it again"
        )
    if not args.quiet:
        print(f"report of the {kind} in {folder}: {path}")
    return 0
