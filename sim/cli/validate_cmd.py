"""``incuchain validate FILE...``: check scenario files; 'ok' or one line per problem (exit 2).

A scenario's own ``[uncertainty]`` table is checked with it; ``--uncertainty FILE`` and ``--targets FILE``
check an uncertainty file or a calibration targets file against each scenario.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path
from typing import Any

from ..errors import ScenarioError
from ..scenario import load_scenario


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "validate",
        help="check scenario files",
        description="Check scenario files: 'ok', or one line per problem (exit code 2). A scenario's own "
        "[uncertainty] table is checked with it.",
    )
    p.add_argument("files", nargs="+", help="scenario TOML files")
    p.add_argument("--uncertainty", type=Path, default=None, metavar="FILE", help="also check this [uncertainty] file")
    p.add_argument(
        "--targets", type=Path, default=None, metavar="FILE", help="also check this calibration targets file"
    )
    p.set_defaults(func=main)


def _check(path: Path, args: argparse.Namespace) -> None:
    from ..uncertainty import load_uncertainty  # imported on use: plain validation stays light
    from ..uncertainty.targets import load_targets

    sc = load_scenario(path)
    if args.uncertainty is not None:
        load_uncertainty(sc, path, args.uncertainty)
    elif "uncertainty" in _own_table(path):
        load_uncertainty(sc, path)
    if args.targets is not None:
        load_targets(args.targets, sc)


def _own_table(path: Path) -> dict[str, Any]:
    """The file's own keys, not those it inherits: an ``[uncertainty]`` table is checked where it is written
    (a counterfactual that extends a file and drops its policies inherits paths it does not have)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}  # load_scenario has read it already


def main(args: argparse.Namespace) -> int:
    bad = 0
    for f in args.files:
        try:
            _check(Path(f), args)
        except ScenarioError as exc:
            bad += 1
            for line in exc.problems:
                print(line, file=sys.stderr)
        else:
            print(f"{f}: ok")
    return 2 if bad else 0
