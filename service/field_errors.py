"""Pydantic's validation errors, as the public `errors` list of a 422 problem.

Pydantic locates an error inside its own schema: a union member (`capacity.none`), a
validator chain (`title.function-after[...]`, with a memory address), a body wrapper. A
client knows only the public names. So each error becomes one entry for the public name
it concerns (the first error found for it: one invalid input, one entry), with a message
in plain words built from the error's type, never from pydantic's text or the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from service.models import MAX_FIELD_ERRORS

_SOURCES = {"body", "query", "path", "header", "cookie"}

# Error types whose message is fixed; the others are built from their context below.
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a field this API knows",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "string_pattern_mismatch": "is not in the form this API accepts",
    "string_unicode": "must be text",
}


def public_name(location: Iterable[Any]) -> str:
    """`("body", "capacity", "function-before[...]")` -> `capacity`; `("body",)` -> `body`."""
    parts = [str(part) for part in location]
    if len(parts) > 1 and parts[0] in _SOURCES:
        return parts[1]
    return parts[0] if parts else "body"


def _message(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if "input" in error and error["input"] is None and kind != "missing":
        return "must not be null"
    if kind == "value_error":
        # Our own validators' messages, which are written for clients.
        return str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    if kind == "enum":
        return f"must be one of {context.get('expected', 'the listed values')}"
    if kind in {"string_too_long", "too_long"}:
        return f"must be at most {context.get('max_length')} characters"
    if kind in {"string_too_short", "too_short"}:
        return f"must be at least {context.get('min_length')} characters"
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        bound = next(iter(context.values()), "")
        word = {"greater_than_equal": "at least", "greater_than": "more than"}.get(
            kind, "at most" if kind == "less_than_equal" else "less than"
        )
        return f"must be {word} {bound}"
    return _MESSAGES.get(kind, "is invalid")


def field_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """One entry per public name, in the order found (all of them: callers bound the list)."""
    found: dict[str, str] = {}
    for error in errors:
        name = public_name(error.get("loc", ()))
        found.setdefault(name, _message(error))
    return [{"field": name, "message": message} for name, message in found.items()]


def bounded(entries: list[dict[str, str]]) -> tuple[list[dict[str, str]], int]:
    """The first MAX_FIELD_ERRORS entries, and how many there are in all."""
    return entries[:MAX_FIELD_ERRORS], len(entries)
