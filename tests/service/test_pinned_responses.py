"""Response details no other suite pins: problem types, the headers that must (or must not)
reach a response, the timestamp format, the body limit in bytes, and a refused preflight
over a real HTTP server.

Each case here failed to notice a change to the code in a mutation run (issue 19).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from local.dynamodb_local import DynamoDBLocal
from service.app import create_app
from tests.conftest import make_settings, new_event, table_snapshot
from tests.reliability.raw_http import raw_request
from tests.servers import serve
from tests.service.api.test_events import assert_problem, create

PROBLEM_TYPE = "urn:events-api:problem:"
# The documented form (the Event schema's example): UTC, milliseconds, "Z".
TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$")
# The API's documented body limit, 64 KiB, as a number of bytes on purpose: a test that
# reads the constant would follow any change to it.
BODY_LIMIT = 65_536
LISTED = "https://app.example.org"
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def cors_client(dynamodb_local: DynamoDBLocal, table_name: str) -> Iterator[TestClient]:
    settings = make_settings(dynamodb_local, table_name, EVENTS_CORS_ORIGINS=LISTED)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


# Problem types


def test_each_domain_error_has_its_problem_type(client: TestClient) -> None:
    event = create(client, eventId="taken")
    answers = {
        "event-not-found": client.get("/events/nobody"),
        "event-already-exists": client.post("/events", json=new_event(eventId="taken")),
        "version-mismatch": client.patch(
            "/events/taken", json={"title": "x"}, headers={"If-Match": '"7"'}
        ),
        "validation-error": client.patch("/events/taken", json={"capacity": 0}),
        "malformed-json": client.post(
            "/events", content=b"{", headers={"content-type": "application/json"}
        ),
    }
    assert answers["event-already-exists"].json()["detail"] == (
        "An event with eventId 'taken' already exists."
    )
    for slug, response in answers.items():
        assert response.json()["type"] == PROBLEM_TYPE + slug, response.text
        # Retry-After is for 503 alone: these will not succeed by waiting.
        assert "retry-after" not in response.headers, slug
    assert client.get("/events/taken").json() == event


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_a_refused_write_names_the_event_and_why(client: TestClient, method: str) -> None:
    """The detail a client reads on a write's 404 or 412: which event, and what it found."""
    create(client, eventId="kept")
    body = None if method == "DELETE" else {"capacity": 9}
    missing = client.request(method, "/events/nobody", json=body)
    assert assert_problem(missing, 404)["detail"] == "No event with eventId 'nobody'."
    stale = client.request(method, "/events/kept", json=body, headers={"If-Match": '"7"'})
    assert assert_problem(stale, 412)["detail"] == (
        "Event 'kept' is at version 1; If-Match did not match it."
    )


def test_a_plain_http_error_is_titled_with_its_reason_phrase(client: TestClient) -> None:
    for response, title in [
        (client.get("/nothing/here"), "Not Found"),
        (client.delete("/events"), "Method Not Allowed"),
    ]:
        problem = assert_problem(response, response.status_code)
        assert (problem["type"], problem["title"]) == ("about:blank", title)


# Headers


def test_a_405_allows_exactly_the_methods_the_path_serves(client: TestClient) -> None:
    """RFC 9110 section 15.5.6: a 405 lists the target's methods in Allow."""
    paths = client.get("/openapi.json").json()["paths"]
    for template, operations in paths.items():
        path = re.sub(r"\{[^}]*\}", "some-event", template)
        served = {method.upper() for method in operations}
        for refused in sorted(METHODS - served):
            response = client.request(refused, path)
            assert_problem(response, 405)
            allowed = {method.strip() for method in response.headers["allow"].split(",")}
            # HEAD and OPTIONS come with GET and CORS; the document lists neither.
            assert served <= allowed <= served | {"HEAD", "OPTIONS"}, (refused, path)


def test_a_preflight_allows_every_operation_and_header_parameter_the_document_declares(
    cors_client: TestClient,
) -> None:
    """A browser may call any operation with any header it takes: its preflight must pass."""
    document = cors_client.get("/openapi.json").json()
    asked = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
            asked += bool(names)
            headers = {"Origin": LISTED, "Access-Control-Request-Method": method.upper()}
            if names:
                headers["Access-Control-Request-Headers"] = ", ".join(names)
            preflight = cors_client.options(re.sub(r"\{[^}]*\}", "any", path), headers=headers)
            assert preflight.status_code == 200, (method, path, names, preflight.text)
    assert asked >= 5  # POST's Idempotency-Key; the conditions of GET, PUT, PATCH, DELETE


