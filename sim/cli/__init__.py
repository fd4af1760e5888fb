"""The ``incuchain`` command line: one module per command, each with ``add_parser`` and ``main``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from ..errors import OutputError, ScenarioError
from ..version import __version__
from . import (
    analytic_cmd,
    calibrate_cmd,
    compare_cmd,
    dashboard_cmd,
    decompose_cmd,
    psa_cmd,
    report_cmd,
    run_cmd,
    schema_cmd,
    sensitivity_cmd,
    sweep_cmd,
    validate_cmd,
)

__all__ = ["main"]

COMMANDS: tuple[ModuleType, ...] = (
    run_cmd,
    compare_cmd,
    decompose_cmd,
    sweep_cmd,
    report_cmd,
    sensitivity_cmd,
    psa_cmd,
    calibrate_cmd,
    validate_cmd,
    schema_cmd,
    analytic_cmd,
    dashboard_cmd,
)
"""Command modules, in the order ``--help`` lists them."""


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (argparse would print the whole usage first), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="incuchain",
        description="Simulate technology-incubation chains: maker spaces, incubators, accelerators, parks.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the library does")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback of an unexpected error (for bug reports)"
    )
    parser.add_argument("--version", action="version", version=f"incuchain {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for mod in COMMANDS:
        mod.add_parser(sub)
    return parser


def _quiet_broken_pipe() -> int:
    """The reader of our output went away (``incuchain analytic | head -1``): stop quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python flushes stdout again at exit
    except (OSError, ValueError):
        pass
    return BROKEN_PIPE


BROKEN_PIPE = 141
"""Exit status when the reader of standard output went away (128 + SIGPIPE, what a shell reports)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``incuchain`` script. Returns the exit code.

    0: done; 2: invalid input or usage (one line per problem); 1: the machine failed (a full disk,
    out of memory) or an unexpected error, in one line naming the step (``--debug``: the traceback).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        code: int = args.func(args)
        sys.stdout.flush()
    except ScenarioError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 2
    except OutputError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        if args.debug:
            raise
        print(f"{args.command}: out of memory (see --max-memory and docs/scenario-format.md, limits)", file=sys.stderr)
        return 1
    except Exception as exc:
        if args.debug:
            raise
        print(f"{args.command}: unexpected error: {type(exc).__name__}: {exc} (rerun with --debug)", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
