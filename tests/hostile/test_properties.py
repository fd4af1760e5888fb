"""Property-based hostile input: any document either runs correctly or is refused with exit 2, line by line.

Documents come from the JSON Schema (``incuchain schema``) and from mutations of shipped scenarios.
For each, ``validate`` exits 0 or 2; a valid one is run (under a small ``--max-memory``, so the
resource guard may refuse it, again with exit 2), and a finished run conserves firms (arrived =
active + failed + exited) and writes finite numbers only. Exit 1 (an unexpected error), a traceback
or a hang fails the test.

Bounded for CI: a fixed number of examples with a derandomised search (the same documents every
run). ``HYPOTHESIS_PROFILE=fuzz`` searches at random and ten times longer.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, event, given, settings

from .helpers import cli
from .strategies import mutated_documents, schema_documents

settings.register_profile(
    "ci", max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
settings.register_profile("fuzz", max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

MAX_MEMORY = "200M"
"""Lets through runs of up to about 100,000 events (a second or two): enough to exercise the engine."""


def _strip_none(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_none(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_strip_none(v) for v in node if v is not None]
    return node


def _finite(node: Any, where: str = "") -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _finite(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _finite(v, f"{where}[{i}]")
    elif isinstance(node, float):
        assert math.isfinite(node), f"summary{where} is {node}"


def check_document(doc: dict[str, Any], folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = folder / "doc.toml"
    try:
        path.write_text(tomli_w.dumps(_strip_none(doc)), encoding="utf-8")
    except (TypeError, ValueError):  # not representable in TOML: not something a file can hold
        event("not TOML")
        return
    code, _, err = cli(capsys, "validate", str(path))
    assert code in (0, 2), f"validate exit {code}: {err[-2000:]}"
    if code == 2:
        lines = err.strip().splitlines()
        assert lines, "exit 2 without a message"
        for line in lines:
            assert line.startswith(f"{path}: "), f"not a one-line message naming the file: {line[:300]!r}"
            assert "Traceback" not in line
        event("refused by validate")
        return
    out_dir = folder / "out"
    code, _, err = cli(
        capsys, "run", str(path), "--out", str(out_dir), "--quiet", "--max-memory", MAX_MEMORY, "--overwrite"
    )
    assert code in (0, 2), f"run exit {code}: {err[-2000:]}"
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and "estimated memory" in err, err[-2000:]
        event("refused by the resource guard")
        return
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    metrics = summary["metrics"]
    arrived = metrics["arrivals"] + metrics["initial_stock"]
    ended = metrics["active_at_horizon"] + metrics["failed"] + metrics["exited"]
    assert arrived == ended, f"firms not conserved: {arrived} arrived, {ended} accounted for"
    _finite(summary)
    event("ran")


@given(doc=schema_documents())
def test_documents_from_the_schema(
    doc: dict[str, Any], tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    check_document(doc, tmp_path_factory.mktemp("schema"), capsys)


@settings(max_examples=80 if settings().max_examples == 40 else settings().max_examples)
@given(doc=mutated_documents())
def test_mutated_shipped_scenarios(
    doc: dict[str, Any], tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    check_document(doc, tmp_path_factory.mktemp("mutant"), capsys)
