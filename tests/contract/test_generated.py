"""Every operation, parameter and body property of /openapi.json, refused as documented.

The cases come from the published document and the app's routing table, so a new field,
parameter, route or method is covered the day it is added:
- an invalid value of each parameter and body property is a 422 with exactly one error,
  named for that public name, and nothing stored changes;
- an unknown query parameter is a 422 on every operation, before anything is touched;
- every method a path does not serve is a 405 whose `Allow` lists what it does serve, and
  OPTIONS answers the same list;
- HEAD answers like GET, without the body.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

from tests.contract.conftest import (
    METHODS,
    OFFLINE_APP,
    OPERATIONS,
    SPEC,
    Api,
    Operation,
    by_id,
    resolve,
)

# Values no schema rule lets through, tried in turn where a pattern applies.
PATTERN_BREAKERS = (" ", "a b", "\x01", "\u200b", "a\n")


def invalid_values(schema: dict[str, Any], as_text: bool) -> list[Any]:
    """Values the schema refuses; `as_text` for parameters, which arrive as strings."""
    schema = resolve(schema)
    values: list[Any] = []
    if "enum" in schema:
        values.append("not-one-of-them")
    if schema.get("type") == "string":
        if not as_text:
            values += [12345, None]
        if "maxLength" in schema:
            values.append("a" * (schema["maxLength"] + 1))
        if "pattern" in schema:
            # JSON Schema patterns are ECMA-262: `$` is the end of the text, Python's `\Z`.
            pattern = re.compile(schema["pattern"].replace("$", r"\Z"))
            values += [value for value in PATTERN_BREAKERS if not pattern.search(value)]
        if schema.get("format") == "date":
            values += ["2026-02-30", "2026-2-3"]
    if schema.get("type") == "integer":
        values += [schema["maximum"] + 1, schema["minimum"] - 1]
        values += ["1.0", "1e2", "seven"] if as_text else ["5", 1.5, True, None]
    return values


def cases(operation: Operation) -> list[tuple[str, str, Any]]:
    """(where, public name, invalid value) for every parameter and body property."""
    found = [
        (param["in"], param["name"], value)
        for where in ("path", "query")
        for param in operation.parameters(where)
        for value in invalid_values(param["schema"], as_text=True)
        # An empty path segment is another URL, not a value of this one.
        if not (where == "path" and value == "")
    ]
    schema = operation.body_schema
    for name, prop in (schema or {}).get("properties", {}).items():
        found += [("body", name, value) for value in invalid_values(prop, as_text=False)]
    if schema is not None:
        found.append(("body", "notAField", 1))
    return found


def test_the_document_has_cases_for_every_operation() -> None:
    # Guards the generator itself: an operation with inputs but no cases would pass vacuously.
    for operation in OPERATIONS:
        has_inputs = operation.spec.get("parameters") or operation.body_schema
        assert bool(cases(operation)) == bool(has_inputs), operation.id


@pytest.mark.parametrize("operation", by_id(OPERATIONS))
def test_each_invalid_value_is_one_error_named_for_it(api: Api, operation: Operation) -> None:
    before = api.snapshot()
    for where, name, value in cases(operation):
        body = api.valid_body(operation)
        request: dict[str, Any] = {}
        if where == "path":
            request["path"] = {name: str(value)}
        elif where == "query":
            request["query"] = {name: str(value)}
        else:
            request["body"] = {**(body or {}), name: value}
        response = api.send(operation, **request)
        assert response.status_code == 422, (where, name, value, response.text)
        errors = response.json()["errors"]
        assert [error["field"] for error in errors] == [name], (where, name, value, errors)
        assert errors[0]["message"], errors
    assert api.snapshot() == before


@pytest.mark.parametrize("operation", by_id(OPERATIONS))
def test_an_unknown_query_parameter_is_refused(api: Api, operation: Operation) -> None:
    before = api.snapshot()
    for name in ("dryRun", "fields", ""):
        response = api.send(operation, query={name: "true"})
        assert response.status_code == 422, (name, response.text)
        assert [error["field"] for error in response.json()["errors"]] == [name]
    assert api.snapshot() == before


def _paths() -> dict[str, set[str]]:
    """Each path of the document and of the routing table, with the methods it declares."""
    paths = {path: {method.upper() for method in ops} for path, ops in SPEC["paths"].items()}
    for route in OFFLINE_APP.routes:
        if isinstance(route, Route) and not isinstance(route, APIRoute):
            paths.setdefault(route.path, set()).update(route.methods or ())
    return paths


PATHS = _paths()


def _served(declared: set[str]) -> set[str]:
    # RFC 9110: HEAD wherever GET is; OPTIONS on every resource.
    return declared | {"OPTIONS"} | ({"HEAD"} if "GET" in declared else set())


@pytest.mark.parametrize("path", sorted(PATHS))
def test_methods_not_served_are_405_with_allow(api: Api, path: str) -> None:
    url = path.replace("{eventId}", api.event["eventId"])
    served = _served(PATHS[path])
    before = api.snapshot()
    for method in sorted(set(METHODS) - served):
        response = api.client.request(method, url)
        assert response.status_code == 405, (method, response.text)
        assert set(response.headers["allow"].split(", ")) == served, method
    options = api.client.options(url)
    assert options.status_code == 204
    assert set(options.headers["allow"].split(", ")) == served
    assert api.snapshot() == before


@pytest.mark.parametrize(
    "path", sorted(path for path, methods in PATHS.items() if "GET" in methods)
)
def test_head_answers_like_get_without_a_body(api: Api, path: str) -> None:
    urls = [path.replace("{eventId}", api.event["eventId"])]
    if "{eventId}" in path:
        urls.append(path.replace("{eventId}", "no-such-event"))
    for url in urls:
        get, head = api.client.get(url), api.client.head(url)
        assert head.status_code == get.status_code, url
        assert head.content == b""
        varying = {"x-request-id", "date"}
        assert {k: v for k, v in head.headers.items() if k not in varying} == {
            k: v for k, v in get.headers.items() if k not in varying
        }, url