def test_a_refused_preflight_keeps_its_cors_headers(cors_client: TestClient) -> None:
    unlisted = cors_client.options(
        "/events/x",
        headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "PATCH"},
    )
    problem = assert_problem(unlisted, 400)
    assert problem == {
        "type": PROBLEM_TYPE + "cors-refused",
        "title": "Cross-origin request refused",
        "status": 400,
        "detail": "This cross-origin request is not allowed: origin.",
    }
    # Caches must key a refused preflight on the origin, or a listed origin gets it too.
    assert "origin" in unlisted.headers["vary"].lower()
    assert "access-control-allow-origin" not in unlisted.headers
    method = cors_client.options(
        "/events", headers={"Origin": LISTED, "Access-Control-Request-Method": "TRACE"}
    )
    assert_problem(method, 400)
    assert method.headers["access-control-allow-origin"] == LISTED
    allowed = {name.strip() for name in method.headers["access-control-allow-methods"].split(",")}
    assert allowed == METHODS


def test_only_a_create_answers_with_a_location(client: TestClient) -> None:
    created = client.post("/events", json=new_event())
    event_id = created.json()["eventId"]
    assert created.headers["location"] == f"/events/{event_id}"
    answers = [
        client.get(f"/events/{event_id}"),
        client.put(f"/events/{event_id}", json={"title": "Put"}),
        client.patch(f"/events/{event_id}", json={"title": "Patched"}),
        client.get("/events"),
    ]
    for response in answers:
        assert response.status_code == 200, response.text
        assert "location" not in response.headers, response.request.method


# Timestamps


@pytest.fixture(params=["UTC", "Europe/Berlin", "America/St_Johns"])
def host_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """The process's local time zone, as a laptop running `make run` has its own."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.mark.usefixtures("host_zone")
def test_timestamps_are_utc_with_milliseconds(client: TestClient) -> None:
    """Whatever the host's time zone: UTC, with `Z`."""
    event = create(client)
    updated = client.patch(f"/events/{event['eventId']}", json={"title": "Later"}).json()
    listed = client.get("/events").json()["items"]
    for shown in (event, updated, *listed):
        for name in ("createdAt", "updatedAt"):
            assert TIMESTAMP.match(shown[name]), (name, shown[name])


# The body limit, in bytes


def json_body(size: int) -> bytes:
    """A JSON object of exactly `size` bytes (its description is too long to be valid)."""
    prefix, suffix = b'{"description": "', b'"}'
    return prefix + b"x" * (size - len(prefix) - len(suffix)) + suffix


@pytest.mark.parametrize("streamed", [False, True], ids=["declared", "chunked"])
def test_the_body_limit_is_65536_bytes(
    client: TestClient, dynamodb: Any, table_name: str, streamed: bool
) -> None:
    def send(size: int) -> Any:
        body = json_body(size)
        content: Any = iter([body[:4096], body[4096:]]) if streamed else body
        return client.post("/events", content=content, headers={"content-type": "application/json"})

    # Read whole, then refused as an invalid event: the limit let it through.
    assert_problem(send(BODY_LIMIT), 422)
    assert_problem(send(BODY_LIMIT + 1), 413)
    assert table_snapshot(dynamodb, table_name) == []


# Over a real HTTP server


def test_a_refused_preflight_is_framed_right_over_http(cors_client: TestClient) -> None:
    """The refused preflight's own Content-Length must not survive into the problem: an HTTP
    server sends exactly the declared length (h11 refuses more), so the body would be cut.

    uvicorn serves in this process, so a mutation run sees which code this test reaches.
    """
    with serve(cors_client.app) as url:
        response = raw_request(
            url,
            "OPTIONS",
            "/events",
            {"Origin": "https://evil.example.com", "Access-Control-Request-Method": "GET"},
        )
    assert int(response.headers["content-length"]) == len(response.content)
    assert assert_problem(response, 400)["type"] == PROBLEM_TYPE + "cors-refused"
