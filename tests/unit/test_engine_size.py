"""The engine stays in pieces a reader can hold: no class of the engine's modules is over 500 lines."""

from __future__ import annotations

import ast

from tests.helpers import ROOT

LIMIT = 500


def test_no_engine_class_is_over_the_limit() -> None:
    long = []
    for path in sorted((ROOT / "sim").glob("engine*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                size = node.end_lineno - node.lineno + 1
                if size > LIMIT:
                    long.append(f"{path.name}: {node.name} has {size} lines")
    assert not long, f"engine classes over {LIMIT} lines (split by job, see docs/architecture.md): {long}"
