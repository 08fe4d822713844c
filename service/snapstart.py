"""Lambda SnapStart: the work a snapshot should hold, and what a restored environment redoes.

With SnapStart, Lambda runs the function's init when a version is published, snapshots the
microVM, and resumes new execution environments from that snapshot (docs/operations.md).
The Lambda runtime runs hooks registered through `snapshot_restore_py`, a module the
Python 3.12+ managed runtimes and their base images ship with the runtime interface
client: the image installs no copy, which could shadow the runtime's (the dev environment
has AWS's package from PyPI, for the tests). Where it is absent `register` registers
nothing; where no runtime runs the hooks (the tests' and the benchmark's processes, which
run them themselves when they mean to), registering them changes nothing.

Before the snapshot, `warm_up` sends synthetic requests through the handler, as API
Gateway would, so the one-time work a first request does (FastAPI's per-route set-up, the
OpenAPI document, imports on first use, botocore's first call of each operation and its
model of an item's attribute values) is done and kept in the snapshot. It does so in two
rounds, and neither can change data:

- a rehearsal (`EventStore.rehearsal`): each operation of the OpenAPI document, as is
  and with each optional parameter it declares, answered inside the process as DynamoDB
  answers a success that finds an event (the document's example event), so every route's
  success path runs, its create and its listing without `status` included; no call leaves
  the process;
- then one request per page and per operation that does reach DynamoDB, so the client's
  connection path and DynamoDB's refusals are warmed on real answers:
  - reads ask for an event id no client is expected to use, and for the last day the API
    takes (9999-12-31), which no real event is on; whatever they find, they only read;
  - updates and deletes carry an If-Match of the largest version the API issues, which no
    event reaches (one update a microsecond would take 30,000 years), so DynamoDB refuses
    them on their condition;
  - other writes (a create) carry a body that fails validation before any DynamoDB call.

After the restore, `refresh` drops what the snapshot must not carry over:

- the DynamoDB client's pooled connections: their sockets were opened by the environment
  the snapshot was taken in. `close()` empties botocore's pools; the client stays usable
  and opens fresh connections on its next call.
- the `random` module's state, seeded once at import and so the same in every environment
  restored from one snapshot; botocore draws its retry back-off jitter from it, and equal
  jitter would line up the retries of every environment ("Handling uniqueness" in AWS's
  SnapStart guide). The service's own ids (`uuid4`, `secrets`) read the OS's CSPRNG per
  call and need nothing.

Credentials need no hook: the client takes them from botocore's default chain, and under
SnapStart Lambda hands the function container credentials (`AWS_CONTAINER_CREDENTIALS_FULL_URI`)
rather than access keys; botocore refreshes those itself when they expire, reading the
token from the environment at each refresh ("Using SnapStart with AWS SDKs").
"""

from __future__ import annotations

import importlib
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

from fastapi.routing import APIRoute
from starlette.routing import Route

if TYPE_CHECKING:
    from fastapi import FastAPI
    from mangum import Mangum
    from mangum.types import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient

# The runtime's hook API: https://pypi.org/project/snapshot-restore-py/
HOOKS_MODULE = "snapshot_restore_py"
WARM_UP_EVENT_ID = "snapstart-warm-up"
# A well-formed entity tag (so the write reaches DynamoDB's condition, as a real one
# does) that names a version no event reaches: the write is always refused there.
NO_VERSION = '"999999999999999999"'
# What a listing is asked for: the last day the API takes, which no real event is on, so
# its Query reads nothing; each operation gets the parameters it declares.
LISTING_QUERY = {"status": "active", "from": "9999-12-31", "to": "9999-12-31"}
# What the rehearsal sets optional parameters to (query parameters all together, headers
# one at a time): values that take the request down another path through the store and
# still succeed on the example event (If-None-Match names a version it is not at; If-Match
# gets the version it is at). A parameter not listed (a cursor, which only a page can
# issue) is left out.
REHEARSED_VALUES = {
    **LISTING_QUERY,
    "limit": "5",
    "Idempotency-Key": WARM_UP_EVENT_ID,
    "If-None-Match": NO_VERSION,
}
CONDITIONAL_METHODS = frozenset({"put", "patch", "delete"})
PATH_PARAMETER = re.compile(r"\{[^}]+\}")
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class WarmUpRequest:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None

    def event(self) -> dict[str, Any]:
        """The request as a REST API (v1) proxy event, the shape the deployed API sends."""
        return {
            "resource": "/{proxy+}",
            "path": self.path,
            "httpMethod": self.method,
            "headers": dict(self.headers),
            "multiValueHeaders": {name: [value] for name, value in self.headers.items()},
            "queryStringParameters": dict(self.query) or None,
            "multiValueQueryStringParameters": {k: [v] for k, v in self.query.items()} or None,
            "pathParameters": None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": "/{proxy+}",
                "httpMethod": self.method,
                "path": self.path,
                "stage": "snapstart",
                "requestId": WARM_UP_EVENT_ID,
                "identity": {"sourceIp": "127.0.0.1"},
            },
            "body": self.body,
            "isBase64Encoded": False,
        }


@dataclass(frozen=True)
class WarmUpContext:
    """The part of Lambda's context object the service reads (its log lines' request id)."""

    aws_request_id: str = WARM_UP_EVENT_ID


