"""Hypothesis strategies for hostile scenario documents: from the JSON Schema, and mutations of real ones.

The schema strategy is a small interpreter of the subset of JSON Schema that pydantic writes (objects,
arrays, numbers with bounds, enums, ``anyOf``/``oneOf``, ``$ref``). hypothesis-jsonschema would be the
library for it, but its 0.23 release fails on current Hypothesis (``'many' object has no attribute
'more'``), so the few lines here stand in for it.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

import sim
from sim.scenario import scenario_json_schema
from tests.helpers import SCENARIOS

NAMES = ["a", "b", "market", "exit", "maker_space", "incubator", "software", "general"]
"""Keys for tables of free names (stages, sectors, routes): few, so that references sometimes match."""

DATES = ["2019", "2020-06", "2021-01-15", "1900", "2999-12-31"]

HOSTILE_NUMBERS = [
    0,
    -1,
    1,
    0.5,
    1e-300,
    1e300,
    1.7e308,
    -1e308,
    2**53 + 1,
    2**63,
    2**70,
    math.nan,
    math.inf,
    -math.inf,
]
"""Values a careless or hostile user types."""


def _number(schema: dict[str, Any], integer: bool) -> st.SearchStrategy[Any]:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if integer:
        return st.integers(min_value=low, max_value=high if high is not None else 500)
    inner = st.floats(
        min_value=low,
        max_value=high if high is not None else 100.0,
        exclude_min="exclusiveMinimum" in schema,
        exclude_max="exclusiveMaximum" in schema,
        allow_nan=False,
    )
    return inner


def from_schema(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Documents valid against ``schema`` field by field (cross-field rules are the model's to check)."""
    if "$ref" in schema:
        target = defs[schema["$ref"].rsplit("/", 1)[1]]
        return st.deferred(lambda: from_schema(target, defs))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([from_schema(s, defs) for s in schema[key]])
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties")
        if props:
            required = set(schema.get("required", ()))
            return st.fixed_dictionaries(
                {k: from_schema(v, defs) for k, v in props.items() if k in required},
                optional={k: from_schema(v, defs) for k, v in props.items() if k not in required},
            )
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            return st.dictionaries(st.sampled_from(NAMES), from_schema(extra, defs), max_size=3)
        return st.just({})
    if kind == "array":
        if "prefixItems" in schema:
            return st.tuples(*(from_schema(s, defs) for s in schema["prefixItems"])).map(list)
        items = from_schema(schema.get("items", {"type": "number"}), defs)
        return st.lists(items, min_size=schema.get("minItems", 0), max_size=3)
    if kind in ("number", "integer"):
        return _number(schema, kind == "integer")
    if kind == "string":
        return st.sampled_from(DATES) if schema.get("format") == "date" else st.sampled_from(NAMES)
    if kind == "boolean":
        return st.booleans()
    return st.none()


def schema_documents() -> st.SearchStrategy[dict[str, Any]]:
    """Scenario documents drawn from ``incuchain schema``."""
    schema = scenario_json_schema()
    return from_schema(schema, schema["$defs"])


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [path] + [p for k, v in node.items() for p in _leaves(v, (*path, k))]
    if isinstance(node, list):
        return [path] + [p for i, v in enumerate(node) for p in _leaves(v, (*path, i))]
    return [path]


BASES = {
    name: sim.load_scenario(SCENARIOS / f"{name}.toml").with_changes({"calendar.horizon_years": 2}).to_dict()
    for name in ("tutorial", "policy_mix", "covid_rent_relief")
}
"""Shipped scenarios over 2 years, every default explicit (so every field can be mutated)."""

SCALES = [0, 0.001, 0.5, 2, 10, 1000, -1]
"""Factors a numeric field is multiplied by: extreme but well-typed settings."""

hostile_values = st.one_of(
    st.sampled_from(HOSTILE_NUMBERS),
    st.floats(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.sampled_from(["", "0.35", "nan", "exit", "market", "../..", "2019-13-45"]),
    st.just([]),
    st.just({}),
    st.lists(st.sampled_from(HOSTILE_NUMBERS), max_size=3),
)


@st.composite
def mutated_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A shipped scenario with one or two fields scaled, replaced, deleted or added."""
    import copy

    doc = copy.deepcopy(BASES[draw(st.sampled_from(sorted(BASES)))])
    for _ in range(draw(st.integers(1, 2))):
        paths = [p for p in _leaves(doc) if p]
        path = draw(st.sampled_from(paths))
        parent: Any = doc
        for key in path[:-1]:
            parent = parent[key]
        old = parent[path[-1]]
        numeric = isinstance(old, int | float) and not isinstance(old, bool)
        action = draw(
            st.sampled_from(
                ["scale", "scale", "scale", "replace", "delete", "add"] if numeric else ["replace", "delete", "add"]
            )
        )
        if action == "scale":  # keeps the type: reaches the engine more often than a wrong value does
            parent[path[-1]] = type(old)(old * draw(st.sampled_from(SCALES)))
        elif action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(NAMES))] = draw(hostile_values)
        else:
            parent[path[-1]] = draw(hostile_values)
    return doc
