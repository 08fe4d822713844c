"""Security checks: CORS, the body limit at its boundary, what error bodies and headers show.

Every response of the fuzz run and the bad-input corpus is also checked for the security
headers and for leaks (tests/reliability/checks.py); these are the cases those miss.
Known vulnerabilities in the locked dependencies: `make audit` (run by `make test-slow`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient

from local.dynamodb_local import DynamoDBLocal
from service.app import create_app
from service.middleware import MAX_BODY_BYTES
from tests.conftest import make_settings, new_event, table_snapshot
from tests.reliability.checks import leaks, missing_security_headers
from tests.reliability.live import LiveServer
from tests.reliability.raw_http import raw_request
from tests.service.api.test_events import assert_problem

LISTED = "https://app.example.org"
PREFLIGHT = {
    "Access-Control-Request-Method": "PATCH",
    "Access-Control-Request-Headers": "if-match, content-type",
}


@pytest.fixture
def cors_client(dynamodb_local: DynamoDBLocal, table_name: str) -> Iterator[TestClient]:
    settings = make_settings(
        dynamodb_local, table_name, EVENTS_CORS_ORIGINS=f"{LISTED}, https://admin.example.org"
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_cors_allows_a_listed_origin_preflight_included(cors_client: TestClient) -> None:
    event = cors_client.post("/events", json=new_event(), headers={"Origin": LISTED})
    assert event.status_code == 201
    assert event.headers["access-control-allow-origin"] == LISTED
    assert "etag" in event.headers["access-control-expose-headers"].lower()
    preflight = cors_client.options("/events/x", headers={"Origin": LISTED, **PREFLIGHT})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == LISTED
    assert "PATCH" in preflight.headers["access-control-allow-methods"]
    assert "origin" in preflight.headers["vary"].lower()
    assert missing_security_headers(preflight.headers) == []


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.com",
        "http://app.example.org",  # same host, other scheme
        "https://app.example.org.evil.com",  # listed origin as a prefix
        "https://sub.app.example.org",
        "https://app.example.org:8443",
        "null",
    ],
)
def test_cors_denies_an_unlisted_origin_preflight_included(
    cors_client: TestClient, origin: str
) -> None:
    simple = cors_client.get("/events", headers={"Origin": origin})
    assert simple.status_code == 200  # the browser, not the server, withholds the answer
    assert "access-control-allow-origin" not in simple.headers
    preflight = cors_client.options("/events/x", headers={"Origin": origin, **PREFLIGHT})
    problem = assert_problem(preflight, 400)
    assert "origin" in problem["detail"]
    assert "access-control-allow-origin" not in preflight.headers
    assert missing_security_headers(preflight.headers) == []


def test_cors_refuses_a_method_the_api_does_not_serve(cors_client: TestClient) -> None:
    preflight = cors_client.options(
        "/events", headers={"Origin": LISTED, "Access-Control-Request-Method": "TRACE"}
    )
    assert "method" in assert_problem(preflight, 400)["detail"]


def test_without_listed_origins_no_cross_origin_access_is_granted(client: TestClient) -> None:
    response = client.get("/events", headers={"Origin": LISTED})
    assert "access-control-allow-origin" not in response.headers
    # A plain OPTIONS answer (RFC 9110 §9.3.7), which grants a browser nothing.
    preflight = client.options("/events", headers={"Origin": LISTED, **PREFLIGHT})
    assert preflight.status_code == 204
    assert "access-control-allow-origin" not in preflight.headers


def _chunks(size: int) -> Iterator[bytes]:
    """A JSON body of exactly `size` bytes, in 4 KiB chunks."""
    prefix, suffix = b'{"description": "', b'"}'
    filler = size - len(prefix) - len(suffix)
    yield prefix
    for start in range(0, filler, 4096):
        yield b"x" * min(4096, filler - start)
    yield suffix


@pytest.mark.parametrize(("size", "status"), [(MAX_BODY_BYTES, 422), (MAX_BODY_BYTES + 1, 413)])
def test_the_body_limit_holds_for_chunked_bodies_at_its_boundary(
    live: LiveServer, dynamodb: Any, live_table: str, size: int, status: int
) -> None:
    before = table_snapshot(dynamodb, live_table)
    response = raw_request(
        live.url, "POST", "/events", {"Content-Type": "application/json"}, tuple(_chunks(size))
    )
    assert_problem(response, status)  # 422: read whole, and too long a description
    assert table_snapshot(dynamodb, live_table) == before


def test_an_unexpected_dynamodb_error_is_a_bare_500(
    dynamodb_local: DynamoDBLocal, table_name: str
) -> None:
    """An error the store does not expect shows nothing of itself: no class, no AWS ids."""
    settings = make_settings(dynamodb_local, table_name)
    app = create_app(settings)
    answer: Any = {
        "Error": {
            "Code": "ValidationException",
            "Message": "One or more parameter values were invalid: "
            "arn:aws:dynamodb:us-east-1:123456789012:table/Events",
        },
        "ResponseMetadata": {"RequestId": "ABCDEF0123456789", "HTTPStatusCode": 400},
    }
    error = ClientError(answer, "GetItem")

    def fail(**_: Any) -> None:
        raise error

    app.state.store._client.meta.events.register("before-send.dynamodb.GetItem", fail)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/events/anything")
    problem = assert_problem(response, 500)
    assert problem["type"] == "urn:events-api:problem:store-failure"
    assert leaks(response.text) == []
    assert missing_security_headers(response.headers) == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/health"),
        ("GET", "/events"),
        ("HEAD", "/events/missing"),
        ("GET", "/openapi.json"),
        ("DELETE", "/events"),
        ("GET", "/nowhere"),
    ],
)
def test_every_answer_carries_the_security_headers(
    client: TestClient, method: str, path: str
) -> None:
    response = client.request(method, path)
    assert missing_security_headers(response.headers) == []
    if response.status_code >= 400 and method != "HEAD":
        assert leaks(json.dumps(response.json())) == []
