"""Request bodies read as strict JSON: UTF-8 only, each key once, numbers exact.

Python's `json.loads` accepts bytes in UTF-16 and UTF-32 too, keeps the last of repeated
keys, and reads every number with a fraction or exponent as a float, so 0.99999999999999999
arrives as 1.0. Each is a way for two parsers (a gateway, an auditor, this service) to read
one body differently. So bodies are read here: RFC 8259 §8.1 (JSON between systems is
UTF-8), a repeated key refused, and a non-integer number kept exact as a `Decimal` that no
integer field accepts. Every route reads its body through `StrictJSONRequest`
(service/api/route.py).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fastapi import Request

# Integers of more digits than this stay Decimals: int() of "1e100000000" would take
# seconds and memory, and no field takes a number that large.
_MAX_INTEGER_DIGITS = 19


class MalformedBody(ValueError):
    """The body is not UTF-8 JSON with unique keys; `detail` says what, in words."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedBody(f"The key {key[:100]!r} appears more than once.")
        result[key] = value
    return result


def _number(text: str) -> int | Decimal:
    """A JSON number with a fraction or exponent: an int when exactly one (2.5e3), else
    the exact Decimal."""
    value = Decimal(text)
    if value.adjusted() < _MAX_INTEGER_DIGITS and value == value.to_integral_value():
        return int(value)
    return value


def loads(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody("The request body is not UTF-8.") from None
    # json.JSONDecodeError (a BOM included) passes through: FastAPI makes it a json_invalid.
    return json.loads(text, object_pairs_hook=_unique_keys, parse_float=_number)


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads(await self.body())
        return self._json
