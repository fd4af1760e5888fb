"""Exception types, and turning pydantic's errors into one line per problem with a field path."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

__all__ = ["OutputError", "ScenarioError", "format_validation_error"]


class ScenarioError(ValueError):
    """A scenario (or a command-line value) is invalid.

    ``problems`` holds one line per problem, each starting with the offending field's dotted path.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class OutputError(Exception):
    """Output could not be written: one line naming the step and the path.

    ``exit_code`` is 2 when the place the user chose is the problem (read-only, not a folder, holding
    another kind of output) and 1 when the machine is (a full disk).
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        self.exit_code = exit_code
        super().__init__(message)


def _clean_loc(loc: tuple[int | str, ...], tags: frozenset[str]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
            continue
        # Union members and discriminator tags are pydantic's bookkeeping, not the user's field names.
        if (
            item in tags
            or "[" in item
            or item.startswith(("constrained-", "function-", "tagged-union"))
            or item in {"int", "float", "str", "bool", "list", "dict", "dist", "number", "table"}
        ):
            continue
        parts.append(("." if parts else "") + item)
    return "".join(parts) or "(top level)"


def _message(err: Any) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown key"
    bound = {k: f"{v:g}" if isinstance(v, float) else v for k, v in ctx.items()}  # 1e+15, not 1000000000000000.0
    simple = {
        "greater_than": f"must be > {bound.get('gt')}",
        "greater_than_equal": f"must be >= {bound.get('ge')}",
        "less_than": f"must be < {bound.get('lt')}",
        "less_than_equal": f"must be <= {bound.get('le')}",
        "int_parsing": "must be a whole number",
        "int_type": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_parsing": "must be a number",
        "float_type": "must be a number",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "string_type": "must be a string",
        "list_type": "must be a list",
        "tuple_type": "must be a list",
        "dict_type": "must be a table",
        "model_type": "must be a table",
        "model_attributes_type": "must be a table",
        "finite_number": "must be a finite number",
    }
    if kind in simple:
        return f"{simple[kind]}, got {value!r}"
    if kind == "union_tag_invalid":
        return (
            f"unknown {ctx.get('discriminator', 'type')} {ctx.get('tag')!r}; "
            f"expected one of {str(ctx.get('expected_tags')).replace(chr(39), '')}"
        )
    if kind == "union_tag_not_found":
        return f"needs a {ctx.get('discriminator', 'type')} key"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {value!r}"
    msg = str(err.get("msg", kind))
    return msg.removeprefix("Value error, ")


def format_validation_error(exc: ValidationError, tags: frozenset[str] = frozenset()) -> list[str]:
    """One line per distinct field path, ``path: problem``; union members collapse to the first."""
    lines: dict[str, str] = {}
    for err in exc.errors():
        path = _clean_loc(tuple(err["loc"]), tags)
        if path not in lines:
            lines[path] = f"{path}: {_message(err)}"
    return list(lines.values())
