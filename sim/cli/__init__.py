"""The ``incuchain`` command line: one module per command, each with ``add_parser`` and ``main``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from ..errors import ScenarioError
from . import analytic_cmd, compare_cmd, dashboard_cmd, run_cmd, schema_cmd, sweep_cmd, validate_cmd

__all__ = ["main"]

COMMANDS: tuple[ModuleType, ...] = (
    run_cmd,
    compare_cmd,
    sweep_cmd,
    validate_cmd,
    schema_cmd,
    analytic_cmd,
    dashboard_cmd,
)
"""Command modules, in the order ``--help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="incuchain",
        description="Simulate technology-incubation chains: maker spaces, incubators, accelerators, parks.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the library does")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for mod in COMMANDS:
        mod.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``incuchain`` script. Returns the exit code (2 for invalid input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        code: int = args.func(args)
    except ScenarioError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
