"""Request details no other suite pins: updates that carry `eventId`, the media types a
body may be sent as, field names, cursors that are not even base64, and the `$default`
stage of Lambda events.

Each case here failed to notice a change to the code in a mutation run (issue 19): the
test names what a client relies on, so the same change now fails it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from local.lambda_events import SHAPES, LambdaClient, http_api_event
from service.cursor import CursorCodec
from service.handler import build_handler
from tests.conftest import TEST_CURSOR_SECRET, new_event, table_snapshot
from tests.service.api.test_events import assert_problem, create

UPDATE_METHODS = ["PUT", "PATCH"]
ALTERED = "The cursor was not issued by this API or has been altered."
OTHER_LISTING = (
    "The cursor belongs to a different listing (other status or dates) or to an earlier "
    "version of the API; start again without a cursor."
)


def field_names(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem.get("errors", [])]


# Updates that carry eventId


@pytest.mark.parametrize("method", UPDATE_METHODS)
@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"eventId": "someone-else", "title": "Moved"},
            "eventId",
            "cannot change: it must equal the eventId in the path",
        ),
        # camelCase only: the Python name of a field is no alias for it.
        ({"event_id": "mine", "title": "Snake"}, "event_id", "is not a field this API knows"),
    ],
    ids=["another eventId", "snake_case name"],
)
def test_an_update_naming_an_event_id_it_cannot_is_422_and_changes_nothing(
    client: TestClient,
    dynamodb: Any,
    table_name: str,
    method: str,
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    create(client, eventId="mine")
    create(client, eventId="someone-else")
    before = table_snapshot(dynamodb, table_name)
    problem = assert_problem(client.request(method, "/events/mine", json=body), 422)
    assert field_names(problem) == [field]
    assert problem["errors"][0]["message"] == message
    assert table_snapshot(dynamodb, table_name) == before


@pytest.mark.parametrize("method", UPDATE_METHODS)
def test_an_update_of_only_its_own_event_id_is_422_not_a_new_version(
    client: TestClient, dynamodb: Any, table_name: str, method: str
) -> None:
    event = create(client)
    before = table_snapshot(dynamodb, table_name)
    response = client.request(
        method, f"/events/{event['eventId']}", json={"eventId": event["eventId"]}
    )
    assert "at least one field" in assert_problem(response, 422)["errors"][0]["message"]
    assert table_snapshot(dynamodb, table_name) == before
    assert client.get(f"/events/{event['eventId']}").headers["etag"] == '"1"'


# Media types


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "Application/JSON",
        "application/json ; charset=utf-8",
        "application/vnd.events+json",
    ],
)
def test_a_create_sent_as_any_json_media_type_is_accepted(
    client: TestClient, content_type: str
) -> None:
    body = new_event()
    response = client.post(
        "/events", content=json.dumps(body).encode(), headers={"content-type": content_type}
    )
    assert response.status_code == 201, response.text
    assert client.get(f"/events/{body['eventId']}").json()["title"] == body["title"]


@pytest.mark.parametrize("method", UPDATE_METHODS)
def test_an_update_sent_as_merge_patch_json_is_accepted(client: TestClient, method: str) -> None:
    event = create(client)
    response = client.request(
        method,
        f"/events/{event['eventId']}",
        content=b'{"title": "Merged"}',
        headers={"content-type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Merged"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/json",
        "text/plain+json",
        "application/jsonp",
        "application/json-seq",
        "application/xml",
        "multipart/form-data; boundary=x",
    ],
)
def test_a_body_of_another_media_type_is_415_and_stores_nothing(
    client: TestClient, dynamodb: Any, table_name: str, content_type: str
) -> None:
    response = client.post(
        "/events", content=json.dumps(new_event()).encode(), headers={"content-type": content_type}
    )
    problem = assert_problem(response, 415)
    assert problem["type"] == "urn:events-api:problem:unsupported-media-type"
    assert table_snapshot(dynamodb, table_name) == []


# Field names: camelCase only (updates: above)


def test_a_create_with_a_snake_case_field_name_is_422_and_stores_nothing(
    client: TestClient, dynamodb: Any, table_name: str
) -> None:
    body = new_event(eventId=...)
    response = client.post("/events", json={**body, "event_id": "snake"})
    assert field_names(assert_problem(response, 422)) == ["event_id"]
    assert table_snapshot(dynamodb, table_name) == []


# Cursors that are not even base64


# In the published form (two base64url parts), but not decodable or not signed by us.
@pytest.mark.parametrize("cursor", ["a.b", "abcde.f", "ab.cd"])
def test_a_cursor_that_is_not_two_base64_parts_is_400(client: TestClient, cursor: str) -> None:
    for status in (None, "active"):
        params = {"cursor": cursor, **({"status": status} if status else {})}
        problem = assert_problem(client.get("/events", params=params), 400)
        assert problem["type"] == "urn:events-api:problem:invalid-cursor"
        assert problem["detail"] == ALTERED


# Signed by this API (the MAC holds), but not what this listing's cursor holds.


@pytest.mark.parametrize(
    ("status", "state", "detail"),
    [
        (None, {"v": 2, "q": None, "p": 7}, ALTERED),
        ("active", {"v": 2, "q": ["active", None, None], "p": "no-separator"}, ALTERED),
        ("active", {"v": 2, "q": ["active", None, None], "p": 7}, ALTERED),
        ("active", {"v": 2, "q": ["cancelled", None, None], "p": "2026-01-01#e"}, OTHER_LISTING),
        (None, {"v": 1, "q": None, "p": "e"}, OTHER_LISTING),
        (None, {"v": 2, "q": None}, OTHER_LISTING),
    ],
    ids=["scan position", "index key", "index position", "other status", "v1", "no position"],
)
def test_a_signed_cursor_for_another_listing_or_shape_is_400_saying_which(
    client: TestClient, status: str | None, state: dict[str, Any], detail: str
) -> None:
    cursor = CursorCodec(TEST_CURSOR_SECRET).encode(state)
    params = {"cursor": cursor, **({"status": status} if status else {})}
    problem = assert_problem(client.get("/events", params=params), 400)
    assert (problem["type"], problem["detail"]) == ("urn:events-api:problem:invalid-cursor", detail)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"sort": "date"}, "sort", "is not a parameter of this operation"),
        ({"from": "2026-01-01"}, "status", "is required for date ranges (from, to)"),
    ],
)
def test_a_listing_query_error_names_its_parameter_and_why(
    client: TestClient, query: dict[str, str], field: str, message: str
) -> None:
    problem = assert_problem(client.get("/events", params=query), 422)
    assert problem["errors"] == [{"field": field, "message": message}]


def test_an_if_match_that_is_not_an_entity_tag_is_412_saying_so(client: TestClient) -> None:
    event = create(client)
    # Only spaces and tabs around the tags are allowed, not any stray character.
    response = client.patch(
        f"/events/{event['eventId']}", json={"title": "x"}, headers={"If-Match": 'X"1"'}
    )
    detail = assert_problem(response, 412)["detail"]
    assert isinstance(detail, str)
    assert 'X"1"' in detail
    assert client.get(f"/events/{event['eventId']}").json() == event


# Lambda events: "$default" is no path prefix


@pytest.mark.parametrize("function_url", [False, True], ids=["http-api", "function-url"])
def test_on_the_default_stage_a_path_starting_with_its_name_is_just_a_path(
    app: FastAPI, function_url: bool
) -> None:
    """The `$default` stage adds nothing to URLs: `/$default/health` is not `/health`."""
    handler = build_handler(app)
    for path, status in [("/health", 200), ("/$default/health", 404)]:
        event = http_api_event("GET", path, stage="$default", function_url=function_url)
        assert LambdaClient(handler, SHAPES[0]).send(event).status_code == status, path
