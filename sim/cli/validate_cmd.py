"""``incuchain validate FILE...``: check scenario files; 'ok' or one line per problem (exit 2)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import ScenarioError
from ..scenario import load_scenario


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "validate",
        help="check scenario files",
        description="Check scenario files: 'ok', or one line per problem (exit code 2).",
    )
    p.add_argument("files", nargs="+", help="scenario TOML files")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    bad = 0
    for f in args.files:
        try:
            load_scenario(Path(f))
        except ScenarioError as exc:
            bad += 1
            for line in exc.problems:
                print(line, file=sys.stderr)
        else:
            print(f"{f}: ok")
    return 2 if bad else 0
