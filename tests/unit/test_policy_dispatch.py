"""Every policy type is handled wherever policies are dispatched: adding an instrument touches known places.

The dispatches are ``match`` statements ending in ``assert_never`` (mypy fails when a type has no case);
this test says the same thing without mypy, naming the place and the missing type.
"""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import pytest

from sim import policies
from tests.helpers import ROOT

# (module, function) of each dispatch over the Policy union
DISPATCHES = [
    ("sim/engine_policies.py", "_translate"),
    ("sim/budget.py", "_payments"),
    ("sim/decomposition.py", "_kind"),
]


def _policy_classes() -> set[str]:
    union = typing.get_args(policies.Policy)[0]
    return {cls.__name__ for cls in typing.get_args(union)}


def _case_classes(path: Path, function: str) -> set[str]:
    tree = ast.parse(path.read_text())
    (fn,) = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function]
    names: set[str] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.MatchClass) and isinstance(node.cls, ast.Name):
            names.add(node.cls.id)
    return names


@pytest.mark.parametrize(("module", "function"), DISPATCHES)
def test_every_policy_type_has_a_case(module: str, function: str) -> None:
    missing = _policy_classes() - _case_classes(ROOT / module, function)
    assert not missing, f"{module} {function}() has no case for {sorted(missing)} (see docs/policies.md, checklist)"


def test_every_policy_type_is_documented() -> None:
    text = (ROOT / "docs" / "policies.md").read_text()
    undocumented = [name for name in policies.POLICY_TYPES if f"`{name}`" not in text]
    assert not undocumented, f"docs/policies.md does not describe {undocumented}"


def test_the_union_and_the_type_names_agree() -> None:
    union = typing.get_args(typing.get_args(policies.Policy)[0])
    names = tuple(typing.get_args(cls.model_fields["type"].annotation)[0] for cls in union)
    assert names == policies.POLICY_TYPES, "POLICY_TYPES and the Policy union list different instruments"