def example(document: dict[str, Any], name: str) -> dict[str, Any]:
    """The first example of each property of the document's schema `name`."""
    properties = document["components"]["schemas"][name]["properties"]
    return {
        field: schema["examples"][0] for field, schema in properties.items() if "examples" in schema
    }


def example_body(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """A valid body for `operation`, from the examples its schema publishes: its required
    fields, or, for the update schema (none required), its first field that is a change:
    the path's id in the body must equal the path's, so eventId would be refused."""
    content = operation["requestBody"]["content"]["application/json"]["schema"]
    name = content["$ref"].rsplit("/", 1)[-1]
    schema = document["components"]["schemas"][name]
    names = schema.get("required") or [
        next(field for field in schema["properties"] if field != "eventId")
    ]
    return {field: value for field, value in example(document, name).items() if field in names}


def _example_json(document: dict[str, Any], operation: dict[str, Any]) -> str | None:
    return json.dumps(example_body(document, operation)) if "requestBody" in operation else None


def rehearsed_requests(app: FastAPI, record: dict[str, Any]) -> Iterator[WarmUpRequest]:
    """Each operation of the document as is, with all its optional query parameters
    (a listing by status and dates), and with each optional header it declares, at the
    values of REHEARSED_VALUES: all succeed on `record`, the rehearsal's event."""
    document = app.openapi()
    known = {**REHEARSED_VALUES, "If-Match": f'"{record["version"]}"'}
    for template, operations in document["paths"].items():
        path = PATH_PARAMETER.sub(WARM_UP_EVENT_ID, template)
        for method, operation in operations.items():
            body = _example_json(document, operation)
            headers = JSON if body is not None else {}
            request = WarmUpRequest(method.upper(), path, headers=headers, body=body)
            yield request
            values = _rehearsed_values(operation, known)
            if values["query"]:
                yield replace(request, query=values["query"])
            for name, value in values["header"].items():
                yield replace(request, headers={**headers, name: value})


def _rehearsed_values(
    operation: dict[str, Any], rehearsed: dict[str, str]
) -> dict[str, dict[str, str]]:
    """The operation's optional parameters `rehearsed` has a value for, by place."""
    known = {name.lower(): value for name, value in rehearsed.items()}
    values: dict[str, dict[str, str]] = {"query": {}, "header": {}}
    for parameter in operation.get("parameters", []):
        if parameter["in"] in values and parameter["name"].lower() in known:
            values[parameter["in"]][parameter["name"]] = known[parameter["name"].lower()]
    return values


def warm_up_requests(app: FastAPI) -> Iterator[WarmUpRequest]:
    """A GET of each page served outside the OpenAPI document (the document itself, the
    docs), then one request per operation of the document; none can change data."""
    for route in app.routes:
        if (
            isinstance(route, Route)
            and not isinstance(route, APIRoute)
            and "GET" in (route.methods or ())
            and not route.param_convertors
        ):
            yield WarmUpRequest("GET", route.path)
    document = app.openapi()
    for template, operations in document["paths"].items():
        path = PATH_PARAMETER.sub(WARM_UP_EVENT_ID, template)
        for method, operation in operations.items():
            if method == "get":
                yield WarmUpRequest("GET", path, _declared_query(operation))
            elif method in CONDITIONAL_METHODS:
                headers = {**JSON, "If-Match": NO_VERSION}
                body = _example_json(document, operation)
                yield WarmUpRequest(method.upper(), path, headers=headers, body=body)
            else:
                # A JSON array is no request body of this API: refused by validation.
                yield WarmUpRequest(method.upper(), path, headers=JSON, body="[]")


def _declared_query(operation: dict[str, Any]) -> dict[str, str]:
    names = {param["name"] for param in operation.get("parameters", []) if param["in"] == "query"}
    return {name: value for name, value in LISTING_QUERY.items() if name in names}


@dataclass(frozen=True)
class WarmedUp:
    request: WarmUpRequest
    status: int
    rehearsed: bool
    """Answered inside the process (`rehearsal`), not by DynamoDB."""


def warm_up(handler: Mangum, app: FastAPI) -> list[WarmedUp]:
    """Serve the rehearsal, then every warm-up request that reaches DynamoDB; what each
    was answered, for the tests, which also hold that none of them changes data (a future
    route the rules above do not refuse would show there)."""
    answered = []
    document = app.openapi()
    record = {**example(document, "Event"), "eventId": WARM_UP_EVENT_ID}
    with app.state.store.rehearsal(record):
        for request in rehearsed_requests(app, record):
            answered.append(WarmedUp(request, _serve(handler, request), rehearsed=True))
    for request in warm_up_requests(app):
        answered.append(WarmedUp(request, _serve(handler, request), rehearsed=False))
    return answered


def _serve(handler: Mangum, request: WarmUpRequest) -> int:
    # Only what the service reads of Lambda's context: no invocation is under way.
    context = cast("LambdaContext", WarmUpContext())
    return int(handler(request.event(), context)["statusCode"])


def refresh(client: DynamoDBClient) -> None:
    """Drop what a restored environment must not reuse (module docstring)."""
    client.close()
    random.seed()


def register(handler: Mangum, app: FastAPI, client: DynamoDBClient) -> bool:
    """Register the hooks with the Lambda runtime; False where its hook API is absent."""
    try:
        hooks = importlib.import_module(HOOKS_MODULE)
    except ImportError:
        return False
    hooks.register_before_snapshot(warm_up, handler, app)
    hooks.register_after_restore(refresh, client)
    return True
