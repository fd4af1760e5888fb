"""Paths and comparisons shared by the experiment tests."""

from __future__ import annotations

from pathlib import Path

TUTORIAL = Path(__file__).resolve().parents[2] / "scenarios" / "tutorial.toml"

SUPPORT_POLICY = {
    "type": "hazard_multiplier",
    "hazard": "failure",
    "factor": 0.8,
    "target": {"stages": ["incubator"]},
}
"""Incubator failure hazard x 0.8: a policy that changes hazards, the case pairing is built for."""


def tree_bytes(root: Path, skip: frozenset[str] = frozenset({"meta.json"})) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes), except run-to-run provenance."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and p.name not in skip
    }


def assert_same_tree(a: Path, b: Path) -> None:
    """Two output folders hold the same files with the same bytes (meta.json aside)."""
    ta, tb = tree_bytes(a), tree_bytes(b)
    assert sorted(ta) == sorted(tb), f"different files: {sorted(set(ta) ^ set(tb))}"
    differ = [name for name in ta if ta[name] != tb[name]]
    assert not differ, f"files differ between {a} and {b}: {differ}"
