"""Lambda SnapStart: the work a snapshot should hold, and what a restored environment redoes.

With SnapStart, Lambda runs the function's init when a version is published, snapshots the
microVM, and resumes new execution environments from that snapshot (docs/operations.md).
The Lambda runtime runs hooks registered through `snapshot_restore_py`, a module the
Python 3.12+ managed runtimes and their base images ship with the runtime interface
client: it is not a dependency of ours (a copy in the image could shadow the runtime's).
Where it is absent (local runs, tests, the benchmark) `register` registers nothing.

Before the snapshot, `warm_up` sends one synthetic request per page and per operation of
the OpenAPI document through the handler, as API Gateway would, so the one-time work a
first request does (FastAPI's per-route set-up, the OpenAPI document, imports on first use,
botocore's first call of each DynamoDB operation these requests reach) is done and kept in
the snapshot. None of the requests can change data:

- reads ask for an event id no client is expected to use, and for the last day the API
  takes (9999-12-31), which no real event is on; whatever they find, they only read;
- updates and deletes carry `If-Match: "0"`, a version no event ever has (versions start
  at 1), so DynamoDB refuses them on their condition;
- other writes (a create) carry a body that fails validation before any DynamoDB call, so
  botocore's first PutItem, like its first Scan (a listing without `status` reads events),
  is left to the first request that makes one.

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
from dataclasses import dataclass, field
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
# Versions start at 1: a write conditional on version 0 is always refused.
NO_VERSION = '"0"'
# What a listing is asked for: the last day the API takes, which no real event is on, so
# its Query reads nothing; each operation gets the parameters it declares.
LISTING_QUERY = {"status": "active", "from": "9999-12-31", "to": "9999-12-31"}
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


def example_body(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """A valid body for `operation`, from the examples its schema publishes: the fields of
    the schema's first alternative (the update schema's first field that is a change)."""
    content = operation["requestBody"]["content"]["application/json"]["schema"]
    schema = document["components"]["schemas"][content["$ref"].rsplit("/", 1)[-1]]
    properties = schema["properties"]
    names = schema.get("anyOf", [{"required": list(properties)}])[0]["required"]
    return {
        name: properties[name]["examples"][0] for name in names if "examples" in properties[name]
    }


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
                body = (
                    json.dumps(example_body(document, operation))
                    if "requestBody" in operation
                    else None
                )
                headers = {**JSON, "If-Match": NO_VERSION}
                yield WarmUpRequest(method.upper(), path, headers=headers, body=body)
            else:
                # A JSON array is no request body of this API: refused by validation.
                yield WarmUpRequest(method.upper(), path, headers=JSON, body="[]")


def _declared_query(operation: dict[str, Any]) -> dict[str, str]:
    names = {param["name"] for param in operation.get("parameters", []) if param["in"] == "query"}
    return {name: value for name, value in LISTING_QUERY.items() if name in names}


def warm_up(handler: Mangum, app: FastAPI) -> list[tuple[str, str, int]]:
    """Serve every warm-up request; (method, path, status) of each, for the tests, which
    also hold that none of them changes data (a future route the rules above do not
    refuse would show there)."""
    answered = []
    for request in warm_up_requests(app):
        # Only what the service reads of Lambda's context: no invocation is under way.
        context = cast("LambdaContext", WarmUpContext())
        response = handler(request.event(), context)
        answered.append((request.method, request.path, int(response["statusCode"])))
    return answered


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
