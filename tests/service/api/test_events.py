"""The HTTP contract of /events, row by row, against DynamoDB Local."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import new_event, table_snapshot
from tools.openapi import DOCUMENT

PROBLEM = "application/problem+json"

# The event's fields as the committed contract publishes them (tests/tools/test_openapi.py
# holds docs/openapi.json to the app): a field the model gains shows here as a reviewed change.
PUBLISHED_FIELDS = tuple(
    json.loads(DOCUMENT.read_text())["components"]["schemas"]["Event"]["properties"]
)


def create(client: TestClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/events", json=new_event(**overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    return body


# POST /events


def test_create_returns_the_stored_event_with_location_and_etag(client: TestClient) -> None:
    body = new_event(eventId="pycon-2026")
    response = client.post("/events", json=body)
    assert response.status_code == 201
    assert response.headers["location"] == "/events/pycon-2026"
    assert response.headers["etag"] == '"1"'
    event = response.json()
    assert tuple(event) == PUBLISHED_FIELDS
    assert event["version"] == 1
    assert event["status"] == "active"
    assert event["createdAt"] == event["updatedAt"]
    assert event["createdAt"].endswith("Z")
    assert {key: event[key] for key in body} == body
    assert client.get("/events/pycon-2026").json() == event


def test_create_generates_a_url_safe_id_when_absent(client: TestClient) -> None:
    first = create(client, eventId=...)
    second = create(client, eventId=...)
    assert first["eventId"] != second["eventId"]
    for event in (first, second):
        assert client.get(f"/events/{event['eventId']}").status_code == 200


def test_create_of_an_existing_id_is_409_and_leaves_it_untouched(
    client: TestClient, dynamodb: Any, table_name: str
) -> None:
    create(client, eventId="taken", title="Original")
    before = table_snapshot(dynamodb, table_name)
    response = client.post("/events", json=new_event(eventId="taken", title="Impostor"))
    assert_problem(response, 409)
    assert table_snapshot(dynamodb, table_name) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("eventId", ""),
        ("eventId", "has space"),
        ("eventId", "slash/inside"),
        ("eventId", "x" * 101),
        ("eventId", "caf\u00e9"),
        ("title", ""),
        ("title", "   "),
        ("title", "x" * 201),
        ("title", None),
        ("title", 42),
        ("title", "nul\x00byte"),
        ("description", "\t\n "),
        ("description", "x" * 1001),
        ("date", "2025-02-30"),
        ("date", "2025-2-3"),
        ("date", "20250203"),
        ("date", "2025-02-03T00:00:00"),
        ("location", "x" * 201),
        ("organizer", ""),
        ("capacity", 0),
        ("capacity", 1_000_001),
        ("capacity", 10.5),
        ("capacity", "10"),
        ("capacity", True),
        ("status", "postponed"),
        ("createdAt", "2026-01-01T00:00:00Z"),
        ("version", 7),
        ("titel", "typo"),
    ],
)
def test_invalid_create_is_422_naming_the_field_and_stores_nothing(
    client: TestClient, dynamodb: Any, table_name: str, field: str, value: Any
) -> None:
    response = client.post("/events", json=new_event(**{field: value}))
    problem = assert_problem(response, 422)
    assert field in [error["field"] for error in problem["errors"]]
    assert table_snapshot(dynamodb, table_name) == []


def test_boundary_values_are_accepted(client: TestClient) -> None:
    event = create(
        client,
        eventId="A-z_0.9~" + "x" * 92,
        title="\u00e9" * 200,
        description="line one\nline two",
        capacity=1_000_000,
        date="2024-02-29",
        status="completed",
    )
    assert len(event["eventId"]) == 100
    assert event["title"] == "\u00e9" * 200
    assert create(client, capacity=1)["capacity"] == 1


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"{not json", 400),
        (b"", 422),
        (b"[]", 422),
        (b'"a string"', 422),
        (b"null", 422),
        (b"\xff\xfe", 400),
    ],
)
def test_bodies_that_are_not_a_json_object_are_4xx(
    client: TestClient, dynamodb: Any, table_name: str, content: bytes, status: int
) -> None:
    response = client.post("/events", content=content, headers={"content-type": "application/json"})
    assert_problem(response, status)
    assert table_snapshot(dynamodb, table_name) == []


def test_a_body_that_is_not_json_by_content_type_is_415(client: TestClient) -> None:
    response = client.post("/events", data={"title": "x"})
    assert_problem(response, 415)


def test_a_json_body_without_content_type_is_read_as_json(client: TestClient) -> None:
    import json

    response = client.post("/events", content=json.dumps(new_event(eventId="bare")).encode())
    assert response.status_code == 201, response.text
    assert response.json()["eventId"] == "bare"


def test_bodies_over_64_kib_are_413(client: TestClient, dynamodb: Any, table_name: str) -> None:
    response = client.post("/events", json=new_event(description="x" * (65 * 1024)))
    assert_problem(response, 413)

    def chunks() -> Any:
        yield b'{"description": "'
        for _ in range(70):
            yield b"x" * 1024
        yield b'"}'

    chunked = client.post("/events", content=chunks(), headers={"content-type": "application/json"})
    assert_problem(chunked, 413)
    assert table_snapshot(dynamodb, table_name) == []


# GET /events/{eventId}


def test_read_returns_the_event_with_etag(client: TestClient) -> None:
    event = create(client)
    response = client.get(f"/events/{event['eventId']}")
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json() == event


def test_read_of_a_missing_event_is_404(client: TestClient) -> None:
    problem = assert_problem(client.get("/events/nope"), 404)
    assert "nope" in problem["detail"]


def test_read_of_an_invalid_id_is_422(client: TestClient) -> None:
    assert_problem(client.get("/events/" + "x" * 101), 422)
    assert_problem(client.get("/events/%E2%80%AEevil"), 422)


# PUT and PATCH /events/{eventId}


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_changes_only_the_fields_sent(client: TestClient, method: str) -> None:
    event = create(client)
    response = client.request(
        method, f"/events/{event['eventId']}", json={"title": "New title", "capacity": 3}
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert response.headers["etag"] == '"2"'
    assert updated["title"] == "New title"
    assert updated["capacity"] == 3
    assert updated["version"] == 2
    assert updated["createdAt"] == event["createdAt"]
    assert updated["updatedAt"] >= event["updatedAt"]
    unchanged = {
        k: v for k, v in event.items() if k not in {"title", "capacity", "version", "updatedAt"}
    }
    assert {k: updated[k] for k in unchanged} == unchanged
    assert client.get(f"/events/{event['eventId']}").json() == updated


def test_update_may_repeat_the_same_event_id(client: TestClient) -> None:
    event = create(client)
    response = client.put(
        f"/events/{event['eventId']}", json={"eventId": event["eventId"], "status": "cancelled"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"eventId": "someone-else"},
        {"title": None},
        {"capacity": 0},
        {"date": "2026-13-01"},
        {"status": "gone"},
        {"version": 10},
        {"updatedAt": "2020-01-01T00:00:00Z"},
        {"unknown": 1},
    ],
)
def test_invalid_update_is_422_and_changes_nothing(
    client: TestClient, dynamodb: Any, table_name: str, body: dict[str, Any]
) -> None:
    event = create(client)
    before = table_snapshot(dynamodb, table_name)
    assert_problem(client.patch(f"/events/{event['eventId']}", json=body), 422)
    assert table_snapshot(dynamodb, table_name) == before


def test_update_of_a_missing_event_is_404_and_creates_nothing(
    client: TestClient, dynamodb: Any, table_name: str
) -> None:
    assert_problem(client.put("/events/ghost", json={"title": "x"}), 404)
    assert table_snapshot(dynamodb, table_name) == []


def test_update_with_if_match(client: TestClient) -> None:
    event = create(client)
    path = f"/events/{event['eventId']}"
    assert client.put(path, json={"title": "two"}, headers={"If-Match": '"1"'}).status_code == 200
    stale = client.put(path, json={"title": "stale"}, headers={"If-Match": '"1"'})
    problem = assert_problem(stale, 412)
    assert "version 2" in problem["detail"]
    assert client.get(path).json()["title"] == "two"
    assert client.put(path, json={"title": "three"}, headers={"If-Match": '"2"'}).status_code == 200
    assert client.put(path, json={"title": "four"}, headers={"If-Match": "*"}).status_code == 200
    assert_problem(client.put(path, json={"title": "x"}, headers={"If-Match": "garbage"}), 412)
    assert client.get(path).json()["version"] == 4


def test_updates_without_if_match_each_get_a_distinct_version(client: TestClient) -> None:
    event = create(client)
    versions = [
        client.patch(f"/events/{event['eventId']}", json={"capacity": n}).json()["version"]
        for n in range(1, 6)
    ]
    assert versions == [2, 3, 4, 5, 6]


def test_status_and_date_changes_move_the_event_in_listings(client: TestClient) -> None:
    event = create(client, date="2026-01-01")
    client.patch(f"/events/{event['eventId']}", json={"status": "completed", "date": "2026-02-02"})
    assert client.get("/events?status=active").json()["items"] == []
    (listed,) = client.get("/events?status=completed").json()["items"]
    assert listed["date"] == "2026-02-02"
    assert client.get("/events?status=completed&from=2026-02-02&to=2026-02-02").json()["items"]


# DELETE /events/{eventId}


def test_delete(client: TestClient) -> None:
    event = create(client)
    path = f"/events/{event['eventId']}"
    response = client.delete(path)
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(client.get(path), 404)
    assert_problem(client.delete(path), 404)


def test_delete_with_if_match(client: TestClient) -> None:
    event = create(client)
    path = f"/events/{event['eventId']}"
    client.patch(path, json={"title": "v2"})
    assert_problem(client.delete(path, headers={"If-Match": '"1"'}), 412)
    assert client.get(path).status_code == 200
    assert client.delete(path, headers={"If-Match": '"2"'}).status_code == 204


def test_update_after_delete_does_not_resurrect(
    client: TestClient, dynamodb: Any, table_name: str
) -> None:
    event = create(client)
    path = f"/events/{event['eventId']}"
    client.delete(path)
    assert_problem(client.patch(path, json={"title": "back?"}), 404)
    assert table_snapshot(dynamodb, table_name) == []


# GET /health, unknown routes, headers


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_routes_and_methods_are_problems(client: TestClient) -> None:
    assert_problem(client.get("/nothing/here"), 404)
    assert_problem(client.delete("/events"), 405)


def test_request_id_is_echoed_when_sane_and_generated_otherwise(client: TestClient) -> None:
    assert (
        client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    generated = client.get("/health", headers={"X-Request-ID": "bad id\twith<stuff>"})
    assert generated.headers["x-request-id"] != "bad id\twith<stuff>"
    assert len(generated.headers["x-request-id"]) == 32
    assert client.get("/events/missing").headers["x-request-id"]


def test_security_headers(client: TestClient) -> None:
    for response in (client.get("/health"), client.get("/events/missing")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"


def test_docs_and_openapi(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert client.get("/redoc").status_code == 200
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    put = document["paths"]["/events/{eventId}"]["put"]
    assert set(put["responses"]) == {"200", "400", "404", "412", "413", "415", "422", "503"}
    assert PROBLEM in put["responses"]["412"]["content"]
    assert "examples" in document["components"]["schemas"]["Event"]
    listing = document["paths"]["/events"]["get"]
    parameters = {parameter["name"]: parameter for parameter in listing["parameters"]}
    assert set(parameters) == {"status", "limit", "cursor", "from", "to"}
    for bound in ("from", "to"):
        assert "inclusive; needs `status`" in parameters[bound]["description"]
        # Absent, never null: a client sends a date or leaves the parameter out.
        assert parameters[bound]["schema"]["pattern"]
        assert parameters[bound]["schema"]["format"] == "date"
    assert document["paths"]["/events"]["post"]["operationId"] == "createEvent"


def test_a_declared_and_a_streamed_oversize_body_get_the_same_problem(client: TestClient) -> None:
    declared = client.post("/events", json=new_event(description="x" * (65 * 1024)))

    def chunks() -> Any:
        yield b"x" * (65 * 1024)

    streamed = client.post(
        "/events", content=chunks(), headers={"content-type": "application/json"}
    )
    assert declared.json() == streamed.json() == assert_problem(declared, 413)
